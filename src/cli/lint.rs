//! `semslo lint`: report every problem of every policy set in one run, for editors and CI.
//!
//! Unlike the other subcommands, lint exits 2 on usage errors (as linters commonly
//! do): 0 clean, 1 findings at or above the threshold, 2 usage.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use chrono::NaiveDate;
use clap::Args;
use semslo::check::{self, LintOptions, LintReport, SampleSource, codes, format};
use semslo::diagnostic::{Diagnostic, Severity};
use semslo::input::InputFormat;

use super::ColorChoice;

/// Exit status of `semslo lint`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LintStatus {
    /// No finding at or above the threshold.
    Clean = 0,
    /// An error, or a warning under `--deny warnings`.
    Findings = 1,
    /// The command line is invalid.
    Usage = 2,
}

impl From<LintStatus> for std::process::ExitCode {
    fn from(status: LintStatus) -> Self {
        std::process::ExitCode::from(status as u8)
    }
}

#[derive(Args)]
pub struct LintArgs {
    /// Policy files, policy-set directories, or directories of policy sets.
    #[arg(value_name = "PATH", required_unless_present = "explain")]
    paths: Vec<PathBuf>,

    /// Output format: human (graphical, coloured on a terminal), plain (the same without
    /// colour), json, sarif (SARIF 2.1.0) or github (workflow annotations).
    #[arg(long, value_enum, default_value_t = LintFormat::Human)]
    format: LintFormat,

    /// Make warnings fail the run as well (exit 1).
    #[arg(long, value_enum, value_name = "warnings")]
    deny: Option<Deny>,

    /// Leave out findings with this code; repeat for several. Only warnings and
    /// `semslo::lint::*` codes can be left out.
    #[arg(long, value_name = "CODE")]
    allow: Vec<String>,

    /// Sample runs to check field paths and rule conditions against (first 10,000 runs);
    /// takes every following value, so put policy paths before it.
    #[arg(long, value_name = "FILE", num_args = 1..)]
    records: Vec<PathBuf>,

    /// Format of the sample runs; `auto` picks by file extension and content.
    #[arg(long, value_enum, default_value_t = InputFormat::Auto)]
    input_format: InputFormat,

    /// The date waiver and trial-mode expiry is judged at, as YYYY-MM-DD (default: today, UTC).
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_today)]
    today: Option<NaiveDate>,

    /// Print what a diagnostic code means and how to fix it, then exit.
    #[arg(long, value_name = "CODE", conflicts_with_all = ["paths", "records", "deny", "allow"])]
    explain: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum LintFormat {
    Human,
    Plain,
    Json,
    Sarif,
    Github,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum Deny {
    Warnings,
}

/// Width at which human and plain output wrap.
const RENDER_WIDTH: usize = 100;

fn parse_today(text: &str) -> Result<NaiveDate, String> {
    semslo::value::parse_date(text).ok_or_else(|| format!("`{text}` is not a date like 2026-01-31"))
}

/// Tells whether the command line runs `semslo lint`, for the exit status of a command line
/// that does not parse. Global options (`--color WHEN`) may come before the subcommand.
pub fn invoked(args: &[std::ffi::OsString]) -> bool {
    let mut rest = args.iter().skip(1);
    while let Some(arg) = rest.next() {
        match arg.to_str() {
            Some("--color") => {
                rest.next();
            }
            Some(option) if option.starts_with('-') => {}
            Some(word) => return word == "lint",
            None => return false,
        }
    }
    false
}

pub fn run(args: LintArgs, color: ColorChoice) -> LintStatus {
    if let Some(code) = &args.explain {
        return explain(code);
    }
    if let Err(message) = check_allowed(&args.allow) {
        eprintln!("semslo lint: {message}");
        return LintStatus::Usage;
    }

    let options = LintOptions {
        today: args.today.unwrap_or_else(|| chrono::Utc::now().date_naive()),
        samples: (!args.records.is_empty())
            .then(|| SampleSource { paths: args.records.clone(), format: args.input_format }),
    };
    let report = match check::lint(&args.paths, &options) {
        Ok(report) => report,
        Err(error) => {
            eprintln!("{:?}", miette::Report::new(error));
            return LintStatus::Usage;
        }
    };
    let findings: Vec<Diagnostic> =
        report.diagnostics.iter().filter(|d| !args.allow.iter().any(|code| code == d.code)).cloned().collect();

    let rendered = render(&findings, args.format, color);
    let mut stdout = std::io::stdout().lock();
    if let Err(error) = stdout.write_all(rendered.as_bytes()).and_then(|()| stdout.flush()) {
        if error.kind() != std::io::ErrorKind::BrokenPipe {
            eprintln!("semslo lint: cannot write the findings: {error}");
        }
    }
    let summary = summary(&report, &findings);
    match args.format {
        LintFormat::Human | LintFormat::Plain => {
            let _ = writeln!(stdout, "{summary}");
        }
        LintFormat::Json | LintFormat::Sarif | LintFormat::Github => eprintln!("{summary}"),
    }

    let errors = findings.iter().filter(|d| d.severity == Severity::Error).count();
    let warnings = findings.len() - errors;
    if errors > 0 || (args.deny == Some(Deny::Warnings) && warnings > 0) {
        LintStatus::Findings
    } else {
        LintStatus::Clean
    }
}

/// Prints the explanation of `code`, or an error when it is unknown (exit 2).
fn explain(code: &str) -> LintStatus {
    if let Some(info) = codes::find(code) {
        print!("{}", codes::render(info));
        return LintStatus::Clean;
    }
    let candidates = codes::with_suffix(code);
    let hint = if candidates.len() > 1 {
        format!("; it could be {}", candidates.iter().map(|c| format!("`{c}`")).collect::<Vec<_>>().join(" or "))
    } else if let Some(close) = codes::closest(code) {
        format!("; did you mean `{close}`?")
    } else {
        "; codes look like `semslo::lint::unused_declaration` and are listed in docs/lint.md".to_string()
    };
    if candidates.len() > 1 {
        eprintln!("semslo lint: `{code}` names more than one diagnostic code{hint}; give the whole code");
    } else {
        eprintln!("semslo lint: unknown diagnostic code `{code}`{hint}");
    }
    LintStatus::Usage
}

/// Rejects `--allow` codes that do not exist or name errors that must be fixed.
fn check_allowed(allowed: &[String]) -> Result<(), String> {
    for code in allowed {
        let Some(info) = codes::find(code).filter(|info| info.code == code) else {
            let hint = codes::closest(code).map(|close| format!("; did you mean `{close}`?")).unwrap_or_default();
            return Err(format!("`--allow {code}`: unknown diagnostic code{hint}"));
        };
        if info.severity == Severity::Error && !info.code.starts_with("semslo::lint::") {
            return Err(format!(
                "`--allow {code}`: this error stops the policy from loading, so it cannot be left out; fix it instead"
            ));
        }
    }
    Ok(())
}

fn render(findings: &[Diagnostic], format: LintFormat, color: ColorChoice) -> String {
    match format {
        LintFormat::Human => graphical(findings, use_color(color)),
        LintFormat::Plain => graphical(findings, false),
        LintFormat::Json => format::json::render(findings),
        LintFormat::Sarif => {
            let base = std::env::current_dir().unwrap_or_default();
            format::sarif::render(findings, env!("CARGO_PKG_VERSION"), &base)
        }
        LintFormat::Github => format::github::render(findings),
    }
}

fn use_color(color: ColorChoice) -> bool {
    match color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
    }
}

fn graphical(findings: &[Diagnostic], colored: bool) -> String {
    let theme = if colored { miette::GraphicalTheme::unicode() } else { miette::GraphicalTheme::unicode_nocolor() };
    let handler = miette::GraphicalReportHandler::new_themed(theme).with_width(RENDER_WIDTH);
    let mut out = String::new();
    for finding in findings {
        handler.render_report(&mut out, finding).expect("rendering to a String cannot fail");
        out.push('\n');
    }
    out
}

/// Builds the summary line, e.g. `semslo lint: 2 errors, 1 warning in 3 policy files (1 policy set)`.
fn summary(report: &LintReport, findings: &[Diagnostic]) -> String {
    let errors = findings.iter().filter(|d| d.severity == Severity::Error).count();
    let warnings = findings.len() - errors;
    let files = plural(report.files, "policy file");
    let sets = plural(report.sets, "policy set");
    let mut text = if findings.is_empty() {
        format!("semslo lint: no problems in {files} ({sets})")
    } else {
        format!("semslo lint: {}, {} in {files} ({sets})", plural(errors, "error"), plural(warnings, "warning"))
    };
    if let Some(samples) = report.samples {
        text.push_str(&format!("; {} read", plural(samples.read, "sample run")));
        if samples.truncated {
            text.push_str(&format!(", the first {} only", check::MAX_SAMPLES));
        }
    }
    text
}

fn plural(count: usize, noun: &str) -> String {
    if count == 1 { format!("1 {noun}") } else { format!("{count} {noun}s") }
}
