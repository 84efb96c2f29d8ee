use std::net::SocketAddr;
use std::sync::Arc;

use carepost_gateway::dns::{DnsLookup, MxResolver, Routes, StaticDns};
use carepost_gateway::mta_sts::{MtaStsCache, MtaStsResolver};
use carepost_gateway::outbound::{
    ClientOptions, Deliverer, MessageReport, OutboundMessage, Protection, RecipientOutcome,
    TrustStore,
};
use carepost_gateway::testpeer::{PeerConfig, ServerIdentity, TestPeer};

pub const DOMAIN: &str = "dest.test";
pub const MX: &str = "mx.dest.test";

pub struct Harness {
    pub dns: StaticDns,
    pub cache: Arc<MtaStsCache>,
    pub trust: TrustStore,
}

impl Harness {
    pub fn new(trust: TrustStore) -> Harness {
        Harness {
            dns: StaticDns::new(),
            cache: Arc::new(MtaStsCache::new()),
            trust,
        }
    }

    pub fn deliverer(&self, peer: SocketAddr) -> Deliverer {
        let routes = Routes::new().with(DOMAIN, MX, peer);
        let dns: Arc<dyn DnsLookup> = Arc::new(self.dns.clone());
        let mx = MxResolver::new(dns.clone(), routes);
        let sts = Arc::new(MtaStsResolver::new(dns, None, self.cache.clone()));
        Deliverer::new(
            mx,
            sts,
            self.trust.clone(),
            ClientOptions::new("carepost.test"),
        )
    }
}

pub async fn peer(identity: Option<ServerIdentity>) -> TestPeer {
    TestPeer::start(PeerConfig::new(identity)).await.unwrap()
}

pub fn message(id: &str, recipients: &[&str]) -> OutboundMessage {
    let content = format!(
        "From: clinic@sender.test\r\nTo: {}\r\nSubject: Lab results\r\n\r\nYour results are ready.\r\n.dot line\r\n",
        recipients.join(", ")
    );
    OutboundMessage {
        id: id.into(),
        from: "clinic@sender.test".into(),
        recipients: recipients.iter().map(|r| (*r).to_owned()).collect(),
        content: Arc::from(content.into_bytes()),
        protection: Protection::TlsVerified,
    }
}

pub async fn deliver_one(harness: &Harness, peer: &TestPeer) -> MessageReport {
    let deliverer = harness.deliverer(peer.address());
    let mut reports = deliverer
        .deliver(DOMAIN, &[message("m1", &["pat@dest.test"])])
        .await;
    assert_eq!(reports.len(), 1);
    reports.remove(0)
}

pub fn only_outcome(report: &MessageReport) -> &RecipientOutcome {
    assert_eq!(report.recipients.len(), 1);
    &report.recipients[0].outcome
}
