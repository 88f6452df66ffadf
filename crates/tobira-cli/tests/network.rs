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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_never_accepts_times_out() {
    // A listener whose accept queue is full: further connection attempts get
    // no answer at all, so the SDK's connect timeout ends each attempt.
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
    let r = tokio::task::spawn_blocking(move || tobira(&t, &["whoami", "--profile", "bob"])).await.unwrap();
    assert_eq!(r.code, Some(9), "{r:?}");
    assert_eq!(
        r.stderr,
        format!(
            "error: cannot reach the STS endpoint `http://{addr}` (GetCallerIdentity): {addr} did not answer in time (timed out, after retries)\n\
             \nhint: the address comes from `AWS_ENDPOINT_URL_STS`\n\
             \nhint: start the server it names, correct the address, or `unset AWS_ENDPOINT_URL_STS` to use AWS's own endpoint\n"
        )
    );
    drop((listener, fillers));
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
