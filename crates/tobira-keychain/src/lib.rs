//! The OS keychain, for the one secret tobira keeps there: an IAM user's
//! long-term secret access key. One item per access key: service `tobira`,
//! account (user name) the access key id, the secret as its password.
//!
//! The store is the system's own, through the `keyring` crate: the Secret
//! Service (D-Bus: GNOME Keyring, KeePassXC, KWallet's bridge) on Linux, the
//! login Keychain on macOS, Credential Manager on Windows. Elsewhere, or in
//! a build without a real store, every call says there is no keychain
//! rather than keeping the secret in memory, which would lose it.
//!
//! Errors say which of these it was: no keychain at all (no D-Bus session,
//! nothing providing the Secret Service, an unsupported system), a locked
//! keychain or a refused request, or another failure of the store. Their
//! text never contains the secret.

use tobira_config::Secret;

/// The service name of tobira's items.
pub const SERVICE: &str = "tobira";

/// Why the keychain could not be used.
#[derive(Debug, thiserror::Error)]
pub enum KeychainError {
    /// There is no keychain to use here.
    #[error("no keychain is available: {why}")]
    Unavailable { why: String },
    /// The keychain exists but is locked, or the request was refused
    /// (a dismissed unlock prompt, an access rule).
    #[error("the keychain refused access: {why}")]
    Refused { why: String },
    /// Several items match one access key (made by another program).
    #[error("the keychain holds {count} items for service `{SERVICE}` and access key {key}, where tobira expects one")]
    Ambiguous { key: String, count: usize },
    /// The item's password is not text.
    #[error("the keychain item for access key {key} does not hold text")]
    NotText { key: String },
    #[error("the keychain failed: {why}")]
    Failed { why: String },
}

/// Which store this build uses, as people know it.
pub fn store_name() -> &'static str {
    if cfg!(target_os = "linux") {
        "Secret Service"
    } else if cfg!(target_os = "macos") {
        "macOS Keychain"
    } else if cfg!(target_os = "windows") {
        "Windows Credential Manager"
    } else {
        "none"
    }
}

/// Stores `secret` as the item of `access_key_id` (replacing it).
pub fn store(access_key_id: &str, secret: &Secret) -> Result<(), KeychainError> {
    let entry = entry(access_key_id)?;
    entry.set_password(secret.expose()).map_err(|e| classify(e, access_key_id))
}

/// The secret of `access_key_id`; `Ok(None)` when there is no such item.
pub fn load(access_key_id: &str) -> Result<Option<Secret>, KeychainError> {
    let entry = entry(access_key_id)?;
    match entry.get_password() {
        Ok(p) => Ok(Some(Secret::new(p))),
        Err(keyring::Error::NoEntry) => Ok(None),
        Err(e) => Err(classify(e, access_key_id)),
    }
}

/// Removes the item of `access_key_id`; `Ok(false)` when there was none.
pub fn delete(access_key_id: &str) -> Result<bool, KeychainError> {
    let entry = entry(access_key_id)?;
    match entry.delete_credential() {
        Ok(()) => Ok(true),
        Err(keyring::Error::NoEntry) => Ok(false),
        Err(e) => Err(classify(e, access_key_id)),
    }
}

/// Stores `secret`, then reads it back and compares: `Ok` only when the
/// keychain returns exactly what was given.
pub fn store_verified(access_key_id: &str, secret: &Secret) -> Result<(), KeychainError> {
    store(access_key_id, secret)?;
    match load(access_key_id)? {
        Some(back) if back == *secret => Ok(()),
        Some(_) => Err(KeychainError::Failed {
            why: format!("the item for access key {access_key_id} reads back different from what was stored"),
        }),
        None => Err(KeychainError::Failed {
            why: format!("the item for access key {access_key_id} is not there right after it was stored"),
        }),
    }
}

/// The item for an access key, only from a store that keeps it on disk.
fn entry(access_key_id: &str) -> Result<keyring::Entry, KeychainError> {
    persistent()?;
    keyring::Entry::new(SERVICE, access_key_id).map_err(|e| classify(e, access_key_id))
}

/// keyring falls back to an in-memory store where it has none for the
/// system (or the build lacks its feature): refused here, since a secret
/// moved there would be gone when tobira exits.
fn persistent() -> Result<(), KeychainError> {
    use keyring::credential::CredentialPersistence;
    match keyring::default::default_credential_builder().persistence() {
        CredentialPersistence::UntilDelete => Ok(()),
        _ => Err(KeychainError::Unavailable {
            why: format!(
                "tobira has no keychain for this system ({}); it supports the Secret Service on Linux, the macOS Keychain and the Windows Credential Manager",
                std::env::consts::OS
            ),
        }),
    }
}

/// A keyring error as one of ours, in words; the error chain is walked
/// for the platform's reason (D-Bus error names included).
fn classify(e: keyring::Error, key: &str) -> KeychainError {
    let chain = |err: &(dyn std::error::Error + 'static)| {
        let mut text = err.to_string();
        let mut cur = err.source();
        while let Some(s) = cur {
            let t = s.to_string();
            if !text.contains(&t) {
                text.push_str(": ");
                text.push_str(&t);
            }
            cur = s.source();
        }
        text
    };
    match e {
        keyring::Error::NoStorageAccess(inner) => KeychainError::Refused { why: refusal(&chain(inner.as_ref())) },
        keyring::Error::PlatformFailure(inner) => platform(&chain(inner.as_ref())),
        keyring::Error::Ambiguous(items) => KeychainError::Ambiguous { key: key.to_string(), count: items.len() },
        keyring::Error::BadEncoding(_) => KeychainError::NotText { key: key.to_string() },
        keyring::Error::NoEntry => KeychainError::Failed { why: format!("there is no item for access key {key}") },
        keyring::Error::TooLong(what, limit) => {
            KeychainError::Failed { why: format!("`{what}` is longer than the keychain allows ({limit})") }
        }
        keyring::Error::Invalid(what, why) => KeychainError::Failed { why: format!("`{what}` is invalid: {why}") },
        other => KeychainError::Failed { why: other.to_string() },
    }
}

fn refusal(text: &str) -> String {
    let lower = text.to_lowercase();
    if lower.contains("prompt") || lower.contains("dismiss") {
        "it is locked, and the request to unlock it was dismissed or could not be shown".to_string()
    } else if lower.contains("lock") {
        "it is locked".to_string()
    } else {
        text.to_string()
    }
}

/// A platform failure: on Linux, most often no D-Bus session or nothing on
/// it providing the Secret Service.
fn platform(text: &str) -> KeychainError {
    let lower = text.to_lowercase();
    // secret-service's own word for both (no bus address, or no provider).
    if lower.contains("no secret service provider or dbus session found") {
        return KeychainError::Unavailable {
            why: "there is no D-Bus session, or nothing on it provides the Secret Service (org.freedesktop.secrets)"
                .to_string(),
        };
    }
    if lower.contains("serviceunknown")
        || lower.contains("org.freedesktop.secrets")
        || lower.contains("was not provided by any .service files")
    {
        return KeychainError::Unavailable {
            why: "nothing on the D-Bus session provides the Secret Service (org.freedesktop.secrets)".to_string(),
        };
    }
    let no_bus = [
        "dbus_session_bus_address",
        "xdg_runtime_dir",
        "no such file or directory",
        "connection refused",
        "address",
        "unable to autolaunch",
    ];
    if cfg!(target_os = "linux") && no_bus.iter().any(|n| lower.contains(n)) {
        return KeychainError::Unavailable {
            why: format!("there is no D-Bus session to reach the Secret Service on ({text})"),
        };
    }
    if lower.contains("locked") {
        return KeychainError::Refused { why: "it is locked".to_string() };
    }
    KeychainError::Failed { why: text.to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_build_uses_a_store_that_keeps_secrets() {
        // A build without the platform feature would fall back to keyring's
        // in-memory mock, which the persistence check refuses.
        if cfg!(any(target_os = "linux", target_os = "macos", target_os = "windows")) {
            assert!(persistent().is_ok());
        } else {
            assert!(matches!(persistent(), Err(KeychainError::Unavailable { .. })));
        }
    }

    #[test]
    fn platform_reasons_are_named() {
        let e = platform(
            "D-Bus error: org.freedesktop.DBus.Error.ServiceUnknown: The name org.freedesktop.secrets was not provided by any .service files",
        );
        assert_eq!(
            e.to_string(),
            "no keychain is available: nothing on the D-Bus session provides the Secret Service (org.freedesktop.secrets)"
        );
        assert!(matches!(refusal("Prompt dismissed").as_str(), s if s.contains("dismissed")));
    }
}
