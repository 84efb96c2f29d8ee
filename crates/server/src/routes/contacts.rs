//! `/api/v1/contacts`: create, read and delete contacts. Every call is audited with the
//! API key and the client address.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use carepost_core::{ContactId, Phi};
use carepost_store::ContactFields;
use serde::{Deserialize, Serialize};

use crate::{ApiError, ApiJson, AppState, Caller};

/// A contact as the API takes and returns it. Every field but `id` is PHI.
#[derive(Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ContactBody {
    email: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    given_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    family_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    birth_date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    attributes: Option<serde_json::Map<String, serde_json::Value>>,
}

impl From<ContactBody> for ContactFields {
    fn from(b: ContactBody) -> Self {
        Self {
            email: Phi::new(b.email),
            given_name: b.given_name.map(Phi::new),
            family_name: b.family_name.map(Phi::new),
            birth_date: b.birth_date.map(Phi::new),
            phone: b.phone.map(Phi::new),
            attributes: b
                .attributes
                .map(|a| Phi::new(serde_json::Value::Object(a).to_string())),
        }
    }
}

fn expose(f: &ContactFields) -> ContactBody {
    let text = |p: &Option<Phi<String>>| p.as_ref().map(|v| v.expose().clone());
    ContactBody {
        email: f.email.expose().clone(),
        given_name: text(&f.given_name),
        family_name: text(&f.family_name),
        birth_date: text(&f.birth_date),
        phone: text(&f.phone),
        attributes: f.attributes.as_ref().and_then(|a| {
            serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(a.expose()).ok()
        }),
    }
}

fn parse_id(id: &str) -> Result<ContactId, ApiError> {
    id.parse().map_err(|_| ApiError::not_found("contact"))
}

pub(crate) async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<ContactBody>,
) -> Result<impl IntoResponse, ApiError> {
    caller.require("contacts:write")?;
    let org = caller.org(&state).await?;
    let id = org.create_contact(&caller.access(), body.into()).await?;
    Ok((StatusCode::CREATED, Json(serde_json::json!({ "id": id }))))
}

pub(crate) async fn read(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    caller.require("contacts:read")?;
    let id = parse_id(&id)?;
    let org = caller.org(&state).await?;
    let contact = org
        .contact(&caller.access(), id)
        .await?
        .ok_or_else(|| ApiError::not_found("contact"))?;
    let mut body = serde_json::to_value(expose(&contact.fields))
        .map_err(|_| ApiError::bad_request("unencodable"))?;
    body["id"] = serde_json::json!(contact.id);
    body["created_at"] = serde_json::json!(contact.created_at);
    body["updated_at"] = serde_json::json!(contact.updated_at);
    Ok(Json(body))
}

pub(crate) async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, ApiError> {
    caller.require("contacts:write")?;
    let id = parse_id(&id)?;
    let org = caller.org(&state).await?;
    if org.delete_contact(&caller.access(), id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found("contact"))
    }
}
