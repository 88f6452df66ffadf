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
            "Using the account ID 111111111111\nThe only role available to you is: ReadOnly\nUsing the role name \"ReadOnly\"\nTo use this profile, specify the profile name using --profile, as shown:\n\naws sts get-caller-identity --profile ReadOnly-111111111111\ntobira whoami --profile ReadOnly-111111111111\n"
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
        {"expect": "tobira whoami --profile ReadOnly-222222222222"}
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

/// The AWS CLI 2.36 offers the current profile's values as defaults (its
/// `[default]` here): `sso_session`, `region`, `output`. Taking every default
/// (Enter at each prompt, or no flag without a terminal) gives the file the
/// AWS CLI writes (flows.md §2, files.md §9), byte for byte.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn defaults_come_from_the_default_profile_as_in_the_aws_cli() {
    let s = start().await;
    let mut t = TestEnv::new();
    t.env("AWS_ENDPOINT_URL", &s.url);
    let before = "[default]\nregion = eu-west-1\noutput = yaml\n";
    t.write_config(before);
    let r = tobira(
        &t,
        &[
            "configure",
            "sso",
            "--sso-session",
            "my-sso",
            "--start-url",
            START,
            "--sso-region",
            "us-east-1",
            "--account",
            "111111111111",
            "--use-device-code",
            "--no-browser",
        ],
    );
    assert_eq!(r.code, Some(0), "{r:?}");
    // What `aws configure sso` writes for these answers and Enter at the
    // region and output prompts (which show `[eu-west-1]` and `[yaml]`).
    assert_eq!(
        std::fs::read_to_string(t.config_path()).unwrap(),
        "[default]\nregion = eu-west-1\noutput = yaml\n[profile ReadOnly-111111111111]\nsso_session = my-sso\nsso_account_id = 111111111111\nsso_role_name = ReadOnly\nregion = eu-west-1\noutput = yaml\n[sso-session my-sso]\nsso_start_url = https://d-1234567890.awsapps.com/start\nsso_region = us-east-1\nsso_registration_scopes = sso:account:access\n"
    );
    assert!(r.stdout.ends_with("aws sts get-caller-identity --profile ReadOnly-111111111111\ntobira whoami --profile ReadOnly-111111111111\n"), "{}", r.stdout);

    // A `[default]` that uses a session: that session is the default answer.
    let with_session = "[default]\nsso_session = my-sso\nsso_account_id = 111111111111\nsso_role_name = ReadOnly\nregion = ap-northeast-1\n[sso-session my-sso]\nsso_start_url = https://d-1234567890.awsapps.com/start\nsso_region = us-east-1\nsso_registration_scopes = sso:account:access\n";
    t.write_config(with_session);
    let logins = s.idc.count("CreateToken");
    let r = tobira(
        &t,
        &["configure", "sso", "--account", "222222222222", "--role", "FullAccess", "--profile-name", "full"],
    );
    assert_eq!(r.code, Some(0), "{r:?}");
    assert_eq!(s.idc.count("CreateToken"), logins, "the session's cached sign-in was reused");
    assert_eq!(
        std::fs::read_to_string(t.config_path()).unwrap(),
        format!(
            "{with_session}[profile full]\nsso_session = my-sso\nsso_account_id = 222222222222\nsso_role_name = FullAccess\nregion = ap-northeast-1\n"
        )
    );
    // `--profile default` names the same profile; its conclusion is the default one.
    let r =
        tobira(&t, &["configure", "sso", "--profile", "default", "--account", "222222222222", "--role", "ReadOnly"]);
    assert_eq!(r.code, Some(0), "{r:?}");
    assert!(
        r.stdout.ends_with(
            "Run the following command to verify your configuration:\n\naws sts get-caller-identity\ntobira whoami\n"
        ),
        "{}",
        r.stdout
    );
    assert!(std::fs::read_to_string(t.config_path()).unwrap().starts_with("[default]\nsso_session = my-sso\nsso_account_id = 222222222222\nsso_role_name = ReadOnly\nregion = ap-northeast-1\n[sso-session my-sso]"));
}

/// A sign-in the portal refuses never gives a profile without account and
/// role: a cached one is replaced by a new sign-in; a new one refused too
/// is an error, and nothing is written.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_refused_sign_in_is_signed_in_again_never_written_half() {
    let s = start().await;
    let mut t = TestEnv::new();
    t.env("AWS_ENDPOINT_URL", &s.url);
    let base = ["configure", "sso", "--sso-session", "corp", "--start-url", START, "--sso-region", "us-east-1"];
    let mut first = base.to_vec();
    first.extend(["--account", "111111111111", "--profile-name", "one", "--use-device-code", "--no-browser"]);
    assert_eq!(tobira(&t, &first).code, Some(0));
    // The administrator ends alice's sessions: the cached token is refused.
    s.idc.revoke_user_sessions("alice").unwrap();
    let logins = s.idc.count("CreateToken");
    let r = tobira(
        &t,
        &[
            "configure",
            "sso",
            "--sso-session",
            "corp",
            "--account",
            "222222222222",
            "--role",
            "ReadOnly",
            "--profile-name",
            "two",
            "--use-device-code",
            "--no-browser",
        ],
    );
    assert_eq!(r.code, Some(0), "{r:?}");
    assert!(
        r.stdout.contains("The cached sign-in was refused by the SSO portal (UnauthorizedException: "),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("signing in again.\n"), "{}", r.stdout);
    assert_eq!(s.idc.count("CreateToken"), logins + 1);
    assert!(
        std::fs::read_to_string(t.config_path())
            .unwrap()
            .contains("[profile two]\nsso_session = corp\nsso_account_id = 222222222222\nsso_role_name = ReadOnly\n")
    );
    assert!(!r.stdout.contains("Successfully configured"));

    // Refused twice (the cached sign-in, then the new one): an error, nothing written.
    let before = std::fs::read_to_string(t.config_path()).unwrap();
    s.idc.revoke_user_sessions("alice").unwrap();
    let refuse =
        tobira_idc::OneShot { operation: "ListAccounts".into(), code: "UnauthorizedException".into(), status: 401 };
    s.idc.set_faults(tobira_idc::Faults { one_shot: [refuse.clone(), refuse].into(), ..Default::default() });
    let r = tobira(
        &t,
        &[
            "configure",
            "sso",
            "--sso-session",
            "corp",
            "--account",
            "111111111111",
            "--profile-name",
            "three",
            "--use-device-code",
            "--no-browser",
        ],
    );
    assert_eq!(r.code, Some(7), "{r:?}");
    assert!(
        r.stderr.starts_with(
            "error: cannot list your AWS accounts and roles: the SSO portal refused the sign-in (UnauthorizedException"
        ),
        "{}",
        r.stderr
    );
    assert!(r.stderr.ends_with("; nothing was written\n\nhint: sign in again with `tobira login --sso-session corp`, then run this command again\n"), "{}", r.stderr);
    assert_eq!(std::fs::read_to_string(t.config_path()).unwrap(), before);
    assert!(!r.stdout.contains("Successfully configured"));
}
