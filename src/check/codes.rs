//! The registry of every diagnostic code semslo reports, with what each means and how
//! to fix it: the text of `semslo lint --explain CODE` and of the SARIF rules.
//!
//! Codes are stable: users look them up, silence them with `semslo lint --allow`, and
//! CI systems track findings by them. A test scans the source for code strings and
//! fails when one is missing here.

mod check;
mod commands;
mod input;
mod lint;
mod load;
mod parse;

use crate::diagnostic::{Severity, did_you_mean};

/// One diagnostic code and its documentation.
#[derive(Clone, Copy, Debug)]
pub struct CodeInfo {
    pub code: &'static str,
    /// The severity findings with this code have.
    pub severity: Severity,
    /// One line: what the finding says.
    pub summary: &'static str,
    /// What the code means, why it matters and how to fix or silence it.
    pub explanation: &'static str,
    /// A short policy excerpt that triggers it, where one helps.
    pub example: Option<&'static str>,
}

/// Every code, grouped by the stage that reports it.
pub fn all() -> impl Iterator<Item = &'static CodeInfo> {
    [parse::CODES, check::CODES, load::CODES, input::CODES, lint::CODES, commands::CODES].into_iter().flatten()
}

/// Finds a code by its full name, or by its last part (`unknown_name`) when only one
/// code ends that way.
pub fn find(code: &str) -> Option<&'static CodeInfo> {
    if let Some(info) = all().find(|info| info.code == code) {
        return Some(info);
    }
    let mut by_suffix = all().filter(|info| info.code.rsplit("::").next() == Some(code));
    match (by_suffix.next(), by_suffix.next()) {
        (Some(info), None) => Some(info),
        _ => None,
    }
}

/// Every code whose last part is `name`, for telling the user which one they meant.
pub fn with_suffix(name: &str) -> Vec<&'static str> {
    let name = name.rsplit("::").next().unwrap_or(name);
    all().filter(|info| info.code.rsplit("::").next() == Some(name)).map(|info| info.code).collect()
}

/// The code closest to `code`, for "did you mean".
pub fn closest(code: &str) -> Option<&'static str> {
    did_you_mean(code, all().map(|info| info.code))
}

/// Column at which `--explain` text wraps.
const WIDTH: usize = 88;

/// The explanation as `semslo lint --explain` prints it.
pub fn render(info: &CodeInfo) -> String {
    let severity = match info.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    };
    let mut text = format!("{} ({severity})\n\n{}\n\n{}\n", info.code, info.summary, wrap(info.explanation, WIDTH));
    if let Some(example) = info.example {
        text.push_str("\nExample:\n\n");
        for line in example.lines() {
            text.push_str("    ");
            text.push_str(line);
            text.push('\n');
        }
    }
    text
}

/// Breaks `text` into lines of at most `width` characters at spaces.
fn wrap(text: &str, width: usize) -> String {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    lines.push(line);
    lines.join("\n")
}
