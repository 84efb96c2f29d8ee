//! `carepost bench`: figures for the README, measured on this machine.

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use carepost_audit::{AuditEvent, ObjectRef};
use carepost_config::Config;
use carepost_core::{AccessContext, Actor, OrgId};
use carepost_crypto::{DataKey, FieldContext, LocalKeyProvider, OrgKeyring};
use carepost_store::{Location, Store, StoreConfig};
use sqlx::{Connection, Executor};

use crate::cli::{BenchArgs, BenchBackend, BenchCommand};

pub async fn run(_config: &Config, args: BenchArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        BenchCommand::Dlp => {
            let scanner = carepost_policy::Scanner::with_defaults()?;
            let report = carepost_policy::bench::run(
                &scanner,
                carepost_policy::bench::BenchOptions::default(),
            )?;
            println!("{report}");
            Ok(ExitCode::SUCCESS)
        }
        BenchCommand::Delivery {
            messages,
            clients,
            size,
            backend,
            postgres_url,
        } => {
            let options = |database_url| super::bench_delivery::Options {
                messages,
                clients,
                size,
                database_url,
            };
            if matches!(backend, BenchBackend::Sqlite | BenchBackend::Both) {
                super::bench_delivery::run("sqlite", options(None)).await?;
            }
            if matches!(backend, BenchBackend::Postgres | BenchBackend::Both) {
                let scratch = ScratchPostgres::create(&postgres_url).await?;
                let result =
                    super::bench_delivery::run("postgres", options(Some(scratch.url.clone())))
                        .await;
                scratch.drop_database().await?;
                result?;
            }
            Ok(ExitCode::SUCCESS)
        }
        BenchCommand::Crypto { seconds } => crypto(Duration::from_secs_f64(seconds.max(0.1))),
        BenchCommand::Audit {
            backend,
            records,
            concurrency,
            postgres_url,
        } => {
            if matches!(backend, BenchBackend::Sqlite | BenchBackend::Both) {
                let dir = tempfile::tempdir()?;
                let location = Location::Sqlite(dir.path().join("bench.db"));
                audit("sqlite", location, records, concurrency).await?;
            }
            if matches!(backend, BenchBackend::Postgres | BenchBackend::Both) {
                let scratch = ScratchPostgres::create(&postgres_url).await?;
                let result = audit(
                    "postgres",
                    Location::Postgres(scratch.url.clone()),
                    records,
                    concurrency,
                )
                .await;
                scratch.drop_database().await?;
                result?;
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn crypto(per_case: Duration) -> anyhow::Result<ExitCode> {
    let ring = OrgKeyring::new(OrgId::new(), 1, &[DataKey::generate(1)?])?;
    let at = FieldContext {
        table: "contacts",
        column: "attributes",
        row: "0190d4f2-7c1e-7a3b-9c2d-5e6f7a8b9c0d",
    };
    println!("field encryption, AES-256-GCM with row-bound associated data, one core:");
    println!(
        "{:>10} {:>14} {:>14} {:>14}",
        "size", "seal MB/s", "open MB/s", "seal ops/s"
    );
    for size in [256usize, 1024, 16 * 1024, 256 * 1024] {
        let plain = vec![0x5au8; size];
        let (mut n, started) = (0u64, Instant::now());
        let mut sealed = Vec::new();
        while started.elapsed() < per_case {
            sealed = ring.seal(&at, &plain)?;
            n += 1;
        }
        let seal_secs = started.elapsed().as_secs_f64();
        let (mut m, started) = (0u64, Instant::now());
        while started.elapsed() < per_case {
            std::hint::black_box(ring.open(&at, &sealed)?);
            m += 1;
        }
        let open_secs = started.elapsed().as_secs_f64();
        let mb = |count: u64, secs: f64| count as f64 * size as f64 / secs / 1e6;
        println!(
            "{:>10} {:>14.0} {:>14.0} {:>14.0}",
            human(size),
            mb(n, seal_secs),
            mb(m, open_secs),
            n as f64 / seal_secs
        );
    }
    Ok(ExitCode::SUCCESS)
}

async fn audit(
    name: &str,
    location: Location,
    records: u64,
    concurrency: u64,
) -> anyhow::Result<()> {
    let mut keys = BTreeMap::new();
    keys.insert(
        1,
        zeroize::Zeroizing::new(carepost_crypto::random_bytes::<32>()?),
    );
    let provider = Arc::new(LocalKeyProvider::new("bench", keys)?);
    let store = Store::open(&StoreConfig::new(location), provider).await?;
    let org = store
        .create_organization("bench", &AccessContext::system("bench"))
        .await?;
    let scope = store.org(org.id).await?;
    let concurrency = concurrency.max(1);
    let per_task = records / concurrency;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for t in 0..concurrency {
        let scope = scope.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..per_task {
                let e = AuditEvent::new(
                    Actor::ApiKey(format!("key-{t}")),
                    "message.send",
                    ObjectRef::new("message", i),
                )
                .detail(serde_json::json!({ "recipients": 1 }));
                scope.audit(e).await?;
            }
            Ok::<_, carepost_store::StoreError>(())
        }));
    }
    for t in tasks {
        t.await??;
    }
    let appended = per_task * concurrency;
    let append_secs = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let report = scope.verify_audit_chain(None).await?;
    let verify_secs = started.elapsed().as_secs_f64();
    anyhow::ensure!(
        report.is_intact(),
        "the benchmark chain does not verify: {:?}",
        report.problem
    );
    println!(
        "audit on {name:<8}: {appended} records from {concurrency} concurrent writers in {append_secs:.2} s = {:.0} records/s (durable, hash-chained); verify {:.0} records/s",
        appended as f64 / append_secs,
        report.records as f64 / verify_secs
    );
    Ok(())
}

/// A uniquely named database on a PostgreSQL server, for one benchmark run.
struct ScratchPostgres {
    admin: sqlx::PgConnection,
    name: String,
    url: String,
}

impl ScratchPostgres {
    async fn create(server_url: &str) -> anyhow::Result<ScratchPostgres> {
        let name = format!("carepost_bench_{}", uuid::Uuid::new_v4().simple());
        let mut admin = sqlx::PgConnection::connect(server_url)
            .await
            .with_context(|| format!("cannot reach PostgreSQL at {server_url} (--postgres-url)"))?;
        admin
            .execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .await?;
        let base = server_url.rsplit_once('/').map_or(server_url, |(b, _)| b);
        let url = format!("{base}/{name}");
        Ok(ScratchPostgres { admin, name, url })
    }

    async fn drop_database(mut self) -> anyhow::Result<()> {
        let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        self.admin.execute(sqlx::AssertSqlSafe(sql)).await?;
        Ok(())
    }
}

fn human(bytes: usize) -> String {
    if bytes >= 1024 {
        format!("{} KiB", bytes / 1024)
    } else {
        format!("{bytes} B")
    }
}
