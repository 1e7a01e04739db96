//! `semslo report` and the SLO section of `semslo check`, run as the real binary on
//! the procurement example in every format.

use std::path::Path;
use std::process::{Command, Output};

use quick_xml::Reader;
use quick_xml::events::Event;
use serde_json::Value as Json;

const POLICY: &str = "policies/procurement";
const RUNS: &str = "examples/procurement/runs.jsonl";

fn semslo(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_semslo"))
        .args(args)
        .env("NO_COLOR", "1")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("the semslo binary runs")
}

fn report(format: &str) -> Output {
    semslo(&["report", "--policy", POLICY, "--records", RUNS, "--format", format])
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).expect("output is UTF-8")
}

/// Replaces the policy-set hash, which changes with every edit of the policy or
/// its data, so snapshots show only what the report computes.
fn scrub(text: &str) -> String {
    let hash = regex::Regex::new(r"sha256:[0-9a-f]{64}").unwrap();
    hash.replace_all(text, "sha256:[hash]").into_owned()
}

#[test]
fn text_report_matches_snapshot() {
    let output = report("text");
    assert_eq!(output.status.code(), Some(1), "{}", String::from_utf8_lossy(&output.stderr));
    insta::assert_snapshot!("procurement_text", scrub(&stdout(&output)));
}

#[test]
fn json_report_matches_snapshot() {
    let output = report("json");
    assert_eq!(output.status.code(), Some(1));
    let json: Json = serde_json::from_str(&stdout(&output)).expect("the report is JSON");
    assert_eq!(json["schema"], "semslo.report.v1");
    insta::assert_snapshot!("procurement_json", scrub(&stdout(&output)));
}

#[test]
fn markdown_report_matches_snapshot() {
    let output = report("markdown");
    assert_eq!(output.status.code(), Some(1));
    insta::assert_snapshot!("procurement_markdown", scrub(&stdout(&output)));
}

#[test]
fn junit_report_matches_snapshot() {
    let output = report("junit");
    assert_eq!(output.status.code(), Some(1));
    insta::assert_snapshot!("procurement_junit", scrub(&stdout(&output)));
}

#[test]
fn procurement_report_shows_the_key_numbers() {
    let json: Json = serde_json::from_str(&stdout(&report("json"))).unwrap();
    let slo = &json["slos"][0];
    assert_eq!(slo["name"], "purchase_orders_correct");
    assert_eq!(slo["status"], "missed");
    assert_eq!(slo["window"]["written"], "28d");
    let contrast = &slo["contrast"][0];
    assert_eq!(contrast["workflow"], "procurement");
    assert_eq!(contrast["measured_end_to_end"]["value"].to_string(), "0.823");
    assert!(contrast["step_success"]["value"].as_f64().unwrap() > 0.99);
    assert!(slo["checkpoints"]["reviews"].as_u64().unwrap() > 0);
    assert_eq!(slo["labels"]["labelled_runs"], 312);
    assert_eq!(slo["costs"]["currency"], "USD");

    let quarter = &json["slos"][1];
    assert_eq!(quarter["window"]["written"], "calendar quarter");
    assert_eq!(quarter["window"]["time_zone"], "America/New_York");
    assert_eq!(quarter["alerts"]["source"], "default");
    assert_eq!(quarter["alerts"]["scaling"]["slo_window"], "90d");
}

#[test]
fn junit_report_is_well_formed_xml() {
    let xml = stdout(&report("junit"));
    let mut reader = Reader::from_str(&xml);
    reader.config_mut().check_end_names = true;
    let mut depth = 0usize;
    let mut testcases = 0usize;
    let mut failures = 0usize;
    loop {
        match reader.read_event() {
            Ok(Event::Start(element)) => {
                depth += 1;
                match element.name().as_ref() {
                    b"testcase" => testcases += 1,
                    b"failure" => failures += 1,
                    _ => {}
                }
            }
            Ok(Event::Empty(element)) => {
                if element.name().as_ref() == b"testcase" {
                    testcases += 1;
                }
            }
            Ok(Event::End(_)) => depth -= 1,
            Ok(Event::Eof) => break,
            Ok(_) => {}
            Err(error) => panic!("invalid XML at byte {}: {error}", reader.buffer_position()),
        }
    }
    assert_eq!(depth, 0, "every element is closed");
    // One case per SLO and one per rule and run that failed or errored (189 + 17).
    assert_eq!(testcases, 2 + 189 + 17);
    // Both SLOs miss their objectives, and every enforced failure is a <failure>.
    assert_eq!(failures, 2 + 189);
}

#[test]
fn html_report_is_self_contained() {
    let output = report("html");
    assert_eq!(output.status.code(), Some(1));
    let html = stdout(&output);
    assert!(html.starts_with("<!doctype html>"));
    assert!(html.trim_end().ends_with("</html>"));
    for forbidden in ["http://", "https://", "<script", "<link", "@import", "url(", "src="] {
        assert!(!html.contains(forbidden), "the page contains `{forbidden}`");
    }
    assert!(html.contains("<style>"));
    assert!(html.matches("<svg").count() >= 8, "two line charts and three bar charts per SLO");
    assert!(html.contains("SLI per day against the objective"));
    assert!(html.contains("Error budget remaining"));
    assert!(html.contains("Bad runs by rule"));
    assert!(html.contains("Bad runs by segment"));
}

#[test]
fn output_option_writes_the_report_to_a_file() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("report.md");
    let output = semslo(&[
        "report",
        "--policy",
        POLICY,
        "--records",
        RUNS,
        "--format",
        "markdown",
        "--output",
        path.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(1));
    assert!(output.stdout.is_empty());
    let written = std::fs::read_to_string(&path).unwrap();
    assert!(written.starts_with("# semslo report"));
}

#[test]
fn at_option_moves_every_window() {
    let output = semslo(&[
        "report",
        "--policy",
        POLICY,
        "--records",
        RUNS,
        "--format",
        "json",
        "--at",
        "2025-07-01T00:00:00+02:00",
    ]);
    let json: Json = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(json["at"], "2025-06-30T22:00:00Z");
    assert_eq!(json["at_source"], "argument");
    assert_eq!(json["slos"][0]["window"]["start"], "2025-06-02T22:00:00Z");
    assert_eq!(json["slos"][1]["window"]["start"], "2025-04-01T04:00:00Z");
}

#[test]
fn invalid_at_is_a_usage_error() {
    let output = semslo(&["report", "--policy", POLICY, "--records", RUNS, "--at", "yesterday"]);
    assert_eq!(output.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&output.stderr).contains("RFC 3339"));
}

#[test]
fn invalid_policy_exits_2() {
    let directory = tempfile::tempdir().unwrap();
    let policy = directory.path().join("broken.slo");
    std::fs::write(&policy, "slo broken { objective 150% over 28d }\n").unwrap();
    let output = semslo(&["report", "--policy", policy.to_str().unwrap(), "--records", RUNS]);
    assert_eq!(output.status.code(), Some(2));
}

/// Writes a policy with one rule on `outcome.total` and one SLO of 90 % into `directory`.
fn write_totals_policy(directory: &Path) -> std::path::PathBuf {
    let policy = directory.join("totals.slo");
    std::fs::write(
        &policy,
        "event time outcome.created_at\n\
         rule has_total { expect outcome.total > 0 }\n\
         slo orders { objective 90% over 28d }\n",
    )
    .unwrap();
    policy
}

#[test]
fn met_slo_without_violations_exits_0() {
    let directory = tempfile::tempdir().unwrap();
    let policy = write_totals_policy(directory.path());
    let output = semslo(&["report", "--policy", policy.to_str().unwrap(), "--records", RUNS]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    assert!(stdout(&output).contains("met: SLI 100.00% is at or above the objective 90%"));
}

#[test]
fn runs_without_steps_say_so() {
    let directory = tempfile::tempdir().unwrap();
    let policy = write_totals_policy(directory.path());
    let runs = directory.path().join("runs.jsonl");
    std::fs::write(&runs, "{\"run_id\":\"a\",\"outcome\":{\"total\":1,\"created_at\":\"2025-03-01T00:00:00Z\"}}\n")
        .unwrap();
    let output = semslo(&["report", "--policy", policy.to_str().unwrap(), "--records", runs.to_str().unwrap()]);
    assert!(stdout(&output).contains("steps: none in these runs\n"), "{}", stdout(&output));
}

#[test]
fn missed_slo_alone_exits_1() {
    let directory = tempfile::tempdir().unwrap();
    let policy = directory.path().join("shadow.slo");
    // A shadow rule never fails the check, but a SLO that counts it can miss.
    std::fs::write(
        &policy,
        "event time outcome.created_at\n\
         rule cheap { mode shadow\n expect outcome.total < 1000 }\n\
         slo cheap_orders { objective 99% over 28d\n good when rules cheap pass }\n",
    )
    .unwrap();
    let output = semslo(&["check", "--policy", policy.to_str().unwrap(), "--records", RUNS]);
    assert_eq!(output.status.code(), Some(1), "{}", stdout(&output));
    assert!(stdout(&output).contains("slo cheap_orders"));
}

#[test]
fn check_text_gains_the_slo_section() {
    let output = semslo(&["check", "--policy", POLICY, "--records", RUNS]);
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    let rules = text.find("rule                                severity").expect("the rule table");
    let slo =
        text.find("slo purchase_orders_correct: Purchase orders match procurement intent").expect("the SLO section");
    let footer = text.find("records: 1000 read").expect("the input footer");
    assert!(rules < slo, "the SLO section follows the rule table");
    assert!(slo < footer, "the SLO section precedes the input footer");
    assert!(text.contains("  status     missed: SLI "));
    assert!(text.contains("  alerts     none declared, so the SRE Workbook defaults for a 30d window"));
}

#[test]
fn check_json_gains_a_slos_field() {
    let output = semslo(&["check", "--policy", POLICY, "--records", RUNS, "--format", "json"]);
    let json: Json = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(json["schema"], "semslo.check.v1");
    let slos = json["slos"].as_array().expect("a slos array");
    assert_eq!(slos.len(), 2);
    assert_eq!(slos[0]["name"], "purchase_orders_correct");
    assert!(slos[0]["sli"]["value"].is_number());
    assert!(json["violations"].is_array(), "existing fields stay");
}

#[test]
fn check_without_slos_leaves_the_output_unchanged() {
    let directory = tempfile::tempdir().unwrap();
    let policy = directory.path().join("plain.slo");
    std::fs::write(&policy, "rule has_total { expect outcome.total > 0 }\n").unwrap();
    let output = semslo(&["check", "--policy", policy.to_str().unwrap(), "--records", RUNS, "--format", "json"]);
    let json: Json = serde_json::from_str(&stdout(&output)).unwrap();
    assert!(json.get("slos").is_none());
    let text = stdout(&semslo(&["check", "--policy", policy.to_str().unwrap(), "--records", RUNS]));
    assert!(!text.contains("\nslo "), "{text}");
}

#[test]
fn report_reads_standard_input() {
    let runs = std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join(RUNS)).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_semslo"))
        .args(["report", "--policy", POLICY, "--records", "-", "--format", "json"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(&runs).unwrap();
    let output = child.wait_with_output().unwrap();
    let json: Json = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(json["input"]["records_checked"], 1000);
}
