//! `semslo diff`: replay runs under two versions of a policy set before merging a change.

use std::fmt::Write as _;
use std::io::Write;
use std::path::PathBuf;

use clap::Args;
use rust_decimal::Decimal;
use semslo::compile;
use semslo::diff::{Differ, PolicyDiff, SloTotals, TargetDiff};
use semslo::input::{self, InputFormat, Source};
use semslo::report;

use super::{ExitStatus, print_diagnostics};

#[derive(Args)]
pub struct DiffArgs {
    /// The current policy file or directory.
    #[arg(value_name = "OLD")]
    old: PathBuf,

    /// The proposed policy file or directory.
    #[arg(value_name = "NEW")]
    new: PathBuf,

    /// Run logs to replay; `-` reads standard input.
    #[arg(long, short = 'r', value_name = "PATH", required = true, num_args = 1..)]
    records: Vec<PathBuf>,

    /// Format of the run logs.
    #[arg(long, value_enum, default_value_t = InputFormat::Auto)]
    input_format: InputFormat,

    /// Output format.
    #[arg(long, value_enum, default_value_t = DiffFormat::Text)]
    format: DiffFormat,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum DiffFormat {
    Text,
    Json,
}

pub fn run(args: DiffArgs) -> ExitStatus {
    let (old, old_diagnostics) = compile::load(&args.old);
    print_diagnostics(old_diagnostics.iter());
    let (new, new_diagnostics) = compile::load(&args.new);
    print_diagnostics(new_diagnostics.iter());
    let (Some(old), Some(new)) = (old, new) else { return ExitStatus::InvalidPolicy };

    let mut differ = Differ::new(&old, &new);
    let mut rejected = 0;
    for path in &args.records {
        let source = if path.as_os_str() == "-" { Source::Stdin } else { Source::Path(path.clone()) };
        let stream = match input::read_records(source, args.input_format) {
            Ok(stream) => stream,
            Err(error) => {
                eprintln!("{:?}", miette::Report::new(error));
                return ExitStatus::InvalidInput;
            }
        };
        for item in stream {
            match item {
                Ok(record) => {
                    let location = record.location.to_string();
                    differ.add_run(&report::run_id(&record.value, &location), &record.value);
                }
                Err(error) => {
                    rejected += 1;
                    eprintln!("semslo: rejected {}: {}", error.location, error.reason);
                }
            }
        }
    }
    let diff = differ.finish();
    let rendered = match args.format {
        DiffFormat::Json => {
            let mut text = serde_json::to_string_pretty(&diff).expect("diffs serialize");
            text.push('\n');
            text
        }
        DiffFormat::Text => render_text(&diff, rejected),
    };
    let _ = std::io::stdout().lock().write_all(rendered.as_bytes());
    if diff.has_changes() {
        ExitStatus::Violations
    } else if rejected > 0 {
        ExitStatus::InvalidInput
    } else {
        ExitStatus::Success
    }
}

fn render_text(diff: &PolicyDiff, rejected: usize) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "old {}\nnew {}\n{} runs replayed", diff.old_hash, diff.new_hash, diff.runs);
    if rejected > 0 {
        let _ = writeln!(out, "{rejected} malformed records were rejected and not replayed");
    }
    out.push('\n');
    for rule in &diff.rules {
        render_target(&mut out, "rule", rule);
    }
    for slo in &diff.slos {
        render_target(&mut out, "slo", &slo.verdicts);
        if let (Some(old), Some(new)) = (&slo.old, &slo.new) {
            let _ = writeln!(
                out,
                "  SLI {} -> {} (valid runs {} -> {})",
                percent(old.sli),
                percent(new.sli),
                old.valid,
                new.valid
            );
            let _ = writeln!(out, "  error budget consumed {} -> {}", budget(old), budget(new));
        }
    }
    let verdict = if diff.has_changes() { "verdicts change; review before merging" } else { "no verdict changes" };
    let _ = writeln!(out, "\n{} of {} runs change a verdict: {verdict}", diff.changed_runs, diff.runs);
    out
}

fn render_target(out: &mut String, kind: &str, target: &TargetDiff) {
    match target.present_in {
        "old" => {
            let _ = writeln!(out, "{kind} {}: removed (was {})", target.name, counts(&target.old_counts));
        }
        "new" => {
            let _ = writeln!(out, "{kind} {}: added ({})", target.name, counts(&target.new_counts));
        }
        _ if target.transitions.is_empty() => {
            let _ = writeln!(out, "{kind} {}: unchanged", target.name);
        }
        _ => {
            let runs: usize = target.transitions.values().map(|t| t.runs).sum();
            let _ = writeln!(out, "{kind} {}: {runs} runs change verdict", target.name);
            for (transition, detail) in &target.transitions {
                let more = detail.runs.saturating_sub(detail.run_ids.len());
                let more = if more > 0 { format!(" and {more} more") } else { String::new() };
                let _ = writeln!(out, "  {transition}: {} ({}{more})", detail.runs, detail.run_ids.join(", "));
            }
        }
    }
}

fn counts(counts: &std::collections::BTreeMap<&'static str, usize>) -> String {
    counts.iter().map(|(verdict, n)| format!("{n} {verdict}")).collect::<Vec<_>>().join(", ")
}

fn percent(value: Option<Decimal>) -> String {
    match value {
        Some(v) => format!("{}%", (v * Decimal::ONE_HUNDRED).round_dp(2).normalize()),
        None => "no data".to_string(),
    }
}

fn budget(totals: &SloTotals) -> String {
    match totals.budget_consumed {
        Some(v) => format!("{}%", (v * Decimal::ONE_HUNDRED).round_dp(1).normalize()),
        None if totals.valid == 0 => "no data".to_string(),
        None => "undefined (no error budget at a 100% objective)".to_string(),
    }
}
