//! Comparing and storing secrets. Every secret a client presents (client
//! secrets, codes, tokens, cookies, the admin token) is compared in constant
//! time, and the server stores only a SHA-256 digest of the ones it looks up,
//! so neither a timing difference nor a copy of the database reveals them
//! (docs/security.md).

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq as _;

/// Constant-time equality (lengths are not secret).
pub(crate) fn same(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

/// The digest under which a presented secret is stored and looked up.
pub(crate) fn digest(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equality_and_digests() {
        assert!(same(b"abc", b"abc"));
        assert!(!same(b"abc", b"abd"));
        assert!(!same(b"abc", b"abcd"));
        assert_eq!(digest("x"), digest("x"));
        assert_ne!(digest("x"), digest("y"));
    }
}
