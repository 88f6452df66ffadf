//! A refused MFA code says what it probably was (not a code at all, a
//! wrong code, or a code already used in its 30-second step) and, at a
//! terminal, is asked for again, up to 3 more times, instead of ending the
//! command; `--mfa-code` ends it with the explanation. Against tobira-idc,
//! whose STS accepts each step's code once (as AWS does).
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] fns

use tobira_idc::Settings;
use tobira_test_support::{IdcServer, Run, TestEnv, bob_mfa_code as code, run};

const TOBIRA: &str = env!("CARGO_BIN_EXE_tobira");
const PROMPT: &str = "Enter MFA code for arn:aws:iam::123456789012:mfa/bob-phone: ";

const CONFIG: &str = "\
[profile bob]
region = us-east-1
[profile switch]
role_arn = arn:aws:iam::123456789012:role/Ops
source_profile = bob
mfa_serial = arn:aws:iam::123456789012:mfa/bob-phone
[profile switch2]
role_arn = arn:aws:iam::123456789012:role/Ops
source_profile = bob
mfa_serial = arn:aws:iam::123456789012:mfa/bob-phone
role_session_name = second
[profile switch3]
role_arn = arn:aws:iam::123456789012:role/Ops
source_profile = bob
mfa_serial = arn:aws:iam::123456789012:mfa/bob-phone
role_session_name = third
";

const CREDENTIALS: &str = "\
[bob]
aws_access_key_id = AKIAIOSFODNN7EXAMPLE
aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY
";

async fn setup() -> (IdcServer, TestEnv) {
    let s = IdcServer::start(Settings::default()).await;
    let mut t = TestEnv::new();
    t.write_config(CONFIG).write_credentials(CREDENTIALS);
    t.env("AWS_ENDPOINT_URL", &s.url);
    (s, t)
}

fn tobira(t: &TestEnv, args: &[&str]) -> Run {
    let mut cmd = t.command(TOBIRA);
    cmd.args(args);
    run(cmd)
}

/// Six digits that are the code of no step the service would accept now.
fn wrong(s: &IdcServer) -> String {
    let near: Vec<String> = (-2..=2).map(|o| code(&s.idc, o)).collect();
    (0..).map(|n: u32| format!("{:06}", (n * 7919 + 13) % 1_000_000)).find(|c| !near.contains(c)).unwrap()
}

fn in_pty(t: &TestEnv, steps: serde_json::Value, args: &[&str]) -> Run {
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/pty_drive.py");
    let mut cmd = t.command("python3");
    cmd.arg(script).arg(steps.to_string()).arg("--").arg(TOBIRA).args(args).env("TERM", "xterm");
    run(cmd)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_refused_mfa_code_flag_says_which_it_probably_was() {
    let (s, t) = setup().await;
    // Not a code: never sent.
    let r = tobira(&t, &["whoami", "--profile", "switch", "--mfa-code", "12ab56"]);
    assert_eq!(r.code, Some(2), "{r:?}");
    assert_eq!(
        r.stderr,
        "error: the MFA code for arn:aws:iam::123456789012:mfa/bob-phone is not 6 digits\n\nhint: an MFA code is the 6 digits your authenticator shows\n\nhint: run the command again with the current code (`--mfa-code CODE`, or type it when asked)\n"
    );
    assert_eq!(s.idc.count("AssumeRole"), 0, "nothing was sent");
    // A wrong code: the service's words, and what it probably was.
    let r = tobira(&t, &["whoami", "--profile", "switch", "--mfa-code", &wrong(&s)]);
    assert_eq!(r.code, Some(8), "{r:?}");
    assert!(
        r.stderr.starts_with("error: An error occurred (AccessDenied) when calling the AssumeRole operation: MultiFactorAuthentication failed with invalid MFA one time pass code. \n\nhint: the code is probably wrong: it is not the current code of arn:aws:iam::123456789012:mfa/bob-phone (a typo, another device's code, or the device's clock is off), or another program already used it in this 30-second step; the next code appears in "),
        "{}",
        r.stderr
    );
    // The right code, then the same code for another role: already used.
    let c = code(&s.idc, 0);
    assert_eq!(tobira(&t, &["whoami", "--profile", "switch", "--mfa-code", &c]).code, Some(0));
    let r = tobira(&t, &["whoami", "--profile", "switch2", "--mfa-code", &c]);
    assert_eq!(r.code, Some(8), "{r:?}");
    assert!(
        r.stderr.contains("\n\nhint: that code was already used: arn:aws:iam::123456789012:mfa/bob-phone accepted it "),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains(" s ago, and each code works once; the next code appears in "), "{}", r.stderr);
    assert!(!r.stderr.contains(&c), "the code is never shown: {}", r.stderr);
    // The same for an MFA session (GetSessionToken), the other call that takes a code.
    t.write_config(&format!("{CONFIG}[profile bob-mfa]\nmfa_serial = arn:aws:iam::123456789012:mfa/bob-phone\n"));
    t.write_credentials(&format!("{CREDENTIALS}[bob-mfa]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n"));
    let r = tobira(&t, &["whoami", "--profile", "bob-mfa", "--mfa-code", &c]);
    assert_eq!(r.code, Some(8), "{r:?}");
    assert!(r.stderr.contains("when calling the GetSessionToken operation"), "{}", r.stderr);
    assert!(r.stderr.contains("hint: that code was already used"), "{}", r.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn at_a_terminal_a_refused_code_is_explained_and_asked_again() {
    let (s, t) = setup().await;
    let right = code(&s.idc, 0);
    let steps = serde_json::json!([
        {"expect": PROMPT},
        {"send": "12ab\r"},
        {"expect": "Code refused: an MFA code is the 6 digits your authenticator shows. Asking again (2 more tries after this one)."},
        {"expect": PROMPT},
        {"send": format!("{}\r", wrong(&s))},
        {"expect": "Code refused: the code is probably wrong: it is not the current code of arn:aws:iam::123456789012:mfa/bob-phone"},
        {"expect": "Asking again (1 more try after this one)."},
        {"expect": PROMPT},
        {"send": format!("{right}\r")},
        {"expect": "assumed-role/Ops/"}
    ]);
    let r = in_pty(&t, steps, &["whoami", "--profile", "switch"]);
    assert_eq!(r.code, Some(0), "{}", r.stdout);
    assert!(!r.stdout.contains(&right), "codes are not echoed: {}", r.stdout);
    assert_eq!(s.idc.count("AssumeRole"), 2, "the malformed code was never sent");

    // The code just used, typed again for another role: said so, and the
    // next step's code is taken.
    let steps = serde_json::json!([
        {"expect": PROMPT},
        {"send": format!("{right}\r")},
        {"expect": "Code refused: that code was already used: arn:aws:iam::123456789012:mfa/bob-phone accepted it "},
        {"expect": PROMPT},
        {"send": format!("{}\r", code(&s.idc, 1))},
        {"expect": "assumed-role/Ops/second"}
    ]);
    let r = in_pty(&t, steps, &["whoami", "--profile", "switch2"]);
    assert_eq!(r.code, Some(0), "{}", r.stdout);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn at_a_terminal_the_fourth_refused_code_ends_the_command() {
    let (s, t) = setup().await;
    let steps = serde_json::json!([
        {"expect": PROMPT}, {"send": "1\r"},
        {"expect": "(2 more tries after this one)"}, {"send": "2\r"},
        {"expect": "(1 more try after this one)"}, {"send": "3\r"},
        {"expect": "(last try)"}, {"send": "4\r"},
        {"expect": "error: the MFA code for arn:aws:iam::123456789012:mfa/bob-phone is not 6 digits"}
    ]);
    let r = in_pty(&t, steps, &["whoami", "--profile", "switch3"]);
    assert_eq!(r.code, Some(2), "{}", r.stdout);
    assert_eq!(r.stdout.matches(PROMPT).count(), 4, "asked 4 times in all: {}", r.stdout);
    assert_eq!(s.idc.count("AssumeRole"), 0);
}
