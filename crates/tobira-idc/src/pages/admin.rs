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
use crate::domain::users;

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
                    div.row {
                        form method="post" action="/admin/invite" style="margin:0" {
                            input type="hidden" name="csrf" value=(csrf);
                            input type="hidden" name="user" value=(u.name);
                            button type="submit" class="secondary" style="margin:0" { "Invitation link" }
                        }
                        @if !u.mfa.is_empty() {
                            form method="post" action="/admin/reset-mfa" style="margin:0" {
                                input type="hidden" name="csrf" value=(csrf);
                                input type="hidden" name="user" value=(u.name);
                                button type="submit" class="secondary" style="margin:0" { "Reset MFA" }
                            }
                        }
                    }
                },
            ]
        }).collect()))
        h2 { "Add a user" }
        form method="post" action="/admin/users" {
            input type="hidden" name="csrf" value=(csrf);
            label for="new-user" { "User name" }
            input type="text" id="new-user" name="user" autocomplete="off";
            label for="new-display-name" { "Display name" }
            input type="text" id="new-display-name" name="display_name" autocomplete="off";
            label for="new-email" { "E-mail" }
            input type="text" id="new-email" name="email" autocomplete="off";
            label for="new-groups" { "Groups " span.note { "(comma-separated: " (d.groups.iter().map(|g| g.name.as_str()).collect::<Vec<_>>().join(", ")) ")" } }
            input type="text" id="new-groups" name="groups" autocomplete="off";
            button type="submit" id="add-user" { "Add user and create an invitation link" }
        }
        h2 { "Groups" }
        (table(&["Group"], d.groups.iter().map(|g| vec![html! { (g.name) }]).collect()))
        h2 { "AWS accounts" }
        (table(&["Id", "Name", "E-mail"], d.accounts.iter().map(|a| vec![html! { (a.id) }, html! { (a.name) }, html! { (a.email) }]).collect()))
        h2 { "Permission sets" }
        (table(&["Name", "Session duration", "Policies", ""], d.permission_sets.iter().map(|p| {
            vec![html! { (p.name) }, html! { (p.session_hours) " h" }, html! { (p.policies.join(", ")) },
                html! {
                    form.row method="post" action="/admin/session-duration" style="margin:0" {
                        input type="hidden" name="csrf" value=(csrf);
                        input type="hidden" name="permission_set" value=(p.name);
                        input type="number" name="hours" min="1" max="12" value=(p.session_hours) aria-label={ "Session duration of " (p.name) " in hours" } style="width:4em";
                        button type="submit" class="secondary" style="margin:0" { "Set hours" }
                    }
                }]
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
    /// Set on the confirmation page of a destructive action.
    #[serde(default)]
    confirm: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    groups: String,
    #[serde(default)]
    permission_set: String,
    #[serde(default)]
    hours: String,
}

fn notice(text: &str) -> Markup {
    html! { p.note #notice role="status" { (text) } }
}

/// "Are you sure?" for a destructive action: the same form again with `confirm`.
fn confirmation(title: &str, question: &str, action: &str, user: &str, csrf: &str) -> Response {
    let body = html! {
        p { (question) }
        div.row {
            form method="post" action=(action) {
                input type="hidden" name="csrf" value=(csrf);
                input type="hidden" name="user" value=(user);
                input type="hidden" name="confirm" value="yes";
                button type="submit" id="confirm" { (title) }
            }
            form method="get" action="/admin" { button type="submit" class="secondary" id="cancel" { "Cancel" } }
        }
    };
    Page::new(title, body).into_response()
}

fn checked(idc: &Idc, headers: &HeaderMap, body: &Bytes) -> Result<(AdminForm, String), Response> {
    let Some(csrf) = admin_csrf(idc, headers) else { return Err(login_page(None).into_response()) };
    match form::<AdminForm>(body).filter(|f| same(&f.csrf, &csrf)) {
        Some(f) => Ok((f, csrf)),
        None => Err(forbidden().into_response()),
    }
}

/// Delete a user's active sessions (seed 004), after a confirmation; says
/// what was ended.
pub(crate) async fn post_revoke(State(idc): State<Idc>, headers: HeaderMap, body: Bytes) -> Response {
    let (f, csrf) = match checked(&idc, &headers, &body) {
        Ok(x) => x,
        Err(r) => return r,
    };
    if f.confirm != "yes" {
        let n = idc.active_sessions().unwrap_or_default().iter().filter(|s| s.user == f.user).count();
        return confirmation(
            "Delete sessions",
            &format!(
                "End {n} active session(s) of {}? Their sign-ins, tokens and the credentials issued from them stop working at once; the AWS CLI and tobira will ask them to sign in again.",
                f.user
            ),
            "/admin/revoke",
            &f.user,
            &csrf,
        );
    }
    match idc.revoke_user_sessions(&f.user) {
        Ok(n) => render(
            &idc,
            &csrf,
            Some(notice(&format!(
                "Ended {n} active session(s) of {}: their tokens and the credentials issued from them stopped working.",
                f.user
            ))),
        )
        .into_response(),
        Err(e) => super::internal(&e.to_string()).into_response(),
    }
}

/// Remove a user's MFA devices (a lost phone), after a confirmation.
pub(crate) async fn post_reset_mfa(State(idc): State<Idc>, headers: HeaderMap, body: Bytes) -> Response {
    let (f, csrf) = match checked(&idc, &headers, &body) {
        Ok(x) => x,
        Err(r) => return r,
    };
    if f.confirm != "yes" {
        return confirmation(
            "Reset MFA",
            &format!(
                "Remove every MFA device of {}? Their sessions end; at the next sign-in they set up a new device.",
                f.user
            ),
            "/admin/reset-mfa",
            &f.user,
            &csrf,
        );
    }
    match users::reset_mfa(idc.core(), &f.user) {
        Ok(n) => render(&idc, &csrf, Some(notice(&format!(
            "Removed the MFA devices of {} and ended {n} session(s); they set up a new device at their next sign-in.",
            f.user
        ))))
        .into_response(),
        Err(e) => Page::message(StatusCode::BAD_REQUEST, "MFA not reset", &e.to_string(), "error").into_response(),
    }
}

/// Add a user (seed 002): no password yet, an invitation link to hand over.
pub(crate) async fn post_user(State(idc): State<Idc>, headers: HeaderMap, body: Bytes) -> Response {
    let (f, csrf) = match checked(&idc, &headers, &body) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let groups = f.groups.split(',').map(str::trim).filter(|g| !g.is_empty()).map(str::to_string).collect();
    let new = users::NewUser { name: f.user, display_name: f.display_name, email: f.email, groups };
    match users::add(idc.core(), new) {
        Ok(i) => {
            let url = format!("{}/invite/{}", idc.base_url(), i.token);
            render(
                &idc,
                &csrf,
                Some(html! {
                    p #notice role="status" { "Added " b { (i.user) } ". Hand over this invitation link (one use, valid 7 days); it lets them set a password:" }
                    pre #invitation { (url) }
                }),
            )
            .into_response()
        }
        Err(e) => render(&idc, &csrf, Some(html! { p.error #notice role="alert" { (e) } }))
            .status(StatusCode::BAD_REQUEST)
            .into_response(),
    }
}

/// Set a permission set's session duration, 1 to 12 hours (seed 002: 1 h → 8 h).
pub(crate) async fn post_session_duration(State(idc): State<Idc>, headers: HeaderMap, body: Bytes) -> Response {
    let (f, csrf) = match checked(&idc, &headers, &body) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let result = match f.hours.trim().parse::<u32>() {
        Ok(h) => idc.core().set_session_duration(&f.permission_set, h).map_err(|e| e.to_string()),
        Err(_) => Err(format!("`{}` is not a whole number of hours", f.hours)),
    };
    match result {
        Ok(()) => render(
            &idc,
            &csrf,
            Some(notice(&format!(
                "{} now lasts {} hour(s): credentials issued from now on last that long.",
                f.permission_set,
                f.hours.trim()
            ))),
        )
        .into_response(),
        Err(e) => render(&idc, &csrf, Some(html! { p.error #notice role="alert" { (e) } }))
            .status(StatusCode::BAD_REQUEST)
            .into_response(),
    }
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
