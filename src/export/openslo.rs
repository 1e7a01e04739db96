//! OpenSLO v1 documents for the SLOs of a policy set.
//!
//! Per SLO: an `SLI` (a ratio of good to all valid runs, as Prometheus queries
//! over the runs counter), an `SLO` that references it, and per alert an
//! `AlertCondition` of kind `burnrate` with the `AlertPolicy` that holds it. The
//! SLOs' policies become `Service` documents, and each alert name becomes an
//! `AlertNotificationTarget` that the policies notify, because OpenSLO requires
//! at least one target per policy.
//!
//! What OpenSLO v1 cannot express, and what is written instead:
//!
//! - A burn-rate condition has one lookback window, while semslo's alerts need
//!   the burn over a long and a short window. The long window is the
//!   `lookbackWindow`, the short one is `alertAfter`, and the condition's
//!   description and `semslo/short-window` annotation state the exact rule.
//! - An objective must be below 1. An SLO with a 100 % objective gets its SLI
//!   only, with a comment and a warning saying why its other documents are
//!   missing.
//! - Object names are RFC 1123 labels: SLO `purchase_orders_correct` becomes
//!   `purchase-orders-correct`, and its semslo name is kept in the
//!   `semslo/slo` annotation.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde::Serialize;
use serde_saphyr::DoubleQuoted;

use super::promql::runs_selector;
use super::window::{describe_window, openslo_duration};
use super::{comment_block, severity, slo_diagnostic, to_yaml};
use crate::compile::{CompiledAlert, CompiledSlo, PolicySet, SloWindow};
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::syntax::ast::CalendarUnit;

const API_VERSION: &str = "openslo/v1";
/// Maximum length of an object name, which is an RFC 1123 label.
const MAX_NAME: usize = 63;
/// Maximum length of a `displayName` that OpenSLO validators accept.
const MAX_DISPLAY_NAME: usize = 63;
/// Start of every calendar window. 2024-01-01 is a Monday and the first day of a
/// year, a quarter and a month, so it aligns every calendar unit the same way
/// `semslo check` does (weeks start on Monday).
const CALENDAR_START: &str = "2024-01-01 00:00:00";

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Document<S> {
    api_version: &'static str,
    kind: &'static str,
    metadata: Metadata,
    spec: S,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Metadata {
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    display_name: Option<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    annotations: BTreeMap<&'static str, String>,
}

#[derive(Serialize)]
struct ServiceSpec {
    description: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SliSpec {
    description: String,
    ratio_metric: RatioMetric,
}

#[derive(Serialize)]
struct RatioMetric {
    counter: bool,
    good: Metric,
    total: Metric,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Metric {
    metric_source: MetricSource,
}

#[derive(Serialize)]
struct MetricSource {
    #[serde(rename = "type")]
    source_type: &'static str,
    spec: QuerySpec,
}

#[derive(Serialize)]
struct QuerySpec {
    query: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SloSpec {
    description: String,
    service: String,
    indicator_ref: String,
    time_window: Vec<TimeWindow>,
    budgeting_method: &'static str,
    objectives: Vec<Objective>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    alert_policies: Vec<AlertPolicyRef>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TimeWindow {
    duration: String,
    is_rolling: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    calendar: Option<Calendar>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Calendar {
    /// Quoted so that YAML 1.1 readers keep it text instead of a timestamp.
    start_time: DoubleQuoted<&'static str>,
    time_zone: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Objective {
    display_name: String,
    target: Number,
}

/// A YAML number: whole numbers without a fraction (`1`, not `1.0`).
#[derive(Serialize)]
#[serde(untagged)]
enum Number {
    Integer(i64),
    Fraction(f64),
}

impl From<Decimal> for Number {
    fn from(value: Decimal) -> Self {
        match value.normalize().to_i64() {
            Some(integer) if value.fract().is_zero() => Number::Integer(integer),
            _ => Number::Fraction(value.to_f64().expect("every decimal has a nearest f64")),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AlertPolicyRef {
    alert_policy_ref: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AlertPolicySpec {
    description: String,
    alert_when_breaching: bool,
    alert_when_resolved: bool,
    alert_when_no_data: bool,
    conditions: Vec<ConditionRef>,
    notification_targets: Vec<TargetRef>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ConditionRef {
    condition_ref: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TargetRef {
    target_ref: String,
}

#[derive(Serialize)]
struct AlertConditionSpec {
    description: String,
    severity: String,
    condition: BurnRateCondition,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct BurnRateCondition {
    kind: &'static str,
    op: &'static str,
    threshold: Number,
    lookback_window: String,
    alert_after: String,
}

#[derive(Serialize)]
struct NotificationTargetSpec {
    description: String,
    target: String,
}

/// The documents rendered so far, with the names each kind has used.
#[derive(Default)]
struct Output {
    documents: Vec<String>,
    /// (kind, name) → what the name was made from, to report two objects that
    /// would share a name.
    names: BTreeMap<(&'static str, String), String>,
    diagnostics: Diagnostics,
}

impl Output {
    /// Adds a document, or an error if its kind already has an object of that
    /// name. Returns whether the document was added.
    fn push<S: Serialize>(&mut self, set: &PolicySet, slo: &CompiledSlo, document: Document<S>) -> bool {
        let key = (document.kind, document.metadata.name.clone());
        let origin = format!("{} of slo `{}`", document.kind, slo.name);
        if let Some(first) = self.names.get(&key) {
            self.diagnostics.push(slo_diagnostic(
                set,
                slo,
                "semslo::export::duplicate_name",
                format!("the {origin} would be named `{}`, like the {first}", key.1),
                "OpenSLO names are lowercase with `-` for `_`; rename the SLO or alert so the names differ",
            ));
            return false;
        }
        self.names.insert(key, origin);
        self.documents.push(to_yaml(&document));
        true
    }
}

/// Renders OpenSLO v1 documents for every SLO of `set`, separated by `---`. Returns
/// `None` with the errors when a name or window cannot be written in OpenSLO; the
/// diagnostics may also hold warnings about SLOs left out.
pub fn openslo(set: &PolicySet) -> (Option<String>, Diagnostics) {
    let mut output = Output::default();
    for slo in &set.slos {
        check_slo(set, slo, &mut output.diagnostics);
    }
    if output.diagnostics.has_errors() {
        return (None, output.diagnostics);
    }

    push_services(set, &mut output);
    push_notification_targets(set, &mut output);
    for slo in &set.slos {
        push_slo(set, slo, &mut output);
    }
    if output.diagnostics.has_errors() {
        return (None, output.diagnostics);
    }

    let mut text = comment_block(&header(set));
    text.push_str(&output.documents.join("---\n"));
    (Some(text), output.diagnostics)
}

fn header(set: &PolicySet) -> Vec<String> {
    let mut lines = vec![
        "OpenSLO v1 documents for the SLOs of a semslo policy set.".to_string(),
        "Generated by `semslo export openslo`: regenerate them after a policy change instead of editing them."
            .to_string(),
        format!(
            "The SLIs query {}{{slo, result}}, the counter of valid runs that `semslo serve` exposes on /metrics;",
            super::RUNS_COUNTER
        ),
        "a run is good only when its result is \"good\", so \"error\" runs, whose rules could not be decided, count as bad."
            .to_string(),
    ];
    if set.slos.is_empty() {
        lines.push("The policy set declares no SLO, so there are no documents.".to_string());
    }
    lines
}

/// Reports the names and windows of `slo` that OpenSLO cannot express.
fn check_slo(set: &PolicySet, slo: &CompiledSlo, diagnostics: &mut Diagnostics) {
    let longest_alert_suffix = slo
        .alerts
        .iter()
        .map(|alert| alert_object_name("", alert).len() + CONDITION_SUFFIX.len())
        .max()
        .unwrap_or(0)
        .max(SLI_SUFFIX.len());
    let name = dns_label(&slo.name);
    if name.is_empty() || name.len() + longest_alert_suffix > MAX_NAME {
        diagnostics.push(slo_diagnostic(
            set,
            slo,
            "semslo::export::invalid_name",
            format!("slo `{}` does not fit in an OpenSLO name", slo.name),
            &format!(
                "OpenSLO names are at most {MAX_NAME} lowercase letters, digits and `-`, and this SLO's longest \
                 object adds {longest_alert_suffix} characters to its name; shorten the SLO name"
            ),
        ));
    }

    let rolling = match slo.window {
        SloWindow::Rolling(duration) => Some(duration),
        SloWindow::Calendar(_) => None,
    };
    if rolling.is_some_and(|duration| openslo_duration(duration).is_none()) {
        diagnostics.push(not_minutes(set, slo, &format!("window `{}`", describe_window(slo))));
    }
    for alert in &slo.alerts {
        if dns_label(&alert.name).is_empty() {
            diagnostics.push(slo_diagnostic(
                set,
                slo,
                "semslo::export::invalid_name",
                format!("alert `{}` of slo `{}` has no letter or digit for an OpenSLO name", alert.name, slo.name),
                "OpenSLO names are lowercase letters, digits and `-`; rename the alert, e.g. `page` or `ticket`",
            ));
        }
        for window in [alert.long_window, alert.short_window] {
            if openslo_duration(window).is_none() {
                diagnostics.push(not_minutes(set, slo, &format!("alert `{}`", alert.name)));
            }
        }
    }
}

fn not_minutes(set: &PolicySet, slo: &CompiledSlo, subject: &str) -> Diagnostic {
    slo_diagnostic(
        set,
        slo,
        "semslo::export::invalid_duration",
        format!("the {subject} of slo `{}` is not a whole number of minutes", slo.name),
        "OpenSLO durations count whole minutes, hours or days; round the window to whole minutes",
    )
}

const SLI_SUFFIX: &str = "-sli";
const CONDITION_SUFFIX: &str = "-burn-rate";

/// `name` as an RFC 1123 label: ASCII lowercase, every other character as `-`,
/// no `-` at either end.
fn dns_label(name: &str) -> String {
    let mapped: String =
        name.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' }).collect();
    mapped.trim_matches('-').to_string()
}

/// `PREFIX-ALERT-LONG-SHORT`, the name of an alert's policy: `…-page-1h-5m`.
fn alert_object_name(prefix: &str, alert: &CompiledAlert) -> String {
    let long = openslo_duration(alert.long_window).unwrap_or_default();
    let short = openslo_duration(alert.short_window).unwrap_or_default();
    format!("{prefix}-{}-{long}-{short}", dns_label(&alert.name))
}

/// Names the service of an SLO: its file's policy name, else the file's name
/// without extension, else `semslo`. Returns the OpenSLO name and the source name.
fn service_name(set: &PolicySet, slo: &CompiledSlo) -> (String, String) {
    let file = &set.files[slo.file];
    let policy = file.policy_name.clone().unwrap_or_else(|| {
        file.source.path().file_stem().map(|stem| stem.to_string_lossy().into_owned()).unwrap_or_default()
    });
    let name = dns_label(&policy);
    if name.is_empty() || name.len() > MAX_NAME { ("semslo".to_string(), policy) } else { (name, policy) }
}

fn push_services(set: &PolicySet, output: &mut Output) {
    let mut seen = Vec::new();
    for slo in &set.slos {
        let (name, policy) = service_name(set, slo);
        if seen.contains(&name) {
            continue;
        }
        seen.push(name.clone());
        let document = Document {
            api_version: API_VERSION,
            kind: "Service",
            metadata: metadata(name, None, BTreeMap::new()),
            spec: ServiceSpec { description: format!("Workflow runs judged by the semslo policy `{policy}`.") },
        };
        output.push(set, slo, document);
    }
}

fn target_name(alert: &CompiledAlert) -> String {
    format!("semslo-{}", dns_label(&alert.name))
}

fn push_notification_targets(set: &PolicySet, output: &mut Output) {
    let mut seen = Vec::new();
    for slo in set.slos.iter().filter(|slo| has_budget(slo)) {
        for alert in &slo.alerts {
            if seen.contains(&alert.name) {
                continue;
            }
            seen.push(alert.name.clone());
            let document = Document {
                api_version: API_VERSION,
                kind: "AlertNotificationTarget",
                metadata: metadata(target_name(alert), None, BTreeMap::new()),
                spec: NotificationTargetSpec {
                    description: format!(
                        "Where semslo `{}` alerts go; the Prometheus rules label them severity=\"{}\". \
                         Replace the target with your channel.",
                        alert.name,
                        severity(&alert.name)
                    ),
                    target: severity(&alert.name).to_string(),
                },
            };
            output.push(set, slo, document);
        }
    }
}

fn has_budget(slo: &CompiledSlo) -> bool {
    slo.objective < Decimal::ONE
}

fn push_slo(set: &PolicySet, slo: &CompiledSlo, output: &mut Output) {
    let name = dns_label(&slo.name);
    let annotations = BTreeMap::from([("semslo/slo", slo.name.clone())]);
    let sli_name = format!("{name}{SLI_SUFFIX}");
    let sli_added = output.push(set, slo, sli_document(slo, &sli_name, annotations.clone()));

    if !has_budget(slo) {
        output.diagnostics.push(
            Diagnostic::warning(
                "semslo::export::objective_not_expressible",
                format!("slo `{}` has a 100% objective, which OpenSLO cannot express", slo.name),
            )
            .in_file(&set.files[slo.file].source)
            .with_label(slo.span, "")
            .with_help(
                "an OpenSLO target must be below 1, so only the SLO's SLI is exported; \
                 lower the objective (e.g. to 99.99%) to export the SLO and its alerts",
            ),
        );
        let note = format!(
            "SLO {} has a 100% objective, which OpenSLO v1 cannot express (a target must be below 1), \
             so only its SLI is exported.",
            slo.name
        );
        if let Some(sli) = output.documents.last_mut().filter(|_| sli_added) {
            *sli = comment_block(&[note]) + sli;
        }
        return;
    }

    let mut slo_annotations = annotations.clone();
    if slo.minimum_runs > 0 {
        slo_annotations.insert("semslo/minimum-runs", slo.minimum_runs.to_string());
    }
    let policies = slo.alerts.iter().map(|alert| alert_object_name(&name, alert)).collect();
    output.push(set, slo, slo_document(set, slo, &name, &sli_name, slo_annotations, policies));

    for alert in &slo.alerts {
        let policy_name = alert_object_name(&name, alert);
        let condition_name = format!("{policy_name}{CONDITION_SUFFIX}");
        output.push(set, slo, condition_document(slo, alert, &condition_name, annotations.clone()));
        output.push(set, slo, policy_document(slo, alert, &policy_name, &condition_name, annotations.clone()));
    }
}

fn metadata(name: String, display_name: Option<&str>, annotations: BTreeMap<&'static str, String>) -> Metadata {
    let display_name = display_name.filter(|text| text.chars().count() <= MAX_DISPLAY_NAME).map(str::to_string);
    Metadata { name, display_name, annotations }
}

fn sli_document(slo: &CompiledSlo, name: &str, annotations: BTreeMap<&'static str, String>) -> Document<SliSpec> {
    let query = |result: Option<&str>| Metric {
        metric_source: MetricSource {
            source_type: "Prometheus",
            spec: QuerySpec { query: format!("sum({})", runs_selector(&slo.name, result)) },
        },
    };
    Document {
        api_version: API_VERSION,
        kind: "SLI",
        metadata: metadata(name.to_string(), Some(&format!("Good runs of {}", slo.name)), annotations),
        spec: SliSpec {
            description: format!(
                "Share of the valid runs of semslo SLO `{}` that were good. Runs whose rules could not be \
                 decided (result \"error\") count in the total but never as good.",
                slo.name
            ),
            ratio_metric: RatioMetric { counter: true, good: query(Some("result=\"good\"")), total: query(None) },
        },
    }
}

fn slo_document(
    set: &PolicySet,
    slo: &CompiledSlo,
    name: &str,
    sli_name: &str,
    annotations: BTreeMap<&'static str, String>,
    policies: Vec<String>,
) -> Document<SloSpec> {
    let description = match &slo.title {
        Some(title) => format!("{title}. Objective over the valid runs of semslo SLO `{}`.", slo.name),
        None => format!("Objective over the valid runs of semslo SLO `{}`.", slo.name),
    };
    Document {
        api_version: API_VERSION,
        kind: "SLO",
        metadata: metadata(name.to_string(), slo.title.as_deref(), annotations),
        spec: SloSpec {
            description,
            service: service_name(set, slo).0,
            indicator_ref: sli_name.to_string(),
            time_window: vec![time_window(slo)],
            budgeting_method: "Occurrences",
            objectives: vec![Objective { display_name: "Good runs".to_string(), target: slo.objective.into() }],
            alert_policies: policies.into_iter().map(|alert_policy_ref| AlertPolicyRef { alert_policy_ref }).collect(),
        },
    }
}

fn time_window(slo: &CompiledSlo) -> TimeWindow {
    match slo.window {
        SloWindow::Rolling(duration) => TimeWindow {
            duration: openslo_duration(duration).expect("checked before rendering"),
            is_rolling: true,
            calendar: None,
        },
        SloWindow::Calendar(unit) => TimeWindow {
            duration: calendar_duration(unit).to_string(),
            is_rolling: false,
            calendar: Some(Calendar {
                start_time: DoubleQuoted(CALENDAR_START),
                time_zone: slo.time_zone.name().to_string(),
            }),
        },
    }
}

fn calendar_duration(unit: CalendarUnit) -> &'static str {
    match unit {
        CalendarUnit::Day => "1d",
        CalendarUnit::Week => "1w",
        CalendarUnit::Month => "1M",
        CalendarUnit::Quarter => "1Q",
    }
}

fn condition_document(
    slo: &CompiledSlo,
    alert: &CompiledAlert,
    name: &str,
    mut annotations: BTreeMap<&'static str, String>,
) -> Document<AlertConditionSpec> {
    let long = openslo_duration(alert.long_window).expect("checked before rendering");
    let short = openslo_duration(alert.short_window).expect("checked before rendering");
    annotations.insert("semslo/long-window", long.clone());
    annotations.insert("semslo/short-window", short.clone());
    let factor = alert.factor.normalize();
    Document {
        api_version: API_VERSION,
        kind: "AlertCondition",
        metadata: metadata(name.to_string(), Some(&format!("{}: burn rate above {factor}", alert.name)), annotations),
        spec: AlertConditionSpec {
            description: format!(
                "semslo alerts when the burn rate of SLO `{}` exceeds {factor} over both the last {long} and the \
                 last {short}. A condition has one lookback window, so the short window is given as alertAfter.",
                slo.name
            ),
            severity: alert.name.clone(),
            condition: BurnRateCondition {
                kind: "burnrate",
                op: "gt",
                threshold: alert.factor.into(),
                lookback_window: long,
                alert_after: short,
            },
        },
    }
}

fn policy_document(
    slo: &CompiledSlo,
    alert: &CompiledAlert,
    name: &str,
    condition_name: &str,
    annotations: BTreeMap<&'static str, String>,
) -> Document<AlertPolicySpec> {
    Document {
        api_version: API_VERSION,
        kind: "AlertPolicy",
        metadata: metadata(name.to_string(), Some(&format!("{} alert of {}", alert.name, slo.name)), annotations),
        spec: AlertPolicySpec {
            description: format!(
                "The semslo `{}` alert of SLO `{}`, sent to the `{}` notification target.",
                alert.name,
                slo.name,
                target_name(alert)
            ),
            alert_when_breaching: true,
            alert_when_resolved: false,
            alert_when_no_data: false,
            conditions: vec![ConditionRef { condition_ref: condition_name.to_string() }],
            notification_targets: vec![TargetRef { target_ref: target_name(alert) }],
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_label_lowercases_and_replaces_underscores() {
        assert_eq!(dns_label("purchase_orders_correct"), "purchase-orders-correct");
        assert_eq!(dns_label("_Hidden_SLO_"), "hidden-slo");
        assert_eq!(dns_label("___"), "");
    }
}
