use carepost_gateway::outbound::{TrustStore, VerificationMethod};
use carepost_gateway::testpeer::{TestCa, self_signed};
use carepost_gateway::tls_check::check;

use crate::support::{DOMAIN, Harness, MX, peer};

#[tokio::test]
async fn tls_check_reports_a_verified_server_as_deliverable() {
    let ca = TestCa::new("carepost test CA");
    let peer = peer(Some(ca.issue(&[MX]))).await;
    let deliverer = Harness::new(TrustStore::with_extra_ca_pem(ca.pem().as_bytes()).unwrap())
        .deliverer(peer.address());

    let report = check(&deliverer, DOMAIN).await;

    let host = &report.hosts[0];
    assert_eq!(host.starttls, Some(true));
    assert!(host.tls.is_some());
    assert_eq!(
        host.certificate.as_ref().unwrap().method,
        VerificationMethod::WebPki
    );
    assert!(host.deliverable);
    let text = report.render();
    assert!(
        text.contains("STARTTLS: offered") && text.contains("Verified-TLS delivery possible: yes"),
        "{text}"
    );
    assert!(peer.received().is_empty(), "a check never sends mail");
}

#[tokio::test]
async fn tls_check_reports_the_tls_version_and_why_a_certificate_fails() {
    let peer = peer(Some(self_signed(&[MX]))).await;
    let deliverer = Harness::new(TrustStore::webpki_roots().unwrap()).deliverer(peer.address());

    let report = check(&deliverer, DOMAIN).await;

    let host = &report.hosts[0];
    assert!(
        host.tls.is_some(),
        "the probe completes the handshake to report the version"
    );
    assert!(!host.certificate.as_ref().unwrap().verified);
    assert!(!host.deliverable);
    assert!(report.render().contains("INVALID"));
}

#[tokio::test]
async fn tls_check_reports_a_missing_starttls() {
    let peer = peer(None).await;
    let deliverer = Harness::new(TrustStore::webpki_roots().unwrap()).deliverer(peer.address());

    let report = check(&deliverer, DOMAIN).await;

    assert_eq!(report.hosts[0].starttls, Some(false));
    assert!(report.render().contains("STARTTLS: NOT offered"));
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["hosts"][0]["deliverable"], false);
}
