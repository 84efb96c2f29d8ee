//! Intake: a message from the API or SMTP becomes a durable, sealed queue entry. When
//! [`Intake`] returns `Ok`, the message is committed and may be acknowledged.

use std::sync::Arc;
use std::time::Duration;

use carepost_audit::{AuditEvent, ObjectRef, actions};
use carepost_core::{AccessContext, Actor, MessageId, MessageSource, Phi, Protection};
use carepost_store::{Accepted, Envelope, Hold, NewMessage, OrgScope, Resolution, StoreError};
use tokio::sync::Notify;

use crate::compose::{FieldError, SendRequest};
use crate::protection_policy::{Outcome, ProtectionPolicy, facts, stronger};

/// Intake limits and defaults (`[delivery]` in the config).
#[derive(Debug, Clone)]
pub struct IntakeSettings {
    /// Largest message accepted, in bytes.
    pub max_message_bytes: usize,
    /// How long delivery is tried.
    pub max_age: Duration,
    /// The protection every message gets unless it asks for another (the policy engine
    /// may only raise it).
    pub default_protection: Protection,
    /// The host name notices to senders are reported from (`delivery.hostname`).
    pub hostname: String,
}

impl Default for IntakeSettings {
    fn default() -> Self {
        Self {
            max_message_bytes: 25 * 1024 * 1024,
            max_age: Duration::from_secs(5 * 24 * 3600),
            default_protection: Protection::TlsVerified,
            hostname: "localhost".into(),
        }
    }
}

/// Why a message was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum IntakeError {
    /// A request field is invalid (the API answers 400 naming it).
    #[error(transparent)]
    Field(#[from] FieldError),
    /// The protection policy refused the message; `reason` is for the sender (it comes
    /// from the rule, never from the message). Nothing was kept but the audit record.
    #[error("refused by the protection policy: {reason}")]
    Blocked {
        /// The rule's explanation.
        reason: String,
        /// The rules that fired.
        rules: Vec<String>,
    },
    /// The store refused or failed (nothing was kept).
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A message submitted over SMTP, already checked by the submission server.
pub struct SmtpSubmission {
    /// The authenticated credential's user name.
    pub user: String,
    /// `MAIL FROM`.
    pub mail_from: String,
    /// `RCPT TO`, in order.
    pub recipients: Vec<String>,
    /// Whether `REQUIRETLS` was given.
    pub requiretls: bool,
    /// The message with carepost's `Received:` header.
    pub content: Vec<u8>,
}

/// Accepts messages into the queue and wakes the runner.
#[derive(Clone)]
pub struct Intake {
    settings: Arc<IntakeSettings>,
    wake: Arc<Notify>,
    policy: Arc<ProtectionPolicy>,
}

/// A message ready for the policy and the store.
struct Candidate {
    source: MessageSource,
    submitter: Actor,
    protection: Protection,
    requiretls: bool,
    idempotency_key: Option<String>,
    tags: Vec<String>,
    mail_from: String,
    recipients: Vec<String>,
    content: Vec<u8>,
}

impl Intake {
    /// Intake with `settings`, screening every message with `policy`; `wake` is notified
    /// after every acceptance.
    pub fn new(settings: IntakeSettings, wake: Arc<Notify>, policy: Arc<ProtectionPolicy>) -> Self {
        Self {
            settings: Arc::new(settings),
            wake,
            policy,
        }
    }

    /// Releases a held message: its recipients are queued now. `false` when it is not
    /// held.
    pub async fn release_held(
        &self,
        org: &OrgScope,
        by: &AccessContext,
        id: MessageId,
    ) -> Result<bool, StoreError> {
        let released = org.resolve_hold(by, id, Resolution::Released).await?;
        if released {
            self.wake.notify_one();
        }
        Ok(released)
    }

    /// Rejects a held message and tells its sender `reason` (the reviewer's words, sent
    /// to the sender: no PHI). `false` when it is not held.
    pub async fn reject_held(
        &self,
        org: &OrgScope,
        by: &AccessContext,
        id: MessageId,
        reason: &str,
    ) -> Result<bool, StoreError> {
        let rejected = crate::quarantine::reject(
            org,
            by,
            id,
            Resolution::Rejected,
            reason,
            &self.settings.hostname,
            self.settings.max_age,
        )
        .await?;
        if rejected {
            self.wake.notify_one();
        }
        Ok(rejected)
    }

    /// The protection policy every message passes.
    pub fn policy(&self) -> &Arc<ProtectionPolicy> {
        &self.policy
    }

    /// The settings.
    pub fn settings(&self) -> &IntakeSettings {
        &self.settings
    }

    fn protection(&self, field: Option<&str>) -> Result<Protection, FieldError> {
        match field {
            None => Ok(self.settings.default_protection),
            Some(p) => Protection::parse(p).ok_or_else(|| FieldError {
                field: "protection".into(),
                reason: "must be tls-verified or tls-exclusive".into(),
            }),
        }
    }

    /// Accepts a message from the HTTP send API. `idempotency_key` (the header) wins over
    /// the body field when both are given. Returns the acceptance, the number of
    /// distinct envelope recipients, and whether the policy held the message for review.
    pub async fn submit_api(
        &self,
        org: &OrgScope,
        by: &AccessContext,
        request: &SendRequest,
        idempotency_key: Option<String>,
    ) -> Result<(Accepted, usize, bool), IntakeError> {
        let composed = request.compose(self.settings.max_message_bytes)?;
        let recipients = composed.recipients.len();
        let candidate = Candidate {
            source: MessageSource::Api,
            submitter: by.actor.clone(),
            protection: self.protection(request.protection.as_deref())?,
            requiretls: false,
            idempotency_key: idempotency_key.or_else(|| request.idempotency_key.clone()),
            tags: composed.tags,
            mail_from: composed.mail_from,
            recipients: composed.recipients,
            content: composed.content,
        };
        let (accepted, held) = self.accept(org, by, candidate).await?;
        Ok((accepted, recipients, held))
    }

    /// Accepts a message from SMTP submission.
    pub async fn submit_smtp(
        &self,
        org: &OrgScope,
        by: &AccessContext,
        submission: SmtpSubmission,
    ) -> Result<Accepted, IntakeError> {
        if submission.content.len() > self.settings.max_message_bytes {
            return Err(
                StoreError::Invalid("the message is larger than the size limit".into()).into(),
            );
        }
        let candidate = Candidate {
            source: MessageSource::Smtp,
            submitter: Actor::SmtpUser(submission.user),
            protection: self.settings.default_protection,
            requiretls: submission.requiretls,
            idempotency_key: None,
            tags: Vec::new(),
            mail_from: submission.mail_from,
            recipients: submission.recipients,
            content: submission.content,
        };
        Ok(self.accept(org, by, candidate).await?.0)
    }

    /// Screens the message, then blocks it (audited, nothing stored), holds it, or
    /// queues it with the stronger of the requested and the required protection.
    async fn accept(
        &self,
        org: &OrgScope,
        by: &AccessContext,
        c: Candidate,
    ) -> Result<(Accepted, bool), IntakeError> {
        let content: Arc<[u8]> = Arc::from(c.content);
        let screened = self
            .policy
            .screen_async(
                org.org_id(),
                content.clone(),
                facts(c.source, &c.mail_from, &c.recipients),
            )
            .await;
        let mut protection = c.protection;
        let mut hold = None;
        match screened.outcome {
            Outcome::Block { reason } => {
                let rules = rules_fired(&screened.record);
                org.audit(
                    AuditEvent::new(
                        by.actor.clone(),
                        actions::MESSAGE_BLOCK,
                        ObjectRef::new("message", MessageId::new()),
                    )
                    .source(by.source)
                    .detail(serde_json::json!({
                        "source": c.source.as_str(),
                        "recipients": c.recipients.len(),
                        "size": content.len(),
                        "policy": screened.record,
                    })),
                )
                .await?;
                self.notify_compliance(org, None, &screened.record).await?;
                return Err(IntakeError::Blocked { reason, rules });
            }
            Outcome::Hold { reason } => {
                hold = Some(Hold {
                    reason,
                    max_age: self.policy.quarantine_max_age,
                });
            }
            Outcome::Deliver {
                protection: required,
            } => {
                protection = stronger(protection, required);
            }
        }
        let message = NewMessage {
            source: c.source,
            submitter: c.submitter,
            protection,
            requiretls: c.requiretls,
            idempotency_key: c.idempotency_key,
            tags: c.tags,
            envelope: Envelope {
                mail_from: Phi::new(c.mail_from),
                recipients: c.recipients.into_iter().map(Phi::new).collect(),
            },
            content: Phi::new(content.to_vec()),
            max_age: self.settings.max_age,
            policy: Some(screened.record),
            hold,
        };
        let held = message.hold.is_some();
        let record = message.policy.clone().unwrap_or_default();
        let accepted = org.accept_message(by, message).await?;
        if let Accepted::New(id) = accepted {
            self.notify_compliance(org, Some(id), &record).await?;
        }
        self.wake.notify_one();
        Ok((accepted, held))
    }

    /// Queues a notice to the compliance contact when a rule asked for one. It names the
    /// rules, the disposition, PHI types and counts and the message id, never content or
    /// addresses.
    async fn notify_compliance(
        &self,
        org: &OrgScope,
        message: Option<MessageId>,
        record: &serde_json::Value,
    ) -> Result<(), IntakeError> {
        let Some(contact) = &self.policy.compliance_contact else {
            return Ok(());
        };
        if record["notify_compliance"] != serde_json::Value::Bool(true) {
            return Ok(());
        }
        let about = message.map_or_else(
            || "none (refused, not kept)".to_owned(),
            |id| id.to_string(),
        );
        let list = |v: &serde_json::Value| match v {
            serde_json::Value::Array(items) => items
                .iter()
                .filter_map(serde_json::Value::as_str)
                .collect::<Vec<_>>()
                .join(", "),
            serde_json::Value::Object(map) => map
                .iter()
                .map(|(k, n)| format!("{k} {n}"))
                .collect::<Vec<_>>()
                .join(", "),
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        // Short lines: the notice stays 7-bit text that any client shows as written.
        let text = format!(
            "A protection rule asked for this notice.\r\n\r\n\
             Message: {about}\r\n\
             Rules: {}\r\n\
             Disposition: {}\r\n\
             Protection: {}\r\n\
             PHI found: {}\r\n\r\n\
             Content and addresses are not in this notice.\r\n\
             An authorized reviewer can look the message up by its id.\r\n",
            list(&record["rules_fired"]),
            list(&record["disposition"]),
            list(&record["protection"]),
            list(&record["phi_counts"]),
        );
        let from = format!("carepost@{}", self.settings.hostname);
        let raw = mail_builder::MessageBuilder::new()
            .from(from.as_str())
            .to(contact.as_str())
            .subject("carepost: a protection rule asked for a compliance notice")
            .header(
                "Auto-Submitted",
                mail_builder::headers::raw::Raw::new("auto-generated"),
            )
            .text_body(text)
            .write_to_vec()
            .unwrap_or_default();
        let notice = NewMessage {
            source: MessageSource::System,
            submitter: Actor::system("dlp"),
            protection: Protection::TlsVerified,
            requiretls: false,
            idempotency_key: message.map(|id| format!("compliance:{id}")),
            tags: vec!["compliance".into()],
            envelope: Envelope {
                mail_from: Phi::new(String::new()),
                recipients: vec![Phi::new(contact.clone())],
            },
            content: Phi::new(raw),
            max_age: self.settings.max_age,
            policy: None,
            hold: None,
        };
        org.accept_message(&AccessContext::system("dlp"), notice)
            .await?;
        Ok(())
    }
}

fn rules_fired(record: &serde_json::Value) -> Vec<String> {
    record["rules_fired"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|r| r.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}
