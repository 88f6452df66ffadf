//! The SSO portal API (docs/wire.md §3): ListAccounts, ListAccountRoles,
//! GetRoleCredentials, Logout — authenticated by `x-amz-sso_bearer_token`.
//! Rate limits and injected faults are the middleware's (`middleware.rs`).

use axum::extract::{FromRequestParts, Query, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use serde::Deserialize;
use serde_json::json;

use crate::Idc;
use crate::domain::seal::Purpose;
use crate::domain::sessions::{self, Owner};
use crate::domain::store::StoreError;
use crate::domain::{credentials, secret};
use crate::wire::rest_json;

/// A portal error: `x-amzn-ErrorType` + `{"message"}`.
#[derive(Debug)]
pub(crate) enum PortalError {
    Unauthorized,
    Forbidden,
    InvalidRequest(&'static str),
    Internal(StoreError),
}

impl From<StoreError> for PortalError {
    fn from(e: StoreError) -> Self {
        PortalError::Internal(e)
    }
}

impl IntoResponse for PortalError {
    fn into_response(self) -> Response {
        let (status, shape, message) = match self {
            PortalError::Unauthorized => {
                (StatusCode::UNAUTHORIZED, "UnauthorizedException", "Session token not found or invalid".to_string())
            }
            PortalError::Forbidden => (StatusCode::FORBIDDEN, "ForbiddenException", "No access".to_string()),
            PortalError::InvalidRequest(m) => (StatusCode::BAD_REQUEST, "InvalidRequestException", m.to_string()),
            PortalError::Internal(e) => (StatusCode::INTERNAL_SERVER_ERROR, "InternalServerException", e.to_string()),
        };
        rest_json::error(status, shape, &json!({ "message": message }))
    }
}

/// The caller: the owner of the bearer token.
pub(crate) struct Caller(Owner);

impl FromRequestParts<Idc> for Caller {
    type Rejection = PortalError;

    async fn from_request_parts(parts: &mut Parts, idc: &Idc) -> Result<Self, Self::Rejection> {
        let token = parts.headers.get("x-amz-sso_bearer_token").and_then(|v| v.to_str().ok()).unwrap_or("");
        sessions::access_owner(idc.core(), token)?.map(Caller).ok_or(PortalError::Unauthorized)
    }
}

#[derive(Deserialize)]
pub(crate) struct PageQuery {
    next_token: Option<String>,
    max_result: Option<String>,
    account_id: Option<String>,
    role_name: Option<String>,
}

/// A page request: where to start and how many.
struct PageSpec {
    start: usize,
    max: usize,
}

/// Offset-based pages behind an opaque token, MAC'd so a client cannot
/// forge one (it would only skip ahead in its own list, but a token the
/// server did not make is refused as AWS refuses it).
fn page_spec(idc: &Idc, q: &PageQuery) -> Result<PageSpec, PortalError> {
    let max = match &q.max_result {
        Some(m) => m
            .parse::<usize>()
            .ok()
            .filter(|m| (1..=100).contains(m))
            .ok_or(PortalError::InvalidRequest("max_result must be an integer from 1 to 100"))?,
        None => 20,
    };
    let start = match &q.next_token {
        Some(t) => {
            let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(t).unwrap_or_default();
            let (offset, mac) = raw.split_at_checked(8).ok_or(PortalError::InvalidRequest("invalid next_token"))?;
            if !secret::same(&idc.core().seal.mac(Purpose::PageToken, offset)[..8], mac) {
                return Err(PortalError::InvalidRequest("invalid next_token"));
            }
            let mut b = [0u8; 8];
            b.copy_from_slice(offset);
            usize::try_from(u64::from_be_bytes(b)).map_err(|_| PortalError::InvalidRequest("invalid next_token"))?
        }
        None => 0,
    };
    Ok(PageSpec { start, max })
}

fn next_token(idc: &Idc, end: usize, total: usize) -> Option<String> {
    (end < total).then(|| {
        let offset = (end as u64).to_be_bytes();
        let mac = idc.core().seal.mac(Purpose::PageToken, &offset);
        let mut raw = offset.to_vec();
        raw.extend_from_slice(&mac[..8]);
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
    })
}

pub(crate) async fn list_accounts(
    State(idc): State<Idc>,
    Caller(owner): Caller,
    Query(q): Query<PageQuery>,
) -> Result<Response, PortalError> {
    let spec = page_spec(&idc, &q)?;
    let model = idc.core().model();
    let total = model.account_count(&owner.user);
    if spec.start > total {
        return Err(PortalError::InvalidRequest("invalid next_token"));
    }
    let page: Vec<_> = model
        .accounts_page(&owner.user, spec.start, spec.max)
        .into_iter()
        .map(|a| json!({ "accountId": a.id, "accountName": a.name, "emailAddress": a.email }))
        .collect();
    let mut out = json!({ "accountList": page });
    if let Some(n) = next_token(&idc, spec.start + spec.max, total) {
        out["nextToken"] = json!(n);
    }
    Ok(rest_json::ok(&out))
}

pub(crate) async fn list_account_roles(
    State(idc): State<Idc>,
    Caller(owner): Caller,
    Query(q): Query<PageQuery>,
) -> Result<Response, PortalError> {
    let spec = page_spec(&idc, &q)?;
    let account = q.account_id.as_deref().ok_or(PortalError::InvalidRequest("account_id is required"))?;
    let model = idc.core().model();
    let roles = model.roles(&owner.user, account);
    if spec.start > roles.len() {
        return Err(PortalError::InvalidRequest("invalid next_token"));
    }
    let page: Vec<_> = roles
        .iter()
        .skip(spec.start)
        .take(spec.max)
        .map(|p| json!({ "roleName": p.name, "accountId": account }))
        .collect();
    let mut out = json!({ "roleList": page });
    if let Some(n) = next_token(&idc, spec.start + spec.max, roles.len()) {
        out["nextToken"] = json!(n);
    }
    Ok(rest_json::ok(&out))
}

pub(crate) async fn get_role_credentials(
    State(idc): State<Idc>,
    Caller(owner): Caller,
    Query(q): Query<PageQuery>,
) -> Result<Response, PortalError> {
    let (Some(account), Some(role)) = (q.account_id.as_deref(), q.role_name.as_deref()) else {
        return Err(PortalError::InvalidRequest("role_name and account_id are required"));
    };
    let core = idc.core();
    let model = core.model();
    let entitlement = model.entitlement(&owner.user, account, role).ok_or(PortalError::Forbidden)?;
    let creds = credentials::sso_role(core, &owner.user, &owner.session_id, entitlement);
    #[derive(serde::Serialize)]
    #[serde(rename_all = "camelCase")]
    struct RoleCredentials<'a> {
        access_key_id: &'a str,
        secret_access_key: &'a str,
        session_token: &'a str,
        expiration: i64,
    }
    #[derive(serde::Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Out<'a> {
        role_credentials: RoleCredentials<'a>,
    }
    Ok(rest_json::ok(&Out {
        role_credentials: RoleCredentials {
            access_key_id: &creds.access_key_id,
            secret_access_key: &creds.secret_access_key,
            session_token: &creds.session_token,
            expiration: creds.expires_at * 1000,
        },
    }))
}

/// Ends the caller's sign-in session: its tokens and every credential
/// issued from it stop working.
pub(crate) async fn logout(State(idc): State<Idc>, Caller(owner): Caller) -> Result<Response, PortalError> {
    sessions::revoke(idc.core(), &owner.session_id)?;
    Ok(StatusCode::OK.into_response())
}
