//! The directory's people as the sign-in pages and the administrator see
//! them: checking a password (throttled per user), invitations (a one-time
//! link an administrator hands over, with which an invited user sets their
//! password), and MFA devices enrolled at sign-in.

use super::directory::MfaDevice;
use super::store::StoreError;
use super::throttle::Locked;
use super::{ChangeError, Core, password, random, secret};

/// How long an invitation link works (AWS's invitation e-mails: 7 days).
pub(crate) const INVITATION_SECONDS: i64 = 7 * 24 * 3600;

#[derive(Debug, thiserror::Error)]
pub(crate) enum SigninError {
    /// Unknown user, a user without a password yet, or a wrong password:
    /// one answer for all, so names cannot be probed.
    #[error("The username or password is not correct.")]
    Wrong,
    #[error("Too many failed sign-ins.")]
    Locked(Locked),
    #[error("This user is disabled. Ask your administrator to enable it.")]
    Disabled,
}

/// Checks a user's password; failures count against the user.
pub(crate) fn check_password(core: &Core, user: &str, plain: &str) -> Result<(), SigninError> {
    let now = core.now();
    core.limits.signin.check(user, now).map_err(SigninError::Locked)?;
    let model = core.model();
    let ok = match model.dir.user(user).and_then(|u| u.password_hash.as_deref()) {
        Some(hash) => password::verify(hash, plain),
        None => {
            password::verify_nothing(plain);
            false
        }
    };
    if ok {
        // Said only to someone who knows the password.
        if model.dir.user(user).is_some_and(|u| u.disabled) {
            return Err(SigninError::Disabled);
        }
        return Ok(());
    }
    failed_signin(core, user);
    Err(SigninError::Wrong)
}

/// Counts a failed sign-in step (a wrong MFA code at sign-in, too).
pub(crate) fn failed_signin(core: &Core, user: &str) {
    let _ = core.limits.signin.fail(user, core.now());
}

/// Whether the user may try to sign in now.
pub(crate) fn signin_allowed(core: &Core, user: &str) -> Result<(), Locked> {
    core.limits.signin.check(user, core.now())
}

/// A one-time invitation link's token.
#[derive(Debug)]
pub(crate) struct Invitation {
    pub user: String,
    pub token: String,
    pub expires_at: i64,
}

/// Creates an invitation for a user of the directory (with or without a
/// password: the link sets a new one).
pub(crate) fn invite(core: &Core, user: &str) -> Result<Invitation, ChangeError> {
    if core.model().dir.user(user).is_none() {
        return Err(ChangeError::NoSuchUser(user.to_string()));
    }
    let token = random::token(32);
    let expires_at = core.now() + INVITATION_SECONDS;
    core.store.insert_invitation(&secret::digest(&token), user, expires_at)?;
    Ok(Invitation { user: user.to_string(), token, expires_at })
}

/// The user a live invitation is for.
pub(crate) fn invitation_user(core: &Core, token: &str) -> Result<Option<String>, StoreError> {
    core.store.invitation(&secret::digest(token), core.now())
}

/// Spends an invitation and sets the user's password; returns the user, or
/// `None` if the link was used, expired or never issued.
pub(crate) fn accept(core: &Core, token: &str, new_password: &str) -> Result<Option<String>, ChangeError> {
    let Some(user) = core.store.take_invitation(&secret::digest(token), core.now())? else { return Ok(None) };
    let hash = password::hash(new_password);
    core.update_user(&user, |u| {
        u.password = None;
        u.password_hash = Some(hash);
    })?;
    Ok(Some(user))
}

/// Adds a confirmed MFA device to a user.
pub(crate) fn add_mfa_device(core: &Core, user: &str, device: MfaDevice) -> Result<(), ChangeError> {
    core.update_user(user, |u| u.mfa.push(device))
}

/// A person the administrator adds (seed 002: "Add user").
#[derive(Debug)]
pub(crate) struct NewUser {
    pub name: String,
    pub display_name: String,
    pub email: String,
    pub groups: Vec<String>,
}

fn invalid(message: String) -> ChangeError {
    ChangeError::Directory(super::directory::DirectoryError::Invalid(message))
}

/// Adds a user without a password and returns their invitation.
pub(crate) fn add(core: &Core, new: NewUser) -> Result<Invitation, ChangeError> {
    let name = new.name.trim().to_string();
    if name.is_empty() || name.len() > 128 || !name.chars().all(|c| c.is_ascii_alphanumeric() || "._@+-".contains(c)) {
        return Err(invalid(format!("user name `{name}` must be 1 to 128 letters, digits or . _ @ + -")));
    }
    core.change(|dir| {
        if dir.users.iter().any(|u| u.name.eq_ignore_ascii_case(&name)) {
            return Err(invalid(format!("a user `{name}` already exists")));
        }
        if let Some(g) = new.groups.iter().find(|g| !dir.groups.iter().any(|x| &x.name == *g)) {
            return Err(invalid(format!("there is no group `{g}`; create it first")));
        }
        dir.users.push(super::directory::User {
            name: name.clone(),
            email: new.email.trim().to_string(),
            display_name: new.display_name.trim().to_string(),
            groups: new.groups,
            ..Default::default()
        });
        Ok(())
    })?;
    invite(core, &name)
}

/// Removes a user's MFA devices (a lost phone) and ends their sessions;
/// returns how many sessions were active. Where the instance requires MFA
/// they enrol a new device at their next sign-in.
pub(crate) fn reset_mfa(core: &Core, user: &str) -> Result<usize, ChangeError> {
    core.update_user(user, |u| u.mfa.clear())?;
    Ok(super::sessions::revoke_user(core, user)?)
}

/// Disables a user (their sessions end at once and they cannot sign in) or
/// enables them again; returns how many sessions ended.
pub(crate) fn set_disabled(core: &Core, user: &str, disabled: bool) -> Result<usize, ChangeError> {
    core.update_user(user, |u| u.disabled = disabled)?;
    if disabled { Ok(super::sessions::revoke_user(core, user)?) } else { Ok(0) }
}
