//! Where key-encryption keys live.

use std::collections::BTreeMap;
use std::fmt;

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use futures::future::BoxFuture;
use zeroize::Zeroizing;

use crate::{CryptoError, random_bytes};

/// A source of key-encryption keys (KEKs) that wraps and unwraps data keys.
///
/// The local implementation holds the keys in memory ([`LocalKeyProvider`]); a KMS
/// implementation would send the wrap and unwrap calls to the KMS and never see the
/// KEK itself, which is why the trait exposes operations rather than keys.
pub trait KeyProvider: Send + Sync + fmt::Debug {
    /// The version new data keys are wrapped with.
    fn active_version(&self) -> u32;

    /// Every version this provider can unwrap with.
    fn versions(&self) -> Vec<u32>;

    /// A short, non-secret description of the key source (`key file ./x`, `environment`).
    fn describe(&self) -> String;

    /// Encrypts `key` under KEK `version`, binding it to `aad`.
    fn wrap<'a>(
        &'a self,
        version: u32,
        aad: &'a [u8],
        key: &'a [u8],
    ) -> BoxFuture<'a, Result<Vec<u8>, CryptoError>>;

    /// Decrypts a key wrapped by [`KeyProvider::wrap`] with the same `aad`.
    fn unwrap<'a>(
        &'a self,
        version: u32,
        aad: &'a [u8],
        wrapped: &'a [u8],
    ) -> BoxFuture<'a, Result<Zeroizing<Vec<u8>>, CryptoError>>;

    /// A 16-byte value derived from KEK `version` that reveals nothing about it; the
    /// store keeps it so that a wrong master key is reported as such.
    fn check_value<'a>(&'a self, version: u32) -> BoxFuture<'a, Result<[u8; 16], CryptoError>>;
}

/// Key-encryption keys held in memory, loaded from a key file or the environment.
pub struct LocalKeyProvider {
    source: String,
    keys: BTreeMap<u32, Zeroizing<[u8; 32]>>,
}

impl LocalKeyProvider {
    /// A provider over `keys` (version → 32-byte KEK); `source` says where they came from.
    pub fn new(
        source: impl Into<String>,
        keys: BTreeMap<u32, Zeroizing<[u8; 32]>>,
    ) -> Result<Self, CryptoError> {
        if keys.is_empty() {
            return Err(CryptoError::InvalidKey("no key-encryption key was given"));
        }
        Ok(Self {
            source: source.into(),
            keys,
        })
    }

    fn kek(&self, version: u32) -> Result<LessSafeKey, CryptoError> {
        let raw = self
            .keys
            .get(&version)
            .ok_or(CryptoError::UnknownKekVersion(version))?;
        let unbound = UnboundKey::new(&AES_256_GCM, raw.as_ref())
            .map_err(|_| CryptoError::InvalidKey("a key-encryption key must be 32 bytes"))?;
        Ok(LessSafeKey::new(unbound))
    }

    fn wrap_now(&self, version: u32, aad: &[u8], key: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let kek = self.kek(version)?;
        let nonce_bytes = random_bytes::<NONCE_LEN>()?;
        let mut out = Vec::with_capacity(NONCE_LEN + key.len() + 16);
        out.extend_from_slice(&nonce_bytes);
        let mut body = key.to_vec();
        kek.seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce_bytes),
            Aad::from(aad),
            &mut body,
        )
        .map_err(|_| CryptoError::InvalidKey("key wrapping failed"))?;
        out.extend_from_slice(&body);
        Ok(out)
    }

    fn unwrap_now(
        &self,
        version: u32,
        aad: &[u8],
        wrapped: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        let kek = self.kek(version)?;
        let (nonce, body) = wrapped
            .split_first_chunk::<NONCE_LEN>()
            .ok_or(CryptoError::Malformed("wrapped key shorter than its nonce"))?;
        let mut buf = Zeroizing::new(body.to_vec());
        let plain = kek
            .open_in_place(
                Nonce::assume_unique_for_key(*nonce),
                Aad::from(aad),
                &mut buf,
            )
            .map_err(|_| CryptoError::Tampered)?;
        Ok(Zeroizing::new(plain.to_vec()))
    }

    fn check_value_now(&self, version: u32) -> Result<[u8; 16], CryptoError> {
        let raw = self
            .keys
            .get(&version)
            .ok_or(CryptoError::UnknownKekVersion(version))?;
        let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, raw.as_ref());
        let tag = aws_lc_rs::hmac::sign(&key, b"carepost key check value v1");
        let mut out = [0u8; 16];
        out.copy_from_slice(&tag.as_ref()[..16]);
        Ok(out)
    }
}

impl fmt::Debug for LocalKeyProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalKeyProvider")
            .field("source", &self.source)
            .field("versions", &self.keys.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl KeyProvider for LocalKeyProvider {
    fn active_version(&self) -> u32 {
        self.keys.keys().next_back().copied().unwrap_or(1)
    }

    fn versions(&self) -> Vec<u32> {
        self.keys.keys().copied().collect()
    }

    fn describe(&self) -> String {
        self.source.clone()
    }

    fn wrap<'a>(
        &'a self,
        version: u32,
        aad: &'a [u8],
        key: &'a [u8],
    ) -> BoxFuture<'a, Result<Vec<u8>, CryptoError>> {
        Box::pin(async move { self.wrap_now(version, aad, key) })
    }

    fn unwrap<'a>(
        &'a self,
        version: u32,
        aad: &'a [u8],
        wrapped: &'a [u8],
    ) -> BoxFuture<'a, Result<Zeroizing<Vec<u8>>, CryptoError>> {
        Box::pin(async move { self.unwrap_now(version, aad, wrapped) })
    }

    fn check_value<'a>(&'a self, version: u32) -> BoxFuture<'a, Result<[u8; 16], CryptoError>> {
        Box::pin(async move { self.check_value_now(version) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn provider(seed: u8) -> LocalKeyProvider {
        let mut keys = BTreeMap::new();
        keys.insert(1, Zeroizing::new([seed; 32]));
        LocalKeyProvider::new("test", keys).unwrap()
    }

    #[test]
    fn wrapped_keys_unwrap_only_with_the_same_kek_and_aad() {
        let p = provider(7);
        let wrapped = p
            .wrap_now(1, b"org-a", b"0123456789abcdef0123456789abcdef")
            .unwrap();
        let back = p.unwrap_now(1, b"org-a", &wrapped).unwrap();
        assert_eq!(&back[..], b"0123456789abcdef0123456789abcdef");
        assert!(matches!(
            p.unwrap_now(1, b"org-b", &wrapped),
            Err(CryptoError::Tampered)
        ));
        assert!(matches!(
            provider(8).unwrap_now(1, b"org-a", &wrapped),
            Err(CryptoError::Tampered)
        ));
        assert!(matches!(
            p.unwrap_now(2, b"org-a", &wrapped),
            Err(CryptoError::UnknownKekVersion(2))
        ));
    }

    #[test]
    fn check_values_differ_between_keys_and_never_show_the_key() {
        let a = provider(1).check_value_now(1).unwrap();
        let b = provider(2).check_value_now(1).unwrap();
        assert_ne!(a, b);
        assert_ne!(&a[..], &[1u8; 16][..]);
        let shown = format!("{:?}", provider(1));
        assert!(!shown.contains("[1, 1"), "{shown}");
    }
}
