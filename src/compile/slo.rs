//! Compiling `slo` and `costs` blocks: objectives, windows, alerts, time zones.

use std::str::FromStr;

use rust_decimal::Decimal;

use super::PendingSlo;
use super::program::{CompiledAlert, CompiledCosts, CompiledRule, CompiledSlo, FileId, GoodRule, SloWindow};
use super::resolve::Scope;
use crate::diagnostic::{Diagnostic, Diagnostics, SourceFile, Span, did_you_mean};
use crate::syntax::ast::{self, GoodCondition, RuleMode, WindowSpec};
use crate::value::{parse_decimal, parse_duration};

/// Default multi-window burn-rate alerts, as the SRE Workbook derives them for a
/// 30-day window: (severity, share of the error budget spent, long window, short
/// window). The factor for a window `W` is `share × W ÷ long window`, so a 30-day
/// window gives 14.4, 6, 3 and 1.
pub const DEFAULT_ALERTS: [(&str, &str, &str, &str); 4] = [
    ("page", "0.02", "1h", "5m"),
    ("page", "0.05", "6h", "30m"),
    ("ticket", "0.10", "1d", "2h"),
    ("ticket", "0.10", "3d", "6h"),
];

fn error(source: &SourceFile, code: &'static str, message: String, span: Span, help: &str) -> Diagnostic {
    Diagnostic::error(code, message).in_file(source).with_label(span, "").with_help(help)
}

pub(super) fn compile_slo(
    source: &SourceFile,
    file: FileId,
    slo: &ast::Slo,
    scope: &mut Scope<'_>,
    has_event_time: bool,
    diagnostics: &mut Diagnostics,
) -> Option<PendingSlo> {
    let before = diagnostics.error_count();
    if !has_event_time {
        diagnostics.push(error(
            source,
            "semslo::check::missing_event_time",
            format!("slo `{}` needs the time of each run, but the policy declares no event time", slo.name.name),
            slo.head_span,
            "add `event time PATH` (e.g. `event time outcome.created_at`) so runs can be placed in windows",
        ));
    }

    let objective = slo.objective.as_ref().and_then(|(text, span)| {
        let value = parse_decimal(text).filter(|v| *v > Decimal::ZERO && *v <= Decimal::ONE_HUNDRED);
        if value.is_none() {
            diagnostics.push(error(
                source,
                "semslo::check::invalid_objective",
                format!("objective `{text}%` is out of range"),
                *span,
                "an objective is the target share of good runs, above 0% and at most 100%, e.g. `99.5%`",
            ));
        }
        value.map(|v| v / Decimal::ONE_HUNDRED)
    });

    let window = match &slo.window {
        Some((WindowSpec::Rolling(text), span)) => {
            match parse_duration(text).filter(|d| *d > chrono::TimeDelta::zero()) {
                Some(duration) => Some(SloWindow::Rolling(duration)),
                None => {
                    diagnostics.push(error(
                        source,
                        "semslo::check::invalid_literal",
                        format!("window `{text}` is not a positive duration"),
                        *span,
                        "write a window like `28d` or `calendar month`",
                    ));
                    None
                }
            }
        }
        Some((WindowSpec::Calendar(unit), _)) => Some(SloWindow::Calendar(*unit)),
        None => None,
    };

    let time_zone = match &slo.time_zone {
        None => chrono_tz::UTC,
        Some((name, span)) => match chrono_tz::Tz::from_str(name) {
            Ok(zone) => zone,
            Err(_) => {
                let suggestion = did_you_mean(name, chrono_tz::TZ_VARIANTS.iter().map(|z| z.name()))
                    .map(|close| format!("did you mean `{close}`? "))
                    .unwrap_or_default();
                diagnostics.push(error(
                    source,
                    "semslo::check::unknown_time_zone",
                    format!("unknown time zone `{name}`"),
                    *span,
                    &format!("{suggestion}time zones are IANA names like `Europe/Berlin` or `America/New_York`"),
                ));
                chrono_tz::UTC
            }
        },
    };

    let minimum_runs = match &slo.minimum_runs {
        None => 0,
        Some((text, span)) => text.parse::<u64>().unwrap_or_else(|_| {
            diagnostics.push(error(
                source,
                "semslo::check::invalid_literal",
                format!("`minimum {text} runs` needs a whole number"),
                *span,
                "write e.g. `minimum 50 runs`",
            ));
            0
        }),
    };

    let alerts = compile_alerts(source, slo, window, diagnostics);
    let valid = slo.valid.as_ref().map(|expr| scope.condition(expr, "valid when"));
    let by = slo
        .by
        .iter()
        .map(|expr| (source.text()[expr.span.start..expr.span.end].to_string(), scope.expr(expr).0))
        .collect();

    if diagnostics.error_count() > before {
        return None;
    }
    let window = window?;
    let (alerts, alerts_declared) = match alerts {
        Some(declared) => (declared, true),
        None => (default_alerts(window), false),
    };
    Some(PendingSlo {
        slo: CompiledSlo {
            name: slo.name.name.clone(),
            title: slo.title.clone(),
            objective: objective?,
            window,
            time_zone,
            valid,
            good: GoodRule::AllRulesPass,
            minimum_runs,
            alerts,
            alerts_declared,
            by,
            file,
            span: slo.span,
        },
        good: slo.good.clone(),
        source: source.clone(),
    })
}

/// Compiles declared alerts; `None` when the SLO declares none.
fn compile_alerts(
    source: &SourceFile,
    slo: &ast::Slo,
    window: Option<SloWindow>,
    diagnostics: &mut Diagnostics,
) -> Option<Vec<CompiledAlert>> {
    if slo.alerts.is_empty() {
        return None;
    }
    let mut alerts = Vec::new();
    for alert in &slo.alerts {
        let factor = parse_decimal(&alert.factor).filter(|f| *f > Decimal::ZERO);
        let long = parse_duration(&alert.long_window).filter(|d| *d > chrono::TimeDelta::zero());
        let short = parse_duration(&alert.short_window).filter(|d| *d > chrono::TimeDelta::zero());
        let (Some(factor), Some(long_window), Some(short_window)) = (factor, long, short) else {
            diagnostics.push(error(
                source,
                "semslo::check::invalid_alert",
                format!("alert `{}` needs a positive burn-rate factor and two positive windows", alert.name.name),
                alert.span,
                "write e.g. `alert page when burn rate > 14.4 over 1h and 5m`",
            ));
            continue;
        };
        if short_window >= long_window {
            diagnostics.push(
                Diagnostic::warning(
                    "semslo::check::alert_windows",
                    format!("alert `{}`: the short window is not shorter than the long one", alert.name.name),
                )
                .in_file(source)
                .with_label(alert.span, "")
                .with_help(
                    "the short window (often 1/12 of the long one) makes the alert reset quickly once the burn stops",
                ),
            );
        }
        if window.is_some_and(|w| long_window > w.nominal_length()) {
            diagnostics.push(
                Diagnostic::warning(
                    "semslo::check::alert_windows",
                    format!("alert `{}`: the long window is longer than the SLO window", alert.name.name),
                )
                .in_file(source)
                .with_label(alert.span, "")
                .with_help("burn rate over a window longer than the SLO's compares runs the objective does not cover"),
            );
        }
        alerts.push(CompiledAlert { name: alert.name.name.clone(), factor, long_window, short_window });
    }
    Some(alerts)
}

/// The four default alerts, with factors scaled from a 30-day window to `window`.
pub fn default_alerts(window: SloWindow) -> Vec<CompiledAlert> {
    let window_ms = Decimal::from(window.nominal_length().num_milliseconds());
    DEFAULT_ALERTS
        .iter()
        .map(|(name, share, long, short)| {
            let long_window = parse_duration(long).expect("valid default window");
            let share = parse_decimal(share).expect("valid default share");
            let factor = share * window_ms / Decimal::from(long_window.num_milliseconds());
            CompiledAlert {
                name: (*name).to_string(),
                factor: factor.round_dp(4).normalize(),
                long_window,
                short_window: parse_duration(short).expect("valid default window"),
            }
        })
        .collect()
}

/// Resolves the rule names of every SLO's `good` condition and rejects duplicate SLO names.
pub(super) fn resolve_slos(
    pending: Vec<PendingSlo>,
    rules: &[CompiledRule],
    diagnostics: &mut Diagnostics,
) -> Vec<CompiledSlo> {
    let mut slos: Vec<CompiledSlo> = Vec::new();
    for PendingSlo { mut slo, good, source } in pending {
        if slos.iter().any(|other| other.name == slo.name) {
            diagnostics.push(error(
                &source,
                "semslo::check::duplicate_slo",
                format!("slo `{}` is defined twice", slo.name),
                slo.span,
                "SLO names identify dashboards and alerts; rename one of them",
            ));
            continue;
        }
        slo.good = match good {
            None | Some((GoodCondition::AllRulesPass, _)) => GoodRule::AllRulesPass,
            Some((GoodCondition::NoRuleFails(severity), _)) => GoodRule::NoRuleFails(severity),
            Some((GoodCondition::RulesPass(names), _)) => {
                let mut indices = Vec::new();
                for name in names {
                    match rules.iter().position(|rule| rule.name == name.name) {
                        Some(index) => {
                            if rules[index].mode == RuleMode::Shadow {
                                diagnostics.push(
                                    Diagnostic::warning(
                                        "semslo::check::shadow_rule_in_slo",
                                        format!("rule `{}` is in shadow mode but this SLO counts it", name.name),
                                    )
                                    .in_file(&source)
                                    .with_label(name.span, "")
                                    .with_help("shadow rules are meant to be tried without affecting SLOs; switch it to `enforce` or leave it out"),
                                );
                            }
                            indices.push(index);
                        }
                        None => {
                            let help = match did_you_mean(&name.name, rules.iter().map(|r| r.name.as_str())) {
                                Some(close) => format!("did you mean `{close}`?"),
                                None => "name a rule defined in the policy set".to_string(),
                            };
                            diagnostics.push(error(
                                &source,
                                "semslo::check::unknown_rule",
                                format!("unknown rule `{}`", name.name),
                                name.span,
                                &help,
                            ));
                        }
                    }
                }
                GoodRule::RulesPass(indices)
            }
        };
        slos.push(slo);
    }
    slos
}

pub(super) fn compile_costs(
    source: &SourceFile,
    costs: &ast::Costs,
    diagnostics: &mut Diagnostics,
) -> Option<CompiledCosts> {
    let amount = |text: &Option<String>, what: &str, diagnostics: &mut Diagnostics| -> Option<Decimal> {
        let text = text.as_ref()?;
        let value = parse_decimal(text).filter(|v| *v >= Decimal::ZERO);
        if value.is_none() {
            diagnostics.push(error(
                source,
                "semslo::check::invalid_literal",
                format!("the cost of {what} `{text}` is not a non-negative number"),
                costs.span,
                "write costs as plain numbers in one currency, e.g. `agent run 0.40`",
            ));
        }
        value
    };
    Some(CompiledCosts {
        agent_run: amount(&costs.agent_run, "an agent run", diagnostics),
        checkpoint_review: amount(&costs.checkpoint_review, "a checkpoint review", diagnostics),
        manual_run: amount(&costs.manual_run, "a manual run", diagnostics),
        currency: costs.currency.clone(),
    })
}
