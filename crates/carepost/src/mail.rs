//! Mail wiring for `carepost serve` and the mail commands: the delivery engine, the
//! queue runner and intake from the configuration, and the submission listeners with
//! their certificate (generated and self-signed on a first start when none is set).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use carepost_config::{Config, DeliveryMode, DnsMode};
use carepost_core::Protection;
use carepost_delivery::{
    Intake, IntakeSettings, ProtectionPolicy, RetrySchedule, RunnerSettings, Transport,
};
use carepost_gateway::dns::{Route, Routes, StaticDns};
use carepost_gateway::inbound::{SubmissionConfig, SubmissionLimits, tls::server_config};
use carepost_gateway::outbound::{self, Deliverer, SmtpAuth};
use tokio::sync::Notify;

/// The outbound engine's settings from `[delivery]`.
pub fn delivery_config(config: &Config) -> outbound::DeliveryConfig {
    let mut routes = Routes::new();
    for (domain, route) in &config.delivery.routes {
        routes.insert(
            domain,
            Route {
                mx: route.mx.clone(),
                address: route.address,
            },
        );
    }
    let mut d = outbound::DeliveryConfig::new(config.delivery.hostname.clone());
    d.routes = routes;
    d.trust_ca_file = config.delivery.trust_ca_file.clone();
    d
}

/// The relay and its credentials for `smarthost` mode (validated by `Config::validate`).
fn smarthost(config: &Config) -> anyhow::Result<(Route, SmtpAuth)> {
    let relay = &config.delivery.smarthost;
    let host = relay.host.clone().unwrap_or_default();
    let address = match relay.address {
        Some(a) => a,
        None => std::net::ToSocketAddrs::to_socket_addrs(&(host.as_str(), relay.port))
            .with_context(|| format!("cannot resolve delivery.smarthost.host {host}"))?
            .next()
            .with_context(|| format!("delivery.smarthost.host {host} has no address"))?,
    };
    let password = match (&relay.password, &relay.password_file) {
        (Some(p), _) => p.clone(),
        (None, Some(file)) => std::fs::read_to_string(file)
            .with_context(|| {
                format!(
                    "cannot read delivery.smarthost.password_file {}",
                    file.display()
                )
            })?
            .trim_end_matches(['\r', '\n'])
            .to_owned(),
        (None, None) => anyhow::bail!("delivery.smarthost needs password_file or password"),
    };
    let auth = SmtpAuth {
        username: relay.username.clone().unwrap_or_default(),
        password: zeroize::Zeroizing::new(password),
    };
    Ok((Route { mx: host, address }, auth))
}

/// The outbound engine over the system's DNS resolvers (or none, `delivery.dns`); in
/// `smarthost` mode every domain without its own route goes to the relay.
pub fn deliverer(config: &Config) -> anyhow::Result<Deliverer> {
    let mut settings = delivery_config(config);
    if config.delivery.mode == DeliveryMode::Smarthost {
        let (relay, auth) = smarthost(config)?;
        settings.relay = Some(relay);
        settings.auth = Some(auth);
    }
    let built = match config.delivery.dns {
        DnsMode::System => Deliverer::from_config(&settings),
        // An empty zone: every name has no records, so only routes lead anywhere.
        DnsMode::None => Deliverer::with_dns(&settings, Arc::new(StaticDns::new())),
    };
    built.context(
        "cannot set up outbound delivery (DNS resolver or delivery.trust_ca_file); \
         check /etc/resolv.conf and the CA file",
    )
}

/// Where the queue runner sends mail.
pub fn transport(config: &Config) -> anyhow::Result<Transport> {
    Ok(match config.delivery.mode {
        DeliveryMode::Sandbox => Transport::Sandbox,
        DeliveryMode::Direct => Transport::Direct(Arc::new(deliverer(config)?)),
        DeliveryMode::Smarthost => Transport::Direct(Arc::new(deliverer(config)?)),
    })
}

/// Intake limits from `[delivery]`, screening with `policy`.
pub fn intake(config: &Config, wake: Arc<Notify>, policy: Arc<ProtectionPolicy>) -> Intake {
    let d = &config.delivery;
    let settings = IntakeSettings {
        max_message_bytes: d.max_message_bytes,
        max_age: d.max_age,
        default_protection: Protection::parse(&d.default_protection)
            .unwrap_or(Protection::TlsVerified),
        hostname: d.hostname.clone(),
    };
    Intake::new(settings, wake, policy)
}

/// The queue runner's settings from `[delivery]`.
pub fn runner_settings(config: &Config) -> RunnerSettings {
    let d = &config.delivery;
    let node = d.node_name.clone().unwrap_or_else(machine_name);
    let mut settings = RunnerSettings::new(node, d.hostname.clone());
    settings.concurrency = d.concurrency;
    settings.per_destination = d.per_destination_connections;
    settings.per_destination_rate = d.per_destination_rate;
    settings.retry = RetrySchedule {
        first: d.retry_first,
        max_interval: d.retry_max_interval,
        max_age: d.max_age,
    };
    settings.tls_fallback_after = d.tls_fallback_after;
    settings.delay_notice_after = d.delay_notice_after;
    settings
}

fn machine_name() -> String {
    std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "carepost".to_owned())
}

/// The submission server's settings from `[smtp]` and `[delivery]`.
pub fn submission_config(config: &Config) -> anyhow::Result<SubmissionConfig> {
    let mut submission = SubmissionConfig::new(&config.delivery.hostname)
        .context("delivery.hostname must be a DNS host name for SMTP submission")?;
    let s = &config.smtp;
    submission.limits = SubmissionLimits {
        max_message_size: config.delivery.max_message_bytes,
        max_recipients: s.max_recipients,
        max_connections_per_ip: s.max_connections_per_ip,
        command_timeout: s.idle_timeout,
        ..SubmissionLimits::default()
    };
    submission.shutdown_grace = config.server.shutdown_grace;
    Ok(submission)
}

/// Where the submission certificate came from.
pub enum CertificateSource {
    /// `smtp.tls_cert` / `smtp.tls_key`.
    Configured(PathBuf),
    /// Self-signed, generated earlier under the data directory.
    SelfSigned(PathBuf),
    /// Self-signed, generated now.
    Generated(PathBuf),
}

impl std::fmt::Display for CertificateSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Configured(p) => write!(f, "{}", p.display()),
            Self::SelfSigned(p) => write!(f, "{} (self-signed)", p.display()),
            Self::Generated(p) => write!(
                f,
                "{} (self-signed, generated now: set smtp.tls_cert and smtp.tls_key for production)",
                p.display()
            ),
        }
    }
}

/// The TLS configuration of both submission listeners.
pub fn submission_tls(
    config: &Config,
) -> anyhow::Result<(Arc<rustls::ServerConfig>, CertificateSource)> {
    let (cert, key, source) = match (&config.smtp.tls_cert, &config.smtp.tls_key) {
        (Some(cert), Some(key)) => (
            cert.clone(),
            key.clone(),
            CertificateSource::Configured(cert.clone()),
        ),
        _ => {
            let dir = config.store.data_dir.join("smtp-tls");
            let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
            if cert.exists() && key.exists() {
                (cert.clone(), key, CertificateSource::SelfSigned(cert))
            } else {
                generate_self_signed(&dir, &cert, &key, &config.delivery.hostname)?;
                (cert.clone(), key, CertificateSource::Generated(cert))
            }
        }
    };
    let read = |p: &Path, what: &str| {
        std::fs::read(p).with_context(|| format!("cannot read the SMTP TLS {what} {}", p.display()))
    };
    let tls = server_config(&read(&cert, "certificate")?, &read(&key, "key")?)
        .with_context(|| format!("smtp.tls_cert {}", cert.display()))?;
    Ok((tls, source))
}

fn generate_self_signed(dir: &Path, cert: &Path, key: &Path, hostname: &str) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;

    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    // A half-written pair from an interrupted first start is replaced.
    for stale in [cert, key] {
        if stale.exists() {
            std::fs::remove_file(stale)
                .with_context(|| format!("cannot replace {}", stale.display()))?;
        }
    }
    let mut names = vec![hostname.to_owned()];
    if hostname != "localhost" {
        names.push("localhost".to_owned());
    }
    let certified = rcgen::generate_simple_self_signed(names)
        .context("cannot generate a self-signed SMTP certificate")?;
    let mut key_file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(key)
        .with_context(|| format!("cannot create {}", key.display()))?;
    key_file.write_all(certified.signing_key.serialize_pem().as_bytes())?;
    key_file.sync_all()?;
    std::fs::write(cert, certified.cert.pem())
        .with_context(|| format!("cannot write {}", cert.display()))?;
    Ok(())
}

/// Binds a submission listener, naming the flag and key on failure.
pub async fn bind(addr: SocketAddr, what: &str) -> anyhow::Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr} ({what})"))
}
