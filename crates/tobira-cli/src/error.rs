//! The one error type of the CLI: what happened, why, and what to run next.
//! Its kind decides the exit code (documented in README.md, "Exit codes").

use std::fmt::Write as _;
use std::process::ExitCode;

use tobira_auth::net::{ProxyRoute, Timeouts};
use tobira_auth::{AuthError, Call, NetFailure, Service, TimeoutPhase};
use tobira_config::resolve::Endpoints;
use tobira_config::{LoadError, Origin, ResolveError, Sourced};

use crate::commands::target::Chosen;

/// Exit codes. Stable: scripts may depend on them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// 1: an unexpected failure (I/O error, a bug).
    Internal = 1,
    /// 2: the command line is wrong (unknown flag, missing argument).
    Usage = 2,
    /// 3: the config or credentials file cannot be read or parsed.
    ConfigFile = 3,
    /// 4: the named profile does not exist.
    ProfileNotFound = 4,
    /// 5: the profile's configuration is incomplete or contradictory.
    InvalidProfile = 5,
    /// 6: nothing configured provides credentials.
    NoCredentials = 6,
    /// 7: a sign-in is needed (no token, expired, revoked) or did not complete.
    NeedsLogin = 7,
    /// 8: an AWS service (or tobira-idc) answered with an error.
    Service = 8,
    /// 9: the service could not be reached.
    Network = 9,
    /// 10: `tobira doctor` found warnings (and no errors).
    DoctorWarnings = 10,
    /// 11: `tobira doctor` found errors: something fails now.
    DoctorErrors = 11,
    /// 12: the OS keychain is not available (no D-Bus session or Secret Service) or refused (locked).
    Keychain = 12,
    /// 126: `tobira exec`: the command exists but cannot be run (as shells exit).
    CommandNotExecutable = 126,
    /// 127: `tobira exec`: the command does not exist (as shells exit).
    CommandNotFound = 127,
    /// 130: cancelled at a prompt (Ctrl-C / Esc); nothing was written.
    Interrupted = 130,
}

impl Kind {
    /// Every exit code, for the check that README.md documents each one.
    pub const ALL: [Kind; 15] = [
        Kind::Internal,
        Kind::Usage,
        Kind::ConfigFile,
        Kind::ProfileNotFound,
        Kind::InvalidProfile,
        Kind::NoCredentials,
        Kind::NeedsLogin,
        Kind::Service,
        Kind::Network,
        Kind::DoctorWarnings,
        Kind::DoctorErrors,
        Kind::Keychain,
        Kind::CommandNotExecutable,
        Kind::CommandNotFound,
        Kind::Interrupted,
    ];
}

#[derive(Debug)]
pub struct CliError {
    pub kind: Kind,
    pub message: String,
    pub hints: Vec<String>,
}

impl CliError {
    pub fn new(kind: Kind, message: impl Into<String>) -> CliError {
        CliError { kind, message: message.into(), hints: Vec::new() }
    }

    pub fn hint(mut self, hint: impl Into<String>) -> CliError {
        self.hints.push(hint.into());
        self
    }

    pub fn exit_code(&self) -> ExitCode {
        ExitCode::from(self.kind as u8)
    }

    /// One line: `tobira: <message> (<hints>)`, for callers that read one line.
    pub fn render_one_line(&self) -> String {
        let mut line = format!("tobira: {}", self.message.replace('\n', " "));
        if !self.hints.is_empty() {
            line.push_str(&format!(" ({})", self.hints.join("; ")));
        }
        line.push('\n');
        line
    }

    /// `error: …`, then each hint after a blank line (readable without colour).
    pub fn render(&self) -> String {
        let mut out = format!("error: {}\n", self.message);
        for h in &self.hints {
            let _ = write!(out, "\nhint: {h}\n");
        }
        out
    }
}

impl From<LoadError> for CliError {
    fn from(e: LoadError) -> CliError {
        match e {
            LoadError::Parse(p) => {
                let which = match p.kind {
                    tobira_config::FileKind::Config => "config",
                    tobira_config::FileKind::Credentials => "credentials",
                };
                CliError::new(Kind::ConfigFile, format!("cannot parse the AWS {which} file: {p}")).hint(format!(
                    "fix line {} of {}; the AWS CLI and SDKs refuse this file too (\"Unable to parse config file\")",
                    p.error.line,
                    p.path.display()
                ))
            }
            LoadError::Io { path, source, .. } => {
                CliError::new(Kind::ConfigFile, format!("cannot read {}: {source}", path.display()))
                    .hint("check that the path is a readable file (AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE choose other paths)")
            }
        }
    }
}

impl From<ResolveError> for CliError {
    fn from(e: ResolveError) -> CliError {
        let kind = match &e {
            ResolveError::ProfileNotFound { .. } => Kind::ProfileNotFound,
            ResolveError::NoCredentials { .. } => Kind::NoCredentials,
            _ => Kind::InvalidProfile,
        };
        let mut err = CliError::new(kind, e.to_string());
        if let Some(h) = e.hint() {
            err = err.hint(h);
        }
        err
    }
}

/// A word as a POSIX shell reads it: as is when safe, else single-quoted.
pub fn shell_word(s: &str) -> String {
    if !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "-_.@+/:=,".contains(c)) {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// The profiles that exist (`` `a`, `b` ``, at most ten named) and how to
/// choose one, for errors raised when nothing selected a profile. `None`
/// when there is none.
pub fn choose_a_profile(names: &[String]) -> Option<(String, String)> {
    const SHOWN: usize = 10;
    let first = names.first()?;
    let mut list: Vec<String> = names.iter().take(SHOWN).map(|n| format!("`{n}`")).collect();
    if names.len() > SHOWN {
        list.push(format!("and {} more (`tobira profiles` lists them)", names.len() - SHOWN));
    }
    let word = shell_word(first);
    Some((
        list.join(", "),
        format!(
            "choose one with `--profile {word}`, or for every command in this shell with `export AWS_PROFILE={word}`"
        ),
    ))
}

/// Where the addresses of the services a command calls come from: what a
/// network error needs to say where to look.
#[derive(Clone, Debug, Default)]
pub struct Addresses {
    /// Endpoint overrides and their origins (`AWS_ENDPOINT_URL_*`, `endpoint_url`).
    pub endpoints: Endpoints,
    /// Where the SSO region was set, as users read it (`` `sso_region` at ~/.aws/config:9 ``).
    pub sso_region_from: Option<String>,
    /// The region STS is called in, and where it is set (`None`: tobira's default).
    pub region: Option<Sourced<String>>,
}

impl Addresses {
    fn overridden(&self, service: Service) -> Option<&Sourced<String>> {
        match service {
            Service::SsoOidc => self.endpoints.sso_oidc.as_ref(),
            Service::Portal => self.endpoints.sso.as_ref(),
            Service::Sts => self.endpoints.sts.as_ref(),
            Service::Signin => self.endpoints.signin.as_ref(),
        }
    }

    /// Where the default endpoint's region (`region`, the call's) comes from.
    fn region_from(&self, service: Service, region: &str) -> String {
        match service {
            // A cached console sign-in that names its own region (the JS SDK's `signInRegion`).
            Service::Signin if !region.is_empty() && self.region.as_ref().is_none_or(|r| r.value != region) => {
                "`signInRegion` in the cached sign-in".to_string()
            }
            Service::SsoOidc | Service::Portal => {
                self.sso_region_from.clone().unwrap_or_else(|| "the SSO region".to_string())
            }
            Service::Sts | Service::Signin => match &self.region {
                Some(r) => match &r.origin {
                    Origin::Env { var } => format!("`{var}`"),
                    Origin::Flag { flag } => format!("`{flag}`"),
                    o @ (Origin::ConfigFile { .. } | Origin::CredentialsFile { .. }) => format!("`region` at {o}"),
                    Origin::Default => "the default region".to_string(),
                },
                None if service == Service::Signin => "no region is configured".to_string(),
                None => format!(
                    "no region is configured, so tobira uses `{}`; set one with `region = …` in the profile or `--region`",
                    tobira_auth::creds::STS_DEFAULT_REGION
                ),
            },
        }
    }
}

/// `1 second`, `60 seconds`.
fn seconds(d: std::time::Duration) -> String {
    match d.as_secs() {
        1 => "1 second".to_string(),
        n => format!("{n} seconds"),
    }
}

/// How long a timeout was, which one and where its length came from (`60
/// seconds (read timeout, from the default, as for the AWS CLI; after
/// retries)`), and the flag that changes it.
fn timeout_text(phase: TimeoutPhase, timeouts: &Timeouts) -> Option<(String, String)> {
    let (t, flag, which) = match phase {
        TimeoutPhase::Connect => (timeouts.connect, "--cli-connect-timeout", "connect"),
        TimeoutPhase::Read => (timeouts.read, "--cli-read-timeout", "read"),
        TimeoutPhase::Other => return None,
    };
    let limit = seconds(t.limit?);
    let from = if t.from_flag { format!("`{flag}`") } else { "the default, as for the AWS CLI".to_string() };
    Some((format!("{limit} ({which} timeout, from {from}; after retries)"), format!("`{flag} SECONDS` (0: no limit)")))
}

/// `host:port` as a CONNECT request names it (443 or 80 when the URL has no port).
fn tunnel_target(call: &Call) -> String {
    let authority = call.authority();
    let has_port = match authority.strip_prefix('[') {
        Some(v6) => v6.contains("]:"),
        None => authority.contains(':'),
    };
    if has_port {
        return authority;
    }
    let port = if call.url.get(..8).is_some_and(|s| s.eq_ignore_ascii_case("https://")) { 443 } else { 80 };
    format!("{authority}:{port}")
}

/// A call that got no usable answer: what could not be reached, why, where
/// its address came from and what to do (exit 9; exit 5 for an address or
/// a proxy setting that cannot be used). Calls through a proxy say which,
/// its password masked. Never the SDK's `Debug` text.
fn network(call: &Call, failure: &NetFailure, addresses: &Addresses) -> CliError {
    let label = call.service.label();
    let url = &call.url;
    let configured = addresses.overridden(call.service);
    // Where the address came from, and how to stop using it.
    let (from, undo) = match configured.map(|c| &c.origin) {
        Some(Origin::Env { var }) => {
            let scope = if var == "AWS_ENDPOINT_URL" { ", which applies to every AWS service" } else { "" };
            (format!("the address comes from `{var}`{scope}"), format!("`unset {var}` to use AWS's own endpoint"))
        }
        Some(o @ (Origin::ConfigFile { .. } | Origin::CredentialsFile { .. })) => (
            format!("the address comes from `endpoint_url` at {o}"),
            format!("remove that line ({o}) to use AWS's own endpoint"),
        ),
        Some(o) => (format!("the address comes from {o}"), "remove that setting".to_string()),
        None => (
            format!(
                "`{url}` is AWS's {label} endpoint for region `{}` ({})",
                call.region,
                addresses.region_from(call.service, &call.region)
            ),
            String::new(),
        ),
    };
    let op = call.operation;
    let proxy = match &call.route.proxy {
        ProxyRoute::Via(p) => Some(p),
        _ => None,
    };
    let through = proxy.map(|p| format!(" through the proxy `{}` (from `{}`)", p.shown, p.var)).unwrap_or_default();
    let bypass = format!("add `{}` to `NO_PROXY` (comma-separated) to reach it without the proxy", call.host());
    let timeout = match failure {
        NetFailure::Timeout(phase) => timeout_text(*phase, &call.route.timeouts),
        _ => None,
    };
    let message = match failure {
        NetFailure::NotTheService { status, content_type } => {
            let ct = content_type.as_deref().map(|c| format!(" ({c})")).unwrap_or_default();
            format!(
                "the {label} endpoint `{url}` ({op}) answered HTTP {status}{ct}{through}, which is not an answer of the {label} service"
            )
        }
        NetFailure::Refused => match proxy {
            Some(p) => format!(
                "cannot reach the {label} endpoint `{url}` ({op}){through}: the connection to the proxy at {} was refused (nothing is listening there)",
                p.authority()
            ),
            None => format!(
                "cannot reach the {label} endpoint `{url}` ({op}): the connection to {} was refused (nothing is listening there)",
                call.authority()
            ),
        },
        NetFailure::Dns => match proxy {
            Some(p) => format!(
                "cannot reach the {label} endpoint `{url}` ({op}){through}: the proxy's host name `{}` does not resolve (DNS)",
                p.host
            ),
            None => format!(
                "cannot reach the {label} endpoint `{url}` ({op}): the host name `{}` does not resolve (DNS)",
                call.host()
            ),
        },
        NetFailure::Timeout(TimeoutPhase::Connect) => {
            let within = timeout.as_ref().map_or_else(|| "in time".to_string(), |(t, _)| format!("within {t}"));
            match proxy {
                Some(p) => format!(
                    "cannot reach the {label} endpoint `{url}` ({op}){through}: no connection to {} through the proxy at {} {within}",
                    call.authority(),
                    p.authority()
                ),
                None => format!(
                    "cannot reach the {label} endpoint `{url}` ({op}): no connection to {} {within}",
                    call.authority()
                ),
            }
        }
        NetFailure::Timeout(TimeoutPhase::Read) => {
            let within = timeout.as_ref().map_or_else(|| "in time".to_string(), |(t, _)| format!("within {t}"));
            match proxy {
                Some(_) => {
                    format!("the {label} endpoint `{url}` ({op}) did not answer{through}: no answer came {within}")
                }
                None => format!(
                    "the {label} endpoint `{url}` ({op}) did not answer: {} accepted the connection but sent no answer {within}",
                    call.authority()
                ),
            }
        }
        NetFailure::Timeout(TimeoutPhase::Other) => format!(
            "cannot reach the {label} endpoint `{url}` ({op}){through}: {} did not answer in time (timed out, after retries)",
            call.authority()
        ),
        NetFailure::TunnelRefused { auth_required } => {
            let p_shown = proxy
                .map_or_else(|| "the proxy".to_string(), |p| format!("the proxy `{}` (from `{}`)", p.shown, p.var));
            let answer = if *auth_required {
                "it asks for a user name and password (407 Proxy Authentication Required)"
            } else {
                "it answered CONNECT with an error instead of 200"
            };
            format!(
                "{p_shown} refused to open a tunnel to {} for the {label} endpoint `{url}` ({op}): {answer}",
                tunnel_target(call)
            )
        }
        NetFailure::BadProxy(bad) => {
            return CliError::new(Kind::InvalidProfile, bad.to_string())
                .hint(format!("it applies to the {label} endpoint `{url}` ({op}), which was not called"))
                .hint(format!("write it as `http://[USER:PASSWORD@]HOST:PORT`, or `unset {}`", bad.var));
        }
        NetFailure::Connection(why) => {
            format!("cannot reach the {label} endpoint `{url}` ({op}){through}: the connection failed: {why}")
        }
        NetFailure::Request(why) => format!("cannot call the {label} endpoint `{url}` ({op}): {why}"),
        NetFailure::BadUrl => {
            let fix = if undo.is_empty() { String::new() } else { format!(", or {undo}") };
            return CliError::new(Kind::InvalidProfile, format!("the {label} endpoint `{url}` is not a valid URL"))
                .hint(from)
                .hint(format!(
                    "write a full URL with its scheme, such as `https://{}` or `http://127.0.0.1:8080`{fix}",
                    call.host()
                ));
        }
    };
    let fix = match (proxy, failure) {
        (Some(p), NetFailure::Refused | NetFailure::Dns) => {
            format!("check the proxy's address in `{}`, or `unset {}` if AWS can be reached without it", p.var, p.var)
        }
        (Some(p), NetFailure::TunnelRefused { auth_required: true }) if p.has_credentials() => format!(
            "the proxy refused the user name and password in `{}`: correct them (percent-encode `@`, `:` and `%` in them)",
            p.var
        ),
        (Some(p), NetFailure::TunnelRefused { auth_required: true }) => format!(
            "put them in the proxy's URL: `export {}=http://USER:PASSWORD@{}` (percent-encode `@`, `:` and `%` in them)",
            p.var,
            p.authority()
        ),
        (Some(_), NetFailure::TunnelRefused { .. }) => {
            format!("the proxy does not let this address through: ask its administrators, or {bypass}")
        }
        (Some(_), NetFailure::NotTheService { .. }) => {
            format!("the proxy may have answered in the service's place (a blocked address, a sign-in page): check it, or {bypass}")
        }
        _ => match (configured.is_some(), failure) {
            (true, NetFailure::NotTheService { .. }) => {
                format!("point it at the {label} service (tobira-idc prints its address when it starts), or {undo}")
            }
            (true, _) => format!("start the server it names, correct the address, or {undo}"),
            (false, NetFailure::Dns) => {
                "check the region name, and that this machine can resolve names (network, VPN, DNS)".to_string()
            }
            (false, NetFailure::NotTheService { .. }) => {
                "something between this machine and AWS answered instead (a captive portal or a firewall); check the network"
                    .to_string()
            }
            (false, _) if proxy.is_some() => {
                "check the network connection and the proxy, and run the command again".to_string()
            }
            (false, _) => {
                "check the network connection (a firewall, or a proxy to set in `HTTPS_PROXY`) and run the command again"
                    .to_string()
            }
        },
    };
    let mut err = CliError::new(Kind::Network, message).hint(from).hint(fix);
    if let Some((_, flag)) = timeout {
        err = err.hint(format!("if it is only slow, give it longer with {flag}"));
    }
    err
}

/// An [`AuthError`] with the command that fixes it.
pub fn auth_error(e: AuthError, chosen: &Chosen) -> CliError {
    let login = chosen.target.login_command(chosen.profile.as_deref());
    match &e {
        AuthError::NoToken(_) | AuthError::InvalidToken(_) | AuthError::Expired(_) => {
            let mut err = CliError::new(Kind::NeedsLogin, format!("Error loading SSO Token: {e}")).hint(format!("sign in with `{login}`"));
            if chosen.target.session.is_none() {
                let p = chosen.profile.as_deref().unwrap_or("default");
                err = err.hint(format!(
                    "this profile uses the legacy SSO format, whose sign-ins cannot be refreshed; move it to an sso-session with `tobira configure sso --profile {p} --sso-session {p} --start-url {} --sso-region {}`",
                    chosen.target.start_url, chosen.target.region
                ));
            }
            err
        }
        AuthError::Service { code, .. } if code == "UnauthorizedException" => CliError::new(
            Kind::NeedsLogin,
            "The SSO session associated with this profile has expired or is otherwise invalid.",
        )
        .hint(format!("sign in again with `{login}`")),
        AuthError::PendingExpired | AuthError::StateMismatch | AuthError::AuthorizationFailed(_) => {
            CliError::new(Kind::NeedsLogin, e.to_string()).hint(format!("start again with `{login}`"))
        }
        AuthError::Callback(_) => CliError::new(Kind::NeedsLogin, e.to_string())
            .hint(format!("use the device code flow, which needs no local listener: `{login} --use-device-code`")),
        AuthError::Service { code, .. } if code == "InvalidRequestException" || code == "InvalidGrantException" => {
            CliError::new(Kind::Service, e.to_string()).hint(format!(
                "check `sso_start_url` and `sso_region` ({}, {}): a wrong SSO region is the usual cause (\"Invalid grant provided\")",
                chosen.target.start_url, chosen.target.region
            ))
        }
        AuthError::Service { .. } => CliError::new(Kind::Service, e.to_string()),
        AuthError::Network { call, failure } => network(call, failure, &chosen.addresses),
        AuthError::Cache(_) => CliError::new(Kind::Internal, e.to_string()),
        AuthError::CacheFile { path, .. } => {
            let dir = path.parent().map(|d| d.display().to_string()).unwrap_or_default();
            CliError::new(Kind::Internal, e.to_string())
                .hint(format!("tobira needs to create and write files in `{dir}`: check its owner and permissions"))
        }
        AuthError::Credentials(_) => CliError::new(Kind::NoCredentials, e.to_string()),
        AuthError::MfaRefused { serial, refusal, message, .. } => {
            let kind = if message.is_some() { Kind::Service } else { Kind::Usage };
            let again = match refusal {
                tobira_auth::mfa_codes::MfaRefusal::Locked => "try again once the lock has ended",
                _ => "run the command again with the current code (`--mfa-code CODE`, or type it when asked)",
            };
            CliError::new(kind, e.to_string()).hint(refusal.explain(serial)).hint(again)
        }
        AuthError::ChainedDuration { profile, .. } => CliError::new(Kind::InvalidProfile, e.to_string()).hint(format!(
            "a role assumed with role credentials (role chaining) lasts at most one hour: set `duration_seconds = 3600` or less in profile `{profile}`"
        )),
        AuthError::Signin { profile, error } => {
            signin_error(error, profile.as_deref().or(chosen.profile.as_deref()).unwrap_or("default"), &chosen.addresses)
        }
    }
}

/// A console sign-in error (`login_session` profiles) with the command that
/// fixes it; `profile` holds `login_session`.
pub fn signin_error(e: &tobira_auth::signin::SigninError, profile: &str, addresses: &Addresses) -> CliError {
    use tobira_auth::signin::SigninError as S;
    let login = format!("tobira login --profile {}", shell_word(profile));
    let again = format!("sign in again with `{login}`");
    let (kind, hint) = match e {
        S::NoRegion => (
            Kind::InvalidProfile,
            format!(
                "set one: `region = us-east-1` (your region) in profile `{profile}`, `export AWS_REGION=us-east-1`, or `--region us-east-1`; or point `AWS_ENDPOINT_URL_SIGNIN` at the service"
            ),
        ),
        S::NotSignedIn { .. } => (Kind::NeedsLogin, format!("sign in with `{login}`")),
        S::BadCacheFile { .. } | S::BadKey { .. } => {
            (Kind::NeedsLogin, format!("sign in again with `{login}`; the new sign-in replaces the file"))
        }
        S::SessionExpired { .. } | S::AccessDenied { .. } => (Kind::NeedsLogin, again),
        S::CredentialsChanged { .. } => (Kind::NeedsLogin, format!("sign in again with your new password: `{login}`")),
        S::InsufficientPermissions { .. } => (
            Kind::Service,
            format!(
                "an administrator must allow the `signin:CreateOAuth2Token` action for this principal; then run `{login}`"
            ),
        ),
        S::AuthCodeExpired { .. } => (
            Kind::NeedsLogin,
            format!("start again with `{login}` and finish the sign-in in the browser within a few minutes"),
        ),
        S::Service { refresh: true, .. } => (
            Kind::NeedsLogin,
            format!(
                "AWS Sign-In refused the cached refresh token (revoked, expired, or already used by another program); {again}"
            ),
        ),
        S::Service { refresh: false, .. } => (Kind::Service, format!("start again with `{login}`")),
        S::BadAnswer(_) => {
            let url = addresses.endpoints.signin.as_ref().map(|s| format!(" (`{}`, from {})", s.value, s.origin));
            (
                Kind::Service,
                format!(
                    "check that the endpoint{} is AWS Sign-In (tobira-idc prints its address as `AWS_ENDPOINT_URL_SIGNIN`)",
                    url.unwrap_or_default()
                ),
            )
        }
        S::StillExpired => (Kind::NeedsLogin, format!("check this machine's clock, then {again}")),
        S::StateMismatch { .. } | S::NoCode | S::Denied { .. } | S::PendingExpired(_) => {
            (Kind::NeedsLogin, format!("start again with `{login}`"))
        }
        S::BadVerificationCode | S::IncompleteVerificationCode => (
            Kind::NeedsLogin,
            format!("start again with `{login} --remote` and paste the whole code the confirmation page shows"),
        ),
        S::Callback(_) => {
            (Kind::NeedsLogin, format!("sign in without a local listener, from any device: `{login} --remote`"))
        }
        S::Cancelled => return CliError::new(Kind::Interrupted, "cancelled; nothing was written"),
    };
    CliError::new(kind, e.to_string()).hint(hint)
}

#[cfg(test)]
mod tests {
    use super::{Addresses, Kind, Origin, Service, Sourced};

    /// A refresh in the region a cached sign-in names (`signInRegion`) says
    /// so, instead of blaming the configured region.
    #[test]
    fn where_sign_ins_region_comes_from() {
        let env = Addresses {
            region: Some(Sourced { value: "us-east-1".into(), origin: Origin::Env { var: "AWS_REGION".into() } }),
            ..Addresses::default()
        };
        assert_eq!(env.region_from(Service::Signin, "us-east-1"), "`AWS_REGION`");
        assert_eq!(env.region_from(Service::Signin, "eu-west-1"), "`signInRegion` in the cached sign-in");
        assert_eq!(
            Addresses::default().region_from(Service::Signin, "eu-west-1"),
            "`signInRegion` in the cached sign-in"
        );
        assert_eq!(Addresses::default().region_from(Service::Signin, ""), "no region is configured");
        assert_eq!(env.region_from(Service::Sts, "eu-west-1"), "`AWS_REGION`");
    }

    /// README.md's exit-code table lists exactly the codes tobira uses.
    #[test]
    fn the_readme_documents_every_exit_code() {
        let readme = include_str!("../../../README.md");
        let table = readme.split("## Exit codes").nth(1).and_then(|t| t.split("\n\n").nth(1)).unwrap();
        let documented: Vec<u8> = table
            .lines()
            .filter_map(|l| l.strip_prefix("| ")?.split(' ').next()?.parse().ok())
            .filter(|c| *c != 0)
            .collect();
        let used: Vec<u8> = Kind::ALL.iter().map(|k| *k as u8).collect();
        assert_eq!(documented, used);
    }
}
