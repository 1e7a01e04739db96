//! A measured number that may be missing for a stated reason, and how report numbers
//! are written in JSON.
//!
//! A ratio over zero runs is not 0 % and not NaN: it is [`Measure::NoData`]. Every
//! state other than [`Measure::Value`] is explicit, so renderers and JSON readers
//! never meet a magic number.

use rust_decimal::Decimal;
use serde::ser::SerializeStruct;
use serde::{Serialize, Serializer};

/// Decimal places of computed ratios, rates and costs in JSON output. Counts,
/// objectives and declared costs are written exactly.
pub const JSON_DECIMAL_PLACES: u32 = 6;

/// A number, or the reason there is none.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Measure {
    Value(Decimal),
    /// The denominator counts zero runs.
    NoData,
    /// Fewer valid runs than the SLO's declared minimum.
    InsufficientData,
    /// Bad runs against an objective of 100 %, which has no error budget.
    Unbounded,
    /// The formula has no value for these inputs, e.g. Cohen's kappa when the
    /// expected agreement is 1, or cost per correct outcome with no correct outcome.
    Undefined,
}

impl Measure {
    pub fn value(self) -> Option<Decimal> {
        match self {
            Measure::Value(value) => Some(value),
            _ => None,
        }
    }

    /// Returns the state as JSON writes it: `value`, `no_data`, `insufficient_data`,
    /// `unbounded` or `undefined`.
    pub fn state(self) -> &'static str {
        match self {
            Measure::Value(_) => "value",
            Measure::NoData => "no_data",
            Measure::InsufficientData => "insufficient_data",
            Measure::Unbounded => "unbounded",
            Measure::Undefined => "undefined",
        }
    }

    /// Returns the state in words for people, or `None` for a value.
    pub fn label(self) -> Option<&'static str> {
        match self {
            Measure::Value(_) => None,
            Measure::NoData => Some("no data"),
            Measure::InsufficientData => Some("insufficient data"),
            Measure::Unbounded => Some("unbounded"),
            Measure::Undefined => Some("undefined"),
        }
    }

    /// Applies `f` to a value and keeps every other state.
    pub fn map(self, f: impl FnOnce(Decimal) -> Decimal) -> Measure {
        match self {
            Measure::Value(value) => Measure::Value(f(value)),
            other => other,
        }
    }
}

/// Writes `{"state": "value", "value": 0.934579}` or `{"state": "no_data", "value": null}`.
impl Serialize for Measure {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut state = serializer.serialize_struct("Measure", 2)?;
        state.serialize_field("state", self.state())?;
        match self {
            Measure::Value(value) => state.serialize_field("value", &Rounded(*value))?,
            _ => state.serialize_field("value", &Option::<u8>::None)?,
        }
        state.end()
    }
}

/// A decimal written as a JSON number rounded to [`JSON_DECIMAL_PLACES`].
pub struct Rounded(pub Decimal);

impl Serialize for Rounded {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        Exact(self.0.round_dp(JSON_DECIMAL_PLACES)).serialize(serializer)
    }
}

/// A decimal written as a JSON number with every digit it has.
pub struct Exact(pub Decimal);

impl Serialize for Exact {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // `arbitrary_precision` is enabled for serde_json, so a number parsed from
        // text keeps that text and no digit passes through an f64.
        let value = if self.0.is_zero() { Decimal::ZERO } else { self.0.normalize() };
        match value.to_string().parse::<serde_json::Number>() {
            Ok(number) => number.serialize(serializer),
            Err(_) => serializer.serialize_str(&value.to_string()),
        }
    }
}

/// `serialize_with` helper for an exact decimal field.
pub fn exact<S: Serializer>(value: &Decimal, serializer: S) -> Result<S::Ok, S::Error> {
    Exact(*value).serialize(serializer)
}

/// `serialize_with` helper for an optional exact decimal field.
pub fn exact_option<S: Serializer>(value: &Option<Decimal>, serializer: S) -> Result<S::Ok, S::Error> {
    match value {
        Some(value) => Exact(*value).serialize(serializer),
        None => serializer.serialize_none(),
    }
}

/// `serialize_with` helper for a computed decimal field, rounded.
pub fn rounded<S: Serializer>(value: &Decimal, serializer: S) -> Result<S::Ok, S::Error> {
    Rounded(*value).serialize(serializer)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(measure: Measure) -> String {
        serde_json::to_string(&measure).unwrap()
    }

    #[test]
    fn value_is_written_as_a_rounded_number() {
        let third = Decimal::ONE / Decimal::from(3);
        assert_eq!(json(Measure::Value(third)), r#"{"state":"value","value":0.333333}"#);
    }

    #[test]
    fn states_are_written_as_strings_with_null_numbers() {
        assert_eq!(json(Measure::NoData), r#"{"state":"no_data","value":null}"#);
        assert_eq!(json(Measure::InsufficientData), r#"{"state":"insufficient_data","value":null}"#);
        assert_eq!(json(Measure::Unbounded), r#"{"state":"unbounded","value":null}"#);
        assert_eq!(json(Measure::Undefined), r#"{"state":"undefined","value":null}"#);
    }

    #[test]
    fn exact_zero_has_no_sign_or_scale() {
        let zero = Decimal::new(-0, 3);
        assert_eq!(serde_json::to_string(&Exact(zero)).unwrap(), "0");
    }
}
