//! DMARC (RFC 7489): the policy record at `_dmarc.<domain>`.

use serde::{Deserialize, Serialize};

use super::record::TxtRecord;
use super::tags;

/// What a domain asks receivers to do with mail that fails DMARC (RFC 7489 §6.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DmarcPolicy {
    /// Monitoring only: deliver as usual.
    None,
    /// Treat as suspicious (usually: the spam folder).
    Quarantine,
    /// Refuse during the SMTP transaction.
    Reject,
}

impl DmarcPolicy {
    fn parse(value: &str) -> Option<DmarcPolicy> {
        match value.to_ascii_lowercase().as_str() {
            "none" => Some(Self::None),
            "quarantine" => Some(Self::Quarantine),
            "reject" => Some(Self::Reject),
            _ => None,
        }
    }

    /// The tag value as written in a record.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Quarantine => "quarantine",
            Self::Reject => "reject",
        }
    }
}

/// A parsed DMARC record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DmarcRecord {
    /// `p=`: the policy for the domain itself.
    pub policy: DmarcPolicy,
    /// `sp=`: the policy for subdomains; `None` means they follow `p=`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub subdomain_policy: Option<DmarcPolicy>,
    /// `pct=`: the share of failing mail the policy applies to, 100 when absent.
    pub percent: u8,
    /// `rua=`: where aggregate reports go.
    pub aggregate_report_uris: Vec<String>,
}

impl TxtRecord for DmarcRecord {
    /// RFC 7489 §6.6.3: records that do not start with `v=DMARC1` are discarded. Near
    /// misses (`v=dmarc1`, `v=DMARC1 p=reject` without the `;`) are candidates here so
    /// that they are reported rather than silently missing.
    fn is_candidate(record: &[u8]) -> bool {
        let text = String::from_utf8_lossy(record);
        let first = text.split(';').next().unwrap_or_default();
        first.split_once('=').is_some_and(|(tag, value)| {
            let value = value.trim_start().as_bytes();
            tag.trim() == "v"
                && value
                    .get(..6)
                    .is_some_and(|v| v.eq_ignore_ascii_case(b"DMARC1"))
        })
    }

    fn parse(text: &str) -> Result<DmarcRecord, String> {
        let tags = tags::parse(text)?;
        // RFC 7489 §6.4: the record starts with the literal, case-sensitive "v=DMARC1".
        match tags.first() {
            Some(("v", "DMARC1")) => {}
            Some(("v", version)) => {
                return Err(format!(
                    "v={version} must be written v=DMARC1 (RFC 7489 §6.4)"
                ));
            }
            _ => return Err("the record must start with v=DMARC1 (RFC 7489 §6.4)".into()),
        }

        let policy = match tags::get(&tags, "p") {
            Some(value) => parse_policy(value, "p")?,
            None => return Err("there is no p= policy, which is required (RFC 7489 §6.3)".into()),
        };
        let subdomain_policy = tags::get(&tags, "sp")
            .map(|value| parse_policy(value, "sp"))
            .transpose()?;
        let percent = match tags::get(&tags, "pct") {
            None => 100,
            Some(value) => value
                .parse()
                .ok()
                .filter(|percent| *percent <= 100)
                .ok_or(format!("pct={value} must be a whole number from 0 to 100"))?,
        };
        let aggregate_report_uris = tags::get(&tags, "rua")
            .map(report_uris)
            .transpose()?
            .unwrap_or_default();

        Ok(DmarcRecord {
            policy,
            subdomain_policy,
            percent,
            aggregate_report_uris,
        })
    }

    fn warnings(&self) -> Vec<String> {
        let mut warnings = Vec::new();
        if self.policy == DmarcPolicy::None {
            warnings.push(
                "p=none is monitoring only: receivers deliver mail that fails DMARC as usual"
                    .to_owned(),
            );
        } else if self.subdomain_policy == Some(DmarcPolicy::None) {
            warnings.push("sp=none leaves subdomains at monitoring only".to_owned());
        }
        if self.percent < 100 {
            warnings.push(format!(
                "pct={} applies the policy to only {}% of failing mail",
                self.percent, self.percent
            ));
        }
        if self.aggregate_report_uris.is_empty() {
            warnings.push(
                "there is no rua=, so nobody receives aggregate reports about mail sent \
                 in this domain's name"
                    .to_owned(),
            );
        }
        warnings
    }
}

fn parse_policy(value: &str, tag: &str) -> Result<DmarcPolicy, String> {
    DmarcPolicy::parse(value)
        .ok_or_else(|| format!("{tag}={value} is not none, quarantine or reject"))
}

/// `rua=`: comma-separated URIs (RFC 7489 §6.4), each optionally followed by `!size`.
fn report_uris(value: &str) -> Result<Vec<String>, String> {
    let uris: Vec<String> = value
        .split(',')
        .map(str::trim)
        .filter(|uri| !uri.is_empty())
        .map(str::to_owned)
        .collect();
    match uris.iter().find(|uri| !uri.contains(':')) {
        Some(uri) => Err(format!(
            "rua= entry {uri:?} is not a URI such as mailto:dmarc@example.com"
        )),
        None => Ok(uris),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> DmarcRecord {
        DmarcRecord::parse(text).unwrap()
    }

    #[test]
    fn a_full_record_parses_with_every_reported_tag() {
        let record = parse(
            "v=DMARC1; p=quarantine; sp=reject; pct=50; \
             rua=mailto:dmarc@clinic.example, mailto:dmarc@reports.example!10m",
        );
        assert_eq!(record.policy, DmarcPolicy::Quarantine);
        assert_eq!(record.subdomain_policy, Some(DmarcPolicy::Reject));
        assert_eq!(record.percent, 50);
        assert_eq!(
            record.aggregate_report_uris,
            vec![
                "mailto:dmarc@clinic.example",
                "mailto:dmarc@reports.example!10m"
            ]
        );
        assert!(record.warnings()[0].contains("50%"));
    }

    #[test]
    fn absent_optional_tags_take_their_defaults() {
        let record = parse("v=DMARC1; p=REJECT");
        assert_eq!(record.policy, DmarcPolicy::Reject);
        assert_eq!(record.subdomain_policy, None);
        assert_eq!(record.percent, 100);
        assert!(record.aggregate_report_uris.is_empty());
        assert_eq!(
            record.warnings().len(),
            1,
            "only the missing rua= is warned about"
        );
    }

    #[test]
    fn p_none_is_warned_about_as_monitoring_only() {
        let record = parse("v=DMARC1; p=none; rua=mailto:d@clinic.example");
        assert_eq!(
            record.warnings(),
            vec!["p=none is monitoring only: receivers deliver mail that fails DMARC as usual"]
        );
        let record = parse("v=DMARC1; p=reject; sp=none; rua=mailto:d@clinic.example");
        assert!(record.warnings()[0].contains("subdomains"));
    }

    #[test]
    fn a_record_without_a_valid_policy_is_invalid() {
        for (text, reason) in [
            ("v=DMARC1; rua=mailto:d@clinic.example", "no p="),
            ("v=DMARC1; p=block", "p=block"),
            ("v=DMARC1; p=reject; sp=maybe", "sp=maybe"),
            ("v=DMARC1; p=reject; pct=101", "pct=101"),
            ("v=DMARC1; p=reject; pct=half", "pct=half"),
            ("v=DMARC1; p=reject; rua=dmarc@clinic.example", "not a URI"),
            ("v=DMARC1; p=reject; p=none", "more than once"),
            ("v=DMARC1 p=reject", "v=DMARC1 p=reject must be written"),
            ("v=dmarc1; p=reject", "must be written v=DMARC1"),
            ("p=reject; v=DMARC1", "must start with v=DMARC1"),
        ] {
            let error = DmarcRecord::parse(text).unwrap_err();
            assert!(error.contains(reason), "{text}: {error}");
        }
    }

    #[test]
    fn only_records_starting_with_the_version_are_dmarc_records() {
        assert!(DmarcRecord::is_candidate(b"v=DMARC1; p=none"));
        assert!(DmarcRecord::is_candidate(b" v = DMARC1 ;p=none"));
        assert!(DmarcRecord::is_candidate(b"v=dmarc1; p=none"));
        assert!(DmarcRecord::is_candidate(b"v=DMARC1 p=none"));
        assert!(!DmarcRecord::is_candidate(b"p=none; v=DMARC1"));
        assert!(!DmarcRecord::is_candidate(b"v=DMARC2; p=none"));
        assert!(!DmarcRecord::is_candidate(b"v=spf1 -all"));
    }
}
