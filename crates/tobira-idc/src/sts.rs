//! STS (wire.md §4): the query protocol with XML responses, SigV4 verified on
//! every signed call; GetCallerIdentity, GetSessionToken (with TOTP MFA and
//! replay refusal) and AssumeRole (trust, MFA, external id, durations, the
//! one-hour cap on role chaining).

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use hmac::{Hmac, KeyInit, Mac};
use rusqlite::{OptionalExtension, params};
use sha2::{Digest, Sha256};

use crate::{Idc, random_from, random_token, request_id, totp};

const NS: &str = "https://sts.amazonaws.com/doc/2011-06-15/";
/// How far a request's `X-Amz-Date` may be from the server clock.
const MAX_SKEW_SECONDS: i64 = 15 * 60;

/// An STS error: XML `ErrorResponse` with `Type`, `Code`, `Message`.
#[derive(Debug)]
pub(crate) struct StsError {
    status: u16,
    code: String,
    message: String,
}

fn err(status: u16, code: &str, message: impl Into<String>) -> StsError {
    StsError { status, code: code.into(), message: message.into() }
}

impl From<rusqlite::Error> for StsError {
    fn from(e: rusqlite::Error) -> Self {
        err(500, "InternalFailure", format!("storage error: {e}"))
    }
}

impl IntoResponse for StsError {
    fn into_response(self) -> Response {
        let kind = if self.status >= 500 { "Receiver" } else { "Sender" };
        let body = format!(
            "<ErrorResponse xmlns=\"{NS}\">\n  <Error>\n    <Type>{kind}</Type>\n    <Code>{}</Code>\n    <Message>{}</Message>\n  </Error>\n  <RequestId>{}</RequestId>\n</ErrorResponse>\n",
            xml(&self.code),
            xml(&self.message),
            request_id()
        );
        xml_response(StatusCode::from_u16(self.status).unwrap_or(StatusCode::BAD_REQUEST), body)
    }
}

fn xml_response(status: StatusCode, body: String) -> Response {
    let mut r = (status, body).into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/xml"));
    r
}

fn xml(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&apos;")
}

fn success(op: &str, result: &str) -> Response {
    let body = format!(
        "<{op}Response xmlns=\"{NS}\">\n  <{op}Result>\n{result}  </{op}Result>\n  <ResponseMetadata>\n    <RequestId>{}</RequestId>\n  </ResponseMetadata>\n</{op}Response>\n",
        request_id()
    );
    xml_response(StatusCode::OK, body)
}

/// Credentials to record and hand out.
pub(crate) struct NewCredentials {
    pub account_id: String,
    /// What GetCallerIdentity answers.
    pub arn: String,
    pub user_id: String,
    /// The role a role session belongs to (trust checks of further hops).
    pub role_arn: Option<String>,
    /// A role session (assumed role or SSO role): assuming a role with it is
    /// role chaining.
    pub role_session: bool,
    /// Authenticated with MFA.
    pub mfa: bool,
    /// The sign-in session they derive from (revoked with it).
    pub session_id: Option<String>,
    pub expires_at: i64,
    pub source_identity: Option<String>,
}

pub(crate) struct Issued {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: String,
    pub expires_at: i64,
}

const KEY_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

pub(crate) fn issue_credentials(idc: &Idc, c: NewCredentials) -> Result<Issued, rusqlite::Error> {
    let issued = Issued {
        access_key_id: format!("ASIA{}", random_from(KEY_ALPHABET, 16)),
        secret_access_key: random_from(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/+", 40),
        session_token: format!("IQoJb3JpZ2lu{}", random_token(180)),
        expires_at: c.expires_at,
    };
    idc.store()
        .conn()
        .prepare_cached(
            "INSERT INTO credentials (access_key_id, secret_access_key, session_token, account_id, arn, user_id,
                                  role_arn, chained, mfa, session_id, expires_at, source_identity)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        )?
        .execute(params![
            issued.access_key_id,
            issued.secret_access_key,
            issued.session_token,
            c.account_id,
            c.arn,
            c.user_id,
            c.role_arn,
            c.role_session,
            c.mfa,
            c.session_id,
            c.expires_at,
            c.source_identity
        ])?;
    Ok(issued)
}

/// A stable unique id for a principal (`AROA…` for roles, `AIDA…` for users).
fn principal_id(prefix: &str, seed: &str) -> String {
    let digest = Sha256::digest(seed.as_bytes());
    let body: String = digest.iter().take(17).map(|b| KEY_ALPHABET[usize::from(*b) % 32] as char).collect();
    format!("{prefix}{body}")
}

pub(crate) fn role_id(account: &str, role: &str) -> String {
    principal_id("AROA", &format!("{account}/{role}"))
}

/// Who signed a request.
struct Caller {
    account_id: String,
    arn: String,
    user_id: String,
    /// The principal trust policies match: the user ARN, or the role ARN of
    /// a role session.
    principal: String,
    /// The IAM user, when the caller is one (long-term keys or an MFA session).
    iam_user: Option<String>,
    long_term: bool,
    role_session: bool,
    mfa: bool,
    session_id: Option<String>,
    source_identity: Option<String>,
}

fn form(body: &[u8]) -> Result<Vec<(String, String)>, StsError> {
    serde_urlencoded::from_bytes(body)
        .map_err(|e| err(400, "InvalidParameterValue", format!("malformed form body: {e}")))
}

fn param<'a>(p: &'a [(String, String)], name: &str) -> Option<&'a str> {
    p.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

pub(crate) async fn handle(State(idc): State<Idc>, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    match dispatch(&idc, &uri, &headers, &body).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

async fn dispatch(idc: &Idc, uri: &Uri, headers: &HeaderMap, body: &[u8]) -> Result<Response, StsError> {
    let mut p = form(body)?;
    if let Some(q) = uri.query() {
        p.extend(form(q.as_bytes())?);
    }
    let action = param(&p, "Action").ok_or_else(|| err(400, "MissingAction", "Missing Action"))?.to_string();
    if !["GetCallerIdentity", "GetSessionToken", "AssumeRole"].contains(&action.as_str()) {
        return Err(err(400, "InvalidAction", format!("Could not find operation {action} for version 2011-06-15")));
    }
    if let Some((status, code)) = idc.fault(&action, false).await {
        return Err(err(status, &code, "injected fault"));
    }
    let caller = verify(idc, "POST", uri, headers, body)?;
    match action.as_str() {
        "GetCallerIdentity" => Ok(success(
            "GetCallerIdentity",
            &format!(
                "    <Arn>{}</Arn>\n    <UserId>{}</UserId>\n    <Account>{}</Account>\n",
                xml(&caller.arn),
                xml(&caller.user_id),
                xml(&caller.account_id)
            ),
        )),
        "GetSessionToken" => get_session_token(idc, &caller, &p),
        _ => assume_role(idc, &caller, &p),
    }
}

fn credentials_xml(c: &Issued) -> String {
    let exp = jiff::Timestamp::from_second(c.expires_at)
        .map(|t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default();
    format!(
        "    <Credentials>\n      <AccessKeyId>{}</AccessKeyId>\n      <SecretAccessKey>{}</SecretAccessKey>\n      <SessionToken>{}</SessionToken>\n      <Expiration>{exp}</Expiration>\n    </Credentials>\n",
        c.access_key_id,
        xml(&c.secret_access_key),
        c.session_token
    )
}

fn duration(p: &[(String, String)], min: i64, max: i64, default: i64) -> Result<i64, StsError> {
    match param(p, "DurationSeconds") {
        None => Ok(default),
        Some(d) => {
            let v: i64 = d.parse().map_err(|_| {
                err(400, "ValidationError", format!("Value '{d}' at 'durationSeconds' is not an integer"))
            })?;
            if v < min {
                Err(err(
                    400,
                    "ValidationError",
                    format!(
                        "1 validation error detected: Value '{v}' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to {min}"
                    ),
                ))
            } else if v > max {
                Err(err(
                    400,
                    "ValidationError",
                    format!(
                        "1 validation error detected: Value '{v}' at 'durationSeconds' failed to satisfy constraint: Member must have value less than or equal to {max}"
                    ),
                ))
            } else {
                Ok(v)
            }
        }
    }
}

const MFA_FAILED: &str = "MultiFactorAuthentication failed with invalid MFA one time pass code. ";

/// Checks `SerialNumber` + `TokenCode` against the IAM user's devices; a
/// code's time step is accepted once.
fn check_mfa(idc: &Idc, iam_user: Option<&str>, serial: &str, code: Option<&str>) -> Result<(), StsError> {
    let dir = idc.directory();
    let device = iam_user
        .and_then(|name| dir.iam_users.iter().find(|u| u.name == name))
        .and_then(|u| u.mfa.iter().find(|d| u.mfa_serial(d) == serial));
    let (Some(device), Some(code)) = (device, code) else {
        return Err(err(403, "AccessDenied", MFA_FAILED));
    };
    let secret = totp::decode_secret(&device.secret).ok_or_else(|| err(500, "InternalFailure", "bad MFA secret"))?;
    let step =
        totp::matching_step(&secret, code, idc.clock().now_s()).ok_or_else(|| err(403, "AccessDenied", MFA_FAILED))?;
    if !idc.store().use_totp_step(serial, step)? {
        return Err(err(403, "AccessDenied", MFA_FAILED));
    }
    Ok(())
}

fn get_session_token(idc: &Idc, caller: &Caller, p: &[(String, String)]) -> Result<Response, StsError> {
    if !caller.long_term {
        return Err(err(403, "AccessDenied", "Cannot call GetSessionToken with session credentials"));
    }
    let seconds = duration(p, 900, 129_600, 43_200)?;
    let mfa = match param(p, "SerialNumber") {
        Some(serial) => {
            check_mfa(idc, caller.iam_user.as_deref(), serial, param(p, "TokenCode"))?;
            true
        }
        None => false,
    };
    let issued = issue_credentials(
        idc,
        NewCredentials {
            account_id: caller.account_id.clone(),
            arn: caller.arn.clone(),
            user_id: caller.user_id.clone(),
            role_arn: None,
            role_session: false,
            mfa,
            session_id: None,
            expires_at: idc.clock().now_s() + seconds,
            source_identity: None,
        },
    )?;
    Ok(success("GetSessionToken", &credentials_xml(&issued)))
}

fn valid_session_name(name: &str) -> Result<(), StsError> {
    let ok_chars = name.chars().all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c));
    if name.len() < 2 || name.len() > 64 {
        return Err(err(
            400,
            "ValidationError",
            format!(
                "1 validation error detected: Value '{name}' at 'roleSessionName' failed to satisfy constraint: Member must have length between 2 and 64"
            ),
        ));
    }
    if !ok_chars {
        return Err(err(
            400,
            "ValidationError",
            format!(
                "1 validation error detected: Value '{name}' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*"
            ),
        ));
    }
    Ok(())
}

fn trusts(entry: &str, caller: &Caller) -> bool {
    if entry == caller.principal || entry == format!("arn:aws:iam::{}:root", caller.account_id) {
        return true;
    }
    entry.strip_suffix('*').is_some_and(|prefix| caller.principal.starts_with(prefix))
}

fn assume_role(idc: &Idc, caller: &Caller, p: &[(String, String)]) -> Result<Response, StsError> {
    let role_arn = param(p, "RoleArn")
        .ok_or_else(|| err(400, "MissingParameter", "The request must contain the parameter RoleArn"))?;
    let session_name = param(p, "RoleSessionName")
        .ok_or_else(|| err(400, "MissingParameter", "The request must contain the parameter RoleSessionName"))?;
    valid_session_name(session_name)?;
    let denied = || {
        err(
            403,
            "AccessDenied",
            format!("User: {} is not authorized to perform: sts:AssumeRole on resource: {role_arn}", caller.arn),
        )
    };
    let dir = idc.directory();
    let role = dir.role_by_arn(role_arn).ok_or_else(denied)?;
    if !role.trust.iter().any(|t| trusts(t, caller)) {
        return Err(denied());
    }
    if let Some(expected) = &role.external_id
        && param(p, "ExternalId") != Some(expected.as_str())
    {
        return Err(denied());
    }
    let mut mfa = caller.mfa;
    if let Some(serial) = param(p, "SerialNumber") {
        check_mfa(idc, caller.iam_user.as_deref(), serial, param(p, "TokenCode"))?;
        mfa = true;
    }
    if role.mfa_required && !mfa {
        return Err(denied());
    }
    let seconds = duration(p, 900, 43_200, 3600)?;
    if caller.role_session && seconds > 3600 {
        return Err(err(
            400,
            "ValidationError",
            "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.",
        ));
    }
    if seconds > i64::from(role.max_session_duration) {
        return Err(err(
            400,
            "ValidationError",
            "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
        ));
    }
    let source_identity = match (param(p, "SourceIdentity"), &caller.source_identity) {
        (Some(new), Some(old)) if new != old => {
            return Err(err(403, "AccessDenied", "SourceIdentity cannot be changed once set in a role chain"));
        }
        (Some(s), _) if s.len() < 2 || s.len() > 64 => {
            return Err(err(400, "ValidationError", "SourceIdentity must be 2 to 64 characters"));
        }
        (new, old) => new.map(str::to_string).or_else(|| old.clone()),
    };
    let assumed_id = format!("{}:{session_name}", role_id(&role.account, &role.name));
    let arn = format!("arn:aws:sts::{}:assumed-role/{}/{session_name}", role.account, role.name);
    let issued = issue_credentials(
        idc,
        NewCredentials {
            account_id: role.account.clone(),
            arn: arn.clone(),
            user_id: assumed_id.clone(),
            role_arn: Some(role.arn()),
            role_session: true,
            mfa,
            session_id: caller.session_id.clone(),
            expires_at: idc.clock().now_s() + seconds,
            source_identity: source_identity.clone(),
        },
    )?;
    let mut result = credentials_xml(&issued);
    result.push_str(&format!(
        "    <AssumedRoleUser>\n      <AssumedRoleId>{}</AssumedRoleId>\n      <Arn>{}</Arn>\n    </AssumedRoleUser>\n",
        xml(&assumed_id),
        xml(&arn)
    ));
    if let Some(s) = source_identity {
        result.push_str(&format!("    <SourceIdentity>{}</SourceIdentity>\n", xml(&s)));
    }
    Ok(success("AssumeRole", &result))
}

// ---- SigV4 ------------------------------------------------------------------

struct Authorization<'a> {
    access_key_id: &'a str,
    date: &'a str,
    region: &'a str,
    service: &'a str,
    signed_headers: &'a str,
    signature: &'a str,
}

fn parse_authorization(value: &str) -> Option<Authorization<'_>> {
    let rest = value.strip_prefix("AWS4-HMAC-SHA256")?.trim_start();
    let (mut credential, mut signed, mut signature) = (None, None, None);
    for part in rest.split(',') {
        let (k, v) = part.trim().split_once('=')?;
        match k {
            "Credential" => credential = Some(v),
            "SignedHeaders" => signed = Some(v),
            "Signature" => signature = Some(v),
            _ => {}
        }
    }
    let mut scope = credential?.split('/');
    let auth = Authorization {
        access_key_id: scope.next()?,
        date: scope.next()?,
        region: scope.next()?,
        service: scope.next()?,
        signed_headers: signed?,
        signature: signature?,
    };
    (scope.next()? == "aws4_request").then_some(auth)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn hmac(key: &[u8], data: &str) -> Vec<u8> {
    #[allow(clippy::expect_used)] // HMAC accepts keys of any length
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("any key length");
    mac.update(data.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

fn canonical_query(query: Option<&str>) -> String {
    let Some(q) = query.filter(|q| !q.is_empty()) else { return String::new() };
    let mut pairs: Vec<(String, String)> = serde_urlencoded::from_str::<Vec<(String, String)>>(q)
        .unwrap_or_default()
        .into_iter()
        .map(|(k, v)| (crate::uri_encode(&k), crate::uri_encode(&v)))
        .collect();
    pairs.sort();
    pairs.into_iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&")
}

/// `20261122T002910Z` → unix seconds.
fn parse_amz_date(s: &str) -> Option<i64> {
    if !s.is_ascii() || s.len() != 16 || !s.ends_with('Z') || s.as_bytes()[8] != b'T' {
        return None;
    }
    let rfc = format!("{}-{}-{}T{}:{}:{}Z", &s[0..4], &s[4..6], &s[6..8], &s[9..11], &s[11..13], &s[13..15]);
    rfc.parse::<jiff::Timestamp>().ok().map(|t| t.as_second())
}

/// Verifies a SigV4-signed request and returns who signed it.
fn verify(idc: &Idc, method: &str, uri: &Uri, headers: &HeaderMap, body: &[u8]) -> Result<Caller, StsError> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let Some(authz) = header("authorization") else {
        return Err(err(403, "MissingAuthenticationToken", "Request is missing Authentication Token"));
    };
    let auth = parse_authorization(authz).ok_or_else(|| {
        err(400, "IncompleteSignature", format!("Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' parameters. Authorization={authz}"))
    })?;
    let amz_date = header("x-amz-date").ok_or_else(|| {
        err(
            400,
            "IncompleteSignature",
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
        )
    })?;
    let signed_at = parse_amz_date(amz_date)
        .ok_or_else(|| err(400, "IncompleteSignature", format!("Invalid X-Amz-Date: {amz_date}")))?;
    let now = idc.clock().now_s();
    if (now - signed_at).abs() > MAX_SKEW_SECONDS {
        let fmt = |t: i64| {
            jiff::Timestamp::from_second(t).map(|t| t.strftime("%Y%m%dT%H%M%SZ").to_string()).unwrap_or_default()
        };
        let msg = if signed_at < now {
            format!(
                "Signature expired: {amz_date} is now earlier than {} ({} - 15 min.)",
                fmt(now - MAX_SKEW_SECONDS),
                fmt(now)
            )
        } else {
            format!(
                "Signature not yet current: {amz_date} is still later than {} ({} + 15 min.)",
                fmt(now + MAX_SKEW_SECONDS),
                fmt(now)
            )
        };
        return Err(err(403, "SignatureDoesNotMatch", msg));
    }
    if auth.service != "sts" || !amz_date.starts_with(auth.date) {
        return Err(err(
            403,
            "SignatureDoesNotMatch",
            "Credential should be scoped to a valid region and the sts service, on the request's date.",
        ));
    }
    let invalid = || err(403, "InvalidClientTokenId", "The security token included in the request is invalid.");

    // Whose key is it, and what is its secret?
    let dir = idc.directory();
    let (secret, caller) = if let Some((user, key)) = dir.iam_user_by_key(auth.access_key_id) {
        // Long-term keys carry no session token.
        if header("x-amz-security-token").is_some() {
            return Err(invalid());
        }
        let caller = Caller {
            account_id: user.account.clone(),
            arn: user.arn(),
            user_id: principal_id("AIDA", &user.arn()),
            principal: user.arn(),
            iam_user: Some(user.name.clone()),
            long_term: true,
            role_session: false,
            mfa: false,
            session_id: None,
            source_identity: None,
        };
        (key.secret.clone(), caller)
    } else {
        type Row = (
            String,
            String,
            String,
            String,
            String,
            Option<String>,
            bool,
            bool,
            Option<String>,
            i64,
            Option<String>,
            Option<bool>,
        );
        let row: Option<Row> = idc
            .store()
            .conn()
            .prepare_cached(
                "SELECT c.secret_access_key, c.session_token, c.account_id, c.arn, c.user_id, c.role_arn, c.chained, c.mfa,
                        c.session_id, c.expires_at, c.source_identity, s.revoked
                 FROM credentials c LEFT JOIN sessions s ON s.session_id = c.session_id WHERE c.access_key_id = ?1",
            )?
            .query_row(
                [auth.access_key_id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?, r.get(8)?, r.get(9)?, r.get(10)?, r.get(11)?)),
            )
            .optional()?;
        let Some((
            secret,
            token,
            account,
            arn,
            user_id,
            role_arn,
            role_session,
            mfa,
            session_id,
            expires_at,
            source_identity,
            revoked,
        )) = row
        else {
            return Err(invalid());
        };
        if header("x-amz-security-token") != Some(token.as_str()) {
            return Err(invalid());
        }
        if revoked == Some(true) {
            return Err(err(403, "ExpiredToken", "The security token included in the request is expired"));
        }
        if expires_at <= now {
            return Err(err(403, "ExpiredToken", "The security token included in the request is expired"));
        }
        // An MFA session of an IAM user acts as that user.
        let iam_user = if role_arn.is_none() { arn.rsplit_once(":user/").map(|(_, n)| n.to_string()) } else { None };
        let caller = Caller {
            account_id: account,
            principal: role_arn.clone().unwrap_or_else(|| arn.clone()),
            arn,
            user_id,
            iam_user,
            long_term: false,
            role_session,
            mfa,
            session_id,
            source_identity,
        };
        (secret, caller)
    };

    // The canonical request, exactly as the client built it.
    let mut canonical_headers = String::new();
    for name in auth.signed_headers.split(';') {
        let values: Vec<String> = headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .map(|v| v.split_whitespace().collect::<Vec<_>>().join(" "))
            .collect();
        if values.is_empty() {
            return Err(err(
                403,
                "SignatureDoesNotMatch",
                format!("signed header `{name}` is missing from the request"),
            ));
        }
        canonical_headers.push_str(&format!("{name}:{}\n", values.join(",")));
    }
    let payload_hash = header("x-amz-content-sha256").map(str::to_string).unwrap_or_else(|| hex(&Sha256::digest(body)));
    let path = if uri.path().is_empty() { "/" } else { uri.path() };
    let canonical = format!(
        "{method}\n{path}\n{}\n{canonical_headers}\n{}\n{payload_hash}",
        canonical_query(uri.query()),
        auth.signed_headers
    );
    let scope = format!("{}/{}/{}/aws4_request", auth.date, auth.region, auth.service);
    let to_sign = format!("AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}", hex(&Sha256::digest(canonical.as_bytes())));
    let k_date = hmac(format!("AWS4{secret}").as_bytes(), auth.date);
    let k_region = hmac(&k_date, auth.region);
    let k_service = hmac(&k_region, auth.service);
    let k_signing = hmac(&k_service, "aws4_request");
    let expected = hex(&hmac(&k_signing, &to_sign));
    if !constant_time_eq(expected.as_bytes(), auth.signature.as_bytes()) {
        return Err(err(
            403,
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.",
        ));
    }
    Ok(caller)
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authorization_header_parsing() {
        let a = parse_authorization(
            "AWS4-HMAC-SHA256 Credential=AKID/20261122/eu-west-1/sts/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=abc",
        )
        .unwrap();
        assert_eq!((a.access_key_id, a.date, a.region, a.service), ("AKID", "20261122", "eu-west-1", "sts"));
        assert_eq!((a.signed_headers, a.signature), ("content-type;host;x-amz-date", "abc"));
        assert!(
            parse_authorization("AWS4-HMAC-SHA256 Credential=AKID/20261122/r/sts/x, SignedHeaders=a, Signature=b")
                .is_none()
        );
        assert_eq!(parse_amz_date("20261122T002910Z"), Some(1_795_307_350));
        assert_eq!(parse_amz_date("2026112T0029é0Z"), None, "non-ASCII input is refused, not sliced");
    }

    #[test]
    fn signing_key_matches_the_aws_documentation_example() {
        // docs.aws.amazon.com "Examples of how to derive a signing key for Signature Version 4".
        let k_date = hmac(b"AWS4wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20120215");
        let k_region = hmac(&k_date, "us-east-1");
        let k_service = hmac(&k_region, "iam");
        let k_signing = hmac(&k_service, "aws4_request");
        assert_eq!(hex(&k_signing), "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d");
    }
}
