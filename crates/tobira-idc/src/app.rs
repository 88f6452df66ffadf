//! The shared state of one tobira-idc ([`Idc`]) and its public API: what the
//! `tobira-idc` binary, the tests and the admin API call.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, OnceLock};

use axum::Router;
use tokio::net::TcpListener;

use crate::domain::directory::Directory;
use crate::domain::grants::{self, DecideError, Decision, Typist};
use crate::domain::seal::SealKey;
use crate::domain::store::{SessionInfo, Store, StoreError};
use crate::domain::{ChangeError, Core, Policy, clock::Clock, random, sessions, users};
use crate::middleware::Counters;
use crate::settings::{Faults, Settings, StartError};

/// A running (or about to run) tobira-idc. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Idc {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    core: Core,
    settings: Settings,
    faults: Mutex<Faults>,
    counters: Counters,
    /// Portal rate window: (unix second, requests in it).
    portal_window: Mutex<(i64, u32)>,
    base_url: OnceLock<String>,
    admin_token: String,
}

/// Keys of the `meta` table.
const SEAL_KEY: &str = "seal_key";
const ADMIN_TOKEN: &str = "admin_token";
const PORT: &str = "port";

/// An invitation link to hand to a user.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct InvitationLink {
    pub user: String,
    pub url: String,
    /// Unix seconds.
    pub expires_at: i64,
}

impl Idc {
    pub fn new(settings: Settings) -> Result<Idc, StartError> {
        let store = match &settings.db {
            Some(path) => Store::open(path)?,
            None => Store::in_memory()?,
        };
        let seal = match store.meta(SEAL_KEY)?.and_then(|k| SealKey::from_b64(&k)) {
            Some(k) => k,
            None => {
                let k = SealKey::generate();
                store.set_meta(SEAL_KEY, &k.to_b64())?;
                k
            }
        };
        let admin_token = match (&settings.admin_token, store.meta(ADMIN_TOKEN)?) {
            (Some(t), _) => t.clone(),
            (None, Some(saved)) => saved,
            (None, None) => random::token(24),
        };
        store.set_meta(ADMIN_TOKEN, &admin_token)?;
        let directory = match &settings.directory {
            Some(d) => d.clone(),
            None => Core::stored_directory(&store)?.unwrap_or_else(Directory::demo),
        };
        let policy = Policy {
            session_seconds: settings.session_seconds,
            device_expires_in: settings.device_expires_in,
            device_interval: settings.device_interval,
            credentials_outlive_revocation: settings.credentials_outlive_revocation,
            credential_lifetime: settings.credential_lifetime,
        };
        let core = Core::new(store, Directory::default(), seal, policy)?;
        core.replace_directory(directory)?;
        Ok(Idc {
            inner: Arc::new(Inner {
                core,
                faults: Mutex::new(settings.faults.clone()),
                settings,
                counters: Counters::new(&crate::router::operations()),
                portal_window: Mutex::new((0, 0)),
                base_url: OnceLock::new(),
                admin_token,
            }),
        })
    }

    /// Every route, with the middleware (see `router.rs`). SSO OIDC, SSO
    /// portal and STS share one endpoint, so `AWS_ENDPOINT_URL=<url>` is
    /// enough for all three.
    pub fn router(&self) -> Router {
        crate::router::build(self)
    }

    /// Serves on a bound listener until `shutdown` completes. Bind first
    /// (port 0 is fine), then call this: no sleeping to wait for a server.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        self.listening_on(listener.local_addr()?);
        let sweeper = tokio::spawn(sweep_every_minute(self.clone()));
        let limits = crate::serve::Limits {
            header_read_timeout: self.inner.settings.header_read_timeout,
            max_connections: self.inner.settings.max_connections,
        };
        let result = crate::serve::serve(listener, self.router(), limits, shutdown).await;
        sweeper.abort();
        result
    }

    /// Records the address it serves on (links in pages and invitations;
    /// with `--db`, the port the next start reuses). `serve` calls it.
    pub fn listening_on(&self, addr: SocketAddr) {
        let _ = self.inner.base_url.set(format!("http://{addr}"));
        if self.inner.settings.db.is_some() {
            let _ = self.inner.core.store.set_meta(PORT, &addr.port().to_string());
        }
    }

    /// `http://127.0.0.1:<port>` once serving.
    pub fn base_url(&self) -> String {
        match (self.inner.base_url.get(), self.saved_port()) {
            (Some(url), _) => url.clone(),
            (None, Some(port)) => format!("http://127.0.0.1:{port}"),
            (None, None) => "http://127.0.0.1".into(),
        }
    }

    /// The path of the access portal (the path of the instance's start URL).
    pub fn portal_path(&self) -> String {
        crate::pages::portal_path(self)
    }

    /// The port a server on this database last listened on (with `--db`).
    pub fn saved_port(&self) -> Option<u16> {
        self.inner.core.store.meta(PORT).ok().flatten().and_then(|p| p.parse().ok())
    }

    pub fn clock(&self) -> &Clock {
        &self.inner.core.clock
    }

    pub fn store(&self) -> &Store {
        &self.inner.core.store
    }

    pub fn admin_token(&self) -> &str {
        &self.inner.admin_token
    }

    pub(crate) fn core(&self) -> &Core {
        &self.inner.core
    }

    pub(crate) fn settings(&self) -> &Settings {
        &self.inner.settings
    }

    pub(crate) fn counter_set(&self) -> &Counters {
        &self.inner.counters
    }

    /// The portal rate window: (unix second, requests in it).
    pub(crate) fn portal_window(&self) -> &Mutex<(i64, u32)> {
        &self.inner.portal_window
    }

    /// The directory in force, password hashes included (re-read when
    /// another process changed the database).
    pub fn directory(&self) -> Directory {
        self.inner.core.model().dir.clone()
    }

    /// Replaces the directory (validated; plain-text passwords are hashed).
    pub fn replace_directory(&self, directory: Directory) -> Result<(), ChangeError> {
        self.inner.core.replace_directory(directory)
    }

    /// Replaces the directory with an edited public view (TOML without
    /// secrets): passwords, MFA secrets and access key secrets left out are kept.
    pub fn apply_edited_toml(&self, text: &str) -> Result<(), ChangeError> {
        self.inner.core.apply_edited_toml(text)
    }

    /// The faults in force.
    pub fn faults(&self) -> Faults {
        self.inner.faults.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Replaces the faults in force.
    pub fn set_faults(&self, faults: Faults) {
        *self.inner.faults.lock().unwrap_or_else(|e| e.into_inner()) = faults;
    }

    /// The faults for one call of `operation`: its one-shot error (taken),
    /// with the latency and portal limit in force.
    pub(crate) fn take_fault(&self, operation: &str) -> crate::middleware::Fault {
        let mut f = self.inner.faults.lock().unwrap_or_else(|e| e.into_inner());
        let one_shot = f.one_shot.iter().position(|o| o.operation == operation).and_then(|p| f.one_shot.remove(p));
        crate::middleware::Fault { latency_ms: f.latency_ms, one_shot, portal_rps_limit: f.portal_rps_limit }
    }

    /// Calls per operation since start-up.
    pub fn counters(&self) -> std::collections::BTreeMap<String, i64> {
        self.inner.counters.snapshot()
    }

    /// How many times an operation was called since start-up (e.g. `CreateToken`).
    pub fn count(&self, operation: &str) -> i64 {
        self.inner.counters.get(operation)
    }

    /// Approves a pending device authorization as `user` (the headless
    /// stand-in for the verification page).
    pub fn approve_device(&self, user_code: &str, user: &str) -> Result<(), DecideError> {
        grants::decide_device(self.core(), user_code, Decision::Approve { user }, Typist::Admin)
    }

    /// Denies a pending device authorization.
    pub fn deny_device(&self, user_code: &str) -> Result<(), DecideError> {
        grants::decide_device(self.core(), user_code, Decision::Deny, Typist::Admin)
    }

    /// Approves a pending `/authorize` request as `user`; the waiting
    /// browser page then redirects to the client with a code.
    pub fn approve_authorization(&self, request_id: &str, user: &str) -> Result<(), DecideError> {
        grants::decide_authorization(self.core(), request_id, Decision::Approve { user })
    }

    /// Denies a pending `/authorize` request (the client gets `access_denied`).
    pub fn deny_authorization(&self, request_id: &str) -> Result<(), DecideError> {
        grants::decide_authorization(self.core(), request_id, Decision::Deny)
    }

    /// Revokes every sign-in session of a user; tokens and credentials
    /// derived from them stop working at once. Returns how many were active.
    pub fn revoke_user_sessions(&self, user: &str) -> Result<usize, StoreError> {
        sessions::revoke_user(self.core(), user)
    }

    /// Active sign-in sessions, oldest first.
    pub fn active_sessions(&self) -> Result<Vec<SessionInfo>, StoreError> {
        sessions::active(self.core())
    }

    /// A one-time link with which `user` sets a password (valid 7 days).
    pub fn invite(&self, user: &str) -> Result<InvitationLink, ChangeError> {
        let i = users::invite(self.core(), user)?;
        Ok(InvitationLink {
            url: format!("{}/invite/{}", self.base_url(), i.token),
            user: i.user,
            expires_at: i.expires_at,
        })
    }
}

/// A new random admin token.
pub fn random_admin_token() -> String {
    random::token(24)
}

/// Once a minute, drop what has expired, so state stays bounded.
async fn sweep_every_minute(idc: Idc) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
    loop {
        tick.tick().await;
        let _ = idc.core().store.sweep(idc.core().now());
    }
}
