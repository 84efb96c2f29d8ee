//! MTA-STS (RFC 8461 §3.1): the `_mta-sts.<domain>` TXT record announcing a policy. The
//! record is picked and parsed by [`crate::mta_sts::parse_records`], exactly as delivery
//! does; the policy file itself is fetched by `carepost tls check`, not here.

use serde::{Deserialize, Serialize};

use super::record::{RecordFindings, RecordState, fetch, lossy};
use crate::dns::DnsLookup;
use crate::mta_sts::{StsRecordError, parse_records};

/// A parsed MTA-STS record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MtaStsRecord {
    /// The policy id: it changes whenever the policy file changes.
    pub id: String,
}

pub(super) async fn check(dns: &dyn DnsLookup, domain: &str) -> RecordFindings<MtaStsRecord> {
    let name = format!("_mta-sts.{domain}");
    let answer = match fetch(dns, &name).await {
        Ok(answer) => answer,
        Err(failure) => return RecordFindings::failed(name, failure),
    };

    let mut findings = RecordFindings::with_state(name, RecordState::Missing, Some(answer.dnssec));
    // A record belongs to MTA-STS unless parse_records alone would call it missing.
    findings.records = answer
        .records
        .iter()
        .filter(|record| parse_records([record.as_slice()]) != Err(StsRecordError::Missing))
        .map(|record| lossy(record))
        .collect();
    match parse_records(answer.records.iter().map(Vec::as_slice)) {
        Ok(record) => {
            findings.state = RecordState::Valid;
            findings.parsed = Some(MtaStsRecord { id: record.id });
        }
        Err(StsRecordError::Missing) => {}
        Err(StsRecordError::Multiple) => findings.state = RecordState::Multiple,
        Err(error) => {
            findings.state = RecordState::Invalid {
                reason: error.to_string(),
            }
        }
    }
    findings
}
