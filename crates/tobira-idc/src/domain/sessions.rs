//! Sign-in sessions and everything that derives from them. A session is
//! created when a person approves a device or browser authorization (or
//! opens the portal's credentials page); the OIDC access and refresh tokens
//! issued for it, and every credential minted from those, name it, so
//! revoking the session ends all of them at once. The session is also the
//! refresh-token family of RFC 9700 §4.14.2: a rotated refresh token
//! presented again revokes it (docs/security.md §Sessions).
//!
//! Browser sessions of the pages (a cookie and a CSRF token) and the
//! administrator's page sessions live here too.

use serde::{Deserialize, Serialize};

use super::seal::Purpose;
use super::store::{SessionInfo, SessionRow, StoreError};
use super::{Core, random, secret};

/// How long a browser stays signed in to the pages.
pub(crate) const WEB_SESSION_SECONDS: i64 = 8 * 3600;

#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("no such user `{0}`")]
    NoSuchUser(String),
    #[error("the user `{0}` is disabled")]
    Disabled(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A new sign-in session for `user` (who must exist).
pub(crate) fn create(core: &Core, user: &str) -> Result<String, SessionError> {
    match core.model().dir.user(user) {
        None => return Err(SessionError::NoSuchUser(user.to_string())),
        Some(u) if u.disabled => return Err(SessionError::Disabled(user.to_string())),
        Some(_) => {}
    }
    let id = random::token(18);
    let now = core.now();
    core.store.insert_session(&id, user, now, now + core.policy.session_seconds)?;
    Ok(id)
}

/// The session if it is neither revoked nor expired.
pub(crate) fn live(core: &Core, id: &str) -> Result<Option<SessionRow>, StoreError> {
    let now = core.now();
    Ok(core.store.session(id)?.filter(|s| !s.revoked && s.expires_at > now))
}

pub(crate) fn revoke(core: &Core, id: &str) -> Result<bool, StoreError> {
    core.store.revoke_session(id)
}

/// Revokes every session of a user, and signs their browsers out; returns
/// how many sessions were active.
pub(crate) fn revoke_user(core: &Core, user: &str) -> Result<usize, StoreError> {
    core.store.revoke_user(user, core.now())
}

pub(crate) fn active(core: &Core) -> Result<Vec<SessionInfo>, StoreError> {
    core.store.active_sessions(core.now())
}

// ---- OIDC tokens ------------------------------------------------------------

/// What an access token carries (sealed).
#[derive(Serialize, Deserialize)]
struct AccessClaims<'a> {
    /// Session id.
    #[serde(borrow)]
    s: std::borrow::Cow<'a, str>,
    /// Client id.
    #[serde(borrow)]
    c: std::borrow::Cow<'a, str>,
    /// Expiry, unix seconds.
    e: i64,
    /// A nonce: two tokens of one session issued in the same second differ.
    #[serde(borrow)]
    n: std::borrow::Cow<'a, str>,
}

/// What a refresh token carries (sealed): its place in the rotation.
#[derive(Serialize, Deserialize)]
struct RefreshClaims {
    s: String,
    c: String,
    /// The session's refresh generation when it was issued.
    g: i64,
}

const ACCESS_PREFIX: &str = "aoa";
const REFRESH_PREFIX: &str = "aor";

/// Tokens for a client.
#[derive(Debug)]
pub(crate) struct TokenPair {
    pub access_token: String,
    pub refresh_token: Option<String>,
    pub expires_in: i64,
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum TokenError {
    #[error("the token is not valid")]
    Invalid,
    /// A rotated refresh token came back: the session was revoked.
    #[error("the refresh token was already used; the sign-in session is revoked")]
    Reused,
    #[error("the sign-in session has ended")]
    SessionEnded,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Issues an access token (and a refresh token if `refreshable`) for a live session.
pub(crate) fn issue(
    core: &Core,
    client_id: &str,
    session_id: &str,
    refreshable: bool,
) -> Result<TokenPair, TokenError> {
    let session = live(core, session_id)?.ok_or(TokenError::SessionEnded)?;
    let now = core.now();
    let expires = core.policy.capped(now, session.expires_at.min(now + core.policy.session_seconds));
    let access = AccessClaims { s: session_id.into(), c: client_id.into(), e: expires, n: random::token(9).into() };
    let access_token = format!("{ACCESS_PREFIX}{}", core.seal.seal(Purpose::AccessToken, &json(&access)));
    let refresh_token = refreshable.then(|| {
        let claims =
            RefreshClaims { s: session_id.to_string(), c: client_id.to_string(), g: session.refresh_generation };
        format!("{REFRESH_PREFIX}{}", core.seal.seal(Purpose::RefreshToken, &json(&claims)))
    });
    core.store.count_token_issued(session_id)?;
    Ok(TokenPair { access_token, refresh_token, expires_in: (expires - now).max(0) })
}

fn json<T: Serialize>(v: &T) -> Vec<u8> {
    serde_json::to_vec(v).unwrap_or_default()
}

/// The user and session behind a valid access token.
#[derive(Clone, Debug)]
pub(crate) struct Owner {
    pub user: String,
    pub session_id: String,
}

pub(crate) fn access_owner(core: &Core, token: &str) -> Result<Option<Owner>, StoreError> {
    let Some(sealed) = token.strip_prefix(ACCESS_PREFIX) else { return Ok(None) };
    let Some(payload) = core.seal.open(Purpose::AccessToken, sealed) else { return Ok(None) };
    let Ok(claims) = serde_json::from_slice::<AccessClaims<'_>>(&payload) else { return Ok(None) };
    if claims.e <= core.now() {
        return Ok(None);
    }
    Ok(live(core, &claims.s)?.map(|s| Owner { user: s.user, session_id: claims.s.into_owned() }))
}

/// Rotates a refresh token: the presented one stops working and a new pair
/// is issued. A token that was already rotated revokes its session.
pub(crate) fn refresh(core: &Core, client_id: &str, token: &str) -> Result<TokenPair, TokenError> {
    let claims = token
        .strip_prefix(REFRESH_PREFIX)
        .and_then(|sealed| core.seal.open(Purpose::RefreshToken, sealed))
        .and_then(|p| serde_json::from_slice::<RefreshClaims>(&p).ok())
        .ok_or(TokenError::Invalid)?;
    if !secret::same(claims.c.as_bytes(), client_id.as_bytes()) {
        return Err(TokenError::Invalid);
    }
    let session = live(core, &claims.s)?.ok_or(TokenError::SessionEnded)?;
    if claims.g != session.refresh_generation || !core.store.rotate_refresh(&claims.s, claims.g)? {
        revoke(core, &claims.s)?;
        return Err(TokenError::Reused);
    }
    issue(core, client_id, &claims.s, true)
}

// ---- browser sessions of the pages -----------------------------------------

/// A signed-in browser: the cookie value and its CSRF token.
#[derive(Debug)]
pub(crate) struct WebSession {
    pub cookie: String,
    pub csrf: String,
}

pub(crate) fn start_web(core: &Core, user: &str) -> Result<WebSession, StoreError> {
    let s = WebSession { cookie: random::token(24), csrf: random::token(24) };
    core.store.insert_web_session(&secret::digest(&s.cookie), user, &s.csrf, core.now() + WEB_SESSION_SECONDS)?;
    Ok(s)
}

/// (user, CSRF token) of a signed-in browser.
pub(crate) fn web_user(core: &Core, cookie: &str) -> Result<Option<(String, String)>, StoreError> {
    core.store.web_session(&secret::digest(cookie), core.now())
}

pub(crate) fn end_web(core: &Core, cookie: &str) -> Result<(), StoreError> {
    core.store.end_web_session(&secret::digest(cookie))
}

pub(crate) fn start_admin(core: &Core) -> Result<WebSession, StoreError> {
    let s = WebSession { cookie: random::token(24), csrf: random::token(24) };
    core.store.insert_admin_session(&secret::digest(&s.cookie), &s.csrf, core.now() + WEB_SESSION_SECONDS)?;
    Ok(s)
}

/// The CSRF token of a signed-in administrator.
pub(crate) fn admin_csrf(core: &Core, cookie: &str) -> Result<Option<String>, StoreError> {
    core.store.admin_session(&secret::digest(cookie), core.now())
}
