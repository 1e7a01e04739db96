//! The fields of a run record that a policy set can read, as a tree of paths: what a
//! projecting reader must keep, and everything else it may skip while parsing.
//!
//! The analysis is conservative. A path whose use it cannot follow (an object passed to
//! a function, an index computed at run time, `record` compared as a whole) keeps the
//! whole value below it. So a projected record gives the same verdicts as the full one.

use std::collections::BTreeMap;

use super::PolicySet;
use super::program::{Constant, Node, NodeKind};

/// The part of one record value to keep.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PathNode {
    /// Keep the whole value, whatever it holds.
    pub whole: bool,
    /// Object members read by name.
    pub fields: BTreeMap<String, PathNode>,
    /// The part of each element to keep, when the value is a list whose elements are read.
    pub elements: Option<Box<PathNode>>,
}

impl PathNode {
    /// True when nothing below this value is read: keep it as it is.
    pub fn is_leaf(&self) -> bool {
        self.whole || (self.fields.is_empty() && self.elements.is_none())
    }

    fn at(&mut self, path: &[Step]) -> &mut PathNode {
        let mut node = self;
        for step in path {
            node = match step {
                Step::Field(name) => node.fields.entry(name.clone()).or_default(),
                Step::Element => node.elements.get_or_insert_with(Box::default),
            };
        }
        node
    }
}

/// One step of a path into the record.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Step {
    Field(String),
    Element,
}

/// The record fields a policy set reads.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Projection {
    pub root: PathNode,
}

impl Projection {
    /// Computes the projection of every rule, waiver, `let`, event time and SLO of `set`.
    pub fn of(set: &PolicySet) -> Projection {
        let mut analysis = Analysis { set, projection: Projection::default(), locals: Vec::new() };
        for rule in &set.rules {
            for node in rule.when.iter().chain(&rule.expects).chain(rule.waivers.iter().map(|w| &w.condition)) {
                analysis.consume(node);
            }
        }
        analysis.add_slos();
        analysis.projection
    }

    /// Computes the projection of the SLOs of `set` alone: their event times, `valid`
    /// conditions and `by` dimensions. Empty when the set declares no SLO.
    pub fn of_slos(set: &PolicySet) -> Projection {
        let mut analysis = Analysis { set, projection: Projection::default(), locals: Vec::new() };
        if !set.slos.is_empty() {
            analysis.add_slos();
        }
        analysis.projection
    }

    /// Adds a dotted path that the caller reads itself (`labels.expert_verdict`); `[]`
    /// after a name stands for every element of a list (`steps[].status`).
    pub fn keep(&mut self, path: &str) {
        let steps: Vec<Step> = path
            .split('.')
            .flat_map(|part| match part.strip_suffix("[]") {
                Some(name) => vec![Step::Field(name.to_string()), Step::Element],
                None => vec![Step::Field(part.to_string())],
            })
            .collect();
        self.root.at(&steps).whole = true;
    }

    /// True when the whole record must be kept.
    pub fn is_everything(&self) -> bool {
        self.root.whole
    }
}

struct Analysis<'s> {
    set: &'s PolicySet,
    projection: Projection,
    /// For each quantifier variable in scope, the path of the elements it ranges over.
    locals: Vec<Option<Vec<Step>>>,
}

impl<'s> Analysis<'s> {
    fn add_slos(&mut self) {
        let set = self.set;
        for file in &set.files {
            if let Some(node) = &file.event_time {
                self.consume(node);
            }
        }
        for slo in &set.slos {
            for node in slo.valid.iter().chain(slo.by.iter().map(|(_, node)| node)) {
                self.consume(node);
            }
        }
    }

    /// Analyses an expression whose value is used (compared, passed on, tested).
    fn consume(&mut self, node: &'s Node) {
        if let Some(path) = self.path(node) {
            self.projection.root.at(&path).whole = true;
        }
    }

    /// Analyses an expression and returns the record path it denotes, if it is a path;
    /// every other sub-expression is analysed as consumed.
    fn path(&mut self, node: &'s Node) -> Option<Vec<Step>> {
        match &node.kind {
            NodeKind::Record => Some(Vec::new()),
            NodeKind::RootField(name) => Some(vec![Step::Field(name.clone())]),
            NodeKind::Field(base, name) => {
                let mut path = self.path(base)?;
                path.push(Step::Field(name.clone()));
                Some(path)
            }
            NodeKind::Index(base, index) => {
                let base_path = self.path(base);
                let step = match &index.kind {
                    NodeKind::Constant(Constant::Number(_)) => Some(Step::Element),
                    NodeKind::Negate(inner) if matches!(inner.kind, NodeKind::Constant(Constant::Number(_))) => {
                        Some(Step::Element)
                    }
                    NodeKind::Constant(Constant::Text(key)) => Some(Step::Field(key.clone())),
                    _ => {
                        self.consume(index);
                        None
                    }
                };
                match (base_path, step) {
                    (Some(mut path), Some(step)) => {
                        path.push(step);
                        Some(path)
                    }
                    (Some(path), None) => {
                        self.projection.root.at(&path).whole = true;
                        None
                    }
                    (None, _) => None,
                }
            }
            NodeKind::Local(slot) => self.locals.get(*slot).cloned().flatten(),
            NodeKind::Let(id) => {
                let value = &self.set.lets[*id].value;
                let saved = std::mem::take(&mut self.locals);
                let path = self.path(value);
                self.locals = saved;
                path
            }
            NodeKind::Find { binding, .. } => {
                let element = self.bind(binding);
                if let Some(filter) = &binding.filter {
                    self.consume(filter);
                }
                self.locals.truncate(binding.slot);
                element
            }
            NodeKind::Quantifier { binding, body, .. } => {
                self.bind(binding);
                if let Some(filter) = &binding.filter {
                    self.consume(filter);
                }
                self.consume(body);
                self.locals.truncate(binding.slot);
                None
            }
            NodeKind::Count(binding) => {
                self.bind(binding);
                if let Some(filter) = &binding.filter {
                    self.consume(filter);
                }
                self.locals.truncate(binding.slot);
                None
            }
            NodeKind::Order { left, right, .. } => {
                // `before` and `after` read only the positions of `first` and `last`
                // results, so the elements they found need not be kept whole.
                for side in [left, right] {
                    if matches!(side.kind, NodeKind::Find { .. }) {
                        self.path(side);
                    } else {
                        self.consume(side);
                    }
                }
                None
            }
            NodeKind::Comprehension { element, binding } => {
                self.bind(binding);
                if let Some(filter) = &binding.filter {
                    self.consume(filter);
                }
                self.consume(element);
                self.locals.truncate(binding.slot);
                None
            }
            _ => {
                for child in children(node) {
                    self.consume(child);
                }
                None
            }
        }
    }

    /// Brings a binding's variable into scope; returns the path of its elements.
    fn bind(&mut self, binding: &'s super::program::CompiledBinding) -> Option<Vec<Step>> {
        let element = self.path(&binding.collection).map(|mut path| {
            // The list itself must be kept even if no element field is read, so that
            // its length (for `count`, vacuous `all`) stays right.
            self.projection.root.at(&path).elements.get_or_insert_with(Box::default);
            path.push(Step::Element);
            path
        });
        if element.is_none() {
            self.consume(&binding.collection);
        }
        self.locals.truncate(binding.slot);
        self.locals.push(element.clone());
        element
    }
}

/// The direct sub-expressions of a node that is not a path, quantifier or binding.
fn children(node: &Node) -> Vec<&Node> {
    match &node.kind {
        NodeKind::List(items) | NodeKind::Call(_, items) => items.iter().collect(),
        NodeKind::Lookup(_, key) => vec![key],
        NodeKind::Not(inner) | NodeKind::Negate(inner) => vec![inner],
        NodeKind::Exists { value, .. } | NodeKind::IsMissing { value, .. } | NodeKind::IsNull { value, .. } => {
            vec![value]
        }
        NodeKind::Matches { value, .. } | NodeKind::ContainsRegex { value, .. } => vec![value],
        NodeKind::Binary(_, left, right) | NodeKind::Otherwise(left, right) | NodeKind::Order { left, right, .. } => {
            vec![left, right]
        }
        NodeKind::Compare { left, right, tolerance, .. } => {
            let mut nodes: Vec<&Node> = vec![left, right];
            nodes.extend(tolerance.as_deref());
            nodes
        }
        NodeKind::Within { value, tolerance, target } => vec![value, tolerance, target],
        NodeKind::Between { value, low, high, .. } => vec![value, low, high],
        NodeKind::In { value, collection, .. } => vec![value, collection],
        NodeKind::Text { value, pattern, .. } => vec![value, pattern],
        NodeKind::If { condition, then, otherwise } => vec![condition, then, otherwise],
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compile::compile_sources;
    use crate::diagnostic::SourceFile;

    fn projection_of(policy: &str) -> Projection {
        let (set, diagnostics) = compile_sources(&[SourceFile::from_text("test.slo", policy)]);
        let set = set.unwrap_or_else(|| panic!("the policy compiles: {diagnostics:?}"));
        Projection::of(&set)
    }

    fn kept(projection: &Projection) -> String {
        fn walk(node: &PathNode, path: &str, out: &mut Vec<String>) {
            if node.is_leaf() {
                out.push(path.to_string());
                return;
            }
            for (name, child) in &node.fields {
                let child_path = if path.is_empty() { name.clone() } else { format!("{path}.{name}") };
                walk(child, &child_path, out);
            }
            if let Some(element) = &node.elements {
                walk(element, &format!("{path}[]"), out);
            }
        }
        let mut out = Vec::new();
        walk(&projection.root, "", &mut out);
        out.join(" ")
    }

    #[test]
    fn only_read_fields_are_kept() {
        let projection = projection_of("rule r {\n  expect outcome.total > 0 and outcome.vendor.id == \"V\"\n}\n");
        assert_eq!(kept(&projection), "outcome.total outcome.vendor.id");
    }

    #[test]
    fn quantifier_keeps_element_fields_only() {
        let projection = projection_of(
            "rule r {\n  expect any s in steps where s.name == \"a\" satisfies s.output.catalog == \"c\"\n}\n",
        );
        assert_eq!(kept(&projection), "steps[].name steps[].output.catalog");
    }

    #[test]
    fn order_keeps_positions_not_elements() {
        let projection = projection_of(
            "rule r {\n  expect (first s in steps where s.name == \"a\") before (last s in steps where s.name == \"b\")\n}\n",
        );
        assert_eq!(kept(&projection), "steps[].name");
    }

    #[test]
    fn whole_record_keeps_everything() {
        let projection = projection_of("rule r {\n  expect len(keys(record)) > 0\n}\n");
        assert!(projection.is_everything());
    }
}
