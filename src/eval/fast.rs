//! Deciding a rule of a projected record from its fast form ([`FastRule`]).
//!
//! The general evaluator pays on every node for what only some runs need: the step
//! budget, explanations, traces and worded errors. The fast form reads fields by
//! resolved paths and calls the same comparison, arithmetic and lookup functions. It
//! gives up (`None`) on anything it cannot decide plainly: a missing field, a type
//! mismatch, an overflow, a long evaluation. The general evaluator then decides the
//! rule and words the error, so a verdict never depends on which of the two decided it.

use std::borrow::Cow;

use chrono::{DateTime, Utc};

use super::expr::{arithmetic, compare_with, constant_value, within_tolerance};
use super::{SkipReason, Verdict};
use crate::compile::fast::{Condition, FastRule, Operand, Path, PathBase, RecordPathId};
use crate::compile::{PolicySet, TableId};
use crate::diagnostic::Span;
use crate::document::NodeRef;
use crate::syntax::ast::{CompareOp, QuantifierKind};
use crate::value::{Value, key_text};

/// Maximum steps of one rule on one run before the general evaluator takes over. A step
/// is a condition, a value or a member read, which the general evaluator counts alike.
/// So a run that comes near [`super::EVALUATION_BUDGET`] is decided there, with its error.
const STEP_LIMIT: u64 = super::EVALUATION_BUDGET / 8;

/// The paths of [`PolicySet::record_paths`] looked up so far on one run, shared by its
/// rules: `None` until looked up, then the member, or `None` when it is missing.
pub type PathCache<'a> = Vec<Option<Option<NodeRef<'a>>>>;

/// Returns an empty [`PathCache`] for a run checked by the fast rules of `set`.
pub fn path_cache<'a>(set: &PolicySet) -> PathCache<'a> {
    vec![None; set.record_paths.len()]
}

/// Decides `rule` on the projected record `root`: pass, fail or skip because its
/// `when` is false. `event_time` is the run's, for a rule that reads an effective-dated
/// table, and `paths` caches the record paths that earlier rules looked up on this run.
/// Returns `None` when the general evaluator must decide.
pub fn decide<'a>(
    set: &'a PolicySet,
    rule: &'a FastRule,
    root: NodeRef<'a>,
    event_time: Option<DateTime<Utc>>,
    paths: &mut PathCache<'a>,
) -> Option<Verdict> {
    let mut run = FastRun { set, root, event_time, elements: Vec::new(), steps: 0, last_lookup: None, paths };
    if let Some(when) = &rule.when {
        if !run.condition(when)? {
            return Some(Verdict::Skip(SkipReason::ConditionFalse));
        }
    }
    let mut failed = false;
    for expect in &rule.expects {
        failed |= !run.condition(expect)?;
    }
    Some(if failed { Verdict::Fail } else { Verdict::Pass })
}

struct FastRun<'a, 'p> {
    set: &'a PolicySet,
    root: NodeRef<'a>,
    event_time: Option<DateTime<Utc>>,
    /// The elements bound to quantifier variables, by slot.
    elements: Vec<NodeRef<'a>>,
    steps: u64,
    /// The last table lookup of a key read from the record, and the position of its row:
    /// `x in t and t[x].min <= ...` looks the same key up again.
    last_lookup: Option<(TableId, &'a str, Option<usize>)>,
    paths: &'p mut PathCache<'a>,
}

impl<'a> FastRun<'a, '_> {
    fn step(&mut self) -> Option<()> {
        self.steps += 1;
        (self.steps <= STEP_LIMIT).then_some(())
    }

    fn condition(&mut self, condition: &'a Condition) -> Option<bool> {
        self.step()?;
        match condition {
            Condition::And(left, right) => Some(self.condition(left)? && self.condition(right)?),
            Condition::Or(left, right) => Some(self.condition(left)? || self.condition(right)?),
            Condition::Not(inner) => Some(!self.condition(inner)?),
            Condition::Value(operand) => match self.operand(operand)? {
                Value::Bool(value) => Some(value),
                _ => None,
            },
            Condition::Compare { op, left, right, tolerance } => {
                let (left, right) = (self.operand(left)?, self.operand(right)?);
                match tolerance {
                    None => compare_with(*op, &left, &right, Span::default()).ok(),
                    Some(tolerance) => {
                        let allowed = self.operand(&tolerance.value)?;
                        let close =
                            within_tolerance(&left, &right, &allowed, tolerance.is_percent, Span::default(), "")
                                .ok()?;
                        match op {
                            CompareOp::Equal => Some(close),
                            CompareOp::NotEqual => Some(!close),
                            _ => None,
                        }
                    }
                }
            }
            Condition::TextEquals { value, text, negated } => {
                let member = self.read(value)?;
                let equal = match member.plain_text() {
                    Some(content) => content == text,
                    // Escaped text, or not text at all: the general comparison decides.
                    None => {
                        let constant = Value::Text(Cow::Borrowed(text));
                        compare_with(CompareOp::Equal, &member.to_value().ok()?, &constant, Span::default()).ok()?
                    }
                };
                Some(equal != *negated)
            }
            Condition::Between { value, low, high, negated } => {
                let (value, low, high) = (self.operand(value)?, self.operand(low)?, self.operand(high)?);
                let inside = compare_with(CompareOp::GreaterOrEqual, &value, &low, Span::default()).ok()?
                    && compare_with(CompareOp::LessOrEqual, &value, &high, Span::default()).ok()?;
                Some(inside != *negated)
            }
            Condition::InTable { value, table, negated } => {
                let value = self.operand(value)?;
                let found = match self.position(*table, &value) {
                    Some(position) => position.is_some(),
                    None if matches!(value, Value::Null) => false,
                    None => return None,
                };
                Some(found != *negated)
            }
            Condition::Regex { value, regex, negated } => match self.operand(value)? {
                Value::Text(text) => Some(regex.is_match(&text) != *negated),
                _ => None,
            },
            Condition::IsNull { value, negated } => Some(self.read(value)?.is_null() != *negated),
            Condition::Quantifier { kind, list, slot, filter, body } => {
                self.quantifier(*kind, list, *slot, filter.as_deref(), body)
            }
        }
    }

    /// Decides `any`, `all` or `none` over the elements of a list of the record.
    fn quantifier(
        &mut self,
        kind: QuantifierKind,
        list: &'a Path,
        slot: usize,
        filter: Option<&'a Condition>,
        body: &'a Condition,
    ) -> Option<bool> {
        let list = self.read(list)?;
        if !list.is_list() {
            return None;
        }
        // Inner quantifiers bind later slots. The slot is this quantifier's own, so the
        // elements of enclosing quantifiers stay bound.
        if self.elements.len() < slot {
            return None;
        }
        let looking_for = kind != QuantifierKind::All;
        let mut found = false;
        for element in list.items() {
            self.elements.truncate(slot);
            self.elements.push(element);
            if let Some(filter) = filter {
                if !self.condition(filter)? {
                    continue;
                }
            }
            if self.condition(body)? == looking_for {
                found = true;
                break;
            }
        }
        self.elements.truncate(slot);
        Some(match kind {
            QuantifierKind::Any => found,
            QuantifierKind::All | QuantifierKind::None => !found,
        })
    }

    fn operand(&mut self, operand: &'a Operand) -> Option<Value<'a>> {
        self.step()?;
        match operand {
            Operand::Path(path) => self.read(path)?.to_value().ok(),
            Operand::Constant(constant) => Some(constant_value(constant)),
            Operand::Cell { table, key, values } => {
                let key = self.operand(key)?;
                let position = self.position(*table, &key)??;
                match values[position].as_ref()? {
                    Value::Text(text) => Some(Value::Text(Cow::Borrowed(text))),
                    value => Some(value.clone()),
                }
            }
            Operand::Arithmetic(op, left, right) => {
                let (left, right) = (self.operand(left)?, self.operand(right)?);
                arithmetic(*op, &left, &right, Span::default(), "").ok()
            }
        }
    }

    /// Returns the position of the row of `key` in `table`, `Some(None)` when the table
    /// has no such key, and `None` when `key` is no table key (a list, an object).
    fn position(&mut self, table: TableId, key: &Value<'a>) -> Option<Option<usize>> {
        let borrowed = match key {
            Value::Text(Cow::Borrowed(text)) => Some(*text),
            _ => None,
        };
        if let (Some(text), Some((last_table, last_key, position))) = (borrowed, self.last_lookup) {
            if last_table == table && last_key == text {
                return Some(position);
            }
        }
        let table_data = &self.set.tables[table];
        let at = if table_data.effective { Some(self.event_time?) } else { None };
        let position = table_data.position(&key_text(key)?, at);
        if let Some(text) = borrowed {
            self.last_lookup = Some((table, text, position));
        }
        Some(position)
    }

    /// Returns the member a path names, or `None` when it is missing or a step of the
    /// path is not an object.
    fn read(&mut self, path: &Path) -> Option<NodeRef<'a>> {
        self.steps += path.fields.len() as u64;
        if let Some(id) = path.record_path {
            return self.record_path(id);
        }
        let mut node = match path.base {
            PathBase::Record => self.root,
            PathBase::Element(slot) => *self.elements.get(slot)?,
        };
        for field in &path.fields {
            node = node.get(field)?;
        }
        Some(node)
    }

    /// Returns the member that the record path `id` names, looking it up only once per run.
    fn record_path(&mut self, id: RecordPathId) -> Option<NodeRef<'a>> {
        if let Some(found) = self.paths[id as usize] {
            return found;
        }
        let (parent, name) = &self.set.record_paths.members[id as usize];
        let base = match parent {
            Some(parent) => self.record_path(*parent),
            None => Some(self.root),
        };
        let found = base.and_then(|base| base.get(name));
        self.paths[id as usize] = Some(found);
        found
    }
}
