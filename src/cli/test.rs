//! `semslo test`: run the `test` blocks of policy sets.

use std::fmt::Write as _;
use std::io::Write;
use std::path::PathBuf;

use clap::Args;
use semslo::compile::{self, PolicySet};
use semslo::policy_test::{self, TestReport};
use semslo::report;

use super::{ExitStatus, print_diagnostics};

#[derive(Args)]
pub struct TestArgs {
    /// Policy files or directories; each directory holding `.slo` files is one policy set.
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = TestFormat::Text)]
    format: TestFormat,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum TestFormat {
    Text,
    Junit,
}

pub fn run(args: TestArgs) -> ExitStatus {
    let mut sets = Vec::new();
    let mut invalid = false;
    for path in &args.paths {
        match compile::discover_sets(path) {
            Ok(found) => sets.extend(found),
            Err(diagnostic) => {
                print_diagnostics([&diagnostic]);
                invalid = true;
            }
        }
    }

    let mut reports: Vec<(String, PolicySet, TestReport)> = Vec::new();
    for path in sets {
        let (set, diagnostics) = compile::load(&path);
        print_diagnostics(diagnostics.iter());
        match set {
            Some(set) => {
                let report = policy_test::run(&set);
                reports.push((path.display().to_string(), set, report));
            }
            None => invalid = true,
        }
    }

    let rendered = match args.format {
        // When nothing loaded, the errors above give the reason, and "0 passed" would read as a result.
        TestFormat::Text if reports.is_empty() && invalid => String::new(),
        TestFormat::Text => render_text(&reports),
        TestFormat::Junit => render_junit(&reports),
    };
    let _ = std::io::stdout().lock().write_all(rendered.as_bytes());

    let failed: usize = reports.iter().map(|(_, _, r)| r.failed()).sum();
    if invalid {
        ExitStatus::InvalidPolicy
    } else if failed > 0 {
        ExitStatus::Violations
    } else {
        ExitStatus::Success
    }
}

fn render_text(reports: &[(String, PolicySet, TestReport)]) -> String {
    let mut out = String::new();
    for (path, set, report) in reports {
        let _ = writeln!(out, "{path}: {} tests", report.results.len());
        for (result, test) in report.results.iter().zip(&set.tests) {
            if result.passed() {
                let _ = writeln!(out, "  ok      {}", result.name);
                continue;
            }
            let _ = writeln!(out, "  FAILED  {} ({}:{})", result.name, result.file, result.line);
            for failure in &result.failures {
                let _ = writeln!(
                    out,
                    "          line {}: expected `{}` {}, but it {}",
                    failure.line, failure.target, failure.expected, failure.actual
                );
                if let Some(verdict) = &failure.verdict {
                    if verdict.explanation.is_some() {
                        let violation =
                            report::violation(set, &test.record, &format!("test \"{}\"", result.name), verdict.clone());
                        let mut block = String::new();
                        report::text::render_violation(&mut block, &violation);
                        for line in block.lines().skip(1).filter(|l| !l.trim().is_empty()) {
                            let _ = writeln!(out, "    {line}");
                        }
                    }
                }
            }
        }
        render_coverage(&mut out, report);
        out.push('\n');
    }
    let passed: usize = reports.iter().map(|(_, _, r)| r.passed()).sum();
    let failed: usize = reports.iter().map(|(_, _, r)| r.failed()).sum();
    let _ = writeln!(out, "{passed} passed, {failed} failed");
    out
}

fn render_coverage(out: &mut String, report: &TestReport) {
    let total = report.coverage.len();
    let untested: Vec<&str> = report.coverage.iter().filter(|c| c.asserted == 0).map(|c| c.rule.as_str()).collect();
    let _ = writeln!(out, "  coverage: {} of {total} rules asserted by a test", total - untested.len());
    if !untested.is_empty() {
        let _ = writeln!(out, "    rules no test asserts: {}", untested.join(", "));
    }
    let never_false: Vec<&str> =
        report.coverage.iter().filter(|c| c.has_when && !c.when_false).map(|c| c.rule.as_str()).collect();
    if !never_false.is_empty() {
        let _ = writeln!(out, "    `when` never false in any test: {}", never_false.join(", "));
    }
    let never_true: Vec<&str> = report.coverage.iter().filter(|c| !c.when_true).map(|c| c.rule.as_str()).collect();
    if !never_true.is_empty() {
        let _ = writeln!(out, "    never applied in any test: {}", never_true.join(", "));
    }
}

fn render_junit(reports: &[(String, PolicySet, TestReport)]) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n");
    for (path, _, report) in reports {
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\">",
            xml_escape(path),
            report.results.len(),
            report.failed()
        );
        for result in &report.results {
            let _ = write!(
                out,
                "    <testcase name=\"{}\" classname=\"{}\"",
                xml_escape(&result.name),
                xml_escape(&result.file)
            );
            if result.passed() {
                out.push_str("/>\n");
                continue;
            }
            out.push_str(">\n");
            for failure in &result.failures {
                let message = format!("expected `{}` {}, but it {}", failure.target, failure.expected, failure.actual);
                let _ = writeln!(
                    out,
                    "      <failure message=\"{}\">{}:{}: {}</failure>",
                    xml_escape(&message),
                    xml_escape(&result.file),
                    failure.line,
                    xml_escape(&message)
                );
            }
            out.push_str("    </testcase>\n");
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

/// Escapes text for XML attributes and content.
fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\t' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}
