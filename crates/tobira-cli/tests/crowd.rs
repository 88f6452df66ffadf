//! One refresh for any crowd: when a cached entry is due, 100 `tobira
//! credential-process` processes started at once renew it with exactly one
//! call to the service (counted by tobira-idc) and all succeed, for each kind
//! of entry: SSO role credentials, an assumed role, an MFA session. A
//! process killed with SIGKILL while it holds an entry's lock does not hold
//! up the others (docs/locking.md).
#![allow(clippy::disallowed_methods, clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] fns

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use tobira_idc::{Faults, Settings};
use tobira_test_support::{IdcServer, Run, TestEnv, bob_mfa_code as mfa_code, run};

const TOBIRA: &str = env!("CARGO_BIN_EXE_tobira");
const CROWD: usize = 100;

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
";

const CREDENTIALS: &str = "\
[bob-mfa]
aws_access_key_id = AKIAIOSFODNN7EXAMPLE
aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY
";

async fn setup() -> (IdcServer, TestEnv) {
    let s = IdcServer::start(Settings { auto_approve: Some("alice".into()), ..Settings::default() }).await;
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

fn login(t: &TestEnv) {
    let r = tobira(t, &["login", "--sso-session", "corp", "--use-device-code", "--no-browser"]);
    assert_eq!(r.code, Some(0), "{r:?}");
}

fn spawn(t: &TestEnv, args: &[&str]) -> Child {
    let mut cmd = t.command(TOBIRA);
    cmd.args(args).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    cmd.spawn().unwrap()
}

/// Waits for every child; one still running after `limit` is killed and
/// the test fails (a deadlock must not hang the suite).
fn wait_all(children: Vec<Child>, limit: Duration) -> Vec<Run> {
    let deadline = Instant::now() + limit;
    let mut runs = Vec::new();
    for mut child in children {
        loop {
            if child.try_wait().unwrap().is_some() {
                break;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("a tobira process was still running after {limit:?}: a lock was never released");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        runs.push(Run::from(child.wait_with_output().unwrap()));
    }
    runs
}

/// `n` processes started at once, all waited for.
fn crowd(t: &TestEnv, args: &[&str], n: usize) -> Vec<Run> {
    let children: Vec<Child> = (0..n).map(|_| spawn(t, args)).collect();
    wait_all(children, Duration::from_secs(120))
}

/// The access key ids the runs printed; every run must have succeeded.
fn keys_of(runs: &[Run]) -> BTreeSet<String> {
    let failures: Vec<&Run> = runs.iter().filter(|r| r.code != Some(0)).collect();
    assert!(failures.is_empty(), "{} of {} processes failed, e.g. {:?}", failures.len(), runs.len(), failures[0]);
    runs.iter()
        .map(|r| {
            let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
            v["AccessKeyId"].as_str().unwrap().to_string()
        })
        .collect()
}

/// The only `.json` entry in a cache directory.
fn only_entry(dir: &Path) -> PathBuf {
    let entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    assert_eq!(entries.len(), 1, "{entries:?}");
    entries[0].clone()
}

/// Makes a cached entry due for renewal (5 minutes left; still valid at the
/// server, which checks the expiry sealed in the token) and returns the
/// access key id it holds.
fn make_due(entry: &Path) -> String {
    let text = std::fs::read_to_string(entry).unwrap();
    let soon = (jiff::Timestamp::now() + jiff::SignedDuration::from_mins(5)).strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
    let key = "\"Expiration\": \"";
    let start = text.find(key).unwrap() + key.len();
    let end = start + text[start..].find('"').unwrap();
    std::fs::write(entry, format!("{}{}{}", &text[..start], soon, &text[end..])).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let c = if v.get("Credentials").is_some() { &v["Credentials"] } else { &v };
    c["AccessKeyId"].as_str().unwrap().to_string()
}

fn cli_cache_entry(t: &TestEnv, name: &str) -> PathBuf {
    t.aws_dir().join("cli/cache").join(name)
}

fn sso_entry_name() -> String {
    tobira_cache::keys::sso_role_credentials_file_name(
        "111111111111",
        "ReadOnly",
        tobira_cache::SsoKey::Session("corp"),
    )
}

fn audit_entry_name() -> String {
    tobira_cache::keys::assume_role_file_name(&tobira_cache::keys::AssumeRoleKey {
        role_arn: "arn:aws:iam::123456789012:role/Audit",
        external_id: Some("audit-ext-1"),
        ..Default::default()
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_hundred_processes_renew_due_sso_role_credentials_with_one_call() {
    let (s, t) = setup().await;
    login(&t);
    assert_eq!(tobira(&t, &["credential-process", "--profile", "dev"]).code, Some(0));
    let old = make_due(&cli_cache_entry(&t, &sso_entry_name()));
    let before = s.idc.count("GetRoleCredentials");
    let runs = crowd(&t, &["credential-process", "--profile", "dev"], CROWD);
    let keys = keys_of(&runs);
    assert_eq!(s.idc.count("GetRoleCredentials") - before, 1, "one GetRoleCredentials for {CROWD} processes");
    assert_eq!(keys.len(), 1, "every process printed the one renewed entry: {keys:?}");
    assert!(!keys.contains(&old), "renewed, not the due entry");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_hundred_processes_renew_a_due_assumed_role_with_one_call() {
    let (s, t) = setup().await;
    login(&t);
    assert_eq!(tobira(&t, &["credential-process", "--profile", "audit"]).code, Some(0));
    let old = make_due(&cli_cache_entry(&t, &audit_entry_name()));
    let (roles, sso) = (s.idc.count("AssumeRole"), s.idc.count("GetRoleCredentials"));
    let runs = crowd(&t, &["credential-process", "--profile", "audit"], CROWD);
    let keys = keys_of(&runs);
    assert_eq!(s.idc.count("AssumeRole") - roles, 1, "one AssumeRole for {CROWD} processes");
    assert_eq!(s.idc.count("GetRoleCredentials"), sso, "the SSO role credentials behind it were still fresh");
    assert_eq!(keys.len(), 1, "{keys:?}");
    assert!(!keys.contains(&old));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_hundred_processes_renew_a_due_mfa_session_with_one_call_and_one_code() {
    let (s, t) = setup().await;
    let r = tobira(&t, &["credential-process", "--profile", "bob-mfa", "--mfa-code", &mfa_code(&s.idc, 0)]);
    assert_eq!(r.code, Some(0), "{r:?}");
    let old = make_due(&only_entry(&t.aws_dir().join("tobira/mfa-sessions")));
    let before = s.idc.count("GetSessionToken");
    // Every process is given the same code; a TOTP code is accepted once,
    // so a second GetSessionToken would fail.
    let code = mfa_code(&s.idc, 1);
    let runs = crowd(&t, &["credential-process", "--profile", "bob-mfa", "--mfa-code", &code], CROWD);
    let keys = keys_of(&runs);
    assert_eq!(s.idc.count("GetSessionToken") - before, 1, "one GetSessionToken for {CROWD} processes");
    assert_eq!(keys.len(), 1, "{keys:?}");
    assert!(!keys.contains(&old));
}

/// Whether some process holds the lock of `entry` (the lock file beside it).
fn lock_is_held(entry: &Path) -> bool {
    let name = entry.file_name().unwrap().to_string_lossy().into_owned();
    let lock = entry.with_file_name(format!(".{name}.lock"));
    let Ok(file) = std::fs::File::options().write(true).open(lock) else { return false };
    matches!(file.try_lock(), Err(std::fs::TryLockError::WouldBlock))
}

/// How many processes wait for the lock of `entry`: blocked requests are
/// the `->` lines of /proc/locks, named by device and inode.
#[cfg(target_os = "linux")]
fn waiters(entry: &Path) -> usize {
    use std::os::unix::fs::MetadataExt;
    let name = entry.file_name().unwrap().to_string_lossy().into_owned();
    let ino = std::fs::metadata(entry.with_file_name(format!(".{name}.lock"))).unwrap().ino();
    let locks = std::fs::read_to_string("/proc/locks").unwrap();
    locks.lines().filter(|l| l.contains("->") && l.split_whitespace().any(|w| w.ends_with(&format!(":{ino}")))).count()
}

#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_lock_holder_killed_with_sigkill_does_not_hold_up_the_others() {
    let (s, t) = setup().await;
    login(&t);
    assert_eq!(tobira(&t, &["credential-process", "--profile", "dev"]).code, Some(0));
    let entry = cli_cache_entry(&t, &sso_entry_name());
    make_due(&entry);
    let before = s.idc.count("GetRoleCredentials");
    // The first process takes the lock and then waits on a slow service.
    s.idc.set_faults(Faults { latency_ms: 60_000, ..Faults::default() });
    let mut holder = spawn(&t, &["credential-process", "--profile", "dev"]);
    let deadline = Instant::now() + Duration::from_secs(30);
    while s.idc.count("GetRoleCredentials") == before {
        assert!(Instant::now() < deadline, "the first process never called GetRoleCredentials");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(lock_is_held(&entry), "the process calling the service holds the entry's lock");
    // Others queue behind it: all 20 wait for the lock (the kernel lists them).
    let waiting: Vec<Child> = (0..20).map(|_| spawn(&t, &["credential-process", "--profile", "dev"])).collect();
    let deadline = Instant::now() + Duration::from_secs(60);
    while waiters(&entry) < 20 {
        assert!(Instant::now() < deadline, "the other processes never waited for the lock ({})", waiters(&entry));
        std::thread::sleep(Duration::from_millis(20));
    }
    s.idc.set_faults(Faults::default());
    holder.kill().unwrap(); // SIGKILL: no destructor, no unlock of its own
    let status = holder.wait().unwrap();
    assert!(!status.success());
    let runs = wait_all(waiting, Duration::from_secs(60));
    let keys = keys_of(&runs);
    assert_eq!(keys.len(), 1, "{keys:?}");
    assert_eq!(
        s.idc.count("GetRoleCredentials") - before,
        2,
        "the killed holder's call, then one renewal for all the others"
    );
    assert!(!lock_is_held(&entry));
}
