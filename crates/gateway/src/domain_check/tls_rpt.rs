//! TLS-RPT (RFC 8460): where a domain wants reports of failed TLS connections to it, at
//! `_smtp._tls.<domain>`.

use serde::{Deserialize, Serialize};

use super::record::TxtRecord;
use super::tags;

/// The version a TLS-RPT record starts with (RFC 8460 §3).
const VERSION: &[u8] = b"v=TLSRPTv1";

/// A parsed TLS-RPT record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TlsRptRecord {
    /// `rua=`: where reports go, `mailto:` or `https:` URIs.
    pub report_uris: Vec<String>,
}

impl TxtRecord for TlsRptRecord {
    /// RFC 8460 §3: records that do not begin with `v=TLSRPTv1` are discarded.
    fn is_candidate(record: &[u8]) -> bool {
        let rest = record.strip_prefix(VERSION);
        rest.is_some_and(|rest| matches!(rest.first(), None | Some(b';' | b' ' | b'\t')))
    }

    /// Extension fields are read with the DKIM tag syntax, which is stricter about their
    /// names than RFC 8460 §3 (no `-` or `.`); no published extension uses those.
    fn parse(text: &str) -> Result<TlsRptRecord, String> {
        let tags = tags::parse(text)?;
        let Some(rua) = tags::get(&tags, "rua") else {
            return Err("there is no rua= saying where reports go (RFC 8460 §3)".into());
        };
        let report_uris: Vec<String> = rua
            .split(',')
            .map(str::trim)
            .filter(|uri| !uri.is_empty())
            .map(str::to_owned)
            .collect();
        if report_uris.is_empty() {
            return Err("rua= is empty".into());
        }
        let supported = |uri: &String| uri.starts_with("mailto:") || uri.starts_with("https:");
        if let Some(uri) = report_uris.iter().find(|uri| !supported(uri)) {
            return Err(format!(
                "rua= entry {uri:?} is neither a mailto: nor an https: URI"
            ));
        }
        Ok(TlsRptRecord { report_uris })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rfc_example_record_parses() {
        let record = TlsRptRecord::parse(
            "v=TLSRPTv1; rua=mailto:reports@example.com,https://reporting.example.com/v1",
        )
        .unwrap();
        assert_eq!(record.report_uris.len(), 2);
    }

    #[test]
    fn a_record_without_usable_report_addresses_is_invalid() {
        assert!(
            TlsRptRecord::parse("v=TLSRPTv1;")
                .unwrap_err()
                .contains("no rua=")
        );
        assert!(
            TlsRptRecord::parse("v=TLSRPTv1; rua=")
                .unwrap_err()
                .contains("empty")
        );
        let error = TlsRptRecord::parse("v=TLSRPTv1; rua=reports@example.com").unwrap_err();
        assert!(error.contains("neither"), "{error}");
    }

    #[test]
    fn only_records_starting_with_the_version_are_tls_rpt_records() {
        assert!(TlsRptRecord::is_candidate(
            b"v=TLSRPTv1; rua=mailto:r@example.com"
        ));
        assert!(TlsRptRecord::is_candidate(b"v=TLSRPTv1"));
        assert!(!TlsRptRecord::is_candidate(
            b"v=TLSRPTv10; rua=mailto:r@example.com"
        ));
        assert!(!TlsRptRecord::is_candidate(
            b"rua=mailto:r@example.com; v=TLSRPTv1"
        ));
    }
}
