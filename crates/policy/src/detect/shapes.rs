//! The candidate shapes found in one pass by a single multi-pattern regex.
//!
//! Patterns are ASCII-only and compiled without Unicode (`\b`, `\d` are ASCII), which keeps
//! the lazy DFA fast on text with non-ASCII characters and guarantees that every match
//! starts and ends on a character boundary. Where several shapes start at the same
//! position, the one listed first wins, so longer and more specific shapes come first.

/// One candidate shape; its position in [`Shape::ALL`] is its pattern id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shape {
    Email,
    Url,
    Address,
    PoBox,
    Card,
    SsnSeparated,
    Phone,
    Zip4,
    Ipv4,
    Ipv6,
    DateNumeric,
    DateWritten,
    Digits,
    Mbi,
    Dea,
    Icd10,
    StateZip,
    Salutation,
}

/// A capitalized name word; bytes of multi-byte UTF-8 characters are accepted whole, so
/// "Brontë" and "Núñez" match without splitting a character.
const NAME: &str = r"[A-Z](?:[a-z]|'[A-Z]|[\x80-\xFF])(?:[A-Za-z'-]|[\x80-\xFF])*";
/// Month names as people write them: capitalized, lower or upper case (an ASCII
/// case-insensitive group would multiply the automaton's states for little gain).
/// Words that open a letter to someone.
const GREETINGS: &str = r"Dear|Hi|Hey|Hello|Mr\.|Mrs\.|Ms\.|Miss";

/// Form labels that introduce a patient's or account holder's name.
const LABELS: &str = r"Patient [Nn]ame|PATIENT NAME|Patient|PATIENT|Name|NAME|Pt|Re:|RE:|Account holder|Statement for|Guarantor|Insured|Subscriber|Beneficiary|Attn:|Attention:|Resident|Member name|Policyholder|Responsible party|Client|Child|Parent/guardian";

/// A surname or given name in capitals, as EHR exports write "DOE, JANE".
const UPPER_NAME: &str = r"[A-Z][A-Z'-]+";

const MONTH: &str = r"(?:[Jj]an|[Ff]eb|[Mm]ar|[Aa]pr|[Mm]ay|[Jj]un|[Jj]ul|[Aa]ug|[Ss]ept?|[Oo]ct|[Nn]ov|[Dd]ec|JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEPT?|OCT|NOV|DEC)(?:[a-z]{0,6}|[A-Z]{0,6})\.?";
const STREET: &str = r"(?:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Way|Place|Pl|Terrace|Ter|Circle|Cir|Parkway|Pkwy|Highway|Hwy|Square|Sq|Trail|Trl|Pike|Row|Alley)";

impl Shape {
    /// Every shape, in pattern-id order.
    pub(crate) const ALL: [Shape; 18] = [
        Shape::Email,
        Shape::Url,
        Shape::Address,
        Shape::PoBox,
        Shape::Card,
        Shape::SsnSeparated,
        Shape::Phone,
        Shape::Zip4,
        Shape::Ipv4,
        Shape::Ipv6,
        Shape::DateNumeric,
        Shape::DateWritten,
        Shape::Digits,
        Shape::Mbi,
        Shape::Dea,
        Shape::Icd10,
        Shape::StateZip,
        Shape::Salutation,
    ];

    /// The regex for this shape.
    pub(crate) fn pattern(self) -> String {
        match self {
            Shape::Email => {
                r"\b[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63}){1,8}\b".into()
            }
            Shape::Url => r"\b(?:https?://|www\.)[!#-;=?-~]{3,2000}".into(),
            Shape::Address => format!(
                r"\b\d{{1,6}}(?: [NSEW]\.?)?(?: (?:[A-Z][a-z]+|\d{{1,3}}(?:st|nd|rd|th))){{1,3}} {STREET}\b\.?(?:,? (?:Apt|Apartment|Suite|Ste|Unit|#)\.? ?[A-Za-z0-9-]{{1,6}}\b)?"
            ),
            Shape::PoBox => r"(?i:\bP\.? ?O\.? Box \d{1,6}\b)".into(),
            Shape::Card => r"\b(?:\d{4}[ -]\d{4}[ -]\d{4}[ -]\d{1,7}|\d{4}[ -]\d{6}[ -]\d{4,5})\b".into(),
            Shape::SsnSeparated => r"\b\d{3}(?:-\d{2}-| \d{2} )\d{4}\b".into(),
            Shape::Phone => {
                r"(?:\+?\b1[-. ]?)?(?:\(\d{3}\) ?|\b\d{3}[-. ])\d{3}[-. ]\d{4}\b".into()
            }
            Shape::Zip4 => r"\b\d{5}-\d{4}\b".into(),
            Shape::DateNumeric => {
                r"\b(?:\d{1,2}[/.-]\d{1,2}[/.-](?:\d{4}|\d{2})|(?:19|20)\d{2}[-/.]\d{2}[-/.]\d{2})\b".into()
            }
            Shape::DateWritten => format!(
                r"\b{MONTH} \d{{1,2}}(?:st|nd|rd|th)?,? \d{{4}}\b|\b\d{{1,2}}(?:st|nd|rd|th)? {MONTH},? \d{{4}}\b|\b\d{{1,2}}-{MONTH}-(?:\d{{4}}|\d{{2}})\b"
            ),
            Shape::Ipv4 => r"\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b".into(),
            Shape::Ipv6 => {
                r"\b(?:[0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4}\b|\b(?:[0-9A-Fa-f]{1,4}:){1,7}(?::[0-9A-Fa-f]{1,4}){1,7}\b".into()
            }
            Shape::Digits => r"\b\d{5,19}\b".into(),
            Shape::Mbi => r"\b[1-9][A-Z][A-Z0-9]\d-?[A-Z][A-Z0-9]\d-?[A-Z]{2}\d{2}\b".into(),
            Shape::Dea => r"\b[A-Z][A-Z9]\d{7}\b".into(),
            Shape::Icd10 => r"\b[A-TV-Z]\d[0-9A-Z](?:\.[0-9A-Z]{1,4})?\b".into(),
            Shape::StateZip => r"\b[A-Z]{2},? \d{5}(?:-\d{4})?\b".into(),
            Shape::Salutation => format!(
                r"\b(?:{GREETINGS}|{LABELS})(?::|,)? {{1,2}}(?:(?:Mr|Mrs|Ms|Miss|Mx)\.? )?(?:{NAME}(?: [A-Z]\.)?(?: {NAME}){{0,2}}|{UPPER_NAME}, {UPPER_NAME}(?: [A-Z]\.?)?)"
            ),
        }
    }
}
