//! `semslo explain`: how each rule reached its verdict on one run.

use std::fmt::Write as _;
use std::io::Write;
use std::path::PathBuf;

use clap::Args;
use semslo::compile;
use semslo::eval::explain::{ExplainNode, RuleExplanation, ValueOrigin, explain_rule};
use semslo::input::{self, InputFormat, RecordError, Source};
use semslo::report;
use serde_json::Value as Json;

use super::{ExitStatus, print_diagnostics};

#[derive(Args)]
pub struct ExplainArgs {
    /// Policy file (`.slo`) or directory of policy files.
    #[arg(long, short = 'p', value_name = "PATH")]
    policy: PathBuf,

    /// Run logs to search for the run; `-` reads standard input.
    #[arg(long, short = 'r', value_name = "PATH", required = true, num_args = 1..)]
    records: Vec<PathBuf>,

    /// The run to explain: its `run_id` (or `id`), or `FILE:LINE` for a run without one.
    #[arg(long, value_name = "ID")]
    run: String,

    /// Explain only this rule.
    #[arg(long, value_name = "NAME")]
    rule: Option<String>,

    /// Format of the run logs.
    #[arg(long, value_enum, default_value_t = InputFormat::Auto)]
    input_format: InputFormat,

    /// Output format: plain words for people, or JSON.
    #[arg(long, value_enum, default_value_t = ExplainFormat::Text)]
    format: ExplainFormat,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum ExplainFormat {
    Text,
    Json,
}

pub fn run(args: ExplainArgs) -> ExitStatus {
    let (set, diagnostics) = compile::load(&args.policy);
    print_diagnostics(diagnostics.iter());
    let Some(set) = set else { return ExitStatus::InvalidPolicy };

    let indices: Vec<usize> = match &args.rule {
        Some(name) => match set.rules.iter().position(|rule| &rule.name == name) {
            Some(index) => vec![index],
            None => {
                let names: Vec<&str> = set.rules.iter().map(|r| r.name.as_str()).collect();
                let hint = semslo::diagnostic::did_you_mean(name, names.iter().copied())
                    .map(|close| format!("; did you mean `{close}`?"))
                    .unwrap_or_default();
                eprintln!("semslo: no rule `{name}` in the policy set{hint}");
                return ExitStatus::InvalidInput;
            }
        },
        None => (0..set.rules.len()).collect(),
    };

    let (record, location, read, rejected) = match find_run(&args) {
        Ok(found) => found,
        Err(status) => return status,
    };
    let Some(record) = record else {
        eprintln!(
            "semslo: run `{}` not found in {} records of {}",
            args.run,
            read,
            args.records.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
        );
        // The run may be on a line that could not be read: list those lines with their reasons.
        if !rejected.is_empty() {
            let count = match rejected.len() {
                1 => "1 record was".to_string(),
                n => format!("{n} records were"),
            };
            eprintln!("semslo: {count} rejected as malformed and not searched:");
            for error in rejected.iter().take(MAX_REJECTED_SHOWN) {
                eprintln!("  rejected {}: {}", error.location, error.reason);
            }
            if rejected.len() > MAX_REJECTED_SHOWN {
                eprintln!("  and {} more; `semslo check` lists them all", rejected.len() - MAX_REJECTED_SHOWN);
            }
        }
        return ExitStatus::InvalidInput;
    };

    let explanations: Vec<RuleExplanation> = indices.iter().map(|&i| explain_rule(&set, &record, i)).collect();
    let rendered = match args.format {
        ExplainFormat::Json => {
            let document = serde_json::json!({
                "schema": "semslo.explain.v1",
                "run_id": args.run,
                "record": location,
                "policy_hash": set.hash,
                "rules": explanations,
            });
            let mut text = serde_json::to_string_pretty(&document).expect("explanations serialize");
            text.push('\n');
            text
        }
        ExplainFormat::Text => render_text(&args.run, &location, &set.hash, &explanations),
    };
    let _ = std::io::stdout().lock().write_all(rendered.as_bytes());
    ExitStatus::Success
}

/// Streams the inputs until the run is found; returns it, where it was, and how many records were read.
/// Malformed records listed when the run is not found.
const MAX_REJECTED_SHOWN: usize = 10;

/// Reads the records until the run is found. Returns it with its location, the number of
/// records read, and the records rejected as malformed on the way.
fn find_run(args: &ExplainArgs) -> Result<(Option<Json>, String, usize, Vec<RecordError>), ExitStatus> {
    let mut read = 0;
    let mut rejected = Vec::new();
    for path in &args.records {
        let source = if path.as_os_str() == "-" { Source::Stdin } else { Source::Path(path.clone()) };
        let stream = input::read_records(source, args.input_format).map_err(|error| {
            eprintln!("{:?}", miette::Report::new(error));
            ExitStatus::InvalidInput
        })?;
        for record in stream {
            let record = match record {
                Ok(record) => record,
                Err(error) => {
                    rejected.push(error);
                    continue;
                }
            };
            read += 1;
            let location = record.location.to_string();
            if report::run_id(&record.value, &location) == args.run {
                return Ok((Some(record.value), location, read, rejected));
            }
        }
    }
    Ok((None, String::new(), read, rejected))
}

fn render_text(run: &str, location: &str, hash: &str, explanations: &[RuleExplanation]) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "run {run} ({location}), policy set {hash}\n");
    for explanation in explanations {
        let _ = writeln!(out, "{}: {}", explanation.rule, verdict_words(explanation));
        if let Some(at) = &explanation.event_time {
            let _ = writeln!(out, "  event time: {at}");
        }
        if let Some(waiver) = &explanation.waiver {
            let _ = writeln!(out, "  waived: {waiver}");
        }
        if let Some(when) = &explanation.when {
            render_node(&mut out, "when", when, 1, &explanation.origins);
        }
        for expect in &explanation.expects {
            render_node(&mut out, "expect", expect, 1, &explanation.origins);
        }
        let evidence: Vec<String> = explanation.evidence.iter().filter_map(report::text::describe).collect();
        if !evidence.is_empty() {
            let _ = writeln!(out, "  evidence:");
            for line in evidence {
                let _ = writeln!(out, "    - {line}");
            }
        }
        out.push('\n');
    }
    out
}

fn verdict_words(explanation: &RuleExplanation) -> String {
    match (&explanation.skip_reason, explanation.verdict) {
        (Some(reason), _) => match reason {
            semslo::eval::SkipReason::ConditionFalse => "skip (its `when` is false)".to_string(),
            semslo::eval::SkipReason::FieldMissing { what } => format!("skip ({what} is missing in its `when`)"),
            semslo::eval::SkipReason::Waived { .. } => "skip (waived)".to_string(),
        },
        (None, "fail") => "fail (a violation)".to_string(),
        (None, "error") => "error (could not be decided)".to_string(),
        (None, other) => other.to_string(),
    }
}

fn render_node(out: &mut String, label: &str, node: &ExplainNode, depth: usize, origins: &[ValueOrigin]) {
    let indent = "  ".repeat(depth);
    let expression = node.expression.split_whitespace().collect::<Vec<_>>().join(" ");
    let prefix = if label.is_empty() { String::new() } else { format!("{label} ") };
    let outcome = match (&node.value, &node.error) {
        (Some(Json::Bool(b)), _) => format!("is {b}"),
        (Some(value), _) => format!("is {}", shown(value)),
        (None, Some(error)) if node.missing => format!("is missing: {error}"),
        (None, Some(error)) => format!("could not be decided: {error}"),
        (None, None) => "was not evaluated".to_string(),
    };
    let origin = origins
        .iter()
        .find(|o| o.expression == node.expression)
        .and_then(|o| o.entered_at.as_ref())
        .map(|step| {
            let name = step.name.as_deref().map(|n| format!(" `{n}`")).unwrap_or_default();
            format!("  (first carried by step {}{name}, {})", step.index, step.path)
        })
        .unwrap_or_default();
    let _ = writeln!(out, "{indent}{prefix}`{expression}` {outcome}{origin}");
    for child in &node.children {
        render_node(out, "", child, depth + 1, origins);
    }
    if node.more_children > 0 {
        let _ = writeln!(out, "{indent}  ... {} more evaluations not shown", node.more_children);
    }
}

fn shown(value: &Json) -> String {
    let text = value.to_string();
    if text.chars().count() > 80 { format!("{}...", text.chars().take(77).collect::<String>()) } else { text }
}
