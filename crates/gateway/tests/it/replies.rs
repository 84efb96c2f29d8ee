use carepost_gateway::outbound::{FailureReason, RecipientOutcome, SmtpStage, TrustStore};
use carepost_gateway::testpeer::{PeerConfig, PeerStage, Rejection, TestCa, TestPeer};

use crate::support::{DOMAIN, Harness, MX, deliver_one, message, only_outcome};

async fn rejecting(stage: PeerStage, code: u16, text: &str) -> (TestPeer, Harness) {
    let ca = TestCa::new("carepost test CA");
    let mut config = PeerConfig::new(Some(ca.issue(&[MX])));
    config.rejection = Some(Rejection {
        stage,
        code,
        text: text.into(),
    });
    let peer = TestPeer::start(config).await.unwrap();
    (
        peer,
        Harness::new(TrustStore::with_extra_ca_pem(ca.pem().as_bytes()).unwrap()),
    )
}

#[tokio::test]
async fn a_4xx_reply_is_a_temporary_failure_with_the_server_text() {
    let (peer, harness) = rejecting(PeerStage::Rcpt, 451, "4.3.0 Try again later").await;
    let report = deliver_one(&harness, &peer).await;
    let RecipientOutcome::TemporaryFailure {
        reason: FailureReason::Rejected { stage, reply },
    } = only_outcome(&report)
    else {
        panic!("{report:?}");
    };
    assert_eq!(*stage, SmtpStage::RcptTo);
    assert_eq!(
        (
            reply.code,
            reply.enhanced_code.as_deref(),
            reply.text.as_str()
        ),
        (451, Some("4.3.0"), "Try again later")
    );
    assert!(peer.received().is_empty());
}

#[tokio::test]
async fn a_5xx_reply_is_a_permanent_failure_with_the_enhanced_code() {
    for stage in [
        PeerStage::Mail,
        PeerStage::Rcpt,
        PeerStage::Data,
        PeerStage::DataEnd,
    ] {
        let (peer, harness) = rejecting(stage, 554, "5.7.1 Rejected by policy").await;
        let report = deliver_one(&harness, &peer).await;
        let RecipientOutcome::PermanentFailure {
            reason: FailureReason::Rejected { reply, .. },
        } = only_outcome(&report)
        else {
            panic!("{stage:?}: {report:?}");
        };
        assert_eq!(reply.enhanced_code.as_deref(), Some("5.7.1"));
        assert!(peer.received().is_empty());
    }
}

#[tokio::test]
async fn a_4xx_after_the_data_is_a_temporary_failure() {
    let (peer, harness) = rejecting(PeerStage::DataEnd, 452, "4.3.1 Insufficient storage").await;
    let report = deliver_one(&harness, &peer).await;
    assert!(matches!(
        only_outcome(&report),
        RecipientOutcome::TemporaryFailure { .. }
    ));
}

#[tokio::test]
async fn each_recipient_gets_its_own_outcome() {
    let ca = TestCa::new("carepost test CA");
    let mut config = PeerConfig::new(Some(ca.issue(&[MX])));
    config.unknown_recipients = vec!["gone@dest.test".into()];
    let peer = TestPeer::start(config).await.unwrap();
    let harness = Harness::new(TrustStore::with_extra_ca_pem(ca.pem().as_bytes()).unwrap());
    let deliverer = harness.deliverer(peer.address());

    let reports = deliverer
        .deliver(
            DOMAIN,
            &[message("m", &["pat@dest.test", "gone@dest.test"])],
        )
        .await;

    let recipients = &reports[0].recipients;
    assert!(recipients[0].outcome.is_delivered());
    assert!(
        matches!(&recipients[1].outcome, RecipientOutcome::PermanentFailure { reason: FailureReason::Rejected { reply, .. } } if reply.code == 550)
    );
    assert_eq!(peer.received()[0].recipients, ["pat@dest.test"]);
}

#[tokio::test]
async fn a_connection_closed_mid_data_is_temporary_and_not_delivered() {
    let ca = TestCa::new("carepost test CA");
    let mut config = PeerConfig::new(Some(ca.issue(&[MX])));
    config.close_mid_data = true;
    let peer = TestPeer::start(config).await.unwrap();
    let harness = Harness::new(TrustStore::with_extra_ca_pem(ca.pem().as_bytes()).unwrap());

    let report = deliver_one(&harness, &peer).await;

    let outcome = only_outcome(&report);
    assert!(
        matches!(
            outcome,
            RecipientOutcome::TemporaryFailure {
                reason: FailureReason::Network { .. }
            }
        ),
        "{outcome:?}"
    );
    assert!(!outcome.is_delivered());
    assert!(peer.received().is_empty());
}
