//! [`OrgScope`]: the only way to reach an organization's data.

use std::sync::Arc;

use carepost_core::OrgId;
use carepost_crypto::{CryptoError, FieldContext, OrgKeyring};
use zeroize::Zeroizing;

use crate::{Result, Store};

/// One organization's view of the store. Every query it runs is bound to its
/// organization id, so code holding a scope cannot read another tenant's rows.
#[derive(Clone)]
pub struct OrgScope {
    pub(crate) store: Store,
    org: OrgId,
    keyring: Arc<OrgKeyring>,
}

impl std::fmt::Debug for OrgScope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OrgScope")
            .field("org", &self.org)
            .finish_non_exhaustive()
    }
}

impl OrgScope {
    pub(crate) fn new(store: Store, org: OrgId, keyring: Arc<OrgKeyring>) -> Self {
        Self {
            store,
            org,
            keyring,
        }
    }

    /// The organization.
    pub fn org_id(&self) -> OrgId {
        self.org
    }

    pub(crate) fn keyring(&self) -> &OrgKeyring {
        &self.keyring
    }

    pub(crate) fn backend(&self) -> &crate::backend::Backend {
        self.store.backend()
    }

    /// Opens a stored field. A ciphertext sealed with a key version this process has not
    /// loaded yet (rotated by another process or node) reloads the keyring once.
    pub(crate) async fn open_field(
        &self,
        at: &FieldContext<'_>,
        ciphertext: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>> {
        match self.keyring.open(at, ciphertext) {
            Err(CryptoError::UnknownKeyVersion(_)) => {
                let fresh = self.store.reload_keyring(self.org).await?;
                Ok(fresh.open(at, ciphertext)?)
            }
            other => Ok(other?),
        }
    }
}
