//! Integration tests of the gateway: outbound delivery against a real SMTP peer on loopback,
//! and the submission server against real clients.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod dane;
mod delivery;
mod dkim;
mod domain_check;
mod inbound;
mod mta_sts;
mod replies;
mod support;
mod tls_check;
