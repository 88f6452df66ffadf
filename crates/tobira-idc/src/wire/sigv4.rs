//! AWS Signature Version 4 verification (docs/sigv4.md): the canonical
//! request rebuilt from what was received, never from what the client
//! claims. The payload hash is computed from the received body; an
//! `x-amz-content-sha256` header must equal it. `host` must be signed, and
//! the credential scope's date must be the request's date. The signature is
//! compared in constant time and never echoed.
//!
//! This module knows nothing of who owns a key: the caller passes a lookup
//! from access key id (and session token) to the signing secret.

use axum::http::{HeaderMap, Uri};
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

use crate::domain::secret;
use crate::wire::uri_encode;

/// How far a request's `X-Amz-Date` may be from the server clock.
pub(crate) const MAX_SKEW_SECONDS: i64 = 15 * 60;

/// Why a signature is refused; `E` is the key lookup's own error.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SigError<E> {
    #[error("Request is missing Authentication Token")]
    Missing,
    #[error("{0}")]
    Incomplete(String),
    #[error("{0}")]
    Mismatch(String),
    #[error(transparent)]
    Key(E),
}

/// The parts of an `Authorization: AWS4-HMAC-SHA256 …` header.
#[derive(Debug)]
pub(crate) struct Authorization<'a> {
    pub access_key_id: &'a str,
    pub date: &'a str,
    pub region: &'a str,
    pub service: &'a str,
    pub signed_headers: &'a str,
    pub signature: &'a str,
}

pub(crate) fn parse_authorization(value: &str) -> Option<Authorization<'_>> {
    let rest = value.strip_prefix("AWS4-HMAC-SHA256")?.trim_start();
    let (mut credential, mut signed, mut signature) = (None, None, None);
    for part in rest.split(',') {
        let (k, v) = part.trim().split_once('=')?;
        match k {
            "Credential" => credential = Some(v),
            "SignedHeaders" => signed = Some(v),
            "Signature" => signature = Some(v),
            _ => {}
        }
    }
    let mut scope = credential?.split('/');
    let auth = Authorization {
        access_key_id: scope.next()?,
        date: scope.next()?,
        region: scope.next()?,
        service: scope.next()?,
        signed_headers: signed?,
        signature: signature?,
    };
    (scope.next()? == "aws4_request" && scope.next().is_none()).then_some(auth)
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

pub(crate) fn hmac(key: &[u8], data: &str) -> Vec<u8> {
    #[allow(clippy::expect_used)] // HMAC accepts keys of any length
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("any key length");
    mac.update(data.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

fn canonical_query(query: Option<&str>) -> String {
    let Some(q) = query.filter(|q| !q.is_empty()) else { return String::new() };
    let mut pairs: Vec<(String, String)> = serde_urlencoded::from_str::<Vec<(String, String)>>(q)
        .unwrap_or_default()
        .into_iter()
        .map(|(k, v)| (uri_encode(&k), uri_encode(&v)))
        .collect();
    pairs.sort();
    pairs.into_iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&")
}

/// `20261122T002910Z` → unix seconds.
pub(crate) fn parse_amz_date(s: &str) -> Option<i64> {
    if !s.is_ascii() || s.len() != 16 || !s.ends_with('Z') || s.as_bytes()[8] != b'T' {
        return None;
    }
    let rfc = format!("{}-{}-{}T{}:{}:{}Z", &s[0..4], &s[4..6], &s[6..8], &s[9..11], &s[11..13], &s[13..15]);
    rfc.parse::<jiff::Timestamp>().ok().map(|t| t.as_second())
}

fn fmt_amz(t: i64) -> String {
    jiff::Timestamp::from_second(t).map(|t| t.strftime("%Y%m%dT%H%M%SZ").to_string()).unwrap_or_default()
}

/// A request to verify.
#[derive(Debug)]
pub(crate) struct Request<'a> {
    pub method: &'a str,
    pub uri: &'a Uri,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
    /// The server's clock, unix seconds.
    pub now: i64,
    /// The service the scope must name (`sts`).
    pub service: &'a str,
}

/// Verifies a signed request; `key` maps (access key id, session token) to
/// the signing secret and whatever the caller wants back.
pub(crate) fn verify<T, E>(
    r: &Request<'_>,
    key: impl FnOnce(&str, Option<&str>) -> Result<(String, T), E>,
) -> Result<T, SigError<E>> {
    let header = |name: &str| r.headers.get(name).and_then(|v| v.to_str().ok());
    let authz = header("authorization").ok_or(SigError::Missing)?;
    let auth = parse_authorization(authz).ok_or_else(|| {
        SigError::Incomplete(
            "Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' parameters.".into(),
        )
    })?;
    let amz_date = header("x-amz-date").ok_or_else(|| {
        SigError::Incomplete(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.".into(),
        )
    })?;
    let signed_at =
        parse_amz_date(amz_date).ok_or_else(|| SigError::Incomplete(format!("Invalid X-Amz-Date: {amz_date}")))?;
    if !auth.signed_headers.split(';').any(|h| h == "host") {
        return Err(SigError::Incomplete("'Host' must be a 'SignedHeader' in the AWS Authorization.".into()));
    }
    if (r.now - signed_at).abs() > MAX_SKEW_SECONDS {
        return Err(SigError::Mismatch(if signed_at < r.now {
            format!(
                "Signature expired: {amz_date} is now earlier than {} ({} - 15 min.)",
                fmt_amz(r.now - MAX_SKEW_SECONDS),
                fmt_amz(r.now)
            )
        } else {
            format!(
                "Signature not yet current: {amz_date} is still later than {} ({} + 15 min.)",
                fmt_amz(r.now + MAX_SKEW_SECONDS),
                fmt_amz(r.now)
            )
        }));
    }
    if auth.service != r.service || amz_date.get(..8) != Some(auth.date) {
        return Err(SigError::Mismatch(format!(
            "Credential should be scoped to a valid region and the {} service, on the request's date.",
            r.service
        )));
    }
    // The payload is what arrived; a header claiming a hash must agree.
    let payload_hash = hex(&Sha256::digest(r.body));
    if let Some(claimed) = header("x-amz-content-sha256")
        && claimed != "UNSIGNED-PAYLOAD"
        && !secret::same(claimed.as_bytes(), payload_hash.as_bytes())
    {
        return Err(SigError::Mismatch(
            "The provided 'x-amz-content-sha256' header does not match what was computed.".into(),
        ));
    }
    if header("x-amz-content-sha256") == Some("UNSIGNED-PAYLOAD") {
        return Err(SigError::Mismatch("Requests must sign their payload.".into()));
    }
    let (secret_key, found) = key(auth.access_key_id, header("x-amz-security-token")).map_err(SigError::Key)?;

    // The canonical request, from what was received.
    let mut canonical_headers = String::new();
    for name in auth.signed_headers.split(';') {
        let values: Vec<String> = r
            .headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .map(|v| v.split_whitespace().collect::<Vec<_>>().join(" "))
            .collect();
        if values.is_empty() {
            return Err(SigError::Mismatch(format!("signed header `{name}` is missing from the request")));
        }
        canonical_headers.push_str(&format!("{name}:{}\n", values.join(",")));
    }
    let path = if r.uri.path().is_empty() { "/" } else { r.uri.path() };
    let canonical = format!(
        "{}\n{path}\n{}\n{canonical_headers}\n{}\n{payload_hash}",
        r.method,
        canonical_query(r.uri.query()),
        auth.signed_headers
    );
    let scope = format!("{}/{}/{}/aws4_request", auth.date, auth.region, auth.service);
    let to_sign = format!("AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}", hex(&Sha256::digest(canonical.as_bytes())));
    let k_date = hmac(format!("AWS4{secret_key}").as_bytes(), auth.date);
    let k_region = hmac(&k_date, auth.region);
    let k_service = hmac(&k_region, auth.service);
    let k_signing = hmac(&k_service, "aws4_request");
    let expected = hex(&hmac(&k_signing, &to_sign));
    if !secret::same(expected.as_bytes(), auth.signature.as_bytes()) {
        return Err(SigError::Mismatch(
            "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.".into(),
        ));
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authorization_header_parsing() {
        let a = parse_authorization(
            "AWS4-HMAC-SHA256 Credential=AKID/20261122/eu-west-1/sts/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=abc",
        )
        .unwrap();
        assert_eq!((a.access_key_id, a.date, a.region, a.service), ("AKID", "20261122", "eu-west-1", "sts"));
        assert_eq!((a.signed_headers, a.signature), ("content-type;host;x-amz-date", "abc"));
        assert!(
            parse_authorization("AWS4-HMAC-SHA256 Credential=AKID/20261122/r/sts/x, SignedHeaders=a, Signature=b")
                .is_none()
        );
        assert_eq!(parse_amz_date("20261122T002910Z"), Some(1_795_307_350));
        assert_eq!(parse_amz_date("2026112T0029é0Z"), None, "non-ASCII input is refused, not sliced");
    }

    #[test]
    fn signing_key_matches_the_aws_documentation_example() {
        // docs.aws.amazon.com "Examples of how to derive a signing key for Signature Version 4".
        let k_date = hmac(b"AWS4wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20120215");
        let k_region = hmac(&k_date, "us-east-1");
        let k_service = hmac(&k_region, "iam");
        let k_signing = hmac(&k_service, "aws4_request");
        assert_eq!(hex(&k_signing), "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d");
    }
}
