pub mod cached;
pub mod configure;
pub mod console;
pub mod console_url;
pub mod creds;
pub mod doctor;
pub mod iam;
pub mod keychain;
pub mod logins;
pub mod populate;
pub mod profile_show;
pub mod profiles;
pub(crate) mod prompt;
pub mod server;
pub mod sessions;
pub mod shell;
pub mod sso;
pub mod target;

use tobira_config::resolve::select_profile;
use tobira_config::{Flags, Origin, Plan, ProfileSet, ResolveError, Step};

use crate::error::choose_a_profile;
use crate::{CliError, Context, Kind};

/// The async runtime a command's network calls run on (one thread: a
/// command waits for its calls).
pub fn runtime() -> Result<tokio::runtime::Runtime, CliError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::new(Kind::Internal, format!("cannot start the async runtime: {e}")))
}

/// Resolves the selected profile. When nothing selected one (no `--profile`,
/// no `AWS_PROFILE`) and `default` gives no credentials, the error lists the
/// profiles that exist and says how to choose one.
pub fn resolve(ctx: &Context, set: &ProfileSet, flags: &Flags) -> Result<Plan, CliError> {
    let plan = tobira_config::resolve(set, &ctx.env, flags).map_err(|e| {
        let (selected, _) = select_profile(flags, &ctx.env);
        match &e {
            ResolveError::NoCredentials { .. } if selected.origin == Origin::Default => no_profile_selected(set, e),
            _ => e.into(),
        }
    });
    match &plan {
        Ok(p) => tracing::debug!(
            profile = %p.profile.value,
            profile_from = %p.profile.origin,
            method = p.method(),
            steps = ?p.steps.iter().map(describe).collect::<Vec<_>>(),
            region = ?p.region.as_ref().map(|r| format!("{} ({})", r.value, r.origin)),
            sts_endpoint = ?p.endpoints.sts.as_ref().map(|e| format!("{} ({})", e.value, e.origin)),
            sso_endpoint = ?p.endpoints.sso.as_ref().map(|e| format!("{} ({})", e.value, e.origin)),
            "resolved the profile"
        ),
        Err(e) => tracing::debug!(error = %e.message, "resolution failed"),
    }
    plan
}

fn no_profile_selected(set: &ProfileSet, e: ResolveError) -> CliError {
    let mut names: Vec<String> = set.profiles().iter().map(|p| p.name.clone()).filter(|n| n != "default").collect();
    names.sort();
    let Some((listed, how)) = choose_a_profile(&names) else { return e.into() };
    if set.profile("default").is_some() {
        return CliError::from(e).hint(format!("or use another profile ({listed}): {how}"));
    }
    let which = if names.len() == 1 { "the profile that exists is" } else { "the profiles that exist are" };
    CliError::new(
        Kind::NoCredentials,
        "Unable to locate credentials: no profile is selected (no `--profile`, no `AWS_PROFILE`) and there is no `default` profile",
    )
    .hint(format!("{which} {listed}"))
    .hint(how)
}

/// One line describing a step, for tables and chains.
pub fn describe(step: &Step) -> String {
    match step {
        Step::Env(_) => "keys from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY".into(),
        Step::Static(k) => {
            let place = if k.from_credentials_file { "credentials file" } else { "config file" };
            match &k.mfa_serial {
                Some(m) => format!("keys in the {place}, MFA session with {}", m.value),
                None => format!("keys in the {place}"),
            }
        }
        Step::Sso(s) => match &s.session {
            Some(sess) => {
                format!("sso-session {}: account {}, role {}", sess.value, s.account_id.value, s.role_name.value)
            }
            None => format!("{}: account {}, role {}", s.start_url.value, s.account_id.value, s.role_name.value),
        },
        Step::Process { command, .. } => format!("runs `{}`", command.value),
        Step::WebIdentity(w) => format!("{} with token {}", w.role_arn.value, w.token_file.value),
        Step::Login { session, .. } => format!("console sign-in (aws login) as {}", session.value),
        Step::CredentialSource { source, .. } => format!("credential_source {}", source.value),
        Step::AssumeRole(a) => {
            let from = match (&a.source_profile, &a.credential_source) {
                (Some(p), _) => format!(" from profile {}", p.value),
                (None, Some(c)) => format!(" from {}", c.value),
                (None, None) => String::new(),
            };
            let mfa = a.mfa_serial.as_ref().map(|m| format!(", MFA {}", m.value)).unwrap_or_default();
            format!("{}{from}{mfa}", a.role_arn.value)
        }
    }
}
