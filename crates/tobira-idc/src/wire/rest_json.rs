//! rest-json answers (SSO OIDC, the SSO portal): a JSON body,
//! `x-amzn-RequestId`, and for errors the `x-amzn-ErrorType` header clients
//! classify them by (docs/wire.md §2.4, §3).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse as _, Response};
use serde::Serialize;
use serde_json::Value;

use crate::domain::random;

fn respond(status: StatusCode, error_type: Option<&str>, body: &impl Serialize) -> Response {
    let mut r = (status, serde_json::to_string(body).unwrap_or_default()).into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if let Some(t) = error_type.and_then(|t| HeaderValue::from_str(t).ok()) {
        h.insert("x-amzn-ErrorType", t);
    }
    if let Ok(v) = HeaderValue::from_str(&random::request_id()) {
        h.insert("x-amzn-RequestId", v);
    }
    r
}

pub(crate) fn ok(body: &impl Serialize) -> Response {
    respond(StatusCode::OK, None, body)
}

/// An error whose shape name (`InvalidGrantException`, …) goes in `x-amzn-ErrorType`.
pub(crate) fn error(status: StatusCode, shape: &str, body: &Value) -> Response {
    respond(status, Some(shape), body)
}
