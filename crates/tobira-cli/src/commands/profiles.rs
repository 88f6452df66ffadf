//! `tobira profiles`: every profile, its kind, and whether it resolves.

use std::io::Write;

use serde::Serialize;
use tobira_config::resolve::{profile_kind, resolve_profile, select_profile};
use tobira_config::{Flags, Step};

use crate::{CliError, Context, emit};

#[derive(Serialize)]
struct Row {
    name: String,
    kind: &'static str,
    /// Selected by default ($AWS_PROFILE, $AWS_DEFAULT_PROFILE or `default`).
    active: bool,
    detail: String,
    region: Option<String>,
    /// Why the profile cannot give credentials, if it cannot.
    problem: Option<String>,
}

pub fn run(ctx: &Context, profile_flag: &Option<String>, json: bool, out: &mut dyn Write) -> Result<(), CliError> {
    let set = ctx.load_profiles()?;
    let (active, _) = select_profile(&Flags { profile: profile_flag.clone(), region: None }, &ctx.env);
    let rows: Vec<Row> = set
        .profiles()
        .iter()
        .map(|p| {
            let kind = profile_kind(&set, p);
            let region = p.text("region").map(|r| r.value);
            let (detail, problem) = match resolve_profile(&set, &ctx.env, &p.name, None) {
                Ok(plan) => {
                    let top = plan.steps.last().map(super::describe).unwrap_or_default();
                    let detail = match plan.steps.first() {
                        Some(first @ Step::Sso(_)) if plan.steps.len() > 1 => {
                            format!("{top} (via {})", super::describe(first))
                        }
                        _ => top,
                    };
                    (detail, None)
                }
                Err(tobira_config::ResolveError::NoCredentials { .. }) => {
                    ("settings only, no credentials".into(), None)
                }
                Err(e) => (String::new(), Some(e.to_string())),
            };
            Row { active: p.name == active.value, name: p.name.clone(), kind, detail, region, problem }
        })
        .collect();
    if json {
        let text =
            serde_json::to_string_pretty(&rows).map_err(|e| CliError::new(crate::Kind::Internal, e.to_string()))?;
        return emit(out, &(text + "\n"));
    }
    if rows.is_empty() {
        return emit(
            out,
            &format!(
                "No profiles in {} or {}.\nCreate one with `tobira configure sso` (IAM Identity Center) or `aws configure` (access keys).\n",
                ctx.display_path(&ctx.paths.config.value).display(),
                ctx.display_path(&ctx.paths.credentials.value).display()
            ),
        );
    }
    let name_w = rows.iter().map(|r| r.name.chars().count()).max().unwrap_or(0).max(4) + 2;
    let kind_w = rows.iter().map(|r| r.kind.len()).max().unwrap_or(0).max(4);
    let mut text = format!("  {:<name_w$}{:<kind_w$}  DETAILS\n", "NAME", "KIND");
    for r in &rows {
        let mark = if r.active { '*' } else { ' ' };
        let detail = match &r.problem {
            Some(p) => format!("error: {p}"),
            None => r.detail.clone(),
        };
        text.push_str(&format!("{mark} {:<name_w$}{:<kind_w$}  {detail}\n", r.name, r.kind));
    }
    let broken = rows.iter().filter(|r| r.problem.is_some()).count();
    if broken > 0 {
        text.push_str(&format!(
            "\n{broken} profile{} cannot give credentials; `tobira profile show NAME` explains why.\n",
            if broken == 1 { "" } else { "s" }
        ));
    }
    emit(out, &text)
}
