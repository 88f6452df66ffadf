//! The Sign-In service's browser side (`aws login`, docs/signin.md §3): the
//! authorize page where a console user (an IAM user with a console password
//! and MFA device, or an account's root user) signs in, the redirect with a
//! one-time code to the tool's loopback listener, and for `--remote` the
//! confirmation page that shows the code to paste.
//!
//! The request's parameters travel through the form sealed with the
//! server's key, so the form cannot be pointed at another redirect URI; the
//! redirect URI itself is checked before anything is shown (a loopback
//! callback, or this server's confirmation page), so no error is ever sent
//! to an unchecked address (RFC 6749 §4.1.2.1).

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use maud::html;
use serde::Deserialize;

use super::authorize::with_query;
use super::{Page, form, internal};
use crate::Idc;
use crate::domain::console::{self, CROSS_DEVICE, ConsoleError, Login, Request, SAME_DEVICE};

/// How long the sign-in form may stay open.
const REQUEST_SECONDS: i64 = 600;

#[derive(Deserialize)]
pub(crate) struct AuthorizeQuery {
    response_type: Option<String>,
    client_id: Option<String>,
    state: Option<String>,
    code_challenge_method: Option<String>,
    code_challenge: Option<String>,
    scope: Option<String>,
    redirect_uri: Option<String>,
}

fn bad(message: &str) -> Response {
    Page::message(StatusCode::BAD_REQUEST, "Invalid sign-in request", message, "error").into_response()
}

/// This server's own base URL as the browser reached it.
fn own_base(headers: &HeaderMap) -> Option<String> {
    let host = headers.get(header::HOST)?.to_str().ok()?;
    host.bytes().all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b)).then(|| format!("http://{host}"))
}

/// The redirect URIs each client may use: a loopback listener's
/// `/oauth/callback` for `same-device`, this server's confirmation page for
/// `cross-device`.
fn redirect_ok(client_id: &str, redirect_uri: &str, headers: &HeaderMap) -> bool {
    match client_id {
        SAME_DEVICE => redirect_uri
            .strip_prefix("http://127.0.0.1:")
            .and_then(|rest| rest.strip_suffix("/oauth/callback"))
            .is_some_and(|port| port.parse::<u16>().is_ok_and(|p| p > 0)),
        CROSS_DEVICE => own_base(headers).is_some_and(|b| redirect_uri == format!("{b}/v1/sessions/confirmation")),
        _ => false,
    }
}

fn found(location: &str) -> Response {
    match HeaderValue::from_str(location) {
        Ok(v) => {
            let mut r = (StatusCode::FOUND, [(header::LOCATION, v)]).into_response();
            r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            r
        }
        Err(_) => bad("The redirect URI cannot be used."),
    }
}

pub(crate) async fn get(State(idc): State<Idc>, headers: HeaderMap, Query(q): Query<AuthorizeQuery>) -> Response {
    let (Some(client_id), Some(redirect_uri), Some(state)) =
        (q.client_id.as_deref(), q.redirect_uri.as_deref(), q.state.as_deref())
    else {
        return bad("client_id, redirect_uri and state are required.");
    };
    if client_id != SAME_DEVICE && client_id != CROSS_DEVICE {
        return bad("Unknown client: aws login uses arn:aws:signin:::devtools/same-device or cross-device.");
    }
    if !redirect_ok(client_id, redirect_uri, &headers) {
        return bad("The redirect_uri is not allowed for this client.");
    }
    // From here on, errors go back through the checked redirect URI.
    let back = |error: &str, description: &str| {
        found(&with_query(redirect_uri, &[("error", error), ("error_description", description), ("state", state)]))
    };
    if q.response_type.as_deref() != Some("code") {
        return back("unsupported_response_type", "response_type must be code");
    }
    if q.code_challenge_method.as_deref() != Some("SHA-256") {
        return back("invalid_request", "code_challenge_method must be SHA-256");
    }
    if !q.scope.as_deref().is_some_and(|s| s.split(' ').any(|x| x == "openid")) {
        return back("invalid_scope", "scope must include openid");
    }
    let challenge = q.code_challenge.unwrap_or_default();
    if challenge.len() != 43 || !challenge.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
        return back("invalid_request", "code_challenge must be base64url(SHA-256(code_verifier))");
    }
    if state.is_empty() || state.len() > 256 {
        return back("invalid_request", "state must be 1 to 256 characters");
    }
    let core = idc.core();
    let request = Request {
        client_id: client_id.to_string(),
        redirect_uri: redirect_uri.to_string(),
        state: state.to_string(),
        code_challenge: challenge,
        expires_at: core.now() + REQUEST_SECONDS,
    };
    page(&console::seal_request(core, &request), None, Typed::default()).into_response()
}

/// What the form keeps after a failed attempt (never the password).
#[derive(Default)]
struct Typed<'a> {
    account: &'a str,
    user: &'a str,
    email: &'a str,
}

/// The sign-in form: an IAM user, or the root user.
fn page(sealed: &str, error: Option<&str>, typed: Typed<'_>) -> Page {
    let body = html! {
        p { "A developer tool (" code { "aws login" } " or " code { "tobira login" } ") asks to sign in with your AWS console credentials. It will receive credentials that act as you for up to 12 hours." }
        @if let Some(e) = error { p.error id="error" { (e) } }
        h2 { "IAM user" }
        form method="post" action="/v1/authorize" {
            input type="hidden" name="request" value=(sealed);
            input type="hidden" name="kind" value="iam";
            label for="account" { "Account ID (12 digits)" }
            input type="text" id="account" name="account" inputmode="numeric" autocomplete="organization" value=(typed.account);
            label for="user" { "IAM user name" }
            input type="text" id="user" name="user" autocomplete="username" value=(typed.user);
            label for="password" { "Password" }
            input type="password" id="password" name="password" autocomplete="current-password";
            label for="mfa_code" { "MFA code " span.note { "(if the user has an MFA device)" } }
            input type="text" id="mfa_code" name="mfa_code" inputmode="numeric" autocomplete="one-time-code";
            div.row {
                button type="submit" id="signin" { "Sign in" }
            }
        }
        h2 { "Root user" }
        form method="post" action="/v1/authorize" {
            input type="hidden" name="request" value=(sealed);
            input type="hidden" name="kind" value="root";
            label for="email" { "Root user e-mail" }
            input type="text" id="email" name="email" autocomplete="email" value=(typed.email);
            label for="root_password" { "Password" }
            input type="password" id="root_password" name="password" autocomplete="current-password";
            button type="submit" id="root-signin" { "Sign in as root" }
        }
        form method="post" action="/v1/authorize" {
            input type="hidden" name="request" value=(sealed);
            input type="hidden" name="kind" value="deny";
            button.secondary type="submit" id="deny" { "Cancel" }
        }
    };
    Page::new("Sign in to AWS", body)
}

#[derive(Deserialize)]
struct SigninForm {
    request: String,
    kind: String,
    #[serde(default)]
    account: String,
    #[serde(default)]
    user: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    mfa_code: String,
}

pub(crate) async fn post(State(idc): State<Idc>, body: Bytes) -> Response {
    let Some(f) = form::<SigninForm>(&body) else { return bad("The form is incomplete.") };
    let core = idc.core();
    let Some(request) = console::open_request(core, &f.request) else {
        return Page::message(
            StatusCode::BAD_REQUEST,
            "Sign-in expired",
            "This sign-in page has expired or was altered. Run the command again (aws login or tobira login).",
            "error",
        )
        .into_response();
    };
    let login = match f.kind.as_str() {
        "iam" => Login::IamUser {
            account: f.account.trim(),
            name: f.user.trim(),
            password: &f.password,
            mfa_code: Some(f.mfa_code.as_str()),
        },
        "root" => Login::Root { email: f.email.trim(), password: &f.password },
        _ => {
            return found(&with_query(
                &request.redirect_uri,
                &[
                    ("error", "access_denied"),
                    ("error_description", "The user cancelled the sign-in."),
                    ("state", &request.state),
                ],
            ));
        }
    };
    let typed = Typed { account: f.account.trim(), user: f.user.trim(), email: f.email.trim() };
    match console::authenticate(core, login) {
        Ok(who) => match console::issue_code(core, &request, &who) {
            Ok(code) => found(&with_query(&request.redirect_uri, &[("code", &code), ("state", &request.state)])),
            Err(e) => internal(&e.to_string()).into_response(),
        },
        Err(ConsoleError::Store(e)) => internal(&e.to_string()).into_response(),
        Err(ConsoleError::Locked(l)) => {
            let text =
                format!("Too many failed sign-ins. Try again in {} minute(s).", l.minutes_left(core.now()).max(1));
            page(&f.request, Some(&text), typed).status(StatusCode::TOO_MANY_REQUESTS).into_response()
        }
        Err(e) => page(&f.request, Some(&e.to_string()), typed).status(StatusCode::UNAUTHORIZED).into_response(),
    }
}

#[derive(Deserialize)]
pub(crate) struct ConfirmationQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// `--remote`: the code to paste into the tool, `base64("state=…&code=…")`.
pub(crate) async fn confirmation(Query(q): Query<ConfirmationQuery>) -> Response {
    if let Some(e) = q.error {
        return Page::message(StatusCode::OK, "Sign-in cancelled", &format!("Nothing was signed in ({e})."), "error")
            .into_response();
    }
    let (Some(code), Some(state)) = (q.code, q.state) else {
        return bad("This page shows the code of a finished sign-in; it needs code and state.");
    };
    let text = base64::engine::general_purpose::STANDARD.encode(format!("state={state}&code={code}"));
    let body = html! {
        p { "Signed in. Paste this verification code where the tool asks for it:" }
        pre id="verification-code" { (text) }
        p.note { "It works once, within five minutes. Then close this tab." }
    };
    Page::new("Verification code", body).into_response()
}
