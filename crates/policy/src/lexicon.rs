//! Word lists shipped with the crate and the one-pass word matcher over them.
//!
//! The lists live in `crates/policy/data/` (see `SOURCES.md` there) and are compiled into
//! the binary with `include_str!`; they are parsed once, on first use.
//!
//! Matching hashes each word of the text as it is read and consults a bit table before
//! any hash-map lookup, so text that holds no listed word costs one pass over its bytes,
//! however long the lists are. Multi-word terms are keyed by their first word and
//! confirmed word by word. The patient name index is built on a copy of the shipped lists,
//! so one pass with one table probe per word serves both (`scan_words`).

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

const ICD10CM: &str = include_str!("../data/icd10cm.txt");
const DRUGS: &str = include_str!("../data/drugs.txt");
const DIAGNOSES: &str = include_str!("../data/diagnosis.txt");

/// Words and phrases that show a message is about someone's care, payment or coverage.
/// They are evidence for the message-level decision, not findings of their own.
#[rustfmt::skip]
const CARE_CONTEXT: &[&str] = &[
    "diagnosed", "treatment", "admitted", "admission", "discharged", "discharge",
    "deductible", "explanation of benefits", "insurance", "coverage", "policy", "visit",
    "procedure", "surgery", "follow-up", "follow up", "screening", "vaccine", "vaccination",
    "immunization", "pathology", "radiology", "imaging", "scan", "therapy", "counseling",
    "symptoms", "chart", "clinical", "consult", "consultation", "exam", "examination",
    "physical", "patient", "pharmacy", "dose", "dosage", "mg", "mcg", "glucose",
    "blood pressure", "blood work", "bloodwork", "specimen", "hemoglobin", "creatinine", "ldl",
    "hdl", "triglycerides", "tsh", "injection", "infusion", "allergy", "allergies", "billing",
    "payment", "paid", "charges", "services rendered", "date of service", "encounter",
    "provider", "physician", "clinic", "hospital", "emergency", "er visit", "urgent care",
    "telehealth", "check-up", "checkup", "medicare", "medicaid", "premium", "medication",
    "medications", "treatment plan", "care plan",
];

/// Words naming someone's own records. After "your" or "her" they show that the message
/// reports on that person ("your results", "her refill").
#[rustfmt::skip]
const RECORD_WORDS: &[&str] = &[
    "appointment", "appt", "lab result", "lab results", "test result", "test results",
    "results", "result", "prescription", "prescriptions", "refill", "refills", "diagnosis",
    "claim", "claims", "copay", "co-pay", "copayment", "prior authorization", "balance",
    "balance due", "amount due", "outstanding balance", "past due", "statement", "invoice",
    "bill", "referral", "labs", "scan results",
];

/// What a lexicon entry is evidence of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LexKind {
    /// A drug name ([`crate::PhiType::Drug`]).
    Drug,
    /// A diagnosis, procedure or test term ([`crate::PhiType::Diagnosis`]).
    Diagnosis,
    /// Care, payment or coverage vocabulary (no finding of its own).
    CareContext,
    /// Words naming someone's records: results, prescriptions, appointments, claims, bills
    /// (no finding of its own).
    Record,
    /// A name from the patient name index ([`crate::PhiType::Person`]).
    Patient,
}

/// A lexicon hit: which entry kind and the byte range it covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LexHit {
    pub kind: LexKind,
    pub start: usize,
    pub end: usize,
}

#[derive(Clone)]
struct Entry {
    first: Box<[u8]>,
    rest: Vec<Box<[u8]>>,
    kind: LexKind,
}

const BLOOM_BITS: usize = 1 << 17;

/// Keys are already well-mixed 64-bit word hashes: hashing them again is wasted work.
#[derive(Clone, Copy, Default)]
struct PreHashed;

impl std::hash::BuildHasher for PreHashed {
    type Hasher = PreHashedState;

    fn build_hasher(&self) -> PreHashedState {
        PreHashedState(0)
    }
}

/// The state of [`PreHashed`]: the last `u64` written.
struct PreHashedState(u64);

impl std::hash::Hasher for PreHashedState {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        self.0 = word_hash(bytes);
    }

    fn write_u64(&mut self, value: u64) {
        self.0 = value;
    }
}

/// A set of words and phrases matched on word boundaries, ASCII case-insensitively.
///
/// One-word entries are keyed by the hash of their word; longer ones by the hash of their
/// first two words, so that thousands of names sharing a first name ("Maria …") cost one
/// lookup, not a walk through all of them.
#[derive(Clone)]
pub(crate) struct WordLexicon {
    bloom: Vec<u64>,
    single: HashMap<u64, Vec<Entry>, PreHashed>,
    multi: HashMap<u64, Vec<Entry>, PreHashed>,
}

impl WordLexicon {
    pub(crate) fn new() -> Self {
        WordLexicon {
            bloom: vec![0; BLOOM_BITS / 64],
            single: HashMap::default(),
            multi: HashMap::default(),
        }
    }

    /// Adds a phrase; its words are split on white space, with trailing `.` and `,` removed
    /// (text may put either between words).
    pub(crate) fn insert(&mut self, phrase: &str, kind: LexKind) {
        let mut words = phrase
            .split_whitespace()
            .map(|w| {
                w.trim_end_matches(['.', ','])
                    .to_ascii_lowercase()
                    .into_bytes()
            })
            .filter(|w| !w.is_empty());
        let Some(first) = words.next() else { return };
        let rest: Vec<Box<[u8]>> = words.map(Vec::into_boxed_slice).collect();
        let first_hash = word_hash(&first);
        let bucket = match rest.first() {
            None => {
                self.set_bloom(first_hash);
                self.single.entry(first_hash).or_default()
            }
            Some(second) => {
                self.set_bloom(first_hash);
                let key = pair_hash(first_hash, word_hash(second));
                self.multi.entry(key).or_default()
            }
        };
        if !bucket.iter().any(|e| *e.first == *first && e.rest == rest) {
            bucket.push(Entry {
                first: first.into_boxed_slice(),
                rest,
                kind,
            });
            // Longest phrases first, so the first confirmed entry is the longest match.
            bucket.sort_by_key(|e| std::cmp::Reverse(e.rest.len()));
        }
    }

    fn set_bloom(&mut self, hash: u64) {
        let bit = bloom_bit(hash);
        if let Some(slot) = self.bloom.get_mut(bit / 64) {
            *slot |= 1 << (bit % 64);
        }
    }

    #[inline]
    fn maybe_contains(&self, hash: u64) -> bool {
        let bit = bloom_bit(hash);
        self.bloom
            .get(bit / 64)
            .is_some_and(|slot| slot & (1 << (bit % 64)) != 0)
    }

    /// The longest entry starting with the word `start..end` (hash `hash`), if any: its
    /// kind and where it ends. `next` is the word after it, when one follows closely.
    fn longest_at(
        &self,
        text: &[u8],
        word: (usize, usize, u64),
        next: Option<NextWord>,
    ) -> Option<(LexKind, usize)> {
        let (start, end, hash) = word;
        let token = text.get(start..end)?;
        let confirm = |entry: &Entry| {
            if !entry.first.eq_ignore_ascii_case(token) {
                return None;
            }
            match_rest(text, end, &entry.rest).map(|phrase_end| (entry.kind, phrase_end))
        };
        let longer = next.and_then(|next| {
            next.hashes().find_map(|second| {
                self.multi
                    .get(&pair_hash(hash, second))?
                    .iter()
                    .find_map(confirm)
            })
        });
        let single = || self.single.get(&hash)?.iter().find_map(confirm);
        longer.or_else(single)
    }

    /// Calls `on_hit` for every entry in `text` (see [`scan_words`]).
    pub(crate) fn scan(&self, text: &[u8], on_hit: impl FnMut(LexHit)) {
        scan_words(text, self, on_hit);
    }
}

/// The word after a word, for two-word keys: its hash and, for a possessive ("Lopez's"),
/// the hash without the "'s".
#[derive(Clone, Copy)]
struct NextWord {
    hash: u64,
    without_possessive: Option<u64>,
}

impl NextWord {
    fn hashes(self) -> impl Iterator<Item = u64> {
        std::iter::once(self.hash).chain(self.without_possessive)
    }
}

/// The word following `end` after a gap `match_rest` accepts, if any.
fn next_word_after(text: &[u8], end: usize) -> Option<NextWord> {
    let mut pos = end;
    if text.get(pos).is_some_and(|b| *b == b'.' || *b == b',') {
        pos += 1;
    }
    let spaces = text
        .get(pos..)?
        .iter()
        .take(4)
        .take_while(|b| matches!(b, b' ' | b'\t' | b'\n'))
        .count();
    if spaces == 0 || pos + spaces - end > 4 {
        return None;
    }
    let (start, word_end, hash) = next_word(text, pos + spaces)?;
    if start != pos + spaces {
        return None;
    }
    let word = text.get(start..word_end)?;
    let without_possessive = word
        .len()
        .checked_sub(2)
        .filter(|&cut| {
            word.get(cut..)
                .is_some_and(|t| t.eq_ignore_ascii_case(b"'s"))
        })
        .and_then(|cut| word.get(..cut))
        .map(word_hash);
    Some(NextWord {
        hash,
        without_possessive,
    })
}

fn pair_hash(first: u64, second: u64) -> u64 {
    (first.rotate_left(17) ^ second).wrapping_mul(HASH_MULTIPLIER)
}

/// Calls `on_hit` for every word or phrase of `lexicon` found in `text`, left to right,
/// without overlaps: the longest entry starting at a word wins.
pub(crate) fn scan_words(text: &[u8], lexicon: &WordLexicon, mut on_hit: impl FnMut(LexHit)) {
    let mut pos = 0;
    while let Some(word) = next_word(text, pos) {
        let (start, end, hash) = word;
        pos = end;
        if !lexicon.maybe_contains(hash) {
            continue;
        }
        let next = next_word_after(text, end);
        if let Some((kind, phrase_end)) = lexicon.longest_at(text, word, next) {
            on_hit(LexHit {
                kind,
                start,
                end: phrase_end,
            });
            pos = phrase_end;
        }
    }
}

/// Whether `b` can be part of a word: ASCII letters and digits, and every byte of a
/// multi-byte UTF-8 character (so "Zoë" is one word and never split mid-character).
fn is_word_byte(b: u8) -> bool {
    BYTE_CLASS[usize::from(b)] == 1
}

/// Byte classes for the word scanner: 1 for word bytes, 2 for `'` and `-`, 0 otherwise.
static BYTE_CLASS: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        let byte = b as u8;
        table[b] = if byte.is_ascii_alphanumeric() || byte >= 0x80 {
            1
        } else if byte == b'\'' || byte == b'-' {
            2
        } else {
            0
        };
        b += 1;
    }
    table
};

/// Finds the next word at or after `from`: word bytes joined by single inner apostrophes
/// or hyphens ("crohn's", "covid-19"). Returns its range and its [`word_hash`].
#[inline]
fn next_word(text: &[u8], from: usize) -> Option<(usize, usize, u64)> {
    let rest = text.get(from..)?;
    let offset = rest.iter().position(|&b| BYTE_CLASS[usize::from(b)] == 1)?;
    let word = rest.get(offset..)?;
    let mut len = 0;
    loop {
        len += word
            .get(len..)?
            .iter()
            .position(|&b| BYTE_CLASS[usize::from(b)] != 1)
            .unwrap_or(word.len() - len);
        let joined = word
            .get(len)
            .is_some_and(|&b| BYTE_CLASS[usize::from(b)] == 2)
            && word
                .get(len + 1)
                .is_some_and(|&b| BYTE_CLASS[usize::from(b)] == 1);
        if !joined {
            break;
        }
        len += 1;
    }
    let start = from + offset;
    Some((start, start + len, word_hash(word.get(..len)?)))
}

/// Confirms that the words in `rest` follow `pos`, each after a short gap of spaces
/// (and at most one `.` or `,`: "Lopez, Maria", "John Q. Public").
fn match_rest(text: &[u8], mut pos: usize, rest: &[Box<[u8]>]) -> Option<usize> {
    for word in rest {
        let gap_start = pos;
        if text.get(pos).is_some_and(|b| *b == b'.' || *b == b',') {
            pos += 1;
        }
        while text
            .get(pos)
            .is_some_and(|b| *b == b' ' || *b == b'\t' || *b == b'\n')
        {
            pos += 1;
        }
        if pos == gap_start || pos - gap_start > 4 || text.get(pos - 1) == Some(&b'.') {
            return None;
        }
        let end = pos.checked_add(word.len())?;
        let candidate = text.get(pos..end)?;
        if !candidate.eq_ignore_ascii_case(word) || text.get(end).is_some_and(|b| is_word_byte(*b))
        {
            return None;
        }
        pos = end;
    }
    Some(pos)
}

/// The bloom bit of a word hash (its high bits, the best mixed of an FNV hash).
fn bloom_bit(hash: u64) -> usize {
    usize::try_from(hash >> 40).unwrap_or(0) & (BLOOM_BITS - 1)
}

const HASH_SEED: u64 = 0xcbf2_9ce4_8422_2325;
const HASH_MULTIPLIER: u64 = 0x9e37_79b9_7f4a_7c15;

/// Hashes a word eight bytes at a time, ASCII letters folded to lower case (bit 0x20 set
/// on every byte, which leaves digits, `'` and `-` unchanged and treats bytes of
/// multi-byte characters consistently). Entries are confirmed byte by byte afterwards,
/// so a collision costs a comparison, never a wrong match.
fn word_hash(word: &[u8]) -> u64 {
    let mut hash = HASH_SEED ^ (word.len() as u64);
    let mut chunks = word.chunks_exact(8);
    for chunk in &mut chunks {
        let value = u64::from_le_bytes(chunk.try_into().unwrap_or([0; 8]));
        hash = (hash ^ (value | 0x2020_2020_2020_2020))
            .wrapping_mul(HASH_MULTIPLIER)
            .rotate_left(29);
    }
    let tail = chunks.remainder();
    if !tail.is_empty() {
        let mut buf = [0u8; 8];
        for (slot, b) in buf.iter_mut().zip(tail) {
            *slot = b | 0x20;
        }
        hash = (hash ^ u64::from_le_bytes(buf))
            .wrapping_mul(HASH_MULTIPLIER)
            .rotate_left(29);
    }
    (hash ^ (hash >> 32)).wrapping_mul(HASH_MULTIPLIER)
}

fn data_lines(text: &str) -> impl Iterator<Item = &str> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
}

/// The drug, diagnosis and care-context lexicon, built once.
pub(crate) static CLINICAL_TERMS: LazyLock<WordLexicon> = LazyLock::new(|| {
    let mut lexicon = WordLexicon::new();
    for line in data_lines(DRUGS) {
        lexicon.insert(line, LexKind::Drug);
    }
    for line in data_lines(DIAGNOSES) {
        lexicon.insert(line, LexKind::Diagnosis);
    }
    for phrase in CARE_CONTEXT {
        lexicon.insert(phrase, LexKind::CareContext);
    }
    for phrase in RECORD_WORDS {
        lexicon.insert(phrase, LexKind::Record);
    }
    lexicon
});

/// The ICD-10-CM code set, dots removed, packed into integers.
static ICD10_CODES: LazyLock<HashSet<u64>> = LazyLock::new(|| {
    let mut codes = HashSet::with_capacity(100_000);
    for line in data_lines(ICD10CM) {
        let mut parts = line.split(' ');
        let Some(category) = parts.next() else {
            continue;
        };
        for suffix in parts {
            let suffix = if suffix == "-" { "" } else { suffix };
            if let Some(key) = pack_code(category.bytes().chain(suffix.bytes())) {
                codes.insert(key);
            }
        }
    }
    codes
});

/// Packs up to 7 ASCII alphanumerics (an ICD-10-CM code without its dot) into an integer.
fn pack_code(bytes: impl Iterator<Item = u8>) -> Option<u64> {
    let mut key = 0u64;
    let mut len = 0;
    for b in bytes {
        if b == b'.' {
            continue;
        }
        if !b.is_ascii_alphanumeric() || len == 7 {
            return None;
        }
        key = (key << 8) | u64::from(b.to_ascii_uppercase());
        len += 1;
    }
    (len >= 3).then_some(key)
}

/// Whether `code` (with or without its dot) is in the shipped ICD-10-CM code set.
pub fn is_icd10cm_code(code: &str) -> bool {
    pack_code(code.bytes()).is_some_and(|key| ICD10_CODES.contains(&key))
}

/// Whether `word` is on the shipped drug list (case-insensitive, single words).
pub fn is_listed_drug(word: &str) -> bool {
    let mut found = false;
    CLINICAL_TERMS.scan(word.as_bytes(), |hit| {
        found |= hit.kind == LexKind::Drug && hit.start == 0 && hit.end == word.len();
    });
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_listed_icd10_codes_with_or_without_dot() {
        assert!(is_icd10cm_code("E11.9"));
        assert!(is_icd10cm_code("E119"));
        assert!(is_icd10cm_code("I10"));
        assert!(is_icd10cm_code("S72.001A"));
    }

    #[test]
    fn refuses_icd10_shaped_codes_missing_from_the_code_set() {
        assert!(!is_icd10cm_code("E11.99999"));
        assert!(!is_icd10cm_code("U99.9"));
        assert!(!is_icd10cm_code("A1C"));
        assert!(!is_icd10cm_code(""));
    }

    #[test]
    fn finds_drugs_and_multi_word_terms_case_insensitively() {
        let text = b"Started METFORMIN for Type 2  Diabetes; colonoscopy next.";
        let mut hits = Vec::new();
        CLINICAL_TERMS.scan(text, |h| hits.push(h));
        let kinds: Vec<_> = hits.iter().map(|h| h.kind).collect();
        assert_eq!(
            kinds,
            [LexKind::Drug, LexKind::Diagnosis, LexKind::Diagnosis]
        );
        assert_eq!(&text[hits[1].start..hits[1].end], b"Type 2  Diabetes");
    }

    #[test]
    fn ignores_drug_names_inside_longer_words() {
        assert!(is_listed_drug("metformin"));
        let mut hits = 0;
        CLINICAL_TERMS.scan(b"metforminx xmetformin", |_| hits += 1);
        assert_eq!(hits, 0);
    }
}
