//! Routes, one file per resource.

mod contacts;
mod dlp;
mod health;
mod messages;
mod policy;
mod quarantine;
mod sandbox;
mod suppressions;

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
        .route("/api/v1/messages", post(messages::send))
        .route("/api/v1/messages/{id}", get(messages::status))
        .route(
            "/api/v1/policy/rules",
            get(policy::rules).put(policy::replace),
        )
        .route("/api/v1/quarantine", get(quarantine::list))
        .route("/api/v1/quarantine/{id}", get(quarantine::view))
        .route("/api/v1/quarantine/{id}/release", post(quarantine::release))
        .route("/api/v1/quarantine/{id}/reject", post(quarantine::reject))
        .route("/api/v1/suppressions", get(suppressions::list))
        .route("/api/v1/suppressions/remove", post(suppressions::remove))
        .route("/api/v1/sandbox/messages", get(sandbox::list))
        .route("/api/v1/sandbox/messages/{id}/raw", get(sandbox::raw))
        .fallback(health::not_found)
        .with_state(state)
}
