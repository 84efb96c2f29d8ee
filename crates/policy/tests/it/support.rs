//! Helpers shared by the integration tests.

use carepost_policy::{PatientNameIndex, PhiType, Scanner};

/// A scanner with the default configuration.
pub fn scanner() -> Scanner {
    Scanner::with_defaults().unwrap()
}

/// The types found in `text`, in order.
pub fn types_in(text: &str) -> Vec<PhiType> {
    scanner()
        .scan_text(text)
        .findings
        .iter()
        .map(|f| f.phi_type)
        .collect()
}

/// The `(type, matched text)` pairs found in `text` with `names`.
pub fn found_with(text: &str, names: &PatientNameIndex) -> Vec<(PhiType, String)> {
    scanner()
        .scan(text, names)
        .findings
        .iter()
        .map(|f| (f.phi_type, text[f.bytes.start..f.bytes.end].to_owned()))
        .collect()
}

/// The `(type, matched text)` pairs found in `text`.
pub fn found(text: &str) -> Vec<(PhiType, String)> {
    found_with(text, &PatientNameIndex::empty())
}

/// Whether `text` is judged to contain PHI, with `names` as the patient list.
pub fn contains_phi_with(text: &str, names: &PatientNameIndex) -> bool {
    carepost_policy::assess(&scanner().scan(text, names)).contains_phi
}

/// Whether `text` is judged to contain PHI.
pub fn contains_phi(text: &str) -> bool {
    contains_phi_with(text, &PatientNameIndex::empty())
}

/// A deterministic byte generator for robustness tests.
pub struct Lcg(pub u64);

impl Lcg {
    pub fn next_u8(&mut self) -> u8 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 56) as u8
    }

    pub fn below(&mut self, n: usize) -> usize {
        let hi = usize::from(self.next_u8()) << 8 | usize::from(self.next_u8());
        hi % n.max(1)
    }
}
