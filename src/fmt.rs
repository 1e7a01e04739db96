//! `semslo fmt`: one canonical layout for policy files.
//!
//! The formatter prints the AST, not the text. Items and properties keep the author's
//! order, values are laid out by a width-aware printer ([`doc`]), and expressions get
//! exactly the parentheses precedence needs ([`expr`]). Literals, strings and regexes
//! are copied from the source, so `1_000`, `14.20` and escapes stay as written.
//!
//! pest drops comments, so the lexer ([`lex`]) collects them with their byte offsets
//! and the printer ([`printer`]) puts each one back before the token that follows it,
//! or at the end of the line of the token it trailed.
//!
//! [`format_source`] checks its own output before returning it: the result must parse
//! to the same AST with spans erased ([`meaning`]) and hold the same comments. A
//! result that fails the check is a formatter bug and is returned as
//! [`FormatError::Internal`] instead of being written anywhere. The layout rules are
//! listed in `docs/fmt.md`.

mod doc;
mod expr;
mod items;
mod json;
mod lex;
pub mod meaning;
mod printer;

use std::collections::HashSet;

pub use lex::comment_texts;

use crate::diagnostic::{Diagnostic, SourceFile};
use crate::syntax::{self, ast::ExprKind, ast::PolicyFile};

/// Maximum line width the layout aims for. Longer lines remain where nothing can be
/// broken: a long string, a `use` line, a deeply nested expression.
pub const WIDTH: usize = 100;

/// Why a file was not formatted.
#[derive(Debug)]
pub enum FormatError {
    /// The file does not parse; its diagnostics.
    Invalid(Vec<Diagnostic>),
    /// The formatted text would parse to a different AST or lose a comment: a bug in
    /// the formatter. The file is left as it is.
    Internal(Diagnostic),
}

/// Formats a policy file read from disk as `text`, named `name` in diagnostics.
///
/// A leading byte-order mark and CRLF line endings are kept: the output uses CRLF when
/// the first line break of `text` is CRLF.
pub fn format_text(name: &str, text: &str) -> Result<String, FormatError> {
    let source = SourceFile::from_text(name, text);
    let formatted = format_source(&source)?;
    let mut out = String::with_capacity(formatted.len() + 3);
    if text.starts_with('\u{FEFF}') {
        out.push('\u{FEFF}');
    }
    let crlf = text.find('\n').is_some_and(|i| text[..i].ends_with('\r'));
    if crlf {
        out.push_str(&formatted.replace('\n', "\r\n"));
    } else {
        out.push_str(&formatted);
    }
    Ok(out)
}

/// Formats `source` (without its byte-order mark) with `\n` line endings.
pub fn format_source(source: &SourceFile) -> Result<String, FormatError> {
    let (ast, diagnostics) = syntax::parse(source);
    if diagnostics.iter().any(Diagnostic::is_error) {
        return Err(FormatError::Invalid(diagnostics));
    }
    let formatted = print(source.text(), &ast);
    verify(source, &ast, &formatted)?;
    Ok(formatted)
}

/// Lays out `ast`, parsed from `text`, with the comments of `text`.
fn print(text: &str, ast: &PolicyFile) -> String {
    let lexed = lex::lex(text);
    let call_parens = call_parentheses(text, ast, &lexed);
    let mut printer = printer::Printer::new(text, lexed, &call_parens);
    let document = printer.file(ast);
    let rendered = doc::render(&document, WIDTH);
    // Indentation is written only before text, so no line ends in spaces; this is a
    // second guard for the `--check` diff.
    let mut out: String = rendered.lines().map(|line| line.trim_end().to_string() + "\n").collect();
    if out.trim().is_empty() {
        out.clear();
    }
    out
}

/// Start offsets of the parentheses of function calls. Every other parenthesis only
/// groups, and the printer replaces those with the ones precedence needs.
fn call_parentheses(text: &str, ast: &PolicyFile, lexed: &lex::Lexed) -> HashSet<usize> {
    let tokens = &lexed.tokens;
    let partners = lex::bracket_partners(text, tokens);
    let mut starts = HashSet::new();
    let mut visit = |e: &crate::syntax::ast::Expr| {
        if let ExprKind::Call(function, _) = &e.kind {
            let open = tokens.partition_point(|t| t.span.start < function.span.end);
            if let Some(close) = partners.get(open).copied().flatten() {
                starts.insert(tokens[open].span.start);
                starts.insert(tokens[close].span.start);
            }
        }
    };
    for_each_expr(ast, &mut visit);
    starts
}

/// Calls `visit` on every expression of `file`.
fn for_each_expr<'a>(file: &'a PolicyFile, visit: &mut dyn FnMut(&'a crate::syntax::ast::Expr)) {
    let mut roots: Vec<&crate::syntax::ast::Expr> = Vec::new();
    roots.extend(&file.event_time);
    roots.extend(file.lets.iter().map(|l| &l.value));
    for rule in &file.rules {
        roots.extend(&rule.when);
        roots.extend(rule.lets.iter().map(|l| &l.value));
        roots.extend(&rule.expects);
        roots.extend(rule.waivers.iter().map(|w| &w.condition));
    }
    for slo in &file.slos {
        roots.extend(&slo.valid);
        roots.extend(&slo.by);
    }
    for root in roots {
        expr::walk(root, visit);
    }
}

/// Rejects a result that parses differently from the original or lost a comment.
fn verify(source: &SourceFile, original: &PolicyFile, formatted: &str) -> Result<(), FormatError> {
    let reparsed_source = SourceFile::from_text(source.name(), formatted);
    let (reparsed, diagnostics) = syntax::parse(&reparsed_source);
    let problem = if diagnostics.iter().any(Diagnostic::is_error) {
        Some("the formatted text does not parse")
    } else if !meaning::same_meaning(original, &reparsed) {
        Some("the formatted text parses to a different policy")
    } else if sorted(comment_texts(source.text())) != sorted(comment_texts(formatted)) {
        Some("the formatted text does not keep every comment")
    } else {
        None
    };
    match problem {
        None => Ok(()),
        Some(problem) => Err(FormatError::Internal(
            Diagnostic::error(
                "semslo::fmt::internal",
                format!("cannot format `{}`: {problem}; the file was left unchanged", source.name()),
            )
            .with_help("this is a bug in `semslo fmt`; please report it with the file"),
        )),
    }
}

fn sorted(mut texts: Vec<String>) -> Vec<String> {
    texts.sort();
    texts
}
