-- carepost foundation schema (SQLite). Ids are UUIDs stored as 16-byte blobs; times are
-- microseconds since the Unix epoch (UTC). Every tenant table carries org_id.

CREATE TABLE organizations (
    id          BLOB PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    created_at  INTEGER NOT NULL
);

-- One key check value per key-encryption key version, to tell a wrong master key apart
-- from damaged data.
CREATE TABLE key_checks (
    kek_version INTEGER PRIMARY KEY,
    check_value BLOB NOT NULL,
    created_at  INTEGER NOT NULL
);

CREATE TABLE data_keys (
    org_id      BLOB NOT NULL REFERENCES organizations(id),
    version     INTEGER NOT NULL,
    kek_version INTEGER NOT NULL,
    wrapped     BLOB NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ('active', 'decrypt_only', 'retired')),
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (org_id, version)
);

CREATE TABLE contacts (
    id          BLOB PRIMARY KEY,
    org_id      BLOB NOT NULL REFERENCES organizations(id),
    key_version INTEGER NOT NULL,
    email_index BLOB NOT NULL,
    email       BLOB NOT NULL,
    given_name  BLOB,
    family_name BLOB,
    birth_date  BLOB,
    phone       BLOB,
    attributes  BLOB,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
CREATE INDEX contacts_by_email ON contacts (org_id, email_index);
CREATE INDEX contacts_by_key_version ON contacts (org_id, key_version);

CREATE TABLE audit_records (
    org_id      BLOB NOT NULL REFERENCES organizations(id),
    seq         INTEGER NOT NULL,
    ts          INTEGER NOT NULL,
    actor_kind  TEXT NOT NULL,
    actor_id    TEXT NOT NULL,
    action      TEXT NOT NULL,
    object_type TEXT NOT NULL,
    object_id   TEXT NOT NULL,
    outcome     TEXT NOT NULL,
    source      TEXT,
    detail      TEXT,
    prev_hash   BLOB NOT NULL,
    hash        BLOB NOT NULL,
    PRIMARY KEY (org_id, seq)
);
CREATE INDEX audit_records_by_time ON audit_records (org_id, ts);

-- The append-only rule, enforced by the database as well as by carepost. Someone with
-- write access to the file can still drop these triggers: the hash chain and the signed
-- checkpoints are what detect that.
CREATE TRIGGER audit_records_no_update BEFORE UPDATE ON audit_records
BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END;
CREATE TRIGGER audit_records_no_delete BEFORE DELETE ON audit_records
BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END;

CREATE TABLE audit_heads (
    org_id BLOB PRIMARY KEY REFERENCES organizations(id),
    seq    INTEGER NOT NULL,
    hash   BLOB NOT NULL
);

CREATE TABLE audit_signing_keys (
    org_id      BLOB NOT NULL REFERENCES organizations(id),
    key_id      TEXT NOT NULL,
    public_key  BLOB NOT NULL,
    private_key BLOB NOT NULL,
    key_version INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (org_id, key_id)
);

CREATE TABLE audit_checkpoints (
    org_id    BLOB NOT NULL REFERENCES organizations(id),
    seq       INTEGER NOT NULL,
    hash      BLOB NOT NULL,
    ts        INTEGER NOT NULL,
    key_id    TEXT NOT NULL,
    signature BLOB NOT NULL,
    PRIMARY KEY (org_id, seq)
);
