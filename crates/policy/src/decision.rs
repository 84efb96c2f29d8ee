//! The message-level decision: does this message need protection?
//!
//! A message contains PHI when it carries
//! 1. an SSN or a full payment-card number, in any context; or
//! 2. an identifier issued for someone's care or coverage (MRN, MBI, member ID); or
//! 3. a strong individual identifier (a patient's name, a full or titled greeting name,
//!    a date of birth, a care date, contact details introduced as personal, an
//!    identifying link) with clinical information (an ICD-10 code, a drug, a diagnosis
//!    or procedure, or a second care date), or a weak one (a first name after a greeting,
//!    contact details without context, an IP address) with clinical information and
//!    words about someone's own drugs, conditions or records ("your metformin", "your
//!    results"), not merely "your health"; or
//! 4. a strong individual identifier other than a care date with care, payment or
//!    coverage vocabulary about someone ("your appointment", "his copay"); or
//! 5. an account number (labeled as such) with clinical information, a care date or care
//!    vocabulary about someone; or
//! 6. clinical information reported about the reader: a record word about them ("your
//!    results", "your prescription", "your claim") in a message with a drug, diagnosis
//!    or ICD-10 code, or a drug or diagnosis term after "your" (or "his", "her") with a
//!    care date. An e-mail's recipient is identified by their address, so "Your HIV test
//!    results are negative" needs protection although the text names no one, while
//!    "Schedule your mammogram today" does not.
//!
//! Provider identifiers (NPI, DEA) identify no patient and never count as identifiers.
//! The organization's own contact details are dropped by the scanner before this point.
//! Generic health content without an individual's identifier is not PHI.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::scanner::{CareSignals, ScanResult};
use crate::types::{Finding, PhiType};

/// Findings below this confidence are reported but do not decide anything.
pub const DECIDING_CONFIDENCE: f32 = 0.5;

/// Why a message was judged to contain PHI (or not). Names types, never values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum PhiReason {
    /// No combination that makes PHI was found.
    NoPhi,
    /// An SSN or payment card number, which is sensitive in any context.
    SensitiveIdentifier,
    /// An MRN, MBI or member ID.
    CareIdentifier,
    /// An individual's identifier with clinical information.
    IdentifierWithClinicalInformation,
    /// A strong individual identifier with care, payment or coverage vocabulary.
    IdentifierWithCareContext,
    /// Clinical information reported about the recipient ("your HIV test results").
    RecipientHealthInformation,
}

/// The message-level decision with the per-type counts behind it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Assessment {
    /// Whether the message needs protection.
    pub contains_phi: bool,
    /// Which rule of the definition applied.
    pub reason: PhiReason,
    /// How many findings of each type (all confidences).
    pub counts: BTreeMap<PhiType, u32>,
}

/// Decides whether the scanned content contains PHI (see the module documentation).
pub fn assess(result: &ScanResult) -> Assessment {
    assess_findings(&result.findings, &result.signals)
}

/// [`assess`] over findings gathered from several parts of a message, with the care
/// signals of those parts added up.
pub fn assess_findings(findings: &[Finding], signals: &CareSignals) -> Assessment {
    let mut counts = BTreeMap::new();
    for f in findings {
        *counts.entry(f.phi_type).or_insert(0) += 1;
    }
    let deciding: Vec<&Finding> = findings
        .iter()
        .filter(|f| f.confidence >= DECIDING_CONFIDENCE)
        .collect();
    let reason = reason(&deciding, signals);
    Assessment {
        contains_phi: reason != PhiReason::NoPhi,
        reason,
        counts,
    }
}

fn reason(findings: &[&Finding], signals: &CareSignals) -> PhiReason {
    let any = |types: &[PhiType]| findings.iter().any(|f| types.contains(&f.phi_type));
    if any(&[PhiType::Ssn, PhiType::CreditCard]) {
        return PhiReason::SensitiveIdentifier;
    }
    if any(&[PhiType::Mrn, PhiType::Mbi, PhiType::MemberId]) {
        return PhiReason::CareIdentifier;
    }
    let care_date = any(&[PhiType::Date]);
    let clinical_present = any(&[PhiType::Drug, PhiType::Diagnosis, PhiType::Icd10]);
    let about_reader = (signals.personal_clinical > 0
        && (signals.personal_records > 0 || care_date))
        || (signals.personal_records > 0 && (clinical_present || care_date));
    if about_reader {
        return PhiReason::RecipientHealthInformation;
    }
    let clinical_or_care = clinical_present || care_date || signals.any();
    if signals.account_numbers > 0 && clinical_or_care {
        return PhiReason::IdentifierWithClinicalInformation;
    }
    let identifiers: Vec<&&Finding> = findings.iter().filter(|f| is_identifier(f)).collect();
    if identifiers.is_empty() {
        return PhiReason::NoPhi;
    }
    let care_terms = u32::from(signals.any());
    let clinical_beside = |strong: bool| {
        findings.iter().any(|f| {
            is_clinical(f)
                && identifiers
                    .iter()
                    .any(|i| i.bytes != f.bytes && strong_beside_clinical(i) == strong)
        })
    };
    // A weak identifier needs the message to speak of someone's own drugs, conditions or
    // records ("your metformin", "your results"), not merely of "your health".
    let about_records = signals.personal_clinical + signals.personal_records > 0;
    if clinical_beside(true) || (about_records && clinical_beside(false)) {
        return PhiReason::IdentifierWithClinicalInformation;
    }
    if care_terms > 0 && identifiers.iter().any(|f| is_strong_identifier(f)) {
        return PhiReason::IdentifierWithCareContext;
    }
    PhiReason::NoPhi
}

fn is_identifier(f: &Finding) -> bool {
    matches!(
        f.phi_type,
        PhiType::Person
            | PhiType::Dob
            | PhiType::Date
            | PhiType::Phone
            | PhiType::Email
            | PhiType::Address
            | PhiType::IpAddress
            | PhiType::Url
    )
}

fn is_clinical(f: &Finding) -> bool {
    matches!(
        f.phi_type,
        PhiType::Icd10 | PhiType::Drug | PhiType::Diagnosis | PhiType::Date | PhiType::Dob
    )
}

/// Beside clinical information a care date is as telling as a name: "pregnancy test
/// positive; prenatal visit on Dec 2" is about one patient even when the name is not
/// recognized.
fn strong_beside_clinical(f: &Finding) -> bool {
    f.phi_type == PhiType::Date || is_strong_identifier(f)
}

fn is_strong_identifier(f: &Finding) -> bool {
    match f.phi_type {
        PhiType::Person => f.confidence >= 0.7,
        PhiType::Phone | PhiType::Email | PhiType::Address => f.confidence >= 0.9,
        PhiType::Dob | PhiType::Url => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Scanner;

    fn decide(text: &str) -> bool {
        let scanner = Scanner::with_defaults().unwrap();
        assess(&scanner.scan_text(text)).contains_phi
    }

    #[test]
    fn flags_an_ssn_in_any_context() {
        assert!(decide("Your SSN 524-71-3302 is on file."));
    }

    #[test]
    fn flags_a_name_with_a_lab_result() {
        assert!(decide(
            "Dear Maria Lopez, your A1C result came back at 7.2%."
        ));
    }

    #[test]
    fn ignores_an_npi_in_a_signature_of_a_newsletter() {
        let text = "Flu season is here: get your vaccine.\n-- Dr. Ann Ray, NPI 1234567893";
        assert!(!decide(text));
    }

    #[test]
    fn ignores_order_numbers_shaped_like_ssns() {
        assert!(!decide(
            "Order #524-71-3302 has shipped. Track order 524-71-3302 online."
        ));
    }

    #[test]
    fn ignores_generic_health_content() {
        assert!(!decide(
            "Diabetes affects 1 in 10 adults. Metformin is a common treatment."
        ));
    }
}
