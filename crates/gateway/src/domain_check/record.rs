//! One TXT record set looked up and interpreted: the shape shared by every mechanism.

use serde::{Deserialize, Serialize};

use crate::dns::{DnsError, DnsLookup, DnssecStatus, TxtAnswer};

/// What was found at one DNS name for one mechanism (SPF, a DKIM selector, DMARC, ...).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(bound(deserialize = "T: Deserialize<'de>"))]
pub struct RecordFindings<T> {
    /// The name queried, e.g. `_dmarc.clinic.example`.
    pub name: String,
    /// Whether the record is usable, and if not why (in JSON: `"state"`, plus `"reason"`
    /// or `"error"` where the state has one).
    #[serde(flatten)]
    pub state: RecordState,
    /// DNSSEC status of the TXT answer; `None` when nothing was looked up or the lookup
    /// failed before an answer came back.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub dnssec: Option<DnssecStatus>,
    /// The TXT records at `name` that belong to this mechanism, as published (non-UTF-8
    /// bytes replaced). Several only when the state is [`RecordState::Multiple`].
    pub records: Vec<String>,
    /// The parsed record, when exactly one was published and it parses.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub parsed: Option<T>,
    /// Weaknesses of a usable record, as sentences.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub warnings: Vec<String>,
}

/// Whether a record is usable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum RecordState {
    /// Exactly one record is published and it parses (it may still have warnings).
    Valid,
    /// No record is published.
    Missing,
    /// Several records are published; receivers then use none of them.
    Multiple,
    /// The one record published cannot be used.
    Invalid {
        /// What is wrong with it.
        reason: String,
    },
    /// DKIM only: the key was withdrawn on purpose (`p=` empty, RFC 6376 §3.6.1).
    Revoked,
    /// The lookup failed (timeout, SERVFAIL, DNSSEC bogus): the record's state is unknown.
    LookupFailed {
        /// What the resolver reported.
        error: String,
    },
    /// Nothing was looked up because the name to query is not a valid DNS name.
    NotChecked {
        /// Why the name is not valid.
        reason: String,
    },
}

/// A record type that is picked out of the TXT records at a name and parsed.
pub(super) trait TxtRecord: Sized {
    /// Whether a TXT record at the queried name is meant as one of these records; the
    /// others (e.g. a site verification token next to SPF) are ignored.
    fn is_candidate(record: &[u8]) -> bool;

    /// Parses the single candidate, or says why it is unusable.
    fn parse(text: &str) -> Result<Self, String>;

    /// What a sender should know about a record that parsed.
    fn warnings(&self) -> Vec<String> {
        Vec::new()
    }

    /// The state of a record that parsed: valid unless the type says otherwise.
    fn state(&self) -> RecordState {
        RecordState::Valid
    }
}

impl<T> RecordFindings<T> {
    /// Findings for a name that was not queried.
    pub(super) fn not_checked(name: String, reason: String) -> RecordFindings<T> {
        RecordFindings::with_state(name, RecordState::NotChecked { reason }, None)
    }

    pub(super) fn failed(name: String, failure: LookupFailure) -> RecordFindings<T> {
        let state = RecordState::LookupFailed {
            error: failure.error,
        };
        RecordFindings::with_state(name, state, failure.dnssec)
    }

    pub(super) fn with_state(
        name: String,
        state: RecordState,
        dnssec: Option<DnssecStatus>,
    ) -> RecordFindings<T> {
        RecordFindings {
            name,
            state,
            dnssec,
            records: Vec::new(),
            parsed: None,
            warnings: Vec::new(),
        }
    }

    /// Whether exactly one usable record is published.
    pub fn is_valid(&self) -> bool {
        self.state == RecordState::Valid
    }
}

/// Looks up the TXT records at `name` and interprets the one meant for `T`.
pub(super) async fn look_up<T: TxtRecord>(dns: &dyn DnsLookup, name: String) -> RecordFindings<T> {
    match fetch(dns, &name).await {
        Ok(answer) => from_answer(name, &answer),
        Err(failure) => RecordFindings::failed(name, failure),
    }
}

fn from_answer<T: TxtRecord>(name: String, answer: &TxtAnswer) -> RecordFindings<T> {
    let candidates: Vec<&Vec<u8>> = answer
        .records
        .iter()
        .filter(|record| T::is_candidate(record))
        .collect();
    let mut findings = RecordFindings::with_state(name, RecordState::Missing, Some(answer.dnssec));
    findings.records = candidates.iter().map(|r| lossy(r)).collect();

    match candidates.as_slice() {
        [] => {}
        [record] => interpret(&mut findings, record),
        _ => findings.state = RecordState::Multiple,
    }
    findings
}

fn interpret<T: TxtRecord>(findings: &mut RecordFindings<T>, record: &[u8]) {
    let parsed = std::str::from_utf8(record)
        .map_err(|_| "the record is not valid UTF-8 text".to_owned())
        .and_then(T::parse);
    match parsed {
        Ok(parsed) => {
            findings.state = parsed.state();
            findings.warnings = parsed.warnings();
            findings.parsed = Some(parsed);
        }
        Err(reason) => findings.state = RecordState::Invalid { reason },
    }
}

/// Why a TXT lookup produced no usable answer.
pub(super) struct LookupFailure {
    pub(super) error: String,
    pub(super) dnssec: Option<DnssecStatus>,
}

/// The TXT records at `name`. A name that does not exist simply has no records; a bogus
/// answer is a failure, because validating receivers will not see it either.
pub(super) async fn fetch(dns: &dyn DnsLookup, name: &str) -> Result<TxtAnswer, LookupFailure> {
    match dns.txt(name).await {
        Ok(answer) if answer.dnssec == DnssecStatus::Bogus => Err(LookupFailure {
            error: DnsError::Bogus { name: name.into() }.to_string(),
            dnssec: Some(DnssecStatus::Bogus),
        }),
        Ok(answer) => Ok(answer),
        Err(DnsError::NoSuchDomain { .. }) => Ok(TxtAnswer {
            records: Vec::new(),
            dnssec: DnssecStatus::Indeterminate,
        }),
        Err(error) => Err(LookupFailure {
            error: error.to_string(),
            dnssec: matches!(error, DnsError::Bogus { .. }).then_some(DnssecStatus::Bogus),
        }),
    }
}

pub(super) fn lossy(record: &[u8]) -> String {
    String::from_utf8_lossy(record).into_owned()
}
