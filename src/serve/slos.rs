//! `GET /v1/slos` and `GET /v1/slos/{name}`: SLO status over the stored runs, for
//! the SLOs of the live set. `?at=RFC3339` ends the windows at that instant
//! instead of at the newest stored event time.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::AppState;
use super::error::ApiError;
use crate::store::slo_status;

#[derive(Debug, Deserialize)]
pub struct AtQuery {
    at: Option<String>,
}

impl AtQuery {
    fn parse(&self) -> Result<Option<DateTime<Utc>>, ApiError> {
        let Some(text) = &self.at else { return Ok(None) };
        DateTime::parse_from_rfc3339(text).map(|at| Some(at.with_timezone(&Utc))).map_err(|error| {
            ApiError::new(
                axum::http::StatusCode::BAD_REQUEST,
                "invalid_query",
                format!("`at` is `{text}`, not an RFC 3339 timestamp ({error}); write e.g. `2025-11-03T00:00:00Z`"),
            )
        })
    }
}

/// Returns the report of every SLO, in the JSON shape of `semslo report --format json`.
pub async fn list(State(state): State<Arc<AppState>>, Query(query): Query<AtQuery>) -> Result<Response, ApiError> {
    let at = query.parse()?;
    let live = state.engine.current();
    let store = Arc::clone(&state.store);
    let report = tokio::task::spawn_blocking(move || slo_status::report(&store, &live.set, at))
        .await
        .map_err(ApiError::internal)?
        .map_err(|error| ApiError::unavailable("store_unavailable", format!("cannot read the store: {error}")))?;
    Ok(axum::Json(report).into_response())
}

/// Returns one SLO, as one element of the report's `slos`.
pub async fn show(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
    Query(query): Query<AtQuery>,
) -> Result<Response, ApiError> {
    let at = query.parse()?;
    let live = state.engine.current();
    let names: Vec<String> = live.set.slos.iter().map(|slo| format!("`{}`", slo.name)).collect();
    let store = Arc::clone(&state.store);
    let lookup = name.clone();
    let summary = tokio::task::spawn_blocking(move || slo_status::summary(&store, &live.set, &lookup, at))
        .await
        .map_err(ApiError::internal)?
        .map_err(|error| ApiError::unavailable("store_unavailable", format!("cannot read the store: {error}")))?;
    match summary {
        Some(summary) => Ok(axum::Json(summary).into_response()),
        None => Err(ApiError::not_found(format!(
            "the live policy set has no SLO `{name}`; it has {}",
            if names.is_empty() { "none".to_string() } else { names.join(", ") }
        ))),
    }
}
