//! The local credential server: `tobira exec --server -- CMD` and `tobira
//! serve-credentials` answer the AWS container credentials protocol
//! (docs/credential-server.md) on 127.0.0.1, on a port the system picks, to
//! requests that carry this run's random authorization token. SDKs fetch
//! credentials from it again before theirs expire, and it renews them from
//! the profile's chain in the background, never asking for anything while
//! the command runs.

use std::convert::Infallible;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use jiff::{SignedDuration, Timestamp};
use tobira_auth::AuthError;
use tobira_auth::creds::{ExecContext, MfaPrompt, execute, iso, prepare_mfa_sessions, session_for_keys};
use tobira_cache::Credentials;
use tobira_config::{Env, Flags, Plan, ProfileSet, Secret};

use super::creds::{Program, TerminalMfa};
use super::target::sso_chosen;
use crate::error::auth_error;
use crate::{CliError, Context, Kind, emit};

/// The path credentials are served at (any other answers 404).
const PATH: &str = "/credentials";
/// Renew when this much is left, or half the lifetime for shorter-lived
/// credentials: SDKs ask again 15 (botocore: advisory) to 5 minutes or
/// seconds (the Rust SDK) before the end, and must find fresh ones.
const RENEW_BEFORE: SignedDuration = SignedDuration::from_mins(15);
/// Credentials with no expiry of their own (a `credential_process` that
/// gives none, session keys from the environment) are handed out as lasting
/// this long and read again from the chain well before.
const NO_EXPIRY_LIFETIME: SignedDuration = SignedDuration::from_mins(15);
/// After a failed renewal, the next try (a fix made in another terminal,
/// such as `tobira login`, is picked up by it).
const RETRY: SignedDuration = SignedDuration::from_secs(5);
/// Credentials closer to their end than this are not handed out.
const LAST_SECOND: SignedDuration = SignedDuration::from_secs(1);
/// How long a request that finds no valid credentials waits for a renewal
/// (botocore gives up on the server after 2 seconds).
const REQUEST_WAIT: Duration = Duration::from_millis(1500);
/// The renewer looks at the wall clock at least this often (a suspended
/// laptop's timers do not count the time it slept).
const TICK: SignedDuration = SignedDuration::from_secs(30);

/// When to renew credentials obtained at `obtained` that expire at `expires`.
pub fn renew_at(obtained: Timestamp, expires: Timestamp) -> Timestamp {
    let half = expires.duration_since(obtained) / 2;
    let before = if half < RENEW_BEFORE { half } else { RENEW_BEFORE };
    expires.checked_sub(before.max(SignedDuration::ZERO)).unwrap_or(obtained)
}

/// Credentials being served: until when they are valid, when to renew them.
#[derive(Debug)]
struct Held {
    creds: Credentials,
    expires: Timestamp,
    renew_at: Timestamp,
}

impl Held {
    fn new(creds: Credentials, now: Timestamp) -> Held {
        let expires = creds.expiration.unwrap_or_else(|| now.checked_add(NO_EXPIRY_LIFETIME).unwrap_or(now));
        Held { renew_at: renew_at(now, expires), expires, creds }
    }

    /// The container-credentials answer (AccessKeyId, SecretAccessKey,
    /// Token, Expiration as RFC 3339, AccountId when known).
    fn json(&self) -> String {
        let mut m = serde_json::Map::new();
        m.insert("AccessKeyId".into(), self.creds.access_key_id.clone().into());
        m.insert("SecretAccessKey".into(), self.creds.secret_access_key.expose().into());
        let token = self.creds.session_token.as_ref().map(|t| t.expose().to_string()).unwrap_or_default();
        m.insert("Token".into(), token.into());
        m.insert("Expiration".into(), self.expires.strftime("%Y-%m-%dT%H:%M:%SZ").to_string().into());
        if let Some(a) = &self.creds.account_id {
            m.insert("AccountId".into(), a.clone().into());
        }
        serde_json::Value::Object(m).to_string()
    }
}

#[derive(Debug)]
struct State {
    held: Option<Held>,
    /// The renewer's next try.
    next_attempt: Timestamp,
    /// Why the last renewal failed (one line), until one succeeds.
    failure: Option<String>,
    /// The failure last printed, so a repeated one is printed once.
    announced: Option<String>,
}

/// What a renewal runs: the profile's plan, without anyone to ask.
#[derive(Debug)]
struct Chain {
    plan: Plan,
    exec: ExecContext,
}

/// Renewing never asks: an MFA session serves until it ends (the code was
/// asked for before the command started), and a new one needs the person.
#[derive(Debug)]
struct Unattended;

impl MfaPrompt for Unattended {
    fn code(&mut self, serial: &str) -> Result<String, AuthError> {
        Err(AuthError::Credentials(format!(
            "a new MFA code for {serial} is needed: its MFA session has ended, and tobira never asks for a code while the command runs; run the command again (tobira asks for the code before it starts it)"
        )))
    }

    fn can_ask(&self) -> bool {
        false
    }
}

/// Right after the start-up's MFA sessions were made: they are used until
/// they end, and any other code is still asked for.
struct Prepared<'a>(&'a mut (dyn MfaPrompt + Send));

impl MfaPrompt for Prepared<'_> {
    fn code(&mut self, serial: &str) -> Result<String, AuthError> {
        self.0.code(serial)
    }

    fn retry(&mut self, serial: &str, refusal: &tobira_auth::mfa_codes::MfaRefusal, attempt: u32) -> bool {
        self.0.retry(serial, refusal, attempt)
    }

    fn can_ask(&self) -> bool {
        false
    }
}

impl Chain {
    fn profile(&self) -> &str {
        &self.plan.profile.value
    }

    /// Credentials from the chain, as temporary credentials: long-term keys
    /// are exchanged for a session (GetSessionToken) so the command never
    /// holds them.
    async fn credentials(&self, mfa: &mut (dyn MfaPrompt + Send)) -> Result<Credentials, CliError> {
        let c = execute(&self.plan, &self.exec, mfa)
            .await
            .map_err(|e| auth_error(e, &sso_chosen(&self.plan, &self.exec.net)))?;
        if c.session_token.is_some() {
            return Ok(c);
        }
        session_for_keys(&self.plan, &c, &self.exec.net)
            .await
            .map_err(|e| auth_error(e, &sso_chosen(&self.plan, &self.exec.net)))
    }
}

/// The server's shared state.
#[derive(Debug)]
struct Shared {
    token: Secret,
    chain: Chain,
    state: Mutex<State>,
    wake: tokio::sync::Notify,
    renewed: tokio::sync::watch::Sender<u64>,
}

fn say(text: &str) {
    let _ = std::io::stderr().write_all(text.as_bytes());
}

impl Shared {
    /// The time now: the CLI's clock reading at start, moved on monotonically
    /// (ARCHITECTURE.md rule 1).
    fn now(&self) -> Timestamp {
        self.chain.exec.now()
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The credentials to hand out now, if valid; wakes the renewer when
    /// they are due (its timer may be late after a suspend).
    fn servable(&self, now: Timestamp) -> Option<String> {
        let s = self.state();
        let held = s.held.as_ref()?;
        if now >= held.renew_at {
            self.wake.notify_one();
        }
        (held.expires.duration_since(now) > LAST_SECOND).then(|| held.json())
    }

    /// Renews whenever due, in the background, for as long as it runs.
    async fn renew_loop(self: Arc<Shared>) {
        loop {
            let wait = {
                let left = self.state().next_attempt.duration_since(self.now());
                let left = if left < TICK { left } else { TICK };
                Duration::try_from(left).unwrap_or(Duration::ZERO)
            };
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                () = self.wake.notified() => {}
            }
            if self.now() < self.state().next_attempt {
                continue;
            }
            let result = self.chain.credentials(&mut Unattended).await;
            let now = self.now();
            let note = {
                let mut s = self.state();
                match result {
                    Ok(c) => {
                        let held = Held::new(c, now);
                        let note = s.failure.take().map(|_| {
                            format!(
                                "tobira: renewed the credentials of profile `{}` again; they last until {}.\n",
                                self.chain.profile(),
                                iso(held.expires)
                            )
                        });
                        s.announced = None;
                        // Never sooner than a second from now (credentials a
                        // chain hands over already expired must not spin).
                        s.next_attempt =
                            held.renew_at.max(now.checked_add(SignedDuration::from_secs(1)).unwrap_or(now));
                        s.held = Some(held);
                        note
                    }
                    Err(e) => {
                        s.next_attempt = now.checked_add(RETRY).unwrap_or(now);
                        let line = e.render_one_line().trim_end().trim_start_matches("tobira: ").to_string();
                        let note = (s.announced.as_deref() != Some(line.as_str())).then(|| {
                            let until = match s.held.as_ref().filter(|h| h.expires > now) {
                                Some(h) => format!("the credentials it has last until {}", iso(h.expires)),
                                None => "it has no valid credentials now".to_string(),
                            };
                            format!(
                                "tobira: cannot renew the credentials of profile `{}` for the running command: {line}\nhint: {until}; tobira tries again every {} seconds, so fixing this (in another terminal) is enough\n",
                                self.chain.profile(),
                                RETRY.as_secs()
                            )
                        });
                        s.announced = Some(line.clone());
                        s.failure = Some(line);
                        note
                    }
                }
            };
            // Written with the state unlocked: a slow stderr must not hold up requests.
            if let Some(note) = note {
                say(&note);
            }
            self.renewed.send_modify(|g| *g = g.wrapping_add(1));
        }
    }

    /// The answer to an authorized `GET /credentials`.
    async fn answer_credentials(&self) -> Response<Full<Bytes>> {
        if let Some(body) = self.servable(self.now()) {
            return respond(StatusCode::OK, body);
        }
        // Nothing valid: have the renewer try now (unless it is waiting out
        // a failure) and wait a moment for it.
        let retry_later = self.now() < self.state().next_attempt && self.state().failure.is_some();
        if !retry_later {
            let mut changed = self.renewed.subscribe();
            self.wake.notify_one();
            let _ = tokio::time::timeout(REQUEST_WAIT, changed.changed()).await;
            if let Some(body) = self.servable(self.now()) {
                return respond(StatusCode::OK, body);
            }
        }
        let why = self.state().failure.clone().unwrap_or_else(|| "the credentials are being renewed".to_string());
        message(
            StatusCode::SERVICE_UNAVAILABLE,
            &format!("tobira cannot hand out credentials of profile `{}`: {why}", self.chain.profile()),
        )
    }
}

fn respond(status: StatusCode, body: String) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = status;
    r.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    r
}

/// An error answer: `{"Message": …}`.
fn message(status: StatusCode, text: &str) -> Response<Full<Bytes>> {
    respond(status, serde_json::json!({ "Message": text }).to_string())
}

/// Every request: the token first (compared in constant time), then the
/// method and the path.
async fn answer(shared: Arc<Shared>, req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    use subtle::ConstantTimeEq;
    let Some(given) = req.headers().get(AUTHORIZATION) else {
        return Ok(message(
            StatusCode::UNAUTHORIZED,
            "no Authorization header: send the value of AWS_CONTAINER_AUTHORIZATION_TOKEN",
        ));
    };
    if !bool::from(given.as_bytes().ct_eq(shared.token.expose().as_bytes())) {
        return Ok(message(
            StatusCode::FORBIDDEN,
            "the Authorization header is not this server's token (AWS_CONTAINER_AUTHORIZATION_TOKEN)",
        ));
    }
    if req.method() != Method::GET {
        return Ok(message(StatusCode::METHOD_NOT_ALLOWED, "only GET is served"));
    }
    if req.uri().path() != PATH {
        return Ok(message(StatusCode::NOT_FOUND, &format!("credentials are served at {PATH}")));
    }
    Ok(shared.answer_credentials().await)
}

/// Accepts connections until the runtime stops.
async fn accept_loop(listener: tokio::net::TcpListener, shared: Arc<Shared>) {
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            // Out of file descriptors and the like: let some close first.
            Err(_) => {
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let shared = shared.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| answer(shared.clone(), req));
            let _ = hyper::server::conn::http1::Builder::new()
                .timer(hyper_util::rt::TokioTimer::new())
                .header_read_timeout(Duration::from_secs(10))
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                .await;
        });
    }
}

/// A running server: the two variables SDKs need.
#[derive(Debug)]
struct Serving {
    url: String,
    token: Secret,
}

/// A random token for this run: 32 bytes from the OS, as hex.
fn new_token() -> Result<Secret, CliError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| {
        CliError::new(Kind::Internal, format!("cannot make the credential server's token: no randomness: {e}"))
            .hint("the operating system's random number generator must be available")
    })?;
    Ok(Secret::new(bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()))
}

/// Binds 127.0.0.1 on a port the system picks and starts serving `first`,
/// renewing from `chain`. Call inside the runtime.
async fn start(chain: Chain, first: Credentials) -> Result<Serving, CliError> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await.map_err(|e| {
        CliError::new(Kind::Internal, format!("cannot listen on 127.0.0.1 for the credential server: {e}"))
            .hint("the loopback interface must be up (`ip link set lo up`)")
    })?;
    let addr = listener.local_addr().map_err(|e| CliError::new(Kind::Internal, e.to_string()))?;
    let token = new_token()?;
    let now = chain.exec.now();
    let held = Held::new(first, now);
    let state = State { next_attempt: held.renew_at, held: Some(held), failure: None, announced: None };
    let shared = Arc::new(Shared {
        token: token.clone(),
        chain,
        state: Mutex::new(state),
        wake: tokio::sync::Notify::new(),
        renewed: tokio::sync::watch::channel(0).0,
    });
    tokio::spawn(shared.clone().renew_loop());
    tokio::spawn(accept_loop(listener, shared));
    Ok(Serving { url: format!("http://{addr}{PATH}"), token })
}

fn server_runtime() -> Result<tokio::runtime::Runtime, CliError> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| CliError::new(Kind::Internal, format!("cannot start the async runtime: {e}")))
}

/// Resolves the profile and gets its first credentials, asking for MFA
/// codes now (the ones renewals will need included) so that nothing is
/// asked later.
fn first_credentials(
    ctx: &Context,
    set: &ProfileSet,
    target: Flags,
    mfa_code: Option<String>,
    rt: &tokio::runtime::Runtime,
) -> Result<(Chain, Credentials), CliError> {
    let plan = super::keychain::materialize(ctx, set, super::resolve(ctx, set, &target)?)?;
    let exec = ExecContext::new(
        ctx.home_dir()?.to_path_buf(),
        format!("tobira-{}", ctx.now.as_second()),
        true,
        ctx.current_time(),
        ctx.net.clone(),
    );
    let chain = Chain { plan, exec };
    let first = rt.block_on(async {
        let mut mfa = TerminalMfa::new(mfa_code);
        prepare_mfa_sessions(&chain.plan, &chain.exec, &mut mfa)
            .await
            .map_err(|e| auth_error(e, &sso_chosen(&chain.plan, &ctx.net)))?;
        chain.credentials(&mut Prepared(&mut mfa)).await
    })?;
    Ok((chain, first))
}

/// The variables removed from the command's environment: anything an SDK
/// would take before the container credentials.
const REMOVED: [&str; 14] = [
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_CREDENTIAL_EXPIRATION",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
    "AWS_ROLE_SESSION_NAME",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
];

/// SDKs try profile `default` before container credentials: if it gives
/// credentials of its own in the command's environment, the command would
/// use them instead of the server's. Returns how it resolves.
fn default_profile_conflict(ctx: &Context, set: &ProfileSet) -> Option<String> {
    let env = Env::from_pairs(ctx.env.iter().filter(|(k, _)| !REMOVED.contains(k)));
    let plan = tobira_config::resolve(set, &env, &Flags::default()).ok()?;
    let chain: Vec<String> = plan.steps.iter().map(super::describe).collect();
    (!chain.is_empty()).then(|| chain.join(" → "))
}

/// `tobira exec --server [--profile P] -- CMD`: runs the command with the
/// credential server's address and token in its environment (and no keys),
/// serving until it ends; exits as the command did.
pub fn exec(
    ctx: &Context,
    target: Flags,
    mfa_code: Option<String>,
    nested: bool,
    argv: &[String],
) -> Result<std::process::ExitCode, CliError> {
    super::creds::refuse_nesting(ctx, nested)?;
    let program = Program::of(ctx, argv);
    // Before any sign-in or MFA code: a typo should cost nothing.
    program.check(ctx)?;
    let set = ctx.load_profiles()?;
    if let Some(default) = default_profile_conflict(ctx, &set) {
        return Err(CliError::new(
            Kind::InvalidProfile,
            format!(
                "the command would not use the credential server: SDKs take the credentials of profile `default` ({default}) before they ask a credential server"
            ),
        )
        .hint("run `tobira exec` without `--server`: the credentials it puts in the environment come before every profile")
        .hint("or leave no credentials in profile `default` (rename it, and choose it with `--profile`)"));
    }
    let rt = server_runtime()?;
    let (chain, first) = first_credentials(ctx, &set, target, mfa_code, &rt)?;
    let profile = chain.plan.profile.value.clone();
    let region = chain.plan.region.as_ref().map(|r| r.value.clone());
    let status = rt.block_on(async move {
        let serving = start(chain, first).await?;
        let mut cmd = std::process::Command::new(&program.name);
        cmd.args(argv.iter().skip(1));
        for v in REMOVED {
            cmd.env_remove(v);
        }
        cmd.env("AWS_CONTAINER_CREDENTIALS_FULL_URI", &serving.url);
        cmd.env("AWS_CONTAINER_AUTHORIZATION_TOKEN", serving.token.expose());
        if let Some(r) = &region {
            cmd.env("AWS_REGION", r).env("AWS_DEFAULT_REGION", r);
        }
        cmd.env("TOBIRA_EXEC_PROFILE", &profile);
        if program.shell.is_some() {
            say(&format!(
                "Starting {} with the credential server of profile `{profile}`; `exit` returns here.\n",
                program.name
            ));
        }
        run_command(cmd, &program).await
    })?;
    // The runtime, the listener and the server end here, with the command.
    drop(rt);
    Ok(exit_code_of(status))
}

/// The exit code of `tobira exec --server`: the command's, or 128 + the
/// signal that ended it (as shells report it).
fn exit_code_of(status: std::process::ExitStatus) -> std::process::ExitCode {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(sig) = status.signal() {
            return std::process::ExitCode::from(u8::try_from(128 + sig).unwrap_or(255));
        }
    }
    std::process::ExitCode::from(status.code().and_then(|c| u8::try_from(c).ok()).unwrap_or(1))
}

/// Runs the command and waits for it. Ctrl-C and Ctrl-\ reach the command
/// from the terminal, so tobira only keeps serving (the command may still
/// need credentials while it stops); SIGTERM and SIGHUP sent to tobira are
/// passed on to it. The handlers are in place before the command starts.
async fn run_command(mut cmd: std::process::Command, program: &Program) -> Result<std::process::ExitStatus, CliError> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let listen =
            |kind| signal(kind).map_err(|e| CliError::new(Kind::Internal, format!("cannot handle signals: {e}")));
        let (mut int, mut quit) = (listen(SignalKind::interrupt())?, listen(SignalKind::quit())?);
        let (mut term, mut hup) = (listen(SignalKind::terminate())?, listen(SignalKind::hangup())?);
        let child = cmd.spawn().map_err(|e| program.cannot_run(&e))?;
        let pid = rustix::process::Pid::from_child(&child);
        let mut waiter = tokio::task::spawn_blocking(move || {
            let mut child = child;
            child.wait()
        });
        loop {
            tokio::select! {
                done = &mut waiter => return finished(done),
                _ = int.recv() => {}
                _ = quit.recv() => {}
                _ = term.recv() => { let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM); }
                _ = hup.recv() => { let _ = rustix::process::kill_process(pid, rustix::process::Signal::HUP); }
            }
        }
    }
    #[cfg(not(unix))]
    {
        let mut child = cmd.spawn().map_err(|e| program.cannot_run(&e))?;
        finished(tokio::task::spawn_blocking(move || child.wait()).await)
    }
}

fn finished(
    done: Result<std::io::Result<std::process::ExitStatus>, tokio::task::JoinError>,
) -> Result<std::process::ExitStatus, CliError> {
    match done {
        Ok(Ok(status)) => Ok(status),
        Ok(Err(e)) => Err(CliError::new(Kind::Internal, format!("cannot wait for the command: {e}"))),
        Err(e) => Err(CliError::new(Kind::Internal, format!("cannot wait for the command: {e}"))),
    }
}

/// How `serve-credentials` prints the two variables.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum VarsFormat {
    Env,
    EnvNoExport,
    Fish,
    Powershell,
    WindowsCmd,
}

/// `tobira serve-credentials [--profile P]`: prints the two variables, then
/// serves until Ctrl-C or SIGTERM.
pub fn serve_credentials(
    ctx: &Context,
    target: Flags,
    mfa_code: Option<String>,
    format: VarsFormat,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let set = ctx.load_profiles()?;
    let rt = server_runtime()?;
    let (chain, first) = first_credentials(ctx, &set, target, mfa_code, &rt)?;
    let profile = chain.plan.profile.value.clone();
    if let Some(default) = default_profile_conflict(ctx, &set) {
        say(&format!(
            "warning: profile `default` has credentials of its own ({default}); SDKs that see it take them before the credential server's, so unset it where the variables below are used\n"
        ));
    }
    rt.block_on(async move {
        let serving = start(chain, first).await?;
        let lines: String = [
            ("AWS_CONTAINER_CREDENTIALS_FULL_URI", serving.url.as_str()),
            ("AWS_CONTAINER_AUTHORIZATION_TOKEN", serving.token.expose()),
        ]
        .iter()
        .map(|(k, v)| match format {
            VarsFormat::Env => format!("export {k}={v}\n"),
            VarsFormat::EnvNoExport => format!("{k}={v}\n"),
            VarsFormat::Fish => format!("set -gx {k} \"{v}\"\n"),
            VarsFormat::Powershell => format!("$Env:{k}=\"{v}\"\n"),
            VarsFormat::WindowsCmd => format!("set {k}={v}\n"),
        })
        .collect();
        emit(out, &lines)?;
        let _ = out.flush();
        say(&format!(
            "Serving the credentials of profile `{profile}` at {} (this machine only) until Ctrl-C; set the variables above where the SDK runs.\n",
            serving.url
        ));
        stopped().await
    })
}

/// Ctrl-C, or SIGTERM / SIGHUP.
async fn stopped() -> Result<(), CliError> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let listen =
            |kind| signal(kind).map_err(|e| CliError::new(Kind::Internal, format!("cannot handle signals: {e}")));
        let (mut int, mut term, mut hup) =
            (listen(SignalKind::interrupt())?, listen(SignalKind::terminate())?, listen(SignalKind::hangup())?);
        tokio::select! {
            _ = int.recv() => {}
            _ = term.recv() => {}
            _ = hup.recv() => {}
        }
        Ok(())
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c().await.map_err(|e| CliError::new(Kind::Internal, format!("cannot handle Ctrl-C: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn renewal_time() {
        // An hour: 15 minutes before the end, where SDKs start asking again.
        assert_eq!(renew_at(ts("2026-01-01T00:00:00Z"), ts("2026-01-01T01:00:00Z")), ts("2026-01-01T00:45:00Z"));
        // Shorter-lived credentials: at half their life.
        assert_eq!(renew_at(ts("2026-01-01T00:00:00Z"), ts("2026-01-01T00:20:00Z")), ts("2026-01-01T00:10:00Z"));
        assert_eq!(renew_at(ts("2026-01-01T00:00:00Z"), ts("2026-01-01T00:00:20Z")), ts("2026-01-01T00:00:10Z"));
        // Already expired: at once.
        assert_eq!(renew_at(ts("2026-01-01T00:00:10Z"), ts("2026-01-01T00:00:00Z")), ts("2026-01-01T00:00:00Z"));
    }

    #[test]
    fn the_answer_has_what_sdks_read() {
        let c = Credentials {
            access_key_id: "ASIAEXAMPLE".into(),
            secret_access_key: tobira_config::Secret::new("s"),
            session_token: Some(tobira_config::Secret::new("t")),
            expiration: Some(ts("2026-01-01T01:00:00Z")),
            account_id: Some("111111111111".into()),
        };
        let h = Held::new(c, ts("2026-01-01T00:00:00Z"));
        let v: serde_json::Value = serde_json::from_str(&h.json()).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"AccessKeyId": "ASIAEXAMPLE", "SecretAccessKey": "s", "Token": "t",
                "Expiration": "2026-01-01T01:00:00Z", "AccountId": "111111111111"})
        );
        assert_eq!(h.renew_at, ts("2026-01-01T00:45:00Z"));
    }
}
