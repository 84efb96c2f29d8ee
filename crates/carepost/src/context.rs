//! Loading the configuration, the master key and the store, the same way for every
//! command.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use carepost_config::{Config, ConfigError};
use carepost_crypto::{KeyFile, KeyProvider, MASTER_KEY_ENV};
use carepost_store::{Location, OrgScope, Store, StoreConfig};

use crate::cli::GlobalArgs;

/// The configuration: defaults, the file, the environment, then the global flags.
pub fn load_config(args: &GlobalArgs) -> Result<Config, ConfigError> {
    let file = args.config.clone().or_else(|| {
        let local = PathBuf::from("carepost.toml");
        local.exists().then_some(local)
    });
    let mut config = Config::load(file.as_deref())?;
    if let Some(dir) = &args.data_dir {
        config.store.data_dir = dir.clone();
    }
    if let Some(url) = &args.database_url {
        config.store.database_url = Some(url.clone());
    }
    config.validate()?;
    protection_rules(&config)?;
    Ok(config)
}

/// The protection rules: `dlp.rules_file`, or the built-in ones.
pub fn protection_rules(config: &Config) -> Result<carepost_policy::rules::RuleSet, ConfigError> {
    let Some(path) = &config.dlp.rules_file else {
        return Ok(carepost_policy::rules::RuleSet::default());
    };
    let key = "dlp.rules_file";
    let text = std::fs::read_to_string(path)
        .map_err(|e| ConfigError::new(key, format!("cannot read {}: {e}", path.display())))?;
    let rules: carepost_policy::rules::RuleSet = toml::from_str(&text).map_err(|e| {
        ConfigError::new(key, format!("{}: {}", path.display(), e.message().trim()))
    })?;
    rules
        .validate()
        .map_err(|e| ConfigError::new(key, format!("{}: {e}", path.display())))?;
    Ok(rules)
}

/// Where the master key comes from, and whether it was just created.
pub struct Keys {
    pub provider: Arc<dyn KeyProvider>,
    pub file: Option<(PathBuf, KeyFile)>,
    pub created: bool,
}

/// Loads the master key from `CAREPOST_MASTER_KEY` or the key file; creates the key file
/// when `create` and it does not exist.
pub fn load_keys(config: &Config, create: bool) -> anyhow::Result<Keys> {
    if let Ok(value) = std::env::var(MASTER_KEY_ENV) {
        let kf = KeyFile::from_env_value(&value)?;
        return Ok(Keys {
            provider: Arc::new(kf.provider()?),
            file: None,
            created: false,
        });
    }
    let path = config.store.effective_key_file();
    let (kf, created) = if create {
        KeyFile::load_or_create(&path)?
    } else {
        (KeyFile::load(&path)?, false)
    };
    warn_if_readable_by_others(&path);
    Ok(Keys {
        provider: Arc::new(kf.provider()?),
        file: Some((path, kf)),
        created,
    })
}

fn warn_if_readable_by_others(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(meta) = std::fs::metadata(path)
        && meta.permissions().mode() & 0o077 != 0
    {
        eprintln!(
            "carepost: warning: key file {} is readable by other users; run `chmod 600 {}`",
            path.display(),
            path.display()
        );
    }
}

/// Opens the store with `keys`.
pub async fn open_store(config: &Config, keys: Arc<dyn KeyProvider>) -> anyhow::Result<Store> {
    let location = Location::parse(&config.store.effective_database_url())?;
    let mut store_config = StoreConfig::new(location);
    store_config.connect_attempts = config.store.connect_attempts;
    store_config.max_connections = config.store.max_connections;
    Ok(Store::open(&store_config, keys).await?)
}

/// Opens the store with the existing master key (no key is created).
pub async fn open_existing(config: &Config) -> anyhow::Result<Store> {
    let keys = load_keys(config, false)?;
    open_store(config, keys.provider).await
}

/// The organizations a command works on: the one named, or all.
pub async fn orgs(store: &Store, name: Option<&str>) -> anyhow::Result<Vec<(String, OrgScope)>> {
    let mut out = Vec::new();
    for o in store.organizations().await? {
        if name.is_none_or(|n| n == o.name) {
            out.push((o.name.clone(), store.org(o.id).await?));
        }
    }
    if out.is_empty() {
        match name {
            Some(n) => anyhow::bail!("no organization named '{n}'"),
            None => anyhow::bail!("the store has no organization yet; start `carepost serve` once"),
        }
    }
    Ok(out)
}

/// Parses `2026-12-01` or an RFC 3339 time into microseconds since the epoch.
pub fn parse_time(text: &str) -> anyhow::Result<i64> {
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(text) {
        return Ok(t.timestamp_micros());
    }
    let date = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .with_context(|| format!("'{text}' is neither an RFC 3339 time nor a YYYY-MM-DD date"))?;
    Ok(date
        .and_hms_opt(0, 0, 0)
        .map(|d| d.and_utc().timestamp_micros())
        .unwrap_or(0))
}
