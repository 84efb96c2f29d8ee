//! `[delivery]` and `[smtp]`: how messages leave and how they come in.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Where outgoing mail goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryMode {
    /// Nothing leaves the machine: every message lands in the sandbox mailbox.
    Sandbox,
    /// MX delivery under verified TLS.
    Direct,
    /// Relay through one configured host (TLS and authentication required).
    Smarthost,
}

/// Where DNS answers come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DnsMode {
    /// The system's resolvers, validating DNSSEC.
    System,
    /// No DNS queries: only routed domains are deliverable (closed networks, tests).
    None,
}

/// One `[delivery.routes]` entry: send a domain's mail to `address` as if DNS had named
/// `mx` as its mail exchanger; certificates are still checked against `mx`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteConfig {
    /// The MX host name certificates must match.
    pub mx: String,
    /// Where to connect.
    pub address: SocketAddr,
}

/// `[delivery.smarthost]`: the relay every message goes through in `smarthost` mode.
/// TLS (STARTTLS, certificate verified for `host`) and AUTH PLAIN are always required.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SmarthostConfig {
    /// The relay's host name; its certificate must be valid for it.
    pub host: Option<String>,
    /// The submission port (STARTTLS).
    pub port: u16,
    /// Connect here instead of resolving `host` (private networks, tests).
    pub address: Option<SocketAddr>,
    /// The user name for AUTH.
    pub username: Option<String>,
    /// A file holding the password (one line). Or set `password`, e.g. from the
    /// environment as `CAREPOST_DELIVERY__SMARTHOST__PASSWORD`.
    pub password_file: Option<PathBuf>,
    /// The password itself (prefer `password_file` or the environment).
    pub password: Option<String>,
}

impl Default for SmarthostConfig {
    fn default() -> Self {
        Self {
            host: None,
            port: 587,
            address: None,
            username: None,
            password_file: None,
            password: None,
        }
    }
}

/// `[delivery]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DeliveryConfig {
    /// `sandbox` (default), `direct` or `smarthost`.
    pub mode: DeliveryMode,
    /// This server's public host name: EHLO, `Received:` and bounce notices.
    pub hostname: String,
    /// The name this node's queue claims carry (unset: the machine's host name). Nodes
    /// sharing a PostgreSQL database need distinct names.
    pub node_name: Option<String>,
    /// The protection every message needs unless policy raises it: `tls-verified` or
    /// `tls-exclusive`.
    pub default_protection: String,
    /// How long a message is tried before it expires and the sender is told.
    #[serde(with = "humantime_serde")]
    pub max_age: Duration,
    /// Wait after the first failed attempt; later waits double.
    #[serde(with = "humantime_serde")]
    pub retry_first: Duration,
    /// Longest wait between attempts.
    #[serde(with = "humantime_serde")]
    pub retry_max_interval: Duration,
    /// How long a `tls-verified` message waits for verified TLS before the fallback.
    #[serde(with = "humantime_serde")]
    pub tls_fallback_after: Duration,
    /// How long a message may stay undelivered before its sender is told, once, that it
    /// is delayed (`0s`: at its first deferral).
    #[serde(with = "humantime_serde")]
    pub delay_notice_after: Duration,
    /// Largest message accepted (API and SMTP), in bytes.
    pub max_message_bytes: usize,
    /// Messages delivered at the same time.
    pub concurrency: usize,
    /// Connections opened at once to one destination domain (each carries many messages).
    pub per_destination_connections: usize,
    /// Messages per second to one destination domain (0: unlimited).
    pub per_destination_rate: u32,
    /// PEM file of extra CAs trusted for outbound TLS (private PKI, tests).
    pub trust_ca_file: Option<PathBuf>,
    /// Where MX, TLSA and MTA-STS records come from.
    pub dns: DnsMode,
    /// Per-domain routes that replace DNS (tests, private networks).
    pub routes: BTreeMap<String, RouteConfig>,
    /// The relay for `smarthost` mode.
    pub smarthost: SmarthostConfig,
}

impl Default for DeliveryConfig {
    fn default() -> Self {
        Self {
            mode: DeliveryMode::Sandbox,
            hostname: "localhost".into(),
            node_name: None,
            default_protection: "tls-verified".into(),
            max_age: Duration::from_secs(5 * 24 * 3600),
            retry_first: Duration::from_secs(60),
            retry_max_interval: Duration::from_secs(2 * 3600),
            tls_fallback_after: Duration::from_secs(4 * 3600),
            delay_notice_after: Duration::from_secs(4 * 3600),
            max_message_bytes: 25 * 1024 * 1024,
            concurrency: 64,
            per_destination_connections: 8,
            per_destination_rate: 0,
            trust_ca_file: None,
            dns: DnsMode::System,
            routes: BTreeMap::new(),
            smarthost: SmarthostConfig::default(),
        }
    }
}

/// `[smtp]`: SMTP submission.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SmtpConfig {
    /// Whether to listen for SMTP submission at all.
    pub enabled: bool,
    /// STARTTLS submission (587-style).
    pub listen: SocketAddr,
    /// Implicit-TLS submission (465-style).
    pub tls_listen: SocketAddr,
    /// PEM certificate chain for both listeners; unset: a self-signed certificate is
    /// generated under `<data_dir>/smtp-tls/` on first start.
    pub tls_cert: Option<PathBuf>,
    /// PEM private key for `tls_cert`.
    pub tls_key: Option<PathBuf>,
    /// Most recipients per message.
    pub max_recipients: usize,
    /// Most connections at once from one IP address.
    pub max_connections_per_ip: usize,
    /// How long a connection may sit idle between commands.
    #[serde(with = "humantime_serde")]
    pub idle_timeout: Duration,
    /// Messages one credential may submit per minute (0: no limit).
    pub max_messages_per_minute_per_user: u32,
    /// Messages one client address may submit per minute (0: no limit).
    pub max_messages_per_minute_per_ip: u32,
}

impl Default for SmtpConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            listen: SocketAddr::from(([127, 0, 0, 1], 2587)),
            tls_listen: SocketAddr::from(([127, 0, 0, 1], 2465)),
            tls_cert: None,
            tls_key: None,
            max_recipients: 100,
            max_connections_per_ip: 20,
            idle_timeout: Duration::from_secs(300),
            max_messages_per_minute_per_user: 60_000,
            max_messages_per_minute_per_ip: 60_000,
        }
    }
}
