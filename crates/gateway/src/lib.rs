//! Mail transport for carepost: submission in, verified delivery out.
//!
//! This crate receives messages from an organization's own systems, decides whether a
//! message may leave over a given connection and proves how it left. Nothing here ever
//! accepts a message before TLS and authentication, or sends one in plaintext, after
//! STARTTLS was withheld, or over TLS whose certificate did not verify.
//!
//! - [`inbound`]: the SMTP submission server (implicit TLS and STARTTLS, AUTH after TLS
//!   only, sender domains per credential, `250` only once the embedder kept the message).
//! - [`dns`]: MX, address, TLSA and TXT lookups with DNSSEC status, plus operator routes.
//! - [`mta_sts`]: RFC 8461 policy records, policy files, fetching and caching.
//! - [`dane`]: RFC 6698/7672 TLSA matching for DANE-EE(3) and DANE-TA(2).
//! - [`outbound`]: the certificate verifier and the SMTP client that delivers batches of
//!   messages to one destination domain, returning typed outcomes and delivery evidence.
//! - [`tls_check`]: the report behind `carepost tls check DOMAIN`.
//! - [`domain_check`]: the report behind `carepost domain check DOMAIN` (SPF, DKIM, DMARC,
//!   MTA-STS and TLS-RPT records, and what is missing).
//! - [`dkim`]: DKIM key generation and signing.
//! - `testpeer` (feature `testpeer`): a real SMTP server on loopback for tests.

#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod dane;
pub mod dkim;
pub mod dns;
pub mod domain_check;
pub mod inbound;
pub mod mta_sts;
pub mod outbound;
#[cfg(feature = "testpeer")]
pub mod testpeer;
pub mod tls_check;
