//! The same STS flows against a third-party STS: moto's server (pinned in
//! .venv). tobira's executor must work with any STS that speaks the protocol,
//! not only with tobira-idc.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)] // test helpers; TOBIRA_SKIP_INTEROP

use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tobira_test_support::{Run, TestEnv, run};

const TOBIRA: &str = env!("CARGO_BIN_EXE_tobira");

/// Stops moto when the test ends, however it ends.
struct Moto(Child);

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn moto() -> Option<(Moto, String)> {
    let bin = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/moto_server");
    if !bin.exists() {
        assert!(
            std::env::var_os("TOBIRA_SKIP_INTEROP").is_some(),
            "{} missing: run scripts/setup-python.sh",
            bin.display()
        );
        return None;
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = Command::new(bin)
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let guard = Moto(child);
    // moto announces nothing on stdout we could wait for: poll the port (bounded).
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "moto did not start within 30 s");
        std::thread::sleep(Duration::from_millis(100));
    }
    Some((guard, format!("http://127.0.0.1:{port}")))
}

fn tobira(t: &TestEnv, args: &[&str]) -> Run {
    let mut cmd = t.command(TOBIRA);
    cmd.args(args);
    run(cmd)
}

#[test]
fn static_mfa_session_assume_role_and_web_identity_against_moto() {
    let Some((_moto, url)) = moto() else { return };
    let mut t = TestEnv::new();
    let token_file = t.home().join("web-identity-token");
    std::fs::write(&token_file, "eyJhbGciOiJIUzI1NiJ9.e30.moto").unwrap();
    t.write_config(&format!(
        "[profile keys]\nregion = us-east-1\n\
         [profile keys-mfa]\nregion = us-east-1\nmfa_serial = arn:aws:iam::123456789012:mfa/user\n\
         [profile role]\nregion = us-east-1\nrole_arn = arn:aws:iam::123456789012:role/ops\nsource_profile = keys\nrole_session_name = moto-test\n\
         [profile web]\nregion = us-east-1\nrole_arn = arn:aws:iam::123456789012:role/web\nweb_identity_token_file = {}\nrole_session_name = web-test\n",
        token_file.display()
    ))
    .write_credentials(
        "[keys]\naws_access_key_id = AKIDMOTO\naws_secret_access_key = secret\n[keys-mfa]\naws_access_key_id = AKIDMOTO\naws_secret_access_key = secret\n",
    );
    t.env("AWS_ENDPOINT_URL_STS", &url);
    let who = |profile: &str, extra: &[&str]| {
        let mut args = vec!["whoami", "--profile", profile, "--json"];
        args.extend_from_slice(extra);
        let r = tobira(&t, &args);
        assert_eq!(r.code, Some(0), "{profile}: {r:?}");
        serde_json::from_str::<serde_json::Value>(&r.stdout).unwrap()
    };
    assert_eq!(who("keys", &[])["account"], "123456789012");
    let v = who("keys-mfa", &["--mfa-code", "123456"]);
    assert!(v["expiration"].is_string(), "an MFA session is temporary: {v}");
    let v = who("role", &[]);
    assert!(v["arn"].as_str().unwrap().ends_with(":assumed-role/ops/moto-test"), "{v}");
    let v = who("web", &[]);
    assert!(v["arn"].as_str().unwrap().ends_with(":assumed-role/web/web-test"), "{v}");
    // The assumed role is cached where the AWS CLI looks for it.
    let cached = std::fs::read_dir(t.aws_dir().join("cli/cache"))
        .unwrap()
        .filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().ends_with(".json"))
        .count();
    assert_eq!(cached, 1);
}
