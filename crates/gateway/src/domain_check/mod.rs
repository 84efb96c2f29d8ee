//! `carepost domain check DOMAIN`: the DNS records that let receivers authenticate mail
//! from a sending domain, and what is missing.
//!
//! SPF (RFC 7208), DKIM (RFC 6376) and DMARC (RFC 7489) decide whether receivers trust
//! mail sent in the domain's name; the domain is complete when all three are in place
//! and DMARC asks receivers to quarantine or reject what fails. MTA-STS (RFC 8461) and
//! TLS-RPT (RFC 8460) protect mail sent *to* the domain: recommended, not required.
//!
//! Only the domain's own TXT records are read. SPF `include:`s are not followed, the
//! MTA-STS policy file is not fetched (`carepost tls check` does), and DKIM keys are
//! found only under the selectors given, because DNS cannot list them.

mod advice;
mod dkim;
mod dmarc;
mod mta_sts;
mod name;
mod record;
mod render;
mod spf;
mod tags;
mod tls_rpt;

use serde::{Deserialize, Serialize};

pub use dkim::{DkimFindings, DkimKey};
pub use dmarc::{DmarcPolicy, DmarcRecord};
pub use mta_sts::MtaStsRecord;
pub use record::{RecordFindings, RecordState};
pub use spf::{AllQualifier, MAX_DNS_LOOKUPS, SpfRecord};
pub use tls_rpt::TlsRptRecord;

use crate::dns::DnsLookup;

/// What to check.
#[derive(Debug, Clone, Copy)]
pub struct DomainCheckInput<'a> {
    /// The sending domain, e.g. `clinic.example` (case and a trailing dot do not matter).
    pub domain: &'a str,
    /// The DKIM selectors to look up.
    pub dkim_selectors: &'a [String],
    /// The public keys carepost signs with, as (selector, base64 `p=` value). A selector
    /// listed here is checked even when `dkim_selectors` omits it; the first key given
    /// for a selector counts.
    pub expected_dkim_public_keys: &'a [(String, String)],
}

/// The report for one sending domain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DomainCheckReport {
    /// The domain checked, lower case without a trailing dot (as given when invalid).
    pub domain: String,
    /// Why the domain is not a valid DNS name; nothing was looked up then.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub invalid_domain: Option<String>,
    /// The SPF record at the domain.
    pub spf: RecordFindings<SpfRecord>,
    /// One entry per DKIM selector, in the order given.
    pub dkim: Vec<DkimFindings>,
    /// The DMARC record at `_dmarc.<domain>`.
    pub dmarc: RecordFindings<DmarcRecord>,
    /// The MTA-STS record at `_mta-sts.<domain>`.
    pub mta_sts: RecordFindings<MtaStsRecord>,
    /// The TLS-RPT record at `_smtp._tls.<domain>`.
    pub tls_rpt: RecordFindings<TlsRptRecord>,
}

/// Looks up and judges every record of `input.domain`. Never fails: DNS failures and a
/// domain that is not a valid name are part of the report.
pub async fn check_domain(dns: &dyn DnsLookup, input: &DomainCheckInput<'_>) -> DomainCheckReport {
    let domain = match name::domain(input.domain) {
        Ok(domain) => domain,
        Err(reason) => return DomainCheckReport::not_checked(input.domain.trim(), reason),
    };

    let selectors = selectors(input);
    let (spf, dkim, dmarc, mta_sts, tls_rpt) = tokio::join!(
        record::look_up(dns, domain.clone()),
        dkim::check_all(dns, &domain, &selectors),
        record::look_up(dns, format!("_dmarc.{domain}")),
        mta_sts::check(dns, &domain),
        record::look_up(dns, format!("_smtp._tls.{domain}")),
    );
    DomainCheckReport {
        domain,
        invalid_domain: None,
        spf,
        dkim,
        dmarc,
        mta_sts,
        tls_rpt,
    }
}

impl DomainCheckReport {
    fn not_checked(domain: &str, reason: String) -> DomainCheckReport {
        DomainCheckReport {
            domain: domain.to_owned(),
            spf: RecordFindings::not_checked(domain.to_owned(), reason.clone()),
            dkim: Vec::new(),
            dmarc: RecordFindings::not_checked(format!("_dmarc.{domain}"), reason.clone()),
            mta_sts: RecordFindings::not_checked(format!("_mta-sts.{domain}"), reason.clone()),
            tls_rpt: RecordFindings::not_checked(format!("_smtp._tls.{domain}"), reason.clone()),
            invalid_domain: Some(reason),
        }
    }
}

/// Every selector named in either list, once, with the key expected for it.
fn selectors<'a>(input: &DomainCheckInput<'a>) -> Vec<(String, Option<&'a str>)> {
    let expected = input.expected_dkim_public_keys;
    let named = input
        .dkim_selectors
        .iter()
        .chain(expected.iter().map(|(selector, _)| selector));

    let mut selectors: Vec<(String, Option<&'a str>)> = Vec::new();
    for selector in named {
        let selector = selector.trim().to_ascii_lowercase();
        if selectors.iter().any(|(seen, _)| *seen == selector) {
            continue;
        }
        let key = expected
            .iter()
            .find(|(named, _)| named.trim().eq_ignore_ascii_case(&selector))
            .map(|(_, key)| key.as_str());
        selectors.push((selector, key));
    }
    selectors
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_check_is_a_send_future_so_it_can_run_on_any_runtime_thread() {
        fn send<T: Send>(_future: T) {}
        let dns = crate::dns::StaticDns::new();
        let input = DomainCheckInput {
            domain: "clinic.example",
            dkim_selectors: &[],
            expected_dkim_public_keys: &[],
        };
        send(check_domain(&dns, &input));
    }

    #[test]
    fn selectors_from_both_lists_are_checked_once_with_their_expected_key() {
        let named = vec!["cp2026".to_owned(), "Old".to_owned(), "cp2026".to_owned()];
        let expected = vec![
            ("CP2026".to_owned(), "KEY1".to_owned()),
            ("ed".to_owned(), "KEY2".to_owned()),
        ];
        let input = DomainCheckInput {
            domain: "clinic.example",
            dkim_selectors: &named,
            expected_dkim_public_keys: &expected,
        };
        assert_eq!(
            selectors(&input),
            vec![
                ("cp2026".to_owned(), Some("KEY1")),
                ("old".to_owned(), None),
                ("ed".to_owned(), Some("KEY2")),
            ]
        );
    }
}
