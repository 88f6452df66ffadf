//! SSO portal calls with a valid access token: every account, every role of
//! every account, and logout.
//!
//! Listing is built for organisations of thousands of accounts behind the
//! portal's rate limit (docs/portal-scale.md): pages of 100 (the most the API
//! gives), role lists of several accounts in flight at once, every call
//! retried on throttling and 5xx answers with exponential backoff and full
//! jitter, and one send rate shared by all calls that learns the server's
//! limit from its throttling answers ([`crate::throttle`]). A call that still
//! fails does not discard what the others listed: a [`Listing`] holds both.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_runtime_api::http::Response;
use futures_util::StreamExt;

use crate::throttle::{AdaptiveRate, Outcome, RetryPolicy};
use crate::{AuthError, SsoTarget, portal_client, portal_client_with, service_error};

/// An account the user can access.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Account {
    pub id: String,
    pub name: Option<String>,
    pub email: Option<String>,
}

/// The most entries a portal page may hold (`max_result`, docs/portal-scale.md §1).
const PAGE_SIZE: i32 = 100;

/// How listing runs.
#[derive(Clone, Copy, Debug)]
pub struct ListOptions {
    /// Role lists in flight at once.
    pub concurrency: usize,
    pub retry: RetryPolicy,
}

impl Default for ListOptions {
    fn default() -> ListOptions {
        ListOptions { concurrency: 8, retry: RetryPolicy::default() }
    }
}

/// What a listing reports while it runs (the CLI draws a progress bar).
pub trait Progress: Sync {
    /// `n` accounts are known so far (after each ListAccounts page).
    fn accounts_listed(&self, _n: usize) {}
    /// The roles of `done` of `total` accounts are listed (or failed).
    fn roles_listed(&self, _done: usize, _total: usize) {}
}

/// Reports nothing.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoProgress;

impl Progress for NoProgress {}

/// A call that failed for good.
#[derive(Debug)]
pub struct Failure {
    /// The account whose roles could not be listed; `None` for ListAccounts.
    pub account: Option<String>,
    pub operation: &'static str,
    /// Attempts made, the last one included.
    pub attempts: u32,
    pub error: AuthError,
}

/// Counts of one listing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// HTTP calls sent, retries included.
    pub calls: u64,
    /// Answers that were throttling errors.
    pub throttled: u64,
    /// Calls that were attempts after a failed one.
    pub retries: u64,
}

/// What a listing found. When something failed, `failures` says what, and
/// everything else is still here.
#[derive(Debug, Default)]
pub struct Listing {
    /// Accounts, sorted as `aws configure sso` sorts them (see [`sort_accounts`]).
    pub accounts: Vec<Account>,
    /// False when ListAccounts failed part-way: `accounts` then holds the
    /// pages read before the failure, and accounts may be missing.
    pub accounts_complete: bool,
    /// Roles (sorted case-insensitively) of each account whose roles were
    /// all listed.
    pub roles: BTreeMap<String, Vec<String>>,
    pub failures: Vec<Failure>,
    pub stats: Stats,
}

impl Listing {
    /// Nothing failed.
    pub fn complete(&self) -> bool {
        self.failures.is_empty()
    }
}

/// Sorts as `aws configure sso` does: by name, else e-mail, else id,
/// case-insensitively; accounts without name and e-mail last.
pub fn sort_accounts(accounts: &mut [Account]) {
    accounts.sort_by_key(|a| {
        let key = a.name.clone().or_else(|| a.email.clone());
        (key.is_none(), key.unwrap_or_else(|| a.id.clone()).to_lowercase(), a.id.clone())
    });
}

/// A number in `[0, 1)` for jitter.
fn random_unit() -> f64 {
    let b = crate::random_bytes(8);
    let mut a = [0u8; 8];
    a.copy_from_slice(&b);
    (u64::from_le_bytes(a) >> 11) as f64 / (1u64 << 53) as f64
}

/// Calls the portal under one retry policy and one adaptive send rate.
struct Caller<'a> {
    client: aws_sdk_sso::Client,
    target: &'a SsoTarget,
    token: &'a str,
    policy: RetryPolicy,
    rate: Mutex<AdaptiveRate>,
    start: tokio::time::Instant,
    calls: AtomicU64,
    retries: AtomicU64,
}

impl<'a> Caller<'a> {
    fn new(target: &'a SsoTarget, token: &'a str, policy: RetryPolicy) -> Caller<'a> {
        // The SDK's own retries are off: these calls retry here, where the
        // send rate learns from every throttle.
        let client = portal_client_with(target, false);
        Caller {
            client,
            target,
            token,
            policy,
            rate: Mutex::new(AdaptiveRate::new()),
            start: tokio::time::Instant::now(),
            calls: AtomicU64::new(0),
            retries: AtomicU64::new(0),
        }
    }

    fn elapsed(&self) -> Duration {
        self.start.elapsed()
    }

    fn rate(&self) -> std::sync::MutexGuard<'_, AdaptiveRate> {
        self.rate.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn stats(&self) -> Stats {
        Stats {
            calls: self.calls.load(Ordering::Relaxed),
            throttled: self.rate().throttles(),
            retries: self.retries.load(Ordering::Relaxed),
        }
    }

    /// One operation, attempted until it succeeds, fails for good, or runs
    /// out of attempts. Each attempt waits for its turn under the send rate.
    async fn call<T, E, F, Fut>(&self, operation: &'static str, send: F) -> Result<T, (u32, AuthError)>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<T, SdkError<E, Response>>>,
        E: aws_sdk_ssooidc::error::ProvideErrorMetadata + std::error::Error + 'static,
    {
        let mut failed = 0u32;
        loop {
            let at = self.rate().reserve(self.elapsed());
            tokio::time::sleep_until(self.start + at).await;
            if failed > 0 {
                self.retries.fetch_add(1, Ordering::Relaxed);
            }
            self.calls.fetch_add(1, Ordering::Relaxed);
            let result = send().await;
            let now = self.elapsed();
            let e = match result {
                Ok(v) => {
                    self.rate().success(now);
                    return Ok(v);
                }
                Err(e) => e,
            };
            let outcome = crate::failure::outcome(&e);
            if outcome == Outcome::Throttled {
                self.rate().throttled(now, at);
            }
            failed += 1;
            if !self.policy.retry(outcome, failed) {
                return Err((failed, service_error(self.target.portal_call(operation), e)));
            }
            tokio::time::sleep(self.policy.backoff(failed, random_unit())).await;
        }
    }

    /// Every page of ListAccounts; on a failure, the pages read before it.
    async fn accounts(&self, progress: &dyn Progress) -> (Vec<Account>, Option<Failure>) {
        let mut out = Vec::new();
        let mut next: Option<String> = None;
        loop {
            let page = self
                .call("ListAccounts", || {
                    self.client
                        .list_accounts()
                        .access_token(self.token)
                        .max_results(PAGE_SIZE)
                        .set_next_token(next.clone())
                        .send()
                })
                .await;
            let page = match page {
                Ok(p) => p,
                Err((attempts, error)) => {
                    let failure = Failure { account: None, operation: "ListAccounts", attempts, error };
                    return (out, Some(failure));
                }
            };
            out.extend(page.account_list().iter().map(|a| Account {
                id: a.account_id().unwrap_or_default().to_string(),
                name: a.account_name().map(str::to_string),
                email: a.email_address().map(str::to_string),
            }));
            progress.accounts_listed(out.len());
            match page.next_token() {
                Some(t) if !t.is_empty() => next = Some(t.to_string()),
                _ => return (out, None),
            }
        }
    }

    /// Every page of ListAccountRoles for one account.
    async fn roles(&self, account_id: &str) -> Result<Vec<String>, Failure> {
        let mut out = Vec::new();
        let mut next: Option<String> = None;
        loop {
            let page = self
                .call("ListAccountRoles", || {
                    self.client
                        .list_account_roles()
                        .access_token(self.token)
                        .account_id(account_id)
                        .max_results(PAGE_SIZE)
                        .set_next_token(next.clone())
                        .send()
                })
                .await
                .map_err(|(attempts, error)| Failure {
                    account: Some(account_id.to_string()),
                    operation: "ListAccountRoles",
                    attempts,
                    error,
                })?;
            out.extend(page.role_list().iter().filter_map(|r| r.role_name().map(str::to_string)));
            match page.next_token() {
                Some(t) if !t.is_empty() => next = Some(t.to_string()),
                _ => break,
            }
        }
        out.sort_by_key(|r| r.to_lowercase());
        Ok(out)
    }

    /// The roles of every account in `ids`, `concurrency` accounts at a time.
    async fn all_roles(&self, ids: Vec<String>, concurrency: usize, progress: &dyn Progress, listing: &mut Listing) {
        let total = ids.len();
        progress.roles_listed(0, total);
        let mut results = futures_util::stream::iter(ids)
            .map(|id| async move {
                let r = self.roles(&id).await;
                (id, r)
            })
            .buffer_unordered(concurrency.max(1));
        let mut done = 0;
        while let Some((id, r)) = results.next().await {
            match r {
                Ok(roles) => {
                    listing.roles.insert(id, roles);
                }
                Err(f) => {
                    // The session is gone: every other call would fail the same way.
                    let stop = f.error.needs_login();
                    listing.failures.push(f);
                    if stop {
                        break;
                    }
                }
            }
            done += 1;
            progress.roles_listed(done, total);
        }
    }
}

/// Every account (all pages). `accounts_complete` is false and `failures`
/// says why when a page could not be read.
pub async fn list_accounts(target: &SsoTarget, token: &str, opts: &ListOptions, progress: &dyn Progress) -> Listing {
    let caller = Caller::new(target, token, opts.retry);
    let (mut accounts, failure) = caller.accounts(progress).await;
    sort_accounts(&mut accounts);
    Listing {
        accounts,
        accounts_complete: failure.is_none(),
        roles: BTreeMap::new(),
        failures: failure.into_iter().collect(),
        stats: caller.stats(),
    }
}

/// Every account and the roles of each (or, with `only`, the roles of those
/// accounts without listing accounts). Role lists run `opts.concurrency` at
/// a time; a failed account does not stop the others, except when the
/// sign-in is no longer valid.
pub async fn list_access(
    target: &SsoTarget,
    token: &str,
    only: Option<Vec<String>>,
    opts: &ListOptions,
    progress: &dyn Progress,
) -> Listing {
    let caller = Caller::new(target, token, opts.retry);
    let mut listing = Listing { accounts_complete: true, ..Listing::default() };
    let ids = match only {
        Some(ids) => ids,
        None => {
            let (mut accounts, failure) = caller.accounts(progress).await;
            sort_accounts(&mut accounts);
            let ids = accounts.iter().map(|a| a.id.clone()).collect();
            listing.accounts = accounts;
            if let Some(f) = failure {
                listing.accounts_complete = false;
                let stop = f.error.needs_login();
                listing.failures.push(f);
                if stop {
                    listing.stats = caller.stats();
                    return listing;
                }
            }
            ids
        }
    };
    caller.all_roles(ids, opts.concurrency, progress, &mut listing).await;
    listing.stats = caller.stats();
    listing
}

/// Every account, or the first error (for pickers, which need the whole list).
pub async fn accounts(target: &SsoTarget, token: &str) -> Result<Vec<Account>, AuthError> {
    let mut l = list_accounts(target, token, &ListOptions::default(), &NoProgress).await;
    match l.failures.pop() {
        Some(f) => Err(f.error),
        None => Ok(l.accounts),
    }
}

/// Every role of an account, sorted case-insensitively, or the error.
pub async fn roles(target: &SsoTarget, token: &str, account_id: &str) -> Result<Vec<String>, AuthError> {
    let caller = Caller::new(target, token, RetryPolicy::default());
    caller.roles(account_id).await.map_err(|f| f.error)
}

/// Ends the sign-in session on the server (best effort, like `aws sso logout`).
pub async fn logout(target: &SsoTarget, token: &str) -> Result<(), AuthError> {
    portal_client(target)
        .logout()
        .access_token(token)
        .send()
        .await
        .map_err(|e| service_error(target.portal_call("Logout"), e))?;
    Ok(())
}
