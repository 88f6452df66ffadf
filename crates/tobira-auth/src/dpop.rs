//! DPoP (RFC 9449) for AWS Sign-In (docs/login-session.md): one P-256 key
//! per sign-in, kept in the cache file as a PEM private key, and the proof
//! JWT every CreateOAuth2Token request carries.
//!
//! The AWS CLI writes the key as SEC1 (`EC PRIVATE KEY`, with the curve
//! parameters and the public key); the SDKs' shared tests use PKCS#8
//! (`PRIVATE KEY`). Both are read; tobira writes SEC1. `ring` signs; the few
//! DER structures involved are built and taken apart here.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD as B64};
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair as _};

/// OID 1.2.840.10045.3.1.7 (prime256v1), DER-encoded with its tag.
const P256_OID: [u8; 10] = [0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
/// OID 1.2.840.10045.2.1 (id-ecPublicKey), DER-encoded with its tag.
const EC_PUBLIC_KEY_OID: [u8; 9] = [0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];

/// Why a DPoP key cannot be used. Never contains key material.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("it is not a PEM private key (`EC PRIVATE KEY` or `PRIVATE KEY`)")]
    NotPem,
    #[error("its DER structure is not a P-256 private key")]
    NotP256,
    #[error("it has no public key, which tobira needs to sign proofs")]
    NoPublicKey,
    #[error("the private and public parts do not belong together")]
    Rejected,
}

/// A P-256 key pair for DPoP proofs.
pub struct DpopKey {
    pair: EcdsaKeyPair,
    /// SEC1 DER, kept only for keys generated here (written to the cache).
    sec1: Option<Vec<u8>>,
}

impl fmt::Debug for DpopKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DpopKey(****)")
    }
}

/// One DER element: (tag, contents, what follows it).
fn tlv(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = match first {
        0..=0x7f => (usize::from(first), rest),
        0x81 => {
            let (&l, rest) = rest.split_first()?;
            (usize::from(l), rest)
        }
        0x82 => {
            let (l, rest) = rest.split_at_checked(2)?;
            (usize::from(l[0]) << 8 | usize::from(l[1]), rest)
        }
        _ => return None,
    };
    let (contents, rest) = rest.split_at_checked(len)?;
    Some((tag, contents, rest))
}

fn der(tag: u8, contents: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    match contents.len() {
        n @ 0..=0x7f => out.push(n as u8),
        n @ 0x80..=0xff => out.extend([0x81, n as u8]),
        n => out.extend([0x82, (n >> 8) as u8, n as u8]),
    }
    out.extend_from_slice(contents);
    out
}

/// The private scalar and the public point of a SEC1 `ECPrivateKey`.
fn parse_sec1(sec1: &[u8]) -> Result<([u8; 32], Option<Vec<u8>>), KeyError> {
    let (0x30, body, _) = tlv(sec1).ok_or(KeyError::NotP256)? else { return Err(KeyError::NotP256) };
    let (0x02, [1], rest) = tlv(body).ok_or(KeyError::NotP256)? else { return Err(KeyError::NotP256) };
    let (0x04, d, mut rest) = tlv(rest).ok_or(KeyError::NotP256)? else { return Err(KeyError::NotP256) };
    // A scalar may be written without its leading zero bytes.
    if d.is_empty() || d.len() > 32 {
        return Err(KeyError::NotP256);
    }
    let mut scalar = [0u8; 32];
    scalar[32 - d.len()..].copy_from_slice(d);
    let mut public = None;
    while let Some((tag, contents, next)) = tlv(rest) {
        match tag {
            0xa0 if contents != P256_OID => return Err(KeyError::NotP256),
            0xa1 => {
                let (0x03, bits, _) = tlv(contents).ok_or(KeyError::NotP256)? else { return Err(KeyError::NotP256) };
                match bits.split_first() {
                    Some((0, point)) if point.len() == 65 && point[0] == 4 => public = Some(point.to_vec()),
                    _ => return Err(KeyError::NotP256),
                }
            }
            _ => {}
        }
        rest = next;
    }
    Ok((scalar, public))
}

/// The `ECPrivateKey` inside a PKCS#8 `PrivateKeyInfo` for P-256.
fn sec1_of_pkcs8(pkcs8: &[u8]) -> Result<&[u8], KeyError> {
    let (0x30, body, _) = tlv(pkcs8).ok_or(KeyError::NotP256)? else { return Err(KeyError::NotP256) };
    let (0x02, [0], rest) = tlv(body).ok_or(KeyError::NotP256)? else { return Err(KeyError::NotP256) };
    let (0x30, alg, rest) = tlv(rest).ok_or(KeyError::NotP256)? else { return Err(KeyError::NotP256) };
    if alg != [EC_PUBLIC_KEY_OID.as_slice(), P256_OID.as_slice()].concat() {
        return Err(KeyError::NotP256);
    }
    let (0x04, inner, _) = tlv(rest).ok_or(KeyError::NotP256)? else { return Err(KeyError::NotP256) };
    Ok(inner)
}

/// SEC1 as OpenSSL and the AWS CLI write it: version 1, the scalar, the
/// curve, the public point.
fn sec1(scalar: &[u8; 32], public: &[u8]) -> Vec<u8> {
    let mut body = der(0x02, &[1]);
    body.extend(der(0x04, scalar));
    body.extend(der(0xa0, &P256_OID));
    let mut bits = vec![0u8];
    bits.extend_from_slice(public);
    body.extend(der(0xa1, &der(0x03, &bits)));
    der(0x30, &body)
}

/// A PKCS#8 v1 `PrivateKeyInfo` around a SEC1 key (what `ring` reads).
fn pkcs8(sec1: &[u8]) -> Vec<u8> {
    let mut body = der(0x02, &[0]);
    body.extend(der(0x30, &[EC_PUBLIC_KEY_OID.as_slice(), P256_OID.as_slice()].concat()));
    body.extend(der(0x04, sec1));
    der(0x30, &body)
}

fn pem(label: &str, der: &[u8]) -> String {
    let text = STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in text.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

fn from_pem(text: &str) -> Result<(String, Vec<u8>), KeyError> {
    let text = text.trim();
    let label = text
        .strip_prefix("-----BEGIN ")
        .and_then(|r| r.split_once("-----"))
        .map(|(l, _)| l.to_string())
        .ok_or(KeyError::NotPem)?;
    let end = format!("-----END {label}-----");
    let body = text
        .split_once('\n')
        .map(|(_, b)| b)
        .and_then(|b| b.trim_end().strip_suffix(end.as_str()))
        .ok_or(KeyError::NotPem)?;
    let b64: String = body.chars().filter(|c| !c.is_whitespace()).collect();
    let der = STANDARD.decode(b64).map_err(|_| KeyError::NotPem)?;
    Ok((label, der))
}

impl DpopKey {
    /// A new random key.
    pub fn generate() -> DpopKey {
        let rng = SystemRandom::new();
        // Without an entropy source nothing here can work; ring fails only then.
        #[allow(clippy::expect_used)]
        let doc = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .expect("the OS random number generator is available");
        #[allow(clippy::expect_used)]
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, doc.as_ref(), &rng)
            .expect("ring reads the key it generated");
        let scalar = sec1_of_pkcs8(doc.as_ref()).and_then(parse_sec1).map(|(d, _)| d).ok();
        let sec1 = scalar.map(|d| sec1(&d, pair.public_key().as_ref()));
        DpopKey { pair, sec1 }
    }

    /// A key from the cache file's `dpopKey`: SEC1 or PKCS#8 PEM.
    pub fn from_pem(text: &str) -> Result<DpopKey, KeyError> {
        let (label, der) = from_pem(text)?;
        let doc = match label.as_str() {
            "EC PRIVATE KEY" => {
                let (_, public) = parse_sec1(&der)?;
                if public.is_none() {
                    return Err(KeyError::NoPublicKey);
                }
                pkcs8(&der)
            }
            "PRIVATE KEY" => {
                let (_, public) = parse_sec1(sec1_of_pkcs8(&der)?)?;
                if public.is_none() {
                    return Err(KeyError::NoPublicKey);
                }
                der
            }
            _ => return Err(KeyError::NotPem),
        };
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &doc, &SystemRandom::new())
            .map_err(|_| KeyError::Rejected)?;
        Ok(DpopKey { pair, sec1: None })
    }

    /// The key as the AWS CLI writes it: SEC1 PEM, 64-column lines, a final
    /// newline. `None` for keys read from a file (their PEM is kept as is).
    pub fn to_sec1_pem(&self) -> Option<String> {
        self.sec1.as_deref().map(|d| pem("EC PRIVATE KEY", d))
    }

    /// The public key's JWK coordinates (base64url, 43 characters each).
    pub fn jwk_xy(&self) -> (String, String) {
        let p = self.pair.public_key().as_ref();
        (B64.encode(&p[1..33]), B64.encode(&p[33..65]))
    }

    /// A DPoP proof for a POST to `htu` at `iat` (Unix seconds) with a unique
    /// `jti`, in the AWS CLI's member order: header `typ, alg, jwk{kty, x, y,
    /// crv}`, payload `htm, htu, iat, jti`; signature raw `r‖s`.
    pub fn proof(&self, htu: &str, iat: i64, jti: &str) -> String {
        let (x, y) = self.jwk_xy();
        let header =
            format!(r#"{{"typ":"dpop+jwt","alg":"ES256","jwk":{{"kty":"EC","x":"{x}","y":"{y}","crv":"P-256"}}}}"#);
        let payload = format!(
            r#"{{"htm":"POST","htu":{},"iat":{iat},"jti":{}}}"#,
            serde_json::Value::from(htu),
            serde_json::Value::from(jti)
        );
        let input = format!("{}.{}", B64.encode(header), B64.encode(payload));
        // Signing fails only without an entropy source.
        #[allow(clippy::expect_used)]
        let sig = self.pair.sign(&SystemRandom::new(), input.as_bytes()).expect("ECDSA signing");
        format!("{input}.{}", B64.encode(sig.as_ref()))
    }
}

/// A random UUID version 4 (`state`, `jti`).
pub fn uuid4() -> String {
    let mut b = [0u8; 16];
    b.copy_from_slice(&crate::random_bytes(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!("{}-{}-{}-{}-{}", &h[..8], &h[8..12], &h[12..16], &h[16..20], &h[20..])
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::signature::{ECDSA_P256_SHA256_FIXED, UnparsedPublicKey};

    /// The key of the AWS CLI's cache file in docs/login-session.md, and the
    /// JWK its proofs carried.
    const CLI_PEM: &str = "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIGCiMX0QxDyMBi5KoUrIYosom8jJumHKvCN1jskeJrGcoAoGCCqGSM49\nAwEHoUQDQgAEr3areyPKBIGeeBNppWerMemaurVn3rob/mxOXg1fra7Q6jux3V3q\nAzNrCl8CzXIcVmRapssoIGAXaT+CdlSVSA==\n-----END EC PRIVATE KEY-----\n";

    fn verify(proof: &str, key: &DpopKey) -> (serde_json::Value, serde_json::Value) {
        let parts: Vec<&str> = proof.split('.').collect();
        assert_eq!(parts.len(), 3);
        let sig = B64.decode(parts[2]).unwrap();
        assert_eq!(sig.len(), 64, "raw r||s");
        UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, key.pair.public_key().as_ref())
            .verify(format!("{}.{}", parts[0], parts[1]).as_bytes(), &sig)
            .expect("the signature verifies");
        let json = |p: &str| serde_json::from_slice(&B64.decode(p).unwrap()).unwrap();
        (json(parts[0]), json(parts[1]))
    }

    #[test]
    fn the_cli_key_is_read_and_its_proofs_carry_the_cli_jwk() {
        let key = DpopKey::from_pem(CLI_PEM).unwrap();
        assert_eq!(
            key.jwk_xy(),
            (
                "r3areyPKBIGeeBNppWerMemaurVn3rob_mxOXg1fra4".into(),
                "0Oo7sd1d6gMzawpfAs1yHFZkWqbLKCBgF2k_gnZUlUg".into()
            )
        );
        let proof = key.proof("http://127.0.0.1:45969/v1/token", 1796036883, "5b92907a-70e4-482d-8676-7b85c217180a");
        assert!(proof.starts_with(&B64.encode(r#"{"typ":"dpop+jwt","alg":"ES256","jwk":{"kty":"EC","x":"r3areyPKBIGeeBNppWerMemaurVn3rob_mxOXg1fra4","y":"0Oo7sd1d6gMzawpfAs1yHFZkWqbLKCBgF2k_gnZUlUg","crv":"P-256"}}"#)));
        let (_, payload) = verify(&proof, &key);
        assert_eq!(
            payload.to_string(),
            r#"{"htm":"POST","htu":"http://127.0.0.1:45969/v1/token","iat":1796036883,"jti":"5b92907a-70e4-482d-8676-7b85c217180a"}"#
        );
        assert_eq!(key.to_sec1_pem(), None, "a key read from a file is written back as it was read");
        assert_eq!(format!("{key:?}"), "DpopKey(****)");
    }

    #[test]
    fn generated_keys_are_written_as_sec1_and_read_back() {
        let key = DpopKey::generate();
        let text = key.to_sec1_pem().unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.first(), Some(&"-----BEGIN EC PRIVATE KEY-----"));
        assert_eq!(lines.last(), Some(&"-----END EC PRIVATE KEY-----"));
        assert_eq!(lines[1..lines.len() - 1].iter().map(|l| l.len()).collect::<Vec<_>>(), [64, 64, 36]);
        assert!(text.ends_with("-----\n"));
        assert!(lines[1].starts_with("MHcCAQEEI"), "version 1, a 32-byte scalar: {}", lines[1]);
        assert!(lines[2].starts_with("AwEHoUQDQgAE"), "the curve, then the public point: {}", lines[2]);
        let again = DpopKey::from_pem(&text).unwrap();
        assert_eq!(again.jwk_xy(), key.jwk_xy());
        verify(&again.proof("https://us-east-1.signin.aws.amazon.com/v1/token", 1, &uuid4()), &key);
        // The same key as PKCS#8 (the SDKs' shared tests use that form).
        let (_, bytes) = from_pem(&text).unwrap();
        let p8 = pem("PRIVATE KEY", &pkcs8(&bytes)).trim_end().to_string();
        assert_eq!(DpopKey::from_pem(&p8).unwrap().jwk_xy(), key.jwk_xy());
    }

    #[test]
    fn broken_keys_are_refused_without_showing_them() {
        assert_eq!(DpopKey::from_pem("not a key").unwrap_err(), KeyError::NotPem);
        assert_eq!(
            DpopKey::from_pem("-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n").unwrap_err(),
            KeyError::NotP256
        );
        // Another key's public point with this private scalar.
        let (_, bytes) = from_pem(CLI_PEM).unwrap();
        let (d, _) = parse_sec1(&bytes).unwrap();
        let other = DpopKey::generate();
        let mixed = pem("EC PRIVATE KEY", &sec1(&d, other.pair.public_key().as_ref()));
        assert_eq!(DpopKey::from_pem(&mixed).unwrap_err(), KeyError::Rejected);
        // No public key.
        let mut body = der(0x02, &[1]);
        body.extend(der(0x04, &d));
        assert_eq!(DpopKey::from_pem(&pem("EC PRIVATE KEY", &der(0x30, &body))).unwrap_err(), KeyError::NoPublicKey);
    }

    #[test]
    fn uuids_are_version_4() {
        let u = uuid4();
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");
        assert!("89ab".contains(&u[19..20]));
        assert_ne!(u, uuid4());
    }
}
