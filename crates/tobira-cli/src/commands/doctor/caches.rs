//! The caches: SSO sign-ins (missing, unreadable, made for another
//! configuration, ended, revoked on the server) and cached credentials
//! (expired, outliving their sign-in, refused by STS).

use tobira_auth::probe::{self, Verdict};
use tobira_cache::CacheError;

use super::network::unreachable;
use super::path_word;
use super::{Doctor, Severity, span};
use crate::commands::{cached, logins};
use crate::error::Addresses;

/// Every configured sign-in and its token file.
pub fn tokens(d: &mut Doctor<'_>) {
    let Some(set) = d.set.clone() else { return };
    let Some(cache) = d.ctx.sso_cache() else { return };
    let all = logins::all(&set);
    let mut signed_in = 0;
    for l in &all {
        let severity = d.by_any_use(&l.profiles);
        let login = &l.login_command;
        let path = d.shown(&cache.token_path(l.key()));
        let users = if l.profiles.is_empty() {
            String::new()
        } else {
            format!(" (profile{} {})", if l.profiles.len() == 1 { "" } else { "s" }, super::listed(&l.profiles))
        };
        let token = match cache.read_token(l.key()) {
            Ok(Some(t)) => t,
            Ok(None) if severity == Severity::Error => {
                let name = match &l.session {
                    Some(s) => s.clone(),
                    None => l.start_url.clone(),
                };
                d.add(
                    Severity::Error,
                    "token-missing",
                    format!(
                        "not signed in to {}{users}: there is no token for it in ~/.aws/sso/cache, so its profiles fail with \"Error loading SSO Token: Token for {name} does not exist\"",
                        l.label
                    ),
                    Some(format!("sign in: `{login}`")),
                );
                continue;
            }
            Ok(None) => {
                if !l.profiles.is_empty() {
                    d.add(
                        Severity::Note,
                        "token-missing",
                        format!("not signed in to {}{users}", l.label),
                        Some(format!("sign in when you need it: `{login}`")),
                    );
                }
                continue;
            }
            Err(CacheError::Invalid { error, .. }) => {
                d.add(
                    severity,
                    "token-unreadable",
                    format!(
                        "the cached sign-in of {}{users} cannot be used: {path}: {error} (written by another tool, or damaged); the AWS CLI says \"Token for … is invalid\"",
                        l.label
                    ),
                    Some(format!("sign in again, which replaces the file: `{login} --force`")),
                );
                continue;
            }
            Err(CacheError::Io { source, .. }) => {
                d.add(
                    Severity::Error,
                    "token-unreadable",
                    format!("cannot read the cached sign-in of {}: {path}: {source}", l.label),
                    Some(format!("make it yours and readable: `sudo chown \"$(id -un)\" {path} && chmod 600 {path}`")),
                );
                continue;
            }
        };
        signed_in += 1;
        // Made for what the config says now?
        let mut differ = Vec::new();
        if let Some(u) = &token.start_url
            && *u != l.start_url
        {
            differ.push(format!("start URL `{u}` (the config now says `{}`)", l.start_url));
        }
        if let Some(r) = &token.region
            && *r != l.region
        {
            differ.push(format!("SSO region `{r}` (the config now says `{}`)", l.region));
        }
        if !differ.is_empty() {
            d.add(
                severity,
                "token-mismatch",
                format!(
                    "the cached sign-in of {}{users}, {path}, was made for {}: it belongs to another configuration (the config changed after the sign-in, or another tool wrote it), and the SSO portal refuses it",
                    l.label,
                    differ.join(" and ")
                ),
                Some(format!("sign in again with the configuration as it is: `{login} --force`")),
            );
            continue;
        }
        let now = d.ctx.now;
        if token.expires_at <= now {
            let ago = span(now.duration_since(token.expires_at));
            if l.session.is_some() && token.can_refresh(now) {
                d.add(
                    Severity::Note,
                    "token-expired",
                    format!(
                        "the access token of {}{users} expired {ago} ago; it is refreshed when next used (its refresh token and client registration are still valid)",
                        l.label
                    ),
                    None,
                );
            } else {
                let why = if l.session.is_none() {
                    "legacy SSO sign-ins are never refreshed"
                } else if token.refresh_token.is_none() {
                    "it has no refresh token"
                } else {
                    "its client registration has expired"
                };
                d.add(
                    severity,
                    "token-expired",
                    format!("the sign-in of {}{users} ended {ago} ago and cannot be refreshed ({why})", l.label),
                    Some(format!("sign in again: `{login}`")),
                );
            }
            continue;
        }
        if d.offline {
            continue;
        }
        // The file says valid; ask the service.
        let target = l.target(d.ctx, &set);
        let verdict = {
            let _spinner = crate::spinner::Spinner::start(&format!(
                "Asking the SSO portal whether the sign-in of {} is alive...",
                l.label
            ));
            crate::commands::runtime()
                .map_err(|e| e.message)
                .map(|rt| rt.block_on(probe::sign_in_alive(&target, token.access_token.expose())))
        };
        match verdict {
            Ok(Ok(Verdict::Alive)) => {}
            Ok(Ok(Verdict::Refused { code, message })) => d.add(
                severity,
                "token-revoked",
                format!(
                    "the sign-in of {}{users} was revoked or ended on the server: the SSO portal refuses its token ({code}: {message}), although {path} says it is valid for {} more",
                    l.label,
                    span(token.expires_at.duration_since(now))
                ),
                Some(format!("sign in again: `{login} --force` (without `--force`, `tobira login` trusts the cached file)")),
            ),
            Ok(Err(e)) => {
                let chosen = crate::commands::target::Chosen {
                    target,
                    profile: l.profiles.first().cloned(),
                    addresses: Addresses {
                        endpoints: tobira_config::resolve::endpoints(&set, &d.ctx.env, l.profiles.first().and_then(|p| set.profile(p))).unwrap_or_default(),
                        sso_region_from: Some(format!("`sso_region` of {} ({})", l.label, l.origin)),
                        region: None,
                    },
                };
                let (message, fix) = unreachable(e, &chosen);
                d.add(
                    Severity::Warning,
                    "token-unchecked",
                    format!("could not ask whether the sign-in of {} is still alive: {message}", l.label),
                    fix,
                );
            }
            Err(why) => d.add(Severity::Warning, "token-unchecked", why, None),
        }
    }
    d.checked.push(format!("{} SSO sign-in{} ({signed_in} cached)", all.len(), if all.len() == 1 { "" } else { "s" }));
}

/// `~/.aws/cli/cache` and tobira's MFA sessions.
pub fn credentials(d: &mut Doctor<'_>) {
    let Some(set) = d.set.clone() else { return };
    let sso_cache = d.ctx.sso_cache();
    let (mut count, mut expired, mut unreadable) = (0, Vec::new(), Vec::new());
    let now = d.ctx.now;
    for entry in cached::entries(d.ctx, &set, d.plan.as_ref()) {
        let shown = d.shown(&entry.path);
        let Some(c) = entry.credentials else {
            unreadable.push(shown);
            continue;
        };
        count += 1;
        if c.expiration.is_some_and(|e| e <= now) {
            expired.push(shown);
            continue;
        }
        let Some(owner) = entry.owner else { continue };
        let left = c.expiration.map(|e| format!(" for {} more", span(e.duration_since(now)))).unwrap_or_default();
        // SSO role credentials kept after their sign-in was removed.
        if let (Some(key), Some(sso_cache)) = (owner.sso_key(), &sso_cache)
            && matches!(sso_cache.read_token(key), Ok(None))
        {
            d.add(
                Severity::Warning,
                "cache-outlives-sign-in",
                format!(
                    "{shown} holds the {} of profile `{}`, valid{left}, but their sign-in is gone from ~/.aws/sso/cache (signed out): the AWS CLI and tobira keep using them until they expire",
                    owner.what, owner.profile
                ),
                Some(format!("delete them if you meant to sign out: `rm {}`", path_word(&shown))),
            );
            continue;
        }
        if d.offline {
            continue;
        }
        let verdict = {
            let _spinner = crate::spinner::Spinner::start(&format!(
                "Asking STS whether the cached {} are accepted...",
                owner.what
            ));
            crate::commands::runtime()
                .ok()
                .map(|rt| rt.block_on(probe::credentials_accepted(&owner.plan, &c, &d.ctx.net)))
        };
        match verdict {
            Some(Ok(Verdict::Refused { code, message })) => d.add(
                d.by_use(&owner.profile),
                "cache-refused",
                format!(
                    "STS refuses the {} of profile `{}` cached in {shown} ({code}: {message}): their sign-in was revoked or they were cut short, yet the AWS CLI and tobira use them while the file says they are valid{left}",
                    owner.what, owner.profile
                ),
                Some(format!(
                    "delete them: `rm {}` (the next use gets new ones, or says to sign in again)",
                    path_word(&shown)
                )),
            ),
            Some(Err(e)) => {
                let (message, fix) = unreachable(e, &crate::commands::target::sso_chosen(&owner.plan, &d.ctx.net));
                d.add(
                    Severity::Warning,
                    "cache-unchecked",
                    format!(
                        "could not ask STS whether the cached {} of profile `{}` are accepted: {message}",
                        owner.what, owner.profile
                    ),
                    fix,
                );
            }
            _ => {}
        }
    }
    if !expired.is_empty() {
        let shown: Vec<String> = expired.iter().take(3).cloned().collect();
        let more = if expired.len() > 3 { format!(" and {} more", expired.len() - 3) } else { String::new() };
        d.add(
            Severity::Note,
            "cache-expired",
            format!(
                "{} cached credential{} expired ({}{more}); tobira and the AWS CLI get new ones when next needed",
                expired.len(),
                if expired.len() == 1 { " has" } else { "s have" },
                shown.join(", ")
            ),
            None,
        );
    }
    for shown in unreadable {
        d.add(
            Severity::Warning,
            "cache-unreadable",
            format!(
                "{shown} is not a credentials file tobira or the AWS CLI can read (another tool's format, or damaged), so it is ignored"
            ),
            Some(format!("delete it (it is only a cache): `rm {}`", path_word(&shown))),
        );
    }
    d.checked.push(format!("{count} cached credential{}", if count == 1 { "" } else { "s" }));
}
