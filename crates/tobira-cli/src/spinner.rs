//! A spinner on stderr while a network step runs, with what tobira is
//! waiting for. Drawn only when stderr is a terminal: pipes, files and CI
//! logs get nothing, so output stays clean for scripts.

use std::io::IsTerminal;
use std::time::Duration;

/// Shown from [`Spinner::start`] until dropped (or [`Spinner::stop`]).
#[derive(Debug)]
pub struct Spinner(Option<indicatif::ProgressBar>);

impl Spinner {
    /// Starts spinning with `message` when stderr is a terminal.
    pub fn start(message: &str) -> Spinner {
        if !std::io::stderr().is_terminal() {
            return Spinner(None);
        }
        let bar = indicatif::ProgressBar::new_spinner();
        bar.set_message(message.to_string());
        bar.enable_steady_tick(Duration::from_millis(100));
        Spinner(Some(bar))
    }

    /// Hides the spinner while `f` runs (a prompt on the terminal).
    pub fn suspend<R>(&self, f: impl FnOnce() -> R) -> R {
        match &self.0 {
            Some(b) => b.suspend(f),
            None => f(),
        }
    }

    /// Removes the spinner (before printing results or an error).
    pub fn stop(&self) {
        if let Some(b) = &self.0 {
            b.finish_and_clear();
        }
    }
}

impl Drop for Spinner {
    fn drop(&mut self) {
        self.stop();
    }
}

/// An MFA prompt that hides the spinner while it asks.
pub struct Paused<'a, P> {
    pub spinner: &'a Spinner,
    pub prompt: P,
}

impl<P: tobira_auth::creds::MfaPrompt> tobira_auth::creds::MfaPrompt for Paused<'_, P> {
    fn code(&mut self, serial: &str) -> Result<String, tobira_auth::AuthError> {
        let prompt = &mut self.prompt;
        self.spinner.suspend(|| prompt.code(serial))
    }

    fn can_ask(&self) -> bool {
        self.prompt.can_ask()
    }

    fn retry(&mut self, serial: &str, refusal: &tobira_auth::mfa_codes::MfaRefusal, attempt: u32) -> bool {
        let prompt = &mut self.prompt;
        self.spinner.suspend(|| prompt.retry(serial, refusal, attempt))
    }
}
