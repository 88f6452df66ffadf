//! Proxies as corporate networks use them: a real (tiny) proxy on
//! 127.0.0.1:0, written here, in front of tobira-idc. It opens CONNECT
//! tunnels (to an HTTPS front of tobira-idc that serves a test CA's
//! certificate for `idc.tobira.test`, a name that resolves nowhere, so only
//! the tunnel can reach it) and forwards absolute-form requests (plain-HTTP
//! endpoints), and it records every request. tobira must go through it when
//! `HTTPS_PROXY` / `HTTP_PROXY` say so, bypass it when `NO_PROXY` names the
//! host, and name it (never its password) when it refuses.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] fns

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use tobira_idc::Settings;
use tobira_test_support::{IdcServer, Run, TestEnv, run};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const TOBIRA: &str = env!("CARGO_BIN_EXE_tobira");

/// The proxy's password: it must never be printed.
const PASSWORD: &str = "s3cret-pw";

const CONFIG: &str = "\
[profile dev]
sso_session = corp
sso_account_id = 222222222222
sso_role_name = ReadOnly
region = us-west-2
[sso-session corp]
sso_start_url = https://d-1234567890.awsapps.com/start
sso_region = us-east-1
sso_registration_scopes = sso:account:access
";

fn tls_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests").join("data").join("tls")
}

fn no_secrets_nor_dumps(r: &Run) {
    for text in [&r.stdout, &r.stderr] {
        assert!(!text.contains(PASSWORD), "the proxy's password was printed: {r:?}");
        for dump in ["DispatchFailure", "ConnectorError", "TunnelError", "{ ", "hyper"] {
            assert!(!text.contains(dump), "debug text `{dump}` in the output: {r:?}");
        }
    }
}

fn tobira(t: &TestEnv, args: &[&str]) -> Run {
    let mut cmd = t.command(TOBIRA);
    cmd.args(args);
    let r = run(cmd);
    no_secrets_nor_dumps(&r);
    r
}

/// What the proxy does with requests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    /// Tunnels CONNECT to the HTTPS front, forwards absolute-form requests.
    Forward,
    /// 403 to everything.
    Refuse,
    /// 407 unless the request carries the right `Proxy-Authorization`.
    NeedsAuth,
}

/// One request the proxy saw: its request line and `Proxy-Authorization`.
#[derive(Clone, Debug)]
struct Seen {
    line: String,
    auth: Option<String>,
}

#[derive(Clone)]
struct Proxy {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Proxy {
    /// `http://alice:PASSWORD@127.0.0.1:PORT`.
    fn url(&self) -> String {
        format!("http://alice:{PASSWORD}@{}", self.addr)
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

fn expected_auth() -> String {
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("alice:{PASSWORD}")))
}

/// Reads up to the end of the request head; returns the head and any bytes after it.
async fn read_head(s: &mut TcpStream) -> Option<(String, Vec<u8>)> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = s.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let rest = buf.split_off(end + 4);
            return Some((String::from_utf8_lossy(&buf).into_owned(), rest));
        }
    }
}

async fn serve_proxy(mode: Mode, tls_front: SocketAddr) -> Proxy {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let proxy = Proxy { addr: listener.local_addr().unwrap(), seen: Arc::default() };
    let seen = proxy.seen.clone();
    tokio::spawn(async move {
        loop {
            let Ok((client, _)) = listener.accept().await else { return };
            let seen = seen.clone();
            tokio::spawn(async move { handle(client, mode, tls_front, seen).await });
        }
    });
    proxy
}

async fn handle(mut client: TcpStream, mode: Mode, tls_front: SocketAddr, seen: Arc<Mutex<Vec<Seen>>>) {
    let Some((head, rest)) = read_head(&mut client).await else { return };
    let mut lines = head.split("\r\n");
    let line = lines.next().unwrap_or_default().to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':').map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string())))
        .collect();
    let auth = headers.iter().find(|(k, _)| k == "proxy-authorization").map(|(_, v)| v.clone());
    seen.lock().unwrap().push(Seen { line: line.clone(), auth: auth.clone() });
    let mut parts = line.split(' ');
    let (method, target) = (parts.next().unwrap_or_default(), parts.next().unwrap_or_default());
    match mode {
        Mode::Refuse => {
            let _ = client
                .write_all(b"HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nContent-Length: 17\r\nConnection: close\r\n\r\nblocked by policy")
                .await;
            return;
        }
        Mode::NeedsAuth if auth.as_deref() != Some(expected_auth().as_str()) => {
            let _ = client
                .write_all(b"HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"corp\"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                .await;
            return;
        }
        _ => {}
    }
    if method == "CONNECT" {
        // Whatever the host, the tunnel leads to the HTTPS front.
        let Ok(mut upstream) = TcpStream::connect(tls_front).await else { return };
        if client.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n").await.is_err() {
            return;
        }
        let _ = upstream.write_all(&rest).await;
        let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
        return;
    }
    // Absolute form: `GET http://host:port/path HTTP/1.1`. One request per
    // connection (`Connection: close`), so every request is seen here.
    let Some(after) = target.strip_prefix("http://") else { return };
    let (authority, path) = after.split_at(after.find('/').unwrap_or(after.len()));
    let path = if path.is_empty() { "/" } else { path };
    let Ok(mut upstream) = TcpStream::connect(authority).await else { return };
    let mut out = format!("{method} {path} HTTP/1.1\r\n");
    for (k, v) in &headers {
        if !["proxy-authorization", "proxy-connection", "connection"].contains(&k.as_str()) {
            out.push_str(&format!("{k}: {v}\r\n"));
        }
    }
    out.push_str("connection: close\r\n\r\n");
    if upstream.write_all(out.as_bytes()).await.is_err() || upstream.write_all(&rest).await.is_err() {
        return;
    }
    let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
}

/// HTTPS on 127.0.0.1:0 with the test certificate of `idc.tobira.test`,
/// passing the decrypted bytes to tobira-idc.
async fn serve_tls_front(idc: SocketAddr) -> SocketAddr {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let certs =
        CertificateDer::pem_file_iter(tls_dir().join("idc.pem")).unwrap().collect::<Result<Vec<_>, _>>().unwrap();
    let key = PrivateKeyDer::from_pem_file(tls_dir().join("idc.key")).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else { return };
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else { return };
                let Ok(mut upstream) = TcpStream::connect(idc).await else { return };
                let _ = tokio::io::copy_bidirectional(&mut tls, &mut upstream).await;
            });
        }
    });
    addr
}

/// tobira-idc (auto-approving alice's sign-ins), its HTTPS front, and a proxy.
async fn setup(mode: Mode) -> (IdcServer, Proxy) {
    let s = IdcServer::start(Settings { auto_approve: Some("alice".into()), ..Settings::default() }).await;
    let idc: SocketAddr = s.url.trim_start_matches("http://").parse().unwrap();
    let front = serve_tls_front(idc).await;
    let proxy = serve_proxy(mode, front).await;
    (s, proxy)
}

/// A hermetic HOME whose AWS calls all go to `endpoint`.
fn env_for(endpoint: &str) -> TestEnv {
    let mut t = TestEnv::new();
    t.write_config(CONFIG);
    t.env("AWS_ENDPOINT_URL", endpoint);
    t.env("SSL_CERT_FILE", &tls_dir().join("ca.pem").display().to_string());
    t
}

async fn tobira_async(t: &TestEnv, args: &[&str]) -> Run {
    let mut cmd = t.command(TOBIRA);
    cmd.args(args);
    let r = tokio::task::spawn_blocking(move || run(cmd)).await.unwrap();
    no_secrets_nor_dumps(&r);
    r
}

fn lines_since(p: &Proxy, from: usize) -> Vec<String> {
    p.seen()[from..].iter().map(|s| s.line.clone()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn https_endpoints_go_through_a_connect_tunnel() {
    let (_s, proxy) = setup(Mode::NeedsAuth).await;
    let mut t = env_for("https://idc.tobira.test");
    t.env("HTTPS_PROXY", &proxy.url());

    let r = tobira_async(&t, &["login", "--sso-session", "corp", "--use-device-code", "--no-browser"]).await;
    assert_eq!(r.code, Some(0), "{r:?}");
    let seen = proxy.seen();
    assert!(!seen.is_empty(), "the sign-in did not go through the proxy");
    for s in &seen {
        assert_eq!(s.line, "CONNECT idc.tobira.test:443 HTTP/1.1", "{seen:?}");
        assert_eq!(s.auth.as_deref(), Some(expected_auth().as_str()), "the password, percent-decoded, as Basic");
    }

    let before = proxy.seen().len();
    let r = tobira_async(&t, &["sso", "accounts", "--sso-session", "corp", "--json"]).await;
    assert_eq!(r.code, Some(0), "{r:?}");
    assert!(r.stdout.contains("222222222222"), "{}", r.stdout);
    assert!(lines_since(&proxy, before).iter().any(|l| l.starts_with("CONNECT idc.tobira.test:443")));

    // credential-process on a cache miss: GetRoleCredentials through the tunnel.
    let before = proxy.seen().len();
    let r = tobira_async(&t, &["credential-process", "--profile", "dev"]).await;
    assert_eq!(r.code, Some(0), "{r:?}");
    assert!(r.stdout.contains("\"AccessKeyId\""), "{}", r.stdout);
    assert!(!lines_since(&proxy, before).is_empty(), "credential-process did not use the proxy");

    // --debug names the proxy, without its password (checked in tobira_async).
    let r = tobira_async(&t, &["--debug", "whoami", "--profile", "dev"]).await;
    assert_eq!(r.code, Some(0), "{r:?}");
    assert!(r.stderr.contains("alice:****@127.0.0.1"), "{}", r.stderr);

    // NO_PROXY names the host (a suffix): tobira goes directly, and the
    // name resolves nowhere, so the error is DNS's, not the proxy's.
    let before = proxy.seen().len();
    t.env("NO_PROXY", "localhost,.tobira.test");
    let r = tobira_async(&t, &["sso", "accounts", "--sso-session", "corp"]).await;
    assert_eq!(r.code, Some(9), "{r:?}");
    assert!(
        r.stderr.starts_with(
            "error: cannot reach the SSO portal endpoint `https://idc.tobira.test` (ListAccounts): the host name `idc.tobira.test` does not resolve (DNS)\n"
        ),
        "{}",
        r.stderr
    );
    assert_eq!(proxy.seen().len(), before, "NO_PROXY matched, yet the proxy was used");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn http_endpoints_go_through_the_proxy_in_absolute_form() {
    let (s, proxy) = setup(Mode::Forward).await;
    let mut t = env_for(&s.url);
    // Lower case, without credentials: botocore reads both cases.
    t.env("http_proxy", &format!("http://{}", proxy.addr));
    t.env("HTTPS_PROXY", "http://127.0.0.1:9");

    let r = tobira_async(&t, &["login", "--sso-session", "corp", "--use-device-code", "--no-browser"]).await;
    assert_eq!(r.code, Some(0), "{r:?}");
    let lines = lines_since(&proxy, 0);
    // RegisterClient, StartDeviceAuthorization and CreateToken: POSTs in absolute form.
    assert!(lines.len() >= 3, "{lines:?}");
    assert!(lines.iter().all(|l| l.starts_with(&format!("POST {}/", s.url))), "{lines:?}");
    assert!(proxy.seen().iter().all(|x| x.auth.is_none()), "no credentials in the URL, none sent");

    let before = proxy.seen().len();
    let r = tobira_async(&t, &["sso", "accounts", "--sso-session", "corp"]).await;
    assert_eq!(r.code, Some(0), "{r:?}");
    assert!(lines_since(&proxy, before).iter().any(|l| l.starts_with(&format!("GET {}/assignment/accounts", s.url))));

    let before = proxy.seen().len();
    let r = tobira_async(&t, &["credential-process", "--profile", "dev"]).await;
    assert_eq!(r.code, Some(0), "{r:?}");
    assert!(
        lines_since(&proxy, before).iter().any(|l| l.starts_with(&format!("GET {}/federation/credentials", s.url)))
    );

    // NO_PROXY names 127.0.0.1: the same calls go directly and work.
    std::fs::remove_dir_all(t.home().join(".aws/cli")).unwrap();
    let before = proxy.seen().len();
    t.env("no_proxy", "127.0.0.1");
    let r = tobira_async(&t, &["credential-process", "--profile", "dev"]).await;
    assert_eq!(r.code, Some(0), "{r:?}");
    let r = tobira_async(&t, &["sso", "accounts", "--sso-session", "corp"]).await;
    assert_eq!(r.code, Some(0), "{r:?}");
    assert_eq!(lines_since(&proxy, before), Vec::<String>::new(), "NO_PROXY matched, yet the proxy was used");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_proxy_that_refuses_is_named_without_its_password() {
    let (s, proxy) = setup(Mode::Refuse).await;
    let port = proxy.addr.port();

    // CONNECT answered 403.
    let mut t = env_for("https://idc.tobira.test");
    t.env("HTTPS_PROXY", &proxy.url());
    let r = tobira_async(&t, &["login", "--sso-session", "corp", "--use-device-code", "--no-browser"]).await;
    assert_eq!(r.code, Some(9), "{r:?}");
    assert_eq!(
        r.stderr,
        format!(
            "error: the proxy `http://alice:****@127.0.0.1:{port}` (from `HTTPS_PROXY`) refused to open a tunnel to idc.tobira.test:443 for the SSO OIDC endpoint `https://idc.tobira.test` (RegisterClient): it answered CONNECT with an error instead of 200\n\
             \nhint: the address comes from `AWS_ENDPOINT_URL`, which applies to every AWS service\n\
             \nhint: the proxy does not let this address through: ask its administrators, or add `idc.tobira.test` to `NO_PROXY` (comma-separated) to reach it without the proxy\n"
        )
    );
    assert!(proxy.seen().iter().any(|x| x.line == "CONNECT idc.tobira.test:443 HTTP/1.1"));

    // The same for SDKs, on one line.
    let r = tobira_async(&t, &["credential-process", "--profile", "dev"]).await;
    assert_eq!(r.code, Some(7), "no sign-in yet: {r:?}");

    // A forward proxy's own 403 to a plain-HTTP endpoint.
    let mut t = env_for(&s.url);
    t.env("HTTP_PROXY", &proxy.url());
    let r = tobira_async(&t, &["login", "--sso-session", "corp", "--use-device-code", "--no-browser"]).await;
    assert_eq!(r.code, Some(9), "{r:?}");
    assert_eq!(
        r.stderr,
        format!(
            "error: the SSO OIDC endpoint `{url}` (RegisterClient) answered HTTP 403 (text/plain) through the proxy `http://alice:****@127.0.0.1:{port}` (from `HTTP_PROXY`), which is not an answer of the SSO OIDC service\n\
             \nhint: the address comes from `AWS_ENDPOINT_URL`, which applies to every AWS service\n\
             \nhint: the proxy may have answered in the service's place (a blocked address, a sign-in page): check it, or add `127.0.0.1` to `NO_PROXY` (comma-separated) to reach it without the proxy\n",
            url = s.url
        )
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_proxy_that_wants_credentials_says_so() {
    let (_s, proxy) = setup(Mode::NeedsAuth).await;
    let port = proxy.addr.port();
    let mut t = env_for("https://idc.tobira.test");
    t.env("HTTPS_PROXY", &format!("127.0.0.1:{port}"));
    let r = tobira_async(&t, &["login", "--sso-session", "corp", "--use-device-code", "--no-browser"]).await;
    assert_eq!(r.code, Some(9), "{r:?}");
    assert_eq!(
        r.stderr,
        format!(
            "error: the proxy `http://127.0.0.1:{port}` (from `HTTPS_PROXY`) refused to open a tunnel to idc.tobira.test:443 for the SSO OIDC endpoint `https://idc.tobira.test` (RegisterClient): it asks for a user name and password (407 Proxy Authentication Required)\n\
             \nhint: the address comes from `AWS_ENDPOINT_URL`, which applies to every AWS service\n\
             \nhint: put them in the proxy's URL: `export HTTPS_PROXY=http://USER:PASSWORD@127.0.0.1:{port}` (percent-encode `@`, `:` and `%` in them)\n"
        )
    );
    // Wrong ones.
    t.env("HTTPS_PROXY", &format!("http://alice:wrong@127.0.0.1:{port}"));
    let r = tobira_async(&t, &["login", "--sso-session", "corp", "--use-device-code", "--no-browser"]).await;
    assert_eq!(r.code, Some(9), "{r:?}");
    assert!(r.stderr.contains("the proxy refused the user name and password in `HTTPS_PROXY`"), "{}", r.stderr);
    assert!(!r.stderr.contains("wrong"), "{}", r.stderr);
}

#[test]
fn a_proxy_setting_tobira_cannot_use_exits_5() {
    let mut t = env_for("https://idc.tobira.test");
    t.env("HTTPS_PROXY", &format!("https://alice:{PASSWORD}@proxy.example:443"));
    let r = tobira(&t, &["login", "--sso-session", "corp", "--use-device-code", "--no-browser"]);
    assert_eq!(r.code, Some(5), "{r:?}");
    assert_eq!(
        r.stderr,
        "error: `HTTPS_PROXY` (https://alice:****@proxy.example:443) cannot be used as a proxy: tobira reaches proxies over plain HTTP only (`http://HOST:PORT`, which still carries HTTPS calls in a CONNECT tunnel); a proxy spoken to over TLS (`https://…`) is not supported\n\
         \nhint: it applies to the SSO OIDC endpoint `https://idc.tobira.test` (RegisterClient), which was not called\n\
         \nhint: write it as `http://[USER:PASSWORD@]HOST:PORT`, or `unset HTTPS_PROXY`\n"
    );
}
