//! The index of the organization's own patients' names.
//!
//! An exact-match index over full names, matched case-insensitively on word boundaries in
//! the same single pass over the text as the shipped drug and diagnosis lists (the index
//! holds a copy of them): each word of the text is hashed once and looked up, and a name
//! is confirmed word by word. An
//! Aho-Corasick automaton over the names was measured first; with 5,000 names (10,000
//! patterns with the "Last, First" forms) it alone spent more time than the rest of the
//! scanner, and it grows with the contact list, while the hashed index costs the same per
//! byte for ten names or a million.
//!
//! The index is immutable: when contacts change, build a new one with
//! [`PatientNameIndex::new`] and swap it in (for example an `Arc` behind a lock); scans
//! already running keep the index they started with.

use std::sync::Arc;

use crate::error::PolicyError;
use crate::lexicon::{CLINICAL_TERMS, LexKind, WordLexicon};

/// Names shorter than this (in bytes) are left out: too likely to be ordinary words.
const MIN_NAME_LEN: usize = 5;

/// The most names one index holds; beyond it [`PatientNameIndex::new`] refuses.
pub const MAX_NAMES: usize = 5_000_000;

/// An exact-match index over patient names, for the `PERSON` detector.
///
/// Each name is indexed as written ("Maria Lopez") and, when it has at least two words,
/// as "Lopez, Maria". Single-word names are left out: they are too often ordinary words.
/// Its `Debug` output shows the number of names, never a name. Cloning is cheap.
#[derive(Clone, Default)]
pub struct PatientNameIndex {
    lexicon: Option<Arc<WordLexicon>>,
    names: usize,
}

impl std::fmt::Debug for PatientNameIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PatientNameIndex")
            .field("names", &self.names)
            .finish()
    }
}

impl PatientNameIndex {
    /// An index that matches nothing.
    pub fn empty() -> Self {
        Self::default()
    }

    /// Builds the index from full names. Refuses (with an error naming no patient) more
    /// than [`MAX_NAMES`] names.
    pub fn new<I, S>(names: I) -> Result<Self, PolicyError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        // The names join a copy of the shipped lists, so that one word pass serves both.
        let mut lexicon = WordLexicon::clone(&CLINICAL_TERMS);
        let mut count = 0;
        for name in names {
            let words: Vec<&str> = name.as_ref().split_whitespace().collect();
            let full = words.join(" ");
            if words.len() < 2 || full.len() < MIN_NAME_LEN {
                continue;
            }
            count += 1;
            if count > MAX_NAMES {
                return Err(PolicyError::NameIndex);
            }
            lexicon.insert(&full, LexKind::Patient);
            if let Some((last, rest)) = words.split_last() {
                lexicon.insert(&format!("{last} {}", rest.join(" ")), LexKind::Patient);
            }
        }
        if count == 0 {
            return Ok(Self::empty());
        }
        Ok(PatientNameIndex {
            lexicon: Some(Arc::new(lexicon)),
            names: count,
        })
    }

    /// How many names are indexed.
    pub fn len(&self) -> usize {
        self.names
    }

    /// Whether the index holds no name.
    pub fn is_empty(&self) -> bool {
        self.names == 0
    }

    /// The lexicon for the scanner's word pass: the names plus the shipped lists.
    pub(crate) fn lexicon(&self) -> &WordLexicon {
        self.lexicon.as_deref().unwrap_or(&CLINICAL_TERMS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn find(index: &PatientNameIndex, text: &str) -> Vec<(usize, usize)> {
        let mut found = Vec::new();
        index.lexicon().scan(text.as_bytes(), |hit| {
            if hit.kind == LexKind::Patient {
                found.push((hit.start, hit.end));
            }
        });
        found
    }

    #[test]
    fn finds_indexed_names_in_either_order_and_any_case() {
        let index = PatientNameIndex::new(["Maria Lopez", "Jo"]).unwrap();
        assert_eq!(index.len(), 1);
        assert_eq!(
            find(&index, "Dear MARIA LOPEZ, re: Lopez, Maria"),
            [(5, 16), (22, 34)]
        );
    }

    #[test]
    fn finds_names_with_non_ascii_letters() {
        let index = PatientNameIndex::new(["Zoë Núñez"]).unwrap();
        assert_eq!(find(&index, "Hi Zoë Núñez!").len(), 1);
    }

    #[test]
    fn ignores_names_inside_longer_words() {
        let index = PatientNameIndex::new(["Ann Lee"]).unwrap();
        assert!(find(&index, "Joann Leeds").is_empty());
    }

    #[test]
    fn never_prints_names_in_debug_output() {
        let index = PatientNameIndex::new(["Maria Lopez"]).unwrap();
        assert!(!format!("{index:?}").contains("Maria"));
    }
}
