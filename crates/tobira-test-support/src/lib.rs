//! Dev-only helpers shared by tobira's integration tests: a hermetic
//! environment per test (temp HOME holding `~/.aws`, every `AWS_*` variable
//! removed, `NO_COLOR`, fixed width), a way to run a binary inside it, and a
//! tobira-idc served on 127.0.0.1:0 for the length of a test.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A temporary HOME with `.aws/config` and `.aws/credentials` paths inside.
/// Removed when dropped.
#[derive(Debug)]
pub struct TestEnv {
    home: tempfile::TempDir,
    vars: Vec<(String, String)>,
}

impl Default for TestEnv {
    fn default() -> Self {
        TestEnv::new()
    }
}

impl TestEnv {
    pub fn new() -> TestEnv {
        let home = tempfile::Builder::new().prefix("tobira-test-").tempdir().expect("create temp HOME");
        TestEnv { home, vars: Vec::new() }
    }

    pub fn home(&self) -> &Path {
        self.home.path()
    }

    pub fn aws_dir(&self) -> PathBuf {
        self.home().join(".aws")
    }

    pub fn config_path(&self) -> PathBuf {
        self.aws_dir().join("config")
    }

    pub fn credentials_path(&self) -> PathBuf {
        self.aws_dir().join("credentials")
    }

    /// Writes `~/.aws/config`.
    pub fn write_config(&self, text: &str) -> &Self {
        self.write(&self.config_path(), text)
    }

    /// Writes `~/.aws/credentials`.
    pub fn write_credentials(&self, text: &str) -> &Self {
        self.write(&self.credentials_path(), text)
    }

    pub fn write(&self, path: &Path, text: &str) -> &Self {
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, text).expect("write test file");
        self
    }

    /// Adds an environment variable for commands run from here on.
    pub fn env(&mut self, key: &str, value: &str) -> &mut Self {
        self.vars.push((key.into(), value.into()));
        self
    }

    /// A command for `program` in this environment: the parent's `AWS_*`,
    /// `HOME`-like and colour variables are removed first.
    pub fn command(&self, program: impl AsRef<OsStr>) -> Command {
        let mut cmd = Command::new(program);
        // Scrubbing the parent's variables is this helper's whole job.
        #[allow(clippy::disallowed_methods)]
        for (key, _) in std::env::vars_os() {
            let k = key.to_string_lossy();
            if k.starts_with("AWS_")
                || k.starts_with("TOBIRA_")
                || ["HOME", "USERPROFILE", "BROWSER", "COLUMNS"].contains(&k.as_ref())
            {
                cmd.env_remove(&key);
            }
        }
        cmd.env("HOME", self.home())
            .env("NO_COLOR", "1")
            .env("COLUMNS", "100")
            .env("AWS_EC2_METADATA_DISABLED", "true");
        for (k, v) in &self.vars {
            cmd.env(k, v);
        }
        cmd.current_dir(self.home());
        cmd
    }
}

/// The result of a command, as text.
#[derive(Debug)]
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(o: Output) -> Run {
        Run {
            code: o.status.code(),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

/// Runs `cmd` to completion with no stdin.
pub fn run(mut cmd: Command) -> Run {
    cmd.stdin(std::process::Stdio::null());
    cmd.output().expect("spawn test command").into()
}

/// A tobira-idc on 127.0.0.1:0, stopped when dropped. Start it from inside a
/// multi-threaded tokio test.
#[derive(Debug)]
pub struct IdcServer {
    pub idc: tobira_idc::Idc,
    /// `http://127.0.0.1:<port>`: the value for `AWS_ENDPOINT_URL`.
    pub url: String,
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl IdcServer {
    pub async fn start(settings: tobira_idc::Settings) -> IdcServer {
        let idc = tobira_idc::Idc::new(settings).expect("start tobira-idc");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1:0");
        let url = format!("http://{}", listener.local_addr().expect("local address"));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(idc.clone().serve(listener, async move {
            let _ = stopped.await;
        }));
        IdcServer { idc, url, _stop: stop }
    }
}

/// The demo directory grown into an organisation of `accounts` accounts
/// (ids `100000000000` + i, names `Account 0001`…, e-mails
/// `account-0001@example.com`), where alice holds every permission set in
/// `roles` (each a copy of the demo's `ReadOnly`) in every account. Built
/// through tobira-idc's public API, for tests of scale and throttling.
pub fn organisation(accounts: usize, roles: &[&str]) -> tobira_idc::Directory {
    use tobira_idc::directory::{Account, Assignment};
    let mut d = tobira_idc::Directory::demo();
    let template = d.permission_sets.iter().find(|p| p.name == "ReadOnly").cloned().expect("the demo has ReadOnly");
    d.permission_sets = roles
        .iter()
        .map(|r| {
            let mut p = template.clone();
            p.name = (*r).to_string();
            p.id = String::new();
            p
        })
        .collect();
    d.accounts = (1..=accounts)
        .map(|i| Account {
            id: organisation_account_id(i),
            name: format!("Account {i:04}"),
            email: format!("account-{i:04}@example.com"),
        })
        .collect();
    d.assignments = d
        .accounts
        .iter()
        .flat_map(|a| {
            roles.iter().map(|r| Assignment {
                principal: "user:alice".into(),
                account: a.id.clone(),
                permission_set: (*r).to_string(),
            })
        })
        .collect();
    // The demo's roles trust its accounts' SSO roles; nothing here needs them.
    d.roles.clear();
    d
}

/// The id of account number `i` (from 1) of [`organisation`].
pub fn organisation_account_id(i: usize) -> String {
    format!("{:012}", 100_000_000_000usize + i)
}
