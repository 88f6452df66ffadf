//! SSO OIDC driven by the official AWS SDK for Rust over real HTTP.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] fns

mod common;

use std::time::Duration;

use aws_sdk_ssooidc::error::{ProvideErrorMetadata, SdkError};
use common::*;
use tobira_idc::Settings;

const DEVICE: &str = "urn:ietf:params:oauth:grant-type:device_code";

fn code<E: ProvideErrorMetadata, R>(e: SdkError<E, R>) -> String {
    e.code().unwrap_or("<none>").to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn device_flow_pending_slow_down_approve_consume() {
    let s = demo().await;
    let c = oidc(&s.url);
    // A legacy registration: no scopes → no refresh token later.
    let reg = c.register_client().client_name("botocore-client-1795300000").client_type("public").send().await.unwrap();
    assert!(reg.client_secret_expires_at() > reg.client_id_issued_at() + 80 * 86400);
    let (id, secret) = (reg.client_id().unwrap(), reg.client_secret().unwrap());
    let auth = c
        .start_device_authorization()
        .client_id(id)
        .client_secret(secret)
        .start_url(format!("{START_URL}#"))
        .send()
        .await
        .unwrap();
    assert_eq!(auth.expires_in(), 600);
    assert_eq!(auth.interval(), 1);
    let user_code = auth.user_code().unwrap();
    assert!(user_code.len() == 9 && user_code.as_bytes()[4] == b'-', "{user_code}");
    assert_eq!(auth.verification_uri_complete().unwrap(), format!("{}/device?user_code={user_code}", s.url));
    let poll = || {
        c.create_token()
            .client_id(id)
            .client_secret(secret)
            .grant_type(DEVICE)
            .device_code(auth.device_code().unwrap())
            .send()
    };

    let e = poll().await.unwrap_err().into_service_error();
    assert!(e.is_authorization_pending_exception(), "{e:?}");
    // Polling again inside the interval is answered with slow_down.
    let e = poll().await.unwrap_err().into_service_error();
    assert!(e.is_slow_down_exception(), "{e:?}");

    s.idc.approve_device(&user_code.to_lowercase().replace('-', ""), "alice").unwrap();
    let tok = poll().await.unwrap();
    assert!(tok.access_token().unwrap().len() > 20);
    assert_eq!(tok.token_type(), Some("Bearer"));
    // Capped by the sign-in session, which began at approval (a second may have passed).
    assert!((8 * 3600 - 5..=8 * 3600).contains(&tok.expires_in()), "{}", tok.expires_in());
    assert_eq!(tok.refresh_token(), None, "legacy registrations get no refresh token");
    assert_eq!(code(poll().await.unwrap_err()), "InvalidGrantException");
    assert_eq!(s.idc.count("CreateToken"), 4);
}

#[tokio::test(flavor = "multi_thread")]
async fn device_flow_denied_expired_and_bad_requests() {
    let s = demo().await;
    let c = oidc(&s.url);
    let reg =
        c.register_client().client_name("n").client_type("public").scopes("sso:account:access").send().await.unwrap();
    let (id, secret) = (reg.client_id().unwrap(), reg.client_secret().unwrap());
    let start = || c.start_device_authorization().client_id(id).client_secret(secret).start_url(START_URL).send();

    let denied = start().await.unwrap();
    s.idc.deny_device(denied.user_code().unwrap()).unwrap();
    let e = c
        .create_token()
        .client_id(id)
        .client_secret(secret)
        .grant_type(DEVICE)
        .device_code(denied.device_code().unwrap())
        .send()
        .await
        .unwrap_err();
    assert!(e.into_service_error().is_access_denied_exception());

    let expiring = start().await.unwrap();
    s.idc.clock().advance(Duration::from_secs(601));
    let e = c
        .create_token()
        .client_id(id)
        .client_secret(secret)
        .grant_type(DEVICE)
        .device_code(expiring.device_code().unwrap())
        .send()
        .await
        .unwrap_err();
    assert!(e.into_service_error().is_expired_token_exception());
    assert!(s.idc.approve_device(expiring.user_code().unwrap(), "alice").unwrap_err().to_string().contains("expired"));

    // Wrong secret → 401 InvalidClientException; unknown start URL; bad grant type.
    let e = c
        .start_device_authorization()
        .client_id(id)
        .client_secret("nope")
        .start_url(START_URL)
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.raw_response().map(|r| r.status().as_u16()), Some(401));
    assert_eq!(code(e), "InvalidClientException");
    let e = c
        .start_device_authorization()
        .client_id(id)
        .client_secret(secret)
        .start_url("https://d-999.awsapps.com/start")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(e), "InvalidRequestException");
    let e = c.create_token().client_id(id).client_secret(secret).grant_type("password").send().await.unwrap_err();
    assert_eq!(code(e), "UnsupportedGrantTypeException");
    let e = c.register_client().client_name("x").client_type("confidential").send().await.unwrap_err();
    assert_eq!(code(e), "InvalidClientMetadataException");
    let e = c
        .register_client()
        .client_name("x")
        .client_type("public")
        .redirect_uris("https://evil.example/cb")
        .grant_types("authorization_code")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(e), "InvalidRedirectUriException");
    let e = c.register_client().client_name("x").client_type("public").scopes("not a scope").send().await.unwrap_err();
    assert_eq!(code(e), "InvalidScopeException");
    // A PKCE-only registration cannot start the device flow.
    let (pkce_id, pkce_secret) = pkce_client(&c).await;
    let e = c
        .start_device_authorization()
        .client_id(&pkce_id)
        .client_secret(&pkce_secret)
        .start_url(START_URL)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(e), "UnauthorizedClientException");
    // An expired registration.
    s.idc.clock().advance(Duration::from_secs(91 * 86400));
    assert_eq!(code(start().await.unwrap_err()), "InvalidClientException");
}

async fn pkce_client(c: &aws_sdk_ssooidc::Client) -> (String, String) {
    let reg = c
        .register_client()
        .client_name("botocore-client-corp")
        .client_type("public")
        .grant_types("authorization_code")
        .grant_types("refresh_token")
        .redirect_uris("http://127.0.0.1/oauth/callback")
        .issuer_url(START_URL)
        .scopes("sso:account:access")
        .send()
        .await
        .unwrap();
    (reg.client_id().unwrap().to_string(), reg.client_secret().unwrap().to_string())
}

fn authorize_path(client_id: &str, redirect: &str, state: &str, challenge: &str) -> String {
    let enc = |s: &str| s.replace(':', "%3A").replace('/', "%2F");
    format!(
        "/authorize?response_type=code&client_id={client_id}&redirect_uri={}&state={state}&code_challenge_method=S256&scopes=sso%3Aaccount%3Aaccess&code_challenge={challenge}",
        enc(redirect)
    )
}

fn query_param(url: &str, name: &str) -> Option<String> {
    url.split_once('?')?.1.split('&').find_map(|kv| kv.strip_prefix(&format!("{name}=")).map(str::to_string))
}

const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk-aaaaaaaaaaaaaaaaaaaaa";

fn challenge() -> String {
    use base64::Engine as _;
    use sha2::Digest as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(VERIFIER.as_bytes()))
}

#[tokio::test(flavor = "multi_thread")]
async fn pkce_with_auto_approve_verifier_redirect_and_single_use() {
    let s = start(Settings { auto_approve: Some("alice".into()), ..Settings::default() }).await;
    let c = oidc(&s.url);
    let (id, secret) = pkce_client(&c).await;
    let redirect = "http://127.0.0.1:53682/oauth/callback";
    let (status, location, _) = get(&s.url, &authorize_path(&id, redirect, "st-1", &challenge())).await;
    assert_eq!(status, 302, "redirect to the client's loopback listener");
    let location = location.unwrap();
    assert!(location.starts_with(&format!("{redirect}?code=")), "{location}");
    assert_eq!(query_param(&location, "state").as_deref(), Some("st-1"));
    let code_value = query_param(&location, "code").unwrap();
    let exchange = |verifier: &str, redirect: &str| {
        c.create_token()
            .client_id(&id)
            .client_secret(&secret)
            .grant_type("authorization_code")
            .code(&code_value)
            .code_verifier(verifier)
            .redirect_uri(redirect)
            .send()
    };
    // A wrong verifier spends the code (codes are single-use).
    assert_eq!(code(exchange("wrong-verifier", redirect).await.unwrap_err()), "InvalidGrantException");
    assert_eq!(code(exchange(VERIFIER, redirect).await.unwrap_err()), "InvalidGrantException");

    let (_, location, _) = get(&s.url, &authorize_path(&id, redirect, "st-2", &challenge())).await;
    let code2 = query_param(&location.unwrap(), "code").unwrap();
    let e = c
        .create_token()
        .client_id(&id)
        .client_secret(&secret)
        .grant_type("authorization_code")
        .code(&code2)
        .code_verifier(VERIFIER)
        .redirect_uri("http://127.0.0.1:1/oauth/callback")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(e), "InvalidGrantException", "redirectUri must match exactly");

    let (_, location, _) = get(&s.url, &authorize_path(&id, redirect, "st-3", &challenge())).await;
    let code3 = query_param(&location.unwrap(), "code").unwrap();
    let tok = c
        .create_token()
        .client_id(&id)
        .client_secret(&secret)
        .grant_type("authorization_code")
        .code(&code3)
        .code_verifier(VERIFIER)
        .redirect_uri(redirect)
        .send()
        .await
        .unwrap();
    let refresh = tok.refresh_token().unwrap().to_string();

    // Refresh rotates: the new token works, the old one never again.
    let r1 = c
        .create_token()
        .client_id(&id)
        .client_secret(&secret)
        .grant_type("refresh_token")
        .refresh_token(&refresh)
        .send()
        .await
        .unwrap();
    assert_ne!(r1.access_token(), tok.access_token());
    let e = c
        .create_token()
        .client_id(&id)
        .client_secret(&secret)
        .grant_type("refresh_token")
        .refresh_token(&refresh)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(e), "InvalidGrantException");
    // Presenting a rotated token again revoked the whole family (RFC 9700 §4.14.2).
    let e = c
        .create_token()
        .client_id(&id)
        .client_secret(&secret)
        .grant_type("refresh_token")
        .refresh_token(r1.refresh_token().unwrap())
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(e), "InvalidGrantException");

    // Unregistered redirect → an error page, no redirect.
    let (status, location, _) = get(&s.url, &authorize_path(&id, "http://127.0.0.1:9/other", "x", &challenge())).await;
    assert_eq!((status, location), (400, None));
}

#[tokio::test(flavor = "multi_thread")]
async fn pkce_waits_for_headless_approval_or_denial() {
    let s = demo().await;
    let c = oidc(&s.url);
    let (id, _) = pkce_client(&c).await;
    let redirect = "http://127.0.0.1:40000/oauth/callback";
    let path = authorize_path(&id, redirect, "wait-1", &challenge());
    let (status, location, body) = get(&s.url, &path).await;
    assert_eq!((status, location), (200, None));
    assert!(
        body.contains("<form method=\"post\" action=\"/signin\">"),
        "a person signs in; a script approves the request id"
    );
    let request = body.split("<code id=\"request-id\">").nth(1).and_then(|r| r.split('<').next()).unwrap().to_string();
    s.idc.approve_authorization(&request, "alice").unwrap();
    let (status, location, _) = get(&s.url, &path).await;
    assert_eq!(status, 302);
    assert!(location.unwrap().contains("code="));

    let path = authorize_path(&id, redirect, "wait-2", &challenge());
    let (_, _, body) = get(&s.url, &path).await;
    let request = body.split("<code id=\"request-id\">").nth(1).and_then(|r| r.split('<').next()).unwrap().to_string();
    s.idc.deny_authorization(&request).unwrap();
    let (_, location, _) = get(&s.url, &path).await;
    let location = location.unwrap();
    assert_eq!(query_param(&location, "error").as_deref(), Some("access_denied"));
    assert_eq!(query_param(&location, "state").as_deref(), Some("wait-2"));
}

#[tokio::test(flavor = "multi_thread")]
async fn injected_one_shot_error_then_recovery() {
    let s = demo().await;
    s.idc.set_faults(tobira_idc::Faults {
        one_shot: [tobira_idc::OneShot {
            operation: "RegisterClient".into(),
            code: "InternalServerException".into(),
            status: 500,
        }]
        .into(),
        ..Default::default()
    });
    let c = oidc(&s.url);
    let e = c.register_client().client_name("x").client_type("public").send().await.unwrap_err();
    assert_eq!(code(e), "InternalServerException");
    c.register_client().client_name("x").client_type("public").send().await.unwrap();
}
