//! Errors at the crate boundary. None of them carries message content.

/// What can go wrong when building policy objects or reading scan input.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// An organization identifier pattern (MRN / member ID) is not a valid regex.
    #[error("identifier pattern {index} is invalid: {reason}")]
    InvalidPattern {
        /// Position of the pattern in the configuration.
        index: usize,
        /// What the regex compiler reported (about the pattern, not about a message).
        reason: String,
    },
    /// The detector patterns could not be compiled together.
    #[error("the detector set could not be built: {0}")]
    Build(String),
    /// The patient name index could not be built.
    #[error("the patient name index could not be built")]
    NameIndex,
    /// Reading or writing a scan stream failed.
    #[error("scan stream I/O failed: {0}")]
    Io(#[from] std::io::Error),
    /// A rule set is malformed.
    #[error("policy rules are invalid: {0}")]
    Rules(String),
}
