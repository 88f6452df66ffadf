//! `tobira console` against tobira-idc: the profile's role session becomes
//! a sign-in URL (federation endpoint), which signs in once and lands on the
//! console page showing the right account and role; an IAM user's keys
//! become a federated user's (GetFederationToken) first; `--session-duration`
//! is checked before any call and reaches the server as `SessionDuration`
//! (role credentials) or `DurationSeconds` (GetFederationToken); an MFA
//! session is explained; an unreachable endpoint is a network error.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] fns

use tobira_idc::Settings;
use tobira_test_support::{IdcServer, Run, TestEnv, http_with, location, run};

const TOBIRA: &str = env!("CARGO_BIN_EXE_tobira");

const CONFIG: &str = "\
[profile dev]
sso_session = corp
sso_account_id = 111111111111
sso_role_name = ReadOnly
region = eu-west-1
[sso-session corp]
sso_start_url = https://d-1234567890.awsapps.com/start
sso_region = us-east-1
sso_registration_scopes = sso:account:access
[profile audit]
role_arn = arn:aws:iam::123456789012:role/Audit
source_profile = dev
external_id = audit-ext-1
[profile bob]
region = us-east-1
[profile bobmfa]
region = us-east-1
mfa_serial = arn:aws:iam::123456789012:mfa/bob-phone
[profile root]
region = us-east-1
";

const CREDENTIALS: &str = "\
[bob]
aws_access_key_id = AKIAIOSFODNN7EXAMPLE
aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY
[bobmfa]
aws_access_key_id = AKIAIOSFODNN7EXAMPLE
aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY
[root]
aws_access_key_id = AKIAROOTKEYEXAMPLE01
aws_secret_access_key = rootSecretKeyForTheDemoAccount0000000000
";

async fn setup() -> (IdcServer, TestEnv) {
    // The demo directory, plus root user keys for account 123456789012.
    let mut dir = tobira_idc::Directory::demo();
    dir.accounts.push(tobira_idc::directory::Account {
        id: "123456789012".into(),
        name: "Bob's".into(),
        root_access_keys: vec![tobira_idc::directory::AccessKey {
            id: "AKIAROOTKEYEXAMPLE01".into(),
            secret: "rootSecretKeyForTheDemoAccount0000000000".into(),
        }],
        ..Default::default()
    });
    let settings = Settings { auto_approve: Some("alice".into()), directory: Some(dir), ..Settings::default() };
    let s = IdcServer::start(settings).await;
    let mut t = TestEnv::new();
    t.write_config(CONFIG).write_credentials(CREDENTIALS);
    t.env("AWS_ENDPOINT_URL", &s.url);
    let r = tobira(&t, &["login", "--sso-session", "corp", "--use-device-code", "--no-browser"]);
    assert_eq!(r.code, Some(0), "{r:?}");
    (s, t)
}

fn tobira(t: &TestEnv, args: &[&str]) -> Run {
    let mut cmd = t.command(TOBIRA);
    cmd.args(args);
    run(cmd)
}

/// Opens a sign-in URL as a browser would: the login redirect, then the
/// landing page with the cookie it set. Returns the login status and page.
async fn open(url: &str) -> (u16, String) {
    let (status, head, body) = http_with("GET", url, &[], None).await;
    if status != 302 {
        return (status, body);
    }
    let cookie = head
        .lines()
        .find_map(|l| l.split_once(':').filter(|(k, _)| k.eq_ignore_ascii_case("set-cookie")).map(|(_, v)| v.trim()))
        .and_then(|v| v.split(';').next())
        .expect("a console session cookie")
        .to_string();
    let origin = url.split("/federation").next().unwrap();
    let to = location(&head).expect("Location");
    let (status, _, page) = http_with("GET", &format!("{origin}{to}"), &[("Cookie", &cookie)], None).await;
    (status, page)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sso_and_assumed_role_profiles_open_the_console_as_their_role() {
    let (s, t) = setup().await;
    let r = tobira(&t, &["console", "--profile", "dev", "--print"]);
    assert_eq!(r.code, Some(0), "{r:?}");
    let url = r.stdout.trim();
    assert!(url.starts_with(&format!("{}/federation?Action=login&", s.url)), "{url}");
    assert!(
        url.contains(
            "Destination=https%3A%2F%2Feu-west-1.console.aws.amazon.com%2Fconsole%2Fhome%3Fregion%3Deu-west-1"
        ),
        "{url}"
    );
    assert!(url.contains("&Issuer=https%3A%2F%2Fd-1234567890.awsapps.com%2Fstart&"), "the start URL: {url}");
    assert!(!url.contains("sessionKey") && !url.contains("IQoJ"), "no credentials in the URL: {url}");
    let (status, page) = open(url).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("111111111111"), "{page}");
    assert!(page.contains("AWSReservedSSO_ReadOnly_"), "{page}");
    // The URL signs in once.
    let (status, body) = open(url).await;
    assert_eq!(status, 400);
    assert!(body.contains("already used"), "{body}");

    // A role assumed from the SSO profile, with a service and region.
    let r = tobira(&t, &["console", "--profile", "audit", "--service", "s3", "--region", "us-west-2", "--print"]);
    assert_eq!(r.code, Some(0), "{r:?}");
    let url = r.stdout.trim();
    assert!(url.contains("us-west-2.console.aws.amazon.com%2Fs3%2Fhome"), "{url}");
    let (status, page) = open(url).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("123456789012") && page.contains("id=\"role\">Audit<"), "{page}");
}

/// The landing page's text for an element id (`<dd id="…">`, maybe `<code>`).
fn field(page: &str, id: &str) -> String {
    let after = page.split(&format!("id=\"{id}\">")).nth(1).unwrap_or_else(|| panic!("no #{id}: {page}"));
    after.strip_prefix("<code>").unwrap_or(after).split('<').next().unwrap().to_string()
}

/// Seconds from the server's clock to the console session's end on a page.
fn session_left(s: &IdcServer, page: &str) -> i64 {
    field(page, "expires").parse::<jiff::Timestamp>().unwrap().as_second() - s.idc.clock().now_s()
}

fn clean(r: &Run) {
    assert!(r.stdout.is_empty(), "{r:?}");
    assert!(!r.stderr.contains("panicked") && !r.stderr.contains("{ ") && !r.stderr.contains("Some("), "{}", r.stderr);
    assert!(r.stderr.starts_with("error: ") && r.stderr.contains("\nhint: "), "{}", r.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_iam_user_profile_opens_the_console_as_a_federated_user() {
    let (s, t) = setup().await;
    let r = tobira(&t, &["console", "--profile", "bob", "--print"]);
    assert_eq!(r.code, Some(0), "{r:?}");
    assert_eq!((s.idc.count("GetCallerIdentity"), s.idc.count("GetFederationToken")), (1, 1));
    // What was done for keys that cannot open the console, and the alternative.
    assert!(
        r.stderr.starts_with("note: profile `bob` has an IAM user's long-term keys, which cannot open the console; tobira made them a federated user, `bob`")
            && r.stderr.contains("`tobira configure role --source-profile bob`"),
        "{}",
        r.stderr
    );
    let url = r.stdout.trim();
    assert!(url.starts_with(&format!("{}/federation?Action=login&Issuer=tobira&", s.url)), "{url}");
    assert!(!url.contains("AKIA") && !url.contains("ASIA") && !url.contains("IQoJ"), "no credentials: {url}");
    let (status, page) = open(url).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(field(&page, "federated-user"), "bob", "named after the IAM user");
    assert_eq!(field(&page, "arn"), "arn:aws:sts::123456789012:federated-user/bob");
    assert_eq!(field(&page, "account"), "123456789012");
    // Without --session-duration: an hour (GetFederationToken's DurationSeconds).
    assert!((3590..=3600).contains(&session_left(&s, &page)), "{page}");

    // --session-duration becomes DurationSeconds, up to 36 hours; the
    // endpoint takes the credentials, so no SessionDuration was sent.
    let r = tobira(&t, &["console", "--profile", "bob", "--session-duration", "129600", "--print"]);
    assert_eq!(r.code, Some(0), "{r:?}");
    let (status, page) = open(r.stdout.trim()).await;
    assert_eq!(status, 200, "{page}");
    assert!((129_590..=129_600).contains(&session_left(&s, &page)), "{page}");

    // Root user keys: a federated user `root`, at most an hour (AWS's cut).
    let r = tobira(&t, &["console", "--profile", "root", "--session-duration", "7200", "--print"]);
    assert_eq!(r.code, Some(0), "{r:?}");
    let (status, page) = open(r.stdout.trim()).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(field(&page, "arn"), "arn:aws:sts::123456789012:federated-user/root");
    assert!((3590..=3600).contains(&session_left(&s, &page)), "{page}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn session_duration_reaches_role_sessions_as_session_duration() {
    let (s, t) = setup().await;
    // FullAccess credentials last 8 hours; the console session is what was asked.
    let mut t2 = TestEnv::new();
    t2.write_config(
        &CONFIG
            .replace("sso_role_name = ReadOnly", "sso_role_name = FullAccess")
            .replace("sso_account_id = 111111111111", "sso_account_id = 222222222222"),
    );
    t2.env("AWS_ENDPOINT_URL", &s.url);
    let r = tobira(&t2, &["login", "--sso-session", "corp", "--use-device-code", "--no-browser"]);
    assert_eq!(r.code, Some(0), "{r:?}");
    for (args, left) in
        [(&[][..], 3600), (&["--session-duration", "900"][..], 900), (&["--session-duration", "43200"][..], 8 * 3600)]
    {
        let mut all = vec!["console", "--profile", "dev", "--print"];
        all.extend_from_slice(args);
        let r = tobira(&t2, &all);
        assert_eq!(r.code, Some(0), "{args:?}: {r:?}");
        let (status, page) = open(r.stdout.trim()).await;
        assert_eq!(status, 200, "{page}");
        let got = session_left(&s, &page);
        assert!(
            (left - 10..=left).contains(&got),
            "{args:?}: {got} s, expected {left} (SessionDuration, cut to the credentials)"
        );
    }
    assert_eq!(s.idc.count("GetFederationToken"), 0, "role sessions need no federated user");
    // An assumed role (audit, from the ReadOnly session of the first env).
    let r = tobira(&t, &["console", "--profile", "audit", "--session-duration", "1800", "--print"]);
    assert_eq!(r.code, Some(0), "{r:?}");
    let (_, page) = open(r.stdout.trim()).await;
    assert!((1790..=1800).contains(&session_left(&s, &page)), "{page}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn bad_session_durations_and_mfa_sessions_are_refused_before_any_call() {
    let (s, t) = setup().await;
    let before = s.idc.counters();
    for (profile, value, code, words, fix) in [
        (
            "dev",
            "1h",
            2,
            "`--session-duration 1h` is not a whole number of seconds",
            "tobira console --profile dev --session-duration 3600",
        ),
        ("bob", "90m", 2, "not a whole number of seconds", "tobira console --profile bob --session-duration 3600"),
        (
            "dev",
            "899",
            2,
            "shorter than 900 seconds (15 minutes)",
            "tobira console --profile dev --session-duration 900",
        ),
        (
            "bob",
            "129601",
            2,
            "longer than 129600 seconds (36 hours)",
            "tobira console --profile bob --session-duration 129600",
        ),
        (
            "dev",
            "43201",
            2,
            "longer than 43200 seconds (12 hours), the longest console session AWS gives a role session",
            "tobira console --profile dev --session-duration 43200",
        ),
        ("audit", "86400", 2, "profile `audit`", "tobira console --profile audit --session-duration 43200"),
        (
            "bobmfa",
            "3600",
            5,
            "profile `bobmfa` signs in with an MFA session (GetSessionToken",
            "tobira configure role --source-profile bobmfa",
        ),
    ] {
        let r = tobira(&t, &["console", "--profile", profile, "--session-duration", value, "--print"]);
        assert_eq!(r.code, Some(code), "{profile} {value}: {r:?}");
        assert!(r.stderr.contains(words), "{profile} {value}: {}", r.stderr);
        assert!(r.stderr.contains(fix), "{profile} {value}: {}", r.stderr);
        clean(&r);
    }
    // No MFA prompt and no flag needed to be told.
    let r = tobira(&t, &["console", "--profile", "bobmfa", "--print"]);
    assert_eq!(r.code, Some(5), "{r:?}");
    assert!(r.stderr.contains("GetFederationToken"), "{}", r.stderr);
    clean(&r);
    assert_eq!(s.idc.counters(), before, "nothing was called");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_refused_get_federation_token_names_the_permission() {
    let (s, t) = setup().await;
    let mut faults = s.idc.faults();
    faults.one_shot.push_back(tobira_idc::OneShot {
        operation: "GetFederationToken".into(),
        code: "AccessDenied".into(),
        status: 403,
    });
    s.idc.set_faults(faults);
    let r = tobira(&t, &["console", "--profile", "bob", "--print"]);
    assert_eq!(r.code, Some(8), "{r:?}");
    assert!(
        r.stderr.contains("An error occurred (AccessDenied) when calling the GetFederationToken operation"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("sts:GetFederationToken"), "{}", r.stderr);
    assert!(r.stderr.contains("tobira configure role --source-profile bob"), "{}", r.stderr);
    clean(&r);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn bad_services_and_an_unreachable_endpoint_explain_themselves() {
    let (_s, mut t) = setup().await;
    let r = tobira(&t, &["console", "--profile", "dev", "--service", "s3/../x", "--print"]);
    assert_eq!(r.code, Some(2), "{r:?}");

    t.env("AWS_ENDPOINT_URL_SIGNIN", "http://127.0.0.1:1");
    let r = tobira(&t, &["console", "--profile", "dev", "--print"]);
    assert_eq!(r.code, Some(9), "{r:?}");
    assert!(r.stderr.contains("127.0.0.1:1"), "{}", r.stderr);
    assert!(r.stdout.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn credentials_the_endpoint_refuses_are_explained() {
    let (s, t) = setup().await;
    // Cached role credentials, fresh by this machine's clock, that tobira-idc
    // (its clock a day ahead) holds expired: the endpoint's reason is shown.
    let r = tobira(&t, &["whoami", "--profile", "dev"]);
    assert_eq!(r.code, Some(0), "{r:?}");
    s.idc.clock().advance(std::time::Duration::from_secs(24 * 3600));
    let r = tobira(&t, &["console", "--profile", "dev", "--print"]);
    assert_eq!(r.code, Some(8), "{r:?}");
    assert!(r.stderr.contains("refused the credentials of profile `dev` (HTTP 400)"), "{}", r.stderr);
    assert!(r.stderr.contains("expired"), "{}", r.stderr);
    assert!(r.stderr.contains("tobira login --profile dev"), "{}", r.stderr);
    assert!(r.stdout.is_empty());
}
