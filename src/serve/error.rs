//! Error responses: a status and a JSON body `{"error": {"code", "message", ...}}`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    /// Stable, machine-readable: `body_too_large`, `unauthorized`, ...
    pub code: &'static str,
    pub message: String,
    /// For 413: the command-line option that sets the limit, and its value.
    pub limit: Option<(&'static str, u64)>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: String) -> Self {
        ApiError { status, code, message, limit: None }
    }

    pub fn bad_request(message: String) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, "invalid_body", message)
    }

    pub fn not_found(message: String) -> Self {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    pub fn too_large(code: &'static str, message: String, option: &'static str, value: u64) -> Self {
        ApiError { limit: Some((option, value)), ..ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, code, message) }
    }

    pub fn unavailable(code: &'static str, message: String) -> Self {
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, code, message)
    }

    pub fn internal(error: impl std::fmt::Display) -> Self {
        tracing::error!(%error, "internal error while handling a request");
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", format!("internal error: {error}"))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut error = json!({"code": self.code, "message": self.message});
        if let Some((option, value)) = self.limit {
            error["limit"] = json!({"option": option, "value": value});
        }
        let mut response = (self.status, axum::Json(json!({ "error": error }))).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(axum::http::header::WWW_AUTHENTICATE, axum::http::HeaderValue::from_static("Bearer"));
        }
        response
    }
}
