//! Policy rules: defaults, loading from TOML and JSON, conditions and actions.

use carepost_policy::PhiType;
use carepost_policy::decision::assess_findings;
use carepost_policy::rules::{
    Action, Conditions, Disposition, MessageFacts, Protection, Rule, RuleSet, Source,
};

use super::support::scanner;

fn facts_for(subject: &str) -> MessageFacts {
    MessageFacts {
        subject_findings: scanner().scan_text(subject).findings,
        ..MessageFacts::default()
    }
}

fn assessment(text: &str) -> carepost_policy::Assessment {
    let result = scanner().scan_text(text);
    assess_findings(&result.findings, &result.signals)
}

#[test]
fn requires_verified_tls_for_every_message_by_default() {
    let decision = RuleSet::default().evaluate(&assessment("hello"), &MessageFacts::default());
    assert_eq!(decision.disposition, Disposition::Deliver);
    assert_eq!(decision.protection, Protection::TlsVerified);
    assert!(decision.rules_fired.is_empty());
}

#[test]
fn blocks_phi_in_the_subject_by_default_with_an_explanation() {
    let decision = RuleSet::default().evaluate(
        &assessment("SSN 524-71-3302"),
        &facts_for("SSN 524-71-3302"),
    );
    assert_eq!(decision.disposition, Disposition::Block);
    assert_eq!(decision.rules_fired, ["phi-in-subject"]);
    assert!(decision.reason.unwrap().contains("lock screens"));
}

#[test]
fn delivers_a_generic_subject_on_a_phi_message() {
    let decision =
        RuleSet::default().evaluate(&assessment("SSN 524-71-3302"), &facts_for("Your statement"));
    assert_eq!(decision.disposition, Disposition::Deliver);
}

#[test]
fn quarantines_messages_with_uninspectable_attachments_by_default() {
    let facts = MessageFacts {
        uninspectable_attachments: 1,
        ..MessageFacts::default()
    };
    let decision = RuleSet::default().evaluate(&assessment("hello"), &facts);
    assert_eq!(decision.disposition, Disposition::Quarantine);
    assert_eq!(decision.rules_fired, ["uninspectable-attachments"]);
}

#[test]
fn loads_rules_from_toml_and_applies_the_strongest_protection() {
    let toml_text = r#"
        baseline = "tls-verified"

        [[rules]]
        name = "phi-to-outside-domains"
        when = { contains_phi = true, recipient_domains = ["gmail.com"] }
        then = [{ action = "require-protection", protection = "portal" }, { action = "notify-compliance" }]

        [[rules]]
        name = "campaigns-strip-tracking"
        when = { sources = ["campaign"] }
        then = [{ action = "strip-tracking" }]

        [[rules]]
        name = "many-ssns"
        when = { phi_types = ["SSN"], min_findings = 2 }
        then = [{ action = "quarantine", reason = "bulk SSNs" }]
    "#;
    let rules: RuleSet = toml::from_str(toml_text).unwrap();
    rules.validate().unwrap();
    let facts = MessageFacts {
        source: Source::Campaign,
        recipients: vec!["maria@GMAIL.com".into()],
        ..MessageFacts::default()
    };
    let decision = rules.evaluate(&assessment("SSN 524-71-3302"), &facts);
    assert_eq!(decision.protection, Protection::Portal);
    assert!(decision.notify_compliance && decision.strip_tracking);
    assert_eq!(decision.disposition, Disposition::Deliver);
    assert_eq!(
        decision.rules_fired,
        ["phi-to-outside-domains", "campaigns-strip-tracking"]
    );

    let two = rules.evaluate(
        &assessment("SSN 524-71-3302 and SSN 524-71-3303"),
        &MessageFacts::default(),
    );
    assert_eq!(two.disposition, Disposition::Quarantine);
    assert_eq!(two.phi_counts.get(&PhiType::Ssn), Some(&2));
}

#[test]
fn loads_rules_from_json_and_round_trips_them() {
    let rules = RuleSet {
        baseline: Protection::TlsExclusive,
        rules: vec![Rule {
            name: "pdf-from-billing".into(),
            when: Conditions {
                sender_groups: vec!["billing".into()],
                attachment_types: vec![".pdf".into()],
                ..Conditions::default()
            },
            then: vec![Action::RequireProtection {
                protection: Protection::Smime,
            }],
        }],
    };
    let json = serde_json::to_string(&rules).unwrap();
    assert_eq!(serde_json::from_str::<RuleSet>(&json).unwrap(), rules);
    let facts = MessageFacts {
        sender_groups: vec!["billing".into()],
        attachment_types: vec!["application/pdf".into(), ".pdf".into()],
        ..MessageFacts::default()
    };
    assert_eq!(
        rules.evaluate(&assessment("x"), &facts).protection,
        Protection::Smime
    );
}

#[test]
fn refuses_unknown_fields_actions_and_protections() {
    assert!(toml::from_str::<RuleSet>("[[rules]]\nname = \"a\"\nthen = []\nextra = 1").is_err());
    assert!(
        serde_json::from_str::<RuleSet>(
            r#"{"rules":[{"name":"a","then":[{"action":"explode"}]}]}"#
        )
        .is_err()
    );
    assert!(serde_json::from_str::<RuleSet>(r#"{"baseline":"carrier-pigeon"}"#).is_err());
    assert!(
        serde_json::from_str::<RuleSet>(
            r#"{"rules":[{"name":"a","when":{"phi_types":["SSNX"]},"then":[]}]}"#
        )
        .is_err()
    );
}

#[test]
fn refuses_rule_sets_with_duplicate_names_or_no_actions() {
    let rule = Rule {
        name: "a".into(),
        when: Conditions::default(),
        then: vec![Action::StripTracking],
    };
    let duplicate = RuleSet {
        rules: vec![rule.clone(), rule.clone()],
        ..RuleSet::default()
    };
    assert!(duplicate.validate().is_err());
    let empty = RuleSet {
        rules: vec![Rule {
            then: vec![],
            ..rule
        }],
        ..RuleSet::default()
    };
    assert!(empty.validate().is_err());
}

#[test]
fn records_types_and_counts_never_values_in_decisions() {
    let decision = RuleSet::default().evaluate(
        &assessment("SSN 524-71-3302"),
        &facts_for("SSN 524-71-3302"),
    );
    let debug = format!("{decision:?} {:?}", facts_for("SSN 524-71-3302"));
    let json = serde_json::to_string(&decision).unwrap();
    assert!(!debug.contains("524") && !json.contains("524"));
}
