//! Routes, one file per resource.

mod contacts;
mod dlp;
mod health;

use axum::Router;
use axum::routing::{get, post};

use crate::AppState;

pub(crate) fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(health::metrics))
        .route("/api/v1/contacts", post(contacts::create))
        .route("/api/v1/dlp/scan", post(dlp::scan))
        .route(
            "/api/v1/contacts/{id}",
            get(contacts::read).delete(contacts::delete),
        )
        .fallback(health::not_found)
        .with_state(state)
}
