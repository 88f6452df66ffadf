//! The pages a person sees: sign-in (with TOTP MFA, and setting a password
//! on first sign-in), the device-code page and the consent page ("Allow
//! <client> to access your data?") for both the device and the PKCE flows.
//! Server-rendered, no JavaScript; every form carries a CSRF token; every
//! user-controlled value is escaped; security headers on every page.

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rusqlite::{OptionalExtension, params};
use serde::Deserialize;

use crate::oidc::html_escape as esc;
use crate::{Idc, random_token, totp};

/// How long a browser stays signed in.
const WEB_SESSION_SECONDS: i64 = 8 * 3600;
/// Failed sign-ins allowed per user in [`FAILURE_WINDOW`] seconds.
const MAX_FAILURES: i64 = 5;
const FAILURE_WINDOW: i64 = 300;

const STYLE: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;background:#f2f3f5;margin:0;color:#16191f}\
header{background:#232f3e;color:#fff;padding:14px 28px;font-weight:600;letter-spacing:.02em}\
main{max-width:640px;margin:48px auto;background:#fff;border-radius:8px;box-shadow:0 1px 4px rgba(0,0,0,.15);padding:28px 32px}\
h1{font-size:1.35em;margin:0 0 16px}label{display:block;margin:14px 0 4px;font-weight:600;font-size:.9em}\
input[type=text],input[type=password]{width:100%;box-sizing:border-box;padding:9px;border:1px solid #8d99a8;border-radius:4px;font-size:1em}\
button{margin-top:20px;padding:9px 18px;border:0;border-radius:4px;background:#ff9900;color:#16191f;font-weight:700;font-size:.95em;cursor:pointer}\
button.secondary{background:#e9ebed}.row{display:flex;gap:10px}.code{font:700 1.6em monospace;letter-spacing:.12em;text-align:center;padding:12px;background:#f2f3f5;border-radius:4px}\
.error{background:#fde7e9;border:1px solid #d13212;padding:10px;border-radius:4px}.note{color:#5f6b7a;font-size:.85em}";

/// A page with the product's frame and the security headers.
fn page(status: StatusCode, title: &str, body: &str, cookies: &[String]) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">\
         <title>{t} — tobira-idc</title><style>{STYLE}</style></head><body><header>tobira-idc · IAM Identity Center</header>\
         <main><h1>{t}</h1>{body}</main></body></html>",
        t = esc(title)
    );
    let mut r = (status, html).into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self' http://127.0.0.1:* http://localhost:*; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    for c in cookies {
        if let Ok(v) = HeaderValue::from_str(c) {
            h.append(header::SET_COOKIE, v);
        }
    }
    r
}

fn see_other(to: &str, cookies: &[String]) -> Response {
    let mut r = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(to) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    for c in cookies {
        if let Ok(v) = HeaderValue::from_str(c) {
            r.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    r
}

fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(';')).find_map(|kv| {
        let (k, v) = kv.trim().split_once('=')?;
        (k == name).then(|| v.to_string())
    })
}

fn set_cookie(name: &str, value: &str, max_age: i64) -> String {
    format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}")
}

/// The signed-in browser: (user, CSRF token).
pub(crate) fn web_user(idc: &Idc, headers: &HeaderMap) -> Option<(String, String)> {
    let id = cookie(headers, "idc_session")?;
    idc.store()
        .conn()
        .query_row(
            "SELECT user_name, csrf FROM web_sessions WHERE id = ?1 AND revoked = 0 AND expires_at > ?2",
            params![id, idc.clock().now_s()],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()
        .ok()
        .flatten()
}

fn same(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Only local paths are followed after sign-in (no open redirect).
fn safe_next(next: &str) -> &str {
    if next.starts_with('/') && !next.starts_with("//") && !next.contains('\\') { next } else { "/device" }
}

fn form<T: for<'de> Deserialize<'de>>(body: &Bytes) -> Option<T> {
    serde_urlencoded::from_bytes(body).ok()
}

fn forbidden() -> Response {
    page(
        StatusCode::FORBIDDEN,
        "Request refused",
        "<p class=\"error\">The form expired or did not come from this site. Go back, reload the page and try again.</p>",
        &[],
    )
}

/// The sign-in form. `extra` is shown above it (e.g. a pending request id).
pub(crate) fn signin_page(next: &str, error: Option<&str>, extra: &str) -> Response {
    let csrf = random_token(24);
    let err = error.map(|e| format!("<p class=\"error\">{}</p>", esc(e))).unwrap_or_default();
    let body = format!(
        "{extra}{err}<form method=\"post\" action=\"/signin\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\"><input type=\"hidden\" name=\"next\" value=\"{next}\">\
         <label for=\"username\">Username</label><input type=\"text\" id=\"username\" name=\"username\" autocomplete=\"username\" autofocus>\
         <label for=\"password\">Password</label><input type=\"password\" id=\"password\" name=\"password\" autocomplete=\"current-password\">\
         <label for=\"mfa_code\">MFA code <span class=\"note\">(if your account has an authenticator app)</span></label>\
         <input type=\"text\" id=\"mfa_code\" name=\"mfa_code\" inputmode=\"numeric\" autocomplete=\"one-time-code\">\
         <button type=\"submit\" id=\"signin\">Sign in</button></form>",
        next = esc(next)
    );
    page(StatusCode::OK, "Sign in", &body, &[set_cookie("idc_csrf", &csrf, 3600)])
}

#[derive(Deserialize)]
pub(crate) struct NextQuery {
    next: Option<String>,
}

pub(crate) async fn get_signin(Query(q): Query<NextQuery>) -> Response {
    signin_page(safe_next(q.next.as_deref().unwrap_or("/device")), None, "")
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
    #[serde(default)]
    new_password: String,
    #[serde(default)]
    confirm_password: String,
}

fn failures(idc: &Idc, user: &str) -> i64 {
    let since = idc.clock().now_s() - FAILURE_WINDOW;
    idc.store()
        .conn()
        .query_row("SELECT COUNT(*) FROM signin_failures WHERE user_name = ?1 AND at > ?2", params![user, since], |r| {
            r.get(0)
        })
        .unwrap_or(0)
}

fn failed(idc: &Idc, user: &str) {
    let _ = idc
        .store()
        .conn()
        .execute("INSERT INTO signin_failures (user_name, at) VALUES (?1, ?2)", params![user, idc.clock().now_s()]);
}

pub(crate) async fn post_signin(State(idc): State<Idc>, headers: HeaderMap, body: Bytes) -> Response {
    let Some(f) = form::<SigninForm>(&body) else { return forbidden() };
    if cookie(&headers, "idc_csrf").is_none_or(|c| !same(&c, &f.csrf)) {
        return forbidden();
    }
    let next = safe_next(&f.next).to_string();
    let user = f.username.trim().to_string();
    if failures(&idc, &user) >= MAX_FAILURES {
        let mut r = signin_page(&next, Some("Too many failed sign-ins. Wait a few minutes, then try again."), "");
        *r.status_mut() = StatusCode::TOO_MANY_REQUESTS;
        return r;
    }
    let wrong = "The username or password is not correct.";
    let mut dir = idc.directory();
    let Some(u) = dir.users.iter().find(|u| u.name == user).cloned() else {
        failed(&idc, &user);
        return signin_page(&next, Some(wrong), "");
    };
    match &u.password {
        // Invitation: the first sign-in sets the password.
        None if f.new_password.is_empty() => {
            let csrf = random_token(24);
            let body = format!(
                "<p>Welcome, {name}. Choose a password to finish setting up your account.</p>\
                 <form method=\"post\" action=\"/signin\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
                 <input type=\"hidden\" name=\"next\" value=\"{next}\"><input type=\"hidden\" name=\"username\" value=\"{user}\">\
                 <label for=\"new_password\">New password</label><input type=\"password\" id=\"new_password\" name=\"new_password\" autocomplete=\"new-password\">\
                 <label for=\"confirm_password\">Confirm password</label><input type=\"password\" id=\"confirm_password\" name=\"confirm_password\" autocomplete=\"new-password\">\
                 <button type=\"submit\" id=\"set-password\">Set password and sign in</button></form>",
                name = esc(if u.display_name.is_empty() { &u.name } else { &u.display_name }),
                next = esc(&next),
                user = esc(&u.name)
            );
            return page(StatusCode::OK, "Set your password", &body, &[set_cookie("idc_csrf", &csrf, 3600)]);
        }
        None => {
            if f.new_password.len() < 8 || f.new_password != f.confirm_password {
                return signin_page(
                    &next,
                    Some("The passwords must match and have at least 8 characters. Sign in again to retry."),
                    "",
                );
            }
            if let Some(slot) = dir.users.iter_mut().find(|x| x.name == user) {
                slot.password = Some(f.new_password.clone());
            }
            if let Err(e) = idc.replace_directory(dir) {
                return page(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Cannot save the password",
                    &format!("<p class=\"error\">{}</p>", esc(&e)),
                    &[],
                );
            }
        }
        Some(p) if !same(p, &f.password) => {
            failed(&idc, &user);
            return signin_page(&next, Some(wrong), "");
        }
        Some(_) => {}
    }
    // MFA: a code from one of the user's devices, each time step once.
    if !u.mfa.is_empty() {
        let now = idc.clock().now_s();
        let ok = u.mfa.iter().any(|d| {
            totp::decode_secret(&d.secret).and_then(|s| totp::matching_step(&s, f.mfa_code.trim(), now)).is_some_and(
                |step| idc.store().use_totp_step(&format!("user:{}:{}", u.name, d.name), step).unwrap_or(false),
            )
        });
        if !ok {
            failed(&idc, &user);
            return signin_page(
                &next,
                Some(
                    "The MFA code is not correct (or was already used). Enter the current code from your authenticator app.",
                ),
                "",
            );
        }
    } else if idc.directory().instance.mfa_required {
        return enrolment_page(&idc, &u.name, &next, None);
    }
    start_web_session(&idc, &user, &next)
}

fn start_web_session(idc: &Idc, user: &str, next: &str) -> Response {
    let id = random_token(24);
    let csrf = random_token(24);
    let now = idc.clock().now_s();
    if idc
        .store()
        .conn()
        .execute(
            "INSERT INTO web_sessions (id, user_name, csrf, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![id, user, csrf, now, now + WEB_SESSION_SECONDS],
        )
        .is_err()
    {
        return page(StatusCode::INTERNAL_SERVER_ERROR, "Cannot sign in", "<p class=\"error\">Storage error.</p>", &[]);
    }
    see_other(next, &[set_cookie("idc_session", &id, WEB_SESSION_SECONDS), set_cookie("idc_csrf", "", 0)])
}

/// MFA is required and the user has no device: show a new secret as a QR
/// code (and as text) and ask for a code from it.
fn enrolment_page(idc: &Idc, user: &str, next: &str, error: Option<&str>) -> Response {
    let secret = totp::encode_secret(&crate::random_bytes(20));
    let token = random_token(24);
    let now = idc.clock().now_s();
    if idc
        .store()
        .conn()
        .execute(
            "INSERT INTO enrolments (token, user_name, secret, next, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![token, user, secret, next, now + 900],
        )
        .is_err()
    {
        return page(StatusCode::INTERNAL_SERVER_ERROR, "Error", "<p class=\"error\">Storage error.</p>", &[]);
    }
    let uri = format!("otpauth://totp/tobira-idc:{}?secret={secret}&issuer=tobira-idc", crate::uri_encode(user));
    let qr = qrcode::QrCode::new(uri.as_bytes())
        .map(|q| q.render::<qrcode::render::svg::Color>().min_dimensions(200, 200).build())
        .unwrap_or_default();
    // The encoder's SVG holds no user-controlled text; its XML prolog is dropped.
    let qr = qr.find("<svg").map_or(String::new(), |i| qr[i..].to_string());
    let csrf = random_token(24);
    let err = error.map(|e| format!("<p class=\"error\">{}</p>", esc(e))).unwrap_or_default();
    let body = format!(
        "{err}<p>This instance requires multi-factor authentication. Scan the code with an authenticator app, then enter the code it shows.</p>\
         <div id=\"qr\" style=\"text-align:center\">{qr}</div>\
         <p class=\"note\">Or enter the key by hand: <code id=\"secret\">{secret}</code><br><span id=\"otpauth\">{uri}</span></p>\
         <form method=\"post\" action=\"/signin/enrol\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
         <input type=\"hidden\" name=\"token\" value=\"{token}\">\
         <label for=\"mfa_code\">Code from the app</label><input type=\"text\" id=\"mfa_code\" name=\"mfa_code\" inputmode=\"numeric\" autocomplete=\"one-time-code\">\
         <button type=\"submit\" id=\"enrol\">Confirm device</button></form>",
        uri = esc(&uri)
    );
    page(StatusCode::OK, "Set up an MFA device", &body, &[set_cookie("idc_csrf", &csrf, 3600)])
}

#[derive(Deserialize)]
struct EnrolForm {
    csrf: String,
    token: String,
    mfa_code: String,
}

pub(crate) async fn post_enrol(State(idc): State<Idc>, headers: HeaderMap, body: Bytes) -> Response {
    let Some(f) = form::<EnrolForm>(&body) else { return forbidden() };
    if cookie(&headers, "idc_csrf").is_none_or(|c| !same(&c, &f.csrf)) {
        return forbidden();
    }
    let row: Option<(String, String, String)> = idc
        .store()
        .conn()
        .query_row(
            "SELECT user_name, secret, next FROM enrolments WHERE token = ?1 AND expires_at > ?2",
            params![f.token, idc.clock().now_s()],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()
        .ok()
        .flatten();
    let Some((user, secret, next)) = row else {
        return signin_page("/device", Some("The enrolment expired. Sign in again."), "");
    };
    let device = "authenticator".to_string();
    let now = idc.clock().now_s();
    let step = totp::decode_secret(&secret).and_then(|s| totp::matching_step(&s, f.mfa_code.trim(), now));
    let _ = idc.store().conn().execute("DELETE FROM enrolments WHERE token = ?1", [&f.token]);
    let Some(step) = step else {
        return enrolment_page(
            &idc,
            &user,
            &next,
            Some("That code does not match. Scan the new code below and try again."),
        );
    };
    let _ = idc.store().use_totp_step(&format!("user:{user}:{device}"), step);
    let mut dir = idc.directory();
    if let Some(u) = dir.users.iter_mut().find(|u| u.name == user) {
        u.mfa.push(crate::directory::MfaDevice { name: device, secret });
    }
    if let Err(e) = idc.replace_directory(dir) {
        return page(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Cannot save the device",
            &format!("<p class=\"error\">{}</p>", esc(&e)),
            &[],
        );
    }
    start_web_session(&idc, &user, &next)
}

#[derive(Deserialize)]
pub(crate) struct DeviceQuery {
    user_code: Option<String>,
}

/// `verificationUri`: the code form (pre-filled by `verificationUriComplete`).
pub(crate) async fn get_device(State(idc): State<Idc>, headers: HeaderMap, Query(q): Query<DeviceQuery>) -> Response {
    let code = q.user_code.unwrap_or_default();
    let here =
        if code.is_empty() { "/device".to_string() } else { format!("/device?user_code={}", crate::uri_encode(&code)) };
    let Some((user, csrf)) = web_user(&idc, &headers) else {
        return signin_page(&here, None, "<p>Sign in to authorize the device request.</p>");
    };
    let body = format!(
        "<p>Signed in as <b>{user}</b>.</p><p>Enter the code shown in your terminal.</p>\
         <form method=\"post\" action=\"/device/confirm\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
         <label for=\"user_code\">Code</label><input type=\"text\" id=\"user_code\" name=\"user_code\" value=\"{code}\" autocomplete=\"off\">\
         <button type=\"submit\" id=\"confirm\">Confirm and continue</button></form>",
        user = esc(&user),
        code = esc(&code)
    );
    page(StatusCode::OK, "Authorize request", &body, &[])
}

#[derive(Deserialize)]
struct DeviceForm {
    csrf: String,
    user_code: String,
    #[serde(default)]
    decision: String,
}

fn pending_client(idc: &Idc, user_code: &str) -> Option<String> {
    let code = user_code.trim().to_ascii_uppercase();
    idc.store()
        .conn()
        .query_row(
            "SELECT c.client_name FROM device_auths d JOIN clients c ON c.client_id = d.client_id
             WHERE d.user_code = ?1 AND d.status = 'pending' AND d.expires_at > ?2",
            params![code, idc.clock().now_s()],
            |r| r.get(0),
        )
        .optional()
        .ok()
        .flatten()
}

fn consent(title_client: &str, code_html: &str, action: &str, hidden: &str, csrf: &str) -> String {
    format!(
        "<p>Allow <b>{client}</b> to access your data?</p>{code_html}\
         <p class=\"note\">It will be able to list your accounts and roles and get credentials for them.</p>\
         <div class=\"row\"><form method=\"post\" action=\"{action}\">{hidden}<input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
         <input type=\"hidden\" name=\"decision\" value=\"allow\"><button type=\"submit\" id=\"allow\">Allow access</button></form>\
         <form method=\"post\" action=\"{action}\">{hidden}<input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
         <input type=\"hidden\" name=\"decision\" value=\"deny\"><button type=\"submit\" class=\"secondary\" id=\"deny\">Deny</button></form></div>",
        client = esc(title_client)
    )
}

pub(crate) async fn post_device_confirm(State(idc): State<Idc>, headers: HeaderMap, body: Bytes) -> Response {
    let Some((user, csrf)) = web_user(&idc, &headers) else { return signin_page("/device", None, "") };
    let Some(f) = form::<DeviceForm>(&body).filter(|f| same(&f.csrf, &csrf)) else { return forbidden() };
    let Some(client) = pending_client(&idc, &f.user_code) else {
        return page(
            StatusCode::BAD_REQUEST,
            "Code not found",
            "<p class=\"error\">This code is unknown, was already used, or has expired. Start the sign-in again in your terminal.</p>",
            &[],
        );
    };
    let code = f.user_code.trim().to_ascii_uppercase();
    let hidden = format!("<input type=\"hidden\" name=\"user_code\" value=\"{}\">", esc(&code));
    let body = consent(
        &client,
        &format!(
            "<p>Check that this code matches the one in your terminal:</p><p class=\"code\" id=\"code\">{}</p>",
            esc(&code)
        ),
        "/device/decision",
        &hidden,
        &csrf,
    );
    let _ = user;
    page(StatusCode::OK, "Authorize request", &body, &[])
}

pub(crate) async fn post_device_decision(State(idc): State<Idc>, headers: HeaderMap, body: Bytes) -> Response {
    let Some((user, csrf)) = web_user(&idc, &headers) else { return signin_page("/device", None, "") };
    let Some(f) = form::<DeviceForm>(&body).filter(|f| same(&f.csrf, &csrf)) else { return forbidden() };
    let result =
        if f.decision == "allow" { idc.approve_device(&f.user_code, &user) } else { idc.deny_device(&f.user_code) };
    match (result, f.decision == "allow") {
        (Ok(()), true) => page(
            StatusCode::OK,
            "Request approved",
            "<p id=\"result\">Request approved. You can close this window and return to your terminal.</p>",
            &[],
        ),
        (Ok(()), false) => page(
            StatusCode::OK,
            "Request denied",
            "<p id=\"result\">Request denied. The sign-in in your terminal will stop.</p>",
            &[],
        ),
        (Err(e), _) => {
            page(StatusCode::BAD_REQUEST, "Request not found", &format!("<p class=\"error\">{}</p>", esc(&e)), &[])
        }
    }
}

/// The PKCE consent page for a pending `/authorize` request.
pub(crate) fn authorize_consent(client_name: &str, request_id: &str, back: &str, csrf: &str) -> Response {
    let hidden = format!(
        "<input type=\"hidden\" name=\"request\" value=\"{}\"><input type=\"hidden\" name=\"back\" value=\"{}\">",
        esc(request_id),
        esc(back)
    );
    let body = consent(
        client_name,
        &format!("<p class=\"note\">Request <code id=\"request-id\">{}</code></p>", esc(request_id)),
        "/authorize/decision",
        &hidden,
        csrf,
    );
    page(StatusCode::OK, "Authorize request", &body, &[])
}

#[derive(Deserialize)]
struct AuthorizeForm {
    csrf: String,
    request: String,
    back: String,
    decision: String,
}

pub(crate) async fn post_authorize_decision(State(idc): State<Idc>, headers: HeaderMap, body: Bytes) -> Response {
    let Some((user, csrf)) = web_user(&idc, &headers) else { return signin_page("/device", None, "") };
    let Some(f) = form::<AuthorizeForm>(&body).filter(|f| same(&f.csrf, &csrf)) else { return forbidden() };
    let result = if f.decision == "allow" {
        idc.approve_authorization(&f.request, &user)
    } else {
        idc.deny_authorization(&f.request)
    };
    match result {
        // Back to /authorize, which now redirects to the client.
        Ok(()) if f.back.starts_with("/authorize?") => see_other(&f.back, &[]),
        Ok(()) => page(StatusCode::OK, "Done", "<p>You can close this window.</p>", &[]),
        Err(e) => {
            page(StatusCode::BAD_REQUEST, "Request not found", &format!("<p class=\"error\">{}</p>", esc(&e)), &[])
        }
    }
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
        return forbidden();
    }
    let _ = idc.store().conn().execute("UPDATE web_sessions SET revoked = 1 WHERE id = ?1", [id]);
    see_other("/signin", &[set_cookie("idc_session", "", 0)])
}

/// The path of the access portal: the path of the instance's start URL.
pub(crate) fn portal_path(idc: &Idc) -> String {
    let url = idc.directory().instance.start_url;
    let rest = url.split_once("://").map_or(url.as_str(), |(_, r)| r).to_string();
    let path = rest.find('/').map_or(String::new(), |i| rest[i..].trim_end_matches(['#', '/']).to_string());
    // The API's own paths cannot be the portal's.
    let taken = [
        "/client",
        "/device",
        "/token",
        "/authorize",
        "/federation",
        "/assignment",
        "/logout",
        "/signin",
        "/signout",
        "/admin",
    ];
    let clean = !path.is_empty()
        && path.chars().all(|c| c.is_ascii_alphanumeric() || "/-_.".contains(c))
        && !path.contains("//");
    if clean && !taken.iter().any(|t| path == *t || path.starts_with(&format!("{t}/"))) {
        path
    } else {
        "/start".into()
    }
}

/// The access portal: accounts and roles, and where to find the start URL
/// and region for `tobira configure sso`.
pub(crate) async fn get_portal(State(idc): State<Idc>, headers: HeaderMap) -> Response {
    let here = portal_path(&idc);
    let Some((user, csrf)) = web_user(&idc, &headers) else { return signin_page(&here, None, "") };
    let dir = idc.directory();
    let mut html = format!(
        "<p>Signed in as <b>{}</b>.</p><p class=\"note\">For <code>tobira configure sso</code>: SSO start URL <code id=\"start-url\">{}</code>, SSO region <code id=\"sso-region\">{}</code></p>",
        esc(&user),
        esc(&dir.instance.start_url),
        esc(&dir.instance.region)
    );
    let entitlements = dir.entitlements(&user);
    if entitlements.is_empty() {
        html.push_str("<p>No AWS accounts are assigned to you yet.</p>");
    }
    let mut last = String::new();
    for (account, ps) in entitlements {
        if account.id != last {
            if !last.is_empty() {
                html.push_str("</ul>");
            }
            html.push_str(&format!(
                "<h2 style=\"font-size:1.05em;margin-top:22px\">{} <span class=\"note\">{} · {}</span></h2><ul>",
                esc(&account.name),
                esc(&account.id),
                esc(&account.email)
            ));
            last = account.id.clone();
        }
        html.push_str(&format!(
            "<li>{role} — <a href=\"{here}/credentials?account={acct}&amp;role={role_q}\" class=\"creds\">Command line or programmatic access</a></li>",
            role = esc(&ps.name),
            here = esc(&here),
            acct = esc(&account.id),
            role_q = esc(&crate::uri_encode(&ps.name))
        ));
    }
    if !last.is_empty() {
        html.push_str("</ul>");
    }
    html.push_str(&format!(
        "<form method=\"post\" action=\"/signout\"><input type=\"hidden\" name=\"csrf\" value=\"{}\"><button type=\"submit\" class=\"secondary\">Sign out</button></form>",
        esc(&csrf)
    ));
    page(StatusCode::OK, "AWS access portal", &html, &[])
}

#[derive(Deserialize)]
pub(crate) struct CredentialsQuery {
    account: String,
    role: String,
}

/// "Command line or programmatic access": fresh temporary credentials in the
/// three forms of the real portal's tabs, and a credentials-file block.
pub(crate) async fn get_portal_credentials(
    State(idc): State<Idc>,
    headers: HeaderMap,
    Query(q): Query<CredentialsQuery>,
) -> Response {
    let here = portal_path(&idc);
    let Some((user, _)) = web_user(&idc, &headers) else { return signin_page(&here, None, "") };
    let dir = idc.directory();
    let Some((account, ps)) = dir.entitlements(&user).into_iter().find(|(a, p)| a.id == q.account && p.name == q.role)
    else {
        return page(
            StatusCode::FORBIDDEN,
            "No access",
            "<p class=\"error\">This role is not assigned to you.</p>",
            &[],
        );
    };
    // Tied to a sign-in session, so revoking the user's sessions ends them.
    let Ok(session) = crate::oidc::create_session(&idc, &user) else {
        return page(StatusCode::INTERNAL_SERVER_ERROR, "Error", "<p class=\"error\">Cannot start a session.</p>", &[]);
    };
    let role_name = crate::portal::reserved_role_name(&account.id, &ps.name);
    let now = idc.clock().now_s();
    let issued = crate::sts::issue_credentials(
        &idc,
        crate::sts::NewCredentials {
            account_id: account.id.clone(),
            arn: format!("arn:aws:sts::{}:assumed-role/{role_name}/{user}", account.id),
            user_id: format!("{}:{user}", crate::sts::role_id(&account.id, &role_name)),
            role_arn: Some(format!("arn:aws:iam::{}:role/{role_name}", account.id)),
            role_session: true,
            mfa: false,
            session_id: Some(session),
            expires_at: now + i64::from(ps.session_hours) * 3600,
            source_identity: None,
        },
    );
    let Ok(c) = issued else {
        return page(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Error",
            "<p class=\"error\">Cannot issue credentials.</p>",
            &[],
        );
    };
    let (k, s, t) = (esc(&c.access_key_id), esc(&c.secret_access_key), esc(&c.session_token));
    let block = |id: &str, title: &str, text: String| {
        format!(
            "<h2 style=\"font-size:1em;margin-top:20px\">{title}</h2><pre id=\"{id}\" style=\"white-space:pre-wrap;word-break:break-all;background:#f2f3f5;padding:10px;border-radius:4px\">{text}</pre>"
        )
    };
    let mut html = format!(
        "<p>{} ({}) · <b>{}</b>. These credentials last {} hour(s).</p>",
        esc(&account.name),
        esc(&account.id),
        esc(&ps.name),
        ps.session_hours
    );
    html.push_str(&block(
        "unix",
        "macOS and Linux",
        format!(
            "export AWS_ACCESS_KEY_ID=\"{k}\"\nexport AWS_SECRET_ACCESS_KEY=\"{s}\"\nexport AWS_SESSION_TOKEN=\"{t}\""
        ),
    ));
    html.push_str(&block(
        "windows",
        "Windows",
        format!("SET AWS_ACCESS_KEY_ID={k}\nSET AWS_SECRET_ACCESS_KEY={s}\nSET AWS_SESSION_TOKEN={t}"),
    ));
    html.push_str(&block(
        "powershell",
        "PowerShell",
        format!("$Env:AWS_ACCESS_KEY_ID=\"{k}\"\n$Env:AWS_SECRET_ACCESS_KEY=\"{s}\"\n$Env:AWS_SESSION_TOKEN=\"{t}\""),
    ));
    html.push_str(&block(
        "credentials-file",
        "~/.aws/credentials",
        format!(
            "[{}_{}]\naws_access_key_id={k}\naws_secret_access_key={s}\naws_session_token={t}",
            esc(&account.id),
            esc(&ps.name)
        ),
    ));
    html.push_str(&format!(
        "<p class=\"note\">Or let tobira keep them fresh: <code>tobira configure sso --start-url {} --sso-region {}</code></p><p><a href=\"{}\">Back to the accounts</a></p>",
        esc(&dir.instance.start_url),
        esc(&dir.instance.region),
        esc(&here)
    ));
    page(StatusCode::OK, "Command line or programmatic access", &html, &[])
}

/// The signed-in administrator's CSRF token, if the admin cookie is valid.
fn admin_csrf(idc: &Idc, headers: &HeaderMap) -> Option<String> {
    let id = cookie(headers, "idc_admin")?;
    idc.store()
        .conn()
        .query_row(
            "SELECT csrf FROM admin_sessions WHERE id = ?1 AND expires_at > ?2",
            params![id, idc.clock().now_s()],
            |r| r.get(0),
        )
        .optional()
        .ok()
        .flatten()
}

fn admin_login_page(error: Option<&str>) -> Response {
    let csrf = random_token(24);
    let err = error.map(|e| format!("<p class=\"error\">{}</p>", esc(e))).unwrap_or_default();
    let body = format!(
        "{err}<p>Enter the admin token printed when tobira-idc started.</p>\
         <form method=\"post\" action=\"/admin/login\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
         <label for=\"token\">Admin token</label><input type=\"password\" id=\"token\" name=\"token\">\
         <button type=\"submit\" id=\"admin-signin\">Sign in</button></form>"
    );
    page(StatusCode::OK, "Administration", &body, &[set_cookie("idc_csrf", &csrf, 3600)])
}

#[derive(Deserialize)]
struct AdminLoginForm {
    csrf: String,
    token: String,
}

pub(crate) async fn post_admin_login(State(idc): State<Idc>, headers: HeaderMap, body: Bytes) -> Response {
    let Some(f) = form::<AdminLoginForm>(&body) else { return forbidden() };
    if cookie(&headers, "idc_csrf").is_none_or(|c| !same(&c, &f.csrf)) {
        return forbidden();
    }
    if !same(&f.token, idc.admin_token()) {
        let mut r = admin_login_page(Some("That is not the admin token."));
        *r.status_mut() = StatusCode::UNAUTHORIZED;
        return r;
    }
    let (id, csrf) = (random_token(24), random_token(24));
    let now = idc.clock().now_s();
    let _ = idc.store().conn().execute(
        "INSERT INTO admin_sessions (id, csrf, expires_at) VALUES (?1, ?2, ?3)",
        params![id, csrf, now + WEB_SESSION_SECONDS],
    );
    see_other("/admin", &[set_cookie("idc_admin", &id, WEB_SESSION_SECONDS), set_cookie("idc_csrf", "", 0)])
}

fn table(head: &[&str], rows: Vec<Vec<String>>) -> String {
    let th: String =
        head.iter().map(|h| format!("<th style=\"text-align:left;padding:4px 8px\">{}</th>", esc(h))).collect();
    let trs: String = rows
        .into_iter()
        .map(|r| {
            format!(
                "<tr>{}</tr>",
                r.into_iter()
                    .map(|c| format!("<td style=\"padding:4px 8px;border-top:1px solid #e9ebed\">{c}</td>"))
                    .collect::<String>()
            )
        })
        .collect();
    format!("<table style=\"border-collapse:collapse;width:100%;font-size:.9em\"><tr>{th}</tr>{trs}</table>")
}

/// Users, groups, accounts, permission sets, assignments, active sessions
/// (with revoke), and the directory as TOML to edit.
pub(crate) async fn get_admin(State(idc): State<Idc>, headers: HeaderMap) -> Response {
    let Some(csrf) = admin_csrf(&idc, &headers) else { return admin_login_page(None) };
    let d = idc.directory();
    let h2 = |t: &str| format!("<h2 style=\"font-size:1.05em;margin-top:24px\">{t}</h2>");
    let mut html = String::new();
    html.push_str(&h2("Users"));
    html.push_str(&table(
        &["User", "Display name", "E-mail", "Groups", "MFA devices", "Password"],
        d.users
            .iter()
            .map(|u| {
                vec![
                    esc(&u.name),
                    esc(&u.display_name),
                    esc(&u.email),
                    esc(&u.groups.join(", ")),
                    u.mfa.len().to_string(),
                    if u.password.is_some() { "set".into() } else { "invited".into() },
                ]
            })
            .collect(),
    ));
    html.push_str(&h2("Groups"));
    html.push_str(&table(&["Group"], d.groups.iter().map(|g| vec![esc(&g.name)]).collect()));
    html.push_str(&h2("AWS accounts"));
    html.push_str(&table(
        &["Id", "Name", "E-mail"],
        d.accounts.iter().map(|a| vec![esc(&a.id), esc(&a.name), esc(&a.email)]).collect(),
    ));
    html.push_str(&h2("Permission sets"));
    html.push_str(&table(
        &["Name", "Session duration", "Policies"],
        d.permission_sets
            .iter()
            .map(|p| vec![esc(&p.name), format!("{} h", p.session_hours), esc(&p.policies.join(", "))])
            .collect(),
    ));
    html.push_str(&h2("Assignments"));
    html.push_str(&table(
        &["Principal", "Account", "Permission set"],
        d.assignments.iter().map(|a| vec![esc(&a.principal), esc(&a.account), esc(&a.permission_set)]).collect(),
    ));
    html.push_str(&h2("Active sessions"));
    let ts = |t: i64| {
        jiff::Timestamp::from_second(t).map(|t| t.strftime("%Y-%m-%d %H:%M UTC").to_string()).unwrap_or_default()
    };
    html.push_str(&table(
        &["User", "Signed in", "Expires", "Tokens", ""],
        idc.active_sessions()
            .into_iter()
            .map(|s| {
                vec![
                    esc(&s.user),
                    ts(s.created_at),
                    ts(s.expires_at),
                    s.active_tokens.to_string(),
                    format!(
                        "<form method=\"post\" action=\"/admin/revoke\" style=\"margin:0\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
                         <input type=\"hidden\" name=\"user\" value=\"{u}\"><button type=\"submit\" class=\"secondary\" style=\"margin:0\">Delete sessions of {u}</button></form>",
                        u = esc(&s.user)
                    ),
                ]
            })
            .collect(),
    ));
    let toml = toml::to_string(&d).unwrap_or_default();
    html.push_str(&h2("Directory (TOML)"));
    html.push_str(&format!(
        "<form method=\"post\" action=\"/admin/directory\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
         <textarea name=\"toml\" id=\"directory\" rows=\"18\" style=\"width:100%;font:12px monospace\">{}</textarea>\
         <button type=\"submit\" id=\"save-directory\">Save directory</button></form>",
        esc(&toml)
    ));
    page(StatusCode::OK, "Administration", &html, &[])
}

#[derive(Deserialize)]
struct AdminForm {
    csrf: String,
    #[serde(default)]
    user: String,
    #[serde(default)]
    toml: String,
}

pub(crate) async fn post_admin_revoke(State(idc): State<Idc>, headers: HeaderMap, body: Bytes) -> Response {
    let Some(csrf) = admin_csrf(&idc, &headers) else { return admin_login_page(None) };
    let Some(f) = form::<AdminForm>(&body).filter(|f| same(&f.csrf, &csrf)) else { return forbidden() };
    let _ = idc.revoke_user_sessions(&f.user);
    see_other("/admin", &[])
}

pub(crate) async fn post_admin_directory(State(idc): State<Idc>, headers: HeaderMap, body: Bytes) -> Response {
    let Some(csrf) = admin_csrf(&idc, &headers) else { return admin_login_page(None) };
    let Some(f) = form::<AdminForm>(&body).filter(|f| same(&f.csrf, &csrf)) else { return forbidden() };
    match crate::Directory::from_toml(&f.toml).map_err(|e| e.to_string()).and_then(|d| idc.replace_directory(d)) {
        Ok(()) => see_other("/admin", &[]),
        Err(e) => page(
            StatusCode::BAD_REQUEST,
            "Directory not saved",
            &format!("<p class=\"error\">{}</p><p><a href=\"/admin\">Back</a></p>", esc(&e)),
            &[],
        ),
    }
}
