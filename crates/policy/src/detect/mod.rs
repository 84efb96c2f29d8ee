//! Detectors: validators for each identifier and the classification of candidate shapes.
//!
//! The scanner finds candidate shapes in one regex pass (`shapes`); `classify` then
//! runs only the validators and context checks that apply to each candidate.

pub mod card;
pub(crate) mod context;
pub mod date;
pub mod dea;
pub(crate) mod digits;
pub mod ip;
pub mod mbi;
pub mod npi;
pub mod phone;
pub(crate) mod shapes;
pub mod ssn;
pub mod url;

use context::{
    BIRTH_WORDS, CARE_DATE_WORDS, DEA_WORDS, ICD_WORDS, MEDICARE_WORDS, NPI_WORDS,
    ORG_CONTACT_WORDS, PERSONAL_CONTACT_WORDS, REFERENCE_WORDS, SSN_WORDS, VERSION_WORDS, Window,
    ZIP_WORDS,
};
use shapes::Shape;

use crate::PhiType;
use crate::scanner::OrgContacts;

/// The scanned text, with the header of the candidate's table column when there is one.
pub(crate) struct Hay<'a> {
    /// The whole text.
    pub bytes: &'a [u8],
    /// The column header of the candidate, used as extra context.
    pub label: Option<&'a [u8]>,
}

impl std::ops::Deref for Hay<'_> {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        self.bytes
    }
}

impl Hay<'_> {
    /// The context window before `start`, preceded by the column header if any.
    pub(crate) fn before(&self, start: usize, size: usize) -> Window {
        Window::labeled(self.label, self.bytes, start, size)
    }
}

/// A finding before code-point offsets are computed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Raw {
    pub phi_type: PhiType,
    pub start: usize,
    pub end: usize,
    pub confidence: f32,
}

/// What classifying one candidate produced.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Verdict {
    /// The candidate is PHI.
    Found(Raw),
    /// The candidate is the organization's own contact detail.
    OrgContact,
    /// The candidate matched no validator (an organization pattern may still claim it).
    Nothing,
}

/// Two-letter USPS state and territory codes.
#[rustfmt::skip]
const STATES: &[&str] = &[
    "AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "FL", "GA", "HI", "ID", "IL", "IN", "IA",
    "KS", "KY", "LA", "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH", "NJ",
    "NM", "NY", "NC", "ND", "OH", "OK", "OR", "PA", "RI", "SC", "SD", "TN", "TX", "UT", "VT",
    "VA", "WA", "WV", "WI", "WY", "DC", "PR", "GU", "VI",
];

/// Capitalized words after a greeting that are not a person's name.
#[rustfmt::skip]
const NOT_NAMES: &[&str] = &[
    "Patient", "Patients", "Member", "Members", "Friend", "Friends", "Valued", "Customer",
    "Sir", "Madam", "Team", "Doctor", "Dr", "Colleague", "Colleagues", "Parent", "Parents",
    "Guardian", "All", "Neighbor", "Neighbors", "Everyone", "There", "Community", "Subscriber",
    "Reader", "Readers", "Families", "Family", "Staff", "Partners", "Resident", "Residents",
    "Name", "Caregiver", "Caregivers", "Provider", "Providers", "Health", "Valued",
    "Participant", "Participants", "Folks", "Visitor", "Visitors", "Client", "Your",
    "Appointment", "Reminder", "Lab", "Results", "Billing", "Statement", "Welcome", "Thank",
    "Thanks", "Please", "This", "The", "Our", "We", "You", "Update", "Important", "Summer",
    "Winter", "Spring", "Fall", "Flu", "Wellness", "Portal", "Ladies", "Gentlemen", "Mom",
    "Dad", "Nurse", "Clinic", "Office", "Sender", "Recipient", "Policyholder", "Dear",
];

/// Classifies one candidate of shape `shape` at `start..end` of `text`.
pub(crate) fn classify(
    shape: Shape,
    text: &Hay<'_>,
    start: usize,
    end: usize,
    org: &OrgContacts,
) -> Verdict {
    let span = text.get(start..end).unwrap_or_default();
    let before = || text.before(start, 32);
    let found = |phi_type, confidence| {
        Verdict::Found(Raw {
            phi_type,
            start,
            end,
            confidence,
        })
    };
    match shape {
        Shape::Email => email(text, span, start, end, org),
        Shape::Url => url_candidate(text, start, end),
        Shape::Address | Shape::PoBox if org.owns_address(span) => Verdict::OrgContact,
        Shape::Address | Shape::PoBox => contact(text, start, end, PhiType::Address, 0.85),
        Shape::Card => card_candidate(span, &before(), found),
        Shape::SsnSeparated => ssn_candidate(span, &before(), true, found),
        Shape::Phone => phone_candidate(text, span, start, end, org),
        Shape::Zip4 => contact(text, start, end, PhiType::Address, 0.75),
        Shape::DateNumeric | Shape::DateWritten => date_candidate(text, span, start, found),
        Shape::Ipv4 => ip_candidate(span, &before(), false, found),
        Shape::Ipv6 => ip_candidate(span, &before(), true, found),
        Shape::Digits => digits_candidate(text, span, start, end, org),
        Shape::Mbi => match mbi::is_valid_mbi(span) {
            true if before().has_any(&MEDICARE_WORDS) => found(PhiType::Mbi, 0.98),
            true if !before().has_word(&REFERENCE_WORDS) => found(PhiType::Mbi, 0.9),
            _ => Verdict::Nothing,
        },
        Shape::Dea => match dea::is_valid_dea(span) {
            true if before().has_word(&DEA_WORDS) => found(PhiType::Dea, 0.97),
            true if !before().has_word(&REFERENCE_WORDS) => found(PhiType::Dea, 0.7),
            _ => Verdict::Nothing,
        },
        Shape::Icd10 => icd_candidate(text, span, start, found),
        Shape::StateZip => state_zip(text, span, start, end),
        Shape::Salutation => salutation(span, start),
    }
}

fn email(text: &Hay<'_>, span: &[u8], start: usize, end: usize, org: &OrgContacts) -> Verdict {
    let Some(at) = memchr::memchr(b'@', span) else {
        return Verdict::Nothing;
    };
    let local = span.get(..at).unwrap_or_default().to_ascii_lowercase();
    let domain = span.get(at + 1..).unwrap_or_default().to_ascii_lowercase();
    let role_account = ROLE_MAILBOXES.iter().any(|r| local == r.as_bytes());
    if role_account || org.owns_email_domain(&domain) {
        return Verdict::OrgContact;
    }
    contact(text, start, end, PhiType::Email, 0.9)
}

/// Local parts of shared mailboxes, which belong to an organization rather than a person.
#[rustfmt::skip]
const ROLE_MAILBOXES: &[&str] = &[
    "info", "contact", "appointments", "billing", "support", "noreply", "no-reply", "help",
    "frontdesk", "scheduling", "office", "admin", "privacy", "compliance", "records",
    "pharmacy", "newsletter", "hello", "team", "care", "clinic", "news", "donotreply",
    "do-not-reply", "questions", "webmaster", "marketing", "hr", "careers", "press", "media",
];

fn url_candidate(text: &Hay<'_>, start: usize, end: usize) -> Verdict {
    let raw = text.get(start..end).unwrap_or_default();
    let end = start + url::trim_url(raw);
    let link = std::str::from_utf8(text.get(start..end).unwrap_or_default()).unwrap_or("");
    if url::url_carries_identifier(link) {
        Verdict::Found(Raw {
            phi_type: PhiType::Url,
            start,
            end,
            confidence: 0.85,
        })
    } else {
        Verdict::Nothing
    }
}

/// Contact details (address, phone, e-mail): reported unless introduced as the
/// organization's own.
fn contact(
    text: &Hay<'_>,
    start: usize,
    end: usize,
    phi_type: PhiType,
    confidence: f32,
) -> Verdict {
    let window = text.before(start, 40);
    let personal_at = window.last_word_end(&PERSONAL_CONTACT_WORDS);
    let org_at = window.last_word_end(&ORG_CONTACT_WORDS);
    let personal = personal_at.is_some_and(|p| org_at.is_none_or(|o| p >= o));
    if !personal && org_at.is_some() {
        return Verdict::OrgContact;
    }
    let confidence = if personal {
        confidence.max(0.9)
    } else {
        confidence
    };
    Verdict::Found(Raw {
        phi_type,
        start,
        end,
        confidence,
    })
}

fn card_candidate(
    span: &[u8],
    before: &Window,
    found: impl Fn(PhiType, f32) -> Verdict,
) -> Verdict {
    if card::is_valid_card(span) && !before.has_word(&REFERENCE_WORDS) {
        found(PhiType::CreditCard, 0.95)
    } else {
        Verdict::Nothing
    }
}

fn ssn_candidate(
    span: &[u8],
    before: &Window,
    separated: bool,
    found: impl Fn(PhiType, f32) -> Verdict,
) -> Verdict {
    if !ssn::is_valid_ssn(span) {
        return Verdict::Nothing;
    }
    if before.has_any(&SSN_WORDS) {
        return found(PhiType::Ssn, 0.98);
    }
    if separated && !before.has_word(&REFERENCE_WORDS) && !before.bytes().ends_with(b"#") {
        return found(PhiType::Ssn, 0.85);
    }
    Verdict::Nothing
}

fn phone_candidate(
    text: &Hay<'_>,
    span: &[u8],
    start: usize,
    end: usize,
    org: &OrgContacts,
) -> Verdict {
    if !phone::is_valid_us_phone(span) {
        return Verdict::Nothing;
    }
    if org.owns_phone(span) {
        return Verdict::OrgContact;
    }
    contact(text, start, end, PhiType::Phone, 0.85)
}

fn date_candidate(
    text: &Hay<'_>,
    span: &[u8],
    start: usize,
    found: impl Fn(PhiType, f32) -> Verdict,
) -> Verdict {
    let Ok(date) = std::str::from_utf8(span) else {
        return Verdict::Nothing;
    };
    if !date::is_plausible_date(date) {
        return Verdict::Nothing;
    }
    let near = text.before(start, 40);
    match (
        near.last_word_end(&BIRTH_WORDS),
        near.last_word_end(&CARE_DATE_WORDS),
    ) {
        (Some(birth), care) if care.is_none_or(|c| birth >= c) => found(PhiType::Dob, 0.95),
        (_, Some(_)) => found(PhiType::Date, 0.8),
        _ => Verdict::Nothing,
    }
}

fn ip_candidate(
    span: &[u8],
    before: &Window,
    v6: bool,
    found: impl Fn(PhiType, f32) -> Verdict,
) -> Verdict {
    let Ok(ip) = std::str::from_utf8(span) else {
        return Verdict::Nothing;
    };
    let valid = if v6 {
        ip::is_valid_ipv6(ip)
    } else {
        ip::is_valid_ipv4(ip)
    };
    if valid && !before.has_any(&VERSION_WORDS) {
        found(PhiType::IpAddress, 0.85)
    } else {
        Verdict::Nothing
    }
}

fn digits_candidate(
    text: &Hay<'_>,
    span: &[u8],
    start: usize,
    end: usize,
    org: &OrgContacts,
) -> Verdict {
    let before = text.before(start, 32);
    let found = |phi_type, confidence| {
        Verdict::Found(Raw {
            phi_type,
            start,
            end,
            confidence,
        })
    };
    match span.len() {
        5 if before.has_any(&ZIP_WORDS) => found(PhiType::Address, 0.75),
        9 => ssn_candidate(span, &before, false, found),
        10 if npi::is_valid_npi(span) => {
            if before.has_any(&NPI_WORDS) {
                found(PhiType::Npi, 0.97)
            } else if before.has_word(&REFERENCE_WORDS) {
                Verdict::Nothing
            } else {
                found(PhiType::Npi, 0.75)
            }
        }
        10 if before.has_any(&PERSONAL_CONTACT_WORDS) && phone::is_valid_us_phone(span) => {
            phone_candidate(text, span, start, end, org)
        }
        13..=19 => card_candidate(span, &before, found),
        _ => Verdict::Nothing,
    }
}

fn icd_candidate(
    text: &Hay<'_>,
    span: &[u8],
    start: usize,
    found: impl Fn(PhiType, f32) -> Verdict,
) -> Verdict {
    let Ok(code) = std::str::from_utf8(span) else {
        return Verdict::Nothing;
    };
    if !crate::lexicon::is_icd10cm_code(code) {
        return Verdict::Nothing;
    }
    let before = text.before(start, 32);
    if before.has_word(&REFERENCE_WORDS) {
        return Verdict::Nothing;
    }
    if before.has_word(&ICD_WORDS) {
        return found(PhiType::Icd10, 0.95);
    }
    if code.contains('.') {
        return found(PhiType::Icd10, 0.8);
    }
    Verdict::Nothing
}

fn state_zip(text: &Hay<'_>, span: &[u8], start: usize, end: usize) -> Verdict {
    let state = span
        .get(..2)
        .and_then(|s| std::str::from_utf8(s).ok())
        .unwrap_or("");
    if !STATES.contains(&state) {
        return Verdict::Nothing;
    }
    contact(text, start, end, PhiType::Address, 0.8)
}

fn salutation(span: &[u8], start: usize) -> Verdict {
    let Ok(text) = std::str::from_utf8(span) else {
        return Verdict::Nothing;
    };
    let greeting = ["Dear", "Hi", "Hey", "Hello", "Mr.", "Mrs.", "Ms.", "Miss"]
        .iter()
        .any(|g| text.starts_with(g));
    let title = ["Mr.", "Mrs.", "Ms.", "Miss"]
        .iter()
        .any(|g| text.starts_with(g));
    let Some(name_at) = text.find(':').or_else(|| name_start(text)) else {
        return Verdict::Nothing;
    };
    let mut name = text
        .get(name_at..)
        .unwrap_or("")
        .trim_start_matches([':', ',', ' ']);
    let mut title = title;
    for t in [
        "Mr. ", "Mrs. ", "Ms. ", "Miss ", "Mx. ", "Mr ", "Mrs ", "Ms ", "Mx ",
    ] {
        if let Some(rest) = name.strip_prefix(t) {
            name = rest;
            title = true;
        }
    }
    let offset = text.len() - name.len();
    let words: Vec<&str> = name.split(' ').collect();
    let keep = words
        .iter()
        .take_while(|w| !NOT_NAMES.contains(&w.trim_end_matches('.')))
        .count();
    if keep == 0 || (!greeting && keep < 2) {
        return Verdict::Nothing;
    }
    let kept_len: usize = words.iter().take(keep).map(|w| w.len()).sum::<usize>() + keep - 1;
    Verdict::Found(Raw {
        phi_type: PhiType::Person,
        start: start + offset,
        end: start + offset + kept_len,
        confidence: if keep >= 2 || title { 0.7 } else { 0.55 },
    })
}

/// Where the name starts after a label without a colon ("Statement for Ann Lee"): after
/// the last lower-case-initial word of the label, or after the first word.
fn name_start(text: &str) -> Option<usize> {
    let mut at = text.find(' ')?;
    while let Some(rest) = text.get(at + 1..) {
        let next_is_label = rest.starts_with(|c: char| c.is_ascii_lowercase());
        if !next_is_label {
            break;
        }
        at += 1 + rest.find(' ')?;
    }
    Some(at)
}
