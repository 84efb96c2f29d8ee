//! Ed25519 keys that sign audit checkpoints.

use std::fmt;

use aws_lc_rs::signature::{ED25519, Ed25519KeyPair, KeyPair, UnparsedPublicKey};
use zeroize::Zeroizing;

use crate::CryptoError;

/// An Ed25519 signing key. Its private half is exported only as PKCS#8, for storage
/// under envelope encryption.
pub struct SigningKey {
    pair: Ed25519KeyPair,
}

impl SigningKey {
    /// A new key, with its PKCS#8 encoding for storage.
    pub fn generate() -> Result<(Self, Zeroizing<Vec<u8>>), CryptoError> {
        let rng = aws_lc_rs::rand::SystemRandom::new();
        let doc = Ed25519KeyPair::generate_pkcs8(&rng).map_err(|_| CryptoError::Random)?;
        let pkcs8 = Zeroizing::new(doc.as_ref().to_vec());
        Ok((Self::from_pkcs8(&pkcs8)?, pkcs8))
    }

    /// Loads a key from its PKCS#8 encoding.
    pub fn from_pkcs8(pkcs8: &[u8]) -> Result<Self, CryptoError> {
        let pair = Ed25519KeyPair::from_pkcs8(pkcs8)
            .map_err(|_| CryptoError::InvalidKey("not an Ed25519 PKCS#8 key"))?;
        Ok(Self { pair })
    }

    /// The 32-byte public key.
    pub fn public_key(&self) -> Vec<u8> {
        self.pair.public_key().as_ref().to_vec()
    }

    /// Signs `message`; the signature is 64 bytes.
    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        self.pair.sign(message).as_ref().to_vec()
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("public", &hex::encode(self.public_key()))
            .finish()
    }
}

/// Whether `signature` is a valid Ed25519 signature of `message` by `public_key`.
pub fn verify_signature(public_key: &[u8], message: &[u8], signature: &[u8]) -> bool {
    UnparsedPublicKey::new(&ED25519, public_key)
        .verify(message, signature)
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_verify_with_the_public_key_only() {
        let (k, pkcs8) = SigningKey::generate().unwrap();
        let sig = k.sign(b"checkpoint 1");
        assert!(verify_signature(&k.public_key(), b"checkpoint 1", &sig));
        assert!(!verify_signature(&k.public_key(), b"checkpoint 2", &sig));
        let again = SigningKey::from_pkcs8(&pkcs8).unwrap();
        assert_eq!(again.public_key(), k.public_key());
        let (other, _) = SigningKey::generate().unwrap();
        assert!(!verify_signature(
            &other.public_key(),
            b"checkpoint 1",
            &sig
        ));
    }
}
