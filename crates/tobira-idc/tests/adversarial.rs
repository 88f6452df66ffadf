//! Adversarial tests: what an attacker tries against tobira-idc over real
//! HTTP on 127.0.0.1 — re-bodied and half-signed SigV4 requests, MFA and
//! user-code brute force, refresh-token and authorization-code replay,
//! slow and greedy clients, open redirects, password exposure, invitation
//! takeover, and secrets echoed in error bodies. Each test starts its own
//! server; each assertion message names the attack it stops.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] fns

mod common;

use std::time::{Duration, Instant};

use aws_sdk_ssooidc::error::ProvideErrorMetadata;
use common::*;
use sha2::Digest as _;
use tobira_idc::{Directory, Settings};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const GET_CALLER_IDENTITY: &str = "Action=GetCallerIdentity&Version=2011-06-15";
const GET_SESSION_TOKEN: &str = "Action=GetSessionToken&Version=2011-06-15";
const ASSUME_AUDIT: &str = "Action=AssumeRole&RoleArn=arn:aws:iam::123456789012:role/Audit&RoleSessionName=x&ExternalId=audit-ext-1&Version=2011-06-15";
const OPS: &str = "arn:aws:iam::123456789012:role/Ops";
const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

fn sha256_hex(data: &[u8]) -> String {
    hex(&sha2::Sha256::digest(data))
}

fn code_of(xml: &str) -> String {
    xml_text(xml, "Code").unwrap_or_default()
}

fn message_of(xml: &str) -> String {
    xml_text(xml, "Message").unwrap_or_default()
}

/// A raw STS call signed with bob's long-term keys at the server's clock
/// (so it still signs correctly after `clock().advance(..)`).
async fn bob_sts(s: &Server, body: &str) -> (u16, String) {
    let (_, headers) = SigV4::bob(&s.idc).sign(&s.url, body);
    sts_raw(&s.url, &headers, body).await
}

fn get_session_token_with_mfa(code: &str) -> String {
    serde_urlencoded::to_string([
        ("Action", "GetSessionToken"),
        ("Version", "2011-06-15"),
        ("SerialNumber", BOB_MFA),
        ("TokenCode", code),
    ])
    .unwrap()
}

fn assume_ops_with_mfa(code: &str) -> String {
    serde_urlencoded::to_string([
        ("Action", "AssumeRole"),
        ("Version", "2011-06-15"),
        ("RoleArn", OPS),
        ("RoleSessionName", "bob"),
        ("SerialNumber", BOB_MFA),
        ("TokenCode", code),
    ])
    .unwrap()
}

/// `n` six-digit codes that are none of the codes valid around now.
fn wrong_codes(valid: &[String], n: usize) -> Vec<String> {
    (0u32..)
        .map(|i| format!("{:06}", (i * 7919 + 123_457) % 1_000_000))
        .filter(|c| !valid.contains(c))
        .take(n)
        .collect()
}

/// `n` well-formed user codes (the server's alphabet) that are not `avoid`.
fn unknown_user_codes(n: usize, avoid: &str) -> Vec<String> {
    const ALPHABET: &[u8] = b"BCDFGHJKLMNPQRSTVWXZ";
    (0usize..)
        .map(|i| {
            let tail: String = (0..4).map(|k| ALPHABET[(i / 20usize.pow(k)) % 20] as char).collect();
            format!("ZZXW-{tail}")
        })
        .filter(|c| c != avoid)
        .take(n)
        .collect()
}

fn contains_bytes(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

// ---------------------------------------------------------------------------
// 1. SigV4
// ---------------------------------------------------------------------------

// AWS SigV4 docs ("Create a canonical request"): the last line is the hex
// SHA-256 of the payload actually sent; `x-amz-content-sha256` must be that
// hash, so a signature never covers a different body.
#[tokio::test(flavor = "multi_thread")]
async fn sigv4_signature_cannot_be_reused_for_another_body() {
    let s = demo().await;
    let mut sig = SigV4::bob(&s.idc);
    sig.signed = vec!["content-type", "host", "x-amz-content-sha256", "x-amz-date"];
    sig.content_sha256 = Some(sha256_hex(GET_CALLER_IDENTITY.as_bytes()));
    let (_, headers) = sig.sign(&s.url, GET_CALLER_IDENTITY);

    // Control: signed correctly, with the header, the call is accepted.
    let (status, xml) = sts_raw(&s.url, &headers, GET_CALLER_IDENTITY).await;
    assert_eq!(
        status, 200,
        "control: a correctly signed GetCallerIdentity with x-amz-content-sha256 is accepted: {xml}"
    );

    for body in [GET_SESSION_TOKEN, ASSUME_AUDIT] {
        let (status, xml) = sts_raw(&s.url, &headers, body).await;
        assert!(
            !xml.contains("<Credentials>"),
            "re-bodied request: headers signed for GetCallerIdentity (x-amz-content-sha256 = its hash) were trusted \
             instead of hashing the body, and `{body}` issued credentials: {xml}"
        );
        assert_eq!(
            (status, code_of(&xml).as_str()),
            (403, "SignatureDoesNotMatch"),
            "re-bodied request `{body}` must fail the signature check: {xml}"
        );
    }

    // A payload hash that matches nothing, signed consistently with itself.
    let mut sig = SigV4::bob(&s.idc);
    sig.signed = vec!["content-type", "host", "x-amz-content-sha256", "x-amz-date"];
    sig.content_sha256 = Some(sha256_hex(b"a body that was never sent"));
    let (_, headers) = sig.sign(&s.url, GET_CALLER_IDENTITY);
    let (status, xml) = sts_raw(&s.url, &headers, GET_CALLER_IDENTITY).await;
    assert_eq!(
        (status, code_of(&xml).as_str()),
        (403, "SignatureDoesNotMatch"),
        "forged x-amz-content-sha256 (hash of no body sent) was accepted as the payload hash: {xml}"
    );
}

// AWS SigV4 docs ("Signed headers"): `host` (HTTP/1.1) must be among the
// SignedHeaders, or a signature could be replayed against another endpoint.
#[tokio::test(flavor = "multi_thread")]
async fn sigv4_without_host_in_signed_headers_is_incomplete() {
    let s = demo().await;
    let mut sig = SigV4::bob(&s.idc);
    sig.signed = vec!["content-type", "x-amz-date"];
    let (_, headers) = sig.sign(&s.url, GET_CALLER_IDENTITY);
    let (status, xml) = sts_raw(&s.url, &headers, GET_CALLER_IDENTITY).await;
    assert_eq!(
        (status, code_of(&xml).as_str()),
        (403, "IncompleteSignature"),
        "host-less signature: a request whose SignedHeaders omit `host` was not refused as IncompleteSignature: {xml}"
    );
    assert!(
        message_of(&xml).to_ascii_lowercase().contains("host"),
        "the IncompleteSignature message should say Host must be signed: {xml}"
    );
}

// AWS SigV4 docs ("Credential scope"): the scope's date must be the date of
// X-Amz-Date, or a signing key derived for one day would sign requests of any day.
#[tokio::test(flavor = "multi_thread")]
async fn sigv4_scope_date_must_be_the_request_date() {
    let s = demo().await;
    let mut sig = SigV4::bob(&s.idc);
    sig.scope_date = "20200101".into();
    let (_, headers) = sig.sign(&s.url, GET_CALLER_IDENTITY);
    let (status, xml) = sts_raw(&s.url, &headers, GET_CALLER_IDENTITY).await;
    assert_eq!(
        (status, code_of(&xml).as_str()),
        (403, "SignatureDoesNotMatch"),
        "stale signing key: a credential scope of 20200101 on a request dated today was accepted: {xml}"
    );
}

// ---------------------------------------------------------------------------
// 2. TOTP brute force
// ---------------------------------------------------------------------------

// RFC 6238 §5.2 (throttle TOTP guesses) and AWS IAM, which locks an MFA
// device after repeated wrong codes: 5 wrong codes lock bob's device for 15
// minutes, for GetSessionToken and AssumeRole alike.
#[tokio::test(flavor = "multi_thread")]
async fn sts_mfa_device_locks_after_five_wrong_codes() {
    let s = demo().await;
    let valid: Vec<String> = (-2..=2).map(|o| bob_code(&s.idc, o)).collect();
    let mut evaluated = 0;
    let mut first_locked = None;
    for (i, code) in wrong_codes(&valid, 100).iter().enumerate() {
        let (status, xml) = bob_sts(&s, &get_session_token_with_mfa(code)).await;
        assert!(!xml.contains("<Credentials>"), "guess {} ({code}) issued credentials: {xml}", i + 1);
        assert_eq!((status, code_of(&xml).as_str()), (403, "AccessDenied"), "guess {}: {xml}", i + 1);
        if message_of(&xml).contains("locked") {
            first_locked.get_or_insert(i + 1);
        } else {
            evaluated += 1;
        }
    }
    assert_eq!(
        (first_locked, evaluated),
        (Some(6), 5),
        "TOTP brute force: 100 wrong codes in a row, {evaluated} of them checked against the secret; the device \
         must lock after 5 (first `locked` answer: {first_locked:?})"
    );

    // Locked: even the right code is refused, on both operations.
    let (status, xml) = bob_sts(&s, &get_session_token_with_mfa(&bob_code(&s.idc, 0))).await;
    assert!(
        status == 403 && code_of(&xml) == "AccessDenied" && message_of(&xml).contains("locked"),
        "TOTP brute force: the correct code was accepted while the device is locked: {xml}"
    );
    let (status, xml) = bob_sts(&s, &assume_ops_with_mfa(&bob_code(&s.idc, 1))).await;
    assert!(
        status == 403 && code_of(&xml) == "AccessDenied" && message_of(&xml).contains("locked"),
        "TOTP brute force: AssumeRole of Ops with the locked device's code was allowed: {xml}"
    );

    // 16 minutes later the lock is over.
    s.idc.clock().advance(Duration::from_secs(16 * 60));
    let (status, xml) = bob_sts(&s, &get_session_token_with_mfa(&bob_code(&s.idc, 0))).await;
    assert_eq!(status, 200, "after the 15-minute lock a fresh correct code works again: {xml}");
    assert!(xml.contains("<Credentials>"), "{xml}");
}

// RFC 6238 §5.2 / OWASP authentication: 5 failed sign-ins (right password,
// wrong MFA code) within 5 minutes block the 6th, even with the right code.
#[tokio::test(flavor = "multi_thread")]
async fn sign_in_mfa_guessing_is_rate_limited_per_user() {
    let s = demo().await;
    let valid: Vec<String> = (-2..=2).map(|o| alice_code(&s, o)).collect();
    for (attempt, code) in wrong_codes(&valid, 5).iter().enumerate() {
        // A fresh browser each time: the limit is the user's, not the browser's.
        let mut attacker = Browser::new(&s.url);
        let (_, _, page) = attacker.get("/signin?next=/device").await;
        let csrf = field(&page, "csrf");
        let (status, _, page) = attacker
            .post(
                "/signin",
                &[
                    ("csrf", &csrf),
                    ("next", "/device"),
                    ("username", "alice"),
                    ("password", ALICE_PASSWORD),
                    ("mfa_code", code),
                ],
            )
            .await;
        assert_eq!(status, 200, "wrong MFA code {}: {page}", attempt + 1);
        assert!(!attacker.cookies.contains_key("idc_session"));
    }
    let mut b = Browser::new(&s.url);
    let (status, _, page) = sign_in(&mut b, &s, "/signin?next=/device").await;
    assert_eq!(
        status, 429,
        "TOTP guessing at the sign-in page: after 5 wrong MFA codes the 6th sign-in (even a correct one) must be \
         throttled: {page}"
    );
    assert!(page.contains("Too many failed sign-ins"), "{page}");
    assert!(!b.cookies.contains_key("idc_session"));
}

// ---------------------------------------------------------------------------
// 3. Device user codes
// ---------------------------------------------------------------------------

/// A registration and a pending device authorization: (client id, secret,
/// device code, user code).
async fn pending_device(s: &Server) -> (String, String, String, String) {
    let c = oidc(&s.url);
    let reg =
        c.register_client().client_name("victim-cli").client_type("public").scopes("sso:account:access").send().await;
    let reg = reg.unwrap();
    let (id, secret) = (reg.client_id().unwrap().to_string(), reg.client_secret().unwrap().to_string());
    let auth = c.start_device_authorization().client_id(&id).client_secret(&secret).start_url(START_URL).send().await;
    let auth = auth.unwrap();
    (id, secret, auth.device_code().unwrap().to_string(), auth.user_code().unwrap().to_string())
}

// RFC 8628 §5.1 (user code brute forcing): the verification page rate-limits
// guesses; after 5 wrong codes a signed-in user gets 429, even for a real code.
#[tokio::test(flavor = "multi_thread")]
async fn device_user_code_guessing_is_limited_per_user() {
    let s = demo().await;
    let mut b = Browser::new(&s.url);
    let (status, _, page) = sign_in(&mut b, &s, "/signin?next=/device").await;
    assert_eq!(status, 303, "{page}");
    let csrf = device_csrf(&mut b).await;
    let (_, _, _, real) = pending_device(&s).await;

    for (i, code) in unknown_user_codes(5, &real).iter().enumerate() {
        let (status, _, page) = b.post("/device/confirm", &[("csrf", &csrf), ("user_code", code)]).await;
        assert_eq!(status, 400, "wrong user code {} answers Code not found: {page}", i + 1);
        assert!(page.contains("Code not found"), "{page}");
    }
    let (status, _, page) = b.post("/device/confirm", &[("csrf", &csrf), ("user_code", &real)]).await;
    assert_eq!(
        status, 429,
        "user-code brute force: after 5 wrong codes the 6th attempt (here a real pending code) must be refused: {page}"
    );
    assert!(page.contains("Too many"), "{page}");
    assert!(!page.contains("to access your data?"), "no consent page while limited: {page}");
    let (status, _, page) = b.post("/device/confirm", &[("csrf", &csrf), ("user_code", "ZZXW-QQQQ")]).await;
    assert_eq!(status, 429, "still limited: {page}");
}

// RFC 8628 §5.1: the approve endpoint is a guessing oracle too — wrong codes
// posted to /device/decision count against the same limit, and a limited
// user cannot approve even a real code there.
#[tokio::test(flavor = "multi_thread")]
async fn device_decision_wrong_codes_count_against_the_same_limit() {
    let s = demo().await;
    let mut b = Browser::new(&s.url);
    let (status, _, page) = sign_in(&mut b, &s, "/signin?next=/device").await;
    assert_eq!(status, 303, "{page}");
    let csrf = device_csrf(&mut b).await;
    let (id, secret, device_code, real) = pending_device(&s).await;

    let wrong = unknown_user_codes(5, &real);
    for code in &wrong[..3] {
        let (status, _, page) = b.post("/device/confirm", &[("csrf", &csrf), ("user_code", code)]).await;
        assert_eq!(status, 400, "{page}");
    }
    for code in &wrong[3..] {
        let (status, _, page) =
            b.post("/device/decision", &[("csrf", &csrf), ("user_code", code), ("decision", "allow")]).await;
        assert_ne!(status, 200, "approving an unknown code: {page}");
    }
    let (status, _, page) =
        b.post("/device/decision", &[("csrf", &csrf), ("user_code", &real), ("decision", "allow")]).await;
    assert_eq!(
        status, 429,
        "user-code brute force through /device/decision: 3 wrong confirms + 2 wrong decisions must reach the limit, \
         and the 6th attempt (approving a real code) must be refused: {page}"
    );
    let (status, _, page) = b.post("/device/confirm", &[("csrf", &csrf), ("user_code", &real)]).await;
    assert_eq!(status, 429, "the confirm path is limited too: {page}");
    assert!(page.contains("Too many"), "{page}");
    let e = oidc(&s.url)
        .create_token()
        .client_id(&id)
        .client_secret(&secret)
        .grant_type(DEVICE_GRANT)
        .device_code(&device_code)
        .send()
        .await
        .unwrap_err();
    assert!(
        e.into_service_error().is_authorization_pending_exception(),
        "the real request must still be pending (not approved by a rate-limited browser)"
    );
}

fn many_users() -> Directory {
    let mut toml = format!(
        "[instance]\nstart_url = \"{START_URL}\"\nregion = \"us-east-1\"\nmfa_required = false\n\n\
         [[groups]]\nname = \"engineers\"\n"
    );
    for i in 1..=6 {
        toml.push_str(&format!(
            "\n[[users]]\nname = \"u{i}\"\nemail = \"u{i}@example.com\"\npassword = \"password of u{i}\"\ngroups = [\"engineers\"]\n"
        ));
    }
    Directory::from_toml(&toml).expect("a valid directory")
}

// RFC 8628 §5.1: a global limit too — an attacker with many accounts must not
// multiply the guesses: 20 wrong codes across all users in a minute and a
// fresh user's attempt is refused.
#[tokio::test(flavor = "multi_thread")]
async fn device_user_code_guessing_is_limited_across_users() {
    let s = start(Settings { directory: Some(many_users()), ..Settings::default() }).await;
    let (_, _, _, real) = pending_device(&s).await;
    let mut browsers = Vec::new();
    for i in 1..=5 {
        let mut b = Browser::new(&s.url);
        let status = sign_in_as(&mut b, &format!("u{i}"), &format!("password of u{i}")).await;
        assert_eq!(status, 303, "u{i} signs in");
        let csrf = device_csrf(&mut b).await;
        browsers.push((b, csrf));
    }
    let wrong = unknown_user_codes(20, &real);
    for (n, code) in wrong.iter().enumerate() {
        // u1..u4, five each: no one passes the per-user limit.
        let (b, csrf) = &mut browsers[n / 5];
        let (status, _, page) = b.post("/device/confirm", &[("csrf", csrf.as_str()), ("user_code", code)]).await;
        assert_eq!(status, 400, "wrong code {} (user u{}): {page}", n + 1, n / 5 + 1);
    }
    let (b, csrf) = &mut browsers[4];
    let (status, _, page) = b.post("/device/confirm", &[("csrf", csrf.as_str()), ("user_code", &real)]).await;
    assert_eq!(
        status, 429,
        "distributed user-code brute force: after 20 wrong codes from 4 users within a minute, a 5th user's first \
         attempt must be refused: {page}"
    );
    assert!(page.contains("Too many"), "{page}");
}

// ---------------------------------------------------------------------------
// 4. Token replay
// ---------------------------------------------------------------------------

// RFC 9700 §4.14.2 (refresh token rotation): presenting a used refresh token
// means it was stolen; the server revokes the whole grant (the new refresh
// and access tokens), but not the user's other sign-ins.
#[tokio::test(flavor = "multi_thread")]
async fn refresh_token_reuse_revokes_the_grant() {
    let s = demo().await;
    let (id, secret, _, refresh0) = device_login_tokens(&s, "alice").await;
    let other_sign_in = device_login(&s, "alice").await;
    let c = oidc(&s.url);
    let p = portal(&s.url);
    let refresh = |token: String| {
        c.create_token().client_id(&id).client_secret(&secret).grant_type("refresh_token").refresh_token(token).send()
    };
    let r1 = refresh(refresh0.clone()).await.expect("the first refresh works");
    let (access1, refresh1) = (r1.access_token().unwrap().to_string(), r1.refresh_token().unwrap().to_string());
    p.list_accounts().access_token(&access1).send().await.expect("the new access token works before the replay");

    let e = refresh(refresh0).await.unwrap_err();
    assert_eq!(e.code(), Some("InvalidGrantException"), "a used refresh token is refused");

    let reuse = refresh(refresh1).await.err().and_then(|e| e.code().map(str::to_string));
    assert_eq!(
        reuse.as_deref(),
        Some("InvalidGrantException"),
        "refresh-token reuse detection: after the old refresh token was replayed, the rotated one must be revoked too \
         (else the thief and the victim keep refreshing)"
    );
    let e = p.list_accounts().access_token(&access1).send().await.err();
    assert_eq!(
        (e.as_ref().and_then(|e| e.raw_response()).map(|r| r.status().as_u16()), e.as_ref().and_then(|e| e.code())),
        (Some(401), Some("UnauthorizedException")),
        "refresh-token reuse detection: the access token of the compromised grant must stop working"
    );
    p.list_accounts().access_token(&other_sign_in).send().await.expect("alice's other sign-in is not affected");
}

const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk-aaaaaaaaaaaaaaaaaaaaa";
const REDIRECT: &str = "http://127.0.0.1:53682/oauth/callback";

fn challenge() -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(VERIFIER.as_bytes()))
}

fn authorize_path(client_id: &str, state: &str) -> String {
    format!(
        "/authorize?response_type=code&client_id={client_id}&redirect_uri={}&state={state}&code_challenge_method=S256&scopes=sso%3Aaccount%3Aaccess&code_challenge={}",
        REDIRECT.replace(':', "%3A").replace('/', "%2F"),
        challenge()
    )
}

fn query_param(url: &str, name: &str) -> Option<String> {
    url.split_once('?')?.1.split('&').find_map(|kv| kv.strip_prefix(&format!("{name}=")).map(str::to_string))
}

// RFC 6749 §4.1.2 (and §10.5): an authorization code is single-use; if it is
// used twice, the server revokes the tokens already issued for it.
#[tokio::test(flavor = "multi_thread")]
async fn authorization_code_replay_revokes_the_tokens_it_issued() {
    let s = start(Settings { auto_approve: Some("alice".into()), ..Settings::default() }).await;
    let c = oidc(&s.url);
    let reg = c
        .register_client()
        .client_name("pkce-cli")
        .client_type("public")
        .grant_types("authorization_code")
        .grant_types("refresh_token")
        .redirect_uris("http://127.0.0.1/oauth/callback")
        .issuer_url(START_URL)
        .scopes("sso:account:access")
        .send()
        .await
        .unwrap();
    let (id, secret) = (reg.client_id().unwrap(), reg.client_secret().unwrap());
    let (status, to, _) = get(&s.url, &authorize_path(id, "st-1")).await;
    assert_eq!(status, 302);
    let code = query_param(&to.unwrap(), "code").unwrap();
    let exchange = || {
        c.create_token()
            .client_id(id)
            .client_secret(secret)
            .grant_type("authorization_code")
            .code(&code)
            .code_verifier(VERIFIER)
            .redirect_uri(REDIRECT)
            .send()
    };
    let tok = exchange().await.expect("the first exchange works");
    let e = exchange().await.unwrap_err();
    assert_eq!(e.code(), Some("InvalidGrantException"), "the code is single-use");

    let e = portal(&s.url).list_accounts().access_token(tok.access_token().unwrap()).send().await.err();
    assert_eq!(
        (e.as_ref().and_then(|e| e.raw_response()).map(|r| r.status().as_u16()), e.as_ref().and_then(|e| e.code())),
        (Some(401), Some("UnauthorizedException")),
        "authorization-code replay: the access token issued for a code that was then replayed must be revoked"
    );
    let r = c
        .create_token()
        .client_id(id)
        .client_secret(secret)
        .grant_type("refresh_token")
        .refresh_token(tok.refresh_token().unwrap())
        .send()
        .await;
    assert_eq!(
        r.as_ref().err().and_then(|e| e.code()),
        Some("InvalidGrantException"),
        "authorization-code replay: the refresh token issued for the replayed code must be revoked"
    );
}

// ---------------------------------------------------------------------------
// 5. Slow and greedy clients
// ---------------------------------------------------------------------------

fn authority(s: &Server) -> String {
    s.url.trim_start_matches("http://").to_string()
}

/// Reads until the peer closes (EOF or error) or `start + limit` passes:
/// what was received, and whether the connection was closed in time.
async fn read_until_closed<R: AsyncRead + Unpin>(r: &mut R, start: Instant, limit: Duration) -> (Vec<u8>, bool) {
    let deadline = tokio::time::Instant::from_std(start + limit);
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout_at(deadline, r.read(&mut buf)).await {
            Err(_) => return (got, false),
            Ok(Ok(0) | Err(_)) => return (got, true),
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
        }
    }
}

fn status_line(got: &[u8]) -> Option<u16> {
    let text = String::from_utf8_lossy(got);
    text.strip_prefix("HTTP/1.1 ")?.get(..3)?.parse().ok()
}

// Slowloris (CWE-400; hyper's header_read_timeout): a connection that has not
// sent a whole request head within the deadline is closed.
#[tokio::test(flavor = "multi_thread")]
async fn slowloris_partial_head_is_closed() {
    let s = start(Settings { header_read_timeout: Duration::from_secs(1), ..Settings::default() }).await;
    let mut c = TcpStream::connect(authority(&s)).await.unwrap();
    let t0 = Instant::now();
    c.write_all(b"GET /signin HTTP/1.1\r\nHost: x\r\n").await.unwrap();
    let (_, closed) = read_until_closed(&mut c, t0, Duration::from_secs(3)).await;
    assert!(closed, "slowloris: a connection that sent half a request head and went silent is still open after 3 s");
}

// Slowloris, trickle variant (CWE-400): the deadline covers the whole head,
// so one byte every 200 ms does not keep the connection alive.
#[tokio::test(flavor = "multi_thread")]
async fn slowloris_trickled_head_is_closed() {
    let s = start(Settings { header_read_timeout: Duration::from_secs(1), ..Settings::default() }).await;
    let (mut r, mut w) = TcpStream::connect(authority(&s)).await.unwrap().into_split();
    let t0 = Instant::now();
    let writer = tokio::spawn(async move {
        let head = b"GET /signin HTTP/1.1\r\nHost: x\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n";
        for byte in head {
            if w.write_all(&[*byte]).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    });
    let (_, closed) = read_until_closed(&mut r, t0, Duration::from_millis(3500)).await;
    writer.abort();
    assert!(
        closed,
        "slowloris (trickle): a client sending one header byte every 200 ms kept its connection for 3.5 s; the \
         header deadline must cover the whole head, not reset on each byte"
    );
}

// CWE-400 (idle keep-alive connections pin server resources): after a
// response, a connection that sends no next request is closed.
#[tokio::test(flavor = "multi_thread")]
async fn idle_keep_alive_connection_is_closed() {
    let s = start(Settings { header_read_timeout: Duration::from_secs(1), ..Settings::default() }).await;
    let mut c = TcpStream::connect(authority(&s)).await.unwrap();
    let t0 = Instant::now();
    c.write_all(b"GET /signin HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
    let (got, closed) = read_until_closed(&mut c, t0, Duration::from_secs(3)).await;
    assert_eq!(status_line(&got), Some(200), "the request is answered: {}", String::from_utf8_lossy(&got));
    assert!(closed, "idle keep-alive: a connection silent after its response is still open after 3 s");
}

// Slow POST / R.U.D.Y. (CWE-400; RFC 9110 §15.5.9 408 Request Timeout): a
// body that does not arrive in time ends the request.
#[tokio::test(flavor = "multi_thread")]
async fn slow_request_body_times_out() {
    let s = start(Settings { request_timeout: Duration::from_secs(1), ..Settings::default() }).await;
    let mut c = TcpStream::connect(authority(&s)).await.unwrap();
    let t0 = Instant::now();
    c.write_all(
        b"POST /token HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"a\":\"bcd\"",
    )
    .await
    .unwrap();
    let (got, closed) = read_until_closed(&mut c, t0, Duration::from_secs(3)).await;
    let status = status_line(&got);
    assert!(
        status == Some(408) || (closed && got.is_empty()),
        "slow body: 10 of 100 announced body bytes, then silence: after 3 s no 408 and no close (closed: {closed}, \
         received: {:?})",
        String::from_utf8_lossy(&got)
    );
}

// CWE-770 (allocation without limits): at most max_connections are served at
// once; the rest wait in the backlog and are served when slots free up.
#[tokio::test(flavor = "multi_thread")]
async fn connection_cap_holds_extra_clients_until_slots_free() {
    let s = start(Settings { max_connections: 8, header_read_timeout: Duration::from_secs(10), ..Settings::default() })
        .await;
    let mut idle = Vec::new();
    for _ in 0..8 {
        idle.push(TcpStream::connect(authority(&s)).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut ninth = TcpStream::connect(authority(&s)).await.unwrap();
    ninth.write_all(b"GET /signin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await.unwrap();
    let mut buf = [0u8; 64];
    let early = tokio::time::timeout(Duration::from_millis(500), ninth.read(&mut buf)).await;
    assert!(
        early.is_err(),
        "connection exhaustion: with max_connections = 8 and 8 idle connections held, a 9th was served at once \
         ({:?}); the cap is not enforced",
        early.map(|r| r.map(|n| String::from_utf8_lossy(&buf[..n]).into_owned()))
    );
    drop(idle);
    let (got, _) = read_until_closed(&mut ninth, Instant::now(), Duration::from_secs(3)).await;
    assert_eq!(
        status_line(&got),
        Some(200),
        "once the idle connections are gone the waiting client is served within 3 s: {:?}",
        String::from_utf8_lossy(&got)
    );
}

// CWE-400 / CWE-770: a flood of connections opened and dropped does not leave
// the server unable to serve (slots are released when clients hang up).
#[tokio::test(flavor = "multi_thread")]
async fn connection_flood_does_not_wedge_the_server() {
    let s = start(Settings { max_connections: 8, header_read_timeout: Duration::from_secs(10), ..Settings::default() })
        .await;
    let mut flood = Vec::with_capacity(300);
    for _ in 0..300 {
        flood.push(TcpStream::connect(authority(&s)).await.unwrap());
    }
    drop(flood);
    let answer = tokio::time::timeout(Duration::from_secs(5), get(&s.url, "/signin")).await;
    assert_eq!(
        answer.map(|(status, _, _)| status).ok(),
        Some(200),
        "connection flood: after 300 connections were opened and closed, a normal request is not answered within 5 s"
    );
}

// ---------------------------------------------------------------------------
// 6. Open redirect after sign-in
// ---------------------------------------------------------------------------

// RFC 6749 §10.15 (open redirectors) / OWASP Unvalidated Redirects: `next` is
// kept only when it is one of the server's own pages; anything else → /device.
#[tokio::test(flavor = "multi_thread")]
async fn sign_in_next_keeps_only_local_pages() {
    let s = demo().await;
    let hostile = [
        "//evil.example/",
        "/\\evil.example",
        "/\t/evil.example",
        "/device\r\nSet-Cookie: a=b",
        "https://evil.example/",
        "javascript:alert(1)",
        "/nowhere-on-this-server",
        "/device\0",
        "/%2F%2Fevil.example",
    ];
    let mut kept = Vec::new();
    for x in hostile {
        let query = serde_urlencoded::to_string([("next", x)]).unwrap();
        let (status, _, page) = get(&s.url, &format!("/signin?{query}")).await;
        let next = try_field(&page, "next");
        if next.as_deref() != Some("/device") {
            kept.push(format!("{x:?} → status {status}, next {next:?}"));
        }
    }
    assert!(kept.is_empty(), "open redirect via `next`: these were not replaced by /device: {kept:#?}");
    for x in ["/device?user_code=BCDF-GHJK", "/start", "/authorize?client_id=x"] {
        let query = serde_urlencoded::to_string([("next", x)]).unwrap();
        let (_, _, page) = get(&s.url, &format!("/signin?{query}")).await;
        assert_eq!(try_field(&page, "next").as_deref(), Some(x), "a legitimate next is kept");
    }
}

// RFC 6749 §10.15 / OWASP: the redirect after a successful sign-in is checked
// too (a `/<TAB>/host` path is read by browsers as `//host`).
#[tokio::test(flavor = "multi_thread")]
async fn sign_in_redirect_ignores_a_hostile_next() {
    let s = demo().await;
    let mut b = Browser::new(&s.url);
    let (_, _, page) = b.get("/signin?next=/device").await;
    let csrf = field(&page, "csrf");
    let code = alice_code(&s, 0);
    let (status, head, _) = b
        .post(
            "/signin",
            &[
                ("csrf", &csrf),
                ("next", "/\t/evil.example"),
                ("username", "alice"),
                ("password", ALICE_PASSWORD),
                ("mfa_code", &code),
            ],
        )
        .await;
    assert_eq!(status, 303, "{head}");
    assert_eq!(
        try_location(&head).as_deref(),
        Some("/device"),
        "open redirect after sign-in: `next=/<TAB>/evil.example` was followed: {head:?}"
    );
}

// ---------------------------------------------------------------------------
// 7. Passwords and invitations
// ---------------------------------------------------------------------------

fn bearer(s: &Server) -> Vec<(String, String)> {
    vec![
        ("Authorization".to_string(), format!("Bearer {}", s.idc.admin_token())),
        ("Content-Type".to_string(), "application/json".to_string()),
    ]
}

// OWASP Password Storage / CWE-256 (plaintext storage) and CWE-200: the admin
// API shows neither passwords nor their hashes.
#[tokio::test(flavor = "multi_thread")]
async fn admin_api_directory_shows_no_passwords() {
    let s = demo().await;
    let (status, _, body) = http(&s.url, "GET", "/admin/api/directory", &bearer(&s), "").await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("alice"), "it is the directory: {body}");
    assert!(!body.contains(ALICE_PASSWORD), "password disclosure: the admin API serves alice's plaintext password");
    assert!(!body.contains("$argon2"), "password-hash disclosure: the admin API serves password hashes");
}

// OWASP Password Storage / CWE-200: the admin page shows neither passwords
// nor their hashes.
#[tokio::test(flavor = "multi_thread")]
async fn admin_page_shows_no_passwords() {
    let s = demo().await;
    let mut b = Browser::new(&s.url);
    let (_, _, page) = b.get("/admin").await;
    let csrf = field(&page, "csrf");
    let (status, _, _) = b.post("/admin/login", &[("csrf", &csrf), ("token", s.idc.admin_token())]).await;
    assert_eq!(status, 303);
    let (_, _, admin) = b.get("/admin").await;
    assert!(admin.contains("Alice Example"), "the admin page: {admin}");
    assert!(!admin.contains(ALICE_PASSWORD), "password disclosure: the admin page shows alice's plaintext password");
    assert!(!admin.contains("$argon2"), "password-hash disclosure: the admin page shows password hashes");
}

// OWASP Password Storage / CWE-256: no plaintext password in the database
// file (nor its write-ahead log) after a sign-in.
#[tokio::test(flavor = "multi_thread")]
async fn database_file_holds_no_plaintext_password() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("idc.db");
    let s = start(Settings { db: Some(db.clone()), ..Settings::default() }).await;
    let mut b = Browser::new(&s.url);
    let (status, _, page) = sign_in(&mut b, &s, "/signin?next=/device").await;
    assert_eq!(status, 303, "{page}");
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name == "idc.db" || name == "idc.db-wal" {
            let bytes = std::fs::read(&path).unwrap();
            if contains_bytes(&bytes, ALICE_PASSWORD.as_bytes()) {
                files.push(name);
            }
        }
    }
    assert!(files.is_empty(), "plaintext password storage: alice's password is in {files:?}");
}

// OWASP Authentication (account claiming) / CWE-287: an invited user without a
// password cannot be claimed by whoever types the user name first.
#[tokio::test(flavor = "multi_thread")]
async fn invited_user_cannot_be_claimed_by_name() {
    let s = demo().await;
    let mut attacker = Browser::new(&s.url);
    let (_, _, page) = attacker.get("/signin?next=/device").await;
    let csrf = field(&page, "csrf");
    let (status, _, page) = attacker
        .post(
            "/signin",
            &[
                ("csrf", &csrf),
                ("next", "/device"),
                ("username", "carol"),
                ("new_password", "attacker's password"),
                ("confirm_password", "attacker's password"),
            ],
        )
        .await;
    assert!(
        status != 303 && !page.contains("Set up an MFA device"),
        "invitation takeover: posting carol's name with a new password claimed her account (status {status}): {page}"
    );
    let (_, _, device) = attacker.get("/device").await;
    assert!(device.contains("action=\"/signin\""), "the attacker is not signed in: {device}");

    // The password the attacker chose was not saved either.
    let mut again = Browser::new(&s.url);
    let (_, _, page) = again.get("/signin?next=/device").await;
    let csrf = field(&page, "csrf");
    let (status, _, page) = again
        .post(
            "/signin",
            &[("csrf", &csrf), ("next", "/device"), ("username", "carol"), ("password", "attacker's password")],
        )
        .await;
    assert!(
        status != 303 && !page.contains("Set up an MFA device"),
        "invitation takeover: the attacker's chosen password signs in as carol (status {status}): {page}"
    );
}

// OWASP Forgot Password / invitation links (single-use, expiring, unguessable
// tokens): only the administrator's one-time link lets carol set a password.
#[tokio::test(flavor = "multi_thread")]
async fn invitation_link_is_single_use_and_unforgeable() {
    let s = demo().await;
    let (status, _, body) = http(&s.url, "POST", "/admin/api/invitations", &bearer(&s), r#"{"user":"carol"}"#).await;
    assert_eq!(status, 200, "the administrator creates an invitation link: {body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["user"], "carol", "{body}");
    let url = v["url"].as_str().unwrap_or_default().to_string();
    assert!(url.starts_with(&format!("{}/invite/", s.url)), "{body}");
    assert!(v["expires_at"].as_i64().unwrap_or(0) > s.idc.clock().now_s(), "{body}");

    let (status, _, body) = http(&s.url, "POST", "/admin/api/invitations", &bearer(&s), r#"{"user":"nobody"}"#).await;
    assert_eq!(status, 404, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert!(v.get("error").is_some(), "{body}");

    let path = url.trim_start_matches(&s.url).to_string();
    let mut tampered = path.clone();
    let last = tampered.pop().unwrap();
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    let (status, _, page) = get(&s.url, &tampered).await;
    assert_eq!(status, 410, "forged invitation token: a tampered link was not refused: {page}");
    assert!(page.contains("already used or has expired"), "{page}");

    let mut b = Browser::new(&s.url);
    let (status, _, form) = b.get(&path).await;
    assert_eq!(status, 200, "{form}");
    assert!(form.contains("action=\"/invite\""), "{form}");
    for name in ["new_password", "confirm_password"] {
        assert!(form.contains(&format!("name=\"{name}\"")), "no {name} field: {form}");
    }
    let (csrf, token) = (field(&form, "csrf"), field(&form, "token"));
    let fields = [
        ("csrf", csrf.as_str()),
        ("token", token.as_str()),
        ("new_password", "carol's new password"),
        ("confirm_password", "carol's new password"),
    ];
    let (status, head, page) = b.post("/invite", &fields).await;
    let enrolment = match status {
        303 => {
            let to = location(&head);
            b.get(&to).await.2
        }
        _ => page,
    };
    assert!(
        matches!(status, 200 | 303) && enrolment.contains("Set up an MFA device"),
        "accepting the invitation leads to MFA enrolment (status {status}): {enrolment}"
    );

    let (status, _, page) = get(&s.url, &path).await;
    assert_eq!(status, 410, "invitation replay: a used link still shows the form: {page}");
    assert!(page.contains("already used or has expired"), "{page}");
    let mut replay = Browser::new(&s.url);
    let (_, _, signin) = replay.get("/signin?next=/device").await;
    let csrf = field(&signin, "csrf");
    let (status, _, page) = replay
        .post(
            "/invite",
            &[
                ("csrf", &csrf),
                ("token", &token),
                ("new_password", "attacker's password"),
                ("confirm_password", "attacker's password"),
            ],
        )
        .await;
    assert_eq!(status, 410, "invitation replay: a used link set a password again: {page}");
    assert!(page.contains("already used or has expired"), "{page}");
}

// ---------------------------------------------------------------------------
// 8. Secrets in error bodies
// ---------------------------------------------------------------------------

// AWS SigV4 docs / CWE-209 (information exposure through error messages): a
// SignatureDoesNotMatch answer names neither the secret nor the signature
// the server expected (which would let a caller forge requests).
#[tokio::test(flavor = "multi_thread")]
async fn sts_signature_errors_leak_no_secrets() {
    let s = demo().await;
    let right = SigV4::bob(&s.idc);
    let (expected, _) = right.sign(&s.url, GET_CALLER_IDENTITY);
    let guess = "AttackerGuess/0123456789abcdefghijklmnopqr";
    let wrong = SigV4 { secret: guess, ..right };
    let (_, headers) = wrong.sign(&s.url, GET_CALLER_IDENTITY);
    let (status, xml) = sts_raw(&s.url, &headers, GET_CALLER_IDENTITY).await;
    assert_eq!((status, code_of(&xml).as_str()), (403, "SignatureDoesNotMatch"), "{xml}");
    assert!(!xml.contains(BOB_SECRET), "secret disclosure: the error body contains bob's secret key: {xml}");
    assert!(!xml.contains(guess), "the error body echoes the secret the caller used: {xml}");
    assert!(!xml.contains(&expected), "signature oracle: the error body contains the expected signature: {xml}");
}

// RFC 6749 §5.2 (invalid_client) / CWE-209: a wrong client secret is refused
// without echoing it (or the real one).
#[tokio::test(flavor = "multi_thread")]
async fn oidc_client_errors_leak_no_secrets() {
    let s = demo().await;
    let (id, secret, device_code, _) = pending_device(&s).await;
    let guess = "attacker-guessed-client-secret-0123456789";
    let body = serde_json::json!({
        "clientId": id,
        "clientSecret": guess,
        "grantType": DEVICE_GRANT,
        "deviceCode": device_code,
    })
    .to_string();
    let headers = [("Content-Type".to_string(), "application/json".to_string())];
    let (status, head, body) = http(&s.url, "POST", "/token", &headers, &body).await;
    assert_eq!(status, 401, "{head}{body}");
    assert!(head.contains("InvalidClientException") || body.contains("InvalidClientException"), "{head}{body}");
    assert!(!body.contains(guess), "the InvalidClientException body echoes the client secret sent: {body}");
    assert!(!body.contains(&secret), "secret disclosure: the error body contains the real client secret: {body}");
}
