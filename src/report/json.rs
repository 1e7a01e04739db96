//! The JSON form of a report: a check report (schema `semslo.check.v1`, documented
//! in `docs/json-output.md`) or an SLO report (schema `semslo.report.v1`,
//! documented in `docs/slo.md`).

use serde::Serialize;

/// Renders the report as pretty-printed JSON followed by a newline.
pub fn render<T: Serialize>(report: &T) -> String {
    let mut text = serde_json::to_string_pretty(report).expect("reports serialize");
    text.push('\n');
    text
}
