//! Lint: every problem of every policy set in one run, for editors and CI.
//!
//! Lint reports all diagnostics of the compile stage (syntax, names, types, literals,
//! regexes, reference data, duplicates, objectives, alert windows) and adds the checks
//! that only lint makes, one file per check under `check/`, each with a code
//! `semslo::lint::NAME`. The lint-only checks read the AST of whatever parsed and the
//! reference data that loaded, so a policy that does not compile still gets every
//! finding that can be made about it.
//!
//! Two inputs are optional: a JSON Schema of the run records (`schema "FILE"` in a
//! policy) and sample runs ([`SampleSource`]). With either, every field path a policy
//! reads is checked against what the records actually hold.
//!
//! [`codes`] explains every diagnostic code of the product (`semslo lint --explain`),
//! and [`format`] renders findings as JSON, SARIF and GitHub workflow annotations.

mod band_gap;
mod band_overlap;
mod bands;
pub mod codes;
mod constant_condition;
mod context;
mod duplicate_column;
mod effective_overlap;
mod empty_validity;
mod expired_waiver;
pub mod format;
mod invalid_band;
mod never_applied;
mod no_error_budget;
mod no_rules;
mod paths;
mod rarely_present;
mod samples;
mod schema;
mod trial_mode_expired;
mod unknown_field;
mod unused_declaration;
mod walk;

use std::path::PathBuf;

use chrono::NaiveDate;

use crate::compile;
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::input::{self, InputError, InputFormat, Source};
use context::SetContext;

/// Most sample runs read from `--records`; the rest of the input is not read.
pub const MAX_SAMPLES: usize = 10_000;

/// Settings of a lint run: the date and the sample runs it compares against.
#[derive(Clone, Debug)]
pub struct LintOptions {
    /// The date expiry dates are compared with: a waiver or trial mode whose date is
    /// before it has expired.
    pub today: NaiveDate,
    /// Sample runs for the field and applicability checks.
    pub samples: Option<SampleSource>,
}

/// Record files read as sample runs (`semslo lint --records`).
#[derive(Clone, Debug)]
pub struct SampleSource {
    pub paths: Vec<PathBuf>,
    pub format: InputFormat,
}

/// Everything one lint run found.
#[derive(Debug, Default)]
pub struct LintReport {
    /// Findings of every policy set, set by set; within a set ordered by file and place.
    pub diagnostics: Diagnostics,
    /// Policy sets linted.
    pub sets: usize,
    /// Policy files read.
    pub files: usize,
    /// Sample runs read, when `--records` was given.
    pub samples: Option<SampleSummary>,
}

/// How many sample runs were read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SampleSummary {
    pub read: usize,
    /// Records that could not be parsed; each is also a diagnostic.
    pub malformed: usize,
    /// Whether [`MAX_SAMPLES`] stopped the reading before the input ended.
    pub truncated: bool,
}

/// A lint check that needs only the policy set and the options.
type SetLint = fn(&SetContext, &LintOptions, &mut Vec<Diagnostic>);

/// Every lint-only check that runs without sample runs, in report order.
const SET_LINTS: &[SetLint] = &[
    unused_declaration::check,
    constant_condition::check,
    trial_mode_expired::check,
    expired_waiver::check,
    duplicate_column::check,
    invalid_band::check,
    band_gap::check,
    band_overlap::check,
    effective_overlap::check,
    empty_validity::check,
    no_error_budget::check,
    no_rules::check,
    unknown_field::check_schema,
];

/// Lints every policy set under `paths` (files, policy-set directories or directories of
/// sets, as [`compile::discover_sets`] finds them).
///
/// # Errors
///
/// Returns [`InputError`] when a sample-run file cannot be opened or its format cannot be
/// determined; nothing is linted then. Problems in policies are findings, never errors.
pub fn lint(paths: &[PathBuf], options: &LintOptions) -> Result<LintReport, InputError> {
    let streams = open_samples(options.samples.as_ref())?;
    let mut report = LintReport::default();
    let mut contexts = Vec::new();
    for path in paths {
        match compile::discover_sets(path) {
            Ok(sets) => contexts.extend(sets.iter().map(|set| SetContext::load(set))),
            Err(diagnostic) => report.diagnostics.push(diagnostic),
        }
    }

    let mut findings: Vec<Vec<Diagnostic>> = contexts.iter().map(|context| lint_set(context, options)).collect();
    if let Some(streams) = streams {
        let (summary, problems) = samples::apply(&contexts, streams, &mut findings);
        report.diagnostics.extend(problems);
        report.samples = Some(summary);
    }

    for (context, mut set_findings) in contexts.iter().zip(findings) {
        sort_by_place(&mut set_findings);
        report.diagnostics.extend(set_findings);
        report.files += context.files.len();
    }
    report.sets = contexts.len();
    Ok(report)
}

/// Returns the compile diagnostics of a set followed by the findings of every set-level lint.
fn lint_set(context: &SetContext, options: &LintOptions) -> Vec<Diagnostic> {
    let mut findings = context.compile_diagnostics.0.clone();
    for lint in SET_LINTS {
        lint(context, options, &mut findings);
    }
    findings
}

/// Opens every sample source up front, so a missing file stops the run before any work.
fn open_samples(samples: Option<&SampleSource>) -> Result<Option<Vec<input::RecordStream>>, InputError> {
    let Some(samples) = samples else { return Ok(None) };
    let mut streams = Vec::with_capacity(samples.paths.len());
    for path in &samples.paths {
        let source = if path.as_os_str() == "-" { Source::Stdin } else { Source::Path(path.clone()) };
        streams.push(input::read_records(source, samples.format)?);
    }
    Ok(Some(streams))
}

/// Orders findings by file name and position; findings without a place come first.
/// The sort is stable, so findings at one place keep the order they were made in.
fn sort_by_place(findings: &mut [Diagnostic]) {
    findings.sort_by_key(|diagnostic| {
        let file = diagnostic.source.as_ref().map(|source| source.name().to_string());
        let start = diagnostic.labels.first().map_or(0, |label| label.span.start);
        (file, start)
    });
}
