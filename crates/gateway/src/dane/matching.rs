//! Selector and matching-type rules of RFC 6698 §2.1.

use aws_lc_rs::digest;
use rustls_pki_types::CertificateDer;
use x509_parser::prelude::{FromDer, X509Certificate};

use super::DaneError;
use crate::dns::TlsaRecord;

/// The certificate usages that SMTP may use (RFC 7672 §3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Usage {
    /// DANE-TA(2): a trust anchor for the chain.
    DaneTa,
    /// DANE-EE(3): the server's own certificate or key.
    DaneEe,
}

/// The records usable for SMTP, with their usage: usage 2 or 3, selector 0 or 1,
/// matching type 0, 1 or 2, and digest data of the right length.
pub fn usable_records(records: &[TlsaRecord]) -> Vec<(Usage, &TlsaRecord)> {
    records
        .iter()
        .filter_map(|record| {
            let usage = match record.usage {
                2 => Usage::DaneTa,
                3 => Usage::DaneEe,
                _ => return None,
            };
            let length_ok = match record.matching {
                0 => !record.data.is_empty(),
                1 => record.data.len() == 32,
                2 => record.data.len() == 64,
                _ => false,
            };
            (record.selector <= 1 && length_ok).then_some((usage, record))
        })
        .collect()
}

/// Whether `certificate` matches `record`'s selector and matching type.
pub fn record_matches(
    record: &TlsaRecord,
    certificate: &CertificateDer<'_>,
) -> Result<bool, DaneError> {
    let selected: &[u8] = match record.selector {
        0 => certificate.as_ref(),
        1 => {
            let (_, parsed) = X509Certificate::from_der(certificate.as_ref())
                .map_err(|_| DaneError::BadCertificate)?;
            return Ok(data_matches(record, parsed.tbs_certificate.subject_pki.raw));
        }
        _ => return Ok(false),
    };
    Ok(data_matches(record, selected))
}

/// The TLSA record with `usage`, `selector` and `matching` that designates
/// `certificate` (what an operator publishes, e.g. `3 1 1` for DANE-EE on the key).
pub fn record_for(
    usage: u8,
    selector: u8,
    matching: u8,
    certificate: &CertificateDer<'_>,
) -> Result<TlsaRecord, DaneError> {
    let selected = match selector {
        0 => certificate.as_ref().to_vec(),
        1 => {
            let (_, parsed) = X509Certificate::from_der(certificate.as_ref())
                .map_err(|_| DaneError::BadCertificate)?;
            parsed.tbs_certificate.subject_pki.raw.to_vec()
        }
        _ => return Err(DaneError::NoUsableRecords),
    };
    let data = match matching {
        0 => selected,
        1 => digest::digest(&digest::SHA256, &selected).as_ref().to_vec(),
        2 => digest::digest(&digest::SHA512, &selected).as_ref().to_vec(),
        _ => return Err(DaneError::NoUsableRecords),
    };
    Ok(TlsaRecord {
        usage,
        selector,
        matching,
        data,
    })
}

fn data_matches(record: &TlsaRecord, selected: &[u8]) -> bool {
    match record.matching {
        0 => selected == record.data.as_slice(),
        1 => digest::digest(&digest::SHA256, selected).as_ref() == record.data.as_slice(),
        2 => digest::digest(&digest::SHA512, selected).as_ref() == record.data.as_slice(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(usage: u8, selector: u8, matching: u8, data: Vec<u8>) -> TlsaRecord {
        TlsaRecord {
            usage,
            selector,
            matching,
            data,
        }
    }

    #[test]
    fn pkix_usages_and_unknown_types_are_unusable() {
        let records = [
            record(0, 1, 1, vec![0; 32]),
            record(1, 1, 1, vec![0; 32]),
            record(3, 2, 1, vec![0; 32]),
            record(3, 1, 3, vec![0; 32]),
            record(3, 1, 1, vec![0; 31]),
            record(3, 1, 1, vec![0; 32]),
            record(2, 0, 2, vec![0; 64]),
        ];
        let usable = usable_records(&records);
        assert_eq!(usable.len(), 2);
        assert_eq!(usable[0].0, Usage::DaneEe);
        assert_eq!(usable[1].0, Usage::DaneTa);
    }

    #[test]
    fn full_certificate_matching_compares_bytes_and_digests() {
        let certificate = CertificateDer::from(vec![1u8, 2, 3]);
        let sha256 = digest::digest(&digest::SHA256, &[1, 2, 3])
            .as_ref()
            .to_vec();
        let sha512 = digest::digest(&digest::SHA512, &[1, 2, 3])
            .as_ref()
            .to_vec();
        assert!(record_matches(&record(3, 0, 0, vec![1, 2, 3]), &certificate).unwrap());
        assert!(record_matches(&record(3, 0, 1, sha256), &certificate).unwrap());
        assert!(record_matches(&record(3, 0, 2, sha512), &certificate).unwrap());
        assert!(!record_matches(&record(3, 0, 1, vec![0; 32]), &certificate).unwrap());
        assert_eq!(
            record_matches(&record(3, 1, 1, vec![0; 32]), &certificate),
            Err(DaneError::BadCertificate)
        );
    }
}
