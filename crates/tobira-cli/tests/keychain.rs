//! The secret access key in the OS keychain, against a real Secret Service:
//! Debian's gnome-keyring, started unlocked inside a D-Bus session of the
//! test's own (`dbus-run-session`), with its keyrings in the test's HOME.
//! `secret-tool` (libsecret, another Secret Service client) checks what is
//! stored; botocore gets the keys through the written `credential_process`.
//! Where there is no keychain (no D-Bus session, a bus without a Secret
//! Service) the commands say so, nothing is lost, and the files-only path
//! still works.
//!
//! scripts/test installs the Debian packages (gnome-keyring,
//! libsecret-tools, libglib2.0-bin, dbus); a run without them fails, unless
//! `TOBIRA_SKIP_KEYCHAIN` gives the reason they could not be installed.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] fns

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use tobira_idc::Settings;
use tobira_test_support::{IdcServer, Run, TestEnv, bob_mfa_code as code, run, run_with_input};

const TOBIRA: &str = env!("CARGO_BIN_EXE_tobira");
const BOB_KEY: &str = "AKIAIOSFODNN7EXAMPLE";
const BOB_SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const BOB_MFA: &str = "arn:aws:iam::123456789012:mfa/bob-phone";
const OPS: &str = "arn:aws:iam::123456789012:role/Ops";

/// A program on `PATH`.
fn which(name: &str) -> Option<PathBuf> {
    #[allow(clippy::disallowed_methods)] // test helper
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|d| d.join(name)).find(|p| p.is_file())
}

/// `None` (after printing why) when the Debian packages could not be
/// installed, as scripts/test reports in `TOBIRA_SKIP_KEYCHAIN`.
#[allow(clippy::print_stdout)] // the reason a test is skipped
fn keychain_tools() -> Option<()> {
    let missing: Vec<&str> = ["dbus-run-session", "gdbus", "gnome-keyring-daemon", "secret-tool"]
        .into_iter()
        .filter(|p| which(p).is_none())
        .collect();
    if missing.is_empty() {
        return Some(());
    }
    #[allow(clippy::disallowed_methods)] // test switch
    if let Ok(reason) = std::env::var("TOBIRA_SKIP_KEYCHAIN") {
        println!("skipped: the keychain test needs {} ({reason})", missing.join(", "));
        return None;
    }
    panic!(
        "{} missing: install Debian's gnome-keyring, libsecret-tools, libglib2.0-bin and dbus (scripts/test does, as root), or set TOBIRA_SKIP_KEYCHAIN to the reason they cannot be",
        missing.join(", ")
    );
}

/// Inside `dbus-run-session`: gnome-keyring unlocked with a password on
/// its stdin (the login keyring is created on first use), the bus address
/// printed once it serves, then a wait for the test to close stdin; the
/// daemon is stopped however the script ends.
const SESSION: &str = r#"
printf '%s' "$KEYRING_PASSWORD" | gnome-keyring-daemon --foreground --unlock --components=secrets >/dev/null &
pid=$!
trap 'kill "$pid" 2>/dev/null' EXIT
# Ready once it owns its name on the bus (gdbus waits for that event).
gdbus wait --session --timeout 20 org.freedesktop.secrets || {
  echo "gnome-keyring-daemon did not take org.freedesktop.secrets within 20 s" >&2
  exit 1
}
echo "$DBUS_SESSION_BUS_ADDRESS"
read _ || true
"#;

/// A D-Bus session with an unlocked gnome-keyring, for the length of a test.
struct Keyring {
    child: Child,
    address: String,
}

impl Keyring {
    fn start(t: &TestEnv) -> Keyring {
        let runtime = t.home().join("run");
        std::fs::create_dir_all(&runtime).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&runtime, std::fs::Permissions::from_mode(0o700)).unwrap();
        }
        let mut cmd = t.command("dbus-run-session");
        cmd.args(["--", "sh", "-c", SESSION])
            .env("KEYRING_PASSWORD", "test-keyring-password")
            .env("XDG_RUNTIME_DIR", &runtime)
            .env_remove("DBUS_SESSION_BUS_ADDRESS")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let address = line.trim().to_string();
        if !address.starts_with("unix:") {
            let mut err = String::new();
            std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
            panic!("the D-Bus session with gnome-keyring did not start: {err}");
        }
        Keyring { child, address }
    }

    /// `t`, with this session's bus for the commands it runs.
    fn env(&self, t: &mut TestEnv) {
        t.env("DBUS_SESSION_BUS_ADDRESS", &self.address);
        t.env("XDG_RUNTIME_DIR", &t.home().join("run").to_string_lossy());
    }
}

impl Drop for Keyring {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}

fn tobira(t: &TestEnv, args: &[&str]) -> Run {
    let mut cmd = t.command(TOBIRA);
    cmd.args(args);
    run(cmd)
}

fn tobira_stdin(t: &TestEnv, args: &[&str], input: &str) -> Run {
    let mut cmd = t.command(TOBIRA);
    cmd.args(args);
    run_with_input(cmd, input)
}

/// What another Secret Service client finds for bob's key.
fn secret_tool(t: &TestEnv, action: &str) -> Run {
    let mut cmd = t.command("secret-tool");
    cmd.args([action, "service", "tobira", "username", BOB_KEY]);
    run(cmd)
}

fn venv() -> Option<PathBuf> {
    let bin = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin");
    #[allow(clippy::disallowed_methods)] // test switch
    if !bin.join("python").exists() && std::env::var_os("TOBIRA_SKIP_INTEROP").is_some() {
        return None;
    }
    assert!(bin.join("python").exists(), "{} is missing: run scripts/setup-python.sh", bin.display());
    Some(bin)
}

const WHO: &str = r#"
import sys, boto3
session = boto3.session.Session(profile_name=sys.argv[1])
provider = session._session.get_component("credential_provider").get_provider("assume-role")
provider._prompter = lambda prompt: sys.argv[2]
creds = session.get_credentials()
print(creds.method, session.client("sts", region_name="us-east-1").get_caller_identity()["Arn"])
"#;

fn botocore(t: &TestEnv, bin: &Path, profile: &str, code: &str) -> Run {
    let mut cmd = t.command(bin.join("python"));
    cmd.args(["-c", WHO, profile, code]);
    run(cmd)
}

fn read(path: &Path) -> Option<String> {
    std::fs::read_to_string(path).ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_secret_lives_in_a_real_secret_service_and_every_sdk_still_gets_the_keys() {
    if keychain_tools().is_none() {
        return;
    }
    let s = IdcServer::start(Settings::default()).await;
    let mut t = TestEnv::new();
    t.env("AWS_ENDPOINT_URL", &s.url);
    let keyring = Keyring::start(&t);
    keyring.env(&mut t);
    t.write_config("# mine\n[default]\nregion = eu-west-1\n");

    let r = tobira_stdin(
        &t,
        &[
            "configure",
            "iam-user",
            "--profile",
            "bob",
            "--access-key-id",
            BOB_KEY,
            "--secret-access-key-stdin",
            "--default-region",
            "us-east-1",
            "--keychain",
        ],
        BOB_SECRET,
    );
    assert_eq!(r.code, Some(0), "{r:?}");
    assert!(r.stdout.starts_with("Stored the secret access key of profile `bob` (access key ****************MPLE) in the keychain (Secret Service, service `tobira`), and the profile in ~/.aws/config"), "{}", r.stdout);
    let own = format!(
        "credential_process = {TOBIRA} credential-process --profile bob\ntobira_keychain_access_key_id = {BOB_KEY}\n"
    );
    assert_eq!(
        read(&t.config_path()).unwrap(),
        format!("# mine\n[default]\nregion = eu-west-1\n[profile bob]\nregion = us-east-1\n{own}")
    );
    assert_eq!(read(&t.credentials_path()), None, "the secret is in no file");
    // Another Secret Service client finds it there.
    let r = secret_tool(&t, "lookup");
    assert_eq!((r.code, r.stdout.as_str()), (Some(0), BOB_SECRET), "{r:?}");

    // tobira reads the keychain; botocore runs the credential_process.
    let r = tobira(&t, &["whoami", "--profile", "bob"]);
    assert_eq!(r.code, Some(0), "{r:?}");
    assert!(r.stdout.contains("arn:aws:iam::123456789012:user/bob"), "{}", r.stdout);
    let bin = venv();
    if let Some(bin) = &bin {
        let r = botocore(&t, bin, "bob", "");
        assert_eq!(r.code, Some(0), "{r:?}");
        assert_eq!(r.stdout, "custom-process arn:aws:iam::123456789012:user/bob\n");
    }
    // A role on top, with MFA: botocore and tobira alike.
    let r = tobira(
        &t,
        &[
            "configure",
            "role",
            "--profile",
            "ops",
            "--role-arn",
            OPS,
            "--source-profile",
            "bob",
            "--mfa-serial",
            BOB_MFA,
        ],
    );
    assert_eq!(r.code, Some(0), "{r:?}");
    if let Some(bin) = &bin {
        let r = botocore(&t, bin, "ops", &code(&s.idc, 0));
        assert_eq!(r.code, Some(0), "{r:?}");
        assert!(r.stdout.starts_with("assume-role arn:aws:sts::123456789012:assumed-role/Ops/"), "{}", r.stdout);
    }
    let r = tobira(&t, &["whoami", "--profile", "ops", "--mfa-code", &code(&s.idc, 1)]);
    assert_eq!(r.code, Some(0), "{r:?}");
    assert!(r.stdout.contains("assumed-role/Ops/"), "{}", r.stdout);

    // Back to the file, and into the keychain again: one command each.
    let r = tobira(&t, &["keychain", "export", "--profile", "bob"]);
    assert_eq!(r.code, Some(0), "{r:?}");
    assert_eq!(
        r.stdout,
        "Moved the secret access key of profile `bob` (access key ****************MPLE) from the keychain to ~/.aws/credentials.\n"
    );
    assert_eq!(
        read(&t.credentials_path()).unwrap(),
        format!("[bob]\naws_access_key_id = {BOB_KEY}\naws_secret_access_key = {BOB_SECRET}\n")
    );
    assert!(
        read(&t.config_path()).unwrap().contains("[profile bob]\nregion = us-east-1\n[profile ops]"),
        "no credential_process left"
    );
    assert_eq!(secret_tool(&t, "lookup").code, Some(1), "the keychain item is gone");
    let r = tobira(&t, &["keychain", "export", "--profile", "bob"]);
    assert_eq!(r.code, Some(5), "{r:?}");
    assert!(r.stderr.starts_with("error: profile `bob` does not keep its secret in the keychain"), "{}", r.stderr);

    let r = tobira(&t, &["keychain", "import", "--profile", "bob"]);
    assert_eq!(r.code, Some(0), "{r:?}");
    assert_eq!(
        r.stdout,
        "Moved the secret access key of profile `bob` (access key ****************MPLE) from ~/.aws/credentials to the keychain (Secret Service, service `tobira`).\nThe AWS CLI and SDKs now get it through `credential_process` in ~/.aws/config; `tobira keychain export --profile bob` moves it back.\n"
    );
    assert_eq!(read(&t.credentials_path()).unwrap(), "", "the section is gone from the credentials file");
    assert!(read(&t.config_path()).unwrap().contains(&format!("[profile bob]\nregion = us-east-1\n{own}")));
    assert_eq!(secret_tool(&t, "lookup").stdout, BOB_SECRET);
    let r = tobira(&t, &["keychain", "import", "--profile", "bob"]);
    assert_eq!(r.code, Some(0), "{r:?}");
    assert!(r.stdout.contains("is already in the keychain"), "{}", r.stdout);
    if let Some(bin) = &bin {
        let r = botocore(&t, bin, "bob", "");
        assert_eq!(r.stdout, "custom-process arn:aws:iam::123456789012:user/bob\n", "{r:?}");
    }

    // The item removed behind tobira's back: a clear error, for tobira and
    // for an SDK running the credential_process.
    assert_eq!(secret_tool(&t, "clear").code, Some(0));
    let r = tobira(&t, &["whoami", "--profile", "bob"]);
    assert_eq!(r.code, Some(6), "{r:?}");
    assert!(
        r.stderr.starts_with("error: the keychain (Secret Service) has no secret for access key ****************MPLE of profile `bob` (`tobira_keychain_access_key_id` at ~/.aws/config:"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("hint: store it again with `tobira configure iam-user --profile bob --keychain`"),
        "{}",
        r.stderr
    );
    if let Some(bin) = &bin {
        let r = botocore(&t, bin, "bob", "");
        assert_ne!(r.code, Some(0));
        assert!(r.stderr.contains("Error when retrieving credentials from custom-process: tobira: the keychain (Secret Service) has no secret"), "{}", r.stderr);
    }
    for r in [tobira(&t, &["profile", "show", "bob"]), tobira(&t, &["profiles"])] {
        assert!(!r.stdout.contains(BOB_SECRET) && !r.stderr.contains(BOB_SECRET));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn without_a_keychain_the_message_is_clear_nothing_is_lost_and_the_files_still_work() {
    let s = IdcServer::start(Settings::default()).await;
    let mut t = TestEnv::new();
    t.env("AWS_ENDPOINT_URL", &s.url);
    let runtime = t.home().join("run");
    std::fs::create_dir_all(&runtime).unwrap();
    // No D-Bus session at all (as over ssh, or in a container).
    t.env("XDG_RUNTIME_DIR", &runtime.to_string_lossy());
    let args = [
        "configure",
        "iam-user",
        "--profile",
        "bob",
        "--access-key-id",
        BOB_KEY,
        "--secret-access-key-stdin",
        "--default-region",
        "us-east-1",
    ];
    let r = tobira_stdin(&t, &[&args[..], &["--keychain"]].concat(), BOB_SECRET);
    assert_eq!(r.code, Some(12), "{r:?}");
    assert_eq!(
        r.stderr,
        "error: cannot store the secret of profile `bob` in the keychain: no keychain is available: there is no D-Bus session, or nothing on it provides the Secret Service (org.freedesktop.secrets)\n\nhint: `DBUS_SESSION_BUS_ADDRESS` is not set: there is no desktop session here (an ssh login, a container); the Secret Service lives in one\n\nhint: run it in a session with a Secret Service (GNOME Keyring or KeePassXC in a desktop session)\n\nhint: or keep the secret in ~/.aws/credentials: run the same command without `--keychain` (nothing was written)\n"
    );
    assert!(!t.config_path().exists() && !t.credentials_path().exists(), "nothing written");

    // The files-only path, in the same place.
    let r = tobira_stdin(&t, &args, BOB_SECRET);
    assert_eq!(r.code, Some(0), "{r:?}");
    let r = tobira(&t, &["whoami", "--profile", "bob"]);
    assert_eq!(r.code, Some(0), "{r:?}");
    assert!(r.stdout.contains("arn:aws:iam::123456789012:user/bob"), "{}", r.stdout);

    // Moving it in fails before anything changes: the key stays where it was.
    let before = read(&t.credentials_path()).unwrap();
    let r = tobira(&t, &["keychain", "import", "--profile", "bob"]);
    assert_eq!(r.code, Some(12), "{r:?}");
    assert!(
        r.stderr.contains("hint: the key stays in ~/.aws/credentials, which works as before: nothing was changed"),
        "{}",
        r.stderr
    );
    assert_eq!(read(&t.credentials_path()).unwrap(), before);
    assert!(!read(&t.config_path()).unwrap().contains("credential_process"));

    // A D-Bus session without a Secret Service on it.
    if which("dbus-run-session").is_none() {
        return;
    }
    let conf = t.home().join("bus.conf");
    std::fs::write(
        &conf,
        r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN" "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig><type>session</type><listen>unix:tmpdir=/tmp</listen>
<policy context="default"><allow send_destination="*" eavesdrop="true"/><allow eavesdrop="true"/><allow own="*"/></policy></busconfig>"#,
    )
    .unwrap();
    let mut cmd: Command = t.command("dbus-run-session");
    cmd.arg(format!("--config-file={}", conf.display())).args(["--", TOBIRA, "keychain", "import", "--profile", "bob"]);
    let r = run(cmd);
    assert_eq!(r.code, Some(12), "{r:?}");
    assert!(
        r.stderr.contains("error: cannot store the secret of profile `bob` in the keychain: no keychain is available: nothing on the D-Bus session provides the Secret Service (org.freedesktop.secrets)\n"),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains("DBUS_SESSION_BUS_ADDRESS` is not set"), "{}", r.stderr);
    assert_eq!(read(&t.credentials_path()).unwrap(), before);
}
