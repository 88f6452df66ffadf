//! Checking a TOTP code (RFC 6238) against a user's devices: each time step
//! is accepted once (a replayed code is refused), and wrong codes lock the
//! device out after a few tries (RFC 6238 §5.2; see `throttle::MFA`), for
//! STS's GetSessionToken and AssumeRole and for the sign-in pages alike.

use super::store::StoreError;
use super::throttle::Locked;
use super::{Core, totp};

/// A device to try: the key its used steps are recorded under, and its
/// base32 secret.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Device<'a> {
    pub key: &'a str,
    pub secret: &'a str,
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum MfaError {
    /// Not the current code of any device, or a code already used.
    #[error("the MFA code is not correct or was already used")]
    Wrong,
    #[error("too many wrong MFA codes; locked")]
    Locked(Locked),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Checks `code` against `devices`; failures count against `lock_key`.
pub(crate) fn verify(core: &Core, lock_key: &str, devices: &[Device<'_>], code: &str) -> Result<(), MfaError> {
    let now = core.now();
    core.limits.mfa.check(lock_key, now).map_err(MfaError::Locked)?;
    for d in devices {
        let Some(secret) = totp::decode_secret(d.secret) else { continue };
        if let Some(step) = totp::matching_step(&secret, code.trim(), now)
            && core.store.use_totp_step(d.key, step)?
        {
            core.limits.mfa.succeed(lock_key, now);
            return Ok(());
        }
    }
    // The failure that locks the device is still just a wrong code; the
    // next attempt learns of the lock.
    let _ = core.limits.mfa.fail(lock_key, now);
    Err(MfaError::Wrong)
}
