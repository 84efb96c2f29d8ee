use std::fmt::Write;

use super::record::{RecordFindings, RecordState};
use super::spf::MAX_DNS_LOOKUPS;
use super::{DkimFindings, DmarcRecord, DomainCheckReport, MtaStsRecord, SpfRecord, TlsRptRecord};
use crate::dns::DnssecStatus;

impl DomainCheckReport {
    /// A human-readable rendering for the terminal.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "Domain check for {}", self.domain);
        if let Some(reason) = &self.invalid_domain {
            let _ = writeln!(out, "  Not checked: {reason}");
            let _ = writeln!(out, "  Complete: no");
            return out;
        }

        render_spf(&mut out, &self.spf);
        if self.dkim.is_empty() {
            let _ = writeln!(out, "  DKIM: no selector given, not checked");
        }
        for selector in &self.dkim {
            render_dkim(&mut out, selector);
        }
        render_dmarc(&mut out, &self.dmarc);
        render_mta_sts(&mut out, &self.mta_sts);
        render_tls_rpt(&mut out, &self.tls_rpt);

        let complete = if self.is_complete() { "yes" } else { "NO" };
        let _ = writeln!(out, "  Complete: {complete}");
        let missing = self.missing();
        if !missing.is_empty() {
            let _ = writeln!(out, "  To do:");
            for item in missing {
                let _ = writeln!(out, "    - {item}");
            }
        }
        printable(&out)
    }
}

/// `text` with control characters other than newlines escaped, so that text taken from
/// DNS cannot move the terminal's cursor or change its colours.
pub(super) fn printable(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() && c != '\n' {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

fn render_spf(out: &mut String, findings: &RecordFindings<SpfRecord>) {
    header(out, "SPF", findings);
    quoted_records(out, findings);
    if let Some(record) = &findings.parsed {
        let all = match (record.all, &record.redirect) {
            (Some(all), _) => all.as_str().to_owned(),
            (None, Some(target)) => format!("from redirect={target}"),
            (None, None) => "none (neutral)".to_owned(),
        };
        let _ = writeln!(
            out,
            "    unlisted servers: {all}; DNS lookups: {} of {MAX_DNS_LOOKUPS}",
            record.dns_lookups
        );
    }
    warnings(out, findings);
}

fn render_dkim(out: &mut String, findings: &DkimFindings) {
    let label = format!("DKIM selector {}", findings.selector);
    header(out, &label, &findings.record);
    if let Some(key) = findings
        .record
        .parsed
        .as_ref()
        .filter(|key| !key.public_key.is_empty())
    {
        let length = key
            .rsa_bits
            .map(|bits| format!(", {bits} bits"))
            .unwrap_or_default();
        let expected = match findings.matches_expected {
            Some(true) => "; matches the key carepost signs with",
            Some(false) => "; does NOT match the key carepost signs with",
            None => "",
        };
        let _ = writeln!(out, "    {} key{length}{expected}", key.key_type);
    }
    warnings(out, &findings.record);
}

fn render_dmarc(out: &mut String, findings: &RecordFindings<DmarcRecord>) {
    header(out, "DMARC", findings);
    quoted_records(out, findings);
    if let Some(record) = &findings.parsed {
        let subdomains = record.subdomain_policy.unwrap_or(record.policy);
        let reports = match record.aggregate_report_uris.as_slice() {
            [] => "nowhere".to_owned(),
            uris => uris.join(", "),
        };
        let _ = writeln!(
            out,
            "    policy {}, subdomains {}, applied to {}%, reports to {reports}",
            record.policy.as_str(),
            subdomains.as_str(),
            record.percent
        );
    }
    warnings(out, findings);
}

fn render_mta_sts(out: &mut String, findings: &RecordFindings<MtaStsRecord>) {
    header(out, "MTA-STS", findings);
    quoted_records(out, findings);
    if let Some(record) = &findings.parsed {
        let _ = writeln!(out, "    policy id {}", record.id);
    }
}

fn render_tls_rpt(out: &mut String, findings: &RecordFindings<TlsRptRecord>) {
    header(out, "TLS-RPT", findings);
    quoted_records(out, findings);
    if let Some(record) = &findings.parsed {
        let _ = writeln!(out, "    reports to {}", record.report_uris.join(", "));
    }
}

fn header<T>(out: &mut String, label: &str, findings: &RecordFindings<T>) {
    let state = match &findings.state {
        RecordState::Valid => "valid".to_owned(),
        RecordState::Missing => "none published".to_owned(),
        RecordState::Multiple => format!(
            "INVALID: {} records published, only one is allowed",
            findings.records.len()
        ),
        RecordState::Invalid { reason } => format!("INVALID: {reason}"),
        RecordState::Revoked => "REVOKED (empty p=)".to_owned(),
        RecordState::LookupFailed { error } => format!("lookup failed: {error}"),
        RecordState::NotChecked { reason } => format!("not checked: {reason}"),
    };
    let dnssec = match findings.dnssec {
        Some(DnssecStatus::Secure) => " (DNSSEC-signed)",
        Some(DnssecStatus::Insecure) => " (not DNSSEC-signed)",
        Some(DnssecStatus::Bogus) => " (DNSSEC BOGUS)",
        Some(DnssecStatus::Indeterminate) => " (DNSSEC status unknown)",
        None => "",
    };
    let _ = writeln!(out, "  {label} at {}: {state}{dnssec}", findings.name);
}

fn quoted_records<T>(out: &mut String, findings: &RecordFindings<T>) {
    for record in &findings.records {
        let _ = writeln!(out, "    \"{record}\"");
    }
}

fn warnings<T>(out: &mut String, findings: &RecordFindings<T>) {
    for warning in &findings.warnings {
        let _ = writeln!(out, "    warning: {warning}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_from_dns_are_escaped_but_newlines_kept() {
        assert_eq!(printable("a\u{1b}[2J\tb\nc"), "a\\u{1b}[2J\\tb\nc");
    }
}
