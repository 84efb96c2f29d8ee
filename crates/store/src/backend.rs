//! The two backends and how to reach them.
//!
//! Store code is written once: the [`read!`] and [`write!`] macros expand a block for
//! each backend, with `$conn` bound to a `SqliteConnection` or a `PgConnection`. SQL in
//! those blocks uses `$1`-style placeholders, which both databases accept, and the
//! column types that both map alike (i64, blobs/bytea, text, UUID).

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::ConnectOptions;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use crate::writer::SqliteWriter;
use crate::{Result, StoreError};

/// Where the data lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// An SQLite file (the embedded default).
    Sqlite(std::path::PathBuf),
    /// A PostgreSQL URL (`postgres://user@host:5432/db`).
    Postgres(String),
}

impl Location {
    /// Parses a `database_url`: `postgres://…` / `postgresql://…`, `sqlite://PATH` or a
    /// plain file path.
    pub fn parse(url: &str) -> Result<Self> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            PgConnectOptions::from_str(url).map_err(|e| {
                StoreError::Invalid(format!("database_url is not a valid PostgreSQL URL: {e}"))
            })?;
            Ok(Self::Postgres(url.to_owned()))
        } else if let Some(path) = url.strip_prefix("sqlite://") {
            Ok(Self::Sqlite(path.into()))
        } else if url.contains("://") {
            Err(StoreError::Invalid(
                "database_url must start with postgres://, postgresql:// or sqlite://".into(),
            ))
        } else {
            Ok(Self::Sqlite(url.into()))
        }
    }

    /// A description safe to print: no password.
    pub fn describe(&self) -> String {
        match self {
            Self::Sqlite(p) => format!("SQLite {}", p.display()),
            Self::Postgres(url) => match PgConnectOptions::from_str(url) {
                Ok(o) => format!(
                    "PostgreSQL {}:{}/{}",
                    o.get_host(),
                    o.get_port(),
                    o.get_database().unwrap_or("postgres")
                ),
                Err(_) => "PostgreSQL (invalid URL)".into(),
            },
        }
    }
}

#[derive(Clone)]
pub(crate) struct SqliteBackend {
    pub(crate) read: SqlitePool,
    pub(crate) writer: SqliteWriter,
}

#[derive(Clone)]
pub(crate) enum Backend {
    Sqlite(SqliteBackend),
    Postgres(PgPool),
}

impl Backend {
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Self::Sqlite(_) => "sqlite",
            Self::Postgres(_) => "postgres",
        }
    }
}

/// Opens SQLite: the writer connection first (it runs the migrations), then a pool of
/// read-only connections.
pub(crate) async fn open_sqlite(path: &Path, max_readers: u32) -> Result<Backend> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| {
            StoreError::Invalid(format!(
                "cannot create the data directory {}: {e}",
                dir.display()
            ))
        })?;
    }
    let base = SqliteConnectOptions::new()
        .filename(path)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .busy_timeout(Duration::from_secs(10))
        .foreign_keys(true)
        .log_statements(tracing::log::LevelFilter::Trace);
    let mut writer_conn = base
        .clone()
        .create_if_missing(true)
        .connect()
        .await
        .map_err(|e| StoreError::Unreachable {
            target: format!("SQLite {}", path.display()),
            attempts: 1,
            reason: e.to_string(),
        })?;
    crate::migrate::sqlite(&mut writer_conn).await?;
    let read = SqlitePoolOptions::new()
        .max_connections(max_readers.max(1))
        .connect_lazy_with(base.read_only(true));
    Ok(Backend::Sqlite(SqliteBackend {
        read,
        writer: SqliteWriter::start(writer_conn),
    }))
}

/// Opens PostgreSQL, retrying with exponential backoff while it is unreachable.
pub(crate) async fn open_postgres(
    url: &str,
    attempts: u32,
    max_connections: u32,
) -> Result<Backend> {
    let opts = PgConnectOptions::from_str(url)
        .map_err(|e| {
            StoreError::Invalid(format!("database_url is not a valid PostgreSQL URL: {e}"))
        })?
        .log_statements(tracing::log::LevelFilter::Trace);
    let target = Location::Postgres(url.to_owned()).describe();
    let attempts = attempts.max(1);
    let mut delay = Duration::from_millis(200);
    let mut last = String::new();
    for attempt in 1..=attempts {
        match PgPoolOptions::new()
            .max_connections(max_connections.max(2))
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(opts.clone())
            .await
        {
            Ok(pool) => {
                crate::migrate::postgres(&pool).await?;
                return Ok(Backend::Postgres(pool));
            }
            Err(e) => {
                last = e.to_string();
                if attempt < attempts {
                    tracing::warn!(target_db = %target, attempt, error = %last, "PostgreSQL unreachable, retrying");
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(Duration::from_secs(5));
                }
            }
        }
    }
    Err(StoreError::Unreachable {
        target,
        attempts,
        reason: last,
    })
}

/// Runs a block against a read connection of either backend.
macro_rules! read {
    ($store:expr, |$conn:ident| $body:block) => {
        match $store.backend() {
            $crate::backend::Backend::Sqlite(b) => {
                let mut pooled = b.read.acquire().await?;
                let $conn: &mut sqlx::SqliteConnection = &mut *pooled;
                let out: $crate::Result<_> = async move $body.await;
                out
            }
            $crate::backend::Backend::Postgres(pool) => {
                let mut pooled = pool.acquire().await?;
                let $conn: &mut sqlx::PgConnection = &mut *pooled;
                let out: $crate::Result<_> = async move $body.await;
                out
            }
        }
    };
}

/// Runs a block in a write transaction of either backend: SQLite's group-committing
/// writer, or a PostgreSQL transaction of its own. Values the block uses must be owned
/// (it may run on the writer task).
macro_rules! write {
    ($store:expr, |$conn:ident| $body:block) => {
        match $store.backend() {
            $crate::backend::Backend::Sqlite(b) => {
                b.writer
                    .run(move |$conn: &mut sqlx::SqliteConnection| Box::pin(async move $body))
                    .await
            }
            $crate::backend::Backend::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                let out = {
                    let $conn: &mut sqlx::PgConnection = &mut *tx;
                    let out: $crate::Result<_> = async move $body.await;
                    out
                };
                if out.is_ok() {
                    tx.commit().await?;
                }
                out
            }
        }
    };
}

pub(crate) use {read, write};
