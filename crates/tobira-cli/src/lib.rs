//! The `tobira` command. This crate is the edge: the only place that reads
//! the process environment, the terminal and the files' real paths. The
//! libraries below it receive snapshots.

mod commands;
mod debug;
pub(crate) mod error;
mod progress;
mod quick_args;
mod spinner;

use std::ffi::OsString;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use clap_complete::engine::ArgValueCandidates;
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
    #[arg(long, global = true, value_name = "NAME", add = ArgValueCandidates::new(commands::shell::profile_candidates))]
    profile: Option<String>,
    /// Region for AWS calls (else $AWS_REGION, $AWS_DEFAULT_REGION, then the profile's `region`)
    #[arg(long, global = true, value_name = "REGION")]
    region: Option<String>,
    /// Trace what tobira resolves, reads, calls and caches on stderr, secrets redacted (also: TOBIRA_DEBUG=1)
    #[arg(long, global = true)]
    debug: bool,
    /// Seconds to wait for a connection to an AWS endpoint (or its proxy) before giving up; 0: no limit (default 60, as the AWS CLI)
    #[arg(long, global = true, value_name = "SECONDS")]
    cli_connect_timeout: Option<u64>,
    /// Seconds to wait for an AWS endpoint's answer once a request is sent; 0: no limit (default 60, as the AWS CLI)
    #[arg(long, global = true, value_name = "SECONDS")]
    cli_read_timeout: Option<u64>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Print a shell function that makes a profile current in this shell (`tsw [PROFILE]`: a picker without a name), and completions for every command
    #[command(
        after_help = "Examples, in ~/.bashrc, ~/.zshrc, config.fish or $PROFILE:\n  eval \"$(tobira shell-init bash)\"\n  eval \"$(tobira shell-init zsh)\"\n  tobira shell-init fish | source\n  tobira shell-init powershell | Out-String | Invoke-Expression\nThen: `tsw` (pick), `tsw dev`, `tsw dev --credentials` (keys too)"
    )]
    ShellInit {
        /// The shell to write for
        #[arg(value_enum)]
        shell: commands::shell::Shell,
        /// The function's name
        #[arg(long, value_name = "FUNCTION", default_value = commands::shell::DEFAULT_FUNCTION)]
        name: String,
    },
    /// Print the lines that make a profile current in a shell (what the `shell-init` function evaluates)
    #[command(
        hide = true,
        after_help = "Examples (the shell-init function runs these):\n  eval \"$(tobira switch dev --shell bash)\"\n  eval \"$(tobira switch --shell zsh)\"      (pick on the terminal)"
    )]
    Switch {
        /// The profile (none: pick one on the terminal, recently used first)
        #[arg(add = ArgValueCandidates::new(commands::shell::profile_candidates))]
        name: Option<String>,
        /// The shell the lines are for
        #[arg(long, value_enum, default_value = "bash")]
        shell: commands::shell::Shell,
        /// Also put the profile's credentials (keys) in the environment, for tools that cannot read profiles
        #[arg(long)]
        credentials: bool,
        /// The MFA code, with --credentials, when the profile needs one (else asked on the terminal)
        #[arg(long, value_name = "CODE", requires = "credentials")]
        mfa_code: Option<String>,
        /// Only print the profile names, one a line, recent picks first (the function's completion)
        #[arg(long, conflicts_with_all = ["name", "credentials"])]
        names: bool,
    },
    /// List every profile with its kind (sso, sso-legacy, assume-role, static, static+mfa, process, web-identity, login)
    #[command(after_help = "Examples:\n  tobira profiles\n  tobira profiles --json | jq -r '.[].name'")]
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
    #[command(
        after_help = "Examples:\n  eval \"$(tobira export --profile dev)\"\n  tobira export --profile dev --format fish | source\n  tobira export --profile dev --format credentials-file"
    )]
    Export {
        /// The form to print: shell lines, the credential_process JSON, or a [profile] in ~/.aws/credentials
        #[arg(long, value_enum, default_value = "env")]
        format: commands::creds::Format,
        /// The MFA code, when the profile needs one (else asked on the terminal)
        #[arg(long, value_name = "CODE")]
        mfa_code: Option<String>,
    },
    /// The `credential_process` protocol: put `credential_process = tobira credential-process --profile P` in a profile
    #[command(
        after_help = "Example, in ~/.aws/config:\n  [profile dev-for-old-tools]\n  credential_process = tobira credential-process --profile dev"
    )]
    CredentialProcess {
        /// The MFA code, when the profile needs one (else asked on the terminal)
        #[arg(long, value_name = "CODE")]
        mfa_code: Option<String>,
        /// With --account-id and --role-name: that role of this sso-session, without a profile
        /// (the form `tobira configure populate --form credential-process` writes)
        #[arg(long, value_name = "NAME", add = ArgValueCandidates::new(commands::shell::sso_session_candidates), requires_all = ["account_id", "role_name"], conflicts_with = "mfa_code")]
        sso_session: Option<String>,
        /// The account of the role (with --sso-session)
        #[arg(long, value_name = "ID", requires = "sso_session")]
        account_id: Option<String>,
        /// The role (permission set) name (with --sso-session)
        #[arg(long, value_name = "NAME", requires = "sso_session")]
        role_name: Option<String>,
    },
    /// Run a command (or your shell) with a profile's credentials and region in its environment
    #[command(
        after_help = "Examples:\n  tobira exec --profile dev -- aws s3 ls\n  tobira exec --profile dev                 (your shell, with the profile)\n  tobira exec --server --profile dev -- terraform apply"
    )]
    Exec {
        /// The MFA code, when the profile needs one (else asked on the terminal)
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
    #[command(
        after_help = "Example:\n  tobira serve-credentials --profile dev     (then set the two printed variables in the IDE)"
    )]
    ServeCredentials {
        /// The MFA code, when the profile needs one (else asked on the terminal, before serving)
        #[arg(long, value_name = "CODE")]
        mfa_code: Option<String>,
        /// How to print the two variables (the shell they are for)
        #[arg(long, value_enum, default_value = "env")]
        format: commands::server::VarsFormat,
    },
    /// Who the credentials of a profile are (STS GetCallerIdentity), and how long they last
    #[command(after_help = "Examples:\n  tobira whoami --profile dev\n  tobira whoami --json")]
    Whoami {
        /// The MFA code, when the profile needs one (else asked on the terminal)
        #[arg(long, value_name = "CODE")]
        mfa_code: Option<String>,
        /// Print JSON instead of text
        #[arg(long)]
        json: bool,
    },
    /// Open the AWS Management Console as the profile's role session, or as a federated user for an IAM user's keys (STS GetFederationToken); a sign-in URL from the Sign-In federation endpoint, which AWS_ENDPOINT_URL_SIGNIN moves
    #[command(
        after_help = "Examples:\n  tobira console --profile dev\n  tobira console --profile dev --service s3 --region eu-west-1\n  tobira console --profile dev --session-duration 28800   (an 8-hour console session)\n  tobira console --profile ci   (IAM user keys: a federated user named after the IAM user)\n  tobira console --profile dev --print   (the URL signs in once within 15 minutes: keep it private)"
    )]
    Console {
        /// The console service to land on, as in its address (s3, ec2, iam); else the console home
        #[arg(long, value_name = "SERVICE")]
        service: Option<String>,
        /// Print the sign-in URL instead of opening a browser
        #[arg(long)]
        print: bool,
        /// The console session's length in seconds: 900-43200 for a role session (sent as SessionDuration; else AWS's default, one hour), 900-129600 for an IAM user's keys (GetFederationToken's DurationSeconds; default 3600)
        #[arg(long, value_name = "SECONDS")]
        session_duration: Option<String>,
        /// The MFA code, when the profile needs one (else asked on the terminal)
        #[arg(long, value_name = "CODE")]
        mfa_code: Option<String>,
    },
    /// Set up IAM Identity Center profiles and sessions
    Configure {
        #[command(subcommand)]
        command: ConfigureCommand,
    },
    /// Sign in: IAM Identity Center (PKCE in the browser; device code with --use-device-code, for legacy profiles, or without a browser), or with your AWS console credentials for a `login_session` profile (--console creates one, as `aws login` does)
    #[command(
        after_help = "Examples:\n  tobira login --sso-session corp\n  tobira login --profile dev --use-device-code\n  tobira login --console --profile console --region eu-west-1\n  tobira login --remote --profile console   (no browser on this machine)"
    )]
    Login {
        /// The [sso-session] to sign in to (else the profile's)
        #[arg(long, value_name = "NAME", add = ArgValueCandidates::new(commands::shell::sso_session_candidates))]
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
        /// Sign in with your AWS console credentials (root or IAM user), as `aws login` does: sets `login_session` in the profile (created if needed)
        #[arg(long, conflicts_with_all = ["sso_session", "use_device_code"])]
        console: bool,
        /// A console sign-in from another device: prints the URL and reads the code the browser shows (implies --console)
        #[arg(long, conflicts_with_all = ["sso_session", "use_device_code"])]
        remote: bool,
    },
    /// Sign out: end the SSO session on the server, remove its token and the role credentials cached from it; for a `login_session` profile, remove its cached console sign-in
    #[command(after_help = "Examples:\n  tobira logout --sso-session corp\n  tobira logout --all")]
    Logout {
        /// The [sso-session] to sign out of (else the profile's)
        #[arg(long, value_name = "NAME", add = ArgValueCandidates::new(commands::shell::sso_session_candidates), conflicts_with = "all")]
        sso_session: Option<String>,
        /// Every cached SSO login, SSO role credential and console sign-in
        #[arg(long)]
        all: bool,
    },
    /// Accounts and roles of an IAM Identity Center login
    Sso {
        #[command(subcommand)]
        command: SsoCommand,
    },
    /// Check the files, the environment, the caches, the clock and the endpoints; name every problem and its fix
    ///
    /// Exit code 0: nothing to fix; 10: warnings; 11: errors (something fails now).
    #[command(
        after_help = "Examples:\n  tobira doctor\n  tobira doctor --profile dev --json\n  tobira doctor --offline"
    )]
    Doctor {
        /// Print JSON instead of text
        #[arg(long)]
        json: bool,
        /// Skip the checks that ask AWS (revoked sign-ins, refused credentials, the clock)
        #[arg(long)]
        offline: bool,
    },
    /// Every cached sign-in and credential with its time left: SSO and console sign-ins, SSO role credentials, assumed roles, MFA sessions
    #[command(
        after_help = "Examples:\n  tobira sessions\n  tobira sessions --check     (also asks AWS whether each is still alive; revoked ones show as `revoked`)"
    )]
    Sessions {
        /// Print JSON instead of text
        #[arg(long)]
        json: bool,
        /// Ask the services whether each sign-in and cached credential is still accepted
        #[arg(long)]
        check: bool,
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
    #[command(after_help = "Example:\n  tobira keychain import --profile ci")]
    Import,
    /// Move the profile's secret access key from the OS keychain back into ~/.aws/credentials
    #[command(after_help = "Example:\n  tobira keychain export --profile ci")]
    Export,
}

#[derive(Debug, Subcommand)]
enum ConfigureCommand {
    /// Create a profile for an account and role: session, sign-in, account and role pickers, region, output, name
    #[command(
        after_help = "Examples:\n  tobira configure sso\n  tobira configure sso --sso-session corp --start-url https://d-1234567890.awsapps.com/start --sso-region us-east-1 --account 111111111111 --role ReadOnly"
    )]
    Sso {
        #[command(flatten)]
        answers: commands::configure::Answers,
        #[command(flatten)]
        profile: commands::configure::ProfileAnswers,
    },
    /// Create or update an [sso-session] section (no sign-in)
    #[command(
        after_help = "Example:\n  tobira configure sso-session --sso-session corp --start-url https://d-1234567890.awsapps.com/start --sso-region us-east-1"
    )]
    SsoSession {
        #[command(flatten)]
        answers: commands::configure::Answers,
    },
    /// Write a profile for every account and role of an sso-session into a managed block of the config file
    #[command(
        after_help = "Examples:\n  tobira configure populate --sso-session corp --dry-run\n  tobira configure populate --all --prune\n  tobira configure populate --sso-session corp --template '{account_name}-{role_name}' --form credential-process"
    )]
    Populate {
        #[command(flatten)]
        args: commands::populate::PopulateArgs,
    },
    /// Create or update an IAM user's profile: access key (the secret typed without echo or read from stdin), MFA device, region
    #[command(
        after_help = "Examples:\n  tobira configure iam-user\n  printf %s \"$SECRET\" | tobira configure iam-user --profile-name ci --access-key-id AKIA... --secret-access-key-stdin"
    )]
    IamUser {
        #[command(flatten)]
        answers: commands::iam::UserAnswers,
    },
    /// Create or update a profile that switches to a role: role ARN, source profile, MFA device, external id, duration, session name
    #[command(
        after_help = "Examples:\n  tobira configure role\n  tobira configure role --profile-name admin --role-arn arn:aws:iam::123456789012:role/Admin --source-profile ci"
    )]
    Role {
        #[command(flatten)]
        answers: commands::iam::RoleAnswers,
    },
}

#[derive(Debug, Subcommand)]
enum SsoCommand {
    /// The accounts you can access
    #[command(
        after_help = "Examples:\n  tobira sso accounts --sso-session corp\n  tobira sso accounts --profile dev --json"
    )]
    Accounts {
        /// The [sso-session] whose sign-in to use (else the profile's)
        #[arg(long, value_name = "NAME", add = ArgValueCandidates::new(commands::shell::sso_session_candidates))]
        sso_session: Option<String>,
        /// Print JSON instead of a table
        #[arg(long)]
        json: bool,
    },
    /// The roles you can use, in one account or all
    #[command(
        after_help = "Examples:\n  tobira sso roles --sso-session corp\n  tobira sso roles --profile dev --account 111111111111 --json"
    )]
    Roles {
        /// The [sso-session] whose sign-in to use (else the profile's)
        #[arg(long, value_name = "NAME", add = ArgValueCandidates::new(commands::shell::sso_session_candidates))]
        sso_session: Option<String>,
        /// Only this account (12 digits)
        #[arg(long, value_name = "ID")]
        account: Option<String>,
        /// Print JSON instead of a table
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
enum ProfileCommand {
    /// Show how a profile resolves: the chain of credential steps and where every value comes from
    #[command(after_help = "Examples:\n  tobira profile show dev\n  AWS_PROFILE=dev tobira profile show --json")]
    Show {
        /// Profile name (else --profile, $AWS_PROFILE, $AWS_DEFAULT_PROFILE, `default`)
        #[arg(add = ArgValueCandidates::new(commands::shell::profile_candidates))]
        name: Option<String>,
        /// Print JSON instead of text
        #[arg(long)]
        json: bool,
    },
}

/// Everything a command may look at, captured once at start-up.
#[derive(Clone, Debug)]
pub struct Context {
    pub env: Env,
    /// The clock, read once.
    pub now: jiff::Timestamp,
    pub paths: Paths,
    pub home: Option<PathBuf>,
    /// When `now` was read (monotonic): [`Context::current_time`] moves on from it.
    pub started: std::time::Instant,
    /// How calls go out: the proxies the environment sets and the timeouts
    /// (`--cli-connect-timeout`, `--cli-read-timeout`; docs/network.md).
    pub net: tobira_auth::Net,
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
        let net = tobira_auth::Net::new(tobira_auth::net::Proxies::from_env(&env), Default::default());
        Context { env, paths, home, now, started: std::time::Instant::now(), net }
    }

    /// This context with another network policy (the timeout flags).
    pub fn with_net(&self, net: tobira_auth::Net) -> Context {
        Context { net, ..self.clone() }
    }

    /// The time now: the clock read once at start-up, moved on by the
    /// monotonic time since (for times taken after a wait, such as a
    /// sign-in the user approves minutes later).
    pub fn current_time(&self) -> jiff::Timestamp {
        let elapsed = jiff::SignedDuration::try_from(self.started.elapsed()).unwrap_or(jiff::SignedDuration::ZERO);
        self.now.checked_add(elapsed).unwrap_or(self.now)
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

    /// Only the sections resolving `profile` reads, from both files
    /// ([`ProfileSet::for_profile`]); `None` when the files cannot be read
    /// or the shortcut cannot answer exactly (then use [`Context::load_profiles`]).
    pub fn profiles_for(&self, profile: &str) -> Option<ProfileSet> {
        // Read in pieces, never whole: a config of 100,000 profiles stays
        // off the heap (docs/hot-path.md §2).
        let open = |path: &Path| match std::fs::File::open(path) {
            Ok(file) => Some(Some(file)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Some(None),
            Err(_) => None,
        };
        let config = open(&self.paths.config.value)?;
        let credentials = open(&self.paths.credentials.value)?;
        ProfileSet::for_profile_reading(
            &self.display_path(&self.paths.config.value),
            config,
            &self.display_path(&self.paths.credentials.value),
            credentials,
            profile,
        )
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
        tracing::debug!(
            config = %self.paths.config.value.display(),
            config_bytes = config.as_ref().map(Vec::len),
            credentials = %self.paths.credentials.value.display(),
            credentials_bytes = credentials.as_ref().map(Vec::len),
            "read the shared files (None: missing)"
        );
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
    // `COMPLETE=<shell> tobira …`: the completions (`tobira shell-init`), then exit.
    clap_complete::CompleteEnv::with_factory(<Cli as clap::CommandFactory>::command).complete();
    run(std::env::args_os(), &Context::from_process())
}

/// Parses arguments, runs the command, prints errors; returns the exit code.
pub fn run(args: impl IntoIterator<Item = OsString>, ctx: &Context) -> ExitCode {
    let args: Vec<OsString> = args.into_iter().collect();
    // The lines SDKs run on every credential fetch skip building the parser (docs/hot-path.md §2).
    let parsed = match quick_args::parse(&args) {
        Some(cli) => Ok(cli),
        None => Cli::try_parse_from(args),
    };
    let cli = match parsed {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { ExitCode::from(Kind::Usage as u8) } else { ExitCode::SUCCESS };
        }
    };
    if let Some(e) = unused_global_flag(&cli) {
        let _ = io::stderr().write_all(e.render().as_bytes());
        return e.exit_code();
    }
    if cli.global.debug || debug::wanted(ctx) {
        debug::install();
    }
    // The network policy: the environment's proxies and the flags' timeouts.
    let with_timeouts;
    let ctx = if cli.global.cli_connect_timeout.is_some() || cli.global.cli_read_timeout.is_some() {
        let timeouts =
            tobira_auth::net::Timeouts::from_flags(cli.global.cli_connect_timeout, cli.global.cli_read_timeout);
        with_timeouts = ctx.with_net(tobira_auth::Net::new(ctx.net.proxies.clone(), timeouts));
        &with_timeouts
    } else {
        ctx
    };
    tracing::debug!(
        command = command_name(&cli.command),
        profile_flag = cli.global.profile.as_deref(),
        config = %ctx.paths.config.value.display(),
        config_from = %ctx.paths.config.origin,
        credentials = %ctx.paths.credentials.value.display(),
        now = %ctx.now,
        "starting"
    );
    let mut out = io::stdout().lock();
    let result = match cli.command {
        Command::Profiles { json } => commands::profiles::run(ctx, &cli.global.profile, json, &mut out),
        Command::ShellInit { shell, name } => commands::shell::init(shell, &name, &mut out),
        Command::Switch { name, shell, credentials, mfa_code, names } => {
            let profile = name.or(cli.global.profile);
            let args = commands::shell::SwitchArgs { profile, shell, credentials, mfa_code, names };
            commands::shell::switch(ctx, args, &mut out)
        }
        Command::Profile { command: ProfileCommand::Show { name, json } } => {
            commands::profile_show::run(ctx, name.or(cli.global.profile), cli.global.region, json, &mut out)
        }
        Command::Login { sso_session, use_device_code, no_browser, force, console, remote } => {
            let profile = cli.global.profile;
            match commands::console::route(ctx, &profile, sso_session.is_some(), console || remote, use_device_code) {
                Ok(true) => commands::console::login(ctx, &profile, cli.global.region, remote, no_browser, &mut out),
                Ok(false) if cli.global.region.is_some() => Err(CliError::new(
                    Kind::Usage,
                    "`--region` does not choose where an IAM Identity Center sign-in happens",
                )
                .hint("the sign-in is always in the sso-session's `sso_region`; change it with `tobira configure sso-session`")
                .hint("`--region` applies to `tobira login --console` (an `aws login` sign-in)")),
                Ok(false) => {
                    let sel = commands::target::Selection { profile: profile.clone(), sso_session };
                    commands::sso::login(ctx, &sel, use_device_code, no_browser, force, &mut out)
                        .map_err(|e| commands::console::with_console_hint(e, ctx, &profile))
                }
                Err(e) => Err(e),
            }
        }
        Command::Logout { sso_session, all } => {
            let profile = cli.global.profile;
            let console = !all
                && sso_session.is_none()
                && ctx.load_profiles().is_ok_and(|set| commands::console::is_login_profile(ctx, &set, &profile));
            if console {
                commands::console::logout(ctx, &profile, &mut out)
            } else {
                let sel = commands::target::Selection { profile, sso_session };
                commands::sso::logout(ctx, &sel, all, &mut out)
                    .and_then(|()| if all { commands::console::logout_all(ctx, &mut out) } else { Ok(()) })
            }
        }
        Command::Sso { command: SsoCommand::Accounts { sso_session, json } } => {
            let sel = commands::target::Selection { profile: cli.global.profile, sso_session };
            commands::sso::accounts(ctx, &sel, json, &mut out)
        }
        Command::Sso { command: SsoCommand::Roles { sso_session, account, json } } => {
            let sel = commands::target::Selection { profile: cli.global.profile, sso_session };
            commands::sso::roles(ctx, &sel, account, json, &mut out)
        }
        Command::Doctor { json, offline } => {
            return match commands::doctor::run(ctx, cli.global.profile, json, offline, &mut out) {
                Ok(found) => {
                    let _ = out.flush();
                    found.map_or(ExitCode::SUCCESS, |k| ExitCode::from(k as u8))
                }
                Err(e) => {
                    let _ = out.flush();
                    let _ = io::stderr().write_all(e.render().as_bytes());
                    e.exit_code()
                }
            };
        }
        Command::Sessions { json, check } => commands::sessions::run(ctx, json, check, &mut out),
        Command::Keychain { command: KeychainCommand::Import } => {
            commands::keychain::import(ctx, cli.global.profile, &mut out)
        }
        Command::Keychain { command: KeychainCommand::Export } => {
            commands::keychain::export(ctx, cli.global.profile, &mut out)
        }
        Command::Export { format, mfa_code } => commands::creds::export(
            ctx,
            tobira_config::Flags { profile: cli.global.profile, region: cli.global.region },
            format,
            mfa_code,
            &mut out,
        ),
        Command::CredentialProcess { mfa_code, sso_session, account_id, role_name } => {
            let result = match (sso_session, account_id, role_name) {
                (Some(session), Some(account_id), Some(role_name)) => {
                    let role = commands::creds::SsoRoleArgs { session, account_id, role_name };
                    commands::creds::credential_process_for_role(ctx, &role, &mut out)
                }
                _ => commands::creds::credential_process(
                    ctx,
                    tobira_config::Flags { profile: cli.global.profile, region: cli.global.region },
                    mfa_code,
                    &mut out,
                ),
            };
            // Called by SDKs, not people: errors are one line on stderr.
            return match result {
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
            let target = tobira_config::Flags { profile: cli.global.profile, region: cli.global.region };
            return match commands::server::exec(ctx, target, mfa_code, nested, &command) {
                Ok(code) => code,
                Err(e) => {
                    let _ = io::stderr().write_all(e.render().as_bytes());
                    e.exit_code()
                }
            };
        }
        Command::Exec { mfa_code, nested, server: false, command } => commands::creds::exec(
            ctx,
            tobira_config::Flags { profile: cli.global.profile, region: cli.global.region },
            mfa_code,
            nested,
            &command,
        ),
        Command::ServeCredentials { mfa_code, format } => commands::server::serve_credentials(
            ctx,
            tobira_config::Flags { profile: cli.global.profile, region: cli.global.region },
            mfa_code,
            format,
            &mut out,
        ),
        Command::Whoami { mfa_code, json } => commands::creds::whoami(
            ctx,
            tobira_config::Flags { profile: cli.global.profile, region: cli.global.region },
            mfa_code,
            json,
            &mut out,
        ),
        Command::Console { service, print, mfa_code, session_duration } => {
            let args = commands::console_url::ConsoleArgs {
                profile: cli.global.profile,
                region: cli.global.region,
                service,
                print,
                mfa_code,
                session_duration,
            };
            commands::console_url::run(ctx, args, &mut out)
        }
        Command::Configure { command: ConfigureCommand::Sso { answers, profile } } => {
            commands::configure::sso(ctx, cli.global.profile, answers, profile, &mut out)
        }
        Command::Configure { command: ConfigureCommand::SsoSession { answers } } => {
            commands::configure::sso_session(ctx, answers, &mut out)
        }
        Command::Configure { command: ConfigureCommand::Populate { args } } => {
            commands::populate::run(ctx, args, &mut out)
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

/// The subcommand's name, for the trace (never its arguments: an MFA code is one).
fn command_name(c: &Command) -> &'static str {
    match c {
        Command::Profiles { .. } => "profiles",
        Command::ShellInit { .. } => "shell-init",
        Command::Switch { .. } => "switch",
        Command::Profile { .. } => "profile show",
        Command::Export { .. } => "export",
        Command::CredentialProcess { .. } => "credential-process",
        Command::Exec { .. } => "exec",
        Command::Whoami { .. } => "whoami",
        Command::Console { .. } => "console",
        Command::Configure { command: ConfigureCommand::Sso { .. } } => "configure sso",
        Command::Configure { command: ConfigureCommand::SsoSession { .. } } => "configure sso-session",
        Command::Configure { command: ConfigureCommand::Populate { .. } } => "configure populate",
        Command::Configure { command: ConfigureCommand::IamUser { .. } } => "configure iam-user",
        Command::Configure { command: ConfigureCommand::Role { .. } } => "configure role",
        Command::Keychain { command: KeychainCommand::Import } => "keychain import",
        Command::Keychain { command: KeychainCommand::Export } => "keychain export",
        Command::Login { .. } => "login",
        Command::Logout { .. } => "logout",
        Command::Sso { .. } => "sso",
        Command::Doctor { .. } => "doctor",
        Command::Sessions { .. } => "sessions",
        Command::ServeCredentials { .. } => "serve-credentials",
    }
}

/// A global flag given to a command that would ignore it: an error rather
/// than a silent surprise (`tobira sso roles --region eu-west-1` does not
/// change the SSO region, the classic cause of "Invalid grant provided").
fn unused_global_flag(cli: &Cli) -> Option<CliError> {
    let name = command_name(&cli.command);
    let no_profile = matches!(
        cli.command,
        Command::ShellInit { .. }
            | Command::Sessions { .. }
            | Command::Configure { command: ConfigureCommand::SsoSession { .. } | ConfigureCommand::Populate { .. } }
    );
    let no_region = no_profile
        || matches!(
            cli.command,
            Command::Profiles { .. }
                | Command::Switch { .. }
                | Command::Configure { .. }
                | Command::Keychain { .. }
                | Command::Logout { .. }
                | Command::Doctor { .. }
        );
    let sso_region = matches!(cli.command, Command::Sso { .. });
    let (flag, why) = if cli.global.profile.is_some() && no_profile {
        ("--profile", "it does not read a profile")
    } else if cli.global.region.is_some() && sso_region {
        ("--region", "the portal is called in the sso-session's `sso_region`")
    } else if cli.global.region.is_some() && no_region {
        ("--region", "it calls no regional AWS service")
    } else {
        return None;
    };
    let mut e = CliError::new(Kind::Usage, format!("`{flag}` has no effect on `tobira {name}`: {why}"))
        .hint(format!("run it without `{flag}`"));
    match &cli.command {
        Command::Sso { .. }
        | Command::Configure { command: ConfigureCommand::Sso { .. } | ConfigureCommand::SsoSession { .. } }
            if flag == "--region" =>
        {
            e = e.hint(
                "the SSO region is the sso-session's `sso_region`: change it with `tobira configure sso-session`",
            );
        }
        Command::Configure { .. } if flag == "--region" => {
            e = e.hint("`--default-region` sets the region the profile gets");
        }
        _ => {}
    }
    Some(e)
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
    #[test]
    fn every_command_has_examples_and_every_flag_has_help() {
        use clap::CommandFactory as _;
        fn walk(c: &clap::Command, path: &str, missing: &mut Vec<String>) {
            let path = format!("{path} {}", c.get_name());
            for a in c.get_arguments().filter(|a| !matches!(a.get_id().as_str(), "help" | "version")) {
                if a.get_help().is_none() {
                    missing.push(format!("`{path}`: `{}` has no help text", a.get_id()));
                }
            }
            let subs: Vec<&clap::Command> = c.get_subcommands().filter(|s| s.get_name() != "help").collect();
            if subs.is_empty() && c.get_after_help().is_none() {
                missing.push(format!("`{path}` has no examples (after_help)"));
            }
            for s in subs {
                walk(s, &path, missing);
            }
        }
        let mut missing = Vec::new();
        walk(&Cli::command(), "", &mut missing);
        assert!(missing.is_empty(), "{}", missing.join("\n"));
    }

    use super::*;

    fn ctx(vars: &[(&str, &str)], account: Option<&str>) -> Context {
        let vars = vars.iter().map(|(k, v)| ((*k).to_string(), (*v).to_string())).collect();
        Context::from_vars(vars, || account.map(str::to_string), jiff::Timestamp::UNIX_EPOCH)
    }

    #[test]
    fn home_falls_back_to_the_accounts_home_directory() {
        let c = ctx(&[], Some("/users/alice"));
        assert_eq!(c.home.as_deref(), Some(Path::new("/users/alice")));
        assert_eq!(c.paths.config.value, Path::new("/users/alice/.aws/config"));
        assert_eq!(c.paths.credentials.value, Path::new("/users/alice/.aws/credentials"));
        assert_eq!(c.display_path(&c.paths.config.value), Path::new("~/.aws/config"));
        // An empty HOME is no home either.
        assert_eq!(ctx(&[("HOME", "")], Some("/users/alice")).home.as_deref(), Some(Path::new("/users/alice")));
        // HOME, when set, wins.
        assert_eq!(ctx(&[("HOME", "/tmp/h")], Some("/users/alice")).home.as_deref(), Some(Path::new("/tmp/h")));
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
