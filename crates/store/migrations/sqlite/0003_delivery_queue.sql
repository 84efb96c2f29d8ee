-- The delivery queue. Envelope (sender and recipient addresses), content and delivery
-- evidence are PHI: sealed like every other PHI column. Recipients carry SMTP-model
-- states; the index serves the queue runner's "what is due" question. A runner claims a
-- due recipient by naming itself in claimed_by and moving next_attempt_at past its lease,
-- so a node that dies mid-attempt leaves work that becomes due again by itself.

CREATE TABLE messages (
    id              BLOB PRIMARY KEY,
    org_id          BLOB NOT NULL REFERENCES organizations(id),
    key_version     INTEGER NOT NULL,
    source          TEXT NOT NULL,
    submitter       TEXT NOT NULL,
    protection      TEXT NOT NULL,
    requiretls      INTEGER NOT NULL,
    idempotency_key BLOB,
    tags            TEXT NOT NULL,
    envelope        BLOB NOT NULL,
    content         BLOB NOT NULL,
    size            INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL,
    policy          TEXT,
    UNIQUE (org_id, idempotency_key)
);

CREATE TABLE message_recipients (
    message_id      BLOB NOT NULL REFERENCES messages(id),
    idx             INTEGER NOT NULL,
    org_id          BLOB NOT NULL REFERENCES organizations(id),
    state           TEXT NOT NULL CHECK (state IN ('queued', 'held', 'deferred', 'delivered', 'bounced', 'expired')),
    attempts        INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    claimed_by      TEXT,
    updated_at      INTEGER NOT NULL,
    PRIMARY KEY (message_id, idx)
);
CREATE INDEX message_recipients_due ON message_recipients (org_id, state, next_attempt_at);
-- The runner's "what is due, and when next" questions, over pending rows only.
CREATE INDEX message_recipients_pending ON message_recipients (next_attempt_at, org_id)
    WHERE state IN ('queued', 'deferred');
CREATE INDEX message_recipients_claims ON message_recipients (claimed_by) WHERE claimed_by IS NOT NULL;

CREATE TABLE delivery_events (
    id          BLOB PRIMARY KEY,
    org_id      BLOB NOT NULL REFERENCES organizations(id),
    message_id  BLOB NOT NULL REFERENCES messages(id),
    idx         INTEGER NOT NULL,
    state       TEXT NOT NULL,
    key_version INTEGER NOT NULL,
    evidence    BLOB NOT NULL,
    at          INTEGER NOT NULL
);
CREATE INDEX delivery_events_by_message ON delivery_events (org_id, message_id, at);

CREATE TABLE sandbox_messages (
    id          BLOB PRIMARY KEY,
    org_id      BLOB NOT NULL REFERENCES organizations(id),
    message_id  BLOB NOT NULL REFERENCES messages(id),
    key_version INTEGER NOT NULL,
    raw         BLOB NOT NULL,
    captured_at INTEGER NOT NULL
);
CREATE INDEX sandbox_messages_by_time ON sandbox_messages (org_id, captured_at);

-- SMTP submission credentials. The user name is unique across the installation (SMTP
-- AUTH carries no organization); the password is 256 random bits, stored as SHA-256.
-- from_domains: space-separated domains this credential may send as.
CREATE TABLE smtp_users (
    name         TEXT PRIMARY KEY,
    org_id       BLOB NOT NULL REFERENCES organizations(id),
    secret_hash  BLOB NOT NULL,
    from_domains TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    revoked_at   INTEGER
);
CREATE INDEX smtp_users_by_org ON smtp_users (org_id);

-- DKIM signing keys per sending domain; the private key is sealed like PHI.
CREATE TABLE dkim_keys (
    id          BLOB PRIMARY KEY,
    org_id      BLOB NOT NULL REFERENCES organizations(id),
    domain      TEXT NOT NULL,
    selector    TEXT NOT NULL,
    algorithm   TEXT NOT NULL,
    key_version INTEGER NOT NULL,
    private_key BLOB NOT NULL,
    public_key  BLOB NOT NULL,
    created_at  INTEGER NOT NULL,
    UNIQUE (org_id, domain, selector)
);

-- Messages the protection policy holds for review. While a row is open (resolved_at IS
-- NULL) the message's recipients are 'held'; release makes them 'queued', reject makes
-- them 'bounced' and the sender is told. policy on messages records the decision: rule
-- names, PHI types and counts, never values.
CREATE TABLE quarantine (
    message_id  BLOB PRIMARY KEY REFERENCES messages(id),
    org_id      BLOB NOT NULL REFERENCES organizations(id),
    reason      TEXT NOT NULL,
    held_at     INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    resolved_at INTEGER,
    resolution  TEXT CHECK (resolution IN ('released', 'rejected', 'expired')),
    resolved_by TEXT
);
CREATE INDEX quarantine_open ON quarantine (org_id, held_at) WHERE resolved_at IS NULL;

-- Addresses that bounced permanently for a reason of their own (no such mailbox or
-- domain, mailbox disabled): later messages to them are not attempted and the sender is
-- told. The address is sealed; address_index is its keyed blind index for lookups, and is
-- recomputed when the row is re-encrypted under a new key version.
CREATE TABLE suppressions (
    id            BLOB PRIMARY KEY,
    org_id        BLOB NOT NULL REFERENCES organizations(id),
    key_version   INTEGER NOT NULL,
    address       BLOB NOT NULL,
    address_index BLOB NOT NULL,
    status        TEXT NOT NULL,
    message_id    BLOB,
    created_at    INTEGER NOT NULL,
    UNIQUE (org_id, address_index)
);

-- An organization's own protection rules (JSON, as accepted by PUT /api/v1/policy/rules);
-- without a row the configured rules apply. Rules are configuration, not PHI.
CREATE TABLE protection_rules (
    org_id     BLOB PRIMARY KEY REFERENCES organizations(id),
    rules      TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    updated_by TEXT NOT NULL
);
