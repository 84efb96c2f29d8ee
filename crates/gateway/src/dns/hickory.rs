use std::net::IpAddr;
use std::time::{Duration, Instant};

use hickory_resolver::TokioResolver;
use hickory_resolver::net::NetError;
use hickory_resolver::proto::dnssec::Proof;
use hickory_resolver::proto::rr::{RData, Record, RecordType};

use super::records::{DnssecStatus, MxAnswer, MxRecord, TlsaAnswer, TlsaRecord, TxtAnswer};
use super::{DnsError, DnsFuture, DnsLookup};

/// [`DnsLookup`] backed by hickory-resolver, with DNSSEC validation and hickory's cache
/// (which honours record TTLs and negative-caching TTLs).
///
/// The upstream resolvers (from `/etc/resolv.conf`) must pass DNSSEC records through
/// (EDNS DO bit); otherwise every answer is `Indeterminate` and DANE never applies.
#[derive(Clone)]
pub struct HickoryDns {
    resolver: TokioResolver,
}

impl HickoryDns {
    /// Builds a validating resolver from the system configuration.
    pub fn from_system_config() -> Result<HickoryDns, DnsError> {
        let mut builder = TokioResolver::builder_tokio().map_err(|e| DnsError::Temporary {
            name: "/etc/resolv.conf".into(),
            detail: format!("cannot read the system resolver configuration: {e}"),
        })?;
        let options = builder.options_mut();
        options.validate = true;
        options.edns0 = true;
        options.cache_size = 4096;
        let resolver = builder.build().map_err(|e| DnsError::Temporary {
            name: "resolver".into(),
            detail: format!("cannot build the DNS resolver: {e}"),
        })?;
        Ok(HickoryDns { resolver })
    }

    /// Wraps an already configured hickory resolver (turn on `validate` for DANE).
    pub fn from_resolver(resolver: TokioResolver) -> HickoryDns {
        HickoryDns { resolver }
    }

    async fn records(&self, name: &str, kind: RecordType) -> Result<Answer, DnsError> {
        let fqdn = fully_qualified(name)?;
        match self.resolver.lookup(fqdn.as_str(), kind).await {
            Ok(lookup) => {
                let ttl = lookup
                    .valid_until()
                    .saturating_duration_since(Instant::now());
                Ok(Answer {
                    records: lookup.answers().to_vec(),
                    ttl,
                })
            }
            Err(e) if e.is_nx_domain() => Err(DnsError::NoSuchDomain { name: name.into() }),
            Err(e) if e.is_no_records_found() => Ok(Answer::empty()),
            Err(e) => Err(classify(name, &e)),
        }
    }
}

impl DnsLookup for HickoryDns {
    fn mx<'a>(&'a self, domain: &'a str) -> DnsFuture<'a, MxAnswer> {
        Box::pin(async move {
            let answer = self.records(domain, RecordType::MX).await?;
            let records = answer
                .of_type(|data| match data {
                    RData::MX(mx) => Some(MxRecord {
                        preference: mx.preference,
                        exchange: mx.exchange.to_ascii().trim_end_matches('.').to_owned(),
                    }),
                    _ => None,
                })
                .collect();
            Ok(MxAnswer {
                records,
                dnssec: answer.dnssec(),
                ttl: answer.ttl,
            })
        })
    }

    fn ip<'a>(&'a self, host: &'a str) -> DnsFuture<'a, Vec<IpAddr>> {
        Box::pin(async move {
            let fqdn = fully_qualified(host)?;
            match self.resolver.lookup_ip(fqdn.as_str()).await {
                Ok(lookup) => Ok(lookup.iter().collect()),
                Err(e) if e.is_nx_domain() => Err(DnsError::NoSuchDomain { name: host.into() }),
                Err(e) if e.is_no_records_found() => Ok(Vec::new()),
                Err(e) => Err(classify(host, &e)),
            }
        })
    }

    fn tlsa<'a>(&'a self, name: &'a str) -> DnsFuture<'a, TlsaAnswer> {
        Box::pin(async move {
            let answer = match self.records(name, RecordType::TLSA).await {
                Err(DnsError::NoSuchDomain { .. }) => Answer::empty(),
                other => other?,
            };
            let records = answer
                .of_type(|data| match data {
                    RData::TLSA(tlsa) => Some(TlsaRecord {
                        usage: u8::from(tlsa.cert_usage),
                        selector: u8::from(tlsa.selector),
                        matching: u8::from(tlsa.matching),
                        data: tlsa.cert_data.clone(),
                    }),
                    _ => None,
                })
                .collect();
            Ok(TlsaAnswer {
                records,
                dnssec: answer.dnssec(),
            })
        })
    }

    fn txt<'a>(&'a self, name: &'a str) -> DnsFuture<'a, TxtAnswer> {
        Box::pin(async move {
            let answer = match self.records(name, RecordType::TXT).await {
                Err(DnsError::NoSuchDomain { .. }) => Answer::empty(),
                other => other?,
            };
            let records = answer
                .of_type(|data| match data {
                    RData::TXT(txt) => Some(
                        txt.txt_data
                            .iter()
                            .flat_map(|s| s.iter())
                            .copied()
                            .collect(),
                    ),
                    _ => None,
                })
                .collect();
            Ok(TxtAnswer {
                records,
                dnssec: answer.dnssec(),
            })
        })
    }
}

struct Answer {
    records: Vec<Record>,
    ttl: Duration,
}

impl Answer {
    fn empty() -> Answer {
        Answer {
            records: Vec::new(),
            ttl: Duration::ZERO,
        }
    }

    fn of_type<'a, T>(
        &'a self,
        pick: impl Fn(&RData) -> Option<T> + 'a,
    ) -> impl Iterator<Item = T> + 'a {
        self.records
            .iter()
            .filter_map(move |record| pick(&record.data))
    }

    fn dnssec(&self) -> DnssecStatus {
        DnssecStatus::combine(self.records.iter().map(|record| match record.proof {
            Proof::Secure => DnssecStatus::Secure,
            Proof::Insecure => DnssecStatus::Insecure,
            Proof::Bogus => DnssecStatus::Bogus,
            Proof::Indeterminate => DnssecStatus::Indeterminate,
        }))
    }
}

fn fully_qualified(name: &str) -> Result<String, DnsError> {
    let trimmed = name.trim().trim_end_matches('.');
    if trimmed.is_empty() || trimmed.len() > 253 {
        return Err(DnsError::InvalidName { name: name.into() });
    }
    Ok(format!("{trimmed}."))
}

fn classify(name: &str, error: &NetError) -> DnsError {
    let detail = error.to_string();
    if detail.to_ascii_lowercase().contains("bogus") {
        return DnsError::Bogus { name: name.into() };
    }
    DnsError::Temporary {
        name: name.into(),
        detail,
    }
}
