//! OIDC client registrations (RegisterClient): stored with a digest of
//! their secret, authenticated in constant time.

use super::store::{ClientRow, StoreError};
use super::{Core, random, secret};

/// Registrations last 90 days, like the real service's.
pub(crate) const REGISTRATION_SECONDS: i64 = 90 * 24 * 3600;
pub(crate) const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// What a client asks to be registered with.
#[derive(Debug)]
pub(crate) struct Registration {
    pub name: String,
    pub scopes: Vec<String>,
    pub grant_types: Vec<String>,
    pub redirect_uris: Vec<String>,
}

/// A new registration and its secret (shown once, stored as a digest).
pub(crate) fn register(core: &Core, r: Registration) -> Result<(ClientRow, String), StoreError> {
    let now = core.now();
    let client_secret = random::token(48);
    let row = ClientRow {
        id: random::token(16),
        secret_hash: secret::digest(&client_secret),
        name: r.name,
        scopes: r.scopes,
        grant_types: r.grant_types,
        redirect_uris: r.redirect_uris,
        issued_at: now,
        expires_at: now + REGISTRATION_SECONDS,
    };
    core.store.insert_client(&row)?;
    Ok((row, client_secret))
}

/// Registrations without `grantTypes` (what the AWS CLI sends for the
/// device flow) may use the device code and refresh grants.
pub(crate) fn allows(c: &ClientRow, grant: &str) -> bool {
    if c.grant_types.is_empty() {
        grant == DEVICE_GRANT || grant == "refresh_token"
    } else {
        c.grant_types.iter().any(|g| g == grant)
    }
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum AuthError {
    #[error("clientId and clientSecret are required")]
    Missing,
    #[error("invalid client credentials")]
    Invalid,
    #[error("the client registration has expired; register again")]
    Expired,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The registration, once its secret has been checked (in constant time).
pub(crate) fn authenticate(core: &Core, id: Option<&str>, client_secret: Option<&str>) -> Result<ClientRow, AuthError> {
    let (Some(id), Some(client_secret)) = (id, client_secret) else { return Err(AuthError::Missing) };
    let presented = secret::digest(client_secret);
    let Some(c) = core.store.client(id)? else { return Err(AuthError::Invalid) };
    if !secret::same(&presented, &c.secret_hash) {
        return Err(AuthError::Invalid);
    }
    if c.expires_at <= core.now() {
        return Err(AuthError::Expired);
    }
    Ok(c)
}

/// A live registration by id (the browser's `/authorize`, which has no secret).
pub(crate) fn find(core: &Core, id: &str) -> Result<Option<ClientRow>, StoreError> {
    Ok(core.store.client(id)?.filter(|c| c.expires_at > core.now()))
}

/// `https://x/start#`, `https://x/start/` and `https://x/start` name the same portal.
pub(crate) fn normalize_start_url(url: &str) -> &str {
    url.trim_end_matches(['#', '/'])
}

/// Redirect URIs must be loopback `http` URIs (RFC 8252 §7.3).
pub(crate) fn is_loopback_redirect(uri: &str) -> bool {
    let rest = uri.strip_prefix("http://").unwrap_or("");
    let host = rest.split(['/', '?']).next().unwrap_or("");
    let host = host.rsplit_once(':').filter(|(_, p)| p.bytes().all(|b| b.is_ascii_digit())).map_or(host, |(h, _)| h);
    matches!(host, "127.0.0.1" | "localhost" | "[::1]")
}

/// The URI without its port (RFC 8252 §7.3: loopback redirects match on
/// everything but the port).
pub(crate) fn without_port(uri: &str) -> String {
    let Some(rest) = uri.strip_prefix("http://") else { return uri.to_string() };
    let (authority, path) = rest.find(['/', '?']).map_or((rest, ""), |i| rest.split_at(i));
    let host =
        authority.rsplit_once(':').filter(|(_, p)| p.bytes().all(|b| b.is_ascii_digit())).map_or(authority, |(h, _)| h);
    format!("http://{host}{path}")
}

/// Whether a redirect URI is one of the client's (ports aside).
pub(crate) fn redirect_registered(c: &ClientRow, uri: &str) -> bool {
    is_loopback_redirect(uri) && c.redirect_uris.iter().any(|r| without_port(r) == without_port(uri))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_and_start_url_rules() {
        assert_eq!(normalize_start_url("https://x.awsapps.com/start#"), "https://x.awsapps.com/start");
        assert!(is_loopback_redirect("http://127.0.0.1:4321/oauth/callback"));
        assert!(!is_loopback_redirect("http://evil.example/oauth/callback"));
        assert!(!is_loopback_redirect("https://127.0.0.1/oauth/callback"));
        assert!(!is_loopback_redirect("http://127.0.0.1.evil.example/cb"));
        assert_eq!(without_port("http://127.0.0.1:4321/oauth/callback"), "http://127.0.0.1/oauth/callback");
    }
}
