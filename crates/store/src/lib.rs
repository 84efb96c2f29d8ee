//! carepost's storage layer: one API over SQLite (the embedded default) and PostgreSQL
//! (production, several nodes sharing one database).
//!
//! - **Tenancy in the types.** Tenant data is reached only through an [`OrgScope`], which
//!   [`Store::org`] hands out for one existing organization; every query it runs is bound
//!   to that organization's id. There is no call that reads contacts or audit records
//!   "of all organizations".
//! - **PHI sealed before it reaches a row.** Fields holding PHI are sealed with the
//!   organization's active data key, with associated data naming organization, table,
//!   column and row; equality lookups use keyed blind indexes. PHI goes in and comes out
//!   as [`carepost_core::Phi`].
//! - **Every PHI access audited.** Calls that read or change PHI take an
//!   [`AccessContext`](carepost_core::AccessContext) and append an audit record (durably)
//!   before they act.
//! - **Group commit.** SQLite writes go through one writer task that commits waiting
//!   writes together; audit appends are batched on both backends.
//!
//! The store refuses: a database with a newer schema, a master key that does not match
//! the database's key check value, names and ids of organizations that do not exist.
#![forbid(unsafe_code)]

mod api_keys;
mod audit_log;
mod backend;
mod contacts;
mod dialect;
mod dkim_keys;
mod error;
mod keys;
mod messages;
mod migrate;
mod orgs;
mod protection_rules;
mod quarantine;
mod queue;
mod reencrypt;
mod sandbox;
mod scope;
mod sealed;
mod smtp_users;
mod suppressions;
mod writer;

#[cfg(feature = "testing")]
pub mod testing;

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use carepost_core::OrgId;
use carepost_crypto::{KeyProvider, OrgKeyring};

pub use api_keys::{ApiPrincipal, NewApiKey, SCOPES};
pub use backend::Location;
pub use contacts::{Contact, ContactFields};
pub use dkim_keys::{DkimKey, NewDkimKey};
pub use error::{Result, StoreError};
pub use keys::{DataKeyInfo, DataKeyState};
pub use messages::{
    Accepted, DeliveryEvent, Envelope, Hold, MAX_RECIPIENTS, MessageStatus, NewMessage,
    RecipientStatus,
};
pub use migrate::schema_version;
pub use quarantine::{HeldMessage, Resolution};
pub use queue::{AttemptRecord, DueRecipient, QueuedMessage};
pub use reencrypt::ReencryptProgress;
pub use sandbox::SandboxMessage;
pub use scope::OrgScope;
pub use smtp_users::{NewSmtpUser, SmtpPrincipal};
pub use suppressions::Suppression;

use crate::audit_log::AuditAppender;
use crate::backend::Backend;

/// How to open the store.
#[derive(Debug, Clone)]
pub struct StoreConfig {
    /// Where the data lives.
    pub location: Location,
    /// Attempts to reach PostgreSQL at start, with exponential backoff between them.
    pub connect_attempts: u32,
    /// Connections in the PostgreSQL pool, or SQLite readers.
    pub max_connections: u32,
}

impl StoreConfig {
    /// Defaults for `location`.
    pub fn new(location: Location) -> Self {
        Self {
            location,
            connect_attempts: 8,
            max_connections: 8,
        }
    }
}

/// The store. Cheap to clone; all clones share one connection pool and writer.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    backend: Backend,
    location: Location,
    keys: Arc<dyn KeyProvider>,
    keyrings: RwLock<HashMap<OrgId, Arc<OrgKeyring>>>,
    appender: AuditAppender,
}

impl Store {
    /// Opens the store: connects (retrying PostgreSQL while it is unreachable), applies
    /// the embedded migrations, and checks that `keys` is the master key this database
    /// was created with.
    pub async fn open(config: &StoreConfig, keys: Arc<dyn KeyProvider>) -> Result<Self> {
        let backend = match &config.location {
            Location::Sqlite(path) => backend::open_sqlite(path, config.max_connections).await?,
            Location::Postgres(url) => {
                backend::open_postgres(url, config.connect_attempts, config.max_connections).await?
            }
        };
        keys::check_master_key(&backend, keys.as_ref()).await?;
        let appender = AuditAppender::start(backend.clone());
        let inner = Inner {
            backend,
            location: config.location.clone(),
            keys,
            keyrings: RwLock::new(HashMap::new()),
            appender,
        };
        Ok(Self {
            inner: Arc::new(inner),
        })
    }

    /// `sqlite` or `postgres`.
    pub fn backend_name(&self) -> &'static str {
        self.inner.backend.name()
    }

    /// Where the data lives, safe to print (no password).
    pub fn describe(&self) -> String {
        self.inner.location.describe()
    }

    /// Checks that the database answers (for readiness probes).
    pub async fn ping(&self) -> Result<()> {
        backend::read!(self, |conn| {
            sqlx::query("SELECT 1").execute(&mut *conn).await?;
            Ok(())
        })
    }

    pub(crate) fn backend(&self) -> &Backend {
        &self.inner.backend
    }

    pub(crate) fn key_provider(&self) -> &dyn KeyProvider {
        self.inner.keys.as_ref()
    }
}

impl Backend {
    pub(crate) fn backend(&self) -> &Backend {
        self
    }
}

/// Microseconds since the Unix epoch, now.
pub(crate) fn now_us() -> i64 {
    chrono::Utc::now().timestamp_micros()
}
