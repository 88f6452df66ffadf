//! Telling a wrong MFA code from one already used. AWS answers both with
//! the same `AccessDenied` ("MultiFactorAuthentication failed with invalid
//! MFA one time pass code"), since a TOTP code is accepted once. So tobira
//! remembers, per device, the last code the service accepted from it and
//! when: the same code typed again within the 90 seconds a code can be
//! accepted (its 30-second step and one either side) was already used; any
//! other refused code is probably wrong (or was used by another program,
//! which tobira cannot see).
//!
//! The record is `~/.aws/tobira/mfa-codes/<sha256(serial)>.json`:
//! `{"at": <unix seconds>, "code": <sha256 of serial and code>}`. A used
//! code is worthless to anyone, but only its digest is kept all the same.

use std::path::{Path, PathBuf};

use jiff::Timestamp;
use sha2::{Digest, Sha256};

/// A TOTP step.
pub const STEP_SECONDS: i64 = 30;
/// How long after its use a code can still be one the service would take
/// (its step and the next, with the previous step's code accepted too).
const REUSE_WINDOW_SECONDS: i64 = 90;

/// Why a code was refused, as far as tobira can tell.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MfaRefusal {
    /// Not six digits: never sent to the service.
    Malformed,
    /// The service had accepted this very code for this device
    /// `seconds_ago` seconds ago; codes work once.
    AlreadyUsed { seconds_ago: i64, next_in: i64 },
    /// Refused, and not a code tobira used: probably a typo, another
    /// device's code or a device clock that is off (or a code another
    /// program used in this step).
    Wrong { next_in: i64 },
    /// The service refuses codes for this device for now (too many wrong ones).
    Locked,
}

impl MfaRefusal {
    /// What probably happened, in words (never the code itself).
    pub fn explain(&self, serial: &str) -> String {
        match self {
            MfaRefusal::Malformed => "an MFA code is the 6 digits your authenticator shows".to_string(),
            MfaRefusal::AlreadyUsed { seconds_ago, next_in } => format!(
                "that code was already used: {serial} accepted it {seconds_ago} s ago, and each code works once; the next code appears in {next_in} s"
            ),
            MfaRefusal::Wrong { next_in } => format!(
                "the code is probably wrong: it is not the current code of {serial} (a typo, another device's code, or the device's clock is off), or another program already used it in this 30-second step; the next code appears in {next_in} s"
            ),
            MfaRefusal::Locked => {
                format!("{serial} takes no more codes for now, after too many wrong ones; wait until the lock ends")
            }
        }
    }
}

/// Whether a code can be one at all (six digits).
pub fn well_formed(code: &str) -> bool {
    code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit())
}

/// Whether a service error is a refused MFA code.
pub fn is_refusal(code: &str, message: &str) -> bool {
    code == "AccessDenied" && message.contains("MultiFactorAuthentication failed")
}

fn digest(serial: &str, code: &str) -> String {
    let d = Sha256::digest(format!("{serial}\n{code}").as_bytes());
    d.iter().map(|b| format!("{b:02x}")).collect()
}

fn record_path(home: &Path, serial: &str) -> PathBuf {
    let name: String = Sha256::digest(serial.as_bytes()).iter().take(20).map(|b| format!("{b:02x}")).collect();
    home.join(".aws").join("tobira").join("mfa-codes").join(format!("{name}.json"))
}

/// Remembers that the service accepted `code` for `serial` at `now`.
/// Best effort: failing to remember only makes a later message vaguer.
pub fn remember(home: &Path, serial: &str, code: &str, now: Timestamp) {
    let text = serde_json::json!({ "at": now.as_second(), "code": digest(serial, code) }).to_string();
    let _ = tobira_fs::write_atomic(&record_path(home, serial), text.as_bytes(), tobira_fs::PRIVATE_FILE);
}

/// Why the service refused `code` for `serial` at `now`, given its words.
pub fn classify(home: &Path, serial: &str, code: &str, message: &str, now: Timestamp) -> MfaRefusal {
    let lower = message.to_lowercase();
    if lower.contains("locked") || lower.contains("too many") {
        return MfaRefusal::Locked;
    }
    let next_in = STEP_SECONDS - now.as_second().rem_euclid(STEP_SECONDS);
    let last = std::fs::read(record_path(home, serial))
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .and_then(|v| Some((v.get("at")?.as_i64()?, v.get("code")?.as_str()?.to_string())));
    match last {
        Some((at, used))
            if used == digest(serial, code) && (0..REUSE_WINDOW_SECONDS).contains(&(now.as_second() - at)) =>
        {
            MfaRefusal::AlreadyUsed { seconds_ago: now.as_second() - at, next_in }
        }
        _ => MfaRefusal::Wrong { next_in },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_used_moments_ago_is_told_apart_from_a_wrong_one() {
        let home = tempfile::tempdir().unwrap();
        let serial = "arn:aws:iam::123456789012:mfa/bob-phone";
        let t = |s: i64| Timestamp::from_second(s).unwrap();
        let denied = "MultiFactorAuthentication failed with invalid MFA one time pass code. ";
        assert_eq!(classify(home.path(), serial, "123456", denied, t(1_000_025)), MfaRefusal::Wrong { next_in: 25 });
        remember(home.path(), serial, "123456", t(1_000_020));
        assert_eq!(
            classify(home.path(), serial, "123456", denied, t(1_000_032)),
            MfaRefusal::AlreadyUsed { seconds_ago: 12, next_in: 18 }
        );
        assert_eq!(classify(home.path(), serial, "654321", denied, t(1_000_032)), MfaRefusal::Wrong { next_in: 18 });
        // Long after, the same digits are a new step's (wrong) code.
        assert_eq!(classify(home.path(), serial, "123456", denied, t(1_000_220)), MfaRefusal::Wrong { next_in: 10 });
        // Another device's record does not count.
        assert_eq!(
            classify(home.path(), "arn:aws:iam::123456789012:mfa/other", "123456", denied, t(1_000_032)),
            MfaRefusal::Wrong { next_in: 18 }
        );
        let locked = "MultiFactorAuthentication failed: too many invalid codes for x; the device is locked for 15 more minute(s).";
        assert_eq!(classify(home.path(), serial, "123456", locked, t(1_000_032)), MfaRefusal::Locked);
        let record = std::fs::read_to_string(record_path(home.path(), serial)).unwrap();
        assert!(!record.contains("123456"), "only a digest is kept: {record}");
        assert!(well_formed("012345") && !well_formed("12345") && !well_formed("12345a") && !well_formed("1234567"));
        assert!(is_refusal("AccessDenied", denied) && !is_refusal("AccessDenied", "User: x is not authorized"));
    }
}
