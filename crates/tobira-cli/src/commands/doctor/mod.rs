//! `tobira doctor`: one pass over the files, the environment, the caches,
//! the clock and the endpoints, naming every problem with the exact fix,
//! most urgent first. The exit code says how bad it is (README, "Exit
//! codes"): 0 nothing to fix, 10 warnings, 11 errors (something fails now).
//!
//! Checks only look; nothing is written or removed. The ones that ask the
//! services (is a sign-in revoked? are cached credentials still accepted?
//! how far is the clock from STS's?) are skipped with `--offline`.
//! The facts behind each check: docs/diagnostics.md.

mod caches;
mod environment;
mod files;
mod network;

use std::collections::BTreeSet;
use std::io::Write;

use serde::Serialize;
use tobira_config::resolve::select_profile;
use tobira_config::{Flags, Origin, Plan, ProfileSet, Sourced, Step};

use crate::{CliError, Context, Kind, emit};

/// How urgent a finding is. Errors first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Something fails now (or secrets are exposed).
    Error,
    /// Works, but surprising, fragile, or about to fail.
    Warning,
    /// Worth knowing: what is in effect.
    Note,
}

impl Severity {
    fn word(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "note",
        }
    }
}

/// One problem: what is wrong and why it matters, then what to do.
#[derive(Clone, Debug, Serialize)]
pub struct Finding {
    pub severity: Severity,
    /// A stable name (`token-revoked`, `profile-env-missing`, …), listed in
    /// docs/diagnostics.md.
    pub check: &'static str,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

/// Everything doctor looks at, gathered once.
pub struct Doctor<'a> {
    pub ctx: &'a Context,
    /// `--profile`, as given.
    pub flag: Option<String>,
    /// Both files parsed, when they can be.
    pub set: Option<ProfileSet>,
    /// The selected profile and where the choice came from.
    pub selected: Sourced<String>,
    /// The selected profile's plan, when it resolves.
    pub plan: Option<Plan>,
    /// Profiles the selected plan runs through (its own and its sources).
    pub in_use: BTreeSet<String>,
    pub offline: bool,
    findings: Vec<Finding>,
    /// What was looked at, for the closing line.
    pub checked: Vec<String>,
    pub clock_skew_seconds: Option<i64>,
}

impl Doctor<'_> {
    pub fn add(&mut self, severity: Severity, check: &'static str, message: String, fix: Option<String>) {
        self.findings.push(Finding { severity, check, message, fix });
    }

    /// An error when `profile` is used by the selected profile, else a warning.
    pub fn by_use(&self, profile: &str) -> Severity {
        if self.in_use.contains(profile) { Severity::Error } else { Severity::Warning }
    }

    /// An error when any of `profiles` is in use, else a warning.
    pub fn by_any_use(&self, profiles: &[String]) -> Severity {
        if profiles.iter().any(|p| self.in_use.contains(p)) { Severity::Error } else { Severity::Warning }
    }

    pub fn shown(&self, path: &std::path::Path) -> String {
        self.ctx.display_path(path).display().to_string()
    }

    pub fn config_shown(&self) -> String {
        self.shown(&self.ctx.paths.config.value)
    }

    pub fn credentials_shown(&self) -> String {
        self.shown(&self.ctx.paths.credentials.value)
    }
}

/// `tobira doctor`. `Ok(kind)`: the exit code for what was found.
pub fn run(
    ctx: &Context,
    flag: Option<String>,
    json: bool,
    offline: bool,
    out: &mut dyn Write,
) -> Result<Option<Kind>, CliError> {
    let (selected, _) = select_profile(&Flags { profile: flag.clone(), region: None }, &ctx.env);
    let mut d = Doctor {
        ctx,
        flag,
        set: None,
        selected,
        plan: None,
        in_use: BTreeSet::new(),
        offline,
        findings: Vec::new(),
        checked: Vec::new(),
        clock_skew_seconds: None,
    };
    // Most urgent first: the order of the checks is the order of findings
    // of the same severity.
    files::load(&mut d);
    environment::selection(&mut d);
    files::selected_profile(&mut d);
    environment::credentials(&mut d);
    caches::tokens(&mut d);
    files::profiles(&mut d);
    caches::credentials(&mut d);
    files::sections(&mut d);
    files::sso_style(&mut d);
    files::permissions(&mut d);
    network::clock(&mut d);
    environment::endpoints(&mut d);
    let Doctor { mut findings, checked, clock_skew_seconds, selected, .. } = d;
    findings.sort_by_key(|f| f.severity);
    let count = |s: Severity| findings.iter().filter(|f| f.severity == s).count();
    let (errors, warnings, notes) = (count(Severity::Error), count(Severity::Warning), count(Severity::Note));
    let kind = if errors > 0 {
        Some(Kind::DoctorErrors)
    } else if warnings > 0 {
        Some(Kind::DoctorWarnings)
    } else {
        None
    };
    if json {
        let v = serde_json::json!({
            "profile": selected.value,
            "profile_from": selected.origin,
            "errors": errors,
            "warnings": warnings,
            "notes": notes,
            "clock_skew_seconds": clock_skew_seconds,
            "checked": checked,
            "findings": findings,
        });
        emit(out, &(serde_json::to_string_pretty(&v).unwrap_or_default() + "\n"))?;
        return Ok(kind);
    }
    let mut text = String::new();
    for f in &findings {
        text.push_str(&format!("{}[{}]: {}\n", f.severity.word(), f.check, f.message));
        if let Some(fix) = &f.fix {
            text.push_str(&format!("  fix: {fix}\n"));
        }
        text.push('\n');
    }
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    let from = match &selected.origin {
        Origin::Default => "no `--profile` or `AWS_PROFILE`".to_string(),
        o => format!("from {o}"),
    };
    text.push_str(&format!(
        "Checked for profile `{}` ({from}): {}.\n{}, {}, {}.\n",
        selected.value,
        checked.join(", "),
        plural(errors, "error"),
        plural(warnings, "warning"),
        plural(notes, "note"),
    ));
    emit(out, &text)?;
    Ok(kind)
}

/// The profiles a plan runs through.
fn plan_profiles(plan: &Plan) -> BTreeSet<String> {
    let mut s: BTreeSet<String> = plan.steps.iter().filter_map(Step::profile).map(str::to_string).collect();
    s.insert(plan.profile.value.clone());
    s
}

/// A span of time for people: `45s`, `12m`, `3h05m`, `2 days`.
pub fn span(d: jiff::SignedDuration) -> String {
    let s = d.as_secs().unsigned_abs();
    if s < 60 {
        format!("{s}s")
    } else if s < 3600 {
        format!("{}m", s / 60)
    } else if s < 48 * 3600 {
        format!("{}h{:02}m", s / 3600, (s % 3600) / 60)
    } else {
        format!("{} days", s / 86_400)
    }
}

/// A path for a command line: `~/…` stays unquoted so the shell expands it.
pub fn path_word(shown: &str) -> String {
    match shown.strip_prefix("~/") {
        Some(rest) if crate::error::shell_word(rest) == rest => shown.to_string(),
        Some(rest) => format!("~/{}", crate::error::shell_word(rest)),
        None => crate::error::shell_word(shown),
    }
}

/// `` `a`, `b` and `c` ``.
pub fn listed(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|i| format!("`{i}`")).collect();
    match quoted.as_slice() {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_and_lists() {
        assert_eq!(span(jiff::SignedDuration::from_secs(45)), "45s");
        assert_eq!(span(jiff::SignedDuration::from_secs(-750)), "12m");
        assert_eq!(span(jiff::SignedDuration::from_secs(3 * 3600 + 300)), "3h05m");
        assert_eq!(span(jiff::SignedDuration::from_secs(5 * 86_400)), "5 days");
        assert_eq!(listed(&["a".into(), "b".into(), "c".into()]), "`a`, `b` and `c`");
        assert_eq!(listed(&["a".into()]), "`a`");
    }
}
