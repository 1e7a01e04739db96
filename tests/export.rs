//! Tests of `semslo export`: the Prometheus rules and OpenSLO documents of the
//! procurement policy and of policies with calendar windows and 100 % objectives,
//! parsed back and checked field by field, snapshotted, and checked with
//! `promtool` where it is installed.

use std::path::{Path, PathBuf};
use std::process::Command;

use regex::Regex;
use semslo::compile::{self, PolicySet};
use semslo::export;
use serde_json::{Value, json};

const PROCUREMENT: &str = "policies/procurement";
const EDGE_CASES: &str = "tests/data/export/edge_cases";
const BURN: &str = "tests/data/export/burn";

fn repo_path(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}

fn load(relative: &str) -> PolicySet {
    let (set, diagnostics) = compile::load(&repo_path(relative));
    let messages: Vec<&str> = diagnostics.iter().map(|diagnostic| diagnostic.message.as_str()).collect();
    set.unwrap_or_else(|| panic!("`{relative}` does not compile: {messages:?}"))
}

/// Compiles `text` as a policy file in a fresh temporary directory.
fn load_text(text: &str) -> (tempfile::TempDir, PolicySet) {
    let directory = tempfile::tempdir().unwrap();
    std::fs::write(directory.path().join("policy.slo"), text).unwrap();
    let (set, diagnostics) = compile::load(directory.path());
    let messages: Vec<&str> = diagnostics.iter().map(|diagnostic| diagnostic.message.as_str()).collect();
    let set = set.unwrap_or_else(|| panic!("test policy does not compile: {messages:?}"));
    (directory, set)
}

/// Writes a policy with one rule and the given SLO blocks.
fn policy_with_slos(slos: &str) -> String {
    format!(
        "policy orders\n\nevent time outcome.created_at\n\nrule amount_positive {{\n  expect outcome.amount > 0\n}}\n\n{slos}"
    )
}

fn rules_yaml(relative: &str) -> String {
    export::prometheus_rules(&load(relative))
}

fn openslo_yaml(relative: &str) -> String {
    let (yaml, diagnostics) = export::openslo(&load(relative));
    let messages: Vec<&str> = diagnostics.iter().map(|diagnostic| diagnostic.message.as_str()).collect();
    yaml.unwrap_or_else(|| panic!("`{relative}` cannot be exported to OpenSLO: {messages:?}"))
}

fn parse(yaml: &str) -> Value {
    serde_saphyr::from_str(yaml).unwrap_or_else(|error| panic!("output is not YAML: {error}\n{yaml}"))
}

fn parse_documents(yaml: &str) -> Vec<Value> {
    serde_saphyr::from_multiple(yaml).unwrap_or_else(|error| panic!("output is not YAML: {error}\n{yaml}"))
}

fn group<'a>(rules: &'a Value, slo: &str) -> &'a Value {
    let name = format!("semslo-{slo}");
    rules["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|group| group["name"] == name.as_str())
        .unwrap_or_else(|| panic!("no group `{name}`"))
}

fn records(group: &Value) -> Vec<&str> {
    group["rules"].as_array().unwrap().iter().filter_map(|rule| rule["record"].as_str()).collect()
}

fn alerts(group: &Value) -> Vec<&Value> {
    group["rules"].as_array().unwrap().iter().filter(|rule| rule.get("alert").is_some()).collect()
}

fn record_expr<'a>(group: &'a Value, record: &str) -> &'a str {
    group["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|rule| rule["record"] == record)
        .and_then(|rule| rule["expr"].as_str())
        .unwrap_or_else(|| panic!("no record `{record}`"))
}

fn alert_with<'a>(group: &'a Value, semslo_alert: &str, long_window: &str) -> &'a Value {
    alerts(group)
        .into_iter()
        .find(|rule| rule["labels"]["semslo_alert"] == semslo_alert && rule["labels"]["long_window"] == long_window)
        .unwrap_or_else(|| panic!("no `{semslo_alert}` alert over `{long_window}`"))
}

// ---------------------------------------------------------------- Prometheus rules

#[test]
fn procurement_rules_match_snapshot() {
    insta::assert_snapshot!(rules_yaml(PROCUREMENT));
}

#[test]
fn edge_case_rules_match_snapshot() {
    insta::assert_snapshot!(rules_yaml(EDGE_CASES));
}

#[test]
fn rules_group_per_slo_in_order() {
    let rules = parse(&rules_yaml(PROCUREMENT));
    let names: Vec<&str> =
        rules["groups"].as_array().unwrap().iter().map(|group| group["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["semslo-purchase_orders_correct", "semslo-no_critical_violations"]);
}

#[test]
fn recording_rules_cover_all_windows() {
    let rules = parse(&rules_yaml(PROCUREMENT));
    let group = group(&rules, "purchase_orders_correct");
    assert_eq!(
        records(group),
        [
            "semslo:slo_objective:ratio",
            "semslo:slo_error_budget:ratio",
            "semslo:slo_error_ratio:rate5m",
            "semslo:slo_error_ratio:rate1h",
            "semslo:slo_error_ratio:rate6h",
            "semslo:slo_error_ratio:rate3d",
            "semslo:slo_error_ratio:rate28d",
            "semslo:slo_error_budget_remaining:ratio",
        ]
    );
    assert_eq!(record_expr(group, "semslo:slo_objective:ratio"), "vector(0.95)");
    assert_eq!(record_expr(group, "semslo:slo_error_budget:ratio"), "vector(0.05)");
    assert_eq!(
        record_expr(group, "semslo:slo_error_budget_remaining:ratio"),
        "1 - semslo:slo_error_ratio:rate28d{slo=\"purchase_orders_correct\"} / 0.05"
    );
}

#[test]
fn every_rule_carries_its_slo_label() {
    let rules = parse(&rules_yaml(PROCUREMENT));
    for group in rules["groups"].as_array().unwrap() {
        let slo = group["name"].as_str().unwrap().trim_start_matches("semslo-");
        for rule in group["rules"].as_array().unwrap() {
            assert_eq!(rule["labels"]["slo"], slo, "{rule}");
        }
    }
}

#[test]
fn error_ratio_counts_error_runs_as_bad() {
    let rules = parse(&rules_yaml(PROCUREMENT));
    let expr = record_expr(group(&rules, "purchase_orders_correct"), "semslo:slo_error_ratio:rate1h");
    let bad = "sum by (slo) (rate(semslo_runs_total{slo=\"purchase_orders_correct\", result!=\"good\"}[1h]))";
    let all = "sum by (slo) (rate(semslo_runs_total{slo=\"purchase_orders_correct\"}[1h]))";
    assert!(expr.starts_with(&format!("(\n  {bad}\n  or\n  0 * {all}\n)")), "{expr}");
    assert!(expr.ends_with(&format!("/\n{all}\n")), "{expr}");
}

#[test]
fn every_alert_reads_recorded_windows() {
    let rules = parse(&rules_yaml(PROCUREMENT));
    let reference = Regex::new(r"(semslo:slo_error_ratio:rate\w+)\{").unwrap();
    for group in rules["groups"].as_array().unwrap() {
        let recorded = records(group);
        for alert in alerts(group) {
            let expr = alert["expr"].as_str().unwrap();
            let used: Vec<&str> = reference.captures_iter(expr).map(|c| c.get(1).unwrap().as_str()).collect();
            assert_eq!(used.len(), 2, "{expr}");
            for name in used {
                assert!(recorded.contains(&name), "`{name}` is not recorded in {}", group["name"]);
            }
        }
    }
}

#[test]
fn burn_alert_checks_both_windows() {
    let rules = parse(&rules_yaml(PROCUREMENT));
    let page = alert_with(group(&rules, "purchase_orders_correct"), "page", "1h");
    assert_eq!(page["alert"], "SemsloErrorBudgetBurn");
    let expr = page["expr"].as_str().unwrap();
    let conditions: Vec<&str> = expr.trim_end().split("\nand\n").collect();
    assert_eq!(conditions[0], "semslo:slo_error_ratio:rate1h{slo=\"purchase_orders_correct\"} > (14.4 * 0.05)");
    assert_eq!(conditions[1], "semslo:slo_error_ratio:rate5m{slo=\"purchase_orders_correct\"} > (14.4 * 0.05)");
    assert_eq!(
        page["labels"],
        json!({
            "severity": "critical",
            "slo": "purchase_orders_correct",
            "semslo_alert": "page",
            "long_window": "1h",
            "short_window": "5m",
        })
    );
}

#[test]
fn ticket_alert_is_a_warning() {
    let rules = parse(&rules_yaml(PROCUREMENT));
    let ticket = alert_with(group(&rules, "purchase_orders_correct"), "ticket", "3d");
    assert_eq!(ticket["labels"]["severity"], "warning");
    assert_eq!(ticket["labels"]["short_window"], "6h");
}

#[test]
fn minimum_runs_gate_both_alert_windows() {
    let rules = parse(&rules_yaml(PROCUREMENT));
    let page = alert_with(group(&rules, "purchase_orders_correct"), "page", "1h");
    let expr = page["expr"].as_str().unwrap();
    for window in ["1h", "5m"] {
        let gate =
            format!("sum by (slo) (increase(semslo_runs_total{{slo=\"purchase_orders_correct\"}}[{window}])) >= 20");
        assert!(expr.contains(&gate), "missing `{gate}` in {expr}");
    }

    let unguarded = alert_with(group(&rules, "no_critical_violations"), "page", "1h");
    assert!(!unguarded["expr"].as_str().unwrap().contains("increase("), "an SLO without a minimum has no gate");
}

#[test]
fn annotations_name_the_slo_and_burn_rate() {
    let rules = parse(&rules_yaml(PROCUREMENT));
    let page = alert_with(group(&rules, "purchase_orders_correct"), "page", "1h");
    let summary = page["annotations"]["summary"].as_str().unwrap();
    let description = page["annotations"]["description"].as_str().unwrap();
    assert_eq!(summary, "SLO purchase_orders_correct: error budget burn rate above 14.4 over 1h and 5m");
    assert!(description.starts_with("\"Purchase orders match procurement intent\"."), "{description}");
    assert!(description.contains("more than 72% of valid runs were bad"), "{description}");
    assert!(description.contains("{{ $value | humanizePercentage }}"), "{description}");
    assert!(description.contains("lasts about 1d22h40m"), "{description}");
}

#[test]
fn calendar_window_uses_nominal_length_with_comment() {
    let yaml = rules_yaml(PROCUREMENT);
    assert!(
        yaml.contains(
            "record: semslo:slo_error_ratio:rate90d # calendar quarter in America/New_York computed over the last 90d\n"
        ),
        "{yaml}"
    );
    assert!(yaml.contains("# SLO no_critical_violations: the window is a calendar quarter in America/New_York."));

    let rules = parse(&yaml);
    let group = group(&rules, "no_critical_violations");
    assert!(records(group).contains(&"semslo:slo_error_ratio:rate90d"));
    assert_eq!(
        record_expr(group, "semslo:slo_error_budget_remaining:ratio"),
        "1 - semslo:slo_error_ratio:rate90d{slo=\"no_critical_violations\"} / 0.01"
    );
}

#[test]
fn default_alerts_are_scaled_to_the_window() {
    let rules = parse(&rules_yaml(PROCUREMENT));
    let group = group(&rules, "no_critical_violations");
    let thresholds: Vec<(&str, &str)> = alerts(group)
        .iter()
        .map(|alert| {
            let expr = alert["expr"].as_str().unwrap();
            let first = expr.lines().next().unwrap();
            (alert["labels"]["long_window"].as_str().unwrap(), first.rsplit(" > ").next().unwrap())
        })
        .collect();
    assert_eq!(
        thresholds,
        [("1h", "(43.2 * 0.01)"), ("6h", "(18 * 0.01)"), ("1d", "(9 * 0.01)"), ("3d", "(3 * 0.01)")]
    );
}

#[test]
fn full_objective_alerts_on_any_bad_run() {
    let yaml = rules_yaml(EDGE_CASES);
    assert!(yaml.contains("# SLO refunds_never_wrong: the objective is 100%"), "{yaml}");

    let rules = parse(&yaml);
    let group = group(&rules, "refunds_never_wrong");
    assert!(!records(group).contains(&"semslo:slo_error_budget_remaining:ratio"), "no budget, so nothing remains");
    assert_eq!(record_expr(group, "semslo:slo_error_budget:ratio"), "vector(0)");

    let page = alert_with(group, "page", "1h");
    assert_eq!(page["alert"], "SemsloBadRunWithoutBudget");
    assert_eq!(
        page["expr"],
        "semslo:slo_error_ratio:rate1h{slo=\"refunds_never_wrong\"} > 0\nand\n\
         semslo:slo_error_ratio:rate5m{slo=\"refunds_never_wrong\"} > 0\n"
    );
    assert_eq!(page["labels"]["severity"], "critical");
}

#[test]
fn template_braces_in_titles_are_escaped() {
    let rules = parse(&rules_yaml(EDGE_CASES));
    let page = alert_with(group(&rules, "refunds_correct"), "page", "1h");
    let description = page["annotations"]["description"].as_str().unwrap();
    assert!(description.starts_with("\"Refunds stay \"within\" the {{ \"{{\" }}limit}}\"."), "{description}");
}

#[test]
fn policy_without_slos_gives_empty_groups() {
    let (_directory, set) = load_text("rule amount_positive {\n  expect outcome.amount > 0\n}\n");
    let yaml = export::prometheus_rules(&set);
    assert!(yaml.contains("# The policy set declares no SLO, so there are no rules.\n"), "{yaml}");
    assert_eq!(parse(&yaml), json!({"groups": []}));
}

#[test]
fn export_is_deterministic() {
    assert_eq!(rules_yaml(PROCUREMENT), rules_yaml(PROCUREMENT));
    assert_eq!(openslo_yaml(PROCUREMENT), openslo_yaml(PROCUREMENT));
}

// ---------------------------------------------------------------- promtool

/// `promtool` on `PATH`, or `None` after printing why the caller is skipped.
fn promtool(test: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths).map(|directory| directory.join("promtool")).find(|path| path.is_file())
    });
    if found.is_none() {
        println!("{test}: skipped: promtool not installed (Debian: apt-get install prometheus)");
    }
    found
}

fn run_promtool(promtool: &Path, directory: &Path, args: &[&str]) {
    let output = Command::new(promtool).args(args).current_dir(directory).output().unwrap();
    assert!(
        output.status.success(),
        "promtool {args:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn promtool_accepts_generated_rules() {
    let Some(promtool) = promtool("promtool_accepts_generated_rules") else { return };
    let directory = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for (name, policy) in [("procurement.yml", PROCUREMENT), ("edge_cases.yml", EDGE_CASES), ("burn.yml", BURN)] {
        std::fs::write(directory.path().join(name), rules_yaml(policy)).unwrap();
        files.push(name);
    }
    let mut args = vec!["check", "rules"];
    args.extend(files);
    run_promtool(&promtool, directory.path(), &args);
}

/// Runs the rules of `tests/data/export/burn` in promtool's rule unit tests: good
/// runs from one shard for two hours, then only `error` runs from another. The
/// ratio is 0 while no run is bad (the bad series does not exist yet) and 1 once
/// every run errors, and the page alert fires then, because errors count as bad.
#[test]
fn promtool_fires_page_on_errors() {
    let Some(promtool) = promtool("promtool_fires_page_on_errors") else { return };
    let yaml = rules_yaml(BURN);
    let rules = parse(&yaml);
    let page = alert_with(group(&rules, "orders_correct"), "page", "1h");
    let description =
        page["annotations"]["description"].as_str().unwrap().replace("{{ $value | humanizePercentage }}", "100%");
    let labels = page["labels"].clone();

    let ratio =
        |value: u32| json!([{"labels": "semslo:slo_error_ratio:rate1h{slo=\"orders_correct\"}", "value": value}]);
    let test = json!({
        "rule_files": ["rules.yml"],
        "evaluation_interval": "1m",
        "tests": [{
            "interval": "1m",
            "input_series": [
                {
                    "series": "semslo_runs_total{slo=\"orders_correct\", result=\"good\", instance=\"shard-1\"}",
                    "values": "0+10x120 1200+0x60",
                },
                {
                    "series": "semslo_runs_total{slo=\"orders_correct\", result=\"error\", instance=\"shard-2\"}",
                    "values": "_x120 10+10x60",
                },
            ],
            "promql_expr_test": [
                {"expr": "semslo:slo_error_ratio:rate1h", "eval_time": "100m", "exp_samples": ratio(0)},
                {"expr": "semslo:slo_error_ratio:rate1h", "eval_time": "180m", "exp_samples": ratio(1)},
            ],
            "alert_rule_test": [
                {"eval_time": "100m", "alertname": "SemsloErrorBudgetBurn", "exp_alerts": []},
                {
                    "eval_time": "180m",
                    "alertname": "SemsloErrorBudgetBurn",
                    "exp_alerts": [{"exp_labels": labels, "exp_annotations": {
                        "summary": page["annotations"]["summary"],
                        "description": description,
                    }}],
                },
            ],
        }],
    });

    let directory = tempfile::tempdir().unwrap();
    std::fs::write(directory.path().join("rules.yml"), &yaml).unwrap();
    std::fs::write(directory.path().join("test.yml"), serde_saphyr::to_string(&PlainYaml(&test)).unwrap()).unwrap();
    run_promtool(&promtool, directory.path(), &["test", "rules", "test.yml"]);
}

/// Serializes a JSON value with its numbers as YAML numbers. serde_json keeps a
/// number's text here (`arbitrary_precision`), which YAML would write as a map.
struct PlainYaml<'a>(&'a Value);

impl serde::Serialize for PlainYaml<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{SerializeMap, SerializeSeq};
        match self.0 {
            Value::Null => serializer.serialize_unit(),
            Value::Bool(value) => serializer.serialize_bool(*value),
            Value::Number(number) => match number.as_i64() {
                Some(integer) => serializer.serialize_i64(integer),
                None => serializer.serialize_f64(number.as_f64().unwrap()),
            },
            Value::String(text) => serializer.serialize_str(text),
            Value::Array(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(&PlainYaml(item))?;
                }
                seq.end()
            }
            Value::Object(fields) => {
                let mut map = serializer.serialize_map(Some(fields.len()))?;
                for (key, value) in fields {
                    map.serialize_entry(key, &PlainYaml(value))?;
                }
                map.end()
            }
        }
    }
}

// ---------------------------------------------------------------- OpenSLO

#[test]
fn procurement_openslo_matches_snapshot() {
    insta::assert_snapshot!(openslo_yaml(PROCUREMENT));
}

#[test]
fn edge_case_openslo_matches_snapshot() {
    insta::assert_snapshot!(openslo_yaml(EDGE_CASES));
}

/// Keys OpenSLO v1 allows under `spec` of each kind, and which of them are required.
const SPEC_KEYS: &[(&str, &[&str], &[&str])] = &[
    ("Service", &["description"], &[]),
    ("SLI", &["description", "thresholdMetric", "ratioMetric"], &[]),
    (
        "SLO",
        &[
            "description",
            "service",
            "indicator",
            "indicatorRef",
            "timeWindow",
            "budgetingMethod",
            "objectives",
            "alertPolicies",
        ],
        &["service", "budgetingMethod", "objectives"],
    ),
    (
        "AlertPolicy",
        &[
            "description",
            "alertWhenNoData",
            "alertWhenResolved",
            "alertWhenBreaching",
            "conditions",
            "notificationTargets",
        ],
        &["conditions", "notificationTargets"],
    ),
    ("AlertCondition", &["description", "severity", "condition"], &["severity", "condition"]),
    ("AlertNotificationTarget", &["description", "target"], &["target"]),
];

fn keys(value: &Value) -> Vec<&str> {
    value.as_object().unwrap_or_else(|| panic!("not a mapping: {value}")).keys().map(String::as_str).collect()
}

fn assert_duration_shorthand(value: &Value) {
    let shorthand = Regex::new("^[1-9][0-9]*[mhdwMQY]$").unwrap();
    assert!(value.as_str().is_some_and(|text| shorthand.is_match(text)), "`{value}` is not a duration shorthand");
}

/// Checks one document against the OpenSLO v1 shape: apiVersion, kind, metadata
/// and the allowed and required keys of its spec, with the kind's own rules.
fn assert_openslo_shape(document: &Value) {
    assert_eq!(document["apiVersion"], "openslo/v1");
    assert_eq!(keys(document), ["apiVersion", "kind", "metadata", "spec"]);
    let kind = document["kind"].as_str().unwrap();

    let metadata = &document["metadata"];
    for key in keys(metadata) {
        assert!(["name", "displayName", "labels", "annotations"].contains(&key), "{kind}: metadata key `{key}`");
    }
    let name = metadata["name"].as_str().unwrap();
    let label = Regex::new("^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$").unwrap();
    assert!(label.is_match(name), "{kind} name `{name}` is not an RFC 1123 label");
    if let Some(display_name) = metadata["displayName"].as_str() {
        assert!(display_name.chars().count() <= 63, "{kind} `{name}`: displayName too long");
    }

    let (_, allowed, required) =
        SPEC_KEYS.iter().find(|(k, _, _)| *k == kind).unwrap_or_else(|| panic!("kind `{kind}`"));
    let spec = &document["spec"];
    for key in keys(spec) {
        assert!(allowed.contains(&key), "{kind} `{name}`: spec key `{key}`");
    }
    for key in *required {
        assert!(spec.get(*key).is_some(), "{kind} `{name}`: missing spec.{key}");
    }
    if let Some(description) = spec["description"].as_str() {
        assert!(description.chars().count() <= 1050, "{kind} `{name}`: description too long");
    }

    match kind {
        "SLI" => assert_sli_shape(spec),
        "SLO" => assert_slo_shape(spec),
        "AlertPolicy" => {
            assert_eq!(spec["conditions"].as_array().unwrap().len(), 1, "a policy holds exactly one condition");
            assert!(!spec["notificationTargets"].as_array().unwrap().is_empty());
        }
        "AlertCondition" => {
            let condition = &spec["condition"];
            assert_eq!(keys(condition), ["kind", "op", "threshold", "lookbackWindow", "alertAfter"]);
            assert_eq!(condition["kind"], "burnrate");
            assert!(["lt", "lte", "gt", "gte"].contains(&condition["op"].as_str().unwrap()));
            assert!(condition["threshold"].is_number());
            assert_duration_shorthand(&condition["lookbackWindow"]);
            assert_duration_shorthand(&condition["alertAfter"]);
        }
        _ => {}
    }
}

fn assert_sli_shape(spec: &Value) {
    let ratio = &spec["ratioMetric"];
    assert_eq!(keys(ratio), ["counter", "good", "total"]);
    assert_eq!(ratio["counter"], true);
    for side in ["good", "total"] {
        let source = &ratio[side]["metricSource"];
        assert_eq!(source["type"], "Prometheus");
        assert!(source["spec"]["query"].as_str().is_some_and(|query| !query.is_empty()));
    }
}

fn assert_slo_shape(spec: &Value) {
    assert!(spec.get("indicator").is_some() != spec.get("indicatorRef").is_some(), "one of indicator, indicatorRef");
    assert!(["Occurrences", "Timeslices", "RatioTimeslices"].contains(&spec["budgetingMethod"].as_str().unwrap()));

    let windows = spec["timeWindow"].as_array().unwrap();
    assert_eq!(windows.len(), 1, "exactly one time window");
    let window = &windows[0];
    assert_duration_shorthand(&window["duration"]);
    let rolling = window["isRolling"].as_bool().unwrap();
    assert_eq!(window.get("calendar").is_some(), !rolling, "a calendar exactly when not rolling");
    if !rolling {
        let start = Regex::new(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$").unwrap();
        assert!(start.is_match(window["calendar"]["startTime"].as_str().unwrap()));
        assert!(window["calendar"]["timeZone"].as_str().unwrap().parse::<chrono_tz::Tz>().is_ok());
    }

    for objective in spec["objectives"].as_array().unwrap() {
        let target = objective["target"].as_f64().unwrap();
        assert!((0.0..1.0).contains(&target), "target {target} is not in [0, 1)");
    }
}

#[test]
fn openslo_documents_follow_the_spec_shape() {
    for policy in [PROCUREMENT, EDGE_CASES, BURN] {
        for document in parse_documents(&openslo_yaml(policy)) {
            assert_openslo_shape(&document);
        }
    }
}

#[test]
fn openslo_references_name_exported_objects() {
    let documents = parse_documents(&openslo_yaml(PROCUREMENT));
    let exists = |kind: &str, name: &Value| {
        documents.iter().any(|document| document["kind"] == kind && document["metadata"]["name"] == *name)
    };
    let mut checked = 0;
    for document in &documents {
        let spec = &document["spec"];
        match document["kind"].as_str().unwrap() {
            "SLO" => {
                assert!(exists("SLI", &spec["indicatorRef"]), "{}", spec["indicatorRef"]);
                assert!(exists("Service", &spec["service"]), "{}", spec["service"]);
                for policy in spec["alertPolicies"].as_array().unwrap() {
                    assert!(exists("AlertPolicy", &policy["alertPolicyRef"]), "{policy}");
                    checked += 1;
                }
            }
            "AlertPolicy" => {
                assert!(exists("AlertCondition", &spec["conditions"][0]["conditionRef"]));
                assert!(exists("AlertNotificationTarget", &spec["notificationTargets"][0]["targetRef"]));
                checked += 1;
            }
            _ => {}
        }
    }
    assert_eq!(checked, 12, "6 alert policies, each referenced from its SLO");
}

#[test]
fn openslo_kinds_come_in_order() {
    let documents = parse_documents(&openslo_yaml(PROCUREMENT));
    let kinds: Vec<&str> = documents.iter().map(|document| document["kind"].as_str().unwrap()).collect();
    let mut expected = vec!["Service", "AlertNotificationTarget", "AlertNotificationTarget", "SLI", "SLO"];
    expected.extend(["AlertCondition", "AlertPolicy"].repeat(2));
    expected.extend(["SLI", "SLO"]);
    expected.extend(["AlertCondition", "AlertPolicy"].repeat(4));
    assert_eq!(kinds, expected);
}

#[test]
fn openslo_slo_states_objective_window_and_indicator() {
    let documents = parse_documents(&openslo_yaml(PROCUREMENT));
    let slo = documents.iter().find(|document| document["metadata"]["name"] == "purchase-orders-correct").unwrap();
    assert_eq!(slo["kind"], "SLO");
    assert_eq!(slo["metadata"]["displayName"], "Purchase orders match procurement intent");
    assert_eq!(slo["metadata"]["annotations"]["semslo/slo"], "purchase_orders_correct");
    assert_eq!(slo["metadata"]["annotations"]["semslo/minimum-runs"], "20");
    assert_eq!(slo["spec"]["service"], "procurement");
    assert_eq!(slo["spec"]["indicatorRef"], "purchase-orders-correct-sli");
    assert_eq!(slo["spec"]["timeWindow"], json!([{"duration": "28d", "isRolling": true}]));
    assert_eq!(slo["spec"]["budgetingMethod"], "Occurrences");
    assert_eq!(slo["spec"]["objectives"][0]["target"].as_f64(), Some(0.95));
}

#[test]
fn openslo_sli_queries_good_and_all_runs() {
    let documents = parse_documents(&openslo_yaml(PROCUREMENT));
    let sli = documents.iter().find(|document| document["metadata"]["name"] == "purchase-orders-correct-sli").unwrap();
    let ratio = &sli["spec"]["ratioMetric"];
    assert_eq!(
        ratio["good"]["metricSource"]["spec"]["query"],
        "sum(semslo_runs_total{slo=\"purchase_orders_correct\", result=\"good\"})"
    );
    assert_eq!(
        ratio["total"]["metricSource"]["spec"]["query"],
        "sum(semslo_runs_total{slo=\"purchase_orders_correct\"})"
    );
}

#[test]
fn openslo_calendar_window_has_start_and_time_zone() {
    let documents = parse_documents(&openslo_yaml(PROCUREMENT));
    let slo = documents.iter().find(|document| document["metadata"]["name"] == "no-critical-violations").unwrap();
    assert_eq!(
        slo["spec"]["timeWindow"],
        json!([{
            "duration": "1Q",
            "isRolling": false,
            "calendar": {"startTime": "2024-01-01 00:00:00", "timeZone": "America/New_York"},
        }])
    );

    let edge = parse_documents(&openslo_yaml(EDGE_CASES));
    let monthly = edge.iter().find(|document| document["metadata"]["name"] == "refunds-correct").unwrap();
    assert_eq!(monthly["spec"]["timeWindow"][0]["duration"], "1M");
    assert_eq!(monthly["spec"]["timeWindow"][0]["calendar"]["timeZone"], "Europe/Berlin");
}

#[test]
fn openslo_burn_condition_carries_both_windows() {
    let documents = parse_documents(&openslo_yaml(PROCUREMENT));
    let condition = documents
        .iter()
        .find(|document| document["metadata"]["name"] == "purchase-orders-correct-page-1h-5m-burn-rate")
        .unwrap();
    assert_eq!(condition["kind"], "AlertCondition");
    assert_eq!(condition["spec"]["severity"], "page");
    assert_eq!(
        condition["spec"]["condition"],
        json!({"kind": "burnrate", "op": "gt", "threshold": 14.4, "lookbackWindow": "1h", "alertAfter": "5m"})
    );
    assert_eq!(condition["metadata"]["annotations"]["semslo/short-window"], "5m");
    assert_eq!(condition["metadata"]["annotations"]["semslo/long-window"], "1h");
}

#[test]
fn openslo_full_objective_keeps_only_the_sli() {
    let (yaml, diagnostics) = export::openslo(&load(EDGE_CASES));
    let yaml = yaml.unwrap();
    let codes: Vec<&str> = diagnostics.iter().map(|diagnostic| diagnostic.code).collect();
    assert_eq!(codes, ["semslo::export::objective_not_expressible"]);
    assert!(!diagnostics.has_errors());
    assert!(yaml.contains("# SLO refunds_never_wrong has a 100% objective"), "{yaml}");

    let documents = parse_documents(&yaml);
    let about_it: Vec<&str> = documents
        .iter()
        .filter(|document| document["metadata"]["annotations"]["semslo/slo"] == "refunds_never_wrong")
        .map(|document| document["kind"].as_str().unwrap())
        .collect();
    assert_eq!(about_it, ["SLI"]);
}

#[test]
fn openslo_rejects_names_that_collide() {
    let slos = "slo Orders {\n  objective 99% over 7d\n}\n\nslo orders {\n  objective 99% over 7d\n}\n";
    let (_directory, set) = load_text(&policy_with_slos(slos));
    let (yaml, diagnostics) = export::openslo(&set);
    assert!(yaml.is_none());
    let duplicates: Vec<&str> = diagnostics
        .iter()
        .filter(|diagnostic| diagnostic.code == "semslo::export::duplicate_name")
        .map(|diagnostic| diagnostic.message.as_str())
        .collect();
    assert!(!duplicates.is_empty());
    assert_eq!(duplicates[0], "the SLI of slo `orders` would be named `orders-sli`, like the SLI of slo `Orders`");
}

#[test]
fn openslo_rejects_sub_minute_windows() {
    let slos = "slo quick {\n  objective 99% over 7d\n  alert page when burn rate > 10 over 90s and 10s\n}\n";
    let (_directory, set) = load_text(&policy_with_slos(slos));
    let (yaml, diagnostics) = export::openslo(&set);
    assert!(yaml.is_none());
    let codes: Vec<&str> = diagnostics.iter().map(|diagnostic| diagnostic.code).collect();
    assert_eq!(codes, ["semslo::export::invalid_duration", "semslo::export::invalid_duration"]);
    assert_eq!(
        diagnostics.iter().next().unwrap().message,
        "the alert `page` of slo `quick` is not a whole number of minutes"
    );
}

#[test]
fn openslo_rejects_names_too_long_for_a_label() {
    let name = "a".repeat(50);
    let (_directory, set) = load_text(&policy_with_slos(&format!("slo {name} {{\n  objective 99% over 7d\n}}\n")));
    let (yaml, diagnostics) = export::openslo(&set);
    assert!(yaml.is_none());
    let codes: Vec<&str> = diagnostics.iter().map(|diagnostic| diagnostic.code).collect();
    assert_eq!(codes, ["semslo::export::invalid_name"]);
}

// ---------------------------------------------------------------- command line

fn semslo(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_semslo"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

#[test]
fn cli_prints_rules_to_stdout() {
    let output = semslo(&["export", "prometheus-rules", "--policy", PROCUREMENT]);
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(String::from_utf8(output.stdout).unwrap(), rules_yaml(PROCUREMENT));
}

#[test]
fn cli_writes_openslo_to_output_file() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("openslo.yaml");
    let output = semslo(&["export", "openslo", "-p", PROCUREMENT, "-o", path.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(output.stdout.is_empty());
    assert_eq!(std::fs::read_to_string(&path).unwrap(), openslo_yaml(PROCUREMENT));
}

#[test]
fn cli_warns_about_full_objective_and_succeeds() {
    let output = semslo(&["export", "openslo", "-p", EDGE_CASES]);
    assert_eq!(output.status.code(), Some(0));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("semslo::export::objective_not_expressible"), "{stderr}");
}

#[test]
fn cli_invalid_policy_exits_with_2() {
    let directory = tempfile::tempdir().unwrap();
    std::fs::write(directory.path().join("broken.slo"), "rule {\n").unwrap();
    let output = semslo(&["export", "prometheus-rules", "-p", directory.path().to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    assert!(output.stdout.is_empty());
}

#[test]
fn cli_unwritable_output_exits_with_3() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("missing").join("rules.yml");
    let output = semslo(&["export", "prometheus-rules", "-p", PROCUREMENT, "-o", path.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&output.stderr).contains("cannot write"));
}
