//! A tobira-idc on 127.0.0.1:0 per test, and official AWS SDK for Rust
//! clients pointed at it. The server stops when the `Server` is dropped.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_smithy_http_client::{Builder, tls};
use tobira_idc::{Idc, Settings};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

pub struct Server {
    pub idc: Idc,
    pub url: String,
    _stop: tokio::sync::oneshot::Sender<()>,
}

pub async fn start(settings: Settings) -> Server {
    let idc = Idc::new(settings).expect("start tobira-idc");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind loopback");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(idc.clone().serve(listener, async move {
        let _ = stopped.await;
    }));
    Server { idc, url, _stop: stop }
}

pub async fn demo() -> Server {
    start(Settings::default()).await
}

fn config(url: &str, creds: Option<Credentials>, attempts: u32) -> SdkConfig {
    let http = Builder::new().tls_provider(tls::Provider::Rustls(tls::rustls_provider::CryptoMode::Ring)).build_https();
    let mut b = SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(url)
        .retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(attempts))
        .http_client(http);
    if let Some(c) = creds {
        b = b.credentials_provider(SharedCredentialsProvider::new(c));
    }
    b.build()
}

pub fn oidc(url: &str) -> aws_sdk_ssooidc::Client {
    aws_sdk_ssooidc::Client::new(&config(url, None, 1))
}

pub fn portal(url: &str) -> aws_sdk_sso::Client {
    aws_sdk_sso::Client::new(&config(url, None, 1))
}

pub fn portal_with_retries(url: &str, attempts: u32) -> aws_sdk_sso::Client {
    aws_sdk_sso::Client::new(&config(url, None, attempts))
}

pub fn sts(url: &str, key: &str, secret: &str, token: Option<&str>) -> aws_sdk_sts::Client {
    let creds = Credentials::new(key, secret, token.map(str::to_string), None, "test");
    aws_sdk_sts::Client::new(&config(url, Some(creds), 1))
}

/// bob's long-term keys in the demo directory.
pub const BOB_KEY: &str = "AKIAIOSFODNN7EXAMPLE";
pub const BOB_SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
pub const BOB_MFA: &str = "arn:aws:iam::123456789012:mfa/bob-phone";
pub const BOB_MFA_SECRET: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
pub const START_URL: &str = "https://d-1234567890.awsapps.com/start";

/// A valid TOTP code for bob's device at the server's clock, `offset` steps
/// from now (-1, 0 or 1: three distinct codes are accepted at any moment).
pub fn bob_code(idc: &Idc, offset: i64) -> String {
    let secret = tobira_idc::totp::decode_secret(BOB_MFA_SECRET).expect("base32");
    let step = idc.clock().now_s().div_euclid(30) + offset;
    tobira_idc::totp::code_at_step(&secret, step, 6)
}

/// A raw HTTP/1.1 request (browser pages, admin API, hand-made STS calls):
/// status, response head, body.
pub async fn http(
    url: &str,
    method: &str,
    path: &str,
    headers: &[(String, String)],
    body: &str,
) -> (u16, String, String) {
    let authority = url.trim_start_matches("http://");
    let mut s = tokio::net::TcpStream::connect(authority).await.expect("connect");
    let mut req = format!("{method} {path} HTTP/1.1\r\nConnection: close\r\nContent-Length: {}\r\n", body.len());
    if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
        req.push_str(&format!("Host: {authority}\r\n"));
    }
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(body);
    s.write_all(req.as_bytes()).await.expect("write");
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).await.expect("read");
    let text = String::from_utf8_lossy(&buf).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    (status, head.to_string(), body.to_string())
}

/// A GET as a browser sends it: status, `Location` header, body.
pub async fn get(url: &str, path_and_query: &str) -> (u16, Option<String>, String) {
    let (status, head, body) = http(url, "GET", path_and_query, &[], "").await;
    let location = head.lines().find_map(|l| {
        l.split_once(':').filter(|(k, _)| k.eq_ignore_ascii_case("location")).map(|(_, v)| v.trim().to_string())
    });
    (status, location, body)
}

/// A device login approved as `user`: returns the access token.
pub async fn device_login(server: &Server, user: &str) -> String {
    let oidc = oidc(&server.url);
    let reg = oidc
        .register_client()
        .client_name("test")
        .client_type("public")
        .scopes("sso:account:access")
        .send()
        .await
        .expect("register");
    let auth = oidc
        .start_device_authorization()
        .client_id(reg.client_id().unwrap())
        .client_secret(reg.client_secret().unwrap())
        .start_url(START_URL)
        .send()
        .await
        .expect("start device authorization");
    server.idc.approve_device(auth.user_code().unwrap(), user).expect("approve");
    let tok = oidc
        .create_token()
        .client_id(reg.client_id().unwrap())
        .client_secret(reg.client_secret().unwrap())
        .grant_type("urn:ietf:params:oauth:grant-type:device_code")
        .device_code(auth.device_code().unwrap())
        .send()
        .await
        .expect("create token");
    tok.access_token().unwrap().to_string()
}
