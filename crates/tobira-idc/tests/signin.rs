//! The Sign-In service of `aws login` over real HTTP (docs/signin.md): the
//! authorize page, codes, CreateOAuth2Token with DPoP proofs (RFC 9449), the
//! credentials it issues accepted by STS, refresh-token rotation, and the
//! attacks: replayed proofs, a proof for another URL or from another key, a
//! stale proof, a replayed code, a wrong verifier, open redirects, guessing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use common::*;
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair as _};
use serde_json::{Value, json};
use sha2::Digest as _;

const SAME: &str = "arn:aws:signin:::devtools/same-device";
const CROSS: &str = "arn:aws:signin:::devtools/cross-device";
const VERIFIER: &str = "a-64-character-code-verifier-0123456789abcdefghijklmnopqrstuvwxyz";
const CALLBACK: &str = "http://127.0.0.1:4567/oauth/callback";
const BOB_ARN: &str = "arn:aws:iam::123456789012:user/bob";

struct Key(EcdsaKeyPair);

impl Key {
    fn new() -> Key {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
        Key(EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng).unwrap())
    }

    /// A DPoP proof as the AWS CLI makes it.
    fn proof(&self, htu: &str, iat: i64, jti: &str) -> String {
        let p = self.0.public_key().as_ref();
        let header = format!(
            r#"{{"typ":"dpop+jwt","alg":"ES256","jwk":{{"kty":"EC","x":"{}","y":"{}","crv":"P-256"}}}}"#,
            B64.encode(&p[1..33]),
            B64.encode(&p[33..])
        );
        let payload = format!(r#"{{"htm":"POST","htu":"{htu}","iat":{iat},"jti":"{jti}"}}"#);
        let input = format!("{}.{}", B64.encode(header), B64.encode(payload));
        let sig = self.0.sign(&SystemRandom::new(), input.as_bytes()).unwrap();
        format!("{input}.{}", B64.encode(sig.as_ref()))
    }
}

fn challenge() -> String {
    B64.encode(sha2::Sha256::digest(VERIFIER.as_bytes()))
}

fn authorize_path(client: &str, redirect: &str, state: &str) -> String {
    format!(
        "/v1/authorize?response_type=code&client_id={}&state={state}&code_challenge_method=SHA-256&scope=openid&redirect_uri={}&code_challenge={}",
        urlencode(client),
        urlencode(redirect),
        challenge()
    )
}

fn urlencode(s: &str) -> String {
    serde_urlencoded::to_string([("x", s)]).unwrap().trim_start_matches("x=").to_string()
}

/// Opens the authorize page and signs in as bob (password and MFA code): the
/// redirect's query (code, state) or the page shown.
async fn sign_in(s: &Server, client: &str, redirect: &str, offset: i64) -> Result<(String, String), (u16, String)> {
    let mut b = Browser::new(&s.url);
    let (status, _, page) = b.get(&authorize_path(client, redirect, "st-1")).await;
    assert_eq!(status, 200, "{page}");
    let request = field(&page, "request");
    let code = bob_code(&s.idc, offset);
    let (status, head, body) = b
        .post(
            "/v1/authorize",
            &[
                ("request", &request),
                ("kind", "iam"),
                ("account", "123456789012"),
                ("user", "bob"),
                ("password", ALICE_PASSWORD),
                ("mfa_code", &code),
            ],
        )
        .await;
    if status != 302 {
        return Err((status, body));
    }
    let to = location(&head);
    let query = to.split_once('?').unwrap().1;
    let q: std::collections::HashMap<String, String> = serde_urlencoded::from_str(query).unwrap();
    assert!(to.starts_with(redirect), "{to}");
    Ok((q["code"].clone(), q["state"].clone()))
}

/// `POST /v1/token` with a proof: status, error shape, body.
async fn token(s: &Server, body: &Value, dpop: Option<&str>) -> (u16, Option<String>, Value) {
    let mut headers = vec![("Content-Type".to_string(), "application/json".to_string())];
    if let Some(p) = dpop {
        headers.push(("DPoP".to_string(), p.to_string()));
    }
    let (status, head, text) = http(&s.url, "POST", "/v1/token", &headers, &body.to_string()).await;
    let shape = head
        .lines()
        .find_map(|l| l.split_once(':').filter(|(k, _)| k.eq_ignore_ascii_case("x-amzn-errortype")))
        .map(|(_, v)| v.trim().to_string());
    (status, shape, serde_json::from_str(&text).unwrap_or(Value::Null))
}

fn htu(s: &Server) -> String {
    format!("{}/v1/token", s.url)
}

async fn exchange(s: &Server, key: &Key, code: &str, jti: &str) -> (u16, Option<String>, Value) {
    let body = json!({ "clientId": SAME, "grantType": "authorization_code", "code": code,
                       "codeVerifier": VERIFIER, "redirectUri": CALLBACK });
    token(s, &body, Some(&key.proof(&htu(s), s.idc.clock().now_s(), jti))).await
}

async fn refresh(s: &Server, key: &Key, refresh_token: &str, jti: &str) -> (u16, Option<String>, Value) {
    let body = json!({ "clientId": SAME, "refreshToken": refresh_token, "grantType": "refresh_token" });
    token(s, &body, Some(&key.proof(&htu(s), s.idc.clock().now_s(), jti))).await
}

async fn caller(s: &Server, out: &Value) -> Result<String, String> {
    let c = &out["accessToken"];
    let sts = sts(
        &s.url,
        c["accessKeyId"].as_str().unwrap(),
        c["secretAccessKey"].as_str().unwrap(),
        c["sessionToken"].as_str(),
    );
    match sts.get_caller_identity().send().await {
        Ok(me) => Ok(me.arn().unwrap().to_string()),
        Err(e) => Err(format!("{:?}", e.into_service_error().meta().code())),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn aws_login_end_to_end_credentials_work_and_refresh_rotates() {
    let s = demo().await;
    let key = Key::new();
    let (code, state) = sign_in(&s, SAME, CALLBACK, 0).await.unwrap();
    assert_eq!(state, "st-1");
    let (status, _, out) = exchange(&s, &key, &code, "j-1").await;
    assert_eq!(status, 200, "{out}");
    assert_eq!(out["tokenType"], "aws_sigv4");
    assert!(out["expiresIn"].as_i64().unwrap() <= 900);
    assert!(out["accessToken"]["accessKeyId"].as_str().unwrap().starts_with("ASIA"));
    // The ID token's payload names the principal (clients read only that).
    let id = out["idToken"].as_str().unwrap();
    let claims: Value = serde_json::from_slice(&B64.decode(id.split('.').nth(1).unwrap()).unwrap()).unwrap();
    assert_eq!(claims["sub"], BOB_ARN);
    assert_eq!(caller(&s, &out).await.unwrap(), BOB_ARN, "STS accepts them as bob");
    // Refresh with the same key: new credentials, a new refresh token, no ID token.
    s.idc.clock().advance(std::time::Duration::from_secs(700));
    let (status, _, next) = refresh(&s, &key, out["refreshToken"].as_str().unwrap(), "j-2").await;
    assert_eq!(status, 200, "{next}");
    assert_ne!(next["refreshToken"], out["refreshToken"]);
    assert!(next.get("idToken").is_none());
    assert_eq!(caller(&s, &next).await.unwrap(), BOB_ARN);
    // The rotated token presented again: refused, and the whole sign-in ends (RFC 9700 §4.14.2).
    let (status, shape, err) = refresh(&s, &key, out["refreshToken"].as_str().unwrap(), "j-3").await;
    assert_eq!((status, shape.as_deref()), (400, Some("ValidationException")), "{err}");
    assert_eq!(err["error"], "INVALID_REQUEST");
    assert_eq!(caller(&s, &next).await.unwrap_err(), "Some(\"ExpiredToken\")", "credentials of the sign-in end");
    let (_, shape, err) = refresh(&s, &key, next["refreshToken"].as_str().unwrap(), "j-4").await;
    assert_eq!((shape.as_deref(), err["error"].as_str()), (Some("AccessDeniedException"), Some("TOKEN_EXPIRED")));
}

#[tokio::test(flavor = "multi_thread")]
async fn dpop_attacks_are_refused() {
    let s = demo().await;
    let key = Key::new();
    let (code, _) = sign_in(&s, SAME, CALLBACK, 0).await.unwrap();
    let now = s.idc.clock().now_s();
    let body = json!({ "clientId": SAME, "grantType": "authorization_code", "code": code,
                       "codeVerifier": VERIFIER, "redirectUri": CALLBACK });
    let refused = |r: (u16, Option<String>, Value), why: &str| {
        assert_eq!((r.0, r.1.as_deref()), (400, Some("ValidationException")), "{why}: {}", r.2);
        assert!(r.2["message"].as_str().unwrap().contains("DPoP"), "{why}: {}", r.2);
    };
    refused(token(&s, &body, None).await, "no proof");
    refused(token(&s, &body, Some(&key.proof("http://evil.example/v1/token", now, "a"))).await, "wrong htu");
    refused(token(&s, &body, Some(&key.proof(&htu(&s), now - 3600, "b"))).await, "stale iat");
    let good = key.proof(&htu(&s), now, "c");
    // One character in the middle of the signature changed.
    let at = good.len() - 40;
    let swap = if &good[at..=at] == "A" { "B" } else { "A" };
    let tampered = format!("{}{swap}{}", &good[..at], &good[at + 1..]);
    refused(token(&s, &body, Some(&tampered)).await, "bad signature");
    // The code still works with a good proof (refused proofs did not consume it)...
    let (status, _, out) = token(&s, &body, Some(&good)).await;
    assert_eq!(status, 200, "{out}");
    // ...and that proof cannot be replayed.
    let again = json!({ "clientId": SAME, "refreshToken": out["refreshToken"], "grantType": "refresh_token" });
    refused(token(&s, &again, Some(&good)).await, "replayed jti");
    // A refresh signed by another key than the one the token is bound to.
    let thief = Key::new();
    let (status, shape, err) = token(&s, &again, Some(&thief.proof(&htu(&s), now, "d"))).await;
    assert_eq!(
        (status, shape.as_deref(), err["error"].as_str()),
        (400, Some("ValidationException"), Some("INVALID_REQUEST"))
    );
    let (status, _, _) = token(&s, &again, Some(&key.proof(&htu(&s), now, "e"))).await;
    assert_eq!(status, 200, "the owner's key still refreshes");
}

#[tokio::test(flavor = "multi_thread")]
async fn codes_are_single_use_and_bound_to_the_verifier_and_redirect() {
    let s = demo().await;
    let key = Key::new();
    let (code, _) = sign_in(&s, SAME, CALLBACK, 0).await.unwrap();
    let now = s.idc.clock().now_s();
    let wrong_verifier = json!({ "clientId": SAME, "grantType": "authorization_code", "code": code,
        "codeVerifier": "x".repeat(64), "redirectUri": CALLBACK });
    let (_, shape, _) = token(&s, &wrong_verifier, Some(&key.proof(&htu(&s), now, "v1"))).await;
    assert_eq!(shape.as_deref(), Some("ValidationException"));
    // A failed attempt used the code up; a new sign-in is needed.
    let (_, shape, err) = exchange(&s, &key, &code, "v2").await;
    assert_eq!((shape.as_deref(), err["error"].as_str()), (Some("AccessDeniedException"), Some("AUTHCODE_EXPIRED")));
    // Each sign-in uses the MFA code of a new time step (a step is accepted once).
    let next_step = || s.idc.clock().advance(std::time::Duration::from_secs(30));
    next_step();
    let (code, _) = sign_in(&s, SAME, CALLBACK, 0).await.unwrap();
    let other_redirect = json!({ "clientId": SAME, "grantType": "authorization_code", "code": code,
        "codeVerifier": VERIFIER, "redirectUri": "http://127.0.0.1:9/oauth/callback" });
    let (_, shape, _) = token(&s, &other_redirect, Some(&key.proof(&htu(&s), now, "v3"))).await;
    assert_eq!(shape.as_deref(), Some("ValidationException"));
    // Replaying a redeemed code revokes what it issued (RFC 6749 §4.1.2).
    next_step();
    let (code, _) = sign_in(&s, SAME, CALLBACK, 0).await.unwrap();
    let (status, _, first) = exchange(&s, &key, &code, "v4").await;
    assert_eq!(status, 200, "{first}");
    let (_, _, err) = exchange(&s, &key, &code, "v5").await;
    assert_eq!(err["error"], "AUTHCODE_EXPIRED");
    assert!(caller(&s, &first).await.is_err(), "the first redemption's credentials are revoked");
    // Codes expire after five minutes.
    s.idc.clock().advance(std::time::Duration::from_secs(60));
    let (code, _) = sign_in(&s, SAME, CALLBACK, 0).await.unwrap();
    s.idc.clock().advance(std::time::Duration::from_secs(301));
    let (_, _, err) = exchange(&s, &key, &code, "v6").await;
    assert_eq!(err["error"], "AUTHCODE_EXPIRED");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_authorize_page_never_redirects_to_an_unchecked_address() {
    let s = demo().await;
    let mut b = Browser::new(&s.url);
    for (client, redirect) in [
        ("arn:aws:signin:::devtools/other", CALLBACK),
        (SAME, "https://evil.example/oauth/callback"),
        (SAME, "http://127.0.0.1.evil.example:80/oauth/callback"),
        (SAME, "http://127.0.0.1:4567/elsewhere"),
        (CROSS, "https://evil.example/v1/sessions/confirmation"),
    ] {
        let (status, head, _) = b.get(&authorize_path(client, redirect, "s")).await;
        assert_eq!(status, 400, "{client} {redirect}");
        assert!(try_location(&head).is_none(), "no redirect for {redirect}");
    }
    // A checked redirect URI gets the error (S256 is SSO OIDC's method, not Sign-In's).
    let path = authorize_path(SAME, CALLBACK, "s").replace("SHA-256", "S256");
    let (status, head, _) = b.get(&path).await;
    assert_eq!(status, 302);
    assert!(location(&head).contains("error=invalid_request"), "{head}");
    // A sealed request cannot be altered to point elsewhere.
    let (_, _, page) = b.get(&authorize_path(SAME, CALLBACK, "s")).await;
    let mut sealed = field(&page, "request");
    sealed.insert(3, 'x');
    let (status, head, _) = b.post("/v1/authorize", &[("request", &sealed), ("kind", "deny")]).await;
    assert_eq!(status, 400);
    assert!(try_location(&head).is_none());
    // Cancel goes back with access_denied.
    let (status, head, _) = b.post("/v1/authorize", &[("request", &field(&page, "request")), ("kind", "deny")]).await;
    assert_eq!(status, 302);
    assert!(location(&head).starts_with(&format!("{CALLBACK}?error=access_denied")), "{head}");
}

#[tokio::test(flavor = "multi_thread")]
async fn wrong_passwords_and_codes_are_explained_then_locked_out() {
    let s = demo().await;
    let mut b = Browser::new(&s.url);
    let (_, _, page) = b.get(&authorize_path(SAME, CALLBACK, "s")).await;
    let request = field(&page, "request");
    let try_with = |password: &'static str, code: String| {
        let request = request.clone();
        let url = s.url.clone();
        async move {
            let mut b = Browser::new(&url);
            b.post(
                "/v1/authorize",
                &[
                    ("request", &request),
                    ("kind", "iam"),
                    ("account", "123456789012"),
                    ("user", "bob"),
                    ("password", password),
                    ("mfa_code", &code),
                ],
            )
            .await
        }
    };
    let (status, _, body) = try_with(ALICE_PASSWORD, String::new()).await;
    assert_eq!(status, 401);
    assert!(body.contains("This user has an MFA device"), "{body}");
    let (status, _, body) = try_with("guess", String::new()).await;
    assert_eq!(status, 401);
    assert!(body.contains("The account, user name or password is not correct."), "{body}");
    // Unknown users get the same answer (no probing of names).
    let mut other = Browser::new(&s.url);
    let (_, _, body) = other
        .post(
            "/v1/authorize",
            &[
                ("request", &request),
                ("kind", "iam"),
                ("account", "123456789012"),
                ("user", "nobody"),
                ("password", "guess"),
            ],
        )
        .await;
    assert!(body.contains("The account, user name or password is not correct."));
    for _ in 0..5 {
        try_with("guess", String::new()).await;
    }
    let (status, _, body) = try_with(ALICE_PASSWORD, bob_code(&s.idc, 0)).await;
    assert_eq!(status, 429, "locked even with the right password: {body}");
    assert!(body.contains("Too many failed sign-ins"), "{body}");
}

#[tokio::test(flavor = "multi_thread")]
async fn remote_sign_in_shows_the_code_to_paste_and_root_users_sign_in() {
    let mut dir = tobira_idc::Directory::demo();
    dir.accounts[0].root_password = Some("root's own long password".into());
    let s = start(tobira_idc::Settings { directory: Some(dir), ..tobira_idc::Settings::default() }).await;
    let confirmation = format!("{}/v1/sessions/confirmation", s.url);
    let mut b = Browser::new(&s.url);
    let (status, _, page) = b.get(&authorize_path(CROSS, &confirmation, "remote-1")).await;
    assert_eq!(status, 200, "{page}");
    let (status, head, _) = b
        .post(
            "/v1/authorize",
            &[
                ("request", &field(&page, "request")),
                ("kind", "root"),
                ("email", "PROD@example.com"),
                ("password", "root's own long password"),
            ],
        )
        .await;
    assert_eq!(status, 302);
    let to = location(&head);
    let (_, _, shown) = b.get(to.trim_start_matches(&s.url)).await;
    let start = shown.find("id=\"verification-code\">").unwrap() + "id=\"verification-code\">".len();
    let pasted = &shown[start..start + shown[start..].find('<').unwrap()];
    let decoded = String::from_utf8(base64::engine::general_purpose::STANDARD.decode(pasted).unwrap()).unwrap();
    let q: std::collections::HashMap<String, String> = serde_urlencoded::from_str(&decoded).unwrap();
    assert_eq!(q["state"], "remote-1");
    let key = Key::new();
    let body = json!({ "clientId": CROSS, "grantType": "authorization_code", "code": q["code"],
                       "codeVerifier": VERIFIER, "redirectUri": confirmation });
    let (status, _, out) = token(&s, &body, Some(&key.proof(&htu(&s), s.idc.clock().now_s(), "r1"))).await;
    assert_eq!(status, 200, "{out}");
    assert_eq!(caller(&s, &out).await.unwrap(), "arn:aws:iam::111111111111:root");
    // The administrator ends the sign-in: refresh says the session expired, STS refuses.
    assert_eq!(s.idc.revoke_user_sessions("arn:aws:iam::111111111111:root").unwrap(), 1);
    let (_, _, err) = refresh_with(&s, &key, CROSS, out["refreshToken"].as_str().unwrap(), "r2").await;
    assert_eq!(err["error"], "TOKEN_EXPIRED");
    assert!(caller(&s, &out).await.is_err());
}

async fn refresh_with(s: &Server, key: &Key, client: &str, rt: &str, jti: &str) -> (u16, Option<String>, Value) {
    let body = json!({ "clientId": client, "refreshToken": rt, "grantType": "refresh_token" });
    token(s, &body, Some(&key.proof(&htu(s), s.idc.clock().now_s(), jti))).await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_sign_in_is_refreshed_for_twelve_hours_at_most() {
    let s = demo().await;
    let key = Key::new();
    let (code, _) = sign_in(&s, SAME, CALLBACK, 0).await.unwrap();
    let (_, _, mut out) = exchange(&s, &key, &code, "t0").await;
    for i in 0..47 {
        s.idc.clock().advance(std::time::Duration::from_secs(900));
        let (status, _, next) = refresh(&s, &key, out["refreshToken"].as_str().unwrap(), &format!("t{}", i + 1)).await;
        assert_eq!(status, 200, "refresh {i}: {next}");
        out = next;
    }
    // 12 h after the sign-in the credentials end exactly then, and the next refresh is refused.
    s.idc.clock().advance(std::time::Duration::from_secs(900));
    let (_, shape, err) = refresh(&s, &key, out["refreshToken"].as_str().unwrap(), "t-last").await;
    assert_eq!((shape.as_deref(), err["error"].as_str()), (Some("AccessDeniedException"), Some("TOKEN_EXPIRED")));
}
