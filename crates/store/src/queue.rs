//! The queue runner's side of the delivery queue: finding and claiming due recipients,
//! opening a message for delivery, and recording the outcome of each attempt.
//!
//! A runner claims a due recipient by writing its node name into `claimed_by` and moving
//! `next_attempt_at` past a lease. If the node dies mid-attempt the claim lapses and the
//! recipient becomes due again (at-least-once delivery); a restarted node releases its
//! own claims at once with [`Store::release_claims`].

use std::time::Duration;

use carepost_audit::{AuditEvent, ObjectRef, actions};
use carepost_core::{
    AccessContext, DeliveryState, MessageId, MessageSource, OrgId, Phi, Protection,
};
use carepost_crypto::FieldContext;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::backend::{read, write};
use crate::dialect::pick;
use crate::messages::{Envelope, parse_protection, parse_source, time};
use crate::{OrgScope, Result, Store, StoreError, now_us};

const EVENTS: &str = "delivery_events";

/// A recipient claimed for an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DueRecipient {
    /// The message.
    pub message_id: MessageId,
    /// The recipient's position in the envelope.
    pub idx: u32,
    /// Attempts made before this one.
    pub attempts: u32,
}

/// A message opened for delivery.
#[derive(Debug, Clone)]
pub struct QueuedMessage {
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
    /// Sender and recipients.
    pub envelope: Envelope,
    /// The message as accepted.
    pub content: Phi<Vec<u8>>,
    /// When it was accepted.
    pub created_at: DateTime<Utc>,
    /// When delivery stops being tried.
    /// When it entered the queue: its acceptance, or its release from quarantine. Waits
    /// (TLS fallback, delay notice) count from here.
    pub queued_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// The outcome of one attempt to one recipient.
#[derive(Debug, Clone)]
pub struct AttemptRecord {
    /// The recipient's position in the envelope.
    pub idx: u32,
    /// The state the attempt leads to.
    pub state: DeliveryState,
    /// For `deferred`: when to try again.
    pub retry_at: Option<DateTime<Utc>>,
    /// The full evidence as a JSON object (PHI: it names the recipient and quotes the
    /// server).
    pub evidence: Phi<String>,
    /// What the audit record says: host, TLS version, verification, reply code. No
    /// addresses and no content.
    pub audit_detail: serde_json::Value,
}

impl Store {
    /// Organizations with recipients due now (not organization data: ids only).
    pub async fn orgs_with_due_recipients(&self) -> Result<Vec<OrgId>> {
        let now = now_us();
        let ids: Vec<Uuid> = read!(self, |conn| {
            Ok(sqlx::query_scalar(
                "SELECT DISTINCT org_id FROM message_recipients \
                 WHERE state IN ('queued', 'deferred') AND next_attempt_at <= $1",
            )
            .bind(now)
            .fetch_all(&mut *conn)
            .await?)
        })?;
        Ok(ids.into_iter().map(OrgId::from_uuid).collect())
    }

    /// When the earliest queued or deferred recipient falls due, if any.
    pub async fn next_due_at(&self) -> Result<Option<DateTime<Utc>>> {
        let next: Option<i64> = read!(self, |conn| {
            Ok(sqlx::query_scalar(
                "SELECT MIN(next_attempt_at) FROM message_recipients \
                 WHERE state IN ('queued', 'deferred')",
            )
            .fetch_one(&mut *conn)
            .await?)
        })?;
        Ok(next.map(time))
    }

    /// Makes every recipient claimed by `node` due at once (after a restart of that node).
    pub async fn release_claims(&self, node: &str) -> Result<u64> {
        let (node, now) = (node.to_owned(), now_us());
        write!(self, |conn| {
            Ok(sqlx::query(
                "UPDATE message_recipients SET claimed_by = NULL, next_attempt_at = $1 \
                 WHERE claimed_by = $2 AND state IN ('queued', 'deferred')",
            )
            .bind(now)
            .bind(node)
            .execute(&mut *conn)
            .await?
            .rows_affected())
        })
    }
}

impl OrgScope {
    /// Claims up to `limit` due recipients for `node`, for `lease`. On PostgreSQL, rows
    /// another node is claiming at the same moment are skipped, never taken twice.
    pub async fn claim_due(
        &self,
        node: &str,
        lease: Duration,
        limit: i64,
    ) -> Result<Vec<DueRecipient>> {
        let (org, node, now) = (self.org_id().as_uuid(), node.to_owned(), now_us());
        let until = now.saturating_add(i64::try_from(lease.as_micros()).unwrap_or(i64::MAX));
        let rows: Vec<(Uuid, i64, i64)> = write!(self, |conn| {
            let sql = pick(
                &*conn,
                "UPDATE message_recipients SET claimed_by = $1, next_attempt_at = $2 \
                 WHERE (message_id, idx) IN (SELECT message_id, idx FROM message_recipients \
                 WHERE org_id = $3 AND state IN ('queued', 'deferred') AND next_attempt_at <= $4 \
                 ORDER BY next_attempt_at LIMIT $5) RETURNING message_id, idx, attempts",
                "UPDATE message_recipients SET claimed_by = $1, next_attempt_at = $2 \
                 WHERE (message_id, idx) IN (SELECT message_id, idx FROM message_recipients \
                 WHERE org_id = $3 AND state IN ('queued', 'deferred') AND next_attempt_at <= $4 \
                 ORDER BY next_attempt_at LIMIT $5 FOR UPDATE SKIP LOCKED) \
                 RETURNING message_id, idx, attempts",
            );
            Ok(sqlx::query_as(sql)
                .bind(node)
                .bind(until)
                .bind(org)
                .bind(now)
                .bind(limit)
                .fetch_all(&mut *conn)
                .await?)
        })?;
        rows.into_iter()
            .map(|(id, idx, attempts)| {
                Ok(DueRecipient {
                    message_id: MessageId::from_uuid(id),
                    idx: u32::try_from(idx)
                        .map_err(|_| StoreError::Corrupt(format!("recipient index {idx}")))?,
                    attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
                })
            })
            .collect()
    }

    /// Opens a message for delivery (by carepost itself; the attempts it leads to are
    /// audited by [`OrgScope::record_attempts`]).
    pub async fn queued_message(&self, id: MessageId) -> Result<Option<QueuedMessage>> {
        let (org, uid) = (self.org_id().as_uuid(), id.as_uuid());
        type Row = (
            String,
            String,
            String,
            bool,
            Vec<u8>,
            Vec<u8>,
            i64,
            i64,
            i64,
        );
        let row: Option<Row> = read!(self, |conn| {
            Ok(sqlx::query_as(
                "SELECT source, submitter, protection, requiretls, envelope, content, created_at, \
                 expires_at, COALESCE((SELECT q.resolved_at FROM quarantine q \
                 WHERE q.message_id = messages.id AND q.resolution = 'released'), created_at) \
                 FROM messages WHERE org_id = $1 AND id = $2",
            )
            .bind(org)
            .bind(uid)
            .fetch_optional(&mut *conn)
            .await?)
        })?;
        let Some((
            source,
            submitter,
            protection,
            requiretls,
            envelope,
            content,
            created,
            expires,
            queued,
        )) = row
        else {
            return Ok(None);
        };
        let row_id = id.to_string();
        let content = self
            .open_field(
                &FieldContext {
                    table: crate::messages::TABLE,
                    column: "content",
                    row: &row_id,
                },
                &content,
            )
            .await?;
        Ok(Some(QueuedMessage {
            id,
            source: parse_source(id, &source)?,
            submitter,
            protection: parse_protection(id, &protection)?,
            requiretls,
            envelope: self.open_envelope(id, &envelope).await?,
            content: Phi::new(content.to_vec()),
            created_at: time(created),
            queued_at: time(queued),
            expires_at: time(expires),
        }))
    }

    pub(crate) async fn open_evidence(&self, event: Uuid, sealed: &[u8]) -> Result<Phi<String>> {
        let row = event.to_string();
        let plain = self
            .open_field(
                &FieldContext {
                    table: EVENTS,
                    column: "evidence",
                    row: &row,
                },
                sealed,
            )
            .await?;
        String::from_utf8(plain.to_vec())
            .map(Phi::new)
            .map_err(|_| {
                StoreError::Corrupt(format!("delivery event {row}: evidence is not UTF-8"))
            })
    }

    /// Records attempts on one message's recipients: an audit record per attempt (no
    /// addresses, no content), then the sealed evidence and the new states in one
    /// transaction. A recipient already in a final state keeps it.
    pub async fn record_attempts(
        &self,
        by: &AccessContext,
        message: MessageId,
        attempts: Vec<AttemptRecord>,
    ) -> Result<()> {
        for a in &attempts {
            let mut detail = a.audit_detail.clone();
            if let Some(obj) = detail.as_object_mut() {
                obj.insert("recipient".into(), a.idx.into());
                obj.insert("state".into(), a.state.as_str().into());
            }
            self.audit(
                AuditEvent::new(
                    by.actor.clone(),
                    actions::MESSAGE_DELIVERY,
                    ObjectRef::new("message", message),
                )
                .source(by.source)
                .detail(detail),
            )
            .await?;
        }
        let ring = self.keyring();
        let (org, uid, now) = (self.org_id().as_uuid(), message.as_uuid(), now_us());
        let key_version = i64::from(ring.active_version());
        let mut rows = Vec::with_capacity(attempts.len());
        for a in attempts {
            let event = Uuid::now_v7();
            let row = event.to_string();
            let json = a.evidence.expose().as_bytes();
            let sealed = ring.seal(
                &FieldContext {
                    table: EVENTS,
                    column: "evidence",
                    row: &row,
                },
                json,
            )?;
            let next = a.retry_at.map_or(now, |t| t.timestamp_micros());
            rows.push((event, i64::from(a.idx), a.state.as_str(), next, sealed));
        }
        write!(self, |conn| {
            for (event, idx, state, next, sealed) in rows {
                let sql = pick(
                    &*conn,
                    "INSERT INTO delivery_events (id, org_id, message_id, idx, state, key_version, \
                     evidence, at) SELECT $1, $2, $3, $4, $5, $6, $7, $8 WHERE EXISTS (SELECT 1 \
                     FROM data_keys WHERE org_id = $2 AND version = $6 AND state <> 'retired')",
                    "INSERT INTO delivery_events (id, org_id, message_id, idx, state, key_version, \
                     evidence, at) SELECT $1, $2, $3, $4, $5, $6, $7, $8 WHERE EXISTS (SELECT 1 \
                     FROM data_keys WHERE org_id = $2 AND version = $6 AND state <> 'retired' \
                     FOR SHARE)",
                );
                let written = sqlx::query(sql)
                    .bind(event)
                    .bind(org)
                    .bind(uid)
                    .bind(idx)
                    .bind(state)
                    .bind(key_version)
                    .bind(sealed)
                    .bind(now)
                    .execute(&mut *conn)
                    .await?
                    .rows_affected();
                if written == 0 {
                    return Err(StoreError::KeyState(
                        "the data key this evidence was sealed with was retired; retry".into(),
                    ));
                }
                sqlx::query(
                    "UPDATE message_recipients SET state = $1, attempts = attempts + 1, \
                     next_attempt_at = $2, claimed_by = NULL, updated_at = $3 \
                     WHERE org_id = $4 AND message_id = $5 AND idx = $6 \
                     AND state IN ('queued', 'deferred')",
                )
                .bind(state)
                .bind(next)
                .bind(now)
                .bind(org)
                .bind(uid)
                .bind(idx)
                .execute(&mut *conn)
                .await?;
            }
            Ok(())
        })
    }
}
