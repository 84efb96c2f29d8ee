//! Organizations: the tenants. Creating one creates its first data key, its audit chain
//! head and its audit signing key, in one transaction.

use carepost_audit::{AuditEvent, ObjectRef, actions, genesis_hash, key_id};
use carepost_core::{AccessContext, OrgId, Organization};
use carepost_crypto::{DataKey, FieldContext, OrgKeyring, SigningKey};
use uuid::Uuid;

use crate::backend::{read, write};
use crate::{OrgScope, Result, Store, StoreError, now_us};

pub(crate) const SIGNING_KEY_AT: (&str, &str) = ("audit_signing_keys", "private_key");

impl Store {
    /// Creates an organization named `name` (lower-case letters, digits, `-` and `_`, at
    /// most 64 characters).
    pub async fn create_organization(
        &self,
        name: &str,
        by: &AccessContext,
    ) -> Result<Organization> {
        validate_name(name)?;
        if self.find_organization(name).await?.is_some() {
            return Err(StoreError::DuplicateOrganization(name.to_owned()));
        }
        let org = OrgId::new();
        let data_key = DataKey::generate(1)?;
        let kek = self.key_provider().active_version();
        let wrapped = data_key.wrap(self.key_provider(), kek, org).await?;
        let ring = OrgKeyring::new(org, 1, &[data_key])?;
        let (signing, pkcs8) = SigningKey::generate()?;
        let public = signing.public_key();
        let kid = key_id(&public);
        let at = FieldContext {
            table: SIGNING_KEY_AT.0,
            column: SIGNING_KEY_AT.1,
            row: &kid,
        };
        let sealed = ring.seal(&at, &pkcs8)?;
        let created_at = now_us();
        let (id, owned_name, genesis) =
            (org.as_uuid(), name.to_owned(), genesis_hash(org).to_vec());
        write!(self, |conn| {
            sqlx::query("INSERT INTO organizations (id, name, created_at) VALUES ($1, $2, $3)")
                .bind(id)
                .bind(owned_name.clone())
                .bind(created_at)
                .execute(&mut *conn)
                .await
                .map_err(|e| match e {
                    sqlx::Error::Database(d) if d.is_unique_violation() => {
                        StoreError::DuplicateOrganization(owned_name.clone())
                    }
                    other => other.into(),
                })?;
            sqlx::query(
                "INSERT INTO data_keys (org_id, version, kek_version, wrapped, state, created_at) \
                 VALUES ($1, 1, $2, $3, 'active', $4)",
            )
            .bind(id)
            .bind(i64::from(kek))
            .bind(wrapped)
            .bind(created_at)
            .execute(&mut *conn)
            .await?;
            sqlx::query("INSERT INTO audit_heads (org_id, seq, hash) VALUES ($1, 0, $2)")
                .bind(id)
                .bind(genesis)
                .execute(&mut *conn)
                .await?;
            sqlx::query(
                "INSERT INTO audit_signing_keys (org_id, key_id, public_key, private_key, key_version, created_at) \
                 VALUES ($1, $2, $3, $4, 1, $5)",
            )
            .bind(id)
            .bind(kid)
            .bind(public)
            .bind(sealed)
            .bind(created_at)
            .execute(&mut *conn)
            .await?;
            Ok(())
        })?;
        if let Ok(mut m) = self.inner.keyrings.write() {
            m.insert(org, std::sync::Arc::new(ring));
        }
        self.org(org)
            .await?
            .audit(
                AuditEvent::new(
                    by.actor.clone(),
                    actions::ORGANIZATION_CREATE,
                    ObjectRef::new("organization", org),
                )
                .source(by.source),
            )
            .await?;
        Ok(Organization {
            id: org,
            name: name.to_owned(),
            created_at: chrono::DateTime::from_timestamp_micros(created_at).unwrap_or_default(),
        })
    }

    /// The organization named `name`, creating it if it does not exist. Returns whether
    /// it was created.
    pub async fn ensure_organization(
        &self,
        name: &str,
        by: &AccessContext,
    ) -> Result<(Organization, bool)> {
        if let Some(o) = self.find_organization(name).await? {
            return Ok((o, false));
        }
        match self.create_organization(name, by).await {
            Ok(o) => Ok((o, true)),
            // Another node created it meanwhile.
            Err(StoreError::DuplicateOrganization(_)) => self
                .find_organization(name)
                .await?
                .map(|o| (o, false))
                .ok_or_else(|| StoreError::UnknownOrganization(name.to_owned())),
            Err(e) => Err(e),
        }
    }

    /// The organization named `name`, if any.
    pub async fn find_organization(&self, name: &str) -> Result<Option<Organization>> {
        let name = name.to_owned();
        let row: Option<(Uuid, String, i64)> = read!(self, |conn| {
            Ok(
                sqlx::query_as("SELECT id, name, created_at FROM organizations WHERE name = $1")
                    .bind(name)
                    .fetch_optional(&mut *conn)
                    .await?,
            )
        })?;
        Ok(row.map(to_org))
    }

    /// Every organization, oldest first.
    pub async fn organizations(&self) -> Result<Vec<Organization>> {
        let rows: Vec<(Uuid, String, i64)> = read!(self, |conn| {
            Ok(sqlx::query_as(
                "SELECT id, name, created_at FROM organizations ORDER BY created_at, id",
            )
            .fetch_all(&mut *conn)
            .await?)
        })?;
        Ok(rows.into_iter().map(to_org).collect())
    }

    /// The scope through which `org`'s data is read and written. Fails for an
    /// organization that does not exist.
    pub async fn org(&self, org: OrgId) -> Result<OrgScope> {
        let keyring = self.keyring(org).await?;
        Ok(OrgScope::new(self.clone(), org, keyring))
    }

    /// Like [`Store::org`], but reads the organization's data keys again first, to pick
    /// up a rotation made by another process or node.
    pub async fn org_fresh(&self, org: OrgId) -> Result<OrgScope> {
        let keyring = self.reload_keyring(org).await?;
        Ok(OrgScope::new(self.clone(), org, keyring))
    }

    /// The scope of the organization named `name`.
    pub async fn org_named(&self, name: &str) -> Result<OrgScope> {
        let o = self
            .find_organization(name)
            .await?
            .ok_or_else(|| StoreError::UnknownOrganization(format!("named '{name}'")))?;
        self.org(o.id).await
    }
}

fn to_org((id, name, created): (Uuid, String, i64)) -> Organization {
    Organization {
        id: OrgId::from_uuid(id),
        name,
        created_at: chrono::DateTime::from_timestamp_micros(created).unwrap_or_default(),
    }
}

fn validate_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(StoreError::Invalid(
            "an organization name is 1 to 64 characters of a-z, 0-9, '-' and '_'".into(),
        ))
    }
}
