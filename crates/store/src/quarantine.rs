//! The quarantine: messages the protection policy holds for review. A held message's
//! recipients stay `held` (never attempted) until a reviewer releases the message (they
//! become `queued`) or rejects it (they become `bounced`, and the delivery engine tells
//! the sender). A hold that is never reviewed is rejected when it expires.

use carepost_audit::{AuditEvent, ObjectRef, actions};
use carepost_core::{AccessContext, MessageId};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::backend::{read, write};
use crate::messages::time;
use crate::{OrgScope, Result, now_us};

/// A message in the quarantine, without its content.
#[derive(Debug, Clone, PartialEq)]
pub struct HeldMessage {
    /// The message.
    pub message_id: MessageId,
    /// Why it is held (the rule's reason, never message content).
    pub reason: String,
    /// The policy decision: rule names, PHI types and counts.
    pub policy: Option<serde_json::Value>,
    /// Size in bytes.
    pub size: i64,
    /// Number of recipients.
    pub recipients: i64,
    /// When it was held.
    pub held_at: DateTime<Utc>,
    /// When the hold ends by itself (the message is then rejected).
    pub expires_at: DateTime<Utc>,
    /// `released`, `rejected` or `expired`, once resolved.
    pub resolution: Option<String>,
    /// When it was resolved.
    pub resolved_at: Option<DateTime<Utc>>,
    /// Who resolved it, as `kind:id`.
    pub resolved_by: Option<String>,
}

/// How a hold ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolution {
    /// Delivered after all.
    Released,
    /// Refused by a reviewer.
    Rejected,
    /// Nobody reviewed it in time.
    Expired,
}

impl Resolution {
    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Released => "released",
            Self::Rejected => "rejected",
            Self::Expired => "expired",
        }
    }
}

type Row = (
    Uuid,
    String,
    Option<String>,
    i64,
    i64,
    i64,
    i64,
    Option<String>,
    Option<i64>,
    Option<String>,
);

const SELECT: &str = "SELECT q.message_id, q.reason, m.policy, m.size, \
     (SELECT COUNT(*) FROM message_recipients r WHERE r.message_id = q.message_id), \
     q.held_at, q.expires_at, q.resolution, q.resolved_at, q.resolved_by \
     FROM quarantine q JOIN messages m ON m.id = q.message_id WHERE q.org_id = $1";

fn held(
    (id, reason, policy, size, recipients, held, expires, resolution, resolved, by): Row,
) -> HeldMessage {
    HeldMessage {
        message_id: MessageId::from_uuid(id),
        reason,
        policy: policy.and_then(|p| serde_json::from_str(&p).ok()),
        size,
        recipients,
        held_at: time(held),
        expires_at: time(expires),
        resolution,
        resolved_at: resolved.map(time),
        resolved_by: by,
    }
}

impl OrgScope {
    /// Held messages, oldest first: open holds only, or every hold with `all`. Audited.
    pub async fn quarantine_list(
        &self,
        by: &AccessContext,
        all: bool,
        limit: i64,
    ) -> Result<Vec<HeldMessage>> {
        self.audit(
            AuditEvent::new(
                by.actor.clone(),
                actions::QUARANTINE_LIST,
                ObjectRef::new("quarantine", "*"),
            )
            .source(by.source)
            .detail(serde_json::json!({ "all": all, "limit": limit })),
        )
        .await?;
        let org = self.org_id().as_uuid();
        let filter = if all {
            ""
        } else {
            " AND q.resolved_at IS NULL"
        };
        let sql = format!("{SELECT}{filter} ORDER BY q.held_at, q.message_id LIMIT $2");
        let rows: Vec<Row> = read!(self, |conn| {
            Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(org)
                .bind(limit)
                .fetch_all(&mut *conn)
                .await?)
        })?;
        Ok(rows.into_iter().map(held).collect())
    }

    /// One hold, audited as a view of the held message (the caller shows its content).
    pub async fn quarantined(
        &self,
        by: &AccessContext,
        id: MessageId,
    ) -> Result<Option<HeldMessage>> {
        self.audit(
            AuditEvent::new(
                by.actor.clone(),
                actions::QUARANTINE_READ,
                ObjectRef::new("message", id),
            )
            .source(by.source),
        )
        .await?;
        let (org, uid) = (self.org_id().as_uuid(), id.as_uuid());
        let sql = format!("{SELECT} AND q.message_id = $2");
        let row: Option<Row> = read!(self, |conn| {
            Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .bind(org)
                .bind(uid)
                .fetch_optional(&mut *conn)
                .await?)
        })?;
        Ok(row.map(held))
    }

    /// Ends an open hold: released recipients become `queued` (due now), rejected or
    /// expired ones `bounced`. Returns `false` when the message is not held (unknown, or
    /// resolved already). Audited.
    pub async fn resolve_hold(
        &self,
        by: &AccessContext,
        id: MessageId,
        resolution: Resolution,
    ) -> Result<bool> {
        let action = match resolution {
            Resolution::Released => actions::QUARANTINE_RELEASE,
            Resolution::Rejected | Resolution::Expired => actions::QUARANTINE_REJECT,
        };
        self.audit(
            AuditEvent::new(by.actor.clone(), action, ObjectRef::new("message", id))
                .source(by.source)
                .detail(serde_json::json!({ "resolution": resolution.as_str() })),
        )
        .await?;
        let (org, uid, now) = (self.org_id().as_uuid(), id.as_uuid(), now_us());
        let who = format!("{}:{}", by.actor.kind(), by.actor.id());
        let state = match resolution {
            Resolution::Released => "queued",
            Resolution::Rejected | Resolution::Expired => "bounced",
        };
        write!(self, |conn| {
            let resolved = sqlx::query(
                "UPDATE quarantine SET resolved_at = $1, resolution = $2, resolved_by = $3 \
                 WHERE org_id = $4 AND message_id = $5 AND resolved_at IS NULL",
            )
            .bind(now)
            .bind(resolution.as_str())
            .bind(who.clone())
            .bind(org)
            .bind(uid)
            .execute(&mut *conn)
            .await?
            .rows_affected();
            if resolved == 0 {
                return Ok(false);
            }
            if resolution == Resolution::Released {
                // The message gets its whole maximum age again from its release.
                sqlx::query(
                    "UPDATE messages SET expires_at = $1 + (expires_at - created_at) \
                     WHERE org_id = $2 AND id = $3",
                )
                .bind(now)
                .bind(org)
                .bind(uid)
                .execute(&mut *conn)
                .await?;
            }
            sqlx::query(
                "UPDATE message_recipients SET state = $1, next_attempt_at = $2, updated_at = $2 \
                 WHERE org_id = $3 AND message_id = $4 AND state = 'held'",
            )
            .bind(state)
            .bind(now)
            .bind(org)
            .bind(uid)
            .execute(&mut *conn)
            .await?;
            Ok(true)
        })
    }

    /// Open holds whose time is up.
    pub async fn expired_holds(&self, limit: i64) -> Result<Vec<MessageId>> {
        let (org, now) = (self.org_id().as_uuid(), now_us());
        let ids: Vec<Uuid> = read!(self, |conn| {
            Ok(sqlx::query_scalar(
                "SELECT message_id FROM quarantine WHERE org_id = $1 AND resolved_at IS NULL \
                 AND expires_at <= $2 ORDER BY expires_at LIMIT $3",
            )
            .bind(org)
            .bind(now)
            .bind(limit)
            .fetch_all(&mut *conn)
            .await?)
        })?;
        Ok(ids.into_iter().map(MessageId::from_uuid).collect())
    }
}

impl crate::Store {
    /// Organizations with an expired open hold (ids only).
    pub async fn orgs_with_expired_holds(&self) -> Result<Vec<carepost_core::OrgId>> {
        let now = now_us();
        let ids: Vec<Uuid> = read!(self, |conn| {
            Ok(sqlx::query_scalar(
                "SELECT DISTINCT org_id FROM quarantine WHERE resolved_at IS NULL AND expires_at <= $1",
            )
            .bind(now)
            .fetch_all(&mut *conn)
            .await?)
        })?;
        Ok(ids
            .into_iter()
            .map(carepost_core::OrgId::from_uuid)
            .collect())
    }
}
