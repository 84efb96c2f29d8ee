//! PHI detection and protection policy for carepost.
//!
//! - [`Scanner`] finds protected health information in text: validated identifiers (SSN,
//!   MBI, NPI, DEA, payment cards), contact details, dates in birth or care context,
//!   ICD-10-CM codes, drug and diagnosis terms, and the organization's patients' names
//!   ([`PatientNameIndex`]). Findings hold offsets, never values.
//! - [`decision::assess`] answers the message-level question "does this message need
//!   protection?".
//! - [`mime::walk`] extracts the scannable text of a raw RFC 5322 message, attachments
//!   included, with limits against bombs and garbage.
//! - [`rules`] turns findings and message facts into a protection decision.
//! - [`api`] holds the scan endpoint and JSON-lines shapes; [`eval`] and [`bench`](mod@bench) measure
//!   quality and speed.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod api;
pub mod bench;
pub mod config;
pub mod decision;
pub mod detect;
pub mod error;
pub mod eval;
pub mod lexicon;
pub mod message;
pub mod mime;
pub mod names;
pub mod rules;
pub mod scanner;
mod table;
mod text;
pub mod types;

pub use decision::{Assessment, assess};
pub use error::PolicyError;
pub use names::PatientNameIndex;
pub use scanner::{
    OrgContacts, OrgIdentifier, OrgIdentifierType, ScanResult, Scanner, ScannerConfig,
};
pub use types::{Finding, PhiType, Span};
