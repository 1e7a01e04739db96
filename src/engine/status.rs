//! Reload results as data: [`ReloadOutcome`] for one attempt and
//! [`ReloadStatus`] for the engine's history, both serializable for the server's
//! `/v1/policy` endpoint.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::diagnostic::{Diagnostic, Diagnostics, Severity, render_plain};

/// Width at which diagnostics are rendered into [`DiagnosticReport::rendered`].
const RENDER_WIDTH: usize = 100;

/// Cause of a load or reload.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReloadTrigger {
    /// [`super::Engine::load`].
    Startup,
    /// A change seen by the file watcher.
    Watch,
    /// The file watcher's check when it starts, for a change made between loading
    /// and watching. It counts as a reload only when it finds a change.
    WatchStart,
    /// A call of [`super::Engine::reload`] (the server's `POST /v1/policy/reload`).
    Request,
}

impl ReloadTrigger {
    /// Returns the name that logs and `GET /v1/policy` use.
    pub fn as_str(self) -> &'static str {
        match self {
            ReloadTrigger::Startup => "startup",
            ReloadTrigger::Watch => "watch",
            ReloadTrigger::WatchStart => "watch_start",
            ReloadTrigger::Request => "request",
        }
    }
}

/// End state of a reload attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReloadResult {
    /// A new set passed every check and its tests, and is now live.
    Applied,
    /// The files load to the set that is already live (same hash); nothing changed.
    Unchanged,
    /// The new files have errors or failing tests; the previous set stays live.
    Rejected,
}

impl ReloadResult {
    /// Returns the name used in logs and in the `outcome` label of `semslo_reloads_total`.
    pub fn as_str(self) -> &'static str {
        match self {
            ReloadResult::Applied => "applied",
            ReloadResult::Unchanged => "unchanged",
            ReloadResult::Rejected => "rejected",
        }
    }
}

/// One load or reload attempt.
#[derive(Clone, Debug, Serialize)]
pub struct ReloadOutcome {
    pub outcome: ReloadResult,
    pub trigger: ReloadTrigger,
    /// When the attempt finished.
    pub at: DateTime<Utc>,
    /// Time spent reading, compiling and testing the files, in seconds.
    pub duration_seconds: f64,
    /// The hash of the set live after the attempt.
    pub live_hash: String,
    /// The hash of the set live before the attempt; `None` at startup.
    pub previous_hash: Option<String>,
    /// The hash of the set that was loaded; `None` when it did not compile.
    pub candidate_hash: Option<String>,
    /// Rules of the set live after the attempt.
    pub rules: usize,
    /// `test` blocks that passed in the loaded set (0 when it did not compile).
    pub tests_passed: usize,
    /// Errors (for a rejected set) and warnings of the loaded files.
    pub diagnostics: Vec<DiagnosticReport>,
}

impl ReloadOutcome {
    /// Returns whether the attempt counts as a reload, in [`ReloadCounts`] and for the
    /// observers of [`super::Engine::on_reload`]. Every attempt counts except the
    /// watcher's start-up check when it found no change.
    pub fn is_counted(&self) -> bool {
        !(self.trigger == ReloadTrigger::WatchStart && self.outcome == ReloadResult::Unchanged)
    }
}

/// A diagnostic in a form that serializes: its code and message, where it points,
/// and the same text `semslo check` prints.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DiagnosticReport {
    pub code: &'static str,
    pub severity: Severity,
    pub message: String,
    /// `file:line:column` of the primary label, or the file alone.
    pub location: Option<String>,
    pub help: Option<String>,
    /// The diagnostic rendered as plain text, with its source excerpt.
    pub rendered: String,
}

impl DiagnosticReport {
    pub fn from_diagnostic(diagnostic: &Diagnostic) -> Self {
        DiagnosticReport {
            code: diagnostic.code,
            severity: diagnostic.severity,
            message: diagnostic.message.clone(),
            location: diagnostic.location(),
            help: diagnostic.help.clone(),
            rendered: render_plain(diagnostic, RENDER_WIDTH),
        }
    }

    pub fn from_all(diagnostics: &Diagnostics) -> Vec<Self> {
        diagnostics.iter().map(DiagnosticReport::from_diagnostic).collect()
    }
}

/// Reload attempts by how they ended, since the engine was created, not counting
/// the watcher's start-up check when it found no change ([`ReloadOutcome::is_counted`]).
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct ReloadCounts {
    pub applied: u64,
    pub unchanged: u64,
    pub rejected: u64,
}

/// The engine's reload history: the live set, the last attempt and the last rejection.
#[derive(Clone, Debug, Serialize)]
pub struct ReloadStatus {
    pub live_hash: String,
    /// When the live set went live.
    pub live_since: DateTime<Utc>,
    /// The most recent attempt, whatever its outcome.
    pub last: ReloadOutcome,
    /// The most recent rejected attempt, kept so its diagnostics stay visible until
    /// the files load again (applied or unchanged).
    pub last_rejected: Option<ReloadOutcome>,
    /// Attempts after startup that count as reloads, by outcome.
    pub counts: ReloadCounts,
}

impl ReloadStatus {
    pub(super) fn new(startup: ReloadOutcome) -> Self {
        ReloadStatus {
            live_hash: startup.live_hash.clone(),
            live_since: startup.at,
            last: startup,
            last_rejected: None,
            counts: ReloadCounts::default(),
        }
    }

    pub(super) fn record(&mut self, outcome: &ReloadOutcome) {
        match outcome.outcome {
            ReloadResult::Applied => {
                self.counts.applied += 1;
                self.live_hash = outcome.live_hash.clone();
                self.live_since = outcome.at;
                self.last_rejected = None;
            }
            ReloadResult::Unchanged => {
                // The files on disk are the live set again, so an earlier rejection no longer applies.
                if outcome.is_counted() {
                    self.counts.unchanged += 1;
                }
                self.last_rejected = None;
            }
            ReloadResult::Rejected => {
                self.counts.rejected += 1;
                self.last_rejected = Some(outcome.clone());
            }
        }
        self.last = outcome.clone();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trigger_names_match_the_api() {
        for trigger in [ReloadTrigger::Startup, ReloadTrigger::Watch, ReloadTrigger::WatchStart, ReloadTrigger::Request]
        {
            assert_eq!(serde_json::to_value(trigger).unwrap(), trigger.as_str());
        }
    }
}
