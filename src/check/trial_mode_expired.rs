//! `semslo::lint::trial_mode_expired`: a rule still in `shadow` or `warn` mode after the
//! date its `mode ... until DATE` line set for deciding the trial. Past that date the
//! rule should be enforced, or its trial extended on purpose.

use super::LintOptions;
use super::context::SetContext;
use super::expired_waiver::days;
use crate::diagnostic::Diagnostic;
use crate::syntax::ast::RuleMode;
use crate::value::parse_date;

const CODE: &str = "semslo::lint::trial_mode_expired";

pub fn check(context: &SetContext, options: &LintOptions, findings: &mut Vec<Diagnostic>) {
    for file in &context.files {
        for rule in &file.ast.rules {
            let Some((text, span)) = &rule.mode_until else { continue };
            // An unparsable date is a compile error already (`semslo::check::invalid_literal`).
            let Some(until) = parse_date(text) else { continue };
            if rule.mode == RuleMode::Enforce || until >= options.today {
                continue;
            }
            let mode = rule.mode.as_str();
            findings.push(
                Diagnostic::warning(
                    CODE,
                    format!("rule `{}` is still in `{mode}` mode after its trial ended on {until}", rule.name.name),
                )
                .in_file(&file.source)
                .with_label(*span, format!("trial ended {} before {}", days((options.today - until).num_days()), options.today))
                .with_help(format!(
                    "decide the trial: switch the rule to `mode enforce`, or extend it with a later date in `mode {mode} until YYYY-MM-DD`"
                )),
            );
        }
    }
}
