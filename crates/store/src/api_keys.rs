//! API keys: bearer tokens bound to one organization and a set of scopes.
//!
//! A token reads `cpk_<id>_<secret>`: the id finds the row, the secret (32 random bytes,
//! base64url) is checked against its stored SHA-256 in constant time. The secret is
//! shown once, when the key is created, and never stored.

use std::fmt;

use carepost_audit::{AuditEvent, ObjectRef};
use carepost_core::{AccessContext, OrgId};
use serde::Serialize;
use uuid::Uuid;

use crate::backend::{read, write};
use crate::{OrgScope, Result, Store, StoreError, now_us};

/// The scopes an API key can hold.
pub const SCOPES: [&str; 12] = [
    "messages:send",
    "messages:read",
    "quarantine:read",
    "quarantine:review",
    "suppressions:read",
    "suppressions:write",
    "contacts:read",
    "contacts:write",
    "dlp:scan",
    "audit:read",
    "sandbox:read",
    "admin",
];

/// A newly created key, with its secret token (shown once).
pub struct NewApiKey {
    /// The public id.
    pub id: String,
    /// The full bearer token. Print it once; it cannot be recovered.
    pub token: String,
}

impl fmt::Debug for NewApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewApiKey")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// Who an authenticated request acts as.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiPrincipal {
    /// The key's organization.
    pub org: OrgId,
    /// The key's public id.
    pub key_id: String,
    /// What the key may do.
    pub scopes: Vec<String>,
}

impl ApiPrincipal {
    /// Whether the key holds `scope` (or `admin`).
    pub fn allows(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope || s == "admin")
    }
}

impl OrgScope {
    /// Creates an API key named `name` with `scopes`.
    pub async fn create_api_key(
        &self,
        by: &AccessContext,
        name: &str,
        scopes: &[String],
    ) -> Result<NewApiKey> {
        if scopes.is_empty() {
            return Err(StoreError::Invalid(format!(
                "an API key needs at least one scope: {}",
                SCOPES.join(", ")
            )));
        }
        if let Some(bad) = scopes.iter().find(|s| !SCOPES.contains(&s.as_str())) {
            return Err(StoreError::Invalid(format!(
                "unknown scope '{bad}': use {}",
                SCOPES.join(", ")
            )));
        }
        if name.is_empty() || name.len() > 100 || name.chars().any(char::is_control) {
            return Err(StoreError::Invalid(
                "an API key name is 1 to 100 printable characters".into(),
            ));
        }
        use base64::Engine;
        let id = hex_lower(&carepost_crypto::random_bytes::<8>()?);
        let secret = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(carepost_crypto::random_bytes::<32>()?);
        let token = format!("cpk_{id}_{secret}");
        let hash = carepost_crypto::sha256(secret.as_bytes()).to_vec();
        self.audit(
            AuditEvent::new(
                by.actor.clone(),
                "api_key.create",
                ObjectRef::new("api_key", &id),
            )
            .source(by.source),
        )
        .await?;
        let (org, row_id, name, scopes) = (
            self.org_id().as_uuid(),
            id.clone(),
            name.to_owned(),
            scopes.join(" "),
        );
        write!(self, |conn| {
            sqlx::query(
                "INSERT INTO api_keys (id, org_id, name, scopes, secret_hash, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(row_id)
            .bind(org)
            .bind(name)
            .bind(scopes)
            .bind(hash)
            .bind(now_us())
            .execute(&mut *conn)
            .await?;
            Ok(())
        })?;
        Ok(NewApiKey { id, token })
    }

    /// Revokes a key of this organization. Returns whether it existed.
    pub async fn revoke_api_key(&self, by: &AccessContext, id: &str) -> Result<bool> {
        self.audit(
            AuditEvent::new(
                by.actor.clone(),
                "api_key.revoke",
                ObjectRef::new("api_key", id),
            )
            .source(by.source),
        )
        .await?;
        let (org, id) = (self.org_id().as_uuid(), id.to_owned());
        write!(self, |conn| {
            let r = sqlx::query("UPDATE api_keys SET revoked_at = $1 WHERE org_id = $2 AND id = $3 AND revoked_at IS NULL")
                .bind(now_us())
                .bind(org)
                .bind(id)
                .execute(&mut *conn)
                .await?;
            Ok(r.rows_affected() > 0)
        })
    }
}

impl Store {
    /// The principal a bearer token stands for, or `None` for an unknown, malformed or
    /// revoked token. Never says which of those it was.
    pub async fn authenticate_api_key(&self, token: &str) -> Result<Option<ApiPrincipal>> {
        let Some((id, secret)) = token.strip_prefix("cpk_").and_then(|t| t.split_once('_')) else {
            return Ok(None);
        };
        if id.len() != 16 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Ok(None);
        }
        let (id, lookup) = (id.to_owned(), id.to_owned());
        let row: Option<(Uuid, String, Vec<u8>, Option<i64>)> = read!(self, |conn| {
            Ok(sqlx::query_as(
                "SELECT org_id, scopes, secret_hash, revoked_at FROM api_keys WHERE id = $1",
            )
            .bind(lookup)
            .fetch_optional(&mut *conn)
            .await?)
        })?;
        let presented = carepost_crypto::sha256(secret.as_bytes());
        match row {
            Some((org, scopes, hash, None)) if constant_time_eq(&presented, &hash) => {
                Ok(Some(ApiPrincipal {
                    org: OrgId::from_uuid(org),
                    key_id: id,
                    scopes: scopes.split_whitespace().map(str::to_owned).collect(),
                }))
            }
            _ => Ok(None),
        }
    }
}

pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn hex_lower(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_time_comparison_compares_whole_values() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }

    #[test]
    fn principals_with_admin_hold_every_scope() {
        let p = ApiPrincipal {
            org: OrgId::new(),
            key_id: "k".into(),
            scopes: vec!["admin".into()],
        };
        assert!(p.allows("dlp:scan"));
        let q = ApiPrincipal {
            scopes: vec!["dlp:scan".into()],
            ..p
        };
        assert!(q.allows("dlp:scan") && !q.allows("contacts:read"));
    }
}
