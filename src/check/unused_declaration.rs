//! `semslo::lint::unused_declaration`: a `use` table, a `let` or a declared segment that
//! nothing refers to. It is usually left over from an edit, or the place meant to use it
//! names something else.
//!
//! A file with a syntax error is skipped (and segments are not checked when any file of
//! the set has one), because the item that failed to parse may be the one that reads
//! the declaration.

use std::collections::HashSet;

use super::LintOptions;
use super::context::SetContext;
use super::walk;
use crate::diagnostic::Diagnostic;
use crate::syntax::ast::{Expr, ExprKind, PolicyFile, Rule};

const CODE: &str = "semslo::lint::unused_declaration";

pub fn check(context: &SetContext, _options: &LintOptions, findings: &mut Vec<Diagnostic>) {
    for file in context.files.iter().filter(|file| file.complete) {
        let mut used_top_level: HashSet<&str> = HashSet::new();
        for expr in walk::file_level_expressions(&file.ast) {
            names_read(expr, &mut Vec::new(), &mut |name| {
                used_top_level.insert(name);
            });
        }
        for rule in &file.ast.rules {
            let used = used_rule_lets(rule, &mut used_top_level);
            for (declaration, used) in rule.lets.iter().zip(used) {
                if !used {
                    findings.push(
                        Diagnostic::warning(CODE, format!("`let {}` is never used", declaration.name.name))
                            .in_file(&file.source)
                            .with_label(declaration.name.span, "declared here")
                            .with_help(format!(
                                "use it in a later `let`, the `when` or an `expect` of rule `{}`, or remove it",
                                rule.name.name
                            )),
                    );
                }
            }
        }
        report_top_level(file, &used_top_level, findings);
    }
    report_segments(context, findings);
}

/// Marks which of the rule's `let`s a later `let` or a condition of the rule reads.
/// Names that resolve past the rule's own `let`s are added to `top_level`.
fn used_rule_lets<'a>(rule: &'a Rule, top_level: &mut HashSet<&'a str>) -> Vec<bool> {
    let mut reads: Vec<(usize, &'a str)> = Vec::new();
    for (position, declaration) in rule.lets.iter().enumerate() {
        names_read(&declaration.value, &mut Vec::new(), &mut |name| reads.push((position, name)));
    }
    for (_, condition) in walk::rule_conditions(rule) {
        names_read(condition, &mut Vec::new(), &mut |name| reads.push((rule.lets.len(), name)));
    }

    let mut used = vec![false; rule.lets.len()];
    for (visible, name) in reads {
        match rule.lets[..visible].iter().rposition(|declaration| declaration.name.name == name) {
            Some(index) => used[index] = true,
            None => {
                top_level.insert(name);
            }
        }
    }
    used
}

fn report_top_level(file: &super::context::ParsedFile, used: &HashSet<&str>, findings: &mut Vec<Diagnostic>) {
    let ast: &PolicyFile = &file.ast;
    for declaration in &ast.uses {
        if !used.contains(declaration.alias.name.as_str()) {
            let name = &declaration.alias.name;
            findings.push(
                Diagnostic::warning(CODE, format!("table `{name}` is never used"))
                    .in_file(&file.source)
                    .with_label(declaration.alias.span, "declared here")
                    .with_help(format!("read it with `x in {name}` or `{name}[key]`, or remove the `use` line")),
            );
        }
    }
    for declaration in &ast.lets {
        if !used.contains(declaration.name.name.as_str()) {
            findings.push(
                Diagnostic::warning(CODE, format!("`let {}` is never used", declaration.name.name))
                    .in_file(&file.source)
                    .with_label(declaration.name.span, "declared here")
                    .with_help("use it in a rule, another `let`, `event time` or an SLO, or remove it"),
            );
        }
    }
}

/// Segments named on a `segments` line that no rule of the set names.
fn report_segments(context: &SetContext, findings: &mut Vec<Diagnostic>) {
    if context.files.iter().any(|file| !file.complete) {
        return;
    }
    let used: HashSet<&str> = context
        .files
        .iter()
        .flat_map(|file| &file.ast.rules)
        .filter_map(|rule| rule.segment.as_ref().map(|segment| segment.name.as_str()))
        .collect();
    for file in &context.files {
        for segment in &file.ast.segments {
            if !used.contains(segment.name.as_str()) {
                findings.push(
                    Diagnostic::warning(CODE, format!("segment `{}` has no rules", segment.name))
                        .in_file(&file.source)
                        .with_label(segment.span, "declared here")
                        .with_help(format!(
                            "put a rule in it with `segment {}`, or remove it from the `segments` line",
                            segment.name
                        )),
                );
            }
        }
    }
}

/// Calls `read` with every name `expr` reads that is not a quantifier variable.
fn names_read<'a>(expr: &'a Expr, locals: &mut Vec<&'a str>, read: &mut dyn FnMut(&'a str)) {
    if let ExprKind::Name(ident) = &expr.kind {
        if !locals.contains(&ident.name.as_str()) {
            read(&ident.name);
        }
        return;
    }
    for child in walk::children(expr) {
        match child.variable {
            Some(variable) => {
                locals.push(variable);
                names_read(child.expr, locals, read);
                locals.pop();
            }
            None => names_read(child.expr, locals, read),
        }
    }
}
