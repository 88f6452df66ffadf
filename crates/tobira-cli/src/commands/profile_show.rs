//! `tobira profile show [NAME]`: the resolved chain and where every value
//! came from.

use std::fmt::Write as _;
use std::io::Write;

use tobira_cache::{Freshness, SsoKey};
use tobira_config::origin::mask_key_id;
use tobira_config::resolve::profile_kind;
use tobira_config::{Flags, Plan, Sourced, Step};

use crate::{CliError, Context, Kind, emit};

pub fn run(
    ctx: &Context,
    name: Option<String>,
    region: Option<String>,
    json: bool,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    let set = ctx.load_profiles()?;
    let plan = super::resolve(ctx, &set, &Flags { profile: name, region })?;
    let kind = set.profile(&plan.profile.value).map_or("none", |b| profile_kind(&set, b));
    let token = sso_token_status(ctx, &plan);
    let login = super::console::plan_status(ctx, &plan);
    if json {
        let mut value = serde_json::to_value(&plan).map_err(|e| CliError::new(Kind::Internal, e.to_string()))?;
        value["kind"] = kind.into();
        value["method"] = plan.method().into();
        if let Some(t) = &token {
            value["sso_token"] = serde_json::json!({
                "path": t.path, "status": t.status, "expires_at": t.expires_at, "fix": t.fix,
            });
        }
        if let Some(l) = &login {
            value["login_token"] = serde_json::json!({
                "path": l.path, "status": l.status, "expires_at": l.expires_at, "time_left": l.time_left,
                "signed_in_at": l.signed_in_at, "fix": l.fix,
            });
        }
        let text = serde_json::to_string_pretty(&value).map_err(|e| CliError::new(Kind::Internal, e.to_string()))?;
        return emit(out, &(text + "\n"));
    }
    let mut text = render(&plan, kind);
    if let Some(t) = token {
        text.push_str(&format!("\nSSO token: {}\n  {}\n", t.status_text, t.path));
        if let Some(fix) = &t.fix {
            text.push_str(&format!("  next: `{fix}`\n"));
        }
    }
    if let Some(l) = login {
        text.push_str(&format!("\nLogin session: {}\n  {}\n", l.text, l.path));
        if let Some(fix) = &l.fix {
            text.push_str(&format!("  next: `{fix}`\n"));
        }
    }
    emit(out, &text)
}

/// Whether the SSO login this plan needs is cached, and until when. Reads
/// one small file; no network.
struct TokenStatus {
    path: String,
    status: &'static str,
    status_text: String,
    expires_at: Option<String>,
    fix: Option<String>,
}

fn sso_token_status(ctx: &Context, plan: &Plan) -> Option<TokenStatus> {
    let sso = plan.steps.iter().find_map(|s| if let Step::Sso(s) = s { Some(s) } else { None })?;
    let cache = ctx.sso_cache()?;
    let key = match &sso.session {
        Some(s) => SsoKey::Session(&s.value),
        None => SsoKey::LegacyStartUrl(&sso.start_url.value),
    };
    let path = ctx.display_path(&cache.token_path(key)).display().to_string();
    // Until `tobira login` exists, the AWS CLI is the way to log in.
    let login = match &sso.session {
        Some(s) => format!("aws sso login --sso-session {}", s.value),
        None => format!("aws sso login --profile {}", sso.profile),
    };
    let (status, status_text, expires_at, fix) = match cache.read_token(key) {
        Ok(None) => ("missing", "not logged in (no cached token)".to_string(), None, Some(login)),
        Err(e) => ("invalid", format!("unreadable cached token ({e})"), None, Some(login)),
        Ok(Some(t)) => {
            let when = tobira_cache::token::format_time(t.expires_at);
            let legacy = sso.session.is_none();
            match t.freshness(ctx.now) {
                // A legacy token is used as is until it expires; it is never refreshed.
                Freshness::Valid | Freshness::RefreshDue if legacy => {
                    ("valid", format!("valid until {when}"), Some(when), None)
                }
                Freshness::Valid => ("valid", format!("valid until {when}"), Some(when), None),
                Freshness::RefreshDue if !legacy && t.can_refresh(ctx.now) => {
                    ("refresh-due", format!("expires at {when}; will be refreshed on next use"), Some(when), None)
                }
                Freshness::RefreshDue => ("expiring", format!("expires at {when}"), Some(when), Some(login)),
                Freshness::ExpiredRefreshable if !legacy => {
                    ("expired-refreshable", format!("expired at {when}; can be refreshed"), Some(when), None)
                }
                _ => ("expired", format!("expired at {when}"), Some(when), Some(login)),
            }
        }
    };
    Some(TokenStatus { path, status, status_text, expires_at, fix })
}

struct Table(Vec<(String, String, String)>);

impl Table {
    fn add(&mut self, key: &str, v: Option<&Sourced<String>>) {
        if let Some(v) = v {
            self.0.push((key.into(), v.value.clone(), v.origin.to_string()));
        }
    }

    fn add_raw(&mut self, key: &str, value: String, origin: String) {
        self.0.push((key.into(), value, origin));
    }

    fn render(&self, indent: &str, out: &mut String) {
        let kw = self.0.iter().map(|r| r.0.len()).max().unwrap_or(0) + 2;
        let vw = self.0.iter().map(|r| r.1.chars().count()).max().unwrap_or(0) + 2;
        for (k, v, o) in &self.0 {
            let _ = writeln!(out, "{indent}{k:<kw$}{v:<vw$}{o}").map(|_| ());
        }
    }
}

fn render(plan: &Plan, kind: &str) -> String {
    let mut out = String::new();
    let mut head = Table(Vec::new());
    head.add("profile", Some(&plan.profile));
    if !plan.exists {
        head.add_raw("", "(not in any file: only the environment can give credentials)".into(), String::new());
    }
    head.add_raw("kind", kind.into(), String::new());
    head.add_raw("provider", plan.method().into(), "the AWS CLI's name for it".into());
    match &plan.region {
        Some(r) => head.add("region", Some(r)),
        None => head.add_raw("region", "(none)".into(), "set `region` in the profile or AWS_REGION".into()),
    }
    head.add("output", plan.settings.output.as_ref());
    head.add("ca_bundle", plan.settings.ca_bundle.as_ref());
    head.add("account_id", plan.settings.account_id.as_ref());
    head.add("cli_timestamp_format", plan.settings.cli_timestamp_format.as_ref());
    head.render("", &mut out);
    out.push_str("\nCredential chain (first step runs first):\n");
    for (i, step) in plan.steps.iter().enumerate() {
        let who = step.profile().map(|p| format!(" (profile {p})")).unwrap_or_default();
        let _ = writeln!(out, "  {}. {}{who}", i + 1, step.method());
        let mut t = Table(Vec::new());
        match step {
            Step::Env(k) | Step::Static(k) => {
                t.add_raw("aws_access_key_id", mask_key_id(&k.access_key_id.value), k.access_key_id.origin.to_string());
                t.add_raw("aws_secret_access_key", "****".into(), k.secret_access_key.origin.to_string());
                if let Some(tok) = &k.session_token {
                    t.add_raw("aws_session_token", "****".into(), tok.origin.to_string());
                }
                t.add("expiration", k.expiration.as_ref());
                t.add("account_id", k.account_id.as_ref());
                t.add("mfa_serial", k.mfa_serial.as_ref());
            }
            Step::Sso(s) => {
                t.add("sso_session", s.session.as_ref());
                t.add("sso_start_url", Some(&s.start_url));
                t.add("sso_region", Some(&s.sso_region));
                t.add("sso_account_id", Some(&s.account_id));
                t.add("sso_role_name", Some(&s.role_name));
                if let Some(scopes) = &s.registration_scopes {
                    t.add_raw("sso_registration_scopes", scopes.value.join(","), scopes.origin.to_string());
                }
            }
            Step::Process { command, .. } => t.add("credential_process", Some(command)),
            Step::WebIdentity(w) => {
                t.add("web_identity_token_file", Some(&w.token_file));
                t.add("role_arn", Some(&w.role_arn));
                t.add("role_session_name", w.role_session_name.as_ref());
            }
            Step::Login { session, cache_dir, .. } => {
                t.add("login_session", Some(session));
                t.add_raw("login cache", cache_dir.value.display().to_string(), cache_dir.origin.to_string());
            }
            Step::CredentialSource { source, .. } => t.add("credential_source", Some(source)),
            Step::AssumeRole(a) => {
                t.add("role_arn", Some(&a.role_arn));
                t.add("source_profile", a.source_profile.as_ref());
                t.add("credential_source", a.credential_source.as_ref());
                t.add("mfa_serial", a.mfa_serial.as_ref());
                t.add("external_id", a.external_id.as_ref());
                t.add("role_session_name", a.role_session_name.as_ref());
                if let Some(d) = &a.duration_seconds {
                    t.add_raw("duration_seconds", d.value.to_string(), d.origin.to_string());
                }
                t.add("source_identity", a.source_identity.as_ref());
            }
        }
        t.render("       ", &mut out);
    }
    let mut e = Table(Vec::new());
    e.add("sso-oidc", plan.endpoints.sso_oidc.as_ref());
    e.add("sso", plan.endpoints.sso.as_ref());
    e.add("sts", plan.endpoints.sts.as_ref());
    if !e.0.is_empty() {
        out.push_str("\nEndpoint overrides:\n");
        e.render("  ", &mut out);
    }
    out
}
