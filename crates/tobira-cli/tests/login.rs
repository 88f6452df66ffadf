//! `tobira login`, `logout`, `sso`, `sessions` as users run them, against a
//! real tobira-idc on 127.0.0.1:0.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] fns

use serde_json::Value;
use tobira_idc::Settings;
use tobira_test_support::{IdcServer, Run, TestEnv, run};

const TOBIRA: &str = env!("CARGO_BIN_EXE_tobira");

async fn start(settings: Settings) -> IdcServer {
    IdcServer::start(settings).await
}

const CONFIG: &str = "\
[profile dev]
sso_session = corp
sso_account_id = 222222222222
sso_role_name = ReadOnly
region = us-west-2
[sso-session corp]
sso_start_url = https://d-1234567890.awsapps.com/start
sso_region = us-east-1
sso_registration_scopes = sso:account:access
[profile legacy]
sso_start_url = https://d-1234567890.awsapps.com/start#
sso_region = us-east-1
sso_account_id = 111111111111
sso_role_name = ReadOnly
";

fn env_for(s: &IdcServer) -> TestEnv {
    let mut t = TestEnv::new();
    t.write_config(CONFIG);
    t.env("AWS_ENDPOINT_URL", &s.url);
    t
}

/// A "browser" that fetches the URL in the background, following redirects
/// to tobira's loopback listener (what a real browser does after sign-in).
fn with_fake_browser(t: &mut TestEnv) {
    let script = t.home().join("fake-browser");
    let py = "import sys, urllib.request\ntry:\n    urllib.request.urlopen(sys.argv[1], timeout=20).read()\nexcept Exception as e:\n    print(e, file=sys.stderr)\n";
    std::fs::write(t.home().join("fake_browser.py"), py).unwrap();
    std::fs::write(
        &script,
        format!("#!/bin/sh\npython3 {} \"$1\" >/dev/null 2>&1 &\n", t.home().join("fake_browser.py").display()),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let script = script.display().to_string();
    t.env("BROWSER", &script);
}

fn tobira(t: &TestEnv, args: &[&str]) -> Run {
    let mut cmd = t.command(TOBIRA);
    cmd.args(args);
    run(cmd)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn device_login_then_accounts_roles_sessions_logout() {
    let s = start(Settings { auto_approve: Some("alice".into()), ..Settings::default() }).await;
    let t = env_for(&s);
    let r = tobira(&t, &["sso", "accounts", "--profile", "dev"]);
    assert_eq!(r.code, Some(7), "{r:?}");
    assert_eq!(
        r.stderr,
        "error: Error loading SSO Token: Token for corp does not exist\n\nhint: sign in with `tobira login --sso-session corp`\n"
    );

    let r = tobira(&t, &["login", "--profile", "dev", "--use-device-code", "--no-browser"]);
    assert_eq!(r.code, Some(0), "{r:?}");
    // The URL and the code are always shown; pre-approved, the login then completes at once.
    assert!(r.stdout.starts_with(&format!("Browser will not be automatically opened.\nPlease visit the following URL:\n\n{}/device\n\nThen enter the code:\n\n", s.url)), "{}", r.stdout);
    assert!(
        r.stdout.ends_with("Successfully logged into Start URL: https://d-1234567890.awsapps.com/start\n"),
        "{}",
        r.stdout
    );
    let scopes = ["sso:account:access".to_string()];
    let reg_name = tobira_cache::keys::registration_file_name(
        "us-east-1",
        Some(&scopes),
        Some("corp"),
        "https://d-1234567890.awsapps.com/start",
    );
    assert!(t.aws_dir().join("sso/cache").join(&reg_name).exists(), "registration cached as the AWS CLI names it");
    // sha1("corp"): the token file the AWS CLI reads for this session.
    assert!(t.aws_dir().join("sso/cache/ee0bfd2552fbd840c02cc48b6e823320543c450f.json").exists());

    let r = tobira(&t, &["sso", "accounts", "--profile", "dev"]);
    assert_eq!(r.code, Some(0), "{r:?}");
    assert_eq!(
        r.stdout,
        "ACCOUNT       NAME         EMAIL\n222222222222  Development  dev@example.com\n111111111111  Production   prod@example.com\n"
    );
    let r = tobira(&t, &["sso", "roles", "--sso-session", "corp", "--account", "222222222222", "--json"]);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v[0]["role_name"], "FullAccess");
    assert_eq!(v[1]["role_name"], "ReadOnly");

    let r = tobira(&t, &["sessions", "--json"]);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v[0]["name"], "corp");
    assert_eq!(v[0]["status"], "valid");
    assert_eq!(v[0]["refreshable"], true);
    assert_eq!(v[1]["name"], "(legacy) profile legacy");
    assert_eq!(v[1]["status"], "not logged in");
    assert_eq!(v[1]["renew"], "tobira login --profile legacy");

    // A cached SSO role credential file for `dev`, as the AWS CLI writes it.
    let creds = t.aws_dir().join("cli/cache/fc20a4fdcf5420fd0d8e2ed7b5146f06efd97c77.json");
    std::fs::create_dir_all(creds.parent().unwrap()).unwrap();
    std::fs::write(&creds, r#"{"ProviderType": "sso", "Credentials": {}}"#).unwrap();
    // Wrong key derivation would leave it: accountId 222222222222 + ReadOnly + session "corp".
    let expected_name = tobira_cache::keys::sso_role_credentials_file_name(
        "222222222222",
        "ReadOnly",
        tobira_cache::SsoKey::Session("corp"),
    );
    std::fs::rename(&creds, creds.with_file_name(&expected_name)).unwrap();

    assert_eq!(s.idc.active_sessions().unwrap().len(), 1);
    let r = tobira(&t, &["logout", "--profile", "dev"]);
    assert_eq!(r.code, Some(0), "{r:?}");
    assert_eq!(r.stdout, "Logged out of sso-session corp; removed 1 cached role credential file(s).\n");
    assert!(s.idc.active_sessions().unwrap().is_empty(), "the server-side session ended");
    let r = tobira(&t, &["sso", "accounts", "--profile", "dev"]);
    assert_eq!(r.code, Some(7));
    assert!(
        !t.aws_dir().join("sso/cache").join(&reg_name).exists(),
        "logout removes the session's client registration"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn pkce_login_through_a_browser_and_device_fallback_without_one() {
    let s = start(Settings { auto_approve: Some("alice".into()), ..Settings::default() }).await;
    let mut t = env_for(&s);
    // No browser at all (no $BROWSER, no display): the device flow, said so.
    let r = tobira(&t, &["login", "--sso-session", "corp"]);
    assert_eq!(r.code, Some(0), "{r:?}");
    assert!(r.stdout.starts_with("No browser can be opened here: using the device code flow.\n"), "{}", r.stdout);

    // Still signed in: nothing to do, and no call to the service.
    let token =
        tobira_cache::SsoCache::in_home(t.home()).read_token(tobira_cache::SsoKey::Session("corp")).unwrap().unwrap();
    let calls = s.idc.count("StartDeviceAuthorization") + s.idc.count("CreateToken") + s.idc.count("RegisterClient");
    let r = tobira(&t, &["login", "--sso-session", "corp"]);
    assert_eq!(r.code, Some(0), "{r:?}");
    assert_eq!(
        r.stdout,
        format!(
            "Already signed in to sso-session corp: the sign-in is valid until {}. Nothing to do.\nTo sign in again anyway (for example after it was revoked), run `tobira login --sso-session corp --force`.\n",
            tobira_cache::token::format_time(token.expires_at)
        )
    );
    assert_eq!(
        s.idc.count("StartDeviceAuthorization") + s.idc.count("CreateToken") + s.idc.count("RegisterClient"),
        calls
    );

    // --force signs in again, here through the browser.
    with_fake_browser(&mut t);
    let r = tobira(&t, &["login", "--sso-session", "corp", "--force"]);
    assert_eq!(r.code, Some(0), "{r:?}");
    assert!(r.stdout.starts_with("Attempting to open your default browser."), "{}", r.stdout);
    assert!(r.stdout.contains(&format!("{}/authorize?response_type=code&client_id=", s.url)), "{}", r.stdout);
    assert!(
        r.stdout.ends_with("Successfully logged into Start URL: https://d-1234567890.awsapps.com/start\n"),
        "{}",
        r.stdout
    );
    let token =
        tobira_cache::SsoCache::in_home(t.home()).read_token(tobira_cache::SsoKey::Session("corp")).unwrap().unwrap();
    assert!(token.refresh_token.is_some(), "PKCE logins can refresh");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_processes_needing_a_refresh_make_one_create_token_call() {
    let s = start(Settings { auto_approve: Some("alice".into()), ..Settings::default() }).await;
    let t = env_for(&s);
    assert_eq!(tobira(&t, &["login", "--sso-session", "corp", "--use-device-code", "--no-browser"]).code, Some(0));
    // Move the token into the refresh window (5 minutes left).
    let cache = tobira_cache::SsoCache::in_home(t.home());
    let key = tobira_cache::SsoKey::Session("corp");
    let mut tok = cache.read_token(key).unwrap().unwrap();
    tok.expires_at = now() + jiff::SignedDuration::from_mins(5);
    cache.write_token(key, &tok).unwrap();
    let before = s.idc.count("CreateToken");
    let children: Vec<_> = (0..50)
        .map(|_| {
            let mut cmd = t.command(TOBIRA);
            cmd.args(["sso", "accounts", "--sso-session", "corp", "--json"])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped());
            cmd.spawn().unwrap()
        })
        .collect();
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    assert_eq!(s.idc.count("CreateToken") - before, 1, "exactly one refresh for 50 processes");
    let fresh = cache.read_token(key).unwrap().unwrap();
    assert!(fresh.expires_at > now() + jiff::SignedDuration::from_hours(7));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn login_errors_say_what_to_do() {
    let s = start(Settings::default()).await;
    let t = env_for(&s);
    let r = tobira(&t, &["login", "--sso-session", "nope"]);
    assert_eq!(r.code, Some(5));
    assert!(r.stderr.starts_with("error: The specified sso-session does not exist: \"nope\"\n"), "{}", r.stderr);
    let r = tobira(&t, &["login", "--profile", "devv"]);
    assert_eq!(r.code, Some(4));
    assert!(r.stderr.contains("did you mean `dev`?"), "{}", r.stderr);
    // A wrong SSO region: the start URL is unknown there.
    let mut t2 = TestEnv::new();
    t2.write_config(
        &CONFIG.replace("sso_region = us-east-1\nsso_registration", "sso_region = eu-west-1\nsso_registration"),
    );
    t2.env("AWS_ENDPOINT_URL", &s.url);
    let dir = s.idc.directory();
    let mut moved = dir.clone();
    moved.instance.start_url = "https://d-9999999999.awsapps.com/start".into();
    s.idc.replace_directory(moved).unwrap();
    let r = tobira(&t2, &["login", "--sso-session", "corp", "--use-device-code", "--no-browser"]);
    assert_eq!(r.code, Some(8), "{r:?}");
    assert!(
        r.stderr.contains("InvalidRequestException") && r.stderr.contains("a wrong SSO region is the usual cause"),
        "{}",
        r.stderr
    );
    s.idc.replace_directory(dir).unwrap();
    // The legacy profile cannot refresh: the hint says how to migrate.
    let r = tobira(&t, &["sso", "accounts", "--profile", "legacy"]);
    assert_eq!(r.code, Some(7));
    assert!(r.stderr.contains("hint: sign in with `tobira login --profile legacy`"), "{}", r.stderr);
    assert!(r.stderr.contains("legacy SSO format"), "{}", r.stderr);
}

/// The pinned AWS CLI v1 / botocore from the repo's .venv.
fn aws(t: &TestEnv, args: &[&str]) -> Option<Run> {
    #[allow(clippy::disallowed_methods)] // test switch
    let skip = std::env::var_os("TOBIRA_SKIP_INTEROP").is_some();
    let venv = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin");
    if !venv.join("aws").exists() {
        assert!(skip, "{} missing: run scripts/setup-python.sh (or set TOBIRA_SKIP_INTEROP=1)", venv.display());
        return None;
    }
    let mut cmd = t.command(venv.join("python"));
    cmd.arg(venv.join("aws")).args(args);
    Some(run(cmd))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_aws_cli_uses_tobiras_login_and_tobira_reads_botocores_refresh() {
    let s = start(Settings { auto_approve: Some("alice".into()), ..Settings::default() }).await;
    let t = env_for(&s);
    assert_eq!(tobira(&t, &["login", "--sso-session", "corp", "--use-device-code", "--no-browser"]).code, Some(0));
    let Some(r) = aws(&t, &["sts", "get-caller-identity", "--profile", "dev"]) else { return };
    assert_eq!(r.code, Some(0), "{r:?}");
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["Account"], "222222222222");
    let arn = v["Arn"].as_str().unwrap();
    assert!(arn.contains(":assumed-role/AWSReservedSSO_ReadOnly_") && arn.ends_with("/alice"), "{arn}");

    // Near expiry, botocore refreshes with what tobira wrote (client id,
    // secret, refresh token) and rewrites the file; tobira reads botocore's file.
    let cache = tobira_cache::SsoCache::in_home(t.home());
    let key = tobira_cache::SsoKey::Session("corp");
    let mut tok = cache.read_token(key).unwrap().unwrap();
    tok.expires_at = now() + jiff::SignedDuration::from_mins(5);
    cache.write_token(key, &tok).unwrap();
    let before = s.idc.count("CreateToken");
    let r = aws(&t, &["sts", "get-caller-identity", "--profile", "dev"]).unwrap();
    assert_eq!(r.code, Some(0), "{r:?}");
    assert_eq!(s.idc.count("CreateToken") - before, 1, "botocore refreshed the token");
    let after = cache.read_token(key).unwrap().unwrap();
    assert_ne!(after.access_token, tok.access_token);
    assert_ne!(after.refresh_token, tok.refresh_token, "rotated refresh token written by botocore");
    let r = tobira(&t, &["sso", "accounts", "--profile", "dev", "--json"]);
    assert_eq!(r.code, Some(0), "{r:?}");
    assert_eq!(s.idc.count("CreateToken") - before, 1, "tobira used botocore's fresh token as is");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_only_session_is_used_when_nothing_is_selected() {
    let s = start(Settings { auto_approve: Some("alice".into()), ..Settings::default() }).await;
    let t = env_for(&s);
    let r = tobira(&t, &["login", "--use-device-code", "--no-browser"]);
    assert_eq!(r.code, Some(0), "{r:?}");
    assert!(
        t.aws_dir().join("sso/cache/ee0bfd2552fbd840c02cc48b6e823320543c450f.json").exists(),
        "signed in to `corp`"
    );
    let r = tobira(&t, &["sso", "accounts", "--json"]);
    assert_eq!(r.code, Some(0), "{r:?}");
    let two = TestEnv::new();
    two.write_config(&format!(
        "{CONFIG}[sso-session other]\nsso_start_url = https://x.awsapps.com/start\nsso_region = us-east-1\n"
    ));
    let r = tobira(&two, &["sso", "accounts"]);
    assert_eq!(r.code, Some(2));
    assert_eq!(
        r.stderr,
        "error: several SSO sessions are configured: corp, other\n\nhint: pick one with `--sso-session corp`\n"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_sign_in_at_a_time() {
    use std::io::{BufRead, BufReader};
    let s = start(Settings::default()).await;
    let t = env_for(&s);
    let spawn = || {
        let mut cmd = t.command(TOBIRA);
        cmd.args(["login", "--sso-session", "corp", "--use-device-code", "--no-browser"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        cmd.spawn().unwrap()
    };
    let mut first = spawn();
    let mut first_out = BufReader::new(first.stdout.take().unwrap());
    let code = loop {
        let mut line = String::new();
        assert!(first_out.read_line(&mut line).unwrap() > 0, "first login ended early");
        let l = line.trim();
        if l.len() == 9 && l.as_bytes()[4] == b'-' {
            break l.to_string();
        }
    };
    let mut second = spawn();
    let mut second_out = BufReader::new(second.stdout.take().unwrap());
    let mut line = String::new();
    second_out.read_line(&mut line).unwrap();
    assert_eq!(line, "Another tobira login for this session is in progress; waiting for it to finish...\n");
    s.idc.approve_device(&code, "alice").unwrap();
    assert!(first.wait().unwrap().success());
    assert!(second.wait().unwrap().success());
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut second_out, &mut rest).unwrap();
    assert!(rest.contains("(by the other login)"), "{rest}");
    assert_eq!(s.idc.count("StartDeviceAuthorization"), 1, "the user was asked once");
}

/// The clock, read by the test (tobira takes it from its Context).
#[allow(clippy::disallowed_methods)]
fn now() -> jiff::Timestamp {
    jiff::Timestamp::now()
}
