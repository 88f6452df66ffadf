//! `tobira sessions [--check] [--json]`: every cached sign-in and credential
//! with its time left: SSO sign-ins (`~/.aws/sso/cache`), SSO role
//! credentials and assumed roles (`~/.aws/cli/cache`, shared with the AWS
//! CLI), MFA sessions, and console sign-ins (`~/.aws/login/cache`). `--check` asks the services whether each is still
//! alive: the SSO portal for sign-ins (ListAccounts answers 401 for a
//! revoked one), STS for credentials (GetCallerIdentity); docs/diagnostics.md.

use std::io::Write;

use serde_json::{Value, json};
use tobira_auth::probe::{self, Verdict};
use tobira_cache::Freshness;

use super::doctor::span;
use super::{cached, logins};
use crate::{CliError, Context, emit};

/// What the service said, for the row.
fn verdict_text(v: Result<Verdict, tobira_auth::AuthError>, alive: &str, refused: &str) -> (String, bool) {
    match v {
        Ok(Verdict::Alive) => (alive.to_string(), false),
        Ok(Verdict::Refused { code, message }) => (format!("{refused} ({code}: {message})"), true),
        Err(e) => (format!("could not ask: {e}"), false),
    }
}

pub fn run(ctx: &Context, json_out: bool, check: bool, out: &mut dyn Write) -> Result<(), CliError> {
    let set = ctx.load_profiles()?;
    let cache = ctx.need_sso_cache()?;
    let now = ctx.now;
    let rt = if check { Some(super::runtime()?) } else { None };
    let mut rows: Vec<Value> = Vec::new();
    for l in logins::all(&set) {
        let name = match &l.session {
            Some(s) => s.clone(),
            None => format!("(legacy) profile {}", l.profiles.first().map_or("", String::as_str)),
        };
        let mut row = json!({
            "kind": "sso", "name": name, "sso_session": l.session, "start_url": l.start_url,
            "status": "not logged in", "expires_at": null, "time_left_seconds": null,
            "refreshable": false, "renew": l.login_command,
        });
        match cache.read_token(l.key()) {
            Ok(None) => {}
            Err(_) => row["status"] = json!("unreadable token"),
            Ok(Some(t)) => {
                let can = l.session.is_some() && t.can_refresh(now);
                let valid = t.expires_at > now;
                let status = match t.freshness(now) {
                    Freshness::Valid | Freshness::RefreshDue if valid => "valid",
                    _ if can => "expired, refreshable",
                    _ => "expired",
                };
                row["status"] = json!(status);
                row["expires_at"] = json!(tobira_cache::token::format_time(t.expires_at));
                row["time_left_seconds"] = json!(t.expires_at.duration_since(now).as_secs().max(0));
                row["refreshable"] = json!(can);
                if let (Some(rt), true) = (&rt, valid) {
                    let _spinner = crate::spinner::Spinner::start(&format!(
                        "Asking the SSO portal whether the sign-in of {} is alive...",
                        l.label
                    ));
                    let v = rt.block_on(probe::sign_in_alive(&l.target(ctx, &set), t.access_token.expose()));
                    let (text, revoked) = verdict_text(v, "alive", "revoked");
                    if revoked {
                        row["status"] = json!("revoked");
                    }
                    row["check"] = json!(text);
                }
            }
        }
        rows.push(row);
    }
    for e in cached::entries(ctx, &set, None) {
        let file = ctx.display_path(&e.path).display().to_string();
        let (kind, name, what, renew) = match &e.owner {
            Some(o) => (
                o.kind,
                o.profile.clone(),
                o.what.clone(),
                Some(format!("tobira whoami --profile {}", crate::error::shell_word(&o.profile))),
            ),
            None => ("unknown", String::new(), "cached credentials of no profile of this config".to_string(), None),
        };
        let mut row = json!({
            "kind": kind, "name": name, "what": what, "file": file, "status": "unreadable",
            "expires_at": null, "time_left_seconds": null, "renew": renew,
        });
        if let Some(c) = &e.credentials {
            let valid = c.expiration.is_none_or(|x| x > now);
            row["status"] = json!(if valid { "valid" } else { "expired" });
            if let Some(x) = c.expiration {
                row["expires_at"] = json!(tobira_cache::token::format_time(x));
                row["time_left_seconds"] = json!(x.duration_since(now).as_secs().max(0));
            }
            if let (Some(rt), Some(o), true) = (&rt, &e.owner, valid) {
                let _spinner = crate::spinner::Spinner::start(&format!(
                    "Asking STS whether the cached {} are accepted...",
                    o.what
                ));
                let (text, refused) = verdict_text(
                    rt.block_on(probe::credentials_accepted(&o.plan, c, &ctx.net)),
                    "accepted by STS",
                    "refused by STS",
                );
                if refused {
                    row["status"] = json!("refused");
                }
                row["check"] = json!(text);
            }
        }
        rows.push(row);
    }
    let login_rows = super::console::session_rows(ctx, &set);
    if json_out {
        rows.extend(login_rows);
        return emit(out, &(serde_json::to_string_pretty(&rows).unwrap_or_default() + "\n"));
    }
    if rows.is_empty() && login_rows.is_empty() {
        return emit(
            out,
            "No SSO sessions or console sign-ins configured. Create one with `tobira configure sso` (IAM Identity Center) or `tobira login --console` (your AWS console credentials).\n",
        );
    }
    let s = |r: &Value, k: &str| r[k].as_str().unwrap_or("").to_string();
    let until = |r: &Value| match (r["expires_at"].as_str(), r["time_left_seconds"].as_i64()) {
        (Some(at), Some(left)) if left > 0 => {
            format!(" until {at} ({} left)", span(jiff::SignedDuration::from_secs(left)))
        }
        (Some(at), _) => format!(" at {at}"),
        _ => String::new(),
    };
    let mut text = String::new();
    for r in &rows {
        if r["kind"] == "sso" {
            let refresh = if r["refreshable"] == true { ", refreshable" } else { "" };
            text.push_str(&format!(
                "{}\n  start URL  {}\n  token      {}{}{refresh}\n",
                s(r, "name"),
                s(r, "start_url"),
                s(r, "status"),
                until(r)
            ));
            if !r["check"].is_null() {
                text.push_str(&format!("  server     {}\n", s(r, "check")));
            }
        } else {
            let owner = if s(r, "name").is_empty() { String::new() } else { format!(" of profile `{}`", s(r, "name")) };
            text.push_str(&format!(
                "{}{owner}\n  file       {}\n  status     {}{}\n",
                s(r, "what"),
                s(r, "file"),
                s(r, "status"),
                until(r)
            ));
            if !r["check"].is_null() {
                text.push_str(&format!("  STS        {}\n", s(r, "check")));
            }
        }
        if !r["renew"].is_null() {
            text.push_str(&format!("  renew      `{}`\n", s(r, "renew")));
        }
    }
    text.push_str(&super::console::render_rows(&login_rows));
    emit(out, &text)
}
