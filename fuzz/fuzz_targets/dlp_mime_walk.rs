//! Fuzzes the MIME walker (headers, bodies, HTML, PDF, DOCX, zip) and the whole
//! evaluation of a raw message against the default rules. Neither may panic, and the
//! extracted text must stay within the configured limits.
#![no_main]

use std::sync::LazyLock;

use carepost_policy::message::evaluate_message_with_limits;
use carepost_policy::mime::{Limits, walk_with};
use carepost_policy::rules::{MessageFacts, RuleSet};
use carepost_policy::{PatientNameIndex, Scanner};
use libfuzzer_sys::fuzz_target;

static SCANNER: LazyLock<Scanner> =
    LazyLock::new(|| Scanner::with_defaults().expect("default scanner builds"));

fuzz_target!(|data: &[u8]| {
    let limits = Limits {
        max_message_bytes: 1 << 20,
        max_attachment_bytes: 1 << 20,
        max_expanded_bytes: 4 << 20,
        max_text_bytes: 1 << 20,
        ..Limits::default()
    };
    let walked = walk_with(data, &limits);
    let text_bytes: usize = walked.parts.iter().map(|p| p.text.len()).sum();
    assert!(text_bytes <= limits.max_text_bytes);

    let rules = RuleSet::default();
    let names = PatientNameIndex::empty();
    let facts = MessageFacts::default();
    let verdict = evaluate_message_with_limits(&SCANNER, &names, &rules, data, facts, &limits);
    if verdict.unparsable {
        assert_ne!(verdict.decision.disposition, carepost_policy::rules::Disposition::Deliver);
    }
});
