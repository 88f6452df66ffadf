//! The rules for calling a rate-limited service many times (docs/portal-scale.md):
//! which answers are worth another attempt, how long to wait before it
//! (exponential backoff with full jitter, as AWS's SDKs do), and how fast to
//! send at all (a client-side rate that learns the server's limit from its
//! throttling answers and probes upward while none come).
//!
//! Pure: time arrives as a [`Duration`] since the start of a run and
//! randomness as a number in `[0, 1)`, so every rule is tested without a
//! clock or a server. `portal.rs` drives it.

use std::collections::VecDeque;
use std::time::Duration;

/// Error codes AWS's SDKs treat as throttling (docs/portal-scale.md §2).
const THROTTLING_CODES: [&str; 13] = [
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "TransactionInProgressException",
    "RequestLimitExceeded",
    "BandwidthLimitExceeded",
    "LimitExceededException",
    "RequestThrottled",
    "SlowDown",
    "EC2ThrottledException",
];

/// Error codes AWS's SDKs retry as transient, whatever the status.
const TRANSIENT_CODES: [&str; 3] = ["RequestTimeout", "RequestTimeoutException", "PriorRequestNotComplete"];

/// What an answer means for the caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// A usable answer.
    Success,
    /// The service said "too fast": retry later, and send more slowly.
    Throttled,
    /// Worth another attempt at the same pace: a 5xx, a dropped connection.
    Transient,
    /// No connection or no answer within the timeout: worth another attempt,
    /// but only as many as AWS's SDKs make ([`TIMED_OUT_ATTEMPTS`]), since
    /// each one waits the whole timeout.
    TimedOut,
    /// Another attempt would get the same answer (4xx, a bad address).
    Fatal,
}

/// Attempts a call that timed out gets, the first included: the standard
/// retry mode's 3, whatever [`RetryPolicy::max_attempts`] allows for
/// throttling (ten attempts of a 60-second timeout would be ten minutes).
pub const TIMED_OUT_ATTEMPTS: u32 = 3;

/// Classifies a service's error answer by HTTP status and error code.
pub fn classify(status: Option<u16>, code: Option<&str>) -> Outcome {
    match (status, code) {
        (Some(429), _) => Outcome::Throttled,
        (_, Some(c)) if THROTTLING_CODES.contains(&c) => Outcome::Throttled,
        (_, Some(c)) if TRANSIENT_CODES.contains(&c) => Outcome::Transient,
        (Some(500 | 502 | 503 | 504), _) => Outcome::Transient,
        _ => Outcome::Fatal,
    }
}

/// How many attempts a call gets and how long to wait between them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts per call, the first included.
    pub max_attempts: u32,
    /// The backoff before the first retry is drawn from `[0, base)`.
    pub base: Duration,
    /// No backoff is longer than this.
    pub cap: Duration,
}

impl Default for RetryPolicy {
    /// AWS's standard backoff (1 s doubling, capped at 20 s) with more
    /// attempts than its default 3, because listing a large organisation
    /// is expected to be throttled (docs/portal-scale.md §2).
    fn default() -> RetryPolicy {
        RetryPolicy { max_attempts: 10, base: Duration::from_secs(1), cap: Duration::from_secs(20) }
    }
}

impl RetryPolicy {
    /// The wait before attempt `failed + 1`, after `failed` failed attempts
    /// (`failed` ≥ 1): full jitter, `random × min(cap, base × 2^(failed−1))`.
    pub fn backoff(&self, failed: u32, random: f64) -> Duration {
        let exp = 2f64.powi(i32::try_from(failed.saturating_sub(1).min(30)).unwrap_or(30));
        let ceiling = (self.base.as_secs_f64() * exp).min(self.cap.as_secs_f64());
        Duration::from_secs_f64(ceiling * random.clamp(0.0, 1.0))
    }

    /// Whether a call that failed `failed` times with `outcome` gets another attempt.
    pub fn retry(&self, outcome: Outcome, failed: u32) -> bool {
        match outcome {
            Outcome::Throttled | Outcome::Transient => failed < self.max_attempts,
            Outcome::TimedOut => failed < self.max_attempts.min(TIMED_OUT_ATTEMPTS),
            Outcome::Success | Outcome::Fatal => false,
        }
    }
}

/// The share of the measured rate sent after a throttle: a little under
/// what the server let through, so the next seconds pass without one.
const BACKOFF_SHARE: f64 = 0.95;
/// While no throttle comes, the rate grows by this many calls per second
/// in the first second, doubling every second after...
const FIRST_STEP: f64 = 0.25;
/// ...starting this long after the last cut.
const HOLD_AFTER_CUT: Duration = Duration::from_secs(1);
/// The window over which successes are counted to measure the server's rate.
const WINDOW: Duration = Duration::from_secs(1);
/// Never slower than this (one call every 2 s).
const MIN_RATE: f64 = 0.5;

/// A client-side send rate that adapts to the server's. Until the first
/// throttle after its first second it does not limit at all (concurrency
/// and the backoff of throttled calls alone bound the pace);
/// a throttle sets the rate to [`BACKOFF_SHARE`] of the successes of the
/// last second (what the server let through); from [`HOLD_AFTER_CUT`] on,
/// every second without one raises it by a step that starts at
/// [`FIRST_STEP`] and doubles, so the rate stays near a limit it measured
/// well for a few seconds and quickly finds one it measured too low (the
/// server's window was already used up by other calls). Sends are spaced
/// evenly (no bursts) once limited.
#[derive(Clone, Debug, Default)]
pub struct AdaptiveRate {
    /// Calls per second; `None` until the first throttle.
    rate: Option<f64>,
    /// When the next send may go.
    next_send: Duration,
    /// When the rate last went down (throttles of calls sent before it
    /// were caused by the old rate and are not counted again).
    last_cut: Option<Duration>,
    /// When the rate last went up.
    last_raise: Duration,
    /// The next raise, in calls per second.
    step: f64,
    /// Times of the successes within the last [`WINDOW`].
    successes: VecDeque<Duration>,
    /// When the first send was reserved.
    started: Option<Duration>,
    throttles: u64,
}

impl AdaptiveRate {
    pub fn new() -> AdaptiveRate {
        AdaptiveRate::default()
    }

    /// The rate in force (`None`: not limiting).
    pub fn rate(&self) -> Option<f64> {
        self.rate
    }

    /// Throttling answers seen.
    pub fn throttles(&self) -> u64 {
        self.throttles
    }

    /// Reserves the next send: the time at which the caller may send
    /// (`now` when nothing limits it).
    pub fn reserve(&mut self, now: Duration) -> Duration {
        self.started.get_or_insert(now);
        self.grow(now);
        let Some(rate) = self.rate else { return now };
        let at = self.next_send.max(now);
        self.next_send = at + Duration::from_secs_f64(1.0 / rate);
        at
    }

    /// A call answered.
    pub fn success(&mut self, now: Duration) {
        self.successes.push_back(now);
        self.trim(now);
        self.grow(now);
    }

    /// A call sent at `sent` was throttled at `now`.
    pub fn throttled(&mut self, now: Duration, sent: Duration) {
        self.throttles += 1;
        if self.last_cut.is_some_and(|cut| sent < cut) {
            return;
        }
        // Within the first second, what got through says little: the
        // server's second may have been mostly used by other calls already.
        // The backoff of the throttled calls paces them until then.
        if self.rate.is_none() && self.started.is_none_or(|s| now.saturating_sub(s) < WINDOW) {
            return;
        }
        self.trim(now);
        let measured = self.successes.len() as f64 / WINDOW.as_secs_f64();
        let new = if measured >= 1.0 {
            measured * BACKOFF_SHARE
        } else {
            // Nothing got through for a second: halve what was tried.
            self.rate.unwrap_or(1.0) / 2.0
        };
        self.rate = Some(new.max(MIN_RATE));
        self.last_cut = Some(now);
        self.last_raise = now;
        self.step = FIRST_STEP;
        // The sends already reserved at the old pace move to the new one.
        self.next_send = self.next_send.min(now + Duration::from_secs_f64(1.0 / new.max(MIN_RATE)));
    }

    fn trim(&mut self, now: Duration) {
        while self.successes.front().is_some_and(|t| now.saturating_sub(*t) > WINDOW) {
            self.successes.pop_front();
        }
    }

    fn grow(&mut self, now: Duration) {
        let (Some(rate), Some(cut)) = (self.rate, self.last_cut) else { return };
        if now < cut + HOLD_AFTER_CUT {
            return;
        }
        let mut rate = rate;
        let mut from = self.last_raise.max(cut + HOLD_AFTER_CUT - Duration::from_secs(1));
        while now.saturating_sub(from) >= Duration::from_secs(1) {
            rate += self.step;
            self.step *= 2.0;
            from += Duration::from_secs(1);
        }
        if from != self.last_raise.max(cut + HOLD_AFTER_CUT - Duration::from_secs(1)) {
            self.rate = Some(rate);
            self.last_raise = from;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn throttles_and_server_errors_are_retried_client_errors_are_not() {
        assert_eq!(classify(Some(429), Some("TooManyRequestsException")), Outcome::Throttled);
        assert_eq!(classify(Some(400), Some("ThrottlingException")), Outcome::Throttled);
        assert_eq!(classify(Some(429), None), Outcome::Throttled);
        assert_eq!(classify(Some(500), Some("InternalServerException")), Outcome::Transient);
        assert_eq!(classify(Some(503), None), Outcome::Transient);
        assert_eq!(classify(Some(400), Some("RequestTimeout")), Outcome::Transient);
        assert_eq!(classify(Some(401), Some("UnauthorizedException")), Outcome::Fatal);
        assert_eq!(classify(Some(403), Some("ForbiddenException")), Outcome::Fatal);
        assert_eq!(classify(Some(501), None), Outcome::Fatal);
        let p = RetryPolicy::default();
        assert!(p.retry(Outcome::Throttled, 1) && p.retry(Outcome::Transient, 9));
        assert!(!p.retry(Outcome::Throttled, 10), "ten attempts in all");
        assert!(!p.retry(Outcome::Fatal, 1));
        assert!(p.retry(Outcome::TimedOut, 2) && !p.retry(Outcome::TimedOut, 3), "timeouts: three attempts");
    }

    #[test]
    fn backoff_doubles_with_full_jitter_up_to_the_cap() {
        let p = RetryPolicy::default();
        assert_eq!(p.backoff(1, 0.0), Duration::ZERO);
        assert_eq!(p.backoff(1, 0.5), ms(500));
        assert_eq!(p.backoff(2, 0.5), ms(1000));
        assert_eq!(p.backoff(3, 0.5), ms(2000));
        assert_eq!(p.backoff(5, 0.999_999), Duration::from_secs_f64(16.0 * 0.999_999));
        assert_eq!(p.backoff(6, 1.0), Duration::from_secs(20), "capped");
        assert_eq!(p.backoff(60, 1.0), Duration::from_secs(20), "no overflow");
    }

    #[test]
    fn no_limit_until_the_first_throttle() {
        let mut r = AdaptiveRate::new();
        for i in 0..100 {
            assert_eq!(r.reserve(ms(i)), ms(i));
        }
        assert_eq!(r.rate(), None);
    }

    #[test]
    fn a_throttle_sets_the_rate_under_what_the_server_let_through() {
        let mut r = AdaptiveRate::new();
        r.reserve(ms(0));
        // A 429 in the first second: no rate yet.
        r.throttled(ms(10), ms(9));
        assert_eq!(r.rate(), None);
        // 20 successes in the first 100 ms of the next second, then a 429.
        for i in 0..20 {
            r.success(ms(1000 + i * 5));
        }
        r.throttled(ms(1100), ms(1099));
        assert_eq!(r.rate(), Some(19.0));
        // Sends are now spaced 1/19 s apart.
        let a = r.reserve(ms(1100));
        let b = r.reserve(ms(1100));
        let c = r.reserve(ms(1100));
        assert_eq!(a, ms(1100));
        assert!((b - a).as_secs_f64() - 1.0 / 19.0 < 1e-9 && (c - b) == (b - a));
        // A throttle of a call sent before the cut does not cut again.
        r.throttled(ms(1110), ms(1099));
        assert_eq!(r.rate(), Some(19.0));
        assert_eq!(r.throttles(), 3);
    }

    #[test]
    fn the_rate_grows_while_no_throttle_comes_and_is_found_again() {
        let mut r = AdaptiveRate::new();
        r.reserve(ms(0));
        for i in 0..20 {
            r.success(ms(1000 + i));
        }
        r.throttled(ms(1050), ms(1049));
        assert_eq!(r.rate(), Some(19.0));
        // No growth during the hold.
        r.success(ms(2000));
        assert_eq!(r.rate(), Some(19.0));
        // A quarter call per second after it, then doubling steps.
        r.success(ms(2100));
        assert_eq!(r.rate(), Some(19.25));
        r.success(ms(2900));
        assert_eq!(r.rate(), Some(19.25));
        r.success(ms(3100));
        assert_eq!(r.rate(), Some(19.75));
        r.success(ms(5100));
        assert_eq!(r.rate(), Some(19.75 + 1.0 + 2.0));
        // A throttle starts the steps again: 95 % of the last second's one success.
        r.throttled(ms(5200), ms(5199));
        assert_eq!(r.rate(), Some(0.95));
        r.success(ms(6300));
        assert_eq!(r.rate(), Some(0.95 + 0.25));
        // A server that lets nothing through: the rate halves, down to the floor.
        let mut r = AdaptiveRate::new();
        r.reserve(ms(0));
        r.throttled(ms(1000), ms(1000));
        assert_eq!(r.rate(), Some(0.5));
    }

    /// A simulated server that lets `limit` calls through per calendar
    /// second (tobira-idc's `--portal-rps-limit`), and a client that sends
    /// whenever the rate allows: the client settles near the limit, also
    /// when another caller had used up the first second's calls.
    #[test]
    fn against_a_fixed_window_limit_the_client_gets_close_to_it() {
        for used_by_others in [0, 17, 20] {
            simulate(used_by_others);
        }
    }

    fn simulate(used_by_others: u32) {
        let limit = 20u32;
        let policy = RetryPolicy::default();
        let mut r = AdaptiveRate::new();
        let mut window = (0u64, used_by_others);
        let (mut ok, mut throttled) = (0u32, 0u32);
        // Eight callers; each sends when the rate lets it, waits 1 ms for
        // the answer, and after a throttle waits its backoff first.
        let mut workers = [(Duration::ZERO, 0u32); 8];
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut random = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed >> 11) as f64 / (1u64 << 53) as f64
        };
        loop {
            let (i, &(ready, failed)) = workers.iter().enumerate().min_by_key(|(_, w)| w.0).unwrap();
            if ready >= Duration::from_secs(60) {
                break;
            }
            let at = r.reserve(ready);
            let now = at + ms(1);
            let second = at.as_secs();
            if window.0 != second {
                window = (second, 0);
            }
            window.1 += 1;
            if window.1 > limit {
                throttled += 1;
                r.throttled(now, at);
                workers[i] = (now + policy.backoff(failed + 1, random()), failed + 1);
            } else {
                ok += 1;
                r.success(now);
                workers[i] = (now, 0);
            }
        }
        // 60 s at 20/s is at most 1,220 (the first and last windows partly).
        let share = f64::from(ok) / (60.0 * f64::from(limit));
        assert!(share > 0.95, "{used_by_others} used by others: only {ok} calls in 60 s ({share:.3} of the limit)");
        assert!(throttled < 100, "{used_by_others} used by others: {throttled} throttles");
    }
}
