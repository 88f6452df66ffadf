//! Console sign-in from temporary credentials (the Sign-In federation
//! endpoint, spec/console.md; docs/console.md): trading a role session's or
//! a federated user's (GetFederationToken) credentials for a SigninToken,
//! and spending that token once for a console session.
//!
//! The SigninToken is sealed with the server's key (it carries who signs in
//! and until when), lives 15 minutes, and is single-use: its digest is
//! recorded when it is spent, so a replay is refused. The console session it
//! leaves behind is a sealed cookie; nothing secret is in either.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use serde::{Deserialize, Serialize};

use super::credentials::{self, CheckError};
use super::seal::Purpose;
use super::store::StoreError;
use super::{Core, random, secret};

/// How long a SigninToken may wait to be used (doc: 15 minutes).
pub(crate) const TOKEN_SECONDS: i64 = 900;
/// `SessionDuration` bounds, in seconds.
pub(crate) const MIN_DURATION: i64 = 900;
pub(crate) const MAX_DURATION: i64 = 43_200;
/// The console session length when `SessionDuration` is not given.
pub(crate) const DEFAULT_DURATION: i64 = 3600;
/// The cookie the console landing page reads.
pub(crate) const COOKIE: &str = "idc_console";

/// Who is signed in to the console, and until when.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Grant {
    #[serde(rename = "a")]
    pub account_id: String,
    /// The assumed-role ARN.
    #[serde(rename = "n")]
    pub arn: String,
    #[serde(rename = "r", default)]
    pub role_arn: Option<String>,
    /// End of the console session.
    #[serde(rename = "e")]
    pub expires_at: i64,
    /// Set when the token is spent: where the user asked to go, and who sent them.
    #[serde(rename = "d", default, skip_serializing_if = "Option::is_none")]
    pub destination: Option<String>,
    #[serde(rename = "i", default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct SealedToken {
    /// When the token stops being accepted.
    x: i64,
    /// Makes every token distinct.
    j: String,
    g: Grant,
}

/// Why a federation request is refused (each a 400 with this text).
#[derive(Debug, thiserror::Error)]
pub(crate) enum FederationError {
    #[error(
        "long-term IAM user keys cannot sign in to the console; use temporary credentials of a role (AssumeRole, IAM Identity Center) or of GetFederationToken"
    )]
    LongTerm,
    #[error(
        "these credentials act as an IAM user (GetSessionToken, aws login), not a role session, and cannot sign in to the console; use role credentials or GetFederationToken credentials instead"
    )]
    NotRoleSession,
    #[error("the credentials are not valid: unknown access key, or a session token or secret key that does not match")]
    Invalid,
    #[error("the credentials have expired or their sign-in session was revoked")]
    Expired,
    #[error("SessionDuration must be a whole number of seconds from 900 to 43200")]
    Duration,
    #[error(
        "SessionDuration cannot be used with GetFederationToken credentials: the console session lasts as long as the credentials (DurationSeconds of GetFederationToken)"
    )]
    FederatedDuration,
    #[error("the SigninToken is not valid")]
    BadToken,
    #[error("the SigninToken has expired (it is valid for 15 minutes)")]
    TokenExpired,
    #[error("the SigninToken was already used (each token signs in once)")]
    TokenUsed,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The `Session` parameter: temporary credentials.
pub(crate) struct Session<'a> {
    pub access_key_id: &'a str,
    pub secret_access_key: &'a str,
    pub session_token: Option<&'a str>,
}

/// Checks the credentials as STS does and issues a SigninToken for them.
pub(crate) fn issue(core: &Core, s: &Session<'_>, duration: Option<i64>) -> Result<String, FederationError> {
    let checked = credentials::check(core, s.access_key_id, s.session_token).map_err(|e| match e {
        CheckError::Invalid => FederationError::Invalid,
        CheckError::Expired => FederationError::Expired,
        CheckError::Store(e) => FederationError::Store(e),
    })?;
    if !secret::same(checked.secret.as_bytes(), s.secret_access_key.as_bytes()) {
        return Err(FederationError::Invalid);
    }
    if checked.long_term {
        return Err(FederationError::LongTerm);
    }
    let federated = checked.principal.federated;
    if !checked.principal.role_session && !federated {
        return Err(FederationError::NotRoleSession);
    }
    // A federated user's console session is as long as its credentials,
    // which GetFederationToken's DurationSeconds set (docs/console.md).
    if federated && duration.is_some() {
        return Err(FederationError::FederatedDuration);
    }
    if duration.is_some_and(|d| !(MIN_DURATION..=MAX_DURATION).contains(&d)) {
        return Err(FederationError::Duration);
    }
    let now = core.now();
    let mut expires_at = now + duration.unwrap_or(DEFAULT_DURATION);
    if let Some(e) = checked.expires_at {
        expires_at = if federated { e } else { expires_at.min(e) };
    }
    let p = checked.principal;
    let grant = Grant {
        account_id: p.account_id,
        arn: p.arn,
        role_arn: p.role_arn,
        expires_at,
        destination: None,
        issuer: None,
    };
    let sealed = SealedToken { x: now + TOKEN_SECONDS, j: random::token(16), g: grant };
    let payload = serde_json::to_vec(&sealed).unwrap_or_default();
    // Sealed tokens hold a '.', and clients paste the token into URLs
    // unencoded: encode once more so it is only [A-Za-z0-9_-].
    Ok(B64.encode(core.seal.seal(Purpose::FederationToken, &payload)))
}

/// Spends a SigninToken: the console session it grants.
pub(crate) fn redeem(core: &Core, token: &str) -> Result<Grant, FederationError> {
    let sealed = B64
        .decode(token.trim())
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|t| core.seal.open(Purpose::FederationToken, &t))
        .and_then(|p| serde_json::from_slice::<SealedToken>(&p).ok())
        .ok_or(FederationError::BadToken)?;
    let now = core.now();
    if sealed.x <= now {
        return Err(FederationError::TokenExpired);
    }
    let digest = secret::digest(&format!("federation-token\0{}", token.trim()));
    if !core.store.use_proof_id(&digest, sealed.x)? {
        return Err(FederationError::TokenUsed);
    }
    if sealed.g.expires_at <= now {
        return Err(FederationError::Expired);
    }
    Ok(sealed.g)
}

/// The console session cookie's value for a grant.
pub(crate) fn seal_session(core: &Core, grant: &Grant) -> String {
    let payload = serde_json::to_vec(grant).unwrap_or_default();
    core.seal.seal(Purpose::ConsoleSession, &payload)
}

/// The console session a cookie holds, if it is ours and not over.
pub(crate) fn open_session(core: &Core, cookie: &str) -> Option<Grant> {
    let grant =
        core.seal.open(Purpose::ConsoleSession, cookie).and_then(|p| serde_json::from_slice::<Grant>(&p).ok())?;
    (grant.expires_at > core.now()).then_some(grant)
}
