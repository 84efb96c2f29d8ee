//! Typed identifiers. Each wraps a UUID (version 7, so that ids sort by creation time)
//! and cannot be confused with an id of another kind.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// An identifier string that is not a UUID.
#[derive(Debug, thiserror::Error)]
#[error("'{kind}' id is not a valid UUID: {reason}")]
pub struct IdParseError {
    kind: &'static str,
    reason: String,
}

macro_rules! typed_id {
    ($(#[$doc:meta])* $name:ident, $kind:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// A new, time-ordered identifier.
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }

            /// Wraps an existing UUID (read from storage).
            pub const fn from_uuid(id: Uuid) -> Self {
                Self(id)
            }

            /// The UUID inside.
            pub const fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl From<$name> for Uuid {
            fn from(id: $name) -> Uuid {
                id.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!($kind, ":{}"), self.0)
            }
        }

        impl FromStr for $name {
            type Err = IdParseError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s)
                    .map(Self)
                    .map_err(|e| IdParseError { kind: $kind, reason: e.to_string() })
            }
        }
    };
}

typed_id!(
    /// Identifies an [`Organization`](crate::Organization), the tenant of every row.
    OrgId,
    "org"
);
typed_id!(
    /// Identifies a message accepted for delivery.
    MessageId,
    "message"
);
typed_id!(
    /// Identifies a message captured by the sandbox mailbox.
    SandboxId,
    "sandbox"
);
typed_id!(
    /// Identifies a contact (a patient or other person the organization writes to).
    ContactId,
    "contact"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_through_their_text_form() {
        let id = OrgId::new();
        let back: OrgId = id.to_string().parse().unwrap();
        assert_eq!(id, back);
    }

    #[test]
    fn refuses_text_that_is_not_a_uuid() {
        let err = "not-a-uuid".parse::<ContactId>().unwrap_err();
        assert!(err.to_string().contains("'contact' id"));
    }

    #[test]
    fn newer_ids_sort_after_older_ones() {
        let a = OrgId::new();
        let b = OrgId::new();
        assert!(a < b);
    }
}
