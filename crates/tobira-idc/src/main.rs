//! `tobira-idc`: serve a local IAM Identity Center + STS, or administer one.
#![allow(clippy::print_stdout, clippy::print_stderr)] // a command-line program

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// A request allocates a few dozen small blocks on whichever worker thread
/// runs it; glibc's allocator serialised those threads on its arena locks.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
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
        /// Port (0 = any free port); with --db, default: the port the database was last served on
        #[arg(long)]
        port: Option<u16>,
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
        /// Keep SSO role credentials (and roles assumed with them) valid until they expire after
        /// their sign-in session is revoked, as AWS does ("access can remain for about an hour")
        #[arg(long)]
        credentials_outlive_revocation: bool,
        /// Use a new random admin token instead of the one saved in --db
        #[arg(long)]
        new_admin_token: bool,
        /// Connections served at once (as many again may wait for a slot; beyond that new ones are
        /// closed); default: 1024, or less so that three times it fits the open-files limit
        #[arg(long)]
        max_connections: Option<usize>,
        /// For tests and demos only: nothing issued (access tokens, SSO role credentials, STS
        /// credentials) lasts longer than this many seconds, to watch clients renew within a
        /// minute; sign-in sessions and refresh tokens keep their lifetime
        #[arg(long, value_name = "SECONDS", value_parser = clap::value_parser!(i64).range(1..))]
        credential_lifetime: Option<i64>,
    },
    /// Print a one-time link with which a user sets a password (valid 7 days)
    Invite {
        #[arg(long, value_name = "FILE")]
        db: PathBuf,
        #[arg(long, value_name = "USER")]
        user: String,
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

/// Why a command failed; each message says what to do.
#[derive(Debug, thiserror::Error)]
enum Error {
    #[error("{} does not exist; start the server with `tobira-idc serve --db {}`", .0.display(), .0.display())]
    NoDatabase(PathBuf),
    #[error("cannot read {}: {source}", path.display())]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{}: {source}", path.display())]
    BadDirectory { path: PathBuf, source: tobira_idc::directory::DirectoryError },
    #[error(transparent)]
    Start(#[from] tobira_idc::StartError),
    #[error(
        "cannot use {} as the database: {source}\nhint: --db takes a file tobira-idc created, or a new file name in an existing, writable directory",
        path.display()
    )]
    Database { path: PathBuf, source: tobira_idc::StoreError },
    #[error(transparent)]
    Change(#[from] tobira_idc::ChangeError),
    #[error(transparent)]
    Decide(#[from] tobira_idc::DecideError),
    #[error(transparent)]
    Store(#[from] tobira_idc::StoreError),
    #[error("{0}")]
    Usage(&'static str),
    #[error("no user `{0}` in the directory; `tobira-idc directory --db FILE` lists them")]
    NoUser(String),
    #[error("cannot bind {addr}: {source}; pick another port with --port, or stop what is using it")]
    Bind { addr: String, source: std::io::Error },
    #[error("cannot start: {0}")]
    Io(#[from] std::io::Error),
}

fn open_existing(db: PathBuf) -> Result<Idc, Error> {
    if !db.exists() {
        return Err(Error::NoDatabase(db));
    }
    open(Settings { db: Some(db), ..Settings::default() })
}

/// Starts tobira-idc's state; a database that cannot be used says which file and what to do.
fn open(settings: Settings) -> Result<Idc, Error> {
    let path = settings.db.clone();
    Idc::new(settings).map_err(|e| match (e, path) {
        (tobira_idc::StartError::Db(source), Some(path)) => Error::Database { path, source },
        (e, _) => Error::Start(e),
    })
}

fn read_directory(path: PathBuf) -> Result<Directory, Error> {
    let text = std::fs::read_to_string(&path).map_err(|source| Error::Read { path: path.clone(), source })?;
    Directory::from_toml(&text).map_err(|source| Error::BadDirectory { path, source })
}

fn run(command: Command) -> Result<(), Error> {
    match command {
        Command::DemoDirectory => {
            // The built-in demo's secrets are public (documented), and a
            // starting point for --directory needs them.
            print!("{}", toml::to_string(&Directory::demo()).unwrap_or_default());
            Ok(())
        }
        Command::Approve { db, user_code, request, user } => {
            let idc = open_existing(db)?;
            match (user_code, request) {
                (Some(code), _) => idc.approve_device(&code, &user)?,
                (None, Some(id)) => idc.approve_authorization(&id, &user)?,
                (None, None) => return Err(Error::Usage("give --user-code or --request")),
            }
            println!("approved as {user}");
            Ok(())
        }
        Command::Directory { db, set } => {
            let idc = open_existing(db)?;
            match set {
                Some(path) => {
                    let text =
                        std::fs::read_to_string(&path).map_err(|source| Error::Read { path: path.clone(), source })?;
                    idc.apply_edited_toml(&text).map_err(|e| match e {
                        tobira_idc::ChangeError::Directory(source) => Error::BadDirectory { path, source },
                        other => Error::Change(other),
                    })?;
                    println!("directory replaced (passwords and secrets left out were kept)");
                }
                None => print!("{}", idc.directory().to_public_toml()),
            }
            Ok(())
        }
        Command::MfaCode { db, directory, user, iam_user, device } => {
            let dir = match (db, directory) {
                (Some(db), _) => open_existing(db)?.directory(),
                (None, Some(path)) => read_directory(path)?,
                (None, None) => Directory::demo(),
            };
            let devices = match (&user, &iam_user) {
                (Some(u), _) => dir.user(u).map(|u| u.mfa.clone()).ok_or_else(|| Error::NoUser(u.clone()))?,
                (None, Some(u)) => dir
                    .iam_users
                    .iter()
                    .find(|x| &x.name == u)
                    .map(|u| u.mfa.clone())
                    .ok_or_else(|| Error::NoUser(u.clone()))?,
                (None, None) => return Err(Error::Usage("give --user or --iam-user")),
            };
            let d = match &device {
                Some(name) => devices.iter().find(|d| &d.name == name),
                None => devices.first(),
            }
            .ok_or(Error::Usage("that user has no such MFA device"))?;
            let secret =
                tobira_idc::totp::decode_secret(&d.secret).ok_or(Error::Usage("the device secret is not base32"))?;
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
            for s in idc.active_sessions()? {
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
        Command::Invite { db, user } => {
            let idc = open_existing(db)?;
            let link = idc.invite(&user)?;
            println!("{}", link.url);
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
            credentials_outlive_revocation,
            new_admin_token,
            max_connections,
            credential_lifetime,
        } => {
            let directory = directory.map(read_directory).transpose()?;
            if !(1..=12).contains(&session_hours) {
                return Err(Error::Usage("--session-hours must be 1 to 12"));
            }
            let db_path = db.clone();
            let settings = Settings {
                directory,
                db,
                auto_approve,
                session_seconds: session_hours * 3600,
                device_expires_in,
                faults: Faults { latency_ms, portal_rps_limit, ..Faults::default() },
                admin_token: new_admin_token.then(tobira_idc::random_admin_token),
                credentials_outlive_revocation,
                max_connections: max_connections.unwrap_or_else(default_max_connections),
                credential_lifetime,
                ..Settings::default()
            };
            let cap = settings.max_connections;
            let lifetime = settings.credential_lifetime;
            let idc = open(settings)?;
            // With --db, the same address across restarts (so configured
            // profiles and bookmarks keep working), unless told otherwise.
            let port = port.or_else(|| idc.saved_port()).unwrap_or(0);
            let runtime = tokio::runtime::Runtime::new()?;
            runtime.block_on(async move {
                let listener = match tokio::net::TcpListener::bind((bind, port)).await {
                    Ok(l) => l,
                    Err(source) => return Err(Error::Bind { addr: format!("{bind}:{port}"), source }),
                };
                let addr = listener.local_addr()?;
                let shutdown = shutdown_signal()?;
                idc.listening_on(addr);
                welcome(&idc, &format!("http://{addr}"), db_path.as_deref(), cap, lifetime);
                idc.serve(listener, shutdown).await?;
                Ok(())
            })
        }
    }
}

/// 1024, or less so that the connections served, waiting and in the overflow
/// (three times the cap) and a few descriptors for the database and logs fit
/// the process's open-files limit (read from /proc on Linux).
fn default_max_connections() -> usize {
    let soft = std::fs::read_to_string("/proc/self/limits").ok().and_then(|text| {
        let line = text.lines().find(|l| l.starts_with("Max open files"))?;
        line.split_whitespace().nth(3)?.parse::<usize>().ok()
    });
    match soft {
        Some(n) => (n.saturating_sub(64) / 3).clamp(16, 1024),
        None => 1024,
    }
}

/// The first screen: where everything is and what to do next.
fn welcome(idc: &Idc, url: &str, db: Option<&std::path::Path>, max_connections: usize, lifetime: Option<i64>) {
    let persistent = db.is_some();
    let dir = idc.directory();
    let demo = Directory::demo();
    let portal = format!("{url}{}", idc.portal_path());
    println!("tobira-idc listening on {url}");
    println!(
        "{}",
        if persistent {
            "State is kept in the --db file: a restart keeps the address, the admin token and every sign-in."
        } else {
            "State is in memory and ends with this process (--db FILE keeps it)."
        }
    );
    println!("Serves at most {max_connections} connections at once (--max-connections).");
    if let Some(seconds) = lifetime {
        println!(
            "For tests and demos: access tokens and credentials issued here last at most {seconds} s (--credential-lifetime)."
        );
    }
    println!();
    println!("Access portal (sign in as a person): {portal}");
    for u in &dir.users {
        let mfa = if u.mfa.is_empty() {
            String::new()
        } else {
            format!(", MFA code: tobira-idc mfa-code --user {}{}", u.name, db_hint(db))
        };
        let demo_password =
            demo.user(&u.name).is_some_and(|d| d.password_hash.is_some() && d.password_hash == u.password_hash);
        match (&u.password_hash, demo_password) {
            (Some(_), true) => println!("  {:<8} password \"correct horse battery staple\"{mfa}", u.name),
            (Some(_), false) => println!("  {:<8} password set{mfa}", u.name),
            (None, _) => match idc.invite(&u.name) {
                Ok(link) => {
                    println!("  {:<8} invited; hand over this one-time link to set a password: {}", u.name, link.url)
                }
                Err(_) => println!("  {:<8} invited", u.name),
            },
        }
    }
    println!("Admin pages: {url}/admin  admin token: {}", idc.admin_token());
    for u in dir.iam_users.iter().filter(|u| u.console_password_hash.is_some()) {
        let demo_password = demo
            .iam_users
            .iter()
            .any(|d| d.name == u.name && d.account == u.account && d.console_password_hash == u.console_password_hash);
        println!(
            "Console sign-in (aws login / tobira login): IAM user {} of account {}, {}",
            u.name,
            u.account,
            if demo_password {
                "password \"correct horse battery staple\" and its MFA code"
            } else {
                "its console password"
            }
        );
    }
    if let Some(bob) = dir.iam_users.first() {
        let key = bob.access_keys.first().map_or("", |k| k.id.as_str());
        println!(
            "IAM user {} (STS): access key {key}{}",
            bob.name,
            bob.mfa
                .first()
                .map(|d| format!(
                    ", MFA serial {}, code: tobira-idc mfa-code --iam-user {}{}",
                    bob.mfa_serial(d),
                    bob.name,
                    db_hint(db)
                ))
                .unwrap_or_default()
        );
    }
    println!();
    if !dir.instance.administrators.is_empty() {
        println!(
            "Manage it like AWS (aws sso-admin, aws identitystore, boto3, Terraform), signed by {}:",
            dir.instance.administrators.join(", ")
        );
        println!("  export AWS_ENDPOINT_URL_SSO_ADMIN={url}");
        println!("  export AWS_ENDPOINT_URL_IDENTITYSTORE={url}");
        println!("  instance {}, identity store {}", dir.instance.instance_arn(), dir.instance.identity_store_id());
        println!();
    }
    println!("Use it from tobira or the AWS CLI in another terminal:");
    println!("  export AWS_ENDPOINT_URL_SSO_OIDC={url}");
    println!("  export AWS_ENDPOINT_URL_SSO={url}");
    println!("  export AWS_ENDPOINT_URL_STS={url}");
    println!("  export AWS_ENDPOINT_URL_SIGNIN={url}");
    println!(
        "  tobira configure sso --sso-session local --start-url {} --sso-region {}",
        dir.instance.start_url, dir.instance.region
    );
    println!(
        "The start URL names this instance to clients; it is not a page to open. Open the access portal above instead."
    );
    use std::io::Write as _;
    let _ = std::io::stdout().flush();
}

fn db_hint(db: Option<&std::path::Path>) -> String {
    db.map(|p| format!(" --db {}", p.display())).unwrap_or_default()
}

/// Ctrl-C or SIGTERM. The handlers are installed before this returns, so a
/// signal sent right after the start-up lines are printed is not missed.
fn shutdown_signal() -> std::io::Result<impl std::future::Future<Output = ()> + Send + 'static> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate())?;
        let mut int = signal(SignalKind::interrupt())?;
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
