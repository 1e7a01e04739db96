//! The example policies on real runs, through the `semslo` binary with `NO_COLOR=1` and
//! `--format json`. The airline and retail policies check samples of published τ-bench and
//! τ²-bench logs (`tests/data/tau-bench/`, `tests/data/tau2-bench/`). The procurement policy
//! checks its generated example runs, whose verdicts `examples/procurement/expected.json` lists.
//!
//! Each test asserts the exact verdict counts of every rule, the runs each rule fails on,
//! and the exit status. A change to a policy, an adapter or the evaluator that moves a
//! verdict shows up here by rule and run.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

/// Exit statuses of `semslo check`, as documented in the README.
const EXIT_SUCCESS: i32 = 0;
const EXIT_VIOLATIONS: i32 = 1;

/// Verdict counts of one rule. `skip` adds both kinds of skip (condition false, field missing).
#[derive(Debug, PartialEq, Eq)]
struct Counts {
    pass: u64,
    fail: u64,
    skip: u64,
    error: u64,
}

const fn counts(pass: u64, fail: u64, skip: u64, error: u64) -> Counts {
    Counts { pass, fail, skip, error }
}

/// Runs `semslo check` from the crate root, so that paths are relative to it.
fn check(policy: &str, records: &str, input_format: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_semslo"))
        .args(["check", "--policy", policy, "--records", records, "--input-format", input_format, "--format", "json"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .output()
        .expect("cannot run the semslo binary")
}

/// Parses the JSON report on standard output, or panics showing both streams.
fn report(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|error| {
        panic!(
            "standard output is not a JSON report: {error}\n--- stdout\n{}\n--- stderr\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

fn assert_status(output: &Output, expected: i32) {
    assert_eq!(output.status.code(), Some(expected), "stderr:\n{}", String::from_utf8_lossy(&output.stderr));
}

fn number(value: &Value, field: &str) -> u64 {
    value[field].as_u64().unwrap_or_else(|| panic!("`{field}` is not a count in {value}"))
}

/// Collects the verdict counts of every rule of the report, by rule name.
fn rule_counts(report: &Value) -> BTreeMap<String, Counts> {
    let rules = report["rules"].as_array().expect("the report has no `rules` array");
    rules
        .iter()
        .map(|rule| {
            let skip = number(rule, "skip_condition_false") + number(rule, "skip_field_missing");
            let verdicts = counts(number(rule, "pass"), number(rule, "fail"), skip, number(rule, "error"));
            (rule["name"].as_str().unwrap().to_owned(), verdicts)
        })
        .collect()
}

/// Lists the runs on which `rule` got `verdict`, in input order.
fn runs_with(report: &Value, rule: &str, verdict: &str) -> Vec<String> {
    let violations = report["violations"].as_array().expect("the report has no `violations` array");
    violations
        .iter()
        .filter(|violation| violation["rule"] == rule && violation["verdict"] == verdict)
        .map(|violation| violation["run_id"].as_str().unwrap().to_owned())
        .collect()
}

/// Asserts the counts of each rule, one assert per rule, and that the report has no other rule.
fn assert_counts(report: &Value, expected: &[(&str, Counts)]) {
    let actual = rule_counts(report);
    for (rule, counts) in expected {
        assert_eq!(actual.get(*rule), Some(counts), "counts of rule `{rule}`");
    }
    let mut expected_names: Vec<&str> = expected.iter().map(|(rule, _)| *rule).collect();
    expected_names.sort_unstable();
    let actual_names: Vec<&str> = actual.keys().map(String::as_str).collect();
    assert_eq!(actual_names, expected_names, "rules of the policy");
}

/// Asserts the runs each rule fails on. A rule missing from `expected` must fail on no run.
fn assert_failed_runs(report: &Value, expected: &[(&str, &[&str])]) {
    for name in rule_counts(report).keys() {
        let runs: &[&str] = expected.iter().find(|(rule, _)| rule == name).map_or(&[], |(_, runs)| runs);
        assert_eq!(runs_with(report, name, "fail"), runs, "runs failing rule `{name}`");
    }
}

fn assert_records_checked(report: &Value, records: u64) {
    assert_eq!(report["input"]["records_read"], records);
    assert_eq!(report["input"]["records_checked"], records);
    assert_eq!(report["input"]["records_rejected"], 0);
}

#[test]
fn airline_sample_counts_match() {
    let output = check("policies/airline", "tests/data/tau-bench/airline-sample.json", "tau-bench");
    let report = report(&output);

    assert_status(&output, EXIT_VIOLATIONS);
    assert_records_checked(&report, 12);
    assert_counts(
        &report,
        &[
            ("write_confirmed", counts(7, 2, 3, 0)),
            ("write_attempt_confirmed", counts(3, 1, 8, 0)),
            ("cancellation_allowed_as_booked", counts(4, 4, 4, 0)),
            ("no_cancellation_after_departure", counts(4, 4, 4, 0)),
            ("cancellation_attempted", counts(0, 0, 12, 0)),
            ("basic_economy_flights_kept", counts(7, 0, 5, 0)),
            ("basic_economy_change_attempted", counts(2, 1, 9, 0)),
            ("booking_payment_limits", counts(1, 0, 11, 0)),
            ("flight_change_paid_by_card", counts(7, 0, 5, 0)),
            ("checked_bag_fees", counts(0, 1, 11, 0)),
            ("bags_only_added", counts(0, 0, 12, 0)),
            ("passenger_count_kept", counts(1, 0, 11, 0)),
            ("compensation_only_when_eligible", counts(0, 0, 12, 0)),
        ],
    );
    assert_failed_runs(
        &report,
        &[
            ("write_confirmed", &["tau-bench/airline/task-27/trial-0", "tau-bench/airline/task-34/trial-2"]),
            ("write_attempt_confirmed", &["tau-bench/airline/task-13/trial-2"]),
            (
                "cancellation_allowed_as_booked",
                &[
                    "tau-bench/airline/task-34/trial-0",
                    "tau-bench/airline/task-34/trial-1",
                    "tau-bench/airline/task-34/trial-2",
                    "tau-bench/airline/task-34/trial-3",
                ],
            ),
            (
                "no_cancellation_after_departure",
                &[
                    "tau-bench/airline/task-26/trial-0",
                    "tau-bench/airline/task-27/trial-0",
                    "tau-bench/airline/task-26/trial-2",
                    "tau-bench/airline/task-27/trial-2",
                ],
            ),
            ("basic_economy_change_attempted", &["tau-bench/airline/task-13/trial-2"]),
            ("checked_bag_fees", &["tau-bench/airline/task-0/trial-0"]),
        ],
    );
}

#[test]
fn rejected_writes_only_warn() {
    // Task 13, trial 2 tried four forbidden flight changes, and the tool rejected all of them.
    let output = check("policies/airline", "tests/data/tau-bench/airline-sample.json", "tau-bench");
    let report = report(&output);
    let run = "tau-bench/airline/task-13/trial-2";

    let violations: Vec<&Value> =
        report["violations"].as_array().unwrap().iter().filter(|violation| violation["run_id"] == run).collect();
    let rules: Vec<&str> = violations.iter().map(|violation| violation["rule"].as_str().unwrap()).collect();
    assert_eq!(rules, ["write_attempt_confirmed", "basic_economy_change_attempted"]);
    for violation in violations {
        assert_eq!(violation["mode"], "warn", "mode of `{}`", violation["rule"]);
    }
}

#[test]
fn tau2_airline_sample_counts_match() {
    let output = check("policies/airline", "tests/data/tau2-bench/airline-sample.json", "tau2-bench");
    let report = report(&output);

    assert_status(&output, EXIT_VIOLATIONS);
    assert_records_checked(&report, 6);
    assert_counts(
        &report,
        &[
            ("write_confirmed", counts(4, 0, 2, 0)),
            ("write_attempt_confirmed", counts(1, 0, 5, 0)),
            ("cancellation_allowed_as_booked", counts(0, 1, 5, 0)),
            ("no_cancellation_after_departure", counts(0, 1, 5, 0)),
            ("cancellation_attempted", counts(0, 0, 6, 0)),
            ("basic_economy_flights_kept", counts(3, 0, 3, 0)),
            ("basic_economy_change_attempted", counts(0, 0, 6, 0)),
            ("booking_payment_limits", counts(1, 0, 5, 0)),
            ("flight_change_paid_by_card", counts(3, 0, 3, 0)),
            ("checked_bag_fees", counts(1, 0, 5, 0)),
            ("bags_only_added", counts(0, 0, 6, 0)),
            ("passenger_count_kept", counts(1, 0, 5, 0)),
            ("compensation_only_when_eligible", counts(1, 0, 5, 0)),
        ],
    );
    assert_failed_runs(
        &report,
        &[
            ("cancellation_allowed_as_booked", &["tau2-bench/airline/task-37/trial-0"]),
            ("no_cancellation_after_departure", &["tau2-bench/airline/task-37/trial-0"]),
        ],
    );
}

#[test]
fn tau2_retail_sample_counts_match() {
    let output = check("policies/retail", "tests/data/tau2-bench/retail-sample.json", "tau2-bench");
    let report = report(&output);

    // Only a warn rule fails, so the check passes.
    assert_status(&output, EXIT_SUCCESS);
    assert_records_checked(&report, 6);
    assert_counts(
        &report,
        &[
            ("authenticated_first", counts(6, 0, 0, 0)),
            ("write_confirmed", counts(6, 0, 0, 0)),
            ("write_attempt_confirmed", counts(0, 2, 4, 0)),
            ("refund_to_original_or_gift_card", counts(2, 0, 4, 0)),
            ("payment_method_on_file", counts(4, 0, 2, 0)),
            ("cancel_pending_with_reason", counts(1, 0, 5, 0)),
            ("items_changed_once", counts(3, 0, 3, 0)),
            ("order_status_allows_change", counts(6, 0, 0, 0)),
        ],
    );
    assert_failed_runs(
        &report,
        &[("write_attempt_confirmed", &["tau2-bench/retail/task-27/trial-0", "tau2-bench/retail/task-62/trial-0"])],
    );
}

/// Reads the run ids listed under `field` for one rule of `expected.json`.
fn expected_run_ids(rule: &Value, field: &str) -> Vec<String> {
    let ids = rule[field].as_array().unwrap_or_else(|| panic!("`{field}` is not a list in {rule}"));
    ids.iter().map(|id| id.as_str().unwrap().to_owned()).collect()
}

#[test]
fn procurement_example_matches_expected() {
    let expected_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/procurement/expected.json");
    let expected: Value = serde_json::from_str(&std::fs::read_to_string(&expected_path).unwrap()).unwrap();
    let output = check("policies/procurement", "examples/procurement/runs.jsonl", "jsonl");
    let report = report(&output);

    assert_status(&output, EXIT_VIOLATIONS);
    assert_records_checked(&report, number(&expected, "runs"));
    assert_eq!(report["violations_not_listed"], 0);

    let expected_rules = expected["rules"].as_object().expect("`rules` in expected.json is not an object");
    let expected_counts: Vec<(&str, Counts)> = expected_rules
        .iter()
        .map(|(name, rule)| {
            let verdicts =
                counts(number(rule, "pass"), number(rule, "fail"), number(rule, "skip"), number(rule, "error"));
            (name.as_str(), verdicts)
        })
        .collect();
    assert_counts(&report, &expected_counts);

    for (name, rule) in expected_rules {
        assert_eq!(runs_with(&report, name, "fail"), expected_run_ids(rule, "fail_run_ids"), "runs failing `{name}`");
        assert_eq!(
            runs_with(&report, name, "error"),
            expected_run_ids(rule, "error_run_ids"),
            "runs erroring `{name}`"
        );
    }
}
