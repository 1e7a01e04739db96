//! `semslo check`: evaluate a policy set over run logs and report violations.

use std::io::{IsTerminal, Read, Write};
use std::path::PathBuf;
use std::sync::Arc;

use clap::Args;
use semslo::batch::{self, LineResult};
use semslo::compile::projection::Projection;
use semslo::compile::{self, PolicySet};
use semslo::engine::RUN_ID_FIELDS;
use semslo::eval::{self, Verdict};
use semslo::input::{self, InputFormat, Source};
use semslo::report::{self, CheckReport};
use semslo::slo::{ReportBuilder, ReportOptions, SloState};

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

    /// Most violations printed in full in text output, up to the 10,000 kept by default.
    /// 0 keeps and lists every violation, in text and JSON.
    #[arg(long, default_value_t = 50, value_name = "N")]
    limit: usize,

    /// Worker threads for JSON Lines input, at least 1; default: the number of cores.
    /// Output is the same, in the same order, for every value.
    #[arg(long, value_name = "N", value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    jobs: Option<usize>,

    /// Report time the SLO windows end at (RFC 3339); default: the latest event time in the input.
    #[arg(long, value_name = "RFC3339", value_parser = super::report::parse_at)]
    at: Option<chrono::DateTime<chrono::Utc>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum OutputFormat {
    Text,
    Json,
    /// One JSON line of counts: runs checked, runs on which each rule failed or errored,
    /// runs on which none did. Rejected records are listed on standard error.
    Counts,
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
    if set.rules.is_empty() {
        // The engine refuses such a set too, because it would pass every run.
        eprintln!(
            "semslo: the policy set has no rules, so it would pass every run; nothing was checked. Point `--policy` at the files that hold the rules (semslo::lint::no_rules)"
        );
        return ExitStatus::InvalidPolicy;
    }

    let mut report = CheckReport::new(&set);
    match args.format {
        OutputFormat::Counts => report.max_kept_violations = 0,
        // Every violation was requested, so memory grows with their number.
        _ if args.limit == 0 => report.max_kept_violations = usize::MAX,
        OutputFormat::Text => report.shown_limit = Some(args.limit),
        OutputFormat::Json => {}
    }
    let mut slos = ReportBuilder::new(&set, ReportOptions { at: args.at });
    let jobs = args.jobs.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())).max(1);
    let projections = Projections::of(&set, args.format != OutputFormat::Counts);
    let progress = progress_bar();
    for path in &args.records {
        let source = if path.as_os_str() == "-" { Source::Stdin } else { Source::Path(path.clone()) };
        let result = if reads_json_lines(&source, args.input_format) {
            check_json_lines(&set, &projections, source, jobs, &mut report, &mut slos, progress.as_ref())
        } else {
            check_records(&set, source, args.input_format, &mut report, &mut slos, progress.as_ref())
        };
        if let Err(status) = result {
            return status;
        }
    }
    if let Some(bar) = progress {
        bar.finish_and_clear();
    }
    report.slos = slos.finish().slos;

    let rendered = match args.format {
        OutputFormat::Text => {
            let limit = if args.limit == 0 { None } else { Some(args.limit) };
            report::text::render(&report, report::text::TextOptions { max_violations: limit })
        }
        OutputFormat::Json => report::json::render(&report),
        OutputFormat::Counts => format!("{}\n", report.counts_line()),
    };
    let mut stdout = std::io::stdout().lock();
    if let Err(error) = stdout.write_all(rendered.as_bytes()).and_then(|()| stdout.flush()) {
        if error.kind() != std::io::ErrorKind::BrokenPipe {
            eprintln!("semslo: cannot write the report: {error}");
            return ExitStatus::Internal;
        }
    }

    if args.format == OutputFormat::Counts {
        report_rejections(&report);
    }
    if report.input.records_read == 0 {
        eprintln!("semslo: no records were read; check the `--records` paths and that the input is not empty");
        return ExitStatus::InvalidInput;
    }
    let slo_missed = report.slos.iter().any(|slo| slo.status == SloState::Missed);
    if report.has_enforced_violations() || slo_missed {
        ExitStatus::Violations
    } else if report.input.records_rejected > 0 {
        ExitStatus::InvalidInput
    } else {
        ExitStatus::Success
    }
}

/// Lists rejected records on standard error: the counts line has no place for them, so
/// a script would otherwise see only the exit status.
fn report_rejections(report: &CheckReport) {
    let input = &report.input;
    if input.records_rejected == 0 {
        return;
    }
    for rejected in &input.rejected {
        eprintln!("semslo: rejected {}:{}: {}", rejected.file, rejected.line, rejected.reason);
    }
    if input.records_rejected > input.rejected.len() {
        eprintln!("semslo: ... and {} more rejected records", input.records_rejected - input.rejected.len());
    }
    eprintln!(
        "semslo: {} of {} records were rejected as malformed and are not in the counts",
        input.records_rejected, input.records_read
    );
}

/// The record field the report reads besides those the rules read, for every run.
const EXPERT_LABEL_FIELD: &str = "labels.expert_verdict";

/// Record fields the SLO section reads: the workflow, labels, and step and checkpoint facts.
const RECORD_FIELDS_OF_SLO_REPORT: &[&str] =
    &["workflow", "labels.note", "steps[].name", "steps[].status", "checkpoints[].name", "checkpoints[].decision"];

/// The record fields the JSON Lines reader parses, and those the report reads.
struct Projections {
    /// Fields the rules, the SLOs and the report read: the fields parsed.
    parsed: Projection,
    /// Fields the report and the SLO section read, kept for each run after its rules are decided.
    reported: Projection,
}

impl Projections {
    /// `detailed` is false for `--format counts`, which prints no violation and no SLO
    /// section, so only the fields that the rules, the SLOs and the counts read are
    /// kept. The SLOs are still computed because a missed one sets the exit status.
    fn of(set: &PolicySet, detailed: bool) -> Projections {
        let mut reported = Projection::of_slos(set);
        let mut kept_paths = vec![EXPERT_LABEL_FIELD];
        if detailed {
            kept_paths.extend_from_slice(RUN_ID_FIELDS);
        }
        if detailed && !set.slos.is_empty() {
            kept_paths.extend_from_slice(RECORD_FIELDS_OF_SLO_REPORT);
        }
        let mut parsed = Projection::of(set);
        for path in kept_paths {
            parsed.keep(path);
            reported.keep(path);
        }
        Projections { parsed, reported }
    }
}

/// JSON Lines files (by option or extension) go through the projecting reader.
fn reads_json_lines(source: &Source, format: InputFormat) -> bool {
    match (format, source) {
        (InputFormat::Jsonl, _) => true,
        (InputFormat::Auto, Source::Path(path)) => {
            path.extension().is_some_and(|e| e.eq_ignore_ascii_case("jsonl") || e.eq_ignore_ascii_case("ndjson"))
        }
        _ => false,
    }
}

/// Checks a JSON Lines input with the projecting reader on `jobs` threads. Runs whose
/// violations the report keeps in full are parsed again whole, for their explanations.
fn check_json_lines(
    set: &PolicySet,
    projections: &Projections,
    source: Source,
    jobs: usize,
    report: &mut CheckReport,
    slos: &mut ReportBuilder<'_>,
    progress: Option<&indicatif::ProgressBar>,
) -> Result<(), ExitStatus> {
    let (reader, name): (Box<dyn Read + Send>, Arc<str>) = match &source {
        Source::Stdin => (Box::new(std::io::stdin()), Arc::from(input::STDIN_NAME)),
        Source::Path(path) => match std::fs::File::open(path).and_then(not_a_directory) {
            Ok(file) => (Box::new(file), Arc::from(path.display().to_string())),
            Err(error) => {
                // The standard reader words the error, with its code and help.
                if let Err(error) = input::read_records(Source::Path(path.clone()), InputFormat::Jsonl) {
                    eprintln!("{:?}", miette::Report::new(error));
                } else {
                    eprintln!("semslo: cannot open `{}`: {error}", path.display());
                }
                return Err(ExitStatus::InvalidInput);
            }
        },
    };
    let outcome = batch::check_lines(set, &projections.parsed, &projections.reported, reader, name, jobs, |line| {
        match line {
            LineResult::Run(run) => {
                let failing = run.verdicts.iter().any(|v| matches!(v.verdict, Verdict::Fail | Verdict::Error));
                let verdicts = match failing && report.wants_details() {
                    true => run.full_record().map(|full| eval::evaluate(set, &full)).unwrap_or(run.verdicts),
                    false => run.verdicts,
                };
                slos.add_run(&run.record, &run.location, &verdicts);
                report.add_run(set, &run.record, &run.location, verdicts);
            }
            LineResult::Rejected(error) => {
                report.add_rejected(&error.location.file, error.location.line, error.reason.clone());
            }
        }
        if let Some(bar) = progress {
            if report.input.records_read % PROGRESS_EVERY == 0 {
                bar.set_position(report.input.records_read as u64);
            }
        }
    });
    outcome.map_err(|error| {
        eprintln!("semslo: reading the records failed: {error}");
        ExitStatus::InvalidInput
    })
}

/// Passes `file` on unless it is a directory, which opens but cannot be read.
fn not_a_directory(file: std::fs::File) -> std::io::Result<std::fs::File> {
    match file.metadata()?.is_dir() {
        true => Err(std::io::Error::from(std::io::ErrorKind::IsADirectory)),
        false => Ok(file),
    }
}

/// Checks any other input through the standard record readers.
fn check_records(
    set: &PolicySet,
    source: Source,
    format: InputFormat,
    report: &mut CheckReport,
    slos: &mut ReportBuilder<'_>,
    progress: Option<&indicatif::ProgressBar>,
) -> Result<(), ExitStatus> {
    let stream = input::read_records(source, format).map_err(|error| {
        eprintln!("{:?}", miette::Report::new(error));
        ExitStatus::InvalidInput
    })?;
    for item in stream {
        match item {
            Ok(record) => {
                let verdicts = eval::evaluate(set, &record.value);
                slos.add_run(&record.value, &record.location, &verdicts);
                report.add_run(set, &record.value, &record.location, verdicts);
            }
            Err(error) => {
                report.add_rejected(&error.location.file, error.location.line, error.reason.clone());
            }
        }
        if let Some(bar) = progress {
            if report.input.records_read % PROGRESS_EVERY == 0 {
                bar.set_position(report.input.records_read as u64);
            }
        }
    }
    Ok(())
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
