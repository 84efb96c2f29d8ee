//! Context words around a candidate: what turns a shape into a finding or dismisses it.
//!
//! Only candidates pay for this; the window is a small, lower-cased copy of the bytes next
//! to the candidate.

use std::sync::LazyLock;

use aho_corasick::{AhoCorasick, AhoCorasickKind};

/// How many bytes before a candidate are searched for context words.
pub(crate) const BEFORE: usize = 64;

/// Room for a column header in front of a window.
const LABEL: usize = 32;

/// A lower-cased window of `text` ending at a candidate's start, possibly preceded by the
/// header of the candidate's table column.
pub(crate) struct Window {
    buf: [u8; BEFORE + LABEL],
    len: usize,
}

impl Window {
    /// The `size` bytes (at most [`BEFORE`]) before `start`.
    #[cfg(test)]
    pub(crate) fn before(text: &[u8], start: usize, size: usize) -> Self {
        Self::labeled(None, text, start, size)
    }

    /// [`Window::before`] preceded by `label` (cut to 31 bytes) and a space.
    pub(crate) fn labeled(label: Option<&[u8]>, text: &[u8], start: usize, size: usize) -> Self {
        let size = size.min(BEFORE);
        let mut from = start.saturating_sub(size);
        // Drop a word cut by the window's edge: "erson" is not the word "son".
        let cut = |i: usize| {
            i > 0
                && text.get(i - 1).is_some_and(u8::is_ascii_alphanumeric)
                && text.get(i).is_some_and(u8::is_ascii_alphanumeric)
        };
        while from < start && cut(from) {
            from += 1;
        }
        let mut window = Window {
            buf: [0; BEFORE + LABEL],
            len: 0,
        };
        if let Some(label) = label {
            window.push(label.get(..label.len().min(LABEL - 1)).unwrap_or_default());
            window.push(b" ");
        }
        window.push(text.get(from..start).unwrap_or_default());
        window
    }

    fn push(&mut self, bytes: &[u8]) {
        for b in bytes {
            let Some(slot) = self.buf.get_mut(self.len) else {
                return;
            };
            *slot = match *b {
                b'\n' | b'\r' | b'\t' => b' ',
                other => other.to_ascii_lowercase(),
            };
            self.len += 1;
        }
    }

    /// The window's bytes.
    pub(crate) fn bytes(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or_default()
    }

    /// Whether any of `words` occurs in the window, even inside a longer word.
    pub(crate) fn has_any(&self, words: &WordList) -> bool {
        words
            .automaton
            .as_ref()
            .is_some_and(|a| a.is_match(self.bytes()))
    }

    /// Whether any of `words` occurs as a whole word (not inside a longer word).
    pub(crate) fn has_word(&self, words: &WordList) -> bool {
        self.last_word_end(words).is_some()
    }

    /// Where the last whole-word occurrence of any of `words` ends in the window; the
    /// larger the value, the closer the word is to the candidate.
    pub(crate) fn last_word_end(&self, words: &WordList) -> Option<usize> {
        let hay = self.bytes();
        let edge = |i: Option<usize>| {
            i.and_then(|i| hay.get(i))
                .is_some_and(u8::is_ascii_alphanumeric)
        };
        let automaton = words.automaton.as_ref()?;
        automaton
            .find_overlapping_iter(hay)
            .filter(|m| {
                let word = hay.get(m.start()..m.end()).unwrap_or_default();
                let starts_word = !word.first().is_some_and(u8::is_ascii_alphanumeric)
                    || !edge(m.start().checked_sub(1));
                let ends_word =
                    !word.last().is_some_and(u8::is_ascii_alphanumeric) || !edge(Some(m.end()));
                starts_word && ends_word
            })
            .map(|m| m.end())
            .max()
    }
}

/// A list of context words, searched in a window with one automaton pass.
pub(crate) struct WordList {
    automaton: Option<AhoCorasick>,
}

impl WordList {
    /// Builds the list; words are lower-cased, as windows are. A list that cannot be
    /// built (it would exceed the automaton's limits) matches nothing.
    pub(crate) fn new<S: AsRef<str>>(words: &[S]) -> Self {
        let words: Vec<String> = words
            .iter()
            .map(|w| w.as_ref().to_ascii_lowercase())
            .collect();
        let automaton = AhoCorasick::builder()
            .kind(Some(AhoCorasickKind::DFA))
            .build(&words)
            .ok();
        WordList { automaton }
    }
}

/// Words that mark a nine-digit number as a Social Security number.
pub(crate) static SSN_WORDS: LazyLock<WordList> =
    LazyLock::new(|| WordList::new(&["ssn", "social security", "soc sec", "ss#", "ss #", "s.s.n"]));

/// Words that mark a number as a business reference rather than a person's identifier.
#[rustfmt::skip]
pub(crate) static REFERENCE_WORDS: LazyLock<WordList> = LazyLock::new(|| {
    WordList::new(&[
        "order", "invoice", "tracking", "lot", "ref", "reference", "confirmation", "serial",
        "part", "model", "sku", "item", "ticket", "case", "batch", "po", "shipment", "catalog",
        "product", "transaction", "receipt", "no.", "version", "build", "kit",
    ])
});

/// Words that introduce a date of birth, including the age and sex line of a chart.
#[rustfmt::skip]
pub(crate) static BIRTH_WORDS: LazyLock<WordList> = LazyLock::new(|| {
    WordList::new(&[
        "dob", "d.o.b", "date of birth", "birth date", "birthdate", "born", "birthday", "b-day",
        "age/sex", "age", "sex", "gender", "y/o", "yo", "year old", "year-old", "years old",
    ])
});

/// Words that tie a date to a patient's care (Safe Harbor dates).
#[rustfmt::skip]
pub(crate) static CARE_DATE_WORDS: LazyLock<WordList> = LazyLock::new(|| {
    WordList::new(&[
        "admit", "admission", "admitted", "discharge", "discharged", "date of service", "dos",
        "service date", "seen on", "seen", "visit", "appointment", "appt", "surgery",
        "procedure", "scheduled", "encounter", "date of death", "died", "deceased", "collected",
        "specimen", "hospitalized", "treated", "delivered", "injury", "onset", "performed",
        "drawn", "follow-up", "follow up", "last seen", "vaccinated", "administered", "filled",
        "services on", "service on", "seen in", "rendered on",
        "dr.", "dr", "doctor", "seeing you", "see you", "check-in", "arrive", "arrival",
        "with dr", "tested", "x-ray", "referred", "prescribed", "ed visit", "er visit",
        "transferred", "consult", "consultation", "telehealth", "results from", "labs from",
        "your visit",
    ])
});

/// Words that introduce the organization's own contact details.
#[rustfmt::skip]
pub(crate) static ORG_CONTACT_WORDS: LazyLock<WordList> = LazyLock::new(|| {
    WordList::new(&[
        "call us", "contact us", "our office", "our main", "fax", "reach us", "front desk",
        "our clinic", "office at", "helpline", "hotline", "toll-free", "toll free",
        "customer service", "nurse line", "please call", "call", "questions", "visit us",
        "located at", "our address", "our new", "locations", "main line", "scheduling",
        "reschedule", "text us", "email us", "write to us", "mail to", "billing office",
        "at our", "our team", "our pharmacy", "tel", "office:", "office hours", "health",
        "clinic", "medical", "hospital", "center", "centre", "associates", "pharmacy",
        "practice", "llc", "inc", "office", "location", "campus", "headquarters", "main",
        "hours", "website", "www", "|",
    ])
});

/// Words that mark contact details as the patient's own.
#[rustfmt::skip]
pub(crate) static PERSONAL_CONTACT_WORDS: LazyLock<WordList> = LazyLock::new(|| {
    WordList::new(&[
        "patient", "cell", "home", "mobile", "contact number", "emergency contact",
        "reached at", "lives at", "resides", "residing", "home address", "address:",
        "mailing address", "his ", "her ", "pt ", "guardian", "spouse", "daughter", "son ",
        "mother", "father", "wife", "husband", "email:", "e-mail:",
    ])
});

/// Words that mark a ten-digit number as a provider identifier.
pub(crate) static NPI_WORDS: LazyLock<WordList> =
    LazyLock::new(|| WordList::new(&["npi", "provider id", "national provider"]));

/// Words that mark a Medicare number.
pub(crate) static MEDICARE_WORDS: LazyLock<WordList> =
    LazyLock::new(|| WordList::new(&["mbi", "medicare"]));

/// Words that mark a dotted quad as a version rather than a host.
pub(crate) static VERSION_WORDS: LazyLock<WordList> =
    LazyLock::new(|| WordList::new(&["version", "v.", "release", "build"]));

/// Words that introduce a ZIP code.
pub(crate) static ZIP_WORDS: LazyLock<WordList> =
    LazyLock::new(|| WordList::new(&["zip", "postal"]));

/// Words that mark a DEA registration.
pub(crate) static DEA_WORDS: LazyLock<WordList> = LazyLock::new(|| WordList::new(&["dea"]));

/// Words near an ICD-10 code that show it is a diagnosis code.
#[rustfmt::skip]
pub(crate) static ICD_WORDS: LazyLock<WordList> = LazyLock::new(|| {
    WordList::new(&[
        "icd", "dx", "diagnosis", "diag", "code", "codes", "assessment", "impression",
    ])
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_words_before_a_position_case_insensitively() {
        let text = b"Patient SSN: 123-45-6789";
        let window = Window::before(text, 13, 20);
        assert!(window.has_any(&SSN_WORDS));
        assert!(!window.has_any(&REFERENCE_WORDS));
    }

    #[test]
    fn matches_whole_words_only() {
        let window = Window::before(b"reported on", 11, 20);
        let po = WordList::new(&["po"]);
        assert!(!window.has_word(&po));
        assert!(Window::before(b"PO 12", 5, 20).has_word(&po));
    }

    #[test]
    fn clamps_windows_at_the_text_edges() {
        assert_eq!(Window::before(b"ab", 2, 40).bytes(), b"ab");
    }
}
