//! Fresh databases for tests, on either backend.
//!
//! PostgreSQL tests connect to `CAREPOST_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`), create a uniquely named database and
//! drop it when done. They fail when PostgreSQL is unreachable, unless
//! `CAREPOST_TEST_SKIP_POSTGRES=1` is set: the conformance suite must run on both.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use carepost_crypto::{KeyProvider, LocalKeyProvider};
use sqlx::{Connection, Executor};
use zeroize::Zeroizing;

use crate::{Location, Store, StoreConfig};

/// Which backend a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// An SQLite file in a temporary directory.
    Sqlite,
    /// A fresh PostgreSQL database.
    Postgres,
}

/// The server URL for PostgreSQL tests.
pub fn postgres_admin_url() -> String {
    std::env::var("CAREPOST_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// Whether PostgreSQL tests are switched off by `CAREPOST_TEST_SKIP_POSTGRES=1`.
pub fn skip_postgres() -> bool {
    std::env::var("CAREPOST_TEST_SKIP_POSTGRES").is_ok_and(|v| v == "1")
}

/// A test key provider with one fixed key per version in `versions`.
pub fn key_provider(seed: u8, versions: &[u32]) -> Arc<dyn KeyProvider> {
    let mut keys = BTreeMap::new();
    for v in versions {
        keys.insert(*v, Zeroizing::new([seed.wrapping_add(*v as u8); 32]));
    }
    Arc::new(LocalKeyProvider::new("test keys", keys).unwrap_or_else(|e| panic!("{e}")))
}

/// A fresh, empty database that is removed when dropped (SQLite) or by [`TestDb::drop_db`].
pub struct TestDb {
    /// The backend.
    pub kind: Kind,
    /// Where it lives.
    pub location: Location,
    /// The temporary directory (SQLite) that holds the database files.
    pub dir: tempfile::TempDir,
    pg_name: Option<String>,
}

impl TestDb {
    /// Creates a fresh database of `kind`.
    pub async fn new(kind: Kind) -> Self {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
        match kind {
            Kind::Sqlite => {
                let location = Location::Sqlite(dir.path().join("carepost.db"));
                Self {
                    kind,
                    location,
                    dir,
                    pg_name: None,
                }
            }
            Kind::Postgres => {
                let name = format!("carepost_test_{}", uuid::Uuid::new_v4().simple());
                let admin = postgres_admin_url();
                let mut conn = sqlx::PgConnection::connect(&admin).await.unwrap_or_else(|e| {
                    panic!("PostgreSQL tests need a server at {admin} ({e}); start it, set CAREPOST_TEST_POSTGRES_URL, or CAREPOST_TEST_SKIP_POSTGRES=1")
                });
                conn.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .await
                    .unwrap_or_else(|e| panic!("create database: {e}"));
                let url = match admin.rfind('/') {
                    Some(i) => format!("{}/{name}", &admin[..i]),
                    None => panic!("CAREPOST_TEST_POSTGRES_URL must end in /DATABASE"),
                };
                Self {
                    kind,
                    location: Location::Postgres(url),
                    dir,
                    pg_name: Some(name),
                }
            }
        }
    }

    /// The config to open it with.
    pub fn config(&self) -> StoreConfig {
        let mut c = StoreConfig::new(self.location.clone());
        c.connect_attempts = 2;
        c
    }

    /// Opens the store on it with `keys`.
    pub async fn open(&self, keys: Arc<dyn KeyProvider>) -> Store {
        Store::open(&self.config(), keys)
            .await
            .unwrap_or_else(|e| panic!("open store: {e}"))
    }

    /// The SQLite file path (SQLite only).
    pub fn sqlite_path(&self) -> Option<PathBuf> {
        match &self.location {
            Location::Sqlite(p) => Some(p.clone()),
            Location::Postgres(_) => None,
        }
    }

    /// `id` as an SQL literal of this backend's UUID column type.
    pub fn uuid_literal(&self, id: impl Into<uuid::Uuid>) -> String {
        let id: uuid::Uuid = id.into();
        match &self.location {
            Location::Sqlite(_) => format!("x'{}'", id.simple()),
            Location::Postgres(_) => format!("'{id}'::uuid"),
        }
    }

    /// Runs raw SQL outside the store, as someone with direct database access would.
    pub async fn raw(&self, sql: &str) {
        match &self.location {
            Location::Sqlite(p) => {
                let mut c = sqlx::SqliteConnection::connect(&format!("sqlite://{}", p.display()))
                    .await
                    .unwrap_or_else(|e| panic!("raw connect: {e}"));
                c.execute(sqlx::AssertSqlSafe(sql.to_owned()))
                    .await
                    .unwrap_or_else(|e| panic!("raw `{sql}`: {e}"));
            }
            Location::Postgres(url) => {
                let mut c = sqlx::PgConnection::connect(url)
                    .await
                    .unwrap_or_else(|e| panic!("raw connect: {e}"));
                c.execute(sqlx::AssertSqlSafe(sql.to_owned()))
                    .await
                    .unwrap_or_else(|e| panic!("raw `{sql}`: {e}"));
            }
        }
    }

    /// Every row of every table as text (PostgreSQL: `row_to_json` of each row, bytea in
    /// hex), for canary scans.
    pub async fn dump_postgres_rows(&self) -> String {
        let Location::Postgres(url) = &self.location else {
            return String::new();
        };
        let mut c = sqlx::PgConnection::connect(url)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let tables: Vec<String> =
            sqlx::query_scalar("SELECT tablename::text FROM pg_tables WHERE schemaname = 'public'")
                .fetch_all(&mut c)
                .await
                .unwrap_or_else(|e| panic!("{e}"));
        let mut out = String::new();
        for t in tables {
            let rows: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                "SELECT row_to_json(t)::text FROM \"{t}\" t"
            )))
            .fetch_all(&mut c)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
            for r in rows {
                out.push_str(&r);
                out.push('\n');
            }
        }
        out
    }

    /// Drops the PostgreSQL database (no-op for SQLite, whose directory goes on drop).
    pub async fn drop_db(&self) {
        let Some(name) = &self.pg_name else { return };
        if let Ok(mut conn) = sqlx::PgConnection::connect(&postgres_admin_url()).await {
            let _ = conn
                .execute(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                )))
                .await;
        }
    }
}

/// Runs `test` against a fresh database of `kind`, then removes it, even if the test
/// panicked. Returns without running when `kind` is PostgreSQL and
/// `CAREPOST_TEST_SKIP_POSTGRES=1`.
pub async fn with_db<F, Fut>(kind: Kind, test: F)
where
    F: FnOnce(Arc<TestDb>) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    use futures::FutureExt;

    if kind == Kind::Postgres && skip_postgres() {
        eprintln!("skipping a PostgreSQL test: CAREPOST_TEST_SKIP_POSTGRES=1");
        return;
    }
    let db = Arc::new(TestDb::new(kind).await);
    let result = std::panic::AssertUnwindSafe(test(db.clone()))
        .catch_unwind()
        .await;
    db.drop_db().await;
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
}

/// Declares one test per backend: `both_backends!(name, |db| async move { ... });`
/// expands to `name::sqlite` and `name::postgres`.
#[macro_export]
macro_rules! both_backends {
    ($name:ident, $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                $crate::testing::with_db($crate::testing::Kind::Sqlite, $body).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                $crate::testing::with_db($crate::testing::Kind::Postgres, $body).await;
            }
        }
    };
}
