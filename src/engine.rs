//! The engine a service embeds: a policy set loaded once, evaluated on each run as
//! it finishes, and kept current while its files change.
//!
//! [`Engine`] keeps the live [`LoadedSet`] behind an atomic pointer ([`ArcSwap`]).
//! An evaluation takes an `Arc` of the set that is live when it starts and keeps
//! it to the end, so a reload never changes a run's verdicts halfway, and every
//! [`RunVerdicts`] names the hash of the set that produced it.
//!
//! **A reload is a transaction.** [`Engine::reload`] reads the whole directory
//! aside, compiles it and runs its `test` blocks; only when there is no error and
//! every test passes does one atomic store make the new set live. Otherwise the
//! live set stays, and the diagnostics are returned, kept in [`Engine::reload_status`]
//! and logged through `tracing`. [`Engine::watch`] reloads on every change of the
//! files (see [`crate::watch`]).
//!
//! ```no_run
//! use semslo::engine::Engine;
//!
//! let engine = Engine::load("policies/procurement").expect("the policy set loads");
//! let _watch = engine.watch().expect("the watcher starts");
//! let record = serde_json::json!({"run_id": "po-1", "outcome": {"type": "purchase_order"}});
//! let verdicts = engine.evaluate(&record);
//! println!("{} rules judged by {}", verdicts.verdicts.len(), verdicts.policy_hash);
//! ```

mod load;
mod run;
mod status;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use chrono::{DateTime, Utc};
use serde_json::Value as Json;

use crate::compile::PolicySet;
use crate::diagnostic::Diagnostics;
use crate::watch::{WatchError, WatchHandle, WatchOptions};

pub use load::CONFIGMAP_DATA_LINK;
pub use run::{BadRule, DimensionValue, RUN_ID_FIELDS, RuleOutcome, RunVerdicts, SloEffect, SloResult, run_id};
pub(crate) use run::{push_bad_rules, push_dimensions};
pub use status::{DiagnosticReport, ReloadCounts, ReloadOutcome, ReloadResult, ReloadStatus, ReloadTrigger};

/// A compiled policy set that passed its tests, as the engine serves it.
#[derive(Debug)]
pub struct LoadedSet {
    pub set: PolicySet,
    /// When this set went live.
    pub loaded_at: DateTime<Utc>,
    /// The directory the files were read from: the policy path, or the target of its
    /// `..data` link in a ConfigMap volume.
    pub read_from: PathBuf,
    pub tests_passed: usize,
    /// Warnings of the compilation (a live set has no errors).
    pub warnings: Vec<DiagnosticReport>,
    /// The fields the set reads, arranged for reading run text (see [`Self::evaluate_passing_text`]).
    reader: run::TextReader,
}

impl LoadedSet {
    /// `sha256:` and the digest of every policy and data file of the set.
    pub fn hash(&self) -> &str {
        &self.set.hash
    }

    /// Evaluates every rule and SLO on `record`; `location` names the run in
    /// violations when the record has no `run_id`.
    pub fn evaluate(&self, record: &Json, location: &str) -> RunVerdicts {
        run::evaluate(&self.set, &self.set.hash, record, location)
    }

    /// Evaluates the JSON text of a run as [`Self::evaluate`] does, parsing only the fields
    /// that the set and the explanations of violations read (the steps' names and
    /// outputs). Returns `None` when the text is not a JSON object, so parse it with
    /// `serde_json` then to get the reason.
    pub fn evaluate_text(&self, text: &[u8], location: &str) -> Option<RunVerdicts> {
        self.reader.evaluate(&self.set, text, location)
    }

    /// Evaluates the run in the JSON text `text`, parsing only the fields the set reads,
    /// and returns its verdicts when every rule passed or was skipped: the same
    /// [`RunVerdicts`] that [`Self::evaluate`] returns for the parsed text.
    ///
    /// Returns `None` for every other run: text that is not a JSON object, a run
    /// without `run_id` or `id`, and a run with a failing or erroring rule, whose
    /// violations need the whole record. Parse the text and call [`Self::evaluate`]
    /// then. Most runs pass, so a service reading runs as text parses most of them
    /// only partly.
    pub fn evaluate_passing_text(&self, text: &[u8]) -> Option<RunVerdicts> {
        self.reader.evaluate_passing(&self.set, text)
    }
}

/// Called after every reload attempt, on the thread that made it.
type ReloadObserver = Box<dyn Fn(&ReloadOutcome) + Send + Sync>;

/// A policy set kept current. Cloning is cheap: clones share the live set, the
/// reload status and the observers.
#[derive(Clone)]
pub struct Engine {
    shared: Arc<Shared>,
}

struct Shared {
    path: PathBuf,
    live: ArcSwap<LoadedSet>,
    status: Mutex<ReloadStatus>,
    /// Held for the whole of a reload, so two reloads never race to swap.
    reloading: Mutex<()>,
    observers: Mutex<Vec<ReloadObserver>>,
    /// Fingerprint of the last rejection that was logged at `warn`, with its repeats.
    last_logged_rejection: Mutex<Option<RepeatedRejection>>,
}

struct RepeatedRejection {
    fingerprint: Vec<(&'static str, String, Option<String>)>,
    logged_at: Instant,
    repeats: u64,
}

/// How often an identical rejection is logged again at `warn`, with its repeat count.
const REPEATED_REJECTION_LOG_INTERVAL: Duration = Duration::from_secs(60);

impl Engine {
    /// Loads the policy file or directory at `path`. Fails with every diagnostic when
    /// the set has errors or a `test` block fails, exactly as a reload would be rejected.
    pub fn load(path: impl AsRef<Path>) -> Result<Engine, Diagnostics> {
        let path = path.as_ref().to_path_buf();
        let started = Instant::now();
        let candidate = load::load_candidate(&path)?;
        let warnings = DiagnosticReport::from_all(&candidate.warnings);
        let live = LoadedSet {
            loaded_at: Utc::now(),
            read_from: candidate.read_from,
            tests_passed: candidate.tests_passed,
            warnings: warnings.clone(),
            reader: run::TextReader::new(&candidate.set),
            set: candidate.set,
        };
        let outcome = ReloadOutcome {
            outcome: ReloadResult::Applied,
            trigger: ReloadTrigger::Startup,
            at: live.loaded_at,
            duration_seconds: started.elapsed().as_secs_f64(),
            live_hash: live.set.hash.clone(),
            previous_hash: None,
            candidate_hash: Some(live.set.hash.clone()),
            rules: live.set.rules.len(),
            tests_passed: live.tests_passed,
            diagnostics: warnings,
        };
        tracing::info!(
            path = %path.display(),
            hash = %outcome.live_hash,
            rules = outcome.rules,
            slos = live.set.slos.len(),
            tests = outcome.tests_passed,
            "policy set loaded"
        );
        let shared = Shared {
            path,
            live: ArcSwap::from_pointee(live),
            status: Mutex::new(ReloadStatus::new(outcome)),
            reloading: Mutex::new(()),
            observers: Mutex::new(Vec::new()),
            last_logged_rejection: Mutex::new(None),
        };
        Ok(Engine { shared: Arc::new(shared) })
    }

    /// Returns the policy path the engine loads from.
    pub fn path(&self) -> &Path {
        &self.shared.path
    }

    /// Returns the live set. Holding the `Arc` keeps that set alive across reloads.
    pub fn current(&self) -> Arc<LoadedSet> {
        self.shared.live.load_full()
    }

    /// Returns the hash of the live set.
    pub fn hash(&self) -> String {
        self.shared.live.load().set.hash.clone()
    }

    /// Evaluates one run on the live set.
    pub fn evaluate(&self, record: &Json) -> RunVerdicts {
        self.current().evaluate(record, "run")
    }

    /// Evaluates a batch of runs, all on the set that is live when the batch starts.
    /// A run without `run_id` is named `batch[INDEX]` in its violations.
    pub fn evaluate_batch(&self, records: &[Json]) -> Vec<RunVerdicts> {
        let live = self.current();
        records.iter().enumerate().map(|(index, record)| live.evaluate(record, &format!("batch[{index}]"))).collect()
    }

    /// Loads the files again and makes them live if they compile and pass their tests.
    pub fn reload(&self) -> ReloadOutcome {
        self.reload_for(ReloadTrigger::Request)
    }

    /// [`Self::reload`], recording what caused it.
    pub fn reload_for(&self, trigger: ReloadTrigger) -> ReloadOutcome {
        let _only_reload = lock(&self.shared.reloading);
        let started = Instant::now();
        let previous = self.current();
        let candidate = load::load_candidate(&self.shared.path);
        let duration_seconds = started.elapsed().as_secs_f64();

        let outcome = match candidate {
            Ok(candidate) if candidate.set.hash == previous.set.hash => ReloadOutcome {
                outcome: ReloadResult::Unchanged,
                trigger,
                at: Utc::now(),
                duration_seconds,
                live_hash: previous.set.hash.clone(),
                previous_hash: Some(previous.set.hash.clone()),
                candidate_hash: Some(candidate.set.hash.clone()),
                rules: previous.set.rules.len(),
                tests_passed: candidate.tests_passed,
                diagnostics: DiagnosticReport::from_all(&candidate.warnings),
            },
            Ok(candidate) => self.apply(candidate, &previous, trigger, duration_seconds),
            Err(diagnostics) => ReloadOutcome {
                outcome: ReloadResult::Rejected,
                trigger,
                at: Utc::now(),
                duration_seconds,
                live_hash: previous.set.hash.clone(),
                previous_hash: Some(previous.set.hash.clone()),
                candidate_hash: None,
                rules: previous.set.rules.len(),
                tests_passed: 0,
                diagnostics: DiagnosticReport::from_all(&diagnostics),
            },
        };

        lock(&self.shared.status).record(&outcome);
        self.log(&outcome);
        if outcome.is_counted() {
            for observer in lock(&self.shared.observers).iter() {
                observer(&outcome);
            }
        }
        outcome
    }

    /// Makes `candidate` live with one atomic store.
    fn apply(
        &self,
        candidate: load::Candidate,
        previous: &LoadedSet,
        trigger: ReloadTrigger,
        duration_seconds: f64,
    ) -> ReloadOutcome {
        let warnings = DiagnosticReport::from_all(&candidate.warnings);
        let live = LoadedSet {
            loaded_at: Utc::now(),
            read_from: candidate.read_from,
            tests_passed: candidate.tests_passed,
            warnings: warnings.clone(),
            reader: run::TextReader::new(&candidate.set),
            set: candidate.set,
        };
        let outcome = ReloadOutcome {
            outcome: ReloadResult::Applied,
            trigger,
            at: live.loaded_at,
            duration_seconds,
            live_hash: live.set.hash.clone(),
            previous_hash: Some(previous.set.hash.clone()),
            candidate_hash: Some(live.set.hash.clone()),
            rules: live.set.rules.len(),
            tests_passed: live.tests_passed,
            diagnostics: warnings,
        };
        self.shared.live.store(Arc::new(live));
        outcome
    }

    /// Returns the live hash, the last reload attempt and the last rejection with its diagnostics.
    pub fn reload_status(&self) -> ReloadStatus {
        lock(&self.shared.status).clone()
    }

    /// Calls `observer` after every later reload attempt (from the watcher, the
    /// server or [`Self::reload`]), on the thread that made it. The watcher's start-up
    /// check is passed on only when it found a change ([`ReloadOutcome::is_counted`]).
    pub fn on_reload(&self, observer: impl Fn(&ReloadOutcome) + Send + Sync + 'static) {
        lock(&self.shared.observers).push(Box::new(observer));
    }

    /// Starts watching the policy path with the default options; see [`crate::watch`].
    /// Dropping the handle stops the watcher.
    pub fn watch(&self) -> Result<WatchHandle, WatchError> {
        self.watch_with(WatchOptions::default())
    }

    pub fn watch_with(&self, options: WatchOptions) -> Result<WatchHandle, WatchError> {
        crate::watch::start(self.clone(), options)
    }

    fn log(&self, outcome: &ReloadOutcome) {
        match outcome.outcome {
            ReloadResult::Applied => {
                *lock(&self.shared.last_logged_rejection) = None;
                tracing::info!(
                    trigger = outcome.trigger.as_str(),
                    hash = %outcome.live_hash,
                    previous_hash = outcome.previous_hash.as_deref().unwrap_or(""),
                    rules = outcome.rules,
                    tests = outcome.tests_passed,
                    "policy set reloaded"
                );
            }
            ReloadResult::Unchanged => {
                *lock(&self.shared.last_logged_rejection) = None;
                tracing::debug!(trigger = outcome.trigger.as_str(), hash = %outcome.live_hash, "policy files unchanged");
            }
            ReloadResult::Rejected => self.log_rejection(outcome),
        }
    }

    /// Logs a rejection at `warn`. A rejection with the same diagnostics as the one
    /// before (a watcher seeing more events on a file that is still broken) is only
    /// counted, and logged again with its count at most once a minute.
    fn log_rejection(&self, outcome: &ReloadOutcome) {
        let fingerprint: Vec<_> =
            outcome.diagnostics.iter().map(|d| (d.code, d.message.clone(), d.location.clone())).collect();
        let mut last = lock(&self.shared.last_logged_rejection);
        if let Some(repeated) = last.as_mut().filter(|last| last.fingerprint == fingerprint) {
            repeated.repeats += 1;
            if repeated.logged_at.elapsed() < REPEATED_REJECTION_LOG_INTERVAL {
                tracing::debug!(repeats = repeated.repeats, "policy set rejected again with the same diagnostics");
                return;
            }
            repeated.logged_at = Instant::now();
            tracing::warn!(
                trigger = outcome.trigger.as_str(),
                live_hash = %outcome.live_hash,
                repeats = repeated.repeats,
                "policy set still rejected with the same diagnostics; the previous set stays live"
            );
            return;
        }
        let errors: Vec<String> = outcome
            .diagnostics
            .iter()
            .filter(|d| d.severity == crate::diagnostic::Severity::Error)
            .map(|d| format!("{} {}: {}", d.code, d.location.as_deref().unwrap_or("-"), d.message))
            .collect();
        tracing::warn!(
            trigger = outcome.trigger.as_str(),
            live_hash = %outcome.live_hash,
            errors = errors.len(),
            diagnostics = %errors.join("; "),
            "policy set rejected; the previous set stays live"
        );
        *last = Some(RepeatedRejection { fingerprint, logged_at: Instant::now(), repeats: 0 });
    }
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine").field("path", &self.shared.path).field("hash", &self.hash()).finish()
    }
}

/// Locks `mutex`, going on with its data if a panicking thread poisoned it: every
/// value behind these locks is replaced whole, so it is never left half-written.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
