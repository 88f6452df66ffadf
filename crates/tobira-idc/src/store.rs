//! SQLite persistence: the directory and every piece of runtime state
//! (client registrations, pending authorizations, sign-in sessions, tokens,
//! issued credentials, used MFA steps). Migrations are append-only: a
//! database created by an older tobira-idc is upgraded in place.

use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use rusqlite::{Connection, OptionalExtension, params};

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
];

/// The database, shared by all requests. Each call holds the connection for
/// one short statement or transaction.
#[derive(Debug)]
pub struct Store {
    conn: Mutex<Connection>,
}

impl Store {
    /// Opens (creating if needed) and migrates a database file.
    pub fn open(path: &Path) -> rusqlite::Result<Store> {
        let conn = Connection::open(path)?;
        conn.set_prepared_statement_cache_capacity(64);
        conn.pragma_update(None, "journal_mode", "WAL")?;
        // With WAL, NORMAL keeps the database consistent after a crash and
        // syncs at checkpoints instead of on every commit.
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        Store::init(conn)
    }

    /// A private in-memory database (tests, throw-away demos).
    pub fn in_memory() -> rusqlite::Result<Store> {
        let conn = Connection::open_in_memory()?;
        conn.set_prepared_statement_cache_capacity(64);
        Store::init(conn)
    }

    fn init(mut conn: Connection) -> rusqlite::Result<Store> {
        conn.pragma_update(None, "foreign_keys", "ON")?;
        let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        let version = usize::try_from(version).unwrap_or(0);
        let tx = conn.transaction()?;
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(version) {
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", i64::try_from(i + 1).unwrap_or(i64::MAX))?;
        }
        tx.commit()?;
        Ok(Store { conn: Mutex::new(conn) })
    }

    /// The connection, for one statement or transaction.
    pub fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves SQLite consistent (statements
        // are atomic), so a poisoned lock is still usable.
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn schema_version(&self) -> rusqlite::Result<usize> {
        let v: i64 = self.conn().pragma_query_value(None, "user_version", |r| r.get(0))?;
        Ok(usize::try_from(v).unwrap_or(0))
    }

    pub fn load_directory(&self) -> rusqlite::Result<Option<String>> {
        self.conn().query_row("SELECT toml FROM directory WHERE id = 1", [], |r| r.get(0)).optional()
    }

    pub fn save_directory(&self, toml: &str) -> rusqlite::Result<()> {
        self.conn().execute(
            "INSERT INTO directory (id, toml) VALUES (1, ?1) ON CONFLICT(id) DO UPDATE SET toml = excluded.toml",
            params![toml],
        )?;
        Ok(())
    }

    /// Deletes what expired more than an hour ago (until then a client still
    /// gets "expired" rather than "unknown"): credentials, tokens,
    /// authorizations, sessions, and MFA steps too old to be replayed.
    /// Returns how many rows went.
    pub fn sweep(&self, now: i64) -> rusqlite::Result<usize> {
        const GRACE: i64 = 3600;
        let conn = self.conn();
        let mut n = 0;
        for sql in [
            "DELETE FROM credentials WHERE expires_at <= ?1",
            "DELETE FROM tokens WHERE expires_at <= ?1",
            "DELETE FROM device_auths WHERE expires_at <= ?1",
            "DELETE FROM authorizations WHERE expires_at <= ?1",
            "DELETE FROM auth_codes WHERE expires_at <= ?1",
            "DELETE FROM sessions WHERE expires_at <= ?1 AND session_id NOT IN (SELECT session_id FROM tokens)",
            "DELETE FROM totp_used WHERE step < ?1 / 30 - 2",
        ] {
            let cutoff = if sql.contains("totp_used") { now } else { now - GRACE };
            n += conn.prepare_cached(sql)?.execute([cutoff])?;
        }
        Ok(n)
    }

    /// Records that an MFA code's step was used; `false` if it already was
    /// (a replayed code).
    pub fn use_totp_step(&self, device: &str, step: i64) -> rusqlite::Result<bool> {
        let n = self
            .conn()
            .execute("INSERT OR IGNORE INTO totp_used (device, step) VALUES (?1, ?2)", params![device, step])?;
        Ok(n == 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sweep_removes_only_what_expired() {
        let s = Store::in_memory().unwrap();
        let c = s.conn();
        c.execute_batch(
            "INSERT INTO credentials VALUES ('A1','s','t','1','arn','u',NULL,0,0,NULL,100,NULL);
             INSERT INTO credentials VALUES ('A2','s','t','1','arn','u',NULL,0,0,NULL,300,NULL);
             INSERT INTO totp_used VALUES ('d', 1), ('d', 126);",
        )
        .unwrap();
        drop(c);
        assert_eq!(s.sweep(200).unwrap(), 1, "expired, but within the grace hour");
        assert_eq!(s.sweep(3800).unwrap(), 1);
        let left: i64 = s.conn().query_row("SELECT COUNT(*) FROM credentials", [], |r| r.get(0)).unwrap();
        assert_eq!(left, 1);
        assert!(!s.use_totp_step("d", 126).unwrap(), "recent steps stay refused");
    }

    #[test]
    fn migrations_run_once_and_state_survives_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("idc.db");
        {
            let s = Store::open(&path).unwrap();
            assert_eq!(s.schema_version().unwrap(), MIGRATIONS.len());
            s.save_directory("x = 1").unwrap();
            assert!(s.use_totp_step("dev", 7).unwrap());
            assert!(!s.use_totp_step("dev", 7).unwrap());
        }
        let s = Store::open(&path).unwrap();
        assert_eq!(s.schema_version().unwrap(), MIGRATIONS.len());
        assert_eq!(s.load_directory().unwrap().as_deref(), Some("x = 1"));
        assert!(!s.use_totp_step("dev", 7).unwrap());
    }
}
