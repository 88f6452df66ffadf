//! The domain layer under every protocol: the directory in force, sign-in
//! sessions and what derives from them (tokens, credentials), client
//! registrations and grants, users' passwords and MFA, throttling, and the
//! store. Nothing here knows HTTP; protocol modules call down into it and
//! never into each other (ARCHITECTURE.md, "tobira-idc").

pub(crate) mod admin;
pub(crate) mod clients;
pub mod clock;
pub(crate) mod console;
pub(crate) mod credentials;
pub mod directory;
pub(crate) mod federation;
pub(crate) mod grants;
pub(crate) mod mfa;
pub(crate) mod model;
pub(crate) mod password;
pub(crate) mod random;
pub(crate) mod seal;
pub(crate) mod secret;
pub(crate) mod sessions;
pub mod store;
pub(crate) mod throttle;
pub mod totp;
pub(crate) mod users;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

use clock::Clock;
use directory::{Directory, DirectoryError};
use model::Model;
use seal::SealKey;
use store::{Store, StoreError};
use throttle::Limits;

/// The rules the domain applies, from the server's settings.
#[derive(Clone, Debug)]
pub(crate) struct Policy {
    /// Lifetime of sign-in sessions and access tokens, in seconds.
    pub session_seconds: i64,
    /// `expiresIn` of device authorizations, in seconds.
    pub device_expires_in: i64,
    /// `interval` of device authorizations, in seconds.
    pub device_interval: i64,
    /// Credentials stay valid until they expire when their session is revoked.
    pub credentials_outlive_revocation: bool,
    /// Nothing issued lasts longer than this many seconds (tests and demos).
    pub credential_lifetime: Option<i64>,
}

impl Policy {
    /// An expiry for something issued at `now`, cut to the lifetime cap.
    pub(crate) fn capped(&self, now: i64, expires_at: i64) -> i64 {
        self.credential_lifetime.map_or(expires_at, |cap| expires_at.min(now.saturating_add(cap)))
    }
}

/// Why the directory could not be changed.
#[derive(Debug, thiserror::Error)]
pub enum ChangeError {
    #[error(transparent)]
    Directory(#[from] DirectoryError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("no user `{0}` in the directory")]
    NoSuchUser(String),
    /// A name or pair that must be unique is taken.
    #[error("{0}")]
    Duplicate(String),
    /// Something the change names does not exist.
    #[error("{0}")]
    NotFound(String),
}

/// The state every protocol shares.
#[derive(Debug)]
pub(crate) struct Core {
    pub store: Store,
    pub clock: Clock,
    pub seal: SealKey,
    pub limits: Limits,
    pub policy: Policy,
    /// Signs the Sign-In service's ID tokens.
    pub id_token_key: Option<console::IdTokenKey>,
    /// The model and the database `data_version` it was read at, so a change
    /// made by another process (`tobira-idc directory --set`) is noticed.
    model: RwLock<(Option<i64>, Arc<Model>)>,
    /// Held across every read-modify-write of the directory, so concurrent
    /// changes (Terraform sends ten at once) never lose one another.
    changes: Mutex<()>,
}

impl Core {
    pub(crate) fn new(store: Store, directory: Directory, seal: SealKey, policy: Policy) -> Result<Core, StoreError> {
        let version = store.data_version()?;
        Ok(Core {
            store,
            clock: Clock::default(),
            seal,
            limits: Limits::default(),
            policy,
            id_token_key: console::IdTokenKey::generate(),
            model: RwLock::new((version, Arc::new(Model::new(directory)))),
            changes: Mutex::new(()),
        })
    }

    /// The directory saved in the store: its rows, or the TOML text an
    /// older tobira-idc kept (converted to rows by the next save).
    pub(crate) fn stored_directory(store: &Store) -> Result<Option<Directory>, ChangeError> {
        let items = store.load_directory_items()?;
        if !items.is_empty() {
            return Ok(Some(Directory::from_items(&items)?));
        }
        match store.legacy_directory()? {
            Some(text) => Ok(Some(Directory::from_toml(&text)?)),
            None => Ok(None),
        }
    }

    pub(crate) fn now(&self) -> i64 {
        self.clock.now_s()
    }

    /// The directory in force, re-read if another process changed the database.
    pub(crate) fn model(&self) -> Arc<Model> {
        let version = self.store.data_version().ok().flatten();
        {
            let m = self.model.read().unwrap_or_else(|e| e.into_inner());
            if m.0 == version {
                return m.1.clone();
            }
        }
        let mut m = self.model.write().unwrap_or_else(|e| e.into_inner());
        if m.0 != version {
            if let Ok(Some(fresh)) = Core::stored_directory(&self.store) {
                m.1 = Arc::new(Model::new(fresh));
            }
            m.0 = version;
        }
        m.1.clone()
    }

    /// Replaces the directory (validated, passwords hashed) in the database
    /// and in memory.
    pub(crate) fn replace_directory(&self, directory: Directory) -> Result<(), ChangeError> {
        let _changing = self.changes.lock().unwrap_or_else(|e| e.into_inner());
        self.save(directory)
    }

    /// Applies `change` to the directory in force, validates the result and
    /// saves it; nothing else changes the directory in between.
    pub(crate) fn change<T>(
        &self,
        change: impl FnOnce(&mut Directory) -> Result<T, ChangeError>,
    ) -> Result<T, ChangeError> {
        let _changing = self.changes.lock().unwrap_or_else(|e| e.into_inner());
        let mut dir = self.model().dir.clone();
        let out = change(&mut dir)?;
        dir.validate()?;
        self.save(dir)?;
        Ok(out)
    }

    /// Writes the rows that differ from the stored ones (hashing plain-text
    /// passwords and filling in ids first), then puts the model in force.
    /// The caller holds `changes`.
    fn save(&self, mut directory: Directory) -> Result<(), ChangeError> {
        directory.hash_passwords();
        directory.fill_ids(self.now());
        let old: HashMap<(String, String), (i64, String)> =
            self.store.load_directory_items()?.into_iter().map(|i| ((i.kind, i.key), (i.pos, i.body))).collect();
        let new = directory.to_items();
        let mut deletes: Vec<(String, String)> = old.keys().cloned().collect();
        let keys: std::collections::HashSet<(&str, &str)> =
            new.iter().map(|i| (i.kind.as_str(), i.key.as_str())).collect();
        deletes.retain(|(k, key)| !keys.contains(&(k.as_str(), key.as_str())));
        let upserts: Vec<store::Item> = new
            .into_iter()
            .filter(|i| old.get(&(i.kind.clone(), i.key.clone())) != Some(&(i.pos, i.body.clone())))
            .collect();
        let mut m = self.model.write().unwrap_or_else(|e| e.into_inner());
        if !upserts.is_empty() || !deletes.is_empty() || self.store.legacy_directory()?.is_some() {
            self.store.save_directory_items(&upserts, &deletes)?;
        }
        *m = (self.store.data_version()?, Arc::new(Model::new(directory)));
        Ok(())
    }

    /// Replaces the directory with an edited public view (the admin API,
    /// the admin page, `tobira-idc directory --set`): what comes without its
    /// secret keeps the one it had.
    pub(crate) fn apply_edited_toml(&self, text: &str) -> Result<(), ChangeError> {
        let directory = Directory::from_edited_toml(text, &self.model().dir)?;
        self.replace_directory(directory)
    }

    /// Changes one user of the directory in force.
    pub(crate) fn update_user(&self, name: &str, change: impl FnOnce(&mut directory::User)) -> Result<(), ChangeError> {
        self.change(|dir| {
            let user =
                dir.users.iter_mut().find(|u| u.name == name).ok_or_else(|| ChangeError::NoSuchUser(name.into()))?;
            change(user);
            Ok(())
        })
    }
}
