//! The admin API and the admin subcommands, on a running server.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] fns

mod common;

use common::*;
use tobira_idc::{Idc, Settings};

async fn call(url: &str, method: &str, path: &str, token: &str, body: &str) -> (u16, String) {
    let headers =
        [("Authorization".to_string(), format!("Bearer {token}")), ("Content-Type".into(), "application/json".into())];
    let (status, _, body) = http(url, method, path, &headers, body).await;
    (status, body)
}

#[tokio::test(flavor = "multi_thread")]
async fn admin_api_requires_the_token_and_switches_faults_at_run_time() {
    let s = demo().await;
    let t = s.idc.admin_token().to_string();
    assert_eq!(call(&s.url, "GET", "/admin/api/sessions", "wrong", "").await.0, 401);

    let (status, _) = call(
        &s.url,
        "PUT",
        "/admin/api/faults",
        &t,
        r#"{"one_shot":[{"operation":"ListAccounts","code":"TooManyRequestsException","status":429}]}"#,
    )
    .await;
    assert_eq!(status, 204);
    let token = device_login(&s, "alice").await;
    let p = portal(&s.url);
    let e = p.list_accounts().access_token(&token).send().await.unwrap_err();
    assert_eq!(aws_sdk_sso::error::ProvideErrorMetadata::code(&e), Some("TooManyRequestsException"));
    p.list_accounts().access_token(&token).send().await.unwrap();

    let (_, counters) = call(&s.url, "GET", "/admin/api/counters", &t, "").await;
    let counters: serde_json::Value = serde_json::from_str(&counters).unwrap();
    assert_eq!(counters["ListAccounts"], 2);
    assert_eq!(counters["CreateToken"], 1);

    let (_, sessions) = call(&s.url, "GET", "/admin/api/sessions", &t, "").await;
    let sessions: serde_json::Value = serde_json::from_str(&sessions).unwrap();
    assert_eq!(sessions["sessions"][0]["user"], "alice");
    assert_eq!(sessions["sessions"][0]["active_tokens"], 1);
    let (status, body) = call(&s.url, "POST", "/admin/api/sessions/revoke", &t, r#"{"user":"alice"}"#).await;
    assert_eq!((status, body.as_str()), (200, r#"{"revoked":1}"#));
    assert!(p.list_accounts().access_token(&token).send().await.is_err());

    // A directory that does not validate is refused; a valid one applies at once.
    let (status, body) =
        call(&s.url, "PUT", "/admin/api/directory", &t, "[instance]\nstart_url = \"nope\"\nregion = \"r\"\n").await;
    assert_eq!(status, 400, "{body}");
    let (_, toml) = call(&s.url, "GET", "/admin/api/directory", &t, "").await;
    let changed = toml.replace("name = \"Production\"", "name = \"Prod-Renamed\"");
    assert_eq!(call(&s.url, "PUT", "/admin/api/directory", &t, &changed).await.0, 204);
    let token = device_login(&s, "alice").await;
    let accounts = p.list_accounts().access_token(&token).send().await.unwrap();
    assert_eq!(accounts.account_list()[0].account_name(), Some("Prod-Renamed"));
}

#[tokio::test(flavor = "multi_thread")]
async fn state_survives_a_restart_and_other_processes_see_directory_changes() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("idc.db");
    let token = {
        let s = start(Settings { db: Some(db.clone()), ..Settings::default() }).await;
        device_login(&s, "alice").await
    };
    // Same database, new server: the token still works.
    let s = start(Settings { db: Some(db.clone()), ..Settings::default() }).await;
    let p = portal(&s.url);
    p.list_accounts().access_token(&token).send().await.unwrap();
    // Another process (here: a second handle on the file) edits the directory.
    let other = Idc::new(Settings { db: Some(db.clone()), ..Settings::default() }).unwrap();
    let mut d = other.directory();
    d.accounts[0].name = "Edited Elsewhere".into();
    other.replace_directory(d).unwrap();
    let accounts = p.list_accounts().access_token(&token).send().await.unwrap();
    assert_eq!(accounts.account_list()[0].account_name(), Some("Edited Elsewhere"));
    // ...and revokes alice's sessions, which the server honours at once.
    assert_eq!(other.revoke_user_sessions("alice").unwrap(), 1);
    assert!(p.list_accounts().access_token(&token).send().await.is_err());
}

#[tokio::test(flavor = "multi_thread")]
async fn issuing_credentials_stores_nothing_and_expired_sessions_are_swept() {
    let s = demo().await;
    let rows = |idc: &tobira_idc::Idc| -> i64 { idc.store().row_counts().unwrap().iter().map(|(_, n)| n).sum() };
    let token = device_login(&s, "alice").await;
    let before = rows(&s.idc);
    // Sealed credentials: a thousand of them add no row.
    let bob = sts(&s.url, BOB_KEY, BOB_SECRET, None);
    let p = portal(&s.url);
    for _ in 0..3 {
        bob.get_session_token().duration_seconds(900).send().await.unwrap();
    }
    for _ in 0..20 {
        p.get_role_credentials()
            .access_token(&token)
            .account_id("222222222222")
            .role_name("ReadOnly")
            .send()
            .await
            .unwrap();
    }
    assert_eq!(rows(&s.idc), before, "credentials are sealed, not stored");
    // The sign-in session, its client and device authorization expire; an
    // hour later a sweep removes them.
    s.idc.clock().advance(std::time::Duration::from_secs(90 * 24 * 3600 + 3600 + 61));
    assert!(s.idc.store().sweep(s.idc.clock().now_s()).unwrap() >= 3);
    assert_eq!(rows(&s.idc), 0, "{:?}", s.idc.store().row_counts().unwrap());
}

#[tokio::test(flavor = "multi_thread")]
async fn odd_user_codes_are_refused_not_panicked_on() {
    let s = demo().await;
    // "AAAéBBB" is 8 bytes with a character across byte 4.
    for code in ["AAAéBBB", "ééééé", "", "ABCD-EFGH-IJKL", "🙂🙂"] {
        assert!(s.idc.approve_device(code, "alice").is_err(), "{code}");
    }
}
