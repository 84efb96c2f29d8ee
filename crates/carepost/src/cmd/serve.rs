//! `carepost serve`: open the store (creating the key and the `default` organization on
//! a first start), run the background workers and the queue runner, serve HTTP and SMTP
//! submission until SIGTERM or Ctrl-C.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use carepost_audit::{AuditEvent, ObjectRef, actions};
use carepost_config::Config;
use carepost_core::{AccessContext, DEFAULT_ORGANIZATION};
use carepost_delivery::{QueueRunner, StoreSubmissions};
use carepost_gateway::inbound::SubmissionServer;
use carepost_server::{AppState, ServeOptions};
use carepost_store::Store;
use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};

use crate::cli::ServeArgs;
use crate::{context, mail};

pub async fn run(mut config: Config, args: ServeArgs) -> anyhow::Result<ExitCode> {
    if let Some(listen) = args.listen {
        config.server.listen = listen;
    }
    if let Some(listen) = args.smtp_listen {
        config.smtp.listen = listen;
    }
    if let Some(listen) = args.smtps_listen {
        config.smtp.tls_listen = listen;
    }
    let keys = context::load_keys(&config, true)?;
    let store = context::open_store(&config, keys.provider.clone()).await?;
    let system = AccessContext::system("serve");
    let (org, org_created) = store
        .ensure_organization(DEFAULT_ORGANIZATION, &system)
        .await?;
    store
        .org(org.id)
        .await?
        .audit(AuditEvent::new(
            system.actor.clone(),
            actions::SERVER_START,
            ObjectRef::new("node", std::process::id()),
        ))
        .await?;

    let tls = match (&config.server.tls_cert, &config.server.tls_key) {
        (Some(cert), Some(key)) => Some(carepost_server::tls::server_config(cert, key)?),
        _ => None,
    };
    let listener = TcpListener::bind(config.server.listen)
        .await
        .with_context(|| {
            format!(
                "cannot listen on {} (server.listen / --listen)",
                config.server.listen
            )
        })?;
    let addr = listener.local_addr()?;

    let wake = Arc::new(Notify::new());
    let mut policy = carepost_delivery::ProtectionPolicy::new(
        carepost_policy::Scanner::with_defaults()?,
        context::protection_rules(&config)?,
    );
    policy.quarantine_max_age = config.dlp.quarantine_max_age;
    policy.compliance_contact = config.dlp.compliance_contact.clone();
    let policy = Arc::new(policy);
    // The patient name index is built before the first message is screened.
    let mut names_seen = carepost_delivery::protection_policy::NameFingerprints::new();
    carepost_delivery::protection_policy::refresh_names(&store, &policy, &mut names_seen).await?;
    carepost_delivery::protection_policy::refresh_rules(&store, &policy).await?;
    let intake = mail::intake(&config, wake.clone(), policy.clone());
    let transport = mail::transport(&config)?;
    let runner = QueueRunner::new(
        store.clone(),
        transport.clone(),
        mail::runner_settings(&config),
        wake,
    );
    let submission = if config.smtp.enabled {
        let (tls, certificate) = mail::submission_tls(&config)?;
        let starttls = mail::bind(config.smtp.listen, "smtp.listen / --smtp-listen").await?;
        let implicit =
            mail::bind(config.smtp.tls_listen, "smtp.tls_listen / --smtps-listen").await?;
        let handler = Arc::new(StoreSubmissions::with_limits(
            store.clone(),
            intake.clone(),
            config.smtp.max_messages_per_minute_per_user,
            config.smtp.max_messages_per_minute_per_ip,
        ));
        let server = SubmissionServer::new(mail::submission_config(&config)?, tls, handler);
        Some((server, starttls, implicit, certificate))
    } else {
        None
    };

    let scheme = if tls.is_some() { "https" } else { "http" };
    println!("carepost {} started", env!("CARGO_PKG_VERSION"));
    println!("  http:         {scheme}://{addr}  (/healthz, /readyz, /metrics, /api/v1)");
    match &submission {
        Some((_, starttls, implicit, certificate)) => {
            println!(
                "  smtp:         {} (STARTTLS submission)",
                starttls.local_addr()?
            );
            println!(
                "  smtps:        {} (implicit-TLS submission)",
                implicit.local_addr()?
            );
            println!("  smtp cert:    {certificate}");
        }
        None => println!("  smtp:         off (smtp.enabled = false)"),
    }
    match &transport {
        carepost_delivery::Transport::Sandbox => println!(
            "  delivery:     sandbox (nothing leaves this machine; GET /api/v1/sandbox/messages)"
        ),
        carepost_delivery::Transport::Direct(_)
            if config.delivery.mode == carepost_config::DeliveryMode::Smarthost =>
        {
            println!(
                "  delivery:     smarthost {} (verified TLS and AUTH)",
                config
                    .delivery
                    .smarthost
                    .host
                    .as_deref()
                    .unwrap_or_default()
            )
        }
        carepost_delivery::Transport::Direct(_) => {
            println!("  delivery:     direct (MX delivery under verified TLS only)")
        }
    }
    println!("  store:        {}", store.describe());
    match &keys.file {
        Some((path, _)) if keys.created => {
            println!(
                "  master key:   {} (generated now, mode 0600: back it up apart from the database)",
                path.display()
            )
        }
        Some((path, _)) => println!("  master key:   {}", path.display()),
        None => println!("  master key:   from CAREPOST_MASTER_KEY"),
    }
    println!(
        "  organization: {}{}",
        org.name,
        if org_created { " (created)" } else { "" }
    );
    tracing::info!(listen = %addr, store = store.backend_name(), "carepost started");

    let workers = vec![
        tokio::spawn(checkpoint_worker(
            store.clone(),
            config.audit.checkpoint_interval,
        )),
        tokio::spawn(reencrypt_worker(store.clone())),
        tokio::spawn(carepost_delivery::protection_policy::keep_names_fresh(
            store.clone(),
            policy,
            Duration::from_secs(30),
        )),
    ];
    let (stop, stopping) = watch::channel(false);
    let stopped = move || {
        let mut stopping = stopping.clone();
        async move {
            let _ = stopping.wait_for(|stop| *stop).await;
        }
    };
    let runner_task = tokio::spawn(runner.run(stopped()));
    let mut smtp_tasks = Vec::new();
    if let Some((server, starttls, implicit, _)) = submission {
        let server = Arc::new(server);
        let (s1, s2) = (server.clone(), server);
        let (d1, d2) = (stopped(), stopped());
        smtp_tasks.push(tokio::spawn(async move {
            s1.serve_starttls(starttls, d1).await
        }));
        smtp_tasks.push(tokio::spawn(async move {
            s2.serve_implicit_tls(implicit, d2).await
        }));
    }
    tokio::spawn(async move {
        shutdown_signal().await;
        let _ = stop.send(true);
    });

    let mut state = AppState::with_intake(store.clone(), intake);
    state.max_body_bytes = config.server.max_body_bytes;
    state.request_timeout = config.server.request_timeout;
    let options = ServeOptions {
        tls,
        shutdown_grace: config.server.shutdown_grace,
    };
    carepost_server::serve(listener, carepost_server::router(state), options, stopped()).await?;

    // Submissions in flight finish (or are dropped unanswered after the grace, so the
    // client retries); the runner's claims of an unfinished round are released at the
    // next start.
    for t in smtp_tasks {
        let _ = t.await;
    }
    let _ = runner_task.await;
    for w in workers {
        w.abort();
    }
    checkpoint_all(&store).await;
    tracing::info!("carepost stopped");
    println!("carepost stopped");
    Ok(ExitCode::SUCCESS)
}

async fn shutdown_signal() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = terminate => {}
    }
    tracing::info!("shutdown requested; finishing requests in flight");
}

/// Signs each organization's chain head every `interval`.
async fn checkpoint_worker(store: Store, interval: Duration) {
    let mut tick = tokio::time::interval(interval);
    tick.tick().await;
    loop {
        tick.tick().await;
        checkpoint_all(&store).await;
    }
}

async fn checkpoint_all(store: &Store) {
    let Ok(orgs) = store.organizations().await else {
        return;
    };
    for o in orgs {
        match store
            .org(o.id)
            .await
            .map(|s| async move { s.checkpoint_audit().await })
        {
            Ok(f) => {
                if let Err(e) = f.await {
                    tracing::error!(org = %o.id, error = %e, "audit checkpoint failed");
                }
            }
            Err(e) => tracing::error!(org = %o.id, error = %e, "audit checkpoint failed"),
        }
    }
}

/// Moves rows off old data key versions after a rotation, in small batches, so that the
/// server keeps serving meanwhile. Picks up rotations made by the CLI or other nodes.
async fn reencrypt_worker(store: Store) {
    let by = AccessContext::system("reencrypt");
    loop {
        let mut busy = false;
        if let Ok(orgs) = store.organizations().await {
            for o in orgs {
                let step = async {
                    let scope = store.org_fresh(o.id).await?;
                    scope.reencrypt_step(&by, 500).await
                };
                match step.await {
                    Ok(p) if p.rewritten > 0 => {
                        busy = p.remaining > 0;
                        tracing::info!(org = %o.id, rewritten = p.rewritten, remaining = p.remaining, "re-encrypting");
                    }
                    Ok(_) => {}
                    Err(e) => tracing::error!(org = %o.id, error = %e, "re-encryption failed"),
                }
            }
        }
        let pause = if busy {
            Duration::from_millis(50)
        } else {
            Duration::from_secs(5)
        };
        tokio::time::sleep(pause).await;
    }
}
