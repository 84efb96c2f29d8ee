//! Protection policy as data: rules whose conditions on findings and message facts lead
//! to actions, and their evaluation into a [`Decision`].
//!
//! Rules are plain serde types (`deny_unknown_fields`), so the same rule set loads from
//! TOML configuration and from JSON in the API. Every matching rule applies: the
//! strongest protection wins, any block blocks, any quarantine quarantines. A decision
//! records the names of the rules that fired and PHI types and counts, never values.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::decision::{Assessment, DECIDING_CONFIDENCE};
use crate::types::{Finding, PhiType};

/// How a message must be protected in transit or delivered. Ordered weakest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Protection {
    /// TLS to the recipient's server with a verified certificate (DANE or MTA-STS).
    TlsVerified,
    /// Delivery only over verified TLS to a server that accepts no plain-text fallback.
    TlsExclusive,
    /// The message stays in the patient portal; the recipient gets a notification.
    Portal,
    /// OpenPGP encryption to the recipient's key.
    Pgp,
    /// S/MIME encryption to the recipient's certificate.
    Smime,
}

/// How a message entered carepost.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// Submitted over SMTP.
    #[default]
    Smtp,
    /// Submitted through the HTTP API.
    Api,
    /// Produced by a campaign.
    Campaign,
}

/// What a rule does when its conditions hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Action {
    /// Deliver only with at least this protection.
    RequireProtection {
        /// The minimum protection.
        protection: Protection,
    },
    /// Refuse the message; `reason` is sent to the sender.
    Block {
        /// The explanation for the sender (written by the administrator, not from the
        /// message).
        reason: String,
    },
    /// Hold the message for review.
    Quarantine {
        /// Why, for the reviewer.
        reason: String,
    },
    /// Remove tracking pixels and rewrite tracked links before delivery.
    StripTracking,
    /// Tell the compliance contact that this rule fired.
    NotifyCompliance,
}

/// Conditions of a rule. All given conditions must hold; an absent one always holds.
/// List conditions hold when any listed value matches.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Conditions {
    /// Whether the message contains PHI (the message-level decision).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contains_phi: Option<bool>,
    /// Any of these PHI types was found.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub phi_types: Vec<PhiType>,
    /// At least this many findings (of `phi_types` when given, of any type otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_findings: Option<u32>,
    /// A recipient's domain is one of these (or a subdomain of one).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub recipient_domains: Vec<String>,
    /// A recipient belongs to one of these named lists.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub recipient_lists: Vec<String>,
    /// The sender address is one of these (case-insensitive).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub senders: Vec<String>,
    /// The sender belongs to one of these groups.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sender_groups: Vec<String>,
    /// The message came in through one of these sources.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<Source>,
    /// An attachment has one of these media types (`application/pdf`) or extensions
    /// (`.pdf`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachment_types: Vec<String>,
    /// PHI appears in the subject line of a message that contains PHI.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phi_in_subject: Option<bool>,
    /// Some attachment could not be inspected (unknown, encrypted, too large, malformed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uninspectable_attachments: Option<bool>,
}

/// A named rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// A stable name, recorded in decisions and the audit log.
    pub name: String,
    /// When the rule applies (empty: always).
    #[serde(default)]
    pub when: Conditions,
    /// What it does.
    pub then: Vec<Action>,
}

/// An ordered set of rules plus the protection every message gets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSet {
    /// Protection applied to every message, PHI or not.
    #[serde(default = "baseline")]
    pub baseline: Protection,
    /// The rules, evaluated in order; all matching rules apply.
    #[serde(default)]
    pub rules: Vec<Rule>,
}

fn baseline() -> Protection {
    Protection::TlsVerified
}

/// The explanation sent to a sender whose subject line carried PHI.
pub const SUBJECT_PHI_REASON: &str = "The subject line appears to contain protected health \
    information. Subjects are not encrypted end to end and show in notifications and on lock \
    screens. Move the details into the message body and send again with a generic subject.";

impl Default for RuleSet {
    /// Out of the box: verified TLS for every message, PHI in a subject is blocked with an
    /// explanation, and messages with attachments that cannot be inspected are quarantined.
    fn default() -> Self {
        RuleSet {
            baseline: Protection::TlsVerified,
            rules: vec![
                Rule {
                    name: "phi-in-subject".into(),
                    when: Conditions {
                        phi_in_subject: Some(true),
                        ..Conditions::default()
                    },
                    then: vec![Action::Block {
                        reason: SUBJECT_PHI_REASON.into(),
                    }],
                },
                Rule {
                    name: "uninspectable-attachments".into(),
                    when: Conditions {
                        uninspectable_attachments: Some(true),
                        ..Conditions::default()
                    },
                    then: vec![Action::Quarantine {
                        reason: "an attachment could not be inspected for PHI".into(),
                    }],
                },
            ],
        }
    }
}

/// Facts about a message that rules can test, besides its findings.
#[derive(Clone, Default, PartialEq)]
pub struct MessageFacts {
    /// How the message entered carepost.
    pub source: Source,
    /// The envelope sender.
    pub sender: Option<String>,
    /// Groups the sender belongs to.
    pub sender_groups: Vec<String>,
    /// Recipient addresses.
    pub recipients: Vec<String>,
    /// Named lists the recipients belong to.
    pub recipient_lists: Vec<String>,
    /// Media types and file names of attachments.
    pub attachment_types: Vec<String>,
    /// Findings in the subject line.
    pub subject_findings: Vec<Finding>,
    /// How many attachments could not be inspected.
    pub uninspectable_attachments: u32,
}

impl std::fmt::Debug for MessageFacts {
    /// Shows counts only: addresses may identify patients.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MessageFacts")
            .field("source", &self.source)
            .field("recipients", &self.recipients.len())
            .field("attachments", &self.attachment_types.len())
            .field("subject_findings", &self.subject_findings.len())
            .field("uninspectable_attachments", &self.uninspectable_attachments)
            .finish_non_exhaustive()
    }
}

/// What happens to the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Disposition {
    /// Deliver with the required protection.
    Deliver,
    /// Hold for review.
    Quarantine,
    /// Refuse; the sender is told why.
    Block,
}

/// The outcome of evaluating a rule set: what to do, why, and what was found (types and
/// counts only).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Decision {
    /// Deliver, quarantine or block.
    pub disposition: Disposition,
    /// Minimum protection for delivery.
    pub protection: Protection,
    /// Names of the rules that fired, in order.
    pub rules_fired: Vec<String>,
    /// The block or quarantine reason of the first rule that blocked or quarantined.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Whether tracking must be stripped.
    pub strip_tracking: bool,
    /// Whether the compliance contact must be notified.
    pub notify_compliance: bool,
    /// The message-level decision.
    pub contains_phi: bool,
    /// Findings per PHI type.
    pub phi_counts: BTreeMap<PhiType, u32>,
}

impl RuleSet {
    /// Checks rule names are present and unique and every rule has an action.
    pub fn validate(&self) -> Result<(), crate::PolicyError> {
        let mut seen = std::collections::HashSet::new();
        for rule in &self.rules {
            if rule.name.trim().is_empty() || !seen.insert(rule.name.as_str()) {
                return Err(crate::PolicyError::Rules(
                    "rule names must be unique and non-empty".into(),
                ));
            }
            if rule.then.is_empty() {
                return Err(crate::PolicyError::Rules(format!(
                    "rule {} has no action",
                    rule.name
                )));
            }
        }
        Ok(())
    }

    /// Evaluates the rules for a message with this assessment and these facts.
    pub fn evaluate(&self, assessment: &Assessment, facts: &MessageFacts) -> Decision {
        let mut decision = Decision {
            disposition: Disposition::Deliver,
            protection: self.baseline,
            rules_fired: Vec::new(),
            reason: None,
            strip_tracking: false,
            notify_compliance: false,
            contains_phi: assessment.contains_phi,
            phi_counts: assessment.counts.clone(),
        };
        for rule in self.rules.iter().filter(|r| r.when.hold(assessment, facts)) {
            decision.rules_fired.push(rule.name.clone());
            for action in &rule.then {
                decision.apply(action);
            }
        }
        decision
    }
}

impl Decision {
    fn apply(&mut self, action: &Action) {
        match action {
            Action::RequireProtection { protection } => {
                self.protection = self.protection.max(*protection);
            }
            Action::Block { reason } => {
                if self.disposition != Disposition::Block {
                    self.disposition = Disposition::Block;
                    self.reason = Some(reason.clone());
                }
            }
            Action::Quarantine { reason } => {
                if self.disposition == Disposition::Deliver {
                    self.disposition = Disposition::Quarantine;
                    self.reason = Some(reason.clone());
                }
            }
            Action::StripTracking => self.strip_tracking = true,
            Action::NotifyCompliance => self.notify_compliance = true,
        }
    }
}

impl Conditions {
    fn hold(&self, assessment: &Assessment, facts: &MessageFacts) -> bool {
        let phi_ok = self
            .contains_phi
            .is_none_or(|want| want == assessment.contains_phi);
        let count: u32 = if self.phi_types.is_empty() {
            assessment.counts.values().sum()
        } else {
            self.phi_types
                .iter()
                .filter_map(|t| assessment.counts.get(t))
                .sum()
        };
        let types_ok = self.phi_types.is_empty() || count > 0;
        let count_ok = self.min_findings.is_none_or(|min| count >= min);
        let subject_phi = assessment.contains_phi
            && facts
                .subject_findings
                .iter()
                .any(|f| f.confidence >= DECIDING_CONFIDENCE);
        phi_ok
            && types_ok
            && count_ok
            && any_or_empty(&self.recipient_domains, |d| {
                facts.recipients.iter().any(|r| in_domain(r, d))
            })
            && any_or_empty(&self.recipient_lists, |l| facts.recipient_lists.contains(l))
            && any_or_empty(&self.senders, |s| {
                facts
                    .sender
                    .as_deref()
                    .is_some_and(|x| x.eq_ignore_ascii_case(s))
            })
            && any_or_empty(&self.sender_groups, |g| facts.sender_groups.contains(g))
            && (self.sources.is_empty() || self.sources.contains(&facts.source))
            && any_or_empty(&self.attachment_types, |t| {
                facts
                    .attachment_types
                    .iter()
                    .any(|a| attachment_matches(a, t))
            })
            && self.phi_in_subject.is_none_or(|want| want == subject_phi)
            && self
                .uninspectable_attachments
                .is_none_or(|want| want == (facts.uninspectable_attachments > 0))
    }
}

fn any_or_empty(list: &[String], test: impl Fn(&String) -> bool) -> bool {
    list.is_empty() || list.iter().any(test)
}

fn in_domain(address: &str, domain: &str) -> bool {
    let host = address
        .rsplit_once('@')
        .map_or(address, |(_, h)| h)
        .to_ascii_lowercase();
    let domain = domain.trim_start_matches('@').to_ascii_lowercase();
    host == domain || host.ends_with(&format!(".{domain}"))
}

fn attachment_matches(attachment: &str, wanted: &str) -> bool {
    let a = attachment.to_ascii_lowercase();
    let w = wanted.to_ascii_lowercase();
    if w.starts_with('.') {
        a.ends_with(&w)
    } else {
        a == w || a.starts_with(&format!("{w};"))
    }
}
