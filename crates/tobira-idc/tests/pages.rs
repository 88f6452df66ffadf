//! The sign-in, device-code and consent pages over HTTP, as a browser without
//! JavaScript uses them (cookies, forms, redirects), and their security rules.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] fns

mod common;

use common::*;
use tobira_idc::{Directory, Settings};

#[tokio::test(flavor = "multi_thread")]
async fn device_code_approved_through_sign_in_and_consent() {
    let s = demo().await;
    let c = oidc(&s.url);
    let reg = c.register_client().client_name("botocore-client-default").client_type("public").send().await.unwrap();
    let (id, secret) = (reg.client_id().unwrap(), reg.client_secret().unwrap());
    let auth =
        c.start_device_authorization().client_id(id).client_secret(secret).start_url(START_URL).send().await.unwrap();
    let complete = auth.verification_uri_complete().unwrap().trim_start_matches(&s.url).to_string();

    let mut b = Browser::new(&s.url);
    let (status, head, _) = sign_in(&mut b, &s, &complete).await;
    assert_eq!(status, 303);
    assert_eq!(location(&head), complete);
    assert!(b.cookies.contains_key("idc_session"));
    let (_, _, page) = b.get(&complete).await;
    assert_eq!(field(&page, "user_code"), auth.user_code().unwrap(), "verificationUriComplete pre-fills the code");
    let csrf = field(&page, "csrf");
    let (_, _, consent) = b.post("/device/confirm", &[("csrf", &csrf), ("user_code", auth.user_code().unwrap())]).await;
    assert!(consent.contains("Allow <b>botocore-client-default</b> to access your data?"), "{consent}");
    assert!(consent.contains(&format!("<p class=\"code\" id=\"code\">{}</p>", auth.user_code().unwrap())));
    let (status, _, done) = b
        .post("/device/decision", &[("csrf", &csrf), ("user_code", auth.user_code().unwrap()), ("decision", "allow")])
        .await;
    assert_eq!(status, 200);
    assert!(done.contains("Request approved"), "{done}");
    let tok = c
        .create_token()
        .client_id(id)
        .client_secret(secret)
        .grant_type("urn:ietf:params:oauth:grant-type:device_code")
        .device_code(auth.device_code().unwrap())
        .send()
        .await
        .unwrap();
    assert!(tok.access_token().is_some());
}

#[tokio::test(flavor = "multi_thread")]
async fn pkce_consent_redirects_to_the_client() {
    let s = demo().await;
    let c = oidc(&s.url);
    let reg = c
        .register_client()
        .client_name("botocore-client-corp")
        .client_type("public")
        .grant_types("authorization_code")
        .grant_types("refresh_token")
        .redirect_uris("http://127.0.0.1/oauth/callback")
        .send()
        .await
        .unwrap();
    let path = format!(
        "/authorize?response_type=code&client_id={}&redirect_uri=http%3A%2F%2F127.0.0.1%3A4321%2Foauth%2Fcallback&state=st-9&code_challenge_method=S256&scopes=sso%3Aaccount%3Aaccess&code_challenge=abc",
        reg.client_id().unwrap()
    );
    let mut b = Browser::new(&s.url);
    let (status, head, _) = sign_in(&mut b, &s, &path).await;
    assert_eq!((status, location(&head)), (303, path.clone()));
    let (_, _, consent) = b.get(&path).await;
    assert!(consent.contains("Allow <b>botocore-client-corp</b> to access your data?"), "{consent}");
    let (csrf, request, back) = (field(&consent, "csrf"), field(&consent, "request"), field(&consent, "back"));
    let (status, head, _) = b
        .post("/authorize/decision", &[("csrf", &csrf), ("request", &request), ("back", &back), ("decision", "allow")])
        .await;
    assert_eq!((status, location(&head)), (303, path.clone()));
    let (status, head, _) = b.get(&path).await;
    assert_eq!(status, 302);
    let to = location(&head);
    assert!(to.starts_with("http://127.0.0.1:4321/oauth/callback?code=") && to.ends_with("&state=st-9"), "{to}");
}

#[tokio::test(flavor = "multi_thread")]
async fn csrf_escaping_headers_rate_limit_and_revocation() {
    let mut dir = Directory::demo();
    dir.users.iter_mut().find(|u| u.name == "carol").unwrap().display_name = "<script>alert(1)</script>".into();
    dir.instance.mfa_required = false;
    let s = start(Settings { directory: Some(dir), ..Settings::default() }).await;
    let mut b = Browser::new(&s.url);

    // Security headers on every page.
    let (_, head, page) = b.get("/signin?next=/device").await;
    for h in [
        "content-security-policy: default-src 'none'",
        "x-frame-options: DENY",
        "x-content-type-options: nosniff",
        "cache-control: no-store",
    ] {
        assert!(head.to_lowercase().contains(&h.to_lowercase()), "missing {h}: {head}");
    }
    // No CSRF token → refused.
    let (status, _, _) =
        b.post("/signin", &[("next", "/device"), ("username", "alice"), ("password", ALICE_PASSWORD)]).await;
    assert_eq!(status, 403);
    // Open redirects are not followed after sign-in.
    assert!(field(&page, "next") == "/device");

    // The /authorize error pages carry the same frame and headers.
    let (status, head, page) = b.get("/authorize?client_id=nobody").await;
    assert_eq!(status, 400);
    assert!(head.to_lowercase().contains("content-security-policy: default-src 'none'"), "{head}");
    assert!(page.contains("tobira-idc · IAM Identity Center"), "{page}");

    // Only local paths are kept as the place to go after sign-in.
    let (_, _, page) = b.get("/signin?next=//evil.example/").await;
    assert_eq!(field(&page, "next"), "/device", "only local paths are kept");
    // An invited user cannot be claimed by name: only the administrator's link sets a password.
    let csrf = field(&page, "csrf");
    let (_, _, claim) = b.post("/signin", &[("csrf", &csrf), ("next", "/device"), ("username", "carol")]).await;
    assert!(claim.contains("The username or password is not correct."), "{claim}");
    // A user's display name with markup is shown as text (carol's invitation page).
    let link = s.idc.invite("carol").unwrap();
    let path = link.url.strip_prefix(&s.url).unwrap().to_string();
    let (_, _, invite) = b.get(&path).await;
    assert!(invite.contains("Welcome, &lt;script&gt;alert(1)&lt;/script&gt;."), "{invite}");
    assert!(!invite.contains("<script>"));
    // She chooses a password and is signed in.
    let (csrf, token) = (field(&invite, "csrf"), field(&invite, "token"));
    let (status, _, _) = b
        .post(
            "/invite",
            &[
                ("csrf", &csrf),
                ("token", &token),
                ("new_password", "a long password"),
                ("confirm_password", "a long password"),
            ],
        )
        .await;
    assert_eq!(status, 303);
    let (_, _, device) = b.get("/device").await;
    assert!(device.contains("Signed in as <b>carol</b>"), "{device}");

    // Revoking her sessions signs the browser out at once.
    s.idc.revoke_user_sessions("carol").unwrap();
    let (_, _, page) = b.get("/device").await;
    assert!(page.contains("action=\"/signin\""), "signed out: {page}");

    // Wrong passwords: a plain message, then a rate limit.
    let mut stranger = Browser::new(&s.url);
    for attempt in 1..=6 {
        let (_, _, page) = stranger.get("/signin?next=/device").await;
        let csrf = field(&page, "csrf");
        let (status, _, page) = stranger
            .post("/signin", &[("csrf", &csrf), ("next", "/device"), ("username", "alice"), ("password", "nope")])
            .await;
        if attempt <= 5 {
            assert_eq!(status, 200);
            assert!(page.contains("The username or password is not correct."));
        } else {
            assert_eq!(status, 429);
            assert!(page.contains("Too many failed sign-ins"));
        }
        assert!(!stranger.cookies.contains_key("idc_session"));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn access_portal_gives_working_programmatic_credentials() {
    let s = demo().await;
    let mut b = Browser::new(&s.url);
    let (status, head, _) = sign_in(&mut b, &s, "/start").await;
    assert_eq!((status, location(&head)), (303, "/start".to_string()));
    let (_, _, portal) = b.get("/start").await;
    assert!(portal.contains("<code id=\"start-url\">https://d-1234567890.awsapps.com/start</code>"), "{portal}");
    assert!(portal.contains("<code id=\"sso-region\">us-east-1</code>"));
    assert!(portal.contains("Development <span class=\"note\">222222222222"), "{portal}");
    let link = "/start/credentials?account=222222222222&role=FullAccess";
    assert!(portal.contains(&link.replace('&', "&amp;")), "{portal}");
    let (status, _, page) = b.get(link).await;
    assert_eq!(status, 200, "{page}");
    let page = page.replace("&quot;", "\"");
    let line = |prefix: &str| {
        page.lines()
            .chain(page.split('\n'))
            .find_map(|l| l.split(prefix).nth(1))
            .map(|v| v.split(['"', '\n', '<']).next().unwrap().to_string())
            .unwrap()
    };
    let key = line("export AWS_ACCESS_KEY_ID=\"");
    let secret = line("export AWS_SECRET_ACCESS_KEY=\"");
    let token = line("export AWS_SESSION_TOKEN=\"");
    assert!(page.contains(&format!("SET AWS_ACCESS_KEY_ID={key}")));
    assert!(page.contains(&format!("$Env:AWS_ACCESS_KEY_ID=\"{key}\"")));
    assert!(page.contains(&format!("[222222222222_FullAccess]\naws_access_key_id={key}")));
    assert!(page.contains("These credentials last 8 hour(s)."));
    let me = sts(&s.url, &key, &secret, Some(&token)).get_caller_identity().send().await.unwrap();
    assert!(me.arn().unwrap().contains(":assumed-role/AWSReservedSSO_FullAccess_"), "{:?}", me.arn());
    // A role not assigned to the user.
    let (status, _, _) = b.get("/start/credentials?account=111111111111&role=FullAccess").await;
    assert_eq!(status, 403);
    // Revocation reaches credentials handed out by the portal too.
    s.idc.revoke_user_sessions("alice").unwrap();
    let e = sts(&s.url, &key, &secret, Some(&token)).get_caller_identity().send().await.unwrap_err();
    assert_eq!(aws_sdk_sts::error::ProvideErrorMetadata::code(&e), Some("ExpiredToken"));
}

#[tokio::test(flavor = "multi_thread")]
async fn mfa_enrolment_with_a_qr_code_then_the_code_is_required() {
    let mut dir = Directory::demo();
    dir.users.iter_mut().find(|u| u.name == "carol").unwrap().password = Some("carol's password".into());
    let s = start(Settings { directory: Some(dir), ..Settings::default() }).await;
    let mut b = Browser::new(&s.url);
    let (_, _, page) = b.get("/signin?next=/start").await;
    let csrf = field(&page, "csrf");
    let (status, _, enrol) = b
        .post(
            "/signin",
            &[("csrf", &csrf), ("next", "/start"), ("username", "carol"), ("password", "carol's password")],
        )
        .await;
    assert_eq!(status, 200);
    assert!(enrol.contains("<div id=\"qr\" style=\"text-align:center\"><svg"), "the QR code is an inline SVG: {enrol}");
    let secret = enrol.split("<code id=\"secret\">").nth(1).unwrap().split('<').next().unwrap().to_string();
    assert!(enrol.contains(&format!("otpauth://totp/tobira-idc:carol?secret={secret}&amp;issuer=tobira-idc")));
    assert!(!b.cookies.contains_key("idc_session"), "not signed in before the device is confirmed");
    assert!(tobira_idc::totp::decode_secret(&secret).is_some(), "a base32 key");
    // A wrong code: a new secret is shown, nothing saved.
    let (csrf, token) = (field(&enrol, "csrf"), field(&enrol, "token"));
    let (_, _, again) = b.post("/signin/enrol", &[("csrf", &csrf), ("token", &token), ("mfa_code", "000000")]).await;
    assert!(again.contains("That code does not match."), "{again}");
    let secret = again.split("<code id=\"secret\">").nth(1).unwrap().split('<').next().unwrap().to_string();
    let key = tobira_idc::totp::decode_secret(&secret).unwrap();
    let code = |offset: i64| tobira_idc::totp::code_at_step(&key, s.idc.clock().now_s().div_euclid(30) + offset, 6);
    let (csrf, token) = (field(&again, "csrf"), field(&again, "token"));
    let (status, head, _) =
        b.post("/signin/enrol", &[("csrf", &csrf), ("token", &token), ("mfa_code", &code(0))]).await;
    assert_eq!((status, location(&head)), (303, "/start".to_string()));
    assert_eq!(s.idc.directory().user("carol").unwrap().mfa.len(), 1, "the device is saved");
    // Next sign-in: the code from the new device is required.
    let mut other = Browser::new(&s.url);
    let (_, _, page) = other.get("/signin?next=/start").await;
    let csrf = field(&page, "csrf");
    let (_, _, page) = other
        .post(
            "/signin",
            &[("csrf", &csrf), ("next", "/start"), ("username", "carol"), ("password", "carol's password")],
        )
        .await;
    assert!(page.contains("The MFA code is not correct"), "{page}");
    let csrf = field(&page, "csrf");
    let (status, _, _) = other
        .post(
            "/signin",
            &[
                ("csrf", &csrf),
                ("next", "/start"),
                ("username", "carol"),
                ("password", "carol's password"),
                ("mfa_code", &code(1)),
            ],
        )
        .await;
    assert_eq!(status, 303);
}

#[tokio::test(flavor = "multi_thread")]
async fn admin_pages_behind_the_admin_token() {
    let s = demo().await;
    let _token = device_login(&s, "alice").await;
    let mut b = Browser::new(&s.url);
    let (_, _, page) = b.get("/admin").await;
    assert!(page.contains("Enter the admin token"), "{page}");
    let csrf = field(&page, "csrf");
    let (status, _, _) = b.post("/admin/login", &[("csrf", &csrf), ("token", "wrong")]).await;
    assert_eq!(status, 401);
    let (_, _, page) = b.get("/admin").await;
    let csrf = field(&page, "csrf");
    let (status, _, _) = b.post("/admin/login", &[("csrf", &csrf), ("token", s.idc.admin_token())]).await;
    assert_eq!(status, 303);
    let (_, _, admin) = b.get("/admin").await;
    for text in ["Alice Example", "engineers", "Production", "FullAccess</td><td>8 h", "Delete sessions of alice"] {
        assert!(admin.contains(text), "missing {text}: {admin}");
    }
    let csrf = field(&admin, "csrf");
    // Without the CSRF token: refused.
    let (status, _, _) = b.post("/admin/revoke", &[("user", "alice")]).await;
    assert_eq!(status, 403);
    assert_eq!(s.idc.active_sessions().unwrap().len(), 1);
    // Alice's own page: her accounts and roles and her active session.
    assert!(admin.contains("<a href=\"/admin/users/alice\">alice</a>"), "{admin}");
    let (status, _, alice) = b.get("/admin/users/alice").await;
    assert_eq!(status, 200);
    for text in [
        "<td>Development</td><td>222222222222</td><td>FullAccess</td><td>8 h</td>",
        "Groups: engineers.",
        "Delete sessions of alice",
    ] {
        assert!(alice.contains(text), "missing {text}: {alice}");
    }
    let (status, _, _) = b.get("/admin/users/nobody").await;
    assert_eq!(status, 404);
    // First a confirmation that says what will end; nothing ends yet.
    let (status, _, confirm) = b.post("/admin/revoke", &[("csrf", &csrf), ("user", "alice")]).await;
    assert_eq!(status, 200);
    assert!(confirm.contains("End 1 active session(s) of alice?"), "{confirm}");
    assert_eq!(s.idc.active_sessions().unwrap().len(), 1);
    let (status, _, done) = b.post("/admin/revoke", &[("csrf", &csrf), ("user", "alice"), ("confirm", "yes")]).await;
    assert_eq!(status, 200);
    assert!(done.contains("Ended 1 active session(s) of alice"), "{done}");
    assert!(s.idc.active_sessions().unwrap().is_empty(), "deleted from the page");
    // The directory editor refuses an invalid directory and keeps the old one.
    let (status, _, page) = b
        .post("/admin/directory", &[("csrf", &csrf), ("toml", "[instance]\nstart_url = \"x\"\nregion = \"r\"\n")])
        .await;
    assert_eq!(status, 400);
    assert!(page.contains("must be an http(s) URL"), "{page}");
    assert_eq!(s.idc.directory().instance.region, "us-east-1");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_used_mfa_code_is_refused_and_a_device_request_can_be_denied() {
    let s = demo().await;
    let mut first = Browser::new(&s.url);
    let (status, _, _) = sign_in(&mut first, &s, "/signin?next=/device").await;
    assert_eq!(status, 303);
    // The same code again, from another browser: refused.
    let mut second = Browser::new(&s.url);
    let (status, _, page) = sign_in(&mut second, &s, "/signin?next=/device").await;
    assert_eq!(status, 200);
    assert!(page.contains("The MFA code is not correct (or was already used)."), "{page}");

    let c = oidc(&s.url);
    let reg = c.register_client().client_name("cli").client_type("public").send().await.unwrap();
    let (id, secret) = (reg.client_id().unwrap(), reg.client_secret().unwrap());
    let auth =
        c.start_device_authorization().client_id(id).client_secret(secret).start_url(START_URL).send().await.unwrap();
    let (_, _, page) = first.get("/device").await;
    let csrf = field(&page, "csrf");
    let code = auth.user_code().unwrap();
    let (_, _, done) =
        first.post("/device/decision", &[("csrf", &csrf), ("user_code", code), ("decision", "deny")]).await;
    assert!(done.contains("Request denied"), "{done}");
    let e = c
        .create_token()
        .client_id(id)
        .client_secret(secret)
        .grant_type("urn:ietf:params:oauth:grant-type:device_code")
        .device_code(auth.device_code().unwrap())
        .send()
        .await
        .unwrap_err();
    assert!(e.into_service_error().is_access_denied_exception());
    // An unknown code: a plain message.
    let (status, _, page) = first.post("/device/confirm", &[("csrf", &csrf), ("user_code", "ZZZZ-ZZZZ")]).await;
    assert_eq!(status, 400);
    assert!(page.contains("This code is unknown, was already used, or has expired."), "{page}");
}

/// Seed 002 as forms: add a user (an invitation link), raise a permission
/// set's session duration from 1 h to 8 h, reset a lost MFA device.
#[tokio::test(flavor = "multi_thread")]
async fn admin_forms_add_a_user_set_a_session_duration_and_reset_mfa() {
    let s = demo().await;
    let mut b = Browser::new(&s.url);
    let (_, _, page) = b.get("/admin").await;
    let csrf = field(&page, "csrf");
    b.post("/admin/login", &[("csrf", &csrf), ("token", s.idc.admin_token())]).await;
    let (_, _, admin) = b.get("/admin").await;
    let csrf = field(&admin, "csrf");

    // Add dave to the engineers: no password, an invitation link.
    let fields = [
        ("csrf", csrf.as_str()),
        ("user", "dave"),
        ("display_name", "Dave <b>"),
        ("email", "dave@example.com"),
        ("groups", "engineers"),
    ];
    let (status, _, page) = b.post("/admin/users", &fields).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Added <b>dave</b>."), "{page}");
    let link = page.split("<pre id=\"invitation\">").nth(1).unwrap().split('<').next().unwrap().to_string();
    assert!(link.starts_with(&format!("{}/invite/", s.url)), "{link}");
    let dave = s.idc.directory().user("dave").cloned().unwrap();
    assert_eq!(
        (dave.password_hash, dave.groups, dave.display_name.as_str()),
        (None, vec!["engineers".to_string()], "Dave <b>")
    );
    // The same name again, an unknown group, a bad name: refused with the reason.
    for (user, groups, reason) in [
        ("dave", "", "a user `dave` already exists"),
        ("erin", "nobody", "there is no group `nobody`; create it first"),
        ("e rin", "", "must be 1 to 128 letters"),
    ] {
        let (status, _, page) = b.post("/admin/users", &[("csrf", &csrf), ("user", user), ("groups", groups)]).await;
        assert_eq!(status, 400, "{user}");
        assert!(page.contains(reason), "{user}: {page}");
    }
    // Dave's link works (the pages test of invitations covers the rest).
    let (status, _, page) = b.get(link.strip_prefix(&s.url).unwrap()).await;
    assert_eq!(status, 200);
    assert!(page.contains("Welcome, Dave &lt;b&gt;."), "{page}");

    // ReadOnly: 1 h → 8 h; credentials issued from then on last 8 h.
    let (status, _, page) =
        b.post("/admin/session-duration", &[("csrf", &csrf), ("permission_set", "ReadOnly"), ("hours", "8")]).await;
    assert_eq!(status, 200);
    assert!(page.contains("ReadOnly now lasts 8 hour(s)"), "{page}");
    let token = device_login(&s, "alice").await;
    let rc = role_credentials(&s.url, &token, "111111111111", "ReadOnly").await;
    let left = rc.expiration() / 1000 - s.idc.clock().now_s();
    assert!((8 * 3600 - 60..=8 * 3600).contains(&left), "{left} s");
    for hours in ["13", "0", "eight"] {
        let (status, _, page) = b
            .post("/admin/session-duration", &[("csrf", &csrf), ("permission_set", "ReadOnly"), ("hours", hours)])
            .await;
        assert_eq!(status, 400, "{hours}: {page}");
    }
    assert_eq!(s.idc.directory().permission_sets[0].session_hours, 8);

    // Alice lost her phone: after a confirmation, her devices go and her sessions end.
    let (_, _, confirm) = b.post("/admin/reset-mfa", &[("csrf", &csrf), ("user", "alice")]).await;
    assert!(confirm.contains("Remove every MFA device of alice?"), "{confirm}");
    assert_eq!(s.idc.directory().user("alice").unwrap().mfa.len(), 1, "nothing changed before the confirmation");
    let (status, _, page) = b.post("/admin/reset-mfa", &[("csrf", &csrf), ("user", "alice"), ("confirm", "yes")]).await;
    assert_eq!(status, 200);
    assert!(page.contains("Removed the MFA devices of alice and ended 1 session(s)"), "{page}");
    assert!(s.idc.directory().user("alice").unwrap().mfa.is_empty());
    assert!(portal(&s.url).list_accounts().access_token(&token).send().await.is_err(), "her token ended");
    // Her next sign-in asks her to enrol a new device (the instance requires MFA).
    let mut her = Browser::new(&s.url);
    let (_, _, page) = her.get("/signin?next=/start").await;
    let csrf = field(&page, "csrf");
    let (_, _, page) = her
        .post("/signin", &[("csrf", &csrf), ("next", "/start"), ("username", "alice"), ("password", ALICE_PASSWORD)])
        .await;
    assert!(page.contains("Set up an MFA device"), "{page}");
    // Without the admin's CSRF token, nothing happens.
    let (status, _, _) = b.post("/admin/users", &[("user", "mallory")]).await;
    assert_eq!(status, 403);
    assert!(s.idc.directory().user("mallory").is_none());
}

/// The rest of the directory as forms: groups and memberships, accounts,
/// permission sets, assignments (taking effect in the portal at once), and
/// disabling a user (their sessions end, sign-in is refused).
#[tokio::test(flavor = "multi_thread")]
async fn admin_forms_groups_accounts_permission_sets_assignments_and_disabling() {
    let s = demo().await;
    let mut b = Browser::new(&s.url);
    let (_, _, page) = b.get("/admin").await;
    let csrf = field(&page, "csrf");
    b.post("/admin/login", &[("csrf", &csrf), ("token", s.idc.admin_token())]).await;
    let (_, _, admin) = b.get("/admin").await;
    let csrf = field(&admin, "csrf");
    let change = |fields: Vec<(&'static str, &'static str)>| {
        let mut all = vec![("csrf", csrf.clone())];
        all.extend(fields.into_iter().map(|(k, v)| (k, v.to_string())));
        all
    };
    async fn post(b: &mut Browser, fields: Vec<(&str, String)>) -> (u16, String) {
        let f: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (status, _, page) = b.post("/admin/change", &f).await;
        (status, page)
    }
    let token = device_login(&s, "alice").await;
    let roles = |token: String| {
        let url = s.url.clone();
        async move {
            let out = portal(&url).list_account_roles().access_token(&token).account_id("333333333333").send().await;
            out.map(|r| r.role_list().iter().map(|x| x.role_name().unwrap_or("").to_string()).collect::<Vec<_>>())
        }
    };

    for (fields, says) in [
        (vec![("op", "add-group"), ("group", "auditors")], "Added the group auditors."),
        (vec![("op", "add-member"), ("user", "alice"), ("group", "auditors")], "alice is now in auditors."),
        (
            vec![("op", "add-account"), ("account", "333333333333"), ("name", "Audit"), ("email", "audit@example.com")],
            "Added the account Audit (333333333333).",
        ),
        (
            vec![
                ("op", "add-permission-set"),
                ("permission_set", "SecurityAudit"),
                ("hours", "4"),
                ("policies", "SecurityAudit, ReadOnlyAccess"),
                (
                    "inline_policy",
                    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:*","Resource":"*"}]}"#,
                ),
            ],
            "Added the permission set SecurityAudit (4 h).",
        ),
        (
            vec![
                ("op", "assign"),
                ("principal", "group:auditors"),
                ("account", "333333333333"),
                ("permission_set", "SecurityAudit"),
            ],
            "Assigned SecurityAudit to group:auditors in 333333333333",
        ),
    ] {
        let (status, page) = post(&mut b, change(fields)).await;
        assert_eq!(status, 200, "{says}: {page}");
        assert!(page.contains(says), "{says}: {page}");
    }
    let ps = s.idc.directory().permission_sets.into_iter().find(|p| p.name == "SecurityAudit").unwrap();
    assert_eq!((ps.session_hours, ps.policies), (4, vec!["SecurityAudit".to_string(), "ReadOnlyAccess".to_string()]));
    assert!(ps.inline_policy.unwrap().contains("\"Deny\""));
    // At once in the portal, with the session she already has.
    assert_eq!(roles(token.clone()).await.unwrap(), ["SecurityAudit"]);

    // Refusals say why and change nothing.
    for (fields, says) in [
        (vec![("op", "add-group"), ("group", "auditors")], "a group `auditors` already exists"),
        (vec![("op", "add-member"), ("user", "nobody"), ("group", "auditors")], "no user `nobody`"),
        (vec![("op", "add-account"), ("account", "12"), ("name", "x")], "account id `12` must be 12 digits"),
        (
            vec![("op", "add-permission-set"), ("permission_set", "Big"), ("hours", "13")],
            "session_hours must be 1 to 12",
        ),
        (
            vec![
                ("op", "assign"),
                ("principal", "group:auditors"),
                ("account", "333333333333"),
                ("permission_set", "SecurityAudit"),
            ],
            "that assignment already exists",
        ),
        (
            vec![
                ("op", "assign"),
                ("principal", "user:ghost"),
                ("account", "333333333333"),
                ("permission_set", "SecurityAudit"),
            ],
            "is not `user:NAME` or `group:NAME`",
        ),
    ] {
        let (status, page) = post(&mut b, change(fields)).await;
        assert_eq!(status, 400, "{says}: {page}");
        assert!(page.contains(says), "{says}: {page}");
    }

    // Removing the assignment (or the membership) takes the role away.
    let (status, page) = post(
        &mut b,
        change(vec![
            ("op", "unassign"),
            ("principal", "group:auditors"),
            ("account", "333333333333"),
            ("permission_set", "SecurityAudit"),
        ]),
    )
    .await;
    assert_eq!(status, 200, "{page}");
    assert!(roles(token.clone()).await.unwrap().is_empty());
    let (status, _) =
        post(&mut b, change(vec![("op", "remove-member"), ("user", "alice"), ("group", "auditors")])).await;
    assert_eq!(status, 200);
    assert!(!s.idc.directory().user("alice").unwrap().groups.contains(&"auditors".to_string()));

    // Disabling alice ends her sessions and refuses her sign-in; enabling lets her back.
    let (status, page) = post(&mut b, change(vec![("op", "disable-user"), ("user", "alice")])).await;
    assert_eq!(status, 200);
    assert!(page.contains("Disabled alice: they cannot sign in, and 1 session(s) ended."), "{page}");
    assert!(roles(token).await.is_err(), "her token ended");
    let mut her = Browser::new(&s.url);
    let (status, _, page) = sign_in(&mut her, &s, "/signin?next=/start").await;
    assert_eq!(status, 200);
    assert!(page.contains("This user is disabled."), "{page}");
    let auth = oidc(&s.url).register_client().client_name("c").client_type("public").send().await.unwrap();
    let dev = oidc(&s.url)
        .start_device_authorization()
        .client_id(auth.client_id().unwrap())
        .client_secret(auth.client_secret().unwrap())
        .start_url(START_URL)
        .send()
        .await
        .unwrap();
    assert!(s.idc.approve_device(dev.user_code().unwrap(), "alice").is_err(), "no new session for a disabled user");
    let (status, page) = post(&mut b, change(vec![("op", "enable-user"), ("user", "alice")])).await;
    assert_eq!((status, page.contains("Enabled alice.")), (200, true));
    s.idc.approve_device(dev.user_code().unwrap(), "alice").unwrap();
}

/// Seed 003 set up from the admin pages: an IAM user with an access key
/// (its secret shown once) and a virtual MFA device, a role that trusts the
/// user and requires MFA; STS honours each at once, and deleting takes effect
/// at once too.
#[tokio::test(flavor = "multi_thread")]
async fn admin_forms_iam_users_access_keys_mfa_devices_and_roles() {
    let s = demo().await;
    let mut b = Browser::new(&s.url);
    let (_, _, page) = b.get("/admin").await;
    let csrf = field(&page, "csrf");
    b.post("/admin/login", &[("csrf", &csrf), ("token", s.idc.admin_token())]).await;
    let (_, _, admin) = b.get("/admin").await;
    let csrf = field(&admin, "csrf");
    let shown_once = |page: &str| -> Vec<String> {
        let pre =
            page.split("<pre id=\"secret-once\">").nth(1).expect("a secret shown once").split("</pre>").next().unwrap();
        pre.lines().map(|l| l.split(" = ").nth(1).unwrap_or(l).to_string()).collect()
    };
    let acct = "123456789012";
    let (status, _, page) =
        b.post("/admin/change", &[("csrf", &csrf), ("op", "add-iam-user"), ("account", acct), ("user", "erin")]).await;
    assert_eq!(status, 200, "{page}");
    let (_, _, page) =
        b.post("/admin/change", &[("csrf", &csrf), ("op", "create-key"), ("account", acct), ("user", "erin")]).await;
    let key = shown_once(&page);
    let (key_id, secret) = (key[0].clone(), key[1].clone());
    assert!(key_id.starts_with("AKIA") && secret.len() == 40, "{key:?}");
    let (_, _, page) = b.get("/admin").await;
    assert!(page.contains(&key_id) && !page.contains(&secret), "the id stays visible, the secret does not");

    let erin = sts(&s.url, &key_id, &secret, None);
    let me = erin.get_caller_identity().send().await.unwrap();
    assert_eq!(me.arn(), Some("arn:aws:iam::123456789012:user/erin"));

    let (_, _, page) = b
        .post(
            "/admin/change",
            &[("csrf", &csrf), ("op", "add-iam-mfa"), ("account", acct), ("user", "erin"), ("device", "erin-phone")],
        )
        .await;
    let mfa = shown_once(&page);
    assert_eq!(mfa[0], "arn:aws:iam::123456789012:mfa/erin-phone");
    let code = |offset: i64| {
        let secret = tobira_idc::totp::decode_secret(&mfa[1]).unwrap();
        tobira_idc::totp::code_at_step(&secret, s.idc.clock().now_s().div_euclid(30) + offset, 6)
    };
    let session = erin.get_session_token().serial_number(&mfa[0]).token_code(code(0)).send().await.unwrap();
    let c = session.credentials().unwrap();

    let trust = "arn:aws:iam::123456789012:user/erin";
    let (status, _, page) = b
        .post(
            "/admin/change",
            &[
                ("csrf", &csrf),
                ("op", "add-role"),
                ("account", acct),
                ("name", "Deploy"),
                ("trust", trust),
                ("mfa_required", "on"),
                ("hours", "4"),
            ],
        )
        .await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Added the role arn:aws:iam::123456789012:role/Deploy."), "{page}");
    let with_mfa = sts(&s.url, c.access_key_id(), c.secret_access_key(), Some(c.session_token()));
    let assume = || {
        with_mfa
            .assume_role()
            .role_arn("arn:aws:iam::123456789012:role/Deploy")
            .role_session_name("deploy")
            .duration_seconds(4 * 3600)
            .send()
    };
    assume().await.unwrap();
    // Without MFA: denied (the role requires it).
    let e = erin
        .assume_role()
        .role_arn("arn:aws:iam::123456789012:role/Deploy")
        .role_session_name("no-mfa")
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.into_service_error().meta().code(), Some("AccessDenied"));
    // Refusals say why.
    for (fields, says) in [
        (
            vec![("op", "add-role"), ("account", acct), ("name", "R"), ("trust", "bob"), ("hours", "1")],
            "is not an IAM ARN",
        ),
        (vec![("op", "add-iam-user"), ("account", "12"), ("user", "x")], "must be 12 digits"),
        (vec![("op", "create-key"), ("account", acct), ("user", "nobody")], "there is no IAM user `nobody`"),
    ] {
        let mut all = vec![("csrf", csrf.as_str())];
        all.extend(fields);
        let (status, _, page) = b.post("/admin/change", &all).await;
        assert_eq!(status, 400, "{says}");
        assert!(page.contains(says), "{says}: {page}");
    }
    // Deleting the role and the key takes effect at once.
    b.post("/admin/change", &[("csrf", &csrf), ("op", "delete-role"), ("account", acct), ("name", "Deploy")]).await;
    let e = assume().await.unwrap_err();
    assert_eq!(e.into_service_error().meta().code(), Some("AccessDenied"));
    b.post(
        "/admin/change",
        &[("csrf", &csrf), ("op", "delete-key"), ("account", acct), ("user", "erin"), ("key_id", &key_id)],
    )
    .await;
    let e = erin.get_caller_identity().send().await.unwrap_err();
    assert_eq!(e.into_service_error().meta().code(), Some("InvalidClientTokenId"));
}
