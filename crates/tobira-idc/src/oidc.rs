//! SSO OIDC (wire.md §2): RegisterClient, StartDeviceAuthorization,
//! CreateToken (device code, authorization code + PKCE, refresh token with
//! rotation) and `GET /authorize`.

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use base64::Engine as _;
use rusqlite::{OptionalExtension, params};
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::{Idc, random_from, random_token};

/// Registrations last 90 days, like the real service's.
const REGISTRATION_SECONDS: i64 = 90 * 24 * 3600;
/// Authorization codes are single-use and short-lived.
const CODE_SECONDS: i64 = 300;
const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";
const USER_CODE_ALPHABET: &[u8] = b"BCDFGHJKLMNPQRSTVWXZ";

/// An OIDC error as AWS sends it (wire.md §2.4): `x-amzn-ErrorType` header
/// plus `{"error", "error_description"}`.
#[derive(Debug)]
pub(crate) struct OidcError {
    status: StatusCode,
    shape: String,
    error: &'static str,
    description: String,
}

fn err(shape: &'static str, description: impl Into<String>) -> OidcError {
    let (status, error) = match shape {
        "AuthorizationPendingException" => (400, "authorization_pending"),
        "SlowDownException" => (400, "slow_down"),
        "ExpiredTokenException" => (400, "expired_token"),
        "AccessDeniedException" => (400, "access_denied"),
        "InvalidGrantException" => (400, "invalid_grant"),
        "InvalidClientException" => (401, "invalid_client"),
        "InvalidScopeException" => (400, "invalid_scope"),
        "UnauthorizedClientException" => (400, "unauthorized_client"),
        "UnsupportedGrantTypeException" => (400, "unsupported_grant_type"),
        "InvalidClientMetadataException" => (400, "invalid_client_metadata"),
        "InvalidRedirectUriException" => (400, "invalid_redirect_uri"),
        "InternalServerException" => (500, "server_error"),
        _ => (400, "invalid_request"),
    };
    OidcError {
        status: StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
        shape: shape.to_string(),
        error,
        description: description.into(),
    }
}

impl From<rusqlite::Error> for OidcError {
    fn from(e: rusqlite::Error) -> Self {
        err("InternalServerException", format!("storage error: {e}"))
    }
}

impl IntoResponse for OidcError {
    fn into_response(self) -> Response {
        let body = json!({ "error": self.error, "error_description": self.description });
        crate::rest_json(self.status, Some(&self.shape), &body)
    }
}

fn ok_json(v: Value) -> Response {
    crate::rest_json(StatusCode::OK, None, &v)
}

async fn faulted(idc: &Idc, op: &str) -> Result<(), OidcError> {
    match idc.fault(op, false).await {
        Some((status, code)) => {
            let mut e = err("InvalidRequestException", "injected fault");
            e.status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            e.shape = code;
            Err(e)
        }
        None => Ok(()),
    }
}

fn parse_body<T: for<'de> Deserialize<'de>>(body: &Bytes) -> Result<T, OidcError> {
    serde_json::from_slice(body).map_err(|e| err("InvalidRequestException", format!("invalid request body: {e}")))
}

/// `https://x/start#`, `https://x/start/` and `https://x/start` name the same portal.
pub(crate) fn normalize_start_url(url: &str) -> &str {
    url.trim_end_matches(['#', '/'])
}

fn is_loopback_redirect(uri: &str) -> bool {
    let rest = uri.strip_prefix("http://").unwrap_or("");
    let host = rest.split(['/', '?']).next().unwrap_or("");
    let host = host.rsplit_once(':').filter(|(_, p)| p.bytes().all(|b| b.is_ascii_digit())).map_or(host, |(h, _)| h);
    matches!(host, "127.0.0.1" | "localhost" | "[::1]")
}

/// The URI without its port (RFC 8252 §7.3: loopback redirects match on
/// everything but the port).
fn without_port(uri: &str) -> String {
    let Some(rest) = uri.strip_prefix("http://") else { return uri.to_string() };
    let (authority, path) = rest.find(['/', '?']).map_or((rest, ""), |i| rest.split_at(i));
    let host =
        authority.rsplit_once(':').filter(|(_, p)| p.bytes().all(|b| b.is_ascii_digit())).map_or(authority, |(h, _)| h);
    format!("http://{host}{path}")
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RegisterClientInput {
    client_name: Option<String>,
    client_type: Option<String>,
    #[serde(default)]
    scopes: Vec<String>,
    #[serde(default)]
    redirect_uris: Vec<String>,
    #[serde(default)]
    grant_types: Vec<String>,
}

pub(crate) async fn register_client(State(idc): State<Idc>, body: Bytes) -> Result<Response, OidcError> {
    faulted(&idc, "RegisterClient").await?;
    let input: RegisterClientInput = parse_body(&body)?;
    let name = input
        .client_name
        .filter(|n| !n.is_empty())
        .ok_or_else(|| err("InvalidRequestException", "clientName is required"))?;
    match input.client_type.as_deref() {
        Some("public") => {}
        Some(other) => {
            return Err(err(
                "InvalidClientMetadataException",
                format!("clientType `{other}` is not supported; use `public`"),
            ));
        }
        None => return Err(err("InvalidRequestException", "clientType is required")),
    }
    for g in &input.grant_types {
        if ![DEVICE_GRANT, "authorization_code", "refresh_token"].contains(&g.as_str()) {
            return Err(err("UnsupportedGrantTypeException", format!("grant type `{g}` is not supported")));
        }
    }
    for s in &input.scopes {
        if s.is_empty() || !s.contains(':') && s != "openid" {
            return Err(err("InvalidScopeException", format!("scope `{s}` is not valid")));
        }
    }
    for u in &input.redirect_uris {
        if !is_loopback_redirect(u) {
            return Err(err("InvalidRedirectUriException", format!("redirect URI `{u}` is not a loopback http URI")));
        }
    }
    if input.grant_types.iter().any(|g| g == "authorization_code") && input.redirect_uris.is_empty() {
        return Err(err("InvalidRedirectUriException", "the authorization_code grant needs redirectUris"));
    }
    let now = idc.clock().now_s();
    let client_id = random_token(16);
    let client_secret = random_token(48);
    let expires_at = now + REGISTRATION_SECONDS;
    idc.store().conn().execute(
        "INSERT INTO clients (client_id, client_secret, client_name, scopes, grant_types, redirect_uris, issued_at, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            client_id,
            client_secret,
            name,
            json!(input.scopes).to_string(),
            json!(input.grant_types).to_string(),
            json!(input.redirect_uris).to_string(),
            now,
            expires_at
        ],
    )?;
    let mut out = json!({
        "clientId": client_id,
        "clientSecret": client_secret,
        "clientIdIssuedAt": now,
        "clientSecretExpiresAt": expires_at,
    });
    if input.grant_types.iter().any(|g| g == "authorization_code") {
        out["authorizationEndpoint"] = json!(format!("{}/authorize", idc.base_url()));
        out["tokenEndpoint"] = json!(format!("{}/token", idc.base_url()));
    }
    Ok(ok_json(out))
}

/// A registered client, once its secret has been checked.
struct Client {
    id: String,
    name: String,
    scopes: Vec<String>,
    grant_types: Vec<String>,
    redirect_uris: Vec<String>,
}

impl Client {
    /// Registrations without `grantTypes` (what the AWS CLI sends for the
    /// device flow) may use the device code and refresh grants.
    fn allows(&self, grant: &str) -> bool {
        if self.grant_types.is_empty() {
            grant == DEVICE_GRANT || grant == "refresh_token"
        } else {
            self.grant_types.iter().any(|g| g == grant)
        }
    }
}

fn load_client(idc: &Idc, id: &str) -> Result<Option<(Client, String, i64)>, OidcError> {
    let row = idc
        .store()
        .conn()
        .query_row(
            "SELECT client_secret, scopes, grant_types, redirect_uris, expires_at, client_name FROM clients WHERE client_id = ?1",
            [id],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, i64>(4)?,
                    r.get::<_, String>(5)?,
                ))
            },
        )
        .optional()?;
    Ok(row.map(|(secret, scopes, grants, redirects, expires, name)| {
        let list = |s: &str| serde_json::from_str::<Vec<String>>(s).unwrap_or_default();
        (
            Client {
                id: id.to_string(),
                name,
                scopes: list(&scopes),
                grant_types: list(&grants),
                redirect_uris: list(&redirects),
            },
            secret,
            expires,
        )
    }))
}

fn authenticate(idc: &Idc, id: Option<&str>, secret: Option<&str>) -> Result<Client, OidcError> {
    let (Some(id), Some(secret)) = (id, secret) else {
        return Err(err("InvalidRequestException", "clientId and clientSecret are required"));
    };
    match load_client(idc, id)? {
        Some((client, s, expires)) if s == secret && expires > idc.clock().now_s() => Ok(client),
        Some((_, s, _)) if s == secret => {
            Err(err("InvalidClientException", "the client registration has expired; register again"))
        }
        _ => Err(err("InvalidClientException", "invalid client credentials")),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct StartDeviceInput {
    client_id: Option<String>,
    client_secret: Option<String>,
    start_url: Option<String>,
}

pub(crate) async fn start_device_authorization(State(idc): State<Idc>, body: Bytes) -> Result<Response, OidcError> {
    faulted(&idc, "StartDeviceAuthorization").await?;
    let input: StartDeviceInput = parse_body(&body)?;
    let client = authenticate(&idc, input.client_id.as_deref(), input.client_secret.as_deref())?;
    if !client.allows(DEVICE_GRANT) {
        return Err(err("UnauthorizedClientException", "this client is not registered for the device code grant"));
    }
    let start_url = input.start_url.ok_or_else(|| err("InvalidRequestException", "startUrl is required"))?;
    let dir = idc.directory();
    if normalize_start_url(&start_url) != normalize_start_url(&dir.instance.start_url) {
        return Err(err("InvalidRequestException", format!("unknown start URL `{start_url}` in this region")));
    }
    let now = idc.clock().now_s();
    let settings = idc.settings();
    let device_code = random_token(32);
    let user_code = format!("{}-{}", random_from(USER_CODE_ALPHABET, 4), random_from(USER_CODE_ALPHABET, 4));
    let (status, session) = match &settings.auto_approve {
        Some(user) => ("approved", Some(create_session(&idc, user)?)),
        None => ("pending", None),
    };
    idc.store().conn().execute(
        "INSERT INTO device_auths (device_code, user_code, client_id, start_url, created_at, expires_at, interval_s, status, session_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![device_code, user_code, client.id, start_url, now, now + settings.device_expires_in, settings.device_interval, status, session],
    )?;
    let base = idc.base_url();
    Ok(ok_json(json!({
        "deviceCode": device_code,
        "userCode": user_code,
        "verificationUri": format!("{base}/device"),
        "verificationUriComplete": format!("{base}/device?user_code={user_code}"),
        "expiresIn": settings.device_expires_in,
        "interval": settings.device_interval,
    })))
}

/// A new sign-in session for `user` (who must exist).
pub(crate) fn create_session(idc: &Idc, user: &str) -> Result<String, OidcError> {
    if idc.directory().user(user).is_none() {
        return Err(err("AccessDeniedException", format!("no such user `{user}`")));
    }
    let id = random_token(18);
    let now = idc.clock().now_s();
    idc.store().conn().execute(
        "INSERT INTO sessions (session_id, user_name, created_at, expires_at) VALUES (?1, ?2, ?3, ?4)",
        params![id, user, now, now + idc.settings().session_seconds],
    )?;
    Ok(id)
}

pub(crate) fn decide_device(idc: &Idc, user_code: &str, user: &str, approve: bool) -> Result<(), String> {
    let code = user_code.trim().to_ascii_uppercase().replace(' ', "");
    let code = if code.is_ascii() && code.len() == 8 && !code.contains('-') {
        format!("{}-{}", &code[..4], &code[4..])
    } else {
        code
    };
    let now = idc.clock().now_s();
    let found: Option<(String, i64)> = idc
        .store()
        .conn()
        .query_row("SELECT status, expires_at FROM device_auths WHERE user_code = ?1", [&code], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()
        .map_err(|e| e.to_string())?;
    match found {
        None => return Err(format!("no device authorization with code {code}")),
        Some((_, expires)) if expires <= now => return Err(format!("the code {code} has expired")),
        Some((status, _)) if status != "pending" => return Err(format!("the code {code} was already {status}")),
        Some(_) => {}
    }
    let session = if approve { Some(create_session(idc, user).map_err(|e| e.description)?) } else { None };
    idc.store()
        .conn()
        .execute(
            "UPDATE device_auths SET status = ?1, session_id = ?2 WHERE user_code = ?3",
            params![if approve { "approved" } else { "denied" }, session, code],
        )
        .map_err(|e| e.to_string())?;
    Ok(())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateTokenInput {
    client_id: Option<String>,
    client_secret: Option<String>,
    grant_type: Option<String>,
    device_code: Option<String>,
    code: Option<String>,
    refresh_token: Option<String>,
    redirect_uri: Option<String>,
    code_verifier: Option<String>,
}

pub(crate) async fn create_token(State(idc): State<Idc>, body: Bytes) -> Result<Response, OidcError> {
    faulted(&idc, "CreateToken").await?;
    let input: CreateTokenInput = parse_body(&body)?;
    let client = authenticate(&idc, input.client_id.as_deref(), input.client_secret.as_deref())?;
    if let Some(g) = input.grant_type.as_deref()
        && [DEVICE_GRANT, "authorization_code", "refresh_token"].contains(&g)
        && !client.allows(g)
    {
        return Err(err("UnauthorizedClientException", format!("this client is not registered for the `{g}` grant")));
    }
    match input.grant_type.as_deref() {
        Some(DEVICE_GRANT) => device_token(&idc, &client, input.device_code.as_deref()),
        Some("authorization_code") => code_token(&idc, &client, &input),
        Some("refresh_token") => refresh(&idc, &client, input.refresh_token.as_deref()),
        Some(other) => Err(err("UnsupportedGrantTypeException", format!("grant type `{other}` is not supported"))),
        None => Err(err("InvalidRequestException", "grantType is required")),
    }
}

fn device_token(idc: &Idc, client: &Client, device_code: Option<&str>) -> Result<Response, OidcError> {
    let code = device_code.ok_or_else(|| err("InvalidRequestException", "deviceCode is required"))?;
    let now_ms = idc.clock().now_ms();
    type Row = (String, i64, i64, Option<i64>, String, Option<String>);
    let row: Option<Row> = idc
        .store()
        .conn()
        .query_row(
            "SELECT client_id, expires_at, interval_s, last_poll_ms, status, session_id FROM device_auths WHERE device_code = ?1",
            [code],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)),
        )
        .optional()?;
    let Some((owner, expires_at, interval, last_poll, status, session)) = row else {
        return Err(err("InvalidGrantException", "Invalid device code provided"));
    };
    if owner != client.id {
        return Err(err("InvalidGrantException", "Invalid device code provided"));
    }
    if expires_at * 1000 <= now_ms {
        return Err(err("ExpiredTokenException", "Device code has expired"));
    }
    match status.as_str() {
        "approved" => {
            let Some(session) = session else {
                return Err(err("InternalServerException", "approved without a session"));
            };
            idc.store().conn().execute("UPDATE device_auths SET status = 'consumed' WHERE device_code = ?1", [code])?;
            // Legacy device registrations (no scopes, no refresh grant) get no refresh token.
            let refreshable = !client.scopes.is_empty() || client.grant_types.iter().any(|g| g == "refresh_token");
            issue_tokens(idc, client, &session, refreshable)
        }
        "denied" => Err(err("AccessDeniedException", "The authorization request was denied")),
        "consumed" => Err(err("InvalidGrantException", "Device code has already been used")),
        _ => {
            // Polling faster than the interval is answered with slow_down,
            // and the interval grows by 5 s (RFC 8628 §3.5).
            let too_fast = last_poll.is_some_and(|t| now_ms - t < interval * 1000);
            let new_interval = if too_fast { interval + 5 } else { interval };
            idc.store().conn().execute(
                "UPDATE device_auths SET last_poll_ms = ?1, interval_s = ?2 WHERE device_code = ?3",
                params![now_ms, new_interval, code],
            )?;
            if too_fast {
                Err(err("SlowDownException", "Client is polling too quickly"))
            } else {
                Err(err("AuthorizationPendingException", "Authorization is still pending"))
            }
        }
    }
}

fn code_token(idc: &Idc, client: &Client, input: &CreateTokenInput) -> Result<Response, OidcError> {
    let code = input.code.as_deref().ok_or_else(|| err("InvalidRequestException", "code is required"))?;
    let row: Option<(String, String, String, String, i64, bool)> = idc
        .store()
        .conn()
        .query_row(
            "SELECT client_id, redirect_uri, code_challenge, session_id, expires_at, used FROM auth_codes WHERE code = ?1",
            [code],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)),
        )
        .optional()?;
    let Some((owner, redirect_uri, challenge, session, expires_at, used)) = row else {
        return Err(err("InvalidGrantException", "Invalid authorization code provided"));
    };
    // A code is spent by any attempt to use it.
    idc.store().conn().execute("UPDATE auth_codes SET used = 1 WHERE code = ?1", [code])?;
    if owner != client.id || used || expires_at <= idc.clock().now_s() {
        return Err(err("InvalidGrantException", "Invalid authorization code provided"));
    }
    if input.redirect_uri.as_deref() != Some(redirect_uri.as_str()) {
        return Err(err("InvalidGrantException", "redirectUri does not match the one used at /authorize"));
    }
    let verifier = input.code_verifier.as_deref().unwrap_or("");
    if pkce_challenge(verifier) != challenge {
        return Err(err("InvalidGrantException", "codeVerifier does not match the code challenge"));
    }
    issue_tokens(idc, client, &session, true)
}

/// `base64url(sha256(verifier))` without padding (PKCE S256).
pub(crate) fn pkce_challenge(verifier: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

fn refresh(idc: &Idc, client: &Client, token: Option<&str>) -> Result<Response, OidcError> {
    let token = token.ok_or_else(|| err("InvalidRequestException", "refreshToken is required"))?;
    let now = idc.clock().now_s();
    let session: Option<String> = idc
        .store()
        .conn()
        .query_row(
            "SELECT t.session_id FROM tokens t JOIN sessions s ON s.session_id = t.session_id
             WHERE t.token = ?1 AND t.kind = 'refresh' AND t.client_id = ?2 AND t.revoked = 0
               AND t.expires_at > ?3 AND s.revoked = 0 AND s.expires_at > ?3",
            params![token, client.id, now],
            |r| r.get(0),
        )
        .optional()?;
    let Some(session) = session else { return Err(err("InvalidGrantException", "Invalid refresh token provided")) };
    // Rotation: the old refresh token works once.
    idc.store().conn().execute("UPDATE tokens SET revoked = 1 WHERE token = ?1", [token])?;
    issue_tokens(idc, client, &session, true)
}

fn issue_tokens(idc: &Idc, client: &Client, session: &str, refreshable: bool) -> Result<Response, OidcError> {
    let now = idc.clock().now_s();
    let session_expires: i64 = idc
        .store()
        .conn()
        .query_row("SELECT expires_at FROM sessions WHERE session_id = ?1 AND revoked = 0", [session], |r| r.get(0))
        .optional()?
        .ok_or_else(|| err("InvalidGrantException", "The sign-in session has ended"))?;
    let access = format!("aoa{}", random_token(48));
    let expires = session_expires.min(now + idc.settings().session_seconds);
    let scopes = json!(client.scopes).to_string();
    let conn = idc.store().conn();
    conn.execute(
        "INSERT INTO tokens (token, kind, client_id, session_id, scopes, expires_at) VALUES (?1, 'access', ?2, ?3, ?4, ?5)",
        params![access, client.id, session, scopes, expires],
    )?;
    let mut out = json!({ "accessToken": access, "tokenType": "Bearer", "expiresIn": (expires - now).max(0) });
    if refreshable {
        let refresh = format!("aor{}", random_token(48));
        conn.execute(
            "INSERT INTO tokens (token, kind, client_id, session_id, scopes, expires_at) VALUES (?1, 'refresh', ?2, ?3, ?4, ?5)",
            params![refresh, client.id, session, scopes, session_expires + 90 * 24 * 3600],
        )?;
        out["refreshToken"] = json!(refresh);
    }
    Ok(ok_json(out))
}

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

fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>{t}</title></head><body><h1>{t}</h1><p>{b}</p></body></html>",
        t = html_escape(title),
        b = html_escape(body)
    );
    (status, Html(html)).into_response()
}

pub(crate) fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

fn with_query(uri: &str, pairs: &[(&str, &str)]) -> String {
    let sep = if uri.contains('?') { '&' } else { '?' };
    let q: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={}", crate::uri_encode(v))).collect();
    format!("{uri}{sep}{}", q.join("&"))
}

/// `GET /authorize` (wire.md §2.5). With `--auto-approve USER` the browser
/// is redirected at once; otherwise the request waits (the page refreshes
/// itself) until it is approved — headless with [`Idc::approve_authorization`]
/// or `tobira-idc approve`.
pub(crate) async fn authorize(
    State(idc): State<Idc>,
    headers: axum::http::HeaderMap,
    uri: axum::http::Uri,
    Query(q): Query<AuthorizeQuery>,
) -> Response {
    let _ = idc.fault("Authorize", false).await;
    let bad = |m: &str| page(StatusCode::BAD_REQUEST, "Invalid authorization request", m);
    let (Some(client_id), Some(redirect_uri), Some(state), Some(challenge)) =
        (q.client_id.as_deref(), q.redirect_uri.as_deref(), q.state.as_deref(), q.code_challenge.as_deref())
    else {
        return bad("client_id, redirect_uri, state and code_challenge are required.");
    };
    let Ok(Some((client, _, expires))) = load_client(&idc, client_id) else { return bad("Unknown client.") };
    if expires <= idc.clock().now_s() || !client.grant_types.iter().any(|g| g == "authorization_code") {
        return bad("This client is not registered for the authorization code grant.");
    }
    if !is_loopback_redirect(redirect_uri)
        || !client.redirect_uris.iter().any(|r| without_port(r) == without_port(redirect_uri))
    {
        return bad("The redirect_uri is not registered for this client.");
    }
    // From here on, errors go back to the client through the redirect.
    // 302 Found, as the real service answers.
    let back = |pairs: &[(&str, &str)]| {
        let target = with_query(redirect_uri, pairs);
        match HeaderValue::from_str(&target) {
            Ok(v) => (StatusCode::FOUND, [(header::LOCATION, v)]).into_response(),
            Err(_) => page(StatusCode::BAD_REQUEST, "Invalid redirect", "The redirect URI cannot be used."),
        }
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
    let scopes = q.scopes.clone().unwrap_or_else(|| "sso:account:access".into());
    let now = idc.clock().now_s();
    let existing: Option<(String, String, Option<String>)> = idc
        .store()
        .conn()
        .query_row(
            "SELECT request_id, status, session_id FROM authorizations WHERE client_id = ?1 AND state = ?2",
            params![client_id, state],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()
        .ok()
        .flatten();
    let (request_id, status, session) = match existing {
        Some(e) => e,
        None => {
            let id = random_from(b"0123456789ABCDEFGHJKMNPQRSTVWXYZ", 10);
            let (status, session) = match &idc.settings().auto_approve {
                Some(user) => match create_session(&idc, user) {
                    Ok(s) => ("approved".to_string(), Some(s)),
                    Err(e) => return page(StatusCode::INTERNAL_SERVER_ERROR, "Cannot approve", &e.description),
                },
                None => ("pending".to_string(), None),
            };
            if let Err(e) = idc.store().conn().execute(
                "INSERT INTO authorizations (request_id, client_id, redirect_uri, state, code_challenge, scopes, created_at, expires_at, status, session_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                params![id, client_id, redirect_uri, state, challenge, scopes, now, now + 600, status, session],
            ) {
                return page(StatusCode::INTERNAL_SERVER_ERROR, "Storage error", &e.to_string());
            }
            (id, status, session)
        }
    };
    match (status.as_str(), session) {
        ("approved", Some(session)) => {
            let code = random_token(32);
            let stored = idc.store().conn().execute(
                "INSERT INTO auth_codes (code, client_id, redirect_uri, code_challenge, scopes, session_id, expires_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![code, client_id, redirect_uri, challenge, scopes, session, now + CODE_SECONDS],
            );
            let done = idc
                .store()
                .conn()
                .execute("UPDATE authorizations SET status = 'completed' WHERE request_id = ?1", [&request_id]);
            if stored.is_err() || done.is_err() {
                return page(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Storage error",
                    "could not record the authorization code",
                );
            }
            back(&[("code", &code), ("state", state)])
        }
        ("denied", _) => {
            back(&[("error", "access_denied"), ("error_description", "The request was denied"), ("state", state)])
        }
        ("completed", _) => page(
            StatusCode::BAD_REQUEST,
            "Already used",
            "This authorization request was already completed; start the login again.",
        ),
        _ => {
            // A person: sign in, then the consent page. Headless: approve the
            // request id with `tobira-idc approve --request ID --user NAME`.
            let back = uri.path_and_query().map_or("/authorize".to_string(), |pq| pq.as_str().to_string());
            match crate::pages::web_user(&idc, &headers) {
                Some((_, csrf)) => crate::pages::authorize_consent(&client.name, &request_id, &back, &csrf),
                None => crate::pages::signin_page(
                    &back,
                    None,
                    &format!(
                        "<p class=\"note\">Authorization request <code id=\"request-id\">{id}</code>. Without a browser: <code>tobira-idc approve --request {id} --user NAME</code>.</p>",
                        id = html_escape(&request_id)
                    ),
                ),
            }
        }
    }
}

pub(crate) fn decide_authorization(idc: &Idc, request_id: &str, user: &str, approve: bool) -> Result<(), String> {
    let status: Option<String> = idc
        .store()
        .conn()
        .query_row("SELECT status FROM authorizations WHERE request_id = ?1", [request_id], |r| r.get(0))
        .optional()
        .map_err(|e| e.to_string())?;
    match status.as_deref() {
        None => return Err(format!("no authorization request {request_id}")),
        Some("pending") => {}
        Some(other) => return Err(format!("authorization request {request_id} was already {other}")),
    }
    let session = if approve { Some(create_session(idc, user).map_err(|e| e.description)?) } else { None };
    idc.store()
        .conn()
        .execute(
            "UPDATE authorizations SET status = ?1, session_id = ?2 WHERE request_id = ?3",
            params![if approve { "approved" } else { "denied" }, session, request_id],
        )
        .map_err(|e| e.to_string())?;
    Ok(())
}

/// The user behind a valid access token (portal calls).
pub(crate) fn token_owner(idc: &Idc, token: &str) -> Result<Option<(String, String)>, rusqlite::Error> {
    idc.store()
        .conn()
        .prepare_cached(
            "SELECT s.user_name, s.session_id FROM tokens t JOIN sessions s ON s.session_id = t.session_id
             WHERE t.token = ?1 AND t.kind = 'access' AND t.revoked = 0 AND t.expires_at > ?2
               AND s.revoked = 0 AND s.expires_at > ?2",
        )?
        .query_row(params![token, idc.clock().now_s()], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helpers() {
        // RFC 7636 appendix B.
        assert_eq!(
            pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        assert_eq!(normalize_start_url("https://x.awsapps.com/start#"), "https://x.awsapps.com/start");
        assert!(is_loopback_redirect("http://127.0.0.1:4321/oauth/callback"));
        assert!(!is_loopback_redirect("http://evil.example/oauth/callback"));
        assert!(!is_loopback_redirect("https://127.0.0.1/oauth/callback"));
        assert_eq!(without_port("http://127.0.0.1:4321/oauth/callback"), "http://127.0.0.1/oauth/callback");
        assert_eq!(
            with_query("http://127.0.0.1:1/cb", &[("code", "a b"), ("state", "s")]),
            "http://127.0.0.1:1/cb?code=a%20b&state=s"
        );
        assert_eq!(html_escape("<script>\"'&"), "&lt;script&gt;&quot;&#39;&amp;");
    }
}
