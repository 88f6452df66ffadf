//! The progress bar of portal listings: drawn on stderr when stderr is a
//! terminal, nothing at all otherwise (pipes, files, CI logs).

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use tobira_auth::portal::Progress;

/// A bar that is only there on a terminal.
#[derive(Debug)]
pub struct Bar(Option<ProgressBar>);

impl Bar {
    /// A spinner saying `what` until the number of accounts is known.
    pub fn new(what: &str) -> Bar {
        if !std::io::stderr().is_terminal() {
            return Bar(None);
        }
        let bar = ProgressBar::new_spinner();
        bar.set_message(what.to_string());
        bar.enable_steady_tick(Duration::from_millis(120));
        Bar(Some(bar))
    }

    /// Removes the bar (before printing results or an error).
    pub fn clear(&self) {
        if let Some(b) = &self.0 {
            b.finish_and_clear();
        }
    }
}

impl Drop for Bar {
    fn drop(&mut self) {
        self.clear();
    }
}

impl Progress for Bar {
    fn accounts_listed(&self, n: usize) {
        if let Some(b) = &self.0 {
            b.set_message(format!("Listing accounts: {n} so far"));
        }
    }

    fn roles_listed(&self, done: usize, total: usize) {
        let Some(b) = &self.0 else { return };
        if b.length() != Some(total as u64) {
            let style = ProgressStyle::with_template(
                "{bar:30} {pos}/{len} accounts' roles listed ({elapsed}, about {eta} left)",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar());
            b.set_style(style);
            b.set_length(total as u64);
        }
        b.set_position(done as u64);
    }
}
