//! The scan endpoint and the JSON-lines scan.

use carepost_policy::PatientNameIndex;
use carepost_policy::api::{ScanRequest, scan_jsonl, scan_request};
use carepost_policy::rules::RuleSet;
use serde_json::{Value, json};

use super::support::scanner;

fn respond(body: Value) -> Value {
    let request: ScanRequest = serde_json::from_value(body).unwrap();
    let response = scan_request(
        &scanner(),
        &PatientNameIndex::empty(),
        &RuleSet::default(),
        &request,
    );
    serde_json::to_value(response).unwrap()
}

#[test]
fn answers_in_the_documented_shape_with_code_point_offsets() {
    let response = respond(json!({"text": "Zoë's SSN: 524-71-3302"}));
    assert_eq!(response["contains_phi"], json!(true));
    assert_eq!(
        response["findings"],
        json!([{"type": "SSN", "start": 11, "end": 22, "confidence": 0.98}])
    );
    assert_eq!(response["action"]["disposition"], json!("deliver"));
    assert_eq!(response["action"]["protection"], json!("tls-verified"));
}

#[test]
fn marks_subject_findings_and_blocks_phi_in_the_subject() {
    let response = respond(json!({"subject": "SSN 524-71-3302", "text": "see subject"}));
    let finding = &response["findings"][0];
    assert_eq!(finding["field"], json!("subject"));
    assert_eq!(
        (finding["start"].clone(), finding["end"].clone()),
        (json!(4), json!(15))
    );
    assert_eq!(response["action"]["disposition"], json!("block"));
    assert_eq!(response["action"]["rules_fired"], json!(["phi-in-subject"]));
    assert!(
        response["action"]["reason"]
            .as_str()
            .unwrap()
            .contains("subject")
    );
}

#[test]
fn answers_no_phi_for_generic_text() {
    let response = respond(json!({"text": "Flu shots are available every Saturday."}));
    assert_eq!(response["contains_phi"], json!(false));
    assert_eq!(response["findings"], json!([]));
}

#[test]
fn refuses_requests_with_unknown_fields_or_no_text() {
    assert!(serde_json::from_value::<ScanRequest>(json!({"txt": "x"})).is_err());
    assert!(serde_json::from_value::<ScanRequest>(json!({"text": "x", "extra": 1})).is_err());
}

#[test]
fn writes_one_result_line_per_record_and_survives_malformed_lines() {
    let input = concat!(
        "{\"id\": 1, \"text\": \"SSN 524-71-3302\"}\n",
        "not json at all 524-71-3302\n",
        "\n",
        "{\"id\": \"b\", \"text\": 42}\n",
        "{\"id\": \"c\", \"text\": \"nothing here\", \"label\": true}\n",
        "{\"id\": \"d\", \"text\": \"trunc",
    );
    let mut out = Vec::new();
    let summary = scan_jsonl(
        &scanner(),
        &PatientNameIndex::empty(),
        input.as_bytes(),
        &mut out,
    )
    .unwrap();
    assert_eq!(
        (summary.scanned, summary.with_phi, summary.errors),
        (2, 1, 3)
    );
    let lines: Vec<Value> = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 5);
    assert_eq!(lines[0]["id"], json!(1));
    assert_eq!(lines[0]["contains_phi"], json!(true));
    assert_eq!(lines[0]["findings"][0]["type"], json!("SSN"));
    assert_eq!(lines[1]["error"], json!("malformed JSON"));
    assert_eq!(lines[1]["line"], json!(2));
    assert_eq!(
        lines[2]["error"],
        json!("record lacks a string `text` field")
    );
    assert_eq!(lines[3]["id"], json!("c"));
    assert_eq!(lines[3]["contains_phi"], json!(false));
    assert_eq!(lines[4]["error"], json!("truncated JSON"));
}

#[test]
fn never_echoes_input_in_error_results() {
    let mut out = Vec::new();
    scan_jsonl(
        &scanner(),
        &PatientNameIndex::empty(),
        &b"{\"text\": 524713302}\n"[..],
        &mut out,
    )
    .unwrap();
    assert!(!String::from_utf8(out).unwrap().contains("524713302"));
}
