//! The sections that weigh the rules against other evidence, accumulated over every
//! valid run of the input (not only the SLO window, because calibration needs all
//! the evidence there is):
//!
//! - the contrast between step-level success and end-to-end correctness, per workflow;
//! - what human checkpoints caught and what escaped them;
//! - agreement with expert labels;
//! - cost per correct outcome against doing the work by hand.
//!
//! Each is a set of counters, plus capped lists of run ids, so memory does not grow
//! with the number of runs.

use std::collections::HashMap;

use rust_decimal::Decimal;
use serde_json::Value as Json;

use super::math::{Confusion, ratio};
use super::measure::Measure;
use super::summary::{
    CheckpointCounts, CheckpointSummary, CostSummary, Disagreement, LabelSummary, MAX_LISTED_RUNS, SegmentBreakdown,
    StepSuccess, WorkflowContrast,
};
use crate::compile::{CompiledCosts, PolicySet};

/// Workflow name of a run without a `workflow` field.
const MISSING_WORKFLOW: &str = "(missing)";
/// Step or checkpoint name when the entry has no `name`.
const UNNAMED: &str = "(unnamed)";

/// The facts about one valid run that the calibration sections read.
pub struct RunFacts<'r> {
    pub record: &'r Json,
    pub bad: bool,
    /// Index into the policy set's segments of the first failing segment.
    pub segment: Option<usize>,
    /// Counted rules that failed or errored, as indices into the policy set's rules.
    pub bad_rules: &'r [usize],
}

#[derive(Debug, Default)]
pub struct Calibration {
    workflows: Vec<WorkflowStats>,
    workflow_index: HashMap<String, usize>,
    checkpoints: CheckpointStats,
    confusion: Confusion,
    disagreements: Vec<Disagreement>,
    disagreements_not_listed: u64,
    runs: u64,
    good: u64,
}

#[derive(Debug)]
struct WorkflowStats {
    name: String,
    runs: u64,
    good: u64,
    steps: u64,
    steps_ok: u64,
    /// Name, steps, ok steps, in order of first appearance.
    step_names: Vec<(String, u64, u64)>,
    step_index: HashMap<String, usize>,
    /// Bad runs per segment index; the last entry counts bad runs without a segment.
    first_failing_segment: Vec<u64>,
}

#[derive(Debug, Default)]
struct CheckpointStats {
    runs_reviewed: u64,
    reviews: u64,
    rejections: u64,
    bad_runs: u64,
    bad_runs_reviewed: u64,
    caught: u64,
    escapes: u64,
    unexplained: u64,
    unexplained_run_ids: Vec<String>,
    by_name: Vec<CheckpointCounts>,
    name_index: HashMap<String, usize>,
}

impl Calibration {
    /// Adds one valid run; `run_id` is called only when the run is listed.
    pub fn add(&mut self, set: &PolicySet, run: &RunFacts<'_>, run_id: impl Fn() -> String) {
        self.runs += 1;
        if !run.bad {
            self.good += 1;
        }
        self.add_workflow(set, run);
        self.add_checkpoints(run, &run_id);
        self.add_label(set, run, &run_id);
    }

    fn add_workflow(&mut self, set: &PolicySet, run: &RunFacts<'_>) {
        let name = run.record.get("workflow").and_then(Json::as_str).unwrap_or(MISSING_WORKFLOW);
        let index = match self.workflow_index.get(name) {
            Some(&index) => index,
            None => {
                self.workflows.push(WorkflowStats {
                    name: name.to_string(),
                    runs: 0,
                    good: 0,
                    steps: 0,
                    steps_ok: 0,
                    step_names: Vec::new(),
                    step_index: HashMap::new(),
                    first_failing_segment: vec![0; set.segments.len() + 1],
                });
                self.workflow_index.insert(name.to_string(), self.workflows.len() - 1);
                self.workflows.len() - 1
            }
        };
        let workflow = &mut self.workflows[index];
        workflow.runs += 1;
        if run.bad {
            workflow.first_failing_segment[run.segment.unwrap_or(set.segments.len())] += 1;
        } else {
            workflow.good += 1;
        }
        for step in run.record.get("steps").and_then(Json::as_array).into_iter().flatten() {
            let name = step.get("name").and_then(Json::as_str).unwrap_or(UNNAMED);
            let ok = step.get("status").and_then(Json::as_str) == Some("ok");
            let slot = match workflow.step_index.get(name) {
                Some(&slot) => slot,
                None => {
                    workflow.step_names.push((name.to_string(), 0, 0));
                    workflow.step_index.insert(name.to_string(), workflow.step_names.len() - 1);
                    workflow.step_names.len() - 1
                }
            };
            workflow.steps += 1;
            workflow.step_names[slot].1 += 1;
            if ok {
                workflow.steps_ok += 1;
                workflow.step_names[slot].2 += 1;
            }
        }
    }

    fn add_checkpoints(&mut self, run: &RunFacts<'_>, run_id: &impl Fn() -> String) {
        let stats = &mut self.checkpoints;
        let mut reviews = 0;
        let mut rejected = false;
        for checkpoint in run.record.get("checkpoints").and_then(Json::as_array).into_iter().flatten() {
            reviews += 1;
            let name = checkpoint.get("name").and_then(Json::as_str).unwrap_or(UNNAMED);
            let slot = match stats.name_index.get(name) {
                Some(&slot) => slot,
                None => {
                    stats.by_name.push(CheckpointCounts {
                        name: name.to_string(),
                        reviews: 0,
                        approved: 0,
                        rejected: 0,
                        modified: 0,
                        other: 0,
                    });
                    stats.name_index.insert(name.to_string(), stats.by_name.len() - 1);
                    stats.by_name.len() - 1
                }
            };
            let counts = &mut stats.by_name[slot];
            counts.reviews += 1;
            match checkpoint.get("decision").and_then(Json::as_str) {
                Some("approved") => counts.approved += 1,
                Some("rejected") => counts.rejected += 1,
                Some("modified") => counts.modified += 1,
                _ => counts.other += 1,
            }
            if matches!(checkpoint.get("decision").and_then(Json::as_str), Some("rejected" | "modified")) {
                rejected = true;
                stats.rejections += 1;
            }
        }

        stats.reviews += reviews;
        if reviews > 0 {
            stats.runs_reviewed += 1;
        }
        if run.bad {
            stats.bad_runs += 1;
            if reviews > 0 {
                stats.bad_runs_reviewed += 1;
                if rejected {
                    stats.caught += 1;
                } else {
                    stats.escapes += 1;
                }
            }
        } else if rejected {
            stats.unexplained += 1;
            if stats.unexplained_run_ids.len() < MAX_LISTED_RUNS {
                stats.unexplained_run_ids.push(run_id());
            }
        }
    }

    fn add_label(&mut self, set: &PolicySet, run: &RunFacts<'_>, run_id: &impl Fn() -> String) {
        let Some(incorrect) = expert_label(run.record) else { return };
        match (run.bad, incorrect) {
            (true, true) => self.confusion.bad_incorrect += 1,
            (true, false) => self.confusion.bad_correct += 1,
            (false, true) => self.confusion.good_incorrect += 1,
            (false, false) => self.confusion.good_correct += 1,
        }
        if run.bad == incorrect {
            return;
        }
        if self.disagreements.len() >= MAX_LISTED_RUNS {
            self.disagreements_not_listed += 1;
            return;
        }
        let note = run.record.get("labels").and_then(|labels| labels.get("note")).and_then(Json::as_str);
        self.disagreements.push(Disagreement {
            run_id: run_id(),
            verdict: if run.bad { "bad" } else { "good" },
            label: if incorrect { "incorrect" } else { "correct" },
            note: note.map(str::to_string),
            rules: run.bad_rules.iter().map(|&rule| set.rules[rule].name.clone()).collect(),
        });
    }

    pub fn contrast(&self, set: &PolicySet) -> Vec<WorkflowContrast> {
        self.workflows.iter().map(|workflow| workflow_contrast(set, workflow)).collect()
    }

    pub fn checkpoints(&self) -> Option<CheckpointSummary> {
        let stats = &self.checkpoints;
        if stats.reviews == 0 {
            return None;
        }
        Some(CheckpointSummary {
            runs_reviewed: stats.runs_reviewed,
            reviews: stats.reviews,
            rejections: stats.rejections,
            bad_runs: stats.bad_runs,
            bad_runs_reviewed: stats.bad_runs_reviewed,
            caught: stats.caught,
            escapes: stats.escapes,
            bad_runs_unreviewed: stats.bad_runs - stats.bad_runs_reviewed,
            catch_rate: ratio(stats.caught, stats.bad_runs_reviewed),
            unexplained_rejections: stats.unexplained,
            unexplained_run_ids: stats.unexplained_run_ids.clone(),
            unexplained_not_listed: stats.unexplained - stats.unexplained_run_ids.len() as u64,
            by_checkpoint: stats.by_name.clone(),
        })
    }

    pub fn labels(&self) -> Option<LabelSummary> {
        let confusion = self.confusion;
        if confusion.total() == 0 {
            return None;
        }
        Some(LabelSummary {
            labelled_runs: confusion.total(),
            confusion,
            precision: confusion.precision(),
            recall: confusion.recall(),
            agreement: confusion.agreement(),
            kappa: confusion.kappa(),
            disagreements: self.disagreements.clone(),
            disagreements_not_listed: self.disagreements_not_listed,
        })
    }

    pub fn costs(&self, costs: Option<&CompiledCosts>) -> Option<CostSummary> {
        let costs = costs?;
        Some(cost_summary(costs, self.runs, self.checkpoints.reviews, self.good))
    }
}

fn workflow_contrast(set: &PolicySet, workflow: &WorkflowStats) -> WorkflowContrast {
    let step_names: Vec<StepSuccess> = workflow
        .step_names
        .iter()
        .map(|(name, steps, ok)| StepSuccess {
            name: name.clone(),
            steps: *steps,
            ok: *ok,
            success: ratio(*ok, *steps),
        })
        .collect();
    let predicted = if step_names.is_empty() {
        Measure::NoData
    } else {
        Measure::Value(step_names.iter().filter_map(|step| step.success.value()).product())
    };
    let bad = workflow.runs - workflow.good;
    let mut segments: Vec<SegmentBreakdown> = workflow
        .first_failing_segment
        .iter()
        .enumerate()
        .filter(|(_, runs)| **runs > 0)
        .map(|(index, runs)| SegmentBreakdown {
            segment: set.segments.get(index).cloned(),
            bad_runs: *runs,
            share_of_bad: ratio(*runs, bad),
        })
        .collect();
    segments.sort_by_key(|row| std::cmp::Reverse(row.bad_runs));
    WorkflowContrast {
        workflow: workflow.name.clone(),
        runs: workflow.runs,
        good: workflow.good,
        steps: workflow.steps,
        steps_ok: workflow.steps_ok,
        step_success: ratio(workflow.steps_ok, workflow.steps),
        step_names,
        predicted_end_to_end: predicted,
        measured_end_to_end: ratio(workflow.good, workflow.runs),
        first_failing_segment: segments,
    }
}

/// Cost per correct outcome: `(runs × agent run + reviews × checkpoint review) ÷ good runs`.
pub fn cost_summary(costs: &CompiledCosts, runs: u64, reviews: u64, good_runs: u64) -> CostSummary {
    let agent = costs.agent_run.unwrap_or(Decimal::ZERO);
    let review = costs.checkpoint_review.unwrap_or(Decimal::ZERO);
    let total = Decimal::from(runs) * agent + Decimal::from(reviews) * review;
    let per_correct_outcome =
        if good_runs == 0 { Measure::Undefined } else { Measure::Value(total / Decimal::from(good_runs)) };
    let ratio_to_manual = match (per_correct_outcome, costs.manual_run) {
        (Measure::Value(cost), Some(manual)) if !manual.is_zero() => Measure::Value(cost / manual),
        _ => Measure::Undefined,
    };
    CostSummary {
        currency: costs.currency.clone(),
        agent_run: costs.agent_run,
        checkpoint_review: costs.checkpoint_review,
        manual_run: costs.manual_run,
        runs,
        reviews,
        good_runs,
        total,
        per_correct_outcome,
        manual_per_correct_outcome: costs.manual_run,
        ratio_to_manual,
    }
}

/// Returns `Some(true)` when `labels.expert_verdict` marks the outcome incorrect. The
/// same words as the label table of `semslo check` are accepted: `incorrect`, `bad`
/// or `wrong`, and `correct`, `good` or `right`.
pub fn expert_label(record: &Json) -> Option<bool> {
    // Labels are matched without regard to case or surrounding white space.
    match record.get("labels")?.get("expert_verdict")?.as_str()?.trim().to_ascii_lowercase().as_str() {
        "incorrect" | "bad" | "wrong" => Some(true),
        "correct" | "good" | "right" => Some(false),
        _ => None,
    }
}
