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

/// SSO role credentials of a permission set, with the bearer token.
pub async fn role_credentials(
    url: &str,
    token: &str,
    account: &str,
    role: &str,
) -> aws_sdk_sso::types::RoleCredentials {
    let out = portal(url)
        .get_role_credentials()
        .access_token(token)
        .account_id(account)
        .role_name(role)
        .send()
        .await
        .expect("GetRoleCredentials");
    out.role_credentials().expect("roleCredentials").clone()
}

/// An STS client signing with SSO role credentials.
pub fn sts_with(url: &str, rc: &aws_sdk_sso::types::RoleCredentials) -> aws_sdk_sts::Client {
    sts(url, rc.access_key_id().unwrap(), rc.secret_access_key().unwrap(), rc.session_token())
}

/// A device login approved as `user`: returns the access token.
pub async fn device_login(server: &Server, user: &str) -> String {
    device_login_tokens(server, user).await.2
}

/// alice's password and TOTP secret in the demo directory.
pub const ALICE_PASSWORD: &str = "correct horse battery staple";
pub const ALICE_MFA_SECRET: &str = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";

/// A cookie-keeping client of the pages.
pub struct Browser {
    pub url: String,
    pub cookies: std::collections::BTreeMap<String, String>,
}

impl Browser {
    pub fn new(url: &str) -> Browser {
        Browser { url: url.to_string(), cookies: std::collections::BTreeMap::new() }
    }

    fn absorb(&mut self, head: &str) {
        for line in head.lines() {
            let Some((k, v)) = line.split_once(':') else { continue };
            if !k.eq_ignore_ascii_case("set-cookie") {
                continue;
            }
            let pair = v.trim().split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            if value.is_empty() || v.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_string(), value.to_string());
            }
        }
    }

    pub fn cookie_header(&self) -> Vec<(String, String)> {
        if self.cookies.is_empty() {
            return vec![];
        }
        let c: Vec<String> = self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect();
        vec![("Cookie".to_string(), c.join("; "))]
    }

    pub async fn get(&mut self, path: &str) -> (u16, String, String) {
        let (status, head, body) = http(&self.url, "GET", path, &self.cookie_header(), "").await;
        self.absorb(&head);
        (status, head, body)
    }

    pub async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> (u16, String, String) {
        let body = serde_urlencoded::to_string(fields).unwrap();
        let mut headers = self.cookie_header();
        headers.push(("Content-Type".into(), "application/x-www-form-urlencoded".into()));
        let (status, head, body) = http(&self.url, "POST", path, &headers, &body).await;
        self.absorb(&head);
        (status, head, body)
    }
}

/// The value of the form field `name` in a page (HTML entities decoded).
pub fn field(body: &str, name: &str) -> String {
    try_field(body, name).unwrap_or_else(|| panic!("no field {name} in {body}"))
}

/// Like [`field`], `None` when the page has no such field. The `value`
/// attribute may come before or after `name` in the tag.
pub fn try_field(body: &str, name: &str) -> Option<String> {
    let at = body.find(&format!("name=\"{name}\""))?;
    let start = body[..at].rfind('<')?;
    let end = at + body[at..].find('>')?;
    let tag = &body[start..end];
    let marker = "value=\"";
    let from = tag.find(marker)? + marker.len();
    let to = from + tag[from..].find('"')?;
    Some(
        tag[from..to]
            .replace("&amp;", "&")
            .replace("&quot;", "\"")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&#39;", "'"),
    )
}

/// The `Location` header of a response head.
pub fn location(head: &str) -> String {
    try_location(head).unwrap()
}

/// The `Location` header of a response head, if any.
pub fn try_location(head: &str) -> Option<String> {
    head.lines().find_map(|l| {
        l.split_once(':').filter(|(k, _)| k.eq_ignore_ascii_case("location")).map(|(_, v)| v.trim().to_string())
    })
}

/// A valid TOTP code for alice's device at the server's clock, `offset` steps from now.
pub fn alice_code(s: &Server, offset: i64) -> String {
    let secret = tobira_idc::totp::decode_secret(ALICE_MFA_SECRET).unwrap();
    tobira_idc::totp::code_at_step(&secret, s.idc.clock().now_s().div_euclid(30) + offset, 6)
}

/// Signs in as alice from the page at `path` (which shows the sign-in form).
pub async fn sign_in(b: &mut Browser, s: &Server, path: &str) -> (u16, String, String) {
    let (status, _, page) = b.get(path).await;
    assert_eq!(status, 200, "{page}");
    let (csrf, next) = (field(&page, "csrf"), field(&page, "next"));
    let code = alice_code(s, 0);
    b.post(
        "/signin",
        &[("csrf", &csrf), ("next", &next), ("username", "alice"), ("password", ALICE_PASSWORD), ("mfa_code", &code)],
    )
    .await
}

/// Signs a browser in with a user name and password (no MFA code) through
/// the sign-in page; returns the status of the POST.
pub async fn sign_in_as(b: &mut Browser, user: &str, password: &str) -> u16 {
    let (_, _, page) = b.get("/signin?next=/device").await;
    let csrf = field(&page, "csrf");
    let (status, _, _) =
        b.post("/signin", &[("csrf", &csrf), ("next", "/device"), ("username", user), ("password", password)]).await;
    status
}

/// The signed-in browser's CSRF token, read from the device page.
pub async fn device_csrf(b: &mut Browser) -> String {
    let (_, _, page) = b.get("/device").await;
    field(&page, "csrf")
}

/// A device login approved as `user` with a registration that has scopes:
/// (client id, client secret, access token, refresh token).
pub async fn device_login_tokens(server: &Server, user: &str) -> (String, String, String, String) {
    let oidc = oidc(&server.url);
    let reg = oidc
        .register_client()
        .client_name("test")
        .client_type("public")
        .scopes("sso:account:access")
        .send()
        .await
        .expect("register");
    let (id, secret) = (reg.client_id().unwrap().to_string(), reg.client_secret().unwrap().to_string());
    let auth = oidc
        .start_device_authorization()
        .client_id(&id)
        .client_secret(&secret)
        .start_url(START_URL)
        .send()
        .await
        .unwrap();
    server.idc.approve_device(auth.user_code().unwrap(), user).expect("approve");
    let tok = oidc
        .create_token()
        .client_id(&id)
        .client_secret(&secret)
        .grant_type("urn:ietf:params:oauth:grant-type:device_code")
        .device_code(auth.device_code().unwrap())
        .send()
        .await
        .expect("create token");
    let access = tok.access_token().unwrap().to_string();
    let refresh = tok.refresh_token().expect("a registration with scopes gets a refresh token").to_string();
    (id, secret, access, refresh)
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// HMAC-SHA256.
pub fn hmac_sha256(key: &[u8], data: &[u8]) -> Vec<u8> {
    use hmac::{KeyInit, Mac};
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(key).unwrap();
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

/// A hand-made SigV4 signature of `POST /` to STS, every part of which a
/// test may bend: which headers are signed, the scope date, the
/// `x-amz-content-sha256` header.
#[derive(Clone)]
pub struct SigV4<'a> {
    pub key: &'a str,
    pub secret: &'a str,
    /// `YYYYMMDDTHHMMSSZ`.
    pub amz_date: String,
    /// `YYYYMMDD` of the credential scope.
    pub scope_date: String,
    /// Lower-case header names, sorted, from: content-type, host,
    /// x-amz-content-sha256, x-amz-date, x-amz-security-token.
    pub signed: Vec<&'a str>,
    /// Sent as `x-amz-content-sha256` and used as the payload hash.
    pub content_sha256: Option<String>,
    pub session_token: Option<&'a str>,
}

pub const FORM: &str = "application/x-www-form-urlencoded; charset=utf-8";

impl<'a> SigV4<'a> {
    /// bob's keys, signed now by the server's clock, the usual headers.
    pub fn bob(idc: &Idc) -> SigV4<'a> {
        let now = jiff::Timestamp::from_second(idc.clock().now_s()).unwrap();
        SigV4 {
            key: BOB_KEY,
            secret: BOB_SECRET,
            amz_date: now.strftime("%Y%m%dT%H%M%SZ").to_string(),
            scope_date: now.strftime("%Y%m%d").to_string(),
            signed: vec!["content-type", "host", "x-amz-date"],
            content_sha256: None,
            session_token: None,
        }
    }

    /// The signature over `body` (the payload hash is `content_sha256` if
    /// set, else the body's hash), and the headers to send.
    pub fn sign(&self, url: &str, body: &str) -> (String, Vec<(String, String)>) {
        use sha2::Digest as _;
        let host = url.trim_start_matches("http://").to_string();
        let mut all: Vec<(String, String)> = vec![
            ("content-type".into(), FORM.into()),
            ("host".into(), host),
            ("x-amz-date".into(), self.amz_date.clone()),
        ];
        if let Some(h) = &self.content_sha256 {
            all.push(("x-amz-content-sha256".into(), h.clone()));
        }
        if let Some(t) = self.session_token {
            all.push(("x-amz-security-token".into(), t.into()));
        }
        let value = |name: &str| all.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap_or_default();
        let canonical_headers: String = self.signed.iter().map(|n| format!("{n}:{}\n", value(n))).collect();
        let signed = self.signed.join(";");
        let payload = self.content_sha256.clone().unwrap_or_else(|| hex(&sha2::Sha256::digest(body.as_bytes())));
        let canonical = format!("POST\n/\n\n{canonical_headers}\n{signed}\n{payload}");
        let scope = format!("{}/us-east-1/sts/aws4_request", self.scope_date);
        let to_sign = format!(
            "AWS4-HMAC-SHA256\n{}\n{scope}\n{}",
            self.amz_date,
            hex(&sha2::Sha256::digest(canonical.as_bytes()))
        );
        let mut k = hmac_sha256(format!("AWS4{}", self.secret).as_bytes(), self.scope_date.as_bytes());
        for part in ["us-east-1", "sts", "aws4_request"] {
            k = hmac_sha256(&k, part.as_bytes());
        }
        let signature = hex(&hmac_sha256(&k, to_sign.as_bytes()));
        all.push((
            "authorization".into(),
            format!("AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={signed}, Signature={signature}", self.key),
        ));
        (signature, all)
    }
}

/// A raw STS call: `POST /` with `headers` and `body`: status and XML body.
pub async fn sts_raw(url: &str, headers: &[(String, String)], body: &str) -> (u16, String) {
    let (status, _, xml) = http(url, "POST", "/", headers, body).await;
    (status, xml)
}

/// The text of an XML element (`<Code>`, `<Message>`, ...), if present.
pub fn xml_text(xml: &str, tag: &str) -> Option<String> {
    let open = format!("<{tag}>");
    let start = xml.find(&open)? + open.len();
    let end = start + xml[start..].find(&format!("</{tag}>"))?;
    Some(xml[start..end].to_string())
}

/// An awsJson1_1 call (SSO Admin, Identity Store) signed with bob's keys for
/// the signing name `scope` (`sso`, `identitystore`): status, the
/// `x-amzn-ErrorType` header if any, and the JSON body.
pub async fn aws_json(
    s: &Server,
    scope: &str,
    target: &str,
    body: &serde_json::Value,
) -> (u16, Option<String>, serde_json::Value) {
    aws_json_at(&s.idc, &s.url, scope, target, body).await
}

/// [`aws_json`] given the server's handle and URL (for spawned tasks).
pub async fn aws_json_at(
    idc: &Idc,
    url: &str,
    scope: &str,
    target: &str,
    body: &serde_json::Value,
) -> (u16, Option<String>, serde_json::Value) {
    use sha2::Digest as _;
    let body = body.to_string();
    let now = jiff::Timestamp::from_second(idc.clock().now_s()).unwrap();
    let (amz_date, day) = (now.strftime("%Y%m%dT%H%M%SZ").to_string(), now.strftime("%Y%m%d").to_string());
    let host = url.trim_start_matches("http://").to_string();
    let headers = [
        ("content-type", "application/x-amz-json-1.1".to_string()),
        ("host", host),
        ("x-amz-date", amz_date.clone()),
        ("x-amz-target", target.to_string()),
    ];
    let canonical_headers: String = headers.iter().map(|(k, v)| format!("{k}:{v}\n")).collect();
    let signed = "content-type;host;x-amz-date;x-amz-target";
    let payload = hex(&sha2::Sha256::digest(body.as_bytes()));
    let canonical = format!("POST\n/\n\n{canonical_headers}\n{signed}\n{payload}");
    let scope_text = format!("{day}/us-east-1/{scope}/aws4_request");
    let to_sign =
        format!("AWS4-HMAC-SHA256\n{amz_date}\n{scope_text}\n{}", hex(&sha2::Sha256::digest(canonical.as_bytes())));
    let mut k = hmac_sha256(format!("AWS4{BOB_SECRET}").as_bytes(), day.as_bytes());
    for part in ["us-east-1", scope, "aws4_request"] {
        k = hmac_sha256(&k, part.as_bytes());
    }
    let signature = hex(&hmac_sha256(&k, to_sign.as_bytes()));
    let mut all: Vec<(String, String)> = headers.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
    all.push((
        "authorization".into(),
        format!("AWS4-HMAC-SHA256 Credential={BOB_KEY}/{scope_text}, SignedHeaders={signed}, Signature={signature}"),
    ));
    let (status, head, text) = http(url, "POST", "/", &all, &body).await;
    let error_type = head
        .lines()
        .find_map(|l| l.split_once(':').filter(|(k, _)| k.eq_ignore_ascii_case("x-amzn-errortype")))
        .map(|(_, v)| v.trim().to_string());
    (status, error_type, serde_json::from_str(&text).unwrap_or(serde_json::Value::Null))
}
