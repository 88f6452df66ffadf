//! Randomness for every identifier and secret the server hands out.

use base64::Engine as _;

/// `n` random bytes.
pub(crate) fn bytes(n: usize) -> Vec<u8> {
    let mut buf = vec![0u8; n];
    fill(&mut buf);
    buf
}

/// `n` random bytes, base64url without padding.
pub(crate) fn token(n: usize) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes(n))
}

/// `n` characters drawn uniformly from `alphabet` (rejection sampling, so an
/// alphabet whose size does not divide 256 has no bias).
pub(crate) fn from(alphabet: &[u8], n: usize) -> String {
    debug_assert!(!alphabet.is_empty() && alphabet.len() <= 256);
    let limit = 256 - 256 % alphabet.len();
    let mut out = String::with_capacity(n);
    while out.len() < n {
        for b in bytes(n * 2) {
            if usize::from(b) < limit && out.len() < n {
                out.push(alphabet[usize::from(b) % alphabet.len()] as char);
            }
        }
    }
    out
}

/// A unique id in the 8-4-4-4-12 hex form (`x-amzn-RequestId`, STS `RequestId`).
pub(crate) fn request_id() -> String {
    let hex = from(b"0123456789abcdef", 32);
    format!("{}-{}-{}-{}-{}", &hex[..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..])
}

fn fill(buf: &mut [u8]) {
    #[allow(clippy::expect_used)] // no entropy source is not a state to recover from
    getrandom::fill(buf).expect("the OS random number generator is available");
}
