//! `tobira` as users run it: a real process in a hermetic HOME.

use serde_json::Value;
use tobira_test_support::{Run, TestEnv, run};

const TOBIRA: &str = env!("CARGO_BIN_EXE_tobira");

fn tobira(t: &TestEnv, args: &[&str]) -> Run {
    let mut cmd = t.command(TOBIRA);
    cmd.args(args);
    run(cmd)
}

const CONFIG: &str = "\
[default]
region = ap-northeast-1
[profile ReadOnly-111111111111]
sso_session = my-sso
sso_account_id = 111111111111
sso_role_name = ReadOnly
region = us-west-2
[sso-session my-sso]
sso_start_url = https://d-1234567890.awsapps.com/start
sso_region = us-east-1
[profile admin]
role_arn = arn:aws:iam::123456789012:role/Admin
source_profile = ReadOnly-111111111111
mfa_serial = arn:aws:iam::123456789012:mfa/alice
[profile broken]
sso_session = nope
sso_account_id = 1
sso_role_name = x
[profile iam-user]
region = eu-west-1
";

const CREDENTIALS: &str = "\
[iam-user]
aws_access_key_id = AKIAIOSFODNN7EXAMPLE
aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY
aws_session_token = SESSIONTOKENSECRET
";

fn sample() -> TestEnv {
    let t = TestEnv::new();
    t.write_config(CONFIG).write_credentials(CREDENTIALS);
    t
}

#[test]
fn profiles_table() {
    let r = tobira(&sample(), &["profiles"]);
    assert_eq!(r.code, Some(0), "{r:?}");
    assert_eq!(
        r.stdout,
        "  NAME                   KIND         DETAILS
* default                none         settings only, no credentials
  ReadOnly-111111111111  sso          sso-session my-sso: account 111111111111, role ReadOnly
  admin                  assume-role  arn:aws:iam::123456789012:role/Admin from profile ReadOnly-111111111111, MFA arn:aws:iam::123456789012:mfa/alice (via sso-session my-sso: account 111111111111, role ReadOnly)
  broken                 sso          error: The specified sso-session does not exist: \"nope\"
  iam-user               static       keys in the credentials file

1 profile cannot give credentials; `tobira profile show NAME` explains why.
"
    );
}

#[test]
fn profiles_json_marks_the_active_profile() {
    let mut t = sample();
    t.env("AWS_PROFILE", "admin");
    let r = tobira(&t, &["profiles", "--json"]);
    assert_eq!(r.code, Some(0), "{r:?}");
    let rows: Value = serde_json::from_str(&r.stdout).unwrap();
    let kinds: Vec<(&str, &str, bool)> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["name"].as_str().unwrap(), r["kind"].as_str().unwrap(), r["active"].as_bool().unwrap()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("default", "none", false),
            ("ReadOnly-111111111111", "sso", false),
            ("admin", "assume-role", true),
            ("broken", "sso", false),
            ("iam-user", "static", false)
        ]
    );
    assert_eq!(rows[3]["problem"], "The specified sso-session does not exist: \"nope\"");
}

#[test]
fn profile_show_explains_the_chain() {
    let r = tobira(&sample(), &["profile", "show", "admin"]);
    assert_eq!(r.code, Some(0), "{r:?}");
    assert!(r.stdout.starts_with("profile   admin        --profile\nkind      assume-role"), "{}", r.stdout);
    assert!(r.stdout.contains("  1. sso (profile ReadOnly-111111111111)\n"), "{}", r.stdout);
    assert!(
        r.stdout.contains("sso_start_url   https://d-1234567890.awsapps.com/start  ~/.aws/config:9\n"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("  2. assume-role (profile admin)\n"), "{}", r.stdout);
    assert!(
        r.stdout.contains("mfa_serial      arn:aws:iam::123456789012:mfa/alice   ~/.aws/config:14\n"),
        "{}",
        r.stdout
    );
}

#[test]
fn profile_show_json_with_env_selection_and_region() {
    let mut t = sample();
    t.env("AWS_PROFILE", "ReadOnly-111111111111").env("AWS_REGION", "eu-central-1");
    let r = tobira(&t, &["profile", "show", "--json"]);
    assert_eq!(r.code, Some(0), "{r:?}");
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["profile"]["from"], "$AWS_PROFILE");
    assert_eq!(v["region"], serde_json::json!({"value": "eu-central-1", "from": "$AWS_REGION"}));
    assert_eq!(v["kind"], "sso");
    assert_eq!(v["steps"][0]["step"], "sso");
    assert_eq!(v["steps"][0]["start_url"]["from"], "~/.aws/config:9");
}

#[test]
fn secrets_never_printed() {
    let t = sample();
    for args in
        [&["profile", "show", "iam-user"][..], &["profile", "show", "iam-user", "--json"], &["profiles", "--json"]]
    {
        let r = tobira(&t, args);
        assert_eq!(r.code, Some(0), "{r:?}");
        for secret in ["wJalrXUtnFEMI", "SESSIONTOKENSECRET", "AKIAIOSFODNN7EXAMPLE"] {
            assert!(!r.stdout.contains(secret) && !r.stderr.contains(secret), "{args:?} leaked {secret}: {r:?}");
        }
    }
    let r = tobira(&t, &["profile", "show", "iam-user"]);
    assert!(r.stdout.contains("aws_access_key_id      ****************MPLE"), "{}", r.stdout);
}

#[test]
fn unknown_profile_exit_4_with_close_match() {
    let r = tobira(&sample(), &["profile", "show", "admn"]);
    assert_eq!(r.code, Some(4));
    assert_eq!(r.stdout, "");
    assert_eq!(r.stderr, "error: The config profile (admn) could not be found\n\nhint: did you mean `admin`?\n");
}

#[test]
fn malformed_file_exit_3_with_file_and_line() {
    let t = TestEnv::new();
    t.write_config("[default]\nregion = us-east-1\n[default]\n");
    let before = std::fs::read(t.config_path()).unwrap();
    for args in [&["profiles"][..], &["profile", "show"]] {
        let r = tobira(&t, args);
        assert_eq!(r.code, Some(3), "{r:?}");
        assert_eq!(
            r.stderr,
            "error: cannot parse the AWS config file: ~/.aws/config:3: section `[default]` appears again (first on line 1)\n\n\
             hint: fix line 3 of ~/.aws/config; the AWS CLI and SDKs refuse this file too (\"Unable to parse config file\")\n"
        );
    }
    assert_eq!(std::fs::read(t.config_path()).unwrap(), before, "reading must not change the file");
}

#[test]
fn invalid_profile_exit_5_and_no_credentials_exit_6() {
    let r = tobira(&sample(), &["profile", "show", "broken"]);
    assert_eq!(r.code, Some(5), "{r:?}");
    assert!(
        r.stderr.starts_with(
            "error: The specified sso-session does not exist: \"nope\"\n\nhint: `sso_session` at ~/.aws/config:16"
        ),
        "{}",
        r.stderr
    );
    let r = tobira(&sample(), &["profile", "show"]);
    assert_eq!(r.code, Some(6), "{r:?}");
    assert!(
        r.stderr.starts_with(
            "error: Unable to locate credentials\n\nhint: profile `default` has no credentials configured"
        ),
        "{}",
        r.stderr
    );
}

#[test]
fn no_files_at_all() {
    let t = TestEnv::new();
    let r = tobira(&t, &["profiles"]);
    assert_eq!(r.code, Some(0));
    assert_eq!(
        r.stdout,
        "No profiles in ~/.aws/config or ~/.aws/credentials.\nCreate one with `tobira configure sso` (IAM Identity Center) or `aws configure` (access keys).\n"
    );
}

#[test]
fn config_file_env_override_and_empty_profile_var() {
    let mut t = TestEnv::new();
    t.write(&t.home().join("elsewhere/cfg"), "[profile only-here]\nregion = r\n");
    let cfg = t.home().join("elsewhere/cfg").display().to_string();
    t.env("AWS_CONFIG_FILE", &cfg).env("AWS_PROFILE", "");
    let r = tobira(&t, &["profiles", "--json"]);
    let rows: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(rows[0]["name"], "only-here");
    // An empty AWS_PROFILE is unset: `default` is selected, and absent.
    let r = tobira(&t, &["profile", "show", "--json"]);
    assert_eq!(r.code, Some(6), "{r:?}");
}

#[test]
fn usage_errors_exit_2_help_exit_0() {
    let t = TestEnv::new();
    assert_eq!(tobira(&t, &["profiles", "--bogus"]).code, Some(2));
    assert_eq!(tobira(&t, &[]).code, Some(2));
    let r = tobira(&t, &["--help"]);
    assert_eq!(r.code, Some(0));
    assert!(r.stdout.contains("profiles") && r.stdout.contains("profile "), "{}", r.stdout);
}

#[test]
fn closed_stdout_pipe_is_not_an_error() {
    let t = sample();
    let mut cmd = t.command(TOBIRA);
    cmd.args(["profiles"]).stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn profile_show_reports_the_cached_sso_token() {
    let t = sample();
    // sha1("my-sso"), the AWS CLI's file name for the session's token.
    let token = t.aws_dir().join("sso/cache/0ad374308c5a4e22f723adf10145eafad7c4031c.json");
    let r = tobira(&t, &["profile", "show", "admin"]);
    assert!(
        r.stdout.ends_with(
            "\nSSO token: not logged in (no cached token)\n  ~/.aws/sso/cache/0ad374308c5a4e22f723adf10145eafad7c4031c.json\n  next: `aws sso login --sso-session my-sso`\n"
        ),
        "{}",
        r.stdout
    );

    t.write(&token, r#"{"startUrl": "https://d-1234567890.awsapps.com/start", "region": "us-east-1", "accessToken": "SECRET-ACCESS-TOKEN", "expiresAt": "2099-01-01T00:00:00Z"}"#);
    let r = tobira(&t, &["profile", "show", "admin", "--json"]);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["sso_token"]["status"], "valid");
    assert_eq!(v["sso_token"]["expires_at"], "2099-01-01T00:00:00Z");
    assert!(!r.stdout.contains("SECRET-ACCESS-TOKEN"));

    t.write(&token, r#"{"accessToken": "x", "expiresAt": "2001-01-01T00:00:00Z", "refreshToken": "r", "clientId": "c", "clientSecret": "s", "registrationExpiresAt": "2002-01-01T00:00:00Z"}"#);
    let r = tobira(&t, &["profile", "show", "ReadOnly-111111111111"]);
    assert!(r.stdout.contains("\nSSO token: expired at 2001-01-01T00:00:00Z\n"), "{}", r.stdout);
    assert!(r.stdout.contains("next: `aws sso login --sso-session my-sso`"), "{}", r.stdout);

    t.write(&token, "{}");
    let r = tobira(&t, &["profile", "show", "admin", "--json"]);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["sso_token"]["status"], "invalid");
}

#[test]
fn no_profile_selected_lists_the_profiles_and_how_to_choose() {
    // What `tobira configure sso` leaves: named profiles, no `default`.
    let t = TestEnv::new();
    t.write_config(
        "[profile ReadOnly-111111111111]\nsso_session = my-sso\nsso_account_id = 111111111111\nsso_role_name = ReadOnly\n\
         [sso-session my-sso]\nsso_start_url = https://d-1234567890.awsapps.com/start\nsso_region = us-east-1\n\
         [profile \"a team\"]\nregion = eu-west-1\n",
    )
    .write_credentials(CREDENTIALS);
    for cmd in [&["whoami"][..], &["export"], &["profile", "show"], &["exec", "--", "true"]] {
        let r = tobira(&t, cmd);
        assert_eq!(r.code, Some(6), "{cmd:?}: {r:?}");
        assert_eq!(
            r.stderr,
            "error: Unable to locate credentials: no profile is selected (no `--profile`, no `AWS_PROFILE`) and there is no `default` profile\n\
             \nhint: the profiles that exist are `ReadOnly-111111111111`, `a team`, `iam-user`\n\
             \nhint: choose one with `--profile ReadOnly-111111111111`, or for every command in this shell with `export AWS_PROFILE=ReadOnly-111111111111`\n",
            "{cmd:?}"
        );
    }
    let r = tobira(&t, &["credential-process"]);
    assert_eq!(r.code, Some(6), "{r:?}");
    assert_eq!(
        r.stderr,
        "tobira: Unable to locate credentials: no profile is selected (no `--profile`, no `AWS_PROFILE`) and there is no `default` profile (the profiles that exist are `ReadOnly-111111111111`, `a team`, `iam-user`; choose one with `--profile ReadOnly-111111111111`, or for every command in this shell with `export AWS_PROFILE=ReadOnly-111111111111`)\n"
    );

    // A name a shell would split is quoted in the commands shown.
    let t = TestEnv::new();
    t.write_config("[profile \"a team\"]\nregion = eu-west-1\n");
    let r = tobira(&t, &["whoami"]);
    assert_eq!(r.code, Some(6), "{r:?}");
    assert!(
        r.stderr.ends_with(
            "\nhint: the profile that exists is `a team`\n\nhint: choose one with `--profile 'a team'`, or for every command in this shell with `export AWS_PROFILE='a team'`\n"
        ),
        "{}",
        r.stderr
    );

    // A `default` without credentials: set it up, or use another profile.
    let r = tobira(&sample(), &["whoami"]);
    assert_eq!(r.code, Some(6), "{r:?}");
    assert_eq!(
        r.stderr,
        "error: Unable to locate credentials\n\
         \nhint: profile `default` has no credentials configured; set one up with `tobira configure sso`\n\
         \nhint: or use another profile (`ReadOnly-111111111111`, `admin`, `broken`, `iam-user`): choose one with `--profile ReadOnly-111111111111`, or for every command in this shell with `export AWS_PROFILE=ReadOnly-111111111111`\n"
    );

    // No profile at all: nothing to list, set one up.
    let r = tobira(&TestEnv::new(), &["whoami"]);
    assert_eq!(r.code, Some(6), "{r:?}");
    assert_eq!(
        r.stderr,
        "error: Unable to locate credentials\n\nhint: profile `default` has no credentials configured; set one up with `tobira configure sso`\n"
    );

    // Signing in with legacy SSO profiles only (no sso-session): which ones.
    let t = TestEnv::new();
    t.write_config(
        "[profile old-a]\nsso_start_url = https://d-1.awsapps.com/start\nsso_region = us-east-1\nsso_account_id = 1\nsso_role_name = R\n\
         [profile old-b]\nsso_start_url = https://d-2.awsapps.com/start\nsso_region = us-east-1\nsso_account_id = 1\nsso_role_name = R\n\
         [profile keys]\nregion = eu-west-1\n",
    );
    let r = tobira(&t, &["login"]);
    assert_eq!(r.code, Some(5), "{r:?}");
    assert_eq!(
        r.stderr,
        "error: no SSO login is selected (no `--profile`, no `--sso-session`, no `AWS_PROFILE`) and there is no `default` profile\n\
         \nhint: the SSO profiles that exist are `old-a`, `old-b`\n\
         \nhint: choose one with `--profile old-a`, or for every command in this shell with `export AWS_PROFILE=old-a`\n"
    );
}

#[test]
fn a_chain_5000_profiles_deep_ends_in_an_error() {
    let t = TestEnv::new();
    let mut config = String::new();
    for i in 0..5000 {
        config.push_str(&format!(
            "[profile p{i}]\nrole_arn = arn:aws:iam::123456789012:role/R{i}\nsource_profile = p{}\n",
            i + 1
        ));
    }
    t.write_config(&config).write_credentials(
        "[p5000]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n",
    );
    let expected = "error: The source_profile chain of profile \"p0\" is longer than 100 profiles (it still goes on at profile \"p100\").\n\
        \nhint: a chain this long is a mistake (a generated file, or profiles pointing at the next one by accident): point `source_profile` at ~/.aws/config:303, or one before it, at a profile with credentials (keys, `sso_session` + account + role, or `credential_process`)\n";
    for cmd in [&["profile", "show", "p0"][..], &["whoami", "--profile", "p0"], &["export", "--profile", "p0"]] {
        let r = tobira(&t, cmd);
        assert_eq!(r.code, Some(5), "{cmd:?}: {r:?}");
        assert_eq!(r.stderr, expected, "{cmd:?}");
    }
    // Every profile is listed; those too deep are marked broken.
    let r = tobira(&t, &["profiles"]);
    assert_eq!(r.code, Some(0), "{r:?}");
    assert!(
        r.stdout.ends_with("\n4900 profiles cannot give credentials; `tobira profile show NAME` explains why.\n"),
        "{}",
        &r.stdout[r.stdout.len().saturating_sub(300)..]
    );
    // 100 hops deep is still a chain.
    let r = tobira(&t, &["profile", "show", "p4900"]);
    assert_eq!(r.code, Some(0), "{r:?}");
}

#[test]
fn exec_starts_the_shell_without_a_command_and_exits_127_or_126() {
    let mut t = sample();
    // No command: $SHELL with the profile's credentials (here reading a script on stdin).
    t.env("SHELL", "/bin/sh");
    let mut cmd = t.command(TOBIRA);
    cmd.args(["exec", "--profile", "iam-user"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    std::io::Write::write_all(
        &mut child.stdin.take().unwrap(),
        b"echo \"$AWS_ACCESS_KEY_ID|$AWS_REGION|$TOBIRA_EXEC_PROFILE\"; exit 7\n",
    )
    .unwrap();
    let r: Run = child.wait_with_output().unwrap().into();
    assert_eq!(r.code, Some(7), "{r:?}");
    assert_eq!(r.stdout, "AKIAIOSFODNN7EXAMPLE|eu-west-1|iam-user\n");
    assert_eq!(r.stderr, "Starting /bin/sh with the credentials of profile `iam-user`; `exit` returns here.\n");

    // A command that does not exist: 127, before any credentials are fetched.
    let r = tobira(&t, &["exec", "--profile", "admin", "--", "no-such-command-tobira"]);
    assert_eq!(r.code, Some(127), "{r:?}");
    assert_eq!(
        r.stderr,
        "error: cannot run `no-such-command-tobira`: command not found (searched the directories in `PATH`)\n\
         \nhint: check the spelling, or give its full path: `tobira exec -- /path/to/no-such-command-tobira`\n"
    );
    let r = tobira(&t, &["exec", "--profile", "iam-user", "--", "./missing.sh"]);
    assert_eq!(r.code, Some(127), "{r:?}");
    assert_eq!(
        r.stderr,
        "error: cannot run `./missing.sh`: no such file\n\nhint: check the path (a relative path starts from the current directory)\n"
    );
    // Not executable: 126.
    t.write(&t.home().join("script.sh"), "echo hi\n");
    let r = tobira(&t, &["exec", "--profile", "iam-user", "--", "./script.sh"]);
    assert_eq!(r.code, Some(126), "{r:?}");
    assert_eq!(
        r.stderr,
        "error: cannot run `./script.sh`: it is not executable (permission denied)\n\
         \nhint: make it executable with `chmod +x ./script.sh`, or run it through its interpreter: `tobira exec -- sh ./script.sh`\n"
    );
    let r = tobira(&t, &["exec", "--profile", "iam-user", "--", "/"]);
    assert_eq!(r.code, Some(126), "{r:?}");
    assert_eq!(r.stderr, "error: cannot run `/`: it is a directory\n\nhint: give the path of a program inside it\n");
    // A $SHELL that is not installed.
    t.env("SHELL", "/no/such/shell");
    let r = tobira(&t, &["exec", "--profile", "iam-user"]);
    assert_eq!(r.code, Some(127), "{r:?}");
    assert_eq!(
        r.stderr,
        "error: cannot run your shell `/no/such/shell` (from `SHELL`): no such file\n\
         \nhint: set `SHELL` to an installed shell, or give the command to run: `tobira exec -- bash`\n"
    );
}

#[test]
fn without_home_the_accounts_home_directory_is_used() {
    // As Python's expanduser (and so the AWS CLI): no HOME → the password
    // database's home. The files are given by path so the real ~/.aws is not
    // read; the SSO cache path (a name no real cache holds) shows which home
    // tobira found: a path under it prints as `~/…`.
    let t = TestEnv::new();
    let session = format!("tobira-test-no-home-{}", std::process::id());
    t.write_config(&format!(
        "[profile dev]\nsso_session = {session}\nsso_account_id = 111111111111\nsso_role_name = ReadOnly\n\
         [sso-session {session}]\nsso_start_url = https://d-1234567890.awsapps.com/start\nsso_region = us-east-1\n"
    ));
    let mut cmd = t.command(TOBIRA);
    cmd.env_remove("HOME")
        .env("AWS_CONFIG_FILE", t.config_path())
        .env("AWS_SHARED_CREDENTIALS_FILE", t.credentials_path())
        .args(["profile", "show", "dev"]);
    let r = run(cmd);
    assert_eq!(r.code, Some(0), "{r:?}");
    assert!(r.stdout.contains("\nSSO token: not logged in (no cached token)\n  ~/.aws/sso/cache/"), "{}", r.stdout);
}
