//! Quality measurement over a labeled corpus: precision, recall and F1 per PHI type and
//! overall, and the accuracy of the message-level decision.
//!
//! The corpus is JSON lines of `{"id", "text", "contains_phi", "spans": [{"type", "start",
//! "end"}]}` with offsets in code points (the format `eval/generate.py` writes). A
//! predicted finding matches a labeled span of the same type when the two overlap; each
//! labeled span matches at most one finding. Exact-boundary F1 is reported beside it.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Deserialize;

use crate::decision::assess;
use crate::error::PolicyError;
use crate::names::PatientNameIndex;
use crate::scanner::Scanner;
use crate::types::{PhiType, Span};

/// The synthetic corpus shipped in `eval/corpus.jsonl`.
pub const BUNDLED_CORPUS: &str = include_str!("../eval/corpus.jsonl");

/// The patient list that goes with [`BUNDLED_CORPUS`], one name a line.
pub const BUNDLED_PATIENTS: &str = include_str!("../eval/patients.txt");

#[derive(Deserialize)]
struct LabeledSpan {
    #[serde(rename = "type")]
    phi_type: PhiType,
    start: usize,
    end: usize,
}

#[derive(Deserialize)]
struct LabeledMessage {
    text: String,
    contains_phi: bool,
    #[serde(default)]
    spans: Vec<LabeledSpan>,
}

/// Counts for one PHI type.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TypeCounts {
    /// Findings that overlap a labeled span of the type.
    pub true_positives: u32,
    /// Findings that overlap none.
    pub false_positives: u32,
    /// Labeled spans no finding overlaps.
    pub false_negatives: u32,
    /// Findings whose boundaries equal a labeled span's.
    pub exact_matches: u32,
}

impl TypeCounts {
    /// TP / (TP + FP), or 1 when nothing was predicted.
    pub fn precision(&self) -> f64 {
        ratio(
            self.true_positives,
            self.true_positives + self.false_positives,
        )
    }

    /// TP / (TP + FN), or 1 when nothing was labeled.
    pub fn recall(&self) -> f64 {
        ratio(
            self.true_positives,
            self.true_positives + self.false_negatives,
        )
    }

    /// Harmonic mean of precision and recall.
    pub fn f1(&self) -> f64 {
        let (p, r) = (self.precision(), self.recall());
        if p + r == 0.0 {
            0.0
        } else {
            2.0 * p * r / (p + r)
        }
    }

    /// F1 counting only exact-boundary matches as true positives.
    pub fn exact_f1(&self) -> f64 {
        let predicted = self.true_positives + self.false_positives;
        let labeled = self.true_positives + self.false_negatives;
        let (p, r) = (
            ratio(self.exact_matches, predicted),
            ratio(self.exact_matches, labeled),
        );
        if p + r == 0.0 {
            0.0
        } else {
            2.0 * p * r / (p + r)
        }
    }

    fn add(&mut self, other: &TypeCounts) {
        self.true_positives += other.true_positives;
        self.false_positives += other.false_positives;
        self.false_negatives += other.false_negatives;
        self.exact_matches += other.exact_matches;
    }
}

fn ratio(n: u32, d: u32) -> f64 {
    if d == 0 {
        1.0
    } else {
        f64::from(n) / f64::from(d)
    }
}

/// Message-level confusion counts for "contains PHI".
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MessageCounts {
    /// PHI messages flagged.
    pub true_positives: u32,
    /// Non-PHI messages flagged.
    pub false_positives: u32,
    /// PHI messages missed.
    pub false_negatives: u32,
    /// Non-PHI messages passed.
    pub true_negatives: u32,
}

impl MessageCounts {
    /// Share of messages decided correctly.
    pub fn accuracy(&self) -> f64 {
        let all =
            self.true_positives + self.false_positives + self.false_negatives + self.true_negatives;
        ratio(self.true_positives + self.true_negatives, all)
    }

    /// Share of flagged messages that carry PHI.
    pub fn precision(&self) -> f64 {
        ratio(
            self.true_positives,
            self.true_positives + self.false_positives,
        )
    }

    /// Share of PHI messages flagged.
    pub fn recall(&self) -> f64 {
        ratio(
            self.true_positives,
            self.true_positives + self.false_negatives,
        )
    }
}

/// The result of an evaluation run. Holds counts only.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EvalReport {
    /// Counts per PHI type (types absent from both labels and findings are left out).
    pub per_type: BTreeMap<PhiType, TypeCounts>,
    /// The message-level decision.
    pub messages: MessageCounts,
    /// Corpus lines that could not be read.
    pub unreadable_lines: u32,
}

impl EvalReport {
    /// Micro-averaged counts over all types.
    pub fn overall(&self) -> TypeCounts {
        let mut total = TypeCounts::default();
        for counts in self.per_type.values() {
            total.add(counts);
        }
        total
    }

    /// The report as a fixed-width text table.
    pub fn table(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{:<12} {:>6} {:>6} {:>6} {:>9} {:>7} {:>6} {:>8}",
            "type", "TP", "FP", "FN", "precision", "recall", "F1", "exact F1"
        );
        let mut row = |name: &str, c: &TypeCounts| {
            let _ = writeln!(
                out,
                "{:<12} {:>6} {:>6} {:>6} {:>9.3} {:>7.3} {:>6.3} {:>8.3}",
                name,
                c.true_positives,
                c.false_positives,
                c.false_negatives,
                c.precision(),
                c.recall(),
                c.f1(),
                c.exact_f1()
            );
        };
        for (phi_type, counts) in &self.per_type {
            row(phi_type.as_str(), counts);
        }
        row("OVERALL", &self.overall());
        let m = &self.messages;
        let _ = writeln!(
            out,
            "\nmessage-level contains_phi: accuracy {:.4}  precision {:.4}  recall {:.4}  (TP {} FP {} FN {} TN {})",
            m.accuracy(),
            m.precision(),
            m.recall(),
            m.true_positives,
            m.false_positives,
            m.false_negatives,
            m.true_negatives
        );
        if self.unreadable_lines > 0 {
            let _ = writeln!(out, "unreadable corpus lines: {}", self.unreadable_lines);
        }
        out
    }
}

/// Evaluates `scanner` (with `names`) over a JSON-lines corpus.
pub fn evaluate(scanner: &Scanner, names: &PatientNameIndex, corpus: &str) -> EvalReport {
    let mut report = EvalReport::default();
    for line in corpus.lines().filter(|l| !l.trim().is_empty()) {
        let Ok(message) = serde_json::from_str::<LabeledMessage>(line) else {
            report.unreadable_lines += 1;
            continue;
        };
        score_message(scanner, names, &message, &mut report);
    }
    report
}

/// Evaluates over the bundled corpus and its patient list.
pub fn evaluate_bundled(scanner: &Scanner) -> Result<EvalReport, PolicyError> {
    let names = PatientNameIndex::new(BUNDLED_PATIENTS.lines())?;
    Ok(evaluate(scanner, &names, BUNDLED_CORPUS))
}

fn score_message(
    scanner: &Scanner,
    names: &PatientNameIndex,
    message: &LabeledMessage,
    report: &mut EvalReport,
) {
    let result = scanner.scan(&message.text, names);
    let predicted = assess(&result).contains_phi;
    let m = &mut report.messages;
    match (message.contains_phi, predicted) {
        (true, true) => m.true_positives += 1,
        (false, true) => m.false_positives += 1,
        (true, false) => m.false_negatives += 1,
        (false, false) => m.true_negatives += 1,
    }
    let mut matched = vec![false; message.spans.len()];
    for finding in &result.findings {
        let counts = report.per_type.entry(finding.phi_type).or_default();
        let hit = message.spans.iter().enumerate().find(|(i, gold)| {
            !matched.get(*i).copied().unwrap_or(true)
                && gold.phi_type == finding.phi_type
                && Span::new(gold.start, gold.end).overlaps(&finding.chars)
        });
        match hit {
            Some((i, gold)) => {
                if let Some(slot) = matched.get_mut(i) {
                    *slot = true;
                }
                counts.true_positives += 1;
                if gold.start == finding.chars.start && gold.end == finding.chars.end {
                    counts.exact_matches += 1;
                }
            }
            None => counts.false_positives += 1,
        }
    }
    for (gold, found) in message.spans.iter().zip(matched) {
        if !found {
            report
                .per_type
                .entry(gold.phi_type)
                .or_default()
                .false_negatives += 1;
        }
    }
}
