//! Evaluating a raw message against the rules: walk, scan every part, decide.

use serde::Serialize;

use crate::decision::{Assessment, assess_findings};
use crate::mime::{self, AttachmentReport, Limits, Origin};
use crate::names::PatientNameIndex;
use crate::rules::{Decision, MessageFacts, RuleSet};
use crate::scanner::{CareSignals, Scanner};
use crate::types::{Finding, PhiType};

/// Findings of one extracted part (offsets into that part's text).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PartFindings {
    /// Where the part came from.
    pub origin: Origin,
    /// Types and byte spans found in it.
    pub findings: Vec<(PhiType, usize, usize)>,
}

/// Everything the delivery path needs to act on a message and to record why.
/// Carries types, counts and offsets, never values.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MessageVerdict {
    /// What to do with the message.
    pub decision: Decision,
    /// The message-level PHI decision.
    pub assessment: Assessment,
    /// One report per attachment.
    pub attachments: Vec<AttachmentReport>,
    /// Findings per extracted part.
    pub parts: Vec<PartFindings>,
    /// The message could not be parsed, or was too large to parse.
    pub unparsable: bool,
}

/// Walks `raw`, scans every extracted part and evaluates `rules`. `facts` supplies what
/// the caller knows about the envelope (source, sender, recipients); subject findings,
/// attachment types and uninspectable attachments are filled in here. A message that
/// cannot be parsed counts as one uninspectable attachment, so the default rules
/// quarantine it.
pub fn evaluate_message(
    scanner: &Scanner,
    names: &PatientNameIndex,
    rules: &RuleSet,
    raw: &[u8],
    facts: MessageFacts,
) -> MessageVerdict {
    evaluate_message_with_limits(scanner, names, rules, raw, facts, &Limits::default())
}

/// [`evaluate_message`] with explicit walker limits.
pub fn evaluate_message_with_limits(
    scanner: &Scanner,
    names: &PatientNameIndex,
    rules: &RuleSet,
    raw: &[u8],
    mut facts: MessageFacts,
    limits: &Limits,
) -> MessageVerdict {
    let walked = mime::walk_with(raw, limits);
    let mut all: Vec<Finding> = Vec::new();
    let mut signals = CareSignals::default();
    let mut parts = Vec::new();
    for part in &walked.parts {
        let result = scanner.scan(&part.text, names);
        signals.add(&result.signals);
        if part.origin == Origin::Subject {
            facts.subject_findings.extend_from_slice(&result.findings);
        }
        parts.push(PartFindings {
            origin: part.origin,
            findings: result
                .findings
                .iter()
                .map(|f| (f.phi_type, f.bytes.start, f.bytes.end))
                .collect(),
        });
        all.extend(result.findings);
    }
    let unparsable = walked.malformed || walked.too_large;
    facts.uninspectable_attachments += walked.uninspectable() + u32::from(unparsable);
    for a in &walked.attachments {
        facts.attachment_types.push(a.media_type.clone());
        facts.attachment_types.extend(a.extension.clone());
    }
    let assessment = assess_findings(&all, &signals);
    let decision = rules.evaluate(&assessment, &facts);
    MessageVerdict {
        decision,
        assessment,
        attachments: walked.attachments,
        parts,
        unparsable,
    }
}
