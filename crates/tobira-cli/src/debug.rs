//! `--debug` (or `TOBIRA_DEBUG=1`): a trace on stderr of what tobira
//! resolved, read, called and cached, through the `tracing` ecosystem
//! (docs/debugging.md). Only tobira's own crates speak at the debug level;
//! the AWS SDK's crates only for warnings, because their debug and trace
//! events show requests as they are sent. Secrets are never in a field:
//! tokens and keys are `Secret`s (printed `****`), and the events name
//! paths, services, operations and expiry times only.

use tracing::level_filters::LevelFilter;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt;

use crate::Context;

/// Whether `TOBIRA_DEBUG` asks for the trace (`1`, `true`, `yes`; not `0`).
pub fn wanted(ctx: &Context) -> bool {
    ctx.env
        .get("TOBIRA_DEBUG")
        .is_some_and(|v| !matches!(v.to_ascii_lowercase().as_str(), "0" | "false" | "no" | "off"))
}

/// Installs the subscriber for this process: plain lines on stderr, time
/// since start, the crate and the event's fields.
pub fn install() {
    let filter = Targets::new()
        .with_target("tobira_cli", LevelFilter::DEBUG)
        .with_target("tobira_auth", LevelFilter::DEBUG)
        .with_target("tobira_cache", LevelFilter::DEBUG)
        .with_target("tobira_config", LevelFilter::DEBUG)
        .with_default(LevelFilter::WARN);
    let subscriber = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .with_timer(tracing_subscriber::fmt::time::uptime())
        .with_max_level(LevelFilter::DEBUG)
        .finish()
        .with(filter);
    // A second install (tests calling `run` twice) keeps the first.
    let _ = tracing::subscriber::set_global_default(subscriber);
}
