//! What formatting must not change: the AST with its spans erased.
//!
//! Two files mean the same when their ASTs are equal after [`erase_layout`]: every span
//! set to `0..0`, and every inline JSON record reduced to its tokens (strings, numbers
//! and literals exactly as written, punctuation, no white space or comments).

use crate::diagnostic::Span;
use crate::syntax::ast::{
    AlertSpec, Binding, Costs, Expr, ExprKind, GivenRecord, Ident, Let, PolicyFile, RegexLiteral, Rule, Slo, TestCase,
    TestExpect, Use, Waiver,
};

/// Whether `a` and `b` differ at most in layout.
pub fn same_meaning(a: &PolicyFile, b: &PolicyFile) -> bool {
    erase_layout(a) == erase_layout(b)
}

/// A copy of `file` without layout: spans zeroed, inline JSON reduced to its tokens.
pub fn erase_layout(file: &PolicyFile) -> PolicyFile {
    let mut file = file.clone();
    // `unparsed` has no layout: it names items, and formatting needs a file that parses.
    let PolicyFile { name, schema, uses, event_time, lets, segments, rules, slos, costs, tests, unparsed: _ } =
        &mut file;
    name.iter_mut().for_each(ident);
    schema.iter_mut().for_each(|(_, span)| zero(span));
    uses.iter_mut().for_each(use_declaration);
    event_time.iter_mut().for_each(expr);
    lets.iter_mut().for_each(let_declaration);
    segments.iter_mut().for_each(ident);
    rules.iter_mut().for_each(rule);
    slos.iter_mut().for_each(slo);
    costs.iter_mut().for_each(|Costs { span, .. }| zero(span));
    tests.iter_mut().for_each(test);
    file
}

fn zero(span: &mut Span) {
    *span = Span::default();
}

fn ident(ident: &mut Ident) {
    zero(&mut ident.span);
}

fn use_declaration(declaration: &mut Use) {
    let Use { path: _, path_span, alias, key, effective, span } = declaration;
    zero(path_span);
    ident(alias);
    key.iter_mut().for_each(ident);
    if let Some((from, until)) = effective {
        ident(from);
        ident(until);
    }
    zero(span);
}

fn let_declaration(declaration: &mut Let) {
    ident(&mut declaration.name);
    expr(&mut declaration.value);
    zero(&mut declaration.span);
}

fn rule(rule: &mut Rule) {
    let Rule { name, mode_until, segment, when, lets, expects, waivers, span, head_span, .. } = rule;
    ident(name);
    mode_until.iter_mut().for_each(|(_, span)| zero(span));
    segment.iter_mut().for_each(ident);
    when.iter_mut().for_each(expr);
    lets.iter_mut().for_each(let_declaration);
    expects.iter_mut().for_each(expr);
    waivers.iter_mut().for_each(|Waiver { condition, until, span, .. }| {
        expr(condition);
        zero(&mut until.1);
        zero(span);
    });
    zero(span);
    zero(head_span);
}

fn slo(slo: &mut Slo) {
    let Slo { name, objective, window, time_zone, valid, good, minimum_runs, alerts, by, span, head_span, .. } = slo;
    ident(name);
    objective.iter_mut().for_each(|(_, span)| zero(span));
    window.iter_mut().for_each(|(_, span)| zero(span));
    time_zone.iter_mut().for_each(|(_, span)| zero(span));
    valid.iter_mut().for_each(expr);
    if let Some((condition, span)) = good {
        if let crate::syntax::ast::GoodCondition::RulesPass(names) = condition {
            names.iter_mut().for_each(ident);
        }
        zero(span);
    }
    minimum_runs.iter_mut().for_each(|(_, span)| zero(span));
    alerts.iter_mut().for_each(|AlertSpec { name, span, .. }| {
        ident(name);
        zero(span);
    });
    by.iter_mut().for_each(expr);
    zero(span);
    zero(head_span);
}

fn test(test: &mut TestCase) {
    let TestCase { given, expects, span, head_span, .. } = test;
    match given {
        Some(GivenRecord::File { span, .. }) => zero(span),
        Some(GivenRecord::Inline { json, span }) => {
            *json = json_tokens(json);
            zero(span);
        }
        None => {}
    }
    expects.iter_mut().for_each(|TestExpect { target, span, .. }| {
        ident(target);
        zero(span);
    });
    zero(span);
    zero(head_span);
}

/// The tokens of a JSON text run together, without white space and `#` comments.
fn json_tokens(json: &str) -> String {
    let bytes = json.as_bytes();
    let mut out = String::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'#' => {
                while i < bytes.len() && !matches!(bytes[i], b'\n' | b'\r') {
                    i += 1;
                }
            }
            b'"' => {
                let start = i;
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                i = (i + 1).min(bytes.len());
                out.push_str(&json[start..i]);
            }
            byte if byte.is_ascii_whitespace() => i += 1,
            _ => {
                let c = json[i..].chars().next().expect("in bounds");
                if c != '\u{FEFF}' {
                    out.push(c);
                }
                i += c.len_utf8();
            }
        }
    }
    out
}

fn regex(regex: &mut RegexLiteral) {
    zero(&mut regex.span);
}

fn binding(binding: &mut Binding) {
    ident(&mut binding.variable);
    expr(&mut binding.collection);
    binding.filter.iter_mut().for_each(|filter| expr(filter));
}

fn expr(e: &mut Expr) {
    zero(&mut e.span);
    match &mut e.kind {
        ExprKind::Literal(_) => {}
        ExprKind::Name(name) => ident(name),
        ExprKind::List(items) => items.iter_mut().for_each(expr),
        ExprKind::Call(function, args) => {
            ident(function);
            args.iter_mut().for_each(expr);
        }
        ExprKind::Field(base, field) => {
            expr(base);
            ident(field);
        }
        ExprKind::Not(inner) | ExprKind::Negate(inner) => expr(inner),
        ExprKind::Index(a, b) | ExprKind::Binary(_, a, b) | ExprKind::Otherwise(a, b) => {
            expr(a);
            expr(b);
        }
        ExprKind::Compare { left, right, tolerance, .. } => {
            expr(left);
            expr(right);
            tolerance.iter_mut().for_each(|t| expr(t));
        }
        ExprKind::Within { value: a, tolerance: b, target: c }
        | ExprKind::Between { value: a, low: b, high: c, .. }
        | ExprKind::If { condition: a, then: b, otherwise: c } => {
            expr(a);
            expr(b);
            expr(c);
        }
        ExprKind::In { value, collection: other, .. }
        | ExprKind::Text { value, pattern: other, .. }
        | ExprKind::Order { left: value, right: other, .. } => {
            expr(value);
            expr(other);
        }
        ExprKind::Matches { value, regex: r, .. } | ExprKind::ContainsRegex { value, regex: r, .. } => {
            expr(value);
            regex(r);
        }
        ExprKind::Exists { value, .. } | ExprKind::IsMissing { value, .. } | ExprKind::IsNull { value, .. } => {
            expr(value)
        }
        ExprKind::Quantifier { binding: b, body, .. } => {
            binding(b);
            expr(body);
        }
        ExprKind::Count(b) | ExprKind::Find { binding: b, .. } => binding(b),
        ExprKind::Comprehension { element, binding: b } => {
            expr(element);
            binding(b);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::SourceFile;

    fn parse(text: &str) -> PolicyFile {
        let (file, diagnostics) = crate::syntax::parse(&SourceFile::from_text("t.slo", text));
        assert!(diagnostics.is_empty(), "{diagnostics:?}");
        file
    }

    #[test]
    fn layout_does_not_change_meaning() {
        let a = parse("rule r {\n  expect (a and b) or c # why\n}\n");
        let b = parse("rule r { expect a and b\n   or c }");
        assert!(same_meaning(&a, &b));
    }

    #[test]
    fn parentheses_that_regroup_change_meaning() {
        let a = parse("rule r { expect a and (b or c) }");
        let b = parse("rule r { expect a and b or c }");
        assert!(!same_meaning(&a, &b));
    }

    #[test]
    fn json_layout_does_not_change_meaning_but_values_do() {
        let a = parse("test \"t\" { given record {\"a\": 0.30, # c\n \"b\": [1]} expect r passes }");
        let b = parse("test \"t\" {\n  given record {\n    \"a\": 0.30,\n    \"b\": [1]\n  }\n  expect r passes\n}");
        let c = parse("test \"t\" { given record {\"a\": 0.3, \"b\": [1]} expect r passes }");
        assert!(same_meaning(&a, &b));
        assert!(!same_meaning(&a, &c), "0.30 and 0.3 are different texts");
    }
}
