//! Console sign-in from temporary credentials (spec/console.md §6): trade a
//! role session's credentials for a SigninToken at the Sign-In federation
//! endpoint, and build the login URL a browser opens. IAM users' long-term
//! keys first become a federated user's credentials (STS
//! GetFederationToken; the name and policy rules are here, docs/console.md).
//!
//! The login URL carries the SigninToken by design: anyone who has the URL
//! within 15 minutes can open one console session with it (once). The
//! credentials themselves never appear in it.

use aws_smithy_runtime_api::client::http::HttpConnector as _;
use aws_smithy_types::body::SdkBody;
use serde_json::{Value, json};
use tobira_cache::role::Credentials;

use crate::Net;
use crate::failure::{Call, NetFailure, Service};

/// The operation's name, for messages.
const OPERATION: &str = "getSigninToken";

/// Console session lengths, in seconds (docs/console.md): `SessionDuration`
/// of role credentials at the federation endpoint …
pub const ROLE_SESSION_SECONDS: std::ops::RangeInclusive<i64> = 900..=43_200;
/// … and `DurationSeconds` of GetFederationToken for an IAM user's keys.
pub const FEDERATED_SESSION_SECONDS: std::ops::RangeInclusive<i64> = 900..=129_600;
/// The federated user's session when none is asked for: one hour, as long
/// as a role's console session lasts by default.
pub const FEDERATED_DEFAULT_SECONDS: i64 = 3600;

/// The session policy sent with GetFederationToken. A federated user acts
/// with the intersection of the IAM user's policies and its session
/// policies, and with none given it may do nothing; allowing everything
/// leaves the IAM user's own permissions in force (docs/console.md).
pub const ALLOW_ALL_POLICY: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;

/// The federated user's name for long-term keys whose GetCallerIdentity ARN
/// is `arn`: the IAM user's name (the last part of its path), `root` for
/// the root user; characters GetFederationToken refuses become `_`, and the
/// name is cut to 32 characters (and padded to 2), its limits.
pub fn federated_user_name(arn: &str) -> String {
    let resource = arn.splitn(6, ':').nth(5).unwrap_or("");
    let name = match resource.strip_prefix("user/") {
        Some(path) => path.rsplit('/').next().unwrap_or(""),
        None if resource == "root" => "root",
        None => "",
    };
    let name = if name.is_empty() { "tobira" } else { name };
    let mut out: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || "_+=,.@-".contains(c) { c } else { '_' })
        .take(32)
        .collect();
    while out.len() < 2 {
        out.push('_');
    }
    out
}

/// Why no sign-in URL could be made.
#[derive(Debug, thiserror::Error)]
pub enum FederationError {
    /// Long-term IAM user keys (no session token).
    #[error("long-term IAM user keys cannot sign in to the AWS console")]
    LongTermKeys,
    /// The endpoint answered, but not with a SigninToken.
    #[error("the federation endpoint {url} refused the credentials (HTTP {status}): {reason}")]
    Refused { url: String, status: u16, reason: String },
    #[error("cannot use the AWS Sign-In federation endpoint {} ({}): {failure}", call.url, call.operation)]
    Network { call: Call, failure: NetFailure },
}

/// The federation base (`https://<signin host>`): the Sign-In endpoint
/// override if one is configured, else the region's host, as spec/console.md
/// §2 gives them (global host for no region and for us-east-1).
pub fn base(endpoint: Option<&str>, region: Option<&str>) -> String {
    if let Some(e) = endpoint {
        return e.trim_end_matches('/').to_string();
    }
    match region {
        None | Some("" | "us-east-1") => "https://signin.aws.amazon.com".to_string(),
        Some("cn-north-1") => "https://signin.amazonaws.cn".to_string(),
        Some("us-gov-west-1") => "https://signin.amazonaws-us-gov.com".to_string(),
        Some(r) => crate::signin::default_endpoint(r),
    }
}

/// The console URL to land on: a service's page, in a region when one is known.
pub fn destination(region: Option<&str>, service: Option<&str>) -> String {
    let domain = match region {
        Some(r) if r.starts_with("cn-") => "console.amazonaws.cn",
        Some(r) if r.starts_with("us-gov-") => "console.amazonaws-us-gov.com",
        _ => "console.aws.amazon.com",
    };
    let path = service.map_or_else(|| "console/home".to_string(), |s| format!("{}/home", s.trim_matches('/')));
    match region {
        Some(r) if !r.is_empty() => format!("https://{r}.{domain}/{path}?region={r}"),
        _ if service.is_some() => format!("https://{domain}/{path}"),
        _ => format!("https://{domain}/"),
    }
}

/// `{base}/federation?Action=login&Issuer=…&Destination=…&SigninToken=…`.
pub fn login_url(base: &str, issuer: &str, destination: &str, token: &str) -> String {
    let query = serde_urlencoded::to_string([
        ("Action", "login"),
        ("Issuer", issuer),
        ("Destination", destination),
        ("SigninToken", token),
    ])
    .unwrap_or_default();
    format!("{base}/federation?{query}")
}

/// `GET {base}/federation?Action=getSigninToken&Session=…`: the SigninToken.
pub async fn signin_token(
    base: &str,
    c: &Credentials,
    duration: Option<i64>,
    policy: &Net,
) -> Result<String, FederationError> {
    let Some(session_token) = &c.session_token else { return Err(FederationError::LongTermKeys) };
    let url = format!("{base}/federation");
    let call = Call::at(Service::Signin, OPERATION, url.clone(), "", policy);
    let net = |failure| FederationError::Network { call: call.clone(), failure };
    let session = json!({
        "sessionId": c.access_key_id,
        "sessionKey": c.secret_access_key.expose(),
        "sessionToken": session_token.expose(),
    })
    .to_string();
    let duration = duration.map(|d| d.to_string());
    let mut params = vec![("Action", "getSigninToken"), ("Session", session.as_str())];
    if let Some(d) = &duration {
        params.push(("SessionDuration", d));
    }
    let query = serde_urlencoded::to_string(&params).unwrap_or_default();
    let mut request = aws_smithy_runtime_api::http::Request::new(SdkBody::empty());
    request.set_uri(format!("{url}?{query}")).map_err(|_| net(NetFailure::BadUrl))?;
    request.set_method("GET").map_err(|e| net(NetFailure::Request(e.to_string())))?;
    let headers = request.headers_mut();
    headers.insert("Accept", "application/json");
    headers.insert("User-Agent", concat!("tobira/", env!("CARGO_PKG_VERSION")));
    let connector = policy.connector();
    let response = connector.call(request).await.map_err(|e| net(crate::failure::connector_failure(&e)))?;
    let status = response.status().as_u16();
    let content_type =
        response.headers().get("content-type").map(|v| v.split(';').next().unwrap_or(v).trim().to_string());
    let bytes = aws_smithy_types::byte_stream::ByteStream::new(response.into_body())
        .collect()
        .await
        .map_err(|e| net(NetFailure::Connection(e.to_string())))?
        .into_bytes();
    if status != 200 {
        return Err(FederationError::Refused { url, status, reason: reason(&bytes) });
    }
    serde_json::from_slice::<Value>(&bytes)
        .ok()
        .and_then(|v| v.get("SigninToken").and_then(Value::as_str).filter(|t| !t.is_empty()).map(str::to_string))
        .ok_or_else(|| net(NetFailure::NotTheService { status, content_type }))
}

/// A short, printable reason from an error body (text, or HTML's text).
fn reason(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let mut out = String::new();
    let mut in_tag = false;
    for ch in text.chars() {
        match ch {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag && !c.is_control() => out.push(c),
            c if !in_tag && c.is_whitespace() => out.push(' '),
            _ => {}
        }
    }
    let out = out.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut out: String = out.chars().take(300).collect();
    if out.is_empty() {
        out = "no reason given".to_string();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_destinations_and_login_urls() {
        assert_eq!(base(None, None), "https://signin.aws.amazon.com");
        assert_eq!(base(None, Some("us-east-1")), "https://signin.aws.amazon.com");
        assert_eq!(base(None, Some("eu-west-1")), "https://eu-west-1.signin.aws.amazon.com");
        assert_eq!(base(None, Some("cn-north-1")), "https://signin.amazonaws.cn");
        assert_eq!(base(None, Some("cn-northwest-1")), "https://cn-northwest-1.signin.amazonaws.cn");
        assert_eq!(base(None, Some("us-gov-west-1")), "https://signin.amazonaws-us-gov.com");
        assert_eq!(base(Some("http://127.0.0.1:9/"), Some("eu-west-1")), "http://127.0.0.1:9");
        assert_eq!(destination(None, None), "https://console.aws.amazon.com/");
        assert_eq!(
            destination(Some("eu-west-1"), None),
            "https://eu-west-1.console.aws.amazon.com/console/home?region=eu-west-1"
        );
        assert_eq!(
            destination(Some("eu-west-1"), Some("s3")),
            "https://eu-west-1.console.aws.amazon.com/s3/home?region=eu-west-1"
        );
        let u = login_url("http://h", "tobira", "https://console.aws.amazon.com/", "t_-1");
        assert_eq!(
            u,
            "http://h/federation?Action=login&Issuer=tobira&Destination=https%3A%2F%2Fconsole.aws.amazon.com%2F&SigninToken=t_-1"
        );
        assert_eq!(reason(b"<html><p>bad\n thing</p></html>"), "bad thing");
    }

    #[test]
    fn federated_user_names_follow_get_federation_tokens_rules() {
        assert_eq!(federated_user_name("arn:aws:iam::123456789012:user/bob"), "bob");
        assert_eq!(federated_user_name("arn:aws:iam::123456789012:user/division/team/alice"), "alice");
        assert_eq!(federated_user_name("arn:aws:iam::123456789012:root"), "root");
        assert_eq!(federated_user_name("arn:aws-cn:iam::123456789012:user/x"), "x_");
        assert_eq!(
            federated_user_name("arn:aws:iam::123456789012:user/chris.kings-lynne@healthengine.example"),
            "chris.kings-lynne@healthengine.e"
        );
        assert_eq!(federated_user_name("arn:aws:iam::123456789012:user/é voilà"), "__voil_");
        assert_eq!(federated_user_name("something else"), "tobira");
        for arn in
            ["arn:aws:iam::1:user/a", "arn:aws:iam::1:user/ü", &format!("arn:aws:iam::1:user/{}", "é".repeat(40))]
        {
            let n = federated_user_name(arn);
            assert!((2..=32).contains(&n.len()), "{n}");
            assert!(n.chars().all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c)), "{n}");
        }
        let policy: serde_json::Value = serde_json::from_str(ALLOW_ALL_POLICY).unwrap();
        assert_eq!(policy["Statement"][0]["Effect"], "Allow");
    }
}
