//! The semantics decisions of docs/language.md, one test each: small policies
//! compiled in memory (or beside real reference-data files in a temporary
//! directory) and evaluated on records parsed from JSON text, so numbers keep
//! every digit.
//!
//! Most tests are case tables: a rule body, a record, and the verdict it must get.

mod common;

use std::time::{Duration, Instant};

use semslo::batch;
use semslo::compile::projection::Projection;
use semslo::eval::{self, EVALUATION_BUDGET, ExpectOutcome, RuleVerdict, SkipReason, Verdict};
use serde_json::Value as Json;

use common::{compile_ok, json};

/// One rule body, the record it is evaluated on, and the expected verdict.
///
/// A body that does not start with a rule property is one `expect`. The verdict
/// is `pass`, `fail`, `skip: condition false`, `skip: field missing`, or
/// `error: TEXT`, where TEXT must appear in the message of the first `expect`
/// (or `when`) that errored.
type Case<'a> = (&'a str, &'a str, &'a str);

const PROPERTIES: &[&str] = &["expect ", "when ", "let ", "title ", "mode ", "severity "];

fn rule_source(name: &str, body: &str) -> String {
    let body = if PROPERTIES.iter().any(|p| body.trim_start().starts_with(p)) {
        body.to_string()
    } else {
        format!("expect {body}")
    };
    format!("rule {name} {{\n{body}\n}}\n")
}

/// Returns the message of the first `expect` (or `when`) of a verdict that errored.
fn error_message(verdict: &RuleVerdict) -> Option<String> {
    let explanation = verdict.explanation.as_ref()?;
    explanation
        .expects
        .iter()
        .find_map(|(_, _, outcome)| match outcome {
            ExpectOutcome::Errored(error) => Some(error.message()),
            _ => None,
        })
        .or_else(|| explanation.event_time_error.as_ref().map(|error| error.message()))
}

fn describe(verdict: &RuleVerdict) -> String {
    match &verdict.verdict {
        Verdict::Skip(SkipReason::ConditionFalse) => "skip: condition false".to_string(),
        Verdict::Skip(SkipReason::FieldMissing { .. }) => "skip: field missing".to_string(),
        Verdict::Error => format!("error: {}", error_message(verdict).unwrap_or_default()),
        other => other.as_str().to_string(),
    }
}

fn matches_expected(actual: &str, expected: &str) -> bool {
    match (actual.strip_prefix("error: "), expected.strip_prefix("error: ")) {
        (Some(message), Some(wanted)) => message.contains(wanted),
        _ => actual == expected,
    }
}

/// Compiles every case as its own rule after `preamble` (declarations such as
/// `use` and `event time`, beside the `data` files), evaluates each on its record,
/// and reports every case whose verdict differs.
fn check_cases_with_data(preamble: &str, data: &[(&str, &str)], cases: &[Case<'_>]) {
    let mut policy = format!("{preamble}\n");
    for (i, (body, _, _)) in cases.iter().enumerate() {
        policy.push_str(&rule_source(&format!("case_{i}"), body));
    }
    let set = compile_ok(&policy, data);

    // Every case also goes through the projecting reader that `semslo check` uses for
    // JSON Lines, which must reach the same verdict from only the fields rules read.
    let projection = Projection::of(&set);
    let mut wrong = Vec::new();
    for (i, (body, record, expected)) in cases.iter().enumerate() {
        let verdict = eval::evaluate_one(&set, &json(record), i);
        let actual = describe(&verdict);
        if !matches_expected(&actual, expected) {
            wrong.push(format!("case_{i}: {body}\n  record:   {record}\n  expected: {expected}\n  actual:   {actual}"));
        }
        match batch::decide_text(&set, &projection, record.as_bytes()) {
            Ok(projected) if projected[i].verdict == verdict.verdict => {}
            Ok(projected) => wrong.push(format!(
                "case_{i}: {body}\n  record:   {record}\n  full record: {:?}\n  projected:   {:?}",
                verdict.verdict, projected[i].verdict
            )),
            Err(error) => wrong.push(format!("case_{i}: the projecting reader rejected {record}: {error}")),
        }
    }
    assert!(wrong.is_empty(), "{} of {} cases got another verdict:\n{}", wrong.len(), cases.len(), wrong.join("\n"));
}

fn check_cases(cases: &[Case<'_>]) {
    check_cases_with_data("", &[], cases);
}

/// Compiles a one-rule policy and evaluates it on `record`.
fn evaluate_rule(policy: &str, data: &[(&str, &str)], record: &str) -> RuleVerdict {
    let set = compile_ok(policy, data);
    eval::evaluate_one(&set, &json(record), 0)
}

/// Returns the observations of a verdict's explanation, as the JSON that reports show.
fn observations(verdict: &RuleVerdict) -> Vec<Json> {
    let explanation = verdict.explanation.as_ref().expect("fail and error verdicts carry an explanation");
    explanation.observations.iter().map(|o| serde_json::to_value(o).unwrap()).collect()
}

fn observations_of_kind(verdict: &RuleVerdict, kind: &str) -> Vec<Json> {
    observations(verdict).into_iter().filter(|o| o["kind"] == kind).collect()
}

// ---------------------------------------------------------------- numbers

#[test]
fn decimal_arithmetic_is_exact() {
    check_cases(&[
        ("0.1 + 0.2 == 0.3", "{}", "pass"),
        ("outcome.a + outcome.b == 0.3", r#"{"outcome": {"a": 0.1, "b": 0.2}}"#, "pass"),
        ("outcome.price * 3 == 44.10", r#"{"outcome": {"price": 14.70}}"#, "pass"),
        ("14.20 == 14.2", "{}", "pass"),
        ("1_000_000 == 1000000", "{}", "pass"),
        ("99.5% == 0.995", "{}", "pass"),
        ("outcome.n == 1000", r#"{"outcome": {"n": 1e3}}"#, "pass"),
        ("outcome.n == 0.00025", r#"{"outcome": {"n": 2.5E-4}}"#, "pass"),
        ("10 / 4 == 2.5", "{}", "pass"),
        ("-outcome.n == -3", r#"{"outcome": {"n": 3}}"#, "pass"),
    ]);
}

#[test]
fn integers_past_2_pow_53_keep_every_digit() {
    check_cases(&[
        ("outcome.id == 9007199254740993", r#"{"outcome": {"id": 9007199254740993}}"#, "pass"),
        ("outcome.id == 9007199254740993", r#"{"outcome": {"id": 9007199254740992}}"#, "fail"),
        ("outcome.a != outcome.b", r#"{"outcome": {"a": 9007199254740993, "b": 9007199254740992}}"#, "pass"),
        ("outcome.a - outcome.b == 1", r#"{"outcome": {"a": 9007199254740993, "b": 9007199254740992}}"#, "pass"),
    ]);
}

#[test]
fn record_number_past_28_digits_errors() {
    check_cases(&[
        ("outcome.n > 0", r#"{"outcome": {"n": 1234567890123456789012345678}}"#, "pass"),
        (
            "outcome.n > 0",
            r#"{"outcome": {"n": 123456789012345678901234567890}}"#,
            "error: number `123456789012345678901234567890` does not fit a decimal (at most 28 significant digits and 28 decimal places, and below 7.9e28 in magnitude)",
        ),
        ("outcome.n == outcome.n", r#"{"outcome": {"n": 123456789012345678901234567890}}"#, "error: 28 significant"),
        // The huge number is never read, so it does not matter.
        ("outcome.other == 1", r#"{"outcome": {"n": 123456789012345678901234567890, "other": 1}}"#, "pass"),
        // Digits past what a decimal can represent are not rounded away: the number is opaque.
        ("outcome.n > 1", r#"{"outcome": {"n": 1.0000000000000000000000000000000001}}"#, "error: 28 significant"),
        ("outcome.n == 1", r#"{"outcome": {"n": 0.99999999999999999999999999999999999}}"#, "error: 28 significant"),
        // Zeros that add no digit do not count.
        ("outcome.n == 1.5", r#"{"outcome": {"n": 1.500000000000000000000000000000000000}}"#, "pass"),
        ("outcome.n > 0", r#"{"outcome": {"n": 0.0000000000000000000000000001}}"#, "pass"),
        // Out of range with few digits: the message names the range, not only the digits.
        ("outcome.n > 0", r#"{"outcome": {"n": 1e400}}"#, "error: does not fit a decimal"),
        ("outcome.n > 0", r#"{"outcome": {"n": 1e-400}}"#, "error: 28 decimal places"),
        ("outcome.n > 0", r#"{"outcome": {"n": 100000000000000000000000000000000}}"#, "error: below 7.9e28"),
    ]);
}

#[test]
fn division_by_zero_is_an_error() {
    check_cases(&[
        ("outcome.total / outcome.count > 1", r#"{"outcome": {"total": 10, "count": 0}}"#, "error: division by zero"),
        ("outcome.total / outcome.count > 1", r#"{"outcome": {"total": 10, "count": 0.0}}"#, "error: division by zero"),
        ("1h / outcome.n > 1m", r#"{"outcome": {"n": 0}}"#, "error: division by zero"),
        ("outcome.total / outcome.count == 5", r#"{"outcome": {"total": 10, "count": 2}}"#, "pass"),
    ]);
}

// ---------------------------------------------------------------- time

#[test]
fn timestamps_compare_in_utc() {
    check_cases(&[
        ("2025-06-01T02:00:00+02:00 == 2025-06-01T00:00:00Z", "{}", "pass"),
        ("2025-06-01T01:59:59+02:00 < 2025-06-01T00:00:00Z", "{}", "pass"),
        ("outcome.at == 2025-06-01T00:00:00Z", r#"{"outcome": {"at": "2025-06-01T02:00:00+02:00"}}"#, "pass"),
        // 00:30 at +02:00 is 22:30 UTC on May 31.
        ("outcome.at > 2025-05-31T23:00:00Z", r#"{"outcome": {"at": "2025-06-01T00:30:00+02:00"}}"#, "fail"),
        (
            "timestamp(outcome.a) == timestamp(outcome.b)",
            r#"{"outcome": {"a": "2025-06-01T02:00:00+02:00", "b": "2025-06-01T00:00:00Z"}}"#,
            "pass",
        ),
        ("outcome.at == 2025-06-01T00:00:00.000Z", r#"{"outcome": {"at": "2025-06-01T00:00:00Z"}}"#, "pass"),
    ]);
}

#[test]
fn two_text_timestamps_compare_as_instants() {
    check_cases(&[
        (
            "outcome.a == outcome.b",
            r#"{"outcome": {"a": "2025-06-01T02:00:00+02:00", "b": "2025-06-01T00:00:00Z"}}"#,
            "pass",
        ),
        (
            "outcome.a < outcome.b",
            r#"{"outcome": {"a": "2025-06-01T01:00:00+02:00", "b": "2025-06-01T00:00:00Z"}}"#,
            "pass",
        ),
        ("outcome.a < outcome.b", r#"{"outcome": {"a": "b", "b": "a"}}"#, "fail"),
    ]);
}

#[test]
fn text_against_timestamp_is_parsed() {
    check_cases(&[
        ("outcome.at < 2025-07-01T00:00:00Z", r#"{"outcome": {"at": "2025-06-30T23:59:59.999Z"}}"#, "pass"),
        ("2025-07-01T00:00:00Z > outcome.at", r#"{"outcome": {"at": "2025-06-30T23:59:59Z"}}"#, "pass"),
        ("outcome.at < 2025-07-01T00:00:00Z", r#"{"outcome": {"at": "yesterday"}}"#, "error: `yesterday`"),
        ("outcome.at == 2025-07-01T00:00:00Z", r#"{"outcome": {"at": "2025-07-01"}}"#, "error: RFC 3339"),
        ("outcome.at < 2025-07-01T00:00:00Z", r#"{"outcome": {"at": 1719792000}}"#, "error: cannot compare"),
        ("outcome.at - 2025-06-01T00:00:00Z == 1h", r#"{"outcome": {"at": "2025-06-01T01:00:00Z"}}"#, "pass"),
        ("outcome.at + 30m == 2025-06-01T01:00:00Z", r#"{"outcome": {"at": "2025-06-01T00:30:00Z"}}"#, "pass"),
    ]);
}

#[test]
fn date_against_timestamp_is_midnight_utc() {
    check_cases(&[
        ("2025-06-01 == 2025-06-01T00:00:00Z", "{}", "pass"),
        ("2025-06-01 < 2025-06-01T00:00:00.001Z", "{}", "pass"),
        // 00:00 at +02:00 is 22:00 UTC the day before.
        ("2025-06-01T00:00:00+02:00 < 2025-06-01", "{}", "pass"),
        ("outcome.day == 2025-06-01", r#"{"outcome": {"day": "2025-06-01"}}"#, "pass"),
        ("outcome.day < 2025-06-01", r#"{"outcome": {"day": "2025-05-31"}}"#, "pass"),
        ("outcome.day == 2025-06-01", r#"{"outcome": {"day": "June 1st"}}"#, "error: date"),
        ("date(outcome.at) == 2025-06-01", r#"{"outcome": {"at": "2025-06-01T23:30:00Z"}}"#, "pass"),
        // 01:30 at +02:00 is still May 31 in UTC.
        ("date(outcome.at) == 2025-05-31", r#"{"outcome": {"at": "2025-06-01T01:30:00+02:00"}}"#, "pass"),
        ("timestamp(2025-06-01) == 2025-06-01T00:00:00Z", "{}", "pass"),
    ]);
}

#[test]
fn durations_and_calendar_arithmetic() {
    check_cases(&[
        (
            "timestamp(outcome.finished) - timestamp(outcome.started) > 5m",
            r#"{"outcome": {"started": "2025-06-01T10:00:00Z", "finished": "2025-06-01T10:05:01Z"}}"#,
            "pass",
        ),
        (
            "timestamp(outcome.finished) - timestamp(outcome.started) > 5m",
            r#"{"outcome": {"started": "2025-06-01T10:00:00Z", "finished": "2025-06-01T10:05:00Z"}}"#,
            "fail",
        ),
        ("1h30m == 90m", "{}", "pass"),
        ("2h / 30m == 4", "{}", "pass"),
        ("30m * 2 == 1h", "{}", "pass"),
        ("1w == 7d", "{}", "pass"),
        ("1s == 1000ms", "{}", "pass"),
        ("-5m < 0s", "{}", "pass"),
        ("abs(-5m) == 5m", "{}", "pass"),
        ("days(2025-06-03 - 2025-06-01) == 2", "{}", "pass"),
        ("days(36h) == 1.5", "{}", "pass"),
        ("hours(1h30m) == 1.5", "{}", "pass"),
        ("minutes(90s) == 1.5", "{}", "pass"),
        ("seconds(250ms) == 0.25", "{}", "pass"),
        ("2025-06-01 + 1d == 2025-06-02", "{}", "pass"),
        ("2025-06-01 - 2w == 2025-05-18", "{}", "pass"),
        ("2025-06-01 + 12h == 2025-06-01", "{}", "error: part of a day"),
        ("add_days(2025-02-28, 1) == 2025-03-01", "{}", "pass"),
        ("add_days(2024-02-28, 1) == 2024-02-29", "{}", "pass"),
        ("add_months(2025-01-31, 1) == 2025-02-28", "{}", "pass"),
        ("add_months(2024-01-31, 1) == 2024-02-29", "{}", "pass"),
        ("add_months(2025-03-31, -1) == 2025-02-28", "{}", "pass"),
        ("add_months(2025-05-31, 1) == 2025-06-30", "{}", "pass"),
        ("add_months(2025-01-31T10:00:00Z, 1) == 2025-02-28T10:00:00Z", "{}", "pass"),
        ("add_months(outcome.day, 1) == 2025-02-28", r#"{"outcome": {"day": "2025-01-31"}}"#, "pass"),
        ("add_months(outcome.day, 1.5) == 2025-02-28", r#"{"outcome": {"day": "2025-01-31"}}"#, "error: whole number"),
        ("add_days(outcome.at, 30) > 2025-07-01T00:00:00Z", r#"{"outcome": {"at": "2025-06-01T12:00:00Z"}}"#, "pass"),
    ]);
}

#[test]
fn text_timestamps_subtract_as_instants() {
    check_cases(&[
        (
            "outcome.finished - outcome.started > 5m",
            r#"{"outcome": {"started": "2025-06-01T10:00:00Z", "finished": "2025-06-01T10:10:00Z"}}"#,
            "pass",
        ),
        (
            "outcome.finished - outcome.started == 10m",
            r#"{"outcome": {"started": "2025-06-01T12:00:00+02:00", "finished": "2025-06-01T10:10:00Z"}}"#,
            "pass",
        ),
        ("outcome.b - outcome.a > 5m", r#"{"outcome": {"a": "ten", "b": "eleven"}}"#, "error: cannot compute"),
    ]);
}

// ---------------------------------------------------------------- missing and null

#[test]
fn missing_field_error_names_path() {
    let verdict = evaluate_rule("rule r { expect outcome.unit_price > 0 }", &[], r#"{"outcome": {"total": 10}}"#);

    assert_eq!(verdict.verdict, Verdict::Error);
    assert_eq!(error_message(&verdict).as_deref(), Some("field `outcome.unit_price` is missing"));
}

#[test]
fn missing_root_field_error_names_it() {
    let verdict = evaluate_rule("rule r { expect outcome.total > 0 }", &[], r#"{"steps": []}"#);

    assert_eq!(verdict.verdict, Verdict::Error);
    assert_eq!(error_message(&verdict).as_deref(), Some("field `outcome` is missing"));
}

#[test]
fn when_separates_missing_from_false() {
    check_cases(&[
        ("when outcome.type == \"po\"\nexpect true", r#"{"outcome": {}}"#, "skip: field missing"),
        ("when outcome.type == \"po\"\nexpect true", r#"{"outcome": {"type": "quote"}}"#, "skip: condition false"),
        ("when outcome.type == \"po\"\nexpect false", r#"{"outcome": {"type": "po"}}"#, "fail"),
        ("when outcome.type == \"po\"\nexpect outcome.total > 0", r#"{"outcome": {"type": "po"}}"#, "error: total"),
        ("when steps[3].ok\nexpect true", r#"{"steps": [{"ok": true}]}"#, "skip: field missing"),
        ("when outcome.vendor.id == \"V-1\"\nexpect true", r#"{"outcome": {"vendor": null}}"#, "skip: field missing"),
        ("when false and outcome.nothing\nexpect true", "{}", "skip: condition false"),
    ]);
}

#[test]
fn undecidable_when_is_an_error() {
    check_cases(&[
        ("when outcome.n == \"10\"\nexpect true", r#"{"outcome": {"n": 10}}"#, "error: cannot compare"),
        ("when outcome.n / 0 > 1\nexpect true", r#"{"outcome": {"n": 10}}"#, "error: division by zero"),
    ]);
}

#[test]
fn null_is_a_value_and_missing_is_not() {
    check_cases(&[
        ("outcome.x is null", r#"{"outcome": {"x": null}}"#, "pass"),
        ("outcome.x is null", r#"{"outcome": {"x": 0}}"#, "fail"),
        ("outcome.x is null", r#"{"outcome": {}}"#, "error: field `outcome.x` is missing"),
        ("outcome.x is not null", r#"{"outcome": {"x": ""}}"#, "pass"),
        ("outcome.x is missing", r#"{"outcome": {}}"#, "pass"),
        ("outcome.x is missing", r#"{"outcome": {"x": null}}"#, "fail"),
        ("outcome.x is not missing", r#"{"outcome": {"x": null}}"#, "pass"),
        ("outcome.x exists", r#"{"outcome": {"x": null}}"#, "pass"),
        ("outcome.x exists", r#"{"outcome": {}}"#, "fail"),
        ("outcome.x not exists", r#"{"outcome": {}}"#, "pass"),
        ("outcome.x == null", r#"{"outcome": {"x": null}}"#, "pass"),
        ("outcome.x == null", r#"{"outcome": {"x": 5}}"#, "fail"),
        ("outcome.x != null", r#"{"outcome": {"x": "a"}}"#, "pass"),
        ("outcome.x == null", r#"{"outcome": {}}"#, "error: missing"),
    ]);
}

#[test]
fn len_null_and_exists_of_whole_values() {
    // The projecting reader keeps these values whole, as source text, and these
    // operators read that text without converting it. Every case also runs on the full
    // record.
    check_cases(&[
        ("len(steps) == 3", r#"{"steps": [1, {"a": [2, 3]}, "x,y"]}"#, "pass"),
        ("len(steps) == 2", r#"{"steps": ["a\"],[", "b"]}"#, "pass"),
        ("len(steps) == 0", r#"{"steps": [ ]}"#, "pass"),
        ("len(steps) == 2", r#"{"steps": {"a": 1, "b": 2}}"#, "pass"),
        ("len(steps) == 3", r#"{"steps": "abc"}"#, "pass"),
        ("len(steps) > 0", r#"{}"#, "error: field `steps` is missing"),
        ("len(outcome.items) == 2", r#"{"outcome": {"items": [[1, 2], [3]]}}"#, "pass"),
        ("steps is null", r#"{"steps": null}"#, "pass"),
        ("steps is null", r#"{"steps": [null]}"#, "fail"),
        ("steps is not null", r#"{"steps": {}}"#, "pass"),
        ("steps exists", r#"{"steps": [1]}"#, "pass"),
        ("steps exists", r#"{}"#, "fail"),
        ("steps is missing", r#"{"steps": null}"#, "fail"),
        ("outcome.items is null", r#"{"outcome": {"items": null}}"#, "pass"),
        ("outcome.items is null", r#"{"outcome": "cancelled"}"#, "error: has no field"),
        ("outcome.items exists", r#"{"outcome": "cancelled"}"#, "error: has no field"),
    ]);
}

#[test]
fn text_equality_with_constants() {
    // The projecting reader compares plain text with a text constant straight from the
    // record's source. Every case also runs on the full record.
    check_cases(&[
        (r#"outcome.vendor == "V-1""#, r#"{"outcome": {"vendor": "V-1"}}"#, "pass"),
        (r#"outcome.vendor != "V-1""#, r#"{"outcome": {"vendor": "V-1"}}"#, "fail"),
        (r#"outcome.vendor == "V-1""#, r#"{"outcome": {"vendor": "V-\u0031"}}"#, "pass"),
        (r#"outcome.vendor == "é""#, r#"{"outcome": {"vendor": "é"}}"#, "pass"),
        (r#"outcome.vendor == "1""#, r#"{"outcome": {"vendor": 1}}"#, "error: cannot compare number"),
        (r#"outcome.vendor == "V-1""#, r#"{"outcome": {}}"#, "error: field `outcome.vendor` is missing"),
        (r#"outcome.at == "2025-03-01T10:00:00Z""#, r#"{"outcome": {"at": "2025-03-01T11:00:00+01:00"}}"#, "pass"),
        (r#"any s in steps satisfies s.name == "b""#, r#"{"steps": [{"name": "a"}, {"name": "b"}]}"#, "pass"),
        (
            r#"any s in steps satisfies s.name == "b""#,
            r#"{"steps": [{"name": "a"}, {"other": 1}]}"#,
            "error: is missing",
        ),
        (r#""V-1" == outcome.vendor"#, r#"{"outcome": {"vendor": "V-1"}}"#, "pass"),
        (r#"outcome.vendor != "V-1""#, r#"{"outcome": {"vendor": "V-\u0032"}}"#, "pass"),
        (r#"outcome.vendor == "V-1""#, r#"{"outcome": {"vendor": null}}"#, "fail"),
        (r#"outcome.vendor == "V-1""#, r#"{"outcome": {"vendor": {"id": "V-1"}}}"#, "error: cannot compare object"),
        ("let blocked = \"V-9\"\nexpect outcome.vendor != blocked", r#"{"outcome": {"vendor": "V-1"}}"#, "pass"),
    ]);
}

#[test]
fn otherwise_applies_to_missing_only() {
    check_cases(&[
        ("outcome.discount otherwise 0 == 0", r#"{"outcome": {}}"#, "pass"),
        ("outcome.discount otherwise 0 == 5", r#"{"outcome": {"discount": 5}}"#, "pass"),
        // A present null is a value: the fallback does not apply.
        ("outcome.discount otherwise 0 == 0", r#"{"outcome": {"discount": null}}"#, "fail"),
        ("outcome.discount otherwise 0 is null", r#"{"outcome": {"discount": null}}"#, "pass"),
        ("outcome.a otherwise outcome.b otherwise 3 == 3", r#"{"outcome": {}}"#, "pass"),
        ("outcome.a otherwise outcome.b otherwise 3 == 2", r#"{"outcome": {"b": 2}}"#, "pass"),
        ("steps[9].name otherwise \"none\" == \"none\"", r#"{"steps": []}"#, "pass"),
        // Other errors are not missing values, so the fallback does not hide them.
        ("outcome.n / 0 otherwise 1 == 1", r#"{"outcome": {"n": 1}}"#, "error: division by zero"),
    ]);
}

#[test]
fn field_of_null_counts_as_missing() {
    check_cases(&[
        ("outcome.vendor.id == \"V-1\"", r#"{"outcome": {"vendor": null}}"#, "error: `outcome.vendor` is null"),
        ("outcome.vendor.id exists", r#"{"outcome": {"vendor": null}}"#, "fail"),
        ("outcome.vendor.id is missing", r#"{"outcome": {"vendor": null}}"#, "pass"),
        ("outcome.vendor.id otherwise \"none\" == \"none\"", r#"{"outcome": {"vendor": null}}"#, "pass"),
        ("outcome.vendor.id == \"V-1\"", r#"{"outcome": {"vendor": "V-1"}}"#, "error: is text"),
    ]);
}

// ---------------------------------------------------------------- types

#[test]
fn equality_between_text_and_number_is_an_error() {
    check_cases(&[
        (
            "outcome.n == outcome.t",
            r#"{"outcome": {"n": 10, "t": "10"}}"#,
            "error: cannot compare number `10` with text `10`; convert one side with `number(...)` or `text(...)`",
        ),
        ("outcome.n != outcome.t", r#"{"outcome": {"n": 10, "t": "10"}}"#, "error: cannot compare"),
        ("outcome.t == 10", r#"{"outcome": {"t": "10"}}"#, "error: cannot compare"),
        ("outcome.b == 1", r#"{"outcome": {"b": true}}"#, "error: cannot compare"),
        ("outcome.b == true", r#"{"outcome": {"b": true}}"#, "pass"),
        ("outcome.b < true", r#"{"outcome": {"b": false}}"#, "error: cannot order"),
        ("number(outcome.t) == 10", r#"{"outcome": {"t": "10.0"}}"#, "pass"),
        ("text(outcome.n) == \"10\"", r#"{"outcome": {"n": 10}}"#, "pass"),
        ("outcome.o == outcome.p", r#"{"outcome": {"o": {"a": 1.0}, "p": {"a": 1}}}"#, "pass"),
    ]);
}

#[test]
fn in_list_ignores_other_types() {
    check_cases(&[
        ("outcome.n in [\"10\", 20]", r#"{"outcome": {"n": 10}}"#, "fail"),
        ("outcome.n in [\"10\", 10]", r#"{"outcome": {"n": 10}}"#, "pass"),
        ("outcome.t in [1, 2, 3]", r#"{"outcome": {"t": "1"}}"#, "fail"),
        ("outcome.t not in [1, 2, 3]", r#"{"outcome": {"t": "1"}}"#, "pass"),
        ("outcome.n in [1, null, \"x\", true]", r#"{"outcome": {"n": 1.0}}"#, "pass"),
        ("outcome.n in outcome.list", r#"{"outcome": {"n": 2, "list": ["2", 2.00]}}"#, "pass"),
        ("null in [1, null]", "{}", "pass"),
        ("outcome.n in []", r#"{"outcome": {"n": 1}}"#, "fail"),
    ]);
}

#[test]
fn in_tests_text_objects_and_lists() {
    check_cases(&[
        ("\"fund\" in outcome.note", r#"{"outcome": {"note": "please refund"}}"#, "pass"),
        ("\"FUND\" in outcome.note", r#"{"outcome": {"note": "please refund"}}"#, "fail"),
        ("\"a\" in outcome.o", r#"{"outcome": {"o": {"a": null}}}"#, "pass"),
        ("\"b\" in outcome.o", r#"{"outcome": {"o": {"a": 1}}}"#, "fail"),
        ("outcome.n in outcome.o", r#"{"outcome": {"n": 5, "o": {"a": 1}}}"#, "fail"),
        ("outcome.n in outcome.o", r#"{"outcome": {"n": 5, "o": {"5": 1}}}"#, "pass"),
        ("outcome.n in outcome.b", r#"{"outcome": {"n": 5, "b": true}}"#, "error: not a list, table or text"),
    ]);
}

// ---------------------------------------------------------------- verdicts

#[test]
fn four_verdicts() {
    let rule = "when outcome.type == \"po\"\nexpect outcome.total > 100";
    check_cases(&[
        (rule, r#"{"outcome": {"type": "po", "total": 150}}"#, "pass"),
        (rule, r#"{"outcome": {"type": "po", "total": 50}}"#, "fail"),
        (rule, r#"{"outcome": {"type": "quote", "total": 50}}"#, "skip: condition false"),
        (rule, r#"{"outcome": {"total": 50}}"#, "skip: field missing"),
        (rule, r#"{"outcome": {"type": "po"}}"#, "error: field `outcome.total` is missing"),
    ]);
}

#[test]
fn every_expect_must_hold() {
    let rule = "expect outcome.a == 1\nexpect outcome.b == 2";
    check_cases(&[
        (rule, r#"{"outcome": {"a": 1, "b": 2}}"#, "pass"),
        (rule, r#"{"outcome": {"a": 1, "b": 3}}"#, "fail"),
        (rule, r#"{"outcome": {"a": 1}}"#, "error: `outcome.b`"),
    ]);
}

#[test]
fn fail_beats_error_across_expects() {
    let policy = "rule r {\n  expect outcome.a == 1\n  expect outcome.b == 2\n}\n";
    let verdict = evaluate_rule(policy, &[], r#"{"outcome": {"a": 5}}"#);

    assert_eq!(verdict.verdict, Verdict::Fail);
    let expects = &verdict.explanation.as_ref().unwrap().expects;
    assert_eq!(expects.len(), 2, "{expects:?}");
    assert_eq!((expects[0].0, &expects[0].2), (0, &ExpectOutcome::Failed));
    assert_eq!(expects[1].0, 1);
    let ExpectOutcome::Errored(error) = &expects[1].2 else { panic!("the second expect should error: {expects:?}") };
    assert_eq!(error.message(), "field `outcome.b` is missing");
}

#[test]
fn fail_beats_earlier_error() {
    let rule = "expect outcome.missing == 1\nexpect outcome.a == 1";
    check_cases(&[(rule, r#"{"outcome": {"a": 2}}"#, "fail")]);
}

#[test]
fn and_or_ignore_irrelevant_errors() {
    check_cases(&[
        ("false and outcome.missing == 1", "{}", "fail"),
        ("outcome.missing == 1 and false", "{}", "fail"),
        ("true or outcome.missing == 1", "{}", "pass"),
        ("outcome.missing == 1 or true", "{}", "pass"),
        ("true and outcome.missing == 1", "{}", "error: missing"),
        ("outcome.missing == 1 and true", "{}", "error: missing"),
        ("false or outcome.missing == 1", "{}", "error: missing"),
        ("outcome.missing == 1 or false", "{}", "error: missing"),
        ("outcome.t > 1 and false", r#"{"t": "x", "outcome": {"t": "x"}}"#, "fail"),
        ("1 / outcome.zero > 1 or true", r#"{"outcome": {"zero": 0}}"#, "pass"),
        ("not (outcome.missing == 1 and false)", "{}", "pass"),
    ]);
}

#[test]
fn if_then_else_picks_one_branch() {
    check_cases(&[
        ("(if outcome.total > 100 then \"big\" else \"small\") == \"big\"", r#"{"outcome": {"total": 101}}"#, "pass"),
        ("(if outcome.total > 100 then \"big\" else \"small\") == \"big\"", r#"{"outcome": {"total": 100}}"#, "fail"),
        // The branch not taken is not evaluated.
        ("if outcome.total > 100 then outcome.missing else true", r#"{"outcome": {"total": 1}}"#, "pass"),
    ]);
}

// ---------------------------------------------------------------- lists

const STEPS: &str = r#"{"steps": [
    {"name": "search", "ok": true, "tool": "search"},
    {"name": "review", "ok": true, "decision": "approved"},
    {"name": "submit", "ok": false, "output": {"id": "PO-7"}}
]}"#;

#[test]
fn quantifiers_over_empty_lists_are_vacuous() {
    check_cases(&[
        ("all s in steps satisfies s.ok", r#"{"steps": []}"#, "pass"),
        ("none s in steps satisfies s.ok", r#"{"steps": []}"#, "pass"),
        ("any s in steps satisfies s.ok", r#"{"steps": []}"#, "fail"),
        ("all s in steps where s.name == \"nothing\" satisfies s.ok", STEPS, "pass"),
        ("none s in steps where s.name == \"nothing\" satisfies s.ok", STEPS, "pass"),
        ("any s in steps where s.name == \"nothing\" satisfies s.ok", STEPS, "fail"),
        ("(count s in steps where s.name == \"nothing\") == 0", STEPS, "pass"),
    ]);
}

#[test]
fn vacuous_quantifier_explanation() {
    let policy = "rule r { expect any s in steps where s.name == \"approve\" satisfies s.ok }";
    let verdict = evaluate_rule(policy, &[], STEPS);

    assert_eq!(verdict.verdict, Verdict::Fail);
    let quantifiers = observations_of_kind(&verdict, "quantifier");
    assert_eq!(quantifiers.len(), 1, "{quantifiers:?}");
    assert_eq!(quantifiers[0]["total"], 3);
    assert_eq!(quantifiers[0]["considered"], 0);
    assert_eq!(quantifiers[0]["satisfied"], 0);
    assert_eq!(quantifiers[0]["held"], false);
}

#[test]
fn quantifiers_over_lists() {
    check_cases(&[
        ("any s in steps satisfies s.name == \"review\"", STEPS, "pass"),
        ("all s in steps satisfies s.ok", STEPS, "fail"),
        ("all s in steps where s.name != \"submit\" satisfies s.ok", STEPS, "pass"),
        ("none s in steps satisfies s.ok == false", STEPS, "fail"),
        ("none s in steps satisfies s.name == \"cancel\"", STEPS, "pass"),
        ("any s in steps satisfies any t in steps satisfies s.name == t.name and s != t", STEPS, "fail"),
        ("all x in [1, 2, 3] satisfies x > 0", "{}", "pass"),
        ("any s in outcome.list satisfies s == 1", r#"{"outcome": {"list": "not a list"}}"#, "error: not a list"),
    ]);
}

#[test]
fn any_is_true_despite_an_erroring_element() {
    check_cases(&[
        ("any s in steps satisfies s.ok", r#"{"steps": [{"name": "a"}, {"ok": true}]}"#, "pass"),
        ("any s in steps satisfies s.ok", r#"{"steps": [{"ok": true}, {"name": "a"}]}"#, "pass"),
        ("any s in steps satisfies s.ok", r#"{"steps": [{"name": "a"}, {"ok": false}]}"#, "error: `s.ok`"),
        ("all s in steps satisfies s.ok", r#"{"steps": [{"name": "a"}, {"ok": false}]}"#, "fail"),
        ("all s in steps satisfies s.ok", r#"{"steps": [{"name": "a"}, {"ok": true}]}"#, "error: missing"),
        ("none s in steps satisfies s.ok", r#"{"steps": [{"name": "a"}, {"ok": true}]}"#, "fail"),
        ("none s in steps satisfies s.ok", r#"{"steps": [{"name": "a"}, {"ok": false}]}"#, "error: missing"),
        // An element whose `where` filter errors does not hide one that satisfies the body.
        (
            "any s in steps where s.kind == \"tool\" satisfies s.ok",
            r#"{"steps": [{}, {"kind": "tool", "ok": true}]}"#,
            "pass",
        ),
    ]);
}

#[test]
fn missing_field_names_quantifier_element() {
    let policy = "rule r { expect all s in steps satisfies s.ok }";
    let verdict = evaluate_rule(policy, &[], r#"{"steps": [{"ok": true}, {"name": "b"}]}"#);

    assert_eq!(verdict.verdict, Verdict::Error);
    let message = error_message(&verdict).unwrap();
    assert!(message.contains("`s.ok`"), "{message}");
    assert!(message.contains("element 1"), "{message}");
}

#[test]
fn count_counts_filtered_elements() {
    check_cases(&[
        ("count s in steps == 3", STEPS, "pass"),
        ("(count s in steps where s.ok) == 2", STEPS, "pass"),
        ("(count s in steps where s.ok and s.name != \"search\") == 1", STEPS, "pass"),
        ("(count s in steps where s.ok) > 2", STEPS, "fail"),
        ("count s in steps == 0", r#"{"steps": []}"#, "pass"),
    ]);
}

#[test]
fn first_and_last_find_positions() {
    let review_then_submit = r#"{"steps": [{"name": "review"}, {"name": "submit"}, {"name": "review"}]}"#;
    let submit_then_review = r#"{"steps": [{"name": "submit"}, {"name": "review"}]}"#;
    let review = "(first s in steps where s.name == \"review\")";
    let submit = "(first s in steps where s.name == \"submit\")";
    let last_review = "(last s in steps where s.name == \"review\")";
    let before = format!("{review} before {submit}");
    let after = format!("{submit} after {review}");
    let last_after = format!("{last_review} after {submit}");
    check_cases(&[
        (&before, review_then_submit, "pass"),
        (&before, submit_then_review, "fail"),
        (&after, review_then_submit, "pass"),
        (&after, submit_then_review, "fail"),
        (&last_after, review_then_submit, "pass"),
        (&last_after, submit_then_review, "pass"),
        // No match on either side makes `before` and `after` false, not an error.
        (&before, r#"{"steps": [{"name": "submit"}]}"#, "fail"),
        (&before, r#"{"steps": [{"name": "review"}]}"#, "fail"),
        (&after, r#"{"steps": []}"#, "fail"),
        ("(first s in steps where s.name == \"submit\").output.id == \"PO-7\"", STEPS, "pass"),
        ("(last s in steps where s.ok).name == \"review\"", STEPS, "pass"),
        ("(first s in steps where s.name == \"cancel\") is null", STEPS, "pass"),
    ]);
}

#[test]
fn order_explanation_shows_no_match() {
    let policy = "rule r { expect (first s in steps where s.name == \"review\") before (first s in steps where s.name == \"submit\") }";
    let verdict = evaluate_rule(policy, &[], r#"{"steps": [{"name": "submit"}]}"#);

    assert_eq!(verdict.verdict, Verdict::Fail);
    let orders = observations_of_kind(&verdict, "order");
    assert_eq!(orders.len(), 1, "{orders:?}");
    assert_eq!(orders[0]["left_index"], Json::Null);
    assert_eq!(orders[0]["right_index"], 0);
    assert_eq!(orders[0]["held"], false);
}

#[test]
fn comprehension_and_sum() {
    let payments = r#"{"outcome": {"total": 30.10, "payments": [
        {"method": "gift_card", "amount": 10.05},
        {"method": "card", "amount": 100},
        {"method": "gift_card", "amount": 20.05}
    ]}}"#;
    check_cases(&[
        ("sum([p.amount for p in outcome.payments where p.method == \"gift_card\"]) == 30.10", payments, "pass"),
        ("sum([p.amount for p in outcome.payments]) == 130.10", payments, "pass"),
        ("sum([p.amount for p in outcome.payments where p.method == \"cash\"]) == 0", payments, "pass"),
        ("len([p.method for p in outcome.payments]) == 3", payments, "pass"),
        ("distinct([p.method for p in outcome.payments]) == [\"gift_card\", \"card\"]", payments, "pass"),
        ("max([p.amount for p in outcome.payments]) == 100", payments, "pass"),
        ("min(3, 1, 2) == 1", "{}", "pass"),
        ("sum([1h, 30m]) == 90m", "{}", "pass"),
        ("sum([p.method for p in outcome.payments]) == 0", payments, "error: `sum` needs"),
        ("max([p.amount for p in outcome.payments where false]) == 0", payments, "error: empty list"),
    ]);
}

#[test]
fn negative_and_missing_indexes() {
    check_cases(&[
        ("steps[0].name == \"search\"", STEPS, "pass"),
        ("steps[-1].name == \"submit\"", STEPS, "pass"),
        ("steps[-3].name == \"search\"", STEPS, "pass"),
        ("steps[3].name == \"x\"", STEPS, "error: element 3 of `steps` (3 elements) is missing"),
        ("steps[-4].name == \"x\"", STEPS, "error: is missing"),
        ("steps[3] exists", STEPS, "fail"),
        ("steps[-4] is missing", STEPS, "pass"),
        ("steps[1.5].name == \"x\"", STEPS, "error: not a whole number"),
        ("steps[\"name\"] == \"x\"", STEPS, "error: cannot index"),
        ("outcome[\"unit price\"] == 5", r#"{"outcome": {"unit price": 5}}"#, "pass"),
        ("[10, 20, 30][-1] == 30", "{}", "pass"),
    ]);
}

// ---------------------------------------------------------------- comparisons and text

#[test]
fn between_is_inclusive_at_both_ends() {
    check_cases(&[
        ("outcome.p between 1.50 and 2.50", r#"{"outcome": {"p": 1.5}}"#, "pass"),
        ("outcome.p between 1.50 and 2.50", r#"{"outcome": {"p": 2.50}}"#, "pass"),
        ("outcome.p between 1.50 and 2.50", r#"{"outcome": {"p": 2.5000000001}}"#, "fail"),
        ("outcome.p between 1.50 and 2.50", r#"{"outcome": {"p": 1.4999999999}}"#, "fail"),
        ("outcome.p not between 1.50 and 2.50", r#"{"outcome": {"p": 3}}"#, "pass"),
        ("outcome.p not between 1.50 and 2.50", r#"{"outcome": {"p": 2.5}}"#, "fail"),
        ("outcome.at between 2025-06-01 and 2025-06-30", r#"{"outcome": {"at": "2025-06-30T00:00:00Z"}}"#, "pass"),
        ("outcome.p between 1 and 2", r#"{"outcome": {"p": "1.5"}}"#, "error: cannot compare"),
    ]);
}

#[test]
fn within_tolerance_is_inclusive_and_exact() {
    check_cases(&[
        // 100.01 - 100.00 is 0.010000000000005116 in binary floating point.
        ("outcome.total == 100.00 within 0.01", r#"{"outcome": {"total": 100.01}}"#, "pass"),
        ("outcome.total == 100.00 within 0.01", r#"{"outcome": {"total": 99.99}}"#, "pass"),
        ("outcome.total == 100.00 within 0.01", r#"{"outcome": {"total": 100.011}}"#, "fail"),
        ("outcome.total within 0.01 of 100", r#"{"outcome": {"total": 99.99}}"#, "pass"),
        ("outcome.total != 100 within 0.5", r#"{"outcome": {"total": 101}}"#, "pass"),
        ("outcome.total != 100 within 0.5", r#"{"outcome": {"total": 100.5}}"#, "fail"),
        (
            "outcome.total == outcome.unit_price * outcome.quantity within 0.01",
            r#"{"outcome": {"total": 42.61, "unit_price": 14.20, "quantity": 3}}"#,
            "pass",
        ),
        (
            "timestamp(outcome.at) == 2025-06-01T00:00:00Z within 30s",
            r#"{"outcome": {"at": "2025-06-01T00:00:30Z"}}"#,
            "pass",
        ),
        ("outcome.total > 100 within 1", r#"{"outcome": {"total": 100}}"#, "error: only to `==` and `!=`"),
    ]);
}

#[test]
fn within_percent_is_relative_to_right() {
    check_cases(&[
        ("outcome.total within 2% of 100", r#"{"outcome": {"total": 102}}"#, "pass"),
        ("outcome.total within 2% of 100", r#"{"outcome": {"total": 98}}"#, "pass"),
        ("outcome.total within 2% of 100", r#"{"outcome": {"total": 102.01}}"#, "fail"),
        ("outcome.total == 200 within 2%", r#"{"outcome": {"total": 204}}"#, "pass"),
        ("outcome.total == 200 within 2%", r#"{"outcome": {"total": 204.5}}"#, "fail"),
        // |100 - 98| = 2 is more than 2% of 98 (1.96) but not of 100.
        ("100 == 98 within 2%", "{}", "fail"),
        ("98 == 100 within 2%", "{}", "pass"),
        ("outcome.total within 2% of -100", r#"{"outcome": {"total": -102}}"#, "pass"),
    ]);
}

#[test]
fn matches_tests_the_whole_text() {
    let sku = "outcome.sku matches /[A-Z]{3}-[0-9]{5}/";
    check_cases(&[
        (sku, r#"{"outcome": {"sku": "ABC-12345"}}"#, "pass"),
        (sku, r#"{"outcome": {"sku": "ABC-12345\n"}}"#, "fail"),
        (sku, r#"{"outcome": {"sku": "xABC-12345"}}"#, "fail"),
        (sku, r#"{"outcome": {"sku": "ABC-123456"}}"#, "fail"),
        (sku, r#"{"outcome": {"sku": "abc-12345"}}"#, "fail"),
        ("outcome.sku matches /[a-z]{3}-[0-9]{5}/i", r#"{"outcome": {"sku": "ABC-12345"}}"#, "pass"),
        ("outcome.sku not matches /[A-Z]{3}-[0-9]{5}/", r#"{"outcome": {"sku": "ABC-1234"}}"#, "pass"),
        // The anchors wrap the whole alternation.
        ("outcome.code matches /a|b/", r#"{"outcome": {"code": "ab"}}"#, "fail"),
        ("outcome.code matches /a|b/", r#"{"outcome": {"code": "b"}}"#, "pass"),
        ("outcome.path matches /\\/api\\/[a-z]+/", r#"{"outcome": {"path": "/api/orders"}}"#, "pass"),
        (sku, r#"{"outcome": {"sku": 12345}}"#, "error: not text"),
    ]);
}

#[test]
fn contains_regex_matches_anywhere() {
    check_cases(&[
        ("outcome.note contains /re+fund/", r#"{"outcome": {"note": "please reefund me"}}"#, "pass"),
        ("outcome.note contains /refund/", r#"{"outcome": {"note": "REFUND"}}"#, "fail"),
        ("outcome.note contains /refund/i", r#"{"outcome": {"note": "REFUND now"}}"#, "pass"),
        ("outcome.note not contains /refund/", r#"{"outcome": {"note": "thanks"}}"#, "pass"),
        ("outcome.note contains /^refund$/", r#"{"outcome": {"note": "a refund"}}"#, "fail"),
    ]);
}

#[test]
fn text_tests() {
    check_cases(&[
        ("outcome.sku starts with \"ABC\"", r#"{"outcome": {"sku": "ABC-1"}}"#, "pass"),
        ("outcome.sku starts with \"abc\"", r#"{"outcome": {"sku": "ABC-1"}}"#, "fail"),
        ("outcome.sku not starts with \"X\"", r#"{"outcome": {"sku": "ABC-1"}}"#, "pass"),
        ("outcome.sku ends with \"-1\"", r#"{"outcome": {"sku": "ABC-1"}}"#, "pass"),
        ("outcome.note contains \"fund\"", r#"{"outcome": {"note": "refund"}}"#, "pass"),
        ("outcome.tags contains \"vip\"", r#"{"outcome": {"tags": ["new", "vip"]}}"#, "pass"),
        ("outcome.tags contains \"vi\"", r#"{"outcome": {"tags": ["new", "vip"]}}"#, "fail"),
        ("outcome.tags not contains 1", r#"{"outcome": {"tags": ["1"]}}"#, "pass"),
        ("outcome.n starts with \"1\"", r#"{"outcome": {"n": 12}}"#, "error: needs text on both sides"),
        ("lower(outcome.s) == \"abc\" and upper(outcome.s) == \"ABC\"", r#"{"outcome": {"s": "aBc"}}"#, "pass"),
        ("trim(outcome.s) == \"a b\"", r#"{"outcome": {"s": "  a b \n"}}"#, "pass"),
        ("len(outcome.s) == 3", r#"{"outcome": {"s": "日本語"}}"#, "pass"),
        ("\"\\u{1F600}\" == outcome.s", r#"{"outcome": {"s": "😀"}}"#, "pass"),
    ]);
}

#[test]
fn functions_on_numbers_and_objects() {
    check_cases(&[
        ("round(2.5) == 3 and round(-2.5) == -3", "{}", "pass"),
        ("round(1.005, 2) == 1.01", "{}", "pass"),
        ("round(outcome.p, 2) == 14.21", r#"{"outcome": {"p": 14.205}}"#, "pass"),
        ("abs(-3.5) == 3.5", "{}", "pass"),
        ("keys(outcome.o) == [\"b\", \"a\"]", r#"{"outcome": {"o": {"b": 1, "a": 2}}}"#, "pass"),
        ("values(outcome.o) == [1, 2]", r#"{"outcome": {"o": {"b": 1, "a": 2}}}"#, "pass"),
        ("len(outcome.o) == 2", r#"{"outcome": {"o": {"b": 1, "a": 2}}}"#, "pass"),
        ("number(outcome.t) == 7.5", r#"{"outcome": {"t": " 7.50 "}}"#, "pass"),
        ("number(outcome.t) == 7.5", r#"{"outcome": {"t": "seven"}}"#, "error: cannot read"),
        ("len(outcome.n) == 1", r#"{"outcome": {"n": 5}}"#, "error: `len` needs"),
    ]);
}

#[test]
fn parse_json_reads_tool_arguments() {
    let record = r##"{"steps": [{"tool": "refund", "input": {"arguments": "{\"order_id\": \"#W1\", \"amount\": 12.50, \"ids\": [9007199254740993]}"}}]}"##;
    check_cases(&[
        ("parse_json(steps[0].input.arguments).amount == 12.5", record, "pass"),
        ("parse_json(steps[0].input.arguments).order_id == \"#W1\"", record, "pass"),
        ("parse_json(steps[0].input.arguments).ids[0] == 9007199254740993", record, "pass"),
        ("parse_json(steps[0].input.arguments).reason == \"x\"", record, "error: missing"),
        ("parse_json(\"[1, 2]\")[-1] == 2", "{}", "pass"),
        ("parse_json(\"{not json\") == 1", "{}", "error: `parse_json` could not read"),
    ]);
}

// ---------------------------------------------------------------- names

#[test]
fn name_resolution_order() {
    let policy = "let outcome = 5\nlet limit = 10\n\
        rule shadowed_field { expect outcome == 5 }\n\
        rule record_field { expect record.outcome.total == 7 }\n\
        rule variable_over_let { expect all limit in [1, 2] satisfies limit < 3 }\n\
        rule rule_let { let limit = 20\n expect limit == 20 }\n\
        rule file_let { expect limit == 10 }\n";
    let set = compile_ok(policy, &[]);
    let verdicts = eval::evaluate(&set, &json(r#"{"outcome": {"total": 7}}"#));

    for verdict in &verdicts {
        assert_eq!(verdict.verdict, Verdict::Pass, "rule `{}`: {verdict:?}", set.rules[verdict.rule].name);
    }
}

#[test]
fn keyword_field_read_through_record() {
    check_cases(&[
        ("record.when == \"now\"", r#"{"when": "now"}"#, "pass"),
        ("outcome.type == \"po\" and outcome.in == 1", r#"{"outcome": {"type": "po", "in": 1}}"#, "pass"),
    ]);
}

// ---------------------------------------------------------------- reference data

const DEPRIORITIZED_CSV: &str = "\
vendor_id,vendor_name,since,until
V-1,Alpha Supply,2025-06-01,
V-2,Beta Trading,2025-01-01,2025-03-01
V-2,Beta Trading,2025-05-01,
V-3,Gamma Goods,,2025-02-01
";

const EFFECTIVE_PREAMBLE: &str = "\
use \"data/deprioritized.csv\" as deprioritized key vendor_id effective since..until
event time outcome.created_at
";

fn vendor_record(vendor: &str, created_at: &str) -> String {
    format!(r#"{{"outcome": {{"vendor": "{vendor}", "created_at": "{created_at}"}}}}"#)
}

#[test]
fn effective_membership_is_judged_at_event_time() {
    let rule = "outcome.vendor not in deprioritized";
    let cases = [
        ("V-1", "2025-05-31T23:59:59Z", "pass"),
        ("V-1", "2025-06-01T00:00:00Z", "fail"),
        // 01:00 at +02:00 is 23:00 UTC on May 31, before the row applies.
        ("V-1", "2025-06-01T01:00:00+02:00", "pass"),
        ("V-1", "2030-01-01T00:00:00Z", "fail"),
        ("V-2", "2024-12-31T23:59:59Z", "pass"),
        ("V-2", "2025-01-01T00:00:00Z", "fail"),
        ("V-2", "2025-02-28T23:59:59Z", "fail"),
        // `until` is exclusive.
        ("V-2", "2025-03-01T00:00:00Z", "pass"),
        ("V-2", "2025-04-15T00:00:00Z", "pass"),
        ("V-2", "2025-05-01T00:00:00Z", "fail"),
        // An empty `since` is open-ended.
        ("V-3", "1999-01-01T00:00:00Z", "fail"),
        ("V-3", "2025-02-01T00:00:00Z", "pass"),
        ("V-9", "2025-06-01T00:00:00Z", "pass"),
    ];
    let records: Vec<String> = cases.iter().map(|(vendor, at, _)| vendor_record(vendor, at)).collect();
    let table: Vec<Case<'_>> =
        cases.iter().zip(&records).map(|((_, _, expected), record)| (rule, record.as_str(), *expected)).collect();
    check_cases_with_data(EFFECTIVE_PREAMBLE, &[("data/deprioritized.csv", DEPRIORITIZED_CSV)], &table);
}

#[test]
fn missing_event_time_value_is_an_error() {
    let rule = "outcome.vendor not in deprioritized";
    check_cases_with_data(
        EFFECTIVE_PREAMBLE,
        &[("data/deprioritized.csv", DEPRIORITIZED_CSV)],
        &[
            (rule, r#"{"outcome": {"vendor": "V-1"}}"#, "error: `outcome.created_at`"),
            (
                rule,
                r#"{"outcome": {"vendor": "V-1", "created_at": "last tuesday"}}"#,
                "error: not an RFC 3339 timestamp",
            ),
            (rule, r#"{"outcome": {"vendor": "V-1", "created_at": 20250601}}"#, "error: not a timestamp"),
            (rule, r#"{"outcome": {"vendor": "V-1", "created_at": null}}"#, "error: event time"),
            // The event time is needed even when the `when` condition alone would skip the run.
            (
                "when outcome.vendor in deprioritized\nexpect false",
                r#"{"outcome": {"vendor": "V-9"}}"#,
                "error: `outcome.created_at`",
            ),
        ],
    );
}

#[test]
fn membership_evidence_has_row_validity() {
    let policy = format!("{EFFECTIVE_PREAMBLE}rule r {{ expect outcome.vendor not in deprioritized }}\n");
    let data = [("data/deprioritized.csv", DEPRIORITIZED_CSV)];
    let verdict = evaluate_rule(&policy, &data, &vendor_record("V-2", "2025-05-20T10:00:00+02:00"));

    assert_eq!(verdict.verdict, Verdict::Fail);
    let memberships = observations_of_kind(&verdict, "membership");
    assert_eq!(memberships.len(), 1, "{memberships:?}");
    let membership = &memberships[0];
    assert_eq!(membership["value"], "V-2");
    assert_eq!(membership["table"], "deprioritized");
    assert_eq!(membership["found"], true);
    assert_eq!(membership["event_time"], "2025-05-20T08:00:00Z");
    assert_eq!(membership["row"]["file"], "data/deprioritized.csv");
    assert_eq!(membership["row"]["line"], 4);
    assert_eq!(membership["row"]["valid_from"], "2025-05-01");
    assert_eq!(membership["row"].get("valid_until"), None);
}

#[test]
fn membership_evidence_lists_rows_not_in_force() {
    let policy = format!("{EFFECTIVE_PREAMBLE}rule r {{ expect outcome.vendor in deprioritized }}\n");
    let data = [("data/deprioritized.csv", DEPRIORITIZED_CSV)];
    let verdict = evaluate_rule(&policy, &data, &vendor_record("V-2", "2025-04-01T00:00:00Z"));

    assert_eq!(verdict.verdict, Verdict::Fail);
    let memberships = observations_of_kind(&verdict, "membership");
    assert_eq!(memberships.len(), 1, "{memberships:?}");
    assert_eq!(memberships[0]["found"], false);
    let lines: Vec<&Json> =
        memberships[0]["rows_not_in_force"].as_array().unwrap().iter().map(|r| &r["line"]).collect();
    assert_eq!(lines, [3, 4]);
    assert_eq!(memberships[0]["rows_not_in_force"][0]["valid_until"], "2025-03-01");
}

const PRICE_BANDS_CSV: &str = "\
category,min,max
copy_paper,3.50,9.00
desks,150,1400
";

#[test]
fn table_lookup_and_unknown_key() {
    let preamble = "use \"data/price_bands.csv\" as price_bands key category";
    let band = "let band = price_bands[outcome.category]\nexpect outcome.unit_price between band.min and band.max";
    check_cases_with_data(
        preamble,
        &[("data/price_bands.csv", PRICE_BANDS_CSV)],
        &[
            (band, r#"{"outcome": {"category": "copy_paper", "unit_price": 3.50}}"#, "pass"),
            (band, r#"{"outcome": {"category": "copy_paper", "unit_price": 9.01}}"#, "fail"),
            (
                band,
                r#"{"outcome": {"category": "chairs", "unit_price": 5}}"#,
                "error: key `chairs` in table `price_bands` is missing",
            ),
            ("price_bands[outcome.category].max == 1400", r#"{"outcome": {"category": "desks"}}"#, "pass"),
            ("price_bands[\"desks\"].min == 150.00", "{}", "pass"),
            ("price_bands[outcome.category].max otherwise 0 == 0", r#"{"outcome": {"category": "chairs"}}"#, "pass"),
            (
                "price_bands[outcome.category].colour == \"red\"",
                r#"{"outcome": {"category": "desks"}}"#,
                "error: missing",
            ),
            ("outcome.category in price_bands", r#"{"outcome": {"category": "desks"}}"#, "pass"),
            ("outcome.category in price_bands", r#"{"outcome": {"category": "chairs"}}"#, "fail"),
            ("outcome.category in price_bands", r#"{"outcome": {"category": null}}"#, "fail"),
            (
                "outcome.category in price_bands",
                r#"{"outcome": {"category": ["desks"]}}"#,
                "error: table keys are text or numbers",
            ),
            (
                "when price_bands[outcome.category].max > 100\nexpect true",
                r#"{"outcome": {"category": "chairs"}}"#,
                "skip: field missing",
            ),
        ],
    );
}

#[test]
fn effective_lookup_uses_the_row_in_force() {
    let preamble =
        "use \"data/limits.csv\" as limits key workflow effective since..until\nevent time outcome.created_at";
    let csv = "workflow,limit,since,until\nprocurement,10000,2025-01-01,2025-10-01\nprocurement,15000,2025-10-01,\n";
    let rule = "outcome.total <= limits[\"procurement\"].limit";
    check_cases_with_data(
        preamble,
        &[("data/limits.csv", csv)],
        &[
            (rule, r#"{"outcome": {"total": 12000, "created_at": "2025-09-30T23:59:59Z"}}"#, "fail"),
            (rule, r#"{"outcome": {"total": 12000, "created_at": "2025-10-01T00:00:00Z"}}"#, "pass"),
            (
                rule,
                r#"{"outcome": {"total": 1, "created_at": "2024-12-31T00:00:00Z"}}"#,
                "error: valid from 2025-01-01 until 2025-10-01",
            ),
        ],
    );
}

#[test]
fn sets_from_csv_json_and_yaml() {
    let preamble = "\
use \"data/skus.csv\" as skus
use \"data/regions.json\" as regions
use \"data/vendors.yaml\" as vendors key vendor_id
use \"data/by_id.json\" as by_id
";
    let data = [
        ("data/skus.csv", "sku\nABC-00001\nABC-00002\n"),
        ("data/regions.json", r#"["eu", "us"]"#),
        ("data/vendors.yaml", "- vendor_id: V-1\n  name: Alpha\n- vendor_id: V-2\n  name: Beta\n"),
        ("data/by_id.json", r#"{"V-17": {"status": "blocked"}, "V-18": {"status": "ok"}}"#),
    ];
    check_cases_with_data(
        preamble,
        &data,
        &[
            ("outcome.sku in skus", r#"{"outcome": {"sku": "ABC-00002"}}"#, "pass"),
            ("outcome.sku in skus", r#"{"outcome": {"sku": "ABC-00003"}}"#, "fail"),
            ("outcome.region in regions", r#"{"outcome": {"region": "eu"}}"#, "pass"),
            ("vendors[outcome.vendor].name == \"Beta\"", r#"{"outcome": {"vendor": "V-2"}}"#, "pass"),
            ("by_id[outcome.vendor].status == \"blocked\"", r#"{"outcome": {"vendor": "V-17"}}"#, "pass"),
            ("outcome.vendor not in by_id", r#"{"outcome": {"vendor": "V-19"}}"#, "pass"),
        ],
    );
}

#[test]
fn csv_cells_get_types() {
    let preamble = "use \"data/t.csv\" as t key code";
    let csv = "code,count,active,note,zip\nA,3,true,,007\nB,2.50,false,hello,10\n";
    check_cases_with_data(
        preamble,
        &[("data/t.csv", csv)],
        &[
            ("t[\"A\"].count == 3", "{}", "pass"),
            ("t[\"B\"].count == 2.5", "{}", "pass"),
            ("t[\"A\"].active == true", "{}", "pass"),
            ("t[\"A\"].note is null", "{}", "pass"),
            ("t[\"B\"].note == \"hello\"", "{}", "pass"),
            // A leading zero keeps the cell text.
            ("t[\"A\"].zip == \"007\"", "{}", "pass"),
            ("t[\"B\"].zip == 10", "{}", "pass"),
        ],
    );
}

// ---------------------------------------------------------------- limits

#[test]
fn evaluation_budget_ends_runaway_rule() {
    let items: Vec<String> = (0..3_000).map(|i| i.to_string()).collect();
    let record = format!(r#"{{"outcome": {{"items": [{}]}}}}"#, items.join(","));
    let policy = "rule r { expect all a in outcome.items satisfies all b in outcome.items satisfies a <= b + 1000000 }";
    let set = compile_ok(policy, &[]);
    let record = json(&record);

    let started = Instant::now();
    let verdict = eval::evaluate_one(&set, &record, 0);
    let elapsed = started.elapsed();

    assert_eq!(verdict.verdict, Verdict::Error);
    let message = error_message(&verdict).unwrap();
    assert_eq!(message, format!("evaluation stopped after {EVALUATION_BUDGET} steps on this run"));
    assert!(elapsed < Duration::from_secs(30), "the rule took {elapsed:?}");

    // The projecting reader's fast evaluation gives up and leaves the error to the general one.
    let projected = batch::decide_text(&set, &Projection::of(&set), record.to_string().as_bytes()).unwrap();
    assert_eq!(projected[0].verdict, Verdict::Error);
}

#[test]
fn evaluation_budget_is_per_rule() {
    let items: Vec<String> = (0..1_500).map(|i| i.to_string()).collect();
    let record = format!(r#"{{"outcome": {{"items": [{}]}}}}"#, items.join(","));
    // Each rule alone stays under the budget (1,500 x 1,500 elements); together they would not.
    let rule = "expect all a in outcome.items satisfies any b in outcome.items satisfies b >= a";
    let policy = format!("rule one {{ {rule} }}\nrule two {{ {rule} }}\nrule three {{ {rule} }}\n");
    let set = compile_ok(&policy, &[]);

    let verdicts = eval::evaluate(&set, &json(&record));
    let projected = batch::decide_text(&set, &Projection::of(&set), record.as_bytes()).unwrap();

    let names: Vec<&str> = verdicts.iter().map(|v| v.verdict.as_str()).collect();
    assert_eq!(names, ["pass", "pass", "pass"]);
    let names: Vec<&str> = projected.iter().map(|v| v.verdict.as_str()).collect();
    assert_eq!(names, ["pass", "pass", "pass"]);
}

// ---------------------------------------------------------------- known bugs

#[test]
fn percent_tolerance_through_a_let() {
    check_cases(&[
        ("let tolerance = 2%\nexpect outcome.total == 200 within tolerance", r#"{"outcome": {"total": 204}}"#, "pass"),
        ("let tolerance = 2%\nexpect outcome.total within tolerance of 200", r#"{"outcome": {"total": 196}}"#, "pass"),
    ]);
}

#[test]
fn first_does_not_skip_an_erroring_filter() {
    // Element 0 has no `name`, so it may be the first review; `last` reports that as an error.
    let record = r#"{"steps": [{"kind": "message"}, {"name": "review"}, {"name": "submit"}]}"#;
    check_cases(&[
        ("(last s in steps where s.name == \"review\").name == \"review\"", record, "error: `s.name`"),
        ("(first s in steps where s.name == \"review\").name == \"review\"", record, "error: `s.name`"),
    ]);
}

#[test]
fn huge_number_field_exists() {
    check_cases(&[("outcome.n exists", r#"{"outcome": {"n": 123456789012345678901234567890}}"#, "pass")]);
}

#[test]
fn validity_evidence_keeps_the_time_of_day() {
    let csv = "vendor_id,since,until\nV-1,2025-06-01T12:00:00Z,2025-07-01T00:30:00+02:00\n";
    let policy = format!("{EFFECTIVE_PREAMBLE}rule r {{ expect outcome.vendor not in deprioritized }}\n");
    let verdict =
        evaluate_rule(&policy, &[("data/deprioritized.csv", csv)], &vendor_record("V-1", "2025-06-15T00:00:00Z"));

    assert_eq!(verdict.verdict, Verdict::Fail);
    let membership = &observations_of_kind(&verdict, "membership")[0];
    assert_eq!(membership["row"]["valid_from"], "2025-06-01T12:00:00Z");
    assert_eq!(membership["row"]["valid_until"], "2025-06-30T22:30:00Z");
}

#[test]
fn entered_at_skips_unrelated_equal_numbers() {
    let record = r#"{
        "steps": [{"name": "get_reservation", "output": {"total_baggages": 0}}],
        "outcome": {"reward": 0}
    }"#;
    let verdict = evaluate_rule("rule r { expect outcome.reward == 1 }", &[], record);

    assert_eq!(verdict.verdict, Verdict::Fail);
    let entered_at = verdict.explanation.as_ref().unwrap().entered_at.as_ref();
    assert!(entered_at.is_none(), "{entered_at:?}");
}

#[test]
fn entered_at_finds_the_step_that_produced_a_value() {
    let record = r#"{
        "steps": [
            {"name": "search", "output": {"vendors": ["V-01", "V-17"]}},
            {"name": "vendor_selection", "output": {"vendor": {"id": "V-17"}}}
        ],
        "outcome": {"vendor_id": "V-17"}
    }"#;
    let verdict = evaluate_rule("rule r { expect outcome.vendor_id != \"V-17\" }", &[], record);

    let entered_at = verdict.explanation.as_ref().unwrap().entered_at.as_ref().expect("a step");
    assert_eq!(entered_at.index, 0);
    assert_eq!(entered_at.path, "output.vendors[1]");
    assert_eq!(entered_at.expression, "outcome.vendor_id");
}

#[test]
fn projecting_reader_rejects_what_the_standard_reader_rejects() {
    // The projecting reader keeps the fields rules read and skips the rest, checking both.
    // A lone surrogate, invalid UTF-8 or deep nesting rejects the line with the standard
    // reader's reason wherever it is, so no rule reads a wrong value and the two readers
    // count the same lines as rejected.
    let set = compile_ok("rule r { expect outcome.vendor == \"V-1\" }", &[]);
    let projection = Projection::of(&set);
    let deep = format!("{}{}", "[".repeat(130), "]".repeat(130));
    let mut records: Vec<Vec<u8>> = Vec::new();
    for field in ["vendor", "unread"] {
        records.push(format!(r#"{{"outcome": {{"{field}": "V-\ud800"}}}}"#).into_bytes());
        records.push([format!(r#"{{"outcome": {{"{field}": "V-"#).as_bytes(), b"\xff\"}}"].concat());
        records.push(format!(r#"{{"outcome": {{"{field}": {deep}}}}}"#).into_bytes());
    }
    for record in &records {
        let standard = semslo::input::parse_json_line(record).unwrap_err();
        let projected = batch::decide_text(&set, &projection, record).unwrap_err();
        assert_eq!(projected, standard, "{}", String::from_utf8_lossy(record));
    }

    let escaped = batch::decide_text(&set, &projection, br#"{"outcome": {"vendor": "V-\u0031"}}"#).unwrap();
    assert_eq!(escaped[0].verdict, Verdict::Pass);
}
