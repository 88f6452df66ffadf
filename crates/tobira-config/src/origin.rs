//! Where a value came from. Every resolved value carries one, so `profile
//! show`, `doctor` and `--debug` can say why tobira did what it did.

use std::fmt;
use std::sync::Arc;

use serde::Serialize;

/// The source of a value, highest precedence first. Serialized as its
/// display text (`--profile`, `$AWS_PROFILE`, `~/.aws/config:12`,
/// `default`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// A command-line flag such as `--profile`.
    Flag { flag: String },
    /// An environment variable.
    Env { var: String },
    /// A line of the config file (`~/.aws/config`).
    ConfigFile { path: Arc<str>, line: usize },
    /// A line of the credentials file (`~/.aws/credentials`).
    CredentialsFile { path: Arc<str>, line: usize },
    /// Nothing was configured; this is the built-in default.
    Default,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Flag { flag } => write!(f, "{flag}"),
            Origin::Env { var } => write!(f, "${var}"),
            Origin::ConfigFile { path, line } | Origin::CredentialsFile { path, line } => {
                write!(f, "{path}:{line}")
            }
            Origin::Default => write!(f, "default"),
        }
    }
}

impl Serialize for Origin {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A value and where it came from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Sourced<T> {
    pub value: T,
    #[serde(rename = "from")]
    pub origin: Origin,
}

impl<T> Sourced<T> {
    pub fn new(value: T, origin: Origin) -> Self {
        Sourced { value, origin }
    }
}

/// A secret value (secret key, session token). `Debug`, `Display` and
/// `Serialize` print `****`; the value is only reachable through `expose`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("****")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("****")
    }
}

impl Serialize for Secret {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str("****")
    }
}

/// An access key id shown the way `aws configure list` shows it: sixteen
/// `*` and the last four characters.
pub fn mask_key_id(id: &str) -> String {
    let tail: String = id.chars().rev().take(4).collect::<Vec<_>>().into_iter().rev().collect();
    format!("****************{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_print() {
        let s = Secret::new("wJalrXUtnFEMI");
        assert_eq!(format!("{s} {s:?}"), "**** ****");
        assert_eq!(serde_json::to_string(&s).unwrap(), "\"****\"");
        assert_eq!(s.expose(), "wJalrXUtnFEMI");
        assert_eq!(mask_key_id("AKIAIOSFODNN7EXAMPLE"), "****************MPLE");
    }
}
