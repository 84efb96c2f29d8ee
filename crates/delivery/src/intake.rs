//! Intake: a message from the API or SMTP becomes a durable, sealed queue entry. When
//! [`Intake`] returns `Ok`, the message is committed and may be acknowledged.

use std::sync::Arc;
use std::time::Duration;

use carepost_core::{AccessContext, Actor, MessageSource, Phi, Protection};
use carepost_store::{Accepted, Envelope, NewMessage, OrgScope, StoreError};
use tokio::sync::Notify;

use crate::compose::{FieldError, SendRequest};

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
}

impl Default for IntakeSettings {
    fn default() -> Self {
        Self {
            max_message_bytes: 25 * 1024 * 1024,
            max_age: Duration::from_secs(5 * 24 * 3600),
            default_protection: Protection::TlsVerified,
        }
    }
}

/// Why a message was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum IntakeError {
    /// A request field is invalid (the API answers 400 naming it).
    #[error(transparent)]
    Field(#[from] FieldError),
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
}

impl Intake {
    /// Intake with `settings`; `wake` is notified after every acceptance.
    pub fn new(settings: IntakeSettings, wake: Arc<Notify>) -> Self {
        Self {
            settings: Arc::new(settings),
            wake,
        }
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
    /// the body field when both are given.
    pub async fn submit_api(
        &self,
        org: &OrgScope,
        by: &AccessContext,
        request: &SendRequest,
        idempotency_key: Option<String>,
    ) -> Result<Accepted, IntakeError> {
        let composed = request.compose(self.settings.max_message_bytes)?;
        let protection = self.protection(request.protection.as_deref())?;
        let message = NewMessage {
            source: MessageSource::Api,
            submitter: by.actor.clone(),
            protection,
            requiretls: false,
            idempotency_key: idempotency_key.or_else(|| request.idempotency_key.clone()),
            tags: composed.tags,
            envelope: Envelope {
                mail_from: Phi::new(composed.mail_from),
                recipients: composed.recipients.into_iter().map(Phi::new).collect(),
            },
            content: Phi::new(composed.content),
            max_age: self.settings.max_age,
        };
        let accepted = org.accept_message(by, message).await?;
        self.wake.notify_one();
        Ok(accepted)
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
        let message = NewMessage {
            source: MessageSource::Smtp,
            submitter: Actor::SmtpUser(submission.user),
            protection: self.settings.default_protection,
            requiretls: submission.requiretls,
            idempotency_key: None,
            tags: Vec::new(),
            envelope: Envelope {
                mail_from: Phi::new(submission.mail_from),
                recipients: submission.recipients.into_iter().map(Phi::new).collect(),
            },
            content: Phi::new(submission.content),
            max_age: self.settings.max_age,
        };
        let accepted = org.accept_message(by, message).await?;
        self.wake.notify_one();
        Ok(accepted)
    }
}
