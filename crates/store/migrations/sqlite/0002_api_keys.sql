-- API keys: a public id and a SHA-256 of a 256-bit random secret (a fast hash is right
-- for a random secret; passwords get Argon2 elsewhere). Scopes are space-separated.
CREATE TABLE api_keys (
    id          TEXT PRIMARY KEY,
    org_id      BLOB NOT NULL REFERENCES organizations(id),
    name        TEXT NOT NULL,
    scopes      TEXT NOT NULL,
    secret_hash BLOB NOT NULL,
    created_at  INTEGER NOT NULL,
    revoked_at  INTEGER
);
CREATE INDEX api_keys_by_org ON api_keys (org_id);
