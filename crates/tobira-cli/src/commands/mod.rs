pub mod configure;
pub mod creds;
pub mod profile_show;
pub mod profiles;
pub mod sso;

use tobira_config::Step;

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
        Step::Login { session, .. } => format!("aws login session {}", session.value),
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
