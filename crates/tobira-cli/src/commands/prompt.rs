//! What the wizards (`configure sso`, `configure iam-user`, `configure
//! role`, `login --console`) share about asking: whether there is a terminal
//! to ask on, the error when there is none, what a cancelled prompt means,
//! and the region check.

use std::io::IsTerminal;

use crate::{CliError, Kind};

/// A terminal to ask on: stdin to read, stderr to draw the prompt on.
pub(crate) fn interactive() -> bool {
    std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
}

/// An answer that no flag gave, without a terminal to ask it on.
pub(crate) fn missing_flag(flag: &str, what: &str) -> CliError {
    CliError::new(Kind::Usage, format!("{what} is needed, and tobira does not ask questions without a terminal"))
        .hint(format!("give it with `{flag}`"))
}

/// A prompt that failed: Esc or Ctrl-C cancels with nothing written.
pub(crate) fn prompt_error(e: inquire::InquireError) -> CliError {
    match e {
        inquire::InquireError::OperationCanceled | inquire::InquireError::OperationInterrupted => {
            CliError::new(Kind::Interrupted, "cancelled; nothing was written")
        }
        other => CliError::new(Kind::Internal, format!("cannot prompt: {other}")),
    }
}

/// A region name such as `us-east-1`.
pub(crate) fn valid_region(v: &str) -> Result<(), String> {
    if v.is_empty() || !v.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-') {
        Err(format!("`{v}` is not a region name such as us-east-1"))
    } else {
        Ok(())
    }
}
