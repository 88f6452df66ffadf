//! `tobira sessions`: every cached sign-in and credential with its time
//! left, and `--check`, which asks the services whether each is still alive,
//! against tobira-idc with a sign-in the administrator revoked.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] fns

use serde_json::Value;
use tobira_idc::Settings;
use tobira_test_support::{IdcServer, Run, TestEnv, bob_mfa_code, run};

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
[profile bob-mfa]
mfa_serial = arn:aws:iam::123456789012:mfa/bob-phone
region = us-east-1
";

fn tobira(t: &TestEnv, args: &[&str]) -> Run {
    let mut cmd = t.command(TOBIRA);
    cmd.args(args);
    run(cmd)
}

fn rows(t: &TestEnv, args: &[&str]) -> Vec<Value> {
    let r = tobira(t, args);
    assert_eq!(r.code, Some(0), "{r:?}");
    serde_json::from_str::<Value>(&r.stdout).unwrap().as_array().unwrap().clone()
}

fn row<'a>(rows: &'a [Value], kind: &str) -> &'a Value {
    rows.iter().find(|r| r["kind"] == kind).unwrap_or_else(|| panic!("no {kind} row in {rows:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_sign_in_and_credential_with_its_time_left_and_a_check_with_the_services() {
    let s = IdcServer::start(Settings { auto_approve: Some("alice".into()), ..Settings::default() }).await;
    let mut t = TestEnv::new();
    t.write_config(CONFIG).write_credentials(
        "[bob-mfa]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n",
    );
    t.env("AWS_ENDPOINT_URL", &s.url);
    assert_eq!(tobira(&t, &["login", "--sso-session", "corp", "--use-device-code", "--no-browser"]).code, Some(0));
    assert_eq!(tobira(&t, &["whoami", "--profile", "audit"]).code, Some(0));
    let code = bob_mfa_code(&s.idc, 0);
    assert_eq!(tobira(&t, &["whoami", "--profile", "bob-mfa", "--mfa-code", &code]).code, Some(0));

    let all = rows(&t, &["sessions", "--json"]);
    let sso = row(&all, "sso");
    assert_eq!(
        (sso["name"].as_str(), sso["status"].as_str(), sso["refreshable"].as_bool()),
        (Some("corp"), Some("valid"), Some(true))
    );
    let left = sso["time_left_seconds"].as_i64().unwrap();
    assert!((8 * 3600 - 120..=8 * 3600).contains(&left), "{left}");
    assert!(sso.get("check").is_none(), "no question to the service without --check");
    let role = row(&all, "sso-role");
    assert_eq!(role["name"], "dev");
    assert_eq!(role["what"], "SSO role credentials (account 111111111111, role ReadOnly)");
    assert!(role["file"].as_str().unwrap().starts_with("~/.aws/cli/cache/"), "{role}");
    assert!(role["time_left_seconds"].as_i64().unwrap() > 3000, "{role}");
    assert_eq!(row(&all, "assumed-role")["name"], "audit");
    let mfa = row(&all, "mfa-session");
    assert_eq!((mfa["name"].as_str(), mfa["status"].as_str()), (Some("bob-mfa"), Some("valid")));
    assert!(mfa["time_left_seconds"].as_i64().unwrap() > 11 * 3600, "{mfa}");
    assert_eq!(all.len(), 4, "{all:?}");

    // The text says the same, with the time left.
    let r = tobira(&t, &["sessions"]);
    assert!(
        r.stdout.starts_with("corp\n  start URL  https://d-1234567890.awsapps.com/start\n  token      valid until "),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains(" left), refreshable\n  renew      `tobira login --sso-session corp`\n"), "{}", r.stdout);
    assert!(r.stdout.contains("MFA session (arn:aws:iam::123456789012:mfa/bob-phone) of profile `bob-mfa`\n  file       ~/.aws/tobira/mfa-sessions/"), "{}", r.stdout);
    assert!(r.stdout.contains("role arn:aws:iam::123456789012:role/Audit of profile `audit`\n"), "{}", r.stdout);

    // --check, all alive.
    let calls = s.idc.count("ListAccounts");
    let checked = rows(&t, &["sessions", "--json", "--check"]);
    assert_eq!(s.idc.count("ListAccounts"), calls + 1);
    assert_eq!(row(&checked, "sso")["check"], "alive");
    for kind in ["sso-role", "assumed-role", "mfa-session"] {
        assert_eq!(row(&checked, kind)["check"], "accepted by STS", "{kind}");
    }

    // The administrator revokes alice's sign-in: the files still say valid;
    // --check says revoked, and refused for what was issued from it.
    s.idc.revoke_user_sessions("alice").unwrap();
    assert_eq!(row(&rows(&t, &["sessions", "--json"]), "sso")["status"], "valid");
    let checked = rows(&t, &["sessions", "--json", "--check"]);
    let sso = row(&checked, "sso");
    assert_eq!(sso["status"], "revoked");
    assert!(sso["check"].as_str().unwrap().starts_with("revoked (UnauthorizedException: "), "{sso}");
    for kind in ["sso-role", "assumed-role"] {
        let r = row(&checked, kind);
        assert_eq!(r["status"], "refused", "{r}");
        assert!(r["check"].as_str().unwrap().starts_with("refused by STS (ExpiredToken: "), "{r}");
    }
    // bob's MFA session is not from the SSO sign-in.
    assert_eq!(row(&checked, "mfa-session")["check"], "accepted by STS");
    let r = tobira(&t, &["sessions", "--check"]);
    assert!(r.stdout.contains("  token      revoked until "), "{}", r.stdout);
    assert!(r.stdout.contains("  server     revoked (UnauthorizedException: "), "{}", r.stdout);
    assert!(r.stdout.contains("  STS        refused by STS (ExpiredToken: "), "{}", r.stdout);
}
