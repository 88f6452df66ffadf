"""Drives a running tobira-idc with the pinned third-party AWS clients (boto3 /
botocore and the AWS CLI v1 from the repo's .venv) and prints one JSON object
per check: {"check": NAME, "ok": true} or {"check": NAME, "ok": false,
"detail": ...}. Exits 0 only if every check passed.

Run by crates/tobira-idc/tests/python_interop.rs, which starts
`tobira-idc serve --port 0 --db FILE` (no auto-approve) and passes a hermetic
environment:

  HOME, AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE   all inside a temp dir
  AWS_ENDPOINT_URL_SSO_OIDC / _SSO / _STS              the server's URL
  AWS_EC2_METADATA_DISABLED=true
  TOBIRA_IDC_BIN, TOBIRA_IDC_DB                        for `tobira-idc approve`

This script writes the config and credentials files and the SSO token cache
itself. The AWS CLI is the `aws` script next to this interpreter, run with the
same environment in a new session (no controlling terminal, so getpass reads
the MFA code from stdin instead of /dev/tty).
"""
import base64
import datetime
import hashlib
import hmac
import json
import os
import struct
import subprocess
import sys
import time

import boto3
import botocore.exceptions

from interop_checks import STATE, CheckFailed, check, exit_code, expect, need

START_URL = "https://d-1234567890.awsapps.com/start"
REGION = "us-east-1"
SESSION_NAME = "corp"
BOB_KEY = "AKIAIOSFODNN7EXAMPLE"
BOB_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
BOB_ARN = "arn:aws:iam::123456789012:user/bob"
BOB_MFA = "arn:aws:iam::123456789012:mfa/bob-phone"
BOB_MFA_SECRET = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
OPS_ROLE = "arn:aws:iam::123456789012:role/Ops"
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"

IDC_BIN = os.environ["TOBIRA_IDC_BIN"]
IDC_DB = os.environ["TOBIRA_IDC_DB"]
HOME = os.environ["HOME"]
CONFIG_FILE = os.environ["AWS_CONFIG_FILE"]
CREDENTIALS_FILE = os.environ["AWS_SHARED_CREDENTIALS_FILE"]
AWS_CLI = os.path.join(os.path.dirname(sys.executable), "aws")

def error_code(e):
    return e.response.get("Error", {}).get("Code")


def totp(step):
    """RFC 6238: HMAC-SHA-1 over the big-endian step, dynamic truncation, 6 digits."""
    key = base64.b32decode(BOB_MFA_SECRET.upper() + "=" * (-len(BOB_MFA_SECRET) % 8))
    digest = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{value % 1_000_000:06d}"


def iso_z(epoch_seconds):
    return datetime.datetime.fromtimestamp(epoch_seconds, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def aws(*args, stdin=None):
    """The AWS CLI v1 with this process's environment, detached from any terminal."""
    return subprocess.run(
        [sys.executable, AWS_CLI, *args],
        input=stdin if stdin is not None else "",
        capture_output=True,
        text=True,
        env=dict(os.environ),
        start_new_session=True,
        timeout=60,
    )


def cli_json(proc, what):
    expect(proc.returncode == 0, f"{what}: exit {proc.returncode}\nstdout: {proc.stdout}\nstderr: {proc.stderr}")
    try:
        return json.loads(proc.stdout)
    except ValueError:
        raise CheckFailed(f"{what}: stdout is not JSON: {proc.stdout!r}\nstderr: {proc.stderr}")


def write_files():
    os.makedirs(os.path.dirname(CONFIG_FILE), exist_ok=True)
    os.makedirs(os.path.dirname(CREDENTIALS_FILE), exist_ok=True)
    with open(CONFIG_FILE, "w", encoding="utf-8") as f:
        f.write(
            "[profile p]\n"
            f"sso_session = {SESSION_NAME}\n"
            "sso_account_id = 222222222222\n"
            "sso_role_name = ReadOnly\n"
            f"region = {REGION}\n"
            f"[sso-session {SESSION_NAME}]\n"
            f"sso_start_url = {START_URL}\n"
            f"sso_region = {REGION}\n"
            "sso_registration_scopes = sso:account:access\n"
            "[profile bob]\n"
            f"region = {REGION}\n"
            "[profile badbob]\n"
            f"region = {REGION}\n"
            "[profile ops]\n"
            f"role_arn = {OPS_ROLE}\n"
            "source_profile = bob\n"
            f"mfa_serial = {BOB_MFA}\n"
            f"region = {REGION}\n"
        )
    with open(CREDENTIALS_FILE, "w", encoding="utf-8") as f:
        f.write(
            "[bob]\n"
            f"aws_access_key_id = {BOB_KEY}\n"
            f"aws_secret_access_key = {BOB_SECRET}\n"
            "[badbob]\n"
            f"aws_access_key_id = {BOB_KEY}\n"
            "aws_secret_access_key = not-the-secret\n"
        )


write_files()
oidc = boto3.client("sso-oidc", region_name=REGION)
portal = boto3.client("sso", region_name=REGION)


# ---- 1. device login with raw SSO OIDC calls --------------------------------


@check("oidc.register_client")
def _():
    reg = oidc.register_client(clientName=f"botocore-client-{SESSION_NAME}", clientType="public",
                               scopes=["sso:account:access"])
    for k in ("clientId", "clientSecret", "clientSecretExpiresAt", "clientIdIssuedAt"):
        expect(k in reg, f"RegisterClient response lacks {k}: {reg}")
    expect(reg["clientSecretExpiresAt"] > time.time() + 80 * 86400, f"registration too short: {reg}")
    STATE["reg"] = reg


@check("oidc.start_device_authorization")
def _():
    reg = need("reg")
    auth = oidc.start_device_authorization(clientId=reg["clientId"], clientSecret=reg["clientSecret"],
                                           startUrl=START_URL)
    code = auth["userCode"]
    expect(len(code) == 9 and code[4] == "-", f"user code {code!r}")
    expect(auth["verificationUriComplete"].endswith(f"user_code={code}"), f"{auth}")
    expect(auth["expiresIn"] == 600, f"expiresIn {auth['expiresIn']}")
    expect(auth.get("interval", 5) >= 1, f"interval {auth.get('interval')}")
    STATE["auth"] = auth


def create_token():
    reg, auth = need("reg"), need("auth")
    return oidc.create_token(clientId=reg["clientId"], clientSecret=reg["clientSecret"], grantType=DEVICE_GRANT,
                             deviceCode=auth["deviceCode"])


@check("oidc.create_token_pending")
def _():
    need("auth")
    try:
        out = create_token()
    except oidc.exceptions.AuthorizationPendingException as e:
        expect(e.response.get("error") == "authorization_pending", f"modeled member error: {e.response}")
        STATE["last_poll"] = time.monotonic()
        return
    raise CheckFailed(f"CreateToken before approval succeeded: {out}")


@check("oidc.approve_with_cli")
def _():
    auth = need("auth")
    proc = subprocess.run([IDC_BIN, "approve", "--db", IDC_DB, "--user-code", auth["userCode"], "--user", "alice"],
                          capture_output=True, text=True, timeout=30)
    expect(proc.returncode == 0, f"tobira-idc approve: exit {proc.returncode}: {proc.stderr}")
    expect("approved as alice" in proc.stdout, f"stdout {proc.stdout!r}")


@check("oidc.create_token_after_approval")
def _():
    auth = need("auth")
    interval = auth.get("interval", 5)
    slow_downs = 0
    deadline = time.monotonic() + 20
    while True:
        # Honour the interval since the previous poll (RFC 8628 §3.5).
        wait = STATE.get("last_poll", 0) + interval - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        try:
            tok = create_token()
            break
        except oidc.exceptions.AuthorizationPendingException:
            pass
        except oidc.exceptions.SlowDownException:
            slow_downs += 1
            interval += 5
        finally:
            STATE["last_poll"] = time.monotonic()
        expect(time.monotonic() < deadline, "still pending 20 s after approval")
    expect(slow_downs == 0, f"{slow_downs} SlowDownException although the interval ({auth.get('interval')}) was kept")
    expect(tok["accessToken"], f"{tok}")
    expect(tok.get("tokenType") == "Bearer", f"tokenType {tok.get('tokenType')!r}")
    # 8 h sign-in session started at approval; the token ends with it.
    expect(8 * 3600 - 60 <= tok["expiresIn"] <= 8 * 3600, f"expiresIn {tok['expiresIn']}")
    expect(tok.get("refreshToken"), "a registration with scopes gets a refresh token")
    STATE["token"] = tok
    STATE["token_at"] = time.time()


@check("oidc.device_code_single_use")
def _():
    need("token")
    try:
        create_token()
    except oidc.exceptions.InvalidGrantException:
        return
    raise CheckFailed("a consumed device code gave a second token")


# ---- 2. the SSO portal -----------------------------------------------------


@check("portal.list_accounts_paginated")
def _():
    token = need("token")["accessToken"]
    pages = list(portal.get_paginator("list_accounts").paginate(accessToken=token,
                                                                 PaginationConfig={"PageSize": 1}))
    expect(len(pages) == 2, f"{len(pages)} pages with PageSize=1: {pages}")
    expect("nextToken" in pages[0] and "nextToken" not in pages[-1], f"nextToken use: {pages}")
    ids = [a["accountId"] for p in pages for a in p["accountList"]]
    expect(sorted(ids) == ["111111111111", "222222222222"], f"accounts {ids}")
    names = {a["accountId"]: a.get("accountName") for p in pages for a in p["accountList"]}
    expect(names == {"111111111111": "Production", "222222222222": "Development"}, f"names {names}")


@check("portal.list_account_roles")
def _():
    token = need("token")["accessToken"]
    roles = portal.list_account_roles(accessToken=token, accountId="222222222222")["roleList"]
    expect(sorted(r["roleName"] for r in roles) == ["FullAccess", "ReadOnly"], f"{roles}")
    expect(all(r["accountId"] == "222222222222" for r in roles), f"{roles}")
    one = portal.list_account_roles(accessToken=token, accountId="111111111111")["roleList"]
    expect([r["roleName"] for r in one] == ["ReadOnly"], f"111111111111: {one}")


@check("portal.get_role_credentials")
def _():
    token = need("token")["accessToken"]
    rc = portal.get_role_credentials(accessToken=token, accountId="222222222222", roleName="ReadOnly")
    rc = rc["roleCredentials"]
    expect(rc["accessKeyId"].startswith("ASIA"), f"{rc}")
    expect(rc["secretAccessKey"] and rc["sessionToken"], f"{rc}")
    # ReadOnly has session_hours = 1; `expiration` is epoch milliseconds.
    expect(abs(rc["expiration"] / 1000 - (time.time() + 3600)) < 120, f"expiration {rc['expiration']}")
    STATE["role_creds"] = rc


@check("sts.sso_role_credentials_identity")
def _():
    rc = need("role_creds")
    sts = boto3.client("sts", region_name=REGION, aws_access_key_id=rc["accessKeyId"],
                       aws_secret_access_key=rc["secretAccessKey"], aws_session_token=rc["sessionToken"])
    me = sts.get_caller_identity()
    arn = me["Arn"]
    expect(arn.startswith("arn:aws:sts::222222222222:assumed-role/AWSReservedSSO_ReadOnly_") and
           arn.endswith("/alice"), f"Arn {arn}")
    expect(me["Account"] == "222222222222", f"{me}")
    STATE["sso_arn"] = arn


@check("portal.list_accounts_cli")
def _():
    token = need("token")["accessToken"]
    out = cli_json(aws("sso", "list-accounts", "--access-token", token, "--region", REGION),
                   "aws sso list-accounts")
    ids = sorted(a["accountId"] for a in out.get("accountList", []))
    expect(ids == ["111111111111", "222222222222"], f"accounts {ids}")


# ---- 3. a profile resolved from the token cache ------------------------------


@check("profile.token_cache_written")
def _():
    reg, tok = need("reg"), need("token")
    cache = {
        "startUrl": START_URL,
        "region": REGION,
        "accessToken": tok["accessToken"],
        "expiresAt": iso_z(STATE["token_at"] + tok["expiresIn"]),
        "clientId": reg["clientId"],
        "clientSecret": reg["clientSecret"],
        "registrationExpiresAt": iso_z(reg["clientSecretExpiresAt"]),
    }
    if tok.get("refreshToken"):
        cache["refreshToken"] = tok["refreshToken"]
    d = os.path.join(HOME, ".aws", "sso", "cache")
    os.makedirs(d, exist_ok=True)
    path = os.path.join(d, hashlib.sha1(SESSION_NAME.encode("utf-8")).hexdigest() + ".json")
    with open(path, "w", encoding="utf-8") as f:
        f.write(json.dumps(cache))
    STATE["cache_file"] = path


def identity_for(profile):
    return boto3.Session(profile_name=profile).client("sts").get_caller_identity()


@check("profile.sso_session_boto3")
def _():
    need("cache_file")
    arn = identity_for("p")["Arn"]
    expect(arn.startswith("arn:aws:sts::222222222222:assumed-role/AWSReservedSSO_ReadOnly_") and
           arn.endswith("/alice"), f"Arn {arn}")
    expect(arn == STATE.get("sso_arn", arn), f"{arn} differs from the portal's credentials {STATE.get('sso_arn')}")


@check("profile.sso_session_cli")
def _():
    need("cache_file")
    me = cli_json(aws("sts", "get-caller-identity", "--profile", "p"), "aws sts get-caller-identity --profile p")
    arn = me.get("Arn", "")
    expect(arn.startswith("arn:aws:sts::222222222222:assumed-role/AWSReservedSSO_ReadOnly_") and
           arn.endswith("/alice"), f"Arn {arn}")


@check("profile.sso_token_refresh_boto3")
def _():
    path = need("cache_file")
    with open(path, encoding="utf-8") as f:
        before = json.load(f)
    # Inside botocore's 15-minute refresh window: it calls CreateToken with the
    # refresh token (through AWS_ENDPOINT_URL_SSO_OIDC) and rewrites the file.
    expect("refreshToken" in before, f"no refresh token cached: {list(before)}")
    with open(path, "w", encoding="utf-8") as f:
        f.write(json.dumps(dict(before, expiresAt=iso_z(time.time() + 300))))
    arn = identity_for("p")["Arn"]
    expect(arn.endswith("/alice"), f"Arn {arn}")
    with open(path, encoding="utf-8") as f:
        after = json.load(f)
    expect(after["accessToken"] != before["accessToken"], "the access token was not refreshed")
    expect(after.get("refreshToken") not in (None, before["refreshToken"]), "the refresh token was not rotated")
    left = datetime.datetime.strptime(after["expiresAt"], "%Y-%m-%dT%H:%M:%SZ").replace(
        tzinfo=datetime.timezone.utc).timestamp() - time.time()
    expect(7 * 3600 < left <= 8 * 3600 + 60, f"refreshed expiresAt {after['expiresAt']}")
    expect(after["clientId"] == before["clientId"], "clientId changed")
    # Replaying the old refresh token would revoke this sign-in (see
    # oidc.refresh_token_reuse_revokes_the_family, on a sign-in of its own).


# ---- 4. static keys --------------------------------------------------------


@check("static.bob_boto3")
def _():
    me = identity_for("bob")
    expect(me["Arn"] == BOB_ARN and me["Account"] == "123456789012", f"{me}")
    expect(me["UserId"].startswith("AIDA"), f"{me}")


@check("static.bob_cli")
def _():
    me = cli_json(aws("sts", "get-caller-identity", "--profile", "bob"), "aws sts get-caller-identity --profile bob")
    expect(me.get("Arn") == BOB_ARN and me.get("Account") == "123456789012", f"{me}")


# ---- 4b. GetFederationToken and console sign-in as a federated user ---------

ALLOW_ALL = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}'
IDC_URL = os.environ["TOBIRA_IDC_URL"]


def bob_sts():
    return boto3.client("sts", region_name=REGION, aws_access_key_id=BOB_KEY, aws_secret_access_key=BOB_SECRET)


@check("federation.get_federation_token_boto3")
def _():
    before = datetime.datetime.now(datetime.timezone.utc)
    out = bob_sts().get_federation_token(Name="bob-console", DurationSeconds=3600, Policy=ALLOW_ALL)
    c = out["Credentials"]
    expect(c["AccessKeyId"].startswith("ASIA"), f"AccessKeyId {c['AccessKeyId']}")
    left = (c["Expiration"] - before).total_seconds()
    expect(3540 <= left <= 3660, f"Expiration {c['Expiration']} is {left} s away, not an hour")
    user = out["FederatedUser"]
    expect(user == {"FederatedUserId": "123456789012:bob-console",
                    "Arn": "arn:aws:sts::123456789012:federated-user/bob-console"}, f"{user}")
    expect(isinstance(out.get("PackedPolicySize"), int), f"PackedPolicySize {out.get('PackedPolicySize')!r}")
    me = boto3.client("sts", region_name=REGION, aws_access_key_id=c["AccessKeyId"],
                      aws_secret_access_key=c["SecretAccessKey"], aws_session_token=c["SessionToken"]).get_caller_identity()
    expect(me["Arn"] == user["Arn"] and me["UserId"] == "123456789012:bob-console", f"{me}")
    STATE["federated"] = c


@check("federation.get_federation_token_refusals_boto3")
def _():
    c = need("federated")
    as_fed = boto3.client("sts", region_name=REGION, aws_access_key_id=c["AccessKeyId"],
                          aws_secret_access_key=c["SecretAccessKey"], aws_session_token=c["SessionToken"])
    cases = [
        (lambda: as_fed.get_federation_token(Name="again"), "AccessDenied",
         "Cannot call GetFederationToken with session credentials"),
        (lambda: bob_sts().get_federation_token(Name="bob smith"), "ValidationError", "at 'name'"),
        (lambda: bob_sts().get_federation_token(Name="x" * 33), "ValidationError", "at 'name'"),
        (lambda: bob_sts().get_federation_token(Name="bob", DurationSeconds=129601), "ValidationError",
         "at 'durationSeconds'"),
        (lambda: bob_sts().get_federation_token(Name="bob", Policy="{not json"), "MalformedPolicyDocument", ""),
    ]
    for call, code, words in cases:
        try:
            out = call()
        except botocore.exceptions.ClientError as e:
            expect(error_code(e) == code, f"code {error_code(e)} instead of {code}: {e}")
            expect(words in e.response["Error"].get("Message", ""), f"message {e.response['Error']}")
            continue
        raise CheckFailed(f"accepted, expected {code}: {out.get('FederatedUser')}")


@check("federation.get_federation_token_cli")
def _():
    out = cli_json(aws("sts", "get-federation-token", "--profile", "bob", "--name", "bob-cli",
                       "--duration-seconds", "900", "--policy", ALLOW_ALL),
                   "aws sts get-federation-token --profile bob")
    expect(out.get("FederatedUser", {}).get("Arn") == "arn:aws:sts::123456789012:federated-user/bob-cli", f"{out}")
    expect(out.get("Credentials", {}).get("AccessKeyId", "").startswith("ASIA"), f"{out}")


@check("federation.console_sign_in_as_a_federated_user")
def _():
    import urllib.error
    import urllib.parse
    import urllib.request

    c = need("federated")
    session = json.dumps({"sessionId": c["AccessKeyId"], "sessionKey": c["SecretAccessKey"],
                          "sessionToken": c["SessionToken"]})
    # A form POST, as aws-sso-util sends it; SessionDuration is refused for these credentials.
    def signin_token(extra):
        body = urllib.parse.urlencode({"Action": "getSigninToken", "Session": session, **extra}).encode()
        req = urllib.request.Request(f"{IDC_URL}/federation", data=body, method="POST",
                                     headers={"Content-Type": "application/x-www-form-urlencoded"})
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    status, body = signin_token({"SessionDuration": "3600"})
    expect(status == 400 and "SessionDuration" in body, f"SessionDuration with federated credentials: {status} {body}")
    status, body = signin_token({})
    expect(status == 200, f"getSigninToken: {status} {body}")
    token = json.loads(body)["SigninToken"]

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    login = f"{IDC_URL}/federation?" + urllib.parse.urlencode(
        {"Action": "login", "Issuer": "interop", "Destination": "https://console.aws.amazon.com/", "SigninToken": token})
    try:
        urllib.request.build_opener(NoRedirect).open(login, timeout=10)
        raise CheckFailed("login did not redirect")
    except urllib.error.HTTPError as e:
        expect(e.code == 302, f"login: {e.code} {e.read().decode()}")
        cookie = e.headers["Set-Cookie"].split(";", 1)[0]
    req = urllib.request.Request(f"{IDC_URL}/console", headers={"Cookie": cookie})
    with urllib.request.urlopen(req, timeout=10) as r:
        page = r.read().decode()
    expect('id="federated-user">bob-console<' in page, f"the landing page does not show the federated user: {page}")


# ---- 5. assume-role with mfa_serial and a real TOTP code ---------------------

# Two distinct codes from one instant: the server accepts the current step and
# one either side, each once. Step s (botocore) stays acceptable until s+2
# starts, step s+1 (CLI) is acceptable from now on.
STEP = int(time.time()) // 30
CODE_BOTO, CODE_CLI = totp(STEP), totp(STEP + 1)


@check("mfa.assume_role_boto3")
def _():
    session = boto3.Session(profile_name="ops")
    provider = session._session.get_component("credential_provider").get_provider("assume-role")
    expect(hasattr(provider, "_prompter"), "botocore's AssumeRoleProvider has no _prompter attribute")
    prompts = []

    def prompter(prompt):
        prompts.append(prompt)
        return CODE_BOTO

    provider._prompter = prompter
    me = session.client("sts").get_caller_identity()
    expect(prompts == [f"Enter MFA code for {BOB_MFA}: "], f"prompts {prompts}")
    arn = me["Arn"]
    expect(arn.startswith("arn:aws:sts::123456789012:assumed-role/Ops/botocore-session-"), f"Arn {arn}")
    expect(me["UserId"].startswith("AROA") and me["UserId"].endswith(":" + arn.rsplit("/", 1)[1]), f"{me}")


@check("mfa.reused_code_denied")
def _():
    sts = boto3.client("sts", region_name=REGION, aws_access_key_id=BOB_KEY, aws_secret_access_key=BOB_SECRET)
    try:
        out = sts.assume_role(RoleArn=OPS_ROLE, RoleSessionName="replay", SerialNumber=BOB_MFA,
                              TokenCode=CODE_BOTO)
    except botocore.exceptions.ClientError as e:
        expect(error_code(e) == "AccessDenied", f"code {error_code(e)}: {e}")
        msg = e.response["Error"].get("Message", "")
        expect(msg.startswith("MultiFactorAuthentication failed"), f"message {msg!r}")
        return
    raise CheckFailed(f"a TOTP code used once was accepted again: {out['AssumedRoleUser']}")


@check("mfa.assume_role_cli_stdin")
def _():
    proc = aws("sts", "get-caller-identity", "--profile", "ops", stdin=CODE_CLI + "\n")
    me = cli_json(proc, "aws sts get-caller-identity --profile ops (MFA code on stdin)")
    expect(f"Enter MFA code for {BOB_MFA}:" in proc.stderr, f"no MFA prompt on stderr: {proc.stderr!r}")
    arn = me.get("Arn", "")
    expect(arn.startswith("arn:aws:sts::123456789012:assumed-role/Ops/botocore-session-"), f"Arn {arn}")
    STATE["cli_ops_arn"] = arn


@check("mfa.cli_cache_reused_without_prompt")
def _():
    first = need("cli_ops_arn")
    key = json.dumps({"RoleArn": OPS_ROLE, "SerialNumber": BOB_MFA}, sort_keys=True)
    path = os.path.join(HOME, ".aws", "cli", "cache", hashlib.sha1(key.encode("utf-8")).hexdigest() + ".json")
    expect(os.path.exists(path), f"no assume-role cache file {path}: {os.listdir(os.path.dirname(path))}")
    proc = aws("sts", "get-caller-identity", "--profile", "ops", stdin="")
    me = cli_json(proc, "second aws sts get-caller-identity --profile ops")
    expect("Enter MFA code" not in proc.stderr, f"prompted again: {proc.stderr!r}")
    expect(me.get("Arn") == first, f"{me.get('Arn')} != {first}")


# ---- 6. error paths --------------------------------------------------------


@check("error.wrong_secret_boto3")
def _():
    sts = boto3.client("sts", region_name=REGION, aws_access_key_id=BOB_KEY, aws_secret_access_key="not-the-secret")
    try:
        out = sts.get_caller_identity()
    except botocore.exceptions.ClientError as e:
        expect(error_code(e) == "SignatureDoesNotMatch", f"code {error_code(e)}: {e}")
        expect(e.response["ResponseMetadata"]["HTTPStatusCode"] == 403, f"{e.response['ResponseMetadata']}")
        return
    raise CheckFailed(f"a wrong secret was accepted: {out}")


@check("error.wrong_secret_cli")
def _():
    proc = aws("sts", "get-caller-identity", "--profile", "badbob")
    expect(proc.returncode != 0, f"exit 0 with a wrong secret: {proc.stdout}")
    expect("An error occurred (SignatureDoesNotMatch) when calling the GetCallerIdentity operation" in proc.stderr,
           f"stderr {proc.stderr!r}")


@check("error.unknown_bearer_token")
def _():
    try:
        out = portal.list_accounts(accessToken="not-a-token")
    except portal.exceptions.UnauthorizedException as e:
        expect(e.response["ResponseMetadata"]["HTTPStatusCode"] == 401, f"{e.response['ResponseMetadata']}")
        return
    raise CheckFailed(f"an unknown bearer token listed accounts: {out}")


@check("error.logged_out_token")
def _():
    token = need("token")["accessToken"]
    portal.logout(accessToken=token)
    try:
        out = portal.list_accounts(accessToken=token)
    except portal.exceptions.UnauthorizedException:
        pass
    else:
        raise CheckFailed(f"a logged-out token still lists accounts: {out}")
    # Credentials issued from the session end with it.
    rc = need("role_creds")
    sts = boto3.client("sts", region_name=REGION, aws_access_key_id=rc["accessKeyId"],
                       aws_secret_access_key=rc["secretAccessKey"], aws_session_token=rc["sessionToken"])
    try:
        out = sts.get_caller_identity()
    except botocore.exceptions.ClientError as e:
        expect(error_code(e) == "ExpiredToken", f"code {error_code(e)}: {e}")
    else:
        raise CheckFailed(f"role credentials of a logged-out session still work: {out}")


@check("oidc.refresh_token_reuse_revokes_the_family")
def _():
    # RFC 9700 §4.14.2: a rotated refresh token presented again means it
    # leaked; the whole family (the sign-in) is revoked.
    reg = oidc.register_client(clientName="reuse", clientType="public", scopes=["sso:account:access"])
    auth = oidc.start_device_authorization(clientId=reg["clientId"], clientSecret=reg["clientSecret"],
                                           startUrl=START_URL)
    proc = subprocess.run([IDC_BIN, "approve", "--db", IDC_DB, "--user-code", auth["userCode"], "--user", "alice"],
                          capture_output=True, text=True, timeout=30)
    expect(proc.returncode == 0, f"tobira-idc approve: {proc.stderr}")
    first = oidc.create_token(clientId=reg["clientId"], clientSecret=reg["clientSecret"], grantType=DEVICE_GRANT,
                              deviceCode=auth["deviceCode"])
    second = oidc.create_token(clientId=reg["clientId"], clientSecret=reg["clientSecret"],
                               grantType="refresh_token", refreshToken=first["refreshToken"])
    portal.list_accounts(accessToken=second["accessToken"])
    try:
        oidc.create_token(clientId=reg["clientId"], clientSecret=reg["clientSecret"],
                          grantType="refresh_token", refreshToken=first["refreshToken"])
        raise CheckFailed("the old refresh token worked again after rotation")
    except oidc.exceptions.InvalidGrantException:
        pass
    try:
        out = portal.list_accounts(accessToken=second["accessToken"])
        raise CheckFailed(f"the family's newest access token still works after the reuse: {out}")
    except portal.exceptions.UnauthorizedException:
        pass
    try:
        oidc.create_token(clientId=reg["clientId"], clientSecret=reg["clientSecret"],
                          grantType="refresh_token", refreshToken=second["refreshToken"])
        raise CheckFailed("the family's newest refresh token still works after the reuse")
    except oidc.exceptions.InvalidGrantException:
        pass


@check("error.sso_profile_after_logout_boto3")
def _():
    need("cache_file")
    try:
        out = identity_for("p")
    except botocore.exceptions.UnauthorizedSSOTokenError:
        return
    raise CheckFailed(f"the SSO profile still resolves after logout: {out}")


@check("error.sso_profile_after_logout_cli")
def _():
    need("cache_file")
    proc = aws("sts", "get-caller-identity", "--profile", "p")
    expect(proc.returncode != 0, f"exit 0 after logout: {proc.stdout}")
    expect("The SSO session associated with this profile has expired or is otherwise invalid" in proc.stderr,
           f"stderr {proc.stderr!r}")


sys.exit(exit_code())
