//! STS GetFederationToken over HTTP (docs/wire.md §4.1): an IAM user's
//! long-term keys get a federated user's credentials, which STS and the
//! Sign-In federation endpoint accept as AWS does; everything else that
//! asks for them (session credentials of every kind, the federated user
//! itself, unsigned or tampered requests, bad parameters) is refused with
//! AWS's error code, and the root user's sessions are cut to an hour.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] fns

mod common;

use std::time::Duration;

use aws_sdk_sts::error::ProvideErrorMetadata as _;
use common::*;

/// An allow-all session policy, as CLIs send so that the federated user
/// keeps the IAM user's permissions.
const ALLOW_ALL: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
const ACCOUNT: &str = "123456789012";
const ROOT_KEY: &str = "AKIAROOTKEYEXAMPLE01";
const ROOT_SECRET: &str = "rootSecretKeyForTheDemoAccount0000000000";

fn q(pairs: &[(&str, &str)]) -> String {
    serde_urlencoded::to_string(pairs).unwrap()
}

/// A hand-signed STS call with bob's long-term keys: status and XML.
async fn as_bob(s: &Server, body: &str) -> (u16, String) {
    let (_, headers) = SigV4::bob(&s.idc).sign(&s.url, body);
    sts_raw(&s.url, &headers, body).await
}

/// `(status, Code, Message)` of a hand-signed GetFederationToken with extra parameters.
async fn gft(s: &Server, params: &[(&str, &str)]) -> (u16, Option<String>, Option<String>) {
    let mut pairs = vec![("Action", "GetFederationToken"), ("Version", "2011-06-15")];
    pairs.extend_from_slice(params);
    let (status, xml) = as_bob(s, &q(&pairs)).await;
    (status, xml_text(&xml, "Code"), xml_text(&xml, "Message").map(|m| unescape(&m)))
}

fn unescape(xml: &str) -> String {
    xml.replace("&apos;", "'").replace("&quot;", "\"").replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
}

fn client(s: &Server, c: &aws_sdk_sts::types::Credentials) -> aws_sdk_sts::Client {
    sts(&s.url, c.access_key_id(), c.secret_access_key(), Some(c.session_token()))
}

async fn federated(s: &Server, name: &str, seconds: Option<i32>) -> aws_sdk_sts::types::Credentials {
    let out = sts(&s.url, BOB_KEY, BOB_SECRET, None)
        .get_federation_token()
        .name(name)
        .set_duration_seconds(seconds)
        .policy(ALLOW_ALL)
        .send()
        .await
        .unwrap();
    out.credentials().unwrap().clone()
}

fn session_json(c: &aws_sdk_sts::types::Credentials) -> String {
    serde_json::json!({
        "sessionId": c.access_key_id(),
        "sessionKey": c.secret_access_key(),
        "sessionToken": c.session_token(),
    })
    .to_string()
}

async fn signin_token(s: &Server, c: &aws_sdk_sts::types::Credentials, duration: Option<&str>) -> (u16, String) {
    let session = session_json(c);
    let mut pairs = vec![("Action", "getSigninToken"), ("Session", session.as_str())];
    if let Some(d) = duration {
        pairs.push(("SessionDuration", d));
    }
    let (status, _, body) = get(&s.url, &format!("/federation?{}", q(&pairs))).await;
    (status, body)
}

fn page_field(page: &str, id: &str) -> String {
    let after = page.split(&format!("id=\"{id}\">")).nth(1).unwrap_or_else(|| panic!("no #{id}: {page}"));
    let text = after.strip_prefix("<code>").unwrap_or(after);
    text.split('<').next().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_iam_user_gets_federated_user_credentials_that_sts_knows() {
    let s = demo().await;
    let now = s.idc.clock().now_s();
    let out = sts(&s.url, BOB_KEY, BOB_SECRET, None)
        .get_federation_token()
        .name("bob@console")
        .duration_seconds(3600)
        .policy(ALLOW_ALL)
        .send()
        .await
        .unwrap();
    let c = out.credentials().unwrap();
    assert!(c.access_key_id().starts_with("ASIA") && c.access_key_id().len() == 20, "{}", c.access_key_id());
    assert!(!c.secret_access_key().is_empty() && !c.session_token().is_empty());
    assert_eq!(c.expiration().secs(), now + 3600);
    let user = out.federated_user().unwrap();
    assert_eq!(user.federated_user_id(), "123456789012:bob@console");
    assert_eq!(user.arn(), "arn:aws:sts::123456789012:federated-user/bob@console");
    #[allow(deprecated)] // the SDK's getter is deprecated; the element is still in the answer
    let packed = out.packed_policy_size().unwrap();
    assert!((1..=100).contains(&packed), "PackedPolicySize {packed}");

    // STS knows who they are.
    let me = client(&s, c).get_caller_identity().send().await.unwrap();
    assert_eq!(me.arn(), Some("arn:aws:sts::123456789012:federated-user/bob@console"));
    assert_eq!(me.user_id(), Some("123456789012:bob@console"));
    assert_eq!(me.account(), Some(ACCOUNT));

    // Without DurationSeconds: 12 hours. Without a policy: no PackedPolicySize.
    let now = s.idc.clock().now_s();
    let out = sts(&s.url, BOB_KEY, BOB_SECRET, None).get_federation_token().name("bob").send().await.unwrap();
    assert_eq!(out.credentials().unwrap().expiration().secs(), now + 43_200);
    #[allow(deprecated)]
    let packed = out.packed_policy_size();
    assert_eq!(packed, None);
    // The longest: 36 hours.
    let out = sts(&s.url, BOB_KEY, BOB_SECRET, None)
        .get_federation_token()
        .name("bob")
        .duration_seconds(129_600)
        .send()
        .await
        .unwrap();
    assert_eq!(out.credentials().unwrap().expiration().secs(), now + 129_600);

    // The raw answer, signed by the tests' own signer, with a managed session policy.
    let body = q(&[
        ("Action", "GetFederationToken"),
        ("Version", "2011-06-15"),
        ("Name", "raw"),
        ("DurationSeconds", "900"),
        ("PolicyArns.member.1.arn", "arn:aws:iam::aws:policy/ReadOnlyAccess"),
    ]);
    let (status, xml) = as_bob(&s, &body).await;
    assert_eq!(status, 200, "{xml}");
    assert!(
        xml.starts_with("<GetFederationTokenResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"),
        "{xml}"
    );
    assert_eq!(xml_text(&xml, "FederatedUserId").as_deref(), Some("123456789012:raw"));
    assert_eq!(xml_text(&xml, "Arn").as_deref(), Some("arn:aws:sts::123456789012:federated-user/raw"));
    assert!(xml_text(&xml, "PackedPolicySize").is_some(), "{xml}");
    assert!(xml_text(&xml, "Expiration").unwrap().ends_with('Z'), "{xml}");
    assert_eq!(s.idc.count("GetFederationToken"), 4, "counted by the middleware");
}

#[tokio::test(flavor = "multi_thread")]
async fn unsigned_and_tampered_requests_are_refused() {
    let s = demo().await;
    let body = q(&[("Action", "GetFederationToken"), ("Version", "2011-06-15"), ("Name", "bob")]);
    let (status, xml) = sts_raw(&s.url, &[("content-type".into(), FORM.into())], &body).await;
    assert_eq!((status, xml_text(&xml, "Code").as_deref()), (403, Some("MissingAuthenticationToken")), "{xml}");

    // A valid signature over another body (a different Name).
    let (_, headers) = SigV4::bob(&s.idc).sign(&s.url, &body);
    let other = body.replace("Name=bob", "Name=mallory");
    let (status, xml) = sts_raw(&s.url, &headers, &other).await;
    assert_eq!((status, xml_text(&xml, "Code").as_deref()), (403, Some("SignatureDoesNotMatch")), "{xml}");
    // One hex digit of the signature changed.
    let (signature, headers) = SigV4::bob(&s.idc).sign(&s.url, &body);
    let flipped = format!("{}{}", &signature[..63], if signature.ends_with('0') { '1' } else { '0' });
    let headers: Vec<(String, String)> =
        headers.into_iter().map(|(k, v)| (k, v.replace(&signature, &flipped))).collect();
    let (status, xml) = sts_raw(&s.url, &headers, &body).await;
    assert_eq!((status, xml_text(&xml, "Code").as_deref()), (403, Some("SignatureDoesNotMatch")), "{xml}");
    // The wrong secret, an unknown key.
    let e = sts(&s.url, BOB_KEY, "wrong", None).get_federation_token().name("bob").send().await.unwrap_err();
    assert_eq!(e.code(), Some("SignatureDoesNotMatch"));
    let e = sts(&s.url, "AKIAUNKNOWNKEY000000", BOB_SECRET, None)
        .get_federation_token()
        .name("bob")
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("InvalidClientTokenId"));
    assert_eq!(s.idc.count("GetFederationToken"), 5);
}

#[tokio::test(flavor = "multi_thread")]
async fn session_credentials_of_every_kind_cannot_ask_for_a_federation_token() {
    let s = demo().await;
    let refused = "Cannot call GetFederationToken with session credentials";
    // IAM Identity Center role credentials.
    let token = device_login(&s, "alice").await;
    let rc = role_credentials(&s.url, &token, "111111111111", "ReadOnly").await;
    let e = sts_with(&s.url, &rc).get_federation_token().name("alice").send().await.unwrap_err();
    assert_eq!((e.code(), e.message()), (Some("AccessDenied"), Some(refused)));
    // An assumed role's credentials (Audit trusts ReadOnly sessions).
    let audit = sts_with(&s.url, &rc)
        .assume_role()
        .role_arn("arn:aws:iam::123456789012:role/Audit")
        .role_session_name("alice")
        .external_id("audit-ext-1")
        .send()
        .await
        .unwrap();
    let e = client(&s, audit.credentials().unwrap()).get_federation_token().name("x1").send().await.unwrap_err();
    assert_eq!((e.code(), e.message()), (Some("AccessDenied"), Some(refused)));
    // GetSessionToken credentials (with and without MFA).
    let bob = sts(&s.url, BOB_KEY, BOB_SECRET, None);
    let plain = bob.get_session_token().send().await.unwrap();
    let e = client(&s, plain.credentials().unwrap()).get_federation_token().name("bob").send().await.unwrap_err();
    assert_eq!((e.code(), e.message()), (Some("AccessDenied"), Some(refused)));
    let code = bob_code(&s.idc, 0);
    let mfa = bob.get_session_token().serial_number(BOB_MFA).token_code(&code).send().await.unwrap();
    let e = client(&s, mfa.credentials().unwrap()).get_federation_token().name("bob").send().await.unwrap_err();
    assert_eq!((e.code(), e.message()), (Some("AccessDenied"), Some(refused)));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_federated_user_may_call_no_sts_operation_but_get_caller_identity() {
    let s = demo().await;
    let c = federated(&s, "bob", Some(3600)).await;
    let me = client(&s, &c);
    me.get_caller_identity().send().await.unwrap();
    let e = me.get_federation_token().name("again").send().await.unwrap_err();
    assert_eq!(e.code(), Some("AccessDenied"));
    assert_eq!(e.message(), Some("Cannot call GetFederationToken with session credentials"));
    let e = me.get_session_token().send().await.unwrap_err();
    assert_eq!(e.code(), Some("AccessDenied"));
    // Audit trusts every principal of the account, yet not a federated user.
    let e = me
        .assume_role()
        .role_arn("arn:aws:iam::123456789012:role/Audit")
        .role_session_name("fed")
        .external_id("audit-ext-1")
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("AccessDenied"));
    assert_eq!(
        e.message(),
        Some(
            "User: arn:aws:sts::123456789012:federated-user/bob is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::123456789012:role/Audit"
        )
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn names_durations_and_policies_are_validated_as_aws_does() {
    let s = demo().await;
    let v = |field: &str, value: &str, rule: &str| {
        format!(
            "1 validation error detected: Value '{value}' at '{field}' failed to satisfy constraint: Member must {rule}"
        )
    };
    let long = "a".repeat(33);
    for (name, rule) in [
        ("a", "have length greater than or equal to 2"),
        (long.as_str(), "have length less than or equal to 32"),
        ("bob smith", "satisfy regular expression pattern: [\\w+=,.@-]+"),
        ("bob/x", "satisfy regular expression pattern: [\\w+=,.@-]+"),
        ("bób", "satisfy regular expression pattern: [\\w+=,.@-]+"),
    ] {
        let (status, code, message) = gft(&s, &[("Name", name)]).await;
        assert_eq!((status, code.as_deref()), (400, Some("ValidationError")), "Name={name}");
        assert_eq!(message.unwrap(), v("name", name, rule));
    }
    let (status, code, _) = gft(&s, &[("Name", &"a".repeat(32))]).await;
    assert_eq!((status, code), (200, None), "32 characters are allowed");
    let (status, code, _) = gft(&s, &[("Name", "Az09_+=,.@-")]).await;
    assert_eq!((status, code), (200, None), "every allowed character");
    let (status, code, message) = gft(&s, &[]).await;
    assert_eq!((status, code.as_deref()), (400, Some("MissingParameter")));
    assert!(message.unwrap().contains("Name"));

    for (d, rule) in
        [("899", "have value greater than or equal to 900"), ("129601", "have value less than or equal to 129600")]
    {
        let (status, code, message) = gft(&s, &[("Name", "bob"), ("DurationSeconds", d)]).await;
        assert_eq!((status, code.as_deref()), (400, Some("ValidationError")), "DurationSeconds={d}");
        assert_eq!(message.unwrap(), v("durationSeconds", d, rule));
    }
    let (status, code, _) = gft(&s, &[("Name", "bob"), ("DurationSeconds", "12h")]).await;
    assert_eq!((status, code.as_deref()), (400, Some("ValidationError")));

    let (status, code, _) = gft(&s, &[("Name", "bob"), ("Policy", "{not json")]).await;
    assert_eq!((status, code.as_deref()), (400, Some("MalformedPolicyDocument")));
    let (status, code, _) = gft(&s, &[("Name", "bob"), ("Policy", r#"{"Version":"2012-10-17"}"#)]).await;
    assert_eq!((status, code.as_deref()), (400, Some("MalformedPolicyDocument")), "no Statement");
    let big = format!(r#"{{"Statement":[],"Pad":"{}"}}"#, "x".repeat(2048));
    let (status, code, _) = gft(&s, &[("Name", "bob"), ("Policy", &big)]).await;
    assert_eq!((status, code.as_deref()), (400, Some("ValidationError")), "longer than 2048");
    let arns: Vec<(String, String)> = (1..=11)
        .map(|i| (format!("PolicyArns.member.{i}.arn"), format!("arn:aws:iam::123456789012:policy/p{i}")))
        .collect();
    let pairs: Vec<(&str, &str)> = arns.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let (status, code, _) = gft(&s, &[&[("Name", "bob")], &pairs[..]].concat()).await;
    assert_eq!((status, code.as_deref()), (400, Some("ValidationError")), "more than 10 managed policies");
    let (status, code, _) = gft(&s, &[&[("Name", "bob")], &pairs[..10]].concat()).await;
    assert_eq!((status, code), (200, None), "10 managed policies are allowed");
    let (status, code, _) = gft(&s, &[("Name", "bob"), ("PolicyArns.member.1.arn", "not-an-arn")]).await;
    assert_eq!((status, code.as_deref()), (400, Some("ValidationError")));
}

#[tokio::test(flavor = "multi_thread")]
async fn root_keys_get_at_most_an_hour_and_no_role() {
    let mut dir = tobira_idc::Directory::demo();
    let account = dir.accounts.iter_mut().find(|a| a.id == "111111111111").unwrap();
    account.root_access_keys.push(tobira_idc::directory::AccessKey { id: ROOT_KEY.into(), secret: ROOT_SECRET.into() });
    let s = start(tobira_idc::Settings { directory: Some(dir), ..tobira_idc::Settings::default() }).await;
    let root = sts(&s.url, ROOT_KEY, ROOT_SECRET, None);
    let me = root.get_caller_identity().send().await.unwrap();
    assert_eq!(me.arn(), Some("arn:aws:iam::111111111111:root"));
    assert_eq!(me.user_id(), Some("111111111111"), "the root user's UserId is the account id");

    // Longer than an hour: an hour, not an error.
    let now = s.idc.clock().now_s();
    let out = root.get_federation_token().name("root-console").duration_seconds(7200).send().await.unwrap();
    assert_eq!(out.credentials().unwrap().expiration().secs(), now + 3600);
    assert_eq!(out.federated_user().unwrap().arn(), "arn:aws:sts::111111111111:federated-user/root-console");
    let out = root.get_federation_token().name("root-console").send().await.unwrap();
    assert_eq!(out.credentials().unwrap().expiration().secs(), now + 3600, "the 12-hour default is cut too");
    let out = root.get_federation_token().name("root-console").duration_seconds(900).send().await.unwrap();
    assert_eq!(out.credentials().unwrap().expiration().secs(), now + 900);
    let out = root.get_session_token().duration_seconds(7200).send().await.unwrap();
    assert_eq!(out.credentials().unwrap().expiration().secs(), now + 3600, "GetSessionToken likewise");
    // Still validated first.
    let e = root.get_federation_token().name("root-console").duration_seconds(129_601).send().await.unwrap_err();
    assert_eq!(e.code(), Some("ValidationError"));
    let e = root
        .assume_role()
        .role_arn("arn:aws:iam::123456789012:role/Audit")
        .role_session_name("root")
        .external_id("audit-ext-1")
        .send()
        .await
        .unwrap_err();
    assert_eq!((e.code(), e.message()), (Some("AccessDenied"), Some("Roles may not be assumed by root accounts.")));
    // Root keys carry no session token.
    let e = sts(&s.url, ROOT_KEY, ROOT_SECRET, Some("IQoJbogus")).get_caller_identity().send().await.unwrap_err();
    assert_eq!(e.code(), Some("InvalidClientTokenId"));
}

#[tokio::test(flavor = "multi_thread")]
async fn federated_credentials_open_the_console_for_as_long_as_they_last() {
    let s = demo().await;
    let c = federated(&s, "bob-console", Some(7200)).await;
    // SessionDuration is not for federated users' credentials.
    let (status, body) = signin_token(&s, &c, Some("3600")).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("SessionDuration") && body.contains("GetFederationToken"), "{body}");

    let (status, body) = signin_token(&s, &c, None).await;
    assert_eq!(status, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    let token = v["SigninToken"].as_str().unwrap();
    let login = format!(
        "/federation?{}",
        q(&[
            ("Action", "login"),
            ("Issuer", "tobira"),
            ("Destination", "https://console.aws.amazon.com/"),
            ("SigninToken", token)
        ])
    );
    let mut b = Browser::new(&s.url);
    let (status, head, _) = b.get(&login).await;
    assert_eq!((status, location(&head).as_str()), (302, "/console"), "{head}");
    let (status, _, page) = b.get("/console").await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page_field(&page, "federated-user"), "bob-console");
    assert_eq!(page_field(&page, "arn"), "arn:aws:sts::123456789012:federated-user/bob-console");
    assert_eq!(page_field(&page, "account"), ACCOUNT);
    assert!(!page.contains("id=\"role\""), "a federated user has no role: {page}");
    let until: jiff::Timestamp = page_field(&page, "expires").parse().unwrap();
    assert_eq!(until.as_second(), c.expiration().secs(), "the credentials' expiry (2 h), not the 1-hour default");

    // The credentials expire: STS and the federation endpoint refuse them,
    // and the console session ends with them.
    s.idc.clock().advance(Duration::from_secs(7201));
    let (status, body) = signin_token(&s, &c, None).await;
    assert_eq!(status, 400);
    assert!(body.contains("expired"), "{body}");
    let (status, _, _) = b.get("/console").await;
    assert_eq!(status, 401);
    let signer = SigV4 {
        key: c.access_key_id(),
        secret: c.secret_access_key(),
        session_token: Some(c.session_token()),
        signed: vec!["content-type", "host", "x-amz-date", "x-amz-security-token"],
        ..SigV4::bob(&s.idc)
    };
    let body = "Action=GetCallerIdentity&Version=2011-06-15";
    let (_, headers) = signer.sign(&s.url, body);
    let (status, xml) = sts_raw(&s.url, &headers, body).await;
    assert_eq!((status, xml_text(&xml, "Code").as_deref()), (403, Some("ExpiredToken")), "{xml}");
}

#[tokio::test(flavor = "multi_thread")]
async fn tampered_federated_credentials_do_not_sign_in() {
    let s = demo().await;
    let c = federated(&s, "bob", Some(900)).await;
    let bad = |key: &str, secret: &str, token: &str| {
        serde_json::json!({ "sessionId": key, "sessionKey": secret, "sessionToken": token }).to_string()
    };
    let mut token = c.session_token().to_string();
    let i = token.len() / 2;
    let flipped = if &token[i..=i] == "A" { "B" } else { "A" };
    token.replace_range(i..=i, flipped);
    for session in [
        bad(c.access_key_id(), "wrong-secret", c.session_token()),
        bad(c.access_key_id(), c.secret_access_key(), &token),
        bad("ASIAOTHERKEY00000000", c.secret_access_key(), c.session_token()),
    ] {
        let path = format!("/federation?{}", q(&[("Action", "getSigninToken"), ("Session", &session)]));
        let (status, _, body) = get(&s.url, &path).await;
        assert_eq!(status, 400, "{body}");
    }
}
