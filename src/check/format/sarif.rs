//! Findings as a SARIF 2.1.0 log, the format GitHub code scanning and other tools read.
//!
//! One run with one tool (`semslo`). Its rules are the codes that occur, each with the
//! summary and explanation from [`crate::check::codes`]; each result names its rule,
//! level (`error` or `warning`), message (with the help text on a second line) and the
//! primary place, with secondary labels as related locations. Columns count Unicode
//! code points (`columnKind` says so). File URIs are relative to `base` (the current
//! directory) when the file lies below it, else absolute `file://` URIs.

use std::path::Path;

use serde_json::{Value as Json, json};

use super::{Region, severity_name};
use crate::check::codes;
use crate::diagnostic::{Diagnostic, SourceFile};

/// The schema URI written into the log's `$schema`.
pub const SCHEMA_URI: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// Renders `diagnostics` as a pretty-printed SARIF log; `version` is semslo's version.
pub fn render(diagnostics: &[Diagnostic], version: &str, base: &Path) -> String {
    let mut rule_ids: Vec<&str> = Vec::new();
    for diagnostic in diagnostics {
        if !rule_ids.contains(&diagnostic.code) {
            rule_ids.push(diagnostic.code);
        }
    }
    let rules: Vec<Json> = rule_ids.iter().map(|code| rule(code)).collect();
    let results: Vec<Json> = diagnostics
        .iter()
        .map(|diagnostic| {
            let index = rule_ids.iter().position(|code| *code == diagnostic.code).expect("collected above");
            result(diagnostic, index, base)
        })
        .collect();
    let log = json!({
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "semslo",
                "version": version,
                "rules": rules,
            }},
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    });
    let mut text = serde_json::to_string_pretty(&log).expect("JSON values always serialize");
    text.push('\n');
    text
}

fn rule(code: &str) -> Json {
    let Some(info) = codes::find(code) else {
        return json!({"id": code, "shortDescription": {"text": code}});
    };
    let mut help = info.explanation.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut markdown = help.clone();
    if let Some(example) = info.example {
        help.push_str("\n\nExample:\n");
        help.push_str(example);
        markdown.push_str("\n\nExample:\n\n```\n");
        markdown.push_str(example);
        markdown.push_str("\n```");
    }
    json!({
        "id": code,
        "name": code.rsplit("::").next().unwrap_or(code),
        "shortDescription": {"text": info.summary},
        "fullDescription": {"text": info.explanation.split_whitespace().collect::<Vec<_>>().join(" ")},
        "help": {"text": help, "markdown": markdown},
        "defaultConfiguration": {"level": severity_name(info.severity)},
    })
}

fn result(diagnostic: &Diagnostic, rule_index: usize, base: &Path) -> Json {
    let mut text = diagnostic.message.clone();
    if let Some(help) = &diagnostic.help {
        text.push_str("\nhelp: ");
        text.push_str(help);
    }
    let mut result = json!({
        "ruleId": diagnostic.code,
        "ruleIndex": rule_index,
        "level": severity_name(diagnostic.severity),
        "message": {"text": text},
    });
    let Some(source) = &diagnostic.source else { return result };
    let mut labels = diagnostic.labels.iter();
    let primary = match labels.next() {
        Some(label) => location(source, Some(Region::of(source, label.span)), base),
        None => location(source, None, base),
    };
    result["locations"] = json!([primary]);
    let related: Vec<Json> = labels
        .enumerate()
        .map(|(i, label)| {
            let mut related = location(source, Some(Region::of(source, label.span)), base);
            related["id"] = json!(i + 1);
            if !label.message.is_empty() {
                related["message"] = json!({"text": label.message});
            }
            related
        })
        .collect();
    if !related.is_empty() {
        result["relatedLocations"] = json!(related);
    }
    result
}

fn location(source: &SourceFile, region: Option<Region>, base: &Path) -> Json {
    let mut physical = json!({"artifactLocation": {"uri": uri(Path::new(source.name()), base)}});
    if let Some(region) = region {
        physical["region"] = json!({
            "startLine": region.start_line,
            "startColumn": region.start_column,
            "endLine": region.end_line,
            "endColumn": region.end_column,
        });
    }
    json!({"physicalLocation": physical})
}

/// The URI of `path`: relative with `/` separators when it lies below `base` (or is
/// relative already), else an absolute `file://` URI. Characters other than letters,
/// digits, `-._~/` are percent-encoded.
pub fn uri(path: &Path, base: &Path) -> String {
    let relative = if path.is_absolute() { path.strip_prefix(base).ok() } else { Some(path) };
    match relative {
        Some(relative) => {
            let text = relative.to_string_lossy().replace('\\', "/");
            encode(text.strip_prefix("./").unwrap_or(&text))
        }
        None => {
            let text = path.to_string_lossy().replace('\\', "/");
            let text = if text.starts_with('/') { text } else { format!("/{text}") };
            format!("file://{}", encode(&text))
        }
    }
}

fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~/".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}
