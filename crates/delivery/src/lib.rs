//! carepost's delivery engine.
//!
//! - [`intake`]: API and SMTP messages become durable, sealed queue entries; `Ok` means
//!   committed, so the caller may acknowledge (201 / 250).
//! - [`compose`]: the HTTP send API's request, validated and built into RFC 5322 text.
//! - [`runner`]: the queue runner that delivers under the required protection (via the
//!   gateway) or captures in the sandbox, records evidence, retries and bounces.
//! - [`protection_policy`]: PHI scanning and the rules' decision for every message.
//! - [`quarantine`]: ending holds (release, reject, expiry) with notices to senders.
//! - [`dsn`]: delivery status notifications to senders.
//! - [`signing`]: DKIM signatures with the organization's stored keys.
//! - [`submission`]: the store-backed handler of the SMTP submission server.
#![forbid(unsafe_code)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod address;
pub mod compose;
pub mod dsn;
pub mod evidence;
pub mod intake;
pub mod pacing;
pub mod protection_policy;
pub mod quarantine;
pub mod runner;
pub mod schedule;
pub mod signing;
pub mod submission;

pub use compose::{FieldError, SendRequest};
pub use intake::{Intake, IntakeError, IntakeSettings, SmtpSubmission};
pub use protection_policy::ProtectionPolicy;
pub use runner::{QueueRunner, RunnerSettings, Transport};
pub use schedule::RetrySchedule;
pub use signing::DkimSigning;
pub use submission::StoreSubmissions;
