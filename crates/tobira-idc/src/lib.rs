//! tobira-idc: a local IAM Identity Center + STS that speaks the same HTTP
//! APIs as AWS (SSO OIDC, SSO portal, STS), so any AWS SDK pointed at it with
//! `AWS_ENDPOINT_URL_SSO_OIDC` / `_SSO` / `_STS` works.
//!
//! The server is a function of (settings, listener, shutdown):
//! [`Idc::new`] builds the state, [`Idc::router`] the axum router (tests can
//! call it directly), [`Idc::serve`] runs it on a bound listener.

mod admin;
pub mod directory;
mod oidc;
mod pages;
mod portal;
pub mod store;
mod sts;
pub mod totp;

use std::collections::VecDeque;
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::Duration;

use axum::Router;
use axum::routing::{get, post};
use base64::Engine as _;
use jiff::Timestamp;
use tokio::net::TcpListener;

pub use directory::Directory;
pub use store::Store;

/// How tobira-idc runs.
#[derive(Clone, Debug)]
pub struct Settings {
    /// The directory to serve; `None` = the one saved in the database, or
    /// the built-in demo for a new database.
    pub directory: Option<Directory>,
    /// SQLite file; `None` = in memory.
    pub db: Option<PathBuf>,
    /// Approve every device and PKCE authorization at once as this user.
    pub auto_approve: Option<String>,
    /// Lifetime of access tokens and sign-in sessions, in seconds.
    pub session_seconds: i64,
    /// `expiresIn` of device authorizations, in seconds.
    pub device_expires_in: i64,
    /// `interval` of device authorizations, in seconds.
    pub device_interval: i64,
    /// Faults to inject from the start.
    pub faults: Faults,
    /// Token for the admin API; random if not given.
    pub admin_token: Option<String>,
    /// A connection that has not sent a whole request head this long after
    /// connecting (or after its previous response) is closed.
    pub header_read_timeout: Duration,
    /// A request whose body has not arrived and been answered this long after
    /// its head is answered with 408 and its connection closed.
    pub request_timeout: Duration,
    /// Connections served at once; further clients wait in the listen backlog.
    pub max_connections: usize,
    /// SSO role credentials (and roles assumed with them) stay valid until
    /// they expire after their sign-in session is revoked, as on AWS
    /// ("access can remain for about an hour"). Off: revocation is immediate.
    pub credentials_outlive_revocation: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            directory: None,
            db: None,
            auto_approve: None,
            session_seconds: 8 * 3600,
            device_expires_in: 600,
            device_interval: 1,
            faults: Faults::default(),
            admin_token: None,
            header_read_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            max_connections: 1024,
            credentials_outlive_revocation: false,
        }
    }
}

/// Fault injection, switchable at start-up and at run time.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Faults {
    /// Added to every request.
    #[serde(default)]
    pub latency_ms: u64,
    /// Portal requests above this many per second get `TooManyRequestsException`.
    #[serde(default)]
    pub portal_rps_limit: Option<u32>,
    /// Errors returned once each, by the next call of the named operation.
    #[serde(default)]
    pub one_shot: VecDeque<OneShot>,
}

/// One injected error: the next `operation` call fails with `code`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct OneShot {
    /// `RegisterClient`, `CreateToken`, `GetRoleCredentials`, `AssumeRole`, …
    pub operation: String,
    /// The error code/shape, e.g. `InternalServerException`, `Throttling`.
    pub code: String,
    pub status: u16,
}

/// Why tobira-idc cannot start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot open the database: {0}")]
    Db(#[from] rusqlite::Error),
    #[error(transparent)]
    Directory(#[from] directory::DirectoryError),
}

/// A sign-in session as the admin views list it (times in unix seconds).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct SessionInfo {
    pub session_id: String,
    pub user: String,
    pub created_at: i64,
    pub expires_at: i64,
    /// Access tokens issued in this session that are still valid.
    pub active_tokens: i64,
}

/// The clock: system time plus an offset tests can move forward.
#[derive(Clone, Debug, Default)]
pub struct Clock {
    offset_ms: Arc<AtomicI64>,
}

impl Clock {
    pub fn now(&self) -> Timestamp {
        let offset = self.offset_ms.load(Ordering::Relaxed);
        Timestamp::now().checked_add(jiff::SignedDuration::from_millis(offset)).unwrap_or(Timestamp::MAX)
    }

    pub fn now_s(&self) -> i64 {
        self.now().as_second()
    }

    pub fn now_ms(&self) -> i64 {
        self.now().as_millisecond()
    }

    /// Moves this server's clock forward (tests of expiry and clock skew).
    pub fn advance(&self, by: Duration) {
        self.offset_ms.fetch_add(i64::try_from(by.as_millis()).unwrap_or(i64::MAX), Ordering::Relaxed);
    }
}

/// The shared state of one tobira-idc.
#[derive(Clone, Debug)]
pub struct Idc {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    store: Store,
    /// The directory and the database `data_version` it was read at: another
    /// process (`tobira-idc directory set`) changing the file is noticed.
    directory: RwLock<(i64, Directory)>,
    settings: Settings,
    clock: Clock,
    faults: Mutex<Faults>,
    /// Calls per operation (in memory: counting must not cost a disk write).
    counters: Mutex<std::collections::BTreeMap<String, i64>>,
    /// When expired rows were last deleted (unix seconds).
    last_sweep: AtomicI64,
    /// Portal rate window: (unix second, requests in it).
    portal_window: Mutex<(i64, u32)>,
    base_url: OnceLock<String>,
    admin_token: String,
}

impl Idc {
    pub fn new(settings: Settings) -> Result<Idc, StartError> {
        let store = match &settings.db {
            Some(path) => Store::open(path)?,
            None => Store::in_memory()?,
        };
        let directory = match (&settings.directory, store.load_directory()?) {
            (Some(d), _) => d.clone(),
            (None, Some(saved)) => Directory::from_toml(&saved)?,
            (None, None) => Directory::demo(),
        };
        store.save_directory(
            &toml::to_string(&directory)
                .map_err(|e| directory::DirectoryError::Invalid(format!("cannot serialize the directory: {e}")))?,
        )?;
        let admin_token = settings.admin_token.clone().unwrap_or_else(|| random_token(24));
        Ok(Idc {
            inner: Arc::new(Inner {
                store,
                directory: RwLock::new((0, directory)),
                faults: Mutex::new(settings.faults.clone()),
                settings,
                clock: Clock::default(),
                portal_window: Mutex::new((0, 0)),
                counters: Mutex::new(Default::default()),
                last_sweep: AtomicI64::new(0),
                base_url: OnceLock::new(),
                admin_token,
            }),
        })
    }

    /// Every route: SSO OIDC, SSO portal and STS share one endpoint, so
    /// `AWS_ENDPOINT_URL=<url>` is enough for all three.
    pub fn router(&self) -> Router {
        let portal = pages::portal_path(self);
        Router::new()
            .route(&portal, get(pages::get_portal))
            .route(&format!("{portal}/credentials"), get(pages::get_portal_credentials))
            .route("/client/register", post(oidc::register_client))
            .route("/device_authorization", post(oidc::start_device_authorization))
            .route("/token", post(oidc::create_token))
            .route("/authorize", get(oidc::authorize))
            .route("/authorize/decision", post(pages::post_authorize_decision))
            .route("/signin", get(pages::get_signin).post(pages::post_signin))
            .route("/signout", post(pages::post_signout))
            .route("/signin/enrol", post(pages::post_enrol))
            .route("/admin", get(pages::get_admin))
            .route("/admin/login", post(pages::post_admin_login))
            .route("/admin/revoke", post(pages::post_admin_revoke))
            .route("/admin/directory", post(pages::post_admin_directory))
            .route("/device", get(pages::get_device))
            .route("/device/confirm", post(pages::post_device_confirm))
            .route("/device/decision", post(pages::post_device_decision))
            .route("/federation/credentials", get(portal::get_role_credentials))
            .route("/assignment/accounts", get(portal::list_accounts))
            .route("/assignment/roles", get(portal::list_account_roles))
            .route("/logout", post(portal::logout))
            .route("/", post(sts::handle))
            .route("/admin/api/sessions", get(admin::sessions))
            .route("/admin/api/sessions/revoke", post(admin::revoke))
            .route("/admin/api/approve", post(admin::approve))
            .route("/admin/api/faults", get(admin::get_faults).put(admin::put_faults))
            .route("/admin/api/counters", get(admin::counters))
            .route("/admin/api/directory", get(admin::get_directory).put(admin::put_directory))
            .with_state(self.clone())
    }

    /// Serves on a bound listener until `shutdown` completes. Bind first
    /// (port 0 is fine), then call this: no sleeping to wait for a server.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let addr = listener.local_addr()?;
        self.set_base_url(addr);
        axum::serve(listener, self.router()).with_graceful_shutdown(shutdown).await
    }

    fn set_base_url(&self, addr: SocketAddr) {
        let _ = self.inner.base_url.set(format!("http://{addr}"));
    }

    /// `http://127.0.0.1:<port>` once serving.
    pub fn base_url(&self) -> String {
        self.inner.base_url.get().cloned().unwrap_or_else(|| "http://127.0.0.1".into())
    }

    pub fn clock(&self) -> &Clock {
        &self.inner.clock
    }

    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    pub fn admin_token(&self) -> &str {
        &self.inner.admin_token
    }

    /// The directory in force (re-read when another process changed the database).
    pub fn directory(&self) -> Directory {
        let version: i64 = {
            let conn = self.inner.store.conn();
            conn.prepare_cached("PRAGMA data_version").and_then(|mut st| st.query_row([], |r| r.get(0))).unwrap_or(0)
        };
        {
            let d = self.inner.directory.read().unwrap_or_else(|e| e.into_inner());
            if d.0 == version || version == 0 {
                return d.1.clone();
            }
        }
        let mut d = self.inner.directory.write().unwrap_or_else(|e| e.into_inner());
        if let Ok(Some(text)) = self.inner.store.load_directory()
            && let Ok(fresh) = Directory::from_toml(&text)
        {
            d.1 = fresh;
        }
        d.0 = version;
        d.1.clone()
    }

    /// Replaces the directory (validated) in the database and in memory.
    pub fn replace_directory(&self, directory: Directory) -> Result<(), String> {
        let text = toml::to_string(&directory).map_err(|e| e.to_string())?;
        self.inner.store.save_directory(&text).map_err(|e| e.to_string())?;
        let mut d = self.inner.directory.write().unwrap_or_else(|e| e.into_inner());
        d.1 = directory;
        Ok(())
    }

    /// The faults in force.
    pub fn faults(&self) -> Faults {
        self.inner.faults.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Calls per operation since start-up.
    pub fn counters(&self) -> std::collections::BTreeMap<String, i64> {
        self.inner.counters.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// How many times an operation was called since start-up (e.g. `CreateToken`).
    pub fn count(&self, operation: &str) -> i64 {
        self.counters().get(operation).copied().unwrap_or(0)
    }

    pub(crate) fn settings(&self) -> &Settings {
        &self.inner.settings
    }

    /// Replaces the faults in force.
    pub fn set_faults(&self, faults: Faults) {
        *self.inner.faults.lock().unwrap_or_else(|e| e.into_inner()) = faults;
    }

    /// Approves a pending device authorization as `user` (the headless
    /// stand-in for the verification page).
    pub fn approve_device(&self, user_code: &str, user: &str) -> Result<(), String> {
        oidc::decide_device(self, user_code, user, true)
    }

    /// Denies a pending device authorization.
    pub fn deny_device(&self, user_code: &str) -> Result<(), String> {
        oidc::decide_device(self, user_code, "", false)
    }

    /// Approves a pending `/authorize` request as `user`; the waiting
    /// browser page then redirects to the client with a code.
    pub fn approve_authorization(&self, request_id: &str, user: &str) -> Result<(), String> {
        oidc::decide_authorization(self, request_id, user, true)
    }

    /// Denies a pending `/authorize` request (the client gets `access_denied`).
    pub fn deny_authorization(&self, request_id: &str) -> Result<(), String> {
        oidc::decide_authorization(self, request_id, "", false)
    }

    /// Revokes every sign-in session of a user; tokens and credentials
    /// derived from them stop working at once. Returns how many were active.
    pub fn revoke_user_sessions(&self, user: &str) -> Result<usize, String> {
        let conn = self.inner.store.conn();
        // The browser is signed out too.
        conn.execute("UPDATE web_sessions SET revoked = 1 WHERE user_name = ?1", [user]).map_err(|e| e.to_string())?;
        conn.execute("UPDATE sessions SET revoked = 1 WHERE user_name = ?1 AND revoked = 0", [user])
            .map_err(|e| e.to_string())
    }

    /// Active sign-in sessions, oldest first.
    pub fn active_sessions(&self) -> Vec<SessionInfo> {
        let now = self.clock().now_s();
        let conn = self.inner.store.conn();
        let Ok(mut stmt) = conn.prepare(
            "SELECT s.session_id, s.user_name, s.created_at, s.expires_at,
                    (SELECT COUNT(*) FROM tokens t WHERE t.session_id = s.session_id AND t.kind = 'access'
                       AND t.revoked = 0 AND t.expires_at > ?1)
             FROM sessions s WHERE s.revoked = 0 AND s.expires_at > ?1 ORDER BY s.created_at",
        ) else {
            return vec![];
        };
        stmt.query_map([now], |r| {
            Ok(SessionInfo {
                session_id: r.get(0)?,
                user: r.get(1)?,
                created_at: r.get(2)?,
                expires_at: r.get(3)?,
                active_tokens: r.get(4)?,
            })
        })
        .map(|rows| rows.filter_map(Result::ok).collect())
        .unwrap_or_default()
    }

    /// Applies latency, one-shot errors and the portal rate limit for one
    /// call of `operation`; `Some((status, code))` means fail with that.
    pub(crate) async fn fault(&self, operation: &str, portal: bool) -> Option<(u16, String)> {
        *self.inner.counters.lock().unwrap_or_else(|e| e.into_inner()).entry(operation.to_string()).or_default() += 1;
        // Once a minute, drop what has expired, so state stays bounded.
        let now = self.clock().now_s();
        let last = self.inner.last_sweep.load(Ordering::Relaxed);
        if now - last >= 60
            && self.inner.last_sweep.compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed).is_ok()
        {
            let _ = self.inner.store.sweep(now);
        }
        let (latency, one_shot, limit) = {
            let mut f = self.inner.faults.lock().unwrap_or_else(|e| e.into_inner());
            let pos = f.one_shot.iter().position(|o| o.operation == operation);
            let one = pos.and_then(|p| f.one_shot.remove(p));
            (f.latency_ms, one, f.portal_rps_limit)
        };
        if latency > 0 {
            tokio::time::sleep(Duration::from_millis(latency)).await;
        }
        if let Some(o) = one_shot {
            return Some((o.status, o.code));
        }
        if portal && let Some(limit) = limit {
            let now = self.clock().now_s();
            let mut w = self.inner.portal_window.lock().unwrap_or_else(|e| e.into_inner());
            if w.0 != now {
                *w = (now, 0);
            }
            w.1 += 1;
            if w.1 > limit {
                return Some((429, "TooManyRequestsException".into()));
            }
        }
        None
    }
}

/// `n` random bytes.
pub(crate) fn random_bytes(n: usize) -> Vec<u8> {
    let mut buf = vec![0u8; n];
    fill_random(&mut buf);
    buf
}

/// `n` random bytes, base64url without padding.
pub(crate) fn random_token(n: usize) -> String {
    let mut buf = vec![0u8; n];
    fill_random(&mut buf);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf)
}

/// `n` random characters from `alphabet`.
pub(crate) fn random_from(alphabet: &[u8], n: usize) -> String {
    let mut buf = vec![0u8; n];
    fill_random(&mut buf);
    buf.iter().map(|b| alphabet[usize::from(*b) % alphabet.len()] as char).collect()
}

fn fill_random(buf: &mut [u8]) {
    #[allow(clippy::expect_used)] // no entropy source is not a state to recover from
    getrandom::fill(buf).expect("the OS random number generator is available");
}

/// A rest-json response (OIDC and portal): JSON body, `x-amzn-RequestId`,
/// and for errors the `x-amzn-ErrorType` header clients classify them by.
pub(crate) fn rest_json(
    status: axum::http::StatusCode,
    error_type: Option<&str>,
    body: &serde_json::Value,
) -> axum::response::Response {
    use axum::http::{HeaderValue, header};
    use axum::response::IntoResponse as _;
    let mut r = (status, body.to_string()).into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if let Some(t) = error_type.and_then(|t| HeaderValue::from_str(t).ok()) {
        h.insert("x-amzn-ErrorType", t);
    }
    if let Ok(v) = HeaderValue::from_str(&request_id()) {
        h.insert("x-amzn-RequestId", v);
    }
    r
}

/// RFC 3986 percent-encoding of everything but the unreserved characters
/// (SigV4 canonical form, redirect query strings).
pub(crate) fn uri_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A unique id for `x-amzn-RequestId` / STS `RequestId`.
pub(crate) fn request_id() -> String {
    let hex = random_from(b"0123456789abcdef", 32);
    format!("{}-{}-{}-{}-{}", &hex[..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..])
}
