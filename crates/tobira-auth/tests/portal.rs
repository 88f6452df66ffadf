//! Portal listings against a real tobira-idc on 127.0.0.1:0: paging,
//! concurrency, retries under a rate limit and injected faults, and what a
//! listing keeps when a call fails for good.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] fns

use std::sync::Mutex;
use std::time::Duration;

use tobira_auth::portal::{ListOptions, Progress, list_access, list_accounts};
use tobira_auth::throttle::RetryPolicy;
use tobira_auth::{Flow, LoginOptions, LoginUi, SsoTarget, login};
use tobira_cache::SsoCache;
use tobira_idc::{Faults, Idc, OneShot, Settings};
use tobira_test_support::{IdcServer, organisation, organisation_account_id};

const ROLES: [&str; 3] = ["Billing", "FullAccess", "ReadOnly"];

struct Approved;

impl LoginUi for Approved {
    fn device_prompt(&mut self, _: &str, _: &str, _: &str, _: bool) {}
    fn pkce_prompt(&mut self, _: &str, _: bool) {}
    fn open_browser(&mut self, _: &str) -> bool {
        false
    }
}

/// A server with `accounts` accounts of three roles, and alice's token.
async fn signed_in(accounts: usize) -> (IdcServer, SsoTarget, String, tempfile::TempDir) {
    let s = IdcServer::start(Settings { auto_approve: Some("alice".into()), ..Settings::default() }).await;
    s.idc.replace_directory(organisation(accounts, &ROLES)).unwrap();
    let target = SsoTarget {
        session: Some("corp".into()),
        start_url: "https://d-1234567890.awsapps.com/start".into(),
        region: "us-east-1".into(),
        scopes: Some(vec!["sso:account:access".into()]),
        oidc_endpoint: Some(s.url.clone()),
        portal_endpoint: Some(s.url.clone()),
        net: tobira_auth::Net::direct(),
    };
    let home = tempfile::tempdir().unwrap();
    let cache = SsoCache::in_home(home.path());
    let opts = LoginOptions {
        flow: Flow::Device,
        open_browser: false,
        timeout: Duration::from_secs(30),
        now: jiff::Timestamp::from_second(s.idc.clock().now_s()).unwrap(),
    };
    let token = login(&target, &cache, opts, &mut Approved).await.unwrap();
    (s, target, token.access_token.expose().to_string(), home)
}

fn one_shots(operation: &str, code: &str, status: u16, n: usize) -> Faults {
    let o = OneShot { operation: operation.into(), code: code.into(), status };
    Faults { one_shot: std::iter::repeat_n(o, n).collect(), ..Faults::default() }
}

/// Quick retries for tests: the policy's rules, not its pace, are under test.
fn quick(max_attempts: u32, concurrency: usize) -> ListOptions {
    ListOptions {
        concurrency,
        retry: RetryPolicy { max_attempts, base: Duration::from_millis(1), cap: Duration::from_millis(5) },
    }
}

#[derive(Default)]
struct Recorded(Mutex<Vec<(usize, usize)>>);

impl Progress for Recorded {
    fn accounts_listed(&self, n: usize) {
        self.0.lock().unwrap().push((n, 0));
    }
    fn roles_listed(&self, done: usize, total: usize) {
        self.0.lock().unwrap().push((done, total));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_role_of_every_account_under_a_rate_limit() {
    let (s, target, token, _home) = signed_in(30).await;
    s.idc.set_faults(Faults { portal_rps_limit: Some(10), ..Faults::default() });
    let progress = Recorded::default();
    let l =
        list_access(&target, &token, None, &ListOptions { concurrency: 4, ..ListOptions::default() }, &progress).await;
    assert!(l.complete(), "{:?}", l.failures);
    assert!(l.accounts_complete);
    assert_eq!(l.accounts.len(), 30);
    assert_eq!(l.accounts[0].name.as_deref(), Some("Account 0001"), "sorted by name");
    assert_eq!(l.roles.len(), 30);
    assert!(l.roles.values().all(|r| r == &ROLES), "{:?}", l.roles);
    assert!(l.stats.throttled > 0, "the limit was never hit: {:?}", l.stats);
    assert_eq!(l.stats.calls, 31 + l.stats.throttled);
    assert_eq!(l.stats.retries, l.stats.throttled);
    let seen = progress.0.lock().unwrap().clone();
    assert_eq!(seen.first(), Some(&(30, 0)), "one page of accounts");
    assert_eq!(seen.last(), Some(&(30, 30)));
    assert_eq!(seen.len(), 1 + 31, "accounts, then 0..=30 role lists");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_that_keeps_failing_gives_up_after_its_attempts_and_the_rest_go_on() {
    let (s, target, token, _home) = signed_in(4).await;
    s.idc.set_faults(one_shots("ListAccountRoles", "InternalServerException", 500, 3));
    let l = list_access(&target, &token, None, &quick(3, 1), &tobira_auth::portal::NoProgress).await;
    assert_eq!(l.failures.len(), 1);
    let f = &l.failures[0];
    assert_eq!((f.account.as_deref(), f.operation, f.attempts), (Some("100000000001"), "ListAccountRoles", 3));
    assert_eq!(
        f.error.to_string(),
        "An error occurred (InternalServerException) when calling the ListAccountRoles operation: injected fault"
    );
    assert_eq!(l.roles.len(), 3, "the three other accounts are listed");
    assert_eq!((l.stats.calls, l.stats.retries, l.stats.throttled), (1 + 3 + 3, 2, 0));

    // One attempt fewer than the faults: the retry succeeds.
    s.idc.set_faults(one_shots("ListAccountRoles", "InternalServerException", 500, 2));
    let l = list_access(&target, &token, None, &quick(3, 1), &tobira_auth::portal::NoProgress).await;
    assert!(l.complete() && l.roles.len() == 4, "{:?}", l.failures);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalid_session_stops_the_listing() {
    let (s, target, token, _home) = signed_in(5).await;
    s.idc.set_faults(one_shots("ListAccountRoles", "UnauthorizedException", 401, 1));
    let l = list_access(&target, &token, None, &quick(3, 1), &tobira_auth::portal::NoProgress).await;
    assert_eq!(l.failures.len(), 1);
    assert!(l.failures[0].error.needs_login());
    assert_eq!(l.failures[0].attempts, 1, "not retried");
    assert!(l.roles.is_empty(), "no call after the session was found invalid");
    assert_eq!(s.idc.count("ListAccountRoles"), 1);
}

/// Fails the next ListAccounts call once the first page has arrived.
struct FailSecondPage(Idc);

impl Progress for FailSecondPage {
    fn accounts_listed(&self, _: usize) {
        self.0.set_faults(one_shots("ListAccounts", "AccessDeniedException", 400, 1));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_page_of_accounts_keeps_the_pages_before_it() {
    let (s, target, token, _home) = signed_in(150).await;
    let progress = FailSecondPage(s.idc.clone());
    let l = list_accounts(&target, &token, &quick(3, 4), &progress).await;
    assert!(!l.accounts_complete);
    assert_eq!(l.accounts.len(), 100, "the first page (100 accounts) is kept");
    assert_eq!(l.failures.len(), 1);
    assert_eq!((l.failures[0].account.as_deref(), l.failures[0].operation), (None, "ListAccounts"));

    // With roles: the roles of the accounts that were listed are listed.
    let l = list_access(&target, &token, None, &quick(3, 4), &progress).await;
    assert!(!l.accounts_complete);
    assert_eq!((l.accounts.len(), l.roles.len(), l.failures.len()), (100, 100, 1));

    // Only some accounts: no ListAccounts at all.
    s.idc.set_faults(Faults::default());
    let before = s.idc.count("ListAccounts");
    let only = vec![organisation_account_id(7), organisation_account_id(140)];
    let l = list_access(&target, &token, Some(only.clone()), &quick(3, 4), &progress).await;
    assert!(l.complete());
    assert_eq!(l.roles.keys().cloned().collect::<Vec<_>>(), only);
    assert_eq!(s.idc.count("ListAccounts"), before);
}
