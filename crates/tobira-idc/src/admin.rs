//! The admin API (`/admin/api/...`, JSON, `Authorization: Bearer <admin
//! token>` as printed at start-up): approvals, sessions, faults, counters and
//! the directory, all changeable while the server runs.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use crate::{Directory, Faults, Idc};

fn authorized(idc: &Idc, headers: &HeaderMap) -> Result<(), Response> {
    let given = headers.get("authorization").and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
    let expected = idc.admin_token().as_bytes();
    match given {
        Some(g) if g.len() == expected.len() && g.bytes().zip(expected).fold(0u8, |a, (x, y)| a | (x ^ y)) == 0 => {
            Ok(())
        }
        _ => Err((StatusCode::UNAUTHORIZED, Json(json!({ "error": "missing or wrong admin token" }))).into_response()),
    }
}

fn bad(message: impl Into<String>) -> Response {
    (StatusCode::BAD_REQUEST, Json(json!({ "error": message.into() }))).into_response()
}

pub(crate) async fn sessions(State(idc): State<Idc>, headers: HeaderMap) -> Response {
    if let Err(r) = authorized(&idc, &headers) {
        return r;
    }
    Json(json!({ "sessions": idc.active_sessions() })).into_response()
}

#[derive(Deserialize)]
pub(crate) struct UserBody {
    user: String,
}

pub(crate) async fn revoke(State(idc): State<Idc>, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(r) = authorized(&idc, &headers) {
        return r;
    }
    let Ok(b) = serde_json::from_slice::<UserBody>(&body) else { return bad("body must be {\"user\": NAME}") };
    match idc.revoke_user_sessions(&b.user) {
        Ok(n) => Json(json!({ "revoked": n })).into_response(),
        Err(e) => bad(e),
    }
}

#[derive(Deserialize)]
pub(crate) struct ApproveBody {
    user: Option<String>,
    user_code: Option<String>,
    request: Option<String>,
    #[serde(default)]
    deny: bool,
}

pub(crate) async fn approve(State(idc): State<Idc>, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(r) = authorized(&idc, &headers) {
        return r;
    }
    let Ok(b) = serde_json::from_slice::<ApproveBody>(&body) else {
        return bad("body must be {\"user_code\" or \"request\", \"user\", optional \"deny\": true}");
    };
    let user = b.user.unwrap_or_default();
    let result = match (b.user_code, b.request, b.deny) {
        (Some(code), _, false) => idc.approve_device(&code, &user),
        (Some(code), _, true) => idc.deny_device(&code),
        (None, Some(id), false) => idc.approve_authorization(&id, &user),
        (None, Some(id), true) => idc.deny_authorization(&id),
        (None, None, _) => Err("give user_code or request".into()),
    };
    match result {
        Ok(()) => Json(json!({ "ok": true })).into_response(),
        Err(e) => bad(e),
    }
}

pub(crate) async fn get_faults(State(idc): State<Idc>, headers: HeaderMap) -> Response {
    if let Err(r) = authorized(&idc, &headers) {
        return r;
    }
    Json(idc.faults()).into_response()
}

pub(crate) async fn put_faults(State(idc): State<Idc>, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(r) = authorized(&idc, &headers) {
        return r;
    }
    match serde_json::from_slice::<Faults>(&body) {
        Ok(f) => {
            idc.set_faults(f);
            StatusCode::NO_CONTENT.into_response()
        }
        Err(e) => bad(format!("invalid faults: {e}")),
    }
}

pub(crate) async fn counters(State(idc): State<Idc>, headers: HeaderMap) -> Response {
    if let Err(r) = authorized(&idc, &headers) {
        return r;
    }
    Json(idc.counters()).into_response()
}

pub(crate) async fn get_directory(State(idc): State<Idc>, headers: HeaderMap) -> Response {
    if let Err(r) = authorized(&idc, &headers) {
        return r;
    }
    match toml::to_string(&idc.directory()) {
        Ok(t) => ([("content-type", "application/toml")], t).into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

pub(crate) async fn put_directory(State(idc): State<Idc>, headers: HeaderMap, body: Bytes) -> Response {
    if let Err(r) = authorized(&idc, &headers) {
        return r;
    }
    let text = String::from_utf8_lossy(&body);
    match Directory::from_toml(&text).map_err(|e| e.to_string()).and_then(|d| idc.replace_directory(d)) {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => bad(e),
    }
}
