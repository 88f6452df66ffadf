//! The environment: which profile the variables select, credentials in
//! variables that win over every profile, regions the tools read
//! differently, endpoint overrides, the proxy each endpoint goes through,
//! and CA bundles in effect.

use tobira_auth::net::ProxyRoute;
use tobira_auth::{Call, Service};
use tobira_config::origin::mask_key_id;
use tobira_config::{Flags, Origin, Step};

use super::{Doctor, Severity, listed, span};
use crate::error::shell_word;

/// `AWS_PROFILE` / `AWS_DEFAULT_PROFILE`: a profile that does not exist, two
/// that differ, or one `--profile` overrides.
pub fn selection(d: &mut Doctor<'_>) {
    let env = &d.ctx.env;
    let profile = env.get("AWS_PROFILE").map(str::to_string);
    let default_profile = env.get("AWS_DEFAULT_PROFILE").map(str::to_string);
    let files = format!("{} nor {}", d.config_shown(), d.credentials_shown());
    let mut missing = Vec::new();
    if let Some(set) = d.set.clone() {
        for (var, value) in [("AWS_PROFILE", &profile), ("AWS_DEFAULT_PROFILE", &default_profile)] {
            let Some(name) = value else { continue };
            if set.profile(name).is_some() {
                continue;
            }
            missing.push(var);
            let in_effect = d.flag.is_none() && (var == "AWS_PROFILE" || profile.is_none());
            let consequence = if in_effect {
                format!(
                    "every command without `--profile` fails with \"The config profile ({name}) could not be found\""
                )
            } else if var == "AWS_DEFAULT_PROFILE" && profile.is_some() {
                "the AWS CLI v2 and tobira read `AWS_PROFILE` first, but boto3 and other botocore 1.x tools read `AWS_DEFAULT_PROFILE` first and fail".to_string()
            } else {
                "`--profile` overrides it for this command, but every other command in this shell fails".to_string()
            };
            let candidates = set.close_matches(name);
            let fix = match candidates.first() {
                Some(c) => format!("`export {var}={}` (a profile that exists), or `unset {var}`", shell_word(c)),
                None => format!(
                    "`unset {var}`, or create the profile: `tobira configure sso --profile {}`",
                    shell_word(name)
                ),
            };
            d.add(
                if in_effect { Severity::Error } else { Severity::Warning },
                "profile-env-missing",
                format!("`{var}` names profile `{name}`, which is in neither {files}: {consequence}"),
                Some(fix),
            );
        }
    }
    if let (Some(p), Some(dp)) = (&profile, &default_profile)
        && p != dp
        && missing.is_empty()
    {
        d.add(
            Severity::Warning,
            "profile-env-conflict",
            format!(
                "`AWS_PROFILE` (`{p}`) and `AWS_DEFAULT_PROFILE` (`{dp}`) name different profiles: the AWS CLI v2 and tobira use `{p}`, but boto3 and other botocore 1.x tools use `{dp}`"
            ),
            Some("`unset AWS_DEFAULT_PROFILE`, and choose profiles with `AWS_PROFILE` only".to_string()),
        );
    }
    if let Some(flag) = &d.flag
        && let Some((var, value)) = [("AWS_PROFILE", &profile), ("AWS_DEFAULT_PROFILE", &default_profile)]
            .into_iter()
            .find_map(|(var, v)| v.as_ref().map(|v| (var, v)))
        && value != flag
        && !missing.contains(&var)
    {
        d.add(
            Severity::Note,
            "profile-flag-overrides-env",
            format!(
                "`--profile {flag}` overrides `{var}={value}` for this command only: other commands in this shell, and the programs they start, use `{value}`"
            ),
            Some(format!("to switch the whole shell: `export {var}={}`", shell_word(flag))),
        );
    }
}

/// Credentials in environment variables: partial, expired, or winning over
/// the profile the user probably means.
pub fn credentials(d: &mut Doctor<'_>) {
    let env = &d.ctx.env;
    let key = env.get("AWS_ACCESS_KEY_ID");
    let secret = env.get("AWS_SECRET_ACCESS_KEY");
    let token_var = ["AWS_SECURITY_TOKEN", "AWS_SESSION_TOKEN"].into_iter().find(|v| env.get(v).is_some());
    let unset_all = {
        let mut vars = vec!["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"];
        vars.extend(token_var);
        if env.get("AWS_CREDENTIAL_EXPIRATION").is_some() {
            vars.push("AWS_CREDENTIAL_EXPIRATION");
        }
        format!("unset {}", vars.join(" "))
    };
    match (key, secret) {
        (Some(_), None) => {
            d.add(
                Severity::Error,
                "env-credentials-partial",
                "`AWS_ACCESS_KEY_ID` is set without `AWS_SECRET_ACCESS_KEY`: every AWS tool fails with \"Partial credentials found in env, missing: AWS_SECRET_ACCESS_KEY\"".to_string(),
                Some("`unset AWS_ACCESS_KEY_ID`, or set `AWS_SECRET_ACCESS_KEY` too".to_string()),
            );
            return;
        }
        (None, Some(_)) => {
            d.add(
                Severity::Warning,
                "env-credentials-partial",
                "`AWS_SECRET_ACCESS_KEY` is set without `AWS_ACCESS_KEY_ID`, so every AWS tool ignores it".to_string(),
                Some("`unset AWS_SECRET_ACCESS_KEY`".to_string()),
            );
            return;
        }
        (None, None) => {
            if let Some(var) = token_var {
                d.add(
                    Severity::Warning,
                    "env-credentials-partial",
                    format!("`{var}` is set without `AWS_ACCESS_KEY_ID`, so every AWS tool ignores it"),
                    Some(format!("`unset {var}`")),
                );
            }
            return;
        }
        (Some(_), Some(_)) => {}
    }
    let key = key.unwrap_or_default();
    let masked = mask_key_id(key);
    if let Some(exp) = env.get("AWS_CREDENTIAL_EXPIRATION")
        && let Some(t) = tobira_cache::token::parse_time(exp)
        && t <= d.ctx.now
    {
        let again = match &d.flag {
            Some(p) => format!("`eval \"$(tobira export --profile {})\"`", shell_word(p)),
            None => "`eval \"$(tobira export --profile NAME)\"`".to_string(),
        };
        d.add(
            Severity::Error,
            "env-credentials-expired",
            format!(
                "the credentials in `AWS_ACCESS_KEY_ID` ({masked}) expired {} ago (`AWS_CREDENTIAL_EXPIRATION`), and every tool that takes them from the environment is refused",
                span(d.ctx.now.duration_since(t))
            ),
            Some(format!("`{unset_all}`, then get new ones, e.g. {again}")),
        );
    }
    if d.flag.is_some() {
        d.add(
            Severity::Note,
            "env-credentials-shadow",
            format!(
                "credentials are set in environment variables (`AWS_ACCESS_KEY_ID` {masked}); `--profile` makes this command ignore them, but commands without it use them instead of any profile"
            ),
            Some(format!("`{unset_all}` when you want profiles to apply")),
        );
        return;
    }
    // What the selected profile would give when named.
    let name = d.selected.value.clone();
    let configured = d.set.as_ref().and_then(|set| {
        set.profile(&name)?;
        let plan =
            tobira_config::resolve(set, &d.ctx.env, &Flags { profile: Some(name.clone()), region: None }).ok()?;
        Some(plan.method())
    });
    match configured {
        Some(method) => {
            let from = match &d.selected.origin {
                Origin::Default => String::new(),
                o => format!(", selected by {o}"),
            };
            d.add(
                Severity::Warning,
                "env-credentials-shadow",
                format!(
                    "credentials in environment variables (`AWS_ACCESS_KEY_ID` {masked}) win over profile `{name}`{from}, which is set up for `{method}`: the AWS CLI, the SDKs and tobira use the variables' keys, not the profile"
                ),
                Some(format!("`{unset_all}` to use profile `{name}`, or name it: `--profile {}`", shell_word(&name))),
            );
        }
        None => d.add(
            Severity::Note,
            "env-credentials-shadow",
            format!("credentials come from environment variables (`AWS_ACCESS_KEY_ID` {masked}); they win over every profile not named with `--profile`"),
            None,
        ),
    }
}

/// Endpoint overrides, proxies, CA bundles and regions in effect.
pub fn endpoints(d: &mut Doctor<'_>) {
    let env = d.ctx.env.clone();
    // Endpoint variables: every AWS tool sends that service's calls there.
    let mut vars: Vec<(String, String)> = env
        .iter()
        .filter(|(k, v)| k.starts_with("AWS_ENDPOINT_URL") && !v.is_empty())
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    vars.sort();
    let ignored = env.get_bool("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS") == Some(true);
    for (var, value) in &vars {
        let services = match var.strip_prefix("AWS_ENDPOINT_URL") {
            Some("") => "every AWS service (SSO OIDC, the SSO portal, STS, …)".to_string(),
            Some(suffix) => {
                format!("the `{}` service", suffix.trim_start_matches('_').to_lowercase().replace('_', "-"))
            }
            None => continue,
        };
        if !value.starts_with("http://") && !value.starts_with("https://") {
            d.add(
                Severity::Error,
                "endpoint-invalid",
                format!("`{var}={value}` is not a URL: every call to {services} fails"),
                Some(format!("write a full URL with its scheme (`https://…`), or `unset {var}`")),
            );
            continue;
        }
        if ignored {
            continue;
        }
        d.add(
            Severity::Note,
            "endpoint-override",
            format!("`{var}={value}` sends the calls to {services} there instead of to AWS (for tobira, the AWS CLI and the SDKs)"),
            Some(format!("`unset {var}` to use AWS's own endpoints")),
        );
    }
    if ignored {
        d.add(
            Severity::Note,
            "endpoint-override",
            "`AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true`: every `AWS_ENDPOINT_URL*` variable and `endpoint_url` setting is ignored".to_string(),
            None,
        );
    }
    // Overrides from the selected profile's files (`endpoint_url`, `[services]`).
    if let Some(plan) = d.plan.clone() {
        let mut by_origin: Vec<(Origin, String, Vec<&str>)> = Vec::new();
        for (label, e) in
            [("SSO OIDC", &plan.endpoints.sso_oidc), ("SSO portal", &plan.endpoints.sso), ("STS", &plan.endpoints.sts)]
        {
            let Some(e) = e else { continue };
            if matches!(e.origin, Origin::Env { .. }) {
                continue;
            }
            match by_origin.iter_mut().find(|(o, v, _)| *o == e.origin && *v == e.value) {
                Some(entry) => entry.2.push(label),
                None => by_origin.push((e.origin.clone(), e.value.clone(), vec![label])),
            }
        }
        for (origin, url, services) in by_origin {
            let services: Vec<String> = services.into_iter().map(str::to_string).collect();
            d.add(
                Severity::Note,
                "endpoint-override",
                format!(
                    "profile `{}` sends its {} calls to `{url}` ({origin}) instead of to AWS",
                    plan.profile.value,
                    listed(&services).replace('`', "")
                ),
                Some(format!("delete that line ({origin}) to use AWS's own endpoints")),
            );
        }
    }
    proxies(d);
    // CA bundles: a missing file stops the AWS CLI.
    let bundle = env.get("AWS_CA_BUNDLE").map(|v| (v.to_string(), "`AWS_CA_BUNDLE`".to_string())).or_else(|| {
        d.plan
            .as_ref()
            .and_then(|p| p.settings.ca_bundle.as_ref())
            .map(|c| (c.value.clone(), format!("`ca_bundle` at {}", c.origin)))
    });
    if let Some((path, from)) = bundle {
        let expanded = tobira_config::files::expand_path(&path, &env);
        if expanded.exists() {
            d.add(
                Severity::Note,
                "ca-bundle",
                format!("{from} makes the AWS CLI and the SDKs trust the certificates in {path}; tobira trusts the system's and its built-in roots only"),
                None,
            );
        } else {
            d.add(
                Severity::Error,
                "ca-bundle",
                format!("{from} names {path}, which does not exist: the AWS CLI and the SDKs fail every call with a certificate error"),
                Some(format!("correct the path, or remove {from}")),
            );
        }
    }
    // Regions: botocore 1.x reads only AWS_DEFAULT_REGION.
    if let (Some(r), Some(dr)) = (env.get("AWS_REGION"), env.get("AWS_DEFAULT_REGION"))
        && r != dr
    {
        d.add(
            Severity::Warning,
            "region-env-conflict",
            format!(
                "`AWS_REGION` (`{r}`) and `AWS_DEFAULT_REGION` (`{dr}`) differ: the AWS CLI v2, tobira and most SDKs use `{r}`, but boto3 and other botocore 1.x tools use `{dr}`"
            ),
            Some(format!("`export AWS_DEFAULT_REGION={}`, or unset one of them", shell_word(r))),
        );
    }
}

/// The endpoints the selected profile's calls go to (SSO OIDC and the SSO
/// portal for an SSO chain, AWS Sign-In for a console sign-in, STS always).
fn endpoint_calls(d: &Doctor<'_>) -> Vec<Call> {
    let net = &d.ctx.net;
    let Some(plan) = &d.plan else { return Vec::new() };
    let url = |e: &Option<tobira_config::Sourced<String>>| e.as_ref().map(|e| e.value.clone());
    let mut calls = Vec::new();
    if let Some(s) = plan.steps.iter().find_map(|s| if let Step::Sso(s) = s { Some(s) } else { None }) {
        let region = &s.sso_region.value;
        calls.push(Call::new(Service::SsoOidc, "", url(&plan.endpoints.sso_oidc).as_deref(), region, net));
        calls.push(Call::new(Service::Portal, "", url(&plan.endpoints.sso).as_deref(), region, net));
    }
    let region = plan.region.as_ref().map(|r| r.value.clone());
    if plan.steps.iter().any(|s| matches!(s, Step::Login { .. }))
        && (region.is_some() || plan.endpoints.signin.is_some())
    {
        let r = region.clone().unwrap_or_default();
        calls.push(Call::new(Service::Signin, "", url(&plan.endpoints.signin).as_deref(), &r, net));
    }
    let sts_region = region.unwrap_or_else(|| tobira_auth::creds::STS_DEFAULT_REGION.to_string());
    calls.push(Call::new(Service::Sts, "", url(&plan.endpoints.sts).as_deref(), &sts_region, net));
    calls
}

/// How one call goes, in words.
fn route_words(call: &Call) -> String {
    match &call.route.proxy {
        ProxyRoute::Via(p) => format!("through `{}` (from `{}`)", p.shown, p.var),
        ProxyRoute::Bypassed { var, entry } => format!("directly (`{var}` names `{entry}`)"),
        ProxyRoute::Direct => {
            let scheme = call.url.split_once("://").map_or("", |(s, _)| s);
            format!("directly (no proxy is set for `{scheme}://`)")
        }
        ProxyRoute::Invalid(bad) => format!("nowhere, `{}` cannot be used", bad.var),
    }
}

/// Proxies in effect: which way each of the selected profile's endpoints
/// goes (passwords masked), and variables tobira cannot use.
fn proxies(d: &mut Doctor<'_>) {
    let proxies = d.ctx.net.proxies.clone();
    if proxies.is_empty() {
        return;
    }
    let calls = endpoint_calls(d);
    for bad in proxies.invalid() {
        let used: Vec<String> = calls
            .iter()
            .filter(|c| matches!(&c.route.proxy, ProxyRoute::Invalid(b) if *b == bad))
            .map(|c| c.service.label().to_string())
            .collect();
        let scheme = if bad.var.to_ascii_lowercase().starts_with("https") { "https" } else { "http" };
        let (severity, consequence) = if used.is_empty() {
            (
                Severity::Warning,
                format!(
                    "tobira's calls to `{scheme}://` endpoints would fail (profile `{}` calls none)",
                    d.selected.value
                ),
            )
        } else {
            (Severity::Error, format!("tobira's calls to {} fail", listed(&used).replace('`', "")))
        };
        d.add(
            severity,
            "proxy-invalid",
            format!("{bad}; {consequence}"),
            Some(format!("write it as `http://[USER:PASSWORD@]HOST:PORT`, or `unset {}`", bad.var)),
        );
    }
    let set = listed(&proxies.shown());
    if calls.is_empty() {
        d.add(
            Severity::Note,
            "proxy",
            format!("{set} {}: tobira, the AWS CLI and the SDKs send their calls through the proxy of each endpoint's scheme, except to hosts `NO_PROXY` names", if proxies.shown().len() == 1 { "is set" } else { "are set" }),
            None,
        );
        return;
    }
    // Endpoints that go the same way, together.
    let mut groups: Vec<(String, Vec<String>)> = Vec::new();
    for c in &calls {
        let way = route_words(c);
        let what = format!("{} `{}`", c.service.label(), c.url);
        match groups.iter_mut().find(|(w, _)| *w == way) {
            Some((_, list)) => list.push(what),
            None => groups.push((way, vec![what])),
        }
    }
    let lines: Vec<String> = groups
        .iter()
        .map(|(way, what)| {
            let what = match what.as_slice() {
                [one] => one.clone(),
                [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
                [] => String::new(),
            };
            format!("{what}: {way}")
        })
        .collect();
    let proxied = calls.iter().any(|c| matches!(c.route.proxy, ProxyRoute::Via(_)));
    d.add(
        Severity::Note,
        "proxy",
        format!(
            "{set} {}; where the calls of profile `{}` go (the AWS CLI's rules): {}",
            if proxies.shown().len() == 1 { "is set" } else { "are set" },
            d.selected.value,
            lines.join("; ")
        ),
        proxied.then(|| {
            "to reach a host without the proxy, add it to `NO_PROXY` (comma-separated host names, domain suffixes or IP addresses; `*` for every host)".to_string()
        }),
    );
}
