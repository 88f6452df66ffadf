//! `tobira configure sso` / `sso-session` without a terminal: flags only,
//! never a prompt, and the files written exactly as the AWS CLI writes them.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] fns

use tobira_idc::Settings;
use tobira_test_support::{IdcServer, Run, TestEnv, run};

const TOBIRA: &str = env!("CARGO_BIN_EXE_tobira");
const START: &str = "https://d-1234567890.awsapps.com/start";

async fn start() -> IdcServer {
    IdcServer::start(Settings { auto_approve: Some("alice".into()), ..Settings::default() }).await
}

fn tobira(t: &TestEnv, args: &[&str]) -> Run {
    let mut cmd = t.command(TOBIRA);
    cmd.args(args);
    run(cmd)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn configure_sso_with_flags_writes_what_the_aws_cli_writes() {
    let s = start().await;
    let mut t = TestEnv::new();
    t.env("AWS_ENDPOINT_URL", &s.url);
    let base = [
        "configure",
        "sso",
        "--sso-session",
        "my-sso",
        "--start-url",
        START,
        "--sso-region",
        "us-east-1",
        "--use-device-code",
        "--no-browser",
    ];

    // Two accounts and no --account: an error naming the flag, nothing written.
    let r = tobira(&t, &base);
    assert_eq!(r.code, Some(2), "{r:?}");
    assert!(r.stdout.contains("There are") || r.stdout.contains("Successfully logged into Start URL"), "{}", r.stdout);
    assert!(
        r.stderr.starts_with("error: the AWS account (there are 2) is needed, and tobira does not ask questions without a terminal\n\nhint: give it with `--account`"),
        "{}",
        r.stderr
    );
    assert!(!t.config_path().exists());

    let mut args = base.to_vec();
    args.extend(["--account", "111111111111", "--default-region", "us-west-2", "--output", "json"]);
    let r = tobira(&t, &args);
    assert_eq!(r.code, Some(0), "{r:?}");
    assert!(
        r.stdout.ends_with(
            "Using the account ID 111111111111\nThe only role available to you is: ReadOnly\nUsing the role name \"ReadOnly\"\nTo use this profile, specify the profile name using --profile, as shown:\n\naws sts get-caller-identity --profile ReadOnly-111111111111\n"
        ),
        "{}",
        r.stdout
    );
    // files.md §9, byte for byte.
    assert_eq!(
        std::fs::read_to_string(t.config_path()).unwrap(),
        "[profile ReadOnly-111111111111]\nsso_session = my-sso\nsso_account_id = 111111111111\nsso_role_name = ReadOnly\nregion = us-west-2\noutput = json\n[sso-session my-sso]\nsso_start_url = https://d-1234567890.awsapps.com/start\nsso_region = us-east-1\nsso_registration_scopes = sso:account:access\n"
    );

    // The session exists now: no questions about it, no new sign-in.
    let logins = s.idc.count("CreateToken");
    let r = tobira(
        &t,
        &["configure", "sso", "--sso-session", "my-sso", "--account", "222222222222", "--role", "FullAccess"],
    );
    assert_eq!(r.code, Some(0), "{r:?}");
    assert_eq!(s.idc.count("CreateToken"), logins, "the cached token was reused");
    let config = std::fs::read_to_string(t.config_path()).unwrap();
    assert!(config.ends_with("[profile FullAccess-222222222222]\nsso_session = my-sso\nsso_account_id = 222222222222\nsso_role_name = FullAccess\n"), "{config}");
    let r = tobira(&t, &["configure", "sso", "--sso-session", "my-sso", "--account", "333333333333"]);
    assert_eq!(r.code, Some(2));
    assert!(
        r.stderr.contains(
            "--account 333333333333: not one of the AWS accounts available to you (222222222222, 111111111111)"
        ),
        "{}",
        r.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn configure_sso_session_and_missing_answers() {
    let s = start().await;
    let mut t = TestEnv::new();
    t.env("AWS_ENDPOINT_URL", &s.url);
    t.write_config("# my settings\n[default]\nregion = eu-west-1\n");
    let r = tobira(
        &t,
        &["configure", "sso-session", "--sso-session", "corp", "--start-url", START, "--sso-region", "us-east-1"],
    );
    assert_eq!(r.code, Some(0), "{r:?}");
    assert_eq!(
        r.stdout,
        "\nCompleted configuring SSO session: corp\nRun the following to login and refresh access token for this session:\n\ntobira login --sso-session corp\n"
    );
    assert_eq!(
        std::fs::read_to_string(t.config_path()).unwrap(),
        "# my settings\n[default]\nregion = eu-west-1\n[sso-session corp]\nsso_start_url = https://d-1234567890.awsapps.com/start\nsso_region = us-east-1\nsso_registration_scopes = sso:account:access\n"
    );
    let r = tobira(&t, &["configure", "sso-session", "--sso-session", "x"]);
    assert_eq!(r.code, Some(2));
    assert!(r.stderr.contains("hint: give it with `--start-url`"), "{}", r.stderr);
    let r = tobira(
        &t,
        &["configure", "sso", "--sso-session", "new", "--start-url", "not a url", "--sso-region", "us-east-1"],
    );
    assert_eq!(r.code, Some(2));
    assert!(r.stderr.contains("--start-url: Not a valid Start URL"), "{}", r.stderr);
}

/// Runs tobira in a pseudo-terminal (scripts/pty_drive.py, Python stdlib only).
fn in_pty(t: &TestEnv, steps: serde_json::Value, args: &[&str]) -> Run {
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/pty_drive.py");
    let mut cmd = t.command("python3");
    cmd.arg(script).arg(steps.to_string()).arg("--").arg(TOBIRA).args(args).env("TERM", "xterm");
    run(cmd)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn pickers_with_arrow_keys_and_type_to_filter_in_a_terminal() {
    let s = start().await;
    let mut t = TestEnv::new();
    t.env("AWS_ENDPOINT_URL", &s.url).env("AWS_PROFILE", "legacy-default");
    let steps = serde_json::json!([
        {"expect": "SSO registration scopes [sso:account:access]:"},
        {"send": "\r"},
        {"expect": "There are 2 AWS accounts available to you."},
        {"expect": "Pick the AWS account"},
        {"send": "devel"},
        {"expect": "Development, dev@example.com (222222222222)"},
        {"send": "\r"},
        {"expect": "There are 2 roles available to you."},
        {"send": "\x1b[B"},
        {"send": "\r"},
        {"expect": "Using the role name \"ReadOnly\""},
        {"expect": "Default client Region [None]:"},
        {"send": "ap-northeast-1\r"},
        {"expect": "CLI default output format (json if not specified) [None]:"},
        {"send": "\r"},
        {"expect": "AWS_PROFILE is set to `legacy-default`"},
        {"expect": "Profile name [ReadOnly-222222222222]:"},
        {"send": "\r"},
        {"expect": "aws sts get-caller-identity --profile ReadOnly-222222222222"}
    ]);
    let r = in_pty(
        &t,
        steps,
        &[
            "configure",
            "sso",
            "--sso-session",
            "corp",
            "--start-url",
            START,
            "--sso-region",
            "us-east-1",
            "--use-device-code",
            "--no-browser",
        ],
    );
    assert_eq!(r.code, Some(0), "{}", r.stdout);
    assert_eq!(
        std::fs::read_to_string(t.config_path()).unwrap(),
        "[profile ReadOnly-222222222222]\nsso_session = corp\nsso_account_id = 222222222222\nsso_role_name = ReadOnly\nregion = ap-northeast-1\n[sso-session corp]\nsso_start_url = https://d-1234567890.awsapps.com/start\nsso_region = us-east-1\nsso_registration_scopes = sso:account:access\n"
    );
}
