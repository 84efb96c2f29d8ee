//! The delivery vocabulary shared by the queue, the gateway and the API.

use serde::{Deserialize, Serialize};

macro_rules! text_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $name {
            $($(#[$vdoc])* #[serde(rename = $text)] $variant),+
        }

        impl $name {
            /// The stored and wire form.
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $text),+ }
            }

            /// Parses the stored and wire form.
            pub fn parse(s: &str) -> Option<Self> {
                match s { $($text => Some(Self::$variant),)+ _ => None }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

text_enum!(
    /// How a message must be protected in transit.
    Protection {
        /// Only over TLS 1.2+ with a verified certificate; otherwise deferred, then handed
        /// to the fallback (the secure portal) or returned to the sender.
        TlsVerified = "tls-verified",
        /// As `tls-verified`, but a message that cannot be delivered that way is returned
        /// at once.
        TlsExclusive = "tls-exclusive",
    }
);

text_enum!(
    /// A recipient's delivery state, after SMTP's own model.
    DeliveryState {
        /// Waiting for its first attempt.
        Queued = "queued",
        /// Held in quarantine by the protection policy until a reviewer releases or
        /// rejects the message; never attempted meanwhile.
        Held = "held",
        /// A temporary failure; another attempt is scheduled.
        Deferred = "deferred",
        /// Accepted by the recipient's server (or captured by the sandbox).
        Delivered = "delivered",
        /// Refused permanently; the sender is told.
        Bounced = "bounced",
        /// Still undelivered at the end of its maximum age; the sender is told.
        Expired = "expired",
    }
);

text_enum!(
    /// How a message came in.
    MessageSource {
        /// SMTP submission.
        Smtp = "smtp",
        /// The HTTP send API.
        Api = "api",
        /// A campaign.
        Campaign = "campaign",
        /// carepost itself: delivery status notifications (bounces) to senders.
        System = "system",
    }
);

impl DeliveryState {
    /// Whether no further attempt will be made.
    pub fn is_final(self) -> bool {
        matches!(self, Self::Delivered | Self::Bounced | Self::Expired)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_round_trip_through_their_text() {
        for s in [
            DeliveryState::Queued,
            DeliveryState::Deferred,
            DeliveryState::Delivered,
            DeliveryState::Bounced,
            DeliveryState::Expired,
        ] {
            assert_eq!(DeliveryState::parse(s.as_str()), Some(s));
        }
        assert_eq!(
            Protection::parse("tls-exclusive"),
            Some(Protection::TlsExclusive)
        );
        assert_eq!(Protection::parse("plaintext"), None);
        assert_eq!(
            serde_json::to_string(&Protection::TlsVerified).unwrap(),
            "\"tls-verified\""
        );
    }
}
