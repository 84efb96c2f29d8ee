//! Each detector through the scanner: what it finds and what it refuses.

use carepost_policy::{
    OrgIdentifier, OrgIdentifierType, PatientNameIndex, PhiType, Scanner, ScannerConfig,
};

use super::support::{found, found_with, types_in};

fn has(text: &str, phi_type: PhiType, value: &str) -> bool {
    found(text)
        .iter()
        .any(|(t, v)| *t == phi_type && v == value)
}

#[test]
fn detects_ssns_with_dashes_and_without_dashes_in_context() {
    assert!(has(
        "Patient SSN: 524-71-3302.",
        PhiType::Ssn,
        "524-71-3302"
    ));
    assert!(has(
        "social security number 524713302",
        PhiType::Ssn,
        "524713302"
    ));
    assert!(has("on file: 524 71 3302", PhiType::Ssn, "524 71 3302"));
}

#[test]
fn ignores_order_numbers_shaped_like_ssns() {
    assert!(types_in("Your order #524-71-3302 has shipped").is_empty());
    assert!(types_in("Lot 524-71-3302, tracking 524-71-3302").is_empty());
    assert!(types_in("Reference number 524713302").is_empty());
}

#[test]
fn refuses_ssns_with_impossible_areas() {
    assert!(types_in("SSN 666-12-3456 and SSN 900-12-3456 and 000-12-3456").is_empty());
}

#[test]
fn detects_medicare_beneficiary_identifiers() {
    assert!(has(
        "Medicare MBI 1EG4-TE5-MK73 on file",
        PhiType::Mbi,
        "1EG4-TE5-MK73"
    ));
    assert!(has("id 1EG4TE5MK73", PhiType::Mbi, "1EG4TE5MK73"));
}

#[test]
fn refuses_mbis_with_excluded_letters() {
    assert!(!types_in("MBI 1SG4TE5MK73").contains(&PhiType::Mbi));
}

#[test]
fn detects_npis_and_refuses_bad_check_digits() {
    assert!(has("NPI: 1234567893", PhiType::Npi, "1234567893"));
    assert!(!types_in("NPI: 1234567890").contains(&PhiType::Npi));
}

#[test]
fn detects_dea_numbers_and_refuses_bad_checksums() {
    assert!(has("DEA AB1234563", PhiType::Dea, "AB1234563"));
    assert!(!types_in("DEA AB1234564").contains(&PhiType::Dea));
}

#[test]
fn detects_payment_cards_grouped_or_not() {
    assert!(has(
        "card 4111 1111 1111 1111 exp 04/27",
        PhiType::CreditCard,
        "4111 1111 1111 1111"
    ));
    assert!(has(
        "card 378282246310005",
        PhiType::CreditCard,
        "378282246310005"
    ));
    assert!(has(
        "card 5555-5555-5555-4444",
        PhiType::CreditCard,
        "5555-5555-5555-4444"
    ));
}

#[test]
fn refuses_card_numbers_failing_luhn_or_issuer_rules() {
    assert!(!types_in("card 4111 1111 1111 1112").contains(&PhiType::CreditCard));
    assert!(!types_in("card 1111 1111 1111 1117").contains(&PhiType::CreditCard));
}

#[test]
fn detects_us_phone_numbers_but_not_the_organizations() {
    assert!(has(
        "Patient cell: (617) 555-0142",
        PhiType::Phone,
        "(617) 555-0142"
    ));
    assert!(has(
        "reach her at 617.555.0142 after 5",
        PhiType::Phone,
        "617.555.0142"
    ));
    assert!(types_in("Questions? Call us at (617) 555-0100.").is_empty());
}

#[test]
fn ignores_the_organizations_configured_phone_and_mail_domain() {
    let config = ScannerConfig {
        org_contacts: carepost_policy::OrgContacts {
            phones: vec!["617-555-0100".into()],
            email_domains: vec!["clinic.example.org".into()],
            addresses: vec!["12 Main Street".into()],
        },
        ..ScannerConfig::default()
    };
    let scanner = Scanner::new(config).unwrap();
    let text = "Phone (617) 555-0100, jane.doe@mail.clinic.example.org, 12 Main Street";
    assert!(scanner.scan_text(text).findings.is_empty());
}

#[test]
fn detects_personal_email_addresses_but_not_shared_mailboxes() {
    assert!(has(
        "write to maria.lopez84@gmail.com",
        PhiType::Email,
        "maria.lopez84@gmail.com"
    ));
    assert!(types_in("Contact info@clinic.example.org").is_empty());
}

#[test]
fn detects_ip_addresses_and_refuses_version_numbers() {
    assert!(has(
        "session from 203.0.113.45 ended",
        PhiType::IpAddress,
        "203.0.113.45"
    ));
    assert!(has(
        "from 2001:db8::8a2e:370:7334",
        PhiType::IpAddress,
        "2001:db8::8a2e:370:7334"
    ));
    assert!(types_in("Upgrade to version 1.2.3.4 and 300.1.1.1").is_empty());
}

#[test]
fn detects_urls_only_when_they_carry_an_identifier() {
    let link = "https://portal.example.org/patients/4482913/results";
    assert!(has(&format!("See {link}."), PhiType::Url, link));
    assert!(types_in("See https://www.example.org/flu-shots for hours.").is_empty());
}

#[test]
fn detects_mrns_and_member_ids_after_their_context_words() {
    assert!(has("MRN: 00482913", PhiType::Mrn, "00482913"));
    assert!(has(
        "Medical record number A1234567",
        PhiType::Mrn,
        "A1234567"
    ));
    assert!(has(
        "Member ID: XJH123456789",
        PhiType::MemberId,
        "XJH123456789"
    ));
    assert!(types_in("Claim number 00482913 was paid").is_empty());
}

#[test]
fn uses_configured_identifier_patterns() {
    let config = ScannerConfig {
        identifiers: vec![OrgIdentifier {
            kind: OrgIdentifierType::Mrn,
            pattern: r"\bRFH-\d{6}\b".into(),
            context: vec![],
        }],
        ..ScannerConfig::default()
    };
    let scanner = Scanner::new(config).unwrap();
    let result = scanner.scan_text("chart RFH-123456 reviewed");
    assert_eq!(result.findings.len(), 1);
    assert_eq!(result.findings[0].phi_type, PhiType::Mrn);
}

#[test]
fn refuses_invalid_identifier_patterns() {
    let config = ScannerConfig {
        identifiers: vec![OrgIdentifier {
            kind: OrgIdentifierType::Mrn,
            pattern: "(".into(),
            context: vec![],
        }],
        ..ScannerConfig::default()
    };
    assert!(Scanner::new(config).is_err());
}

#[test]
fn detects_dates_of_birth_and_care_dates_but_not_other_dates() {
    assert!(has("DOB: 03/14/1962", PhiType::Dob, "03/14/1962"));
    assert!(has(
        "born on March 14, 1962 in Ohio",
        PhiType::Dob,
        "March 14, 1962"
    ));
    assert!(has(
        "Admitted 2024-05-01 via ED",
        PhiType::Date,
        "2024-05-01"
    ));
    assert!(has("discharged on 5/3/2024", PhiType::Date, "5/3/2024"));
    assert!(types_in("Offer valid until 12/31/2025. Webinar on Jan 5, 2026.").is_empty());
}

#[test]
fn prefers_the_nearest_context_for_dates() {
    let text = "DOB: 01/02/1950\nAdmitted: 03/04/2024";
    let kinds: Vec<PhiType> = found(text).into_iter().map(|(t, _)| t).collect();
    assert_eq!(kinds, [PhiType::Dob, PhiType::Date]);
}

#[test]
fn detects_street_addresses_and_zip_codes() {
    assert!(has(
        "Patient lives at 42 Maple Avenue, Apt 3",
        PhiType::Address,
        "42 Maple Avenue, Apt 3"
    ));
    assert!(has(
        "Home address: Springfield, IL 62704",
        PhiType::Address,
        "IL 62704"
    ));
    assert!(types_in("Our office is located at 12 Main Street, Springfield, IL 62704").is_empty());
}

#[test]
fn detects_icd10_codes_from_the_cms_list_only() {
    assert!(has("Dx: E11.9, I10", PhiType::Icd10, "E11.9"));
    assert!(has("Dx: E11.9, I10", PhiType::Icd10, "I10"));
    assert!(!types_in("Dx: E11.999 and Z99.999").contains(&PhiType::Icd10));
}

#[test]
fn ignores_product_codes_shaped_like_icd10_codes() {
    assert!(types_in("SKU E11.9 glucose strips, model J45.909 nebulizer").is_empty());
}

#[test]
fn detects_drug_names_and_diagnosis_terms() {
    let found = found("Started Metformin for type 2 diabetes; colonoscopy scheduled.");
    let kinds: Vec<PhiType> = found.iter().map(|(t, _)| *t).collect();
    assert_eq!(
        kinds,
        [PhiType::Drug, PhiType::Diagnosis, PhiType::Diagnosis]
    );
    assert_eq!(found[1].1, "type 2 diabetes");
}

#[test]
fn detects_indexed_patient_names_anywhere_in_the_text() {
    let names = PatientNameIndex::new(["Maria Lopez", "Zoë Núñez"]).unwrap();
    let found = found_with(
        "Results for maria lopez and NÚÑEZ... and Zoë Núñez.",
        &names,
    );
    let persons: Vec<&str> = found
        .iter()
        .filter(|(t, _)| *t == PhiType::Person)
        .map(|(_, v)| v.as_str())
        .collect();
    assert_eq!(persons, ["maria lopez", "Zoë Núñez"]);
}

#[test]
fn detects_names_after_greetings_and_form_labels() {
    assert!(has(
        "Dear Maria Lopez, hello",
        PhiType::Person,
        "Maria Lopez"
    ));
    assert!(has("Hello Mrs. Okafor,", PhiType::Person, "Okafor"));
    assert!(has(
        "Patient Name: Wei Zhang\n",
        PhiType::Person,
        "Wei Zhang"
    ));
    assert!(types_in("Dear Patient, Dear Valued Member, Hi there").is_empty());
}

#[test]
fn reports_code_point_offsets_beside_byte_offsets() {
    let text = "Zoë — SSN 524-71-3302";
    let result = super::support::scanner().scan_text(text);
    let f = result.findings[0];
    assert_eq!((f.chars.start, f.chars.end), (10, 21));
    assert_eq!(&text[f.bytes.start..f.bytes.end], "524-71-3302");
}

#[test]
fn detects_capitalized_names_after_form_labels() {
    assert!(has(
        "PATIENT: DOE, JANE  DOB: 01/02/1950",
        PhiType::Person,
        "DOE, JANE"
    ));
}

#[test]
fn detects_dates_with_dots_and_month_abbreviations() {
    assert!(has("DOB 3.14.1962", PhiType::Dob, "3.14.1962"));
    assert!(has("DOB: 14-Mar-1962", PhiType::Dob, "14-Mar-1962"));
}

#[test]
fn shares_scanner_and_name_index_across_threads() {
    fn shareable<T: Send + Sync>() {}
    shareable::<Scanner>();
    shareable::<PatientNameIndex>();
    let scanner = std::sync::Arc::new(super::support::scanner());
    let names = std::sync::Arc::new(std::sync::RwLock::new(
        PatientNameIndex::new(["Ann Lee"]).unwrap(),
    ));
    let handles: Vec<_> = (0..2)
        .map(|_| {
            let (scanner, names) = (scanner.clone(), names.clone());
            std::thread::spawn(move || {
                let index = names.read().unwrap().clone();
                scanner.scan("note for Ann Lee", &index).findings.len()
            })
        })
        .collect();
    for handle in handles {
        assert_eq!(handle.join().unwrap(), 1);
    }
    // Contacts changed: rebuild and swap.
    *names.write().unwrap() = PatientNameIndex::new(["Bo Chen"]).unwrap();
    let index = names.read().unwrap().clone();
    assert!(scanner.scan("note for Ann Lee", &index).findings.is_empty());
    assert_eq!(scanner.scan("note for Bo Chen", &index).findings.len(), 1);
}

#[test]
fn detects_dates_of_birth_on_age_and_sex_lines() {
    assert!(has("Age/Sex: 62/F 03/14/1962", PhiType::Dob, "03/14/1962"));
}

#[test]
fn ignores_configured_patterns_that_match_nothing_or_split_characters() {
    let config = ScannerConfig {
        identifiers: vec![
            OrgIdentifier {
                kind: OrgIdentifierType::Mrn,
                pattern: r"\d*".into(),
                context: vec![],
            },
            OrgIdentifier {
                kind: OrgIdentifierType::MemberId,
                pattern: r"(?s:.)".into(),
                context: vec![],
            },
        ],
        ..ScannerConfig::default()
    };
    let scanner = Scanner::new(config).unwrap();
    let text = "é—ü 12";
    for f in scanner.scan_text(text).findings {
        assert!(text.is_char_boundary(f.bytes.start) && text.is_char_boundary(f.bytes.end));
        assert!(f.bytes.start < f.bytes.end);
    }
}
