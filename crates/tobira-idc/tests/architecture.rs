//! ARCHITECTURE.md's rule for tobira-idc, checked on the source: arrows point
//! down. Protocol modules never import each other; the domain layer imports
//! neither HTTP frameworks, nor the wire layer, nor any protocol.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

const PROTOCOLS: &[&str] = &["oidc", "portal", "sts", "aws_admin", "signin", "admin_api", "pages", "federation"];

fn sources(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(sources(&p));
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
    out
}

/// The top-level module a source file belongs to (`pages/device.rs` → `pages`).
fn module_of(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).unwrap();
    let first = rel.components().next().unwrap().as_os_str().to_string_lossy().to_string();
    first.trim_end_matches(".rs").to_string()
}

/// Crate modules a file names: `crate::x`, `use crate::{x, y}`, and `super::x` from a top-level file.
fn imports(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (i, _) in text.match_indices("crate::") {
        let rest = &text[i + "crate::".len()..];
        if let Some(list) = rest.strip_prefix('{') {
            let end = list.find('}').unwrap_or(list.len());
            for item in list[..end].split(',') {
                out.push(item.trim().split("::").next().unwrap_or("").to_string());
            }
        } else {
            out.push(rest.split(|c: char| !(c.is_alphanumeric() || c == '_')).next().unwrap_or("").to_string());
        }
    }
    out
}

#[test]
fn arrows_point_down() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut broken = Vec::new();
    let mut seen = 0;
    for file in sources(&src) {
        let module = module_of(&src, &file);
        let text = std::fs::read_to_string(&file).unwrap();
        let names = imports(&text);
        if PROTOCOLS.contains(&module.as_str()) {
            seen += 1;
            for n in &names {
                if PROTOCOLS.contains(&n.as_str()) && *n != module {
                    broken.push(format!("{}: protocol `{module}` imports sibling protocol `{n}`", file.display()));
                }
            }
        }
        if module == "domain" || module == "wire" {
            let forbidden: &[&str] = if module == "domain" {
                &["wire", "router", "middleware", "app"]
            } else {
                &["router", "middleware", "app"]
            };
            for n in &names {
                if PROTOCOLS.contains(&n.as_str()) || forbidden.contains(&n.as_str()) {
                    broken.push(format!("{}: `{module}` imports `{n}`, a layer above it", file.display()));
                }
            }
            if module == "domain" && (text.contains("use axum") || text.contains("axum::")) {
                broken.push(format!("{}: the domain layer uses axum", file.display()));
            }
        }
    }
    assert!(seen >= 8, "the protocol modules were not found under {}", src.display());
    assert!(broken.is_empty(), "{}", broken.join("\n"));
}

#[test]
fn the_checker_sees_a_sideways_import() {
    assert_eq!(imports("use crate::{Idc, oidc::x};\nlet a = crate::pages::y;"), ["Idc", "oidc", "pages"]);
}
