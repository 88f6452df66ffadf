//! The one error type of the CLI: what happened, why, and what to run next.
//! Its kind decides the exit code (documented in README.md, "Exit codes").

use std::fmt::Write as _;
use std::process::ExitCode;

use tobira_config::{LoadError, ResolveError};

/// Exit codes. Stable: scripts may depend on them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// 1: an unexpected failure (I/O error, a bug).
    Internal = 1,
    /// 2: the command line is wrong (unknown flag, missing argument).
    Usage = 2,
    /// 3: the config or credentials file cannot be read or parsed.
    ConfigFile = 3,
    /// 4: the named profile does not exist.
    ProfileNotFound = 4,
    /// 5: the profile's configuration is incomplete or contradictory.
    InvalidProfile = 5,
    /// 6: nothing configured provides credentials.
    NoCredentials = 6,
    /// 7: a sign-in is needed (no token, expired, revoked) or did not complete.
    NeedsLogin = 7,
    /// 8: an AWS service (or tobira-idc) answered with an error.
    Service = 8,
    /// 9: the service could not be reached.
    Network = 9,
    /// 130: cancelled at a prompt (Ctrl-C / Esc); nothing was written.
    Interrupted = 130,
}

#[derive(Debug)]
pub struct CliError {
    pub kind: Kind,
    pub message: String,
    pub hints: Vec<String>,
}

impl CliError {
    pub fn new(kind: Kind, message: impl Into<String>) -> CliError {
        CliError { kind, message: message.into(), hints: Vec::new() }
    }

    pub fn hint(mut self, hint: impl Into<String>) -> CliError {
        self.hints.push(hint.into());
        self
    }

    pub fn exit_code(&self) -> ExitCode {
        ExitCode::from(self.kind as u8)
    }

    /// One line: `tobira: <message> (<hints>)`, for callers that read one line.
    pub fn render_one_line(&self) -> String {
        let mut line = format!("tobira: {}", self.message.replace('\n', " "));
        if !self.hints.is_empty() {
            line.push_str(&format!(" ({})", self.hints.join("; ")));
        }
        line.push('\n');
        line
    }

    /// `error: …`, then each hint after a blank line (readable without colour).
    pub fn render(&self) -> String {
        let mut out = format!("error: {}\n", self.message);
        for h in &self.hints {
            let _ = write!(out, "\nhint: {h}\n");
        }
        out
    }
}

impl From<LoadError> for CliError {
    fn from(e: LoadError) -> CliError {
        match e {
            LoadError::Parse(p) => {
                let which = match p.kind {
                    tobira_config::FileKind::Config => "config",
                    tobira_config::FileKind::Credentials => "credentials",
                };
                CliError::new(Kind::ConfigFile, format!("cannot parse the AWS {which} file: {p}")).hint(format!(
                    "fix line {} of {}; the AWS CLI and SDKs refuse this file too (\"Unable to parse config file\")",
                    p.error.line,
                    p.path.display()
                ))
            }
            LoadError::Io { path, source, .. } => {
                CliError::new(Kind::ConfigFile, format!("cannot read {}: {source}", path.display()))
                    .hint("check that the path is a readable file (AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE choose other paths)")
            }
        }
    }
}

impl From<ResolveError> for CliError {
    fn from(e: ResolveError) -> CliError {
        let kind = match &e {
            ResolveError::ProfileNotFound { .. } => Kind::ProfileNotFound,
            ResolveError::NoCredentials { .. } => Kind::NoCredentials,
            _ => Kind::InvalidProfile,
        };
        let mut err = CliError::new(kind, e.to_string());
        if let Some(h) = e.hint() {
            err = err.hint(h);
        }
        err
    }
}
