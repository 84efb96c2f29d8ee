//! carepost's HTTP server.
//!
//! [`router`] builds the application: `GET /healthz` (the process is up), `GET /readyz`
//! (the store answers and its migrations are applied), `GET /metrics` (Prometheus text;
//! labels are route templates and status codes, never values from a request) and the
//! JSON API under `/api/v1`. Every request gets an id (`x-request-id`, taken from the
//! request when it carries a sane one), which is on every log line of the request and on
//! the response. [`serve`] listens over plain TCP or TLS 1.2+ and, on shutdown, stops
//! accepting, lets requests in flight finish for a grace period, then closes.
//!
//! The server refuses: malformed JSON bodies (400 naming the field, never echoing its
//! value), missing or wrong API keys (401), keys without the needed scope (403),
//! bodies over the configured size (413).
#![forbid(unsafe_code)]

mod error;
mod extract;
mod observe;
mod routes;
mod serve;
mod state;
pub mod tls;

pub use error::ApiError;
pub use extract::{ApiJson, Caller, ClientAddr, decode_json};
pub use observe::{REQUEST_ID, metrics_handle};
pub use serve::{ServeOptions, serve};
pub use state::AppState;

use axum::Router;

/// The whole application, ready to serve.
pub fn router(state: AppState) -> Router {
    // Install the recorder before the first request is counted.
    metrics_handle();
    routes::router(state.clone())
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            observe::observe,
        ))
        .layer(axum::extract::DefaultBodyLimit::max(state.max_body_bytes))
}
