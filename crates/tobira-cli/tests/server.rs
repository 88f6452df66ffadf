//! The local credential server (`tobira exec --server`, `tobira
//! serve-credentials`) against tobira-idc: who may ask it, what the command's
//! environment holds, that it ends with the command, and botocore calling STS
//! in a loop through it while tobira-idc's credentials last seconds (renewals
//! counted at tobira-idc), an MFA session reused until it ends, and a
//! revoked sign-in recovered by `tobira login` in the middle of a run.
#![allow(clippy::disallowed_methods, clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] fns

use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use tobira_idc::Settings;
use tobira_test_support::{IdcServer, Run, TestEnv, bob_mfa_code, run};

const TOBIRA: &str = env!("CARGO_BIN_EXE_tobira");

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
[profile bob]
region = us-east-1
[profile switch]
role_arn = arn:aws:iam::123456789012:role/Ops
source_profile = bob
mfa_serial = arn:aws:iam::123456789012:mfa/bob-phone
region = us-east-1
";

const CREDENTIALS: &str = "\
[bob]
aws_access_key_id = AKIAIOSFODNN7EXAMPLE
aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY
";

/// STS GetCallerIdentity in a loop with botocore (the SDK finds the server
/// through the two variables), one JSON line per call; stops after
/// `argv[1]` seconds or at a `stop` line on stdin.
const BOTOCORE_LOOP: &str = r#"
import json, sys, threading, time
import boto3
stop = threading.Event()
def watch():
    for line in sys.stdin:
        if line.strip() == "stop":
            stop.set()
threading.Thread(target=watch, daemon=True).start()
session = boto3.session.Session()
sts = session.client("sts", region_name="us-east-1")
creds = session.get_credentials()
end = time.monotonic() + float(sys.argv[1])
while time.monotonic() < end and not stop.is_set():
    t = time.time()
    try:
        key = creds.get_frozen_credentials().access_key
        arn = sts.get_caller_identity()["Arn"]
        exp = creds._expiry_time.timestamp()
        print(json.dumps({"t": t, "ok": True, "arn": arn, "key": key, "exp": exp}), flush=True)
    except Exception as e:
        print(json.dumps({"t": t, "ok": False, "error": str(e)}), flush=True)
    time.sleep(0.25)
"#;

async fn setup(lifetime: Option<i64>) -> (IdcServer, TestEnv) {
    let s = IdcServer::start(Settings {
        auto_approve: Some("alice".into()),
        credential_lifetime: lifetime,
        ..Settings::default()
    })
    .await;
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

/// The repository's Python with pinned boto3, or `None` when the interop
/// venv is knowingly absent (`TOBIRA_SKIP_INTEROP`).
fn python() -> Option<PathBuf> {
    let py = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/python");
    #[allow(clippy::disallowed_methods)] // test switch
    if !py.exists() && std::env::var_os("TOBIRA_SKIP_INTEROP").is_some() {
        return None;
    }
    assert!(py.exists(), "{} is missing: run scripts/setup-python.sh", py.display());
    Some(py)
}

/// `tobira ARGS` with every stream piped.
fn spawn(t: &TestEnv, args: &[&str]) -> Child {
    let mut cmd = t.command(TOBIRA);
    cmd.args(args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    cmd.spawn().unwrap()
}

/// The lines of a stream, as they come.
fn lines_of(stream: impl Read + Send + 'static) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines() {
            let Ok(line) = line else { return };
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    rx
}

/// The next line, within `limit`.
fn next_line(rx: &mpsc::Receiver<String>, limit: Duration) -> String {
    rx.recv_timeout(limit).unwrap_or_else(|e| panic!("no line within {limit:?}: {e}"))
}

/// Lines until one contains `text` (all of them returned), within `limit`.
fn until(rx: &mpsc::Receiver<String>, text: &str, limit: Duration) -> Vec<String> {
    let deadline = Instant::now() + limit;
    let mut seen = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => {
                let found = line.contains(text);
                seen.push(line);
                if found {
                    return seen;
                }
            }
            Err(_) => panic!("no line with `{text}` within {limit:?}; saw {seen:#?}"),
        }
    }
}

/// A raw HTTP request to the server: (status, body).
fn http(addr: &str, request: &str) -> (u16, String) {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.write_all(request.as_bytes()).unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    let status = text.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
    (status, body)
}

fn get(addr: &str, path: &str, auth: Option<&str>) -> (u16, String) {
    let auth = auth.map(|a| format!("Authorization: {a}\r\n")).unwrap_or_default();
    http(addr, &format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n{auth}Connection: close\r\n\r\n"))
}

/// `127.0.0.1:PORT` and the path of a server URL.
fn split_url(url: &str) -> (String, String) {
    let rest = url.strip_prefix("http://").unwrap();
    let (addr, path) = rest.split_once('/').unwrap();
    (addr.to_string(), format!("/{path}"))
}

/// The local address a listening TCP socket on `port` is bound to (from /proc/net/tcp).
fn listening_address(port: u16) -> Option<String> {
    let table = std::fs::read_to_string("/proc/net/tcp").ok()?;
    table.lines().skip(1).find_map(|l| {
        let cols: Vec<&str> = l.split_whitespace().collect();
        let (ip, p) = cols.get(1)?.split_once(':')?;
        (u16::from_str_radix(p, 16).ok()? == port && cols.get(3) == Some(&"0A")).then(|| ip.to_string())
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_server_wants_its_token_binds_loopback_gives_no_keys_and_ends_with_the_command() {
    let (_s, mut t) = setup(None).await;
    login(&t);
    // Keys in tobira's own environment must not reach the command.
    t.env("AWS_ACCESS_KEY_ID", "AKIAPARENTKEY0000000").env("AWS_SECRET_ACCESS_KEY", "parent-secret");
    t.env("AWS_PROFILE", "dev");
    let script = r#"printf '%s\n%s\n%s|%s|%s|%s|%s|%s\n' "$AWS_CONTAINER_CREDENTIALS_FULL_URI" "$AWS_CONTAINER_AUTHORIZATION_TOKEN" "${AWS_ACCESS_KEY_ID:-none}" "${AWS_SECRET_ACCESS_KEY:-none}" "${AWS_SESSION_TOKEN:-none}" "${AWS_PROFILE:-none}" "$AWS_REGION" "$TOBIRA_EXEC_PROFILE"; read _; exit 3"#;
    let mut child = spawn(&t, &["exec", "--server", "--profile", "dev", "--", "sh", "-c", script]);
    let out = lines_of(child.stdout.take().unwrap());
    let Ok(url) = out.recv_timeout(Duration::from_secs(30)) else {
        let mut err = String::new();
        child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
        panic!("tobira exec --server did not start the command: {err}");
    };
    let token = next_line(&out, Duration::from_secs(5));
    let env = next_line(&out, Duration::from_secs(5));
    assert_eq!(env, "none|none|none|none|eu-west-1|dev", "no keys, no profile: only the server");
    assert!(url.starts_with("http://127.0.0.1:") && url.ends_with("/credentials"), "{url}");
    assert_eq!(token.len(), 64, "32 random bytes as hex");
    let (addr, path) = split_url(&url);
    let port: u16 = addr.rsplit_once(':').unwrap().1.parse().unwrap();
    if let Some(ip) = listening_address(port) {
        assert_eq!(ip, "0100007F", "bound to 127.0.0.1 only");
    }

    // Without the token, with a wrong one (same length, one character off, or
    // another length): refused, and no credentials in the answer.
    let (status, body) = get(&addr, &path, None);
    assert_eq!(status, 401, "{body}");
    assert!(body.contains("AWS_CONTAINER_AUTHORIZATION_TOKEN") && !body.contains("AccessKeyId"), "{body}");
    let mut wrong = token.clone();
    wrong.replace_range(63.., if token.ends_with('0') { "1" } else { "0" });
    for bad in [wrong.as_str(), "short", &format!("{token}0"), &format!("Bearer {token}")] {
        let (status, body) = get(&addr, &path, Some(bad));
        assert_eq!(status, 403, "{bad}: {body}");
        assert!(!body.contains("AccessKeyId"));
    }
    // The right token: the container credentials answer.
    let (status, body) = get(&addr, &path, Some(&token));
    assert_eq!(status, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert!(v["AccessKeyId"].as_str().unwrap().starts_with("ASIA"), "{v}");
    assert!(!v["SecretAccessKey"].as_str().unwrap().is_empty() && !v["Token"].as_str().unwrap().is_empty());
    let exp: jiff::Timestamp = v["Expiration"].as_str().unwrap().parse().unwrap();
    assert!(exp > jiff::Timestamp::now() + jiff::SignedDuration::from_mins(50), "ReadOnly lasts 1 hour: {exp}");
    assert_eq!(v["AccountId"], "111111111111");
    let (status, _) = get(&addr, "/other", Some(&token));
    assert_eq!(status, 404);
    let (status, _) = http(
        &addr,
        &format!(
            "POST {path} HTTP/1.1\r\nHost: x\r\nAuthorization: {token}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        ),
    );
    assert_eq!(status, 405);

    // The command ends: tobira exits with its code, and the server is gone.
    child.stdin.take().unwrap().write_all(b"\n").unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(3));
    let mut err = String::new();
    child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    assert!(!err.contains(&token) && !err.contains(v["SecretAccessKey"].as_str().unwrap()), "{err}");
    let gone = std::net::TcpStream::connect(&addr).unwrap_err();
    assert_eq!(gone.kind(), std::io::ErrorKind::ConnectionRefused, "nothing listens on {addr} any more");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigterm_reaches_the_command_and_its_signal_is_the_exit_code() {
    let (_s, t) = setup(None).await;
    login(&t);
    let kill = |sig: &str, child: &Child| {
        let pid = child.id().to_string();
        assert!(std::process::Command::new("kill").args([sig, &pid]).status().unwrap().success());
    };
    // Ctrl-C at a terminal reaches the whole foreground group; tobira itself
    // does not stop on it, so the command keeps its server while it stops.
    let mut child = spawn(&t, &["exec", "--server", "--profile", "dev", "--", "sh", "-c", "echo up; read _; exit 4"]);
    let out = lines_of(child.stdout.take().unwrap());
    assert_eq!(next_line(&out, Duration::from_secs(30)), "up");
    kill("-INT", &child);
    kill("-QUIT", &child);
    child.stdin.take().unwrap().write_all(b"\n").unwrap();
    assert_eq!(
        child.wait().unwrap().code(),
        Some(4),
        "tobira outlived SIGINT and SIGQUIT, and exited as the command did"
    );
    // SIGTERM to tobira is passed on; the command's death by it is the exit code.
    // (`exec sleep`: the process that gets SIGTERM is the one waiting, with
    // no shell builtin in between that may end with a status of its own.)
    let mut child = spawn(&t, &["exec", "--server", "--profile", "dev", "--", "sh", "-c", "echo up; exec sleep 30"]);
    let out = lines_of(child.stdout.take().unwrap());
    assert_eq!(next_line(&out, Duration::from_secs(30)), "up");
    kill("-TERM", &child);
    assert_eq!(child.wait().unwrap().code(), Some(128 + 15), "sh died of SIGTERM");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_default_profile_with_credentials_would_win_so_it_is_refused() {
    let (s, t) = setup(None).await;
    let mut config = CONFIG.to_string();
    config.push_str("[default]\nsso_session = corp\nsso_account_id = 222222222222\nsso_role_name = ReadOnly\n");
    t.write_config(&config);
    let r = tobira(&t, &["exec", "--server", "--profile", "dev", "--", "true"]);
    assert_eq!(r.code, Some(5), "{r:?}");
    assert!(
        r.stderr.starts_with("error: the command would not use the credential server: SDKs take the credentials of profile `default` (sso-session corp: account 222222222222, role ReadOnly) before they ask a credential server\n"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("hint: run `tobira exec` without `--server`"), "{}", r.stderr);
    assert_eq!(s.idc.counters().get("GetRoleCredentials"), None, "refused before any call");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn serve_credentials_prints_the_variables_and_serves_botocore_until_stopped() {
    let Some(py) = python() else { return };
    let (s, t) = setup(None).await;
    login(&t);
    let mut server = spawn(&t, &["serve-credentials", "--profile", "dev"]);
    let out = lines_of(server.stdout.take().unwrap());
    let uri = next_line(&out, Duration::from_secs(30));
    let token = next_line(&out, Duration::from_secs(5));
    let uri = uri.strip_prefix("export AWS_CONTAINER_CREDENTIALS_FULL_URI=").expect("an export line").to_string();
    let token = token.strip_prefix("export AWS_CONTAINER_AUTHORIZATION_TOKEN=").expect("an export line").to_string();
    let mut cmd = t.command(&py);
    cmd.args(["-c", BOTOCORE_LOOP, "1"])
        .env("AWS_CONTAINER_CREDENTIALS_FULL_URI", &uri)
        .env("AWS_CONTAINER_AUTHORIZATION_TOKEN", &token);
    let r = run(cmd);
    assert_eq!(r.code, Some(0), "{r:?}");
    let first: serde_json::Value = serde_json::from_str(r.stdout.lines().next().unwrap()).unwrap();
    assert_eq!(first["ok"], true, "{first}");
    assert!(first["arn"].as_str().unwrap().contains(":assumed-role/AWSReservedSSO_ReadOnly_"), "{first}");
    assert_eq!(s.idc.count("GetRoleCredentials"), 1);
    let pid = server.id().to_string();
    assert!(std::process::Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    assert_eq!(server.wait().unwrap().code(), Some(0));
    let (addr, _) = split_url(&uri);
    assert!(std::net::TcpStream::connect(&addr).is_err(), "stopped");
}

/// One JSON line of [`BOTOCORE_LOOP`].
fn calls(lines: &[String]) -> Vec<serde_json::Value> {
    lines.iter().filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn botocore_calls_for_45_seconds_through_renewals_of_20_second_credentials_without_a_failure() {
    let Some(py) = python() else { return };
    // Everything tobira-idc issues lasts 20 s: the SSO token, the SSO role
    // credentials and the role assumed with them.
    let (s, t) = setup(Some(20)).await;
    login(&t);
    let started = Instant::now();
    let py = py.to_string_lossy().into_owned();
    let r = tobira(&t, &["exec", "--server", "--profile", "audit", "--", &py, "-c", BOTOCORE_LOOP, "45"]);
    let elapsed = started.elapsed().as_secs_f64();
    assert_eq!(r.code, Some(0), "{r:?}");
    let all = calls(&r.stdout.lines().map(str::to_string).collect::<Vec<_>>());
    let failed: Vec<&serde_json::Value> = all.iter().filter(|c| c["ok"] != true).collect();
    assert!(failed.is_empty(), "{} of {} calls failed: {failed:#?}", failed.len(), all.len());
    assert!(all.len() >= 50, "{} calls", all.len());
    assert!(all.iter().all(|c| c["arn"].as_str().unwrap().contains(":assumed-role/Audit/tobira-")));
    let keys: std::collections::BTreeSet<&str> = all.iter().map(|c| c["key"].as_str().unwrap()).collect();
    let renewals = s.idc.count("AssumeRole") - 1;
    // Renewed at half-life (every ~10 s): at least 3 renewals in 45 s, and
    // not one per call.
    let most = (elapsed / 10.0).ceil() as i64 + 1;
    assert!((3..=most).contains(&renewals), "{renewals} renewals in {elapsed:.0} s");
    assert_eq!(s.idc.count("GetRoleCredentials"), renewals + 1, "the SSO role credentials behind each");
    assert!(s.idc.count("CreateToken") > renewals, "the 20-second SSO token refreshed for each");
    assert!(keys.len() as i64 >= 4, "botocore used {} credentials across the run", keys.len());
    // The credentials botocore held expired at least 3 times during the run.
    let first = all[0]["t"].as_f64().unwrap();
    let last = all[all.len() - 1]["t"].as_f64().unwrap();
    let exps: std::collections::BTreeSet<i64> = all.iter().map(|c| c["exp"].as_f64().unwrap() as i64).collect();
    assert!(exps.iter().filter(|e| (**e as f64) > first && (**e as f64) < last).count() >= 3, "{exps:?}");
    assert!(!r.stderr.contains("cannot renew"), "{}", r.stderr);
    println!(
        "{} calls in {elapsed:.1} s, 0 failed; {renewals} renewals (AssumeRole {}, GetRoleCredentials {}, CreateToken {}); {} credentials seen by botocore",
        all.len(),
        s.idc.count("AssumeRole"),
        s.idc.count("GetRoleCredentials"),
        s.idc.count("CreateToken"),
        keys.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_mfa_session_is_reused_without_a_prompt_and_its_end_stops_renewal_with_a_clear_message() {
    let Some(py) = python() else { return };
    // 30-second MFA session and roles: the role is renewed once from the
    // session (no code), then the session has ended.
    let (s, t) = setup(Some(30)).await;
    let py = py.to_string_lossy().into_owned();
    let code = bob_mfa_code(&s.idc, 0);
    let r = tobira(
        &t,
        &["exec", "--server", "--profile", "switch", "--mfa-code", &code, "--", &py, "-c", BOTOCORE_LOOP, "52"],
    );
    assert_eq!(r.code, Some(0), "{r:?}");
    assert_eq!(s.idc.count("GetSessionToken"), 1, "one code, one MFA session");
    assert_eq!(s.idc.count("AssumeRole"), 2, "the role assumed at start and once more from the session");
    let all = calls(&r.stdout.lines().map(str::to_string).collect::<Vec<_>>());
    let ok: Vec<&serde_json::Value> = all.iter().filter(|c| c["ok"] == true).collect();
    let last_exp = ok.iter().map(|c| c["exp"].as_f64().unwrap()).fold(0.0, f64::max);
    let keys: std::collections::BTreeSet<&str> = ok.iter().map(|c| c["key"].as_str().unwrap()).collect();
    assert_eq!(keys.len(), 2, "{keys:?}");
    for c in &all {
        if c["ok"] != true {
            assert!(c["t"].as_f64().unwrap() > last_exp - 2.0, "a call failed while credentials were valid: {c}");
            assert!(
                c["error"]
                    .as_str()
                    .unwrap()
                    .contains("a new MFA code for arn:aws:iam::123456789012:mfa/bob-phone is needed"),
                "{c}"
            );
        }
    }
    assert!(all.iter().any(|c| c["ok"] != true), "calls after the end fail (the run outlasts the session)");
    let stderr = &r.stderr;
    assert_eq!(stderr.matches("cannot renew the credentials of profile `switch`").count(), 1, "said once: {stderr}");
    assert!(
        stderr.contains("tobira: cannot renew the credentials of profile `switch` for the running command: a new MFA code for arn:aws:iam::123456789012:mfa/bob-phone is needed: its MFA session has ended, and tobira never asks for a code while the command runs"),
        "{stderr}"
    );
    assert!(!stderr.contains("Enter MFA code"), "never a prompt: {stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_revoked_sign_in_is_reported_and_a_new_login_elsewhere_resumes_the_run() {
    let Some(py) = python() else { return };
    let (s, t) = setup(Some(20)).await;
    login(&t);
    let py = py.to_string_lossy().into_owned();
    let mut child = spawn(&t, &["exec", "--server", "--profile", "dev", "--", &py, "-c", BOTOCORE_LOOP, "120"]);
    let out = lines_of(child.stdout.take().unwrap());
    let err = lines_of(child.stderr.take().unwrap());
    let ok_calls = |n: usize, out: &mpsc::Receiver<String>| {
        let mut keys = Vec::new();
        while keys.len() < n {
            let line = next_line(out, Duration::from_secs(30));
            let c: serde_json::Value = serde_json::from_str(&line).unwrap();
            if c["ok"] == true {
                keys.push(c["key"].as_str().unwrap().to_string());
            }
        }
        keys
    };
    let before = ok_calls(3, &out);
    assert_eq!(s.idc.revoke_user_sessions("alice").unwrap(), 1);
    let said = until(&err, "cannot renew the credentials of profile `dev`", Duration::from_secs(30));
    let text = said.last().unwrap();
    assert!(
        text.contains("The SSO session associated with this profile has expired or is otherwise invalid."),
        "{text}"
    );
    assert!(text.contains("sign in again with `tobira login --sso-session corp`"), "{text}");
    let hint = next_line(&err, Duration::from_secs(5));
    assert!(hint.contains("tobira tries again every 5 seconds"), "{hint}");
    // Signing in again in another terminal is enough.
    login(&t);
    until(&err, "tobira: renewed the credentials of profile `dev` again", Duration::from_secs(30));
    let after = loop {
        let keys = ok_calls(1, &out);
        if !before.contains(&keys[0]) {
            break keys[0].clone();
        }
    };
    assert!(!before.contains(&after));
    child.stdin.take().unwrap().write_all(b"stop\n").unwrap();
    assert_eq!(child.wait().unwrap().code(), Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn long_term_keys_are_served_as_a_session_never_as_themselves() {
    let (s, t) = setup(None).await;
    let mut server = spawn(&t, &["serve-credentials", "--profile", "bob", "--format", "env-no-export"]);
    let out = lines_of(server.stdout.take().unwrap());
    let uri = next_line(&out, Duration::from_secs(30));
    let token = next_line(&out, Duration::from_secs(5));
    let uri = uri.strip_prefix("AWS_CONTAINER_CREDENTIALS_FULL_URI=").expect("a variable line").to_string();
    let token = token.strip_prefix("AWS_CONTAINER_AUTHORIZATION_TOKEN=").expect("a variable line").to_string();
    let (addr, path) = split_url(&uri);
    let (status, body) = get(&addr, &path, Some(&token));
    assert_eq!(status, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert!(v["AccessKeyId"].as_str().unwrap().starts_with("ASIA"), "a session, not AKIA…: {v}");
    assert!(!body.contains("AKIAIOSFODNN7EXAMPLE") && !body.contains("wJalrXUtnFEMI"), "{body}");
    assert_eq!(s.idc.count("GetSessionToken"), 1);
    let pid = server.id().to_string();
    assert!(std::process::Command::new("kill").args(["-INT", &pid]).status().unwrap().success());
    assert_eq!(server.wait().unwrap().code(), Some(0), "Ctrl-C stops serve-credentials");
}
