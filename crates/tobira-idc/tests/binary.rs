//! The `tobira-idc` program itself: start-up output, admin subcommands on a
//! database file, clean shutdown on SIGTERM.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] fns

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_tobira-idc");

/// Kills the server if a test fails before stopping it.
struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn serve(args: &[&str]) -> (Guard, Vec<String>) {
    let mut child =
        Command::new(BIN).arg("serve").args(args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut lines = Vec::new();
    // The first screen ends with the note on the start URL.
    for _ in 0..40 {
        let mut line = String::new();
        if out.read_line(&mut line).unwrap() == 0 {
            break;
        }
        lines.push(line.trim_end().to_string());
        if line.starts_with("The start URL names this instance") {
            break;
        }
    }
    (Guard(child), lines)
}

fn run(args: &[&str]) -> (i32, String, String) {
    let o = Command::new(BIN).args(args).output().unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into(),
        String::from_utf8_lossy(&o.stderr).into(),
    )
}

#[test]
fn serve_prints_endpoints_and_stops_on_sigterm() {
    let (mut guard, lines) = serve(&["--port", "0"]);
    let url = lines[0].strip_prefix("tobira-idc listening on ").unwrap().to_string();
    assert!(url.starts_with("http://127.0.0.1:") && !url.ends_with(":0"), "{url}");
    let text = lines.join("\n");
    for expected in [
        format!("Access portal (sign in as a person): {url}/start"),
        "  alice    password \"correct horse battery staple\", MFA code: tobira-idc mfa-code --user alice".to_string(),
        format!("  carol    invited; hand over this one-time link to set a password: {url}/invite/"),
        format!("Admin pages: {url}/admin  admin token: "),
        "IAM user bob (STS): access key AKIAIOSFODNN7EXAMPLE, MFA serial arn:aws:iam::123456789012:mfa/bob-phone".to_string(),
        format!("  export AWS_ENDPOINT_URL_SSO_OIDC={url}"),
        format!("  export AWS_ENDPOINT_URL_SSO={url}"),
        format!("  export AWS_ENDPOINT_URL_STS={url}"),
        format!("  export AWS_ENDPOINT_URL_SIGNIN={url}"),
        format!("  export AWS_ENDPOINT_URL_SSO_ADMIN={url}"),
        format!("  export AWS_ENDPOINT_URL_IDENTITYSTORE={url}"),
        "Manage it like AWS (aws sso-admin, aws identitystore, boto3, Terraform), signed by arn:aws:iam::123456789012:user/bob:".to_string(),
        "Console sign-in (aws login / tobira login): IAM user bob of account 123456789012, password \"correct horse battery staple\" and its MFA code".to_string(),
        "  tobira configure sso --sso-session local --start-url https://d-1234567890.awsapps.com/start --sso-region us-east-1".to_string(),
    ] {
        assert!(text.contains(&expected), "first screen lacks `{expected}`:\n{text}");
    }
    let pid = guard.0.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(status) = guard.0.try_wait().unwrap() {
            assert!(status.success(), "clean exit on SIGTERM, got {status}");
            break;
        }
        assert!(Instant::now() < deadline, "tobira-idc did not stop within 10 s of SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn the_connection_cap_fits_the_open_files_limit() {
    // Three times the cap (served, waiting, overflow) plus a margin must fit.
    let mut child = Command::new("prlimit")
        .args(["--nofile=256:256", BIN, "serve", "--port", "0"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let guard = Guard(child);
    let mut cap_line = String::new();
    for _ in 0..10 {
        let mut line = String::new();
        out.read_line(&mut line).unwrap();
        if line.starts_with("Serves at most") {
            cap_line = line;
            break;
        }
    }
    drop(guard);
    assert_eq!(cap_line.trim(), "Serves at most 64 connections at once (--max-connections).");
}

#[test]
fn admin_subcommands_on_a_database_file() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("idc.db");
    let db = db.to_str().unwrap();
    let (code, _, err) = run(&["approve", "--db", db, "--user-code", "ABCD-EFGH", "--user", "alice"]);
    assert_eq!(code, 1);
    assert!(err.contains("does not exist; start the server with `tobira-idc serve --db"), "{err}");

    // A file that is not a database: which file, and what --db wants.
    let not_db = dir.path().join("notes.txt");
    std::fs::write(&not_db, "not a database, just text ".repeat(100)).unwrap();
    let (code, _, err) = run(&["sessions", "--db", not_db.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(err.contains("as the database: storage error: file is not a database"), "{err}");
    assert!(err.contains("hint: --db takes a file tobira-idc created"), "{err}");

    let (guard, first) = serve(&["--port", "0", "--db", db]);
    // With --db, a restart keeps the address and the admin token.
    let head = |lines: &[String], prefix: &str| lines.iter().find(|l| l.starts_with(prefix)).cloned().unwrap();
    drop(guard);
    let (guard, second) = serve(&["--db", db]);
    assert_eq!(head(&first, "tobira-idc listening on "), head(&second, "tobira-idc listening on "));
    assert_eq!(head(&first, "Admin pages: "), head(&second, "Admin pages: "));
    drop(guard);
    let (_guard, third) = serve(&["--db", db, "--new-admin-token"]);
    assert_ne!(head(&first, "Admin pages: "), head(&third, "Admin pages: "), "--new-admin-token");
    let (code, link, _) = run(&["invite", "--db", db, "--user", "carol"]);
    let url = head(&first, "tobira-idc listening on ").strip_prefix("tobira-idc listening on ").unwrap().to_string();
    assert_eq!(code, 0);
    assert!(link.trim().starts_with(&format!("{url}/invite/")), "{link} vs {url}");
    let (code, _, err) = run(&["invite", "--db", db, "--user", "mallory"]);
    assert_eq!((code, err.trim()), (1, "error: no user `mallory` in the directory"));
    let (code, _, err) = run(&["approve", "--db", db, "--user-code", "ABCD-EFGH", "--user", "alice"]);
    assert_eq!((code, err.trim()), (1, "error: no device authorization with code ABCD-EFGH"));

    let (code, toml, _) = run(&["directory", "--db", db]);
    assert_eq!(code, 0);
    assert!(toml.contains("start_url = \"https://d-1234567890.awsapps.com/start\""), "{toml}");
    assert!(!toml.contains("password") && !toml.contains("argon2"), "no password or hash is shown: {toml}");
    assert!(!toml.contains("secret"), "no MFA or access key secret is shown: {toml}");
    let edited = dir.path().join("dir.toml");
    std::fs::write(&edited, toml.replace("session_hours = 8", "session_hours = 13")).unwrap();
    let (code, _, err) = run(&["directory", "--db", db, "--set", edited.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(err.contains("session_hours must be 1 to 12"), "{err}");

    let (code, out, _) = run(&["sessions", "--db", db, "--revoke", "alice"]);
    assert_eq!((code, out.trim()), (0, "revoked 0 session(s) of alice"));
    let (code, out, _) = run(&["mfa-code", "--iam-user", "bob"]);
    assert_eq!(code, 0);
    let secret = tobira_idc::totp::decode_secret("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ").unwrap();
    let now = jiff::Timestamp::now().as_second();
    let valid: Vec<String> = [now - 30, now, now + 30].iter().map(|t| tobira_idc::totp::code_at(&secret, *t)).collect();
    assert!(valid.contains(&out.trim().to_string()), "{out}");
    let (code, _, err) = run(&["mfa-code", "--user", "carol"]);
    assert_eq!((code, err.trim()), (1, "error: that user has no such MFA device"));
    let (code, out, _) = run(&["demo-directory"]);
    assert_eq!(code, 0);
    assert!(out.contains("[[iam_users]]"));
    // The demo's (documented) secrets are kept, so the file works as --directory.
    assert_eq!(tobira_idc::Directory::from_toml(&out).unwrap(), tobira_idc::Directory::demo());
}
