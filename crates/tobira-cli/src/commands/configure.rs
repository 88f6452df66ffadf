//! `tobira configure sso` and `tobira configure sso-session` (flows.md §2–3):
//! every answer has a flag; in a terminal the missing ones are asked (account
//! and role with arrow keys and type-to-filter); without one nothing is ever
//! asked, and a missing answer is an error naming its flag.

use super::prompt::{interactive, missing_flag, prompt_error, valid_region};
use std::io::Write;

use tobira_auth::SsoTarget;
use tobira_config::{FileKind, Target, edit_file};

use super::runtime;
use super::sso::run_login;
use super::target::Chosen;
use crate::error::{Addresses, auth_error};
use crate::{CliError, Context, Kind, emit};

/// Answers given as flags.
#[derive(Debug, Default, clap::Args)]
pub struct Answers {
    /// SSO session name (empty string: the legacy format without a session)
    #[arg(long, value_name = "NAME")]
    pub sso_session: Option<String>,
    /// The access portal URL, e.g. https://d-1234567890.awsapps.com/start
    #[arg(long, value_name = "URL")]
    pub start_url: Option<String>,
    /// The region of IAM Identity Center (not the region you work in)
    #[arg(long, value_name = "REGION")]
    pub sso_region: Option<String>,
    /// Registration scopes, comma-separated
    #[arg(long, value_name = "SCOPES")]
    pub scopes: Option<String>,
}

/// `configure sso` answers beyond the session.
#[derive(Debug, Default, clap::Args)]
pub struct ProfileAnswers {
    /// Account id to use (else picked from the accounts you can access)
    #[arg(long, value_name = "ID")]
    pub account: Option<String>,
    /// Role name to use (else picked from the account's roles)
    #[arg(long, value_name = "NAME")]
    pub role: Option<String>,
    /// Default region of the profile
    #[arg(long, value_name = "REGION")]
    pub default_region: Option<String>,
    /// Default output format of the profile (json, text, table, yaml, yaml-stream, off)
    #[arg(long, value_name = "FORMAT")]
    pub output: Option<String>,
    /// Name of the profile to write (default: <role>-<account id>)
    #[arg(long, value_name = "NAME")]
    pub profile_name: Option<String>,
    /// Sign in with the device code flow
    #[arg(long)]
    pub use_device_code: bool,
    /// Print the sign-in URL instead of opening a browser
    #[arg(long)]
    pub no_browser: bool,
}

/// Asks in a terminal, never without one.
struct Asker {
    interactive: bool,
}

impl Asker {
    /// A text answer: the flag, else a prompt (Enter takes the default),
    /// else the default; `required` without any → error.
    fn text(
        &self,
        given: Option<String>,
        flag: &str,
        label: &str,
        default: Option<&str>,
        required: bool,
        validate: fn(&str) -> Result<(), String>,
    ) -> Result<Option<String>, CliError> {
        if let Some(v) = given {
            let v = v.trim().to_string();
            if !v.is_empty() || !required {
                validate(&v).map_err(|m| CliError::new(Kind::Usage, format!("{flag}: {m}")))?;
                return Ok(Some(v).filter(|v| !v.is_empty()));
            }
        }
        if !self.interactive {
            return match (default, required) {
                (Some(d), _) => Ok(Some(d.to_string())),
                (None, true) => Err(missing_flag(flag, label)),
                (None, false) => Ok(None),
            };
        }
        loop {
            let shown = default.unwrap_or("None");
            let answer = inquire::Text::new(&format!("{label} [{shown}]:")).prompt().map_err(prompt_error)?;
            let answer = answer.trim();
            let value = if answer.is_empty() { default.map(str::to_string) } else { Some(answer.to_string()) };
            match &value {
                None if required => eprintln_safe("A value is required"),
                Some(v) if validate(v).is_err() => eprintln_safe(&validate(v).err().unwrap_or_default()),
                _ => return Ok(value),
            }
        }
    }

    /// One of `items` (id, label): the flag (checked), the only item, or a
    /// picker with type-to-filter.
    fn pick(
        &self,
        given: Option<String>,
        flag: &str,
        what: &str,
        items: &[(String, String)],
        out: &mut dyn Write,
    ) -> Result<String, CliError> {
        if let Some(v) = given {
            return if items.iter().any(|(id, _)| *id == v) {
                Ok(v)
            } else {
                let ids: Vec<&str> = items.iter().map(|(id, _)| id.as_str()).collect();
                Err(CliError::new(
                    Kind::Usage,
                    format!("{flag} {v}: not one of the {what}s available to you ({})", ids.join(", ")),
                ))
            };
        }
        match items {
            [] => Err(CliError::new(Kind::Service, format!("No {what}s are available to you."))),
            [(id, label)] => {
                emit(out, &format!("The only {what} available to you is: {label}\n"))?;
                Ok(id.clone())
            }
            _ if !self.interactive => Err(missing_flag(flag, &format!("the {what} (there are {})", items.len()))),
            _ => {
                emit(out, &format!("There are {} {what}s available to you.\n", items.len()))?;
                let _ = out.flush();
                let labels: Vec<String> = items.iter().map(|(_, l)| l.clone()).collect();
                let choice = inquire::Select::new(&format!("Pick the {what} (type to filter):"), labels)
                    .with_page_size(10)
                    .raw_prompt()
                    .map_err(prompt_error)?;
                Ok(items[choice.index].0.clone())
            }
        }
    }
}

/// Prompt feedback goes to the terminal (stderr), never to data output.
fn eprintln_safe(msg: &str) {
    let _ = writeln!(std::io::stderr(), "{msg}");
}

fn valid_url(v: &str) -> Result<(), String> {
    let rest = v.strip_prefix("https://").or_else(|| v.strip_prefix("http://")).ok_or("Not a valid Start URL")?;
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    if host.is_empty() || host.contains(char::is_whitespace) { Err("Not a valid Start URL".into()) } else { Ok(()) }
}

fn valid_scopes(v: &str) -> Result<(), String> {
    if v.split(',').any(|s| s.trim().contains(char::is_whitespace)) {
        Err("Scope values must be separated by commas".into())
    } else {
        Ok(())
    }
}

fn valid_output(v: &str) -> Result<(), String> {
    const FORMATS: [&str; 6] = ["json", "text", "table", "yaml", "yaml-stream", "off"];
    if v.is_empty() || FORMATS.contains(&v) { Ok(()) } else { Err(format!("use one of {}", FORMATS.join(", "))) }
}

fn any(_: &str) -> Result<(), String> {
    Ok(())
}

/// The session part of both commands.
struct SessionAnswers {
    /// `None`: the legacy format.
    name: Option<String>,
    start: String,
    region: String,
    /// `sso_registration_scopes` as typed.
    scopes: Option<String>,
    /// Taken from an existing `[sso-session]` section.
    existing: bool,
}

/// Answers from flags, prompts, or an existing session section.
fn session_answers(
    ctx: &Context,
    ask: &Asker,
    a: Answers,
    current: Option<&tobira_config::files::Block>,
    legacy_allowed: bool,
    out: &mut dyn Write,
) -> Result<SessionAnswers, CliError> {
    let current_session = current.and_then(|b| b.text("sso_session")).map(|v| v.value);
    let set = ctx.load_profiles()?;
    let label = if current_session.is_some() || !legacy_allowed {
        "SSO session name"
    } else {
        "SSO session name (Recommended)"
    };
    let name = ask.text(a.sso_session, "--sso-session", label, current_session.as_deref(), !legacy_allowed, any)?;
    if let Some(n) = &name
        && let Some(existing) = set.sso_session(n)
        && legacy_allowed
    {
        // An existing session is used as configured (flows.md §2, step 2).
        let start = existing.text("sso_start_url").map(|v| v.value);
        let region = existing.text("sso_region").map(|v| v.value);
        if let (Some(start), Some(region)) = (start, region) {
            let scopes = existing.text("sso_registration_scopes").map(|v| v.value);
            return Ok(SessionAnswers { name, start, region, scopes, existing: true });
        }
    }
    if name.is_none() {
        emit(
            out,
            "WARNING: Configuring using legacy format (e.g. without an SSO session).\nConsider re-running \"configure sso\" command and providing a session name.\n",
        )?;
    }
    let existing = name.as_deref().and_then(|n| set.sso_session(n));
    // The session's values, else the current profile's own (a legacy SSO
    // profile's start URL and region), as the AWS CLI offers them.
    let cur = |k: &str| existing.and_then(|s| s.text(k)).or_else(|| current.and_then(|b| b.text(k))).map(|v| v.value);
    let start = ask
        .text(a.start_url, "--start-url", "SSO start URL", cur("sso_start_url").as_deref(), true, valid_url)?
        .unwrap_or_default();
    let region = ask
        .text(a.sso_region, "--sso-region", "SSO region", cur("sso_region").as_deref(), true, valid_region)?
        .unwrap_or_default();
    let scopes = match &name {
        Some(_) => ask.text(
            a.scopes,
            "--scopes",
            "SSO registration scopes",
            Some(cur("sso_registration_scopes").as_deref().unwrap_or(tobira_auth::DEFAULT_SCOPE)),
            false,
            valid_scopes,
        )?,
        None => None,
    };
    Ok(SessionAnswers { name, start, region, scopes, existing: false })
}

fn write_session(ctx: &Context, name: &str, start: &str, region: &str, scopes: Option<&str>) -> Result<(), CliError> {
    edit_file(&ctx.paths.config.value, FileKind::Config, |e| {
        let t = Target::SsoSession(name.to_string());
        e.set(&t, "sso_start_url", start)?;
        e.set(&t, "sso_region", region)?;
        if let Some(s) = scopes {
            e.set(&t, "sso_registration_scopes", s)?;
        }
        Ok(())
    })
    .map_err(|e| CliError::new(Kind::ConfigFile, e.to_string()))
}

pub fn sso_session(ctx: &Context, a: Answers, out: &mut dyn Write) -> Result<(), CliError> {
    let ask = Asker { interactive: interactive() };
    let SessionAnswers { name, start, region, scopes, .. } = session_answers(ctx, &ask, a, None, false, out)?;
    let name = name.ok_or_else(|| missing_flag("--sso-session", "the SSO session name"))?;
    write_session(ctx, &name, &start, &region, scopes.as_deref())?;
    emit(
        out,
        &format!(
            "\nCompleted configuring SSO session: {name}\nRun the following to login and refresh access token for this session:\n\ntobira login --sso-session {name}\n"
        ),
    )
}

pub fn sso(
    ctx: &Context,
    profile_flag: Option<String>,
    a: Answers,
    p: ProfileAnswers,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let ask = Asker { interactive: interactive() };
    let set = ctx.load_profiles()?;
    // The current profile (`--profile`, `AWS_PROFILE`, `AWS_DEFAULT_PROFILE`,
    // else `default`) gives the defaults, as in the AWS CLI 2.36: its
    // `sso_session`, `region` and `output` (flows.md §2).
    let (current_name, _) = tobira_config::resolve::select_profile(
        &tobira_config::Flags { profile: profile_flag.clone(), region: None },
        &ctx.env,
    );
    let current = set.profile(&current_name.value);
    let SessionAnswers { name: session, start, region, scopes, existing } =
        session_answers(ctx, &ask, a, current, true, out)?;
    let endpoints =
        tobira_config::resolve::endpoints(&set, &ctx.env, profile_flag.as_deref().and_then(|n| set.profile(n)))?;
    let chosen = Chosen {
        target: SsoTarget {
            session: session.clone(),
            start_url: start.clone(),
            region: region.clone(),
            scopes: scopes
                .as_ref()
                .map(|s| s.split(',').map(str::trim).filter(|x| !x.is_empty()).map(str::to_string).collect()),
            oidc_endpoint: endpoints.sso_oidc.as_ref().map(|e| e.value.clone()),
            portal_endpoint: endpoints.sso.as_ref().map(|e| e.value.clone()),
            net: ctx.net.clone(),
        },
        profile: profile_flag.clone(),
        addresses: Addresses {
            endpoints,
            sso_region_from: Some("the SSO region given to `configure sso`".to_string()),
            region: None,
        },
    };
    // An existing session with a usable token is reused; otherwise sign in.
    let cache = ctx.need_sso_cache()?;
    let reusable = existing
        .then(|| cache.read_token(chosen.target.cache_key()).ok().flatten())
        .flatten()
        .filter(|t| t.freshness(ctx.now) == tobira_cache::Freshness::Valid);
    let mut fresh = reusable.is_none();
    let mut token = match reusable {
        Some(t) => t,
        None => run_login(ctx, &chosen, p.use_device_code, p.no_browser, out)?,
    };
    let rt = runtime()?;
    let (account, role) = loop {
        match pick_account_and_role(&rt, &ask, &chosen, token.access_token.expose(), &p, out) {
            Ok(picked) => break picked,
            Err(Refused::Other(e)) => return Err(e),
            Err(Refused::SignIn(why)) => {
                // The portal refused the sign-in (revoked, or ended): never a
                // profile without account and role; sign in again instead.
                let _ = cache.remove_token(chosen.target.cache_key());
                let login = chosen.target.login_command(None);
                let again = if !fresh {
                    emit(
                        out,
                        &format!("The cached sign-in was refused by the SSO portal ({why}); signing in again.\n"),
                    )?;
                    true
                } else if ask.interactive {
                    inquire::Confirm::new(&format!("The SSO portal refused the new sign-in ({why}). Sign in again?"))
                        .with_default(true)
                        .prompt()
                        .map_err(prompt_error)?
                } else {
                    false
                };
                if !again {
                    return Err(CliError::new(
                        Kind::NeedsLogin,
                        format!("cannot list your AWS accounts and roles: the SSO portal refused the sign-in ({why}); nothing was written"),
                    )
                    .hint(format!("sign in again with `{login}`, then run this command again")));
                }
                token = run_login(ctx, &chosen, p.use_device_code, p.no_browser, out)?;
                fresh = true;
            }
        }
    };
    let cur = |k: &str| current.and_then(|b| b.text(k)).map(|v| v.value);
    let default_region = cur("region");
    let region_answer = ask.text(
        p.default_region,
        "--default-region",
        "Default client Region",
        default_region.as_deref(),
        false,
        valid_region_or_empty,
    )?;
    let output = ask.text(
        p.output,
        "--output",
        "CLI default output format (json if not specified)",
        cur("output").as_deref(),
        false,
        valid_output,
    )?;
    let default_name = Some(format!("{role}-{account}"));
    let profile_name = match profile_flag {
        Some(n) => n,
        None => {
            if let Some(env_profile) = ctx.env.get("AWS_PROFILE") {
                emit(
                    out,
                    &format!(
                        "Note: AWS_PROFILE is set to `{env_profile}`; the AWS CLI would silently write to that profile. tobira asks: answer `{env_profile}` to keep using it by default.\n"
                    ),
                )?;
            }
            ask.text(p.profile_name, "--profile-name", "Profile name", default_name.as_deref(), true, any)?
                .unwrap_or_default()
        }
    };
    edit_file(&ctx.paths.config.value, FileKind::Config, |e| {
        let t = Target::Profile(profile_name.clone());
        match &session {
            Some(s) => e.set(&t, "sso_session", s)?,
            None => {
                e.set(&t, "sso_start_url", &start)?;
                e.set(&t, "sso_region", &region)?;
            }
        }
        e.set(&t, "sso_account_id", &account)?;
        e.set(&t, "sso_role_name", &role)?;
        if let Some(r) = &region_answer {
            e.set(&t, "region", r)?;
        }
        if let Some(o) = &output {
            e.set(&t, "output", o)?;
        }
        if let Some(s) = &session {
            let st = Target::SsoSession(s.clone());
            e.set(&st, "sso_start_url", &start)?;
            e.set(&st, "sso_region", &region)?;
            if let Some(sc) = &scopes {
                e.set(&st, "sso_registration_scopes", sc)?;
            }
        }
        Ok(())
    })
    .map_err(|e| CliError::new(Kind::ConfigFile, e.to_string()))?;
    // The AWS CLI's conclusion, then the same check with tobira.
    let text = if profile_name.eq_ignore_ascii_case("default") {
        "The AWS CLI is now configured to use the default profile.\nRun the following command to verify your configuration:\n\naws sts get-caller-identity\ntobira whoami\n".to_string()
    } else {
        let word = crate::error::shell_word(&profile_name);
        format!(
            "To use this profile, specify the profile name using --profile, as shown:\n\naws sts get-caller-identity --profile {word}\ntobira whoami --profile {word}\n"
        )
    };
    emit(out, &text)
}

/// Why accounts and roles could not be listed.
enum Refused {
    /// The portal refused the sign-in (`UnauthorizedException`), in its words.
    SignIn(String),
    Other(CliError),
}

/// The account and role: from the flags (checked), the only one, or a picker.
fn pick_account_and_role(
    rt: &tokio::runtime::Runtime,
    ask: &Asker,
    chosen: &Chosen,
    access: &str,
    p: &ProfileAnswers,
    out: &mut dyn Write,
) -> Result<(String, String), Refused> {
    let refused = |e: tobira_auth::AuthError| match e {
        tobira_auth::AuthError::Service { code, message, .. } if code == "UnauthorizedException" => {
            Refused::SignIn(if message.is_empty() { code } else { format!("{code}: {message}") })
        }
        e => Refused::Other(auth_error(e, chosen)),
    };
    let accounts = {
        let _spinner = crate::spinner::Spinner::start("Listing your AWS accounts...");
        rt.block_on(tobira_auth::portal::accounts(&chosen.target, access)).map_err(refused)?
    };
    let items: Vec<(String, String)> = accounts
        .iter()
        .map(|a| {
            let label = match (&a.name, &a.email) {
                (Some(n), Some(e)) => format!("{n}, {e} ({})", a.id),
                (Some(n), None) => format!("{n} ({})", a.id),
                (None, Some(e)) => format!("{e} ({})", a.id),
                (None, None) => a.id.clone(),
            };
            (a.id.clone(), label)
        })
        .collect();
    let account = ask.pick(p.account.clone(), "--account", "AWS account", &items, out).map_err(Refused::Other)?;
    emit(out, &format!("Using the account ID {account}\n")).map_err(Refused::Other)?;
    let roles = {
        let _spinner = crate::spinner::Spinner::start(&format!("Listing your roles in account {account}..."));
        rt.block_on(tobira_auth::portal::roles(&chosen.target, access, &account)).map_err(refused)?
    };
    let items: Vec<(String, String)> = roles.iter().map(|r| (r.clone(), r.clone())).collect();
    let role = ask.pick(p.role.clone(), "--role", "role", &items, out).map_err(Refused::Other)?;
    emit(out, &format!("Using the role name \"{role}\"\n")).map_err(Refused::Other)?;
    Ok((account, role))
}

fn valid_region_or_empty(v: &str) -> Result<(), String> {
    if v.is_empty() { Ok(()) } else { valid_region(v) }
}
