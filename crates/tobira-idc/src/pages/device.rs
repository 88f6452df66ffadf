//! The device-code page (RFC 8628 §3.3): the person types the code shown in
//! their terminal, checks it on the consent page and allows or denies.
//! Wrong codes are throttled per signed-in user and across the server
//! (RFC 8628 §5.1).

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use serde::Deserialize;

use super::{Page, forbidden, form, same, web_user};
use crate::Idc;
use crate::domain::grants::{self, DecideError, Decision, Typist};
use crate::wire::uri_encode;

#[derive(Deserialize)]
pub(crate) struct DeviceQuery {
    user_code: Option<String>,
}

/// `verificationUri`: the code form (pre-filled by `verificationUriComplete`).
pub(crate) async fn get(State(idc): State<Idc>, headers: HeaderMap, Query(q): Query<DeviceQuery>) -> Page {
    let code = q.user_code.unwrap_or_default();
    let here = if code.is_empty() { "/device".to_string() } else { format!("/device?user_code={}", uri_encode(&code)) };
    let Some((user, csrf)) = web_user(&idc, &headers) else {
        return super::signin::page(&here, None, html! { p { "Sign in to authorize the device request." } });
    };
    let body = html! {
        p { "Signed in as " b { (user) } "." }
        p { "Enter the code shown in your terminal." }
        form method="post" action="/device/confirm" {
            input type="hidden" name="csrf" value=(csrf);
            label for="user_code" { "Code" }
            input type="text" id="user_code" name="user_code" value=(code) autocomplete="off";
            button type="submit" id="confirm" { "Confirm and continue" }
        }
    };
    Page::new("Authorize request", body)
}

#[derive(Deserialize)]
struct DeviceForm {
    csrf: String,
    user_code: String,
    #[serde(default)]
    decision: String,
}

/// "Allow <client> to access your data?" with allow and deny buttons.
pub(crate) fn consent(client: &str, detail: Markup, action: &str, hidden: &Markup, csrf: &str) -> Markup {
    html! {
        p { "Allow " b { (client) } " to access your data?" }
        (detail)
        p.note { "It will be able to list your accounts and roles and get credentials for them." }
        div.row {
            form method="post" action=(action) {
                (hidden)
                input type="hidden" name="csrf" value=(csrf);
                input type="hidden" name="decision" value="allow";
                button type="submit" id="allow" { "Allow access" }
            }
            form method="post" action=(action) {
                (hidden)
                input type="hidden" name="csrf" value=(csrf);
                input type="hidden" name="decision" value="deny";
                button type="submit" class="secondary" id="deny" { "Deny" }
            }
        }
    }
}

fn refused(e: &DecideError) -> Response {
    match e {
        DecideError::Locked(_) => Page::message(
            StatusCode::TOO_MANY_REQUESTS,
            "Too many attempts",
            "Too many wrong codes were entered. Wait a few minutes, then start the sign-in again in your terminal.",
            "error",
        )
        .into_response(),
        DecideError::Store(_) | DecideError::Session(_) => {
            super::internal("Cannot record the decision.").into_response()
        }
        _ => Page::message(
            StatusCode::BAD_REQUEST,
            "Code not found",
            "This code is unknown, was already used, or has expired. Start the sign-in again in your terminal.",
            "error",
        )
        .into_response(),
    }
}

pub(crate) async fn post_confirm(State(idc): State<Idc>, headers: HeaderMap, body: Bytes) -> Response {
    let Some((user, csrf)) = web_user(&idc, &headers) else {
        return super::signin::page("/device", None, html! {}).into_response();
    };
    let Some(f) = form::<DeviceForm>(&body).filter(|f| same(&f.csrf, &csrf)) else {
        return forbidden().into_response();
    };
    let client = match grants::pending_device_client(idc.core(), &f.user_code, Typist::User(&user)) {
        Ok(c) => c,
        Err(e) => return refused(&e),
    };
    let code = grants::normalize_user_code(&f.user_code);
    let hidden = html! { input type="hidden" name="user_code" value=(code); };
    let body = consent(
        &client,
        html! {
            p { "Check that this code matches the one in your terminal:" }
            p.code #code { (code) }
        },
        "/device/decision",
        &hidden,
        &csrf,
    );
    Page::new("Authorize request", body).into_response()
}

pub(crate) async fn post_decision(State(idc): State<Idc>, headers: HeaderMap, body: Bytes) -> Response {
    let Some((user, csrf)) = web_user(&idc, &headers) else {
        return super::signin::page("/device", None, html! {}).into_response();
    };
    let Some(f) = form::<DeviceForm>(&body).filter(|f| same(&f.csrf, &csrf)) else {
        return forbidden().into_response();
    };
    let allow = f.decision == "allow";
    let decision = if allow { Decision::Approve { user: &user } } else { Decision::Deny };
    match grants::decide_device(idc.core(), &f.user_code, decision, Typist::User(&user)) {
        Ok(()) if allow => Page::message(
            StatusCode::OK,
            "Request approved",
            "Request approved. You can close this window and return to your terminal.",
            "",
        )
        .into_response(),
        Ok(()) => Page::message(
            StatusCode::OK,
            "Request denied",
            "Request denied. The sign-in in your terminal will stop.",
            "",
        )
        .into_response(),
        Err(e) => refused(&e),
    }
}
