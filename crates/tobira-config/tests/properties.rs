//! Property tests: printing an unedited document gives the input back for
//! any text; nothing panics on any bytes; an edit changes only its target.

use std::path::Path;

use proptest::prelude::*;
use tobira_config::ini::{Document, sections};
use tobira_config::{Editor, Env, FileKind, ProfileSet, Target, resolve_profile};

/// Lines that exercise the grammar: headers, options with both delimiters,
/// comments, blanks, continuations, odd whitespace and unicode.
fn fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("[default]".to_string()),
        "[a-z ]{0,3}\\[(profile|sso-session|services)? {0,2}[a-zA-Z\"' ]{0,8}\\][ a-z]{0,3}",
        "[ \t]{0,2}[a-zA-Z_]{1,12}[ \t]{0,2}[=:][ \t]{0,2}[ -~]{0,20}",
        "[ \t]{0,3}[#;][ -~]{0,20}",
        "[ \t]{0,3}",
        "[ \t]{1,4}[a-z_]{1,8} ?= ?[a-z0-9:/.]{0,10}",
        "\\PC{0,12}",
    ]
}

fn document() -> impl Strategy<Value = String> {
    (prop::collection::vec((fragment(), prop_oneof![Just("\n"), Just("\r\n"), Just("\r")]), 0..30), any::<bool>())
        .prop_map(|(lines, trailing)| {
            let mut s: String = lines.iter().map(|(l, e)| format!("{l}{e}")).collect();
            if !trailing && s.ends_with('\n') {
                s.pop();
            }
            s
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn round_trip_generated(text in document()) {
        prop_assert_eq!(Document::parse(&text).to_string(), text);
    }

    #[test]
    fn round_trip_any_string(text in "\\PC*|[\\x00-\\x7f\\r\\n]*") {
        prop_assert_eq!(Document::parse(&text).to_string(), text);
    }

    #[test]
    fn never_panics_on_any_bytes(config in prop::collection::vec(any::<u8>(), 0..300), cred in document()) {
        let set = ProfileSet::from_bytes(Path::new("c"), Some(&config), Path::new("k"), Some(cred.as_bytes()));
        if let Ok(set) = set {
            let env = Env::default();
            for p in set.profiles() {
                let _ = resolve_profile(&set, &env, &p.name, None);
            }
        }
    }

    #[test]
    fn never_panics_on_generated_files(config in document(), cred in document()) {
        if let Ok(set) = ProfileSet::from_bytes(Path::new("c"), Some(config.as_bytes()), Path::new("k"), Some(cred.as_bytes())) {
            let env = Env::from_pairs([("AWS_PROFILE", "default")]);
            for p in set.profiles() {
                let _ = resolve_profile(&set, &env, &p.name, None);
                let _ = tobira_config::resolve(&set, &env, &tobira_config::Flags::default());
            }
        }
    }
}

/// A valid config: unique sections with unique keys, comments and blank
/// lines between, varied spacing around delimiters.
#[derive(Clone, Debug)]
struct Valid {
    text: String,
    sections: Vec<(String, Vec<String>)>,
}

fn valid() -> impl Strategy<Value = Valid> {
    let key = "[a-z_]{1,10}";
    let section = (prop::collection::btree_set(key, 0..5), prop::collection::vec(0..4u8, 6));
    (prop::collection::btree_map("[a-z0-9-]{1,8}", section, 1..6), any::<bool>()).prop_map(|(map, crlf)| {
        let eol = if crlf { "\r\n" } else { "\n" };
        let mut text = String::from("# managed by hand");
        text.push_str(eol);
        let mut sections = Vec::new();
        for (name, (keys, styles)) in map {
            text.push_str(&format!("[profile {name}]{eol}"));
            let keys: Vec<String> = keys.into_iter().collect();
            for (i, k) in keys.iter().enumerate() {
                let style = styles[i % styles.len()];
                let line = match style {
                    0 => format!("{k} = v{i}"),
                    1 => format!("{k}=v{i}"),
                    2 => format!("{k}: v{i}   "),
                    _ => format!("{k} = v{i}{eol}; comment about {k}"),
                };
                text.push_str(&line);
                text.push_str(eol);
            }
            if styles[5] % 2 == 0 {
                text.push_str(eol);
            }
            sections.push((name, keys));
        }
        Valid { text, sections }
    })
}

fn values(doc: &Document) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for s in sections(doc).expect("valid document") {
        for p in s.properties {
            out.push((s.header.clone(), p.key, p.value.as_text().unwrap_or_default().to_string()));
        }
    }
    out
}

fn lines(s: &str) -> Vec<String> {
    Document::parse(s).lines().iter().map(|l| l.text.clone()).collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 500, ..ProptestConfig::default() })]

    #[test]
    fn set_changes_only_the_target(v in valid(), pick in any::<prop::sample::Index>(), new_key in any::<bool>(), value in "[a-zA-Z0-9:/._-]{0,16}") {
        let (section, keys) = &v.sections[pick.index(v.sections.len())];
        let key = if new_key || keys.is_empty() { "zz_new_key".to_string() } else { keys[pick.index(keys.len())].clone() };
        let mut e = Editor::parse(&v.text, FileKind::Config);
        let before_values = values(&e.doc);
        e.set(&Target::Profile(section.clone()), &key, &value).unwrap();
        let after = e.doc.to_string();

        // Semantics: the target has the new value, everything else is unchanged.
        let header = format!("profile {section}");
        let mut expected: Vec<_> = before_values.iter().filter(|(h, k, _)| !(h == &header && k == &key)).cloned().collect();
        let got = values(&Document::parse(&after));
        let (target, rest): (Vec<_>, Vec<_>) = got.into_iter().partition(|(h, k, _)| h == &header && k == &key);
        prop_assert_eq!(target, vec![(header.clone(), key.clone(), value.clone())]);
        expected.sort();
        let mut rest = rest;
        rest.sort();
        prop_assert_eq!(rest, expected);

        // Bytes: one line replaced, or one line inserted; nothing else moves.
        let (old, new) = (lines(&v.text), lines(&after));
        if keys.contains(&key) {
            prop_assert_eq!(old.len(), new.len());
            let changed: Vec<usize> = (0..old.len()).filter(|&i| old[i] != new[i]).collect();
            prop_assert!(changed.len() <= 1, "changed lines {:?}", changed);
        } else {
            prop_assert_eq!(old.len() + 1, new.len());
            let at = (0..old.len()).find(|&i| old[i] != new[i]).unwrap_or(old.len());
            let mut without = new.clone();
            without.remove(at);
            prop_assert_eq!(without, old);
        }
    }

    #[test]
    fn remove_key_removes_one_line(v in valid(), pick in any::<prop::sample::Index>()) {
        let (section, keys) = &v.sections[pick.index(v.sections.len())];
        prop_assume!(!keys.is_empty());
        let key = &keys[pick.index(keys.len())];
        let mut e = Editor::parse(&v.text, FileKind::Config);
        prop_assert!(e.remove_key(&Target::Profile(section.clone()), key).unwrap());
        let (old, new) = (lines(&v.text), lines(&e.doc.to_string()));
        prop_assert_eq!(old.len(), new.len() + 1);
        let at = (0..new.len()).find(|&i| old[i] != new[i]).unwrap_or(new.len());
        let mut restored = new.clone();
        restored.insert(at, old[at].clone());
        prop_assert_eq!(restored, old);
    }
}
