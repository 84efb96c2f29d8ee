//! Persisting the audit chain: a batching appender, reads in sequence order, chain
//! heads, signing keys and checkpoints.
//!
//! Appends from every caller go to one task that takes all waiting events (up to
//! [`MAX_APPEND_BATCH`]) and writes them in one transaction: per organization it reads the
//! chain head (locking it on PostgreSQL, so several nodes extend one chain in turn),
//! seals the records, inserts them in multi-row statements and moves the head. Each
//! caller is answered with its sequence number after the commit.

use std::collections::HashMap;

use carepost_audit::{AuditEvent, AuditRecord, Checkpoint, ObjectRef, Outcome, checkpoint_message};
use carepost_core::{Actor, OrgId};
use carepost_crypto::{FieldContext, SigningKey};
use sqlx::{PgConnection, Postgres, QueryBuilder, Sqlite, SqliteConnection};
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use crate::backend::{Backend, read, write};
use crate::dialect::{hash32, pick};
use crate::orgs::SIGNING_KEY_AT;
use crate::{OrgScope, Result, StoreError, now_us};

/// The most events written in one transaction.
pub(crate) const MAX_APPEND_BATCH: usize = 4096;
const ROWS_PER_INSERT: usize = 500;

struct Pending {
    org: OrgId,
    time_us: i64,
    event: AuditEvent,
    reply: oneshot::Sender<Result<i64>>,
}

/// Sends events to the appender task.
pub(crate) struct AuditAppender {
    tx: mpsc::Sender<Pending>,
}

impl AuditAppender {
    pub(crate) fn start(backend: Backend) -> Self {
        let (tx, rx) = mpsc::channel(2 * MAX_APPEND_BATCH);
        tokio::spawn(run(backend, rx));
        Self { tx }
    }

    async fn append(&self, org: OrgId, event: AuditEvent) -> Result<i64> {
        let (reply, answer) = oneshot::channel();
        let pending = Pending {
            org,
            time_us: now_us(),
            event,
            reply,
        };
        self.tx
            .send(pending)
            .await
            .map_err(|_| StoreError::Closed)?;
        answer.await.map_err(|_| StoreError::Closed)?
    }
}

async fn run(backend: Backend, mut rx: mpsc::Receiver<Pending>) {
    let mut batch = Vec::with_capacity(MAX_APPEND_BATCH);
    while let Some(first) = rx.recv().await {
        batch.push(first);
        while batch.len() < MAX_APPEND_BATCH {
            match rx.try_recv() {
                Ok(p) => batch.push(p),
                Err(_) => break,
            }
        }
        let mut groups: Vec<(OrgId, Vec<(i64, AuditEvent)>)> = Vec::new();
        let mut replies: Vec<Vec<oneshot::Sender<Result<i64>>>> = Vec::new();
        for p in batch.drain(..) {
            let i = match groups.iter().position(|(o, _)| *o == p.org) {
                Some(i) => i,
                None => {
                    groups.push((p.org, Vec::new()));
                    replies.push(Vec::new());
                    groups.len() - 1
                }
            };
            groups[i].1.push((p.time_us, p.event));
            replies[i].push(p.reply);
        }
        // Lock chain heads in one global order, so that nodes appending for the same
        // organizations at once never wait on each other in a cycle.
        let mut order: Vec<usize> = (0..groups.len()).collect();
        order.sort_by_key(|i| groups[*i].0);
        let mut paired: Vec<_> = groups.into_iter().zip(replies).map(Some).collect();
        let (groups, replies): (Vec<_>, Vec<_>) =
            order.into_iter().filter_map(|i| paired[i].take()).unzip();
        match append_groups(&backend, groups).await {
            Ok(seqs) => {
                for (group_seqs, group_replies) in seqs.into_iter().zip(replies) {
                    for (seq, reply) in group_seqs.into_iter().zip(group_replies) {
                        let _ = reply.send(Ok(seq));
                    }
                }
            }
            Err(e) => {
                let msg = e.to_string();
                tracing::error!(error = %msg, "audit append failed");
                for reply in replies.into_iter().flatten() {
                    let _ = reply.send(Err(StoreError::Database(format!(
                        "audit append failed: {msg}"
                    ))));
                }
            }
        }
    }
}

async fn append_groups(
    backend: &Backend,
    groups: Vec<(OrgId, Vec<(i64, AuditEvent)>)>,
) -> Result<Vec<Vec<i64>>> {
    write!(backend, |conn| {
        let mut all = Vec::with_capacity(groups.len());
        for (org, events) in groups {
            let id = org.as_uuid();
            let head: Option<(i64, Vec<u8>)> = sqlx::query_as(pick(
                &*conn,
                "SELECT seq, hash FROM audit_heads WHERE org_id = $1",
                "SELECT seq, hash FROM audit_heads WHERE org_id = $1 FOR UPDATE",
            ))
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?;
            let (mut seq, mut prev) = match head {
                Some((s, h)) => (s, hash32(&h)),
                None => return Err(StoreError::UnknownOrganization(org.to_string())),
            };
            let mut records = Vec::with_capacity(events.len());
            let mut seqs = Vec::with_capacity(events.len());
            for (time_us, event) in events {
                seq += 1;
                let r = AuditRecord::seal(org, seq, time_us, event, prev);
                prev = r.hash;
                seqs.push(seq);
                records.push(r);
            }
            for chunk in records.chunks(ROWS_PER_INSERT) {
                conn.insert_audit_rows(chunk).await?;
            }
            sqlx::query("UPDATE audit_heads SET seq = $1, hash = $2 WHERE org_id = $3")
                .bind(seq)
                .bind(prev.to_vec())
                .bind(id)
                .execute(&mut *conn)
                .await?;
            all.push(seqs);
        }
        Ok(all)
    })
}

/// A multi-row insert of audit records, written per backend because the query builder
/// is typed by database.
pub(crate) trait InsertAuditRows {
    async fn insert_audit_rows(&mut self, rows: &[AuditRecord]) -> Result<()>;
}

macro_rules! insert_audit_rows {
    ($conn:ty, $db:ty) => {
        impl InsertAuditRows for $conn {
            async fn insert_audit_rows(&mut self, rows: &[AuditRecord]) -> Result<()> {
                let mut q = QueryBuilder::<$db>::new(
                    "INSERT INTO audit_records (org_id, seq, ts, actor_kind, actor_id, action, \
                     object_type, object_id, outcome, source, detail, prev_hash, hash) ",
                );
                q.push_values(rows, |mut b, r| {
                    b.push_bind(r.org.as_uuid())
                        .push_bind(r.seq)
                        .push_bind(r.time_us)
                        .push_bind(r.actor.kind())
                        .push_bind(r.actor.id().to_owned())
                        .push_bind(r.action.clone())
                        .push_bind(r.object.kind.clone())
                        .push_bind(r.object.id.clone())
                        .push_bind(r.outcome.as_str())
                        .push_bind(r.source.clone())
                        .push_bind(r.detail.clone())
                        .push_bind(r.prev_hash.to_vec())
                        .push_bind(r.hash.to_vec());
                });
                q.build().execute(&mut *self).await?;
                Ok(())
            }
        }
    };
}

insert_audit_rows!(SqliteConnection, Sqlite);
insert_audit_rows!(PgConnection, Postgres);

type CheckpointRow = (i64, Vec<u8>, i64, String, Vec<u8>);

type AuditRow = (
    Uuid,
    i64,
    i64,
    String,
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Vec<u8>,
    Vec<u8>,
);

fn to_record(row: AuditRow) -> AuditRecord {
    let (
        org,
        seq,
        time_us,
        actor_kind,
        actor_id,
        action,
        object_type,
        object_id,
        outcome,
        source,
        detail,
        prev,
        hash,
    ) = row;
    // A kind or outcome carepost never writes can only come from tampering: decode it as
    // something whose hash cannot match, so verification names the record.
    let mut hash = hash32(&hash);
    let actor = Actor::from_parts(&actor_kind, actor_id.clone()).unwrap_or_else(|| {
        hash = [0; 32];
        Actor::System(format!("{actor_kind}:{actor_id}"))
    });
    let outcome = Outcome::parse(&outcome).unwrap_or_else(|| {
        hash = [0; 32];
        Outcome::Failure
    });
    AuditRecord {
        org: OrgId::from_uuid(org),
        seq,
        time_us,
        actor,
        action,
        object: ObjectRef {
            kind: object_type,
            id: object_id,
        },
        outcome,
        source,
        detail,
        prev_hash: hash32(&prev),
        hash,
    }
}

impl OrgScope {
    /// Appends `event` to this organization's audit chain and returns its sequence
    /// number once it is committed.
    pub async fn audit(&self, event: AuditEvent) -> Result<i64> {
        self.store.inner.appender.append(self.org_id(), event).await
    }

    /// Up to `limit` records after sequence number `after`, in order.
    pub async fn audit_records(&self, after: i64, limit: i64) -> Result<Vec<AuditRecord>> {
        let id = self.org_id().as_uuid();
        let rows: Vec<AuditRow> = read!(self, |conn| {
            Ok(sqlx::query_as(RECORDS_AFTER)
                .bind(id)
                .bind(after)
                .bind(limit)
                .fetch_all(&mut *conn)
                .await?)
        })?;
        Ok(rows.into_iter().map(to_record).collect())
    }

    /// Up to `limit` records with `since_us <= time < until_us` after sequence number
    /// `after`, in sequence order.
    pub async fn audit_records_between(
        &self,
        since_us: i64,
        until_us: i64,
        after: i64,
        limit: i64,
    ) -> Result<Vec<AuditRecord>> {
        let id = self.org_id().as_uuid();
        let rows: Vec<AuditRow> = read!(self, |conn| {
            Ok(sqlx::query_as(RECORDS_BETWEEN)
                .bind(id)
                .bind(after)
                .bind(since_us)
                .bind(until_us)
                .bind(limit)
                .fetch_all(&mut *conn)
                .await?)
        })?;
        Ok(rows.into_iter().map(to_record).collect())
    }

    /// The chain head as the store recorded it: last sequence number and hash.
    pub async fn audit_head(&self) -> Result<Option<(i64, [u8; 32])>> {
        let id = self.org_id().as_uuid();
        let row: Option<(i64, Vec<u8>)> = read!(self, |conn| {
            Ok(
                sqlx::query_as("SELECT seq, hash FROM audit_heads WHERE org_id = $1")
                    .bind(id)
                    .fetch_optional(&mut *conn)
                    .await?,
            )
        })?;
        Ok(row.map(|(s, h)| (s, hash32(&h))))
    }

    async fn newest_audit_seq(&self) -> Result<i64> {
        let id = self.org_id().as_uuid();
        let newest: Option<i64> = read!(self, |conn| {
            Ok(
                sqlx::query_scalar("SELECT MAX(seq) FROM audit_records WHERE org_id = $1")
                    .bind(id)
                    .fetch_one(&mut *conn)
                    .await?,
            )
        })?;
        Ok(newest.unwrap_or(0))
    }

    /// The signed checkpoints, oldest first.
    pub async fn audit_checkpoints(&self) -> Result<Vec<Checkpoint>> {
        let id = self.org_id().as_uuid();
        let rows: Vec<CheckpointRow> = read!(self, |conn| {
            Ok(sqlx::query_as(
                "SELECT seq, hash, ts, key_id, signature FROM audit_checkpoints WHERE org_id = $1 ORDER BY seq",
            )
            .bind(id)
            .fetch_all(&mut *conn)
            .await?)
        })?;
        let org = self.org_id();
        Ok(rows
            .into_iter()
            .map(|(seq, hash, time_us, key_id, signature)| Checkpoint {
                org,
                seq,
                hash: hash32(&hash),
                time_us,
                key_id,
                signature,
            })
            .collect())
    }

    /// The public halves of this organization's audit signing keys, by key id.
    pub async fn audit_public_keys(&self) -> Result<HashMap<String, Vec<u8>>> {
        let id = self.org_id().as_uuid();
        let rows: Vec<(String, Vec<u8>)> = read!(self, |conn| {
            Ok(sqlx::query_as(
                "SELECT key_id, public_key FROM audit_signing_keys WHERE org_id = $1",
            )
            .bind(id)
            .fetch_all(&mut *conn)
            .await?)
        })?;
        Ok(rows.into_iter().collect())
    }

    /// Signs the current head of the chain, unless it is empty or already signed.
    pub async fn checkpoint_audit(&self) -> Result<Option<Checkpoint>> {
        let Some((seq, hash)) = self.audit_head().await?.filter(|(s, _)| *s > 0) else {
            return Ok(None);
        };
        let last = self.audit_checkpoints().await?.pop();
        if last.as_ref().is_some_and(|c| c.seq >= seq) {
            return Ok(None);
        }
        // Sign only a chain whose records since the last checkpoint verify: a signature
        // over a rewritten tail would vouch for the rewrite.
        let (from, from_hash) = last.map_or((0, [0; 32]), |c| (c.seq, c.hash));
        let mut verifier = carepost_audit::ChainVerifier::resume(self.org_id(), from, from_hash);
        let mut after = from;
        while after < seq {
            let page = self.audit_records(after, 5000).await?;
            let Some(newest) = page.last() else { break };
            after = newest.seq;
            for r in page.iter().take_while(|r| r.seq <= seq) {
                verifier.push(r);
            }
        }
        if let Some(problem) = verifier.finish(Some((seq, hash))).problem {
            return Err(StoreError::Corrupt(format!(
                "the audit chain does not verify ({problem}); no checkpoint signed"
            )));
        }
        let key = self.audit_signing_key().await?;
        let org = self.org_id();
        let time_us = now_us();
        let cp = Checkpoint {
            org,
            seq,
            hash,
            time_us,
            key_id: carepost_audit::key_id(&key.public_key()),
            signature: key.sign(&checkpoint_message(org, seq, &hash, time_us)),
        };
        let (id, row) = (org.as_uuid(), cp.clone());
        write!(self, |conn| {
            sqlx::query(
                "INSERT INTO audit_checkpoints (org_id, seq, hash, ts, key_id, signature) \
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (org_id, seq) DO NOTHING",
            )
            .bind(id)
            .bind(row.seq)
            .bind(row.hash.to_vec())
            .bind(row.time_us)
            .bind(row.key_id)
            .bind(row.signature)
            .execute(&mut *conn)
            .await?;
            Ok(())
        })?;
        Ok(Some(cp))
    }

    async fn audit_signing_key(&self) -> Result<SigningKey> {
        let id = self.org_id().as_uuid();
        let row: Option<(String, Vec<u8>)> = read!(self, |conn| {
            Ok(sqlx::query_as(
                "SELECT key_id, private_key FROM audit_signing_keys WHERE org_id = $1 \
                 ORDER BY created_at DESC LIMIT 1",
            )
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?)
        })?;
        let (kid, sealed) = row.ok_or_else(|| {
            StoreError::Corrupt("the organization has no audit signing key".into())
        })?;
        let at = FieldContext {
            table: SIGNING_KEY_AT.0,
            column: SIGNING_KEY_AT.1,
            row: &kid,
        };
        let pkcs8 = self.open_field(&at, &sealed).await?;
        Ok(SigningKey::from_pkcs8(&pkcs8)?)
    }
}

const RECORDS_AFTER: &str = "SELECT org_id, seq, ts, actor_kind, actor_id, action, object_type, \
     object_id, outcome, source, detail, prev_hash, hash FROM audit_records \
     WHERE org_id = $1 AND seq > $2 ORDER BY seq LIMIT $3";

const RECORDS_BETWEEN: &str = "SELECT org_id, seq, ts, actor_kind, actor_id, action, object_type, \
     object_id, outcome, source, detail, prev_hash, hash FROM audit_records \
     WHERE org_id = $1 AND seq > $2 AND ts >= $3 AND ts < $4 ORDER BY seq LIMIT $5";

impl OrgScope {
    /// Walks this organization's whole chain and its checkpoints. Checkpoint signatures
    /// are checked against `trusted_keys` when given (keys exported earlier and kept
    /// apart from the database), otherwise against the public keys stored here.
    pub async fn verify_audit_chain(
        &self,
        trusted_keys: Option<&HashMap<String, Vec<u8>>>,
    ) -> Result<carepost_audit::VerifyReport> {
        let stored;
        let keys = match trusted_keys {
            Some(k) => k,
            None => {
                stored = self.audit_public_keys().await?;
                &stored
            }
        };
        // The head first: records appended while the walk runs lie past it and are
        // checked below, not mistaken for a truncated chain.
        let head = self.audit_head().await?;
        let stop = head.map_or(i64::MAX, |(seq, _)| seq);
        let checkpoints = self.audit_checkpoints().await?;
        let mut verifier = carepost_audit::ChainVerifier::new(self.org_id(), checkpoints, keys);
        let mut after = 0;
        'walk: loop {
            let page = self.audit_records(after, 5000).await?;
            let Some(last) = page.last() else { break };
            after = last.seq;
            for r in page.iter().take_while(|r| r.seq <= stop) {
                if !verifier.push(r) {
                    break 'walk;
                }
            }
            if after >= stop {
                break;
            }
        }
        let mut report = verifier.finish(head);
        if report.problem.is_none() {
            // A record is legitimate only once the head has moved past it (both change in
            // one transaction): read the newest record first, then the head.
            let newest = self.newest_audit_seq().await?;
            let head_now = self.audit_head().await?.map_or(0, |(s, _)| s);
            if newest > head_now {
                report.problem = Some(carepost_audit::Problem::BeyondHead { seq: head_now + 1 });
            }
        }
        Ok(report)
    }
}
