//! `semslo::lint::empty_validity`: a row of an effective-dated table whose `until` is
//! not after its `since`, so it is never in force. Usually the two dates are swapped or
//! one has a typo.

use super::LintOptions;
use super::bands::{self, instant_text};
use super::context::SetContext;
use crate::diagnostic::Diagnostic;

const CODE: &str = "semslo::lint::empty_validity";

pub fn check(context: &SetContext, _options: &LintOptions, findings: &mut Vec<Diagnostic>) {
    for loaded in context.tables.iter().filter(|loaded| loaded.table.effective) {
        let Some((from_column, until_column)) = &loaded.declaration.effective else { continue };
        for row in &loaded.table.rows {
            let (Some(from), Some(until)) = (row.valid_from, row.valid_until) else { continue };
            if until > from {
                continue;
            }
            let message = format!(
                "{} is never in force: `{}` {} is not after `{}` {}",
                bands::describe(loaded, row, None),
                until_column.name,
                instant_text(until),
                from_column.name,
                instant_text(from)
            );
            let diagnostic = Diagnostic::warning(CODE, message).with_help(format!(
                "a row is in force from `{}` (inclusive) until `{}` (exclusive); swap the dates or fix the typo",
                from_column.name, until_column.name
            ));
            findings.push(bands::row_diagnostic(context, loaded, diagnostic, &[(row, None, "never in force")]));
        }
    }
}
