//! Re-encryption after a data key rotation: rows sealed with an older version are opened
//! and sealed again with the active one, in small batches, while carepost keeps serving.
//! Each row is rewritten only if it did not change meanwhile (same key version and
//! `updated_at`, so a concurrent update is never overwritten with stale data) and only towards the version
//! that is active in the database (so a process whose keyring predates a rotation made
//! elsewhere never moves rows back to an older key).

use carepost_audit::{AuditEvent, ObjectRef, actions};
use carepost_core::AccessContext;
use carepost_crypto::FieldContext;
use serde::Serialize;

use crate::backend::{read, write};
use crate::contacts::ContactRow;
use crate::orgs::SIGNING_KEY_AT;
use crate::sealed::SEALED_TABLES;
use crate::{OrgScope, Result};

/// Where re-encryption stands for one organization.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ReencryptProgress {
    /// Rows rewritten by this step.
    pub rewritten: u64,
    /// Rows still sealed with an older key version.
    pub remaining: i64,
}

impl OrgScope {
    /// Rows (of every sealed table) sealed with data key `version`.
    pub(crate) async fn rows_sealed_with(&self, version: u32) -> Result<i64> {
        self.count_sealed("=", i64::from(version)).await
    }

    /// Rows still sealed with a version other than the active one.
    pub async fn rows_to_reencrypt(&self) -> Result<i64> {
        self.count_sealed("<>", i64::from(self.keyring().active_version()))
            .await
    }

    /// Re-encrypts up to `limit` rows sealed with older key versions.
    pub async fn reencrypt_step(
        &self,
        by: &AccessContext,
        limit: i64,
    ) -> Result<ReencryptProgress> {
        let remaining = self.rows_to_reencrypt().await?;
        if remaining == 0 {
            return Ok(ReencryptProgress {
                rewritten: 0,
                remaining: 0,
            });
        }
        let active = self.keyring().active_version();
        self.audit(
            AuditEvent::new(
                by.actor.clone(),
                actions::KEY_REENCRYPT,
                ObjectRef::new("data_key", active),
            )
            .source(by.source)
            .detail(serde_json::json!({ "batch_limit": limit })),
        )
        .await?;
        let mut rewritten = self.reencrypt_signing_keys().await?;
        rewritten += self.reencrypt_contacts(limit).await?;
        for table in SEALED_TABLES {
            rewritten += self.reencrypt_table(table, limit).await?;
        }
        let remaining = self.rows_to_reencrypt().await?;
        Ok(ReencryptProgress {
            rewritten,
            remaining,
        })
    }

    async fn reencrypt_contacts(&self, limit: i64) -> Result<u64> {
        let (org, active) = (
            self.org_id().as_uuid(),
            i64::from(self.keyring().active_version()),
        );
        let rows: Vec<ContactRow> = read!(self, |conn| {
            Ok(sqlx::query_as(
                "SELECT id, key_version, email, given_name, family_name, birth_date, phone, \
                 attributes, created_at, updated_at FROM contacts \
                 WHERE org_id = $1 AND key_version <> $2 LIMIT $3",
            )
            .bind(org)
            .bind(active)
            .bind(limit)
            .fetch_all(&mut *conn)
            .await?)
        })?;
        let mut updates = Vec::with_capacity(rows.len());
        for row in rows {
            let (old_version, updated_at) = (row.1, row.9);
            let contact = self.open_contact(row).await?;
            let sealed = self.seal_contact(contact.id, &contact.fields)?;
            updates.push((contact.id.as_uuid(), old_version, updated_at, sealed));
        }
        write!(self, |conn| {
            let mut done = 0u64;
            for (id, old_version, updated_at, sealed) in updates {
                let [given, family, birth, phone, attrs] = sealed.optional;
                let r = sqlx::query(
                    "UPDATE contacts SET key_version = $1, email_index = $2, email = $3, given_name = $4, \
                     family_name = $5, birth_date = $6, phone = $7, attributes = $8 \
                     WHERE org_id = $9 AND id = $10 AND key_version = $11 AND updated_at = $12 \
                     AND EXISTS (SELECT 1 FROM data_keys WHERE org_id = $9 AND version = $1 \
                     AND state = 'active')",
                )
                .bind(sealed.key_version)
                .bind(sealed.email_index)
                .bind(sealed.email)
                .bind(given)
                .bind(family)
                .bind(birth)
                .bind(phone)
                .bind(attrs)
                .bind(org)
                .bind(id)
                .bind(old_version)
                .bind(updated_at)
                .execute(&mut *conn)
                .await?;
                done += r.rows_affected();
            }
            Ok(done)
        })
    }

    async fn reencrypt_signing_keys(&self) -> Result<u64> {
        let ring = self.keyring();
        let (org, active) = (self.org_id().as_uuid(), i64::from(ring.active_version()));
        let rows: Vec<(String, Vec<u8>, i64)> = read!(self, |conn| {
            Ok(sqlx::query_as(
                "SELECT key_id, private_key, key_version FROM audit_signing_keys \
                 WHERE org_id = $1 AND key_version <> $2",
            )
            .bind(org)
            .bind(active)
            .fetch_all(&mut *conn)
            .await?)
        })?;
        let mut updates: Vec<(String, Vec<u8>, i64)> = Vec::with_capacity(rows.len());
        for (kid, sealed, old) in rows {
            let at = FieldContext {
                table: SIGNING_KEY_AT.0,
                column: SIGNING_KEY_AT.1,
                row: &kid,
            };
            let plain = self.open_field(&at, &sealed).await?;
            updates.push((kid.clone(), ring.seal(&at, &plain)?, old));
        }
        write!(self, |conn| {
            let mut done = 0u64;
            for (kid, sealed, old) in updates {
                let r = sqlx::query(
                    "UPDATE audit_signing_keys SET private_key = $1, key_version = $2 \
                     WHERE org_id = $3 AND key_id = $4 AND key_version = $5 AND EXISTS (SELECT 1 FROM data_keys \
                     WHERE org_id = $3 AND version = $2 AND state = 'active')",
                )
                .bind(sealed)
                .bind(active)
                .bind(org)
                .bind(kid)
                .bind(old)
                .execute(&mut *conn)
                .await?;
                done += r.rows_affected();
            }
            Ok(done)
        })
    }
}
