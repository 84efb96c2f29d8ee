//! The HTTP server, served for real on loopback.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod api;
mod lifecycle;
mod messages;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use carepost_core::AccessContext;
use carepost_server::{AppState, ServeOptions, router, serve};
use carepost_store::testing::{Kind, TestDb, key_provider};
use carepost_store::{OrgScope, Store};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

pub(crate) struct Running {
    pub addr: SocketAddr,
    pub org: OrgScope,
    /// The store the server runs over (for a queue runner, or a second organization).
    pub store: Store,
    pub stop: Option<oneshot::Sender<()>>,
    pub done: tokio::task::JoinHandle<std::io::Result<()>>,
    pub _db: Arc<TestDb>,
}

pub(crate) async fn start_with(
    db: Arc<TestDb>,
    extra: Router,
    tls: Option<Arc<rustls::ServerConfig>>,
) -> Running {
    let store = db.open(key_provider(1, &[1])).await;
    let org = store
        .create_organization("clinic", &AccessContext::system("test"))
        .await
        .unwrap();
    let org = store.org(org.id).await.unwrap();
    let mut state = AppState::new(store.clone()).unwrap();
    state.max_body_bytes = 64 * 1024;
    let app = router(state).merge(extra);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let options = ServeOptions {
        tls,
        shutdown_grace: std::time::Duration::from_secs(60),
    };
    let done = tokio::spawn(serve(listener, app, options, async move {
        let _ = stopped.await;
    }));
    Running {
        addr,
        org,
        store,
        stop: Some(stop),
        done,
        _db: db,
    }
}

pub(crate) async fn start() -> Running {
    start_with(
        Arc::new(TestDb::new(Kind::Sqlite).await),
        Router::new(),
        None,
    )
    .await
}

pub(crate) fn url(r: &Running, path: &str) -> String {
    format!("http://{}{path}", r.addr)
}
