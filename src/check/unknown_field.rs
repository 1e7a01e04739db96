//! `semslo::lint::unknown_field`: a field path the records do not have. With a record
//! schema (`schema "FILE"` in a policy), it is a path whose field the schema does not
//! list. With sample runs (`--records`), it is a path present in none of them. Either
//! way the rule that reads it skips or errors on every run, and silently so in a `when`.
//!
//! Each missing prefix is reported once per file (schema) or per set (samples), at its
//! first read, with "did you mean" among the fields the schema lists or the runs hold
//! beside it.

use std::collections::HashSet;

use super::context::{ParsedFile, SetContext};
use super::paths::{self, FieldPath, FieldRead, Segment};
use super::samples::SetSamples;
use super::schema::{Followed, RecordSchema};
use super::{LintOptions, constant_condition};
use crate::diagnostic::{Diagnostic, did_you_mean};

const CODE: &str = "semslo::lint::unknown_field";

/// Most field names listed in help when none is close to the unknown one.
const MAX_LISTED: usize = 12;

/// Checks every path of every file against the file's record schema.
pub fn check_schema(context: &SetContext, _options: &LintOptions, findings: &mut Vec<Diagnostic>) {
    for (file, schema) in context.files.iter().zip(&context.schemas) {
        let Some(schema) = schema else { continue };
        let mut reported = HashSet::new();
        for read in paths::file_reads(&file.ast) {
            match schema.follow(&read.path) {
                Followed::UnknownField { index, listed } => {
                    if reported.insert(prefix(&read.path, index)) && !reported_by_compile(context, file, &read, index) {
                        findings.push(schema_unknown(file, schema, &read, index, &listed));
                    }
                }
                Followed::NotObject { index, types } => {
                    if reported.insert(prefix(&read.path, index)) {
                        findings.push(schema_not_object(file, schema, &read, index, &types));
                    }
                }
                Followed::Known { required: true } => {
                    if let Some(test) = read.presence_test {
                        findings.push(constant_condition::required_field_test(file, &schema.display, &read, test));
                    }
                }
                Followed::Known { required: false } | Followed::Unchecked => {}
            }
        }
    }
}

fn schema_unknown(
    file: &ParsedFile,
    schema: &RecordSchema,
    read: &FieldRead,
    index: usize,
    listed: &[String],
) -> Diagnostic {
    let path = prefix(&read.path, index);
    let name = field_name(&read.path, index);
    let parent = parent_text(&read.path, index);
    let help = match did_you_mean(name, listed.iter().map(String::as_str)) {
        Some(close) => format!(
            "did you mean `{}`? If runs carry `{name}`, add it to the schema",
            sibling(&read.path, index, close)
        ),
        None => format!("the schema lists {} there; if runs carry `{name}`, add it to the schema", list(listed)),
    };
    Diagnostic::warning(CODE, format!("`{path}` is not in the record schema"))
        .in_file(&file.source)
        .with_label(read.spans[index], format!("{parent} has no field `{name}` in `{}`", schema.display))
        .with_help(help)
}

fn schema_not_object(
    file: &ParsedFile,
    schema: &RecordSchema,
    read: &FieldRead,
    index: usize,
    types: &[String],
) -> Diagnostic {
    let path = prefix(&read.path, index);
    let parent = parent_text(&read.path, index);
    Diagnostic::warning(CODE, format!("`{path}` reads a field of a value that has none"))
        .in_file(&file.source)
        .with_label(read.spans[index], format!("{parent} has type {} in `{}`", quoted(types), schema.display))
        .with_help("only objects have fields; check the path against the record schema")
}

/// Checks every path of the set against the sample runs: reports the shortest prefix
/// that no run had.
pub fn check_samples(context: &SetContext, samples: &SetSamples, findings: &mut Vec<Diagnostic>) {
    let mut reported = HashSet::new();
    for (file_index, read) in &samples.reads {
        let file = &context.files[*file_index];
        for index in 0..read.path.0.len() {
            if !matches!(read.path.0[index], Segment::Field(_)) {
                continue;
            }
            let path = prefix(&read.path, index);
            let counts = &samples.paths[&path];
            if counts.present > 0 || counts.absent == 0 {
                continue;
            }
            let duplicate = findings.iter().any(|finding| {
                finding.code == CODE
                    && finding.source.as_ref().is_some_and(|source| source.name() == file.source.name())
                    && finding.labels.first().is_some_and(|label| label.span == read.spans[index])
            });
            if reported.insert(path.clone()) && !duplicate && !reported_by_compile(context, file, read, index) {
                findings.push(sample_unknown(file, read, index, counts.absent, &counts.siblings));
            }
            break;
        }
    }
}

fn sample_unknown(
    file: &ParsedFile,
    read: &FieldRead,
    index: usize,
    runs: usize,
    siblings: &std::collections::BTreeSet<String>,
) -> Diagnostic {
    let path = prefix(&read.path, index);
    let name = field_name(&read.path, index);
    let parent = parent_text(&read.path, index);
    let help = match did_you_mean(name, siblings.iter().map(String::as_str)) {
        Some(close) => format!("did you mean `{}`? The sample runs have that field", sibling(&read.path, index, close)),
        None if siblings.is_empty() => "check the path against real runs".to_string(),
        None => format!("the sample runs have {} there", list(&siblings.iter().cloned().collect::<Vec<_>>())),
    };
    let help = if read.guarded {
        format!(
            "{help}. The policy treats the field as optional, so a misspelt path would silently fall back on every run"
        )
    } else {
        help
    };
    let runs_text = if runs == 1 { "the sample run".to_string() } else { format!("any of the {runs} sample runs") };
    Diagnostic::warning(CODE, format!("`{path}` is not in {runs_text}"))
        .in_file(&file.source)
        .with_label(read.spans[index], format!("{parent} never has `{name}`"))
        .with_help(help)
}

/// Tells whether the compiler already flagged this top-level name as a likely typo, so
/// it is not reported twice.
fn reported_by_compile(context: &SetContext, file: &ParsedFile, read: &FieldRead, index: usize) -> bool {
    index == 0
        && ["semslo::check::unknown_field", "semslo::check::unknown_name"]
            .iter()
            .any(|code| context.compile_reported(code, &file.source, read.spans[0]))
}

fn prefix(path: &FieldPath, index: usize) -> FieldPath {
    FieldPath(path.0[..=index].to_vec())
}

fn field_name(path: &FieldPath, index: usize) -> &str {
    match &path.0[index] {
        Segment::Field(name) => name,
        _ => "",
    }
}

/// Names the value holding segment `index`: `` `outcome.vendor` `` or "the run record".
fn parent_text(path: &FieldPath, index: usize) -> String {
    if index == 0 { "the run record".to_string() } else { format!("`{}`", FieldPath(path.0[..index].to_vec())) }
}

/// Returns the path up to segment `index`, with that segment replaced by the field `name`.
fn sibling(path: &FieldPath, index: usize, name: &str) -> FieldPath {
    let mut segments = path.0[..index].to_vec();
    segments.push(Segment::Field(name.to_string()));
    FieldPath(segments)
}

fn list(names: &[String]) -> String {
    let shown: Vec<String> = names.iter().take(MAX_LISTED).map(|name| format!("`{name}`")).collect();
    let more = names.len().saturating_sub(MAX_LISTED);
    if more > 0 { format!("{} and {more} more", shown.join(", ")) } else { shown.join(", ") }
}

fn quoted(names: &[String]) -> String {
    names.iter().map(|name| format!("`{name}`")).collect::<Vec<_>>().join(" or ")
}
