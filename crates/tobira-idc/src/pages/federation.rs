//! The console landing page (`/console`): where a spent SigninToken lands
//! (spec/console.md §5). The real console cannot be emulated; this page
//! shows who is signed in (account, assumed-role ARN and role, or the
//! federated user of GetFederationToken credentials), until when, and
//! the Destination the sign-in URL asked for, as text and, for an http(s)
//! URL, as a link the user may follow; it is never followed automatically.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use maud::html;

use super::{Page, cookie};
use crate::Idc;
use crate::domain::federation::{self, COOKIE};

pub(crate) async fn get(State(idc): State<Idc>, headers: HeaderMap) -> Response {
    let Some(grant) = cookie(&headers, COOKIE).and_then(|c| federation::open_session(idc.core(), &c)) else {
        return Page::message(
            StatusCode::UNAUTHORIZED,
            "Not signed in to the console",
            "There is no console session, or it has ended. Sign in again with a new sign-in URL (tobira console).",
            "error",
        )
        .into_response();
    };
    let until = jiff::Timestamp::from_second(grant.expires_at).map(|t| t.to_string()).unwrap_or_default();
    let role = grant.role_arn.as_deref().and_then(|r| r.rsplit_once('/')).map(|(_, n)| n);
    let federated_user = grant.arn.split_once(":federated-user/").map(|(_, n)| n);
    let destination = grant.destination.as_deref().unwrap_or("https://console.aws.amazon.com/");
    let linkable = destination.starts_with("https://") || destination.starts_with("http://");
    let body = html! {
        style { "dl dt{font-weight:600;margin-top:10px}dl dd{margin:2px 0 0;overflow-wrap:anywhere;word-break:break-all}" }
        p id="result" { "You are signed in to the AWS Management Console (emulated by tobira-idc)." }
        dl {
            dt { "Account" } dd id="account" { (grant.account_id) }
            @if let Some(r) = role { dt { "Role" } dd id="role" { (r) } }
            @if let Some(u) = federated_user { dt { "Federated user" } dd id="federated-user" { (u) } }
            dt { "Signed in as" } dd id="arn" { code { (grant.arn) } }
            @if let Some(r) = &grant.role_arn { dt { "Role ARN" } dd id="role-arn" { code { (r) } } }
            dt { "Console session until" } dd id="expires" { (until) }
            dt { "Destination" } dd id="destination" { code { (destination) } }
            @if let Some(i) = &grant.issuer { dt { "Issuer" } dd id="issuer" { code { (i) } } }
        }
        @if linkable {
            p { "The sign-in URL asked to continue to the address above. It was not opened automatically; follow it only if you expected it: " a id="continue" href=(destination) rel="noopener noreferrer" { "continue" } }
        } @else {
            p.error id="not-followed" { "The Destination is not an http(s) URL, so it is not offered as a link." }
        }
    };
    Page::new("AWS Management Console", body).into_response()
}
