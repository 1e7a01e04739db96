//! Classifying one run for each SLO: not valid, good, or bad (failed, or could not be
//! decided). Fail closed: a rule `error` makes a run bad, never good.

use chrono::{DateTime, Utc};
use serde_json::Value as Json;

use super::context::{Context, Record};
use super::{EvalError, RuleVerdict, Verdict};
use crate::compile::{GoodRule, PolicySet};
use crate::document::NodeRef;
use crate::syntax::ast::RuleMode;
use crate::value::Value;

/// Dimension value shown for a run whose `by` expression read a missing field.
pub const MISSING_DIMENSION: &str = "(missing)";

#[derive(Clone, Debug, PartialEq)]
pub enum SloStatus {
    /// The run does not count: `valid when` was false or read a missing field.
    NotValid {
        field_missing: bool,
    },
    Good,
    /// The run counts against the SLO.
    Bad {
        /// True when no counted rule failed but one could not be decided (or `valid
        /// when` itself errored): reported on its own line.
        error: bool,
        /// Indices of the counted rules that failed or errored.
        rules: Vec<usize>,
        /// The first segment, in run order, with a failing or erroring rule.
        segment: Option<String>,
    },
}

/// One run as one SLO sees it.
#[derive(Clone, Debug)]
pub struct SloOutcome {
    /// Index into [`PolicySet::slos`].
    pub slo: usize,
    pub status: SloStatus,
    /// Where the run sits in time; an error message when its event time is missing or invalid.
    pub event_time: Result<DateTime<Utc>, String>,
    /// One value per `by` dimension, as text.
    pub dimensions: Vec<String>,
}

/// Classifies `record` for every SLO of `set`, given the rule verdicts it already got.
pub fn classify(set: &PolicySet, record: &Json, verdicts: &[RuleVerdict]) -> Vec<SloOutcome> {
    let mut context = Context::new(set, record);
    set.slos.iter().enumerate().map(|(index, _)| classify_one(&mut context, index, verdicts)).collect()
}

/// Classifies a run as [`classify`] does, on a projected record (see
/// [`crate::input::projected`]) that keeps the fields of the SLOs.
pub fn classify_projected(set: &PolicySet, root: NodeRef<'_>, verdicts: &[RuleVerdict]) -> Vec<SloOutcome> {
    let mut context = Context::with_record(set, Record::Document(root));
    set.slos.iter().enumerate().map(|(index, _)| classify_one(&mut context, index, verdicts)).collect()
}

fn classify_one<'a>(context: &mut Context<'a>, index: usize, verdicts: &[RuleVerdict]) -> SloOutcome {
    let set = context.set;
    let slo = &set.slos[index];
    context.begin_rule(slo.file);
    let event_time = context.event_time().map_err(|error| error.message());
    let dimensions = slo.by.iter().map(|(_, node)| dimension_text(context.eval(node))).collect();

    let status = match slo.valid.as_ref().map(|condition| context.condition(condition)) {
        Some(Ok(false)) => SloStatus::NotValid { field_missing: false },
        Some(Err(EvalError::Missing { .. })) => SloStatus::NotValid { field_missing: true },
        Some(Err(_)) => SloStatus::Bad { error: true, rules: Vec::new(), segment: None },
        None | Some(Ok(true)) => judge(set, &slo.good, verdicts),
    };
    SloOutcome { slo: index, status, event_time, dimensions }
}

fn judge(set: &PolicySet, good: &GoodRule, verdicts: &[RuleVerdict]) -> SloStatus {
    let counted = |verdict: &&RuleVerdict| {
        let rule = &set.rules[verdict.rule];
        match good {
            GoodRule::AllRulesPass => rule.mode != RuleMode::Shadow,
            GoodRule::RulesPass(indices) => indices.contains(&verdict.rule),
            GoodRule::NoRuleFails(severity) => {
                rule.mode != RuleMode::Shadow && severity.is_none_or(|s| rule.severity == s)
            }
        }
    };
    let bad: Vec<&RuleVerdict> =
        verdicts.iter().filter(counted).filter(|v| matches!(v.verdict, Verdict::Fail | Verdict::Error)).collect();
    if bad.is_empty() {
        return SloStatus::Good;
    }
    let error = !bad.iter().any(|v| v.verdict == Verdict::Fail);
    let segment = set
        .segments
        .iter()
        .find(|segment| bad.iter().any(|v| set.rules[v.rule].segment.as_ref() == Some(*segment)))
        .cloned();
    SloStatus::Bad { error, rules: bad.iter().map(|v| v.rule).collect(), segment }
}

fn dimension_text(value: Result<Value<'_>, EvalError>) -> String {
    match value {
        Ok(value) => match value.to_json() {
            Json::String(text) => text,
            other => other.to_string(),
        },
        Err(EvalError::Missing { .. }) => MISSING_DIMENSION.to_string(),
        Err(error) => format!("(error: {})", error.message()),
    }
}
