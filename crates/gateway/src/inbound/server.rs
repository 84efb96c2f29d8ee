//! The listeners: accepting connections, and stopping them on shutdown.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;

use super::config::SubmissionConfig;
use super::driver::{Context, Listener, serve_connection};
use super::handler::SubmissionHandler;
use super::limiter::ConnectionLimiter;

/// The SMTP submission server.
///
/// One server may run both listeners at once (for example with `tokio::join!`); they share
/// the connection limits.
pub struct SubmissionServer<H> {
    context: Arc<Context<H>>,
}

impl<H: SubmissionHandler> SubmissionServer<H> {
    /// A server presenting `tls` (the caller's certificate; rustls speaks TLS 1.2 and 1.3
    /// only) and handing credentials and messages to `handler`.
    pub fn new(
        config: SubmissionConfig,
        tls: Arc<rustls::ServerConfig>,
        handler: Arc<H>,
    ) -> SubmissionServer<H> {
        let limits = &config.limits;
        let limiter = ConnectionLimiter::new(limits.max_connections, limits.max_connections_per_ip);
        SubmissionServer {
            context: Arc::new(Context {
                config: Arc::new(config),
                acceptor: TlsAcceptor::from(tls),
                handler,
                limiter: Arc::new(limiter),
            }),
        }
    }

    /// Serves the STARTTLS listener (port 587 style) until `shutdown` completes.
    pub async fn serve_starttls(&self, listener: TcpListener, shutdown: impl Future<Output = ()>) {
        self.serve(listener, Listener::StartTls, shutdown).await;
    }

    /// Serves the implicit-TLS listener (port 465 style) until `shutdown` completes.
    pub async fn serve_implicit_tls(
        &self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()>,
    ) {
        self.serve(listener, Listener::ImplicitTls, shutdown).await;
    }

    /// Accepts until `shutdown`; then stops accepting, lets idle sessions reply `421` and
    /// transactions in flight finish, and drops what is left after
    /// [`SubmissionConfig::shutdown_grace`].
    async fn serve(
        &self,
        listener: TcpListener,
        kind: Listener,
        shutdown: impl Future<Output = ()>,
    ) {
        let (stop, stopping) = watch::channel(false);
        let mut connections = JoinSet::new();
        let mut shutdown = std::pin::pin!(shutdown);
        tracing::info!(listener = ?kind, address = ?listener.local_addr().ok(), "submission listener started");

        loop {
            tokio::select! {
                () = &mut shutdown => break,
                accepted = listener.accept() => match accepted {
                    Ok((tcp, peer)) => {
                        let _ = tcp.set_nodelay(true);
                        let context = self.context.clone();
                        let stopping = stopping.clone();
                        connections.spawn(serve_connection(context, tcp, peer, kind, stopping));
                    }
                    Err(error) => {
                        // Out of file descriptors and the like: wait instead of spinning.
                        tracing::warn!(%error, "accepting a connection failed");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                },
                Some(_) = connections.join_next(), if !connections.is_empty() => {}
            }
        }

        drop(listener);
        let _ = stop.send(true);
        let open = connections.len();
        tracing::info!(listener = ?kind, open, "submission listener stopping");
        let grace = self.context.config.shutdown_grace;
        let drained = tokio::time::timeout(grace, async {
            while connections.join_next().await.is_some() {}
        })
        .await;
        if drained.is_err() {
            tracing::warn!(
                listener = ?kind,
                dropped = connections.len(),
                "shutdown grace elapsed, dropping connections"
            );
            connections.shutdown().await;
        }
        tracing::info!(listener = ?kind, "submission listener stopped");
    }
}
