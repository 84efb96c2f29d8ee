use carepost_gateway::dane::record_for;
use carepost_gateway::dns::{DnssecStatus, TlsaRecord, smtp_tlsa_name};
use carepost_gateway::outbound::{
    FailureReason, RecipientOutcome, TlsFailure, TrustStore, VerificationMethod,
};
use carepost_gateway::testpeer::{TestCa, self_signed};

use crate::support::{Harness, MX, deliver_one, only_outcome, peer};

fn webpki_only() -> Harness {
    Harness::new(TrustStore::webpki_roots().unwrap())
}

fn tls_failure(outcome: &RecipientOutcome) -> TlsFailure {
    match outcome {
        RecipientOutcome::TemporaryFailure {
            reason: FailureReason::TlsRequirementUnmet { failure, .. },
        } => failure.clone(),
        other => panic!("expected a deferral for unmet TLS, got {other:?}"),
    }
}

#[tokio::test]
async fn dane_ee_matching_a_self_signed_certificate_is_delivered() {
    let identity = self_signed(&["unrelated.name"]);
    let harness = webpki_only();
    let record = record_for(3, 1, 1, identity.leaf()).unwrap();
    harness
        .dns
        .set_tlsa(&smtp_tlsa_name(MX), vec![record], DnssecStatus::Secure);
    let peer = peer(Some(identity)).await;

    let report = deliver_one(&harness, &peer).await;

    assert!(only_outcome(&report).is_delivered(), "{report:?}");
    let evidence = &report.recipients[0].attempts[0];
    assert_eq!(
        evidence.certificate.as_ref().unwrap().method,
        VerificationMethod::DaneEe
    );
    assert!(evidence.dane.as_ref().unwrap().applied);
    assert_eq!(peer.received().len(), 1);
}

#[tokio::test]
async fn dane_ta_designating_the_issuing_ca_is_delivered() {
    let ca = TestCa::new("DANE TA");
    let harness = webpki_only();
    let record = record_for(2, 0, 1, ca.certificate()).unwrap();
    harness
        .dns
        .set_tlsa(&smtp_tlsa_name(MX), vec![record], DnssecStatus::Secure);
    let peer = peer(Some(ca.issue(&[MX]))).await;

    let report = deliver_one(&harness, &peer).await;

    assert!(only_outcome(&report).is_delivered(), "{report:?}");
    let method = report.recipients[0].attempts[0]
        .certificate
        .as_ref()
        .unwrap()
        .method;
    assert_eq!(method, VerificationMethod::DaneTa);
}

#[tokio::test]
async fn dane_ta_still_requires_the_mx_name() {
    let ca = TestCa::new("DANE TA");
    let harness = webpki_only();
    harness.dns.set_tlsa(
        &smtp_tlsa_name(MX),
        vec![record_for(2, 1, 1, ca.certificate()).unwrap()],
        DnssecStatus::Secure,
    );
    let peer = peer(Some(ca.issue(&["other.test"]))).await;

    let report = deliver_one(&harness, &peer).await;

    assert!(matches!(
        tls_failure(only_outcome(&report)),
        TlsFailure::CertificateRefused { .. }
    ));
    assert!(peer.received().is_empty());
}

#[tokio::test]
async fn a_dane_mismatch_is_refused_even_when_webpki_would_accept() {
    let ca = TestCa::new("carepost test CA");
    let harness = Harness::new(TrustStore::with_extra_ca_pem(ca.pem().as_bytes()).unwrap());
    let wrong = TlsaRecord {
        usage: 3,
        selector: 1,
        matching: 1,
        data: vec![7; 32],
    };
    harness
        .dns
        .set_tlsa(&smtp_tlsa_name(MX), vec![wrong], DnssecStatus::Secure);
    let peer = peer(Some(ca.issue(&[MX]))).await;

    let report = deliver_one(&harness, &peer).await;

    let TlsFailure::CertificateRefused { verification } = tls_failure(only_outcome(&report)) else {
        panic!("{report:?}");
    };
    assert_eq!(verification.method, VerificationMethod::Dane);
    assert!(peer.received().is_empty());
}

#[tokio::test]
async fn bogus_tlsa_records_stop_delivery_before_connecting() {
    let identity = self_signed(&[MX]);
    let harness = webpki_only();
    harness.dns.set_tlsa(
        &smtp_tlsa_name(MX),
        vec![record_for(3, 1, 1, identity.leaf()).unwrap()],
        DnssecStatus::Bogus,
    );
    let peer = peer(Some(identity)).await;

    let report = deliver_one(&harness, &peer).await;

    assert!(matches!(
        tls_failure(only_outcome(&report)),
        TlsFailure::DnssecBogus { .. }
    ));
    assert_eq!(peer.connections(), 0);
}

#[tokio::test]
async fn insecure_tlsa_records_are_ignored_and_webpki_decides() {
    let identity = self_signed(&[MX]);
    let harness = webpki_only();
    harness.dns.set_tlsa(
        &smtp_tlsa_name(MX),
        vec![record_for(3, 1, 1, identity.leaf()).unwrap()],
        DnssecStatus::Insecure,
    );
    let peer = peer(Some(identity)).await;

    let report = deliver_one(&harness, &peer).await;

    let TlsFailure::CertificateRefused { verification } = tls_failure(only_outcome(&report)) else {
        panic!("{report:?}");
    };
    assert_eq!(verification.method, VerificationMethod::WebPki);
}

#[tokio::test]
async fn only_pkix_usages_means_webpki_decides() {
    let ca = TestCa::new("carepost test CA");
    let harness = Harness::new(TrustStore::with_extra_ca_pem(ca.pem().as_bytes()).unwrap());
    let identity = ca.issue(&[MX]);
    harness.dns.set_tlsa(
        &smtp_tlsa_name(MX),
        vec![record_for(1, 1, 1, identity.leaf()).unwrap()],
        DnssecStatus::Secure,
    );
    let peer = peer(Some(identity)).await;

    let report = deliver_one(&harness, &peer).await;

    assert!(only_outcome(&report).is_delivered());
    let evidence = &report.recipients[0].attempts[0];
    assert_eq!(
        evidence.certificate.as_ref().unwrap().method,
        VerificationMethod::WebPki
    );
    assert!(!evidence.dane.as_ref().unwrap().applied);
}
