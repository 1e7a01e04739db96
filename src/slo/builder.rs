//! Reading runs into an SLO report one at a time: verdict counts per rule, a
//! compact event per valid run and SLO, and the calibration counters. Nothing of a
//! record is kept after [`ReportBuilder::add_run`] returns, except the run ids of
//! the capped lists.

use chrono::{DateTime, Utc};
use serde_json::Value as Json;

use super::calibration::{Calibration, RunFacts};
use super::event::{BAD, ERROR, Event, EventLog, NO_SEGMENT};
use super::summary::{
    AtSource, InputInfo, InputRuns, MAX_LISTED_RUNS, REPORT_SCHEMA, RejectedRecord, RuleCounts, SloReport,
};
use super::windowed;
use crate::compile::PolicySet;
use crate::eval::slo::{SloOutcome, SloStatus, classify};
use crate::eval::{RuleVerdict, Verdict};
use crate::input::Location;

/// Settings of the report computation.
#[derive(Clone, Copy, Debug, Default)]
pub struct ReportOptions {
    /// The report time every window ends at; `None` takes the latest event time in
    /// the input, so the same input always gives the same report.
    pub at: Option<DateTime<Utc>>,
}

/// Accumulates the SLO report while runs are read.
pub struct ReportBuilder<'s> {
    set: &'s PolicySet,
    options: ReportOptions,
    input: InputInfo,
    /// Earliest and latest event time seen, in microseconds since the Unix epoch.
    first_event: Option<i64>,
    last_event: Option<i64>,
    rules: Vec<RuleCounts>,
    slos: Vec<SloAccumulator>,
}

/// The events and counters one SLO has gathered so far.
pub(super) struct SloAccumulator {
    pub events: EventLog,
    pub runs: InputRuns,
    pub calibration: Calibration,
}

impl<'s> ReportBuilder<'s> {
    pub fn new(set: &'s PolicySet, options: ReportOptions) -> Self {
        let rules = set
            .rules
            .iter()
            .map(|rule| RuleCounts {
                name: rule.name.clone(),
                title: rule.title.clone(),
                severity: rule.severity,
                mode: rule.mode,
                segment: rule.segment.clone(),
                pass: 0,
                fail: 0,
                skip: 0,
                error: 0,
            })
            .collect();
        let slos = set
            .slos
            .iter()
            .map(|slo| SloAccumulator {
                events: EventLog::new(slo.by.len()),
                runs: InputRuns::default(),
                calibration: Calibration::default(),
            })
            .collect();
        ReportBuilder { set, options, input: InputInfo::default(), first_event: None, last_event: None, rules, slos }
    }

    /// Counts a malformed record.
    pub fn add_rejected(&mut self, file: &str, line: usize, reason: String) {
        self.input.records_read += 1;
        self.input.records_rejected += 1;
        if self.input.rejected.len() < MAX_LISTED_RUNS {
            self.input.rejected.push(RejectedRecord { file: file.to_string(), line, reason });
        }
    }

    /// Adds one checked run with the verdicts [`crate::eval::evaluate`] gave it;
    /// `location` (`file:line`) names the run when it has no `run_id`.
    pub fn add_run(&mut self, record: &Json, location: &Location, verdicts: &[RuleVerdict]) {
        self.input.records_read += 1;
        self.input.records_checked += 1;
        for verdict in verdicts {
            let counts = &mut self.rules[verdict.rule];
            match verdict.verdict {
                Verdict::Pass => counts.pass += 1,
                Verdict::Fail => counts.fail += 1,
                Verdict::Skip(_) => counts.skip += 1,
                Verdict::Error => counts.error += 1,
            }
        }
        if self.set.slos.is_empty() {
            return;
        }

        for outcome in classify(self.set, record, verdicts) {
            if let Ok(time) = outcome.event_time {
                let micros = time.timestamp_micros();
                self.first_event = Some(self.first_event.map_or(micros, |first| first.min(micros)));
                self.last_event = Some(self.last_event.map_or(micros, |last| last.max(micros)));
            }
            self.slos[outcome.slo].add(self.set, record, location, &outcome, verdicts);
        }
    }

    /// Computes every window and section.
    pub fn finish(self) -> SloReport {
        let mut input = self.input;
        input.first_event_time = self.first_event.and_then(DateTime::from_timestamp_micros);
        input.last_event_time = self.last_event.and_then(DateTime::from_timestamp_micros);
        let (at, at_source) = match (self.options.at, input.last_event_time) {
            (Some(at), _) => (Some(at), AtSource::Argument),
            (None, Some(latest)) => (Some(latest), AtSource::LatestEvent),
            (None, None) => (None, AtSource::NoEvents),
        };
        let set = self.set;
        let slos = self
            .slos
            .into_iter()
            .enumerate()
            .map(|(index, gathered)| windowed::summarize(set, index, gathered, at))
            .collect();
        SloReport {
            schema: REPORT_SCHEMA,
            policy: super::PolicyRef {
                files: set.files.iter().map(|file| file.source.name().to_string()).collect(),
                hash: set.hash.clone(),
            },
            input,
            at,
            at_source,
            rules: self.rules,
            slos,
        }
    }
}

impl SloAccumulator {
    fn add(
        &mut self,
        set: &PolicySet,
        record: &Json,
        location: &Location,
        outcome: &SloOutcome,
        verdicts: &[RuleVerdict],
    ) {
        let empty = Vec::new();
        let (bad, error, rules, segment) = match &outcome.status {
            SloStatus::NotValid { field_missing } => {
                self.runs.not_valid += 1;
                if *field_missing {
                    self.runs.not_valid_field_missing += 1;
                }
                return;
            }
            SloStatus::Good => (false, false, &empty, None),
            SloStatus::Bad { error, rules, segment } => (true, *error, rules, segment.as_ref()),
        };
        let segment = segment.and_then(|name| set.segments.iter().position(|s| s == name));

        self.runs.valid += 1;
        if bad {
            self.runs.bad += 1;
            if error {
                self.runs.bad_error += 1;
            }
        } else {
            self.runs.good += 1;
        }

        match &outcome.event_time {
            Ok(time) => {
                let bad_rules = rules
                    .iter()
                    .map(|&rule| {
                        let errored = verdicts.iter().any(|v| v.rule == rule && v.verdict == Verdict::Error);
                        (rule as u32, errored)
                    })
                    .collect();
                let event = Event {
                    time: time.timestamp_micros(),
                    rules: self.events.rule_sets.intern(bad_rules),
                    segment: segment.and_then(|s| u16::try_from(s).ok()).unwrap_or(NO_SEGMENT),
                    flags: if bad { BAD } else { 0 } | if error { ERROR } else { 0 },
                };
                self.events.push(event, &outcome.dimensions);
            }
            Err(reason) => self.runs.add_unplaced(reason),
        }

        let facts = RunFacts { record, bad, segment, bad_rules: rules };
        self.calibration.add(set, &facts, || run_id(record, location));
    }
}

/// Returns the run's id: `run_id`, else `id`, else its place in the input, as the
/// violations of `semslo check` do.
fn run_id(record: &Json, location: &Location) -> String {
    crate::engine::run_id(record).unwrap_or_else(|| location.to_string())
}
