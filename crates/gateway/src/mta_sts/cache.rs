//! Cache of fetched MTA-STS policies (RFC 8461 §5.1).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use super::StsPolicy;
use crate::dns::normalize_domain;

/// A policy together with the id it was published under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedPolicy {
    /// The `id` of the TXT record the policy was fetched for.
    pub id: String,
    /// The policy.
    pub policy: StsPolicy,
    /// When it was fetched.
    pub fetched_at: SystemTime,
}

impl CachedPolicy {
    /// Whether the policy's `max_age` has not yet elapsed at `now`.
    pub fn is_fresh(&self, now: SystemTime) -> bool {
        let age = now
            .duration_since(self.fetched_at)
            .unwrap_or(Duration::ZERO);
        age < self.policy.max_age()
    }
}

/// Policies by domain. Entries are dropped once their `max_age` has elapsed.
#[derive(Debug, Default)]
pub struct MtaStsCache {
    entries: Mutex<HashMap<String, CachedPolicy>>,
}

impl MtaStsCache {
    /// An empty cache.
    pub fn new() -> MtaStsCache {
        MtaStsCache::default()
    }

    /// The cached policy of `domain`, if still fresh at `now`.
    pub fn get(&self, domain: &str, now: SystemTime) -> Option<CachedPolicy> {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let key = normalize_domain(domain);
        match entries.get(&key) {
            Some(entry) if entry.is_fresh(now) => Some(entry.clone()),
            Some(_) => {
                entries.remove(&key);
                None
            }
            None => None,
        }
    }

    /// Stores (or replaces) the policy of `domain`.
    pub fn insert(&self, domain: &str, policy: CachedPolicy) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries.insert(normalize_domain(domain), policy);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mta_sts::StsMode;

    #[test]
    fn cached_policies_expire_after_max_age() {
        let cache = MtaStsCache::new();
        let start = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let policy = StsPolicy {
            mode: StsMode::Enforce,
            mx: vec!["mx.a.test".into()],
            max_age: 60,
        };
        cache.insert(
            "A.test",
            CachedPolicy {
                id: "1".into(),
                policy,
                fetched_at: start,
            },
        );
        assert!(
            cache
                .get("a.test", start + Duration::from_secs(59))
                .is_some()
        );
        assert!(
            cache
                .get("a.test", start + Duration::from_secs(60))
                .is_none()
        );
        assert!(
            cache.get("a.test", start).is_none(),
            "expired entries are removed"
        );
    }
}
