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
use crate::domain::directory::{Assignment, DirectoryError};
use crate::domain::sessions::{self, WEB_SESSION_SECONDS};
use crate::domain::{ChangeError, admin, users};

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

/// A one-button form posting hidden fields (and the CSRF token) to `to`.
fn button(to: &str, csrf: &str, fields: &[(&str, &str)], label: &str) -> Markup {
    html! {
        form method="post" action=(to) style="margin:0" {
            input type="hidden" name="csrf" value=(csrf);
            @for (k, v) in fields { input type="hidden" name=(k) value=(v); }
            button type="submit" class="secondary" style="margin:0" { (label) }
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
                html! { a href={ "/admin/users/" (crate::wire::uri_encode(&u.name)) } { (u.name) } }, html! { (u.display_name) }, html! { (u.email) }, html! { (u.groups.join(", ")) },
                html! { (u.mfa.len()) }, html! { @if invited { "invited" } @else { "set" } @if u.disabled { " (disabled)" } },
                html! {
                    div.row {
                        (button("/admin/invite", csrf, &[("user", &u.name)], "Invitation link"))
                        @if u.disabled {
                            (button("/admin/change", csrf, &[("op", "enable-user"), ("user", &u.name)], "Enable"))
                        } @else {
                            (button("/admin/change", csrf, &[("op", "disable-user"), ("user", &u.name)], "Disable"))
                        }
                        @if !u.mfa.is_empty() {
                            (button("/admin/reset-mfa", csrf, &[("user", &u.name)], "Reset MFA"))
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
        (table(&["Group", "Members"], d.groups.iter().map(|g| vec![
            html! { (g.name) },
            html! { (d.users.iter().filter(|u| u.groups.contains(&g.name)).map(|u| u.name.as_str()).collect::<Vec<_>>().join(", ")) },
        ]).collect()))
        form method="post" action="/admin/change" {
            input type="hidden" name="csrf" value=(csrf);
            input type="hidden" name="op" value="add-group";
            label for="group-name" { "New group" }
            input type="text" id="group-name" name="group" autocomplete="off";
            button type="submit" id="add-group" { "Add group" }
        }
        form method="post" action="/admin/change" {
            input type="hidden" name="csrf" value=(csrf);
            label for="member-user" { "User" }
            select id="member-user" name="user" { @for u in &d.users { option value=(u.name) { (u.name) } } }
            label for="member-group" { "Group" }
            select id="member-group" name="group" { @for g in &d.groups { option value=(g.name) { (g.name) } } }
            div.row {
                button type="submit" name="op" value="add-member" id="add-member" { "Add to group" }
                button type="submit" name="op" value="remove-member" class="secondary" id="remove-member" { "Remove from group" }
            }
        }
        h2 { "AWS accounts" }
        (table(&["Id", "Name", "E-mail"], d.accounts.iter().map(|a| vec![html! { (a.id) }, html! { (a.name) }, html! { (a.email) }]).collect()))
        form method="post" action="/admin/change" {
            input type="hidden" name="csrf" value=(csrf);
            input type="hidden" name="op" value="add-account";
            label for="account-id" { "Account id " span.note { "(12 digits)" } }
            input type="text" id="account-id" name="account" inputmode="numeric" autocomplete="off";
            label for="account-name" { "Account name" }
            input type="text" id="account-name" name="name" autocomplete="off";
            label for="account-email" { "Account e-mail" }
            input type="text" id="account-email" name="email" autocomplete="off";
            button type="submit" id="add-account" { "Add account" }
        }
        h2 { "Permission sets" }
        (table(&["Name", "Session duration", "Policies", ""], d.permission_sets.iter().map(|p| {
            vec![html! { (p.name) }, html! { (p.session_hours) " h" },
                html! { (p.policies.join(", ")) @if p.inline_policy.is_some() { " + inline policy" } },
                html! {
                    form.row method="post" action="/admin/session-duration" style="margin:0" {
                        input type="hidden" name="csrf" value=(csrf);
                        input type="hidden" name="permission_set" value=(p.name);
                        input type="number" name="hours" min="1" max="12" value=(p.session_hours) aria-label={ "Session duration of " (p.name) " in hours" } style="width:4em";
                        button type="submit" class="secondary" style="margin:0" { "Set hours" }
                    }
                }]
        }).collect()))
        form method="post" action="/admin/change" {
            input type="hidden" name="csrf" value=(csrf);
            input type="hidden" name="op" value="add-permission-set";
            label for="ps-name" { "New permission set" }
            input type="text" id="ps-name" name="permission_set" autocomplete="off";
            label for="ps-hours" { "Session duration (hours, 1–12)" }
            input type="number" id="ps-hours" name="hours" min="1" max="12" value="1";
            label for="ps-policies" { "AWS managed policies " span.note { "(comma-separated, e.g. ReadOnlyAccess)" } }
            input type="text" id="ps-policies" name="policies" autocomplete="off";
            label for="ps-inline" { "Inline policy " span.note { "(optional IAM policy JSON)" } }
            textarea id="ps-inline" name="inline_policy" rows="4" style="width:100%;font:12px monospace" {}
            button type="submit" id="add-permission-set" { "Add permission set" }
        }
        h2 { "Assignments" }
        (table(&["Principal", "Account", "Permission set", ""], d.assignments.iter().map(|a| {
            vec![html! { (a.principal) }, html! { (a.account) }, html! { (a.permission_set) },
                html! {
                    (button("/admin/change", csrf, &[("op", "unassign"), ("principal", &a.principal), ("account", &a.account), ("permission_set", &a.permission_set)], "Remove"))
                }]
        }).collect()))
        form method="post" action="/admin/change" {
            input type="hidden" name="csrf" value=(csrf);
            input type="hidden" name="op" value="assign";
            label for="assign-principal" { "User or group" }
            select id="assign-principal" name="principal" {
                @for u in &d.users { option value={ "user:" (u.name) } { "user " (u.name) } }
                @for g in &d.groups { option value={ "group:" (g.name) } { "group " (g.name) } }
            }
            label for="assign-account" { "Account" }
            select id="assign-account" name="account" { @for a in &d.accounts { option value=(a.id) { (a.name) " (" (a.id) ")" } } }
            label for="assign-ps" { "Permission set" }
            select id="assign-ps" name="permission_set" { @for p in &d.permission_sets { option value=(p.name) { (p.name) } } }
            button type="submit" id="assign" { "Assign" }
        }
        h2 { "IAM users (STS)" }
        (table(&["Account", "User", "Access keys", "MFA devices", ""], d.iam_users.iter().map(|u| vec![
            html! { (u.account) },
            html! { (u.name) },
            html! {
                @for k in &u.access_keys {
                    div.row { code { (k.id) } (button("/admin/change", csrf, &[("op", "delete-key"), ("account", &u.account), ("user", &u.name), ("key_id", &k.id)], "Delete")) }
                }
            },
            html! {
                @for m in &u.mfa {
                    div.row { code { (u.mfa_serial(m)) } (button("/admin/change", csrf, &[("op", "remove-iam-mfa"), ("account", &u.account), ("user", &u.name), ("device", &m.name)], "Remove")) }
                }
            },
            html! {
                (button("/admin/change", csrf, &[("op", "create-key"), ("account", &u.account), ("user", &u.name)], "Create access key"))
                form.row method="post" action="/admin/change" style="margin:0" {
                    input type="hidden" name="csrf" value=(csrf);
                    input type="hidden" name="op" value="add-iam-mfa";
                    input type="hidden" name="account" value=(u.account);
                    input type="hidden" name="user" value=(u.name);
                    input type="text" name="device" aria-label={ "New MFA device name for " (u.name) } placeholder="device name" style="width:9em";
                    button type="submit" class="secondary" style="margin:0" { "Add MFA device" }
                }
            },
        ]).collect()))
        form method="post" action="/admin/change" {
            input type="hidden" name="csrf" value=(csrf);
            input type="hidden" name="op" value="add-iam-user";
            label for="iam-account" { "Account id" }
            input type="text" id="iam-account" name="account" inputmode="numeric" autocomplete="off";
            label for="iam-user" { "IAM user name" }
            input type="text" id="iam-user" name="user" autocomplete="off";
            button type="submit" id="add-iam-user" { "Add IAM user" }
        }
        h2 { "Roles (STS)" }
        (table(&["Role", "Trusted principals", "MFA", "External id", "Max", ""], d.roles.iter().map(|r| vec![
            html! { (r.arn()) },
            html! { (r.trust.join(", ")) },
            html! { @if r.mfa_required { "required" } @else { "-" } },
            html! { (r.external_id.clone().unwrap_or_default()) },
            html! { (r.max_session_duration / 3600) " h" },
            html! {
                (button("/admin/change", csrf, &[("op", "delete-role"), ("account", &r.account), ("name", &r.name)], "Delete"))
            },
        ]).collect()))
        form method="post" action="/admin/change" {
            input type="hidden" name="csrf" value=(csrf);
            input type="hidden" name="op" value="add-role";
            label for="role-account" { "Account id" }
            input type="text" id="role-account" name="account" inputmode="numeric" autocomplete="off";
            label for="role-name" { "Role name" }
            input type="text" id="role-name" name="name" autocomplete="off";
            label for="role-trust" { "Trusted principals " span.note { "(comma-separated ARNs: arn:aws:iam::ACCOUNT:user/NAME, …:role/NAME, …:root)" } }
            input type="text" id="role-trust" name="trust" autocomplete="off";
            label { input type="checkbox" name="mfa_required" id="role-mfa"; " MFA required" }
            label for="role-hours" { "Maximum session (hours, 1–12)" }
            input type="number" id="role-hours" name="hours" min="1" max="12" value="1";
            label for="role-external-id" { "External id " span.note { "(optional)" } }
            input type="text" id="role-external-id" name="external_id" autocomplete="off";
            button type="submit" id="add-role" { "Add role" }
        }
        h2 { "Active sessions" }
        (table(&["User", "Signed in", "Expires", "Tokens", ""], sessions.iter().map(|s| vec![
            html! { (s.user) }, html! { (ts(s.created_at)) }, html! { (ts(s.expires_at)) }, html! { (s.active_tokens) },
            html! {
                (button("/admin/revoke", csrf, &[("user", &s.user)], &format!("Delete sessions of {}", s.user)))
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
    #[serde(default)]
    op: String,
    #[serde(default)]
    group: String,
    #[serde(default)]
    account: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    policies: String,
    #[serde(default)]
    principal: String,
    #[serde(default)]
    key_id: String,
    #[serde(default)]
    device: String,
    #[serde(default)]
    trust: String,
    #[serde(default)]
    mfa_required: String,
    #[serde(default)]
    external_id: String,
    #[serde(default)]
    inline_policy: String,
}

fn list(text: &str) -> Vec<String> {
    text.split(',').map(str::trim).filter(|x| !x.is_empty()).map(str::to_string).collect()
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
    let groups = list(&f.groups);
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
        Ok(h) => admin::set_session_duration(idc.core(), &f.permission_set, h).map_err(|e| e.to_string()),
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

/// The directory's other changes: disable or enable a user, groups and
/// memberships, accounts, permission sets, assignments. Each says what it
/// did, or why it was refused.
pub(crate) async fn post_change(State(idc): State<Idc>, headers: HeaderMap, body: Bytes) -> Response {
    let (f, csrf) = match checked(&idc, &headers, &body) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let core = idc.core();
    let assignment = || Assignment {
        principal: f.principal.clone(),
        account: f.account.clone(),
        permission_set: f.permission_set.clone(),
    };
    let shown_once = |title: &str, text: String| {
        html! {
            p #notice role="status" { (title) " It is shown only now: copy it." }
            pre #secret-once { (text) }
        }
    };
    let done: Result<Markup, ChangeError> = match f.op.as_str() {
        "add-iam-user" => admin::add_iam_user(core, f.account.trim(), f.user.trim())
            .map(|()| notice(&format!("Added the IAM user {} in account {}.", f.user.trim(), f.account.trim()))),
        "create-key" => admin::create_access_key(core, &f.account, &f.user).map(|(id, secret)| {
            shown_once(
                &format!("New access key for {}.", f.user),
                format!("aws_access_key_id = {id}\naws_secret_access_key = {secret}"),
            )
        }),
        "delete-key" => admin::delete_access_key(core, &f.account, &f.user, &f.key_id)
            .map(|()| notice(&format!("Deleted the access key {} of {}: it stops working now.", f.key_id, f.user))),
        "add-iam-mfa" => admin::add_iam_mfa(core, &f.account, &f.user, f.device.trim()).map(|(serial, secret)| {
            shown_once(
                &format!("New virtual MFA device {serial} for {}: put the secret in an authenticator app.", f.user),
                format!(
                    "mfa_serial = {serial}\nsecret = {secret}\notpauth://totp/{}?secret={secret}&issuer=tobira-idc",
                    crate::wire::uri_encode(&serial)
                ),
            )
        }),
        "remove-iam-mfa" => admin::remove_iam_mfa(core, &f.account, &f.user, &f.device)
            .map(|()| notice(&format!("Removed the MFA device {} of {}.", f.device, f.user))),
        "add-role" => match f.hours.trim().parse::<u32>() {
            Ok(hours) => admin::add_role(
                core,
                admin::NewRole {
                    account: f.account.trim().to_string(),
                    name: f.name.trim().to_string(),
                    trust: list(&f.trust),
                    mfa_required: f.mfa_required == "on",
                    max_session_hours: hours,
                    external_id: Some(f.external_id.trim().to_string()),
                },
            )
            .map(|()| notice(&format!("Added the role arn:aws:iam::{}:role/{}.", f.account.trim(), f.name.trim()))),
            Err(_) => Err(ChangeError::Directory(DirectoryError::Invalid(format!(
                "`{}` is not a whole number of hours",
                f.hours
            )))),
        },
        "delete-role" => admin::delete_role(core, &f.account, &f.name)
            .map(|()| notice(&format!("Deleted the role {} in account {}.", f.name, f.account))),
        "disable-user" => users::set_disabled(core, &f.user, true)
            .map(|n| notice(&format!("Disabled {}: they cannot sign in, and {n} session(s) ended.", f.user))),
        "enable-user" => users::set_disabled(core, &f.user, false).map(|_| notice(&format!("Enabled {}.", f.user))),
        "add-group" => {
            admin::add_group(core, f.group.trim()).map(|()| notice(&format!("Added the group {}.", f.group.trim())))
        }
        "add-member" => admin::set_membership(core, &f.user, &f.group, true)
            .map(|()| notice(&format!("{} is now in {}.", f.user, f.group))),
        "remove-member" => admin::set_membership(core, &f.user, &f.group, false)
            .map(|()| notice(&format!("{} is no longer in {}.", f.user, f.group))),
        "add-account" => admin::add_account(core, f.account.trim(), &f.name, &f.email)
            .map(|()| notice(&format!("Added the account {} ({}).", f.name.trim(), f.account.trim()))),
        "add-permission-set" => match f.hours.trim().parse::<u32>() {
            Ok(h) => admin::add_permission_set(
                core,
                f.permission_set.trim(),
                h,
                list(&f.policies),
                Some(f.inline_policy.clone()),
            )
            .map(|()| notice(&format!("Added the permission set {} ({h} h).", f.permission_set.trim()))),
            Err(_) => Err(ChangeError::Directory(DirectoryError::Invalid(format!(
                "`{}` is not a whole number of hours",
                f.hours
            )))),
        },
        "assign" => admin::set_assignment(core, assignment(), true).map(|()| {
            notice(&format!(
                "Assigned {} to {} in {}: it shows in their portal now.",
                f.permission_set, f.principal, f.account
            ))
        }),
        "unassign" => admin::set_assignment(core, assignment(), false).map(|()| {
            notice(&format!(
                "Removed {} of {} in {}: it is gone from their portal.",
                f.permission_set, f.principal, f.account
            ))
        }),
        other => {
            return Page::message(
                StatusCode::BAD_REQUEST,
                "Unknown change",
                &format!("`{other}` is not a change this page makes."),
                "error",
            )
            .into_response();
        }
    };
    match done {
        Ok(said) => render(&idc, &csrf, Some(said)).into_response(),
        Err(e) => render(&idc, &csrf, Some(html! { p.error #notice role="alert" { (e) } }))
            .status(StatusCode::BAD_REQUEST)
            .into_response(),
    }
}

/// One user: their accounts and roles, groups, MFA devices and active
/// sessions (seed 002: "look at the user's accounts"), with the actions.
pub(crate) async fn get_user(
    State(idc): State<Idc>,
    headers: HeaderMap,
    axum::extract::Path(name): axum::extract::Path<String>,
) -> Response {
    let Some(csrf) = admin_csrf(&idc, &headers) else { return login_page(None).into_response() };
    let model = idc.core().model();
    let Some(u) = model.dir.user(&name) else {
        return Page::message(StatusCode::NOT_FOUND, "No such user", &format!("There is no user `{name}`."), "error")
            .into_response();
    };
    let sessions: Vec<_> = idc.active_sessions().unwrap_or_default().into_iter().filter(|s| s.user == name).collect();
    let entitlements: Vec<_> = model.entitlements(&name).collect();
    let body = html! {
        p { b { (u.name) } " · " (u.display_name) " · " (u.email)
            @if u.disabled { " · " b { "disabled" } }
            @if u.password_hash.is_none() { " · invited (no password yet)" } }
        p { "Groups: " (if u.groups.is_empty() { "none".to_string() } else { u.groups.join(", ") }) ". MFA devices: " (u.mfa.len()) "." }
        h2 { "Accounts and roles" }
        @if entitlements.is_empty() { p { "No AWS accounts are assigned to this user." } }
        (table(&["Account", "Id", "Permission set", "Session duration"], entitlements.iter().map(|(a, p)| vec![
            html! { (a.name) }, html! { (a.id) }, html! { (p.name) }, html! { (p.session_hours) " h" },
        ]).collect()))
        h2 { "Active sessions" }
        @if sessions.is_empty() { p { "No active sessions." } }
        (table(&["Signed in", "Expires", "Tokens"], sessions.iter().map(|s| vec![
            html! { (ts(s.created_at)) }, html! { (ts(s.expires_at)) }, html! { (s.active_tokens) },
        ]).collect()))
        @if !sessions.is_empty() {
            form method="post" action="/admin/revoke" {
                input type="hidden" name="csrf" value=(csrf);
                input type="hidden" name="user" value=(u.name);
                button type="submit" id="delete-sessions" { "Delete sessions of " (u.name) }
            }
        }
        p { a href="/admin" { "Back to the administration" } }
    };
    Page::new(format!("User {}", u.name), body).into_response()
}
