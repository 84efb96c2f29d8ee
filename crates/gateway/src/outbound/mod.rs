//! Outbound SMTP delivery under a transport-protection requirement.
//!
//! The queue runner builds one [`Deliverer`] and calls [`Deliverer::deliver`] with a batch
//! of messages for one destination domain. Every recipient comes back with a
//! [`RecipientOutcome`] and [`AttemptEvidence`] for each attempt; the queue decides what
//! to do with [`RecipientOutcome::disposition`].
//!
//! A message is only ever written to a connection on which STARTTLS succeeded and the
//! certificate verified (DANE, or WebPKI for the MX name, with MTA-STS enforced).

mod connection;
mod deliver;
mod outcome;
mod plan;
mod reply;
mod setup;
mod tls;
mod transaction;
mod wire;

pub use connection::{ClientOptions, ConnectFailure, SmtpAuth, SmtpConnection};
pub use deliver::Deliverer;
pub use outcome::{
    AttemptEvidence, DaneEvidence, Disposition, FailureReason, MessageReport, OutboundMessage,
    Protection, RecipientOutcome, RecipientReport, SmtpStage, TlsFailure, TlsSession,
};
pub use plan::{DeliveryPlan, PlannedHost, PlannedHostSummary, plan};
pub use reply::Reply;
pub use setup::{DeliveryConfig, SetupError};
pub use tls::{
    CertRequirement, CertificateVerification, DestinationVerifier, TlsSetupError, TrustStore,
    VerificationMethod,
};
pub use transaction::Transaction;
pub use wire::Timeouts;

pub(crate) use connection::{open_plain, server_name, session_of, start_tls};
