//! `/api/v1/sandbox/messages`: the sandbox mailbox, where `sandbox` delivery mode puts
//! every outgoing message. Any API key of the organization may read it; every read is
//! audited.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use carepost_core::SandboxId;
use mail_parser::MessageParser;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::{ApiError, AppState, Caller};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListQuery {
    #[serde(default)]
    limit: Option<i64>,
    #[serde(default)]
    before: Option<String>,
}

pub(crate) async fn list(
    State(state): State<AppState>,
    caller: Caller,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<impl IntoResponse, ApiError> {
    let Query(query) = query.map_err(|_| {
        ApiError::bad_request(
            "query parameters are limit (1 to 500) and before (a sandbox message id)",
        )
    })?;
    let limit = query.limit.unwrap_or(50);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::bad_request("limit must be 1 to 500").field("limit"));
    }
    let before = match query.before {
        None => None,
        Some(b) => Some(b.parse::<SandboxId>().map_err(|_| {
            ApiError::bad_request("before must be a sandbox message id").field("before")
        })?),
    };
    let org = caller.org(&state).await?;
    let captured = org
        .sandbox_messages(&caller.access(), limit, before)
        .await?;
    let next = (captured.len() == usize::try_from(limit).unwrap_or(usize::MAX))
        .then(|| captured.last().map(|m| m.id))
        .flatten();
    let messages: Vec<Value> = captured
        .iter()
        .map(|m| {
            let parsed = MessageParser::default().parse_headers(m.raw.expose());
            let addresses = |a: Option<&mail_parser::Address<'_>>| -> Vec<String> {
                a.map(|a| {
                    a.iter()
                        .filter_map(|x| x.address().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default()
            };
            json!({
                "id": m.id,
                "message_id": m.message_id,
                "captured_at": m.captured_at,
                "size": m.raw.expose().len(),
                "from": parsed.as_ref().map(|p| addresses(p.from())).unwrap_or_default(),
                "to": parsed.as_ref().map(|p| addresses(p.to())).unwrap_or_default(),
                "subject": parsed.as_ref().and_then(|p| p.subject().map(str::to_owned)),
            })
        })
        .collect();
    Ok(Json(json!({ "messages": messages, "next_before": next })))
}

pub(crate) async fn raw(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    let id: SandboxId = id
        .parse()
        .map_err(|_| ApiError::not_found("sandbox message"))?;
    let org = caller.org(&state).await?;
    let captured = org
        .sandbox_message(&caller.access(), id)
        .await?
        .ok_or_else(|| ApiError::not_found("sandbox message"))?;
    Ok((
        [(CONTENT_TYPE, "message/rfc822")],
        captured.raw.expose().clone(),
    ))
}
