//! What happened to each recipient, why, and the evidence of how it was protected.
//! Everything here serializes to JSON for storage; none of it holds message content.

use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::reply::Reply;
use super::tls::CertificateVerification;
use crate::dns::DnssecStatus;
use crate::mta_sts::ActivePolicy;

/// The transport protection a message requires. Both demand TLS 1.2+ with a verified
/// certificate; they differ only in what the queue does when that is impossible.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Protection {
    /// Defer, then hand over to the fallback (secure portal) after a configured wait.
    #[default]
    TlsVerified,
    /// Bounce at once when verified TLS is impossible.
    TlsExclusive,
}

/// One message to deliver to one destination domain.
#[derive(Clone)]
pub struct OutboundMessage {
    /// Caller's opaque id (queue id), used in logs and reports.
    pub id: String,
    /// Envelope sender (empty for bounces).
    pub from: String,
    /// Envelope recipients, all in the destination domain.
    pub recipients: Vec<String>,
    /// The RFC 5322 message (already DKIM-signed). Bare LF is sent as CRLF.
    pub content: Arc<[u8]>,
    /// Required protection.
    pub protection: Protection,
}

impl fmt::Debug for OutboundMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Content (PHI) and addresses stay out of debug output.
        f.debug_struct("OutboundMessage")
            .field("id", &self.id)
            .field("recipients", &self.recipients.len())
            .field("size", &self.content.len())
            .field("protection", &self.protection)
            .finish()
    }
}

/// The SMTP step at which something happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SmtpStage {
    /// TCP connection.
    Connect,
    /// The server's 220 greeting.
    Greeting,
    /// EHLO.
    Ehlo,
    /// STARTTLS command.
    StartTls,
    /// TLS handshake.
    TlsHandshake,
    /// MAIL FROM.
    MailFrom,
    /// RCPT TO.
    RcptTo,
    /// DATA command.
    Data,
    /// End of message data (the final dot).
    DataEnd,
    /// RSET between transactions.
    Reset,
    /// AUTH to a relay (smarthost).
    Auth,
}

/// Why verified TLS could not be established with an MX host. The message was NOT sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TlsFailure {
    /// The server did not offer STARTTLS (or it was stripped on the way).
    StartTlsNotOffered,
    /// The server refused the STARTTLS command.
    StartTlsRejected {
        /// The server's reply.
        reply: Reply,
    },
    /// The server sent data after its STARTTLS reply, before the handshake (a
    /// command-injection attempt or a broken server).
    DataBeforeHandshake,
    /// The TLS handshake failed for a reason other than the certificate.
    Handshake {
        /// The TLS error.
        detail: String,
    },
    /// The certificate did not verify.
    CertificateRefused {
        /// How it was checked and why it failed.
        verification: CertificateVerification,
    },
    /// The domain's MTA-STS policy (enforce) does not list this MX host.
    MtaStsMxNotListed {
        /// The MX host.
        mx_host: String,
        /// The policy id.
        policy_id: String,
    },
    /// DNSSEC validation of MX or TLSA data failed; the data may be forged.
    DnssecBogus {
        /// The name whose answer was bogus.
        name: String,
    },
    /// The TLSA lookup failed for a DNSSEC-signed MX host, so the DANE requirement is
    /// unknown (RFC 7672 §2.2: defer).
    TlsaLookupFailed {
        /// The resolver's error.
        detail: String,
    },
}

impl fmt::Display for TlsFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::StartTlsNotOffered => f.write_str("the server did not offer STARTTLS"),
            Self::StartTlsRejected { reply } => write!(f, "the server refused STARTTLS: {reply}"),
            Self::DataBeforeHandshake => {
                f.write_str("the server sent data before the TLS handshake")
            }
            Self::Handshake { detail } => write!(f, "TLS handshake failed: {detail}"),
            Self::CertificateRefused { verification } => write!(
                f,
                "certificate refused ({:?}): {}",
                verification.method,
                verification.error.as_deref().unwrap_or("unknown")
            ),
            Self::MtaStsMxNotListed { mx_host, policy_id } => {
                write!(
                    f,
                    "MX host {mx_host} is not listed in the MTA-STS policy {policy_id}"
                )
            }
            Self::DnssecBogus { name } => write!(f, "DNSSEC validation failed for {name}"),
            Self::TlsaLookupFailed { detail } => write!(f, "TLSA lookup failed: {detail}"),
        }
    }
}

/// Why a recipient was not delivered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FailureReason {
    /// Verified TLS was impossible; nothing was sent.
    TlsRequirementUnmet {
        /// The MX host concerned.
        mx_host: String,
        /// What failed.
        failure: TlsFailure,
    },
    /// The server rejected a command.
    Rejected {
        /// The stage.
        stage: SmtpStage,
        /// The server's reply.
        reply: Reply,
    },
    /// Connection failure, timeout or unexpected close.
    Network {
        /// The stage.
        stage: SmtpStage,
        /// What happened.
        detail: String,
    },
    /// The server spoke something that is not SMTP.
    Protocol {
        /// The stage.
        stage: SmtpStage,
        /// What was wrong.
        detail: String,
    },
    /// DNS could not name a mail exchanger (or named none: null MX).
    Dns {
        /// What failed.
        detail: String,
    },
    /// The message or an address cannot be sent as is (size, SMTPUTF8, bad address).
    Unsendable {
        /// What is wrong.
        detail: String,
    },
}

impl FailureReason {
    /// A summary safe for logs: server reply texts (which may quote addresses) are left
    /// out, codes are kept.
    pub fn log_summary(&self) -> String {
        match self {
            Self::Rejected { stage, reply } => {
                let enhanced = reply.enhanced_code.as_deref().unwrap_or("-");
                format!("rejected at {stage:?}: {} {enhanced}", reply.code)
            }
            Self::TlsRequirementUnmet {
                failure: TlsFailure::StartTlsRejected { reply },
                mx_host,
            } => {
                format!(
                    "verified TLS with {mx_host} impossible: STARTTLS refused with {}",
                    reply.code
                )
            }
            other => other.to_string(),
        }
    }
}

impl fmt::Display for FailureReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TlsRequirementUnmet { mx_host, failure } => {
                write!(f, "verified TLS with {mx_host} impossible: {failure}")
            }
            Self::Rejected { stage, reply } => write!(f, "rejected at {stage:?}: {reply}"),
            Self::Network { stage, detail } => write!(f, "network failure at {stage:?}: {detail}"),
            Self::Protocol { stage, detail } => write!(f, "protocol error at {stage:?}: {detail}"),
            Self::Dns { detail } => write!(f, "DNS: {detail}"),
            Self::Unsendable { detail } => write!(f, "cannot send: {detail}"),
        }
    }
}

/// The result for one recipient (of one attempt, or final).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum RecipientOutcome {
    /// The server accepted responsibility (2xx after DATA).
    Delivered {
        /// The server's reply to the end of data.
        reply: Reply,
    },
    /// Retry later (4xx, network, TLS requirement unmet, DNS trouble).
    TemporaryFailure {
        /// Why.
        reason: FailureReason,
    },
    /// Do not retry (5xx, null MX, non-existent domain).
    PermanentFailure {
        /// Why.
        reason: FailureReason,
    },
}

/// What the queue should do with a recipient after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Disposition {
    /// Done.
    Delivered,
    /// Keep it queued and retry on the schedule.
    Retry,
    /// Bounce to the sender now.
    Bounce,
}

impl RecipientOutcome {
    /// Whether the recipient was delivered.
    pub fn is_delivered(&self) -> bool {
        matches!(self, Self::Delivered { .. })
    }

    /// Whether this failure happened because verified TLS was impossible.
    pub fn is_tls_requirement_unmet(&self) -> bool {
        matches!(
            self,
            Self::TemporaryFailure {
                reason: FailureReason::TlsRequirementUnmet { .. }
            } | Self::PermanentFailure {
                reason: FailureReason::TlsRequirementUnmet { .. }
            }
        )
    }

    /// The queue's next step under `protection`: `tls-exclusive` bounces at once when
    /// verified TLS was impossible; `tls-verified` retries (and later falls back).
    pub fn disposition(&self, protection: Protection) -> Disposition {
        match self {
            Self::Delivered { .. } => Disposition::Delivered,
            Self::PermanentFailure { .. } => Disposition::Bounce,
            Self::TemporaryFailure { .. }
                if protection == Protection::TlsExclusive && self.is_tls_requirement_unmet() =>
            {
                Disposition::Bounce
            }
            Self::TemporaryFailure { .. } => Disposition::Retry,
        }
    }

    /// The outcome for a server reply at `stage` (2xx means delivered only at `DataEnd`).
    pub(crate) fn from_reply(stage: SmtpStage, reply: &Reply) -> RecipientOutcome {
        let reason = FailureReason::Rejected {
            stage,
            reply: reply.clone(),
        };
        if reply.is_permanent() {
            RecipientOutcome::PermanentFailure { reason }
        } else if reply.is_positive() && stage == SmtpStage::DataEnd {
            RecipientOutcome::Delivered {
                reply: reply.clone(),
            }
        } else {
            RecipientOutcome::TemporaryFailure { reason }
        }
    }
}

/// The negotiated TLS session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TlsSession {
    /// `TLSv1.3` or `TLSv1.2`.
    pub version: String,
    /// IANA-style cipher suite name, e.g. `TLS13_AES_256_GCM_SHA384`.
    pub cipher_suite: String,
}

/// DANE facts about an MX host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DaneEvidence {
    /// DNSSEC status of the TLSA answer.
    pub dnssec: DnssecStatus,
    /// Number of TLSA records found.
    pub records: usize,
    /// Number usable for SMTP (DANE-TA / DANE-EE with known selector and matching).
    pub usable_records: usize,
    /// Whether DANE decided the certificate check.
    pub applied: bool,
}

/// Evidence of one delivery attempt for one recipient: where, how protected, what reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttemptEvidence {
    /// The recipient.
    pub recipient: String,
    /// The MX host name (certificates were checked against it).
    pub mx_host: String,
    /// The IP address connected to, if a connection was made.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub ip: Option<IpAddr>,
    /// The port connected to.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub port: Option<u16>,
    /// The TLS session, if the handshake completed.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub tls: Option<TlsSession>,
    /// How the certificate was verified and the result.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub certificate: Option<CertificateVerification>,
    /// The MTA-STS policy that applied.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub mta_sts: Option<ActivePolicy>,
    /// DANE facts.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub dane: Option<DaneEvidence>,
    /// What happened for this recipient in this attempt.
    pub outcome: RecipientOutcome,
}

/// The final result for one recipient of a batch, with every attempt made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecipientReport {
    /// The recipient.
    pub recipient: String,
    /// The final outcome of this delivery run.
    pub outcome: RecipientOutcome,
    /// Evidence for each attempt (one per MX host or address tried).
    pub attempts: Vec<AttemptEvidence>,
}

/// The results for one message of a batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageReport {
    /// The caller's message id.
    pub id: String,
    /// The protection that applied.
    pub protection: Protection,
    /// One entry per recipient, in the order given.
    pub recipients: Vec<RecipientReport>,
}
