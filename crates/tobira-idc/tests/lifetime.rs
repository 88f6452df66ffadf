//! `serve --credential-lifetime SECONDS` (`Settings::credential_lifetime`):
//! a cap, for tests and demos, on the lifetime of every access token, SSO
//! role credential and STS credential tobira-idc issues; sign-in sessions and
//! refresh tokens keep theirs, so clients can renew again and again.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] fns

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use aws_sdk_sts::error::ProvideErrorMetadata;
use common::*;
use tobira_idc::Settings;

const BIN: &str = env!("CARGO_BIN_EXE_tobira-idc");

/// Seconds from the server's now until an SDK timestamp.
fn left(s: &Server, t: &aws_sdk_sts::primitives::DateTime) -> i64 {
    t.secs() - s.idc.clock().now_s()
}

#[tokio::test(flavor = "multi_thread")]
async fn everything_issued_lasts_at_most_the_cap_and_refreshing_still_works() {
    let s = start(Settings { credential_lifetime: Some(60), ..Settings::default() }).await;
    let (id, secret, _, refresh) = device_login_tokens(&s, "alice").await;
    let o = oidc(&s.url);
    let renewed = o
        .create_token()
        .client_id(&id)
        .client_secret(&secret)
        .grant_type("refresh_token")
        .refresh_token(&refresh)
        .send()
        .await
        .unwrap();
    assert!((55..=60).contains(&renewed.expires_in()), "access tokens: {} s", renewed.expires_in());

    // SSO role credentials: ReadOnly's session duration is 1 hour.
    let rc = role_credentials(&s.url, renewed.access_token().unwrap(), "111111111111", "ReadOnly").await;
    let rc_left = rc.expiration() / 1000 - s.idc.clock().now_s();
    assert!((55..=60).contains(&rc_left), "SSO role credentials: {rc_left} s");

    // STS: an MFA session asked for 1 hour, a role asked for 2 hours.
    let bob = sts(&s.url, BOB_KEY, BOB_SECRET, None);
    let out = bob
        .get_session_token()
        .serial_number(BOB_MFA)
        .token_code(bob_code(&s.idc, 0))
        .duration_seconds(3600)
        .send()
        .await
        .unwrap();
    let session = out.credentials().unwrap();
    assert!((55..=60).contains(&left(&s, session.expiration())), "GetSessionToken");
    let as_session = sts(&s.url, session.access_key_id(), session.secret_access_key(), Some(session.session_token()));
    let ops = as_session
        .assume_role()
        .role_arn("arn:aws:iam::123456789012:role/Ops")
        .role_session_name("bob")
        .duration_seconds(7200)
        .send()
        .await
        .unwrap();
    let oc = ops.credentials().unwrap();
    assert!((55..=60).contains(&left(&s, oc.expiration())), "AssumeRole");
    let as_ops = sts(&s.url, oc.access_key_id(), oc.secret_access_key(), Some(oc.session_token()));
    as_ops.get_caller_identity().send().await.unwrap();

    // A minute later all of it has expired...
    s.idc.clock().advance(Duration::from_secs(61));
    let e = portal(&s.url).list_accounts().access_token(renewed.access_token().unwrap()).send().await.unwrap_err();
    assert_eq!(e.code(), Some("UnauthorizedException"));
    let e = as_ops.get_caller_identity().send().await.unwrap_err();
    assert_eq!(e.code(), Some("ExpiredToken"), "{e:?}");
    let e = sts_with(&s.url, &rc).get_caller_identity().send().await.unwrap_err();
    assert_eq!(e.code(), Some("ExpiredToken"), "{e:?}");
    // ...but the sign-in is not: the refresh token gives a new access token,
    // and it new role credentials.
    let again = o
        .create_token()
        .client_id(&id)
        .client_secret(&secret)
        .grant_type("refresh_token")
        .refresh_token(renewed.refresh_token().unwrap())
        .send()
        .await
        .unwrap();
    assert!(again.expires_in() <= 60);
    let rc = role_credentials(&s.url, again.access_token().unwrap(), "111111111111", "ReadOnly").await;
    sts_with(&s.url, &rc).get_caller_identity().send().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn without_the_cap_lifetimes_are_the_configured_ones() {
    let s = demo().await;
    let token = device_login(&s, "alice").await;
    let rc = role_credentials(&s.url, &token, "111111111111", "ReadOnly").await;
    let rc_left = rc.expiration() / 1000 - s.idc.clock().now_s();
    assert!((3590..=3600).contains(&rc_left), "ReadOnly lasts 1 hour: {rc_left} s");
    let out = sts(&s.url, BOB_KEY, BOB_SECRET, None).get_session_token().duration_seconds(7200).send().await.unwrap();
    assert!((7190..=7200).contains(&left(&s, out.credentials().unwrap().expiration())));
}

#[test]
fn the_flag_is_documented_as_for_tests_and_demos_and_checked() {
    let help = Command::new(BIN).args(["serve", "--help"]).output().unwrap();
    let text = String::from_utf8_lossy(&help.stdout).split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        text.contains("--credential-lifetime <SECONDS> For tests and demos only: nothing issued (access tokens, SSO role credentials, STS credentials) lasts longer than this many seconds"),
        "{text}"
    );
    let bad = Command::new(BIN).args(["serve", "--credential-lifetime", "0"]).output().unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("invalid value '0' for '--credential-lifetime <SECONDS>'"));

    // The first screen says so.
    let mut child = Command::new(BIN)
        .args(["serve", "--port", "0", "--credential-lifetime", "60"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut lines = Vec::new();
    for _ in 0..5 {
        let mut line = String::new();
        out.read_line(&mut line).unwrap();
        lines.push(line);
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        lines.contains(
            &"For tests and demos: access tokens and credentials issued here last at most 60 s (--credential-lifetime).\n"
                .to_string()
        ),
        "{lines:?}"
    );
}
