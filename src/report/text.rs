//! The terminal form of a check report: violations in business terms, then the
//! per-rule summary, the verdict-against-label table and the input summary.

use std::fmt::Write as _;

use serde_json::Value as Json;

use super::{CheckReport, Violation};
use crate::eval::{Observation, RowInfo, StepRef};

/// Options of the text renderer.
#[derive(Clone, Copy, Debug)]
pub struct TextOptions {
    /// Most violations printed in full; `None` prints all.
    pub max_violations: Option<usize>,
}

pub fn render(report: &CheckReport, options: TextOptions) -> String {
    let mut out = String::new();
    // Shadow-mode rules are on trial: their verdicts are counted in the table below but
    // their violations are not listed among the check's findings.
    let listed: Vec<&Violation> =
        report.violations.iter().filter(|v| v.mode != crate::syntax::ast::RuleMode::Shadow).collect();
    let shadow = report.violations.len() - listed.len() + report.shadow_not_listed;
    let shown = options.max_violations.unwrap_or(usize::MAX).min(listed.len());
    for violation in &listed[..shown] {
        render_violation(&mut out, violation);
    }
    let hidden = listed.len() - shown + report.violations_not_listed - report.shadow_not_listed;
    if hidden > 0 {
        let _ = writeln!(out, "... and {hidden} more violations not shown (use `--limit 0` to show all)\n");
    }
    if shadow > 0 {
        let _ = writeln!(out, "{shadow} violations of shadow-mode rules are counted below but not listed\n");
    }
    render_rule_table(&mut out, report);
    render_skip_notes(&mut out, report);
    render_label_table(&mut out, report);
    super::slo_text::render_brief(&mut out, &report.slos);
    render_input(&mut out, report);
    out
}

/// Renders one violation as an indented block, ending with a blank line.
pub fn render_violation(out: &mut String, violation: &Violation) {
    let verdict = if violation.verdict == "fail" { "FAIL " } else { "ERROR" };
    let mode = match violation.mode {
        crate::syntax::ast::RuleMode::Enforce => String::new(),
        other => format!(" [{}]", other.as_str()),
    };
    let _ = writeln!(
        out,
        "{verdict} {} ({}){mode} on run {} ({})",
        violation.rule,
        violation.severity.as_str(),
        violation.run_id,
        violation.record
    );
    if let Some(title) = &violation.title {
        let _ = writeln!(out, "      {title}");
    }
    for expect in &violation.expects {
        let source = one_line(&expect.source);
        match &expect.message {
            Some(message) => {
                let _ = writeln!(
                    out,
                    "      {}:{}:{}: `{source}` could not be decided: {message}",
                    expect.file, expect.line, expect.column
                );
            }
            None => {
                let _ = writeln!(out, "      {}:{}:{}: `{source}` is false", expect.file, expect.line, expect.column);
            }
        }
    }
    for observation in &violation.observations {
        if is_redundant(observation, &violation.observations) {
            continue;
        }
        if let Some(line) = describe(observation) {
            let _ = writeln!(out, "      - {line}");
        }
    }
    if let Some(step) = &violation.entered_at {
        let _ = writeln!(out, "      - {}", describe_entry(step));
    }
    out.push('\n');
}

/// Collapses white space so a multi-line expression fits on one line.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn shown(value: &Json) -> String {
    let text = match value {
        Json::String(s) => s.clone(),
        other => other.to_string(),
    };
    if text.chars().count() > 80 {
        format!("`{}...`", text.chars().take(77).collect::<String>())
    } else {
        format!("`{text}`")
    }
}

/// A plain read is left out of the text when a membership or comparison line already
/// shows the same value for the same expression.
fn is_redundant(observation: &Observation, all: &[Observation]) -> bool {
    let Observation::Read { expression, value, .. } = observation else { return false };
    all.iter().any(|other| match other {
        Observation::Membership { expression: e, .. } => e == expression,
        Observation::Comparison { expression: e, left, right, .. } => {
            e.contains(expression.as_str())
                && (left == value || right == value || matches!(right, Json::Array(b) if b.contains(value)))
        }
        _ => false,
    })
}

/// One line, in business terms, for an observation.
pub fn describe(observation: &Observation) -> Option<String> {
    Some(match observation {
        Observation::Read { expression, value, bindings } => {
            let context = if bindings.is_empty() { String::new() } else { format!(" (where {})", bindings.join(", ")) };
            format!("`{}` was {}{context}", one_line(expression), shown(value))
        }
        Observation::Membership { expression, value, table, found, row, rows_not_in_force, event_time } => {
            let at = event_time.as_ref().map(|t| format!(" at {t}")).unwrap_or_default();
            match (found, row) {
                (true, Some(row)) => format!(
                    "`{}` is {}, which is in `{table}`{at} ({})",
                    one_line(expression),
                    shown(value),
                    describe_row(row)
                ),
                _ if !rows_not_in_force.is_empty() => format!(
                    "`{}` is {}, which is in `{table}` but not in force{at} ({})",
                    one_line(expression),
                    shown(value),
                    rows_not_in_force.iter().map(describe_row).collect::<Vec<_>>().join("; ")
                ),
                _ => format!("`{}` is {}, which is not in `{table}`", one_line(expression), shown(value)),
            }
        }
        Observation::Lookup { table, key, row } => format!("`{table}[{key}]` is {}", describe_row(row)),
        Observation::Comparison { expression, left, right, held } => {
            let right = match right {
                Json::Array(bounds) if bounds.len() == 2 => format!("{} and {}", shown(&bounds[0]), shown(&bounds[1])),
                other => shown(other),
            };
            format!(
                "`{}` compared {} with {}: {}",
                one_line(expression),
                shown(left),
                right,
                if *held { "true" } else { "false" }
            )
        }
        Observation::Order { left, left_index, right, right_index, held } => {
            let at = |index: &Option<usize>| index.map_or("no element matched".to_string(), |i| format!("element {i}"));
            format!(
                "`{}` is {} and `{}` is {}: {}",
                one_line(left),
                at(left_index),
                one_line(right),
                at(right_index),
                if *held { "true" } else { "false" }
            )
        }
        Observation::Quantifier { expression, total, considered, satisfied, counterexample, held } => {
            let head = one_line(expression);
            let head = if head.chars().count() > 60 {
                format!("{}...", head.chars().take(57).collect::<String>())
            } else {
                head
            };
            let verdict = if *held { "true" } else { "false" };
            let mut line = if *considered == 0 {
                let why = if *total == 0 {
                    "the list is empty (0 elements)".to_string()
                } else {
                    format!("none of its {total} elements passed the `where` filter")
                };
                if *held && !expression.trim_start().starts_with("count") {
                    format!("`{head}`: vacuously true, {why}")
                } else {
                    format!("`{head}`: {verdict}, {why}")
                }
            } else {
                format!("`{head}`: {verdict}, {considered} of {total} elements considered, {satisfied} satisfied it")
            };
            if let Some(index) = counterexample {
                let _ = write!(line, "; element {index} decided it");
            }
            line
        }
    })
}

fn describe_row(row: &RowInfo) -> String {
    let validity = match (&row.valid_from, &row.valid_until) {
        (Some(from), Some(until)) => format!(", valid from {from} until {until}"),
        (Some(from), None) => format!(", valid from {from}"),
        (None, Some(until)) => format!(", valid until {until}"),
        (None, None) => String::new(),
    };
    format!("{} line {}{validity}", row.file, row.line)
}

fn describe_entry(step: &StepRef) -> String {
    let name = step.name.as_deref().map(|n| format!(" `{n}`")).unwrap_or_default();
    format!("{} entered the run at step {}{name} ({})", shown(&step.value), step.index, step.path)
}

fn render_rule_table(out: &mut String, report: &CheckReport) {
    let width = report.rules.iter().map(|r| r.rule.name.len()).max().unwrap_or(4).max(4);
    let _ = writeln!(
        out,
        "{:<width$}  {:<8}  {:<7}  {:>7}  {:>7}  {:>7}  {:>13}  {:>7}  {:>7}",
        "rule", "severity", "mode", "pass", "fail", "skip", "skip:missing", "waived", "error"
    );
    for rule in &report.rules {
        let _ = writeln!(
            out,
            "{:<width$}  {:<8}  {:<7}  {:>7}  {:>7}  {:>7}  {:>13}  {:>7}  {:>7}",
            rule.rule.name,
            rule.rule.severity.as_str(),
            rule.rule.mode.as_str(),
            rule.pass,
            rule.fail,
            rule.skip_condition_false,
            rule.skip_field_missing,
            rule.skip_waived,
            rule.error
        );
    }
    out.push('\n');
}

/// Points at rules that skipped runs because their `when` read a missing field: a rule
/// that silently never applies (a misspelt path, a table key that does not exist) shows
/// up here instead of as a quiet pass.
fn render_skip_notes(out: &mut String, report: &CheckReport) {
    let mut any = false;
    for rule in report.rules.iter().filter(|r| r.skip_field_missing > 0) {
        let applied = rule.pass + rule.fail + rule.error;
        let lead = if applied == 0 { "never applied: " } else { "" };
        let causes: Vec<String> = rule.skip_missing.iter().map(|(what, n)| format!("{what} ({n})")).collect();
        let _ = writeln!(
            out,
            "note: `{}` {lead}skipped {} run{} because its `when` read a missing value: {}",
            rule.rule.name,
            rule.skip_field_missing,
            if rule.skip_field_missing == 1 { "" } else { "s" },
            causes.join(", ")
        );
        any = true;
    }
    if any {
        out.push('\n');
    }
}

fn render_label_table(out: &mut String, report: &CheckReport) {
    if report.labelled_runs == 0 {
        return;
    }
    let width = report.rules.iter().map(|r| r.rule.name.len()).max().unwrap_or(4).max(4);
    let _ = writeln!(
        out,
        "verdict against expert label ({} labelled runs; bad = expert judged the run incorrect)",
        report.labelled_runs
    );
    let _ = writeln!(
        out,
        "{:<width$}  {:>9}  {:>10}  {:>9}  {:>10}  {:>11}",
        "rule", "fail&bad", "fail&good", "pass&bad", "pass&good", "skip/error"
    );
    for rule in &report.rules {
        let t = &rule.labels;
        let _ = writeln!(
            out,
            "{:<width$}  {:>9}  {:>10}  {:>9}  {:>10}  {:>11}",
            rule.rule.name,
            t.fail_label_bad,
            t.fail_label_good,
            t.pass_label_bad,
            t.pass_label_good,
            t.other_label_bad + t.other_label_good
        );
    }
    out.push('\n');
}

fn render_input(out: &mut String, report: &CheckReport) {
    let input = &report.input;
    let _ = writeln!(
        out,
        "records: {} read, {} checked, {} rejected",
        input.records_read, input.records_checked, input.records_rejected
    );
    for rejected in &input.rejected {
        let _ = writeln!(out, "  rejected {}:{}: {}", rejected.file, rejected.line, rejected.reason);
    }
    if input.records_rejected > input.rejected.len() {
        let _ = writeln!(out, "  ... and {} more rejected records", input.records_rejected - input.rejected.len());
    }
    let fails: usize = report.rules.iter().map(|r| r.fail).sum();
    let errors: usize = report.rules.iter().map(|r| r.error).sum();
    let _ = writeln!(out, "policy set: {} ({})", report.policy.files.join(", "), report.policy.hash);
    let _ = writeln!(out, "verdicts: {fails} fail, {errors} error");
}
