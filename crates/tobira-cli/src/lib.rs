//! The `tobira` command. This crate is the edge: the only place that reads
//! the process environment, the terminal and the files' real paths. The
//! libraries below it receive snapshots.

mod commands;
pub(crate) mod error;

use std::ffi::OsString;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use tobira_config::files::Paths;
use tobira_config::{Env, FileKind, LoadError, ProfileSet};

pub use error::{CliError, Kind};

/// Sign in to AWS from a terminal: IAM Identity Center, IAM users with MFA,
/// and role switching, sharing ~/.aws with the AWS CLI.
#[derive(Debug, Parser)]
#[command(name = "tobira", version, propagate_version = true, max_term_width = 100)]
struct Cli {
    #[command(flatten)]
    global: GlobalArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Args)]
struct GlobalArgs {
    /// Profile to use (else $AWS_PROFILE, $AWS_DEFAULT_PROFILE, then `default`)
    #[arg(long, global = true, value_name = "NAME")]
    profile: Option<String>,
    /// Region for AWS calls (else $AWS_REGION, $AWS_DEFAULT_REGION, then the profile's `region`)
    #[arg(long, global = true, value_name = "REGION")]
    region: Option<String>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// List every profile with its kind (sso, sso-legacy, assume-role, static, static+mfa, process, web-identity)
    Profiles {
        /// Print JSON instead of a table
        #[arg(long)]
        json: bool,
    },
    /// Inspect one profile
    Profile {
        #[command(subcommand)]
        command: ProfileCommand,
    },
    /// Print a profile's credentials for a shell or a tool (default: `export` lines for sh/bash/zsh)
    Export {
        #[arg(long, value_enum, default_value = "env")]
        format: commands::creds::Format,
        /// The MFA code, when the profile needs one (else asked on the terminal)
        #[arg(long, value_name = "CODE")]
        mfa_code: Option<String>,
    },
    /// The `credential_process` protocol: put `credential_process = tobira credential-process --profile P` in a profile
    CredentialProcess {
        #[arg(long, value_name = "CODE")]
        mfa_code: Option<String>,
    },
    /// Run a command (or your shell) with a profile's credentials and region in its environment
    Exec {
        #[arg(long, value_name = "CODE")]
        mfa_code: Option<String>,
        /// Allow running inside another `tobira exec`
        #[arg(long)]
        nested: bool,
        /// Give the command a local credential server instead of keys: SDKs fetch credentials from
        /// it (container credentials, 127.0.0.1, a token per run) and it renews them for as long as
        /// the command runs, never asking for anything meanwhile
        #[arg(long)]
        server: bool,
        /// The command and its arguments, after `--` (none: your shell, `$SHELL`, else /bin/sh)
        #[arg(last = true)]
        command: Vec<String>,
    },
    /// Serve a profile's credentials to SDKs on 127.0.0.1 (container credentials) until Ctrl-C, renewing them; prints the two variables to set (for IDEs and containers on this machine)
    ServeCredentials {
        /// The MFA code, when the profile needs one (else asked on the terminal, before serving)
        #[arg(long, value_name = "CODE")]
        mfa_code: Option<String>,
        /// How to print the two variables (the shell they are for)
        #[arg(long, value_enum, default_value = "env")]
        format: commands::server::VarsFormat,
    },
    /// Who the credentials of a profile are (STS GetCallerIdentity), and how long they last
    Whoami {
        #[arg(long, value_name = "CODE")]
        mfa_code: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Set up IAM Identity Center profiles and sessions
    Configure {
        #[command(subcommand)]
        command: ConfigureCommand,
    },
    /// Sign in to IAM Identity Center (PKCE in the browser; device code with --use-device-code, for legacy profiles, or without a browser)
    Login {
        /// The [sso-session] to sign in to (else the profile's)
        #[arg(long, value_name = "NAME")]
        sso_session: Option<String>,
        /// Use the device code flow: a URL and a code to confirm, on any device
        #[arg(long)]
        use_device_code: bool,
        /// Print the URL instead of opening a browser
        #[arg(long)]
        no_browser: bool,
        /// Sign in again even if the cached sign-in is still valid (e.g. after it was revoked)
        #[arg(long)]
        force: bool,
    },
    /// Sign out: end the session on the server, remove its token and the role credentials cached from it
    Logout {
        #[arg(long, value_name = "NAME", conflicts_with = "all")]
        sso_session: Option<String>,
        /// Every cached SSO login and every cached SSO role credential
        #[arg(long)]
        all: bool,
    },
    /// Accounts and roles of an IAM Identity Center login
    Sso {
        #[command(subcommand)]
        command: SsoCommand,
    },
    /// Every SSO session: start URL, token expiry, whether it can refresh, and the command to renew it
    Sessions {
        #[arg(long)]
        json: bool,
    },
    /// Move an IAM user's secret access key between ~/.aws/credentials and the OS keychain
    Keychain {
        #[command(subcommand)]
        command: KeychainCommand,
    },
}

#[derive(Debug, Subcommand)]
enum KeychainCommand {
    /// Move the profile's secret access key from the files into the OS keychain (stored, read back, then removed from the file)
    Import,
    /// Move the profile's secret access key from the OS keychain back into ~/.aws/credentials
    Export,
}

#[derive(Debug, Subcommand)]
enum ConfigureCommand {
    /// Create a profile for an account and role: session, sign-in, account and role pickers, region, output, name
    Sso {
        #[command(flatten)]
        answers: commands::configure::Answers,
        #[command(flatten)]
        profile: commands::configure::ProfileAnswers,
    },
    /// Create or update an [sso-session] section (no sign-in)
    SsoSession {
        #[command(flatten)]
        answers: commands::configure::Answers,
    },
    /// Create or update an IAM user's profile: access key (the secret typed without echo or read from stdin), MFA device, region
    IamUser {
        #[command(flatten)]
        answers: commands::iam::UserAnswers,
    },
    /// Create or update a profile that switches to a role: role ARN, source profile, MFA device, external id, duration, session name
    Role {
        #[command(flatten)]
        answers: commands::iam::RoleAnswers,
    },
}

#[derive(Debug, Subcommand)]
enum SsoCommand {
    /// The accounts you can access
    Accounts {
        #[arg(long, value_name = "NAME")]
        sso_session: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// The roles you can use, in one account or all
    Roles {
        #[arg(long, value_name = "NAME")]
        sso_session: Option<String>,
        /// Only this account (12 digits)
        #[arg(long, value_name = "ID")]
        account: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
enum ProfileCommand {
    /// Show how a profile resolves: the chain of credential steps and where every value comes from
    Show {
        /// Profile name (else --profile, $AWS_PROFILE, $AWS_DEFAULT_PROFILE, `default`)
        name: Option<String>,
        /// Print JSON instead of text
        #[arg(long)]
        json: bool,
    },
}

/// Everything a command may look at, captured once at start-up.
#[derive(Debug)]
pub struct Context {
    pub env: Env,
    /// The clock, read once.
    pub now: jiff::Timestamp,
    pub paths: Paths,
    pub home: Option<PathBuf>,
}

impl Context {
    #[allow(clippy::disallowed_methods)] // the one place that reads the environment and the clock
    pub fn from_process() -> Context {
        let vars: Vec<(String, String)> =
            std::env::vars_os().filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?))).collect();
        // Without HOME, std's home_dir asks the password database (getpwuid_r).
        let account_home = || std::env::home_dir().and_then(|p| p.into_os_string().into_string().ok());
        Context::from_vars(vars, account_home, jiff::Timestamp::now())
    }

    /// A context from these variables. Without `HOME` (or with an empty one),
    /// `~` is the account's home directory from `account_home` (the password
    /// database), as Python's `os.path.expanduser` and so the AWS CLI do; the
    /// snapshot then holds that `HOME`, so every path below agrees.
    pub fn from_vars(
        mut vars: Vec<(String, String)>,
        account_home: impl FnOnce() -> Option<String>,
        now: jiff::Timestamp,
    ) -> Context {
        if !vars.iter().any(|(k, v)| k == "HOME" && !v.is_empty())
            && let Some(home) = account_home().filter(|h| !h.is_empty())
        {
            vars.retain(|(k, _)| k != "HOME");
            vars.push(("HOME".to_string(), home));
        }
        let env = Env::from_pairs(vars);
        let paths = Paths::locate(&env);
        let home = env.get("HOME").map(PathBuf::from);
        Context { env, paths, home, now }
    }

    /// The home directory, or an error saying how to give one.
    pub fn home_dir(&self) -> Result<&Path, CliError> {
        self.home.as_deref().ok_or_else(|| {
            CliError::new(
                Kind::Internal,
                "there is no home directory: HOME is not set and this account has none in the password database",
            )
            .hint("set it, e.g. `export HOME=/path/to/home`; ~/.aws lives there")
        })
    }

    /// `~/.aws/sso/cache` (always under the home directory, as for the AWS CLI).
    pub fn sso_cache(&self) -> Option<tobira_cache::SsoCache> {
        self.home.as_deref().map(tobira_cache::SsoCache::in_home)
    }

    /// [`Context::sso_cache`], or the error saying there is no home directory.
    pub fn need_sso_cache(&self) -> Result<tobira_cache::SsoCache, CliError> {
        Ok(tobira_cache::SsoCache::in_home(self.home_dir()?))
    }

    /// A path as users write it: `~/.aws/config` when under `$HOME`.
    pub fn display_path(&self, path: &Path) -> PathBuf {
        match self.home.as_deref().filter(|h| !h.as_os_str().is_empty()).and_then(|h| path.strip_prefix(h).ok()) {
            Some(rest) => Path::new("~").join(rest),
            None => path.to_path_buf(),
        }
    }

    /// Reads both files; origins and errors name them as users write them.
    pub fn load_profiles(&self) -> Result<ProfileSet, CliError> {
        let read = |path: &Path, kind| match std::fs::read(path) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(CliError::from(LoadError::Io { path: self.display_path(path), kind, source })),
        };
        let config = read(&self.paths.config.value, FileKind::Config)?;
        let credentials = read(&self.paths.credentials.value, FileKind::Credentials)?;
        ProfileSet::from_bytes(
            &self.display_path(&self.paths.config.value),
            config.as_deref(),
            &self.display_path(&self.paths.credentials.value),
            credentials.as_deref(),
        )
        .map_err(|e| CliError::from(LoadError::Parse(e)))
    }
}

/// Entry point used by `main`.
pub fn main() -> ExitCode {
    run(std::env::args_os(), &Context::from_process())
}

/// Parses arguments, runs the command, prints errors; returns the exit code.
pub fn run(args: impl IntoIterator<Item = OsString>, ctx: &Context) -> ExitCode {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { ExitCode::from(Kind::Usage as u8) } else { ExitCode::SUCCESS };
        }
    };
    let mut out = io::stdout().lock();
    let result = match cli.command {
        Command::Profiles { json } => commands::profiles::run(ctx, &cli.global.profile, json, &mut out),
        Command::Profile { command: ProfileCommand::Show { name, json } } => {
            commands::profile_show::run(ctx, name.or(cli.global.profile), cli.global.region, json, &mut out)
        }
        Command::Login { sso_session, use_device_code, no_browser, force } => {
            let sel = commands::sso::Selection { profile: cli.global.profile, sso_session };
            commands::sso::login(ctx, &sel, use_device_code, no_browser, force, &mut out)
        }
        Command::Logout { sso_session, all } => {
            let sel = commands::sso::Selection { profile: cli.global.profile, sso_session };
            commands::sso::logout(ctx, &sel, all, &mut out)
        }
        Command::Sso { command: SsoCommand::Accounts { sso_session, json } } => {
            let sel = commands::sso::Selection { profile: cli.global.profile, sso_session };
            commands::sso::accounts(ctx, &sel, json, &mut out)
        }
        Command::Sso { command: SsoCommand::Roles { sso_session, account, json } } => {
            let sel = commands::sso::Selection { profile: cli.global.profile, sso_session };
            commands::sso::roles(ctx, &sel, account, json, &mut out)
        }
        Command::Sessions { json } => commands::sso::sessions(ctx, json, &mut out),
        Command::Keychain { command: KeychainCommand::Import } => {
            commands::keychain::import(ctx, cli.global.profile, &mut out)
        }
        Command::Keychain { command: KeychainCommand::Export } => {
            commands::keychain::export(ctx, cli.global.profile, &mut out)
        }
        Command::Export { format, mfa_code } => {
            commands::creds::export(ctx, cli.global.profile, format, mfa_code, &mut out)
        }
        Command::CredentialProcess { mfa_code } => {
            // Called by SDKs, not people: errors are one line on stderr.
            return match commands::creds::credential_process(ctx, cli.global.profile, mfa_code, &mut out) {
                Ok(()) => {
                    let _ = out.flush();
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    let _ = io::stderr().write_all(e.render_one_line().as_bytes());
                    e.exit_code()
                }
            };
        }
        Command::Exec { mfa_code, nested, server: true, command } => {
            return match commands::server::exec(ctx, cli.global.profile, mfa_code, nested, &command) {
                Ok(code) => code,
                Err(e) => {
                    let _ = io::stderr().write_all(e.render().as_bytes());
                    e.exit_code()
                }
            };
        }
        Command::Exec { mfa_code, nested, server: false, command } => {
            commands::creds::exec(ctx, cli.global.profile, mfa_code, nested, &command)
        }
        Command::ServeCredentials { mfa_code, format } => {
            commands::server::serve_credentials(ctx, cli.global.profile, mfa_code, format, &mut out)
        }
        Command::Whoami { mfa_code, json } => {
            commands::creds::whoami(ctx, cli.global.profile, mfa_code, json, &mut out)
        }
        Command::Configure { command: ConfigureCommand::Sso { answers, profile } } => {
            commands::configure::sso(ctx, cli.global.profile, answers, profile, &mut out)
        }
        Command::Configure { command: ConfigureCommand::SsoSession { answers } } => {
            commands::configure::sso_session(ctx, answers, &mut out)
        }
        Command::Configure { command: ConfigureCommand::IamUser { answers } } => {
            commands::iam::iam_user(ctx, cli.global.profile, answers, &mut out)
        }
        Command::Configure { command: ConfigureCommand::Role { answers } } => {
            commands::iam::role(ctx, cli.global.profile, answers, &mut out)
        }
    };
    let _ = out.flush();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let _ = io::stderr().write_all(e.render().as_bytes());
            e.exit_code()
        }
    }
}

/// Writing to stdout: a closed pipe (`tobira profiles | head`) is not an error.
pub(crate) fn emit(out: &mut dyn Write, text: &str) -> Result<(), CliError> {
    match out.write_all(text.as_bytes()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(CliError::new(Kind::Internal, format!("cannot write the output: {e}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(vars: &[(&str, &str)], account: Option<&str>) -> Context {
        let vars = vars.iter().map(|(k, v)| ((*k).to_string(), (*v).to_string())).collect();
        Context::from_vars(vars, || account.map(str::to_string), jiff::Timestamp::UNIX_EPOCH)
    }

    #[test]
    fn home_falls_back_to_the_accounts_home_directory() {
        let c = ctx(&[], Some("/home/alice"));
        assert_eq!(c.home.as_deref(), Some(Path::new("/home/alice")));
        assert_eq!(c.paths.config.value, Path::new("/home/alice/.aws/config"));
        assert_eq!(c.paths.credentials.value, Path::new("/home/alice/.aws/credentials"));
        assert_eq!(c.display_path(&c.paths.config.value), Path::new("~/.aws/config"));
        // An empty HOME is no home either.
        assert_eq!(ctx(&[("HOME", "")], Some("/home/alice")).home.as_deref(), Some(Path::new("/home/alice")));
        // HOME, when set, wins.
        assert_eq!(ctx(&[("HOME", "/tmp/h")], Some("/home/alice")).home.as_deref(), Some(Path::new("/tmp/h")));
        // Neither: no home, and a message that says how to give one.
        let none = ctx(&[], None);
        assert_eq!(none.home, None);
        let e = none.home_dir().unwrap_err();
        assert_eq!(
            e.render(),
            "error: there is no home directory: HOME is not set and this account has none in the password database\n\nhint: set it, e.g. `export HOME=/path/to/home`; ~/.aws lives there\n"
        );
    }
}
