//! SMTP submission credentials: a user name, a generated password shown once, and the
//! From domains the credential may send as.
//!
//! The password is 256 random bits, so a SHA-256 of it is as strong as any password hash
//! and checks in microseconds; people never choose it.

use carepost_audit::{AuditEvent, ObjectRef, actions};
use carepost_core::{AccessContext, OrgId};
use uuid::Uuid;

use crate::api_keys::constant_time_eq;
use crate::backend::{read, write};
use crate::{OrgScope, Result, Store, StoreError, now_us};

/// A newly created credential, with its password (shown once).
pub struct NewSmtpUser {
    /// The user name for SMTP AUTH.
    pub name: String,
    /// The password. Print it once; it cannot be recovered.
    pub password: String,
}

impl std::fmt::Debug for NewSmtpUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewSmtpUser")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// An authenticated SMTP credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpPrincipal {
    /// Its organization.
    pub org: OrgId,
    /// Its user name.
    pub name: String,
    /// The domains it may send as (lower case).
    pub from_domains: Vec<String>,
}

fn valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'@'))
}

/// A domain name as DNS allows it (letters, digits, hyphens, dots), lower-cased.
pub(crate) fn normalize_domain(domain: &str) -> Option<String> {
    let d = domain.trim().trim_end_matches('.').to_ascii_lowercase();
    let ok = !d.is_empty()
        && d.len() <= 253
        && d.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        });
    ok.then_some(d)
}

impl OrgScope {
    /// Creates SMTP credential `name`, allowed to send as `from_domains`.
    pub async fn create_smtp_user(
        &self,
        by: &AccessContext,
        name: &str,
        from_domains: &[String],
    ) -> Result<NewSmtpUser> {
        if !valid_name(name) {
            return Err(StoreError::Invalid(
                "an SMTP user name is 1 to 64 characters: letters, digits, '-', '_', '.', '@'"
                    .into(),
            ));
        }
        if from_domains.is_empty() {
            return Err(StoreError::Invalid(
                "an SMTP user needs at least one --from-domain".into(),
            ));
        }
        let mut domains = Vec::with_capacity(from_domains.len());
        for d in from_domains {
            domains.push(normalize_domain(d).ok_or_else(|| {
                StoreError::Invalid(format!("'{d}' is not a domain name like example.org"))
            })?);
        }
        use base64::Engine;
        let password = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(carepost_crypto::random_bytes::<32>()?);
        let hash = carepost_crypto::sha256(password.as_bytes()).to_vec();
        self.audit(
            AuditEvent::new(
                by.actor.clone(),
                actions::SMTP_USER_CREATE,
                ObjectRef::new("smtp_user", name),
            )
            .source(by.source)
            .detail(serde_json::json!({ "from_domains": domains })),
        )
        .await?;
        let (org, owned, joined) = (self.org_id().as_uuid(), name.to_owned(), domains.join(" "));
        write!(self, |conn| {
            sqlx::query(
                "INSERT INTO smtp_users (name, org_id, secret_hash, from_domains, created_at) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(owned.clone())
            .bind(org)
            .bind(hash)
            .bind(joined)
            .bind(now_us())
            .execute(&mut *conn)
            .await
            .map_err(|e| match e {
                sqlx::Error::Database(d) if d.is_unique_violation() => StoreError::Invalid(
                    format!("an SMTP user named '{owned}' already exists; pick another name"),
                ),
                other => other.into(),
            })?;
            Ok(())
        })?;
        Ok(NewSmtpUser {
            name: name.to_owned(),
            password,
        })
    }

    /// Revokes SMTP credential `name`. Returns whether it existed.
    pub async fn revoke_smtp_user(&self, by: &AccessContext, name: &str) -> Result<bool> {
        self.audit(
            AuditEvent::new(
                by.actor.clone(),
                actions::SMTP_USER_REVOKE,
                ObjectRef::new("smtp_user", name),
            )
            .source(by.source),
        )
        .await?;
        let (org, name) = (self.org_id().as_uuid(), name.to_owned());
        write!(self, |conn| {
            let r = sqlx::query(
                "UPDATE smtp_users SET revoked_at = $1 WHERE org_id = $2 AND name = $3 AND revoked_at IS NULL",
            )
            .bind(now_us())
            .bind(org)
            .bind(name)
            .execute(&mut *conn)
            .await?;
            Ok(r.rows_affected() > 0)
        })
    }
}

impl Store {
    /// The credential a user name and password stand for, or `None` (unknown, revoked or
    /// wrong password: never says which).
    pub async fn authenticate_smtp_user(
        &self,
        name: &str,
        password: &str,
    ) -> Result<Option<SmtpPrincipal>> {
        if !valid_name(name) {
            return Ok(None);
        }
        let lookup = name.to_owned();
        let row: Option<(Uuid, Vec<u8>, String, Option<i64>)> = read!(self, |conn| {
            Ok(sqlx::query_as(
                "SELECT org_id, secret_hash, from_domains, revoked_at FROM smtp_users WHERE name = $1",
            )
            .bind(lookup)
            .fetch_optional(&mut *conn)
            .await?)
        })?;
        let presented = carepost_crypto::sha256(password.as_bytes());
        match row {
            Some((org, hash, domains, None)) if constant_time_eq(&presented, &hash) => {
                Ok(Some(SmtpPrincipal {
                    org: OrgId::from_uuid(org),
                    name: name.to_owned(),
                    from_domains: domains.split_whitespace().map(str::to_owned).collect(),
                }))
            }
            _ => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains_are_normalized_and_checked() {
        assert_eq!(
            normalize_domain(" Clinic.Example. ").as_deref(),
            Some("clinic.example")
        );
        assert_eq!(normalize_domain("bad_domain.org"), None);
        assert_eq!(normalize_domain("-x.org"), None);
        assert_eq!(normalize_domain(""), None);
    }

    #[test]
    fn user_names_are_restricted_to_a_safe_alphabet() {
        assert!(valid_name("ehr-notify"));
        assert!(!valid_name("bad name"));
        assert!(!valid_name(""));
    }
}
