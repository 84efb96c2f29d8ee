//! Building a [`Deliverer`] from configuration in one call.

use std::path::PathBuf;
use std::sync::Arc;

use thiserror::Error;

use super::connection::ClientOptions;
use super::deliver::Deliverer;
use super::tls::{TlsSetupError, TrustStore};
use super::wire::Timeouts;
use crate::dns::{DnsError, DnsLookup, HickoryDns, MxResolver, Routes};
use crate::mta_sts::{FetchConfig, FetchError, MtaStsCache, MtaStsFetcher, MtaStsResolver};

/// The delivery settings the engine needs (from `[delivery]` in the config).
#[derive(Debug, Clone)]
pub struct DeliveryConfig {
    /// Name sent with EHLO: this server's public host name.
    pub ehlo_name: String,
    /// `[delivery.routes]`.
    pub routes: Routes,
    /// `delivery.trust_ca_file`: extra CAs trusted for outbound TLS and MTA-STS fetches.
    pub trust_ca_file: Option<PathBuf>,
    /// SMTP time limits.
    pub timeouts: Timeouts,
    /// MTA-STS policy fetch settings.
    pub mta_sts_fetch: FetchConfig,
    /// Smarthost mode: every domain without its own route goes to this relay.
    pub relay: Option<crate::dns::Route>,
    /// Credentials for the relay (AUTH PLAIN after verified TLS).
    pub auth: Option<super::connection::SmtpAuth>,
}

impl DeliveryConfig {
    /// Defaults: no routes, WebPKI roots only, default time limits.
    pub fn new(ehlo_name: impl Into<String>) -> DeliveryConfig {
        DeliveryConfig {
            ehlo_name: ehlo_name.into(),
            routes: Routes::new(),
            trust_ca_file: None,
            timeouts: Timeouts::default(),
            mta_sts_fetch: FetchConfig::default(),
            relay: None,
            auth: None,
        }
    }
}

/// Why the delivery engine could not be built.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum SetupError {
    /// The system resolver configuration is unusable.
    #[error(transparent)]
    Dns(#[from] DnsError),
    /// The trust configuration is unusable.
    #[error(transparent)]
    Tls(#[from] TlsSetupError),
    /// The MTA-STS HTTPS client could not be built.
    #[error(transparent)]
    MtaSts(#[from] FetchError),
}

impl Deliverer {
    /// Builds the engine over the system's DNS resolvers (DNSSEC-validating).
    pub fn from_config(config: &DeliveryConfig) -> Result<Deliverer, SetupError> {
        let dns: Arc<dyn DnsLookup> = Arc::new(HickoryDns::from_system_config()?);
        Deliverer::with_dns(config, dns)
    }

    /// Builds the engine over any [`DnsLookup`] (tests: `StaticDns`).
    pub fn with_dns(
        config: &DeliveryConfig,
        dns: Arc<dyn DnsLookup>,
    ) -> Result<Deliverer, SetupError> {
        let trust = TrustStore::from_config(config.trust_ca_file.as_deref())?;
        let fetcher = MtaStsFetcher::new(trust.roots(), config.mta_sts_fetch.clone())?;
        let mta_sts = MtaStsResolver::new(dns.clone(), Some(fetcher), Arc::new(MtaStsCache::new()));
        let mut mx = MxResolver::new(dns, config.routes.clone());
        if let Some(relay) = &config.relay {
            mx = mx.with_relay(relay.clone());
        }
        let options = ClientOptions {
            ehlo_name: config.ehlo_name.clone(),
            timeouts: config.timeouts,
            auth: config.auth.clone(),
        };
        Ok(Deliverer::new(mx, Arc::new(mta_sts), trust, options))
    }
}
