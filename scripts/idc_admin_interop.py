"""Drives tobira-idc's administrator APIs (SSO Admin, Identity Store) with the
pinned third-party clients (boto3/botocore and the AWS CLI v1 from the repo's
.venv), and prints one JSON object per check as idc_interop.py does. Exits 0
only if every check passed.

Run by crates/tobira-idc/tests/python_interop.rs with a hermetic environment:
HOME, AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE inside a temp dir; the
AWS_ENDPOINT_URL_* exports `tobira-idc serve` prints (SSO OIDC, SSO, STS,
SSO_ADMIN, IDENTITYSTORE); TOBIRA_IDC_BIN, TOBIRA_IDC_DB, TOBIRA_IDC_URL and
TOBIRA_IDC_ADMIN_TOKEN.

Every call is signed with bob's documentation key pair, which the demo
directory names in `instance.administrators`. The sequence under
"terraform.*" is what Terraform's aws provider 5.100 sends for
aws_identitystore_user/group/group_membership, aws_ssoadmin_permission_set,
managed_policy_attachment and account_assignment (docs/admin-apis.md),
replayed through boto3 (crates/tobira-idc/tests/terraform.rs also runs real
Terraform with the provider from a local mirror).
"""
import json
import os
import subprocess
import sys
import time
import traceback
import urllib.error
import urllib.request

import boto3
import botocore.config

REGION = "us-east-1"
START_URL = "https://d-1234567890.awsapps.com/start"
STORE = "d-1234567890"
BOB_KEY = "AKIAIOSFODNN7EXAMPLE"
BOB_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"

IDC_BIN = os.environ["TOBIRA_IDC_BIN"]
IDC_DB = os.environ["TOBIRA_IDC_DB"]
IDC_URL = os.environ["TOBIRA_IDC_URL"]
ADMIN_TOKEN = os.environ["TOBIRA_IDC_ADMIN_TOKEN"]
AWS_CLI = os.path.join(os.path.dirname(sys.executable), "aws")

RESULTS = []
STATE = {}


def report(name, ok, detail=None):
    line = {"check": name, "ok": bool(ok)}
    if not ok:
        line["detail"] = detail
    RESULTS.append(line)
    print(json.dumps(line), flush=True)


class CheckFailed(Exception):
    pass


def expect(cond, detail):
    if not cond:
        raise CheckFailed(detail)


def check(name):
    def run(fn):
        try:
            fn()
        except CheckFailed as e:
            report(name, False, str(e))
        except Exception as e:  # noqa: BLE001 - any surprise is a failed check
            report(name, False, f"{type(e).__name__}: {e}\n{traceback.format_exc(limit=-3)}")
        else:
            report(name, True)
        return fn

    return run


def need(key):
    if key not in STATE:
        raise CheckFailed(f"skipped: an earlier check did not produce {key!r}")
    return STATE[key]


def code_of(e):
    return e.response.get("Error", {}).get("Code")


def raises(code, fn, *args, **kwargs):
    """Calls fn and returns the ClientError, which must carry `code`."""
    try:
        out = fn(*args, **kwargs)
    except botocore.exceptions.ClientError as e:
        expect(code_of(e) == code, f"expected {code}, got {code_of(e)}: {e.response}")
        return e
    raise CheckFailed(f"expected {code}, the call succeeded: {out}")


def session(key=BOB_KEY, secret=BOB_SECRET, token=None):
    return boto3.Session(aws_access_key_id=key, aws_secret_access_key=secret, aws_session_token=token,
                         region_name=REGION)


# Standard retry mode, as Terraform's SDK retries; throttling is retried by both modes.
CONFIG = botocore.config.Config(retries={"mode": "standard", "max_attempts": 3})
bob = session()
ssoadmin = bob.client("sso-admin", config=CONFIG)
ids = bob.client("identitystore", config=CONFIG)


def aws(*args):
    """The AWS CLI v1 signed with bob's keys, detached from any terminal."""
    env = dict(os.environ, AWS_ACCESS_KEY_ID=BOB_KEY, AWS_SECRET_ACCESS_KEY=BOB_SECRET, AWS_DEFAULT_REGION=REGION)
    return subprocess.run([sys.executable, AWS_CLI, *args], input="", capture_output=True, text=True, env=env,
                          start_new_session=True, timeout=60)


def cli_json(proc, what):
    expect(proc.returncode == 0, f"{what}: exit {proc.returncode}\nstdout: {proc.stdout}\nstderr: {proc.stderr}")
    return json.loads(proc.stdout) if proc.stdout.strip() else {}


def admin_api(method, path, body=None):
    req = urllib.request.Request(IDC_URL + path, method=method, data=None if body is None else json.dumps(body).encode(),
                                 headers={"authorization": f"Bearer {ADMIN_TOKEN}", "content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read() or b"{}")


def counter(op):
    return admin_api("GET", "/admin/api/counters").get(op, 0)


def alice_roles(account):
    """alice's role names in `account`, through a device login approved with `tobira-idc approve`."""
    if "alice_token" not in STATE:
        oidc = boto3.client("sso-oidc", region_name=REGION)
        reg = oidc.register_client(clientName="admin-interop", clientType="public")
        auth = oidc.start_device_authorization(clientId=reg["clientId"], clientSecret=reg["clientSecret"],
                                               startUrl=START_URL)
        proc = subprocess.run([IDC_BIN, "approve", "--db", IDC_DB, "--user-code", auth["userCode"], "--user", "alice"],
                              capture_output=True, text=True, timeout=30)
        expect(proc.returncode == 0, f"tobira-idc approve: {proc.stderr}")
        deadline = time.monotonic() + 20
        while True:
            try:
                tok = oidc.create_token(clientId=reg["clientId"], clientSecret=reg["clientSecret"],
                                        grantType=DEVICE_GRANT, deviceCode=auth["deviceCode"])
                break
            except (oidc.exceptions.AuthorizationPendingException, oidc.exceptions.SlowDownException):
                expect(time.monotonic() < deadline, "no token within 20 s")
                time.sleep(auth.get("interval", 1))
        STATE["alice_token"] = tok["accessToken"]
    sso = boto3.client("sso", region_name=REGION)
    pages = sso.get_paginator("list_account_roles").paginate(accessToken=STATE["alice_token"], accountId=account)
    return sorted(r["roleName"] for p in pages for r in p["roleList"])


def wait_succeeded(describe, member, **kwargs):
    """Polls a provisioning/assignment status until SUCCEEDED, as Terraform's waiters do."""
    for _ in range(20):
        status = describe(InstanceArn=need("instance"), **kwargs)[member]
        if status["Status"] == "SUCCEEDED":
            return status
        expect(status["Status"] == "IN_PROGRESS", f"{member}: {status}")
        time.sleep(0.2)
    raise CheckFailed(f"{member} never SUCCEEDED")


# ---- the instance ----------------------------------------------------------------

@check("instance.list_instances_cli")
def _():
    out = cli_json(aws("sso-admin", "list-instances"), "aws sso-admin list-instances")
    (inst,) = out["Instances"]
    expect(inst["IdentityStoreId"] == STORE, f"{inst}")
    expect(inst["InstanceArn"].startswith("arn:aws:sso:::instance/ssoins-") and len(inst["InstanceArn"]) == 46,
           f"{inst}")
    STATE["instance"] = inst["InstanceArn"]


@check("instance.describe_boto3")
def _():
    out = ssoadmin.describe_instance(InstanceArn=need("instance"))
    expect(out["Status"] == "ACTIVE" and out["IdentityStoreId"] == STORE, f"{out}")


# ---- the seed-002 journey through the APIs ---------------------------------------

@check("journey.permission_set_8h_with_managed_policy")
def _():
    ps = ssoadmin.create_permission_set(InstanceArn=need("instance"), Name="Deploy", Description="Deployments",
                                        SessionDuration="PT8H", Tags=[{"Key": "team", "Value": "platform"}])
    arn = ps["PermissionSet"]["PermissionSetArn"]
    expect(arn.startswith(f"arn:aws:sso:::permissionSet/{need('instance').rsplit('/', 1)[1]}/ps-"), arn)
    ssoadmin.attach_managed_policy_to_permission_set(InstanceArn=need("instance"), PermissionSetArn=arn,
                                                     ManagedPolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
    listed = ssoadmin.list_managed_policies_in_permission_set(InstanceArn=need("instance"), PermissionSetArn=arn)
    expect(listed["AttachedManagedPolicies"] == [{"Name": "ReadOnlyAccess",
                                                  "Arn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}], f"{listed}")
    d = ssoadmin.describe_permission_set(InstanceArn=need("instance"), PermissionSetArn=arn)["PermissionSet"]
    expect(d["SessionDuration"] == "PT8H" and d["Name"] == "Deploy" and d["Description"] == "Deployments", f"{d}")
    STATE["deploy"] = arn


@check("journey.assign_user_then_portal_lists_the_role_for_8_hours")
def _():
    arn = need("deploy")
    alice = ids.get_user_id(IdentityStoreId=STORE, AlternateIdentifier={
        "UniqueAttribute": {"AttributePath": "userName", "AttributeValue": "alice"}})["UserId"]
    expect("Deploy" not in alice_roles("111111111111"), "Deploy listed before the assignment")
    out = ssoadmin.create_account_assignment(InstanceArn=need("instance"), TargetId="111111111111",
                                             TargetType="AWS_ACCOUNT", PermissionSetArn=arn,
                                             PrincipalType="USER", PrincipalId=alice)
    rid = out["AccountAssignmentCreationStatus"]["RequestId"]
    wait_succeeded(ssoadmin.describe_account_assignment_creation_status, "AccountAssignmentCreationStatus",
                   AccountAssignmentCreationRequestId=rid)
    expect("Deploy" in alice_roles("111111111111"), "Deploy not listed after the assignment")
    sso = boto3.client("sso", region_name=REGION)
    creds = sso.get_role_credentials(accessToken=STATE["alice_token"], accountId="111111111111",
                                     roleName="Deploy")["roleCredentials"]
    hours = (creds["expiration"] / 1000 - time.time()) / 3600
    expect(7.9 < hours <= 8.0, f"credentials last {hours:.2f} h, not 8")
    STATE["alice_id"] = alice


@check("journey.delete_assignment_removes_the_role")
def _():
    out = ssoadmin.delete_account_assignment(InstanceArn=need("instance"), TargetId="111111111111",
                                             TargetType="AWS_ACCOUNT", PermissionSetArn=need("deploy"),
                                             PrincipalType="USER", PrincipalId=need("alice_id"))
    rid = out["AccountAssignmentDeletionStatus"]["RequestId"]
    wait_succeeded(ssoadmin.describe_account_assignment_deletion_status, "AccountAssignmentDeletionStatus",
                   AccountAssignmentDeletionRequestId=rid)
    expect("Deploy" not in alice_roles("111111111111"), "Deploy still listed after deletion")


@check("journey.cli_v1_user_group_membership")
def _():
    u = cli_json(aws("identitystore", "create-user", "--identity-store-id", STORE, "--user-name", "erin",
                     "--display-name", "Erin Example", "--name", "GivenName=Erin,FamilyName=Example",
                     "--emails", "Value=erin@example.com,Type=work,Primary=true"), "create-user")
    g = cli_json(aws("identitystore", "create-group", "--identity-store-id", STORE, "--display-name", "deployers",
                     "--description", "People who deploy"), "create-group")
    m = cli_json(aws("identitystore", "create-group-membership", "--identity-store-id", STORE, "--group-id",
                     g["GroupId"], "--member-id", f"UserId={u['UserId']}"), "create-group-membership")
    expect(m["MembershipId"].startswith("1234567890-"), f"{m}")
    listed = cli_json(aws("identitystore", "list-group-memberships-for-member", "--identity-store-id", STORE,
                          "--member-id", f"UserId={u['UserId']}"), "list-group-memberships-for-member")
    expect([x["GroupId"] for x in listed["GroupMemberships"]] == [g["GroupId"]], f"{listed}")
    users = cli_json(aws("identitystore", "list-users", "--identity-store-id", STORE, "--filters",
                         "AttributePath=UserName,AttributeValue=erin"), "list-users --filters")
    expect([x["UserId"] for x in users["Users"]] == [u["UserId"]], f"{users}")
    STATE.update(erin=u["UserId"], deployers=g["GroupId"])


@check("journey.group_assignment_reaches_members")
def _():
    # alice joins deployers; deployers gets Deploy in 222222222222.
    m = ids.create_group_membership(IdentityStoreId=STORE, GroupId=need("deployers"),
                                    MemberId={"UserId": need("alice_id")})
    out = ssoadmin.create_account_assignment(InstanceArn=need("instance"), TargetId="222222222222",
                                             TargetType="AWS_ACCOUNT", PermissionSetArn=need("deploy"),
                                             PrincipalType="GROUP", PrincipalId=need("deployers"))
    expect(out["AccountAssignmentCreationStatus"]["Status"] in ("IN_PROGRESS", "SUCCEEDED"), f"{out}")
    expect("Deploy" in alice_roles("222222222222"), "group assignment not visible to a member")
    ids.delete_group_membership(IdentityStoreId=STORE, MembershipId=m["MembershipId"])
    expect("Deploy" not in alice_roles("222222222222"), "still visible after leaving the group")


# ---- the Terraform sequence (docs/admin-apis.md §6), replayed --------------------

@check("terraform.create_and_read_back")
def _():
    inst = ssoadmin.list_instances()["Instances"][0]
    ia = inst["InstanceArn"]
    tags = [{"Key": "team", "Value": "platform"}]
    ps = ssoadmin.create_permission_set(Description="Read-only access", InstanceArn=ia, Name="ReadOnlyTF",
                                       SessionDuration="PT8H", Tags=tags)["PermissionSet"]["PermissionSetArn"]
    d = ssoadmin.describe_permission_set(InstanceArn=ia, PermissionSetArn=ps)["PermissionSet"]
    expect(d["Description"] == "Read-only access" and "RelayState" not in d and d["CreatedDate"], f"{d}")
    expect(ssoadmin.list_tags_for_resource(InstanceArn=ia, ResourceArn=ps)["Tags"] == tags, "tags differ")
    sent = {"UserName": "tfuser", "DisplayName": "TF User", "Name": {"GivenName": "TF", "FamilyName": "User"},
            "Emails": [{"Value": "tf@example.com", "Primary": True}]}
    uid = ids.create_user(IdentityStoreId=inst["IdentityStoreId"], **sent)["UserId"]
    got = ids.describe_user(IdentityStoreId=STORE, UserId=uid)
    for k, v in sent.items():
        expect(got.get(k) == v, f"{k}: sent {v!r}, described {got.get(k)!r} (round trip)")
    expect("Formatted" not in got["Name"] and "Type" not in got["Emails"][0], f"invented members: {got}")
    gid = ids.create_group(IdentityStoreId=STORE, DisplayName="tf-devs", Description="All developers")["GroupId"]
    g = ids.describe_group(IdentityStoreId=STORE, GroupId=gid)
    expect(g["DisplayName"] == "tf-devs" and g["Description"] == "All developers", f"{g}")
    mid = ids.create_group_membership(IdentityStoreId=STORE, GroupId=gid, MemberId={"UserId": uid})["MembershipId"]
    m = ids.describe_group_membership(IdentityStoreId=STORE, MembershipId=mid)
    expect(m["GroupId"] == gid and m["MemberId"] == {"UserId": uid}, f"{m}")
    expect(ssoadmin.list_managed_policies_in_permission_set(InstanceArn=ia, PermissionSetArn=ps)[
               "AttachedManagedPolicies"] == [], "a policy is listed before the attachment")
    policy = "arn:aws:iam::aws:policy/job-function/ViewOnlyAccess"
    ssoadmin.attach_managed_policy_to_permission_set(InstanceArn=ia, PermissionSetArn=ps, ManagedPolicyArn=policy)
    for _ in range(2):  # Terraform's transport retry sends Provision twice (§6.4); it must be safe.
        rid = ssoadmin.provision_permission_set(InstanceArn=ia, PermissionSetArn=ps,
                                                TargetType="ALL_PROVISIONED_ACCOUNTS")[
            "PermissionSetProvisioningStatus"]["RequestId"]
    wait_succeeded(ssoadmin.describe_permission_set_provisioning_status, "PermissionSetProvisioningStatus",
                   ProvisionPermissionSetRequestId=rid)
    listed = ssoadmin.list_managed_policies_in_permission_set(InstanceArn=ia, PermissionSetArn=ps)
    expect(listed["AttachedManagedPolicies"] == [{"Name": "ViewOnlyAccess", "Arn": policy}], f"{listed}")
    before = ssoadmin.list_account_assignments(InstanceArn=ia, AccountId="111111111111", PermissionSetArn=ps)
    expect(before["AccountAssignments"] == [], f"{before}")
    rid = ssoadmin.create_account_assignment(InstanceArn=ia, PermissionSetArn=ps, PrincipalId=gid,
                                             PrincipalType="GROUP", TargetId="111111111111",
                                             TargetType="AWS_ACCOUNT")["AccountAssignmentCreationStatus"]["RequestId"]
    wait_succeeded(ssoadmin.describe_account_assignment_creation_status, "AccountAssignmentCreationStatus",
                   AccountAssignmentCreationRequestId=rid)
    after = ssoadmin.list_account_assignments(InstanceArn=ia, AccountId="111111111111", PermissionSetArn=ps)
    expect(after["AccountAssignments"] == [{"AccountId": "111111111111", "PermissionSetArn": ps,
                                            "PrincipalType": "GROUP", "PrincipalId": gid}], f"{after}")
    # Extended resources.
    doc = '{"Statement":[{"Action":["s3:ListAllMyBuckets"],"Effect":"Allow","Resource":"*"}],"Version":"2012-10-17"}'
    ssoadmin.put_inline_policy_to_permission_set(InstanceArn=ia, PermissionSetArn=ps, InlinePolicy=doc)
    expect(ssoadmin.get_inline_policy_for_permission_set(InstanceArn=ia, PermissionSetArn=ps)["InlinePolicy"] == doc,
           "inline policy text changed")
    ref = {"Name": "OpsExtra", "Path": "/team/"}
    ssoadmin.attach_customer_managed_policy_reference_to_permission_set(
        InstanceArn=ia, PermissionSetArn=ps, CustomerManagedPolicyReference=ref)
    refs = ssoadmin.list_customer_managed_policy_references_in_permission_set(InstanceArn=ia, PermissionSetArn=ps)
    expect(refs["CustomerManagedPolicyReferences"] == [ref], f"{refs}")
    boundary = {"ManagedPolicyArn": "arn:aws:iam::aws:policy/PowerUserAccess"}
    ssoadmin.put_permissions_boundary_to_permission_set(InstanceArn=ia, PermissionSetArn=ps,
                                                        PermissionsBoundary=boundary)
    got = ssoadmin.get_permissions_boundary_for_permission_set(InstanceArn=ia, PermissionSetArn=ps)
    expect(got["PermissionsBoundary"] == boundary, f"{got}")
    STATE["tf"] = dict(ia=ia, ps=ps, uid=uid, gid=gid, mid=mid, policy=policy, ref=ref)


@check("terraform.update_in_place")
def _():
    tf = need("tf")
    ids.update_user(IdentityStoreId=STORE, UserId=tf["uid"], Operations=[
        {"AttributePath": "displayName", "AttributeValue": "Alice Q. Example"},
        {"AttributePath": "title", "AttributeValue": "Engineer"},
        {"AttributePath": "emails", "AttributeValue": None},
        {"AttributePath": "phoneNumbers", "AttributeValue": [{"primary": False, "type": "work",
                                                              "value": "+1-555-0100"}]}])
    u = ids.describe_user(IdentityStoreId=STORE, UserId=tf["uid"])
    expect(u["DisplayName"] == "Alice Q. Example" and u["Title"] == "Engineer", f"{u}")
    expect("Emails" not in u, f"emails not removed: {u}")
    expect(u["PhoneNumbers"] == [{"Primary": False, "Type": "work", "Value": "+1-555-0100"}], f"{u}")
    ids.update_group(IdentityStoreId=STORE, GroupId=tf["gid"],
                     Operations=[{"AttributePath": "description", "AttributeValue": "Every developer"}])
    expect(ids.describe_group(IdentityStoreId=STORE, GroupId=tf["gid"])["Description"] == "Every developer", "group")
    ssoadmin.update_permission_set(InstanceArn=tf["ia"], PermissionSetArn=tf["ps"], Description="Changed",
                                   SessionDuration="PT4H")
    ssoadmin.untag_resource(InstanceArn=tf["ia"], ResourceArn=tf["ps"], TagKeys=["team"])
    ssoadmin.tag_resource(InstanceArn=tf["ia"], ResourceArn=tf["ps"], Tags=[{"Key": "env", "Value": "dev"}])
    d = ssoadmin.describe_permission_set(InstanceArn=tf["ia"], PermissionSetArn=tf["ps"])["PermissionSet"]
    expect(d["Description"] == "Changed" and d["SessionDuration"] == "PT4H", f"{d}")
    tags = ssoadmin.list_tags_for_resource(InstanceArn=tf["ia"], ResourceArn=tf["ps"])["Tags"]
    expect(tags == [{"Key": "env", "Value": "dev"}], f"{tags}")


@check("terraform.destroy_then_refresh_finds_nothing")
def _():
    tf = need("tf")
    ia, ps = tf["ia"], tf["ps"]
    ids.delete_group_membership(IdentityStoreId=STORE, MembershipId=tf["mid"])
    rid = ssoadmin.delete_account_assignment(InstanceArn=ia, PermissionSetArn=ps, PrincipalId=tf["gid"],
                                             PrincipalType="GROUP", TargetId="111111111111",
                                             TargetType="AWS_ACCOUNT")["AccountAssignmentDeletionStatus"]["RequestId"]
    wait_succeeded(ssoadmin.describe_account_assignment_deletion_status, "AccountAssignmentDeletionStatus",
                   AccountAssignmentDeletionRequestId=rid)
    ids.delete_user(IdentityStoreId=STORE, UserId=tf["uid"])
    ssoadmin.detach_managed_policy_from_permission_set(InstanceArn=ia, PermissionSetArn=ps,
                                                       ManagedPolicyArn=tf["policy"])
    ids.delete_group(IdentityStoreId=STORE, GroupId=tf["gid"])
    ssoadmin.delete_permissions_boundary_from_permission_set(InstanceArn=ia, PermissionSetArn=ps)
    ssoadmin.detach_customer_managed_policy_reference_from_permission_set(
        InstanceArn=ia, PermissionSetArn=ps, CustomerManagedPolicyReference=tf["ref"])
    ssoadmin.delete_inline_policy_from_permission_set(InstanceArn=ia, PermissionSetArn=ps)
    ssoadmin.delete_permission_set(InstanceArn=ia, PermissionSetArn=ps)
    # What a refresh after an out-of-band delete sees: ResourceNotFoundException, never an empty 200.
    e = raises("ResourceNotFoundException", ids.describe_user, IdentityStoreId=STORE, UserId=tf["uid"])
    expect(e.response.get("ResourceType") == "USER" and e.response.get("ResourceId") == tf["uid"], f"{e.response}")
    raises("ResourceNotFoundException", ids.describe_group, IdentityStoreId=STORE, GroupId=tf["gid"])
    raises("ResourceNotFoundException", ids.describe_group_membership, IdentityStoreId=STORE, MembershipId=tf["mid"])
    raises("ResourceNotFoundException", ssoadmin.describe_permission_set, InstanceArn=ia, PermissionSetArn=ps)
    # Deleting again is "not found", which Terraform treats as already deleted.
    raises("ResourceNotFoundException", ssoadmin.detach_managed_policy_from_permission_set, InstanceArn=ia,
           PermissionSetArn=ps, ManagedPolicyArn=tf["policy"])


# ---- pagination --------------------------------------------------------------------

@check("paging.list_users_boto3_and_cli")
def _():
    for i in range(60):
        ids.create_user(IdentityStoreId=STORE, UserName=f"page{i:03d}", DisplayName=f"Page {i}",
                        Name={"GivenName": "Page", "FamilyName": str(i)})
    pages = list(ids.get_paginator("list_users").paginate(IdentityStoreId=STORE, PaginationConfig={"PageSize": 25}))
    names = [u["UserName"] for p in pages for u in p["Users"]]
    expect(len(pages) >= 3 and len(names) == len(set(names)), f"{len(pages)} pages, {len(names)} names")
    expect(all(f"page{i:03d}" in names for i in range(60)), "a user is missing from the pages")
    expect("NextToken" not in pages[-1], "the last page carries a NextToken")
    out = cli_json(aws("identitystore", "list-users", "--identity-store-id", STORE, "--page-size", "7"),
                   "list-users --page-size 7")
    expect(sorted(u["UserName"] for u in out["Users"]) == sorted(names), "the CLI's auto-pagination differs")
    raises("ValidationException", ids.list_users, IdentityStoreId=STORE, NextToken="not-a-token")


# ---- error paths -------------------------------------------------------------------

@check("error.unsigned_request")
def _():
    req = urllib.request.Request(IDC_URL + "/", data=b"{}", method="POST", headers={
        "content-type": "application/x-amz-json-1.1", "x-amz-target": "SWBExternalService.ListInstances"})
    try:
        urllib.request.urlopen(req, timeout=10)
        raise CheckFailed("an unsigned call succeeded")
    except urllib.error.HTTPError as e:
        body = json.loads(e.read())
        expect(e.headers.get("x-amzn-ErrorType") == "MissingAuthenticationTokenException", f"{e.headers}")
        expect(body["__type"] == "MissingAuthenticationTokenException" and e.headers.get("x-amzn-RequestId"), body)


@check("error.wrong_secret_and_unknown_key")
def _():
    bad = session(secret="not-the-secret").client("sso-admin", config=CONFIG)
    raises("InvalidSignatureException", bad.list_instances)
    unknown = session(key="AKIAUNKNOWNKEY000000").client("identitystore", config=CONFIG)
    raises("UnrecognizedClientException", unknown.list_users, IdentityStoreId=STORE)


@check("error.not_an_administrator")
def _():
    # A role session (bob assumes Audit) is not named in instance.administrators.
    sts = bob.client("sts")
    c = sts.assume_role(RoleArn="arn:aws:iam::123456789012:role/Audit", RoleSessionName="audit",
                        ExternalId="audit-ext-1")["Credentials"]
    audit = session(c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"])
    e = raises("AccessDeniedException", audit.client("sso-admin", config=CONFIG).list_instances)
    expect("instance.administrators" in e.response["Error"]["Message"], f"{e.response}")
    raises("AccessDeniedException", audit.client("identitystore", config=CONFIG).list_users, IdentityStoreId=STORE)


@check("error.duplicates")
def _():
    e = raises("ConflictException", ids.create_user, IdentityStoreId=STORE, UserName="ALICE", DisplayName="A",
               Name={"GivenName": "A", "FamilyName": "B"})
    expect(e.response.get("Reason") == "UNIQUENESS_CONSTRAINT_VIOLATION", f"{e.response}")
    # SSO Admin never answers ConflictException for a duplicate: Terraform would retry it for minutes.
    raises("ValidationException", ssoadmin.create_permission_set, InstanceArn=need("instance"), Name="ReadOnly")
    raises("ValidationException", ssoadmin.attach_managed_policy_to_permission_set, InstanceArn=need("instance"),
           PermissionSetArn=need("deploy"), ManagedPolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")


@check("error.validation")
def _():
    ia = need("instance")
    raises("ValidationException", ssoadmin.create_permission_set, InstanceArn=ia, Name="Long", SessionDuration="PT13H")
    raises("ValidationException", ids.create_user, IdentityStoreId=STORE, UserName="noname", DisplayName="No Name")
    raises("ValidationException", ids.create_user, IdentityStoreId=STORE, UserName="Administrator",
           DisplayName="x", Name={"GivenName": "a", "FamilyName": "b"})
    raises("ValidationException", ssoadmin.create_account_assignment, InstanceArn=ia, TargetId="999999999999",
           TargetType="AWS_ACCOUNT", PermissionSetArn=need("deploy"), PrincipalType="USER",
           PrincipalId=need("alice_id"))
    raises("ValidationException", ssoadmin.attach_managed_policy_to_permission_set, InstanceArn=ia,
           PermissionSetArn=need("deploy"), ManagedPolicyArn="arn:aws:iam::123456789012:policy/Mine")


@check("error.not_found")
def _():
    e = raises("ResourceNotFoundException", ids.list_users, IdentityStoreId="d-0000000000")
    expect(e.response.get("ResourceType") == "IDENTITY_STORE", f"{e.response}")
    raises("ResourceNotFoundException", ssoadmin.list_permission_sets,
           InstanceArn="arn:aws:sso:::instance/ssoins-0000000000000000")
    raises("ResourceNotFoundException", ssoadmin.describe_account_assignment_creation_status,
           InstanceArn=need("instance"), AccountAssignmentCreationRequestId="7e3ba324-d38e-49b8-916a-521fba45f6f6")
    raises("ResourceNotFoundException", ids.get_user_id, IdentityStoreId=STORE,
           AlternateIdentifier={"UniqueAttribute": {"AttributePath": "userName", "AttributeValue": "nobody"}})


@check("error.cli_v1_renders_the_service_message")
def _():
    proc = aws("identitystore", "describe-user", "--identity-store-id", STORE, "--user-id",
               "1234567890-00000000-0000-4000-8000-000000000000")
    expect(proc.returncode == 255, f"exit {proc.returncode}: {proc.stderr}")
    expect("An error occurred (ResourceNotFoundException) when calling the DescribeUser operation: User not found"
           in proc.stderr, proc.stderr)


@check("error.throttling_is_retried")
def _():
    before = counter("ListPermissionSets")
    admin_api("PUT", "/admin/api/faults", {"one_shot": [
        {"operation": "ListPermissionSets", "code": "ThrottlingException", "status": 400}]})
    out = ssoadmin.list_permission_sets(InstanceArn=need("instance"))
    expect(need("deploy") in out["PermissionSets"], f"{out}")
    expect(counter("ListPermissionSets") - before == 2, "not exactly one retry after ThrottlingException")


failed = [r for r in RESULTS if not r["ok"]]
sys.exit(1 if failed else 0)
