//! The scanner: the one-pass candidate search, the word pass and the assembly of findings.

use std::sync::LazyLock;

use regex_automata::meta::Regex;
use regex_automata::util::syntax;
use regex_automata::{Anchored, Input};

pub use crate::config::{
    OrgContacts, OrgIdentifier, OrgIdentifierType, ScannerConfig, default_identifiers,
};
use crate::detect::context::WordList;
use crate::detect::shapes::Shape;
use crate::detect::{self, Hay, Raw, Verdict};
use crate::error::PolicyError;
use crate::lexicon::{LexKind, scan_words};
use crate::names::PatientNameIndex;
use crate::table;
use crate::text::CharCounter;
use crate::types::{Finding, PhiType, Span};

/// Labels of numbers that are not organization identifiers.
#[rustfmt::skip]
static OTHER_LABELS: LazyLock<WordList> = LazyLock::new(|| {
    WordList::new(&[
        "claim", "order", "invoice", "tracking", "reference", "ref", "confirmation", "rx",
        "npi", "dea", "phone", "fax", "account", "transaction", "receipt", "ticket", "lot",
        "serial", "sku", "po", "case",
    ])
});

struct CompiledIdentifier {
    kind: PhiType,
    exact: Regex,
    context: Option<WordList>,
}

/// Counts of care vocabulary about a person ("your", "his", "her" before it). Counts only.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CareSignals {
    /// Care, payment or coverage words about someone ("your visit", "his copay").
    pub care_terms: u32,
    /// Drug or diagnosis terms about someone ("your metformin", "her asthma").
    pub personal_clinical: u32,
    /// Record words about someone ("your results", "your prescription").
    pub personal_records: u32,
    /// Account numbers ("account number 88213377"): identifiers without an API type.
    pub account_numbers: u32,
}

impl CareSignals {
    /// Adds the counts of another part of the same message.
    pub fn add(&mut self, other: &CareSignals) {
        self.care_terms += other.care_terms;
        self.personal_clinical += other.personal_clinical;
        self.personal_records += other.personal_records;
        self.account_numbers += other.account_numbers;
    }

    /// Whether any care vocabulary about someone was seen.
    pub fn any(&self) -> bool {
        self.care_terms + self.personal_clinical + self.personal_records > 0
    }
}

/// What a scan found: findings plus the non-reportable evidence the message-level
/// decision uses. Holds offsets and counts only.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ScanResult {
    /// Findings, ordered by position, not overlapping.
    pub findings: Vec<Finding>,
    /// Care vocabulary about a person, which the message-level decision weighs.
    pub signals: CareSignals,
    /// Contact details recognized as the organization's own and therefore dropped.
    pub org_contacts: u32,
    /// Byte length of the scanned text.
    pub scanned_bytes: usize,
}

/// The PHI scanner. Build it once (it compiles the detector set) and share it; scanning
/// takes `&self`.
pub struct Scanner {
    regex: Regex,
    identifiers: Vec<CompiledIdentifier>,
    config: ScannerConfig,
}

impl std::fmt::Debug for Scanner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scanner")
            .field("identifiers", &self.identifiers.len())
            .finish()
    }
}

/// Byte-oriented matching: the scanner checks character boundaries itself, so empty
/// matches need no UTF-8 handling (which, with byte patterns, the engines refuse).
fn meta_config() -> regex_automata::meta::Config {
    Regex::config().utf8_empty(false)
}

fn syntax_config() -> syntax::Config {
    syntax::Config::new().unicode(false).utf8(false)
}

impl Scanner {
    /// Builds a scanner. Refuses identifier patterns that do not compile.
    pub fn new(config: ScannerConfig) -> Result<Self, PolicyError> {
        let mut patterns: Vec<String> = Shape::ALL.iter().map(|s| s.pattern()).collect();
        let mut identifiers = Vec::new();
        for (index, id) in config.identifiers.iter().enumerate() {
            let exact = Regex::builder()
                .configure(meta_config())
                .syntax(syntax_config())
                .build(&format!("^(?:{})$", id.pattern))
                .map_err(|e| PolicyError::InvalidPattern {
                    index,
                    reason: e.to_string(),
                })?;
            patterns.push(id.pattern.clone());
            let context = (!id.context.is_empty()).then(|| WordList::new(&id.context));
            identifiers.push(CompiledIdentifier {
                kind: id.kind.phi_type(),
                exact,
                context,
            });
        }
        let regex = Regex::builder()
            .configure(meta_config())
            .syntax(syntax_config())
            .build_many(&patterns)
            .map_err(|e| PolicyError::Build(e.to_string()))?;
        Ok(Scanner {
            regex,
            identifiers,
            config,
        })
    }

    /// A scanner with [`ScannerConfig::default`].
    pub fn with_defaults() -> Result<Self, PolicyError> {
        Self::new(ScannerConfig::default())
    }

    /// The configuration the scanner was built from.
    pub fn config(&self) -> &ScannerConfig {
        &self.config
    }

    /// Scans `text` for PHI, using `names` for the organization's patients.
    pub fn scan(&self, text: &str, names: &PatientNameIndex) -> ScanResult {
        let bytes = text.as_bytes();
        let mut raw: Vec<Raw> = Vec::new();
        let mut result = ScanResult {
            scanned_bytes: bytes.len(),
            ..ScanResult::default()
        };

        self.scan_shapes(bytes, &mut raw, &mut result);
        scan_words(bytes, names.lexicon(), |hit| {
            // Care words and clinical terms about someone ("your refill", "his asthma").
            let personal = hit.kind != LexKind::Patient && about_someone(bytes, hit.start);
            let signals = &mut result.signals;
            let (phi_type, confidence) = match hit.kind {
                LexKind::Drug => (PhiType::Drug, 0.8),
                LexKind::Diagnosis => (PhiType::Diagnosis, 0.75),
                LexKind::Patient => (PhiType::Person, 0.95),
                LexKind::CareContext => {
                    signals.care_terms += u32::from(personal);
                    return;
                }
                LexKind::Record => {
                    signals.personal_records += u32::from(personal);
                    return;
                }
            };
            signals.personal_clinical += u32::from(personal);
            raw.push(Raw {
                phi_type,
                start: hit.start,
                end: hit.end,
                confidence,
            });
        });

        result.findings = finish(text, raw);
        result
    }

    /// Scans `text` without a patient name index.
    pub fn scan_text(&self, text: &str) -> ScanResult {
        self.scan(text, &PatientNameIndex::empty())
    }

    fn scan_shapes(&self, bytes: &[u8], raw: &mut Vec<Raw>, result: &mut ScanResult) {
        let org = &self.config.org_contacts;
        // End of the last street address recognized as the organization's: the city,
        // state and ZIP that follow it belong to the organization too.
        let mut org_address_end: Option<usize> = None;
        let mut columns = table::Columns::default();
        for m in self.regex.find_iter(Input::new(bytes)) {
            let (start, end) = (m.start(), m.end());
            // Built-in shapes are ASCII; a configured pattern may match nothing or stop
            // inside a character, and such a match is no finding.
            if start == end || !on_char_boundary(bytes, start) || !on_char_boundary(bytes, end) {
                continue;
            }
            let shape = Shape::ALL.get(m.pattern().as_usize()).copied();
            let plain = Hay { bytes, label: None };
            let mut verdict = match shape {
                Some(Shape::Salutation) if !self.config.greeting_names => Verdict::Nothing,
                Some(shape) => detect::classify(shape, &plain, start, end, org),
                None => Verdict::Nothing,
            };
            // In a table, the column header is the context of an unclaimed value.
            let label = (verdict == Verdict::Nothing)
                .then(|| columns.label(bytes, start))
                .flatten()
                .and_then(|(s, e)| bytes.get(s..e));
            let hay = Hay { bytes, label };
            if let (Some(shape), Some(_)) = (shape, label) {
                verdict = detect::classify(shape, &hay, start, end, org);
            }
            let is_street = matches!(shape, Some(Shape::Address | Shape::PoBox));
            if is_street && verdict == Verdict::OrgContact {
                org_address_end = Some(end);
            } else if matches!(shape, Some(Shape::StateZip | Shape::Zip4))
                && org_address_end.is_some_and(|e| start.saturating_sub(e) <= 40)
            {
                verdict = Verdict::OrgContact;
            }
            match verdict {
                Verdict::Found(found) => raw.push(found),
                Verdict::OrgContact => result.org_contacts += 1,
                Verdict::Nothing => {
                    if let Some(found) = self.org_identifier(&hay, start, end) {
                        raw.push(found);
                    } else if is_account_number(&hay, start, end) {
                        result.signals.account_numbers += 1;
                    }
                }
            }
        }
    }

    /// Tries the organization's identifier patterns on a candidate no detector claimed.
    fn org_identifier(&self, hay: &Hay<'_>, start: usize, end: usize) -> Option<Raw> {
        let span = hay.get(start..end)?;
        let window = hay.before(start, 40);
        // A nearer label for something else ("Claim number:") overrides a farther one.
        let other_label = window.last_word_end(&OTHER_LABELS);
        self.identifiers.iter().find_map(|id| {
            let input = Input::new(span).anchored(Anchored::Yes);
            if !id.exact.is_match(input) {
                return None;
            }
            let has_context = id.context.as_ref().is_none_or(|words| {
                let label = window.last_word_end(words);
                label.is_some_and(|l| other_label.is_none_or(|o| l >= o))
            });
            let confidence = if id.context.is_none() { 0.8 } else { 0.92 };
            has_context.then_some(Raw {
                phi_type: id.kind,
                start,
                end,
                confidence,
            })
        })
    }
}

/// Whether `at` starts a character of the UTF-8 `bytes` (or is their end).
fn on_char_boundary(bytes: &[u8], at: usize) -> bool {
    bytes.get(at).is_none_or(|b| (b & 0xC0) != 0x80) && at <= bytes.len()
}

/// Words that label an account number.
#[rustfmt::skip]
static ACCOUNT_WORDS: LazyLock<WordList> = LazyLock::new(|| {
    WordList::new(&["account", "acct", "account number", "account #", "acct #", "patient account"])
});

/// Whether the candidate is a number of 6 to 16 digits labeled as an account number (a
/// Safe Harbor identifier with no API type of its own: it counts for the decision only).
fn is_account_number(hay: &Hay<'_>, start: usize, end: usize) -> bool {
    let digits = hay.get(start..end).unwrap_or_default();
    (6..=16).contains(&digits.len())
        && digits.iter().all(u8::is_ascii_digit)
        && hay.before(start, 24).has_word(&ACCOUNT_WORDS)
}

/// Words that make the term after them about a person ("your refill", "her asthma").
const PERSONAL_WORDS: [&[u8]; 9] = [
    b"your",
    b"you",
    b"his",
    b"her",
    b"their",
    b"patient's",
    b"pt's",
    b"you're",
    b"you've",
];

/// Whether one of the three words before `start` is a [`PERSONAL_WORDS`] word.
fn about_someone(bytes: &[u8], start: usize) -> bool {
    let mut end = start;
    for _ in 0..3 {
        let before = bytes.get(..end).unwrap_or_default();
        let word_end = before
            .iter()
            .rposition(|b| b.is_ascii_alphanumeric() || *b == b'\'');
        let Some(word_end) = word_end.map(|i| i + 1) else {
            return false;
        };
        let gap = before.get(word_end..).unwrap_or_default();
        if gap.len() > 3 || gap.iter().any(|b| matches!(b, b'.' | b'!' | b'?' | b'\n')) {
            return false;
        }
        let word_start = before
            .get(..word_end)
            .unwrap_or_default()
            .iter()
            .rposition(|b| !(b.is_ascii_alphanumeric() || *b == b'\''))
            .map_or(0, |i| i + 1);
        let word = before.get(word_start..word_end).unwrap_or_default();
        if word.len() > 9 {
            return false;
        }
        if PERSONAL_WORDS.iter().any(|p| p.eq_ignore_ascii_case(word)) {
            return true;
        }
        end = word_start;
    }
    false
}

/// Sorts findings, resolves overlaps (the longer, then the more confident, wins) and
/// computes code-point offsets.
fn finish(text: &str, mut raw: Vec<Raw>) -> Vec<Finding> {
    raw.sort_by(|a, b| a.start.cmp(&b.start).then(b.end.cmp(&a.end)));
    let mut kept: Vec<Raw> = Vec::with_capacity(raw.len());
    for candidate in raw {
        match kept.last_mut() {
            Some(last) if candidate.start < last.end => {
                let longer = candidate.end - candidate.start > last.end - last.start;
                let person_index =
                    candidate.phi_type == PhiType::Person && candidate.confidence > last.confidence;
                if longer || person_index {
                    *last = candidate;
                }
            }
            _ => kept.push(candidate),
        }
    }
    let mut counter = CharCounter::new(text);
    kept.into_iter()
        .map(|r| Finding {
            phi_type: r.phi_type,
            bytes: Span::new(r.start, r.end),
            chars: Span::new(counter.chars_at(r.start), counter.chars_at(r.end)),
            confidence: r.confidence,
        })
        .collect()
}
