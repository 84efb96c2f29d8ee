//! The registry of tables whose rows carry sealed columns under one `key_version`, keyed
//! by a UUID `id`, with immutable content once written.
//!
//! Key rotation, re-encryption and retirement walk this list, so a new sealed table is
//! covered by all three the moment it is added here. Contacts and audit signing keys
//! have their own re-encryption (a blind index, a concurrent-update guard, a text key)
//! and are counted beside these.

use sqlx::Row;
use uuid::Uuid;

use crate::backend::{read, write};
use crate::{OrgScope, Result};

/// A table with sealed columns, re-encrypted generically.
pub(crate) struct SealedTable {
    /// Table name; also the `table` of each column's associated data.
    pub(crate) table: &'static str,
    /// The sealed columns; the row part of their associated data is the row's `id`.
    pub(crate) columns: &'static [&'static str],
    /// A blind index column recomputed from a sealed column under the new key version:
    /// `(index column, sealed source column)`.
    pub(crate) index: Option<(&'static str, &'static str)>,
}

/// Every generically re-encrypted table.
pub(crate) const SEALED_TABLES: &[SealedTable] = &[
    SealedTable {
        table: "messages",
        columns: &["envelope", "content"],
        index: None,
    },
    SealedTable {
        table: "delivery_events",
        columns: &["evidence"],
        index: None,
    },
    SealedTable {
        table: "sandbox_messages",
        columns: &["raw"],
        index: None,
    },
    SealedTable {
        table: "dkim_keys",
        columns: &["private_key"],
        index: None,
    },
    SealedTable {
        table: "suppressions",
        columns: &["address"],
        index: Some(("address_index", "address")),
    },
];

/// Tables whose rows name a data key version: [`SEALED_TABLES`] and the two special ones.
pub(crate) fn tables_with_key_version() -> impl Iterator<Item = &'static str> {
    ["contacts", "audit_signing_keys"]
        .into_iter()
        .chain(SEALED_TABLES.iter().map(|t| t.table))
}

/// `AND NOT EXISTS (...)` for every table, for a statement whose `$2` is the organization
/// and `$3` the key version: true when no row is sealed with that version.
pub(crate) fn no_rows_sealed_with_clause() -> String {
    tables_with_key_version()
        .map(|t| {
            format!(" AND NOT EXISTS (SELECT 1 FROM {t} WHERE org_id = $2 AND key_version = $3)")
        })
        .collect()
}

type SealedRow = (Uuid, i64, Vec<Vec<u8>>);

impl OrgScope {
    /// Counts rows of every table whose key version `matches` (`=` or `<>`) `version`.
    pub(crate) async fn count_sealed(&self, op: &'static str, version: i64) -> Result<i64> {
        let org = self.org_id().as_uuid();
        read!(self, |conn| {
            let mut total = 0i64;
            for table in tables_with_key_version() {
                let sql = format!(
                    "SELECT COUNT(*) FROM {table} WHERE org_id = $1 AND key_version {op} $2"
                );
                let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                    .bind(org)
                    .bind(version)
                    .fetch_one(&mut *conn)
                    .await?;
                total += n;
            }
            Ok(total)
        })
    }

    /// Re-encrypts up to `limit` rows of `spec` sealed with a version other than the
    /// active one. A row is rewritten only if it still has the version it was read with,
    /// and only while the version it is sealed towards is active in the database.
    pub(crate) async fn reencrypt_table(&self, spec: &SealedTable, limit: i64) -> Result<u64> {
        let ring = self.keyring();
        let (org, active) = (self.org_id().as_uuid(), i64::from(ring.active_version()));
        let select = format!(
            "SELECT id, key_version, {} FROM {} WHERE org_id = $1 AND key_version <> $2 LIMIT $3",
            spec.columns.join(", "),
            spec.table
        );
        let width = spec.columns.len();
        let rows: Vec<SealedRow> = read!(self, |conn| {
            let rows = sqlx::query(sqlx::AssertSqlSafe(select))
                .bind(org)
                .bind(active)
                .bind(limit)
                .fetch_all(&mut *conn)
                .await?;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                let mut sealed = Vec::with_capacity(width);
                for i in 0..width {
                    sealed.push(row.try_get::<Vec<u8>, _>(i + 2)?);
                }
                out.push((row.try_get(0)?, row.try_get(1)?, sealed));
            }
            Ok(out)
        })?;
        let mut updates = Vec::with_capacity(rows.len());
        for (id, old_version, sealed) in rows {
            let row = id.to_string();
            let mut resealed = Vec::with_capacity(width + 1);
            let mut index = None;
            for (column, ciphertext) in spec.columns.iter().zip(sealed) {
                let at = carepost_crypto::FieldContext {
                    table: spec.table,
                    column,
                    row: &row,
                };
                let plain = self.open_field(&at, &ciphertext).await?;
                if let Some((_, source)) = spec.index
                    && source == *column
                {
                    index = Some(ring.blind_index(spec.table, column, &plain));
                }
                resealed.push(ring.seal(&at, &plain)?);
            }
            resealed.extend(index);
            updates.push((id, old_version, resealed));
        }
        let assignments: Vec<String> = spec
            .columns
            .iter()
            .copied()
            .chain(spec.index.map(|(index, _)| index))
            .enumerate()
            .map(|(i, c)| format!("{c} = ${}", i + 5))
            .collect();
        let update = format!(
            "UPDATE {} SET key_version = $1, {} WHERE org_id = $2 AND id = $3 AND key_version = $4 \
             AND EXISTS (SELECT 1 FROM data_keys WHERE org_id = $2 AND version = $1 AND state = 'active')",
            spec.table,
            assignments.join(", ")
        );
        write!(self, |conn| {
            let mut done = 0u64;
            for (id, old_version, resealed) in updates {
                let mut q = sqlx::query(sqlx::AssertSqlSafe(update.clone()))
                    .bind(active)
                    .bind(org)
                    .bind(id)
                    .bind(old_version);
                for value in resealed {
                    q = q.bind(value);
                }
                done += q.execute(&mut *conn).await?.rows_affected();
            }
            Ok(done)
        })
    }
}
