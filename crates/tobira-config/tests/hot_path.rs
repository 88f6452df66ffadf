//! The hot path's shortcut (`ProfileSet::for_profile`, `ini::scan_headers`)
//! against the full parse: the same headers for any text, and the same
//! resolution on every scenario and on generated files, whenever the
//! shortcut answers (docs/hot-path.md).

mod common;

use std::path::Path;

use proptest::prelude::*;
use tobira_config::ini::{Document, LineKind, line_at, scan_headers};
use tobira_config::resolve::select_profile;
use tobira_config::{Env, Flags, ProfileSet, resolve};

/// The resolution as data: the plan, or the error's words.
fn outcome(set: &ProfileSet, env: &Env, flags: &Flags) -> String {
    match resolve(set, env, flags) {
        Ok(plan) => serde_json::to_string(&plan).unwrap_or_default(),
        Err(e) => format!("error: {e}"),
    }
}

#[test]
fn every_scenario_resolves_the_same_through_the_shortcut() {
    let mut answered = 0;
    for s in common::all() {
        let Ok(full) = s.profile_set() else { continue };
        let paths = tobira_config::Paths::locate(&s.env);
        let rel = |p: &Path| p.strip_prefix(&s.dir).map(Path::to_path_buf).unwrap_or_else(|_| p.to_path_buf());
        let read = |p: &Path| std::fs::read(p).ok();
        let (c, k) = (read(&paths.config.value), read(&paths.credentials.value));
        let (name, _) = select_profile(&s.flags, &s.env);
        let Some(short) = ProfileSet::for_profile(
            &rel(&paths.config.value),
            c.as_deref(),
            &rel(&paths.credentials.value),
            k.as_deref(),
            &name.value,
        ) else {
            continue;
        };
        answered += 1;
        let (a, b) = (outcome(&full, &s.env, &s.flags), outcome(&short, &s.env, &s.flags));
        // A missing profile's error lists close matches from the whole file:
        // the hot path leaves that error to the full parse.
        if a.starts_with("error: The config profile") {
            continue;
        }
        assert_eq!(a, b, "scenario {}", s.name);
    }
    assert!(answered > 100, "the shortcut answered only {answered} scenarios");
}

fn fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("[default]".to_string()),
        Just("[DEFAULT]".to_string()),
        "[ \t]{0,2}\\[(profile|sso-session|services) {1,2}[ab\"' ]{1,4}\\][ a-z]{0,3}",
        "[ \t]{0,2}(source_profile|sso_session|services|role_arn|region|sso_account_id|sso_role_name|aws_access_key_id|aws_secret_access_key|credential_source|endpoint_url)[ \t]{0,2}[=:][ \t]{0,2}(a|b|\"a\"|arn:aws:iam::1:role/r|Environment|x)",
        "[ \t]{0,3}[#;][ -~]{0,10}",
        "[ \t]{0,3}",
        "[ \t]{1,4}(sts|sso) ?= ?(http://x)?",
        "[ \t]{1,4}endpoint_url ?= ?http://x",
        "\\PC{0,8}",
    ]
}

fn document() -> impl Strategy<Value = String> {
    prop::collection::vec((fragment(), prop_oneof![Just("\n"), Just("\r\n"), Just("\r")]), 0..30)
        .prop_map(|lines| lines.iter().map(|(l, e)| format!("{l}{e}")).collect())
}

/// `\n` line ends only: the scanner's column-zero path (no `\r` anywhere).
fn document_lf() -> impl Strategy<Value = String> {
    prop::collection::vec(fragment(), 0..40).prop_map(|lines| lines.iter().map(|l| format!("{l}\n")).collect())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    /// The headers the scanner finds are exactly the lines the full
    /// analysis calls headers, with the same names and lines.
    #[test]
    fn the_scanner_finds_the_headers_the_parser_finds(text in prop_oneof![document(), document_lf()]) {
        let doc = Document::parse(&text);
        let full: Vec<(String, usize)> = doc
            .analyze()
            .kinds
            .iter()
            .enumerate()
            .filter_map(|(i, k)| match k {
                LineKind::Header { name } => Some((name.clone(), i + 1)),
                _ => None,
            })
            .collect();
        let fast: Vec<(String, usize)> =
            scan_headers(&text).iter().map(|h| (h.name.to_string(), line_at(&text, h.start))).collect();
        prop_assert_eq!(&fast, &full);
        for h in scan_headers(&text) {
            prop_assert!(text[h.start..].starts_with(doc.lines()[line_at(&text, h.start) - 1].text.as_str()));
        }
    }

    /// For every profile the files name, the shortcut resolves as the full
    /// parse does whenever both answer.
    #[test]
    fn the_shortcut_resolves_as_the_full_parse(
        config in prop_oneof![document(), document_lf()],
        credentials in prop_oneof![document(), document_lf()],
    ) {
        let (cp, kp) = (Path::new("config"), Path::new("credentials"));
        let Ok(full) = ProfileSet::from_bytes(cp, Some(config.as_bytes()), kp, Some(credentials.as_bytes())) else {
            return Ok(());
        };
        let env = Env::default();
        let mut names: Vec<String> = full.profiles().iter().map(|p| p.name.clone()).collect();
        names.push("default".into());
        for name in names {
            let flags = Flags { profile: Some(name.clone()), region: None };
            let Some(short) = ProfileSet::for_profile(cp, Some(config.as_bytes()), kp, Some(credentials.as_bytes()), &name) else {
                continue;
            };
            let a = outcome(&full, &env, &flags);
            if a.starts_with("error: The config profile") {
                continue;
            }
            prop_assert_eq!(a, outcome(&short, &env, &flags), "profile {}", name);
        }
    }
}
