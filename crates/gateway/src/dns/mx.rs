use std::net::SocketAddr;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::records::DnssecStatus;
use super::{DnsError, DnsLookup, Routes, normalize_domain};

/// At most this many MX hosts are tried for one domain.
const MAX_MX_HOSTS: usize = 10;

/// One mail exchanger of a destination domain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailExchanger {
    /// Host name, lower case, without trailing dot. Certificates are checked against it.
    pub name: String,
    /// MX preference (lower first).
    pub preference: u16,
    /// A fixed address from an operator route; `None` means "resolve `name`".
    pub routed_address: Option<SocketAddr>,
}

/// The mail exchangers of a domain, most preferred first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MxSet {
    /// The recipient domain.
    pub domain: String,
    /// Hosts ordered by preference (stable within equal preference).
    pub hosts: Vec<MailExchanger>,
    /// DNSSEC status of the MX answer. Operator routes count as `Secure`: they come from
    /// configuration, not from the network.
    pub dnssec: DnssecStatus,
    /// Whether the domain had no MX and its own name is used (RFC 5321 §5.1).
    pub implicit: bool,
    /// Whether the host is the operator's relay (smarthost) rather than the domain's own
    /// mail exchanger: the domain's MTA-STS policy then does not apply to it.
    #[serde(default)]
    pub relay: bool,
}

/// Why a domain's mail exchangers could not be determined.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum MxError {
    /// The domain publishes a null MX (RFC 7505): it accepts no mail. Permanent.
    #[error("{domain} publishes a null MX record: it does not accept email (RFC 7505)")]
    NullMx {
        /// The recipient domain.
        domain: String,
    },
    /// The MX answer failed DNSSEC validation. Temporary: never act on forged data.
    #[error("the MX records of {domain} failed DNSSEC validation; delivery is deferred")]
    Bogus {
        /// The recipient domain.
        domain: String,
    },
    /// The lookup failed.
    #[error(transparent)]
    Dns(#[from] DnsError),
}

impl MxError {
    /// Whether retrying later cannot help.
    pub fn is_permanent(&self) -> bool {
        match self {
            Self::NullMx { .. } => true,
            Self::Bogus { .. } => false,
            Self::Dns(e) => e.is_permanent(),
        }
    }
}

/// Resolves recipient domains to mail exchangers and addresses, applying [`Routes`] first.
#[derive(Clone)]
pub struct MxResolver {
    dns: Arc<dyn DnsLookup>,
    routes: Routes,
    relay: Option<super::Route>,
}

impl MxResolver {
    /// A resolver over `dns` with operator `routes` (use `Routes::new()` for none).
    pub fn new(dns: Arc<dyn DnsLookup>, routes: Routes) -> MxResolver {
        MxResolver {
            dns,
            routes,
            relay: None,
        }
    }

    /// Sends every domain without its own route to `relay` (smarthost mode); the
    /// certificate is checked against `relay.mx`.
    pub fn with_relay(mut self, relay: super::Route) -> MxResolver {
        self.relay = Some(super::Route {
            mx: normalize_domain(&relay.mx),
            address: relay.address,
        });
        self
    }

    /// The underlying DNS (for TLSA and TXT lookups).
    pub fn dns(&self) -> &Arc<dyn DnsLookup> {
        &self.dns
    }

    /// The mail exchangers of `domain`, most preferred first.
    pub async fn mail_exchangers(&self, domain: &str) -> Result<MxSet, MxError> {
        let domain = normalize_domain(domain);
        let routed = self
            .routes
            .get(&domain)
            .map(|r| (r, false))
            .or_else(|| self.relay.as_ref().map(|r| (r, true)));
        if let Some((route, relay)) = routed {
            let host = MailExchanger {
                name: route.mx.clone(),
                preference: 0,
                routed_address: Some(route.address),
            };
            return Ok(MxSet {
                domain,
                hosts: vec![host],
                dnssec: DnssecStatus::Secure,
                implicit: false,
                relay,
            });
        }

        let answer = self.dns.mx(&domain).await?;
        if answer.dnssec == DnssecStatus::Bogus {
            return Err(MxError::Bogus { domain });
        }
        if is_null_mx(&answer.records) {
            return Err(MxError::NullMx { domain });
        }
        if answer.records.is_empty() {
            let host = MailExchanger {
                name: domain.clone(),
                preference: 0,
                routed_address: None,
            };
            return Ok(MxSet {
                domain,
                hosts: vec![host],
                dnssec: answer.dnssec,
                implicit: true,
                relay: false,
            });
        }

        let mut records = answer.records;
        records.sort_by_key(|record| record.preference);
        let hosts = records
            .into_iter()
            .filter(|record| !record.exchange.is_empty())
            .take(MAX_MX_HOSTS)
            .map(|record| MailExchanger {
                name: normalize_domain(&record.exchange),
                preference: record.preference,
                routed_address: None,
            })
            .collect();
        Ok(MxSet {
            domain,
            hosts,
            dnssec: answer.dnssec,
            implicit: false,
            relay: false,
        })
    }

    /// The socket addresses (port 25, or the routed address) of one mail exchanger.
    pub async fn addresses(&self, host: &MailExchanger) -> Result<Vec<SocketAddr>, DnsError> {
        if let Some(address) = host.routed_address {
            return Ok(vec![address]);
        }
        let ips = self.dns.ip(&host.name).await?;
        Ok(ips.into_iter().map(|ip| SocketAddr::new(ip, 25)).collect())
    }
}

/// RFC 7505 §3: a single MX record whose exchange is the root name.
fn is_null_mx(records: &[super::MxRecord]) -> bool {
    matches!(records, [only] if only.exchange.is_empty() || only.exchange == ".")
}

#[cfg(test)]
mod tests {
    use std::net::{IpAddr, Ipv4Addr};

    use super::*;
    use crate::dns::StaticDns;

    fn resolver(dns: StaticDns) -> MxResolver {
        MxResolver::new(Arc::new(dns), Routes::new())
    }

    #[tokio::test]
    async fn mx_hosts_come_back_in_preference_order() {
        let dns = StaticDns::new();
        dns.set_mx(
            "example.org",
            &[(20, "b.example.org"), (10, "A.example.org.")],
            DnssecStatus::Insecure,
        );
        let set = resolver(dns).mail_exchangers("Example.ORG").await.unwrap();
        let names: Vec<_> = set.hosts.iter().map(|h| h.name.as_str()).collect();
        assert_eq!(names, ["a.example.org", "b.example.org"]);
        assert!(!set.implicit);
    }

    #[tokio::test]
    async fn null_mx_is_a_permanent_failure() {
        let dns = StaticDns::new();
        dns.set_mx("nomail.example", &[(0, ".")], DnssecStatus::Insecure);
        let error = resolver(dns)
            .mail_exchangers("nomail.example")
            .await
            .unwrap_err();
        assert!(matches!(error, MxError::NullMx { .. }));
        assert!(error.is_permanent());
    }

    #[tokio::test]
    async fn a_domain_without_mx_uses_its_own_address() {
        let dns = StaticDns::new();
        dns.set_ip("plain.example", &[IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1))]);
        let resolver = resolver(dns);
        let set = resolver.mail_exchangers("plain.example").await.unwrap();
        assert!(set.implicit);
        let addresses = resolver.addresses(&set.hosts[0]).await.unwrap();
        assert_eq!(addresses, ["192.0.2.1:25".parse().unwrap()]);
    }

    #[tokio::test]
    async fn a_missing_domain_is_permanent_and_bogus_mx_is_temporary() {
        let dns = StaticDns::new();
        dns.set_mx("forged.example", &[(10, "mx.evil")], DnssecStatus::Bogus);
        let resolver = resolver(dns);
        assert!(
            resolver
                .mail_exchangers("missing.example")
                .await
                .unwrap_err()
                .is_permanent()
        );
        let bogus = resolver
            .mail_exchangers("forged.example")
            .await
            .unwrap_err();
        assert!(matches!(bogus, MxError::Bogus { .. }) && !bogus.is_permanent());
    }

    #[tokio::test]
    async fn a_route_overrides_dns_and_keeps_the_mx_name() {
        let address: SocketAddr = "127.0.0.1:2626".parse().unwrap();
        let routes = Routes::new().with("dest.test", "MX.dest.test", address);
        let resolver = MxResolver::new(Arc::new(StaticDns::new()), routes);
        let set = resolver.mail_exchangers("DEST.test").await.unwrap();
        assert_eq!(set.hosts[0].name, "mx.dest.test");
        assert_eq!(resolver.addresses(&set.hosts[0]).await.unwrap(), [address]);
    }
}
