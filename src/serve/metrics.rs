//! The server's Prometheus metrics, served at `GET /metrics` in the text format.
//!
//! The names and labels are a public interface: recording and alerting rules are
//! generated over them, and `docs/serve.md` lists them. Only runs accepted for the
//! first time are counted, so a resubmitted run never counts twice.

use std::collections::HashMap;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use crate::engine::{ReloadResult, RunVerdicts, SloResult};

/// Content type of the exposition: the OpenMetrics text format, which Prometheus scrapes.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Upper bounds of the evaluation-time buckets in seconds: 1, 2.5 and 5 per decade, 10 µs to 10 s.
/// Written out, so the `le` labels carry no floating-point noise.
const EVALUATION_BUCKETS: [f64; 19] = [
    0.000_01, 0.000_025, 0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
    0.5, 1.0, 2.5, 5.0, 10.0,
];

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RunLabels {
    slo: String,
    result: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RuleLabels {
    rule: String,
    verdict: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StatusLabels {
    status: String,
}

pub struct Metrics {
    registry: Registry,
    runs: Family<RunLabels, Counter>,
    rule_verdicts: Family<RuleLabels, Counter>,
    reloads: Family<OutcomeLabels, Counter>,
    submissions: Family<StatusLabels, Counter>,
    evaluation_seconds: Histogram,
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::default();
        let runs = Family::<RunLabels, Counter>::default();
        registry.register(
            "semslo_runs",
            "Valid runs accepted, by SLO and result: good, bad (a counted rule failed) or error (a counted rule could not be decided)",
            runs.clone(),
        );
        let rule_verdicts = Family::<RuleLabels, Counter>::default();
        registry.register(
            "semslo_rule_verdicts",
            "Rule verdicts on accepted runs, by rule and verdict",
            rule_verdicts.clone(),
        );
        let reloads = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "semslo_reloads",
            "Policy reload attempts, by outcome: applied, unchanged or rejected",
            reloads.clone(),
        );
        let submissions = Family::<StatusLabels, Counter>::default();
        registry.register(
            "semslo_runs_submitted",
            "Runs received, by status: accepted, duplicate, conflict or rejected",
            submissions.clone(),
        );
        let evaluation_seconds = Histogram::new(EVALUATION_BUCKETS.iter().copied());
        registry.register(
            "semslo_evaluation_seconds",
            "Time to evaluate every rule and SLO of the live policy set on one run",
            evaluation_seconds.clone(),
        );

        for outcome in [ReloadResult::Applied, ReloadResult::Unchanged, ReloadResult::Rejected] {
            let _ = reloads.get_or_create(&OutcomeLabels { outcome: outcome.as_str().to_string() });
        }
        Metrics { registry, runs, rule_verdicts, reloads, submissions, evaluation_seconds }
    }

    /// Counts one newly accepted run: its verdicts, and its result for each SLO that counts it.
    /// Counts the verdicts and SLO results of runs accepted for the first time. Each
    /// series is looked up once per request, not once per run.
    pub fn record_accepted<'a>(&self, runs: impl IntoIterator<Item = &'a RunVerdicts>) {
        let mut verdicts: HashMap<(&str, &str), u64> = HashMap::new();
        let mut results: HashMap<(&str, &str), u64> = HashMap::new();
        for run in runs {
            for verdict in &run.verdicts {
                *verdicts.entry((&verdict.rule, verdict.verdict)).or_default() += 1;
            }
            for effect in run.slos.iter().filter(|effect| effect.result != SloResult::NotValid) {
                *results.entry((&effect.slo, effect.result.as_str())).or_default() += 1;
            }
        }
        for ((rule, verdict), runs) in verdicts {
            let labels = RuleLabels { rule: rule.to_string(), verdict: verdict.to_string() };
            self.rule_verdicts.get_or_create(&labels).inc_by(runs);
        }
        for ((slo, result), runs) in results {
            self.runs.get_or_create(&RunLabels { slo: slo.to_string(), result: result.to_string() }).inc_by(runs);
        }
    }

    /// Makes the series of every SLO of the live set visible at 0 before its first run.
    pub fn declare_slos<'a>(&self, slos: impl IntoIterator<Item = &'a str>) {
        for slo in slos {
            for result in [SloResult::Good, SloResult::Bad, SloResult::Error] {
                let _ =
                    self.runs.get_or_create(&RunLabels { slo: slo.to_string(), result: result.as_str().to_string() });
            }
        }
    }

    pub fn record_submission(&self, status: &str, runs: u64) {
        self.submissions.get_or_create(&StatusLabels { status: status.to_string() }).inc_by(runs);
    }

    pub fn record_reload(&self, outcome: ReloadResult) {
        self.reloads.get_or_create(&OutcomeLabels { outcome: outcome.as_str().to_string() }).inc();
    }

    pub fn observe_evaluation(&self, seconds: f64) {
        self.evaluation_seconds.observe(seconds);
    }

    /// Encodes every metric in the exposition text format.
    pub fn encode(&self) -> String {
        let mut text = String::new();
        encode(&mut text, &self.registry).expect("encoding metrics into a String cannot fail");
        text
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}
