//! One file per command.

pub mod apikey;
pub mod audit;
pub mod bench;
pub mod dlp;
pub mod init;
pub mod keys;
pub mod serve;
