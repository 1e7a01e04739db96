//! `semslo check` as users run it: the real binary, `NO_COLOR=1`, the working
//! directory set to the fixture folder `tests/data/cli` so that paths in the output
//! are relative and stable. Outputs are snapshotted with the policy hash scrubbed.
//!
//! The fixture folder contains:
//! - `policy/orders.slo`: four rules, one in `warn` mode, reading the
//!   effective-dated `policy/data/blocked_vendors.csv`. `policy/data/vendors.csv`
//!   is not read here: `tests/data/parse/data_outside_policy.slo` points at it from
//!   outside the folder.
//! - `runs.jsonl`: five runs and one malformed line. The runs are a clean order, a
//!   blocked vendor, a run judged before the block applied, a missing `unit_price`
//!   with a bad SKU, and a review after submission without `outcome.type`.
//! - `runs-clean.jsonl`: the two runs that pass every rule.
//! - `malformed-only.jsonl`: one malformed line.
//! - `broken/broken.slo`: a syntax error in one rule and an unknown function in another.
//! - `airline/airline.slo`: rules for the tau-bench sample in `tests/data/tau-bench`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use regex::Regex;
use serde_json::Value as Json;

/// Exit statuses of `semslo check`, as documented in the README.
const EXIT_SUCCESS: i32 = 0;
const EXIT_VIOLATIONS: i32 = 1;
const EXIT_INVALID_POLICY: i32 = 2;
const EXIT_INVALID_INPUT: i32 = 3;

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/cli")
}

fn command(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_semslo"));
    command.args(args).current_dir(fixture_dir()).env("NO_COLOR", "1");
    command
}

fn semslo(args: &[&str]) -> Output {
    command(args).output().unwrap()
}

/// Runs `semslo` in `directory` instead of the fixture folder.
fn semslo_in(directory: &Path, args: &[&str]) -> Output {
    command(args).current_dir(directory).output().unwrap()
}

fn semslo_with_stdin(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = command(args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    child.wait_with_output().unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}

/// Asserts the exit status, showing both streams when it differs.
fn assert_status(output: &Output, expected: i32) {
    assert_eq!(
        output.status.code(),
        Some(expected),
        "status {:?}\n--- stdout\n{}\n--- stderr\n{}",
        output.status,
        stdout(output),
        stderr(output)
    );
}

/// Replaces the policy-set hash, which changes whenever a fixture file does, and
/// the crate's absolute path.
fn scrub(text: &str) -> String {
    let hash = Regex::new("sha256:[0-9a-f]{64}").unwrap();
    let scrubbed = hash.replace_all(text, "sha256:[HASH]");
    scrubbed.replace(env!("CARGO_MANIFEST_DIR"), "[ROOT]")
}

fn check(records: &str, format: &str) -> Output {
    semslo(&["check", "--policy", "policy", "--records", records, "--format", format])
}

// ---------------------------------------------------------------- reports

#[test]
fn text_report_exits_1() {
    let output = check("runs.jsonl", "text");

    assert_status(&output, EXIT_VIOLATIONS);
    assert_eq!(stderr(&output), "");
    insta::assert_snapshot!(scrub(&stdout(&output)));
}

#[test]
fn json_report_matches_snapshot() {
    let output = check("runs.jsonl", "json");

    assert_status(&output, EXIT_VIOLATIONS);
    insta::assert_snapshot!(scrub(&stdout(&output)));
}

#[test]
fn json_report_counts_and_hashes() {
    let output = check("runs.jsonl", "json");
    let report: Json = serde_json::from_str(&stdout(&output)).unwrap();

    assert_eq!(report["schema"], "semslo.check.v1");
    assert_eq!(report["policy"]["files"], serde_json::json!(["policy/orders.slo"]));
    assert_eq!(report["input"]["records_read"], 6);
    assert_eq!(report["input"]["records_checked"], 5);
    assert_eq!(report["input"]["records_rejected"], 1);
    assert_eq!(report["input"]["rejected"][0]["line"], 5);
    assert_eq!(report["labelled_runs"], 4);

    let hash = report["policy"]["hash"].as_str().unwrap();
    assert!(Regex::new("^sha256:[0-9a-f]{64}$").unwrap().is_match(hash), "{hash}");
    let violations = report["violations"].as_array().unwrap();
    let summary: Vec<(&str, &str, &str)> = violations
        .iter()
        .map(|v| (v["run_id"].as_str().unwrap(), v["rule"].as_str().unwrap(), v["verdict"].as_str().unwrap()))
        .collect();
    assert_eq!(
        summary,
        [
            ("run-002", "vendor_not_blocked", "fail"),
            ("run-004", "total_matches_lines", "error"),
            ("run-004", "sku_format", "fail"),
            ("run-006", "large_orders_reviewed", "fail"),
        ]
    );
    for violation in violations {
        assert_eq!(violation["policy_hash"], hash);
    }
}

#[test]
fn json_report_explains_a_blocked_vendor() {
    let output = check("runs.jsonl", "json");
    let report: Json = serde_json::from_str(&stdout(&output)).unwrap();
    let violation = &report["violations"][0];

    assert_eq!(violation["record"], "runs.jsonl:2");
    assert_eq!(violation["expects"][0]["line"], 13);
    assert_eq!(violation["expects"][0]["outcome"], "false");
    let membership = violation["observations"].as_array().unwrap().iter().find(|o| o["kind"] == "membership").unwrap();
    assert_eq!(membership["row"]["file"], "data/blocked_vendors.csv");
    assert_eq!(membership["row"]["line"], 2);
    assert_eq!(membership["row"]["valid_from"], "2025-06-01");
    // 10:30 at +02:00 is 08:30 UTC.
    assert_eq!(membership["event_time"], "2025-07-01T08:30:00Z");
    assert_eq!(violation["entered_at"]["index"], 0);
    assert_eq!(violation["entered_at"]["name"], "vendor_selection");
    assert_eq!(violation["entered_at"]["path"], "output.vendor_id");
}

#[test]
fn json_report_names_the_missing_field() {
    let output = check("runs.jsonl", "json");
    let report: Json = serde_json::from_str(&stdout(&output)).unwrap();
    let violation = &report["violations"][1];

    assert_eq!(violation["verdict"], "error");
    assert_eq!(violation["expects"][0]["outcome"], "error");
    assert_eq!(violation["expects"][0]["message"], "field `outcome.unit_price` is missing");
}

#[test]
fn rule_summary_counts_every_verdict() {
    let output = check("runs.jsonl", "json");
    let report: Json = serde_json::from_str(&stdout(&output)).unwrap();
    let counts = |name: &str| {
        let rule = report["rules"].as_array().unwrap().iter().find(|r| r["name"] == name).unwrap();
        ["pass", "fail", "skip_condition_false", "skip_field_missing", "error"].map(|key| rule[key].as_u64().unwrap())
    };

    assert_eq!(counts("vendor_not_blocked"), [3, 1, 0, 1, 0]);
    assert_eq!(counts("total_matches_lines"), [4, 0, 0, 0, 1]);
    assert_eq!(counts("large_orders_reviewed"), [1, 1, 3, 0, 0]);
    assert_eq!(counts("sku_format"), [4, 1, 0, 0, 0]);
}

#[test]
fn limit_hides_violations_past_it() {
    let output = semslo(&["check", "--policy", "policy", "--records", "runs.jsonl", "--limit", "1"]);

    assert_status(&output, EXIT_VIOLATIONS);
    let text = stdout(&output);
    assert_eq!(text.matches("on run run-").count(), 1, "{text}");
    assert!(text.contains("... and 3 more violations not shown"), "{text}");
}

#[test]
fn limit_keeps_details_of_shown_violations() {
    let all = stdout(&semslo(&["check", "--policy", "policy", "--records", "runs.jsonl", "--limit", "0"]));
    let limited = stdout(&semslo(&["check", "--policy", "policy", "--records", "runs.jsonl", "--limit", "2"]));

    // The two violations shown print exactly as they do when every violation is shown.
    let violations = |text: &str| -> Vec<String> {
        text.split("\n\n").filter(|block| block.contains("on run run-")).map(str::to_string).collect()
    };
    assert_eq!(violations(&limited), violations(&all)[..2].to_vec());
    assert!(limited.contains("... and 2 more violations not shown"), "{limited}");
}

/// Writes a one-rule policy, and `runs.jsonl` with `failing` runs that break it, into a
/// new folder.
fn failing_runs(failing: usize) -> tempfile::TempDir {
    let directory = tempfile::tempdir().unwrap();
    std::fs::write(directory.path().join("orders.slo"), "rule total_positive {\n  expect outcome.total > 0\n}\n")
        .unwrap();
    let runs: String =
        (0..failing).map(|i| format!("{{\"run_id\":\"r{i}\",\"outcome\":{{\"total\":-1}}}}\n")).collect();
    std::fs::write(directory.path().join("runs.jsonl"), runs).unwrap();
    directory
}

#[test]
fn limit_zero_lists_past_kept_cap() {
    // 10,000 violations are kept by default, and `--limit 0` requests every one.
    let directory = failing_runs(10_005);
    let check = |extra: &[&str]| {
        let mut args = vec!["check", "--policy", "orders.slo", "--records", "runs.jsonl"];
        args.extend_from_slice(extra);
        let output = semslo_in(directory.path(), &args);
        assert_status(&output, EXIT_VIOLATIONS);
        stdout(&output)
    };

    let text = check(&["--limit", "0"]);
    assert_eq!(text.matches("total_positive (major) on run r").count(), 10_005);
    assert!(!text.contains("not shown"), "{}", &text[text.len() - 2_000..]);

    let listed = |json: &str| -> (usize, u64) {
        let report: Json = serde_json::from_str(json).unwrap();
        (report["violations"].as_array().unwrap().len(), report["violations_not_listed"].as_u64().unwrap())
    };
    assert_eq!(listed(&check(&["--format", "json", "--limit", "0"])), (10_005, 0));
    assert_eq!(listed(&check(&["--format", "json"])), (10_000, 5));

    let text = check(&[]);
    assert!(
        text.contains("... and 9955 more violations not shown (use `--limit 0` to show all)"),
        "{}",
        &text[..2_000]
    );
}

#[test]
fn shadow_violations_past_cap_counted_apart() {
    let directory = failing_runs(10_050);
    let policy = "rule total_positive {\n  expect outcome.total > 0\n}\n\n\
                  rule total_large {\n  mode shadow\n  expect outcome.total > 100\n}\n";
    std::fs::write(directory.path().join("orders.slo"), policy).unwrap();

    let output = semslo_in(directory.path(), &["check", "--policy", "orders.slo", "--records", "runs.jsonl"]);
    let text = stdout(&output);
    // 50 of the 10,050 enforced violations are shown, and the shadow rule's are counted apart.
    assert!(text.contains("... and 10000 more violations not shown"), "{}", &text[..3_000]);
    assert!(text.contains("10050 violations of shadow-mode rules are counted below but not listed"));
}

#[test]
fn empty_run_id_falls_back_to_location() {
    let directory = failing_runs(1);
    std::fs::write(directory.path().join("runs.jsonl"), "{\"run_id\":\"\",\"outcome\":{\"total\":-1}}\n").unwrap();

    let output = semslo_in(directory.path(), &["check", "--policy", "orders.slo", "--records", "runs.jsonl"]);
    assert!(stdout(&output).contains("on run runs.jsonl:1 (runs.jsonl:1)"), "{}", stdout(&output));

    // A blank or null `run_id` gives way to `id`.
    let runs = "{\"run_id\":\" \",\"id\":\"alt-1\",\"outcome\":{\"total\":-1}}\n\
                {\"run_id\":null,\"id\":7,\"outcome\":{\"total\":-1}}\n";
    std::fs::write(directory.path().join("runs.jsonl"), runs).unwrap();
    let output = semslo_in(directory.path(), &["check", "--policy", "orders.slo", "--records", "runs.jsonl"]);
    assert!(stdout(&output).contains("on run alt-1 (runs.jsonl:1)"), "{}", stdout(&output));
    assert!(stdout(&output).contains("on run 7 (runs.jsonl:2)"), "{}", stdout(&output));
}

#[test]
fn directory_as_json_lines_is_named() {
    let directory = failing_runs(1);
    std::fs::create_dir(directory.path().join("runs.d.jsonl")).unwrap();

    let output = semslo_in(directory.path(), &["check", "--policy", "orders.slo", "--records", "runs.d.jsonl"]);
    assert_status(&output, EXIT_INVALID_INPUT);
    assert!(stderr(&output).contains("semslo::input::is_directory"), "{}", stderr(&output));
}

// ---------------------------------------------------------------- exit statuses

#[test]
fn counts_format_keeps_slo_exit_status() {
    // The only rule warns, so the missed SLO alone makes the exit status 1.
    let directory = tempfile::tempdir().unwrap();
    let policy = "event time outcome.created_at\n\n\
        rule total_positive {\n  mode warn\n  expect outcome.total > 0\n}\n\n\
        slo orders_correct {\n  objective 99% over 28d\n  valid when true\n  good when all rules pass\n}\n";
    std::fs::write(directory.path().join("orders.slo"), policy).unwrap();
    let runs: String = (0..10)
        .map(|i| {
            let day = i + 1;
            format!(
                "{{\"run_id\":\"r{i}\",\"outcome\":{{\"created_at\":\"2025-03-{day:02}T10:00:00Z\",\"total\":{}}}}}\n",
                i % 2
            )
        })
        .collect();
    std::fs::write(directory.path().join("runs.jsonl"), runs).unwrap();

    for format in ["counts", "text"] {
        let output = semslo_in(
            directory.path(),
            &["check", "--policy", "orders.slo", "--records", "runs.jsonl", "--format", format],
        );
        assert_status(&output, EXIT_VIOLATIONS);
    }
    let output = semslo_in(
        directory.path(),
        &["check", "--policy", "orders.slo", "--records", "runs.jsonl", "--format", "counts"],
    );
    assert!(stdout(&output).contains(r#""total_positive":5"#), "{}", stdout(&output));
}

#[test]
fn policy_without_rules_is_refused() {
    let directory = tempfile::tempdir().unwrap();
    std::fs::write(directory.path().join("shared.slo"), "let big_order = 10000\n").unwrap();
    std::fs::write(directory.path().join("runs.jsonl"), "{\"run_id\": \"r1\"}\n").unwrap();

    let output = semslo_in(directory.path(), &["check", "--policy", "shared.slo", "--records", "runs.jsonl"]);
    assert_status(&output, EXIT_INVALID_POLICY);
    assert!(stderr(&output).contains("the policy set has no rules"), "{}", stderr(&output));
    assert!(stdout(&output).is_empty(), "{}", stdout(&output));
}

#[test]
fn test_of_missing_path_prints_no_summary() {
    let output = semslo(&["test", "no/such/policies"]);
    assert_status(&output, EXIT_INVALID_POLICY);
    assert!(stdout(&output).is_empty(), "{}", stdout(&output));
    assert!(stderr(&output).contains("no/such/policies"), "{}", stderr(&output));
}

#[test]
fn lone_test_file_suggests_the_directory() {
    let tests_only = Path::new(env!("CARGO_MANIFEST_DIR")).join("policies/procurement/procurement_test.slo");
    let output = semslo(&["test", tests_only.to_str().unwrap()]);
    assert_status(&output, EXIT_INVALID_POLICY);
    assert!(stderr(&output).contains("pass the directory that"), "{}", stderr(&output));
}

#[test]
fn passing_runs_exit_0() {
    let output = check("runs-clean.jsonl", "text");

    assert_status(&output, EXIT_SUCCESS);
    let text = stdout(&output);
    assert!(text.contains("records: 2 read, 2 checked, 0 rejected"), "{text}");
    assert!(text.contains("verdicts: 0 fail, 0 error"), "{text}");
}

#[test]
fn warn_mode_violation_alone_exits_0() {
    let runs = std::fs::read_to_string(fixture_dir().join("runs-clean.jsonl")).unwrap();
    let bad_sku = runs.lines().next().unwrap().replace("ABC-00001", "abc-1");
    let output = semslo_with_stdin(&["check", "--policy", "policy", "--records", "-"], bad_sku.as_bytes());

    assert_status(&output, EXIT_SUCCESS);
    assert!(stdout(&output).contains("FAIL  sku_format (minor) [warn] on run run-001"), "{}", stdout(&output));
}

#[test]
fn shadow_mode_violation_alone_exits_0() {
    let directory = tempfile::tempdir().unwrap();
    let policy = "rule counted_only {\n  mode shadow\n  expect outcome.total > 100\n}\n";
    std::fs::write(directory.path().join("shadow.slo"), policy).unwrap();
    std::fs::write(directory.path().join("runs.jsonl"), "{\"run_id\": \"r1\", \"outcome\": {\"total\": 5}}\n").unwrap();
    let output = semslo_in(directory.path(), &["check", "--policy", "shadow.slo", "--records", "runs.jsonl"]);

    assert_status(&output, EXIT_SUCCESS);
    let text = stdout(&output);
    assert!(text.contains("verdicts: 1 fail, 0 error"), "{text}");
}

#[test]
fn policy_syntax_error_exits_2() {
    let output = semslo(&["check", "--policy", "broken", "--records", "runs.jsonl"]);

    assert_status(&output, EXIT_INVALID_POLICY);
    assert_eq!(stdout(&output), "");
    insta::assert_snapshot!(scrub(&stderr(&output)));
}

#[test]
fn policy_path_not_found_exits_2() {
    let output = semslo(&["check", "--policy", "no-such-policy", "--records", "runs.jsonl"]);

    assert_status(&output, EXIT_INVALID_POLICY);
    assert!(stderr(&output).contains("semslo::load::not_found"), "{}", stderr(&output));
}

#[test]
fn records_file_missing_exits_3() {
    let output = check("no-such-runs.jsonl", "text");

    assert_status(&output, EXIT_INVALID_INPUT);
    assert_eq!(stdout(&output), "");
    insta::assert_snapshot!(scrub(&stderr(&output)));
}

#[test]
fn only_malformed_records_exit_3() {
    let output = check("malformed-only.jsonl", "text");

    assert_status(&output, EXIT_INVALID_INPUT);
    let text = stdout(&output);
    assert!(text.contains("records: 1 read, 0 checked, 1 rejected"), "{text}");
    assert!(text.contains("rejected malformed-only.jsonl:1: "), "{text}");
}

/// Removes what names the input file or line, which differs between input forms.
fn without_locations(value: &mut Json) {
    match value {
        Json::Object(members) => {
            members.retain(|key, _| !matches!(key.as_str(), "record" | "location" | "file" | "line"));
            members.values_mut().for_each(without_locations);
        }
        Json::Array(items) => items.iter_mut().for_each(without_locations),
        _ => {}
    }
}

#[test]
fn json_lines_and_array_reports_agree() {
    // JSON Lines go through the projecting reader, a JSON array through the full one, so
    // this compares every verdict, violation and SLO figure the two readers produce.
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let lines_path = root.join("examples/procurement/runs.jsonl");
    let lines = std::fs::read_to_string(&lines_path).unwrap();
    let directory = tempfile::tempdir().unwrap();
    let array_path = directory.path().join("runs.json");
    let records: Vec<&str> = lines.lines().filter(|line| !line.trim().is_empty()).collect();
    std::fs::write(&array_path, format!("[\n{}\n]\n", records.join(",\n"))).unwrap();

    let policy = root.join("policies/procurement");
    let report = |records: &Path| -> Json {
        let args = ["check", "--policy", policy.to_str().unwrap(), "--records", records.to_str().unwrap()];
        let output = semslo(&[&args[..], &["--format", "json"]].concat());
        assert_status(&output, EXIT_VIOLATIONS);
        let mut value: Json = serde_json::from_slice(&output.stdout).unwrap();
        without_locations(&mut value);
        value
    };
    let (from_lines, from_array) = (report(&lines_path), report(&array_path));
    for key in ["input", "violations", "rules", "labelled_runs", "runs_without_violations", "slos"] {
        assert_eq!(from_lines[key], from_array[key], "`{key}` differs");
    }
}

#[test]
fn counts_format_lists_rejections_on_stderr() {
    let output = check("malformed-only.jsonl", "counts");

    assert_status(&output, EXIT_INVALID_INPUT);
    assert!(stdout(&output).starts_with("{\"total\":0,"), "{}", stdout(&output));
    let errors = stderr(&output);
    assert!(errors.contains("semslo: rejected malformed-only.jsonl:1: "), "{errors}");
    assert!(errors.contains("1 of 1 records were rejected as malformed"), "{errors}");
}

#[test]
fn zero_jobs_is_a_usage_error() {
    let output = semslo(&["check", "--policy", "policy", "--records", "runs.jsonl", "--jobs", "0"]);

    assert_status(&output, EXIT_INVALID_INPUT);
    assert!(stderr(&output).contains("'--jobs <N>'"), "{}", stderr(&output));
}

#[test]
fn malformed_record_with_violations_exits_1() {
    let output = check("runs.jsonl", "text");

    assert_status(&output, EXIT_VIOLATIONS);
    assert!(stdout(&output).contains("rejected runs.jsonl:5: "), "{}", stdout(&output));
}

// ---------------------------------------------------------------- input

#[test]
fn records_from_stdin() {
    let runs = std::fs::read(fixture_dir().join("runs.jsonl")).unwrap();
    let from_stdin = semslo_with_stdin(&["check", "--policy", "policy", "--records", "-"], &runs);
    let from_file = check("runs.jsonl", "text");

    assert_status(&from_stdin, EXIT_VIOLATIONS);
    assert_eq!(stdout(&from_stdin), stdout(&from_file).replace("runs.jsonl", semslo::input::STDIN_NAME));
}

#[test]
fn several_records_files_are_checked_in_order() {
    let output =
        semslo(&["check", "--policy", "policy", "--records", "runs-clean.jsonl", "runs.jsonl", "--format", "json"]);
    let report: Json = serde_json::from_str(&stdout(&output)).unwrap();

    assert_status(&output, EXIT_VIOLATIONS);
    assert_eq!(report["input"]["records_read"], 8);
    assert_eq!(report["violations"][0]["record"], "runs.jsonl:2");
}

#[test]
fn tau_bench_log_is_checked() {
    let sample = fixture_dir().join("../tau-bench/airline-sample.json");
    if !sample.exists() {
        eprintln!("skipped: {} is not in this checkout", sample.display());
        return;
    }
    let output = semslo(&[
        "check",
        "--policy",
        "airline",
        "--records",
        "../tau-bench/airline-sample.json",
        "--input-format",
        "tau-bench",
    ]);

    assert_status(&output, EXIT_VIOLATIONS);
    insta::assert_snapshot!(scrub(&stdout(&output)));
}

// ---------------------------------------------------------------- usage

#[test]
fn help_exits_0() {
    let output = semslo(&["--help"]);

    assert_status(&output, EXIT_SUCCESS);
    assert!(stdout(&output).contains("check"), "{}", stdout(&output));
}

#[test]
fn check_help_lists_the_options() {
    let output = semslo(&["check", "--help"]);

    assert_status(&output, EXIT_SUCCESS);
    let text = stdout(&output);
    for option in ["--policy", "--records", "--input-format", "--format", "--limit"] {
        assert!(text.contains(option), "`{option}` is not in:\n{text}");
    }
}

#[test]
fn unknown_flag_exits_3() {
    let output = semslo(&["check", "--policy", "policy", "--records", "runs.jsonl", "--frobnicate"]);

    assert_status(&output, EXIT_INVALID_INPUT);
    assert!(stderr(&output).contains("--frobnicate"), "{}", stderr(&output));
}

#[test]
fn missing_required_option_exits_3() {
    let output = semslo(&["check", "--policy", "policy"]);

    assert_status(&output, EXIT_INVALID_INPUT);
    assert!(stderr(&output).contains("--records"), "{}", stderr(&output));
}

#[test]
fn explain_lists_rejected_lines_when_run_missing() {
    // run-005 is on a line that cannot be read, so `explain` cannot find it. The rejected
    // lines are listed with their reasons, because "not found" alone would hide why.
    let output = semslo(&["explain", "--policy", "policy", "--records", "malformed-only.jsonl", "--run", "run-005"]);
    assert_status(&output, 3);
    let errors = stderr(&output);
    assert!(errors.contains("run `run-005` not found in 0 records of malformed-only.jsonl"), "{errors}");
    assert!(errors.contains("semslo: 1 record was rejected as malformed and not searched:"), "{errors}");
    assert!(errors.contains("  rejected malformed-only.jsonl:1: "), "{errors}");
}
