//! The verdict store: every accepted run's verdicts in an embedded SQLite database,
//! keyed by run id, so SLO windows survive a restart and a resubmitted run is
//! counted once.
//!
//! - **Durable before the response.** [`Store::submit`] returns only after the
//!   transaction holding the runs has committed, in WAL mode with
//!   `synchronous = FULL` (see [`schema::configure`]).
//! - **Idempotent by run id.** A run id seen before with the same canonical body
//!   ([`canonical`]) is a [`Submission::Duplicate`] and gets back the verdicts
//!   stored the first time; with a different body it is a [`Submission::Conflict`].
//!   Neither is stored or counted again.
//! - **Group commit.** One writer thread owns the write connection. It takes every
//!   submission waiting in its queue and commits them in one transaction, so
//!   concurrent requests share one fsync instead of queueing for one each.
//! - **Reads** ([`Store::run`], the SLO queries) use a separate connection, which
//!   WAL lets read the last commit while the writer writes.
//! - **Retention** ([`retention`]) deletes runs older than the longest SLO window
//!   needs, measured back from the newest event time in the store.
//!
//! SLO status over the stored runs is computed in [`slo_status`].

pub mod canonical;
mod outcomes;
pub mod retention;
mod schema;
pub mod slo_status;

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, Sender, SyncSender};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;

use tokio::sync::oneshot;

use chrono::{DateTime, TimeDelta, Utc};
use rusqlite::{Connection, OpenFlags, OptionalExtension, Transaction, params};

use crate::engine::RunVerdicts;
use crate::json_text::push_key;

pub use schema::SCHEMA;

/// Most runs committed in one group transaction; more waiting runs go in the next.
const MAX_GROUP_RUNS: usize = 20_000;

/// How long the background checkpointer waits after a commit before it copies the
/// write-ahead log into the database, so the commits of that time share one checkpoint.
const CHECKPOINT_DELAY: std::time::Duration = std::time::Duration::from_millis(50);

/// Log pages at which a commit checkpoints by itself, on the writer thread (SQLite's
/// default is 1,000 pages). The background checkpointer copies pages while commits go
/// on, but the log starts over from its beginning only after a checkpoint that nothing
/// was committed during. Under steady load that is this one, so the log grows to about
/// this size: 10,000 pages of 16 KiB are 160 MiB.
const FALLBACK_CHECKPOINT_PAGES: u32 = 10_000;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the store `{path}`: {message}")]
    Open { path: String, message: String },
    #[error("store query failed: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("the store holds invalid JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("storing runs failed, nothing of the batch was stored: {0}")]
    Write(String),
    #[error("the store is closed")]
    Closed,
}

/// One run ready to be stored.
#[derive(Debug)]
pub struct NewRun {
    pub run_id: String,
    /// [`canonical::body_hash`] of the submitted record.
    pub body_hash: String,
    pub policy_hash: String,
    /// The run's verdicts as JSON, returned again on a resubmission.
    pub result: String,
    /// Each rule's verdict, as the JSON object `{"rule": "verdict"}`.
    pub rule_verdicts: String,
    /// The latest event time any SLO placed the run at, in microseconds.
    event_time: Option<i64>,
    /// Each SLO's outcome for the run, as the JSON array of [`outcomes`].
    slo_outcomes: String,
}

impl NewRun {
    pub fn new(run_id: String, body_hash: String, verdicts: &RunVerdicts) -> Self {
        NewRun::with_result(run_id, body_hash, verdicts, verdicts.to_json_text())
    }

    /// Builds the run as [`NewRun::new`] does, with the verdicts already written as
    /// `result`. Everything is written here, on the caller's thread, so the single
    /// writer thread only inserts.
    pub fn with_result(run_id: String, body_hash: String, verdicts: &RunVerdicts, result: String) -> Self {
        let mut rule_verdicts = String::with_capacity(32 * verdicts.verdicts.len() + 2);
        rule_verdicts.push('{');
        for (index, outcome) in verdicts.verdicts.iter().enumerate() {
            push_key(&mut rule_verdicts, &outcome.rule, index == 0);
            rule_verdicts.push('"');
            rule_verdicts.push_str(outcome.verdict);
            rule_verdicts.push('"');
        }
        rule_verdicts.push('}');
        NewRun {
            run_id,
            body_hash,
            policy_hash: verdicts.policy_hash.clone(),
            result,
            rule_verdicts,
            event_time: verdicts
                .slos
                .iter()
                .filter_map(|effect| effect.event_time)
                .max()
                .map(|time| time.timestamp_micros()),
            slo_outcomes: outcomes::encode(&verdicts.slos),
        }
    }
}

/// Outcome of storing one run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Submission {
    /// A new run id: the run is stored and counts from now on.
    Accepted,
    /// The run id is known with the same body: nothing was stored; these are the
    /// verdicts stored the first time.
    Duplicate { result: String, policy_hash: String },
    /// The run id is known with a different body: nothing was stored.
    Conflict { stored_body_hash: String, received_at: DateTime<Utc> },
}

/// The earliest and latest event time of the stored runs; `None` without any.
pub type EventTimeRange = (Option<DateTime<Utc>>, Option<DateTime<Utc>>);

/// A stored run.
#[derive(Clone, Debug)]
pub struct StoredRun {
    pub run_id: String,
    pub body_hash: String,
    pub policy_hash: String,
    pub event_time: Option<DateTime<Utc>>,
    pub received_at: DateTime<Utc>,
    /// The run's verdicts as JSON.
    pub result: String,
}

enum Job {
    Submit { runs: Vec<NewRun>, reply: Reply },
    SetRetention(Option<TimeDelta>),
    ApplyRetention { reply: SyncSender<Result<u64, StoreError>> },
    Close { reply: SyncSender<Result<(), StoreError>> },
}

/// The verdict store. All methods block; call them off an async runtime's worker threads.
pub struct Store {
    location: String,
    jobs: Mutex<Option<Sender<Job>>>,
    writer: Mutex<Option<JoinHandle<()>>>,
    reader: Arc<Mutex<Connection>>,
    /// The background checkpointer of a file-backed store.
    checkpointer: Mutex<Option<Checkpointer>>,
}

impl Store {
    /// Opens (or creates) the store at `path`; `:memory:` opens a store that lives
    /// only as long as this value.
    pub fn open(path: impl AsRef<Path>) -> Result<Store, StoreError> {
        let path = path.as_ref();
        if path.as_os_str() == ":memory:" {
            return Store::open_in_memory();
        }
        let location = path.display().to_string();
        let open_error = |message: String| StoreError::Open { path: location.clone(), message };
        let writer = Connection::open(path).map_err(|e| open_error(e.to_string()))?;
        schema::check_existing(&writer).map_err(open_error)?;
        schema::configure(&writer, false).map_err(|e| open_error(e.to_string()))?;
        schema::create(&writer).map_err(open_error)?;
        let reader =
            Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)
                .map_err(|e| open_error(e.to_string()))?;
        reader.busy_timeout(std::time::Duration::from_secs(10)).map_err(|e| open_error(e.to_string()))?;
        writer.pragma_update(None, "cache_size", -WRITER_CACHE_KIB).map_err(|e| open_error(e.to_string()))?;
        writer
            .pragma_update(None, "wal_autocheckpoint", FALLBACK_CHECKPOINT_PAGES)
            .map_err(|e| open_error(e.to_string()))?;
        let checkpoints = Connection::open(path).map_err(|e| open_error(e.to_string()))?;
        checkpoints.busy_timeout(std::time::Duration::from_secs(10)).map_err(|e| open_error(e.to_string()))?;
        // Holds at most one signal: a checkpoint that is already due covers later commits.
        let (committed, commits) = mpsc::sync_channel(1);
        let committed_signal = committed.clone();
        let store =
            Store::start(location, Arc::new(Mutex::new(writer)), Arc::new(Mutex::new(reader)), Some(committed))?;
        store.start_checkpointer(checkpoints, committed_signal, commits)?;
        tracing::info!(path = %path.display(), runs = store.run_count()?, "verdict store opened");
        Ok(store)
    }

    /// Opens an empty store in memory, for tests and trials.
    pub fn open_in_memory() -> Result<Store, StoreError> {
        let open_error = |message: String| StoreError::Open { path: ":memory:".to_string(), message };
        let connection = Connection::open_in_memory().map_err(|e| open_error(e.to_string()))?;
        schema::configure(&connection, true).map_err(|e| open_error(e.to_string()))?;
        schema::create(&connection).map_err(open_error)?;
        // One connection serves both the writer and the readers: a second
        // connection would open a different, empty in-memory database.
        let shared = Arc::new(Mutex::new(connection));
        Store::start(":memory:".to_string(), Arc::clone(&shared), shared, None)
    }

    /// Starts the writer thread. After each commit it signals `committed`, when given.
    fn start(
        location: String,
        writer: Arc<Mutex<Connection>>,
        reader: Arc<Mutex<Connection>>,
        committed: Option<SyncSender<()>>,
    ) -> Result<Store, StoreError> {
        let (jobs, received) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("semslo-store-writer".to_string())
            .spawn(move || writer_loop(&writer, &received, committed.as_ref()))
            .map_err(|e| StoreError::Open { path: location.clone(), message: e.to_string() })?;
        Ok(Store {
            location,
            jobs: Mutex::new(Some(jobs)),
            writer: Mutex::new(Some(thread)),
            reader,
            checkpointer: Mutex::new(None),
        })
    }

    /// Starts the thread that checkpoints the write-ahead log [`CHECKPOINT_DELAY`] after
    /// a commit signals `commits`, so commits do not wait for checkpoints. `wake` is a
    /// sender of the same channel, for [`Store::close`].
    fn start_checkpointer(
        &self,
        connection: Connection,
        wake: SyncSender<()>,
        commits: Receiver<()>,
    ) -> Result<(), StoreError> {
        let location = self.location.clone();
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("semslo-store-checkpoint".to_string())
            .spawn(move || checkpoint_loop(&connection, &commits, &stopped, &location))
            .map_err(|e| StoreError::Open { path: self.location.clone(), message: e.to_string() })?;
        *lock(&self.checkpointer) = Some(Checkpointer { wake, stop, thread });
        Ok(())
    }

    /// Returns where the store lives: its path, or `:memory:`.
    pub fn location(&self) -> &str {
        &self.location
    }

    /// Stores `runs` and returns, for each, whether it was accepted, a duplicate or a
    /// conflict. Returns once the runs are committed to disk. Blocks the thread, so an
    /// async caller uses [`Store::submit_async`].
    pub fn submit(&self, runs: Vec<NewRun>) -> Result<Vec<Submission>, StoreError> {
        if runs.is_empty() {
            return Ok(Vec::new());
        }
        let (reply, answer) = oneshot::channel();
        self.send(Job::Submit { runs, reply })?;
        answer.blocking_recv().map_err(|_| StoreError::Closed)?
    }

    /// Stores `runs` like [`Store::submit`], waiting for the commit without holding a
    /// thread: the writer's reply wakes the task directly.
    pub async fn submit_async(&self, runs: Vec<NewRun>) -> Result<Vec<Submission>, StoreError> {
        if runs.is_empty() {
            return Ok(Vec::new());
        }
        let (reply, answer) = oneshot::channel();
        self.send(Job::Submit { runs, reply })?;
        answer.await.map_err(|_| StoreError::Closed)?
    }

    /// Sets how far back from the newest event time runs are kept; `None` keeps every run.
    pub fn set_retention(&self, span: Option<TimeDelta>) -> Result<(), StoreError> {
        self.send(Job::SetRetention(span))
    }

    /// Deletes the runs retention no longer needs, now, and returns how many.
    pub fn apply_retention(&self) -> Result<u64, StoreError> {
        let (reply, answer) = mpsc::sync_channel(1);
        self.send(Job::ApplyRetention { reply })?;
        answer.recv().map_err(|_| StoreError::Closed)?
    }

    /// Finishes queued writes, checkpoints the write-ahead log into the database
    /// file and stops the writer. Later writes fail with [`StoreError::Closed`].
    pub fn close(&self) -> Result<(), StoreError> {
        let Some(jobs) = lock(&self.jobs).take() else { return Ok(()) };
        // Stopped first: the writer's final checkpoint fails while another one runs.
        if let Some(Checkpointer { wake, stop, thread }) = lock(&self.checkpointer).take() {
            stop.store(true, Ordering::SeqCst);
            let _ = wake.send(());
            let _ = thread.join();
        }
        let (reply, answer) = mpsc::sync_channel(1);
        jobs.send(Job::Close { reply }).map_err(|_| StoreError::Closed)?;
        let result = answer.recv().map_err(|_| StoreError::Closed)?;
        if let Some(thread) = lock(&self.writer).take() {
            let _ = thread.join();
        }
        result
    }

    fn send(&self, job: Job) -> Result<(), StoreError> {
        let jobs = lock(&self.jobs);
        jobs.as_ref().ok_or(StoreError::Closed)?.send(job).map_err(|_| StoreError::Closed)
    }

    /// Returns the stored run with `run_id`.
    pub fn run(&self, run_id: &str) -> Result<Option<StoredRun>, StoreError> {
        let reader = lock(&self.reader);
        let mut statement = reader.prepare_cached(
            "SELECT run_id, body_sha256, policy_hash, event_time, received_at, result FROM runs WHERE run_id = ?1",
        )?;
        let run = statement
            .query_row([run_id], |row| {
                Ok(StoredRun {
                    run_id: row.get(0)?,
                    body_hash: row.get(1)?,
                    policy_hash: row.get(2)?,
                    event_time: row.get::<_, Option<i64>>(3)?.and_then(DateTime::from_timestamp_micros),
                    received_at: from_micros(row.get(4)?),
                    result: row.get(5)?,
                })
            })
            .optional()?;
        Ok(run)
    }

    /// Checks that the store responds to a read.
    pub fn ping(&self) -> Result<(), StoreError> {
        let reader = lock(&self.reader);
        reader.query_row("SELECT count(*) FROM (SELECT 1 FROM runs LIMIT 1)", [], |_| Ok(()))?;
        Ok(())
    }

    /// Counts the runs in the store.
    pub fn run_count(&self) -> Result<u64, StoreError> {
        let reader = lock(&self.reader);
        let count: i64 = reader.query_row("SELECT count(*) FROM runs", [], |row| row.get(0))?;
        Ok(count as u64)
    }

    /// Returns the earliest and latest event time of the stored runs.
    pub fn event_time_range(&self) -> Result<EventTimeRange, StoreError> {
        let reader = lock(&self.reader);
        let (first, last): (Option<i64>, Option<i64>) =
            reader.query_row("SELECT min(event_time), max(event_time) FROM runs", [], |row| {
                Ok((row.get(0)?, row.get(1)?))
            })?;
        Ok((first.and_then(DateTime::from_timestamp_micros), last.and_then(DateTime::from_timestamp_micros)))
    }

    /// Runs with `f` on the read connection.
    pub(crate) fn read<T>(&self, f: impl FnOnce(&Connection) -> Result<T, StoreError>) -> Result<T, StoreError> {
        f(&lock(&self.reader))
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        if let Err(error) = self.close() {
            tracing::warn!(store = %self.location, %error, "closing the verdict store failed");
        }
    }
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("location", &self.location).finish_non_exhaustive()
    }
}

/// Runs the writer thread: takes every waiting job and handles them in order,
/// committing each sequence of consecutive submissions in one transaction.
/// Page cache of the writer connection, in KiB (SQLite's default is 2,000). The
/// indexes on run ids and event times take inserts at random places, so with the
/// default cache most of those inserts read their page from the file again.
const WRITER_CACHE_KIB: i64 = 32 * 1024;

fn writer_loop(connection: &Mutex<Connection>, jobs: &Receiver<Job>, committed: Option<&SyncSender<()>>) {
    let mut retention: Option<TimeDelta> = None;
    while let Ok(first) = jobs.recv() {
        let mut pending = vec![first];
        let mut runs = 0;
        while runs < MAX_GROUP_RUNS {
            match jobs.try_recv() {
                Ok(job) => {
                    if let Job::Submit { runs: batch, .. } = &job {
                        runs += batch.len();
                    }
                    pending.push(job);
                }
                Err(_) => break,
            }
        }

        // Jobs run in the order they were sent; consecutive submissions share one commit.
        let mut connection = lock(connection);
        let mut submits = Vec::new();
        for job in pending {
            let job = match job {
                Job::Submit { runs, reply } => {
                    submits.push((runs, reply));
                    continue;
                }
                other => other,
            };
            if !submits.is_empty() {
                commit_group(&mut connection, std::mem::take(&mut submits), retention);
                signal(committed);
            }
            match job {
                Job::SetRetention(span) => retention = span,
                Job::ApplyRetention { reply } => {
                    let _ = reply.send(retention::apply(&mut connection, retention, Utc::now()));
                }
                Job::Close { reply } => {
                    let result = connection
                        .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
                        .map_err(StoreError::from);
                    let _ = reply.send(result);
                    return;
                }
                Job::Submit { .. } => unreachable!("submissions are collected above"),
            }
        }
        if !submits.is_empty() {
            commit_group(&mut connection, submits, retention);
            signal(committed);
        }
    }
}

/// Tells the checkpointer that a commit wrote to the log, unless a signal is pending.
fn signal(committed: Option<&SyncSender<()>>) {
    if let Some(committed) = committed {
        let _ = committed.try_send(());
    }
}

/// Runs `PRAGMA wal_checkpoint(PASSIVE)` [`CHECKPOINT_DELAY`] after each signal on
/// `commits`, until [`Store::close`] sets `stop`. A passive checkpoint copies what no
/// reader still needs and waits for no one. A failure is logged, and the next commit
/// tries again.
fn checkpoint_loop(connection: &Connection, commits: &Receiver<()>, stop: &AtomicBool, location: &str) {
    let mut failures: u64 = 0;
    let mut last_logged: Option<std::time::Instant> = None;
    while commits.recv().is_ok() && !stop.load(Ordering::SeqCst) {
        std::thread::sleep(CHECKPOINT_DELAY);
        // A commit signalled during the wait is covered by this checkpoint. The signal
        // taken may be the one `Store::close` sent, so `stop` is read again.
        let _ = commits.try_recv();
        if stop.load(Ordering::SeqCst) {
            break;
        }
        if let Err(error) = connection.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
            failures += 1;
            // Logged at most once a minute, with the count since the last line.
            if last_logged.is_none_or(|at| at.elapsed() >= std::time::Duration::from_secs(60)) {
                tracing::warn!(store = %location, %error, failures, "checkpointing the write-ahead log failed; retrying");
                last_logged = Some(std::time::Instant::now());
                failures = 0;
            }
        }
    }
}

/// The background checkpointer's thread and what stops it.
struct Checkpointer {
    /// Wakes the thread, which then reads `stop`.
    wake: SyncSender<()>,
    stop: Arc<AtomicBool>,
    thread: JoinHandle<()>,
}

/// The channel on which the writer sends the outcome of one submission.
type Reply = oneshot::Sender<Result<Vec<Submission>, StoreError>>;

fn commit_group(connection: &mut Connection, submits: Vec<(Vec<NewRun>, Reply)>, retention: Option<TimeDelta>) {
    let result = (|| -> Result<Vec<Vec<Submission>>, StoreError> {
        let transaction = connection.transaction()?;
        let mut results = Vec::with_capacity(submits.len());
        for (runs, _) in &submits {
            results.push(runs.iter().map(|run| insert(&transaction, run)).collect::<Result<Vec<_>, _>>()?);
        }
        // Cheap when nothing is due: one index lookup for the newest event time and
        // one index range scan below the cutoff.
        retention::delete_old_events(&transaction, retention)?;
        transaction.commit()?;
        Ok(results)
    })();

    match result {
        Ok(results) => {
            for ((_, reply), result) in submits.into_iter().zip(results) {
                let _ = reply.send(Ok(result));
            }
        }
        Err(error) => {
            tracing::error!(%error, requests = submits.len(), "storing runs failed; the transaction was rolled back");
            let message = error.to_string();
            for (_, reply) in submits {
                let _ = reply.send(Err(StoreError::Write(message.clone())));
            }
        }
    }
}

/// Stores one run unless its run id is known.
fn insert(transaction: &Transaction<'_>, run: &NewRun) -> Result<Submission, StoreError> {
    // Most runs are new: try the insert first, and look the run up only when its id
    // is taken.
    let inserted = transaction
        .prepare_cached(
            "INSERT INTO runs (run_id, body_sha256, event_time, received_at, policy_hash, result, rule_verdicts, slo_outcomes)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT (run_id) DO NOTHING",
        )?
        .execute(params![
            run.run_id,
            run.body_hash,
            run.event_time,
            Utc::now().timestamp_micros(),
            run.policy_hash,
            run.result,
            run.rule_verdicts,
            run.slo_outcomes
        ])?;
    if inserted == 0 {
        return known_run(transaction, run);
    }
    Ok(Submission::Accepted)
}

/// Compares a run whose id is already stored with the stored one.
fn known_run(transaction: &Transaction<'_>, run: &NewRun) -> Result<Submission, StoreError> {
    let known = transaction
        .prepare_cached("SELECT body_sha256, received_at, result, policy_hash FROM runs WHERE run_id = ?1")?
        .query_row([&run.run_id], |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?, row.get::<_, String>(2)?, row.get::<_, String>(3)?))
        })
        .optional()?;
    if let Some((body_hash, received_at, result, policy_hash)) = known {
        return Ok(if body_hash == run.body_hash {
            Submission::Duplicate { result, policy_hash }
        } else {
            Submission::Conflict { stored_body_hash: body_hash, received_at: from_micros(received_at) }
        });
    }
    Err(StoreError::Write(format!("run `{}` was neither inserted nor found", run.run_id)))
}

fn from_micros(micros: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(micros).unwrap_or_default()
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
