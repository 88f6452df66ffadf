//! Sealed tokens: what a token needs travels inside it, authenticated with
//! the server's key (HMAC-SHA-256), so issuing one writes nothing and
//! checking one is a MAC and a session lookup (docs/security.md §Tokens).
//!
//! Form: `base64url(payload) "." base64url(mac)`, where the MAC covers a
//! purpose label and the payload, so a token minted for one use (an access
//! token) is refused for another (a session token). Payloads are not secret:
//! they hold what the bearer may know (ids, ARNs, expiry).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use super::secret;

/// The server's sealing key: 32 random bytes, kept in the database with
/// `--db` so tokens survive a restart.
#[derive(Clone)]
pub(crate) struct SealKey {
    raw: [u8; 32],
    /// HMAC keyed once (its inner and outer pads hashed): each MAC clones it.
    keyed: Hmac<Sha256>,
}

impl std::fmt::Debug for SealKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SealKey(****)")
    }
}

/// What a sealed token is for; part of the MAC input.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Purpose {
    AccessToken,
    RefreshToken,
    SessionToken,
    SecretKey,
    /// Pagination tokens of the portal API.
    PageToken,
    /// A console sign-in request carried through the sign-in form.
    SigninRequest,
    /// Refresh tokens of the Sign-In service.
    SigninRefresh,
    /// SigninTokens of the federation endpoint (console sign-in).
    FederationToken,
    /// The console session cookie a used SigninToken leaves behind.
    ConsoleSession,
}

impl Purpose {
    fn label(self) -> &'static [u8] {
        match self {
            Purpose::AccessToken => b"access-token\0",
            Purpose::RefreshToken => b"refresh-token\0",
            Purpose::SessionToken => b"session-token\0",
            Purpose::SecretKey => b"secret-key\0",
            Purpose::PageToken => b"page-token\0",
            Purpose::SigninRequest => b"signin-request\0",
            Purpose::SigninRefresh => b"signin-refresh\0",
            Purpose::FederationToken => b"federation-token\0",
            Purpose::ConsoleSession => b"console-session\0",
        }
    }
}

impl SealKey {
    fn new(raw: [u8; 32]) -> SealKey {
        #[allow(clippy::expect_used)] // HMAC accepts keys of any length
        let keyed = Hmac::<Sha256>::new_from_slice(&raw).expect("any key length");
        SealKey { raw, keyed }
    }

    pub(crate) fn generate() -> SealKey {
        let mut k = [0u8; 32];
        k.copy_from_slice(&super::random::bytes(32));
        SealKey::new(k)
    }

    pub(crate) fn from_b64(text: &str) -> Option<SealKey> {
        let bytes = B64.decode(text).ok()?;
        Some(SealKey::new(bytes.try_into().ok()?))
    }

    pub(crate) fn to_b64(&self) -> String {
        B64.encode(self.raw)
    }

    pub(crate) fn mac(&self, purpose: Purpose, data: &[u8]) -> [u8; 32] {
        let mut mac = self.keyed.clone();
        mac.update(purpose.label());
        mac.update(data);
        mac.finalize().into_bytes().into()
    }

    /// `payload` sealed for `purpose`.
    pub(crate) fn seal(&self, purpose: Purpose, payload: &[u8]) -> String {
        let mac = self.mac(purpose, payload);
        let mut out = B64.encode(payload);
        out.push('.');
        B64.encode_string(mac, &mut out);
        out
    }

    /// The payload of a token sealed for `purpose`, if the MAC holds
    /// (compared in constant time).
    pub(crate) fn open(&self, purpose: Purpose, token: &str) -> Option<Vec<u8>> {
        let (payload, mac) = token.split_once('.')?;
        let payload = B64.decode(payload).ok()?;
        let mac = B64.decode(mac).ok()?;
        secret::same(&self.mac(purpose, &payload), &mac).then_some(payload)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_open_and_tamper() {
        let k = SealKey::generate();
        let t = k.seal(Purpose::AccessToken, b"{\"s\":\"x\"}");
        assert_eq!(k.open(Purpose::AccessToken, &t).as_deref(), Some(&b"{\"s\":\"x\"}"[..]));
        assert_eq!(k.open(Purpose::RefreshToken, &t), None, "another purpose");
        assert_eq!(SealKey::generate().open(Purpose::AccessToken, &t), None, "another key");
        let forged = format!("{}.{}", B64.encode(b"{\"s\":\"y\"}"), t.split_once('.').unwrap().1);
        assert_eq!(k.open(Purpose::AccessToken, &forged), None, "another payload");
        assert_eq!(k.open(Purpose::AccessToken, "garbage"), None);
        assert!(
            SealKey::from_b64(&k.to_b64()).unwrap().open(Purpose::AccessToken, &t).is_some(),
            "the key round-trips"
        );
    }
}
