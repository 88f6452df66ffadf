//! Console sign-ins (`aws login`, `login_session` profiles) as users run
//! them, against a real tobira-idc on 127.0.0.1:0: `tobira login --console`
//! through the sign-in page (the test plays the browser over HTTP), the
//! cache file as the AWS CLI writes it, `whoami` / `export` /
//! `credential-process` / `exec` with refreshes, role chaining, `sessions`,
//! `profiles`, `profile show`, `logout`, `--remote`, and every error text;
//! and the other tools that share the file: the AWS CLI's own file,
//! botocore (with awscrt) and the AWS SDK for JavaScript v3.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)] // tests read the clock to build cache fixtures

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Stdio};

use jiff::{SignedDuration, Timestamp};
use serde_json::Value;
use tobira_cache::login::{LoginCache, LoginToken, login_file_name};
use tobira_idc::Settings;
use tobira_test_support::{BOB_ARN, IdcServer, Run, TestEnv, run, sign_in_as_bob, verification_code};

const TOBIRA: &str = env!("CARGO_BIN_EXE_tobira");
/// sha256(BOB_ARN) + ".json": where every AWS tool looks for bob's sign-in.
const BOB_FILE: &str = "420568f589bc20e39cdb190b21ad1c5957b37978d392ae62e6d8b86e5e5f2456.json";

fn tobira(t: &TestEnv, args: &[&str]) -> Run {
    let mut cmd = t.command(TOBIRA);
    cmd.args(args);
    run(cmd)
}

fn env_for(s: &IdcServer) -> TestEnv {
    let mut t = TestEnv::new();
    t.env("AWS_ENDPOINT_URL", &s.url);
    t
}

/// A `$BROWSER` that only records the URL it was asked to open.
fn recording_browser(t: &mut TestEnv) {
    let script = t.home().join("browser");
    std::fs::write(&script, "#!/bin/sh\nprintf '%s' \"$1\" > \"$HOME/opened-url\"\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    t.env("BROWSER", script.to_str().unwrap());
}

/// Starts `tobira ARGS` with piped stdin/stdout, reads stdout up to the
/// authorize URL and returns it with what came before it. The caller
/// waits for the child ([`finish`]).
#[allow(clippy::zombie_processes)]
fn start(t: &TestEnv, args: &[&str]) -> (Child, BufReader<std::process::ChildStdout>, String, String) {
    let mut cmd = t.command(TOBIRA);
    cmd.args(args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut before = String::new();
    loop {
        let mut line = String::new();
        if out.read_line(&mut line).unwrap() == 0 {
            let status = child.wait().unwrap();
            panic!("tobira ended ({status}) before printing a URL: {before}");
        }
        if line.contains("/v1/authorize?") {
            return (child, out, before, line.trim().to_string());
        }
        before.push_str(&line);
    }
}

fn finish(mut child: Child, mut out: BufReader<std::process::ChildStdout>) -> Run {
    let mut rest = String::new();
    out.read_to_string(&mut rest).unwrap();
    let mut err = String::new();
    child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    Run { code: child.wait().unwrap().code(), stdout: rest, stderr: err }
}

/// `tobira login --console ARGS`, signing in as bob in the "browser".
async fn console_login(s: &IdcServer, t: &TestEnv, args: &[&str], mfa: i64) -> Run {
    let (child, out, _, url) = start(t, args);
    sign_in_as_bob(&s.idc, &url, mfa).await.unwrap();
    finish(child, out)
}

fn cache(t: &TestEnv) -> LoginCache {
    LoginCache::in_home(t.home())
}

/// Moves the cached credentials' expiry (as if time had passed).
fn expire_in(t: &TestEnv, d: SignedDuration) -> LoginToken {
    let c = cache(t);
    let tok = c.read(BOB_ARN).unwrap().unwrap();
    let at = Timestamp::from_second(Timestamp::now().as_second() + d.as_secs()).unwrap();
    let moved = LoginToken { expires_at: at, ..tok };
    c.write(BOB_ARN, &moved).unwrap();
    moved
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sign_in_use_refresh_and_sign_out() {
    assert_eq!(login_file_name(BOB_ARN), BOB_FILE);
    let s = IdcServer::start(Settings::default()).await;
    let mut t = env_for(&s);
    recording_browser(&mut t);
    t.write_config("[default]\noutput = json\n");
    let (child, out, before, url) = start(&t, &["login", "--console", "--profile", "dev", "--region", "eu-central-1"]);
    assert_eq!(
        before,
        "Attempting to open your default browser. If the browser does not open, open the following URL.\nIf you are unable to open the URL on this device, run this command again with the '--remote' option.\n\n"
    );
    assert!(
        url.starts_with(&format!(
            "{}/v1/authorize?response_type=code&client_id=arn%3Aaws%3Asignin%3A%3A%3Adevtools%2Fsame-device&state=",
            s.url
        )),
        "{url}"
    );
    sign_in_as_bob(&s.idc, &url, 0).await.unwrap();
    let r = finish(child, out);
    assert_eq!(r.code, Some(0), "{r:?}");
    assert_eq!(
        r.stdout,
        "\n\nUpdated profile dev to use arn:aws:iam::123456789012:user/bob credentials.\nUse `--profile dev` to use them, e.g. `tobira whoami --profile dev` or `aws sts get-caller-identity --profile dev`.\n"
    );
    assert_eq!(std::fs::read_to_string(t.home().join("opened-url")).unwrap(), url, "the browser was given the URL");
    // The profile as `aws login` writes it (region: given with --region, the profile had none).
    assert_eq!(
        std::fs::read_to_string(t.config_path()).unwrap(),
        "[default]\noutput = json\n[profile dev]\nlogin_session = arn:aws:iam::123456789012:user/bob\nregion = eu-central-1\n"
    );
    // The cache file as the AWS CLI writes it: re-encoding it changes no byte.
    let path = t.aws_dir().join("login/cache").join(BOB_FILE);
    let bytes = std::fs::read(&path).unwrap();
    let tok = LoginToken::from_json(&bytes).unwrap();
    assert_eq!(tok.to_json().as_bytes(), bytes);
    let text = String::from_utf8(bytes).unwrap();
    assert!(text.starts_with(r#"{"accessToken": {"accessKeyId": "ASIA"#), "{text}");
    assert!(text.contains(r#""accountId": "123456789012", "expiresAt": ""#), "{text}");
    assert!(text.contains(
        r#""tokenType": "aws_sigv4", "clientId": "arn:aws:signin:::devtools/same-device", "refreshToken": ""#
    ));
    assert!(text.contains(r#""dpopKey": "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEI"#), "{text}");
    assert!(text.ends_with("-----END EC PRIVATE KEY-----\\n\"}"), "SEC1 with its newline, no newline after the JSON");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    assert_eq!(s.idc.count("CreateOAuth2Token"), 1);

    // The credentials work, as bob, without another call while fresh.
    let r = tobira(&t, &["whoami", "--profile", "dev", "--json"]);
    assert_eq!(r.code, Some(0), "{r:?}");
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!((v["arn"].as_str(), v["account"].as_str()), (Some(BOB_ARN), Some("123456789012")));
    assert_eq!(s.idc.count("CreateOAuth2Token"), 1);
    let r = tobira(&t, &["credential-process", "--profile", "dev"]);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["AccessKeyId"].as_str(), Some(tok.access_key_id.as_str()), "from the cache, no network");
    assert_eq!(v["AccountId"], "123456789012");

    // Four minutes left: refreshed with the sign-in's key; the new refresh token is stored.
    let before = expire_in(&t, SignedDuration::from_mins(4));
    let r = tobira(&t, &["whoami", "--profile", "dev"]);
    assert_eq!(r.code, Some(0), "{r:?}");
    assert!(r.stdout.contains(&format!("arn       {BOB_ARN}\n")), "{}", r.stdout);
    assert_eq!(s.idc.count("CreateOAuth2Token"), 2);
    let after = cache(&t).read(BOB_ARN).unwrap().unwrap();
    assert_ne!(after.access_key_id, before.access_key_id);
    assert_ne!(after.refresh_token, before.refresh_token);
    assert_eq!((&after.id_token, &after.dpop_key), (&before.id_token, &before.dpop_key));

    // Expired a minute ago: `export` refreshes (AWS_REGION from the profile).
    expire_in(&t, SignedDuration::from_mins(-1));
    let r = tobira(&t, &["export", "--profile", "dev"]);
    assert_eq!(r.code, Some(0), "{r:?}");
    assert!(r.stdout.contains("export AWS_SESSION_TOKEN=") && r.stdout.contains("export AWS_REGION=eu-central-1\n"));
    assert_eq!(s.idc.count("CreateOAuth2Token"), 3);
    let r = tobira(&t, &["exec", "--profile", "dev", "--", "sh", "-c", "printf %s \"$AWS_ACCESS_KEY_ID\""]);
    assert_eq!(r.stdout, cache(&t).read(BOB_ARN).unwrap().unwrap().access_key_id);

    // What the other commands show.
    let r = tobira(&t, &["profiles"]);
    assert!(
        r.stdout.contains("  dev      login  console sign-in (aws login) as arn:aws:iam::123456789012:user/bob\n"),
        "{}",
        r.stdout
    );
    let r = tobira(&t, &["sessions", "--json"]);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v[0]["kind"], "login");
    assert_eq!(v[0]["login_session"], BOB_ARN);
    assert_eq!(v[0]["profiles"], serde_json::json!(["dev"]));
    assert_eq!(v[0]["status"], "valid");
    assert_eq!(v[0]["renew"], "tobira login --profile dev");
    let r = tobira(&t, &["sessions"]);
    assert!(
        r.stdout.starts_with(&format!("login session {BOB_ARN}\n  profiles     dev\n  credentials  valid until ")),
        "{}",
        r.stdout
    );
    assert!(r.stdout.ends_with("  renew        `tobira login --profile dev`\n"), "{}", r.stdout);
    let r = tobira(&t, &["profile", "show", "dev"]);
    assert!(r.stdout.contains("provider  login"), "{}", r.stdout);
    assert!(r.stdout.contains("\nLogin session: credentials valid until "), "{}", r.stdout);
    assert!(r.stdout.contains(&format!("  ~/.aws/login/cache/{BOB_FILE}\n")), "{}", r.stdout);

    // Sign out: the file goes, the profile stays, and the next use says how to sign in.
    let r = tobira(&t, &["logout", "--profile", "dev"]);
    assert_eq!(r.code, Some(0), "{r:?}");
    assert_eq!(
        r.stdout,
        format!(
            "Removed the cached sign-in of profile `dev` ({BOB_ARN}) and 0 role credential file(s) cached from it.\nTools that already loaded its credentials can use them until they expire (at most 15 minutes).\n"
        )
    );
    assert!(!path.exists());
    assert!(std::fs::read_to_string(t.config_path()).unwrap().contains("login_session = "));
    let r = tobira(&t, &["whoami", "--profile", "dev"]);
    assert_eq!(r.code, Some(7), "{r:?}");
    assert_eq!(
        r.stderr,
        format!(
            "error: there is no cached sign-in for login session `{BOB_ARN}` ({} does not exist)\n\nhint: sign in with `tobira login --profile dev`\n",
            path.display()
        )
    );
    let r = tobira(&t, &["credential-process", "--profile", "dev"]);
    assert_eq!(r.code, Some(7));
    assert!(
        r.stderr.starts_with("tobira: there is no cached sign-in for login session ")
            && r.stderr.ends_with("(sign in with `tobira login --profile dev`)\n"),
        "{}",
        r.stderr
    );
    let r = tobira(&t, &["logout", "--profile", "dev"]);
    assert_eq!(r.stdout, format!("Profile `dev` ({BOB_ARN}) is not signed in; nothing to remove.\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn signing_in_again_role_chaining_and_revocation() {
    let s = IdcServer::start(Settings::default()).await;
    let mut t = env_for(&s);
    recording_browser(&mut t);
    t.write_config(
        "[profile dev]\nlogin_session = arn:aws:iam::123456789012:user/bob\nregion = us-east-1\n[profile audit]\nrole_arn = arn:aws:iam::123456789012:role/Audit\nsource_profile = dev\nexternal_id = audit-ext-1\n",
    );
    // The profile already uses login_session: plain `tobira login` signs in with the console.
    let r = console_login(&s, &t, &["login", "--profile", "dev"], 0).await;
    assert_eq!(r.code, Some(0), "{r:?}");
    assert!(r.stdout.ends_with("\nUpdated profile dev to use arn:aws:iam::123456789012:user/bob credentials.\nUse `--profile dev` to use them, e.g. `tobira whoami --profile dev` or `aws sts get-caller-identity --profile dev`.\n"), "{}", r.stdout);
    assert!(
        !std::fs::read_to_string(t.config_path()).unwrap().contains("region = us-east-1\nregion"),
        "no second region"
    );

    // A role assumed with the console sign-in's credentials.
    let r = tobira(&t, &["whoami", "--profile", "audit", "--json"]);
    assert_eq!(r.code, Some(0), "{r:?}");
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert!(v["arn"].as_str().unwrap().starts_with("arn:aws:sts::123456789012:assumed-role/Audit/"), "{v}");
    let r = tobira(&t, &["profile", "show", "audit"]);
    assert!(
        r.stdout.contains("1. login (profile dev)") && r.stdout.contains("2. assume-role (profile audit)"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("\nLogin session: credentials valid until "), "{}", r.stdout);

    // An administrator ends the sign-in: the refused credentials are dropped,
    // the refresh is refused, and the message says to sign in again.
    assert!(s.idc.revoke_user_sessions(BOB_ARN).unwrap() >= 1);
    let r = tobira(&t, &["whoami", "--profile", "dev"]);
    assert_eq!(r.code, Some(7), "{r:?}");
    assert_eq!(
        r.stderr,
        "error: the console sign-in has ended: AWS Sign-In no longer refreshes its credentials (TOKEN_EXPIRED: The refresh token has expired.); a sign-in lasts at most 12 hours, and an administrator can end it sooner\n\nhint: sign in again with `tobira login --profile dev`\n"
    );
    let r = console_login(&s, &t, &["login", "--profile", "dev"], 1).await;
    assert_eq!(r.code, Some(0), "{r:?}");
    let r = tobira(&t, &["whoami", "--profile", "audit"]);
    assert_eq!(r.code, Some(0), "signed in again, the role works again: {r:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn remote_sign_in_with_a_pasted_code() {
    let s = IdcServer::start(Settings::default()).await;
    let t = env_for(&s);
    let (mut child, mut out, before, url) =
        start(&t, &["login", "--remote", "--profile", "dev", "--region", "us-east-1"]);
    assert_eq!(before, "Browser will not be automatically opened.\nPlease visit the following URL:\n\n");
    assert!(url.contains("client_id=arn%3Aaws%3Asignin%3A%3A%3Adevtools%2Fcross-device"), "{url}");
    let page = sign_in_as_bob(&s.idc, &url, 0).await.unwrap();
    let mut blank = String::new();
    out.read_line(&mut blank).unwrap();
    let mut prompt = [0u8; 56];
    out.read_exact(&mut prompt).unwrap();
    assert_eq!(std::str::from_utf8(&prompt).unwrap(), "Enter the authorization code displayed in your browser: ");
    writeln!(child.stdin.take().unwrap(), "{}", verification_code(&page)).unwrap();
    let r = finish(child, out);
    assert_eq!(r.code, Some(0), "{r:?}");
    assert!(
        r.stdout.contains("Updated profile dev to use arn:aws:iam::123456789012:user/bob credentials."),
        "{}",
        r.stdout
    );
    assert_eq!(cache(&t).read(BOB_ARN).unwrap().unwrap().client_id, "arn:aws:signin:::devtools/cross-device");
    let r = tobira(&t, &["whoami", "--profile", "dev"]);
    assert_eq!(r.code, Some(0), "{r:?}");

    // Pasted text that is not the code, or no text at all.
    for (paste, want) in [
        (
            "hello?\n",
            "error: Failed to decode the verification code: it is not the base64 text the confirmation page shows\n\nhint: start again with `tobira login --profile dev --remote` and paste the whole code the confirmation page shows\n",
        ),
        (
            "",
            "error: Failed to retrieve an authorization code.\n\nhint: start again with `tobira login --profile dev`\n",
        ),
    ] {
        let (mut child, out, _, _) = start(&t, &["login", "--remote", "--profile", "dev"]);
        child.stdin.take().unwrap().write_all(paste.as_bytes()).unwrap();
        let r = finish(child, out);
        assert_eq!((r.code, r.stderr.as_str()), (Some(7), want));
    }
    assert_eq!(s.idc.count("CreateOAuth2Token"), 1, "nothing redeemed for the bad pastes");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn refusals_and_errors_say_what_to_do() {
    let s = IdcServer::start(Settings::default()).await;
    let t = env_for(&s);
    t.write_config("[profile keys]\nregion = us-east-1\n[profile sso]\nsso_session = corp\nsso_account_id = 1\nsso_role_name = R\n[profile dev]\nlogin_session = arn:aws:iam::123456789012:user/bob\n");
    t.write_credentials("[keys]\naws_access_key_id = AKIDEXAMPLE\naws_secret_access_key = s\n");
    let r = tobira(&t, &["login", "--console", "--profile", "keys"]);
    assert_eq!(r.code, Some(5));
    assert_eq!(
        r.stderr,
        "error: profile `keys` is already configured with Access Key credentials (`aws_access_key_id` at ~/.aws/credentials:2), so a console sign-in cannot be added to it\n\nhint: sign in to a new profile instead: `tobira login --console --profile NEW-NAME`\n\nhint: or first remove the existing credentials from profile `keys`\n"
    );
    let r = tobira(&t, &["login", "--remote", "--profile", "sso"]);
    assert_eq!(r.code, Some(5));
    assert!(
        r.stderr.starts_with(
            "error: profile `sso` is already configured with SSO credentials (`sso_role_name` at ~/.aws/config:6)"
        ),
        "{}",
        r.stderr
    );
    // A profile that does not exist: the SSO answer, and how to create a console one.
    let r = tobira(&t, &["login", "--profile", "new"]);
    assert_eq!(r.code, Some(4));
    assert!(r.stderr.ends_with("hint: to sign in with your AWS console credentials instead (as `aws login` does), run `tobira login --console --profile new`\n"), "{}", r.stderr);
    // No region and no terminal to ask on.
    let r = tobira(&t, &["login", "--console", "--profile", "new"]);
    assert_eq!(r.code, Some(2));
    assert_eq!(
        r.stderr,
        "error: profile `new` has no region, AWS Sign-In's address depends on it, and tobira does not ask questions without a terminal\n\nhint: give it with `--region REGION` (e.g. `tobira login --console --profile new --region us-east-1`); tobira saves it in the profile\n"
    );
    let r = tobira(&t, &["login", "--profile", "dev", "--use-device-code"]);
    assert_eq!(r.code, Some(2));
    assert!(
        r.stderr.starts_with(
            "error: profile `dev` signs in with console credentials (`login_session`), which have no device code flow\n"
        ),
        "{}",
        r.stderr
    );
    let r = tobira(&t, &["login", "--console", "--sso-session", "corp"]);
    assert_eq!(r.code, Some(2), "clap refuses the combination");

    // A cache file without a refresh token.
    let path = t.aws_dir().join("login/cache").join(BOB_FILE);
    t.write(&path, r#"{"accessToken": {"accessKeyId": "A", "secretAccessKey": "S", "sessionToken": "T", "expiresAt": "2020-01-01T00:00:00Z"}, "clientId": "x", "dpopKey": "k"}"#);
    let r = tobira(&t, &["whoami", "--profile", "dev"]);
    assert_eq!(r.code, Some(7));
    assert_eq!(
        r.stderr,
        format!(
            "error: the cached sign-in for login session `{BOB_ARN}` cannot be used: {}: it has no usable `refreshToken`\n\nhint: sign in again with `tobira login --profile dev`; the new sign-in replaces the file\n",
            path.display()
        )
    );
    // A refresh token the service does not know (signed with a good key).
    let key = tobira_auth::dpop::DpopKey::generate().to_sec1_pem().unwrap();
    let bad = LoginToken {
        access_key_id: "ASIAEXAMPLE".into(),
        secret_access_key: tobira_config::Secret::new("s"),
        session_token: tobira_config::Secret::new("t"),
        account_id: Some("123456789012".into()),
        expires_at: Timestamp::from_second(Timestamp::now().as_second() - 60).unwrap(),
        token_type: "aws_sigv4".into(),
        client_id: "arn:aws:signin:::devtools/same-device".into(),
        refresh_token: tobira_config::Secret::new("not-a-refresh-token"),
        id_token: None,
        dpop_key: tobira_config::Secret::new(key),
        extra: serde_json::Map::new(),
    };
    cache(&t).write(BOB_ARN, &bad).unwrap();
    let r = tobira(&t, &["export", "--profile", "dev"]);
    assert_eq!(r.code, Some(7), "{r:?}");
    assert!(
        r.stderr.starts_with(
            "error: An error occurred (ValidationException) when calling the CreateOAuth2Token operation: "
        ),
        "{}",
        r.stderr
    );
    assert!(r.stderr.ends_with("hint: AWS Sign-In refused the cached refresh token (revoked, expired, or already used by another program); sign in again with `tobira login --profile dev`\n"), "{}", r.stderr);
    assert!(!r.stderr.contains("not-a-refresh-token") && !r.stderr.contains("PRIVATE KEY"), "no secret in errors");
    // Nothing listening at the configured Sign-In address.
    let mut nowhere = TestEnv::new();
    nowhere.write_config("[profile dev]\nlogin_session = arn:aws:iam::123456789012:user/bob\n");
    nowhere.env("AWS_ENDPOINT_URL_SIGNIN", "http://127.0.0.1:1");
    LoginCache::in_home(nowhere.home()).write(BOB_ARN, &bad).unwrap();
    let r = tobira(&nowhere, &["whoami", "--profile", "dev"]);
    assert_eq!(r.code, Some(9), "{r:?}");
    assert_eq!(
        r.stderr,
        "error: cannot reach the AWS Sign-In endpoint `http://127.0.0.1:1` (CreateOAuth2Token): the connection to 127.0.0.1:1 was refused (nothing is listening there)\n\nhint: the address comes from `AWS_ENDPOINT_URL_SIGNIN`\n\nhint: start the server it names, correct the address, or `unset AWS_ENDPOINT_URL_SIGNIN` to use AWS's own endpoint\n"
    );
    // No region and no endpoint: where the refresh would go is unknown.
    let mut no_region = TestEnv::new();
    no_region.write_config("[profile dev]\nlogin_session = arn:aws:iam::123456789012:user/bob\n");
    LoginCache::in_home(no_region.home()).write(BOB_ARN, &bad).unwrap();
    let r = tobira(&no_region, &["whoami", "--profile", "dev"]);
    assert_eq!(r.code, Some(5), "{r:?}");
    assert_eq!(
        r.stderr,
        "error: no region is configured, and AWS Sign-In's address depends on it\n\nhint: set one: `region = us-east-1` (your region) in profile `dev`, `export AWS_REGION=us-east-1`, or `--region us-east-1`; or point `AWS_ENDPOINT_URL_SIGNIN` at the service\n"
    );
    no_region.env("AWS_LOGIN_CACHE_DIRECTORY", "$HOME/elsewhere");
    let r = tobira(&no_region, &["whoami", "--profile", "dev"]);
    assert!(
        r.stderr.contains(&format!("{}/elsewhere/{BOB_FILE} does not exist", no_region.home().display())),
        "{}",
        r.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn logout_all_covers_login_sessions() {
    let s = IdcServer::start(Settings::default()).await;
    let t = env_for(&s);
    // No $BROWSER and no display: the URL is printed, and the sign-in still
    // comes back to the listener from a browser on this machine.
    let (child, out, before, url) = start(&t, &["login", "--console", "--profile", "dev", "--region", "us-east-1"]);
    assert_eq!(
        before,
        "Browser will not be automatically opened.\nOpen the following URL in a browser on this machine (the sign-in returns to tobira on 127.0.0.1).\nTo sign in from another device, run this command again with the '--remote' option.\n\n"
    );
    sign_in_as_bob(&s.idc, &url, 0).await.unwrap();
    let r = finish(child, out);
    assert_eq!(r.code, Some(0), "{r:?}");
    t.write(&t.aws_dir().join("login/cache/unrelated.json"), "{\"hello\": 1}");
    let r = tobira(&t, &["logout", "--all"]);
    assert_eq!(r.code, Some(0), "{r:?}");
    assert!(
        r.stdout.ends_with(
            "Removed 1 cached console sign-in(s) (login sessions) and 0 role credential file(s) cached from them.\n"
        ),
        "{}",
        r.stdout
    );
    assert!(!t.aws_dir().join("login/cache").join(BOB_FILE).exists());
    assert!(t.aws_dir().join("login/cache/unrelated.json").exists(), "other files stay");
}

/// The AWS CLI's key from docs/login-session.md (SEC1, as `aws login` writes it).
const CLI_KEY: &str = "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIGCiMX0QxDyMBi5KoUrIYosom8jJumHKvCN1jskeJrGcoAoGCCqGSM49\nAwEHoUQDQgAEr3areyPKBIGeeBNppWerMemaurVn3rob/mxOXg1fra7Q6jux3V3q\nAzNrCl8CzXIcVmRapssoIGAXaT+CdlSVSA==\n-----END EC PRIVATE KEY-----\n";

/// A DPoP proof made with `ring` directly, as the AWS CLI makes it (not
/// with tobira's code): the SEC1 key wrapped in PKCS#8 for ring.
fn cli_proof(htu: &str, iat: i64) -> String {
    use base64::Engine as _;
    use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD as B64};
    use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair as _};
    let b64: String = CLI_KEY.lines().filter(|l| !l.starts_with("-----")).collect();
    let sec1 = STANDARD.decode(b64).unwrap();
    let alg: &[u8] = &[
        0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d,
        0x03, 0x01, 0x07,
    ];
    let mut body = vec![0x02, 0x01, 0x00];
    body.extend_from_slice(alg);
    body.extend([0x04, sec1.len() as u8]);
    body.extend_from_slice(&sec1);
    let mut pkcs8 = vec![0x30, 0x81, body.len() as u8];
    pkcs8.extend(body);
    let rng = ring::rand::SystemRandom::new();
    let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &pkcs8, &rng).unwrap();
    let p = key.public_key().as_ref();
    let header = format!(
        r#"{{"typ":"dpop+jwt","alg":"ES256","jwk":{{"kty":"EC","x":"{}","y":"{}","crv":"P-256"}}}}"#,
        B64.encode(&p[1..33]),
        B64.encode(&p[33..])
    );
    let payload = format!(r#"{{"htm":"POST","htu":"{htu}","iat":{iat},"jti":"{}"}}"#, Timestamp::now().as_nanosecond());
    let input = format!("{}.{}", B64.encode(header), B64.encode(payload));
    format!("{input}.{}", B64.encode(key.sign(&rng, input.as_bytes()).unwrap().as_ref()))
}

/// The cache file exactly as the AWS CLI writes it (json.dumps, its key order).
fn cli_file(creds: &Value, expires_at: &str, refresh: &str, id_token: &str) -> String {
    let j = |v: &str| serde_json::to_string(v).unwrap();
    format!(
        r#"{{"accessToken": {{"accessKeyId": {}, "secretAccessKey": {}, "sessionToken": {}, "accountId": "123456789012", "expiresAt": "{expires_at}"}}, "tokenType": "aws_sigv4", "clientId": "arn:aws:signin:::devtools/cross-device", "refreshToken": {}, "idToken": {}, "dpopKey": {}}}"#,
        j(creds["accessKeyId"].as_str().unwrap()),
        j(creds["secretAccessKey"].as_str().unwrap()),
        j(creds["sessionToken"].as_str().unwrap()),
        j(refresh),
        j(id_token),
        j(CLI_KEY)
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_file_the_aws_cli_wrote_is_used_and_refreshed() {
    use base64::Engine as _;
    let s = IdcServer::start(Settings::default()).await;
    // The AWS CLI's sign-in, played by the test: --remote, its key, its proof.
    let verifier = "x".repeat(64);
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(<sha2::Sha256 as sha2::Digest>::digest(verifier.as_bytes()));
    let confirmation = format!("{}/v1/sessions/confirmation", s.url);
    let enc = |v: &str| v.replace(':', "%3A").replace('/', "%2F");
    let url = format!(
        "{}/v1/authorize?response_type=code&client_id={}&state=cli-state&code_challenge_method=SHA-256&scope=openid&redirect_uri={}&code_challenge={challenge}",
        s.url,
        enc("arn:aws:signin:::devtools/cross-device"),
        enc(&confirmation)
    );
    let page = sign_in_as_bob(&s.idc, &url, 0).await.unwrap();
    let pasted =
        String::from_utf8(base64::engine::general_purpose::STANDARD.decode(verification_code(&page)).unwrap()).unwrap();
    let code = pasted.split('&').find_map(|kv| kv.strip_prefix("code=")).unwrap();
    let body = serde_json::json!({"clientId": "arn:aws:signin:::devtools/cross-device", "grantType": "authorization_code",
        "code": code, "codeVerifier": verifier, "redirectUri": confirmation});
    let proof = cli_proof(&format!("{}/v1/token", s.url), s.idc.clock().now_s());
    let token_url = format!("{}/v1/token", s.url);
    let (status, _, text) = tobira_test_support::http_with(
        "POST",
        &token_url,
        &[("DPoP", &proof)],
        Some(("application/json", body.to_string())),
    )
    .await;
    assert_eq!(status, 200, "{text}");
    let answer: Value = serde_json::from_str(&text).unwrap();
    let id_token = answer["idToken"].as_str().unwrap();
    let refresh = answer["refreshToken"].as_str().unwrap();
    // Four minutes left, as the AWS CLI would have written it.
    let soon = tobira_cache::token::format_time(Timestamp::now() + SignedDuration::from_mins(4));
    let t = env_for(&s);
    t.write_config("[profile cli]\nlogin_session = arn:aws:iam::123456789012:user/bob\nregion = us-east-1\n");
    let path = t.aws_dir().join("login/cache").join(BOB_FILE);
    t.write(&path, &cli_file(&answer["accessToken"], &soon, refresh, id_token));

    let r = tobira(&t, &["whoami", "--profile", "cli"]);
    assert_eq!(r.code, Some(0), "{r:?}");
    assert_eq!(s.idc.count("CreateOAuth2Token"), 2, "tobira refreshed with the AWS CLI's key");
    // Rewritten as the AWS CLI writes it: only the credentials and the refresh token changed.
    let after = std::fs::read_to_string(&path).unwrap();
    let tok = LoginToken::from_json(after.as_bytes()).unwrap();
    let creds = serde_json::json!({"accessKeyId": tok.access_key_id, "secretAccessKey": tok.secret_access_key.expose(),
        "sessionToken": tok.session_token.expose()});
    assert_ne!(tok.access_key_id, answer["accessToken"]["accessKeyId"].as_str().unwrap());
    assert_ne!(tok.refresh_token.expose(), refresh);
    assert_eq!(
        after,
        cli_file(&creds, &tobira_cache::token::format_time(tok.expires_at), tok.refresh_token.expose(), id_token)
    );
}

/// Runs Python code with the repo's .venv (pinned botocore/boto3 with
/// awscrt, scripts/setup-python.sh); `None` when it is knowingly absent.
fn python(t: &TestEnv, code: &str) -> Option<Run> {
    #[allow(clippy::disallowed_methods)] // test switch
    let skip = std::env::var_os("TOBIRA_SKIP_INTEROP").is_some();
    let py = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/python");
    if !py.exists() {
        assert!(skip, "{} missing: run scripts/setup-python.sh (or set TOBIRA_SKIP_INTEROP=1)", py.display());
        return None;
    }
    let mut cmd = t.command(py);
    cmd.args(["-c", code]);
    Some(run(cmd))
}

const WHO: &str = "import boto3\nprint(boto3.Session(profile_name='dev').client('sts').get_caller_identity()['Arn'])";

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn botocore_uses_and_refreshes_tobiras_sign_in() {
    let s = IdcServer::start(Settings::default()).await;
    let t = env_for(&s);
    let r = console_login(&s, &t, &["login", "--console", "--profile", "dev", "--region", "us-east-1"], 0).await;
    assert_eq!(r.code, Some(0), "{r:?}");
    // botocore reads tobira's file as is: more than five minutes left, no call.
    let Some(r) = python(&t, WHO) else { return };
    assert_eq!((r.code, r.stdout.as_str()), (Some(0), "arn:aws:iam::123456789012:user/bob\n"), "{r:?}");
    assert_eq!(s.idc.count("CreateOAuth2Token"), 1);
    // Four minutes left: botocore refreshes with tobira's key and refresh token.
    let before = expire_in(&t, SignedDuration::from_mins(4));
    let r = python(&t, WHO).unwrap();
    assert_eq!((r.code, r.stdout.as_str()), (Some(0), "arn:aws:iam::123456789012:user/bob\n"), "{r:?}");
    assert_eq!(s.idc.count("CreateOAuth2Token"), 2, "botocore called CreateOAuth2Token");
    // botocore's file is the AWS CLI's format too: tobira re-encodes it to the same bytes.
    let bytes = std::fs::read(t.aws_dir().join("login/cache").join(BOB_FILE)).unwrap();
    let after = LoginToken::from_json(&bytes).unwrap();
    assert_eq!(after.to_json().as_bytes(), bytes, "{}", String::from_utf8_lossy(&bytes));
    assert_ne!(after.refresh_token, before.refresh_token, "botocore stored the rotated refresh token");
    assert_eq!((&after.dpop_key, &after.id_token), (&before.dpop_key, &before.id_token));
    // tobira uses botocore's fresh credentials as they are.
    let r = tobira(&t, &["whoami", "--profile", "dev"]);
    assert_eq!(r.code, Some(0), "{r:?}");
    assert_eq!(s.idc.count("CreateOAuth2Token"), 2);
    // And botocore refreshes after tobira did.
    expire_in(&t, SignedDuration::from_mins(-1));
    assert_eq!(tobira(&t, &["whoami", "--profile", "dev"]).code, Some(0));
    assert_eq!(s.idc.count("CreateOAuth2Token"), 3);
    expire_in(&t, SignedDuration::from_mins(2));
    let r = python(&t, WHO).unwrap();
    assert_eq!(r.code, Some(0), "{r:?}");
    assert_eq!(s.idc.count("CreateOAuth2Token"), 4, "botocore refreshed the token tobira rotated");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn another_principal_is_not_switched_to_without_a_yes() {
    let s = IdcServer::start(Settings::default()).await;
    let t = env_for(&s);
    let config = "[profile dev]\nlogin_session = arn:aws:iam::123456789012:user/carol\nregion = us-east-1\n";
    t.write_config(config);
    let r = console_login(&s, &t, &["login", "--profile", "dev"], 0).await;
    assert_eq!(r.code, Some(5), "{r:?}");
    assert_eq!(
        r.stderr,
        "error: profile `dev` uses login session `arn:aws:iam::123456789012:user/carol`, but you signed in as `arn:aws:iam::123456789012:user/bob`; nothing was written\n\nhint: run the command on a terminal to confirm the switch\n\nhint: or remove `login_session` from profile `dev` (~/.aws/config:2) and sign in again\n\nhint: or keep both: `tobira login --console --profile NEW-NAME`\n"
    );
    assert_eq!(std::fs::read_to_string(t.config_path()).unwrap(), config, "the profile is unchanged");
    assert!(!t.aws_dir().join("login/cache").join(BOB_FILE).exists(), "nothing cached");
}

/// tests/sdk-js with its pinned node_modules (`@aws-sdk/client-sts` and
/// `@aws-sdk/credential-provider-login`), or `None` when the interop tools
/// are knowingly absent (`TOBIRA_SKIP_INTEROP`), as in sdks.rs.
fn sdk_js() -> Option<std::path::PathBuf> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/sdk-js");
    let installed =
        ["client-sts", "credential-provider-login"].iter().all(|p| dir.join("node_modules/@aws-sdk").join(p).is_dir());
    #[allow(clippy::disallowed_methods)] // test switch
    if !installed && std::env::var_os("TOBIRA_SKIP_INTEROP").is_some() {
        return None;
    }
    assert!(installed, "{}/node_modules is missing: run scripts/test (it runs `npm ci` there)", dir.display());
    Some(dir)
}

/// `AWS_PROFILE=dev node tests/sdk-js/login-sts.mjs MODE`: one STS
/// GetCallerIdentity with the JS SDK (`chain`: the client's default chain;
/// `login`: `fromLoginCredentials`), the environment changed by `vars`
/// (`None` removes one). Returns the access key the request was signed with
/// and the credentials' expiry, after checking it was bob and the SDK
/// warned about nothing (it quietly keeps old credentials when a refresh
/// fails).
fn js_sts(t: &TestEnv, dir: &std::path::Path, mode: &str, vars: &[(&str, Option<&str>)]) -> (String, String) {
    let mut cmd = t.command("node");
    cmd.arg(dir.join("login-sts.mjs")).arg(mode).env("AWS_PROFILE", "dev");
    for (k, v) in vars {
        match v {
            Some(v) => cmd.env(k, v),
            None => cmd.env_remove(k),
        };
    }
    let r = run(cmd);
    assert_eq!(r.code, Some(0), "{r:?}");
    assert!(!r.stderr.contains("warn:") && !r.stderr.contains("error:"), "the JS SDK complained: {}", r.stderr);
    let v: Value = serde_json::from_str(r.stdout.trim()).unwrap_or_else(|e| panic!("{e}: {r:?}"));
    assert_eq!((&v["ok"], v["arn"].as_str()), (&Value::Bool(true), Some(BOB_ARN)), "{r:?}");
    (v["key"].as_str().unwrap().to_string(), v["expiration"].as_str().unwrap().to_string())
}

/// Sets `accessToken.expiresAt` in the file as its writer left it (the JS
/// SDK's indentation and milliseconds stay).
fn set_expiry_in_place(path: &std::path::Path, at: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    let start = text.find("\"expiresAt\": \"").unwrap() + "\"expiresAt\": \"".len();
    let end = start + text[start..].find('"').unwrap();
    std::fs::write(path, format!("{}{at}{}", &text[..start], &text[end..])).unwrap();
}

/// The file the JS SDK writes after refreshing one tobira wrote:
/// `JSON.stringify(token, null, 2)` of what it read, the keys in the order
/// they had, `expiresAt` with milliseconds, no newline at the end.
fn js_file(tok: &LoginToken, expires_at: &str) -> String {
    let j = |v: &str| serde_json::to_string(v).unwrap();
    format!(
        "{{\n  \"accessToken\": {{\n    \"accessKeyId\": {},\n    \"secretAccessKey\": {},\n    \"sessionToken\": {},\n    \"accountId\": \"123456789012\",\n    \"expiresAt\": {}\n  }},\n  \"tokenType\": \"aws_sigv4\",\n  \"clientId\": \"arn:aws:signin:::devtools/same-device\",\n  \"refreshToken\": {},\n  \"idToken\": {},\n  \"dpopKey\": {}\n}}",
        j(&tok.access_key_id),
        j(tok.secret_access_key.expose()),
        j(tok.session_token.expose()),
        j(expires_at),
        j(tok.refresh_token.expose()),
        j(tok.id_token.as_ref().unwrap().expose()),
        j(tok.dpop_key.expose())
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_js_sdk_uses_and_refreshes_tobiras_sign_in() {
    use std::os::unix::fs::PermissionsExt;
    let Some(dir) = sdk_js() else { return };
    let s = IdcServer::start(Settings::default()).await;
    let mut t = env_for(&s);
    let r = console_login(&s, &t, &["login", "--console", "--profile", "dev", "--region", "us-east-1"], 0).await;
    assert_eq!(r.code, Some(0), "{r:?}");
    let path = t.aws_dir().join("login/cache").join(BOB_FILE);
    let tobiras = std::fs::read(&path).unwrap();
    let signed_in = LoginToken::from_json(&tobiras).unwrap();
    assert_eq!(s.idc.count("CreateOAuth2Token"), 1);

    // 1. The default chain (fromIni's login provider) reads tobira's file as
    // it is: more than five minutes left, no call to Sign-In, nothing written.
    let calls = s.idc.count("GetCallerIdentity");
    let (key, expiration) = js_sts(&t, &dir, "chain", &[]);
    assert_eq!(key, signed_in.access_key_id);
    assert_eq!(expiration.parse::<Timestamp>().unwrap(), signed_in.expires_at);
    assert_eq!(s.idc.count("GetCallerIdentity"), calls + 1, "the SDK called tobira-idc's STS");
    assert_eq!(s.idc.count("CreateOAuth2Token"), 1, "no refresh");
    assert_eq!(std::fs::read(&path).unwrap(), tobiras, "the file is untouched");

    // 2. Four minutes left: fromLoginCredentials refreshes through tobira-idc
    // (AWS_ENDPOINT_URL) with a DPoP proof signed by tobira's key.
    let before = expire_in(&t, SignedDuration::from_mins(4));
    let (key, expiration) = js_sts(&t, &dir, "login", &[]);
    assert_eq!(s.idc.count("CreateOAuth2Token"), 2, "the JS SDK called CreateOAuth2Token");
    let text = std::fs::read_to_string(&path).unwrap();
    let js = LoginToken::from_json(text.as_bytes()).unwrap();
    assert_eq!(key, js.access_key_id, "the SDK signed with the credentials it wrote");
    assert_ne!(js.access_key_id, before.access_key_id);
    assert_ne!(js.refresh_token, before.refresh_token, "the rotated refresh token is stored");
    assert_eq!((&js.dpop_key, &js.id_token, &js.client_id), (&before.dpop_key, &before.id_token, &before.client_id));
    // Its format: tobira's key order kept, two-space indentation, milliseconds.
    let written = expiration.clone();
    assert!(written.len() == 24 && written.ends_with('Z') && written.as_bytes()[19] == b'.', "{written}");
    assert_eq!(text, js_file(&js, &written));
    assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600, "the mode is kept");

    // 3. tobira uses the JS SDK's file as it is: no sign-in, no refresh, no rewrite.
    let r = tobira(&t, &["export", "--profile", "dev"]);
    assert_eq!(r.code, Some(0), "{r:?}");
    assert!(r.stdout.contains(&format!("export AWS_ACCESS_KEY_ID={}\n", js.access_key_id)), "{}", r.stdout);
    let r = tobira(&t, &["credential-process", "--profile", "dev"]);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["AccessKeyId"].as_str(), Some(js.access_key_id.as_str()), "{r:?}");
    assert_eq!(s.idc.count("CreateOAuth2Token"), 2);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), text);

    // 4. tobira refreshes a file in the JS SDK's format (expired a minute
    // ago, milliseconds) and writes it back in the AWS CLI's. The file names
    // its Sign-In region as the JS SDK reads it (`signInRegion`); the
    // configured endpoint still wins, and the key stays.
    let ago = tobira_cache::token::format_time(Timestamp::now() - SignedDuration::from_mins(1));
    set_expiry_in_place(&path, &ago.replace('Z', ".250Z"));
    let with_region = std::fs::read_to_string(&path).unwrap().replace("\n}", ",\n  \"signInRegion\": \"eu-west-1\"\n}");
    std::fs::write(&path, with_region).unwrap();
    let r = tobira(&t, &["export", "--profile", "dev"]);
    assert_eq!(r.code, Some(0), "{r:?}");
    assert_eq!(s.idc.count("CreateOAuth2Token"), 3, "tobira refreshed the token the JS SDK rotated");
    let bytes = std::fs::read(&path).unwrap();
    let ours = LoginToken::from_json(&bytes).unwrap();
    assert_eq!(ours.to_json().as_bytes(), bytes, "the AWS CLI's format again");
    assert_ne!(ours.refresh_token, js.refresh_token);
    assert_eq!((&ours.dpop_key, &ours.id_token), (&js.dpop_key, &js.id_token));
    assert_eq!(ours.sign_in_region(), Some("eu-west-1"));

    // 5. The JS SDK (default chain) uses tobira's refresh as it is, then
    // refreshes the token tobira rotated when it is due again.
    let (key, _) = js_sts(&t, &dir, "chain", &[]);
    assert_eq!(key, ours.access_key_id);
    assert_eq!(s.idc.count("CreateOAuth2Token"), 3);
    // This time Sign-In is found with AWS_ENDPOINT_URL_SIGNIN (STS with
    // AWS_ENDPOINT_URL_STS).
    expire_in(&t, SignedDuration::from_mins(2));
    let only_signin = [
        ("AWS_ENDPOINT_URL", None),
        ("AWS_ENDPOINT_URL_SIGNIN", Some(s.url.as_str())),
        ("AWS_ENDPOINT_URL_STS", Some(s.url.as_str())),
    ];
    let (key, _) = js_sts(&t, &dir, "chain", &only_signin);
    assert_eq!(s.idc.count("CreateOAuth2Token"), 4, "the JS SDK refreshed after tobira did");
    let again = cache(&t).read(BOB_ARN).unwrap().unwrap();
    assert_eq!(key, again.access_key_id);
    assert_ne!(again.refresh_token, ours.refresh_token);
    assert_eq!(again.sign_in_region(), Some("eu-west-1"), "the JS SDK kept it too");
    let r = tobira(&t, &["credential-process", "--profile", "dev"]);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["AccessKeyId"].as_str(), Some(key.as_str()), "{r:?}");
    assert_eq!(s.idc.count("CreateOAuth2Token"), 4);

    // 6. AWS_LOGIN_CACHE_DIRECTORY (an absolute path: the JS SDK expands
    // neither `~` nor `$VAR`) moves the file for both.
    let elsewhere = t.home().join("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    let moved = elsewhere.join(BOB_FILE);
    std::fs::rename(&path, &moved).unwrap();
    t.env("AWS_LOGIN_CACHE_DIRECTORY", elsewhere.to_str().unwrap());
    let (key, _) = js_sts(&t, &dir, "chain", &[]);
    assert_eq!(key, again.access_key_id);
    let r = tobira(&t, &["credential-process", "--profile", "dev"]);
    assert_eq!(r.code, Some(0), "{r:?}");
    assert_eq!(s.idc.count("CreateOAuth2Token"), 4);

    // 7. With no endpoint variable, the profile's `endpoint_url` (AWS_PROFILE
    // names the profile) is where the JS SDK refreshes.
    let config = std::fs::read_to_string(t.config_path()).unwrap();
    t.write_config(&format!("{config}endpoint_url = {}\n", s.url));
    set_expiry_in_place(&moved, &tobira_cache::token::format_time(Timestamp::now() + SignedDuration::from_mins(3)));
    let (key, _) = js_sts(&t, &dir, "login", &[("AWS_ENDPOINT_URL", None)]);
    assert_eq!(s.idc.count("CreateOAuth2Token"), 5, "refreshed at the profile's endpoint_url");
    assert_eq!(key, LoginToken::from_json(&std::fs::read(&moved).unwrap()).unwrap().access_key_id);
    assert!(!path.exists(), "nothing written in the default directory");
}
