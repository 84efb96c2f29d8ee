//! `/api/v1/quarantine`: messages the protection policy holds for review. Listing shows
//! reasons, rule names, PHI types and counts; viewing one shows its content and is
//! audited; release queues it, reject bounces it and tells the sender.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use carepost_core::MessageId;
use carepost_store::HeldMessage;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::{ApiError, ApiJson, AppState, Caller};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListQuery {
    #[serde(default)]
    limit: Option<i64>,
    /// Include resolved holds.
    #[serde(default)]
    all: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RejectRequest {
    /// Sent to the sender: the reviewer's words (no PHI).
    reason: String,
}

fn summary(h: &HeldMessage) -> Value {
    json!({
        "id": h.message_id,
        "reason": h.reason,
        "policy": h.policy,
        "size": h.size,
        "recipients": h.recipients,
        "held_at": h.held_at,
        "expires_at": h.expires_at,
        "resolution": h.resolution,
        "resolved_at": h.resolved_at,
        "resolved_by": h.resolved_by,
    })
}

fn message_id(id: &str) -> Result<MessageId, ApiError> {
    id.parse().map_err(|_| ApiError::not_found("held message"))
}

pub(crate) async fn list(
    State(state): State<AppState>,
    caller: Caller,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    caller.require("quarantine:read")?;
    let Query(query) = query.map_err(|_| {
        ApiError::bad_request("query parameters are limit (1 to 500) and all (true or false)")
    })?;
    let limit = query.limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::bad_request("limit must be 1 to 500").field("limit"));
    }
    let org = caller.org(&state).await?;
    let held = org
        .quarantine_list(&caller.access(), query.all.unwrap_or(false), limit)
        .await?;
    let held: Vec<Value> = held.iter().map(summary).collect();
    Ok(Json(json!({ "messages": held })))
}

pub(crate) async fn view(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    caller.require("quarantine:read")?;
    let id = message_id(&id)?;
    let org = caller.org(&state).await?;
    let held = org
        .quarantined(&caller.access(), id)
        .await?
        .ok_or_else(|| ApiError::not_found("held message"))?;
    let message = org
        .queued_message(id)
        .await?
        .ok_or_else(|| ApiError::not_found("held message"))?;
    let recipients: Vec<&String> = message
        .envelope
        .recipients
        .iter()
        .map(|r| r.expose())
        .collect();
    let mut body = summary(&held);
    body["from"] = json!(message.envelope.mail_from.expose());
    body["to"] = json!(recipients);
    body["raw"] = json!(String::from_utf8_lossy(message.content.expose()));
    Ok(Json(body))
}

pub(crate) async fn release(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    caller.require("quarantine:review")?;
    let id = message_id(&id)?;
    let org = caller.org(&state).await?;
    if !state
        .intake
        .release_held(&org, &caller.access(), id)
        .await?
    {
        return Err(not_held());
    }
    Ok(Json(json!({ "id": id, "resolution": "released" })))
}

pub(crate) async fn reject(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<RejectRequest>,
) -> Result<Json<Value>, ApiError> {
    caller.require("quarantine:review")?;
    let reason = request.reason.trim();
    if reason.is_empty() || reason.len() > 500 || reason.chars().any(char::is_control) {
        return Err(
            ApiError::bad_request("reason is 1 to 500 characters on one line").field("reason"),
        );
    }
    let id = message_id(&id)?;
    let org = caller.org(&state).await?;
    if !state
        .intake
        .reject_held(&org, &caller.access(), id, reason)
        .await?
    {
        return Err(not_held());
    }
    Ok(Json(json!({ "id": id, "resolution": "rejected" })))
}

fn not_held() -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        "not_held",
        "the message is not held (unknown, or released or rejected already)",
    )
}
