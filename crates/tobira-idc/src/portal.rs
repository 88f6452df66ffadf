//! The SSO portal API (wire.md §3): ListAccounts, ListAccountRoles,
//! GetRoleCredentials, Logout — authenticated by `x-amz-sso_bearer_token`.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::Idc;
use crate::sts::{NewCredentials, issue_credentials};

/// A portal error: `x-amzn-ErrorType` + `{"message"}`.
#[derive(Debug)]
pub(crate) struct PortalError {
    status: u16,
    shape: String,
    message: String,
}

fn err(status: u16, shape: &str, message: impl Into<String>) -> PortalError {
    PortalError { status, shape: shape.into(), message: message.into() }
}

impl From<rusqlite::Error> for PortalError {
    fn from(e: rusqlite::Error) -> Self {
        err(500, "InternalServerException", format!("storage error: {e}"))
    }
}

impl IntoResponse for PortalError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        crate::rest_json(status, Some(&self.shape), &json!({ "message": self.message }))
    }
}

fn ok_json(v: Value) -> Response {
    crate::rest_json(StatusCode::OK, None, &v)
}

/// Faults, then the bearer token → (user, sign-in session).
async fn caller(idc: &Idc, op: &str, headers: &HeaderMap) -> Result<(String, String), PortalError> {
    if let Some((status, code)) = idc.fault(op, true).await {
        return Err(err(status, &code, "injected fault"));
    }
    let token = headers.get("x-amz-sso_bearer_token").and_then(|v| v.to_str().ok()).unwrap_or("");
    crate::oidc::token_owner(idc, token)?
        .ok_or_else(|| err(401, "UnauthorizedException", "Session token not found or invalid"))
}

#[derive(Deserialize)]
pub(crate) struct Page {
    next_token: Option<String>,
    max_result: Option<String>,
    account_id: Option<String>,
    role_name: Option<String>,
}

/// Offset-based pages with an opaque token.
fn paginate<T: Clone>(items: &[T], q: &Page) -> Result<(Vec<T>, Option<String>), PortalError> {
    let max = match &q.max_result {
        Some(m) => m
            .parse::<usize>()
            .ok()
            .filter(|m| (1..=100).contains(m))
            .ok_or_else(|| err(400, "InvalidRequestException", "max_result must be an integer from 1 to 100"))?,
        None => 20,
    };
    let start = match &q.next_token {
        Some(t) => base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(t)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .and_then(|s| s.strip_prefix("offset:").and_then(|n| n.parse::<usize>().ok()))
            .filter(|n| *n <= items.len())
            .ok_or_else(|| err(400, "InvalidRequestException", "invalid next_token"))?,
        None => 0,
    };
    let end = (start + max).min(items.len());
    let next =
        (end < items.len()).then(|| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("offset:{end}")));
    Ok((items[start..end].to_vec(), next))
}

pub(crate) async fn list_accounts(
    State(idc): State<Idc>,
    headers: HeaderMap,
    Query(q): Query<Page>,
) -> Result<Response, PortalError> {
    let (user, _) = caller(&idc, "ListAccounts", &headers).await?;
    let dir = idc.directory();
    let mut accounts: Vec<Value> = Vec::new();
    for (a, _) in dir.entitlements(&user) {
        let v = json!({ "accountId": a.id, "accountName": a.name, "emailAddress": a.email });
        if !accounts.contains(&v) {
            accounts.push(v);
        }
    }
    let (page, next) = paginate(&accounts, &q)?;
    let mut out = json!({ "accountList": page });
    if let Some(n) = next {
        out["nextToken"] = json!(n);
    }
    Ok(ok_json(out))
}

pub(crate) async fn list_account_roles(
    State(idc): State<Idc>,
    headers: HeaderMap,
    Query(q): Query<Page>,
) -> Result<Response, PortalError> {
    let (user, _) = caller(&idc, "ListAccountRoles", &headers).await?;
    let account = q.account_id.clone().ok_or_else(|| err(400, "InvalidRequestException", "account_id is required"))?;
    let dir = idc.directory();
    let roles: Vec<Value> = dir
        .entitlements(&user)
        .into_iter()
        .filter(|(a, _)| a.id == account)
        .map(|(a, p)| json!({ "roleName": p.name, "accountId": a.id }))
        .collect();
    let (page, next) = paginate(&roles, &q)?;
    let mut out = json!({ "roleList": page });
    if let Some(n) = next {
        out["nextToken"] = json!(n);
    }
    Ok(ok_json(out))
}

/// The IAM role Identity Center creates for a permission set in an account:
/// `AWSReservedSSO_<permission set>_<16 hex>`.
pub(crate) fn reserved_role_name(account: &str, permission_set: &str) -> String {
    let digest = Sha256::digest(format!("{account}/{permission_set}").as_bytes());
    let hex: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
    format!("AWSReservedSSO_{permission_set}_{hex}")
}

pub(crate) async fn get_role_credentials(
    State(idc): State<Idc>,
    headers: HeaderMap,
    Query(q): Query<Page>,
) -> Result<Response, PortalError> {
    let (user, session) = caller(&idc, "GetRoleCredentials", &headers).await?;
    let (Some(account), Some(role)) = (q.account_id.as_deref(), q.role_name.as_deref()) else {
        return Err(err(400, "InvalidRequestException", "role_name and account_id are required"));
    };
    let dir = idc.directory();
    let Some((_, ps)) = dir.entitlements(&user).into_iter().find(|(a, p)| a.id == account && p.name == role) else {
        return Err(err(403, "ForbiddenException", "No access"));
    };
    let role_name = reserved_role_name(account, &ps.name);
    let now = idc.clock().now_s();
    let creds = issue_credentials(
        &idc,
        NewCredentials {
            account_id: account.to_string(),
            arn: format!("arn:aws:sts::{account}:assumed-role/{role_name}/{user}"),
            user_id: format!("{}:{user}", crate::sts::role_id(account, &role_name)),
            role_arn: Some(format!("arn:aws:iam::{account}:role/{role_name}")),
            role_session: true,
            mfa: false,
            session_id: Some(session),
            expires_at: now + i64::from(ps.session_hours) * 3600,
            source_identity: None,
        },
    )?;
    Ok(ok_json(json!({
        "roleCredentials": {
            "accessKeyId": creds.access_key_id,
            "secretAccessKey": creds.secret_access_key,
            "sessionToken": creds.session_token,
            "expiration": creds.expires_at * 1000,
        }
    })))
}

/// Ends the caller's sign-in session: its tokens and every credential
/// issued from it stop working.
pub(crate) async fn logout(State(idc): State<Idc>, headers: HeaderMap) -> Result<Response, PortalError> {
    let (_, session) = caller(&idc, "Logout", &headers).await?;
    idc.store().conn().execute("UPDATE sessions SET revoked = 1 WHERE session_id = ?1", [&session])?;
    Ok(StatusCode::OK.into_response())
}
