//! How tobira reaches AWS: one policy for every call it makes (the SDK
//! clients and the raw calls of AWS Sign-In), taken from the CLI's snapshot
//! of the environment and its flags (ARCHITECTURE.md rule 1).
//!
//! - **Timeouts**: a connect timeout and a read timeout, 60 seconds each
//!   unless `--cli-connect-timeout` / `--cli-read-timeout` say otherwise (0:
//!   no limit), as the AWS CLI does. They replace the SDK's own defaults.
//! - **Proxies**: `HTTPS_PROXY` for `https://` endpoints (a CONNECT tunnel),
//!   `HTTP_PROXY` for `http://` ones (absolute-form requests), in either
//!   case, except hosts `NO_PROXY` names — botocore's rules on Linux, which
//!   are Python's `urllib` rules. [`Proxies::route`] is the one decision;
//!   the connector makes it again for every request, and messages and
//!   `tobira doctor` show it.
//!
//! The facts and the differences from curl: docs/network.md. A proxy's
//! password is a [`Secret`]: no `Debug`, `Display` or message shows it.

use std::fmt;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use aws_smithy_http_client::proxy::ProxyConfig;
use aws_smithy_http_client::{Connector, tls};
use aws_smithy_runtime_api::client::http::{
    HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector, http_client_fn,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::result::ConnectorError;
use tobira_config::{Env, Secret};

/// The AWS CLI's connect and read timeouts when no flag sets them.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// One timeout: its limit (`None`: wait for ever) and whether a flag set it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeout {
    pub limit: Option<Duration>,
    /// Set by its `--cli-*-timeout` flag (else the default).
    pub from_flag: bool,
}

impl Timeout {
    /// From the flag's value in seconds (the AWS CLI's rule: 0 is no limit).
    fn from_flag(seconds: Option<u64>) -> Timeout {
        match seconds {
            None => Timeout { limit: Some(DEFAULT_TIMEOUT), from_flag: false },
            Some(0) => Timeout { limit: None, from_flag: true },
            Some(s) => Timeout { limit: Some(Duration::from_secs(s)), from_flag: true },
        }
    }
}

/// The connect and read timeouts of every call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeouts {
    /// Until a connection is open (through a proxy: until the tunnel and TLS are up).
    pub connect: Timeout,
    /// Between sending a request and the start of its answer.
    pub read: Timeout,
}

impl Timeouts {
    /// The values of `--cli-connect-timeout` and `--cli-read-timeout`.
    pub fn from_flags(connect: Option<u64>, read: Option<u64>) -> Timeouts {
        Timeouts { connect: Timeout::from_flag(connect), read: Timeout::from_flag(read) }
    }
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts::from_flags(None, None)
    }
}

/// An environment variable and its value.
#[derive(Clone, PartialEq, Eq)]
struct Var {
    name: String,
    value: String,
}

/// The proxy variables in effect, as botocore finds them: any
/// `<scheme>_proxy` variable in any case, a non-empty lower-case one
/// winning over the others and an empty lower-case one removing them;
/// `HTTP_PROXY` in upper case is ignored when `REQUEST_METHOD` is set (a
/// CGI program, where a client's `Proxy:` header becomes that variable).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Proxies {
    http: Option<Var>,
    https: Option<Var>,
    no: Option<Var>,
}

impl fmt::Debug for Proxies {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown = |v: &Option<Var>| v.as_ref().map(|v| format!("{}={}", v.name, mask(&v.value)));
        f.debug_struct("Proxies")
            .field("http", &shown(&self.http))
            .field("https", &shown(&self.https))
            .field("no", &shown(&self.no))
            .finish()
    }
}

impl Proxies {
    /// No proxy at all.
    pub fn none() -> Proxies {
        Proxies::default()
    }

    /// The proxies `env` sets.
    pub fn from_env(env: &Env) -> Proxies {
        let mut found: Vec<(String, Var)> = Vec::new();
        let put = |found: &mut Vec<(String, Var)>, key: String, var: Option<Var>| {
            found.retain(|(k, _)| *k != key);
            if let Some(var) = var {
                found.push((key, var));
            }
        };
        // (No allocation for the other variables: this runs on every start.)
        let key_of = |name: &str| {
            let cut = name.len().checked_sub(6)?;
            let suffix = name.get(cut..)?;
            suffix.eq_ignore_ascii_case("_proxy").then(|| name[..cut].to_ascii_lowercase())
        };
        // Any case first, then names ending in lower-case `_proxy`, which win.
        for (name, value) in env.iter() {
            if let Some(key) = key_of(name)
                && !value.is_empty()
            {
                put(&mut found, key, Some(Var { name: name.to_string(), value: value.to_string() }));
            }
        }
        if env.iter().any(|(k, _)| k == "REQUEST_METHOD") {
            put(&mut found, "http".to_string(), None);
        }
        for (name, value) in env.iter() {
            if name.ends_with("_proxy")
                && let Some(key) = key_of(name)
            {
                let var = (!value.is_empty()).then(|| Var { name: name.to_string(), value: value.to_string() });
                put(&mut found, key, var);
            }
        }
        let take = |key: &str| found.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone());
        Proxies { http: take("http"), https: take("https"), no: take("no") }
    }

    /// Whether any proxy variable (or `NO_PROXY`) is set.
    pub fn is_empty(&self) -> bool {
        self.http.is_none() && self.https.is_none() && self.no.is_none()
    }

    /// The variables set, as `NAME=value` with passwords masked, in the
    /// order HTTPS, HTTP, NO.
    pub fn shown(&self) -> Vec<String> {
        [&self.https, &self.http, &self.no]
            .into_iter()
            .flatten()
            .map(|v| format!("{}={}", v.name, mask(&v.value)))
            .collect()
    }

    /// Every proxy variable whose value cannot be used, with why.
    pub fn invalid(&self) -> Vec<BadProxy> {
        [&self.https, &self.http].into_iter().flatten().filter_map(|v| parse(v).err()).collect()
    }

    /// How a request to `url` goes: the proxy of its scheme unless
    /// `NO_PROXY` names its host.
    pub fn route(&self, url: &str) -> ProxyRoute {
        let Some((scheme, rest)) = url.split_once("://") else { return ProxyRoute::Direct };
        let var = match scheme.to_ascii_lowercase().as_str() {
            "https" => &self.https,
            "http" => &self.http,
            _ => &None,
        };
        let Some(var) = var else { return ProxyRoute::Direct };
        let netloc = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
        if let Some(no) = &self.no
            && let Some(entry) = bypass_entry(&no.value, netloc)
        {
            return ProxyRoute::Bypassed { var: no.name.clone(), entry };
        }
        match parse(var) {
            Ok(p) => ProxyRoute::Via(p),
            Err(bad) => ProxyRoute::Invalid(bad),
        }
    }
}

/// The `NO_PROXY` entry that names `netloc` (`host[:port]`), by Python's
/// `proxy_bypass_environment`: `*` alone bypasses every host; otherwise
/// each comma-separated entry, without leading dots and in any case, is the
/// host (or `host:port`) or a suffix of it after a dot. IP addresses are
/// compared the same way, as text (no CIDR ranges).
fn bypass_entry(no_proxy: &str, netloc: &str) -> Option<String> {
    if no_proxy == "*" {
        return Some("*".to_string());
    }
    let host = netloc.to_lowercase();
    let hostonly = match host.rsplit_once(':') {
        Some((h, port)) if port.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => host.as_str(),
    };
    for raw in no_proxy.split(',') {
        let entry = raw.trim();
        if entry.is_empty() {
            continue;
        }
        let name = entry.trim_start_matches('.').to_lowercase();
        let dotted = format!(".{name}");
        if hostonly == name || host == name || hostonly.ends_with(&dotted) || host.ends_with(&dotted) {
            return Some(entry.to_string());
        }
    }
    None
}

/// How one request goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProxyRoute {
    /// No proxy variable for the URL's scheme.
    Direct,
    /// A proxy is set, but `var` (`NO_PROXY`) names the host with `entry`.
    Bypassed { var: String, entry: String },
    /// Through this proxy.
    Via(Proxy),
    /// The proxy variable for the URL's scheme cannot be used.
    Invalid(BadProxy),
}

/// A proxy reached over plain HTTP.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Proxy {
    /// The variable it comes from (`HTTPS_PROXY`, `https_proxy`, …).
    pub var: String,
    /// Its URL as messages show it: `http://user:****@host:port`.
    pub shown: String,
    pub host: String,
    pub port: u16,
    /// User name and password (both non-empty, percent-decoded), sent as
    /// `Proxy-Authorization: Basic`.
    credentials: Option<(String, Secret)>,
}

impl Proxy {
    /// `host:port`, for messages.
    pub fn authority(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    /// Whether the URL carries a user name and password.
    pub fn has_credentials(&self) -> bool {
        self.credentials.is_some()
    }

    /// The user name and password sent to the proxy, decoded.
    pub fn credentials(&self) -> Option<(&str, &Secret)> {
        self.credentials.as_ref().map(|(u, p)| (u.as_str(), p))
    }

    /// The URL the SDK's connector is given (credentials re-encoded, so
    /// that its decoding gives them back exactly).
    fn connector_url(&self) -> String {
        let auth = match &self.credentials {
            Some((user, password)) => format!("{}:{}@", encode(user), encode(password.expose())),
            None => String::new(),
        };
        format!("http://{auth}{}", self.authority())
    }
}

/// A proxy variable whose value cannot be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("`{var}` ({shown}) cannot be used as a proxy: {why}")]
pub struct BadProxy {
    pub var: String,
    /// The value, password masked.
    pub shown: String,
    pub why: String,
}

/// A proxy variable's value read as botocore reads it: `http://` is
/// assumed when the value has no scheme; the user name and password are
/// percent-decoded and used only when both are there; no port means 80.
/// Only `http://` proxies are supported.
fn parse(var: &Var) -> Result<Proxy, BadProxy> {
    let value = var.value.trim();
    let bad = |why: &str| BadProxy { var: var.name.clone(), shown: mask(value), why: why.to_string() };
    if let Some((scheme, _)) = value.split_once("://")
        && !scheme.eq_ignore_ascii_case("http")
        && !scheme.eq_ignore_ascii_case("https")
    {
        return Err(bad(&format!(
            "tobira supports proxies spoken to in plain HTTP (`http://HOST:PORT`), not `{scheme}://`"
        )));
    }
    let fixed = if value.starts_with("http:") || value.starts_with("https:") {
        value.to_string()
    } else if let Some(rest) = value.strip_prefix("//") {
        format!("http://{rest}")
    } else {
        format!("http://{value}")
    };
    if fixed.starts_with("https:") {
        return Err(bad(
            "tobira reaches proxies over plain HTTP only (`http://HOST:PORT`, which still carries HTTPS calls in a CONNECT tunnel); a proxy spoken to over TLS (`https://…`) is not supported",
        ));
    }
    let Some(rest) = fixed.strip_prefix("http://") else {
        return Err(bad("it is not a URL of the form `http://[USER:PASSWORD@]HOST:PORT`"));
    };
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    let (userinfo, hostport) = match authority.rsplit_once('@') {
        Some((u, h)) => (Some(u), h),
        None => (None, authority),
    };
    let (host, port) = if let Some(inner) = hostport.strip_prefix('[') {
        let Some((h, after)) = inner.split_once(']') else { return Err(bad("its IPv6 address has no closing `]`")) };
        (h, after.strip_prefix(':'))
    } else {
        match hostport.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (hostport, None),
        }
    };
    if host.is_empty() {
        return Err(bad("it names no host"));
    }
    if host.chars().any(|c| c.is_whitespace() || c.is_control() || "<>\"{}|\\^`%@/".contains(c)) {
        return Err(bad("its host name has characters a host name cannot have"));
    }
    let port = match port {
        None | Some("") => 80,
        Some(p) => {
            p.parse::<u16>().ok().filter(|p| *p > 0).ok_or_else(|| bad("its port is not a number from 1 to 65535"))?
        }
    };
    let credentials = userinfo.and_then(|u| {
        let (user, password) = u.split_once(':')?;
        let (user, password) = (decode(user), decode(password));
        (!user.is_empty() && !password.is_empty()).then(|| (user, Secret::new(password)))
    });
    let shown_auth = match (userinfo, &credentials) {
        (_, Some((user, _))) => format!("{}:****@", encode(user)),
        (Some(u), None) => format!("{}@", u.split(':').next().unwrap_or("")),
        (None, None) => String::new(),
    };
    let proxy = Proxy {
        var: var.name.clone(),
        shown: format!("http://{shown_auth}{hostport}"),
        host: host.to_string(),
        port,
        credentials,
    };
    // The SDK's own reading must agree, or it would connect directly.
    ProxyConfig::all(proxy.connector_url()).map_err(|_| bad("it is not a valid URL"))?;
    Ok(proxy)
}

/// A proxy value with its password replaced by `****`, with or without a scheme.
pub fn mask(value: &str) -> String {
    let (scheme, rest) = match value.split_once("://") {
        Some((s, r)) => (format!("{s}://"), r),
        None => (String::new(), value),
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..end].rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{scheme}{user}:****@{host}{}", &rest[end..]),
            None => value.to_string(),
        },
        None => value.to_string(),
    }
}

/// Python's `unquote`: `%XX` decoded, anything else kept; UTF-8, invalid
/// sequences replaced.
fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && let (Some(h), Some(l)) =
                (bytes.get(i + 1).copied().and_then(hex), bytes.get(i + 2).copied().and_then(hex))
        {
            out.push((h * 16 + l) as u8);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The network policy of every call: timeouts and proxies.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Net {
    pub timeouts: Timeouts,
    pub proxies: Proxies,
}

/// How a call to one URL goes, for messages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route {
    pub proxy: ProxyRoute,
    pub timeouts: Timeouts,
}

impl Net {
    pub fn new(proxies: Proxies, timeouts: Timeouts) -> Net {
        Net { timeouts, proxies }
    }

    /// No proxy, the default timeouts.
    pub fn direct() -> Net {
        Net::new(Proxies::none(), Timeouts::default())
    }

    /// How a call to `url` goes.
    pub fn route(&self, url: &str) -> Route {
        Route { proxy: self.proxies.route(url), timeouts: self.timeouts }
    }

    /// The connector of raw calls (AWS Sign-In's token and federation
    /// endpoints): this policy, decided again for every request.
    pub(crate) fn connector(&self) -> Dispatch {
        Dispatch { net: self.clone(), direct: OnceLock::new(), http: OnceLock::new(), https: OnceLock::new() }
    }

    /// The HTTP client of an SDK client: the same connector for every
    /// request. The SDK's own timeout settings are not used: this policy
    /// replaces them.
    pub(crate) fn sdk_http_client(&self) -> SharedHttpClient {
        let connector = SharedHttpConnector::new(self.connector());
        http_client_fn(move |_settings, _components| connector.clone())
    }
}

/// An HTTP connector that sends each request directly or through the
/// proxy [`Proxies::route`] picks for its URL, with [`Net`]'s timeouts.
/// Built lazily: one SDK connector per way out.
#[derive(Debug)]
pub(crate) struct Dispatch {
    net: Net,
    direct: OnceLock<Arc<Connector>>,
    http: OnceLock<Arc<Connector>>,
    https: OnceLock<Arc<Connector>>,
}

impl Dispatch {
    fn build(&self, proxy: Option<&Proxy>) -> Result<Connector, BadProxy> {
        let mut settings = HttpConnectorSettings::builder();
        settings.set_connect_timeout(self.net.timeouts.connect.limit);
        settings.set_read_timeout(self.net.timeouts.read.limit);
        let mut builder = Connector::builder().connector_settings(settings.build());
        if let Some(p) = proxy {
            let config = ProxyConfig::all(p.connector_url()).map_err(|_| BadProxy {
                var: p.var.clone(),
                shown: p.shown.clone(),
                why: "it is not a valid URL".to_string(),
            })?;
            builder = builder.proxy_config(config);
        }
        Ok(builder.tls_provider(tls::Provider::Rustls(tls::rustls_provider::CryptoMode::Ring)).build())
    }

    fn connector(&self, route: &ProxyRoute, https: bool) -> Result<Arc<Connector>, BadProxy> {
        let (cell, proxy) = match route {
            ProxyRoute::Direct | ProxyRoute::Bypassed { .. } => (&self.direct, None),
            ProxyRoute::Via(p) => (if https { &self.https } else { &self.http }, Some(p)),
            ProxyRoute::Invalid(bad) => return Err(bad.clone()),
        };
        if let Some(c) = cell.get() {
            return Ok(c.clone());
        }
        match proxy {
            Some(p) => tracing::debug!(proxy = %p.shown, from = %p.var, https, "calls go through a proxy"),
            None => {
                if let ProxyRoute::Bypassed { var, entry } = route {
                    tracing::debug!(no_proxy = %var, entry = %entry, "calls to this host go directly");
                }
            }
        }
        let built = Arc::new(self.build(proxy)?);
        Ok(cell.get_or_init(|| built).clone())
    }
}

impl HttpConnector for Dispatch {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let uri = request.uri();
        let route = self.net.proxies.route(uri);
        let https = uri.get(..8).is_some_and(|s| s.eq_ignore_ascii_case("https://"));
        match self.connector(&route, https) {
            Ok(c) => c.call(request),
            Err(bad) => HttpConnectorFuture::ready(Err(ConnectorError::user(Box::new(bad)))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Env {
        Env::from_pairs(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())))
    }

    fn via(p: &Proxies, url: &str) -> Option<String> {
        match p.route(url) {
            ProxyRoute::Via(p) => Some(format!("{} {}", p.var, p.shown)),
            _ => None,
        }
    }

    #[test]
    fn timeouts_follow_the_aws_cli() {
        let t = Timeouts::default();
        assert_eq!(t.connect, Timeout { limit: Some(Duration::from_secs(60)), from_flag: false });
        assert_eq!(t.read, Timeout { limit: Some(Duration::from_secs(60)), from_flag: false });
        let t = Timeouts::from_flags(Some(5), Some(0));
        assert_eq!(t.connect, Timeout { limit: Some(Duration::from_secs(5)), from_flag: true });
        assert_eq!(t.read, Timeout { limit: None, from_flag: true }, "0 is no limit");
    }

    #[test]
    fn the_scheme_picks_the_variable() {
        let p = Proxies::from_env(&env(&[("HTTPS_PROXY", "http://s:3128"), ("HTTP_PROXY", "http://p:8080")]));
        assert_eq!(via(&p, "https://oidc.us-east-1.amazonaws.com").as_deref(), Some("HTTPS_PROXY http://s:3128"));
        assert_eq!(via(&p, "http://127.0.0.1:9/x").as_deref(), Some("HTTP_PROXY http://p:8080"), "loopback too");
        let only_https = Proxies::from_env(&env(&[("HTTPS_PROXY", "http://s:3128")]));
        assert_eq!(only_https.route("http://127.0.0.1:9"), ProxyRoute::Direct);
        // ALL_PROXY is not read (botocore looks up the scheme's own variable only).
        assert_eq!(Proxies::from_env(&env(&[("ALL_PROXY", "http://a:1")])).route("https://x"), ProxyRoute::Direct);
    }

    #[test]
    fn lower_case_wins_and_an_empty_one_removes() {
        let p = Proxies::from_env(&env(&[("HTTPS_PROXY", "http://upper:1"), ("https_proxy", "http://lower:2")]));
        assert_eq!(via(&p, "https://x").as_deref(), Some("https_proxy http://lower:2"));
        let p = Proxies::from_env(&env(&[("HTTPS_PROXY", "http://upper:1"), ("https_proxy", "")]));
        assert_eq!(p.route("https://x"), ProxyRoute::Direct);
        // An empty upper-case one is skipped.
        let p = Proxies::from_env(&env(&[("HTTPS_PROXY", ""), ("Https_Proxy", "http://mixed:3")]));
        assert_eq!(via(&p, "https://x").as_deref(), Some("Https_Proxy http://mixed:3"));
        // CGI: HTTP_PROXY may come from a client's header.
        let p = Proxies::from_env(&env(&[("HTTP_PROXY", "http://p:1"), ("REQUEST_METHOD", "GET")]));
        assert_eq!(p.route("http://x"), ProxyRoute::Direct);
        let p = Proxies::from_env(&env(&[("http_proxy", "http://p:1"), ("REQUEST_METHOD", "GET")]));
        assert_eq!(via(&p, "http://x").as_deref(), Some("http_proxy http://p:1"));
    }

    #[test]
    fn no_proxy_matches_like_botocore() {
        let bypass = |no: &str, url: &str| {
            let p = Proxies::from_env(&env(&[
                ("HTTPS_PROXY", "http://p:1"),
                ("HTTP_PROXY", "http://p:1"),
                ("NO_PROXY", no),
            ]));
            match p.route(url) {
                ProxyRoute::Bypassed { entry, .. } => Some(entry),
                ProxyRoute::Via(_) => None,
                other => panic!("{other:?}"),
            }
        };
        assert_eq!(bypass("*", "https://x.example").as_deref(), Some("*"));
        assert_eq!(bypass("*,other", "https://x.example"), None, "`*` only alone");
        assert_eq!(bypass("amazonaws.com", "https://oidc.us-east-1.amazonaws.com").as_deref(), Some("amazonaws.com"));
        assert_eq!(bypass(".amazonaws.com", "https://sts.amazonaws.com").as_deref(), Some(".amazonaws.com"));
        assert_eq!(bypass("AMAZONAWS.com", "https://sts.AmazonAWS.com/").as_deref(), Some("AMAZONAWS.com"));
        assert_eq!(bypass("zonaws.com", "https://sts.amazonaws.com"), None, "a suffix after a dot only");
        assert_eq!(bypass(" a.test , 127.0.0.1 ", "http://127.0.0.1:4566/x").as_deref(), Some("127.0.0.1"));
        assert_eq!(bypass("127.0.0.1:4566", "http://127.0.0.1:4566").as_deref(), Some("127.0.0.1:4566"));
        assert_eq!(bypass("127.0.0.1:9", "http://127.0.0.1:4566"), None);
        assert_eq!(bypass("localhost", "http://127.0.0.1:4566"), None, "no name resolution, no loopback rule");
        assert_eq!(bypass("10.0.0.0/8", "http://10.1.2.3"), None, "no CIDR ranges");
        assert_eq!(bypass("0.0.1", "http://10.0.0.1").as_deref(), Some("0.0.1"), "IPs are text too");
        assert_eq!(bypass("[::1]", "http://[::1]:8080").as_deref(), Some("[::1]"));
        assert_eq!(bypass("", "https://x"), None);
    }

    #[test]
    fn proxy_urls_as_botocore_reads_them() {
        let one = |value: &str| Proxies::from_env(&env(&[("HTTPS_PROXY", value)])).route("https://x");
        let ProxyRoute::Via(p) = one("proxy.example:3128") else { panic!() };
        assert_eq!((p.shown.as_str(), p.authority().as_str()), ("http://proxy.example:3128", "proxy.example:3128"));
        let ProxyRoute::Via(p) = one("//proxy.example") else { panic!() };
        assert_eq!((p.shown.as_str(), p.port), ("http://proxy.example", 80));
        let ProxyRoute::Via(p) = one("http://al%40ce:p%3Ass@[::1]:3128/ignored") else { panic!() };
        assert_eq!(p.shown, "http://al%40ce:****@[::1]:3128");
        assert_eq!(p.authority(), "[::1]:3128");
        assert_eq!(p.credentials, Some(("al@ce".to_string(), Secret::new("p:ss"))));
        assert_eq!(p.connector_url(), "http://al%40ce:p%3Ass@[::1]:3128");
        // A user without a password sends no credentials, as botocore.
        let ProxyRoute::Via(p) = one("http://alice@proxy:1") else { panic!() };
        assert!(!p.has_credentials());
        assert_eq!(p.shown, "http://alice@proxy:1");
        for (value, why) in [
            ("https://proxy:443", "plain HTTP only"),
            ("http://proxy:99999", "port"),
            ("http://:8080", "no host"),
            ("socks5://alice:pw@proxy:1080", "not `socks5://`"),
            ("http://pro xy:1", "host name"),
        ] {
            let ProxyRoute::Invalid(bad) = one(value) else { panic!("{value} was accepted") };
            assert!(bad.why.contains(why), "{value}: {}", bad.why);
            assert!(!bad.shown.contains("pw"), "{}", bad.shown);
        }
    }

    #[test]
    fn passwords_never_show() {
        let p = Proxies::from_env(&env(&[("HTTPS_PROXY", "http://alice:s3cret@proxy:3128"), ("NO_PROXY", "x")]));
        let text = format!("{p:?} {:?} {:?}", p.route("https://a"), p.shown());
        assert!(!text.contains("s3cret"), "{text}");
        assert!(text.contains("alice:****@proxy:3128"), "{text}");
        assert_eq!(mask("alice:s3cret@proxy:3128"), "alice:****@proxy:3128");
        assert_eq!(mask("http://proxy:3128"), "http://proxy:3128");
        assert_eq!(mask("http://alice:s3cret@proxy:3128/x"), "http://alice:****@proxy:3128/x");
    }
}
