//! Record input over real files: every format, malformed input, limits, and the
//! tau-bench / tau2-bench adapters on samples of the benchmarks' published logs.

use std::io::Write;
use std::path::{Path, PathBuf};

use semslo::input::{InputError, InputFormat, MAX_DEPTH, Record, RecordError, Source, read_records};
use serde_json::{Value, json};

const STEP_KEYS: [&str; 11] =
    ["index", "kind", "role", "name", "text", "tool", "input", "output", "ok", "status", "call_id"];

/// Returns a file under `tests/data`, as a path relative to the crate root so that
/// locations in snapshots do not depend on where the repository is checked out.
fn data(relative: &str) -> PathBuf {
    Path::new("tests/data").join(relative)
}

fn read(path: &Path, format: InputFormat) -> Vec<Result<Record, RecordError>> {
    read_records(Source::Path(path.to_owned()), format)
        .unwrap_or_else(|error| panic!("cannot open {}: {error}", path.display()))
        .collect()
}

fn records(path: &Path, format: InputFormat) -> Vec<Value> {
    read(path, format).into_iter().map(|result| result.unwrap_or_else(|error| panic!("{error}")).value).collect()
}

/// Returns each item as `Ok(line)` or `Err(line)`.
fn lines(results: &[Result<Record, RecordError>]) -> Vec<Result<usize, usize>> {
    results
        .iter()
        .map(|result| match result {
            Ok(record) => Ok(record.location.line),
            Err(error) => Err(error.location.line),
        })
        .collect()
}

fn run_ids(results: &[Result<Record, RecordError>]) -> Vec<Option<String>> {
    results
        .iter()
        .map(|result| {
            let record = result.as_ref().ok()?;
            Some(record.value["run_id"].as_str()?.to_owned())
        })
        .collect()
}

fn error_reason(result: &Result<Record, RecordError>) -> &str {
    &result.as_ref().expect_err("expected a malformed record").reason
}

fn find_run<'a>(runs: &'a [Value], run_id: &str) -> &'a Value {
    runs.iter().find(|run| run["run_id"] == run_id).unwrap_or_else(|| panic!("no run `{run_id}`"))
}

fn tool_steps<'a>(run: &'a Value, tool: &str) -> Vec<&'a Value> {
    run["steps"].as_array().unwrap().iter().filter(|step| step["tool"] == tool).collect()
}

fn write_temp(directory: &tempfile::TempDir, name: &str, text: &str) -> PathBuf {
    let path = directory.path().join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// Pretty JSON through serde_json. insta's JSON snapshots serialize numbers with
/// their own serializer, which shows serde_json's `arbitrary_precision` numbers
/// as internal `$serde_json::private::Number` objects.
fn pretty_json(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap()
}

// Snapshots of every input file.

/// Renders a stream one item per line: the location, then the record as compact
/// JSON or the reason it is malformed.
fn render_stream(path: &Path) -> String {
    let mut rendered = String::new();
    for result in read(path, InputFormat::Auto) {
        let line = match result {
            Ok(record) => format!("{}: {}\n", record.location, record.value),
            Err(error) => format!("{}: error: {}\n", error.location, error.reason),
        };
        rendered.push_str(&line);
    }
    rendered
}

#[test]
fn input_files_match_snapshots() {
    insta::with_settings!({snapshot_path => "data/input/snapshots", prepend_module_to_snapshot => false}, {
        insta::glob!("data/input/*.{jsonl,json,yaml}", |path| {
            let relative = path.strip_prefix(env!("CARGO_MANIFEST_DIR")).unwrap();
            insta::assert_snapshot!(render_stream(relative));
        });
    });
}

// JSON Lines.

#[test]
fn jsonl_accepts_bom_crlf_blank_lines() {
    let results = read(&data("input/crlf-bom-blank-lines.jsonl"), InputFormat::Auto);
    assert_eq!(lines(&results), [Ok(1), Ok(4), Ok(6)]);
    assert_eq!(run_ids(&results), [Some("po-1".into()), Some("po-2".into()), Some("po-3".into())]);
}

#[test]
fn malformed_jsonl_lines_do_not_stop_the_file() {
    let results = read(&data("input/malformed-lines.jsonl"), InputFormat::Auto);
    assert_eq!(lines(&results), [Ok(1), Err(2), Ok(3), Err(4), Err(5), Ok(6)]);
    assert_eq!(error_reason(&results[1]), "trailing comma at column 57");
    assert_eq!(error_reason(&results[3]), "expected a JSON object, found an array");
    assert_eq!(error_reason(&results[4]), "EOF while parsing an object at column 56");
}

#[test]
fn malformed_record_error_names_file_and_line() {
    let results = read(&data("input/malformed-lines.jsonl"), InputFormat::Auto);
    let error = results[1].as_ref().unwrap_err();
    assert_eq!(error.location.to_string(), "tests/data/input/malformed-lines.jsonl:2");
    assert_eq!(
        error.to_string(),
        "malformed record at tests/data/input/malformed-lines.jsonl:2: trailing comma at column 57"
    );
    let code = miette::Diagnostic::code(error).unwrap().to_string();
    assert_eq!(code, "semslo::input::malformed_record");
}

#[test]
fn large_jsonl_file_is_streamed() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("large.jsonl");
    let mut file = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    for index in 0..200_000 {
        writeln!(file, "{{\"run_id\": \"run-{index}\", \"outcome\": {{\"total\": {index}.50}}}}").unwrap();
    }
    file.into_inner().unwrap().sync_all().unwrap();

    let stream = read_records(Source::Path(path), InputFormat::Auto).unwrap();
    let mut count = 0;
    for result in stream {
        assert!(result.is_ok());
        count += 1;
    }
    assert_eq!(count, 200_000);
}

// JSON documents.

#[test]
fn json_array_keeps_elements_after_a_malformed_one() {
    let results = read(&data("input/runs-with-malformed-element.json"), InputFormat::Auto);
    assert_eq!(lines(&results), [Ok(2), Err(7), Ok(12), Err(17), Ok(18)]);
    assert_eq!(error_reason(&results[1]), "expected `,` or `}` at line 10 column 43");
    assert_eq!(error_reason(&results[3]), "expected a JSON object, found a string");
    assert_eq!(run_ids(&results)[4].as_deref(), Some("po-5"));
}

#[test]
fn single_json_object_is_one_record() {
    let runs = records(&data("input/single-run.json"), InputFormat::Auto);
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0]["run_id"], "po-000042");
    assert_eq!(runs[0]["outcome"]["total"].to_string(), "4260.00");
}

#[test]
fn truncated_json_array_is_a_record_error() {
    let results = read(&data("input/truncated.json"), InputFormat::Auto);
    assert_eq!(lines(&results), [Ok(2), Ok(3), Err(4)]);
    assert_eq!(error_reason(&results[2]), "the input ends inside this element; the file may be truncated");
}

#[test]
fn text_after_json_array_is_a_record_error() {
    let results = read(&data("input/text-after-array.json"), InputFormat::Auto);
    assert_eq!(lines(&results), [Ok(2), Err(4)]);
    assert!(error_reason(&results[1]).starts_with("unexpected `{` after the end of the JSON value"));
}

// YAML.

#[test]
fn yaml_follows_the_core_schema() {
    let runs = records(&data("input/core-schema.yaml"), InputFormat::Auto);
    let run = &runs[0];
    assert_eq!(run["flags"]["refund_allowed"], "no");
    assert_eq!(run["flags"]["insurance"], "off");
    assert_eq!(run["flags"]["confirmed"], "yes");
    assert_eq!(run["flags"]["notified"], true);
    assert_eq!(run["numbers"]["leading_zero"].to_string(), "12");
    assert!(run["numbers"]["exponent"].is_number());
    assert_eq!(run["numbers"]["half"].to_string(), "0.5");
    assert_eq!(run["numbers"]["hex"].to_string(), "31");
    assert_eq!(run["numbers"]["octal"].to_string(), "15");
    assert_eq!(run["text"]["binary_looking"], "0b101");
    assert_eq!(run["text"]["underscored"], "1_000");
    assert_eq!(run["text"]["quoted_number"], "012");
    assert_eq!(run["text"]["date"], "2025-11-03");
    assert_eq!(run["text"]["empty"], Value::Null);
    assert_eq!(run["text"]["tilde"], Value::Null);
}

#[test]
fn yaml_bad_documents_do_not_stop_the_stream() {
    let results = read(&data("input/documents.yaml"), InputFormat::Auto);
    assert_eq!(lines(&results), [Ok(2), Err(4), Ok(9), Err(12), Err(15), Ok(17)]);
    assert_eq!(error_reason(&results[1]), "duplicate mapping key `total` at line 8 column 3");
    assert_eq!(error_reason(&results[3]), "unclosed bracket '[' at line 14 column 18");
    assert_eq!(error_reason(&results[4]), "expected a YAML mapping, found a sequence");
    assert_eq!(run_ids(&results)[5].as_deref(), Some("y-5"));
}

#[test]
fn yaml_billion_laughs_is_rejected() {
    let results = read(&data("input/billion-laughs.yaml"), InputFormat::Auto);
    assert_eq!(lines(&results), [Err(3), Ok(13)]);
    assert!(error_reason(&results[0]).contains("alias expansion bomb"), "{}", error_reason(&results[0]));
    assert_eq!(run_ids(&results)[1].as_deref(), Some("after-the-bomb"));
}

// Limits that hold for every format.

#[test]
fn deep_nesting_rejected_in_every_format() {
    let directory = tempfile::tempdir().unwrap();
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let files = [
        ("deep.jsonl", format!("{{\"run_id\": \"a\"}}\n{{\"deep\": {deep}}}\n{{\"run_id\": \"b\"}}\n")),
        ("deep.json", format!("[{{\"run_id\": \"a\"}},\n{{\"deep\": {deep}}},\n{{\"run_id\": \"b\"}}]\n")),
        ("deep.yaml", format!("run_id: a\n---\ndeep: {deep}\n---\nrun_id: b\n")),
    ];
    let reason = format!("nested deeper than {MAX_DEPTH} levels of arrays and objects");

    for (name, text) in files {
        let results = read(&write_temp(&directory, name, &text), InputFormat::Auto);
        assert_eq!(results.len(), 3, "{name}");
        assert!(error_reason(&results[1]).starts_with(&reason), "{name}: {}", error_reason(&results[1]));
        assert_eq!(run_ids(&results), [Some("a".into()), None, Some("b".into())], "{name}");
    }
}

#[test]
fn nesting_at_limit_accepted_everywhere() {
    let directory = tempfile::tempdir().unwrap();
    // The record object is one level, so its value may nest MAX_DEPTH - 1 more.
    let inner = MAX_DEPTH - 1;
    let nested = format!("{}{}", "[".repeat(inner), "]".repeat(inner));
    let files = [
        ("limit.jsonl", format!("{{\"deep\": {nested}}}\n")),
        ("limit.json", format!("[{{\"deep\": {nested}}}]\n")),
        ("limit.yaml", format!("deep: {nested}\n")),
    ];
    for (name, text) in files {
        let results = read(&write_temp(&directory, name, &text), InputFormat::Auto);
        assert!(results[0].is_ok(), "{name}: {:?}", results[0]);
    }
}

#[test]
fn big_numbers_keep_every_digit() {
    let jsonl = records(&data("input/numbers.jsonl"), InputFormat::Auto);
    let outcome = &jsonl[0]["outcome"];
    assert_eq!(outcome["quantity"].to_string(), "12345678901234567890123");
    assert_eq!(outcome["unit_price"].to_string(), "12345678901234567890.123");
    assert_eq!(outcome["total"].to_string(), "0.10000000000000000000001");

    let yaml = records(&data("input/core-schema.yaml"), InputFormat::Auto);
    let numbers = &yaml[0]["numbers"];
    assert_eq!(numbers["big_integer"].to_string(), "123456789012345678901234567890");
    assert_eq!(numbers["big_decimal"].to_string(), "12345678901234567890.123");
    assert_eq!(numbers["money"].to_string(), "4260.00");
}

// Sources that cannot be read.

#[test]
fn missing_file_is_an_input_error() {
    let error = read_records(Source::Path(data("input/no-such-file.jsonl")), InputFormat::Auto).unwrap_err();
    assert!(matches!(error, InputError::NotFound { .. }), "{error:?}");
    assert_eq!(error.to_string(), "input file `tests/data/input/no-such-file.jsonl` not found");
}

#[test]
fn unknown_extension_is_an_input_error() {
    let directory = tempfile::tempdir().unwrap();
    let path = write_temp(&directory, "runs.txt", "{}\n");
    let error = read_records(Source::Path(path.clone()), InputFormat::Auto).unwrap_err();
    assert!(matches!(error, InputError::UnknownExtension { .. }), "{error:?}");

    let explicit = read_records(Source::Path(path), InputFormat::Jsonl).unwrap();
    assert_eq!(explicit.count(), 1);
}

#[test]
fn directory_is_an_input_error() {
    let error = read_records(Source::Path(data("input")), InputFormat::Jsonl).unwrap_err();
    assert!(matches!(error, InputError::IsDirectory { .. }), "{error:?}");
}

#[test]
fn path_without_extension_is_checked_first() {
    // A directory or a missing path is named as such before its lack of an extension.
    let error = read_records(Source::Path(data("input")), InputFormat::Auto).unwrap_err();
    assert!(matches!(error, InputError::IsDirectory { .. }), "{error:?}");
    let error = read_records(Source::Path(data("input/no-such-file")), InputFormat::Auto).unwrap_err();
    assert!(matches!(error, InputError::NotFound { .. }), "{error:?}");
}

// Format detection.

#[test]
fn json_files_are_told_apart_by_content() {
    let cases = [
        ("tau-bench/airline-sample.json", InputFormat::TauBench),
        ("tau2-bench/airline-sample.json", InputFormat::Tau2Bench),
        ("tau2-bench/airline-info-last.json", InputFormat::Tau2Bench),
        ("input/single-run.json", InputFormat::Json),
        ("input/runs-with-malformed-element.json", InputFormat::Json),
        ("input/documents.yaml", InputFormat::Yaml),
        ("input/malformed-lines.jsonl", InputFormat::Jsonl),
    ];
    for (file, expected) in cases {
        let stream = read_records(Source::Path(data(file)), InputFormat::Auto).unwrap();
        assert_eq!(stream.format(), expected, "{file}");
    }
}

#[test]
fn tau_bench_shape_error_names_field() {
    let results = read(&data("input/single-run.json"), InputFormat::TauBench);
    let reason = error_reason(&results[0]);
    assert!(reason.contains("the field `traj` is missing"), "{reason}");
    assert!(reason.contains("--input-format json"), "{reason}");
}

// tau-bench adapter.

fn tau_bench_runs() -> Vec<Value> {
    records(&data("tau-bench/airline-sample.json"), InputFormat::Auto)
}

#[test]
fn tau_bench_sample_gives_one_run_per_element() {
    let runs = tau_bench_runs();
    let ids: Vec<&str> = runs.iter().map(|run| run["run_id"].as_str().unwrap()).collect();
    assert_eq!(
        ids,
        [
            "tau-bench/airline/task-0/trial-0",
            "tau-bench/airline/task-26/trial-0",
            "tau-bench/airline/task-27/trial-0",
            "tau-bench/airline/task-34/trial-0",
            "tau-bench/airline/task-34/trial-1",
            "tau-bench/airline/task-13/trial-2",
            "tau-bench/airline/task-26/trial-2",
            "tau-bench/airline/task-27/trial-2",
            "tau-bench/airline/task-34/trial-2",
            "tau-bench/airline/task-44/trial-2",
            "tau-bench/airline/task-9/trial-3",
            "tau-bench/airline/task-34/trial-3",
        ]
    );
    assert!(runs.iter().all(|run| run["workflow"] == "airline"));
}

#[test]
fn tau_bench_step_counts_match_the_trajectory() {
    // Steps = user and assistant messages with text + tool calls (each call and
    // its result are one step); the system prompt is not a step.
    let runs = tau_bench_runs();
    let counts: Vec<usize> = runs.iter().map(|run| run["steps"].as_array().unwrap().len()).collect();
    assert_eq!(counts, [23, 23, 25, 22, 26, 36, 24, 19, 23, 9, 60, 22]);
    for run in &runs {
        for (position, step) in run["steps"].as_array().unwrap().iter().enumerate() {
            assert_eq!(step["index"], position);
            for key in STEP_KEYS {
                assert!(step.get(key).is_some(), "{} step {position} has no `{key}`", run["run_id"]);
            }
        }
    }
}

#[test]
fn tau_bench_rejected_write_differs_from_accepted_one() {
    let runs = tau_bench_runs();

    // Task 13 trial 2: four flight changes, each rejected by the tool.
    let rejected = find_run(&runs, "tau-bench/airline/task-13/trial-2");
    let updates = tool_steps(rejected, "update_reservation_flights");
    assert_eq!(updates.len(), 4);
    for update in &updates {
        assert_eq!(update["ok"], false);
        assert_eq!(update["status"], "error");
        assert!(update["output"].as_str().unwrap().starts_with("Error:"));
    }
    assert_eq!(rejected["outcome"]["writes"], json!([]));
    assert_eq!(rejected["outcome"]["attempted_writes"].as_array().unwrap().len(), 4);

    // Task 34 trial 0: the cancellation took effect.
    let accepted = find_run(&runs, "tau-bench/airline/task-34/trial-0");
    let cancellations = tool_steps(accepted, "cancel_reservation");
    assert!(cancellations.iter().any(|step| step["ok"] == true && step["status"] == "ok"));
    assert!(accepted["outcome"]["writes"].as_array().unwrap().contains(&json!("cancel_reservation")));
}

#[test]
fn tau_bench_arguments_and_results_are_decoded() {
    let runs = tau_bench_runs();
    let run = find_run(&runs, "tau-bench/airline/task-0/trial-0");
    let lookup = tool_steps(run, "get_user_details")[0];
    assert_eq!(lookup["input"], json!({"user_id": "mia_li_3668"}));
    assert_eq!(lookup["output"]["dob"], "1990-04-05");
    assert_eq!(lookup["role"], "agent");
    assert!(lookup["call_id"].as_str().unwrap().starts_with("call_"));
    assert_eq!(run["task"]["expected_actions"][0]["name"], "book_reservation");
    assert_eq!(run["task"]["expected_actions"][0]["arguments"]["payment_methods"][0]["amount"], 250);
}

#[test]
fn tau_bench_labels_follow_the_reward() {
    let runs = tau_bench_runs();
    for run in &runs {
        let reward = run["outcome"]["reward"].to_string();
        let expected = if reward == "1.0" { "correct" } else { "incorrect" };
        assert_eq!(run["labels"]["expert_verdict"], expected, "{}", run["run_id"]);
        assert_eq!(run["labels"]["reward"], run["outcome"]["reward"]);
        assert_eq!(run["labels"]["source"], "tau-bench reward");
    }

    // Task 9 trial 3 ended abnormally: `reward_info` is null, the reward is still there.
    let abnormal = find_run(&runs, "tau-bench/airline/task-9/trial-3");
    assert_eq!(abnormal["labels"]["reward"].to_string(), "0.0");
    assert_eq!(abnormal["labels"]["expert_verdict"], "incorrect");
}

#[test]
fn tau_bench_run_matches_snapshot() {
    let runs = tau_bench_runs();
    let run = find_run(&runs, "tau-bench/airline/task-13/trial-2");
    insta::with_settings!({snapshot_path => "data/tau-bench/snapshots", prepend_module_to_snapshot => false}, {
        insta::assert_snapshot!("airline-task-13-trial-2", pretty_json(run));
    });
}

// tau2-bench adapter.

fn tau2_runs(domain: &str) -> Vec<Value> {
    records(&data(&format!("tau2-bench/{domain}-sample.json")), InputFormat::Auto)
}

#[test]
fn tau2_bench_samples_give_one_run_per_simulation() {
    let airline = tau2_runs("airline");
    let retail = tau2_runs("retail");
    assert_eq!(airline.len(), 6);
    assert_eq!(retail.len(), 6);
    assert!(airline.iter().all(|run| run["workflow"] == "airline"));
    assert!(retail.iter().all(|run| run["workflow"] == "retail"));
    assert_eq!(airline[0]["run_id"], "tau2-bench/airline/task-13/trial-0");
    assert_eq!(airline[0]["started_at"], "2025-08-01T16:20:44.321269Z");
    assert_eq!(airline[0]["finished_at"], "2025-08-01T16:21:03.551551Z");

    let counts: Vec<usize> = airline.iter().chain(&retail).map(|run| run["steps"].as_array().unwrap().len()).collect();
    assert_eq!(counts, [15, 18, 27, 37, 22, 19, 14, 21, 25, 25, 23, 35]);
    for run in airline.iter().chain(&retail) {
        for step in run["steps"].as_array().unwrap() {
            for key in STEP_KEYS {
                assert!(step.get(key).is_some(), "{} has a step without `{key}`", run["run_id"]);
            }
        }
    }
}

#[test]
fn tau2_bench_rejected_write_differs_from_accepted_one() {
    let airline = tau2_runs("airline");
    let run = find_run(&airline, "tau2-bench/airline/task-25/trial-0");
    let bookings = tool_steps(run, "book_reservation");
    assert_eq!(bookings.len(), 2);
    assert_eq!(bookings[0]["ok"], false);
    assert_eq!(bookings[0]["status"], "error");
    assert!(bookings[0]["output"].as_str().unwrap().starts_with("Error: Payment amount"));
    assert_eq!(bookings[1]["ok"], true);
    assert_eq!(run["outcome"]["writes"], json!(["book_reservation"]));
    assert_eq!(run["outcome"]["attempted_writes"], json!(["book_reservation", "book_reservation"]));
    assert_eq!(bookings[0]["input"]["user_id"], bookings[1]["input"]["user_id"]);
}

#[test]
fn tau2_bench_labels_keep_the_checks() {
    let retail = tau2_runs("retail");
    let run = find_run(&retail, "tau2-bench/retail/task-40/trial-0");
    assert_eq!(run["labels"]["expert_verdict"], "correct");
    assert_eq!(run["labels"]["source"], "tau2-bench reward");
    assert_eq!(run["labels"]["db_match"], true);
    assert_eq!(run["labels"]["communicate_checks"][0]["info"], "60");
    assert_eq!(run["labels"]["communicate_checks"][0]["met"], true);
    assert_eq!(run["task"]["expected_outputs"], json!(["60", "mastercard"]));
    assert_eq!(run["outcome"]["terminated_by"], "user");
    assert_eq!(run["outcome"]["termination_reason"], "user_stop");

    let failed = find_run(&retail, "tau2-bench/retail/task-55/trial-0");
    assert_eq!(failed["labels"]["expert_verdict"], "incorrect");
    assert_eq!(failed["labels"]["db_match"], false);
}

#[test]
fn tau2_bench_task_comes_from_the_task_list() {
    let airline = tau2_runs("airline");
    let run = find_run(&airline, "tau2-bench/airline/task-2/trial-0");
    assert_eq!(run["task"]["id"], "2");
    assert!(run["task"]["instruction"]["reason_for_call"].is_string());
    let actions: Vec<&str> = run["task"]["expected_actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|action| action["name"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["get_user_details", "get_reservation_details", "get_reservation_details", "send_certificate"]);
}

#[test]
fn tau2_bench_info_after_simulations_is_found() {
    let runs = records(&data("tau2-bench/airline-info-last.json"), InputFormat::Tau2Bench);
    assert_eq!(runs.len(), 2);
    assert!(runs.iter().all(|run| run["workflow"] == "airline"));
    assert_eq!(runs[0]["run_id"], "tau2-bench/airline/task-13/trial-0");
    assert!(runs[0]["task"]["instruction"].is_object());
}

#[test]
fn tau2_bench_run_matches_snapshot() {
    let airline = tau2_runs("airline");
    let run = find_run(&airline, "tau2-bench/airline/task-13/trial-0");
    insta::with_settings!({snapshot_path => "data/tau2-bench/snapshots", prepend_module_to_snapshot => false}, {
        insta::assert_snapshot!("airline-task-13-trial-0", pretty_json(run));
    });
}
