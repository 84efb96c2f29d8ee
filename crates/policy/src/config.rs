//! Scanner configuration: the organization's identifier formats and contact details.
//!
//! Plain serde types (`deny_unknown_fields`), loadable from TOML configuration or JSON.

use serde::{Deserialize, Serialize};

use crate::types::PhiType;

/// Which organization-specific identifier a pattern recognizes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OrgIdentifierType {
    /// Medical record number.
    Mrn,
    /// Health-plan member identifier.
    MemberId,
}

impl OrgIdentifierType {
    pub(crate) fn phi_type(self) -> PhiType {
        match self {
            OrgIdentifierType::Mrn => PhiType::Mrn,
            OrgIdentifierType::MemberId => PhiType::MemberId,
        }
    }
}

/// An organization's MRN or member-ID format.
///
/// `pattern` is a regex over ASCII (no Unicode classes); when `context` is non-empty a
/// match counts only if one of the context words (case-insensitive) occurs in the 40 bytes
/// before it. Patterns without context words should be specific (a fixed prefix, say),
/// or every number of that length becomes an identifier.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrgIdentifier {
    /// `MRN` or `MEMBER_ID`.
    #[serde(rename = "type")]
    pub kind: OrgIdentifierType,
    /// The identifier's shape, e.g. `\bMRN-\d{7}\b` or `\b\d{8}\b`.
    pub pattern: String,
    /// Words that must precede a match (empty: none required).
    #[serde(default)]
    pub context: Vec<String>,
}

/// The organization's own contact details, which are never PHI.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrgContacts {
    /// Phone numbers in any format; compared by their last ten digits.
    #[serde(default)]
    pub phones: Vec<String>,
    /// E-mail domains (`example.org` also covers `mail.example.org`).
    #[serde(default)]
    pub email_domains: Vec<String>,
    /// Street lines of the organization's sites ("12 Main Street"), compared without case,
    /// punctuation or spacing.
    #[serde(default)]
    pub addresses: Vec<String>,
}

impl OrgContacts {
    pub(crate) fn owns_phone(&self, candidate: &[u8]) -> bool {
        let digits = |s: &[u8]| -> Vec<u8> {
            let all: Vec<u8> = s.iter().copied().filter(u8::is_ascii_digit).collect();
            all.get(all.len().saturating_sub(10)..)
                .unwrap_or_default()
                .to_vec()
        };
        let wanted = digits(candidate);
        self.phones.iter().any(|p| digits(p.as_bytes()) == wanted)
    }

    pub(crate) fn owns_address(&self, candidate: &[u8]) -> bool {
        let key = |s: &[u8]| -> Vec<u8> {
            s.iter()
                .filter(|b| b.is_ascii_alphanumeric())
                .map(u8::to_ascii_lowercase)
                .collect()
        };
        let wanted = key(candidate);
        self.addresses.iter().any(|a| {
            let known = key(a.as_bytes());
            !known.is_empty() && (wanted.starts_with(&known) || known.starts_with(&wanted))
        })
    }

    pub(crate) fn owns_email_domain(&self, domain: &[u8]) -> bool {
        self.email_domains.iter().any(|d| {
            let d = d.trim().to_ascii_lowercase();
            domain == d.as_bytes()
                || (domain.ends_with(d.as_bytes())
                    && domain.len() > d.len()
                    && domain.get(domain.len() - d.len() - 1) == Some(&b'.'))
        })
    }
}

/// Everything that tunes the scanner for one organization.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScannerConfig {
    /// MRN and member-ID formats; [`ScannerConfig::default`] has generic ones that need
    /// context words.
    #[serde(default = "default_identifiers")]
    pub identifiers: Vec<OrgIdentifier>,
    /// The organization's phones and e-mail domains.
    #[serde(default)]
    pub org_contacts: OrgContacts,
    /// Whether names after greetings ("Dear Maria Lopez") are reported as `PERSON`
    /// with low confidence, in addition to the patient name index.
    #[serde(default = "yes")]
    pub greeting_names: bool,
}

fn yes() -> bool {
    true
}

impl Default for ScannerConfig {
    fn default() -> Self {
        ScannerConfig {
            identifiers: default_identifiers(),
            org_contacts: OrgContacts::default(),
            greeting_names: true,
        }
    }
}

fn words(list: &[&str]) -> Vec<String> {
    list.iter().map(|w| (*w).to_owned()).collect()
}

/// Generic MRN and member-ID shapes, each requiring a context word.
pub fn default_identifiers() -> Vec<OrgIdentifier> {
    vec![
        OrgIdentifier {
            kind: OrgIdentifierType::Mrn,
            pattern: r"\b[A-Z]{0,3}-?\d{5,10}\b".into(),
            context: words(&[
                "mrn",
                "medical record",
                "record number",
                "record #",
                "record no",
                "chart",
                "patient id",
                "patient #",
                "pt id",
                "patient number",
            ]),
        },
        OrgIdentifier {
            kind: OrgIdentifierType::MemberId,
            pattern: r"\b[A-Z]{0,4}-?\d{6,12}\b".into(),
            context: words(&[
                "member",
                "subscriber",
                "policy",
                "insurance id",
                "id #",
                "health plan",
                "plan id",
                "medicaid",
                "beneficiary",
                "insured id",
                "group",
            ]),
        },
    ]
}
