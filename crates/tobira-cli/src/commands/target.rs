//! Which IAM Identity Center login a command is about (flows.md §4.1): the
//! `--sso-session`, the profile's `sso_session`, a legacy SSO profile, or
//! the only session configured; the login a resolved plan depends on; and
//! the CLI error for a failed sign-in, which forgets a sign-in the portal
//! refused. Shared by `login`, `logout`, `sso`, `configure`, the credential
//! commands and the credential server.

use tobira_auth::{AuthError, SsoTarget};
use tobira_config::files::Block;
use tobira_config::resolve::select_profile;
use tobira_config::{Flags, ProfileSet};

use crate::error::{Addresses, auth_error, choose_a_profile};
use crate::{CliError, Context, Kind};

/// `--profile` / `--sso-session`, as every command here takes them.
pub struct Selection {
    pub profile: Option<String>,
    pub sso_session: Option<String>,
}

/// The login a command is about, and the profile it came from.
pub struct Chosen {
    pub target: SsoTarget,
    pub profile: Option<String>,
    /// Where the addresses it calls come from (for network errors).
    pub addresses: Addresses,
}

/// `` `sso_region` at ~/.aws/config:9 ``: where an SSO region is set.
pub fn sso_region_from(region: &tobira_config::Sourced<String>) -> String {
    format!("`sso_region` at {}", region.origin)
}

fn scopes(block: &Block) -> Option<Vec<String>> {
    block
        .text("sso_registration_scopes")
        .map(|s| s.value.split(',').map(str::trim).filter(|x| !x.is_empty()).map(str::to_string).collect())
}

/// `sso_start_url` and `sso_region` of a section, or the names of those missing.
fn start_and_region(
    b: &Block,
) -> Result<(tobira_config::Sourced<String>, tobira_config::Sourced<String>), Vec<&'static str>> {
    match (b.text("sso_start_url"), b.text("sso_region")) {
        (Some(s), Some(r)) => Ok((s, r)),
        (s, r) => Err([("sso_start_url", s.is_none()), ("sso_region", r.is_none())]
            .into_iter()
            .filter_map(|(k, m)| m.then_some(k))
            .collect()),
    }
}

fn missing(keys: &[&str], fix: &str) -> CliError {
    CliError::new(
        Kind::InvalidProfile,
        format!("Missing the following required SSO configuration values: {}.", keys.join(", ")),
    )
    .hint(fix.to_string())
}

/// Finds the sso-session or legacy SSO profile to use (flows.md §4.1).
pub fn choose(ctx: &Context, set: &ProfileSet, sel: &Selection) -> Result<Chosen, CliError> {
    let (profile_name, _) = select_profile(&Flags { profile: sel.profile.clone(), region: None }, &ctx.env);
    let profile = set.profile(&profile_name.value);
    let explicit_profile = sel.profile.is_some() || profile_name.origin != tobira_config::Origin::Default;
    if profile.is_none() && explicit_profile && sel.sso_session.is_none() {
        return Err(tobira_config::ResolveError::ProfileNotFound {
            name: profile_name.value.clone(),
            origin: profile_name.origin.clone(),
            candidates: set.close_matches(&profile_name.value),
        }
        .into());
    }
    let mut session_name =
        sel.sso_session.clone().or_else(|| profile.and_then(|p| p.text("sso_session")).map(|s| s.value));
    // Nothing selected and no `default` SSO profile: the only configured
    // sso-session is the obvious choice; several need a name.
    let profile_is_sso = profile.is_some_and(|p| p.has("sso_start_url"));
    if session_name.is_none() && !profile_is_sso && !explicit_profile {
        let mut names: Vec<String> = set.sso_sessions().map(|s| s.name.clone()).collect();
        names.sort();
        match names.as_slice() {
            [only] => session_name = Some(only.clone()),
            [] => {}
            many => {
                return Err(CliError::new(
                    Kind::Usage,
                    format!("several SSO sessions are configured: {}", many.join(", ")),
                )
                .hint(format!("pick one with `--sso-session {}`", many[0])));
            }
        }
    }
    let endpoints =
        tobira_config::resolve::endpoints(set, &ctx.env, if sel.sso_session.is_some() { None } else { profile })?;
    let (oidc_endpoint, portal_endpoint) =
        (endpoints.sso_oidc.as_ref().map(|e| e.value.clone()), endpoints.sso.as_ref().map(|e| e.value.clone()));
    if let Some(name) = session_name {
        let Some(session) = set.sso_session(&name) else {
            return Err(CliError::new(Kind::InvalidProfile, format!("The specified sso-session does not exist: \"{name}\""))
                .hint(format!("add an `[sso-session {name}]` section with `sso_start_url` and `sso_region`, or list the sessions with `tobira sessions`")));
        };
        let (start, region) = start_and_region(session).map_err(|absent| {
            missing(
                &absent,
                &format!(
                    "add them to `[sso-session {name}]` in {}",
                    ctx.display_path(&ctx.paths.config.value).display()
                ),
            )
        })?;
        let addresses = Addresses { endpoints, sso_region_from: Some(sso_region_from(&region)), region: None };
        return Ok(Chosen {
            target: SsoTarget {
                session: Some(name),
                start_url: start.value,
                region: region.value,
                scopes: scopes(session),
                oidc_endpoint,
                portal_endpoint,
                net: ctx.net.clone(),
            },
            profile: profile.map(|p| p.name.clone()),
            addresses,
        });
    }
    // Legacy SSO profiles (their own start URL): what a user could mean.
    let mut sso_profiles: Vec<String> =
        set.profiles().iter().filter(|b| b.has("sso_start_url")).map(|b| b.name.clone()).collect();
    sso_profiles.sort();
    let Some(p) = profile else {
        if let Some((listed, how)) = choose_a_profile(&sso_profiles) {
            return Err(CliError::new(
                Kind::InvalidProfile,
                "no SSO login is selected (no `--profile`, no `--sso-session`, no `AWS_PROFILE`) and there is no `default` profile",
            )
            .hint(format!("the SSO profiles that exist are {listed}"))
            .hint(how));
        }
        return Err(missing(
            &["sso_start_url", "sso_region"],
            "configure a login with `tobira configure sso`, or name one with `--sso-session NAME`",
        ));
    };
    let (start, region) = start_and_region(p).map_err(|absent| {
        let mut err = missing(
            &absent,
            &format!("profile `{}` is not an SSO profile; pick one with `--profile` (see `tobira profiles`)", p.name),
        );
        if !explicit_profile && let Some((listed, how)) = choose_a_profile(&sso_profiles) {
            err = err.hint(format!("the SSO profiles that exist are {listed}")).hint(how);
        }
        err
    })?;
    let addresses = Addresses { endpoints, sso_region_from: Some(sso_region_from(&region)), region: None };
    Ok(Chosen {
        target: SsoTarget {
            session: None,
            start_url: start.value,
            region: region.value,
            scopes: None,
            oidc_endpoint,
            portal_endpoint,
            net: ctx.net.clone(),
        },
        profile: Some(p.name.clone()),
        addresses,
    })
}

/// The login a plan depends on (for error hints); an empty target when the
/// plan has no SSO step.
pub fn sso_chosen(plan: &tobira_config::Plan, net: &tobira_auth::Net) -> Chosen {
    let sso = plan.steps.iter().find_map(|s| if let tobira_config::Step::Sso(s) = s { Some(s) } else { None });
    let addresses = Addresses {
        endpoints: plan.endpoints.clone(),
        sso_region_from: sso.map(|s| sso_region_from(&s.sso_region)),
        region: plan.region.clone(),
    };
    match sso {
        Some(s) => {
            Chosen { target: tobira_auth::creds::sso_target(plan, s, net), profile: Some(s.profile.clone()), addresses }
        }
        None => Chosen {
            target: SsoTarget {
                session: None,
                start_url: String::new(),
                region: String::new(),
                scopes: None,
                oidc_endpoint: None,
                portal_endpoint: None,
                net: net.clone(),
            },
            profile: Some(plan.profile.value.clone()),
            addresses,
        },
    }
}

/// The CLI error for `e`. A sign-in the portal refused (`UnauthorizedException`:
/// revoked by an administrator, or ended) is first removed from the token
/// cache, so the `tobira login` the hint names signs in again instead of
/// trusting the cached token.
pub fn login_error(ctx: &Context, e: AuthError, chosen: &Chosen) -> CliError {
    if matches!(&e, AuthError::Service { code, .. } if code == "UnauthorizedException")
        && let Some(cache) = ctx.sso_cache()
    {
        let _ = cache.remove_token(chosen.target.cache_key());
    }
    auth_error(e, chosen)
}
