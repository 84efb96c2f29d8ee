//! The sandbox mailbox: in `sandbox` delivery mode nothing leaves the machine; each
//! message is captured here, sealed, exactly as it would have been sent.

use carepost_audit::{AuditEvent, ObjectRef, actions};
use carepost_core::{AccessContext, MessageId, Phi, SandboxId};
use carepost_crypto::FieldContext;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::backend::{read, write};
use crate::dialect::pick;
use crate::messages::time;
use crate::{OrgScope, Result, StoreError, now_us};

const TABLE: &str = "sandbox_messages";

/// A captured message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SandboxMessage {
    /// The capture's id.
    pub id: SandboxId,
    /// The message it captured.
    pub message_id: MessageId,
    /// When it was captured.
    pub captured_at: DateTime<Utc>,
    /// The message as delivered (RFC 5322 text).
    pub raw: Phi<Vec<u8>>,
}

impl OrgScope {
    /// Captures `raw` (the message as it would have been delivered).
    pub async fn capture_sandbox(
        &self,
        message: MessageId,
        raw: Phi<Vec<u8>>,
    ) -> Result<SandboxId> {
        let id = SandboxId::new();
        let ring = self.keyring();
        let row = id.to_string();
        let sealed = ring.seal(
            &FieldContext {
                table: TABLE,
                column: "raw",
                row: &row,
            },
            raw.expose(),
        )?;
        let (uid, org, mid, version, now) = (
            id.as_uuid(),
            self.org_id().as_uuid(),
            message.as_uuid(),
            i64::from(ring.active_version()),
            now_us(),
        );
        let written = write!(self, |conn| {
            let sql = pick(
                &*conn,
                "INSERT INTO sandbox_messages (id, org_id, message_id, key_version, raw, captured_at) \
                 SELECT $1, $2, $3, $4, $5, $6 WHERE EXISTS (SELECT 1 FROM data_keys \
                 WHERE org_id = $2 AND version = $4 AND state <> 'retired')",
                "INSERT INTO sandbox_messages (id, org_id, message_id, key_version, raw, captured_at) \
                 SELECT $1, $2, $3, $4, $5, $6 WHERE EXISTS (SELECT 1 FROM data_keys \
                 WHERE org_id = $2 AND version = $4 AND state <> 'retired' FOR SHARE)",
            );
            Ok(sqlx::query(sql)
                .bind(uid)
                .bind(org)
                .bind(mid)
                .bind(version)
                .bind(sealed)
                .bind(now)
                .execute(&mut *conn)
                .await?
                .rows_affected())
        })?;
        if written == 0 {
            return Err(StoreError::KeyState(
                "the data key this capture was sealed with was retired; retry".into(),
            ));
        }
        Ok(id)
    }

    /// Captured messages, newest first: up to `limit` captured before `before` (a
    /// capture id from an earlier page), each opened. The listing is audited.
    pub async fn sandbox_messages(
        &self,
        by: &AccessContext,
        limit: i64,
        before: Option<SandboxId>,
    ) -> Result<Vec<SandboxMessage>> {
        self.audit(
            AuditEvent::new(
                by.actor.clone(),
                actions::SANDBOX_LIST,
                ObjectRef::new("sandbox", "*"),
            )
            .source(by.source)
            .detail(serde_json::json!({ "limit": limit })),
        )
        .await?;
        let org = self.org_id().as_uuid();
        let before = before.map(|b| b.as_uuid());
        let rows: Vec<(Uuid, Uuid, i64, Vec<u8>)> = read!(self, |conn| {
            let q = match before {
                Some(b) => sqlx::query_as(
                    "SELECT id, message_id, captured_at, raw FROM sandbox_messages WHERE org_id = $1 \
                     AND id < $2 ORDER BY id DESC LIMIT $3",
                )
                .bind(org)
                .bind(b),
                None => sqlx::query_as(
                    "SELECT id, message_id, captured_at, raw FROM sandbox_messages WHERE org_id = $1 \
                     ORDER BY id DESC LIMIT $2",
                )
                .bind(org),
            };
            Ok(q.bind(limit).fetch_all(&mut *conn).await?)
        })?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            out.push(self.open_capture(row).await?);
        }
        Ok(out)
    }

    /// One captured message. The read is audited.
    pub async fn sandbox_message(
        &self,
        by: &AccessContext,
        id: SandboxId,
    ) -> Result<Option<SandboxMessage>> {
        self.audit(
            AuditEvent::new(
                by.actor.clone(),
                actions::SANDBOX_READ,
                ObjectRef::new("sandbox", id),
            )
            .source(by.source),
        )
        .await?;
        let (org, uid) = (self.org_id().as_uuid(), id.as_uuid());
        let row: Option<(Uuid, Uuid, i64, Vec<u8>)> = read!(self, |conn| {
            Ok(sqlx::query_as(
                "SELECT id, message_id, captured_at, raw FROM sandbox_messages \
                 WHERE org_id = $1 AND id = $2",
            )
            .bind(org)
            .bind(uid)
            .fetch_optional(&mut *conn)
            .await?)
        })?;
        match row {
            Some(row) => Ok(Some(self.open_capture(row).await?)),
            None => Ok(None),
        }
    }

    async fn open_capture(
        &self,
        (id, message, at, sealed): (Uuid, Uuid, i64, Vec<u8>),
    ) -> Result<SandboxMessage> {
        let row = id.to_string();
        let raw = self
            .open_field(
                &FieldContext {
                    table: TABLE,
                    column: "raw",
                    row: &row,
                },
                &sealed,
            )
            .await?;
        Ok(SandboxMessage {
            id: SandboxId::from_uuid(id),
            message_id: MessageId::from_uuid(message),
            captured_at: time(at),
            raw: Phi::new(raw.to_vec()),
        })
    }
}
