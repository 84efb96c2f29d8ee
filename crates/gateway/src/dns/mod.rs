//! DNS lookups for outbound delivery.
//!
//! [`DnsLookup`] is the seam between the delivery engine and the network: [`HickoryDns`]
//! asks real resolvers (validating DNSSEC), [`StaticDns`] answers from memory so tests need
//! no network. [`MxResolver`] turns a recipient domain into an ordered list of mail
//! exchangers, honouring null MX (RFC 7505), implicit MX (RFC 5321 §5.1) and the
//! operator's [`Routes`].

mod error;
mod hickory;
mod mx;
mod records;
mod routes;
mod static_zone;

use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;

pub use error::DnsError;
pub use hickory::HickoryDns;
pub use mx::{MailExchanger, MxError, MxResolver, MxSet};
pub use records::{DnssecStatus, MxAnswer, MxRecord, TlsaAnswer, TlsaRecord, TxtAnswer};
pub use routes::{Route, Routes};
pub use static_zone::StaticDns;

/// A boxed future returned by [`DnsLookup`] methods (boxed so the trait stays object safe).
pub type DnsFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, DnsError>> + Send + 'a>>;

/// The DNS queries the delivery engine needs.
///
/// "No records" is not an error: it is an answer with an empty record list. Only a name
/// that does not exist at all (NXDOMAIN) or a failed lookup is an error.
pub trait DnsLookup: Send + Sync {
    /// MX records of `domain`.
    fn mx<'a>(&'a self, domain: &'a str) -> DnsFuture<'a, MxAnswer>;

    /// IPv4 and IPv6 addresses of `host`.
    fn ip<'a>(&'a self, host: &'a str) -> DnsFuture<'a, Vec<IpAddr>>;

    /// TLSA records at `name` (for SMTP: `_25._tcp.<mx host>`).
    fn tlsa<'a>(&'a self, name: &'a str) -> DnsFuture<'a, TlsaAnswer>;

    /// TXT records at `name`; each record's character-strings are concatenated.
    fn txt<'a>(&'a self, name: &'a str) -> DnsFuture<'a, TxtAnswer>;
}

/// The owner name of the TLSA records for SMTP to `mx_host` (RFC 7672 §2.2.3).
pub fn smtp_tlsa_name(mx_host: &str) -> String {
    format!("_25._tcp.{}", mx_host.trim_end_matches('.'))
}

/// Lower-cases a domain name and removes one trailing dot, for use as a map key.
pub fn normalize_domain(domain: &str) -> String {
    domain.trim().trim_end_matches('.').to_ascii_lowercase()
}
