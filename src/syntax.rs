//! Syntax: policy source text to an AST, with every syntax error of a file.
//!
//! The file is split into top-level items first ([`scan`]), and each item is
//! parsed on its own, so all syntax errors of a file are reported together.

pub mod ast;
mod parser;
mod scan;

pub use parser::{MAX_EXPR_DEPTH, parse_expression};
pub use scan::MAX_BRACKET_DEPTH;

use crate::diagnostic::{Diagnostic, SourceFile};
use ast::PolicyFile;

/// Stack size of the parsing thread. pest's stack guard stops well before this is
/// used up, so hostile nesting gets a diagnostic, never a stack overflow.
const PARSER_STACK_BYTES: usize = 64 * 1024 * 1024;

/// Parses one policy file. Returns the items that parsed, and a diagnostic for each
/// item that did not; the AST is usable only when no diagnostic is an error.
pub fn parse(source: &SourceFile) -> (PolicyFile, Vec<Diagnostic>) {
    let source = source.clone();
    std::thread::Builder::new()
        .name("semslo-parser".into())
        .stack_size(PARSER_STACK_BYTES)
        .spawn(move || parse_on_this_thread(&source))
        .expect("spawning the parser thread")
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

fn parse_on_this_thread(source: &SourceFile) -> (PolicyFile, Vec<Diagnostic>) {
    let scanned = scan::scan(source);
    let mut diagnostics = scanned.diagnostics;
    let mut file = PolicyFile::default();
    if !diagnostics.is_empty() {
        return (file, diagnostics);
    }
    for item in scanned.items {
        if let Err(diagnostic) = parser::parse_item(source, item, &mut file) {
            diagnostics.push(diagnostic);
            file.unparsed.extend(declared_name(&source.text()[item.start..item.end]));
        }
    }
    (file, diagnostics)
}

/// Returns the name a `rule NAME` or `slo NAME` item declares, read from its text.
fn declared_name(item: &str) -> Option<String> {
    let mut words = item.split_whitespace();
    if !matches!(words.next(), Some("rule" | "slo")) {
        return None;
    }
    let name: String = words.next()?.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
    (!name.is_empty()).then_some(name)
}
