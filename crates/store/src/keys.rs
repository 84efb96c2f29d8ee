//! Master key checks and per-organization data keys: load, rotate, re-wrap, retire.

use std::sync::Arc;

use carepost_audit::{AuditEvent, ObjectRef, actions};
use carepost_core::{AccessContext, OrgId};
use carepost_crypto::{DataKey, KeyProvider, OrgKeyring};
use serde::Serialize;
use uuid::Uuid;

use crate::backend::{Backend, read, write};
use crate::{Result, Store, StoreError, now_us};

/// The state of a data key version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DataKeyState {
    /// Seals new values.
    Active,
    /// Still opens values sealed before a rotation; re-encryption moves them off it.
    DecryptOnly,
    /// Destroyed: no value is sealed with it any more.
    Retired,
}

impl std::fmt::Display for DataKeyState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Active => "active",
            Self::DecryptOnly => "decrypt_only",
            Self::Retired => "retired",
        })
    }
}

impl DataKeyState {
    fn parse(s: &str) -> Result<Self> {
        match s {
            "active" => Ok(Self::Active),
            "decrypt_only" => Ok(Self::DecryptOnly),
            "retired" => Ok(Self::Retired),
            other => Err(StoreError::Corrupt(format!(
                "unknown data key state '{other}'"
            ))),
        }
    }
}

/// What `carepost keys status` shows for one data key version.
#[derive(Debug, Clone, Serialize)]
pub struct DataKeyInfo {
    /// The version.
    pub version: u32,
    /// Its state.
    pub state: DataKeyState,
    /// The master key version it is wrapped with.
    pub kek_version: u32,
    /// Rows still sealed with it.
    pub rows: i64,
}

/// Compares the provider's key check values with the database's; records those of new
/// master key versions.
pub(crate) async fn check_master_key(backend: &Backend, provider: &dyn KeyProvider) -> Result<()> {
    let stored: Vec<(i64, Vec<u8>)> = read!(backend, |conn| {
        Ok(
            sqlx::query_as("SELECT kek_version, check_value FROM key_checks")
                .fetch_all(&mut *conn)
                .await?,
        )
    })?;
    let held = provider.versions();
    for (version, value) in &stored {
        let v =
            u32::try_from(*version).map_err(|_| StoreError::Corrupt("key check version".into()))?;
        if !held.contains(&v) {
            // Only a problem if a data key still uses it.
            let in_use: i64 = read!(backend, |conn| {
                Ok(sqlx::query_scalar(
                    "SELECT COUNT(*) FROM data_keys WHERE kek_version = $1 AND state <> 'retired'",
                )
                .bind(*version)
                .fetch_one(&mut *conn)
                .await?)
            })?;
            if in_use > 0 {
                return Err(StoreError::MissingMasterKeyVersion {
                    version: *version,
                    source_name: provider.describe(),
                });
            }
            continue;
        }
        if provider.check_value(v).await?.as_slice() != value.as_slice() {
            return Err(StoreError::WrongMasterKey {
                version: *version,
                source_name: provider.describe(),
            });
        }
    }
    for v in held {
        if stored.iter().any(|(s, _)| *s == i64::from(v)) {
            continue;
        }
        let value = provider.check_value(v).await?.to_vec();
        let expected = value.clone();
        write!(backend, |conn| {
            sqlx::query(
                "INSERT INTO key_checks (kek_version, check_value, created_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (kek_version) DO NOTHING",
            )
            .bind(i64::from(v))
            .bind(value)
            .bind(now_us())
            .execute(&mut *conn)
            .await?;
            Ok(())
        })?;
        // Another node may have recorded a different key of this version meanwhile.
        let recorded: Vec<u8> = read!(backend, |conn| {
            Ok(
                sqlx::query_scalar("SELECT check_value FROM key_checks WHERE kek_version = $1")
                    .bind(i64::from(v))
                    .fetch_one(&mut *conn)
                    .await?,
            )
        })?;
        if recorded != expected {
            return Err(StoreError::WrongMasterKey {
                version: i64::from(v),
                source_name: provider.describe(),
            });
        }
    }
    Ok(())
}

impl Store {
    /// The unwrapped keyring of `org`, from the cache or the database.
    pub(crate) async fn keyring(&self, org: OrgId) -> Result<Arc<OrgKeyring>> {
        if let Some(k) = self
            .inner
            .keyrings
            .read()
            .ok()
            .and_then(|m| m.get(&org).cloned())
        {
            return Ok(k);
        }
        self.reload_keyring(org).await
    }

    /// Reads `org`'s data keys again (after a rotation by another process or node).
    pub(crate) async fn reload_keyring(&self, org: OrgId) -> Result<Arc<OrgKeyring>> {
        let id = org.as_uuid();
        let rows: Vec<(i64, i64, Vec<u8>, String)> = read!(self, |conn| {
            Ok(sqlx::query_as(
                "SELECT version, kek_version, wrapped, state FROM data_keys \
                 WHERE org_id = $1 AND state <> 'retired' ORDER BY version",
            )
            .bind(id)
            .fetch_all(&mut *conn)
            .await?)
        })?;
        let mut keys = Vec::with_capacity(rows.len());
        let mut active = None;
        for (version, kek_version, wrapped, state) in rows {
            let version = to_u32(version)?;
            let kek = to_u32(kek_version)?;
            keys.push(DataKey::unwrap(self.key_provider(), kek, org, version, &wrapped).await?);
            if DataKeyState::parse(&state)? == DataKeyState::Active {
                active = Some(version);
            }
        }
        let active = active.ok_or_else(|| StoreError::UnknownOrganization(org.to_string()))?;
        let ring = Arc::new(OrgKeyring::new(org, active, &keys)?);
        if let Ok(mut m) = self.inner.keyrings.write() {
            m.insert(org, ring.clone());
        }
        Ok(ring)
    }

    /// Makes a new data key version active for `org`; the previous one becomes
    /// decrypt-only until re-encryption has moved every row off it. Returns the new version.
    pub async fn rotate_data_key(&self, org: OrgId, by: &AccessContext) -> Result<u32> {
        let scope = self.org(org).await?;
        let version = scope
            .keyring()
            .versions()
            .iter()
            .max()
            .copied()
            .unwrap_or(0)
            + 1;
        let kek = self.key_provider().active_version();
        let wrapped = DataKey::generate(version)?
            .wrap(self.key_provider(), kek, org)
            .await?;
        scope
            .audit(
                AuditEvent::new(
                    by.actor.clone(),
                    actions::KEY_ROTATE,
                    ObjectRef::new("data_key", version),
                )
                .source(by.source),
            )
            .await?;
        let id = org.as_uuid();
        write!(self, |conn| {
            sqlx::query("UPDATE data_keys SET state = 'decrypt_only' WHERE org_id = $1 AND state = 'active'")
                .bind(id)
                .execute(&mut *conn)
                .await?;
            sqlx::query(
                "INSERT INTO data_keys (org_id, version, kek_version, wrapped, state, created_at) \
                 VALUES ($1, $2, $3, $4, 'active', $5)",
            )
            .bind(id)
            .bind(i64::from(version))
            .bind(i64::from(kek))
            .bind(wrapped)
            .bind(now_us())
            .execute(&mut *conn)
            .await?;
            Ok(())
        })?;
        self.reload_keyring(org).await?;
        Ok(version)
    }

    /// Re-wraps every live data key of every organization under the provider's active
    /// master key version. Returns how many keys were re-wrapped.
    pub async fn rewrap_data_keys(&self, by: &AccessContext) -> Result<u64> {
        let target = self.key_provider().active_version();
        let rows: Vec<(Uuid, i64, i64, Vec<u8>)> = read!(self, |conn| {
            Ok(sqlx::query_as(
                "SELECT org_id, version, kek_version, wrapped FROM data_keys \
                 WHERE state <> 'retired' AND kek_version <> $1",
            )
            .bind(i64::from(target))
            .fetch_all(&mut *conn)
            .await?)
        })?;
        let mut done = 0;
        for (org_id, version, kek_version, wrapped) in rows {
            let org = OrgId::from_uuid(org_id);
            let v = to_u32(version)?;
            let key = DataKey::unwrap(self.key_provider(), to_u32(kek_version)?, org, v, &wrapped)
                .await?;
            let rewrapped = key.wrap(self.key_provider(), target, org).await?;
            self.org(org)
                .await?
                .audit(
                    AuditEvent::new(
                        by.actor.clone(),
                        actions::MASTER_KEY_ROTATE,
                        ObjectRef::new("data_key", v),
                    )
                    .source(by.source)
                    .detail(serde_json::json!({ "kek_version": target })),
                )
                .await?;
            write!(self, |conn| {
                sqlx::query(
                    "UPDATE data_keys SET kek_version = $1, wrapped = $2 \
                     WHERE org_id = $3 AND version = $4 AND kek_version = $5",
                )
                .bind(i64::from(target))
                .bind(rewrapped)
                .bind(org_id)
                .bind(version)
                .bind(kek_version)
                .execute(&mut *conn)
                .await?;
                Ok(())
            })?;
            done += 1;
        }
        Ok(done)
    }

    /// Master key versions still used by a live data key.
    pub async fn master_key_versions_in_use(&self) -> Result<Vec<u32>> {
        let rows: Vec<i64> = read!(self, |conn| {
            Ok(sqlx::query_scalar(
                "SELECT DISTINCT kek_version FROM data_keys WHERE state <> 'retired' ORDER BY kek_version",
            )
            .fetch_all(&mut *conn)
            .await?)
        })?;
        rows.into_iter().map(to_u32).collect()
    }

    /// The data key versions of `org`, with how many rows each still seals.
    pub async fn data_keys(&self, org: OrgId) -> Result<Vec<DataKeyInfo>> {
        let id = org.as_uuid();
        let rows: Vec<(i64, String, i64)> = read!(self, |conn| {
            Ok(sqlx::query_as(
                "SELECT version, state, kek_version FROM data_keys WHERE org_id = $1 ORDER BY version",
            )
            .bind(id)
            .fetch_all(&mut *conn)
            .await?)
        })?;
        let scope = self.org(org).await?;
        let mut out = Vec::with_capacity(rows.len());
        for (version, state, kek) in rows {
            out.push(DataKeyInfo {
                version: to_u32(version)?,
                state: DataKeyState::parse(&state)?,
                kek_version: to_u32(kek)?,
                rows: scope.rows_sealed_with(to_u32(version)?).await?,
            });
        }
        Ok(out)
    }

    /// Retires (destroys) every decrypt-only data key of `org` that no row uses any more.
    /// Refuses while rows still need one, naming how many. The check and the destruction
    /// are one statement, so a row written meanwhile is never left without its key.
    pub async fn retire_data_keys(&self, org: OrgId, by: &AccessContext) -> Result<Vec<u32>> {
        let mut candidates = Vec::new();
        for info in self.data_keys(org).await? {
            if info.state != DataKeyState::DecryptOnly {
                continue;
            }
            if info.rows > 0 {
                return Err(still_used(info.version, info.rows));
            }
            candidates.push(info.version);
        }
        let scope = self.org(org).await?;
        let mut retired = Vec::new();
        for version in candidates {
            scope
                .audit(
                    AuditEvent::new(
                        by.actor.clone(),
                        actions::KEY_RETIRE,
                        ObjectRef::new("data_key", version),
                    )
                    .source(by.source),
                )
                .await?;
            let (id, v) = (org.as_uuid(), i64::from(version));
            let sql = format!(
                "UPDATE data_keys SET state = 'retired', wrapped = $1 \
                 WHERE org_id = $2 AND version = $3 AND state = 'decrypt_only'{}",
                crate::sealed::no_rows_sealed_with_clause()
            );
            let done = write!(self, |conn| {
                let r = sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(Vec::<u8>::new())
                    .bind(id)
                    .bind(v)
                    .execute(&mut *conn)
                    .await?;
                Ok(r.rows_affected() == 1)
            })?;
            if !done {
                let rows = scope.rows_sealed_with(version).await?;
                return Err(still_used(version, rows));
            }
            retired.push(version);
        }
        self.reload_keyring(org).await?;
        Ok(retired)
    }
}

fn still_used(version: u32, rows: i64) -> StoreError {
    StoreError::KeyState(format!(
        "data key version {version} still seals {rows} rows; let re-encryption finish (`carepost keys rotate` without --no-wait) first"
    ))
}

pub(crate) fn to_u32(v: i64) -> Result<u32> {
    u32::try_from(v).map_err(|_| StoreError::Corrupt(format!("key version {v} out of range")))
}
