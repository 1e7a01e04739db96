//! `POST /v1/runs` (evaluate, store and return runs) and `GET /v1/runs/{run_id}`.
//!
//! A request goes through four phases. The body is read within the size limit and
//! split into runs ([`super::body`]) within the batch limit. Every run is evaluated
//! on the set live when evaluation starts, within the wall-clock limit. Then the
//! runs are stored in one commit, and the response is sent only after that commit
//! returned.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value as Json, json};

use super::AppState;
use super::body::{self, BodyForm, Item, Record};
use super::error::ApiError;
use super::logging::RunCount;
use crate::engine::{LoadedSet, RunVerdicts, run_id};
use crate::store::{NewRun, Submission, canonical};

/// A run after evaluation, before storing.
enum Prepared {
    Rejected { index: usize, line: Option<usize>, reason: String },
    Evaluated { index: usize, line: Option<usize>, run_id: String, body_hash: String, verdicts: RunVerdicts },
}

pub async fn submit(State(state): State<Arc<AppState>>, request: Request) -> Result<Response, ApiError> {
    let content_type = request.headers().get(CONTENT_TYPE).and_then(|value| value.to_str().ok()).map(str::to_string);
    let bytes = read_body(&state, request).await?;
    let (form, items) = body::parse(&bytes, content_type.as_deref()).map_err(ApiError::bad_request)?;
    let max_batch = state.limits.max_batch;
    if items.len() > max_batch {
        return Err(ApiError::too_large(
            "batch_too_large",
            format!(
                "the request holds {} runs; at most {max_batch} are accepted per request, so split the runs over several requests",
                items.len()
            ),
            "--max-batch",
            max_batch as u64,
        ));
    }
    let count = items.len();

    let (policy_hash, prepared) = evaluate(&state, form, bytes, items).await?;
    let mut response = store_and_answer(&state, form, policy_hash, prepared).await?;
    response.extensions_mut().insert(RunCount(count));
    Ok(response)
}

/// Reads the body, responding with 413 as soon as it is known to be over the limit.
async fn read_body(state: &AppState, request: Request) -> Result<axum::body::Bytes, ApiError> {
    let limit = state.limits.max_body_bytes;
    let too_large = || {
        ApiError::too_large(
            "body_too_large",
            format!("the request body is larger than the limit of {limit} bytes; split the runs over several requests"),
            "--max-body-bytes",
            limit as u64,
        )
    };
    let declared = request.headers().get(CONTENT_LENGTH).and_then(|value| value.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit as u64) {
        return Err(too_large());
    }
    axum::body::to_bytes(request.into_body(), limit).await.map_err(|error| {
        let over_limit =
            std::error::Error::source(&error).is_some_and(|source| source.is::<http_body_util::LengthLimitError>());
        if over_limit { too_large() } else { ApiError::bad_request(format!("cannot read the request body: {error}")) }
    })
}

/// Evaluates every run on one blocking thread, on the set live when it starts.
/// Past the time limit the evaluation is signalled to stop after its current run,
/// and the request fails with nothing stored.
async fn evaluate(
    state: &Arc<AppState>,
    form: BodyForm,
    body: axum::body::Bytes,
    items: Vec<Item>,
) -> Result<(String, Vec<Prepared>), ApiError> {
    let cancelled = Arc::new(AtomicBool::new(false));
    let limit = state.limits.request_timeout;
    let work = {
        let state = Arc::clone(state);
        let cancelled = Arc::clone(&cancelled);
        async move {
            let slot = Arc::clone(&state.evaluation_slots).acquire_owned().await.map_err(ApiError::internal)?;
            let worker = Arc::clone(&state);
            tokio::task::spawn_blocking(move || {
                // The slot stays taken until the evaluation ends, even after a timeout.
                let _slot = slot;
                evaluate_items(&worker, form, &body, items, &cancelled)
            })
            .await
            .map_err(ApiError::internal)
        }
    };
    match tokio::time::timeout(limit, work).await {
        Ok(result) => result,
        Err(_) => {
            cancelled.store(true, Ordering::SeqCst);
            state.errors.error(
                "evaluation",
                "request timed out",
                "evaluating a request took longer than its time limit",
            );
            Err(ApiError::unavailable(
                "evaluation_timeout",
                format!(
                    "evaluating the runs took longer than the limit of {limit:?} (--request-timeout); nothing of this request was stored, so it can be sent again"
                ),
            ))
        }
    }
}

fn evaluate_items(
    state: &AppState,
    form: BodyForm,
    body: &[u8],
    items: Vec<Item>,
    cancelled: &AtomicBool,
) -> (String, Vec<Prepared>) {
    let live = state.engine.current();
    let mut prepared = Vec::with_capacity(items.len());
    for Item { index, line, record } in items {
        if cancelled.load(Ordering::Relaxed) {
            break;
        }
        let started = Instant::now();
        let item = match record {
            Ok(Record::Line(range)) => evaluate_line(&live, index, line, &body[range]),
            Ok(Record::Parsed(record)) => evaluate_record(&live, form, index, line, &record),
            Err(reason) => Prepared::Rejected { index, line, reason },
        };
        if matches!(item, Prepared::Evaluated { .. }) {
            state.metrics.observe_evaluation(started.elapsed().as_secs_f64());
        }
        prepared.push(item);
    }
    (live.hash().to_string(), prepared)
}

/// Evaluates an NDJSON line from its text, with the hash written from the text too.
/// A run whose rules all pass is read in the fields the rules and SLOs read. Any other
/// run is read again with its steps' names and outputs, because explanations search
/// them. Only a line that is not a run with an id is parsed in full, for the reason.
fn evaluate_line(live: &LoadedSet, index: usize, line: Option<usize>, text: &[u8]) -> Prepared {
    let verdicts =
        live.evaluate_passing_text(text).or_else(|| live.evaluate_text(text, &location(BodyForm::Lines, index, line)));
    if let Some(verdicts) = verdicts {
        let run_id = verdicts.run_id.clone().filter(|id| !id.is_empty());
        if let (Some(run_id), Some(body_hash)) = (run_id, canonical::body_hash_of_text(text)) {
            return checked(index, line, run_id, body_hash, verdicts);
        }
    }
    match body::read_line(text, line.unwrap_or(index + 1)) {
        Ok(record) => evaluate_record(live, BodyForm::Lines, index, line, &record),
        Err(reason) => Prepared::Rejected { index, line, reason },
    }
}

/// Names a run without an id in its violations.
fn location(form: BodyForm, index: usize, line: Option<usize>) -> String {
    match (form, line) {
        (_, Some(line)) => format!("request:{line}"),
        (BodyForm::Array, None) => format!("request[{index}]"),
        _ => "request".to_string(),
    }
}

/// Evaluates a parsed run in full.
fn evaluate_record(live: &LoadedSet, form: BodyForm, index: usize, line: Option<usize>, record: &Json) -> Prepared {
    let Some(id) = run_id(record).filter(|id| !id.is_empty()) else {
        let reason = "the run has no `run_id` (text or number); the store keys runs by it";
        let reason = match line {
            Some(line) => format!("line {line}: {reason}"),
            None => reason.to_string(),
        };
        return Prepared::Rejected { index, line, reason };
    };
    let verdicts = live.evaluate(record, &location(form, index, line));
    checked(index, line, id, canonical::body_hash(record), verdicts)
}

/// Returns the evaluated run, or its rejection when an SLO places it in the future.
fn checked(index: usize, line: Option<usize>, run_id: String, body_hash: String, verdicts: RunVerdicts) -> Prepared {
    match future_event_time(&verdicts) {
        Some(reason) => {
            let reason = match line {
                Some(line) => format!("line {line}: {reason}"),
                None => reason,
            };
            Prepared::Rejected { index, line, reason }
        }
        None => Prepared::Evaluated { index, line, run_id, body_hash, verdicts },
    }
}

/// How far past this server's clock an event time may lie; clocks of the services that
/// write runs drift, but a run from next year is a bug, not drift.
const MAX_CLOCK_SKEW: chrono::TimeDelta = chrono::TimeDelta::hours(1);

/// Rejects a run placed after this server's clock (plus [`MAX_CLOCK_SKEW`]). Retention
/// and the SLO windows count back from the newest stored event time, so one run dated in
/// the future would push every real run out of them.
fn future_event_time(verdicts: &crate::engine::RunVerdicts) -> Option<String> {
    let limit = chrono::Utc::now() + MAX_CLOCK_SKEW;
    let latest = verdicts.slos.iter().filter_map(|slo| slo.event_time).max()?;
    (latest > limit).then(|| {
        format!(
            "the event time {} is in the future (more than {} min past this server's clock); fix the clock or the field that records it",
            latest.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            MAX_CLOCK_SKEW.num_minutes()
        )
    })
}

/// Stores the evaluated runs in one commit and builds the response from what the
/// store did with each.
async fn store_and_answer(
    state: &Arc<AppState>,
    form: BodyForm,
    policy_hash: String,
    prepared: Vec<Prepared>,
) -> Result<Response, ApiError> {
    let mut new_runs = Vec::new();
    let mut results = Vec::new();
    for item in &prepared {
        if let Prepared::Evaluated { run_id, body_hash, verdicts, .. } = item {
            // Written once: the store keeps this text and the response embeds it.
            let result = verdicts.to_json_text();
            new_runs.push(NewRun::with_result(run_id.clone(), body_hash.clone(), verdicts, result.clone()));
            results.push(result);
        }
    }

    let submissions = state.store.submit_async(new_runs).await.map_err(|error| {
        state.errors.error("store", &error.to_string(), "storing runs failed");
        ApiError::unavailable(
            "store_unavailable",
            format!("the runs could not be stored, so none was accepted: {error}"),
        )
    })?;

    let mut answer = Answer::default();
    let mut accepted = Vec::new();
    let mut stored = submissions.into_iter().zip(results);
    for item in prepared {
        match item {
            Prepared::Rejected { index, line, reason } => answer.rejected(index, line, reason),
            Prepared::Evaluated { index, line, run_id, body_hash, verdicts } => {
                let (submission, result) = stored.next().expect("one submission per evaluated run");
                if submission == Submission::Accepted {
                    accepted.push(verdicts);
                }
                answer.stored(index, line, &run_id, &body_hash, submission, result);
            }
        }
    }
    state.metrics.record_accepted(&accepted);
    for (status, runs) in [
        ("accepted", answer.accepted),
        ("duplicate", answer.duplicates),
        ("conflict", answer.conflicts),
        ("rejected", answer.rejected),
    ] {
        if runs > 0 {
            state.metrics.record_submission(status, runs);
        }
    }
    Ok(answer.into_response(form, policy_hash))
}

/// The response being built: one entry per run, as JSON text, and the counts.
#[derive(Default)]
struct Answer {
    runs: Vec<String>,
    accepted: u64,
    duplicates: u64,
    conflicts: u64,
    rejected: u64,
}

impl Answer {
    fn rejected(&mut self, index: usize, line: Option<usize>, reason: String) {
        self.rejected += 1;
        let mut entry = head(index, line, "rejected");
        entry.insert("error".to_string(), Json::String(reason));
        self.runs.push(Json::Object(entry).to_string());
    }

    /// Adds a stored run. `result` is the run's verdicts as JSON object text.
    fn stored(
        &mut self,
        index: usize,
        line: Option<usize>,
        run_id: &str,
        body_hash: &str,
        submission: Submission,
        result: String,
    ) {
        let entry = match submission {
            Submission::Accepted => {
                self.accepted += 1;
                with_result(index, line, "accepted", &result)
            }
            Submission::Duplicate { result, .. } => {
                self.duplicates += 1;
                with_result(index, line, "duplicate", &result)
            }
            Submission::Conflict { stored_body_hash, received_at } => {
                self.conflicts += 1;
                let mut entry = head(index, line, "conflict");
                entry.insert("run_id".to_string(), json!(run_id));
                entry.insert(
                    "error".to_string(),
                    json!(format!(
                        "run `{run_id}` was stored at {} with a different body; a run id names one run, so send the same body again or use a new run id",
                        received_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
                    )),
                );
                entry.insert("body_sha256".to_string(), json!(body_hash));
                entry.insert("stored_body_sha256".to_string(), json!(stored_body_hash));
                Json::Object(entry).to_string()
            }
        };
        self.runs.push(entry);
    }

    /// 200 when some run was accepted or was a duplicate; otherwise 409 when a run
    /// conflicts and 422 when every run was rejected. A single-run request thus gets
    /// 409 for a conflict and 422 for a rejected run.
    fn into_response(self, form: BodyForm, policy_hash: String) -> Response {
        let status = if self.accepted + self.duplicates > 0 {
            StatusCode::OK
        } else if self.conflicts > 0 {
            StatusCode::CONFLICT
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        };
        let form = match form {
            BodyForm::Single => "single",
            BodyForm::Array => "array",
            BodyForm::Lines => "ndjson",
        };
        // The entries are JSON text already, so the body is joined rather than built
        // as one value and serialized again.
        let mut body = String::with_capacity(128 + self.runs.iter().map(|run| run.len() + 1).sum::<usize>());
        body.push_str(&format!(
            r#"{{"policy_hash":{},"form":"{form}","accepted":{},"duplicates":{},"conflicts":{},"rejected":{},"runs":["#,
            Json::String(policy_hash),
            self.accepted,
            self.duplicates,
            self.conflicts,
            self.rejected
        ));
        for (index, run) in self.runs.iter().enumerate() {
            if index > 0 {
                body.push(',');
            }
            body.push_str(run);
        }
        body.push_str("]}");
        (status, [(CONTENT_TYPE, "application/json")], body).into_response()
    }
}

fn head(index: usize, line: Option<usize>, status: &str) -> Map<String, Json> {
    let mut entry = Map::new();
    entry.insert("index".to_string(), json!(index));
    if let Some(line) = line {
        entry.insert("line".to_string(), json!(line));
    }
    entry.insert("status".to_string(), json!(status));
    entry
}

/// Writes the text of the object [`head`] builds, followed by the members of `result`,
/// a JSON object as text. A result that is not an object text adds nothing. `status`
/// is one plain word. Written directly, because every stored run of a response goes
/// through here.
fn with_result(index: usize, line: Option<usize>, status: &str, result: &str) -> String {
    use std::fmt::Write as _;
    let mut entry = String::with_capacity(result.len() + 48);
    let _ = write!(entry, r#"{{"index":{index}"#);
    if let Some(line) = line {
        let _ = write!(entry, r#","line":{line}"#);
    }
    let _ = write!(entry, r#","status":"{status}""#);
    let members = result.trim().strip_prefix('{').and_then(|rest| rest.strip_suffix('}')).map(str::trim);
    if let Some(members) = members.filter(|members| !members.is_empty()) {
        entry.push(',');
        entry.push_str(members);
    }
    entry.push('}');
    entry
}

/// `GET /v1/runs/{run_id}`: the stored verdicts of one run.
pub async fn show(State(state): State<Arc<AppState>>, Path(id): Path<String>) -> Result<Response, ApiError> {
    let store = Arc::clone(&state.store);
    let lookup = id.clone();
    let stored = tokio::task::spawn_blocking(move || store.run(&lookup))
        .await
        .map_err(ApiError::internal)?
        .map_err(|error| ApiError::unavailable("store_unavailable", format!("cannot read the store: {error}")))?;
    let Some(run) = stored else {
        return Err(ApiError::not_found(format!(
            "no run `{id}` in the store: it was never accepted, or retention deleted it because its event time is too old for every SLO window"
        )));
    };
    let body = json!({
        "run_id": run.run_id,
        "policy_hash": run.policy_hash,
        "body_sha256": run.body_hash,
        "event_time": run.event_time,
        "received_at": run.received_at,
        "result": serde_json::from_str::<Json>(&run.result).unwrap_or(Json::Null),
    });
    Ok(axum::Json(body).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_joins_head_and_result() {
        let entry = with_result(3, Some(4), "accepted", r#" {"run_id":"a\"b","verdicts":[]} "#);
        assert_eq!(entry, r#"{"index":3,"line":4,"status":"accepted","run_id":"a\"b","verdicts":[]}"#);
        let parsed: Json = serde_json::from_str(&entry).unwrap();
        assert_eq!(parsed["run_id"], "a\"b");
    }

    #[test]
    fn entry_without_line_or_members() {
        assert_eq!(with_result(0, None, "duplicate", "{}"), r#"{"index":0,"status":"duplicate"}"#);
        assert_eq!(with_result(1, None, "duplicate", "not an object"), r#"{"index":1,"status":"duplicate"}"#);
        assert_eq!(
            with_result(2, None, "accepted", "{}"),
            Json::Object(head(2, None, "accepted")).to_string(),
            "the same text as the head alone"
        );
    }
}
