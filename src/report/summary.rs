//! Accumulating verdicts into a [`CheckReport`], one run at a time, so memory does
//! not grow with the number of runs (only kept violations and rejections do, up to
//! their caps).

use serde::Serialize;
use serde_json::Value as Json;

use crate::compile::PolicySet;
use crate::eval::{ExpectOutcome, Observation, RuleVerdict, SkipReason, StepRef, Verdict};
use crate::input::Location;
use crate::syntax::ast::{RuleMode, RuleSeverity};

/// Violations kept in full; later ones are counted in the rule summaries only.
pub const MAX_KEPT_VIOLATIONS: usize = 10_000;
/// Malformed records kept in full; later ones are counted only.
pub const MAX_KEPT_REJECTIONS: usize = 1_000;

#[derive(Debug, Serialize)]
pub struct CheckReport {
    /// Schema identifier of the JSON form; bumped on any incompatible change.
    pub schema: &'static str,
    pub policy: PolicyInfo,
    pub input: InputSummary,
    pub violations: Vec<Violation>,
    /// Violations beyond [`MAX_KEPT_VIOLATIONS`], counted but not listed.
    pub violations_not_listed: usize,
    pub rules: Vec<RuleSummary>,
    /// Runs that carried an expert label (`labels.expert_verdict`).
    pub labelled_runs: usize,
    /// Runs on which no rule failed or errored.
    pub runs_without_violations: usize,
    /// Violations kept in full; the rest are counted in `violations_not_listed`.
    #[serde(skip)]
    pub max_kept_violations: usize,
    /// Kept violations of rules not in shadow mode: those the text form lists.
    #[serde(skip)]
    listed_violations: usize,
    /// The part of `violations_not_listed` from rules in shadow mode, which the text form
    /// counts apart.
    #[serde(skip)]
    pub shadow_not_listed: usize,
    /// Most listed violations that will be shown in full (the text form's `--limit`);
    /// `None` shows every kept violation.
    #[serde(skip)]
    pub shown_limit: Option<usize>,
    /// Each SLO over its window (the `slos[]` of `semslo.report.v1`); left out when
    /// the policy set declares no SLO.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub slos: Vec<crate::slo::SloSummary>,
}

#[derive(Debug, Serialize)]
pub struct PolicyInfo {
    pub files: Vec<String>,
    pub hash: String,
}

#[derive(Debug, Default, Serialize)]
pub struct InputSummary {
    /// Records read, well-formed or not.
    pub records_read: usize,
    pub records_checked: usize,
    pub records_rejected: usize,
    pub rejected: Vec<RejectedRecord>,
}

#[derive(Debug, Serialize)]
pub struct RejectedRecord {
    pub file: String,
    pub line: usize,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct RuleInfo {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    pub severity: RuleSeverity,
    pub mode: RuleMode,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub segment: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    pub file: String,
    pub line: usize,
}

/// Verdict counts of one rule over all checked runs.
#[derive(Debug, Serialize)]
pub struct RuleSummary {
    #[serde(flatten)]
    pub rule: RuleInfo,
    pub pass: usize,
    pub fail: usize,
    /// Skipped because the `when` condition was false.
    pub skip_condition_false: usize,
    /// Skipped because the `when` condition read a missing field: a rule that silently
    /// never applies shows up here.
    pub skip_field_missing: usize,
    /// Skipped because a `waive` line covered the run.
    pub skip_waived: usize,
    /// Values the `when` found missing on skipped runs, with their counts (up to five kinds).
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub skip_missing: std::collections::BTreeMap<String, usize>,
    pub error: usize,
    /// Verdict against expert label, over labelled runs.
    pub labels: LabelTable,
}

/// Rule verdict against the expert label; `bad` means the expert judged the run incorrect.
#[derive(Debug, Default, Serialize)]
pub struct LabelTable {
    pub fail_label_bad: usize,
    pub fail_label_good: usize,
    pub pass_label_bad: usize,
    pub pass_label_good: usize,
    /// Labelled runs where the rule skipped or errored.
    pub other_label_bad: usize,
    pub other_label_good: usize,
}

#[derive(Debug, Serialize)]
pub struct Violation {
    pub run_id: String,
    /// `file:line` of the run in the input.
    pub record: String,
    pub rule: String,
    pub severity: RuleSeverity,
    pub mode: RuleMode,
    /// `fail` or `error`.
    pub verdict: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    pub expects: Vec<ExpectReport>,
    pub observations: Vec<Observation>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entered_at: Option<StepRef>,
    pub policy_hash: String,
}

/// One `expect` (or the `when`) that did not hold.
#[derive(Debug, Serialize)]
pub struct ExpectReport {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub source: String,
    /// `false`, or `error`.
    pub outcome: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

impl CheckReport {
    pub fn new(set: &PolicySet) -> Self {
        let rules = set
            .rules
            .iter()
            .map(|rule| {
                let source = &set.files[rule.file].source;
                let (line, _) = source.line_column(rule.span.start);
                RuleSummary {
                    rule: RuleInfo {
                        name: rule.name.clone(),
                        title: rule.title.clone(),
                        severity: rule.severity,
                        mode: rule.mode,
                        segment: rule.segment.clone(),
                        owner: rule.owner.clone(),
                        file: source.name().to_string(),
                        line,
                    },
                    pass: 0,
                    fail: 0,
                    skip_condition_false: 0,
                    skip_field_missing: 0,
                    skip_waived: 0,
                    skip_missing: std::collections::BTreeMap::new(),
                    error: 0,
                    labels: LabelTable::default(),
                }
            })
            .collect();
        CheckReport {
            schema: "semslo.check.v1",
            policy: PolicyInfo {
                files: set.files.iter().map(|f| f.source.name().to_string()).collect(),
                hash: set.hash.clone(),
            },
            input: InputSummary::default(),
            violations: Vec::new(),
            violations_not_listed: 0,
            rules,
            labelled_runs: 0,
            runs_without_violations: 0,
            max_kept_violations: MAX_KEPT_VIOLATIONS,
            listed_violations: 0,
            shadow_not_listed: 0,
            shown_limit: None,
            slos: Vec::new(),
        }
    }

    pub fn add_rejected(&mut self, file: &str, line: usize, reason: String) {
        self.input.records_read += 1;
        self.input.records_rejected += 1;
        if self.input.rejected.len() < MAX_KEPT_REJECTIONS {
            self.input.rejected.push(RejectedRecord { file: file.to_string(), line, reason });
        }
    }

    /// Adds one checked run's verdicts.
    pub fn add_run(&mut self, set: &PolicySet, record: &Json, location: &Location, verdicts: Vec<RuleVerdict>) {
        self.input.records_read += 1;
        self.input.records_checked += 1;
        let label = expert_label(record);
        if label.is_some() {
            self.labelled_runs += 1;
        }
        if !verdicts.iter().any(|v| matches!(v.verdict, Verdict::Fail | Verdict::Error)) {
            self.runs_without_violations += 1;
        }
        for verdict in verdicts {
            let summary = &mut self.rules[verdict.rule];
            match &verdict.verdict {
                Verdict::Pass => summary.pass += 1,
                Verdict::Fail => summary.fail += 1,
                Verdict::Skip(SkipReason::ConditionFalse) => summary.skip_condition_false += 1,
                Verdict::Skip(SkipReason::FieldMissing { what }) => {
                    summary.skip_field_missing += 1;
                    if summary.skip_missing.len() < 5 || summary.skip_missing.contains_key(what) {
                        *summary.skip_missing.entry(what.clone()).or_default() += 1;
                    }
                }
                Verdict::Skip(SkipReason::Waived { .. }) => summary.skip_waived += 1,
                Verdict::Error => summary.error += 1,
            }
            if let Some(bad) = label {
                let table = &mut summary.labels;
                match (&verdict.verdict, bad) {
                    (Verdict::Fail, true) => table.fail_label_bad += 1,
                    (Verdict::Fail, false) => table.fail_label_good += 1,
                    (Verdict::Pass, true) => table.pass_label_bad += 1,
                    (Verdict::Pass, false) => table.pass_label_good += 1,
                    (_, true) => table.other_label_bad += 1,
                    (_, false) => table.other_label_good += 1,
                }
            }
            if matches!(verdict.verdict, Verdict::Fail | Verdict::Error) {
                if self.violations.len() >= self.max_kept_violations {
                    self.violations_not_listed += 1;
                    if set.rules[verdict.rule].mode == RuleMode::Shadow {
                        self.shadow_not_listed += 1;
                    }
                } else {
                    if set.rules[verdict.rule].mode != RuleMode::Shadow {
                        self.listed_violations += 1;
                    }
                    self.violations.push(violation(set, record, &location.to_string(), verdict));
                }
            }
        }
    }

    /// Returns whether the next violation would be kept in full, so its run is worth explaining.
    pub fn keeps_more_violations(&self) -> bool {
        self.violations.len() < self.max_kept_violations
    }

    /// Returns whether the next failing run may be shown with its explanation: its
    /// violations would be kept, and fewer than [`Self::shown_limit`] are listed so far.
    /// A run past that point is counted and kept without being evaluated again.
    pub fn wants_details(&self) -> bool {
        self.keeps_more_violations() && self.shown_limit.is_none_or(|limit| self.listed_violations < limit)
    }

    /// Renders one line of counts for scripts and benchmarks: runs checked, runs with a failing
    /// or erroring verdict per rule, and runs with none.
    pub fn counts_line(&self) -> String {
        let mut line = format!("{{\"total\":{}", self.input.records_checked);
        for rule in &self.rules {
            let _ = std::fmt::Write::write_fmt(
                &mut line,
                format_args!(",\"{}\":{}", rule.rule.name, rule.fail + rule.error),
            );
        }
        let _ = std::fmt::Write::write_fmt(&mut line, format_args!(",\"pass_all\":{}}}", self.runs_without_violations));
        line
    }

    /// Returns whether any `enforce` rule failed or errored, which makes `semslo check` exit 1.
    pub fn has_enforced_violations(&self) -> bool {
        self.rules.iter().any(|rule| rule.rule.mode == RuleMode::Enforce && (rule.fail > 0 || rule.error > 0))
    }
}

/// Returns `Some(true)` when the run's expert label judges the outcome incorrect.
fn expert_label(record: &Json) -> Option<bool> {
    // Labels are matched without regard to case or surrounding white space.
    match record.get("labels")?.get("expert_verdict")?.as_str()?.trim().to_ascii_lowercase().as_str() {
        "incorrect" | "bad" | "wrong" => Some(true),
        "correct" | "good" | "right" => Some(false),
        _ => None,
    }
}

/// Returns the run's id: `run_id`, else `id`, else its place in the input.
pub fn run_id(record: &Json, location: &str) -> String {
    crate::engine::run_id(record).unwrap_or_else(|| location.to_string())
}

/// Builds the report entry for one failing or erroring verdict.
pub fn violation(set: &PolicySet, record: &Json, location: &str, verdict: RuleVerdict) -> Violation {
    let rule = &set.rules[verdict.rule];
    let source = &set.files[rule.file].source;
    let explanation = verdict.explanation.map(|explanation| *explanation).unwrap_or_else(|| crate::eval::Explanation {
        expects: Vec::new(),
        observations: Vec::new(),
        entered_at: None,
        event_time_error: None,
    });
    let mut expects: Vec<ExpectReport> = explanation
        .expects
        .iter()
        .map(|(_, span, outcome)| {
            let (line, column) = source.line_column(span.start);
            let (outcome, message) = match outcome {
                ExpectOutcome::Errored(error) => ("error", Some(error.message())),
                _ => ("false", None),
            };
            ExpectReport {
                file: source.name().to_string(),
                line,
                column,
                source: source.text()[span.start..span.end].to_string(),
                outcome,
                message,
            }
        })
        .collect();
    if let Some(error) = &explanation.event_time_error {
        let (line, column) = source.line_column(error.span().start);
        expects.push(ExpectReport {
            file: source.name().to_string(),
            line,
            column,
            source: "event time".to_string(),
            outcome: "error",
            message: Some(error.message()),
        });
    }
    Violation {
        run_id: run_id(record, location),
        record: location.to_string(),
        rule: rule.name.clone(),
        severity: rule.severity,
        mode: rule.mode,
        verdict: verdict.verdict.as_str(),
        title: rule.title.clone(),
        expects,
        observations: explanation.observations,
        entered_at: explanation.entered_at,
        policy_hash: set.hash.clone(),
    }
}
