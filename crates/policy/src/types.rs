//! The vocabulary shared by every detector: PHI types, spans and findings.
//!
//! A [`Finding`] records where something was found, never what was found, so findings and
//! everything built from them can be logged, audited and printed without carrying PHI.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The kinds of protected health information the scanner reports.
///
/// The serialized names (`"SSN"`, `"MEMBER_ID"`, …) are part of the public scan API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PhiType {
    /// US Social Security number (area/group/serial validated).
    Ssn,
    /// Medicare Beneficiary Identifier (CMS format rules).
    Mbi,
    /// Medical record number (organization patterns and context words).
    Mrn,
    /// Health-plan member or subscriber identifier.
    MemberId,
    /// A date of birth: a date in birth context.
    Dob,
    /// A date tied to a patient's care: admission, discharge, service, visit.
    Date,
    /// A US telephone number that is not the organization's own.
    Phone,
    /// An e-mail address that is not the organization's own.
    Email,
    /// A street address, PO box or ZIP code.
    Address,
    /// The name of a person, usually a patient of the organization.
    Person,
    /// National Provider Identifier (Luhn with the 80840 prefix).
    Npi,
    /// DEA registration number (checksum validated).
    Dea,
    /// An ICD-10-CM code present in the CMS code set.
    Icd10,
    /// A drug name from the shipped public drug list.
    Drug,
    /// A diagnosis, procedure or test term.
    Diagnosis,
    /// A payment card number (issuer prefix and Luhn validated).
    CreditCard,
    /// An IPv4 or IPv6 address.
    IpAddress,
    /// A URL carrying an identifier (patient, record or member ids in path or query).
    Url,
}

impl PhiType {
    /// Every type, in the order used by reports.
    pub const ALL: [PhiType; 18] = [
        PhiType::Ssn,
        PhiType::Mbi,
        PhiType::Mrn,
        PhiType::MemberId,
        PhiType::Dob,
        PhiType::Date,
        PhiType::Phone,
        PhiType::Email,
        PhiType::Address,
        PhiType::Person,
        PhiType::Npi,
        PhiType::Dea,
        PhiType::Icd10,
        PhiType::Drug,
        PhiType::Diagnosis,
        PhiType::CreditCard,
        PhiType::IpAddress,
        PhiType::Url,
    ];

    /// The API name of the type, e.g. `"CREDIT_CARD"`.
    pub fn as_str(self) -> &'static str {
        match self {
            PhiType::Ssn => "SSN",
            PhiType::Mbi => "MBI",
            PhiType::Mrn => "MRN",
            PhiType::MemberId => "MEMBER_ID",
            PhiType::Dob => "DOB",
            PhiType::Date => "DATE",
            PhiType::Phone => "PHONE",
            PhiType::Email => "EMAIL",
            PhiType::Address => "ADDRESS",
            PhiType::Person => "PERSON",
            PhiType::Npi => "NPI",
            PhiType::Dea => "DEA",
            PhiType::Icd10 => "ICD10",
            PhiType::Drug => "DRUG",
            PhiType::Diagnosis => "DIAGNOSIS",
            PhiType::CreditCard => "CREDIT_CARD",
            PhiType::IpAddress => "IP_ADDRESS",
            PhiType::Url => "URL",
        }
    }

    /// Whether the type is an identifier with a checksum or format rule that a bare regex
    /// cannot satisfy (the "validated identifiers" of the quality targets).
    pub fn is_validated_identifier(self) -> bool {
        matches!(
            self,
            PhiType::Ssn
                | PhiType::Mbi
                | PhiType::Npi
                | PhiType::Dea
                | PhiType::CreditCard
                | PhiType::Icd10
        )
    }
}

impl fmt::Display for PhiType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Returned when a string names no [`PhiType`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown PHI type name")]
pub struct UnknownPhiType;

impl FromStr for PhiType {
    type Err = UnknownPhiType;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        PhiType::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or(UnknownPhiType)
    }
}

/// A half-open range `[start, end)` in a text, in bytes or in code points.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Span {
    /// First position covered.
    pub start: usize,
    /// First position after the span.
    pub end: usize,
}

impl Span {
    /// A span from `start` to `end` (end-exclusive).
    pub fn new(start: usize, end: usize) -> Self {
        Span { start, end }
    }

    /// Whether the two spans share at least one position.
    pub fn overlaps(&self, other: &Span) -> bool {
        self.start < other.end && other.start < self.end
    }
}

/// One detected piece of PHI: its type, where it is and how sure the detector is.
///
/// It holds offsets only; the text itself stays with the caller.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Finding {
    /// What was found.
    pub phi_type: PhiType,
    /// Location in UTF-8 bytes of the scanned text.
    pub bytes: Span,
    /// Location in Unicode code points of the scanned text.
    pub chars: Span,
    /// Detector confidence between 0 and 1.
    pub confidence: f32,
}
