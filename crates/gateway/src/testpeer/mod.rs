//! A real SMTP server on loopback for tests (feature `testpeer`).
//!
//! It can offer or withhold STARTTLS, present certificates from a [`TestCa`] (valid,
//! wrong name, expired) or self-signed, answer 4xx/5xx at MAIL, RCPT, DATA or after the
//! data, close the connection in the middle of the data, and wait before each reply. It
//! records every message it accepted with its envelope and TLS version.
//!
//! [`SubmissionClient`] is the other side for benchmarks and crash tests: a pipelining
//! submission client over implicit TLS.
//!
//! Commands are parsed with smtp-proto. Never use it outside tests: it accepts any
//! envelope and keeps messages in memory.

#![allow(clippy::panic)]

mod certs;
mod client;
mod server;
mod stream;

pub use certs::{ServerIdentity, TestCa, self_signed};
pub use client::{SubmissionClient, client_tls_trusting};
pub use server::{PeerConfig, PeerStage, ReceivedMessage, Rejection, TestPeer};
