//! Walking expressions: the sub-expressions of each kind, and which of them see a
//! quantifier variable.

use crate::syntax::ast::{Binding, Expr, ExprKind, PolicyFile, Rule};

/// A direct sub-expression, and the variable of the binding it is evaluated under.
pub struct Child<'a> {
    pub expr: &'a Expr,
    pub variable: Option<&'a str>,
}

/// The direct sub-expressions of `expr`, in source order.
pub fn children(expr: &Expr) -> Vec<Child<'_>> {
    fn plain(expr: &Expr) -> Child<'_> {
        Child { expr, variable: None }
    }
    match &expr.kind {
        ExprKind::Literal(_) | ExprKind::Name(_) => Vec::new(),
        ExprKind::List(items) | ExprKind::Call(_, items) => items.iter().map(plain).collect(),
        ExprKind::Field(base, _) => vec![plain(base)],
        ExprKind::Index(base, index) => vec![plain(base), plain(index)],
        ExprKind::Not(inner) | ExprKind::Negate(inner) => vec![plain(inner)],
        ExprKind::Binary(_, left, right) | ExprKind::Otherwise(left, right) | ExprKind::Order { left, right, .. } => {
            vec![plain(left), plain(right)]
        }
        ExprKind::Compare { left, right, tolerance, .. } => {
            let mut children = vec![plain(left), plain(right)];
            children.extend(tolerance.as_deref().map(plain));
            children
        }
        ExprKind::Within { value, tolerance, target } => vec![plain(value), plain(tolerance), plain(target)],
        ExprKind::Between { value, low, high, .. } => vec![plain(value), plain(low), plain(high)],
        ExprKind::In { value, collection, .. } => vec![plain(value), plain(collection)],
        ExprKind::Text { value, pattern, .. } => vec![plain(value), plain(pattern)],
        ExprKind::Matches { value, .. }
        | ExprKind::ContainsRegex { value, .. }
        | ExprKind::Exists { value, .. }
        | ExprKind::IsMissing { value, .. }
        | ExprKind::IsNull { value, .. } => vec![plain(value)],
        ExprKind::If { condition, then, otherwise } => vec![plain(condition), plain(then), plain(otherwise)],
        ExprKind::Quantifier { binding, body, .. } => bound(binding, Some(body)),
        ExprKind::Count(binding) | ExprKind::Find { binding, .. } => bound(binding, None),
        ExprKind::Comprehension { element, binding } => bound(binding, Some(element)),
    }
}

/// A binding's collection (outside the variable's scope), then its filter and `body`.
fn bound<'a>(binding: &'a Binding, body: Option<&'a Expr>) -> Vec<Child<'a>> {
    let variable = Some(binding.variable.name.as_str());
    let mut children = vec![Child { expr: &binding.collection, variable: None }];
    children.extend(binding.filter.as_deref().map(|expr| Child { expr, variable }));
    children.extend(body.map(|expr| Child { expr, variable }));
    children
}

/// Calls `visit` on `expr` and every expression below it, outermost first.
pub fn for_each<'a>(expr: &'a Expr, visit: &mut dyn FnMut(&'a Expr)) {
    visit(expr);
    for child in children(expr) {
        for_each(child.expr, visit);
    }
}

/// The conditions of a rule that decide its verdict: `when`, every `expect`, and each
/// waiver's condition, with the keyword that introduces each.
pub fn rule_conditions(rule: &Rule) -> Vec<(&'static str, &Expr)> {
    let mut conditions = Vec::new();
    conditions.extend(rule.when.iter().map(|expr| ("when", expr)));
    conditions.extend(rule.expects.iter().map(|expr| ("expect", expr)));
    conditions.extend(rule.waivers.iter().map(|waiver| ("waive when", &waiver.condition)));
    conditions
}

/// Every expression of a file outside rules: top-level `let` values, `event time`, and
/// each SLO's `valid` and `by`.
pub fn file_level_expressions(file: &PolicyFile) -> Vec<&Expr> {
    let mut expressions: Vec<&Expr> = file.lets.iter().map(|declaration| &declaration.value).collect();
    expressions.extend(file.event_time.iter());
    for slo in &file.slos {
        expressions.extend(slo.valid.iter());
        expressions.extend(slo.by.iter());
    }
    expressions
}
