use std::fmt::Write;

use super::{HostReport, TlsCheckReport};

impl TlsCheckReport {
    /// A human-readable rendering for the terminal.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "TLS check for {}", self.domain);
        self.render_mta_sts(&mut out);
        if let Some(error) = &self.mx_error {
            let _ = writeln!(out, "  MX: {error}");
            return out;
        }
        for host in &self.hosts {
            render_host(&mut out, host);
        }
        let deliverable = self.hosts.iter().any(|h| h.deliverable);
        let verdict = if deliverable {
            "yes"
        } else {
            "NO: mail requiring TLS would be deferred"
        };
        let _ = writeln!(out, "  Verified-TLS delivery possible: {verdict}");
        out
    }

    fn render_mta_sts(&self, out: &mut String) {
        let findings = &self.mta_sts;
        let record = match (&findings.record_id, &findings.record_error) {
            (Some(id), _) => format!("id {id}"),
            (None, Some(error)) => format!("unusable ({error})"),
            (None, None) => "none".into(),
        };
        let policy = match &findings.policy {
            Some(policy) => {
                format!("mode {:?}, mx {}", policy.mode, policy.mx.join(", ")).to_lowercase()
            }
            None => "none in force".into(),
        };
        let _ = writeln!(out, "  MTA-STS: record {record}; policy {policy}");
    }
}

fn render_host(out: &mut String, host: &HostReport) {
    let address = host
        .address
        .map(|a| a.to_string())
        .unwrap_or_else(|| "-".into());
    let _ = writeln!(
        out,
        "  MX {} (preference {}, {address})",
        host.mx_host, host.preference
    );
    let starttls = match host.starttls {
        Some(true) => "offered",
        Some(false) => "NOT offered",
        None => "unknown",
    };
    let _ = writeln!(out, "    STARTTLS: {starttls}");
    if let Some(tls) = &host.tls {
        let _ = writeln!(out, "    TLS: {} {}", tls.version, tls.cipher_suite);
    }
    if let Some(certificate) = &host.certificate {
        let result = match &certificate.error {
            None => "valid".to_owned(),
            Some(error) => format!("INVALID ({error})"),
        };
        let _ = writeln!(out, "    Certificate ({:?}): {result}", certificate.method);
    }
    if let Some(listed) = host.mta_sts_listed {
        let _ = writeln!(
            out,
            "    Listed in MTA-STS policy: {}",
            if listed { "yes" } else { "no" }
        );
    }
    match &host.dane {
        Some(dane) => {
            let applied = if dane.applied {
                "applies"
            } else {
                "does not apply"
            };
            let _ = writeln!(
                out,
                "    DANE: {} TLSA record(s), {} usable, DNSSEC {:?}; DANE {applied}",
                dane.records, dane.usable_records, dane.dnssec
            );
        }
        None => {
            let _ = writeln!(out, "    DANE: no TLSA records");
        }
    }
    if let Some(refused) = &host.refused {
        let _ = writeln!(out, "    Refused before connecting: {refused}");
    }
    if let Some(error) = &host.error {
        let _ = writeln!(out, "    Problem: {error}");
    }
}
