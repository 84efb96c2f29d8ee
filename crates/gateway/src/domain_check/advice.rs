//! What a domain owner has to publish or fix, and whether anything required is left.

use super::record::{RecordFindings, RecordState};
use super::render::printable;
use super::spf::MAX_DNS_LOOKUPS;
use super::{AllQualifier, DkimFindings, DmarcPolicy, DomainCheckReport};

/// Recommended items in [`DomainCheckReport::missing`] start with this.
const RECOMMENDED: &str = "recommended: ";

impl DomainCheckReport {
    /// What to publish or fix, one sentence each: the required items first, then the
    /// recommendations, which start with "recommended: ". Empty when nothing is left.
    /// Control characters copied from DNS records are escaped.
    pub fn missing(&self) -> Vec<String> {
        let mut advice = self.advice();
        advice.sort_by_key(|item| !item.required);
        advice
            .into_iter()
            .map(|item| {
                let text = printable(&item.text);
                if item.required {
                    text
                } else {
                    format!("{RECOMMENDED}{text}")
                }
            })
            .collect()
    }

    /// Whether receivers can authenticate mail from the domain: one SPF record that does
    /// not pass everyone (`+all`) and stays within 10 DNS lookups; a published, unrevoked
    /// DKIM key for every selector asked (at least one), the expected key where one was
    /// given; and a DMARC record with `p=quarantine` or `p=reject`. When false,
    /// [`DomainCheckReport::missing`] says why. MTA-STS and TLS-RPT do not count.
    pub fn is_complete(&self) -> bool {
        self.advice().iter().all(|item| !item.required)
    }

    fn advice(&self) -> Vec<Advice> {
        if let Some(reason) = &self.invalid_domain {
            return vec![Advice::required(format!(
                "give a valid domain name: {reason}"
            ))];
        }
        let mut advice = Vec::new();
        spf(&self.domain, &self.spf, &mut advice);
        if self.dkim.is_empty() {
            advice.push(Advice::required(
                "name the DKIM selectors carepost signs with: DKIM keys cannot be found in \
                 DNS without their selector"
                    .into(),
            ));
        }
        for selector in &self.dkim {
            dkim(selector, &mut advice);
        }
        dmarc(&self.domain, &self.dmarc, &mut advice);
        mta_sts(&self.domain, &self.mta_sts, &mut advice);
        tls_rpt(&self.domain, &self.tls_rpt, &mut advice);
        advice
    }
}

struct Advice {
    required: bool,
    text: String,
}

impl Advice {
    fn required(text: String) -> Advice {
        Advice {
            required: true,
            text,
        }
    }

    fn recommended(text: String) -> Advice {
        Advice {
            required: false,
            text,
        }
    }
}

fn spf(domain: &str, findings: &RecordFindings<super::SpfRecord>, advice: &mut Vec<Advice>) {
    let text = match (&findings.state, &findings.parsed) {
        (RecordState::Missing, _) => format!(
            "publish an SPF record at {domain} listing the servers that send as {domain}, \
             for example \"v=spf1 ip4:<carepost server address> -all\""
        ),
        (RecordState::Multiple, _) => format!(
            "merge the {} SPF records at {domain} into one: receivers treat several as a \
             permanent error (RFC 7208 §4.5)",
            findings.records.len()
        ),
        (RecordState::Valid, Some(record)) if record.all == Some(AllQualifier::Pass) => {
            format!(
                "replace +all in the SPF record at {domain} with -all or ~all: +all lets \
                 every server on the internet send as {domain}"
            )
        }
        (RecordState::Valid, Some(record)) if record.dns_lookups > MAX_DNS_LOOKUPS => format!(
            "bring the SPF record at {domain} down to {MAX_DNS_LOOKUPS} DNS lookups (it has \
             {}): receivers return a permanent error beyond that (RFC 7208 §4.6.4)",
            record.dns_lookups
        ),
        (state, _) => match unusable("SPF record", &findings.name, state) {
            Some(text) => text,
            None => return,
        },
    };
    advice.push(Advice::required(text));
}

fn dkim(findings: &DkimFindings, advice: &mut Vec<Advice>) {
    let selector = &findings.selector;
    let name = &findings.record.name;
    let text = match &findings.record.state {
        RecordState::Missing => format!(
            "publish the DKIM key of selector {selector} as a TXT record at {name} \
             (`carepost dkim generate` prints the record)"
        ),
        RecordState::Revoked => format!(
            "the DKIM key of selector {selector} at {name} is revoked (empty p=): publish \
             the key carepost signs with, or sign with another selector"
        ),
        RecordState::Multiple => format!(
            "publish a single DKIM key at {name}: with {} records, which key receivers use \
             is undefined (RFC 6376 §3.6.2.2)",
            findings.record.records.len()
        ),
        RecordState::Valid if findings.matches_expected == Some(false) => format!(
            "publish the key carepost signs with for selector {selector} at {name}: the \
             published p= is a different key, so signatures will not verify"
        ),
        state => match unusable("DKIM record", name, state) {
            Some(text) => text,
            None => return,
        },
    };
    advice.push(Advice::required(text));
}

fn dmarc(domain: &str, findings: &RecordFindings<super::DmarcRecord>, advice: &mut Vec<Advice>) {
    let name = &findings.name;
    let text = match (&findings.state, &findings.parsed) {
        (RecordState::Missing, _) => format!(
            "publish a DMARC record at {name}, for example \
             \"v=DMARC1; p=quarantine; rua=mailto:dmarc@{domain}\""
        ),
        (RecordState::Multiple, _) => format!(
            "keep one DMARC record at {name}: with {}, receivers apply none \
             (RFC 7489 §6.6.3)",
            findings.records.len()
        ),
        (RecordState::Valid, Some(record)) => {
            if record.aggregate_report_uris.is_empty() {
                advice.push(Advice::recommended(format!(
                    "add rua=mailto:dmarc@{domain} to the DMARC record at {name} to receive \
                     aggregate reports"
                )));
            }
            if record.policy != DmarcPolicy::None {
                return;
            }
            format!(
                "raise the DMARC policy at {name} from p=none to p=quarantine or p=reject: \
                 p=none only monitors"
            )
        }
        (state, _) => match unusable("DMARC record", name, state) {
            Some(text) => text,
            None => return,
        },
    };
    advice.push(Advice::required(text));
}

fn mta_sts<T>(domain: &str, findings: &RecordFindings<T>, advice: &mut Vec<Advice>) {
    let text = match &findings.state {
        RecordState::Missing => format!(
            "publish an MTA-STS record at {}, for example \"v=STSv1; id=20260101\", and its \
             policy at https://mta-sts.{domain}/.well-known/mta-sts.txt, so that mail to \
             {domain} must use verified TLS (RFC 8461)",
            findings.name
        ),
        state => match unusable("MTA-STS record", &findings.name, state) {
            Some(text) => text,
            None => return,
        },
    };
    advice.push(Advice::recommended(text));
}

fn tls_rpt<T>(domain: &str, findings: &RecordFindings<T>, advice: &mut Vec<Advice>) {
    let text = match &findings.state {
        RecordState::Missing => format!(
            "publish a TLS-RPT record at {}, for example \
             \"v=TLSRPTv1; rua=mailto:tls-reports@{domain}\", to hear about failed TLS \
             connections to {domain} (RFC 8460)",
            findings.name
        ),
        state => match unusable("TLS-RPT record", &findings.name, state) {
            Some(text) => text,
            None => return,
        },
    };
    advice.push(Advice::recommended(text));
}

/// The sentence for a state that means the same for every record type; `None` for the
/// states that need no action or that each type words itself.
fn unusable(what: &str, name: &str, state: &RecordState) -> Option<String> {
    match state {
        RecordState::Invalid { reason } => Some(format!("fix the {what} at {name}: {reason}")),
        RecordState::Multiple => Some(format!(
            "keep one {what} at {name}: with several, receivers use none"
        )),
        RecordState::LookupFailed { error } => Some(format!(
            "check the {what} at {name} again: the lookup failed ({error})"
        )),
        RecordState::NotChecked { reason } => Some(format!("{what} not checked: {reason}")),
        RecordState::Revoked => Some(format!("the {what} at {name} is revoked")),
        RecordState::Valid | RecordState::Missing => None,
    }
}
