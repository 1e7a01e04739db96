//! The `slo_outcomes` column of a stored run: how every SLO counted the run, as one
//! JSON array in the run's own row.
//!
//! One row per run keeps a commit to a single row insert plus the run id and event time
//! index entries. A table with one row per run and SLO, indexed by SLO and event time,
//! took two more B-tree inserts per SLO at scattered places, and those pages were
//! written again in every commit. The status queries read every run once anyway (the
//! counts of [`super::slo_status`] cover the whole store), so they lose nothing by
//! decoding the array.
//!
//! Each element is `{"slo", "result", "event_time", "bad_rules", "dimensions"}`, with
//! `field_missing`, `event_time_error` and `segment` present only when set. Event times
//! are integer microseconds since the Unix epoch, as in the `event_time` column.

use serde::{Deserialize, Serialize};

use crate::engine::{BadRule, DimensionValue, SloEffect, SloResult};

/// One SLO's outcome as written: borrowed from the [`SloEffect`].
#[derive(Serialize)]
struct Written<'a> {
    slo: &'a str,
    result: &'static str,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    field_missing: bool,
    event_time: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    event_time_error: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    segment: Option<&'a str>,
    bad_rules: &'a [BadRule],
    dimensions: &'a [DimensionValue],
}

/// One SLO's outcome as read back.
#[derive(Debug, Deserialize)]
pub(super) struct Outcome {
    pub slo: String,
    pub result: String,
    #[serde(default)]
    pub field_missing: bool,
    #[serde(default)]
    pub event_time: Option<i64>,
    #[serde(default)]
    pub event_time_error: Option<String>,
    #[serde(default)]
    pub segment: Option<String>,
    #[serde(default)]
    pub bad_rules: Vec<BadRule>,
    #[serde(default)]
    pub dimensions: Vec<DimensionValue>,
}

impl Outcome {
    /// Returns the result. An unknown word counts as `error`, which spends budget
    /// without claiming that a rule failed.
    pub fn result(&self) -> SloResult {
        SloResult::parse(&self.result).unwrap_or(SloResult::Error)
    }
}

/// Writes the column's text for a run's SLO effects.
pub(super) fn encode(effects: &[SloEffect]) -> serde_json::Result<String> {
    let written: Vec<Written<'_>> = effects
        .iter()
        .map(|effect| Written {
            slo: &effect.slo,
            result: effect.result.as_str(),
            field_missing: effect.field_missing,
            event_time: effect.event_time.map(|time| time.timestamp_micros()),
            event_time_error: effect.event_time_error.as_deref(),
            segment: effect.segment.as_deref(),
            bad_rules: &effect.bad_rules,
            dimensions: &effect.dimensions,
        })
        .collect();
    serde_json::to_string(&written)
}

/// Reads the column's text back.
pub(super) fn decode(text: &str) -> serde_json::Result<Vec<Outcome>> {
    serde_json::from_str(text)
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;

    fn effect(result: SloResult) -> SloEffect {
        SloEffect {
            slo: "orders_correct".to_string(),
            result,
            field_missing: false,
            event_time: Some(Utc.with_ymd_and_hms(2025, 3, 1, 6, 22, 58).unwrap()),
            event_time_error: None,
            bad_rules: Vec::new(),
            segment: None,
            dimensions: vec![DimensionValue { by: "outcome.vendor.id".to_string(), value: "V-51".to_string() }],
        }
    }

    #[test]
    fn unset_fields_are_left_out() {
        let text = encode(&[effect(SloResult::Good)]).unwrap();
        assert_eq!(
            text,
            r#"[{"slo":"orders_correct","result":"good","event_time":1740810178000000,"bad_rules":[],"dimensions":[{"by":"outcome.vendor.id","value":"V-51"}]}]"#
        );
    }

    #[test]
    fn every_field_reads_back() {
        let mut bad = effect(SloResult::Bad);
        bad.event_time = None;
        bad.event_time_error = Some("`finished_at` is missing".to_string());
        bad.segment = Some("ordering".to_string());
        bad.bad_rules = vec![BadRule { rule: "price_band".to_string(), verdict: "fail".to_string() }];
        let mut not_valid = effect(SloResult::NotValid);
        not_valid.field_missing = true;

        let read = decode(&encode(&[bad, not_valid]).unwrap()).unwrap();
        assert_eq!(read.len(), 2);
        assert_eq!(read[0].result(), SloResult::Bad);
        assert_eq!(read[0].event_time, None);
        assert_eq!(read[0].event_time_error.as_deref(), Some("`finished_at` is missing"));
        assert_eq!(read[0].segment.as_deref(), Some("ordering"));
        assert_eq!(read[0].bad_rules[0].rule, "price_band");
        assert_eq!(read[1].result(), SloResult::NotValid);
        assert!(read[1].field_missing);
        assert_eq!(read[1].event_time, Some(1_740_810_178_000_000));
        assert_eq!(read[1].dimensions[0].value, "V-51");
    }
}
