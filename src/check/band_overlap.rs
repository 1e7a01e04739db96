//! `semslo::lint::band_overlap`: two bands of one band table group that share values.
//! A value in the shared range belongs to both bands, so which band applies depends on
//! the row a lookup happens to reach. Adjacent bands written with inclusive edges on
//! both sides (`0..1000` then `1000..5000`) share their meeting point. The band table
//! convention is described in `bands.rs`.

use super::LintOptions;
use super::bands::{self, Junction, interval_text};
use super::context::SetContext;
use crate::diagnostic::Diagnostic;

const CODE: &str = "semslo::lint::band_overlap";

pub fn check(context: &SetContext, _options: &LintOptions, findings: &mut Vec<Diagnostic>) {
    for band_table in bands::band_tables(context) {
        let loaded = band_table.table;
        for group in &band_table.groups {
            for junction in bands::junctions(group) {
                let Junction::Overlap { earlier, later, to, .. } = junction else { continue };
                let from = later.low.map_or_else(|| "-∞".to_string(), |p| p.to_string());
                let to = to.map_or_else(|| "∞".to_string(), |p| p.to_string());
                let shared =
                    if from == to { format!("the value {from}") } else { format!("values from {from} to {to}") };
                let within = group.name.as_ref().map(|name| format!(" ({name})")).unwrap_or_default();
                let message = format!("two bands of `{}` both contain {shared}{within}", loaded.table.name);
                let help = if from == to {
                    format!(
                        "{} and {} meet at {from} with inclusive edges on both sides; give one of them `edges` `[)` or `(]`",
                        interval_text(earlier),
                        interval_text(later)
                    )
                } else {
                    format!(
                        "{} and {} overlap; end the first where the second starts",
                        interval_text(earlier),
                        interval_text(later)
                    )
                };
                let diagnostic = Diagnostic::warning(CODE, message).with_help(help);
                let rows = [
                    (later.row, later.element, "overlaps the earlier band"),
                    (earlier.row, earlier.element, "earlier band"),
                ];
                findings.push(bands::row_diagnostic(context, loaded, diagnostic, &rows));
            }
        }
    }
}
