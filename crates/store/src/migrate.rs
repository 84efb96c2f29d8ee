//! Embedded migrations, and the refusal to touch a database written by a newer carepost.

use sqlx::migrate::Migrator;
use sqlx::{PgPool, SqliteConnection};

use crate::{Result, StoreError};

static SQLITE: Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES: Migrator = sqlx::migrate!("./migrations/postgres");

fn newest(m: &Migrator) -> i64 {
    m.iter().map(|x| x.version).max().unwrap_or(0)
}

fn refuse_newer(found: Option<i64>, m: &Migrator) -> Result<()> {
    let supported = newest(m);
    match found {
        Some(found) if found > supported => Err(StoreError::SchemaTooNew { found, supported }),
        _ => Ok(()),
    }
}

pub(crate) async fn sqlite(conn: &mut SqliteConnection) -> Result<()> {
    let exists: Option<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'",
    )
    .fetch_optional(&mut *conn)
    .await?;
    if exists.is_some() {
        let found: Option<i64> = sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations")
            .fetch_one(&mut *conn)
            .await?;
        refuse_newer(found, &SQLITE)?;
    }
    SQLITE
        .run(conn)
        .await
        .map_err(|e| StoreError::Migration(e.to_string()))
}

pub(crate) async fn postgres(pool: &PgPool) -> Result<()> {
    let exists: Option<String> = sqlx::query_scalar("SELECT to_regclass('_sqlx_migrations')::text")
        .fetch_one(pool)
        .await?;
    if exists.is_some() {
        let found: Option<i64> = sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations")
            .fetch_one(pool)
            .await?;
        refuse_newer(found, &POSTGRES)?;
    }
    // The migrator takes an advisory lock, so nodes starting together migrate once.
    POSTGRES
        .run(pool)
        .await
        .map_err(|e| StoreError::Migration(e.to_string()))
}

/// The newest schema version this build applies.
pub fn schema_version() -> i64 {
    newest(&SQLITE).max(newest(&POSTGRES))
}
