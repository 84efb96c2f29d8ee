//! `carepost smtp-user`: SMTP submission credentials.

use std::process::ExitCode;

use carepost_config::Config;
use carepost_core::AccessContext;

use crate::cli::{SmtpUserArgs, SmtpUserCommand};
use crate::context;

pub async fn run(config: &Config, args: SmtpUserArgs) -> anyhow::Result<ExitCode> {
    let by = AccessContext::system("cli");
    let store = context::open_existing(config).await?;
    match args.command {
        SmtpUserCommand::Create {
            name,
            from_domains,
            org,
        } => {
            let scope = store.org_named(&org).await?;
            let user = scope.create_smtp_user(&by, &name, &from_domains).await?;
            eprintln!(
                "SMTP user {} for organization {org}, allowed to send as {}; \
                 AUTH PLAIN or LOGIN over TLS only. The password is shown once:",
                user.name,
                from_domains.join(", ")
            );
            println!("{}", user.password);
        }
        SmtpUserCommand::Revoke { name, org } => {
            let scope = store.org_named(&org).await?;
            if !scope.revoke_smtp_user(&by, &name).await? {
                anyhow::bail!("organization {org} has no active SMTP user {name}");
            }
            println!("revoked SMTP user {name}");
        }
    }
    Ok(ExitCode::SUCCESS)
}
