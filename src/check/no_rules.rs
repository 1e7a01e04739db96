//! `semslo::lint::no_rules`: a policy set without a single rule. It would pass every
//! run, so `semslo check` refuses it, as the engine does (`semslo::engine::no_rules`).
//! Usually `--policy` names a file of shared tables and `let`s instead of the set.

use super::LintOptions;
use super::context::SetContext;
use crate::diagnostic::Diagnostic;

const CODE: &str = "semslo::lint::no_rules";

pub fn check(context: &SetContext, _options: &LintOptions, findings: &mut Vec<Diagnostic>) {
    // A file that did not parse in full may have lost its rules to the syntax error,
    // which is reported already.
    let Some(first) = context.files.first() else { return };
    if context.files.iter().any(|file| !file.complete || !file.ast.rules.is_empty()) {
        return;
    }
    let message = format!("the policy set of `{}` has no rules, so it would pass every run", first.source.name());
    findings.push(
        Diagnostic::error(CODE, message)
            .in_file(&first.source)
            .with_help("add a `rule`, or point `--policy` at the directory or file that holds the rules"),
    );
}
