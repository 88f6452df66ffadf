//! The hot path (docs/hot-path.md): on a cache hit, `credential-process` and
//! `export` read only the sections the profile needs, so a mistake elsewhere
//! in the file does not stop them, while every command that reads the whole
//! file reports it exactly as before; a mistake in the profile's own
//! sections goes the full way and is reported.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers outside #[test] fns

use tobira_idc::Settings;
use tobira_test_support::{IdcServer, Run, TestEnv, run};

const TOBIRA: &str = env!("CARGO_BIN_EXE_tobira");

const CONFIG: &str = "\
[profile base]
sso_session = corp
sso_account_id = 111111111111
sso_role_name = ReadOnly
[profile dev]
source_profile = base
role_arn = arn:aws:iam::123456789012:role/Audit
external_id = audit-ext-1
region = eu-west-1
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

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_cache_hit_reads_only_the_profiles_chain() {
    let s = IdcServer::start(Settings { auto_approve: Some("alice".into()), ..Settings::default() }).await;
    let mut t = TestEnv::new();
    t.env("AWS_ENDPOINT_URL", &s.url);
    t.write_config(CONFIG);
    let r = tobira(&t, &["login", "--sso-session", "corp", "--use-device-code", "--no-browser"]);
    assert_eq!(r.code, Some(0), "{r:?}");
    // The first call fills the caches: SSO role credentials, then the assumed role.
    let first = tobira(&t, &["credential-process", "--profile", "dev"]);
    assert_eq!(first.code, Some(0), "{first:?}");
    let calls = (s.idc.count("GetRoleCredentials"), s.idc.count("AssumeRole"));

    // A mistake in a section the profile does not use (a key given twice:
    // botocore refuses the whole file).
    let broken = format!("{CONFIG}[profile other]\nregion = us-east-1\nregion = us-west-2\n");
    t.write_config(&broken);
    let r = tobira(&t, &["credential-process", "--profile", "dev"]);
    assert_eq!((r.code, r.stdout.as_str(), r.stderr.as_str()), (Some(0), first.stdout.as_str(), ""));
    let r = tobira(&t, &["export", "--profile", "dev", "--format", "env-no-export"]);
    assert_eq!(r.code, Some(0), "{r:?}");
    assert!(r.stdout.ends_with("AWS_REGION=eu-west-1\nAWS_DEFAULT_REGION=eu-west-1\n"), "{}", r.stdout);
    assert_eq!((s.idc.count("GetRoleCredentials"), s.idc.count("AssumeRole")), calls, "no network on a hit");
    // Commands that read the whole file report the mistake as before.
    let parse_error = "error: cannot parse the AWS config file: ~/.aws/config:16: key `region` appears twice in section `[profile other]` (first on line 15)\n\nhint: fix line 16 of ~/.aws/config; the AWS CLI and SDKs refuse this file too (\"Unable to parse config file\")\n";
    for args in [&["profiles"][..], &["profile", "show", "dev"], &["whoami", "--profile", "dev"]] {
        let r = tobira(&t, args);
        assert_eq!((r.code, r.stderr.as_str()), (Some(3), parse_error), "{args:?}");
    }

    // A mistake in a section of the chain: the full way, and its error.
    t.write_config(&CONFIG.replace("sso_role_name = ReadOnly\n", "sso_role_name = ReadOnly\nsso_role_name = Other\n"));
    let r = tobira(&t, &["credential-process", "--profile", "dev"]);
    assert_eq!(r.code, Some(3), "{r:?}");
    assert!(r.stderr.starts_with("tobira: cannot parse the AWS config file: ~/.aws/config:5:"), "{}", r.stderr);

    // A profile that does not exist: the full way, with the close matches.
    t.write_config(&broken.replace("[profile other]\nregion = us-east-1\nregion = us-west-2\n", ""));
    let r = tobira(&t, &["credential-process", "--profile", "de"]);
    assert_eq!(r.code, Some(4), "{r:?}");
    assert!(r.stderr.contains("`dev`"), "{}", r.stderr);
}

/// A config larger than the reading buffer, whose chain runs backwards
/// through it (the profile near the end, its source near the start, the
/// sso-session last): the pieces give what the whole file gives, with no
/// network on a hit, and the origins keep their line numbers.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_large_config_is_read_in_pieces() {
    let s = IdcServer::start(Settings { auto_approve: Some("alice".into()), ..Settings::default() }).await;
    let mut t = TestEnv::new();
    t.env("AWS_ENDPOINT_URL", &s.url);
    let (base, rest) = CONFIG.split_at(CONFIG.find("[profile dev]").unwrap());
    let (dev, session) = rest.split_at(rest.find("[sso-session corp]").unwrap());
    let filler = |from: usize, n: usize| -> String {
        (from..from + n)
            .map(|i| format!("[profile Account-{i:06}.ReadOnly]\nsso_session = corp\nsso_account_id = {:012}\nsso_role_name = ReadOnly\n", 100_000_000_000u64 + i as u64))
            .collect()
    };
    let config = format!("{}{base}{}{dev}{}{session}", filler(0, 1_000), filler(1_000, 1_500), filler(2_500, 500));
    assert!(config.len() > 3 * 64 * 1024, "{}", config.len());
    t.write_config(&config);
    let r = tobira(&t, &["login", "--sso-session", "corp", "--use-device-code", "--no-browser"]);
    assert_eq!(r.code, Some(0), "{r:?}");
    let first = tobira(&t, &["credential-process", "--profile", "dev"]);
    assert_eq!(first.code, Some(0), "{first:?}");
    let calls = (s.idc.count("GetRoleCredentials"), s.idc.count("AssumeRole"));
    for _ in 0..3 {
        let r = tobira(&t, &["credential-process", "--profile", "dev"]);
        assert_eq!((r.code, r.stdout.as_str(), r.stderr.as_str()), (Some(0), first.stdout.as_str(), ""));
    }
    let r = tobira(&t, &["export", "--profile", "dev", "--format", "env-no-export"]);
    assert!(r.stdout.ends_with("AWS_REGION=eu-west-1\nAWS_DEFAULT_REGION=eu-west-1\n"), "{r:?}");
    assert_eq!((s.idc.count("GetRoleCredentials"), s.idc.count("AssumeRole")), calls, "no network on a hit");
    // The same file with Windows line ends is read whole, with the same answer.
    t.write_config(&config.replace('\n', "\r\n"));
    let r = tobira(&t, &["credential-process", "--profile", "dev"]);
    assert_eq!((r.code, r.stdout.as_str()), (Some(0), first.stdout.as_str()), "{r:?}");
    assert_eq!((s.idc.count("GetRoleCredentials"), s.idc.count("AssumeRole")), calls, "no network on a hit");
}

/// `--region` reaches the commands that use a region (as the AWS CLI's
/// `--region` does), and is refused, before anything runs, by those that
/// would ignore it.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_region_flag_is_honoured_or_refused() {
    let s = IdcServer::start(Settings { auto_approve: Some("alice".into()), ..Settings::default() }).await;
    let mut t = TestEnv::new();
    t.env("AWS_ENDPOINT_URL", &s.url);
    t.write_config(CONFIG);
    let r = tobira(&t, &["login", "--sso-session", "corp", "--use-device-code", "--no-browser"]);
    assert_eq!(r.code, Some(0), "{r:?}");
    for round in ["miss", "hit"] {
        let r = tobira(&t, &["export", "--profile", "dev", "--region", "ap-south-1", "--format", "env-no-export"]);
        assert!(r.stdout.ends_with("AWS_REGION=ap-south-1\nAWS_DEFAULT_REGION=ap-south-1\n"), "{round}: {r:?}");
    }
    let r = tobira(&t, &["export", "--profile", "dev", "--format", "env-no-export"]);
    assert!(r.stdout.ends_with("AWS_REGION=eu-west-1\nAWS_DEFAULT_REGION=eu-west-1\n"), "{r:?}");
    let r = tobira(&t, &["exec", "--profile", "dev", "--region", "ap-south-1", "--", "sh", "-c", "echo $AWS_REGION"]);
    assert_eq!((r.code, r.stdout.as_str()), (Some(0), "ap-south-1\n"), "{r:?}");

    let before = s.idc.count("CreateToken") + s.idc.count("StartDeviceAuthorization");
    let refused: &[(&[&str], &str)] = &[
        (&["sso", "roles", "--region", "eu-west-1"], "error: `--region` has no effect on `tobira sso`"),
        (&["login", "--sso-session", "corp", "--region", "eu-west-1", "--force"], "error: `--region` does not choose"),
        (&["shell-init", "bash", "--profile", "dev"], "error: `--profile` has no effect on `tobira shell-init`"),
        (&["sessions", "--region", "eu-west-1"], "error: `--region` has no effect on `tobira sessions`"),
        (&["configure", "populate", "--profile", "dev", "--dry-run"], "error: `--profile` has no effect"),
    ];
    for (args, start) in refused {
        let r = tobira(&t, args);
        assert_eq!(r.code, Some(2), "{args:?}: {r:?}");
        assert!(r.stderr.starts_with(start), "{args:?}: {}", r.stderr);
        assert!(r.stdout.is_empty(), "{args:?}: {r:?}");
    }
    assert_eq!(s.idc.count("CreateToken") + s.idc.count("StartDeviceAuthorization"), before, "nothing ran");
}
