//! Benchmark (not a test): resolve one profile in a generated config with
//! 10,000 profiles — tobira vs botocore, in the same run. Prints a table.
//!
//! Run with `scripts/bench-config` (it builds the release binary and the
//! Python venv first). Environment: `TOBIRA_PYTHON` (a python with botocore),
//! `TOBIRA_BIN` (a release `tobira`), `BENCH_PROFILES` (default 10000).
#![allow(clippy::disallowed_methods, clippy::print_stdout, clippy::print_stderr, clippy::unwrap_used)]

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use tobira_config::files::Paths;
use tobira_config::{Env, ProfileSet, resolve_profile};

/// Writes a config with `n` profiles of every kind and a credentials file
/// with keys for every tenth one. Returns the profile to resolve: an
/// assume-role profile in the middle whose source is an SSO profile.
fn generate(dir: &Path, n: usize) -> String {
    let mut config = String::from("[default]\nregion = us-east-1\n");
    let mut creds = String::new();
    for s in 0..10 {
        config.push_str(&format!(
            "[sso-session corp{s}]\nsso_start_url = https://d-{s:010}.awsapps.com/start\nsso_region = us-east-1\nsso_registration_scopes = sso:account:access\n"
        ));
    }
    for i in 0..n {
        let acct = format!("{:012}", 100_000_000_000u64 + i as u64);
        match i % 4 {
            0 => config.push_str(&format!(
                "[profile p-{i}]\nsso_session = corp{}\nsso_account_id = {acct}\nsso_role_name = ReadOnly\nregion = us-west-2\noutput = json\n",
                i % 10
            )),
            1 => config.push_str(&format!(
                "# role on top of SSO\n[profile p-{i}]\nrole_arn = arn:aws:iam::{acct}:role/Admin\nsource_profile = p-{}\nregion = eu-west-1\n",
                i - 1
            )),
            2 => {
                config.push_str(&format!("[profile p-{i}]\nregion = ap-northeast-1\nmfa_serial = arn:aws:iam::{acct}:mfa/u{i}\n"));
                creds.push_str(&format!(
                    "[p-{i}]\naws_access_key_id = AKIA{i:016}\naws_secret_access_key = secret{i}\n"
                ));
            }
            _ => config.push_str(&format!(
                "[profile p-{i}]\nrole_arn = arn:aws:iam::{acct}:role/Ops\nsource_profile = p-{}\nmfa_serial = arn:aws:iam::{acct}:mfa/u{i}\nduration_seconds = 3600\n",
                i - 1
            )),
        }
    }
    std::fs::write(dir.join("config"), config).unwrap();
    std::fs::write(dir.join("credentials"), creds).unwrap();
    let mid = n / 2;
    format!("p-{}", mid - mid % 4 + 1)
}

struct Row {
    what: String,
    times: Vec<Duration>,
}

fn stats(t: &mut [Duration]) -> (Duration, Duration, Duration) {
    t.sort();
    (t[t.len() / 2], t[0], t[t.len() - 1])
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

fn main() {
    let n: usize = std::env::var("BENCH_PROFILES").ok().and_then(|v| v.parse().ok()).unwrap_or(10_000);
    let dir = tempfile::tempdir().unwrap();
    let target = generate(dir.path(), n);
    let cfg = dir.path().join("config");
    let cred = dir.path().join("credentials");
    let sizes = (std::fs::metadata(&cfg).unwrap().len(), std::fs::metadata(&cred).unwrap().len());
    let env = Env::from_pairs([
        ("HOME", dir.path().display().to_string()),
        ("AWS_CONFIG_FILE", cfg.display().to_string()),
        ("AWS_SHARED_CREDENTIALS_FILE", cred.display().to_string()),
    ]);
    let mut rows = Vec::new();

    // 1. tobira, in-process: read both files, parse, merge, resolve.
    let mut times = Vec::new();
    for _ in 0..30 {
        let t = Instant::now();
        let set = ProfileSet::load(&Paths::locate(&env)).unwrap();
        let plan = resolve_profile(&set, &env, &target, None).unwrap();
        assert_eq!(plan.method(), "assume-role");
        times.push(t.elapsed());
    }
    rows.push(Row { what: "tobira-config: load + resolve (in-process)".into(), times });

    // 2. botocore, in-process: a fresh Session reads and merges the files
    // (full_config), then resolves credentials (lazy: no network).
    let py = std::env::var("TOBIRA_PYTHON").unwrap_or_else(|_| "python3".into());
    let script = r#"
import os, sys, time, json
import botocore, botocore.session
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
out = []
for _ in range(int(sys.argv[2])):
    t = time.perf_counter()
    s = botocore.session.Session(profile=sys.argv[1])
    c = s.get_credentials()
    assert c.method == "assume-role", c.method
    out.append(time.perf_counter() - t)
print(json.dumps({"version": botocore.__version__, "times": out}))
"#;
    let mut cmd = Command::new(&py);
    cmd.args(["-c", script, &target, "10"]).env("AWS_CONFIG_FILE", &cfg).env("AWS_SHARED_CREDENTIALS_FILE", &cred);
    let boto_version = match cmd.output() {
        Ok(o) if o.status.success() => {
            let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
            let times =
                v["times"].as_array().unwrap().iter().map(|t| Duration::from_secs_f64(t.as_f64().unwrap())).collect();
            let version = v["version"].as_str().unwrap().to_string();
            rows.push(Row { what: format!("botocore {version}: Session + get_credentials (in-process)"), times });
            Some(version)
        }
        Ok(o) => {
            eprintln!("botocore run failed: {}", String::from_utf8_lossy(&o.stderr));
            None
        }
        Err(e) => {
            eprintln!("cannot run {py}: {e}");
            None
        }
    };

    // 3. Whole processes, start-up included.
    let run = |mut c: Command, runs: usize| -> Vec<Duration> {
        (0..runs)
            .map(|_| {
                let t = Instant::now();
                let o = c.output().unwrap();
                assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
                t.elapsed()
            })
            .collect()
    };
    if let Ok(bin) = std::env::var("TOBIRA_BIN") {
        let mut c = Command::new(&bin);
        c.args(["profile", "show", &target, "--json"])
            .env("AWS_CONFIG_FILE", &cfg)
            .env("AWS_SHARED_CREDENTIALS_FILE", &cred);
        rows.push(Row { what: format!("`tobira profile show {target} --json` (process)"), times: run(c, 20) });
    }
    if boto_version.is_some() {
        let mut c = Command::new(&py);
        c.args(["-c", script, &target, "1"]).env("AWS_CONFIG_FILE", &cfg).env("AWS_SHARED_CREDENTIALS_FILE", &cred);
        rows.push(Row { what: "python -c 'botocore Session + get_credentials' (process)".into(), times: run(c, 5) });
    }

    println!(
        "\nResolve `{target}` (assume-role on top of SSO) in a generated config: {n} profiles, config {} KiB, credentials {} KiB\n",
        sizes.0 / 1024,
        sizes.1 / 1024
    );
    let w = rows.iter().map(|r| r.what.len()).max().unwrap_or(0);
    println!("{:<w$}  {:>10}  {:>10}  {:>10}  {:>4}", "what", "median", "min", "max", "runs");
    let base = rows.first().map(|r| stats(&mut r.times.clone()).0);
    for r in &mut rows {
        let (med, min, max) = stats(&mut r.times);
        println!("{:<w$}  {:>10}  {:>10}  {:>10}  {:>4}", r.what, ms(med), ms(min), ms(max), r.times.len());
    }
    if let (Some(base), Some(boto)) = (base, rows.get(1)) {
        let mut t = boto.times.clone();
        let (med, _, _) = stats(&mut t);
        println!("\nin-process: botocore / tobira = {:.0}x", med.as_secs_f64() / base.as_secs_f64());
    }
}
