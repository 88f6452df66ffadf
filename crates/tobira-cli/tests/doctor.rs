//! `tobira doctor`: one fixture per check (tests/doctor/<case>/), run through
//! the real binary in a hermetic HOME, and the checks that ask the services
//! against a real tobira-idc.
//!
//! A case directory holds `config`, `credentials`, `env` (KEY=VALUE lines),
//! `args` (the command line, default `doctor --offline`), `modes` (`path
//! octal-mode` lines), `home/…` (files laid into HOME) and `expected`: the
//! exit code line (`exit: N`) and then stdout, exactly. In every file
//! `{{HOME}}` is the temporary HOME and `{{+2h}}` / `{{-90m}}` / `{{+3d}}`
//! a time that far from now (as cache files write it). `TOBIRA_BLESS=1`
//! rewrites `expected` from what the binary prints.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)] // test helpers; the clock for fixture times; TOBIRA_BLESS

use std::path::{Path, PathBuf};

use tobira_idc::Settings;
use tobira_test_support::{IdcServer, Run, TestEnv, run};

const TOBIRA: &str = env!("CARGO_BIN_EXE_tobira");

fn cases_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests").join("doctor")
}

/// `{{HOME}}` and `{{±N[smhd]}}` replaced. Times are moved 30 s further from
/// now, so a span printed in whole minutes shows the round number.
fn expand(text: &str, home: &Path) -> String {
    let now = jiff::Timestamp::now();
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after.find("}}").expect("closing }}");
        let key = &after[..end];
        if key == "HOME" {
            out.push_str(&home.display().to_string());
        } else {
            let (sign, body) = key.split_at(1);
            let (n, unit) = body.split_at(body.len() - 1);
            let n: i64 = n.parse().expect("a number in {{±N[smhd]}}");
            let secs = n * match unit {
                "s" => 1,
                "m" => 60,
                "h" => 3600,
                "d" => 86_400,
                other => panic!("unknown unit {other}"),
            };
            let offset = if sign == "+" { secs + 30 } else { -secs - 30 };
            let t = now + jiff::SignedDuration::from_secs(offset);
            out.push_str(&t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string());
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    out
}

fn lay_tree(from: &Path, to: &Path, home: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            lay_tree(&entry.path(), &target, home);
        } else {
            let text = std::fs::read_to_string(entry.path()).unwrap();
            std::fs::write(&target, expand(&text, home)).unwrap();
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
    }
}

fn run_case(dir: &Path) -> (String, String) {
    let mut t = TestEnv::new();
    let home = t.home().to_path_buf();
    let read = |name: &str| std::fs::read_to_string(dir.join(name)).ok().map(|s| expand(&s, &home));
    if let Some(c) = read("config") {
        t.write_config(&c);
    }
    if let Some(c) = read("credentials") {
        t.write_credentials(&c);
    }
    // Files tobira and the AWS CLI write are private; a case loosens them in `modes`.
    for path in [t.config_path(), t.credentials_path()] {
        if path.exists() {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
    }
    if dir.join("home").is_dir() {
        lay_tree(&dir.join("home"), &home, &home);
    }
    if let Some(modes) = read("modes") {
        for line in modes.lines().filter(|l| !l.trim().is_empty()) {
            let (path, mode) = line.rsplit_once(' ').unwrap();
            use std::os::unix::fs::PermissionsExt;
            let mode = u32::from_str_radix(mode, 8).unwrap();
            std::fs::set_permissions(home.join(path), std::fs::Permissions::from_mode(mode)).unwrap();
        }
    }
    if let Some(env) = read("env") {
        for line in env.lines().filter(|l| !l.trim().is_empty()) {
            let (k, v) = line.split_once('=').unwrap();
            t.env(k, v);
        }
    }
    let args = read("args").unwrap_or_else(|| "doctor --offline".to_string());
    let mut cmd = t.command(TOBIRA);
    cmd.args(args.split_whitespace());
    let r = run(cmd);
    let actual = format!("exit: {}\n{}", r.code.unwrap_or(-1), r.stdout);
    (actual, r.stderr)
}

#[test]
fn every_check_has_a_fixture() {
    let bless = std::env::var_os("TOBIRA_BLESS").is_some();
    let mut cases: Vec<PathBuf> = std::fs::read_dir(cases_dir()).unwrap().map(|e| e.unwrap().path()).collect();
    cases.sort();
    assert!(cases.len() >= 15, "{} cases", cases.len());
    let mut failures = Vec::new();
    for dir in &cases {
        let (actual, stderr) = run_case(dir);
        let expected_path = dir.join("expected");
        if bless {
            std::fs::write(&expected_path, &actual).unwrap();
            continue;
        }
        let expected = std::fs::read_to_string(&expected_path).unwrap_or_default();
        if actual != expected || !stderr.is_empty() {
            failures.push(format!(
                "── {} ──\nexpected:\n{expected}\nactual:\n{actual}\nstderr:\n{stderr}",
                dir.file_name().unwrap().to_string_lossy()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Every check doctor can report is pinned by a fixture or a test below.
#[test]
fn every_check_name_is_tested() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/commands/doctor");
    // Every string literal that looks like a check name (`word-word`).
    let mut names = std::collections::BTreeSet::new();
    for file in std::fs::read_dir(&src).unwrap() {
        let text = std::fs::read_to_string(file.unwrap().path()).unwrap();
        for piece in text.split('"').skip(1).step_by(2) {
            if piece.contains('-')
                && !piece.starts_with('-')
                && !piece.ends_with('-')
                && piece.chars().all(|c| c.is_ascii_lowercase() || c == '-')
                && !["sso-session", "sso-legacy-and-no-scopes"].contains(&piece)
            {
                names.insert(piece.to_string());
            }
        }
    }
    let mut tested = String::new();
    for dir in std::fs::read_dir(cases_dir()).unwrap() {
        tested.push_str(&std::fs::read_to_string(dir.unwrap().path().join("expected")).unwrap_or_default());
    }
    tested.push_str(include_str!("doctor.rs"));
    let untested: Vec<&String> = names.iter().filter(|n| !tested.contains(&format!("[{n}]"))).collect();
    assert!(names.len() > 20, "{names:?}");
    assert!(untested.is_empty(), "checks without a fixture: {untested:?}");
}

fn tobira(t: &TestEnv, args: &[&str]) -> Run {
    let mut cmd = t.command(TOBIRA);
    cmd.args(args);
    run(cmd)
}

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

async fn signed_in() -> (IdcServer, TestEnv) {
    let s = IdcServer::start(Settings { auto_approve: Some("alice".into()), ..Settings::default() }).await;
    let mut t = TestEnv::new();
    t.write_config(CONFIG);
    t.env("AWS_ENDPOINT_URL", &s.url);
    let r = tobira(&t, &["login", "--sso-session", "corp", "--use-device-code", "--no-browser"]);
    assert_eq!(r.code, Some(0), "{r:?}");
    (s, t)
}

/// The findings of a doctor run, without the notes about the endpoint override.
fn problems(r: &Run) -> String {
    r.stdout.split("\n\n").filter(|f| !f.starts_with("note[endpoint-override]")).collect::<Vec<_>>().join("\n\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_working_sign_in_has_nothing_to_fix_and_the_clock_is_compared_with_sts() {
    let (s, t) = signed_in().await;
    assert_eq!(tobira(&t, &["whoami", "--profile", "audit"]).code, Some(0));
    let r = tobira(&t, &["doctor", "--profile", "audit"]);
    assert_eq!(r.code, Some(0), "{r:?}");
    // The clock agrees with STS's to the second, give or take a slow machine.
    let text = problems(&r);
    let (before, after) = text.split_once("the clock (").unwrap();
    let (skew, rest) = after.split_once("s from STS at ").unwrap();
    assert!((-2..=2).contains(&skew.parse::<i64>().unwrap()), "{text}");
    assert_eq!(
        format!("{before}{rest}"),
        format!(
            "Checked for profile `audit` (from --profile): ~/.aws/config, 1 SSO sign-in (1 cached), 2 profiles, 2 cached credentials, {}).\n0 errors, 0 warnings, 1 note.\n",
            s.url
        )
    );
    assert_eq!(s.idc.count("ListAccounts"), 1, "one question about the sign-in");
    let v: serde_json::Value = serde_json::from_str(&tobira(&t, &["doctor", "--json"]).stdout).unwrap();
    assert!((-2..=2).contains(&v["clock_skew_seconds"].as_i64().unwrap()), "{v}");
    assert_eq!(v["errors"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_revoked_sign_in_and_the_credentials_cached_from_it() {
    let (s, t) = signed_in().await;
    assert_eq!(tobira(&t, &["whoami", "--profile", "audit"]).code, Some(0));
    assert_eq!(s.idc.revoke_user_sessions("alice").unwrap(), 1);
    let r = tobira(&t, &["doctor", "--profile", "audit"]);
    assert_eq!(r.code, Some(11), "{r:?}");
    let out = problems(&r);
    assert!(
        out.starts_with("error[token-revoked]: the sign-in of sso-session `corp` (profile `dev`) was revoked or ended on the server: the SSO portal refuses its token (UnauthorizedException: "),
        "{out}"
    );
    assert!(out.contains("\n  fix: sign in again: `tobira login --sso-session corp --force` (without `--force`, `tobira login` trusts the cached file)\n"), "{out}");
    // Both cached credentials: the SSO role's and the role assumed with them.
    assert_eq!(out.matches("error[cache-refused]: STS refuses the ").count(), 2, "{out}");
    assert!(out.contains("error[cache-refused]: STS refuses the SSO role credentials (account 111111111111, role ReadOnly) of profile `dev` cached in ~/.aws/cli/cache/"), "{out}");
    assert!(out.contains("error[cache-refused]: STS refuses the role arn:aws:iam::123456789012:role/Audit of profile `audit` cached in ~/.aws/cli/cache/"), "{out}");
    assert!(out.contains("  fix: delete them: `rm ~/.aws/cli/cache/"), "{out}");
    assert!(out.ends_with("3 errors, 0 warnings, 1 note.\n"), "{out}");
    // Doctor only looks: the token and the cached credentials are still there.
    let json = std::fs::read_dir(t.aws_dir().join("cli/cache"))
        .unwrap()
        .filter(|e| e.as_ref().unwrap().path().extension().is_some_and(|x| x == "json"))
        .count();
    assert_eq!(json, 2);
    // The fix it names works.
    let r = tobira(&t, &["login", "--sso-session", "corp", "--force", "--use-device-code", "--no-browser"]);
    assert_eq!(r.code, Some(0), "{r:?}");
    for e in std::fs::read_dir(t.aws_dir().join("cli/cache")).unwrap() {
        std::fs::remove_file(e.unwrap().path()).unwrap();
    }
    assert_eq!(tobira(&t, &["doctor", "--profile", "audit"]).code, Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_clock_twenty_minutes_off() {
    let (s, t) = signed_in().await;
    // STS's clock moves on 20 minutes: requests signed here are 20 minutes old there.
    s.idc.clock().advance(std::time::Duration::from_secs(20 * 60));
    let r = tobira(&t, &["doctor", "--profile", "dev"]);
    assert_eq!(r.code, Some(11), "{r:?}");
    let out = problems(&r);
    assert!(
        out.starts_with(&format!(
            "error[clock-skew]: this machine's clock is 20m behind STS's (the signature refusal of {}): AWS refuses requests signed more than 15 minutes off (\"Signature expired\")",
            s.url
        )),
        "{out}"
    );
    assert!(
        out.contains(
            "  fix: set this machine's clock right, e.g. turn on time synchronisation: `sudo timedatectl set-ntp true`"
        ),
        "{out}"
    );
    let v: serde_json::Value =
        serde_json::from_str(&tobira(&t, &["doctor", "--profile", "dev", "--json"]).stdout).unwrap();
    let skew = v["clock_skew_seconds"].as_i64().unwrap();
    assert!((1195..=1205).contains(&skew), "{skew}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_unreachable_service_is_named_not_dumped() {
    let (s, mut t) = signed_in().await;
    assert_eq!(tobira(&t, &["whoami", "--profile", "dev"]).code, Some(0));
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    drop(s);
    t.env("AWS_ENDPOINT_URL", &format!("http://127.0.0.1:{closed}"));
    let r = tobira(&t, &["doctor", "--profile", "dev"]);
    assert_eq!(r.code, Some(10), "{r:?}");
    let out = problems(&r);
    assert!(out.starts_with(&format!("warning[token-unchecked]: could not ask whether the sign-in of sso-session `corp` is still alive: cannot reach the SSO portal endpoint `http://127.0.0.1:{closed}` (ListAccounts): the connection to 127.0.0.1:{closed} was refused")), "{out}");
    assert!(out.contains("warning[cache-unchecked]: could not ask STS whether the cached SSO role credentials (account 111111111111, role ReadOnly) of profile `dev` are accepted: cannot reach the STS endpoint"), "{out}");
    assert!(
        out.contains("warning[clock-unchecked]: could not compare the clock with STS's: cannot reach the STS endpoint"),
        "{out}"
    );
    assert!(!out.contains("Error {") && !out.contains("DispatchFailure"), "{out}");
}

#[test]
fn files_of_another_user() {
    // Only root can give a file away.
    let t = TestEnv::new();
    t.write_config("[profile x]\nregion = us-east-1\n");
    let cache = t.aws_dir().join("sso/cache");
    std::fs::create_dir_all(&cache).unwrap();
    let token = cache.join("0000000000000000000000000000000000000000.json");
    std::fs::write(&token, "{}").unwrap();
    if std::os::unix::fs::chown(&token, Some(65534), Some(65534)).is_err() {
        return;
    }
    let r = tobira(&t, &["doctor", "--offline"]);
    assert_eq!(r.code, Some(11), "{r:?}");
    assert!(r.stdout.starts_with("error[file-owner]: ~/.aws/sso/cache/0000000000000000000000000000000000000000.json (uid 65534) belongs to another user (often left by `sudo aws …` or `sudo tobira …`): tobira and the AWS CLI cannot replace them, so sign-ins and cached credentials are not saved\n  fix: take them back: `sudo chown -R \"$(id -un)\" ~/.aws`\n"), "{}", r.stdout);
}
