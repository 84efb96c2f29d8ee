use thiserror::Error;

/// Why a store operation failed. Messages name the cause and what to do, never a PHI
/// value or a password.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database could not be reached at start, after retrying.
    #[error(
        "cannot reach {target} after {attempts} attempts: {reason}; check that the database is running and `database_url` is right"
    )]
    Unreachable {
        /// Host, port and database name (no password).
        target: String,
        /// How many attempts were made.
        attempts: u32,
        /// The last error.
        reason: String,
    },
    /// The database was written by a newer carepost.
    #[error(
        "the database schema is version {found}, newer than this carepost supports ({supported}); upgrade carepost, or point it at another database"
    )]
    SchemaTooNew {
        /// The newest migration applied to the database.
        found: i64,
        /// The newest migration this build knows.
        supported: i64,
    },
    /// Migrations failed.
    #[error("database migration failed: {0}")]
    Migration(String),
    /// The master key does not match the one this database was created with.
    #[error(
        "wrong master key: key-encryption key version {version} from {source_name} does not match this database's key check value; use the key file (or CAREPOST_MASTER_KEY) this database was created with"
    )]
    WrongMasterKey {
        /// The KEK version that differs.
        version: i64,
        /// Where the key came from.
        source_name: String,
    },
    /// The master key source lacks a version the database uses.
    #[error(
        "the master key source ({source_name}) has no key-encryption key version {version}, which this database uses; use the key file this database was created with"
    )]
    MissingMasterKeyVersion {
        /// The missing KEK version.
        version: i64,
        /// Where the keys came from.
        source_name: String,
    },
    /// No such organization.
    #[error("organization {0} does not exist")]
    UnknownOrganization(String),
    /// An organization name is already taken.
    #[error("an organization named '{0}' already exists")]
    DuplicateOrganization(String),
    /// An invalid argument (never includes PHI).
    #[error("invalid input: {0}")]
    Invalid(String),
    /// A key operation cannot be done in the current state.
    #[error("{0}")]
    KeyState(String),
    /// Encryption or decryption failed.
    #[error(transparent)]
    Crypto(#[from] carepost_crypto::CryptoError),
    /// A stored row is not what carepost wrote.
    #[error("stored data is damaged: {0}")]
    Corrupt(String),
    /// The database reported an error.
    #[error("database error: {0}")]
    Database(String),
    /// The store is shutting down.
    #[error("the store is shutting down")]
    Closed,
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        // sqlx errors name statements and constraint names, never bound values.
        Self::Database(e.to_string())
    }
}

/// Result of a store call.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;
