//! `semslo::lint::invalid_band`: a row of a band table whose band cannot be compared
//! with the others. Its edge is not a number, date or timestamp, its `edges` value is not
//! `[]`, `[)`, `(]` or `()`, or it contains no value at all (`min` above `max`). The band table convention is described in `bands.rs`.

use super::LintOptions;
use super::bands::{self, interval_text};
use super::context::SetContext;
use crate::diagnostic::Diagnostic;

const CODE: &str = "semslo::lint::invalid_band";

pub fn check(context: &SetContext, _options: &LintOptions, findings: &mut Vec<Diagnostic>) {
    for band_table in bands::band_tables(context) {
        let loaded = band_table.table;
        for problem in &band_table.problems {
            let place = bands::describe(loaded, problem.row, problem.element);
            let diagnostic = Diagnostic::warning(CODE, format!("{place}: {}", problem.message)).with_help(
                "band edges are numbers, dates or timestamps (empty for an open end); `edges` is `[]`, `[)`, `(]` or `()`",
            );
            findings.push(bands::row_diagnostic(
                context,
                loaded,
                diagnostic,
                &[(problem.row, problem.element, "this band")],
            ));
        }
        for band in band_table.groups.iter().flat_map(|group| &group.bands).filter(|band| band.is_empty()) {
            let place = bands::describe(loaded, band.row, band.element);
            let diagnostic =
                Diagnostic::warning(CODE, format!("{place}: the band {} contains no value", interval_text(band)))
                    .with_help("swap `min` and `max`, or make an edge inclusive with `edges` `[]`");
            findings.push(bands::row_diagnostic(
                context,
                loaded,
                diagnostic,
                &[(band.row, band.element, "empty band")],
            ));
        }
    }
}
