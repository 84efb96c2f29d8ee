//! DKIM signing of outgoing mail with the organization's stored keys.
//!
//! The signing domain is the domain of the header `From:` (so that DMARC aligns); a
//! domain with no key sends unsigned, and `carepost domain check` says so. Keys are read
//! from the store once per organization and again after [`REFRESH`], so a key made with
//! `carepost dkim generate` is used without a restart. For each domain the newest key of
//! each algorithm signs: RSA-2048, and Ed25519 as a second signature when one exists.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use carepost_core::OrgId;
use carepost_gateway::dkim::{DkimAlgorithm, PrivateKey, Signer};
use carepost_store::{OrgScope, StoreError};

/// How long loaded keys are used before the store is read again.
pub const REFRESH: Duration = Duration::from_secs(60);

type DomainSigners = HashMap<String, Arc<Signer>>;
/// Each organization's signers and when they were read.
type Loaded = HashMap<OrgId, (Instant, Arc<DomainSigners>)>;

/// Per-organization DKIM signers, loaded lazily.
#[derive(Clone, Default)]
pub struct DkimSigning {
    loaded: Arc<RwLock<Loaded>>,
}

impl DkimSigning {
    /// Signs `content` for the domain of its `From:` header. `Ok(None)` when the
    /// organization has no key for that domain (or the message has no usable `From:`).
    pub async fn sign(
        &self,
        scope: &OrgScope,
        content: &[u8],
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let Some(domain) = from_domain(content) else {
            return Ok(None);
        };
        let signers = self.signers(scope).await?;
        let Some(signer) = signers.get(&domain) else {
            return Ok(None);
        };
        match signer.sign(content) {
            Ok(signed) => Ok(Some(signed)),
            Err(error) => {
                tracing::warn!(%error, "DKIM signing failed; sending unsigned");
                Ok(None)
            }
        }
    }

    async fn signers(&self, scope: &OrgScope) -> Result<Arc<DomainSigners>, StoreError> {
        let org = scope.org_id();
        if let Ok(loaded) = self.loaded.read()
            && let Some((at, signers)) = loaded.get(&org)
            && at.elapsed() < REFRESH
        {
            return Ok(signers.clone());
        }
        let signers = Arc::new(load(scope).await?);
        if let Ok(mut loaded) = self.loaded.write() {
            loaded.insert(org, (Instant::now(), signers.clone()));
        }
        Ok(signers)
    }
}

async fn load(scope: &OrgScope) -> Result<DomainSigners, StoreError> {
    // Oldest first: a later key of the same domain and algorithm replaces an earlier one.
    let mut newest: HashMap<(String, DkimAlgorithm), (String, PrivateKey)> = HashMap::new();
    for key in scope.dkim_keys().await? {
        let Some(algorithm) = DkimAlgorithm::parse(&key.algorithm) else {
            tracing::warn!(key = %key.id, "DKIM key with an unknown algorithm skipped");
            continue;
        };
        let private = PrivateKey::from_pkcs8_der(key.private_key.to_vec());
        newest.insert((key.domain, algorithm), (key.selector, private));
    }
    let mut by_domain: HashMap<String, Signer> = HashMap::new();
    // RSA first, so that the RSA signature is the first header (the one every verifier
    // understands).
    let mut entries: Vec<_> = newest.into_iter().collect();
    entries.sort_by_key(|((domain, algorithm), _)| {
        (domain.clone(), *algorithm == DkimAlgorithm::Ed25519)
    });
    for ((domain, algorithm), (selector, private)) in entries {
        let added = match by_domain.entry(domain.clone()) {
            Entry::Occupied(mut signer) => signer
                .get_mut()
                .add(&domain, &selector, algorithm, &private),
            Entry::Vacant(slot) => {
                Signer::new(&domain, &selector, algorithm, &private).map(|signer| {
                    slot.insert(signer);
                })
            }
        };
        if let Err(error) = added {
            tracing::warn!(%error, selector, "DKIM key unusable; skipped");
        }
    }
    Ok(by_domain
        .into_iter()
        .map(|(domain, signer)| (domain, Arc::new(signer)))
        .collect())
}

/// The domain of the single address in the `From:` header, lower case.
pub fn from_domain(content: &[u8]) -> Option<String> {
    let headers = mail_parser::MessageParser::new().parse_headers(content)?;
    let from = headers.from()?.first()?.address()?;
    let (_, domain) = from.rsplit_once('@')?;
    let domain = domain.trim().trim_end_matches('.').to_ascii_lowercase();
    (!domain.is_empty()).then_some(domain)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signing_domain_is_the_header_from_domain() {
        let m = b"Received: from x\r\nFrom: \"Clinic\" <Care@Clinic.TEST>\r\nTo: a@b.test\r\n\r\nHi\r\n";
        assert_eq!(from_domain(m).as_deref(), Some("clinic.test"));
        assert_eq!(from_domain(b"To: a@b.test\r\n\r\nno from\r\n"), None);
        assert_eq!(from_domain(b"From: nobody\r\n\r\n"), None);
        assert_eq!(from_domain(b"\xff\xfe garbage"), None);
    }
}
