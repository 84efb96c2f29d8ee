//! The few places where SQLite's and PostgreSQL's SQL differ.

use sqlx::{PgConnection, SqliteConnection};

/// Implemented by each backend's connection type.
pub(crate) trait Dialect {
    const POSTGRES: bool;
}

impl Dialect for SqliteConnection {
    const POSTGRES: bool = false;
}

impl Dialect for PgConnection {
    const POSTGRES: bool = true;
}

/// Picks the statement for `conn`'s backend.
pub(crate) fn pick<C: Dialect + ?Sized>(
    _conn: &C,
    sqlite: &'static str,
    postgres: &'static str,
) -> &'static str {
    if C::POSTGRES { postgres } else { sqlite }
}

/// Turns a stored blob into a 32-byte hash; a blob of another length (damage) becomes
/// zeros, which no verification accepts.
pub(crate) fn hash32(v: &[u8]) -> [u8; 32] {
    <[u8; 32]>::try_from(v).unwrap_or([0; 32])
}
