//! Lint findings rendered for machines: a JSON array, SARIF 2.1.0 for code scanning,
//! and GitHub workflow annotations. Human-readable output is the CLI's job, through
//! miette.

pub mod github;
pub mod json;
pub mod sarif;

use crate::diagnostic::{Diagnostic, Severity, SourceFile, Span};

/// A place in a file: 1-based lines, and 1-based columns counted in characters, the end
/// column being the one just after the last character.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Region {
    pub start_line: usize,
    pub start_column: usize,
    pub end_line: usize,
    pub end_column: usize,
}

impl Region {
    pub fn of(source: &SourceFile, span: Span) -> Region {
        let (start_line, start_column) = source.line_column(span.start);
        let (end_line, end_column) = source.line_column(span.end);
        Region { start_line, start_column, end_line, end_column }
    }
}

/// Returns the file and region of a diagnostic's primary label, as far as it has them.
pub fn primary_place(diagnostic: &Diagnostic) -> (Option<&str>, Option<Region>) {
    let Some(source) = &diagnostic.source else { return (None, None) };
    let region = diagnostic.labels.first().map(|label| Region::of(source, label.span));
    (Some(source.name()), region)
}

pub fn severity_name(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}
