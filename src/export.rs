//! Export: the SLOs of a policy set as configuration for systems that aggregate
//! and alert past one machine.
//!
//! - [`prometheus_rules`]: Prometheus recording rules and multi-window,
//!   multi-burn-rate alerting rules over the counters `semslo serve` exposes.
//! - [`openslo`]: OpenSLO v1 documents (Service, SLI, SLO, AlertPolicy,
//!   AlertCondition, AlertNotificationTarget).
//!
//! Both read only the compiled SLOs, never run data, so the output depends on the
//! policy text alone. SLOs come in policy-set order and alerts in declared order,
//! so the same policy always gives the same bytes.
//!
//! Both exports count bad and error runs alike: a run whose rules could not be
//! decided is bad (fail closed), the same as `semslo check` counts it.

pub mod openslo;
pub mod prometheus;
mod promql;
mod window;

pub use openslo::openslo;
pub use prometheus::prometheus_rules;

use crate::compile::{CompiledSlo, PolicySet};
use crate::diagnostic::Diagnostic;

/// Counter of valid runs per SLO, labelled `slo` and `result` (`good`, `bad` or
/// `error`), that `semslo serve` exposes on `/metrics`.
pub const RUNS_COUNTER: &str = "semslo_runs_total";

/// Maps an alert name to its `severity` label: `page` alerts are `critical`,
/// `ticket` alerts are `warning`, and any other alert name is used as it is.
pub fn severity(alert_name: &str) -> &str {
    match alert_name {
        "page" => "critical",
        "ticket" => "warning",
        other => other,
    }
}

/// Builds an error about one SLO, labelled at its declaration.
fn slo_diagnostic(set: &PolicySet, slo: &CompiledSlo, code: &'static str, message: String, help: &str) -> Diagnostic {
    Diagnostic::error(code, message).in_file(&set.files[slo.file].source).with_label(slo.span, "").with_help(help)
}

/// Serializes one YAML document. The export types hold only strings, numbers,
/// lists and maps with string keys, which the serializer always accepts.
fn to_yaml<T: serde::Serialize>(value: &T) -> String {
    serde_saphyr::to_string(value).expect("export documents serialize to YAML")
}

/// Writes `lines` as a YAML comment block, one `# ` line each.
fn comment_block(lines: &[String]) -> String {
    lines.iter().map(|line| if line.is_empty() { "#\n".to_string() } else { format!("# {line}\n") }).collect()
}
