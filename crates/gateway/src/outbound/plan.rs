//! Deciding, before connecting, what each MX host of a domain must prove.

use serde::{Deserialize, Serialize};

use super::outcome::{DaneEvidence, TlsFailure};
use super::tls::CertRequirement;
use crate::dane::usable_records;
use crate::dns::{DnsError, DnssecStatus, MailExchanger, MxError, MxResolver, smtp_tlsa_name};
use crate::mta_sts::{ActivePolicy, MtaStsResolver};

/// One MX host with the certificate requirement that applies to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedHost {
    /// The MX host.
    pub mx: MailExchanger,
    /// What its certificate must satisfy, or why no connection may be attempted.
    pub requirement: Result<CertRequirement, TlsFailure>,
    /// The MTA-STS policy of the domain, if any.
    pub mta_sts: Option<ActivePolicy>,
    /// DANE facts, if TLSA was looked up.
    pub dane: Option<DaneEvidence>,
}

/// The hosts of a destination domain, most preferred first, each with its requirement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryPlan {
    /// The recipient domain.
    pub domain: String,
    /// The MTA-STS policy in force, if any.
    pub mta_sts: Option<ActivePolicy>,
    /// The hosts.
    pub hosts: Vec<PlannedHost>,
}

/// A summary of a plan for reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedHostSummary {
    /// MX host name.
    pub mx_host: String,
    /// MX preference.
    pub preference: u16,
    /// Why it may not be used, if so.
    pub refused: Option<TlsFailure>,
}

/// Builds the plan for `domain`: MX hosts, MTA-STS policy, TLSA records per host.
pub async fn plan(
    mx: &MxResolver,
    mta_sts: &MtaStsResolver,
    domain: &str,
) -> Result<DeliveryPlan, MxError> {
    let set = mx.mail_exchangers(domain).await?;
    // A relay is the operator's own next hop, not the domain's MX: the domain's MTA-STS
    // policy names its MX hosts and cannot apply to it (the relay enforces it onwards).
    let policy = if set.relay {
        None
    } else {
        mta_sts.policy(&set.domain).await
    };
    // RFC 7672 §2.2: DANE applies only to MX hosts obtained from a secure MX answer
    // (operator routes count as secure configuration).
    let dane_eligible = set.dnssec == DnssecStatus::Secure;

    let mut hosts = Vec::with_capacity(set.hosts.len());
    for host in set.hosts {
        let (requirement, dane) = host_requirement(mx, &host, policy.as_ref(), dane_eligible).await;
        hosts.push(PlannedHost {
            mx: host,
            requirement,
            mta_sts: policy.clone(),
            dane,
        });
    }
    Ok(DeliveryPlan {
        domain: set.domain,
        mta_sts: policy,
        hosts,
    })
}

async fn host_requirement(
    mx: &MxResolver,
    host: &MailExchanger,
    policy: Option<&ActivePolicy>,
    dane_eligible: bool,
) -> (Result<CertRequirement, TlsFailure>, Option<DaneEvidence>) {
    let tlsa_name = smtp_tlsa_name(&host.name);
    let answer = match mx.dns().tlsa(&tlsa_name).await {
        Ok(answer) => answer,
        Err(DnsError::Bogus { name }) => return (Err(TlsFailure::DnssecBogus { name }), None),
        Err(error) if dane_eligible => {
            return (
                Err(TlsFailure::TlsaLookupFailed {
                    detail: error.to_string(),
                }),
                None,
            );
        }
        Err(_) => return (webpki_requirement(host, policy), None),
    };
    if answer.dnssec == DnssecStatus::Bogus {
        return (Err(TlsFailure::DnssecBogus { name: tlsa_name }), None);
    }

    let usable: Vec<_> = usable_records(&answer.records)
        .into_iter()
        .map(|(_, r)| r.clone())
        .collect();
    let applied = dane_eligible && answer.dnssec == DnssecStatus::Secure && !usable.is_empty();
    let evidence = DaneEvidence {
        dnssec: answer.dnssec,
        records: answer.records.len(),
        usable_records: usable.len(),
        applied,
    };
    let evidence = (!answer.records.is_empty()).then_some(evidence);
    if applied {
        // DANE takes precedence over MTA-STS (RFC 8461 §2), but an enforced policy that
        // does not list the host still refuses it: carepost applies the stricter rule.
        if let Some(refusal) = sts_refusal(host, policy) {
            return (Err(refusal), evidence);
        }
        return (Ok(CertRequirement::Dane(usable)), evidence);
    }
    (webpki_requirement(host, policy), evidence)
}

fn webpki_requirement(
    host: &MailExchanger,
    policy: Option<&ActivePolicy>,
) -> Result<CertRequirement, TlsFailure> {
    if let Some(refusal) = sts_refusal(host, policy) {
        return Err(refusal);
    }
    let mta_sts = policy.is_some_and(ActivePolicy::is_enforced);
    Ok(CertRequirement::WebPki { mta_sts })
}

fn sts_refusal(host: &MailExchanger, policy: Option<&ActivePolicy>) -> Option<TlsFailure> {
    let policy = policy.filter(|p| p.is_enforced())?;
    if policy.allows_mx(&host.name) {
        return None;
    }
    Some(TlsFailure::MtaStsMxNotListed {
        mx_host: host.name.clone(),
        policy_id: policy.id.clone(),
    })
}

impl DeliveryPlan {
    /// A serializable summary of the hosts.
    pub fn summary(&self) -> Vec<PlannedHostSummary> {
        self.hosts
            .iter()
            .map(|host| PlannedHostSummary {
                mx_host: host.mx.name.clone(),
                preference: host.mx.preference,
                refused: host.requirement.as_ref().err().cloned(),
            })
            .collect()
    }
}
