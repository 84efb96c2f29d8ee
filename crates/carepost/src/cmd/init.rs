//! `carepost init`: a commented configuration file and a fresh master key file.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use carepost_config::{Config, TEMPLATE};
use carepost_crypto::KeyFile;

use crate::cli::{GlobalArgs, InitArgs};

pub fn run(global: &GlobalArgs, config: &Config, args: InitArgs) -> anyhow::Result<ExitCode> {
    let path = global
        .config
        .clone()
        .unwrap_or_else(|| PathBuf::from("carepost.toml"));
    if path.exists() && !args.force {
        anyhow::bail!(
            "{} already exists; pass --force to overwrite it",
            path.display()
        );
    }
    let mut text = TEMPLATE.to_owned();
    if let Some(dir) = &global.data_dir {
        text = text.replace(
            "# data_dir = \"./carepost-data\"",
            &format!("data_dir = {:?}", dir.display().to_string()),
        );
    }
    if let Some(url) = &global.database_url {
        text = text.replace(
            "# database_url = \"postgres://carepost@localhost:5432/carepost\"",
            &format!("database_url = {url:?}"),
        );
    }
    Config::from_toml(&text)
        .context("the generated configuration does not parse (a carepost bug)")?;
    std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
    println!("wrote {}", path.display());

    let key_path = config.store.effective_key_file();
    match KeyFile::create(&key_path) {
        Ok(_) => println!(
            "wrote {} (mode 0600): back it up apart from the database; without it nothing encrypted can be read",
            key_path.display()
        ),
        Err(carepost_crypto::KeyFileError::AlreadyExists(p)) => {
            println!("kept the existing key file {}", p.display());
        }
        Err(e) => return Err(e.into()),
    }
    Ok(ExitCode::SUCCESS)
}
