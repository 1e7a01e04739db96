//! `semslo lint`: the lint cases under `tests/data/lint/` snapshotted as rendered
//! diagnostics, the output formats (SARIF checked against the SARIF 2.1.0 schema),
//! exit codes, `--explain`, and the registry of diagnostic codes.
//!
//! Each case is a directory with a `policy.slo` (and any other files of its policy set);
//! a `records.jsonl` beside it is read as sample runs. Cases are linted with
//! `--today 2026-06-01`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use chrono::NaiveDate;
use semslo::check::{self, LintOptions, LintReport, SampleSource, codes};
use semslo::diagnostic::render_plain;
use semslo::input::InputFormat;
use serde_json::Value as Json;

/// Width at which diagnostics are rendered in snapshots.
const RENDER_WIDTH: usize = 80;

/// The date the cases are linted at.
const TODAY: &str = "2026-06-01";

fn options(samples: Option<SampleSource>) -> LintOptions {
    LintOptions { today: NaiveDate::parse_from_str(TODAY, "%Y-%m-%d").unwrap(), samples }
}

/// Returns a case directory relative to the crate root, so paths in snapshots are stable.
fn case(name: &str) -> PathBuf {
    Path::new("tests/data/lint").join(name)
}

fn lint_case(directory: &Path) -> LintReport {
    let records = directory.join("records.jsonl");
    let samples = records.exists().then(|| SampleSource { paths: vec![records], format: InputFormat::Jsonl });
    check::lint(&[directory.to_path_buf()], &options(samples)).expect("sample records open")
}

fn codes_of(report: &LintReport) -> Vec<&'static str> {
    report.diagnostics.iter().map(|diagnostic| diagnostic.code).collect()
}

fn render(report: &LintReport) -> String {
    if report.diagnostics.is_empty() {
        return "no findings\n".to_string();
    }
    report.diagnostics.iter().map(|diagnostic| render_plain(diagnostic, RENDER_WIDTH)).collect::<Vec<_>>().join("\n")
}

/// Runs the `semslo` binary with colour off.
fn semslo(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_semslo")).args(args).env("NO_COLOR", "1").output().expect("semslo runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).expect("UTF-8 output")
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).expect("UTF-8 output")
}

fn lint_cli(args: &[&str]) -> Output {
    let mut all = vec!["lint", "--today", TODAY];
    all.extend_from_slice(args);
    semslo(&all)
}

#[test]
fn lint_cases_render_every_finding() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    insta::glob!("data/lint/*/policy.slo", |path| {
        let directory = path.parent().unwrap().strip_prefix(root).unwrap();
        let report = lint_case(directory);
        insta::assert_snapshot!(render(&report));
    });
}

#[test]
fn compile_errors_do_not_hide_lint_findings() {
    let report = lint_case(&case("everything_at_once"));
    let codes = codes_of(&report);
    for expected in [
        "semslo::parse::unexpected_token",
        "semslo::check::unknown_name",
        "semslo::check::type_mismatch",
        "semslo::check::invalid_regex",
        "semslo::check::invalid_literal",
        "semslo::lint::constant_condition",
    ] {
        assert!(codes.contains(&expected), "{expected} missing from {codes:?}");
    }
    // The rule that failed to parse might have read `unused_threshold`.
    assert!(!codes.contains(&"semslo::lint::unused_declaration"), "{codes:?}");
}

#[test]
fn clean_policy_exits_zero() {
    let output = lint_cli(&["tests/data/lint/clean"]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    assert!(stdout(&output).contains("no problems in 1 policy file"), "{}", stdout(&output));
}

#[test]
fn warnings_fail_only_under_deny_warnings() {
    let path = "tests/data/lint/unused_declarations";
    assert_eq!(lint_cli(&[path]).status.code(), Some(0));
    assert_eq!(lint_cli(&["--deny", "warnings", path]).status.code(), Some(1));
}

#[test]
fn errors_exit_one() {
    let output = lint_cli(&["tests/data/lint/reference_data"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(stdout(&output).contains("semslo::load::invalid_data"), "{}", stdout(&output));
}

#[test]
fn allow_leaves_out_a_warning_code() {
    let output = lint_cli(&[
        "--deny",
        "warnings",
        "--allow",
        "semslo::lint::unused_declaration",
        "tests/data/lint/unused_declarations",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
}

#[test]
fn usage_errors_exit_two() {
    let cases: [&[&str]; 8] = [
        &["lint"],
        &["lint", "--format", "xml", "policies"],
        &["--color", "never", "lint", "--bogus", "policies"],
        &["lint", "--today", "2026-13-01", "policies"],
        &["lint", "--explain", "semslo::lint::no_such_code"],
        &["lint", "policies/procurement", "--records", "tests/data/lint/no-such-file.jsonl"],
        &["lint", "--allow", "semslo::check::unknown_name", "policies/procurement"],
        &["lint", "--allow", "semslo::lint::no_such_code", "policies/procurement"],
    ];
    for args in cases {
        let output = semslo(args);
        assert_eq!(output.status.code(), Some(2), "semslo {}: {}", args.join(" "), stderr(&output));
    }
}

#[test]
fn other_subcommands_keep_exit_three_for_usage() {
    assert_eq!(semslo(&["check", "--bogus"]).status.code(), Some(3));
}

#[test]
fn explain_prints_meaning_and_fix() {
    let output = semslo(&["lint", "--explain", "semslo::lint::band_gap"]);
    assert_eq!(output.status.code(), Some(0));
    let text = stdout(&output);
    assert!(text.starts_with("semslo::lint::band_gap (warning)\n"), "{text}");
    assert!(text.contains("Example:"), "{text}");
}

#[test]
fn explain_accepts_the_last_part_of_a_code() {
    let output = semslo(&["lint", "--explain", "band_overlap"]);
    assert_eq!(output.status.code(), Some(0));
    assert!(stdout(&output).starts_with("semslo::lint::band_overlap"), "{}", stdout(&output));
}

#[test]
fn explain_of_an_ambiguous_name_lists_the_codes() {
    let output = semslo(&["lint", "--explain", "unknown_field"]);
    assert_eq!(output.status.code(), Some(2));
    let text = stderr(&output);
    assert!(text.contains("`semslo::check::unknown_field`"), "{text}");
    assert!(text.contains("`semslo::lint::unknown_field`"), "{text}");
}

#[test]
fn explain_suggests_a_close_code() {
    let output = semslo(&["lint", "--explain", "semslo::lint::band_gaps"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("did you mean `semslo::lint::band_gap`?"), "{}", stderr(&output));
}

/// Collects every `semslo::STAGE::NAME` code in the source, outside the registry itself.
fn codes_in_source() -> BTreeSet<String> {
    let pattern = regex::Regex::new(r"semslo::[a-z]+::[a-z0-9_]+").unwrap();
    let mut found = BTreeSet::new();
    let mut stack = vec![PathBuf::from("src")];
    while let Some(directory) = stack.pop() {
        for entry in std::fs::read_dir(&directory).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                if path != Path::new("src/check/codes") {
                    stack.push(path);
                }
                continue;
            }
            if path.extension().is_none_or(|extension| extension != "rs") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            for line in text.lines().filter(|line| line.contains("\"semslo::") || line.contains("code(semslo::")) {
                found.extend(pattern.find_iter(line).map(|m| m.as_str().to_string()));
            }
        }
    }
    found
}

#[test]
fn every_code_in_the_source_is_explained() {
    let registered: BTreeSet<&str> = codes::all().map(|info| info.code).collect();
    let missing: Vec<String> =
        codes_in_source().into_iter().filter(|code| !registered.contains(code.as_str())).collect();
    assert!(missing.is_empty(), "codes without an entry in src/check/codes/: {missing:?}");
}

#[test]
fn every_explained_code_is_in_the_source() {
    let in_source = codes_in_source();
    let stale: Vec<&str> = codes::all().map(|info| info.code).filter(|code| !in_source.contains(*code)).collect();
    assert!(stale.is_empty(), "registry entries for codes nothing reports: {stale:?}");
}

#[test]
fn every_code_is_registered_once() {
    let mut seen = BTreeSet::new();
    for info in codes::all() {
        assert!(seen.insert(info.code), "{} is registered twice", info.code);
    }
}

#[test]
fn every_lint_code_is_documented() {
    let docs = std::fs::read_to_string("docs/lint.md").unwrap();
    for info in codes::all().filter(|info| info.code.starts_with("semslo::lint::")) {
        assert!(docs.contains(&format!("`{}`", info.code)), "docs/lint.md does not describe {}", info.code);
    }
}

/// Loads the OASIS SARIF 2.1.0 JSON Schema, as the `serde-sarif` package ships it
/// (`src/schema.json`), from Cargo's registry sources. The version comes from
/// Cargo.lock, so the file is the one this build downloaded.
fn sarif_schema() -> Json {
    let lock = std::fs::read_to_string("Cargo.lock").unwrap();
    let version = lock
        .split("[[package]]")
        .find(|package| package.contains("name = \"serde-sarif\""))
        .and_then(|package| package.lines().find_map(|line| line.strip_prefix("version = \"")))
        .map(|version| version.trim_end_matches('"').to_string())
        .expect("serde-sarif is in Cargo.lock");
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").expect("HOME is set")).join(".cargo"));
    let registry = cargo_home.join("registry/src");
    for index in std::fs::read_dir(&registry).unwrap() {
        let candidate = index.unwrap().path().join(format!("serde-sarif-{version}/src/schema.json"));
        if candidate.exists() {
            let mut schema: Json = serde_json::from_str(&std::fs::read_to_string(candidate).unwrap()).unwrap();
            // The `language` patterns end in an unescaped `]`, a literal in ECMAScript
            // regexes that the `jsonschema` crate's regex check rejects when it validates the
            // schema itself. Escaping it keeps the meaning; semslo never writes `language`.
            let replaced = replace_strings(
                &mut schema,
                "^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$",
                "^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}\\]?$",
            );
            assert!(replaced > 0, "the schema no longer has the pattern to escape");
            return schema;
        }
    }
    panic!("serde-sarif {version} sources not found under {}", registry.display());
}

/// Replaces every string `from` in `value` by `to`; returns how many were replaced.
fn replace_strings(value: &mut Json, from: &str, to: &str) -> usize {
    match value {
        Json::String(text) if text == from => {
            *text = to.to_string();
            1
        }
        Json::Array(items) => items.iter_mut().map(|item| replace_strings(item, from, to)).sum(),
        Json::Object(members) => members.values_mut().map(|member| replace_strings(member, from, to)).sum(),
        _ => 0,
    }
}

fn sarif_of(path: &str) -> Json {
    let output = lint_cli(&["--format", "sarif", path]);
    serde_json::from_slice(&output.stdout).expect("SARIF output is JSON")
}

#[test]
fn sarif_output_matches_the_sarif_schema() {
    let schema = sarif_schema();
    assert_eq!(schema["title"], "Static Analysis Results Format (SARIF) Version 2.1.0 JSON Schema");
    let validator = jsonschema::validator_for(&schema).expect("the SARIF schema compiles");
    for path in [
        "tests/data/lint/band_tables",
        "tests/data/lint/everything_at_once",
        "tests/data/lint/record_schema",
        "tests/data/lint/reference_data",
        "tests/data/lint/clean",
        "tests/data/lint/no-such-directory",
    ] {
        let log = sarif_of(path);
        let errors: Vec<String> =
            validator.iter_errors(&log).map(|error| format!("{error} at {}", error.instance_path())).collect();
        assert!(errors.is_empty(), "{path}: {errors:#?}");
        let typed: Result<serde_sarif::sarif::Sarif, _> = serde_json::from_value(log);
        assert!(typed.is_ok(), "{path}: {:?}", typed.err());
    }
}

#[test]
fn sarif_results_point_at_the_source() {
    let log = sarif_of("tests/data/lint/unused_declarations");
    let run = &log["runs"][0];
    assert_eq!(log["version"], "2.1.0");
    assert_eq!(run["tool"]["driver"]["name"], "semslo");
    assert_eq!(run["columnKind"], "unicodeCodePoints");
    let rule = &run["tool"]["driver"]["rules"][0];
    assert_eq!(rule["id"], "semslo::lint::unused_declaration");
    assert!(rule["help"]["text"].as_str().unwrap().contains("Remove the declaration"), "{rule}");
    let result = &run["results"][0];
    assert_eq!(result["ruleId"], "semslo::lint::unused_declaration");
    assert_eq!(result["ruleIndex"], 0);
    assert_eq!(result["level"], "warning");
    let location = &result["locations"][0]["physicalLocation"];
    assert_eq!(location["artifactLocation"]["uri"], "tests/data/lint/unused_declarations/policy.slo");
    assert_eq!(location["region"]["startLine"], 3);
    assert_eq!(location["region"]["startColumn"], 19);
    assert_eq!(location["region"]["endLine"], 3);
    assert_eq!(location["region"]["endColumn"], 26);
}

#[test]
fn github_annotations_name_file_place_and_code() {
    let output = lint_cli(&["--format", "github", "tests/data/lint/unused_declarations"]);
    let text = stdout(&output);
    let first = text.lines().next().unwrap();
    assert_eq!(
        first,
        "::warning file=tests/data/lint/unused_declarations/policy.slo,line=3,col=19,endLine=3,endColumn=26,\
         title=semslo%3A%3Alint%3A%3Aunused_declaration::table `vendors` is never used%0Ahelp: read it with \
         `x in vendors` or `vendors[key]`, or remove the `use` line"
    );
    assert!(text.lines().all(|line| line.starts_with("::warning ")), "{text}");
    assert!(stderr(&output).contains("semslo lint: 0 errors, 4 warnings"), "{}", stderr(&output));
}

#[test]
fn github_annotations_of_errors_use_the_error_command() {
    let output = lint_cli(&["--format", "github", "tests/data/lint/effective_dating"]);
    let text = stdout(&output);
    assert!(
        text.lines()
            .any(|line| line.starts_with("::error file=tests/data/lint/effective_dating/data/limits.csv,line=3,")),
        "{text}"
    );
}

#[test]
fn json_output_lists_every_finding() {
    let output = lint_cli(&["--format", "json", "tests/data/lint/everything_at_once"]);
    let findings: Vec<Json> = serde_json::from_slice(&output.stdout).unwrap();
    let report = lint_case(&case("everything_at_once"));
    assert_eq!(findings.len(), report.diagnostics.len());
    let first = &findings[0];
    for field in ["code", "severity", "message", "help", "file", "line", "column", "end_line", "end_column", "labels"] {
        assert!(first.get(field).is_some(), "{field} missing from {first}");
    }
    assert_eq!(first["file"], "tests/data/lint/everything_at_once/policy.slo");
}

#[test]
fn human_output_is_coloured_only_on_request() {
    let plain = lint_cli(&["tests/data/lint/unused_declarations"]);
    assert!(!stdout(&plain).contains('\u{1b}'), "{}", stdout(&plain));
    let coloured = semslo(&["--color", "always", "lint", "--today", TODAY, "tests/data/lint/unused_declarations"]);
    assert!(stdout(&coloured).contains('\u{1b}'), "{}", stdout(&coloured));
}

#[test]
fn every_example_policy_lints_clean_with_deny_warnings() {
    let output = semslo(&["lint", "--deny", "warnings", "--format", "plain", "policies"]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    assert!(stdout(&output).contains("no problems"), "{}", stdout(&output));
}

#[test]
fn samples_are_capped() {
    let directory = tempfile::tempdir().unwrap();
    let records = directory.path().join("runs.jsonl");
    let line = "{\"run_id\": \"r\", \"outcome\": {\"total\": 1}}\n";
    std::fs::write(&records, line.repeat(check::MAX_SAMPLES + 1)).unwrap();
    let samples = SampleSource { paths: vec![records], format: InputFormat::Jsonl };
    let report = check::lint(&[case("clean")], &options(Some(samples))).unwrap();
    let summary = report.samples.unwrap();
    assert_eq!(summary.read, check::MAX_SAMPLES);
    assert!(summary.truncated);
}

#[test]
fn samples_apply_to_every_set_in_one_pass() {
    let samples = SampleSource { paths: vec![case("sample_runs/records.jsonl")], format: InputFormat::Jsonl };
    let report = check::lint(&[case("sample_runs"), case("clean")], &options(Some(samples))).unwrap();
    assert_eq!(report.sets, 2);
    let summary = report.samples.unwrap();
    assert_eq!(summary.read, 4);
    assert_eq!(summary.malformed, 1);
    let unknown: Vec<String> = report
        .diagnostics
        .iter()
        .filter(|d| d.code == "semslo::lint::unknown_field")
        .map(|d| format!("{}: {}", d.location().unwrap_or_default(), d.message))
        .collect();
    let clean = "tests/data/lint/clean/policy.slo:5:12: `outcome.created_at` is not in any of the 4 sample runs";
    assert!(unknown.iter().any(|finding| finding == clean), "{unknown:#?}");
}
