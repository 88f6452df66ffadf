//! Settings of one tobira-idc.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::time::Duration;

use crate::domain::directory::{self, Directory};
use crate::domain::store::StoreError;

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
    /// Token for the admin API and pages; if not given, the one saved in
    /// `--db`, else a new random one (saved in `--db`).
    pub admin_token: Option<String>,
    /// A connection that has not sent a whole request head this long after
    /// connecting (or after its previous response) is closed.
    pub header_read_timeout: Duration,
    /// A request whose body has not arrived and been answered this long after
    /// its head is answered with 408 and its connection closed.
    pub request_timeout: Duration,
    /// Connections served at once; as many again wait (unread) for a slot,
    /// as many again for half a second for room; beyond that new
    /// connections are closed (serve.rs).
    pub max_connections: usize,
    /// SSO role credentials (and roles assumed with them) stay valid until
    /// they expire after their sign-in session is revoked, as on AWS
    /// ("access can remain for about an hour"). Off: revocation is immediate.
    pub credentials_outlive_revocation: bool,
    /// For tests and demos only: nothing issued (access tokens, SSO role
    /// credentials, STS credentials) lasts longer than this many seconds, so
    /// expiry and renewal can be watched within a minute. Sign-in sessions
    /// and refresh tokens keep their own lifetime.
    pub credential_lifetime: Option<i64>,
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
            credential_lifetime: None,
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
    Db(#[from] StoreError),
    #[error(transparent)]
    Directory(#[from] directory::DirectoryError),
    #[error(transparent)]
    Change(#[from] crate::domain::ChangeError),
}
