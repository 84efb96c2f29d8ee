//! Fuzzes the PHI scanner and the message-level decision on arbitrary text, with and
//! without a patient name index. None may panic, and every finding must lie inside the
//! text, on character boundaries, with consistent byte and code-point offsets.
#![no_main]

use std::sync::LazyLock;

use carepost_policy::{PatientNameIndex, Scanner, assess};
use libfuzzer_sys::fuzz_target;

static SCANNER: LazyLock<Scanner> =
    LazyLock::new(|| Scanner::with_defaults().expect("default scanner builds"));
static NAMES: LazyLock<PatientNameIndex> = LazyLock::new(|| {
    PatientNameIndex::new(["Maria Lopez", "Zoë Núñez", "Ann O'Neil-Smith"])
        .expect("name index builds")
});

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    for names in [&PatientNameIndex::empty(), &*NAMES] {
        let result = SCANNER.scan(&text, names);
        let _ = assess(&result);
        let mut previous_end = 0;
        for finding in &result.findings {
            let (start, end) = (finding.bytes.start, finding.bytes.end);
            assert!(start < end && end <= text.len());
            assert!(start >= previous_end, "findings overlap");
            previous_end = end;
            assert!(text.is_char_boundary(start) && text.is_char_boundary(end));
            assert_eq!(text[..start].chars().count(), finding.chars.start);
            assert_eq!(text[..end].chars().count(), finding.chars.end);
            assert!((0.0..=1.0).contains(&finding.confidence));
        }
    }
});
