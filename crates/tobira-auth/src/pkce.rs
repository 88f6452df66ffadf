//! The authorization code flow with PKCE (wire.md §2.5): a loopback listener
//! on 127.0.0.1 bound before the browser opens, the `/authorize` URL, the
//! callback with `state` checked, then CreateToken.

use base64::Engine as _;
use sha2::{Digest, Sha256};
use tobira_cache::Registration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::{
    AuthError, DEFAULT_SCOPE, LoginOptions, LoginUi, SsoTarget, Tokens, oidc_client, random_bytes, service_error,
};

pub(crate) struct Listener {
    pub(crate) listener: TcpListener,
    pub(crate) port: u16,
}

impl Listener {
    pub(crate) async fn bind() -> Result<Listener, AuthError> {
        let listener = TcpListener::bind(("127.0.0.1", 0))
            .await
            .map_err(|e| AuthError::Callback(format!("cannot listen on 127.0.0.1: {e}")))?;
        let port = listener.local_addr().map_err(|e| AuthError::Callback(e.to_string()))?.port();
        Ok(Listener { listener, port })
    }
}

const UNRESERVED: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~";

/// 64 characters from the RFC 7636 unreserved set.
pub(crate) fn verifier() -> String {
    random_bytes(64).iter().map(|b| UNRESERVED[usize::from(*b) % UNRESERVED.len()] as char).collect()
}

pub(crate) fn challenge(verifier: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

pub(crate) fn encode(s: &str) -> String {
    s.bytes().map(|b| if UNRESERVED.contains(&b) { (b as char).to_string() } else { format!("%{b:02X}") }).collect()
}

pub(crate) fn decode(s: &str) -> String {
    let hex = |b: u8| (b as char).to_digit(16).and_then(|d| u8::try_from(d).ok());
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push(h * 16 + l);
            i += 3;
            continue;
        }
        out.push(if bytes[i] == b'+' { b' ' } else { bytes[i] });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The `/authorize` URL: at the root of the OIDC endpoint's origin.
fn authorize_url(target: &SsoTarget, client_id: &str, redirect: &str, state: &str, challenge: &str) -> String {
    let base = target.oidc_base();
    let origin = match base.find("://") {
        Some(i) => {
            let rest = &base[i + 3..];
            let host_end = rest.find('/').unwrap_or(rest.len());
            format!("{}{}", &base[..i + 3], &rest[..host_end])
        }
        None => base,
    };
    let scopes = target.scopes.clone().unwrap_or_else(|| vec![DEFAULT_SCOPE.to_string()]).join(" ");
    format!(
        "{origin}/authorize?response_type=code&client_id={}&redirect_uri={}&state={}&code_challenge_method=S256&scopes={}&code_challenge={}",
        encode(client_id),
        encode(redirect),
        encode(state),
        encode(&scopes),
        challenge
    )
}

pub(crate) const DONE_PAGE: &str = "<!doctype html><html><head><meta charset=\"utf-8\"><title>tobira</title></head>\
<body style=\"font-family:sans-serif;margin:3em\"><h1>Signed in</h1><p>tobira received your sign-in. You can close this tab and return to the terminal.</p></body></html>";
pub(crate) const FAILED_PAGE: &str = "<!doctype html><html><head><meta charset=\"utf-8\"><title>tobira</title></head>\
<body style=\"font-family:sans-serif;margin:3em\"><h1>Sign-in failed</h1><p>The authorization was not granted. Return to the terminal for details.</p></body></html>";

/// Query parameters of one callback request.
pub(crate) async fn next_callback(
    listener: &TcpListener,
) -> std::io::Result<(Vec<(String, String)>, tokio::net::TcpStream)> {
    let (mut stream, _) = listener.accept().await?;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") && buf.len() < 16 * 1024 {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let head = String::from_utf8_lossy(&buf);
    let target = head.lines().next().and_then(|l| l.split_whitespace().nth(1)).unwrap_or("/");
    let query = target.split_once('?').map(|(_, q)| q).unwrap_or("");
    let params = query
        .split('&')
        .filter(|kv| !kv.is_empty())
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (decode(k), decode(v))
        })
        .collect();
    Ok((params, stream))
}

pub(crate) async fn respond(mut stream: tokio::net::TcpStream, page: &str) {
    let response = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{page}",
        page.len()
    );
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
}

pub(crate) async fn run(
    target: &SsoTarget,
    reg: &Registration,
    listener: Listener,
    opts: LoginOptions,
    ui: &mut dyn LoginUi,
) -> Result<Tokens, AuthError> {
    let verifier = verifier();
    let state: String = random_bytes(16).iter().map(|b| format!("{b:02x}")).collect();
    let redirect = format!("http://127.0.0.1:{}/oauth/callback", listener.port);
    tracing::debug!(%redirect, "waiting for the browser's redirect (authorization code + PKCE)");
    let url = authorize_url(target, &reg.client_id, &redirect, &state, &challenge(&verifier));
    let opened = opts.open_browser && ui.open_browser(&url);
    ui.pkce_prompt(&url, opened);

    let wait = async {
        loop {
            let (params, stream) =
                next_callback(&listener.listener).await.map_err(|e| AuthError::Callback(e.to_string()))?;
            let get = |k: &str| params.iter().find(|(x, _)| x == k).map(|(_, v)| v.clone());
            if let Some(error) = get("error") {
                respond(stream, FAILED_PAGE).await;
                return Err(AuthError::AuthorizationFailed(error));
            }
            match (get("code"), get("state")) {
                (Some(code), Some(s)) if s == state => {
                    respond(stream, DONE_PAGE).await;
                    return Ok(code);
                }
                (Some(_), _) => {
                    respond(stream, FAILED_PAGE).await;
                    return Err(AuthError::StateMismatch);
                }
                // Favicon and other stray requests: keep waiting.
                _ => respond(stream, DONE_PAGE).await,
            }
        }
    };
    let code = match tokio::time::timeout(opts.timeout, wait).await {
        Ok(r) => r?,
        Err(_) => return Err(AuthError::PendingExpired),
    };
    let out = oidc_client(target)
        .create_token()
        .client_id(&reg.client_id)
        .client_secret(reg.client_secret.expose())
        .grant_type("authorization_code")
        .code(code)
        .code_verifier(&verifier)
        .redirect_uri(&redirect)
        .send()
        .await
        .map_err(|e| match service_error(target.oidc_call("CreateToken"), e) {
            AuthError::Service { code, .. } if code == "ExpiredTokenException" => AuthError::PendingExpired,
            other => other,
        })?;
    Ok(Tokens {
        access_token: out.access_token().unwrap_or_default().to_string(),
        expires_in: out.expires_in(),
        refresh_token: out.refresh_token().map(str::to_string),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_pieces() {
        assert_eq!(
            challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        let v = verifier();
        assert_eq!(v.len(), 64);
        assert!(v.bytes().all(|b| UNRESERVED.contains(&b)));
        assert_eq!(decode("a%20b%3A%2F+c"), "a b:/ c");
        assert_eq!(decode("100%"), "100%");
        let t = SsoTarget {
            session: Some("corp".into()),
            start_url: "https://d-1234567890.awsapps.com/start".into(),
            region: "us-east-1".into(),
            scopes: None,
            oidc_endpoint: Some("http://127.0.0.1:9/some/prefix".into()),
            portal_endpoint: None,
            net: crate::Net::direct(),
        };
        assert_eq!(
            authorize_url(&t, "cid", "http://127.0.0.1:5/oauth/callback", "st", "ch"),
            "http://127.0.0.1:9/authorize?response_type=code&client_id=cid&redirect_uri=http%3A%2F%2F127.0.0.1%3A5%2Foauth%2Fcallback&state=st&code_challenge_method=S256&scopes=sso%3Aaccount%3Aaccess&code_challenge=ch"
        );
    }
}
