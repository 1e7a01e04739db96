//! The windowed sections of one SLO, computed from its compact events once the
//! report time is known: counts, SLI, budget, burn rates and alerts, the daily
//! series and the breakdowns by rule, segment and dimension.

use chrono::{DateTime, TimeDelta, Utc};
use rust_decimal::Decimal;

use super::builder::SloAccumulator;
use super::event::{EventLog, NO_SEGMENT};
use super::math::{alert_fires, budget_consumed, budget_remaining, budget_seconds, burn_rate, guard, ratio, sli};
use super::measure::Measure;
use super::summary::{
    AlertScaling, AlertStatus, AlertWindow, AlertsInfo, BudgetInfo, DayPoint, DimensionBreakdown, DimensionValue,
    RuleBreakdown, SegmentBreakdown, SloState, SloSummary, WindowCounts, WindowInfo,
};
use super::window::{WindowBounds, format_duration, local_date};
use crate::compile::{CompiledSlo, GoodRule, PolicySet, SloWindow};
use crate::syntax::ast::RuleMode;

/// The window the default alert factors are derived for.
const DEFAULT_ALERT_WINDOW_DAYS: i64 = 30;

pub(super) fn summarize(
    set: &PolicySet,
    index: usize,
    gathered: SloAccumulator,
    at: Option<DateTime<Utc>>,
) -> SloSummary {
    let slo = &set.slos[index];
    let source = &set.files[slo.file].source;
    let (line, _) = source.line_column(slo.span.start);
    let bounds = at.map(|at| WindowBounds::of(slo.window, slo.time_zone, at));
    let events = &gathered.events;

    let counts = window_counts(events, bounds.as_ref(), gathered.runs.unplaced);
    let sli = guard(sli(counts.good, counts.valid), counts.valid, slo.minimum_runs);
    let consumed = guard(budget_consumed(counts.bad, counts.valid, slo.objective), counts.valid, slo.minimum_runs);
    let status = match sli {
        Measure::Value(value) if value >= slo.objective => SloState::Met,
        Measure::Value(_) => SloState::Missed,
        Measure::InsufficientData => SloState::InsufficientData,
        _ => SloState::NoData,
    };
    let length = bounds.map_or_else(|| slo.window.nominal_length(), |bounds| bounds.length());
    let budget = BudgetInfo {
        error_budget: Decimal::ONE - slo.objective,
        allowed_bad_runs: guard(
            super::math::allowed_bad_runs(counts.valid, slo.objective),
            counts.valid,
            slo.minimum_runs,
        ),
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
        sli,
        budget,
        burn_rate: consumed,
        alerts: alerts(slo, events, at),
        daily: bounds.map(|bounds| daily(slo, events, &bounds, &counts)).unwrap_or_default(),
        by_rule: by_rule(set, slo, events, bounds.as_ref(), counts.valid),
        by_segment: by_segment(set, events, bounds.as_ref()),
        by_dimension: by_dimension(slo, events, bounds.as_ref()),
        contrast: gathered.calibration.contrast(set),
        checkpoints: gathered.calibration.checkpoints(),
        labels: gathered.calibration.labels(),
        costs: gathered.calibration.costs(set.costs.as_ref()),
        input_runs: gathered.runs,
    }
}

/// Indices of the events inside `bounds`; none without a report time.
fn in_window<'e>(events: &'e EventLog, bounds: Option<&'e WindowBounds>) -> impl Iterator<Item = usize> + 'e {
    events
        .events
        .iter()
        .enumerate()
        .filter(move |(_, event)| bounds.is_some_and(|bounds| bounds.contains_micros(event.time)))
        .map(|(index, _)| index)
}

fn window_counts(events: &EventLog, bounds: Option<&WindowBounds>, unplaced: u64) -> WindowCounts {
    let mut counts = WindowCounts { unplaced, valid: unplaced, bad: unplaced, ..WindowCounts::default() };
    for index in in_window(events, bounds) {
        let event = events.events[index];
        counts.valid += 1;
        if !event.is_bad() {
            counts.good += 1;
        } else if event.is_error() {
            counts.bad += 1;
            counts.error += 1;
        } else {
            counts.bad += 1;
            counts.failed += 1;
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

fn alerts(slo: &CompiledSlo, events: &EventLog, at: Option<DateTime<Utc>>) -> AlertsInfo {
    let alerts = slo
        .alerts
        .iter()
        .map(|alert| {
            let long = alert_window(slo, events, at, alert.long_window);
            let short = alert_window(slo, events, at, alert.short_window);
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

/// Counts and burn rate over `(at − length, at]`. Only placed runs count here:
/// runs without an event time cannot be put in a short window.
fn alert_window(slo: &CompiledSlo, events: &EventLog, at: Option<DateTime<Utc>>, length: TimeDelta) -> AlertWindow {
    let bounds = at.map(|at| WindowBounds::rolling(length, at));
    let counts = window_counts(events, bounds.as_ref(), 0);
    AlertWindow {
        duration: format_duration(length),
        valid: counts.valid,
        bad: counts.bad,
        burn_rate: guard(burn_rate(counts.bad, counts.valid, slo.objective), counts.valid, slo.minimum_runs),
    }
}

/// Computes one point per local day from the window's first instant to `at`. A day's SLI is
/// that day's good ÷ valid. The budget remaining is the burn-down of the window's
/// budget, `1 − bad so far ÷ ((1 − objective) × valid in the whole window)`, so it
/// starts at 100 %, only falls, and ends at the window's remaining budget. Runs
/// without an event time are not in the series.
/// The SLI per local day and the budget left at each day's end. The budget is measured
/// against every valid run of the window (`window`), like the summary's figure, and runs
/// without an event time spend it from the first day, so the last point equals it.
fn daily(slo: &CompiledSlo, events: &EventLog, bounds: &WindowBounds, window: &WindowCounts) -> Vec<DayPoint> {
    let first = local_date(slo.time_zone, bounds.first_instant());
    let last = local_date(slo.time_zone, bounds.end);
    let days = usize::try_from((last - first).num_days() + 1).unwrap_or(0);
    let mut counts = vec![(0u64, 0u64); days];
    for index in in_window(events, Some(bounds)) {
        let event = events.events[index];
        let Some(time) = DateTime::from_timestamp_micros(event.time) else { continue };
        let day = (local_date(slo.time_zone, time) - first).num_days();
        if let Some(slot) = usize::try_from(day).ok().and_then(|day| counts.get_mut(day)) {
            slot.0 += 1;
            if event.is_bad() {
                slot.1 += 1;
            }
        }
    }

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

/// Returns the rules an SLO's `good when` counts.
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
    events: &EventLog,
    bounds: Option<&WindowBounds>,
    valid: u64,
) -> Vec<RuleBreakdown> {
    let mut failed = vec![0u64; set.rules.len()];
    let mut errored = vec![0u64; set.rules.len()];
    for index in in_window(events, bounds) {
        for &(rule, error) in events.rule_sets.get(events.events[index].rules) {
            if error {
                errored[rule as usize] += 1;
            } else {
                failed[rule as usize] += 1;
            }
        }
    }
    let mut rows: Vec<RuleBreakdown> = counted_rules(set, &slo.good)
        .into_iter()
        .map(|index| {
            let rule = &set.rules[index];
            let bad_runs = failed[index] + errored[index];
            RuleBreakdown {
                rule: rule.name.clone(),
                title: rule.title.clone(),
                severity: rule.severity,
                segment: rule.segment.clone(),
                bad_runs,
                failed: failed[index],
                errored: errored[index],
                share_of_valid: ratio(bad_runs, valid),
            }
        })
        .collect();
    rows.sort_by_key(|row| std::cmp::Reverse(row.bad_runs));
    rows
}

/// Bad runs by first failing segment: every declared segment in run order (so a
/// segment with no failure shows 0), then runs with no segment when there are any.
fn by_segment(set: &PolicySet, events: &EventLog, bounds: Option<&WindowBounds>) -> Vec<SegmentBreakdown> {
    let mut counts = vec![0u64; set.segments.len() + 1];
    for index in in_window(events, bounds) {
        let event = events.events[index];
        if event.is_bad() {
            let slot = if event.segment == NO_SEGMENT { set.segments.len() } else { usize::from(event.segment) };
            counts[slot] += 1;
        }
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

/// Counts each dimension's values, worst first: most bad runs, then lowest SLI, then by value.
fn by_dimension(slo: &CompiledSlo, events: &EventLog, bounds: Option<&WindowBounds>) -> Vec<DimensionBreakdown> {
    (0..events.dimension_count)
        .map(|dimension| {
            let interner = &events.dimension_values[dimension];
            let mut counts = vec![(0u64, 0u64); interner.len()];
            for index in in_window(events, bounds) {
                let slot = &mut counts[events.dimension(index, dimension) as usize];
                slot.0 += 1;
                if events.events[index].is_bad() {
                    slot.1 += 1;
                }
            }
            let mut values: Vec<DimensionValue> = counts
                .iter()
                .enumerate()
                .filter(|(_, (valid, _))| *valid > 0)
                .map(|(id, &(valid, bad))| DimensionValue {
                    value: interner.get(id as u32).clone(),
                    valid,
                    good: valid - bad,
                    bad,
                    sli: sli(valid - bad, valid),
                })
                .collect();
            values.sort_by(|a, b| {
                b.bad.cmp(&a.bad).then_with(|| a.sli.value().cmp(&b.sli.value())).then_with(|| a.value.cmp(&b.value))
            });
            DimensionBreakdown { dimension: slo.by[dimension].0.clone(), values }
        })
        .collect()
}
