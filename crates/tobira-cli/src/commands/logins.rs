//! Every IAM Identity Center sign-in the config file knows of: each
//! `[sso-session]`, and each start URL of a legacy SSO profile. `sessions`
//! and `doctor` walk this list.

use tobira_auth::SsoTarget;
use tobira_cache::SsoKey;
use tobira_config::{Origin, ProfileSet};

use crate::Context;

/// One sign-in as configured.
#[derive(Clone, Debug)]
pub struct Login {
    /// ``sso-session `corp` ``, or ``start URL `https://…` `` (legacy profiles).
    pub label: String,
    /// The `[sso-session]` name; `None` for a legacy profile's start URL.
    pub session: Option<String>,
    pub start_url: String,
    pub region: String,
    /// `sso_registration_scopes` as configured.
    pub scopes: Option<Vec<String>>,
    /// Where the section (or the legacy profile's `sso_start_url`) is.
    pub origin: Origin,
    /// The profiles that sign in through it.
    pub profiles: Vec<String>,
    /// The command that signs in to it.
    pub login_command: String,
}

impl Login {
    pub fn key(&self) -> SsoKey<'_> {
        match &self.session {
            Some(s) => SsoKey::Session(s),
            None => SsoKey::LegacyStartUrl(&self.start_url),
        }
    }

    /// The target to call the services with: endpoint overrides from the
    /// environment and the first profile that uses this sign-in.
    pub fn target(&self, ctx: &Context, set: &ProfileSet) -> SsoTarget {
        let profile = self.profiles.first().and_then(|p| set.profile(p));
        let endpoints = tobira_config::resolve::endpoints(set, &ctx.env, profile)
            .or_else(|_| tobira_config::resolve::endpoints(set, &ctx.env, None))
            .unwrap_or_default();
        SsoTarget {
            session: self.session.clone(),
            start_url: self.start_url.clone(),
            region: self.region.clone(),
            scopes: self.scopes.clone(),
            oidc_endpoint: endpoints.sso_oidc.map(|e| e.value),
            portal_endpoint: endpoints.sso.map(|e| e.value),
            net: ctx.net.clone(),
        }
    }
}

/// Every sso-session (by name), then every legacy start URL (in profile
/// order). Sessions missing `sso_start_url` or `sso_region` are left out
/// (resolving their profiles says what is missing).
pub fn all(set: &ProfileSet) -> Vec<Login> {
    let mut sessions: Vec<_> = set.sso_sessions().collect();
    sessions.sort_by(|a, b| a.name.cmp(&b.name));
    let mut out = Vec::new();
    for s in sessions {
        let (Some(url), Some(region)) = (s.text("sso_start_url"), s.text("sso_region")) else { continue };
        let profiles = set
            .profiles()
            .iter()
            .filter(|p| p.text("sso_session").is_some_and(|v| v.value == s.name))
            .map(|p| p.name.clone())
            .collect();
        out.push(Login {
            label: format!("sso-session `{}`", s.name),
            session: Some(s.name.clone()),
            start_url: url.value,
            region: region.value,
            scopes: s
                .text("sso_registration_scopes")
                .map(|v| v.value.split(',').map(str::trim).filter(|x| !x.is_empty()).map(str::to_string).collect()),
            origin: s.origin.clone(),
            profiles,
            login_command: format!("tobira login --sso-session {}", crate::error::shell_word(&s.name)),
        });
    }
    for p in set.profiles() {
        if p.has("sso_session") {
            continue;
        }
        let (Some(url), Some(region)) = (p.text("sso_start_url"), p.text("sso_region")) else { continue };
        if let Some(existing) = out.iter_mut().find(|l| l.session.is_none() && l.start_url == url.value) {
            existing.profiles.push(p.name.clone());
            continue;
        }
        let login_command = if p.name == "default" {
            "tobira login".to_string()
        } else {
            format!("tobira login --profile {}", crate::error::shell_word(&p.name))
        };
        out.push(Login {
            label: format!("start URL `{}`", url.value),
            session: None,
            start_url: url.value,
            region: region.value,
            scopes: None,
            origin: url.origin,
            profiles: vec![p.name.clone()],
            login_command,
        });
    }
    out
}
