//! Passwords of the directory's users, stored as argon2id PHC strings
//! (RFC 9106; the parameters are the argon2 crate's defaults, OWASP's
//! recommended minimum: 19 MiB, 2 passes). The plain text is never stored,
//! shown or logged (docs/security.md §Passwords).

use argon2::{Argon2, PasswordHasher as _, PasswordVerifier as _};

/// The PHC string of a new hash of `plain` with a random salt.
pub(crate) fn hash(plain: &str) -> String {
    let salt = super::random::bytes(16);
    match Argon2::default().hash_password_with_salt(plain.as_bytes(), &salt) {
        Ok(h) => h.to_string(),
        // Only absurd lengths fail; such a password can never be verified.
        Err(_) => String::from("!"),
    }
}

/// Whether `plain` matches a stored PHC string (argon2 compares in constant time).
pub(crate) fn verify(phc: &str, plain: &str) -> bool {
    Argon2::default().verify_password(plain.as_bytes(), phc).is_ok()
}

/// Spends the time of one verification, so "no such user" and "wrong
/// password" cannot be told apart by timing.
pub(crate) fn verify_nothing(plain: &str) {
    let _ = verify(DUMMY, plain);
}

/// A hash of a random password nobody knows.
const DUMMY: &str = "$argon2id$v=19$m=19456,t=2,p=1$0E6r1GyU+5ZvFTX4YwIwxw$pLjLMF0/7IYLmw2b9/2bp9neg++6lOMrmod+mi06cRM";

/// Whether a string is a PHC string this module can verify.
pub(crate) fn is_hash(s: &str) -> bool {
    s.starts_with("$argon2id$")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_and_verify() {
        let h = hash("correct horse battery staple");
        assert!(is_hash(&h), "{h}");
        assert!(!h.contains("correct"));
        assert!(verify(&h, "correct horse battery staple"));
        assert!(!verify(&h, "correct horse battery stapler"));
        assert_ne!(h, hash("correct horse battery staple"), "salted");
        assert!(!verify("not a hash", "x"));
        verify_nothing("x");
    }
}
