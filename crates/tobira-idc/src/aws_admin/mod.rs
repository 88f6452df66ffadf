//! The AWS administrator APIs (docs/admin-apis.md): SSO Admin
//! (`SWBExternalService.*`, SigV4 service `sso`) and Identity Store
//! (`AWSIdentityStore.*`, SigV4 service `identitystore`), both awsJson1_1 on
//! `POST /`. Every call is signed with keys of the directory (an IAM user's
//! access key, or credentials STS issued), verified like STS, and allowed
//! only to the principals `instance.administrators` names. Both services
//! change the one directory the pages, the portal and STS use.

pub(crate) mod identity_store;
pub(crate) mod sso_admin;

use axum::http::{HeaderMap, Uri};
use axum::response::Response;
use serde_json::{Map, Value};

use crate::Idc;
use crate::domain::credentials::{self, CheckError};
use crate::domain::{ChangeError, directory::DirectoryError};
use crate::wire::aws_json;
use crate::wire::sigv4::{self, SigError};

pub(crate) type Input = Map<String, Value>;

/// Which of the two services answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Service {
    SsoAdmin,
    IdentityStore,
}

impl Service {
    fn signing_name(self) -> &'static str {
        match self {
            Service::SsoAdmin => "sso",
            Service::IdentityStore => "identitystore",
        }
    }

    fn prefix(self) -> &'static str {
        match self {
            Service::SsoAdmin => "SWBExternalService",
            Service::IdentityStore => "AWSIdentityStore",
        }
    }

    fn operations(self) -> &'static [&'static str] {
        match self {
            Service::SsoAdmin => sso_admin::OPERATIONS,
            Service::IdentityStore => identity_store::OPERATIONS,
        }
    }

    /// The service a request is for, from its `X-Amz-Target`.
    pub(crate) fn of(headers: &HeaderMap) -> Option<Service> {
        [Service::SsoAdmin, Service::IdentityStore]
            .into_iter()
            .find(|s| aws_json::target(headers, s.prefix()).is_some())
    }
}

/// The operation a request names, as a static name (the middleware counts
/// calls by it and may inject faults into it).
pub(crate) fn operation(headers: &HeaderMap) -> Option<&'static str> {
    let service = Service::of(headers)?;
    let name = aws_json::target(headers, service.prefix())?;
    service.operations().iter().copied().find(|op| *op == name)
}

/// An error in the services' shapes (docs/admin-apis.md §1.3).
#[derive(Debug)]
pub(crate) enum ApiError {
    MissingAuthentication,
    UnrecognizedClient,
    ExpiredToken,
    InvalidSignature(String),
    AccessDenied(String),
    UnknownOperation(String),
    Serialization(String),
    Validation(String),
    /// Identity Store `ResourceType` and the id asked for.
    NotFound {
        message: String,
        resource: Option<(&'static str, String)>,
    },
    /// Identity Store `Reason` (`UNIQUENESS_CONSTRAINT_VIOLATION`, `CONCURRENT_MODIFICATION`).
    Conflict {
        message: String,
        reason: Option<&'static str>,
    },
    Internal(String),
}

impl ApiError {
    pub(crate) fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::NotFound { message: message.into(), resource: None }
    }

    fn respond(self, service: Service) -> Response {
        let with_id = service == Service::IdentityStore;
        let mut members = Map::new();
        let (shape, message) = match self {
            ApiError::MissingAuthentication => {
                ("MissingAuthenticationTokenException", "Request is missing Authentication Token".to_string())
            }
            ApiError::UnrecognizedClient => {
                ("UnrecognizedClientException", "The security token included in the request is invalid.".to_string())
            }
            ApiError::ExpiredToken => {
                ("ExpiredTokenException", "The security token included in the request is expired".to_string())
            }
            ApiError::InvalidSignature(m) => ("InvalidSignatureException", m),
            ApiError::AccessDenied(m) => ("AccessDeniedException", m),
            ApiError::UnknownOperation(op) => {
                ("UnknownOperationException", format!("{op} is not an operation of {}", service.prefix()))
            }
            ApiError::Serialization(m) => ("SerializationException", m),
            ApiError::Validation(m) => ("ValidationException", m),
            ApiError::NotFound { message, resource } => {
                if let (Some((kind, id)), true) = (resource, with_id) {
                    members.insert("ResourceType".into(), Value::String(kind.into()));
                    members.insert("ResourceId".into(), Value::String(id));
                }
                ("ResourceNotFoundException", message)
            }
            ApiError::Conflict { message, reason } => {
                if let (Some(r), true) = (reason, with_id) {
                    members.insert("Reason".into(), Value::String(r.into()));
                }
                ("ConflictException", message)
            }
            ApiError::Internal(m) => ("InternalServerException", m),
        };
        aws_json::error(shape, &message, members, with_id)
    }
}

impl From<ChangeError> for ApiError {
    fn from(e: ChangeError) -> Self {
        match e {
            ChangeError::Directory(DirectoryError::Invalid(m)) => ApiError::Validation(m),
            ChangeError::Directory(e) => ApiError::Validation(e.to_string()),
            ChangeError::NoSuchUser(u) => ApiError::not_found(format!("no user `{u}` in the identity store")),
            ChangeError::NotFound(m) => ApiError::not_found(m),
            ChangeError::Duplicate(m) => ApiError::Validation(m),
            ChangeError::Store(e) => ApiError::Internal(e.to_string()),
        }
    }
}

impl From<crate::domain::store::StoreError> for ApiError {
    fn from(e: crate::domain::store::StoreError) -> Self {
        ApiError::Internal(e.to_string())
    }
}

/// `POST /` with an `X-Amz-Target` of either service.
pub(crate) fn handle(idc: &Idc, service: Service, uri: &Uri, headers: &HeaderMap, body: &[u8]) -> Response {
    match dispatch(idc, service, uri, headers, body) {
        Ok(v) => aws_json::ok(v),
        Err(e) => e.respond(service),
    }
}

fn dispatch(idc: &Idc, service: Service, uri: &Uri, headers: &HeaderMap, body: &[u8]) -> Result<Value, ApiError> {
    let name = aws_json::target(headers, service.prefix()).unwrap_or("");
    let Some(op) = service.operations().iter().copied().find(|op| *op == name) else {
        return Err(ApiError::UnknownOperation(name.to_string()));
    };
    authorize(idc, service, op, uri, headers, body)?;
    let input = aws_json::input(body).map_err(ApiError::Serialization)?;
    match service {
        Service::SsoAdmin => sso_admin::call(idc, op, &input),
        Service::IdentityStore => identity_store::call(idc, op, &input),
    }
}

/// Verifies the signature (scope: the service's signing name) and that the
/// caller may administer the instance.
fn authorize(
    idc: &Idc,
    service: Service,
    op: &str,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(), ApiError> {
    let core = idc.core();
    let request =
        sigv4::Request { method: "POST", uri, headers, body, now: core.now(), service: service.signing_name() };
    let caller =
        sigv4::verify(&request, |key, token| credentials::check(core, key, token).map(|c| (c.secret.clone(), c)))
            .map_err(|e| match e {
                SigError::Missing => ApiError::MissingAuthentication,
                SigError::Incomplete(m) | SigError::Mismatch(m) => ApiError::InvalidSignature(m),
                SigError::Key(CheckError::Invalid) => ApiError::UnrecognizedClient,
                SigError::Key(CheckError::Expired) => ApiError::ExpiredToken,
                SigError::Key(CheckError::Store(e)) => ApiError::Internal(e.to_string()),
            })?;
    let p = &caller.principal;
    let who = p.role_arn.as_deref().unwrap_or(&p.arn);
    if !core.model().dir.instance.administers(who, &p.account_id) {
        return Err(ApiError::AccessDenied(format!(
            "User: {} is not authorized to perform: {}:{op}; the directory's instance.administrators does not name it",
            p.arn,
            service.signing_name()
        )));
    }
    Ok(())
}

// ---- input members ----------------------------------------------------------

/// AWS's validation message for a missing required member.
fn missing(member: &str) -> ApiError {
    let mut camel = member.to_string();
    if let Some(first) = camel.get(..1) {
        camel.replace_range(..1, &first.to_lowercase());
    }
    ApiError::Validation(format!(
        "1 validation error detected: Value null at '{camel}' failed to satisfy constraint: Member must not be null"
    ))
}

/// A required string member.
pub(crate) fn req<'a>(input: &'a Input, member: &str) -> Result<&'a str, ApiError> {
    match input.get(member) {
        Some(Value::String(s)) => Ok(s),
        None | Some(Value::Null) => Err(missing(member)),
        Some(_) => Err(ApiError::Serialization(format!("`{member}` must be a string"))),
    }
}

/// An optional string member.
pub(crate) fn opt<'a>(input: &'a Input, member: &str) -> Result<Option<&'a str>, ApiError> {
    match input.get(member) {
        Some(Value::String(s)) => Ok(Some(s)),
        None | Some(Value::Null) => Ok(None),
        Some(_) => Err(ApiError::Serialization(format!("`{member}` must be a string"))),
    }
}

/// One page of `items` by `MaxResults` (1 to `limit`, default `limit`) and
/// `NextToken` (docs/admin-apis.md §4.5): the page and the next token, absent
/// on the last page.
pub(crate) fn page<T>(items: Vec<T>, input: &Input, limit: usize) -> Result<(Vec<T>, Option<String>), ApiError> {
    let max = match input.get("MaxResults") {
        None | Some(Value::Null) => limit,
        Some(v) => match v.as_u64().and_then(|n| usize::try_from(n).ok()) {
            Some(n) if (1..=limit).contains(&n) => n,
            _ => {
                return Err(ApiError::Validation(format!(
                    "1 validation error detected: Value '{v}' at 'maxResults' failed to satisfy constraint: Member must have value between 1 and {limit}"
                )));
            }
        },
    };
    let start = match opt(input, "NextToken")? {
        None => 0,
        Some(t) => aws_json::parse_next_token(t)
            .filter(|n| *n <= items.len())
            .ok_or_else(|| ApiError::Validation("The NextToken is invalid or has expired.".into()))?,
    };
    let end = start.saturating_add(max).min(items.len());
    let next = (end < items.len()).then(|| aws_json::next_token(end));
    Ok((items.into_iter().skip(start).take(end - start).collect(), next))
}

/// Adds `NextToken` to an output when there is one.
pub(crate) fn with_next(mut out: Value, next: Option<String>) -> Value {
    if let (Some(t), Some(m)) = (next, out.as_object_mut()) {
        m.insert("NextToken".into(), Value::String(t));
    }
    out
}

/// Epoch seconds as clients read AWS timestamps (a JSON number).
pub(crate) fn timestamp(seconds: i64) -> Value {
    Value::from(seconds)
}
