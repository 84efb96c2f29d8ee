//! `carepost apikey`: create and revoke API keys.

use std::process::ExitCode;

use carepost_config::Config;
use carepost_core::AccessContext;

use crate::cli::{ApikeyArgs, ApikeyCommand};
use crate::context;

pub async fn run(config: &Config, args: ApikeyArgs) -> anyhow::Result<ExitCode> {
    let by = AccessContext::system("cli");
    let store = context::open_existing(config).await?;
    match args.command {
        ApikeyCommand::Create { scopes, name, org } => {
            let scope = store.org_named(&org).await?;
            let key = scope.create_api_key(&by, &name, &scopes).await?;
            eprintln!(
                "API key {} for organization {org} with scopes {}; the token is shown once:",
                key.id,
                scopes.join(", ")
            );
            println!("{}", key.token);
        }
        ApikeyCommand::Revoke { id, org } => {
            let scope = store.org_named(&org).await?;
            if !scope.revoke_api_key(&by, &id).await? {
                anyhow::bail!("organization {org} has no active API key {id}");
            }
            println!("revoked API key {id}");
        }
    }
    Ok(ExitCode::SUCCESS)
}
