//! The hot path's shortcut (`ProfileSet::for_profile`, `ini::scan_headers`)
//! against the full parse: the same headers for any text, and the same
//! resolution on every scenario and on generated files, whenever the
//! shortcut answers (docs/hot-path.md).

mod common;

use std::path::Path;

use proptest::prelude::*;
use tobira_config::ini::{Document, LineKind, line_at, pick_in_text, pick_sections, scan_headers};
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
        "[ \t]{0,2}\\[(profile|sso-session|services) {1,2}[ab\"'\\\\ ]{1,4}\\][ a-z]{0,3}",
        "[ \t]{0,2}(source_profile|sso_session|services|role_arn|region|sso_account_id|sso_role_name|aws_access_key_id|aws_secret_access_key|credential_source|endpoint_url)[ \t]{0,2}[=:][ \t]{0,2}(a|b|\"a\"|arn:aws:iam::1:role/r|Environment|x)",
        "[ \t]{0,3}[#;][ -~]{0,10}",
        "[ \t]{0,3}",
        "[ \t]{1,4}(sts|sso) ?= ?(http://x)?",
        "[ \t]{1,4}endpoint_url ?= ?http://x",
        "\\PC{0,8}",
    ]
}

/// A file handed over a few bytes per read, as a pipe or a slow disk may:
/// every line is cut somewhere.
struct Trickle {
    inner: std::io::Cursor<Vec<u8>>,
    step: usize,
}

impl std::io::Read for Trickle {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = buf.len().min(self.step);
        self.inner.read(&mut buf[..n])
    }
}

impl std::io::Seek for Trickle {
    fn seek(&mut self, pos: std::io::SeekFrom) -> std::io::Result<u64> {
        self.inner.seek(pos)
    }
}

fn trickle(text: &str, step: usize) -> Trickle {
    Trickle { inner: std::io::Cursor::new(text.as_bytes().to_vec()), step }
}

/// A header longer than the reading buffer: the buffer grows, nothing is cut.
#[test]
fn a_line_longer_than_the_buffer_is_read_whole() {
    let long = "x".repeat(200_000);
    let text = format!("[profile a]\nregion = {long}\n[profile {long}]\nregion = b\n[profile b]\nregion = c");
    let mut all = |_: &str| true;
    let picked = pick_sections(&mut trickle(&text, 70_000), &mut all).expect("reads").expect("usual form");
    assert_eq!(picked, pick_in_text(&text, &mut all));
    assert_eq!(picked.len(), 3);
    assert_eq!((picked[2].line, picked[2].text.as_str()), (5, "[profile b]\nregion = c"));
}

/// Files not in the usual form are not read in pieces.
#[test]
fn unusual_files_are_refused_not_misread() {
    let mut all = |_: &str| true;
    for text in ["[a]\r\nk = v\r\n", "[a]\nk = v\n  [b]\n", "[a]\nk = v\n\u{3000}[b]\n"] {
        assert_eq!(pick_sections(&mut trickle(text, 3), &mut all).expect("reads"), None, "{text:?}");
    }
    let mut bytes = b"[a]\nk = ".to_vec();
    bytes.push(0xff);
    let mut reader = std::io::Cursor::new(bytes);
    assert_eq!(pick_sections(&mut reader, &mut all).expect("reads"), None);
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

    /// Read in pieces of any size, a file in the usual form gives the
    /// sections the whole text gives; any other file is refused.
    #[test]
    fn reading_in_pieces_picks_what_the_whole_text_picks(
        text in prop_oneof![document(), document_lf()],
        step in 1usize..12,
        every in 1usize..4,
    ) {
        let mut seen = 0usize;
        let mut want = |_: &str| { seen += 1; seen.is_multiple_of(every) };
        let pieces = pick_sections(&mut trickle(&text, step), &mut want).expect("reads");
        let mut seen = 0usize;
        let mut want = |_: &str| { seen += 1; seen.is_multiple_of(every) };
        let whole = pick_in_text(&text, &mut want);
        match pieces {
            Some(p) => prop_assert_eq!(p, whole),
            None => prop_assert!(text.contains('\r') || text.lines().any(|l| l.trim_start().starts_with('[') && !l.starts_with('['))
                || !text.is_ascii()),
        }
    }

    /// Through readers handing over a few bytes at a time, the shortcut
    /// resolves as it does from the whole bytes, whatever the form.
    #[test]
    fn the_shortcut_reads_pieces_as_it_reads_the_whole(
        config in prop_oneof![document(), document_lf()],
        credentials in prop_oneof![document(), document_lf()],
        step in 1usize..9,
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
            let whole = ProfileSet::for_profile(cp, Some(config.as_bytes()), kp, Some(credentials.as_bytes()), &name);
            let pieces = ProfileSet::for_profile_reading(cp, Some(trickle(&config, step)), kp, Some(trickle(&credentials, step)), &name);
            prop_assert_eq!(whole.is_some(), pieces.is_some(), "profile {}", &name);
            if let (Some(a), Some(b)) = (whole, pieces) {
                prop_assert_eq!(outcome(&a, &env, &flags), outcome(&b, &env, &flags), "profile {}", name);
            }
        }
    }
}
