//! What a person approves: device authorizations (RFC 8628) and browser
//! authorization requests with their one-time codes (RFC 6749 §4.1 with
//! PKCE, RFC 7636). Approving creates the sign-in session the tokens will
//! belong to.

use base64::Engine as _;
use sha2::{Digest, Sha256};

use super::store::{AuthorizationRow, ClientRow, DeviceRow, GrantStatus, StoreError};
use super::throttle::Locked;
use super::{Core, random, secret, sessions};

/// Consonants only, so no word can be spelt (as AWS's codes).
const USER_CODE_ALPHABET: &[u8] = b"BCDFGHJKLMNPQRSTVWXZ";
/// Authorization codes are single-use and short-lived.
const CODE_SECONDS: i64 = 300;
/// A browser authorization request waits this long for a decision.
const REQUEST_SECONDS: i64 = 600;

/// What a person decides.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Decision<'a> {
    Approve { user: &'a str },
    Deny,
}

#[derive(Debug, thiserror::Error)]
pub enum DecideError {
    #[error("no device authorization with code {0}")]
    NotFound(String),
    #[error("no authorization request {0}")]
    NoRequest(String),
    #[error("the code {0} has expired")]
    Expired(String),
    #[error("the request {code} was already {status}")]
    AlreadyDecided { code: String, status: GrantStatus },
    #[error("too many wrong codes; try again later")]
    Locked(Locked),
    #[error(transparent)]
    Session(#[from] sessions::SessionError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<Locked> for DecideError {
    fn from(l: Locked) -> Self {
        DecideError::Locked(l)
    }
}

// ---- device authorizations (RFC 8628) ---------------------------------------

/// A started device authorization, as StartDeviceAuthorization answers it.
#[derive(Debug)]
pub(crate) struct DeviceStart {
    pub device_code: String,
    pub user_code: String,
    pub expires_in: i64,
    pub interval: i64,
}

/// Starts a device authorization; with `auto_approve` it is approved at once.
/// A user code is never given to two pending authorizations.
pub(crate) fn start_device(
    core: &Core,
    client: &ClientRow,
    start_url: &str,
    auto_approve: Option<&str>,
) -> Result<DeviceStart, DecideError> {
    let random_code = || format!("{}-{}", random::from(USER_CODE_ALPHABET, 4), random::from(USER_CODE_ALPHABET, 4));
    start_device_with(core, client, start_url, auto_approve, random_code)
}

/// [`start_device`] with the user codes drawn from `next_code`.
fn start_device_with(
    core: &Core,
    client: &ClientRow,
    start_url: &str,
    auto_approve: Option<&str>,
    mut next_code: impl FnMut() -> String,
) -> Result<DeviceStart, DecideError> {
    let now = core.now();
    let device_code = random::token(32);
    let (status, session_id) = match auto_approve {
        Some(user) => (GrantStatus::Approved, Some(sessions::create(core, user)?)),
        None => (GrantStatus::Pending, None),
    };
    let mut row = DeviceRow {
        device_hash: secret::digest(&device_code),
        user_code: String::new(),
        client_id: client.id.clone(),
        expires_at: now + core.policy.device_expires_in,
        interval_s: core.policy.device_interval,
        last_poll_ms: None,
        status,
        session_id,
    };
    // 20^8 codes: a collision among pending ones is rare but possible at
    // scale, so a taken code is drawn again.
    let mut attempts = 0;
    loop {
        row.user_code = next_code();
        match core.store.insert_device(&row, start_url, now) {
            Ok(()) => break,
            Err(e) if e.is_conflict() && attempts < 16 => attempts += 1,
            Err(e) => return Err(e.into()),
        }
    }
    Ok(DeviceStart {
        device_code,
        user_code: row.user_code,
        expires_in: core.policy.device_expires_in,
        interval: core.policy.device_interval,
    })
}

/// `bcdf ghjk`, `BCDFGHJK` and `BCDF-GHJK` are the same code.
pub(crate) fn normalize_user_code(code: &str) -> String {
    let code: String = code.trim().to_ascii_uppercase().chars().filter(|c| *c != ' ').collect();
    if code.is_ascii() && code.len() == 8 && !code.contains('-') {
        format!("{}-{}", &code[..4], &code[4..])
    } else {
        code
    }
}

/// Who is typing codes, for throttling: a signed-in user on the pages, or
/// the administrator (trusted, not throttled).
#[derive(Clone, Copy, Debug)]
pub(crate) enum Typist<'a> {
    User(&'a str),
    Admin,
}

fn pending_device(core: &Core, user_code: &str, typist: Typist<'_>) -> Result<DeviceRow, DecideError> {
    let now = core.now();
    if let Typist::User(u) = typist {
        core.limits.user_code.check(u, now)?;
        core.limits.user_code_global.check("", now)?;
    }
    let code = normalize_user_code(user_code);
    let outcome = match core.store.device_by_user_code(&code)? {
        None => Err(DecideError::NotFound(code)),
        Some(d) if d.status != GrantStatus::Pending => Err(DecideError::AlreadyDecided { code, status: d.status }),
        Some(d) if d.expires_at <= now => Err(DecideError::Expired(code)),
        Some(d) => Ok(d),
    };
    if outcome.is_err()
        && let Typist::User(u) = typist
    {
        let _ = core.limits.user_code.fail(u, now);
        let _ = core.limits.user_code_global.fail("", now);
    }
    outcome
}

/// The name of the client waiting on a pending user code (the consent page).
pub(crate) fn pending_device_client(core: &Core, user_code: &str, typist: Typist<'_>) -> Result<String, DecideError> {
    let d = pending_device(core, user_code, typist)?;
    Ok(core.store.client(&d.client_id)?.map(|c| c.name).unwrap_or_default())
}

pub(crate) fn decide_device(
    core: &Core,
    user_code: &str,
    decision: Decision<'_>,
    typist: Typist<'_>,
) -> Result<(), DecideError> {
    let d = pending_device(core, user_code, typist)?;
    let (status, session) = match decision {
        Decision::Approve { user } => (GrantStatus::Approved, Some(sessions::create(core, user)?)),
        Decision::Deny => (GrantStatus::Denied, None),
    };
    if !core.store.decide_device(&d.device_hash, status, session.as_deref())? {
        return Err(DecideError::AlreadyDecided { code: d.user_code, status: GrantStatus::Consumed });
    }
    Ok(())
}

/// Where a polled device authorization stands.
#[derive(Debug)]
pub(crate) enum Poll {
    /// Approved: tokens may be issued for this session (once).
    Approved {
        session_id: String,
    },
    Pending,
    /// Polled faster than the interval (which grows by 5 s, RFC 8628 §3.5).
    SlowDown,
    Denied,
    Expired,
    AlreadyUsed,
    /// Unknown, or another client's.
    Invalid,
}

pub(crate) fn poll_device(core: &Core, client: &ClientRow, device_code: &str) -> Result<Poll, StoreError> {
    let hash = secret::digest(device_code);
    let Some(d) = core.store.device_by_hash(&hash)? else { return Ok(Poll::Invalid) };
    if d.client_id != client.id {
        return Ok(Poll::Invalid);
    }
    let now_ms = core.clock.now_ms();
    if d.expires_at * 1000 <= now_ms {
        return Ok(Poll::Expired);
    }
    Ok(match (d.status, d.session_id) {
        (GrantStatus::Approved, Some(session_id)) => {
            if core.store.consume_device(&hash)? {
                Poll::Approved { session_id }
            } else {
                Poll::AlreadyUsed
            }
        }
        (GrantStatus::Denied, _) => Poll::Denied,
        (GrantStatus::Consumed, _) | (GrantStatus::Approved, None) => Poll::AlreadyUsed,
        (GrantStatus::Pending, _) => {
            let too_fast = d.last_poll_ms.is_some_and(|t| now_ms - t < d.interval_s * 1000);
            let interval = if too_fast { d.interval_s + 5 } else { d.interval_s };
            core.store.record_poll(&hash, now_ms, interval)?;
            if too_fast { Poll::SlowDown } else { Poll::Pending }
        }
    })
}

// ---- browser authorization requests and codes (RFC 6749 §4.1, RFC 7636) --------

/// A checked `/authorize` request.
#[derive(Debug)]
pub(crate) struct AuthorizeRequest<'a> {
    pub client: &'a ClientRow,
    pub redirect_uri: &'a str,
    pub state: &'a str,
    pub code_challenge: &'a str,
    pub scopes: &'a str,
}

/// The stored request for (client, state), created on first sight (approved
/// at once with `auto_approve`).
pub(crate) fn authorization(
    core: &Core,
    r: &AuthorizeRequest<'_>,
    auto_approve: Option<&str>,
) -> Result<AuthorizationRow, DecideError> {
    if let Some(existing) = core.store.authorization_by_state(&r.client.id, r.state)? {
        return Ok(existing);
    }
    let (status, session_id) = match auto_approve {
        Some(user) => (GrantStatus::Approved, Some(sessions::create(core, user)?)),
        None => (GrantStatus::Pending, None),
    };
    let now = core.now();
    let row = AuthorizationRow {
        request_id: random::from(b"0123456789ABCDEFGHJKMNPQRSTVWXYZ", 10),
        client_id: r.client.id.clone(),
        redirect_uri: r.redirect_uri.to_string(),
        state: r.state.to_string(),
        code_challenge: r.code_challenge.to_string(),
        status,
        session_id,
        expires_at: now + REQUEST_SECONDS,
    };
    core.store.insert_authorization(&row, r.scopes, now)?;
    Ok(row)
}

/// Hands out the one code of an approved request (and marks it consumed).
pub(crate) fn issue_code(core: &Core, a: &AuthorizationRow) -> Result<Option<String>, StoreError> {
    let Some(session) = a.session_id.as_deref() else { return Ok(None) };
    if !core.store.set_authorization(&a.request_id, GrantStatus::Approved, GrantStatus::Consumed, None)? {
        return Ok(None);
    }
    let code = random::token(32);
    core.store.insert_code(&secret::digest(&code), a, session, core.now() + CODE_SECONDS)?;
    Ok(Some(code))
}

pub(crate) fn decide_authorization(core: &Core, request_id: &str, decision: Decision<'_>) -> Result<(), DecideError> {
    let Some(a) = core.store.authorization(request_id)? else { return Err(DecideError::NoRequest(request_id.into())) };
    if a.status != GrantStatus::Pending {
        return Err(DecideError::AlreadyDecided { code: request_id.into(), status: a.status });
    }
    if a.expires_at <= core.now() {
        return Err(DecideError::Expired(request_id.into()));
    }
    let (status, session) = match decision {
        Decision::Approve { user } => (GrantStatus::Approved, Some(sessions::create(core, user)?)),
        Decision::Deny => (GrantStatus::Denied, None),
    };
    if !core.store.set_authorization(request_id, GrantStatus::Pending, status, session.as_deref())? {
        return Err(DecideError::AlreadyDecided { code: request_id.into(), status: GrantStatus::Consumed });
    }
    Ok(())
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum RedeemError {
    #[error("Invalid authorization code provided")]
    Invalid,
    /// The code was redeemed before: the tokens issued from it were revoked.
    #[error("Invalid authorization code provided")]
    Replayed,
    #[error("redirectUri does not match the one used at /authorize")]
    RedirectMismatch,
    #[error("codeVerifier does not match the code challenge")]
    VerifierMismatch,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Redeems a code for its session. Any attempt spends the code; a second
/// redemption revokes the session, and with it every token issued from the
/// first (RFC 6749 §4.1.2).
pub(crate) fn redeem_code(
    core: &Core,
    client: &ClientRow,
    code: &str,
    redirect_uri: Option<&str>,
    verifier: &str,
) -> Result<String, RedeemError> {
    let Some(row) = core.store.redeem_code(&secret::digest(code))? else { return Err(RedeemError::Invalid) };
    if row.client_id != client.id || row.expires_at <= core.now() {
        return Err(RedeemError::Invalid);
    }
    if row.used {
        sessions::revoke(core, &row.session_id)?;
        return Err(RedeemError::Replayed);
    }
    if redirect_uri != Some(row.redirect_uri.as_str()) {
        return Err(RedeemError::RedirectMismatch);
    }
    if !secret::same(pkce_challenge(verifier).as_bytes(), row.code_challenge.as_bytes()) {
        return Err(RedeemError::VerifierMismatch);
    }
    Ok(row.session_id)
}

/// `base64url(sha256(verifier))` without padding (PKCE S256, RFC 7636 §4.2).
pub(crate) fn pkce_challenge(verifier: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::directory::Directory;
    use crate::domain::seal::SealKey;
    use crate::domain::store::Store;
    use crate::domain::{Core, Policy};

    fn core() -> Core {
        let policy = Policy {
            session_seconds: 3600,
            device_expires_in: 600,
            device_interval: 1,
            credentials_outlive_revocation: false,
            credential_lifetime: None,
        };
        let core = Core::new(Store::in_memory().unwrap(), Directory::default(), SealKey::generate(), policy).unwrap();
        core.replace_directory(Directory::demo()).unwrap();
        core
    }

    #[test]
    fn a_user_code_taken_by_a_pending_authorization_is_drawn_again() {
        let core = core();
        let (client, _) = crate::domain::clients::register(
            &core,
            crate::domain::clients::Registration {
                name: "c".into(),
                scopes: vec![],
                grant_types: vec![],
                redirect_uris: vec![],
            },
        )
        .unwrap();
        let first = start_device_with(&core, &client, "u", None, || "BCDF-GHJK".into()).unwrap();
        assert_eq!(first.user_code, "BCDF-GHJK");
        let mut codes = ["BCDF-GHJK", "BCDF-GHJK", "BCDF-GHJL"].into_iter();
        let second = start_device_with(&core, &client, "u", None, || codes.next().unwrap().into()).unwrap();
        assert_eq!(second.user_code, "BCDF-GHJL", "the taken code was drawn again");
        // Never an endless loop: after 16 more collisions it gives up with an error.
        let e = start_device_with(&core, &client, "u", None, || "BCDF-GHJK".into()).unwrap_err();
        assert!(matches!(e, DecideError::Store(_)), "{e}");
        // Once the first is decided, its code may be handed out again.
        decide_device(&core, "BCDF-GHJK", Decision::Deny, Typist::Admin).unwrap();
        assert_eq!(start_device_with(&core, &client, "u", None, || "BCDF-GHJK".into()).unwrap().user_code, "BCDF-GHJK");
    }

    #[test]
    fn pkce_and_user_codes() {
        // RFC 7636 appendix B.
        assert_eq!(
            pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        assert_eq!(normalize_user_code(" bcdf ghjk "), "BCDF-GHJK");
        assert_eq!(normalize_user_code("BCDFGHJK"), "BCDF-GHJK");
        assert_eq!(normalize_user_code("AAAéBBB"), "AAAéBBB", "non-ASCII is left alone, not sliced");
    }
}
