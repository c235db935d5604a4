//! Where the Vault reader gets "now" from: when to renew its token or log in again (two thirds
//! of the token's TTL after the login) and when an unpinned cache entry expires.
//!
//! Production readers use [`SystemClock`]; tests drive a [`ManualClock`] past those deadlines
//! instead of sleeping against short TTLs.

use std::time::{Duration, Instant};

/// A source of the current instant.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// Now.
    fn now(&self) -> Instant;
}

/// The monotonic system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }
}

/// A clock that stands still until [`ManualClock::advance`] moves it.
#[derive(Debug)]
pub struct ManualClock {
    start: Instant,
    offset: std::sync::Mutex<Duration>,
}

impl ManualClock {
    /// A clock reading the current system instant, frozen there.
    pub fn new() -> Self {
        Self {
            start: Instant::now(),
            offset: std::sync::Mutex::new(Duration::ZERO),
        }
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        *self.offset.lock().unwrap_or_else(|e| e.into_inner()) += by;
    }
}

impl Default for ManualClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Instant {
        self.start + *self.offset.lock().unwrap_or_else(|e| e.into_inner())
    }
}
