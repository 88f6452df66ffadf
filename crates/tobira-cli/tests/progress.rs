//! Progress on a terminal, nothing in a pipe: every network step that can
//! take more than a moment shows a spinner on stderr when it is a terminal
//! (run here in a pseudo-terminal by scripts/pty_drive.py), and stderr stays
//! empty when it is not. tobira-idc answers slowly (injected latency) so the
//! spinner has time to draw.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] fns

use tobira_idc::{Faults, Settings};
use tobira_test_support::{IdcServer, Run, TestEnv, run};

const TOBIRA: &str = env!("CARGO_BIN_EXE_tobira");

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
";

fn tobira(t: &TestEnv, args: &[&str]) -> Run {
    let mut cmd = t.command(TOBIRA);
    cmd.args(args);
    run(cmd)
}

/// Runs tobira in a pseudo-terminal, waiting for `expect` on the screen.
fn in_pty(t: &TestEnv, expect: &[&str], args: &[&str]) -> Run {
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/pty_drive.py");
    let steps: Vec<serde_json::Value> = expect.iter().map(|e| serde_json::json!({ "expect": e })).collect();
    let mut cmd = t.command("python3");
    cmd.arg(script)
        .arg(serde_json::Value::Array(steps).to_string())
        .arg("--")
        .arg(TOBIRA)
        .args(args)
        .env("TERM", "xterm");
    run(cmd)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn spinners_on_a_terminal_and_nothing_in_a_pipe() {
    let s = IdcServer::start(Settings { auto_approve: Some("alice".into()), ..Settings::default() }).await;
    let mut t = TestEnv::new();
    t.write_config(CONFIG);
    t.env("AWS_ENDPOINT_URL", &s.url);
    assert_eq!(tobira(&t, &["login", "--sso-session", "corp", "--use-device-code", "--no-browser"]).code, Some(0));
    s.idc.set_faults(Faults { latency_ms: 400, ..Faults::default() });

    // A chain (SSO role, then a role assumed with it), then whoami's STS call.
    let r = in_pty(
        &t,
        &["Getting credentials for profile audit...", "Asking STS who these credentials are..."],
        &["whoami", "--profile", "audit"],
    );
    assert_eq!(r.code, Some(0), "{}", r.stdout);
    assert!(r.stdout.contains("arn       arn:aws:sts::123456789012:assumed-role/Audit/"), "{}", r.stdout);
    // Account and role listing.
    let r = in_pty(&t, &["Listing accounts", "accounts' roles listed"], &["sso", "roles", "--sso-session", "corp"]);
    assert_eq!(r.code, Some(0), "{}", r.stdout);
    let r = in_pty(&t, &["Listing accounts"], &["sso", "accounts", "--sso-session", "corp"]);
    assert_eq!(r.code, Some(0), "{}", r.stdout);
    // doctor's questions to the services.
    let r = in_pty(
        &t,
        &[
            "Asking the SSO portal whether the sign-in of sso-session `corp` is alive...",
            "Comparing this machine's clock with STS's...",
        ],
        &["doctor", "--profile", "dev"],
    );
    assert_eq!(r.code, Some(0), "{}", r.stdout);

    // The same steps in a pipe: not a byte on stderr.
    for e in std::fs::read_dir(t.aws_dir().join("cli/cache")).unwrap() {
        std::fs::remove_file(e.unwrap().path()).unwrap();
    }
    for args in [
        &["whoami", "--profile", "audit"][..],
        &["sso", "roles", "--sso-session", "corp"],
        &["sso", "accounts", "--sso-session", "corp"],
        &["doctor", "--profile", "dev"],
    ] {
        let r = tobira(&t, args);
        assert_eq!(r.code, Some(0), "{args:?}: {r:?}");
        assert_eq!(r.stderr, "", "{args:?}");
    }
}
