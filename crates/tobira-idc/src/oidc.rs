//! SSO OIDC (docs/wire.md §2): RegisterClient, StartDeviceAuthorization and
//! CreateToken (device code, authorization code + PKCE, refresh token with
//! rotation). The browser side of the authorization-code flow,
//! `GET /authorize`, is a page (`pages::authorize`).

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use crate::Idc;
use crate::domain::clients::{self, AuthError, DEVICE_GRANT, Registration, is_loopback_redirect, normalize_start_url};
use crate::domain::grants::{self, DecideError, Poll, RedeemError};
use crate::domain::sessions::{self, TokenError, TokenPair};
use crate::domain::store::{ClientRow, StoreError};
use crate::wire::rest_json;

/// The OIDC error shapes (docs/wire.md §2.4).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Shape {
    AuthorizationPending,
    SlowDown,
    ExpiredToken,
    AccessDenied,
    InvalidGrant,
    InvalidClient,
    InvalidScope,
    UnauthorizedClient,
    UnsupportedGrantType,
    InvalidClientMetadata,
    InvalidRedirectUri,
    InvalidRequest,
    InternalServer,
}

impl Shape {
    /// (HTTP status, `x-amzn-ErrorType`, OAuth `error`).
    fn wire(self) -> (StatusCode, &'static str, &'static str) {
        use Shape::*;
        let bad = StatusCode::BAD_REQUEST;
        match self {
            AuthorizationPending => (bad, "AuthorizationPendingException", "authorization_pending"),
            SlowDown => (bad, "SlowDownException", "slow_down"),
            ExpiredToken => (bad, "ExpiredTokenException", "expired_token"),
            AccessDenied => (bad, "AccessDeniedException", "access_denied"),
            InvalidGrant => (bad, "InvalidGrantException", "invalid_grant"),
            InvalidClient => (StatusCode::UNAUTHORIZED, "InvalidClientException", "invalid_client"),
            InvalidScope => (bad, "InvalidScopeException", "invalid_scope"),
            UnauthorizedClient => (bad, "UnauthorizedClientException", "unauthorized_client"),
            UnsupportedGrantType => (bad, "UnsupportedGrantTypeException", "unsupported_grant_type"),
            InvalidClientMetadata => (bad, "InvalidClientMetadataException", "invalid_client_metadata"),
            InvalidRedirectUri => (bad, "InvalidRedirectUriException", "invalid_redirect_uri"),
            InvalidRequest => (bad, "InvalidRequestException", "invalid_request"),
            InternalServer => (StatusCode::INTERNAL_SERVER_ERROR, "InternalServerException", "server_error"),
        }
    }
}

/// An OIDC error as AWS sends it: `x-amzn-ErrorType` plus `{"error", "error_description"}`.
#[derive(Debug)]
pub(crate) struct OidcError {
    shape: Shape,
    description: String,
}

fn err(shape: Shape, description: impl Into<String>) -> OidcError {
    OidcError { shape, description: description.into() }
}

impl From<StoreError> for OidcError {
    fn from(e: StoreError) -> Self {
        err(Shape::InternalServer, e.to_string())
    }
}

impl From<AuthError> for OidcError {
    fn from(e: AuthError) -> Self {
        match e {
            AuthError::Missing => err(Shape::InvalidRequest, e.to_string()),
            AuthError::Invalid | AuthError::Expired => err(Shape::InvalidClient, e.to_string()),
            AuthError::Store(s) => s.into(),
        }
    }
}

impl From<TokenError> for OidcError {
    fn from(e: TokenError) -> Self {
        match e {
            TokenError::Invalid | TokenError::Reused => err(Shape::InvalidGrant, "Invalid refresh token provided"),
            TokenError::SessionEnded => err(Shape::InvalidGrant, "The sign-in session has ended; sign in again"),
            TokenError::Store(s) => s.into(),
        }
    }
}

impl From<DecideError> for OidcError {
    fn from(e: DecideError) -> Self {
        match e {
            DecideError::Store(s) => s.into(),
            other => err(Shape::AccessDenied, other.to_string()),
        }
    }
}

impl IntoResponse for OidcError {
    fn into_response(self) -> Response {
        let (status, shape, error) = self.shape.wire();
        rest_json::error(status, shape, &json!({ "error": error, "error_description": self.description }))
    }
}

fn parse_body<T: for<'de> Deserialize<'de>>(body: &Bytes) -> Result<T, OidcError> {
    serde_json::from_slice(body).map_err(|e| err(Shape::InvalidRequest, format!("invalid request body: {e}")))
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
    let input: RegisterClientInput = parse_body(&body)?;
    let name = input
        .client_name
        .filter(|n| !n.is_empty())
        .ok_or_else(|| err(Shape::InvalidRequest, "clientName is required"))?;
    match input.client_type.as_deref() {
        Some("public") => {}
        Some(other) => {
            return Err(err(
                Shape::InvalidClientMetadata,
                format!("clientType `{other}` is not supported; use `public`"),
            ));
        }
        None => return Err(err(Shape::InvalidRequest, "clientType is required")),
    }
    for g in &input.grant_types {
        if ![DEVICE_GRANT, "authorization_code", "refresh_token"].contains(&g.as_str()) {
            return Err(err(Shape::UnsupportedGrantType, format!("grant type `{g}` is not supported")));
        }
    }
    for s in &input.scopes {
        if s.is_empty() || !s.contains(':') && s != "openid" {
            return Err(err(Shape::InvalidScope, format!("scope `{s}` is not valid")));
        }
    }
    for u in &input.redirect_uris {
        if !is_loopback_redirect(u) {
            return Err(err(Shape::InvalidRedirectUri, format!("redirect URI `{u}` is not a loopback http URI")));
        }
    }
    let code_grant = input.grant_types.iter().any(|g| g == "authorization_code");
    if code_grant && input.redirect_uris.is_empty() {
        return Err(err(Shape::InvalidRedirectUri, "the authorization_code grant needs redirectUris"));
    }
    let (client, secret) = clients::register(
        idc.core(),
        Registration { name, scopes: input.scopes, grant_types: input.grant_types, redirect_uris: input.redirect_uris },
    )?;
    let mut out = json!({
        "clientId": client.id,
        "clientSecret": secret,
        "clientIdIssuedAt": client.issued_at,
        "clientSecretExpiresAt": client.expires_at,
    });
    if code_grant {
        out["authorizationEndpoint"] = json!(format!("{}/authorize", idc.base_url()));
        out["tokenEndpoint"] = json!(format!("{}/token", idc.base_url()));
    }
    Ok(rest_json::ok(&out))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct StartDeviceInput {
    client_id: Option<String>,
    client_secret: Option<String>,
    start_url: Option<String>,
}

pub(crate) async fn start_device_authorization(State(idc): State<Idc>, body: Bytes) -> Result<Response, OidcError> {
    let input: StartDeviceInput = parse_body(&body)?;
    let core = idc.core();
    let client = clients::authenticate(core, input.client_id.as_deref(), input.client_secret.as_deref())?;
    if !clients::allows(&client, DEVICE_GRANT) {
        return Err(err(Shape::UnauthorizedClient, "this client is not registered for the device code grant"));
    }
    let start_url = input.start_url.ok_or_else(|| err(Shape::InvalidRequest, "startUrl is required"))?;
    if normalize_start_url(&start_url) != normalize_start_url(&core.model().dir.instance.start_url) {
        return Err(err(Shape::InvalidRequest, format!("unknown start URL `{start_url}` in this region")));
    }
    let started = grants::start_device(core, &client, &start_url, idc.settings().auto_approve.as_deref())?;
    let base = idc.base_url();
    Ok(rest_json::ok(&json!({
        "deviceCode": started.device_code,
        "userCode": started.user_code,
        "verificationUri": format!("{base}/device"),
        "verificationUriComplete": format!("{base}/device?user_code={}", started.user_code),
        "expiresIn": started.expires_in,
        "interval": started.interval,
    })))
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
    let input: CreateTokenInput = parse_body(&body)?;
    let core = idc.core();
    let client = clients::authenticate(core, input.client_id.as_deref(), input.client_secret.as_deref())?;
    if let Some(g) = input.grant_type.as_deref()
        && [DEVICE_GRANT, "authorization_code", "refresh_token"].contains(&g)
        && !clients::allows(&client, g)
    {
        return Err(err(Shape::UnauthorizedClient, format!("this client is not registered for the `{g}` grant")));
    }
    let pair = match input.grant_type.as_deref() {
        Some(DEVICE_GRANT) => device_token(&idc, &client, input.device_code.as_deref())?,
        Some("authorization_code") => {
            let code = input.code.as_deref().ok_or_else(|| err(Shape::InvalidRequest, "code is required"))?;
            let verifier = input.code_verifier.as_deref().unwrap_or("");
            let session = grants::redeem_code(core, &client, code, input.redirect_uri.as_deref(), verifier).map_err(
                |e| match e {
                    RedeemError::Store(s) => s.into(),
                    other => err(Shape::InvalidGrant, other.to_string()),
                },
            )?;
            sessions::issue(core, &client.id, &session, true)?
        }
        Some("refresh_token") => {
            let token =
                input.refresh_token.as_deref().ok_or_else(|| err(Shape::InvalidRequest, "refreshToken is required"))?;
            sessions::refresh(core, &client.id, token)?
        }
        Some(other) => return Err(err(Shape::UnsupportedGrantType, format!("grant type `{other}` is not supported"))),
        None => return Err(err(Shape::InvalidRequest, "grantType is required")),
    };
    let mut out = json!({ "accessToken": pair.access_token, "tokenType": "Bearer", "expiresIn": pair.expires_in });
    if let Some(r) = pair.refresh_token {
        out["refreshToken"] = json!(r);
    }
    Ok(rest_json::ok(&out))
}

fn device_token(idc: &Idc, client: &ClientRow, device_code: Option<&str>) -> Result<TokenPair, OidcError> {
    let code = device_code.ok_or_else(|| err(Shape::InvalidRequest, "deviceCode is required"))?;
    match grants::poll_device(idc.core(), client, code)? {
        Poll::Approved { session_id } => {
            // Legacy device registrations (no scopes, no refresh grant) get no refresh token.
            let refreshable = !client.scopes.is_empty() || client.grant_types.iter().any(|g| g == "refresh_token");
            Ok(sessions::issue(idc.core(), &client.id, &session_id, refreshable)?)
        }
        Poll::Pending => Err(err(Shape::AuthorizationPending, "Authorization is still pending")),
        Poll::SlowDown => Err(err(Shape::SlowDown, "Client is polling too quickly")),
        Poll::Denied => Err(err(Shape::AccessDenied, "The authorization request was denied")),
        Poll::Expired => Err(err(Shape::ExpiredToken, "Device code has expired")),
        Poll::AlreadyUsed => Err(err(Shape::InvalidGrant, "Device code has already been used")),
        Poll::Invalid => Err(err(Shape::InvalidGrant, "Invalid device code provided")),
    }
}
