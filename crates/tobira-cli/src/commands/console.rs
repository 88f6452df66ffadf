//! Console sign-ins (`aws login`, `login_session` profiles;
//! docs/login-session.md): `tobira login` for them (`--console` creates
//! one, `--remote` signs in from another device), `tobira logout` of them,
//! and their rows in `tobira sessions` and `tobira profile show`.

use super::prompt::{interactive, prompt_error};
use std::io::{BufRead, IsTerminal, Write};
use std::time::Duration;

use jiff::Timestamp;
use serde_json::{Value, json};
use tobira_auth::signin::{SigninError, SigninOptions, SigninTarget, SigninUi};
use tobira_cache::login::LoginCache;
use tobira_config::files::Block;
use tobira_config::resolve::{login_cache_dir, select_profile};
use tobira_config::{FileKind, Flags, Origin, ProfileSet, Sourced, Target, edit_file};

use super::runtime;
use crate::error::{Addresses, shell_word};
use crate::{CliError, Context, Kind, emit};

/// The region AWS Sign-In is in when the user just presses Enter.
const DEFAULT_REGION: &str = "us-east-1";

/// The login cache of this environment (`AWS_LOGIN_CACHE_DIRECTORY` or
/// `~/.aws/login/cache`).
pub fn cache(ctx: &Context) -> LoginCache {
    LoginCache::at(login_cache_dir(&ctx.env).value)
}

/// The profile a command names: `--profile`, `AWS_PROFILE`,
/// `AWS_DEFAULT_PROFILE`, else `default`.
fn selected(ctx: &Context, profile: &Option<String>) -> Sourced<String> {
    select_profile(&Flags { profile: profile.clone(), region: None }, &ctx.env).0
}

/// True when the selected profile signs in with `login_session` (and not
/// with IAM Identity Center), so `tobira login` / `logout` mean a console
/// sign-in for it.
pub fn is_login_profile(ctx: &Context, set: &ProfileSet, profile: &Option<String>) -> bool {
    let name = selected(ctx, profile);
    set.profile(&name.value).is_some_and(|b| {
        b.has("login_session") && !b.has("sso_session") && !b.has("sso_start_url") && !b.has("sso_account_id")
    })
}

/// For an SSO login that failed because the profile does not exist or is
/// not an SSO profile: say how to create a console sign-in instead.
pub fn with_console_hint(e: CliError, ctx: &Context, profile: &Option<String>) -> CliError {
    let not_sso = e.kind == Kind::InvalidProfile && e.message.starts_with("Missing the following required SSO");
    if e.kind != Kind::ProfileNotFound && !not_sso {
        return e;
    }
    let name = selected(ctx, profile);
    e.hint(format!(
        "to sign in with your AWS console credentials instead (as `aws login` does), run `tobira login --console --profile {}`",
        shell_word(&name.value)
    ))
}

/// The credential settings that rule out a console sign-in (the AWS CLI's
/// own list and names), with where the first one is.
fn other_credentials(set: &ProfileSet, block: &Block) -> Option<(&'static str, String)> {
    let keys_in_credentials =
        set.credentials_section(&block.name).and_then(|c| c.text("aws_access_key_id")).map(|v| v.origin);
    let found = |keys: &[&str]| keys.iter().find_map(|k| block.text(k).map(|v| format!("`{k}` at {}", v.origin)));
    if let Some(w) = found(&["web_identity_token_file"]) {
        return Some(("Web Identity", w));
    }
    if let Some(w) = found(&["sso_role_name", "sso_account_id"]) {
        return Some(("SSO", w));
    }
    if let Some(o) = keys_in_credentials {
        return Some(("Access Key", format!("`aws_access_key_id` at {o}")));
    }
    if let Some(w) = found(&["aws_access_key_id"]) {
        return Some(("Access Key", w));
    }
    if let Some(w) = found(&["role_arn"]) {
        return Some(("Assume Role", w));
    }
    found(&["credential_process"]).map(|w| ("Credential Process", w))
}

/// The error context of a profile that is not an SSO one.
fn chosen(profile: &str, addresses: Addresses, net: &tobira_auth::Net) -> super::target::Chosen {
    super::target::Chosen {
        target: tobira_auth::SsoTarget {
            session: None,
            start_url: String::new(),
            region: String::new(),
            scopes: None,
            oidc_endpoint: None,
            portal_endpoint: None,
            net: net.clone(),
        },
        profile: Some(profile.to_string()),
        addresses,
    }
}

/// Which flow `tobira login` runs: true for a console sign-in (`--console`,
/// `--remote`, or a profile with `login_session`), false for IAM Identity
/// Center.
pub fn route(
    ctx: &Context,
    profile: &Option<String>,
    sso_session: bool,
    console: bool,
    use_device_code: bool,
) -> Result<bool, CliError> {
    if console {
        return Ok(true);
    }
    if sso_session {
        return Ok(false);
    }
    // A file that does not parse: the SSO path reports it as usual.
    let Ok(set) = ctx.load_profiles() else { return Ok(false) };
    if !is_login_profile(ctx, &set, profile) {
        return Ok(false);
    }
    if use_device_code {
        let name = selected(ctx, profile).value;
        return Err(CliError::new(
            Kind::Usage,
            format!(
                "profile `{name}` signs in with console credentials (`login_session`), which have no device code flow"
            ),
        )
        .hint(format!(
            "sign in from another device instead: `tobira login --profile {} --remote`",
            shell_word(&name)
        )));
    }
    Ok(true)
}

/// The terminal side of a sign-in: prints to stdout, reads the pasted code
/// from stdin, shows a spinner on stderr when it is a terminal.
struct TerminalUi<'a> {
    out: &'a mut dyn Write,
    spinner: Option<indicatif::ProgressBar>,
}

impl SigninUi for TerminalUi<'_> {
    fn open_browser(&mut self, url: &str) -> bool {
        webbrowser::open(url).is_ok()
    }

    fn show_url(&mut self, url: &str, opened: bool, remote: bool) {
        let text = if remote {
            format!("Browser will not be automatically opened.\nPlease visit the following URL:\n\n{url}\n\n")
        } else if opened {
            format!(
                "Attempting to open your default browser. If the browser does not open, open the following URL.\nIf you are unable to open the URL on this device, run this command again with the '--remote' option.\n\n{url}\n\n"
            )
        } else {
            format!(
                "Browser will not be automatically opened.\nOpen the following URL in a browser on this machine (the sign-in returns to tobira on 127.0.0.1).\nTo sign in from another device, run this command again with the '--remote' option.\n\n{url}\n\n"
            )
        };
        let _ = emit(self.out, &text);
        let _ = self.out.flush();
        if !remote && std::io::stderr().is_terminal() {
            let s = indicatif::ProgressBar::new_spinner();
            s.set_message("Waiting for the sign-in in the browser... (Ctrl-C to cancel)");
            s.enable_steady_tick(Duration::from_millis(120));
            self.spinner = Some(s);
        }
    }

    fn read_code(&mut self) -> Result<String, SigninError> {
        let _ = emit(self.out, "Enter the authorization code displayed in your browser: ");
        let _ = self.out.flush();
        let mut line = String::new();
        match std::io::stdin().lock().read_line(&mut line) {
            Ok(_) => Ok(line),
            Err(_) => Err(SigninError::NoCode),
        }
    }
}

/// `tobira login` for a console sign-in: as `aws login`, a new sign-in for
/// the selected profile, cached where every AWS tool looks, and
/// `login_session` (+ `region` when tobira had to ask, or `--region` gave one
/// the profile lacks) written to the profile.
pub fn login(
    ctx: &Context,
    profile: &Option<String>,
    region_flag: Option<String>,
    remote: bool,
    no_browser: bool,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let set = ctx.load_profiles()?;
    let name = selected(ctx, profile).value;
    let block = set.profile(&name);
    if let Some(b) = block
        && let Some((style, which)) = other_credentials(&set, b)
    {
        let word = shell_word(&name);
        return Err(CliError::new(
            Kind::InvalidProfile,
            format!("profile `{name}` is already configured with {style} credentials ({which}), so a console sign-in cannot be added to it"),
        )
        .hint("sign in to a new profile instead: `tobira login --console --profile NEW-NAME`")
        .hint(format!("or first remove the existing credentials from profile `{word}`")));
    }
    // The region: --region, AWS_REGION, AWS_DEFAULT_REGION, the profile's, else asked.
    let configured = block.and_then(|b| b.text("region"));
    let from_env = ["AWS_REGION", "AWS_DEFAULT_REGION"]
        .iter()
        .find_map(|v| ctx.env.get(v).map(|r| Sourced::new(r.to_string(), Origin::Env { var: (*v).into() })));
    let (region, write_region) = match (region_flag, from_env, &configured) {
        (Some(r), _, c) => (Sourced::new(r, Origin::Flag { flag: "--region".into() }), c.is_none()),
        (None, Some(r), _) => (r, false),
        (None, None, Some(c)) => (c.clone(), false),
        (None, None, None) if interactive() => {
            let _ = writeln!(
                std::io::stderr(),
                "No AWS region has been configured. The AWS region is the geographic location of your AWS resources."
            );
            let answer =
                inquire::Text::new(&format!("AWS Region [{DEFAULT_REGION}]:")).prompt().map_err(prompt_error)?;
            let answer = answer.trim();
            let r = if answer.is_empty() { DEFAULT_REGION.to_string() } else { answer.to_string() };
            (Sourced::new(r, Origin::Default), true)
        }
        (None, None, None) => {
            return Err(CliError::new(
                Kind::Usage,
                format!("profile `{name}` has no region, AWS Sign-In's address depends on it, and tobira does not ask questions without a terminal"),
            )
            .hint(format!(
                "give it with `--region REGION` (e.g. `tobira login --console --profile {} --region us-east-1`); tobira saves it in the profile",
                shell_word(&name)
            )));
        }
    };
    let endpoints = tobira_config::resolve::endpoints(&set, &ctx.env, block)?;
    let target = SigninTarget {
        region: Some(region.value.clone()),
        endpoint: endpoints.signin.as_ref().map(|e| e.value.clone()),
        net: ctx.net.clone(),
    };
    let addresses = Addresses { endpoints, sso_region_from: None, region: Some(region.clone()) };
    // No desktop (SSH, CI): print the URL rather than start a text browser.
    let browser = !no_browser && !remote && super::sso::browser_available(ctx);
    let opts = SigninOptions { remote, open_browser: browser, timeout: Duration::from_secs(600) };
    let mut ui = TerminalUi { out, spinner: None };
    let result = runtime()?.block_on(tobira_auth::signin::login(&target, opts, &mut ui, &|| ctx.current_time()));
    if let Some(s) = ui.spinner.take() {
        s.finish_and_clear();
    }
    let signed_in = result.map_err(|e| crate::error::auth_error(e, &chosen(&name, addresses, &ctx.net)))?;
    let session = signed_in.session;
    // Another principal than before: ask (as the AWS CLI does), never silently.
    if let Some(old) = block.and_then(|b| b.text("login_session"))
        && old.value != session
    {
        let question = format!(
            "Profile {name} is already configured to use session {}. Do you want to overwrite it to use {session} instead?",
            old.value
        );
        if !interactive() {
            return Err(CliError::new(
                Kind::InvalidProfile,
                format!(
                    "profile `{name}` uses login session `{}`, but you signed in as `{session}`; nothing was written",
                    old.value
                ),
            )
            .hint("run the command on a terminal to confirm the switch".to_string())
            .hint(format!("or remove `login_session` from profile `{name}` ({}) and sign in again", old.origin))
            .hint("or keep both: `tobira login --console --profile NEW-NAME`"));
        }
        if !inquire::Confirm::new(&question).prompt().map_err(prompt_error)? {
            return emit(out, &format!("Profile {name} was not changed; it still uses {}.\n", old.value));
        }
    }
    cache(ctx)
        .write(&session, &signed_in.token)
        .map_err(|e| CliError::new(Kind::Internal, format!("cannot write the login cache: {e}")))?;
    edit_file(&ctx.paths.config.value, FileKind::Config, |e| {
        let t = Target::Profile(name.clone());
        e.set(&t, "login_session", &session)?;
        if write_region {
            e.set(&t, "region", &region.value)?;
        }
        Ok(())
    })
    .map_err(|e| CliError::new(Kind::ConfigFile, e.to_string()))?;
    let mut text = format!("\nUpdated profile {name} to use {session} credentials.\n");
    if name != "default" {
        let p = shell_word(&name);
        text.push_str(&format!(
            "Use `--profile {p}` to use them, e.g. `tobira whoami --profile {p}` or `aws sts get-caller-identity --profile {p}`.\n"
        ));
    }
    emit(out, &text)
}

/// Marks a cached sign-in's credentials as expired (the service refused
/// them: the sign-in was ended), so the next use refreshes them or says to
/// sign in again. The refresh token and key stay. True when there was one.
pub fn expire_cached(session: &str, cache_dir: &std::path::Path) -> bool {
    let cache = LoginCache::at(cache_dir.to_path_buf());
    let Ok(_lock) = tobira_fs::Lock::acquire(&cache.path(session)) else { return false };
    match cache.read(session) {
        Ok(Some(t)) => {
            let expired = tobira_cache::login::LoginToken { expires_at: Timestamp::UNIX_EPOCH, ..t };
            cache.write_locked(session, &expired).is_ok()
        }
        _ => false,
    }
}

/// The profiles that use each login session, in file order.
fn sessions_in(set: &ProfileSet) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for p in set.profiles() {
        if let Some(s) = p.text("login_session") {
            match out.iter_mut().find(|(v, _)| *v == s.value) {
                Some((_, names)) => names.push(p.name.clone()),
                None => out.push((s.value, vec![p.name.clone()])),
            }
        }
    }
    out
}

/// `tobira logout` of a login profile: its cached sign-in is removed (no
/// network call: AWS Sign-In has no logout), with the role credentials
/// cached from it for profiles that chain from it. The config is unchanged.
pub fn logout(ctx: &Context, profile: &Option<String>, out: &mut dyn Write) -> Result<(), CliError> {
    let set = ctx.load_profiles()?;
    let name = selected(ctx, profile).value;
    let Some(session) = set.profile(&name).and_then(|b| b.text("login_session")) else {
        return emit(out, &format!("No login session is configured for profile `{name}`; nothing to remove.\n"));
    };
    let cache = cache(ctx);
    let had = cache
        .remove(&session.value)
        .map_err(|e| CliError::new(Kind::Internal, format!("cannot remove the cached sign-in: {e}")))?;
    let roles = remove_chained_role_credentials(ctx, &set, &session.value);
    let others: Vec<String> =
        sessions_in(&set).into_iter().find(|(s, _)| *s == session.value).map(|(_, n)| n).unwrap_or_default();
    let others: Vec<String> = others.into_iter().filter(|n| *n != name).map(|n| format!("`{n}`")).collect();
    let mut text = if had {
        format!(
            "Removed the cached sign-in of profile `{name}` ({}) and {roles} role credential file(s) cached from it.\nTools that already loaded its credentials can use them until they expire (at most 15 minutes).\n",
            session.value
        )
    } else {
        format!("Profile `{name}` ({}) is not signed in; nothing to remove.\n", session.value)
    };
    if had && !others.is_empty() {
        text.push_str(&format!("The same sign-in was used by {}, which are signed out too.\n", others.join(", ")));
    }
    emit(out, &text)
}

/// `~/.aws/cli/cache` entries of assume-role steps whose chain starts with
/// this login session.
fn remove_chained_role_credentials(ctx: &Context, set: &ProfileSet, session: &str) -> usize {
    let Some(home) = ctx.home.as_deref() else { return 0 };
    let cli = tobira_cache::CredentialCache::cli(home);
    let mut removed = 0;
    for p in set.profiles() {
        let Ok(plan) = tobira_config::resolve_profile(set, &ctx.env, &p.name, None) else { continue };
        let starts_here =
            matches!(plan.steps.first(), Some(tobira_config::Step::Login { session: s, .. }) if s.value == session);
        if !starts_here {
            continue;
        }
        for step in &plan.steps {
            if let tobira_config::Step::AssumeRole(a) = step
                && cli.remove(&tobira_auth::creds::assume_role_cache_name(a)).unwrap_or(false)
            {
                removed += 1;
            }
        }
    }
    removed
}

/// `tobira logout --all`, the console part: every cached sign-in.
pub fn logout_all(ctx: &Context, out: &mut dyn Write) -> Result<(), CliError> {
    let cache = cache(ctx);
    let n = cache
        .remove_all()
        .map_err(|e| CliError::new(Kind::Internal, format!("cannot read {}: {e}", cache.dir().display())))?;
    let mut roles = 0;
    if let Ok(set) = ctx.load_profiles() {
        for (session, _) in sessions_in(&set) {
            roles += remove_chained_role_credentials(ctx, &set, &session);
        }
    }
    emit(
        out,
        &format!(
            "Removed {n} cached console sign-in(s) (login sessions) and {roles} role credential file(s) cached from them.\n"
        ),
    )
}

/// What a cached sign-in is good for now.
pub struct Status {
    /// `valid`, `refresh-due`, `expired-refreshable`, `not-signed-in`, `invalid`.
    pub status: &'static str,
    pub text: String,
    pub expires_at: Option<String>,
    pub time_left: Option<String>,
    /// When the sign-in was made (the ID token's `iat`), if known.
    pub signed_in_at: Option<String>,
    pub path: String,
    /// The command to run, when one is needed.
    pub fix: Option<String>,
}

/// The status of a login session's cache file at `ctx.now`; `login` is the
/// command that signs it in again. Reads one file; no network.
pub fn status(ctx: &Context, cache: &LoginCache, session: &str, login: &str) -> Status {
    let path = ctx.display_path(&cache.path(session)).display().to_string();
    let fix = Some(login.to_string());
    match cache.read(session) {
        Ok(None) => Status {
            status: "not-signed-in",
            text: "not signed in (no cached sign-in)".into(),
            expires_at: None,
            time_left: None,
            signed_in_at: None,
            path,
            fix,
        },
        Err(e) => Status {
            status: "invalid",
            text: format!("unusable cached sign-in ({e})"),
            expires_at: None,
            time_left: None,
            signed_in_at: None,
            path,
            fix,
        },
        Ok(Some(t)) => {
            let when = tobira_cache::token::format_time(t.expires_at);
            let left = t.expires_at.duration_since(ctx.now);
            let since = tobira_auth::signin::signed_in_at(&t).map(tobira_cache::token::format_time);
            let (status, text) = if left.as_secs() <= 0 {
                ("expired-refreshable", format!("credentials expired at {when}; refreshed on next use"))
            } else if t.refresh_due(ctx.now) {
                (
                    "refresh-due",
                    format!(
                        "credentials valid until {when} ({} left); refreshed on next use",
                        tobira_auth::creds::human(left)
                    ),
                )
            } else {
                ("valid", format!("credentials valid until {when} ({} left)", tobira_auth::creds::human(left)))
            };
            Status {
                status,
                text,
                expires_at: Some(when),
                time_left: (left.as_secs() > 0).then(|| tobira_auth::creds::human(left)),
                signed_in_at: since,
                path,
                fix: None,
            }
        }
    }
}

/// The command that signs a session in again: through its first profile.
fn login_command(profiles: &[String]) -> String {
    format!("tobira login --profile {}", shell_word(profiles.first().map_or("default", String::as_str)))
}

/// `tobira sessions`: one row per login session (profiles sharing one
/// principal share its row), after the SSO sessions.
pub fn session_rows(ctx: &Context, set: &ProfileSet) -> Vec<Value> {
    let cache = cache(ctx);
    sessions_in(set)
        .into_iter()
        .map(|(session, profiles)| {
            let login = login_command(&profiles);
            let s = status(ctx, &cache, &session, &login);
            json!({
                "name": session, "kind": "login", "login_session": session, "profiles": profiles,
                "status": s.status, "expires_at": s.expires_at, "time_left": s.time_left,
                "signed_in_at": s.signed_in_at, "refreshable": matches!(s.status, "valid" | "refresh-due" | "expired-refreshable"),
                "cache_file": s.path, "renew": login,
            })
        })
        .collect()
}

/// The text of [`session_rows`].
pub fn render_rows(rows: &[Value]) -> String {
    let mut text = String::new();
    for r in rows {
        let s = |k: &str| r[k].as_str().unwrap_or("").to_string();
        let profiles: Vec<&str> =
            r["profiles"].as_array().map(|a| a.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
        let creds = match s("status").as_str() {
            "valid" | "refresh-due" => format!("valid until {} ({} left)", s("expires_at"), s("time_left")),
            "expired-refreshable" => format!("expired at {}; refreshed on next use", s("expires_at")),
            "invalid" => "the cached sign-in cannot be used".to_string(),
            _ => "not signed in".to_string(),
        };
        text.push_str(&format!(
            "login session {}\n  {:<13}{}\n  {:<13}{creds}\n",
            s("login_session"),
            "profiles",
            profiles.join(", "),
            "credentials"
        ));
        if !r["signed_in_at"].is_null() {
            text.push_str(&format!("  {:<13}{}\n", "signed in", s("signed_in_at")));
        }
        text.push_str(&format!("  {:<13}`{}`\n", "renew", s("renew")));
    }
    text
}

/// The login session a plan starts from, and its status (for `tobira
/// profile show`).
pub fn plan_status(ctx: &Context, plan: &tobira_config::Plan) -> Option<Status> {
    let (profile, session, dir) = plan.steps.iter().find_map(|s| match s {
        tobira_config::Step::Login { profile, session, cache_dir } => Some((profile, session, cache_dir)),
        _ => None,
    })?;
    let login = format!("tobira login --profile {}", shell_word(profile));
    Some(status(ctx, &LoginCache::at(dir.value.clone()), &session.value, &login))
}
