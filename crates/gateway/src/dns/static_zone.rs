use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use super::records::{DnssecStatus, MxAnswer, MxRecord, TlsaAnswer, TlsaRecord, TxtAnswer};
use super::{DnsError, DnsFuture, DnsLookup, normalize_domain};

/// An in-memory [`DnsLookup`] for tests and air-gapped setups.
///
/// Names that were never given any record answer NXDOMAIN; a name that has some record
/// but not the requested type answers "no records". Each record set carries the DNSSEC
/// status it should report, so tests can exercise Secure, Insecure and Bogus answers.
#[derive(Debug, Clone, Default)]
pub struct StaticDns {
    zone: Arc<RwLock<Zone>>,
}

#[derive(Debug, Default)]
struct Zone {
    mx: HashMap<String, (Vec<MxRecord>, DnssecStatus)>,
    ip: HashMap<String, Vec<IpAddr>>,
    tlsa: HashMap<String, (Vec<TlsaRecord>, DnssecStatus)>,
    txt: HashMap<String, (Vec<Vec<u8>>, DnssecStatus)>,
    failing: HashMap<String, DnsError>,
}

impl Zone {
    fn exists(&self, name: &str) -> bool {
        self.mx.contains_key(name)
            || self.ip.contains_key(name)
            || self.tlsa.contains_key(name)
            || self.txt.contains_key(name)
    }

    fn check(&self, name: &str) -> Result<(), DnsError> {
        if let Some(error) = self.failing.get(name) {
            return Err(error.clone());
        }
        if !self.exists(name) {
            return Err(DnsError::NoSuchDomain { name: name.into() });
        }
        Ok(())
    }
}

impl StaticDns {
    /// An empty zone: every name answers NXDOMAIN.
    pub fn new() -> StaticDns {
        StaticDns::default()
    }

    /// Sets the MX records of `domain`.
    pub fn set_mx(&self, domain: &str, records: &[(u16, &str)], dnssec: DnssecStatus) {
        let records = records
            .iter()
            .map(|(preference, exchange)| MxRecord {
                preference: *preference,
                exchange: normalize_domain(exchange),
            })
            .collect();
        self.write()
            .mx
            .insert(normalize_domain(domain), (records, dnssec));
    }

    /// Sets the addresses of `host`.
    pub fn set_ip(&self, host: &str, addresses: &[IpAddr]) {
        self.write()
            .ip
            .insert(normalize_domain(host), addresses.to_vec());
    }

    /// Sets the TLSA records at `name` (e.g. `_25._tcp.mx.example`).
    pub fn set_tlsa(&self, name: &str, records: Vec<TlsaRecord>, dnssec: DnssecStatus) {
        self.write()
            .tlsa
            .insert(normalize_domain(name), (records, dnssec));
    }

    /// Sets the TXT records at `name`.
    pub fn set_txt(&self, name: &str, records: &[&str], dnssec: DnssecStatus) {
        let records = records.iter().map(|r| r.as_bytes().to_vec()).collect();
        self.write()
            .txt
            .insert(normalize_domain(name), (records, dnssec));
    }

    /// Makes every lookup of `name` fail with `error`.
    pub fn set_failure(&self, name: &str, error: DnsError) {
        self.write().failing.insert(normalize_domain(name), error);
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Zone> {
        self.zone
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Zone> {
        self.zone
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl DnsLookup for StaticDns {
    fn mx<'a>(&'a self, domain: &'a str) -> DnsFuture<'a, MxAnswer> {
        let name = normalize_domain(domain);
        let zone = self.read();
        let result = zone.check(&name).map(|()| {
            let (records, dnssec) = zone
                .mx
                .get(&name)
                .cloned()
                .unwrap_or((Vec::new(), DnssecStatus::Insecure));
            MxAnswer {
                records,
                dnssec,
                ttl: Duration::from_secs(300),
            }
        });
        Box::pin(std::future::ready(result))
    }

    fn ip<'a>(&'a self, host: &'a str) -> DnsFuture<'a, Vec<IpAddr>> {
        let name = normalize_domain(host);
        let zone = self.read();
        let result = zone
            .check(&name)
            .map(|()| zone.ip.get(&name).cloned().unwrap_or_default());
        Box::pin(std::future::ready(result))
    }

    fn tlsa<'a>(&'a self, name: &'a str) -> DnsFuture<'a, TlsaAnswer> {
        let name = normalize_domain(name);
        let zone = self.read();
        let result = match zone.check(&name) {
            Err(DnsError::NoSuchDomain { .. }) => Ok(TlsaAnswer {
                records: Vec::new(),
                dnssec: DnssecStatus::Insecure,
            }),
            Err(e) => Err(e),
            Ok(()) => {
                let (records, dnssec) = zone
                    .tlsa
                    .get(&name)
                    .cloned()
                    .unwrap_or((Vec::new(), DnssecStatus::Insecure));
                Ok(TlsaAnswer { records, dnssec })
            }
        };
        Box::pin(std::future::ready(result))
    }

    fn txt<'a>(&'a self, name: &'a str) -> DnsFuture<'a, TxtAnswer> {
        let name = normalize_domain(name);
        let zone = self.read();
        let result = match zone.check(&name) {
            Err(DnsError::NoSuchDomain { .. }) => Ok(TxtAnswer {
                records: Vec::new(),
                dnssec: DnssecStatus::Insecure,
            }),
            Err(e) => Err(e),
            Ok(()) => {
                let (records, dnssec) = zone
                    .txt
                    .get(&name)
                    .cloned()
                    .unwrap_or((Vec::new(), DnssecStatus::Insecure));
                Ok(TxtAnswer { records, dnssec })
            }
        };
        Box::pin(std::future::ready(result))
    }
}
