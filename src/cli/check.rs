//! `semslo check`: evaluate a policy set over run logs and report violations.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use clap::Args;
use semslo::compile;
use semslo::eval;
use semslo::input::{self, InputFormat, Source};
use semslo::report::{self, CheckReport};

use super::{ExitStatus, print_diagnostics};

#[derive(Args)]
pub struct CheckArgs {
    /// Policy file (`.slo`) or directory of policy files.
    #[arg(long, short = 'p', value_name = "PATH")]
    policy: PathBuf,

    /// Run logs to check; `-` reads standard input.
    #[arg(long, short = 'r', value_name = "PATH", required = true, num_args = 1..)]
    records: Vec<PathBuf>,

    /// Format of the run logs; `auto` picks by file extension and content.
    #[arg(long, value_enum, default_value_t = InputFormat::Auto)]
    input_format: InputFormat,

    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    format: OutputFormat,

    /// Most violations printed in full in text output; 0 prints all.
    #[arg(long, default_value_t = 50, value_name = "N")]
    limit: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum OutputFormat {
    Text,
    Json,
}

/// Records between two progress updates.
const PROGRESS_EVERY: usize = 1_000;

pub fn run(args: CheckArgs) -> ExitStatus {
    let (set, diagnostics) = compile::load(&args.policy);
    print_diagnostics(diagnostics.iter());
    let Some(set) = set else {
        eprintln!(
            "semslo: the policy set has {} error{}; nothing was checked",
            diagnostics.error_count(),
            if diagnostics.error_count() == 1 { "" } else { "s" }
        );
        return ExitStatus::InvalidPolicy;
    };

    let mut report = CheckReport::new(&set);
    let progress = progress_bar();
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
                    let verdicts = eval::evaluate(&set, &record.value);
                    report.add_run(&set, &record.value, &location, verdicts);
                }
                Err(error) => {
                    report.add_rejected(&error.location.file, error.location.line, error.reason.clone());
                }
            }
            if let Some(bar) = &progress {
                if report.input.records_read % PROGRESS_EVERY == 0 {
                    bar.set_position(report.input.records_read as u64);
                }
            }
        }
    }
    if let Some(bar) = progress {
        bar.finish_and_clear();
    }

    let rendered = match args.format {
        OutputFormat::Text => {
            let limit = if args.limit == 0 { None } else { Some(args.limit) };
            report::text::render(&report, report::text::TextOptions { max_violations: limit })
        }
        OutputFormat::Json => report::json::render(&report),
    };
    let mut stdout = std::io::stdout().lock();
    if let Err(error) = stdout.write_all(rendered.as_bytes()).and_then(|()| stdout.flush()) {
        if error.kind() != std::io::ErrorKind::BrokenPipe {
            eprintln!("semslo: cannot write the report: {error}");
            return ExitStatus::Internal;
        }
    }

    if report.has_enforced_violations() {
        ExitStatus::Violations
    } else if report.input.records_rejected > 0 {
        ExitStatus::InvalidInput
    } else {
        ExitStatus::Success
    }
}

fn progress_bar() -> Option<indicatif::ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_style(indicatif::ProgressStyle::with_template("{spinner} {pos} records checked ({per_sec})").ok()?);
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    Some(bar)
}
