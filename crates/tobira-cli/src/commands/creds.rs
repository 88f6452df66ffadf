//! Credentials for any profile, in every form tools consume: `export`,
//! `credential-process`, `exec`, `whoami`.

use std::io::Write;

use tobira_auth::AuthError;
use tobira_auth::creds::{ExecContext, MfaPrompt, cached, execute, human, iso};
use tobira_auth::mfa_codes::MfaRefusal;
use tobira_cache::Credentials;
use tobira_config::resolve::SsoRole;
use tobira_config::{FileKind, Flags, Origin, Plan, ProfileSet, Sourced, Step, Target, edit_file};

use super::runtime;
use super::target::{login_error, sso_chosen};
use crate::{CliError, Context, Kind, emit};

/// `Enter MFA code for <serial>: ` on the terminal (even when stdout is a
/// pipe), or the `--mfa-code` value; never a prompt without a terminal.
/// A refused code is explained on the terminal and another asked for (up
/// to [`tobira_auth::creds::MFA_RETRIES`] more); a `--mfa-code` that is
/// refused ends the command with the explanation instead.
pub struct TerminalMfa {
    given: Option<String>,
    from_flag: bool,
}

impl TerminalMfa {
    pub fn new(given: Option<String>) -> TerminalMfa {
        TerminalMfa { given, from_flag: false }
    }
}

impl MfaPrompt for TerminalMfa {
    fn retry(&mut self, serial: &str, refusal: &MfaRefusal, attempt: u32) -> bool {
        if self.from_flag {
            return false;
        }
        let Ok(mut tty) = std::fs::OpenOptions::new().write(true).open("/dev/tty") else { return false };
        let left = tobira_auth::creds::MFA_RETRIES - attempt;
        let more = match left {
            0 => "last try".to_string(),
            1 => "1 more try after this one".to_string(),
            n => format!("{n} more tries after this one"),
        };
        write!(tty, "Code refused: {}. Asking again ({more}).\r\n", refusal.explain(serial)).is_ok()
    }

    fn code(&mut self, serial: &str) -> Result<String, AuthError> {
        self.from_flag = self.given.is_some();
        if let Some(c) = self.given.take() {
            return Ok(c);
        }
        let no_tty = || {
            AuthError::Credentials(format!(
                "an MFA code for {serial} is needed and there is no terminal to ask on; give it with `--mfa-code CODE`"
            ))
        };
        #[cfg(unix)]
        {
            use std::io::Read;
            let mut tty = std::fs::OpenOptions::new().read(true).write(true).open("/dev/tty").map_err(|_| no_tty())?;
            write!(tty, "Enter MFA code for {serial}: ").map_err(|_| no_tty())?;
            tty.flush().map_err(|_| no_tty())?;
            // Not echoed (like getpass): raw mode for the read, restored after.
            let raw = crossterm::terminal::enable_raw_mode().is_ok();
            let mut code = String::new();
            let mut byte = [0u8; 1];
            let outcome = loop {
                match tty.read(&mut byte) {
                    Ok(0) | Err(_) => break Err(no_tty()),
                    Ok(_) => match byte[0] {
                        b'\r' | b'\n' => break Ok(code.trim().to_string()),
                        3 => break Err(AuthError::Credentials("cancelled at the MFA prompt".into())),
                        8 | 127 => {
                            code.pop();
                        }
                        b if b.is_ascii_graphic() => code.push(char::from(b)),
                        _ => {}
                    },
                }
            };
            if raw {
                let _ = crossterm::terminal::disable_raw_mode();
            }
            let _ = write!(tty, "\r\n");
            outcome
        }
        #[cfg(not(unix))]
        {
            Err(no_tty())
        }
    }
}

/// Resolves and runs a profile's plan: from the cache when fresh (no
/// network, no SDK client), else through the chain.
pub fn credentials(ctx: &Context, target: Flags, mfa_code: Option<String>) -> Result<(Plan, Credentials), CliError> {
    let (set, plan) = plan_for(ctx, target)?;
    credentials_of(ctx, &set, plan, mfa_code)
}

/// A profile's plan, read from the files: no network (what a command checks
/// before it calls anything).
/// `target`: `--profile` and `--region` (a region flag beats `AWS_REGION` and
/// the profile's `region`, as in the AWS CLI).
pub fn plan_for(ctx: &Context, target: Flags) -> Result<(ProfileSet, Plan), CliError> {
    let set = ctx.load_profiles()?;
    let plan = super::resolve(ctx, &set, &target)?;
    Ok((set, plan))
}

/// Runs a plan [`plan_for`] made, as [`credentials`] does.
pub fn credentials_of(
    ctx: &Context,
    set: &ProfileSet,
    plan: Plan,
    mfa_code: Option<String>,
) -> Result<(Plan, Credentials), CliError> {
    let home = ctx.home_dir()?.to_path_buf();
    if let Some(c) = cached(&plan, &home, ctx.now) {
        tracing::debug!(expiration = ?c.expiration.map(iso), "the cached credentials of the last step are fresh: no network");
        return Ok((plan, c));
    }
    // A secret in the keychain is read only when the cache cannot answer.
    let plan = super::keychain::materialize(ctx, set, plan)?;
    let exec = ExecContext::new(home, format!("tobira-{}", ctx.now.as_second()), false, ctx.now, ctx.net.clone());
    let spinner = crate::spinner::Spinner::start(&format!("Getting credentials for profile {}...", plan.profile.value));
    let mut mfa = crate::spinner::Paused { spinner: &spinner, prompt: TerminalMfa::new(mfa_code) };
    let result = runtime()?.block_on(execute(&plan, &exec, &mut mfa));
    spinner.stop();
    match result {
        Ok(c) => Ok((plan, c)),
        Err(e) => Err(login_error(ctx, e, &sso_chosen(&plan, &ctx.net))),
    }
}

/// STS refused the credentials themselves (not the request).
fn refused(e: &AuthError) -> bool {
    matches!(e, AuthError::Service { code, .. } if code == "ExpiredToken" || code == "InvalidClientTokenId")
}

/// Removes the cached credentials of every SSO and assume-role step of the
/// plan (`~/.aws/cli/cache`); true when one was there.
fn forget_cached(ctx: &Context, plan: &Plan) -> bool {
    let Ok(home) = ctx.home_dir() else { return false };
    let cache = tobira_cache::CredentialCache::cli(home);
    let mut removed = false;
    for step in &plan.steps {
        let name = match step {
            tobira_config::Step::Sso(s) => tobira_auth::creds::sso_cache_name(s),
            tobira_config::Step::AssumeRole(a) => tobira_auth::creds::assume_role_cache_name(a),
            // Only when they are what the service refused (not a role's source).
            tobira_config::Step::Login { session, cache_dir, .. } if plan.steps.len() == 1 => {
                removed |= super::console::expire_cached(&session.value, &cache_dir.value);
                continue;
            }
            _ => continue,
        };
        removed |= cache.remove(&name).unwrap_or(false);
    }
    removed
}

/// Output formats of `tobira export` (flows.md §6).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Env,
    EnvNoExport,
    Fish,
    Powershell,
    WindowsCmd,
    Process,
    CredentialsFile,
}

fn vars(plan: &Plan, c: &Credentials) -> Vec<(&'static str, String)> {
    let mut v = vec![
        ("AWS_ACCESS_KEY_ID", c.access_key_id.clone()),
        ("AWS_SECRET_ACCESS_KEY", c.secret_access_key.expose().to_string()),
    ];
    if let Some(t) = &c.session_token {
        v.push(("AWS_SESSION_TOKEN", t.expose().to_string()));
    }
    if let Some(e) = c.expiration {
        v.push(("AWS_CREDENTIAL_EXPIRATION", iso(e)));
    }
    if let Some(r) = &plan.region {
        v.push(("AWS_REGION", r.value.clone()));
        v.push(("AWS_DEFAULT_REGION", r.value.clone()));
    }
    v
}

/// The `credential_process` JSON: `json.dumps(indent=2)` + newline.
pub fn process_json(c: &Credentials) -> String {
    let mut m = serde_json::Map::new();
    m.insert("Version".into(), 1.into());
    m.insert("AccessKeyId".into(), c.access_key_id.clone().into());
    m.insert("SecretAccessKey".into(), c.secret_access_key.expose().into());
    if let Some(t) = &c.session_token {
        m.insert("SessionToken".into(), t.expose().into());
    }
    if let Some(e) = c.expiration {
        m.insert("Expiration".into(), iso(e).into());
    }
    if let Some(a) = &c.account_id {
        m.insert("AccountId".into(), a.clone().into());
    }
    // Fixed key order, as the AWS CLI prints it.
    let order = ["Version", "AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration", "AccountId"];
    let lines: Vec<String> = order.iter().filter_map(|k| m.get(*k).map(|v| format!("  \"{k}\": {v}"))).collect();
    format!("{{\n{}\n}}\n", lines.join(",\n"))
}

pub fn export(
    ctx: &Context,
    target: Flags,
    format: Format,
    mfa_code: Option<String>,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let (plan, c) = match cache_hit(ctx, &target) {
        Some(hit) => hit,
        None => credentials(ctx, target, mfa_code)?,
    };
    let text = match format {
        Format::Process => process_json(&c),
        Format::CredentialsFile => {
            let name = plan.profile.value.clone();
            edit_file(&ctx.paths.credentials.value, FileKind::Credentials, |e| {
                let t = Target::Profile(name.clone());
                e.set(&t, "aws_access_key_id", &c.access_key_id)?;
                e.set(&t, "aws_secret_access_key", c.secret_access_key.expose())?;
                match &c.session_token {
                    Some(tok) => e.set(&t, "aws_session_token", tok.expose())?,
                    None => {
                        e.remove_key(&t, "aws_session_token")?;
                    }
                }
                Ok(())
            })
            .map_err(|e| CliError::new(Kind::ConfigFile, e.to_string()))?;
            let until = c.expiration.map(|e| format!(", valid until {}", iso(e))).unwrap_or_default();
            format!(
                "Wrote temporary credentials for `{name}` to {}{until}.\n",
                ctx.display_path(&ctx.paths.credentials.value).display()
            )
        }
        _ => vars(&plan, &c)
            .into_iter()
            .map(|(k, v)| match format {
                Format::Env => format!("export {k}={v}\n"),
                Format::EnvNoExport => format!("{k}={v}\n"),
                Format::Fish => format!("set -gx {k} \"{v}\"\n"),
                Format::Powershell => format!("$Env:{k}=\"{v}\"\n"),
                _ => format!("set {k}={v}\n"),
            })
            .collect(),
    };
    emit(out, &text)
}

pub fn credential_process(
    ctx: &Context,
    target: Flags,
    mfa_code: Option<String>,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let (_, c) = match cache_hit(ctx, &target) {
        Some(hit) => hit,
        None => credentials(ctx, target, mfa_code)?,
    };
    emit(out, &process_json(&c))
}

/// The hot path of `credential-process` and `export` (docs/hot-path.md):
/// only the sections the profile reads are parsed (the profile, its
/// `source_profile` chain, their sso-session and services), and credentials
/// come from the cache. `None` — a cache miss, any error, a file the
/// shortcut cannot read exactly — and the caller goes the full way, which
/// parses both files whole and reports every error as the AWS CLI would.
pub(crate) fn cache_hit(ctx: &Context, target: &Flags) -> Option<(Plan, Credentials)> {
    let (name, _) = tobira_config::resolve::select_profile(target, &ctx.env);
    let set = ctx.profiles_for(&name.value)?;
    let plan = tobira_config::resolve(&set, &ctx.env, target).ok()?;
    let c = cached(&plan, ctx.home.as_deref()?, ctx.now)?;
    Some((plan, c))
}

/// An account and role of an sso-session, named on the command line (the
/// `credential_process` form of `tobira configure populate`, for tools that
/// cannot read SSO profiles: docs/populate.md §4).
#[derive(Clone, Debug)]
pub struct SsoRoleArgs {
    pub session: String,
    pub account_id: String,
    pub role_name: String,
}

/// The plan of one SSO step for `role`: the sso-session's start URL, region
/// and scopes from the config file, the account and role from the flags.
fn sso_role_plan(ctx: &Context, role: &SsoRoleArgs) -> Result<Plan, CliError> {
    let set = ctx.load_profiles()?;
    let sel = super::target::Selection { profile: None, sso_session: Some(role.session.clone()) };
    // Checks the session exists and has a start URL and region, with the errors `login` gives.
    super::target::choose(ctx, &set, &sel)?;
    let session = set.sso_session(&role.session).ok_or_else(|| {
        CliError::new(Kind::InvalidProfile, format!("The specified sso-session does not exist: \"{}\"", role.session))
    })?;
    let text = |k: &str| {
        session.text(k).ok_or_else(|| {
            CliError::new(Kind::InvalidProfile, format!("`[sso-session {}]` has no `{k}`", role.session))
        })
    };
    let flag = |f: &str, v: &str| Sourced::new(v.to_string(), Origin::Flag { flag: f.to_string() });
    let registration_scopes = session.text("sso_registration_scopes").map(|s| {
        let scopes = s.value.split(',').map(str::trim).filter(|x| !x.is_empty()).map(str::to_string).collect();
        Sourced::new(scopes, s.origin)
    });
    let name = format!("sso-session {}", role.session);
    Ok(Plan {
        profile: flag("--sso-session", &name),
        explicit: true,
        exists: true,
        region: None,
        endpoints: tobira_config::resolve::endpoints(&set, &ctx.env, None)?,
        settings: Default::default(),
        steps: vec![Step::Sso(SsoRole {
            profile: name,
            session: Some(Sourced::new(role.session.clone(), session.origin.clone())),
            start_url: text("sso_start_url")?,
            sso_region: text("sso_region")?,
            account_id: flag("--account-id", &role.account_id),
            role_name: flag("--role-name", &role.role_name),
            registration_scopes,
        })],
    })
}

/// `tobira credential-process --sso-session S --account-id A --role-name R`:
/// the role's credentials from the cache the AWS CLI shares, else from the
/// portal with the session's sign-in.
pub fn credential_process_for_role(ctx: &Context, role: &SsoRoleArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let plan = sso_role_plan(ctx, role)?;
    let home = ctx.home_dir()?.to_path_buf();
    let c = match cached(&plan, &home, ctx.now) {
        Some(c) => c,
        None => {
            let exec =
                ExecContext::new(home, format!("tobira-{}", ctx.now.as_second()), false, ctx.now, ctx.net.clone());
            let mut mfa = TerminalMfa::new(None);
            runtime()?
                .block_on(execute(&plan, &exec, &mut mfa))
                .map_err(|e| login_error(ctx, e, &sso_chosen(&plan, &ctx.net)))?
        }
    };
    emit(out, &process_json(&c))
}

/// Runs a command with the profile's credentials in its environment; with
/// no command, the user's shell (`$SHELL`, else `/bin/sh`), as aws-vault does.
pub fn exec(
    ctx: &Context,
    target: Flags,
    mfa_code: Option<String>,
    nested: bool,
    argv: &[String],
) -> Result<(), CliError> {
    refuse_nesting(ctx, nested)?;
    let program = Program::of(ctx, argv);
    // Before any sign-in or MFA code: a typo should cost nothing.
    program.check(ctx)?;
    let (plan, c) = credentials(ctx, target, mfa_code)?;
    let mut cmd = std::process::Command::new(&program.name);
    cmd.args(argv.iter().skip(1));
    // Variables that would override the credentials are removed.
    for v in [
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_SESSION_TOKEN",
        "AWS_SECURITY_TOKEN",
        "AWS_CREDENTIAL_EXPIRATION",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_ROLE_ARN",
        "AWS_ROLE_SESSION_NAME",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    ] {
        cmd.env_remove(v);
    }
    for (k, v) in vars(&plan, &c) {
        cmd.env(k, v);
    }
    cmd.env("TOBIRA_EXEC_PROFILE", &plan.profile.value);
    if program.shell.is_some() {
        let note = format!(
            "Starting {} with the credentials of profile `{}`; `exit` returns here.\n",
            program.name, plan.profile.value
        );
        let _ = std::io::Write::write_all(&mut std::io::stderr(), note.as_bytes());
    }
    #[cfg(unix)]
    {
        // Replace this process: signals and the exit code are the command's own.
        use std::os::unix::process::CommandExt;
        let err = cmd.exec();
        Err(program.cannot_run(&err))
    }
    #[cfg(not(unix))]
    {
        let status = cmd.status().map_err(|e| program.cannot_run(&e))?;
        std::process::exit(status.code().unwrap_or(1));
    }
}

/// `tobira exec` inside `tobira exec` is refused without `--nested`.
pub(crate) fn refuse_nesting(ctx: &Context, nested: bool) -> Result<(), CliError> {
    match ctx.env.get("TOBIRA_EXEC_PROFILE") {
        Some(p) if !nested => {
            Err(CliError::new(Kind::Usage, format!("already inside `tobira exec` for profile `{p}`"))
                .hint("exit that shell first, or pass `--nested` to run one inside the other"))
        }
        _ => Ok(()),
    }
}

/// The program `exec` runs; for a shell, how to name it (`$SHELL` or the default).
pub(crate) struct Program {
    pub(crate) name: String,
    pub(crate) shell: Option<&'static str>,
}

/// Why a program cannot be run: the shell's exit codes (127, 126).
enum Unrunnable {
    NotFound,
    NoSuchFile,
    Directory,
    NotExecutable,
    NotAProgram,
    Other(String),
}

impl Program {
    /// The command given, or the user's shell (`$SHELL`, else `/bin/sh`).
    pub(crate) fn of(ctx: &Context, argv: &[String]) -> Program {
        match argv.first() {
            Some(p) => Program { name: p.clone(), shell: None },
            None => match ctx.env.get("SHELL") {
                Some(sh) => Program { name: sh.to_string(), shell: Some("your shell") },
                None => Program { name: "/bin/sh".to_string(), shell: Some("the default shell") },
            },
        }
    }

    /// Looks the program up as `execvp` will (`PATH` unless the name has a
    /// `/`), so a missing or non-executable one fails before any sign-in.
    pub(crate) fn check(&self, ctx: &Context) -> Result<(), CliError> {
        if self.name.contains('/') {
            return match classify(std::path::Path::new(&self.name)) {
                Ok(()) => Ok(()),
                Err(Unrunnable::NotFound) => Err(self.error(Unrunnable::NoSuchFile)),
                Err(why) => Err(self.error(why)),
            };
        }
        // execvp's search path when PATH is unset.
        let path = ctx.env.get("PATH").unwrap_or("/bin:/usr/bin");
        let mut found_unrunnable = None;
        for dir in path.split(':') {
            let dir = if dir.is_empty() { "." } else { dir };
            match classify(&std::path::Path::new(dir).join(&self.name)) {
                Ok(()) => return Ok(()),
                Err(Unrunnable::NotFound | Unrunnable::Directory) => {}
                Err(why) => {
                    found_unrunnable.get_or_insert(why);
                }
            }
        }
        Err(self.error(found_unrunnable.unwrap_or(Unrunnable::NotFound)))
    }

    /// The error for an `exec` that failed anyway (the file changed, or the
    /// kernel refused it).
    pub(crate) fn cannot_run(&self, e: &std::io::Error) -> CliError {
        let why = match e.kind() {
            std::io::ErrorKind::NotFound if self.name.contains('/') => Unrunnable::NoSuchFile,
            std::io::ErrorKind::NotFound => Unrunnable::NotFound,
            std::io::ErrorKind::PermissionDenied => Unrunnable::NotExecutable,
            std::io::ErrorKind::IsADirectory => Unrunnable::Directory,
            _ if e.raw_os_error() == Some(8) => Unrunnable::NotAProgram, // ENOEXEC
            _ => Unrunnable::Other(e.to_string()),
        };
        self.error(why)
    }

    fn error(&self, why: Unrunnable) -> CliError {
        let name = &self.name;
        let what = match self.shell {
            Some("your shell") => format!("your shell `{name}` (from `SHELL`)"),
            Some(which) => format!("{which} `{name}`"),
            None => format!("`{name}`"),
        };
        let (kind, reason, hint) = match why {
            Unrunnable::NotFound => (
                Kind::CommandNotFound,
                "command not found (searched the directories in `PATH`)".to_string(),
                format!("check the spelling, or give its full path: `tobira exec -- /path/to/{name}`"),
            ),
            Unrunnable::NoSuchFile => (
                Kind::CommandNotFound,
                "no such file".to_string(),
                "check the path (a relative path starts from the current directory)".to_string(),
            ),
            Unrunnable::Directory => (
                Kind::CommandNotExecutable,
                "it is a directory".to_string(),
                "give the path of a program inside it".to_string(),
            ),
            Unrunnable::NotExecutable => (
                Kind::CommandNotExecutable,
                "it is not executable (permission denied)".to_string(),
                format!(
                    "make it executable with `chmod +x {name}`, or run it through its interpreter: `tobira exec -- sh {name}`"
                ),
            ),
            Unrunnable::NotAProgram => (
                Kind::CommandNotExecutable,
                "it is not a program this system can run (exec format error)".to_string(),
                format!(
                    "a script needs a first line such as `#!/bin/sh`, or run it through its interpreter: `tobira exec -- sh {name}`"
                ),
            ),
            Unrunnable::Other(e) => (Kind::CommandNotExecutable, e, "check the command and try again".to_string()),
        };
        let hint = if self.shell.is_some() {
            "set `SHELL` to an installed shell, or give the command to run: `tobira exec -- bash`".to_string()
        } else {
            hint
        };
        CliError::new(kind, format!("cannot run {what}: {reason}")).hint(hint)
    }
}

/// Whether a path names a program this user may execute.
fn classify(path: &std::path::Path) -> Result<(), Unrunnable> {
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => return Err(Unrunnable::NotExecutable),
        Err(_) => return Err(Unrunnable::NotFound),
    };
    if meta.is_dir() {
        return Err(Unrunnable::Directory);
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if meta.permissions().mode() & 0o111 == 0 {
            return Err(Unrunnable::NotExecutable);
        }
    }
    Ok(())
}

pub fn whoami(
    ctx: &Context,
    target: Flags,
    mfa_code: Option<String>,
    json_out: bool,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let (plan, mut c) = credentials(ctx, target, mfa_code.clone())?;
    let rt = runtime()?;
    let spinner = crate::spinner::Spinner::start("Asking STS who these credentials are...");
    let mut me = rt.block_on(tobira_auth::creds::caller_identity(&plan, &c, &ctx.net));
    if me.as_ref().is_err_and(refused) && forget_cached(ctx, &plan) {
        // Cached credentials the service refuses (their sign-in was revoked,
        // or they were cut short): dropped, then obtained again through the
        // chain, which says to sign in again if that is what is needed.
        let exec = ExecContext::new(
            ctx.home_dir()?.to_path_buf(),
            format!("tobira-{}", ctx.now.as_second()),
            false,
            ctx.current_time(),
            ctx.net.clone(),
        );
        let mut mfa = crate::spinner::Paused { spinner: &spinner, prompt: TerminalMfa::new(mfa_code) };
        c = rt
            .block_on(execute(&plan, &exec, &mut mfa))
            .map_err(|e| login_error(ctx, e, &sso_chosen(&plan, &ctx.net)))?;
        me = rt.block_on(tobira_auth::creds::caller_identity(&plan, &c, &ctx.net));
    }
    spinner.stop();
    let me = me.map_err(|e| login_error(ctx, e, &sso_chosen(&plan, &ctx.net)))?;
    let left = c.time_left(ctx.current_time()).map(human);
    if json_out {
        let v = serde_json::json!({
            "profile": plan.profile.value, "account": me.0, "arn": me.1, "user_id": me.2,
            "expiration": c.expiration.map(iso),
        });
        return emit(out, &(serde_json::to_string_pretty(&v).unwrap_or_default() + "\n"));
    }
    emit(
        out,
        &format!(
            "profile   {}\naccount   {}\narn       {}\nuser id   {}\nexpires   {}\n",
            plan.profile.value,
            me.0,
            me.1,
            me.2,
            left.map_or("never (long-term keys)".to_string(), |l| format!("in {l}"))
        ),
    )
}
