//! The SSO portal and STS driven by the official AWS SDK for Rust.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] fns

mod common;

use std::time::Duration;

use aws_sdk_sts::error::ProvideErrorMetadata;
use common::*;
use tobira_idc::{Faults, Settings};

#[tokio::test(flavor = "multi_thread")]
async fn accounts_roles_with_pagination_and_role_credentials() {
    let s = demo().await;
    let token = device_login(&s, "alice").await;
    let p = portal(&s.url);
    let first = p.list_accounts().access_token(&token).max_results(1).send().await.unwrap();
    assert_eq!(first.account_list().len(), 1);
    assert_eq!(first.account_list()[0].account_id(), Some("111111111111"));
    assert_eq!(first.account_list()[0].account_name(), Some("Production"));
    let next = first.next_token().expect("a second page");
    let second = p.list_accounts().access_token(&token).max_results(1).next_token(next).send().await.unwrap();
    assert_eq!(second.account_list()[0].account_id(), Some("222222222222"));
    assert_eq!(second.next_token(), None);

    let roles = p.list_account_roles().access_token(&token).account_id("222222222222").send().await.unwrap();
    let names: Vec<_> = roles.role_list().iter().filter_map(|r| r.role_name()).collect();
    assert_eq!(names, ["FullAccess", "ReadOnly"]);

    let before = s.idc.clock().now_s();
    let creds = p
        .get_role_credentials()
        .access_token(&token)
        .account_id("222222222222")
        .role_name("FullAccess")
        .send()
        .await
        .unwrap();
    let rc = creds.role_credentials().unwrap();
    assert!(rc.access_key_id().unwrap().starts_with("ASIA"));
    let hours = (rc.expiration() / 1000 - before) as f64 / 3600.0;
    assert!((7.99..=8.01).contains(&hours), "FullAccess sessions last 8 hours, got {hours}");

    // The credentials are accepted by STS as the SSO role session.
    let sts = sts(&s.url, rc.access_key_id().unwrap(), rc.secret_access_key().unwrap(), rc.session_token());
    let me = sts.get_caller_identity().send().await.unwrap();
    assert_eq!(me.account(), Some("222222222222"));
    let arn = me.arn().unwrap();
    assert!(
        arn.starts_with("arn:aws:sts::222222222222:assumed-role/AWSReservedSSO_FullAccess_") && arn.ends_with("/alice"),
        "{arn}"
    );
    assert!(me.user_id().unwrap().starts_with("AROA") && me.user_id().unwrap().ends_with(":alice"));
}

#[tokio::test(flavor = "multi_thread")]
async fn portal_errors() {
    let s = demo().await;
    let p = portal(&s.url);
    let e = p.list_accounts().access_token("not-a-token").send().await.unwrap_err();
    assert_eq!(e.code(), Some("UnauthorizedException"));
    let token = device_login(&s, "carol").await;
    let e = p
        .get_role_credentials()
        .access_token(&token)
        .account_id("222222222222")
        .role_name("FullAccess")
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("ForbiddenException"));
    assert_eq!(e.message(), Some("No access"));
    // An expired access token.
    s.idc.clock().advance(Duration::from_secs(8 * 3600 + 1));
    let e = p.list_accounts().access_token(&token).send().await.unwrap_err();
    assert_eq!(e.code(), Some("UnauthorizedException"));
}

#[tokio::test(flavor = "multi_thread")]
async fn throttling_above_the_rate_limit() {
    let s =
        start(Settings { faults: Faults { portal_rps_limit: Some(3), ..Faults::default() }, ..Settings::default() })
            .await;
    let token = device_login(&s, "alice").await;
    let p = portal(&s.url);
    let mut throttled = 0;
    for _ in 0..8 {
        if let Err(e) = p.list_accounts().access_token(&token).send().await {
            assert_eq!(e.code(), Some("TooManyRequestsException"));
            throttled += 1;
        }
    }
    assert!(throttled >= 4, "at most 3 per second pass (8 calls, {throttled} throttled)");
    s.idc.set_faults(Faults::default());
    p.list_accounts().access_token(&token).send().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn logout_and_revocation_end_tokens_and_derived_credentials_at_once() {
    let s = demo().await;
    let p = portal(&s.url);
    for revoke in ["logout", "admin"] {
        let token = device_login(&s, "alice").await;
        let rc = role_credentials(&s.url, &token, "111111111111", "ReadOnly").await;
        let sso = sts_with(&s.url, &rc);
        sso.get_caller_identity().send().await.unwrap();
        // A role chained from the SSO session dies with it too.
        let audit = sso
            .assume_role()
            .role_arn("arn:aws:iam::123456789012:role/Audit")
            .role_session_name("audit")
            .external_id("audit-ext-1")
            .send()
            .await
            .unwrap();
        let ac = audit.credentials().unwrap();
        let chained = sts(&s.url, ac.access_key_id(), ac.secret_access_key(), Some(ac.session_token()));
        chained.get_caller_identity().send().await.unwrap();
        match revoke {
            "logout" => {
                p.logout().access_token(&token).send().await.unwrap();
            }
            _ => {
                assert!(s.idc.revoke_user_sessions("alice").unwrap() >= 1);
            }
        }
        let e = p.list_accounts().access_token(&token).send().await.unwrap_err();
        assert_eq!(e.code(), Some("UnauthorizedException"), "{revoke}");
        let e = sso.get_caller_identity().send().await.unwrap_err();
        assert_eq!(e.code(), Some("ExpiredToken"), "{revoke}");
        let e = chained.get_caller_identity().send().await.unwrap_err();
        assert_eq!(e.code(), Some("ExpiredToken"), "{revoke}");
    }
    assert!(s.idc.active_sessions().unwrap().is_empty());
}

/// Seed 004's pitfall, on demand: with `credentials_outlive_revocation`, SSO
/// role credentials (and roles assumed with them) keep working until they
/// expire after the session is revoked, as on AWS; the tokens do not.
#[tokio::test(flavor = "multi_thread")]
async fn credentials_can_outlive_revocation_as_on_aws() {
    let s = start(Settings { credentials_outlive_revocation: true, ..Settings::default() }).await;
    let p = portal(&s.url);
    let token = device_login(&s, "alice").await;
    let rc = role_credentials(&s.url, &token, "111111111111", "ReadOnly").await;
    let sso = sts_with(&s.url, &rc);
    assert!(s.idc.revoke_user_sessions("alice").unwrap() >= 1);
    let e = p.list_accounts().access_token(&token).send().await.unwrap_err();
    assert_eq!(e.code(), Some("UnauthorizedException"), "the token ends at once");
    let me = sso.get_caller_identity().send().await.unwrap();
    assert!(me.arn().unwrap().contains(":assumed-role/AWSReservedSSO_ReadOnly_"), "{me:?}");
    // ...until the permission set's session duration (1 h) is over (signed
    // by the server's clock, so only the expiry can refuse it).
    s.idc.clock().advance(std::time::Duration::from_secs(3601));
    let signer = SigV4 {
        key: rc.access_key_id().unwrap(),
        secret: rc.secret_access_key().unwrap(),
        session_token: rc.session_token(),
        signed: vec!["content-type", "host", "x-amz-date", "x-amz-security-token"],
        ..SigV4::bob(&s.idc)
    };
    let body = "Action=GetCallerIdentity&Version=2011-06-15";
    let (_, headers) = signer.sign(&s.url, body);
    let (status, xml) = sts_raw(&s.url, &headers, body).await;
    assert_eq!((status, xml_text(&xml, "Code").as_deref()), (403, Some("ExpiredToken")), "{xml}");
}

#[tokio::test(flavor = "multi_thread")]
async fn sigv4_is_verified() {
    let s = demo().await;
    let me = sts(&s.url, BOB_KEY, BOB_SECRET, None).get_caller_identity().send().await.unwrap();
    assert_eq!(me.arn(), Some("arn:aws:iam::123456789012:user/bob"));
    assert_eq!(me.account(), Some("123456789012"));
    assert!(me.user_id().unwrap().starts_with("AIDA"));

    let e = sts(&s.url, BOB_KEY, "wrong-secret", None).get_caller_identity().send().await.unwrap_err();
    assert_eq!(e.code(), Some("SignatureDoesNotMatch"));
    let e = sts(&s.url, "AKIAUNKNOWNKEY000000", BOB_SECRET, None).get_caller_identity().send().await.unwrap_err();
    assert_eq!(e.code(), Some("InvalidClientTokenId"));
    // A session token that does not belong to the key.
    let e = sts(&s.url, BOB_KEY, BOB_SECRET, Some("bogus")).get_caller_identity().send().await.unwrap_err();
    assert_eq!(e.code(), Some("InvalidClientTokenId"));
    // The server's clock 16 minutes ahead of the signer's.
    s.idc.clock().advance(Duration::from_secs(16 * 60));
    let e = sts(&s.url, BOB_KEY, BOB_SECRET, None).get_caller_identity().send().await.unwrap_err();
    assert_eq!(e.code(), Some("SignatureDoesNotMatch"));
    assert!(e.message().unwrap().starts_with("Signature expired:"), "{:?}", e.message());
}

#[tokio::test(flavor = "multi_thread")]
async fn get_session_token_with_mfa_then_assume_role_without_a_second_code() {
    let s = demo().await;
    let bob = sts(&s.url, BOB_KEY, BOB_SECRET, None);
    let code = bob_code(&s.idc, 0);
    let out =
        bob.get_session_token().serial_number(BOB_MFA).token_code(&code).duration_seconds(3600).send().await.unwrap();
    let c = out.credentials().unwrap();
    // The same code again is refused (replay).
    let e = bob.get_session_token().serial_number(BOB_MFA).token_code(&code).send().await.unwrap_err();
    assert_eq!(e.code(), Some("AccessDenied"));
    assert!(e.message().unwrap().starts_with("MultiFactorAuthentication failed"));
    let e = bob.get_session_token().serial_number(BOB_MFA).token_code("000000").send().await.unwrap_err();
    assert_eq!(e.code(), Some("AccessDenied"));

    let session = sts(&s.url, c.access_key_id(), c.secret_access_key(), Some(c.session_token()));
    assert_eq!(session.get_caller_identity().send().await.unwrap().arn(), Some("arn:aws:iam::123456789012:user/bob"));
    let e = session.get_session_token().send().await.unwrap_err();
    assert_eq!(e.code(), Some("AccessDenied"), "no GetSessionToken with session credentials");
    // The MFA session satisfies the role's MFA requirement: no second code.
    let ops = session
        .assume_role()
        .role_arn("arn:aws:iam::123456789012:role/Ops")
        .role_session_name("bob")
        .duration_seconds(7200)
        .send()
        .await
        .unwrap();
    let user = ops.assumed_role_user().unwrap();
    assert_eq!(user.arn(), "arn:aws:sts::123456789012:assumed-role/Ops/bob");
    assert!(user.assumed_role_id().starts_with("AROA") && user.assumed_role_id().ends_with(":bob"));
    let oc = ops.credentials().unwrap();
    let as_ops = sts(&s.url, oc.access_key_id(), oc.secret_access_key(), Some(oc.session_token()));
    assert_eq!(
        as_ops.get_caller_identity().send().await.unwrap().arn(),
        Some("arn:aws:sts::123456789012:assumed-role/Ops/bob")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn assume_role_rules() {
    let s = demo().await;
    let bob = sts(&s.url, BOB_KEY, BOB_SECRET, None);
    let ops = "arn:aws:iam::123456789012:role/Ops";
    // MFA required: no code → denied; wrong code → MFA failure; a good code → allowed.
    let e = bob.assume_role().role_arn(ops).role_session_name("bob").send().await.unwrap_err();
    assert_eq!(e.code(), Some("AccessDenied"));
    assert!(
        e.message()
            .unwrap()
            .contains("is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::123456789012:role/Ops")
    );
    let e = bob
        .assume_role()
        .role_arn(ops)
        .role_session_name("bob")
        .serial_number(BOB_MFA)
        .token_code("123456")
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("AccessDenied"));
    let ok = bob
        .assume_role()
        .role_arn(ops)
        .role_session_name("bob")
        .serial_number(BOB_MFA)
        .token_code(bob_code(&s.idc, -1))
        .send()
        .await
        .unwrap();
    // Role chaining caps the duration at one hour.
    let c = ok.credentials().unwrap();
    let as_ops = sts(&s.url, c.access_key_id(), c.secret_access_key(), Some(c.session_token()));
    let audit = "arn:aws:iam::123456789012:role/Audit";
    let e = as_ops
        .assume_role()
        .role_arn(audit)
        .role_session_name("audit-x")
        .external_id("audit-ext-1")
        .duration_seconds(7200)
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("ValidationError"));
    assert_eq!(
        e.message(),
        Some("The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.")
    );
    as_ops.assume_role().role_arn(audit).role_session_name("audit-x").external_id("audit-ext-1").send().await.unwrap();
    // External id must match.
    let e =
        bob.assume_role().role_arn(audit).role_session_name("audit-x").external_id("wrong").send().await.unwrap_err();
    assert_eq!(e.code(), Some("AccessDenied"));
    // Max session duration of the role (Audit: 1 hour).
    let e = bob
        .assume_role()
        .role_arn(audit)
        .role_session_name("audit-x")
        .external_id("audit-ext-1")
        .duration_seconds(7200)
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.message(), Some("The requested DurationSeconds exceeds the MaxSessionDuration set for this role."));
    // Validation of the session name and an unknown role.
    let e = bob
        .assume_role()
        .role_arn(audit)
        .role_session_name("bad name!")
        .external_id("audit-ext-1")
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("ValidationError"));
    let e = bob
        .assume_role()
        .role_arn("arn:aws:iam::123456789012:role/Nope")
        .role_session_name("audit-x")
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("AccessDenied"));
    // Source identity is carried and cannot change down the chain.
    let si = bob
        .assume_role()
        .role_arn(audit)
        .role_session_name("audit-x")
        .external_id("audit-ext-1")
        .source_identity("bob-laptop")
        .send()
        .await
        .unwrap();
    assert_eq!(si.source_identity(), Some("bob-laptop"));
}

#[tokio::test(flavor = "multi_thread")]
async fn expired_session_credentials() {
    let s = demo().await;
    let bob = sts(&s.url, BOB_KEY, BOB_SECRET, None);
    let out = bob.get_session_token().duration_seconds(900).send().await.unwrap();
    let c = out.credentials().unwrap();
    let session = sts(&s.url, c.access_key_id(), c.secret_access_key(), Some(c.session_token()));
    session.get_caller_identity().send().await.unwrap();
    // 900 s later: expired (the signer's clock is still inside the skew window).
    s.idc.clock().advance(Duration::from_secs(900));
    let e = session.get_caller_identity().send().await.unwrap_err();
    assert_eq!(e.code(), Some("ExpiredToken"));
}

/// A raw POST to the STS endpoint: status and body.
async fn post(url: &str, headers: &[(String, String)], body: &str) -> (u16, String) {
    let (status, _, body) = http(url, "POST", "/", headers, body).await;
    (status, body)
}

/// Headers for `body` signed by the SDK's SigV4 signer with bob's keys.
fn signed_headers(url: &str, body: &str) -> Vec<(String, String)> {
    use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
    let host = url.trim_start_matches("http://").to_string();
    let identity: aws_smithy_runtime_api::client::identity::Identity =
        aws_credential_types::Credentials::new(BOB_KEY, BOB_SECRET, None, None, "test").into();
    let params = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(&identity)
        .region("us-east-1")
        .name("sts")
        .time(std::time::SystemTime::now())
        .settings(SigningSettings::default())
        .build()
        .unwrap()
        .into();
    let base = [("content-type", "application/x-www-form-urlencoded; charset=utf-8"), ("host", host.as_str())];
    let req =
        SignableRequest::new("POST", format!("{url}/"), base.iter().copied(), SignableBody::Bytes(body.as_bytes()))
            .unwrap();
    let (instructions, _) = sign(req, &params).unwrap().into_parts();
    let mut out: Vec<(String, String)> = base.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    out.extend(instructions.headers().map(|(k, v)| (k.to_string(), v.to_string())));
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn raw_requests_unsigned_tampered_and_unknown_action() {
    let s = demo().await;
    let body = "Action=GetCallerIdentity&Version=2011-06-15";
    let (status, xml) = post(&s.url, &[("Host".into(), "x".into())], body).await;
    assert_eq!(status, 403);
    assert!(xml.contains("<Code>MissingAuthenticationToken</Code>"), "{xml}");

    let headers = signed_headers(&s.url, body);
    let (status, xml) = post(&s.url, &headers, body).await;
    assert_eq!(status, 200, "{xml}");
    assert!(xml.contains("<Arn>arn:aws:iam::123456789012:user/bob</Arn>"), "{xml}");
    assert!(xml.starts_with("<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"));

    // Same signature, altered body.
    let (status, xml) = post(&s.url, &headers, "Action=GetCallerIdentity&Version=2011-06-15&X=1").await;
    assert_eq!(status, 403);
    assert!(xml.contains("<Code>SignatureDoesNotMatch</Code>") && xml.contains("<Type>Sender</Type>"), "{xml}");

    let body = "Action=DeleteEverything&Version=2011-06-15";
    let (status, xml) = post(&s.url, &signed_headers(&s.url, body), body).await;
    assert_eq!(status, 400);
    assert!(xml.contains("<Code>InvalidAction</Code>"), "{xml}");
}
