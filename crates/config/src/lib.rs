//! carepost's configuration.
//!
//! Sources, each overriding the one before: built-in defaults (enough for a first start
//! on a laptop), the TOML file (`carepost.toml`, see [`TEMPLATE`] for every key with its
//! default), environment variables `CAREPOST_SECTION__KEY` (for example
//! `CAREPOST_SERVER__LISTEN=0.0.0.0:8080`), then command-line flags, which the binary
//! applies. Unknown keys are refused, so a typo never silently falls back to a default.
//! Errors are one line naming the key and the reason ([`ConfigError`]).
#![forbid(unsafe_code)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

mod delivery;

pub use delivery::{
    DeliveryConfig, DeliveryMode, DnsMode, RouteConfig, SmarthostConfig, SmtpConfig,
};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

/// The commented configuration `carepost init` writes: every key, with its default.
pub const TEMPLATE: &str = include_str!("carepost.toml");

/// Why the configuration cannot be used. Displayed as one line.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration: {key}: {reason}")]
pub struct ConfigError {
    /// The key, as `section.key` (or the file, when it cannot be read).
    pub key: String,
    /// What is wrong and what would be right.
    pub reason: String,
}

impl ConfigError {
    /// An error about `key` (as `section.key`), saying what is wrong.
    pub fn new(key: &str, reason: impl Into<String>) -> Self {
        Self {
            key: key.to_owned(),
            reason: reason.into(),
        }
    }
}

/// The whole configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// The HTTP server.
    pub server: ServerConfig,
    /// Where data and keys live.
    pub store: StoreSection,
    /// The audit log.
    pub audit: AuditConfig,
    /// Diagnostic logs.
    pub log: LogConfig,
    /// Outgoing mail.
    pub delivery: DeliveryConfig,
    /// SMTP submission.
    pub smtp: SmtpConfig,
    /// PHI detection and the protection rules.
    pub dlp: DlpConfig,
}

/// `[dlp]`: PHI detection and the protection rules applied to every message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DlpConfig {
    /// A TOML file with the protection rules (`baseline` and `[[rules]]`); unset: the
    /// built-in defaults.
    pub rules_file: Option<PathBuf>,
    /// How long a held message waits for review before it is rejected.
    #[serde(with = "humantime_serde")]
    pub quarantine_max_age: Duration,
    /// The address told when a rule with `notify-compliance` fires.
    pub compliance_contact: Option<String>,
}

impl Default for DlpConfig {
    fn default() -> Self {
        Self {
            rules_file: None,
            quarantine_max_age: Duration::from_secs(14 * 24 * 3600),
            compliance_contact: None,
        }
    }
}

/// `[server]`: the HTTP API, health and metrics endpoints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Address and port to listen on.
    pub listen: SocketAddr,
    /// PEM certificate chain; with `tls_key`, the server speaks HTTPS (TLS 1.2+ only).
    pub tls_cert: Option<PathBuf>,
    /// PEM private key for `tls_cert`.
    pub tls_key: Option<PathBuf>,
    /// How long a SIGTERM waits for requests in flight before closing.
    #[serde(with = "humantime_serde")]
    pub shutdown_grace: Duration,
    /// Longest time a request may take.
    #[serde(with = "humantime_serde")]
    pub request_timeout: Duration,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            tls_cert: None,
            tls_key: None,
            shutdown_grace: Duration::from_secs(30),
            request_timeout: Duration::from_secs(30),
            max_body_bytes: 25 * 1024 * 1024,
        }
    }
}

/// `[store]`: the database and the key file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StoreSection {
    /// Directory for the SQLite database, the key file and other local state.
    pub data_dir: PathBuf,
    /// `postgres://user@host:5432/db` for PostgreSQL; unset for SQLite in `data_dir`.
    pub database_url: Option<String>,
    /// The master key file; unset for `<data_dir>/master.key`. `CAREPOST_MASTER_KEY`,
    /// when set, is used instead.
    pub key_file: Option<PathBuf>,
    /// Attempts to reach PostgreSQL at start (with backoff) before giving up.
    pub connect_attempts: u32,
    /// Database connections (PostgreSQL pool, or SQLite readers).
    pub max_connections: u32,
}

impl Default for StoreSection {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("./carepost-data"),
            database_url: None,
            key_file: None,
            connect_attempts: 8,
            max_connections: 8,
        }
    }
}

impl StoreSection {
    /// The database URL in effect: the configured one, or SQLite in `data_dir`.
    pub fn effective_database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.clone(),
            None => format!("sqlite://{}", self.data_dir.join("carepost.db").display()),
        }
    }

    /// The key file in effect.
    pub fn effective_key_file(&self) -> PathBuf {
        self.key_file
            .clone()
            .unwrap_or_else(|| self.data_dir.join("master.key"))
    }
}

/// `[audit]`: the tamper-evident log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuditConfig {
    /// How often the server signs a checkpoint of each organization's chain.
    #[serde(with = "humantime_serde")]
    pub checkpoint_interval: Duration,
}

impl Default for AuditConfig {
    fn default() -> Self {
        Self {
            checkpoint_interval: Duration::from_secs(300),
        }
    }
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// One JSON object per line (for log shippers).
    Json,
    /// Human-readable lines.
    Pretty,
}

/// `[log]`: diagnostic logs (never PHI: PHI is unprintable by type).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// `json` or `pretty`.
    pub format: LogFormat,
    /// A tracing filter: `info`, `debug`, `carepost_server=debug,info`.
    pub level: String,
}

impl Default for LogConfig {
    fn default() -> Self {
        Self {
            format: LogFormat::Json,
            level: "info".into(),
        }
    }
}

impl Config {
    /// Loads defaults, then `file` (if given; it must exist), then the environment.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        let mut fig = Figment::from(Serialized::defaults(Config::default()));
        if let Some(path) = file {
            let text = std::fs::read_to_string(path).map_err(|e| {
                ConfigError::new(
                    &path.display().to_string(),
                    format!("cannot read the file: {e}"),
                )
            })?;
            fig = fig.merge(Toml::string(&text));
        }
        Self::extract(fig.merge(environment()))
    }

    /// Parses a TOML text (no environment), for tests and `init`'s self-check.
    pub fn from_toml(text: &str) -> Result<Self, ConfigError> {
        Self::extract(
            Figment::from(Serialized::defaults(Config::default())).merge(Toml::string(text)),
        )
    }

    fn extract(fig: Figment) -> Result<Self, ConfigError> {
        let config: Config = fig.extract().map_err(|e| {
            let key = if e.path.is_empty() {
                "(top level)".to_owned()
            } else {
                e.path.join(".")
            };
            ConfigError::new(&key, e.kind.to_string())
        })?;
        config.validate()?;
        Ok(config)
    }

    /// Checks what types alone cannot.
    pub fn validate(&self) -> Result<(), ConfigError> {
        match (&self.server.tls_cert, &self.server.tls_key) {
            (Some(_), None) => {
                return Err(ConfigError::new(
                    "server.tls_key",
                    "tls_cert is set, so tls_key must be too",
                ));
            }
            (None, Some(_)) => {
                return Err(ConfigError::new(
                    "server.tls_cert",
                    "tls_key is set, so tls_cert must be too",
                ));
            }
            _ => {}
        }
        if let Some(url) = &self.store.database_url {
            let known = ["postgres://", "postgresql://", "sqlite://"];
            if !known.iter().any(|p| url.starts_with(p)) {
                return Err(ConfigError::new(
                    "store.database_url",
                    "must start with postgres://, postgresql:// or sqlite://",
                ));
            }
        }
        if self.store.connect_attempts == 0 {
            return Err(ConfigError::new(
                "store.connect_attempts",
                "must be at least 1",
            ));
        }
        if self.store.max_connections == 0 {
            return Err(ConfigError::new(
                "store.max_connections",
                "must be at least 1",
            ));
        }
        if self.audit.checkpoint_interval < Duration::from_secs(1) {
            return Err(ConfigError::new(
                "audit.checkpoint_interval",
                "must be at least 1s",
            ));
        }
        let d = &self.delivery;
        if !["tls-verified", "tls-exclusive"].contains(&d.default_protection.as_str()) {
            return Err(ConfigError::new(
                "delivery.default_protection",
                "must be tls-verified or tls-exclusive",
            ));
        }
        if d.mode == DeliveryMode::Smarthost {
            let relay = &d.smarthost;
            if relay.host.as_deref().is_none_or(|h| h.trim().is_empty()) {
                return Err(ConfigError::new(
                    "delivery.smarthost.host",
                    "smarthost mode needs the relay's host name",
                ));
            }
            if relay.username.as_deref().is_none_or(str::is_empty) {
                return Err(ConfigError::new(
                    "delivery.smarthost.username",
                    "smarthost mode needs a user name: the relay must authenticate carepost",
                ));
            }
            if relay.password.is_some() == relay.password_file.is_some() {
                return Err(ConfigError::new(
                    "delivery.smarthost.password_file",
                    "set exactly one of password_file and password",
                ));
            }
        }
        if d.hostname.is_empty() || d.hostname.contains(char::is_whitespace) {
            return Err(ConfigError::new("delivery.hostname", "must be a host name"));
        }
        if d.per_destination_connections == 0 {
            return Err(ConfigError::new(
                "delivery.per_destination_connections",
                "must be at least 1",
            ));
        }
        if d.concurrency == 0 {
            return Err(ConfigError::new(
                "delivery.concurrency",
                "must be at least 1",
            ));
        }
        if d.max_message_bytes < 1024 {
            return Err(ConfigError::new(
                "delivery.max_message_bytes",
                "must be at least 1024",
            ));
        }
        if d.retry_first.is_zero() || d.retry_max_interval < d.retry_first {
            return Err(ConfigError::new(
                "delivery.retry_first",
                "must be above zero and at most retry_max_interval",
            ));
        }
        if d.max_age < Duration::from_secs(60) {
            return Err(ConfigError::new("delivery.max_age", "must be at least 1m"));
        }
        match (&self.smtp.tls_cert, &self.smtp.tls_key) {
            (Some(_), None) => {
                return Err(ConfigError::new(
                    "smtp.tls_key",
                    "tls_cert is set, so tls_key must be too",
                ));
            }
            (None, Some(_)) => {
                return Err(ConfigError::new(
                    "smtp.tls_cert",
                    "tls_key is set, so tls_cert must be too",
                ));
            }
            _ => {}
        }
        if self.smtp.max_recipients == 0 || self.smtp.max_recipients > 1000 {
            return Err(ConfigError::new("smtp.max_recipients", "must be 1 to 1000"));
        }
        if self.server.max_body_bytes < 1024 {
            return Err(ConfigError::new(
                "server.max_body_bytes",
                "must be at least 1024",
            ));
        }
        Ok(())
    }
}

/// `CAREPOST_SECTION__KEY` variables. Variables without `__` (`CAREPOST_MASTER_KEY`,
/// `CAREPOST_CONFIG`) are not configuration keys and are left alone.
fn environment() -> Env {
    Env::prefixed("CAREPOST_")
        .filter(|k| k.as_str().contains("__"))
        .split("__")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_template_documents_every_default() {
        let uncommented: String = TEMPLATE
            .lines()
            .map(|l| match l.strip_prefix("# ") {
                Some(rest)
                    if rest.contains(" = ")
                        && !rest.contains("database_url")
                        && !rest.contains("tls_")
                        && !rest.contains("key_file")
                        && !rest.contains("node_name")
                        && !rest.contains("trust_ca_file")
                        && !rest.contains("rules_file")
                        && !rest.contains("compliance_contact")
                        // [delivery.smarthost] stays commented out: its keys have no
                        // defaults to compare.
                        && !rest.contains("relay.example.org")
                        && !rest.contains("username")
                        && !rest.contains("password_file")
                        && !rest.contains("10.0.0.25")
                        && !rest.starts_with("port = ")
                        && !rest.starts_with('"') =>
                {
                    rest
                }
                _ => l,
            })
            .collect::<Vec<_>>()
            .join("\n");
        let parsed = Config::from_toml(&uncommented).unwrap();
        assert_eq!(parsed, Config::default());
        assert!(Config::from_toml(TEMPLATE).is_ok());
        for key in [
            "listen",
            "shutdown_grace",
            "data_dir",
            "database_url",
            "key_file",
            "checkpoint_interval",
            "format",
            "level",
            "max_body_bytes",
            "connect_attempts",
            "mode",
            "hostname",
            "default_protection",
            "max_age",
            "tls_fallback_after",
            "tls_listen",
            "max_recipients",
            "dns",
            "quarantine_max_age",
        ] {
            assert!(
                TEMPLATE.contains(&format!("{key} =")),
                "template lacks {key}"
            );
        }
        assert!(
            TEMPLATE.contains("# [delivery.routes]"),
            "template lacks routes"
        );
    }

    #[test]
    fn delivery_routes_and_modes_parse_and_bad_values_name_their_key() {
        let c = Config::from_toml(
            "[delivery]\nmode = \"direct\"\n[delivery.routes]\n\"dest.test\" = { mx = \"mx.dest.test\", address = \"127.0.0.1:2626\" }",
        )
        .unwrap();
        assert_eq!(c.delivery.mode, DeliveryMode::Direct);
        assert_eq!(c.delivery.routes["dest.test"].mx, "mx.dest.test");
        let err = Config::from_toml("[delivery]\ndefault_protection = \"plaintext\"").unwrap_err();
        assert_eq!(err.key, "delivery.default_protection");
        let err = Config::from_toml("[delivery]\nmode = \"smarthost\"").unwrap_err();
        assert_eq!(err.key, "delivery.smarthost.host");
        let err = Config::from_toml(
            "[delivery]\nmode = \"smarthost\"\n[delivery.smarthost]\nhost = \"relay.test\"\nusername = \"u\"",
        )
        .unwrap_err();
        assert_eq!(err.key, "delivery.smarthost.password_file");
        assert!(
            Config::from_toml(
                "[delivery]\nmode = \"smarthost\"\n[delivery.smarthost]\nhost = \"relay.test\"\nusername = \"u\"\npassword = \"p\"",
            )
            .is_ok()
        );
        let err = Config::from_toml("[delivery.routes]\n\"d\" = { mx = \"m\" }").unwrap_err();
        assert!(err.key.starts_with("delivery.routes"), "{err}");
    }

    #[test]
    fn errors_name_the_key_and_the_reason() {
        let err = Config::from_toml("[server]\nlisten = \"nowhere\"").unwrap_err();
        assert_eq!(err.key, "server.listen");
        assert!(
            err.to_string()
                .starts_with("invalid configuration: server.listen:"),
            "{err}"
        );

        let err = Config::from_toml("[store]\nconect_attempts = 3").unwrap_err();
        assert!(err.to_string().contains("conect_attempts"), "{err}");

        let err = Config::from_toml("[audit]\ncheckpoint_interval = \"soon\"").unwrap_err();
        assert_eq!(err.key, "audit.checkpoint_interval");

        let err = Config::from_toml("[server]\ntls_cert = \"c.pem\"").unwrap_err();
        assert_eq!(err.key, "server.tls_key");

        let err = Config::from_toml("[store]\ndatabase_url = \"mysql://x\"").unwrap_err();
        assert_eq!(err.key, "store.database_url");
        assert_eq!(err.to_string().lines().count(), 1);
    }

    #[test]
    #[allow(clippy::result_large_err)]
    fn environment_overrides_the_file_and_ignores_non_config_variables() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "c.toml",
                "[server]\nlisten = \"127.0.0.1:9000\"\n[store]\nmax_connections = 3",
            )?;
            jail.set_env("CAREPOST_SERVER__LISTEN", "127.0.0.1:9100");
            jail.set_env("CAREPOST_AUDIT__CHECKPOINT_INTERVAL", "10m");
            jail.set_env("CAREPOST_MASTER_KEY", "not-a-config-key");
            let c = Config::load(Some(Path::new("c.toml"))).map_err(|e| e.to_string())?;
            assert_eq!(c.server.listen.port(), 9100);
            assert_eq!(c.store.max_connections, 3);
            assert_eq!(c.audit.checkpoint_interval, Duration::from_secs(600));
            Ok(())
        });
    }

    #[test]
    fn a_missing_config_file_is_an_error_naming_it() {
        let err = Config::load(Some(Path::new("/nonexistent/carepost.toml"))).unwrap_err();
        assert!(
            err.to_string().contains("/nonexistent/carepost.toml"),
            "{err}"
        );
    }

    #[test]
    fn the_default_database_is_sqlite_in_the_data_dir() {
        let c = Config::default();
        assert_eq!(
            c.store.effective_database_url(),
            "sqlite://./carepost-data/carepost.db"
        );
        assert_eq!(
            c.store.effective_key_file(),
            PathBuf::from("./carepost-data/master.key")
        );
    }
}
