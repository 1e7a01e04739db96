//! `semslo::lint::no_error_budget`: an SLO objective of exactly 100%. The error budget
//! is 1 − objective, so there is none: the first bad run exhausts it, every burn-rate
//! alert fires on it, and the SLO cannot tell a bad day from a single mistake.
//! Objectives outside (0%, 100%] are compile errors (`semslo::check::invalid_objective`).

use rust_decimal::Decimal;

use super::LintOptions;
use super::context::SetContext;
use crate::diagnostic::Diagnostic;
use crate::value::parse_decimal;

const CODE: &str = "semslo::lint::no_error_budget";

pub fn check(context: &SetContext, _options: &LintOptions, findings: &mut Vec<Diagnostic>) {
    for file in &context.files {
        for slo in &file.ast.slos {
            let Some((text, span)) = &slo.objective else { continue };
            if parse_decimal(text) != Some(Decimal::ONE_HUNDRED) {
                continue;
            }
            findings.push(
                Diagnostic::warning(CODE, format!("slo `{}` has an objective of 100%, which leaves no error budget", slo.name.name))
                    .in_file(&file.source)
                    .with_label(*span, "no run may ever be bad")
                    .with_help("a single bad run exhausts the budget and fires every alert; aim for a share you can meet, e.g. `99.9%`"),
            );
        }
    }
}
