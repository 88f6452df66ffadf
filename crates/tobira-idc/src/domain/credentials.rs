//! The one place that mints and checks AWS credentials: SSO role
//! credentials, STS session, role and federated-user credentials, and the
//! directory's long-term keys (IAM users', and root users').
//!
//! Temporary credentials are sealed, as AWS's are: the session token carries
//! the principal and the expiry under the server's key, and the secret key
//! is derived from the token, so issuing writes nothing and checking is two
//! MACs and, for credentials tied to a sign-in session, one session lookup
//! (docs/security.md §Credentials).

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::model::Entitlement;
use super::seal::Purpose;
use super::store::StoreError;
use super::{Core, random, sessions};

const KEY_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
/// Real session tokens start with this (base64 of a version header).
const TOKEN_PREFIX: &str = "IQoJb3JpZ2lu";

/// Who a set of credentials acts as.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Principal {
    #[serde(rename = "a")]
    pub account_id: String,
    /// What GetCallerIdentity answers.
    #[serde(rename = "n")]
    pub arn: String,
    #[serde(rename = "u")]
    pub user_id: String,
    /// The role a role session belongs to (trust checks of further hops).
    #[serde(rename = "r", default, skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<String>,
    /// A role session (assumed role or SSO role): assuming a role with it is
    /// role chaining.
    #[serde(rename = "c", default)]
    pub role_session: bool,
    /// Authenticated with MFA.
    #[serde(rename = "m", default)]
    pub mfa: bool,
    /// The sign-in session they derive from (revoked with it).
    #[serde(rename = "s", default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    #[serde(rename = "i", default, skip_serializing_if = "Option::is_none")]
    pub source_identity: Option<String>,
    /// A federated user (STS GetFederationToken): may open the console and
    /// call GetCallerIdentity, no other STS operation (docs/wire.md §4.1).
    #[serde(rename = "f", default, skip_serializing_if = "std::ops::Not::not")]
    pub federated: bool,
}

impl Principal {
    /// The IAM user an MFA session of long-term keys acts as.
    pub(crate) fn iam_user(&self) -> Option<&str> {
        if self.role_arn.is_some() { None } else { self.arn.rsplit_once(":user/").map(|(_, n)| n) }
    }

    /// The account's root user (its keys, or an `aws login` as root).
    pub(crate) fn is_root(&self) -> bool {
        self.arn == root_arn(&self.account_id)
    }
}

/// `arn:aws:iam::<account>:root`.
pub(crate) fn root_arn(account: &str) -> String {
    format!("arn:aws:iam::{account}:root")
}

/// The sealed form: the principal, the key id it was issued under, expiry.
#[derive(Serialize, Deserialize)]
struct Sealed {
    k: String,
    e: i64,
    #[serde(flatten)]
    p: Principal,
}

/// Credentials handed out.
#[derive(Debug)]
pub(crate) struct Issued {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: String,
    pub expires_at: i64,
}

/// Mints temporary credentials for `principal`, valid until `expires_at`
/// (or less, under `--credential-lifetime`).
pub(crate) fn mint(core: &Core, principal: Principal, expires_at: i64) -> Issued {
    let expires_at = core.policy.capped(core.now(), expires_at);
    let access_key_id = format!("ASIA{}", random::from(KEY_ALPHABET, 16));
    let sealed = Sealed { k: access_key_id.clone(), e: expires_at, p: principal };
    let payload = serde_json::to_vec(&sealed).unwrap_or_default();
    let session_token = format!("{TOKEN_PREFIX}{}", core.seal.seal(Purpose::SessionToken, &payload));
    let secret_access_key = secret_for(core, &session_token);
    Issued { access_key_id, secret_access_key, session_token, expires_at }
}

/// The secret key that belongs to a session token: 40 characters of
/// base64 of a MAC over the token's own MAC (which already covers all of it).
fn secret_for(core: &Core, session_token: &str) -> String {
    let token_mac = session_token.rsplit_once('.').map_or(session_token, |(_, m)| m);
    let mac = core.seal.mac(Purpose::SecretKey, token_mac.as_bytes());
    let mut s = base64::engine::general_purpose::STANDARD.encode(mac);
    s.truncate(40);
    s
}

/// Why presented credentials are refused.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CheckError {
    /// Unknown key, a token that is not ours or not this key's.
    #[error("the security token included in the request is invalid")]
    Invalid,
    /// Expired, or its sign-in session was revoked.
    #[error("the security token included in the request is expired")]
    Expired,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Checked credentials: who they act as, and the secret the request must be
/// signed with.
#[derive(Debug)]
pub(crate) struct Checked {
    pub principal: Principal,
    pub secret: String,
    /// Long-term keys of an IAM user (no session token).
    pub long_term: bool,
    /// When temporary credentials expire (none for long-term keys).
    pub expires_at: Option<i64>,
}

/// Checks an access key id and the session token presented with it.
pub(crate) fn check(core: &Core, access_key_id: &str, session_token: Option<&str>) -> Result<Checked, CheckError> {
    let model = core.model();
    if let Some((user, key)) = model.dir.iam_user_by_key(access_key_id) {
        // Long-term keys carry no session token.
        if session_token.is_some() {
            return Err(CheckError::Invalid);
        }
        let arn = user.arn();
        let principal = Principal {
            account_id: user.account.clone(),
            user_id: principal_id("AIDA", &arn),
            arn,
            role_arn: None,
            role_session: false,
            mfa: false,
            session_id: None,
            source_identity: None,
            federated: false,
        };
        return Ok(Checked { principal, secret: key.secret.clone(), long_term: true, expires_at: None });
    }
    if let Some((account, key)) = model.dir.root_by_key(access_key_id) {
        if session_token.is_some() {
            return Err(CheckError::Invalid);
        }
        // GetCallerIdentity answers the account id as the root user's UserId.
        let principal = Principal {
            account_id: account.id.clone(),
            arn: root_arn(&account.id),
            user_id: account.id.clone(),
            role_arn: None,
            role_session: false,
            mfa: false,
            session_id: None,
            source_identity: None,
            federated: false,
        };
        return Ok(Checked { principal, secret: key.secret.clone(), long_term: true, expires_at: None });
    }
    let token = session_token.ok_or(CheckError::Invalid)?;
    let sealed = token
        .strip_prefix(TOKEN_PREFIX)
        .and_then(|t| core.seal.open(Purpose::SessionToken, t))
        .and_then(|p| serde_json::from_slice::<Sealed>(&p).ok())
        .filter(|s| s.k == access_key_id)
        .ok_or(CheckError::Invalid)?;
    if sealed.e <= core.now() {
        return Err(CheckError::Expired);
    }
    if let Some(session) = &sealed.p.session_id
        && !core.policy.credentials_outlive_revocation
        && sessions::live(core, session)?.is_none()
    {
        return Err(CheckError::Expired);
    }
    Ok(Checked { principal: sealed.p, secret: secret_for(core, token), long_term: false, expires_at: Some(sealed.e) })
}

/// A stable unique id for a principal (`AROA…` for roles, `AIDA…` for users).
pub(crate) fn principal_id(prefix: &str, seed: &str) -> String {
    let digest = Sha256::digest(seed.as_bytes());
    let body: String = digest.iter().take(17).map(|b| KEY_ALPHABET[usize::from(*b) % 32] as char).collect();
    format!("{prefix}{body}")
}

pub(crate) fn role_id(account: &str, role: &str) -> String {
    principal_id("AROA", &format!("{account}/{role}"))
}

/// The IAM role Identity Center creates for a permission set in an account:
/// `AWSReservedSSO_<permission set>_<16 hex>`.
pub(crate) fn reserved_role_name(account: &str, permission_set: &str) -> String {
    let digest = Sha256::digest(format!("{account}/{permission_set}").as_bytes());
    let hex: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
    format!("AWSReservedSSO_{permission_set}_{hex}")
}

/// SSO role credentials of a user's permission set in an account, tied to
/// their sign-in session and lasting the permission set's session duration
/// (the portal API's GetRoleCredentials and the portal page's
/// "Command line or programmatic access").
pub(crate) fn sso_role(core: &Core, user: &str, session_id: &str, e: Entitlement<'_>) -> Issued {
    let principal = Principal {
        account_id: e.account.id.clone(),
        arn: format!("{}{user}", e.role.assumed_prefix),
        user_id: format!("{}:{user}", e.role.id),
        role_arn: Some(e.role.arn.clone()),
        role_session: true,
        mfa: false,
        session_id: Some(session_id.to_string()),
        source_identity: None,
        federated: false,
    };
    mint(core, principal, core.now() + i64::from(e.permission_set.session_hours) * 3600)
}

/// Credentials of the federated user `name` that the long-term keys of
/// `caller` (an IAM user or a root user) ask for with GetFederationToken,
/// valid until `expires_at`: the principal is
/// `arn:aws:sts::<account>:federated-user/<name>`, its UserId
/// `<account>:<name>` (docs/wire.md §4.1).
pub(crate) fn federated_user(core: &Core, caller: &Principal, name: &str, expires_at: i64) -> (Issued, Principal) {
    let account = &caller.account_id;
    let principal = Principal {
        account_id: account.clone(),
        arn: format!("arn:aws:sts::{account}:federated-user/{name}"),
        user_id: format!("{account}:{name}"),
        role_arn: None,
        role_session: false,
        mfa: false,
        session_id: None,
        source_identity: None,
        federated: true,
    };
    (mint(core, principal.clone(), expires_at), principal)
}
