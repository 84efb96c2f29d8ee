//! `/api/v1/policy/rules`: the organization's protection rules. `GET` shows the rules in
//! force (its own, or `dlp.rules_file`, or the built-in defaults); `PUT` replaces them
//! with its own (validated, stored, audited; other nodes pick them up within 30 s).

use axum::Json;
use axum::extract::State;
use carepost_policy::rules::RuleSet;

use crate::{ApiError, ApiJson, AppState, Caller};

pub(crate) async fn rules(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<RuleSet>, ApiError> {
    caller.require("admin")?;
    let org = caller.org(&state).await?;
    Ok(Json(RuleSet::clone(&state.dlp.rules_for(org.org_id()))))
}

pub(crate) async fn replace(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(rules): ApiJson<RuleSet>,
) -> Result<Json<RuleSet>, ApiError> {
    caller.require("admin")?;
    rules
        .validate()
        .map_err(|e| ApiError::bad_request(e.to_string()).field("rules"))?;
    let value = serde_json::to_value(&rules)
        .map_err(|_| ApiError::bad_request("the rules could not be stored").field("rules"))?;
    let org = caller.org(&state).await?;
    org.set_protection_rules(&caller.access(), &value).await?;
    state.dlp.set_rules(org.org_id(), rules.clone());
    Ok(Json(rules))
}
