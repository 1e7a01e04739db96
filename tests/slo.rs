//! SLO math, windows and report sections, checked through the library on
//! `tests/data/slo/orders.slo` with runs built in each test.

use std::str::FromStr;
use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use rust_decimal::Decimal;
use semslo::compile::{PolicySet, SloWindow, compile_sources};
use semslo::diagnostic::SourceFile;
use semslo::input::Location;
use semslo::slo::math::{self, Confusion};
use semslo::slo::window::{WindowBounds, calendar_period, local_date};
use semslo::slo::{AtSource, Measure, ReportBuilder, ReportOptions, SloReport, SloState, SloSummary};
use semslo::syntax::ast::CalendarUnit;
use serde_json::{Value as Json, json};

const POLICY: &str = "tests/data/slo/orders.slo";

fn dec(text: &str) -> Decimal {
    Decimal::from_str(text).unwrap()
}

fn time(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
}

fn load() -> PolicySet {
    let text = std::fs::read_to_string(POLICY).unwrap();
    let (set, diagnostics) = compile_sources(&[SourceFile::new(POLICY, POLICY, &text)]);
    assert!(!diagnostics.has_errors(), "{diagnostics:?}");
    set.unwrap()
}

/// Builds an order run created at `at`, with two steps and no checkpoint.
fn order(id: &str, at: &str, vendor: &str, price: i64) -> Json {
    json!({
        "run_id": id,
        "workflow": "shop",
        "steps": [{"name": "pick", "status": "ok"}, {"name": "pay", "status": "ok"}],
        "outcome": {"type": "order", "vendor": vendor, "price": price, "created_at": at},
        "checkpoints": []
    })
}

fn build(set: &PolicySet, runs: &[Json], at: Option<&str>) -> SloReport {
    let mut builder = ReportBuilder::new(set, ReportOptions { at: at.map(time) });
    for (line, run) in runs.iter().enumerate() {
        let verdicts = semslo::eval::evaluate(set, run);
        builder.add_run(run, &Location::new(Arc::from("test"), line + 1), &verdicts);
    }
    builder.finish()
}

fn slo<'r>(report: &'r SloReport, name: &str) -> &'r SloSummary {
    report.slos.iter().find(|slo| slo.name == name).unwrap()
}

// ---------------------------------------------------------------- reference values

#[test]
fn budget_over_30_days_is_43_2_minutes() {
    let seconds = math::budget_seconds(dec("0.999"), TimeDelta::days(30));
    assert_eq!(seconds / Decimal::from(60), dec("43.2"));
}

#[test]
fn budget_over_28_days_is_40_32_minutes() {
    let seconds = math::budget_seconds(dec("0.999"), TimeDelta::days(28));
    assert_eq!(seconds / Decimal::from(60), dec("40.32"));
}

#[test]
fn default_factors_for_28_days() {
    let set = load();
    let four_weeks = set.slos.iter().find(|slo| slo.name == "four_weeks").unwrap();
    assert_eq!(four_weeks.window, SloWindow::Rolling(TimeDelta::days(28)));
    assert!(!four_weeks.alerts_declared);
    let factors: Vec<Decimal> = four_weeks.alerts.iter().map(|alert| alert.factor).collect();
    assert_eq!(factors, vec![dec("13.44"), dec("5.6"), dec("2.8"), dec("0.9333")]);
}

#[test]
fn default_factors_for_30_days() {
    let set = load();
    let thirty = set.slos.iter().find(|slo| slo.name == "thirty_days").unwrap();
    let alerts: Vec<(&str, Decimal, TimeDelta, TimeDelta)> =
        thirty.alerts.iter().map(|a| (a.name.as_str(), a.factor, a.long_window, a.short_window)).collect();
    assert_eq!(
        alerts,
        vec![
            ("page", dec("14.4"), TimeDelta::hours(1), TimeDelta::minutes(5)),
            ("page", dec("6"), TimeDelta::hours(6), TimeDelta::minutes(30)),
            ("ticket", dec("3"), TimeDelta::days(1), TimeDelta::hours(2)),
            ("ticket", dec("1"), TimeDelta::days(3), TimeDelta::hours(6)),
        ]
    );
}

#[test]
fn report_says_how_default_alerts_were_scaled() {
    let set = load();
    let report = build(&set, &[order("r1", "2025-06-01T12:00:00Z", "acme", 10)], None);
    let four_weeks = slo(&report, "four_weeks");
    assert_eq!(four_weeks.alerts.source, "default");
    let scaling = four_weeks.alerts.scaling.as_ref().unwrap();
    assert_eq!(scaling.reference_window, "30d");
    assert_eq!(scaling.slo_window, "28d");
    assert_eq!(scaling.ratio.round_dp(4), dec("0.9333"));
    assert_eq!(slo(&report, "orders_daily").alerts.source, "declared");
    assert!(slo(&report, "orders_daily").alerts.scaling.is_none());
}

#[test]
fn burn_rate_one_half_leaves_half_budget() {
    let objective = dec("0.99");
    assert_eq!(math::burn_rate(50, 10_000, objective), Measure::Value(dec("0.5")));
    let consumed = math::budget_consumed(50, 10_000, objective);
    assert_eq!(consumed, Measure::Value(dec("0.5")));
    assert_eq!(math::budget_remaining(consumed), Measure::Value(dec("0.5")));
    assert_eq!(math::allowed_bad_runs(10_000, objective), Measure::Value(dec("100")));
}

#[test]
fn error_budget_is_one_minus_objective() {
    assert_eq!(math::error_budget(dec("0.995")), dec("0.005"));
    assert_eq!(math::error_budget(Decimal::ONE), Decimal::ZERO);
}

#[test]
fn sli_sums_events_instead_of_averaging_days() {
    let set = load();
    let mut runs = vec![order("one", "2025-06-01T12:00:00Z", "acme", 10)];
    for i in 0..99 {
        let price = if i < 9 { 500 } else { 10 };
        runs.push(order(&format!("r{i}"), "2025-06-02T12:00:00Z", "acme", price));
    }
    let report = build(&set, &runs, None);
    let four_weeks = slo(&report, "four_weeks");
    // 91 good of 100; the mean of the two daily ratios would be (1 + 90/99) / 2.
    assert_eq!(four_weeks.sli, Measure::Value(dec("0.91")));
    assert_eq!(four_weeks.daily.len(), 29);
}

#[test]
fn kappa_matches_a_known_table() {
    let table = Confusion { bad_incorrect: 20, bad_correct: 5, good_incorrect: 10, good_correct: 15 };
    // Observed agreement 0.7, chance agreement 0.5.
    assert_eq!(table.agreement(), Measure::Value(dec("0.7")));
    assert_eq!(table.kappa(), Measure::Value(dec("0.4")));
    assert_eq!(table.precision(), Measure::Value(dec("0.8")));
    assert_eq!(table.recall(), Measure::Value(Decimal::from(20) / Decimal::from(30)));
}

#[test]
fn kappa_is_undefined_when_chance_explains_all_agreement() {
    let table = Confusion { good_correct: 12, ..Confusion::default() };
    assert_eq!(table.kappa(), Measure::Undefined);
    assert_eq!(table.precision(), Measure::Undefined);
    assert_eq!(Confusion::default().kappa(), Measure::NoData);
}

// ---------------------------------------------------------------- windows

#[test]
fn rolling_window_excludes_its_start_and_includes_at() {
    let at = time("2025-06-30T12:00:00Z");
    let window = WindowBounds::rolling(TimeDelta::days(28), at);
    assert!(!window.contains(at - TimeDelta::days(28)));
    assert!(window.contains(at - TimeDelta::days(28) + TimeDelta::microseconds(1)));
    assert!(window.contains(at));
    assert!(!window.contains(at + TimeDelta::microseconds(1)));
}

#[test]
fn run_on_a_window_boundary_is_counted_once() {
    let set = load();
    let runs =
        [order("on-start", "2025-06-01T12:00:00Z", "blocked", 10), order("at", "2025-06-02T12:00:00Z", "acme", 10)];
    let report = build(&set, &runs, None);
    let daily = slo(&report, "orders_daily");
    assert_eq!(daily.counts.valid, 1);
    assert_eq!(daily.counts.bad, 0);
    assert_eq!(daily.status, SloState::Met);

    // A report one day earlier has the boundary run at its `at`, inside.
    let earlier = build(&set, &runs, Some("2025-06-01T12:00:00Z"));
    assert_eq!(slo(&earlier, "orders_daily").counts.valid, 1);
    assert_eq!(slo(&earlier, "orders_daily").counts.bad, 1);
}

#[test]
fn at_defaults_to_the_latest_event_time() {
    let set = load();
    let runs = [order("b", "2025-06-02T08:00:00Z", "acme", 10), order("a", "2025-06-01T08:00:00Z", "acme", 10)];
    let report = build(&set, &runs, None);
    assert_eq!(report.at, Some(time("2025-06-02T08:00:00Z")));
    assert_eq!(report.at_source, AtSource::LatestEvent);
    assert_eq!(report.input.first_event_time, Some(time("2025-06-01T08:00:00Z")));

    let moved = build(&set, &runs, Some("2025-06-01T09:00:00Z"));
    assert_eq!(moved.at_source, AtSource::Argument);
    assert_eq!(slo(&moved, "orders_daily").counts.valid, 1);
}

#[test]
fn spring_forward_day_lasts_23_hours() {
    let zone = chrono_tz::America::New_York;
    let (start, end) = calendar_period(CalendarUnit::Day, zone, time("2025-03-09T12:00:00Z"));
    assert_eq!(start, time("2025-03-09T05:00:00Z"));
    assert_eq!(end, time("2025-03-10T04:00:00Z"));
    assert_eq!(end - start, TimeDelta::hours(23));
}

#[test]
fn run_before_local_midnight_is_previous_day() {
    let zone = chrono_tz::America::New_York;
    let run = time("2025-03-09T04:30:00Z");
    assert_eq!(local_date(zone, run).to_string(), "2025-03-08");
    let window = WindowBounds::of(SloWindow::Calendar(CalendarUnit::Day), zone, time("2025-03-09T12:00:00Z"));
    assert!(!window.contains(run));
    assert!(window.contains(time("2025-03-09T05:00:00Z")));
}

#[test]
fn dst_months_have_true_length() {
    let zone = chrono_tz::America::New_York;
    let (start, end) = calendar_period(CalendarUnit::Month, zone, time("2025-03-15T12:00:00Z"));
    assert_eq!(end - start, TimeDelta::days(31) - TimeDelta::hours(1));
    let (start, end) = calendar_period(CalendarUnit::Month, zone, time("2025-11-15T12:00:00Z"));
    assert_eq!(end - start, TimeDelta::days(30) + TimeDelta::hours(1));
}

#[test]
fn calendar_week_starts_on_monday() {
    // 2025-06-04 is a Wednesday.
    let (start, end) = calendar_period(CalendarUnit::Week, chrono_tz::UTC, time("2025-06-04T10:00:00Z"));
    assert_eq!(start, time("2025-06-02T00:00:00Z"));
    assert_eq!(end, time("2025-06-09T00:00:00Z"));
}

#[test]
fn calendar_quarter_covers_three_months() {
    let (start, end) = calendar_period(CalendarUnit::Quarter, chrono_tz::UTC, time("2025-11-20T10:00:00Z"));
    assert_eq!(start, time("2025-10-01T00:00:00Z"));
    assert_eq!(end, time("2026-01-01T00:00:00Z"));
}

#[test]
fn calendar_month_places_runs_by_local_date() {
    let set = load();
    let runs = [
        order("feb-local", "2025-03-01T04:30:00Z", "blocked", 10),
        order("march-local", "2025-03-01T05:30:00Z", "acme", 10),
        order("last", "2025-04-01T03:00:00Z", "acme", 10),
    ];
    let report = build(&set, &runs, None);
    let monthly = slo(&report, "monthly_new_york");
    assert_eq!(monthly.counts.valid, 2);
    assert_eq!(monthly.counts.bad, 0);
    assert_eq!(monthly.window.start, Some(time("2025-03-01T05:00:00Z")));
    assert_eq!(monthly.window.period_end, Some(time("2025-04-01T04:00:00Z")));
    assert_eq!(monthly.window.length_seconds, Decimal::from((31 * 24 - 1) * 3600));
    assert_eq!(monthly.daily.first().unwrap().date.to_string(), "2025-03-01");
    assert_eq!(monthly.daily.last().unwrap().date.to_string(), "2025-03-31");
}

// ---------------------------------------------------------------- explicit states

#[test]
fn window_without_valid_runs_reports_no_data() {
    let set = load();
    let report = build(&set, &[order("old", "2025-06-01T12:00:00Z", "acme", 10)], Some("2025-07-01T00:00:00Z"));
    let daily = slo(&report, "orders_daily");
    assert_eq!(daily.status, SloState::NoData);
    assert_eq!(daily.sli, Measure::NoData);
    assert_eq!(daily.budget.consumed, Measure::NoData);
    assert_eq!(daily.burn_rate, Measure::NoData);
    let json = serde_json::to_value(daily).unwrap();
    assert_eq!(json["status"], "no_data");
    assert_eq!(json["sli"], json!({"state": "no_data", "value": null}));
}

#[test]
fn fewer_runs_than_the_minimum_is_insufficient_data() {
    let set = load();
    let runs: Vec<Json> =
        (0..4).map(|i| order(&format!("r{i}"), &format!("2025-06-01T1{i}:00:00Z"), "blocked", 10)).collect();
    let report = build(&set, &runs, None);
    let guarded = slo(&report, "guarded");
    assert_eq!(guarded.status, SloState::InsufficientData);
    assert_eq!(guarded.sli, Measure::InsufficientData);
    assert_eq!(guarded.budget.consumed, Measure::InsufficientData);
    assert_eq!(guarded.counts.valid, 4);
    assert_eq!(serde_json::to_value(guarded).unwrap()["sli"]["state"], "insufficient_data");

    let mut more = runs.clone();
    more.push(order("r4", "2025-06-01T14:30:00Z", "acme", 10));
    let report = build(&set, &more, None);
    assert_eq!(slo(&report, "guarded").status, SloState::Missed);
}

#[test]
fn full_objective_makes_bad_run_unbounded() {
    let set = load();
    let runs = [order("good", "2025-06-01T10:00:00Z", "acme", 10), order("bad", "2025-06-01T11:00:00Z", "acme", 500)];
    let report = build(&set, &runs, None);
    let strict = slo(&report, "strict");
    assert_eq!(strict.status, SloState::Missed);
    assert_eq!(strict.burn_rate, Measure::Unbounded);
    assert_eq!(strict.budget.consumed, Measure::Unbounded);
    assert_eq!(strict.budget.remaining, Measure::Unbounded);
    assert_eq!(strict.budget.error_budget, Decimal::ZERO);
    let json = serde_json::to_value(strict).unwrap();
    assert_eq!(json["burn_rate"], json!({"state": "unbounded", "value": null}));
}

#[test]
fn full_objective_without_bad_runs_burns_nothing() {
    let set = load();
    let report = build(&set, &[order("good", "2025-06-01T10:00:00Z", "acme", 10)], None);
    let strict = slo(&report, "strict");
    assert_eq!(strict.status, SloState::Met);
    assert_eq!(strict.burn_rate, Measure::Value(Decimal::ZERO));
    assert_eq!(strict.budget.remaining, Measure::Value(Decimal::ONE));
}

#[test]
fn rule_error_counts_as_bad() {
    let set = load();
    let mut run = order("no-price", "2025-06-01T10:00:00Z", "acme", 10);
    run["outcome"].as_object_mut().unwrap().remove("price");
    let report = build(&set, &[run, order("fine", "2025-06-01T11:00:00Z", "acme", 10)], None);
    let daily = slo(&report, "orders_daily");
    assert_eq!(daily.counts.valid, 2);
    assert_eq!(daily.counts.bad, 1);
    assert_eq!(daily.counts.error, 1);
    assert_eq!(daily.counts.failed, 0);
    assert_eq!(daily.input_runs.bad_error, 1);
    assert_eq!(daily.status, SloState::Missed);
}

#[test]
fn run_without_event_time_counts_as_bad() {
    let set = load();
    let mut run = order("timeless", "2025-06-01T10:00:00Z", "acme", 10);
    run["outcome"].as_object_mut().unwrap().remove("created_at");
    let report = build(&set, &[run, order("fine", "2025-06-01T11:00:00Z", "acme", 10)], None);
    let daily = slo(&report, "orders_daily");
    assert_eq!(daily.counts.unplaced, 1);
    assert_eq!(daily.counts.valid, 2);
    assert_eq!(daily.counts.bad, 1);
    assert_eq!(daily.counts.good, 1);
    assert_eq!(daily.input_runs.unplaced, 1);
    assert_eq!(daily.input_runs.unplaced_reasons.len(), 1);
    assert!(
        daily.input_runs.unplaced_reasons[0].reason.contains("created_at"),
        "{:?}",
        daily.input_runs.unplaced_reasons
    );
    // The daily series needs a time, so only the placed run is in it.
    assert_eq!(daily.daily.iter().map(|day| day.valid).sum::<u64>(), 1);
}

#[test]
fn runs_that_are_not_valid_are_left_out() {
    let set = load();
    let mut quote = order("quote", "2025-06-01T10:00:00Z", "blocked", 10);
    quote["outcome"]["type"] = json!("quote");
    let mut untyped = order("untyped", "2025-06-01T10:30:00Z", "blocked", 10);
    untyped["outcome"].as_object_mut().unwrap().remove("type");
    let report = build(&set, &[quote, untyped, order("fine", "2025-06-01T11:00:00Z", "acme", 10)], None);
    let daily = slo(&report, "orders_daily");
    assert_eq!(daily.counts.valid, 1);
    assert_eq!(daily.input_runs.not_valid, 2);
    assert_eq!(daily.input_runs.not_valid_field_missing, 1);
    assert_eq!(daily.sli, Measure::Value(Decimal::ONE));
}

// ---------------------------------------------------------------- alerts

#[test]
fn alert_needs_both_windows_above_the_factor() {
    let factor = dec("14.4");
    let high = Measure::Value(dec("20"));
    let low = Measure::Value(dec("3"));
    assert!(math::alert_fires(high, high, factor));
    assert!(!math::alert_fires(high, low, factor));
    assert!(!math::alert_fires(low, high, factor));
    assert!(!math::alert_fires(Measure::Value(factor), high, factor));
    assert!(math::alert_fires(Measure::Unbounded, high, factor));
    assert!(!math::alert_fires(Measure::NoData, high, factor));
    assert!(!math::alert_fires(high, Measure::InsufficientData, factor));
}

#[test]
fn alert_fires_when_long_and_short_windows_burn() {
    let set = load();
    let runs = [order("fine", "2025-06-01T11:00:00Z", "acme", 10), order("bad", "2025-06-01T11:55:00Z", "blocked", 10)];
    let report = build(&set, &runs, Some("2025-06-01T12:00:00Z"));
    let alert = &slo(&report, "orders_daily").alerts.alerts[0];
    assert_eq!(alert.name, "fast");
    assert_eq!(alert.long.valid, 1);
    assert_eq!(alert.long.burn_rate, Measure::Value(dec("10")));
    assert_eq!(alert.short.burn_rate, Measure::Value(dec("10")));
    assert!(alert.fires);
}

#[test]
fn alert_quiet_when_short_window_calm() {
    let set = load();
    let runs = [order("bad", "2025-06-01T11:30:00Z", "blocked", 10), order("fine", "2025-06-01T11:58:00Z", "acme", 10)];
    let report = build(&set, &runs, Some("2025-06-01T12:00:00Z"));
    let alert = &slo(&report, "orders_daily").alerts.alerts[0];
    assert_eq!(alert.long.burn_rate, Measure::Value(dec("5")));
    assert_eq!(alert.short.burn_rate, Measure::Value(Decimal::ZERO));
    assert!(!alert.fires);
}

// ---------------------------------------------------------------- breakdowns

#[test]
fn breakdowns_are_worst_first() {
    let set = load();
    let runs = [
        order("r1", "2025-06-01T08:00:00Z", "blocked", 500),
        order("r2", "2025-06-01T09:00:00Z", "acme", 500),
        order("r3", "2025-06-01T10:00:00Z", "acme", 500),
        order("r4", "2025-06-01T11:00:00Z", "zenith", 10),
    ];
    let report = build(&set, &runs, None);
    let daily = slo(&report, "orders_daily");

    let rules: Vec<(&str, u64)> = daily.by_rule.iter().map(|row| (row.rule.as_str(), row.bad_runs)).collect();
    assert_eq!(rules, vec![("price_in_range", 3), ("vendor_allowed", 1)]);
    assert_eq!(daily.by_rule[0].share_of_valid, Measure::Value(dec("0.75")));

    // r1 fails in both segments and counts once, for sourcing, which comes first.
    let segments: Vec<(Option<&str>, u64)> =
        daily.by_segment.iter().map(|row| (row.segment.as_deref(), row.bad_runs)).collect();
    assert_eq!(segments, vec![(Some("pricing"), 2), (Some("sourcing"), 1)]);

    let vendors = &daily.by_dimension[0];
    assert_eq!(vendors.dimension, "outcome.vendor");
    let values: Vec<(&str, u64, u64)> = vendors.values.iter().map(|v| (v.value.as_str(), v.valid, v.bad)).collect();
    assert_eq!(values, vec![("acme", 2, 2), ("blocked", 1, 1), ("zenith", 1, 0)]);
}

#[test]
fn daily_series_burns_down_per_day() {
    let set = load();
    let runs = [
        order("d1", "2025-06-01T08:00:00Z", "acme", 10),
        order("d3-bad", "2025-06-03T08:00:00Z", "blocked", 10),
        order("d4", "2025-06-04T08:00:00Z", "acme", 10),
    ];
    let report = build(&set, &runs, None);
    let four_weeks = slo(&report, "four_weeks");
    let last = four_weeks.daily.last().unwrap();
    assert_eq!(last.date.to_string(), "2025-06-04");
    let june_2 = four_weeks.daily.iter().find(|day| day.date.to_string() == "2025-06-02").unwrap();
    assert_eq!(june_2.valid, 0);
    assert_eq!(june_2.sli, Measure::NoData);
    assert_eq!(june_2.budget_remaining, Measure::Value(Decimal::ONE));
    // The burn-down ends at the window's remaining budget.
    assert_eq!(last.budget_remaining, four_weeks.budget.remaining);
}

// ---------------------------------------------------------------- good when

#[test]
fn no_critical_rule_fails_ignores_major_failures() {
    let set = load();
    let report = build(&set, &[order("pricey", "2025-06-01T08:00:00Z", "acme", 500)], None);
    assert_eq!(slo(&report, "critical_only").counts.good, 1);
    assert_eq!(slo(&report, "orders_daily").counts.bad, 1);
    let rules: Vec<&str> = slo(&report, "critical_only").by_rule.iter().map(|row| row.rule.as_str()).collect();
    assert_eq!(rules, vec!["vendor_allowed"]);
}

#[test]
fn named_rules_are_the_only_ones_counted() {
    let set = load();
    let report = build(&set, &[order("blocked", "2025-06-01T08:00:00Z", "blocked", 10)], None);
    assert_eq!(slo(&report, "price_only").counts.good, 1);
    assert_eq!(slo(&report, "price_only").good_when, "rules price_in_range pass");
    assert_eq!(slo(&report, "critical_only").good_when, "no critical rule fails");
}

// ---------------------------------------------------------------- calibration

#[test]
fn predicted_rate_is_product_of_steps() {
    let set = load();
    let mut retried = order("retried", "2025-06-01T08:00:00Z", "blocked", 10);
    retried["steps"] =
        json!([{"name": "pick", "status": "ok"}, {"name": "pay", "status": "error"}, {"name": "pay", "status": "ok"}]);
    let runs =
        [retried, order("r2", "2025-06-01T09:00:00Z", "acme", 10), order("r3", "2025-06-01T10:00:00Z", "acme", 10)];
    let report = build(&set, &runs, None);
    let contrast = &slo(&report, "orders_daily").contrast[0];
    assert_eq!(contrast.workflow, "shop");
    assert_eq!((contrast.steps, contrast.steps_ok), (7, 6));
    let names: Vec<&str> = contrast.step_names.iter().map(|step| step.name.as_str()).collect();
    assert_eq!(names, vec!["pick", "pay"]);
    // pick 3/3, pay 3/4: predicted 0.75; measured 2 good of 3.
    assert_eq!(contrast.predicted_end_to_end, Measure::Value(dec("0.75")));
    assert_eq!(contrast.measured_end_to_end, Measure::Value(Decimal::from(2) / Decimal::from(3)));
    assert_eq!(contrast.first_failing_segment[0].segment.as_deref(), Some("sourcing"));
}

#[test]
fn checkpoints_give_catches_escapes_and_unexplained_rejections() {
    let set = load();
    let mut caught = order("caught", "2025-06-01T08:00:00Z", "blocked", 10);
    caught["checkpoints"] = json!([{"name": "review", "decision": "rejected"}]);
    let mut escaped = order("escaped", "2025-06-01T09:00:00Z", "blocked", 10);
    escaped["checkpoints"] =
        json!([{"name": "review", "decision": "approved"}, {"name": "budget", "decision": "approved"}]);
    let mut unexplained = order("unexplained", "2025-06-01T10:00:00Z", "acme", 10);
    unexplained["checkpoints"] = json!([{"name": "review", "decision": "modified"}]);
    let unreviewed = order("unreviewed", "2025-06-01T11:00:00Z", "blocked", 10);
    let report = build(&set, &[caught, escaped, unexplained, unreviewed], None);

    let checkpoints = slo(&report, "orders_daily").checkpoints.as_ref().unwrap();
    assert_eq!(checkpoints.reviews, 4);
    assert_eq!(checkpoints.runs_reviewed, 3);
    assert_eq!(checkpoints.rejections, 2);
    assert_eq!(checkpoints.bad_runs, 3);
    assert_eq!(checkpoints.caught, 1);
    assert_eq!(checkpoints.escapes, 1);
    assert_eq!(checkpoints.bad_runs_unreviewed, 1);
    assert_eq!(checkpoints.catch_rate, Measure::Value(dec("0.5")));
    assert_eq!(checkpoints.unexplained_rejections, 1);
    assert_eq!(checkpoints.unexplained_run_ids, vec!["unexplained".to_string()]);
}

#[test]
fn runs_without_checkpoints_leave_the_section_out() {
    let set = load();
    let report = build(&set, &[order("r1", "2025-06-01T08:00:00Z", "acme", 10)], None);
    assert!(slo(&report, "orders_daily").checkpoints.is_none());
    assert!(slo(&report, "orders_daily").labels.is_none());
}

#[test]
fn labels_give_a_confusion_matrix_and_the_disagreements() {
    let set = load();
    let labelled = |id: &str, vendor: &str, verdict: &str| {
        let mut run = order(id, "2025-06-01T08:00:00Z", vendor, 10);
        run["labels"] = json!({"expert_verdict": verdict, "note": format!("note on {id}")});
        run
    };
    let runs = [
        labelled("tp", "blocked", "incorrect"),
        labelled("fp", "blocked", "correct"),
        labelled("fn", "acme", "incorrect"),
        labelled("tn", "acme", "correct"),
        labelled("tn2", "acme", "correct"),
        order("unlabelled", "2025-06-01T09:00:00Z", "blocked", 10),
    ];
    let report = build(&set, &runs, None);
    let labels = slo(&report, "orders_daily").labels.as_ref().unwrap();
    assert_eq!(labels.labelled_runs, 5);
    assert_eq!(labels.confusion, Confusion { bad_incorrect: 1, bad_correct: 1, good_incorrect: 1, good_correct: 2 });
    assert_eq!(labels.precision, Measure::Value(dec("0.5")));
    assert_eq!(labels.recall, Measure::Value(dec("0.5")));
    let disagreeing: Vec<(&str, &str, &str)> =
        labels.disagreements.iter().map(|d| (d.run_id.as_str(), d.verdict, d.label)).collect();
    assert_eq!(disagreeing, vec![("fp", "bad", "correct"), ("fn", "good", "incorrect")]);
    assert_eq!(labels.disagreements[0].rules, vec!["vendor_allowed".to_string()]);
    assert_eq!(labels.disagreements[0].note.as_deref(), Some("note on fp"));
}

#[test]
fn cost_per_correct_outcome_counts_runs_and_reviews() {
    let set = load();
    let mut reviewed = order("reviewed", "2025-06-01T08:00:00Z", "acme", 10);
    reviewed["checkpoints"] = json!([{"name": "review", "decision": "approved"}]);
    let runs = [
        reviewed,
        order("good", "2025-06-01T09:00:00Z", "acme", 10),
        order("bad", "2025-06-01T10:00:00Z", "blocked", 10),
    ];
    let report = build(&set, &runs, None);
    let costs = slo(&report, "orders_daily").costs.as_ref().unwrap();
    // 3 runs × 0.50 + 1 review × 10 = 11.50 for 2 correct outcomes.
    assert_eq!(costs.total, dec("11.5"));
    assert_eq!(costs.per_correct_outcome, Measure::Value(dec("5.75")));
    assert_eq!(costs.manual_per_correct_outcome, Some(dec("20")));
    assert_eq!(costs.ratio_to_manual, Measure::Value(dec("0.2875")));
    assert_eq!(costs.currency.as_deref(), Some("EUR"));
}

#[test]
fn cost_undefined_without_good_runs() {
    let set = load();
    let report = build(&set, &[order("bad", "2025-06-01T10:00:00Z", "blocked", 10)], None);
    let costs = slo(&report, "orders_daily").costs.as_ref().unwrap();
    assert_eq!(costs.per_correct_outcome, Measure::Undefined);
    assert_eq!(costs.ratio_to_manual, Measure::Undefined);
    let json = serde_json::to_value(costs).unwrap();
    assert_eq!(json["per_correct_outcome"], json!({"state": "undefined", "value": null}));
}

#[test]
fn report_without_event_times_has_no_window() {
    let set = load();
    let mut run = order("timeless", "2025-06-01T10:00:00Z", "acme", 10);
    run["outcome"].as_object_mut().unwrap().remove("created_at");
    let report = build(&set, &[run], None);
    assert_eq!(report.at, None);
    assert_eq!(report.at_source, AtSource::NoEvents);
    let daily = slo(&report, "orders_daily");
    assert!(daily.window.start.is_none());
    // The run cannot be shown to lie outside the window, so it counts as bad.
    assert_eq!(daily.counts.unplaced, 1);
    assert_eq!(daily.status, SloState::Missed);
    assert!(daily.daily.is_empty());
}
