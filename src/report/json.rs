//! The JSON form of a check report (schema `semslo.check.v1`, documented in
//! `docs/json-output.md`).

use super::CheckReport;

/// Renders the report as pretty-printed JSON followed by a newline.
pub fn render(report: &CheckReport) -> String {
    let mut text = serde_json::to_string_pretty(report).expect("reports serialize");
    text.push('\n');
    text
}
