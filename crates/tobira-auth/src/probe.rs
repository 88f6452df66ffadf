//! Questions `tobira doctor` and `tobira sessions --check` ask the services,
//! without changing anything on disk:
//! - [`sign_in_alive`]: is a cached SSO access token still accepted? (the
//!   portal's ListAccounts answers 401 `UnauthorizedException` for a token
//!   whose sign-in was revoked or ended; docs/diagnostics.md);
//! - [`credentials_accepted`]: does STS accept these credentials?
//! - [`server_time`]: the clock of STS, from the `Date` header of its answer,
//!   or from the time a "Signature expired" refusal names.

use std::sync::{Arc, Mutex};

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::BeforeDeserializationInterceptorContextRef;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use jiff::Timestamp;
use tobira_cache::Credentials;
use tobira_config::Plan;

use crate::{AuthError, Call, Net, Service, SsoTarget, portal_client, service_error};

/// What the service said about a sign-in or credentials.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Accepted.
    Alive,
    /// Refused: revoked, ended, or not known to the service; the error code
    /// and message as the service gave them.
    Refused { code: String, message: String },
}

/// Asks the SSO portal whether `access_token` still works (one ListAccounts
/// call, one result). `Err` when no answer could be had.
pub async fn sign_in_alive(target: &SsoTarget, access_token: &str) -> Result<Verdict, AuthError> {
    tracing::debug!(service = "SSO portal", operation = "ListAccounts", url = %target.portal_call("ListAccounts").url, "asking whether the sign-in is alive");
    let out = portal_client(target).list_accounts().access_token(access_token).max_results(1).send().await;
    match out.map_err(|e| service_error(target.portal_call("ListAccounts"), e)) {
        Ok(_) => Ok(Verdict::Alive),
        Err(AuthError::Service { code, message, .. }) if code == "UnauthorizedException" => {
            Ok(Verdict::Refused { code, message })
        }
        Err(e) => Err(e),
    }
}

/// Error codes with which STS refuses credentials themselves (rather than
/// the request): expired, unknown, or from a revoked session.
pub const REFUSED_CREDENTIAL_CODES: [&str; 3] = ["ExpiredToken", "InvalidClientTokenId", "UnrecognizedClientException"];

/// Asks STS (GetCallerIdentity) whether it accepts `credentials`, with the
/// plan's region and STS endpoint.
pub async fn credentials_accepted(plan: &Plan, credentials: &Credentials, net: &Net) -> Result<Verdict, AuthError> {
    match crate::creds::caller_identity(plan, credentials, net).await {
        Ok(_) => Ok(Verdict::Alive),
        Err(AuthError::Service { code, message, .. }) if REFUSED_CREDENTIAL_CODES.contains(&code.as_str()) => {
            Ok(Verdict::Refused { code, message })
        }
        Err(e) => Err(e),
    }
}

/// The clock of STS at the moment it answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerTime {
    pub time: Timestamp,
    /// Where the time was read: `the Date header` or `the signature refusal`.
    pub from: &'static str,
    /// The call that was made (for messages).
    pub call: Call,
}

/// Records the `Date` header of the answer.
#[derive(Clone, Debug, Default)]
struct DateHeader(Arc<Mutex<Option<String>>>);

impl Intercept for DateHeader {
    fn name(&self) -> &'static str {
        "DateHeader"
    }

    fn read_after_transmit(
        &self,
        context: &BeforeDeserializationInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(date) = context.response().headers().get("date")
            && let Ok(mut slot) = self.0.lock()
        {
            *slot = Some(date.to_string());
        }
        Ok(())
    }
}

/// A key id no account has: the call is only made for the time in its answer.
const PROBE_KEY_ID: &str = "AKIATOBIRACLOCKPROBE";

/// STS's clock, in `region` (or at `endpoint`): one GetCallerIdentity call
/// signed with a key that does not exist, so the answer (a refusal) carries
/// the server's time and no credentials are needed. `Ok(None)` when the
/// answer named no time.
pub async fn server_time(endpoint: Option<&str>, region: &str, net: &Net) -> Result<Option<ServerTime>, AuthError> {
    let call = Call::new(Service::Sts, "GetCallerIdentity", endpoint, region, net);
    tracing::debug!(service = "STS", operation = "GetCallerIdentity", url = %call.url, "reading the server's clock");
    let date = DateHeader::default();
    let provider = aws_credential_types::Credentials::new(PROBE_KEY_ID, "tobira-clock-probe", None, None, "tobira");
    let mut b = aws_sdk_sts::Config::builder()
        .behavior_version(aws_sdk_sts::config::BehaviorVersion::latest())
        .region(aws_sdk_sts::config::Region::new(region.to_string()))
        .credentials_provider(provider)
        .interceptor(date.clone())
        .http_client(net.sdk_http_client());
    if let Some(url) = endpoint {
        b = b.endpoint_url(url);
    }
    let result = aws_sdk_sts::Client::from_conf(b.build()).get_caller_identity().send().await;
    let refusal = match result.map_err(|e| service_error(call.clone(), e)) {
        Ok(_) => None,
        Err(AuthError::Service { message, .. }) => Some(message),
        Err(e) => return Err(e),
    };
    // A refusal for the signature's time names the server's time exactly;
    // the Date header is the fallback (whole seconds).
    if let Some(t) = refusal.as_deref().and_then(time_in_refusal) {
        return Ok(Some(ServerTime { time: t, from: "the signature refusal", call }));
    }
    let header = date.0.lock().ok().and_then(|d| d.clone());
    Ok(header.as_deref().and_then(parse_http_date).map(|time| ServerTime { time, from: "the Date header", call }))
}

/// An HTTP date (`Sun, 06 Nov 1994 08:49:37 GMT`, RFC 9110).
pub fn parse_http_date(text: &str) -> Option<Timestamp> {
    jiff::fmt::rfc2822::DateTimeParser::new().parse_timestamp(text.trim()).ok()
}

/// The server's time in STS's refusal of a request signed at the wrong time:
/// `Signature expired: 20260101T000000Z is now earlier than 20260101T001000Z
/// (20260101T002500Z - 15 min.)` (or `… still later than … (T + 15 min.)`).
pub fn time_in_refusal(message: &str) -> Option<Timestamp> {
    if !message.starts_with("Signature expired") && !message.starts_with("Signature not yet current") {
        return None;
    }
    let inner = message.rsplit_once('(')?.1;
    let stamp = inner.split_whitespace().next()?;
    let t = jiff::civil::DateTime::strptime("%Y%m%dT%H%M%SZ", stamp).ok()?;
    t.to_zoned(jiff::tz::TimeZone::UTC).ok().map(|z| z.timestamp())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_times() {
        assert_eq!(parse_http_date("Wed, 14 Jan 2026 08:49:37 GMT"), Some("2026-01-14T08:49:37Z".parse().unwrap()));
        assert_eq!(parse_http_date("yesterday"), None);
        assert_eq!(
            time_in_refusal(
                "Signature expired: 20260101T000000Z is now earlier than 20260101T001000Z (20260101T002500Z - 15 min.)"
            ),
            Some("2026-01-01T00:25:00Z".parse().unwrap())
        );
        assert_eq!(
            time_in_refusal(
                "Signature not yet current: 20260101T010000Z is still later than 20260101T004000Z (20260101T002500Z + 15 min.)"
            ),
            Some("2026-01-01T00:25:00Z".parse().unwrap())
        );
        assert_eq!(time_in_refusal("The security token included in the request is invalid."), None);
    }
}
