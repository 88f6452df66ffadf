//! From files + environment + flags to a plan of credential steps, exactly as
//! the AWS CLI v2 decides (files.md §4–5). No I/O and no network: the plan is
//! what an executor will later run.

use serde::Serialize;

use crate::env::{Env, parse_bool};
use crate::files::{Block, ProfileSet};
use crate::origin::{Origin, Secret, Sourced};

/// The flags that take part in resolution.
#[derive(Clone, Debug, Default)]
pub struct Flags {
    /// `--profile`
    pub profile: Option<String>,
    /// `--region`
    pub region: Option<String>,
}

/// The resolved plan for one profile.
#[derive(Clone, Debug, Serialize)]
pub struct Plan {
    pub profile: Sourced<String>,
    /// Whether the profile was named by a flag (which turns off credentials
    /// from environment variables, as `aws --profile` does).
    pub explicit: bool,
    /// Whether the profile exists in either file.
    pub exists: bool,
    pub region: Option<Sourced<String>>,
    pub endpoints: Endpoints,
    /// Other settings of the selected profile that shape how credentials are
    /// used or written.
    pub settings: Settings,
    /// Credential steps: the first produces credentials from something
    /// configured, each later one assumes a role with the previous result.
    pub steps: Vec<Step>,
}

impl Plan {
    /// The AWS CLI's name for the provider that answers (`aws configure list`).
    pub fn method(&self) -> &'static str {
        match self.steps.last() {
            Some(Step::AssumeRole(_)) => "assume-role",
            Some(step) => step.method(),
            None => "none",
        }
    }
}

/// Non-credential settings of the selected profile (files.md §3).
#[derive(Clone, Debug, Default, Serialize)]
pub struct Settings {
    /// `output` (json, text, table, yaml…).
    pub output: Option<Sourced<String>>,
    /// `AWS_CA_BUNDLE` or `ca_bundle`.
    pub ca_bundle: Option<Sourced<String>>,
    /// `cli_timestamp_format` (`iso8601` or `wire`): the text of cached
    /// expirations the AWS CLI writes.
    pub cli_timestamp_format: Option<Sourced<String>>,
    /// `aws_account_id`: the account the profile's credentials belong to.
    pub account_id: Option<Sourced<String>>,
    /// `sts_regional_endpoints` (botocore 1.x only; the AWS CLI v2 ignores it).
    pub sts_regional_endpoints: Option<Sourced<String>>,
}

/// Endpoint overrides for the services tobira calls.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Endpoints {
    pub sso_oidc: Option<Sourced<String>>,
    pub sso: Option<Sourced<String>>,
    pub sts: Option<Sourced<String>>,
    /// The Sign-In service of `aws login` (`login_session` profiles).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signin: Option<Sourced<String>>,
}

fn masked<S: serde::Serializer>(v: &Sourced<String>, s: S) -> Result<S::Ok, S::Error> {
    Sourced::new(crate::origin::mask_key_id(&v.value), v.origin.clone()).serialize(s)
}

/// One credential step.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "step", rename_all = "kebab-case")]
pub enum Step {
    /// `AWS_ACCESS_KEY_ID` and friends.
    Env(StaticKeys),
    /// Keys in a profile (credentials file or config file).
    Static(StaticKeys),
    /// IAM Identity Center role credentials.
    Sso(SsoRole),
    /// `credential_process`.
    Process { profile: String, command: Sourced<String> },
    /// `web_identity_token_file` (AssumeRoleWithWebIdentity).
    WebIdentity(WebIdentity),
    /// `login_session` (`aws login`): the console principal's ARN, and the
    /// directory its cached sign-in is in.
    Login { profile: String, session: Sourced<String>, cache_dir: Sourced<std::path::PathBuf> },
    /// `credential_source = Ec2InstanceMetadata | EcsContainer`.
    CredentialSource { profile: String, source: Sourced<String> },
    /// `role_arn`: assume a role with the previous step's credentials.
    AssumeRole(AssumeRole),
}

impl Step {
    pub fn method(&self) -> &'static str {
        match self {
            Step::Env(_) => "env",
            Step::Static(k) if k.from_credentials_file => "shared-credentials-file",
            Step::Static(_) => "config-file",
            Step::Sso(_) => "sso",
            Step::Process { .. } => "custom-process",
            Step::WebIdentity(_) => "assume-role-with-web-identity",
            Step::Login { .. } => "login",
            Step::CredentialSource { source, .. } => match source.value.as_str() {
                "EcsContainer" => "container-role",
                _ => "iam-role",
            },
            Step::AssumeRole(_) => "assume-role",
        }
    }

    /// The profile this step's settings come from (`None` for env keys).
    pub fn profile(&self) -> Option<&str> {
        match self {
            Step::Env(_) => None,
            Step::Static(k) => k.profile.as_deref(),
            Step::Sso(s) => Some(&s.profile),
            Step::Process { profile, .. } | Step::Login { profile, .. } | Step::CredentialSource { profile, .. } => {
                Some(profile)
            }
            Step::WebIdentity(w) => w.profile.as_deref(),
            Step::AssumeRole(a) => Some(&a.profile),
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct StaticKeys {
    pub profile: Option<String>,
    #[serde(skip)]
    pub from_credentials_file: bool,
    #[serde(serialize_with = "masked")]
    pub access_key_id: Sourced<String>,
    pub secret_access_key: Sourced<Secret>,
    pub session_token: Option<Sourced<Secret>>,
    /// `AWS_CREDENTIAL_EXPIRATION` (env keys only).
    pub expiration: Option<Sourced<String>>,
    /// `AWS_ACCOUNT_ID` (env keys) or `aws_account_id` (profile keys).
    pub account_id: Option<Sourced<String>>,
    /// `mfa_serial` on a profile with keys: tobira gets an MFA session
    /// (GetSessionToken) with them, as aws-vault does.
    pub mfa_serial: Option<Sourced<String>>,
}

#[derive(Clone, Debug, Serialize)]
pub struct SsoRole {
    pub profile: String,
    /// The `[sso-session]` name; `None` for a legacy profile.
    pub session: Option<Sourced<String>>,
    pub start_url: Sourced<String>,
    pub sso_region: Sourced<String>,
    pub account_id: Sourced<String>,
    pub role_name: Sourced<String>,
    /// `sso_registration_scopes`, split on `,` (sso-session only).
    pub registration_scopes: Option<Sourced<Vec<String>>>,
}

#[derive(Clone, Debug, Serialize)]
pub struct WebIdentity {
    pub profile: Option<String>,
    pub token_file: Sourced<String>,
    pub role_arn: Sourced<String>,
    pub role_session_name: Option<Sourced<String>>,
}

#[derive(Clone, Debug, Serialize)]
pub struct AssumeRole {
    pub profile: String,
    pub role_arn: Sourced<String>,
    pub source_profile: Option<Sourced<String>>,
    pub credential_source: Option<Sourced<String>>,
    pub external_id: Option<Sourced<String>>,
    pub mfa_serial: Option<Sourced<String>>,
    pub role_session_name: Option<Sourced<String>>,
    pub duration_seconds: Option<Sourced<i64>>,
    pub source_identity: Option<Sourced<String>>,
}

/// Why a profile cannot be resolved. `Display` gives the AWS CLI's own
/// sentence; [`ResolveError::hint`] says what to do.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    #[error("The config profile ({name}) could not be found")]
    ProfileNotFound { name: String, origin: Origin, candidates: Vec<String> },
    #[error("The profile \"{profile}\" is configured to use SSO but is missing required configuration: {}", missing.join(", "))]
    SsoMissingConfig { profile: String, missing: Vec<&'static str> },
    #[error("The specified sso-session does not exist: \"{session}\"")]
    SsoSessionNotFound { profile: String, session: String, origin: Origin },
    #[error("The value for {key} is inconsistent between profile ({profile_value}) and sso-session ({session_value}).")]
    SsoInconsistent {
        key: String,
        profile_value: String,
        session_value: String,
        profile_origin: Origin,
        session_origin: Origin,
    },
    #[error("The profile \"{profile}\" contains both source_profile and credential_source.")]
    SourceProfileAndCredentialSource { profile: String },
    #[error("Partial credentials found in assume-role, missing: source_profile or credential_source")]
    NoRoleSource { profile: String, origin: Origin },
    #[error("The credential source \"{source_name}\" referenced in profile \"{profile}\" is not valid.")]
    InvalidCredentialSource { profile: String, source_name: String, origin: Origin },
    #[error(
        "Error when retrieving credentials from {source_name}: No credentials found in credential_source referenced in profile {profile}"
    )]
    CredentialSourceEmpty { profile: String, source_name: String },
    #[error("The source_profile \"{source_profile}\" referenced in the profile \"{profile}\" does not exist.")]
    SourceProfileNotFound { profile: String, source_profile: String, origin: Origin },
    #[error(
        "Infinite loop in credential configuration detected. Attempting to load from profile {profile} which has already been visited. Visited profiles: {}",
        py_list(visited)
    )]
    InfiniteLoop { profile: String, visited: Vec<String> },
    #[error("The source profile \"{profile}\" must have credentials.")]
    SourceHasNoCredentials { profile: String },
    #[error("Partial credentials found in {provider}, missing: {missing}")]
    PartialCredentials { provider: &'static str, missing: &'static str, profile: Option<String> },
    #[error(
        "The provided profile or the current environment is configured to assume role with web identity but has no role ARN configured. Ensure that the profile has the role_arnconfiguration set or the AWS_ROLE_ARN env var is set."
    )]
    WebIdentityWithoutRole { profile: Option<String> },
    #[error(
        "The profile is configured to use the services section but the \"{name}\" services configuration does not exist."
    )]
    ServicesNotFound { name: String, origin: Origin },
    #[error(
        "The credential_process of profile \"{profile}\" is empty or has unbalanced quotes, so there is no command to run."
    )]
    EmptyCredentialProcess { profile: String, origin: Origin },
    #[error("Unable to locate credentials")]
    NoCredentials { profile: String },
    /// A `source_profile` chain longer than [`MAX_CHAIN`] profiles (botocore
    /// gives up with Python's RecursionError well before a thousand).
    #[error(
        "The source_profile chain of profile \"{profile}\" is longer than {limit} profiles (it still goes on at profile \"{at}\")."
    )]
    ChainTooLong { profile: String, at: String, origin: Origin, limit: usize },
}

impl ResolveError {
    /// What to do about it, with the command or the line to change.
    pub fn hint(&self) -> Option<String> {
        Some(match self {
            ResolveError::ProfileNotFound { candidates, origin, .. } => {
                let from = match origin {
                    Origin::Env { var } => {
                        format!(" (it comes from `{var}`; unset it or set it to a profile that exists)")
                    }
                    _ => String::new(),
                };
                if candidates.is_empty() {
                    format!("list the profiles with `tobira profiles`{from}")
                } else {
                    let names: Vec<String> = candidates.iter().map(|c| format!("`{c}`")).collect();
                    format!("did you mean {}?{from}", names.join(" or "))
                }
            }
            ResolveError::SsoMissingConfig { profile, missing } => format!(
                "add {} to the profile, or recreate it with `tobira configure sso --profile {profile}`",
                missing.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ")
            ),
            ResolveError::SsoSessionNotFound { session, origin, .. } => format!(
                "`sso_session` at {origin} names a session with no `[sso-session {session}]` section; create it with `tobira configure sso-session`"
            ),
            ResolveError::SsoInconsistent { key, profile_origin, session_origin, .. } => format!(
                "keep `{key}` in the sso-session only: remove it from the profile at {profile_origin} (the session sets it at {session_origin})"
            ),
            ResolveError::SourceProfileAndCredentialSource { profile } => {
                format!("keep one of `source_profile` and `credential_source` in profile `{profile}`")
            }
            ResolveError::NoRoleSource { profile, origin } => format!(
                "`role_arn` at {origin} needs `source_profile = <profile with credentials>` (or `credential_source`) in profile `{profile}`"
            ),
            ResolveError::InvalidCredentialSource { origin, .. } => format!(
                "at {origin}: use exactly `Environment`, `Ec2InstanceMetadata` or `EcsContainer` (case matters)"
            ),
            ResolveError::CredentialSourceEmpty { source_name, .. } if source_name == "EcsContainer" => {
                "`EcsContainer` works inside ECS/EKS tasks, where `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` or `AWS_CONTAINER_CREDENTIALS_FULL_URI` is set".to_string()
            }
            ResolveError::CredentialSourceEmpty { .. } => {
                "set `AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY` in the environment".to_string()
            }
            ResolveError::EmptyCredentialProcess { origin, .. } => {
                format!("at {origin}: give the command to run, or remove the line")
            }
            ResolveError::SourceProfileNotFound { origin, .. } => {
                format!("fix `source_profile` at {origin}; list the profiles with `tobira profiles`")
            }
            ResolveError::InfiniteLoop { profile, .. } => format!(
                "the `source_profile` chain returns to `{profile}`; point the last profile at one with credentials (`tobira profile show <name>` shows each chain)"
            ),
            ResolveError::SourceHasNoCredentials { profile } => format!(
                "give profile `{profile}` credentials (keys, `sso_session` + account + role, or `credential_process`)"
            ),
            ResolveError::PartialCredentials { missing, .. } => format!("set `{missing}` too"),
            ResolveError::WebIdentityWithoutRole { .. } => {
                "set `role_arn` in the profile or `AWS_ROLE_ARN` in the environment".to_string()
            }
            ResolveError::ServicesNotFound { name, origin } => {
                format!("`services` at {origin} names a missing `[services {name}]` section")
            }
            ResolveError::NoCredentials { profile } => {
                format!("profile `{profile}` has no credentials configured; set one up with `tobira configure sso`")
            }
            ResolveError::ChainTooLong { origin, .. } => format!(
                "a chain this long is a mistake (a generated file, or profiles pointing at the next one by accident): point `source_profile` at {origin}, or one before it, at a profile with credentials (keys, `sso_session` + account + role, or `credential_process`)"
            ),
        })
    }
}

/// A Python list repr of strings (`['a', 'b']`), as botocore prints it.
fn py_list(items: &[String]) -> String {
    let reprs: Vec<String> = items.iter().map(|s| py_repr(s)).collect();
    format!("[{}]", reprs.join(", "))
}

fn py_repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') { '"' } else { '\'' };
    let mut out = String::from(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

/// Python's `int(text)` for decimal text: surrounding whitespace, a sign,
/// and single `_` between digits are accepted (botocore parses
/// `duration_seconds` with it; anything else is silently ignored).
fn py_int(text: &str) -> Option<i64> {
    let t = crate::ini::py_strip(text);
    let (neg, digits) = match t.as_bytes().first()? {
        b'+' => (false, &t[1..]),
        b'-' => (true, &t[1..]),
        _ => (false, t),
    };
    if digits.is_empty() || digits.starts_with('_') || digits.ends_with('_') || digits.contains("__") {
        return None;
    }
    let mut n: i64 = 0;
    for c in digits.chars().filter(|c| *c != '_') {
        n = n.checked_mul(10)?.checked_add(i64::from(c.to_digit(10)?))?;
    }
    Some(if neg { -n } else { n })
}

/// Which profile, and why: `--profile` > `AWS_PROFILE` > `AWS_DEFAULT_PROFILE`
/// > `default` (AWS CLI v2 order).
pub fn select_profile(flags: &Flags, env: &Env) -> (Sourced<String>, bool) {
    if let Some(p) = &flags.profile {
        return (Sourced::new(p.clone(), Origin::Flag { flag: "--profile".into() }), true);
    }
    for var in ["AWS_PROFILE", "AWS_DEFAULT_PROFILE"] {
        if let Some(p) = env.get(var) {
            return (Sourced::new(p.to_string(), Origin::Env { var: var.into() }), false);
        }
    }
    (Sourced::new("default".into(), Origin::Default), false)
}

/// Resolves the selected profile into a plan.
pub fn resolve(set: &ProfileSet, env: &Env, flags: &Flags) -> Result<Plan, ResolveError> {
    let (profile, explicit) = select_profile(flags, env);
    resolve_named(set, env, flags, profile, explicit)
}

/// Resolves a given profile as if it had been named with `--profile`.
pub fn resolve_profile(
    set: &ProfileSet,
    env: &Env,
    name: &str,
    region_flag: Option<&str>,
) -> Result<Plan, ResolveError> {
    let flags = Flags { profile: Some(name.to_string()), region: region_flag.map(str::to_string) };
    resolve(set, env, &flags)
}

fn resolve_named(
    set: &ProfileSet,
    env: &Env,
    flags: &Flags,
    profile: Sourced<String>,
    explicit: bool,
) -> Result<Plan, ResolveError> {
    let block = set.profile(&profile.value);
    if block.is_none() && profile.origin != Origin::Default {
        return Err(ResolveError::ProfileNotFound {
            name: profile.value.clone(),
            origin: profile.origin.clone(),
            candidates: set.close_matches(&profile.value),
        });
    }
    let region = if let Some(r) = &flags.region {
        Some(Sourced::new(r.clone(), Origin::Flag { flag: "--region".into() }))
    } else if let Some((var, r)) = ["AWS_REGION", "AWS_DEFAULT_REGION"].iter().find_map(|v| env.get(v).map(|r| (v, r)))
    {
        Some(Sourced::new(r.to_string(), Origin::Env { var: (*var).into() }))
    } else {
        block.and_then(|b| b.text("region"))
    };
    let endpoints = endpoints(set, env, block)?;
    let mut chain = Chain { set, env, visited: vec![profile.value.clone()] };
    let steps = chain.top(&profile.value, block, explicit)?;
    let key = |k: &str| block.and_then(|b| b.text(k));
    let env_var = |var: &str| env.get(var).map(|v| Sourced::new(v.to_string(), Origin::Env { var: var.into() }));
    let settings = Settings {
        output: key("output"),
        ca_bundle: env_var("AWS_CA_BUNDLE").or_else(|| key("ca_bundle")),
        cli_timestamp_format: key("cli_timestamp_format"),
        account_id: key("aws_account_id"),
        sts_regional_endpoints: key("sts_regional_endpoints"),
    };
    Ok(Plan { profile, explicit, exists: block.is_some(), region, endpoints, settings, steps })
}

/// The endpoint overrides for a profile (or, with `None`, from the
/// environment alone).
pub fn endpoints(set: &ProfileSet, env: &Env, profile: Option<&Block>) -> Result<Endpoints, ResolveError> {
    Ok(Endpoints {
        sso_oidc: endpoint(set, env, profile, "SSO_OIDC", &["sso_oidc", "sso-oidc"])?,
        sso: endpoint(set, env, profile, "SSO", &["sso"])?,
        sts: endpoint(set, env, profile, "STS", &["sts"])?,
        signin: endpoint(set, env, profile, "SIGNIN", &["signin"])?,
    })
}

/// wire.md §1.2: `AWS_ENDPOINT_URL_<SVC>` > `AWS_ENDPOINT_URL` > `[services]`
/// sub-key > profile `endpoint_url`; none when configured URLs are ignored.
fn endpoint(
    set: &ProfileSet,
    env: &Env,
    profile: Option<&Block>,
    env_suffix: &str,
    service_keys: &[&str],
) -> Result<Option<Sourced<String>>, ResolveError> {
    let ignore = env
        .get_bool("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")
        .or_else(|| profile.and_then(|p| p.text("ignore_configured_endpoint_urls")).and_then(|v| parse_bool(&v.value)));
    if ignore == Some(true) {
        return Ok(None);
    }
    for var in [format!("AWS_ENDPOINT_URL_{env_suffix}"), "AWS_ENDPOINT_URL".to_string()] {
        if let Some(v) = env.get(&var) {
            return Ok(Some(Sourced::new(v.to_string(), Origin::Env { var })));
        }
    }
    let Some(profile) = profile else { return Ok(None) };
    if let Some(name) = profile.text("services") {
        // botocore treats a services section without keys as missing.
        let Some(services) = set.services(&name.value).filter(|s| !s.props.is_empty()) else {
            return Err(ResolveError::ServicesNotFound { name: name.value, origin: name.origin });
        };
        for key in service_keys {
            if let Some(p) = services.get(key)
                && let Some(url) = p.value.nested("endpoint_url")
            {
                return Ok(Some(Sourced::new(url.to_string(), p.origin.clone())));
            }
        }
    }
    Ok(profile.text("endpoint_url"))
}

/// Where `aws login` sign-ins are cached: `AWS_LOGIN_CACHE_DIRECTORY`
/// (`$VAR` then `~` expanded, as botocore does), else `~/.aws/login/cache`.
pub fn login_cache_dir(env: &Env) -> Sourced<std::path::PathBuf> {
    const VAR: &str = "AWS_LOGIN_CACHE_DIRECTORY";
    match env.get(VAR).filter(|v| !v.is_empty()) {
        Some(v) => Sourced::new(crate::files::expand_path(v, env), Origin::Env { var: VAR.into() }),
        None => Sourced::new(crate::files::expand_path("~/.aws/login/cache", env), Origin::Default),
    }
}

const CREDENTIAL_SOURCES: [&str; 3] = ["Environment", "Ec2InstanceMetadata", "EcsContainer"];

/// The most `source_profile` hops a chain may have. Real chains have a few;
/// the limit keeps a generated or mistaken chain from exhausting the stack.
pub const MAX_CHAIN: usize = 100;

struct Chain<'a> {
    set: &'a ProfileSet,
    env: &'a Env,
    visited: Vec<String>,
}

impl<'a> Chain<'a> {
    /// The top-level provider chain (files.md §4).
    fn top(&mut self, name: &str, block: Option<&'a Block>, explicit: bool) -> Result<Vec<Step>, ResolveError> {
        if !explicit && let Some(step) = env_keys(self.env)? {
            return Ok(vec![step]);
        }
        if let Some(b) = block
            && has_assume_role_vars(b)
        {
            return self.assume_role(name, b);
        }
        match self.profile_providers(name, block, !explicit)? {
            Some(step) => Ok(vec![step]),
            None => Err(ResolveError::NoCredentials { profile: name.to_string() }),
        }
    }

    /// Providers 3–8 of files.md §4 for one profile.
    fn profile_providers(
        &self,
        name: &str,
        block: Option<&Block>,
        env_vars: bool,
    ) -> Result<Option<Step>, ResolveError> {
        let env_val = |var: &str| {
            if env_vars {
                self.env.get(var).map(|v| Sourced::new(v.to_string(), Origin::Env { var: var.into() }))
            } else {
                None
            }
        };
        let key = |k: &str| block.and_then(|b| b.text(k));

        // 3. web identity
        if let Some(token_file) = env_val("AWS_WEB_IDENTITY_TOKEN_FILE").or_else(|| key("web_identity_token_file")) {
            let Some(role_arn) = env_val("AWS_ROLE_ARN").or_else(|| key("role_arn")) else {
                return Err(ResolveError::WebIdentityWithoutRole { profile: block.map(|_| name.to_string()) });
            };
            return Ok(Some(Step::WebIdentity(WebIdentity {
                profile: block.map(|_| name.to_string()),
                token_file,
                role_arn,
                role_session_name: env_val("AWS_ROLE_SESSION_NAME").or_else(|| key("role_session_name")),
            })));
        }
        let Some(block) = block else { return Ok(None) };
        // 4. SSO
        if block.has("sso_account_id") || block.has("sso_role_name") {
            return Ok(Some(Step::Sso(self.sso(name, block)?)));
        }
        // 5. credentials-file keys
        if let Some(section) = self.set.credentials_section(name)
            && let Some(keys) = static_keys(section, "shared-credentials-file", true, block)?
        {
            return Ok(Some(Step::Static(keys)));
        }
        // 6. aws login
        if let Some(session) = block.text("login_session") {
            return Ok(Some(Step::Login { profile: name.to_string(), session, cache_dir: login_cache_dir(self.env) }));
        }
        // 7. credential_process
        if let Some(command) = block.text("credential_process") {
            if crate::shlex::split(&command.value).is_none_or(|argv| argv.is_empty()) {
                return Err(ResolveError::EmptyCredentialProcess { profile: name.to_string(), origin: command.origin });
            }
            return Ok(Some(Step::Process { profile: name.to_string(), command }));
        }
        // 8. config-file keys
        if let Some(section) = self.set.config_profile(name)
            && let Some(keys) = static_keys(section, "config-file", false, block)?
        {
            return Ok(Some(Step::Static(keys)));
        }
        Ok(None)
    }

    fn sso(&self, name: &str, block: &Block) -> Result<SsoRole, ResolveError> {
        // Profile keys, overlaid with the sso-session's keys (which must agree).
        let mut props: Vec<(String, Sourced<String>)> = block
            .props
            .iter()
            .filter_map(|p| Some((p.key.clone(), Sourced::new(p.value.as_text()?.to_string(), p.origin.clone()))))
            .collect();
        let session = block.text("sso_session");
        if let Some(session_name) = &session {
            let Some(sess) = self.set.sso_session(&session_name.value) else {
                return Err(ResolveError::SsoSessionNotFound {
                    profile: name.to_string(),
                    session: session_name.value.clone(),
                    origin: session_name.origin.clone(),
                });
            };
            for p in &sess.props {
                let value = match &p.value {
                    crate::ini::Value::Text(t) => t.clone(),
                    crate::ini::Value::Nested(_) => continue,
                };
                match props.iter_mut().find(|(k, _)| *k == p.key) {
                    Some((_, existing)) if existing.value != value => {
                        return Err(ResolveError::SsoInconsistent {
                            key: p.key.clone(),
                            profile_value: existing.value.clone(),
                            session_value: value,
                            profile_origin: existing.origin.clone(),
                            session_origin: p.origin.clone(),
                        });
                    }
                    Some((_, existing)) => *existing = Sourced::new(value, p.origin.clone()),
                    None => props.push((p.key.clone(), Sourced::new(value, p.origin.clone()))),
                }
            }
        }
        let get = |k: &str| props.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone());
        let required = ["sso_role_name", "sso_account_id", "sso_start_url", "sso_region"];
        let missing: Vec<&'static str> = required.into_iter().filter(|k| get(k).is_none()).collect();
        let (Some(role_name), Some(account_id), Some(start_url), Some(sso_region)) =
            (get("sso_role_name"), get("sso_account_id"), get("sso_start_url"), get("sso_region"))
        else {
            return Err(ResolveError::SsoMissingConfig { profile: name.to_string(), missing });
        };
        let registration_scopes = session.as_ref().and_then(|_| get("sso_registration_scopes")).map(|s| {
            let scopes = s.value.split(',').map(str::trim).filter(|x| !x.is_empty()).map(str::to_string).collect();
            Sourced::new(scopes, s.origin)
        });
        Ok(SsoRole {
            profile: name.to_string(),
            session,
            start_url,
            sso_region,
            account_id,
            role_name,
            registration_scopes,
        })
    }

    /// files.md §5: assume `role_arn` of `name` with credentials from its
    /// `source_profile` or `credential_source`.
    fn assume_role(&mut self, name: &str, block: &'a Block) -> Result<Vec<Step>, ResolveError> {
        let role_arn = block.text("role_arn").unwrap_or_else(|| Sourced::new(String::new(), block.origin.clone()));
        let credential_source = block.text("credential_source");
        let source_profile = block.text("source_profile");
        let mut steps = match (&source_profile, &credential_source) {
            (Some(_), Some(_)) => {
                return Err(ResolveError::SourceProfileAndCredentialSource { profile: name.to_string() });
            }
            (None, None) => {
                return Err(ResolveError::NoRoleSource { profile: name.to_string(), origin: role_arn.origin.clone() });
            }
            (None, Some(cs)) => self.credential_source(name, cs)?,
            (Some(sp), None) => {
                self.validate_source_profile(name, sp)?;
                if self.visited.len() > MAX_CHAIN {
                    return Err(ResolveError::ChainTooLong {
                        profile: self.visited.first().cloned().unwrap_or_else(|| name.to_string()),
                        at: name.to_string(),
                        origin: sp.origin.clone(),
                        limit: MAX_CHAIN,
                    });
                }
                self.visited.push(sp.value.clone());
                self.resolve_source_profile(&sp.value)?
            }
        };
        let duration_seconds =
            block.text("duration_seconds").and_then(|d| Some(Sourced::new(py_int(&d.value)?, d.origin)));
        steps.push(Step::AssumeRole(AssumeRole {
            profile: name.to_string(),
            role_arn,
            source_profile,
            credential_source,
            external_id: block.text("external_id"),
            mfa_serial: block.text("mfa_serial"),
            role_session_name: block.text("role_session_name"),
            duration_seconds,
            source_identity: block.text("source_identity"),
        }));
        Ok(steps)
    }

    fn credential_source(&self, name: &str, cs: &Sourced<String>) -> Result<Vec<Step>, ResolveError> {
        if !CREDENTIAL_SOURCES.contains(&cs.value.as_str()) {
            return Err(ResolveError::InvalidCredentialSource {
                profile: name.to_string(),
                source_name: cs.value.clone(),
                origin: cs.origin.clone(),
            });
        }
        if cs.value == "Environment" {
            return match env_keys(self.env)? {
                Some(step) => Ok(vec![step]),
                None => Err(ResolveError::CredentialSourceEmpty {
                    profile: name.to_string(),
                    source_name: cs.value.clone(),
                }),
            };
        }
        let container = ["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI"];
        if cs.value == "EcsContainer" && !container.iter().any(|v| self.env.get(v).is_some()) {
            return Err(ResolveError::CredentialSourceEmpty {
                profile: name.to_string(),
                source_name: cs.value.clone(),
            });
        }
        Ok(vec![Step::CredentialSource { profile: name.to_string(), source: cs.clone() }])
    }

    fn validate_source_profile(&self, parent: &str, source: &Sourced<String>) -> Result<(), ResolveError> {
        let Some(block) = self.set.profile(&source.value) else {
            return Err(ResolveError::SourceProfileNotFound {
                profile: parent.to_string(),
                source_profile: source.value.clone(),
                origin: source.origin.clone(),
            });
        };
        if !self.visited.contains(&source.value) {
            return Ok(());
        }
        if source.value != parent || !has_static_credentials(block) {
            return Err(ResolveError::InfiniteLoop { profile: source.value.clone(), visited: self.visited.clone() });
        }
        Ok(())
    }

    fn resolve_source_profile(&mut self, name: &str) -> Result<Vec<Step>, ResolveError> {
        let set = self.set;
        let Some(block) = set.profile(name) else {
            return Err(ResolveError::SourceHasNoCredentials { profile: name.to_string() });
        };
        if has_static_credentials(block) || !has_assume_role_vars(block) {
            return match self.profile_providers(name, Some(block), false)? {
                Some(step) => Ok(vec![step]),
                None => Err(ResolveError::SourceHasNoCredentials { profile: name.to_string() }),
            };
        }
        self.assume_role(name, block)
    }
}

fn has_assume_role_vars(b: &Block) -> bool {
    b.has("role_arn") && !b.has("web_identity_token_file")
}

fn has_static_credentials(b: &Block) -> bool {
    b.has("aws_access_key_id") || b.has("aws_secret_access_key")
}

/// Keys from one file's section; `None` when it has no `aws_access_key_id`.
fn static_keys(
    section: &Block,
    provider: &'static str,
    from_credentials_file: bool,
    merged: &Block,
) -> Result<Option<StaticKeys>, ResolveError> {
    let Some(access_key_id) = section.text("aws_access_key_id") else { return Ok(None) };
    let Some(secret) = section.text("aws_secret_access_key") else {
        return Err(ResolveError::PartialCredentials {
            provider,
            missing: "aws_secret_access_key",
            profile: Some(merged.name.clone()),
        });
    };
    let token = section.text("aws_security_token").or_else(|| section.text("aws_session_token"));
    Ok(Some(StaticKeys {
        profile: Some(merged.name.clone()),
        from_credentials_file,
        access_key_id,
        secret_access_key: Sourced::new(Secret::new(secret.value), secret.origin),
        session_token: token.map(|t| Sourced::new(Secret::new(t.value), t.origin)),
        expiration: None,
        account_id: merged.text("aws_account_id"),
        mfa_serial: merged.text("mfa_serial"),
    }))
}

/// Provider 1: `AWS_ACCESS_KEY_ID` + `AWS_SECRET_ACCESS_KEY` [+ token].
fn env_keys(env: &Env) -> Result<Option<Step>, ResolveError> {
    let var = |name: &str| env.get(name).map(|v| Sourced::new(v.to_string(), Origin::Env { var: name.into() }));
    let Some(access_key_id) = var("AWS_ACCESS_KEY_ID") else { return Ok(None) };
    let Some(secret) = var("AWS_SECRET_ACCESS_KEY") else {
        return Err(ResolveError::PartialCredentials {
            provider: "env",
            missing: "AWS_SECRET_ACCESS_KEY",
            profile: None,
        });
    };
    let token = var("AWS_SECURITY_TOKEN").or_else(|| var("AWS_SESSION_TOKEN"));
    Ok(Some(Step::Env(StaticKeys {
        profile: None,
        from_credentials_file: false,
        access_key_id,
        secret_access_key: Sourced::new(Secret::new(secret.value), secret.origin),
        session_token: token.map(|t| Sourced::new(Secret::new(t.value), t.origin)),
        expiration: var("AWS_CREDENTIAL_EXPIRATION"),
        account_id: var("AWS_ACCOUNT_ID"),
        mfa_serial: None,
    })))
}

/// The kind of a profile as `tobira profiles` shows it, from the keys that
/// decide which provider answers when the profile is named with `--profile`.
pub fn profile_kind(set: &ProfileSet, block: &Block) -> &'static str {
    let static_in = |b: Option<&Block>| b.is_some_and(|b| b.has("aws_access_key_id"));
    if has_assume_role_vars(block) {
        "assume-role"
    } else if block.has("web_identity_token_file") {
        "web-identity"
    } else if block.has("sso_account_id") || block.has("sso_role_name") {
        if block.has("sso_session") { "sso" } else { "sso-legacy" }
    } else if static_in(set.credentials_section(&block.name)) {
        if block.has("mfa_serial") { "static+mfa" } else { "static" }
    } else if block.has("login_session") {
        "login"
    } else if block.has("credential_process") {
        "process"
    } else if static_in(set.config_profile(&block.name)) {
        if block.has("mfa_serial") { "static+mfa" } else { "static" }
    } else {
        "none"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `[profile p0]` → p1 → … → `p{hops}`, which has keys.
    fn chain_of(hops: usize) -> ProfileSet {
        let mut config = String::new();
        for i in 0..hops {
            config.push_str(&format!(
                "[profile p{i}]\nrole_arn = arn:aws:iam::1:role/R{i}\nsource_profile = p{}\n",
                i + 1
            ));
        }
        let credentials = format!("[p{hops}]\naws_access_key_id = AKIDEXAMPLE\naws_secret_access_key = s\n");
        ProfileSet::from_bytes(
            std::path::Path::new("~/.aws/config"),
            Some(config.as_bytes()),
            std::path::Path::new("~/.aws/credentials"),
            Some(credentials.as_bytes()),
        )
        .unwrap()
    }

    #[test]
    fn long_chains_end_in_an_error_not_a_stack_overflow() {
        let flags = |p: &str| Flags { profile: Some(p.into()), region: None };
        let env = Env::default();
        let plan = resolve(&chain_of(MAX_CHAIN), &env, &flags("p0")).unwrap();
        assert_eq!(plan.steps.len(), MAX_CHAIN + 1, "a chain of exactly the limit resolves");
        let set = chain_of(5000);
        let e = resolve(&set, &env, &flags("p0")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "The source_profile chain of profile \"p0\" is longer than 100 profiles (it still goes on at profile \"p100\")."
        );
        assert_eq!(
            e.hint().unwrap(),
            "a chain this long is a mistake (a generated file, or profiles pointing at the next one by accident): point `source_profile` at ~/.aws/config:303, or one before it, at a profile with credentials (keys, `sso_session` + account + role, or `credential_process`)"
        );
        // Deeper in the file, the same chain is short enough.
        assert_eq!(resolve(&set, &env, &flags("p4950")).unwrap().steps.len(), 51);
    }

    #[test]
    fn login_cache_directory() {
        let env = |pairs: &[(&str, &str)]| Env::from_pairs(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let d = login_cache_dir(&env(&[("HOME", "/users/a")]));
        assert_eq!((d.value, d.origin), (std::path::PathBuf::from("/users/a/.aws/login/cache"), Origin::Default));
        // `$VAR` then `~`, as botocore expands it; empty is unset.
        let e = env(&[("HOME", "/users/a"), ("X", "~/x"), ("AWS_LOGIN_CACHE_DIRECTORY", "$X/login")]);
        assert_eq!(login_cache_dir(&e).value, std::path::PathBuf::from("/users/a/x/login"));
        let e = env(&[("HOME", "/users/a"), ("AWS_LOGIN_CACHE_DIRECTORY", "")]);
        assert_eq!(login_cache_dir(&e).origin, Origin::Default);
    }

    #[test]
    fn python_int() {
        assert_eq!(py_int(" +3_600 "), Some(3600));
        assert_eq!(py_int("-5"), Some(-5));
        for bad in ["", "+", "3__6", "_3", "3_", "1.5", "0x10", "abc"] {
            assert_eq!(py_int(bad), None, "{bad}");
        }
    }

    #[test]
    fn python_reprs() {
        assert_eq!(py_list(&["a".into(), "b c".into()]), "['a', 'b c']");
        assert_eq!(py_repr("it's"), "\"it's\"");
        assert_eq!(py_repr("a'\"b"), "'a\\'\"b'");
        assert_eq!(py_repr("x\\y"), "'x\\\\y'");
    }
}
