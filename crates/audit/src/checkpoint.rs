//! Signed checkpoints: the head of a chain at a moment, signed with Ed25519.
//!
//! A checkpoint whose public key is kept outside the database proves that the chain up
//! to its sequence number was not rewritten afterwards, even by someone who can write
//! the whole database and recompute every hash.

use carepost_core::OrgId;
use serde::Serialize;

/// A signed statement that an organization's chain had `hash` at `seq`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Checkpoint {
    /// The organization.
    pub org: OrgId,
    /// The sequence number of the last record covered.
    pub seq: i64,
    /// That record's hash.
    #[serde(serialize_with = "hex32")]
    pub hash: [u8; 32],
    /// When the checkpoint was made (microseconds since the Unix epoch, UTC).
    pub time_us: i64,
    /// Which signing key signed it (hex of the first 8 bytes of the public key's SHA-256).
    pub key_id: String,
    /// Ed25519 signature over [`checkpoint_message`].
    #[serde(serialize_with = "hexvec")]
    pub signature: Vec<u8>,
}

impl Checkpoint {
    /// Whether the signature is valid for `public_key`.
    pub fn verify(&self, public_key: &[u8]) -> bool {
        let msg = checkpoint_message(self.org, self.seq, &self.hash, self.time_us);
        carepost_crypto::verify_signature(public_key, &msg, &self.signature)
    }
}

/// The bytes a checkpoint signs.
pub fn checkpoint_message(org: OrgId, seq: i64, hash: &[u8; 32], time_us: i64) -> Vec<u8> {
    let mut m = b"carepost/audit/checkpoint/v1\0".to_vec();
    m.extend_from_slice(org.as_uuid().as_bytes());
    m.extend_from_slice(&seq.to_be_bytes());
    m.extend_from_slice(hash);
    m.extend_from_slice(&time_us.to_be_bytes());
    m
}

/// The key id of a public key.
pub fn key_id(public_key: &[u8]) -> String {
    hex::encode(&carepost_crypto::sha256(public_key)[..8])
}

fn hex32<S: serde::Serializer>(b: &[u8; 32], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&hex::encode(b))
}

fn hexvec<S: serde::Serializer>(b: &[u8], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&hex::encode(b))
}
