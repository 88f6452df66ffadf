//! SQLite persistence behind a small typed API: the directory, the server's
//! keys, and the runtime state that must be shared or must survive a
//! restart (client registrations, pending authorizations, sign-in sessions,
//! one-time codes, browser sessions, used MFA steps). Handlers never write
//! SQL; every statement of the server is in this file. Migrations are
//! append-only: a database created by an older tobira-idc is upgraded in place.
//!
//! Secrets the server looks up (codes, cookies, invitation tokens) are stored
//! as SHA-256 digests (`*_hash` columns); issued tokens and credentials are
//! sealed and have no rows at all (docs/security.md).

use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use rusqlite::{Connection, OptionalExtension, params};

/// A storage failure (I/O, a corrupt file, a constraint).
#[derive(Debug, thiserror::Error)]
#[error("storage error: {0}")]
pub struct StoreError(#[from] rusqlite::Error);

impl StoreError {
    /// A UNIQUE or PRIMARY KEY constraint refused the row.
    pub(crate) fn is_conflict(&self) -> bool {
        matches!(&self.0, rusqlite::Error::SqliteFailure(e, _) if e.code == rusqlite::ErrorCode::ConstraintViolation)
    }
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// One stored row of the directory: an entity or a relation (`user`,
/// `membership`, `assignment`…), its key within the kind, its position in
/// the directory's order, and its JSON.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Item {
    pub kind: String,
    pub key: String,
    pub pos: i64,
    pub body: String,
}

/// Each entry runs once, in order; `PRAGMA user_version` records how many ran.
/// Never edit a released entry: append a new one.
const MIGRATIONS: &[&str] = &[
    // 1: initial schema
    "CREATE TABLE directory (id INTEGER PRIMARY KEY CHECK (id = 1), toml TEXT NOT NULL);
     CREATE TABLE clients (
        client_id TEXT PRIMARY KEY, client_secret TEXT NOT NULL, client_name TEXT NOT NULL,
        scopes TEXT NOT NULL, grant_types TEXT NOT NULL, redirect_uris TEXT NOT NULL,
        issued_at INTEGER NOT NULL, expires_at INTEGER NOT NULL);
     CREATE TABLE sessions (
        session_id TEXT PRIMARY KEY, user_name TEXT NOT NULL, created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL, revoked INTEGER NOT NULL DEFAULT 0);
     CREATE TABLE device_auths (
        device_code TEXT PRIMARY KEY, user_code TEXT NOT NULL UNIQUE, client_id TEXT NOT NULL,
        start_url TEXT NOT NULL, created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL,
        interval_s INTEGER NOT NULL, last_poll_ms INTEGER,
        status TEXT NOT NULL, session_id TEXT);
     CREATE TABLE authorizations (
        request_id TEXT PRIMARY KEY, client_id TEXT NOT NULL, redirect_uri TEXT NOT NULL,
        state TEXT NOT NULL, code_challenge TEXT NOT NULL, scopes TEXT NOT NULL,
        created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL,
        status TEXT NOT NULL, session_id TEXT, UNIQUE (client_id, state));
     CREATE TABLE auth_codes (
        code TEXT PRIMARY KEY, client_id TEXT NOT NULL, redirect_uri TEXT NOT NULL,
        code_challenge TEXT NOT NULL, scopes TEXT NOT NULL, session_id TEXT NOT NULL,
        expires_at INTEGER NOT NULL, used INTEGER NOT NULL DEFAULT 0);
     CREATE TABLE tokens (
        token TEXT PRIMARY KEY, kind TEXT NOT NULL, client_id TEXT NOT NULL,
        session_id TEXT NOT NULL, scopes TEXT NOT NULL, expires_at INTEGER NOT NULL,
        revoked INTEGER NOT NULL DEFAULT 0);
     CREATE TABLE credentials (
        access_key_id TEXT PRIMARY KEY, secret_access_key TEXT NOT NULL, session_token TEXT NOT NULL,
        account_id TEXT NOT NULL, arn TEXT NOT NULL, user_id TEXT NOT NULL,
        role_arn TEXT, chained INTEGER NOT NULL, mfa INTEGER NOT NULL,
        session_id TEXT, expires_at INTEGER NOT NULL, source_identity TEXT);
     CREATE TABLE totp_used (device TEXT NOT NULL, step INTEGER NOT NULL, PRIMARY KEY (device, step));",
    // 2: browser sign-in sessions of the web pages, and failed sign-ins (rate limit)
    "CREATE TABLE web_sessions (
        id TEXT PRIMARY KEY, user_name TEXT NOT NULL, csrf TEXT NOT NULL,
        created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL, revoked INTEGER NOT NULL DEFAULT 0);
     CREATE TABLE signin_failures (user_name TEXT NOT NULL, at INTEGER NOT NULL);",
    // 3: MFA device enrolment in progress (password checked, device not yet confirmed)
    "CREATE TABLE enrolments (
        token TEXT PRIMARY KEY, user_name TEXT NOT NULL, secret TEXT NOT NULL,
        next TEXT NOT NULL, expires_at INTEGER NOT NULL);",
    // 4: administrator sessions of the admin pages
    "CREATE TABLE admin_sessions (id TEXT PRIMARY KEY, csrf TEXT NOT NULL, expires_at INTEGER NOT NULL);",
    // 5: sealed tokens and credentials (no rows), secrets stored as digests,
    // invitations, server keys. Runtime state of older versions is dropped
    // (clients sign in again); the directory is kept.
    "DROP TABLE tokens; DROP TABLE credentials; DROP TABLE auth_codes; DROP TABLE device_auths;
     DROP TABLE authorizations; DROP TABLE web_sessions; DROP TABLE admin_sessions;
     DROP TABLE signin_failures; DROP TABLE enrolments; DROP TABLE clients; DROP TABLE sessions;
     CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
     CREATE TABLE clients (
        client_id TEXT PRIMARY KEY, secret_hash BLOB NOT NULL, client_name TEXT NOT NULL,
        scopes TEXT NOT NULL, grant_types TEXT NOT NULL, redirect_uris TEXT NOT NULL,
        issued_at INTEGER NOT NULL, expires_at INTEGER NOT NULL);
     CREATE INDEX clients_expiry ON clients (expires_at);
     CREATE TABLE sessions (
        session_id TEXT PRIMARY KEY, user_name TEXT NOT NULL, created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL, revoked INTEGER NOT NULL DEFAULT 0,
        refresh_generation INTEGER NOT NULL DEFAULT 0, tokens_issued INTEGER NOT NULL DEFAULT 0);
     CREATE INDEX sessions_user ON sessions (user_name);
     CREATE INDEX sessions_expiry ON sessions (expires_at);
     CREATE TABLE device_auths (
        device_hash BLOB PRIMARY KEY, user_code TEXT NOT NULL, client_id TEXT NOT NULL,
        start_url TEXT NOT NULL, created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL,
        interval_s INTEGER NOT NULL, last_poll_ms INTEGER, status TEXT NOT NULL, session_id TEXT);
     CREATE UNIQUE INDEX device_auths_pending_code ON device_auths (user_code) WHERE status = 'pending';
     CREATE INDEX device_auths_code ON device_auths (user_code);
     CREATE INDEX device_auths_expiry ON device_auths (expires_at);
     CREATE TABLE authorizations (
        request_id TEXT PRIMARY KEY, client_id TEXT NOT NULL, redirect_uri TEXT NOT NULL,
        state TEXT NOT NULL, code_challenge TEXT NOT NULL, scopes TEXT NOT NULL,
        created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL,
        status TEXT NOT NULL, session_id TEXT, UNIQUE (client_id, state));
     CREATE INDEX authorizations_expiry ON authorizations (expires_at);
     CREATE TABLE auth_codes (
        code_hash BLOB PRIMARY KEY, client_id TEXT NOT NULL, redirect_uri TEXT NOT NULL,
        code_challenge TEXT NOT NULL, session_id TEXT NOT NULL,
        expires_at INTEGER NOT NULL, used INTEGER NOT NULL DEFAULT 0);
     CREATE INDEX auth_codes_expiry ON auth_codes (expires_at);
     CREATE TABLE web_sessions (
        id_hash BLOB PRIMARY KEY, user_name TEXT NOT NULL, csrf TEXT NOT NULL,
        expires_at INTEGER NOT NULL, revoked INTEGER NOT NULL DEFAULT 0);
     CREATE INDEX web_sessions_user ON web_sessions (user_name);
     CREATE TABLE admin_sessions (id_hash BLOB PRIMARY KEY, csrf TEXT NOT NULL, expires_at INTEGER NOT NULL);
     CREATE TABLE enrolments (
        token_hash BLOB PRIMARY KEY, user_name TEXT NOT NULL, secret TEXT NOT NULL,
        next TEXT NOT NULL, expires_at INTEGER NOT NULL);
     CREATE TABLE invitations (
        token_hash BLOB PRIMARY KEY, user_name TEXT NOT NULL, expires_at INTEGER NOT NULL);
     CREATE INDEX invitations_user ON invitations (user_name);",
    // 6: the directory as one row per entity and relation (replacing the
    // TOML text of `directory`, converted on first load and then emptied),
    // and the asynchronous requests of the SSO Admin API.
    "CREATE TABLE directory_items (
        kind TEXT NOT NULL, key TEXT NOT NULL, pos INTEGER NOT NULL, body TEXT NOT NULL,
        PRIMARY KEY (kind, key));
     CREATE TABLE admin_requests (
        id TEXT PRIMARY KEY, kind TEXT NOT NULL, body TEXT NOT NULL, created_at INTEGER NOT NULL);
     CREATE INDEX admin_requests_kind ON admin_requests (kind, created_at);",
    // 7: DPoP proof ids seen by the Sign-In service (replays are refused).
    "CREATE TABLE dpop_proofs (jti_hash BLOB PRIMARY KEY, forget_after INTEGER NOT NULL);
     CREATE INDEX dpop_proofs_expiry ON dpop_proofs (forget_after);",
];

/// Where a device or browser authorization stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GrantStatus {
    Pending,
    Approved,
    Denied,
    /// Its tokens (device) or code (browser) were handed out.
    Consumed,
}

impl GrantStatus {
    fn as_str(self) -> &'static str {
        match self {
            GrantStatus::Pending => "pending",
            GrantStatus::Approved => "approved",
            GrantStatus::Denied => "denied",
            GrantStatus::Consumed => "consumed",
        }
    }

    fn parse(s: &str) -> GrantStatus {
        match s {
            "pending" => GrantStatus::Pending,
            "approved" => GrantStatus::Approved,
            "denied" => GrantStatus::Denied,
            _ => GrantStatus::Consumed,
        }
    }
}

impl std::fmt::Display for GrantStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            GrantStatus::Consumed => "used",
            other => other.as_str(),
        })
    }
}

/// A client registration.
#[derive(Clone, Debug)]
pub(crate) struct ClientRow {
    pub id: String,
    pub secret_hash: Vec<u8>,
    pub name: String,
    pub scopes: Vec<String>,
    pub grant_types: Vec<String>,
    pub redirect_uris: Vec<String>,
    pub issued_at: i64,
    pub expires_at: i64,
}

/// A sign-in session: the unit every token, refresh token and credential
/// derives from, and the unit of revocation.
#[derive(Clone, Debug)]
pub(crate) struct SessionRow {
    pub user: String,
    pub expires_at: i64,
    pub revoked: bool,
    pub refresh_generation: i64,
}

/// A sign-in session as the admin views list it (times in unix seconds).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct SessionInfo {
    pub session_id: String,
    pub user: String,
    pub created_at: i64,
    pub expires_at: i64,
    /// Access tokens issued in this session (refreshes included).
    pub active_tokens: i64,
}

#[derive(Clone, Debug)]
pub(crate) struct DeviceRow {
    pub device_hash: Vec<u8>,
    pub user_code: String,
    pub client_id: String,
    pub expires_at: i64,
    pub interval_s: i64,
    pub last_poll_ms: Option<i64>,
    pub status: GrantStatus,
    pub session_id: Option<String>,
}

#[derive(Clone, Debug)]
pub(crate) struct AuthorizationRow {
    pub request_id: String,
    pub client_id: String,
    pub redirect_uri: String,
    pub state: String,
    pub code_challenge: String,
    pub status: GrantStatus,
    pub session_id: Option<String>,
    pub expires_at: i64,
}

#[derive(Clone, Debug)]
pub(crate) struct CodeRow {
    pub client_id: String,
    pub redirect_uri: String,
    pub code_challenge: String,
    pub session_id: String,
    pub expires_at: i64,
    /// It had been redeemed before this lookup.
    pub used: bool,
}

#[derive(Clone, Debug)]
pub(crate) struct EnrolmentRow {
    pub user: String,
    pub secret: String,
    pub next: String,
}

fn list(s: &str) -> Vec<String> {
    serde_json::from_str(s).unwrap_or_default()
}

fn json_list(v: &[String]) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "[]".into())
}

/// The database, shared by all requests. Each call holds the connection for
/// one short statement or transaction.
#[derive(Debug)]
pub struct Store {
    conn: Mutex<Connection>,
    /// A file (which other processes may change) rather than memory.
    file: bool,
    /// Sign-in sessions as last read or written, for an in-memory database
    /// only (nothing else can change it): the check every token and
    /// credential makes costs no statement. Writes invalidate their entry.
    sessions: std::sync::RwLock<std::collections::HashMap<String, SessionRow>>,
}

impl Store {
    /// Opens (creating if needed) and migrates a database file.
    pub fn open(path: &Path) -> Result<Store> {
        let conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        // With WAL, NORMAL keeps the database consistent after a crash and
        // syncs at checkpoints instead of on every commit.
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        Store::init(conn, true)
    }

    /// A private in-memory database (tests, throw-away demos).
    pub fn in_memory() -> Result<Store> {
        Store::init(Connection::open_in_memory()?, false)
    }

    fn init(mut conn: Connection, file: bool) -> Result<Store> {
        conn.set_prepared_statement_cache_capacity(128);
        conn.pragma_update(None, "foreign_keys", "ON")?;
        let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        let version = usize::try_from(version).unwrap_or(0);
        let tx = conn.transaction()?;
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(version) {
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", i64::try_from(i + 1).unwrap_or(i64::MAX))?;
        }
        tx.commit()?;
        Ok(Store { conn: Mutex::new(conn), file, sessions: Default::default() })
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves SQLite consistent (statements
        // are atomic), so a poisoned lock is still usable.
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn schema_version(&self) -> Result<usize> {
        let v: i64 = self.conn().pragma_query_value(None, "user_version", |r| r.get(0))?;
        Ok(usize::try_from(v).unwrap_or(0))
    }

    /// Changes whenever another connection (another process) commits; `None`
    /// for an in-memory database, which nothing else can change.
    pub(crate) fn data_version(&self) -> Result<Option<i64>> {
        if !self.file {
            return Ok(None);
        }
        let conn = self.conn();
        Ok(Some(conn.prepare_cached("PRAGMA data_version")?.query_row([], |r| r.get(0))?))
    }

    // ---- directory and keys ----------------------------------------------

    /// The directory's rows, by kind then position; empty when none was saved.
    pub fn load_directory_items(&self) -> Result<Vec<Item>> {
        let conn = self.conn();
        let mut st = conn.prepare_cached("SELECT kind, key, pos, body FROM directory_items ORDER BY kind, pos, key")?;
        let rows =
            st.query_map([], |r| Ok(Item { kind: r.get(0)?, key: r.get(1)?, pos: r.get(2)?, body: r.get(3)? }))?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }

    /// The directory as TOML text, as tobira-idc before schema 6 kept it.
    pub fn legacy_directory(&self) -> Result<Option<String>> {
        Ok(self.conn().query_row("SELECT toml FROM directory WHERE id = 1", [], |r| r.get(0)).optional()?)
    }

    /// Writes changed rows and deletes removed ones in one transaction (and
    /// drops the legacy TOML text, now converted).
    pub fn save_directory_items(&self, upserts: &[Item], deletes: &[(String, String)]) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        {
            let mut up = tx.prepare_cached(
                "INSERT INTO directory_items (kind, key, pos, body) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT(kind, key) DO UPDATE SET pos = excluded.pos, body = excluded.body",
            )?;
            for i in upserts {
                up.execute(params![i.kind, i.key, i.pos, i.body])?;
            }
            let mut del = tx.prepare_cached("DELETE FROM directory_items WHERE kind = ?1 AND key = ?2")?;
            for (kind, key) in deletes {
                del.execute(params![kind, key])?;
            }
            tx.execute("DELETE FROM directory", [])?;
        }
        tx.commit()?;
        Ok(())
    }

    // ---- asynchronous requests of the SSO Admin API -----------------------

    pub(crate) fn save_admin_request(&self, id: &str, kind: &str, body: &str, now: i64) -> Result<()> {
        self.conn().execute(
            "INSERT INTO admin_requests (id, kind, body, created_at) VALUES (?1, ?2, ?3, ?4)",
            params![id, kind, body, now],
        )?;
        Ok(())
    }

    pub(crate) fn admin_request(&self, id: &str, kind: &str) -> Result<Option<String>> {
        Ok(self
            .conn()
            .query_row("SELECT body FROM admin_requests WHERE id = ?1 AND kind = ?2", [id, kind], |r| r.get(0))
            .optional()?)
    }

    /// Requests of a kind, oldest first.
    pub(crate) fn admin_requests(&self, kind: &str) -> Result<Vec<String>> {
        let conn = self.conn();
        let mut st = conn.prepare_cached("SELECT body FROM admin_requests WHERE kind = ?1 ORDER BY created_at, id")?;
        let rows = st.query_map([kind], |r| r.get(0))?;
        Ok(rows.collect::<std::result::Result<_, _>>()?)
    }

    pub(crate) fn meta(&self, key: &str) -> Result<Option<String>> {
        Ok(self.conn().query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0)).optional()?)
    }

    pub(crate) fn set_meta(&self, key: &str, value: &str) -> Result<()> {
        self.conn().execute(
            "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            params![key, value],
        )?;
        Ok(())
    }

    // ---- client registrations --------------------------------------------

    pub(crate) fn insert_client(&self, c: &ClientRow) -> Result<()> {
        self.conn().execute(
            "INSERT INTO clients (client_id, secret_hash, client_name, scopes, grant_types, redirect_uris, issued_at, expires_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                c.id,
                c.secret_hash,
                c.name,
                json_list(&c.scopes),
                json_list(&c.grant_types),
                json_list(&c.redirect_uris),
                c.issued_at,
                c.expires_at
            ],
        )?;
        Ok(())
    }

    pub(crate) fn client(&self, id: &str) -> Result<Option<ClientRow>> {
        let conn = self.conn();
        let mut st = conn.prepare_cached(
            "SELECT secret_hash, client_name, scopes, grant_types, redirect_uris, issued_at, expires_at
             FROM clients WHERE client_id = ?1",
        )?;
        Ok(st
            .query_row([id], |r| {
                Ok(ClientRow {
                    id: id.to_string(),
                    secret_hash: r.get(0)?,
                    name: r.get(1)?,
                    scopes: list(&r.get::<_, String>(2)?),
                    grant_types: list(&r.get::<_, String>(3)?),
                    redirect_uris: list(&r.get::<_, String>(4)?),
                    issued_at: r.get(5)?,
                    expires_at: r.get(6)?,
                })
            })
            .optional()?)
    }

    // ---- sign-in sessions --------------------------------------------------

    pub(crate) fn insert_session(&self, id: &str, user: &str, now: i64, expires_at: i64) -> Result<()> {
        self.conn()
            .prepare_cached(
                "INSERT INTO sessions (session_id, user_name, created_at, expires_at) VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![id, user, now, expires_at])?;
        Ok(())
    }

    fn cached_sessions(&self) -> std::sync::RwLockWriteGuard<'_, std::collections::HashMap<String, SessionRow>> {
        self.sessions.write().unwrap_or_else(|e| e.into_inner())
    }

    fn forget_session(&self, id: &str) {
        if !self.file {
            self.cached_sessions().remove(id);
        }
    }

    pub(crate) fn session(&self, id: &str) -> Result<Option<SessionRow>> {
        if !self.file {
            if let Some(s) = self.sessions.read().unwrap_or_else(|e| e.into_inner()).get(id) {
                return Ok(Some(s.clone()));
            }
            // Filled under the cache's lock, so a revocation committed after
            // this read cannot be overtaken by it (writers commit, then
            // take this lock to forget; never the other way round).
            let mut cache = self.cached_sessions();
            let found = self.session_row(id)?;
            if let Some(s) = &found {
                cache.insert(id.to_string(), s.clone());
            }
            return Ok(found);
        }
        self.session_row(id)
    }

    fn session_row(&self, id: &str) -> Result<Option<SessionRow>> {
        let conn = self.conn();
        let mut st = conn.prepare_cached(
            "SELECT user_name, expires_at, revoked, refresh_generation FROM sessions WHERE session_id = ?1",
        )?;
        Ok(st
            .query_row([id], |r| {
                Ok(SessionRow {
                    user: r.get(0)?,
                    expires_at: r.get(1)?,
                    revoked: r.get(2)?,
                    refresh_generation: r.get(3)?,
                })
            })
            .optional()?)
    }

    pub(crate) fn count_token_issued(&self, id: &str) -> Result<()> {
        self.conn()
            .prepare_cached("UPDATE sessions SET tokens_issued = tokens_issued + 1 WHERE session_id = ?1")?
            .execute([id])?;
        Ok(())
    }

    /// Moves a session's refresh generation from `from` to `from + 1`;
    /// `false` if it was not at `from` (the token was already rotated) or the
    /// session is revoked.
    pub(crate) fn rotate_refresh(&self, id: &str, from: i64) -> Result<bool> {
        let n = self
            .conn()
            .prepare_cached(
                "UPDATE sessions SET refresh_generation = refresh_generation + 1
             WHERE session_id = ?1 AND refresh_generation = ?2 AND revoked = 0",
            )?
            .execute(params![id, from])?;
        self.forget_session(id);
        Ok(n == 1)
    }

    pub(crate) fn revoke_session(&self, id: &str) -> Result<bool> {
        let n = self.conn().execute("UPDATE sessions SET revoked = 1 WHERE session_id = ?1 AND revoked = 0", [id])?;
        self.forget_session(id);
        Ok(n == 1)
    }

    /// Revokes every sign-in session and browser session of a user; returns
    /// how many sign-in sessions were active.
    pub(crate) fn revoke_user(&self, user: &str, now: i64) -> Result<usize> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        tx.execute("UPDATE web_sessions SET revoked = 1 WHERE user_name = ?1", [user])?;
        // Expired sessions are unusable already; only active ones are counted and ended.
        let n = tx.execute(
            "UPDATE sessions SET revoked = 1 WHERE user_name = ?1 AND revoked = 0 AND expires_at > ?2",
            params![user, now],
        )?;
        tx.commit()?;
        drop(conn);
        self.cached_sessions().clear();
        Ok(n)
    }

    /// Active sign-in sessions, oldest first.
    pub(crate) fn active_sessions(&self, now: i64) -> Result<Vec<SessionInfo>> {
        let conn = self.conn();
        let mut st = conn.prepare_cached(
            "SELECT session_id, user_name, created_at, expires_at, tokens_issued
             FROM sessions WHERE revoked = 0 AND expires_at > ?1 ORDER BY created_at, rowid",
        )?;
        let rows = st.query_map([now], |r| {
            Ok(SessionInfo {
                session_id: r.get(0)?,
                user: r.get(1)?,
                created_at: r.get(2)?,
                expires_at: r.get(3)?,
                active_tokens: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    // ---- device authorizations -------------------------------------------

    /// Inserts a pending (or pre-approved) device authorization; a
    /// [`StoreError::is_conflict`] error means its user code is taken by
    /// another pending one.
    pub(crate) fn insert_device(&self, d: &DeviceRow, start_url: &str, now: i64) -> Result<()> {
        self.conn()
            .prepare_cached(
                "INSERT INTO device_auths (device_hash, user_code, client_id, start_url, created_at, expires_at, interval_s, status, session_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )?
            .execute(params![
                d.device_hash,
                d.user_code,
                d.client_id,
                start_url,
                now,
                d.expires_at,
                d.interval_s,
                d.status.as_str(),
                d.session_id
            ])?;
        Ok(())
    }

    fn device_where(&self, clause: &str, key: &dyn rusqlite::ToSql) -> Result<Option<DeviceRow>> {
        let conn = self.conn();
        let mut st = conn.prepare_cached(&format!(
            "SELECT device_hash, user_code, client_id, expires_at, interval_s, last_poll_ms, status, session_id
             FROM device_auths WHERE {clause} ORDER BY created_at DESC, rowid DESC LIMIT 1"
        ))?;
        Ok(st
            .query_row([key], |r| {
                Ok(DeviceRow {
                    device_hash: r.get(0)?,
                    user_code: r.get(1)?,
                    client_id: r.get(2)?,
                    expires_at: r.get(3)?,
                    interval_s: r.get(4)?,
                    last_poll_ms: r.get(5)?,
                    status: GrantStatus::parse(&r.get::<_, String>(6)?),
                    session_id: r.get(7)?,
                })
            })
            .optional()?)
    }

    pub(crate) fn device_by_hash(&self, device_hash: &[u8]) -> Result<Option<DeviceRow>> {
        self.device_where("device_hash = ?1", &device_hash)
    }

    /// The pending authorization with this user code, else the latest one.
    pub(crate) fn device_by_user_code(&self, code: &str) -> Result<Option<DeviceRow>> {
        match self.device_where("user_code = ?1 AND status = 'pending'", &code)? {
            Some(d) => Ok(Some(d)),
            None => self.device_where("user_code = ?1", &code),
        }
    }

    /// Decides a pending authorization; `false` if it was no longer pending.
    pub(crate) fn decide_device(&self, device_hash: &[u8], status: GrantStatus, session: Option<&str>) -> Result<bool> {
        Ok(self.conn().execute(
            "UPDATE device_auths SET status = ?1, session_id = ?2 WHERE device_hash = ?3 AND status = 'pending'",
            params![status.as_str(), session, device_hash],
        )? == 1)
    }

    /// Marks an approved authorization consumed; `false` if it already was.
    pub(crate) fn consume_device(&self, device_hash: &[u8]) -> Result<bool> {
        Ok(self.conn().execute(
            "UPDATE device_auths SET status = 'consumed' WHERE device_hash = ?1 AND status = 'approved'",
            [device_hash],
        )? == 1)
    }

    pub(crate) fn record_poll(&self, device_hash: &[u8], at_ms: i64, interval_s: i64) -> Result<()> {
        self.conn()
            .prepare_cached("UPDATE device_auths SET last_poll_ms = ?1, interval_s = ?2 WHERE device_hash = ?3")?
            .execute(params![at_ms, interval_s, device_hash])?;
        Ok(())
    }

    // ---- browser authorizations (PKCE) and their codes ---------------------

    pub(crate) fn insert_authorization(&self, a: &AuthorizationRow, scopes: &str, now: i64) -> Result<()> {
        self.conn().execute(
            "INSERT INTO authorizations (request_id, client_id, redirect_uri, state, code_challenge, scopes, created_at, expires_at, status, session_id)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            params![
                a.request_id,
                a.client_id,
                a.redirect_uri,
                a.state,
                a.code_challenge,
                scopes,
                now,
                a.expires_at,
                a.status.as_str(),
                a.session_id
            ],
        )?;
        Ok(())
    }

    fn authorization_where(&self, clause: &str, p: &[&dyn rusqlite::ToSql]) -> Result<Option<AuthorizationRow>> {
        let conn = self.conn();
        let mut st = conn.prepare_cached(&format!(
            "SELECT request_id, client_id, redirect_uri, state, code_challenge, status, session_id, expires_at
             FROM authorizations WHERE {clause}"
        ))?;
        Ok(st
            .query_row(p, |r| {
                Ok(AuthorizationRow {
                    request_id: r.get(0)?,
                    client_id: r.get(1)?,
                    redirect_uri: r.get(2)?,
                    state: r.get(3)?,
                    code_challenge: r.get(4)?,
                    status: GrantStatus::parse(&r.get::<_, String>(5)?),
                    session_id: r.get(6)?,
                    expires_at: r.get(7)?,
                })
            })
            .optional()?)
    }

    pub(crate) fn authorization(&self, request_id: &str) -> Result<Option<AuthorizationRow>> {
        self.authorization_where("request_id = ?1", &[&request_id])
    }

    pub(crate) fn authorization_by_state(&self, client_id: &str, state: &str) -> Result<Option<AuthorizationRow>> {
        self.authorization_where("client_id = ?1 AND state = ?2", &[&client_id, &state])
    }

    /// Moves an authorization from `from` to `to`; `false` if it was not at `from`.
    pub(crate) fn set_authorization(
        &self,
        request_id: &str,
        from: GrantStatus,
        to: GrantStatus,
        session: Option<&str>,
    ) -> Result<bool> {
        Ok(self.conn().execute(
            "UPDATE authorizations SET status = ?1, session_id = COALESCE(?2, session_id) WHERE request_id = ?3 AND status = ?4",
            params![to.as_str(), session, request_id, from.as_str()],
        )? == 1)
    }

    pub(crate) fn insert_code(
        &self,
        code_hash: &[u8],
        a: &AuthorizationRow,
        session: &str,
        expires_at: i64,
    ) -> Result<()> {
        self.insert_code_for(code_hash, &a.client_id, &a.redirect_uri, &a.code_challenge, session, expires_at)
    }

    /// A one-time code for a request: an SSO OIDC authorization's, or the
    /// Sign-In service's.
    pub(crate) fn insert_code_for(
        &self,
        code_hash: &[u8],
        client_id: &str,
        redirect_uri: &str,
        code_challenge: &str,
        session: &str,
        expires_at: i64,
    ) -> Result<()> {
        self.conn().execute(
            "INSERT INTO auth_codes (code_hash, client_id, redirect_uri, code_challenge, session_id, expires_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![code_hash, client_id, redirect_uri, code_challenge, session, expires_at],
        )?;
        Ok(())
    }

    /// Records a DPoP proof id; false when it is already recorded.
    pub(crate) fn use_proof_id(&self, jti_hash: &[u8], forget_after: i64) -> Result<bool> {
        let n = self
            .conn()
            .prepare_cached("INSERT OR IGNORE INTO dpop_proofs (jti_hash, forget_after) VALUES (?1, ?2)")?
            .execute(params![jti_hash, forget_after])?;
        Ok(n == 1)
    }

    /// Looks a code up and marks it used, in one transaction: any attempt
    /// spends it. `used` in the answer says whether it had been spent before.
    pub(crate) fn redeem_code(&self, code_hash: &[u8]) -> Result<Option<CodeRow>> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let row = tx
            .query_row(
                "SELECT client_id, redirect_uri, code_challenge, session_id, expires_at, used FROM auth_codes WHERE code_hash = ?1",
                [code_hash],
                |r| {
                    Ok(CodeRow {
                        client_id: r.get(0)?,
                        redirect_uri: r.get(1)?,
                        code_challenge: r.get(2)?,
                        session_id: r.get(3)?,
                        expires_at: r.get(4)?,
                        used: r.get(5)?,
                    })
                },
            )
            .optional()?;
        tx.execute("UPDATE auth_codes SET used = 1 WHERE code_hash = ?1", [code_hash])?;
        tx.commit()?;
        Ok(row)
    }

    // ---- browser sessions of the pages -----------------------------------

    pub(crate) fn insert_web_session(&self, id_hash: &[u8], user: &str, csrf: &str, expires_at: i64) -> Result<()> {
        self.conn().execute(
            "INSERT INTO web_sessions (id_hash, user_name, csrf, expires_at) VALUES (?1, ?2, ?3, ?4)",
            params![id_hash, user, csrf, expires_at],
        )?;
        Ok(())
    }

    /// (user, CSRF token) of a live browser session.
    pub(crate) fn web_session(&self, id_hash: &[u8], now: i64) -> Result<Option<(String, String)>> {
        let conn = self.conn();
        let mut st = conn.prepare_cached(
            "SELECT user_name, csrf FROM web_sessions WHERE id_hash = ?1 AND revoked = 0 AND expires_at > ?2",
        )?;
        Ok(st.query_row(params![id_hash, now], |r| Ok((r.get(0)?, r.get(1)?))).optional()?)
    }

    pub(crate) fn end_web_session(&self, id_hash: &[u8]) -> Result<()> {
        self.conn().execute("UPDATE web_sessions SET revoked = 1 WHERE id_hash = ?1", [id_hash])?;
        Ok(())
    }

    pub(crate) fn insert_admin_session(&self, id_hash: &[u8], csrf: &str, expires_at: i64) -> Result<()> {
        self.conn().execute(
            "INSERT INTO admin_sessions (id_hash, csrf, expires_at) VALUES (?1, ?2, ?3)",
            params![id_hash, csrf, expires_at],
        )?;
        Ok(())
    }

    /// The CSRF token of a live administrator session.
    pub(crate) fn admin_session(&self, id_hash: &[u8], now: i64) -> Result<Option<String>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT csrf FROM admin_sessions WHERE id_hash = ?1 AND expires_at > ?2",
                params![id_hash, now],
                |r| r.get(0),
            )
            .optional()?)
    }

    // ---- MFA enrolment and invitations -----------------------------------

    pub(crate) fn insert_enrolment(&self, token_hash: &[u8], e: &EnrolmentRow, expires_at: i64) -> Result<()> {
        self.conn().execute(
            "INSERT INTO enrolments (token_hash, user_name, secret, next, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![token_hash, e.user, e.secret, e.next, expires_at],
        )?;
        Ok(())
    }

    /// Takes (deletes and returns) a live enrolment.
    pub(crate) fn take_enrolment(&self, token_hash: &[u8], now: i64) -> Result<Option<EnrolmentRow>> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let row = tx
            .query_row(
                "SELECT user_name, secret, next FROM enrolments WHERE token_hash = ?1 AND expires_at > ?2",
                params![token_hash, now],
                |r| Ok(EnrolmentRow { user: r.get(0)?, secret: r.get(1)?, next: r.get(2)? }),
            )
            .optional()?;
        tx.execute("DELETE FROM enrolments WHERE token_hash = ?1", [token_hash])?;
        tx.commit()?;
        Ok(row)
    }

    pub(crate) fn insert_invitation(&self, token_hash: &[u8], user: &str, expires_at: i64) -> Result<()> {
        self.conn().execute(
            "INSERT INTO invitations (token_hash, user_name, expires_at) VALUES (?1, ?2, ?3)",
            params![token_hash, user, expires_at],
        )?;
        Ok(())
    }

    /// The user a live invitation is for.
    pub(crate) fn invitation(&self, token_hash: &[u8], now: i64) -> Result<Option<String>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT user_name FROM invitations WHERE token_hash = ?1 AND expires_at > ?2",
                params![token_hash, now],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// Spends a live invitation and every other invitation of its user;
    /// returns the user, or `None` if it was not live (used, expired, unknown).
    pub(crate) fn take_invitation(&self, token_hash: &[u8], now: i64) -> Result<Option<String>> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let user: Option<String> = tx
            .query_row(
                "SELECT user_name FROM invitations WHERE token_hash = ?1 AND expires_at > ?2",
                params![token_hash, now],
                |r| r.get(0),
            )
            .optional()?;
        if let Some(u) = &user {
            tx.execute("DELETE FROM invitations WHERE user_name = ?1", [u])?;
        }
        tx.commit()?;
        Ok(user)
    }

    // ---- MFA steps and housekeeping --------------------------------------

    /// Records that an MFA code's step was used; `false` if it already was
    /// (a replayed code).
    pub fn use_totp_step(&self, device: &str, step: i64) -> Result<bool> {
        let n = self
            .conn()
            .prepare_cached("INSERT OR IGNORE INTO totp_used (device, step) VALUES (?1, ?2)")?
            .execute(params![device, step])?;
        Ok(n == 1)
    }

    /// Deletes what expired more than an hour ago (until then a client still
    /// gets "expired" rather than "unknown") and MFA steps too old to be
    /// replayed. Returns how many rows went.
    pub fn sweep(&self, now: i64) -> Result<usize> {
        const GRACE: i64 = 3600;
        let conn = self.conn();
        let mut n = 0;
        for sql in [
            "DELETE FROM device_auths WHERE expires_at <= ?1",
            "DELETE FROM authorizations WHERE expires_at <= ?1",
            "DELETE FROM auth_codes WHERE expires_at <= ?1",
            "DELETE FROM sessions WHERE expires_at <= ?1",
            "DELETE FROM web_sessions WHERE expires_at <= ?1",
            "DELETE FROM admin_sessions WHERE expires_at <= ?1",
            "DELETE FROM enrolments WHERE expires_at <= ?1",
            "DELETE FROM invitations WHERE expires_at <= ?1",
            "DELETE FROM clients WHERE expires_at <= ?1",
        ] {
            n += conn.prepare_cached(sql)?.execute([now - GRACE])?;
        }
        n += conn.prepare_cached("DELETE FROM totp_used WHERE step < ?1 / 30 - 2")?.execute([now])?;
        n += conn.prepare_cached("DELETE FROM dpop_proofs WHERE forget_after <= ?1")?.execute([now])?;
        drop(conn);
        self.cached_sessions().clear();
        Ok(n)
    }

    /// Rows per runtime table (tests and the benchmark watch state stay bounded).
    pub fn row_counts(&self) -> Result<Vec<(&'static str, i64)>> {
        let conn = self.conn();
        let mut out = Vec::new();
        for t in [
            "clients",
            "sessions",
            "device_auths",
            "authorizations",
            "auth_codes",
            "web_sessions",
            "totp_used",
            "dpop_proofs",
        ] {
            out.push((t, conn.query_row(&format!("SELECT COUNT(*) FROM {t}"), [], |r| r.get(0))?));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sweep_removes_only_what_expired() {
        let s = Store::in_memory().unwrap();
        s.insert_session("a", "alice", 0, 100).unwrap();
        s.insert_session("b", "alice", 0, 300).unwrap();
        assert!(s.use_totp_step("d", 1).unwrap());
        assert!(s.use_totp_step("d", 126).unwrap());
        assert_eq!(s.sweep(200).unwrap(), 1, "only the ancient MFA step: the session expired within the grace hour");
        assert_eq!(s.sweep(3800).unwrap(), 1);
        assert!(s.session("a").unwrap().is_none());
        assert!(s.session("b").unwrap().is_some());
        assert!(!s.use_totp_step("d", 126).unwrap(), "recent steps stay refused");
    }

    #[test]
    fn cached_sessions_follow_every_write() {
        let s = Store::in_memory().unwrap();
        s.insert_session("a", "alice", 0, 100).unwrap();
        assert!(!s.session("a").unwrap().unwrap().revoked);
        assert!(s.rotate_refresh("a", 0).unwrap());
        assert_eq!(s.session("a").unwrap().unwrap().refresh_generation, 1);
        assert!(s.revoke_session("a").unwrap());
        assert!(s.session("a").unwrap().unwrap().revoked, "revocation is seen at once");
        s.insert_session("b", "bob", 0, 100).unwrap();
        assert!(!s.session("b").unwrap().unwrap().revoked);
        assert_eq!(s.revoke_user("bob", 0).unwrap(), 1);
        assert!(s.session("b").unwrap().unwrap().revoked);
        s.sweep(100 + 3600).unwrap();
        assert!(s.session("b").unwrap().is_none(), "swept sessions leave the cache too");
    }

    #[test]
    fn a_pending_user_code_is_never_given_twice() {
        let s = Store::in_memory().unwrap();
        let row = |hash: &[u8], status| DeviceRow {
            device_hash: hash.to_vec(),
            user_code: "BCDF-GHJK".into(),
            client_id: "c".into(),
            expires_at: 600,
            interval_s: 1,
            last_poll_ms: None,
            status,
            session_id: None,
        };
        s.insert_device(&row(b"1", GrantStatus::Pending), "u", 0).unwrap();
        let e = s.insert_device(&row(b"2", GrantStatus::Pending), "u", 0).unwrap_err();
        assert!(e.is_conflict(), "{e}");
        // Once decided, the code may come round again.
        assert!(s.decide_device(b"1", GrantStatus::Denied, None).unwrap());
        s.insert_device(&row(b"3", GrantStatus::Pending), "u", 0).unwrap();
        assert_eq!(s.device_by_user_code("BCDF-GHJK").unwrap().unwrap().device_hash, b"3");
    }

    #[test]
    fn migrations_run_once_and_state_survives_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("idc.db");
        {
            let s = Store::open(&path).unwrap();
            assert_eq!(s.schema_version().unwrap(), MIGRATIONS.len());
            let item = Item { kind: "user".into(), key: "alice".into(), pos: 0, body: "{}".into() };
            s.save_directory_items(&[item], &[]).unwrap();
            s.set_meta("k", "v").unwrap();
            assert!(s.use_totp_step("dev", 7).unwrap());
            assert!(!s.use_totp_step("dev", 7).unwrap());
        }
        let s = Store::open(&path).unwrap();
        assert_eq!(s.schema_version().unwrap(), MIGRATIONS.len());
        assert_eq!(s.load_directory_items().unwrap().len(), 1);
        assert_eq!(s.meta("k").unwrap().as_deref(), Some("v"));
        assert!(!s.use_totp_step("dev", 7).unwrap());
    }

    #[test]
    fn a_version_4_database_is_upgraded_keeping_its_directory() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.db");
        {
            let conn = Connection::open(&path).unwrap();
            for sql in &MIGRATIONS[..4] {
                conn.execute_batch(sql).unwrap();
            }
            conn.pragma_update(None, "user_version", 4).unwrap();
            conn.execute("INSERT INTO directory (id, toml) VALUES (1, 'kept = true')", []).unwrap();
        }
        let s = Store::open(&path).unwrap();
        assert_eq!(s.schema_version().unwrap(), MIGRATIONS.len());
        assert_eq!(s.legacy_directory().unwrap().as_deref(), Some("kept = true"));
        assert!(s.load_directory_items().unwrap().is_empty(), "converted by the domain on first load");
    }

    #[test]
    fn directory_rows_are_upserted_and_deleted_in_one_transaction() {
        let s = Store::in_memory().unwrap();
        let item = |k: &str, pos, body: &str| Item { kind: "user".into(), key: k.into(), pos, body: body.into() };
        s.save_directory_items(&[item("a", 0, "1"), item("b", 1, "2")], &[]).unwrap();
        s.save_directory_items(&[item("b", 0, "3")], &[("user".into(), "a".into())]).unwrap();
        assert_eq!(s.load_directory_items().unwrap(), [item("b", 0, "3")]);
    }
}
