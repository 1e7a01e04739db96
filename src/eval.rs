//! Evaluation: a compiled policy set against one run, giving each rule a verdict.
//!
//! **Four verdicts, fail closed.** A rule `pass`es when every `expect` holds,
//! `fail`s when any is false, is `skip`ped when its `when` is false or reads a
//! missing field (the two are counted apart, so a rule that silently never applies
//! shows up), and is an `error` when an `expect` cannot be decided: a missing field,
//! a type mismatch, a division by zero, an unknown table key. An error never counts
//! as a pass.
//!
//! Evaluation runs without bookkeeping first; only a rule that fails or errors is
//! evaluated again with tracing on, to collect the values that decided it.

mod context;
pub mod explain;
mod expr;
mod fast;
mod functions;
mod provenance;
pub mod slo;
mod trace;

use serde::Serialize;
use serde_json::Value as Json;

use crate::compile::{CompiledRule, PolicySet};
use crate::diagnostic::Span;
use crate::document::NodeRef;
pub use context::EVALUATION_BUDGET;
use context::{Context, Record};
pub use provenance::StepRef;
pub use trace::{Observation, RowInfo};

/// The reason an expression could not produce a value.
#[derive(Clone, Debug, PartialEq)]
pub enum EvalError {
    /// A field, element or table key that is absent. `what` names it in policy terms.
    Missing { what: String, span: Span },
    /// A value of the wrong type, text that does not parse, a division by zero, an overflow.
    Invalid { message: String, span: Span },
    /// The rule used more than [`EVALUATION_BUDGET`] evaluation steps on one run.
    BudgetExceeded { span: Span },
}

impl EvalError {
    pub fn message(&self) -> String {
        match self {
            EvalError::Missing { what, .. } => format!("{what} is missing"),
            EvalError::Invalid { message, .. } => message.clone(),
            EvalError::BudgetExceeded { .. } => {
                format!("evaluation stopped after {EVALUATION_BUDGET} steps on this run")
            }
        }
    }

    pub fn span(&self) -> Span {
        match self {
            EvalError::Missing { span, .. } | EvalError::Invalid { span, .. } | EvalError::BudgetExceeded { span } => {
                *span
            }
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SkipReason {
    /// The `when` condition was false.
    ConditionFalse,
    /// The `when` condition read something missing.
    FieldMissing { what: String },
    /// A `waive` line of the rule covers the run.
    Waived { reason: Option<String> },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    Pass,
    Fail,
    Skip(SkipReason),
    Error,
}

impl Verdict {
    pub fn as_str(&self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
            Verdict::Skip(_) => "skip",
            Verdict::Error => "error",
        }
    }
}

/// The outcome of one `expect` line.
#[derive(Clone, Debug, PartialEq)]
pub enum ExpectOutcome {
    Held,
    Failed,
    Errored(EvalError),
}

/// The `expect` lines that did not hold, with what was observed while evaluating them.
#[derive(Clone, Debug)]
pub struct Explanation {
    /// Index, span, and outcome of each `expect` that failed or errored.
    pub expects: Vec<(usize, Span, ExpectOutcome)>,
    pub observations: Vec<Observation>,
    /// The earliest step whose output carried a value that decided the verdict.
    pub entered_at: Option<StepRef>,
    /// Set when the event time itself could not be read.
    pub event_time_error: Option<EvalError>,
}

/// One rule's verdict on one run.
#[derive(Clone, Debug)]
pub struct RuleVerdict {
    /// Index of the rule in [`PolicySet::rules`].
    pub rule: usize,
    pub verdict: Verdict,
    /// Present for `fail` and `error`; boxed, because most verdicts have none and
    /// batches of verdicts are built for every run.
    pub explanation: Option<Box<Explanation>>,
}

/// Evaluates every rule of `set` on `record` (one run, a JSON object).
pub fn evaluate(set: &PolicySet, record: &Json) -> Vec<RuleVerdict> {
    let mut context = Context::new(set, record);
    (0..set.rules.len()).map(|i| evaluate_rule(&mut context, i)).collect()
}

/// Evaluates every rule as [`evaluate`] does, on a projected record (see
/// [`crate::input::projected`]). The record must keep what the rules read, and
/// `steps[].name` and `steps[].output` in full for [`provenance::entered_at`].
pub fn evaluate_projected(set: &PolicySet, root: NodeRef<'_>) -> Vec<RuleVerdict> {
    let mut context = Context::with_record(set, Record::Document(root));
    (0..set.rules.len()).map(|i| evaluate_rule(&mut context, i)).collect()
}

/// Evaluates every rule of `set` on `record` without explanations: the fast path for
/// counting. Call [`evaluate`] on the full record for the runs whose details are shown.
pub fn decide_all(set: &PolicySet, record: &Json) -> Vec<RuleVerdict> {
    decide_every_rule(&mut Context::new(set, record))
}

/// Evaluates every rule of `set` on a projected record without explanations, like
/// [`decide_all`].
pub fn decide_all_projected(set: &PolicySet, root: NodeRef<'_>) -> Vec<RuleVerdict> {
    let mut context = None;
    let mut verdicts = Vec::with_capacity(set.rules.len());
    let mut paths = fast::path_cache(set);
    for (index, rule) in set.rules.iter().enumerate() {
        let fast = set.fast_rules[index].as_ref().and_then(|fast| {
            // The general evaluator's context computes the event time once per file and run.
            let event_time = match fast.needs_event_time {
                true => {
                    let context = context.get_or_insert_with(|| Context::with_record(set, Record::Document(root)));
                    context.begin_rule(rule.file);
                    Some(context.event_time().ok()?)
                }
                false => None,
            };
            fast::decide(set, fast, root, event_time, &mut paths)
        });
        let verdict = match fast {
            Some(verdict) => verdict,
            None => {
                let context = context.get_or_insert_with(|| Context::with_record(set, Record::Document(root)));
                decide(context, rule).0
            }
        };
        verdicts.push(RuleVerdict { rule: index, verdict, explanation: None });
    }
    verdicts
}

fn decide_every_rule(context: &mut Context<'_>) -> Vec<RuleVerdict> {
    let set = context.set;
    set.rules
        .iter()
        .enumerate()
        .map(|(index, rule)| RuleVerdict { rule: index, verdict: decide(context, rule).0, explanation: None })
        .collect()
}

/// Evaluates the rule at `index` of `set` on `record`, with its explanation when it fails or errors.
pub fn evaluate_one(set: &PolicySet, record: &Json, index: usize) -> RuleVerdict {
    let mut context = Context::new(set, record);
    evaluate_rule(&mut context, index)
}

fn evaluate_rule<'a>(context: &mut Context<'a>, index: usize) -> RuleVerdict {
    let rule = &context.set.rules[index];
    let (verdict, expects, event_time_error) = decide(context, rule);
    if !matches!(verdict, Verdict::Fail | Verdict::Error) {
        return RuleVerdict { rule: index, verdict, explanation: None };
    }
    let explanation = explain(context, rule, expects, event_time_error);
    RuleVerdict { rule: index, verdict, explanation: Some(Box::new(explanation)) }
}

type Decision = (Verdict, Vec<(usize, Span, ExpectOutcome)>, Option<EvalError>);

fn decide<'a>(context: &mut Context<'a>, rule: &'a CompiledRule) -> Decision {
    context.begin_rule(rule.file);
    if rule.needs_event_time {
        if let Err(error) = context.event_time() {
            return (Verdict::Error, Vec::new(), Some(error));
        }
    }
    if let Some(waiver) = matching_waiver(context, rule) {
        return (Verdict::Skip(SkipReason::Waived { reason: waiver.reason.clone() }), Vec::new(), None);
    }
    if let Some(condition) = &rule.when {
        match context.condition(condition) {
            Ok(true) => {}
            Ok(false) => return (Verdict::Skip(SkipReason::ConditionFalse), Vec::new(), None),
            Err(EvalError::Missing { what, .. }) => {
                return (Verdict::Skip(SkipReason::FieldMissing { what }), Vec::new(), None);
            }
            Err(error) => {
                return (Verdict::Error, vec![(usize::MAX, condition.span, ExpectOutcome::Errored(error))], None);
            }
        }
    }
    let mut outcomes = Vec::new();
    let mut failed = false;
    let mut errored = false;
    for (i, expect) in rule.expects.iter().enumerate() {
        match context.condition(expect) {
            Ok(true) => {}
            Ok(false) => {
                failed = true;
                outcomes.push((i, expect.span, ExpectOutcome::Failed));
            }
            Err(error) => {
                errored = true;
                outcomes.push((i, expect.span, ExpectOutcome::Errored(error)));
            }
        }
    }
    let verdict = if failed {
        Verdict::Fail
    } else if errored {
        Verdict::Error
    } else {
        Verdict::Pass
    };
    (verdict, outcomes, None)
}

/// Returns the first waiver whose condition is true for the run and whose expiry date is after
/// the run's event time. A waiver whose condition cannot be decided does not apply:
/// the run is then judged by the rule as usual.
fn matching_waiver<'a>(
    context: &mut Context<'a>,
    rule: &'a CompiledRule,
) -> Option<&'a crate::compile::CompiledWaiver> {
    if rule.waivers.is_empty() {
        return None;
    }
    let at = context.event_time().ok()?;
    rule.waivers.iter().find(|waiver| at < waiver.until && matches!(context.condition(&waiver.condition), Ok(true)))
}

/// Evaluates the expects that did not hold again, this time recording what they read.
fn explain<'a>(
    context: &mut Context<'a>,
    rule: &'a CompiledRule,
    expects: Vec<(usize, Span, ExpectOutcome)>,
    event_time_error: Option<EvalError>,
) -> Explanation {
    context.begin_rule(rule.file);
    context.start_trace();
    for (i, _, _) in &expects {
        if let Some(expect) = rule.expects.get(*i) {
            let _ = context.condition(expect);
        }
    }
    let mut observations = context.finish_trace();
    let entered_at = match context.record {
        Record::Json(record) => provenance::entered_at(record, &observations),
        // The steps as JSON: a projected record keeps only their names and outputs.
        Record::Document(root) => root.get("steps").and_then(|steps| {
            let record = Json::Object(serde_json::Map::from_iter([("steps".to_string(), steps.to_json())]));
            provenance::entered_at(&record, &observations)
        }),
    };
    // Why the rule applied: the reference rows and values its `when` read come after
    // the evidence of the expectations.
    if let Some(condition) = &rule.when {
        context.start_trace();
        let _ = context.condition(condition);
        for observation in context.finish_trace() {
            if matches!(observation, Observation::Lookup { .. } | Observation::Membership { .. })
                && !observations.contains(&observation)
            {
                observations.push(observation);
            }
        }
    }
    Explanation { expects, observations, entered_at, event_time_error }
}
