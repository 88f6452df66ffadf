//! Long-term secret access keys in the OS keychain (docs/keychain.md).
//!
//! A profile whose secret lives there reads, in `~/.aws/config`:
//!
//! ```text
//! [profile bob]
//! credential_process = tobira credential-process --profile bob
//! tobira_keychain_access_key_id = AKIAIOSFODNN7EXAMPLE
//! ```
//!
//! The AWS CLI and every SDK run the `credential_process` and get the keys
//! from tobira; tobira, resolving the profile itself, recognises its own
//! command for the same profile and takes the keys from the keychain
//! instead of running itself ([`materialize`]): from then on the profile is
//! an IAM user's keys like any other (its `mfa_serial` gives an MFA
//! session, roles are assumed from it).
//!
//! Moving a key between the files and the keychain never loses it: the new
//! place is written and read back first, the old one removed last.

use std::io::Write;
use std::path::Path;

use tobira_config::resolve::{StaticKeys, select_profile};
use tobira_config::{FileKind, Flags, Plan, ProfileSet, Secret, Sourced, Step, Target, edit_file};
use tobira_keychain::KeychainError;

use crate::error::shell_word;
use crate::{CliError, Context, Kind, emit};

/// The config-file key naming the access key whose secret is in the
/// keychain. The AWS tools ignore keys they do not know.
pub const MARKER: &str = "tobira_keychain_access_key_id";

/// How tobira names itself in a `credential_process` line: `tobira` when
/// that is what `PATH` finds, else this program's full path.
fn program(ctx: &Context) -> String {
    let exe = std::env::current_exe().ok();
    let canon = |p: &Path| std::fs::canonicalize(p).ok();
    let name = if cfg!(windows) { "tobira.exe" } else { "tobira" };
    let on_path = ctx
        .env
        .get("PATH")
        .into_iter()
        .flat_map(std::env::split_paths)
        .map(|d| d.join(name))
        .find(|c| c.is_file())
        .and_then(|p| canon(&p));
    match (exe.as_deref().and_then(canon), on_path) {
        (Some(me), Some(found)) if me == found => "tobira".to_string(),
        _ => exe.map_or_else(|| "tobira".to_string(), |e| tobira_config::shlex::quote(&e.to_string_lossy())),
    }
}

/// `tobira credential-process --profile NAME`, as written to the config.
pub(crate) fn credential_process_line(ctx: &Context, profile: &str) -> String {
    format!("{} credential-process --profile {}", program(ctx), tobira_config::shlex::quote(profile))
}

/// Whether `command` is tobira's own `credential-process` for `profile`
/// (which, run for that same profile, could only be the keychain's).
pub(crate) fn is_own(command: &str, profile: &str) -> bool {
    let Some(argv) = tobira_config::shlex::split(command) else { return false };
    let Some((first, rest)) = argv.split_first() else { return false };
    let stem = Path::new(first).file_stem().and_then(|s| s.to_str());
    if stem != Some("tobira") {
        return false;
    }
    let (mut sub, mut named) = (false, None);
    let mut it = rest.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "credential-process" => sub = true,
            "--profile" => named = it.next().cloned(),
            other => match other.strip_prefix("--profile=") {
                Some(p) => named = Some(p.to_string()),
                None => return false,
            },
        }
    }
    sub && named.as_deref() == Some(profile)
}

/// The access key of a profile whose secret is in the keychain: its own
/// `credential_process` and the marker. `None` for any other profile.
pub(crate) fn keychain_key(set: &ProfileSet, profile: &str) -> Option<Sourced<String>> {
    let block = set.profile(profile)?;
    let command = block.text("credential_process")?;
    if !is_own(&command.value, profile) {
        return None;
    }
    block.text(MARKER)
}

/// Replaces every step that is tobira's own `credential_process` for its
/// profile by that profile's keys, the secret read from the keychain.
pub fn materialize(ctx: &Context, set: &ProfileSet, mut plan: Plan) -> Result<Plan, CliError> {
    for step in &mut plan.steps {
        let Step::Process { profile, command } = step else { continue };
        if !is_own(&command.value, profile) {
            continue;
        }
        let Some(block) = set.profile(profile) else { continue };
        let Some(key) = block.text(MARKER) else {
            return Err(CliError::new(
                Kind::InvalidProfile,
                format!(
                    "the credential_process of profile `{profile}` ({}) runs tobira for this same profile, which only works when its secret is in the keychain, and the profile does not name the access key (`{MARKER}`)",
                    command.origin
                ),
            )
            .hint(format!(
                "give the profile its keys again with `tobira configure iam-user --profile {}` (add `--keychain` to keep the secret in the keychain)",
                shell_word(profile)
            )));
        };
        let masked = tobira_config::origin::mask_key_id(&key.value);
        let secret = tobira_keychain::load(&key.value)
            .map_err(|e| {
                keychain_error(
                    ctx,
                    e,
                    &format!("read the secret of access key {masked} of profile `{profile}`"),
                    &format!(
                        "or give the profile its keys in ~/.aws/credentials instead: `tobira configure iam-user --profile {}`",
                        shell_word(profile)
                    ),
                )
            })?
            .ok_or_else(|| {
                CliError::new(
                    Kind::NoCredentials,
                    format!(
                        "the keychain ({}) has no secret for access key {masked} of profile `{profile}` (`{MARKER}` at {}): it was removed, or this is another machine or user",
                        tobira_keychain::store_name(),
                        key.origin
                    ),
                )
                .hint(format!(
                    "store it again with `tobira configure iam-user --profile {} --keychain` (the secret is typed, or read from stdin)",
                    shell_word(profile)
                ))
            })?;
        *step = Step::Static(StaticKeys {
            profile: Some(profile.clone()),
            from_credentials_file: false,
            secret_access_key: Sourced::new(secret, key.origin.clone()),
            access_key_id: key,
            session_token: None,
            expiration: None,
            account_id: block.text("aws_account_id"),
            mfa_serial: block.text("mfa_serial"),
        });
    }
    Ok(plan)
}

/// A keychain failure: what was being done, why it failed, and what to do.
/// `otherwise` says how to do without the keychain in this situation.
pub(crate) fn keychain_error(ctx: &Context, e: KeychainError, doing: &str, otherwise: &str) -> CliError {
    let mut err = CliError::new(Kind::Keychain, format!("cannot {doing}: {e}"));
    match &e {
        KeychainError::Unavailable { .. } => {
            if cfg!(target_os = "linux") && ctx.env.get("DBUS_SESSION_BUS_ADDRESS").is_none() {
                err = err.hint("`DBUS_SESSION_BUS_ADDRESS` is not set: there is no desktop session here (an ssh login, a container); the Secret Service lives in one");
            }
            if cfg!(target_os = "linux") {
                err = err.hint(
                    "run it in a session with a Secret Service (GNOME Keyring or KeePassXC in a desktop session)",
                );
            }
            err = err.hint(otherwise.to_string());
        }
        KeychainError::Refused { .. } => {
            err = err
                .hint("unlock the keychain (log in to the desktop, or unlock it in its app) and run the command again");
            err = err.hint(otherwise.to_string());
        }
        KeychainError::Ambiguous { .. } => {
            err = err.hint(format!(
                "remove the extra items of service `{}` for that key in the keychain's app, then run the command again",
                tobira_keychain::SERVICE
            ));
        }
        KeychainError::NotText { .. } | KeychainError::Failed { .. } => {}
    }
    err
}

fn edit_error(e: tobira_config::EditFileError) -> CliError {
    CliError::new(Kind::ConfigFile, e.to_string())
}

/// The long-term keys a profile keeps in one of the files.
struct FileKeys {
    key_id: String,
    secret: Secret,
    file: FileKind,
}

fn file_keys(set: &ProfileSet, profile: &str) -> Result<Option<FileKeys>, CliError> {
    for (section, file) in
        [(set.credentials_section(profile), FileKind::Credentials), (set.config_profile(profile), FileKind::Config)]
    {
        let Some(section) = section else { continue };
        let (Some(id), Some(secret)) = (section.text("aws_access_key_id"), section.text("aws_secret_access_key"))
        else {
            continue;
        };
        if let Some(token) = section.text("aws_session_token").or_else(|| section.text("aws_security_token")) {
            return Err(CliError::new(
                Kind::InvalidProfile,
                format!(
                    "the keys of profile `{profile}` are temporary (`aws_session_token` at {}); only an IAM user's long-term keys belong in the keychain",
                    token.origin
                ),
            ));
        }
        return Ok(Some(FileKeys { key_id: id.value, secret: Secret::new(secret.value), file }));
    }
    Ok(None)
}

/// The profile a `keychain` command works on (as every command selects one).
fn selected(ctx: &Context, profile: Option<String>) -> String {
    select_profile(&Flags { profile, region: None }, &ctx.env).0.value
}

/// Points the profile at the keychain in the config file: its own
/// `credential_process` and the marker (keys there removed).
pub(crate) fn point_config_at_keychain(ctx: &Context, profile: &str, key_id: &str) -> Result<(), CliError> {
    let line = credential_process_line(ctx, profile);
    edit_file(&ctx.paths.config.value, FileKind::Config, |e| {
        let t = Target::Profile(profile.to_string());
        for k in ["aws_access_key_id", "aws_secret_access_key", "aws_session_token", "aws_security_token"] {
            e.remove_key(&t, k)?;
        }
        e.set(&t, "credential_process", &line)?;
        e.set(&t, MARKER, key_id)
    })
    .map_err(edit_error)
}

/// Removes the keys from the profile's credentials-file section (the whole
/// section when nothing else is left in it).
pub(crate) fn remove_file_keys(ctx: &Context, set: &ProfileSet, profile: &str) -> Result<(), CliError> {
    let keys = ["aws_access_key_id", "aws_secret_access_key", "aws_session_token", "aws_security_token"];
    let Some(section) = set.credentials_section(profile) else { return Ok(()) };
    let rest = section.props.iter().any(|p| !keys.contains(&p.key.as_str()));
    edit_file(&ctx.paths.credentials.value, FileKind::Credentials, |e| {
        let t = Target::Profile(profile.to_string());
        if rest {
            for k in keys {
                e.remove_key(&t, k)?;
            }
        } else {
            e.remove_section(&t);
        }
        Ok(())
    })
    .map_err(edit_error)
}

/// Deletes the keychain item of `key_id` unless a profile (in the files as
/// they are now) still points at it. Returns whether it was deleted.
pub(crate) fn forget_if_unused(ctx: &Context, key_id: &str) -> Result<bool, CliError> {
    let set = ctx.load_profiles()?;
    if set.profiles().iter().any(|p| keychain_key(&set, &p.name).is_some_and(|k| k.value == key_id)) {
        return Ok(false);
    }
    let masked = tobira_config::origin::mask_key_id(key_id);
    tobira_keychain::delete(key_id).map_err(|e| {
        keychain_error(
            ctx,
            e,
            &format!("remove the keychain item of access key {masked}, which no profile uses any more"),
            &format!("or remove the item of service `{}` for that key in the keychain's app", tobira_keychain::SERVICE),
        )
    })
}

/// [`forget_if_unused`], where failing to remove the old copy is only a
/// warning: the files already say where the key is. `Some(removed)`, or
/// `None` after a warning.
pub(crate) fn forget_or_warn(ctx: &Context, key_id: &str) -> Option<bool> {
    match forget_if_unused(ctx, key_id) {
        Ok(removed) => Some(removed),
        Err(e) => {
            let _ = std::io::stderr().write_all(e.render().replacen("error: ", "warning: ", 1).as_bytes());
            None
        }
    }
}

/// Resolves the profile from the files as they are now, with the keychain,
/// and checks it gives exactly these keys.
fn verify(ctx: &Context, profile: &str, key_id: &str, secret: &Secret) -> Result<(), String> {
    let set = ctx.load_profiles().map_err(|e| e.message)?;
    let plan = tobira_config::resolve_profile(&set, &ctx.env, profile, None).map_err(|e| e.to_string())?;
    let plan = materialize(ctx, &set, plan).map_err(|e| e.message)?;
    match plan.steps.first() {
        Some(Step::Static(k)) if k.access_key_id.value == key_id && k.secret_access_key.value == *secret => Ok(()),
        _ => Err(format!(
            "profile `{profile}` does not resolve to access key {}",
            tobira_config::origin::mask_key_id(key_id)
        )),
    }
}

/// `tobira keychain import`: the secret from the files into the keychain.
pub fn import(ctx: &Context, profile: Option<String>, out: &mut dyn Write) -> Result<(), CliError> {
    let name = selected(ctx, profile);
    let set = ctx.load_profiles()?;
    let Some(block) = set.profile(&name) else {
        return Err(CliError::new(Kind::ProfileNotFound, format!("The config profile ({name}) could not be found"))
            .hint("`tobira profiles` lists the profiles; `tobira configure iam-user --keychain` creates one with its secret in the keychain"));
    };
    let store = tobira_keychain::store_name();
    if let Some(key) = keychain_key(&set, &name) {
        let masked = tobira_config::origin::mask_key_id(&key.value);
        return match tobira_keychain::load(&key.value) {
            Ok(Some(_)) => emit(out, &format!("The secret of profile `{name}` (access key {masked}) is already in the keychain ({store}); nothing to do.\n")),
            Ok(None) => Err(CliError::new(Kind::NoCredentials, format!("profile `{name}` points at the keychain for access key {masked}, and the keychain has no secret for it"))
                .hint(format!("store it again with `tobira configure iam-user --profile {} --keychain`", shell_word(&name)))),
            Err(e) => Err(keychain_error(ctx, e, &format!("read the secret of profile `{name}`"), "nothing was changed")),
        };
    }
    for k in ["role_arn", "web_identity_token_file", "sso_account_id", "sso_role_name", "credential_process"] {
        if let Some(v) = block.text(k) {
            return Err(CliError::new(
                Kind::InvalidProfile,
                format!(
                    "profile `{name}` uses `{k}` ({}); only a profile that is an IAM user's keys can keep its secret in the keychain",
                    v.origin
                ),
            ));
        }
    }
    let Some(keys) = file_keys(&set, &name)? else {
        return Err(CliError::new(
            Kind::NoCredentials,
            format!(
                "profile `{name}` has no access key and secret in {} or {} to move",
                shown(ctx, FileKind::Credentials),
                shown(ctx, FileKind::Config)
            ),
        )
        .hint(format!(
            "create it with its secret in the keychain: `tobira configure iam-user --profile {} --keychain`",
            shell_word(&name)
        )));
    };
    let masked = tobira_config::origin::mask_key_id(&keys.key_id);
    // 1. The new place, read back.
    tobira_keychain::store_verified(&keys.key_id, &keys.secret).map_err(|e| {
        keychain_error(
            ctx,
            e,
            &format!("store the secret of profile `{name}` in the keychain"),
            &format!("the key stays in {}, which works as before: nothing was changed", shown(ctx, keys.file)),
        )
    })?;
    // 2. The config points at it (keys in the credentials file still win
    //    until they are removed, so every reader sees working keys).
    point_config_at_keychain(ctx, &name, &keys.key_id)?;
    // 3. The old place, last.
    if keys.file == FileKind::Credentials {
        remove_file_keys(ctx, &set, &name)?;
    }
    verify(ctx, &name, &keys.key_id, &keys.secret).map_err(|why| {
        CliError::new(Kind::Internal, format!("moved the secret of profile `{name}` into the keychain, but the check afterwards failed: {why}"))
            .hint(format!("the secret is safe in the keychain (service `{}`, access key {masked}); `tobira keychain export --profile {}` puts it back into {}", tobira_keychain::SERVICE, shell_word(&name), shown(ctx, FileKind::Credentials)))
    })?;
    emit(
        out,
        &format!(
            "Moved the secret access key of profile `{name}` (access key {masked}) from {} to the keychain ({store}, service `{}`).\nThe AWS CLI and SDKs now get it through `credential_process` in {}; `tobira keychain export --profile {}` moves it back.\n",
            shown(ctx, keys.file),
            tobira_keychain::SERVICE,
            shown(ctx, FileKind::Config),
            shell_word(&name)
        ),
    )
}

/// `tobira keychain export`: the secret from the keychain back into the
/// credentials file.
pub fn export(ctx: &Context, profile: Option<String>, out: &mut dyn Write) -> Result<(), CliError> {
    let name = selected(ctx, profile);
    let set = ctx.load_profiles()?;
    if set.profile(&name).is_none() {
        return Err(CliError::new(Kind::ProfileNotFound, format!("The config profile ({name}) could not be found"))
            .hint("`tobira profiles` lists the profiles"));
    }
    let Some(key) = keychain_key(&set, &name) else {
        return Err(CliError::new(Kind::InvalidProfile, format!("profile `{name}` does not keep its secret in the keychain (it has no `credential_process = tobira credential-process --profile {name}` with `{MARKER}`)"))
            .hint("`tobira profiles` shows how each profile gets its credentials"));
    };
    let masked = tobira_config::origin::mask_key_id(&key.value);
    let secret = tobira_keychain::load(&key.value)
        .map_err(|e| {
            keychain_error(
                ctx,
                e,
                &format!("read the secret of profile `{name}` from the keychain"),
                &format!(
                    "nothing was changed; or give the profile its keys again: `tobira configure iam-user --profile {}`",
                    shell_word(&name)
                ),
            )
        })?
        .ok_or_else(|| {
            CliError::new(Kind::NoCredentials, format!("the keychain has no secret for access key {masked} of profile `{name}`, so there is nothing to move"))
                .hint(format!("give the profile its keys again: `tobira configure iam-user --profile {}`", shell_word(&name)))
        })?;
    // 1. The new place (credentials-file keys win over credential_process
    //    at once), read back.
    super::iam::write_credentials(ctx, &name, &key.value, &secret)?;
    let back = ctx.load_profiles()?;
    let written = back
        .credentials_section(&name)
        .and_then(|s| Some((s.text("aws_access_key_id")?, s.text("aws_secret_access_key")?)));
    if !written.is_some_and(|(id, s)| id.value == key.value && s.value == secret.expose()) {
        return Err(CliError::new(
            Kind::Internal,
            format!(
                "wrote the keys of profile `{name}` to {}, but they do not read back; the keychain item was kept",
                shown(ctx, FileKind::Credentials)
            ),
        ));
    }
    // 2. The config no longer points at the keychain.
    edit_file(&ctx.paths.config.value, FileKind::Config, |e| {
        let t = Target::Profile(name.clone());
        e.remove_key(&t, "credential_process")?;
        e.remove_key(&t, MARKER)?;
        Ok(())
    })
    .map_err(edit_error)?;
    verify(ctx, &name, &key.value, &secret).map_err(|why| {
        CliError::new(Kind::Internal, format!("moved the secret of profile `{name}` to {}, but the check afterwards failed: {why}; the keychain item was kept", shown(ctx, FileKind::Credentials)))
    })?;
    // 3. The old place, last (kept while another profile uses it).
    let kept = match forget_or_warn(ctx, &key.value) {
        Some(false) => " The keychain item stays: another profile still uses it.",
        Some(true) | None => "",
    };
    emit(
        out,
        &format!(
            "Moved the secret access key of profile `{name}` (access key {masked}) from the keychain to {}.{kept}\n",
            shown(ctx, FileKind::Credentials)
        ),
    )
}

fn shown(ctx: &Context, file: FileKind) -> String {
    let path = match file {
        FileKind::Config => &ctx.paths.config.value,
        FileKind::Credentials => &ctx.paths.credentials.value,
    };
    ctx.display_path(path).display().to_string()
}

#[cfg(test)]
mod tests {
    use super::is_own;

    #[test]
    fn only_tobiras_own_credential_process_for_the_same_profile_is_the_keychain() {
        assert!(is_own("tobira credential-process --profile bob", "bob"));
        assert!(is_own("/usr/local/bin/tobira credential-process --profile=bob", "bob"));
        assert!(is_own("tobira --profile 'my bob' credential-process", "my bob"));
        // Another profile's credentials through tobira: a real command to run.
        assert!(!is_own("tobira credential-process --profile dev", "bob"));
        assert!(!is_own("tobira credential-process --profile bob --mfa-code 123456", "bob"));
        assert!(!is_own("tobira export --profile bob", "bob"));
        assert!(!is_own("aws-vault export --format=json bob", "bob"));
        assert!(!is_own("tobira credential-process --profile 'bob", "bob"));
    }
}
