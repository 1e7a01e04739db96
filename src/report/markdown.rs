//! The Markdown form of the SLO report, for pull requests, wikis and issue
//! comments: the same sections as the text report, as headings and tables.

use std::fmt::Write as _;

use super::format::{
    alert_source, capitalize, count, fixed, instant, money, money_measure, percent, percent_plain, percent_value,
    plain, rate, remaining, runs, sli_places, span, status_sentence, window,
};
use super::slo_text::{DIMENSION_ROWS, LISTED_RUNS};
use crate::slo::{AtSource, SloReport, SloState, SloSummary};

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

/// Escapes text for a table cell: pipes, and line breaks as spaces.
fn cell(text: &str) -> String {
    text.replace('\\', "\\\\").replace('|', "\\|").replace(['\n', '\r'], " ")
}

/// Escapes text for running prose.
fn prose(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '#' | '|') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Returns whether a cell contains a number (or a measure's state), which tables align right.
fn is_numeric(cell: &str) -> bool {
    let starts_with_number = cell.trim_start_matches('-').chars().next().is_some_and(|c| c.is_ascii_digit());
    starts_with_number || ["no data", "insufficient data", "unbounded", "undefined"].contains(&cell)
}

/// Writes a table whose columns of numbers are aligned right, the others left.
fn table(out: &mut String, header: &[&str], rows: &[Vec<String>]) {
    let _ = writeln!(out, "| {} |", header.join(" | "));
    let alignment: String = (0..header.len())
        .map(|column| {
            let numeric =
                !rows.is_empty() && rows.iter().all(|row| row.get(column).is_some_and(|cell| is_numeric(cell)));
            if numeric { " ---: |" } else { " --- |" }
        })
        .collect();
    let _ = writeln!(out, "|{alignment}");
    for row in rows {
        let cells: Vec<String> = row.iter().map(|c| cell(c)).collect();
        let _ = writeln!(out, "| {} |", cells.join(" | "));
    }
    out.push('\n');
}

fn render_header(out: &mut String, report: &SloReport) {
    let _ = writeln!(out, "# semslo report\n");
    let input = &report.input;
    let at = match (report.at, report.at_source) {
        (Some(at), AtSource::Argument) => format!("`{}` (from `--at`)", instant(at)),
        (Some(at), _) => format!("`{}` (the latest event time in the input)", instant(at)),
        (None, _) => "none: no run has an event time".to_string(),
    };
    let files: Vec<String> = report.policy.files.iter().map(|file| format!("`{file}`")).collect();
    let _ = writeln!(out, "- Policy set: {} (`{}`)", files.join(", "), report.policy.hash);
    let _ = writeln!(
        out,
        "- Records: {} read, {} checked, {} rejected",
        count(input.records_read),
        count(input.records_checked),
        count(input.records_rejected)
    );
    if let (Some(first), Some(last)) = (input.first_event_time, input.last_event_time) {
        let _ = writeln!(out, "- Event times: `{}` to `{}`", instant(first), instant(last));
    }
    let _ = writeln!(out, "- Report time: {at}");
    let _ = writeln!(out, "- Schema of `--format json`: `{}`\n", report.schema);

    if !report.slos.is_empty() {
        let rows: Vec<Vec<String>> = report
            .slos
            .iter()
            .map(|slo| {
                vec![
                    format!("[{}](#slo-{})", slo.name, slo.name.to_lowercase()),
                    status_word(slo.status).to_string(),
                    percent(slo.sli, sli_places(slo)),
                    percent_plain(slo.objective),
                    slo.window.written.clone(),
                    remaining(slo.budget.remaining),
                    slo.alerts
                        .alerts
                        .iter()
                        .filter(|alert| alert.fires)
                        .map(|alert| alert.name.clone())
                        .collect::<Vec<_>>()
                        .join(", "),
                ]
            })
            .collect();
        table(out, &["SLO", "status", "SLI", "objective", "window", "budget left", "alerts firing"], &rows);
    }
}

fn status_word(status: SloState) -> &'static str {
    match status {
        SloState::Met => "✅ met",
        SloState::Missed => "❌ missed",
        SloState::NoData => "no data",
        SloState::InsufficientData => "insufficient data",
    }
}

fn render_rules(out: &mut String, report: &SloReport) {
    let _ = writeln!(out, "## Rules\n");
    let rows: Vec<Vec<String>> = report
        .rules
        .iter()
        .map(|rule| {
            vec![
                format!("`{}`", rule.name),
                rule.severity.as_str().to_string(),
                rule.mode.as_str().to_string(),
                count(rule.pass),
                count(rule.fail),
                count(rule.skip),
                count(rule.error),
            ]
        })
        .collect();
    table(out, &["rule", "severity", "mode", "pass", "fail", "skip", "error"], &rows);
}

fn render_slo(out: &mut String, slo: &SloSummary) {
    let _ = writeln!(out, "## SLO {}\n", slo.name);
    if let Some(title) = &slo.title {
        let _ = writeln!(out, "{}\n", prose(title));
    }
    let mark = match slo.status {
        SloState::Met => "✅",
        SloState::Missed => "❌",
        SloState::NoData | SloState::InsufficientData => "⚪",
    };
    let _ = writeln!(out, "{mark} **{}**\n", prose(&capitalize(&status_sentence(slo))));
    let _ = writeln!(out, "- Defined in `{}:{}`", slo.file, slo.line);
    let _ = writeln!(out, "- Window: {}", prose(&window(slo)));
    let minimum = if slo.minimum_runs > 0 {
        format!(", minimum {} in the window", runs(slo.minimum_runs))
    } else {
        String::new()
    };
    let _ = writeln!(out, "- Good when {}{minimum}\n", prose(&slo.good_when));

    let counts = &slo.counts;
    let budget = &slo.budget;
    let mut rows = vec![
        vec!["valid runs in the window".to_string(), count(counts.valid)],
        vec!["good".to_string(), count(counts.good)],
        vec!["bad: failed a rule".to_string(), count(counts.failed)],
        vec!["bad: could not be decided (errors count as bad)".to_string(), count(counts.error)],
    ];
    if counts.unplaced > 0 {
        rows.push(vec!["bad: no usable event time".to_string(), count(counts.unplaced)]);
    }
    rows.extend([
        vec!["SLI".to_string(), percent(slo.sli, sli_places(slo))],
        vec!["objective".to_string(), percent_plain(slo.objective)],
        vec![
            "error budget".to_string(),
            format!("{} of valid runs; {} as time", percent_plain(budget.error_budget), span(budget.time_seconds)),
        ],
        vec![
            "bad runs allowed".to_string(),
            budget.allowed_bad_runs.value().map_or_else(|| percent(budget.allowed_bad_runs, 2), |v| plain(v, 2)),
        ],
        vec!["budget consumed".to_string(), percent(budget.consumed, 2)],
        vec!["budget remaining".to_string(), remaining(budget.remaining)],
        vec!["burn rate over the window".to_string(), rate(slo.burn_rate)],
    ]);
    table(out, &["measure", "value"], &rows);

    render_alerts(out, slo);
    render_daily(out, slo);
    render_breakdowns(out, slo);
    render_input_wide(out, slo);
}

fn render_alerts(out: &mut String, slo: &SloSummary) {
    let _ = writeln!(out, "### Alerts\n\nAlerts: {}.\n", prose(&alert_source(slo)));
    let rows: Vec<Vec<String>> = slo
        .alerts
        .alerts
        .iter()
        .map(|alert| {
            vec![
                alert.name.clone(),
                plain(alert.factor, 4),
                format!("{}: {} ({})", alert.long.duration, rate(alert.long.burn_rate), runs(alert.long.valid)),
                format!("{}: {} ({})", alert.short.duration, rate(alert.short.burn_rate), runs(alert.short.valid)),
                if alert.fires { "**fires**".to_string() } else { "no".to_string() },
            ]
        })
        .collect();
    if !rows.is_empty() {
        table(out, &["alert", "factor", "long window: burn rate", "short window: burn rate", "fires"], &rows);
    }
}

fn render_daily(out: &mut String, slo: &SloSummary) {
    if slo.daily.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "### SLI per day\n\nDays in {}; budget left is the window's budget after the bad runs up to the end of each day.\n",
        slo.window.time_zone
    );
    let places = sli_places(slo);
    let rows: Vec<Vec<String>> = slo
        .daily
        .iter()
        .map(|day| {
            vec![
                day.date.to_string(),
                count(day.valid),
                count(day.good),
                count(day.bad),
                percent(day.sli, places),
                remaining(day.budget_remaining),
            ]
        })
        .collect();
    table(out, &["date", "valid", "good", "bad", "SLI", "budget left"], &rows);
}

fn render_breakdowns(out: &mut String, slo: &SloSummary) {
    let _ = writeln!(
        out,
        "### Bad runs by rule\n\nCounted rules, worst first; a run that broke two rules counts for both.\n"
    );
    let rows: Vec<Vec<String>> = slo
        .by_rule
        .iter()
        .map(|row| {
            vec![
                format!("`{}`", row.rule),
                row.severity.as_str().to_string(),
                count(row.bad_runs),
                count(row.failed),
                count(row.errored),
                percent(row.share_of_valid, 2),
            ]
        })
        .collect();
    table(out, &["rule", "severity", "bad runs", "failed", "errored", "share of valid runs"], &rows);

    let _ = writeln!(
        out,
        "### Bad runs by segment\n\nEach bad run counts once, for the first segment whose rules failed.\n"
    );
    let rows: Vec<Vec<String>> = slo
        .by_segment
        .iter()
        .map(|row| {
            vec![
                row.segment.clone().unwrap_or_else(|| "(no segment)".to_string()),
                count(row.bad_runs),
                percent(row.share_of_bad, 2),
            ]
        })
        .collect();
    table(out, &["segment", "bad runs", "share of bad runs"], &rows);

    let places = sli_places(slo);
    for dimension in &slo.by_dimension {
        let shown = dimension.values.len().min(DIMENSION_ROWS);
        let _ = writeln!(
            out,
            "### By `{}`\n\nWorst first: the {} of {} values with the most bad runs.\n",
            dimension.dimension,
            shown,
            dimension.values.len()
        );
        let rows: Vec<Vec<String>> = dimension.values[..shown]
            .iter()
            .map(|value| {
                vec![
                    format!("`{}`", value.value),
                    count(value.valid),
                    count(value.good),
                    count(value.bad),
                    percent(value.sli, places),
                ]
            })
            .collect();
        table(out, &["value", "valid", "good", "bad", "SLI"], &rows);
    }
}

fn render_input_wide(out: &mut String, slo: &SloSummary) {
    let seen = &slo.input_runs;
    let _ = writeln!(out, "### Over every valid run of the input\n");
    let _ = writeln!(
        out,
        "These sections cover all {} valid runs read, whatever their event time: {} good, {} bad ({} only because something could not be decided); {} runs were not valid.\n",
        count(seen.valid),
        count(seen.good),
        count(seen.bad),
        count(seen.bad_error),
        count(seen.not_valid)
    );
    for reason in &seen.unplaced_reasons {
        let _ = writeln!(out, "- {} without a usable event time: {}", runs(reason.runs), prose(&reason.reason));
    }
    if !seen.unplaced_reasons.is_empty() {
        out.push('\n');
    }

    for workflow in &slo.contrast {
        let _ = writeln!(out, "#### Step success against end-to-end correctness: `{}`\n", workflow.workflow);
        let rows = vec![
            vec![
                "step-level success".to_string(),
                percent(workflow.step_success, 2),
                format!("{} of {} steps had status `ok`", count(workflow.steps_ok), count(workflow.steps)),
            ],
            vec![
                "predicted end to end".to_string(),
                percent(workflow.predicted_end_to_end, 2),
                format!("product of the success rates of {} step names", workflow.step_names.len()),
            ],
            vec![
                "measured end to end".to_string(),
                percent(workflow.measured_end_to_end, 2),
                format!("{} of {} runs good", count(workflow.good), count(workflow.runs)),
            ],
        ];
        table(out, &["measure", "rate", "from"], &rows);
        let rows: Vec<Vec<String>> = workflow
            .step_names
            .iter()
            .map(|step| vec![format!("`{}`", step.name), count(step.steps), count(step.ok), percent(step.success, 2)])
            .collect();
        table(out, &["step", "steps", "ok", "success"], &rows);
        if !workflow.first_failing_segment.is_empty() {
            let segments: Vec<String> = workflow
                .first_failing_segment
                .iter()
                .map(|row| format!("{} {}", row.segment.as_deref().unwrap_or("(no segment)"), count(row.bad_runs)))
                .collect();
            let _ = writeln!(out, "Bad runs by the first segment whose rules failed: {}.\n", segments.join(", "));
        }
    }
    render_checkpoints(out, slo);
    render_labels(out, slo);
    render_costs(out, slo);
}

fn render_checkpoints(out: &mut String, slo: &SloSummary) {
    let Some(checkpoints) = &slo.checkpoints else { return };
    let _ = writeln!(out, "#### Checkpoints\n");
    let rows = vec![
        vec!["reviews".to_string(), format!("{} on {}", count(checkpoints.reviews), runs(checkpoints.runs_reviewed))],
        vec!["rejected or modified".to_string(), count(checkpoints.rejections)],
        vec![
            "catch rate".to_string(),
            format!(
                "{} ({} of {} reviewed bad runs rejected)",
                percent(checkpoints.catch_rate, 2),
                count(checkpoints.caught),
                count(checkpoints.bad_runs_reviewed)
            ),
        ],
        vec!["escapes (bad runs every checkpoint approved)".to_string(), count(checkpoints.escapes)],
        vec!["bad runs without a checkpoint".to_string(), count(checkpoints.bad_runs_unreviewed)],
        vec!["rejections no rule explains".to_string(), count(checkpoints.unexplained_rejections)],
    ];
    table(out, &["measure", "value"], &rows);
    if !checkpoints.unexplained_run_ids.is_empty() {
        let listed: Vec<String> =
            checkpoints.unexplained_run_ids.iter().take(LISTED_RUNS).map(|id| format!("`{id}`")).collect();
        let _ = writeln!(out, "Good runs a checkpoint rejected (a rule may be missing): {}.\n", listed.join(", "));
    }
    let rows: Vec<Vec<String>> = checkpoints
        .by_checkpoint
        .iter()
        .map(|name| {
            vec![
                format!("`{}`", name.name),
                count(name.reviews),
                count(name.approved),
                count(name.rejected),
                count(name.modified),
                count(name.other),
            ]
        })
        .collect();
    table(out, &["checkpoint", "reviews", "approved", "rejected", "modified", "other"], &rows);
}

fn render_labels(out: &mut String, slo: &SloSummary) {
    let Some(labels) = &slo.labels else { return };
    let matrix = &labels.confusion;
    let _ =
        writeln!(out, "#### Expert labels\n\n{} labelled; the positive class is bad.\n", runs(labels.labelled_runs));
    let rows = vec![
        vec!["SLO bad".to_string(), count(matrix.bad_incorrect), count(matrix.bad_correct)],
        vec!["SLO good".to_string(), count(matrix.good_incorrect), count(matrix.good_correct)],
    ];
    table(out, &["", "label incorrect", "label correct"], &rows);
    let kappa = labels.kappa.value().map_or_else(|| percent(labels.kappa, 2), |kappa| fixed(kappa, 3));
    let _ = writeln!(
        out,
        "Precision {}, recall {}, agreement {}, Cohen's kappa {kappa}.\n",
        percent(labels.precision, 2),
        percent(labels.recall, 2),
        percent(labels.agreement, 2)
    );
    let total = labels.disagreements.len() as u64 + labels.disagreements_not_listed;
    if total == 0 {
        return;
    }
    let rows: Vec<Vec<String>> = labels
        .disagreements
        .iter()
        .take(LISTED_RUNS)
        .map(|d| {
            vec![
                format!("`{}`", d.run_id),
                d.verdict.to_string(),
                d.label.to_string(),
                d.note.clone().unwrap_or_default(),
                d.rules.iter().map(|rule| format!("`{rule}`")).collect::<Vec<_>>().join(", "),
            ]
        })
        .collect();
    let _ = writeln!(out, "Disagreeing runs ({}):\n", count(total));
    table(out, &["run", "SLO", "expert", "note", "rules"], &rows);
    if total > LISTED_RUNS as u64 {
        let _ = writeln!(out, "... and {} more; `--format json` lists them all.\n", count(total - LISTED_RUNS as u64));
    }
}

fn render_costs(out: &mut String, slo: &SloSummary) {
    let Some(costs) = &slo.costs else { return };
    let currency = costs.currency.as_deref();
    let declared =
        |value: Option<rust_decimal::Decimal>| value.map_or("not declared".to_string(), |v| money(v, currency));
    let _ = writeln!(out, "#### Cost per correct outcome\n");
    let mut rows = vec![
        vec!["agent run".to_string(), declared(costs.agent_run)],
        vec!["checkpoint review".to_string(), declared(costs.checkpoint_review)],
        vec![
            "total".to_string(),
            format!("{} for {} and {} reviews", money(costs.total, currency), runs(costs.runs), count(costs.reviews)),
        ],
        vec!["good runs".to_string(), count(costs.good_runs)],
        vec!["cost per correct outcome".to_string(), money_measure(costs.per_correct_outcome, currency)],
        vec!["manual baseline per outcome".to_string(), declared(costs.manual_per_correct_outcome)],
    ];
    if let Some(ratio) = costs.ratio_to_manual.value() {
        rows.push(vec!["share of the manual cost".to_string(), percent_value(ratio, 1)]);
    }
    table(out, &["", "value"], &rows);
}
