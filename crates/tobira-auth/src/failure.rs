//! The one place where the AWS SDK's errors (`SdkError` and its connector
//! errors) become data: which service and address a call went to, and why it
//! got no usable answer. Nothing here formats an SDK type with `Debug`; the
//! CLI turns this data into its messages.

use std::error::Error as StdError;
use std::fmt;

use aws_smithy_runtime_api::client::endpoint::error::ResolveEndpointError;
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::http::Response;

use crate::AuthError;
use crate::net::{BadProxy, Net, Route};

/// The AWS services tobira calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Service {
    /// SSO OIDC (sign-in, token refresh).
    SsoOidc,
    /// The SSO portal (accounts, roles, role credentials, logout).
    Portal,
    /// STS.
    Sts,
    /// AWS Sign-In (`aws login`: CreateOAuth2Token).
    Signin,
}

impl Service {
    /// The service's name, as AWS's documentation writes it.
    pub fn label(self) -> &'static str {
        match self {
            Service::SsoOidc => "SSO OIDC",
            Service::Portal => "SSO portal",
            Service::Sts => "STS",
            Service::Signin => "AWS Sign-In",
        }
    }

    /// `<SUFFIX>` of the service's `AWS_ENDPOINT_URL_<SUFFIX>` variable.
    pub fn env_suffix(self) -> &'static str {
        match self {
            Service::SsoOidc => "SSO_OIDC",
            Service::Portal => "SSO",
            Service::Sts => "STS",
            Service::Signin => "SIGNIN",
        }
    }

    /// The endpoint the SDK uses in `region` when none is configured
    /// (shared/spec/wire.md §1, the endpoint table).
    pub fn default_endpoint(self, region: &str) -> String {
        let domain = if region.starts_with("cn-") { "amazonaws.com.cn" } else { "amazonaws.com" };
        match self {
            Service::SsoOidc => format!("https://oidc.{region}.{domain}"),
            Service::Portal => format!("https://portal.sso.{region}.{domain}"),
            Service::Sts if region == "aws-global" => "https://sts.amazonaws.com".to_string(),
            Service::Sts => format!("https://sts.{region}.{domain}"),
            Service::Signin => crate::signin::default_endpoint(region),
        }
    }
}

/// One call to a service: what it was, where it went and how (directly or
/// through a proxy, with which timeouts).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Call {
    pub service: Service,
    pub operation: &'static str,
    /// The endpoint the client was given (the override, else the region's default).
    pub url: String,
    /// The region the client was given.
    pub region: String,
    /// The way to `url` the network policy gives (no secrets in it).
    pub route: Route,
}

impl Call {
    pub fn new(service: Service, operation: &'static str, endpoint: Option<&str>, region: &str, net: &Net) -> Call {
        let url = endpoint.map_or_else(|| service.default_endpoint(region), str::to_string);
        Call::at(service, operation, url, region, net)
    }

    /// A call to this exact URL.
    pub fn at(service: Service, operation: &'static str, url: String, region: &str, net: &Net) -> Call {
        let route = net.route(&url);
        Call { service, operation, url, region: region.to_string(), route }
    }

    /// `host:port` of the URL (`host` when it has no port), for messages.
    pub fn authority(&self) -> String {
        let rest = self.url.split_once("://").map_or(self.url.as_str(), |(_, r)| r);
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        rest[..end].rsplit_once('@').map_or(&rest[..end], |(_, h)| h).to_string()
    }

    /// The host name of the URL, without the port.
    pub fn host(&self) -> String {
        let a = self.authority();
        if let Some(inner) = a.strip_prefix('[') {
            return inner.split(']').next().unwrap_or(inner).to_string();
        }
        a.rsplit_once(':')
            .filter(|(_, p)| p.chars().all(|c| c.is_ascii_digit()))
            .map_or(a.clone(), |(h, _)| h.to_string())
    }
}

/// Why a call got no usable answer from the service.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NetFailure {
    /// The connection was refused: nothing listens at the address.
    Refused,
    /// The host name does not resolve.
    Dns,
    /// No connection or no answer in time (after the SDK's retries).
    Timeout(TimeoutPhase),
    /// The proxy would not open a CONNECT tunnel to the endpoint (it
    /// answered something other than 200); `auth_required`: it answered
    /// 407, asking for (other) credentials.
    TunnelRefused { auth_required: bool },
    /// The proxy variable for the endpoint's scheme cannot be used; nothing
    /// was sent.
    BadProxy(BadProxy),
    /// The endpoint is not a URL the SDK can use (no scheme, bad characters).
    BadUrl,
    /// Another connection failure (reset, unreachable network, TLS), in the
    /// words of the innermost error.
    Connection(String),
    /// An HTTP answer that is not the service's (a proxy's or another web
    /// server's page, or a body the SDK cannot parse).
    NotTheService { status: u16, content_type: Option<String> },
    /// The request could not be built, in the words of the innermost error.
    Request(String),
}

/// Which timeout ended a call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeoutPhase {
    /// No connection (through a proxy: no tunnel, or no TLS) within the connect timeout.
    Connect,
    /// Connected, request sent, no answer within the read timeout.
    Read,
    /// A timeout the SDK did not say more about.
    Other,
}

impl fmt::Display for NetFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NetFailure::Refused => write!(f, "the connection was refused (nothing is listening there)"),
            NetFailure::Dns => write!(f, "the host name does not resolve (DNS)"),
            NetFailure::Timeout(TimeoutPhase::Connect) => write!(f, "no connection in time (connect timeout)"),
            NetFailure::Timeout(TimeoutPhase::Read) => write!(f, "no answer in time (read timeout)"),
            NetFailure::Timeout(TimeoutPhase::Other) => write!(f, "no answer in time (timed out)"),
            NetFailure::TunnelRefused { auth_required: true } => {
                write!(f, "the proxy asked for credentials (407) instead of opening a tunnel")
            }
            NetFailure::TunnelRefused { auth_required: false } => write!(f, "the proxy refused to open a tunnel"),
            NetFailure::BadProxy(bad) => write!(f, "{bad}"),
            NetFailure::BadUrl => write!(f, "the address is not a valid URL"),
            NetFailure::Connection(why) => write!(f, "{why}"),
            NetFailure::NotTheService { status, content_type } => {
                write!(f, "it answered HTTP {status}")?;
                if let Some(ct) = content_type {
                    write!(f, " ({ct})")?;
                }
                write!(f, ", which is not an answer of this AWS service")
            }
            NetFailure::Request(why) => write!(f, "the request could not be built: {why}"),
        }
    }
}

/// Every error in the chain, outermost first.
fn chain<'a>(e: &'a (dyn StdError + 'static)) -> impl Iterator<Item = &'a (dyn StdError + 'static)> {
    std::iter::successors(Some(e), |e: &&'a (dyn StdError + 'static)| (*e).source())
}

/// The innermost error's own words (never `Debug`).
fn root_text(e: &(dyn StdError + 'static)) -> String {
    chain(e).last().map(ToString::to_string).unwrap_or_default()
}

fn is_bad_url(e: &(dyn StdError + 'static)) -> bool {
    chain(e).any(|x| x.is::<ResolveEndpointError>())
}

pub(crate) fn connector_failure(c: &ConnectorError) -> NetFailure {
    let e: &(dyn StdError + 'static) = c;
    if let Some(bad) = chain(e).find_map(|x| x.downcast_ref::<BadProxy>()) {
        return NetFailure::BadProxy(bad.clone());
    }
    if c.is_timeout() || chain(e).any(|x| x.to_string().contains("timed out")) {
        // The SDK's connector names its two timeouts "HTTP connect timeout
        // occurred after …" and "HTTP read timeout occurred after …".
        let phase = chain(e)
            .find_map(|x| {
                let text = x.to_string();
                if text.starts_with("HTTP connect timeout") {
                    Some(TimeoutPhase::Connect)
                } else if text.starts_with("HTTP read timeout") {
                    Some(TimeoutPhase::Read)
                } else {
                    None
                }
            })
            .unwrap_or(TimeoutPhase::Other);
        return NetFailure::Timeout(phase);
    }
    if is_bad_url(e) {
        return NetFailure::BadUrl;
    }
    for x in chain(e) {
        // hyper-util's CONNECT tunnel (its `TunnelError` is not exported):
        // "tunnel error: unsuccessful" for a status other than 200 or 407.
        match x.to_string().as_str() {
            "tunnel error: proxy authorization required" => {
                return NetFailure::TunnelRefused { auth_required: true };
            }
            "tunnel error: unsuccessful" => return NetFailure::TunnelRefused { auth_required: false },
            "tunnel error: unexpected end of file" => {
                return NetFailure::Connection(
                    "the proxy closed the connection instead of answering CONNECT".to_string(),
                );
            }
            _ => {}
        }
    }
    for x in chain(e) {
        if let Some(io) = x.downcast_ref::<std::io::Error>()
            && io.kind() == std::io::ErrorKind::ConnectionRefused
        {
            return NetFailure::Refused;
        }
        // hyper-util's connector names a failed name lookup "dns error".
        if x.to_string().starts_with("dns error") {
            return NetFailure::Dns;
        }
    }
    NetFailure::Connection(root_text(e))
}

fn not_the_service(raw: &Response) -> NetFailure {
    NetFailure::NotTheService {
        status: raw.status().as_u16(),
        content_type: raw.headers().get("content-type").map(|v| v.split(';').next().unwrap_or(v).trim().to_string()),
    }
}

/// Maps an SDK error (of any of the three clients: they share the smithy
/// error types) to an [`AuthError`]: a service's error keeps its code and
/// message; everything else says which address could not be used and why.
pub(crate) fn service_error<E>(
    call: Call,
    e: aws_smithy_runtime_api::client::result::SdkError<E, Response>,
) -> AuthError
where
    E: aws_sdk_ssooidc::error::ProvideErrorMetadata + StdError + 'static,
{
    use aws_smithy_runtime_api::client::result::SdkError;
    let failure = match &e {
        SdkError::ServiceError(s) => match s.err().code() {
            Some(code) => {
                return AuthError::Service {
                    operation: call.operation,
                    code: code.to_string(),
                    message: s.err().message().unwrap_or("").to_string(),
                };
            }
            None => not_the_service(s.raw()),
        },
        SdkError::ResponseError(r) => not_the_service(r.raw()),
        SdkError::TimeoutError(_) => NetFailure::Timeout(TimeoutPhase::Other),
        SdkError::DispatchFailure(d) => match d.as_connector_error() {
            Some(c) => connector_failure(c),
            None => NetFailure::Connection(root_text(&e)),
        },
        SdkError::ConstructionFailure(_) if is_bad_url(&e) => NetFailure::BadUrl,
        SdkError::ConstructionFailure(_) => NetFailure::Request(root_text(&e)),
        // `SdkError` is non-exhaustive: a future kind still names the address.
        _ => NetFailure::Connection(root_text(&e)),
    };
    AuthError::Network { call, failure }
}

/// Whether an SDK error is worth another attempt (docs/portal-scale.md §2):
/// throttling and 5xx answers, timeouts and dropped connections are; an
/// address that refuses connections, does not resolve or is not a URL is
/// not (the next attempt would fail the same way).
pub(crate) fn outcome<E>(e: &aws_smithy_runtime_api::client::result::SdkError<E, Response>) -> crate::throttle::Outcome
where
    E: aws_sdk_ssooidc::error::ProvideErrorMetadata + StdError + 'static,
{
    use crate::throttle::{Outcome, classify};
    use aws_smithy_runtime_api::client::result::SdkError;
    match e {
        SdkError::ServiceError(s) => classify(Some(s.raw().status().as_u16()), s.err().code()),
        SdkError::ResponseError(r) => classify(Some(r.raw().status().as_u16()), None),
        SdkError::TimeoutError(_) => Outcome::TimedOut,
        SdkError::DispatchFailure(d) => match d.as_connector_error().map(connector_failure) {
            Some(NetFailure::Timeout(_)) => Outcome::TimedOut,
            Some(NetFailure::Connection(_)) => Outcome::Transient,
            _ => Outcome::Fatal,
        },
        _ => Outcome::Fatal,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_smithy_runtime_api::client::result::SdkError;
    use aws_smithy_types::body::SdkBody;

    type OidcError = aws_sdk_ssooidc::operation::create_token::CreateTokenError;

    fn call() -> Call {
        Call::new(Service::SsoOidc, "CreateToken", Some("http://127.0.0.1:9/x"), "us-east-1", &Net::direct())
    }

    fn failure(e: SdkError<OidcError, Response>) -> NetFailure {
        match service_error(call(), e) {
            AuthError::Network { failure, call: c } => {
                assert_eq!(c, call());
                failure
            }
            other => panic!("not a network failure: {other}"),
        }
    }

    fn response(status: u16, content_type: &str) -> Response {
        let mut r = Response::new(status.try_into().unwrap(), SdkBody::from("<html>"));
        r.headers_mut().insert("content-type", content_type.to_string());
        r
    }

    #[test]
    fn addresses() {
        let c = Call::new(Service::Portal, "ListAccounts", None, "eu-west-1", &Net::direct());
        assert_eq!(c.url, "https://portal.sso.eu-west-1.amazonaws.com");
        assert_eq!(c.authority(), "portal.sso.eu-west-1.amazonaws.com");
        assert_eq!(c.host(), "portal.sso.eu-west-1.amazonaws.com");
        assert_eq!(call().authority(), "127.0.0.1:9");
        assert_eq!(call().host(), "127.0.0.1");
        assert_eq!(Service::Sts.default_endpoint("cn-north-1"), "https://sts.cn-north-1.amazonaws.com.cn");
        assert_eq!(Service::Sts.default_endpoint("aws-global"), "https://sts.amazonaws.com");
        assert_eq!(Service::SsoOidc.default_endpoint("us-east-1"), "https://oidc.us-east-1.amazonaws.com");
        let v6 = Call::new(Service::Sts, "GetCallerIdentity", Some("http://[::1]:8080/"), "us-east-1", &Net::direct());
        assert_eq!((v6.authority().as_str(), v6.host().as_str()), ("[::1]:8080", "::1"));
    }

    #[test]
    fn every_kind_of_sdk_error_is_classified() {
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        assert_eq!(failure(SdkError::dispatch_failure(ConnectorError::io(refused.into()))), NetFailure::Refused);
        assert_eq!(
            failure(SdkError::dispatch_failure(ConnectorError::timeout("HTTP connect timed out".into()))),
            NetFailure::Timeout(TimeoutPhase::Other)
        );
        assert_eq!(failure(SdkError::timeout_error("operation timeout")), NetFailure::Timeout(TimeoutPhase::Other));
        // The SDK connector's own words for its two timeouts.
        for (text, phase) in [
            ("HTTP connect timeout occurred after 1s", TimeoutPhase::Connect),
            ("HTTP read timeout occurred after 60s", TimeoutPhase::Read),
        ] {
            let e = ConnectorError::timeout(std::io::Error::new(std::io::ErrorKind::TimedOut, text).into());
            assert_eq!(failure(SdkError::dispatch_failure(e)), NetFailure::Timeout(phase), "{text}");
        }
        // hyper-util's CONNECT tunnel.
        for (text, auth_required) in
            [("tunnel error: unsuccessful", false), ("tunnel error: proxy authorization required", true)]
        {
            let e = ConnectorError::io(std::io::Error::other(text).into());
            assert_eq!(failure(SdkError::dispatch_failure(e)), NetFailure::TunnelRefused { auth_required }, "{text}");
        }
        let bad = BadProxy { var: "HTTPS_PROXY".into(), shown: "https://p".into(), why: "no".into() };
        assert_eq!(
            failure(SdkError::dispatch_failure(ConnectorError::user(Box::new(bad.clone())))),
            NetFailure::BadProxy(bad)
        );
        let bad = ResolveEndpointError::message("failed to apply endpoint `x` to request `Request { … }`");
        assert_eq!(failure(SdkError::dispatch_failure(ConnectorError::other(bad.into(), None))), NetFailure::BadUrl);
        let reset = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "connection reset by peer");
        assert_eq!(
            failure(SdkError::dispatch_failure(ConnectorError::io(reset.into()))),
            NetFailure::Connection("connection reset by peer".into())
        );
        assert_eq!(
            failure(SdkError::construction_failure("no region configured")),
            NetFailure::Request("no region configured".into())
        );
        assert_eq!(
            failure(SdkError::response_error("cannot parse", response(200, "text/html; charset=utf-8"))),
            NetFailure::NotTheService { status: 200, content_type: Some("text/html".into()) }
        );
        let unhandled = OidcError::generic(aws_sdk_ssooidc::error::ErrorMetadata::builder().build());
        assert_eq!(
            failure(SdkError::service_error(unhandled, response(502, "text/html"))),
            NetFailure::NotTheService { status: 502, content_type: Some("text/html".into()) }
        );
    }

    #[test]
    fn which_sdk_errors_are_worth_another_attempt() {
        use crate::throttle::Outcome;
        let service = |status: u16, code: Option<&str>| {
            let mut meta = aws_sdk_ssooidc::error::ErrorMetadata::builder();
            if let Some(c) = code {
                meta = meta.code(c);
            }
            SdkError::<OidcError, Response>::service_error(
                OidcError::generic(meta.build()),
                response(status, "application/json"),
            )
        };
        assert_eq!(outcome(&service(429, Some("TooManyRequestsException"))), Outcome::Throttled);
        assert_eq!(outcome(&service(500, Some("InternalServerException"))), Outcome::Transient);
        assert_eq!(outcome(&service(401, Some("UnauthorizedException"))), Outcome::Fatal);
        let html_502 = SdkError::<OidcError, Response>::response_error("cannot parse", response(502, "text/html"));
        assert_eq!(outcome(&html_502), Outcome::Transient);
        assert_eq!(outcome(&SdkError::<OidcError, Response>::timeout_error("operation timeout")), Outcome::TimedOut);
        let reset = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "connection reset by peer");
        let reset = SdkError::<OidcError, Response>::dispatch_failure(ConnectorError::io(reset.into()));
        assert_eq!(outcome(&reset), Outcome::Transient);
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        let refused = SdkError::<OidcError, Response>::dispatch_failure(ConnectorError::io(refused.into()));
        assert_eq!(outcome(&refused), Outcome::Fatal, "nothing listens there: retrying cannot help");
        let built = SdkError::<OidcError, Response>::construction_failure("no region configured");
        assert_eq!(outcome(&built), Outcome::Fatal);
    }

    #[test]
    fn service_errors_keep_the_services_words() {
        let meta = aws_sdk_ssooidc::error::ErrorMetadata::builder()
            .code("InvalidGrantException")
            .message("Invalid grant provided");
        let e = SdkError::service_error(OidcError::generic(meta.build()), response(400, "application/json"));
        let err = service_error(call(), e);
        assert_eq!(
            err.to_string(),
            "An error occurred (InvalidGrantException) when calling the CreateToken operation: Invalid grant provided"
        );
    }
}
