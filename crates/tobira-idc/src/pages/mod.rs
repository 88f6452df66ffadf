//! The pages a person sees: sign-in (password, TOTP MFA, MFA enrolment,
//! invitations), the device-code page, the consent page for the device and
//! PKCE flows, the access portal, and the administrator's pages.
//! Server-rendered with maud (every value escaped unless marked otherwise),
//! no JavaScript, one frame and one set of security headers for every HTML
//! answer, a CSRF token on every form.

pub(crate) mod admin;
pub(crate) mod authorize;
pub(crate) mod console;
pub(crate) mod device;
pub(crate) mod federation;
pub(crate) mod portal;
pub(crate) mod signin;

use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use maud::{DOCTYPE, Markup, PreEscaped, html};
use serde::Deserialize;

use crate::Idc;
use crate::domain::{random, secret, sessions};

const STYLE: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;background:#f2f3f5;margin:0;color:#16191f}\
header{background:#232f3e;color:#fff;padding:14px 28px;font-weight:600;letter-spacing:.02em}\
main{max-width:640px;margin:48px auto;background:#fff;border-radius:8px;box-shadow:0 1px 4px rgba(0,0,0,.15);padding:28px 32px}\
@media (max-width:700px){main{margin:0;border-radius:0;padding:20px 16px}}\
h1{font-size:1.35em;margin:0 0 16px}h2{font-size:1.05em;margin-top:22px}label{display:block;margin:14px 0 4px;font-weight:600;font-size:.9em}\
input[type=text],input[type=password]{width:100%;box-sizing:border-box;padding:9px;border:1px solid #8d99a8;border-radius:4px;font-size:1em}\
button{margin-top:20px;padding:9px 18px;border:0;border-radius:4px;background:#ff9900;color:#16191f;font-weight:700;font-size:.95em;cursor:pointer}\
button.secondary{background:#e9ebed}.row{display:flex;gap:10px;flex-wrap:wrap}.code{font:700 1.6em monospace;letter-spacing:.12em;text-align:center;padding:12px;background:#f2f3f5;border-radius:4px}\
.error{background:#fde7e9;border:1px solid #d13212;padding:10px;border-radius:4px}.note{color:#5f6b7a;font-size:.85em}\
pre{white-space:pre-wrap;word-break:break-all;background:#f2f3f5;padding:10px;border-radius:4px}\
table{border-collapse:collapse;width:100%;font-size:.9em;display:block;overflow-x:auto}th{text-align:left;padding:4px 8px}td{padding:4px 8px;border-top:1px solid #e9ebed}";

const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self' http://127.0.0.1:* http://localhost:*; frame-ancestors 'none'; base-uri 'none'";

/// An HTML answer: the product's frame around `body`, the security headers,
/// and cookies to set.
pub(crate) struct Page {
    status: StatusCode,
    title: String,
    body: Markup,
    cookies: Vec<String>,
}

impl Page {
    pub(crate) fn new(title: impl Into<String>, body: Markup) -> Page {
        Page { status: StatusCode::OK, title: title.into(), body, cookies: vec![] }
    }

    pub(crate) fn status(mut self, status: StatusCode) -> Page {
        self.status = status;
        self
    }

    pub(crate) fn cookie(mut self, c: String) -> Page {
        self.cookies.push(c);
        self
    }

    /// A page that only says something (an error, a result).
    pub(crate) fn message(status: StatusCode, title: &str, text: &str, class: &str) -> Page {
        Page::new(title, html! { p.(class) id="result" { (text) } }).status(status)
    }
}

fn frame(title: &str, body: &Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " — tobira-idc" }
                style { (PreEscaped(STYLE)) }
            }
            body {
                header { "tobira-idc · IAM Identity Center" }
                main { h1 { (title) } (body) }
            }
        }
    }
}

/// The headers every HTML answer carries.
fn secure(r: &mut Response) {
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
}

impl IntoResponse for Page {
    fn into_response(self) -> Response {
        let mut r = (self.status, frame(&self.title, &self.body).into_string()).into_response();
        secure(&mut r);
        for c in self.cookies {
            if let Ok(v) = HeaderValue::from_str(&c) {
                r.headers_mut().append(header::SET_COOKIE, v);
            }
        }
        r
    }
}

/// 303 to a local path (already checked by [`safe_next`] or a constant).
pub(crate) fn see_other(to: &str, cookies: &[String]) -> Response {
    let mut r = StatusCode::SEE_OTHER.into_response();
    secure(&mut r);
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

/// Any other path.
pub(crate) async fn not_found() -> Page {
    Page::message(StatusCode::NOT_FOUND, "Not found", "There is no page here.", "error")
}

pub(crate) fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(';')).find_map(|kv| {
        let (k, v) = kv.trim().split_once('=')?;
        (k == name).then(|| v.to_string())
    })
}

pub(crate) fn set_cookie(name: &str, value: &str, max_age: i64) -> String {
    format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}")
}

/// A new CSRF token for a form shown to a browser without a session, and
/// the cookie that must come back with it (double-submit).
pub(crate) fn fresh_csrf() -> (String, String) {
    let csrf = random::token(24);
    let c = set_cookie("idc_csrf", &csrf, 3600);
    (csrf, c)
}

/// Whether a form's CSRF field matches the browser's CSRF cookie.
pub(crate) fn csrf_cookie_ok(headers: &HeaderMap, field: &str) -> bool {
    cookie(headers, "idc_csrf").is_some_and(|c| secret::same(c.as_bytes(), field.as_bytes()))
}

pub(crate) fn same(a: &str, b: &str) -> bool {
    secret::same(a.as_bytes(), b.as_bytes())
}

/// The signed-in browser: (user, CSRF token).
pub(crate) fn web_user(idc: &Idc, headers: &HeaderMap) -> Option<(String, String)> {
    let id = cookie(headers, "idc_session")?;
    sessions::web_user(idc.core(), &id).ok().flatten()
}

pub(crate) fn form<T: for<'de> Deserialize<'de>>(body: &Bytes) -> Option<T> {
    serde_urlencoded::from_bytes(body).ok()
}

pub(crate) fn forbidden() -> Page {
    Page::message(
        StatusCode::FORBIDDEN,
        "Request refused",
        "The form expired or did not come from this site. Go back, reload the page and try again.",
        "error",
    )
}

pub(crate) fn internal(what: &str) -> Page {
    Page::message(StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong", what, "error")
}

/// Where a browser may be sent after signing in: a path of this server's
/// pages, in printable ASCII, with no backslash or second slash that a
/// browser could read as another host (OWASP unvalidated redirects;
/// RFC 6749 §10.15). Anything else goes to `/device`.
pub(crate) fn safe_next<'a>(idc: &Idc, next: &'a str) -> &'a str {
    const FALLBACK: &str = "/device";
    let printable = next.bytes().all(|b| (0x21..=0x7e).contains(&b));
    let path = next.split(['?', '#']).next().unwrap_or("");
    let local = path.starts_with('/')
        && !path.starts_with("//")
        && !next.contains('\\')
        && !path.contains("/.")
        && !path.contains('%');
    let portal = portal_path(idc);
    let known = ["/device", "/authorize", "/admin", portal.as_str()]
        .iter()
        .any(|p| path == *p || path.strip_prefix(p).is_some_and(|rest| rest.starts_with('/')));
    if printable && local && known { next } else { FALLBACK }
}

/// The path of the access portal: the path of the instance's start URL.
pub(crate) fn portal_path(idc: &Idc) -> String {
    let url = idc.core().model().dir.instance.start_url.clone();
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
        "/invite",
        "/v1",
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
