//! Running a resolved [`Plan`]: each step turns into credentials, the next
//! step assumes a role with them. Results are cached where the AWS CLI caches
//! them (`~/.aws/cli/cache`, same names and layout, so each reuses the
//! other's), MFA sessions in tobira's own cache; a cache entry with more than
//! 15 minutes left is used without any network call. An entry that is due is
//! renewed under its own lock, checked again once the lock is held, so any
//! number of processes renew it once (docs/locking.md).

use std::future::Future;
use std::path::PathBuf;

use jiff::{SignedDuration, Timestamp};
use tobira_cache::keys::{AssumeRoleKey, SsoKey, assume_role_file_name, sso_role_credentials_file_name};
use tobira_cache::{AssumedRoleUser, CredentialCache, Credentials, EntryLock, SsoCache};
use tobira_config::resolve::{AssumeRole, SsoRole};
use tobira_config::{Plan, Secret, Step};

use crate::mfa_codes::{self, MfaRefusal};
use crate::{AuthError, Net, SsoTarget, service_error};

/// Asks for an MFA code (the CLI reads the terminal; tests answer directly).
pub trait MfaPrompt {
    fn code(&mut self, serial: &str) -> Result<String, AuthError>;

    /// Whether a code can be had at all. When not (renewing for a running
    /// command), a cached MFA session is used until it ends instead of being
    /// replaced 15 minutes early.
    fn can_ask(&self) -> bool {
        true
    }

    /// The service refused a code (or it was not a code at all):
    /// whether to ask for another. A person at a terminal is told what
    /// probably happened and asked again; `attempt` counts the new codes
    /// asked for (1 to [`MFA_RETRIES`]). Without anyone to ask: no.
    fn retry(&mut self, serial: &str, refusal: &MfaRefusal, attempt: u32) -> bool {
        let _ = (serial, refusal, attempt);
        false
    }
}

/// How many more codes are asked for after a refused one (on a terminal).
pub const MFA_RETRIES: u32 = 3;

/// Asks for a code and makes `call` with it; a refused code is explained
/// and, when the prompt can ask again, replaced by another (at most
/// [`MFA_RETRIES`] times). A code the service accepts is remembered, so a
/// later refusal of the same code can be told apart from a wrong one.
async fn with_code<T, F, Fut>(
    ctx: &ExecContext,
    serial: &str,
    operation: &'static str,
    mfa: &mut (dyn MfaPrompt + Send),
    mut call: F,
) -> Result<T, AuthError>
where
    F: FnMut(String) -> Fut,
    Fut: Future<Output = Result<T, AuthError>>,
{
    let home = ctx.home.as_path();
    let mut retries = 0;
    loop {
        let code = mfa.code(serial)?;
        let (refusal, message) = if !mfa_codes::well_formed(&code) {
            (MfaRefusal::Malformed, None)
        } else {
            match call(code.clone()).await {
                Ok(v) => {
                    mfa_codes::remember(home, serial, &code, ctx.now());
                    return Ok(v);
                }
                Err(AuthError::Service { code: c, message, .. }) if mfa_codes::is_refusal(&c, &message) => {
                    (mfa_codes::classify(home, serial, &code, &message, ctx.now()), Some(message))
                }
                Err(e) => return Err(e),
            }
        };
        if retries < MFA_RETRIES && refusal != MfaRefusal::Locked && mfa.retry(serial, &refusal, retries + 1) {
            retries += 1;
            continue;
        }
        return Err(AuthError::MfaRefused { serial: serial.to_string(), refusal, operation, message });
    }
}

/// Where things are, and how to run.
#[derive(Clone, Debug)]
pub struct ExecContext {
    pub home: PathBuf,
    /// Session name for roles without `role_session_name`.
    pub default_session_name: String,
    /// For a credential server (`tobira exec --server`): a role that wants
    /// MFA and is assumed straight from long-term keys is assumed from an MFA
    /// session of those keys instead (GetSessionToken with the code, cached
    /// like any MFA session), so re-assuming it later needs no code while the
    /// session lasts.
    pub mfa_session_for_roles: bool,
    /// The time the chain started at (the CLI's clock; ARCHITECTURE.md
    /// rule 1) and the monotonic instant it was read at: [`ExecContext::now`]
    /// moves on from them, so a long-lived context (the credential server)
    /// keeps the right time without reading the clock here.
    pub started_at: Timestamp,
    pub started: std::time::Instant,
    /// How calls go out (timeouts, proxies): the CLI's policy.
    pub net: Net,
}

impl ExecContext {
    /// A context starting at `now` (read by the CLI).
    pub fn new(
        home: PathBuf,
        default_session_name: String,
        mfa_session_for_roles: bool,
        now: Timestamp,
        net: Net,
    ) -> ExecContext {
        ExecContext {
            home,
            default_session_name,
            mfa_session_for_roles,
            started_at: now,
            started: std::time::Instant::now(),
            net,
        }
    }

    /// The time now: the CLI's reading plus the monotonic time since.
    pub fn now(&self) -> Timestamp {
        crate::later(self.started_at, self.started)
    }
}

/// An entry that another process renewed while this one waited for its
/// lock is taken if it has more than this left, even inside the refresh
/// window: a new call would not give anything that lasts longer.
const RENEWED_MEANWHILE_MIN: SignedDuration = SignedDuration::from_secs(5);

/// An MFA session is used until this close to its end when no code can be
/// asked for: long enough for the AssumeRole call made with it.
pub const MFA_SESSION_LAST_USE: SignedDuration = SignedDuration::from_secs(10);

/// Check, lock, re-read, re-check, renew (docs/locking.md): the entry
/// `name` of `cache` if `usable`; else, under the entry's lock, the entry as
/// re-read if it is usable now or another process renewed it meanwhile;
/// else what `renew` makes of it (it writes through the lock it is given).
/// Waiting for the lock happens off the async threads. The lock is an OS
/// lock, so a holder that dies (even by SIGKILL) releases it.
async fn renew_once<F, Fut>(
    ctx: &ExecContext,
    cache: &CredentialCache,
    name: &str,
    usable: &(dyn Fn(&Credentials) -> bool + Sync),
    renew: F,
) -> Result<Credentials, AuthError>
where
    F: FnOnce(EntryLock) -> Fut,
    Fut: Future<Output = Result<Credentials, AuthError>>,
{
    let seen = cache.read(name);
    if let Some(c) = seen.as_ref().filter(|c| usable(c)) {
        return Ok(c.clone());
    }
    let path = cache.path(name);
    let lock = {
        let (cache, name) = (cache.clone(), name.to_string());
        tokio::task::spawn_blocking(move || cache.lock(&name))
            .await
            .map_err(|e| AuthError::CacheFile { action: "lock", path: path.clone(), source: std::io::Error::other(e) })?
            .map_err(|source| AuthError::CacheFile { action: "lock", path: path.clone(), source })?
    };
    if let Some(c) = lock.read() {
        let renewed_meanwhile = seen.as_ref() != Some(&c) && c.valid_for(ctx.now(), RENEWED_MEANWHILE_MIN);
        if usable(&c) || renewed_meanwhile {
            return Ok(c);
        }
    }
    renew(lock).await
}

/// The error for a cache entry that could not be written.
fn write_error(lock: &EntryLock, source: std::io::Error) -> AuthError {
    AuthError::CacheFile { action: "write", path: lock.path(), source }
}

/// How long an MFA session (GetSessionToken) lasts: AWS's default, 12 hours.
const MFA_SESSION_SECONDS: i32 = 43_200;

/// STS's region: the profile's, else `us-east-1` (as the AWS CLI signs).
fn sts_region(plan: &Plan) -> String {
    plan.region.as_ref().map_or(STS_DEFAULT_REGION.to_string(), |r| r.value.clone())
}

/// The region STS is called in when none is configured.
pub const STS_DEFAULT_REGION: &str = "us-east-1";

/// An STS call of this plan (for error messages).
fn sts_call(plan: &Plan, operation: &'static str, net: &Net) -> crate::Call {
    crate::Call::new(
        crate::Service::Sts,
        operation,
        plan.endpoints.sts.as_ref().map(|e| e.value.as_str()),
        &sts_region(plan),
        net,
    )
}

fn sts_client(plan: &Plan, creds: &Credentials, net: &Net) -> aws_sdk_sts::Client {
    let region = sts_region(plan);
    let provider = aws_credential_types::Credentials::new(
        &creds.access_key_id,
        creds.secret_access_key.expose(),
        creds.session_token.as_ref().map(|t| t.expose().to_string()),
        None,
        "tobira",
    );
    let mut b = aws_sdk_sts::Config::builder()
        .behavior_version(aws_sdk_sts::config::BehaviorVersion::latest())
        .region(aws_sdk_sts::config::Region::new(region))
        .credentials_provider(provider)
        .http_client(net.sdk_http_client());
    if let Some(url) = &plan.endpoints.sts {
        b = b.endpoint_url(&url.value);
    }
    aws_sdk_sts::Client::from_conf(b.build())
}

fn from_sts(c: &aws_sdk_sts::types::Credentials, account_id: Option<String>) -> Credentials {
    Credentials {
        access_key_id: c.access_key_id().to_string(),
        secret_access_key: Secret::new(c.secret_access_key()),
        session_token: Some(Secret::new(c.session_token())),
        expiration: Timestamp::from_second(c.expiration().secs()).ok(),
        account_id,
    }
}

/// The SSO login a step needs, as a target for [`crate::valid_token`].
pub fn sso_target(plan: &Plan, s: &SsoRole, net: &Net) -> SsoTarget {
    SsoTarget {
        session: s.session.as_ref().map(|v| v.value.clone()),
        start_url: s.start_url.value.clone(),
        region: s.sso_region.value.clone(),
        scopes: s.registration_scopes.as_ref().map(|v| v.value.clone()),
        oidc_endpoint: plan.endpoints.sso_oidc.as_ref().map(|e| e.value.clone()),
        portal_endpoint: plan.endpoints.sso.as_ref().map(|e| e.value.clone()),
        net: net.clone(),
    }
}

/// The `~/.aws/cli/cache` file an SSO step uses.
pub fn sso_cache_name(s: &SsoRole) -> String {
    let key = match &s.session {
        Some(v) => SsoKey::Session(&v.value),
        None => SsoKey::LegacyStartUrl(&s.start_url.value),
    };
    sso_role_credentials_file_name(&s.account_id.value, &s.role_name.value, key)
}

/// The `~/.aws/cli/cache` file an assume-role step uses.
pub fn assume_role_cache_name(a: &AssumeRole) -> String {
    assume_role_file_name(&AssumeRoleKey {
        role_arn: &a.role_arn.value,
        duration_seconds: a.duration_seconds.as_ref().map(|d| d.value),
        external_id: a.external_id.as_ref().map(|v| v.value.as_str()),
        role_session_name: a.role_session_name.as_ref().map(|v| v.value.as_str()),
        serial_number: a.mfa_serial.as_ref().map(|v| v.value.as_str()),
    })
}

/// Cached credentials of the plan's last step, if still fresh: the fast path
/// (no network, no SDK client).
pub fn cached(plan: &Plan, home: &std::path::Path, now: Timestamp) -> Option<Credentials> {
    if let Some(Step::Login { session, cache_dir, .. }) = plan.steps.last() {
        return crate::signin::cached(&session.value, &cache_dir.value, now);
    }
    let cli = CredentialCache::cli(home);
    let c = match plan.steps.last()? {
        Step::Sso(s) => cli.read(&sso_cache_name(s))?,
        Step::AssumeRole(a) => cli.read(&assume_role_cache_name(a))?,
        _ => return None,
    };
    c.fresh(now).then_some(c)
}

/// Runs the plan and returns the final credentials.
pub async fn execute(
    plan: &Plan,
    ctx: &ExecContext,
    mfa: &mut (dyn MfaPrompt + Send),
) -> Result<Credentials, AuthError> {
    let now = ctx.now();
    let cli = CredentialCache::cli(&ctx.home);
    // Start from the last cached step that is still fresh.
    let mut start = 0;
    let mut current: Option<Credentials> = None;
    for (i, step) in plan.steps.iter().enumerate().rev() {
        let hit = match step {
            Step::Sso(s) => cli.read(&sso_cache_name(s)),
            Step::AssumeRole(a) => cli.read(&assume_role_cache_name(a)),
            _ => None,
        };
        if let Some(c) = hit.filter(|c| c.fresh(now)) {
            start = i + 1;
            current = Some(c);
            break;
        }
    }
    // The serial of an MFA session in the chain: a role that wants the same
    // device is satisfied by it (MFA is present), so the user types one code.
    let mut mfa_done: Option<String> = None;
    tracing::debug!(profile = %plan.profile.value, steps = plan.steps.len(), from_step = start, cached = current.is_some(), "running the credential chain");
    for (i, step) in plan.steps.iter().enumerate().skip(start) {
        tracing::debug!(method = step.method(), profile = ?step.profile(), "credential step");
        let next = plan.steps.get(i + 1);
        current = Some(run_step(plan, step, next, current.as_ref(), ctx, mfa, &mut mfa_done).await?);
    }
    current.ok_or_else(|| AuthError::Credentials("the plan has no credential steps".into()))
}

async fn run_step(
    plan: &Plan,
    step: &Step,
    next: Option<&Step>,
    source: Option<&Credentials>,
    ctx: &ExecContext,
    mfa: &mut (dyn MfaPrompt + Send),
    mfa_done: &mut Option<String>,
) -> Result<Credentials, AuthError> {
    let cli = CredentialCache::cli(&ctx.home);
    let net = &ctx.net;
    let fresh = |c: &Credentials| c.fresh(ctx.now());
    match step {
        Step::Env(_) | Step::Static(_) => {
            let Some((keys, serial)) = keys_of(step, next, ctx) else {
                return Err(AuthError::Credentials("the step has no keys".into()));
            };
            match serial {
                Some(serial) => {
                    let session = mfa_session(plan, &keys, &serial, ctx, mfa).await?;
                    *mfa_done = Some(serial);
                    Ok(session)
                }
                None => Ok(keys),
            }
        }
        Step::Sso(s) => {
            renew_once(ctx, &cli, &sso_cache_name(s), &fresh, |lock| async move {
                let target = sso_target(plan, s, net);
                let cache = SsoCache::in_home(&ctx.home);
                let token = crate::valid_token(&target, &cache, ctx.now()).await?;
                tracing::debug!(url = %target.portal_call("GetRoleCredentials").url, operation = "GetRoleCredentials", account = %s.account_id.value, role = %s.role_name.value, "calling the SSO portal");
                let out = crate::portal_client(&target)
                    .get_role_credentials()
                    .access_token(token.access_token.expose())
                    .account_id(&s.account_id.value)
                    .role_name(&s.role_name.value)
                    .send()
                    .await
                    .map_err(|e| service_error(target.portal_call("GetRoleCredentials"), e))?;
                let rc = out
                    .role_credentials()
                    .ok_or_else(|| AuthError::Credentials("GetRoleCredentials returned nothing".into()))?;
                let creds = Credentials {
                    access_key_id: rc.access_key_id().unwrap_or_default().to_string(),
                    secret_access_key: Secret::new(rc.secret_access_key().unwrap_or_default()),
                    session_token: rc.session_token().map(Secret::new),
                    expiration: Timestamp::from_millisecond(rc.expiration()).ok(),
                    account_id: Some(s.account_id.value.clone()),
                };
                lock.write_sso(&creds).map_err(|e| write_error(&lock, e))?;
                Ok(creds)
            })
            .await
        }
        Step::Process { profile, command } => run_process(profile, &command.value),
        Step::AssumeRole(a) => {
            let source = source
                .ok_or_else(|| AuthError::Credentials(format!("profile `{}` has no source credentials", a.profile)))?;
            renew_once(ctx, &cli, &assume_role_cache_name(a), &fresh, |lock| async move {
                let session_name =
                    a.role_session_name.as_ref().map_or(ctx.default_session_name.clone(), |s| s.value.clone());
                tracing::debug!(url = %sts_call(plan, "AssumeRole", net).url, operation = "AssumeRole", role_arn = %a.role_arn.value, mfa = a.mfa_serial.is_some(), "calling STS");
                let mut req =
                    sts_client(plan, source, net).assume_role().role_arn(&a.role_arn.value).role_session_name(session_name);
                if let Some(e) = &a.external_id {
                    req = req.external_id(&e.value);
                }
                if let Some(d) = &a.duration_seconds {
                    req = req.duration_seconds(i32::try_from(d.value).unwrap_or(i32::MAX));
                }
                if let Some(si) = &a.source_identity {
                    req = req.source_identity(&si.value);
                }
                let send = |req: aws_sdk_sts::operation::assume_role::builders::AssumeRoleFluentBuilder| async move {
                    req.send().await.map_err(|e| match service_error(sts_call(plan, "AssumeRole", net), e) {
                        AuthError::Service { code, message, .. } if message.contains("role chaining") => {
                            AuthError::ChainedDuration {
                                profile: a.profile.clone(),
                                message: format!(
                                    "An error occurred ({code}) when calling the AssumeRole operation: {message}"
                                ),
                            }
                        }
                        other => other,
                    })
                };
                // Asked for only now: a process that found the entry renewed
                // under the lock needs no code.
                let out = match &a.mfa_serial {
                    Some(serial) if mfa_done.as_deref() != Some(serial.value.as_str()) => {
                        let serial = serial.value.as_str();
                        with_code(ctx, serial, "AssumeRole", mfa, |code| {
                            send(req.clone().serial_number(serial).token_code(code))
                        })
                        .await?
                    }
                    _ => send(req).await?,
                };
                let user = out.assumed_role_user();
                let arn = user.map(|u| u.arn().to_string()).unwrap_or_default();
                let account = arn.split(':').nth(4).map(str::to_string);
                let c = out
                    .credentials()
                    .ok_or_else(|| AuthError::Credentials("AssumeRole returned no credentials".into()))?;
                let creds = from_sts(c, account);
                let request_id = aws_sdk_sts::operation::RequestId::request_id(&out).unwrap_or("");
                let who = AssumedRoleUser {
                    assumed_role_id: user.map(|u| u.assumed_role_id()).unwrap_or(""),
                    arn: &arn,
                    request_id,
                };
                lock.write_assumed(&creds, &who).map_err(|e| write_error(&lock, e))?;
                Ok(creds)
            })
            .await
        }
        Step::WebIdentity(w) => {
            let token = std::fs::read_to_string(&w.token_file.value).map_err(|e| {
                AuthError::Credentials(format!("cannot read the web identity token file {}: {e}", w.token_file.value))
            })?;
            let session_name =
                w.role_session_name.as_ref().map_or(ctx.default_session_name.clone(), |s| s.value.clone());
            let anonymous = Credentials {
                access_key_id: String::new(),
                secret_access_key: Secret::new(""),
                session_token: None,
                expiration: None,
                account_id: None,
            };
            let out = sts_client(plan, &anonymous, net)
                .assume_role_with_web_identity()
                .role_arn(&w.role_arn.value)
                .role_session_name(session_name)
                .web_identity_token(token)
                .send()
                .await
                .map_err(|e| service_error(sts_call(plan, "AssumeRoleWithWebIdentity", net), e))?;
            let arn = out.assumed_role_user().map(|u| u.arn().to_string()).unwrap_or_default();
            let c = out.credentials().ok_or_else(|| AuthError::Credentials("no credentials returned".into()))?;
            Ok(from_sts(c, arn.split(':').nth(4).map(str::to_string)))
        }
        Step::Login { profile, session, cache_dir } => {
            crate::signin::step_credentials(plan, net, profile, &session.value, &cache_dir.value, &|| ctx.now()).await
        }
        Step::CredentialSource { source, .. } => credential_source(&source.value).await,
    }
}

/// `credential_source = Ec2InstanceMetadata | EcsContainer`: the SDK's own
/// IMDSv2 and container providers (they read their standard variables:
/// `AWS_CONTAINER_CREDENTIALS_*`, `AWS_EC2_METADATA_*`).
async fn credential_source(source: &str) -> Result<Credentials, AuthError> {
    use aws_credential_types::provider::ProvideCredentials;
    let config = aws_config::provider_config::ProviderConfig::default().with_http_client(crate::metadata_http_client());
    let result = if source == "EcsContainer" {
        aws_config::ecs::EcsCredentialsProvider::builder().configure(&config).build().provide_credentials().await
    } else {
        aws_config::imds::credentials::ImdsCredentialsProvider::builder()
            .configure(&config)
            .build()
            .provide_credentials()
            .await
    };
    let c = result.map_err(|e| {
        AuthError::Credentials(format!("Error when retrieving credentials from {source}: {}", aws_error_chain(&e)))
    })?;
    Ok(Credentials {
        access_key_id: c.access_key_id().to_string(),
        secret_access_key: Secret::new(c.secret_access_key()),
        session_token: c.session_token().map(Secret::new),
        expiration: c.expiry().and_then(|t| Timestamp::try_from(t).ok()),
        account_id: c.account_id().map(|a| a.as_str().to_string()),
    })
}

/// An error and its causes on one line.
fn aws_error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cur = e.source();
    while let Some(s) = cur {
        text.push_str(": ");
        text.push_str(&s.to_string());
        cur = s.source();
    }
    text
}

/// The keys of a keys step, and the serial of the MFA device whose session
/// stands in for them, if any: a profile's keys plus `mfa_serial` (one code
/// per session, shared by every profile using these keys), or, for a
/// credential server, long-term keys a role that wants MFA is assumed from.
fn keys_of(step: &Step, next: Option<&Step>, ctx: &ExecContext) -> Option<(Credentials, Option<String>)> {
    let (Step::Env(k) | Step::Static(k)) = step else { return None };
    let keys = Credentials {
        access_key_id: k.access_key_id.value.clone(),
        secret_access_key: k.secret_access_key.value.clone(),
        session_token: k.session_token.as_ref().map(|t| t.value.clone()),
        expiration: k.expiration.as_ref().and_then(|e| tobira_cache::token::parse_time(&e.value)),
        account_id: k.account_id.as_ref().map(|a| a.value.clone()),
    };
    let serial = match (&k.mfa_serial, next) {
        (Some(serial), _) if matches!(step, Step::Static(_)) => Some(serial.value.clone()),
        (_, Some(Step::AssumeRole(a))) if ctx.mfa_session_for_roles && keys.session_token.is_none() => {
            a.mfa_serial.as_ref().map(|m| m.value.clone())
        }
        _ => None,
    };
    Some((keys, serial))
}

/// Before a credential server starts its command: every MFA session the
/// plan will renew from is made now (asking for the code now) unless a
/// fresh one is cached, so that renewing later needs no code while the
/// sessions last.
pub async fn prepare_mfa_sessions(
    plan: &Plan,
    ctx: &ExecContext,
    mfa: &mut (dyn MfaPrompt + Send),
) -> Result<(), AuthError> {
    for (i, step) in plan.steps.iter().enumerate() {
        if let Some((keys, Some(serial))) = keys_of(step, plan.steps.get(i + 1), ctx) {
            mfa_session(plan, &keys, &serial, ctx, mfa).await?;
        }
    }
    Ok(())
}

/// GetSessionToken with an MFA code, cached per access key and device.
async fn mfa_session(
    plan: &Plan,
    keys: &Credentials,
    serial: &str,
    ctx: &ExecContext,
    mfa: &mut (dyn MfaPrompt + Send),
) -> Result<Credentials, AuthError> {
    let cache = CredentialCache::mfa_sessions(&ctx.home);
    let net = &ctx.net;
    let name = mfa_session_name(&keys.access_key_id, serial);
    // With someone to ask, a session inside the refresh window is replaced
    // (one code now rather than a failure later); without, it serves until
    // it ends.
    let can_ask = mfa.can_ask();
    let usable = |c: &Credentials| {
        if can_ask { c.fresh(ctx.now()) } else { c.valid_for(ctx.now(), MFA_SESSION_LAST_USE) }
    };
    renew_once(ctx, &cache, &name, &usable, |lock| async move {
        tracing::debug!(url = %sts_call(plan, "GetSessionToken", net).url, operation = "GetSessionToken", serial, "calling STS for an MFA session");
        let client = sts_client(plan, keys, net);
        let out = with_code(ctx, serial, "GetSessionToken", mfa, |code| {
            let req =
                client.get_session_token().serial_number(serial).token_code(code).duration_seconds(MFA_SESSION_SECONDS);
            async move { req.send().await.map_err(|e| service_error(sts_call(plan, "GetSessionToken", net), e)) }
        })
        .await?;
        let c = out
            .credentials()
            .ok_or_else(|| AuthError::Credentials("GetSessionToken returned no credentials".into()))?;
        let creds = from_sts(c, keys.account_id.clone());
        lock.write_flat(&creds).map_err(|e| write_error(&lock, e))?;
        Ok(creds)
    })
    .await
}

/// Temporary credentials for long-term keys (GetSessionToken without MFA),
/// so a credential server never hands the long-term secret to the command.
pub async fn session_for_keys(plan: &Plan, keys: &Credentials, net: &Net) -> Result<Credentials, AuthError> {
    let out = sts_client(plan, keys, net)
        .get_session_token()
        .send()
        .await
        .map_err(|e| service_error(sts_call(plan, "GetSessionToken", net), e))?;
    let c =
        out.credentials().ok_or_else(|| AuthError::Credentials("GetSessionToken returned no credentials".into()))?;
    Ok(from_sts(c, keys.account_id.clone()))
}

/// STS GetFederationToken with an IAM user's (or root user's) long-term
/// keys: the credentials of the federated user `name`, lasting
/// `duration_seconds`, acting with `policy` as its session policy
/// (docs/console.md, "IAM users"). Not cached: each console sign-in asks
/// for its own.
pub async fn federation_token(
    plan: &Plan,
    net: &Net,
    keys: &Credentials,
    name: &str,
    duration_seconds: i32,
    policy: &str,
) -> Result<Credentials, AuthError> {
    tracing::debug!(url = %sts_call(plan, "GetFederationToken", net).url, operation = "GetFederationToken", name, duration_seconds, "calling STS for a federated user's credentials");
    let out = sts_client(plan, keys, net)
        .get_federation_token()
        .name(name)
        .duration_seconds(duration_seconds)
        .policy(policy)
        .send()
        .await
        .map_err(|e| service_error(sts_call(plan, "GetFederationToken", net), e))?;
    let c =
        out.credentials().ok_or_else(|| AuthError::Credentials("GetFederationToken returned no credentials".into()))?;
    let account = out
        .federated_user()
        .and_then(|u| u.arn().split(':').nth(4).map(str::to_string))
        .or_else(|| keys.account_id.clone());
    Ok(from_sts(c, account))
}

/// The MFA-session cache file for an access key and a device.
pub fn mfa_session_name(access_key_id: &str, serial: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(format!("{access_key_id}\n{serial}").as_bytes());
    let hex: String = digest.iter().take(20).map(|b| format!("{b:02x}")).collect();
    format!("{hex}.json")
}

/// `credential_process` (files.md §8): run without a shell, parse Version 1 JSON.
pub fn run_process(profile: &str, command: &str) -> Result<Credentials, AuthError> {
    let fail =
        |m: String| AuthError::Credentials(format!("Error when retrieving credentials from custom-process: {m}"));
    let argv = tobira_config::shlex::split(command)
        .filter(|a| !a.is_empty())
        .ok_or_else(|| fail(format!("the credential_process of profile `{profile}` cannot be split into a command")))?;
    tracing::debug!(program = %argv[0], profile, "running credential_process");
    let out = std::process::Command::new(&argv[0])
        .args(&argv[1..])
        .stdin(std::process::Stdio::inherit())
        .output()
        .map_err(|e| fail(format!("cannot run `{}`: {e}", argv[0])))?;
    if !out.status.success() {
        return Err(fail(String::from_utf8_lossy(&out.stderr).trim().to_string()));
    }
    let v: serde_json::Value =
        serde_json::from_slice(&out.stdout).map_err(|e| fail(format!("the output is not JSON: {e}")))?;
    match v.get("Version") {
        Some(serde_json::Value::Number(n)) if n.as_i64() == Some(1) => {}
        Some(other) => {
            return Err(fail(format!(
                "Unsupported version '{other}' for credential process provider, supported versions: 1"
            )));
        }
        None => {
            return Err(fail(
                "Unsupported version '<Version key not provided>' for credential process provider, supported versions: 1".into(),
            ));
        }
    }
    let s = |k: &str| v.get(k).and_then(serde_json::Value::as_str).map(str::to_string);
    Ok(Credentials {
        access_key_id: s("AccessKeyId")
            .ok_or_else(|| fail("Missing required key in response: 'AccessKeyId'".into()))?,
        secret_access_key: Secret::new(
            s("SecretAccessKey").ok_or_else(|| fail("Missing required key in response: 'SecretAccessKey'".into()))?,
        ),
        session_token: s("SessionToken").map(Secret::new),
        expiration: s("Expiration").and_then(|e| tobira_cache::token::parse_time(&e)),
        account_id: s("AccountId"),
    })
}

/// STS GetCallerIdentity with these credentials: (account, ARN, user id).
pub async fn caller_identity(plan: &Plan, c: &Credentials, net: &Net) -> Result<(String, String, String), AuthError> {
    tracing::debug!(url = %sts_call(plan, "GetCallerIdentity", net).url, operation = "GetCallerIdentity", access_key = %tobira_config::origin::mask_key_id(&c.access_key_id), "calling STS");
    let out = sts_client(plan, c, net)
        .get_caller_identity()
        .send()
        .await
        .map_err(|e| service_error(sts_call(plan, "GetCallerIdentity", net), e))?;
    Ok((
        out.account().unwrap_or_default().to_string(),
        out.arn().unwrap_or_default().to_string(),
        out.user_id().unwrap_or_default().to_string(),
    ))
}

/// When credentials expire, as `export` prints it (`+00:00`).
pub fn iso(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%S+00:00").to_string()
}

/// Time left, rounded for people.
pub fn human(d: SignedDuration) -> String {
    let s = d.as_secs();
    if s <= 0 {
        "expired".into()
    } else if s < 3600 {
        format!("{}m", s / 60)
    } else {
        format!("{}h{:02}m", s / 3600, (s % 3600) / 60)
    }
}
