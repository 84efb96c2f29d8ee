//! The suppression list: addresses that bounced permanently for a reason of their own
//! (no such mailbox or domain). Later messages to them are not attempted. Addresses are
//! sealed and found through a keyed blind index of their lower-cased form.

use carepost_audit::{AuditEvent, ObjectRef, actions};
use carepost_core::{AccessContext, MessageId, Phi};
use carepost_crypto::FieldContext;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::backend::{read, write};
use crate::dialect::pick;
use crate::messages::time;
use crate::{OrgScope, Result, StoreError, now_us};

const TABLE: &str = "suppressions";

/// One suppressed address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suppression {
    /// The entry's id.
    pub id: Uuid,
    /// The address, lower case.
    pub address: Phi<String>,
    /// The enhanced status of the bounce that caused it (`5.1.1`).
    pub status: String,
    /// The message whose bounce caused it.
    pub message_id: Option<MessageId>,
    /// When it was added.
    pub created_at: DateTime<Utc>,
}

fn normalize(address: &str) -> String {
    address.trim().to_lowercase()
}

impl OrgScope {
    /// Adds `address` (bounced with `status` on `message`). `false` if it was listed
    /// already. Audited by entry id, never by address.
    pub async fn suppress(
        &self,
        by: &AccessContext,
        address: &str,
        status: &str,
        message: Option<MessageId>,
    ) -> Result<bool> {
        let normalized = normalize(address);
        if normalized.is_empty() {
            return Err(StoreError::Invalid(
                "an empty address cannot be suppressed".into(),
            ));
        }
        if self
            .suppressed(std::slice::from_ref(&normalized))
            .await?
            .first()
            .is_some_and(Option::is_some)
        {
            return Ok(false);
        }
        let id = Uuid::now_v7();
        let ring = self.keyring();
        let row = id.to_string();
        let at = FieldContext {
            table: TABLE,
            column: "address",
            row: &row,
        };
        let sealed = ring.seal(&at, normalized.as_bytes())?;
        let index = ring.blind_index(TABLE, "address", normalized.as_bytes());
        self.audit(
            AuditEvent::new(
                by.actor.clone(),
                actions::SUPPRESSION_ADD,
                ObjectRef::new("suppression", id),
            )
            .source(by.source)
            .detail(serde_json::json!({ "status": status, "message": message })),
        )
        .await?;
        let (org, version) = (self.org_id().as_uuid(), i64::from(ring.active_version()));
        let (status, message) = (status.to_owned(), message.map(|m| m.as_uuid()));
        write!(self, |conn| {
            let sql = pick(
                &*conn,
                "INSERT INTO suppressions (id, org_id, key_version, address, address_index, \
                 status, message_id, created_at) SELECT $1, $2, $3, $4, $5, $6, $7, $8 \
                 WHERE EXISTS (SELECT 1 FROM data_keys WHERE org_id = $2 AND version = $3 \
                 AND state <> 'retired') ON CONFLICT (org_id, address_index) DO NOTHING",
                "INSERT INTO suppressions (id, org_id, key_version, address, address_index, \
                 status, message_id, created_at) SELECT $1, $2, $3, $4, $5, $6, $7, $8 \
                 WHERE EXISTS (SELECT 1 FROM data_keys WHERE org_id = $2 AND version = $3 \
                 AND state <> 'retired' FOR SHARE) ON CONFLICT (org_id, address_index) DO NOTHING",
            );
            let r = sqlx::query(sql)
                .bind(id)
                .bind(org)
                .bind(version)
                .bind(sealed.clone())
                .bind(index.clone())
                .bind(status.clone())
                .bind(message)
                .bind(now_us())
                .execute(&mut *conn)
                .await?;
            Ok(r.rows_affected() > 0)
        })
    }

    /// For each address, the status it was suppressed with, or `None` (one query per 200
    /// addresses; not audited: delivery uses it, and the attempt it prevents is audited).
    pub async fn suppressed(&self, addresses: &[String]) -> Result<Vec<Option<String>>> {
        if addresses.is_empty() {
            return Ok(Vec::new());
        }
        let ring = self.keyring();
        let candidates: Vec<Vec<Vec<u8>>> = addresses
            .iter()
            .map(|a| ring.blind_indexes(TABLE, "address", normalize(a).as_bytes()))
            .collect();
        let all: Vec<Vec<u8>> = candidates.iter().flatten().cloned().collect();
        let org = self.org_id().as_uuid();
        let found: Vec<(Vec<u8>, String)> = read!(self, |conn| {
            let mut found = Vec::new();
            // Bounded statement size: at most 200 indexes per query.
            for part in all.chunks(200) {
                let marks: Vec<String> = (0..part.len()).map(|i| format!("${}", i + 2)).collect();
                let sql = format!(
                    "SELECT address_index, status FROM suppressions WHERE org_id = $1 \
                     AND address_index IN ({})",
                    marks.join(", ")
                );
                let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(org);
                for index in part {
                    q = q.bind(index.clone());
                }
                let rows: Vec<(Vec<u8>, String)> = q.fetch_all(&mut *conn).await?;
                found.extend(rows);
            }
            Ok(found)
        })?;
        Ok(candidates
            .iter()
            .map(|c| {
                found
                    .iter()
                    .find(|(index, _)| c.contains(index))
                    .map(|(_, status)| status.clone())
            })
            .collect())
    }

    /// The list, newest first, opened. Audited.
    pub async fn suppressions(&self, by: &AccessContext, limit: i64) -> Result<Vec<Suppression>> {
        self.audit(
            AuditEvent::new(
                by.actor.clone(),
                actions::SUPPRESSION_LIST,
                ObjectRef::new("suppression", "*"),
            )
            .source(by.source),
        )
        .await?;
        type Row = (Uuid, Vec<u8>, String, Option<Uuid>, i64);
        let org = self.org_id().as_uuid();
        let rows: Vec<Row> = read!(self, |conn| {
            Ok(sqlx::query_as(
                "SELECT id, address, status, message_id, created_at FROM suppressions \
                 WHERE org_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2",
            )
            .bind(org)
            .bind(limit)
            .fetch_all(&mut *conn)
            .await?)
        })?;
        let mut out = Vec::with_capacity(rows.len());
        for (id, sealed, status, message, created) in rows {
            let row = id.to_string();
            let at = FieldContext {
                table: TABLE,
                column: "address",
                row: &row,
            };
            let plain = self.open_field(&at, &sealed).await?;
            let address = String::from_utf8(plain.to_vec()).map_err(|_| {
                StoreError::Corrupt(format!("suppression {row}: address is not UTF-8"))
            })?;
            out.push(Suppression {
                id,
                address: Phi::new(address),
                status,
                message_id: message.map(MessageId::from_uuid),
                created_at: time(created),
            });
        }
        Ok(out)
    }

    /// Removes `address` from the list (mail to it is attempted again). `false` if it was
    /// not listed. Audited.
    pub async fn unsuppress(&self, by: &AccessContext, address: &str) -> Result<bool> {
        let indexes = self
            .keyring()
            .blind_indexes(TABLE, "address", normalize(address).as_bytes());
        self.audit(
            AuditEvent::new(
                by.actor.clone(),
                actions::SUPPRESSION_REMOVE,
                ObjectRef::new("suppression", "address"),
            )
            .source(by.source),
        )
        .await?;
        let org = self.org_id().as_uuid();
        write!(self, |conn| {
            let mut removed = 0;
            for index in &indexes {
                removed += sqlx::query(
                    "DELETE FROM suppressions WHERE org_id = $1 AND address_index = $2",
                )
                .bind(org)
                .bind(index.clone())
                .execute(&mut *conn)
                .await?
                .rows_affected();
            }
            Ok(removed > 0)
        })
    }
}
