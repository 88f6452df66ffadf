// A build script reads what Cargo hands it in the environment (CARGO_CFG_*);
// the workspace's rule against reading the environment is for the tool itself.
#![allow(clippy::disallowed_methods)]

fn main() {
    let features = std::env::var("CARGO_CFG_TARGET_FEATURE").unwrap_or_default();
    let gnu_linux = std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux")
        && std::env::var("CARGO_CFG_TARGET_ENV").as_deref() == Ok("gnu");
    if gnu_linux && !features.split(',').any(|f| f == "crt-static") {
        println!("cargo:rustc-link-arg-bin=tobira=-no-pie");
    }
}
