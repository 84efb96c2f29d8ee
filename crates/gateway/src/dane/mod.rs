//! DANE for SMTP (RFC 6698, RFC 7671, RFC 7672): matching a server's certificate chain
//! against DNSSEC-validated TLSA records.
//!
//! Only DANE-TA(2) and DANE-EE(3) are usable for SMTP (RFC 7672 §3.1); PKIX-TA(0) and
//! PKIX-EE(1) records, unknown selectors and unknown matching types are unusable and
//! ignored. A set with no usable record is treated as no TLSA at all.

mod matching;

use std::sync::Arc;

use rustls::RootCertStore;
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::ServerCertVerifier;
use rustls::crypto::CryptoProvider;
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};
use serde::{Deserialize, Serialize};
use thiserror::Error;

pub use matching::{Usage, record_for, record_matches, usable_records};

use crate::dns::TlsaRecord;

/// How a chain was authenticated by DANE.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DaneMatch {
    /// The server's own certificate or key matched a DANE-EE(3) record. Names and
    /// validity dates are not checked (RFC 7672 §3.1.1).
    DaneEe,
    /// The chain leads to a trust anchor matching a DANE-TA(2) record, and the
    /// certificate is valid for the MX host name (RFC 7672 §3.1.2).
    DaneTa,
}

/// Why DANE authentication failed.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum DaneError {
    /// No record is usable for SMTP (callers fall back to WebPKI).
    #[error("no usable TLSA record (only DANE-TA and DANE-EE apply to SMTP)")]
    NoUsableRecords,
    /// The server's certificate matches no record.
    #[error("the server certificate matches none of the TLSA records")]
    NoMatch,
    /// A DANE-TA record matched a certificate in the chain, but the chain does not
    /// validate to it for the MX host name.
    #[error("the certificate chain does not validate to the DANE trust anchor: {0}")]
    TrustAnchorChain(String),
    /// The server's certificate could not be parsed.
    #[error("the server certificate is not valid DER")]
    BadCertificate,
}

/// Authenticates a certificate chain with TLSA `records` for `mx_host`.
pub fn verify(
    records: &[TlsaRecord],
    end_entity: &CertificateDer<'_>,
    intermediates: &[CertificateDer<'_>],
    mx_host: &ServerName<'_>,
    now: UnixTime,
    provider: &Arc<CryptoProvider>,
) -> Result<DaneMatch, DaneError> {
    let usable = usable_records(records);
    if usable.is_empty() {
        return Err(DaneError::NoUsableRecords);
    }

    // DANE-EE(3): the leaf alone decides; names and dates are deliberately ignored.
    let ee_records = usable.iter().filter(|(usage, _)| *usage == Usage::DaneEe);
    for (_, record) in ee_records {
        if record_matches(record, end_entity)? {
            return Ok(DaneMatch::DaneEe);
        }
    }

    let anchors = trust_anchors(&usable, intermediates)?;
    if anchors.is_empty() {
        return Err(DaneError::NoMatch);
    }
    verify_to_anchors(anchors, end_entity, intermediates, mx_host, now, provider)
}

/// Certificates that DANE-TA(2) records designate as trust anchors: matching certificates
/// from the server's chain, plus full certificates published in `2 0 0` records.
fn trust_anchors(
    usable: &[(Usage, &TlsaRecord)],
    intermediates: &[CertificateDer<'_>],
) -> Result<Vec<CertificateDer<'static>>, DaneError> {
    let mut anchors = Vec::new();
    for (usage, record) in usable {
        if *usage != Usage::DaneTa {
            continue;
        }
        if record.selector == 0 && record.matching == 0 {
            anchors.push(CertificateDer::from(record.data.clone()));
        }
        for certificate in intermediates {
            // An unparsable intermediate just cannot be an anchor.
            if record_matches(record, certificate).unwrap_or(false) {
                anchors.push(certificate.clone().into_owned());
            }
        }
    }
    Ok(anchors)
}

fn verify_to_anchors(
    anchors: Vec<CertificateDer<'static>>,
    end_entity: &CertificateDer<'_>,
    intermediates: &[CertificateDer<'_>],
    mx_host: &ServerName<'_>,
    now: UnixTime,
    provider: &Arc<CryptoProvider>,
) -> Result<DaneMatch, DaneError> {
    let mut roots = RootCertStore::empty();
    for anchor in anchors {
        // A designated anchor that webpki cannot use simply does not count.
        let _ignored = roots.add(anchor);
    }
    if roots.is_empty() {
        return Err(DaneError::TrustAnchorChain(
            "no designated anchor is a usable certificate".into(),
        ));
    }

    let verifier = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .build()
        .map_err(|e| DaneError::TrustAnchorChain(e.to_string()))?;
    verifier
        .verify_server_cert(end_entity, intermediates, mx_host, &[], now)
        .map(|_| DaneMatch::DaneTa)
        .map_err(|e| DaneError::TrustAnchorChain(e.to_string()))
}
