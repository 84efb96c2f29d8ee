//! Messages accepted for delivery: the acceptance that makes a message durable (sealed)
//! before carepost acknowledges it, and the status view with per-recipient states and
//! the delivery evidence of every attempt.

use std::time::Duration;

use carepost_audit::{AuditEvent, ObjectRef, actions};
use carepost_core::{
    AccessContext, Actor, DeliveryState, MessageId, MessageSource, Phi, Protection,
};
use carepost_crypto::FieldContext;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::backend::{read, write};
use crate::dialect::pick;
use crate::{OrgScope, Result, StoreError, now_us};

pub(crate) const TABLE: &str = "messages";
/// The most recipients one message may have.
pub const MAX_RECIPIENTS: usize = 1000;

/// Sender and recipients as SMTP sees them (PHI: addresses identify patients).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    /// The return path (`MAIL FROM`); bounces go here. Empty for a bounce itself.
    pub mail_from: Phi<String>,
    /// Every recipient (`RCPT TO`), in order; `idx` in the queue is a position here.
    pub recipients: Vec<Phi<String>>,
}

#[derive(Serialize, Deserialize)]
struct StoredEnvelope {
    from: String,
    to: Vec<String>,
}

impl Envelope {
    fn to_json(&self) -> Result<Vec<u8>> {
        serde_json::to_vec(&StoredEnvelope {
            from: self.mail_from.expose().clone(),
            to: self.recipients.iter().map(|r| r.expose().clone()).collect(),
        })
        .map_err(|e| StoreError::Invalid(format!("envelope: {e}")))
    }

    fn from_json(row: &str, bytes: &[u8]) -> Result<Self> {
        let stored: StoredEnvelope = serde_json::from_slice(bytes)
            .map_err(|_| StoreError::Corrupt(format!("message {row}: envelope is not valid")))?;
        Ok(Self {
            mail_from: Phi::new(stored.from),
            recipients: stored.to.into_iter().map(Phi::new).collect(),
        })
    }
}

/// A message to accept.
#[derive(Debug, Clone)]
pub struct NewMessage {
    /// How it came in.
    pub source: MessageSource,
    /// Who submitted it (an API key or an SMTP credential).
    pub submitter: Actor,
    /// The transport protection it requires.
    pub protection: Protection,
    /// Whether the submitter asked for REQUIRETLS (RFC 8689).
    pub requiretls: bool,
    /// The submitter's idempotency key: a second acceptance with the same key returns
    /// the first message instead of a new one.
    pub idempotency_key: Option<String>,
    /// Labels for reporting (not PHI: letters, digits and `-_.:` only).
    pub tags: Vec<String>,
    /// Sender and recipients.
    pub envelope: Envelope,
    /// The message as RFC 5322 text.
    pub content: Phi<Vec<u8>>,
    /// How long delivery is tried before the message expires.
    pub max_age: Duration,
    /// The protection policy's decision, kept with the message: rule names, PHI types
    /// and counts, the protection required (never PHI values).
    pub policy: Option<serde_json::Value>,
    /// Hold the message in quarantine instead of queueing it.
    pub hold: Option<Hold>,
}

/// Why and how long a message is held for review.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hold {
    /// The reason shown to reviewers (from the rule, never from the message).
    pub reason: String,
    /// How long the hold lasts before the message is rejected by itself.
    pub max_age: Duration,
}

/// The result of an acceptance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accepted {
    /// Stored now.
    New(MessageId),
    /// The idempotency key named a message accepted earlier; nothing was stored.
    Duplicate(MessageId),
}

impl Accepted {
    /// The message's id either way.
    pub fn id(self) -> MessageId {
        match self {
            Self::New(id) | Self::Duplicate(id) => id,
        }
    }
}

/// A message's delivery status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageStatus {
    /// Its id.
    pub id: MessageId,
    /// How it came in.
    pub source: MessageSource,
    /// Who submitted it, as `kind:id`.
    pub submitter: String,
    /// The protection it requires.
    pub protection: Protection,
    /// Whether REQUIRETLS was asked for.
    pub requiretls: bool,
    /// Labels for reporting.
    pub tags: Vec<String>,
    /// Size of the message in bytes.
    pub size: i64,
    /// When it was accepted.
    pub created_at: DateTime<Utc>,
    /// When delivery stops being tried.
    pub expires_at: DateTime<Utc>,
    /// The return path.
    pub mail_from: Phi<String>,
    /// Each recipient with its state and attempts.
    pub recipients: Vec<RecipientStatus>,
    /// The protection policy's decision (rule names, PHI types and counts).
    pub policy: Option<serde_json::Value>,
}

/// One recipient's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecipientStatus {
    /// The address.
    pub address: Phi<String>,
    /// Where delivery stands.
    pub state: DeliveryState,
    /// Attempts made.
    pub attempts: i64,
    /// When the next attempt is due (none once final).
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// When the state last changed.
    pub updated_at: DateTime<Utc>,
    /// Every attempt's evidence, oldest first.
    pub events: Vec<DeliveryEvent>,
}

/// The record of one delivery attempt to one recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryEvent {
    /// The state the attempt led to.
    pub state: DeliveryState,
    /// When it ended.
    pub at: DateTime<Utc>,
    /// The evidence, JSON object text: MX host and IP, TLS version and cipher, how the
    /// certificate was verified and the result, the server's reply.
    pub evidence: Phi<String>,
}

pub(crate) fn time(us: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(us).unwrap_or_default()
}

/// A stored message source, or a `Corrupt` error naming the message.
pub(crate) fn parse_source(id: MessageId, s: &str) -> Result<MessageSource> {
    MessageSource::parse(s)
        .ok_or_else(|| StoreError::Corrupt(format!("message {id}: unknown source")))
}

/// A stored protection, or a `Corrupt` error naming the message.
pub(crate) fn parse_protection(id: MessageId, s: &str) -> Result<Protection> {
    Protection::parse(s)
        .ok_or_else(|| StoreError::Corrupt(format!("message {id}: unknown protection")))
}

pub(crate) fn parse_state(s: &str) -> Result<DeliveryState> {
    DeliveryState::parse(s)
        .ok_or_else(|| StoreError::Corrupt(format!("unknown delivery state '{s}'")))
}

pub(crate) fn actor_text(actor: &Actor) -> String {
    format!("{}:{}", actor.kind(), actor.id())
}

/// The sealed columns of one message.
struct SealedMessage {
    key_version: i64,
    envelope: Vec<u8>,
    content: Vec<u8>,
}

impl NewMessage {
    fn validate(&self) -> Result<()> {
        let n = self.envelope.recipients.len();
        if n == 0 || n > MAX_RECIPIENTS {
            return Err(StoreError::Invalid(format!(
                "a message needs 1 to {MAX_RECIPIENTS} recipients, not {n}"
            )));
        }
        if self.content.expose().is_empty() {
            return Err(StoreError::Invalid("the message is empty".into()));
        }
        if self.tags.iter().any(|t| {
            t.is_empty()
                || t.len() > 64
                || !t
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
        }) {
            return Err(StoreError::Invalid(
                "a tag is 1 to 64 letters, digits, '-', '_', '.' or ':'".into(),
            ));
        }
        if let Some(k) = &self.idempotency_key
            && (k.is_empty() || k.len() > 255)
        {
            return Err(StoreError::Invalid(
                "idempotency_key must be 1 to 255 bytes".into(),
            ));
        }
        Ok(())
    }
}

impl OrgScope {
    fn seal_message(&self, id: MessageId, m: &NewMessage) -> Result<SealedMessage> {
        let ring = self.keyring();
        let row = id.to_string();
        let at = |column| FieldContext {
            table: TABLE,
            column,
            row: &row,
        };
        Ok(SealedMessage {
            key_version: i64::from(ring.active_version()),
            envelope: ring.seal(&at("envelope"), &m.envelope.to_json()?)?,
            content: ring.seal(&at("content"), m.content.expose())?,
        })
    }

    fn idempotency_index(&self, m: &NewMessage) -> Option<Vec<u8>> {
        m.idempotency_key.as_ref().map(|k| {
            let scoped = format!("{}\0{k}", actor_text(&m.submitter));
            self.keyring()
                .blind_index(TABLE, "idempotency_key", scoped.as_bytes())
        })
    }

    async fn message_by_idempotency(&self, index: &[u8]) -> Result<Option<MessageId>> {
        let (org, index) = (self.org_id().as_uuid(), index.to_vec());
        let found: Option<Uuid> = read!(self, |conn| {
            Ok(sqlx::query_scalar(
                "SELECT id FROM messages WHERE org_id = $1 AND idempotency_key = $2",
            )
            .bind(org)
            .bind(index)
            .fetch_optional(&mut *conn)
            .await?)
        })?;
        Ok(found.map(MessageId::from_uuid))
    }

    /// Accepts a message for delivery: audits the acceptance, then commits the sealed
    /// message and one `queued` row per recipient in one transaction. When this returns
    /// `Ok`, the message is durable and may be acknowledged (250 / 201).
    pub async fn accept_message(
        &self,
        by: &AccessContext,
        message: NewMessage,
    ) -> Result<Accepted> {
        message.validate()?;
        if let Some(index) = self.idempotency_index(&message)
            && let Some(existing) = self.message_by_idempotency(&index).await?
        {
            return Ok(Accepted::Duplicate(existing));
        }
        let id = MessageId::new();
        self.audit(
            AuditEvent::new(
                by.actor.clone(),
                actions::MESSAGE_ACCEPT,
                ObjectRef::new("message", id),
            )
            .source(by.source)
            .detail(serde_json::json!({
                "source": message.source.as_str(),
                "recipients": message.envelope.recipients.len(),
                "size": message.content.expose().len(),
                "protection": message.protection.as_str(),
                "requiretls": message.requiretls,
                "policy": message.policy,
                "held": message.hold.is_some(),
            })),
        )
        .await?;
        if let Some(done) = self.insert_message(id, &message).await? {
            return Ok(done);
        }
        // Sealed with a key version that is no longer active (rotated by another process
        // or node): seal again with the current keys.
        let fresh = self.store.org_fresh(self.org_id()).await?;
        if let Some(done) = fresh.insert_message(id, &message).await? {
            return Ok(done);
        }
        Err(StoreError::KeyState(
            "the organization's active data key changed twice during one write; retry".into(),
        ))
    }

    /// Inserts the message if its key version is still active; `None` if it was not.
    async fn insert_message(&self, id: MessageId, m: &NewMessage) -> Result<Option<Accepted>> {
        let sealed = self.seal_message(id, m)?;
        let (org, uid, now) = (self.org_id().as_uuid(), id.as_uuid(), now_us());
        let expires = now.saturating_add(i64::try_from(m.max_age.as_micros()).unwrap_or(i64::MAX));
        let tags = m.tags.join(" ");
        let policy = m.policy.as_ref().map(serde_json::Value::to_string);
        let hold = m.hold.as_ref().map(|h| {
            let until =
                now.saturating_add(i64::try_from(h.max_age.as_micros()).unwrap_or(i64::MAX));
            (h.reason.clone(), until)
        });
        let state = if hold.is_some() { "held" } else { "queued" };
        let (source, submitter, protection, requiretls, index, size, recipients) = (
            m.source.as_str(),
            actor_text(&m.submitter),
            m.protection.as_str(),
            m.requiretls,
            self.idempotency_index(m),
            i64::try_from(m.content.expose().len()).unwrap_or(i64::MAX),
            m.envelope.recipients.len(),
        );
        write!(self, |conn| {
            let sql = pick(
                &*conn,
                "INSERT INTO messages (id, org_id, key_version, source, submitter, protection, \
                 requiretls, idempotency_key, envelope, content, size, created_at, expires_at, tags, \
                 policy) SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15 \
                 WHERE EXISTS (SELECT 1 FROM data_keys WHERE org_id = $2 AND version = $3 \
                 AND state = 'active') ON CONFLICT (org_id, idempotency_key) DO NOTHING",
                "INSERT INTO messages (id, org_id, key_version, source, submitter, protection, \
                 requiretls, idempotency_key, envelope, content, size, created_at, expires_at, tags, \
                 policy) SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15 \
                 WHERE EXISTS (SELECT 1 FROM data_keys WHERE org_id = $2 AND version = $3 \
                 AND state = 'active' FOR SHARE) ON CONFLICT (org_id, idempotency_key) DO NOTHING",
            );
            let inserted = sqlx::query(sql)
                .bind(uid)
                .bind(org)
                .bind(sealed.key_version)
                .bind(source)
                .bind(submitter)
                .bind(protection)
                .bind(requiretls)
                .bind(index.clone())
                .bind(sealed.envelope)
                .bind(sealed.content)
                .bind(size)
                .bind(now)
                .bind(expires)
                .bind(tags)
                .bind(policy.clone())
                .execute(&mut *conn)
                .await?
                .rows_affected();
            if inserted == 0 {
                // Either another acceptance with the same idempotency key won the race,
                // or the key version is no longer active.
                if let Some(index) = index {
                    let existing: Option<Uuid> = sqlx::query_scalar(
                        "SELECT id FROM messages WHERE org_id = $1 AND idempotency_key = $2",
                    )
                    .bind(org)
                    .bind(index)
                    .fetch_optional(&mut *conn)
                    .await?;
                    if let Some(existing) = existing {
                        return Ok(Some(Accepted::Duplicate(MessageId::from_uuid(existing))));
                    }
                }
                return Ok(None);
            }
            for idx in 0..recipients {
                sqlx::query(
                    "INSERT INTO message_recipients (message_id, idx, org_id, state, attempts, \
                     next_attempt_at, updated_at) VALUES ($1, $2, $3, $4, 0, $5, $5)",
                )
                .bind(uid)
                .bind(i64::try_from(idx).unwrap_or(i64::MAX))
                .bind(org)
                .bind(state)
                .bind(now)
                .execute(&mut *conn)
                .await?;
            }
            if let Some((reason, until)) = &hold {
                sqlx::query(
                    "INSERT INTO quarantine (message_id, org_id, reason, held_at, expires_at) \
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(uid)
                .bind(org)
                .bind(reason.clone())
                .bind(now)
                .bind(*until)
                .execute(&mut *conn)
                .await?;
            }
            Ok(Some(Accepted::New(id)))
        })
    }

    /// Opens a message's sealed envelope.
    pub(crate) async fn open_envelope(&self, id: MessageId, sealed: &[u8]) -> Result<Envelope> {
        let row = id.to_string();
        let plain = self
            .open_field(
                &FieldContext {
                    table: TABLE,
                    column: "envelope",
                    row: &row,
                },
                sealed,
            )
            .await?;
        Envelope::from_json(&row, &plain)
    }

    /// A message's status: recipients, states and the evidence of every attempt. The
    /// read is audited before anything is returned.
    pub async fn message_status(
        &self,
        by: &AccessContext,
        id: MessageId,
    ) -> Result<Option<MessageStatus>> {
        self.audit(
            AuditEvent::new(
                by.actor.clone(),
                actions::MESSAGE_READ,
                ObjectRef::new("message", id),
            )
            .source(by.source),
        )
        .await?;
        let (org, uid) = (self.org_id().as_uuid(), id.as_uuid());
        type Head = (
            String,
            String,
            String,
            bool,
            i64,
            i64,
            i64,
            Vec<u8>,
            String,
            Option<String>,
        );
        type Rcpt = (i64, String, i64, i64, i64);
        type Event = (i64, String, i64, Vec<u8>, Uuid);
        let rows: Option<(Head, Vec<Rcpt>, Vec<Event>)> = read!(self, |conn| {
            let head: Option<Head> = sqlx::query_as(
                "SELECT source, submitter, protection, requiretls, size, created_at, expires_at, \
                 envelope, tags, policy FROM messages WHERE org_id = $1 AND id = $2",
            )
            .bind(org)
            .bind(uid)
            .fetch_optional(&mut *conn)
            .await?;
            let Some(head) = head else { return Ok(None) };
            let rcpts: Vec<Rcpt> = sqlx::query_as(
                "SELECT idx, state, attempts, next_attempt_at, updated_at FROM message_recipients \
                 WHERE org_id = $1 AND message_id = $2 ORDER BY idx",
            )
            .bind(org)
            .bind(uid)
            .fetch_all(&mut *conn)
            .await?;
            let events: Vec<Event> = sqlx::query_as(
                "SELECT idx, state, at, evidence, id FROM delivery_events \
                 WHERE org_id = $1 AND message_id = $2 ORDER BY at, id",
            )
            .bind(org)
            .bind(uid)
            .fetch_all(&mut *conn)
            .await?;
            Ok(Some((head, rcpts, events)))
        })?;
        let Some((head, rcpts, events)) = rows else {
            return Ok(None);
        };
        let (
            source,
            submitter,
            protection,
            requiretls,
            size,
            created,
            expires,
            envelope,
            tags,
            policy,
        ) = head;
        let envelope = self.open_envelope(id, &envelope).await?;
        let mut recipients = Vec::with_capacity(rcpts.len());
        for (idx, state, attempts, next, updated) in rcpts {
            let address = usize::try_from(idx)
                .ok()
                .and_then(|i| envelope.recipients.get(i))
                .cloned()
                .ok_or_else(|| {
                    StoreError::Corrupt(format!("message {id}: recipient {idx} missing"))
                })?;
            let state = parse_state(&state)?;
            recipients.push(RecipientStatus {
                address,
                state,
                attempts,
                next_attempt_at: (!state.is_final()).then(|| time(next)),
                updated_at: time(updated),
                events: Vec::new(),
            });
        }
        for (idx, state, at, sealed, event_id) in events {
            let evidence = self.open_evidence(event_id, &sealed).await?;
            if let Some(r) = usize::try_from(idx)
                .ok()
                .and_then(|i| recipients.get_mut(i))
            {
                r.events.push(DeliveryEvent {
                    state: parse_state(&state)?,
                    at: time(at),
                    evidence,
                });
            }
        }
        Ok(Some(MessageStatus {
            id,
            source: parse_source(id, &source)?,
            submitter,
            protection: parse_protection(id, &protection)?,
            requiretls,
            tags: tags.split_whitespace().map(str::to_owned).collect(),
            size,
            created_at: time(created),
            expires_at: time(expires),
            mail_from: envelope.mail_from,
            recipients,
            policy: policy.and_then(|p| serde_json::from_str(&p).ok()),
        }))
    }
}
