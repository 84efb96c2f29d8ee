//! Envelope encryption for carepost.
//!
//! Three layers of keys:
//! - a **key-encryption key** (KEK) per version, held by a [`KeyProvider`]: the local
//!   [`KeyFile`] (mode 0600) or `CAREPOST_MASTER_KEY`; an external KMS implements the same
//!   trait. A [`key check value`](KeyProvider::check_value) lets the store tell a wrong
//!   master key apart from damaged data.
//! - **data keys** per organization and version ([`DataKey`]), stored wrapped by a KEK
//!   with associated data that binds each wrapped key to its organization and version.
//! - **field ciphertexts** ([`OrgKeyring::seal`]): AES-256-GCM with associated data naming
//!   organization, table, column and row id, so that a ciphertext copied anywhere else
//!   fails to decrypt. Keyed [blind indexes](OrgKeyring::blind_index) serve equality
//!   lookups without storing the value.
//!
//! The crate refuses: short or malformed keys, ciphertexts of an unknown format, data
//! keys of a version the keyring does not hold, and any ciphertext whose tag does not
//! verify. None of its errors carry key material or plaintext.
#![forbid(unsafe_code)]

mod datakey;
mod envelope;
mod error;
mod keyfile;
mod provider;
mod random;
mod signing;

pub use datakey::{DataKey, KeyVersion};
pub use envelope::{FieldContext, OrgKeyring, ciphertext_key_version};
pub use error::CryptoError;
pub use keyfile::{KeyFile, KeyFileError, MASTER_KEY_ENV};
pub use provider::{KeyProvider, LocalKeyProvider};
pub use random::random_bytes;
pub use signing::{SigningKey, verify_signature};

/// SHA-256 of `data`.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, data);
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_ref());
    out
}
