//! The queue runner: sandbox capture, verified-TLS delivery with evidence, deferral and
//! bounces under each protection, and notices to the sender.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use carepost_core::{AccessContext, Actor, DeliveryState, MessageSource};
use carepost_delivery::{
    Intake, IntakeSettings, QueueRunner, RunnerSettings, SendRequest, Transport,
};
use carepost_gateway::dns::{DnsLookup, MxResolver, Routes, StaticDns};
use carepost_gateway::mta_sts::{MtaStsCache, MtaStsResolver};
use carepost_gateway::outbound::{ClientOptions, Deliverer, TrustStore};
use carepost_gateway::testpeer::{PeerConfig, TestCa, TestPeer};
use carepost_store::testing::{TestDb, key_provider};
use carepost_store::{MessageStatus, OrgScope, Store, both_backends};
use tokio::sync::Notify;

fn sender() -> AccessContext {
    AccessContext {
        actor: Actor::ApiKey("0123456789abcdef".into()),
        source: "127.0.0.1".parse().ok(),
    }
}

async fn setup(db: &TestDb) -> (Store, OrgScope) {
    let store = db.open(key_provider(1, &[1])).await;
    let org = store
        .create_organization("clinic", &AccessContext::system("test"))
        .await
        .unwrap();
    let scope = store.org(org.id).await.unwrap();
    (store, scope)
}

fn request(to: &str, protection: Option<&str>) -> SendRequest {
    serde_json::from_value(serde_json::json!({
        "from": "clinic@sender.test",
        "to": [to],
        "subject": "Your lab results",
        "text": "Dear Maria, your A1C result is 6.1%.",
        "protection": protection,
    }))
    .unwrap()
}

fn deliverer(ca: &TestCa, peer: SocketAddr) -> Arc<Deliverer> {
    let routes = Routes::new().with("dest.test", "mx.dest.test", peer);
    let dns: Arc<dyn DnsLookup> = Arc::new(StaticDns::new());
    let mx = MxResolver::new(dns.clone(), routes);
    let sts = Arc::new(MtaStsResolver::new(dns, None, Arc::new(MtaStsCache::new())));
    let trust = TrustStore::with_extra_ca_pem(ca.pem().as_bytes()).unwrap();
    Arc::new(Deliverer::new(
        mx,
        sts,
        trust,
        ClientOptions::new("carepost.test"),
    ))
}

fn runner(store: &Store, transport: Transport, fallback: Duration) -> QueueRunner {
    let mut settings = RunnerSettings::new("node-test", "carepost.test");
    settings.tls_fallback_after = fallback;
    QueueRunner::new(store.clone(), transport, settings, Arc::new(Notify::new()))
}

fn intake() -> Intake {
    static POLICY: std::sync::OnceLock<Arc<carepost_delivery::ProtectionPolicy>> =
        std::sync::OnceLock::new();
    let policy = POLICY
        .get_or_init(|| Arc::new(carepost_delivery::ProtectionPolicy::with_defaults().unwrap()));
    Intake::new(
        IntakeSettings::default(),
        Arc::new(Notify::new()),
        policy.clone(),
    )
}

async fn status(org: &OrgScope, id: carepost_core::MessageId) -> MessageStatus {
    org.message_status(&sender(), id).await.unwrap().unwrap()
}

both_backends!(
    the_sandbox_captures_every_message_and_nothing_leaves,
    |db| async move {
        let (store, org) = setup(&db).await;
        let id = intake()
            .submit_api(&org, &sender(), &request("maria@dest.test", None), None)
            .await
            .unwrap()
            .0
            .id();
        assert_eq!(
            runner(&store, Transport::Sandbox, Duration::from_secs(3600))
                .run_once()
                .await
                .unwrap(),
            1
        );
        let s = status(&org, id).await;
        assert_eq!(s.recipients[0].state, DeliveryState::Delivered);
        assert!(
            s.recipients[0].events[0]
                .evidence
                .expose()
                .contains("\"transport\":\"sandbox\"")
        );
        let captured = org.sandbox_messages(&sender(), 10, None).await.unwrap();
        assert_eq!(captured.len(), 1);
        assert_eq!(captured[0].message_id, id);
        assert!(String::from_utf8_lossy(captured[0].raw.expose()).contains("your A1C result"));
        assert_eq!(
            runner(&store, Transport::Sandbox, Duration::from_secs(3600))
                .run_once()
                .await
                .unwrap(),
            0
        );
    }
);

both_backends!(
    direct_delivery_over_verified_tls_records_the_evidence,
    |db| async move {
        let (store, org) = setup(&db).await;
        let ca = TestCa::new("carepost test CA");
        let peer = TestPeer::start(PeerConfig::new(Some(ca.issue(&["mx.dest.test"]))))
            .await
            .unwrap();
        let id = intake()
            .submit_api(&org, &sender(), &request("maria@dest.test", None), None)
            .await
            .unwrap()
            .0
            .id();
        let transport = Transport::Direct(deliverer(&ca, peer.address()));
        assert_eq!(
            runner(&store, transport, Duration::from_secs(3600))
                .run_once()
                .await
                .unwrap(),
            1
        );
        let received = peer.received();
        assert_eq!(received.len(), 1);
        assert_eq!(received[0].recipients, vec!["maria@dest.test".to_owned()]);
        assert!(received[0].tls_version.is_some());
        let s = status(&org, id).await;
        assert_eq!(s.recipients[0].state, DeliveryState::Delivered);
        let evidence: serde_json::Value =
            serde_json::from_str(s.recipients[0].events[0].evidence.expose()).unwrap();
        let attempt = &evidence["attempts"][0];
        assert_eq!(attempt["mx_host"], "mx.dest.test");
        assert!(
            attempt["tls"]["version"]
                .as_str()
                .unwrap()
                .starts_with("TLSv1.")
        );
        assert_eq!(attempt["certificate"]["verified"], true);
        assert_eq!(attempt["certificate"]["method"], "web_pki");
        // The audit record of the attempt carries the facts but neither address nor content.
        let audit = org.audit_records(0, 100).await.unwrap();
        let delivery = audit
            .iter()
            .find(|r| r.action == "message.delivery")
            .unwrap();
        let detail = delivery.detail.clone().unwrap();
        assert!(
            detail.contains("mx.dest.test") && detail.contains("web_pki"),
            "{detail}"
        );
        assert!(
            !detail.contains("maria") && !detail.contains("A1C"),
            "{detail}"
        );
    }
);

both_backends!(
    without_starttls_tls_verified_mail_is_deferred_and_never_sent,
    |db| async move {
        let (store, org) = setup(&db).await;
        let ca = TestCa::new("carepost test CA");
        let peer = TestPeer::start(PeerConfig::new(None)).await.unwrap();
        let id = intake()
            .submit_api(&org, &sender(), &request("maria@dest.test", None), None)
            .await
            .unwrap()
            .0
            .id();
        let transport = Transport::Direct(deliverer(&ca, peer.address()));
        runner(&store, transport, Duration::from_secs(3600))
            .run_once()
            .await
            .unwrap();
        assert!(peer.received().is_empty());
        assert_eq!(peer.plaintext_transactions(), 0);
        let s = status(&org, id).await;
        assert_eq!(s.recipients[0].state, DeliveryState::Deferred);
        assert!(s.recipients[0].next_attempt_at.unwrap() > chrono::Utc::now());
        assert!(
            s.recipients[0].events[0]
                .evidence
                .expose()
                .contains("start_tls_not_offered")
        );
    }
);

both_backends!(
    tls_verified_mail_goes_to_the_fallback_after_its_wait_and_the_sender_is_told,
    |db| async move {
        let (store, org) = setup(&db).await;
        let ca = TestCa::new("carepost test CA");
        let peer = TestPeer::start(PeerConfig::new(None)).await.unwrap();
        let id = intake()
            .submit_api(&org, &sender(), &request("maria@dest.test", None), None)
            .await
            .unwrap()
            .0
            .id();
        // A fallback wait of zero: the first failed attempt already hands the message over.
        let transport = Transport::Direct(deliverer(&ca, peer.address()));
        let r = runner(&store, transport, Duration::ZERO);
        r.run_once().await.unwrap();
        let s = status(&org, id).await;
        assert_eq!(s.recipients[0].state, DeliveryState::Bounced);
        assert_notice_queued(&org, "5.7.10").await;
        assert!(peer.received().is_empty());
    }
);

both_backends!(
    tls_exclusive_mail_bounces_at_once_when_the_certificate_fails,
    |db| async move {
        let (store, org) = setup(&db).await;
        let ca = TestCa::new("carepost test CA");
        let other = TestCa::new("someone else's CA");
        let peer = TestPeer::start(PeerConfig::new(Some(other.issue(&["mx.dest.test"]))))
            .await
            .unwrap();
        let id = intake()
            .submit_api(
                &org,
                &sender(),
                &request("maria@dest.test", Some("tls-exclusive")),
                None,
            )
            .await
            .unwrap()
            .0
            .id();
        let transport = Transport::Direct(deliverer(&ca, peer.address()));
        runner(&store, transport, Duration::from_secs(3600))
            .run_once()
            .await
            .unwrap();
        assert!(peer.received().is_empty());
        let s = status(&org, id).await;
        assert_eq!(s.protection, carepost_core::Protection::TlsExclusive);
        assert_eq!(s.recipients[0].state, DeliveryState::Bounced);
        assert!(
            s.recipients[0].events[0]
                .evidence
                .expose()
                .contains("certificate_refused")
        );
        assert_notice_queued(&org, "5.7.10").await;
    }
);

both_backends!(
    a_permanent_rejection_bounces_with_the_servers_reply,
    |db| async move {
        let (store, org) = setup(&db).await;
        let ca = TestCa::new("carepost test CA");
        let mut config = PeerConfig::new(Some(ca.issue(&["mx.dest.test"])));
        config.unknown_recipients = vec!["nobody@dest.test".into()];
        let peer = TestPeer::start(config).await.unwrap();
        let id = intake()
            .submit_api(&org, &sender(), &request("nobody@dest.test", None), None)
            .await
            .unwrap()
            .0
            .id();
        let transport = Transport::Direct(deliverer(&ca, peer.address()));
        runner(&store, transport, Duration::from_secs(3600))
            .run_once()
            .await
            .unwrap();
        let s = status(&org, id).await;
        assert_eq!(s.recipients[0].state, DeliveryState::Bounced);
        assert_notice_queued(&org, "5.1.1").await;
    }
);

/// The notice to clinic@sender.test was accepted (as a message carepost itself sends,
/// with an empty return path so it can never bounce back) and names the status. The
/// round that bounced the message may already have tried the notice too, so it is found
/// through its audit record.
async fn assert_notice_queued(org: &OrgScope, status_code: &str) {
    let audit = org.audit_records(0, 1000).await.unwrap();
    let notices: Vec<_> = audit
        .iter()
        .filter(|r| r.action == "message.accept" && r.actor == Actor::system("delivery"))
        .collect();
    assert_eq!(notices.len(), 1, "exactly one notice");
    let id = notices[0].object.id.parse().unwrap();
    let notice = org.queued_message(id).await.unwrap().unwrap();
    assert_eq!(notice.source, MessageSource::System);
    assert_eq!(notice.envelope.mail_from.expose(), "");
    assert_eq!(notice.envelope.recipients[0].expose(), "clinic@sender.test");
    let text = String::from_utf8_lossy(notice.content.expose()).into_owned();
    assert!(text.contains(&format!("Status: {status_code}")), "{text}");
    assert!(text.contains("Subject: Undelivered mail returned to sender"));
}

both_backends!(
    messages_from_a_domain_with_a_dkim_key_leave_signed_and_others_unsigned,
    |db| async move {
        use carepost_gateway::dkim::{DkimAlgorithm, generate};
        let (store, org) = setup(&db).await;
        let key = generate(DkimAlgorithm::Rsa2048, "sender.test", "s1").unwrap();
        org.add_dkim_key(
            &AccessContext::system("test"),
            carepost_store::NewDkimKey {
                domain: "sender.test".into(),
                selector: "s1".into(),
                algorithm: DkimAlgorithm::Rsa2048.as_str().into(),
                private_key: zeroize::Zeroizing::new(key.private_key.pkcs8_der().to_vec()),
                public_key: key.public_key.clone(),
            },
        )
        .await
        .unwrap();
        let signed = intake()
            .submit_api(&org, &sender(), &request("maria@dest.test", None), None)
            .await
            .unwrap()
            .0
            .id();
        let other: SendRequest = serde_json::from_value(serde_json::json!({
            "from": "desk@unsigned.test",
            "to": ["maria@dest.test"],
            "subject": "Hello",
            "text": "No key for this domain.",
        }))
        .unwrap();
        let unsigned = intake()
            .submit_api(&org, &sender(), &other, None)
            .await
            .unwrap()
            .0
            .id();
        runner(&store, Transport::Sandbox, Duration::from_secs(3600))
            .run_once()
            .await
            .unwrap();
        let captured = org.sandbox_messages(&sender(), 10, None).await.unwrap();
        let raw = |id| {
            let m = captured.iter().find(|c| c.message_id == id).unwrap();
            String::from_utf8_lossy(m.raw.expose()).into_owned()
        };
        let s = raw(signed);
        assert!(s.starts_with("DKIM-Signature: "), "{s}");
        assert!(s.contains("d=sender.test") && s.contains("s=s1"), "{s}");
        assert!(!raw(unsigned).contains("DKIM-Signature"));
        // The stored message stays as it was accepted; signing happens on the way out.
        let queued = org.queued_message(signed).await.unwrap().unwrap();
        assert!(!String::from_utf8_lossy(queued.content.expose()).contains("DKIM-Signature"));
    }
);

both_backends!(
    a_sender_is_told_once_that_a_deferred_message_is_delayed,
    |db| async move {
        use carepost_gateway::testpeer::{PeerStage, Rejection};
        let (store, org) = setup(&db).await;
        let ca = TestCa::new("carepost test CA");
        let mut config = PeerConfig::new(Some(ca.issue(&["mx.dest.test"])));
        config.rejection = Some(Rejection {
            stage: PeerStage::Rcpt,
            code: 451,
            text: "4.2.1 mailbox busy, try later".into(),
        });
        let peer = TestPeer::start(config).await.unwrap();
        let id = intake()
            .submit_api(&org, &sender(), &request("maria@dest.test", None), None)
            .await
            .unwrap()
            .0
            .id();
        let mut settings = RunnerSettings::new("node-test", "carepost.test");
        settings.delay_notice_after = Duration::ZERO;
        let transport = Transport::Direct(deliverer(&ca, peer.address()));
        let r = QueueRunner::new(store.clone(), transport, settings, Arc::new(Notify::new()));
        r.run_once().await.unwrap();
        assert_eq!(
            status(&org, id).await.recipients[0].state,
            DeliveryState::Deferred
        );
        // A second deferral (made due again by hand) finds the notice already queued.
        sqlx_due_now(&db, id).await;
        r.run_once().await.unwrap();
        assert_eq!(status(&org, id).await.recipients[0].attempts, 2);

        let n = delay_notice(&org, id)
            .await
            .expect("a delay notice was queued");
        assert!(n.contains("Delivery delayed"), "{n}");
        assert!(
            n.contains("Action: delayed") && n.contains("Status: 4.2.1"),
            "{n}"
        );
        assert!(n.contains("Will-Retry-Until:"), "{n}");
    }
);

/// Makes every recipient of `id` due now (stands in for time passing).
async fn sqlx_due_now(db: &TestDb, id: carepost_core::MessageId) {
    db.raw(&format!(
        "UPDATE message_recipients SET next_attempt_at = 0, claimed_by = NULL WHERE message_id = {}",
        db.uuid_literal(id)
    ))
    .await;
}

/// The delay notice queued about `id`, found by its idempotency key (accepting the key
/// again returns the notice that holds it and stores nothing).
async fn delay_notice(org: &OrgScope, id: carepost_core::MessageId) -> Option<String> {
    use carepost_core::{Phi, Protection};
    // Keys are scoped to their submitter: notices are submitted by the delivery engine.
    let probe = carepost_store::NewMessage {
        source: MessageSource::System,
        submitter: Actor::system("delivery"),
        protection: Protection::TlsVerified,
        requiretls: false,
        idempotency_key: Some(format!("dsn-delay:{id}")),
        tags: Vec::new(),
        envelope: carepost_store::Envelope {
            mail_from: Phi::new(String::new()),
            recipients: vec![Phi::new("probe@sender.test".into())],
        },
        content: Phi::new(b"Subject: probe\r\n\r\nprobe\r\n".to_vec()),
        max_age: Duration::from_secs(60),
        policy: None,
        hold: None,
    };
    match org
        .accept_message(&AccessContext::system("test"), probe)
        .await
        .unwrap()
    {
        carepost_store::Accepted::Duplicate(notice) => {
            let m = org.queued_message(notice).await.unwrap().unwrap();
            Some(String::from_utf8_lossy(m.content.expose()).into_owned())
        }
        carepost_store::Accepted::New(_) => None,
    }
}

both_backends!(
    an_address_that_bounced_as_unknown_is_suppressed_until_removed,
    |db| async move {
        use carepost_gateway::testpeer::{PeerStage, Rejection};
        let (store, org) = setup(&db).await;
        let ca = TestCa::new("carepost test CA");
        let mut config = PeerConfig::new(Some(ca.issue(&["mx.dest.test"])));
        config.rejection = Some(Rejection {
            stage: PeerStage::Rcpt,
            code: 550,
            text: "5.1.1 no such user".into(),
        });
        let peer = TestPeer::start(config).await.unwrap();
        let transport = Transport::Direct(deliverer(&ca, peer.address()));
        let r = runner(&store, transport, Duration::from_secs(3600));
        let send = || async {
            intake()
                .submit_api(&org, &sender(), &request("Gone@Dest.test", None), None)
                .await
                .unwrap()
                .0
                .id()
        };
        let first = send().await;
        r.run_once().await.unwrap();
        assert_eq!(
            status(&org, first).await.recipients[0].state,
            DeliveryState::Bounced
        );
        // (The notice to the sender, whose domain does not exist here, is listed too.)
        let listed = org.suppressions(&sender(), 10).await.unwrap();
        let gone = listed
            .iter()
            .find(|s| s.address.expose() == "gone@dest.test")
            .expect("the unknown address is suppressed, lower-cased");
        assert_eq!(gone.status, "5.1.1");
        assert_eq!(gone.message_id, Some(first));
        let connections = peer.connections();

        // The next message to the address is not attempted; its sender is told why.
        let second = send().await;
        r.run_once().await.unwrap();
        let s = status(&org, second).await;
        assert_eq!(s.recipients[0].state, DeliveryState::Bounced);
        assert!(
            s.recipients[0].events[0]
                .evidence
                .expose()
                .contains("suppressed")
        );
        assert_eq!(
            peer.connections(),
            connections,
            "no connection was made for it"
        );

        // Removed from the list, the address is tried again.
        assert!(org.unsuppress(&sender(), "gone@dest.test").await.unwrap());
        let third = send().await;
        r.run_once().await.unwrap();
        assert!(peer.connections() > connections);
        assert_eq!(
            status(&org, third).await.recipients[0].state,
            DeliveryState::Bounced
        );
    }
);
