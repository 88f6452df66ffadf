//! Console sign-in (`login_session`) against a real tobira-idc on
//! 127.0.0.1:0, with the client following the server's clock so hours of
//! refreshes take no time: the sign-in through the pages (loopback and
//! `--remote`), the cache file, refresh windows, one refresh for many
//! concurrent callers, the 12-hour end, and the errors.
#![allow(clippy::disallowed_methods, clippy::unwrap_used, clippy::expect_used)]

use std::sync::mpsc;
use std::time::Duration;

use jiff::Timestamp;
use tobira_auth::AuthError;
use tobira_auth::signin::{SigninError, SigninOptions, SigninTarget, SigninUi, login, valid_credentials};
use tobira_cache::login::{CROSS_DEVICE, LoginCache, LoginToken, SAME_DEVICE};
use tobira_idc::Settings;
use tobira_test_support::{BOB_ARN, IdcServer, cancel_sign_in, sign_in_as_bob, verification_code};

/// The browser: what it does with the URL tobira opens or prints.
#[derive(Clone, Copy)]
enum Act {
    SignIn,
    Cancel,
    /// Calls the loopback listener with another `state`.
    ForgeState,
}

struct Ui {
    idc: tobira_idc::Idc,
    act: Act,
    shown: Vec<(String, bool, bool)>,
    /// `--remote`: the code the confirmation page shows (or a replacement).
    code: Option<mpsc::Receiver<String>>,
    paste: fn(String) -> String,
    /// Which of the three TOTP codes valid now to type (each works once).
    mfa: i64,
}

impl Ui {
    fn new(s: &IdcServer, act: Act) -> Ui {
        Ui { idc: s.idc.clone(), act, shown: Vec::new(), code: None, paste: |c| c, mfa: 0 }
    }
}

impl SigninUi for Ui {
    fn open_browser(&mut self, url: &str) -> bool {
        let (idc, url, act, mfa) = (self.idc.clone(), url.to_string(), self.act, self.mfa);
        tokio::spawn(async move {
            match act {
                Act::SignIn => {
                    sign_in_as_bob(&idc, &url, mfa).await.unwrap();
                }
                Act::Cancel => {
                    cancel_sign_in(&url).await;
                }
                Act::ForgeState => {
                    let redirect = url.split("redirect_uri=").nth(1).unwrap().split('&').next().unwrap();
                    let callback = redirect.replace("%3A", ":").replace("%2F", "/");
                    tobira_test_support::http("GET", &format!("{callback}?code=x&state=forged"), None).await;
                }
            }
        });
        true
    }

    fn show_url(&mut self, url: &str, opened: bool, remote: bool) {
        self.shown.push((url.to_string(), opened, remote));
        if remote {
            let (tx, rx) = mpsc::channel();
            let (idc, url, mfa) = (self.idc.clone(), url.to_string(), self.mfa);
            tokio::spawn(async move {
                let page = sign_in_as_bob(&idc, &url, mfa).await.unwrap();
                tx.send(verification_code(&page)).unwrap();
            });
            self.code = Some(rx);
        }
    }

    fn read_code(&mut self) -> Result<String, SigninError> {
        let rx = self.code.take().unwrap();
        let code = tokio::task::block_in_place(|| rx.recv_timeout(Duration::from_secs(30))).unwrap();
        Ok((self.paste)(code))
    }
}

fn opts(remote: bool) -> SigninOptions {
    SigninOptions { remote, open_browser: true, timeout: Duration::from_secs(30) }
}

fn target(s: &IdcServer) -> SigninTarget {
    SigninTarget { region: Some("eu-central-1".into()), endpoint: Some(s.url.clone()), net: tobira_auth::Net::direct() }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sign_in_refresh_windows_one_refresher_and_the_twelve_hour_end() {
    let s = IdcServer::start(Settings::default()).await;
    let idc = s.idc.clone();
    let clock = move || idc.clock().now();
    let mut ui = Ui::new(&s, Act::SignIn);
    let signed = login(&target(&s), opts(false), &mut ui, &clock).await.unwrap();
    let (url, opened, remote) = &ui.shown[0];
    assert!((*opened, *remote) == (true, false));
    assert!(
        url.starts_with(&format!(
            "{}/v1/authorize?response_type=code&client_id=arn%3Aaws%3Asignin%3A%3A%3Adevtools%2Fsame-device&state=",
            s.url
        )),
        "{url}"
    );
    assert!(
        url.contains("&code_challenge_method=SHA-256&scope=openid&redirect_uri=http%3A%2F%2F127.0.0.1%3A"),
        "{url}"
    );
    assert_eq!(signed.session, BOB_ARN);
    let t = &signed.token;
    assert_eq!(
        (t.client_id.as_str(), t.account_id.as_deref(), t.token_type.as_str()),
        (SAME_DEVICE, Some("123456789012"), "aws_sigv4")
    );
    assert!(t.access_key_id.starts_with("ASIA"));
    assert!(t.dpop_key.expose().starts_with("-----BEGIN EC PRIVATE KEY-----\n"));
    assert_eq!(t.expires_at.duration_since(s.idc.clock().now()).as_secs() / 60, 14, "15-minute credentials");
    assert_eq!(s.idc.count("CreateOAuth2Token"), 1);

    let dir = tempfile::tempdir().unwrap();
    let cache = LoginCache::at(dir.path().join("login-cache"));
    cache.write(&signed.session, &signed.token).unwrap();
    // Ten minutes left: used as they are.
    s.idc.clock().advance(Duration::from_secs(5 * 60));
    let same = valid_credentials(BOB_ARN, &target(&s), &cache, &clock).await.unwrap();
    assert_eq!(same, signed.token);
    assert_eq!(s.idc.count("CreateOAuth2Token"), 1, "no call with more than five minutes left");
    // Four minutes left: refreshed, the refresh token rotated, the rest kept.
    s.idc.clock().advance(Duration::from_secs(6 * 60));
    let fresh = valid_credentials(BOB_ARN, &target(&s), &cache, &clock).await.unwrap();
    assert_eq!(s.idc.count("CreateOAuth2Token"), 2);
    assert_ne!(fresh.access_key_id, signed.token.access_key_id);
    assert_ne!(fresh.refresh_token, signed.token.refresh_token);
    assert_eq!(
        (&fresh.id_token, &fresh.dpop_key, &fresh.client_id),
        (&signed.token.id_token, &signed.token.dpop_key, &signed.token.client_id)
    );
    assert_eq!(cache.read(BOB_ARN).unwrap().unwrap(), fresh, "written back");
    assert_eq!(
        LoginToken::from_json(&std::fs::read(cache.path(BOB_ARN)).unwrap()).unwrap().to_json().as_bytes(),
        std::fs::read(cache.path(BOB_ARN)).unwrap()
    );

    // Expired, and eight callers at once: one refresh, all get its result.
    s.idc.clock().advance(Duration::from_secs(20 * 60));
    let calls: Vec<_> = (0..8)
        .map(|_| {
            let (t, cache, clock) = (target(&s), cache.clone(), clock.clone());
            tokio::spawn(async move { valid_credentials(BOB_ARN, &t, &cache, &clock).await.map(|t| t.access_key_id) })
        })
        .collect();
    let mut keys = Vec::new();
    for c in calls {
        keys.push(c.await.unwrap().unwrap());
    }
    keys.dedup();
    assert_eq!(keys.len(), 1, "every caller got the one refresh's credentials");
    assert_eq!(s.idc.count("CreateOAuth2Token"), 3, "exactly one refresh for eight callers");

    // Twelve hours after the sign-in it ends.
    s.idc.clock().advance(Duration::from_secs(12 * 3600));
    let e = valid_credentials(BOB_ARN, &target(&s), &cache, &clock).await.unwrap_err();
    assert!(matches!(&e, AuthError::Signin { error: SigninError::SessionExpired { .. }, .. }), "{e}");
    assert!(e.needs_login());
    assert_eq!(
        e.to_string(),
        "the console sign-in has ended: AWS Sign-In no longer refreshes its credentials (TOKEN_EXPIRED: The refresh token has expired.); a sign-in lasts at most 12 hours, and an administrator can end it sooner"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn remote_sign_in_with_the_pasted_code() {
    let s = IdcServer::start(Settings::default()).await;
    let mut ui = Ui::new(&s, Act::SignIn);
    let signed = login(&target(&s), opts(true), &mut ui, &Timestamp::now).await.unwrap();
    let (url, opened, remote) = &ui.shown[0];
    assert!(!opened && *remote);
    assert!(url.contains("client_id=arn%3Aaws%3Asignin%3A%3A%3Adevtools%2Fcross-device"), "{url}");
    assert!(
        url.contains(&format!(
            "redirect_uri={}",
            s.url.replace(':', "%3A").replace('/', "%2F") + "%2Fv1%2Fsessions%2Fconfirmation"
        )),
        "{url}"
    );
    assert_eq!((signed.session.as_str(), signed.token.client_id.as_str()), (BOB_ARN, CROSS_DEVICE));

    // A code from another sign-in (another state), and text that is no code.
    use base64::Engine as _;
    let mut ui = Ui::new(&s, Act::SignIn);
    ui.mfa = -1;
    ui.paste = |_| base64::engine::general_purpose::STANDARD.encode("state=not-this-one&code=x");
    let e = login(&target(&s), opts(true), &mut ui, &Timestamp::now).await.unwrap_err();
    assert!(e.to_string().starts_with("State parameter not-this-one does not match expected value "), "{e}");
    let mut ui = Ui::new(&s, Act::SignIn);
    ui.mfa = 1;
    ui.paste = |_| "hello?".into();
    let e = login(&target(&s), opts(true), &mut ui, &Timestamp::now).await.unwrap_err();
    assert!(matches!(e, AuthError::Signin { error: SigninError::BadVerificationCode, .. }), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn cancelled_forged_and_unreachable_sign_ins() {
    let s = IdcServer::start(Settings::default()).await;
    let e = login(&target(&s), opts(false), &mut Ui::new(&s, Act::Cancel), &Timestamp::now).await.unwrap_err();
    assert_eq!(
        e.to_string(),
        "the sign-in was not completed in the browser (access_denied: The user cancelled the sign-in.)"
    );
    let e = login(&target(&s), opts(false), &mut Ui::new(&s, Act::ForgeState), &Timestamp::now).await.unwrap_err();
    assert!(e.to_string().starts_with("State parameter forged does not match expected value "), "{e}");
    assert_eq!(s.idc.count("CreateOAuth2Token"), 0, "no code was redeemed");

    // Nothing listens there: the refresh says which address and why.
    let dir = tempfile::tempdir().unwrap();
    let cache = LoginCache::at(dir.path().to_path_buf());
    let mut ui = Ui::new(&s, Act::SignIn);
    let signed = login(&target(&s), opts(false), &mut ui, &Timestamp::now).await.unwrap();
    let expired =
        LoginToken { expires_at: Timestamp::now() - jiff::SignedDuration::from_mins(1), ..signed.token.clone() };
    cache.write(BOB_ARN, &expired).unwrap();
    let nowhere =
        SigninTarget { region: None, endpoint: Some("http://127.0.0.1:1".into()), net: tobira_auth::Net::direct() };
    match valid_credentials(BOB_ARN, &nowhere, &cache, &Timestamp::now).await.unwrap_err() {
        AuthError::Network { call, failure } => {
            assert_eq!((call.url.as_str(), call.operation), ("http://127.0.0.1:1", "CreateOAuth2Token"));
            assert_eq!(failure, tobira_auth::NetFailure::Refused);
        }
        other => panic!("{other}"),
    }
    // Still valid for a minute: an unreachable service leaves them in use.
    let in_a_minute = Timestamp::from_second(Timestamp::now().as_second() + 60).unwrap();
    let short = LoginToken { expires_at: in_a_minute, ..signed.token.clone() };
    cache.write(BOB_ARN, &short).unwrap();
    assert_eq!(valid_credentials(BOB_ARN, &nowhere, &cache, &Timestamp::now).await.unwrap(), short);

    // A refresh signed with another key than the sign-in's is refused.
    let stolen = LoginToken {
        dpop_key: tobira_config::Secret::new(tobira_auth::dpop::DpopKey::generate().to_sec1_pem().unwrap()),
        ..expired
    };
    cache.write(BOB_ARN, &stolen).unwrap();
    let e = valid_credentials(BOB_ARN, &target(&s), &cache, &Timestamp::now).await.unwrap_err();
    assert!(matches!(&e, AuthError::Signin { error: SigninError::Service { refresh: true, .. }, .. }), "{e}");
    assert!(e.needs_login());
    assert!(
        e.to_string()
            .starts_with("An error occurred (ValidationException) when calling the CreateOAuth2Token operation: "),
        "{e}"
    );
    // No file at all.
    let e = valid_credentials("arn:aws:iam::123456789012:user/nobody", &target(&s), &cache, &Timestamp::now)
        .await
        .unwrap_err();
    assert!(
        e.to_string()
            .starts_with("there is no cached sign-in for login session `arn:aws:iam::123456789012:user/nobody` ("),
        "{e}"
    );
}
