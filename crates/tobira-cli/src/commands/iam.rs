//! `tobira configure iam-user` and `tobira configure role`: IAM users and
//! the roles they switch to, written exactly where and how the AWS CLI reads
//! them (the keys in the credentials file, everything else in the config
//! file, as `aws configure set` writes them), through the config editor.
//!
//! Every answer has a flag. In a terminal the missing ones are asked, the
//! secret access key without echo; without one nothing is asked and a
//! missing answer is an error naming its flag. The secret is never a
//! command-line argument (any user can read the arguments of a running
//! process): it is typed at the terminal or read from standard input.

use super::prompt::{missing_flag, prompt_error, valid_region};
use std::io::{IsTerminal, Read, Write};

use tobira_config::{FileKind, ProfileSet, Secret, Target, edit_file};

use super::keychain;
use crate::{CliError, Context, Kind, emit};

/// `configure iam-user` answers given as flags.
#[derive(Debug, Default, clap::Args)]
pub struct UserAnswers {
    /// Name of the profile to write (else the global --profile; asked when missing)
    #[arg(long, value_name = "NAME")]
    pub profile_name: Option<String>,
    /// The IAM user's access key id (AKIA…)
    #[arg(long, value_name = "ID")]
    pub access_key_id: Option<String>,
    /// Read the secret access key from standard input (one line). It is never an argument: other
    /// users can read the arguments of running processes
    #[arg(long)]
    pub secret_access_key_stdin: bool,
    /// The ARN of the user's MFA device, e.g. arn:aws:iam::123456789012:mfa/alice ('' for none)
    #[arg(long, value_name = "ARN")]
    pub mfa_serial: Option<String>,
    /// Default region of the profile ('' for none)
    #[arg(long, value_name = "REGION")]
    pub default_region: Option<String>,
    /// Default output format of the profile: json, text, table, yaml, yaml-stream, off ('' for none)
    #[arg(long, value_name = "FORMAT")]
    pub output: Option<String>,
    /// Keep the secret access key in the OS keychain instead of ~/.aws/credentials (the profile then
    /// gets its keys through `credential_process = tobira credential-process`)
    #[arg(long)]
    pub keychain: bool,
}

/// `configure role` answers given as flags.
#[derive(Debug, Default, clap::Args)]
pub struct RoleAnswers {
    /// Name of the profile to write (else the global --profile; asked when missing)
    #[arg(long, value_name = "NAME")]
    pub profile_name: Option<String>,
    /// The role to switch to, e.g. arn:aws:iam::123456789012:role/Ops
    #[arg(long, value_name = "ARN")]
    pub role_arn: Option<String>,
    /// The profile whose credentials assume the role (an IAM user, an SSO profile, another role)
    #[arg(long, value_name = "NAME")]
    pub source_profile: Option<String>,
    /// The MFA device the role wants (default: the source profile's `mfa_serial`; '' for none)
    #[arg(long, value_name = "ARN")]
    pub mfa_serial: Option<String>,
    /// The external id the role's trust policy wants ('' for none)
    #[arg(long, value_name = "ID")]
    pub external_id: Option<String>,
    /// How long the role's credentials last, 900 to 43200 seconds ('' for the role's default, 1 hour)
    #[arg(long, value_name = "SECONDS")]
    pub duration_seconds: Option<String>,
    /// The session name CloudTrail shows ('' for one tobira or the SDK picks)
    #[arg(long, value_name = "NAME")]
    pub role_session_name: Option<String>,
    /// Default region of the profile (default: the source profile's; '' for none)
    #[arg(long, value_name = "REGION")]
    pub default_region: Option<String>,
    /// Default output format of the profile ('' for none)
    #[arg(long, value_name = "FORMAT")]
    pub output: Option<String>,
}

/// Asks in a terminal, never without one.
pub(crate) struct Ask {
    pub(crate) interactive: bool,
}

/// Prompt feedback goes to the terminal (stderr), never to data output.
fn say(msg: &str) {
    let _ = writeln!(std::io::stderr(), "{msg}");
}

type Check = fn(&str) -> Result<(), String>;

impl Ask {
    pub(crate) fn new() -> Ask {
        Ask { interactive: std::io::stdin().is_terminal() && std::io::stderr().is_terminal() }
    }

    /// An answer: the flag (`''` means none), else a prompt where Enter
    /// keeps `current`, else (no terminal) `current`. `None`: no value.
    pub(crate) fn text(
        &self,
        given: Option<String>,
        flag: &str,
        label: &str,
        current: Option<&str>,
        required: bool,
        check: Check,
    ) -> Result<Option<String>, CliError> {
        if let Some(v) = given {
            let v = v.trim().to_string();
            if v.is_empty() {
                if required {
                    return Err(CliError::new(Kind::Usage, format!("{flag}: a value is required")));
                }
                return Ok(None);
            }
            check(&v).map_err(|m| CliError::new(Kind::Usage, format!("{flag} {v}: {m}")))?;
            return Ok(Some(v));
        }
        if !self.interactive {
            return match (current, required) {
                (Some(c), _) => Ok(Some(c.to_string())),
                (None, true) => Err(missing_flag(flag, &format!("the answer to `{label}`"))),
                (None, false) => Ok(None),
            };
        }
        loop {
            let shown = current.unwrap_or("None");
            let answer = inquire::Text::new(&format!("{label} [{shown}]:")).prompt().map_err(prompt_error)?;
            let answer = answer.trim();
            let value = if answer.is_empty() { current.map(str::to_string) } else { Some(answer.to_string()) };
            match &value {
                None if required => say("A value is required"),
                Some(v) => match check(v) {
                    Ok(()) => return Ok(value),
                    Err(m) => say(&m),
                },
                None => return Ok(None),
            }
        }
    }

    /// The secret access key: standard input with `--secret-access-key-stdin`,
    /// else typed without echo (Enter keeps the current one, if any), else
    /// an error naming the flag. `None`: keep the current secret.
    fn secret(&self, from_stdin: bool, has_current: bool) -> Result<Option<Secret>, CliError> {
        let typed = |this: &Ask| -> Result<Option<Secret>, CliError> {
            loop {
                let shown = if has_current { "****" } else { "None" };
                let answer = inquire::Password::new(&format!("AWS Secret Access Key [{shown}]:"))
                    .without_confirmation()
                    .with_display_mode(inquire::PasswordDisplayMode::Hidden)
                    .prompt()
                    .map_err(prompt_error)?;
                let answer = answer.trim();
                if answer.is_empty() {
                    if has_current {
                        return Ok(None);
                    }
                    say("A value is required");
                    continue;
                }
                match valid_secret(answer) {
                    Ok(()) => return Ok(Some(Secret::new(answer))),
                    Err(m) if this.interactive => say(&m),
                    Err(m) => return Err(CliError::new(Kind::Usage, m)),
                }
            }
        };
        if from_stdin {
            if std::io::stdin().is_terminal() {
                return typed(self);
            }
            let mut text = String::new();
            std::io::stdin().take(64 * 1024).read_to_string(&mut text).map_err(|e| {
                CliError::new(Kind::Usage, format!("cannot read the secret access key from standard input: {e}"))
            })?;
            let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
            let secret = lines.next().ok_or_else(|| {
                CliError::new(Kind::Usage, "`--secret-access-key-stdin`: standard input is empty").hint(
                    "pipe the secret in, e.g. `tobira configure iam-user … --secret-access-key-stdin < secret.txt`",
                )
            })?;
            if lines.next().is_some() {
                return Err(CliError::new(
                    Kind::Usage,
                    "`--secret-access-key-stdin`: standard input has more than one line; give the secret access key alone",
                ));
            }
            valid_secret(secret).map_err(|m| CliError::new(Kind::Usage, format!("--secret-access-key-stdin: {m}")))?;
            return Ok(Some(Secret::new(secret)));
        }
        if self.interactive {
            return typed(self);
        }
        if has_current {
            return Ok(None);
        }
        Err(missing_flag("--secret-access-key-stdin", "the secret access key").hint(
            "it is read from standard input, never from an argument (other users can read the arguments of running processes): `tobira configure iam-user … --secret-access-key-stdin < secret.txt`",
        ))
    }
}

fn valid_secret(v: &str) -> Result<(), String> {
    if v.len() < 16 || v.len() > 128 || v.chars().any(|c| c.is_whitespace() || c.is_control()) {
        Err("that is not a secret access key (40 characters such as letters, digits, `/` and `+`)".into())
    } else {
        Ok(())
    }
}

pub(crate) fn valid_key_id(v: &str) -> Result<(), String> {
    if v.len() < 16 || v.len() > 128 || !v.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err("not an access key id (16 to 128 letters and digits, such as AKIAIOSFODNN7EXAMPLE)".into());
    }
    if v.starts_with("ASIA") {
        return Err(
            "ASIA… keys are temporary (they come with a session token and expire); give the IAM user's long-term access key (AKIA…)".into(),
        );
    }
    Ok(())
}

pub(crate) fn valid_output(v: &str) -> Result<(), String> {
    const FORMATS: [&str; 6] = ["json", "text", "table", "yaml", "yaml-stream", "off"];
    if FORMATS.contains(&v) { Ok(()) } else { Err(format!("use one of {}", FORMATS.join(", "))) }
}

pub(crate) fn valid_mfa_serial(v: &str) -> Result<(), String> {
    let arn = v.starts_with("arn:");
    let bad = v.chars().any(|c| c.is_whitespace() || c.is_control())
        || v.len() < 9
        || v.len() > 256
        || (arn && !(v.contains(":mfa/") || v.contains(":u2f/") || v.contains(":sms-mfa/")));
    if bad {
        Err("not an MFA device: give its ARN, such as arn:aws:iam::123456789012:mfa/alice (IAM console, Security credentials)".into())
    } else {
        Ok(())
    }
}

fn valid_role_arn(v: &str) -> Result<(), String> {
    let parts: Vec<&str> = v.splitn(6, ':').collect();
    let ok = parts.len() == 6
        && parts[0] == "arn"
        && parts[1].starts_with("aws")
        && parts[2] == "iam"
        && parts[3].is_empty()
        && parts[4].len() == 12
        && parts[4].bytes().all(|b| b.is_ascii_digit())
        && parts[5].strip_prefix("role/").is_some_and(|r| !r.is_empty() && !r.ends_with('/'))
        && !v.contains(char::is_whitespace);
    if ok { Ok(()) } else { Err("not a role ARN such as arn:aws:iam::123456789012:role/Ops".into()) }
}

fn valid_external_id(v: &str) -> Result<(), String> {
    if (2..=1224).contains(&v.len()) && v.chars().all(|c| c.is_ascii_alphanumeric() || "_+=,.@:/-".contains(c)) {
        Ok(())
    } else {
        Err("an external id is 2 to 1224 letters, digits and _+=,.@:/-".into())
    }
}

fn valid_duration(v: &str) -> Result<(), String> {
    match v.parse::<u32>() {
        Ok(n) if (900..=43_200).contains(&n) => Ok(()),
        _ => Err("a whole number of seconds from 900 (15 minutes) to 43200 (12 hours)".into()),
    }
}

fn valid_session_name(v: &str) -> Result<(), String> {
    if (2..=64).contains(&v.len()) && v.chars().all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c)) {
        Ok(())
    } else {
        Err("a session name is 2 to 64 letters, digits and _+=,.@-".into())
    }
}

pub(crate) fn valid_profile_name(v: &str) -> Result<(), String> {
    if v.contains(['[', ']', '\n', '\r']) || v != v.trim() || v.is_empty() {
        Err("a profile name cannot contain `[`, `]` or line breaks, or start or end with spaces".into())
    } else {
        Ok(())
    }
}

fn any(_: &str) -> Result<(), String> {
    Ok(())
}

/// The profile to write: the global `--profile`, else the answer.
fn profile_name(ask: &Ask, profile_flag: Option<String>, given: Option<String>) -> Result<String, CliError> {
    match profile_flag {
        Some(n) => {
            valid_profile_name(&n).map_err(|m| CliError::new(Kind::Usage, format!("--profile {n}: {m}")))?;
            Ok(n)
        }
        None => {
            Ok(ask.text(given, "--profile-name", "Profile name", None, true, valid_profile_name)?.unwrap_or_default())
        }
    }
}

/// Keys that make a profile something else than what is being written
/// (files.md §4: a role, web identity and SSO win over keys).
fn shadowing_keys(set: &ProfileSet, name: &str, keys: &[&str]) -> Option<String> {
    let block = set.profile(name)?;
    let found: Vec<String> =
        keys.iter().filter_map(|k| block.text(k).map(|v| format!("`{k}` at {}", v.origin))).collect();
    (!found.is_empty()).then(|| found.join(", "))
}

fn edit_error(e: tobira_config::EditFileError) -> CliError {
    CliError::new(Kind::ConfigFile, e.to_string())
}

/// The AWS CLI's closing lines (flows.md §2 step 12).
fn how_to_use(name: &str) -> String {
    if name.eq_ignore_ascii_case("default") {
        "The AWS CLI is now configured to use the default profile.\nRun the following command to verify your configuration:\n\naws sts get-caller-identity\n".to_string()
    } else {
        format!(
            "To use this profile, specify the profile name using --profile, as shown:\n\naws sts get-caller-identity --profile {name}\n"
        )
    }
}

/// Sets `key` to `value`, or removes it when there is none.
fn put(
    e: &mut tobira_config::Editor,
    t: &Target,
    key: &str,
    value: Option<&str>,
) -> Result<(), tobira_config::EditError> {
    match value {
        Some(v) => e.set(t, key, v),
        None => e.remove_key(t, key).map(|_| ()),
    }
}

/// `tobira configure iam-user`.
pub fn iam_user(
    ctx: &Context,
    profile_flag: Option<String>,
    a: UserAnswers,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let ask = Ask::new();
    let set = ctx.load_profiles()?;
    let name = profile_name(&ask, profile_flag, a.profile_name)?;
    let shadowing = ["role_arn", "web_identity_token_file", "sso_session", "sso_account_id", "sso_role_name"];
    if let Some(found) = shadowing_keys(&set, &name, &shadowing) {
        return Err(CliError::new(
            Kind::InvalidProfile,
            format!("profile `{name}` already gets its credentials another way ({found}), which the AWS CLI and SDKs take before keys, so keys written there would never be used"),
        )
        .hint(format!("choose another name with `--profile-name`, or remove those lines from profile `{name}` first")));
    }
    // The secret's current place: the credentials file, the config file,
    // or the keychain (tobira's own credential_process for this profile).
    let in_keychain = keychain::keychain_key(&set, &name);
    if a.keychain
        && in_keychain.is_none()
        && let Some(cp) = set.profile(&name).and_then(|b| b.text("credential_process"))
    {
        return Err(CliError::new(
            Kind::InvalidProfile,
            format!(
                "profile `{name}` already has a `credential_process` ({}), which `--keychain` would replace",
                cp.origin
            ),
        )
        .hint(format!("choose another name with `--profile-name`, or remove that line from profile `{name}` first")));
    }
    let creds_section = set.credentials_section(&name);
    let config_section = set.config_profile(&name);
    let current_key = creds_section
        .and_then(|b| b.text("aws_access_key_id"))
        .or_else(|| config_section.and_then(|b| b.text("aws_access_key_id")))
        .or_else(|| in_keychain.clone())
        .map(|v| v.value);
    let current = |k: &str| config_section.and_then(|b| b.text(k)).map(|v| v.value);
    let key_id = ask
        .text(a.access_key_id, "--access-key-id", "AWS Access Key ID", current_key.as_deref(), true, valid_key_id)?
        .unwrap_or_default();
    let same_key = current_key.as_deref() == Some(key_id.as_str());
    let file_secret = same_key
        .then(|| {
            creds_section
                .and_then(|b| b.text("aws_secret_access_key"))
                .or_else(|| config_section.and_then(|b| b.text("aws_secret_access_key")))
        })
        .flatten()
        .map(|v| Secret::new(v.value));
    let keychain_secret = same_key && in_keychain.as_ref().is_some_and(|k| k.value == key_id);
    let new_secret = ask.secret(a.secret_access_key_stdin, file_secret.is_some() || keychain_secret)?;
    let mfa = ask.text(
        a.mfa_serial,
        "--mfa-serial",
        "MFA device ARN",
        current("mfa_serial").as_deref(),
        false,
        valid_mfa_serial,
    )?;
    let region = ask.text(
        a.default_region,
        "--default-region",
        "Default region name",
        current("region").as_deref(),
        false,
        valid_region,
    )?;
    let output =
        ask.text(a.output, "--output", "Default output format", current("output").as_deref(), false, valid_output)?;
    let masked = tobira_config::origin::mask_key_id(&key_id);
    let settings = |e: &mut tobira_config::Editor| {
        let t = Target::Profile(name.clone());
        put(e, &t, "region", region.as_deref())?;
        put(e, &t, "output", output.as_deref())?;
        put(e, &t, "mfa_serial", mfa.as_deref())
    };
    let mut text = if a.keychain {
        // The keychain first, read back; then the config points at it;
        // keys left in the credentials file go last.
        match new_secret.or(file_secret) {
            Some(secret) => tobira_keychain::store_verified(&key_id, &secret).map_err(|e| {
                keychain::keychain_error(
                    ctx,
                    e,
                    &format!("store the secret of profile `{name}` in the keychain"),
                    "or keep the secret in ~/.aws/credentials: run the same command without `--keychain` (nothing was written)",
                )
            })?,
            None => {
                tobira_keychain::load(&key_id)
                    .map_err(|e| {
                        keychain::keychain_error(
                            ctx,
                            e,
                            &format!("read the secret of profile `{name}`"),
                            "or give the secret again (typed, or `--secret-access-key-stdin`); nothing was written",
                        )
                    })?
                    .ok_or_else(|| missing_flag("--secret-access-key-stdin", "the secret access key"))?;
            }
        }
        edit_file(&ctx.paths.config.value, FileKind::Config, settings).map_err(edit_error)?;
        keychain::point_config_at_keychain(ctx, &name, &key_id)?;
        keychain::remove_file_keys(ctx, &set, &name)?;
        format!(
            "Stored the secret access key of profile `{name}` (access key {masked}) in the keychain ({}, service `{}`), and the profile in {}: the AWS CLI and SDKs get the keys through its `credential_process`.\n",
            tobira_keychain::store_name(),
            tobira_keychain::SERVICE,
            ctx.display_path(&ctx.paths.config.value).display(),
        )
    } else {
        let secret = match (new_secret.or(file_secret), keychain_secret) {
            (Some(s), _) => s,
            (None, true) => tobira_keychain::load(&key_id)
                .map_err(|e| {
                    keychain::keychain_error(
                        ctx,
                        e,
                        &format!("read the secret of profile `{name}` from the keychain"),
                        "or give the secret again (typed, or `--secret-access-key-stdin`) to write it to ~/.aws/credentials; nothing was written",
                    )
                })?
                .ok_or_else(|| missing_flag("--secret-access-key-stdin", "the secret access key"))?,
            (None, false) => return Err(missing_flag("--secret-access-key-stdin", "the secret access key")),
        };
        write_credentials(ctx, &name, &key_id, &secret)?;
        edit_file(&ctx.paths.config.value, FileKind::Config, |e| {
            let t = Target::Profile(name.clone());
            // Keys in the config file would be a second, stale copy; the
            // keychain's credential_process is replaced by the file's keys.
            for k in ["aws_access_key_id", "aws_secret_access_key", "aws_session_token", "aws_security_token"] {
                e.remove_key(&t, k)?;
            }
            if in_keychain.is_some() {
                e.remove_key(&t, "credential_process")?;
                e.remove_key(&t, keychain::MARKER)?;
            }
            settings(e)
        })
        .map_err(edit_error)?;
        format!(
            "Wrote access key {masked} of profile `{name}` to {}, and its settings to {}.\n",
            ctx.display_path(&ctx.paths.credentials.value).display(),
            ctx.display_path(&ctx.paths.config.value).display(),
        )
    };
    // A keychain item no profile points at any more (a rotated key, or
    // the secret moved back to the file) is removed, last.
    if let Some(old) = in_keychain
        && (!a.keychain || old.value != key_id)
    {
        keychain::forget_or_warn(ctx, &old.value);
    }
    if let Some(m) = &mfa {
        text.push_str(&format!(
            "With `mfa_serial` ({m}), tobira asks for one code per MFA session (12 hours) for this profile; roles that want the device: `tobira configure role --source-profile {name}`.\n"
        ));
    }
    text.push_str(&how_to_use(&name));
    emit(out, &text)
}

/// Writes the long-term keys to the credentials file (`[NAME]`), as `aws
/// configure set aws_access_key_id … / aws_secret_access_key …` does; a
/// session token left there from temporary keys is removed.
pub(crate) fn write_credentials(ctx: &Context, name: &str, key_id: &str, secret: &Secret) -> Result<(), CliError> {
    edit_file(&ctx.paths.credentials.value, FileKind::Credentials, |e| {
        let t = Target::Profile(name.to_string());
        e.set(&t, "aws_access_key_id", key_id)?;
        e.set(&t, "aws_secret_access_key", secret.expose())?;
        e.remove_key(&t, "aws_session_token")?;
        e.remove_key(&t, "aws_security_token")?;
        Ok(())
    })
    .map_err(edit_error)?;
    warn_if_readable(ctx, &ctx.paths.credentials.value);
    Ok(())
}

/// The AWS CLI's warning (files.md §6.6) for a file with keys that other
/// users may read; tobira creates its files 0600 and keeps a file's mode.
pub(crate) fn warn_if_readable(ctx: &Context, path: &std::path::Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(path)
            && meta.permissions().mode() & 0o077 != 0
        {
            let shown = ctx.display_path(path);
            say(&format!(
                "warning: {} is accessible by other users (mode {:o}); restrict it to your user with `chmod 600 {}`",
                shown.display(),
                meta.permissions().mode() & 0o777,
                shown.display()
            ));
        }
    }
    #[cfg(not(unix))]
    let _ = (ctx, path);
}

/// `tobira configure role`.
pub fn role(ctx: &Context, profile_flag: Option<String>, a: RoleAnswers, out: &mut dyn Write) -> Result<(), CliError> {
    let ask = Ask::new();
    let set = ctx.load_profiles()?;
    let name = profile_name(&ask, profile_flag, a.profile_name)?;
    let own = [
        "aws_access_key_id",
        "aws_secret_access_key",
        "credential_process",
        "web_identity_token_file",
        "sso_session",
        "sso_account_id",
        "sso_role_name",
        "login_session",
    ];
    if let Some(found) = shadowing_keys(&set, &name, &own) {
        return Err(CliError::new(
            Kind::InvalidProfile,
            format!("profile `{name}` has credentials of its own ({found}); a role profile gets them from its source profile"),
        )
        .hint(format!("choose another name with `--profile-name`, or give `{name}` as `--source-profile` of a new profile")));
    }
    let target = set.config_profile(&name);
    let current = |k: &str| target.and_then(|b| b.text(k)).map(|v| v.value);
    let role_arn = ask
        .text(a.role_arn, "--role-arn", "Role ARN", current("role_arn").as_deref(), true, valid_role_arn)?
        .unwrap_or_default();
    let source = source_profile(ctx, &ask, &set, &name, a.source_profile, current("source_profile"))?;
    let source_block = set.profile(&source);
    let from_source = |k: &str| source_block.and_then(|b| b.text(k)).map(|v| v.value);
    let mfa_default = current("mfa_serial").or_else(|| if target.is_some() { None } else { from_source("mfa_serial") });
    let mfa =
        ask.text(a.mfa_serial, "--mfa-serial", "MFA device ARN", mfa_default.as_deref(), false, valid_mfa_serial)?;
    let external_id = ask.text(
        a.external_id,
        "--external-id",
        "External ID",
        current("external_id").as_deref(),
        false,
        valid_external_id,
    )?;
    let duration = ask.text(
        a.duration_seconds,
        "--duration-seconds",
        "Session duration in seconds",
        current("duration_seconds").as_deref(),
        false,
        valid_duration,
    )?;
    let session_name = ask.text(
        a.role_session_name,
        "--role-session-name",
        "Role session name",
        current("role_session_name").as_deref(),
        false,
        valid_session_name,
    )?;
    let region_default = current("region").or_else(|| if target.is_some() { None } else { from_source("region") });
    let region = ask.text(
        a.default_region,
        "--default-region",
        "Default region name",
        region_default.as_deref(),
        false,
        valid_region,
    )?;
    let output =
        ask.text(a.output, "--output", "Default output format", current("output").as_deref(), false, valid_output)?;
    edit_file(&ctx.paths.config.value, FileKind::Config, |e| {
        let t = Target::Profile(name.clone());
        e.set(&t, "role_arn", &role_arn)?;
        e.set(&t, "source_profile", &source)?;
        e.remove_key(&t, "credential_source")?;
        put(e, &t, "mfa_serial", mfa.as_deref())?;
        put(e, &t, "external_id", external_id.as_deref())?;
        put(e, &t, "duration_seconds", duration.as_deref())?;
        put(e, &t, "role_session_name", session_name.as_deref())?;
        put(e, &t, "region", region.as_deref())?;
        put(e, &t, "output", output.as_deref())
    })
    .map_err(edit_error)?;
    let mut text = format!(
        "Wrote profile `{name}` to {}: role {role_arn}, assumed with the credentials of profile `{source}`{}.\n",
        ctx.display_path(&ctx.paths.config.value).display(),
        mfa.as_ref().map(|m| format!(" and a code from {m}")).unwrap_or_default(),
    );
    text.push_str(&how_to_use(&name));
    emit(out, &text)
}

/// The source profile: it must exist, be another profile, and give
/// credentials (checked by resolving it, as the AWS CLI will).
fn source_profile(
    ctx: &Context,
    ask: &Ask,
    set: &ProfileSet,
    name: &str,
    given: Option<String>,
    current: Option<String>,
) -> Result<String, CliError> {
    let source = match (&given, current.as_deref(), ask.interactive) {
        (None, None, true) => {
            let names: Vec<String> = set.profiles().iter().map(|p| p.name.clone()).filter(|n| n != name).collect();
            if names.is_empty() {
                return Err(no_source_profile(name));
            }
            inquire::Select::new("Source profile (whose credentials assume the role; type to filter):", names)
                .with_page_size(10)
                .prompt()
                .map_err(prompt_error)?
        }
        _ => ask.text(given, "--source-profile", "Source profile", current.as_deref(), true, any)?.unwrap_or_default(),
    };
    if source == name {
        return Err(CliError::new(
            Kind::Usage,
            format!("--source-profile {source}: a role profile cannot be its own source"),
        )
        .hint("give the profile of the IAM user (or SSO role) that may assume the role"));
    }
    if set.profile(&source).is_none() {
        let mut err = CliError::new(Kind::ProfileNotFound, format!("the source profile `{source}` does not exist"));
        if let Some(close) = set.close_matches(&source).first() {
            err = err.hint(format!("did you mean `{close}`?"));
        }
        return Err(err.hint(format!(
            "create it first, e.g. `tobira configure iam-user --profile-name {}`",
            crate::error::shell_word(&source)
        )));
    }
    let flags = tobira_config::Flags { profile: Some(source.clone()), region: None };
    match tobira_config::resolve(set, &ctx.env, &flags) {
        Ok(plan) if !plan.steps.is_empty() => Ok(source),
        Ok(_) => Err(CliError::new(
            Kind::InvalidProfile,
            format!("the source profile `{source}` has no credentials, so the role could not be assumed with it"),
        )
        .hint(format!(
            "give it keys with `tobira configure iam-user --profile-name {}`, or choose another source",
            crate::error::shell_word(&source)
        ))),
        Err(e) => Err(CliError::from(e).hint(format!("fix profile `{source}` first, or choose another source"))),
    }
}

fn no_source_profile(name: &str) -> CliError {
    CliError::new(Kind::InvalidProfile, format!("profile `{name}` needs a source profile, and there is none yet"))
        .hint("create the IAM user's profile first: `tobira configure iam-user`")
}
