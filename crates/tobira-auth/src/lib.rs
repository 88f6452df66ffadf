//! IAM Identity Center sign-in for tobira, through the official AWS SDK for
//! Rust (SSO OIDC and SSO portal clients, endpoints passed explicitly):
//! - [`login`]: authorization code + PKCE (a loopback listener bound before
//!   the browser opens) or the device code flow, writing the token and the
//!   client registration exactly where and how the AWS CLI v2 does;
//! - [`valid_token`]: the cached token, refreshed under a lock when due
//!   (check, lock, re-read, re-check, refresh, write);
//! - [`portal`]: accounts, roles (paged, concurrent, retried under an
//!   adaptive send rate: [`throttle`]), logout;
//! - [`signin`]: console sign-ins of `aws login` (`login_session`
//!   profiles), with DPoP proofs ([`dpop`]) and their refresh.
//!
//! The device-code polling is a pure decision function ([`device::next`])
//! driven by a thin loop, so its rules are tested without a server.

pub mod creds;
pub mod device;
pub mod dpop;
mod failure;
pub mod federation;
pub mod mfa_codes;
pub mod net;
mod pkce;
pub mod portal;
pub mod probe;
pub mod signin;
pub mod throttle;

use std::time::Duration;

use aws_smithy_http_client::{Builder, tls};
use jiff::{SignedDuration, Timestamp};
use tobira_cache::keys::{SsoKey, registration_file_name};
use tobira_cache::token::format_time;
use tobira_cache::{Freshness, Registration, SsoCache, SsoToken};
use tobira_config::Secret;

pub(crate) use failure::service_error;
pub use failure::{Call, NetFailure, Service, TimeoutPhase};
pub use net::Net;

/// The scope the AWS CLI registers PKCE clients with when none is configured.
pub const DEFAULT_SCOPE: &str = "sso:account:access";

/// What to sign in to: an sso-session, or a legacy profile's start URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SsoTarget {
    /// The `[sso-session]` name; `None` for a legacy profile.
    pub session: Option<String>,
    pub start_url: String,
    pub region: String,
    /// `sso_registration_scopes` as configured (`None` when absent).
    pub scopes: Option<Vec<String>>,
    /// Endpoint overrides resolved by tobira-config (`AWS_ENDPOINT_URL_*`,
    /// `[services]`, `endpoint_url`).
    pub oidc_endpoint: Option<String>,
    pub portal_endpoint: Option<String>,
    /// How its calls go out (timeouts, proxies).
    pub net: Net,
}

impl SsoTarget {
    pub fn cache_key(&self) -> SsoKey<'_> {
        match &self.session {
            Some(s) => SsoKey::Session(s),
            None => SsoKey::LegacyStartUrl(&self.start_url),
        }
    }

    /// How users name this login on the command line.
    pub fn login_command(&self, profile: Option<&str>) -> String {
        match (&self.session, profile) {
            (Some(s), _) => format!("tobira login --sso-session {s}"),
            (None, Some(p)) if p != "default" => format!("tobira login --profile {p}"),
            (None, _) => "tobira login".to_string(),
        }
    }

    fn oidc_base(&self) -> String {
        self.oidc_call("").url
    }

    /// An SSO OIDC call of this login (for error messages).
    pub(crate) fn oidc_call(&self, operation: &'static str) -> Call {
        Call::new(Service::SsoOidc, operation, self.oidc_endpoint.as_deref(), &self.region, &self.net)
    }

    /// An SSO portal call of this login (for error messages).
    pub(crate) fn portal_call(&self, operation: &'static str) -> Call {
        Call::new(Service::Portal, operation, self.portal_endpoint.as_deref(), &self.region, &self.net)
    }
}

/// Why signing in or using a login failed. `Display` is a plain sentence;
/// the CLI adds the command that fixes it.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("An error occurred ({code}) when calling the {operation} operation: {message}")]
    Service { operation: &'static str, code: String, message: String },
    /// No usable answer: the address could not be reached, or something other
    /// than the service answered.
    #[error("cannot use the {} endpoint {} ({}): {failure}", call.service.label(), call.url, call.operation)]
    Network { call: Call, failure: NetFailure },
    #[error(
        "The pending authorization to retrieve an SSO token has expired. The login flow to retrieve an SSO token must be restarted."
    )]
    PendingExpired,
    #[error("Error loading authorization code: State parameter does not match expected value.")]
    StateMismatch,
    #[error("Error loading authorization code: Failed to retrieve an authorization code ({0}).")]
    AuthorizationFailed(String),
    #[error("Unable to initialize the OAuth 2.0 authorization callback handler: {0}")]
    Callback(String),
    #[error("Token for {0} does not exist")]
    NoToken(String),
    #[error("Token for {0} is invalid")]
    InvalidToken(String),
    #[error("The SSO session for {0} has expired and cannot be refreshed")]
    Expired(String),
    #[error("cannot write the token cache: {0}")]
    Cache(#[from] std::io::Error),
    /// A credential cache entry (`~/.aws/cli/cache`, MFA sessions) could not
    /// be locked or written.
    #[error("cannot {action} the cache file {}: {source}", path.display())]
    CacheFile { action: &'static str, path: std::path::PathBuf, source: std::io::Error },
    #[error("{0}")]
    Credentials(String),
    /// AssumeRole refused a duration over one hour for a chained role.
    #[error("{message}")]
    ChainedDuration { profile: String, message: String },
    /// A console sign-in (`login_session`) failed; `profile` is the profile
    /// that holds `login_session`, when known.
    #[error("{error}")]
    Signin { profile: Option<String>, error: signin::SigninError },
    /// An MFA code was refused (and no other was asked for): by the
    /// service, in its `message`, or before sending when it is no code.
    #[error("{}", match message {
        Some(m) => format!("An error occurred (AccessDenied) when calling the {operation} operation: {m}"),
        None => format!("the MFA code for {serial} is not 6 digits"),
    })]
    MfaRefused { serial: String, refusal: mfa_codes::MfaRefusal, operation: &'static str, message: Option<String> },
}

impl AuthError {
    /// True when a new login (not a retry) is what fixes it.
    pub fn needs_login(&self) -> bool {
        matches!(
            self,
            AuthError::NoToken(_) | AuthError::InvalidToken(_) | AuthError::Expired(_) | AuthError::PendingExpired
        ) || matches!(self, AuthError::Service { code, .. } if code == "UnauthorizedException")
            || matches!(self, AuthError::Signin { error, .. } if error.needs_login())
    }
}

/// The HTTP client of the instance and container metadata providers
/// (`credential_source`): the SDK's own timeouts for them (a second or
/// two), and never a proxy, since those addresses are this machine's own.
pub(crate) fn metadata_http_client() -> aws_smithy_runtime_api::client::http::SharedHttpClient {
    Builder::new().tls_provider(tls::Provider::Rustls(tls::rustls_provider::CryptoMode::Ring)).build_https()
}

/// An SSO OIDC client for the target's region and endpoint.
pub fn oidc_client(target: &SsoTarget) -> aws_sdk_ssooidc::Client {
    let mut b = aws_sdk_ssooidc::Config::builder()
        .behavior_version(aws_sdk_ssooidc::config::BehaviorVersion::latest())
        .region(aws_sdk_ssooidc::config::Region::new(target.region.clone()))
        .http_client(target.net.sdk_http_client());
    if let Some(url) = &target.oidc_endpoint {
        b = b.endpoint_url(url);
    }
    aws_sdk_ssooidc::Client::from_conf(b.build())
}

/// An SSO portal client for the target's region and endpoint.
pub fn portal_client(target: &SsoTarget) -> aws_sdk_sso::Client {
    portal_client_with(target, true)
}

/// An SSO portal client; without `sdk_retries` the SDK makes one attempt
/// per call (the listing in [`portal`] retries itself).
pub(crate) fn portal_client_with(target: &SsoTarget, sdk_retries: bool) -> aws_sdk_sso::Client {
    let mut b = aws_sdk_sso::Config::builder()
        .behavior_version(aws_sdk_sso::config::BehaviorVersion::latest())
        .region(aws_sdk_sso::config::Region::new(target.region.clone()))
        .http_client(target.net.sdk_http_client());
    if !sdk_retries {
        b = b.retry_config(aws_sdk_sso::config::retry::RetryConfig::disabled());
    }
    if let Some(url) = &target.portal_endpoint {
        b = b.endpoint_url(url);
    }
    aws_sdk_sso::Client::from_conf(b.build())
}

/// Which login flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    Pkce,
    Device,
}

/// What the user sees during a login. The CLI prints; tests record.
pub trait LoginUi {
    /// The device flow needs the user: the URL to visit and the code.
    fn device_prompt(&mut self, verification_uri: &str, user_code: &str, complete_uri: &str, opened_browser: bool);
    /// The PKCE flow: the URL of the sign-in page.
    fn pkce_prompt(&mut self, authorize_url: &str, opened_browser: bool);
    /// Opens a URL in the browser; false if none could be opened.
    fn open_browser(&mut self, url: &str) -> bool;
}

/// `random bytes` helper shared by the flows.
pub(crate) fn random_bytes(n: usize) -> Vec<u8> {
    let mut buf = vec![0u8; n];
    #[allow(clippy::expect_used)] // no entropy source is not a state to recover from
    getrandom::fill(&mut buf).expect("the OS random number generator is available");
    buf
}

async fn registration(
    target: &SsoTarget,
    cache: &SsoCache,
    flow: Flow,
    now: Timestamp,
    redirect_base: &str,
) -> Result<Registration, AuthError> {
    let name =
        registration_file_name(&target.region, target.scopes.as_deref(), target.session.as_deref(), &target.start_url);
    if let Some(r) = cache.read_registration(&name)
        && r.reusable(now, flow == Flow::Pkce)
    {
        return Ok(r);
    }
    tracing::debug!(url = %target.oidc_base(), operation = "RegisterClient", ?flow, "registering a client");
    let client = oidc_client(target);
    let client_name = match &target.session {
        Some(s) => format!("tobira-{s}"),
        None => format!("tobira-{}", now.as_second()),
    };
    let mut req = client.register_client().client_name(client_name).client_type("public");
    let scopes = match (flow, &target.scopes) {
        (_, Some(s)) => s.clone(),
        (Flow::Pkce, None) => vec![DEFAULT_SCOPE.to_string()],
        (Flow::Device, None) => vec![],
    };
    for s in &scopes {
        req = req.scopes(s);
    }
    if flow == Flow::Pkce {
        req = req
            .grant_types("authorization_code")
            .grant_types("refresh_token")
            .redirect_uris(format!("{redirect_base}/oauth/callback"))
            .issuer_url(&target.start_url);
    }
    let out = req.send().await.map_err(|e| service_error(target.oidc_call("RegisterClient"), e))?;
    let reg = Registration {
        client_id: out.client_id().unwrap_or_default().to_string(),
        client_secret: Secret::new(out.client_secret().unwrap_or_default()),
        expires_at: Timestamp::from_second(out.client_secret_expires_at()).unwrap_or(now),
        scopes: (!scopes.is_empty()).then_some(scopes),
        grant_types: (flow == Flow::Pkce).then(|| vec!["authorization_code".into(), "refresh_token".into()]),
    };
    cache.write_registration(&name, &reg)?;
    Ok(reg)
}

/// Options of [`login`].
#[derive(Clone, Copy, Debug)]
pub struct LoginOptions {
    pub flow: Flow,
    /// Open the browser (else only print the URL).
    pub open_browser: bool,
    /// How long to wait for the user (the AWS CLI waits 600 s).
    pub timeout: Duration,
    /// The time when the sign-in starts (the CLI's clock; docs: ARCHITECTURE.md
    /// rule 1). The token's expiry counts from it plus the time the user took.
    pub now: Timestamp,
}

/// Signs in and caches the token where the AWS CLI looks for it. Always a
/// new login (like `aws sso login`).
pub async fn login(
    target: &SsoTarget,
    cache: &SsoCache,
    opts: LoginOptions,
    ui: &mut dyn LoginUi,
) -> Result<SsoToken, AuthError> {
    let now = opts.now;
    let started = std::time::Instant::now();
    tracing::debug!(flow = ?opts.flow, start_url = %target.start_url, region = %target.region, session = ?target.session, "signing in");
    let (reg, tokens) = match opts.flow {
        Flow::Device => {
            let reg = registration(target, cache, Flow::Device, now, "").await?;
            let tok = device::run(target, &reg, opts, ui).await?;
            (reg, tok)
        }
        Flow::Pkce => {
            // Bind first: the redirect URI needs the port, and the browser must
            // find the listener there.
            let listener = pkce::Listener::bind().await?;
            let reg = registration(target, cache, Flow::Pkce, now, "http://127.0.0.1").await?;
            let tok = pkce::run(target, &reg, listener, opts, ui).await?;
            (reg, tok)
        }
    };
    let token = SsoToken {
        start_url: Some(target.start_url.clone()),
        region: Some(target.region.clone()),
        access_token: Secret::new(tokens.access_token),
        expires_at: later(now, started) + SignedDuration::from_secs(i64::from(tokens.expires_in)),
        client_id: Some(reg.client_id.clone()),
        client_secret: Some(reg.client_secret.clone()),
        registration_expires_at: Some(reg.expires_at),
        refresh_token: tokens.refresh_token.map(Secret::new),
    };
    cache.write_token(target.cache_key(), &token)?;
    Ok(token)
}

/// What CreateToken returned.
#[derive(Debug)]
pub(crate) struct Tokens {
    pub access_token: String,
    pub expires_in: i32,
    pub refresh_token: Option<String>,
}

/// The cached token for `target`, refreshed first when it is inside the
/// refresh window (sso-session logins only). Concurrent callers refresh once:
/// check, lock, re-read, re-check, refresh, write (docs/locking.md).
pub async fn valid_token(target: &SsoTarget, cache: &SsoCache, now: Timestamp) -> Result<SsoToken, AuthError> {
    let started = std::time::Instant::now();
    let name = match &target.session {
        Some(s) => s.clone(),
        None => target.start_url.clone(),
    };
    let read = || match cache.read_token(target.cache_key()) {
        Ok(Some(t)) => Ok(t),
        Ok(None) => Err(AuthError::NoToken(name.clone())),
        Err(_) => Err(AuthError::InvalidToken(name.clone())),
    };
    let token = read()?;
    let legacy = target.session.is_none();
    tracing::debug!(freshness = ?token.freshness(now), legacy, "checked the cached SSO token");
    match token.freshness(now) {
        Freshness::Valid => return Ok(token),
        Freshness::RefreshDue if legacy => return Ok(token),
        Freshness::Expired => return Err(AuthError::Expired(name)),
        _ if legacy => return Err(AuthError::Expired(name)),
        _ => {}
    }
    // Refresh under the token file's lock; another process may have done it.
    let path = cache.token_path(target.cache_key());
    // Waiting for the lock must not block the async runtime's threads.
    let _lock = tokio::task::spawn_blocking(move || tobira_fs::Lock::acquire(&path))
        .await
        .map_err(|e| AuthError::Cache(std::io::Error::other(e.to_string())))??;
    let seen = token;
    let token = read()?;
    // Waiting for the lock may have taken a while.
    let now = later(now, started);
    // Refreshed by another process while this one waited: as good as a new
    // refresh would be, even when tokens are shorter than the window.
    let renewed_meanwhile = token != seen && token.expires_at.duration_since(now) > SignedDuration::from_secs(5);
    match token.freshness(now) {
        Freshness::Valid => return Ok(token),
        Freshness::Expired => return Err(AuthError::Expired(name)),
        _ if renewed_meanwhile => return Ok(token),
        _ => {}
    }
    let (Some(client_id), Some(secret), Some(refresh)) = (&token.client_id, &token.client_secret, &token.refresh_token)
    else {
        return if token.expires_at > now { Ok(token) } else { Err(AuthError::Expired(name)) };
    };
    tracing::debug!(url = %target.oidc_base(), operation = "CreateToken", grant = "refresh_token", "refreshing the SSO token");
    let out = oidc_client(target)
        .create_token()
        .client_id(client_id)
        .client_secret(secret.expose())
        .grant_type("refresh_token")
        .refresh_token(refresh.expose())
        .send()
        .await;
    match out {
        Ok(out) => {
            let fresh = SsoToken {
                start_url: Some(target.start_url.clone()),
                region: Some(target.region.clone()),
                access_token: Secret::new(out.access_token().unwrap_or_default()),
                expires_at: later(now, started) + SignedDuration::from_secs(i64::from(out.expires_in())),
                refresh_token: out.refresh_token().map(Secret::new),
                ..token
            };
            cache.write_token_locked(target.cache_key(), &fresh)?;
            Ok(fresh)
        }
        // A failed refresh keeps the old token while it lasts (as botocore does).
        Err(_) if token.expires_at > now => Ok(token),
        Err(_) => Err(AuthError::Expired(name)),
    }
}

/// `now` moved on by the monotonic time since `started` (never the wall
/// clock: only the CLI reads it).
fn later(now: Timestamp, started: std::time::Instant) -> Timestamp {
    let elapsed = SignedDuration::try_from(started.elapsed()).unwrap_or(SignedDuration::ZERO);
    now.checked_add(elapsed).unwrap_or(now)
}

/// When a token expires, as the AWS CLI writes it.
pub fn expiry_text(t: &SsoToken) -> String {
    format_time(t.expires_at)
}
