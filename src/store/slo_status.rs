//! SLO status over the stored runs, in the report's own types ([`SloReport`],
//! [`SloSummary`]), so `GET /v1/slos` has the JSON shape of `semslo report --format json`.
//!
//! Each stored run keeps how every SLO counted it when it was accepted (good, bad,
//! error or not valid, its event time, the rules that made it bad, its segment and
//! dimension values). Windows, SLI, budget, burn rates, alerts, the daily series
//! and the breakdowns are computed from those rows with the formulas of
//! [`crate::slo::math`] and the window rules of [`crate::slo::window`]. A reload
//! does not judge stored runs again: an SLO sums the classifications its runs got
//! from the set live when they arrived, matched by SLO, rule and segment name.
//!
//! The sections that need the records themselves (step-level contrast,
//! checkpoints, expert labels, costs) are left empty: the store keeps verdicts,
//! not records.
//!
//! NOTE: the assembly below mirrors the private `slo::windowed` module, because
//! the SLO module offers no public way to summarize events that were not built
//! from records. When it does, this file should call it instead.

use std::collections::HashMap;

use chrono::{DateTime, TimeDelta, Utc};
use rusqlite::Connection;
use rust_decimal::Decimal;

use super::outcomes::{self, Outcome};
use super::{Store, StoreError};
use crate::compile::{CompiledSlo, GoodRule, PolicySet, SloWindow};
use crate::engine::{BadRule, DimensionValue, SloResult};
use crate::eval::slo::MISSING_DIMENSION;
use crate::slo::math::{
    alert_fires, allowed_bad_runs, budget_consumed, budget_remaining, budget_seconds, burn_rate, guard, ratio, sli,
};
use crate::slo::window::local_date;
use crate::slo::{
    AlertScaling, AlertStatus, AlertWindow, AlertsInfo, AtSource, BudgetInfo, DayPoint, DimensionBreakdown, InputInfo,
    InputRuns, Measure, PolicyRef, REPORT_SCHEMA, RuleBreakdown, RuleCounts, SegmentBreakdown, SloReport, SloState,
    SloSummary, WindowBounds, WindowCounts, WindowInfo, format_duration,
};
use crate::syntax::ast::RuleMode;

/// The window the default alert factors are derived for (see `compile::slo::DEFAULT_ALERTS`).
const DEFAULT_ALERT_WINDOW_DAYS: i64 = 30;

/// One valid, placed run as one SLO counted it.
struct Event {
    time: i64,
    result: SloResult,
    segment: Option<String>,
    bad_rules: Vec<BadRule>,
    dimensions: Vec<DimensionValue>,
}

impl Event {
    fn is_bad(&self) -> bool {
        matches!(self.result, SloResult::Bad | SloResult::Error)
    }
}

/// Computes the report over every stored run for the SLOs of `set`, at `at`
/// (default: the newest event time in the store).
pub fn report(store: &Store, set: &PolicySet, at: Option<DateTime<Utc>>) -> Result<SloReport, StoreError> {
    let (first, last) = store.event_time_range()?;
    let (at, at_source) = resolve_at(at, last);
    let runs = store.run_count()?;
    store.read(|connection| {
        let every_slo: Vec<usize> = (0..set.slos.len()).collect();
        let scanned = scan(connection, set, &every_slo, at)?;
        let slos = scanned.into_iter().zip(every_slo).map(|(runs, index)| summarize(set, index, at, runs)).collect();
        Ok(SloReport {
            schema: REPORT_SCHEMA,
            policy: PolicyRef {
                files: set.files.iter().map(|file| file.source.name().to_string()).collect(),
                hash: set.hash.clone(),
            },
            input: InputInfo {
                records_read: runs,
                records_checked: runs,
                records_rejected: 0,
                rejected: Vec::new(),
                first_event_time: first,
                last_event_time: last,
            },
            at,
            at_source,
            rules: rule_counts(connection, set)?,
            slos,
        })
    })
}

/// Computes one SLO of `set` over the stored runs. Returns `None` when `set` has no SLO named `name`.
pub fn summary(
    store: &Store,
    set: &PolicySet,
    name: &str,
    at: Option<DateTime<Utc>>,
) -> Result<Option<SloSummary>, StoreError> {
    let Some(index) = set.slos.iter().position(|slo| slo.name == name) else { return Ok(None) };
    let (_, last) = store.event_time_range()?;
    let (at, _) = resolve_at(at, last);
    store.read(|connection| {
        let runs = scan(connection, set, &[index], at)?.pop().unwrap_or_default();
        Ok(Some(summarize(set, index, at, runs)))
    })
}

fn resolve_at(at: Option<DateTime<Utc>>, newest: Option<DateTime<Utc>>) -> (Option<DateTime<Utc>>, AtSource) {
    match (at, newest) {
        (Some(at), _) => (Some(at), AtSource::Argument),
        (None, Some(newest)) => (Some(newest), AtSource::LatestEvent),
        (None, None) => (None, AtSource::NoEvents),
    }
}

fn summarize(set: &PolicySet, index: usize, at: Option<DateTime<Utc>>, runs: ScannedRuns) -> SloSummary {
    let ScannedRuns { events, input_runs } = runs;
    let slo = &set.slos[index];
    let source = &set.files[slo.file].source;
    let (line, _) = source.line_column(slo.span.start);
    let bounds = at.map(|at| WindowBounds::of(slo.window, slo.time_zone, at));

    let counts = window_counts(&events, bounds.as_ref(), input_runs.unplaced);
    let sli_value = guard(sli(counts.good, counts.valid), counts.valid, slo.minimum_runs);
    let consumed = guard(budget_consumed(counts.bad, counts.valid, slo.objective), counts.valid, slo.minimum_runs);
    let status = match sli_value {
        Measure::Value(value) if value >= slo.objective => SloState::Met,
        Measure::Value(_) => SloState::Missed,
        Measure::InsufficientData => SloState::InsufficientData,
        _ => SloState::NoData,
    };
    let length = bounds.map_or_else(|| slo.window.nominal_length(), |bounds| bounds.length());
    let budget = BudgetInfo {
        error_budget: Decimal::ONE - slo.objective,
        allowed_bad_runs: guard(allowed_bad_runs(counts.valid, slo.objective), counts.valid, slo.minimum_runs),
        consumed,
        remaining: budget_remaining(consumed),
        time_seconds: budget_seconds(slo.objective, length),
    };

    SloSummary {
        name: slo.name.clone(),
        title: slo.title.clone(),
        file: source.name().to_string(),
        line,
        objective: slo.objective,
        good_when: good_when(set, &slo.good),
        minimum_runs: slo.minimum_runs,
        window: window_info(slo, bounds, length),
        status,
        counts,
        sli: sli_value,
        budget,
        burn_rate: consumed,
        alerts: alerts(slo, &events, at),
        daily: bounds.map(|bounds| daily(slo, &events, &bounds, &counts)).unwrap_or_default(),
        by_rule: by_rule(set, slo, &events, bounds.as_ref(), counts.valid),
        by_segment: by_segment(set, &events, bounds.as_ref()),
        by_dimension: by_dimension(slo, &events, bounds.as_ref()),
        input_runs,
        contrast: Vec::new(),
        checkpoints: None,
        labels: None,
        costs: None,
    }
}

/// The stored runs one SLO needs: its valid, placed runs that a window ending at the
/// report time can contain, and its counts of how it classified every run.
#[derive(Default)]
struct ScannedRuns {
    events: Vec<Event>,
    input_runs: InputRuns,
}

/// One SLO being gathered by [`scan`].
struct Gathering<'s> {
    name: &'s str,
    /// The event times a window or alert window ending at the report time can hold.
    range: Option<(i64, i64)>,
    runs: ScannedRuns,
}

/// Reads every stored run once and gathers, for each SLO of `set` at `indices`, the
/// runs its windows ending at `at` can contain and its counts over every run. A run
/// has one outcome per SLO that was live when it arrived; outcomes of SLOs not asked
/// for are passed over.
fn scan(
    connection: &Connection,
    set: &PolicySet,
    indices: &[usize],
    at: Option<DateTime<Utc>>,
) -> Result<Vec<ScannedRuns>, StoreError> {
    let mut gathering: Vec<Gathering<'_>> = indices
        .iter()
        .map(|&index| {
            let slo = &set.slos[index];
            Gathering {
                name: &slo.name,
                range: at.map(|at| (earliest_needed(slo, at).timestamp_micros(), at.timestamp_micros())),
                runs: ScannedRuns::default(),
            }
        })
        .collect();
    let mut statement = connection.prepare_cached("SELECT slo_outcomes FROM runs")?;
    let mut rows = statement.query([])?;
    while let Some(row) = rows.next()? {
        let text: String = row.get(0)?;
        for outcome in outcomes::decode(&text)? {
            let Some(slo) = gathering.iter_mut().find(|slo| slo.name == outcome.slo) else { continue };
            slo.add(outcome);
        }
    }
    Ok(gathering.into_iter().map(|slo| slo.runs).collect())
}

/// Returns the earliest instant any window of `slo` ending at `at` starts at.
fn earliest_needed(slo: &CompiledSlo, at: DateTime<Utc>) -> DateTime<Utc> {
    let window = WindowBounds::of(slo.window, slo.time_zone, at);
    let longest_alert = slo.alerts.iter().map(|alert| alert.long_window).max().unwrap_or_default();
    window.first_instant().min(at - longest_alert)
}

impl Gathering<'_> {
    fn add(&mut self, outcome: Outcome) {
        let result = outcome.result();
        let counts = &mut self.runs.input_runs;
        match result {
            SloResult::NotValid => {
                counts.not_valid += 1;
                if outcome.field_missing {
                    counts.not_valid_field_missing += 1;
                }
                return;
            }
            SloResult::Good => counts.good += 1,
            SloResult::Bad => counts.bad += 1,
            SloResult::Error => {
                counts.bad += 1;
                counts.bad_error += 1;
            }
        }
        counts.valid += 1;
        let Some(time) = outcome.event_time else {
            counts.add_unplaced(outcome.event_time_error.as_deref().unwrap_or_default());
            return;
        };
        if self.range.is_some_and(|(earliest, latest)| (earliest..=latest).contains(&time)) {
            self.runs.events.push(Event {
                time,
                result,
                segment: outcome.segment,
                bad_rules: outcome.bad_rules,
                dimensions: outcome.dimensions,
            });
        }
    }
}

/// Counts the verdicts per rule of `set` over every stored run.
fn rule_counts(connection: &Connection, set: &PolicySet) -> Result<Vec<RuleCounts>, StoreError> {
    let mut counts: HashMap<String, [u64; 4]> = HashMap::new();
    let mut statement = connection.prepare_cached(
        "SELECT verdict.key, verdict.value, count(*) FROM runs, json_each(runs.rule_verdicts) AS verdict GROUP BY 1, 2",
    )?;
    let rows = statement
        .query_map([], |row| Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?, row.get::<_, i64>(2)? as u64)))?;
    for row in rows {
        let (rule, verdict, count) = row?;
        let slot = match verdict.as_str() {
            "pass" => 0,
            "fail" => 1,
            "skip" => 2,
            _ => 3,
        };
        counts.entry(rule).or_default()[slot] += count;
    }
    Ok(set
        .rules
        .iter()
        .map(|rule| {
            let [pass, fail, skip, error] = counts.get(&rule.name).copied().unwrap_or_default();
            RuleCounts {
                name: rule.name.clone(),
                title: rule.title.clone(),
                severity: rule.severity,
                mode: rule.mode,
                segment: rule.segment.clone(),
                pass,
                fail,
                skip,
                error,
            }
        })
        .collect())
}

fn in_window<'e>(events: &'e [Event], bounds: Option<&'e WindowBounds>) -> impl Iterator<Item = &'e Event> + 'e {
    events.iter().filter(move |event| bounds.is_some_and(|bounds| bounds.contains_micros(event.time)))
}

/// Counts the valid runs in the window; unplaced runs count as bad in every window.
fn window_counts(events: &[Event], bounds: Option<&WindowBounds>, unplaced: u64) -> WindowCounts {
    let mut counts = WindowCounts { unplaced, valid: unplaced, bad: unplaced, ..WindowCounts::default() };
    for event in in_window(events, bounds) {
        counts.valid += 1;
        match event.result {
            SloResult::Good | SloResult::NotValid => counts.good += 1,
            SloResult::Bad => {
                counts.bad += 1;
                counts.failed += 1;
            }
            SloResult::Error => {
                counts.bad += 1;
                counts.error += 1;
            }
        }
    }
    counts
}

fn window_info(slo: &CompiledSlo, bounds: Option<WindowBounds>, length: TimeDelta) -> WindowInfo {
    let (kind, written) = match slo.window {
        SloWindow::Rolling(duration) => ("rolling", format_duration(duration)),
        SloWindow::Calendar(unit) => ("calendar", format!("calendar {}", unit.as_str())),
    };
    WindowInfo {
        kind,
        written,
        time_zone: slo.time_zone.name().to_string(),
        start: bounds.map(|b| b.start),
        start_inclusive: bounds.is_none_or(|b| b.start_inclusive),
        end: bounds.map(|b| b.end),
        period_end: bounds.and_then(|b| b.period_end),
        length_seconds: Decimal::from(length.num_milliseconds()) / Decimal::ONE_THOUSAND,
    }
}

fn good_when(set: &PolicySet, good: &GoodRule) -> String {
    match good {
        GoodRule::AllRulesPass => "all rules pass".to_string(),
        GoodRule::RulesPass(rules) => {
            let names: Vec<&str> = rules.iter().map(|&rule| set.rules[rule].name.as_str()).collect();
            format!("rules {} pass", names.join(", "))
        }
        GoodRule::NoRuleFails(Some(severity)) => format!("no {} rule fails", severity.as_str()),
        GoodRule::NoRuleFails(None) => "no rule fails".to_string(),
    }
}

fn alerts(slo: &CompiledSlo, events: &[Event], at: Option<DateTime<Utc>>) -> AlertsInfo {
    let alert_window = |length: TimeDelta| {
        let bounds = at.map(|at| WindowBounds::rolling(length, at));
        let counts = window_counts(events, bounds.as_ref(), 0);
        AlertWindow {
            duration: format_duration(length),
            valid: counts.valid,
            bad: counts.bad,
            burn_rate: guard(burn_rate(counts.bad, counts.valid, slo.objective), counts.valid, slo.minimum_runs),
        }
    };
    let alerts = slo
        .alerts
        .iter()
        .map(|alert| {
            let long = alert_window(alert.long_window);
            let short = alert_window(alert.short_window);
            let fires = alert_fires(long.burn_rate, short.burn_rate, alert.factor);
            AlertStatus { name: alert.name.clone(), factor: alert.factor, long, short, fires }
        })
        .collect();
    let scaling = (!slo.alerts_declared).then(|| {
        let nominal = slo.window.nominal_length();
        let reference = TimeDelta::days(DEFAULT_ALERT_WINDOW_DAYS);
        AlertScaling {
            reference_window: format_duration(reference),
            slo_window: format_duration(nominal),
            ratio: Decimal::from(nominal.num_milliseconds()) / Decimal::from(reference.num_milliseconds()),
        }
    });
    AlertsInfo { source: if slo.alerts_declared { "declared" } else { "default" }, scaling, alerts }
}

/// Computes one point per local day of the window, in the SLO's time zone.
fn daily(slo: &CompiledSlo, events: &[Event], bounds: &WindowBounds, window: &WindowCounts) -> Vec<DayPoint> {
    let first = local_date(slo.time_zone, bounds.first_instant());
    let last = local_date(slo.time_zone, bounds.end);
    let days = usize::try_from((last - first).num_days() + 1).unwrap_or(0);
    let mut counts = vec![(0u64, 0u64); days];
    for event in in_window(events, Some(bounds)) {
        let Some(time) = DateTime::from_timestamp_micros(event.time) else { continue };
        let day = (local_date(slo.time_zone, time) - first).num_days();
        if let Some(slot) = usize::try_from(day).ok().and_then(|day| counts.get_mut(day)) {
            slot.0 += 1;
            if event.is_bad() {
                slot.1 += 1;
            }
        }
    }
    // The budget left at the end of each day is measured against every valid run of the
    // window, and runs without an event time spend it from the first day, as in the
    // report built from a log.
    let placed_bad: u64 = counts.iter().map(|(_, bad)| bad).sum();
    let window_valid = window.valid;
    let mut total_bad = window.bad.saturating_sub(placed_bad);
    counts
        .iter()
        .enumerate()
        .map(|(offset, &(valid, bad))| {
            total_bad += bad;
            DayPoint {
                date: first + TimeDelta::days(offset as i64),
                valid,
                good: valid - bad,
                bad,
                sli: sli(valid - bad, valid),
                budget_remaining: budget_remaining(budget_consumed(total_bad, window_valid, slo.objective)),
            }
        })
        .collect()
}

/// Returns the indices of the rules an SLO's `good when` counts.
fn counted_rules(set: &PolicySet, good: &GoodRule) -> Vec<usize> {
    let rules = set.rules.iter().enumerate();
    match good {
        GoodRule::AllRulesPass => rules.filter(|(_, rule)| rule.mode != RuleMode::Shadow).map(|(i, _)| i).collect(),
        GoodRule::RulesPass(indices) => indices.clone(),
        GoodRule::NoRuleFails(severity) => rules
            .filter(|(_, rule)| rule.mode != RuleMode::Shadow && severity.is_none_or(|s| rule.severity == s))
            .map(|(i, _)| i)
            .collect(),
    }
}

fn by_rule(
    set: &PolicySet,
    slo: &CompiledSlo,
    events: &[Event],
    bounds: Option<&WindowBounds>,
    valid: u64,
) -> Vec<RuleBreakdown> {
    let mut failed: HashMap<&str, u64> = HashMap::new();
    let mut errored: HashMap<&str, u64> = HashMap::new();
    for event in in_window(events, bounds) {
        for bad in &event.bad_rules {
            let counter = if bad.verdict == "error" { &mut errored } else { &mut failed };
            *counter.entry(bad.rule.as_str()).or_default() += 1;
        }
    }
    let mut rows: Vec<RuleBreakdown> = counted_rules(set, &slo.good)
        .into_iter()
        .map(|index| {
            let rule = &set.rules[index];
            let failed = failed.get(rule.name.as_str()).copied().unwrap_or(0);
            let errored = errored.get(rule.name.as_str()).copied().unwrap_or(0);
            RuleBreakdown {
                rule: rule.name.clone(),
                title: rule.title.clone(),
                severity: rule.severity,
                segment: rule.segment.clone(),
                bad_runs: failed + errored,
                failed,
                errored,
                share_of_valid: ratio(failed + errored, valid),
            }
        })
        .collect();
    rows.sort_by_key(|row| std::cmp::Reverse(row.bad_runs));
    rows
}

/// Counts bad runs by first failing segment: every segment of the set in run order, then
/// runs with no (or an unknown) segment when there are any.
fn by_segment(set: &PolicySet, events: &[Event], bounds: Option<&WindowBounds>) -> Vec<SegmentBreakdown> {
    let mut counts = vec![0u64; set.segments.len() + 1];
    for event in in_window(events, bounds).filter(|event| event.is_bad()) {
        let slot = event
            .segment
            .as_ref()
            .and_then(|name| set.segments.iter().position(|segment| segment == name))
            .unwrap_or(set.segments.len());
        counts[slot] += 1;
    }
    let bad: u64 = counts.iter().sum();
    let mut rows: Vec<SegmentBreakdown> = counts
        .iter()
        .enumerate()
        .filter(|&(slot, &runs)| slot < set.segments.len() || runs > 0)
        .map(|(slot, &runs)| SegmentBreakdown {
            segment: set.segments.get(slot).cloned(),
            bad_runs: runs,
            share_of_bad: ratio(runs, bad),
        })
        .collect();
    rows.sort_by_key(|row| std::cmp::Reverse(row.bad_runs));
    rows
}

/// Breaks the window down by each dimension's values, worst first: most bad runs,
/// then lowest SLI, then by value.
fn by_dimension(slo: &CompiledSlo, events: &[Event], bounds: Option<&WindowBounds>) -> Vec<DimensionBreakdown> {
    slo.by
        .iter()
        .map(|(by, _)| {
            let mut counts: HashMap<&str, (u64, u64)> = HashMap::new();
            for event in in_window(events, bounds) {
                let value = event
                    .dimensions
                    .iter()
                    .find(|dimension| dimension.by == *by)
                    .map_or(MISSING_DIMENSION, |dimension| dimension.value.as_str());
                let slot = counts.entry(value).or_default();
                slot.0 += 1;
                if event.is_bad() {
                    slot.1 += 1;
                }
            }
            let mut values: Vec<crate::slo::DimensionValue> = counts
                .into_iter()
                .map(|(value, (valid, bad))| crate::slo::DimensionValue {
                    value: value.to_string(),
                    valid,
                    good: valid - bad,
                    bad,
                    sli: sli(valid - bad, valid),
                })
                .collect();
            values.sort_by(|a, b| {
                b.bad.cmp(&a.bad).then_with(|| a.sli.value().cmp(&b.sli.value())).then_with(|| a.value.cmp(&b.value))
            });
            DimensionBreakdown { dimension: by.clone(), values }
        })
        .collect()
}
