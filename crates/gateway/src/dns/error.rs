use thiserror::Error;

/// A DNS lookup that did not produce an answer.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum DnsError {
    /// The name does not exist (NXDOMAIN). For a recipient domain this is permanent.
    #[error("{name} does not exist in DNS (NXDOMAIN); check the recipient address")]
    NoSuchDomain {
        /// The queried name.
        name: String,
    },

    /// The name is not a valid domain name.
    #[error("{name:?} is not a valid domain name")]
    InvalidName {
        /// The rejected name.
        name: String,
    },

    /// DNSSEC validation failed for the answer: it may have been forged.
    #[error("DNSSEC validation of {name} failed (bogus); refusing to use the answer")]
    Bogus {
        /// The queried name.
        name: String,
    },

    /// The lookup failed for a reason that may go away (timeout, SERVFAIL, network).
    #[error("DNS lookup of {name} failed: {detail}; will retry later")]
    Temporary {
        /// The queried name.
        name: String,
        /// What the resolver reported.
        detail: String,
    },
}

impl DnsError {
    /// Whether the failure is permanent for the queried name.
    pub fn is_permanent(&self) -> bool {
        matches!(self, Self::NoSuchDomain { .. } | Self::InvalidName { .. })
    }
}
