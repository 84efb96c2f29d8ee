//! The quality targets over the labeled synthetic corpus shipped in `eval/`.

use carepost_policy::PhiType;
use carepost_policy::eval::evaluate_bundled;

#[test]
fn meets_the_quality_targets_on_the_bundled_corpus() {
    let report = evaluate_bundled(&super::support::scanner()).unwrap();
    let table = report.table();
    assert_eq!(report.unreadable_lines, 0);
    assert!(report.messages.recall() >= 0.99, "{table}");
    assert!(report.messages.precision() >= 0.95, "{table}");
    for phi_type in PhiType::ALL
        .into_iter()
        .filter(|t| t.is_validated_identifier())
    {
        let counts = report.per_type.get(&phi_type).copied().unwrap_or_default();
        assert!(
            counts.true_positives > 0,
            "no {phi_type} in the corpus\n{table}"
        );
        assert!(counts.f1() >= 0.95, "{phi_type} F1 below 0.95\n{table}");
    }
    assert!(report.overall().f1() >= 0.95, "{table}");
}

#[test]
fn renders_a_table_with_every_type_found() {
    let report = evaluate_bundled(&super::support::scanner()).unwrap();
    let table = report.table();
    for phi_type in PhiType::ALL {
        assert!(
            table.contains(phi_type.as_str()),
            "{phi_type} missing\n{table}"
        );
    }
    assert!(table.contains("message-level contains_phi"));
}
