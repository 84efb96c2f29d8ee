//! The delivery engine against a real store (SQLite and PostgreSQL) and a real SMTP peer
//! on loopback.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod policy;
mod runner;
