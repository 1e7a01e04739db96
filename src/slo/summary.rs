//! The report as data: [`SloReport`] and one [`SloSummary`] per SLO. Renderers in
//! `crate::report` turn it into text, JSON, Markdown, JUnit XML or HTML; the JSON
//! form is the serde serialization of these types (schema [`REPORT_SCHEMA`],
//! described in `docs/slo.md`).

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::Serialize;

use super::math::Confusion;
use super::measure::{Measure, exact, exact_option, rounded};
use crate::syntax::ast::{RuleMode, RuleSeverity};

/// Schema identifier of the JSON report; bumped when a field is removed or retyped.
pub const REPORT_SCHEMA: &str = "semslo.report.v1";

/// Most entries kept in each list of runs (disagreeing labels, unexplained
/// rejections, rejected records); later ones are counted only.
pub const MAX_LISTED_RUNS: usize = 1_000;

/// The whole SLO report over one input.
#[derive(Debug, Serialize)]
pub struct SloReport {
    pub schema: &'static str,
    pub policy: PolicyRef,
    pub input: InputInfo,
    /// The report time every window ends at; `None` when no run has an event time
    /// and `--at` was not given.
    pub at: Option<DateTime<Utc>>,
    pub at_source: AtSource,
    /// Verdict counts per rule over every checked run.
    pub rules: Vec<RuleCounts>,
    pub slos: Vec<SloSummary>,
}

impl SloReport {
    /// Returns whether an `enforce` rule failed or errored on some run.
    pub fn has_enforced_violations(&self) -> bool {
        self.rules.iter().any(|rule| rule.mode == RuleMode::Enforce && (rule.fail > 0 || rule.error > 0))
    }

    /// Returns whether some SLO's SLI is below its objective.
    pub fn any_slo_missed(&self) -> bool {
        self.slos.iter().any(|slo| slo.status == SloState::Missed)
    }
}

#[derive(Debug, Serialize)]
pub struct PolicyRef {
    pub files: Vec<String>,
    /// `sha256:` and the digest of every policy and reference-data file of the set.
    pub hash: String,
}

#[derive(Debug, Default, Serialize)]
pub struct InputInfo {
    /// Records seen, well-formed or not.
    pub records_read: u64,
    pub records_checked: u64,
    pub records_rejected: u64,
    /// The first [`MAX_LISTED_RUNS`] malformed records.
    pub rejected: Vec<RejectedRecord>,
    /// Earliest and latest event time of any checked run.
    pub first_event_time: Option<DateTime<Utc>>,
    pub last_event_time: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize)]
pub struct RejectedRecord {
    pub file: String,
    pub line: usize,
    pub reason: String,
}

/// The origin of the report time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AtSource {
    /// `--at` on the command line.
    Argument,
    /// The latest event time in the input; the wall clock is never read.
    LatestEvent,
    /// No run had an event time, so there is no report time and no window.
    NoEvents,
}

#[derive(Debug, Serialize)]
pub struct RuleCounts {
    pub name: String,
    pub title: Option<String>,
    pub severity: RuleSeverity,
    pub mode: RuleMode,
    pub segment: Option<String>,
    pub pass: u64,
    pub fail: u64,
    pub skip: u64,
    pub error: u64,
}

/// Whether an SLO meets its objective over its window.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SloState {
    /// SLI at or above the objective.
    Met,
    /// SLI below the objective: `semslo check` and `semslo report` exit 1.
    Missed,
    /// No valid run in the window.
    NoData,
    /// Fewer valid runs in the window than the SLO's `minimum`.
    InsufficientData,
}

impl SloState {
    pub fn as_str(self) -> &'static str {
        match self {
            SloState::Met => "met",
            SloState::Missed => "missed",
            SloState::NoData => "no data",
            SloState::InsufficientData => "insufficient data",
        }
    }
}

/// One SLO over its window, with the sections that cover the whole input.
#[derive(Debug, Serialize)]
pub struct SloSummary {
    pub name: String,
    pub title: Option<String>,
    pub file: String,
    pub line: usize,
    /// Target share of good runs, as a fraction (`0.95`).
    #[serde(serialize_with = "exact")]
    pub objective: Decimal,
    /// The `good when` condition as written (`all rules pass`).
    pub good_when: String,
    pub minimum_runs: u64,
    pub window: WindowInfo,
    pub status: SloState,
    pub counts: WindowCounts,
    pub sli: Measure,
    pub budget: BudgetInfo,
    /// Burn rate over the whole SLO window.
    pub burn_rate: Measure,
    pub alerts: AlertsInfo,
    /// One point per local calendar day of the window, in the SLO's time zone.
    pub daily: Vec<DayPoint>,
    /// Counted rules by how many bad runs in the window they made bad, worst first.
    pub by_rule: Vec<RuleBreakdown>,
    /// Bad runs in the window by the first segment whose rules failed, worst first.
    pub by_segment: Vec<SegmentBreakdown>,
    /// One entry per `by` dimension, each value worst first.
    pub by_dimension: Vec<DimensionBreakdown>,
    /// Every run of the input as this SLO classified it, windows aside.
    pub input_runs: InputRuns,
    /// Step-level success against end-to-end correctness, per workflow, over every
    /// valid run of the input.
    pub contrast: Vec<WorkflowContrast>,
    /// Present when some valid run carries checkpoints.
    pub checkpoints: Option<CheckpointSummary>,
    /// Present when some valid run carries an expert label.
    pub labels: Option<LabelSummary>,
    /// Present when the policy set declares `costs`.
    pub costs: Option<CostSummary>,
}

#[derive(Debug, Serialize)]
pub struct WindowInfo {
    /// `rolling` or `calendar`.
    pub kind: &'static str,
    /// As written in the policy: `28d`, `calendar quarter`.
    pub written: String,
    pub time_zone: String,
    /// `None` when the report has no report time.
    pub start: Option<DateTime<Utc>>,
    /// False for rolling windows: a run exactly at `start` is outside.
    pub start_inclusive: bool,
    /// The report time, inclusive.
    pub end: Option<DateTime<Utc>>,
    /// Calendar windows: the exclusive end of the whole period.
    pub period_end: Option<DateTime<Utc>>,
    /// Length of the whole window (the full calendar period), in seconds.
    #[serde(serialize_with = "exact")]
    pub length_seconds: Decimal,
}

/// Valid runs in the SLO window. `valid = good + bad`, and
/// `bad = failed + error + unplaced`.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct WindowCounts {
    pub valid: u64,
    pub good: u64,
    pub bad: u64,
    /// Bad because a counted rule failed.
    pub failed: u64,
    /// Bad because a counted rule (or `valid when`) could not be decided, with no
    /// counted rule failing: fail closed.
    pub error: u64,
    /// Valid runs whose event time is missing or invalid. They cannot be placed,
    /// so they cannot be shown to lie outside the window: each counts as bad.
    pub unplaced: u64,
}

#[derive(Debug, Serialize)]
pub struct BudgetInfo {
    /// `1 − objective`: the share of valid runs that may be bad.
    #[serde(serialize_with = "exact")]
    pub error_budget: Decimal,
    /// `(1 − objective) × valid`.
    pub allowed_bad_runs: Measure,
    pub consumed: Measure,
    /// `1 − consumed`; negative when overspent, `unbounded` for an unbounded overspend.
    pub remaining: Measure,
    /// The budget as time, `(1 − objective) × window length`, in seconds.
    #[serde(serialize_with = "exact")]
    pub time_seconds: Decimal,
}

#[derive(Debug, Serialize)]
pub struct AlertsInfo {
    /// `declared` or `default`.
    pub source: &'static str,
    /// The scaling of the default factors to the SLO window; `None` for declared alerts.
    pub scaling: Option<AlertScaling>,
    pub alerts: Vec<AlertStatus>,
}

/// Default factors are derived for a 30-day window; for another window each factor
/// is multiplied by `window ÷ 30d`.
#[derive(Debug, Serialize)]
pub struct AlertScaling {
    /// `30d`.
    pub reference_window: String,
    /// The SLO window's nominal length (`28d`; calendar months count as 30d).
    pub slo_window: String,
    #[serde(serialize_with = "rounded")]
    pub ratio: Decimal,
}

#[derive(Debug, Serialize)]
pub struct AlertStatus {
    pub name: String,
    #[serde(serialize_with = "exact")]
    pub factor: Decimal,
    pub long: AlertWindow,
    pub short: AlertWindow,
    /// The burn rate exceeds the factor over both windows.
    pub fires: bool,
}

/// One window of an alert, `(at − duration, at]`.
#[derive(Debug, Serialize)]
pub struct AlertWindow {
    /// As a duration: `1h`, `30m`.
    pub duration: String,
    pub valid: u64,
    pub bad: u64,
    pub burn_rate: Measure,
}

#[derive(Debug, Serialize)]
pub struct DayPoint {
    pub date: NaiveDate,
    pub valid: u64,
    pub good: u64,
    pub bad: u64,
    /// Good ÷ valid of this day alone.
    pub sli: Measure,
    /// The window's budget left at the end of the day: `1 − bad runs up to then ÷
    /// ((1 − objective) × valid runs in the whole window)`.
    pub budget_remaining: Measure,
}

#[derive(Debug, Serialize)]
pub struct RuleBreakdown {
    pub rule: String,
    pub title: Option<String>,
    pub severity: RuleSeverity,
    pub segment: Option<String>,
    /// Bad runs on which this rule failed or errored (a run can count for several rules).
    pub bad_runs: u64,
    pub failed: u64,
    pub errored: u64,
    /// `bad_runs ÷ valid`: the SLI this rule alone costs.
    pub share_of_valid: Measure,
}

#[derive(Debug, Serialize)]
pub struct SegmentBreakdown {
    /// `None` for bad runs whose failing rules have no segment (or that are bad
    /// because `valid when` could not be decided).
    pub segment: Option<String>,
    pub bad_runs: u64,
    pub share_of_bad: Measure,
}

#[derive(Debug, Serialize)]
pub struct DimensionBreakdown {
    /// The `by` expression as written.
    pub dimension: String,
    pub values: Vec<DimensionValue>,
}

#[derive(Debug, Serialize)]
pub struct DimensionValue {
    /// The value as text; `(missing)` when the field is absent.
    pub value: String,
    pub valid: u64,
    pub good: u64,
    pub bad: u64,
    pub sli: Measure,
}

/// Every checked run as this SLO classified it, whatever its event time.
#[derive(Debug, Default, Serialize)]
pub struct InputRuns {
    pub valid: u64,
    pub good: u64,
    pub bad: u64,
    /// Bad runs only because something could not be decided.
    pub bad_error: u64,
    pub not_valid: u64,
    /// Not valid because `valid when` read a missing field.
    pub not_valid_field_missing: u64,
    /// Valid runs without a usable event time, and why, by message.
    pub unplaced: u64,
    pub unplaced_reasons: Vec<ReasonCount>,
}

/// Distinct reasons kept for valid runs without a usable event time; later ones
/// are counted under [`OTHER_REASONS`].
const MAX_UNPLACED_REASONS: usize = 20;
/// The entry that counts reasons past [`MAX_UNPLACED_REASONS`].
const OTHER_REASONS: &str = "(other reasons)";

impl InputRuns {
    /// Counts a valid run without a usable event time under `reason`. Reasons are
    /// listed in the order they first occur, and runs past the first 19 distinct
    /// reasons count under `(other reasons)`.
    pub fn add_unplaced(&mut self, reason: &str) {
        self.unplaced += 1;
        let reasons = &mut self.unplaced_reasons;
        let reason = if reasons.len() + 1 < MAX_UNPLACED_REASONS || reasons.iter().any(|entry| entry.reason == reason) {
            reason
        } else {
            OTHER_REASONS
        };
        match reasons.iter_mut().find(|entry| entry.reason == reason) {
            Some(entry) => entry.runs += 1,
            None => reasons.push(ReasonCount { reason: reason.to_string(), runs: 1 }),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct ReasonCount {
    pub reason: String,
    pub runs: u64,
}

/// Step-level success against measured end-to-end correctness for one workflow.
#[derive(Debug, Serialize)]
pub struct WorkflowContrast {
    /// The run's `workflow` field; `(missing)` when absent.
    pub workflow: String,
    pub runs: u64,
    pub good: u64,
    pub steps: u64,
    /// Steps with `status == "ok"`.
    pub steps_ok: u64,
    pub step_success: Measure,
    /// Success per step name, in order of first appearance.
    pub step_names: Vec<StepSuccess>,
    /// The product of the step names' success rates: what step dashboards imply.
    pub predicted_end_to_end: Measure,
    /// Good ÷ valid runs: what the rules measured.
    pub measured_end_to_end: Measure,
    /// Bad runs by the first segment whose rules failed, worst first.
    pub first_failing_segment: Vec<SegmentBreakdown>,
}

#[derive(Debug, Serialize)]
pub struct StepSuccess {
    pub name: String,
    pub steps: u64,
    pub ok: u64,
    pub success: Measure,
}

/// The catches and escapes of human checkpoints, over every valid run of the input. A checkpoint
/// rejects when its `decision` is `rejected` or `modified`.
#[derive(Debug, Serialize)]
pub struct CheckpointSummary {
    /// Valid runs with at least one checkpoint.
    pub runs_reviewed: u64,
    /// Checkpoints over all valid runs.
    pub reviews: u64,
    /// Checkpoints that rejected.
    pub rejections: u64,
    pub bad_runs: u64,
    pub bad_runs_reviewed: u64,
    /// Bad runs that some checkpoint rejected.
    pub caught: u64,
    /// Bad runs that had checkpoints, every one of which approved.
    pub escapes: u64,
    /// Bad runs without any checkpoint.
    pub bad_runs_unreviewed: u64,
    /// `caught ÷ bad_runs_reviewed`.
    pub catch_rate: Measure,
    /// Good runs (no counted rule failed) that some checkpoint rejected: a rule may
    /// be missing.
    pub unexplained_rejections: u64,
    pub unexplained_run_ids: Vec<String>,
    pub unexplained_not_listed: u64,
    pub by_checkpoint: Vec<CheckpointCounts>,
}

#[derive(Clone, Debug, Serialize)]
pub struct CheckpointCounts {
    pub name: String,
    pub reviews: u64,
    pub approved: u64,
    pub rejected: u64,
    pub modified: u64,
    /// Any other decision, or none.
    pub other: u64,
}

/// SLO verdicts against expert labels (`labels.expert_verdict`), over every valid
/// labelled run of the input. The positive class is bad.
#[derive(Debug, Serialize)]
pub struct LabelSummary {
    pub labelled_runs: u64,
    pub confusion: Confusion,
    pub precision: Measure,
    pub recall: Measure,
    pub agreement: Measure,
    pub kappa: Measure,
    pub disagreements: Vec<Disagreement>,
    pub disagreements_not_listed: u64,
}

#[derive(Clone, Debug, Serialize)]
pub struct Disagreement {
    pub run_id: String,
    /// `good` or `bad`: the SLO's verdict.
    pub verdict: &'static str,
    /// `correct` or `incorrect`: the expert's.
    pub label: &'static str,
    /// `labels.note`, when the run has one.
    pub note: Option<String>,
    /// Counted rules that failed or errored on the run.
    pub rules: Vec<String>,
}

/// Cost per correct outcome over every valid run of the input, against doing the
/// work by hand.
#[derive(Debug, Serialize)]
pub struct CostSummary {
    pub currency: Option<String>,
    #[serde(serialize_with = "exact_option")]
    pub agent_run: Option<Decimal>,
    #[serde(serialize_with = "exact_option")]
    pub checkpoint_review: Option<Decimal>,
    #[serde(serialize_with = "exact_option")]
    pub manual_run: Option<Decimal>,
    pub runs: u64,
    pub reviews: u64,
    pub good_runs: u64,
    /// `runs × agent run + reviews × checkpoint review`; an undeclared cost counts 0.
    #[serde(serialize_with = "exact")]
    pub total: Decimal,
    /// `total ÷ good runs`; `undefined` when no run was good.
    pub per_correct_outcome: Measure,
    /// `manual run`: a manual run is taken to produce a correct outcome.
    #[serde(serialize_with = "exact_option")]
    pub manual_per_correct_outcome: Option<Decimal>,
    /// `per_correct_outcome ÷ manual run`.
    pub ratio_to_manual: Measure,
}
