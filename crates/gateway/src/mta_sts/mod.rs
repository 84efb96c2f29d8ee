//! MTA-STS (RFC 8461): discover, fetch, cache and apply a domain's policy.
//!
//! [`MtaStsResolver::policy`] returns the policy that applies to a domain right now. The
//! delivery engine then refuses MX hosts that an `enforce` policy does not list.

mod cache;
mod fetch;
mod policy;
mod record;

use std::sync::Arc;
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

pub use cache::{CachedPolicy, MtaStsCache};
pub use fetch::{FetchConfig, FetchError, MtaStsFetcher};
pub use policy::{MAX_MAX_AGE, MAX_POLICY_SIZE, StsMode, StsPolicy, StsPolicyError, mx_matches};
pub use record::{StsRecord, StsRecordError, parse_record, parse_records};

use crate::dns::{DnsLookup, normalize_domain};

/// The MTA-STS policy that applies to a domain, as recorded in delivery evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivePolicy {
    /// The policy id from the TXT record.
    pub id: String,
    /// Policy mode.
    pub mode: StsMode,
    /// MX patterns.
    pub mx: Vec<String>,
}

impl ActivePolicy {
    /// Whether the policy is in enforce mode.
    pub fn is_enforced(&self) -> bool {
        self.mode == StsMode::Enforce
    }

    /// Whether `mx_host` matches the policy's MX patterns.
    pub fn allows_mx(&self, mx_host: &str) -> bool {
        self.mx.iter().any(|pattern| mx_matches(pattern, mx_host))
    }
}

/// Finds the MTA-STS policy of a domain: TXT record, then cache or HTTPS fetch.
pub struct MtaStsResolver {
    dns: Arc<dyn DnsLookup>,
    fetcher: Option<MtaStsFetcher>,
    cache: Arc<MtaStsCache>,
}

impl MtaStsResolver {
    /// A resolver fetching with `fetcher`; `None` only consults the cache (tests, offline).
    pub fn new(
        dns: Arc<dyn DnsLookup>,
        fetcher: Option<MtaStsFetcher>,
        cache: Arc<MtaStsCache>,
    ) -> MtaStsResolver {
        MtaStsResolver {
            dns,
            fetcher,
            cache,
        }
    }

    /// The cache, e.g. to preload a policy.
    pub fn cache(&self) -> &Arc<MtaStsCache> {
        &self.cache
    }

    /// The policy in force for `domain`, or `None` if it has none (or mode `none`).
    ///
    /// Per RFC 8461 §5.1, a fresh cached policy keeps applying when the TXT record
    /// disappears or the fetch fails; a new id triggers a fetch.
    pub async fn policy(&self, domain: &str) -> Option<ActivePolicy> {
        self.policy_at(domain, SystemTime::now()).await
    }

    /// [`MtaStsResolver::policy`] with an explicit clock.
    pub async fn policy_at(&self, domain: &str, now: SystemTime) -> Option<ActivePolicy> {
        let domain = normalize_domain(domain);
        let cached = self.cache.get(&domain, now);
        let record = self.record(&domain).await;

        let current = match (record, cached) {
            (Some(record), Some(cached)) if record.id == cached.id => Some(cached),
            (Some(record), cached) => self.refresh(&domain, record, now).await.or(cached),
            (None, cached) => cached,
        }?;
        if current.policy.mode == StsMode::None {
            return None;
        }
        Some(ActivePolicy {
            id: current.id,
            mode: current.policy.mode,
            mx: current.policy.mx,
        })
    }

    async fn record(&self, domain: &str) -> Option<StsRecord> {
        let name = format!("_mta-sts.{domain}");
        let answer = match self.dns.txt(&name).await {
            Ok(answer) => answer,
            Err(error) => {
                tracing::debug!(domain, %error, "MTA-STS TXT lookup failed");
                return None;
            }
        };
        parse_records(answer.records.iter().map(Vec::as_slice)).ok()
    }

    async fn refresh(
        &self,
        domain: &str,
        record: StsRecord,
        now: SystemTime,
    ) -> Option<CachedPolicy> {
        let fetcher = self.fetcher.as_ref()?;
        match fetcher.fetch(domain).await {
            Ok(policy) => {
                let entry = CachedPolicy {
                    id: record.id,
                    policy,
                    fetched_at: now,
                };
                self.cache.insert(domain, entry.clone());
                Some(entry)
            }
            Err(error) => {
                tracing::warn!(domain, %error, "MTA-STS policy fetch failed");
                None
            }
        }
    }
}
