//! Counting failures and locking out guessers: MFA codes per device
//! (RFC 6238 §5.2 asks verifiers to throttle), passwords per user, and
//! device user codes per signed-in user and across the server (RFC 8628
//! §5.1). State is in memory, bounded, and forgotten after a window.

use std::collections::HashMap;
use std::sync::Mutex;

/// When a key is locked out.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Rule {
    /// Failures within `window` seconds that lock the key (the failure
    /// that reaches the count is answered as usual; later tries are refused).
    pub max_failures: u32,
    pub window: i64,
    /// Seconds a lock lasts after the failure that set it.
    pub lock: i64,
}

/// MFA devices: five wrong codes in 15 minutes lock the device for 15 minutes.
pub(crate) const MFA: Rule = Rule { max_failures: 5, window: 900, lock: 900 };
/// Sign-in: five failures in 5 minutes, then wait out the window.
pub(crate) const SIGNIN: Rule = Rule { max_failures: 5, window: 300, lock: 300 };
/// User codes typed by one signed-in user: five wrong in 15 minutes.
pub(crate) const USER_CODE_PER_USER: Rule = Rule { max_failures: 5, window: 900, lock: 900 };
/// User codes across the whole server: twenty wrong in a minute.
pub(crate) const USER_CODE_GLOBAL: Rule = Rule { max_failures: 20, window: 60, lock: 60 };

/// Keys kept at most; beyond, entries with nothing recent are dropped first.
const MAX_KEYS: usize = 100_000;

#[derive(Debug, Default)]
struct Entry {
    /// Times (unix seconds) of recent failures.
    failures: Vec<i64>,
    locked_until: i64,
}

/// Failure counts under one rule.
#[derive(Debug)]
pub(crate) struct Limiter {
    rule: Rule,
    entries: Mutex<HashMap<String, Entry>>,
}

/// Refused: locked until this unix second.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Locked {
    pub until: i64,
}

impl Locked {
    /// Whole minutes left, rounded up, at least one.
    pub(crate) fn minutes_left(self, now: i64) -> i64 {
        ((self.until - now + 59) / 60).max(1)
    }
}

impl Limiter {
    pub(crate) fn new(rule: Rule) -> Limiter {
        Limiter { rule, entries: Mutex::new(HashMap::new()) }
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// `Err` while `key` is locked out.
    pub(crate) fn check(&self, key: &str, now: i64) -> Result<(), Locked> {
        match self.entries().get(key) {
            Some(e) if e.locked_until > now => Err(Locked { until: e.locked_until }),
            _ => Ok(()),
        }
    }

    /// Records a failure; `Err` if this failure locked the key.
    pub(crate) fn fail(&self, key: &str, now: i64) -> Result<(), Locked> {
        let mut map = self.entries();
        if map.len() >= MAX_KEYS && !map.contains_key(key) {
            let horizon = now - self.rule.window;
            map.retain(|_, e| e.locked_until > now || e.failures.last().is_some_and(|t| *t > horizon));
        }
        let e = map.entry(key.to_string()).or_default();
        e.failures.retain(|t| *t > now - self.rule.window);
        e.failures.push(now);
        if e.failures.len() >= self.rule.max_failures as usize {
            e.locked_until = now + self.rule.lock;
            e.failures.clear();
            return Err(Locked { until: e.locked_until });
        }
        Ok(())
    }

    /// Forgets a key's failures (a success), unless it is locked.
    pub(crate) fn succeed(&self, key: &str, now: i64) {
        let mut map = self.entries();
        if map.get(key).is_some_and(|e| e.locked_until <= now) {
            map.remove(key);
        }
    }
}

/// The limiters of one server.
#[derive(Debug)]
pub(crate) struct Limits {
    pub mfa: Limiter,
    pub signin: Limiter,
    pub user_code: Limiter,
    pub user_code_global: Limiter,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            mfa: Limiter::new(MFA),
            signin: Limiter::new(SIGNIN),
            user_code: Limiter::new(USER_CODE_PER_USER),
            user_code_global: Limiter::new(USER_CODE_GLOBAL),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_after_the_allowed_failures_then_unlocks() {
        let l = Limiter::new(Rule { max_failures: 3, window: 60, lock: 100 });
        assert!(l.fail("k", 0).is_ok());
        assert!(l.fail("k", 1).is_ok());
        assert!(l.check("k", 1).is_ok());
        assert_eq!(l.fail("k", 2), Err(Locked { until: 102 }));
        assert_eq!(l.check("k", 50), Err(Locked { until: 102 }));
        l.succeed("k", 50);
        assert!(l.check("k", 50).is_err(), "a success does not lift a lock");
        assert!(l.check("k", 102).is_ok());
        assert!(l.check("other", 50).is_ok(), "keys are independent");
    }

    #[test]
    fn failures_outside_the_window_are_forgotten() {
        let l = Limiter::new(Rule { max_failures: 3, window: 60, lock: 100 });
        for t in [0, 100, 200, 300] {
            assert!(l.fail("k", t).is_ok());
        }
        l.succeed("k", 301);
        assert!(l.fail("k", 302).is_ok());
        assert!(l.fail("k", 303).is_ok());
    }

    #[test]
    fn memory_stays_bounded() {
        let l = Limiter::new(Rule { max_failures: 5, window: 10, lock: 10 });
        for i in 0..(MAX_KEYS + 10) {
            let _ = l.fail(&format!("k{i}"), i64::try_from(i).unwrap() * 100);
        }
        assert!(l.entries().len() < 20);
    }
}
