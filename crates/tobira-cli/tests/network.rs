//! Network failures as users meet them: the real `tobira` against a closed
//! port, a name that does not resolve, a server that never answers, a web
//! server that is not AWS, and an address that is not a URL. Every message
//! names the URL, where the address came from and what to do; none is a
//! Rust `Debug` dump.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] fns

use tobira_idc::Settings;
use tobira_test_support::{IdcServer, Run, TestEnv, run};

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
[profile bob]
region = us-east-1
";

const CREDENTIALS: &str = "\
[bob]
aws_access_key_id = AKIAIOSFODNN7EXAMPLE
aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY
";

fn tobira(t: &TestEnv, args: &[&str]) -> Run {
    let mut cmd = t.command(TOBIRA);
    cmd.args(args);
    let r = run(cmd);
    for text in [&r.stdout, &r.stderr] {
        for dump in ["DispatchFailure", "ConnectorError", "{ ", "Os {", "hyper"] {
            assert!(!text.contains(dump), "debug text `{dump}` in the output: {r:?}");
        }
    }
    r
}

/// [`tobira`] that cannot hang the test: the process is killed at `limit`
/// (a timeout that does not fire then fails the test instead of hanging it).
fn tobira_within(t: &TestEnv, args: &[&str], limit: std::time::Duration) -> Run {
    let mut cmd = t.command(TOBIRA);
    cmd.args(args).stdin(std::process::Stdio::null());
    cmd.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped());
    let child = cmd.spawn().unwrap();
    let pid = child.id().to_string();
    let (done, finished) = std::sync::mpsc::channel::<()>();
    let watchdog = std::thread::spawn(move || {
        if finished.recv_timeout(limit).is_err() {
            let _ = std::process::Command::new("kill").args(["-KILL", &pid]).status();
        }
    });
    let out = child.wait_with_output().unwrap();
    let _ = done.send(());
    watchdog.join().unwrap();
    let r = Run::from(out);
    assert!(r.code.is_some(), "`tobira {}` was still running after {limit:?}: {r:?}", args.join(" "));
    for text in [&r.stdout, &r.stderr] {
        for dump in ["DispatchFailure", "ConnectorError", "{ ", "Os {", "hyper"] {
            assert!(!text.contains(dump), "debug text `{dump}` in the output: {r:?}");
        }
    }
    r
}

/// A port on 127.0.0.1 where nothing listens: bound, then released.
fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// Files with a valid token for sso-session `corp`, so portal calls are made.
fn signed_in() -> TestEnv {
    let t = TestEnv::new();
    t.write_config(CONFIG).write_credentials(CREDENTIALS);
    let token = tobira_cache::SsoToken::from_json(
        br#"{"startUrl": "https://d-1234567890.awsapps.com/start", "region": "us-east-1", "accessToken": "tok", "expiresAt": "2099-01-01T00:00:00Z"}"#,
    )
    .unwrap();
    tobira_cache::SsoCache::in_home(t.home()).write_token(tobira_cache::SsoKey::Session("corp"), &token).unwrap();
    t
}

#[test]
fn a_closed_port_is_named_with_where_its_address_came_from() {
    let port = closed_port();
    let url = format!("http://127.0.0.1:{port}");
    let mut t = signed_in();
    t.env("AWS_ENDPOINT_URL", &url);

    // Sign-in (SSO OIDC), through AWS_ENDPOINT_URL (--force: the cached token is valid).
    let r = tobira(&t, &["login", "--sso-session", "corp", "--use-device-code", "--no-browser", "--force"]);
    assert_eq!(r.code, Some(9), "{r:?}");
    assert_eq!(
        r.stderr,
        format!(
            "error: cannot reach the SSO OIDC endpoint `{url}` (RegisterClient): the connection to 127.0.0.1:{port} was refused (nothing is listening there)\n\
             \nhint: the address comes from `AWS_ENDPOINT_URL`, which applies to every AWS service\n\
             \nhint: start the server it names, correct the address, or `unset AWS_ENDPOINT_URL` to use AWS's own endpoint\n"
        )
    );

    // The portal (ListAccounts) with a cached token.
    let r = tobira(&t, &["sso", "accounts", "--sso-session", "corp"]);
    assert_eq!(r.code, Some(9), "{r:?}");
    assert!(
        r.stderr.starts_with(&format!(
            "error: cannot reach the SSO portal endpoint `{url}` (ListAccounts): the connection to 127.0.0.1:{port} was refused"
        )),
        "{}",
        r.stderr
    );

    // A service's own variable wins over AWS_ENDPOINT_URL and is the one named.
    let sso_port = closed_port();
    t.env("AWS_ENDPOINT_URL_SSO", &format!("http://127.0.0.1:{sso_port}/portal"));
    let r = tobira(&t, &["export", "--profile", "dev"]);
    assert_eq!(r.code, Some(9), "{r:?}");
    assert_eq!(
        r.stderr,
        format!(
            "error: cannot reach the SSO portal endpoint `http://127.0.0.1:{sso_port}/portal` (GetRoleCredentials): the connection to 127.0.0.1:{sso_port} was refused (nothing is listening there)\n\
             \nhint: the address comes from `AWS_ENDPOINT_URL_SSO`\n\
             \nhint: start the server it names, correct the address, or `unset AWS_ENDPOINT_URL_SSO` to use AWS's own endpoint\n"
        )
    );
    assert_eq!(r.stdout, "");

    // credential-process: the same on one line, for the SDK that runs it.
    let r = tobira(&t, &["credential-process", "--profile", "dev"]);
    assert_eq!(r.code, Some(9), "{r:?}");
    assert_eq!(
        r.stderr,
        format!(
            "tobira: cannot reach the SSO portal endpoint `http://127.0.0.1:{sso_port}/portal` (GetRoleCredentials): the connection to 127.0.0.1:{sso_port} was refused (nothing is listening there) (the address comes from `AWS_ENDPOINT_URL_SSO`; start the server it names, correct the address, or `unset AWS_ENDPOINT_URL_SSO` to use AWS's own endpoint)\n"
        )
    );

    // STS through the profile's `endpoint_url` setting.
    let t = TestEnv::new();
    t.write_config(&format!("{CONFIG}endpoint_url = {url}\n")).write_credentials(CREDENTIALS);
    let r = tobira(&t, &["whoami", "--profile", "bob"]);
    assert_eq!(r.code, Some(9), "{r:?}");
    assert_eq!(
        r.stderr,
        format!(
            "error: cannot reach the STS endpoint `{url}` (GetCallerIdentity): the connection to 127.0.0.1:{port} was refused (nothing is listening there)\n\
             \nhint: the address comes from `endpoint_url` at ~/.aws/config:11\n\
             \nhint: start the server it names, correct the address, or remove that line (~/.aws/config:11) to use AWS's own endpoint\n"
        )
    );
}

#[test]
fn names_that_do_not_resolve_and_a_wrong_region() {
    // `.invalid` never resolves (RFC 6761).
    let mut t = signed_in();
    t.env("AWS_ENDPOINT_URL_SSO_OIDC", "http://tobira-test.invalid:8080");
    let r = tobira(&t, &["login", "--sso-session", "corp", "--use-device-code", "--no-browser", "--force"]);
    assert_eq!(r.code, Some(9), "{r:?}");
    assert_eq!(
        r.stderr,
        "error: cannot reach the SSO OIDC endpoint `http://tobira-test.invalid:8080` (RegisterClient): the host name `tobira-test.invalid` does not resolve (DNS)\n\
         \nhint: the address comes from `AWS_ENDPOINT_URL_SSO_OIDC`\n\
         \nhint: start the server it names, correct the address, or `unset AWS_ENDPOINT_URL_SSO_OIDC` to use AWS's own endpoint\n"
    );

    // No override: the region's default endpoint, and where the region is set
    // (seed 001: a mistyped SSO region).
    let t = TestEnv::new();
    t.write_config(&CONFIG.replace("sso_region = us-east-1", "sso_region = xx-nowhere-9"));
    let r = tobira(&t, &["login", "--sso-session", "corp", "--use-device-code", "--no-browser"]);
    assert_eq!(r.code, Some(9), "{r:?}");
    assert_eq!(
        r.stderr,
        "error: cannot reach the SSO OIDC endpoint `https://oidc.xx-nowhere-9.amazonaws.com` (RegisterClient): the host name `oidc.xx-nowhere-9.amazonaws.com` does not resolve (DNS)\n\
         \nhint: `https://oidc.xx-nowhere-9.amazonaws.com` is AWS's SSO OIDC endpoint for region `xx-nowhere-9` (`sso_region` at ~/.aws/config:8)\n\
         \nhint: check the region name, and that this machine can resolve names (network, VPN, DNS)\n"
    );
}

/// Three attempts of a one-second timeout and the backoff between them
/// take well under this; the default timeout (60 s) would take minutes.
const LIMIT: std::time::Duration = std::time::Duration::from_secs(40);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_never_accepts_times_out() {
    // A listener whose accept queue is full: further connection attempts get
    // no answer at all, so the connect timeout ends each attempt.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let listener = socket.listen(0).unwrap();
    let addr = listener.local_addr().unwrap();
    let mut fillers = Vec::new();
    while let Ok(Ok(s)) =
        tokio::time::timeout(std::time::Duration::from_millis(300), tokio::net::TcpStream::connect(addr)).await
    {
        fillers.push(s);
    }
    let mut t = TestEnv::new();
    t.write_config(CONFIG).write_credentials(CREDENTIALS);
    t.env("AWS_ENDPOINT_URL_STS", &format!("http://{addr}"));
    let started = std::time::Instant::now();
    let r = tokio::task::spawn_blocking(move || {
        tobira_within(&t, &["--cli-connect-timeout", "1", "whoami", "--profile", "bob"], LIMIT)
    })
    .await
    .unwrap();
    assert_eq!(r.code, Some(9), "{r:?}");
    assert_eq!(
        r.stderr,
        format!(
            "error: cannot reach the STS endpoint `http://{addr}` (GetCallerIdentity): no connection to {addr} within 1 second (connect timeout, from `--cli-connect-timeout`; after retries)\n\
             \nhint: the address comes from `AWS_ENDPOINT_URL_STS`\n\
             \nhint: start the server it names, correct the address, or `unset AWS_ENDPOINT_URL_STS` to use AWS's own endpoint\n\
             \nhint: if it is only slow, give it longer with `--cli-connect-timeout SECONDS` (0: no limit)\n"
        )
    );
    // Three attempts of one second, and the SDK's backoff between them.
    assert!(started.elapsed() < LIMIT, "{:?}", started.elapsed());
    drop((listener, fillers));
}

/// A server on 127.0.0.1:0 that accepts every connection, reads what it is
/// sent and never answers (until the test ends): a proxy or load balancer
/// that lost its backend. Returns its URL and how many connections came.
fn never_answers() -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::io::Read;
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", l.local_addr().unwrap());
    let count = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let seen = count.clone();
    std::thread::spawn(move || {
        for s in l.incoming().flatten() {
            seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            // Read (and so keep open) until the client gives up.
            std::thread::spawn(move || {
                let mut s = s;
                let mut buf = [0u8; 4096];
                while matches!(s.read(&mut buf), Ok(n) if n > 0) {}
            });
        }
    });
    (url, count)
}

/// Every file under `dir` with its bytes, but the (empty) lock files that
/// guard cache entries.
fn files(dir: &std::path::Path) -> std::collections::BTreeMap<std::path::PathBuf, Vec<u8>> {
    let mut out = std::collections::BTreeMap::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                todo.push(p);
            } else if !p.to_string_lossy().ends_with(".lock") {
                out.insert(p.clone(), std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

#[test]
fn a_server_that_accepts_and_never_answers_times_out_and_keeps_every_file() {
    let (url, connections) = never_answers();
    let mut t = signed_in();
    // Expired role credentials: credential-process must call (a cache miss)
    // and must keep this file when the call fails.
    let expired = r#"{"Credentials": {"AccessKeyId": "ASIAOLD", "SecretAccessKey": "old", "SessionToken": "old", "Expiration": "2000-01-01T00:00:00Z", "AccountId": "111111111111"}, "ProviderType": "sso"}"#;
    let name = tobira_cache::keys::sso_role_credentials_file_name(
        "111111111111",
        "ReadOnly",
        tobira_cache::keys::SsoKey::Session("corp"),
    );
    t.write(&t.aws_dir().join("cli").join("cache").join(name), expired);
    t.env("AWS_ENDPOINT_URL", &url);
    let before = files(&t.aws_dir());
    let read = |args: &[&str]| {
        let started = std::time::Instant::now();
        let mut line = vec!["--cli-read-timeout", "1"];
        line.extend_from_slice(args);
        let r = tobira_within(&t, &line, LIMIT);
        // Three attempts of one second, and the backoff between them.
        assert!(started.elapsed() >= std::time::Duration::from_secs(1), "{args:?}: no timeout was waited for");
        assert_eq!(r.code, Some(9), "{r:?}");
        r
    };
    let waited = |what: &str, op: &str| {
        format!(
            "{what} `{url}` ({op}) did not answer: {} accepted the connection but sent no answer within 1 second (read timeout, from `--cli-read-timeout`; after retries)",
            url.trim_start_matches("http://")
        )
    };
    let hints = "\nhint: the address comes from `AWS_ENDPOINT_URL`, which applies to every AWS service\n\
                 \nhint: start the server it names, correct the address, or `unset AWS_ENDPOINT_URL` to use AWS's own endpoint\n\
                 \nhint: if it is only slow, give it longer with `--cli-read-timeout SECONDS` (0: no limit)\n";

    // STS.
    let r = read(&["whoami", "--profile", "bob"]);
    assert_eq!(r.stderr, format!("error: {}\n{hints}", waited("the STS endpoint", "GetCallerIdentity")));

    // credential-process on a cache miss (the SSO portal), on one line for the SDK.
    let r = read(&["credential-process", "--profile", "dev"]);
    assert_eq!(
        r.stderr,
        format!(
            "tobira: {} (the address comes from `AWS_ENDPOINT_URL`, which applies to every AWS service; start the server it names, correct the address, or `unset AWS_ENDPOINT_URL` to use AWS's own endpoint; if it is only slow, give it longer with `--cli-read-timeout SECONDS` (0: no limit))\n",
            waited("the SSO portal endpoint", "GetRoleCredentials")
        )
    );
    assert_eq!(r.stdout, "");

    // A listing (tobira's own retries: three attempts for a timeout, not ten).
    let r = read(&["sso", "accounts", "--sso-session", "corp"]);
    assert!(r.stderr.contains(&waited("the SSO portal endpoint", "ListAccounts")), "{}", r.stderr);

    // A new sign-in (SSO OIDC) while the cached one is still there.
    let r = read(&["login", "--sso-session", "corp", "--use-device-code", "--no-browser", "--force"]);
    assert_eq!(r.stderr, format!("error: {}\n{hints}", waited("the SSO OIDC endpoint", "RegisterClient")));

    // Nothing was lost or changed: the token, the expired credentials.
    assert_eq!(files(&t.aws_dir()), before);
    assert!(connections.load(std::sync::atomic::Ordering::SeqCst) >= 4, "the calls reached the server");
}

/// A web server on 127.0.0.1:0 that answers every request with an HTML 404.
fn not_aws() -> String {
    use std::io::{Read, Write};
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", l.local_addr().unwrap());
    std::thread::spawn(move || {
        for mut s in l.incoming().flatten() {
            let mut buf = [0u8; 8192];
            let _ = s.read(&mut buf);
            let body = "<html><body>Not Found</body></html>";
            let _ = write!(
                s,
                "HTTP/1.1 404 Not Found\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    url
}

#[test]
fn a_web_server_that_is_not_aws_is_named() {
    let url = not_aws();
    let mut t = TestEnv::new();
    t.write_config(CONFIG).write_credentials(CREDENTIALS);
    t.env("AWS_ENDPOINT_URL", &url);
    let r = tobira(&t, &["whoami", "--profile", "bob"]);
    assert_eq!(r.code, Some(9), "{r:?}");
    assert_eq!(
        r.stderr,
        format!(
            "error: the STS endpoint `{url}` (GetCallerIdentity) answered HTTP 404 (text/html), which is not an answer of the STS service\n\
             \nhint: the address comes from `AWS_ENDPOINT_URL`, which applies to every AWS service\n\
             \nhint: point it at the STS service (tobira-idc prints its address when it starts), or `unset AWS_ENDPOINT_URL` to use AWS's own endpoint\n"
        )
    );
    let r = tobira(&t, &["login", "--sso-session", "corp", "--use-device-code", "--no-browser"]);
    assert_eq!(r.code, Some(9), "{r:?}");
    assert!(
        r.stderr.starts_with(&format!(
            "error: the SSO OIDC endpoint `{url}` (RegisterClient) answered HTTP 404 (text/html), which is not an answer of the SSO OIDC service\n"
        )),
        "{}",
        r.stderr
    );
}

#[test]
fn an_endpoint_that_is_not_a_url_exits_5() {
    let mut t = TestEnv::new();
    t.write_config(CONFIG).write_credentials(CREDENTIALS);
    t.env("AWS_ENDPOINT_URL", "127.0.0.1:8080");
    let r = tobira(&t, &["whoami", "--profile", "bob"]);
    assert_eq!(r.code, Some(5), "{r:?}");
    assert_eq!(
        r.stderr,
        "error: the STS endpoint `127.0.0.1:8080` is not a valid URL\n\
         \nhint: the address comes from `AWS_ENDPOINT_URL`, which applies to every AWS service\n\
         \nhint: write a full URL with its scheme, such as `https://127.0.0.1` or `http://127.0.0.1:8080`, or `unset AWS_ENDPOINT_URL` to use AWS's own endpoint\n"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn service_errors_keep_the_services_words() {
    let s = IdcServer::start(Settings::default()).await;
    let mut t = TestEnv::new();
    t.write_config(CONFIG).write_credentials(&CREDENTIALS.replace("AKIAIOSFODNN7EXAMPLE", "AKIAUNKNOWNKEY000000"));
    t.env("AWS_ENDPOINT_URL", &s.url);
    let r = tokio::task::spawn_blocking(move || tobira(&t, &["whoami", "--profile", "bob"])).await.unwrap();
    assert_eq!(r.code, Some(8), "{r:?}");
    assert_eq!(
        r.stderr,
        "error: An error occurred (InvalidClientTokenId) when calling the GetCallerIdentity operation: The security token included in the request is invalid.\n"
    );
}
