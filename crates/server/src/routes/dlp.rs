//! `POST /api/v1/dlp/scan`: find PHI in a text and say what protection it needs. For rule
//! tuning and outside evaluation; the scan is audited with the PHI types and counts found,
//! never the values.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use carepost_audit::{AuditEvent, ObjectRef};
use carepost_policy::api::{ScanRequest, ScanResponse, scan_request};

use crate::{ApiError, ApiJson, AppState, Caller};

pub(crate) async fn scan(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(request): ApiJson<ScanRequest>,
) -> Result<Json<ScanResponse>, ApiError> {
    caller.require("dlp:scan")?;
    let org = caller.org(&state).await?;
    let org_id = org.org_id();
    let dlp = state.dlp.clone();
    // Scanning is CPU work: keep it off the threads that serve other requests.
    let response = tokio::task::spawn_blocking(move || {
        scan_request(&dlp.scanner, &dlp.names(org_id), &dlp.rules, &request)
    })
    .await
    .map_err(|_| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "scan_failed",
            "the scan failed; retry",
        )
    })?;
    let mut types: BTreeMap<String, u32> = BTreeMap::new();
    for f in &response.findings {
        *types.entry(f.phi_type.to_string()).or_default() += 1;
    }
    let detail = serde_json::json!({ "contains_phi": response.contains_phi, "types": types });
    let access = caller.access();
    org.audit(
        AuditEvent::new(
            access.actor,
            "dlp.scan",
            ObjectRef::new("api_key", &caller.principal.key_id),
        )
        .source(access.source)
        .detail(detail),
    )
    .await?;
    Ok(Json(response))
}
