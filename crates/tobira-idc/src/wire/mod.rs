//! How AWS's protocols look on the wire, shared by the protocol modules:
//! rest-json (SSO OIDC, the SSO portal), the query protocol with XML
//! answers (STS), awsJson1_1 (SSO Admin, Identity Store), and SigV4. docs/wire.md describes both.

pub(crate) mod aws_json;
pub(crate) mod dpop;
pub(crate) mod query;
pub(crate) mod rest_json;
pub(crate) mod sigv4;

/// RFC 3986 percent-encoding of everything but the unreserved characters
/// (SigV4 canonical form, redirect query strings).
pub(crate) fn uri_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Which wire format a protocol speaks (the fault middleware answers in it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Protocol {
    /// SSO OIDC and the SSO portal.
    RestJson,
    /// STS.
    Query,
    /// SSO Admin and Identity Store.
    AwsJson,
}

/// An error in a protocol's own shape: `code` is the AWS error code.
pub(crate) fn error(protocol: Protocol, status: u16, code: &str, message: &str) -> axum::response::Response {
    let status = axum::http::StatusCode::from_u16(status).unwrap_or(axum::http::StatusCode::INTERNAL_SERVER_ERROR);
    match protocol {
        Protocol::RestJson => rest_json::error(status, code, &serde_json::json!({ "message": message })),
        Protocol::Query => query::error(status, code, message),
        Protocol::AwsJson => {
            let mut r = aws_json::error(code, message, serde_json::Map::new(), false);
            *r.status_mut() = status;
            r
        }
    }
}
