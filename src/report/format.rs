//! Number, time and state formatting shared by the SLO renderers (text, Markdown,
//! HTML, JUnit), so every format words a state the same way.

use chrono::{DateTime, SecondsFormat, Utc};
use rust_decimal::{Decimal, RoundingStrategy};

use crate::slo::{Measure, SloSummary};

/// Formats a fraction as a percentage with `places` decimals (`0.9345` → `93.45%`), or
/// the state in words.
pub fn percent(measure: Measure, places: u32) -> String {
    match measure {
        Measure::Value(value) => percent_value(value, places),
        other => other.label().unwrap_or_default().to_string(),
    }
}

pub fn percent_value(value: Decimal, places: u32) -> String {
    let scaled = (value * Decimal::ONE_HUNDRED).round_dp_with_strategy(places, RoundingStrategy::MidpointAwayFromZero);
    format!("{}%", fixed(scaled, places))
}

/// Formats a decimal with exactly `places` decimals.
pub fn fixed(value: Decimal, places: u32) -> String {
    let mut rounded = value.round_dp_with_strategy(places, RoundingStrategy::MidpointAwayFromZero);
    if rounded.is_zero() {
        rounded = Decimal::ZERO;
    }
    rounded.rescale(places);
    rounded.to_string()
}

/// Formats a decimal without trailing zeros, rounded to at most `places` decimals.
pub fn plain(value: Decimal, places: u32) -> String {
    let rounded = value.round_dp_with_strategy(places, RoundingStrategy::MidpointAwayFromZero).normalize();
    if rounded.is_zero() { "0".to_string() } else { rounded.to_string() }
}

/// Formats a fraction as a percentage without trailing zeros: `0.05` → `5%`, `0.001` → `0.1%`.
pub fn percent_plain(value: Decimal) -> String {
    format!("{}%", plain(value * Decimal::ONE_HUNDRED, 6))
}

/// Formats the objective as policies write it: `95%`, `99.9%`.
pub fn objective(slo: &SloSummary) -> String {
    percent_plain(slo.objective)
}

/// Decimals an SLI needs to be compared with the objective by eye: one more than
/// the objective has, and at least two (`99.95%` → 3).
pub fn sli_places(slo: &SloSummary) -> u32 {
    let objective = (slo.objective * Decimal::ONE_HUNDRED).normalize();
    (objective.scale() + 1).max(2)
}

/// Formats a burn rate (`2.80`), or the state in words.
pub fn rate(measure: Measure) -> String {
    match measure {
        Measure::Value(value) => fixed(value, 2),
        other => other.label().unwrap_or_default().to_string(),
    }
}

/// Formats the budget share left, which may be negative: `-179.57%`; an unbounded
/// overspend reads `none (unbounded overspend)`.
pub fn remaining(measure: Measure) -> String {
    match measure {
        Measure::Unbounded => "none (unbounded overspend)".to_string(),
        other => percent(other, 2),
    }
}

/// Formats an amount of money with two decimals, grouped thousands and the currency after
/// it: `2,968.00 USD`.
pub fn money(value: Decimal, currency: Option<&str>) -> String {
    let text = fixed(value, 2);
    let (sign, digits) = text.strip_prefix('-').map_or(("", text.as_str()), |rest| ("-", rest));
    let (whole, cents) = digits.split_once('.').unwrap_or((digits, "00"));
    let grouped = whole.parse::<u64>().map_or_else(|_| whole.to_string(), count);
    match currency {
        Some(currency) => format!("{sign}{grouped}.{cents} {currency}"),
        None => format!("{sign}{grouped}.{cents}"),
    }
}

pub fn money_measure(measure: Measure, currency: Option<&str>) -> String {
    match measure {
        Measure::Value(value) => money(value, currency),
        other => other.label().unwrap_or_default().to_string(),
    }
}

/// Formats an instant as RFC 3339 in UTC, to the second.
pub fn instant(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// Formats a length of time in seconds in the largest unit that keeps it readable:
/// `40.32 minutes`, `33.6 hours`, `4.5 days`.
pub fn span(seconds: Decimal) -> String {
    let minutes = seconds / Decimal::from(60);
    let hours = minutes / Decimal::from(60);
    if minutes < Decimal::from(120) {
        format!("{} minutes", plain(minutes, 2))
    } else if hours < Decimal::from(48) {
        format!("{} hours", plain(hours, 2))
    } else {
        format!("{} days", plain(hours / Decimal::from(24), 2))
    }
}

/// Formats a count with a thousands separator: `10,000`.
pub fn count(value: u64) -> String {
    let digits = value.to_string();
    let mut out = String::new();
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index) % 3 == 0 {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// `1 run`, `2 runs`.
pub fn runs(value: u64) -> String {
    format!("{} run{}", count(value), if value == 1 { "" } else { "s" })
}

/// Words the SLO's status against its objective as one sentence.
pub fn status_sentence(slo: &SloSummary) -> String {
    let places = sli_places(slo);
    match slo.status {
        crate::slo::SloState::Met => {
            format!("met: SLI {} is at or above the objective {}", percent(slo.sli, places), objective(slo))
        }
        crate::slo::SloState::Missed => {
            format!("missed: SLI {} is below the objective {}", percent(slo.sli, places), objective(slo))
        }
        crate::slo::SloState::NoData => "no data: no valid run in the window".to_string(),
        crate::slo::SloState::InsufficientData => format!(
            "insufficient data: {} valid in the window, fewer than the minimum of {}",
            runs(slo.counts.valid),
            count(slo.minimum_runs)
        ),
    }
}

/// Describes the window in words: `rolling 28d, after 2025-12-03T23:59:59Z up to 2025-12-31T23:59:59Z (UTC)`.
pub fn window(slo: &SloSummary) -> String {
    let window = &slo.window;
    let (Some(start), Some(end)) = (window.start, window.end) else {
        return format!("{}, no report time (no run has an event time)", window.written);
    };
    match window.kind {
        "rolling" => format!("rolling {}: after {} up to {} inclusive", window.written, instant(start), instant(end)),
        _ => format!(
            "{} in {}: from {} up to {} inclusive (the period ends {})",
            window.written,
            window.time_zone,
            instant(start),
            instant(end),
            window.period_end.map(instant).unwrap_or_default()
        ),
    }
}

/// Describes where the alerts come from: declared, or the defaults and their scaling.
pub fn alert_source(slo: &SloSummary) -> String {
    match &slo.alerts.scaling {
        None => "declared in the policy".to_string(),
        Some(scaling) => format!(
            "none declared, so the SRE Workbook defaults for a {} window, each factor scaled by {} ÷ {} = {}",
            scaling.reference_window,
            scaling.slo_window,
            scaling.reference_window,
            plain(scaling.ratio, 4)
        ),
    }
}

/// Returns the text with its first letter in upper case, to start a sentence.
pub fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().collect::<String>() + chars.as_str(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_rounds_half_away_from_zero() {
        assert_eq!(percent_value(Decimal::new(93455, 5), 2), "93.46%");
        assert_eq!(percent_value(Decimal::ONE, 2), "100.00%");
    }

    #[test]
    fn count_groups_thousands() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(10_000), "10,000");
        assert_eq!(count(1_234_567), "1,234,567");
    }

    #[test]
    fn money_groups_thousands() {
        assert_eq!(money(Decimal::new(296800, 2), Some("USD")), "2,968.00 USD");
        assert_eq!(money(Decimal::new(-5, 1), None), "-0.50");
    }

    #[test]
    fn span_picks_a_readable_unit() {
        assert_eq!(span(Decimal::new(24192, 1)), "40.32 minutes");
        assert_eq!(span(Decimal::from(120_960)), "33.6 hours");
    }
}
