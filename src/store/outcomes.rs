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

use serde::Deserialize;

use crate::engine::{BadRule, DimensionValue, SloEffect, SloResult, push_bad_rules, push_dimensions};
use crate::json_text::{push_key, push_string};

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

/// Writes the column's text for a run's SLO effects, directly: every stored run
/// gets one.
pub(super) fn encode(effects: &[SloEffect]) -> String {
    let mut out = String::with_capacity(160 * effects.len() + 2);
    out.push('[');
    for (index, effect) in effects.iter().enumerate() {
        if index > 0 {
            out.push(',');
        }
        effect.push_json_head(&mut out);
        out.push_str(r#","event_time":"#);
        match effect.event_time {
            Some(time) => out.push_str(&time.timestamp_micros().to_string()),
            None => out.push_str("null"),
        }
        if let Some(error) = &effect.event_time_error {
            push_key(&mut out, "event_time_error", false);
            push_string(&mut out, error);
        }
        if let Some(segment) = &effect.segment {
            push_key(&mut out, "segment", false);
            push_string(&mut out, segment);
        }
        out.push_str(r#","bad_rules":"#);
        push_bad_rules(&mut out, &effect.bad_rules);
        out.push_str(r#","dimensions":"#);
        push_dimensions(&mut out, &effect.dimensions);
        out.push('}');
    }
    out.push(']');
    out
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
        let text = encode(&[effect(SloResult::Good)]);
        assert_eq!(
            text,
            r#"[{"slo":"orders_correct","result":"good","event_time":1740810178000000,"bad_rules":[],"dimensions":[{"by":"outcome.vendor.id","value":"V-51"}]}]"#
        );
    }

    #[test]
    fn every_field_reads_back() {
        let mut bad = effect(SloResult::Bad);
        bad.event_time = None;
        bad.event_time_error = Some("`finished_at` is \"soon\"\nmissing".to_string());
        bad.segment = Some("ordering".to_string());
        bad.bad_rules = vec![BadRule { rule: "price_band".to_string(), verdict: "fail".to_string() }];
        let mut not_valid = effect(SloResult::NotValid);
        not_valid.field_missing = true;

        let read = decode(&encode(&[bad, not_valid])).unwrap();
        assert_eq!(read.len(), 2);
        assert_eq!(read[0].result(), SloResult::Bad);
        assert_eq!(read[0].event_time, None);
        assert_eq!(read[0].event_time_error.as_deref(), Some("`finished_at` is \"soon\"\nmissing"));
        assert_eq!(read[0].segment.as_deref(), Some("ordering"));
        assert_eq!(read[0].bad_rules[0].rule, "price_band");
        assert_eq!(read[1].result(), SloResult::NotValid);
        assert!(read[1].field_missing);
        assert_eq!(read[1].event_time, Some(1_740_810_178_000_000));
        assert_eq!(read[1].dimensions[0].value, "V-51");
    }
}
