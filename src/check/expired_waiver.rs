//! `semslo::lint::expired_waiver`: a `waive when ... until DATE` line whose date is
//! before today. The waiver no longer excuses new runs, so it only hides history. Lint
//! fails on it so that expired exceptions are removed or renewed on purpose.

use super::LintOptions;
use super::context::SetContext;
use crate::diagnostic::Diagnostic;
use crate::value::parse_date;

const CODE: &str = "semslo::lint::expired_waiver";

pub fn check(context: &SetContext, options: &LintOptions, findings: &mut Vec<Diagnostic>) {
    for file in &context.files {
        for rule in &file.ast.rules {
            for waiver in &rule.waivers {
                let (text, span) = &waiver.until;
                // An unparsable date is a compile error already (`semslo::check::invalid_literal`).
                let Some(until) = parse_date(text) else { continue };
                if until >= options.today {
                    continue;
                }
                let reason = waiver.reason.as_ref().map(|reason| format!(" (\"{reason}\")")).unwrap_or_default();
                findings.push(
                    Diagnostic::error(
                        CODE,
                        format!("a waiver of rule `{}`{reason} expired on {until}", rule.name.name),
                    )
                    .in_file(&file.source)
                    .with_label(*span, format!("expired {} before {}", days((options.today - until).num_days()), options.today))
                    .with_help(
                        "runs on or after this date are judged by the rule again; remove the waiver, or renew it with a later `until` date",
                    ),
                );
            }
        }
    }
}

/// `1 day`, `12 days`.
pub fn days(count: i64) -> String {
    if count == 1 { "1 day".to_string() } else { format!("{count} days") }
}
