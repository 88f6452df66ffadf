//! Console sign-in for developer tools (`aws login`, docs/signin.md): the
//! people who use the AWS console (IAM users with a console password, and an
//! account's root user) sign in through the pages, and the tool receives
//! SigV4 credentials that STS accepts as that principal, plus a refresh
//! token bound to the tool's DPoP key.
//!
//! A sign-in is a session row (the principal's ARN as its user), so the
//! administrator's revocation ends it like any other: its refresh tokens and
//! every credential issued from it stop working at once. Sessions last at
//! most 12 hours; credentials 15 minutes. Refresh tokens rotate: one
//! presented again revokes the sign-in (RFC 9700 §4.14.2), like SSO OIDC's.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use serde::{Deserialize, Serialize};

use super::credentials::{self, Issued, Principal};
use super::mfa::{self, Device, MfaError};
use super::seal::Purpose;
use super::store::StoreError;
use super::throttle::Locked;
use super::{Core, password, random, secret, sessions};

/// The two clients of `aws login` (docs/signin.md §3).
pub(crate) const SAME_DEVICE: &str = "arn:aws:signin:::devtools/same-device";
pub(crate) const CROSS_DEVICE: &str = "arn:aws:signin:::devtools/cross-device";
/// An authorization code works once, for this long.
const CODE_SECONDS: i64 = 300;
/// Credentials last at most 15 minutes (the model's `expiresIn` ≤ 900).
pub(crate) const CREDENTIAL_SECONDS: i64 = 900;
/// A sign-in is refreshed for at most 12 hours (AWS's documentation).
pub(crate) const SESSION_SECONDS: i64 = 12 * 3600;
const REFRESH_PREFIX: &str = "asr";

/// What a person types at the console sign-in page.
#[derive(Debug)]
pub(crate) enum Login<'a> {
    IamUser { account: &'a str, name: &'a str, password: &'a str, mfa_code: Option<&'a str> },
    Root { email: &'a str, password: &'a str },
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum ConsoleError {
    /// Unknown principal, no console password, or a wrong one: one answer
    /// for all, so names cannot be probed.
    #[error("The account, user name or password is not correct.")]
    Wrong,
    #[error("This user has an MFA device: enter its current code.")]
    MfaNeeded,
    #[error("The MFA code is not correct or was already used.")]
    MfaWrong,
    #[error("Too many failed sign-ins.")]
    Locked(Locked),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A signed-in console principal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Signed {
    /// `arn:aws:iam::<account>:user/<name>` or `arn:aws:iam::<account>:root`.
    pub arn: String,
    pub mfa: bool,
}

/// Checks a console login; failures count against the principal (and MFA
/// failures against its device, as STS counts them).
pub(crate) fn authenticate(core: &Core, login: Login<'_>) -> Result<Signed, ConsoleError> {
    let now = core.now();
    let model = core.model();
    let dir = &model.dir;
    let (arn, hash) = match &login {
        Login::IamUser { account, name, .. } => {
            let u = dir.iam_users.iter().find(|u| u.account == *account && u.name == *name);
            (format!("arn:aws:iam::{account}:user/{name}"), u.and_then(|u| u.console_password_hash.clone()))
        }
        Login::Root { email, .. } => {
            let a = dir.accounts.iter().find(|a| !a.email.is_empty() && a.email.eq_ignore_ascii_case(email));
            (
                a.map_or_else(|| format!("root:{email}"), |a| format!("arn:aws:iam::{}:root", a.id)),
                a.and_then(|a| a.root_password_hash.clone()),
            )
        }
    };
    let key = format!("console:{arn}");
    core.limits.signin.check(&key, now).map_err(ConsoleError::Locked)?;
    let plain = match &login {
        Login::IamUser { password, .. } | Login::Root { password, .. } => *password,
    };
    let ok = match &hash {
        Some(h) => password::verify(h, plain),
        None => {
            password::verify_nothing(plain);
            false
        }
    };
    if !ok {
        let _ = core.limits.signin.fail(&key, now);
        return Err(ConsoleError::Wrong);
    }
    let mut mfa = false;
    if let Login::IamUser { account, name, mfa_code, .. } = &login
        && let Some(u) = dir.iam_users.iter().find(|u| u.account == *account && u.name == *name)
        && !u.mfa.is_empty()
    {
        let code = mfa_code.filter(|c| !c.trim().is_empty()).ok_or(ConsoleError::MfaNeeded)?;
        let serials: Vec<String> = u.mfa.iter().map(|d| u.mfa_serial(d)).collect();
        let devices: Vec<Device<'_>> =
            u.mfa.iter().zip(&serials).map(|(d, serial)| Device { key: serial, secret: &d.secret }).collect();
        match mfa::verify(core, &serials[0], &devices, code) {
            Ok(()) => mfa = true,
            Err(MfaError::Wrong) => return Err(ConsoleError::MfaWrong),
            Err(MfaError::Locked(l)) => return Err(ConsoleError::Locked(l)),
            Err(MfaError::Store(e)) => return Err(e.into()),
        }
    }
    core.limits.signin.succeed(&key, now);
    Ok(Signed { arn, mfa })
}

/// What an authorization request asked for (carried sealed through the
/// sign-in form, so the form cannot be pointed elsewhere).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct Request {
    pub client_id: String,
    pub redirect_uri: String,
    pub state: String,
    pub code_challenge: String,
    pub expires_at: i64,
}

pub(crate) fn seal_request(core: &Core, r: &Request) -> String {
    core.seal.seal(Purpose::SigninRequest, &serde_json::to_vec(r).unwrap_or_default())
}

/// The request a form carries, if genuine and not expired.
pub(crate) fn open_request(core: &Core, sealed: &str) -> Option<Request> {
    let r: Request = serde_json::from_slice(&core.seal.open(Purpose::SigninRequest, sealed)?).ok()?;
    (r.expires_at > core.now()).then_some(r)
}

/// Starts a sign-in session for `who` and returns the one-time code for `r`.
pub(crate) fn issue_code(core: &Core, r: &Request, who: &Signed) -> Result<String, StoreError> {
    let session = random::token(18);
    let now = core.now();
    core.store.insert_session(&session, &who.arn, now, now + SESSION_SECONDS)?;
    let code = random::token(32);
    // The MFA flag travels with the session id, sealed into the code's row.
    let session_ref = if who.mfa { format!("{session}+mfa") } else { session };
    core.store.insert_code_for(
        &secret::digest(&code),
        &r.client_id,
        &r.redirect_uri,
        &r.code_challenge,
        &session_ref,
        now + CODE_SECONDS,
    )?;
    Ok(code)
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum TokenError {
    /// Unknown, expired or already redeemed code (a replay also revokes
    /// what the first redemption issued).
    #[error("Unable to complete the login process due to an expired authorization code.")]
    CodeExpired,
    #[error("The provided authorization grant is invalid, expired, revoked, or malformed.")]
    Invalid,
    #[error("The refresh token has expired.")]
    Expired,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a token request returns.
#[derive(Debug)]
pub(crate) struct Tokens {
    pub credentials: Issued,
    pub expires_in: i64,
    pub refresh_token: String,
    /// The principal's ARN (the ID token's `sub`).
    pub arn: String,
}

/// What a refresh token carries (sealed): session, client, rotation
/// generation, the DPoP key's thumbprint, and whether MFA was used.
#[derive(Serialize, Deserialize)]
struct RefreshClaims {
    s: String,
    c: String,
    g: i64,
    k: String,
    m: bool,
}

/// Redeems an authorization code (PKCE with `SHA-256`, the redirect URI of
/// the request) for tokens bound to the proof key `jkt`.
pub(crate) fn redeem(
    core: &Core,
    client_id: &str,
    code: &str,
    verifier: &str,
    redirect_uri: &str,
    jkt: &str,
) -> Result<Tokens, TokenError> {
    let row = core.store.redeem_code(&secret::digest(code))?.ok_or(TokenError::CodeExpired)?;
    let (session, mfa) = match row.session_id.strip_suffix("+mfa") {
        Some(s) => (s.to_string(), true),
        None => (row.session_id.clone(), false),
    };
    if row.used {
        sessions::revoke(core, &session)?;
        return Err(TokenError::CodeExpired);
    }
    if row.expires_at <= core.now() {
        return Err(TokenError::CodeExpired);
    }
    let challenge = B64.encode(<sha2::Sha256 as sha2::Digest>::digest(verifier.as_bytes()));
    if !secret::same(row.client_id.as_bytes(), client_id.as_bytes())
        || row.redirect_uri != redirect_uri
        || !secret::same(challenge.as_bytes(), row.code_challenge.as_bytes())
    {
        return Err(TokenError::Invalid);
    }
    tokens(core, &session, client_id, jkt, mfa)
}

/// Rotates a refresh token presented with a proof of the key it is bound to.
pub(crate) fn refresh(core: &Core, client_id: &str, token: &str, jkt: &str) -> Result<Tokens, TokenError> {
    let claims = token
        .strip_prefix(REFRESH_PREFIX)
        .and_then(|sealed| core.seal.open(Purpose::SigninRefresh, sealed))
        .and_then(|p| serde_json::from_slice::<RefreshClaims>(&p).ok())
        .ok_or(TokenError::Invalid)?;
    if !secret::same(claims.c.as_bytes(), client_id.as_bytes()) || !secret::same(claims.k.as_bytes(), jkt.as_bytes()) {
        return Err(TokenError::Invalid);
    }
    let session = sessions::live(core, &claims.s)?.ok_or(TokenError::Expired)?;
    if claims.g != session.refresh_generation || !core.store.rotate_refresh(&claims.s, claims.g)? {
        sessions::revoke(core, &claims.s)?;
        return Err(TokenError::Invalid);
    }
    tokens(core, &claims.s, client_id, jkt, claims.m)
}

fn tokens(core: &Core, session_id: &str, client_id: &str, jkt: &str, mfa: bool) -> Result<Tokens, TokenError> {
    let session = sessions::live(core, session_id)?.ok_or(TokenError::Expired)?;
    let arn = session.user.clone();
    let principal = principal(core, &arn, session_id, mfa).ok_or(TokenError::Expired)?;
    let now = core.now();
    let expires_at = (now + CREDENTIAL_SECONDS).min(session.expires_at);
    let credentials = credentials::mint(core, principal, expires_at);
    let claims = RefreshClaims {
        s: session_id.to_string(),
        c: client_id.to_string(),
        g: session.refresh_generation,
        k: jkt.to_string(),
        m: mfa,
    };
    let refresh_token = format!(
        "{REFRESH_PREFIX}{}",
        core.seal.seal(Purpose::SigninRefresh, &serde_json::to_vec(&claims).unwrap_or_default())
    );
    core.store.count_token_issued(session_id)?;
    Ok(Tokens { expires_in: (credentials.expires_at - now).max(0), credentials, refresh_token, arn })
}

/// The STS principal of a console sign-in, if it still exists (a deleted
/// IAM user's sign-in ends).
fn principal(core: &Core, arn: &str, session_id: &str, mfa: bool) -> Option<Principal> {
    let model = core.model();
    let rest = arn.strip_prefix("arn:aws:iam::")?;
    let (account, what) = rest.split_once(':')?;
    let user_id = match what {
        "root" => {
            model.dir.accounts.iter().find(|a| a.id == account && a.root_password_hash.is_some())?;
            account.to_string()
        }
        _ => {
            let name = what.strip_prefix("user/")?;
            model.dir.iam_users.iter().find(|u| u.account == account && u.name == name)?;
            credentials::principal_id("AIDA", arn)
        }
    };
    Some(Principal {
        account_id: account.to_string(),
        arn: arn.to_string(),
        user_id,
        role_arn: None,
        role_session: false,
        mfa,
        session_id: Some(session_id.to_string()),
        source_identity: None,
        federated: false,
    })
}

/// Records a proof's `jti` until `forget_after` (when its `iat` can no
/// longer be accepted anyway); false when it was seen before (a replay).
pub(crate) fn first_use_of_proof(core: &Core, jti: &str, forget_after: i64) -> Result<bool, StoreError> {
    core.store.use_proof_id(&secret::digest(jti), forget_after)
}

/// The key ID tokens are signed with: made at start-up, never stored,
/// because clients read ID tokens without verifying them (docs/signin.md).
pub(crate) struct IdTokenKey(ring::signature::EcdsaKeyPair);

impl std::fmt::Debug for IdTokenKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IdTokenKey")
    }
}

impl IdTokenKey {
    pub(crate) fn generate() -> Option<IdTokenKey> {
        use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair};
        let rng = ring::rand::SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).ok()?;
        EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng).ok().map(IdTokenKey)
    }

    fn sign(&self, data: &[u8]) -> Vec<u8> {
        self.0.sign(&ring::rand::SystemRandom::new(), data).map(|s| s.as_ref().to_vec()).unwrap_or_default()
    }
}

/// The ID token (a JWT, ES256 under the server's own key): clients read
/// only its payload, whose `sub` names the principal (docs/signin.md §4.3).
pub(crate) fn id_token(core: &Core, arn: &str, client_id: &str) -> String {
    let now = core.now();
    let aud = if client_id == CROSS_DEVICE {
        "arn:aws:signin:::cli/cross-device"
    } else {
        "arn:aws:signin:::cli/same-device"
    };
    let header = r#"{"typ":"JWT","alg":"ES256"}"#;
    let claims = serde_json::json!({
        "sub": arn, "aud": aud, "iss": "tobira-idc", "session_arn": arn, "iat": now, "exp": now + CREDENTIAL_SECONDS,
    });
    let input = format!("{}.{}", B64.encode(header), B64.encode(claims.to_string()));
    let signature = core.id_token_key.as_ref().map(|k| k.sign(input.as_bytes())).unwrap_or_default();
    format!("{input}.{}", B64.encode(signature))
}
