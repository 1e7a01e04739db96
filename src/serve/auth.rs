//! The optional bearer token on writes. The token is compared in constant time and
//! never logged.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::http::header::AUTHORIZATION;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::AppState;
use super::error::ApiError;

/// Passes the request on when no token is configured or the request carries it as
/// `Authorization: Bearer TOKEN`; responds with 401 otherwise.
pub async fn require_token(State(state): State<Arc<AppState>>, request: Request, next: Next) -> Response {
    let Some(expected) = state.token.as_deref() else { return next.run(request).await };
    let provided = request.headers().get(AUTHORIZATION).and_then(|value| value.to_str().ok()).and_then(bearer_token);
    match provided {
        Some(token) if equal_in_constant_time(token.as_bytes(), expected.as_bytes()) => next.run(request).await,
        Some(_) => unauthorized("the bearer token is not valid"),
        None => unauthorized("this endpoint needs `Authorization: Bearer TOKEN`"),
    }
}

/// Returns the token of a `Bearer` credential. The scheme name is case-insensitive
/// (RFC 9110, section 11.1), so `bearer` and `BEARER` are accepted too.
fn bearer_token(credential: &str) -> Option<&str> {
    let (scheme, token) = credential.trim_start().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

fn unauthorized(message: &str) -> Response {
    ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message.to_string()).into_response()
}

/// Compares without stopping at the first difference, so response time does not
/// tell how much of a guessed token was right. The length is not hidden.
fn equal_in_constant_time(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |difference, (x, y)| difference | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_scheme_is_matched_in_any_case() {
        assert_eq!(bearer_token("Bearer s3cret"), Some("s3cret"));
        assert_eq!(bearer_token("bearer s3cret"), Some("s3cret"));
        assert_eq!(bearer_token("BEARER   s3cret "), Some("s3cret"));
        assert_eq!(bearer_token("Basic czNjcmV0"), None);
        assert_eq!(bearer_token("Bearer"), None);
    }

    #[test]
    fn constant_time_comparison_matches_equality() {
        assert!(equal_in_constant_time(b"secret", b"secret"));
        assert!(!equal_in_constant_time(b"secret", b"secreT"));
        assert!(!equal_in_constant_time(b"secret", b"secret2"));
    }
}
