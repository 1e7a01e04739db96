//! `semslo serve`: the [`Engine`] and the verdict [`Store`] over HTTP, with axum on tokio.
//!
//! | endpoint | what it does |
//! | --- | --- |
//! | `POST /v1/runs` | evaluates one run, a JSON array or NDJSON; stores and returns each run's verdicts and SLO effect |
//! | `GET /v1/runs/{run_id}` | the stored verdicts of one run |
//! | `GET /v1/slos`, `GET /v1/slos/{name}` | SLO status over the stored runs, in the JSON shape of `semslo report` |
//! | `GET /v1/policy`, `POST /v1/policy/reload` | the live set and its reload status; reload now |
//! | `GET /metrics` | Prometheus metrics ([`metrics`]) |
//! | `GET /healthz`, `GET /readyz` | liveness, and readiness (store reachable, not shutting down) |
//!
//! What bounds what:
//! - a request body: [`Limits::max_body_bytes`] (413 past it);
//! - the runs of one request: [`Limits::max_batch`] (413 past it);
//! - one rule on one run: the evaluator's step budget ([`crate::eval::EVALUATION_BUDGET`]),
//!   past which the verdict is `error`;
//! - the evaluation of one request, queueing included: [`Limits::request_timeout`]
//!   of wall-clock time (503 past it, and nothing of the request is stored);
//! - evaluations running at once: one per CPU, on tokio's blocking threads, so
//!   evaluation does not occupy the async worker threads that serve other requests.
//!
//! With a token ([`ServeConfig::token`]), every `POST` needs `Authorization: Bearer
//! TOKEN` (401 otherwise); `GET`s stay open. Shutdown stops accepting
//! connections, lets accepted requests finish, then closes the store.

mod auth;
pub mod body;
mod error;
mod logging;
pub mod metrics;
mod policy;
mod runs;
mod slos;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, oneshot};
use tokio::task::JoinHandle;

use crate::engine::{Engine, ReloadResult};
use crate::store::{Store, retention};
use error::ApiError;
use logging::RepeatLimiter;
use metrics::Metrics;

/// Request limits.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Maximum number of runs in one request.
    pub max_batch: usize,
    /// Wall-clock time one request may spend waiting for and running evaluation.
    pub request_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_body_bytes: 16 * 1024 * 1024, max_batch: 10_000, request_timeout: Duration::from_secs(30) }
    }
}

/// Everything the server is configured with besides the engine and the store.
#[derive(Clone, Debug)]
pub struct ServeConfig {
    pub limits: Limits,
    /// Bearer token that `POST` requests must carry; `None` leaves them open.
    pub token: Option<String>,
    /// How often retention runs besides after every commit (which covers runs with
    /// an event time; this pass also removes old runs without one).
    pub retention_interval: Duration,
}

impl Default for ServeConfig {
    fn default() -> Self {
        ServeConfig { limits: Limits::default(), token: None, retention_interval: Duration::from_secs(60) }
    }
}

/// State shared by every handler.
pub(crate) struct AppState {
    engine: Engine,
    store: Arc<Store>,
    metrics: Metrics,
    limits: Limits,
    token: Option<String>,
    evaluation_slots: Arc<Semaphore>,
    /// False once shutdown has begun: `/readyz` then fails so load balancers stop
    /// sending new work.
    ready: AtomicBool,
    errors: RepeatLimiter,
}

/// Serves on `listener` until `shutdown` completes, then finishes accepted requests
/// and closes the store.
pub async fn serve(
    listener: TcpListener,
    engine: Engine,
    store: Arc<Store>,
    config: ServeConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let state = Arc::new(state(engine, Arc::clone(&store), &config));
    let retention_task = tokio::spawn(retention_loop(Arc::downgrade(&state), config.retention_interval));
    let address = listener.local_addr()?;
    tracing::info!(%address, store = store.location(), policy_hash = %state.engine.hash(), "semslo serve listening");

    let signal_state = Arc::clone(&state);
    let shutdown = async move {
        shutdown.await;
        signal_state.ready.store(false, Ordering::SeqCst);
        tracing::info!("shutting down: no new connections; finishing accepted requests");
    };
    let served = axum::serve(listener, router(Arc::clone(&state))).with_graceful_shutdown(shutdown).await;

    retention_task.abort();
    let closed = tokio::task::spawn_blocking(move || store.close()).await;
    match closed {
        Ok(Ok(())) => tracing::info!("verdict store flushed and closed"),
        Ok(Err(error)) => tracing::error!(%error, "closing the verdict store failed"),
        Err(error) => tracing::error!(%error, "closing the verdict store panicked"),
    }
    served
}

fn state(engine: Engine, store: Arc<Store>, config: &ServeConfig) -> AppState {
    let live = engine.current();
    let metrics = Metrics::new();
    metrics.declare_slos(live.set.slos.iter().map(|slo| slo.name.as_str()));
    if let Err(error) = store.set_retention(retention::span_for(&live.set)) {
        tracing::error!(%error, "cannot set the store's retention");
    }
    let slots = std::thread::available_parallelism().map_or(2, |cpus| cpus.get());
    AppState {
        engine,
        store,
        metrics,
        limits: config.limits,
        token: config.token.clone(),
        evaluation_slots: Arc::new(Semaphore::new(slots)),
        ready: AtomicBool::new(true),
        errors: RepeatLimiter::default(),
    }
}

fn router(state: Arc<AppState>) -> Router {
    observe_reloads(&state);
    // The token guards the `POST` handlers only, so another method gets 405, not 401.
    let token = || middleware::from_fn_with_state(Arc::clone(&state), auth::require_token);
    Router::new()
        .route("/v1/runs", post(runs::submit).route_layer(token()))
        .route("/v1/policy/reload", post(policy::reload).route_layer(token()))
        .route("/v1/runs/{run_id}", get(runs::show))
        .route("/v1/slos", get(slos::list))
        .route("/v1/slos/{name}", get(slos::show))
        .route("/v1/policy", get(policy::show))
        .route("/metrics", get(metrics_text))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .fallback(not_found)
        .layer(middleware::map_response(method_not_allowed))
        .layer(middleware::from_fn(logging::log_request))
        .with_state(state)
}

/// Counts every reload in the metrics and follows the new set's retention span.
/// Holds the state weakly, so an engine that outlives this server does not keep it.
fn observe_reloads(state: &Arc<AppState>) {
    let weak: Weak<AppState> = Arc::downgrade(state);
    state.engine.on_reload(move |outcome| {
        let Some(state) = weak.upgrade() else { return };
        state.metrics.record_reload(outcome.outcome);
        if outcome.outcome == ReloadResult::Applied {
            let live = state.engine.current();
            state.metrics.declare_slos(live.set.slos.iter().map(|slo| slo.name.as_str()));
            if let Err(error) = state.store.set_retention(retention::span_for(&live.set)) {
                state.errors.error("store", &error.to_string(), "cannot update the store's retention");
            }
        }
    });
}

async fn retention_loop(state: Weak<AppState>, interval: Duration) {
    let mut ticks = tokio::time::interval(interval);
    ticks.tick().await;
    loop {
        ticks.tick().await;
        let Some(state) = state.upgrade() else { return };
        let store = Arc::clone(&state.store);
        match tokio::task::spawn_blocking(move || store.apply_retention()).await {
            Ok(Ok(_)) => {}
            Ok(Err(error)) => state.errors.error("store", &error.to_string(), "retention failed"),
            Err(error) => state.errors.error("store", &error.to_string(), "retention panicked"),
        }
    }
}

async fn metrics_text(State(state): State<Arc<AppState>>) -> Response {
    ([(axum::http::header::CONTENT_TYPE, metrics::CONTENT_TYPE)], state.metrics.encode()).into_response()
}

async fn healthz() -> Response {
    axum::Json(serde_json::json!({"status": "ok"})).into_response()
}

async fn readyz(State(state): State<Arc<AppState>>) -> Result<Response, ApiError> {
    if !state.ready.load(Ordering::SeqCst) {
        return Err(ApiError::unavailable("shutting_down", "the server is shutting down".to_string()));
    }
    let store = Arc::clone(&state.store);
    tokio::task::spawn_blocking(move || store.ping()).await.map_err(ApiError::internal)?.map_err(|error| {
        ApiError::unavailable("store_unavailable", format!("the verdict store is not reachable: {error}"))
    })?;
    let body = serde_json::json!({"status": "ready", "policy_hash": state.engine.hash()});
    Ok(axum::Json(body).into_response())
}

async fn not_found() -> ApiError {
    ApiError::not_found("no such endpoint; see docs/serve.md for the endpoints".to_string())
}

/// Replaces the empty body of the router's 405 responses with the error body that
/// every other error has, keeping the `Allow` header.
async fn method_not_allowed(response: Response) -> Response {
    if response.status() != StatusCode::METHOD_NOT_ALLOWED {
        return response;
    }
    let allowed = response.headers().get(axum::http::header::ALLOW).cloned();
    // NOTE: the router may add `Allow` after this layer runs, so the message points to
    // the header instead of repeating its methods.
    let message = "method not allowed on this endpoint; the `Allow` header lists the methods it accepts";
    let mut replacement =
        ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", message.to_string()).into_response();
    if let Some(allowed) = allowed {
        replacement.headers_mut().insert(axum::http::header::ALLOW, allowed);
    }
    replacement
}

/// A server started with [`start`], for tests and embedding.
pub struct RunningServer {
    address: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<std::io::Result<()>>,
}

impl RunningServer {
    /// Returns the address the server listens on.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Returns `http://ADDRESS`.
    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// Shuts the server down gracefully and waits until the store is closed.
    pub async fn shutdown(mut self) -> std::io::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.task.await.map_err(std::io::Error::other)?
    }
}

/// Binds `address` (port 0 picks a free port) and serves in a background task.
pub async fn start(
    address: SocketAddr,
    engine: Engine,
    store: Arc<Store>,
    config: ServeConfig,
) -> std::io::Result<RunningServer> {
    let listener = TcpListener::bind(address).await?;
    let address = listener.local_addr()?;
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(serve(listener, engine, store, config, async move {
        let _ = stopped.await;
    }));
    Ok(RunningServer { address, stop: Some(stop), task })
}
