//! `carepost tls check DOMAIN`: what a domain's mail servers support, checked exactly as
//! the delivery engine checks them (same MX resolution, MTA-STS, DANE and verifier).
//!
//! The probe completes the TLS handshake even when the certificate fails, so that it can
//! report the TLS version and the reason; it then says QUIT and never sends mail.

mod render;

use std::net::SocketAddr;

use serde::{Deserialize, Serialize};

use crate::mta_sts::{ActivePolicy, parse_records};
use crate::outbound::{
    CertRequirement, CertificateVerification, DaneEvidence, Deliverer, FailureReason, PlannedHost,
    TlsFailure, TlsSession, open_plain, server_name, session_of, start_tls,
};

/// The report for one domain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TlsCheckReport {
    /// The domain checked.
    pub domain: String,
    /// Why no MX host could be determined (null MX, DNS failure).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub mx_error: Option<String>,
    /// MTA-STS findings.
    pub mta_sts: MtaStsFindings,
    /// One entry per MX host, most preferred first.
    pub hosts: Vec<HostReport>,
}

/// MTA-STS findings for the domain.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MtaStsFindings {
    /// The policy id from the `_mta-sts` TXT record, if a valid record exists.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub record_id: Option<String>,
    /// Why the TXT record is unusable, if one exists but is broken.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub record_error: Option<String>,
    /// The policy in force (fetched or cached), if any.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub policy: Option<ActivePolicy>,
}

/// Findings for one MX host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostReport {
    /// MX host name.
    pub mx_host: String,
    /// MX preference.
    pub preference: u16,
    /// The address probed.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub address: Option<SocketAddr>,
    /// Whether STARTTLS was offered (`None` if the server could not be reached).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub starttls: Option<bool>,
    /// The negotiated TLS session.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub tls: Option<TlsSession>,
    /// How the certificate was checked and the result.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub certificate: Option<CertificateVerification>,
    /// Whether the MTA-STS policy lists this host (`None` without a policy).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub mta_sts_listed: Option<bool>,
    /// DANE facts (TLSA records, DNSSEC status, whether DANE decides).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub dane: Option<DaneEvidence>,
    /// Why the engine would refuse this host before connecting.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub refused: Option<TlsFailure>,
    /// Connection or protocol problem.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub error: Option<String>,
    /// Whether carepost would deliver PHI to this host right now.
    pub deliverable: bool,
}

/// Checks `domain` with the engine's own resolver, policies and trust roots.
pub async fn check(deliverer: &Deliverer, domain: &str) -> TlsCheckReport {
    let mut report = TlsCheckReport {
        domain: domain.to_ascii_lowercase(),
        mx_error: None,
        mta_sts: mta_sts_record(deliverer, domain).await,
        hosts: Vec::new(),
    };
    let plan = match deliverer.plan(domain).await {
        Ok(plan) => plan,
        Err(error) => {
            report.mx_error = Some(error.to_string());
            return report;
        }
    };
    report.mta_sts.policy = plan.mta_sts.clone();
    for host in &plan.hosts {
        report.hosts.push(probe(deliverer, host).await);
    }
    report
}

async fn mta_sts_record(deliverer: &Deliverer, domain: &str) -> MtaStsFindings {
    let name = format!("_mta-sts.{domain}");
    let mut findings = MtaStsFindings::default();
    match deliverer.resolver().dns().txt(&name).await {
        Ok(answer) => match parse_records(answer.records.iter().map(Vec::as_slice)) {
            Ok(record) => findings.record_id = Some(record.id),
            Err(crate::mta_sts::StsRecordError::Missing) => {}
            Err(error) => findings.record_error = Some(error.to_string()),
        },
        Err(error) => findings.record_error = Some(error.to_string()),
    }
    findings
}

async fn probe(deliverer: &Deliverer, host: &PlannedHost) -> HostReport {
    let mut report = HostReport {
        mx_host: host.mx.name.clone(),
        preference: host.mx.preference,
        address: None,
        starttls: None,
        tls: None,
        certificate: None,
        mta_sts_listed: host.mta_sts.as_ref().map(|p| p.allows_mx(&host.mx.name)),
        dane: host.dane.clone(),
        refused: host.requirement.as_ref().err().cloned(),
        error: None,
        deliverable: false,
    };
    let address = match deliverer.resolver().addresses(&host.mx).await {
        Ok(addresses) => addresses.into_iter().next(),
        Err(error) => {
            report.error = Some(error.to_string());
            return report;
        }
    };
    let Some(address) = address else {
        report.error = Some("no address".into());
        return report;
    };
    report.address = Some(address);
    if let Err(reason) = handshake(deliverer, host, address, &mut report).await {
        report.error = Some(reason.to_string());
    }
    report.deliverable = report.refused.is_none()
        && report.starttls == Some(true)
        && report.certificate.as_ref().is_some_and(|c| c.verified);
    report
}

async fn handshake(
    deliverer: &Deliverer,
    host: &PlannedHost,
    address: SocketAddr,
    report: &mut HostReport,
) -> Result<(), FailureReason> {
    let (wire, caps) = open_plain(address, deliverer.options()).await?;
    report.starttls = Some(caps.starttls);
    if !caps.starttls {
        return Ok(());
    }
    let requirement = host
        .requirement
        .clone()
        .unwrap_or(CertRequirement::WebPki { mta_sts: false });
    let name = server_name(&host.mx.name).map_err(|reason| *reason)?;
    let (config, verifier) = deliverer
        .trust()
        .danger_record_only_config(name.clone(), requirement)
        .map_err(|e| FailureReason::Unsendable {
            detail: e.to_string(),
        })?;
    let result = start_tls(wire, &caps, config, &verifier, name, &host.mx.name).await;
    report.certificate = verifier.outcome();
    let mut wire = result.map_err(|failure| failure.reason)?;
    report.tls = session_of(wire.io.get_ref());
    let _ = wire
        .command("QUIT", crate::outbound::SmtpStage::Reset)
        .await;
    Ok(())
}
