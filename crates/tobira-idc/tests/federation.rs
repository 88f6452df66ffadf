//! The Sign-In federation endpoint (console sign-in from temporary
//! credentials) and the console landing page, over HTTP, with the attacks a
//! sign-in URL invites: replay, tampering, expiry, long-term keys, an open
//! Destination.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] fns

mod common;

use std::time::Duration;

use common::*;

fn session_json(key: &str, secret: &str, token: Option<&str>) -> String {
    match token {
        Some(t) => serde_json::json!({ "sessionId": key, "sessionKey": secret, "sessionToken": t }).to_string(),
        None => serde_json::json!({ "sessionId": key, "sessionKey": secret }).to_string(),
    }
}

fn q(pairs: &[(&str, &str)]) -> String {
    serde_urlencoded::to_string(pairs).unwrap()
}

/// `getSigninToken` by GET: status and body.
async fn signin_token(url: &str, session: &str, duration: Option<&str>) -> (u16, String) {
    let mut pairs = vec![("Action", "getSigninToken"), ("Session", session)];
    if let Some(d) = duration {
        pairs.push(("SessionDuration", d));
    }
    let (status, _, body) = get(url, &format!("/federation?{}", q(&pairs))).await;
    (status, body)
}

fn token_of(body: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(body).expect("JSON");
    let obj = v.as_object().unwrap();
    assert!(obj.values().all(|v| v.is_string()), "every member is a string (aws-vault): {body}");
    v["SigninToken"].as_str().unwrap().to_string()
}

async fn alice_role(s: &common::Server) -> aws_sdk_sso::types::RoleCredentials {
    let token = device_login(s, "alice").await;
    role_credentials(&s.url, &token, "222222222222", "FullAccess").await
}

fn login_path(token: &str, destination: &str) -> String {
    format!(
        "/federation?{}",
        q(&[("Action", "login"), ("Issuer", START_URL), ("Destination", destination), ("SigninToken", token),])
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn role_credentials_sign_in_once_and_land_on_the_console_page() {
    let s = demo().await;
    let rc = alice_role(&s).await;
    let session = session_json(rc.access_key_id().unwrap(), rc.secret_access_key().unwrap(), rc.session_token());
    let (status, body) = signin_token(&s.url, &session, None).await;
    assert_eq!(status, 200, "{body}");
    let token = token_of(&body);
    assert!(token.len() >= 43);
    assert!(token.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'), "URL-safe: {token}");
    assert!(!token.contains(rc.secret_access_key().unwrap()));

    let dest = "https://eu-west-1.console.aws.amazon.com/console/home?region=eu-west-1";
    let mut b = Browser::new(&s.url);
    let (status, head, _) = b.get(&login_path(&token, dest)).await;
    assert_eq!(status, 302, "{head}");
    assert_eq!(location(&head), "/console");
    let (status, _, page) = b.get("/console").await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("222222222222"), "{page}");
    assert!(page.contains("id=\"role\">AWSReservedSSO_FullAccess_"), "{page}");
    assert!(page.contains("assumed-role/"), "{page}");
    assert!(page.contains("eu-west-1.console.aws.amazon.com"), "{page}");

    // Single use: the same token (raw, as aws-sso-cli pastes it) is refused.
    let raw = format!("/federation?Action=login&Destination=https://console.aws.amazon.com/&SigninToken={token}");
    let (status, _, body) = get(&s.url, &raw).await;
    assert_eq!(status, 400);
    assert!(body.contains("already used"), "{body}");
    // Without the cookie there is no console session.
    let (status, _, _) = get(&s.url, "/console").await;
    assert_eq!(status, 401);
}

#[tokio::test(flavor = "multi_thread")]
async fn post_form_with_python_spacing_and_session_duration_bounds() {
    let s = demo().await;
    let rc = alice_role(&s).await;
    let session = format!(
        "{{\"sessionId\": \"{}\", \"sessionKey\": \"{}\", \"sessionToken\": \"{}\"}}",
        rc.access_key_id().unwrap(),
        rc.secret_access_key().unwrap(),
        rc.session_token().unwrap()
    );
    let body = q(&[("Action", "getSigninToken"), ("Session", &session), ("SessionDuration", "3600")]);
    let headers = [("Content-Type".to_string(), "application/x-www-form-urlencoded".to_string())];
    let (status, _, out) = http(&s.url, "POST", "/federation", &headers, &body).await;
    assert_eq!(status, 200, "{out}");
    token_of(&out);
    for bad in ["899", "43201", "abc", "-1"] {
        let (status, out) = signin_token(&s.url, &session, Some(bad)).await;
        assert_eq!(status, 400, "SessionDuration={bad}");
        assert!(out.contains("SessionDuration"), "{out}");
    }
    let (status, _) = signin_token(&s.url, &session, Some("43200")).await;
    assert_eq!(status, 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn long_term_keys_session_token_credentials_and_forgeries_are_refused() {
    let s = demo().await;
    // Long-term IAM user keys (right secret): refused with the alternative.
    let (status, body) = signin_token(&s.url, &session_json(BOB_KEY, BOB_SECRET, None), None).await;
    assert_eq!(status, 400);
    assert!(body.contains("long-term") && body.contains("AssumeRole"), "{body}");

    // GetSessionToken credentials of an IAM user: refused.
    let code = bob_code(&s.idc, 0);
    let bob = sts(&s.url, BOB_KEY, BOB_SECRET, None);
    let out = bob.get_session_token().serial_number(BOB_MFA).token_code(&code).send().await.unwrap();
    let c = out.credentials().unwrap();
    let (status, body) =
        signin_token(&s.url, &session_json(c.access_key_id(), c.secret_access_key(), Some(c.session_token())), None)
            .await;
    assert_eq!(status, 400);
    assert!(body.contains("GetSessionToken"), "{body}");

    // Role credentials with a wrong secret, or another key's token.
    let rc = alice_role(&s).await;
    let (key, secret, token) =
        (rc.access_key_id().unwrap(), rc.secret_access_key().unwrap(), rc.session_token().unwrap());
    let (status, _) = signin_token(&s.url, &session_json(key, "wrong-secret", Some(token)), None).await;
    assert_eq!(status, 400);
    let (status, _) = signin_token(&s.url, &session_json("ASIAOTHERKEY00000000", secret, Some(token)), None).await;
    assert_eq!(status, 400);
    // Bad JSON, missing Session, unknown Action.
    let (status, _) = signin_token(&s.url, "{not json", None).await;
    assert_eq!(status, 400);
    let (status, _, _) = get(&s.url, "/federation?Action=getSigninToken").await;
    assert_eq!(status, 400);
    let (status, _, _) = get(&s.url, "/federation?Action=logout").await;
    assert_eq!(status, 400);

    // A tampered SigninToken is refused; the genuine one still works once.
    let (status, body) = signin_token(&s.url, &session_json(key, secret, Some(token)), None).await;
    assert_eq!(status, 200);
    let good = token_of(&body);
    let mut chars: Vec<char> = good.chars().collect();
    let i = chars.len() / 2;
    chars[i] = if chars[i] == 'A' { 'B' } else { 'A' };
    let tampered: String = chars.into_iter().collect();
    let (status, _, body) = get(&s.url, &login_path(&tampered, "https://console.aws.amazon.com/")).await;
    assert_eq!(status, 400);
    assert!(body.contains("not valid"), "{body}");
    let (status, _, _) = get(&s.url, &login_path("garbage", "https://console.aws.amazon.com/")).await;
    assert_eq!(status, 400);
    let (status, _, _) = get(&s.url, &login_path(&good, "https://console.aws.amazon.com/")).await;
    assert_eq!(status, 302);
}

#[tokio::test(flavor = "multi_thread")]
async fn expired_credentials_and_expired_tokens_are_refused() {
    let s = demo().await;
    let rc = alice_role(&s).await;
    let session = session_json(rc.access_key_id().unwrap(), rc.secret_access_key().unwrap(), rc.session_token());
    let (status, body) = signin_token(&s.url, &session, None).await;
    assert_eq!(status, 200);
    let token = token_of(&body);
    // The SigninToken lasts 15 minutes.
    s.idc.clock().advance(Duration::from_secs(901));
    let (status, _, body) = get(&s.url, &login_path(&token, "https://console.aws.amazon.com/")).await;
    assert_eq!(status, 400);
    assert!(body.contains("expired"), "{body}");
    // The credentials themselves expire.
    s.idc.clock().advance(Duration::from_secs(24 * 3600));
    let (status, body) = signin_token(&s.url, &session, None).await;
    assert_eq!(status, 400);
    assert!(body.contains("expired"), "{body}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_destination_is_shown_not_followed() {
    let s = demo().await;
    let rc = alice_role(&s).await;
    let session = session_json(rc.access_key_id().unwrap(), rc.secret_access_key().unwrap(), rc.session_token());
    for (dest, linked) in [("https://evil.example/phish", true), ("javascript:alert(1)", false)] {
        let (_, body) = signin_token(&s.url, &session, None).await;
        let token = token_of(&body);
        let mut b = Browser::new(&s.url);
        let (status, head, _) = b.get(&login_path(&token, dest)).await;
        assert_eq!(status, 302);
        assert_eq!(location(&head), "/console", "never redirected to the Destination");
        let (status, head, page) = b.get("/console").await;
        assert_eq!(status, 200);
        assert!(head.to_ascii_lowercase().contains("content-security-policy"));
        assert_eq!(page.contains("id=\"continue\""), linked, "{page}");
        assert!(!page.contains("href=\"javascript:"), "{page}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn credentials_of_a_revoked_sign_in_are_refused() {
    let s = demo().await;
    let rc = alice_role(&s).await;
    let session = session_json(rc.access_key_id().unwrap(), rc.secret_access_key().unwrap(), rc.session_token());
    let (status, _) = signin_token(&s.url, &session, None).await;
    assert_eq!(status, 200);
    assert!(s.idc.revoke_user_sessions("alice").unwrap() >= 1);
    let (status, body) = signin_token(&s.url, &session, None).await;
    assert_eq!(status, 400);
    assert!(body.contains("revoked"), "{body}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_console_session_ends_with_the_credentials_and_old_parameters_are_ignored() {
    let s = demo().await;
    let token = device_login(&s, "alice").await;
    // ReadOnly lasts one hour: a 12-hour SessionDuration is cut to it.
    let rc = role_credentials(&s.url, &token, "111111111111", "ReadOnly").await;
    let session = session_json(rc.access_key_id().unwrap(), rc.secret_access_key().unwrap(), rc.session_token());
    let path = format!(
        "/federation?{}",
        q(&[
            ("SessionType", "json"),
            ("DurationSeconds", "99"),
            ("SessionDuration", "43200"),
            ("Session", &session),
            ("Action", "getSigninToken")
        ])
    );
    let (status, _, body) = get(&s.url, &path).await;
    assert_eq!(status, 200, "{body}");
    let mut b = Browser::new(&s.url);
    let (status, _, _) = b.get(&login_path(&token_of(&body), "https://console.aws.amazon.com/")).await;
    assert_eq!(status, 302);
    let (_, _, page) = b.get("/console").await;
    let expires = page.split("id=\"expires\">").nth(1).and_then(|r| r.split('<').next()).unwrap();
    let expires: i64 = expires.parse::<jiff::Timestamp>().unwrap().as_second();
    assert_eq!(expires, rc.expiration() / 1000, "the credentials' expiry, not 12 hours");
}
