//! The Sign-In federation endpoint (spec/console.md §3–§5):
//! `GET|POST /federation?Action=getSigninToken&Session=<json>` trades the
//! temporary credentials of a role session or of a federated user
//! (GetFederationToken) for a SigninToken (`{"SigninToken": …}`),
//! and `GET /federation?Action=login&SigninToken=…&Destination=…&Issuer=…`
//! spends it, sets the console session cookie and sends the browser to the
//! console landing page (`/console`). Refusals are `400 text/plain` with a
//! short reason, as clients only check for "not 200".

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use crate::Idc;
use crate::domain::federation::{self, COOKIE, FederationError, Session};
use crate::wire::query::Params;

/// The `Session` JSON (any whitespace, any key order).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SessionJson {
    session_id: String,
    session_key: String,
    #[serde(default)]
    session_token: Option<String>,
}

fn bad(reason: &str) -> Response {
    let mut r = (StatusCode::BAD_REQUEST, format!("{reason}\n")).into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

fn refused(e: &FederationError) -> Response {
    match e {
        FederationError::Store(e) => {
            let mut r = (StatusCode::INTERNAL_SERVER_ERROR, format!("internal error: {e}\n")).into_response();
            r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
            r
        }
        e => bad(&e.to_string()),
    }
}

/// `/federation`, both actions, from the query and the form body.
pub(crate) async fn handle(State(idc): State<Idc>, uri: Uri, body: Bytes) -> Response {
    let Ok(p) = Params::parse(&body, uri.query()) else {
        return bad("the request parameters are not application/x-www-form-urlencoded");
    };
    match p.get("Action") {
        Some("getSigninToken") => get_signin_token(&idc, &p),
        Some("login") => login(&idc, &p),
        Some(other) => bad(&format!("unknown Action `{}`; use getSigninToken or login", other.escape_default())),
        None => bad("the Action parameter is missing; use getSigninToken or login"),
    }
}

fn get_signin_token(idc: &Idc, p: &Params) -> Response {
    let Some(session) = p.get("Session") else {
        return bad("the Session parameter is missing");
    };
    let Ok(s) = serde_json::from_str::<SessionJson>(session) else {
        return bad("Session must be JSON with sessionId, sessionKey and sessionToken");
    };
    let duration = match p.get("SessionDuration") {
        None => None,
        Some(d) => match d.trim().parse::<i64>() {
            Ok(d) => Some(d),
            Err(_) => return refused(&FederationError::Duration),
        },
    };
    let session = Session {
        access_key_id: &s.session_id,
        secret_access_key: &s.session_key,
        session_token: s.session_token.as_deref().filter(|t| !t.is_empty()),
    };
    match federation::issue(idc.core(), &session, duration) {
        Ok(token) => {
            let mut r = (StatusCode::OK, json!({ "SigninToken": token }).to_string()).into_response();
            let h = r.headers_mut();
            h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            r
        }
        Err(e) => refused(&e),
    }
}

fn login(idc: &Idc, p: &Params) -> Response {
    let Some(token) = p.get("SigninToken").filter(|t| !t.is_empty()) else {
        return bad("the SigninToken parameter is missing");
    };
    let core = idc.core();
    let mut grant = match federation::redeem(core, token) {
        Ok(g) => g,
        Err(e) => return refused(&e),
    };
    grant.destination = p.get("Destination").filter(|d| !d.is_empty()).map(str::to_string);
    grant.issuer = p.get("Issuer").filter(|d| !d.is_empty()).map(str::to_string);
    let max_age = (grant.expires_at - core.now()).max(1);
    let cookie = format!(
        "{COOKIE}={}; Path=/console; HttpOnly; SameSite=Lax; Max-Age={max_age}",
        federation::seal_session(core, &grant)
    );
    let mut r = StatusCode::FOUND.into_response();
    let h = r.headers_mut();
    h.insert(header::LOCATION, HeaderValue::from_static("/console"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        h.insert(header::SET_COOKIE, v);
    }
    r
}
