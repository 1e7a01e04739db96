//! `semslo::lint::effective_overlap`: two rows of an effective-dated table with the same
//! key whose validity intervals overlap. A lookup at a time inside both intervals is
//! ambiguous (the row listed first wins), so the data does not say which row applies.

use chrono::{DateTime, Utc};

use super::LintOptions;
use super::bands::{self, instant_text};
use super::context::SetContext;
use crate::compile::table::Row;
use crate::diagnostic::Diagnostic;

const CODE: &str = "semslo::lint::effective_overlap";

pub fn check(context: &SetContext, _options: &LintOptions, findings: &mut Vec<Diagnostic>) {
    for loaded in context.tables.iter().filter(|loaded| loaded.table.effective) {
        let mut by_key: Vec<(&str, Vec<&Row>)> = Vec::new();
        for row in loaded.table.rows.iter().filter(|row| !is_empty(row)) {
            match by_key.iter_mut().find(|(key, _)| *key == row.key) {
                Some((_, rows)) => rows.push(row),
                None => by_key.push((&row.key, vec![row])),
            }
        }
        for (key, rows) in by_key {
            for (i, earlier) in rows.iter().enumerate() {
                for later in &rows[i + 1..] {
                    let Some((from, until)) = intersection(earlier, later) else { continue };
                    let span = match (from, until) {
                        (Some(from), Some(until)) => {
                            format!("from {} until {}", instant_text(from), instant_text(until))
                        }
                        (Some(from), None) => format!("from {} on", instant_text(from)),
                        (None, Some(until)) => format!("until {}", instant_text(until)),
                        (None, None) => "at all times".to_string(),
                    };
                    let rows = bands::describe_pair(loaded, earlier, later);
                    let message = format!("{rows} are both in force for key `{key}` {span}");
                    let diagnostic = Diagnostic::error(CODE, message).with_help(
                        "a lookup in that period could use either row; end the earlier row's validity where the later one's begins",
                    );
                    let rows = [(*later, None, "overlaps"), (*earlier, None, "in force at the same time")];
                    findings.push(bands::row_diagnostic(context, loaded, diagnostic, &rows));
                }
            }
        }
    }
}

/// Tells whether the row's interval is empty, so it is never in force (`empty_validity`
/// reports it).
fn is_empty(row: &Row) -> bool {
    matches!((row.valid_from, row.valid_until), (Some(from), Some(until)) if until <= from)
}

type Interval = (Option<DateTime<Utc>>, Option<DateTime<Utc>>);

/// Returns the common part of two rows' `[from, until)` intervals, `None` when they do not meet.
fn intersection(a: &Row, b: &Row) -> Option<Interval> {
    let from = match (a.valid_from, b.valid_from) {
        (Some(x), Some(y)) => Some(x.max(y)),
        (x, y) => x.or(y),
    };
    let until = match (a.valid_until, b.valid_until) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, y) => x.or(y),
    };
    match (from, until) {
        (Some(from), Some(until)) if until <= from => None,
        interval => Some(interval),
    }
}
