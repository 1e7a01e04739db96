//! `semslo report`: evaluate a policy set over run logs and render the SLO report
//! as text, JSON, Markdown, JUnit XML or one self-contained HTML page.

use std::io::Write;
use std::path::PathBuf;

use chrono::{DateTime, Utc};
use clap::Args;
use semslo::compile;
use semslo::eval;
use semslo::input::{self, InputFormat, Source};
use semslo::report::{self, CheckReport};
use semslo::slo::{ReportBuilder, ReportOptions, SloReport};

use super::{ExitStatus, print_diagnostics};

#[derive(Args)]
pub struct ReportArgs {
    /// Policy file (`.slo`) or directory of policy files.
    #[arg(long, short = 'p', value_name = "PATH")]
    policy: PathBuf,

    /// Run logs to read; `-` reads standard input.
    #[arg(long, short = 'r', value_name = "PATH", required = true, num_args = 1..)]
    records: Vec<PathBuf>,

    /// Format of the run logs; `auto` picks by file extension and content.
    #[arg(long, value_enum, default_value_t = InputFormat::Auto)]
    input_format: InputFormat,

    /// Report time the SLO windows end at (RFC 3339); default: the latest event time in the input.
    #[arg(long, value_name = "RFC3339", value_parser = parse_at)]
    at: Option<DateTime<Utc>>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    format: ReportFormat,

    /// File to write the report to instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    output: Option<PathBuf>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum ReportFormat {
    Text,
    Json,
    Markdown,
    /// One test case per rule per run that failed, and one per SLO.
    Junit,
    /// One self-contained page with inline CSS and SVG charts.
    Html,
}

/// Parses `--at`: an RFC 3339 timestamp with an offset.
pub fn parse_at(text: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(text)
        .map(|time| time.with_timezone(&Utc))
        .map_err(|error| format!("`{text}` is not an RFC 3339 timestamp ({error}); write e.g. `2025-12-31T23:59:59Z`"))
}

pub fn run(args: ReportArgs) -> ExitStatus {
    let (set, diagnostics) = compile::load(&args.policy);
    print_diagnostics(diagnostics.iter());
    let Some(set) = set else {
        eprintln!(
            "semslo: the policy set has {} error{}; no report was made",
            diagnostics.error_count(),
            if diagnostics.error_count() == 1 { "" } else { "s" }
        );
        return ExitStatus::InvalidPolicy;
    };

    // The check report keeps the single violations JUnit lists (capped at
    // `MAX_KEPT_VIOLATIONS`); the other formats read only the SLO report.
    let mut check = CheckReport::new(&set);
    let mut builder = ReportBuilder::new(&set, ReportOptions { at: args.at });
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
                    let verdicts = eval::evaluate(&set, &record.value);
                    builder.add_run(&record.value, &record.location, &verdicts);
                    check.add_run(&set, &record.value, &record.location, verdicts);
                }
                Err(error) => {
                    builder.add_rejected(&error.location.file, error.location.line, error.reason.clone());
                    check.add_rejected(&error.location.file, error.location.line, error.reason.clone());
                }
            }
        }
    }
    let slo_report = builder.finish();

    let rendered = match args.format {
        ReportFormat::Text => report::slo_text::render(&slo_report),
        ReportFormat::Json => report::json::render(&slo_report),
        ReportFormat::Markdown => report::markdown::render(&slo_report),
        ReportFormat::Html => report::html::render(&slo_report),
        ReportFormat::Junit => report::junit::render(&check, &slo_report),
    };
    if let Some(status) = write_output(args.output.as_ref(), &rendered) {
        return status;
    }
    exit_status(&slo_report)
}

/// Writes the report to `output` or standard output; `Some` with the exit status on failure.
fn write_output(output: Option<&PathBuf>, rendered: &str) -> Option<ExitStatus> {
    match output {
        Some(path) => match std::fs::write(path, rendered) {
            Ok(()) => None,
            Err(error) => {
                eprintln!("semslo: cannot write the report to `{}`: {error}", path.display());
                Some(ExitStatus::InvalidInput)
            }
        },
        None => {
            let mut stdout = std::io::stdout().lock();
            match stdout.write_all(rendered.as_bytes()).and_then(|()| stdout.flush()) {
                Err(error) if error.kind() != std::io::ErrorKind::BrokenPipe => {
                    eprintln!("semslo: cannot write the report: {error}");
                    Some(ExitStatus::Internal)
                }
                _ => None,
            }
        }
    }
}

/// 1 when an enforced rule failed or errored or an SLO missed its objective, 3 when
/// records were rejected and nothing else failed, else 0.
fn exit_status(report: &SloReport) -> ExitStatus {
    if report.has_enforced_violations() || report.any_slo_missed() {
        ExitStatus::Violations
    } else if report.input.records_rejected > 0 {
        ExitStatus::InvalidInput
    } else {
        ExitStatus::Success
    }
}
