//! Contacts: the people an organization writes to. Every field is PHI and sealed; the
//! email address also has a blind index for lookups.

use carepost_audit::{AuditEvent, ObjectRef, actions};
use carepost_core::{AccessContext, ContactId, Phi};
use carepost_crypto::FieldContext;
use uuid::Uuid;

use crate::backend::{read, write};
use crate::dialect::pick;
use crate::{OrgScope, Result, StoreError, now_us};

pub(crate) const TABLE: &str = "contacts";
const OPTIONAL_COLUMNS: [&str; 5] = [
    "given_name",
    "family_name",
    "birth_date",
    "phone",
    "attributes",
];

/// A contact's PHI, as written or read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactFields {
    /// Email address (required; looked up case-insensitively).
    pub email: Phi<String>,
    /// Given name.
    pub given_name: Option<Phi<String>>,
    /// Family name.
    pub family_name: Option<Phi<String>>,
    /// Date of birth, as given (ISO 8601 recommended).
    pub birth_date: Option<Phi<String>>,
    /// Phone number.
    pub phone: Option<Phi<String>>,
    /// Further attributes: a JSON object.
    pub attributes: Option<Phi<String>>,
}

impl ContactFields {
    /// Fields with only an email address.
    pub fn with_email(email: impl Into<String>) -> Self {
        Self {
            email: Phi::new(email.into()),
            given_name: None,
            family_name: None,
            birth_date: None,
            phone: None,
            attributes: None,
        }
    }

    fn optional(&self) -> [&Option<Phi<String>>; 5] {
        [
            &self.given_name,
            &self.family_name,
            &self.birth_date,
            &self.phone,
            &self.attributes,
        ]
    }

    fn validate(&self) -> Result<()> {
        let email = self.email.expose();
        let at = email.find('@');
        if email.len() > 320 || at.is_none_or(|i| i == 0 || i + 1 == email.len()) {
            return Err(StoreError::Invalid(
                "email must be an address like name@example.org".into(),
            ));
        }
        if let Some(a) = &self.attributes {
            match serde_json::from_str::<serde_json::Value>(a.expose()) {
                Ok(serde_json::Value::Object(_)) => {}
                _ => {
                    return Err(StoreError::Invalid(
                        "attributes must be a JSON object".into(),
                    ));
                }
            }
        }
        Ok(())
    }
}

/// A stored contact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contact {
    /// Its id.
    pub id: ContactId,
    /// Its PHI.
    pub fields: ContactFields,
    /// When it was created.
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// When it was last changed.
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

pub(crate) type ContactRow = (
    Uuid,
    i64,
    Vec<u8>,
    Option<Vec<u8>>,
    Option<Vec<u8>>,
    Option<Vec<u8>>,
    Option<Vec<u8>>,
    Option<Vec<u8>>,
    i64,
    i64,
);

const SELECT_CONTACT: &str = "SELECT id, key_version, email, given_name, family_name, birth_date, \
     phone, attributes, created_at, updated_at FROM contacts WHERE org_id = $1 AND id = $2";

/// The guarded insert: it writes only while the key version it sealed with is the active
/// one; PostgreSQL also locks that key row (`FOR SHARE`) so a rotation waits for it.
macro_rules! insert_sql {
    ($lock:literal) => {
        concat!(
            "INSERT INTO contacts (id, org_id, key_version, email_index, email, given_name, ",
            "family_name, birth_date, phone, attributes, created_at, updated_at) ",
            "SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11 WHERE EXISTS (SELECT 1 ",
            "FROM data_keys WHERE org_id = $2 AND version = $3 AND state = 'active'",
            $lock,
            ")"
        )
    };
}

/// The guarded update, on the same terms as [`insert_sql`].
macro_rules! update_sql {
    ($lock:literal) => {
        concat!(
            "UPDATE contacts SET key_version = $1, email_index = $2, email = $3, given_name = $4, ",
            "family_name = $5, birth_date = $6, phone = $7, attributes = $8, updated_at = $9 ",
            "WHERE org_id = $10 AND id = $11 AND EXISTS (SELECT 1 FROM data_keys ",
            "WHERE org_id = $10 AND version = $1 AND state = 'active'",
            $lock,
            ")"
        )
    };
}

pub(crate) fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

/// The sealed form of a contact's fields under the active key.
pub(crate) struct SealedContact {
    pub(crate) key_version: i64,
    pub(crate) email_index: Vec<u8>,
    pub(crate) email: Vec<u8>,
    pub(crate) optional: [Option<Vec<u8>>; 5],
}

impl OrgScope {
    pub(crate) fn seal_contact(&self, id: ContactId, f: &ContactFields) -> Result<SealedContact> {
        let ring = self.keyring();
        let row = id.to_string();
        let at = |column| FieldContext {
            table: TABLE,
            column,
            row: &row,
        };
        let normalized = Phi::new(normalize_email(f.email.expose()));
        let mut optional: [Option<Vec<u8>>; 5] = Default::default();
        for (slot, (column, value)) in optional
            .iter_mut()
            .zip(OPTIONAL_COLUMNS.iter().zip(f.optional()))
        {
            if let Some(v) = value {
                *slot = Some(ring.seal(&at(column), v.expose().as_bytes())?);
            }
        }
        Ok(SealedContact {
            key_version: i64::from(ring.active_version()),
            email_index: ring.blind_index(TABLE, "email", normalized.expose().as_bytes()),
            email: ring.seal(&at("email"), f.email.expose().as_bytes())?,
            optional,
        })
    }

    pub(crate) async fn open_contact(&self, row: ContactRow) -> Result<Contact> {
        let (id, _version, email, given, family, birth, phone, attrs, created, updated) = row;
        let row_id = id.to_string();
        let mut optional: [Option<Phi<String>>; 5] = Default::default();
        for (slot, (column, sealed)) in optional.iter_mut().zip(
            OPTIONAL_COLUMNS
                .iter()
                .zip([given, family, birth, phone, attrs]),
        ) {
            if let Some(ct) = sealed {
                *slot = Some(self.open_text(column, &row_id, &ct).await?);
            }
        }
        let [given_name, family_name, birth_date, phone, attributes] = optional;
        Ok(Contact {
            id: ContactId::from_uuid(id),
            fields: ContactFields {
                email: self.open_text("email", &row_id, &email).await?,
                given_name,
                family_name,
                birth_date,
                phone,
                attributes,
            },
            created_at: chrono::DateTime::from_timestamp_micros(created).unwrap_or_default(),
            updated_at: chrono::DateTime::from_timestamp_micros(updated).unwrap_or_default(),
        })
    }

    async fn open_text(&self, column: &str, row: &str, ct: &[u8]) -> Result<Phi<String>> {
        let plain = self
            .open_field(
                &FieldContext {
                    table: TABLE,
                    column,
                    row,
                },
                ct,
            )
            .await?;
        String::from_utf8(plain.to_vec())
            .map(Phi::new)
            .map_err(|_| StoreError::Corrupt(format!("contact {row}: {column} is not UTF-8")))
    }

    /// Every contact's full name ("given family"), for the DLP index of patient names that
    /// is kept in memory. Audited as one access with the count.
    pub async fn contact_names(&self, by: &AccessContext) -> Result<Vec<Phi<String>>> {
        type NameRow = (Uuid, Option<Vec<u8>>, Option<Vec<u8>>);
        let org = self.org_id().as_uuid();
        let rows: Vec<NameRow> =
            read!(self, |conn| {
                Ok(sqlx::query_as(
                    "SELECT id, given_name, family_name FROM contacts WHERE org_id = $1",
                )
                .bind(org)
                .fetch_all(&mut *conn)
                .await?)
            })?;
        self.audit(
            AuditEvent::new(
                by.actor.clone(),
                actions::CONTACT_NAME_INDEX,
                ObjectRef::new("contact", "*"),
            )
            .source(by.source)
            .detail(serde_json::json!({ "contacts": rows.len() })),
        )
        .await?;
        let mut names = Vec::with_capacity(rows.len());
        for (id, given, family) in rows {
            let row = id.to_string();
            let mut parts = Vec::new();
            for (column, sealed) in [("given_name", given), ("family_name", family)] {
                if let Some(ct) = sealed {
                    parts.push(self.open_text(column, &row, &ct).await?.expose().clone());
                }
            }
            if parts.len() == 2 {
                names.push(Phi::new(parts.join(" ")));
            }
        }
        Ok(names)
    }

    /// A cheap fingerprint of the organization's contacts (count and latest change), to
    /// tell whether an index built from them is stale.
    pub async fn contacts_fingerprint(&self) -> Result<(i64, i64)> {
        let org = self.org_id().as_uuid();
        read!(self, |conn| {
            Ok(sqlx::query_as(
                "SELECT COUNT(*), COALESCE(MAX(updated_at), 0) FROM contacts WHERE org_id = $1",
            )
            .bind(org)
            .fetch_one(&mut *conn)
            .await?)
        })
    }

    fn audit_event(&self, by: &AccessContext, action: &str, id: impl ToString) -> AuditEvent {
        AuditEvent::new(by.actor.clone(), action, ObjectRef::new("contact", id)).source(by.source)
    }

    /// Creates a contact. The creation is audited before it is written.
    pub async fn create_contact(
        &self,
        by: &AccessContext,
        fields: ContactFields,
    ) -> Result<ContactId> {
        fields.validate()?;
        let id = ContactId::new();
        self.audit(self.audit_event(by, actions::CONTACT_CREATE, id))
            .await?;
        if self.insert_contact(id, &fields).await? {
            return Ok(id);
        }
        // Sealed with a key version that is no longer active (rotated by another process
        // or node): seal again with the current keys.
        if self
            .store
            .org_fresh(self.org_id())
            .await?
            .insert_contact(id, &fields)
            .await?
        {
            return Ok(id);
        }
        Err(StoreError::KeyState(
            "the organization's active data key changed twice during one write; retry".into(),
        ))
    }

    /// Inserts a sealed contact if the key version it was sealed with is still the active
    /// one (on PostgreSQL, locking that key row so a rotation waits for this write).
    async fn insert_contact(&self, id: ContactId, fields: &ContactFields) -> Result<bool> {
        let sealed = self.seal_contact(id, fields)?;
        let (org, uid, now) = (self.org_id().as_uuid(), id.as_uuid(), now_us());
        write!(self, |conn| {
            let [given, family, birth, phone, attrs] = sealed.optional;
            let sql = pick(&*conn, insert_sql!(""), insert_sql!(" FOR SHARE"));
            let done = sqlx::query(sql)
                .bind(uid)
                .bind(org)
                .bind(sealed.key_version)
                .bind(sealed.email_index)
                .bind(sealed.email)
                .bind(given)
                .bind(family)
                .bind(birth)
                .bind(phone)
                .bind(attrs)
                .bind(now)
                .execute(&mut *conn)
                .await?;
            Ok(done.rows_affected() == 1)
        })
    }

    /// Reads a contact's PHI. The read is audited before the data is returned.
    pub async fn contact(&self, by: &AccessContext, id: ContactId) -> Result<Option<Contact>> {
        self.audit(self.audit_event(by, actions::CONTACT_READ, id))
            .await?;
        let (org, uid) = (self.org_id().as_uuid(), id.as_uuid());
        let row: Option<ContactRow> = read!(self, |conn| {
            Ok(sqlx::query_as(SELECT_CONTACT)
                .bind(org)
                .bind(uid)
                .fetch_optional(&mut *conn)
                .await?)
        })?;
        match row {
            Some(r) => Ok(Some(self.open_contact(r).await?)),
            None => Ok(None),
        }
    }

    /// Finds a contact by email address (case-insensitive), through its blind index.
    /// The lookup is audited with the contact found (or `none`).
    pub async fn find_contact_by_email(
        &self,
        by: &AccessContext,
        email: &str,
    ) -> Result<Option<Contact>> {
        let normalized = Phi::new(normalize_email(email));
        let org = self.org_id().as_uuid();
        let mut found: Option<ContactRow> = None;
        for index in self
            .keyring()
            .blind_indexes(TABLE, "email", normalized.expose().as_bytes())
        {
            let row: Option<ContactRow> = read!(self, |conn| {
                Ok(sqlx::query_as(
                    "SELECT id, key_version, email, given_name, family_name, birth_date, phone, \
                     attributes, created_at, updated_at FROM contacts \
                     WHERE org_id = $1 AND email_index = $2 ORDER BY created_at LIMIT 1",
                )
                .bind(org)
                .bind(index)
                .fetch_optional(&mut *conn)
                .await?)
            })?;
            if row.is_some() {
                found = row;
                break;
            }
        }
        let object = found
            .as_ref()
            .map_or_else(|| "none".to_owned(), |r| r.0.to_string());
        self.audit(self.audit_event(by, actions::CONTACT_LOOKUP, object))
            .await?;
        match found {
            Some(r) => Ok(Some(self.open_contact(r).await?)),
            None => Ok(None),
        }
    }

    /// Replaces a contact's fields. Returns whether the contact exists.
    pub async fn update_contact(
        &self,
        by: &AccessContext,
        id: ContactId,
        fields: ContactFields,
    ) -> Result<bool> {
        fields.validate()?;
        self.audit(self.audit_event(by, actions::CONTACT_UPDATE, id))
            .await?;
        if self.write_contact(id, &fields).await? {
            return Ok(true);
        }
        // Nothing changed: the contact does not exist, or this keyring is stale. Retry
        // once with the current keys to tell which.
        self.store
            .org_fresh(self.org_id())
            .await?
            .write_contact(id, &fields)
            .await
    }

    async fn write_contact(&self, id: ContactId, fields: &ContactFields) -> Result<bool> {
        let sealed = self.seal_contact(id, fields)?;
        let (org, uid, now) = (self.org_id().as_uuid(), id.as_uuid(), now_us());
        write!(self, |conn| {
            let [given, family, birth, phone, attrs] = sealed.optional;
            let sql = pick(&*conn, update_sql!(""), update_sql!(" FOR SHARE"));
            let done = sqlx::query(sql)
                .bind(sealed.key_version)
                .bind(sealed.email_index)
                .bind(sealed.email)
                .bind(given)
                .bind(family)
                .bind(birth)
                .bind(phone)
                .bind(attrs)
                .bind(now)
                .bind(org)
                .bind(uid)
                .execute(&mut *conn)
                .await?;
            Ok(done.rows_affected() > 0)
        })
    }

    /// Deletes a contact. Returns whether it existed.
    pub async fn delete_contact(&self, by: &AccessContext, id: ContactId) -> Result<bool> {
        self.audit(self.audit_event(by, actions::CONTACT_DELETE, id))
            .await?;
        let (org, uid) = (self.org_id().as_uuid(), id.as_uuid());
        write!(self, |conn| {
            let done = sqlx::query("DELETE FROM contacts WHERE org_id = $1 AND id = $2")
                .bind(org)
                .bind(uid)
                .execute(&mut *conn)
                .await?;
            Ok(done.rows_affected() > 0)
        })
    }

    /// How many contacts the organization has (no PHI is read).
    pub async fn contact_count(&self) -> Result<i64> {
        let org = self.org_id().as_uuid();
        read!(self, |conn| {
            Ok(
                sqlx::query_scalar("SELECT COUNT(*) FROM contacts WHERE org_id = $1")
                    .bind(org)
                    .fetch_one(&mut *conn)
                    .await?,
            )
        })
    }
}
