//! Links `tobira` as a position-dependent executable on Linux with glibc,
//! as Go links granted, aws-vault and aws-sso-cli: a position-independent
//! one spends most of a cached `credential-process` call relocating its
//! own tables (about 100 page faults, docs/hot-path.md §2). Libraries, heap
//! and stack keep their random addresses. `TOBIRA_PIE=1` at build time
//! keeps the position-independent link. Static builds (`crt-static`, as
//! `scripts/build-release` makes) choose their relocation model with rustc
//! flags instead, so nothing is added to them here.

// Build scripts learn the target from Cargo's CARGO_CFG_* variables; the
// rule that only the CLI's Context reads the environment is for the tool.
#![allow(clippy::disallowed_methods)]

fn main() {
    println!("cargo:rerun-if-env-changed=TOBIRA_PIE");
    let var = |k: &str| std::env::var(k).unwrap_or_default();
    let gnu_linux = var("CARGO_CFG_TARGET_OS") == "linux" && var("CARGO_CFG_TARGET_ENV") == "gnu";
    let static_crt = var("CARGO_CFG_TARGET_FEATURE").split(',').any(|f| f == "crt-static");
    if gnu_linux && !static_crt && var("TOBIRA_PIE") != "1" {
        println!("cargo:rustc-link-arg-bin=tobira=-no-pie");
    }
}
