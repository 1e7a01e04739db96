//! Sample runs (`semslo lint --records`): one pass over the input counts, for every
//! policy set, which field paths each run holds and which rules applied to it. The
//! counts feed `unknown_field`, `rarely_present` and `never_applied`.
//!
//! At most [`MAX_SAMPLES`] runs are read; the summary says when the input had more.

use std::collections::{BTreeSet, HashMap};

use serde_json::Value as Json;

use super::context::SetContext;
use super::paths::{self, FieldPath, FieldRead, Segment};
use super::{MAX_SAMPLES, SampleSummary, never_applied, rarely_present, unknown_field};
use crate::diagnostic::Diagnostic;
use crate::eval::{self, SkipReason, Verdict};
use crate::input::RecordStream;

/// Most malformed records reported one by one; the rest are counted in one finding.
const MAX_MALFORMED_REPORTED: usize = 20;

/// Most sibling field names remembered for one path's "did you mean".
const MAX_SIBLINGS: usize = 500;

/// What the sample runs showed about one policy set.
pub struct SetSamples {
    /// The first read of each distinct path, with the index of its file.
    pub reads: Vec<(usize, FieldRead)>,
    /// Counts per path, for every path read and each of its prefixes.
    pub paths: HashMap<FieldPath, PathCounts>,
    /// Counts per compiled rule, in the order of the compiled set; empty when the set
    /// does not compile.
    pub rules: Vec<RuleCounts>,
    /// Runs read.
    pub runs: usize,
}

/// In how many runs a path was present, and in how many it was absent though every
/// list on the way had elements.
#[derive(Debug, Default)]
pub struct PathCounts {
    pub present: usize,
    pub absent: usize,
    /// Field names seen beside the missing field, for "did you mean".
    pub siblings: BTreeSet<String>,
}

/// How a rule's `when` came out on the sample runs.
#[derive(Debug, Default)]
pub struct RuleCounts {
    /// Runs the rule judged (pass, fail or error).
    pub applied: usize,
    pub condition_false: usize,
    pub field_missing: usize,
    /// Runs a waiver excused.
    pub waived: usize,
}

/// Whether a path was in one run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Presence {
    Present,
    Absent,
    /// A list on the way was empty, so the run says nothing about the path.
    Vacuous,
}

impl SetSamples {
    fn new(context: &SetContext) -> SetSamples {
        let mut reads = Vec::new();
        for (index, file) in context.files.iter().enumerate() {
            reads.extend(paths::distinct(paths::file_reads(&file.ast)).into_iter().map(|read| (index, read)));
        }
        let mut paths = HashMap::new();
        for (_, read) in &reads {
            for length in 1..=read.path.0.len() {
                paths.entry(FieldPath(read.path.0[..length].to_vec())).or_insert_with(PathCounts::default);
            }
        }
        let rules = context.set.as_ref().map_or(0, |set| set.rules.len());
        SetSamples { reads, paths, rules: (0..rules).map(|_| RuleCounts::default()).collect(), runs: 0 }
    }

    fn add_run(&mut self, context: &SetContext, record: &Json) {
        self.runs += 1;
        for (path, counts) in &mut self.paths {
            match presence(record, &path.0, &mut counts.siblings) {
                Presence::Present => counts.present += 1,
                Presence::Absent => counts.absent += 1,
                Presence::Vacuous => {}
            }
        }
        let Some(set) = &context.set else { return };
        for verdict in eval::evaluate(set, record) {
            let counts = &mut self.rules[verdict.rule];
            match verdict.verdict {
                Verdict::Skip(SkipReason::ConditionFalse) => counts.condition_false += 1,
                Verdict::Skip(SkipReason::FieldMissing { .. }) => counts.field_missing += 1,
                Verdict::Skip(SkipReason::Waived { .. }) => counts.waived += 1,
                Verdict::Pass | Verdict::Fail | Verdict::Error => counts.applied += 1,
            }
        }
    }
}

/// Reads the sample runs once for every set and adds the sample-based findings of set
/// `i` to `findings[i]`. Returns the summary and the problems of the input itself.
pub fn apply(
    contexts: &[SetContext],
    streams: Vec<RecordStream>,
    findings: &mut [Vec<Diagnostic>],
) -> (SampleSummary, Vec<Diagnostic>) {
    let mut samples: Vec<SetSamples> = contexts.iter().map(SetSamples::new).collect();
    let mut summary = SampleSummary::default();
    let mut problems = Vec::new();
    'sources: for stream in streams {
        for item in stream {
            match item {
                Ok(_) if summary.read == MAX_SAMPLES => {
                    summary.truncated = true;
                    break 'sources;
                }
                Ok(record) => {
                    summary.read += 1;
                    for (set_samples, context) in samples.iter_mut().zip(contexts) {
                        set_samples.add_run(context, &record.value);
                    }
                }
                Err(error) => {
                    summary.malformed += 1;
                    if summary.malformed <= MAX_MALFORMED_REPORTED {
                        problems.push(malformed(&error));
                    }
                }
            }
        }
    }
    if summary.malformed > MAX_MALFORMED_REPORTED {
        let more = summary.malformed - MAX_MALFORMED_REPORTED;
        problems.push(
            Diagnostic::warning("semslo::input::malformed_record", format!("{more} more malformed sample records"))
                .with_help("fix or remove them; the other records are still read"),
        );
    }
    if summary.read == 0 {
        problems.push(
            Diagnostic::warning("semslo::lint::no_samples", "no sample runs were read from `--records`")
                .with_help("the field and applicability checks need at least one well-formed run"),
        );
        return (summary, problems);
    }

    for ((context, set_samples), set_findings) in contexts.iter().zip(&samples).zip(findings.iter_mut()) {
        unknown_field::check_samples(context, set_samples, set_findings);
        rarely_present::check(context, set_samples, set_findings);
        never_applied::check(context, set_samples, set_findings);
    }
    (summary, problems)
}

fn malformed(error: &crate::input::RecordError) -> Diagnostic {
    Diagnostic::warning(
        "semslo::input::malformed_record",
        format!("malformed sample record at {}: {}", error.location, error.reason),
    )
    .with_help("fix or remove this record; the other records are still read")
}

/// Whether `segments` lead to a value in `value`. Where a field is absent, the names
/// of the fields beside it go to `siblings`.
fn presence(value: &Json, segments: &[Segment], siblings: &mut BTreeSet<String>) -> Presence {
    let Some((segment, rest)) = segments.split_first() else { return Presence::Present };
    match (segment, value) {
        (Segment::Dynamic, _) => Presence::Present,
        (Segment::Field(name), Json::Object(object)) => match object.get(name) {
            Some(inner) => presence(inner, rest, siblings),
            None => {
                if rest.is_empty() && siblings.len() < MAX_SIBLINGS {
                    siblings.extend(object.keys().cloned());
                }
                Presence::Absent
            }
        },
        (Segment::Element, Json::Array(items)) => {
            let mut result = Presence::Vacuous;
            for item in items {
                match presence(item, rest, siblings) {
                    Presence::Present => return Presence::Present,
                    Presence::Absent => result = Presence::Absent,
                    Presence::Vacuous => {}
                }
            }
            result
        }
        _ => Presence::Absent,
    }
}
