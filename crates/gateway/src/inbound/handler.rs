//! What the embedder provides: credential checks and durable acceptance of messages.

use std::fmt;
use std::future::Future;
use std::net::SocketAddr;

/// The embedder's side of the submission server.
///
/// The trait uses `impl Future` returns, so it is not dyn-compatible: the server is generic
/// over its handler (`SubmissionServer<H>`). An embedder that needs dynamic dispatch can
/// wrap a boxed object in a small struct that implements this trait.
///
/// The server puts no time limit on these futures (the client waits for the reply): bound
/// them in the embedder. They may be dropped before they complete (shutdown grace elapsed).
/// A dropped `accept` never leads to a `250`, so the client retries: an embedder that had
/// already committed sees the message twice, never zero times.
pub trait SubmissionHandler: Send + Sync + 'static {
    /// Checks a credential received with AUTH PLAIN or AUTH LOGIN (always over TLS).
    ///
    /// `Ok(None)` means wrong username or password (`535 5.7.8`, counted towards
    /// [`SubmissionLimits::max_auth_failures`](super::SubmissionLimits::max_auth_failures)).
    /// [`HandlerError::Temporary`] gives `454 4.7.0`; [`HandlerError::Permanent`] (for
    /// example a disabled credential) gives the same `535 5.7.8` as a wrong password, so
    /// that the reply does not reveal which usernames exist.
    fn authenticate(
        &self,
        username: &str,
        password: &str,
    ) -> impl Future<Output = Result<Option<Submitter>, HandlerError>> + Send;

    /// Commits the message durably (encrypted) and returns only once it is kept.
    ///
    /// The returned id is echoed in the `250 2.0.0` reply (control characters removed, at
    /// most 64 characters). [`HandlerError::Temporary`] gives `451 4.3.0` with a fixed text;
    /// [`HandlerError::Permanent`] gives `550 5.7.1` followed by its reason.
    fn accept(
        &self,
        message: SubmittedMessage,
    ) -> impl Future<Output = Result<String, HandlerError>> + Send;
}

/// Why the embedder did not authenticate or accept.
///
/// The reason texts must not contain PHI: a permanent reason is sent to the client in the
/// `550 5.7.1` reply, and both are logged. Control characters are removed and the reply text
/// is cut at 200 characters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HandlerError {
    /// Try again later (storage unavailable, overload). Logged, not sent to the client.
    #[error("temporary failure: {0}")]
    Temporary(String),
    /// Refused for good (for example a policy block); the reason is sent to the client.
    #[error("permanent failure: {0}")]
    Permanent(String),
}

/// The owner of a credential, as the embedder describes it after [`authenticate`].
///
/// Its `Debug` shows the id and the number of allowed domains only.
///
/// [`authenticate`]: SubmissionHandler::authenticate
#[derive(Clone, PartialEq, Eq)]
pub struct Submitter {
    /// Display name of the credential (for the embedder's own records).
    pub name: String,
    /// Domains allowed in MAIL FROM and in the header `From:`; exact, case-insensitive
    /// matches (a subdomain must be listed itself).
    pub allowed_from_domains: Vec<String>,
    /// The embedder's opaque id of the credential; logged at info level.
    pub id: String,
}

impl fmt::Debug for Submitter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Submitter")
            .field("id", &self.id)
            .field("allowed_from_domains", &self.allowed_from_domains.len())
            .finish_non_exhaustive()
    }
}

/// The TLS session a message arrived over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsInfo {
    /// `TLSv1.3` or `TLSv1.2`.
    pub version: String,
    /// IANA-style cipher suite name, e.g. `TLS13_AES_256_GCM_SHA384`.
    pub cipher_suite: String,
}

impl TlsInfo {
    /// A description of a TLS session (the driver reads it from rustls; tests and fuzzing
    /// make one up).
    pub fn new(version: &str, cipher_suite: &str) -> TlsInfo {
        TlsInfo {
            version: version.to_owned(),
            cipher_suite: cipher_suite.to_owned(),
        }
    }
}

/// A message whose submission completed, handed to [`SubmissionHandler::accept`].
///
/// Its `Debug` shows counts and sizes only: addresses and content are PHI.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SubmittedMessage {
    /// Who submitted it.
    pub submitter: Submitter,
    /// The session id (also in the logs and the `Received:` header).
    pub session_id: String,
    /// The client's address.
    pub peer: SocketAddr,
    /// Envelope sender; its domain is one of the submitter's allowed domains.
    pub mail_from: String,
    /// Envelope recipients, in the order given, at least one.
    pub recipients: Vec<String>,
    /// The client asked for REQUIRETLS (RFC 8689): the message must only travel onwards
    /// over verified TLS.
    pub requiretls: bool,
    /// The client declared SMTPUTF8 (RFC 6531): addresses or headers may be UTF-8.
    pub smtputf8: bool,
    /// The message: a `Received:` header added by this server, then the content as
    /// received (dot-unstuffed), every line ending in CRLF.
    pub data: Vec<u8>,
    /// The TLS session it arrived over.
    pub tls: TlsInfo,
}

impl fmt::Debug for SubmittedMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SubmittedMessage")
            .field("submitter", &self.submitter)
            .field("session_id", &self.session_id)
            .field("recipients", &self.recipients.len())
            .field("requiretls", &self.requiretls)
            .field("smtputf8", &self.smtputf8)
            .field("bytes", &self.data.len())
            .field("tls", &self.tls)
            .finish_non_exhaustive()
    }
}
