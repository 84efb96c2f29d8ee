//! The message-level decision on messages written for these tests (not generated), so
//! that they check the definition rather than the evaluation corpus.

use carepost_policy::PatientNameIndex;

use super::support::{contains_phi, contains_phi_with};

const NEEDS_PROTECTION: &[&str] = &[
    "Dear Maria Lopez, your A1C result came back at 7.9%. Let's talk about adjusting your insulin.",
    "Hi Tom, your prescription for sertraline 50 mg is ready at the pharmacy counter.",
    "Please confirm your Social Security number 524-71-3302 before Friday.",
    "We charged 4111 1111 1111 1111 for today's visit.",
    "Re: Wei Zhang, DOB 04/02/1979 - MRI of the lumbar spine shows a herniated disc; referred to PT.",
    "Patient: Olga Petrova\nMRN: 00817265\nSeen today for follow-up of atrial fibrillation.",
    "Your Medicare number 1EG4TE5MK73 was used for the claim for your hip replacement.",
    "Member ID: XJH123456789. Your prior authorization for Ozempic was approved.",
    "Mr. Haddad was admitted on 03/02/2025 with pneumonia and discharged on 03/06/2025.",
    "Hello Ms. Nguyen,\nYour biopsy results are ready. Please call to schedule a follow-up.",
    "Call the patient back at (617) 555-0142 about her warfarin dose.",
    "Statement for James O'Connor: colonoscopy on 2025-01-14, balance due $220.",
    "Hi Sarah,\nJust a reminder that your colonoscopy prep starts the night before your procedure on 11/14. Take the Miralax as directed.\nGI Associates",
    "Patient John Doe (MRN 4483920) was seen in the ED on 10/02/2025 for chest pain. Troponin negative. Discharged home on aspirin 81mg.",
    "RE: claim for Robert Brown, DOB 1955-07-21, member #ZGP448291033. The claim for physical therapy was denied.",
    "Your payment of $45.00 was received. Card: 4532 0151 1283 0366. Thank you!",
    "Hello, this is Dr. Patel's office. Your HIV test results are negative. Please log in to the portal to view them.",
    "Emily Chen's pregnancy test came back positive; first prenatal visit scheduled for Dec 2, 2025.",
    "SSN: 219-45-1234",
    "Dear Mr. Thompson, we have received your referral for an MRI of the brain. Your insurance requires prior authorization.",
    "Name: Alice Walker\nAddress: 45 Birch Lane, Dover, DE 19901\nPhone: 302-555-0187\nReason for visit: migraine, taking sumatriptan",
    "Please send the records for patient Kevin O'Brien, date of birth 02/11/1990, regarding his knee surgery.",
    "Your lab results: LDL 172 mg/dL (high), HDL 38. Dr. Kim recommends starting rosuvastatin 10 mg.",
    "Hi, this is a reminder that your refill of levothyroxine is due. Reply YES to refill.",
    "Dear Patricia Gomez,\nYour claim for the emergency room visit on 09/14/2025 has been processed. You owe $150.",
    "Patient: Daniel Kim DOB: 1988-03-02 Allergies: penicillin",
    "Hey Ben - your vasectomy is confirmed for Friday at 8am. No food after midnight.",
    "Mrs. Alvarez called, she is out of her gabapentin and wants a callback at 415-555-0123.",
    "Member ID W987654321 - your prescription for Eliquis requires prior authorization.",
    "PATIENT: DOE, JANE    DOB: 01/02/1950    MRN: 0048291\nHPI: 74F with CHF exacerbation. Meds: furosemide 40mg BID, lisinopril.",
    "---------- Forwarded message ---------\nFrom: Lab <lab@example.org>\nSubject: critical value\n\nPt John Carter, potassium 6.8. Please call him at 555-867-5309.",
    "Ms. Rivera — your COVID-19 test collected 11/02/2025 is POSITIVE. Isolate for 5 days.",
    "Amount due: $340.00 for services on 2025-08-19 (office visit, strep test). Pay online with your account number 88213377.",
    "Hi Grace, it's the front desk. Your insurance (Aetna, member ID W123456789) was declined for the MRI. Can you call us?",
    "Dx: F32.1 major depressive disorder, recurrent. Patient Name: Samuel Okoye. Next session 12/04.",
    "Dear Mr. Lee,\n\nThe results of your biopsy show a benign polyp. No further treatment is needed.\n\nSincerely,\nDr. Shah",
    "Reminder: you have an appointment with Dr. Lee on 12/05/2025 at 3:00 PM. Reply C to confirm.",
    "Your appointment for a mammogram is scheduled for March 3, 2026 at 9:15 AM.",
    "Ruth's physical therapy is booked for 10/14/2025; her hip replacement recovery is on track. Call her daughter at 555-301-4477.",
    "Hi Tom, your metformin refill was sent to the pharmacy.",
    "Hello Ana, your A1C was 8.1 at your last visit, so we increased your insulin.",
];

const NO_PROTECTION_NEEDED: &[&str] = &[
    "Flu season is here! Walk-in flu shots every Saturday. Call us at (617) 555-0100.",
    "Diabetes affects 1 in 10 adults. Ask your doctor whether metformin is right for you.",
    "In 2024 we treated 1,204 patients for hypertension (ICD-10 I10); median age 61.",
    "Your order #524-71-3302 has shipped and will arrive Tuesday.",
    "New stock: SKU E11.9 lancets and model J45.909 spacer, 20% off until 12/31/2025.",
    "Thanks for attending. -- Dr. Anne Ray, MD, NPI 1234567893, DEA AB1234563",
    "Our clinic has moved to 12 Main Street, Springfield, IL 62704. Fax (217) 555-0199.",
    "Hi team, the EHR upgrade is on March 3, 2026 at 6 PM. Server 10.0.4.12 will be down.",
    "Hi Jennifer, can you cover the front desk on Friday? Thanks, Sam",
    "Invoice 000123 for 40 boxes of gloves. PO 524713302. Net 30.",
    "Join us for our annual Heart Health 5K on May 3, 2026! Proceeds support cardiac rehab programs. Register at https://www.example.org/5k",
    "Reminder to all staff: HIPAA training is due by 12/31/2025. Contact compliance@example.org with questions.",
    "Our pharmacy now carries generic Lipitor (atorvastatin). Ask your pharmacist about savings.",
    "Tracking number 9400 1000 0000 0000 0000 00 - your package of blood pressure cuffs ships today.",
    "The new parking garage at 300 Hospital Drive opens Monday. Shuttle runs every 10 minutes.",
    "Dr. Maria Gonzalez, MD | Internal Medicine | NPI 1629071234 | Tel 555-201-3344 | Fax 555-201-3345",
    "COVID-19 vaccines are now available for everyone 6 months and older. Walk in Mon-Fri 9-5.",
    "Quarterly report: readmission rate for heart failure fell to 14.2% (n=812). ICD-10 I50.9 cohort.",
    "Your Amazon order 112-4837261-5538219 of vitamin D3 has been delivered.",
    "Hi Mark, can you send me the slides for Thursday's diabetes education class? Thanks, Lisa",
    "Schedule your mammogram today! Early detection saves lives. Most plans cover screening at no cost.",
    "Tips for managing your diabetes during the holidays: watch portions, keep moving, and check your blood sugar.",
    "If your asthma symptoms get worse, talk to your doctor about your inhaler. Learn more at our website.",
    "We're hiring! Registered nurse, 3 years experience. Send your resume to careers@example.org.",
    "Your password for the staff portal expires in 5 days. IT Help Desk, ext 4455.",
    "Thank you for your donation of $50 to the Cancer Support Fund. Receipt #20251104-77.",
    "Meeting notes 11/03: discussed sepsis bundle compliance (82%), new insulin pump vendor, flu vaccine uptake.",
    "Dear valued patient, our office will be closed on Thanksgiving Day, November 27, 2025.",
    "Jane Smith\nPractice Manager | Northside Clinic\njane.smith@northsideclinic.org | (555) 201-7788\n\nPlease review the attached staffing schedule for December.",
    "Recall notice: Lot 20251104-A of metformin ER 500 mg tablets (NDC 12345-678-90) is being recalled by the manufacturer.",
    "Free diabetes prevention class every Tuesday at 6pm at 42 Elm Street, Suite 100. Call (555) 555-0100 to register.",
    "Reminder: Annual wellness visits are covered 100% by most plans. Book yours today at https://example.org/book?utm_source=email",
    "Order confirmation #4471-2209-1183: 2x blood pressure monitor, 1x pulse oximeter. Ships to the address on file.",
    "Book your appointment today! Same-day visits available at all locations.",
    "Join Sarah Johnson, RN, for a free talk on diabetes on March 3, 2026 at the library.",
    "Meet Dr. Jane Smith, our new cardiologist, who joins us on January 5, 2026.",
    "Schedule your visit before 12/31/2025 to use your remaining benefits.",
    "Call 1-800-555-0199 for 24/7 nurse advice. Ref: 123-45-6789.",
    "Dear Maria, this month we're focusing on heart health. Learn how to lower your blood pressure and what hypertension means for you.",
    "Hi Tom, thanks for joining our wellness newsletter! This week: 5 tips to prevent type 2 diabetes.",
];

#[test]
fn flags_messages_that_carry_an_individuals_health_or_payment_information() {
    for text in NEEDS_PROTECTION {
        assert!(contains_phi(text), "should need protection: {text}");
    }
}

#[test]
fn passes_generic_content_provider_ids_org_contacts_and_near_misses() {
    for text in NO_PROTECTION_NEEDED {
        assert!(!contains_phi(text), "should not need protection: {text}");
    }
}

#[test]
fn uses_the_patient_name_index_for_names_without_greetings() {
    let names = PatientNameIndex::new(["Maria Lopez"]).unwrap();
    let text = "Lab called: Maria Lopez's potassium was 6.1, repeat the metabolic panel.";
    assert!(contains_phi_with(text, &names));
    assert!(!contains_phi_with(
        "The metabolic panel order form is attached.",
        &names
    ));
}

#[test]
fn decides_on_types_and_counts_without_keeping_values() {
    let scanner = super::support::scanner();
    let assessment =
        carepost_policy::assess(&scanner.scan_text("SSN 524-71-3302, SSN 524-71-3303"));
    assert_eq!(
        assessment.counts.get(&carepost_policy::PhiType::Ssn),
        Some(&2)
    );
    let debug = format!("{assessment:?}");
    assert!(!debug.contains("524"));
}
