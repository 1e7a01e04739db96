//! `semslo::lint::constant_condition`: a `when`, `expect` or `valid when` whose value
//! does not depend on the run (it reads only literals, or `let`s of literals), and a
//! comparison of a field path with itself anywhere in a rule or SLO. Either has the
//! same outcome on every run, which is almost never what the author meant.
//!
//! With a record schema, `PATH exists` and `PATH is missing` are constant too when the
//! schema requires every field of the path (reported from `unknown_field`, which
//! follows paths through the schema).
//!
//! Waiver conditions are not checked: `waive when true until DATE` is a deliberate way
//! to pause a rule until a date.

use std::collections::HashMap;

use super::LintOptions;
use super::context::{ParsedFile, SetContext};
use super::paths::FieldRead;
use super::walk;
use crate::diagnostic::{Diagnostic, Span};
use crate::syntax::ast::{Binding, CompareOp, Expr, ExprKind, Literal};

const CODE: &str = "semslo::lint::constant_condition";

/// Whether each visible `let` is constant, by name.
type Lets<'a> = HashMap<&'a str, bool>;

pub fn check(context: &SetContext, _options: &LintOptions, findings: &mut Vec<Diagnostic>) {
    for file in &context.files {
        let mut lets: Lets<'_> = HashMap::new();
        for declaration in &file.ast.lets {
            let constant = !depends_on_run(&declaration.value, &lets, &mut Vec::new());
            lets.insert(&declaration.name.name, constant);
        }
        for rule in &file.ast.rules {
            let mut rule_lets = lets.clone();
            for declaration in &rule.lets {
                let constant = !depends_on_run(&declaration.value, &rule_lets, &mut Vec::new());
                rule_lets.insert(&declaration.name.name, constant);
                self_comparisons(file, &declaration.value, findings);
            }
            for (keyword, condition) in walk::rule_conditions(rule) {
                if keyword != "waive when" {
                    constant_clause(file, keyword, condition, &rule_lets, findings);
                }
                self_comparisons(file, condition, findings);
            }
        }
        for slo in &file.ast.slos {
            if let Some(valid) = &slo.valid {
                constant_clause(file, "valid when", valid, &lets, findings);
                self_comparisons(file, valid, findings);
            }
        }
    }
}

fn constant_clause(
    file: &ParsedFile,
    keyword: &str,
    condition: &Expr,
    lets: &Lets<'_>,
    findings: &mut Vec<Diagnostic>,
) {
    if depends_on_run(condition, lets, &mut Vec::new()) {
        return;
    }
    let (message, label) = match &condition.kind {
        ExprKind::Literal(Literal::Bool(value)) => {
            (format!("`{keyword} {value}` is {value} on every run"), format!("always {value}"))
        }
        _ => (
            format!("this `{keyword}` condition does not read the run, so it has the same value on every run"),
            "reads only literals".to_string(),
        ),
    };
    let help = match keyword {
        "when" => {
            "a constant `when` makes the rule apply to every run or to none; test a field of the run, or remove the `when`"
        }
        "valid when" => {
            "a constant `valid when` makes every run valid or none; test a field of the run, or remove the line"
        }
        _ => "a constant `expect` passes or fails every run whatever the agent did; compare a field of the run",
    };
    findings.push(
        Diagnostic::warning(CODE, message).in_file(&file.source).with_label(condition.span, label).with_help(help),
    );
}

/// Reports every comparison in `expr` whose two sides are the same field path.
fn self_comparisons(file: &ParsedFile, expr: &Expr, findings: &mut Vec<Diagnostic>) {
    walk::for_each(expr, &mut |node| {
        let (left, right, always) = match &node.kind {
            ExprKind::Compare { op, left, right, .. } => {
                let always = matches!(op, CompareOp::Equal | CompareOp::LessOrEqual | CompareOp::GreaterOrEqual);
                (left, right, always)
            }
            ExprKind::Within { value, target, .. } => (value, target, true),
            _ => return,
        };
        let (Some(path), Some(other)) = (left.path_text(), right.path_text()) else { return };
        if path != other {
            return;
        }
        findings.push(
            Diagnostic::warning(CODE, format!("`{path}` is compared with itself"))
                .in_file(&file.source)
                .with_label(node.span, format!("always {always} when `{path}` is present"))
                .with_help("one side probably names the wrong field; compare it with the value it should match"),
        );
    });
}

/// Tells whether `expr` reads the run: a record field, `record`, a table (whose rows can
/// depend on the run's event time), or a `let` or quantifier variable that does.
fn depends_on_run<'a>(expr: &'a Expr, lets: &Lets<'a>, locals: &mut Vec<(&'a str, bool)>) -> bool {
    match &expr.kind {
        ExprKind::Literal(_) => false,
        ExprKind::Name(ident) => {
            let name = ident.name.as_str();
            if let Some((_, constant)) = locals.iter().rev().find(|(local, _)| *local == name) {
                return !constant;
            }
            lets.get(name).is_none_or(|constant| !constant)
        }
        _ => {
            let binding = binding_of(expr);
            let variable_constant = binding.is_some_and(|b| !depends_on_run(&b.collection, lets, locals));
            walk::children(expr).into_iter().any(|child| match child.variable {
                Some(variable) => {
                    locals.push((variable, variable_constant));
                    let depends = depends_on_run(child.expr, lets, locals);
                    locals.pop();
                    depends
                }
                None => depends_on_run(child.expr, lets, locals),
            })
        }
    }
}

fn binding_of(expr: &Expr) -> Option<&Binding> {
    match &expr.kind {
        ExprKind::Quantifier { binding, .. }
        | ExprKind::Count(binding)
        | ExprKind::Find { binding, .. }
        | ExprKind::Comprehension { binding, .. } => Some(binding),
        _ => None,
    }
}

/// `PATH exists` or `PATH is missing` where the record schema requires every field of
/// the path, so the test has the same outcome on every run that matches the schema.
pub fn required_field_test(file: &ParsedFile, schema: &str, read: &FieldRead, test: Span) -> Diagnostic {
    let path = &read.path;
    Diagnostic::warning(
        CODE,
        format!("`{path}` is required by the record schema, so testing whether it exists is constant"),
    )
    .in_file(&file.source)
    .with_label(test, format!("same outcome on every run that matches `{schema}`"))
    .with_help("remove the test, or make the field optional in the schema if some runs lack it")
}
