//! The terminal form of the SLO report: [`render`] writes the whole report for
//! `semslo report`, [`render_brief`] the SLO section of `semslo check`.

use std::fmt::Write as _;

use super::format::{
    alert_source, count, fixed, instant, money, money_measure, percent, percent_plain, plain, rate, remaining, runs,
    sli_places, span, status_sentence, window,
};
use crate::slo::{AtSource, SloReport, SloSummary};

/// Dimension values listed per dimension in text; JSON lists all of them.
pub const DIMENSION_ROWS: usize = 10;
/// Runs listed in text for disagreements and unexplained rejections.
pub const LISTED_RUNS: usize = 20;

/// Renders the whole report.
pub fn render(report: &SloReport) -> String {
    let mut out = String::new();
    render_header(&mut out, report);
    render_rules(&mut out, report);
    for slo in &report.slos {
        render_slo(&mut out, slo);
    }
    if report.slos.is_empty() {
        out.push_str("The policy set declares no SLO.\n");
    }
    out
}

/// Renders the SLO section of `semslo check`: status, counts, budget and alerts per SLO.
pub fn render_brief(out: &mut String, slos: &[SloSummary]) {
    for slo in slos {
        let _ = writeln!(out, "slo {}{}", slo.name, title_suffix(slo));
        let _ = writeln!(out, "  status     {}", status_sentence(slo));
        let _ = writeln!(out, "  window     {}", window(slo));
        render_counts(out, slo);
        render_budget(out, slo);
        for alert in &slo.alerts.alerts {
            let _ = writeln!(
                out,
                "  alert      {} (burn rate > {}): {} over {}, {} over {}; {}",
                alert.name,
                plain(alert.factor, 4),
                rate(alert.long.burn_rate),
                alert.long.duration,
                rate(alert.short.burn_rate),
                alert.short.duration,
                if alert.fires { "FIRES" } else { "does not fire" }
            );
        }
        if slo.alerts.scaling.is_some() {
            let _ = writeln!(out, "  alerts     {}", alert_source(slo));
        }
        out.push('\n');
    }
}

fn title_suffix(slo: &SloSummary) -> String {
    slo.title.as_ref().map(|title| format!(": {title}")).unwrap_or_default()
}

fn render_header(out: &mut String, report: &SloReport) {
    let _ = writeln!(out, "semslo report ({})", report.schema);
    let _ = writeln!(out, "policy set   {} ({})", report.policy.files.join(", "), report.policy.hash);
    let input = &report.input;
    let _ = writeln!(
        out,
        "records      {} read, {} checked, {} rejected",
        count(input.records_read),
        count(input.records_checked),
        count(input.records_rejected)
    );
    for rejected in input.rejected.iter().take(LISTED_RUNS) {
        let _ = writeln!(out, "               rejected {}:{}: {}", rejected.file, rejected.line, rejected.reason);
    }
    if let (Some(first), Some(last)) = (input.first_event_time, input.last_event_time) {
        let _ = writeln!(out, "event times  {} to {}", instant(first), instant(last));
    }
    let at = match (report.at, report.at_source) {
        (Some(at), AtSource::Argument) => format!("{} (from --at)", instant(at)),
        (Some(at), _) => format!("{} (the latest event time in the input)", instant(at)),
        (None, _) => "none: no run has an event time".to_string(),
    };
    let _ = writeln!(out, "report time  {at}\n");
}

fn render_rules(out: &mut String, report: &SloReport) {
    let width = report.rules.iter().map(|r| r.name.len()).max().unwrap_or(4).max(4);
    let _ = writeln!(
        out,
        "{:<width$}  {:<8}  {:<7}  {:>7}  {:>7}  {:>7}  {:>7}",
        "rule", "severity", "mode", "pass", "fail", "skip", "error"
    );
    for rule in &report.rules {
        let _ = writeln!(
            out,
            "{:<width$}  {:<8}  {:<7}  {:>7}  {:>7}  {:>7}  {:>7}",
            rule.name,
            rule.severity.as_str(),
            rule.mode.as_str(),
            rule.pass,
            rule.fail,
            rule.skip,
            rule.error
        );
    }
    out.push('\n');
}

fn render_slo(out: &mut String, slo: &SloSummary) {
    let _ = writeln!(out, "== slo {}{}", slo.name, title_suffix(slo));
    let _ = writeln!(out, "  defined    {}:{}", slo.file, slo.line);
    let _ = writeln!(out, "  status     {}", status_sentence(slo));
    let _ = writeln!(out, "  window     {}", window(slo));
    let minimum = if slo.minimum_runs > 0 {
        format!(", minimum {} in the window", runs(slo.minimum_runs))
    } else {
        String::new()
    };
    let _ = writeln!(out, "  good when  {}{minimum}", slo.good_when);
    render_counts(out, slo);
    render_budget(out, slo);
    render_alerts(out, slo);
    render_daily(out, slo);
    render_breakdowns(out, slo);
    render_input_wide(out, slo);
}

fn render_counts(out: &mut String, slo: &SloSummary) {
    let counts = &slo.counts;
    let _ = writeln!(
        out,
        "  runs       {} valid in the window: {} good, {} bad",
        count(counts.valid),
        count(counts.good),
        count(counts.bad)
    );
    let _ = writeln!(out, "               {} failed a rule", count(counts.failed));
    let _ = writeln!(out, "               {} could not be decided (rule errors count as bad)", count(counts.error));
    if counts.unplaced > 0 {
        let _ = writeln!(
            out,
            "               {} without a usable event time (cannot be placed, so counted as bad)",
            count(counts.unplaced)
        );
    }
}

fn render_budget(out: &mut String, slo: &SloSummary) {
    let budget = &slo.budget;
    let allowed = match budget.allowed_bad_runs.value() {
        Some(allowed) => format!("{} of {} valid runs", plain(allowed, 2), count(slo.counts.valid)),
        None => percent(budget.allowed_bad_runs, 2),
    };
    let _ = writeln!(
        out,
        "  budget     {} of valid runs may be bad: {allowed}; as time over the window, {}",
        percent_plain(budget.error_budget),
        span(budget.time_seconds)
    );
    let _ = writeln!(
        out,
        "               consumed {}, remaining {}",
        percent(budget.consumed, 2),
        remaining(budget.remaining)
    );
    let _ = writeln!(out, "  burn rate  {} over the whole window", rate(slo.burn_rate));
}

fn render_alerts(out: &mut String, slo: &SloSummary) {
    let _ = writeln!(out, "  alerts     {}", alert_source(slo));
    if slo.alerts.alerts.is_empty() {
        return;
    }
    let window = |w: &crate::slo::AlertWindow| format!("{}: {} ({})", w.duration, rate(w.burn_rate), runs(w.valid));
    let rows: Vec<(String, String, String, String)> = slo
        .alerts
        .alerts
        .iter()
        .map(|alert| (alert.name.clone(), plain(alert.factor, 4), window(&alert.long), window(&alert.short)))
        .collect();
    let name_width = rows.iter().map(|row| row.0.chars().count()).max().unwrap_or(0).max(5);
    let long_width = rows.iter().map(|row| row.2.chars().count()).max().unwrap_or(0).max(22);
    let short_width = rows.iter().map(|row| row.3.chars().count()).max().unwrap_or(0).max(23);
    let _ = writeln!(
        out,
        "               {:<name_width$}  {:>6}  {:<long_width$}  {:<short_width$}  fires",
        "alert", "factor", "long window: burn rate", "short window: burn rate"
    );
    for ((name, factor, long, short), alert) in rows.iter().zip(&slo.alerts.alerts) {
        let fires = if alert.fires { "YES" } else { "no" };
        let _ = writeln!(
            out,
            "               {name:<name_width$}  {factor:>6}  {long:<long_width$}  {short:<short_width$}  {fires}"
        );
    }
}

fn render_daily(out: &mut String, slo: &SloSummary) {
    if slo.daily.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "  SLI per day ({}; budget left: the window's budget after the bad runs up to the day's end)",
        slo.window.time_zone
    );
    let _ = writeln!(
        out,
        "               {:<10}  {:>6}  {:>6}  {:>6}  {:>9}  {:>12}",
        "date", "valid", "good", "bad", "SLI", "budget left"
    );
    let places = sli_places(slo);
    for day in &slo.daily {
        let _ = writeln!(
            out,
            "               {:<10}  {:>6}  {:>6}  {:>6}  {:>9}  {:>12}",
            day.date.to_string(),
            count(day.valid),
            count(day.good),
            count(day.bad),
            percent(day.sli, places),
            remaining(day.budget_remaining)
        );
    }
}

fn render_breakdowns(out: &mut String, slo: &SloSummary) {
    let width = slo.by_rule.iter().map(|r| r.rule.len()).max().unwrap_or(4).max(4);
    let _ = writeln!(out, "  by rule    bad runs in the window per counted rule, worst first");
    let _ = writeln!(
        out,
        "               {:<width$}  {:<8}  {:>6}  {:>6}  {:>7}  {:>14}",
        "rule", "severity", "bad", "failed", "errored", "share of valid"
    );
    for row in &slo.by_rule {
        let _ = writeln!(
            out,
            "               {:<width$}  {:<8}  {:>6}  {:>6}  {:>7}  {:>14}",
            row.rule,
            row.severity.as_str(),
            count(row.bad_runs),
            count(row.failed),
            count(row.errored),
            percent(row.share_of_valid, 2)
        );
    }

    let _ = writeln!(out, "  by segment bad runs in the window by the first segment whose rules failed");
    for row in &slo.by_segment {
        let _ = writeln!(
            out,
            "               {:<16}  {:>6}  {:>8}",
            row.segment.as_deref().unwrap_or("(no segment)"),
            count(row.bad_runs),
            percent(row.share_of_bad, 2)
        );
    }

    let places = sli_places(slo);
    for dimension in &slo.by_dimension {
        let shown = dimension.values.len().min(DIMENSION_ROWS);
        let _ =
            writeln!(out, "  by {}  worst first, {} of {} values", dimension.dimension, shown, dimension.values.len());
        let width = dimension.values.iter().take(shown).map(|v| v.value.chars().count()).max().unwrap_or(5).max(5);
        let _ = writeln!(
            out,
            "               {:<width$}  {:>6}  {:>6}  {:>6}  {:>9}",
            "value", "valid", "good", "bad", "SLI"
        );
        for value in &dimension.values[..shown] {
            let _ = writeln!(
                out,
                "               {:<width$}  {:>6}  {:>6}  {:>6}  {:>9}",
                value.value,
                count(value.valid),
                count(value.good),
                count(value.bad),
                percent(value.sli, places)
            );
        }
    }
}

fn render_input_wide(out: &mut String, slo: &SloSummary) {
    let runs_seen = &slo.input_runs;
    let _ = writeln!(out, "  -- over every valid run of the input, whatever its time");
    let _ = writeln!(
        out,
        "  runs       {} valid: {} good, {} bad ({} only because something could not be decided); {} not valid",
        count(runs_seen.valid),
        count(runs_seen.good),
        count(runs_seen.bad),
        count(runs_seen.bad_error),
        count(runs_seen.not_valid)
    );
    if runs_seen.not_valid_field_missing > 0 {
        let _ = writeln!(
            out,
            "               {} not valid because `valid when` read a missing field",
            count(runs_seen.not_valid_field_missing)
        );
    }
    for reason in &runs_seen.unplaced_reasons {
        let _ = writeln!(out, "               {} without a usable event time: {}", runs(reason.runs), reason.reason);
    }
    render_contrast(out, slo);
    render_checkpoints(out, slo);
    render_labels(out, slo);
    render_costs(out, slo);
    out.push('\n');
}

fn render_contrast(out: &mut String, slo: &SloSummary) {
    for workflow in &slo.contrast {
        let _ = writeln!(out, "  workflow   {}: {}", workflow.workflow, runs(workflow.runs));
        let _ = writeln!(
            out,
            "               step-level success     {:>8}  ({} of {} steps had status ok)",
            percent(workflow.step_success, 2),
            count(workflow.steps_ok),
            count(workflow.steps)
        );
        let _ = writeln!(
            out,
            "               predicted end to end   {:>8}  (product of the success rates of {} step names)",
            percent(workflow.predicted_end_to_end, 2),
            workflow.step_names.len()
        );
        let _ = writeln!(
            out,
            "               measured end to end    {:>8}  ({} of {} runs good)",
            percent(workflow.measured_end_to_end, 2),
            count(workflow.good),
            count(workflow.runs)
        );
        let steps: Vec<String> =
            workflow.step_names.iter().map(|step| format!("{} {}", step.name, percent(step.success, 2))).collect();
        let steps = if steps.is_empty() { "none in these runs".to_string() } else { steps.join(", ") };
        let _ = writeln!(out, "               steps: {steps}");
        if !workflow.first_failing_segment.is_empty() {
            let segments: Vec<String> = workflow
                .first_failing_segment
                .iter()
                .map(|row| format!("{} {}", row.segment.as_deref().unwrap_or("(no segment)"), count(row.bad_runs)))
                .collect();
            let _ = writeln!(out, "               bad runs by first failing segment: {}", segments.join(", "));
        }
    }
}

fn render_checkpoints(out: &mut String, slo: &SloSummary) {
    let Some(checkpoints) = &slo.checkpoints else { return };
    let _ = writeln!(
        out,
        "  checkpoints {} reviews on {}, {} rejected or modified",
        count(checkpoints.reviews),
        runs(checkpoints.runs_reviewed),
        count(checkpoints.rejections)
    );
    let _ = writeln!(
        out,
        "               catch rate {}: a checkpoint rejected {} of {} reviewed bad runs",
        percent(checkpoints.catch_rate, 2),
        count(checkpoints.caught),
        count(checkpoints.bad_runs_reviewed)
    );
    let _ = writeln!(
        out,
        "               escapes {}: bad runs that every checkpoint approved; {} bad runs had no checkpoint",
        count(checkpoints.escapes),
        count(checkpoints.bad_runs_unreviewed)
    );
    let _ = writeln!(
        out,
        "               unexplained rejections {}: good runs a checkpoint rejected (a rule may be missing)",
        count(checkpoints.unexplained_rejections)
    );
    if !checkpoints.unexplained_run_ids.is_empty() {
        let listed: Vec<&str> = checkpoints.unexplained_run_ids.iter().take(LISTED_RUNS).map(String::as_str).collect();
        let more = checkpoints.unexplained_rejections - listed.len() as u64;
        let more = if more > 0 { format!(" and {} more", count(more)) } else { String::new() };
        let _ = writeln!(out, "                 {}{more}", listed.join(", "));
    }
    for name in &checkpoints.by_checkpoint {
        let _ = writeln!(
            out,
            "               {}: {} reviews, {} approved, {} rejected, {} modified, {} other",
            name.name,
            count(name.reviews),
            count(name.approved),
            count(name.rejected),
            count(name.modified),
            count(name.other)
        );
    }
}

fn render_labels(out: &mut String, slo: &SloSummary) {
    let Some(labels) = &slo.labels else { return };
    let matrix = &labels.confusion;
    let _ = writeln!(
        out,
        "  labels     SLO verdict against expert label on {} (positive class: bad)",
        runs(labels.labelled_runs)
    );
    let _ = writeln!(out, "               {:<14}  {:>15}  {:>13}", "", "label incorrect", "label correct");
    let _ = writeln!(
        out,
        "               {:<14}  {:>15}  {:>13}",
        "SLO bad",
        count(matrix.bad_incorrect),
        count(matrix.bad_correct)
    );
    let _ = writeln!(
        out,
        "               {:<14}  {:>15}  {:>13}",
        "SLO good",
        count(matrix.good_incorrect),
        count(matrix.good_correct)
    );
    let kappa = match labels.kappa.value() {
        Some(kappa) => fixed(kappa, 3),
        None => percent(labels.kappa, 2),
    };
    let _ = writeln!(
        out,
        "               precision {}, recall {}, agreement {}, Cohen's kappa {kappa}",
        percent(labels.precision, 2),
        percent(labels.recall, 2),
        percent(labels.agreement, 2)
    );
    let total = labels.disagreements.len() as u64 + labels.disagreements_not_listed;
    if total > 0 {
        let _ = writeln!(out, "               disagreeing runs ({}):", count(total));
    }
    for disagreement in labels.disagreements.iter().take(LISTED_RUNS) {
        let rules =
            if disagreement.rules.is_empty() { String::new() } else { format!(" [{}]", disagreement.rules.join(", ")) };
        let note = disagreement.note.as_ref().map(|note| format!(": {note}")).unwrap_or_default();
        let _ = writeln!(
            out,
            "                 {} SLO {}, expert {}{note}{rules}",
            disagreement.run_id, disagreement.verdict, disagreement.label
        );
    }
    if total > LISTED_RUNS as u64 {
        let _ = writeln!(
            out,
            "                 ... and {} more (all are in `--format json`)",
            count(total - LISTED_RUNS as u64)
        );
    }
}

fn render_costs(out: &mut String, slo: &SloSummary) {
    let Some(costs) = &slo.costs else { return };
    let currency = costs.currency.as_deref();
    let declared =
        |value: Option<rust_decimal::Decimal>| value.map_or("not declared".to_string(), |v| money(v, currency));
    let _ = writeln!(
        out,
        "  costs      agent run {}, checkpoint review {}, manual run {}",
        declared(costs.agent_run),
        declared(costs.checkpoint_review),
        declared(costs.manual_run)
    );
    let _ = writeln!(
        out,
        "               {} and {} reviews cost {}; {} good",
        runs(costs.runs),
        count(costs.reviews),
        money(costs.total, currency),
        count(costs.good_runs)
    );
    let ratio = match costs.ratio_to_manual.value() {
        Some(ratio) => format!(" ({} of the manual cost)", super::format::percent_value(ratio, 1)),
        None => String::new(),
    };
    let _ = writeln!(
        out,
        "               cost per correct outcome {}, manual baseline {}{ratio}",
        money_measure(costs.per_correct_outcome, currency),
        declared(costs.manual_per_correct_outcome)
    );
}
