//! Findings as a JSON array, one object per finding (documented in `docs/lint.md`):
//!
//! ```json
//! [{"code": "semslo::check::unknown_name", "severity": "error",
//!   "message": "unknown name `deprioritised_vendors`", "help": "did you mean ...?",
//!   "file": "policies/procurement/procurement.slo",
//!   "line": 12, "column": 35, "end_line": 12, "end_column": 56,
//!   "labels": [{"message": "", "line": 12, "column": 35, "end_line": 12, "end_column": 56}]}]
//! ```
//!
//! `file`, the position fields and `help` are `null` when the finding has none.

use serde_json::{Value as Json, json};

use super::{Region, primary_place, severity_name};
use crate::diagnostic::Diagnostic;

/// Renders `diagnostics` as a pretty-printed JSON array with a final newline.
pub fn render(diagnostics: &[Diagnostic]) -> String {
    let findings: Vec<Json> = diagnostics.iter().map(finding).collect();
    let mut text = serde_json::to_string_pretty(&findings).expect("JSON values always serialize");
    text.push('\n');
    text
}

fn finding(diagnostic: &Diagnostic) -> Json {
    let (file, region) = primary_place(diagnostic);
    let labels: Vec<Json> = match &diagnostic.source {
        Some(source) => diagnostic
            .labels
            .iter()
            .map(|label| {
                let mut object = position(Some(Region::of(source, label.span)));
                object["message"] = json!(label.message);
                object
            })
            .collect(),
        None => Vec::new(),
    };
    let mut object = json!({
        "code": diagnostic.code,
        "severity": severity_name(diagnostic.severity),
        "message": diagnostic.message,
        "help": diagnostic.help,
        "file": file,
    });
    let Json::Object(fields) = &mut object else { unreachable!("built as an object") };
    let Json::Object(place) = position(region) else { unreachable!("built as an object") };
    fields.extend(place);
    fields.insert("labels".to_string(), Json::Array(labels));
    object
}

fn position(region: Option<Region>) -> Json {
    json!({
        "line": region.map(|r| r.start_line),
        "column": region.map(|r| r.start_column),
        "end_line": region.map(|r| r.end_line),
        "end_column": region.map(|r| r.end_column),
    })
}
