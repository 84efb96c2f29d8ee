//! `carepost keys`: rotate, retire and inspect keys.

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use carepost_config::Config;
use carepost_core::AccessContext;
use carepost_store::Store;

use crate::cli::{KeysArgs, KeysCommand};
use crate::context;

pub async fn run(config: &Config, args: KeysArgs) -> anyhow::Result<ExitCode> {
    let by = AccessContext::system("cli");
    match args.command {
        KeysCommand::Rotate {
            org, master: true, ..
        } => {
            if org.is_some() {
                anyhow::bail!("--master rotates the key of every organization; drop --org");
            }
            rotate_master(config, &by).await
        }
        KeysCommand::Rotate {
            org,
            master: false,
            no_wait,
        } => {
            let store = context::open_existing(config).await?;
            for (name, scope) in context::orgs(&store, org.as_deref()).await? {
                let version = store.rotate_data_key(scope.org_id(), &by).await?;
                println!("organization {name}: data key version {version} is now active");
                if no_wait {
                    println!("  the running server re-encrypts existing rows in the background");
                    continue;
                }
                reencrypt(&store, &name, scope.org_id(), &by).await?;
            }
            Ok(ExitCode::SUCCESS)
        }
        KeysCommand::Retire {
            org,
            master: Some(version),
        } => {
            if org.is_some() {
                anyhow::bail!(
                    "--master retires a master key version of the whole installation; drop --org"
                );
            }
            retire_master(config, version).await
        }
        KeysCommand::Retire { org, master: None } => {
            let store = context::open_existing(config).await?;
            for (name, scope) in context::orgs(&store, org.as_deref()).await? {
                let retired = store.retire_data_keys(scope.org_id(), &by).await?;
                if retired.is_empty() {
                    println!("organization {name}: no data key version to retire");
                } else {
                    println!("organization {name}: retired data key versions {retired:?}");
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        KeysCommand::Status { org } => {
            let store = context::open_existing(config).await?;
            println!(
                "master key versions in use: {:?}",
                store.master_key_versions_in_use().await?
            );
            for (name, scope) in context::orgs(&store, org.as_deref()).await? {
                println!("organization {name}:");
                for k in store.data_keys(scope.org_id()).await? {
                    println!(
                        "  data key v{:<3} {:<13} wrapped by master v{}  rows sealed: {}",
                        k.version,
                        k.state.to_string(),
                        k.kek_version,
                        k.rows
                    );
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

async fn reencrypt(
    store: &Store,
    name: &str,
    org: carepost_core::OrgId,
    by: &AccessContext,
) -> anyhow::Result<()> {
    let scope = store.org_fresh(org).await?;
    let total = scope.rows_to_reencrypt().await?;
    let mut done = 0u64;
    loop {
        let p = scope.reencrypt_step(by, 1000).await?;
        done += p.rewritten;
        if total > 0 {
            let pct = (done as f64 / total as f64 * 100.0).min(100.0);
            eprintln!("  re-encrypting {name}: {done}/{total} rows ({pct:.0}%)");
        }
        if p.remaining == 0 {
            break;
        }
        if p.rewritten == 0 {
            anyhow::bail!(
                "re-encryption made no progress with {} rows left; is another rotation running?",
                p.remaining
            );
        }
    }
    println!(
        "  {done} rows re-encrypted; retire the old version with `carepost keys retire` once every node runs with the new one"
    );
    Ok(())
}

async fn rotate_master(config: &Config, by: &AccessContext) -> anyhow::Result<ExitCode> {
    let keys = context::load_keys(config, false)?;
    let Some((path, mut file)) = keys.file else {
        anyhow::bail!(
            "the master key comes from CAREPOST_MASTER_KEY: add a `VERSION:KEY` entry there to rotate it"
        );
    };
    let version = file
        .add_version()
        .with_context(|| format!("cannot add a key to {}", path.display()))?;
    let store = context::open_store(config, Arc::new(file.provider()?)).await?;
    let n = store.rewrap_data_keys(by).await?;
    println!(
        "master key version {version} is active in {}; {n} data keys re-wrapped under it",
        path.display()
    );
    let unused: Vec<u32> = file
        .versions()
        .into_iter()
        .filter(|v| *v != version)
        .collect();
    if !unused.is_empty() {
        println!(
            "older master key versions {unused:?} are no longer used: `carepost keys retire --master N` removes one"
        );
    }
    Ok(ExitCode::SUCCESS)
}

async fn retire_master(config: &Config, version: u32) -> anyhow::Result<ExitCode> {
    let keys = context::load_keys(config, false)?;
    let Some((path, mut file)) = keys.file else {
        anyhow::bail!("the master key comes from CAREPOST_MASTER_KEY: remove the version there");
    };
    if !file.versions().contains(&version) {
        anyhow::bail!("{} has no master key version {version}", path.display());
    }
    let store: Store = context::open_store(config, keys.provider.clone()).await?;
    if store.master_key_versions_in_use().await?.contains(&version) {
        anyhow::bail!(
            "master key version {version} still wraps data keys; run `carepost keys rotate --master` first"
        );
    }
    file.remove_version(version)?;
    println!(
        "removed master key version {version} from {}",
        path.display()
    );
    Ok(ExitCode::SUCCESS)
}
