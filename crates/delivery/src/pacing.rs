//! Per-destination rate limits: a token bucket per recipient domain, so that carepost
//! never sends a receiving server more messages per second than it was configured to.
//!
//! The bucket is pure arithmetic over a caller-supplied clock ([`Pacer::reserve`]); the
//! runner turns the returned wait into a sleep.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Token buckets per destination domain.
pub struct Pacer {
    /// Messages per second per domain; `None`: unlimited.
    rate: Option<f64>,
    buckets: Mutex<HashMap<String, Bucket>>,
}

struct Bucket {
    /// Tokens available at `at` (negative: reserved ahead).
    tokens: f64,
    at: Instant,
}

impl Pacer {
    /// `per_second` messages per second per domain; 0 means unlimited.
    pub fn new(per_second: u32) -> Pacer {
        Pacer {
            rate: (per_second > 0).then(|| f64::from(per_second)),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// The most messages worth sending in one go to a domain: one second's worth.
    pub fn burst(&self) -> Option<usize> {
        self.rate.map(|r| r.max(1.0) as usize)
    }

    /// Reserves `n` messages to `domain` at `now`; returns how long to wait before sending
    /// them. The bucket holds at most one second's worth of tokens.
    pub fn reserve(&self, domain: &str, n: usize, now: Instant) -> Duration {
        let Some(rate) = self.rate else {
            return Duration::ZERO;
        };
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        let bucket = buckets.entry(domain.to_owned()).or_insert(Bucket {
            tokens: rate,
            at: now,
        });
        let elapsed = now.saturating_duration_since(bucket.at).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * rate).min(rate);
        bucket.at = now;
        bucket.tokens -= n as f64;
        if bucket.tokens >= 0.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64(-bucket.tokens / rate)
        }
    }

    /// Waits until `n` messages may go to `domain`.
    pub async fn acquire(&self, domain: &str, n: usize) {
        let wait = self.reserve(domain, n, Instant::now());
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_a_rate_nothing_waits() {
        let p = Pacer::new(0);
        assert_eq!(p.reserve("d.test", 1000, Instant::now()), Duration::ZERO);
        assert_eq!(p.burst(), None);
    }

    #[test]
    fn a_domain_gets_its_rate_and_others_are_not_slowed() {
        let p = Pacer::new(10);
        let t0 = Instant::now();
        assert_eq!(
            p.reserve("d.test", 10, t0),
            Duration::ZERO,
            "one second's burst"
        );
        assert_eq!(p.reserve("d.test", 5, t0), Duration::from_millis(500));
        assert_eq!(p.reserve("other.test", 10, t0), Duration::ZERO);
        // Two seconds later the bucket refilled (to at most one second's worth).
        let later = t0 + Duration::from_secs(2);
        let wait = p.reserve("d.test", 10, later);
        assert!(wait <= Duration::from_millis(500), "{wait:?}");
    }
}
