//! The clock against STS's, and how doctor words a call that got no answer.

use tobira_auth::AuthError;

use super::{Doctor, Severity, span};
use crate::commands::target::Chosen;

/// A call that got no usable answer, in the CLI's words: the message and
/// what to do.
pub fn unreachable(e: AuthError, chosen: &Chosen) -> (String, Option<String>) {
    let err = crate::error::auth_error(e, chosen);
    let fix = (!err.hints.is_empty()).then(|| err.hints.join("; "));
    (err.message, fix)
}

/// AWS refuses requests signed with a time this far from its own.
const REFUSED_AT_SECONDS: i64 = 15 * 60;
/// Below this, the difference is the network's and the `Date` header's
/// whole seconds, not the clock.
const NOTICED_AT_SECONDS: i64 = 60;

/// What a clock this far off does, and how urgent it is.
pub fn skew_finding(skew_seconds: i64, from: &str, url: &str) -> Option<(Severity, String, String)> {
    let off = skew_seconds.abs();
    if off < NOTICED_AT_SECONDS {
        return None;
    }
    let way = if skew_seconds > 0 { "behind" } else { "ahead of" };
    let amount = span(jiff::SignedDuration::from_secs(off));
    let fix = "set this machine's clock right, e.g. turn on time synchronisation: `sudo timedatectl set-ntp true` (macOS: System Settings → General → Date & Time → Set time automatically)".to_string();
    if off >= REFUSED_AT_SECONDS {
        Some((
            Severity::Error,
            format!(
                "this machine's clock is {amount} {way} STS's ({from} of {url}): AWS refuses requests signed more than 15 minutes off (\"Signature expired\"), and every expiry tobira and the AWS CLI check is off by as much"
            ),
            fix,
        ))
    } else {
        Some((
            Severity::Warning,
            format!(
                "this machine's clock is {amount} {way} STS's ({from} of {url}): tobira and the AWS CLI judge the expiry of sign-ins and cached credentials by this clock, so they are off by as much (AWS refuses signatures at 15 minutes)"
            ),
            fix,
        ))
    }
}

/// One STS call; the difference between its time and this machine's.
pub fn clock(d: &mut Doctor<'_>) {
    if d.offline {
        d.checked.push("not the clock (--offline)".to_string());
        return;
    }
    let (endpoint, region, chosen) = match &d.plan {
        Some(plan) => (
            plan.endpoints.sts.as_ref().map(|e| e.value.clone()),
            plan.region.as_ref().map_or(tobira_auth::creds::STS_DEFAULT_REGION.to_string(), |r| r.value.clone()),
            crate::commands::target::sso_chosen(plan, &d.ctx.net),
        ),
        None => {
            let endpoints = d
                .set
                .as_ref()
                .and_then(|set| tobira_config::resolve::endpoints(set, &d.ctx.env, None).ok())
                .unwrap_or_default();
            let region = ["AWS_REGION", "AWS_DEFAULT_REGION"]
                .iter()
                .find_map(|v| d.ctx.env.get(v))
                .unwrap_or(tobira_auth::creds::STS_DEFAULT_REGION)
                .to_string();
            let chosen = Chosen {
                target: tobira_auth::SsoTarget {
                    session: None,
                    start_url: String::new(),
                    region: String::new(),
                    scopes: None,
                    oidc_endpoint: None,
                    portal_endpoint: None,
                    net: d.ctx.net.clone(),
                },
                profile: None,
                addresses: crate::error::Addresses {
                    endpoints: endpoints.clone(),
                    sso_region_from: None,
                    region: None,
                },
            };
            (endpoints.sts.map(|e| e.value), region, chosen)
        }
    };
    let answer = {
        let _spinner = crate::spinner::Spinner::start("Comparing this machine's clock with STS's...");
        crate::commands::runtime()
            .map(|rt| rt.block_on(tobira_auth::probe::server_time(endpoint.as_deref(), &region, &d.ctx.net)))
    };
    let local = d.ctx.current_time();
    match answer {
        Ok(Ok(Some(server))) => {
            // The server's time is in whole seconds: its middle is half a second later.
            let middle = server.time + jiff::SignedDuration::from_millis(500);
            let skew = middle.duration_since(local).round(jiff::Unit::Second).map_or(0, |d| d.as_secs());
            d.clock_skew_seconds = Some(skew);
            d.checked.push(format!("the clock ({}s from STS at {})", skew, server.call.url));
            if let Some((severity, message, fix)) = skew_finding(skew, server.from, &server.call.url) {
                d.add(severity, "clock-skew", message, Some(fix));
            }
        }
        Ok(Ok(None)) => {
            d.checked.push("not the clock (STS's answer had no time)".to_string());
        }
        Ok(Err(e)) => {
            d.checked.push("not the clock (STS could not be reached)".to_string());
            let (message, fix) = unreachable(e, &chosen);
            d.add(
                Severity::Warning,
                "clock-unchecked",
                format!("could not compare the clock with STS's: {message}"),
                fix,
            );
        }
        Err(e) => d.add(Severity::Warning, "clock-unchecked", e.message, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skew_thresholds() {
        assert!(skew_finding(59, "the Date header", "u").is_none());
        assert!(skew_finding(-59, "the Date header", "u").is_none());
        let (s, m, _) = skew_finding(300, "the Date header", "https://sts.us-east-1.amazonaws.com").unwrap();
        assert_eq!(s, Severity::Warning);
        assert!(
            m.starts_with(
                "this machine's clock is 5m behind STS's (the Date header of https://sts.us-east-1.amazonaws.com)"
            ),
            "{m}"
        );
        let (s, m, _) = skew_finding(-1200, "the signature refusal", "u").unwrap();
        assert_eq!(s, Severity::Error);
        assert!(m.starts_with("this machine's clock is 20m ahead of STS's"), "{m}");
    }
}
