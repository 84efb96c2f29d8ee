//! The queue runner: claims due recipients, delivers them under the protection each
//! message requires (or captures them in the sandbox), and records the outcome and its
//! evidence. Bounced and expired recipients produce a notice to the sender.
//!
//! Delivery is at-least-once: a recipient is claimed for a lease; if this process dies
//! mid-attempt, the claim lapses (or is released when the node restarts) and the
//! recipient is tried again.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use carepost_core::{AccessContext, DeliveryState, MessageId, Phi, Protection};
use carepost_gateway::outbound::{
    Deliverer, Disposition, FailureReason, OutboundMessage, RecipientOutcome, RecipientReport,
};
use carepost_store::{
    AttemptRecord, DueRecipient, Envelope, OrgScope, QueuedMessage, Resolution, Store, StoreError,
};
use chrono::Utc;
use futures::StreamExt;
use serde_json::json;
use tokio::sync::Notify;

use crate::address::domain_of;
use crate::dsn;
use crate::evidence::{audit_detail, outcome_summary};
use crate::schedule::RetrySchedule;
use crate::signing::DkimSigning;

/// Where messages go.
#[derive(Clone)]
pub enum Transport {
    /// Nothing leaves the machine: every message is captured in the sandbox mailbox.
    Sandbox,
    /// MX delivery under verified TLS (operator routes apply).
    Direct(Arc<Deliverer>),
}

impl Transport {
    /// `sandbox` or `direct`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Sandbox => "sandbox",
            Self::Direct(_) => "direct",
        }
    }
}

/// How the runner works (`[delivery]` in the config).
#[derive(Debug, Clone)]
pub struct RunnerSettings {
    /// This node's name; claims carry it, and a restart releases them.
    pub node: String,
    /// How long a claim lasts before another runner may take the recipient.
    pub lease: Duration,
    /// Recipients claimed per round.
    pub batch: i64,
    /// Messages delivered at the same time.
    pub concurrency: usize,
    /// Connections opened at once to one destination domain; each carries many messages.
    pub per_destination: usize,
    /// Messages per second to one destination domain (0: unlimited).
    pub per_destination_rate: u32,
    /// Retries and maximum age.
    pub retry: RetrySchedule,
    /// How long a message may stay undelivered before its sender gets one notice that it
    /// is delayed (zero: at its first deferral).
    pub delay_notice_after: Duration,
    /// How long a `tls-verified` message waits for a recipient's servers to offer verified
    /// TLS before it goes to the fallback (the secure portal, when it exists; until then
    /// the sender is told).
    pub tls_fallback_after: Duration,
    /// Host name for notices (Reporting-MTA) and the postmaster address domain fallback.
    pub hostname: String,
    /// Longest idle wait between queue checks (other nodes' messages wake no one here).
    pub poll: Duration,
}

impl RunnerSettings {
    /// Defaults for node `node`.
    pub fn new(node: impl Into<String>, hostname: impl Into<String>) -> Self {
        Self {
            node: node.into(),
            lease: Duration::from_secs(600),
            batch: 256,
            concurrency: 64,
            per_destination: 8,
            per_destination_rate: 0,
            retry: RetrySchedule::default(),
            tls_fallback_after: Duration::from_secs(4 * 3600),
            delay_notice_after: Duration::from_secs(4 * 3600),
            hostname: hostname.into(),
            poll: Duration::from_secs(1),
        }
    }
}

/// The queue runner.
#[derive(Clone)]
pub struct QueueRunner {
    store: Store,
    transport: Transport,
    settings: Arc<RunnerSettings>,
    wake: Arc<Notify>,
    dkim: DkimSigning,
    pacer: Arc<crate::pacing::Pacer>,
}

/// Batches one organization may take in one round before the others get their turn.
pub const ROUND_BATCHES: usize = 16;

/// A claimed message on its way through a round.
struct Prepared {
    message: QueuedMessage,
    /// The bytes to send (DKIM-signed); `None` when the message expired.
    wire: Option<Arc<[u8]>>,
    due: Vec<DueRecipient>,
    decisions: Vec<Decision>,
}

fn outbound_protection(p: Protection) -> carepost_gateway::outbound::Protection {
    match p {
        Protection::TlsVerified => carepost_gateway::outbound::Protection::TlsVerified,
        Protection::TlsExclusive => carepost_gateway::outbound::Protection::TlsExclusive,
    }
}

/// What became of one recipient in one round.
#[derive(Clone)]
struct Decision {
    idx: u32,
    state: DeliveryState,
    retry_at: Option<chrono::DateTime<Utc>>,
    evidence: String,
    audit: serde_json::Value,
    failure: Option<dsn::Failed>,
    /// A deferral the sender is told about (once per message).
    delayed: Option<dsn::Failed>,
    /// The recipient's own address failed for good (no such mailbox or domain): later
    /// mail to it is suppressed.
    suppress: bool,
}

fn system() -> AccessContext {
    AccessContext::system("delivery")
}

impl QueueRunner {
    /// A runner over `store`; `wake` is the notifier intake signals.
    pub fn new(
        store: Store,
        transport: Transport,
        settings: RunnerSettings,
        wake: Arc<Notify>,
    ) -> Self {
        let pacer = Arc::new(crate::pacing::Pacer::new(settings.per_destination_rate));
        Self {
            store,
            transport,
            settings: Arc::new(settings),
            wake,
            dkim: DkimSigning::default(),
            pacer,
        }
    }

    /// Runs until `shutdown` resolves. Claims left by an earlier run of this node are
    /// released first; a round cut short by shutdown leaves claims that the next start
    /// releases.
    pub async fn run(self, shutdown: impl std::future::Future<Output = ()>) {
        tokio::pin!(shutdown);
        match self.store.release_claims(&self.settings.node).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(released = n, "released claims left by an earlier run"),
            Err(error) => tracing::warn!(%error, "could not release earlier claims"),
        }
        loop {
            let round = tokio::select! {
                _ = &mut shutdown => return,
                round = self.run_once() => round,
            };
            match round {
                Ok(n) if n > 0 => continue,
                Ok(_) => {}
                Err(error) => tracing::warn!(%error, "queue round failed; retrying"),
            }
            let wait = match self.store.next_due_at().await {
                Ok(Some(at)) => (at - Utc::now())
                    .to_std()
                    .unwrap_or_default()
                    .min(self.settings.poll),
                _ => self.settings.poll,
            };
            tokio::select! {
                _ = &mut shutdown => return,
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(wait) => {}
            }
        }
    }

    /// One round: claims and processes what is due now, organization by organization (at
    /// most [`ROUND_BATCHES`] batches each, so that a busy one does not starve the rest;
    /// one whose store calls fail is logged and skipped). Returns the number of
    /// recipients processed.
    pub async fn run_once(&self) -> Result<usize, StoreError> {
        let mut total = match self.expire_holds().await {
            Ok(n) => n,
            Err(error) => {
                tracing::warn!(%error, "expiring quarantine holds failed");
                0
            }
        };
        for org in self.store.orgs_with_due_recipients().await? {
            match self.run_org(org).await {
                Ok(n) => total += n,
                Err(error) => {
                    tracing::warn!(%org, %error, "delivery round for an organization failed")
                }
            }
        }
        Ok(total)
    }

    async fn run_org(&self, org: carepost_core::OrgId) -> Result<usize, StoreError> {
        let scope = self.store.org(org).await?;
        let mut total = 0;
        for _ in 0..ROUND_BATCHES {
            let claimed = scope
                .claim_due(
                    &self.settings.node,
                    self.settings.lease,
                    self.settings.batch,
                )
                .await?;
            if claimed.is_empty() {
                break;
            }
            total += claimed.len();
            self.process(&scope, claimed).await;
        }
        Ok(total)
    }

    /// One round's work on claimed recipients: prepare every message (open, check its
    /// age, sign), send them — grouped by destination domain so that a few connections
    /// per domain carry many messages — and record every outcome.
    async fn process(&self, scope: &OrgScope, claimed: Vec<DueRecipient>) {
        let mut by_message: BTreeMap<MessageId, Vec<DueRecipient>> = BTreeMap::new();
        for c in claimed {
            by_message.entry(c.message_id).or_default().push(c);
        }
        let mut prepared: Vec<Prepared> = futures::stream::iter(by_message)
            .map(|(id, due)| async move {
                match self.prepare(scope, id, due).await {
                    Ok(p) => p,
                    Err(error) => {
                        // The claim lapses and the recipients are tried again.
                        tracing::warn!(message = %id, %error, "preparing a message failed");
                        None
                    }
                }
            })
            .buffer_unordered(self.settings.concurrency)
            .filter_map(std::future::ready)
            .collect()
            .await;
        if let Err(error) = self.apply_suppressions(scope, &mut prepared).await {
            // Attempting is safe: the list only spares servers and senders a known bounce.
            tracing::warn!(%error, "checking the suppression list failed");
        }
        match &self.transport {
            Transport::Sandbox => {
                self.capture_all(scope, &mut prepared).await;
                futures::stream::iter(prepared)
                    .for_each_concurrent(self.settings.concurrency, |p| async move {
                        self.finish_logged(scope, &p.message, p.decisions).await;
                    })
                    .await;
            }
            Transport::Direct(deliverer) => self.deliver_all(scope, deliverer, &prepared).await,
        }
    }

    async fn finish_logged(
        &self,
        scope: &OrgScope,
        message: &QueuedMessage,
        decisions: Vec<Decision>,
    ) {
        if let Err(error) = self.finish(scope, message, decisions).await {
            tracing::warn!(message = %message.id, %error, "recording delivery attempts failed");
        }
    }

    /// Opens a claimed message; an expired one gets its decisions at once, any other is
    /// DKIM-signed for sending (per attempt, so the signature's time is the sending time).
    async fn prepare(
        &self,
        scope: &OrgScope,
        id: MessageId,
        due: Vec<DueRecipient>,
    ) -> Result<Option<Prepared>, StoreError> {
        let Some(message) = scope.queued_message(id).await? else {
            return Ok(None);
        };
        if Utc::now() >= message.expires_at {
            let decisions = due
                .iter()
                .map(|d| expired(&message, d.idx, "the message reached its maximum age"))
                .collect();
            return Ok(Some(Prepared {
                message,
                wire: None,
                due,
                decisions,
            }));
        }
        let wire: Arc<[u8]> = match self.dkim.sign(scope, message.content.expose()).await? {
            Some(signed) => Arc::from(signed),
            None => Arc::from(message.content.expose().as_slice()),
        };
        Ok(Some(Prepared {
            message,
            wire: Some(wire),
            due,
            decisions: Vec::new(),
        }))
    }

    /// Moves recipients on the suppression list out of the round (one lookup for the
    /// whole batch): they are bounced without an attempt and their senders are told.
    async fn apply_suppressions(
        &self,
        scope: &OrgScope,
        prepared: &mut [Prepared],
    ) -> Result<(), StoreError> {
        let addresses: Vec<String> = prepared
            .iter()
            .filter(|p| p.wire.is_some())
            .flat_map(|p| p.due.iter().map(|d| recipient(&p.message.envelope, d.idx)))
            .collect();
        let mut statuses = scope.suppressed(&addresses).await?.into_iter();
        for p in prepared.iter_mut().filter(|p| p.wire.is_some()) {
            let due = std::mem::take(&mut p.due);
            for d in due {
                match statuses.next().flatten() {
                    Some(status) => p.decisions.push(suppressed(&p.message, d.idx, &status)),
                    None => p.due.push(d),
                }
            }
            if p.due.is_empty() {
                p.wire = None;
            }
        }
        Ok(())
    }

    /// Records one message's decisions and tells its sender about failures.
    async fn finish(
        &self,
        scope: &OrgScope,
        message: &QueuedMessage,
        decisions: Vec<Decision>,
    ) -> Result<(), StoreError> {
        if decisions.is_empty() {
            return Ok(()); // Nothing was attempted (a capture failed): the claim lapses.
        }
        let failures: Vec<dsn::Failed> = decisions
            .iter()
            .filter_map(|d| d.failure.as_ref())
            .cloned()
            .collect();
        let delayed: Vec<dsn::Failed> = decisions
            .iter()
            .filter_map(|d| d.delayed.as_ref())
            .cloned()
            .collect();
        for d in decisions.iter().filter(|d| d.suppress) {
            let address = recipient(&message.envelope, d.idx);
            let status = d.failure.as_ref().map_or("5.1.1", |f| f.status.as_str());
            scope
                .suppress(&system(), &address, status, Some(message.id))
                .await?;
        }
        for d in &decisions {
            metrics::counter!("carepost_delivery_attempts_total", "state" => d.state.as_str(), "transport" => self.transport.name()).increment(1);
        }
        let records = decisions
            .into_iter()
            .map(|d| AttemptRecord {
                idx: d.idx,
                state: d.state,
                retry_at: d.retry_at,
                evidence: Phi::new(d.evidence),
                audit_detail: d.audit,
            })
            .collect();
        // Notices first: their idempotency keys make a replay after a crash harmless,
        // while a notice queued after the states could be lost in between.
        if !failures.is_empty() {
            self.notify_sender(scope, message, &failures).await?;
        }
        if !delayed.is_empty() {
            self.notify_sender(scope, message, &delayed).await?;
        }
        scope
            .record_attempts(&system(), message.id, records)
            .await?;
        Ok(())
    }

    async fn capture_all(&self, scope: &OrgScope, prepared: &mut [Prepared]) {
        futures::stream::iter(prepared.iter_mut())
            .for_each_concurrent(self.settings.concurrency, |p| async move {
                let Some(wire) = &p.wire else { return };
                match self.capture(scope, &p.message, wire, &p.due).await {
                    Ok(decisions) => p.decisions.extend(decisions),
                    Err(error) => {
                        tracing::warn!(message = %p.message.id, %error, "sandbox capture failed");
                    }
                }
            })
            .await;
    }

    async fn capture(
        &self,
        scope: &OrgScope,
        message: &QueuedMessage,
        wire: &Arc<[u8]>,
        due: &[DueRecipient],
    ) -> Result<Vec<Decision>, StoreError> {
        let capture = scope
            .capture_sandbox(message.id, Phi::new(wire.to_vec()))
            .await?;
        Ok(due
            .iter()
            .map(|d| {
                let recipient = recipient(&message.envelope, d.idx);
                Decision {
                    idx: d.idx,
                    state: DeliveryState::Delivered,
                    retry_at: None,
                    evidence: json!({
                        "transport": "sandbox",
                        "recipient": recipient,
                        "sandbox_id": capture,
                        "note": "captured by the sandbox mailbox; nothing left this machine",
                    })
                    .to_string(),
                    audit: json!({ "transport": "sandbox", "sandbox_id": capture }),
                    failure: None,
                    delayed: None,
                    suppress: false,
                }
            })
            .collect())
    }

    /// Sends every prepared message: recipients are grouped by domain, each domain's
    /// messages split over at most `per_destination` connections, each connection
    /// carrying its share one after another.
    async fn deliver_all(&self, scope: &OrgScope, deliverer: &Deliverer, prepared: &[Prepared]) {
        // domain -> (message index, indexes into its `due`)
        let mut by_domain: BTreeMap<String, Vec<(usize, Vec<usize>)>> = BTreeMap::new();
        for (pi, p) in prepared.iter().enumerate() {
            if p.wire.is_none() {
                continue;
            }
            let mut mine: BTreeMap<String, Vec<usize>> = BTreeMap::new();
            for (di, d) in p.due.iter().enumerate() {
                let address = recipient(&p.message.envelope, d.idx);
                mine.entry(domain_of(&address).to_owned())
                    .or_default()
                    .push(di);
            }
            for (domain, dis) in mine {
                by_domain.entry(domain).or_default().push((pi, dis));
            }
        }
        let mut jobs = Vec::new();
        let mut pending = vec![0usize; prepared.len()];
        for (domain, items) in by_domain {
            let connections = self.settings.per_destination.clamp(1, items.len());
            let mut size = items.len().div_ceil(connections);
            if let Some(burst) = self.pacer.burst() {
                size = size.min(burst.max(1));
            }
            let mut items = items.into_iter().peekable();
            while items.peek().is_some() {
                let chunk: Vec<_> = items.by_ref().take(size).collect();
                for (pi, _) in &chunk {
                    if let Some(n) = pending.get_mut(*pi) {
                        *n += 1;
                    }
                }
                jobs.push((domain.clone(), chunk));
            }
        }
        // Messages with nothing to send (expired, all recipients suppressed) are recorded
        // now; the others as soon as their last chunk is done, so that a slow destination
        // does not hold back what was delivered elsewhere.
        let idle = prepared.iter().zip(&pending).filter(|(_, n)| **n == 0);
        futures::future::join_all(
            idle.map(|(p, _)| self.finish_logged(scope, &p.message, p.decisions.clone())),
        )
        .await;
        let progress = std::sync::Mutex::new((pending, vec![Vec::new(); prepared.len()]));
        futures::stream::iter(jobs)
            .for_each_concurrent(self.settings.concurrency, |(domain, chunk)| {
                let progress = &progress;
                async move {
                    let decided = self.deliver_chunk(deliverer, prepared, domain, chunk).await;
                    let mut complete = Vec::new();
                    {
                        let mut guard = progress.lock().unwrap_or_else(|e| e.into_inner());
                        let (pending, acc) = &mut *guard;
                        let mut touched = Vec::new();
                        for (pi, decision) in decided {
                            if let Some(a) = acc.get_mut(pi) {
                                a.push(decision);
                            }
                            if !touched.contains(&pi) {
                                touched.push(pi);
                            }
                        }
                        for pi in touched {
                            if let Some(n) = pending.get_mut(pi) {
                                *n = n.saturating_sub(1);
                                if *n == 0
                                    && let (Some(p), Some(a)) = (prepared.get(pi), acc.get_mut(pi))
                                {
                                    let mut all = p.decisions.clone();
                                    all.append(a);
                                    complete.push((pi, all));
                                }
                            }
                        }
                    }
                    // Together, so that their commits share the store's group commit.
                    let finishing = complete.into_iter().filter_map(|(pi, decisions)| {
                        let p = prepared.get(pi)?;
                        Some(self.finish_logged(scope, &p.message, decisions))
                    });
                    futures::future::join_all(finishing).await;
                }
            })
            .await;
    }

    async fn deliver_chunk(
        &self,
        deliverer: &Deliverer,
        prepared: &[Prepared],
        domain: String,
        chunk: Vec<(usize, Vec<usize>)>,
    ) -> Vec<(usize, Decision)> {
        // What was handed to the gateway, in order: reports come back in the same order,
        // one per message and one per recipient within it.
        let mut sent: Vec<(usize, Vec<&DueRecipient>)> = Vec::with_capacity(chunk.len());
        let mut outbound = Vec::with_capacity(chunk.len());
        for (pi, dis) in chunk {
            let Some(p) = prepared.get(pi) else { continue };
            let Some(wire) = &p.wire else { continue };
            let due: Vec<&DueRecipient> = dis.iter().filter_map(|di| p.due.get(*di)).collect();
            outbound.push(OutboundMessage {
                id: p.message.id.to_string(),
                from: p.message.envelope.mail_from.expose().clone(),
                recipients: due
                    .iter()
                    .map(|d| recipient(&p.message.envelope, d.idx))
                    .collect(),
                content: wire.clone(),
                protection: outbound_protection(p.message.protection),
            });
            sent.push((pi, due));
        }
        self.pacer.acquire(&domain, outbound.len()).await;
        let reports = deliverer.deliver(&domain, &outbound).await;
        let mut decisions = Vec::new();
        for ((pi, due), report) in sent.into_iter().zip(reports) {
            let Some(p) = prepared.get(pi) else { continue };
            for (d, recipient_report) in due.into_iter().zip(report.recipients) {
                decisions.push((
                    pi,
                    self.decide(&p.message, d, report.protection, recipient_report),
                ));
            }
        }
        decisions
    }

    fn decide(
        &self,
        message: &QueuedMessage,
        due: &DueRecipient,
        protection: carepost_gateway::outbound::Protection,
        report: RecipientReport,
    ) -> Decision {
        let evidence = serde_json::to_string(&json!({
            "transport": "direct",
            "recipient": report.recipient,
            "outcome": report.outcome,
            "attempts": report.attempts,
        }))
        .unwrap_or_else(|_| "{}".into());
        let mut audit = report
            .attempts
            .last()
            .map_or_else(|| json!({}), audit_detail);
        if let Some(obj) = audit.as_object_mut() {
            obj.insert("transport".into(), "direct".into());
            obj.insert("outcome".into(), outcome_summary(&report.outcome));
            obj.insert("hosts_tried".into(), report.attempts.len().into());
        }
        let base = |state, retry_at, failure| Decision {
            idx: due.idx,
            state,
            retry_at,
            evidence: evidence.clone(),
            audit: audit.clone(),
            failure,
            delayed: None,
            suppress: false,
        };
        match report.outcome.disposition(protection) {
            Disposition::Delivered => base(DeliveryState::Delivered, None, None),
            Disposition::Bounce => {
                let failure = failed(&report, "bounced");
                let mut bounced = base(DeliveryState::Bounced, None, None);
                bounced.suppress = recipient_caused(&failure.status);
                bounced.failure = Some(failure);
                bounced
            }
            Disposition::Retry => {
                let now = Utc::now();
                let waited = (now - message.queued_at).to_std().unwrap_or_default();
                if report.outcome.is_tls_requirement_unmet()
                    && waited >= self.settings.tls_fallback_after
                {
                    // The fallback (secure portal) does not exist yet: the sender is told.
                    return base(
                        DeliveryState::Bounced,
                        None,
                        Some(failed(&report, "bounced")),
                    );
                }
                let wait = self
                    .settings
                    .retry
                    .wait_after(due.attempts.saturating_add(1));
                let retry_at = now
                    + chrono::Duration::from_std(wait)
                        .unwrap_or_else(|_| chrono::Duration::hours(1));
                if retry_at >= message.expires_at {
                    return base(
                        DeliveryState::Expired,
                        None,
                        Some(failed(&report, "expired")),
                    );
                }
                let mut deferred = base(DeliveryState::Deferred, Some(retry_at), None);
                if waited >= self.settings.delay_notice_after {
                    deferred.delayed = Some(delayed(&report));
                }
                deferred
            }
        }
    }

    async fn notify_sender(
        &self,
        scope: &OrgScope,
        message: &QueuedMessage,
        failures: &[dsn::Failed],
    ) -> Result<(), StoreError> {
        let notice = dsn::notice(
            &self.settings.hostname,
            message,
            failures,
            self.settings.retry.max_age,
        );
        if let Some(notice) = notice {
            scope.accept_message(&system(), notice).await?;
            self.wake.notify_one();
        }
        Ok(())
    }

    /// Rejects holds nobody reviewed in time and tells their senders.
    async fn expire_holds(&self) -> Result<usize, StoreError> {
        let mut total = 0;
        for org in self.store.orgs_with_expired_holds().await? {
            let Ok(scope) = self.store.org(org).await else {
                tracing::warn!(%org, "cannot open an organization to expire its holds");
                continue;
            };
            for id in scope.expired_holds(self.settings.batch).await? {
                let rejected = crate::quarantine::reject(
                    &scope,
                    &system(),
                    id,
                    Resolution::Expired,
                    "it was held for review and nobody released it in time",
                    &self.settings.hostname,
                    self.settings.retry.max_age,
                )
                .await?;
                if rejected {
                    total += 1;
                    self.wake.notify_one();
                }
            }
        }
        Ok(total)
    }
}

fn recipient(envelope: &Envelope, idx: u32) -> String {
    usize::try_from(idx)
        .ok()
        .and_then(|i| envelope.recipients.get(i))
        .map(|r| r.expose().clone())
        .unwrap_or_default()
}

fn expired(message: &QueuedMessage, idx: u32, why: &str) -> Decision {
    let rcpt = recipient(&message.envelope, idx);
    Decision {
        idx,
        state: DeliveryState::Expired,
        retry_at: None,
        evidence: json!({ "recipient": rcpt, "outcome": { "status": "expired", "reason": why } })
            .to_string(),
        audit: json!({ "outcome": { "status": "expired" } }),
        failure: Some(dsn::Failed {
            recipient: rcpt,
            action: "expired",
            status: "4.4.7".into(),
            explanation: why.into(),
            diagnostic: None,
        }),
        delayed: None,
        suppress: false,
    }
}

/// Whether a permanent failure's status blames the address itself (RFC 3463: 5.1.1 bad
/// mailbox, 5.1.2 bad domain, 5.1.3 bad address syntax, 5.1.6 moved, 5.1.10 null MX,
/// 5.2.1 mailbox disabled), as opposed to policy, TLS or content.
fn recipient_caused(status: &str) -> bool {
    matches!(
        status,
        "5.1.1" | "5.1.2" | "5.1.3" | "5.1.6" | "5.1.10" | "5.2.1"
    )
}

/// The decision for a suppressed recipient: bounced without an attempt.
fn suppressed(message: &QueuedMessage, idx: u32, status: &str) -> Decision {
    let rcpt = recipient(&message.envelope, idx);
    let why = "an earlier message to this address bounced permanently; it is on the \
               suppression list";
    Decision {
        idx,
        state: DeliveryState::Bounced,
        retry_at: None,
        evidence: json!({
            "recipient": rcpt,
            "outcome": { "status": "suppressed", "reason": why, "bounce_status": status },
        })
        .to_string(),
        audit: json!({ "outcome": { "status": "suppressed", "bounce_status": status } }),
        failure: Some(dsn::Failed {
            recipient: rcpt,
            action: "failed",
            status: status.to_owned(),
            explanation: why.into(),
            diagnostic: None,
        }),
        delayed: None,
        suppress: false,
    }
}

fn delayed(report: &RecipientReport) -> dsn::Failed {
    let mut f = failed(report, "delayed");
    // A temporary failure: the class of the status says so (RFC 3463 §3.1).
    f.status = format!("4{}", f.status.get(1..).unwrap_or(".0.0"));
    f
}

fn failed(report: &RecipientReport, action: &'static str) -> dsn::Failed {
    let (status, explanation, diagnostic) = match &report.outcome {
        RecipientOutcome::PermanentFailure { reason }
        | RecipientOutcome::TemporaryFailure { reason } => {
            let status = match reason {
                FailureReason::TlsRequirementUnmet { .. } => "5.7.10".to_owned(),
                FailureReason::Rejected { reply, .. } => reply
                    .enhanced_code
                    .clone()
                    .unwrap_or_else(|| format!("{}.0.0", reply.code / 100)),
                FailureReason::Dns { .. } => "5.1.2".to_owned(),
                _ if action == "expired" => "4.4.7".to_owned(),
                _ => "5.0.0".to_owned(),
            };
            let diagnostic = match reason {
                FailureReason::Rejected { reply, .. } => {
                    Some(format!("smtp; {} {}", reply.code, reply.text))
                }
                _ => None,
            };
            (status, reason.to_string(), diagnostic)
        }
        RecipientOutcome::Delivered { .. } => ("2.0.0".to_owned(), "delivered".to_owned(), None),
    };
    dsn::Failed {
        recipient: report.recipient.clone(),
        action,
        status,
        explanation,
        diagnostic,
    }
}
