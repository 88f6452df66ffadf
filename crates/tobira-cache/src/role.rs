//! Temporary credentials cached on disk: the AWS CLI's `~/.aws/cli/cache`
//! entries (SSO role credentials and assume-role results, files.md §6.3–6.4),
//! which the AWS CLI and tobira reuse from each other, and tobira's own MFA
//! sessions.

use std::io;
use std::path::{Path, PathBuf};

use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};
use tobira_config::Secret;

use crate::pyjson::dumps_sorted as j;
use crate::token::{REFRESH_WINDOW, format_time, parse_time};

/// Temporary (or static) AWS credentials.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Credentials {
    pub access_key_id: String,
    pub secret_access_key: Secret,
    pub session_token: Option<Secret>,
    pub expiration: Option<Timestamp>,
    pub account_id: Option<String>,
}

impl Credentials {
    /// Usable without a refresh: no expiry, or more than 15 minutes left.
    pub fn fresh(&self, now: Timestamp) -> bool {
        self.expiration.is_none_or(|e| e.duration_since(now) > REFRESH_WINDOW)
    }

    /// Still usable for more than `margin` (or never expiring): what an entry
    /// that cannot be renewed without a person (an MFA session) is held to.
    pub fn valid_for(&self, now: Timestamp, margin: SignedDuration) -> bool {
        self.expiration.is_none_or(|e| e.duration_since(now) > margin)
    }

    /// Time left, if they expire.
    pub fn time_left(&self, now: Timestamp) -> Option<SignedDuration> {
        self.expiration.map(|e| e.duration_since(now))
    }
}

/// A directory of credential cache files (`~/.aws/cli/cache`, or tobira's
/// MFA-session cache), written atomically, 0600 in a 0700 directory.
#[derive(Clone, Debug)]
pub struct CredentialCache {
    dir: PathBuf,
}

impl CredentialCache {
    /// The AWS CLI's `~/.aws/cli/cache`.
    pub fn cli(home: &Path) -> CredentialCache {
        CredentialCache { dir: home.join(".aws").join("cli").join("cache") }
    }

    /// tobira's own cache of MFA sessions (GetSessionToken results).
    pub fn mfa_sessions(home: &Path) -> CredentialCache {
        CredentialCache { dir: home.join(".aws").join("tobira").join("mfa-sessions") }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The credentials in `file_name`, if the file exists and has them.
    /// Reads both the AWS CLI's layout (`{"Credentials": {...}}`) and a flat one.
    pub fn read(&self, file_name: &str) -> Option<Credentials> {
        let bytes = std::fs::read(self.dir.join(file_name)).ok()?;
        tracing::debug!(path = %self.dir.join(file_name).display(), "read cached credentials");
        let v: Value = serde_json::from_slice(&bytes).ok()?;
        let c = if v.get("Credentials").is_some() { &v["Credentials"] } else { &v };
        let s = |k: &str| c.get(k).and_then(Value::as_str).map(str::to_string);
        Some(Credentials {
            access_key_id: s("AccessKeyId")?,
            secret_access_key: Secret::new(s("SecretAccessKey")?),
            session_token: s("SessionToken").map(Secret::new),
            expiration: s("Expiration").and_then(|e| parse_time(&e)),
            account_id: s("AccountId"),
        })
    }

    /// The path of an entry.
    pub fn path(&self, file_name: &str) -> PathBuf {
        self.dir.join(file_name)
    }

    /// Blocks until this process holds the lock of one entry (an OS lock on
    /// `.<name>.lock` beside it, released on drop and when the process dies,
    /// however it dies): the renewal of an entry happens under it, so a crowd
    /// of processes renews it once (docs/locking.md).
    pub fn lock(&self, file_name: &str) -> io::Result<EntryLock> {
        let lock = tobira_fs::Lock::acquire(&self.path(file_name))?;
        Ok(EntryLock { cache: self.clone(), name: file_name.to_string(), _lock: lock })
    }

    fn write(&self, file_name: &str, text: &str) -> io::Result<()> {
        self.lock(file_name)?.write(text)
    }

    /// An SSO role credential entry, as `aws` writes it (files.md §6.3).
    pub fn write_sso(&self, file_name: &str, c: &Credentials) -> io::Result<()> {
        self.write(file_name, &sso_json(c))
    }

    /// An assume-role entry, as `aws` writes it (files.md §6.4).
    pub fn write_assumed(&self, file_name: &str, c: &Credentials, user: &AssumedRoleUser<'_>) -> io::Result<()> {
        self.write(file_name, &assumed_json(c, user))
    }

    /// A flat entry (tobira's MFA sessions).
    pub fn write_flat(&self, file_name: &str, c: &Credentials) -> io::Result<()> {
        self.write(file_name, &credentials_json(c, format_time))
    }

    /// Removes an entry; `Ok(false)` if it was not there.
    pub fn remove(&self, file_name: &str) -> io::Result<bool> {
        match std::fs::remove_file(self.dir.join(file_name)) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(e),
        }
    }
}

/// Who an AssumeRole call made the caller (kept in the entry as the AWS CLI keeps it).
#[derive(Clone, Copy, Debug)]
pub struct AssumedRoleUser<'a> {
    pub assumed_role_id: &'a str,
    pub arn: &'a str,
    pub request_id: &'a str,
}

/// The lock of one cache entry, held while the entry is renewed; writes
/// through it need no second lock. Released when dropped.
#[derive(Debug)]
pub struct EntryLock {
    cache: CredentialCache,
    name: String,
    _lock: tobira_fs::Lock,
}

impl EntryLock {
    /// The entry as it is now (re-read under the lock).
    pub fn read(&self) -> Option<Credentials> {
        self.cache.read(&self.name)
    }

    /// The entry's path.
    pub fn path(&self) -> PathBuf {
        self.cache.path(&self.name)
    }

    fn write(&self, text: &str) -> io::Result<()> {
        let path = self.cache.path(&self.name);
        tracing::debug!(path = %path.display(), "caching credentials");
        tobira_fs::write_atomic(&path, text.as_bytes(), tobira_fs::PRIVATE_FILE)
    }

    /// [`CredentialCache::write_sso`] under this lock.
    pub fn write_sso(&self, c: &Credentials) -> io::Result<()> {
        self.write(&sso_json(c))
    }

    /// [`CredentialCache::write_assumed`] under this lock.
    pub fn write_assumed(&self, c: &Credentials, user: &AssumedRoleUser<'_>) -> io::Result<()> {
        self.write(&assumed_json(c, user))
    }

    /// [`CredentialCache::write_flat`] under this lock.
    pub fn write_flat(&self, c: &Credentials) -> io::Result<()> {
        self.write(&credentials_json(c, format_time))
    }
}

fn sso_json(c: &Credentials) -> String {
    format!("{{\"ProviderType\": \"sso\", \"Credentials\": {}}}", credentials_json(c, format_time))
}

fn assumed_json(c: &Credentials, user: &AssumedRoleUser<'_>) -> String {
    let iso = |t: Timestamp| t.strftime("%Y-%m-%dT%H:%M:%S+00:00").to_string();
    format!(
        "{{\"Credentials\": {}, \"AssumedRoleUser\": {{\"AssumedRoleId\": {}, \"Arn\": {}}}, \"ResponseMetadata\": {{\"RequestId\": {}, \"HTTPStatusCode\": 200, \"HTTPHeaders\": {{}}, \"RetryAttempts\": 0}}}}",
        credentials_json(c, iso),
        j(&json!(user.assumed_role_id)),
        j(&json!(user.arn)),
        j(&json!(user.request_id))
    )
}

/// `{"AccessKeyId": …, "SecretAccessKey": …, "SessionToken": …, "Expiration": …, "AccountId": …}`
/// in the AWS CLI's key order, Python separators.
fn credentials_json(c: &Credentials, time: fn(Timestamp) -> String) -> String {
    let mut parts = vec![
        format!("\"AccessKeyId\": {}", j(&json!(c.access_key_id))),
        format!("\"SecretAccessKey\": {}", j(&json!(c.secret_access_key.expose()))),
    ];
    if let Some(t) = &c.session_token {
        parts.push(format!("\"SessionToken\": {}", j(&json!(t.expose()))));
    }
    if let Some(e) = c.expiration {
        parts.push(format!("\"Expiration\": {}", j(&json!(time(e)))));
    }
    if let Some(a) = &c.account_id {
        parts.push(format!("\"AccountId\": {}", j(&json!(a))));
    }
    format!("{{{}}}", parts.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn creds() -> Credentials {
        Credentials {
            access_key_id: "ASIAEXAMPLE".into(),
            secret_access_key: Secret::new("s"),
            session_token: Some(Secret::new("t")),
            expiration: Some("2026-11-22T01:28:47Z".parse().unwrap()),
            account_id: Some("222222222222".into()),
        }
    }

    #[test]
    fn aws_cli_layouts_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let cache = CredentialCache::cli(dir.path());
        cache.write_sso("a.json", &creds()).unwrap();
        assert_eq!(
            std::fs::read_to_string(cache.dir().join("a.json")).unwrap(),
            r#"{"ProviderType": "sso", "Credentials": {"AccessKeyId": "ASIAEXAMPLE", "SecretAccessKey": "s", "SessionToken": "t", "Expiration": "2026-11-22T01:28:47Z", "AccountId": "222222222222"}}"#
        );
        assert_eq!(cache.read("a.json"), Some(creds()));
        let user =
            AssumedRoleUser { assumed_role_id: "AROA:s", arn: "arn:aws:sts::1:assumed-role/r/s", request_id: "req" };
        cache.write_assumed("b.json", &creds(), &user).unwrap();
        let text = std::fs::read_to_string(cache.dir().join("b.json")).unwrap();
        assert!(text.contains(r#""Expiration": "2026-11-22T01:28:47+00:00""#), "{text}");
        assert_eq!(cache.read("b.json"), Some(creds()));
        assert!(cache.read("missing.json").is_none());
    }

    #[test]
    fn writes_under_an_entry_lock_and_the_lock_excludes_others() {
        let dir = tempfile::tempdir().unwrap();
        let cache = CredentialCache::cli(dir.path());
        let held = cache.lock("a.json").unwrap();
        assert_eq!(held.read(), None);
        // Writing through the held lock does not wait for it.
        held.write_sso(&creds()).unwrap();
        assert_eq!(held.read(), Some(creds()));
        assert!(tobira_fs::Lock::try_acquire(&cache.path("a.json")).unwrap().is_none(), "held");
        // Another entry has its own lock.
        assert!(tobira_fs::Lock::try_acquire(&cache.path("b.json")).unwrap().is_some());
        drop(held);
        assert!(tobira_fs::Lock::try_acquire(&cache.path("a.json")).unwrap().is_some(), "released on drop");
        cache.write_flat("a.json", &creds()).unwrap();
        assert_eq!(cache.read("a.json"), Some(creds()));
    }

    #[test]
    fn freshness() {
        let c = creds();
        assert!(c.fresh("2026-11-22T01:00:00Z".parse().unwrap()));
        assert!(!c.fresh("2026-11-22T01:14:00Z".parse().unwrap()));
        assert!(c.valid_for("2026-11-22T01:28:00Z".parse().unwrap(), SignedDuration::from_secs(30)));
        assert!(!c.valid_for("2026-11-22T01:28:20Z".parse().unwrap(), SignedDuration::from_secs(30)));
        assert!(Credentials { expiration: None, ..c }.fresh(Timestamp::MAX));
    }
}
