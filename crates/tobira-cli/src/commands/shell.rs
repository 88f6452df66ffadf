//! `tobira shell-init SHELL` and `tobira switch`: a shell function that makes
//! a profile current in the shell it runs in, and the completions of every
//! command (clap_complete's `COMPLETE=<shell> tobira`, with profile and
//! sso-session names read from the files). docs/shell.md.
//!
//! The shell function only evaluates what `tobira switch` prints: the picker,
//! the checks and the list of recent picks are all here.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use tobira_config::Flags;

use clap_complete::engine::CompletionCandidate;

use crate::{CliError, Context, Kind, emit};

/// The shells `shell-init` and `switch` write for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
    Powershell,
}

impl Shell {
    fn name(self) -> &'static str {
        match self {
            Shell::Bash => "bash",
            Shell::Zsh => "zsh",
            Shell::Fish => "fish",
            Shell::Powershell => "powershell",
        }
    }

    /// A literal string in this shell's syntax.
    fn quote(self, s: &str) -> String {
        match self {
            Shell::Bash | Shell::Zsh => format!("'{}'", s.replace('\'', r"'\''")),
            Shell::Fish => format!("'{}'", s.replace('\\', r"\\").replace('\'', r"\'")),
            Shell::Powershell => format!("'{}'", s.replace('\'', "''")),
        }
    }

    fn set(self, name: &str, value: &str) -> String {
        let v = self.quote(value);
        match self {
            Shell::Bash | Shell::Zsh => format!("export {name}={v}\n"),
            Shell::Fish => format!("set -gx {name} {v}\n"),
            Shell::Powershell => format!("$Env:{name} = {v}\n"),
        }
    }

    fn unset(self, name: &str) -> String {
        match self {
            Shell::Bash | Shell::Zsh => format!("unset {name}\n"),
            Shell::Fish => format!("set -e {name}\n"),
            Shell::Powershell => format!("Remove-Item Env:{name} -ErrorAction SilentlyContinue\n"),
        }
    }
}

/// The default name of the shell function.
pub const DEFAULT_FUNCTION: &str = "tsw";

/// `tobira shell-init SHELL [--name F]`: the function, then the completions.
pub fn init(shell: Shell, function: &str, out: &mut dyn Write) -> Result<(), CliError> {
    if function.is_empty() || !function.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
        return Err(CliError::new(
            Kind::Usage,
            format!("--name {function:?}: a shell function's name is letters, digits, `_` and `-`"),
        )
        .hint(format!("e.g. `tobira shell-init {} --name awsp`", shell.name())));
    }
    let exe = self_path()?;
    let bin = shell.quote(&exe);
    let mut text = match shell {
        Shell::Bash | Shell::Zsh => format!(
            "# tobira: `{function} [PROFILE]` makes an AWS profile current in this shell (docs/shell.md)\n\
             {function}() {{\n  local __tobira_lines\n  __tobira_lines=\"$({bin} switch --shell {sh} \"$@\")\" || return\n  eval \"$__tobira_lines\"\n}}\n{names}",
            sh = shell.name(),
            names = if shell == Shell::Bash {
                format!(
                    "_tobira_{id}() {{\n  local IFS=$'\\n'\n  COMPREPLY=($(compgen -W \"$({bin} switch --names 2>/dev/null)\" -- \"${{COMP_WORDS[COMP_CWORD]}}\"))\n}}\n\
                     complete -F _tobira_{id} {function}\n",
                    id = function.replace('-', "_")
                )
            } else {
                format!(
                    "_tobira_{id}() {{\n  local -a names\n  names=(${{(f)\"$({bin} switch --names 2>/dev/null)\"}})\n  compadd -a names\n}}\n\
                     (( $+functions[compdef] )) && compdef _tobira_{id} {function}\n",
                    id = function.replace('-', "_")
                )
            }
        ),
        Shell::Fish => format!(
            "# tobira: `{function} [PROFILE]` makes an AWS profile current in this shell (docs/shell.md)\n\
             function {function} --description 'Make an AWS profile current in this shell (tobira)'\n    \
             set -l __tobira_lines ({bin} switch --shell fish $argv); or return $status\n    \
             printf '%s\\n' $__tobira_lines | source\nend\n\
             function __tobira_{id}_names\n    {bin} switch --names 2>/dev/null\nend\n\
             complete -c {function} -f -a '(__tobira_{id}_names)'\n",
            id = function.replace('-', "_")
        ),
        Shell::Powershell => format!(
            "# tobira: `{function} [PROFILE]` makes an AWS profile current in this shell (docs/shell.md)\n\
             function {function} {{\n    $__tobira_lines = & {bin} switch --shell powershell @args\n    \
             if ($LASTEXITCODE -ne 0) {{ return }}\n    Invoke-Expression ($__tobira_lines -join \"`n\")\n}}\n\
             Register-ArgumentCompleter -CommandName {function} -ScriptBlock {{\n    param($commandName, $parameterName, $wordToComplete)\n    \
             & {bin} switch --names 2>$null | Where-Object {{ $_ -like \"$wordToComplete*\" }} | ForEach-Object {{\n        \
             [System.Management.Automation.CompletionResult]::new($_, $_, 'ParameterValue', $_)\n    }}\n}}\n"
        ),
    };
    let mut completions = Vec::new();
    let completer: &dyn clap_complete::env::EnvCompleter = match shell {
        Shell::Bash => &clap_complete::env::Bash,
        Shell::Zsh => &clap_complete::env::Zsh,
        Shell::Fish => &clap_complete::env::Fish,
        Shell::Powershell => &clap_complete::env::Powershell,
    };
    completer
        .write_registration("COMPLETE", "tobira", "tobira", &exe, &mut completions)
        .map_err(|e| CliError::new(Kind::Internal, format!("cannot write the completions: {e}")))?;
    text.push_str("# tobira: completions for every command, profile and sso-session names included\n");
    text.push_str(&String::from_utf8_lossy(&completions));
    if !text.ends_with('\n') {
        text.push('\n');
    }
    emit(out, &text)
}

/// This program's own path, so the function and the completions call the
/// binary that printed them.
fn self_path() -> Result<String, CliError> {
    let exe = std::env::current_exe().map_err(|e| {
        CliError::new(Kind::Internal, format!("cannot find the path of this tobira program: {e}"))
            .hint("run it by its full path, e.g. `eval \"$(/usr/local/bin/tobira shell-init bash)\"`")
    })?;
    exe.into_os_string().into_string().map_err(|p| {
        CliError::new(
            Kind::Internal,
            format!("the path of this tobira program is not UTF-8: {}", Path::new(&p).display()),
        )
        .hint("install tobira in a directory whose path is UTF-8")
    })
}

/// Options of `tobira switch`.
pub struct SwitchArgs {
    pub profile: Option<String>,
    pub shell: Shell,
    pub credentials: bool,
    pub mfa_code: Option<String>,
    /// Only list the profile names (for the function's completion).
    pub names: bool,
}

/// The variables that would override the profile, removed when switching.
const KEYS: [&str; 3] = ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"];

/// `tobira switch`: the lines that make a profile current, for the function to eval.
pub fn switch(ctx: &Context, args: SwitchArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let set = ctx.load_profiles()?;
    let names: Vec<String> = set.profiles().iter().map(|p| p.name.clone()).collect();
    if args.names {
        // For the function's completion: recent picks first, then the rest.
        let recent = recent_file(ctx).as_deref().map(read_recent).unwrap_or_default();
        return emit(out, &ordered(&names, &recent).iter().map(|n| format!("{n}\n")).collect::<String>());
    }
    if names.is_empty() {
        return Err(CliError::new(
            Kind::ProfileNotFound,
            format!(
                "there are no profiles to switch to in {} or {}",
                ctx.display_path(&ctx.paths.config.value).display(),
                ctx.display_path(&ctx.paths.credentials.value).display()
            ),
        )
        .hint("create one with `tobira configure sso`, or a profile per role with `tobira configure populate`"));
    }
    let recent_path = recent_file(ctx);
    let recent = recent_path.as_deref().map(read_recent).unwrap_or_default();
    let name = match args.profile {
        Some(name) => name,
        None => pick(&set, &names, &recent)?,
    };
    let Some(profile) = set.profile(&name) else {
        let mut err = CliError::new(Kind::ProfileNotFound, format!("the profile `{name}` does not exist"));
        match set.close_matches(&name).first() {
            Some(close) => err = err.hint(format!("did you mean `{close}`?")),
            None => err = err.hint("run it without a name to pick one, or list them with `tobira profiles`"),
        }
        return Err(err);
    };
    let region = profile.text("region").map(|r| r.value);
    let sh = args.shell;
    let mut text = sh.set("AWS_PROFILE", &name);
    match &region {
        Some(r) => {
            text.push_str(&sh.set("AWS_REGION", r));
            text.push_str(&sh.set("AWS_DEFAULT_REGION", r));
        }
        None => {
            text.push_str(&sh.unset("AWS_REGION"));
            text.push_str(&sh.unset("AWS_DEFAULT_REGION"));
        }
    }
    let expiration = if args.credentials {
        let (_, c) =
            super::creds::credentials(ctx, Flags { profile: Some(name.clone()), region: None }, args.mfa_code)?;
        text.push_str(&sh.set("AWS_ACCESS_KEY_ID", &c.access_key_id));
        text.push_str(&sh.set("AWS_SECRET_ACCESS_KEY", c.secret_access_key.expose()));
        match &c.session_token {
            Some(t) => text.push_str(&sh.set("AWS_SESSION_TOKEN", t.expose())),
            None => text.push_str(&sh.unset("AWS_SESSION_TOKEN")),
        }
        c.expiration
    } else {
        // Keys in the environment win over AWS_PROFILE: a switch removes them.
        for k in KEYS {
            text.push_str(&sh.unset(k));
        }
        // Known without a network call when the credentials are cached.
        super::creds::cache_hit(ctx, &Flags { profile: Some(name.clone()), region: None })
            .and_then(|(_, c)| c.expiration)
    };
    match expiration {
        Some(e) => text.push_str(&sh.set("AWS_CREDENTIAL_EXPIRATION", &tobira_auth::creds::iso(e))),
        None => text.push_str(&sh.unset("AWS_CREDENTIAL_EXPIRATION")),
    }
    if let Some(path) = &recent_path {
        remember(path, &recent, &name);
    }
    emit(out, &text)?;
    let region_note = region.map(|r| format!(" (region {r})")).unwrap_or_default();
    let keys_note = if args.credentials { ", with its credentials in the environment" } else { "" };
    let _ = writeln!(std::io::stderr(), "AWS_PROFILE={name}{region_note}{keys_note}");
    Ok(())
}

/// A line of the picker: the name, then the region and kind to tell them apart.
struct Item {
    name: String,
    label: String,
}

impl std::fmt::Display for Item {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.label)
    }
}

/// The type-to-filter picker on the terminal (stderr and /dev/tty: the
/// function captures stdout), recent picks first.
fn pick(set: &tobira_config::ProfileSet, names: &[String], recent: &[String]) -> Result<String, CliError> {
    if !std::io::stderr().is_terminal() || !std::io::stdin().is_terminal() {
        return Err(CliError::new(Kind::Usage, "no profile given, and no terminal to pick one on").hint(
            "give the profile's name, e.g. `tobira switch dev --shell bash`, or run the shell function at a terminal",
        ));
    }
    let order = ordered(names, recent);
    let width = order.iter().map(|n| n.chars().count()).max().unwrap_or(0).min(48);
    let items: Vec<Item> = order
        .into_iter()
        .filter_map(|n| set.profile(n).map(|p| (n, p)))
        .map(|(n, p)| {
            let kind = tobira_config::resolve::profile_kind(set, p);
            let region = p.text("region").map(|r| r.value).unwrap_or_default();
            let label = format!("{n:<width$}  {kind:<12} {region}");
            Item { name: n.to_string(), label: label.trim_end().to_string() }
        })
        .collect();
    let answer = inquire::Select::new("AWS profile (type to filter, Enter to switch, Esc to cancel):", items)
        .with_page_size(12)
        .prompt()
        .map_err(|e| match e {
            inquire::InquireError::OperationCanceled | inquire::InquireError::OperationInterrupted => {
                CliError::new(Kind::Interrupted, "cancelled: the shell's profile is unchanged")
            }
            other => CliError::new(Kind::Internal, format!("the profile picker failed: {other}"))
                .hint("give the profile's name instead, e.g. `tsw dev`"),
        })?;
    Ok(answer.name)
}

/// The profile names, the recent picks that still exist first.
fn ordered<'a>(names: &'a [String], recent: &'a [String]) -> Vec<&'a str> {
    let known: std::collections::HashSet<&str> = names.iter().map(String::as_str).collect();
    let mut order: Vec<&str> = recent.iter().map(String::as_str).filter(|n| known.contains(n)).collect();
    let first: std::collections::HashSet<&str> = order.iter().copied().collect();
    order.extend(names.iter().map(String::as_str).filter(|n| !first.contains(n)));
    order
}

/// How many recent picks are kept.
const RECENT: usize = 50;

/// `~/.aws/tobira/recent-profiles`: one name a line, the newest first.
fn recent_file(ctx: &Context) -> Option<PathBuf> {
    ctx.home.as_deref().map(|h| h.join(".aws").join("tobira").join("recent-profiles"))
}

fn read_recent(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .map(|t| t.lines().filter(|l| !l.is_empty()).map(str::to_string).collect())
        .unwrap_or_default()
}

/// Puts `name` first. Failing to remember is not worth failing the switch
/// for: it is traced, and the next pick is simply not reordered.
fn remember(path: &Path, recent: &[String], name: &str) {
    let mut list = vec![name.to_string()];
    list.extend(recent.iter().filter(|n| *n != name).take(RECENT - 1).cloned());
    let text: String = list.iter().map(|n| format!("{n}\n")).collect();
    let result = path
        .parent()
        .map_or(Ok(()), tobira_fs::create_private_dir)
        .and_then(|()| tobira_fs::write_atomic(path, text.as_bytes(), 0o600));
    if let Err(e) = result {
        tracing::debug!(path = %path.display(), error = %e, "could not remember the recent profile");
    }
}

/// Completion candidates: every profile name in both files.
pub fn profile_candidates() -> Vec<CompletionCandidate> {
    let ctx = Context::from_process();
    let Ok(set) = ctx.load_profiles() else { return Vec::new() };
    set.profiles().iter().map(|p| CompletionCandidate::new(p.name.clone())).collect()
}

/// Completion candidates: every `[sso-session]` name.
pub fn sso_session_candidates() -> Vec<CompletionCandidate> {
    let ctx = Context::from_process();
    let Ok(set) = ctx.load_profiles() else { return Vec::new() };
    set.sso_sessions().map(|s| CompletionCandidate::new(s.name.clone())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_keeps_every_character_literal() {
        assert_eq!(Shell::Bash.quote("it's"), r"'it'\''s'");
        assert_eq!(Shell::Fish.quote(r"a\b'c"), r"'a\\b\'c'");
        assert_eq!(Shell::Powershell.quote("it's"), "'it''s'");
        assert_eq!(Shell::Zsh.set("AWS_PROFILE", "dev"), "export AWS_PROFILE='dev'\n");
        assert_eq!(Shell::Fish.unset("AWS_REGION"), "set -e AWS_REGION\n");
    }

    #[test]
    fn the_newest_pick_comes_first_and_the_list_is_bounded() {
        let dir = std::env::temp_dir().join(format!("tobira-recent-{}", std::process::id()));
        let path = dir.join("recent-profiles");
        let old: Vec<String> = (0..RECENT + 5).map(|i| format!("p{i}")).collect();
        remember(&path, &old, "p3");
        let now = read_recent(&path);
        assert_eq!(now.len(), RECENT);
        assert_eq!(&now[..3], ["p3", "p0", "p1"]);
        assert_eq!(now.iter().filter(|n| *n == "p3").count(), 1);
        let _ = std::fs::remove_dir_all(dir);
    }
}
