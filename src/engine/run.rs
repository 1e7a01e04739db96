//! The verdicts of one run, as data that outlives the policy set: rule and SLO
//! names instead of indices, and the hash of the set that produced them.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use serde_json::Value as Json;

use crate::compile::PolicySet;
use crate::compile::projection::Projection;
use crate::document::{Document, NodeRef};
use crate::eval::slo::{SloOutcome, SloStatus, classify, classify_projected};
use crate::eval::{self, SkipReason, Verdict};
use crate::input::projected::{ReadPlan, parse_into};
use crate::json_text::{push_key, push_string};
use crate::report::{self, Violation};
use crate::syntax::ast::{RuleMode, RuleSeverity};

/// Everything one run got from one policy set.
#[derive(Debug, Serialize)]
pub struct RunVerdicts {
    /// The record's `run_id` (or `id`) as text; `None` when it has neither.
    pub run_id: Option<String>,
    /// The set that produced every verdict below.
    pub policy_hash: String,
    /// One entry per rule, in policy order.
    pub verdicts: Vec<RuleOutcome>,
    /// The failing and erroring verdicts in full, as `semslo check --format json`
    /// lists them: the expectations that did not hold and the values that decided them.
    pub violations: Vec<Violation>,
    /// The run's effect on each SLO of the set.
    pub slos: Vec<SloEffect>,
}

impl RunVerdicts {
    /// Returns the verdicts as compact JSON text, exactly as `serde_json::to_string`
    /// writes them. Written directly: a server writes this for every run it stores,
    /// and most of it is names that need no escape.
    pub fn to_json_text(&self) -> String {
        let mut out = String::with_capacity(512 + 128 * (self.verdicts.len() + self.slos.len()));
        out.push_str(r#"{"run_id":"#);
        match &self.run_id {
            Some(run_id) => push_string(&mut out, run_id),
            None => out.push_str("null"),
        }
        push_key(&mut out, "policy_hash", false);
        push_string(&mut out, &self.policy_hash);

        out.push_str(r#","verdicts":["#);
        for (index, outcome) in self.verdicts.iter().enumerate() {
            if index > 0 {
                out.push(',');
            }
            out.push_str(r#"{"rule":"#);
            push_string(&mut out, &outcome.rule);
            out.push_str(r#","verdict":""#);
            out.push_str(outcome.verdict);
            out.push_str(r#"","severity":""#);
            out.push_str(outcome.severity.as_str());
            out.push_str(r#"","mode":""#);
            out.push_str(outcome.mode.as_str());
            out.push('"');
            if let Some(reason) = &outcome.skip_reason {
                out.push_str(r#","skip_reason":"#);
                out.push_str(&serde_json::to_string(reason).expect("a skip reason always serializes"));
            }
            out.push('}');
        }

        out.push_str(r#"],"violations":"#);
        if self.violations.is_empty() {
            out.push_str("[]");
        } else {
            out.push_str(&serde_json::to_string(&self.violations).expect("violations always serialize"));
        }

        out.push_str(r#","slos":["#);
        for (index, effect) in self.slos.iter().enumerate() {
            if index > 0 {
                out.push(',');
            }
            effect.push_json(&mut out);
        }
        out.push_str("]}");
        out
    }
}

impl SloEffect {
    /// Appends the start of the effect's JSON object, which every form of it shares:
    /// `{"slo":…,"result":…`, then `"field_missing":true` when set.
    pub(crate) fn push_json_head(&self, out: &mut String) {
        out.push_str(r#"{"slo":"#);
        push_string(out, &self.slo);
        out.push_str(r#","result":""#);
        out.push_str(self.result.as_str());
        out.push('"');
        if self.field_missing {
            out.push_str(r#","field_missing":true"#);
        }
    }

    /// Appends the effect as `serde_json` writes it.
    fn push_json(&self, out: &mut String) {
        self.push_json_head(out);
        out.push_str(r#","event_time":"#);
        match self.event_time {
            // As chrono's `Serialize` writes an instant.
            Some(time) => push_string(out, &time.to_rfc3339_opts(SecondsFormat::AutoSi, true)),
            None => out.push_str("null"),
        }
        if let Some(error) = &self.event_time_error {
            push_key(out, "event_time_error", false);
            push_string(out, error);
        }
        out.push_str(r#","bad_rules":"#);
        push_bad_rules(out, &self.bad_rules);
        if let Some(segment) = &self.segment {
            push_key(out, "segment", false);
            push_string(out, segment);
        }
        out.push_str(r#","dimensions":"#);
        push_dimensions(out, &self.dimensions);
        out.push('}');
    }
}

/// Appends `rules` as the JSON array `serde_json` writes.
pub(crate) fn push_bad_rules(out: &mut String, rules: &[BadRule]) {
    push_pairs(out, rules, ("rule", "verdict"), |bad| (&bad.rule, &bad.verdict));
}

/// Appends `dimensions` as the JSON array `serde_json` writes.
pub(crate) fn push_dimensions(out: &mut String, dimensions: &[DimensionValue]) {
    push_pairs(out, dimensions, ("by", "value"), |dimension| (&dimension.by, &dimension.value));
}

/// Appends `items` as a JSON array of objects with two text members, named `keys`.
fn push_pairs<T>(out: &mut String, items: &[T], keys: (&str, &str), values: impl Fn(&T) -> (&str, &str)) {
    out.push('[');
    for (index, item) in items.iter().enumerate() {
        if index > 0 {
            out.push(',');
        }
        let (first, second) = values(item);
        out.push('{');
        push_key(out, keys.0, true);
        push_string(out, first);
        push_key(out, keys.1, false);
        push_string(out, second);
        out.push('}');
    }
    out.push(']');
}

/// One rule's verdict on the run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RuleOutcome {
    pub rule: String,
    /// `pass`, `fail`, `skip` or `error`.
    pub verdict: &'static str,
    pub severity: RuleSeverity,
    pub mode: RuleMode,
    /// Reason of a `skip`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skip_reason: Option<SkipReason>,
}

/// Result of one run for one SLO.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SloResult {
    /// Valid, and every counted rule passed (or skipped).
    Good,
    /// Valid, and a counted rule failed.
    Bad,
    /// Valid and bad, because a counted rule (or `valid when`) could not be decided
    /// while none failed. Fail closed: it counts against the SLO like `bad`.
    Error,
    /// The SLO does not count the run (`valid when` was false or read a missing field).
    NotValid,
}

impl SloResult {
    /// Returns the name used in the API and in the `result` label of `semslo_runs_total`.
    pub fn as_str(self) -> &'static str {
        match self {
            SloResult::Good => "good",
            SloResult::Bad => "bad",
            SloResult::Error => "error",
            SloResult::NotValid => "not_valid",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "good" => Some(SloResult::Good),
            "bad" => Some(SloResult::Bad),
            "error" => Some(SloResult::Error),
            "not_valid" => Some(SloResult::NotValid),
            _ => None,
        }
    }
}

/// The run as one SLO counts it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SloEffect {
    pub slo: String,
    pub result: SloResult,
    /// For `not_valid`: whether `valid when` read a missing field.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub field_missing: bool,
    /// Instant that places the run in the SLO's windows. It is `None` when the event
    /// time is missing or invalid (see `event_time_error`), and the run then counts
    /// as bad in every window.
    pub event_time: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_time_error: Option<String>,
    /// The counted rules that failed or errored, with their verdicts.
    pub bad_rules: Vec<BadRule>,
    /// The first segment, in run order, with a failing or erroring rule.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub segment: Option<String>,
    /// The value of each `by` dimension, keyed by the expression as written.
    pub dimensions: Vec<DimensionValue>,
}

impl SloEffect {
    /// Returns whether the SLO counts the run at all.
    pub fn is_valid(&self) -> bool {
        self.result != SloResult::NotValid
    }
}

/// A counted rule that made the run bad.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct BadRule {
    pub rule: String,
    /// `fail` or `error`.
    pub verdict: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct DimensionValue {
    /// The `by` expression as written (`outcome.vendor.id`).
    pub by: String,
    pub value: String,
}

/// Evaluates every rule and SLO of `set` on `record`. `location` names the run in
/// violations when the record has no `run_id`.
pub(super) fn evaluate(set: &PolicySet, hash: &str, record: &Json, location: &str) -> RunVerdicts {
    let verdicts = eval::evaluate(set, record);
    let outcomes = if set.slos.is_empty() { Vec::new() } else { classify(set, record, &verdicts) };

    let rules = verdicts.iter().map(|verdict| rule_outcome(set, verdict)).collect();
    let slos = outcomes.iter().map(|outcome| slo_effect(set, outcome, &verdicts)).collect();
    let violations = verdicts
        .into_iter()
        .filter(|verdict| matches!(verdict.verdict, Verdict::Fail | Verdict::Error))
        .map(|verdict| report::violation(set, record, location, verdict))
        .collect();

    RunVerdicts { run_id: run_id(record), policy_hash: hash.to_string(), verdicts: rules, violations, slos }
}

/// The parts of a run that [`TextReader::evaluate_passing`] reads: the fields of the
/// rules, the SLOs and the run id.
#[derive(Debug)]
pub(super) struct TextReader {
    plan: ReadPlan,
    /// The plan of [`Self::plan`] plus the steps' names and outputs, which explanations
    /// search for the step a wrong value entered at.
    explained: ReadPlan,
}

impl TextReader {
    pub(super) fn new(set: &PolicySet) -> TextReader {
        let mut parsed = Projection::of(set);
        for path in RUN_ID_FIELDS {
            parsed.keep(path);
        }
        let plan = ReadPlan::new(&parsed);
        parsed.keep("steps[].name");
        parsed.keep("steps[].output");
        TextReader { plan, explained: ReadPlan::new(&parsed) }
    }

    /// Evaluates the JSON text of a run as [`evaluate`] does, reading only the fields that
    /// the set and the explanations of its violations read. Returns `None` when `text`
    /// is not a JSON object.
    pub(super) fn evaluate(&self, set: &PolicySet, text: &[u8], location: &str) -> Option<RunVerdicts> {
        let mut document = Document::default();
        parse_into(text, &self.explained, &mut document).ok()?;
        let root = document.root().filter(|root| root.is_object())?;
        let verdicts = eval::evaluate_projected(set, root);
        let outcomes = if set.slos.is_empty() { Vec::new() } else { classify_projected(set, root, &verdicts) };
        let rules = verdicts.iter().map(|verdict| rule_outcome(set, verdict)).collect();
        let slos = outcomes.iter().map(|outcome| slo_effect(set, outcome, &verdicts)).collect();
        // Violations name the run by its id fields, the only part of the record they read.
        let ids = Json::Object(
            RUN_ID_FIELDS.iter().filter_map(|&field| Some((field.to_string(), root.get(field)?.to_json()))).collect(),
        );
        let violations = verdicts
            .into_iter()
            .filter(|verdict| matches!(verdict.verdict, Verdict::Fail | Verdict::Error))
            .map(|verdict| report::violation(set, &ids, location, verdict))
            .collect();
        Some(RunVerdicts { run_id: run_id(&ids), policy_hash: set.hash.clone(), verdicts: rules, violations, slos })
    }

    /// Decides the rules on the projected fields of `text`, and builds the verdicts
    /// only when no rule failed or erred (a run without violations).
    pub(super) fn evaluate_passing(&self, set: &PolicySet, text: &[u8]) -> Option<RunVerdicts> {
        if self.plan.is_whole() {
            return None;
        }
        let mut document = Document::default();
        parse_into(text, &self.plan, &mut document).ok()?;
        let root = document.root().filter(|root| root.is_object())?;
        let verdicts = eval::decide_all_projected(set, root);
        if verdicts.iter().any(|verdict| matches!(verdict.verdict, Verdict::Fail | Verdict::Error)) {
            return None;
        }
        let run_id = projected_run_id(root)?;
        let outcomes = if set.slos.is_empty() { Vec::new() } else { classify_projected(set, root, &verdicts) };
        let slos = outcomes.iter().map(|outcome| slo_effect(set, outcome, &verdicts)).collect();
        let rules = verdicts.iter().map(|verdict| rule_outcome(set, verdict)).collect();
        Some(RunVerdicts {
            run_id: Some(run_id),
            policy_hash: set.hash.clone(),
            verdicts: rules,
            violations: Vec::new(),
            slos,
        })
    }
}

/// Returns the [`run_id`] of a projected record that keeps [`RUN_ID_FIELDS`].
fn projected_run_id(root: NodeRef<'_>) -> Option<String> {
    RUN_ID_FIELDS.iter().find_map(|field| match root.get(field)?.to_json() {
        Json::String(text) if !text.trim().is_empty() => Some(text),
        Json::Number(number) => Some(number.to_string()),
        _ => None,
    })
}

fn rule_outcome(set: &PolicySet, verdict: &eval::RuleVerdict) -> RuleOutcome {
    let rule = &set.rules[verdict.rule];
    let skip_reason = match &verdict.verdict {
        Verdict::Skip(reason) => Some(reason.clone()),
        _ => None,
    };
    RuleOutcome {
        rule: rule.name.clone(),
        verdict: verdict.verdict.as_str(),
        severity: rule.severity,
        mode: rule.mode,
        skip_reason,
    }
}

fn slo_effect(set: &PolicySet, outcome: &SloOutcome, verdicts: &[eval::RuleVerdict]) -> SloEffect {
    let slo = &set.slos[outcome.slo];
    let (result, field_missing, bad_rules, segment) = match &outcome.status {
        SloStatus::NotValid { field_missing } => (SloResult::NotValid, *field_missing, Vec::new(), None),
        SloStatus::Good => (SloResult::Good, false, Vec::new(), None),
        SloStatus::Bad { error, rules, segment } => {
            let bad_rules = rules
                .iter()
                .map(|&index| BadRule {
                    rule: set.rules[index].name.clone(),
                    verdict: verdicts
                        .iter()
                        .find(|verdict| verdict.rule == index)
                        .map_or("error", |verdict| verdict.verdict.as_str())
                        .to_string(),
                })
                .collect();
            let result = if *error { SloResult::Error } else { SloResult::Bad };
            (result, false, bad_rules, segment.clone())
        }
    };
    let dimensions = slo
        .by
        .iter()
        .zip(&outcome.dimensions)
        .map(|((by, _), value)| DimensionValue { by: by.clone(), value: value.clone() })
        .collect();
    SloEffect {
        slo: slo.name.clone(),
        result,
        field_missing,
        event_time: outcome.event_time.as_ref().ok().copied(),
        event_time_error: outcome.event_time.as_ref().err().cloned(),
        bad_rules,
        segment,
        dimensions,
    }
}

/// The record fields that [`run_id`] reads, in the order it tries them.
pub const RUN_ID_FIELDS: &[&str] = &["run_id", "id"];

/// Returns the record's `run_id`, else its `id`, as text; numbers keep their source text.
/// Only text that is not blank and numbers count: an empty `run_id` or a `null` one
/// falls back to `id`.
pub fn run_id(record: &Json) -> Option<String> {
    RUN_ID_FIELDS.iter().find_map(|field| match record.get(field)? {
        Json::String(text) if !text.trim().is_empty() => Some(text.clone()),
        Json::Number(number) => Some(number.to_string()),
        _ => None,
    })
}
