//! Compiling `test` blocks: loading their records and resolving what they expect.

use std::path::Path;

use serde_json::Value as Json;

use super::program::{CompiledRule, CompiledSlo, CompiledTest, CompiledTestExpect, FileId, TestTarget};
use super::table;
use crate::diagnostic::{Diagnostic, Diagnostics, SourceFile, Span, did_you_mean};
use crate::syntax::ast::{GivenRecord, TestCase};

/// A test whose record is loaded but whose expectations wait for every file's rules.
pub(super) struct PendingTest {
    pub test: CompiledTest,
    pub case: TestCase,
    pub source: SourceFile,
}

fn error(source: &SourceFile, code: &'static str, message: String, span: Span, help: &str) -> Diagnostic {
    Diagnostic::error(code, message).in_file(source).with_label(span, "").with_help(help)
}

/// Loads the test's record; returns the bytes read from a file (for the set's hash) too.
pub(super) fn load_test(
    source: &SourceFile,
    file: FileId,
    case: &TestCase,
    policy_dir: &Path,
    diagnostics: &mut Diagnostics,
) -> Option<(PendingTest, Vec<u8>)> {
    let (record, bytes) = match case.given.as_ref()? {
        GivenRecord::Inline { json, span } => match serde_json::from_str::<Json>(json) {
            Ok(record) => (record, Vec::new()),
            Err(e) => {
                diagnostics.push(error(
                    source,
                    "semslo::check::invalid_test_record",
                    format!("the record of test `{}` is not valid JSON: {e}", case.name),
                    *span,
                    "write the run as a JSON object",
                ));
                return None;
            }
        },
        GivenRecord::File { path, span } => {
            let loaded = table::resolve_path(policy_dir, path).map_err(|e| (e.message, e.help)).and_then(|resolved| {
                let bytes = std::fs::read(&resolved)
                    .map_err(|e| (format!("cannot read `{path}`: {e}"), "check the path".to_string()))?;
                let text = String::from_utf8_lossy(&bytes).into_owned();
                let text = text.strip_prefix('\u{FEFF}').unwrap_or(&text).to_string();
                let is_yaml = resolved.extension().is_some_and(|e| e == "yaml" || e == "yml");
                let record = if is_yaml {
                    crate::input::parse_yaml_document(&text, 1)
                } else {
                    serde_json::from_str::<Json>(&text).map_err(|e| e.to_string())
                }
                .map_err(|e| {
                    (
                        format!("`{path}` is not a valid run record: {e}"),
                        "a test record file holds one JSON object or one YAML document".to_string(),
                    )
                })?;
                Ok((record, bytes))
            });
            match loaded {
                Ok(loaded) => loaded,
                Err((message, help)) => {
                    diagnostics.push(error(source, "semslo::check::invalid_test_record", message, *span, &help));
                    return None;
                }
            }
        }
    };
    if !record.is_object() {
        diagnostics.push(error(
            source,
            "semslo::check::invalid_test_record",
            format!("the record of test `{}` is not a JSON object", case.name),
            case.head_span,
            "a run record is one JSON object",
        ));
        return None;
    }
    let test = CompiledTest {
        name: case.name.clone(),
        file,
        record,
        expects: Vec::new(),
        span: case.span,
        head_span: case.head_span,
    };
    Some((PendingTest { test, case: case.clone(), source: source.clone() }, bytes))
}

/// Resolves every test's targets to rules or SLOs and checks the verdict fits the target.
pub(super) fn resolve_tests(
    pending: Vec<PendingTest>,
    rules: &[CompiledRule],
    slos: &[CompiledSlo],
    unparsed: &[String],
    diagnostics: &mut Diagnostics,
) -> Vec<CompiledTest> {
    let mut tests: Vec<CompiledTest> = Vec::new();
    for PendingTest { mut test, case, source } in pending {
        if tests.iter().any(|other| other.name == test.name) {
            diagnostics.push(error(
                &source,
                "semslo::check::duplicate_test",
                format!("test `{}` is defined twice", test.name),
                case.head_span,
                "test names identify results in reports; rename one of them",
            ));
            continue;
        }
        for expect in &case.expects {
            let name = expect.target.name.as_str();
            let rule = rules.iter().position(|r| r.name == name);
            let slo = slos.iter().position(|s| s.name == name);
            let target = match (rule, slo, expect.expected.is_slo_verdict()) {
                (Some(index), _, false) => TestTarget::Rule(index),
                (_, Some(index), true) => TestTarget::Slo(index),
                (Some(_), _, true) => {
                    diagnostics.push(error(
                        &source,
                        "semslo::check::test_verdict_mismatch",
                        format!("`{name}` is a rule, so it `passes`, `fails`, `skips` or `errors`"),
                        expect.span,
                        "`good`, `bad` and `not valid` are verdicts of SLOs",
                    ));
                    continue;
                }
                (_, Some(_), false) => {
                    diagnostics.push(error(
                        &source,
                        "semslo::check::test_verdict_mismatch",
                        format!("`{name}` is an SLO, so a run is `good`, `bad` or `not valid` for it"),
                        expect.span,
                        "`passes`, `fails`, `skips` and `errors` are verdicts of rules",
                    ));
                    continue;
                }
                // The rule's syntax error is reported already.
                (None, None, _) if unparsed.iter().any(|unparsed| unparsed == name) => continue,
                (None, None, _) => {
                    let names = rules.iter().map(|r| r.name.as_str()).chain(slos.iter().map(|s| s.name.as_str()));
                    let help = match did_you_mean(name, names) {
                        Some(close) => format!("did you mean `{close}`?"),
                        // Most likely a test file was loaded without the file of its rules.
                        None if rules.is_empty() && slos.is_empty() => {
                            "this policy set has no rules; to test the rules of another file, pass the directory that holds both files".to_string()
                        }
                        None => "name a rule or an SLO of the policy set".to_string(),
                    };
                    diagnostics.push(error(
                        &source,
                        "semslo::check::unknown_rule",
                        format!("unknown rule or SLO `{name}`"),
                        expect.target.span,
                        &help,
                    ));
                    continue;
                }
            };
            test.expects.push(CompiledTestExpect { target, expected: expect.expected, span: expect.span });
        }
        tests.push(test);
    }
    tests
}
