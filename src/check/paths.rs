//! The record field paths a policy file reads, for checking them against a record
//! schema or sample runs.
//!
//! A path starts at the run record: `outcome.vendor.id`, or `steps[].name` for the
//! `name` of an element of `steps`. Names resolve as the compiler resolves them
//! (quantifier variables, `let`s, tables, `record`, then top-level record fields). A
//! quantifier variable stands for an element of its list, and a `let` whose value is a
//! path stands for that path. Table rows are reference data, not record fields, so
//! `price_bands[outcome.category].min` reads only `outcome.category`.

use std::collections::{HashMap, HashSet};
use std::fmt;

use super::walk;
use crate::diagnostic::Span;
use crate::syntax::ast::{BinaryOp, Expr, ExprKind, Literal, PolicyFile};

/// One step of a path.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Segment {
    /// `.name` or `["name"]`
    Field(String),
    /// An element of a list: `[0]`, `[-1]`, or a quantifier variable.
    Element,
    /// An index computed at run time; nothing after it is checked.
    Dynamic,
}

/// A field path as segments.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FieldPath(pub Vec<Segment>);

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, segment) in self.0.iter().enumerate() {
            match segment {
                Segment::Field(name) if i == 0 => f.write_str(name)?,
                Segment::Field(name) => write!(f, ".{name}")?,
                Segment::Element => f.write_str("[]")?,
                Segment::Dynamic => f.write_str("[?]")?,
            }
        }
        Ok(())
    }
}

/// One place a policy reads a record path.
#[derive(Clone, Debug)]
pub struct FieldRead {
    pub path: FieldPath,
    /// `spans[i]` covers the expression that reads the first `i + 1` segments.
    pub spans: Vec<Span>,
    /// Read under `exists`, `is missing`, or on the left of `otherwise`: the policy
    /// already expects the field may be absent.
    pub guarded: bool,
    /// The span of `PATH exists` or `PATH is missing` when the read is that test.
    pub presence_test: Option<Span>,
    /// Read only after something else decided it is needed: the right side of `and` or
    /// `or`, a branch of `if`, the fallback of `otherwise`, or a quantifier's filter or body.
    pub conditional: bool,
}

/// A path with the span of each of its prefixes.
type Located = Vec<(Segment, Span)>;

/// What a name stands for.
#[derive(Clone)]
enum Bound {
    Path(Located),
    /// A table, or a value that is not a record path.
    Opaque,
}

/// Every record path `file` reads, in source order.
pub fn file_reads(file: &PolicyFile) -> Vec<FieldRead> {
    let tables: HashSet<String> = file.uses.iter().map(|declaration| declaration.alias.name.clone()).collect();
    let mut walker = Walker { reads: Vec::new(), locals: Vec::new(), lets: HashMap::new(), tables, conditional: false };
    for declaration in &file.lets {
        let bound = walker.bind(&declaration.value);
        walker.lets.insert(declaration.name.name.clone(), bound);
    }
    for expr in walk::file_level_expressions(file).into_iter().skip(file.lets.len()) {
        walker.visit(expr, false);
    }
    for rule in &file.rules {
        let file_lets = walker.lets.clone();
        for declaration in &rule.lets {
            let bound = walker.bind(&declaration.value);
            walker.lets.insert(declaration.name.name.clone(), bound);
        }
        for (_, condition) in walk::rule_conditions(rule) {
            walker.visit(condition, false);
        }
        walker.lets = file_lets;
    }
    walker.reads
}

struct Walker {
    reads: Vec<FieldRead>,
    /// Quantifier variables, innermost last.
    locals: Vec<(String, Bound)>,
    lets: HashMap<String, Bound>,
    tables: HashSet<String>,
    /// Set while visiting a part of an expression that is evaluated only sometimes.
    conditional: bool,
}

impl Walker {
    /// Records what a `let` value reads and returns what its name stands for.
    fn bind(&mut self, value: &Expr) -> Bound {
        match self.resolve(value, false) {
            Some(path) => {
                self.record(&path, false);
                Bound::Path(path)
            }
            None => Bound::Opaque,
        }
    }

    fn record(&mut self, path: &Located, guarded: bool) {
        self.record_read(path, guarded, None);
    }

    fn record_read(&mut self, path: &Located, guarded: bool, presence_test: Option<Span>) {
        if path.is_empty() {
            return;
        }
        let (segments, spans) = path.iter().cloned().unzip();
        let conditional = self.conditional;
        self.reads.push(FieldRead { path: FieldPath(segments), spans, guarded, presence_test, conditional });
    }

    /// Records the reads of `expr`, an expression used as a value or condition.
    fn visit(&mut self, expr: &Expr, guarded: bool) {
        match &expr.kind {
            ExprKind::Name(_) | ExprKind::Field(..) | ExprKind::Index(..) => {
                if let Some(path) = self.resolve(expr, guarded) {
                    self.record(&path, guarded);
                }
            }
            ExprKind::Exists { value, .. } | ExprKind::IsMissing { value, .. } => {
                let is_path = matches!(value.kind, ExprKind::Name(_) | ExprKind::Field(..) | ExprKind::Index(..));
                if !is_path {
                    self.visit(value, true);
                } else if let Some(path) = self.resolve(value, true) {
                    self.record_read(&path, true, Some(expr.span));
                }
            }
            ExprKind::Otherwise(value, fallback) => {
                self.visit(value, true);
                self.visit_conditionally(fallback, guarded);
            }
            ExprKind::Binary(BinaryOp::And | BinaryOp::Or, left, right) => {
                self.visit(left, guarded);
                self.visit_conditionally(right, guarded);
            }
            ExprKind::If { condition, then, otherwise } => {
                self.visit(condition, guarded);
                self.visit_conditionally(then, guarded);
                self.visit_conditionally(otherwise, guarded);
            }
            ExprKind::Quantifier { binding, .. }
            | ExprKind::Count(binding)
            | ExprKind::Find { binding, .. }
            | ExprKind::Comprehension { binding, .. } => {
                let element = self.collection(&binding.collection, guarded);
                self.locals.push((binding.variable.name.clone(), element));
                for child in walk::children(expr).into_iter().skip(1) {
                    self.visit_conditionally(child.expr, guarded);
                }
                self.locals.pop();
            }
            _ => {
                for child in walk::children(expr) {
                    self.visit(child.expr, guarded);
                }
            }
        }
    }

    fn visit_conditionally(&mut self, expr: &Expr, guarded: bool) {
        let outer = std::mem::replace(&mut self.conditional, true);
        self.visit(expr, guarded);
        self.conditional = outer;
    }

    /// Records the read of a binding's list and returns what its variable stands for.
    fn collection(&mut self, collection: &Expr, guarded: bool) -> Bound {
        match self.resolve(collection, guarded) {
            Some(path) => {
                self.record(&path, guarded);
                let mut element = path;
                element.push((Segment::Element, collection.span));
                Bound::Path(element)
            }
            None => Bound::Opaque,
        }
    }

    /// The record path `expr` stands for, if it is one. Reads inside it that are not
    /// part of the path (an index expression, a table key) are recorded.
    fn resolve(&mut self, expr: &Expr, guarded: bool) -> Option<Located> {
        match &expr.kind {
            ExprKind::Name(ident) => self.lookup(&ident.name, ident.span),
            ExprKind::Field(base, field) => {
                let mut path = self.resolve(base, guarded)?;
                path.push((Segment::Field(field.name.clone()), expr.span));
                Some(path)
            }
            ExprKind::Index(base, index) => {
                if self.is_table(base) {
                    self.visit(index, false);
                    return None;
                }
                let segment = match &index.kind {
                    ExprKind::Literal(Literal::Number(_)) => Segment::Element,
                    ExprKind::Negate(inner) if matches!(inner.kind, ExprKind::Literal(Literal::Number(_))) => {
                        Segment::Element
                    }
                    ExprKind::Literal(Literal::String(name)) => Segment::Field(name.clone()),
                    _ => {
                        self.visit(index, false);
                        Segment::Dynamic
                    }
                };
                let mut path = self.resolve(base, guarded)?;
                path.push((segment, expr.span));
                Some(path)
            }
            ExprKind::Find { binding, .. } => {
                let element = self.collection(&binding.collection, guarded);
                self.locals.push((binding.variable.name.clone(), element.clone()));
                if let Some(filter) = &binding.filter {
                    self.visit_conditionally(filter, guarded);
                }
                self.locals.pop();
                match element {
                    Bound::Path(path) => Some(path),
                    Bound::Opaque => None,
                }
            }
            _ => {
                self.visit(expr, guarded);
                None
            }
        }
    }

    fn lookup(&self, name: &str, span: Span) -> Option<Located> {
        if let Some((_, bound)) = self.locals.iter().rev().find(|(local, _)| local == name) {
            return bound.path();
        }
        if let Some(bound) = self.lets.get(name) {
            return bound.path();
        }
        if self.tables.contains(name) {
            return None;
        }
        if name == "record" {
            return Some(Vec::new());
        }
        Some(vec![(Segment::Field(name.to_string()), span)])
    }

    /// Whether `expr` names a table (and not a variable or `let` that hides it).
    fn is_table(&self, expr: &Expr) -> bool {
        let ExprKind::Name(ident) = &expr.kind else { return false };
        let name = ident.name.as_str();
        self.tables.contains(name)
            && !self.locals.iter().any(|(local, _)| local == name)
            && !self.lets.contains_key(name)
    }
}

impl Bound {
    fn path(&self) -> Option<Located> {
        match self {
            Bound::Path(path) => Some(path.clone()),
            Bound::Opaque => None,
        }
    }
}

/// Keeps the first read of each distinct path.
pub fn distinct(reads: Vec<FieldRead>) -> Vec<FieldRead> {
    let mut seen = HashSet::new();
    reads.into_iter().filter(|read| seen.insert((read.path.clone(), read.guarded, read.conditional))).collect()
}
