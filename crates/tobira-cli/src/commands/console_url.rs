//! `tobira console`: open the AWS Management Console as a profile's role
//! session (spec/console.md §6). The profile's temporary credentials come
//! through the normal chain; the Sign-In federation endpoint trades them for
//! a SigninToken, and the login URL that carries it is opened in the
//! browser or, with `--print`, printed.
//!
//! The federation endpoint is the Sign-In endpoint's origin: the
//! `AWS_ENDPOINT_URL_SIGNIN` override (or `[services] signin`,
//! `AWS_ENDPOINT_URL`, `endpoint_url`) when set, the same one `tobira login
//! --console` uses, else the partition's Sign-In host for the region.

use std::io::Write;

use tobira_auth::AuthError;
use tobira_auth::federation::{self, FederationError};
use tobira_config::Step;

use super::creds::credentials;
use super::runtime;
use super::target::{login_error, sso_chosen};
use crate::{CliError, Context, Kind, emit};

/// What `tobira console` was asked for.
pub struct ConsoleArgs {
    pub profile: Option<String>,
    pub region: Option<String>,
    pub service: Option<String>,
    pub print: bool,
    pub mfa_code: Option<String>,
}

pub fn run(ctx: &Context, args: ConsoleArgs, out: &mut dyn Write) -> Result<(), CliError> {
    let (plan, c) = credentials(ctx, args.profile, args.mfa_code)?;
    let profile = plan.profile.value.clone();
    if c.session_token.is_none() {
        return Err(long_term(&profile));
    }
    let region = args.region.or_else(|| plan.region.as_ref().map(|r| r.value.clone()));
    let endpoint = plan.endpoints.signin.as_ref().map(|e| e.value.clone());
    let base = federation::base(endpoint.as_deref(), region.as_deref());
    let service = args.service.as_deref().map(str::trim).filter(|s| !s.is_empty());
    if let Some(s) = service
        && !s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(CliError::new(Kind::Usage, format!("`{}` is not a console service name", s.escape_default()))
            .hint("use the name in the console's address, e.g. --service s3, --service ec2, --service iam"));
    }
    let destination = federation::destination(region.as_deref(), service);
    let spinner = crate::spinner::Spinner::start("Getting a console sign-in token...");
    let token = runtime()?.block_on(federation::signin_token(&base, &c, None));
    spinner.stop();
    let token = match token {
        Ok(t) => t,
        Err(FederationError::LongTermKeys) => return Err(long_term(&profile)),
        Err(FederationError::Refused { url, status, reason }) => {
            return Err(CliError::new(
                Kind::Service,
                format!("the AWS Sign-In federation endpoint {url} refused the credentials of profile `{profile}` (HTTP {status}): {reason}"),
            )
            .hint(format!(
                "only role sessions (IAM Identity Center, AssumeRole) can open the console; if the credentials expired or were revoked, sign in again (`tobira login --profile {profile}`) and retry"
            )));
        }
        Err(FederationError::Network { call, failure }) => {
            return Err(login_error(ctx, AuthError::Network { call, failure }, &sso_chosen(&plan)));
        }
    };
    // Where the console sends the user when the session ends: the start URL
    // for IAM Identity Center (as aws-sso-cli and aws-sso-util do), else a name.
    let issuer = match plan.steps.first() {
        Some(Step::Sso(role)) => role.start_url.value.clone(),
        _ => "tobira".to_string(),
    };
    let url = federation::login_url(&base, &issuer, &destination, &token);
    if args.print {
        // The URL is a bearer credential for one console sign-in within 15
        // minutes: it is printed only when asked for.
        return emit(out, &format!("{url}\n"));
    }
    if webbrowser::open(&url).is_ok() {
        emit(out, &format!("Opened the AWS console for profile {profile} in your browser ({destination}).\n"))
    } else {
        emit(
            out,
            &format!(
                "Could not open a browser. Open this URL within 15 minutes (it signs in once; treat it as a secret):\n\n{url}\n"
            ),
        )
    }
}

fn long_term(profile: &str) -> CliError {
    CliError::new(
        Kind::InvalidProfile,
        format!("profile `{profile}` has long-term IAM user keys, which cannot sign in to the AWS console"),
    )
    .hint(format!(
        "AWS opens the console only for temporary credentials of a role session. Make a profile that assumes a role with these keys (`tobira configure role --source-profile {profile}`, then `tobira console --profile <that profile>`), use an IAM Identity Center profile, or get federated-user credentials with STS GetFederationToken; otherwise sign in to the console with the IAM user's password"
    ))
}
