//! `carepost audit`: verify, export, public keys, checkpoints.

use std::collections::HashMap;
use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;
use carepost_audit::export::{Exporter, Format};
use carepost_audit::{AuditEvent, ObjectRef, actions};
use carepost_config::Config;
use carepost_core::AccessContext;
use serde::{Deserialize, Serialize};

use crate::cli::{AuditArgs, AuditCommand, ExportFormat};
use crate::context;

/// The public key file `audit public-key` writes and `audit verify --public-key` reads.
#[derive(Serialize, Deserialize)]
struct PublicKeys {
    organizations: Vec<OrgKeys>,
}

#[derive(Serialize, Deserialize)]
struct OrgKeys {
    id: String,
    name: String,
    /// key id → Ed25519 public key, hex.
    keys: HashMap<String, String>,
}

pub async fn run(config: &Config, args: AuditArgs) -> anyhow::Result<ExitCode> {
    let by = AccessContext::system("cli");
    let store = context::open_existing(config).await?;
    match args.command {
        AuditCommand::Verify {
            org,
            public_key,
            json,
        } => {
            let trusted = match public_key {
                Some(path) => {
                    let text = std::fs::read_to_string(&path)
                        .with_context(|| format!("cannot read {}", path.display()))?;
                    let keys: PublicKeys = serde_json::from_str(&text).with_context(|| {
                        format!(
                            "{} is not a file written by `carepost audit public-key`",
                            path.display()
                        )
                    })?;
                    Some(keys)
                }
                None => None,
            };
            let mut intact = true;
            let mut reports = Vec::new();
            for (name, scope) in context::orgs(&store, org.as_deref()).await? {
                let keys = match &trusted {
                    Some(t) => Some(trusted_for(t, &scope.org_id().to_string())?),
                    None => None,
                };
                let report = scope.verify_audit_chain(keys.as_ref()).await?;
                intact &= report.is_intact();
                if !json {
                    print_report(&name, &report);
                }
                let detail =
                    serde_json::json!({ "intact": report.is_intact(), "records": report.records });
                scope
                    .audit(
                        AuditEvent::new(
                            by.actor.clone(),
                            actions::AUDIT_VERIFY,
                            ObjectRef::new("audit_log", scope.org_id()),
                        )
                        .detail(detail),
                    )
                    .await?;
                reports.push(serde_json::json!({ "organization": name, "report": report }));
            }
            if json {
                println!("{}", serde_json::to_string_pretty(&reports)?);
            }
            Ok(if intact {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        AuditCommand::Export {
            since,
            until,
            format,
            org,
            output,
        } => {
            let since = context::parse_time(&since)?;
            let until = match until {
                Some(u) => context::parse_time(&u)?,
                None => i64::MAX,
            };
            let format = match format {
                ExportFormat::Jsonl => Format::JsonLines,
                ExportFormat::Csv => Format::Csv,
            };
            let sink: Box<dyn Write> = match &output {
                Some(p) => Box::new(std::io::BufWriter::new(
                    std::fs::File::create(p)
                        .with_context(|| format!("cannot create {}", p.display()))?,
                )),
                None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
            };
            let mut exporter = Exporter::new(format, sink)?;
            let mut count = 0u64;
            for (_, scope) in context::orgs(&store, org.as_deref()).await? {
                let mut after = 0;
                loop {
                    let page = scope
                        .audit_records_between(since, until, after, 5000)
                        .await?;
                    let Some(last) = page.last() else { break };
                    after = last.seq;
                    for r in &page {
                        exporter.write(r)?;
                        count += 1;
                    }
                }
                let detail = serde_json::json!({ "records": count });
                scope
                    .audit(
                        AuditEvent::new(
                            by.actor.clone(),
                            actions::AUDIT_EXPORT,
                            ObjectRef::new("audit_log", scope.org_id()),
                        )
                        .detail(detail),
                    )
                    .await?;
            }
            exporter.finish()?;
            if let Some(p) = output {
                eprintln!("exported {count} records to {}", p.display());
            }
            Ok(ExitCode::SUCCESS)
        }
        AuditCommand::PublicKey { org } => {
            let mut out = PublicKeys {
                organizations: Vec::new(),
            };
            for (name, scope) in context::orgs(&store, org.as_deref()).await? {
                let keys = scope
                    .audit_public_keys()
                    .await?
                    .into_iter()
                    .map(|(k, v)| (k, hex::encode(v)))
                    .collect();
                out.organizations.push(OrgKeys {
                    id: scope.org_id().to_string(),
                    name,
                    keys,
                });
            }
            println!("{}", serde_json::to_string_pretty(&out)?);
            Ok(ExitCode::SUCCESS)
        }
        AuditCommand::Checkpoint { org } => {
            for (name, scope) in context::orgs(&store, org.as_deref()).await? {
                match scope.checkpoint_audit().await? {
                    Some(cp) => println!(
                        "organization {name}: signed checkpoint at record {}",
                        cp.seq
                    ),
                    None => println!("organization {name}: already signed up to its last record"),
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn trusted_for(keys: &PublicKeys, org_id: &str) -> anyhow::Result<HashMap<String, Vec<u8>>> {
    let Some(entry) = keys.organizations.iter().find(|o| o.id == org_id) else {
        anyhow::bail!("the public key file has no keys for organization {org_id}");
    };
    entry
        .keys
        .iter()
        .map(|(k, v)| {
            Ok((
                k.clone(),
                hex::decode(v).with_context(|| format!("key {k} is not hex"))?,
            ))
        })
        .collect()
}

fn print_report(name: &str, r: &carepost_audit::VerifyReport) {
    let covered = match r.last_checkpoint_seq {
        Some(s) => format!(
            "last signed checkpoint at record {s}, {} records after it",
            r.last_seq - s
        ),
        None => "no signed checkpoint yet".to_owned(),
    };
    match &r.problem {
        None => println!(
            "organization {name}: intact, {} records, {} checkpoints ({covered})",
            r.records, r.checkpoints
        ),
        Some(p) => println!("organization {name}: NOT INTACT: {p}"),
    }
}
