//! `carepost dkim`: signing keys for the organization's sending domains.

use std::process::ExitCode;

use anyhow::Context;
use carepost_config::Config;
use carepost_core::AccessContext;
use carepost_gateway::dkim::{DkimAlgorithm, generate};
use carepost_store::NewDkimKey;
use zeroize::Zeroizing;

use crate::cli::{DkimAlgorithmArg, DkimArgs, DkimCommand};
use crate::context;

pub async fn run(config: &Config, args: DkimArgs) -> anyhow::Result<ExitCode> {
    let by = AccessContext::system("cli");
    let store = context::open_existing(config).await?;
    match args.command {
        DkimCommand::Generate {
            domain,
            selector,
            algorithm,
            org,
        } => {
            let scope = store.org_named(&org).await?;
            let domain = domain.trim().trim_end_matches('.').to_ascii_lowercase();
            let selector = selector
                .unwrap_or_else(|| format!("cp{}", chrono::Utc::now().format("%Y%m")))
                .to_ascii_lowercase();
            let algorithm = match algorithm {
                DkimAlgorithmArg::Rsa2048 => DkimAlgorithm::Rsa2048,
                DkimAlgorithmArg::Ed25519 => DkimAlgorithm::Ed25519,
            };
            let key = generate(algorithm, &domain, &selector)?;
            let record = key.dns_record();
            scope
                .add_dkim_key(
                    &by,
                    NewDkimKey {
                        domain: key.domain.clone(),
                        selector: key.selector.clone(),
                        algorithm: algorithm.as_str().to_owned(),
                        private_key: Zeroizing::new(key.private_key.pkcs8_der().to_vec()),
                        public_key: key.public_key.clone(),
                    },
                )
                .await
                .context("the key was not stored")?;
            eprintln!(
                "DKIM key {} for {domain} (selector {selector}) stored encrypted; mail whose \
                 From is @{domain} is signed with it (a running server picks it up within a \
                 minute). Publish this TXT record, then run `carepost domain check {domain}`:",
                algorithm.as_str()
            );
            println!("{record}");
        }
        DkimCommand::List { org } => {
            let scope = store.org_named(&org).await?;
            let keys = scope.dkim_keys().await?;
            if keys.is_empty() {
                eprintln!(
                    "organization {org} has no DKIM key; create one with `carepost dkim generate DOMAIN`"
                );
            }
            for k in keys {
                let key_type =
                    DkimAlgorithm::parse(&k.algorithm).map_or("rsa", DkimAlgorithm::key_type);
                println!(
                    "{}\t{}\t{}\t{}._domainkey.{} TXT \"v=DKIM1; k={key_type}; p={}\"",
                    k.domain, k.selector, k.algorithm, k.selector, k.domain, k.public_key
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
