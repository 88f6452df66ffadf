//! The AWS CLI's on-disk caches, shared with it byte for byte:
//! - [`keys`]: file names (SHA-1 of what botocore hashes);
//! - [`token`]: the SSO token and client-registration files, their lenient
//!   readers, exact writers and freshness rules (with `now` passed in);
//! - [`SsoCache`]: reading and writing `~/.aws/sso/cache` (0700 directory,
//!   0600 files, atomic replace under a lock);
//! - [`login`]: the sign-ins of `aws login` (`~/.aws/login/cache`).

pub mod keys;
pub mod login;
mod pyjson;
pub mod role;
pub mod token;

use std::io;
use std::path::{Path, PathBuf};

pub use keys::SsoKey;
pub use role::{AssumedRoleUser, CredentialCache, Credentials, EntryLock};
pub use token::{Freshness, Registration, SsoToken, TokenError};

/// A cache file that exists but cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    #[error("cannot read {}: {source}", path.display())]
    Io { path: PathBuf, source: io::Error },
    #[error("{}: {error}", path.display())]
    Invalid { path: PathBuf, error: TokenError },
}

/// `~/.aws/sso/cache`.
#[derive(Clone, Debug)]
pub struct SsoCache {
    dir: PathBuf,
}

impl SsoCache {
    /// The cache under a home directory (`<home>/.aws/sso/cache`).
    pub fn in_home(home: &Path) -> SsoCache {
        SsoCache { dir: home.join(".aws").join("sso").join("cache") }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn token_path(&self, key: SsoKey<'_>) -> PathBuf {
        self.dir.join(keys::token_file_name(key))
    }

    /// The cached token, `Ok(None)` when there is none.
    pub fn read_token(&self, key: SsoKey<'_>) -> Result<Option<SsoToken>, CacheError> {
        let path = self.token_path(key);
        let result = match std::fs::read(&path) {
            Ok(bytes) => {
                SsoToken::from_json(&bytes).map(Some).map_err(|error| CacheError::Invalid { path: path.clone(), error })
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(CacheError::Io { path: path.clone(), source }),
        };
        match &result {
            Ok(Some(t)) => tracing::debug!(
                path = %path.display(),
                expires_at = %t.expires_at,
                refreshable = t.refresh_token.is_some(),
                "read the SSO token"
            ),
            Ok(None) => tracing::debug!(path = %path.display(), "no SSO token cached"),
            Err(e) => tracing::debug!(error = %e, "the SSO token cannot be used"),
        }
        result
    }

    /// Removes the token file; `Ok(false)` if there was none.
    pub fn remove_token(&self, key: SsoKey<'_>) -> io::Result<bool> {
        let path = self.token_path(key);
        let _lock = tobira_fs::Lock::acquire(&path)?;
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// The cached client registration in a file named by
    /// [`keys::registration_file_name`]; `Ok(None)` when absent or unusable
    /// (a broken registration is simply replaced).
    pub fn read_registration(&self, file_name: &str) -> Option<Registration> {
        let bytes = std::fs::read(self.dir.join(file_name)).ok()?;
        let r = Registration::from_json(&bytes).ok();
        tracing::debug!(
            path = %self.dir.join(file_name).display(),
            expires_at = ?r.as_ref().map(|r| r.expires_at.to_string()),
            "read the client registration"
        );
        r
    }

    /// Removes a cached client registration; `Ok(false)` if there was none.
    pub fn remove_registration(&self, file_name: &str) -> io::Result<bool> {
        match std::fs::remove_file(self.dir.join(file_name)) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(e),
        }
    }

    pub fn write_registration(&self, file_name: &str, registration: &Registration) -> io::Result<()> {
        let path = self.dir.join(file_name);
        let _lock = tobira_fs::Lock::acquire(&path)?;
        tracing::debug!(path = %path.display(), expires_at = %registration.expires_at, "caching the client registration");
        tobira_fs::write_atomic(&path, registration.to_json().as_bytes(), tobira_fs::PRIVATE_FILE)
    }

    /// Replaces the token file atomically (readers such as the AWS CLI see
    /// the old file or the new one), 0600 in a 0700 directory.
    pub fn write_token(&self, key: SsoKey<'_>, token: &SsoToken) -> io::Result<()> {
        let path = self.token_path(key);
        let _lock = tobira_fs::Lock::acquire(&path)?;
        self.write_token_locked(key, token)
    }

    /// [`SsoCache::write_token`] for a caller that already holds the token
    /// file's lock (`tobira_fs::Lock::acquire(&cache.token_path(key))`).
    pub fn write_token_locked(&self, key: SsoKey<'_>, token: &SsoToken) -> io::Result<()> {
        tracing::debug!(
            path = %self.token_path(key).display(),
            expires_at = %token.expires_at,
            refreshable = token.refresh_token.is_some(),
            "caching the SSO token"
        );
        tobira_fs::write_atomic(&self.token_path(key), token.to_json().as_bytes(), tobira_fs::PRIVATE_FILE)
    }
}

#[cfg(test)]
#[cfg(unix)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn write_then_read_private_files() {
        let home = tempfile::tempdir().unwrap();
        let cache = SsoCache::in_home(home.path());
        let key = SsoKey::Session("my-sso");
        assert!(cache.read_token(key).unwrap().is_none());
        let token = SsoToken::from_json(br#"{"accessToken": "AT", "expiresAt": "2026-11-22T08:28:18Z"}"#).unwrap();
        cache.write_token(key, &token).unwrap();
        assert_eq!(cache.read_token(key).unwrap(), Some(token));
        let path = home.path().join(".aws/sso/cache/0ad374308c5a4e22f723adf10145eafad7c4031c.json");
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(std::fs::metadata(cache.dir()).unwrap().permissions().mode() & 0o777, 0o700);
        std::fs::write(&path, "{}").unwrap();
        assert!(matches!(
            cache.read_token(key),
            Err(CacheError::Invalid { error: TokenError::Missing("accessToken"), .. })
        ));
    }
}
