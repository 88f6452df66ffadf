//! The query protocol (STS): form-encoded parameters in, XML out
//! (docs/wire.md §4).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse as _, Response};

use crate::domain::random;

/// STS's XML namespace.
pub(crate) const NS: &str = "https://sts.amazonaws.com/doc/2011-06-15/";

/// Form parameters of a request: the body's, then the query string's.
#[derive(Debug, Default)]
pub(crate) struct Params(Vec<(String, String)>);

/// A body or query string that is not `application/x-www-form-urlencoded`.
#[derive(Debug, thiserror::Error)]
#[error("malformed form body: {0}")]
pub(crate) struct MalformedParams(String);

impl Params {
    pub(crate) fn parse(body: &[u8], query: Option<&str>) -> Result<Params, MalformedParams> {
        let mut p: Vec<(String, String)> =
            serde_urlencoded::from_bytes(body).map_err(|e| MalformedParams(e.to_string()))?;
        if let Some(q) = query {
            p.extend(
                serde_urlencoded::from_str::<Vec<(String, String)>>(q).map_err(|e| MalformedParams(e.to_string()))?,
            );
        }
        Ok(Params(p))
    }

    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

/// XML text escaping.
pub(crate) fn xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

fn respond(status: StatusCode, body: String) -> Response {
    let mut r = (status, body).into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/xml"));
    r
}

/// `<{op}Response><{op}Result>{result}</…>` with a request id; `result` is
/// already-escaped XML.
pub(crate) fn success(op: &str, result: &str) -> Response {
    let body = format!(
        "<{op}Response xmlns=\"{NS}\">\n  <{op}Result>\n{result}  </{op}Result>\n  <ResponseMetadata>\n    <RequestId>{}</RequestId>\n  </ResponseMetadata>\n</{op}Response>\n",
        random::request_id()
    );
    respond(StatusCode::OK, body)
}

/// `<ErrorResponse>` with `Type` (Sender for 4xx, Receiver for 5xx), `Code`, `Message`.
pub(crate) fn error(status: StatusCode, code: &str, message: &str) -> Response {
    let kind = if status.is_server_error() { "Receiver" } else { "Sender" };
    let body = format!(
        "<ErrorResponse xmlns=\"{NS}\">\n  <Error>\n    <Type>{kind}</Type>\n    <Code>{}</Code>\n    <Message>{}</Message>\n  </Error>\n  <RequestId>{}</RequestId>\n</ErrorResponse>\n",
        xml(code),
        xml(message),
        random::request_id()
    );
    respond(status, body)
}
