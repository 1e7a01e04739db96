//! Per-run evaluation state: the record, quantifier variables, the event time, the
//! step budget and, while explaining, the trace.

use chrono::{DateTime, Utc};
use serde_json::Value as Json;

use super::EvalError;
use super::trace::{MAX_OBSERVATIONS, Observation};
use crate::compile::{FileId, Node, PolicySet};
use crate::diagnostic::Span;
use crate::document::NodeRef;
use crate::value::{Value, coerce_text, date_start};

/// Most expression steps one rule may take on one run. Policies have no loops, so
/// only quantifiers over large lists come near; the bound keeps a slow rule from
/// stalling a whole check.
pub const EVALUATION_BUDGET: u64 = 5_000_000;

/// A quantifier variable in force.
pub(super) struct Local<'a> {
    pub value: Value<'a>,
    /// Position of the element in its list.
    pub index: usize,
    /// `s = steps[3]`, kept only while tracing.
    pub description: Option<String>,
}

/// The run being evaluated: a whole record, or the projected fields of one.
#[derive(Clone, Copy)]
pub(super) enum Record<'a> {
    Json(&'a Json),
    Document(NodeRef<'a>),
}

pub(super) struct Context<'a> {
    pub set: &'a PolicySet,
    pub record: Record<'a>,
    pub locals: Vec<Local<'a>>,
    /// Event time per file, computed on first use.
    event_times: Vec<Option<Result<DateTime<Utc>, EvalError>>>,
    /// The file of the rule being evaluated: whose event time and source text apply.
    pub file: FileId,
    steps_left: u64,
    trace: Option<Vec<Observation>>,
    /// While above zero, observations are not recorded (inside `where` filters and
    /// beyond the first few elements of a quantifier), so explanations stay short.
    pub muted: usize,
    /// The expression tree being collected by `explain`.
    explain: Option<super::explain::ExplainBuilder>,
}

impl<'a> Context<'a> {
    pub fn new(set: &'a PolicySet, record: &'a Json) -> Self {
        Self::with_record(set, Record::Json(record))
    }

    pub fn with_record(set: &'a PolicySet, record: Record<'a>) -> Self {
        Context {
            set,
            record,
            locals: Vec::new(),
            event_times: (0..set.files.len()).map(|_| None).collect(),
            file: 0,
            steps_left: EVALUATION_BUDGET,
            trace: None,
            muted: 0,
            explain: None,
        }
    }

    pub fn begin_rule(&mut self, file: FileId) {
        self.file = file;
        self.locals.clear();
        self.steps_left = EVALUATION_BUDGET;
    }

    pub fn start_trace(&mut self) {
        self.trace = Some(Vec::new());
    }

    pub fn finish_trace(&mut self) -> Vec<Observation> {
        self.trace.take().unwrap_or_default()
    }

    pub fn start_explain(&mut self) {
        self.explain = Some(super::explain::ExplainBuilder::default());
    }

    pub fn stop_explain(&mut self) {
        self.explain = None;
    }

    /// The trees collected since the last call.
    pub fn take_explain_roots(&mut self) -> Vec<super::explain::ExplainNode> {
        self.explain.as_mut().map(|builder| builder.roots()).unwrap_or_default()
    }

    pub(super) fn explain_enter(&mut self) -> bool {
        match &mut self.explain {
            Some(builder) => {
                builder.enter();
                true
            }
            None => false,
        }
    }

    pub(super) fn explain_exit(&mut self, node: &Node, result: &Result<Value<'a>, EvalError>) {
        let text = self.text(node.span).to_string();
        let keep = super::explain::worth_showing(node, result);
        if let Some(builder) = &mut self.explain {
            builder.exit(text, result, keep);
        }
    }

    pub fn tracing(&self) -> bool {
        self.trace.is_some() && self.muted == 0
    }

    /// True when nothing is being recorded: no trace and no explanation tree, so a
    /// value may be computed without visiting every node on its way.
    pub fn unobserved(&self) -> bool {
        self.trace.is_none() && self.explain.is_none()
    }

    /// Counts `steps` evaluation steps at once; false, counting nothing, when fewer are left.
    pub fn tick_many(&mut self, steps: u64) -> bool {
        if self.steps_left < steps {
            return false;
        }
        self.steps_left -= steps;
        true
    }

    pub fn observe(&mut self, observation: Observation) {
        if self.muted > 0 {
            return;
        }
        if let Some(trace) = &mut self.trace {
            if trace.len() < MAX_OBSERVATIONS && !trace.iter().any(|seen| seen.same_as(&observation)) {
                trace.push(observation);
            }
        }
    }

    /// The policy text of `span` in the current rule's file.
    pub fn text(&self, span: Span) -> &'a str {
        &self.set.files[self.file].source.text()[span.start..span.end]
    }

    /// Descriptions of the quantifier variables in force, for observations.
    pub fn binding_descriptions(&self) -> Vec<String> {
        self.locals.iter().filter_map(|local| local.description.clone()).collect()
    }

    /// Counts one evaluation step against the budget.
    pub fn tick(&mut self, span: Span) -> Result<(), EvalError> {
        if self.steps_left == 0 {
            return Err(EvalError::BudgetExceeded { span });
        }
        self.steps_left -= 1;
        Ok(())
    }

    /// Evaluates a condition that must be true or false.
    pub fn condition(&mut self, node: &'a Node) -> Result<bool, EvalError> {
        let value = self.eval(node)?;
        match value.unwrap_element() {
            Value::Bool(b) => Ok(*b),
            other => Err(EvalError::Invalid {
                message: format!(
                    "`{}` is {} {}, not true or false",
                    self.text(node.span),
                    other.type_name(),
                    crate::value::Shown(other)
                ),
                span: node.span,
            }),
        }
    }

    /// The run's event time, as declared by `event time` in the current rule's file.
    pub fn event_time(&mut self) -> Result<DateTime<Utc>, EvalError> {
        if let Some(cached) = &self.event_times[self.file] {
            return cached.clone();
        }
        let file = &self.set.files[self.file];
        let result = match &file.event_time {
            None => Err(EvalError::Invalid {
                message: "the policy declares no `event time`".to_string(),
                span: Span::default(),
            }),
            Some(node) => {
                let saved = self.trace.take();
                let value = self.eval(node);
                self.trace = saved;
                value.and_then(|value| to_instant(&value, self.text(node.span), node.span))
            }
        };
        self.event_times[self.file] = Some(result.clone());
        result
    }
}

fn to_instant(value: &Value<'_>, text: &str, span: Span) -> Result<DateTime<Utc>, EvalError> {
    match value.unwrap_element() {
        Value::Timestamp(t) => Ok(t.with_timezone(&Utc)),
        Value::Date(d) => Ok(date_start(*d).with_timezone(&Utc)),
        Value::Text(s) => match (coerce_text(s, &Value::Null), crate::value::parse_date(s)) {
            (Ok(Value::Timestamp(t)), _) => Ok(t.with_timezone(&Utc)),
            (_, Some(date)) => Ok(date_start(date).with_timezone(&Utc)),
            _ => Err(EvalError::Invalid {
                message: format!("event time `{text}` is `{s}`, not an RFC 3339 timestamp or a date"),
                span,
            }),
        },
        other => Err(EvalError::Invalid {
            message: format!(
                "event time `{text}` is {} {}, not a timestamp",
                other.type_name(),
                crate::value::Shown(other)
            ),
            span,
        }),
    }
}
