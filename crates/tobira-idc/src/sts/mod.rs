//! STS (docs/wire.md §4): the query protocol with XML answers, SigV4
//! verified on every call (`sigv4`); GetCallerIdentity, GetSessionToken
//! (with TOTP MFA: replay refused, device lock-out), AssumeRole (trust,
//! MFA, external id, durations, the one-hour cap on role chaining) and
//! GetFederationToken (long-term keys only; the federated user's own rules
//! in docs/wire.md §4.1).

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};

use crate::Idc;
use crate::domain::credentials::{self, CheckError, Checked, Issued, Principal};
use crate::domain::mfa::{self, Device, MfaError};
use crate::domain::store::StoreError;
use crate::wire::query::{self, Params, xml};
use crate::wire::sigv4;

/// The operations this STS answers.
pub(crate) const OPERATIONS: &[&str] = &["GetCallerIdentity", "GetSessionToken", "AssumeRole", "GetFederationToken"];

/// An STS error: XML `ErrorResponse` with `Type`, `Code`, `Message`.
#[derive(Debug)]
pub(crate) enum StsError {
    MissingAction,
    InvalidAction(String),
    MalformedBody(String),
    MissingAuthenticationToken,
    IncompleteSignature(String),
    SignatureDoesNotMatch(String),
    InvalidClientTokenId,
    ExpiredToken,
    AccessDenied(String),
    MissingParameter(&'static str),
    Validation(String),
    MalformedPolicyDocument(String),
    PackedPolicyTooLarge(String),
    Internal(StoreError),
}

impl StsError {
    fn parts(&self) -> (StatusCode, &'static str, String) {
        use StsError::*;
        let (s400, s403) = (StatusCode::BAD_REQUEST, StatusCode::FORBIDDEN);
        match self {
            MissingAction => (s400, "MissingAction", "Missing Action".into()),
            InvalidAction(a) => (s400, "InvalidAction", format!("Could not find operation {a} for version 2011-06-15")),
            MalformedBody(m) => (s400, "InvalidParameterValue", m.clone()),
            MissingAuthenticationToken => {
                (s403, "MissingAuthenticationToken", "Request is missing Authentication Token".into())
            }
            IncompleteSignature(m) => (s403, "IncompleteSignature", m.clone()),
            SignatureDoesNotMatch(m) => (s403, "SignatureDoesNotMatch", m.clone()),
            InvalidClientTokenId => {
                (s403, "InvalidClientTokenId", "The security token included in the request is invalid.".into())
            }
            ExpiredToken => (s403, "ExpiredToken", "The security token included in the request is expired".into()),
            AccessDenied(m) => (s403, "AccessDenied", m.clone()),
            MissingParameter(p) => (s400, "MissingParameter", format!("The request must contain the parameter {p}")),
            Validation(m) => (s400, "ValidationError", m.clone()),
            MalformedPolicyDocument(m) => (s400, "MalformedPolicyDocument", m.clone()),
            PackedPolicyTooLarge(m) => (s400, "PackedPolicyTooLarge", m.clone()),
            Internal(e) => (StatusCode::INTERNAL_SERVER_ERROR, "InternalFailure", e.to_string()),
        }
    }
}

impl From<StoreError> for StsError {
    fn from(e: StoreError) -> Self {
        StsError::Internal(e)
    }
}

impl From<CheckError> for StsError {
    fn from(e: CheckError) -> Self {
        match e {
            CheckError::Invalid => StsError::InvalidClientTokenId,
            CheckError::Expired => StsError::ExpiredToken,
            CheckError::Store(s) => s.into(),
        }
    }
}

impl From<sigv4::SigError<CheckError>> for StsError {
    fn from(e: sigv4::SigError<CheckError>) -> Self {
        match e {
            sigv4::SigError::Missing => StsError::MissingAuthenticationToken,
            sigv4::SigError::Incomplete(m) => StsError::IncompleteSignature(m),
            sigv4::SigError::Mismatch(m) => StsError::SignatureDoesNotMatch(m),
            sigv4::SigError::Key(k) => k.into(),
        }
    }
}

impl IntoResponse for StsError {
    fn into_response(self) -> Response {
        let (status, code, message) = self.parts();
        query::error(status, code, &message)
    }
}

/// The operation a request names (the middleware counts and faults by it).
pub(crate) fn action(body: &[u8], query: Option<&str>) -> Option<&'static str> {
    let p = Params::parse(body, query).ok()?;
    let a = p.get("Action")?;
    OPERATIONS.iter().copied().find(|op| *op == a)
}

pub(crate) async fn handle(State(idc): State<Idc>, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    match dispatch(&idc, &uri, &headers, &body) {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

fn dispatch(idc: &Idc, uri: &Uri, headers: &HeaderMap, body: &[u8]) -> Result<Response, StsError> {
    let p = Params::parse(body, uri.query()).map_err(|e| StsError::MalformedBody(e.to_string()))?;
    let action = p.get("Action").ok_or(StsError::MissingAction)?;
    if !OPERATIONS.contains(&action) {
        return Err(StsError::InvalidAction(action.to_string()));
    }
    let core = idc.core();
    let request = sigv4::Request { method: "POST", uri, headers, body, now: core.now(), service: "sts" };
    let caller =
        sigv4::verify(&request, |key, token| credentials::check(core, key, token).map(|c| (c.secret.clone(), c)))?;
    match action {
        "GetCallerIdentity" => Ok(query::success(
            "GetCallerIdentity",
            &format!(
                "    <Arn>{}</Arn>\n    <UserId>{}</UserId>\n    <Account>{}</Account>\n",
                xml(&caller.principal.arn),
                xml(&caller.principal.user_id),
                xml(&caller.principal.account_id)
            ),
        )),
        "GetSessionToken" => get_session_token(idc, &caller, &p),
        "GetFederationToken" => get_federation_token(idc, &caller, &p),
        _ => assume_role(idc, &caller, &p),
    }
}

fn credentials_xml(c: &Issued) -> String {
    let exp = jiff::Timestamp::from_second(c.expires_at)
        .map(|t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default();
    format!(
        "    <Credentials>\n      <AccessKeyId>{}</AccessKeyId>\n      <SecretAccessKey>{}</SecretAccessKey>\n      <SessionToken>{}</SessionToken>\n      <Expiration>{exp}</Expiration>\n    </Credentials>\n",
        xml(&c.access_key_id),
        xml(&c.secret_access_key),
        xml(&c.session_token)
    )
}

fn duration(p: &Params, min: i64, max: i64, default: i64) -> Result<i64, StsError> {
    let Some(d) = p.get("DurationSeconds") else { return Ok(default) };
    let v: i64 =
        d.parse().map_err(|_| StsError::Validation(format!("Value '{d}' at 'durationSeconds' is not an integer")))?;
    let bound = |rel: &str, b: i64| {
        StsError::Validation(format!(
            "1 validation error detected: Value '{v}' at 'durationSeconds' failed to satisfy constraint: Member must have value {rel} {b}"
        ))
    };
    if v < min {
        Err(bound("greater than or equal to", min))
    } else if v > max {
        Err(bound("less than or equal to", max))
    } else {
        Ok(v)
    }
}

const MFA_FAILED: &str = "MultiFactorAuthentication failed with invalid MFA one time pass code. ";

/// Checks `SerialNumber` + `TokenCode` against the calling IAM user's devices.
fn check_mfa(idc: &Idc, caller: &Checked, serial: &str, code: Option<&str>) -> Result<(), StsError> {
    let core = idc.core();
    let model = core.model();
    let device = caller
        .principal
        .iam_user()
        .and_then(|name| {
            model.dir.iam_users.iter().find(|u| u.name == name && u.account == caller.principal.account_id)
        })
        .and_then(|u| u.mfa.iter().find(|d| u.mfa_serial(d) == serial));
    let (Some(device), Some(code)) = (device, code) else {
        return Err(StsError::AccessDenied(MFA_FAILED.into()));
    };
    match mfa::verify(core, serial, &[Device { key: serial, secret: &device.secret }], code) {
        Ok(()) => Ok(()),
        Err(MfaError::Wrong) => Err(StsError::AccessDenied(MFA_FAILED.into())),
        Err(MfaError::Locked(l)) => Err(StsError::AccessDenied(format!(
            "MultiFactorAuthentication failed: too many invalid codes for {serial}; the device is locked for {} more minute(s).",
            l.minutes_left(core.now())
        ))),
        Err(MfaError::Store(e)) => Err(e.into()),
    }
}

fn get_session_token(idc: &Idc, caller: &Checked, p: &Params) -> Result<Response, StsError> {
    if !caller.long_term {
        return Err(StsError::AccessDenied("Cannot call GetSessionToken with session credentials".into()));
    }
    let mut seconds = duration(p, 900, 129_600, 43_200)?;
    if caller.principal.is_root() {
        // The root user's sessions last at most an hour; a longer request
        // gets an hour rather than an error (docs/wire.md §4.1).
        seconds = seconds.min(ROOT_MAX_SECONDS);
    }
    let mfa = match p.get("SerialNumber") {
        Some(serial) => {
            check_mfa(idc, caller, serial, p.get("TokenCode"))?;
            true
        }
        None => false,
    };
    let principal = Principal { mfa, ..caller.principal.clone() };
    let issued = credentials::mint(idc.core(), principal, idc.core().now() + seconds);
    Ok(query::success("GetSessionToken", &credentials_xml(&issued)))
}

/// The longest session the root user's keys get (GetSessionToken, GetFederationToken).
const ROOT_MAX_SECONDS: i64 = 3600;

/// GetFederationToken (docs/wire.md §4.1): temporary credentials of the
/// federated user `Name`, asked for with the long-term keys of an IAM user
/// (or the root user, whose sessions are cut to an hour).
fn get_federation_token(idc: &Idc, caller: &Checked, p: &Params) -> Result<Response, StsError> {
    if !caller.long_term {
        return Err(StsError::AccessDenied("Cannot call GetFederationToken with session credentials".into()));
    }
    let name = p.get("Name").ok_or(StsError::MissingParameter("Name"))?;
    valid_name(name, "name", 2, 32)?;
    let mut seconds = duration(p, 900, 129_600, 43_200)?;
    if caller.principal.is_root() {
        seconds = seconds.min(ROOT_MAX_SECONDS);
    }
    let packed = session_policies(p)?;
    let core = idc.core();
    let (issued, user) = credentials::federated_user(core, &caller.principal, name, core.now() + seconds);
    let mut result = credentials_xml(&issued);
    result.push_str(&format!(
        "    <FederatedUser>\n      <FederatedUserId>{}</FederatedUserId>\n      <Arn>{}</Arn>\n    </FederatedUser>\n",
        xml(&user.user_id),
        xml(&user.arn)
    ));
    if let Some(size) = packed {
        result.push_str(&format!("    <PackedPolicySize>{size}</PackedPolicySize>\n"));
    }
    Ok(query::success("GetFederationToken", &result))
}

/// The longest inline session policy, and the packed size 100 % stands for.
const POLICY_MAX: usize = 2048;
/// At most this many managed session policies (`PolicyArns.member.N.arn`).
const POLICY_ARNS_MAX: usize = 10;

/// Checks the session policies (`Policy`, `PolicyArns.member.N.arn`) and
/// answers their packed size in percent of what fits, or `None` when none
/// was given. The emulator enforces no policy; the size is its own measure
/// (the compact JSON and the ARNs against 2048 bytes), not AWS's compression.
fn session_policies(p: &Params) -> Result<Option<u32>, StsError> {
    let mut packed = 0usize;
    let mut given = false;
    if let Some(policy) = p.get("Policy") {
        given = true;
        if policy.is_empty() || policy.chars().count() > POLICY_MAX {
            return Err(StsError::Validation(format!(
                "1 validation error detected: Value '{policy}' at 'policy' failed to satisfy constraint: Member must have length between 1 and {POLICY_MAX}"
            )));
        }
        let doc = serde_json::from_str::<serde_json::Value>(policy)
            .ok()
            .filter(|v| v.get("Statement").is_some_and(|s| s.is_object() || s.is_array()))
            .ok_or_else(|| {
                StsError::MalformedPolicyDocument(
                    "The session policy is not an IAM policy document: JSON with a Statement".into(),
                )
            })?;
        packed += doc.to_string().len();
    }
    let arns: Vec<&str> = (1..).map_while(|i| p.get(&format!("PolicyArns.member.{i}.arn"))).collect();
    if arns.len() > POLICY_ARNS_MAX {
        return Err(StsError::Validation(format!(
            "1 validation error detected: Value at 'policyArns' failed to satisfy constraint: Member must have length less than or equal to {POLICY_ARNS_MAX}"
        )));
    }
    for arn in &arns {
        given = true;
        if !(20..=2048).contains(&arn.len()) || !arn.starts_with("arn:") || !arn.contains(":policy/") {
            return Err(StsError::Validation(format!(
                "1 validation error detected: Value '{arn}' at 'policyArns.member.arn' failed to satisfy constraint: Member must be the ARN of an IAM managed policy (20 to 2048 characters)"
            )));
        }
        packed += arn.len();
    }
    if !given {
        return Ok(None);
    }
    let percent = (packed * 100).div_ceil(POLICY_MAX).max(1);
    if percent > 100 {
        return Err(StsError::PackedPolicyTooLarge(format!(
            "Packed size of the session policies is {percent}% of the allowed size"
        )));
    }
    Ok(Some(u32::try_from(percent).unwrap_or(100)))
}

/// A name STS takes (`Name`, `RoleSessionName`): `min`–`max` characters of
/// `[\w+=,.@-]`, with AWS's ValidationError wording.
fn valid_name(name: &str, field: &str, min: usize, max: usize) -> Result<(), StsError> {
    let constraint = |c: &str| {
        StsError::Validation(format!(
            "1 validation error detected: Value '{name}' at '{field}' failed to satisfy constraint: Member must {c}"
        ))
    };
    let len = name.chars().count();
    if len < min {
        return Err(constraint(&format!("have length greater than or equal to {min}")));
    }
    if len > max {
        return Err(constraint(&format!("have length less than or equal to {max}")));
    }
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c)) {
        return Err(constraint("satisfy regular expression pattern: [\\w+=,.@-]+"));
    }
    Ok(())
}

fn valid_session_name(name: &str) -> Result<(), StsError> {
    let constraint = |c: &str| {
        StsError::Validation(format!(
            "1 validation error detected: Value '{name}' at 'roleSessionName' failed to satisfy constraint: Member must {c}"
        ))
    };
    if name.len() < 2 || name.len() > 64 {
        return Err(constraint("have length between 2 and 64"));
    }
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c)) {
        return Err(constraint("satisfy regular expression pattern: [\\w+=,.@-]*"));
    }
    Ok(())
}

/// The principal trust policies match: the user ARN, or the role ARN of a role session.
fn trusts(entry: &str, p: &Principal) -> bool {
    let principal = p.role_arn.as_deref().unwrap_or(&p.arn);
    if entry == principal || entry == format!("arn:aws:iam::{}:root", p.account_id) {
        return true;
    }
    entry.strip_suffix('*').is_some_and(|prefix| principal.starts_with(prefix))
}

fn assume_role(idc: &Idc, caller: &Checked, p: &Params) -> Result<Response, StsError> {
    let role_arn = p.get("RoleArn").ok_or(StsError::MissingParameter("RoleArn"))?;
    let session_name = p.get("RoleSessionName").ok_or(StsError::MissingParameter("RoleSessionName"))?;
    valid_session_name(session_name)?;
    let denied = || {
        StsError::AccessDenied(format!(
            "User: {} is not authorized to perform: sts:AssumeRole on resource: {role_arn}",
            caller.principal.arn
        ))
    };
    // No role for the root user; a federated user may call no STS
    // operation but GetCallerIdentity (docs/wire.md §4.1).
    if caller.principal.is_root() {
        return Err(StsError::AccessDenied("Roles may not be assumed by root accounts.".into()));
    }
    if caller.principal.federated {
        return Err(denied());
    }
    let core = idc.core();
    let model = core.model();
    let role = model.dir.role_by_arn(role_arn).ok_or_else(denied)?;
    if !role.trust.iter().any(|t| trusts(t, &caller.principal)) {
        return Err(denied());
    }
    if let Some(expected) = &role.external_id
        && !crate::domain::secret::same(p.get("ExternalId").unwrap_or("").as_bytes(), expected.as_bytes())
    {
        return Err(denied());
    }
    let mut mfa = caller.principal.mfa;
    if let Some(serial) = p.get("SerialNumber") {
        check_mfa(idc, caller, serial, p.get("TokenCode"))?;
        mfa = true;
    }
    if role.mfa_required && !mfa {
        return Err(denied());
    }
    let seconds = duration(p, 900, 43_200, 3600)?;
    if caller.principal.role_session && seconds > 3600 {
        return Err(StsError::Validation(
            "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.".into(),
        ));
    }
    if seconds > i64::from(role.max_session_duration) {
        return Err(StsError::Validation(
            "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.".into(),
        ));
    }
    let source_identity = match (p.get("SourceIdentity"), &caller.principal.source_identity) {
        (Some(new), Some(old)) if new != old => {
            return Err(StsError::AccessDenied("SourceIdentity cannot be changed once set in a role chain".into()));
        }
        (Some(s), _) if s.len() < 2 || s.len() > 64 => {
            return Err(StsError::Validation("SourceIdentity must be 2 to 64 characters".into()));
        }
        (new, old) => new.map(str::to_string).or_else(|| old.clone()),
    };
    let assumed_id = format!("{}:{session_name}", credentials::role_id(&role.account, &role.name));
    let arn = format!("arn:aws:sts::{}:assumed-role/{}/{session_name}", role.account, role.name);
    let principal = Principal {
        account_id: role.account.clone(),
        arn: arn.clone(),
        user_id: assumed_id.clone(),
        role_arn: Some(role.arn()),
        role_session: true,
        mfa,
        session_id: caller.principal.session_id.clone(),
        source_identity: source_identity.clone(),
        federated: false,
    };
    let issued = credentials::mint(core, principal, core.now() + seconds);
    let mut result = credentials_xml(&issued);
    result.push_str(&format!(
        "    <AssumedRoleUser>\n      <AssumedRoleId>{}</AssumedRoleId>\n      <Arn>{}</Arn>\n    </AssumedRoleUser>\n",
        xml(&assumed_id),
        xml(&arn)
    ));
    if let Some(s) = source_identity {
        result.push_str(&format!("    <SourceIdentity>{}</SourceIdentity>\n", xml(&s)));
    }
    Ok(query::success("AssumeRole", &result))
}
