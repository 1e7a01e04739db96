//! AST to compiled nodes: names resolved, literals parsed, regexes compiled, and
//! the type errors that literals and operators reveal reported.

use std::collections::HashMap;

use regex::RegexBuilder;

use super::program::{CompiledBinding, Constant, FUNCTIONS, Function, LetId, Node, NodeKind, TableId};
use super::types::{Ty, arithmetic, comparable};
use crate::diagnostic::{Diagnostic, SourceFile, Span, did_you_mean};
use crate::syntax::ast::{Binding, Expr, ExprKind, Literal, RegexLiteral};
use crate::value::{parse_date, parse_decimal, parse_duration, parse_timestamp};

/// Top-level fields of the canonical run record; unknown names close to one of
/// these get a "did you mean" warning.
pub const RECORD_FIELDS: &[&str] = &[
    "run_id",
    "workflow",
    "started_at",
    "finished_at",
    "steps",
    "outcome",
    "checkpoints",
    "labels",
    "task",
    "agent",
    "request",
];

/// Largest compiled regex, in bytes of the regex crate's program; bigger patterns are rejected.
const REGEX_SIZE_LIMIT: usize = 1 << 20;

/// A table visible to the expression, with whether it is effective-dated.
#[derive(Clone, Copy)]
pub struct TableRef {
    pub id: TableId,
    pub effective: bool,
}

/// Names visible where an expression is compiled.
pub struct Scope<'a> {
    pub source: &'a SourceFile,
    pub tables: &'a HashMap<String, TableRef>,
    /// Visible `let`s: id, static type, and whether its value reads an effective-dated table.
    pub lets: HashMap<String, (LetId, Ty, bool)>,
    /// Quantifier variables, innermost last; a variable's slot is its position.
    locals: Vec<String>,
    /// Set when the expression reads an effective-dated table.
    pub reads_effective_table: bool,
    /// First place an effective-dated table is read, for the missing-event-time diagnostic.
    pub effective_read_span: Option<Span>,
    pub diagnostics: Vec<Diagnostic>,
}

impl<'a> Scope<'a> {
    pub fn new(
        source: &'a SourceFile,
        tables: &'a HashMap<String, TableRef>,
        lets: HashMap<String, (LetId, Ty, bool)>,
    ) -> Self {
        Scope {
            source,
            tables,
            lets,
            locals: Vec::new(),
            reads_effective_table: false,
            effective_read_span: None,
            diagnostics: Vec::new(),
        }
    }

    fn error(&mut self, code: &'static str, message: impl Into<String>, span: Span, help: impl Into<String>) {
        self.diagnostics
            .push(Diagnostic::error(code, message).in_file(self.source).with_label(span, "").with_help(help));
    }

    fn warning(&mut self, code: &'static str, message: impl Into<String>, span: Span, help: impl Into<String>) {
        self.diagnostics
            .push(Diagnostic::warning(code, message).in_file(self.source).with_label(span, "").with_help(help));
    }

    /// Compiles a condition (`when`, `expect`), which must be a boolean.
    pub fn condition(&mut self, expr: &Expr, clause: &str) -> Node {
        let (node, ty) = self.expr(expr);
        self.require(ty, Ty::Bool, expr.span, &format!("`{clause}` needs a condition that is true or false"));
        node
    }

    pub fn expr(&mut self, expr: &Expr) -> (Node, Ty) {
        let span = expr.span;
        let (kind, ty) = match &expr.kind {
            ExprKind::Literal(literal) => self.literal(literal, span),
            ExprKind::List(items) => (NodeKind::List(items.iter().map(|item| self.expr(item).0).collect()), Ty::List),
            ExprKind::Name(ident) => self.name(&ident.name, span),
            ExprKind::Field(base, field) => {
                let (base, _) = self.value_expr(base);
                (NodeKind::Field(Box::new(base), field.name.clone()), Ty::Unknown)
            }
            ExprKind::Index(base, index) => self.index(base, index),
            ExprKind::Call(function, args) => self.call(&function.name, function.span, args),
            ExprKind::Not(inner) => {
                let (node, ty) = self.expr(inner);
                self.require(ty, Ty::Bool, inner.span, "`not` needs a condition that is true or false");
                (NodeKind::Not(Box::new(node)), Ty::Bool)
            }
            ExprKind::Negate(inner) => {
                let (node, ty) = self.expr(inner);
                if !matches!(ty, Ty::Unknown | Ty::Number | Ty::Duration) {
                    self.type_error(inner.span, format!("cannot negate a {}", ty.name()));
                }
                (NodeKind::Negate(Box::new(node)), ty)
            }
            ExprKind::Binary(op, left, right) => self.binary(*op, left, right),
            ExprKind::Compare { op, left, right, tolerance } => {
                let (l, lt) = self.value_expr(left);
                let (r, rt) = self.value_expr(right);
                self.check_comparable(lt, rt, span);
                let tolerance = tolerance.as_ref().map(|t| Box::new(self.expr(t).0));
                (NodeKind::Compare { op: *op, left: Box::new(l), right: Box::new(r), tolerance }, Ty::Bool)
            }
            ExprKind::Within { value, tolerance, target } => {
                let (v, vt) = self.value_expr(value);
                let (t, _) = self.expr(tolerance);
                let (g, gt) = self.value_expr(target);
                self.check_comparable(vt, gt, span);
                (NodeKind::Within { value: Box::new(v), tolerance: Box::new(t), target: Box::new(g) }, Ty::Bool)
            }
            ExprKind::Between { value, low, high, negated } => {
                let (v, vt) = self.value_expr(value);
                let (l, lt) = self.value_expr(low);
                let (h, ht) = self.value_expr(high);
                self.check_comparable(vt, lt, span);
                self.check_comparable(vt, ht, span);
                self.check_comparable(lt, ht, span);
                let kind =
                    NodeKind::Between { value: Box::new(v), low: Box::new(l), high: Box::new(h), negated: *negated };
                (kind, Ty::Bool)
            }
            ExprKind::In { value, collection, negated } => {
                let (v, _) = self.value_expr(value);
                let c = self.collection(collection);
                (NodeKind::In { value: Box::new(v), collection: Box::new(c), negated: *negated }, Ty::Bool)
            }
            ExprKind::Matches { value, regex, negated } => {
                let (v, vt) = self.value_expr(value);
                self.require(vt, Ty::Text, value.span, "`matches` tests text");
                let kind = match self.regex(regex, true) {
                    Some(regex) => NodeKind::Matches { value: Box::new(v), regex, negated: *negated },
                    None => NodeKind::Constant(Constant::Bool(false)),
                };
                (kind, Ty::Bool)
            }
            ExprKind::ContainsRegex { value, regex, negated } => {
                let (v, vt) = self.value_expr(value);
                self.require(vt, Ty::Text, value.span, "`contains /regex/` tests text");
                let kind = match self.regex(regex, false) {
                    Some(regex) => NodeKind::ContainsRegex { value: Box::new(v), regex, negated: *negated },
                    None => NodeKind::Constant(Constant::Bool(false)),
                };
                (kind, Ty::Bool)
            }
            ExprKind::Text { op, value, pattern, negated } => {
                let (v, _) = self.value_expr(value);
                let (p, _) = self.value_expr(pattern);
                (NodeKind::Text { op: *op, value: Box::new(v), pattern: Box::new(p), negated: *negated }, Ty::Bool)
            }
            ExprKind::Exists { value, negated } => {
                (NodeKind::Exists { value: Box::new(self.value_expr(value).0), negated: *negated }, Ty::Bool)
            }
            ExprKind::IsMissing { value, negated } => {
                (NodeKind::IsMissing { value: Box::new(self.value_expr(value).0), negated: *negated }, Ty::Bool)
            }
            ExprKind::IsNull { value, negated } => {
                (NodeKind::IsNull { value: Box::new(self.value_expr(value).0), negated: *negated }, Ty::Bool)
            }
            ExprKind::Otherwise(value, fallback) => {
                let (v, vt) = self.value_expr(value);
                let (f, ft) = self.value_expr(fallback);
                let ty = if vt == ft { vt } else { Ty::Unknown };
                (NodeKind::Otherwise(Box::new(v), Box::new(f)), ty)
            }
            ExprKind::If { condition, then, otherwise } => {
                let c = self.condition(condition, "if");
                let (t, tt) = self.expr(then);
                let (o, ot) = self.expr(otherwise);
                let ty = if tt == ot { tt } else { Ty::Unknown };
                (NodeKind::If { condition: Box::new(c), then: Box::new(t), otherwise: Box::new(o) }, ty)
            }
            ExprKind::Quantifier { kind, binding, body } => {
                let (binding, body) = self.bound(binding, |scope| scope.condition(body, kind.keyword()));
                (NodeKind::Quantifier { kind: *kind, binding, body: Box::new(body) }, Ty::Bool)
            }
            ExprKind::Count(binding) => {
                let (binding, ()) = self.bound(binding, |_| ());
                (NodeKind::Count(binding), Ty::Number)
            }
            ExprKind::Find { kind, binding } => {
                let (binding, ()) = self.bound(binding, |_| ());
                (NodeKind::Find { kind: *kind, binding }, Ty::Unknown)
            }
            ExprKind::Comprehension { element, binding } => {
                let (binding, element) = self.bound(binding, |scope| scope.expr(element).0);
                (NodeKind::Comprehension { element: Box::new(element), binding }, Ty::List)
            }
            ExprKind::Order { op, left, right } => {
                let (l, _) = self.value_expr(left);
                let (r, _) = self.value_expr(right);
                (NodeKind::Order { op: *op, left: Box::new(l), right: Box::new(r) }, Ty::Bool)
            }
        };
        (Node { kind, span }, ty)
    }

    /// Compiles the value of a `let`, which may not be a bare table.
    pub fn let_value(&mut self, expr: &Expr) -> (Node, Ty) {
        self.value_expr(expr)
    }

    /// Compiles an expression used as a value, where a bare table name is not allowed.
    fn value_expr(&mut self, expr: &Expr) -> (Node, Ty) {
        let (node, ty) = self.expr(expr);
        if let NodeKind::Table(_) = node.kind {
            let name = expr.path_text().unwrap_or_default();
            self.error(
                "semslo::check::table_as_value",
                format!("table `{name}` is not a value"),
                expr.span,
                format!("use it as `x in {name}` or look a row up with `{name}[key]`"),
            );
        }
        (node, ty)
    }

    /// The right side of `in`: a bare table name is allowed here.
    fn collection(&mut self, expr: &Expr) -> Node {
        let (node, ty) = self.expr(expr);
        if let NodeKind::Table(_) = node.kind {
            self.note_effective(&node, expr.span);
        } else if !matches!(ty, Ty::Unknown | Ty::List | Ty::Text) {
            self.type_error(expr.span, format!("`in` needs a list, a table or text, found a {}", ty.name()));
        }
        node
    }

    fn note_effective(&mut self, node: &Node, span: Span) {
        let id = match node.kind {
            NodeKind::Table(id) | NodeKind::Lookup(id, _) => id,
            _ => return,
        };
        if self.tables.values().any(|table| table.id == id && table.effective) {
            self.reads_effective_table = true;
            self.effective_read_span.get_or_insert(span);
        }
    }

    fn name(&mut self, name: &str, span: Span) -> (NodeKind, Ty) {
        if let Some(slot) = self.locals.iter().rposition(|local| local == name) {
            return (NodeKind::Local(slot), Ty::Unknown);
        }
        if let Some(&(id, ty, effective)) = self.lets.get(name) {
            if effective {
                self.reads_effective_table = true;
                self.effective_read_span.get_or_insert(span);
            }
            return (NodeKind::Let(id), ty);
        }
        if let Some(table) = self.tables.get(name) {
            return (NodeKind::Table(table.id), Ty::Unknown);
        }
        if name == "record" {
            return (NodeKind::Record, Ty::Unknown);
        }
        if !RECORD_FIELDS.contains(&name) {
            self.suggest_for_unknown(name, span);
        }
        (NodeKind::RootField(name.to_string()), Ty::Unknown)
    }

    /// A name that is neither declared nor a canonical record field is read from the
    /// record; if it is one typo away from a declared name, that is almost surely a bug.
    fn suggest_for_unknown(&mut self, name: &str, span: Span) {
        let declared: Vec<String> =
            self.lets.keys().chain(self.tables.keys()).chain(self.locals.iter()).cloned().collect();
        if let Some(close) = did_you_mean(name, declared.iter().map(String::as_str)) {
            let close = close.to_string();
            self.error(
                "semslo::check::unknown_name",
                format!("unknown name `{name}`"),
                span,
                format!("did you mean `{close}`? To read the record's field `{name}`, write `record.{name}`"),
            );
        } else if let Some(close) = did_you_mean(name, RECORD_FIELDS.iter().copied()) {
            self.warning(
                "semslo::check::unknown_field",
                format!("`{name}` is not a field of the canonical run record"),
                span,
                format!("did you mean `{close}`? If your records carry `{name}`, write `record.{name}` to say so"),
            );
        }
    }

    fn index(&mut self, base: &Expr, index: &Expr) -> (NodeKind, Ty) {
        let (index_node, index_ty) = self.value_expr(index);
        let (base_node, _) = self.expr(base);
        if let NodeKind::Table(id) = base_node.kind {
            if !matches!(index_ty, Ty::Unknown | Ty::Text | Ty::Number | Ty::Bool) {
                self.type_error(index.span, format!("table keys are text or numbers, found a {}", index_ty.name()));
            }
            let node = NodeKind::Lookup(id, Box::new(index_node));
            let probe = Node { kind: NodeKind::Table(id), span: base.span };
            self.note_effective(&probe, base.span);
            return (node, Ty::Unknown);
        }
        (NodeKind::Index(Box::new(base_node), Box::new(index_node)), Ty::Unknown)
    }

    fn call(&mut self, name: &str, name_span: Span, args: &[Expr]) -> (NodeKind, Ty) {
        let compiled: Vec<Node> = args.iter().map(|arg| self.value_expr(arg).0).collect();
        let Some(&(_, function, min, max, _)) = FUNCTIONS.iter().find(|(n, ..)| *n == name) else {
            let help = match did_you_mean(name, FUNCTIONS.iter().map(|f| f.0)) {
                Some(close) => format!("did you mean `{close}`?"),
                None => format!(
                    "the functions are {}",
                    FUNCTIONS.iter().map(|f| format!("`{}`", f.0)).collect::<Vec<_>>().join(", ")
                ),
            };
            self.error("semslo::check::unknown_function", format!("unknown function `{name}`"), name_span, help);
            return (NodeKind::Constant(Constant::Null), Ty::Unknown);
        };
        if args.len() < min || args.len() > max {
            let expected = match (min, max) {
                (a, b) if a == b => format!("{a}"),
                (a, usize::MAX) => format!("at least {a}"),
                (a, b) => format!("{a} or {b}"),
            };
            self.error(
                "semslo::check::wrong_argument_count",
                format!(
                    "`{name}` takes {expected} argument{}, found {}",
                    if expected == "1" { "" } else { "s" },
                    args.len()
                ),
                name_span,
                format!("write `{name}(...)` with {expected} argument{}", if expected == "1" { "" } else { "s" }),
            );
        }
        let ty = match function {
            Function::Len
            | Function::Days
            | Function::Hours
            | Function::Minutes
            | Function::Seconds
            | Function::Number => Ty::Number,
            Function::Round => Ty::Number,
            Function::Lower | Function::Upper | Function::Trim | Function::Text | Function::Concat => Ty::Text,
            Function::Date => Ty::Date,
            Function::Timestamp => Ty::Timestamp,
            Function::Keys | Function::Values | Function::Distinct => Ty::List,
            _ => Ty::Unknown,
        };
        (NodeKind::Call(function, compiled), ty)
    }

    fn binary(&mut self, op: crate::syntax::ast::BinaryOp, left: &Expr, right: &Expr) -> (NodeKind, Ty) {
        use crate::syntax::ast::BinaryOp::*;
        let (l, lt) = self.value_expr(left);
        let (r, rt) = self.value_expr(right);
        let ty = match op {
            And | Or => {
                let word = if op == And { "and" } else { "or" };
                self.require(lt, Ty::Bool, left.span, &format!("`{word}` joins conditions that are true or false"));
                self.require(rt, Ty::Bool, right.span, &format!("`{word}` joins conditions that are true or false"));
                Ty::Bool
            }
            _ => match arithmetic(op, lt, rt) {
                Some(ty) => ty,
                None => {
                    let symbol = match op {
                        Add => "+",
                        Subtract => "-",
                        Multiply => "*",
                        _ => "/",
                    };
                    let temporal = |t: Ty| matches!(t, Ty::Date | Ty::Timestamp);
                    if (temporal(lt) && rt == Ty::Number) || (lt == Ty::Number && temporal(rt)) {
                        self.error(
                            "semslo::check::type_mismatch",
                            format!("cannot compute {} {symbol} {}", lt.name(), rt.name()),
                            left.span.to(right.span),
                            "add or subtract a duration such as `1d` or `12h`; for calendar months use `add_months(x, n)`",
                        );
                    } else {
                        self.type_error(
                            left.span.to(right.span),
                            format!("cannot compute {} {symbol} {}", lt.name(), rt.name()),
                        );
                    }
                    Ty::Unknown
                }
            },
        };
        (NodeKind::Binary(op, Box::new(l), Box::new(r)), ty)
    }

    /// Compiles a binding's collection and filter, then `body` with the variable in scope.
    fn bound<T>(&mut self, binding: &Binding, body: impl FnOnce(&mut Self) -> T) -> (CompiledBinding, T) {
        let (collection, ty) = self.value_expr(&binding.collection);
        if !matches!(ty, Ty::Unknown | Ty::List) {
            self.type_error(binding.collection.span, format!("`in` needs a list here, found a {}", ty.name()));
        }
        let slot = self.locals.len();
        self.locals.push(binding.variable.name.clone());
        let filter = binding.filter.as_ref().map(|f| Box::new(self.condition(f, "where")));
        let body = body(self);
        self.locals.pop();
        let compiled =
            CompiledBinding { variable: binding.variable.name.clone(), slot, collection: Box::new(collection), filter };
        (compiled, body)
    }

    fn literal(&mut self, literal: &Literal, span: Span) -> (NodeKind, Ty) {
        let (constant, ty) = match literal {
            Literal::String(s) => (Constant::Text(s.clone()), Ty::Text),
            Literal::Bool(b) => (Constant::Bool(*b), Ty::Bool),
            Literal::Null => (Constant::Null, Ty::Null),
            Literal::Number(text) => match parse_decimal(text) {
                Some(n) => (Constant::Number(n), Ty::Number),
                None => {
                    self.invalid_literal(
                        span,
                        crate::value::number_out_of_range(text),
                        "numbers are exact decimals of up to 28 digits",
                    );
                    (Constant::Null, Ty::Number)
                }
            },
            Literal::Percent(text) => match parse_decimal(text) {
                Some(n) => (Constant::Percent(n / rust_decimal::Decimal::ONE_HUNDRED), Ty::Number),
                None => {
                    self.invalid_literal(
                        span,
                        format!("percentage `{text}%` is out of range"),
                        "write a percentage like `99.5%`",
                    );
                    (Constant::Null, Ty::Number)
                }
            },
            Literal::Date(text) => match parse_date(text) {
                Some(d) => (Constant::Date(d), Ty::Date),
                None => {
                    self.invalid_literal(
                        span,
                        format!("`{text}` is not a calendar date"),
                        "write dates as YYYY-MM-DD with a real month and day",
                    );
                    (Constant::Null, Ty::Date)
                }
            },
            Literal::Timestamp(text) => match parse_timestamp(text) {
                Some(t) => (Constant::Timestamp(t), Ty::Timestamp),
                None => {
                    self.invalid_literal(
                        span,
                        format!("`{text}` is not a valid RFC 3339 timestamp"),
                        "write timestamps like `2025-06-01T00:00:00Z` or with an offset `+02:00`",
                    );
                    (Constant::Null, Ty::Timestamp)
                }
            },
            Literal::Duration(text) => match parse_duration(text) {
                Some(d) => (Constant::Duration(d), Ty::Duration),
                None => {
                    self.invalid_literal(
                        span,
                        format!("duration `{text}` is out of range"),
                        "durations are whole numbers with units w, d, h, m, s or ms",
                    );
                    (Constant::Null, Ty::Duration)
                }
            },
        };
        (NodeKind::Constant(constant), ty)
    }

    fn invalid_literal(&mut self, span: Span, message: String, help: &str) {
        self.error("semslo::check::invalid_literal", message, span, help);
    }

    fn regex(&mut self, literal: &RegexLiteral, anchored: bool) -> Option<regex::Regex> {
        let pattern = if anchored { format!(r"\A(?:{})\z", literal.pattern) } else { literal.pattern.clone() };
        match RegexBuilder::new(&pattern)
            .case_insensitive(literal.case_insensitive)
            .size_limit(REGEX_SIZE_LIMIT)
            .build()
        {
            Ok(regex) => Some(regex),
            Err(error) => {
                let detail = error.to_string();
                let reason = detail.lines().last().unwrap_or(&detail).trim().trim_start_matches("error: ").to_string();
                self.error(
                    "semslo::check::invalid_regex",
                    format!("invalid regex `/{}/`: {reason}", literal.pattern),
                    literal.span,
                    "the syntax is Rust's `regex` crate (no look-around or backreferences); write `\\/` for a slash",
                );
                None
            }
        }
    }

    fn require(&mut self, found: Ty, expected: Ty, span: Span, what: &str) {
        if found != Ty::Unknown && found != expected {
            self.error(
                "semslo::check::type_mismatch",
                format!("{what}, found a {}", found.name()),
                span,
                format!("this needs a {} here", expected.name()),
            );
        }
    }

    fn check_comparable(&mut self, a: Ty, b: Ty, span: Span) {
        if !comparable(a, b) {
            self.type_error(span, format!("cannot compare a {} with a {}", a.name(), b.name()));
        }
    }

    fn type_error(&mut self, span: Span, message: String) {
        self.error(
            "semslo::check::type_mismatch",
            message,
            span,
            "convert one side explicitly, e.g. `number(x)`, `text(x)`, `date(x)` or `timestamp(x)`",
        );
    }
}
