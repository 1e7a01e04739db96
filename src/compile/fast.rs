//! Rules compiled for the fast evaluation of projected records.
//!
//! Most rules compare fields with constants, look keys up in tables and quantify over
//! lists. For such a rule the compiler keeps a [`FastRule`]: each field path resolved
//! to a list of member names, each `let` inlined, and nothing else. The batch checker
//! and the server decide a rule with it when they can. An expression outside this
//! subset leaves the rule without a fast form, and the general evaluator decides it.
//! The fast form only chooses which values to compare: the comparisons, arithmetic and
//! table lookups are the general evaluator's own functions, so both give the same verdicts.

use std::cell::RefCell;
use std::collections::HashMap;

use regex::Regex;

use super::program::{CompiledLet, CompiledRule, Constant, Node, NodeKind, TableId};
use super::table::Table;
use crate::syntax::ast::{BinaryOp, CompareOp, QuantifierKind};
use crate::value::{Value, timestamp_text};

/// The `when` and `expect` conditions of one rule, in their fast form.
#[derive(Debug)]
pub struct FastRule {
    pub when: Option<Condition>,
    pub expects: Vec<Condition>,
    /// Whether the rule reads an effective-dated table, and so needs the run's event time.
    pub needs_event_time: bool,
}

/// A condition: something true or false.
#[derive(Debug)]
pub enum Condition {
    And(Box<Condition>, Box<Condition>),
    Or(Box<Condition>, Box<Condition>),
    Not(Box<Condition>),
    /// A value that must be a boolean (`outcome.approved`).
    Value(Operand),
    Compare {
        op: CompareOp,
        left: Operand,
        right: Operand,
        tolerance: Option<Tolerance>,
    },
    /// `path == "text"` or `!=`, for text not shaped like a timestamp. The record's
    /// source text is compared as it is when it has no escapes.
    TextEquals {
        value: Path,
        text: String,
        negated: bool,
    },
    Between {
        value: Operand,
        low: Operand,
        high: Operand,
        negated: bool,
    },
    /// `value in table`. For an effective-dated table, only rows in force at the event time count.
    InTable {
        value: Operand,
        table: TableId,
        negated: bool,
    },
    /// `matches` and `contains regex`: the regex decides which of the two it is.
    Regex {
        value: Operand,
        regex: Regex,
        negated: bool,
    },
    IsNull {
        value: Path,
        negated: bool,
    },
    Quantifier {
        kind: QuantifierKind,
        list: Path,
        /// The variable's position in the stack of bound elements.
        slot: usize,
        filter: Option<Box<Condition>>,
        body: Box<Condition>,
    },
}

/// `within TOLERANCE`, relative to the right side when written as a percentage.
#[derive(Debug)]
pub struct Tolerance {
    pub value: Operand,
    pub is_percent: bool,
}

/// A value: a field, a constant, a table cell or arithmetic on them.
#[derive(Debug)]
pub enum Operand {
    Path(Path),
    Constant(Constant),
    /// `table[key].field`. For an effective-dated table, the row in force at the event time.
    Cell {
        table: TableId,
        key: Box<Operand>,
        /// The field's value in each row of the table, converted once at load.
        /// `None` for a row without the field.
        values: Vec<Option<Value<'static>>>,
    },
    Arithmetic(BinaryOp, Box<Operand>, Box<Operand>),
}

/// A field path: member names read from the record or from a quantifier's element.
#[derive(Debug)]
pub struct Path {
    pub base: PathBase,
    pub fields: Vec<Box<str>>,
    /// For a path from the record, its place in the set's [`RecordPaths`].
    pub record_path: Option<RecordPathId>,
}

/// The index of a path in [`RecordPaths`].
pub type RecordPathId = u32;

/// Every path from the record that the fast rules of a set read, each one a member of
/// the record or of an earlier path. Rules share them, so evaluating all rules on one
/// run looks each path up once (`outcome` once for `outcome.total` and `outcome.sku`).
#[derive(Debug, Default)]
pub struct RecordPaths {
    /// For each path: the path it is a member of (`None`: the record) and the member name.
    pub members: Vec<(Option<RecordPathId>, Box<str>)>,
    ids: HashMap<(Option<RecordPathId>, Box<str>), RecordPathId>,
}

impl RecordPaths {
    fn id(&mut self, parent: Option<RecordPathId>, name: &str) -> RecordPathId {
        let next = self.members.len() as RecordPathId;
        let id = *self.ids.entry((parent, name.into())).or_insert(next);
        if id == next {
            self.members.push((parent, name.into()));
        }
        id
    }

    pub fn len(&self) -> usize {
        self.members.len()
    }

    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }
}

#[derive(Clone, Copy, Debug)]
pub enum PathBase {
    Record,
    /// The element bound to the quantifier variable in this slot.
    Element(usize),
}

/// Compiles `rule` to its fast form, or returns `None` when it uses anything outside
/// the subset: waivers, functions, indexes, `otherwise`, `first`, and others.
/// Adds the record paths the rule reads to `paths`.
pub fn compile_rule(
    rule: &CompiledRule,
    lets: &[CompiledLet],
    tables: &[Table],
    paths: &mut RecordPaths,
) -> Option<FastRule> {
    if !rule.waivers.is_empty() {
        return None;
    }
    let compiler = Compiler { lets, tables, paths: RefCell::new(paths) };
    let when = match &rule.when {
        Some(node) => Some(compiler.condition(node)?),
        None => None,
    };
    let expects = rule.expects.iter().map(|node| compiler.condition(node)).collect::<Option<Vec<_>>>()?;
    Some(FastRule { when, expects, needs_event_time: rule.needs_event_time })
}

struct Compiler<'s> {
    lets: &'s [CompiledLet],
    tables: &'s [Table],
    paths: RefCell<&'s mut RecordPaths>,
}

impl<'s> Compiler<'s> {
    fn condition(&self, node: &Node) -> Option<Condition> {
        let boxed = |node: &Node| self.condition(node).map(Box::new);
        Some(match &node.kind {
            NodeKind::Let(id) => self.condition(&self.lets[*id].value)?,
            NodeKind::Binary(BinaryOp::And, left, right) => Condition::And(boxed(left)?, boxed(right)?),
            NodeKind::Binary(BinaryOp::Or, left, right) => Condition::Or(boxed(left)?, boxed(right)?),
            NodeKind::Not(inner) => Condition::Not(boxed(inner)?),
            NodeKind::Compare { op, left, right, tolerance } => match self.text_comparison(*op, left, right) {
                Some((value, text)) if tolerance.is_none() => {
                    Condition::TextEquals { value, text, negated: *op == CompareOp::NotEqual }
                }
                _ => self.comparison(*op, left, right, tolerance.as_deref())?,
            },
            NodeKind::Within { value, tolerance, target } => {
                self.comparison(CompareOp::Equal, value, target, Some(tolerance))?
            }
            NodeKind::Between { value, low, high, negated } => Condition::Between {
                value: self.operand(value)?,
                low: self.operand(low)?,
                high: self.operand(high)?,
                negated: *negated,
            },
            NodeKind::In { value, collection, negated } => match collection.kind {
                NodeKind::Table(table) => Condition::InTable { value: self.operand(value)?, table, negated: *negated },
                _ => return None,
            },
            NodeKind::Matches { value, regex, negated } | NodeKind::ContainsRegex { value, regex, negated } => {
                Condition::Regex { value: self.operand(value)?, regex: regex.clone(), negated: *negated }
            }
            NodeKind::IsNull { value, negated } => Condition::IsNull { value: self.path(value)?, negated: *negated },
            NodeKind::Quantifier { kind, binding, body } => Condition::Quantifier {
                kind: *kind,
                list: self.path(&binding.collection)?,
                slot: binding.slot,
                filter: match &binding.filter {
                    Some(filter) => Some(boxed(filter)?),
                    None => None,
                },
                body: boxed(body)?,
            },
            _ => Condition::Value(self.operand(node)?),
        })
    }

    fn operand(&self, node: &Node) -> Option<Operand> {
        Some(match &node.kind {
            NodeKind::Let(id) => self.operand(&self.lets[*id].value)?,
            NodeKind::Constant(constant) => Operand::Constant(constant.clone()),
            NodeKind::RootField(_) | NodeKind::Field(..) | NodeKind::Local(_) => match &node.kind {
                NodeKind::Field(base, field) => match &self.through_lets(base).kind {
                    NodeKind::Lookup(table, key) => Operand::Cell {
                        table: *table,
                        key: Box::new(self.operand(key)?),
                        values: self.tables[*table].rows.iter().map(|row| cell_value(&row.data, field)).collect(),
                    },
                    _ => Operand::Path(self.path(node)?),
                },
                _ => Operand::Path(self.path(node)?),
            },
            NodeKind::Binary(
                op @ (BinaryOp::Add | BinaryOp::Subtract | BinaryOp::Multiply | BinaryOp::Divide),
                l,
                r,
            ) => Operand::Arithmetic(*op, Box::new(self.operand(l)?), Box::new(self.operand(r)?)),
            _ => return None,
        })
    }

    /// Returns the expression that a chain of `let` names refers to.
    fn through_lets<'n>(&self, mut node: &'n Node) -> &'n Node
    where
        's: 'n,
    {
        while let NodeKind::Let(id) = node.kind {
            node = &self.lets[id].value;
        }
        node
    }

    /// Compiles a comparison, with its tolerance if it has one.
    fn comparison(&self, op: CompareOp, left: &Node, right: &Node, tolerance: Option<&Node>) -> Option<Condition> {
        let tolerance = match tolerance {
            Some(tolerance) => {
                Some(Tolerance { value: self.operand(tolerance)?, is_percent: is_percent(self.lets, tolerance) })
            }
            None => None,
        };
        Some(Condition::Compare { op, left: self.operand(left)?, right: self.operand(right)?, tolerance })
    }

    /// Returns the path and the text of `==` or `!=` between a path and a text constant,
    /// in either order. A constant shaped like a timestamp is left to the general
    /// comparison, which compares two such texts as instants.
    fn text_comparison(&self, op: CompareOp, left: &Node, right: &Node) -> Option<(Path, String)> {
        if !matches!(op, CompareOp::Equal | CompareOp::NotEqual) {
            return None;
        }
        let (path, constant) = match (&self.through_lets(left).kind, &self.through_lets(right).kind) {
            (_, NodeKind::Constant(Constant::Text(text))) => (left, text),
            (NodeKind::Constant(Constant::Text(text)), _) => (right, text),
            _ => return None,
        };
        if timestamp_text(constant).is_some() {
            return None;
        }
        Some((self.path(path)?, constant.clone()))
    }

    fn path(&self, node: &Node) -> Option<Path> {
        match &self.through_lets(node).kind {
            NodeKind::RootField(name) => Some(Path {
                base: PathBase::Record,
                fields: vec![name.as_str().into()],
                record_path: Some(self.paths.borrow_mut().id(None, name)),
            }),
            NodeKind::Local(slot) => {
                Some(Path { base: PathBase::Element(*slot), fields: Vec::new(), record_path: None })
            }
            NodeKind::Field(base, name) => {
                let mut path = self.path(base)?;
                path.fields.push(name.as_str().into());
                path.record_path = path.record_path.map(|parent| self.paths.borrow_mut().id(Some(parent), name));
                Some(path)
            }
            _ => None,
        }
    }
}

/// Converts the member `field` of a table row as the general evaluator reads it
/// (`table[key].field`).
fn cell_value(row: &serde_json::Value, field: &str) -> Option<Value<'static>> {
    Value::from_owned_json(row.as_object()?.get(field)?.clone()).ok()
}

/// Returns whether a tolerance was written as a percentage, directly or through `let`s.
pub fn is_percent(lets: &[CompiledLet], node: &Node) -> bool {
    match &node.kind {
        NodeKind::Constant(Constant::Percent(_)) => true,
        NodeKind::Let(id) => is_percent(lets, &lets[*id].value),
        _ => false,
    }
}
