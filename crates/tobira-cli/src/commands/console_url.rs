//! `tobira console`: open the AWS Management Console as a profile's role
//! session or, for an IAM user's long-term keys, as a federated user
//! (spec/console.md §6; docs/console.md). The profile's credentials come
//! through the normal chain; long-term keys first become a federated user's
//! credentials (STS GetCallerIdentity for the user's name, then
//! GetFederationToken with an allow-all session policy, as aws-vault and
//! granted do); the Sign-In federation endpoint trades the temporary
//! credentials for a SigninToken, and the login URL that carries it is
//! opened in the browser or, with `--print`, printed.
//!
//! `--session-duration` is checked before anything is called: 900–43200
//! seconds, sent as `SessionDuration`, for role credentials; 900–129600,
//! sent as GetFederationToken's `DurationSeconds`, for an IAM user's keys.
//!
//! The federation endpoint is the Sign-In endpoint's origin: the
//! `AWS_ENDPOINT_URL_SIGNIN` override (or `[services] signin`,
//! `AWS_ENDPOINT_URL`, `endpoint_url`) when set, the same one `tobira login
//! --console` uses, else the partition's Sign-In host for the region.

use std::io::Write;

use tobira_auth::AuthError;
use tobira_auth::federation::{self, FederationError};
use tobira_cache::Credentials;
use tobira_config::{Plan, Step};

use super::creds::{credentials_of, plan_for};
use super::runtime;
use super::target::{login_error, sso_chosen};
use crate::error::shell_word;
use crate::{CliError, Context, Kind, emit};

/// What `tobira console` was asked for.
pub struct ConsoleArgs {
    pub profile: Option<String>,
    pub region: Option<String>,
    pub service: Option<String>,
    pub print: bool,
    pub mfa_code: Option<String>,
    /// `--session-duration`, as typed.
    pub session_duration: Option<String>,
}

/// The credentials a plan gives, as far as the files tell (no call made).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Expected {
    /// A role session: IAM Identity Center, AssumeRole, web identity, an
    /// instance or container role.
    Role,
    /// An IAM user's (or root user's) long-term keys.
    Keys,
    /// Keys with `mfa_serial`: an MFA session (GetSessionToken).
    MfaSession,
    /// Known only once they are there (`credential_process`, `aws login`,
    /// keys with a session token).
    Unknown,
}

fn expected(plan: &Plan) -> Expected {
    match plan.steps.last() {
        Some(Step::Sso(_) | Step::AssumeRole(_) | Step::WebIdentity(_) | Step::CredentialSource { .. }) => {
            Expected::Role
        }
        Some(Step::Static(k) | Step::Env(k)) if k.session_token.is_some() => Expected::Unknown,
        Some(Step::Static(k) | Step::Env(k)) if k.mfa_serial.is_some() => Expected::MfaSession,
        Some(Step::Static(_) | Step::Env(_)) => Expected::Keys,
        _ => Expected::Unknown,
    }
}

/// `tobira console [--profile P] --session-duration <seconds>`, the command
/// a hint names.
fn console_command(profile: Option<&str>, seconds: i64) -> String {
    let profile = profile.map(|p| format!(" --profile {}", shell_word(p))).unwrap_or_default();
    format!("tobira console{profile} --session-duration {seconds}")
}

/// `--session-duration` as whole seconds in the widest range AWS allows
/// (900–129600); the narrower one of role credentials is [`role_duration`].
fn parse_duration(value: &str, profile: Option<&str>) -> Result<i64, CliError> {
    let shown = value.escape_default().to_string();
    let fix = |seconds| console_command(profile, seconds);
    let trimmed = value.trim();
    if trimmed.is_empty() || !trimmed.bytes().all(|b| b.is_ascii_digit()) {
        return Err(CliError::new(
            Kind::Usage,
            format!("`--session-duration {shown}` is not a whole number of seconds"),
        )
        .hint(format!(
            "give the console session's length in seconds (3600 for an hour, 43200 for 12 hours): `{}`",
            fix(3600)
        )));
    }
    let seconds = trimmed.parse::<i64>().unwrap_or(i64::MAX);
    let (min, max) = (*federation::FEDERATED_SESSION_SECONDS.start(), *federation::FEDERATED_SESSION_SECONDS.end());
    if seconds < min {
        return Err(CliError::new(
            Kind::Usage,
            format!(
                "`--session-duration {shown}` is shorter than {min} seconds (15 minutes), the shortest console session AWS gives"
            ),
        )
        .hint(format!("ask for {min} seconds or more: `{}`", fix(min))));
    }
    if seconds > max {
        return Err(CliError::new(
            Kind::Usage,
            format!(
                "`--session-duration {shown}` is longer than {max} seconds (36 hours), the longest session AWS gives (an IAM user's federated session; a role's console session lasts at most 43200 seconds, 12 hours)"
            ),
        )
        .hint(format!(
            "ask for {max} seconds or less (43200 or less for a role session): `{}`",
            fix(max)
        )));
    }
    Ok(seconds)
}

/// A duration checked by [`parse_duration`] that role credentials get as
/// `SessionDuration`: at most 43200 seconds.
fn role_duration(seconds: i64, profile: &str) -> Result<i64, CliError> {
    let max = *federation::ROLE_SESSION_SECONDS.end();
    if seconds > max {
        return Err(CliError::new(
            Kind::Usage,
            format!(
                "`--session-duration {seconds}` is longer than {max} seconds (12 hours), the longest console session AWS gives a role session, which is what profile `{profile}` signs in with"
            ),
        )
        .hint(format!(
            "ask for {max} seconds or less, for example `{}`; up to 129600 seconds (36 hours) are only for IAM users' keys, as a federated user",
            console_command(Some(profile), max)
        )));
    }
    Ok(seconds)
}

pub fn run(ctx: &Context, args: ConsoleArgs, out: &mut dyn Write) -> Result<(), CliError> {
    // Everything the command line and the files decide is checked before
    // any call: the duration, the service name, which credentials these are.
    let duration = args.session_duration.as_deref().map(|d| parse_duration(d, args.profile.as_deref())).transpose()?;
    let service = args.service.as_deref().map(str::trim).filter(|s| !s.is_empty());
    if let Some(s) = service
        && !s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(CliError::new(Kind::Usage, format!("`{}` is not a console service name", s.escape_default()))
            .hint("use the name in the console's address, e.g. --service s3, --service ec2, --service iam"));
    }
    let (set, plan) = plan_for(ctx, tobira_config::Flags { profile: args.profile, region: args.region.clone() })?;
    let profile = plan.profile.value.clone();
    match expected(&plan) {
        Expected::MfaSession => return Err(mfa_session(&profile)),
        Expected::Role => {
            if let Some(d) = duration {
                role_duration(d, &profile)?;
            }
        }
        Expected::Keys | Expected::Unknown => {}
    }
    let (plan, c) = credentials_of(ctx, &set, plan, args.mfa_code)?;
    let region = args.region.or_else(|| plan.region.as_ref().map(|r| r.value.clone()));
    let endpoint = plan.endpoints.signin.as_ref().map(|e| e.value.clone());
    let base = federation::base(endpoint.as_deref(), region.as_deref());
    let destination = federation::destination(region.as_deref(), service);

    let (session, federated_user) = if c.session_token.is_none() {
        let seconds = duration.unwrap_or(federation::FEDERATED_DEFAULT_SECONDS);
        let (c, user) = federated(ctx, &plan, &c, seconds)?;
        (c, Some(user))
    } else {
        (c, None)
    };
    // Role credentials carry SessionDuration; a federated user's session
    // lasts as long as its credentials, and the endpoint refuses it.
    let session_duration = match &federated_user {
        None => duration.map(|d| role_duration(d, &profile)).transpose()?,
        Some(_) => None,
    };
    let spinner = crate::spinner::Spinner::start("Getting a console sign-in token...");
    let token = runtime()?.block_on(federation::signin_token(&base, &session, session_duration, &ctx.net));
    spinner.stop();
    let token = match token {
        Ok(t) => t,
        Err(FederationError::LongTermKeys) => return Err(long_term(&profile)),
        Err(FederationError::Refused { url, status, reason }) => {
            let error = CliError::new(
                Kind::Service,
                format!(
                    "the AWS Sign-In federation endpoint {url} refused the credentials of profile `{profile}` (HTTP {status}): {reason}"
                ),
            );
            return Err(match &federated_user {
                None => error.hint(format!(
                    "only role sessions (IAM Identity Center, AssumeRole) and federated users (IAM user keys) can open the console; if the credentials expired or were revoked, sign in again (`tobira login --profile {}`) and retry",
                    shell_word(&profile)
                )),
                Some(user) => error.hint(format!(
                    "the federated user `{user}` was just made from the keys of profile `{profile}`, so the endpoint should take its credentials: check that `AWS_ENDPOINT_URL_SIGNIN` and `AWS_ENDPOINT_URL_STS` name the same service, then run `tobira console --profile {}` again",
                    shell_word(&profile)
                )),
            });
        }
        Err(FederationError::Network { call, failure }) => {
            return Err(login_error(ctx, AuthError::Network { call, failure }, &sso_chosen(&plan, &ctx.net)));
        }
    };
    // Where the console sends the user when the session ends: the start URL
    // for IAM Identity Center (as aws-sso-cli and aws-sso-util do), else a name.
    let issuer = match plan.steps.first() {
        Some(Step::Sso(role)) => role.start_url.value.clone(),
        _ => "tobira".to_string(),
    };
    let url = federation::login_url(&base, &issuer, &destination, &token);
    if let Some(user) = &federated_user {
        // Say what was done for keys that cannot open the console themselves, and the alternative.
        let _ = writeln!(
            std::io::stderr(),
            "note: profile `{profile}` has an IAM user's long-term keys, which cannot open the console; tobira made them a federated user, `{user}`, with STS GetFederationToken (the IAM user's own permissions, until the session ends).\n      For a role's console instead: `tobira configure role --source-profile {profile}`, then `tobira console --profile <that profile>`."
        );
    }
    if args.print {
        // The URL is a bearer credential for one console sign-in within 15
        // minutes: it is printed only when asked for.
        return emit(out, &format!("{url}\n"));
    }
    let who = federated_user.map(|u| format!(" as federated user {u}")).unwrap_or_default();
    if webbrowser::open(&url).is_ok() {
        emit(out, &format!("Opened the AWS console for profile {profile}{who} in your browser ({destination}).\n"))
    } else {
        emit(
            out,
            &format!(
                "Could not open a browser. Open this URL within 15 minutes (it signs in once; treat it as a secret):\n\n{url}\n"
            ),
        )
    }
}

/// Long-term keys become a federated user's credentials (docs/console.md,
/// "IAM users"): the IAM user's name from GetCallerIdentity, then
/// GetFederationToken for `seconds` with an allow-all session policy, so
/// that the console acts with the IAM user's own permissions. Returns the
/// credentials and the federated user's name.
fn federated(ctx: &Context, plan: &Plan, keys: &Credentials, seconds: i64) -> Result<(Credentials, String), CliError> {
    let profile = plan.profile.value.as_str();
    let rt = runtime()?;
    let spinner = crate::spinner::Spinner::start("Asking STS who these keys belong to...");
    let me = rt.block_on(tobira_auth::creds::caller_identity(plan, keys, &ctx.net));
    spinner.stop();
    let (_, arn, _) = me.map_err(|e| match e {
        AuthError::Service { .. } => CliError::new(Kind::Service, e.to_string()).hint(format!(
            "STS does not take the access key of profile `{profile}`: check it with `tobira whoami --profile {p}`, and give the profile a working key with `tobira configure iam-user --profile {p}`",
            p = shell_word(profile)
        )),
        e => login_error(ctx, e, &sso_chosen(plan, &ctx.net)),
    })?;
    let name = federation::federated_user_name(&arn);
    let duration = i32::try_from(seconds).unwrap_or(i32::MAX);
    let spinner = crate::spinner::Spinner::start(&format!("Getting console credentials for federated user {name}..."));
    let fed = rt.block_on(tobira_auth::creds::federation_token(
        plan,
        &ctx.net,
        keys,
        &name,
        duration,
        federation::ALLOW_ALL_POLICY,
    ));
    spinner.stop();
    let fed = fed.map_err(|e| match &e {
        AuthError::Service { code, .. } if code == "AccessDenied" => CliError::new(Kind::Service, e.to_string())
            .hint(format!(
                "an IAM user's keys open the console through STS GetFederationToken, which `{arn}` (profile `{profile}`) may not call; an administrator can allow `sts:GetFederationToken`, or make a profile that assumes a role with these keys: `tobira configure role --source-profile {}`",
                shell_word(profile)
            )),
        AuthError::Service { .. } => CliError::new(Kind::Service, e.to_string()).hint(format!(
            "STS refused GetFederationToken for federated user `{name}` ({seconds} seconds); run `{}` to try again with an hour",
            console_command(Some(profile), federation::FEDERATED_DEFAULT_SECONDS)
        )),
        _ => login_error(ctx, e, &sso_chosen(plan, &ctx.net)),
    })?;
    Ok((fed, name))
}

fn long_term(profile: &str) -> CliError {
    CliError::new(
        Kind::InvalidProfile,
        format!("profile `{profile}` has long-term IAM user keys, which cannot sign in to the AWS console"),
    )
    .hint(format!(
        "AWS opens the console only for temporary credentials of a role session or a federated user. Make a profile that assumes a role with these keys (`tobira configure role --source-profile {}`, then `tobira console --profile <that profile>`), or use an IAM Identity Center profile",
        shell_word(profile)
    ))
}

/// Keys with `mfa_serial` give an MFA session (GetSessionToken), which
/// neither opens the console nor may call GetFederationToken.
fn mfa_session(profile: &str) -> CliError {
    let p = shell_word(profile);
    CliError::new(
        Kind::InvalidProfile,
        format!(
            "profile `{profile}` signs in with an MFA session (GetSessionToken, because it sets `mfa_serial`), and AWS neither opens the console for those credentials nor lets them call GetFederationToken"
        ),
    )
    .hint(format!(
        "make a profile that assumes a role with these keys and MFA (`tobira configure role --source-profile {p}`, then `tobira console --profile <that profile>`); or use the same keys in a profile without `mfa_serial`, for which tobira calls GetFederationToken (`tobira configure iam-user` makes one)"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_durations_are_whole_seconds_in_awss_ranges() {
        assert_eq!(parse_duration("900", None).unwrap(), 900);
        assert_eq!(parse_duration(" 129600 ", Some("bob")).unwrap(), 129_600);
        for (bad, words) in [
            ("1h", "not a whole number of seconds"),
            ("", "not a whole number of seconds"),
            ("-900", "not a whole number of seconds"),
            ("3600.5", "not a whole number of seconds"),
            ("899", "shorter than 900 seconds"),
            ("129601", "longer than 129600 seconds"),
            ("99999999999999999999999", "longer than 129600 seconds"),
        ] {
            let e = parse_duration(bad, Some("my dev")).unwrap_err();
            assert_eq!(e.kind, Kind::Usage, "{bad}");
            assert!(e.message.contains(words), "{bad}: {}", e.message);
            assert!(e.hints[0].contains("tobira console --profile 'my dev' --session-duration "), "{:?}", e.hints);
        }
        assert_eq!(role_duration(43_200, "dev").unwrap(), 43_200);
        let e = role_duration(43_201, "dev").unwrap_err();
        assert!(
            e.message.contains("longer than 43200 seconds") && e.message.contains("profile `dev`"),
            "{}",
            e.message
        );
        assert!(e.hints[0].contains("`tobira console --profile dev --session-duration 43200`"), "{:?}", e.hints);
    }
}
