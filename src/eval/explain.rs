//! `explain`: how one rule reached its verdict on one run, as a tree of every
//! sub-expression with its value, plus the reference rows, counts and steps behind it.

use serde::Serialize;
use serde_json::Value as Json;

use super::context::Context;
use super::provenance::{StepRef, entered_at};
use super::trace::Observation;
use super::{EvalError, Verdict};
use crate::compile::{Node, NodeKind, PolicySet};
use crate::value::Value;

/// Most children kept under one node (quantifiers evaluate their body once per element).
const MAX_CHILDREN: usize = 12;

/// One evaluated sub-expression.
#[derive(Clone, Debug, Serialize)]
pub struct ExplainNode {
    /// The expression as written in the policy.
    pub expression: String,
    /// Its value, when it had one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<Json>,
    /// Why it had no value: a missing field, a type error.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// True when the error is a missing field, element or key.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub missing: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<ExplainNode>,
    /// Children evaluated but not kept, beyond [`MAX_CHILDREN`].
    #[serde(skip_serializing_if = "is_zero")]
    pub more_children: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// Collects the tree while an evaluation runs.
#[derive(Default)]
pub(super) struct ExplainBuilder {
    /// Children collected for each node being evaluated; the bottom entry holds the roots.
    stack: Vec<(Vec<ExplainNode>, usize)>,
}

impl ExplainBuilder {
    pub fn enter(&mut self) {
        self.stack.push((Vec::new(), 0));
    }

    pub fn exit(&mut self, expression: String, result: &Result<Value<'_>, EvalError>, keep: bool) {
        let (children, more_children) = self.stack.pop().unwrap_or_default();
        if !keep {
            return;
        }
        let (value, error, missing) = match result {
            Ok(value) => (Some(value.to_json()), None, false),
            Err(error) => (None, Some(error.message()), matches!(error, EvalError::Missing { .. })),
        };
        let node = ExplainNode { expression, value, error, missing, children, more_children };
        match self.stack.last_mut() {
            Some((siblings, more)) if siblings.len() >= MAX_CHILDREN => *more += 1,
            Some((siblings, _)) => siblings.push(node),
            None => self.stack.push((vec![node], 0)),
        }
    }

    pub fn roots(&mut self) -> Vec<ExplainNode> {
        self.stack.drain(..).flat_map(|(nodes, _)| nodes).collect()
    }
}

/// Whether a node is worth a line of its own: literals are not, and neither is a path
/// that only leads to an object or list on the way to the field actually read.
pub(super) fn worth_showing(node: &Node, result: &Result<Value<'_>, EvalError>) -> bool {
    match node.kind {
        NodeKind::Constant(_) | NodeKind::List(_) => false,
        NodeKind::Record | NodeKind::RootField(_) | NodeKind::Field(..) | NodeKind::Index(..) | NodeKind::Local(_) => {
            !matches!(result, Ok(Value::Json(_) | Value::Document(_)))
        }
        _ => true,
    }
}

/// A value the rule read, and the step that first carried it.
#[derive(Clone, Debug, Serialize)]
pub struct ValueOrigin {
    pub expression: String,
    pub value: Json,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entered_at: Option<StepRef>,
}

/// How one rule reached its verdict on one run.
#[derive(Clone, Debug, Serialize)]
pub struct RuleExplanation {
    pub rule: String,
    pub verdict: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skip_reason: Option<super::SkipReason>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_time: Option<String>,
    /// The waiver that covered the run, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waiver: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub when: Option<ExplainNode>,
    pub expects: Vec<ExplainNode>,
    /// Reference rows, quantifier counts and element positions seen on the way.
    pub evidence: Vec<Observation>,
    /// Every record value the rule read, with the step that first carried it.
    pub origins: Vec<ValueOrigin>,
}

/// Explains rule `index` of `set` on `record`.
pub fn explain_rule(set: &PolicySet, record: &Json, index: usize) -> RuleExplanation {
    let verdict = super::evaluate_one(set, record, index);
    let rule = &set.rules[index];
    let mut context = Context::new(set, record);
    context.begin_rule(rule.file);
    let event_time = if rule.needs_event_time {
        Some(match context.event_time() {
            Ok(at) => at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
            Err(error) => format!("cannot be read: {}", error.message()),
        })
    } else {
        None
    };
    let waiver = match &verdict.verdict {
        Verdict::Skip(super::SkipReason::Waived { reason }) => {
            Some(reason.clone().unwrap_or_else(|| "waived".to_string()))
        }
        _ => None,
    };

    context.start_trace();
    context.start_explain();
    let when = rule.when.as_ref().and_then(|condition| {
        let _ = context.eval(condition);
        context.take_explain_roots().pop()
    });
    let skipped_by_when = matches!(
        &verdict.verdict,
        Verdict::Skip(super::SkipReason::ConditionFalse | super::SkipReason::FieldMissing { .. })
    );
    let mut expects = Vec::new();
    if !skipped_by_when && waiver.is_none() {
        for expect in &rule.expects {
            let _ = context.eval(expect);
            expects.extend(context.take_explain_roots());
        }
    }
    context.stop_explain();
    let observations = context.finish_trace();

    let origins = observations
        .iter()
        .filter_map(|observation| match observation {
            Observation::Read { expression, value, bindings } if bindings.is_empty() => Some(ValueOrigin {
                expression: expression.clone(),
                value: value.clone(),
                entered_at: entered_at(record, std::slice::from_ref(observation)),
            }),
            _ => None,
        })
        .collect();
    let evidence = observations.into_iter().filter(|o| !matches!(o, Observation::Read { .. })).collect();
    let verdict_name = verdict.verdict.as_str();
    let skip_reason = match verdict.verdict {
        Verdict::Skip(reason) => Some(reason),
        _ => None,
    };
    RuleExplanation {
        rule: rule.name.clone(),
        verdict: verdict_name,
        skip_reason,
        event_time,
        waiver,
        when,
        expects,
        evidence,
        origins,
    }
}
