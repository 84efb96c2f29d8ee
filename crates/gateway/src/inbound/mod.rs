//! The SMTP submission server (RFC 6409 over RFC 5321) through which an organization's own
//! systems hand messages to carepost.
//!
//! Two listeners: implicit TLS (port 465 style, RFC 8314) and STARTTLS (port 587 style,
//! RFC 3207). On both, nothing is accepted before TLS and authentication:
//!
//! - AUTH PLAIN and AUTH LOGIN are offered and accepted only over TLS; before TLS, AUTH gets
//!   `538 5.7.11`, and MAIL gets `530 5.7.0` until a credential was accepted.
//! - The envelope sender's domain and every address in the single header `From:` must be one
//!   of the credential's allowed domains ([`Submitter::allowed_from_domains`]).
//! - `250` after the data is sent only once [`SubmissionHandler::accept`] returned `Ok`:
//!   acknowledged means kept.
//! - Plaintext that a client pipelined after `STARTTLS` is discarded at the TLS transition,
//!   never executed inside TLS.
//!
//! The protocol lives in a sans-IO state machine, [`Session`], that consumes bytes and yields
//! [`Event`]s; [`SubmissionServer`] drives sessions over tokio and tokio-rustls. Commands are
//! parsed with smtp-proto; message content is checked as it arrives (size, NUL, bare CR/LF,
//! lines over 998 octets) and the header `From:` is parsed with mail-parser.
//!
//! Enhanced status codes (RFC 2034, RFC 3463) are on every 2xx/4xx/5xx reply except the
//! greeting and the replies to EHLO/HELO, as RFC 2034 prescribes. Logs carry the peer IP,
//! the session id, reply codes, counts and sizes, never addresses or content.

mod address;
mod auth;
mod body;
mod config;
mod data;
mod driver;
mod envelope;
mod greeting;
mod handler;
mod headers;
mod limiter;
mod lines;
mod received;
mod reply;
mod server;
mod session;
#[cfg(test)]
mod tests;
pub mod tls;

pub use auth::Credentials;
pub use config::{InvalidHostname, SubmissionConfig, SubmissionLimits};
pub use handler::{HandlerError, SubmissionHandler, SubmittedMessage, Submitter, TlsInfo};
pub use server::SubmissionServer;
pub use session::{Event, Session};
