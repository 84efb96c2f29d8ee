//! The command line. Commands, flags and their names are a contract: scripts use them.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// carepost: secure, compliant patient email for healthcare organizations.
#[derive(Debug, Parser)]
#[command(name = "carepost", version, about, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Flags that every command that opens the store understands.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// The configuration file (default: ./carepost.toml when it exists).
    #[arg(long, global = true, env = "CAREPOST_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Directory for the SQLite database and the key file (overrides store.data_dir).
    #[arg(long, global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Database URL, postgres://… or sqlite://… (overrides store.database_url).
    #[arg(long, global = true, value_name = "URL")]
    pub database_url: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write a commented configuration file and a fresh master key file.
    Init(InitArgs),
    /// Start carepost: the HTTP API, SMTP submission, the delivery queue, health,
    /// readiness and metrics endpoints.
    Serve(ServeArgs),
    /// Manage encryption keys: rotate, retire, show status.
    Keys(KeysArgs),
    /// Verify or export the tamper-evident audit log.
    Audit(AuditArgs),
    /// Create or revoke API keys.
    Apikey(ApikeyArgs),
    /// Create or revoke SMTP submission credentials.
    SmtpUser(SmtpUserArgs),
    /// DKIM signing keys for the organization's sending domains.
    Dkim(DkimArgs),
    /// Check a recipient domain's mail servers for verified TLS (STARTTLS, certificate,
    /// MTA-STS, DANE), exactly as delivery checks them.
    Tls(TlsArgs),
    /// Check a sending domain's SPF, DKIM, DMARC and MTA-STS records.
    Domain(DomainArgs),
    /// Find PHI: scan JSON-lines files, evaluate the detectors.
    Dlp(DlpArgs),
    /// Measure carepost's speed on this machine.
    Bench(BenchArgs),
}

#[derive(Debug, Args)]
pub struct DlpArgs {
    #[command(subcommand)]
    pub command: DlpCommand,
}

#[derive(Debug, Subcommand)]
pub enum DlpCommand {
    /// Scan a JSON-lines file of `{"id", "text"}` records (`-` for standard input); print
    /// one result line per record. A malformed line gets an error line; the rest go on.
    Scan {
        /// The input file.
        file: PathBuf,
    },
    /// Precision, recall and F1 per PHI type and for the message-level decision, on the
    /// bundled labeled corpus or on FILE (same JSON-lines form as the corpus).
    Eval {
        /// A labeled corpus (default: the bundled one).
        #[arg(long, value_name = "FILE")]
        corpus: Option<PathBuf>,
    },
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Overwrite an existing configuration file (never the key file).
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on for HTTP (overrides server.listen).
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<SocketAddr>,
    /// Address for STARTTLS SMTP submission (overrides smtp.listen).
    #[arg(long, value_name = "ADDR")]
    pub smtp_listen: Option<SocketAddr>,
    /// Address for implicit-TLS SMTP submission (overrides smtp.tls_listen).
    #[arg(long, value_name = "ADDR")]
    pub smtps_listen: Option<SocketAddr>,
}

#[derive(Debug, Args)]
pub struct KeysArgs {
    #[command(subcommand)]
    pub command: KeysCommand,
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Make a new data key version active and re-encrypt existing data under it (or,
    /// with --master, add a master key version and re-wrap every data key under it).
    Rotate {
        /// Only this organization (default: all).
        #[arg(long)]
        org: Option<String>,
        /// Rotate the master key (key-encryption key) instead of the data keys.
        #[arg(long)]
        master: bool,
        /// Leave re-encryption to the running server's background worker instead of
        /// doing it now with progress shown.
        #[arg(long)]
        no_wait: bool,
    },
    /// Destroy data key versions that no row uses any more (or, with --master VERSION, a
    /// master key version that no data key uses).
    Retire {
        /// Only this organization (default: all).
        #[arg(long)]
        org: Option<String>,
        /// The master key version to remove from the key file.
        #[arg(long, value_name = "VERSION")]
        master: Option<u32>,
    },
    /// Show data key versions, their states and the rows each still seals.
    Status {
        /// Only this organization (default: all).
        #[arg(long)]
        org: Option<String>,
    },
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    #[command(subcommand)]
    pub command: AuditCommand,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ExportFormat {
    Jsonl,
    Csv,
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Walk every chain and name the first bad record after any edit, deletion,
    /// insertion or reordering. Exits 1 when a chain is not intact.
    Verify {
        /// Only this organization (default: all).
        #[arg(long)]
        org: Option<String>,
        /// Public keys exported earlier with `carepost audit public-key` and kept apart
        /// from the database; checkpoints must be signed by them.
        #[arg(long, value_name = "FILE")]
        public_key: Option<PathBuf>,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Write audit records as JSON lines or CSV.
    Export {
        /// Earliest time, RFC 3339 (`2026-12-01T00:00:00Z`) or a date (`2026-12-01`).
        #[arg(long)]
        since: String,
        /// Time to stop before (same forms; default: now).
        #[arg(long)]
        until: Option<String>,
        /// Output format.
        #[arg(long, value_enum, default_value = "jsonl")]
        format: ExportFormat,
        /// Only this organization (default: all).
        #[arg(long)]
        org: Option<String>,
        /// Write to this file instead of standard output.
        #[arg(long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Print the public keys that sign checkpoints, to keep apart from the database.
    PublicKey {
        /// Only this organization (default: all).
        #[arg(long)]
        org: Option<String>,
    },
    /// Sign a checkpoint of each chain now.
    Checkpoint {
        /// Only this organization (default: all).
        #[arg(long)]
        org: Option<String>,
    },
}

#[derive(Debug, Args)]
pub struct ApikeyArgs {
    #[command(subcommand)]
    pub command: ApikeyCommand,
}

#[derive(Debug, Subcommand)]
pub enum ApikeyCommand {
    /// Create an API key and print its secret token once.
    Create {
        /// A scope the key holds; repeat or separate with commas.
        #[arg(long = "scope", required = true, value_delimiter = ',')]
        scopes: Vec<String>,
        /// A name to recognize the key by.
        #[arg(long, default_value = "cli")]
        name: String,
        /// The organization (default: default).
        #[arg(long, default_value = "default")]
        org: String,
    },
    /// Revoke an API key by its id.
    Revoke {
        /// The key id (the part after `cpk_` and before the next `_`).
        id: String,
        /// The organization (default: default).
        #[arg(long, default_value = "default")]
        org: String,
    },
}

#[derive(Debug, Args)]
pub struct SmtpUserArgs {
    #[command(subcommand)]
    pub command: SmtpUserCommand,
}

#[derive(Debug, Subcommand)]
pub enum SmtpUserCommand {
    /// Create an SMTP credential allowed to send as the given domains; prints its
    /// password once.
    Create {
        /// The user name for SMTP AUTH (unique across the installation).
        name: String,
        /// A domain this credential may use in MAIL FROM and the From header; repeat or
        /// separate with commas.
        #[arg(long = "from-domain", required = true, value_delimiter = ',')]
        from_domains: Vec<String>,
        /// The organization (default: default).
        #[arg(long, default_value = "default")]
        org: String,
    },
    /// Revoke an SMTP credential.
    Revoke {
        /// The user name.
        name: String,
        /// The organization (default: default).
        #[arg(long, default_value = "default")]
        org: String,
    },
}

#[derive(Debug, Args)]
pub struct DkimArgs {
    #[command(subcommand)]
    pub command: DkimCommand,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DkimAlgorithmArg {
    #[value(name = "rsa-2048")]
    Rsa2048,
    Ed25519,
}

#[derive(Debug, Subcommand)]
pub enum DkimCommand {
    /// Generate a signing key for DOMAIN (stored encrypted) and print the DNS record to
    /// publish. Mail from DOMAIN is signed with it from then on.
    Generate {
        /// The sending domain (the domain of the From header).
        domain: String,
        /// The selector (default: `cp` and the current year and month, e.g. cp202612).
        #[arg(long)]
        selector: Option<String>,
        /// The key type.
        #[arg(long, value_enum, default_value = "rsa-2048")]
        algorithm: DkimAlgorithmArg,
        /// The organization (default: default).
        #[arg(long, default_value = "default")]
        org: String,
    },
    /// List the organization's DKIM keys and their DNS records.
    List {
        /// The organization (default: default).
        #[arg(long, default_value = "default")]
        org: String,
    },
}

#[derive(Debug, Args)]
pub struct TlsArgs {
    #[command(subcommand)]
    pub command: TlsCommand,
}

#[derive(Debug, Subcommand)]
pub enum TlsCommand {
    /// Report what DOMAIN's mail servers support; exit 1 when carepost could not deliver
    /// PHI to any of them right now.
    Check {
        /// The recipient domain.
        domain: String,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
pub struct DomainArgs {
    #[command(subcommand)]
    pub command: DomainCommand,
}

#[derive(Debug, Subcommand)]
pub enum DomainCommand {
    /// Report DOMAIN's SPF, DKIM, DMARC, MTA-STS and TLS-RPT records and what is missing;
    /// exit 1 when something needed is missing. DKIM selectors are the organization's
    /// keys for DOMAIN, and any given with --selector.
    Check {
        /// The sending domain.
        domain: String,
        /// Another DKIM selector to look up; repeat or separate with commas.
        #[arg(long = "selector", value_delimiter = ',')]
        selectors: Vec<String>,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
        /// The organization whose keys to compare (default: default).
        #[arg(long, default_value = "default")]
        org: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BenchBackend {
    Sqlite,
    Postgres,
    Both,
}

#[derive(Debug, Args)]
pub struct BenchArgs {
    #[command(subcommand)]
    pub command: BenchCommand,
}

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// PHI scanning throughput (MB/s per core) and latency per 10 KB message.
    Dlp,
    /// End-to-end delivery through a real `carepost serve`: SMTP submission, encrypted
    /// durable queue, DKIM signing, verified-TLS delivery to a local sink.
    Delivery {
        /// Messages to send.
        #[arg(long, default_value_t = 10_000)]
        messages: usize,
        /// Concurrent SMTP clients.
        #[arg(long, default_value_t = 16)]
        clients: usize,
        /// Approximate message size in bytes.
        #[arg(long, default_value_t = 5_000)]
        size: usize,
        /// Which backend(s) the server runs on (a scratch database each).
        #[arg(long, value_enum, default_value = "sqlite")]
        backend: BenchBackend,
        /// PostgreSQL server to create the scratch database on.
        #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/postgres")]
        postgres_url: String,
    },
    /// Field encryption and decryption throughput (MB/s).
    Crypto {
        /// Seconds to measure each case.
        #[arg(long, default_value_t = 2.0)]
        seconds: f64,
    },
    /// Audit appends (records/s) and verification speed, on a scratch database.
    Audit {
        /// Which backend(s).
        #[arg(long, value_enum, default_value = "both")]
        backend: BenchBackend,
        /// Records to append.
        #[arg(long, default_value_t = 100_000)]
        records: u64,
        /// Concurrent appenders.
        #[arg(long, default_value_t = 64)]
        concurrency: u64,
        /// PostgreSQL server to create the scratch database on.
        #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/postgres")]
        postgres_url: String,
    },
}
