//! Dev-only helpers shared by tobira's integration tests: a hermetic
//! environment per test (temp HOME holding `~/.aws`, every `AWS_*` and proxy
//! variable removed, `NO_COLOR`, fixed width), a way to run a binary inside it, and a
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
            // Proxies too: tobira, botocore and the SDKs send tobira-idc's
            // calls on 127.0.0.1 through `HTTP_PROXY`, in any case.
            if k.starts_with("AWS_")
                || k.starts_with("TOBIRA_")
                || k.to_ascii_lowercase().ends_with("_proxy")
                || ["HOME", "USERPROFILE", "BROWSER", "COLUMNS", "REQUEST_METHOD"].contains(&k.as_ref())
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

/// Runs the command with `input` on its standard input. A program that
/// finishes (or refuses) before reading all of it closes the pipe: that is
/// its answer to check, not the test's failure.
pub fn run_with_input(mut cmd: Command, input: &str) -> Run {
    use std::io::Write;
    use std::process::Stdio;
    cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn test command");
    let mut stdin = child.stdin.take().expect("piped stdin");
    match stdin.write_all(input.as_bytes()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
        other => other.expect("write the command's standard input"),
    }
    drop(stdin);
    child.wait_with_output().expect("wait for test command").into()
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

/// IAM user bob of the demo directory: a console password and an MFA device.
pub const BOB_ARN: &str = "arn:aws:iam::123456789012:user/bob";
pub const BOB_ACCOUNT: &str = "123456789012";
pub const BOB_PASSWORD: &str = "correct horse battery staple";
const BOB_MFA_SECRET: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

/// A valid TOTP code of bob's device at the server's clock, `offset` time
/// steps away (-1, 0 and 1 are accepted; each step once).
pub fn bob_mfa_code(idc: &tobira_idc::Idc, offset: i64) -> String {
    let secret = tobira_idc::totp::decode_secret(BOB_MFA_SECRET).expect("base32");
    tobira_idc::totp::code_at_step(&secret, idc.clock().now_s().div_euclid(30) + offset, 6)
}

/// One HTTP/1.1 exchange over a fresh connection: (status, head, body).
/// `form` is sent as `application/x-www-form-urlencoded`.
pub async fn http(method: &str, url: &str, form: Option<&[(&str, &str)]>) -> (u16, String, String) {
    let body = form.map(|f| {
        let text = f.iter().map(|(k, v)| format!("{}={}", urlencode(k), urlencode(v))).collect::<Vec<_>>().join("&");
        ("application/x-www-form-urlencoded", text)
    });
    http_with(method, url, &[], body).await
}

/// [`http`] with extra headers and a body of any type: `(content type, text)`.
pub async fn http_with(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<(&str, String)>,
) -> (u16, String, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let rest = url.strip_prefix("http://").expect("an http:// URL");
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let path = if path.is_empty() { "/" } else { path };
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    if let Some((ct, b)) = &body {
        req.push_str(&format!("Content-Type: {ct}\r\nContent-Length: {}\r\n", b.len()));
    }
    req.push_str("\r\n");
    req.push_str(body.as_ref().map_or("", |(_, b)| b.as_str()));
    let mut stream = tokio::net::TcpStream::connect(authority).await.expect("connect");
    stream.write_all(req.as_bytes()).await.expect("send");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.expect("read");
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let chunked = head.lines().any(|l| l.to_ascii_lowercase().starts_with("transfer-encoding: chunked"));
    let body = if chunked { dechunk(body) } else { body.to_string() };
    (status, head.to_string(), body)
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        body = rest[n..].trim_start_matches("\r\n");
    }
    out
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The `Location` header of a response head.
pub fn location(head: &str) -> Option<String> {
    head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.eq_ignore_ascii_case("location").then(|| v.trim().to_string())
    })
}

/// Plays the browser on AWS Sign-In's authorize page (`authorize_url`, as
/// the tool printed or opened it): signs in as IAM user bob with his
/// password and an MFA code, then follows the redirect (to the tool's
/// loopback listener, or to the `--remote` confirmation page) and returns
/// that page. `Err` with the page when the sign-in is refused.
pub async fn sign_in_as_bob(idc: &tobira_idc::Idc, authorize_url: &str, mfa_offset: i64) -> Result<String, String> {
    let (status, _, page) = http("GET", authorize_url, None).await;
    if status != 200 {
        return Err(page);
    }
    let marker = "name=\"request\" value=\"";
    let start = page.find(marker).ok_or_else(|| page.clone())? + marker.len();
    let request = page[start..start + page[start..].find('"').expect("end of value")].to_string();
    let base = authorize_url.split("/v1/").next().expect("base");
    let code = bob_mfa_code(idc, mfa_offset);
    let form = [
        ("request", request.as_str()),
        ("kind", "iam"),
        ("account", BOB_ACCOUNT),
        ("user", "bob"),
        ("password", BOB_PASSWORD),
        ("mfa_code", code.as_str()),
    ];
    let (status, head, page) = http("POST", &format!("{base}/v1/authorize"), Some(&form)).await;
    let Some(to) = location(&head).filter(|_| status == 302) else { return Err(page) };
    Ok(http("GET", &to, None).await.2)
}

/// Plays the browser that cancels the sign-in on the authorize page; returns
/// the page the redirect leads to.
pub async fn cancel_sign_in(authorize_url: &str) -> String {
    let (_, _, page) = http("GET", authorize_url, None).await;
    let marker = "name=\"request\" value=\"";
    let start = page.find(marker).expect("sign-in form") + marker.len();
    let request = page[start..start + page[start..].find('"').expect("end of value")].to_string();
    let base = authorize_url.split("/v1/").next().expect("base");
    let (_, head, _) =
        http("POST", &format!("{base}/v1/authorize"), Some(&[("request", &request), ("kind", "deny")])).await;
    http("GET", &location(&head).expect("redirect"), None).await.2
}

/// The code the `--remote` confirmation page shows.
pub fn verification_code(page: &str) -> String {
    let marker = "id=\"verification-code\">";
    let start = page.find(marker).unwrap_or_else(|| panic!("no verification code in {page}")) + marker.len();
    page[start..start + page[start..].find('<').expect("end of code")].to_string()
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
            ..Account::default()
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
