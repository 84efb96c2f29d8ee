//! The rules of carepost's audit log, apart from where it is stored.
//!
//! Each organization has one append-only chain of [`AuditRecord`]s. A record carries
//! its sequence number, UTC time, actor, action, the object acted on (by id, never by
//! value: records never hold PHI), outcome, source address and the hash of the record
//! before it; its own hash covers all of that ([`chain`]). Periodic [`Checkpoint`]s sign
//! the head of the chain with an Ed25519 key whose public half can be kept elsewhere.
//! [`ChainVerifier`] walks a chain and names the first record that was edited, deleted,
//! inserted or moved; [`export`] writes records as JSON lines or CSV.
#![forbid(unsafe_code)]

pub mod actions;
mod chain;
mod checkpoint;
pub mod export;
mod model;
mod verify;

pub use chain::{genesis_hash, record_hash};
pub use checkpoint::{Checkpoint, checkpoint_message, key_id};
pub use model::{AuditEvent, AuditRecord, ObjectRef, Outcome};
pub use verify::{ChainVerifier, Problem, VerifyReport};
