//! The long run with the other SDKs (botocore's is in server.rs): the AWS
//! SDK for Rust (aws-config's default chain, which reaches the container
//! credentials provider) and the AWS SDK for JavaScript v3 (pinned in
//! tests/sdk-js) call STS GetCallerIdentity in a loop through `tobira exec
//! --server` for 50 seconds, while tobira-idc issues credentials that last
//! 15 seconds: every credential used after the first 45 seconds was issued
//! after three expiries. No call may fail; the renewals are counted at
//! tobira-idc, and the access keys the SDK signed with show it switched.
#![allow(clippy::disallowed_methods, clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] fns

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Instant;

use tobira_idc::Settings;
use tobira_test_support::{IdcServer, Run, TestEnv, run};

const TOBIRA: &str = env!("CARGO_BIN_EXE_tobira");
/// How long everything tobira-idc issues lasts, and how long the SDKs call.
const LIFETIME: i64 = 15;
const SECONDS: u64 = 50;

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
region = us-east-1
";

async fn setup() -> (IdcServer, TestEnv) {
    let s = IdcServer::start(Settings {
        auto_approve: Some("alice".into()),
        credential_lifetime: Some(LIFETIME),
        ..Settings::default()
    })
    .await;
    let mut t = TestEnv::new();
    t.write_config(CONFIG);
    t.env("AWS_ENDPOINT_URL", &s.url);
    let mut cmd = t.command(TOBIRA);
    cmd.args(["login", "--sso-session", "corp", "--use-device-code", "--no-browser"]);
    let r = run(cmd);
    assert_eq!(r.code, Some(0), "{r:?}");
    (s, t)
}

/// `tobira exec --server --profile audit -- ARGV`, timed.
fn exec_server(t: &TestEnv, argv: &[&str]) -> (Run, f64) {
    let started = Instant::now();
    let mut cmd = t.command(TOBIRA);
    cmd.args(["exec", "--server", "--profile", "audit", "--"]).args(argv);
    let r = run(cmd);
    (r, started.elapsed().as_secs_f64())
}

/// Checks a run's JSON lines (`{"t", "ok", "key", "arn"}` per call) and the
/// counts at tobira-idc; returns a summary line.
fn check(sdk: &str, s: &IdcServer, r: &Run, elapsed: f64) -> String {
    assert_eq!(r.code, Some(0), "{sdk}: {r:?}");
    let calls: Vec<serde_json::Value> =
        r.stdout.lines().filter(|l| l.starts_with('{')).filter_map(|l| serde_json::from_str(l).ok()).collect();
    let failed: Vec<&serde_json::Value> = calls.iter().filter(|c| c["ok"] != true).collect();
    assert!(failed.is_empty(), "{sdk}: {} of {} calls failed: {failed:#?}\n{}", failed.len(), calls.len(), r.stderr);
    assert!(calls.len() >= 60, "{sdk}: only {} calls", calls.len());
    assert!(
        calls
            .iter()
            .all(|c| c["arn"].as_str().unwrap().starts_with("arn:aws:sts::123456789012:assumed-role/Audit/tobira-")),
        "{sdk}: {calls:?}"
    );
    // Calls went on for more than three lifetimes: what the SDK signed with
    // at the end was issued after three expiries.
    let first = calls[0]["t"].as_f64().unwrap();
    let last = calls[calls.len() - 1]["t"].as_f64().unwrap();
    assert!(last - first > (3 * LIFETIME) as f64, "{sdk}: calls spanned only {:.1} s", last - first);
    let keys: BTreeSet<&str> = calls.iter().map(|c| c["key"].as_str().unwrap()).collect();
    assert!(keys.len() >= 4, "{sdk} signed with {} access keys: {keys:?}", keys.len());
    // Renewed at half-life (every 7.5 s): at least 3, and not one per call.
    let renewals = s.idc.count("AssumeRole") - 1;
    let most = (elapsed / (LIFETIME as f64 / 2.0)).ceil() as i64 + 2;
    assert!((3..=most).contains(&renewals), "{sdk}: {renewals} renewals in {elapsed:.0} s");
    // The SSO role credentials behind each: one fetch per renewal, and at
    // most one more when a renewal and the SSO credentials' own expiry fall
    // in the same moment under load (seen once in a full-suite run).
    let role_fetches = s.idc.count("GetRoleCredentials");
    assert!(
        (renewals + 1..=renewals + 2).contains(&role_fetches),
        "{sdk}: {role_fetches} GetRoleCredentials for {renewals} renewals"
    );
    // No attempt was answered with an error and quietly made again (the
    // Rust SDK's calls record such answers).
    let refused: Vec<&serde_json::Value> =
        calls.iter().filter(|c| c["refused"].as_array().is_some_and(|a| !a.is_empty())).collect();
    assert!(refused.is_empty(), "{sdk}: attempts refused and retried: {refused:#?}");
    // Every call reached tobira-idc (an SDK may make an attempt again that
    // got no answer at all, e.g. on a pooled connection the server closed).
    let attempts = s.idc.count("GetCallerIdentity");
    assert!(attempts >= calls.len() as i64, "{sdk}: {attempts} attempts at tobira-idc for {} calls", calls.len());
    assert!(!r.stderr.contains("cannot renew"), "{sdk}: {}", r.stderr);
    format!(
        "{sdk}: {} calls ({attempts} attempts at tobira-idc) in {elapsed:.1} s, 0 failed; {renewals} renewals (AssumeRole {}, GetRoleCredentials {}, CreateToken {}); signed with {} access keys",
        calls.len(),
        s.idc.count("AssumeRole"),
        s.idc.count("GetRoleCredentials"),
        s.idc.count("CreateToken"),
        keys.len()
    )
}

/// The Rust SDK's side of [`the_rust_sdk_calls_sts_through_renewals_without_a_failure`]:
/// it needs the variables `tobira exec --server` sets, so it only runs as
/// that command (the test binary started again with `--ignored --exact`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "the command that the_rust_sdk_calls_sts_through_renewals_without_a_failure runs under tobira exec --server"]
async fn rust_sdk_sts_loop() {
    use aws_sdk_sts::config::interceptors::BeforeTransmitInterceptorContextRef;
    use aws_sdk_sts::config::{ConfigBag, Intercept, RuntimeComponents};
    use std::sync::{Arc, Mutex};

    /// The access key each request was signed with (its Authorization
    /// header), and the answers to attempts that the SDK made again.
    #[derive(Debug, Clone, Default)]
    struct SigningKey(Arc<Mutex<Option<String>>>, Arc<Mutex<Vec<String>>>);
    impl Intercept for SigningKey {
        fn name(&self) -> &'static str {
            "SigningKey"
        }
        fn read_before_transmit(
            &self,
            ctx: &BeforeTransmitInterceptorContextRef<'_>,
            _: &RuntimeComponents,
            _: &mut ConfigBag,
        ) -> Result<(), aws_sdk_sts::error::BoxError> {
            let auth = ctx.request().headers().get("authorization").unwrap_or_default();
            let key = auth.split("Credential=").nth(1).and_then(|r| r.split('/').next()).map(str::to_string);
            *self.0.lock().unwrap() = key;
            Ok(())
        }
        fn read_before_deserialization(
            &self,
            ctx: &aws_sdk_sts::config::interceptors::BeforeDeserializationInterceptorContextRef<'_>,
            _: &RuntimeComponents,
            _: &mut ConfigBag,
        ) -> Result<(), aws_sdk_sts::error::BoxError> {
            let r = ctx.response();
            if !r.status().is_success() {
                let body = r.body().bytes().map(|b| String::from_utf8_lossy(b).into_owned()).unwrap_or_default();
                self.1.lock().unwrap().push(format!("{}: {body}", r.status().as_u16()));
            }
            Ok(())
        }
    }

    #[allow(clippy::disallowed_methods)] // the loop's length, from the parent test
    let Some(seconds) = std::env::var("TOBIRA_SDK_LOOP_SECONDS").ok().and_then(|s| s.parse::<u64>().ok()) else {
        return;
    };
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(
            aws_smithy_http_client::tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https();
    // The default chain: environment, profile, web identity, then the
    // container credentials at AWS_CONTAINER_CREDENTIALS_FULL_URI.
    let shared = aws_config::defaults(aws_config::BehaviorVersion::latest()).http_client(http).load().await;
    let signing = SigningKey::default();
    let conf = aws_sdk_sts::config::Builder::from(&shared).interceptor(signing.clone()).build();
    let sts = aws_sdk_sts::Client::from_conf(conf);
    let end = Instant::now() + std::time::Duration::from_secs(seconds);
    let mut out = std::io::stdout().lock();
    while Instant::now() < end {
        let t = jiff::Timestamp::now().as_millisecond() as f64 / 1000.0;
        let line = match sts.get_caller_identity().send().await {
            Ok(o) => {
                let answers: Vec<String> = std::mem::take(&mut *signing.1.lock().unwrap());
                serde_json::json!({"t": t, "ok": true, "key": *signing.0.lock().unwrap(), "arn": o.arn(), "refused": answers})
            }
            Err(e) => {
                serde_json::json!({"t": t, "ok": false, "error": format!("{}", aws_sdk_sts::error::DisplayErrorContext(&e))})
            }
        };
        std::io::Write::write_all(&mut out, format!("{line}\n").as_bytes()).unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
}

#[allow(clippy::print_stdout)] // the measured numbers
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_rust_sdk_calls_sts_through_renewals_without_a_failure() {
    let (s, mut t) = setup().await;
    t.env("TOBIRA_SDK_LOOP_SECONDS", &SECONDS.to_string());
    let me = std::env::current_exe().unwrap();
    let me = me.to_string_lossy();
    let (r, elapsed) =
        exec_server(&t, &[&me, "--ignored", "--exact", "rust_sdk_sts_loop", "--nocapture", "--test-threads", "1"]);
    println!("{}", check("Rust SDK", &s, &r, elapsed));
}

/// tests/sdk-js with its pinned node_modules, or `None` when the interop
/// tools are knowingly absent (`TOBIRA_SKIP_INTEROP`).
fn sdk_js() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/sdk-js");
    let installed = dir.join("node_modules/@aws-sdk/client-sts").is_dir();
    #[allow(clippy::disallowed_methods)] // test switch
    if !installed && std::env::var_os("TOBIRA_SKIP_INTEROP").is_some() {
        return None;
    }
    assert!(installed, "{}/node_modules is missing: run scripts/test (it runs `npm ci` there)", dir.display());
    Some(dir)
}

#[allow(clippy::print_stdout)] // the measured numbers
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_js_sdk_calls_sts_through_renewals_without_a_failure() {
    let Some(dir) = sdk_js() else { return };
    let (s, t) = setup().await;
    let script = dir.join("sts-loop.mjs");
    let (r, elapsed) = exec_server(&t, &["node", &script.to_string_lossy(), &SECONDS.to_string()]);
    println!("{}", check("JS SDK v3", &s, &r, elapsed));
}
