//! The admin API (`/admin/api/...`, JSON, `Authorization: Bearer <admin
//! token>` as printed at start-up): approvals, sessions, invitations, faults,
//! counters and the directory (its public view: no password hashes), all
//! changeable while the server runs.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use crate::domain::grants::DecideError;
use crate::domain::secret;
use crate::domain::store::StoreError;
use crate::{ChangeError, Faults, Idc};

/// An admin API error: a status and `{"error": message}`.
#[derive(Debug)]
pub(crate) enum AdminError {
    Unauthorized,
    BadRequest(String),
    NotFound(String),
    Internal(StoreError),
}

impl IntoResponse for AdminError {
    fn into_response(self) -> Response {
        let (status, message) = match self {
            AdminError::Unauthorized => (StatusCode::UNAUTHORIZED, "missing or wrong admin token".to_string()),
            AdminError::BadRequest(m) => (StatusCode::BAD_REQUEST, m),
            AdminError::NotFound(m) => (StatusCode::NOT_FOUND, m),
            AdminError::Internal(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
        };
        (status, Json(json!({ "error": message }))).into_response()
    }
}

impl From<StoreError> for AdminError {
    fn from(e: StoreError) -> Self {
        AdminError::Internal(e)
    }
}

impl From<ChangeError> for AdminError {
    fn from(e: ChangeError) -> Self {
        match e {
            ChangeError::Store(s) => AdminError::Internal(s),
            ChangeError::NoSuchUser(_) | ChangeError::NotFound(_) => AdminError::NotFound(e.to_string()),
            ChangeError::Directory(d) => AdminError::BadRequest(d.to_string()),
            ChangeError::Duplicate(_) => AdminError::BadRequest(e.to_string()),
        }
    }
}

impl From<DecideError> for AdminError {
    fn from(e: DecideError) -> Self {
        match e {
            DecideError::Store(s) => AdminError::Internal(s),
            other => AdminError::BadRequest(other.to_string()),
        }
    }
}

/// Proof that the request carries the admin token (compared in constant time).
pub(crate) struct Admin;

impl FromRequestParts<Idc> for Admin {
    type Rejection = AdminError;

    async fn from_request_parts(parts: &mut Parts, idc: &Idc) -> Result<Self, Self::Rejection> {
        let given = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or("");
        if secret::same(given.as_bytes(), idc.admin_token().as_bytes()) {
            Ok(Admin)
        } else {
            Err(AdminError::Unauthorized)
        }
    }
}

fn body<T: for<'de> Deserialize<'de>>(bytes: &Bytes, shape: &str) -> Result<T, AdminError> {
    serde_json::from_slice(bytes).map_err(|e| AdminError::BadRequest(format!("body must be {shape}: {e}")))
}

pub(crate) async fn sessions(State(idc): State<Idc>, _: Admin) -> Result<Response, AdminError> {
    Ok(Json(json!({ "sessions": idc.active_sessions()? })).into_response())
}

#[derive(Deserialize)]
pub(crate) struct UserBody {
    user: String,
}

pub(crate) async fn revoke(State(idc): State<Idc>, _: Admin, b: Bytes) -> Result<Response, AdminError> {
    let b: UserBody = body(&b, "{\"user\": NAME}")?;
    Ok(Json(json!({ "revoked": idc.revoke_user_sessions(&b.user)? })).into_response())
}

pub(crate) async fn invite(State(idc): State<Idc>, _: Admin, b: Bytes) -> Result<Response, AdminError> {
    let b: UserBody = body(&b, "{\"user\": NAME}")?;
    Ok(Json(idc.invite(&b.user)?).into_response())
}

#[derive(Deserialize)]
pub(crate) struct ApproveBody {
    user: Option<String>,
    user_code: Option<String>,
    request: Option<String>,
    #[serde(default)]
    deny: bool,
}

pub(crate) async fn approve(State(idc): State<Idc>, _: Admin, b: Bytes) -> Result<Response, AdminError> {
    let b: ApproveBody = body(&b, "{\"user_code\" or \"request\", \"user\", optional \"deny\": true}")?;
    let user = b.user.unwrap_or_default();
    match (b.user_code, b.request, b.deny) {
        (Some(code), _, false) => idc.approve_device(&code, &user)?,
        (Some(code), _, true) => idc.deny_device(&code)?,
        (None, Some(id), false) => idc.approve_authorization(&id, &user)?,
        (None, Some(id), true) => idc.deny_authorization(&id)?,
        (None, None, _) => return Err(AdminError::BadRequest("give user_code or request".into())),
    }
    Ok(Json(json!({ "ok": true })).into_response())
}

pub(crate) async fn get_faults(State(idc): State<Idc>, _: Admin) -> Response {
    Json(idc.faults()).into_response()
}

pub(crate) async fn put_faults(State(idc): State<Idc>, _: Admin, b: Bytes) -> Result<Response, AdminError> {
    let f: Faults = serde_json::from_slice(&b).map_err(|e| AdminError::BadRequest(format!("invalid faults: {e}")))?;
    idc.set_faults(f);
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub(crate) async fn counters(State(idc): State<Idc>, _: Admin) -> Response {
    Json(idc.counters()).into_response()
}

pub(crate) async fn get_directory(State(idc): State<Idc>, _: Admin) -> Response {
    let mut r = idc.directory().to_public_toml().into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/toml"));
    r
}

pub(crate) async fn put_directory(State(idc): State<Idc>, _: Admin, b: Bytes) -> Result<Response, AdminError> {
    let text =
        std::str::from_utf8(&b).map_err(|_| AdminError::BadRequest("the directory must be UTF-8 TOML".into()))?;
    idc.apply_edited_toml(text)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
