-- carepost foundation schema (PostgreSQL). Times are microseconds since the Unix epoch
-- (UTC), as on SQLite, so that audit hashes are computed over identical values.

CREATE TABLE organizations (
    id          UUID PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    created_at  BIGINT NOT NULL
);

CREATE TABLE key_checks (
    kek_version BIGINT PRIMARY KEY,
    check_value BYTEA NOT NULL,
    created_at  BIGINT NOT NULL
);

CREATE TABLE data_keys (
    org_id      UUID NOT NULL REFERENCES organizations(id),
    version     BIGINT NOT NULL,
    kek_version BIGINT NOT NULL,
    wrapped     BYTEA NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ('active', 'decrypt_only', 'retired')),
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (org_id, version)
);

CREATE TABLE contacts (
    id          UUID PRIMARY KEY,
    org_id      UUID NOT NULL REFERENCES organizations(id),
    key_version BIGINT NOT NULL,
    email_index BYTEA NOT NULL,
    email       BYTEA NOT NULL,
    given_name  BYTEA,
    family_name BYTEA,
    birth_date  BYTEA,
    phone       BYTEA,
    attributes  BYTEA,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE INDEX contacts_by_email ON contacts (org_id, email_index);
CREATE INDEX contacts_by_key_version ON contacts (org_id, key_version);

CREATE TABLE audit_records (
    org_id      UUID NOT NULL REFERENCES organizations(id),
    seq         BIGINT NOT NULL,
    ts          BIGINT NOT NULL,
    actor_kind  TEXT NOT NULL,
    actor_id    TEXT NOT NULL,
    action      TEXT NOT NULL,
    object_type TEXT NOT NULL,
    object_id   TEXT NOT NULL,
    outcome     TEXT NOT NULL,
    source      TEXT,
    detail      TEXT,
    prev_hash   BYTEA NOT NULL,
    hash        BYTEA NOT NULL,
    PRIMARY KEY (org_id, seq)
);
CREATE INDEX audit_records_by_time ON audit_records (org_id, ts);

-- The append-only rule, enforced by the database as well as by carepost. A superuser can
-- still disable it: the hash chain and the signed checkpoints are what detect that.
CREATE FUNCTION carepost_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit records are append-only';
END;
$$;
CREATE TRIGGER audit_records_append_only BEFORE UPDATE OR DELETE ON audit_records
    FOR EACH ROW EXECUTE FUNCTION carepost_audit_append_only();

CREATE TABLE audit_heads (
    org_id UUID PRIMARY KEY REFERENCES organizations(id),
    seq    BIGINT NOT NULL,
    hash   BYTEA NOT NULL
);

CREATE TABLE audit_signing_keys (
    org_id      UUID NOT NULL REFERENCES organizations(id),
    key_id      TEXT NOT NULL,
    public_key  BYTEA NOT NULL,
    private_key BYTEA NOT NULL,
    key_version BIGINT NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (org_id, key_id)
);

CREATE TABLE audit_checkpoints (
    org_id    UUID NOT NULL REFERENCES organizations(id),
    seq       BIGINT NOT NULL,
    hash      BYTEA NOT NULL,
    ts        BIGINT NOT NULL,
    key_id    TEXT NOT NULL,
    signature BYTEA NOT NULL,
    PRIMARY KEY (org_id, seq)
);
