//! Integration tests of outbound delivery against a real SMTP peer on loopback.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod dane;
mod delivery;
mod dkim;
mod mta_sts;
mod replies;
mod support;
mod tls_check;
