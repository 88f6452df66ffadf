//! The browser side of the authorization-code flow with PKCE
//! (docs/wire.md §2.5, RFC 6749 §4.1, RFC 7636): `GET /authorize` checks the
//! client and redirect URI (errors before that point are pages, never
//! redirects: RFC 6749 §4.1.2.1), then asks the person to sign in and
//! consent; once approved — on the page, headless with `tobira-idc approve`,
//! or at once with `--auto-approve` — the browser is sent back with a code.

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use maud::html;
use serde::Deserialize;

use super::{Page, forbidden, form, see_other, web_user};
use crate::Idc;
use crate::domain::clients;
use crate::domain::grants::{self, AuthorizeRequest, Decision};
use crate::domain::store::GrantStatus;
use crate::wire::uri_encode;

#[derive(Deserialize)]
pub(crate) struct AuthorizeQuery {
    response_type: Option<String>,
    client_id: Option<String>,
    redirect_uri: Option<String>,
    state: Option<String>,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
    scopes: Option<String>,
}

fn bad(message: &str) -> Response {
    Page::message(StatusCode::BAD_REQUEST, "Invalid authorization request", message, "error").into_response()
}

pub(crate) fn with_query(uri: &str, pairs: &[(&str, &str)]) -> String {
    let sep = if uri.contains('?') { '&' } else { '?' };
    let q: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={}", uri_encode(v))).collect();
    format!("{uri}{sep}{}", q.join("&"))
}

pub(crate) async fn get(
    State(idc): State<Idc>,
    headers: HeaderMap,
    uri: Uri,
    Query(q): Query<AuthorizeQuery>,
) -> Response {
    let (Some(client_id), Some(redirect_uri), Some(state), Some(challenge)) =
        (q.client_id.as_deref(), q.redirect_uri.as_deref(), q.state.as_deref(), q.code_challenge.as_deref())
    else {
        return bad("client_id, redirect_uri, state and code_challenge are required.");
    };
    let core = idc.core();
    let Ok(Some(client)) = clients::find(core, client_id) else { return bad("Unknown client.") };
    if !client.grant_types.iter().any(|g| g == "authorization_code") {
        return bad("This client is not registered for the authorization code grant.");
    }
    if !clients::redirect_registered(&client, redirect_uri) {
        return bad("The redirect_uri is not registered for this client.");
    }
    // From here on, errors go back to the client through the redirect.
    // 302 Found, as the real service answers.
    let back = |pairs: &[(&str, &str)]| match HeaderValue::from_str(&with_query(redirect_uri, pairs)) {
        Ok(v) => (StatusCode::FOUND, [(header::LOCATION, v)]).into_response(),
        Err(_) => bad("The redirect URI cannot be used."),
    };
    if q.response_type.as_deref() != Some("code") {
        return back(&[("error", "unsupported_response_type"), ("state", state)]);
    }
    if q.code_challenge_method.as_deref() != Some("S256") {
        return back(&[
            ("error", "invalid_request"),
            ("error_description", "code_challenge_method must be S256"),
            ("state", state),
        ]);
    }
    let scopes = q.scopes.as_deref().unwrap_or("sso:account:access");
    let request = AuthorizeRequest { client: &client, redirect_uri, state, code_challenge: challenge, scopes };
    let a = match grants::authorization(core, &request, idc.settings().auto_approve.as_deref()) {
        Ok(a) => a,
        Err(e) => return super::internal(&e.to_string()).into_response(),
    };
    match a.status {
        GrantStatus::Approved => match grants::issue_code(core, &a) {
            Ok(Some(code)) => back(&[("code", &code), ("state", state)]),
            _ => super::internal("Could not record the authorization code.").into_response(),
        },
        GrantStatus::Denied => {
            back(&[("error", "access_denied"), ("error_description", "The request was denied"), ("state", state)])
        }
        GrantStatus::Consumed => Page::message(
            StatusCode::BAD_REQUEST,
            "Already used",
            "This authorization request was already completed; start the login again.",
            "error",
        )
        .into_response(),
        GrantStatus::Pending => {
            // A person: sign in, then the consent page. Headless: approve the
            // request id with `tobira-idc approve --request ID --user NAME`.
            let here = uri.path_and_query().map_or("/authorize".to_string(), |pq| pq.as_str().to_string());
            match web_user(&idc, &headers) {
                Some((_, csrf)) => consent(&client.name, &a.request_id, &here, &csrf).into_response(),
                None => super::signin::page(
                    &here,
                    None,
                    html! {
                        p.note {
                            "Authorization request " code #request-id { (a.request_id) } ". Without a browser: "
                            code { "tobira-idc approve --request " (a.request_id) " --user NAME" } "."
                        }
                    },
                )
                .into_response(),
            }
        }
    }
}

/// The consent page for a pending `/authorize` request.
fn consent(client_name: &str, request_id: &str, back: &str, csrf: &str) -> Page {
    let hidden = html! {
        input type="hidden" name="request" value=(request_id);
        input type="hidden" name="back" value=(back);
    };
    let body = super::device::consent(
        client_name,
        html! { p.note { "Request " code #request-id { (request_id) } } },
        "/authorize/decision",
        &hidden,
        csrf,
    );
    Page::new("Authorize request", body)
}

#[derive(Deserialize)]
struct DecisionForm {
    csrf: String,
    request: String,
    back: String,
    decision: String,
}

pub(crate) async fn post_decision(State(idc): State<Idc>, headers: HeaderMap, body: Bytes) -> Response {
    let Some((user, csrf)) = web_user(&idc, &headers) else {
        return super::signin::page("/device", None, html! {}).into_response();
    };
    let Some(f) = form::<DecisionForm>(&body).filter(|f| super::same(&f.csrf, &csrf)) else {
        return forbidden().into_response();
    };
    let decision = if f.decision == "allow" { Decision::Approve { user: &user } } else { Decision::Deny };
    match grants::decide_authorization(idc.core(), &f.request, decision) {
        // Back to /authorize, which now redirects to the client.
        Ok(()) if f.back.starts_with("/authorize?") && f.back.bytes().all(|b| (0x21..=0x7e).contains(&b)) => {
            see_other(&f.back, &[])
        }
        Ok(()) => Page::message(StatusCode::OK, "Done", "You can close this window.", "").into_response(),
        Err(e) => Page::message(StatusCode::BAD_REQUEST, "Request not found", &e.to_string(), "error").into_response(),
    }
}
