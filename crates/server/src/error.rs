//! API errors: one JSON shape for every failure.
//!
//! ```json
//! {"error": {"code": "invalid_body", "message": "...", "field": "email"}}
//! ```
//! The response's `x-request-id` header names the request in the logs. Messages never
//! carry a value from the request: a field is named, its content is not.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// An API failure with its HTTP status, a stable code and a message for people.
#[derive(Debug, thiserror::Error)]
#[error("{code}: {message}")]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable, greppable code (`invalid_body`, `unauthorized`, ...).
    pub code: &'static str,
    /// What went wrong and what to do.
    pub message: String,
    /// The offending field, if one.
    pub field: Option<String>,
}

impl ApiError {
    /// A failure with `status`, `code` and `message`.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            field: None,
        }
    }

    /// Names the offending field.
    pub fn field(mut self, field: impl Into<String>) -> Self {
        // serde_path_to_error writes "." for the root and "?" before the first key.
        self.field = Some(field.into()).filter(|f: &String| !matches!(f.as_str(), "" | "." | "?"));
        self
    }

    /// 400: the request is malformed.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", message)
    }

    /// 401: no valid credentials.
    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "send a valid API key as `Authorization: Bearer <key>`",
        )
    }

    /// 403: the key lacks `scope`.
    pub fn forbidden(scope: &str) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!("this API key lacks the `{scope}` scope"),
        )
    }

    /// 404: nothing at this id.
    pub fn not_found(what: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no such {what}"),
        )
    }
}

impl From<carepost_store::StoreError> for ApiError {
    fn from(e: carepost_store::StoreError) -> Self {
        use carepost_store::StoreError as E;
        match e {
            E::Invalid(msg) => Self::bad_request(msg),
            E::UnknownOrganization(_) => Self::not_found("organization"),
            E::DuplicateOrganization(name) => Self::new(
                StatusCode::CONFLICT,
                "conflict",
                format!("organization '{name}' exists"),
            ),
            other => {
                tracing::error!(error = %other, "store failure");
                Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "store_unavailable",
                    "the store failed; retry later",
                )
            }
        }
    }
}

impl From<carepost_delivery::IntakeError> for ApiError {
    fn from(e: carepost_delivery::IntakeError) -> Self {
        match e {
            carepost_delivery::IntakeError::Field(f) => {
                Self::new(StatusCode::BAD_REQUEST, "invalid_message", f.reason).field(f.field)
            }
            carepost_delivery::IntakeError::Blocked { reason, .. } => Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "blocked_by_policy",
                format!("the protection policy refused this message: {reason}"),
            ),
            carepost_delivery::IntakeError::Store(s) => s.into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut error = json!({ "code": self.code, "message": self.message });
        if let Some(f) = &self.field {
            error["field"] = json!(f);
        }
        (self.status, axum::Json(json!({ "error": error }))).into_response()
    }
}
