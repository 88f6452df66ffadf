// tobira-idc's pages in a real browser: headless Debian Chromium driven by
// playwright-core. A person signs in with MFA, approves a device code and a
// PKCE request (the redirect lands on this test's loopback listener), enrols
// an MFA device from the QR page, and copies working credentials from the
// access portal. Screenshots of every page go to artifacts/screenshots/.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync, execFileSync } from "node:child_process";
import { createHmac } from "node:crypto";
import { createServer } from "node:http";
import { mkdtempSync, mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { createInterface } from "node:readline";
import { chromium } from "playwright-core";

const repo = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const idcBin = join(repo, "target", "debug", "tobira-idc");
const tobiraBin = join(repo, "target", "debug", "tobira");
const shots = join(repo, "artifacts", "screenshots");
mkdirSync(shots, { recursive: true });

function base32(s) {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = 0, value = 0;
  const out = [];
  for (const c of s.replace(/=+$/, "").toUpperCase()) {
    value = (value << 5) | alphabet.indexOf(c);
    bits += 5;
    if (bits >= 8) { out.push((value >>> (bits - 8)) & 255); bits -= 8; }
  }
  return Buffer.from(out);
}

// RFC 6238 with an offset in 30 s steps (each step's code is accepted once).
function totp(secret, offset = 0) {
  const step = Math.floor(Date.now() / 30000) + offset;
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(BigInt(step));
  const h = createHmac("sha1", base32(secret)).update(msg).digest();
  const o = h[h.length - 1] & 15;
  return String((h.readUInt32BE(o) & 0x7fffffff) % 1000000).padStart(6, "0");
}

async function startIdc(extraArgs = []) {
  const dir = mkdtempSync(join(tmpdir(), "tobira-browser-"));
  const child = spawn(idcBin, ["serve", "--port", "0", "--db", join(dir, "idc.db"), ...extraArgs], { stdio: ["ignore", "pipe", "inherit"] });
  const lines = createInterface({ input: child.stdout });
  const { url, token } = await new Promise((resolve) => {
    let url;
    lines.on("line", (l) => {
      if (l.startsWith("tobira-idc listening on ")) url = l.slice(24);
      const admin = l.match(/^Admin pages: \S+ {2}admin token: (\S+)$/);
      if (admin) resolve({ url, token: admin[1] });
    });
  });
  return { child, url, dir, token };
}

async function json(url, path, body) {
  const r = await fetch(url + path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  return { status: r.status, body: await r.json().catch(() => ({})) };
}

let browser, idc;
const ALICE = { user: "alice", password: "correct horse battery staple", secret: "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP" };

before(async () => {
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
  idc = await startIdc();
});

after(async () => {
  await browser?.close();
  idc?.child.kill();
});

async function signIn(page, offset = 0) {
  await page.fill("#username", ALICE.user);
  await page.fill("#password", ALICE.password);
  await page.fill("#mfa_code", totp(ALICE.secret, offset));
  await page.click("#signin");
}

test("device code: sign in with MFA, confirm the code, allow", async () => {
  const reg = await json(idc.url, "/client/register", { clientName: "botocore-client-default", clientType: "public" });
  const auth = await json(idc.url, "/device_authorization", { clientId: reg.body.clientId, clientSecret: reg.body.clientSecret, startUrl: "https://d-1234567890.awsapps.com/start" });
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await page.goto(auth.body.verificationUriComplete);
  await page.screenshot({ path: join(shots, "01-sign-in.png"), fullPage: true });
  await signIn(page, -1);
  assert.equal(await page.inputValue("#user_code"), auth.body.userCode, "the code is pre-filled");
  await page.screenshot({ path: join(shots, "02-device-code.png"), fullPage: true });
  await page.click("#confirm");
  assert.match(await page.textContent("main"), /Allow botocore-client-default to access your data\?/);
  assert.equal(await page.textContent("#code"), auth.body.userCode);
  await page.screenshot({ path: join(shots, "03-device-consent.png"), fullPage: true });
  await page.click("#allow");
  assert.match(await page.textContent("#result"), /Request approved/);
  await page.screenshot({ path: join(shots, "04-device-approved.png"), fullPage: true });
  const token = await json(idc.url, "/token", { clientId: reg.body.clientId, clientSecret: reg.body.clientSecret, grantType: "urn:ietf:params:oauth:grant-type:device_code", deviceCode: auth.body.deviceCode });
  assert.equal(token.status, 200, JSON.stringify(token.body));
  assert.ok(token.body.accessToken);
  await ctx.close();
});

test("PKCE: consent, then the redirect lands on a loopback listener", async () => {
  let resolveHit;
  const hit = new Promise((r) => (resolveHit = r));
  const listener = createServer((req, res) => { res.end("ok"); resolveHit(new URL(req.url, "http://127.0.0.1")); });
  await new Promise((r) => listener.listen(0, "127.0.0.1", r));
  const port = listener.address().port;
  const reg = await json(idc.url, "/client/register", { clientName: "botocore-client-corp", clientType: "public", grantTypes: ["authorization_code", "refresh_token"], redirectUris: ["http://127.0.0.1/oauth/callback"], scopes: ["sso:account:access"] });
  const redirect = `http://127.0.0.1:${port}/oauth/callback`;
  const url = `${idc.url}/authorize?response_type=code&client_id=${reg.body.clientId}&redirect_uri=${encodeURIComponent(redirect)}&state=st-42&code_challenge_method=S256&scopes=sso%3Aaccount%3Aaccess&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM`;
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await page.goto(url);
  await signIn(page, 0);
  assert.match(await page.textContent("main"), /Allow botocore-client-corp to access your data\?/);
  await page.screenshot({ path: join(shots, "05-pkce-consent.png"), fullPage: true });
  await page.click("#allow");
  const landed = await hit;
  assert.equal(landed.pathname, "/oauth/callback");
  assert.equal(landed.searchParams.get("state"), "st-42");
  const token = await json(idc.url, "/token", { clientId: reg.body.clientId, clientSecret: reg.body.clientSecret, grantType: "authorization_code", code: landed.searchParams.get("code"), codeVerifier: "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk", redirectUri: redirect });
  assert.equal(token.status, 200, JSON.stringify(token.body));
  assert.ok(token.body.refreshToken);
  listener.close();
  await ctx.close();
});

test("access portal: credentials from the dialog work with STS", async () => {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await page.goto(`${idc.url}/start`);
  await signIn(page, 1);
  assert.match(await page.textContent("#start-url"), /d-1234567890\.awsapps\.com\/start/);
  await page.screenshot({ path: join(shots, "06-portal.png"), fullPage: true });
  await page.click("a.creds >> nth=0");
  const text = await page.textContent("#unix");
  await page.screenshot({ path: join(shots, "07-programmatic-access.png"), fullPage: true });
  const get = (k) => text.match(new RegExp(`export ${k}="([^"]+)"`))[1];
  const out = execFileSync(tobiraBin, ["whoami", "--json"], {
    env: { PATH: process.env.PATH, HOME: idc.dir, AWS_ACCESS_KEY_ID: get("AWS_ACCESS_KEY_ID"), AWS_SECRET_ACCESS_KEY: get("AWS_SECRET_ACCESS_KEY"), AWS_SESSION_TOKEN: get("AWS_SESSION_TOKEN"), AWS_ENDPOINT_URL_STS: idc.url, AWS_EC2_METADATA_DISABLED: "true" },
  }).toString();
  assert.match(JSON.parse(out).arn, /:assumed-role\/AWSReservedSSO_ReadOnly_[0-9a-f]+\/alice$/);
  await ctx.close();
});

test("MFA enrolment from the QR page, and markup in a name stays text", async () => {
  // A directory where carol has a password, no device, and a hostile display name.
  const toml = execFileSync(idcBin, ["demo-directory"]).toString()
    .replace('display_name = "Carol Invited"', 'display_name = "<script>alert(1)</script>"\npassword = "carol password"');
  const dir = mkdtempSync(join(tmpdir(), "tobira-browser-dir-"));
  writeFileSync(join(dir, "dir.toml"), toml);
  const other = await startIdc(["--directory", join(dir, "dir.toml")]);
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  let dialogs = 0;
  page.on("dialog", async (d) => { dialogs++; await d.dismiss(); });
  await page.goto(`${other.url}/signin?next=/start`);
  await page.fill("#username", "carol");
  await page.fill("#password", "carol password");
  await page.click("#signin");
  assert.ok(await page.isVisible("#qr svg"), "the QR code is drawn");
  await page.screenshot({ path: join(shots, "08-mfa-enrolment.png"), fullPage: true });
  const secret = (await page.textContent("#secret")).trim();
  await page.fill("#mfa_code", totp(secret));
  await page.click("#enrol");
  assert.match(await page.textContent("main"), /Signed in as/);
  // The admin view lists carol's display name as text, never as markup.
  await page.goto(`${other.url}/admin`);
  await page.screenshot({ path: join(shots, "09-admin-sign-in.png"), fullPage: true });
  await page.fill("#token", other.token);
  await page.click("#admin-signin");
  assert.match(await page.textContent("main"), /<script>alert\(1\)<\/script>/, "shown as text");
  assert.equal(dialogs, 0, "no script ran");
  await page.screenshot({ path: join(shots, "10-admin.png"), fullPage: true });
  await ctx.close();
  other.child.kill();
});

test("admin forms at 390 px: add a user, hand over the invitation, first sign-in with MFA enrolment; raise a session duration", async () => {
  const ctx = await browser.newContext({ viewport: { width: 390, height: 844 } });
  const page = await ctx.newPage();
  await page.goto(`${idc.url}/admin`);
  await page.fill("#token", idc.token);
  await page.click("#admin-signin");
  // Seed 002: add a user; the page gives the invitation link to hand over.
  await page.fill("#new-user", "dave");
  await page.fill("#new-display-name", "Dave Example");
  await page.fill("#new-email", "dave@example.com");
  await page.fill("#new-groups", "engineers");
  await page.click("#add-user");
  const link = (await page.textContent("#invitation")).trim();
  assert.match(link, new RegExp(`^${idc.url}/invite/[A-Za-z0-9_-]{20,}$`));
  await page.screenshot({ path: join(shots, "11-admin-user-added.png"), fullPage: true });
  // Seed 002: ReadOnly's session duration from 1 h to 8 h.
  await page.fill("input[aria-label='Session duration of ReadOnly in hours']", "8");
  await page.click("form[action='/admin/session-duration']:has(input[value='ReadOnly']) button");
  assert.match(await page.textContent("#notice"), /ReadOnly now lasts 8 hour\(s\)/);
  // Dave, in his own browser, opens the link and chooses a password.
  const dave = await browser.newContext({ viewport: { width: 390, height: 844 } });
  const dp = await dave.newPage();
  await dp.goto(link);
  await dp.screenshot({ path: join(shots, "12-invitation.png"), fullPage: true });
  const overflow = await dp.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
  assert.equal(overflow, false, "the page fits a 390 px screen");
  await dp.fill("#new_password", "dave's long password");
  await dp.fill("#confirm_password", "dave's long password");
  await dp.click("#set-password");
  // The demo instance requires MFA: enrolment, then the access portal.
  const secret = (await dp.textContent("#secret")).trim();
  await dp.fill("#mfa_code", totp(secret));
  await dp.click("#enrol");
  assert.match(await dp.textContent("main"), /Signed in as dave/);
  assert.match(await dp.textContent("main"), /Production/, "the engineers' account");
  await dp.screenshot({ path: join(shots, "13-portal-first-sign-in.png"), fullPage: true });
  // The link works once.
  const again = await dp.goto(link);
  assert.equal(again.status(), 410);
  await dave.close();
  await ctx.close();
});

// Seed 002 through the AWS admin APIs: boto3 (the repo's pinned venv) creates
// a user and an 8-hour permission set assigned to them; the user accepts the
// invitation in Chromium, then signs in with `tobira configure sso` (PKCE,
// consent in Chromium, the redirect lands on tobira's own listener).
const ADMIN_PY = `
import json, sys, boto3
ia = None
s = boto3.Session(aws_access_key_id="AKIAIOSFODNN7EXAMPLE",
                  aws_secret_access_key="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", region_name="us-east-1")
sa, ids = s.client("sso-admin"), s.client("identitystore")
inst = sa.list_instances()["Instances"][0]
ia, store = inst["InstanceArn"], inst["IdentityStoreId"]
if sys.argv[1] == "setup":
    uid = ids.create_user(IdentityStoreId=store, UserName="frank", DisplayName="Frank Example",
                          Name={"GivenName": "Frank", "FamilyName": "Example"},
                          Emails=[{"Value": "frank@example.com", "Primary": True}])["UserId"]
    ps = sa.create_permission_set(InstanceArn=ia, Name="Deploy", SessionDuration="PT8H")["PermissionSet"]["PermissionSetArn"]
    sa.attach_managed_policy_to_permission_set(InstanceArn=ia, PermissionSetArn=ps,
                                               ManagedPolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
    sa.provision_permission_set(InstanceArn=ia, PermissionSetArn=ps, TargetType="ALL_PROVISIONED_ACCOUNTS")
    sa.create_account_assignment(InstanceArn=ia, TargetId="222222222222", TargetType="AWS_ACCOUNT",
                                 PermissionSetArn=ps, PrincipalType="USER", PrincipalId=uid)
    print(json.dumps({"uid": uid, "ps": ps}))
else:
    a = json.loads(sys.argv[2])
    sa.delete_account_assignment(InstanceArn=ia, TargetId="222222222222", TargetType="AWS_ACCOUNT",
                                 PermissionSetArn=a["ps"], PrincipalType="USER", PrincipalId=a["uid"])
    print("{}")
`;

test("managed like AWS: boto3 adds a user and an 8-hour assignment; they accept the invitation and sign in with tobira (PKCE)", async () => {
  const server = await startIdc();
  const env = { PATH: process.env.PATH, HOME: server.dir, AWS_CONFIG_FILE: join(server.dir, "aws", "config"),
    AWS_SHARED_CREDENTIALS_FILE: join(server.dir, "aws", "credentials"), AWS_EC2_METADATA_DISABLED: "true",
    AWS_ENDPOINT_URL_SSO_ADMIN: server.url, AWS_ENDPOINT_URL_IDENTITYSTORE: server.url,
    AWS_ENDPOINT_URL_SSO_OIDC: server.url, AWS_ENDPOINT_URL_SSO: server.url, AWS_ENDPOINT_URL_STS: server.url };
  const py = join(repo, ".venv", "bin", "python");
  const made = execFileSync(py, ["-c", ADMIN_PY, "setup"], { env }).toString();
  const ids = JSON.parse(made);
  // The administrator hands over an invitation link (the admin API; the admin page does the same).
  const inv = await fetch(`${server.url}/admin/api/invitations`, { method: "POST",
    headers: { authorization: `Bearer ${server.token}`, "content-type": "application/json" }, body: JSON.stringify({ user: "frank" }) });
  const link = (await inv.json()).url;
  const ctx = await browser.newContext({ viewport: { width: 390, height: 844 } });
  const page = await ctx.newPage();
  await page.goto(link);
  await page.fill("#new_password", "frank's long password");
  await page.fill("#confirm_password", "frank's long password");
  await page.click("#set-password");
  const secret = (await page.textContent("#secret")).trim();
  await page.fill("#mfa_code", totp(secret, -1));
  await page.click("#enrol");
  assert.match(await page.textContent("main"), /Signed in as frank/);
  assert.match(await page.textContent("main"), /Development/, "the assigned account is in the portal");
  await page.screenshot({ path: join(shots, "14-api-user-portal.png"), fullPage: true });

  // tobira configure sso, PKCE: it prints the URL; the browser (already signed in) consents.
  const child = spawn(tobiraBin, ["configure", "sso", "--sso-session", "corp", "--start-url", "https://d-1234567890.awsapps.com/start",
    "--sso-region", "us-east-1", "--scopes", "sso:account:access", "--account", "222222222222", "--role", "Deploy",
    "--default-region", "us-east-1", "--output", "json", "--profile-name", "deploy", "--no-browser"],
    { env, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "", stderr = "";
  child.stderr.on("data", (d) => (stderr += d));
  const url = await new Promise((resolve, reject) => {
    child.stdout.on("data", (d) => {
      stdout += d;
      const m = stdout.match(/^(http:\/\/127\.0\.0\.1:\d+\/authorize\?\S+)$/m);
      if (m) resolve(m[1]);
    });
    child.on("exit", (code) => reject(new Error(`tobira exited ${code}: ${stdout}${stderr}`)));
  });
  await page.goto(url);
  if (await page.isVisible("#username")) {
    await page.fill("#username", "frank");
    await page.fill("#password", "frank's long password");
    await page.fill("#mfa_code", totp(secret, 0));
    await page.click("#signin");
  }
  assert.match(await page.textContent("main"), /Allow tobira-corp to access your data\?/);
  await page.screenshot({ path: join(shots, "15-tobira-pkce-consent.png"), fullPage: true });
  await page.click("#allow");
  const code = await new Promise((resolve) => child.on("exit", resolve));
  assert.equal(code, 0, stdout + stderr);
  const creds = JSON.parse(execFileSync(tobiraBin, ["credential-process", "--profile", "deploy"], { env }).toString());
  const hours = (Date.parse(creds.Expiration) - Date.now()) / 3600e3;
  assert.ok(hours > 7.9 && hours <= 8, `role credentials last ${hours} h, not 8`);
  const who = JSON.parse(execFileSync(tobiraBin, ["whoami", "--json", "--profile", "deploy"], { env }).toString());
  assert.match(who.arn, /^arn:aws:sts::222222222222:assumed-role\/AWSReservedSSO_Deploy_[0-9a-f]{16}\/frank$/);

  // Deleting the assignment through the API takes the role away at once.
  const rolesBefore = execFileSync(tobiraBin, ["sso", "roles", "--profile", "deploy", "--json"], { env }).toString();
  assert.match(rolesBefore, /"Deploy"/);
  execFileSync(py, ["-c", ADMIN_PY, "delete", made], { env });
  const rolesAfter = execFileSync(tobiraBin, ["sso", "roles", "--profile", "deploy", "--json"], { env }).toString();
  assert.doesNotMatch(rolesAfter, /"Deploy"/);

  // Seed 004: the administrator deletes frank's sessions on his page (after a
  // confirmation); tobira then says to sign in again.
  const admin = await browser.newContext({ viewport: { width: 390, height: 844 } });
  const ap = await admin.newPage();
  await ap.goto(`${server.url}/admin`);
  await ap.fill("#token", server.token);
  await ap.click("#admin-signin");
  await ap.goto(`${server.url}/admin/users/frank`);
  await ap.click("form[action='/admin/revoke'] button");
  assert.match(await ap.textContent("main"), /End [1-9]\d* active session\(s\) of frank\?/);
  await ap.screenshot({ path: join(shots, "16-delete-sessions-confirm.png"), fullPage: true });
  await ap.click("#confirm");
  assert.match(await ap.textContent("#notice"), /Ended [1-9]\d* active session\(s\) of frank/);
  await ap.screenshot({ path: join(shots, "17-sessions-deleted.png"), fullPage: true });
  const denied = spawnSync(tobiraBin, ["whoami", "--profile", "deploy"], { env });
  assert.equal(denied.status, 7, denied.stderr.toString());
  assert.match(denied.stderr.toString(), /sign in again with `tobira login --sso-session corp`/);
  await admin.close();
  await ctx.close();
  server.child.kill();
});

// `tobira login --console` (aws login): the sign-in page of AWS Sign-In in
// Chromium, IAM user bob with his password and MFA code; the redirect lands
// on tobira's loopback listener and the credentials work as bob.
test("console sign-in: tobira login --console through the Sign-In page in a browser", async () => {
  const server = await startIdc();
  const env = { PATH: process.env.PATH, HOME: server.dir, AWS_EC2_METADATA_DISABLED: "true",
    AWS_ENDPOINT_URL_SIGNIN: server.url, AWS_ENDPOINT_URL_STS: server.url };
  const child = spawn(tobiraBin, ["login", "--console", "--profile", "dev", "--region", "us-east-1", "--no-browser"],
    { env, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "", stderr = "";
  child.stderr.on("data", (d) => (stderr += d));
  const url = await new Promise((resolve, reject) => {
    child.stdout.on("data", (d) => {
      stdout += d;
      const m = stdout.match(/^(http:\/\/127\.0\.0\.1:\d+\/v1\/authorize\?\S+)$/m);
      if (m) resolve(m[1]);
    });
    child.on("exit", (code) => reject(new Error(`tobira exited ${code}: ${stdout}${stderr}`)));
  });
  const exited = new Promise((resolve) => child.on("exit", resolve));
  const ctx = await browser.newContext({ viewport: { width: 390, height: 844 } });
  const page = await ctx.newPage();
  await page.goto(url);
  await page.screenshot({ path: join(shots, "19-tobira-login-console.png"), fullPage: true });
  await page.fill("#account", "123456789012");
  await page.fill("#user", "bob");
  await page.fill("#password", "correct horse battery staple");
  await page.fill("#mfa_code", totp("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", 0));
  await page.click("#signin");
  assert.match(await page.textContent("body"), /tobira received your sign-in/);
  await page.screenshot({ path: join(shots, "20-tobira-login-console-done.png"), fullPage: true });
  assert.equal(await exited, 0, stdout + stderr);
  assert.match(stdout, /Updated profile dev to use arn:aws:iam::123456789012:user\/bob credentials\./);
  const who = JSON.parse(execFileSync(tobiraBin, ["whoami", "--json", "--profile", "dev"], { env }).toString());
  assert.equal(who.arn, "arn:aws:iam::123456789012:user/bob");
  await ctx.close();
  server.child.kill();
});

// aws login's Sign-In service: the console sign-in page in Chromium (bob, an
// IAM user with a console password and MFA), the redirect to a loopback
// listener, and the token exchange with a DPoP proof made as the AWS SDKs make
// it (node:crypto, P-256, raw r||s).
test("aws login: console sign-in page, loopback redirect, DPoP token exchange, credentials STS accepts", async () => {
  const { generateKeyPairSync, createHash, sign, randomUUID } = await import("node:crypto");
  const b64u = (b) => Buffer.from(b).toString("base64url");
  const verifier = "a".repeat(20) + randomUUID().replace(/-/g, "") + "b".repeat(12);
  const challenge = b64u(createHash("sha256").update(verifier).digest());
  let resolveHit;
  const hit = new Promise((r) => (resolveHit = r));
  const listener = createServer((req, res) => { res.end("signed in"); resolveHit(new URL(req.url, "http://127.0.0.1")); });
  await new Promise((r) => listener.listen(0, "127.0.0.1", r));
  const redirect = `http://127.0.0.1:${listener.address().port}/oauth/callback`;
  const q = new URLSearchParams({ response_type: "code", client_id: "arn:aws:signin:::devtools/same-device", state: "st-login",
    code_challenge_method: "SHA-256", scope: "openid", redirect_uri: redirect, code_challenge: challenge });
  const ctx = await browser.newContext({ viewport: { width: 390, height: 844 } });
  const page = await ctx.newPage();
  await page.goto(`${idc.url}/v1/authorize?${q}`);
  await page.screenshot({ path: join(shots, "18-aws-login-sign-in.png"), fullPage: true });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
  assert.equal(overflow, false, "the page fits a 390 px screen");
  await page.fill("#account", "123456789012");
  await page.fill("#user", "bob");
  await page.fill("#password", "correct horse battery staple");
  await page.click("#signin");
  assert.match(await page.textContent("#error"), /This user has an MFA device/);
  assert.equal(await page.inputValue("#user"), "bob", "what was typed is kept (but not the password)");
  assert.equal(await page.inputValue("#password"), "");
  await page.fill("#password", "correct horse battery staple");
  await page.fill("#mfa_code", totp("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", 0));
  await page.click("#signin");
  const landed = await Promise.race([hit, new Promise((_, reject) => setTimeout(() => reject(new Error("no redirect to the loopback listener within 10 s")), 10000))]);
  assert.equal(landed.searchParams.get("state"), "st-login");
  const code = landed.searchParams.get("code");
  listener.close();

  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const jwk = publicKey.export({ format: "jwk" });
  const proof = (htu) => {
    const header = b64u(JSON.stringify({ alg: "ES256", typ: "dpop+jwt", jwk: { kty: "EC", crv: "P-256", x: jwk.x, y: jwk.y } }));
    const payload = b64u(JSON.stringify({ jti: randomUUID(), htm: "POST", htu, iat: Math.floor(Date.now() / 1000) }));
    const sig = sign("sha256", Buffer.from(`${header}.${payload}`), { key: privateKey, dsaEncoding: "ieee-p1363" });
    return `${header}.${payload}.${b64u(sig)}`;
  };
  const exchange = (body, dpop) => fetch(`${idc.url}/v1/token`, { method: "POST",
    headers: { "content-type": "application/json", dpop }, body: JSON.stringify(body) });
  const body = { clientId: "arn:aws:signin:::devtools/same-device", grantType: "authorization_code", code, codeVerifier: verifier, redirectUri: redirect };
  const refused = await exchange(body, proof("http://evil.example/v1/token"));
  assert.equal(refused.status, 400, "a proof for another URL");
  const r = await exchange(body, proof(`${idc.url}/v1/token`));
  const out = await r.json();
  assert.equal(r.status, 200, JSON.stringify(out));
  const sub = JSON.parse(Buffer.from(out.idToken.split(".")[1], "base64url").toString()).sub;
  assert.equal(sub, "arn:aws:iam::123456789012:user/bob");
  const who = JSON.parse(execFileSync(tobiraBin, ["whoami", "--json"], {
    env: { PATH: process.env.PATH, HOME: idc.dir, AWS_ACCESS_KEY_ID: out.accessToken.accessKeyId,
      AWS_SECRET_ACCESS_KEY: out.accessToken.secretAccessKey, AWS_SESSION_TOKEN: out.accessToken.sessionToken,
      AWS_ENDPOINT_URL_STS: idc.url, AWS_EC2_METADATA_DISABLED: "true" },
  }).toString());
  assert.equal(who.arn, "arn:aws:iam::123456789012:user/bob");
  await ctx.close();
});

// `tobira console --print`: alice's SSO role session becomes a sign-in URL
// from the federation endpoint; Chromium opens it, lands on the console page
// with the right account and role, and the URL does not sign in twice.
test("tobira console --print: the sign-in URL lands on the console page as the profile's role", async () => {
  const server = await startIdc(["--auto-approve", "alice"]);
  mkdirSync(join(server.dir, ".aws"), { recursive: true });
  writeFileSync(join(server.dir, ".aws", "config"), [
    "[profile dev]", "sso_session = corp", "sso_account_id = 222222222222", "sso_role_name = FullAccess", "region = eu-west-1",
    "[sso-session corp]", "sso_start_url = https://d-1234567890.awsapps.com/start", "sso_region = us-east-1",
    "sso_registration_scopes = sso:account:access", ""].join("\n"));
  const env = { PATH: process.env.PATH, HOME: server.dir, AWS_EC2_METADATA_DISABLED: "true", AWS_ENDPOINT_URL: server.url };
  execFileSync(tobiraBin, ["login", "--sso-session", "corp", "--use-device-code", "--no-browser"], { env });
  const url = execFileSync(tobiraBin, ["console", "--profile", "dev", "--print"], { env }).toString().trim();
  assert.ok(url.startsWith(`${server.url}/federation?Action=login&`), url);
  const ctx = await browser.newContext({ viewport: { width: 390, height: 844 } });
  const page = await ctx.newPage();
  await page.goto(url);
  assert.equal(new URL(page.url()).pathname, "/console");
  assert.equal((await page.textContent("#account")).trim(), "222222222222");
  assert.match(await page.textContent("#role"), /^AWSReservedSSO_FullAccess_[0-9a-f]{16}$/);
  assert.match(await page.textContent("#arn"), /assumed-role\/AWSReservedSSO_FullAccess_[0-9a-f]{16}\/alice$/);
  assert.match(await page.textContent("#destination"), /^https:\/\/eu-west-1\.console\.aws\.amazon\.com\/console\/home\?region=eu-west-1$/);
  await page.screenshot({ path: join(shots, "23-tobira-console-landing.png"), fullPage: true });
  const again = await page.goto(url);
  assert.equal(again.status(), 400);
  assert.match(await page.textContent("body"), /already used/);
  await ctx.close();
  server.child.kill();
});
