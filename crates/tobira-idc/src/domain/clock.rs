//! The server's clock: system time plus an offset tests move forward.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use jiff::Timestamp;

/// Every expiry, lock-out and signature-date check reads this clock.
#[derive(Clone, Debug, Default)]
pub struct Clock {
    offset_ms: Arc<AtomicI64>,
}

impl Clock {
    pub fn now(&self) -> Timestamp {
        let offset = self.offset_ms.load(Ordering::Relaxed);
        Timestamp::now().checked_add(jiff::SignedDuration::from_millis(offset)).unwrap_or(Timestamp::MAX)
    }

    pub fn now_s(&self) -> i64 {
        self.now().as_second()
    }

    pub fn now_ms(&self) -> i64 {
        self.now().as_millisecond()
    }

    /// Moves this server's clock forward (tests of expiry and clock skew).
    pub fn advance(&self, by: Duration) {
        self.offset_ms.fetch_add(i64::try_from(by.as_millis()).unwrap_or(i64::MAX), Ordering::Relaxed);
    }
}
