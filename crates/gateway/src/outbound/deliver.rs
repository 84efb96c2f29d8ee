//! Delivering a batch of messages to one destination domain: MX hosts in preference
//! order, one verified-TLS connection reused for all messages, per-recipient outcomes.

use std::net::SocketAddr;
use std::sync::Arc;

use super::connection::{ClientOptions, ConnectFailure, SmtpConnection};
use super::outcome::{
    AttemptEvidence, FailureReason, MessageReport, OutboundMessage, RecipientOutcome,
    RecipientReport,
};
use super::plan::{DeliveryPlan, PlannedHost, plan};
use super::tls::TrustStore;
use crate::dns::{MxError, MxResolver};
use crate::mta_sts::MtaStsResolver;

/// At most this many addresses are tried per MX host.
const MAX_ADDRESSES_PER_HOST: usize = 2;

/// The outbound delivery engine for one process: resolver, MTA-STS, trust roots, options.
#[derive(Clone)]
pub struct Deliverer {
    mx: MxResolver,
    mta_sts: Arc<MtaStsResolver>,
    trust: TrustStore,
    options: ClientOptions,
}

impl Deliverer {
    /// Assembles the engine.
    pub fn new(
        mx: MxResolver,
        mta_sts: Arc<MtaStsResolver>,
        trust: TrustStore,
        options: ClientOptions,
    ) -> Deliverer {
        Deliverer {
            mx,
            mta_sts,
            trust,
            options,
        }
    }

    /// The MX hosts of `domain` with what each must prove (no connection is made).
    pub async fn plan(&self, domain: &str) -> Result<DeliveryPlan, MxError> {
        plan(&self.mx, &self.mta_sts, domain).await
    }

    /// The trust roots.
    pub fn trust(&self) -> &TrustStore {
        &self.trust
    }

    /// The client options.
    pub fn options(&self) -> &ClientOptions {
        &self.options
    }

    /// The MX resolver.
    pub fn resolver(&self) -> &MxResolver {
        &self.mx
    }

    /// Delivers `messages` (all recipients in `domain`) and reports every recipient.
    ///
    /// Hosts are tried in MX order until one accepts a verified-TLS connection; the
    /// connection is then reused for all messages. A message whose data was never sent
    /// moves on to the next host if the connection breaks.
    pub async fn deliver(&self, domain: &str, messages: &[OutboundMessage]) -> Vec<MessageReport> {
        let mut runs: Vec<Run> = messages.iter().map(Run::new).collect();
        let plan = match self.plan(domain).await {
            Ok(plan) => plan,
            Err(error) => {
                let reason = FailureReason::Dns {
                    detail: error.to_string(),
                };
                let outcome = if error.is_permanent() {
                    RecipientOutcome::PermanentFailure { reason }
                } else {
                    RecipientOutcome::TemporaryFailure { reason }
                };
                tracing::info!(domain, %error, "no mail exchanger");
                return runs
                    .into_iter()
                    .map(|run| run.finish(Some(outcome.clone())))
                    .collect();
            }
        };

        let mut pending: Vec<usize> = (0..messages.len()).collect();
        let mut last_failure = None;
        for host in &plan.hosts {
            if pending.is_empty() {
                break;
            }
            for address in self.addresses(host, &mut last_failure).await {
                match SmtpConnection::connect(&self.trust, &self.options, host, address).await {
                    Err(failure) => {
                        tracing::info!(domain, mx = %host.mx.name, %address, reason = %failure.reason.log_summary(), "connection refused for delivery");
                        record_connect_failure(&mut runs, &pending, host, address, &failure);
                        last_failure = Some(failure.reason);
                    }
                    Ok(connection) => {
                        pending = self
                            .send_all(connection, messages, &mut runs, pending)
                            .await;
                        break;
                    }
                }
                if pending.is_empty() {
                    break;
                }
            }
            // A refused host (MTA-STS, DNSSEC) yields no address; record why.
            if let Err(failure) = &host.requirement {
                let reason = FailureReason::TlsRequirementUnmet {
                    mx_host: host.mx.name.clone(),
                    failure: failure.clone(),
                };
                let failure = ConnectFailure {
                    reason: reason.clone(),
                    tls: None,
                    certificate: None,
                };
                record_unconnected(&mut runs, &pending, host, &failure);
                last_failure = Some(reason);
            }
        }

        let fallback = last_failure.unwrap_or(FailureReason::Dns {
            detail: "no usable mail exchanger".into(),
        });
        let fallback = RecipientOutcome::TemporaryFailure { reason: fallback };
        runs.into_iter()
            .enumerate()
            .map(|(index, run)| {
                let unsettled = pending.contains(&index).then(|| fallback.clone());
                run.finish(unsettled)
            })
            .collect()
    }

    async fn addresses(
        &self,
        host: &PlannedHost,
        last_failure: &mut Option<FailureReason>,
    ) -> Vec<SocketAddr> {
        if host.requirement.is_err() {
            return Vec::new();
        }
        match self.mx.addresses(&host.mx).await {
            Ok(addresses) if !addresses.is_empty() => {
                addresses.into_iter().take(MAX_ADDRESSES_PER_HOST).collect()
            }
            Ok(_) => {
                *last_failure = Some(FailureReason::Dns {
                    detail: format!("{} has no address", host.mx.name),
                });
                Vec::new()
            }
            Err(error) => {
                *last_failure = Some(FailureReason::Dns {
                    detail: error.to_string(),
                });
                Vec::new()
            }
        }
    }

    /// Sends every pending message over `connection`; returns those to try elsewhere.
    async fn send_all(
        &self,
        mut connection: SmtpConnection,
        messages: &[OutboundMessage],
        runs: &mut [Run],
        pending: Vec<usize>,
    ) -> Vec<usize> {
        let mut retry_elsewhere = Vec::new();
        for index in pending {
            let (Some(message), Some(run)) = (messages.get(index), runs.get_mut(index)) else {
                continue;
            };
            if !connection.is_usable() {
                retry_elsewhere.push(index);
                continue;
            }
            let transaction = connection.send(message).await;
            let movable = !transaction.data_sent && !connection.is_usable();
            for (recipient_index, (recipient, outcome)) in
                transaction.results().into_iter().enumerate()
            {
                log_outcome(message, &recipient, &outcome);
                let evidence = connection.evidence(&recipient, outcome.clone());
                run.attempt(recipient_index, evidence, (!movable).then_some(outcome));
            }
            if movable {
                retry_elsewhere.push(index);
            }
        }
        connection.quit().await;
        retry_elsewhere
    }
}

fn log_outcome(message: &OutboundMessage, _recipient: &str, outcome: &RecipientOutcome) {
    // Recipient addresses are personal data: log the message id and the status only.
    match outcome {
        RecipientOutcome::Delivered { .. } => {
            tracing::info!(message = %message.id, "recipient delivered")
        }
        RecipientOutcome::TemporaryFailure { reason } => {
            tracing::info!(message = %message.id, reason = %reason.log_summary(), "recipient deferred")
        }
        RecipientOutcome::PermanentFailure { reason } => {
            tracing::info!(message = %message.id, reason = %reason.log_summary(), "recipient failed permanently")
        }
    }
}

fn record_connect_failure(
    runs: &mut [Run],
    pending: &[usize],
    host: &PlannedHost,
    address: SocketAddr,
    failure: &ConnectFailure,
) {
    for &index in pending {
        let Some(run) = runs.get_mut(index) else {
            continue;
        };
        for recipient_index in 0..run.recipients.len() {
            let mut evidence =
                unconnected_evidence(&run.recipients[recipient_index].recipient, host, failure);
            evidence.ip = Some(address.ip());
            evidence.port = Some(address.port());
            run.attempt(recipient_index, evidence, None);
        }
    }
}

fn record_unconnected(
    runs: &mut [Run],
    pending: &[usize],
    host: &PlannedHost,
    failure: &ConnectFailure,
) {
    for &index in pending {
        let Some(run) = runs.get_mut(index) else {
            continue;
        };
        for recipient_index in 0..run.recipients.len() {
            let evidence =
                unconnected_evidence(&run.recipients[recipient_index].recipient, host, failure);
            run.attempt(recipient_index, evidence, None);
        }
    }
}

fn unconnected_evidence(
    recipient: &str,
    host: &PlannedHost,
    failure: &ConnectFailure,
) -> AttemptEvidence {
    AttemptEvidence {
        recipient: recipient.to_owned(),
        mx_host: host.mx.name.clone(),
        ip: None,
        port: None,
        tls: failure.tls.clone(),
        certificate: failure.certificate.clone(),
        mta_sts: host.mta_sts.clone(),
        dane: host.dane.clone(),
        outcome: RecipientOutcome::TemporaryFailure {
            reason: failure.reason.clone(),
        },
    }
}

/// Work-in-progress report of one message.
struct Run {
    id: String,
    protection: super::Protection,
    recipients: Vec<RecipientReport>,
    settled: Vec<bool>,
}

impl Run {
    fn new(message: &OutboundMessage) -> Run {
        let placeholder = RecipientOutcome::TemporaryFailure {
            reason: FailureReason::Dns {
                detail: "not attempted".into(),
            },
        };
        let recipients = message
            .recipients
            .iter()
            .map(|recipient| RecipientReport {
                recipient: recipient.clone(),
                outcome: placeholder.clone(),
                attempts: Vec::new(),
            })
            .collect();
        Run {
            id: message.id.clone(),
            protection: message.protection,
            recipients,
            settled: vec![false; message.recipients.len()],
        }
    }

    fn attempt(
        &mut self,
        index: usize,
        evidence: AttemptEvidence,
        final_outcome: Option<RecipientOutcome>,
    ) {
        let (Some(report), Some(settled)) =
            (self.recipients.get_mut(index), self.settled.get_mut(index))
        else {
            return;
        };
        if *settled {
            return;
        }
        report.attempts.push(evidence);
        if let Some(outcome) = final_outcome {
            report.outcome = outcome;
            *settled = true;
        }
    }

    fn finish(mut self, unsettled: Option<RecipientOutcome>) -> MessageReport {
        if let Some(outcome) = unsettled {
            for (report, settled) in self.recipients.iter_mut().zip(&self.settled) {
                if !settled {
                    report.outcome = outcome.clone();
                }
            }
        }
        MessageReport {
            id: self.id,
            protection: self.protection,
            recipients: self.recipients,
        }
    }
}
