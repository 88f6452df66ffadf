//! `tobira configure iam-user` and `tobira configure role`: with flags and
//! no terminal (never a prompt, the missing flag named), the files compared
//! byte for byte with what `aws configure set` writes, botocore using the
//! written profiles against tobira-idc (bob's keys, his MFA device, the Ops
//! role that wants it), and the wizards driven in a pseudo-terminal.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] fns

use std::path::PathBuf;

use tobira_idc::Settings;
use tobira_test_support::{IdcServer, Run, TestEnv, bob_mfa_code as code, run, run_with_input};

const TOBIRA: &str = env!("CARGO_BIN_EXE_tobira");
const BOB_KEY: &str = "AKIAIOSFODNN7EXAMPLE";
const BOB_SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const BOB_MFA: &str = "arn:aws:iam::123456789012:mfa/bob-phone";
const OPS: &str = "arn:aws:iam::123456789012:role/Ops";
const AUDIT: &str = "arn:aws:iam::123456789012:role/Audit";

/// What was there before: kept byte for byte.
const CONFIG_BEFORE: &str = "# my settings\n[default]\nregion = eu-west-1\n";
const CREDENTIALS_BEFORE: &str =
    "; old keys\n[old]\naws_access_key_id = AKIAOLDOLDOLDOLDOLD1\naws_secret_access_key = old\n";

fn tobira(t: &TestEnv, args: &[&str]) -> Run {
    let mut cmd = t.command(TOBIRA);
    cmd.args(args);
    run(cmd)
}

/// `tobira ARGS` with `input` on standard input.
fn tobira_stdin(t: &TestEnv, args: &[&str], input: &str) -> Run {
    let mut cmd = t.command(TOBIRA);
    cmd.args(args);
    run_with_input(cmd, input)
}

fn venv() -> Option<PathBuf> {
    let bin = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin");
    #[allow(clippy::disallowed_methods)] // test switch
    if !bin.join("aws").exists() && std::env::var_os("TOBIRA_SKIP_INTEROP").is_some() {
        return None;
    }
    assert!(bin.join("aws").exists(), "{} is missing: run scripts/setup-python.sh", bin.display());
    Some(bin)
}

/// botocore resolves `profile` and calls STS GetCallerIdentity; an MFA
/// prompt of the assume-role provider is answered with `code`.
const WHO: &str = r#"
import sys, boto3
session = boto3.session.Session(profile_name=sys.argv[1])
provider = session._session.get_component("credential_provider").get_provider("assume-role")
provider._prompter = lambda prompt: sys.argv[2]
creds = session.get_credentials()
print(creds.method, session.client("sts", region_name="us-east-1").get_caller_identity()["Arn"])
"#;

fn botocore(t: &TestEnv, bin: &std::path::Path, profile: &str, code: &str) -> Run {
    let mut cmd = t.command(bin.join("python"));
    cmd.args(["-c", WHO, profile, code]);
    run(cmd)
}

#[test]
fn without_a_terminal_nothing_is_asked_and_the_missing_flag_is_named() {
    let t = TestEnv::new();
    let r = tobira(&t, &["configure", "iam-user"]);
    assert_eq!(r.code, Some(2), "{r:?}");
    assert_eq!(
        r.stderr,
        "error: the answer to `Profile name` is needed, and tobira does not ask questions without a terminal\n\nhint: give it with `--profile-name`\n"
    );
    let r = tobira(&t, &["configure", "iam-user", "--profile-name", "bob"]);
    assert_eq!(r.code, Some(2), "{r:?}");
    assert!(r.stderr.contains("hint: give it with `--access-key-id`"), "{}", r.stderr);
    // The secret: never an argument, and without a terminal only from stdin.
    let r = tobira(&t, &["configure", "iam-user", "--profile-name", "bob", "--access-key-id", BOB_KEY]);
    assert_eq!(r.code, Some(2), "{r:?}");
    assert!(
        r.stderr.starts_with("error: the secret access key is needed, and tobira does not ask questions without a terminal\n\nhint: give it with `--secret-access-key-stdin`\n\nhint: it is read from standard input, never from an argument"),
        "{}",
        r.stderr
    );
    let r = tobira(&t, &["configure", "iam-user", "--profile-name", "bob", "--secret-access-key", BOB_SECRET]);
    assert_eq!(r.code, Some(2), "{r:?}");
    assert!(r.stderr.contains("unexpected argument '--secret-access-key'"), "{}", r.stderr);
    let args =
        ["configure", "iam-user", "--profile-name", "bob", "--access-key-id", BOB_KEY, "--secret-access-key-stdin"];
    let r = tobira_stdin(&t, &args, "");
    assert_eq!(r.code, Some(2), "{r:?}");
    assert!(r.stderr.contains("standard input is empty"), "{}", r.stderr);
    let r = tobira_stdin(&t, &args, "one\ntwo\n");
    assert_eq!(r.code, Some(2), "{r:?}");
    assert!(r.stderr.contains("more than one line"), "{}", r.stderr);
    // Answers are checked before anything is written.
    let r = tobira(&t, &["configure", "iam-user", "--profile-name", "bob", "--access-key-id", "ASIAIOSFODNN7EXAMPLE"]);
    assert_eq!(r.code, Some(2), "{r:?}");
    assert!(r.stderr.contains("ASIA… keys are temporary"), "{}", r.stderr);
    let r = tobira_stdin(&t, &[&args[..], &["--mfa-serial", "bob phone"]].concat(), BOB_SECRET);
    assert_eq!(r.code, Some(2), "{r:?}");
    assert!(r.stderr.contains("--mfa-serial bob phone: not an MFA device"), "{}", r.stderr);
    assert!(!r.stderr.contains(BOB_SECRET) && !r.stdout.contains(BOB_SECRET));
    let r = tobira(&t, &["configure", "role", "--profile-name", "ops"]);
    assert_eq!(r.code, Some(2), "{r:?}");
    assert!(r.stderr.contains("hint: give it with `--role-arn`"), "{}", r.stderr);
    let r = tobira(&t, &["configure", "role", "--profile-name", "ops", "--role-arn", OPS]);
    assert_eq!(r.code, Some(2), "{r:?}");
    assert!(r.stderr.contains("hint: give it with `--source-profile`"), "{}", r.stderr);
    assert!(!t.config_path().exists() && !t.credentials_path().exists(), "nothing written");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn flags_write_what_aws_configure_set_writes_and_botocore_uses_it() {
    let s = IdcServer::start(Settings::default()).await;
    let mut t = TestEnv::new();
    t.env("AWS_ENDPOINT_URL", &s.url);
    t.write_config(CONFIG_BEFORE).write_credentials(CREDENTIALS_BEFORE);
    let r = tobira_stdin(
        &t,
        &[
            "configure",
            "iam-user",
            "--profile-name",
            "bob",
            "--access-key-id",
            BOB_KEY,
            "--secret-access-key-stdin",
            "--mfa-serial",
            BOB_MFA,
            "--default-region",
            "us-east-1",
            "--output",
            "json",
        ],
        &format!("{BOB_SECRET}\n"),
    );
    assert_eq!(r.code, Some(0), "{r:?}");
    assert_eq!(
        r.stdout,
        format!(
            "Wrote access key ****************MPLE of profile `bob` to ~/.aws/credentials, and its settings to ~/.aws/config.\nWith `mfa_serial` ({BOB_MFA}), tobira asks for one code per MFA session (12 hours) for this profile; roles that want the device: `tobira configure role --source-profile bob`.\nTo use this profile, specify the profile name using --profile, as shown:\n\naws sts get-caller-identity --profile bob\n"
        )
    );
    assert_eq!(
        r.stderr,
        "warning: ~/.aws/credentials is accessible by other users (mode 644); restrict it to your user with `chmod 600 ~/.aws/credentials`\n",
        "the file existed with mode 0644, which is kept"
    );
    let r = tobira(&t, &["configure", "role", "--profile-name", "ops", "--role-arn", OPS, "--source-profile", "bob"]);
    assert_eq!(r.code, Some(0), "{r:?}");
    assert_eq!(
        r.stdout,
        format!(
            "Wrote profile `ops` to ~/.aws/config: role {OPS}, assumed with the credentials of profile `bob` and a code from {BOB_MFA}.\nTo use this profile, specify the profile name using --profile, as shown:\n\naws sts get-caller-identity --profile ops\n"
        )
    );
    let r = tobira(
        &t,
        &[
            "configure",
            "role",
            "--profile",
            "audit",
            "--role-arn",
            AUDIT,
            "--source-profile",
            "bob",
            "--mfa-serial",
            "",
            "--external-id",
            "audit-ext-1",
            "--duration-seconds",
            "1800",
            "--role-session-name",
            "bob-audit",
        ],
    );
    assert_eq!(r.code, Some(0), "{r:?}");

    // The same answers as `aws configure set` commands (files.md §6.6): keys
    // to the credentials file, the rest to the config file, each new
    // section appended without a blank line, each key as `key = value`.
    let config = format!(
        "{CONFIG_BEFORE}[profile bob]\nregion = us-east-1\noutput = json\nmfa_serial = {BOB_MFA}\n[profile ops]\nrole_arn = {OPS}\nsource_profile = bob\nmfa_serial = {BOB_MFA}\nregion = us-east-1\n[profile audit]\nrole_arn = {AUDIT}\nsource_profile = bob\nexternal_id = audit-ext-1\nduration_seconds = 1800\nrole_session_name = bob-audit\nregion = us-east-1\n"
    );
    let credentials =
        format!("{CREDENTIALS_BEFORE}[bob]\naws_access_key_id = {BOB_KEY}\naws_secret_access_key = {BOB_SECRET}\n");
    assert_eq!(std::fs::read_to_string(t.config_path()).unwrap(), config);
    assert_eq!(std::fs::read_to_string(t.credentials_path()).unwrap(), credentials);

    let Some(bin) = venv() else { return };
    // The AWS CLI's own writer, given the same answers, writes the same bytes.
    let aws_home = TestEnv::new();
    aws_home.write_config(CONFIG_BEFORE).write_credentials(CREDENTIALS_BEFORE);
    let sets: &[(&str, &str, &str)] = &[
        ("bob", "aws_access_key_id", BOB_KEY),
        ("bob", "aws_secret_access_key", BOB_SECRET),
        ("bob", "region", "us-east-1"),
        ("bob", "output", "json"),
        ("bob", "mfa_serial", BOB_MFA),
        ("ops", "role_arn", OPS),
        ("ops", "source_profile", "bob"),
        ("ops", "mfa_serial", BOB_MFA),
        ("ops", "region", "us-east-1"),
        ("audit", "role_arn", AUDIT),
        ("audit", "source_profile", "bob"),
        ("audit", "external_id", "audit-ext-1"),
        ("audit", "duration_seconds", "1800"),
        ("audit", "role_session_name", "bob-audit"),
        ("audit", "region", "us-east-1"),
    ];
    for (profile, key, value) in sets {
        let mut cmd = aws_home.command(bin.join("python"));
        cmd.arg(bin.join("aws")).args(["configure", "set", key, value, "--profile", profile]);
        let r = run(cmd);
        assert_eq!(r.code, Some(0), "aws configure set {key}: {r:?}");
    }
    assert_eq!(std::fs::read_to_string(aws_home.config_path()).unwrap(), config, "the AWS CLI's config");
    assert_eq!(std::fs::read_to_string(aws_home.credentials_path()).unwrap(), credentials, "the AWS CLI's credentials");

    // botocore reads the profiles and tobira-idc accepts what it signs.
    let r = botocore(&t, &bin, "bob", "");
    assert_eq!(r.code, Some(0), "{r:?}");
    assert_eq!(r.stdout, "shared-credentials-file arn:aws:iam::123456789012:user/bob\n");
    let r = botocore(&t, &bin, "ops", &code(&s.idc, 0));
    assert_eq!(r.code, Some(0), "{r:?}");
    assert!(
        r.stdout.starts_with("assume-role arn:aws:sts::123456789012:assumed-role/Ops/botocore-session-"),
        "{}",
        r.stdout
    );
    let r = botocore(&t, &bin, "audit", "");
    assert_eq!(r.code, Some(0), "{r:?}");
    assert_eq!(r.stdout, "assume-role arn:aws:sts::123456789012:assumed-role/Audit/bob-audit\n");
    // And tobira: one code for the MFA session, none for the role (same device).
    let r = tobira(&t, &["whoami", "--profile", "ops", "--mfa-code", &code(&s.idc, 1)]);
    assert_eq!(r.code, Some(0), "{r:?}");
    assert!(r.stdout.contains("assumed-role/Ops/"), "{}", r.stdout);
    assert_eq!(s.idc.count("AssumeRole"), 3);
}

#[test]
fn updating_keeps_what_is_not_answered_and_refuses_profiles_that_are_something_else() {
    let t = TestEnv::new();
    t.write_config(&format!(
        "[profile bob]\n# keep me\nregion = eu-west-1\nmfa_serial = {BOB_MFA}\n[profile sso]\nsso_session = corp\nsso_account_id = 111111111111\nsso_role_name = ReadOnly\n[sso-session corp]\nsso_start_url = https://d-1234567890.awsapps.com/start\nsso_region = us-east-1\n"
    ))
    .write_credentials(&format!(
        "[bob]\naws_access_key_id = {BOB_KEY}\naws_secret_access_key = {BOB_SECRET}\naws_session_token = stale\n"
    ));
    // The same key and no secret: the secret stays; '' removes the MFA device;
    // a stale session token goes (it would not belong to the keys).
    let r = tobira(&t, &["configure", "iam-user", "--profile", "bob", "--mfa-serial", "", "--output", "text"]);
    assert_eq!(r.code, Some(0), "{r:?}");
    assert!(
        std::fs::read_to_string(t.config_path())
            .unwrap()
            .starts_with("[profile bob]\n# keep me\nregion = eu-west-1\noutput = text\n[profile sso]\n")
    );
    assert_eq!(
        std::fs::read_to_string(t.credentials_path()).unwrap(),
        format!("[bob]\naws_access_key_id = {BOB_KEY}\naws_secret_access_key = {BOB_SECRET}\n")
    );
    // A new key needs its secret.
    let r = tobira(&t, &["configure", "iam-user", "--profile", "bob", "--access-key-id", "AKIANEWNEWNEWNEWNEW1"]);
    assert_eq!(r.code, Some(2), "{r:?}");
    assert!(r.stderr.contains("`--secret-access-key-stdin`"), "{}", r.stderr);

    // Keys in an SSO profile would never be used; a role profile with keys of its own neither.
    let r = tobira_stdin(
        &t,
        &["configure", "iam-user", "--profile", "sso", "--access-key-id", BOB_KEY, "--secret-access-key-stdin"],
        BOB_SECRET,
    );
    assert_eq!(r.code, Some(5), "{r:?}");
    assert!(
        r.stderr.starts_with("error: profile `sso` already gets its credentials another way (`sso_session` at ~/.aws/config:6, `sso_account_id` at ~/.aws/config:7, `sso_role_name` at ~/.aws/config:8)"),
        "{}",
        r.stderr
    );
    let r = tobira(&t, &["configure", "role", "--profile", "bob", "--role-arn", OPS, "--source-profile", "sso"]);
    assert_eq!(r.code, Some(5), "{r:?}");
    assert!(
        r.stderr.contains("profile `bob` has credentials of its own (`aws_access_key_id` at ~/.aws/credentials:2"),
        "{}",
        r.stderr
    );
    let r = tobira(&t, &["configure", "role", "--profile", "ops", "--role-arn", OPS, "--source-profile", "bobb"]);
    assert_eq!(r.code, Some(4), "{r:?}");
    assert!(
        r.stderr.contains("error: the source profile `bobb` does not exist\n\nhint: did you mean `bob`?"),
        "{}",
        r.stderr
    );
    let r = tobira(&t, &["configure", "role", "--profile", "ops", "--role-arn", "arn:aws:iam::1234:role/Ops"]);
    assert_eq!(r.code, Some(2), "{r:?}");
    assert!(r.stderr.contains("not a role ARN such as arn:aws:iam::123456789012:role/Ops"), "{}", r.stderr);
    let r = tobira(
        &t,
        &[
            "configure",
            "role",
            "--profile",
            "ops",
            "--role-arn",
            OPS,
            "--source-profile",
            "bob",
            "--duration-seconds",
            "60",
        ],
    );
    assert_eq!(r.code, Some(2), "{r:?}");
    assert!(r.stderr.contains("from 900 (15 minutes) to 43200 (12 hours)"), "{}", r.stderr);
    assert!(!std::fs::read_to_string(t.config_path()).unwrap().contains("[profile ops]"), "nothing written");
}

/// Runs tobira in a pseudo-terminal (scripts/pty_drive.py, Python stdlib only).
fn in_pty(t: &TestEnv, steps: serde_json::Value, args: &[&str]) -> Run {
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/pty_drive.py");
    let mut cmd = t.command("python3");
    cmd.arg(script).arg(steps.to_string()).arg("--").arg(TOBIRA).args(args).env("TERM", "xterm");
    run(cmd)
}

#[test]
fn the_wizards_in_a_terminal_ask_every_question_and_never_echo_the_secret() {
    let t = TestEnv::new();
    t.write_config("[profile other]\nregion = eu-west-1\n");
    let steps = serde_json::json!([
        {"expect": "Profile name [None]:"},
        {"send": "bob\r"},
        {"expect": "AWS Access Key ID [None]:"},
        {"send": "ASIAIOSFODNN7EXAMPLE\r"},
        {"expect": "ASIA… keys are temporary"},
        {"expect": "AWS Access Key ID [None]:"},
        {"send": format!("{BOB_KEY}\r")},
        {"expect": "AWS Secret Access Key [None]:"},
        {"send": "\r"},
        {"expect": "A value is required"},
        {"send": format!("{BOB_SECRET}\r")},
        {"expect": "MFA device ARN [None]:"},
        {"send": format!("{BOB_MFA}\r")},
        {"expect": "Default region name [None]:"},
        {"send": "us-east-1\r"},
        {"expect": "Default output format [None]:"},
        {"send": "\r"},
        {"expect": "aws sts get-caller-identity --profile bob"}
    ]);
    let r = in_pty(&t, steps, &["configure", "iam-user"]);
    assert_eq!(r.code, Some(0), "{}", r.stdout);
    assert!(!r.stdout.contains("wJalrXUtnFEMI"), "the secret is not echoed: {}", r.stdout);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(t.credentials_path()).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "a new credentials file is private: {mode:o}");
    }
    assert_eq!(
        std::fs::read_to_string(t.credentials_path()).unwrap(),
        format!("[bob]\naws_access_key_id = {BOB_KEY}\naws_secret_access_key = {BOB_SECRET}\n")
    );
    assert_eq!(
        std::fs::read_to_string(t.config_path()).unwrap(),
        format!("[profile other]\nregion = eu-west-1\n[profile bob]\nregion = us-east-1\nmfa_serial = {BOB_MFA}\n")
    );

    // The role wizard: the source profile picked from a list (type to
    // filter), the MFA device and region offered from it.
    let steps = serde_json::json!([
        {"expect": "Profile name [None]:"},
        {"send": "ops\r"},
        {"expect": "Role ARN [None]:"},
        {"send": format!("{OPS}\r")},
        {"expect": "Source profile"},
        {"send": "bo"},
        {"send": "\r"},
        {"expect": format!("MFA device ARN [{BOB_MFA}]:")},
        {"send": "\r"},
        {"expect": "External ID [None]:"},
        {"send": "\r"},
        {"expect": "Session duration in seconds [None]:"},
        {"send": "99\r"},
        {"expect": "from 900 (15 minutes)"},
        {"send": "3600\r"},
        {"expect": "Role session name [None]:"},
        {"send": "\r"},
        {"expect": "Default region name [us-east-1]:"},
        {"send": "\r"},
        {"expect": "Default output format [None]:"},
        {"send": "\r"},
        {"expect": "aws sts get-caller-identity --profile ops"}
    ]);
    let r = in_pty(&t, steps, &["configure", "role"]);
    assert_eq!(r.code, Some(0), "{}", r.stdout);
    assert!(
        std::fs::read_to_string(t.config_path()).unwrap().ends_with(&format!(
            "[profile ops]\nrole_arn = {OPS}\nsource_profile = bob\nmfa_serial = {BOB_MFA}\nduration_seconds = 3600\nregion = us-east-1\n"
        )),
        "{}",
        std::fs::read_to_string(t.config_path()).unwrap()
    );

    // Esc at a question: nothing written, exit 130.
    let before = std::fs::read_to_string(t.config_path()).unwrap();
    let steps = serde_json::json!([
        {"expect": "Profile name [None]:"},
        {"send": "carol\r"},
        {"expect": "AWS Access Key ID [None]:"},
        {"send": "\x1b"},
    ]);
    let r = in_pty(&t, steps, &["configure", "iam-user"]);
    assert_eq!(r.code, Some(130), "{}", r.stdout);
    assert!(r.stdout.contains("cancelled; nothing was written"), "{}", r.stdout);
    assert_eq!(std::fs::read_to_string(t.config_path()).unwrap(), before);
}
