//! `semslo::lint::never_applied`: a rule with a `when` that skipped every sample run.
//! Either its condition is wrong, or the runs that need it never occur in the samples.
//! Both deserve a look before the rule is trusted to guard anything.

use super::context::SetContext;
use super::samples::SetSamples;
use crate::diagnostic::Diagnostic;

const CODE: &str = "semslo::lint::never_applied";

pub fn check(context: &SetContext, samples: &SetSamples, findings: &mut Vec<Diagnostic>) {
    let Some(set) = &context.set else { return };
    for (rule, counts) in set.rules.iter().zip(&samples.rules) {
        if rule.when.is_none() || counts.applied > 0 {
            continue;
        }
        let runs =
            if samples.runs == 1 { "the sample run".to_string() } else { format!("the {} sample runs", samples.runs) };
        let mut reasons = Vec::new();
        if counts.condition_false > 0 {
            reasons.push(format!("its `when` was false on {}", counts.condition_false));
        }
        if counts.field_missing > 0 {
            reasons.push(format!("read a missing field on {}", counts.field_missing));
        }
        if counts.waived > 0 {
            reasons.push(format!("was waived on {}", counts.waived));
        }
        let source = &set.files[rule.file].source;
        let label = rule.when.as_ref().map_or(rule.head_span, |when| when.span);
        findings.push(
            Diagnostic::warning(CODE, format!("rule `{}` never applied to {runs}", rule.name))
                .in_file(source)
                .with_label(rule.head_span, "")
                .with_label(label, reasons.join(", "))
                .with_help("check the `when` condition against real runs, or add sample runs the rule is meant for"),
        );
    }
}
