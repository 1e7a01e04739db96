//! Request logs, and errors logged once per kind and message with repeats counted.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;

/// Runs in a request, attached to its response so the request log can show it.
#[derive(Clone, Copy, Debug)]
pub struct RunCount(pub usize);

/// Logs every request: method, path, status, latency and, for `POST /v1/runs`, the run count.
pub async fn log_request(request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    let started = Instant::now();
    let response = next.run(request).await;
    // Whole microseconds, so the field reads `0.057` and not `0.056947000000000005`.
    let latency_ms = started.elapsed().as_micros() as f64 / 1000.0;
    let status = response.status().as_u16();
    let runs = response.extensions().get::<RunCount>().map(|count| count.0);
    if response.status().is_server_error() {
        tracing::warn!(%method, path, status, latency_ms, runs, "request failed");
    } else {
        tracing::info!(%method, path, status, latency_ms, runs, "request");
    }
    response
}

/// How long an error is only counted after it was logged.
const REPEAT_INTERVAL: Duration = Duration::from_secs(60);

/// An error's kind and message.
type ErrorKey = (&'static str, String);

/// Logs an error the first time, then counts identical ones (same kind and
/// message) and logs them again with their count at most once per minute.
#[derive(Default)]
pub struct RepeatLimiter {
    /// When each error was last logged, and how often it recurred since.
    seen: Mutex<HashMap<ErrorKey, (Instant, u64)>>,
}

impl RepeatLimiter {
    /// Logs `error` at `error` level with `context`, unless the same error was
    /// logged less than a minute ago.
    pub fn error(&self, kind: &'static str, error: &str, context: &str) {
        let mut seen = self.seen.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let key = (kind, error.to_string());
        if let Some((logged_at, repeats)) = seen.get_mut(&key) {
            if logged_at.elapsed() < REPEAT_INTERVAL {
                *repeats += 1;
                return;
            }
            tracing::error!(kind, error, repeats_since_last_log = *repeats, "{context}");
            *logged_at = Instant::now();
            *repeats = 0;
            return;
        }
        tracing::error!(kind, error, "{context}");
        seen.insert(key, (Instant::now(), 0));
    }
}
