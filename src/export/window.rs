//! Durations and SLO windows as the exported formats write them.

use chrono::TimeDelta;

use crate::compile::{CompiledSlo, SloWindow};
use crate::syntax::ast::CalendarUnit;

/// Milliseconds per unit, largest first.
const UNITS: [(&str, i64); 5] = [("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1_000), ("ms", 1)];

/// Writes a positive duration in one Prometheus unit, the largest that divides it evenly
/// (`90m` rather than `1h30m`), so range selectors and rule names stay short and
/// older parsers without compound durations accept them.
pub fn prometheus_duration(duration: TimeDelta) -> String {
    let ms = duration.num_milliseconds();
    let (unit, size) = UNITS.iter().find(|(_, size)| ms % size == 0).expect("every duration is whole milliseconds");
    format!("{}{unit}", ms / size)
}

/// Writes a positive duration as an OpenSLO duration shorthand: a whole number of days,
/// hours or minutes. `None` when the duration is not whole minutes, because the
/// shorthand has no smaller unit.
pub fn openslo_duration(duration: TimeDelta) -> Option<String> {
    let ms = duration.num_milliseconds();
    UNITS[..3].iter().find(|(_, size)| ms > 0 && ms % size == 0).map(|(unit, size)| format!("{}{unit}", ms / size))
}

/// Returns the window the exported rules compute over: the rolling duration, or the
/// nominal length of a calendar window (day 1d, week 7d, month 30d, quarter 90d).
pub fn nominal_window(slo: &CompiledSlo) -> TimeDelta {
    slo.window.nominal_length()
}

/// Returns the calendar unit of a calendar window, `None` for a rolling one.
pub fn calendar_unit(slo: &CompiledSlo) -> Option<CalendarUnit> {
    match slo.window {
        SloWindow::Calendar(unit) => Some(unit),
        SloWindow::Rolling(_) => None,
    }
}

/// Describes the window as the policy states it: `28d` or `calendar quarter in America/New_York`.
pub fn describe_window(slo: &CompiledSlo) -> String {
    match slo.window {
        SloWindow::Rolling(duration) => prometheus_duration(duration),
        SloWindow::Calendar(unit) => format!("calendar {} in {}", unit.as_str(), slo.time_zone.name()),
    }
}

/// Writes `duration` rounded to whole minutes with several units (`1d22h40m`),
/// for the human-readable texts.
pub fn human_duration(duration: TimeDelta) -> String {
    let minutes = duration.num_milliseconds().saturating_add(30_000) / 60_000;
    if minutes == 0 {
        return "under a minute".to_string();
    }
    let mut rest = minutes * 60_000;
    let mut text = String::new();
    for (unit, size) in &UNITS[..3] {
        if rest >= *size {
            text.push_str(&format!("{}{unit}", rest / size));
            rest %= size;
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prometheus_duration_uses_largest_even_unit() {
        assert_eq!(prometheus_duration(TimeDelta::days(28)), "28d");
        assert_eq!(prometheus_duration(TimeDelta::minutes(90)), "90m");
        assert_eq!(prometheus_duration(TimeDelta::hours(6)), "6h");
        assert_eq!(prometheus_duration(TimeDelta::seconds(45)), "45s");
        assert_eq!(prometheus_duration(TimeDelta::milliseconds(1500)), "1500ms");
    }

    #[test]
    fn openslo_duration_needs_whole_minutes() {
        assert_eq!(openslo_duration(TimeDelta::days(3)).as_deref(), Some("3d"));
        assert_eq!(openslo_duration(TimeDelta::minutes(150)).as_deref(), Some("150m"));
        assert_eq!(openslo_duration(TimeDelta::hours(36)).as_deref(), Some("36h"));
        assert_eq!(openslo_duration(TimeDelta::seconds(90)), None);
    }

    #[test]
    fn human_duration_rounds_to_minutes() {
        assert_eq!(human_duration(TimeDelta::seconds(46 * 3600 + 40 * 60 + 10)), "1d22h40m");
        assert_eq!(human_duration(TimeDelta::hours(2)), "2h");
        assert_eq!(human_duration(TimeDelta::seconds(20)), "under a minute");
    }
}
