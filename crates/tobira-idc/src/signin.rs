//! The Sign-In service's token endpoint (`aws login`, docs/signin.md §4):
//! `POST /v1/token` (CreateOAuth2Token, rest-json, unsigned) exchanges an
//! authorization code, or rotates a refresh token, for 15-minute SigV4
//! credentials. Every request carries a DPoP proof (RFC 9449) that is
//! verified (`wire::dpop`) and whose `jti` is accepted once; refresh tokens
//! are bound to the proof key's thumbprint, so a stolen refresh token is
//! useless without the key.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::Response;
use serde::Deserialize;
use serde_json::json;

use crate::Idc;
use crate::domain::console::{self, CROSS_DEVICE, SAME_DEVICE, TokenError, Tokens};
use crate::wire::dpop::{self, IAT_WINDOW_SECONDS};
use crate::wire::rest_json;

/// The `tokenInput` members (camelCase).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TokenInput {
    client_id: Option<String>,
    grant_type: Option<String>,
    code: Option<String>,
    code_verifier: Option<String>,
    redirect_uri: Option<String>,
    refresh_token: Option<String>,
}

/// An error as the service sends it: `x-amzn-ErrorType` and `{error, message}`.
fn error(shape: &str, code: &str, message: &str) -> Response {
    let status =
        if shape == "InternalServerException" { StatusCode::INTERNAL_SERVER_ERROR } else { StatusCode::BAD_REQUEST };
    rest_json::error(status, shape, &json!({ "error": code, "message": message }))
}

fn invalid(message: &str) -> Response {
    error("ValidationException", "INVALID_REQUEST", message)
}

pub(crate) async fn create_token(State(idc): State<Idc>, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    let Ok(input) = serde_json::from_slice::<TokenInput>(&body) else {
        return invalid("The request body must be a JSON tokenInput object.");
    };
    let Some(client_id) = input.client_id.as_deref().filter(|c| *c == SAME_DEVICE || *c == CROSS_DEVICE) else {
        return invalid("clientId must be arn:aws:signin:::devtools/same-device or cross-device.");
    };
    // The proof must be for this very request (RFC 9449 §4.3).
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("");
    let url = format!("http://{host}{}", uri.path());
    let core = idc.core();
    let now = core.now();
    let proof = match dpop::verify(headers.get("dpop").and_then(|v| v.to_str().ok()), &url, now) {
        Ok(p) => p,
        Err(e) => return invalid(&format!("Invalid DPoP proof: {e}.")),
    };
    match console::first_use_of_proof(core, &proof.jti, proof.iat + IAT_WINDOW_SECONDS + 60) {
        Ok(true) => {}
        Ok(false) => return invalid("Invalid DPoP proof: its jti was already used (a replayed proof)."),
        Err(e) => return error("InternalServerException", "server_error", &e.to_string()),
    }
    let result = match input.grant_type.as_deref() {
        Some("authorization_code") => {
            let (Some(code), Some(verifier), Some(redirect)) =
                (input.code.as_deref(), input.code_verifier.as_deref(), input.redirect_uri.as_deref())
            else {
                return invalid("code, codeVerifier and redirectUri are required for authorization_code.");
            };
            if !(43..=128).contains(&verifier.len()) {
                return invalid("codeVerifier must be 43 to 128 characters.");
            }
            console::redeem(core, client_id, code, verifier, redirect, &proof.jkt)
        }
        Some("refresh_token") => {
            let Some(token) = input.refresh_token.as_deref() else {
                return invalid("refreshToken is required for refresh_token.");
            };
            console::refresh(core, client_id, token, &proof.jkt)
        }
        _ => return invalid("grantType must be authorization_code or refresh_token."),
    };
    let first = input.grant_type.as_deref() == Some("authorization_code");
    match result {
        Ok(t) => answer(core, &t, client_id, first),
        Err(TokenError::CodeExpired) => {
            error("AccessDeniedException", "AUTHCODE_EXPIRED", &TokenError::CodeExpired.to_string())
        }
        Err(TokenError::Expired) => error("AccessDeniedException", "TOKEN_EXPIRED", &TokenError::Expired.to_string()),
        Err(TokenError::Invalid) => invalid(&TokenError::Invalid.to_string()),
        Err(TokenError::Store(e)) => error("InternalServerException", "server_error", &e.to_string()),
    }
}

fn answer(core: &crate::domain::Core, t: &Tokens, client_id: &str, with_id_token: bool) -> Response {
    let c = &t.credentials;
    let mut body = json!({
        "accessToken": {
            "accessKeyId": c.access_key_id,
            "secretAccessKey": c.secret_access_key,
            "sessionToken": c.session_token,
        },
        "tokenType": "aws_sigv4",
        "expiresIn": t.expires_in,
        "refreshToken": t.refresh_token,
    });
    if with_id_token {
        body["idToken"] = json!(console::id_token(core, &t.arn, client_id));
    }
    rest_json::ok(&body)
}
