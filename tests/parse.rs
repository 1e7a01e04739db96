//! Policy files through `compile_sources` and `load`: every diagnostic code, with
//! its place and help, snapshotted as users see it (no colour, 80 columns).
//!
//! The cases are the files `tests/data/parse/*.slo`; their reference data lives in
//! `tests/data/parse/data/`. Files whose bytes matter (CRLF, a byte-order mark) and
//! hostile inputs are generated here.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use semslo::compile::{self, compile_sources};
use semslo::diagnostic::{Diagnostics, SourceFile};
use semslo::syntax::{MAX_BRACKET_DEPTH, MAX_EXPR_DEPTH};

use common::{codes, render_all, scrub_directory, write_files};

const CASES: &str = "tests/data/parse";

/// Compiles a case file the way `semslo check` would see it, named by its file name.
fn compile_case(path: &Path) -> (Option<compile::PolicySet>, Diagnostics) {
    let relative = path.strip_prefix(env!("CARGO_MANIFEST_DIR")).unwrap_or(path);
    let name = path.file_name().unwrap().to_string_lossy();
    let text = std::fs::read_to_string(path).unwrap();
    compile_sources(&[SourceFile::new(relative, name.as_ref(), &text)])
}

#[test]
fn policy_files_match_snapshots() {
    insta::glob!("data/parse/*.slo", |path| {
        let (_, diagnostics) = compile_case(path);
        insta::assert_snapshot!(render_all(&diagnostics));
    });
}

/// Every case file and the codes it must report, in order.
const EXPECTED_CODES: &[(&str, &[&str])] = &[
    ("broken_rule_named_by_test.slo", &["semslo::parse::unexpected_token"]),
    ("data_file_missing.slo", &["semslo::load::invalid_data"]),
    (
        "data_outside_policy.slo",
        &[
            "semslo::load::data_outside_policy",
            "semslo::load::data_outside_policy",
            "semslo::load::data_outside_policy",
        ],
    ),
    ("data_outside_policy_missing.slo", &["semslo::load::data_outside_policy"]),
    ("duplicate_event_time.slo", &["semslo::parse::duplicate_event_time"]),
    ("duplicate_key.slo", &["semslo::load::invalid_data"]),
    (
        "duplicate_name.slo",
        &["semslo::check::duplicate_name", "semslo::check::duplicate_name", "semslo::check::duplicate_name"],
    ),
    ("duplicate_policy_name.slo", &["semslo::parse::duplicate_policy_name"]),
    ("duplicate_property.slo", &["semslo::parse::duplicate_property"]),
    ("duplicate_rule.slo", &["semslo::check::duplicate_rule"]),
    (
        "invalid_data.slo",
        &[
            "semslo::load::invalid_data",
            "semslo::load::invalid_data",
            "semslo::load::invalid_data",
            "semslo::load::invalid_data",
        ],
    ),
    // The first error of a rule ends its parse, so the second escape is not reported.
    ("invalid_escape.slo", &["semslo::parse::invalid_escape"]),
    (
        "invalid_literal.slo",
        &[
            "semslo::check::invalid_literal",
            "semslo::check::invalid_literal",
            "semslo::check::invalid_literal",
            "semslo::check::invalid_literal",
        ],
    ),
    ("invalid_regex.slo", &["semslo::check::invalid_regex", "semslo::check::invalid_regex"]),
    ("invalid_unicode_escape.slo", &["semslo::parse::invalid_escape"]),
    ("missing_effective_column.slo", &["semslo::load::invalid_data"]),
    ("missing_event_time.slo", &["semslo::check::missing_event_time"]),
    ("missing_expect.slo", &["semslo::parse::missing_expect"]),
    ("missing_key_column.slo", &["semslo::load::invalid_data"]),
    ("non_ascii_before_error.slo", &["semslo::parse::unexpected_token", "semslo::check::unknown_function"]),
    ("prefix_exists.slo", &["semslo::parse::unexpected_token"]),
    ("regex_after_starts_with.slo", &["semslo::parse::regex_not_allowed", "semslo::parse::regex_not_allowed"]),
    (
        "several_check_errors.slo",
        &[
            "semslo::check::unknown_name",
            "semslo::check::type_mismatch",
            "semslo::check::unknown_function",
            "semslo::check::invalid_regex",
        ],
    ),
    (
        "several_errors.slo",
        &[
            "semslo::parse::unexpected_token",
            "semslo::parse::duplicate_property",
            "semslo::parse::regex_not_allowed",
            "semslo::parse::unexpected_token",
        ],
    ),
    ("symbolic_operators.slo", &["semslo::parse::unexpected_token"]),
    (
        "table_as_value.slo",
        &[
            "semslo::check::table_as_value",
            "semslo::check::table_as_value",
            "semslo::check::table_as_value",
            "semslo::check::table_as_value",
        ],
    ),
    ("test_names_unknown_rule.slo", &["semslo::check::unknown_rule"]),
    ("too_deep_brackets.slo", &["semslo::parse::too_deep"]),
    ("too_deep_expression.slo", &["semslo::parse::too_deep"]),
    (
        "type_mismatch.slo",
        &[
            "semslo::check::type_mismatch",
            "semslo::check::type_mismatch",
            "semslo::check::type_mismatch",
            "semslo::check::type_mismatch",
            "semslo::check::type_mismatch",
            "semslo::check::type_mismatch",
            "semslo::check::type_mismatch",
            "semslo::check::type_mismatch",
            "semslo::check::type_mismatch",
            "semslo::check::type_mismatch",
            "semslo::check::type_mismatch",
            "semslo::check::type_mismatch",
            "semslo::check::type_mismatch",
        ],
    ),
    ("unclosed_string.slo", &["semslo::parse::unexpected_token"]),
    ("unexpected_token.slo", &["semslo::parse::unexpected_token"]),
    ("unknown_field.slo", &["semslo::check::unknown_field", "semslo::check::unknown_field"]),
    (
        "unknown_function.slo",
        &["semslo::check::unknown_function", "semslo::check::unknown_function", "semslo::check::unknown_function"],
    ),
    ("unknown_name.slo", &["semslo::check::unknown_name", "semslo::check::unknown_name"]),
    ("unknown_rule_property.slo", &["semslo::parse::unexpected_token"]),
    ("valid.slo", &[]),
    (
        "wrong_argument_count.slo",
        &[
            "semslo::check::wrong_argument_count",
            "semslo::check::wrong_argument_count",
            "semslo::check::wrong_argument_count",
            "semslo::check::wrong_argument_count",
        ],
    ),
];

#[test]
fn each_case_reports_its_codes() {
    let mut wrong = Vec::new();
    for (file, expected) in EXPECTED_CODES {
        let (_, diagnostics) = compile_case(&Path::new(CASES).join(file));
        let actual = codes(&diagnostics);
        if actual != *expected {
            wrong.push(format!("{file}:\n  expected {expected:?}\n  actual   {actual:?}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn every_case_file_is_in_the_code_table() {
    let mut files: Vec<String> = std::fs::read_dir(CASES)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".slo"))
        .collect();
    files.sort();
    let listed: Vec<&str> = EXPECTED_CODES.iter().map(|(file, _)| *file).collect();

    assert_eq!(files, listed);
}

#[test]
fn every_documented_code_has_a_case() {
    let documented = std::fs::read_to_string("docs/language.md").unwrap();
    let reported: Vec<&str> = EXPECTED_CODES.iter().flat_map(|(_, codes)| codes.iter().copied()).collect();
    let generated_here = ["semslo::load::not_found", "semslo::load::not_utf8", "semslo::load::no_policies"];
    // NOTE: `semslo::load::unreadable` needs a file the test cannot read, which a
    // test running as root cannot make, so it has no case.
    let untested = ["semslo::load::unreadable"];

    let mut missing = Vec::new();
    for code in documented_codes(&documented) {
        let covered = reported.contains(&code.as_str())
            || generated_here.contains(&code.as_str())
            || untested.contains(&code.as_str());
        if !covered {
            missing.push(code);
        }
    }
    assert!(missing.is_empty(), "documented codes without a case: {missing:?}");
}

/// Reads the codes of the diagnostics table in docs/language.md: every name in
/// backticks in the first cell. A short form (`unreadable` after
/// `semslo::load::not_found`) gets the prefix of the full name before it.
fn documented_codes(markdown: &str) -> Vec<String> {
    let mut codes = Vec::new();
    for line in markdown.lines().filter(|line| line.starts_with("| `semslo::")) {
        let first_cell = line.split('|').nth(1).unwrap_or_default();
        let mut prefix = String::new();
        for name in first_cell.split('`').skip(1).step_by(2) {
            if let Some(position) = name.rfind("::") {
                prefix = name[..position + 2].to_string();
                codes.push(name.to_string());
            } else {
                codes.push(format!("{prefix}{name}"));
            }
        }
    }
    codes
}

#[test]
fn warnings_alone_still_compile() {
    let (set, diagnostics) = compile_case(&Path::new(CASES).join("unknown_field.slo"));

    assert!(!diagnostics.has_errors());
    assert_eq!(diagnostics.warning_count(), 2);
    assert!(set.is_some());
}

#[test]
fn any_error_withholds_the_policy_set() {
    let (set, diagnostics) = compile_case(&Path::new(CASES).join("several_check_errors.slo"));

    assert_eq!(diagnostics.error_count(), 4);
    assert!(set.is_none());
}

#[test]
fn procurement_policy_is_valid() {
    let (set, diagnostics) = compile::load(Path::new("policies/procurement"));

    assert_eq!(render_all(&diagnostics), "no diagnostics\n");
    let set = set.expect("the procurement policy compiles");
    let names: Vec<&str> = set.rules.iter().map(|rule| rule.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "vendor_not_deprioritized",
            "unit_price_within_band",
            "vendor_chosen_from_current_catalog",
            "total_matches_lines",
            "large_orders_reviewed",
            "sku_format",
        ]
    );
    assert!(set.hash.starts_with("sha256:"), "{}", set.hash);
}

// ---------------------------------------------------------------- line endings and encodings

const ERROR_ON_LINE_4: &str = "policy endings\n# comment\nrule r {\n  expect outcome.total = 1\n}\n";

/// Writes `bytes` as `policy.slo` in a fresh directory and loads it from disk.
fn load_bytes(bytes: &[u8]) -> (tempfile::TempDir, Diagnostics) {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("policy.slo");
    std::fs::write(&path, bytes).unwrap();
    let (_, diagnostics) = compile::load(&path);
    (directory, diagnostics)
}

/// Renders diagnostics with the temporary directory's path replaced by `[TMP]`.
fn render_scrubbed(diagnostics: &Diagnostics, directory: &tempfile::TempDir) -> String {
    render_all(&scrub_directory(diagnostics, directory.path()))
}

/// Returns the `file:line:column` of the first diagnostic.
fn first_location(diagnostics: &Diagnostics) -> String {
    diagnostics.iter().next().expect("a diagnostic").location().expect("a place")
}

#[test]
fn crlf_line_endings() {
    let crlf = ERROR_ON_LINE_4.replace('\n', "\r\n");
    let (lf_directory, lf) = load_bytes(ERROR_ON_LINE_4.as_bytes());
    let (crlf_directory, diagnostics) = load_bytes(crlf.as_bytes());

    assert_eq!(codes(&diagnostics), ["semslo::parse::unexpected_token"]);
    let location = first_location(&scrub_directory(&diagnostics, crlf_directory.path()));
    assert_eq!(location, "[TMP]/policy.slo:4:24");
    assert_eq!(render_scrubbed(&diagnostics, &crlf_directory), render_scrubbed(&lf, &lf_directory));
    insta::assert_snapshot!(render_scrubbed(&diagnostics, &crlf_directory));
}

#[test]
fn crlf_valid_policy_has_no_diagnostics() {
    let text = "policy endings\r\nlet limit = 5\r\n\r\nrule r {\r\n  title \"t\"\r\n  expect outcome.total\r\n         < limit\r\n}\r\n";
    let (_directory, diagnostics) = load_bytes(text.as_bytes());

    assert_eq!(render_all(&diagnostics), "no diagnostics\n");
}

#[test]
fn leading_byte_order_mark() {
    let valid = "\u{FEFF}policy bom\nrule r {\n  expect outcome.total > 0\n}\n";
    let (_directory, diagnostics) = load_bytes(valid.as_bytes());
    assert_eq!(render_all(&diagnostics), "no diagnostics\n");

    // The mark is not a character of line 1, so the column counts from after it.
    let broken = "\u{FEFF}rule r { expect outcome.total = 1 }\n";
    let (directory, diagnostics) = load_bytes(broken.as_bytes());
    assert_eq!(codes(&diagnostics), ["semslo::parse::unexpected_token"]);
    let location = first_location(&scrub_directory(&diagnostics, directory.path()));
    assert_eq!(location, "[TMP]/policy.slo:1:31");
    insta::assert_snapshot!(render_scrubbed(&diagnostics, &directory));
}

#[test]
fn non_ascii_columns_count_characters() {
    let (_, diagnostics) = compile_case(&Path::new(CASES).join("non_ascii_before_error.slo"));
    let locations: Vec<String> = diagnostics.iter().map(|d| d.location().unwrap()).collect();

    // `"é 日本語 😀"` is 9 characters but 19 bytes, so the `=` is character 54 of
    // line 2 and byte 64; `ü` makes `lenght` character 39 and byte 40 of line 6.
    assert_eq!(locations, ["non_ascii_before_error.slo:2:54", "non_ascii_before_error.slo:6:39"]);
}

// ---------------------------------------------------------------- loading paths

#[test]
fn policy_path_not_found() {
    let directory = tempfile::tempdir().unwrap();
    let (set, diagnostics) = compile::load(&directory.path().join("missing.slo"));

    assert!(set.is_none());
    assert_eq!(codes(&diagnostics), ["semslo::load::not_found"]);
    insta::assert_snapshot!(render_scrubbed(&diagnostics, &directory));
}

#[test]
fn directory_without_policies() {
    let directory = tempfile::tempdir().unwrap();
    write_files(directory.path(), &[("README.md", "no policies here\n"), ("data/v.csv", "a\n1\n")]);
    let (set, diagnostics) = compile::load(directory.path());

    assert!(set.is_none());
    assert_eq!(codes(&diagnostics), ["semslo::load::no_policies"]);
    insta::assert_snapshot!(render_scrubbed(&diagnostics, &directory));
}

#[test]
fn policy_file_not_utf8() {
    let (directory, diagnostics) = load_bytes(b"rule r { expect outcome.name == \"caf\xe9\" }\n");

    assert_eq!(codes(&diagnostics), ["semslo::load::not_utf8"]);
    insta::assert_snapshot!(render_scrubbed(&diagnostics, &directory));
}

#[test]
fn directory_search_is_recursive_and_sorted() {
    let directory = tempfile::tempdir().unwrap();
    write_files(
        directory.path(),
        &[
            ("b.slo", "rule from_b { expect true }\n"),
            ("a/nested.slo", "rule from_a_nested { expect true }\n"),
            ("a/notes.txt", "rule not_a_policy { expect true }\n"),
            ("c/d/deep.slo", "rule from_c_d { expect true }\n"),
        ],
    );
    let (set, diagnostics) = compile::load(directory.path());

    assert!(diagnostics.is_empty(), "{}", render_all(&diagnostics));
    let names: Vec<String> = set.unwrap().rules.iter().map(|rule| rule.name.clone()).collect();
    assert_eq!(names, ["from_a_nested", "from_b", "from_c_d"]);
}

#[test]
fn duplicate_rule_across_files() {
    let directory = tempfile::tempdir().unwrap();
    write_files(
        directory.path(),
        &[
            ("orders.slo", "rule total_positive { expect outcome.total > 0 }\n"),
            ("refunds.slo", "rule total_positive { expect outcome.refund > 0 }\n"),
        ],
    );
    let (set, diagnostics) = compile::load(directory.path());

    assert!(set.is_none());
    assert_eq!(codes(&diagnostics), ["semslo::check::duplicate_rule"]);
    insta::assert_snapshot!(render_scrubbed(&diagnostics, &directory));
}

#[test]
fn errors_of_all_files_reported() {
    let directory = tempfile::tempdir().unwrap();
    write_files(
        directory.path(),
        &[("a.slo", "rule a { expect outcome.total = 1 }\n"), ("b.slo", "rule b { expect lenght(outcome.sku) > 0 }\n")],
    );
    let (_, diagnostics) = compile::load(directory.path());

    assert_eq!(codes(&diagnostics), ["semslo::parse::unexpected_token", "semslo::check::unknown_function"]);
}

#[cfg(unix)]
#[test]
fn symlink_out_of_directory_is_rejected() {
    let outside = tempfile::tempdir().unwrap();
    write_files(outside.path(), &[("vendors.csv", "vendor_id\nV-1\n")]);
    let directory = tempfile::tempdir().unwrap();
    std::fs::create_dir(directory.path().join("data")).unwrap();
    std::os::unix::fs::symlink(outside.path().join("vendors.csv"), directory.path().join("data/vendors.csv")).unwrap();
    write_files(
        directory.path(),
        &[("policy.slo", "use \"data/vendors.csv\" as vendors\nrule r { expect outcome.vendor in vendors }\n")],
    );
    let (set, diagnostics) = compile::load(&directory.path().join("policy.slo"));

    assert!(set.is_none());
    assert_eq!(codes(&diagnostics), ["semslo::load::data_outside_policy"]);
}

#[test]
fn dot_dot_that_stays_inside_is_allowed() {
    let directory = tempfile::tempdir().unwrap();
    write_files(
        directory.path(),
        &[
            ("data/vendors.csv", "vendor_id\nV-1\n"),
            (
                "policy.slo",
                "use \"data/../data/vendors.csv\" as vendors\nrule r { expect outcome.vendor in vendors }\n",
            ),
        ],
    );
    let (set, diagnostics) = compile::load(&directory.path().join("policy.slo"));

    assert!(diagnostics.is_empty(), "{}", render_all(&diagnostics));
    assert!(set.is_some());
}

// ---------------------------------------------------------------- hostile input

fn parse_text(text: &str) -> Diagnostics {
    compile_sources(&[SourceFile::from_text("hostile.slo", text)]).1
}

#[test]
fn hundred_thousand_open_brackets_are_too_deep() {
    let text = format!("rule r {{ expect {} }}\n", "(".repeat(100_000));
    let diagnostics = parse_text(&text);

    assert_eq!(codes(&diagnostics), ["semslo::parse::too_deep"]);
    let diagnostic = diagnostics.iter().next().unwrap();
    assert_eq!(diagnostic.message, format!("brackets nested deeper than {MAX_BRACKET_DEPTH} levels"));
    // The label sits on the first bracket past the limit: `{` counts as one level.
    assert_eq!(diagnostic.location().unwrap(), format!("hostile.slo:1:{}", 17 + MAX_BRACKET_DEPTH - 1));
}

#[test]
fn brackets_at_the_limit_parse() {
    let depth = MAX_BRACKET_DEPTH - 1;
    let text = format!("rule r {{ expect {}outcome.ok{} }}\n", "(".repeat(depth), ")".repeat(depth));

    assert_eq!(render_all(&parse_text(&text)), "no diagnostics\n");
}

#[test]
fn ten_thousand_nots_are_too_deep() {
    let text = format!("rule r {{ expect {}outcome.ok }}\n", "not ".repeat(10_000));
    let diagnostics = parse_text(&text);

    assert_eq!(codes(&diagnostics), ["semslo::parse::too_deep"]);
    assert_eq!(
        diagnostics.iter().next().unwrap().message,
        format!("expression nested deeper than {MAX_EXPR_DEPTH} levels")
    );
}

#[test]
fn hundred_thousand_field_accesses_are_too_deep() {
    let text = format!("rule r {{ expect outcome{} > 1 }}\n", ".a".repeat(100_000));

    assert_eq!(codes(&parse_text(&text)), ["semslo::parse::too_deep"]);
}

#[test]
fn expression_depth_at_the_limit_parses() {
    // `outcome.ok` is two levels deep (a name and a field), and each `not` adds one.
    let text = format!("rule r {{ expect {}outcome.ok }}\n", "not ".repeat(MAX_EXPR_DEPTH - 2));
    assert_eq!(render_all(&parse_text(&text)), "no diagnostics\n");

    let text = format!("rule r {{ expect {}outcome.ok }}\n", "not ".repeat(MAX_EXPR_DEPTH - 1));
    assert_eq!(codes(&parse_text(&text)), ["semslo::parse::too_deep"]);
}

/// Runs `semslo check` on a policy made of `text` in a child process, so that a
/// stack overflow fails the test instead of aborting the test binary.
fn check_in_child(text: &str) -> Output {
    let directory = tempfile::tempdir().unwrap();
    write_files(directory.path(), &[("hostile.slo", text), ("runs.jsonl", "{\"outcome\": {}}\n")]);
    Command::new(env!("CARGO_BIN_EXE_semslo"))
        .args(["check", "--policy", "hostile.slo", "--records", "runs.jsonl"])
        .current_dir(directory.path())
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

fn assert_too_deep(output: &Output) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        output.status.code(),
        Some(2),
        "status {:?}, stderr:\n{}",
        output.status,
        &stderr[..stderr.len().min(2_000)]
    );
    assert!(stderr.contains("semslo::parse::too_deep"), "{}", &stderr[..stderr.len().min(2_000)]);
}

#[test]
fn nested_if_is_too_deep() {
    let n = 5_000;
    let text = format!("rule r {{\n  expect {}true{}\n}}\n", "if true then ".repeat(n), " else false".repeat(n));

    assert_too_deep(&check_in_child(&text));
}

#[test]
fn long_else_if_chain_is_too_deep() {
    let text = format!("rule r {{\n  expect {}false\n}}\n", "if outcome.a == 1 then true else\n  ".repeat(10_000));

    assert_too_deep(&check_in_child(&text));
}

#[test]
fn nested_count_is_too_deep() {
    let text = format!("rule r {{\n  expect {}steps > 1\n}}\n", "count s in ".repeat(10_000));

    assert_too_deep(&check_in_child(&text));
}

#[test]
fn error_past_column_65535_renders() {
    let text = format!("rule r {{ expect {}outcome.total > 1 }}\n", "- ".repeat(40_000));

    assert_too_deep(&check_in_child(&text));
}

#[test]
fn error_far_along_a_line_renders() {
    // The same error about 9,800 columns into the line renders.
    let text = format!("rule r {{ expect {}outcome.total > 1 }}\n", "- ".repeat(5_000));

    assert_too_deep(&check_in_child(&text));
}

// ---------------------------------------------------------------- known bugs

#[test]
fn let_bound_to_table_is_rejected() {
    let policy = "use \"data/bands.csv\" as bands key category\nlet all_bands = bands\nrule r { expect outcome.category in all_bands }\n";
    let (_directory, set, diagnostics) =
        common::compile_with_data(policy, &[("data/bands.csv", "category,min\npaper,1\n")]);

    assert_eq!(codes(&diagnostics), ["semslo::check::table_as_value"]);
    assert!(set.is_none());
}

#[test]
fn rendered_column_counts_characters() {
    let (_, diagnostics) = compile_case(&Path::new(CASES).join("non_ascii_before_error.slo"));
    let rendered = render_all(&diagnostics);

    assert!(rendered.contains("[non_ascii_before_error.slo:2:54]"), "{rendered}");
    assert!(rendered.contains("[non_ascii_before_error.slo:6:39]"), "{rendered}");
}
