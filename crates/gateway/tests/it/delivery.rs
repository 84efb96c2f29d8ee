use carepost_gateway::outbound::{
    Disposition, FailureReason, Protection, RecipientOutcome, TlsFailure, TrustStore,
    VerificationMethod,
};
use carepost_gateway::testpeer::{PeerConfig, TestCa, TestPeer, self_signed};

use crate::support::{DOMAIN, Harness, MX, deliver_one, message, only_outcome, peer};

fn trusting(ca: &TestCa) -> TrustStore {
    TrustStore::with_extra_ca_pem(ca.pem().as_bytes()).unwrap()
}

fn tls_failure(outcome: &RecipientOutcome) -> &TlsFailure {
    match outcome {
        RecipientOutcome::TemporaryFailure {
            reason: FailureReason::TlsRequirementUnmet { failure, .. },
        } => failure,
        other => panic!("expected a deferral for unmet TLS, got {other:?}"),
    }
}

#[tokio::test]
async fn a_certificate_from_a_trusted_private_ca_is_delivered_with_evidence() {
    let ca = TestCa::new("carepost test CA");
    let peer = peer(Some(ca.issue(&[MX]))).await;
    let report = deliver_one(&Harness::new(trusting(&ca)), &peer).await;

    let outcome = only_outcome(&report);
    assert!(outcome.is_delivered(), "{outcome:?}");
    let received = peer.received();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].recipients, ["pat@dest.test"]);
    assert!(received[0].tls_version.is_some());
    assert!(
        received[0].data.ends_with(b".dot line\r\n"),
        "dot-stuffing is undone by the peer"
    );

    let evidence = &report.recipients[0].attempts[0];
    assert_eq!(evidence.mx_host, MX);
    assert_eq!(evidence.ip, Some(peer.address().ip()));
    let tls = evidence.tls.as_ref().unwrap();
    assert_eq!(Some(tls.version.clone()), received[0].tls_version);
    assert!(!tls.cipher_suite.is_empty());
    let certificate = evidence.certificate.as_ref().unwrap();
    assert_eq!(certificate.method, VerificationMethod::WebPki);
    assert!(certificate.verified);
    let json = serde_json::to_string(&report).unwrap();
    assert!(json.contains("\"web_pki\"") && json.contains("250"));
    assert!(
        !json.contains("Your results"),
        "evidence never holds message content"
    );
}

#[tokio::test]
async fn a_server_without_starttls_receives_nothing_and_the_message_is_deferred() {
    let peer = peer(None).await;
    let report = deliver_one(&Harness::new(TrustStore::webpki_roots().unwrap()), &peer).await;

    let outcome = only_outcome(&report);
    assert_eq!(tls_failure(outcome), &TlsFailure::StartTlsNotOffered);
    assert_eq!(
        outcome.disposition(Protection::TlsVerified),
        Disposition::Retry
    );
    assert_eq!(
        outcome.disposition(Protection::TlsExclusive),
        Disposition::Bounce
    );
    assert!(peer.received().is_empty());
    assert_eq!(
        peer.plaintext_transactions(),
        0,
        "no MAIL/RCPT/DATA ever went out in plaintext"
    );
}

#[tokio::test]
async fn starttls_announced_but_refused_sends_nothing() {
    let mut config = PeerConfig::new(None);
    config.announce_starttls_without_identity = true;
    let peer = TestPeer::start(config).await.unwrap();
    let report = deliver_one(&Harness::new(TrustStore::webpki_roots().unwrap()), &peer).await;

    assert!(
        matches!(tls_failure(only_outcome(&report)), TlsFailure::StartTlsRejected { reply } if reply.code == 454)
    );
    assert_eq!(peer.plaintext_transactions(), 0);
}

async fn assert_certificate_refused(harness: Harness, peer: TestPeer) -> String {
    let report = deliver_one(&harness, &peer).await;
    let failure = tls_failure(only_outcome(&report)).clone();
    let TlsFailure::CertificateRefused { verification } = failure else {
        panic!("expected a refused certificate, got {failure:?}");
    };
    assert!(!verification.verified);
    assert!(
        peer.received().is_empty(),
        "nothing is sent after a failed certificate check"
    );
    assert_eq!(peer.plaintext_transactions(), 0);
    let evidence = &report.recipients[0].attempts[0];
    assert_eq!(evidence.certificate.as_ref(), Some(&verification));
    verification.error.unwrap_or_default()
}

#[tokio::test]
async fn a_certificate_for_another_name_is_refused() {
    let ca = TestCa::new("carepost test CA");
    let peer = peer(Some(ca.issue(&["other.test"]))).await;
    let error = assert_certificate_refused(Harness::new(trusting(&ca)), peer).await;
    assert!(error.to_lowercase().contains("name"), "{error}");
}

#[tokio::test]
async fn a_self_signed_certificate_is_refused() {
    let ca = TestCa::new("carepost test CA");
    let peer = peer(Some(self_signed(&[MX]))).await;
    assert_certificate_refused(Harness::new(trusting(&ca)), peer).await;
}

#[tokio::test]
async fn an_expired_certificate_is_refused() {
    let ca = TestCa::new("carepost test CA");
    let peer = peer(Some(ca.issue_expired(&[MX]))).await;
    let error = assert_certificate_refused(Harness::new(trusting(&ca)), peer).await;
    assert!(error.to_lowercase().contains("expired"), "{error}");
}

#[tokio::test]
async fn a_private_ca_is_not_trusted_unless_configured() {
    let ca = TestCa::new("carepost test CA");
    let peer = peer(Some(ca.issue(&[MX]))).await;
    assert_certificate_refused(Harness::new(TrustStore::webpki_roots().unwrap()), peer).await;
}

#[tokio::test]
async fn one_connection_carries_several_messages() {
    let ca = TestCa::new("carepost test CA");
    for pipelining in [true, false] {
        let mut config = PeerConfig::new(Some(ca.issue(&[MX])));
        config.pipelining = pipelining;
        let peer = TestPeer::start(config).await.unwrap();
        let deliverer = Harness::new(trusting(&ca)).deliverer(peer.address());
        let batch = [
            message("a", &["a@dest.test"]),
            message("b", &["b@dest.test", "c@dest.test"]),
            message("c", &["d@dest.test"]),
        ];

        let reports = deliverer.deliver(DOMAIN, &batch).await;

        assert!(
            reports
                .iter()
                .flat_map(|r| &r.recipients)
                .all(|r| r.outcome.is_delivered())
        );
        assert_eq!(peer.received().len(), 3);
        assert_eq!(
            peer.received()[1].recipients,
            ["b@dest.test", "c@dest.test"]
        );
        assert_eq!(peer.connections(), 1, "pipelining={pipelining}");
    }
}

#[tokio::test]
async fn a_slow_server_still_receives_the_message() {
    let ca = TestCa::new("carepost test CA");
    let mut config = PeerConfig::new(Some(ca.issue(&[MX])));
    config.delay = std::time::Duration::from_millis(20);
    let peer = TestPeer::start(config).await.unwrap();
    let report = deliver_one(&Harness::new(trusting(&ca)), &peer).await;
    assert!(only_outcome(&report).is_delivered());
}

#[tokio::test]
async fn a_null_mx_domain_fails_permanently_without_connecting() {
    let harness = Harness::new(TrustStore::webpki_roots().unwrap());
    harness.dns.set_mx(
        "nomail.test",
        &[(0, ".")],
        carepost_gateway::dns::DnssecStatus::Insecure,
    );
    let peer = peer(None).await;
    let deliverer = harness.deliverer(peer.address());
    let reports = deliverer
        .deliver("nomail.test", &[message("m", &["x@nomail.test"])])
        .await;
    let outcome = &reports[0].recipients[0].outcome;
    assert!(
        matches!(
            outcome,
            RecipientOutcome::PermanentFailure {
                reason: FailureReason::Dns { .. }
            }
        ),
        "{outcome:?}"
    );
    assert_eq!(peer.connections(), 0);
}

#[tokio::test]
async fn a_deliverer_built_from_config_routes_and_trusts_the_ca_file() {
    use std::sync::Arc;

    use carepost_gateway::dns::{Routes, StaticDns};
    use carepost_gateway::outbound::{Deliverer, DeliveryConfig};

    let ca = TestCa::new("carepost test CA");
    let peer = crate::support::peer(Some(ca.issue(&[MX]))).await;
    let dir = tempfile::tempdir().unwrap();
    let ca_file = dir.path().join("ca.pem");
    std::fs::write(&ca_file, ca.pem()).unwrap();

    let mut config = DeliveryConfig::new("carepost.test");
    config.routes = Routes::new().with(DOMAIN, MX, peer.address());
    config.trust_ca_file = Some(ca_file);
    let deliverer = Deliverer::with_dns(&config, Arc::new(StaticDns::new())).unwrap();

    let reports = deliverer
        .deliver(DOMAIN, &[message("m", &["pat@dest.test"])])
        .await;
    assert!(
        reports[0].recipients[0].outcome.is_delivered(),
        "{reports:?}"
    );

    config.trust_ca_file = Some(dir.path().join("missing.pem"));
    let error = Deliverer::with_dns(&config, Arc::new(StaticDns::new()))
        .err()
        .unwrap();
    assert!(error.to_string().contains("missing.pem"), "{error}");
}
