//! The start and end of SLO windows, as UTC instants.
//!
//! - Rolling windows are half-open, `(at − length, at]`: a run exactly on the lower
//!   boundary belongs to the previous window, so consecutive windows never count a
//!   run twice.
//! - Calendar windows are the day, week (Monday first), month or quarter containing
//!   `at`, in the SLO's IANA time zone, counted to date: `[period start, at]`. The
//!   period starts at local midnight, so its length follows the zone's offset
//!   changes: in `America/New_York`, 2025-03-09 lasts 23 hours.
//!
//! Event times are compared at microsecond precision.

use chrono::{DateTime, Datelike, Duration, LocalResult, NaiveDate, TimeDelta, TimeZone, Utc};
use chrono_tz::Tz;

use crate::compile::SloWindow;
use crate::syntax::ast::CalendarUnit;

/// The instants an SLO window covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WindowBounds {
    pub start: DateTime<Utc>,
    /// False for rolling windows, whose start instant belongs to the window before.
    pub start_inclusive: bool,
    /// The report time `at`, always inclusive.
    pub end: DateTime<Utc>,
    /// For calendar windows, the exclusive end of the whole period (the next local
    /// midnight at the period's end), which lies after `end`.
    pub period_end: Option<DateTime<Utc>>,
}

impl WindowBounds {
    /// Returns the rolling window `(at − length, at]`.
    pub fn rolling(length: TimeDelta, at: DateTime<Utc>) -> WindowBounds {
        WindowBounds { start: at - length, start_inclusive: false, end: at, period_end: None }
    }

    /// Returns the window of `window` at report time `at`.
    pub fn of(window: SloWindow, time_zone: Tz, at: DateTime<Utc>) -> WindowBounds {
        match window {
            SloWindow::Rolling(length) => WindowBounds::rolling(length, at),
            SloWindow::Calendar(unit) => {
                let (start, period_end) = calendar_period(unit, time_zone, at);
                WindowBounds { start, start_inclusive: true, end: at, period_end: Some(period_end) }
            }
        }
    }

    pub fn contains(&self, instant: DateTime<Utc>) -> bool {
        self.contains_micros(instant.timestamp_micros())
    }

    /// [`Self::contains`] for an instant in microseconds since the Unix epoch.
    pub fn contains_micros(&self, micros: i64) -> bool {
        let start = self.start.timestamp_micros();
        let after_start = if self.start_inclusive { micros >= start } else { micros > start };
        after_start && micros <= self.end.timestamp_micros()
    }

    /// Returns the length of the whole window: the rolling length, or the calendar period
    /// from local midnight to local midnight.
    pub fn length(&self) -> TimeDelta {
        self.period_end.unwrap_or(self.end) - self.start
    }

    /// Returns the earliest instant in the window.
    pub fn first_instant(&self) -> DateTime<Utc> {
        if self.start_inclusive { self.start } else { self.start + TimeDelta::microseconds(1) }
    }
}

/// Returns `[start, end)` of the calendar `unit` containing `at`, in `time_zone`.
pub fn calendar_period(unit: CalendarUnit, time_zone: Tz, at: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
    let today = local_date(time_zone, at);
    let (first, next) = match unit {
        CalendarUnit::Day => (today, today + Duration::days(1)),
        CalendarUnit::Week => {
            let monday = today - Duration::days(i64::from(today.weekday().num_days_from_monday()));
            (monday, monday + Duration::days(7))
        }
        CalendarUnit::Month => month_span(today.year(), today.month(), 1),
        CalendarUnit::Quarter => month_span(today.year(), (today.month() - 1) / 3 * 3 + 1, 3),
    };
    (local_midnight(time_zone, first), local_midnight(time_zone, next))
}

/// Returns the first day of `month` of `year` and the first day `months` months later.
fn month_span(year: i32, month: u32, months: u32) -> (NaiveDate, NaiveDate) {
    let first = NaiveDate::from_ymd_opt(year, month, 1).expect("month 1..=12 has a first day");
    let index = year * 12 + (month as i32 - 1) + months as i32;
    let next = NaiveDate::from_ymd_opt(index.div_euclid(12), index.rem_euclid(12) as u32 + 1, 1)
        .expect("month 1..=12 has a first day");
    (first, next)
}

/// Returns the calendar date of `instant` in `time_zone`.
pub fn local_date(time_zone: Tz, instant: DateTime<Utc>) -> NaiveDate {
    instant.with_timezone(&time_zone).date_naive()
}

/// Returns the instant the local day `date` begins in `time_zone`. Where a time-zone change
/// skips midnight, the day begins at the first local time that exists.
pub fn local_midnight(time_zone: Tz, date: NaiveDate) -> DateTime<Utc> {
    let midnight = date.and_hms_opt(0, 0, 0).expect("midnight exists on every date");
    // Offset changes skip at most a few hours, so a quarter-hour walk through one
    // day always reaches a local time that exists.
    for quarter in 0..96 {
        let local = midnight + TimeDelta::minutes(15 * quarter);
        match time_zone.from_local_datetime(&local) {
            LocalResult::Single(instant) | LocalResult::Ambiguous(instant, _) => return instant.with_timezone(&Utc),
            LocalResult::None => {}
        }
    }
    Utc.from_utc_datetime(&midnight)
}

/// Writes a duration the way policies write them: `28d`, `1h`, `30m`, `1d12h`.
pub fn format_duration(duration: TimeDelta) -> String {
    let mut rest = duration.num_milliseconds();
    if rest == 0 {
        return "0s".to_string();
    }
    let mut text = String::new();
    if rest < 0 {
        text.push('-');
        rest = -rest;
    }
    for (unit, millis) in [("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1_000), ("ms", 1)] {
        if rest >= millis {
            text.push_str(&format!("{}{unit}", rest / millis));
            rest %= millis;
        }
    }
    text
}
