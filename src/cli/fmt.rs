//! `semslo fmt`: rewrite policy files in the canonical layout, or with `--check` show
//! what would change as a unified diff.
//!
//! Exit status: 0 when every file was already formatted (or was rewritten), 1 with
//! `--check` when some file would change, 2 when some file could not be read, parsed
//! or written, 4 when the formatter's own check rejected its output. Files that fail
//! are left untouched and the other files are still processed.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use clap::Args;
use semslo::compile;
use semslo::diagnostic::Diagnostic;
use semslo::fmt::{self, FormatError};

use super::{ExitStatus, print_diagnostics};

#[derive(Args)]
pub struct FmtArgs {
    /// Policy files, or directories searched recursively for `*.slo` files; `-` reads a
    /// policy from standard input and writes the formatted policy to standard output.
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,

    /// Change no file: print a unified diff for every file that is not formatted, and
    /// exit 1 if there is one.
    #[arg(long)]
    check: bool,
}

/// Counts of the files of one run, by outcome.
#[derive(Default)]
struct Tally {
    unchanged: usize,
    changed: usize,
    /// Files that could not be read, parsed or written.
    failed: usize,
    /// Files whose formatted text failed the formatter's own check.
    internal: usize,
}

pub fn run(args: FmtArgs) -> ExitStatus {
    let mut tally = Tally::default();
    let mut files_seen = false;
    for path in &args.paths {
        if path.as_os_str() == "-" {
            format_stdin(args.check, &mut tally);
            continue;
        }
        files_seen = true;
        match compile::policy_files(path) {
            Ok(files) => files.iter().for_each(|file| format_file(file, args.check, &mut tally)),
            Err(diagnostic) => {
                print_diagnostics([&diagnostic]);
                tally.failed += 1;
            }
        }
    }
    if files_seen {
        print_summary(&tally, args.check);
    }

    if tally.internal > 0 {
        ExitStatus::Internal
    } else if tally.failed > 0 {
        ExitStatus::InvalidPolicy
    } else if args.check && tally.changed > 0 {
        // Status 1: with `--check`, "some file is not formatted".
        ExitStatus::Violations
    } else {
        ExitStatus::Success
    }
}

fn print_summary(tally: &Tally, check: bool) {
    let total = tally.unchanged + tally.changed;
    let plural = |n: usize| if n == 1 { "file" } else { "files" };
    let mut summary = if check {
        format!("{} of {total} {} would be reformatted", tally.changed, plural(total))
    } else {
        format!("{} {} reformatted, {} unchanged", tally.changed, plural(tally.changed), tally.unchanged)
    };
    let not_formatted = tally.failed + tally.internal;
    if not_formatted > 0 {
        summary.push_str(&format!(", {not_formatted} {} not formatted", plural(not_formatted)));
    }
    eprintln!("{summary}");
}

fn format_file(path: &Path, check: bool, tally: &mut Tally) {
    let name = path.display().to_string();
    let text = match read_policy(path) {
        Ok(text) => text,
        Err(diagnostic) => {
            print_diagnostics([diagnostic.as_ref()]);
            tally.failed += 1;
            return;
        }
    };
    let Some(formatted) = format_or_report(&name, &text, tally) else { return };
    if formatted == text {
        // Not written at all, so the modification time stays.
        tally.unchanged += 1;
        return;
    }
    tally.changed += 1;
    if check {
        print_diff(&name, &text, &formatted);
        return;
    }
    if let Err(error) = write_atomically(path, formatted.as_bytes()) {
        let diagnostic = Diagnostic::error("semslo::fmt::write_failed", format!("cannot write `{name}`: {error}"))
            .with_help("check the file's and its directory's permissions; the file was left unchanged");
        print_diagnostics([&diagnostic]);
        tally.changed -= 1;
        tally.failed += 1;
    }
}

/// Formats standard input to standard output; with `--check`, prints the diff instead.
fn format_stdin(check: bool, tally: &mut Tally) {
    let mut bytes = Vec::new();
    let text = match std::io::stdin().read_to_end(&mut bytes).map(|_| String::from_utf8(bytes)) {
        Ok(Ok(text)) => text,
        Ok(Err(_)) => {
            let diagnostic = Diagnostic::error("semslo::load::not_utf8", "standard input is not UTF-8 text")
                .with_help("pass the policy as UTF-8");
            print_diagnostics([&diagnostic]);
            tally.failed += 1;
            return;
        }
        Err(error) => {
            let diagnostic =
                Diagnostic::error("semslo::load::unreadable", format!("cannot read standard input: {error}"))
                    .with_help("pass the policy on standard input, or name the file instead of `-`");
            print_diagnostics([&diagnostic]);
            tally.failed += 1;
            return;
        }
    };
    let Some(formatted) = format_or_report("<stdin>", &text, tally) else { return };
    if formatted == text {
        tally.unchanged += 1;
    } else {
        tally.changed += 1;
    }
    if check {
        if formatted != text {
            print_diff("<stdin>", &text, &formatted);
        }
    } else {
        let _ = std::io::stdout().lock().write_all(formatted.as_bytes());
    }
}

/// Formats `text`, or prints why it cannot and returns `None`.
fn format_or_report(name: &str, text: &str, tally: &mut Tally) -> Option<String> {
    match fmt::format_text(name, text) {
        Ok(formatted) => Some(formatted),
        Err(FormatError::Invalid(diagnostics)) => {
            print_diagnostics(diagnostics.iter());
            tally.failed += 1;
            None
        }
        Err(FormatError::Internal(diagnostic)) => {
            print_diagnostics([&diagnostic]);
            tally.internal += 1;
            None
        }
    }
}

fn read_policy(path: &Path) -> Result<String, Box<Diagnostic>> {
    let bytes = std::fs::read(path).map_err(|error| {
        Diagnostic::error("semslo::load::unreadable", format!("cannot read `{}`: {error}", path.display()))
            .with_help("check the path and its permissions")
    })?;
    String::from_utf8(bytes).map_err(|_| {
        Box::new(
            Diagnostic::error("semslo::load::not_utf8", format!("`{}` is not UTF-8 text", path.display()))
                .with_help("save the policy file as UTF-8"),
        )
    })
}

/// Prints a unified diff with three lines of context to standard output.
fn print_diff(name: &str, original: &str, formatted: &str) {
    let diff = similar::TextDiff::from_lines(original, formatted);
    let mut unified = diff.unified_diff();
    let patch = unified.context_radius(3).header(name, &format!("{name} (formatted)")).to_string();
    let _ = std::io::stdout().lock().write_all(patch.as_bytes());
}

/// Replaces the file at `path` by writing a temporary file beside it and renaming it
/// over the original, so a reader sees the old or the new text, never a mix. The file
/// keeps its permissions; a symbolic link keeps pointing at the rewritten file.
fn write_atomically(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let target = std::fs::canonicalize(path)?;
    let directory = target.parent().unwrap_or_else(|| Path::new("."));
    let permissions = std::fs::metadata(&target)?.permissions();
    let mut temporary = tempfile::Builder::new().prefix(".semslo-fmt-").suffix(".tmp").tempfile_in(directory)?;
    temporary.write_all(contents)?;
    temporary.as_file().sync_all()?;
    std::fs::set_permissions(temporary.path(), permissions)?;
    temporary.persist(&target).map_err(|error| error.error)?;
    Ok(())
}
