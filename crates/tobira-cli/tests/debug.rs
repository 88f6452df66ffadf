//! `--debug` / `TOBIRA_DEBUG=1`: a trace on stderr of what tobira resolved,
//! read, called and cached, with no secret in it. A full run of login,
//! export and credential-process against tobira-idc, then every secret it
//! used (from the cache files and the outputs) is looked for in stderr.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] fns

use tobira_idc::Settings;
use tobira_test_support::{IdcServer, Run, TestEnv, bob_mfa_code, run};

const TOBIRA: &str = env!("CARGO_BIN_EXE_tobira");
const BOB_SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

const CONFIG: &str = "\
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
[profile bob-mfa]
mfa_serial = arn:aws:iam::123456789012:mfa/bob-phone
region = us-east-1
";

fn tobira(t: &TestEnv, args: &[&str]) -> Run {
    let mut cmd = t.command(TOBIRA);
    cmd.args(args);
    run(cmd)
}

/// Every string value of a JSON file whose key names a secret.
fn secrets_in(json: &serde_json::Value, out: &mut Vec<String>) {
    match json {
        serde_json::Value::Object(m) => {
            for (k, v) in m {
                let secret = ["accessToken", "refreshToken", "clientSecret", "SecretAccessKey", "SessionToken"]
                    .iter()
                    .any(|s| k.eq_ignore_ascii_case(s));
                match v {
                    serde_json::Value::String(s) if secret && !s.is_empty() => out.push(s.clone()),
                    other => secrets_in(other, out),
                }
            }
        }
        serde_json::Value::Array(a) => a.iter().for_each(|v| secrets_in(v, out)),
        _ => {}
    }
}

fn cached_secrets(t: &TestEnv) -> Vec<String> {
    let mut out = Vec::new();
    for dir in ["sso/cache", "cli/cache", "tobira/mfa-sessions"] {
        let Ok(entries) = std::fs::read_dir(t.aws_dir().join(dir)) else { continue };
        for e in entries {
            let path = e.unwrap().path();
            if path.extension().is_some_and(|x| x == "json") {
                let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
                secrets_in(&v, &mut out);
            }
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_debug_run_traces_every_step_and_no_secret() {
    let s = IdcServer::start(Settings { auto_approve: Some("alice".into()), ..Settings::default() }).await;
    let mut t = TestEnv::new();
    t.write_config(CONFIG).write_credentials(&format!(
        "[bob-mfa]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = {BOB_SECRET}\n"
    ));
    t.env("AWS_ENDPOINT_URL", &s.url);
    let mut stderr = String::new();
    let mut stdout = String::new();
    let mut step = |args: &[&str]| {
        let r = tobira(&t, args);
        assert_eq!(r.code, Some(0), "{args:?}: {r:?}");
        stderr.push_str(&r.stderr);
        stdout.push_str(&r.stdout);
    };
    step(&["--debug", "login", "--sso-session", "corp", "--use-device-code", "--no-browser"]);
    step(&["--debug", "export", "--profile", "audit"]);
    step(&["--debug", "credential-process", "--profile", "dev"]);
    step(&["--debug", "export", "--profile", "dev", "--format", "process"]);
    let mfa_code = bob_mfa_code(&s.idc, 0);
    step(&["--debug", "export", "--profile", "bob-mfa", "--mfa-code", &mfa_code]);
    // TOBIRA_DEBUG=1 does the same as --debug.
    t.env("TOBIRA_DEBUG", "1");
    let r = tobira(&t, &["whoami", "--profile", "audit"]);
    assert_eq!(r.code, Some(0), "{r:?}");
    assert!(r.stderr.contains("GetCallerIdentity"), "{}", r.stderr);
    stderr.push_str(&r.stderr);

    // What was resolved, read, called and cached is there.
    for expected in [
        "command=\"login\"",
        "operation=\"RegisterClient\"",
        "operation=\"StartDeviceAuthorization\"",
        "caching the SSO token",
        "resolved the profile",
        "method=\"assume-role\"",
        "operation=\"GetRoleCredentials\"",
        "operation=\"AssumeRole\"",
        "operation=\"GetSessionToken\"",
        "caching credentials",
        "read the SSO token",
        "the cached credentials of the last step are fresh: no network",
    ] {
        assert!(stderr.contains(expected), "no `{expected}` in the trace:\n{stderr}");
    }
    // And no secret: the cached ones, the ones printed, the MFA code, bob's key.
    let mut secrets = cached_secrets(&t);
    for line in stdout.lines() {
        for var in ["AWS_SECRET_ACCESS_KEY=", "AWS_SESSION_TOKEN="] {
            if let Some(v) = line.strip_prefix(&format!("export {var}")) {
                secrets.push(v.to_string());
            }
        }
        for key in ["\"SecretAccessKey\": \"", "\"SessionToken\": \""] {
            if let Some(rest) = line.trim().strip_prefix(key) {
                secrets.push(rest.trim_end_matches(['"', ',']).to_string());
            }
        }
    }
    secrets.push(mfa_code.clone());
    secrets.push(BOB_SECRET.to_string());
    secrets.sort();
    secrets.dedup();
    // Tokens, client secrets, two sets of role credentials, an MFA session's.
    assert!(secrets.len() >= 10, "{secrets:?}");
    for secret in &secrets {
        assert!(secret.len() >= 6, "{secret}");
        assert!(!stderr.contains(secret.as_str()), "a secret ({}…) is in the debug output:\n{stderr}", &secret[..4]);
    }
}

#[test]
fn without_debug_stderr_stays_quiet() {
    let t = TestEnv::new();
    t.write_config("[profile x]\nregion = us-east-1\n");
    let r = tobira(&t, &["profiles"]);
    assert_eq!(r.code, Some(0));
    assert_eq!(r.stderr, "");
    let r = tobira(&t, &["--debug", "profiles"]);
    assert!(r.stderr.contains("starting") && r.stderr.contains("command=\"profiles\""), "{}", r.stderr);
    let mut t = t;
    t.env("TOBIRA_DEBUG", "0");
    assert_eq!(tobira(&t, &["profiles"]).stderr, "");
}
