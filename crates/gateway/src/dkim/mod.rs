//! DKIM (RFC 6376, RFC 8463) for carepost's own mail: key generation with the DNS record
//! to publish, and signing with mail-auth on the aws-lc-rs backend.
//!
//! RSA-2048 is the default signature; an Ed25519 signature can be added as a second one.

mod generate;
mod key;
mod sign;

use serde::{Deserialize, Serialize};
use thiserror::Error;

pub use generate::{GeneratedKey, generate};
pub use key::PrivateKey;
pub use sign::{Signer, strip_trailing_blank_lines};

/// A DKIM signing algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DkimAlgorithm {
    /// rsa-sha256 with a 2048-bit key.
    Rsa2048,
    /// ed25519-sha256 (RFC 8463).
    Ed25519,
}

impl DkimAlgorithm {
    /// The name carepost uses for it in commands and storage: `rsa-2048` or `ed25519`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Rsa2048 => "rsa-2048",
            Self::Ed25519 => "ed25519",
        }
    }

    /// The algorithm named by [`as_str`](Self::as_str) (case-insensitive; `rsa` too).
    pub fn parse(name: &str) -> Option<DkimAlgorithm> {
        match name.to_ascii_lowercase().as_str() {
            "rsa-2048" | "rsa2048" | "rsa" => Some(Self::Rsa2048),
            "ed25519" => Some(Self::Ed25519),
            _ => None,
        }
    }

    /// The `k=` tag value of the DNS record.
    pub fn key_type(self) -> &'static str {
        match self {
            Self::Rsa2048 => "rsa",
            Self::Ed25519 => "ed25519",
        }
    }
}

/// A DKIM failure.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum DkimError {
    /// Key generation failed in the crypto library.
    #[error("DKIM key generation failed; check that the system random source works")]
    Generate,
    /// The stored private key is not a PKCS#8 key of the stated algorithm.
    #[error(
        "the DKIM private key is not a valid PKCS#8 {algorithm:?} key; regenerate it with `carepost dkim generate`"
    )]
    BadKey {
        /// The expected algorithm.
        algorithm: DkimAlgorithm,
    },
    /// The domain or selector is not a valid DNS label sequence.
    #[error("invalid DKIM {what}: {value:?}")]
    BadName {
        /// "domain" or "selector".
        what: &'static str,
        /// The rejected value.
        value: String,
    },
    /// Signing failed (e.g. the message has none of the signed headers).
    #[error("DKIM signing failed: {0}; the message needs at least a From header")]
    Sign(String),
}
