//! Expression evaluation: one small function per kind of node.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::sync::Arc;

use chrono::TimeDelta;
use rust_decimal::Decimal;
use serde_json::Value as Json;

use super::EvalError;
use super::context::{Context, Local, Record};
use super::trace::{Observation, RowInfo};
use crate::compile::{CompiledBinding, Constant, Lookup, Node, NodeKind, Row, Table, TableId};
use crate::document::NodeRef;
use crate::syntax::ast::{BinaryOp, CompareOp, FindKind, OrderOp, QuantifierKind, TextOp};
use crate::value::{
    Comparison, JsonRef, Shown, Value, coerce_text, compare, date_start, key_text, loosely_equal, timestamp_text,
};

type Eval<'a> = Result<Value<'a>, EvalError>;

/// Elements of a quantifier whose reads are kept in an explanation; the rest are counted.
const TRACED_ELEMENTS: usize = 3;

pub(super) fn invalid(message: impl Into<String>, span: crate::diagnostic::Span) -> EvalError {
    EvalError::Invalid { message: message.into(), span }
}

impl<'a> Context<'a> {
    pub fn eval(&mut self, node: &'a Node) -> Eval<'a> {
        if !self.explain_enter() {
            return self.eval_node(node);
        }
        let result = self.eval_node(node);
        self.explain_exit(node, &result);
        result
    }

    fn eval_node(&mut self, node: &'a Node) -> Eval<'a> {
        self.tick(node.span)?;
        match &node.kind {
            NodeKind::Constant(constant) => Ok(constant_value(constant)),
            NodeKind::List(items) => {
                let values = items.iter().map(|item| self.eval(item)).collect::<Result<Vec<_>, _>>()?;
                Ok(Value::List(Arc::new(values)))
            }
            NodeKind::Local(slot) => Ok(self.locals[*slot].value.clone()),
            NodeKind::Let(id) => {
                let value = &self.set.lets[*id].value;
                self.eval(value)
            }
            NodeKind::Record => Ok(match self.record {
                Record::Json(json) => Value::Json(JsonRef::Borrowed(json)),
                Record::Document(root) => Value::Document(root),
            }),
            NodeKind::RootField(name) => self.eval_root_field(node, name),
            NodeKind::Field(base, name) => self.eval_field(node, base, name),
            NodeKind::Index(base, index) => self.eval_index(node, base, index),
            NodeKind::Table(_) => Err(invalid("a table is not a value", node.span)),
            NodeKind::Lookup(table, key) => self.eval_lookup(node, *table, key),
            NodeKind::Call(function, args) => self.eval_call(node, *function, args),
            NodeKind::Not(inner) => Ok(Value::Bool(!self.condition(inner)?)),
            NodeKind::Negate(inner) => self.eval_negate(inner),
            NodeKind::Binary(BinaryOp::And, left, right) => self.eval_and_or(left, right, false),
            NodeKind::Binary(BinaryOp::Or, left, right) => self.eval_and_or(left, right, true),
            NodeKind::Binary(op, left, right) => {
                let l = self.eval(left)?;
                let r = self.eval(right)?;
                arithmetic(*op, &l, &r, node.span, self.text(node.span))
            }
            NodeKind::Compare { op, left, right, tolerance } => {
                self.eval_compare(node, *op, left, right, tolerance.as_deref())
            }
            NodeKind::Within { value, tolerance, target } => {
                self.eval_compare(node, CompareOp::Equal, value, target, Some(tolerance))
            }
            NodeKind::Between { value, low, high, negated } => self.eval_between(node, value, low, high, *negated),
            NodeKind::In { value, collection, negated } => {
                let found = self.eval_in(node, value, collection)?;
                Ok(Value::Bool(found != *negated))
            }
            NodeKind::Matches { value, regex, negated } | NodeKind::ContainsRegex { value, regex, negated } => {
                let text = self.eval_text(value, "a regex")?;
                Ok(Value::Bool(regex.is_match(&text) != *negated))
            }
            NodeKind::Text { op, value, pattern, negated } => self.eval_text_op(node, *op, value, pattern, *negated),
            NodeKind::Exists { value, negated } => Ok(Value::Bool(self.is_present(value)? != *negated)),
            NodeKind::IsMissing { value, negated } => Ok(Value::Bool(self.is_present(value)? == *negated)),
            NodeKind::IsNull { value, negated } => {
                let is_null = match self.read_document_member(value) {
                    Some(member) => member.is_null(),
                    None => matches!(self.eval(value)?.unwrap_element(), Value::Null),
                };
                Ok(Value::Bool(is_null != *negated))
            }
            NodeKind::Otherwise(value, fallback) => match self.eval(value) {
                Err(EvalError::Missing { .. }) => self.eval(fallback),
                other => other,
            },
            NodeKind::If { condition, then, otherwise } => {
                if self.condition(condition)? {
                    self.eval(then)
                } else {
                    self.eval(otherwise)
                }
            }
            NodeKind::Quantifier { kind, binding, body } => self.eval_quantifier(node, *kind, binding, body),
            NodeKind::Count(binding) => self.eval_count(node, binding),
            NodeKind::Find { kind, binding } => self.eval_find(*kind, binding),
            NodeKind::Comprehension { element, binding } => self.eval_comprehension(element, binding),
            NodeKind::Order { op, left, right } => self.eval_order(node, *op, left, right),
        }
    }

    // ------------------------------------------------------------ reading the record

    fn eval_root_field(&mut self, node: &'a Node, name: &str) -> Eval<'a> {
        let value = match self.record {
            Record::Json(json) => json.get(name).map(|child| self.json_value(child, node)),
            Record::Document(root) => root.get(name).map(|child| self.document_value(child, node)),
        };
        let Some(value) = value else {
            return Err(EvalError::Missing { what: format!("field `{name}`"), span: node.span });
        };
        let value = value?;
        self.observe_read(node, &value);
        Ok(value)
    }

    fn eval_field(&mut self, node: &'a Node, base: &'a Node, name: &str) -> Eval<'a> {
        if let Some(value) = self.read_document_path(node) {
            return value;
        }
        let base_value = self.eval(base)?;
        let value = match base_value.unwrap_element() {
            Value::Json(JsonRef::Borrowed(Json::Object(object))) => match object.get(name) {
                Some(child) => self.json_value(child, node)?,
                None => return Err(self.missing_field(node, base)),
            },
            Value::Json(JsonRef::Owned(json)) => match json.get(name) {
                Some(child) => Value::from_owned_json(child.clone()).map_err(|e| out_of_range(&e.0, node))?,
                None => return Err(self.missing_field(node, base)),
            },
            Value::Document(object) if object.is_object() => match object.get(name) {
                Some(child) => self.document_value(child, node)?,
                None => return Err(self.missing_field(node, base)),
            },
            Value::Null => {
                let why = if matches!(base.kind, NodeKind::Find { .. }) {
                    format!("no element matched `{}`", self.text(base.span))
                } else {
                    format!("`{}` is null", self.text(base.span))
                };
                return Err(EvalError::Missing {
                    what: format!("field `{}` ({why})", self.text(node.span)),
                    span: node.span,
                });
            }
            other => {
                return Err(invalid(
                    format!(
                        "`{}` is {} {}, so it has no field `{name}`",
                        self.text(base.span),
                        other.type_name(),
                        Shown(other)
                    ),
                    node.span,
                ));
            }
        };
        self.observe_read(node, &value);
        Ok(value)
    }

    /// Reads a path of field names (`outcome.vendor.id`, `s.output.catalog`) of a
    /// projected record in one walk, without a value for each object on the way.
    /// Returns `None` while tracing, or when the walk meets anything but objects that
    /// contain the wanted members. The general evaluation then gives the exact verdict
    /// or error.
    fn read_document_path(&mut self, node: &'a Node) -> Option<Eval<'a>> {
        if !self.unobserved() {
            return None;
        }
        let mut depth = 0;
        let found = self.document_member(node, &mut depth)?;
        // `node` itself was counted by the caller; the general evaluation would count
        // each base once more.
        if !self.tick_many(depth - 1) {
            return None;
        }
        Some(self.document_value(found, node))
    }

    /// Returns the member of a projected record that the path `node` denotes, without
    /// converting it to a value, and counts the steps that evaluating `node` would count.
    /// `exists` and `is null` use it because converting a whole array or object parses
    /// its source text. Returns `None` while tracing or when the path needs the general
    /// evaluation.
    pub(super) fn read_document_member(&mut self, node: &'a Node) -> Option<NodeRef<'a>> {
        self.read_document_member_if(node, 0, |_| true)
    }

    /// Does what [`Self::read_document_member`] does when `accept` takes the member,
    /// counting `more` steps besides the path's, and nothing otherwise.
    pub(super) fn read_document_member_if(
        &mut self,
        node: &'a Node,
        more: u64,
        accept: impl FnOnce(&NodeRef<'a>) -> bool,
    ) -> Option<NodeRef<'a>> {
        if !self.unobserved() {
            return None;
        }
        let mut depth = 0;
        let found = self.document_member(node, &mut depth)?;
        (accept(&found) && self.tick_many(depth + more)).then_some(found)
    }

    /// Returns the member of a projected record that a path of field names denotes.
    /// `depth` counts the nodes walked.
    fn document_member(&self, node: &'a Node, depth: &mut u64) -> Option<NodeRef<'a>> {
        *depth += 1;
        match &node.kind {
            NodeKind::RootField(name) => match self.record {
                Record::Document(root) => root.get(name),
                Record::Json(_) => None,
            },
            NodeKind::Field(base, name) => self.document_member(base, depth)?.get(name),
            NodeKind::Local(slot) => match self.locals.get(*slot)?.value {
                Value::Document(object) => Some(object),
                _ => None,
            },
            _ => None,
        }
    }

    fn missing_field(&self, node: &Node, base: &Node) -> EvalError {
        let context = self.binding_context(base);
        EvalError::Missing { what: format!("field `{}`{context}", self.text(node.span)), span: node.span }
    }

    /// ` (in s = steps[3])` when the path starts at a quantifier variable.
    fn binding_context(&self, node: &Node) -> String {
        let mut root = node;
        loop {
            match &root.kind {
                NodeKind::Field(base, _) | NodeKind::Index(base, _) => root = base,
                NodeKind::Local(slot) => {
                    let local = &self.locals[*slot];
                    let name = self.text(root.span);
                    return format!(" (in element {} bound to `{name}`)", local.index);
                }
                _ => return String::new(),
            }
        }
    }

    fn eval_index(&mut self, node: &'a Node, base: &'a Node, index: &'a Node) -> Eval<'a> {
        let base_value = self.eval(base)?;
        let index_value = self.eval(index)?;
        let value = match (base_value.unwrap_element(), index_value.unwrap_element()) {
            (Value::Json(JsonRef::Borrowed(Json::Object(object))), Value::Text(key)) => {
                match object.get(key.as_ref()) {
                    Some(child) => self.json_value(child, node)?,
                    None => return Err(self.missing_field(node, base)),
                }
            }
            (Value::Document(object), Value::Text(key)) if object.is_object() => match object.get(key.as_ref()) {
                Some(child) => self.document_value(child, node)?,
                None => return Err(self.missing_field(node, base)),
            },
            (list, Value::Number(n)) => {
                let len = match list {
                    Value::Json(json) => json.get().as_array().map(Vec::len),
                    Value::Document(items) => items.is_list().then(|| items.len()),
                    Value::List(items) => Some(items.len()),
                    _ => None,
                }
                .ok_or_else(|| {
                    invalid(format!("`{}` is {}, not a list", self.text(base.span), list.type_name()), node.span)
                })?;
                let position = list_position(*n, len).ok_or_else(|| {
                    if n.fract().is_zero() {
                        EvalError::Missing {
                            what: format!("element {} of `{}` ({len} elements)", n, self.text(base.span)),
                            span: node.span,
                        }
                    } else {
                        invalid(format!("list index {n} is not a whole number"), index.span)
                    }
                })?;
                match list {
                    Value::Json(JsonRef::Borrowed(Json::Array(items))) => self.json_value(&items[position], node)?,
                    Value::Json(JsonRef::Owned(json)) => {
                        Value::from_owned_json(json[position].clone()).map_err(|e| out_of_range(&e.0, node))?
                    }
                    Value::Document(items) => {
                        let item = items.items().nth(position).expect("position is below the length");
                        self.document_value(item, node)?
                    }
                    Value::List(items) => items[position].clone(),
                    _ => unreachable!("length found above"),
                }
            }
            (base_kind, key) => {
                return Err(invalid(
                    format!(
                        "cannot index {} `{}` with {} {}",
                        base_kind.type_name(),
                        self.text(base.span),
                        key.type_name(),
                        Shown(key)
                    ),
                    node.span,
                ));
            }
        };
        self.observe_read(node, &value);
        Ok(value)
    }

    /// Converts a JSON child of the record (or of a reference row) to a value.
    fn json_value(&self, json: &'a Json, node: &Node) -> Eval<'a> {
        Value::from_json(json).map_err(|e| out_of_range(&e.0, node))
    }

    /// Converts a member of a projected record to a value.
    fn document_value(&self, child: NodeRef<'a>, node: &Node) -> Eval<'a> {
        child.to_value().map_err(|e| out_of_range(&e.0, node))
    }

    fn observe_read(&mut self, node: &Node, value: &Value<'_>) {
        if !self.tracing() || matches!(value.unwrap_element(), Value::Json(_) | Value::Document(_)) {
            return;
        }
        let bindings = self.binding_descriptions();
        self.observe(Observation::Read {
            expression: self.text(node.span).to_string(),
            value: value.to_json(),
            bindings,
        });
    }

    fn is_present(&mut self, node: &'a Node) -> Result<bool, EvalError> {
        if self.read_document_member(node).is_some() {
            return Ok(true);
        }
        match self.eval(node) {
            Ok(_) => Ok(true),
            Err(EvalError::Missing { .. }) => Ok(false),
            Err(other) => Err(other),
        }
    }

    // ------------------------------------------------------------ reference data

    fn eval_lookup(&mut self, node: &'a Node, table_id: TableId, key_node: &'a Node) -> Eval<'a> {
        let key_value = self.eval(key_node)?;
        let table = &self.set.tables[table_id];
        let key = key_text(&key_value).ok_or_else(|| {
            invalid(
                format!(
                    "`{}` is {} {}; table keys are text or numbers",
                    self.text(key_node.span),
                    key_value.type_name(),
                    Shown(&key_value)
                ),
                key_node.span,
            )
        })?;
        let at = if table.effective { Some(self.event_time()?) } else { None };
        match table.lookup(&key, at) {
            Lookup::Found(row) => {
                if self.tracing() {
                    self.observe(Observation::Lookup {
                        table: table.name.clone(),
                        key: key.to_string(),
                        row: row_info(table, row),
                    });
                }
                Value::from_json(&row.data).map_err(|e| out_of_range(&e.0, node))
            }
            Lookup::NotInForce { rows } => Err(EvalError::Missing {
                what: format!(
                    "key `{key}` in table `{}` at {} (its rows are valid {})",
                    table.name,
                    at.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)).unwrap_or_default(),
                    rows.iter().map(|row| validity_text(row)).collect::<Vec<_>>().join(", ")
                ),
                span: node.span,
            }),
            Lookup::Absent => {
                Err(EvalError::Missing { what: format!("key `{key}` in table `{}`", table.name), span: node.span })
            }
        }
    }

    fn eval_in(&mut self, node: &'a Node, value_node: &'a Node, collection: &'a Node) -> Result<bool, EvalError> {
        let value = self.eval(value_node)?;
        if let NodeKind::Table(table_id) = collection.kind {
            return self.eval_membership(node, value_node, &value, table_id);
        }
        let container = self.eval(collection)?;
        match container.unwrap_element() {
            Value::Text(haystack) => match value.unwrap_element() {
                Value::Text(needle) => Ok(haystack.contains(needle.as_ref())),
                other => {
                    Err(invalid(format!("`in` text needs text on the left, found {}", other.type_name()), node.span))
                }
            },
            Value::Json(json) if json.get().is_object() => Ok(key_text(&value)
                .is_some_and(|key| json.get().as_object().is_some_and(|o| o.contains_key(key.as_ref())))),
            Value::Document(object) if object.is_object() => {
                Ok(key_text(&value).is_some_and(|key| object.get(&key).is_some()))
            }
            list => match list.list_items() {
                Some(items) => Ok(items.iter().any(|item| loosely_equal(&value, item))),
                None => Err(invalid(
                    format!(
                        "`{}` is {} {}, not a list, table or text",
                        self.text(collection.span),
                        list.type_name(),
                        Shown(list)
                    ),
                    collection.span,
                )),
            },
        }
    }

    fn eval_membership(
        &mut self,
        node: &'a Node,
        value_node: &'a Node,
        value: &Value<'a>,
        table_id: TableId,
    ) -> Result<bool, EvalError> {
        let table = &self.set.tables[table_id];
        let Some(key) = key_text(value) else {
            if matches!(value.unwrap_element(), Value::Null) {
                return Ok(false);
            }
            return Err(invalid(
                format!(
                    "`{}` is {} {}; table keys are text or numbers",
                    self.text(value_node.span),
                    value.type_name(),
                    Shown(value)
                ),
                node.span,
            ));
        };
        let at = if table.effective { Some(self.event_time()?) } else { None };
        let lookup = table.lookup(&key, at);
        let found = matches!(lookup, Lookup::Found(_));
        if self.tracing() {
            let (row, rows_not_in_force) = match &lookup {
                Lookup::Found(row) => (Some(row_info(table, row)), Vec::new()),
                Lookup::NotInForce { rows } => (None, rows.iter().map(|row| row_info(table, row)).collect()),
                Lookup::Absent => (None, Vec::new()),
            };
            self.observe(Observation::Membership {
                expression: self.text(value_node.span).to_string(),
                value: value.to_json(),
                table: table.name.clone(),
                found,
                row,
                rows_not_in_force,
                event_time: at.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)),
            });
        }
        Ok(found)
    }

    // ------------------------------------------------------------ logic and comparison

    /// `and` / `or` with errors that do not matter ignored: `false and <error>` is false
    /// and `true or <error>` is true, in either order.
    fn eval_and_or(&mut self, left: &'a Node, right: &'a Node, is_or: bool) -> Eval<'a> {
        let decisive = is_or;
        match self.condition(left) {
            Ok(l) if l == decisive => Ok(Value::Bool(decisive)),
            Ok(_) => Ok(Value::Bool(self.condition(right)?)),
            Err(error) => match self.condition(right) {
                Ok(r) if r == decisive => Ok(Value::Bool(decisive)),
                _ => Err(error),
            },
        }
    }

    fn eval_compare(
        &mut self,
        node: &'a Node,
        op: CompareOp,
        left: &'a Node,
        right: &'a Node,
        tolerance: Option<&'a Node>,
    ) -> Eval<'a> {
        if tolerance.is_none()
            && matches!(op, CompareOp::Equal | CompareOp::NotEqual)
            && let NodeKind::Constant(Constant::Text(constant)) = &right.kind
            && let Some(equal) = self.document_text_equals(left, constant)
        {
            return Ok(Value::Bool(equal == (op == CompareOp::Equal)));
        }
        let l = self.eval(left)?;
        let r = self.eval(right)?;
        let held = match tolerance {
            Some(tolerance) => {
                let tolerance_value = self.eval(tolerance)?;
                let is_percent = crate::compile::fast::is_percent(&self.set.lets, tolerance);
                let close = within_tolerance(&l, &r, &tolerance_value, is_percent, node.span, self.text(node.span))?;
                match op {
                    CompareOp::Equal => close,
                    CompareOp::NotEqual => !close,
                    _ => return Err(invalid("a tolerance (`within`) applies only to `==` and `!=`", node.span)),
                }
            }
            None => compare_with(op, &l, &r, node.span)?,
        };
        if self.tracing() {
            self.observe(Observation::Comparison {
                expression: self.text(node.span).to_string(),
                left: l.to_json(),
                right: r.to_json(),
                held,
            });
        }
        Ok(Value::Bool(held))
    }

    /// Compares a text field of a projected record with a text constant, as `==` does,
    /// straight from the record's source text. Returns `None` while tracing and in the
    /// cases that need the general comparison: a value that is not plain text, or a
    /// constant shaped like a timestamp (two timestamps compare as instants).
    fn document_text_equals(&mut self, left: &'a Node, constant: &str) -> Option<bool> {
        if timestamp_text(constant).is_some() {
            return None;
        }
        let content = |member: &NodeRef<'a>| member.plain_text();
        // The general evaluation counts the path's nodes and the constant.
        let member = self.read_document_member_if(left, 1, |member| content(member).is_some())?;
        Some(content(&member) == Some(constant))
    }

    fn eval_between(
        &mut self,
        node: &'a Node,
        value: &'a Node,
        low: &'a Node,
        high: &'a Node,
        negated: bool,
    ) -> Eval<'a> {
        let v = self.eval(value)?;
        let lo = self.eval(low)?;
        let hi = self.eval(high)?;
        let inside = compare_with(CompareOp::GreaterOrEqual, &v, &lo, node.span)?
            && compare_with(CompareOp::LessOrEqual, &v, &hi, node.span)?;
        if self.tracing() {
            self.observe(Observation::Comparison {
                expression: self.text(node.span).to_string(),
                left: v.to_json(),
                right: Json::Array(vec![lo.to_json(), hi.to_json()]),
                held: inside != negated,
            });
        }
        Ok(Value::Bool(inside != negated))
    }

    fn eval_text(&mut self, node: &'a Node, purpose: &str) -> Result<Cow<'a, str>, EvalError> {
        match self.eval(node)? {
            Value::Text(text) => Ok(text),
            Value::Element { item, .. } => match *item {
                Value::Text(text) => Ok(text),
                other => Err(not_text(self.text(node.span), &other, purpose, node)),
            },
            other => Err(not_text(self.text(node.span), &other, purpose, node)),
        }
    }

    fn eval_text_op(
        &mut self,
        node: &'a Node,
        op: TextOp,
        value: &'a Node,
        pattern: &'a Node,
        negated: bool,
    ) -> Eval<'a> {
        let subject = self.eval(value)?;
        let needle = self.eval(pattern)?;
        if op == TextOp::Contains {
            if let Some(items) = subject.list_items() {
                return Ok(Value::Bool(items.iter().any(|item| loosely_equal(item, &needle)) != negated));
            }
        }
        let (Value::Text(haystack), Value::Text(needle_text)) = (subject.unwrap_element(), needle.unwrap_element())
        else {
            return Err(invalid(
                format!(
                    "`{}` needs text on both sides, found {} {} and {} {}",
                    op.words(),
                    subject.type_name(),
                    Shown(&subject),
                    needle.type_name(),
                    Shown(&needle)
                ),
                node.span,
            ));
        };
        let result = match op {
            TextOp::StartsWith => haystack.starts_with(needle_text.as_ref()),
            TextOp::EndsWith => haystack.ends_with(needle_text.as_ref()),
            TextOp::Contains => haystack.contains(needle_text.as_ref()),
        };
        Ok(Value::Bool(result != negated))
    }

    fn eval_negate(&mut self, inner: &'a Node) -> Eval<'a> {
        match self.eval(inner)?.unwrap_element() {
            Value::Number(n) => Ok(Value::Number(-*n)),
            Value::Duration(d) => Ok(Value::Duration(-*d)),
            other => Err(invalid(format!("cannot negate {} {}", other.type_name(), Shown(other)), inner.span)),
        }
    }

    fn eval_order(&mut self, node: &'a Node, op: OrderOp, left: &'a Node, right: &'a Node) -> Eval<'a> {
        let l = self.eval(left)?;
        let r = self.eval(right)?;
        let position = |value: &Value<'_>| match value {
            Value::Element { index, .. } => Ok(Some(*index)),
            Value::Null => Ok(None),
            _ => Err(()),
        };
        let (Ok(left_index), Ok(right_index)) = (position(&l), position(&r)) else {
            return Err(invalid(
                "`before` and `after` compare elements found with `first ... in ... where ...` or `last ...`",
                node.span,
            ));
        };
        let held = match (left_index, right_index) {
            (Some(a), Some(b)) => {
                if op == OrderOp::Before {
                    a < b
                } else {
                    a > b
                }
            }
            _ => false,
        };
        if self.tracing() {
            self.observe(Observation::Order {
                left: self.text(left.span).to_string(),
                left_index,
                right: self.text(right.span).to_string(),
                right_index,
                held,
            });
        }
        Ok(Value::Bool(held))
    }

    // ------------------------------------------------------------ quantifiers

    /// Evaluates a binding's list and calls `visit` for every element that passes the
    /// filter, with the variable in scope; `visit` returns `false` to stop early.
    /// Returns the list length and how many elements passed the filter. With `strict`,
    /// a filter error ends the walk at once, because `first` must not skip an element it
    /// cannot judge. Otherwise filter errors are returned unless `visit` stopped first.
    fn for_each_element(
        &mut self,
        binding: &'a CompiledBinding,
        strict: bool,
        visit: impl FnMut(&mut Self, usize) -> Result<bool, EvalError>,
    ) -> Result<(usize, usize), EvalError> {
        let list = self.eval(&binding.collection)?;
        // A list of a projected record is walked in place. Any other list is collected.
        if let Value::Document(elements) = list.unwrap_element() {
            if elements.is_list() {
                let node = &binding.collection;
                let items = elements.items().map(|item| item.to_value().map_err(|e| out_of_range(&e.0, node)));
                return self.walk_elements(binding, strict, items, visit);
            }
        }
        let items = self.items_of(&list, &binding.collection)?;
        self.walk_elements(binding, strict, items.into_iter().map(Ok), visit)
    }

    /// Visits `items`, the elements of a binding's list, for [`Self::for_each_element`].
    fn walk_elements(
        &mut self,
        binding: &'a CompiledBinding,
        strict: bool,
        items: impl ExactSizeIterator<Item = Eval<'a>>,
        mut visit: impl FnMut(&mut Self, usize) -> Result<bool, EvalError>,
    ) -> Result<(usize, usize), EvalError> {
        let total = items.len();
        let mut considered = 0;
        let mut first_error = None;
        let description_base =
            self.tracing().then(|| format!("{} = {}", binding.variable, self.text(binding.collection.span)));
        for (index, item) in items.enumerate() {
            let item = match item {
                Ok(item) => item,
                Err(error) => {
                    self.locals.truncate(binding.slot);
                    return Err(error);
                }
            };
            let description = description_base.as_ref().map(|base| format!("{base}[{index}]"));
            self.locals.truncate(binding.slot);
            self.locals.push(Local { value: item, index, description });
            self.muted += 1;
            let filtered = binding.filter.as_ref().map(|filter| self.condition(filter));
            self.muted -= 1;
            let passes = match filtered {
                Some(result) => match result {
                    Ok(passes) => passes,
                    Err(error) if strict => {
                        self.locals.truncate(binding.slot);
                        return Err(error);
                    }
                    Err(error) => {
                        first_error.get_or_insert(error);
                        continue;
                    }
                },
                None => true,
            };
            if !passes {
                continue;
            }
            considered += 1;
            let mute = considered > TRACED_ELEMENTS;
            self.muted += usize::from(mute);
            let visited = visit(self, index);
            self.muted -= usize::from(mute);
            match visited {
                Ok(true) => {}
                Ok(false) => {
                    self.locals.truncate(binding.slot);
                    return Ok((total, considered));
                }
                Err(error) => {
                    first_error.get_or_insert(error);
                }
            }
        }
        self.locals.truncate(binding.slot);
        match first_error {
            Some(error) => Err(error),
            None => Ok((total, considered)),
        }
    }

    fn items_of(&self, list: &Value<'a>, node: &Node) -> Result<Vec<Value<'a>>, EvalError> {
        match list.unwrap_element() {
            Value::List(items) => Ok(items.iter().cloned().collect()),
            Value::Json(JsonRef::Borrowed(Json::Array(items))) => {
                items.iter().map(|item| Value::from_json(item).map_err(|e| out_of_range(&e.0, node))).collect()
            }
            Value::Json(JsonRef::Owned(json)) if json.is_array() => json
                .as_array()
                .expect("checked")
                .iter()
                .map(|item| Value::from_owned_json(item.clone()).map_err(|e| out_of_range(&e.0, node)))
                .collect(),
            other => Err(invalid(
                format!("`{}` is {} {}, not a list", self.text(node.span), other.type_name(), Shown(other)),
                node.span,
            )),
        }
    }

    /// Evaluates `any`, `all` or `none`. `any` is true as soon as one element satisfies
    /// the body, even if another element errors, and `all` is false as soon as one does
    /// not. Otherwise an element's error is the result.
    fn eval_quantifier(
        &mut self,
        node: &'a Node,
        kind: QuantifierKind,
        binding: &'a CompiledBinding,
        body: &'a Node,
    ) -> Eval<'a> {
        let looking_for = kind != QuantifierKind::All;
        let mut satisfied = 0;
        let mut witness = None;
        let result = self.for_each_element(binding, false, |context, index| {
            let holds = context.condition(body)?;
            if holds {
                satisfied += 1;
            }
            if holds == looking_for {
                witness = Some(index);
                return Ok(false);
            }
            Ok(true)
        });
        let (total, considered) = match result {
            Ok(counts) => counts,
            Err(error) if witness.is_none() => return Err(error),
            Err(_) => (0, 0),
        };
        let held = match kind {
            QuantifierKind::Any => witness.is_some(),
            QuantifierKind::All => witness.is_none(),
            QuantifierKind::None => witness.is_none(),
        };
        if self.tracing() {
            let counterexample = if held { None } else { witness };
            self.observe(Observation::Quantifier {
                expression: self.text(node.span).to_string(),
                total,
                considered,
                satisfied,
                counterexample: if kind == QuantifierKind::Any { None } else { counterexample },
                held,
            });
        }
        Ok(Value::Bool(held))
    }

    fn eval_count(&mut self, node: &'a Node, binding: &'a CompiledBinding) -> Eval<'a> {
        let (total, considered) = self.for_each_element(binding, true, |_, _| Ok(true))?;
        if self.tracing() {
            self.observe(Observation::Quantifier {
                expression: self.text(node.span).to_string(),
                total,
                considered,
                satisfied: considered,
                counterexample: None,
                held: true,
            });
        }
        Ok(Value::Number(Decimal::from(considered)))
    }

    fn eval_find(&mut self, kind: FindKind, binding: &'a CompiledBinding) -> Eval<'a> {
        let mut found: Option<(usize, Value<'a>)> = None;
        self.for_each_element(binding, true, |context, index| {
            let value = context.locals.last().expect("bound").value.clone();
            found = Some((index, value));
            Ok(kind == FindKind::Last)
        })?;
        Ok(match found {
            Some((index, item)) => Value::Element { index, item: Box::new(item) },
            None => Value::Null,
        })
    }

    fn eval_comprehension(&mut self, element: &'a Node, binding: &'a CompiledBinding) -> Eval<'a> {
        let mut values = Vec::new();
        self.for_each_element(binding, true, |context, _| {
            let value = context.eval(element)?;
            values.push(value);
            Ok(true)
        })?;
        Ok(Value::List(Arc::new(values)))
    }
}

pub(super) fn constant_value(constant: &Constant) -> Value<'_> {
    match constant {
        Constant::Null => Value::Null,
        Constant::Bool(b) => Value::Bool(*b),
        Constant::Number(n) | Constant::Percent(n) => Value::Number(*n),
        Constant::Text(s) => Value::Text(Cow::Borrowed(s)),
        Constant::Timestamp(t) => Value::Timestamp(*t),
        Constant::Date(d) => Value::Date(*d),
        Constant::Duration(d) => Value::Duration(*d),
    }
}

/// Maps a policy index (negative counts from the end) to a position in a list of `len`.
fn list_position(index: Decimal, len: usize) -> Option<usize> {
    if !index.fract().is_zero() {
        return None;
    }
    let index: i64 = index.try_into().ok()?;
    let position = if index < 0 { len as i64 + index } else { index };
    (0..len as i64).contains(&position).then_some(position as usize)
}

fn out_of_range(number: &str, node: &Node) -> EvalError {
    invalid(crate::value::number_out_of_range(number), node.span)
}

fn not_text(text: &str, value: &Value<'_>, purpose: &str, node: &Node) -> EvalError {
    invalid(
        format!("`{text}` is {} {}, not text to test against {purpose}", value.type_name(), Shown(value)),
        node.span,
    )
}

pub(super) fn row_info(table: &Table, row: &Row) -> RowInfo {
    RowInfo {
        table: table.name.clone(),
        file: table.display_path.clone(),
        line: row.line,
        valid_from: row.valid_from.map(format_bound),
        valid_until: row.valid_until.map(format_bound),
    }
}

/// Formats a validity bound as a date when it is midnight UTC (how dates are read), else
/// as a UTC timestamp, so the evidence never moves a bound to another day.
fn format_bound(bound: chrono::DateTime<chrono::Utc>) -> String {
    if bound.time() == chrono::NaiveTime::MIN {
        bound.date_naive().to_string()
    } else {
        bound.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
    }
}

fn validity_text(row: &Row) -> String {
    match (row.valid_from, row.valid_until) {
        (Some(from), Some(until)) => format!("from {} until {}", format_bound(from), format_bound(until)),
        (Some(from), None) => format!("from {}", format_bound(from)),
        (None, Some(until)) => format!("until {}", format_bound(until)),
        (None, None) => "always".to_string(),
    }
}

pub(super) fn compare_with(
    op: CompareOp,
    left: &Value<'_>,
    right: &Value<'_>,
    span: crate::diagnostic::Span,
) -> Result<bool, EvalError> {
    match compare(left, right) {
        Comparison::Ordered(ordering) => Ok(match op {
            CompareOp::Equal => ordering == Ordering::Equal,
            CompareOp::NotEqual => ordering != Ordering::Equal,
            CompareOp::Less => ordering == Ordering::Less,
            CompareOp::LessOrEqual => ordering != Ordering::Greater,
            CompareOp::Greater => ordering == Ordering::Greater,
            CompareOp::GreaterOrEqual => ordering != Ordering::Less,
        }),
        Comparison::Unordered { equal } => match op {
            CompareOp::Equal => Ok(equal),
            CompareOp::NotEqual => Ok(!equal),
            _ => Err(invalid(
                format!(
                    "cannot order {} {} and {} {} with `{}`",
                    left.type_name(),
                    Shown(left),
                    right.type_name(),
                    Shown(right),
                    op.symbol()
                ),
                span,
            )),
        },
        Comparison::Mismatch(message) => Err(invalid(message, span)),
    }
}

/// `|left - right| <= tolerance`; a percentage tolerance is relative to `right`.
pub(super) fn within_tolerance(
    left: &Value<'_>,
    right: &Value<'_>,
    tolerance: &Value<'_>,
    is_percent: bool,
    span: crate::diagnostic::Span,
    text: &str,
) -> Result<bool, EvalError> {
    let difference = arithmetic(BinaryOp::Subtract, left, right, span, text)?;
    match (difference, tolerance.unwrap_element()) {
        (Value::Number(d), Value::Number(t)) => {
            let allowed = if is_percent { *t * right_number(right).abs() } else { *t };
            Ok(d.abs() <= allowed)
        }
        (Value::Duration(d), Value::Duration(t)) => Ok(d.abs() <= *t),
        (difference, t) => Err(invalid(
            format!(
                "a difference of {} {} cannot be measured against a tolerance of {} {}",
                difference.type_name(),
                Shown(&difference),
                t.type_name(),
                Shown(t)
            ),
            span,
        )),
    }
}

fn right_number(value: &Value<'_>) -> Decimal {
    match value.unwrap_element() {
        Value::Number(n) => *n,
        _ => Decimal::ZERO,
    }
}

/// `+ - * /` over numbers, durations, timestamps and dates. Text meeting a temporal
/// value is parsed as one.
pub(super) fn arithmetic<'x>(
    op: BinaryOp,
    left: &Value<'_>,
    right: &Value<'_>,
    span: crate::diagnostic::Span,
    text: &str,
) -> Result<Value<'x>, EvalError> {
    let left = temporal_operand(left.unwrap_element(), right.unwrap_element(), span)?;
    let right = temporal_operand(right.unwrap_element(), &left, span)?;
    let overflow = || invalid(format!("`{text}` overflows"), span);
    let result = match (op, &left, &right) {
        (BinaryOp::Add, Value::Number(a), Value::Number(b)) => Value::Number(a.checked_add(*b).ok_or_else(overflow)?),
        (BinaryOp::Subtract, Value::Number(a), Value::Number(b)) => {
            Value::Number(a.checked_sub(*b).ok_or_else(overflow)?)
        }
        (BinaryOp::Multiply, Value::Number(a), Value::Number(b)) => {
            Value::Number(a.checked_mul(*b).ok_or_else(overflow)?)
        }
        (BinaryOp::Divide, Value::Number(_), Value::Number(b)) if b.is_zero() => {
            return Err(invalid(format!("division by zero in `{text}`"), span));
        }
        (BinaryOp::Divide, Value::Number(a), Value::Number(b)) => {
            Value::Number(a.checked_div(*b).ok_or_else(overflow)?)
        }
        (BinaryOp::Add, Value::Duration(a), Value::Duration(b)) => {
            Value::Duration(a.checked_add(b).ok_or_else(overflow)?)
        }
        (BinaryOp::Subtract, Value::Duration(a), Value::Duration(b)) => {
            Value::Duration(a.checked_sub(b).ok_or_else(overflow)?)
        }
        (BinaryOp::Subtract, Value::Timestamp(_) | Value::Date(_), Value::Timestamp(_) | Value::Date(_)) => {
            let (a, b) = (instant(&left), instant(&right));
            Value::Duration(a.signed_duration_since(b))
        }
        (BinaryOp::Add, Value::Timestamp(t), Value::Duration(d))
        | (BinaryOp::Add, Value::Duration(d), Value::Timestamp(t)) => {
            Value::Timestamp(t.checked_add_signed(*d).ok_or_else(overflow)?)
        }
        (BinaryOp::Subtract, Value::Timestamp(t), Value::Duration(d)) => {
            Value::Timestamp(t.checked_sub_signed(*d).ok_or_else(overflow)?)
        }
        (BinaryOp::Add | BinaryOp::Subtract, Value::Date(date), Value::Duration(d))
        | (BinaryOp::Add, Value::Duration(d), Value::Date(date)) => {
            let d = if op == BinaryOp::Subtract { -*d } else { *d };
            if d.num_milliseconds() % 86_400_000 != 0 {
                return Err(invalid(
                    format!("`{text}` moves a date by part of a day; convert it with `timestamp(...)` first"),
                    span,
                ));
            }
            Value::Date(date.checked_add_signed(d).ok_or_else(overflow)?)
        }
        (BinaryOp::Multiply, Value::Duration(d), Value::Number(n))
        | (BinaryOp::Multiply, Value::Number(n), Value::Duration(d)) => {
            Value::Duration(scale_duration(*d, *n).ok_or_else(overflow)?)
        }
        (BinaryOp::Divide, Value::Duration(_), Value::Number(n)) if n.is_zero() => {
            return Err(invalid(format!("division by zero in `{text}`"), span));
        }
        (BinaryOp::Divide, Value::Duration(d), Value::Number(n)) => Value::Duration(
            scale_duration(*d, Decimal::ONE.checked_div(*n).ok_or_else(overflow)?).ok_or_else(overflow)?,
        ),
        (BinaryOp::Divide, Value::Duration(a), Value::Duration(b)) => {
            if b.is_zero() {
                return Err(invalid(format!("division by zero in `{text}`"), span));
            }
            Value::Number(
                Decimal::from(a.num_milliseconds())
                    .checked_div(Decimal::from(b.num_milliseconds()))
                    .ok_or_else(overflow)?,
            )
        }
        _ => {
            return Err(invalid(
                format!(
                    "cannot compute `{text}` with {} {} and {} {}",
                    left.type_name(),
                    Shown(&left),
                    right.type_name(),
                    Shown(&right)
                ),
                span,
            ));
        }
    };
    Ok(result)
}

/// Parses text as a timestamp when the other operand is temporal or a duration.
fn temporal_operand<'x>(
    value: &Value<'_>,
    other: &Value<'_>,
    span: crate::diagnostic::Span,
) -> Result<Value<'x>, EvalError> {
    if let (Value::Text(text), Value::Text(other_text)) = (value, other) {
        if let (Some(timestamp), Some(_)) =
            (crate::value::timestamp_text(text), crate::value::timestamp_text(other_text))
        {
            return Ok(Value::Timestamp(timestamp));
        }
    }
    match (value, other) {
        (Value::Text(text), Value::Timestamp(_) | Value::Date(_) | Value::Duration(_)) => {
            coerce_text(text, &Value::Timestamp(date_start(chrono::NaiveDate::MIN)))
                .map_err(|message| invalid(message, span))
        }
        _ => Ok(detach(value)),
    }
}

/// Copies a scalar value out of its borrow.
fn detach<'x>(value: &Value<'_>) -> Value<'x> {
    match value {
        Value::Null => Value::Null,
        Value::Bool(b) => Value::Bool(*b),
        Value::Number(n) => Value::Number(*n),
        Value::Text(t) => Value::Text(Cow::Owned(t.to_string())),
        Value::Timestamp(t) => Value::Timestamp(*t),
        Value::Date(d) => Value::Date(*d),
        Value::Duration(d) => Value::Duration(*d),
        other => Value::from_owned_json(other.to_json()).unwrap_or(Value::Null),
    }
}

fn instant(value: &Value<'_>) -> chrono::DateTime<chrono::FixedOffset> {
    match value {
        Value::Timestamp(t) => *t,
        Value::Date(d) => date_start(*d),
        _ => unreachable!("callers match temporal values"),
    }
}

fn scale_duration(duration: TimeDelta, factor: Decimal) -> Option<TimeDelta> {
    let ms = Decimal::from(duration.num_milliseconds()).checked_mul(factor)?.round();
    TimeDelta::try_milliseconds(ms.try_into().ok()?)
}
