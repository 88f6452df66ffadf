//! The administrator's pages (signed in with the admin token): users,
//! groups, accounts, permission sets, assignments, active sessions with
//! revoke, invitation links, and the directory as TOML (its public view:
//! no password hashes).

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use serde::Deserialize;

use super::{Page, cookie, csrf_cookie_ok, forbidden, form, fresh_csrf, same, see_other, set_cookie};
use crate::Idc;
use crate::domain::sessions::{self, WEB_SESSION_SECONDS};

/// The signed-in administrator's CSRF token, if the admin cookie is valid.
fn admin_csrf(idc: &Idc, headers: &HeaderMap) -> Option<String> {
    sessions::admin_csrf(idc.core(), &cookie(headers, "idc_admin")?).ok().flatten()
}

fn login_page(error: Option<&str>) -> Page {
    let (csrf, c) = fresh_csrf();
    let body = html! {
        @if let Some(e) = error { p.error { (e) } }
        p { "Enter the admin token printed when tobira-idc started." }
        form method="post" action="/admin/login" {
            input type="hidden" name="csrf" value=(csrf);
            label for="token" { "Admin token" }
            input type="password" id="token" name="token";
            button type="submit" id="admin-signin" { "Sign in" }
        }
    };
    Page::new("Administration", body).cookie(c)
}

#[derive(Deserialize)]
struct LoginForm {
    csrf: String,
    token: String,
}

pub(crate) async fn post_login(State(idc): State<Idc>, headers: HeaderMap, body: Bytes) -> Response {
    let Some(f) = form::<LoginForm>(&body) else { return forbidden().into_response() };
    if !csrf_cookie_ok(&headers, &f.csrf) {
        return forbidden().into_response();
    }
    if !same(&f.token, idc.admin_token()) {
        return login_page(Some("That is not the admin token.")).status(StatusCode::UNAUTHORIZED).into_response();
    }
    match sessions::start_admin(idc.core()) {
        Ok(s) => see_other(
            "/admin",
            &[set_cookie("idc_admin", &s.cookie, WEB_SESSION_SECONDS), set_cookie("idc_csrf", "", 0)],
        ),
        Err(_) => super::internal("Storage error.").into_response(),
    }
}

fn table(head: &[&str], rows: Vec<Vec<Markup>>) -> Markup {
    html! {
        table {
            tr { @for h in head { th { (h) } } }
            @for r in rows { tr { @for c in r { td { (c) } } } }
        }
    }
}

fn ts(t: i64) -> String {
    jiff::Timestamp::from_second(t).map(|t| t.strftime("%Y-%m-%d %H:%M UTC").to_string()).unwrap_or_default()
}

/// Everything in the directory, the active sessions, and the TOML editor.
pub(crate) async fn get(State(idc): State<Idc>, headers: HeaderMap) -> Page {
    let Some(csrf) = admin_csrf(&idc, &headers) else { return login_page(None) };
    render(&idc, &csrf, None)
}

fn render(idc: &Idc, csrf: &str, notice: Option<Markup>) -> Page {
    let d = idc.directory().public();
    let full = idc.directory();
    let sessions = idc.active_sessions().unwrap_or_default();
    let body = html! {
        @if let Some(n) = notice { (n) }
        h2 { "Users" }
        (table(&["User", "Display name", "E-mail", "Groups", "MFA devices", "Password", ""], d.users.iter().map(|u| {
            let invited = full.user(&u.name).is_none_or(|f| f.password_hash.is_none());
            vec![
                html! { (u.name) }, html! { (u.display_name) }, html! { (u.email) }, html! { (u.groups.join(", ")) },
                html! { (u.mfa.len()) }, html! { @if invited { "invited" } @else { "set" } },
                html! {
                    form method="post" action="/admin/invite" style="margin:0" {
                        input type="hidden" name="csrf" value=(csrf);
                        input type="hidden" name="user" value=(u.name);
                        button type="submit" class="secondary" style="margin:0" { "Invitation link" }
                    }
                },
            ]
        }).collect()))
        h2 { "Groups" }
        (table(&["Group"], d.groups.iter().map(|g| vec![html! { (g.name) }]).collect()))
        h2 { "AWS accounts" }
        (table(&["Id", "Name", "E-mail"], d.accounts.iter().map(|a| vec![html! { (a.id) }, html! { (a.name) }, html! { (a.email) }]).collect()))
        h2 { "Permission sets" }
        (table(&["Name", "Session duration", "Policies"], d.permission_sets.iter().map(|p| {
            vec![html! { (p.name) }, html! { (p.session_hours) " h" }, html! { (p.policies.join(", ")) }]
        }).collect()))
        h2 { "Assignments" }
        (table(&["Principal", "Account", "Permission set"], d.assignments.iter().map(|a| {
            vec![html! { (a.principal) }, html! { (a.account) }, html! { (a.permission_set) }]
        }).collect()))
        h2 { "Active sessions" }
        (table(&["User", "Signed in", "Expires", "Tokens", ""], sessions.iter().map(|s| vec![
            html! { (s.user) }, html! { (ts(s.created_at)) }, html! { (ts(s.expires_at)) }, html! { (s.active_tokens) },
            html! {
                form method="post" action="/admin/revoke" style="margin:0" {
                    input type="hidden" name="csrf" value=(csrf);
                    input type="hidden" name="user" value=(s.user);
                    button type="submit" class="secondary" style="margin:0" { "Delete sessions of " (s.user) }
                }
            },
        ]).collect()))
        h2 { "Directory (TOML)" }
        form method="post" action="/admin/directory" {
            input type="hidden" name="csrf" value=(csrf);
            textarea name="toml" id="directory" rows="18" style="width:100%;font:12px monospace" { (d.to_public_toml()) }
            button type="submit" id="save-directory" { "Save directory" }
        }
    };
    Page::new("Administration", body)
}

#[derive(Deserialize)]
struct AdminForm {
    csrf: String,
    #[serde(default)]
    user: String,
    #[serde(default)]
    toml: String,
}

fn checked(idc: &Idc, headers: &HeaderMap, body: &Bytes) -> Result<(AdminForm, String), Response> {
    let Some(csrf) = admin_csrf(idc, headers) else { return Err(login_page(None).into_response()) };
    match form::<AdminForm>(body).filter(|f| same(&f.csrf, &csrf)) {
        Some(f) => Ok((f, csrf)),
        None => Err(forbidden().into_response()),
    }
}

pub(crate) async fn post_revoke(State(idc): State<Idc>, headers: HeaderMap, body: Bytes) -> Response {
    let (f, _) = match checked(&idc, &headers, &body) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let _ = idc.revoke_user_sessions(&f.user);
    see_other("/admin", &[])
}

pub(crate) async fn post_invite(State(idc): State<Idc>, headers: HeaderMap, body: Bytes) -> Response {
    let (f, csrf) = match checked(&idc, &headers, &body) {
        Ok(x) => x,
        Err(r) => return r,
    };
    match idc.invite(&f.user) {
        Ok(link) => render(
            &idc,
            &csrf,
            Some(html! {
                p { "Invitation link for " b { (link.user) } " (one use, valid 7 days). Hand it over; it lets them set a password:" }
                pre #invitation { (link.url) }
            }),
        )
        .into_response(),
        Err(e) => Page::message(StatusCode::BAD_REQUEST, "No invitation", &e.to_string(), "error").into_response(),
    }
}

pub(crate) async fn post_directory(State(idc): State<Idc>, headers: HeaderMap, body: Bytes) -> Response {
    let (f, _) = match checked(&idc, &headers, &body) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let result = idc.apply_edited_toml(&f.toml);
    match result {
        Ok(()) => see_other("/admin", &[]),
        Err(e) => Page::new("Directory not saved", html! { p.error { (e) } p { a href="/admin" { "Back" } } })
            .status(StatusCode::BAD_REQUEST)
            .into_response(),
    }
}
