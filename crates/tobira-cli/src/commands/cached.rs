//! Cached credentials and what they belong to: `~/.aws/cli/cache` (SSO role
//! credentials and assumed roles, shared with the AWS CLI) and tobira's MFA
//! sessions, each mapped to the profile whose chain writes it. `sessions`
//! and `doctor` walk this.

use std::collections::HashMap;
use std::path::PathBuf;

use tobira_cache::{CredentialCache, Credentials, SsoKey};
use tobira_config::resolve::resolve_profile;
use tobira_config::{Plan, ProfileSet, Step};

use crate::Context;

/// Which directory an entry is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Dir {
    /// `~/.aws/cli/cache`.
    Cli,
    /// `~/.aws/tobira/mfa-sessions`.
    MfaSessions,
}

/// The profile (and the step of its chain) an entry belongs to.
#[derive(Clone, Debug)]
pub struct Owner {
    /// The plan to call STS with (its region and endpoint).
    pub plan: Plan,
    /// `SSO role credentials (account 1…, role R)`, `role arn:…`, `MFA session (arn:…)`.
    pub what: String,
    /// `sso-role`, `assumed-role` or `mfa-session`.
    pub kind: &'static str,
    pub profile: String,
    /// For SSO role credentials: the sign-in they came from (session, start URL).
    pub sso: Option<(Option<String>, String)>,
}

impl Owner {
    /// The token cache key of the sign-in SSO role credentials came from.
    pub fn sso_key(&self) -> Option<SsoKey<'_>> {
        let (session, url) = self.sso.as_ref()?;
        Some(match session {
            Some(s) => SsoKey::Session(s),
            None => SsoKey::LegacyStartUrl(url),
        })
    }
}

/// One cache file.
#[derive(Clone, Debug)]
pub struct Entry {
    pub path: PathBuf,
    /// `None`: a file tobira cannot read as credentials.
    pub credentials: Option<Credentials>,
    pub owner: Option<Owner>,
}

/// Which profile writes each cache file: every profile's chain, `first`
/// (the selected profile's plan) winning where two share a file.
pub fn owners(ctx: &Context, set: &ProfileSet, first: Option<&Plan>) -> HashMap<(Dir, String), Owner> {
    let mut owners = HashMap::new();
    let mut plans: Vec<Plan> = first.into_iter().cloned().collect();
    plans.extend(set.profiles().iter().filter_map(|p| resolve_profile(set, &ctx.env, &p.name, None).ok()));
    for plan in &plans {
        for step in &plan.steps {
            let (key, what, kind, sso) = match step {
                Step::Sso(s) => (
                    (Dir::Cli, tobira_auth::creds::sso_cache_name(s)),
                    format!("SSO role credentials (account {}, role {})", s.account_id.value, s.role_name.value),
                    "sso-role",
                    Some((s.session.as_ref().map(|v| v.value.clone()), s.start_url.value.clone())),
                ),
                Step::AssumeRole(a) => (
                    (Dir::Cli, tobira_auth::creds::assume_role_cache_name(a)),
                    format!("role {}", a.role_arn.value),
                    "assumed-role",
                    None,
                ),
                Step::Static(k) => match &k.mfa_serial {
                    Some(serial) => (
                        (Dir::MfaSessions, tobira_auth::creds::mfa_session_name(&k.access_key_id.value, &serial.value)),
                        format!("MFA session ({})", serial.value),
                        "mfa-session",
                        None,
                    ),
                    None => continue,
                },
                _ => continue,
            };
            let profile = step.profile().unwrap_or(&plan.profile.value).to_string();
            owners.entry(key).or_insert_with(|| Owner { plan: plan.clone(), what, kind, profile, sso });
        }
    }
    owners
}

/// Every `.json` file of both caches, sorted by directory then name.
pub fn entries(ctx: &Context, set: &ProfileSet, first: Option<&Plan>) -> Vec<Entry> {
    let Some(home) = ctx.home.as_deref() else { return Vec::new() };
    let mut owners = owners(ctx, set, first);
    let mut out = Vec::new();
    for (dir, cache) in
        [(Dir::Cli, CredentialCache::cli(home)), (Dir::MfaSessions, CredentialCache::mfa_sessions(home))]
    {
        let Ok(read) = std::fs::read_dir(cache.dir()) else { continue };
        let mut names: Vec<String> = read
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".json"))
            .collect();
        names.sort();
        for name in names {
            out.push(Entry {
                path: cache.dir().join(&name),
                credentials: cache.read(&name),
                owner: owners.remove(&(dir, name)),
            });
        }
    }
    out
}
