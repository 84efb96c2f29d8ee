//! One file per command.

pub mod apikey;
pub mod audit;
pub mod bench;
mod bench_delivery;
pub mod dkim;
pub mod dlp;
pub mod domain;
pub mod init;
pub mod keys;
pub mod serve;
pub mod smtp_user;
pub mod tls;
