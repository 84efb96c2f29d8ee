//! When to try again: exponential backoff with jitter, capped, within a maximum age.

use std::time::Duration;

use rand::Rng;

/// The retry schedule (`[delivery]` in the config).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetrySchedule {
    /// Wait after the first failed attempt.
    pub first: Duration,
    /// Longest wait between attempts.
    pub max_interval: Duration,
    /// How long a message is tried before it expires (default 5 days).
    pub max_age: Duration,
}

impl Default for RetrySchedule {
    fn default() -> Self {
        Self {
            first: Duration::from_secs(60),
            max_interval: Duration::from_secs(2 * 3600),
            max_age: Duration::from_secs(5 * 24 * 3600),
        }
    }
}

impl RetrySchedule {
    /// The wait after `attempts` failed attempts (1 for the first): `first * 2^(n-1)`,
    /// capped at `max_interval`, then spread by ±20 % so that many messages deferred
    /// together do not all come back in the same second.
    pub fn wait_after(&self, attempts: u32) -> Duration {
        let exponent = attempts.saturating_sub(1).min(30);
        let base = self
            .first
            .saturating_mul(1u32 << exponent)
            .min(self.max_interval);
        let jitter = rand::rng().random_range(0.8..=1.2);
        base.mul_f64(jitter).min(self.max_interval.mul_f64(1.2))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_grow_exponentially_within_the_jitter_band_and_stop_at_the_cap() {
        let s = RetrySchedule::default();
        for (attempt, nominal) in [(1u32, 60u64), (2, 120), (3, 240), (8, 7200), (50, 7200)] {
            for _ in 0..50 {
                let w = s.wait_after(attempt).as_secs_f64();
                let n = nominal as f64;
                assert!(
                    w >= n * 0.8 - 0.001 && w <= n * 1.2 + 0.001,
                    "attempt {attempt}: {w}"
                );
            }
        }
    }
}
