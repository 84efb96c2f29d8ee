//! Per-organization data keys.

use std::fmt;

use carepost_core::OrgId;
use zeroize::Zeroizing;

use crate::{CryptoError, KeyProvider, random_bytes};

/// The version number of an organization's data key. Versions start at 1 and grow by
/// one at each rotation.
pub type KeyVersion = u32;

/// A data key: 32 random bytes from which the field-encryption key and the
/// blind-index key of one organization and version are derived.
pub struct DataKey {
    version: KeyVersion,
    seed: Zeroizing<[u8; 32]>,
}

impl DataKey {
    /// A fresh random key of `version`.
    pub fn generate(version: KeyVersion) -> Result<Self, CryptoError> {
        Ok(Self {
            version,
            seed: Zeroizing::new(random_bytes::<32>()?),
        })
    }

    /// This key's version.
    pub fn version(&self) -> KeyVersion {
        self.version
    }

    /// Wraps this key under KEK `kek_version`, bound to `org` and this key's version.
    pub async fn wrap(
        &self,
        provider: &dyn KeyProvider,
        kek_version: u32,
        org: OrgId,
    ) -> Result<Vec<u8>, CryptoError> {
        let aad = wrap_aad(org, self.version);
        provider.wrap(kek_version, &aad, self.seed.as_ref()).await
    }

    /// Unwraps a key stored for `org` and `version`. A wrapped key copied to another
    /// organization or version fails here.
    pub async fn unwrap(
        provider: &dyn KeyProvider,
        kek_version: u32,
        org: OrgId,
        version: KeyVersion,
        wrapped: &[u8],
    ) -> Result<Self, CryptoError> {
        let aad = wrap_aad(org, version);
        let raw = provider
            .unwrap(kek_version, &aad, wrapped)
            .await
            .map_err(|e| match e {
                CryptoError::Tampered => CryptoError::UnwrapFailed {
                    version,
                    kek_version,
                },
                other => other,
            })?;
        let seed: [u8; 32] = raw
            .as_slice()
            .try_into()
            .map_err(|_| CryptoError::InvalidKey("an unwrapped data key must be 32 bytes"))?;
        Ok(Self {
            version,
            seed: Zeroizing::new(seed),
        })
    }

    pub(crate) fn derive(&self, purpose: &[u8]) -> Zeroizing<[u8; 32]> {
        let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, self.seed.as_ref());
        let tag = aws_lc_rs::hmac::sign(&key, purpose);
        let mut out = Zeroizing::new([0u8; 32]);
        out.copy_from_slice(tag.as_ref());
        out
    }
}

impl fmt::Debug for DataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DataKey")
            .field("version", &self.version)
            .finish_non_exhaustive()
    }
}

fn wrap_aad(org: OrgId, version: KeyVersion) -> Vec<u8> {
    let mut aad = b"carepost/data-key/v1\0".to_vec();
    aad.extend_from_slice(org.as_uuid().as_bytes());
    aad.extend_from_slice(&version.to_be_bytes());
    aad
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::LocalKeyProvider;

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        futures::executor::block_on(f)
    }

    #[test]
    fn a_wrapped_key_is_bound_to_its_organization_and_version() {
        let mut keys = BTreeMap::new();
        keys.insert(1, Zeroizing::new([3u8; 32]));
        let p = LocalKeyProvider::new("t", keys).unwrap();
        let org = OrgId::new();
        let dk = DataKey::generate(4).unwrap();
        let wrapped = block_on(dk.wrap(&p, 1, org)).unwrap();
        let back = block_on(DataKey::unwrap(&p, 1, org, 4, &wrapped)).unwrap();
        assert_eq!(back.seed.as_ref(), dk.seed.as_ref());
        let other_org = block_on(DataKey::unwrap(&p, 1, OrgId::new(), 4, &wrapped));
        assert!(matches!(other_org, Err(CryptoError::UnwrapFailed { .. })));
        let other_version = block_on(DataKey::unwrap(&p, 1, org, 5, &wrapped));
        assert!(matches!(
            other_version,
            Err(CryptoError::UnwrapFailed { .. })
        ));
        assert!(!format!("{dk:?}").contains("seed"));
    }
}
