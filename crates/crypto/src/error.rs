use thiserror::Error;

/// Why a cryptographic operation failed. No variant carries key material or plaintext.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum CryptoError {
    /// A ciphertext's authentication tag did not verify: it was altered, copied from
    /// another row or column, or sealed under another key.
    #[error(
        "ciphertext does not verify: it was altered, moved to another row or column, or sealed under another key"
    )]
    Tampered,
    /// The ciphertext names a key version this keyring does not hold.
    #[error(
        "ciphertext was sealed with data key version {0}, which is not loaded (retired or never created)"
    )]
    UnknownKeyVersion(u32),
    /// The ciphertext is shorter than its header or of an unknown format.
    #[error("ciphertext is malformed: {0}")]
    Malformed(&'static str),
    /// The provider has no key-encryption key of this version.
    #[error(
        "the master key source has no key-encryption key version {0}; use the key file this database was created with"
    )]
    UnknownKekVersion(u32),
    /// A wrapped data key did not unwrap: wrong master key or damaged row.
    #[error(
        "data key version {version} does not unwrap with master key version {kek_version}: wrong master key or damaged key row"
    )]
    UnwrapFailed {
        /// The data key version.
        version: u32,
        /// The key-encryption key version it was wrapped with.
        kek_version: u32,
    },
    /// A key has the wrong length or encoding.
    #[error("invalid key: {0}")]
    InvalidKey(&'static str),
    /// The system random generator failed.
    #[error("the system random number generator failed")]
    Random,
}
