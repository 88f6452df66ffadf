//! `tobira shell-init` in real bash, zsh and fish, driven through a
//! pseudo-terminal (scripts/pty_drive.py) as a person would: load the
//! function, pick a profile by typing part of its name among 3,000, see the
//! variables set in that same shell, and complete a profile name with Tab.
//! scripts/test installs the shells (Debian's zsh and fish); a run without
//! them fails, unless `TOBIRA_SKIP_SHELLS` gives the reason they could not be
//! installed.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] fns

use std::path::Path;

use tobira_test_support::{Run, TestEnv, run};

const TOBIRA: &str = env!("CARGO_BIN_EXE_tobira");

/// 3,000 profiles, two of which the test looks for.
fn config() -> String {
    let mut c = String::from(
        "[profile prod-admin]\nregion = us-east-2\n\n[profile staging-reader]\nregion = ap-south-1\n\n\
         [sso-session corp]\nsso_start_url = https://d-1234567890.awsapps.com/start\nsso_region = us-east-1\n\n",
    );
    for i in 0..2998 {
        c.push_str(&format!("[profile acct-{i:04}.ReadOnly]\nregion = eu-west-1\n\n"));
    }
    c
}

fn on_path(shell: &str) -> bool {
    std::process::Command::new("sh")
        .args(["-c", &format!("command -v {shell}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// False (after printing why) when the shell is missing and scripts/test
/// said why it could not install it (`TOBIRA_SKIP_SHELLS`); a missing shell
/// without that reason fails the test.
#[allow(clippy::print_stdout)] // the reason a test is skipped
fn installed(shell: &str) -> bool {
    if on_path(shell) {
        return true;
    }
    #[allow(clippy::disallowed_methods)] // test switch
    match std::env::var("TOBIRA_SKIP_SHELLS") {
        Ok(reason) => {
            println!("skipped: the {shell} test needs {shell} ({reason})");
            false
        }
        Err(_) => panic!("{shell} is not installed: run scripts/test (it installs Debian's bash, zsh and fish)"),
    }
}

/// The environment: `tobira` on PATH (the completions are registered for
/// that command name), the 3,000-profile config.
fn env() -> TestEnv {
    let mut t = TestEnv::new();
    t.write_config(&config());
    let bin = t.home().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::os::unix::fs::symlink(TOBIRA, bin.join("tobira")).unwrap();
    t.env("PATH", &format!("{}:/usr/local/bin:/usr/bin:/bin", bin.display()));
    t.env("TERM", "xterm");
    t
}

fn drive(t: &TestEnv, steps: &[(&str, &str)], argv: &[&str]) -> Run {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/pty_drive.py");
    let steps: Vec<serde_json::Value> = steps.iter().map(|(k, v)| serde_json::json!({ *k: v })).collect();
    let mut cmd = t.command("python3");
    cmd.arg(script).arg(serde_json::Value::Array(steps).to_string()).arg("--").args(argv);
    run(cmd)
}

/// The common part: size the terminal, load the function, pick by typing,
/// check the variables, complete a profile name, leave.
fn session(shell: &str, setup: &[&str], init: &str, argv: &[&str]) {
    if !installed(shell) {
        return;
    }
    let t = env();
    let mut steps: Vec<(&str, String)> = vec![("send", "stty cols 120 rows 40\n".into())];
    for s in setup {
        steps.push(("send", format!("{s}\n")));
    }
    steps.extend([
        ("send", format!("{init}\n")),
        ("send", "echo ini''t-ready\n".into()),
        ("expect", "init-ready".into()),
        // The picker: type part of a name, Enter.
        ("send", "tsw\n".into()),
        ("expect", "AWS profile (type to filter".into()),
        ("send", "prod-adm".into()),
        ("expect", "prod-admin  ".into()),
        ("send", "\r".into()),
        ("expect", "AWS_PROFILE=prod-admin (region us-east-2)".into()),
        // The same shell now has the profile and its region.
        ("send", "echo \"now:$AWS_PROFILE:$AWS_REGION:$AWS_DEFAULT_REGION.\"\n".into()),
        ("expect", "now:prod-admin:us-east-2:us-east-2.".into()),
        // By name, completed with Tab (the function's own completion).
        ("send", "tsw stagi\t".into()),
        ("expect", "tsw staging-reader".into()),
        ("send", "\n".into()),
        ("expect", "AWS_PROFILE=staging-reader (region ap-south-1)".into()),
        ("send", "echo \"then:$AWS_PROFILE.\"\n".into()),
        ("expect", "then:staging-reader.".into()),
        // A profile name for tobira's flags (clap_complete, answered by tobira).
        ("send", "tobira profile show --profile prod-a\t".into()),
        ("expect", "--profile prod-admin".into()),
        ("send", "\x15".into()),
        // A name that does not exist: the error, and the shell keeps its profile.
        ("send", "tsw nope; echo \"kept:$AWS_PROFILE.\"\n".into()),
        ("expect", "the profile `nope` does not exist".into()),
        ("expect", "kept:staging-reader.".into()),
        ("send", "exit\n".into()),
    ]);
    let steps: Vec<(&str, &str)> = steps.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = drive(&t, &steps, argv);
    assert_eq!(r.code, Some(0), "{shell}: {}\n{}", r.stdout, r.stderr);
    // The picks are remembered, the newest first.
    let recent = std::fs::read_to_string(t.aws_dir().join("tobira/recent-profiles")).unwrap();
    assert_eq!(recent, "staging-reader\nprod-admin\n", "{shell}");
}

#[test]
fn bash_picks_switches_and_completes() {
    session("bash", &[], "eval \"$(tobira shell-init bash)\"", &["bash", "--norc", "--noprofile", "-i"]);
}

#[test]
fn zsh_picks_switches_and_completes() {
    session(
        "zsh",
        &["autoload -Uz compinit && compinit -u"],
        "eval \"$(tobira shell-init zsh)\"",
        &["zsh", "-f", "-i"],
    );
}

#[test]
fn fish_picks_switches_and_completes() {
    session("fish", &[], "tobira shell-init fish | source", &["fish", "--no-config", "-i"]);
}

#[test]
fn recent_picks_come_first_in_the_picker() {
    if !installed("bash") {
        return;
    }
    let t = env();
    t.write(&t.aws_dir().join("tobira/recent-profiles"), "acct-2000.ReadOnly\nstaging-reader\n");
    let steps = [
        ("send", "stty cols 120 rows 40\n"),
        ("send", "eval \"$(tobira shell-init bash)\"\n"),
        ("send", "tsw\n"),
        ("expect", "AWS profile (type to filter"),
        // Enter at once: the first line, the most recent pick.
        ("send", "\r"),
        ("expect", "AWS_PROFILE=acct-2000.ReadOnly (region eu-west-1)"),
        ("send", "exit\n"),
    ];
    let r = drive(&t, &steps, &["bash", "--norc", "--noprofile", "-i"]);
    assert_eq!(r.code, Some(0), "{}", r.stdout);
    let recent = std::fs::read_to_string(t.aws_dir().join("tobira/recent-profiles")).unwrap();
    assert_eq!(recent, "acct-2000.ReadOnly\nstaging-reader\n");
}

#[test]
fn switch_prints_lines_for_each_shell_and_never_keys_unless_asked() {
    let mut t = TestEnv::new();
    t.write_config("[profile dev]\nregion = eu-west-1\n[profile bare]\n");
    t.write_credentials("[dev]\naws_access_key_id = AKIAEXAMPLE\naws_secret_access_key = s3cr3t\n");
    t.env("AWS_EC2_METADATA_DISABLED", "true");
    let tobira = |args: &[&str]| {
        let mut cmd = t.command(TOBIRA);
        cmd.args(args).stdin(std::process::Stdio::null());
        run(cmd)
    };
    let r = tobira(&["switch", "dev", "--shell", "bash"]);
    assert_eq!(r.code, Some(0), "{r:?}");
    assert_eq!(
        r.stdout,
        "export AWS_PROFILE='dev'\nexport AWS_REGION='eu-west-1'\nexport AWS_DEFAULT_REGION='eu-west-1'\n\
         unset AWS_ACCESS_KEY_ID\nunset AWS_SECRET_ACCESS_KEY\nunset AWS_SESSION_TOKEN\nunset AWS_CREDENTIAL_EXPIRATION\n"
    );
    assert!(!r.stdout.contains("s3cr3t"));
    let r = tobira(&["switch", "bare", "--shell", "fish"]);
    assert_eq!(r.code, Some(0), "{r:?}");
    assert!(
        r.stdout.starts_with("set -gx AWS_PROFILE 'bare'\nset -e AWS_REGION\nset -e AWS_DEFAULT_REGION\n"),
        "{}",
        r.stdout
    );
    let r = tobira(&["switch", "dev", "--shell", "powershell", "--credentials"]);
    assert_eq!(r.code, Some(0), "{r:?}");
    assert!(r.stdout.contains("$Env:AWS_SECRET_ACCESS_KEY = 's3cr3t'\n"), "{}", r.stdout);
    assert!(r.stdout.contains("$Env:AWS_PROFILE = 'dev'\n"), "{}", r.stdout);
    // Errors: a missing profile, and no name without a terminal.
    let r = tobira(&["switch", "de", "--shell", "zsh"]);
    assert_eq!(r.code, Some(4));
    assert_eq!(r.stdout, "");
    assert!(
        r.stderr.contains("the profile `de` does not exist") && r.stderr.contains("did you mean `dev`?"),
        "{}",
        r.stderr
    );
    let r = tobira(&["switch", "--shell", "zsh"]);
    assert_eq!(r.code, Some(2));
    assert!(r.stderr.contains("no profile given, and no terminal to pick one on"), "{}", r.stderr);
    // The function's completion: the names, recent picks first.
    t.write(&t.aws_dir().join("tobira/recent-profiles"), "gone\nbare\n");
    let r = tobira(&["switch", "--names"]);
    assert_eq!((r.code, r.stdout.as_str()), (Some(0), "bare\ndev\n"));
    let r = tobira(&["shell-init", "bash", "--name", "a b"]);
    assert_eq!(r.code, Some(2));
    assert!(r.stderr.contains("a shell function's name is letters"), "{}", r.stderr);
}
