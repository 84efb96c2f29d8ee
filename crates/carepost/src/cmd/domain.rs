//! `carepost domain check DOMAIN`: the sending domain's authentication records, compared
//! with the organization's DKIM keys.

use std::process::ExitCode;

use anyhow::Context;
use carepost_config::Config;
use carepost_gateway::dns::{DnsLookup, HickoryDns};
use carepost_gateway::domain_check::{DomainCheckInput, check_domain};

use crate::cli::{DomainArgs, DomainCommand};
use crate::context;

pub async fn run(config: &Config, args: DomainArgs) -> anyhow::Result<ExitCode> {
    let DomainCommand::Check {
        domain,
        mut selectors,
        json,
        org,
    } = args.command;
    let wanted = domain.trim().trim_end_matches('.').to_ascii_lowercase();
    let mut expected = Vec::new();
    // The organization's own keys, when a store exists; the check works without one.
    if let Ok(store) = context::open_existing(config).await
        && let Ok(scope) = store.org_named(&org).await
    {
        for key in scope.dkim_keys().await? {
            if key.domain == wanted {
                if !selectors.contains(&key.selector) {
                    selectors.push(key.selector.clone());
                }
                expected.push((key.selector, key.public_key));
            }
        }
    }
    let dns: Box<dyn DnsLookup> = Box::new(
        HickoryDns::from_system_config()
            .context("cannot set up the DNS resolver; check /etc/resolv.conf")?,
    );
    let input = DomainCheckInput {
        domain: &domain,
        dkim_selectors: &selectors,
        expected_dkim_public_keys: &expected,
    };
    let report = check_domain(dns.as_ref(), &input).await;
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", report.render());
    }
    Ok(if report.is_complete() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
