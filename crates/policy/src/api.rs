//! The shapes of the scan endpoint (`POST /api/v1/dlp/scan`) and of the JSON-lines scan
//! (`carepost dlp scan FILE`), with the functions that serve them.
//!
//! Offsets in responses count Unicode code points of the field they refer to, end
//! excluded. Responses carry types, offsets and confidences, never the matched text.

use std::io::{BufRead, Read, Write};

use serde::{Deserialize, Serialize};

use crate::decision::{Assessment, assess_findings};
use crate::error::PolicyError;
use crate::names::PatientNameIndex;
use crate::rules::{Decision, MessageFacts, RuleSet, Source};
use crate::scanner::Scanner;
use crate::types::{Finding, PhiType};

/// Body of a scan request: the text to scan and, optionally, a subject line.
/// Its `Debug` output shows lengths only.
#[derive(Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScanRequest {
    /// A subject line, scanned separately; findings in it carry `"field": "subject"`.
    #[serde(default)]
    pub subject: Option<String>,
    /// The body text to scan.
    pub text: String,
}

impl std::fmt::Debug for ScanRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScanRequest")
            .field("subject_bytes", &self.subject.as_ref().map(String::len))
            .field("text_bytes", &self.text.len())
            .finish()
    }
}

/// Which request field a finding is in. Omitted from JSON for `text`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Field {
    /// The `text` field.
    Text,
    /// The `subject` field.
    Subject,
}

impl Field {
    fn is_text(&self) -> bool {
        *self == Field::Text
    }
}

/// One finding as the API reports it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ApiFinding {
    /// The PHI type, e.g. `"SSN"`.
    #[serde(rename = "type")]
    pub phi_type: PhiType,
    /// First code point of the finding.
    pub start: usize,
    /// Code point after the finding.
    pub end: usize,
    /// Confidence between 0 and 1, rounded to two decimals.
    pub confidence: f64,
    /// `"subject"` for findings in the subject; absent for the text.
    #[serde(skip_serializing_if = "Field::is_text")]
    pub field: Field,
}

impl ApiFinding {
    fn new(f: &Finding, field: Field) -> Self {
        ApiFinding {
            phi_type: f.phi_type,
            start: f.chars.start,
            end: f.chars.end,
            confidence: (f64::from(f.confidence) * 100.0).round() / 100.0,
            field,
        }
    }
}

/// Body of a scan response.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScanResponse {
    /// Whether the content needs protection (see [`crate::decision`]).
    pub contains_phi: bool,
    /// Findings in the text, then in the subject.
    pub findings: Vec<ApiFinding>,
    /// What the rules would do with a message carrying this content, sent through the API.
    pub action: Decision,
}

/// Serves the scan endpoint: scans subject and text and evaluates `rules` as for a
/// message submitted through the API.
pub fn scan_request(
    scanner: &Scanner,
    names: &PatientNameIndex,
    rules: &RuleSet,
    request: &ScanRequest,
) -> ScanResponse {
    let body = scanner.scan(&request.text, names);
    let subject = request.subject.as_deref().map(|s| scanner.scan(s, names));
    let mut all: Vec<Finding> = body.findings.clone();
    let mut signals = body.signals;
    let mut findings: Vec<ApiFinding> = body
        .findings
        .iter()
        .map(|f| ApiFinding::new(f, Field::Text))
        .collect();
    if let Some(subject) = &subject {
        all.extend_from_slice(&subject.findings);
        signals.add(&subject.signals);
        findings.extend(
            subject
                .findings
                .iter()
                .map(|f| ApiFinding::new(f, Field::Subject)),
        );
    }
    let assessment = assess_findings(&all, &signals);
    let facts = MessageFacts {
        source: Source::Api,
        subject_findings: subject.map(|s| s.findings).unwrap_or_default(),
        ..MessageFacts::default()
    };
    let action = rules.evaluate(&assessment, &facts);
    ScanResponse {
        contains_phi: assessment.contains_phi,
        findings,
        action,
    }
}

/// One input record of the JSON-lines scan. Other fields (labels, say) are ignored.
/// Its `Debug` output shows the id and the text's length only.
#[derive(Clone, Deserialize)]
pub struct ScanRecord {
    /// The caller's identifier for the record, echoed back as is.
    #[serde(default)]
    pub id: serde_json::Value,
    /// The text to scan.
    pub text: String,
}

impl std::fmt::Debug for ScanRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScanRecord")
            .field("id", &self.id)
            .field("text_bytes", &self.text.len())
            .finish()
    }
}

/// One output record of the JSON-lines scan.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScanRecordResult {
    /// The record's `id` (null when the line could not be read).
    pub id: serde_json::Value,
    /// Whether the text needs protection; absent on error.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contains_phi: Option<bool>,
    /// Findings in the text; empty on error.
    pub findings: Vec<ApiFinding>,
    /// 1-based input line number, present on error.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    /// Why the line could not be scanned (never quotes the input).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Totals of a JSON-lines scan.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JsonlSummary {
    /// Records scanned.
    pub scanned: usize,
    /// Records judged to contain PHI.
    pub with_phi: usize,
    /// Lines that could not be scanned.
    pub errors: usize,
}

/// Longest input line accepted by [`scan_jsonl`]; longer lines get an error result.
pub const MAX_RECORD_BYTES: usize = 16 * 1024 * 1024;

/// Scans a JSON-lines stream of `{"id", "text"}` records, writing one result line per
/// non-blank input line. A malformed line yields an error result for that line only.
/// Fails only when reading or writing the streams fails.
pub fn scan_jsonl(
    scanner: &Scanner,
    names: &PatientNameIndex,
    input: impl BufRead,
    mut output: impl Write,
) -> Result<JsonlSummary, PolicyError> {
    let mut summary = JsonlSummary::default();
    let mut reader = input;
    let mut buf = Vec::new();
    let mut line_no = 0;
    loop {
        buf.clear();
        let limit = u64::try_from(MAX_RECORD_BYTES + 1).unwrap_or(u64::MAX);
        let read = reader.by_ref().take(limit).read_until(b'\n', &mut buf)?;
        if read == 0 {
            break;
        }
        line_no += 1;
        let result = if buf.len() > MAX_RECORD_BYTES && buf.last() != Some(&b'\n') {
            skip_rest_of_line(&mut reader)?;
            error_result(line_no, "record too large")
        } else if buf.iter().all(u8::is_ascii_whitespace) {
            continue;
        } else {
            scan_line(scanner, names, &buf, line_no)
        };
        match result.contains_phi {
            Some(phi) => {
                summary.scanned += 1;
                summary.with_phi += usize::from(phi);
            }
            None => summary.errors += 1,
        }
        serde_json::to_writer(&mut output, &result).map_err(std::io::Error::other)?;
        output.write_all(b"\n")?;
    }
    output.flush()?;
    Ok(summary)
}

fn skip_rest_of_line(reader: &mut impl BufRead) -> std::io::Result<()> {
    let mut sink = Vec::new();
    loop {
        sink.clear();
        let n = reader.by_ref().take(1 << 20).read_until(b'\n', &mut sink)?;
        if n == 0 || sink.last() == Some(&b'\n') {
            return Ok(());
        }
    }
}

fn scan_line(
    scanner: &Scanner,
    names: &PatientNameIndex,
    line: &[u8],
    no: usize,
) -> ScanRecordResult {
    let record: ScanRecord = match serde_json::from_slice(line) {
        Ok(record) => record,
        Err(e) => {
            let what = match e.classify() {
                serde_json::error::Category::Data => "record lacks a string `text` field",
                serde_json::error::Category::Eof => "truncated JSON",
                _ => "malformed JSON",
            };
            return error_result(no, what);
        }
    };
    let scanned = scanner.scan(&record.text, names);
    let Assessment { contains_phi, .. } = crate::decision::assess(&scanned);
    ScanRecordResult {
        id: record.id,
        contains_phi: Some(contains_phi),
        findings: scanned
            .findings
            .iter()
            .map(|f| ApiFinding::new(f, Field::Text))
            .collect(),
        line: None,
        error: None,
    }
}

fn error_result(line: usize, error: &str) -> ScanRecordResult {
    ScanRecordResult {
        id: serde_json::Value::Null,
        contains_phi: None,
        findings: Vec::new(),
        line: Some(line),
        error: Some(error.to_owned()),
    }
}
