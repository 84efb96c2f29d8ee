use std::time::SystemTime;

use carepost_gateway::dns::DnssecStatus;
use carepost_gateway::mta_sts::{CachedPolicy, StsMode, StsPolicy};
use carepost_gateway::outbound::{
    FailureReason, RecipientOutcome, TlsFailure, TrustStore, VerificationMethod,
};
use carepost_gateway::testpeer::TestCa;

use crate::support::{DOMAIN, Harness, MX, deliver_one, only_outcome, peer};

fn with_policy(harness: &Harness, mode: StsMode, mx: &str) {
    harness.dns.set_txt(
        &format!("_mta-sts.{DOMAIN}"),
        &["v=STSv1; id=20261203"],
        DnssecStatus::Insecure,
    );
    let policy = StsPolicy {
        mode,
        mx: vec![mx.into()],
        max_age: 86_400,
    };
    harness.cache.insert(
        DOMAIN,
        CachedPolicy {
            id: "20261203".into(),
            policy,
            fetched_at: SystemTime::now(),
        },
    );
}

#[tokio::test]
async fn mta_sts_enforce_refuses_an_mx_the_policy_does_not_list() {
    let ca = TestCa::new("carepost test CA");
    let harness = Harness::new(TrustStore::with_extra_ca_pem(ca.pem().as_bytes()).unwrap());
    with_policy(&harness, StsMode::Enforce, "*.elsewhere.test");
    let peer = peer(Some(ca.issue(&[MX]))).await;

    let report = deliver_one(&harness, &peer).await;

    let outcome = only_outcome(&report);
    let RecipientOutcome::TemporaryFailure {
        reason: FailureReason::TlsRequirementUnmet { failure, .. },
    } = outcome
    else {
        panic!("{outcome:?}");
    };
    assert!(
        matches!(failure, TlsFailure::MtaStsMxNotListed { policy_id, .. } if policy_id == "20261203")
    );
    assert_eq!(
        peer.connections(),
        0,
        "no connection to an MX outside the policy"
    );
    assert_eq!(
        report.recipients[0].attempts[0]
            .mta_sts
            .as_ref()
            .unwrap()
            .mode,
        StsMode::Enforce
    );
}

#[tokio::test]
async fn mta_sts_enforce_with_a_matching_mx_delivers_and_says_so() {
    let ca = TestCa::new("carepost test CA");
    let harness = Harness::new(TrustStore::with_extra_ca_pem(ca.pem().as_bytes()).unwrap());
    with_policy(&harness, StsMode::Enforce, "*.dest.test");
    let peer = peer(Some(ca.issue(&[MX]))).await;

    let report = deliver_one(&harness, &peer).await;

    assert!(only_outcome(&report).is_delivered(), "{report:?}");
    let method = report.recipients[0].attempts[0]
        .certificate
        .as_ref()
        .unwrap()
        .method;
    assert_eq!(method, VerificationMethod::MtaStsWebPki);
}

#[tokio::test]
async fn mta_sts_testing_mode_does_not_lower_certificate_checks() {
    let harness = Harness::new(TrustStore::webpki_roots().unwrap());
    with_policy(&harness, StsMode::Testing, "*.elsewhere.test");
    let peer = peer(Some(carepost_gateway::testpeer::self_signed(&[MX]))).await;

    let report = deliver_one(&harness, &peer).await;

    assert!(!only_outcome(&report).is_delivered());
    assert!(peer.received().is_empty());
}

mod fetch {
    use std::collections::HashMap;
    use std::net::SocketAddr;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use carepost_gateway::dns::{DnsLookup, DnssecStatus, StaticDns};
    use carepost_gateway::mta_sts::{
        FetchConfig, FetchError, MtaStsCache, MtaStsFetcher, MtaStsResolver, StsMode,
    };
    use carepost_gateway::outbound::TrustStore;
    use carepost_gateway::testpeer::{ServerIdentity, TestCa, self_signed};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    const POLICY: &str = "version: STSv1\r\nmode: enforce\r\nmx: *.dest.test\r\nmax_age: 86400\r\n";

    struct PolicyServer {
        address: SocketAddr,
        requests: Arc<AtomicUsize>,
    }

    async fn serve(
        identity: ServerIdentity,
        status: &'static str,
        content_type: &'static str,
        body: &'static str,
    ) -> PolicyServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let requests = Arc::new(AtomicUsize::new(0));
        let counter = requests.clone();
        let acceptor = tokio_rustls::TlsAcceptor::from(identity.server_config());
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let (acceptor, counter) = (acceptor.clone(), counter.clone());
                tokio::spawn(async move {
                    let Ok(mut tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let mut request = Vec::new();
                    let mut buf = [0u8; 1024];
                    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                        match tls.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => request.extend_from_slice(&buf[..n]),
                        }
                    }
                    counter.fetch_add(1, Ordering::SeqCst);
                    let response = format!(
                        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nLocation: https://elsewhere.test/\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = tls.write_all(response.as_bytes()).await;
                    let _ = tls.shutdown().await;
                });
            }
        });
        PolicyServer { address, requests }
    }

    fn fetcher(trust: &TrustStore, server: &PolicyServer) -> MtaStsFetcher {
        let config = FetchConfig {
            port: server.address.port(),
            resolve: HashMap::from([("mta-sts.dest.test".to_owned(), server.address)]),
            timeout: Duration::from_secs(30),
        };
        MtaStsFetcher::new(trust.roots(), config).unwrap()
    }

    fn trusting(ca: &TestCa) -> TrustStore {
        TrustStore::with_extra_ca_pem(ca.pem().as_bytes()).unwrap()
    }

    #[tokio::test]
    async fn a_policy_is_fetched_over_verified_https_and_then_cached_by_id() {
        let ca = TestCa::new("carepost test CA");
        let server = serve(
            ca.issue(&["mta-sts.dest.test"]),
            "200 OK",
            "text/plain; charset=utf-8",
            POLICY,
        )
        .await;
        let dns = StaticDns::new();
        dns.set_txt(
            "_mta-sts.dest.test",
            &["v=STSv1; id=one"],
            DnssecStatus::Insecure,
        );
        let dns: Arc<dyn DnsLookup> = Arc::new(dns);
        let resolver = MtaStsResolver::new(
            dns,
            Some(fetcher(&trusting(&ca), &server)),
            Arc::new(MtaStsCache::new()),
        );

        let policy = resolver.policy("dest.test").await.unwrap();
        let again = resolver.policy("dest.test").await.unwrap();

        assert_eq!(policy.mode, StsMode::Enforce);
        assert_eq!(
            (policy.id.as_str(), policy.mx.as_slice()),
            ("one", ["*.dest.test".to_owned()].as_slice())
        );
        assert_eq!(again, policy);
        assert_eq!(
            server.requests.load(Ordering::SeqCst),
            1,
            "an unchanged id is served from the cache"
        );
    }

    #[tokio::test]
    async fn a_policy_host_with_an_untrusted_certificate_is_refused() {
        let server = serve(
            self_signed(&["mta-sts.dest.test"]),
            "200 OK",
            "text/plain",
            POLICY,
        )
        .await;
        let error = fetcher(&TrustStore::webpki_roots().unwrap(), &server)
            .fetch("dest.test")
            .await
            .unwrap_err();
        assert!(matches!(error, FetchError::Transport { .. }), "{error}");
        assert_eq!(server.requests.load(Ordering::SeqCst), 0);
    }

    #[tokio::test]
    async fn redirects_and_wrong_media_types_are_refused() {
        let ca = TestCa::new("carepost test CA");
        let redirect = serve(
            ca.issue(&["mta-sts.dest.test"]),
            "302 Found",
            "text/plain",
            "",
        )
        .await;
        let error = fetcher(&trusting(&ca), &redirect)
            .fetch("dest.test")
            .await
            .unwrap_err();
        assert!(
            matches!(error, FetchError::Status { status: 302, .. }),
            "{error}"
        );

        let html = serve(
            ca.issue(&["mta-sts.dest.test"]),
            "200 OK",
            "text/html",
            POLICY,
        )
        .await;
        let error = fetcher(&trusting(&ca), &html)
            .fetch("dest.test")
            .await
            .unwrap_err();
        assert!(matches!(error, FetchError::ContentType { .. }), "{error}");
    }
}
