//! `tobira configure populate` end to end against a tobira-idc serving
//! 1,000 accounts × 3 roles: dry run, write, a rerun that writes nothing,
//! access gained and lost, prune; and botocore reading the populated file.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] fns

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde_json::{Value, json};
use tobira_idc::Settings;
use tobira_idc::directory::Assignment;
use tobira_test_support::{IdcServer, Run, TestEnv, organisation, organisation_account_id, run};

const TOBIRA: &str = env!("CARGO_BIN_EXE_tobira");
const ROLES: [&str; 3] = ["Billing", "FullAccess", "ReadOnly"];

/// A config written by hand, around which populate must not change a byte.
const MINE: &str = "\
# my own settings
[default]
region = eu-west-1

[profile mine]   ; hand-written
sso_session = corp
sso_account_id = 100000000001
sso_role_name = ReadOnly
[sso-session corp]
sso_start_url = https://d-1234567890.awsapps.com/start
sso_region = us-east-1
sso_registration_scopes = sso:account:access
";

fn tobira(t: &TestEnv, args: &[&str]) -> Run {
    let mut cmd = t.command(TOBIRA);
    cmd.args(args);
    run(cmd)
}

async fn signed_in(accounts: usize) -> (IdcServer, TestEnv) {
    let s = IdcServer::start(Settings { auto_approve: Some("alice".into()), ..Settings::default() }).await;
    s.idc.replace_directory(organisation(accounts, &ROLES)).unwrap();
    let mut t = TestEnv::new();
    t.write_config(MINE);
    t.env("AWS_ENDPOINT_URL", &s.url);
    let r = tobira(&t, &["login", "--sso-session", "corp", "--use-device-code", "--no-browser"]);
    assert_eq!(r.code, Some(0), "{r:?}");
    (s, t)
}

fn config(t: &TestEnv) -> String {
    std::fs::read_to_string(t.config_path()).unwrap()
}

/// Sets the file's mtime to a fixed past instant, to see whether a run writes it.
fn age(path: &Path) -> SystemTime {
    let old = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000_000);
    std::fs::File::options().write(true).open(path).unwrap().set_modified(old).unwrap();
    old
}

fn mtime(path: &Path) -> SystemTime {
    std::fs::metadata(path).unwrap().modified().unwrap()
}

/// The profile section populate writes for account `i` and `role`.
fn section(i: usize, role: &str, extra: &str) -> String {
    format!(
        "[profile Account-{i:04}.{role}]\nsso_session = corp\nsso_account_id = {}\nsso_role_name = {role}\n{extra}",
        organisation_account_id(i)
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_thousand_accounts_dry_run_write_rerun_gain_lose_prune() {
    let (s, t) = signed_in(1000).await;
    let path = t.config_path();

    // Dry run: the diff on stdout, the file untouched (bytes and mtime).
    let old = age(&path);
    let r = tobira(&t, &["configure", "populate", "--default-region", "us-west-2", "--dry-run"]);
    assert_eq!(r.code, Some(0), "{r:?}");
    assert!(
        r.stdout.starts_with("--- ~/.aws/config\n+++ ~/.aws/config (after populate)\n@@ -10,3 +10,15008 @@\n"),
        "{}",
        &r.stdout[..300]
    );
    assert!(r.stdout.contains(&format!("\n+{}", section(1, "Billing", "").replace('\n', "\n+"))));
    assert!(r.stdout.contains("Dry run: ~/.aws/config was not written"), "{}", r.stdout);
    assert_eq!((config(&t), mtime(&path)), (MINE.to_string(), old));

    // The run: the hand-written text is kept byte for byte, then the block.
    let r = tobira(&t, &["configure", "populate", "--default-region", "us-west-2"]);
    assert_eq!(r.code, Some(0), "{r:?}");
    assert_eq!(r.stderr, "");
    assert_eq!(
        r.stdout,
        "sso-session corp: 1000 account(s), 3000 role(s) listed (1010 portal calls, 0 throttled and retried)\n  first run: 3000 profile(s)\nUpdated ~/.aws/config.\n"
    );
    let written = config(&t);
    let block = written.strip_prefix(MINE).expect("everything before the block is as it was");
    let mut expected = "# BEGIN tobira managed: populate sso-session corp\n\
        # Profiles for every account and role of sso-session corp, written by `tobira configure populate`.\n\
        # Run it again to update them: it rewrites everything between the BEGIN and END lines.\n\
        # settings: --template '{account_name}.{role}' --default-region us-west-2\n"
        .to_string();
    for i in 1..=1000 {
        for role in ROLES {
            expected.push_str(&section(i, role, "region = us-west-2\n"));
        }
    }
    expected.push_str("# END tobira managed: populate sso-session corp\n");
    assert_eq!(block, expected);

    // Again, no flags: the settings are remembered, nothing changes, nothing is written.
    let old = age(&path);
    let r = tobira(&t, &["configure", "populate"]);
    assert_eq!(r.code, Some(0), "{r:?}");
    assert!(
        r.stdout.ends_with(
            "  no change since the last run (3000 profile(s))\n~/.aws/config is up to date; it was not written.\n"
        ),
        "{}",
        r.stdout
    );
    assert_eq!((config(&t), mtime(&path)), (written.clone(), old));

    // Account 7 loses Billing, account 8 gains Audit.
    let mut d = s.idc.directory();
    d.assignments.retain(|a| !(a.account == organisation_account_id(7) && a.permission_set == "Billing"));
    let mut audit = d.permission_sets[0].clone();
    audit.name = "Audit".into();
    audit.id = String::new();
    d.permission_sets.push(audit);
    d.assignments.push(Assignment {
        principal: "user:alice".into(),
        account: organisation_account_id(8),
        permission_set: "Audit".into(),
    });
    s.idc.replace_directory(d).unwrap();
    let r = tobira(&t, &["configure", "populate"]);
    assert_eq!(r.code, Some(0), "{r:?}");
    assert!(
        r.stdout.contains(
            "  roles gained, profiles added (1):\n    Account-0008.Audit  (100000000008 Audit)\n  roles lost, profiles kept (`--prune` removes them) (1):\n    Account-0007.Billing  (100000000007 Billing)\n  3001 profile(s) in all\nUpdated ~/.aws/config.\n"
        ),
        "{}",
        r.stdout
    );
    let gone = "# gone: this account and role were not found at the last run; `tobira configure populate --prune` removes it\n";
    let kept = config(&t);
    assert!(kept.contains(&format!("{gone}{}", section(7, "Billing", "region = us-west-2\n"))));
    assert_eq!(
        kept,
        written
            .replace(
                &section(8, "Billing", "region = us-west-2\n"),
                &format!(
                    "{}{}",
                    section(8, "Audit", "region = us-west-2\n"),
                    section(8, "Billing", "region = us-west-2\n")
                )
            )
            .replace(
                &section(7, "Billing", "region = us-west-2\n"),
                &format!("{gone}{}", section(7, "Billing", "region = us-west-2\n"))
            )
    );

    // --prune removes that profile and nothing else.
    let r = tobira(&t, &["configure", "populate", "--prune"]);
    assert_eq!(r.code, Some(0), "{r:?}");
    assert!(
        r.stdout.contains("  roles lost, profiles removed (1):\n    Account-0007.Billing  (100000000007 Billing)\n"),
        "{}",
        r.stdout
    );
    assert_eq!(config(&t), kept.replace(&format!("{gone}{}", section(7, "Billing", "region = us-west-2\n")), ""));
    let old = age(&path);
    let r = tobira(&t, &["configure", "populate", "--prune"]);
    assert!(r.stdout.contains("no change since the last run (3000 profile(s))"), "{}", r.stdout);
    assert_eq!(mtime(&path), old);
}

fn python() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/python")
}

/// What botocore makes of the files in `home`: its profile map and sso-sessions.
fn botocore_view(t: &TestEnv) -> Option<Value> {
    let py = python();
    if !py.exists() {
        // The interop tests' switch (set by the person running them, read here only).
        #[allow(clippy::disallowed_methods)]
        if std::env::var_os("TOBIRA_SKIP_INTEROP").is_some() {
            return None;
        }
        panic!("{} not found: run scripts/setup-python.sh (or set TOBIRA_SKIP_INTEROP=1 to skip)", py.display());
    }
    let code = "import json, botocore.session\nc = botocore.session.Session().full_config\nprint(json.dumps({'profiles': c.get('profiles', {}), 'sso_sessions': c.get('sso_sessions', {})}))\n";
    let mut cmd = t.command(&py);
    cmd.args(["-c", code])
        .env("AWS_CONFIG_FILE", t.config_path())
        .env("AWS_SHARED_CREDENTIALS_FILE", t.credentials_path());
    let r = run(cmd);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    Some(serde_json::from_str(&r.stdout).unwrap())
}

/// The same view from tobira's reader.
fn tobira_view(t: &TestEnv) -> Value {
    let bytes = std::fs::read(t.config_path()).unwrap();
    let set = tobira_config::ProfileSet::from_bytes(Path::new("config"), Some(&bytes), Path::new("credentials"), None)
        .unwrap();
    let map = |blocks: Vec<&tobira_config::files::Block>| {
        blocks
            .into_iter()
            .map(|b| {
                let keys: BTreeMap<String, Value> =
                    b.props.iter().map(|p| (p.key.clone(), json!(p.value.as_text().unwrap_or_default()))).collect();
                (b.name.clone(), json!(keys))
            })
            .collect::<serde_json::Map<_, _>>()
    };
    json!({ "profiles": map(set.profiles().iter().collect()), "sso_sessions": map(set.sso_sessions().collect()) })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn botocore_reads_the_populated_file_as_tobira_does() {
    let (s, t) = signed_in(1000).await;
    let r = tobira(&t, &["configure", "populate", "--template", "{session}/{account_name}:{role}", "--output", "json"]);
    assert_eq!(r.code, Some(0), "{r:?}");
    let ours = tobira_view(&t);
    assert_eq!(ours["profiles"].as_object().unwrap().len(), 3000 + 2, "3000 populated + default + mine");
    assert_eq!(
        ours["profiles"]["corp-Account-0042-FullAccess"],
        json!({"sso_session": "corp", "sso_account_id": "100000000042", "sso_role_name": "FullAccess", "output": "json"})
    );
    if let Some(boto) = botocore_view(&t) {
        assert_eq!(boto, ours);
    }

    // The credential_process form: botocore sees the command, and no sso_* key.
    let r = tobira(&t, &["configure", "populate", "--form", "credential-process"]);
    assert_eq!(r.code, Some(0), "{r:?}");
    assert!(r.stdout.contains("  3000 profile(s) rewritten with the new settings\n"), "{}", r.stdout);
    let ours = tobira_view(&t);
    assert_eq!(
        ours["profiles"]["corp-Account-0042-FullAccess"],
        json!({"credential_process": "tobira credential-process --sso-session corp --account-id 100000000042 --role-name FullAccess", "output": "json"})
    );
    if let Some(boto) = botocore_view(&t) {
        assert_eq!(boto, ours);
    }

    // The command works: tobira runs it for the profile, and so does botocore,
    // the second time from the role-credential cache both share.
    let bin = Path::new(TOBIRA).parent().unwrap().display().to_string();
    let mut cmd = t.command(TOBIRA);
    cmd.args(["credential-process", "--profile", "corp-Account-0042-FullAccess"])
        .env("PATH", format!("{bin}:/usr/bin:/bin"));
    let r = run(cmd);
    assert_eq!(r.code, Some(0), "{r:?}");
    let creds: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(creds["Version"], 1);
    assert_eq!(creds["AccountId"], "100000000042");
    assert_eq!(s.idc.count("GetRoleCredentials"), 1);
    if python().exists() {
        let code = "import botocore.session\nc = botocore.session.Session(profile='corp-Account-0042-FullAccess').get_credentials().get_frozen_credentials()\nprint(c.access_key)\n";
        let mut cmd = t.command(python());
        cmd.args(["-c", code]).env("PATH", format!("{bin}:/usr/bin:/bin"));
        let r = run(cmd);
        assert_eq!(r.code, Some(0), "{}", r.stderr);
        assert_eq!(r.stdout.trim(), creds["AccessKeyId"].as_str().unwrap());
        assert_eq!(s.idc.count("GetRoleCredentials"), 1, "served from the cache");
    }

    // An sso-session that does not exist: one line, and the fix.
    let r = tobira(&t, &["credential-process", "--sso-session", "nope", "--account-id", "1", "--role-name", "R"]);
    assert_eq!(r.code, Some(5), "{r:?}");
    assert!(
        r.stderr.starts_with("tobira: The specified sso-session does not exist: \"nope\" (add an `[sso-session nope]`"),
        "{}",
        r.stderr
    );
    assert_eq!(r.stderr.lines().count(), 1);
}

/// A listing that does not complete: what was listed is written, the
/// profiles of the account that could not be listed stay as they were (even
/// with --prune), and the error says what failed. A sign-in that ends
/// part-way writes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_incomplete_listing_keeps_what_it_could_not_see() {
    use tobira_idc::{Faults, OneShot};
    let (s, t) = signed_in(5).await;
    let r = tobira(&t, &["configure", "populate"]);
    assert_eq!(r.code, Some(0), "{r:?}");
    let written = config(&t);
    assert_eq!(written.matches("[profile Account-").count(), 15);

    let fault = |code: &str, status| {
        let one_shot = vec![OneShot { operation: "ListAccountRoles".into(), code: code.into(), status }];
        Faults { one_shot: one_shot.into(), ..Faults::default() }
    };
    s.idc.set_faults(fault("ForbiddenException", 403));
    let r = tobira(&t, &["configure", "populate", "--prune"]);
    assert_eq!(r.code, Some(8), "{r:?}");
    assert!(
        r.stdout.contains("  3 profile(s) kept as they were: their account could not be listed this time\n"),
        "{}",
        r.stdout
    );
    assert_eq!(config(&t), written, "nothing pruned: the account's access is unknown, not gone");
    assert!(
        r.stderr.starts_with(
            "error: the roles of 1 account(s) could not be listed; those of 4 account(s) were\n  account 1000000000"
        ),
        "{}",
        r.stderr
    );
    assert!(r.stderr.ends_with(
        "ListAccountRoles failed after 1 attempt: An error occurred (ForbiddenException) when calling the ListAccountRoles operation: injected fault\n\nhint: run `tobira configure populate --sso-session corp` again to retry\n\nhint: the profiles of every account that was listed are written; those of accounts that could not be listed were kept as they were\n"
    ), "{}", r.stderr);

    // The sign-in ends part-way: nothing is written, and the fix is to sign in.
    let path = t.config_path();
    let old = age(&path);
    s.idc.set_faults(fault("UnauthorizedException", 401));
    let r = tobira(&t, &["configure", "populate", "--prune"]);
    assert_eq!(r.code, Some(7), "{r:?}");
    assert!(r.stderr.contains("hint: sign in again with `tobira login --sso-session corp`"), "{}", r.stderr);
    assert_eq!(r.stdout, "");
    assert_eq!((config(&t), mtime(&path)), (written, old));
}

/// Errors that need no portal call: a bad template, no session, several sessions.
#[test]
fn populate_usage_errors() {
    let t = TestEnv::new();
    let r = tobira(&t, &["configure", "populate"]);
    assert_eq!(r.code, Some(5), "{r:?}");
    assert_eq!(
        r.stderr,
        "error: there is no [sso-session] section in ~/.aws/config to populate profiles from\n\nhint: create one with `tobira configure sso-session --sso-session NAME --start-url URL --sso-region REGION`\n"
    );
    t.write_config(&format!(
        "{MINE}[sso-session other]\nsso_start_url = https://x.awsapps.com/start\nsso_region = eu-west-1\n"
    ));
    let r = tobira(&t, &["configure", "populate"]);
    assert_eq!(r.code, Some(2), "{r:?}");
    assert_eq!(
        r.stderr,
        "error: several sso-sessions are configured: corp, other\n\nhint: pick one with `--sso-session corp`, or write them all with `--all`\n"
    );
    let r = tobira(&t, &["configure", "populate", "--all", "--template", "{acount}.{role}"]);
    assert_eq!(r.code, Some(2), "{r:?}");
    assert_eq!(
        r.stderr,
        "error: the template `{acount}.{role}` uses `{acount}`, which is not a variable\n\nhint: the variables are {account_name}, {account_id}, {role}, {session}\n"
    );
    let before = config(&t);
    let r = tobira(&t, &["configure", "populate", "--sso-session", "corp", "--default-region", "eu west"]);
    assert_eq!(r.code, Some(2), "{r:?}");
    assert_eq!(r.stderr, "error: --default-region `eu west`: letters, digits and `-` only\n");
    assert_eq!(config(&t), before);
}
