//! The HTML form of the SLO report: one self-contained page with inline CSS and
//! inline SVG charts (SLI per day against the objective, budget burn-down, bad runs
//! by rule and by segment, step success against end-to-end correctness). It loads
//! nothing from anywhere, runs no script and opens offline.

use std::fmt::Write as _;

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

use super::format::{
    alert_source, capitalize, count, fixed, instant, money, money_measure, percent, percent_plain, percent_value,
    plain, rate, remaining, runs, sli_places, span, status_sentence, window,
};
use super::slo_text::{DIMENSION_ROWS, LISTED_RUNS};
use super::svg::{Bar, LineChart, Reference, bar_chart, nice_range};
use crate::slo::{AtSource, Measure, SloReport, SloState, SloSummary};

const GOOD: &str = "#2e7d32";
const BAD: &str = "#c62828";
const ERROR: &str = "#ef6c00";
const NEUTRAL: &str = "#1565c0";
const MUTED: &str = "#78909c";

const STYLE: &str = r#"
:root { color-scheme: light; --ink: #1f2933; --muted: #5f6b76; --line: #d9dee3; --panel: #f6f8fa; }
* { box-sizing: border-box; }
body { margin: 0; padding: 24px 32px 48px; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: var(--ink); background: #fff; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 20px; margin: 36px 0 4px; padding-top: 12px; border-top: 2px solid var(--line); }
h3 { font-size: 15px; margin: 24px 0 8px; }
.meta { color: var(--muted); margin: 0 0 16px; }
.meta code, td code { font-size: 12px; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
.badge { display: inline-block; padding: 2px 10px; border-radius: 12px; font-weight: 600; font-size: 13px; color: #fff; }
.met { background: #2e7d32; } .missed { background: #c62828; } .nodata { background: #78909c; }
.tiles { display: grid; grid-template-columns: repeat(auto-fill, minmax(170px, 1fr)); gap: 12px; margin: 12px 0; }
.tile { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: 10px 12px; }
.tile .label { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
.tile .value { font-size: 22px; font-weight: 650; margin-top: 2px; }
.tile .note { color: var(--muted); font-size: 12px; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(460px, 1fr)); gap: 16px; margin: 12px 0; }
.chart { border: 1px solid var(--line); border-radius: 8px; padding: 10px 12px; }
.chart h3 { margin: 0 0 6px; }
.chart p { margin: 4px 0 0; color: var(--muted); font-size: 12px; }
table { border-collapse: collapse; margin: 6px 0 12px; }
th, td { padding: 4px 10px; border-bottom: 1px solid var(--line); text-align: right; vertical-align: top; }
th:first-child, td:first-child { text-align: left; }
td.text, th.text { text-align: left; }
th { font-weight: 600; color: var(--muted); font-size: 12px; }
tr.firing td { background: #fdecea; }
.fires { color: #c62828; font-weight: 700; }
details summary { cursor: pointer; color: var(--muted); margin: 8px 0; }
svg text { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; }
svg .axis { font-size: 11px; fill: #5f6b76; }
svg .grid { stroke: #e6e9ec; stroke-width: 1; }
svg .zero { stroke: #5f6b76; stroke-width: 1; }
svg .reference { stroke: #c62828; stroke-width: 1.5; stroke-dasharray: 6 4; }
svg .reference-label { font-size: 11px; fill: #c62828; font-weight: 600; paint-order: stroke; stroke: #fff; stroke-width: 4px; stroke-linejoin: round; }
svg .bar-label { font-size: 12px; fill: #1f2933; }
svg .bar-value { font-size: 12px; fill: #5f6b76; }
.note { color: var(--muted); }
"#;

/// Escapes text for HTML content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Renders the whole report as one HTML page.
pub fn render(report: &SloReport) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>semslo report</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
    );
    render_header(&mut out, report);
    for slo in &report.slos {
        render_slo(&mut out, slo);
    }
    render_rules(&mut out, report);
    out.push_str("</body>\n</html>\n");
    out
}

fn status_class(status: SloState) -> &'static str {
    match status {
        SloState::Met => "met",
        SloState::Missed => "missed",
        SloState::NoData | SloState::InsufficientData => "nodata",
    }
}

fn render_header(out: &mut String, report: &SloReport) {
    let input = &report.input;
    let at = match (report.at, report.at_source) {
        (Some(at), AtSource::Argument) => format!("{} (from --at)", instant(at)),
        (Some(at), _) => format!("{} (the latest event time in the input)", instant(at)),
        (None, _) => "none: no run has an event time".to_string(),
    };
    let _ = writeln!(out, "<h1>semslo report</h1>");
    let _ = writeln!(
        out,
        "<p class=\"meta\">Policy set {} <code>{}</code><br>{} records read, {} checked, {} rejected{}<br>Report time {}</p>",
        report.policy.files.iter().map(|f| format!("<code>{}</code>", escape(f))).collect::<Vec<_>>().join(", "),
        escape(&report.policy.hash),
        count(input.records_read),
        count(input.records_checked),
        count(input.records_rejected),
        match (input.first_event_time, input.last_event_time) {
            (Some(first), Some(last)) => format!("; event times {} to {}", instant(first), instant(last)),
            _ => String::new(),
        },
        escape(&at)
    );
    if report.slos.is_empty() {
        let _ = writeln!(out, "<p>The policy set declares no SLO.</p>");
        return;
    }
    let _ = writeln!(
        out,
        "<table><tr><th>SLO</th><th class=\"text\">status</th><th>SLI</th><th>objective</th><th class=\"text\">window</th><th>budget left</th><th class=\"text\">alerts firing</th></tr>"
    );
    for slo in &report.slos {
        let firing: Vec<String> = slo.alerts.alerts.iter().filter(|a| a.fires).map(|a| escape(&a.name)).collect();
        let _ = writeln!(
            out,
            "<tr><td><a href=\"#slo-{}\">{}</a></td><td class=\"text\"><span class=\"badge {}\">{}</span></td><td>{}</td><td>{}</td><td class=\"text\">{}</td><td>{}</td><td class=\"text\">{}</td></tr>",
            escape(&slo.name),
            escape(&slo.name),
            status_class(slo.status),
            slo.status.as_str(),
            percent(slo.sli, sli_places(slo)),
            percent_plain(slo.objective),
            escape(&slo.window.written),
            escape(&remaining(slo.budget.remaining)),
            if firing.is_empty() { "none".to_string() } else { firing.join(", ") }
        );
    }
    out.push_str("</table>\n");
}

fn render_slo(out: &mut String, slo: &SloSummary) {
    let _ = writeln!(
        out,
        "<h2 id=\"slo-{}\">{} <span class=\"badge {}\">{}</span></h2>",
        escape(&slo.name),
        escape(&slo.name),
        status_class(slo.status),
        slo.status.as_str()
    );
    let minimum = if slo.minimum_runs > 0 {
        format!("; minimum {} in the window", runs(slo.minimum_runs))
    } else {
        String::new()
    };
    let _ = writeln!(
        out,
        "<p class=\"meta\">{}{}<br>{}<br>Window: {}<br>Good when {}{}; defined in <code>{}:{}</code></p>",
        slo.title.as_deref().map(escape).unwrap_or_default(),
        if slo.title.is_some() { "." } else { "" },
        escape(&capitalize(&status_sentence(slo))),
        escape(&window(slo)),
        escape(&slo.good_when),
        escape(&minimum),
        escape(&slo.file),
        slo.line
    );
    render_tiles(out, slo);
    render_charts(out, slo);
    render_alerts(out, slo);
    render_breakdowns(out, slo);
    render_input_wide(out, slo);
    render_daily_table(out, slo);
}

fn tile(out: &mut String, label: &str, value: &str, note: &str) {
    let _ = write!(
        out,
        "<div class=\"tile\"><div class=\"label\">{}</div><div class=\"value\">{}</div><div class=\"note\">{}</div></div>",
        escape(label),
        escape(value),
        escape(note)
    );
}

fn render_tiles(out: &mut String, slo: &SloSummary) {
    let counts = &slo.counts;
    let budget = &slo.budget;
    out.push_str("<div class=\"tiles\">");
    tile(out, "SLI", &percent(slo.sli, sli_places(slo)), &format!("objective {}", percent_plain(slo.objective)));
    tile(out, "budget remaining", &remaining(budget.remaining), &format!("consumed {}", percent(budget.consumed, 2)));
    tile(out, "burn rate", &rate(slo.burn_rate), "over the whole window; 1 spends the budget exactly");
    tile(out, "valid runs", &count(counts.valid), &format!("{} good, {} bad", count(counts.good), count(counts.bad)));
    tile(out, "failed a rule", &count(counts.failed), "bad runs with a failing counted rule");
    tile(out, "could not be decided", &count(counts.error), "rule errors count as bad (fail closed)");
    if counts.unplaced > 0 {
        tile(out, "no event time", &count(counts.unplaced), "cannot be placed, so counted as bad");
    }
    let allowed = budget.allowed_bad_runs.value().map_or_else(|| percent(budget.allowed_bad_runs, 2), |v| plain(v, 2));
    tile(
        out,
        "bad runs allowed",
        &allowed,
        &format!("{} of valid runs; {} as time", percent_plain(budget.error_budget), span(budget.time_seconds)),
    );
    out.push_str("</div>\n");
}

fn as_f64(value: Decimal) -> f64 {
    value.to_f64().unwrap_or(0.0)
}

fn render_charts(out: &mut String, slo: &SloSummary) {
    if slo.daily.is_empty() {
        return;
    }
    let labels: Vec<String> = slo.daily.iter().map(|day| day.date.format("%m-%d").to_string()).collect();
    let objective = as_f64(slo.objective) * 100.0;
    let sli: Vec<Option<f64>> = slo.daily.iter().map(|day| day.sli.value().map(|v| as_f64(v) * 100.0)).collect();
    let lowest = sli.iter().flatten().copied().fold(objective, f64::min);
    let (y_min, _) = nice_range(lowest.max(0.0), 100.0);
    let percent_axis = |value: f64| format!("{value:.0}%");
    let fine_axis = |value: f64| format!("{value:.1}%");
    let axis: &dyn Fn(f64) -> String = if 100.0 - y_min < 5.0 { &fine_axis } else { &percent_axis };
    let reference_label = format!("objective {}", percent_plain(slo.objective));
    let sli_chart = LineChart {
        title: "SLI per day against the objective",
        x_labels: &labels,
        values: &sli,
        y_min: y_min.max(0.0),
        y_max: 100.0,
        y_format: axis,
        reference: Some(Reference { value: objective, label: &reference_label }),
        color: NEUTRAL,
        area: false,
    };

    let budget: Vec<Option<f64>> = slo
        .daily
        .iter()
        .map(|day| match day.budget_remaining {
            Measure::Value(value) => Some(as_f64(value) * 100.0),
            _ => None,
        })
        .collect();
    let low = budget.iter().flatten().copied().fold(0.0, f64::min);
    let high = budget.iter().flatten().copied().fold(100.0, f64::max);
    let (budget_min, budget_max) = nice_range(low, high);
    let budget_color = if budget.iter().flatten().last().is_some_and(|v| *v < 0.0) { BAD } else { GOOD };
    let budget_chart = LineChart {
        title: "Error budget remaining",
        x_labels: &labels,
        values: &budget,
        y_min: budget_min,
        y_max: budget_max,
        y_format: &percent_axis,
        reference: None,
        color: budget_color,
        area: true,
    };

    out.push_str("<div class=\"charts\">");
    let _ = write!(
        out,
        "<div class=\"chart\"><h3>SLI per day</h3>{}<p>Good ÷ valid runs of each day in {}; the dashed line is the objective. Days without runs leave gaps.</p></div>",
        sli_chart.render(),
        escape(&slo.window.time_zone)
    );
    let _ = write!(
        out,
        "<div class=\"chart\"><h3>Budget burn-down</h3>{}<p>The window's error budget left after the bad runs up to the end of each day; below zero it is overspent.</p></div>",
        budget_chart.render()
    );
    out.push_str("</div>\n");
}

fn render_alerts(out: &mut String, slo: &SloSummary) {
    let _ = writeln!(
        out,
        "<h3>Alerts</h3><p class=\"note\">{}. An alert fires when the burn rate exceeds its factor over both windows.</p>",
        escape(&capitalize(&alert_source(slo)))
    );
    if slo.alerts.alerts.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "<table><tr><th>alert</th><th>factor</th><th>long window</th><th>burn rate</th><th>runs</th><th>short window</th><th>burn rate</th><th>runs</th><th class=\"text\">fires</th></tr>"
    );
    for alert in &slo.alerts.alerts {
        let _ = writeln!(
            out,
            "<tr{}><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"text\">{}</td></tr>",
            if alert.fires { " class=\"firing\"" } else { "" },
            escape(&alert.name),
            plain(alert.factor, 4),
            escape(&alert.long.duration),
            rate(alert.long.burn_rate),
            count(alert.long.valid),
            escape(&alert.short.duration),
            rate(alert.short.burn_rate),
            count(alert.short.valid),
            if alert.fires { "<span class=\"fires\">fires</span>" } else { "no" }
        );
    }
    out.push_str("</table>\n");
}

fn render_breakdowns(out: &mut String, slo: &SloSummary) {
    let max_rule = slo.by_rule.iter().map(|row| row.bad_runs).max().unwrap_or(0) as f64;
    let rule_bars: Vec<Bar> = slo
        .by_rule
        .iter()
        .map(|row| Bar {
            label: row.rule.clone(),
            value: row.bad_runs as f64,
            text: format!("{} ({} failed, {} errored)", count(row.bad_runs), count(row.failed), count(row.errored)),
            color: if row.failed == 0 && row.errored > 0 { ERROR } else { BAD },
        })
        .collect();
    let max_segment = slo.by_segment.iter().map(|row| row.bad_runs).max().unwrap_or(0) as f64;
    let segment_bars: Vec<Bar> = slo
        .by_segment
        .iter()
        .map(|row| Bar {
            label: row.segment.clone().unwrap_or_else(|| "(no segment)".to_string()),
            value: row.bad_runs as f64,
            text: format!("{} ({})", count(row.bad_runs), percent(row.share_of_bad, 1)),
            color: if row.segment.is_some() { BAD } else { MUTED },
        })
        .collect();
    out.push_str("<div class=\"charts\">");
    let _ = write!(
        out,
        "<div class=\"chart\"><h3>Bad runs by rule</h3>{}<p>Bad runs in the window on which each counted rule failed or errored, worst first; a run can count for several rules.</p></div>",
        bar_chart("Bad runs by rule", &rule_bars, max_rule)
    );
    let _ = write!(
        out,
        "<div class=\"chart\"><h3>Bad runs by segment</h3>{}<p>Each bad run counts once, for the first segment in run order whose rules failed.</p></div>",
        bar_chart("Bad runs by segment", &segment_bars, max_segment)
    );
    out.push_str("</div>\n");

    let places = sli_places(slo);
    out.push_str("<div class=\"charts\">");
    for dimension in &slo.by_dimension {
        let shown = dimension.values.len().min(DIMENSION_ROWS);
        let _ = writeln!(
            out,
            "<div class=\"chart\"><h3>By <code>{}</code></h3><p>Worst first: the {} of {} values with the most bad runs in the window.</p>",
            escape(&dimension.dimension),
            shown,
            dimension.values.len()
        );
        let _ = writeln!(out, "<table><tr><th>value</th><th>valid</th><th>good</th><th>bad</th><th>SLI</th></tr>");
        for value in &dimension.values[..shown] {
            let _ = writeln!(
                out,
                "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(&value.value),
                count(value.valid),
                count(value.good),
                count(value.bad),
                percent(value.sli, places)
            );
        }
        out.push_str("</table></div>\n");
    }
    out.push_str("</div>\n");
}

fn render_input_wide(out: &mut String, slo: &SloSummary) {
    let seen = &slo.input_runs;
    let _ = writeln!(
        out,
        "<h3>Over every valid run of the input</h3><p class=\"note\">The sections below cover all {} valid runs read, whatever their event time: {} good, {} bad ({} only because something could not be decided); {} runs were not valid.</p>",
        count(seen.valid),
        count(seen.good),
        count(seen.bad),
        count(seen.bad_error),
        count(seen.not_valid)
    );
    for reason in &seen.unplaced_reasons {
        let _ = writeln!(
            out,
            "<p class=\"note\">{} without a usable event time: {}</p>",
            runs(reason.runs),
            escape(&reason.reason)
        );
    }
    render_contrast(out, slo);
    render_checkpoints(out, slo);
    render_labels(out, slo);
    render_costs(out, slo);
}

fn render_contrast(out: &mut String, slo: &SloSummary) {
    for workflow in &slo.contrast {
        let value = |measure: Measure| measure.value().map_or(0.0, |v| as_f64(v) * 100.0);
        let bars = [
            Bar {
                label: "step-level success".to_string(),
                value: value(workflow.step_success),
                text: percent(workflow.step_success, 2),
                color: GOOD,
            },
            Bar {
                label: "predicted end to end".to_string(),
                value: value(workflow.predicted_end_to_end),
                text: percent(workflow.predicted_end_to_end, 2),
                color: MUTED,
            },
            Bar {
                label: "measured end to end".to_string(),
                value: value(workflow.measured_end_to_end),
                text: percent(workflow.measured_end_to_end, 2),
                color: NEUTRAL,
            },
        ];
        let _ = write!(
            out,
            "<div class=\"charts\"><div class=\"chart\"><h3>Steps against outcomes: <code>{}</code></h3>{}<p>{} of {} steps had status <code>ok</code>; the prediction multiplies the success rates of the {} step names; {} of {} runs were good.</p></div>",
            escape(&workflow.workflow),
            bar_chart("Step success against end-to-end correctness", &bars, 100.0),
            count(workflow.steps_ok),
            count(workflow.steps),
            workflow.step_names.len(),
            count(workflow.good),
            count(workflow.runs)
        );
        let _ = write!(
            out,
            "<div class=\"chart\"><h3>Success per step name</h3><table><tr><th>step</th><th>steps</th><th>ok</th><th>success</th></tr>"
        );
        for step in &workflow.step_names {
            let _ = write!(
                out,
                "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(&step.name),
                count(step.steps),
                count(step.ok),
                percent(step.success, 2)
            );
        }
        out.push_str("</table>");
        if !workflow.first_failing_segment.is_empty() {
            let segments: Vec<String> = workflow
                .first_failing_segment
                .iter()
                .map(|row| {
                    format!("{} {}", escape(row.segment.as_deref().unwrap_or("(no segment)")), count(row.bad_runs))
                })
                .collect();
            let _ = write!(out, "<p>Bad runs by the first segment whose rules failed: {}.</p>", segments.join(", "));
        }
        out.push_str("</div></div>\n");
    }
}

fn render_checkpoints(out: &mut String, slo: &SloSummary) {
    let Some(checkpoints) = &slo.checkpoints else { return };
    let _ = writeln!(out, "<h3>Checkpoints</h3>");
    out.push_str("<div class=\"tiles\">");
    tile(
        out,
        "catch rate",
        &percent(checkpoints.catch_rate, 2),
        &format!(
            "{} of {} reviewed bad runs rejected",
            count(checkpoints.caught),
            count(checkpoints.bad_runs_reviewed)
        ),
    );
    tile(out, "escapes", &count(checkpoints.escapes), "bad runs that every checkpoint approved");
    tile(out, "unreviewed bad runs", &count(checkpoints.bad_runs_unreviewed), "bad runs without any checkpoint");
    tile(
        out,
        "unexplained rejections",
        &count(checkpoints.unexplained_rejections),
        "good runs a checkpoint rejected: a rule may be missing",
    );
    tile(
        out,
        "reviews",
        &count(checkpoints.reviews),
        &format!("on {}; {} rejected or modified", runs(checkpoints.runs_reviewed), count(checkpoints.rejections)),
    );
    out.push_str("</div>\n");
    if !checkpoints.unexplained_run_ids.is_empty() {
        let listed: Vec<String> = checkpoints
            .unexplained_run_ids
            .iter()
            .take(LISTED_RUNS)
            .map(|id| format!("<code>{}</code>", escape(id)))
            .collect();
        let _ = writeln!(out, "<p class=\"note\">Good runs a checkpoint rejected: {}.</p>", listed.join(", "));
    }
    let _ = writeln!(
        out,
        "<table><tr><th>checkpoint</th><th>reviews</th><th>approved</th><th>rejected</th><th>modified</th><th>other</th></tr>"
    );
    for name in &checkpoints.by_checkpoint {
        let _ = writeln!(
            out,
            "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&name.name),
            count(name.reviews),
            count(name.approved),
            count(name.rejected),
            count(name.modified),
            count(name.other)
        );
    }
    out.push_str("</table>\n");
}

fn render_labels(out: &mut String, slo: &SloSummary) {
    let Some(labels) = &slo.labels else { return };
    let matrix = &labels.confusion;
    let kappa = labels.kappa.value().map_or_else(|| percent(labels.kappa, 2), |kappa| fixed(kappa, 3));
    let _ = writeln!(
        out,
        "<h3>Expert labels</h3><p class=\"note\">SLO verdict against <code>labels.expert_verdict</code> on {}; the positive class is bad.</p>",
        runs(labels.labelled_runs)
    );
    out.push_str("<div class=\"tiles\">");
    tile(out, "precision", &percent(labels.precision, 2), "of runs the SLO judged bad, the expert agreed");
    tile(out, "recall", &percent(labels.recall, 2), "of runs the expert judged incorrect, the SLO caught");
    tile(out, "agreement", &percent(labels.agreement, 2), "share of labelled runs judged alike");
    tile(out, "Cohen's kappa", &kappa, "agreement beyond chance");
    out.push_str("</div>\n");
    let _ = writeln!(
        out,
        "<table><tr><th></th><th>label incorrect</th><th>label correct</th></tr><tr><td>SLO bad</td><td>{}</td><td>{}</td></tr><tr><td>SLO good</td><td>{}</td><td>{}</td></tr></table>",
        count(matrix.bad_incorrect),
        count(matrix.bad_correct),
        count(matrix.good_incorrect),
        count(matrix.good_correct)
    );
    let total = labels.disagreements.len() as u64 + labels.disagreements_not_listed;
    if total == 0 {
        return;
    }
    let _ = writeln!(
        out,
        "<details><summary>{} disagreeing runs</summary><table><tr><th>run</th><th class=\"text\">SLO</th><th class=\"text\">expert</th><th class=\"text\">note</th><th class=\"text\">rules</th></tr>",
        count(total)
    );
    for d in &labels.disagreements {
        let _ = writeln!(
            out,
            "<tr><td><code>{}</code></td><td class=\"text\">{}</td><td class=\"text\">{}</td><td class=\"text\">{}</td><td class=\"text\">{}</td></tr>",
            escape(&d.run_id),
            d.verdict,
            d.label,
            escape(d.note.as_deref().unwrap_or("")),
            d.rules.iter().map(|r| format!("<code>{}</code>", escape(r))).collect::<Vec<_>>().join(", ")
        );
    }
    out.push_str("</table></details>\n");
}

fn render_costs(out: &mut String, slo: &SloSummary) {
    let Some(costs) = &slo.costs else { return };
    let currency = costs.currency.as_deref();
    let declared = |value: Option<Decimal>| value.map_or("not declared".to_string(), |v| money(v, currency));
    let _ = writeln!(out, "<h3>Cost per correct outcome</h3>");
    out.push_str("<div class=\"tiles\">");
    let share = costs.ratio_to_manual.value().map(|r| format!("{} of the manual cost", percent_value(r, 1)));
    tile(
        out,
        "agent, per correct outcome",
        &money_measure(costs.per_correct_outcome, currency),
        share.as_deref().unwrap_or(""),
    );
    tile(
        out,
        "manual, per outcome",
        &declared(costs.manual_per_correct_outcome),
        "the baseline: a manual run done right",
    );
    tile(
        out,
        "total agent cost",
        &money(costs.total, currency),
        &format!(
            "{} at {}, {} reviews at {}",
            runs(costs.runs),
            declared(costs.agent_run),
            count(costs.reviews),
            declared(costs.checkpoint_review)
        ),
    );
    tile(out, "good runs", &count(costs.good_runs), "the correct outcomes the cost buys");
    out.push_str("</div>\n");
}

fn render_daily_table(out: &mut String, slo: &SloSummary) {
    if slo.daily.is_empty() {
        return;
    }
    let places = sli_places(slo);
    let _ = writeln!(
        out,
        "<details><summary>SLI per day as a table ({} days)</summary><table><tr><th>date</th><th>valid</th><th>good</th><th>bad</th><th>SLI</th><th>budget left</th></tr>",
        slo.daily.len()
    );
    for day in &slo.daily {
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            day.date,
            count(day.valid),
            count(day.good),
            count(day.bad),
            percent(day.sli, places),
            escape(&remaining(day.budget_remaining))
        );
    }
    out.push_str("</table></details>\n");
}

fn render_rules(out: &mut String, report: &SloReport) {
    let _ = writeln!(
        out,
        "<h2>Rules</h2><p class=\"note\">Verdicts over every checked run.</p><table><tr><th>rule</th><th class=\"text\">severity</th><th class=\"text\">mode</th><th>pass</th><th>fail</th><th>skip</th><th>error</th></tr>"
    );
    for rule in &report.rules {
        let _ = writeln!(
            out,
            "<tr><td><code>{}</code></td><td class=\"text\">{}</td><td class=\"text\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&rule.name),
            rule.severity.as_str(),
            rule.mode.as_str(),
            count(rule.pass),
            count(rule.fail),
            count(rule.skip),
            count(rule.error)
        );
    }
    out.push_str("</table>\n");
}
