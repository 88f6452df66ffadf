//! RFC 6238 TOTP (HMAC-SHA-1, 6 digits, 30-second steps) — what authenticator
//! apps and AWS virtual MFA devices use.

use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;

pub const STEP_SECONDS: i64 = 30;

/// RFC 4648 base32 (case-insensitive, padding and spaces ignored).
pub fn decode_secret(text: &str) -> Option<Vec<u8>> {
    let mut bits: u64 = 0;
    let mut nbits = 0;
    let mut out = Vec::new();
    for c in text.chars().filter(|c| !matches!(c, '=' | ' ' | '-')) {
        let v = match c.to_ascii_uppercase() {
            c @ 'A'..='Z' => c as u64 - 'A' as u64,
            c @ '2'..='7' => c as u64 - '2' as u64 + 26,
            _ => return None,
        };
        bits = (bits << 5) | v;
        nbits += 5;
        if nbits >= 8 {
            nbits -= 8;
            out.push((bits >> nbits) as u8);
            bits &= (1 << nbits) - 1;
        }
    }
    (!out.is_empty()).then_some(out)
}

/// RFC 4648 base32 without padding (for new secrets).
pub fn encode_secret(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = String::new();
    let (mut bits, mut nbits) = (0u32, 0);
    for b in bytes {
        bits = (bits << 8) | u32::from(*b);
        nbits += 8;
        while nbits >= 5 {
            nbits -= 5;
            out.push(ALPHABET[((bits >> nbits) & 31) as usize] as char);
        }
    }
    if nbits > 0 {
        out.push(ALPHABET[((bits << (5 - nbits)) & 31) as usize] as char);
    }
    out
}

/// The code for a time step, with `digits` digits.
pub fn code_at_step(secret: &[u8], step: i64, digits: u32) -> String {
    #[allow(clippy::expect_used)] // HMAC accepts keys of any length
    let mut mac = Hmac::<Sha1>::new_from_slice(secret).expect("any key length");
    mac.update(&step.to_be_bytes());
    let hash = mac.finalize().into_bytes();
    let offset = (hash[hash.len() - 1] & 0x0f) as usize;
    let bin = (u32::from(hash[offset]) & 0x7f) << 24
        | u32::from(hash[offset + 1]) << 16
        | u32::from(hash[offset + 2]) << 8
        | u32::from(hash[offset + 3]);
    format!("{:0width$}", bin % 10u32.pow(digits), width = digits as usize)
}

/// The 6-digit code at a unix time.
pub fn code_at(secret: &[u8], unix_seconds: i64) -> String {
    code_at_step(secret, unix_seconds.div_euclid(STEP_SECONDS), 6)
}

/// The step whose code matches `code` at `unix_seconds`, allowing one step
/// of clock drift either way.
pub fn matching_step(secret: &[u8], code: &str, unix_seconds: i64) -> Option<i64> {
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let now = unix_seconds.div_euclid(STEP_SECONDS);
    [now, now - 1, now + 1].into_iter().find(|s| code_at_step(secret, *s, 6) == code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc6238_vectors() {
        let secret = b"12345678901234567890";
        assert_eq!(code_at_step(secret, 59 / 30, 8), "94287082");
        assert_eq!(code_at_step(secret, 1111111109 / 30, 8), "07081804");
        assert_eq!(code_at_step(secret, 20000000000 / 30, 8), "65353130");
    }

    #[test]
    fn base32_round_trip_and_matching() {
        let s = decode_secret("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ").unwrap();
        assert_eq!(s, b"12345678901234567890");
        assert_eq!(encode_secret(&s), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
        let code = code_at(&s, 1_000_000);
        assert_eq!(matching_step(&s, &code, 1_000_000), Some(1_000_000 / 30));
        assert_eq!(matching_step(&s, &code, 1_000_000 + 30), Some(1_000_000 / 30));
        assert_eq!(matching_step(&s, &code, 1_000_000 + 90), None);
        assert_eq!(matching_step(&s, "12a456", 0), None);
        assert!(decode_secret("not base32!").is_none());
    }
}
