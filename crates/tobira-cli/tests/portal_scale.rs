//! `tobira sso accounts` / `sso roles` over a large organisation behind the
//! portal's rate limit (tobira-idc's `--portal-rps-limit`), injected 5xx
//! answers, and failures that leave part of the listing: nothing listed is
//! thrown away, and the error says what was done.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] fns

use tobira_idc::{Faults, OneShot, Settings};
use tobira_test_support::{IdcServer, Run, TestEnv, organisation, organisation_account_id, run};

const TOBIRA: &str = env!("CARGO_BIN_EXE_tobira");
const ROLES: [&str; 3] = ["Billing", "FullAccess", "ReadOnly"];

const CONFIG: &str = "\
[sso-session corp]
sso_start_url = https://d-1234567890.awsapps.com/start
sso_region = us-east-1
sso_registration_scopes = sso:account:access
";

fn tobira(t: &TestEnv, args: &[&str]) -> Run {
    let mut cmd = t.command(TOBIRA);
    cmd.args(args);
    run(cmd)
}

/// A signed-in HOME against a tobira-idc serving `accounts` accounts with
/// three roles each.
async fn signed_in(accounts: usize) -> (IdcServer, TestEnv) {
    let s = IdcServer::start(Settings { auto_approve: Some("alice".into()), ..Settings::default() }).await;
    s.idc.replace_directory(organisation(accounts, &ROLES)).unwrap();
    let mut t = TestEnv::new();
    t.write_config(CONFIG);
    t.env("AWS_ENDPOINT_URL", &s.url);
    let r = tobira(&t, &["login", "--sso-session", "corp", "--use-device-code", "--no-browser"]);
    assert_eq!(r.code, Some(0), "{r:?}");
    (s, t)
}

fn expected_roles(accounts: usize) -> String {
    let mut text = "ACCOUNT       ROLE\n".to_string();
    for i in 1..=accounts {
        for r in ROLES {
            text.push_str(&format!("{}  {r}\n", organisation_account_id(i)));
        }
    }
    text
}

/// 200 accounts × 3 roles behind a limit of 20 calls a second (AWS's own):
/// every role is listed and nothing fails, although the server throttled.
/// Before tobira paced and retried its portal calls, this failed on the
/// first 429 (`TooManyRequestsException`) and printed nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_hundred_accounts_behind_a_20_per_second_limit() {
    let (s, t) = signed_in(200).await;
    s.idc.set_faults(Faults { portal_rps_limit: Some(20), ..Faults::default() });
    let r = tobira(&t, &["sso", "roles", "--sso-session", "corp"]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert_eq!(r.stdout, expected_roles(200));
    assert_eq!(r.stderr, "", "no progress bar without a terminal");
    // The server did throttle: more calls than the 200 role lists and the
    // 2 pages of accounts (100 a page) that succeeded.
    let calls = s.idc.count("ListAccountRoles") + s.idc.count("ListAccounts");
    assert!(calls > 202, "the limit was never hit ({calls} calls): this test would prove nothing");
    // Pages of 100 accounts (the most the API gives): 2 calls, not 10.
    assert_eq!(s.idc.count("ListAccounts"), 2);
    // The send rate learnt the limit: few calls were throttled.
    assert!(calls < 202 + 60, "{calls} calls for 202 answers");
}

/// A 500 from ListAccounts and a 503 from ListAccountRoles are retried.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn server_errors_are_retried() {
    let (s, t) = signed_in(3).await;
    let one_shot = vec![
        OneShot { operation: "ListAccounts".into(), code: "InternalServerException".into(), status: 500 },
        OneShot { operation: "ListAccountRoles".into(), code: "ServiceUnavailableException".into(), status: 503 },
    ];
    s.idc.set_faults(Faults { one_shot: one_shot.into(), ..Faults::default() });
    let r = tobira(&t, &["sso", "roles", "--sso-session", "corp"]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    assert_eq!(r.stdout, expected_roles(3));
    assert_eq!((s.idc.count("ListAccounts"), s.idc.count("ListAccountRoles")), (2, 4));
}

/// An error that another attempt cannot fix (403) for one account: the
/// other accounts' roles are printed, and the error says what was listed,
/// which call failed after how many attempts, and why.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_failed_account_keeps_the_others_and_says_what_was_done() {
    let (s, t) = signed_in(5).await;
    let one_shot =
        vec![OneShot { operation: "ListAccountRoles".into(), code: "ForbiddenException".into(), status: 403 }];
    s.idc.set_faults(Faults { one_shot: one_shot.into(), ..Faults::default() });
    let r = tobira(&t, &["sso", "roles", "--sso-session", "corp", "--json"]);
    assert_eq!(r.code, Some(8), "{r:?}");
    let rows: Vec<serde_json::Value> = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(rows.len(), 4 * 3, "the four other accounts' roles are printed");
    let listed: std::collections::BTreeSet<&str> = rows.iter().map(|r| r["account_id"].as_str().unwrap()).collect();
    let failed = (1..=5).map(organisation_account_id).find(|a| !listed.contains(a.as_str())).unwrap();
    assert_eq!(
        r.stderr,
        format!(
            "error: the roles of 1 account(s) could not be listed; those of 4 account(s) were, and are printed\n  account {failed}: ListAccountRoles failed after 1 attempt: An error occurred (ForbiddenException) when calling the ListAccountRoles operation: injected fault\n\nhint: what was listed is printed and complete for the accounts it names; run `tobira sso roles --sso-session corp` again to retry the rest, or `tobira sso roles --sso-session corp --account {failed}` for one account\n"
        )
    );

    // ListAccounts failing at once: nothing was listed, and the error is the call's own.
    let one_shot =
        vec![OneShot { operation: "ListAccounts".into(), code: "AccessDeniedException".into(), status: 400 }];
    s.idc.set_faults(Faults { one_shot: one_shot.into(), ..Faults::default() });
    let r = tobira(&t, &["sso", "accounts", "--sso-session", "corp"]);
    assert_eq!(r.code, Some(8), "{r:?}");
    assert_eq!(r.stdout, "");
    assert_eq!(
        r.stderr,
        "error: An error occurred (AccessDeniedException) when calling the ListAccounts operation: injected fault\n"
    );
}

/// On a terminal, a progress bar while the roles are listed (and the table after it).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_progress_bar_on_a_terminal() {
    let (s, t) = signed_in(60).await;
    s.idc.set_faults(Faults { portal_rps_limit: Some(20), ..Faults::default() });
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/pty_drive.py");
    let steps = serde_json::json!([
        {"expect": "accounts' roles listed"},
        {"expect": "100000000060  ReadOnly"},
    ]);
    let mut cmd = t.command("python3");
    cmd.arg(script).arg(steps.to_string()).arg("--").arg(TOBIRA).args(["sso", "roles"]).env("TERM", "xterm");
    let r = run(cmd);
    assert_eq!(r.code, Some(0), "{}\n{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("/60 accounts' roles listed"), "{}", r.stdout);
}
