//! awsJson1_1 (SSO Admin, Identity Store; docs/admin-apis.md §1): `POST /`
//! with the operation in `X-Amz-Target: <prefix>.<Operation>`, a JSON object
//! in, a JSON object out. Errors carry their shape name three times (the
//! `x-amzn-ErrorType` header, `__type` in the body) plus `Message`, and
//! every answer has an `x-amzn-RequestId`.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse as _, Response};
use serde_json::{Map, Value};

use crate::domain::random;

pub(crate) const CONTENT_TYPE: &str = "application/x-amz-json-1.1";

/// The operation named by `X-Amz-Target` when it starts with `prefix.`.
pub(crate) fn target<'a>(headers: &'a HeaderMap, prefix: &str) -> Option<&'a str> {
    let t = headers.get("x-amz-target")?.to_str().ok()?;
    t.strip_prefix(prefix)?.strip_prefix('.')
}

fn respond(status: StatusCode, error_type: Option<&str>, request_id: &str, body: &Value) -> Response {
    let mut r = (status, serde_json::to_string(body).unwrap_or_default()).into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
    if let Some(t) = error_type.and_then(|t| HeaderValue::from_str(t).ok()) {
        h.insert("x-amzn-ErrorType", t);
    }
    if let Ok(v) = HeaderValue::from_str(request_id) {
        h.insert("x-amzn-RequestId", v);
    }
    r
}

/// A 200 answer; `body` is the operation's output object (`{}` when void).
pub(crate) fn ok(body: Value) -> Response {
    respond(StatusCode::OK, None, &random::request_id(), &body)
}

/// An error: 400 for client errors, 500 for `InternalServerException`
/// (the models give no status; docs/admin-apis.md §1.3). `members` are the
/// shape's other modeled members (`ResourceType`, `Reason`…); with
/// `request_id_member` the request id is repeated in the body as Identity
/// Store's shapes model it.
pub(crate) fn error(shape: &str, message: &str, members: Map<String, Value>, request_id_member: bool) -> Response {
    let request_id = random::request_id();
    let mut body = Map::new();
    body.insert("__type".into(), Value::String(shape.into()));
    body.insert("Message".into(), Value::String(message.into()));
    body.extend(members);
    if request_id_member {
        body.insert("RequestId".into(), Value::String(request_id.clone()));
    }
    let status = if shape == "InternalServerException" {
        StatusCode::INTERNAL_SERVER_ERROR
    } else if shape == "MissingAuthenticationTokenException" {
        StatusCode::FORBIDDEN
    } else {
        StatusCode::BAD_REQUEST
    };
    respond(status, Some(shape), &request_id, &Value::Object(body))
}

/// The request body as a JSON object: an empty body is `{}`.
pub(crate) fn input(body: &[u8]) -> Result<Map<String, Value>, String> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err("the request body must be a JSON object".into()),
        Err(e) => Err(format!("the request body is not valid JSON: {e}")),
    }
}

/// `NextToken`s are opaque to clients: here the base64 of the next offset.
pub(crate) fn next_token(offset: usize) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(format!("offset:{offset}"))
}

/// The offset a `NextToken` carries.
pub(crate) fn parse_next_token(token: &str) -> Option<usize> {
    use base64::Engine as _;
    let raw = base64::engine::general_purpose::STANDARD.decode(token).ok()?;
    std::str::from_utf8(&raw).ok()?.strip_prefix("offset:")?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_tokens_round_trip_and_match_the_model_pattern() {
        let t = next_token(200);
        assert!(t.chars().all(|c| c.is_ascii_alphanumeric() || "-+=/_".contains(c)), "{t}");
        assert_eq!(parse_next_token(&t), Some(200));
        assert_eq!(parse_next_token("garbage!"), None);
    }

    #[test]
    fn empty_bodies_are_empty_objects_and_arrays_are_refused() {
        assert!(input(b"").unwrap().is_empty());
        assert!(input(b"[]").is_err());
        assert_eq!(input(br#"{"A": 1}"#).unwrap()["A"], 1);
    }
}
