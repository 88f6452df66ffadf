//! The cache of `aws login` sign-ins (`login_session` profiles,
//! docs/login-session.md): one file per console principal in
//! `~/.aws/login/cache/` (or `AWS_LOGIN_CACHE_DIRECTORY`), named by the
//! SHA-256 of the `login_session` value, written byte for byte as the AWS CLI
//! writes it so the CLI, botocore and the SDKs use tobira's sign-ins and the
//! other way round.
//!
//! Reading is lenient (any key order, `expiresAt` with or without fractions,
//! unknown keys kept); writing is exact: the CLI's key order, Python's
//! `json.dumps` separators, whole-second UTC times, no trailing newline, a
//! 0600 file replaced atomically.

use std::io;
use std::path::{Path, PathBuf};

use jiff::{SignedDuration, Timestamp};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use tobira_config::Secret;

use crate::pyjson::dumps_sorted as j;
use crate::token::{format_time, parse_time};

/// Refresh the credentials of a sign-in when this little is left (the AWS
/// CLI, botocore and the JS SDK agree on five minutes).
pub const LOGIN_REFRESH_WINDOW: SignedDuration = SignedDuration::from_mins(5);

/// The client id of a sign-in on this device (loopback callback).
pub const SAME_DEVICE: &str = "arn:aws:signin:::devtools/same-device";
/// The client id of a `--remote` sign-in (a code pasted from another device).
pub const CROSS_DEVICE: &str = "arn:aws:signin:::devtools/cross-device";

/// The file name of a login session: lowercase hex SHA-256 of the value of
/// `login_session`, plus `.json`.
pub fn login_file_name(session: &str) -> String {
    let digest = Sha256::digest(session.as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("{hex}.json")
}

/// The account of a principal ARN (its fifth field), if it has one.
pub fn account_of(arn: &str) -> Option<String> {
    arn.split(':').nth(4).filter(|a| !a.is_empty()).map(str::to_string)
}

/// Why a cached sign-in cannot be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LoginFileError {
    #[error("the file is not a JSON object")]
    NotJson,
    /// A key every reader needs is missing (the AWS CLI: "missing one or
    /// more required fields").
    #[error("it has no usable `{0}`")]
    Missing(&'static str),
}

/// One cached sign-in: the current credentials, the refresh token and the
/// DPoP key the refresh token is bound to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoginToken {
    pub access_key_id: String,
    pub secret_access_key: Secret,
    pub session_token: Secret,
    /// `accessToken.accountId` (the account of the `login_session` ARN).
    pub account_id: Option<String>,
    pub expires_at: Timestamp,
    /// `tokenType`, copied as the service sent it (`aws_sigv4`).
    pub token_type: String,
    /// The client the sign-in was made with (same-device or cross-device);
    /// sent again with every refresh.
    pub client_id: String,
    pub refresh_token: Secret,
    /// The ID token of the sign-in (a JWT naming the principal), kept across
    /// refreshes. Absent in files some SDKs write.
    pub id_token: Option<Secret>,
    /// The DPoP private key as PEM (SEC1 as the AWS CLI writes it, or PKCS#8).
    pub dpop_key: Secret,
    /// Keys tobira does not know (e.g. the JS SDK's `signInRegion`), kept.
    pub extra: Map<String, Value>,
}

fn text<'a>(map: &'a Map<String, Value>, key: &'static str) -> Result<&'a str, LoginFileError> {
    map.get(key).and_then(Value::as_str).filter(|s| !s.is_empty()).ok_or(LoginFileError::Missing(key))
}

const KNOWN: [&str; 6] = ["accessToken", "tokenType", "clientId", "refreshToken", "idToken", "dpopKey"];

impl LoginToken {
    /// Reads a cache file's bytes. `accessToken` (with its keys and
    /// `expiresAt`), `refreshToken`, `dpopKey` and `clientId` are required,
    /// as for the AWS CLI.
    pub fn from_json(bytes: &[u8]) -> Result<LoginToken, LoginFileError> {
        let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(bytes) else {
            return Err(LoginFileError::NotJson);
        };
        let Some(Value::Object(access)) = map.get("accessToken") else {
            return Err(LoginFileError::Missing("accessToken"));
        };
        let expires_at = text(access, "expiresAt")
            .ok()
            .and_then(parse_time)
            .ok_or(LoginFileError::Missing("accessToken.expiresAt"))?;
        Ok(LoginToken {
            access_key_id: text(access, "accessKeyId")
                .map_err(|_| LoginFileError::Missing("accessToken.accessKeyId"))?
                .to_string(),
            secret_access_key: Secret::new(
                text(access, "secretAccessKey").map_err(|_| LoginFileError::Missing("accessToken.secretAccessKey"))?,
            ),
            session_token: Secret::new(
                text(access, "sessionToken").map_err(|_| LoginFileError::Missing("accessToken.sessionToken"))?,
            ),
            account_id: text(access, "accountId").ok().map(str::to_string),
            expires_at,
            token_type: map.get("tokenType").and_then(Value::as_str).unwrap_or("aws_sigv4").to_string(),
            client_id: text(&map, "clientId")?.to_string(),
            refresh_token: Secret::new(text(&map, "refreshToken")?),
            id_token: map.get("idToken").and_then(Value::as_str).map(Secret::new),
            dpop_key: Secret::new(text(&map, "dpopKey")?),
            extra: map
                .iter()
                .filter(|(k, _)| !KNOWN.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        })
    }

    /// The file as the AWS CLI writes it: `{"accessToken": {"accessKeyId",
    /// "secretAccessKey", "sessionToken", "accountId", "expiresAt"},
    /// "tokenType", "clientId", "refreshToken", "idToken", "dpopKey"}` in this
    /// order, `", "` / `": "` separators, `expiresAt` without fractions, no
    /// trailing newline; unknown keys follow.
    pub fn to_json(&self) -> String {
        let mut access = vec![
            format!("\"accessKeyId\": {}", j(&json!(self.access_key_id))),
            format!("\"secretAccessKey\": {}", j(&json!(self.secret_access_key.expose()))),
            format!("\"sessionToken\": {}", j(&json!(self.session_token.expose()))),
        ];
        if let Some(a) = &self.account_id {
            access.push(format!("\"accountId\": {}", j(&json!(a))));
        }
        access.push(format!("\"expiresAt\": {}", j(&json!(format_time(self.expires_at)))));
        let mut fields = vec![
            format!("\"accessToken\": {{{}}}", access.join(", ")),
            format!("\"tokenType\": {}", j(&json!(self.token_type))),
            format!("\"clientId\": {}", j(&json!(self.client_id))),
            format!("\"refreshToken\": {}", j(&json!(self.refresh_token.expose()))),
        ];
        if let Some(id) = &self.id_token {
            fields.push(format!("\"idToken\": {}", j(&json!(id.expose()))));
        }
        fields.push(format!("\"dpopKey\": {}", j(&json!(self.dpop_key.expose()))));
        for (k, v) in &self.extra {
            fields.push(format!("{}: {}", j(&json!(k)), crate::pyjson::dumps(v, false, ", ", ": ")));
        }
        format!("{{{}}}", fields.join(", "))
    }

    /// True when the credentials must be refreshed before use: five minutes
    /// or less left (or already expired).
    pub fn refresh_due(&self, now: Timestamp) -> bool {
        self.expires_at.duration_since(now) <= LOGIN_REFRESH_WINDOW
    }

    /// The file's `signInRegion`: the region of AWS Sign-In the sign-in
    /// belongs to. The JS SDK refreshes there in preference to the
    /// profile's region (a configured endpoint still wins); the AWS CLI and
    /// botocore never write it. Only a region-shaped value (lowercase
    /// letters, digits and `-`) counts, so the file cannot send the refresh
    /// token to another host.
    pub fn sign_in_region(&self) -> Option<&str> {
        let r = self.extra.get("signInRegion")?.as_str()?;
        let shaped = (1..=63).contains(&r.len())
            && r.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !r.starts_with('-')
            && !r.ends_with('-');
        shaped.then_some(r)
    }

    /// The credentials, for STS and for tools.
    pub fn credentials(&self) -> crate::Credentials {
        crate::Credentials {
            access_key_id: self.access_key_id.clone(),
            secret_access_key: self.secret_access_key.clone(),
            session_token: Some(self.session_token.clone()),
            expiration: Some(self.expires_at),
            account_id: self.account_id.clone(),
        }
    }
}

/// A cache file that exists but cannot be used, or cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum LoginCacheError {
    #[error("cannot read {}: {source}", path.display())]
    Io { path: PathBuf, source: io::Error },
    #[error("{} cannot be used: {error}", path.display())]
    Invalid { path: PathBuf, error: LoginFileError },
}

/// The directory of cached sign-ins.
#[derive(Clone, Debug)]
pub struct LoginCache {
    dir: PathBuf,
}

impl LoginCache {
    /// `~/.aws/login/cache` under a home directory.
    pub fn in_home(home: &Path) -> LoginCache {
        LoginCache { dir: home.join(".aws").join("login").join("cache") }
    }

    /// A given directory (`AWS_LOGIN_CACHE_DIRECTORY`, already expanded).
    pub fn at(dir: PathBuf) -> LoginCache {
        LoginCache { dir }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file of a login session.
    pub fn path(&self, session: &str) -> PathBuf {
        self.dir.join(login_file_name(session))
    }

    /// The cached sign-in, `Ok(None)` when there is none.
    pub fn read(&self, session: &str) -> Result<Option<LoginToken>, LoginCacheError> {
        let path = self.path(session);
        match std::fs::read(&path) {
            Ok(bytes) => {
                LoginToken::from_json(&bytes).map(Some).map_err(|error| LoginCacheError::Invalid { path, error })
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(LoginCacheError::Io { path, source }),
        }
    }

    /// Replaces the file atomically under its lock; 0600.
    pub fn write(&self, session: &str, token: &LoginToken) -> io::Result<()> {
        let _lock = tobira_fs::Lock::acquire(&self.path(session))?;
        self.write_locked(session, token)
    }

    /// [`LoginCache::write`] for a caller that holds the file's lock
    /// (`tobira_fs::Lock::acquire(&cache.path(session))`). The file ends up
    /// 0600 whatever its mode was (it holds a private key), as botocore
    /// leaves it.
    pub fn write_locked(&self, session: &str, token: &LoginToken) -> io::Result<()> {
        let path = self.path(session);
        tobira_fs::write_atomic(&path, token.to_json().as_bytes(), tobira_fs::PRIVATE_FILE)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let meta = std::fs::metadata(&path)?;
            if meta.permissions().mode() & 0o077 != 0 {
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(tobira_fs::PRIVATE_FILE))?;
            }
        }
        Ok(())
    }

    /// Removes a session's file under its lock; `Ok(false)` if there was none.
    pub fn remove(&self, session: &str) -> io::Result<bool> {
        let path = self.path(session);
        if !self.dir.exists() {
            return Ok(false);
        }
        let _lock = tobira_fs::Lock::acquire(&path)?;
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Removes every file that holds a cached sign-in (a JSON object whose
    /// `accessToken` is an object with `accessKeyId`, as `aws logout --all`
    /// decides); other files stay. Returns how many were removed.
    pub fn remove_all(&self) -> io::Result<usize> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(e) => e,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(0),
            Err(e) => return Err(e),
        };
        let mut removed = 0;
        for entry in entries.flatten() {
            let path = entry.path();
            let is_login = std::fs::read(&path)
                .ok()
                .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
                .is_some_and(|v| v["accessToken"].get("accessKeyId").is_some());
            if is_login && std::fs::remove_file(&path).is_ok() {
                removed += 1;
            }
        }
        Ok(removed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shape of a file the AWS CLI wrote (docs/login-session.md).
    const CLI_FILE: &str = r#"{"accessToken": {"accessKeyId": "ASIASIGNIN0000000001", "secretAccessKey": "signin-secret-1", "sessionToken": "signin-session-token-1", "accountId": "123456789012", "expiresAt": "2026-11-30T11:23:03Z"}, "tokenType": "aws_sigv4", "clientId": "arn:aws:signin:::devtools/same-device", "refreshToken": "signin-refresh-1", "idToken": "eyJ.eyJ.sig", "dpopKey": "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIGCiMX0QxDyMBi5KoUrIYosom8jJumHKvCN1jskeJrGcoAoGCCqGSM49\nAwEHoUQDQgAEr3areyPKBIGeeBNppWerMemaurVn3rob/mxOXg1fra7Q6jux3V3q\nAzNrCl8CzXIcVmRapssoIGAXaT+CdlSVSA==\n-----END EC PRIVATE KEY-----\n"}"#;

    #[test]
    fn names_are_the_sha256_of_the_session() {
        assert_eq!(
            login_file_name("arn:aws:sts::123456789012:assumed-role/Admin/alice"),
            "68afef069a49e0c940bc8515a36649850d686bdd2e3c07927360d151553fc4d3.json"
        );
        assert_eq!(
            login_file_name("arn:aws:sts::012345678910:assumed-role/Admin/admin"),
            "4b0ba8f99f075c0633e122fd73346ce203a3faf18ea0310eb2d29df1bab2e255.json"
        );
        assert_eq!(account_of("arn:aws:iam::123456789012:user/bob").as_deref(), Some("123456789012"));
        assert_eq!(account_of("not-an-arn"), None);
    }

    #[test]
    fn the_cli_file_round_trips_byte_for_byte() {
        let t = LoginToken::from_json(CLI_FILE.as_bytes()).unwrap();
        assert_eq!(t.to_json(), CLI_FILE);
        assert_eq!(t.account_id.as_deref(), Some("123456789012"));
        assert_eq!(format!("{:?}", t.refresh_token), "****");
        assert!(!format!("{t:?}").contains("signin-refresh-1"), "no secret in Debug output");
        let now: Timestamp = "2026-11-30T11:18:04Z".parse().unwrap();
        assert!(t.refresh_due(now), "4m59s left");
        assert!(!t.refresh_due("2026-11-30T11:18:02Z".parse().unwrap()), "5m01s left");
    }

    #[test]
    fn other_writers_files_are_read_and_rewritten_as_the_cli_writes() {
        // The JS SDK: pretty-printed, milliseconds, its own key order, an extra key, a PKCS#8 key.
        let js = r#"{
  "accessToken": {"accountId": "123456789012", "accessKeyId": "A", "secretAccessKey": "S", "sessionToken": "T", "expiresAt": "2026-11-30T11:24:30.681Z"},
  "tokenType": "aws_sigv4", "clientId": "arn:aws:signin:::devtools/cross-device",
  "refreshToken": "R", "dpopKey": "-----BEGIN PRIVATE KEY-----\nX\n-----END PRIVATE KEY-----", "signInRegion": "eu-west-1"
}"#;
        let t = LoginToken::from_json(js.as_bytes()).unwrap();
        assert_eq!(
            t.to_json(),
            r#"{"accessToken": {"accessKeyId": "A", "secretAccessKey": "S", "sessionToken": "T", "accountId": "123456789012", "expiresAt": "2026-11-30T11:24:30Z"}, "tokenType": "aws_sigv4", "clientId": "arn:aws:signin:::devtools/cross-device", "refreshToken": "R", "dpopKey": "-----BEGIN PRIVATE KEY-----\nX\n-----END PRIVATE KEY-----", "signInRegion": "eu-west-1"}"#
        );
    }

    #[test]
    fn files_without_what_a_refresh_needs_are_refused() {
        assert_eq!(LoginToken::from_json(b"[]"), Err(LoginFileError::NotJson));
        for (key, want) in [
            ("refreshToken", LoginFileError::Missing("refreshToken")),
            ("dpopKey", LoginFileError::Missing("dpopKey")),
            ("clientId", LoginFileError::Missing("clientId")),
            ("accessToken", LoginFileError::Missing("accessToken")),
        ] {
            let mut v: Value = serde_json::from_str(CLI_FILE).unwrap();
            v.as_object_mut().unwrap().remove(key);
            assert_eq!(LoginToken::from_json(v.to_string().as_bytes()), Err(want), "{key}");
        }
        let no_expiry = CLI_FILE.replace(r#", "expiresAt": "2026-11-30T11:23:03Z""#, "");
        assert_eq!(LoginToken::from_json(no_expiry.as_bytes()), Err(LoginFileError::Missing("accessToken.expiresAt")));
    }

    #[cfg(unix)]
    #[test]
    fn writes_are_private_and_logout_all_keeps_other_files() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let cache = LoginCache::at(dir.path().join("login"));
        let session = "arn:aws:iam::123456789012:user/bob";
        assert!(cache.read(session).unwrap().is_none());
        let t = LoginToken::from_json(CLI_FILE.as_bytes()).unwrap();
        std::fs::create_dir_all(cache.dir()).unwrap();
        std::fs::write(cache.path(session), "{}").unwrap();
        std::fs::set_permissions(cache.path(session), std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(matches!(cache.read(session), Err(LoginCacheError::Invalid { .. })));
        cache.write(session, &t).unwrap();
        assert_eq!(std::fs::metadata(cache.path(session)).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(cache.read(session).unwrap(), Some(t));
        std::fs::write(cache.dir().join("unrelated.json"), r#"{"accessToken": "not an object"}"#).unwrap();
        assert_eq!(cache.remove_all().unwrap(), 1);
        assert!(cache.dir().join("unrelated.json").exists());
        assert!(!cache.remove(session).unwrap());
    }
}
