//! PromQL text for the exported rules and queries.

use rust_decimal::Decimal;

use super::RUNS_COUNTER;
use super::window::prometheus_duration;
use chrono::TimeDelta;

/// Prefix of every recorded series name, following the `level:metric:operations`
/// naming convention for recording rules.
pub const RECORD_PREFIX: &str = "semslo:slo";

/// Quotes `text` as a PromQL double-quoted string literal.
pub fn string_literal(text: &str) -> String {
    let mut quoted = String::with_capacity(text.len() + 2);
    quoted.push('"');
    for c in text.chars() {
        match c {
            '"' => quoted.push_str("\\\""),
            '\\' => quoted.push_str("\\\\"),
            '\n' => quoted.push_str("\\n"),
            other => quoted.push(other),
        }
    }
    quoted.push('"');
    quoted
}

/// Selects the runs counter of one SLO, optionally narrowed by a `result` matcher such as
/// `result="good"`.
pub fn runs_selector(slo: &str, result: Option<&str>) -> String {
    match result {
        Some(matcher) => format!("{RUNS_COUNTER}{{slo={}, {matcher}}}", string_literal(slo)),
        None => format!("{RUNS_COUNTER}{{slo={}}}", string_literal(slo)),
    }
}

/// Names the recorded error ratio over `window`: `semslo:slo_error_ratio:rate5m`.
pub fn error_ratio_record(window: TimeDelta) -> String {
    format!("{RECORD_PREFIX}_error_ratio:rate{}", prometheus_duration(window))
}

/// Computes the share of an SLO's valid runs over `window` that were not good. A result
/// other than `good` counts as bad, so `error` runs are bad (fail closed).
///
/// When no run was bad, the counter for bad results may have no series at all, so
/// the numerator falls back to `0 ×` the total: the ratio is then 0 instead of
/// missing. With no runs in the window the ratio is `NaN`, which no comparison
/// matches, so no alert fires on no data.
pub fn error_ratio(slo: &str, window: TimeDelta) -> String {
    let range = prometheus_duration(window);
    let bad = runs_selector(slo, Some("result!=\"good\""));
    let all = runs_selector(slo, None);
    format!(
        "(\n  sum by (slo) (rate({bad}[{range}]))\n  or\n  0 * sum by (slo) (rate({all}[{range}]))\n)\n/\nsum by (slo) (rate({all}[{range}]))\n"
    )
}

/// Selects the recorded error ratio of one SLO over `window`.
pub fn recorded_error_ratio(slo: &str, window: TimeDelta) -> String {
    format!("{}{{slo={}}}", error_ratio_record(window), string_literal(slo))
}

/// Counts the valid runs of one SLO over `window`.
pub fn valid_runs(slo: &str, window: TimeDelta) -> String {
    format!("sum by (slo) (increase({}[{}]))", runs_selector(slo, None), prometheus_duration(window))
}

/// Writes a decimal as a PromQL number: `0.05`, `14.4`, `1`.
pub fn number(value: Decimal) -> String {
    value.normalize().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_literal_escapes_quotes_and_backslashes() {
        assert_eq!(string_literal("plain"), "\"plain\"");
        assert_eq!(string_literal("a\"b\\c"), "\"a\\\"b\\\\c\"");
    }

    #[test]
    fn error_ratio_treats_errors_as_bad() {
        let expr = error_ratio("orders", TimeDelta::hours(1));
        assert!(expr.contains("rate(semslo_runs_total{slo=\"orders\", result!=\"good\"}[1h])"), "{expr}");
        assert!(expr.contains("sum by (slo) (rate(semslo_runs_total{slo=\"orders\"}[1h]))"), "{expr}");
    }

    #[test]
    fn numbers_drop_trailing_zeros() {
        assert_eq!(number(Decimal::new(500, 4)), "0.05");
        assert_eq!(number(Decimal::new(1440, 2)), "14.4");
        assert_eq!(number(Decimal::new(100, 2)), "1");
    }
}
