//! `tobira console` against tobira-idc: the profile's role session becomes
//! a sign-in URL (federation endpoint), which signs in once and lands on the
//! console page showing the right account and role; long-term keys are
//! refused with the alternative; an unreachable endpoint is a network error.
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
";

const CREDENTIALS: &str = "\
[bob]
aws_access_key_id = AKIAIOSFODNN7EXAMPLE
aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY
";

async fn setup() -> (IdcServer, TestEnv) {
    let s = IdcServer::start(Settings { auto_approve: Some("alice".into()), ..Settings::default() }).await;
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

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn long_term_keys_bad_services_and_an_unreachable_endpoint_explain_themselves() {
    let (_s, mut t) = setup().await;
    let r = tobira(&t, &["console", "--profile", "bob", "--print"]);
    assert_eq!(r.code, Some(5), "{r:?}");
    assert!(r.stderr.contains("long-term IAM user keys"), "{}", r.stderr);
    assert!(r.stderr.contains("assumes a role"), "{}", r.stderr);
    assert!(r.stdout.is_empty());
    assert!(!r.stderr.contains("panicked") && !r.stderr.contains("{ "), "{}", r.stderr);

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
