//! Interoperability with third-party AWS clients: the real `tobira-idc` binary
//! (`serve --db`, no auto-approve) driven by boto3/botocore and the AWS CLI v1
//! pinned in the repo's `.venv` (installed by `scripts/setup-python.sh`)
//! through `scripts/idc_interop.py`: a device login approved with
//! `tobira-idc approve`, the SSO portal, an sso-session profile read from a
//! token cache file, static keys, GetFederationToken and a federated
//! user's console sign-in, assume-role with a TOTP code, and error paths;
//! and through `scripts/idc_admin_interop.py` the SSO Admin and
//! Identity Store APIs (the seed-002 journey, Terraform's sequence replayed,
//! pagination, every error shape).

// Test drivers read their own switches (TOBIRA_PYTHON, TOBIRA_SKIP_INTEROP) and
// PATH for the child's environment; helpers outside #[test] fns may unwrap.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value as Json;

/// Every check the script must report as passed (a missing one fails).
const CHECKS: &[&str] = &[
    // 1. device login through raw SSO OIDC calls
    "oidc.register_client",
    "oidc.start_device_authorization",
    "oidc.create_token_pending",
    "oidc.approve_with_cli",
    "oidc.create_token_after_approval",
    "oidc.device_code_single_use",
    // 2. the SSO portal
    "portal.list_accounts_paginated",
    "portal.list_account_roles",
    "portal.get_role_credentials",
    "sts.sso_role_credentials_identity",
    "portal.list_accounts_cli",
    // 3. an sso-session profile resolved from the token cache
    "profile.token_cache_written",
    "profile.sso_session_boto3",
    "profile.sso_session_cli",
    "profile.sso_token_refresh_boto3",
    // 4. static keys
    "static.bob_boto3",
    "static.bob_cli",
    // 4b. GetFederationToken, and the console as a federated user
    "federation.get_federation_token_boto3",
    "federation.get_federation_token_refusals_boto3",
    "federation.get_federation_token_cli",
    "federation.console_sign_in_as_a_federated_user",
    // 5. assume-role with mfa_serial and a real TOTP code
    "mfa.assume_role_boto3",
    "mfa.reused_code_denied",
    "mfa.assume_role_cli_stdin",
    "mfa.cli_cache_reused_without_prompt",
    // 6. error paths
    "error.wrong_secret_boto3",
    "error.wrong_secret_cli",
    "error.unknown_bearer_token",
    "error.logged_out_token",
    "oidc.refresh_token_reuse_revokes_the_family",
    "error.sso_profile_after_logout_boto3",
    "error.sso_profile_after_logout_cli",
];

/// Every check of `idc_admin_interop.py`.
const ADMIN_CHECKS: &[&str] = &[
    "instance.list_instances_cli",
    "instance.describe_boto3",
    "journey.permission_set_8h_with_managed_policy",
    "journey.assign_user_then_portal_lists_the_role_for_8_hours",
    "journey.delete_assignment_removes_the_role",
    "journey.cli_v1_user_group_membership",
    "journey.group_assignment_reaches_members",
    "terraform.create_and_read_back",
    "terraform.update_in_place",
    "terraform.destroy_then_refresh_finds_nothing",
    "paging.list_users_boto3_and_cli",
    "error.unsigned_request",
    "error.wrong_secret_and_unknown_key",
    "error.not_an_administrator",
    "error.duplicates",
    "error.validation",
    "error.not_found",
    "error.cli_v1_renders_the_service_message",
    "error.throttling_is_retried",
];

/// The whole script normally takes well under 15 s.
const PYTHON_TIMEOUT: Duration = Duration::from_secs(120);

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn python() -> PathBuf {
    if let Some(p) = std::env::var_os("TOBIRA_PYTHON") {
        return PathBuf::from(p);
    }
    workspace().join(".venv/bin/python")
}

/// A child process that is killed and reaped when dropped, also on panic.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// What the first screen says.
struct Banner {
    url: String,
    exports: Vec<(String, String)>,
    admin_token: String,
}

/// Starts `tobira-idc serve` on 127.0.0.1:0 and reads its banner: the server
/// and the `export NAME=VALUE` lines it prints.
fn start_server(db: &Path) -> (KillOnDrop, Banner) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tobira-idc"))
        .args(["serve", "--bind", "127.0.0.1", "--port", "0", "--db"])
        .arg(db)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start tobira-idc");
    let stdout = child.stdout.take().expect("piped stdout");
    let server = KillOnDrop(child);
    let mut reader = BufReader::new(stdout);
    let (mut url, mut exports, mut banner, mut admin_token) = (None, Vec::new(), String::new(), String::new());
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).expect("read the server's stdout") == 0 {
            panic!("tobira-idc ended before printing its banner; it printed:\n{banner}");
        }
        banner.push_str(&line);
        let line = line.trim();
        if let Some(u) = line.strip_prefix("tobira-idc listening on ") {
            url = Some(u.to_string());
        } else if let Some((_, t)) = line.split_once("admin token: ") {
            admin_token = t.trim().to_string();
        } else if let Some((k, v)) = line.strip_prefix("export ").and_then(|kv| kv.split_once('=')) {
            exports.push((k.to_string(), v.to_string()));
        } else if line.starts_with("The start URL names this instance") {
            // The last line of the first screen.
            break;
        }
    }
    // Keep draining so the server never blocks on a full pipe.
    std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
    let url = url.unwrap_or_else(|| panic!("no `listening on` line in:\n{banner}"));
    (server, Banner { url, exports, admin_token })
}

/// Reads a pipe to its end on a thread.
fn collect(mut pipe: impl Read + Send + 'static) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = pipe.read_to_end(&mut buf);
        String::from_utf8_lossy(&buf).into_owned()
    })
}

#[test]
fn boto3_botocore_and_aws_cli_v1_against_the_real_binary() {
    run_script("idc_interop.py", CHECKS);
}

#[test]
fn the_admin_apis_with_boto3_and_aws_cli_v1() {
    run_script("idc_admin_interop.py", ADMIN_CHECKS);
}

/// Runs one script against a fresh server and checks that it reported
/// exactly `checks`, all passed.
#[allow(clippy::print_stdout)] // the script's report, shown when the test fails
fn run_script(name: &str, checks: &[&str]) {
    let py = python();
    if !py.exists() {
        if std::env::var_os("TOBIRA_SKIP_INTEROP").is_some() {
            return;
        }
        panic!("{} not found: run scripts/setup-python.sh (or set TOBIRA_SKIP_INTEROP=1 to skip)", py.display());
    }
    // Declared before the server so the server is dropped (killed) first.
    let tmp = tempfile::tempdir().expect("temp dir");
    let db = tmp.path().join("idc.db");
    let (mut server, Banner { url, exports, admin_token }) = start_server(&db);
    assert!(url.starts_with("http://127.0.0.1:"), "the server must bind loopback only: {url}");
    let mut names: Vec<&str> = exports.iter().map(|(k, _)| k.as_str()).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "AWS_ENDPOINT_URL_IDENTITYSTORE",
            "AWS_ENDPOINT_URL_SIGNIN",
            "AWS_ENDPOINT_URL_SSO",
            "AWS_ENDPOINT_URL_SSO_ADMIN",
            "AWS_ENDPOINT_URL_SSO_OIDC",
            "AWS_ENDPOINT_URL_STS"
        ]
    );
    assert!(exports.iter().all(|(_, v)| *v == url), "{exports:?}");

    let script = workspace().join("scripts").join(name);
    let aws_dir = tmp.path().join("aws-config");
    let mut cmd = Command::new(&py);
    cmd.arg(&script)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_else(|| "/usr/bin:/bin".into()))
        .env("HOME", tmp.path())
        .env("AWS_CONFIG_FILE", aws_dir.join("config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", aws_dir.join("credentials"))
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("TOBIRA_IDC_BIN", env!("CARGO_BIN_EXE_tobira-idc"))
        .env("TOBIRA_IDC_DB", &db)
        .env("TOBIRA_IDC_URL", &url)
        .env("TOBIRA_IDC_ADMIN_TOKEN", &admin_token)
        .envs(exports.iter().map(|(k, v)| (k, v)))
        .current_dir(tmp.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = KillOnDrop(cmd.spawn().expect("run python"));
    let out = collect(child.0.stdout.take().expect("piped stdout"));
    let err = collect(child.0.stderr.take().expect("piped stderr"));
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.0.try_wait().expect("wait for python") {
            break Some(status);
        }
        if started.elapsed() > PYTHON_TIMEOUT {
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    drop(child); // kills it on timeout
    let (stdout, stderr) = (out.join().expect("stdout reader"), err.join().expect("stderr reader"));
    println!("{stdout}");
    println!("{name} took {:.1} s", started.elapsed().as_secs_f64());
    let Some(status) = status else {
        panic!("{name} did not finish within {PYTHON_TIMEOUT:?}\nstdout:\n{stdout}\nstderr:\n{stderr}");
    };
    assert!(server.0.try_wait().expect("poll the server").is_none(), "tobira-idc died during the run");

    let mut reported: BTreeMap<String, Json> = BTreeMap::new();
    let mut problems = Vec::new();
    for line in stdout.lines().filter(|l| !l.trim().is_empty()) {
        match serde_json::from_str::<Json>(line) {
            Ok(v) => match v["check"].as_str() {
                Some(name) if reported.insert(name.to_string(), v.clone()).is_some() => {
                    problems.push(format!("{name}: reported twice"));
                }
                Some(_) => {}
                None => problems.push(format!("line without a check name: {line}")),
            },
            Err(e) => problems.push(format!("not JSON ({e}): {line}")),
        }
    }
    for check in checks {
        match reported.get(*check) {
            None => problems.push(format!("{check}: not reported")),
            Some(v) if v["ok"] != Json::Bool(true) => {
                problems.push(format!("{check}: FAILED: {}", v["detail"].as_str().unwrap_or(&v["detail"].to_string())));
            }
            Some(_) => {}
        }
    }
    for check in reported.keys().filter(|n| !checks.contains(&n.as_str())) {
        problems.push(format!("{check}: reported but not listed in the checks"));
    }
    assert!(
        problems.is_empty() && status.success(),
        "{name}: {status}; {} problem(s):\n{}\n--- stderr:\n{stderr}",
        problems.len(),
        problems.join("\n")
    );
}
