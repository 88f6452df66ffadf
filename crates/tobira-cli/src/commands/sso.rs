//! Identity Center commands: `login`, `logout`, `sso accounts`, `sso roles`.
//! Which login a command is about is `target.rs`; the runtime is `mod.rs`.

use std::io::{IsTerminal, Write};
use std::time::Duration;

use serde_json::json;
use tobira_auth::portal::{self, ListOptions};
use tobira_auth::{Flow, LoginOptions, LoginUi, SsoTarget};
use tobira_cache::Freshness;

use super::runtime;
use super::target::{Chosen, Selection, choose, login_error};
use crate::error::auth_error;
use crate::progress::Bar;
use crate::{CliError, Context, Kind, emit};

/// Whether a browser can be opened here: `$BROWSER`, a desktop session, or
/// macOS/Windows; never over SSH without a display.
pub(crate) fn browser_available(ctx: &Context) -> bool {
    if ctx.env.get("BROWSER").is_some() {
        return true;
    }
    if cfg!(any(target_os = "macos", target_os = "windows")) {
        return ctx.env.get("SSH_CONNECTION").is_none();
    }
    ctx.env.get("DISPLAY").is_some() || ctx.env.get("WAYLAND_DISPLAY").is_some()
}

struct TerminalUi<'a> {
    out: &'a mut dyn Write,
    browser: bool,
    /// Shown on stderr while waiting, only when stderr is a terminal.
    spinner: Option<indicatif::ProgressBar>,
}

impl TerminalUi<'_> {
    fn start_spinner(&mut self) {
        if std::io::stderr().is_terminal() {
            let s = indicatif::ProgressBar::new_spinner();
            s.set_message("Waiting for the sign-in to be approved... (Ctrl-C to cancel)");
            s.enable_steady_tick(Duration::from_millis(120));
            self.spinner = Some(s);
        }
    }
}

impl LoginUi for TerminalUi<'_> {
    fn device_prompt(&mut self, uri: &str, code: &str, complete: &str, opened: bool) {
        let text = if opened {
            format!(
                "Attempting to open your default browser.\nIf the browser does not open or you wish to use a different device to authorize this request, open the following URL:\n\n{uri}\n\nThen enter the code:\n\n{code}\n"
            )
        } else {
            format!(
                "Browser will not be automatically opened.\nPlease visit the following URL:\n\n{uri}\n\nThen enter the code:\n\n{code}\n\nAlternatively, you may visit the following URL which will autofill the code upon loading:\n{complete}\n"
            )
        };
        let _ = emit(self.out, &text);
        let _ = self.out.flush();
        self.start_spinner();
    }

    fn pkce_prompt(&mut self, url: &str, opened: bool) {
        let text = if opened {
            format!(
                "Attempting to open your default browser. If the browser does not open, open the following URL.\nIf you are unable to open the URL on this device, run this command again with the '--use-device-code' option.\n\n{url}\n\n"
            )
        } else {
            format!("Browser will not be automatically opened.\nPlease visit the following URL:\n\n{url}\n\n")
        };
        let _ = emit(self.out, &text);
        let _ = self.out.flush();
        self.start_spinner();
    }

    fn open_browser(&mut self, url: &str) -> bool {
        self.browser && webbrowser::open(url).is_ok()
    }
}

/// `tobira login`: a new sign-in, unless the cached one is still valid for
/// more than the refresh window (then nothing, unless `force`).
pub fn login(
    ctx: &Context,
    sel: &Selection,
    use_device_code: bool,
    no_browser: bool,
    force: bool,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let set = ctx.load_profiles()?;
    let chosen = choose(ctx, &set, sel)?;
    if !force
        && let Some(cache) = ctx.sso_cache()
        && let Ok(Some(token)) = cache.read_token(chosen.target.cache_key())
        && token.freshness(ctx.now) == Freshness::Valid
    {
        let what = match &chosen.target.session {
            Some(s) => format!("sso-session {s}"),
            None => format!("start URL {}", chosen.target.start_url),
        };
        let login = chosen.target.login_command(chosen.profile.as_deref());
        return emit(
            out,
            &format!(
                "Already signed in to {what}: the sign-in is valid until {}. Nothing to do.\nTo sign in again anyway (for example after it was revoked), run `{login} --force`.\n",
                tobira_cache::token::format_time(token.expires_at)
            ),
        );
    }
    run_login(ctx, &chosen, use_device_code, no_browser, out)?;
    Ok(())
}

/// A new login for `chosen`, printing what the user must do, ending with
/// `Successfully logged into Start URL: …`.
pub fn run_login(
    ctx: &Context,
    chosen: &Chosen,
    use_device_code: bool,
    no_browser: bool,
    out: &mut dyn Write,
) -> Result<tobira_cache::SsoToken, CliError> {
    let cache = ctx.need_sso_cache()?;
    let browser = !no_browser && browser_available(ctx);
    let flow = if chosen.target.session.is_none() || use_device_code {
        Flow::Device
    } else if !browser && !no_browser {
        emit(out, "No browser can be opened here: using the device code flow.\n\n")?;
        Flow::Device
    } else {
        Flow::Pkce
    };
    // One sign-in at a time per login: a second `tobira login` waits for the
    // first and then uses its result instead of asking the user again.
    let login_lock = cache.token_path(chosen.target.cache_key()).with_extension("login");
    let started = ctx.now;
    let _guard = match tobira_fs::Lock::try_acquire(&login_lock) {
        Ok(Some(g)) => g,
        Ok(None) => {
            emit(out, "Another tobira login for this session is in progress; waiting for it to finish...\n")?;
            let _ = out.flush();
            let waiting =
                crate::spinner::Spinner::start("Waiting for the other sign-in to finish... (Ctrl-C to cancel)");
            let g = tobira_fs::Lock::acquire(&login_lock).map_err(|e| CliError::new(Kind::Internal, e.to_string()))?;
            waiting.stop();
            let fresh_from_other = cache.read_token(chosen.target.cache_key()).ok().flatten().filter(|t| {
                t.freshness(ctx.current_time()) == Freshness::Valid
                    && cache
                        .token_path(chosen.target.cache_key())
                        .metadata()
                        .and_then(|m| m.modified())
                        .ok()
                        .and_then(|m| jiff::Timestamp::try_from(m).ok())
                        .is_some_and(|m| m >= started)
            });
            if let Some(t) = fresh_from_other {
                emit(
                    out,
                    &format!("Successfully logged into Start URL: {} (by the other login)\n", chosen.target.start_url),
                )?;
                return Ok(t);
            }
            g
        }
        Err(e) => return Err(CliError::new(Kind::Internal, format!("cannot lock {}: {e}", login_lock.display()))),
    };
    let opts = LoginOptions { flow, open_browser: browser, timeout: Duration::from_secs(600), now: ctx.current_time() };
    let mut ui = TerminalUi { out, browser, spinner: None };
    let result = runtime()?.block_on(tobira_auth::login(&chosen.target, &cache, opts, &mut ui));
    if let Some(s) = ui.spinner.take() {
        s.finish_and_clear();
    }
    let token = result.map_err(|e| auth_error(e, chosen))?;
    emit(out, &format!("Successfully logged into Start URL: {}\n", chosen.target.start_url))?;
    Ok(token)
}

/// A token that works, refreshed if due, for commands that call the portal.
pub(crate) fn token(ctx: &Context, chosen: &Chosen) -> Result<String, CliError> {
    let cache = ctx.need_sso_cache()?;
    let _spinner = crate::spinner::Spinner::start("Checking the sign-in...");
    let t = runtime()?
        .block_on(tobira_auth::valid_token(&chosen.target, &cache, ctx.current_time()))
        .map_err(|e| auth_error(e, chosen))?;
    Ok(t.access_token.expose().to_string())
}

pub fn accounts(ctx: &Context, sel: &Selection, json_out: bool, out: &mut dyn Write) -> Result<(), CliError> {
    let set = ctx.load_profiles()?;
    let chosen = choose(ctx, &set, sel)?;
    let tok = token(ctx, &chosen)?;
    let bar = Bar::new("Listing accounts");
    let mut listing = runtime()?.block_on(portal::list_accounts(&chosen.target, &tok, &ListOptions::default(), &bar));
    bar.clear();
    let list = &listing.accounts;
    if json_out {
        let v: Vec<_> = list.iter().map(|a| json!({ "account_id": a.id, "name": a.name, "email": a.email })).collect();
        emit(out, &(serde_json::to_string_pretty(&v).unwrap_or_default() + "\n"))?;
    } else if list.is_empty() && listing.complete() {
        emit(out, "No AWS accounts are available to you.\n")?;
    } else if !list.is_empty() {
        let w = list.iter().map(|a| a.name.as_deref().unwrap_or("").chars().count()).max().unwrap_or(0).max(4) + 2;
        let mut text = format!("{:<14}{:<w$}EMAIL\n", "ACCOUNT", "NAME");
        for a in list {
            text.push_str(&format!(
                "{:<14}{:<w$}{}\n",
                a.id,
                a.name.as_deref().unwrap_or(""),
                a.email.as_deref().unwrap_or("")
            ));
        }
        emit(out, &text)?;
    }
    incomplete(ctx, &mut listing, &chosen, "sso accounts")
}

pub fn roles(
    ctx: &Context,
    sel: &Selection,
    account: Option<String>,
    json_out: bool,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let set = ctx.load_profiles()?;
    let chosen = choose(ctx, &set, sel)?;
    let tok = token(ctx, &chosen)?;
    let bar = Bar::new("Listing accounts");
    let mut listing = runtime()?.block_on(portal::list_access(
        &chosen.target,
        &tok,
        account.map(|a| vec![a]),
        &ListOptions::default(),
        &bar,
    ));
    bar.clear();
    // In the order accounts are listed (or the one asked for).
    let order: Vec<&String> = if listing.accounts.is_empty() {
        listing.roles.keys().collect()
    } else {
        listing.accounts.iter().map(|a| &a.id).filter(|id| listing.roles.contains_key(*id)).collect()
    };
    let rows: Vec<(&String, &String)> =
        order.iter().flat_map(|id| listing.roles[*id].iter().map(move |r| (*id, r))).collect();
    if json_out {
        let v: Vec<_> = rows.iter().map(|(a, r)| json!({ "account_id": a, "role_name": r })).collect();
        emit(out, &(serde_json::to_string_pretty(&v).unwrap_or_default() + "\n"))?;
    } else if !rows.is_empty() || listing.complete() {
        let mut text = format!("{:<14}ROLE\n", "ACCOUNT");
        for (a, r) in &rows {
            text.push_str(&format!("{a:<14}{r}\n"));
        }
        emit(out, &text)?;
    }
    incomplete(ctx, &mut listing, &chosen, "sso roles")
}

/// How a command names this login on the command line (`--sso-session S`
/// or `--profile P`), for commands suggested in hints.
pub fn selector(chosen: &Chosen) -> String {
    match (&chosen.target.session, &chosen.profile) {
        (Some(s), _) => format!(" --sso-session {}", crate::error::shell_word(s)),
        (None, Some(p)) => format!(" --profile {}", crate::error::shell_word(p)),
        (None, None) => String::new(),
    }
}

/// `Ok` when the listing is complete; otherwise the error that says what
/// was listed (and printed), which calls failed after how many attempts and
/// why, and what to do. The kind (exit code) is that of the first failure.
/// `command` is the command to run again (`sso roles`).
pub fn incomplete(
    ctx: &Context,
    listing: &mut portal::Listing,
    chosen: &Chosen,
    command: &str,
) -> Result<(), CliError> {
    let failures = std::mem::take(&mut listing.failures);
    let Some(first) = failures.first() else { return Ok(()) };
    let accounts = listing.accounts.len();
    let roles = listing.roles.len();
    let with_roles = command.ends_with("roles");
    let mut summary = match &first.account {
        None => {
            let mut s = format!(
                "the list of accounts is incomplete: {accounts} account(s) were listed before ListAccounts failed"
            );
            if with_roles && accounts > 0 {
                s.push_str(&format!("; the roles of {roles} of them were listed"));
            }
            s
        }
        Some(_) => {
            let failed = failures.iter().filter(|f| f.account.is_some()).count();
            format!("the roles of {failed} account(s) could not be listed; those of {roles} account(s) were")
        }
    };
    // `sso` commands print what they listed; populate writes it.
    let printed = command.starts_with("sso") && if with_roles { roles > 0 } else { accounts > 0 };
    let attempts = |n: u32| if n == 1 { "1 attempt".to_string() } else { format!("{n} attempts") };
    let one = first.account.clone();
    let count = failures.len();
    let mut errors =
        failures.into_iter().map(|f| (f.account, f.operation, f.attempts, login_error(ctx, f.error, chosen)));
    let Some((account, operation, tries, first)) = errors.next() else { return Ok(()) };
    if accounts + roles == 0 && count == 1 {
        // Nothing was listed: the error is the call's own, and how hard it was tried.
        let mut err = first;
        if tries > 1 {
            err.message.push_str(&format!(" (gave up after {})", attempts(tries)));
        }
        return Err(err);
    }
    if printed {
        summary.push_str(", and are printed");
    }
    let line = |account: Option<String>, operation: &str, tries: u32, message: &str| {
        let who = account.map(|a| format!("account {a}: ")).unwrap_or_default();
        format!("{who}{operation} failed after {}: {message}", attempts(tries))
    };
    let mut lines = vec![line(account, operation, tries, &first.message)];
    lines.extend(errors.by_ref().take(4).map(|(a, o, n, e)| line(a, o, n, &e.message)));
    if count > 5 {
        lines.push(format!("… and {} more", count - 5));
    }
    let mut err = CliError::new(first.kind, format!("{summary}\n  {}", lines.join("\n  ")));
    for h in first.hints {
        err = err.hint(h);
    }
    if first.kind != Kind::NeedsLogin {
        let rerun = format!("tobira {command}{}", selector(chosen));
        let mut hint = if printed {
            format!(
                "what was listed is printed and complete for the accounts it names; run `{rerun}` again to retry the rest"
            )
        } else {
            format!("run `{rerun}` again to retry")
        };
        if let Some(a) = one.filter(|_| command == "sso roles") {
            hint.push_str(&format!(", or `{rerun} --account {a}` for one account"));
        }
        err = err.hint(hint);
    }
    Err(err)
}

/// Deletes `~/.aws/cli/cache` SSO role credentials: all of them, or those of
/// the given (account, role, key) triples.
fn remove_role_credentials(ctx: &Context, only: Option<Vec<String>>) -> usize {
    let Some(home) = ctx.home.as_deref() else { return 0 };
    let dir = home.join(".aws").join("cli").join("cache");
    let Ok(entries) = std::fs::read_dir(&dir) else { return 0 };
    let mut n = 0;
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        let wanted = match &only {
            Some(names) => names.contains(&name),
            None => std::fs::read(&path)
                .ok()
                .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
                .is_some_and(|v| v["ProviderType"] == "sso"),
        };
        if wanted && std::fs::remove_file(&path).is_ok() {
            n += 1;
        }
    }
    n
}

pub fn logout(ctx: &Context, sel: &Selection, all: bool, out: &mut dyn Write) -> Result<(), CliError> {
    let set = ctx.load_profiles()?;
    let cache = ctx.need_sso_cache()?;
    let rt = runtime()?;
    if all {
        let mut ended = 0;
        if let Ok(entries) = std::fs::read_dir(cache.dir()) {
            for entry in entries.flatten() {
                let Ok(bytes) = std::fs::read(entry.path()) else { continue };
                let Ok(tok) = tobira_cache::SsoToken::from_json(&bytes) else { continue };
                if let Some(region) = &tok.region {
                    let endpoints = tobira_config::resolve::endpoints(&set, &ctx.env, None)?;
                    let target = SsoTarget {
                        session: None,
                        start_url: tok.start_url.clone().unwrap_or_default(),
                        region: region.clone(),
                        scopes: None,
                        oidc_endpoint: endpoints.sso_oidc.map(|e| e.value),
                        portal_endpoint: endpoints.sso.map(|e| e.value),
                        net: ctx.net.clone(),
                    };
                    let _ = rt.block_on(tobira_auth::portal::logout(&target, tok.access_token.expose()));
                }
                if std::fs::remove_file(entry.path()).is_ok() {
                    ended += 1;
                }
            }
        }
        let creds = remove_role_credentials(ctx, None);
        return emit(
            out,
            &format!("Logged out of {ended} SSO session(s); removed {creds} cached role credential file(s).\n"),
        );
    }
    let chosen = choose(ctx, &set, sel)?;
    let key = chosen.target.cache_key();
    if let Ok(Some(tok)) = cache.read_token(key) {
        // Best effort, like `aws sso logout`: the local token goes either way.
        let _ = rt.block_on(tobira_auth::portal::logout(&chosen.target, tok.access_token.expose()));
    }
    let had =
        cache.remove_token(key).map_err(|e| CliError::new(Kind::Internal, format!("cannot remove the token: {e}")))?;
    let t = &chosen.target;
    let registration =
        tobira_cache::keys::registration_file_name(&t.region, t.scopes.as_deref(), t.session.as_deref(), &t.start_url);
    let _ = cache.remove_registration(&registration);
    // Role credentials cached for the profiles that use this login.
    let names: Vec<String> = set
        .profiles()
        .iter()
        .filter_map(|p| {
            let uses = match &chosen.target.session {
                Some(s) => p.text("sso_session").is_some_and(|v| &v.value == s),
                None => {
                    p.text("sso_start_url").is_some_and(|v| v.value == chosen.target.start_url)
                        && p.text("sso_session").is_none()
                }
            };
            if !uses {
                return None;
            }
            let (acct, role) = (p.text("sso_account_id")?.value, p.text("sso_role_name")?.value);
            Some(tobira_cache::keys::sso_role_credentials_file_name(&acct, &role, key))
        })
        .collect();
    let creds = remove_role_credentials(ctx, Some(names));
    let what = match &chosen.target.session {
        Some(s) => format!("sso-session {s}"),
        None => format!("start URL {}", chosen.target.start_url),
    };
    if had {
        emit(out, &format!("Logged out of {what}; removed {creds} cached role credential file(s).\n"))
    } else {
        emit(out, &format!("Not logged in to {what}; nothing to remove.\n"))
    }
}
