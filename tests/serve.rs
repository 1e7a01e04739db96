//! `semslo serve` against a real server on a loopback port (port 0, so the system
//! picks a free one) with real SQLite files in temporary directories.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use semslo::engine::Engine;
use semslo::input::MAX_DEPTH;
use semslo::serve::{self, Limits, RunningServer, ServeConfig};
use semslo::store::Store;
use semslo::watch::WatchOptions;
use serde_json::{Value as Json, json};

const LOOPBACK: &str = "127.0.0.1:0";
/// Maximum wait for a policy change to go live while traffic runs; tests only wait up to it.
const DEADLINE: Duration = Duration::from_secs(20);

fn data(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/serve").join(relative)
}

fn runs_jsonl() -> String {
    std::fs::read_to_string(data("runs.jsonl")).unwrap()
}

fn order(run_id: &str, vendor: &str, created_at: &str) -> Json {
    json!({"run_id": run_id, "outcome": {
        "type": "order", "vendor": vendor, "total": 20, "unit_price": 10, "quantity": 2, "created_at": created_at
    }})
}

fn client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().timeout(Duration::from_secs(60)).build().unwrap()
}

async fn start(policy: &Path, store: Arc<Store>, config: ServeConfig) -> (Engine, RunningServer) {
    let engine = Engine::load(policy).unwrap();
    let server = serve::start(LOOPBACK.parse().unwrap(), engine.clone(), store, config).await.unwrap();
    (engine, server)
}

/// Starts a server on a copy of the test policy in a fresh directory, which edits may change.
async fn start_copied() -> (tempfile::TempDir, Engine, RunningServer) {
    let directory = tempfile::tempdir().unwrap();
    copy_policy(directory.path());
    let (engine, server) =
        start(directory.path(), Arc::new(Store::open_in_memory().unwrap()), ServeConfig::default()).await;
    (directory, engine, server)
}

async fn start_default() -> (Engine, RunningServer) {
    start(&data("policy"), Arc::new(Store::open_in_memory().unwrap()), ServeConfig::default()).await
}

async fn send(request: reqwest::RequestBuilder) -> (StatusCode, Json) {
    let response = request.send().await.unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or(Json::String(text));
    (status, body)
}

async fn post(server: &RunningServer, content_type: &str, body: impl Into<String>) -> (StatusCode, Json) {
    let url = format!("{}/v1/runs", server.url());
    send(client().post(url).header("content-type", content_type).body(body.into())).await
}

async fn get(server: &RunningServer, path: &str) -> (StatusCode, Json) {
    send(client().get(format!("{}{path}", server.url()))).await
}

async fn metrics(server: &RunningServer) -> String {
    client().get(format!("{}/metrics", server.url())).send().await.unwrap().text().await.unwrap()
}

/// Returns the value of the sample `series` (name and labels exactly as exposed).
fn sample(metrics: &str, series: &str) -> Option<f64> {
    metrics.lines().find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.trim().parse().ok())
}

#[tokio::test]
async fn single_run_returns_verdicts_and_slo_effect() {
    let (engine, server) = start_default().await;
    let (status, body) =
        post(&server, "application/json", order("r-1", "V-9", "2025-03-01T10:00:00Z").to_string()).await;

    assert_eq!(status, StatusCode::OK, "{body:#}");
    assert_eq!(body["form"], "single");
    assert_eq!(body["accepted"], 1);
    let run = &body["runs"][0];
    assert_eq!(run["status"], "accepted");
    assert_eq!(run["run_id"], "r-1");
    assert_eq!(run["policy_hash"], engine.hash());
    assert_eq!(run["verdicts"][0]["verdict"], "fail");
    assert_eq!(run["violations"][0]["rule"], "vendor_not_blocked");
    assert_eq!(run["slos"][0]["slo"], "orders_correct");
    assert_eq!(run["slos"][0]["result"], "bad");

    let (status, stored) = get(&server, "/v1/runs/r-1").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(stored["policy_hash"], run["policy_hash"]);
    assert_eq!(stored["result"]["verdicts"], run["verdicts"]);
    assert_eq!(stored["result"]["slos"], run["slos"]);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn array_and_ndjson_batches_are_accepted() {
    let (_, server) = start_default().await;
    let array = json!([order("a-1", "V-1", "2025-03-01T10:00:00Z"), order("a-2", "V-1", "2025-03-01T11:00:00Z")]);
    let (status, body) = post(&server, "application/json", array.to_string()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["form"], "array");
    assert_eq!(body["accepted"], 2);

    let (status, body) = post(&server, "application/x-ndjson", runs_jsonl()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["form"], "ndjson");
    assert_eq!(body["accepted"], 6);
    assert_eq!(body["runs"][5]["line"], 6);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn malformed_ndjson_lines_are_reported_per_line() {
    let (_, server) = start_default().await;
    let body = format!(
        "{}\n{{\"run_id\": \"broken\", \n[1, 2]\n{}\n{{\"outcome\": {{}}}}\n",
        order("n-1", "V-1", "2025-03-01T10:00:00Z"),
        order("n-2", "V-1", "2025-03-01T10:00:00Z")
    );
    let (status, body) = post(&server, "application/x-ndjson", body).await;

    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["accepted"], 2);
    assert_eq!(body["rejected"], 3);
    let statuses: Vec<(&str, u64)> = body["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|run| (run["status"].as_str().unwrap(), run["line"].as_u64().unwrap()))
        .collect();
    assert_eq!(statuses, [("accepted", 1), ("rejected", 2), ("rejected", 3), ("accepted", 4), ("rejected", 5)]);
    assert!(body["runs"][1]["error"].as_str().unwrap().starts_with("line 2: invalid JSON"), "{body:#}");
    assert!(body["runs"][2]["error"].as_str().unwrap().contains("not an array"), "{body:#}");
    assert!(body["runs"][4]["error"].as_str().unwrap().contains("run_id"), "{body:#}");
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn run_without_id_is_rejected() {
    let (_, server) = start_default().await;
    let (status, body) = post(&server, "application/json", r#"{"outcome": {"type": "order"}}"#).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["runs"][0]["status"], "rejected");
    server.shutdown().await.unwrap();
}

/// Builds a run nested `depth` levels deep: the run object and `depth - 1` arrays inside it.
fn nested_run(run_id: &str, depth: usize) -> String {
    let arrays = depth - 1;
    format!("{{\"run_id\": \"{run_id}\", \"deep\": {}{}}}", "[".repeat(arrays), "]".repeat(arrays))
}

#[tokio::test]
async fn array_rejects_only_too_deep_runs() {
    let (_, server) = start_default().await;
    let body = format!(
        "[{}, {}, {}]",
        order("d-1", "V-1", "2025-03-01T10:00:00Z"),
        nested_run("d-2", MAX_DEPTH),
        nested_run("d-3", MAX_DEPTH + 1)
    );
    let (status, body) = post(&server, "application/json", body).await;

    assert_eq!(status, StatusCode::OK, "{body:#}");
    assert_eq!(body["form"], "array");
    assert_eq!(body["accepted"], 2);
    assert_eq!(body["rejected"], 1);
    assert_eq!(body["runs"][1]["status"], "accepted", "a run at the depth limit is read inside an array");
    let rejected = &body["runs"][2];
    assert_eq!(rejected["index"], 2);
    assert_eq!(rejected["status"], "rejected");
    let reason = rejected["error"].as_str().unwrap();
    assert!(reason.contains(&format!("nested deeper than {MAX_DEPTH} levels")), "{reason}");
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn too_deep_single_run_gets_422() {
    let (_, server) = start_default().await;
    let (status, body) = post(&server, "application/json", nested_run("deep-1", MAX_DEPTH + 1)).await;

    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body:#}");
    assert_eq!(body["form"], "single");
    assert_eq!(body["runs"][0]["status"], "rejected");
    let reason = body["runs"][0]["error"].as_str().unwrap();
    assert!(reason.contains(&format!("nested deeper than {MAX_DEPTH} levels")), "{reason}");
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn resubmission_is_not_counted_twice() {
    let (_, server) = start_default().await;
    post(&server, "application/x-ndjson", runs_jsonl()).await;
    let (_, first_slo) = get(&server, "/v1/slos/orders_correct").await;

    let (status, body) = post(&server, "application/x-ndjson", runs_jsonl()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["accepted"], 0);
    assert_eq!(body["duplicates"], 6);
    assert_eq!(body["runs"][1]["verdicts"][0]["verdict"], "fail", "the stored verdicts come back");

    let (_, second_slo) = get(&server, "/v1/slos/orders_correct").await;
    assert_eq!(first_slo["counts"], second_slo["counts"]);
    assert_eq!(second_slo["counts"]["valid"], 5);
    let text = metrics(&server).await;
    assert_eq!(sample(&text, r#"semslo_runs_total{slo="orders_correct",result="good"}"#), Some(2.0), "{text}");
    assert_eq!(sample(&text, r#"semslo_runs_total{slo="orders_correct",result="bad"}"#), Some(2.0), "{text}");
    assert_eq!(sample(&text, r#"semslo_runs_total{slo="orders_correct",result="error"}"#), Some(1.0), "{text}");
    assert_eq!(sample(&text, r#"semslo_runs_submitted_total{status="duplicate"}"#), Some(6.0), "{text}");
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn resent_run_in_new_layout_is_duplicate() {
    // An NDJSON line whose rules pass is hashed from its text; a single JSON run is
    // hashed from its parsed value. The same run must get the same hash either way.
    let (_, server) = start_default().await;
    let line = r#"{"outcome": {"created_at": "2025-03-01T10:00:00Z", "quantity": 2, "unit_price": 10.0, "total": 2e1, "vendor": "V-1", "type": "ord\u0065r"}, "run_id": "p-1"}"#;
    let (status, body) = post(&server, "application/x-ndjson", format!("{line}\n")).await;
    assert_eq!(status, StatusCode::OK, "{body:#}");
    assert_eq!(body["accepted"], 1, "{body:#}");

    let resent = order("p-1", "V-1", "2025-03-01T10:00:00Z");
    let (status, body) = post(&server, "application/json", resent.to_string()).await;
    assert_eq!(status, StatusCode::OK, "{body:#}");
    assert_eq!(body["duplicates"], 1, "{body:#}");
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn different_body_under_known_id_is_409() {
    let (_, server) = start_default().await;
    post(&server, "application/json", order("c-1", "V-1", "2025-03-01T10:00:00Z").to_string()).await;
    let (status, body) =
        post(&server, "application/json", order("c-1", "V-2", "2025-03-01T10:00:00Z").to_string()).await;

    assert_eq!(status, StatusCode::CONFLICT);
    let run = &body["runs"][0];
    assert_eq!(run["status"], "conflict");
    assert!(run["error"].as_str().unwrap().contains("different body"), "{body:#}");
    assert_ne!(run["body_sha256"], run["stored_body_sha256"]);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn limits_answer_413_naming_the_limit() {
    let config = ServeConfig {
        limits: Limits { max_body_bytes: 2_000, max_batch: 3, ..Limits::default() },
        ..ServeConfig::default()
    };
    let (_, server) = start(&data("policy"), Arc::new(Store::open_in_memory().unwrap()), config).await;

    let (status, body) = post(&server, "application/x-ndjson", "x".repeat(3_000)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(body["error"]["code"], "body_too_large");
    assert_eq!(body["error"]["limit"], json!({"option": "--max-body-bytes", "value": 2000}));

    let four: String = runs_jsonl().lines().take(4).map(|line| format!("{line}\n")).collect();
    let (status, body) = post(&server, "application/x-ndjson", four).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(body["error"]["limit"], json!({"option": "--max-batch", "value": 3}));
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn token_guards_writes_only() {
    let config = ServeConfig { token: Some("s3cret".to_string()), ..ServeConfig::default() };
    let (_, server) = start(&data("policy"), Arc::new(Store::open_in_memory().unwrap()), config).await;
    let url = format!("{}/v1/runs", server.url());
    let run = order("t-1", "V-1", "2025-03-01T10:00:00Z").to_string();

    let (status, body) = send(client().post(&url).body(run.clone())).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"]["code"], "unauthorized");
    let (status, _) = send(client().post(&url).bearer_auth("wrong").body(run.clone())).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = send(client().post(format!("{}/v1/policy/reload", server.url()))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // Another method gets a 405 response in the error shape, before any token check.
    let response = client().get(&url).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(response.headers()["allow"], "POST");
    let body: Json = serde_json::from_str(&response.text().await.unwrap()).unwrap();
    assert_eq!(body["error"]["code"], "method_not_allowed");
    assert!(body["error"]["message"].as_str().unwrap().contains("`Allow` header"), "{body:#}");
    let response = client().delete(format!("{}/v1/runs/t-1", server.url())).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    let allowed = response.headers()["allow"].to_str().unwrap().to_string();
    assert!(allowed.contains("GET"), "{allowed}");
    let body: Json = serde_json::from_str(&response.text().await.unwrap()).unwrap();
    assert_eq!(body["error"]["code"], "method_not_allowed");

    let (status, _) = send(client().post(&url).bearer_auth("s3cret").body(run)).await;
    assert_eq!(status, StatusCode::OK);
    // The scheme name is case-insensitive.
    let second = order("t-2", "V-1", "2025-03-01T11:00:00Z").to_string();
    let (status, _) = send(client().post(&url).header("authorization", "bearer s3cret").body(second)).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = get(&server, "/v1/slos").await;
    assert_eq!(status, StatusCode::OK);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn slo_numbers_survive_restart() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("verdicts.db");

    let (_, server) = start(&data("policy"), Arc::new(Store::open(&path).unwrap()), ServeConfig::default()).await;
    post(&server, "application/x-ndjson", runs_jsonl()).await;
    let (_, before) = get(&server, "/v1/slos").await;
    server.shutdown().await.unwrap();

    let (_, server) = start(&data("policy"), Arc::new(Store::open(&path).unwrap()), ServeConfig::default()).await;
    let (status, after) = get(&server, "/v1/slos").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(after, before);
    assert_eq!(after["slos"][0]["counts"]["valid"], 5);

    let (_, body) = post(&server, "application/x-ndjson", runs_jsonl()).await;
    assert_eq!(body["duplicates"], 6, "run ids are remembered across the restart");
    let (_, again) = get(&server, "/v1/slos").await;
    assert_eq!(again, before);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn slo_endpoints_follow_the_report_shape() {
    let (_, server) = start_default().await;
    post(&server, "application/x-ndjson", runs_jsonl()).await;

    let (status, report) = get(&server, "/v1/slos").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(report["schema"], "semslo.report.v1");
    assert_eq!(report["at"], "2025-03-06T10:00:00Z", "windows end at the newest stored event time");
    assert_eq!(report["rules"][0]["name"], "vendor_not_blocked");

    let (_, slo) = get(&server, "/v1/slos/orders_correct?at=2025-03-03T12:00:00Z").await;
    assert_eq!(slo["window"]["end"], "2025-03-03T12:00:00Z");
    assert_eq!(slo["counts"]["valid"], 3, "the orders of 1, 2 and 3 March");

    let (status, body) = get(&server, "/v1/slos/nope").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(body["error"]["message"].as_str().unwrap().contains("`orders_correct`"));
    let (status, body) = get(&server, "/v1/runs/never-sent").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(body["error"]["message"].as_str().unwrap().contains("retention"), "{body}");
    let (status, _) = get(&server, "/v1/slos?at=yesterday").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn policy_endpoint_and_reload() {
    let (directory, engine, server) = start_copied().await;
    let live = engine.hash();

    let (status, policy) = get(&server, "/v1/policy").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(policy["hash"], live);
    assert_eq!(policy["rules"][0]["name"], "vendor_not_blocked");
    assert_eq!(policy["reload"]["last"]["outcome"], "applied");

    let slo_file = directory.path().join("orders.slo");
    let text = std::fs::read_to_string(&slo_file).unwrap();
    std::fs::write(&slo_file, text.replace("objective 90%", "objective 900%")).unwrap();
    let reload_url = format!("{}/v1/policy/reload", server.url());
    let (status, outcome) = send(client().post(&reload_url)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(outcome["outcome"], "rejected");
    assert_eq!(outcome["diagnostics"][0]["code"], "semslo::check::invalid_objective");
    let (_, policy) = get(&server, "/v1/policy").await;
    assert_eq!(policy["hash"], live);
    assert_eq!(policy["reload"]["last_rejected"]["diagnostics"][0]["code"], "semslo::check::invalid_objective");

    std::fs::write(&slo_file, text.replace("objective 90%", "objective 95%")).unwrap();
    let (status, outcome) = send(client().post(&reload_url)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(outcome["outcome"], "applied");
    assert_ne!(engine.hash(), live);
    let text = metrics(&server).await;
    assert_eq!(sample(&text, r#"semslo_reloads_total{outcome="rejected"}"#), Some(1.0));
    assert_eq!(sample(&text, r#"semslo_reloads_total{outcome="applied"}"#), Some(1.0));
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn metrics_use_the_documented_names() {
    let (_, server) = start_default().await;
    post(&server, "application/x-ndjson", runs_jsonl()).await;
    let response = client().get(format!("{}/metrics", server.url())).send().await.unwrap();
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("application/openmetrics-text"));
    let text = response.text().await.unwrap();
    for series in [
        r#"semslo_rule_verdicts_total{rule="vendor_not_blocked",verdict="fail"}"#,
        r#"semslo_rule_verdicts_total{rule="total_matches_lines",verdict="error"}"#,
        r#"semslo_reloads_total{outcome="unchanged"}"#,
        r#"semslo_runs_submitted_total{status="accepted"}"#,
        "semslo_evaluation_seconds_count",
    ] {
        assert!(sample(&text, series).is_some(), "`{series}` is missing from\n{text}");
    }
    assert_eq!(sample(&text, "semslo_evaluation_seconds_count"), Some(6.0));
    let bounds: Vec<&str> = text
        .lines()
        .filter_map(|line| line.strip_prefix("semslo_evaluation_seconds_bucket{le=\"")?.split('"').next())
        .collect();
    assert_eq!(bounds.first(), Some(&"0.00001"), "{text}");
    assert!(bounds.contains(&"0.0025"), "{bounds:?}");
    assert!(bounds.contains(&"+Inf"), "{bounds:?}");
    assert!(bounds.iter().all(|bound| bound.len() <= 8), "bucket bounds carry float noise: {bounds:?}");
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn health_and_readiness_answer() {
    let (engine, server) = start_default().await;
    let (status, body) = get(&server, "/healthz").await;
    assert_eq!((status, &body["status"]), (StatusCode::OK, &json!("ok")));
    let (status, body) = get(&server, "/readyz").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["policy_hash"], engine.hash());
    let (status, _) = get(&server, "/v2/nothing").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    server.shutdown().await.unwrap();
}

/// Starts watching `engine`'s files and stops again, which waits for the check the
/// watcher makes when it starts. Call it once the server responds to requests, so
/// its reload observer is registered.
async fn watch_start_and_stop(engine: &Engine) {
    let watch = engine.watch_with(WatchOptions::default()).unwrap();
    tokio::task::spawn_blocking(move || drop(watch)).await.unwrap();
}

#[tokio::test]
async fn fresh_server_counts_no_reloads() {
    let (_directory, engine, server) = start_copied().await;
    let (status, _) = get(&server, "/healthz").await;
    assert_eq!(status, StatusCode::OK);

    watch_start_and_stop(&engine).await;
    let text = metrics(&server).await;
    assert_eq!(sample(&text, r#"semslo_reloads_total{outcome="unchanged"}"#), Some(0.0), "{text}");
    assert_eq!(sample(&text, r#"semslo_reloads_total{outcome="applied"}"#), Some(0.0), "{text}");
    let (_, policy) = get(&server, "/v1/policy").await;
    assert_eq!(policy["reload"]["counts"]["unchanged"], 0, "{policy:#}");
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn change_before_watching_is_counted() {
    let (directory, engine, server) = start_copied().await;
    let (status, _) = get(&server, "/healthz").await;
    assert_eq!(status, StatusCode::OK);
    let slo_file = directory.path().join("orders.slo");
    let text = std::fs::read_to_string(&slo_file).unwrap();
    std::fs::write(&slo_file, text.replace("objective 90%", "objective 95%")).unwrap();

    watch_start_and_stop(&engine).await;
    let text = metrics(&server).await;
    assert_eq!(sample(&text, r#"semslo_reloads_total{outcome="applied"}"#), Some(1.0), "{text}");
    let (_, policy) = get(&server, "/v1/policy").await;
    assert_eq!(policy["reload"]["last"]["trigger"], "watch_start", "{policy:#}");
    assert_eq!(policy["reload"]["counts"]["applied"], 1, "{policy:#}");
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn slow_evaluation_times_out_and_stores_nothing() {
    let config = ServeConfig {
        limits: Limits { request_timeout: Duration::from_millis(50), ..Limits::default() },
        ..ServeConfig::default()
    };
    let store = Arc::new(Store::open_in_memory().unwrap());
    let (_, server) = start(&data("slow"), Arc::clone(&store), config).await;
    let (status, body) = post(&server, "application/json", slow_run("slow-1").to_string()).await;

    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body["error"]["code"], "evaluation_timeout");
    assert_eq!(store.run_count().unwrap(), 0);
    server.shutdown().await.unwrap();
}

#[tokio::test]
async fn shutdown_finishes_accepted_requests() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("verdicts.db");
    let (_, server) = start(&data("slow"), Arc::new(Store::open(&path).unwrap()), ServeConfig::default()).await;
    let url = format!("{}/v1/runs", server.url());
    let in_flight = tokio::spawn(async move { send(client().post(url).body(slow_run("slow-1").to_string())).await });
    tokio::time::sleep(Duration::from_millis(300)).await;

    server.shutdown().await.unwrap();
    let (status, body) = in_flight.await.unwrap();
    assert_eq!(status, StatusCode::OK, "{body:#}");
    assert_eq!(body["accepted"], 1);
    assert!(Store::open(&path).unwrap().run("slow-1").unwrap().is_some(), "the accepted run was stored");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_valid_sets_go_live_during_traffic() {
    let directory = tempfile::tempdir().unwrap();
    let policy = directory.path().join("policy");
    copy_policy(&policy);
    let store = Arc::new(Store::open(directory.path().join("verdicts.db")).unwrap());
    let (engine, server) = start(&policy, Arc::clone(&store), ServeConfig::default()).await;
    let _watch = engine.watch_with(WatchOptions { debounce: Duration::from_millis(100) }).unwrap();
    let mut valid_hashes = vec![engine.hash()];

    let stop = Arc::new(AtomicBool::new(false));
    let senders: Vec<_> = (0..4)
        .map(|sender| {
            let stop = Arc::clone(&stop);
            let url = format!("{}/v1/runs", server.url());
            tokio::spawn(async move {
                let mut seen = Vec::new();
                let mut accepted = 0;
                let mut index = 0;
                while !stop.load(Ordering::SeqCst) {
                    index += 1;
                    let run = order(&format!("s{sender}-{index}"), "V-1", "2025-03-01T10:00:00Z");
                    let (status, body) = send(client().post(&url).body(run.to_string())).await;
                    assert_eq!(status, StatusCode::OK, "{body:#}");
                    accepted += body["accepted"].as_u64().unwrap();
                    seen.push(body["runs"][0]["policy_hash"].as_str().unwrap().to_string());
                }
                (accepted, seen)
            })
        })
        .collect();

    let slo_file = policy.join("orders.slo");
    let original = std::fs::read_to_string(&slo_file).unwrap();
    let steps = [
        (original.replace("objective 90%", "objective 91%"), true),
        (original.replace("rule total_matches_lines {", "rule total_matches_lines {{"), false),
        (original.replace("expect vendor_not_blocked fails", "expect vendor_not_blocked passes"), false),
        (original.replace("objective 90%", "objective 93%"), true),
    ];
    let mut rejected_hashes = Vec::new();
    for (text, valid) in steps {
        let rejections = engine.reload_status().counts.rejected;
        std::fs::write(&slo_file, &text).unwrap();
        if valid {
            let expected = hash_as(&policy, &text);
            wait_until(|| engine.hash() == expected).await;
            valid_hashes.push(expected);
        } else {
            wait_until(|| engine.reload_status().counts.rejected > rejections).await;
            if let (Some(set), _) = semslo::compile::load(&policy) {
                rejected_hashes.push(set.hash);
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    stop.store(true, Ordering::SeqCst);

    let mut accepted = 0;
    for sender in senders {
        let (count, seen) = sender.await.unwrap();
        accepted += count;
        for hash in seen {
            assert!(valid_hashes.contains(&hash), "a run was judged by `{hash}`, which never passed its checks");
            assert!(!rejected_hashes.contains(&hash));
        }
    }
    assert!(accepted > 0);
    assert_eq!(store.run_count().unwrap(), accepted, "every accepted run is stored, none twice");
    server.shutdown().await.unwrap();
}

#[test]
fn binary_serves_and_stops_on_sigterm() {
    let directory = tempfile::tempdir().unwrap();
    let store = directory.path().join("verdicts.db");
    let mut child = Command::new(env!("CARGO_BIN_EXE_semslo"))
        .args(["serve", "--listen", LOOPBACK, "--log-format", "json", "--policy"])
        .arg(data("policy"))
        .arg("--store")
        .arg(&store)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut log = BufReader::new(child.stderr.take().unwrap()).lines();
    let listening = log
        .by_ref()
        .map_while(Result::ok)
        .find_map(|line| {
            let entry: Json = serde_json::from_str(&line).ok()?;
            (entry["message"] == "semslo serve listening").then_some(entry)
        })
        .expect("the server logs its address");
    let address = listening["address"].as_str().unwrap().to_string();

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (status, ready) = runtime.block_on(send(client().get(format!("http://{address}/readyz"))));
    assert_eq!(status, StatusCode::OK, "{ready:#}");
    assert_eq!(listening["policy_hash"], ready["policy_hash"], "the start-up line names the live set: {listening:#}");
    let (status, body) = runtime.block_on(send(
        client()
            .post(format!("http://{address}/v1/runs"))
            .body(order("b-1", "V-1", "2025-03-01T10:00:00Z").to_string()),
    ));
    assert_eq!(status, StatusCode::OK, "{body:#}");

    let killed = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(killed.success());
    let rest: Vec<String> = log.map_while(Result::ok).collect();
    let exit = child.wait().unwrap();
    assert_eq!(exit.code(), Some(0), "{rest:#?}");
    assert!(rest.iter().any(|line| line.contains("verdict store flushed and closed")), "{rest:#?}");
    assert!(Store::open(&store).unwrap().run("b-1").unwrap().is_some());
}

#[test]
fn binary_refuses_an_invalid_policy() {
    let directory = tempfile::tempdir().unwrap();
    std::fs::write(directory.path().join("broken.slo"), "rule {").unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_semslo"))
        .args(["serve", "--listen", LOOPBACK, "--store", ":memory:", "--policy"])
        .arg(directory.path())
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("the server did not start"));
}

#[test]
fn binary_names_the_address_it_cannot_listen_on() {
    let directory = tempfile::tempdir().unwrap();
    let run = |listen: &str| {
        Command::new(env!("CARGO_BIN_EXE_semslo"))
            .args(["serve", "--no-watch", "--listen", listen, "--store"])
            .arg(directory.path().join("store.db"))
            .arg("--policy")
            .arg(data("policy"))
            .env("NO_COLOR", "1")
            .output()
            .unwrap()
    };

    let output = run("localhost:0");
    assert_eq!(output.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&output.stderr).contains("127.0.0.1:8787"), "{output:?}");

    // A port in use fails before the store is created.
    let occupied = std::net::TcpListener::bind(LOOPBACK).unwrap();
    let output = run(&occupied.local_addr().unwrap().to_string());
    assert_eq!(output.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&output.stderr).contains("cannot listen on"), "{output:?}");
    assert!(!directory.path().join("store.db").exists());
}

/// Builds a run whose 700 steps make the slow policy compare about 490,000 pairs.
fn slow_run(run_id: &str) -> Json {
    let steps: Vec<Json> = (0..700).map(|n| json!({"n": n})).collect();
    json!({"run_id": run_id, "steps": steps})
}

/// Copies the fixture policy into `to`, so a test can edit it.
fn copy_policy(to: &Path) {
    for relative in ["orders.slo", "data/blocked_vendors.csv", "tests/blocked_order.json"] {
        let destination = to.join(relative);
        std::fs::create_dir_all(destination.parent().unwrap()).unwrap();
        std::fs::copy(data("policy").join(relative), destination).unwrap();
    }
}

/// Compiles `text` as `policy/orders.slo`, with the directory's other files, and returns the set's hash.
fn hash_as(policy: &Path, text: &str) -> String {
    let source = semslo::diagnostic::SourceFile::new(
        policy.join("orders.slo"),
        policy.join("orders.slo").display().to_string(),
        text,
    );
    let (set, diagnostics) = semslo::compile::compile_sources(&[source]);
    assert!(!diagnostics.has_errors(), "{diagnostics:?}");
    set.unwrap().hash
}

async fn wait_until(condition: impl Fn() -> bool) {
    let started = Instant::now();
    while !condition() {
        assert!(started.elapsed() < DEADLINE, "timed out waiting for the reload");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[test]
fn binary_refuses_zero_max_batch() {
    let output = Command::new(env!("CARGO_BIN_EXE_semslo"))
        .args(["serve", "--listen", LOOPBACK, "--store", ":memory:", "--max-batch", "0", "--policy"])
        .arg(data("policy"))
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(3), "a usage error");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--max-batch"), "{stderr}");
}

#[tokio::test]
async fn future_run_is_rejected_with_its_line() {
    let (_, server) = start_default().await;
    let body =
        format!("{}\n{}\n", order("f-1", "V-1", "2025-03-01T10:00:00Z"), order("f-2", "V-1", "2099-03-01T10:00:00Z"));
    let (status, body) = post(&server, "application/x-ndjson", body).await;
    assert_eq!(status, StatusCode::OK, "{body:#}");
    assert_eq!(body["accepted"], 1);
    let reason = body["runs"][1]["error"].as_str().unwrap();
    assert!(reason.starts_with("line 2: the event time 2099-03-01T10:00:00Z is in the future"), "{reason}");
    server.shutdown().await.unwrap();
}
