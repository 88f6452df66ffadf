//! Credentials for every profile kind against tobira-idc: SSO, SSO → role,
//! IAM user + MFA (+ role), credential_process; export formats, exec,
//! whoami, credential-process; caches shared with the AWS CLI.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] fns

use tobira_idc::Settings;
use tobira_test_support::{IdcServer, Run, TestEnv, bob_mfa_code as code, run};

const TOBIRA: &str = env!("CARGO_BIN_EXE_tobira");

fn config(tobira: &str) -> String {
    format!(
        "\
[profile dev]
sso_session = corp
sso_account_id = 111111111111
sso_role_name = ReadOnly
region = eu-west-1
[sso-session corp]
sso_start_url = https://d-1234567890.awsapps.com/start
sso_region = us-east-1
sso_registration_scopes = sso:account:access
[profile audit]
role_arn = arn:aws:iam::123456789012:role/Audit
source_profile = dev
external_id = audit-ext-1
[profile audit-long]
role_arn = arn:aws:iam::123456789012:role/Audit
source_profile = dev
external_id = audit-ext-1
duration_seconds = 7200
[profile bob]
region = us-east-1
[profile bob-mfa]
mfa_serial = arn:aws:iam::123456789012:mfa/bob-phone
[profile switch]
role_arn = arn:aws:iam::123456789012:role/Ops
source_profile = bob
mfa_serial = arn:aws:iam::123456789012:mfa/bob-phone
region = us-east-1
[profile switch-via-session]
role_arn = arn:aws:iam::123456789012:role/Ops
source_profile = bob-mfa
mfa_serial = arn:aws:iam::123456789012:mfa/bob-phone
[profile viaproc]
credential_process = {tobira} credential-process --profile dev
region = us-east-1
"
    )
}

const CREDENTIALS: &str = "\
[bob]
aws_access_key_id = AKIAIOSFODNN7EXAMPLE
aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY
[bob-mfa]
aws_access_key_id = AKIAIOSFODNN7EXAMPLE
aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY
";

async fn setup() -> (IdcServer, TestEnv) {
    let s = IdcServer::start(Settings { auto_approve: Some("alice".into()), ..Settings::default() }).await;
    let mut t = TestEnv::new();
    t.write_config(&config(TOBIRA)).write_credentials(CREDENTIALS);
    t.env("AWS_ENDPOINT_URL", &s.url);
    (s, t)
}

fn tobira(t: &TestEnv, args: &[&str]) -> Run {
    let mut cmd = t.command(TOBIRA);
    cmd.args(args);
    run(cmd)
}

fn login(t: &TestEnv) {
    let r = tobira(t, &["login", "--sso-session", "corp", "--use-device-code", "--no-browser"]);
    assert_eq!(r.code, Some(0), "{r:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sso_profile_exports_in_every_format_from_the_shared_cache() {
    let (s, t) = setup().await;
    let r = tobira(&t, &["credential-process", "--profile", "dev"]);
    assert_eq!(r.code, Some(7));
    assert_eq!(
        r.stderr,
        "tobira: Error loading SSO Token: Token for corp does not exist (sign in with `tobira login --sso-session corp`)\n"
    );
    login(&t);
    let r = tobira(&t, &["export", "--profile", "dev"]);
    assert_eq!(r.code, Some(0), "{r:?}");
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert!(lines[0].starts_with("export AWS_ACCESS_KEY_ID=ASIA"), "{}", r.stdout);
    assert!(lines[1].starts_with("export AWS_SECRET_ACCESS_KEY="));
    assert!(lines[2].starts_with("export AWS_SESSION_TOKEN="));
    assert!(lines[3].starts_with("export AWS_CREDENTIAL_EXPIRATION=") && lines[3].ends_with("+00:00"));
    assert_eq!(&lines[4..], ["export AWS_REGION=eu-west-1", "export AWS_DEFAULT_REGION=eu-west-1"]);
    // Cached as the AWS CLI caches SSO role credentials: the next call is local.
    let cache = t.aws_dir().join("cli/cache").join(tobira_cache::keys::sso_role_credentials_file_name(
        "111111111111",
        "ReadOnly",
        tobira_cache::SsoKey::Session("corp"),
    ));
    assert!(
        std::fs::read_to_string(&cache)
            .unwrap()
            .starts_with("{\"ProviderType\": \"sso\", \"Credentials\": {\"AccessKeyId\": \"ASIA")
    );
    let calls = s.idc.count("GetRoleCredentials");
    let key = lines[0].trim_start_matches("export AWS_ACCESS_KEY_ID=");
    for (format, first) in [
        ("env-no-export", format!("AWS_ACCESS_KEY_ID={key}")),
        ("fish", format!("set -gx AWS_ACCESS_KEY_ID \"{key}\"")),
        ("powershell", format!("$Env:AWS_ACCESS_KEY_ID=\"{key}\"")),
        ("windows-cmd", format!("set AWS_ACCESS_KEY_ID={key}")),
        ("process", "{".to_string()),
    ] {
        let r = tobira(&t, &["export", "--profile", "dev", "--format", format]);
        assert_eq!(r.stdout.lines().next(), Some(first.as_str()), "{format}");
    }
    assert_eq!(s.idc.count("GetRoleCredentials"), calls, "served from ~/.aws/cli/cache");
    let r = tobira(&t, &["credential-process", "--profile", "dev"]);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["Version"], 1);
    assert_eq!(v["AccountId"], "111111111111");
    assert!(r.stdout.starts_with("{\n  \"Version\": 1,\n  \"AccessKeyId\": \"ASIA"), "{}", r.stdout);
    let r = tobira(&t, &["whoami", "--profile", "dev", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert!(v["arn"].as_str().unwrap().contains(":assumed-role/AWSReservedSSO_ReadOnly_"), "{v}");
    // credential_process chaining into tobira itself.
    let r = tobira(&t, &["whoami", "--profile", "viaproc", "--json"]);
    assert_eq!(r.code, Some(0), "{r:?}");
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["account"], "111111111111");
    // credentials-file: [dev] in the credentials file, through the editor.
    let r = tobira(&t, &["export", "--profile", "dev", "--format", "credentials-file"]);
    assert_eq!(r.code, Some(0), "{r:?}");
    let creds = std::fs::read_to_string(t.credentials_path()).unwrap();
    assert!(creds.starts_with(CREDENTIALS), "the rest is kept");
    assert!(creds.contains("[dev]\naws_access_key_id = ASIA"), "{creds}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn role_chains_mfa_sessions_and_their_errors() {
    let (s, t) = setup().await;
    login(&t);
    let r = tobira(&t, &["whoami", "--profile", "audit"]);
    assert_eq!(r.code, Some(0), "{r:?}");
    assert!(r.stdout.contains("arn       arn:aws:sts::123456789012:assumed-role/Audit/tobira-"), "{}", r.stdout);
    let r = tobira(&t, &["whoami", "--profile", "audit-long"]);
    assert_eq!(r.code, Some(5), "{r:?}");
    assert!(r.stderr.contains("1 hour session limit for roles assumed by role chaining"), "{}", r.stderr);
    assert!(r.stderr.contains("set `duration_seconds = 3600` or less in profile `audit-long`"), "{}", r.stderr);

    // MFA: no terminal and no --mfa-code → a clear error, no prompt.
    let r = tobira(&t, &["whoami", "--profile", "switch"]);
    assert_eq!(r.code, Some(6), "{r:?}");
    assert!(r.stderr.contains("give it with `--mfa-code CODE`"), "{}", r.stderr);
    let r = tobira(&t, &["whoami", "--profile", "switch", "--mfa-code", "000000"]);
    assert_eq!(r.code, Some(8), "{r:?}");
    assert!(r.stderr.contains("MultiFactorAuthentication failed"), "{}", r.stderr);
    let r = tobira(&t, &["whoami", "--profile", "switch", "--mfa-code", &code(&s.idc, 0)]);
    assert_eq!(r.code, Some(0), "{r:?}");
    assert!(r.stdout.contains("assumed-role/Ops/"), "{}", r.stdout);
    // The role is cached (AWS CLI layout): no code needed until it expires.
    let r = tobira(&t, &["export", "--profile", "switch"]);
    assert_eq!(r.code, Some(0), "{r:?}");

    // Keys + mfa_serial: an MFA session (GetSessionToken), one code per session.
    let r = tobira(&t, &["whoami", "--profile", "bob-mfa", "--mfa-code", &code(&s.idc, -1)]);
    assert_eq!(r.code, Some(0), "{r:?}");
    assert!(r.stdout.contains("arn       arn:aws:iam::123456789012:user/bob"), "{}", r.stdout);
    let before = s.idc.count("GetSessionToken");
    let r = tobira(&t, &["export", "--profile", "bob-mfa", "--format", "process"]);
    assert_eq!(r.code, Some(0), "{r:?}");
    assert_eq!(s.idc.count("GetSessionToken"), before, "the MFA session is reused");
    assert!(r.stdout.contains("\"SessionToken\""));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn exec_passes_credentials_and_exit_codes_and_refuses_nesting() {
    let (_s, mut t) = setup().await;
    login(&t);
    t.env("AWS_PROFILE", "dev");
    let r = tobira(
        &t,
        &[
            "exec",
            "--",
            "sh",
            "-c",
            "echo \"$AWS_ACCESS_KEY_ID|${AWS_PROFILE:-unset}|$TOBIRA_EXEC_PROFILE|$AWS_REGION\"; exit 3",
        ],
    );
    assert_eq!(r.code, Some(3), "{r:?}");
    let parts: Vec<&str> = r.stdout.trim().split('|').collect();
    assert!(parts[0].starts_with("ASIA"), "{}", r.stdout);
    assert_eq!(&parts[1..], ["unset", "dev", "eu-west-1"]);
    t.env("TOBIRA_EXEC_PROFILE", "dev");
    let r = tobira(&t, &["exec", "--", "true"]);
    assert_eq!(r.code, Some(2));
    assert!(r.stderr.starts_with("error: already inside `tobira exec` for profile `dev`"), "{}", r.stderr);
    assert_eq!(tobira(&t, &["exec", "--nested", "--", "true"]).code, Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_aws_cli_uses_tobira_as_credential_process_and_reuses_its_role_cache() {
    let (s, t) = setup().await;
    login(&t);
    let venv = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin");
    #[allow(clippy::disallowed_methods)] // test switch
    if !venv.join("aws").exists() && std::env::var_os("TOBIRA_SKIP_INTEROP").is_some() {
        return;
    }
    let aws = |args: &[&str]| {
        let mut cmd = t.command(venv.join("python"));
        cmd.arg(venv.join("aws")).args(args);
        run(cmd)
    };
    let r = aws(&["sts", "get-caller-identity", "--profile", "viaproc"]);
    assert_eq!(r.code, Some(0), "{r:?}");
    assert!(r.stdout.contains("AWSReservedSSO_ReadOnly_"), "{}", r.stdout);
    // tobira assumes Ops with MFA and caches it; the AWS CLI then uses that
    // entry instead of asking for a code (stdin is empty, no terminal).
    assert_eq!(tobira(&t, &["export", "--profile", "switch", "--mfa-code", &code(&s.idc, 1)]).code, Some(0));
    let r = aws(&["sts", "get-caller-identity", "--profile", "switch"]);
    assert_eq!(r.code, Some(0), "{r:?}");
    assert!(r.stdout.contains("assumed-role/Ops/tobira-"), "{}", r.stdout);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_mfa_prompt_reads_the_terminal_even_when_stdout_is_piped() {
    let (s, t) = setup().await;
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/pty_drive.py");
    let code = code(&s.idc, 0);
    let steps = serde_json::json!([
        {"expect": "Enter MFA code for arn:aws:iam::123456789012:mfa/bob-phone: "},
        {"send": format!("{code}\r")},
    ]);
    // stdout of tobira goes to a file (a pipe, as in `$(tobira export)`); the
    // prompt still appears on the terminal and the code is read from it.
    let out = t.home().join("exported");
    let shell = format!("{TOBIRA} export --profile switch > {}", out.display());
    let mut cmd = t.command("python3");
    cmd.arg(script).arg(steps.to_string()).arg("--").args(["sh", "-c", &shell]);
    let r = run(cmd);
    assert_eq!(r.code, Some(0), "{r:?}");
    let exported = std::fs::read_to_string(out).unwrap();
    assert!(exported.starts_with("export AWS_ACCESS_KEY_ID=ASIA"), "{exported}");
    assert!(!exported.contains("Enter MFA code"), "the prompt is not part of the data");
    assert!(r.stdout.contains("Enter MFA code for arn:aws:iam::123456789012:mfa/bob-phone: "), "{}", r.stdout);
    assert!(!r.stdout.contains(&code), "the code is not echoed on the terminal: {}", r.stdout);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn expired_mfa_sessions_ask_again_and_broken_chains_explain_themselves() {
    let (s, t) = setup().await;
    assert_eq!(tobira(&t, &["export", "--profile", "bob-mfa", "--mfa-code", &code(&s.idc, 0)]).code, Some(0));
    // Make the cached MFA session nearly expired: the next use needs a new code.
    let dir = t.aws_dir().join("tobira/mfa-sessions");
    let entry = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "json"))
        .unwrap();
    let text = std::fs::read_to_string(&entry).unwrap();
    let soon = (now() + jiff::SignedDuration::from_mins(5)).strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
    let expiring = regex_free_replace_expiration(&text, &soon);
    std::fs::write(&entry, expiring).unwrap();
    let r = tobira(&t, &["export", "--profile", "bob-mfa"]);
    assert_eq!(r.code, Some(6), "{r:?}");
    assert!(r.stderr.contains("an MFA code for arn:aws:iam::123456789012:mfa/bob-phone is needed"), "{}", r.stderr);
    assert_eq!(tobira(&t, &["export", "--profile", "bob-mfa", "--mfa-code", &code(&s.idc, 1)]).code, Some(0));

    // A chain loop and a missing source profile: resolution errors, exit 5.
    let mut broken = TestEnv::new();
    broken.write_config("[profile a]\nrole_arn = arn:aws:iam::1:role/x\nsource_profile = b\n[profile b]\nrole_arn = arn:aws:iam::1:role/y\nsource_profile = a\n[profile c]\nrole_arn = arn:aws:iam::1:role/z\nsource_profile = nope\n");
    broken.env("AWS_ENDPOINT_URL", &s.url);
    let r = tobira(&broken, &["export", "--profile", "a"]);
    assert_eq!(r.code, Some(5));
    assert!(r.stderr.starts_with("error: Infinite loop in credential configuration detected. Attempting to load from profile a which has already been visited. Visited profiles: ['a', 'b']"), "{}", r.stderr);
    let r = tobira(&broken, &["credential-process", "--profile", "c"]);
    assert_eq!(r.code, Some(5));
    assert!(
        r.stderr.starts_with("tobira: The source_profile \"nope\" referenced in the profile \"c\" does not exist."),
        "{}",
        r.stderr
    );
}

/// Replaces the value of "Expiration" in a cache entry.
fn regex_free_replace_expiration(text: &str, new: &str) -> String {
    let key = "\"Expiration\": \"";
    let start = text.find(key).unwrap() + key.len();
    let end = start + text[start..].find('"').unwrap();
    format!("{}{}{}", &text[..start], new, &text[end..])
}

/// A metadata server on 127.0.0.1:0 (ECS container endpoint and IMDSv2)
/// handing out the given credentials; stops with the test's runtime.
async fn metadata_server(key: String, secret: String, token: String) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        loop {
            let Ok((mut s, _)) = listener.accept().await else { return };
            let (key, secret, token) = (key.clone(), secret.clone(), token.clone());
            tokio::spawn(async move {
                let mut buf = vec![0u8; 8192];
                let n = s.read(&mut buf).await.unwrap_or(0);
                let req = String::from_utf8_lossy(&buf[..n]).to_string();
                let line = req.lines().next().unwrap_or("");
                let creds = serde_json::json!({
                    "Code": "Success", "Type": "AWS-HMAC", "LastUpdated": "2026-01-01T00:00:00Z",
                    "AccessKeyId": key, "SecretAccessKey": secret, "Token": token, "Expiration": "2099-01-01T00:00:00Z",
                })
                .to_string();
                let (status, body) = if line.starts_with("PUT /latest/api/token") {
                    ("200 OK", "imds-session-token".to_string())
                } else if line.starts_with("GET /latest/meta-data/iam/security-credentials/ ") {
                    ("200 OK", "instance-role".to_string())
                } else if line.starts_with("GET /latest/meta-data/iam/security-credentials/instance-role ")
                    || line.starts_with("GET /ecs-creds ")
                {
                    ("200 OK", creds)
                } else {
                    ("404 Not Found", String::new())
                };
                // IMDSv2 token responses carry their lifetime.
                let ttl = if line.starts_with("PUT ") { "x-aws-ec2-metadata-token-ttl-seconds: 21600\r\n" } else { "" };
                let resp = format!(
                    "HTTP/1.1 {status}\r\n{ttl}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = s.write_all(resp.as_bytes()).await;
            });
        }
    });
    url
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn credential_source_from_container_and_instance_metadata() {
    let (s, mut t) = setup().await;
    // Temporary credentials tobira-idc knows (bob's MFA session) stand in for
    // what ECS or EC2 would hand out.
    let r = tobira(&t, &["export", "--profile", "bob-mfa", "--format", "process", "--mfa-code", &code(&s.idc, 0)]);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let (key, secret, token) = (
        v["AccessKeyId"].as_str().unwrap(),
        v["SecretAccessKey"].as_str().unwrap(),
        v["SessionToken"].as_str().unwrap(),
    );
    let md = metadata_server(key.into(), secret.into(), token.into()).await;
    let mut config = config(TOBIRA);
    config.push_str("[profile from-ecs]\nrole_arn = arn:aws:iam::123456789012:role/Audit\ncredential_source = EcsContainer\nexternal_id = audit-ext-1\nrole_session_name = ecs\n");
    config.push_str("[profile from-ec2]\nrole_arn = arn:aws:iam::123456789012:role/Audit\ncredential_source = Ec2InstanceMetadata\nexternal_id = audit-ext-1\nrole_session_name = ec2\n");
    t.write_config(&config);
    t.env("AWS_CONTAINER_CREDENTIALS_FULL_URI", &format!("{md}/ecs-creds"));
    t.env("AWS_EC2_METADATA_DISABLED", "false").env("AWS_EC2_METADATA_SERVICE_ENDPOINT", &md);
    for (profile, session) in [("from-ecs", "ecs"), ("from-ec2", "ec2")] {
        let r = tobira(&t, &["whoami", "--profile", profile, "--json"]);
        assert_eq!(r.code, Some(0), "{profile}: {r:?}");
        let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
        assert_eq!(v["arn"], format!("arn:aws:sts::123456789012:assumed-role/Audit/{session}"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn tobira_reuses_the_role_credentials_the_aws_cli_cached() {
    let (s, t) = setup().await;
    let venv = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin");
    #[allow(clippy::disallowed_methods)] // test switch
    if !venv.join("aws").exists() && std::env::var_os("TOBIRA_SKIP_INTEROP").is_some() {
        return;
    }
    // The AWS CLI v1 assumes Ops with a TOTP code typed on stdin (no terminal).
    let mut cmd = t.command(venv.join("python"));
    cmd.arg(venv.join("aws")).args(["sts", "get-caller-identity", "--profile", "switch"]);
    cmd.stdin(std::process::Stdio::piped()).stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    {
        use std::io::Write as _;
        let mut stdin = child.stdin.take().unwrap();
        writeln!(stdin, "{}", code(&s.idc, 0)).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // tobira finds the AWS CLI's cache entry: no code, no AssumeRole call.
    let calls = s.idc.count("AssumeRole");
    let r = tobira(&t, &["export", "--profile", "switch", "--format", "process"]);
    assert_eq!(r.code, Some(0), "{r:?}");
    assert_eq!(s.idc.count("AssumeRole"), calls);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["AccountId"], "123456789012");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_code_for_an_mfa_session_and_the_role_behind_it() {
    let (s, t) = setup().await;
    // keys + mfa_serial → MFA session; the role wants the same device: the
    // session satisfies it, so one code is enough (a second would be refused).
    let r = tobira(&t, &["whoami", "--profile", "switch-via-session", "--mfa-code", &code(&s.idc, 0), "--json"]);
    assert_eq!(r.code, Some(0), "{r:?}");
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert!(v["arn"].as_str().unwrap().contains(":assumed-role/Ops/"), "{v}");
    assert_eq!(s.idc.count("GetSessionToken"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn whoami_after_the_sign_in_is_revoked_drops_the_cached_credentials_and_says_to_sign_in() {
    let (s, t) = setup().await;
    login(&t);
    // SSO role credentials, and a role chained on them, both cached.
    assert_eq!(tobira(&t, &["whoami", "--profile", "audit"]).code, Some(0));
    let cache = t.aws_dir().join("cli/cache");
    let entries = || {
        std::fs::read_dir(&cache)
            .unwrap()
            .filter(|e| e.as_ref().unwrap().path().extension().is_some_and(|x| x == "json"))
            .count()
    };
    assert_eq!(entries(), 2);
    // The administrator deletes alice's sessions (seed 004): what was issued from them stops working.
    assert_eq!(s.idc.revoke_user_sessions("alice").unwrap(), 1);
    let r = tobira(&t, &["whoami", "--profile", "audit"]);
    assert_eq!(r.code, Some(7), "{r:?}");
    assert_eq!(
        r.stderr,
        "error: The SSO session associated with this profile has expired or is otherwise invalid.\n\nhint: sign in again with `tobira login --sso-session corp`\n"
    );
    assert_eq!(entries(), 0, "the refused credentials are dropped");
    let sessions = tobira(&t, &["sessions"]).stdout;
    assert!(!sessions.contains("valid until"), "the refused sign-in is not shown as valid: {sessions}");
    // A new sign-in works at once.
    login(&t);
    assert_eq!(tobira(&t, &["whoami", "--profile", "audit"]).code, Some(0));
}

/// The clock, read by the test (tobira takes it from its Context).
#[allow(clippy::disallowed_methods)]
fn now() -> jiff::Timestamp {
    jiff::Timestamp::now()
}
