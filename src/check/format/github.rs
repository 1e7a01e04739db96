//! Findings as GitHub Actions workflow commands, which the Actions runner turns into
//! annotations on the pull request:
//!
//! ```text
//! ::error file=policies/a.slo,line=3,col=5,endLine=3,endColumn=9,title=semslo::check::unknown_name::unknown name `x`
//! ```
//!
//! `col` and `endColumn` are given only for findings on one line, because GitHub
//! ignores columns of annotations that span several lines. The help text follows the
//! message on a second line.

use std::fmt::Write as _;

use super::{primary_place, severity_name};
use crate::diagnostic::Diagnostic;

/// Renders one command line per finding.
pub fn render(diagnostics: &[Diagnostic]) -> String {
    let mut out = String::new();
    for diagnostic in diagnostics {
        let mut properties = Vec::new();
        let (file, region) = primary_place(diagnostic);
        if let Some(file) = file {
            properties.push(format!("file={}", escape_property(&file.replace('\\', "/"))));
        }
        if let Some(region) = region {
            properties.push(format!("line={}", region.start_line));
            if region.start_line == region.end_line {
                properties.push(format!("col={}", region.start_column));
            }
            properties.push(format!("endLine={}", region.end_line));
            if region.start_line == region.end_line {
                properties.push(format!("endColumn={}", region.end_column));
            }
        }
        properties.push(format!("title={}", escape_property(diagnostic.code)));
        let mut message = diagnostic.message.clone();
        if let Some(help) = &diagnostic.help {
            let _ = write!(message, "\nhelp: {help}");
        }
        let _ = writeln!(
            out,
            "::{} {}::{}",
            severity_name(diagnostic.severity),
            properties.join(","),
            escape_data(&message)
        );
    }
    out
}

/// Escapes a command's message: `%`, carriage return and line feed.
pub fn escape_data(text: &str) -> String {
    text.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

/// Escapes a property value: as [`escape_data`], plus `:` and `,`.
pub fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}
