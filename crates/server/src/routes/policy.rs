//! `GET /api/v1/policy/rules`: the protection rules in force (from `dlp.rules_file` or the
//! built-in defaults), for administrators and for tools that check a deployment.

use axum::Json;
use axum::extract::State;

use crate::{ApiError, AppState, Caller};

pub(crate) async fn rules(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<carepost_policy::rules::RuleSet>, ApiError> {
    caller.require("admin")?;
    Ok(Json(state.dlp.rules.clone()))
}
