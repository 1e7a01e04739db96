//! Command-line interface: one file per subcommand under `cli/`.

mod check;
mod diff;
mod explain;
mod export;
mod fmt;
mod lint;
mod report;
mod serve;
mod test;

use std::io::IsTerminal;

use clap::{Parser, Subcommand};
use semslo::diagnostic::Diagnostic;

/// Process exit status; distinct codes let CI tell violations from broken input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitStatus {
    /// Every enforced rule passed.
    Success = 0,
    /// At least one enforced rule failed or could not be decided.
    Violations = 1,
    /// The policy set has errors.
    InvalidPolicy = 2,
    /// The input or the command line is invalid (also: records were rejected and no violation was found).
    InvalidInput = 3,
    /// A bug in semslo.
    Internal = 4,
}

#[derive(Parser)]
#[command(
    name = "semslo",
    version,
    about = "Semantic SLOs for LLM-agent workflows: check business rules against run logs"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,

    /// When to colour diagnostics: auto (when the stream they go to is a terminal and NO_COLOR is unset), always, never.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    color: ColorChoice,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Subcommand)]
enum Command {
    /// Evaluate every rule of a policy set on every run of one or more run logs.
    Check(check::CheckArgs),
    /// Replay runs under two versions of a policy set and show which verdicts change.
    Diff(diff::DiffArgs),
    /// Show how each rule reached its verdict on one run, value by value.
    Explain(explain::ExplainArgs),
    /// Export the SLOs as Prometheus rules or OpenSLO documents.
    Export(export::ExportArgs),
    /// Rewrite policy files in the canonical layout; `--check` prints a diff and changes nothing.
    Fmt(fmt::FmtArgs),
    /// Report each SLO over run logs: SLI, error budget, burn rates, alerts, breakdowns, calibration.
    Report(report::ReportArgs),
    /// Report every problem of every policy set, with codes, places and fixes (exit 0 clean, 1 findings, 2 usage).
    Lint(lint::LintArgs),
    /// Evaluate runs over HTTP, keep their verdicts in SQLite and reload policies when their files change.
    Serve(serve::ServeArgs),
    /// Run the `test` blocks of policy sets; prints `N passed, N failed` last.
    Test(test::TestArgs),
}

pub fn main() -> std::process::ExitCode {
    install_panic_hook();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            if error.use_stderr() && lint::invoked(&std::env::args_os().collect::<Vec<_>>()) {
                return lint::LintStatus::Usage.into();
            }
            let status = if error.use_stderr() { ExitStatus::InvalidInput } else { ExitStatus::Success };
            return std::process::ExitCode::from(status as u8);
        }
    };
    install_renderer(cli.color);
    let status = match cli.command {
        Command::Check(args) => check::run(args),
        Command::Test(args) => test::run(args),
        Command::Explain(args) => explain::run(args),
        Command::Export(args) => export::run(args),
        Command::Fmt(args) => fmt::run(args),
        Command::Diff(args) => diff::run(args),
        Command::Lint(args) => return lint::run(args, cli.color).into(),
        Command::Report(args) => report::run(args),
        Command::Serve(args) => serve::run(args),
    };
    std::process::ExitCode::from(status as u8)
}

fn install_renderer(color: ColorChoice) {
    let colored = match color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
    };
    let _ = miette::set_hook(Box::new(move |_| {
        let theme = if colored { miette::GraphicalTheme::unicode() } else { miette::GraphicalTheme::unicode_nocolor() };
        Box::new(miette::GraphicalReportHandler::new_themed(theme).with_width(100))
    }));
}

/// Turns a panic into exit status 4 with a request to report it.
fn install_panic_hook() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        default(info);
        eprintln!("semslo: internal error; please report it with the command line and input that caused it");
        std::process::exit(ExitStatus::Internal as i32);
    }));
}

/// Prints diagnostics to stderr through the installed renderer.
pub fn print_diagnostics<'d>(diagnostics: impl IntoIterator<Item = &'d Diagnostic>) {
    for diagnostic in diagnostics {
        eprintln!("{:?}", miette::Report::new(diagnostic.renderable()));
    }
}
