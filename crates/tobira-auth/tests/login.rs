//! tobira-auth against a real tobira-idc on 127.0.0.1:0.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] fns

use std::time::Duration;

use tobira_auth::{Flow, LoginOptions, LoginUi, SsoTarget, login, valid_token};
use tobira_cache::SsoCache;
use tobira_idc::{Idc, Settings};
use tobira_test_support::IdcServer;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn start(settings: Settings) -> IdcServer {
    IdcServer::start(settings).await
}

fn target(url: &str, session: Option<&str>) -> SsoTarget {
    SsoTarget {
        session: session.map(str::to_string),
        start_url: "https://d-1234567890.awsapps.com/start".into(),
        region: "us-east-1".into(),
        scopes: session.map(|_| vec!["sso:account:access".to_string()]),
        oidc_endpoint: Some(url.into()),
        portal_endpoint: Some(url.into()),
        net: tobira_auth::Net::direct(),
    }
}

/// GET a URL, following redirects, like a browser (plain http only).
async fn browse(mut url: String) -> (u16, String) {
    for _ in 0..5 {
        let rest = url.strip_prefix("http://").unwrap().to_string();
        let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
        let mut s = tokio::net::TcpStream::connect(authority).await.unwrap();
        let path = if path.is_empty() { "/" } else { path };
        s.write_all(format!("GET {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n").as_bytes())
            .await
            .unwrap();
        let mut buf = Vec::new();
        s.read_to_end(&mut buf).await.unwrap();
        let text = String::from_utf8_lossy(&buf).into_owned();
        let status: u16 = text.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
        let location = text.lines().find_map(|l| l.strip_prefix("location: ").or_else(|| l.strip_prefix("Location: ")));
        match (status, location) {
            (302 | 303, Some(l)) => url = l.trim().to_string(),
            _ => return (status, text),
        }
    }
    panic!("too many redirects");
}

/// Records prompts; the "browser" is a task that fetches the URL, optionally
/// tampering with the callback's state.
#[derive(Default)]
struct Ui {
    device: Vec<(String, String)>,
    pkce: Vec<String>,
    approve_as: Option<(Idc, String)>,
    tamper_state: bool,
}

impl LoginUi for Ui {
    fn device_prompt(&mut self, uri: &str, code: &str, _complete: &str, _opened: bool) {
        self.device.push((uri.into(), code.into()));
        if let Some((idc, user)) = &self.approve_as {
            idc.approve_device(code, user).unwrap();
        }
    }
    fn pkce_prompt(&mut self, url: &str, _opened: bool) {
        self.pkce.push(url.into());
    }
    fn open_browser(&mut self, url: &str) -> bool {
        let tamper = self.tamper_state;
        let url = url.to_string();
        tokio::spawn(async move {
            if tamper {
                // Follow /authorize by hand and change the state on the way back.
                let (_, text) = browse_no_follow(url).await;
                let loc = text.lines().find_map(|l| l.strip_prefix("location: ")).unwrap().trim().to_string();
                let bad = loc.replace("state=", "state=x");
                browse(bad).await;
            } else {
                browse(url).await;
            }
        });
        true
    }
}

async fn browse_no_follow(url: String) -> (u16, String) {
    let rest = url.strip_prefix("http://").unwrap().to_string();
    let (authority, path) = rest.split_at(rest.find('/').unwrap());
    let mut s = tokio::net::TcpStream::connect(authority).await.unwrap();
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).await.unwrap();
    let text = String::from_utf8_lossy(&buf).into_owned();
    (text.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0), text)
}

fn opts(flow: Flow) -> LoginOptions {
    LoginOptions { flow, open_browser: true, timeout: Duration::from_secs(20), now: now() }
}

#[tokio::test(flavor = "multi_thread")]
async fn device_login_writes_aws_cli_files_and_reuses_the_registration() {
    let s = start(Settings::default()).await;
    let home = tempfile::tempdir().unwrap();
    let cache = SsoCache::in_home(home.path());
    let t = target(&s.url, None);
    let mut ui = Ui { approve_as: Some((s.idc.clone(), "alice".into())), ..Ui::default() };
    let token = login(&t, &cache, opts(Flow::Device), &mut ui).await.unwrap();
    assert_eq!(ui.device.len(), 1);
    assert_eq!(ui.device[0].0, format!("{}/device", s.url));
    assert!(token.refresh_token.is_none(), "legacy device logins cannot refresh");
    // The AWS CLI's file names: sha1(start URL) for the token, and the registration file.
    let dir = home.path().join(".aws/sso/cache");
    let text = std::fs::read_to_string(dir.join("7487b5b67d5fa1132cf33fa93ae51ef38cc37752.json")).unwrap();
    assert!(
        text.starts_with(
            "{\"startUrl\": \"https://d-1234567890.awsapps.com/start\", \"region\": \"us-east-1\", \"accessToken\": \""
        ),
        "{text}"
    );
    assert!(dir.join("365414a68be7c9bfc776c660981dbdbd942acea4.json").exists());
    login(&t, &cache, opts(Flow::Device), &mut ui).await.unwrap();
    assert_eq!(s.idc.count("RegisterClient"), 1, "the cached registration is reused");
}

#[tokio::test(flavor = "multi_thread")]
async fn pkce_login_through_the_browser_then_refresh() {
    let s = start(Settings { auto_approve: Some("alice".into()), ..Settings::default() }).await;
    let home = tempfile::tempdir().unwrap();
    let cache = SsoCache::in_home(home.path());
    let t = target(&s.url, Some("corp"));
    let mut ui = Ui::default();
    let token = login(&t, &cache, opts(Flow::Pkce), &mut ui).await.unwrap();
    assert!(ui.pkce[0].starts_with(&format!("{}/authorize?response_type=code&client_id=", s.url)));
    assert!(token.refresh_token.is_some());
    let accounts = tobira_auth::portal::accounts(&t, token.access_token.expose()).await.unwrap();
    let ids: Vec<_> = accounts.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(ids, ["222222222222", "111111111111"], "sorted by name: Development, Production");
    let roles = tobira_auth::portal::roles(&t, token.access_token.expose(), "222222222222").await.unwrap();
    assert_eq!(roles, ["FullAccess", "ReadOnly"]);

    // Inside the refresh window: one refresh, even with several callers at once.
    let mut due = cache.read_token(t.cache_key()).unwrap().unwrap();
    due.expires_at = now() + jiff::SignedDuration::from_mins(5);
    cache.write_token(t.cache_key(), &due).unwrap();
    let before = s.idc.count("CreateToken");
    let calls: Vec<_> = (0..8)
        .map(|_| {
            let (t, cache) = (t.clone(), cache.clone());
            tokio::spawn(async move { valid_token(&t, &cache, now()).await.unwrap() })
        })
        .collect();
    for c in calls {
        let fresh = c.await.unwrap();
        assert!(fresh.expires_at > now() + jiff::SignedDuration::from_hours(7));
    }
    assert_eq!(s.idc.count("CreateToken") - before, 1, "exactly one refresh");
    let stored = cache.read_token(t.cache_key()).unwrap().unwrap();
    assert_ne!(stored.access_token, due.access_token);
}

#[tokio::test(flavor = "multi_thread")]
async fn pkce_state_mismatch_is_refused() {
    let s = start(Settings { auto_approve: Some("alice".into()), ..Settings::default() }).await;
    let home = tempfile::tempdir().unwrap();
    let cache = SsoCache::in_home(home.path());
    let mut ui = Ui { tamper_state: true, ..Ui::default() };
    let e = login(&target(&s.url, Some("corp")), &cache, opts(Flow::Pkce), &mut ui).await.unwrap_err();
    assert_eq!(e.to_string(), "Error loading authorization code: State parameter does not match expected value.");
    assert!(cache.read_token(tobira_cache::SsoKey::Session("corp")).unwrap().is_none());
}

#[tokio::test(flavor = "multi_thread")]
async fn missing_and_expired_tokens_need_a_login() {
    let s = start(Settings::default()).await;
    let home = tempfile::tempdir().unwrap();
    let cache = SsoCache::in_home(home.path());
    let t = target(&s.url, Some("default"));
    let e = valid_token(&t, &cache, now()).await.unwrap_err();
    assert_eq!(e.to_string(), "Token for default does not exist");
    assert!(e.needs_login());
    let expired =
        tobira_cache::SsoToken::from_json(br#"{"accessToken": "x", "expiresAt": "2001-01-01T00:00:00Z"}"#).unwrap();
    cache.write_token(t.cache_key(), &expired).unwrap();
    let e = valid_token(&t, &cache, now()).await.unwrap_err();
    assert!(e.needs_login(), "{e}");
}

/// The clock, read by the test (tobira's libraries take it as a value).
#[allow(clippy::disallowed_methods)]
fn now() -> jiff::Timestamp {
    jiff::Timestamp::now()
}
