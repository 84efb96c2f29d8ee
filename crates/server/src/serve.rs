//! Serving with a graceful shutdown.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use futures::FutureExt;
use tokio::net::TcpListener;

use crate::ClientAddr;
use crate::tls::TlsListener;

/// How to serve.
#[derive(Clone)]
pub struct ServeOptions {
    /// HTTPS when set; plain HTTP otherwise.
    pub tls: Option<Arc<rustls::ServerConfig>>,
    /// After the shutdown signal, how long requests in flight may take to finish.
    pub shutdown_grace: Duration,
}

/// Serves `app` on `listener` until `shutdown` completes; then stops accepting, lets
/// requests in flight finish within the grace period, and returns.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    options: ServeOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let shutdown = shutdown.shared();
    let grace = options.shutdown_grace;
    let expired = {
        let shutdown = shutdown.clone();
        async move {
            shutdown.await;
            tokio::time::sleep(grace).await;
        }
    };
    let service = app.into_make_service_with_connect_info::<ClientAddr>();
    let served = async {
        match options.tls {
            Some(config) => {
                let tls = TlsListener::new(listener, config)?;
                axum::serve(tls, service)
                    .with_graceful_shutdown(shutdown.clone())
                    .await
            }
            None => {
                axum::serve(listener, service)
                    .with_graceful_shutdown(shutdown.clone())
                    .await
            }
        }
    };
    tokio::select! {
        r = served => r,
        () = expired => {
            tracing::warn!(grace_ms = grace.as_millis() as u64, "requests still in flight after the shutdown grace period; closing");
            Ok(())
        }
    }
}
