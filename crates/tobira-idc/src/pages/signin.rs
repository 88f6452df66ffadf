//! Signing in: the sign-in form (password, then a TOTP code when the user
//! has a device), MFA enrolment when the instance requires MFA and the user
//! has none, the invitation link with which a new user sets a password, and
//! signing out. Wrong passwords and codes count against the user
//! (`domain::throttle`), so guessing is locked out.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use maud::{Markup, PreEscaped, html};
use serde::Deserialize;

use super::{
    Page, cookie, csrf_cookie_ok, forbidden, form, fresh_csrf, internal, safe_next, same, see_other, set_cookie,
    web_user,
};
use crate::Idc;
use crate::domain::directory::MfaDevice;
use crate::domain::mfa::{self, Device, MfaError};
use crate::domain::sessions::{self, WEB_SESSION_SECONDS};
use crate::domain::store::EnrolmentRow;
use crate::domain::users::{self, SigninError};
use crate::domain::{random, secret, totp};
use crate::wire::uri_encode;

const TOO_MANY: &str = "Too many failed sign-ins. Wait a few minutes, then try again.";

fn error_line(error: Option<&str>) -> Markup {
    html! { @if let Some(e) = error { p.error { (e) } } }
}

/// The sign-in form. `extra` is shown above it (e.g. a pending request id).
pub(crate) fn page(next: &str, error: Option<&str>, extra: Markup) -> Page {
    let (csrf, c) = fresh_csrf();
    let body = html! {
        (extra)
        (error_line(error))
        form method="post" action="/signin" {
            input type="hidden" name="csrf" value=(csrf);
            input type="hidden" name="next" value=(next);
            label for="username" { "Username" }
            input type="text" id="username" name="username" autocomplete="username" autofocus;
            label for="password" { "Password" }
            input type="password" id="password" name="password" autocomplete="current-password";
            label for="mfa_code" { "MFA code " span.note { "(if your account has an authenticator app)" } }
            input type="text" id="mfa_code" name="mfa_code" inputmode="numeric" autocomplete="one-time-code";
            button type="submit" id="signin" { "Sign in" }
        }
    };
    Page::new("Sign in", body).cookie(c)
}

#[derive(Deserialize)]
pub(crate) struct NextQuery {
    next: Option<String>,
}

pub(crate) async fn get(State(idc): State<Idc>, Query(q): Query<NextQuery>) -> Page {
    page(safe_next(&idc, q.next.as_deref().unwrap_or("/device")), None, html! {})
}

#[derive(Deserialize)]
struct SigninForm {
    csrf: String,
    next: String,
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    mfa_code: String,
}

pub(crate) async fn post(State(idc): State<Idc>, headers: HeaderMap, body: Bytes) -> Response {
    let Some(f) = form::<SigninForm>(&body) else { return forbidden().into_response() };
    if !csrf_cookie_ok(&headers, &f.csrf) {
        return forbidden().into_response();
    }
    let core = idc.core();
    let next = safe_next(&idc, &f.next).to_string();
    let user = f.username.trim().to_string();
    match users::check_password(core, &user, &f.password) {
        Ok(()) => {}
        Err(SigninError::Locked(_)) => {
            return page(&next, Some(TOO_MANY), html! {}).status(StatusCode::TOO_MANY_REQUESTS).into_response();
        }
        Err(e @ (SigninError::Wrong | SigninError::Disabled)) => {
            return page(&next, Some(&e.to_string()), html! {}).into_response();
        }
    }
    let model = core.model();
    let Some(u) = model.dir.user(&user) else {
        return page(&next, Some(&SigninError::Wrong.to_string()), html! {}).into_response();
    };
    // MFA: a code from one of the user's devices, each time step once.
    if !u.mfa.is_empty() {
        let keys: Vec<String> = u.mfa.iter().map(|d| format!("user:{}:{}", u.name, d.name)).collect();
        let devices: Vec<Device<'_>> =
            u.mfa.iter().zip(&keys).map(|(d, key)| Device { key, secret: &d.secret }).collect();
        match mfa::verify(core, &format!("user:{}", u.name), &devices, &f.mfa_code) {
            Ok(()) => {}
            Err(MfaError::Wrong) => {
                users::failed_signin(core, &user);
                return page(
                    &next,
                    Some("The MFA code is not correct (or was already used). Enter the current code from your authenticator app."),
                    html! {},
                )
                .into_response();
            }
            Err(MfaError::Locked(_)) => {
                return page(&next, Some(TOO_MANY), html! {}).status(StatusCode::TOO_MANY_REQUESTS).into_response();
            }
            Err(MfaError::Store(_)) => return internal("Storage error.").into_response(),
        }
    } else if model.dir.instance.mfa_required {
        return enrolment_page(&idc, &u.name, &next, None).into_response();
    }
    start_web_session(&idc, &user, &next)
}

fn start_web_session(idc: &Idc, user: &str, next: &str) -> Response {
    match sessions::start_web(idc.core(), user) {
        Ok(s) => {
            see_other(next, &[set_cookie("idc_session", &s.cookie, WEB_SESSION_SECONDS), set_cookie("idc_csrf", "", 0)])
        }
        Err(_) => internal("Storage error: cannot sign in.").into_response(),
    }
}

/// MFA is required and the user has no device: show a new secret as a QR
/// code (and as text) and ask for a code from it.
fn enrolment_page(idc: &Idc, user: &str, next: &str, error: Option<&str>) -> Page {
    let secret_b32 = totp::encode_secret(&random::bytes(20));
    let token = random::token(24);
    let core = idc.core();
    let row = EnrolmentRow { user: user.to_string(), secret: secret_b32.clone(), next: next.to_string() };
    if core.store.insert_enrolment(&secret::digest(&token), &row, core.now() + 900).is_err() {
        return internal("Storage error.");
    }
    let uri = format!("otpauth://totp/tobira-idc:{}?secret={secret_b32}&issuer=tobira-idc", uri_encode(user));
    let qr = qrcode::QrCode::new(uri.as_bytes())
        .map(|q| q.render::<qrcode::render::svg::Color>().min_dimensions(200, 200).build())
        .unwrap_or_default();
    // The encoder's SVG holds no user-controlled text; its XML prolog is dropped.
    let qr = qr.find("<svg").map_or(String::new(), |i| qr[i..].to_string());
    let (csrf, c) = fresh_csrf();
    let body = html! {
        (error_line(error))
        p { "This instance requires multi-factor authentication. Scan the code with an authenticator app, then enter the code it shows." }
        div #qr style="text-align:center" { (PreEscaped(qr)) }
        p.note { "Or enter the key by hand: " code #secret { (secret_b32) } br; span #otpauth { (uri) } }
        form method="post" action="/signin/enrol" {
            input type="hidden" name="csrf" value=(csrf);
            input type="hidden" name="token" value=(token);
            label for="mfa_code" { "Code from the app" }
            input type="text" id="mfa_code" name="mfa_code" inputmode="numeric" autocomplete="one-time-code";
            button type="submit" id="enrol" { "Confirm device" }
        }
    };
    Page::new("Set up an MFA device", body).cookie(c)
}

#[derive(Deserialize)]
struct EnrolForm {
    csrf: String,
    token: String,
    mfa_code: String,
}

pub(crate) async fn post_enrol(State(idc): State<Idc>, headers: HeaderMap, body: Bytes) -> Response {
    let Some(f) = form::<EnrolForm>(&body) else { return forbidden().into_response() };
    if !csrf_cookie_ok(&headers, &f.csrf) {
        return forbidden().into_response();
    }
    let core = idc.core();
    let Ok(Some(e)) = core.store.take_enrolment(&secret::digest(&f.token), core.now()) else {
        return page("/device", Some("The enrolment expired. Sign in again."), html! {}).into_response();
    };
    if users::signin_allowed(core, &e.user).is_err() {
        return page(&e.next, Some(TOO_MANY), html! {}).status(StatusCode::TOO_MANY_REQUESTS).into_response();
    }
    let device = "authenticator".to_string();
    let step = totp::decode_secret(&e.secret).and_then(|s| totp::matching_step(&s, f.mfa_code.trim(), core.now()));
    let Some(step) = step else {
        users::failed_signin(core, &e.user);
        return enrolment_page(
            &idc,
            &e.user,
            &e.next,
            Some("That code does not match. Scan the new code below and try again."),
        )
        .into_response();
    };
    let _ = core.store.use_totp_step(&format!("user:{}:{device}", e.user), step);
    if users::add_mfa_device(core, &e.user, MfaDevice { name: device, secret: e.secret }).is_err() {
        return internal("Cannot save the device.").into_response();
    }
    start_web_session(&idc, &e.user, &e.next)
}

fn invitation_gone() -> Response {
    Page::message(
        StatusCode::GONE,
        "Invitation not valid",
        "This invitation was already used or has expired. Ask your administrator for a new link.",
        "error",
    )
    .into_response()
}

fn invitation_form(user: &str, token: &str, error: Option<&str>) -> Page {
    let (csrf, c) = fresh_csrf();
    let body = html! {
        (error_line(error))
        p { "Welcome, " (user) ". Choose a password to finish setting up your account." }
        form method="post" action="/invite" {
            input type="hidden" name="csrf" value=(csrf);
            input type="hidden" name="token" value=(token);
            label for="new_password" { "New password" }
            input type="password" id="new_password" name="new_password" autocomplete="new-password";
            label for="confirm_password" { "Confirm password" }
            input type="password" id="confirm_password" name="confirm_password" autocomplete="new-password";
            button type="submit" id="set-password" { "Set password and sign in" }
        }
    };
    Page::new("Set your password", body).cookie(c)
}

fn display_name(idc: &Idc, user: &str) -> String {
    idc.core()
        .model()
        .dir
        .user(user)
        .map(|u| if u.display_name.is_empty() { u.name.clone() } else { u.display_name.clone() })
        .unwrap_or_else(|| user.to_string())
}

/// The link from an invitation: the set-password form.
pub(crate) async fn get_invite(State(idc): State<Idc>, Path(token): Path<String>) -> Response {
    match users::invitation_user(idc.core(), &token) {
        Ok(Some(user)) => invitation_form(&display_name(&idc, &user), &token, None).into_response(),
        _ => invitation_gone(),
    }
}

#[derive(Deserialize)]
struct InviteForm {
    csrf: String,
    token: String,
    new_password: String,
    confirm_password: String,
}

pub(crate) async fn post_invite(State(idc): State<Idc>, headers: HeaderMap, body: Bytes) -> Response {
    let Some(f) = form::<InviteForm>(&body) else { return forbidden().into_response() };
    if !csrf_cookie_ok(&headers, &f.csrf) {
        return forbidden().into_response();
    }
    let core = idc.core();
    let Ok(Some(user)) = users::invitation_user(core, &f.token) else { return invitation_gone() };
    if f.new_password.chars().count() < 8 || !same(&f.new_password, &f.confirm_password) {
        return invitation_form(
            &display_name(&idc, &user),
            &f.token,
            Some("The passwords must match and have at least 8 characters."),
        )
        .into_response();
    }
    let user = match users::accept(core, &f.token, &f.new_password) {
        Ok(Some(u)) => u,
        Ok(None) => return invitation_gone(),
        Err(_) => return internal("Cannot save the password.").into_response(),
    };
    let portal = super::portal_path(&idc);
    let model = core.model();
    if model.dir.instance.mfa_required && model.dir.user(&user).is_some_and(|u| u.mfa.is_empty()) {
        return enrolment_page(&idc, &user, &portal, None).into_response();
    }
    start_web_session(&idc, &user, &portal)
}

pub(crate) async fn post_signout(State(idc): State<Idc>, headers: HeaderMap, body: Bytes) -> Response {
    #[derive(Deserialize)]
    struct F {
        csrf: String,
    }
    let (Some((_, csrf)), Some(id)) = (web_user(&idc, &headers), cookie(&headers, "idc_session")) else {
        return see_other("/signin", &[]);
    };
    if form::<F>(&body).is_none_or(|f| !same(&f.csrf, &csrf)) {
        return forbidden().into_response();
    }
    let _ = sessions::end_web(idc.core(), &id);
    see_other("/signin", &[set_cookie("idc_session", "", 0)])
}
