//! `/api/v1/suppressions`: addresses that bounced permanently and are no longer attempted.
//! Addresses travel in request bodies, never in URLs; every read and change is audited.

use axum::Json;
use axum::extract::{Query, State};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::{ApiError, ApiJson, AppState, Caller};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListQuery {
    #[serde(default)]
    limit: Option<i64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AddressRequest {
    address: String,
}

pub(crate) async fn list(
    State(state): State<AppState>,
    caller: Caller,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    caller.require("suppressions:read")?;
    let Query(query) =
        query.map_err(|_| ApiError::bad_request("the query parameter is limit (1 to 1000)"))?;
    let limit = query.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::bad_request("limit must be 1 to 1000").field("limit"));
    }
    let org = caller.org(&state).await?;
    let list = org.suppressions(&caller.access(), limit).await?;
    let list: Vec<Value> = list
        .iter()
        .map(|s| {
            json!({
                "id": s.id,
                "address": s.address.expose(),
                "status": s.status,
                "message_id": s.message_id,
                "created_at": s.created_at,
            })
        })
        .collect();
    Ok(Json(json!({ "suppressions": list })))
}

pub(crate) async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(request): ApiJson<AddressRequest>,
) -> Result<Json<Value>, ApiError> {
    caller.require("suppressions:write")?;
    let address = request.address.trim();
    if address.is_empty() || address.len() > 320 || address.chars().any(char::is_control) {
        return Err(ApiError::bad_request("address must be an email address").field("address"));
    }
    let org = caller.org(&state).await?;
    let removed = org.unsuppress(&caller.access(), address).await?;
    Ok(Json(json!({ "removed": removed })))
}
