//! DPoP proofs (RFC 9449) as the Sign-In service's token endpoint receives
//! them (docs/signin.md §DPoP): a compact JWS whose header is
//! `{"typ":"dpop+jwt","alg":"ES256","jwk":{P-256 public key}}` and whose
//! payload is `{htm, htu, iat, jti}`, signed with ECDSA P-256 over SHA-256
//! (the signature as raw `r‖s`). Checked here: the header, the signature
//! against the embedded key, `htm`, `htu` against the URL the request was
//! sent to, and `iat` within a window. The caller keeps `jti`s to refuse
//! replays and binds refresh tokens to the key's RFC 7638 thumbprint.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use serde::Deserialize;
use sha2::Digest as _;

/// How far `iat` may be from the server's clock, either way (RFC 9449 §11.1
/// leaves the window to the server; docs/signin.md).
pub(crate) const IAT_WINDOW_SECONDS: i64 = 300;

/// A verified proof.
#[derive(Debug)]
pub(crate) struct Proof {
    /// RFC 7638 thumbprint of the proof's key (base64url SHA-256).
    pub jkt: String,
    pub jti: String,
    pub iat: i64,
}

/// Why a proof is refused (each names the rule it breaks).
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum DpopError {
    #[error("the request has no DPoP proof")]
    Missing,
    #[error("the DPoP proof is not a compact JWS")]
    Malformed,
    #[error("the DPoP proof's header must have typ dpop+jwt, alg ES256 and a P-256 jwk")]
    Header,
    #[error("the DPoP proof's signature does not verify with its jwk")]
    Signature,
    #[error("the DPoP proof's htm is not POST")]
    Method,
    #[error("the DPoP proof's htu is not the URL of this request")]
    Url,
    #[error("the DPoP proof's iat is more than five minutes from the server's time")]
    Stale,
}

#[derive(Deserialize)]
struct Header {
    typ: String,
    alg: String,
    jwk: Jwk,
}

#[derive(Deserialize)]
struct Jwk {
    kty: String,
    crv: String,
    x: String,
    y: String,
}

#[derive(Deserialize)]
struct Claims {
    htm: String,
    htu: String,
    iat: i64,
    jti: String,
}

/// Verifies `proof` for a `POST` to `url` (scheme, authority and path; a
/// query is ignored) at `now`.
pub(crate) fn verify(proof: Option<&str>, url: &str, now: i64) -> Result<Proof, DpopError> {
    let proof = proof.ok_or(DpopError::Missing)?;
    let mut parts = proof.split('.');
    let (Some(h), Some(p), Some(s), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(DpopError::Malformed);
    };
    let decode = |part: &str| B64.decode(part).map_err(|_| DpopError::Malformed);
    let header: Header = serde_json::from_slice(&decode(h)?).map_err(|_| DpopError::Header)?;
    let jwk = &header.jwk;
    if header.typ != "dpop+jwt" || header.alg != "ES256" || jwk.kty != "EC" || jwk.crv != "P-256" {
        return Err(DpopError::Header);
    }
    let (x, y) = (decode(&jwk.x)?, decode(&jwk.y)?);
    if x.len() != 32 || y.len() != 32 {
        return Err(DpopError::Header);
    }
    let mut point = Vec::with_capacity(65);
    point.push(4);
    point.extend_from_slice(&x);
    point.extend_from_slice(&y);
    let key = ring::signature::UnparsedPublicKey::new(&ring::signature::ECDSA_P256_SHA256_FIXED, &point);
    let signing_input = &proof[..h.len() + 1 + p.len()];
    key.verify(signing_input.as_bytes(), &decode(s)?).map_err(|_| DpopError::Signature)?;
    let claims: Claims = serde_json::from_slice(&decode(p)?).map_err(|_| DpopError::Malformed)?;
    if claims.htm != "POST" {
        return Err(DpopError::Method);
    }
    let without_query = |u: &str| u.split(['?', '#']).next().unwrap_or("").to_string();
    if !without_query(&claims.htu).eq_ignore_ascii_case(&without_query(url)) {
        return Err(DpopError::Url);
    }
    if (claims.iat - now).abs() > IAT_WINDOW_SECONDS {
        return Err(DpopError::Stale);
    }
    Ok(Proof { jkt: thumbprint(&jwk.x, &jwk.y), jti: claims.jti, iat: claims.iat })
}

/// RFC 7638 §3.2: SHA-256 over the required members in lexicographic order.
pub(crate) fn thumbprint(x: &str, y: &str) -> String {
    let canonical = format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#);
    B64.encode(sha2::Sha256::digest(canonical.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::rand::SystemRandom;
    use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair as _};

    fn key() -> EcdsaKeyPair {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
        EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng).unwrap()
    }

    fn proof(k: &EcdsaKeyPair, htu: &str, iat: i64, jti: &str) -> String {
        let pubkey = k.public_key().as_ref();
        let header = format!(
            r#"{{"typ":"dpop+jwt","alg":"ES256","jwk":{{"kty":"EC","x":"{}","y":"{}","crv":"P-256"}}}}"#,
            B64.encode(&pubkey[1..33]),
            B64.encode(&pubkey[33..])
        );
        let payload = format!(r#"{{"htm":"POST","htu":"{htu}","iat":{iat},"jti":"{jti}"}}"#);
        let input = format!("{}.{}", B64.encode(header), B64.encode(payload));
        let sig = k.sign(&SystemRandom::new(), input.as_bytes()).unwrap();
        format!("{input}.{}", B64.encode(sig.as_ref()))
    }

    const URL: &str = "http://127.0.0.1:4000/v1/token";

    #[test]
    fn a_good_proof_verifies_and_names_its_key() {
        let k = key();
        let p = verify(Some(&proof(&k, URL, 1000, "j1")), URL, 1010).unwrap();
        assert_eq!((p.jti.as_str(), p.iat), ("j1", 1000));
        let again = verify(Some(&proof(&k, URL, 1000, "j2")), URL, 1000).unwrap();
        assert_eq!(p.jkt, again.jkt, "one key, one thumbprint");
        assert_ne!(p.jkt, verify(Some(&proof(&key(), URL, 1000, "j3")), URL, 1000).unwrap().jkt);
    }

    #[test]
    fn forged_or_misdirected_proofs_are_refused() {
        let k = key();
        let good = proof(&k, URL, 1000, "j");
        assert_eq!(verify(None, URL, 1000).unwrap_err(), DpopError::Missing);
        assert_eq!(verify(Some("a.b"), URL, 1000).unwrap_err(), DpopError::Malformed);
        assert_eq!(
            verify(Some(&proof(&k, "http://127.0.0.1:4000/v1/other", 1000, "j")), URL, 1000).unwrap_err(),
            DpopError::Url
        );
        assert_eq!(verify(Some(&good), URL, 1000 + 301).unwrap_err(), DpopError::Stale);
        assert_eq!(verify(Some(&good), URL, 1000 - 301).unwrap_err(), DpopError::Stale);
        // The payload swapped for another: the signature no longer matches.
        let parts: Vec<&str> = good.split('.').collect();
        let other = B64.encode(format!(r#"{{"htm":"POST","htu":"{URL}","iat":1000,"jti":"x"}}"#));
        let tampered = format!("{}.{other}.{}", parts[0], parts[2]);
        assert_eq!(verify(Some(&tampered), URL, 1000).unwrap_err(), DpopError::Signature);
        // Another key's header on this signature.
        let foreign = proof(&key(), URL, 1000, "j");
        let swapped = format!("{}.{}.{}", foreign.split('.').next().unwrap(), parts[1], parts[2]);
        assert_eq!(verify(Some(&swapped), URL, 1000).unwrap_err(), DpopError::Signature);
        // alg none is not ES256.
        let none = format!(
            "{}.{}.",
            B64.encode(r#"{"typ":"dpop+jwt","alg":"none","jwk":{"kty":"EC","crv":"P-256","x":"","y":""}}"#),
            parts[1]
        );
        assert_eq!(verify(Some(&none), URL, 1000).unwrap_err(), DpopError::Header);
    }

    #[test]
    fn the_thumbprint_follows_rfc_7638() {
        // The members crv, kty, x, y in that order, compact, hashed with SHA-256
        // (value computed independently with Python's hashlib).
        let t =
            thumbprint("r3areyPKBIGeeBNppWerMemaurVn3rob_mxOXg1fra4", "0Oo7sd1d6gMzawpfAs1yHFZkWqbLKCBgF2k_gnZUlUg");
        assert_eq!(t, "lsFNHPPEWBh4LjlEE_EPW8GYZJN8q_r222s_bjaYAw8");
    }
}
