-- API keys: a public id and a SHA-256 of a 256-bit random secret (a fast hash is right
-- for a random secret; passwords get Argon2 elsewhere). Scopes are space-separated.
CREATE TABLE api_keys (
    id          TEXT PRIMARY KEY,
    org_id      UUID NOT NULL REFERENCES organizations(id),
    name        TEXT NOT NULL,
    scopes      TEXT NOT NULL,
    secret_hash BYTEA NOT NULL,
    created_at  BIGINT NOT NULL,
    revoked_at  BIGINT
);
CREATE INDEX api_keys_by_org ON api_keys (org_id);
