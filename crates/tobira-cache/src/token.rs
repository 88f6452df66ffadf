//! The SSO access-token file and the client-registration file
//! (`~/.aws/sso/cache/*.json`), read leniently and written exactly as the AWS
//! CLI writes them, and the freshness rules of files.md §7.

use jiff::{SignedDuration, Timestamp};
use serde_json::{Map, Value, json};
use tobira_config::Secret;

use crate::pyjson;

/// Parses the timestamps found in cache files: RFC 3339 with `Z`, an offset
/// or fractional seconds (Rust SDK), and botocore's `…UTC` suffix.
pub fn parse_time(text: &str) -> Option<Timestamp> {
    let t = text.trim();
    if let Some(base) = t.strip_suffix("UTC") {
        return format!("{base}Z").parse().ok();
    }
    t.parse().ok()
}

/// `%Y-%m-%dT%H:%M:%SZ`, whole seconds, as botocore writes.
pub fn format_time(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Refresh an sso-session token when less than this is left (botocore).
pub const REFRESH_WINDOW: SignedDuration = SignedDuration::from_mins(15);

/// Why a token file cannot be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the file is not a JSON object")]
    NotJson,
    #[error("the file has no usable `{0}`")]
    Missing(&'static str),
}

/// An SSO access token as cached by `aws sso login` / `tobira login`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SsoToken {
    pub start_url: Option<String>,
    pub region: Option<String>,
    pub access_token: Secret,
    pub expires_at: Timestamp,
    pub client_id: Option<String>,
    pub client_secret: Option<Secret>,
    pub registration_expires_at: Option<Timestamp>,
    pub refresh_token: Option<Secret>,
}

/// What a token is good for at a given moment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Freshness {
    /// More than the refresh window left.
    Valid,
    /// Still valid, but inside the refresh window: refresh it now if possible.
    RefreshDue,
    /// Expired, but it holds what a refresh needs.
    ExpiredRefreshable,
    /// Expired, and only a new login helps.
    Expired,
}

fn get<'a>(map: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    // Keys are matched case-insensitively, as the Rust SDK's reader does.
    map.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).and_then(|(_, v)| v.as_str())
}

impl SsoToken {
    /// Reads a token file's bytes. Fails when `accessToken` or `expiresAt`
    /// is missing or unreadable (files.md §4.1: "Token for … is invalid").
    pub fn from_json(bytes: &[u8]) -> Result<SsoToken, TokenError> {
        let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(bytes) else { return Err(TokenError::NotJson) };
        let access_token = get(&map, "accessToken").ok_or(TokenError::Missing("accessToken"))?;
        let expires_at = get(&map, "expiresAt").and_then(parse_time).ok_or(TokenError::Missing("expiresAt"))?;
        Ok(SsoToken {
            start_url: get(&map, "startUrl").map(str::to_string),
            region: get(&map, "region").map(str::to_string),
            access_token: Secret::new(access_token),
            expires_at,
            client_id: get(&map, "clientId").map(str::to_string),
            client_secret: get(&map, "clientSecret").map(Secret::new),
            registration_expires_at: get(&map, "registrationExpiresAt").and_then(parse_time),
            refresh_token: get(&map, "refreshToken").map(Secret::new),
        })
    }

    /// The file as the AWS CLI writes it: keys in its order, `", "` / `": "`
    /// separators, whole-second UTC times, no trailing newline.
    pub fn to_json(&self) -> String {
        let mut fields: Vec<(&str, Value)> = Vec::new();
        let mut put = |k, v: Option<String>| {
            if let Some(v) = v {
                fields.push((k, json!(v)));
            }
        };
        put("startUrl", self.start_url.clone());
        put("region", self.region.clone());
        put("accessToken", Some(self.access_token.expose().to_string()));
        put("expiresAt", Some(format_time(self.expires_at)));
        put("clientId", self.client_id.clone());
        put("clientSecret", self.client_secret.as_ref().map(|s| s.expose().to_string()));
        put("registrationExpiresAt", self.registration_expires_at.map(format_time));
        put("refreshToken", self.refresh_token.as_ref().map(|s| s.expose().to_string()));
        let body: Vec<String> = fields
            .iter()
            .map(|(k, v)| format!("{}: {}", pyjson::dumps_sorted(&json!(k)), pyjson::dumps_sorted(v)))
            .collect();
        format!("{{{}}}", body.join(", "))
    }

    /// Whether a refresh is possible at `now`: a refresh token and a client
    /// registration that has not expired.
    pub fn can_refresh(&self, now: Timestamp) -> bool {
        self.refresh_token.is_some()
            && self.client_id.is_some()
            && self.client_secret.is_some()
            && self.registration_expires_at.is_some_and(|t| t > now)
    }

    /// files.md §7 for an sso-session token. (A legacy token is simply
    /// valid while `expires_at > now`; it is never refreshed.)
    pub fn freshness(&self, now: Timestamp) -> Freshness {
        if self.expires_at <= now {
            if self.can_refresh(now) { Freshness::ExpiredRefreshable } else { Freshness::Expired }
        } else if self.expires_at.duration_since(now) < REFRESH_WINDOW {
            Freshness::RefreshDue
        } else {
            Freshness::Valid
        }
    }
}

/// An OIDC client registration (`RegisterClient` result) as cached.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Registration {
    pub client_id: String,
    pub client_secret: Secret,
    pub expires_at: Timestamp,
    pub scopes: Option<Vec<String>>,
    pub grant_types: Option<Vec<String>>,
}

impl Registration {
    pub fn from_json(bytes: &[u8]) -> Result<Registration, TokenError> {
        let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(bytes) else { return Err(TokenError::NotJson) };
        let list = |key: &str| {
            map.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).and_then(|(_, v)| {
                v.as_array().map(|a| a.iter().filter_map(|s| s.as_str().map(str::to_string)).collect())
            })
        };
        Ok(Registration {
            client_id: get(&map, "clientId").ok_or(TokenError::Missing("clientId"))?.to_string(),
            client_secret: Secret::new(get(&map, "clientSecret").ok_or(TokenError::Missing("clientSecret"))?),
            expires_at: get(&map, "expiresAt").and_then(parse_time).ok_or(TokenError::Missing("expiresAt"))?,
            scopes: list("scopes"),
            grant_types: list("grantTypes"),
        })
    }

    pub fn to_json(&self) -> String {
        let mut fields = vec![
            ("clientId", json!(self.client_id)),
            ("clientSecret", json!(self.client_secret.expose())),
            ("expiresAt", json!(format_time(self.expires_at))),
        ];
        if let Some(s) = &self.scopes {
            fields.push(("scopes", json!(s)));
        }
        if let Some(g) = &self.grant_types {
            fields.push(("grantTypes", json!(g)));
        }
        let body: Vec<String> = fields
            .iter()
            .map(|(k, v)| format!("{}: {}", pyjson::dumps_sorted(&json!(k)), pyjson::dumps_sorted(v)))
            .collect();
        format!("{{{}}}", body.join(", "))
    }

    /// files.md §6.2: reusable with at least 15 minutes left and for the same
    /// flow (PKCE registrations carry the `authorization_code` grant).
    pub fn reusable(&self, now: Timestamp, pkce: bool) -> bool {
        let is_pkce = self.grant_types.as_ref().is_some_and(|g| g.iter().any(|x| x == "authorization_code"));
        self.expires_at.duration_since(now) >= REFRESH_WINDOW && is_pkce == pkce
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    const BOTOCORE: &str = r#"{"startUrl": "https://d-1234567890.awsapps.com/start", "region": "us-east-1", "accessToken": "AT", "expiresAt": "2026-11-22T08:28:18Z", "clientId": "CID", "clientSecret": "CS", "registrationExpiresAt": "2027-02-20T00:28:17Z", "refreshToken": "RT"}"#;

    #[test]
    fn botocore_file_round_trips_byte_for_byte() {
        let t = SsoToken::from_json(BOTOCORE.as_bytes()).unwrap();
        assert_eq!(t.to_json(), BOTOCORE);
        assert_eq!(format!("{:?}", t.access_token), "****");
    }

    #[test]
    fn rust_sdk_file_is_read() {
        let rust = r#"{"accessToken":"AT","expiresAt":"2026-11-22T01:47:06.248867Z","refreshToken":"RT","clientId":"C","clientSecret":"S","registrationExpiresAt":"2027-02-20T00:28:17+00:00","region":"us-east-1","startUrl":"u"}"#;
        let t = SsoToken::from_json(rust.as_bytes()).unwrap();
        assert_eq!(format_time(t.expires_at), "2026-11-22T01:47:06Z");
        assert_eq!(t.registration_expires_at, Some(ts("2027-02-20T00:28:17Z")));
        assert_eq!(parse_time("2026-11-22T01:29:02UTC"), Some(ts("2026-11-22T01:29:02Z")));
    }

    #[test]
    fn invalid_files() {
        assert_eq!(SsoToken::from_json(b"not json"), Err(TokenError::NotJson));
        assert_eq!(
            SsoToken::from_json(br#"{"expiresAt": "2026-11-22T08:28:18Z"}"#),
            Err(TokenError::Missing("accessToken"))
        );
        assert_eq!(
            SsoToken::from_json(br#"{"accessToken": "a", "expiresAt": "soon"}"#),
            Err(TokenError::Missing("expiresAt"))
        );
    }

    #[test]
    fn freshness_windows() {
        let t = SsoToken::from_json(BOTOCORE.as_bytes()).unwrap();
        assert_eq!(t.freshness(ts("2026-11-22T08:00:00Z")), Freshness::Valid);
        assert_eq!(t.freshness(ts("2026-11-22T08:14:00Z")), Freshness::RefreshDue);
        assert_eq!(t.freshness(ts("2026-11-22T08:28:18Z")), Freshness::ExpiredRefreshable);
        assert_eq!(t.freshness(ts("2027-03-01T00:00:00Z")), Freshness::Expired);
        let no_refresh = SsoToken { refresh_token: None, ..t };
        assert_eq!(no_refresh.freshness(ts("2026-11-23T00:00:00Z")), Freshness::Expired);
    }

    #[test]
    fn registrations() {
        let pkce = r#"{"clientId": "C", "clientSecret": "S", "expiresAt": "2027-02-20T00:28:35Z", "scopes": ["sso:account:access"], "grantTypes": ["authorization_code", "refresh_token"]}"#;
        let r = Registration::from_json(pkce.as_bytes()).unwrap();
        assert_eq!(r.to_json(), pkce);
        assert!(r.reusable(ts("2027-02-20T00:00:00Z"), true));
        assert!(!r.reusable(ts("2027-02-20T00:20:00Z"), true), "less than 15 minutes left");
        assert!(!r.reusable(ts("2027-01-01T00:00:00Z"), false), "a PKCE registration is not for the device flow");
        let device = r#"{"clientId": "C", "clientSecret": "S", "expiresAt": "2027-02-20T00:28:17Z"}"#;
        assert_eq!(Registration::from_json(device.as_bytes()).unwrap().to_json(), device);
    }
}
