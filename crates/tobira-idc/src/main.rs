//! `tobira-idc`: serve a local IAM Identity Center + STS, or administer one.
#![allow(clippy::print_stdout, clippy::print_stderr)] // a command-line program

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use tobira_idc::{Directory, Faults, Idc, Settings};

/// A local IAM Identity Center + STS speaking the AWS wire protocols.
#[derive(Debug, Parser)]
#[command(name = "tobira-idc", version, max_term_width = 100)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve SSO OIDC, the SSO portal and STS on one loopback endpoint
    Serve {
        /// Directory file (TOML); default: the one saved in --db, else the built-in demo
        #[arg(long, value_name = "FILE")]
        directory: Option<PathBuf>,
        /// SQLite database file; default: in memory (state ends with the process)
        #[arg(long, value_name = "FILE")]
        db: Option<PathBuf>,
        /// Address to bind (loopback by default)
        #[arg(long, default_value = "127.0.0.1")]
        bind: std::net::IpAddr,
        /// Port (0 = any free port)
        #[arg(long, default_value_t = 0)]
        port: u16,
        /// Approve every device and browser authorization at once as this user (for CI)
        #[arg(long, value_name = "USER")]
        auto_approve: Option<String>,
        /// Lifetime of sign-in sessions and access tokens, in hours
        #[arg(long, default_value_t = 8)]
        session_hours: i64,
        /// Seconds a device code stays valid
        #[arg(long, default_value_t = 600)]
        device_expires_in: i64,
        /// Fault injection: milliseconds added to every request
        #[arg(long, default_value_t = 0)]
        latency_ms: u64,
        /// Fault injection: portal requests per second above which TooManyRequestsException is returned
        #[arg(long)]
        portal_rps_limit: Option<u32>,
    },
    /// Print the built-in demo directory (a starting point for --directory)
    DemoDirectory,
    /// Approve a pending device code or browser authorization as a user (server started with --db)
    Approve {
        #[arg(long, value_name = "FILE")]
        db: PathBuf,
        /// The user code shown by `aws sso login` / `tobira login` (ABCD-EFGH)
        #[arg(long, conflicts_with = "request", required_unless_present = "request")]
        user_code: Option<String>,
        /// The request id shown on the waiting /authorize page
        #[arg(long)]
        request: Option<String>,
        #[arg(long, value_name = "USER")]
        user: String,
    },
    /// Show or replace the directory saved in a database (a running server picks up the change)
    Directory {
        #[arg(long, value_name = "FILE")]
        db: PathBuf,
        /// Replace it with this TOML file (validated first)
        #[arg(long, value_name = "TOML")]
        set: Option<PathBuf>,
    },
    /// Print the current TOTP code of a user's MFA device (like an authenticator app; for tests and demos)
    MfaCode {
        /// Read the directory from this database (else --directory, else the built-in demo)
        #[arg(long, value_name = "FILE", conflicts_with = "directory")]
        db: Option<PathBuf>,
        #[arg(long, value_name = "TOML")]
        directory: Option<PathBuf>,
        /// An Identity Center user
        #[arg(long, conflicts_with = "iam_user", required_unless_present = "iam_user")]
        user: Option<String>,
        /// An IAM user
        #[arg(long)]
        iam_user: Option<String>,
        /// Device name (default: the user's first device)
        #[arg(long)]
        device: Option<String>,
    },
    /// List active sign-in sessions, or revoke a user's sessions (server started with --db)
    Sessions {
        #[arg(long, value_name = "FILE")]
        db: PathBuf,
        /// Revoke every session of this user: their tokens and credentials stop working at once
        #[arg(long, value_name = "USER")]
        revoke: Option<String>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn open_existing(db: PathBuf) -> Result<Idc, String> {
    if !db.exists() {
        return Err(format!(
            "{} does not exist; start the server with `tobira-idc serve --db {}`",
            db.display(),
            db.display()
        ));
    }
    Idc::new(Settings { db: Some(db), ..Settings::default() }).map_err(|e| e.to_string())
}

fn run(command: Command) -> Result<(), String> {
    match command {
        Command::DemoDirectory => {
            print!("{}", toml::to_string(&Directory::demo()).map_err(|e| e.to_string())?);
            Ok(())
        }
        Command::Approve { db, user_code, request, user } => {
            let idc = open_existing(db)?;
            match (user_code, request) {
                (Some(code), _) => idc.approve_device(&code, &user)?,
                (None, Some(id)) => idc.approve_authorization(&id, &user)?,
                (None, None) => return Err("give --user-code or --request".into()),
            }
            println!("approved as {user}");
            Ok(())
        }
        Command::Directory { db, set } => {
            let idc = open_existing(db)?;
            match set {
                Some(path) => {
                    let text =
                        std::fs::read_to_string(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
                    let dir = Directory::from_toml(&text).map_err(|e| format!("{}: {e}", path.display()))?;
                    idc.replace_directory(dir)?;
                    println!("directory replaced");
                }
                None => print!("{}", toml::to_string(&idc.directory()).map_err(|e| e.to_string())?),
            }
            Ok(())
        }
        Command::MfaCode { db, directory, user, iam_user, device } => {
            let dir = match (db, directory) {
                (Some(db), _) => open_existing(db)?.directory(),
                (None, Some(path)) => {
                    let text =
                        std::fs::read_to_string(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
                    Directory::from_toml(&text).map_err(|e| format!("{}: {e}", path.display()))?
                }
                (None, None) => Directory::demo(),
            };
            let devices = match (&user, &iam_user) {
                (Some(u), _) => {
                    dir.user(u).map(|u| u.mfa.clone()).ok_or_else(|| format!("no user `{u}` in the directory"))?
                }
                (None, Some(u)) => dir
                    .iam_users
                    .iter()
                    .find(|x| &x.name == u)
                    .map(|u| u.mfa.clone())
                    .ok_or_else(|| format!("no IAM user `{u}` in the directory"))?,
                (None, None) => return Err("give --user or --iam-user".into()),
            };
            let d = match &device {
                Some(name) => devices.iter().find(|d| &d.name == name),
                None => devices.first(),
            }
            .ok_or("that user has no such MFA device")?;
            let secret = tobira_idc::totp::decode_secret(&d.secret).ok_or("the device secret is not base32")?;
            println!("{}", tobira_idc::totp::code_at(&secret, jiff::Timestamp::now().as_second()));
            Ok(())
        }
        Command::Sessions { db, revoke } => {
            let idc = open_existing(db)?;
            if let Some(user) = revoke {
                let n = idc.revoke_user_sessions(&user)?;
                println!("revoked {n} session(s) of {user}");
                return Ok(());
            }
            for s in idc.active_sessions() {
                let t = |s: i64| jiff::Timestamp::from_second(s).map(|t| t.to_string()).unwrap_or_default();
                println!(
                    "{}  {}  signed in {}  expires {}  {} active token(s)",
                    s.session_id,
                    s.user,
                    t(s.created_at),
                    t(s.expires_at),
                    s.active_tokens
                );
            }
            Ok(())
        }
        Command::Serve {
            directory,
            db,
            bind,
            port,
            auto_approve,
            session_hours,
            device_expires_in,
            latency_ms,
            portal_rps_limit,
        } => {
            let directory = match directory {
                Some(path) => {
                    let text =
                        std::fs::read_to_string(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
                    Some(Directory::from_toml(&text).map_err(|e| format!("{}: {e}", path.display()))?)
                }
                None => None,
            };
            if !(1..=12).contains(&session_hours) {
                return Err("--session-hours must be 1 to 12".into());
            }
            let settings = Settings {
                directory,
                db,
                auto_approve,
                session_seconds: session_hours * 3600,
                device_expires_in,
                faults: Faults { latency_ms, portal_rps_limit, ..Faults::default() },
                ..Settings::default()
            };
            let idc = Idc::new(settings).map_err(|e| e.to_string())?;
            let runtime = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::bind((bind, port))
                    .await
                    .map_err(|e| format!("cannot bind {bind}:{port}: {e}"))?;
                let addr = listener.local_addr().map_err(|e| e.to_string())?;
                let shutdown = shutdown_signal()?;
                let url = format!("http://{addr}");
                let dir = idc.directory();
                println!("tobira-idc listening on {url}");
                println!("start URL: {}  SSO region: {}", dir.instance.start_url, dir.instance.region);
                println!("export AWS_ENDPOINT_URL_SSO_OIDC={url}");
                println!("export AWS_ENDPOINT_URL_SSO={url}");
                println!("export AWS_ENDPOINT_URL_STS={url}");
                println!("admin token: {}", idc.admin_token());
                use std::io::Write as _;
                let _ = std::io::stdout().flush();
                idc.serve(listener, shutdown).await.map_err(|e| e.to_string())
            })
        }
    }
}

/// Ctrl-C or SIGTERM. The handlers are installed before this returns, so a
/// signal sent right after the start-up lines are printed is not missed.
fn shutdown_signal() -> Result<impl std::future::Future<Output = ()> + Send + 'static, String> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate()).map_err(|e| format!("cannot handle SIGTERM: {e}"))?;
        let mut int = signal(SignalKind::interrupt()).map_err(|e| format!("cannot handle SIGINT: {e}"))?;
        Ok(async move {
            tokio::select! { _ = term.recv() => {}, _ = int.recv() => {} }
        })
    }
    #[cfg(not(unix))]
    {
        Ok(async {
            let _ = tokio::signal::ctrl_c().await;
        })
    }
}
