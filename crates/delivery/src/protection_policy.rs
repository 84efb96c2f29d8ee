//! The protection policy at intake: every message, from the API or SMTP, is scanned for
//! PHI and the rules decide before anything is acknowledged — deliver with at least the
//! required protection, hold in quarantine, or block with a reason for the sender.
//!
//! The decision is recorded on the message and in the audit log as rule names, PHI types
//! and counts, never values.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use carepost_core::{AccessContext, MessageSource, OrgId, Protection};
use carepost_policy::message::{MessageVerdict, evaluate_message};
use carepost_policy::rules::{self, Disposition, MessageFacts, RuleSet};
use carepost_policy::{PatientNameIndex, PolicyError, Scanner};
use serde_json::json;

/// Messages larger than this are scanned on a blocking thread, off the async workers.
const INLINE_SCAN_BYTES: usize = 256 * 1024;

/// The detectors, the rules and the index of the organization's patient names.
pub struct ProtectionPolicy {
    /// The detectors.
    pub scanner: Scanner,
    /// The configured protection rules (an organization may replace them with its own).
    pub rules: RuleSet,
    /// Organizations' own rules, replacing `rules` for them.
    org_rules: RwLock<HashMap<OrgId, Arc<RuleSet>>>,
    /// Each organization's patient names (rebuilt as contacts change).
    names: RwLock<HashMap<OrgId, Arc<PatientNameIndex>>>,
    /// How long a held message waits for review before it is rejected.
    pub quarantine_max_age: Duration,
    /// Who is told when a rule with `notify-compliance` fires (rule names, PHI types and
    /// counts, the message id: never content).
    pub compliance_contact: Option<String>,
}

/// What intake does with a message.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Queue it; it needs at least `protection`.
    Deliver {
        /// The protection the rules require.
        protection: Protection,
    },
    /// Hold it for review.
    Hold {
        /// The rule's reason, for the reviewer.
        reason: String,
    },
    /// Refuse it; the sender is told `reason`.
    Block {
        /// The rule's reason.
        reason: String,
    },
}

/// A decision with the record that is kept of it.
#[derive(Debug, Clone, PartialEq)]
pub struct Screened {
    /// What to do.
    pub outcome: Outcome,
    /// Rule names, PHI types and counts, the disposition (no values).
    pub record: serde_json::Value,
}

impl ProtectionPolicy {
    /// The bundled detectors and the default rules (verified TLS for every message, PHI
    /// in a subject blocked, uninspectable attachments held), holds lasting 14 days.
    pub fn with_defaults() -> Result<Self, PolicyError> {
        Ok(Self::new(Scanner::with_defaults()?, RuleSet::default()))
    }

    /// A policy over `scanner` and `rules`.
    pub fn new(scanner: Scanner, rules: RuleSet) -> Self {
        Self {
            scanner,
            rules,
            org_rules: RwLock::new(HashMap::new()),
            names: RwLock::new(HashMap::new()),
            quarantine_max_age: Duration::from_secs(14 * 24 * 3600),
            compliance_contact: None,
        }
    }

    /// `org`'s patient name index (empty until [`refresh_names`] built one).
    pub fn names(&self, org: OrgId) -> Arc<PatientNameIndex> {
        let names = self.names.read().unwrap_or_else(|p| p.into_inner());
        names.get(&org).cloned().unwrap_or_default()
    }

    /// The rules in force for `org`: its own, or the configured ones.
    pub fn rules_for(&self, org: OrgId) -> Arc<RuleSet> {
        let own = self.org_rules.read().unwrap_or_else(|p| p.into_inner());
        own.get(&org)
            .cloned()
            .unwrap_or_else(|| Arc::new(self.rules.clone()))
    }

    /// Makes `rules` (validated) `org`'s own.
    pub fn set_rules(&self, org: OrgId, rules: RuleSet) {
        let mut own = self.org_rules.write().unwrap_or_else(|p| p.into_inner());
        own.insert(org, Arc::new(rules));
    }

    /// Replaces `org`'s patient name index.
    pub fn set_names(&self, org: OrgId, index: PatientNameIndex) {
        let mut names = self.names.write().unwrap_or_else(|p| p.into_inner());
        names.insert(org, Arc::new(index));
    }

    /// Scans `content` for `org` and decides. `facts` carries the envelope; what the
    /// message itself says (subject findings, attachments) is filled in by the scan.
    pub fn screen(&self, org: OrgId, content: &[u8], facts: MessageFacts) -> Screened {
        let names = self.names(org);
        let rules = self.rules_for(org);
        let verdict = evaluate_message(&self.scanner, &names, &rules, content, facts);
        screened(&verdict)
    }

    /// [`screen`](Self::screen), on a blocking thread for large messages.
    pub async fn screen_async(
        self: &Arc<Self>,
        org: OrgId,
        content: Arc<[u8]>,
        facts: MessageFacts,
    ) -> Screened {
        if content.len() <= INLINE_SCAN_BYTES {
            return self.screen(org, &content, facts);
        }
        let policy = self.clone();
        let fallback = Screened {
            outcome: Outcome::Hold {
                reason: "the message could not be scanned for PHI".into(),
            },
            record: json!({ "disposition": "quarantine", "error": "scan failed" }),
        };
        tokio::task::spawn_blocking(move || policy.screen(org, &content, facts))
            .await
            .unwrap_or(fallback)
    }
}

/// Contact fingerprints the name indexes were built from, per organization.
pub type NameFingerprints = HashMap<OrgId, (i64, i64)>;

/// Rebuilds the patient name index of every organization whose contacts changed since
/// `seen` was taken (reading the names is audited, once per rebuild).
pub async fn refresh_names(
    store: &carepost_store::Store,
    policy: &ProtectionPolicy,
    seen: &mut NameFingerprints,
) -> Result<(), carepost_store::StoreError> {
    let by = AccessContext::system("dlp-names");
    for org in store.organizations().await? {
        // One organization's failure must not leave the others without their index.
        let rebuilt = async {
            let scope = store.org(org.id).await?;
            let fingerprint = scope.contacts_fingerprint().await?;
            if seen.get(&org.id) == Some(&fingerprint) {
                return Ok(());
            }
            let names = scope.contact_names(&by).await?;
            let index = PatientNameIndex::new(names.iter().map(|n| n.expose().as_str()))
                .map_err(|e| carepost_store::StoreError::Invalid(e.to_string()))?;
            tracing::info!(org = %org.id, names = index.len(), "patient name index rebuilt");
            policy.set_names(org.id, index);
            seen.insert(org.id, fingerprint);
            Ok::<(), carepost_store::StoreError>(())
        };
        if let Err(error) = rebuilt.await {
            tracing::warn!(org = %org.id, %error, "patient name index not rebuilt");
        }
    }
    Ok(())
}

/// Loads the organizations' own rules from the store (set through the API on any node).
/// Rules that no longer parse or validate are skipped with a warning: the previous rules
/// stay in force.
pub async fn refresh_rules(
    store: &carepost_store::Store,
    policy: &ProtectionPolicy,
) -> Result<(), carepost_store::StoreError> {
    for (org, value, _) in store.protection_rules().await? {
        match serde_json::from_value::<RuleSet>(value) {
            Ok(rules) if rules.validate().is_ok() => policy.set_rules(org, rules),
            _ => {
                tracing::warn!(%org, "stored protection rules are invalid; keeping the previous ones")
            }
        }
    }
    Ok(())
}

/// Keeps every organization's patient name index and own rules current, checking every
/// `every`.
pub async fn keep_names_fresh(
    store: carepost_store::Store,
    policy: Arc<ProtectionPolicy>,
    every: Duration,
) {
    let mut seen = NameFingerprints::new();
    loop {
        if let Err(error) = refresh_names(&store, &policy, &mut seen).await {
            tracing::warn!(%error, "refreshing the patient name index failed");
        }
        if let Err(error) = refresh_rules(&store, &policy).await {
            tracing::warn!(%error, "refreshing the protection rules failed");
        }
        tokio::time::sleep(every).await;
    }
}

/// The envelope facts rules can test.
pub fn facts(source: MessageSource, sender: &str, recipients: &[String]) -> MessageFacts {
    MessageFacts {
        source: match source {
            MessageSource::Api => rules::Source::Api,
            MessageSource::Campaign => rules::Source::Campaign,
            MessageSource::Smtp | MessageSource::System => rules::Source::Smtp,
        },
        sender: Some(sender.to_owned()),
        recipients: recipients.to_vec(),
        ..MessageFacts::default()
    }
}

fn screened(verdict: &MessageVerdict) -> Screened {
    let d = &verdict.decision;
    let record = json!({
        "disposition": d.disposition,
        "protection": d.protection,
        "rules_fired": d.rules_fired,
        "contains_phi": d.contains_phi,
        "phi_counts": d.phi_counts,
        "strip_tracking": d.strip_tracking,
        "notify_compliance": d.notify_compliance,
        "unparsable": verdict.unparsable,
    });
    let reason = || {
        d.reason
            .clone()
            .unwrap_or_else(|| "the protection policy refused this message".into())
    };
    let outcome = match d.disposition {
        Disposition::Block => Outcome::Block { reason: reason() },
        Disposition::Quarantine => Outcome::Hold { reason: reason() },
        Disposition::Deliver => match d.protection {
            rules::Protection::TlsVerified => Outcome::Deliver {
                protection: Protection::TlsVerified,
            },
            rules::Protection::TlsExclusive => Outcome::Deliver {
                protection: Protection::TlsExclusive,
            },
            // Rules may ask for protections this version cannot deliver yet: a reviewer
            // decides rather than carepost sending it with less.
            other => Outcome::Hold {
                reason: format!(
                    "the rules require {} protection, which this version cannot deliver",
                    serde_json::to_value(other)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_owned))
                        .unwrap_or_default()
                ),
            },
        },
    };
    Screened { outcome, record }
}

/// The stronger of two protections.
pub fn stronger(a: Protection, b: Protection) -> Protection {
    match (a, b) {
        (Protection::TlsExclusive, _) | (_, Protection::TlsExclusive) => Protection::TlsExclusive,
        _ => Protection::TlsVerified,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> ProtectionPolicy {
        ProtectionPolicy::with_defaults().unwrap()
    }

    fn screen(message: &str) -> Screened {
        policy().screen(
            OrgId::new(),
            message.as_bytes(),
            facts(MessageSource::Api, "desk@clinic.test", &["p@x.test".into()]),
        )
    }

    #[test]
    fn plain_mail_is_delivered_under_verified_tls() {
        let s = screen("From: desk@clinic.test\r\nSubject: Hours\r\n\r\nWe open at 9.\r\n");
        assert_eq!(
            s.outcome,
            Outcome::Deliver {
                protection: Protection::TlsVerified
            }
        );
        assert_eq!(s.record["contains_phi"], false);
    }

    #[test]
    fn phi_in_the_subject_is_blocked_and_the_record_holds_no_values() {
        let s = screen(
            "From: desk@clinic.test\r\nSubject: SSN 123-45-6789 diabetes results\r\n\r\nHello\r\n",
        );
        assert!(matches!(s.outcome, Outcome::Block { .. }), "{s:?}");
        assert!(!s.record.to_string().contains("123-45-6789"));
        assert!(
            s.record["phi_counts"]
                .as_object()
                .is_some_and(|c| !c.is_empty())
        );
    }

    #[test]
    fn the_stronger_protection_wins() {
        use Protection::*;
        assert_eq!(stronger(TlsVerified, TlsExclusive), TlsExclusive);
        assert_eq!(stronger(TlsExclusive, TlsVerified), TlsExclusive);
        assert_eq!(stronger(TlsVerified, TlsVerified), TlsVerified);
    }
}
