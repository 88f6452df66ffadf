//! The access portal (the start URL's page): the user's accounts and roles,
//! the start URL and region for `tobira configure sso`, and "Command line or
//! programmatic access" with fresh SSO role credentials in the real
//! portal's forms.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use maud::html;
use serde::Deserialize;

use super::{Page, portal_path, web_user};
use crate::Idc;
use crate::domain::{credentials, sessions};

pub(crate) async fn get(State(idc): State<Idc>, headers: HeaderMap) -> Page {
    let here = portal_path(&idc);
    let Some((user, csrf)) = web_user(&idc, &headers) else { return super::signin::page(&here, None, html! {}) };
    let model = idc.core().model();
    let instance = &model.dir.instance;
    let entitlements: Vec<_> = model.entitlements(&user).collect();
    let body = html! {
        p { "Signed in as " b { (user) } "." }
        p.note {
            "For " code { "tobira configure sso" } ": SSO start URL " code #start-url { (instance.start_url) }
            ", SSO region " code #sso-region { (instance.region) }
        }
        @if entitlements.is_empty() { p { "No AWS accounts are assigned to you yet." } }
        @for (i, (account, _)) in entitlements.iter().enumerate() {
            @if i == 0 || entitlements[i - 1].0.id != account.id {
                h2 { (account.name) " " span.note { (account.id) " · " (account.email) } }
                ul {
                    @for (a, ps) in entitlements.iter().filter(|(a, _)| a.id == account.id) {
                        li {
                            (ps.name) " — "
                            a.creds href=(format!("{here}/credentials?account={}&role={}", a.id, crate::wire::uri_encode(&ps.name))) {
                                "Command line or programmatic access"
                            }
                        }
                    }
                }
            }
        }
        form method="post" action="/signout" {
            input type="hidden" name="csrf" value=(csrf);
            button type="submit" class="secondary" { "Sign out" }
        }
    };
    Page::new("AWS access portal", body)
}

#[derive(Deserialize)]
pub(crate) struct CredentialsQuery {
    account: String,
    role: String,
}

/// "Command line or programmatic access": fresh temporary credentials in the
/// three forms of the real portal's tabs, and a credentials-file block.
pub(crate) async fn get_credentials(
    State(idc): State<Idc>,
    headers: HeaderMap,
    Query(q): Query<CredentialsQuery>,
) -> Page {
    let here = portal_path(&idc);
    let Some((user, _)) = web_user(&idc, &headers) else { return super::signin::page(&here, None, html! {}) };
    let core = idc.core();
    let model = core.model();
    let Some(entitlement) = model.entitlement(&user, &q.account, &q.role) else {
        return Page::message(StatusCode::FORBIDDEN, "No access", "This role is not assigned to you.", "error");
    };
    // Tied to a sign-in session, so revoking the user's sessions ends them.
    let Ok(session) = sessions::create(core, &user) else { return super::internal("Cannot start a session.") };
    let c = credentials::sso_role(core, &user, &session, entitlement);
    let (account, ps) = (entitlement.account, entitlement.permission_set);
    let (k, s, t) = (&c.access_key_id, &c.secret_access_key, &c.session_token);
    let instance = &model.dir.instance;
    let block = |id: &str, title: &str, text: String| html! { h2 { (title) } pre id=(id) { (text) } };
    let body = html! {
        p { (account.name) " (" (account.id) ") · " b { (ps.name) } ". These credentials last " (ps.session_hours) " hour(s)." }
        (block("unix", "macOS and Linux", format!("export AWS_ACCESS_KEY_ID=\"{k}\"\nexport AWS_SECRET_ACCESS_KEY=\"{s}\"\nexport AWS_SESSION_TOKEN=\"{t}\"")))
        (block("windows", "Windows", format!("SET AWS_ACCESS_KEY_ID={k}\nSET AWS_SECRET_ACCESS_KEY={s}\nSET AWS_SESSION_TOKEN={t}")))
        (block("powershell", "PowerShell", format!("$Env:AWS_ACCESS_KEY_ID=\"{k}\"\n$Env:AWS_SECRET_ACCESS_KEY=\"{s}\"\n$Env:AWS_SESSION_TOKEN=\"{t}\"")))
        (block("credentials-file", "~/.aws/credentials", format!("[{}_{}]\naws_access_key_id={k}\naws_secret_access_key={s}\naws_session_token={t}", account.id, ps.name)))
        p.note {
            "Or let tobira keep them fresh: "
            code { "tobira configure sso --start-url " (instance.start_url) " --sso-region " (instance.region) }
        }
        p { a href=(here) { "Back to the accounts" } }
    };
    Page::new("Command line or programmatic access", body)
}
