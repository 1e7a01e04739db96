//! `GET /v1/policy` (the live set and its reload status) and `POST /v1/policy/reload`.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::AppState;
use super::error::ApiError;
use crate::engine::ReloadResult;
use crate::report::RuleInfo;
use crate::slo::format_duration;

pub async fn show(State(state): State<Arc<AppState>>) -> Response {
    let live = state.engine.current();
    let set = &live.set;
    let rules: Vec<RuleInfo> = set
        .rules
        .iter()
        .map(|rule| {
            let source = &set.files[rule.file].source;
            RuleInfo {
                name: rule.name.clone(),
                title: rule.title.clone(),
                severity: rule.severity,
                mode: rule.mode,
                segment: rule.segment.clone(),
                owner: rule.owner.clone(),
                file: source.name().to_string(),
                line: source.line_column(rule.span.start).0,
            }
        })
        .collect();
    let slos: Vec<_> = set
        .slos
        .iter()
        .map(|slo| {
            let window = match slo.window {
                crate::compile::SloWindow::Rolling(length) => format_duration(length),
                crate::compile::SloWindow::Calendar(unit) => format!("calendar {}", unit.as_str()),
            };
            json!({
                "name": slo.name,
                "title": slo.title,
                "objective": slo.objective.to_string(),
                "window": window,
                "time_zone": slo.time_zone.name(),
            })
        })
        .collect();
    let body = json!({
        "path": state.engine.path(),
        "read_from": live.read_from,
        "hash": set.hash,
        "loaded_at": live.loaded_at,
        "files": set.files.iter().map(|file| file.source.name()).collect::<Vec<_>>(),
        "rules": rules,
        "slos": slos,
        "tests_passed": live.tests_passed,
        "warnings": live.warnings,
        "reload": state.engine.reload_status(),
    });
    axum::Json(body).into_response()
}

/// Reloads now: 200 with the outcome when the set was applied or is unchanged, 422
/// with the outcome and its diagnostics when it was rejected (the old set stays live).
pub async fn reload(State(state): State<Arc<AppState>>) -> Result<Response, ApiError> {
    let engine = state.engine.clone();
    let outcome = tokio::task::spawn_blocking(move || engine.reload()).await.map_err(ApiError::internal)?;
    let status =
        if outcome.outcome == ReloadResult::Rejected { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    Ok((status, axum::Json(outcome)).into_response())
}
