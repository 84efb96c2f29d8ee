//! Rate limits as token buckets per key: per recipient domain for delivery (carepost never
//! sends a receiving server more messages per second than configured), per SMTP
//! credential and per client address for submission.
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
        Pacer::with_rate(f64::from(per_second))
    }

    /// `per_minute` messages per minute per key; 0 means unlimited.
    pub fn per_minute(per_minute: u32) -> Pacer {
        Pacer::with_rate(f64::from(per_minute) / 60.0)
    }

    fn with_rate(per_second: f64) -> Pacer {
        Pacer {
            rate: (per_second > 0.0).then_some(per_second),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one token for `key` at `now` if one is there (the bucket holds a minute's
    /// worth for per-minute rates, a second's otherwise); `false` means over the limit.
    pub fn try_take(&self, key: &str, now: Instant) -> bool {
        let Some(rate) = self.rate else {
            return true;
        };
        let capacity = if rate < 1.0 { rate * 60.0 } else { rate };
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if buckets.len() > 100_000 {
            buckets.retain(|_, b| now.saturating_duration_since(b.at).as_secs() < 3600);
        }
        let bucket = buckets.entry(key.to_owned()).or_insert(Bucket {
            tokens: capacity,
            at: now,
        });
        let elapsed = now.saturating_duration_since(bucket.at).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * rate).min(capacity);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            true
        } else {
            false
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
    fn a_per_minute_limit_refuses_the_next_message_until_a_token_returns() {
        let p = Pacer::per_minute(3);
        let t0 = Instant::now();
        assert!(p.try_take("ehr", t0) && p.try_take("ehr", t0) && p.try_take("ehr", t0));
        assert!(!p.try_take("ehr", t0), "a fourth message within the minute");
        assert!(p.try_take("other", t0), "keys are separate");
        assert!(
            p.try_take("ehr", t0 + Duration::from_secs(20)),
            "one token per 20 s"
        );
        assert!(Pacer::per_minute(0).try_take("x", t0));
    }

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
