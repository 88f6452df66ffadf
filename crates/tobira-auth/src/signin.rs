//! Console sign-in for developer tools (`aws login`, `login_session`
//! profiles; docs/login-session.md): the browser authorization with PKCE
//! (method `SHA-256`) and a loopback listener, or `--remote` with a pasted
//! verification code; CreateOAuth2Token with a DPoP proof from a key made
//! for this sign-in; and the refresh of the cached credentials under the
//! cache file's lock (check, lock, re-read, re-check, refresh, write).
//!
//! CreateOAuth2Token is one unsigned JSON POST, made here with the AWS SDK's
//! own HTTP connector (same TLS, timeouts and connection errors as every
//! other call tobira makes). The clock is passed in, so tests can follow a
//! server whose clock they move.

use std::time::Duration;

use aws_smithy_runtime_api::client::http::HttpConnector as _;
use aws_smithy_types::body::SdkBody;
use base64::Engine as _;
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};
use tobira_cache::login::{CROSS_DEVICE, LoginCache, LoginCacheError, LoginToken, SAME_DEVICE, account_of};
use tobira_config::Secret;

use crate::dpop::{DpopKey, uuid4};
use crate::failure::{Call, NetFailure, Service};
use crate::pkce;
use crate::{AuthError, Net};

/// A clock: the CLI passes the system's, tests the server's.
pub type Clock<'a> = &'a (dyn Fn() -> Timestamp + Sync);

/// The operation's name, for messages.
const OPERATION: &str = "CreateOAuth2Token";

/// `https://{region}.signin.aws.amazon.com` and its partition variants.
pub fn default_endpoint(region: &str) -> String {
    let domain = if region.starts_with("cn-") {
        "signin.amazonaws.cn"
    } else if region.starts_with("us-gov-") {
        "signin.amazonaws-us-gov.com"
    } else if region.starts_with("eusc-") {
        "signin.amazonaws-eusc.eu"
    } else {
        "signin.aws.amazon.com"
    };
    format!("https://{region}.{domain}")
}

/// Where AWS Sign-In is: a configured endpoint (`AWS_ENDPOINT_URL_SIGNIN`,
/// `AWS_ENDPOINT_URL`, `[services]`, `endpoint_url`), else the region's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SigninTarget {
    pub region: Option<String>,
    pub endpoint: Option<String>,
    /// How its calls go out (timeouts, proxies).
    pub net: Net,
}

impl SigninTarget {
    fn base(&self) -> Result<String, SigninError> {
        match (&self.endpoint, &self.region) {
            (Some(e), _) => Ok(e.trim_end_matches('/').to_string()),
            (None, Some(r)) => Ok(default_endpoint(r)),
            (None, None) => Err(SigninError::NoRegion),
        }
    }

    /// The CreateOAuth2Token URL: the endpoint (with any path) + `/v1/token`.
    pub fn token_url(&self) -> Result<String, SigninError> {
        Ok(format!("{}/v1/token", self.base()?))
    }

    /// `scheme://host[:port]` of the endpoint: the authorize page is at its root.
    pub fn origin(&self) -> Result<String, SigninError> {
        let base = self.base()?;
        Ok(match base.split_once("://") {
            Some((scheme, rest)) => {
                let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
                format!("{scheme}://{}", &rest[..end])
            }
            None => base,
        })
    }

    /// Where a cached sign-in is refreshed: a configured endpoint, else the
    /// region the file names (`signInRegion`, as the JS SDK reads it), else
    /// the configured region.
    pub fn for_token(&self, token: &LoginToken) -> SigninTarget {
        match (&self.endpoint, token.sign_in_region()) {
            (None, Some(r)) => SigninTarget { region: Some(r.to_string()), endpoint: None, net: self.net.clone() },
            _ => self.clone(),
        }
    }

    /// The CreateOAuth2Token call, for error messages.
    pub fn call(&self) -> Call {
        Call::new(Service::Signin, OPERATION, self.endpoint.as_deref(), self.region.as_deref().unwrap_or(""), &self.net)
    }
}

/// Why a console sign-in or its refresh failed. `Display` says what
/// happened in tobira's words, with the service's own code and message; the
/// CLI adds the command that fixes it. Never contains a secret.
#[derive(Debug, thiserror::Error)]
pub enum SigninError {
    #[error("no region is configured, and AWS Sign-In's address depends on it")]
    NoRegion,
    #[error("there is no cached sign-in for login session `{session}` ({path} does not exist)")]
    NotSignedIn { session: String, path: String },
    #[error("the cached sign-in for login session `{session}` cannot be used: {why}")]
    BadCacheFile { session: String, why: String },
    #[error("the DPoP key of login session `{session}` in {path} cannot be used: {why}")]
    BadKey { session: String, path: String, why: crate::dpop::KeyError },
    #[error(
        "the console sign-in has ended: AWS Sign-In no longer refreshes its credentials (TOKEN_EXPIRED: {message}); a sign-in lasts at most 12 hours, and an administrator can end it sooner"
    )]
    SessionExpired { message: String },
    #[error(
        "the password of this console sign-in was changed, so AWS Sign-In no longer refreshes it (USER_CREDENTIALS_CHANGED: {message})"
    )]
    CredentialsChanged { message: String },
    #[error(
        "AWS Sign-In refused to create or refresh the credentials: the principal lacks permission for the `signin:CreateOAuth2Token` action (INSUFFICIENT_PERMISSIONS: {message})"
    )]
    InsufficientPermissions { message: String },
    #[error(
        "the authorization code expired before tobira could redeem it (AUTHCODE_EXPIRED: {message}); codes last a few minutes and work once"
    )]
    AuthCodeExpired { message: String },
    #[error("AWS Sign-In denied the request (AccessDeniedException, {error}: {message})")]
    AccessDenied { error: String, message: String },
    /// Any other error of the service, in its own words.
    #[error("An error occurred ({shape}) when calling the CreateOAuth2Token operation: {message}")]
    Service { shape: String, error: String, message: String, refresh: bool },
    #[error("AWS Sign-In's answer cannot be used: {0}")]
    BadAnswer(String),
    #[error("Credentials were refreshed, but the refreshed credentials are still expired.")]
    StillExpired,
    #[error(
        "State parameter {got} does not match expected value {expected}: the answer is not from the sign-in tobira started"
    )]
    StateMismatch { got: String, expected: String },
    #[error("Failed to retrieve an authorization code.")]
    NoCode,
    #[error("the sign-in was not completed in the browser ({error}{})", description.as_deref().map(|d| format!(": {d}")).unwrap_or_default())]
    Denied { error: String, description: Option<String> },
    #[error("Failed to decode the verification code: it is not the base64 text the confirmation page shows")]
    BadVerificationCode,
    #[error("Failed to retrieve an auth_code or state from the verification code")]
    IncompleteVerificationCode,
    #[error("no sign-in arrived within {} minutes; the pending authorization has expired", .0.as_secs() / 60)]
    PendingExpired(Duration),
    #[error("cannot listen for the sign-in's callback on 127.0.0.1: {0}")]
    Callback(String),
    #[error("cancelled")]
    Cancelled,
}

impl SigninError {
    /// True when a new sign-in (not a retry) is what fixes it.
    pub fn needs_login(&self) -> bool {
        matches!(
            self,
            SigninError::NotSignedIn { .. }
                | SigninError::BadCacheFile { .. }
                | SigninError::BadKey { .. }
                | SigninError::SessionExpired { .. }
                | SigninError::CredentialsChanged { .. }
                | SigninError::AuthCodeExpired { .. }
                | SigninError::AccessDenied { .. }
                | SigninError::StillExpired
                | SigninError::StateMismatch { .. }
                | SigninError::NoCode
                | SigninError::Denied { .. }
                | SigninError::BadVerificationCode
                | SigninError::IncompleteVerificationCode
                | SigninError::PendingExpired(_)
                | SigninError::Callback(_)
                | SigninError::Service { refresh: true, .. }
        )
    }
}

impl From<SigninError> for AuthError {
    fn from(error: SigninError) -> AuthError {
        AuthError::Signin { profile: None, error }
    }
}

/// What the user sees and types during a sign-in. The CLI prints and reads
/// the terminal; tests answer directly.
pub trait SigninUi {
    /// Opens a URL in the browser; false if none could be opened.
    fn open_browser(&mut self, url: &str) -> bool;
    /// The authorize URL, whether a browser was opened, and whether this is
    /// a `--remote` sign-in (the user then pastes a code).
    fn show_url(&mut self, url: &str, opened: bool, remote: bool);
    /// `--remote`: the verification code the confirmation page showed.
    fn read_code(&mut self) -> Result<String, SigninError>;
}

/// Options of [`login`].
#[derive(Clone, Copy, Debug)]
pub struct SigninOptions {
    /// Sign in on another device and paste the code (no loopback listener).
    pub remote: bool,
    /// Open the browser (else only print the URL).
    pub open_browser: bool,
    /// How long to wait for the browser (the AWS CLI waits 600 s).
    pub timeout: Duration,
}

/// A finished sign-in: the principal (the value of `login_session`) and
/// what to cache.
#[derive(Debug)]
pub struct ConsoleSignin {
    pub session: String,
    pub token: LoginToken,
}

/// The authorize URL, parameters in the AWS CLI's order.
fn authorize_url(origin: &str, client_id: &str, state: &str, redirect: &str, challenge: &str) -> String {
    format!(
        "{origin}/v1/authorize?response_type=code&client_id={}&state={}&code_challenge_method=SHA-256&scope=openid&redirect_uri={}&code_challenge={challenge}",
        pkce::encode(client_id),
        pkce::encode(state),
        pkce::encode(redirect),
    )
}

/// `--remote`: the pasted text is base64 of `state=…&code=…`.
fn decode_verification_code(text: &str) -> Result<(String, String), SigninError> {
    let text: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    if text.is_empty() {
        return Err(SigninError::NoCode);
    }
    let engine = base64::engine::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
    );
    let bytes = engine.decode(text.as_bytes()).map_err(|_| SigninError::BadVerificationCode)?;
    let query = String::from_utf8(bytes).map_err(|_| SigninError::BadVerificationCode)?;
    let mut state = None;
    let mut code = None;
    for pair in query.split('&') {
        match pair.split_once('=') {
            Some(("state", v)) => state = Some(pkce::decode(v)),
            Some(("code", v)) => code = Some(pkce::decode(v)),
            _ => {}
        }
    }
    match (state, code) {
        (Some(s), Some(c)) if !s.is_empty() && !c.is_empty() => Ok((s, c)),
        _ => Err(SigninError::IncompleteVerificationCode),
    }
}

/// The `sub` claim of an ID token (the payload is read, not verified, as
/// every AWS client does: the token came straight from the service over TLS).
fn subject(id_token: &str) -> Result<String, SigninError> {
    let parts: Vec<&str> = id_token.split('.').collect();
    let [_, payload, _] = parts.as_slice() else {
        return Err(SigninError::BadAnswer("the ID token is not a JWT (three parts)".into()));
    };
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .map_err(|_| SigninError::BadAnswer("the ID token's payload is not base64url".into()))?;
    let claims: Value = serde_json::from_slice(&bytes)
        .map_err(|_| SigninError::BadAnswer("the ID token's payload is not JSON".into()))?;
    claims
        .get("sub")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .ok_or_else(|| SigninError::BadAnswer("the ID token has no `sub` (the principal)".into()))
}

/// When a sign-in was made: its ID token's `iat` (read, not verified; for
/// display only).
pub fn signed_in_at(token: &LoginToken) -> Option<Timestamp> {
    let payload = token.id_token.as_ref()?.expose().split('.').nth(1)?.to_string();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    let v: Value = serde_json::from_slice(&bytes).ok()?;
    Timestamp::from_second(v.get("iat")?.as_i64()?).ok()
}

/// Signs in: opens (or shows) the authorize page, waits for the callback or
/// the pasted code, and redeems the code. Nothing is written; the caller
/// caches [`ConsoleSignin::token`] and updates the profile.
pub async fn login(
    target: &SigninTarget,
    opts: SigninOptions,
    ui: &mut dyn SigninUi,
    clock: Clock<'_>,
) -> Result<ConsoleSignin, AuthError> {
    let token_url = target.token_url()?;
    let origin = target.origin()?;
    let key = DpopKey::generate();
    let verifier = pkce::verifier();
    let state = uuid4();
    let challenge = pkce::challenge(&verifier);
    let (client_id, redirect, code) = if opts.remote {
        let redirect = format!("{origin}/v1/sessions/confirmation");
        let url = authorize_url(&origin, CROSS_DEVICE, &state, &redirect, &challenge);
        ui.show_url(&url, false, true);
        let (got, code) = decode_verification_code(&ui.read_code()?)?;
        if got != state {
            return Err(SigninError::StateMismatch { got, expected: state }.into());
        }
        (CROSS_DEVICE, redirect, code)
    } else {
        // Bound before the browser opens: the URL names the port.
        let listener = pkce::Listener::bind().await.map_err(|e| {
            SigninError::Callback(
                e.to_string()
                    .trim_start_matches("Unable to initialize the OAuth 2.0 authorization callback handler: ")
                    .to_string(),
            )
        })?;
        let redirect = format!("http://127.0.0.1:{}/oauth/callback", listener.port);
        let url = authorize_url(&origin, SAME_DEVICE, &state, &redirect, &challenge);
        let opened = opts.open_browser && ui.open_browser(&url);
        ui.show_url(&url, opened, false);
        let code = match tokio::time::timeout(opts.timeout, callback(&listener, &state)).await {
            Ok(r) => r?,
            Err(_) => return Err(SigninError::PendingExpired(opts.timeout).into()),
        };
        (SAME_DEVICE, redirect, code)
    };
    let body = json!({
        "clientId": client_id, "grantType": "authorization_code", "code": code,
        "codeVerifier": verifier, "redirectUri": redirect,
    });
    let out = create_token(target, &token_url, &key, &body, clock, false).await?;
    let id_token = out.id_token.ok_or_else(|| SigninError::BadAnswer("it has no `idToken`".into()))?;
    let session = subject(id_token.expose())?;
    let expires_at = expiry(clock(), out.expires_in);
    let dpop_key =
        key.to_sec1_pem().ok_or_else(|| SigninError::BadAnswer("the new DPoP key cannot be written".into()))?;
    let token = LoginToken {
        access_key_id: out.access_key_id,
        secret_access_key: out.secret_access_key,
        session_token: out.session_token,
        account_id: account_of(&session),
        expires_at,
        token_type: out.token_type,
        client_id: client_id.to_string(),
        refresh_token: out.refresh_token.ok_or_else(|| SigninError::BadAnswer("it has no `refreshToken`".into()))?,
        id_token: Some(id_token),
        dpop_key: Secret::new(dpop_key),
        extra: serde_json::Map::new(),
    };
    Ok(ConsoleSignin { session, token })
}

/// Waits for the browser's redirect to the loopback listener: the code, once
/// `state` matches. Stray requests (a favicon) are answered and ignored.
async fn callback(listener: &pkce::Listener, state: &str) -> Result<String, SigninError> {
    loop {
        let (params, stream) =
            pkce::next_callback(&listener.listener).await.map_err(|e| SigninError::Callback(e.to_string()))?;
        let get = |k: &str| params.iter().find(|(x, _)| x == k).map(|(_, v)| v.clone());
        if let Some(error) = get("error") {
            pkce::respond(stream, pkce::FAILED_PAGE).await;
            return Err(SigninError::Denied { error, description: get("error_description") });
        }
        match (get("code"), get("state")) {
            (Some(code), Some(s)) if s == state => {
                pkce::respond(stream, pkce::DONE_PAGE).await;
                return Ok(code);
            }
            (Some(_), got) => {
                pkce::respond(stream, pkce::FAILED_PAGE).await;
                return Err(SigninError::StateMismatch { got: got.unwrap_or_default(), expected: state.to_string() });
            }
            _ => pkce::respond(stream, pkce::DONE_PAGE).await,
        }
    }
}

/// What CreateOAuth2Token returned.
struct TokenOutput {
    access_key_id: String,
    secret_access_key: Secret,
    session_token: Secret,
    token_type: String,
    expires_in: i64,
    refresh_token: Option<Secret>,
    id_token: Option<Secret>,
}

/// `now + expires_in` in whole seconds, as the cache file keeps it.
fn expiry(now: Timestamp, expires_in: i64) -> Timestamp {
    let at = now + SignedDuration::from_secs(expires_in);
    Timestamp::from_second(at.as_second()).unwrap_or(at)
}

/// One CreateOAuth2Token call with a fresh DPoP proof. Not retried: a
/// refresh that reached the service rotated the refresh token, and sending
/// the old one again would end the whole sign-in.
async fn create_token(
    target: &SigninTarget,
    url: &str,
    key: &DpopKey,
    body: &Value,
    clock: Clock<'_>,
    refresh: bool,
) -> Result<TokenOutput, AuthError> {
    let call = target.call();
    let net = |failure| AuthError::Network { call: call.clone(), failure };
    let proof = key.proof(url, clock().as_second(), &uuid4());
    let mut request = aws_smithy_runtime_api::http::Request::new(SdkBody::from(body.to_string()));
    request.set_uri(url).map_err(|_| net(NetFailure::BadUrl))?;
    request.set_method("POST").map_err(|e| net(NetFailure::Request(e.to_string())))?;
    let headers = request.headers_mut();
    headers.insert("Content-Type", "application/json");
    headers.insert("Accept", "application/json");
    headers.insert("User-Agent", concat!("tobira/", env!("CARGO_PKG_VERSION")));
    headers.insert("DPoP", proof);
    let connector = target.net.connector();
    let response = connector.call(request).await.map_err(|e| net(crate::failure::connector_failure(&e)))?;
    let status = response.status().as_u16();
    let shape = response.headers().get("x-amzn-errortype").map(|v| v.split(':').next().unwrap_or(v).trim().to_string());
    let content_type =
        response.headers().get("content-type").map(|v| v.split(';').next().unwrap_or(v).trim().to_string());
    let bytes = aws_smithy_types::byte_stream::ByteStream::new(response.into_body())
        .collect()
        .await
        .map_err(|e| net(NetFailure::Connection(e.to_string())))?
        .into_bytes();
    let json: Option<Value> = serde_json::from_slice(&bytes).ok();
    let not_the_service = || net(NetFailure::NotTheService { status, content_type: content_type.clone() });
    if status != 200 {
        let (Some(shape), Some(v)) = (shape, json) else { return Err(not_the_service()) };
        let field = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
        let (error, message) = (field("error"), field("message"));
        let e = match (shape.as_str(), error.as_str()) {
            ("AccessDeniedException", "TOKEN_EXPIRED") => SigninError::SessionExpired { message },
            ("AccessDeniedException", "AUTHCODE_EXPIRED") => SigninError::AuthCodeExpired { message },
            ("AccessDeniedException", "USER_CREDENTIALS_CHANGED") => SigninError::CredentialsChanged { message },
            ("AccessDeniedException", "INSUFFICIENT_PERMISSIONS") => SigninError::InsufficientPermissions { message },
            ("AccessDeniedException", _) => SigninError::AccessDenied { error, message },
            _ => SigninError::Service { shape, error, message, refresh },
        };
        return Err(e.into());
    }
    let Some(v) = json else { return Err(not_the_service()) };
    let access = &v["accessToken"];
    let text = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).filter(|s| !s.is_empty()).map(str::to_string);
    let missing = |what: &str| SigninError::BadAnswer(format!("it has no `{what}`"));
    Ok(TokenOutput {
        access_key_id: text(access, "accessKeyId").ok_or_else(|| missing("accessToken.accessKeyId"))?,
        secret_access_key: Secret::new(
            text(access, "secretAccessKey").ok_or_else(|| missing("accessToken.secretAccessKey"))?,
        ),
        session_token: Secret::new(text(access, "sessionToken").ok_or_else(|| missing("accessToken.sessionToken"))?),
        token_type: text(&v, "tokenType").unwrap_or_else(|| "aws_sigv4".into()),
        expires_in: v.get("expiresIn").and_then(Value::as_i64).ok_or_else(|| missing("expiresIn"))?,
        refresh_token: text(&v, "refreshToken").map(Secret::new),
        id_token: text(&v, "idToken").map(Secret::new),
    })
}

/// The cached sign-in of `session`, refreshed first when five minutes or
/// less are left. Concurrent callers (tobira processes) refresh once: check,
/// lock, re-read (another process, or the AWS CLI, may have refreshed it),
/// re-check, refresh, write. The new refresh token replaces the old one;
/// every other key of the file is kept.
pub async fn valid_credentials(
    session: &str,
    target: &SigninTarget,
    cache: &LoginCache,
    clock: Clock<'_>,
) -> Result<LoginToken, AuthError> {
    let token = read(session, cache)?;
    if !token.refresh_due(clock()) {
        return Ok(token);
    }
    let path = cache.path(session);
    // Waiting for the lock must not block the async runtime's threads.
    let _lock = tokio::task::spawn_blocking(move || tobira_fs::Lock::acquire(&path))
        .await
        .map_err(|e| AuthError::Cache(std::io::Error::other(e.to_string())))??;
    let token = read(session, cache)?;
    let now = clock();
    if !token.refresh_due(now) {
        return Ok(token);
    }
    let key = DpopKey::from_pem(token.dpop_key.expose()).map_err(|why| SigninError::BadKey {
        session: session.to_string(),
        path: cache.path(session).display().to_string(),
        why,
    })?;
    let target = target.for_token(&token);
    let url = target.token_url()?;
    let body = json!({
        "clientId": token.client_id, "refreshToken": token.refresh_token.expose(), "grantType": "refresh_token",
    });
    let out = match create_token(&target, &url, &key, &body, clock, true).await {
        Ok(out) => out,
        // Unreachable for now: the credentials still work until they expire.
        Err(AuthError::Network { .. }) if token.expires_at > now => return Ok(token),
        Err(e) => return Err(e),
    };
    let expires_at = expiry(clock(), out.expires_in);
    if expires_at <= clock() {
        return Err(SigninError::StillExpired.into());
    }
    let fresh = LoginToken {
        access_key_id: out.access_key_id,
        secret_access_key: out.secret_access_key,
        session_token: out.session_token,
        account_id: token.account_id.clone().or_else(|| account_of(session)),
        expires_at,
        token_type: out.token_type,
        refresh_token: out.refresh_token.unwrap_or_else(|| token.refresh_token.clone()),
        ..token
    };
    cache.write_locked(session, &fresh)?;
    Ok(fresh)
}

/// Where a plan's login step refreshes: the plan's region and its
/// `signin` endpoint override.
pub fn target_of(plan: &tobira_config::Plan, net: &Net) -> SigninTarget {
    SigninTarget {
        region: plan.region.as_ref().map(|r| r.value.clone()),
        endpoint: plan.endpoints.signin.as_ref().map(|e| e.value.clone()),
        net: net.clone(),
    }
}

/// The credentials of a plan's `login_session` step (the executor's), with
/// the profile that holds `login_session` named in errors.
pub async fn step_credentials(
    plan: &tobira_config::Plan,
    net: &Net,
    profile: &str,
    session: &str,
    cache_dir: &std::path::Path,
    clock: Clock<'_>,
) -> Result<tobira_cache::Credentials, AuthError> {
    let cache = LoginCache::at(cache_dir.to_path_buf());
    match valid_credentials(session, &target_of(plan, net), &cache, clock).await {
        Ok(t) => Ok(t.credentials()),
        Err(AuthError::Signin { error, .. }) => Err(AuthError::Signin { profile: Some(profile.to_string()), error }),
        Err(e) => Err(e),
    }
}

/// The cached credentials of a login session when more than five minutes
/// are left: the executor's fast path (no network, no runtime).
pub fn cached(session: &str, cache_dir: &std::path::Path, now: Timestamp) -> Option<tobira_cache::Credentials> {
    let token = LoginCache::at(cache_dir.to_path_buf()).read(session).ok()??;
    (!token.refresh_due(now)).then(|| token.credentials())
}

fn read(session: &str, cache: &LoginCache) -> Result<LoginToken, AuthError> {
    match cache.read(session) {
        Ok(Some(t)) => Ok(t),
        Ok(None) => Err(SigninError::NotSignedIn {
            session: session.to_string(),
            path: cache.path(session).display().to_string(),
        }
        .into()),
        Err(LoginCacheError::Invalid { path, error }) => {
            Err(SigninError::BadCacheFile { session: session.to_string(), why: format!("{}: {error}", path.display()) }
                .into())
        }
        Err(LoginCacheError::Io { source, .. }) => Err(AuthError::Cache(source)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_and_urls() {
        let t = SigninTarget { region: Some("eu-central-1".into()), endpoint: None, net: Net::direct() };
        assert_eq!(t.token_url().unwrap(), "https://eu-central-1.signin.aws.amazon.com/v1/token");
        assert_eq!(default_endpoint("cn-north-1"), "https://cn-north-1.signin.amazonaws.cn");
        assert_eq!(default_endpoint("us-gov-west-1"), "https://us-gov-west-1.signin.amazonaws-us-gov.com");
        // A path prefix is kept for the token call and dropped for the page.
        let t = SigninTarget { region: None, endpoint: Some("http://127.0.0.1:45969/pfx/".into()), net: Net::direct() };
        assert_eq!(t.token_url().unwrap(), "http://127.0.0.1:45969/pfx/v1/token");
        assert_eq!(t.origin().unwrap(), "http://127.0.0.1:45969");
        assert!(matches!(
            SigninTarget { region: None, endpoint: None, net: Net::direct() }.token_url(),
            Err(SigninError::NoRegion)
        ));
        assert_eq!(
            authorize_url(
                "http://127.0.0.1:45969",
                SAME_DEVICE,
                "c01acef1-917c-4ce9-8e7b-1b2da02795f7",
                "http://127.0.0.1:33901/oauth/callback",
                "dFCUu6vvs_w7OpfMFlr8c4i6w1KsUKVkUL34dSiqlPc"
            ),
            "http://127.0.0.1:45969/v1/authorize?response_type=code&client_id=arn%3Aaws%3Asignin%3A%3A%3Adevtools%2Fsame-device&state=c01acef1-917c-4ce9-8e7b-1b2da02795f7&code_challenge_method=SHA-256&scope=openid&redirect_uri=http%3A%2F%2F127.0.0.1%3A33901%2Foauth%2Fcallback&code_challenge=dFCUu6vvs_w7OpfMFlr8c4i6w1KsUKVkUL34dSiqlPc"
        );
    }

    #[test]
    fn a_cached_sign_in_names_its_region() {
        let file = |extra: &str| {
            LoginToken::from_json(format!(r#"{{"accessToken": {{"accessKeyId": "A", "secretAccessKey": "S", "sessionToken": "T", "accountId": "123456789012", "expiresAt": "2026-11-30T11:24:30.681Z"}}, "clientId": "c", "refreshToken": "R", "dpopKey": "K"{extra}}}"#).as_bytes())
            .unwrap()
        };
        let profile = SigninTarget { region: Some("us-east-1".into()), endpoint: None, net: Net::direct() };
        // The JS SDK's rule: the file's signInRegion before the profile's region.
        let t = profile.for_token(&file(r#", "signInRegion": "eu-west-1""#));
        assert_eq!(t.token_url().unwrap(), "https://eu-west-1.signin.aws.amazon.com/v1/token");
        assert_eq!(t.call().region, "eu-west-1");
        let t = SigninTarget { region: None, endpoint: None, net: Net::direct() }
            .for_token(&file(r#", "signInRegion": "cn-north-1""#));
        assert_eq!(t.token_url().unwrap(), "https://cn-north-1.signin.amazonaws.cn/v1/token", "no region needed");
        // A configured endpoint still wins; no, empty or odd values change nothing.
        let emulator = SigninTarget {
            region: Some("us-east-1".into()),
            endpoint: Some("http://127.0.0.1:4000".into()),
            net: Net::direct(),
        };
        assert_eq!(emulator.for_token(&file(r#", "signInRegion": "eu-west-1""#)), emulator);
        for extra in [
            "",
            r#", "signInRegion": """#,
            r#", "signInRegion": 7"#,
            r#", "signInRegion": "evil.example/x""#,
            r#", "signInRegion": "EU-WEST-1""#,
        ] {
            assert_eq!(profile.for_token(&file(extra)), profile, "{extra}");
        }
    }

    #[test]
    fn verification_codes() {
        let code = base64::engine::general_purpose::STANDARD.encode("state=f3d8&code=signin-code-ca8c");
        assert_eq!(
            decode_verification_code(&format!(" {code}\n")).unwrap(),
            ("f3d8".into(), "signin-code-ca8c".into())
        );
        let reordered = base64::engine::general_purpose::STANDARD.encode("code=c&state=s");
        assert_eq!(decode_verification_code(reordered.trim_end_matches('=')).unwrap(), ("s".into(), "c".into()));
        assert!(matches!(decode_verification_code(""), Err(SigninError::NoCode)));
        assert!(matches!(decode_verification_code("not base64!"), Err(SigninError::BadVerificationCode)));
        let half = base64::engine::general_purpose::STANDARD.encode("state=s");
        assert!(matches!(decode_verification_code(&half), Err(SigninError::IncompleteVerificationCode)));
    }

    #[test]
    fn id_token_subjects() {
        let b = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        let jwt = format!("{}.{}.sig", b("{}"), b(r#"{"sub":"arn:aws:iam::123456789012:user/bob"}"#));
        assert_eq!(subject(&jwt).unwrap(), "arn:aws:iam::123456789012:user/bob");
        assert!(subject("a.b").is_err());
        assert!(subject(&format!("h.{}.s", b("{}"))).is_err());
    }
}
