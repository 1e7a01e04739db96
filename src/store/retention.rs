//! Retention: keeping only the runs the SLO windows can still need.
//!
//! Every SLO window and alert window ends at the report time, which is the newest
//! event time in the store (or an earlier `at`). So a run is needed while it is
//! younger than the longest SLO window plus the longest alert window, measured back
//! from the newest event time. Older runs are deleted with their verdicts.
//! Runs whose event time could not be read have no place in time, so they are kept
//! for the same span measured back from the wall-clock time they were received.
//!
//! Deleting a run also forgets its run id: a resubmission after that is accepted
//! again. Its event time is older than every window then, so SLO numbers do not
//! change, but `semslo_runs_total` counts it again.

use chrono::{DateTime, TimeDelta, Utc};
use rusqlite::{Connection, Transaction, params};

use super::StoreError;
use crate::compile::{PolicySet, SloWindow};
use crate::syntax::ast::CalendarUnit;

/// Slack added to calendar periods for a time-zone offset change inside them.
const OFFSET_CHANGE_SLACK: TimeDelta = TimeDelta::hours(2);

/// Returns how far back from the newest event time `set` needs runs: its longest
/// SLO window plus its longest alert window. Returns `None` when the set has no SLO,
/// and then nothing is deleted.
pub fn span_for(set: &PolicySet) -> Option<TimeDelta> {
    let window = set.slos.iter().map(|slo| longest_period(slo.window)).max()?;
    let alert = set.slos.iter().flat_map(|slo| &slo.alerts).map(|alert| alert.long_window).max().unwrap_or_default();
    Some(window + alert)
}

/// Returns the maximum length of a window: a rolling window's length, or the
/// longest calendar period of its unit.
fn longest_period(window: SloWindow) -> TimeDelta {
    match window {
        SloWindow::Rolling(length) => length,
        SloWindow::Calendar(unit) => {
            let days = match unit {
                CalendarUnit::Day => 1,
                CalendarUnit::Week => 7,
                CalendarUnit::Month => 31,
                CalendarUnit::Quarter => 92,
            };
            TimeDelta::days(days) + OFFSET_CHANGE_SLACK
        }
    }
}

/// Deletes runs placed before the newest event time minus `span`; part of every
/// group commit.
pub(super) fn delete_old_events(transaction: &Transaction<'_>, span: Option<TimeDelta>) -> Result<u64, StoreError> {
    let Some(span) = span else { return Ok(0) };
    let newest: Option<i64> = transaction.query_row("SELECT max(event_time) FROM runs", [], |row| row.get(0))?;
    let Some(newest) = newest else { return Ok(0) };
    let cutoff = newest.saturating_sub(span.num_microseconds().unwrap_or(i64::MAX));
    let deleted = transaction.execute("DELETE FROM runs WHERE event_time < ?1", params![cutoff])?;
    if deleted > 0 {
        tracing::info!(
            deleted,
            before = %DateTime::from_timestamp_micros(cutoff).unwrap_or_default(),
            "retention deleted runs older than the longest window"
        );
    }
    Ok(deleted as u64)
}

/// Applies the whole retention policy in one transaction: runs placed too far
/// before the newest event time, and unplaced runs received more than `span` before `now`.
pub(super) fn apply(
    connection: &mut Connection,
    span: Option<TimeDelta>,
    now: DateTime<Utc>,
) -> Result<u64, StoreError> {
    let Some(span) = span else { return Ok(0) };
    let transaction = connection.transaction()?;
    let mut deleted = delete_old_events(&transaction, Some(span))?;
    let received_cutoff = (now - span).timestamp_micros();
    let unplaced = transaction
        .execute("DELETE FROM runs WHERE event_time IS NULL AND received_at < ?1", params![received_cutoff])?;
    if unplaced > 0 {
        tracing::info!(
            deleted = unplaced,
            "retention deleted runs without an event time received before the longest window"
        );
    }
    deleted += unplaced as u64;
    transaction.commit()?;
    Ok(deleted)
}
