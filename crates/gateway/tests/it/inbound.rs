//! The SMTP submission server, tested over real sockets: with a scripted client speaking raw
//! SMTP, and with two independent clients (Python's smtplib and swaks).

mod clients;
mod harness;
mod lifecycle;
mod limits;
mod security;
mod transactions;
