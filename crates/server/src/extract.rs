//! Request extractors: JSON bodies with precise, value-free errors, and the caller
//! behind an API key.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::request::Parts;
use carepost_core::{AccessContext, Actor};
use carepost_store::{ApiPrincipal, OrgScope};
use serde::de::DeserializeOwned;

use crate::{ApiError, AppState};

/// A JSON request body. Malformed bodies answer 400 with the path of the offending
/// field (`attachments[2].filename`) and a reason that never repeats the value sent.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                v.split(';')
                    .next()
                    .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"))
            });
        if !is_json {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send the body as JSON with `Content-Type: application/json`",
            ));
        }
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|e| {
                if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::new(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        "body_too_large",
                        format!("the body exceeds {} bytes", state.max_body_bytes),
                    )
                } else {
                    ApiError::bad_request("the body could not be read")
                }
            })?;
        decode_json(&bytes).map(ApiJson)
    }
}

/// Decodes a JSON request body, turning serde's message into one that names the field
/// and the expectation but not the value received (which may be PHI).
pub fn decode_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let field = e.path().to_string();
        let inner = e.inner();
        let reason = match inner.classify() {
            serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
                format!(
                    "the body is not valid JSON (line {}, column {})",
                    inner.line(),
                    inner.column()
                )
            }
            _ => value_free(&inner.to_string()),
        };
        ApiError::new(StatusCode::BAD_REQUEST, "invalid_body", reason).field(field)
    })
}

fn value_free(message: &str) -> String {
    // serde's data errors read "invalid type: string \"…\", expected …" or
    // "invalid value: …, expected …": keep the expectation, drop what was received.
    let message = message.split(" at line ").next().unwrap_or(message);
    if message.starts_with("missing field")
        || message.starts_with("unknown field")
        || message.starts_with("duplicate field")
    {
        return message.to_owned();
    }
    for kind in ["invalid type", "invalid value", "invalid length"] {
        if message.starts_with(kind) {
            return match message.rsplit_once(", expected ") {
                Some((_, expected)) => format!("{kind}: expected {expected}"),
                None => kind.to_owned(),
            };
        }
    }
    if message.starts_with("unknown variant") {
        return match message.rsplit_once(", expected ") {
            Some((_, expected)) => format!("unknown variant: expected {expected}"),
            None => "unknown variant".to_owned(),
        };
    }
    "the value is not acceptable here".to_owned()
}

/// The client address of a connection, as the listeners record it.
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub SocketAddr);

/// The caller of an API request: an API key of one organization, from an address.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The key and what it may do.
    pub principal: ApiPrincipal,
    /// Where the request came from.
    pub source: Option<IpAddr>,
}

impl Caller {
    /// Refuses with 403 unless the key holds `scope`.
    pub fn require(&self, scope: &str) -> Result<(), ApiError> {
        if self.principal.allows(scope) {
            Ok(())
        } else {
            Err(ApiError::forbidden(scope))
        }
    }

    /// The access context for audit records.
    pub fn access(&self) -> AccessContext {
        AccessContext {
            actor: Actor::ApiKey(self.principal.key_id.clone()),
            source: self.source,
        }
    }

    /// The caller's organization.
    pub async fn org(&self, state: &AppState) -> Result<OrgScope, ApiError> {
        Ok(state.store.org(self.principal.org).await?)
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(str::trim)
            .ok_or_else(ApiError::unauthorized)?;
        let principal = state
            .store
            .authenticate_api_key(token)
            .await?
            .ok_or_else(ApiError::unauthorized)?;
        let source = parts
            .extensions
            .get::<ConnectInfo<ClientAddr>>()
            .map(|c| c.0.0.ip());
        Ok(Self { principal, source })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        email: String,
        count: u32,
        tags: Vec<String>,
    }

    #[test]
    fn errors_name_the_field_but_never_its_value() {
        let e = decode_json::<Body>(br#"{"email": "x@y.org", "count": "123-45-6789", "tags": []}"#)
            .unwrap_err();
        assert_eq!(e.field.as_deref(), Some("count"));
        assert!(!e.message.contains("123-45-6789"), "{}", e.message);
        assert!(e.message.contains("expected u32"), "{}", e.message);

        let e =
            decode_json::<Body>(br#"{"email": "x@y.org", "count": 1, "tags": [1]}"#).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("tags[0]"));

        let e = decode_json::<Body>(br#"{"count": 1, "tags": []}"#).unwrap_err();
        assert!(e.message.contains("missing field `email`"), "{}", e.message);

        let e = decode_json::<Body>(br#"{"email": "a", "count": 1, "tags": [], "ssn": "1"}"#)
            .unwrap_err();
        assert!(e.message.contains("unknown field `ssn`"), "{}", e.message);

        let e = decode_json::<Body>(b"{not json").unwrap_err();
        assert!(e.message.contains("not valid JSON"), "{}", e.message);
    }
}
