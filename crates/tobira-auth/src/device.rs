//! The device authorization flow (wire.md §2.6): a pure decision function for
//! each CreateToken answer, and a thin loop that sleeps and polls.

use std::time::Duration;

use tobira_cache::Registration;

use crate::{AuthError, LoginOptions, LoginUi, SsoTarget, Tokens, oidc_client, service_error};

/// What a CreateToken answer means for the loop.
#[derive(Debug, PartialEq, Eq)]
pub enum Next {
    /// Poll again after this long.
    Wait(Duration),
    /// Stop: the authorization expired.
    Expired,
    /// Stop with this error code.
    Fail(String),
}

/// RFC 8628 §3.5 as AWS applies it: `authorization_pending` → same interval;
/// `slow_down` → the interval grows by 5 s for good; `expired_token` → stop;
/// anything else → stop.
pub fn next(error_code: &str, interval: &mut Duration) -> Next {
    match error_code {
        "AuthorizationPendingException" => Next::Wait(*interval),
        "SlowDownException" => {
            *interval += Duration::from_secs(5);
            Next::Wait(*interval)
        }
        "ExpiredTokenException" => Next::Expired,
        other => Next::Fail(other.to_string()),
    }
}

pub(crate) async fn run(
    target: &SsoTarget,
    reg: &Registration,
    opts: LoginOptions,
    ui: &mut dyn LoginUi,
) -> Result<Tokens, AuthError> {
    tracing::debug!(url = %target.oidc_call("StartDeviceAuthorization").url, operation = "StartDeviceAuthorization", "starting the device code flow");
    let client = oidc_client(target);
    let auth = client
        .start_device_authorization()
        .client_id(&reg.client_id)
        .client_secret(reg.client_secret.expose())
        .start_url(&target.start_url)
        .send()
        .await
        .map_err(|e| service_error(target.oidc_call("StartDeviceAuthorization"), e))?;
    let device_code = auth.device_code().unwrap_or_default().to_string();
    let mut interval = Duration::from_secs(u64::try_from(auth.interval()).ok().filter(|i| *i > 0).unwrap_or(5));
    let deadline = tokio::time::Instant::now()
        + opts.timeout.min(Duration::from_secs(u64::try_from(auth.expires_in()).unwrap_or(600) + 5));
    // The URL and the code are always shown (even if the first poll succeeds).
    let complete = auth.verification_uri_complete().unwrap_or_default();
    let opened = opts.open_browser && ui.open_browser(complete);
    ui.device_prompt(
        auth.verification_uri().unwrap_or_default(),
        auth.user_code().unwrap_or_default(),
        complete,
        opened,
    );
    loop {
        let attempt = client
            .create_token()
            .client_id(&reg.client_id)
            .client_secret(reg.client_secret.expose())
            .grant_type("urn:ietf:params:oauth:grant-type:device_code")
            .device_code(&device_code)
            .send()
            .await;
        let code = match attempt {
            Ok(out) => {
                return Ok(Tokens {
                    access_token: out.access_token().unwrap_or_default().to_string(),
                    expires_in: out.expires_in(),
                    refresh_token: out.refresh_token().map(str::to_string),
                });
            }
            Err(e) => match service_error(target.oidc_call("CreateToken"), e) {
                AuthError::Service { code, message, .. } => (code, message),
                other => return Err(other),
            },
        };
        match next(&code.0, &mut interval) {
            Next::Wait(d) => {
                if tokio::time::Instant::now() + d > deadline {
                    return Err(AuthError::PendingExpired);
                }
                tokio::time::sleep(d).await;
            }
            Next::Expired => return Err(AuthError::PendingExpired),
            Next::Fail(c) => return Err(AuthError::Service { operation: "CreateToken", code: c, message: code.1 }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn polling_rules() {
        let mut i = Duration::from_secs(1);
        assert_eq!(next("AuthorizationPendingException", &mut i), Next::Wait(Duration::from_secs(1)));
        assert_eq!(next("SlowDownException", &mut i), Next::Wait(Duration::from_secs(6)));
        assert_eq!(
            next("AuthorizationPendingException", &mut i),
            Next::Wait(Duration::from_secs(6)),
            "slow_down is permanent"
        );
        assert_eq!(next("ExpiredTokenException", &mut i), Next::Expired);
        assert_eq!(next("AccessDeniedException", &mut i), Next::Fail("AccessDeniedException".into()));
    }
}
