//! `/api/v1/messages`: the send API and per-message status with delivery evidence.
//!
//! `POST` answers 201 only once the message is committed, sealed, to the store; a retry
//! with the same idempotency key (`Idempotency-Key` header or `idempotency_key` field)
//! answers 200 with the first message's id and stores nothing.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use carepost_core::MessageId;
use carepost_delivery::SendRequest;
use carepost_store::{Accepted, MessageStatus};
use serde_json::{Value, json};

use crate::{ApiError, ApiJson, AppState, Caller};

pub(crate) async fn send(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    ApiJson(request): ApiJson<SendRequest>,
) -> Result<impl IntoResponse, ApiError> {
    caller.require("messages:send")?;
    let idempotency_key = match headers.get("idempotency-key") {
        None => None,
        Some(v) => Some(
            v.to_str()
                .ok()
                .filter(|k| !k.is_empty() && k.len() <= 255)
                .ok_or_else(|| {
                    ApiError::bad_request(
                        "Idempotency-Key must be 1 to 255 visible ASCII characters",
                    )
                    .field("Idempotency-Key")
                })?
                .to_owned(),
        ),
    };
    let org = caller.org(&state).await?;
    let (accepted, recipients, held) = state
        .intake
        .submit_api(&org, &caller.access(), &request, idempotency_key)
        .await?;
    let (status, duplicate) = match accepted {
        Accepted::New(_) => (StatusCode::CREATED, false),
        Accepted::Duplicate(_) => (StatusCode::OK, true),
    };
    Ok((
        status,
        Json(json!({
            "id": accepted.id(),
            "status": if held { "held" } else { "queued" },
            "recipients": recipients,
            "duplicate": duplicate,
        })),
    ))
}

pub(crate) async fn status(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    if !caller.principal.allows("messages:read") {
        caller.require("messages:send")?;
    }
    let id: MessageId = id.parse().map_err(|_| ApiError::not_found("message"))?;
    let org = caller.org(&state).await?;
    let status = org
        .message_status(&caller.access(), id)
        .await?
        .ok_or_else(|| ApiError::not_found("message"))?;
    Ok(Json(to_json(&status)))
}

fn to_json(s: &MessageStatus) -> Value {
    let recipients: Vec<Value> = s
        .recipients
        .iter()
        .map(|r| {
            let events: Vec<Value> = r
                .events
                .iter()
                .map(|e| {
                    json!({
                        "state": e.state,
                        "at": e.at,
                        "evidence": serde_json::from_str::<Value>(e.evidence.expose()).unwrap_or(Value::Null),
                    })
                })
                .collect();
            json!({
                "address": r.address.expose(),
                "state": r.state,
                "attempts": r.attempts,
                "next_attempt_at": r.next_attempt_at,
                "updated_at": r.updated_at,
                "events": events,
            })
        })
        .collect();
    json!({
        "id": s.id,
        "source": s.source,
        "submitter": s.submitter,
        "from": s.mail_from.expose(),
        "protection": s.protection,
        "requiretls": s.requiretls,
        "tags": s.tags,
        "size": s.size,
        "created_at": s.created_at,
        "expires_at": s.expires_at,
        "recipients": recipients,
        "policy": s.policy,
    })
}
