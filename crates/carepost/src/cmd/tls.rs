//! `carepost tls check DOMAIN`: the delivery engine's own TLS check, reported.

use std::process::ExitCode;

use carepost_config::Config;
use carepost_gateway::tls_check;

use crate::cli::{TlsArgs, TlsCommand};
use crate::mail;

pub async fn run(config: &Config, args: TlsArgs) -> anyhow::Result<ExitCode> {
    let TlsCommand::Check { domain, json } = args.command;
    let deliverer = mail::deliverer(config)?;
    let report = tls_check::check(&deliverer, &domain).await;
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", report.render());
    }
    let deliverable = report.hosts.iter().any(|h| h.deliverable);
    Ok(if deliverable {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
