//! `semslo::lint::band_gap`: values that fall in no band of a band table group, between
//! two neighbouring bands. A run whose value falls in the gap matches no band, so a rule
//! that looks its band up fails or errors on it. The band table convention is described
//! in `bands.rs`.

use super::LintOptions;
use super::bands::{self, Junction, interval_text};
use super::context::SetContext;
use crate::diagnostic::Diagnostic;

const CODE: &str = "semslo::lint::band_gap";

pub fn check(context: &SetContext, _options: &LintOptions, findings: &mut Vec<Diagnostic>) {
    for band_table in bands::band_tables(context) {
        let loaded = band_table.table;
        for group in &band_table.groups {
            for junction in bands::junctions(group) {
                let Junction::Gap { earlier, later } = junction else { continue };
                let (Some(high), Some(low)) = (earlier.high, later.low) else { continue };
                let values = if high == low {
                    format!("the value {high} itself")
                } else {
                    format!("values between {high} and {low}")
                };
                let within = group.name.as_ref().map(|name| format!(" ({name})")).unwrap_or_default();
                let message = format!("band table `{}` has no band for {values}{within}", loaded.table.name);
                let diagnostic = Diagnostic::warning(CODE, message).with_help(format!(
                    "{} and {} leave {values} uncovered; start each band where the previous one ends, with `edges` `[)` on the lower band so the meeting point belongs to one band",
                    interval_text(earlier),
                    interval_text(later),
                ));
                let rows = [
                    (later.row, later.element, "starts after the gap"),
                    (earlier.row, earlier.element, "ends before the gap"),
                ];
                findings.push(bands::row_diagnostic(context, loaded, diagnostic, &rows));
            }
        }
    }
}
