//! Values that rules compute with, and the semantics decisions they carry.
//!
//! - **Exact decimals.** Every number is a [`Decimal`] (28 significant digits), read
//!   from the record's source text, never through `f64`: `0.1 + 0.2 == 0.3` is true and
//!   integers past 2^53 keep every digit. A number that does not fit is an error, not
//!   a rounded value.
//! - **Missing is not null.** A field that is absent is not a value at all: reading it
//!   yields [`crate::eval::EvalError::Missing`]. `null` is a value.
//! - **Time.** Timestamps keep their offset but compare as instants (UTC). A text value
//!   meets a timestamp or date only through an explicit comparison or arithmetic with
//!   one, where it is parsed as RFC 3339; a date used with a timestamp stands for
//!   00:00:00 UTC of that day. Two texts that are both RFC 3339 timestamps compare and
//!   subtract as instants.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use chrono::{DateTime, FixedOffset, NaiveDate, TimeDelta, Utc};
use rust_decimal::Decimal;
use serde_json::Value as Json;

use crate::document::NodeRef;

/// A value during evaluation; `'a` borrows from the record or the reference data.
#[derive(Clone, Debug)]
pub enum Value<'a> {
    Null,
    Bool(bool),
    Number(Decimal),
    Text(Cow<'a, str>),
    Timestamp(DateTime<FixedOffset>),
    Date(NaiveDate),
    Duration(TimeDelta),
    /// An array or object of a record, a reference row or a `parse_json` result.
    Json(JsonRef<'a>),
    /// An object or list of a projected record, read by the batch checker.
    Document(NodeRef<'a>),
    /// A list built by the policy: a literal `[a, b]` or a comprehension.
    List(Arc<Vec<Value<'a>>>),
    /// An element found by `first`/`last`, with its position in the list it came from.
    Element {
        index: usize,
        item: Box<Value<'a>>,
    },
}

/// Borrowed JSON from the record, or JSON the evaluation produced.
#[derive(Clone, Debug)]
pub enum JsonRef<'a> {
    Borrowed(&'a Json),
    Owned(Arc<Json>),
}

impl JsonRef<'_> {
    pub fn get(&self) -> &Json {
        match self {
            JsonRef::Borrowed(json) => json,
            JsonRef::Owned(json) => json,
        }
    }
}

/// The reason a JSON value could not become a [`Value`]: a number past 28 digits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NumberOutOfRange(pub String);

impl<'a> Value<'a> {
    /// Converts a JSON value borrowed for `'a`.
    pub fn from_json(json: &'a Json) -> Result<Value<'a>, NumberOutOfRange> {
        Ok(match json {
            Json::Null => Value::Null,
            Json::Bool(b) => Value::Bool(*b),
            // A number past 28 digits stays opaque JSON: present (for `exists`), but an
            // error wherever it is compared or computed with.
            Json::Number(n) => parse_decimal(n.as_str()).map_or(Value::Json(JsonRef::Borrowed(json)), Value::Number),
            Json::String(s) => Value::Text(Cow::Borrowed(s)),
            Json::Array(_) | Json::Object(_) => Value::Json(JsonRef::Borrowed(json)),
        })
    }

    /// Converts a JSON value that the evaluation owns.
    pub fn from_owned_json(json: Json) -> Result<Value<'a>, NumberOutOfRange> {
        Ok(match json {
            Json::Null => Value::Null,
            Json::Bool(b) => Value::Bool(b),
            Json::Number(n) => match parse_decimal(n.as_str()) {
                Some(decimal) => Value::Number(decimal),
                None => Value::Json(JsonRef::Owned(Arc::new(Json::Number(n)))),
            },
            Json::String(s) => Value::Text(Cow::Owned(s)),
            other => Value::Json(JsonRef::Owned(Arc::new(other))),
        })
    }

    pub fn text(s: impl Into<String>) -> Value<'a> {
        Value::Text(Cow::Owned(s.into()))
    }

    /// Strips the position from a `first`/`last` result.
    pub fn unwrap_element(&self) -> &Value<'a> {
        match self {
            Value::Element { item, .. } => item.unwrap_element(),
            other => other,
        }
    }

    /// Returns the type name used in messages.
    pub fn type_name(&self) -> &'static str {
        match self.unwrap_element() {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Number(_) => "number",
            Value::Text(_) => "text",
            Value::Timestamp(_) => "timestamp",
            Value::Date(_) => "date",
            Value::Duration(_) => "duration",
            Value::Json(json) => match json.get() {
                Json::Array(_) => "list",
                Json::Object(_) => "object",
                Json::Number(_) => "number that does not fit a decimal",
                _ => "value",
            },
            Value::Document(node) if node.is_object() => "object",
            Value::Document(_) | Value::List(_) => "list",
            Value::Element { .. } => unreachable!("unwrapped above"),
        }
    }

    /// Converts to an owned JSON value for reports.
    pub fn to_json(&self) -> Json {
        match self.unwrap_element() {
            Value::Null => Json::Null,
            Value::Bool(b) => Json::Bool(*b),
            Value::Number(n) => decimal_to_json(*n),
            Value::Text(s) => Json::String(s.to_string()),
            Value::Timestamp(t) => Json::String(t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)),
            Value::Date(d) => Json::String(d.to_string()),
            Value::Duration(d) => Json::String(format_duration(*d)),
            Value::Json(json) => json.get().clone(),
            Value::Document(node) => node.to_json(),
            Value::List(items) => Json::Array(items.iter().map(Value::to_json).collect()),
            Value::Element { .. } => unreachable!("unwrapped above"),
        }
    }

    /// Elements of a list value, or `None` if this is not a list.
    pub fn list_items(&self) -> Option<Vec<Value<'_>>> {
        match self.unwrap_element() {
            Value::List(items) => Some(items.iter().cloned().collect()),
            Value::Json(JsonRef::Borrowed(Json::Array(items))) => {
                Some(items.iter().map(|item| Value::from_json(item).unwrap_or(Value::Null)).collect())
            }
            Value::Json(JsonRef::Owned(json)) => match json.as_ref() {
                Json::Array(items) => {
                    Some(items.iter().map(|item| Value::from_owned_json(item.clone()).unwrap_or(Value::Null)).collect())
                }
                _ => None,
            },
            Value::Document(node) if node.is_list() => {
                Some(node.items().map(|item| item.to_value().unwrap_or(Value::Null)).collect())
            }
            _ => None,
        }
    }
}

/// Parses decimal text as written in JSON or a policy: `14.20`, `-3`, `1e3`, `2.5E-4`.
pub fn parse_decimal(text: &str) -> Option<Decimal> {
    let decimal = if text.contains(['e', 'E']) {
        Decimal::from_scientific(text).ok()?.normalize()
    } else {
        Decimal::from_str(text).ok()?
    };
    // rust_decimal rounds away digits past what it can represent instead of failing, so such
    // a number stays opaque, as a too large integer does. 29 characters fit 28 digits at most.
    if text.len() > 29
        && significant_digits(text.split(['e', 'E']).next()?)
            != significant_digits(&decimal.mantissa().unsigned_abs().to_string())
    {
        return None;
    }
    Some(decimal)
}

/// Returns the message for a number that [`parse_decimal`] cannot represent exactly.
pub fn number_out_of_range(text: &str) -> String {
    format!(
        "number `{text}` does not fit a decimal (at most 28 significant digits and 28 decimal places, \
         and below 7.9e28 in magnitude)"
    )
}

/// Returns the digits of a decimal text without a sign, point, leading or trailing zeros.
fn significant_digits(text: &str) -> Vec<u8> {
    let digits: Vec<u8> = text.bytes().filter(u8::is_ascii_digit).collect();
    let start = digits.iter().position(|&d| d != b'0').unwrap_or(digits.len());
    let end = digits.iter().rposition(|&d| d != b'0').map_or(start, |last| last + 1);
    digits[start..end].to_vec()
}

pub fn decimal_to_json(n: Decimal) -> Json {
    let text = n.normalize().to_string();
    serde_json::from_str(&text).unwrap_or(Json::String(text))
}

/// Parses an RFC 3339 timestamp (`2025-11-03T14:03:38Z`, `...+02:00`, fractional seconds allowed).
pub fn parse_timestamp(text: &str) -> Option<DateTime<FixedOffset>> {
    DateTime::parse_from_rfc3339(text).ok()
}

/// Parses text that has the shape of an RFC 3339 timestamp (`YYYY-MM-DDThh:mm:ss...`);
/// the shape test comes first so ordinary text costs no parse attempt.
pub fn timestamp_text(text: &str) -> Option<DateTime<FixedOffset>> {
    let bytes = text.as_bytes();
    let shaped = bytes.len() >= 20 && bytes[4] == b'-' && bytes[7] == b'-' && matches!(bytes[10], b'T' | b't' | b' ');
    if shaped { parse_timestamp(text) } else { None }
}

/// Parses a calendar date `YYYY-MM-DD`.
pub fn parse_date(text: &str) -> Option<NaiveDate> {
    // `NaiveDate::parse_from_str` would parse the format string again on every call.
    static FORMAT: std::sync::LazyLock<Vec<chrono::format::Item<'static>>> =
        std::sync::LazyLock::new(|| chrono::format::StrftimeItems::new("%Y-%m-%d").collect());
    if text.len() != 10 {
        return None;
    }
    let mut parsed = chrono::format::Parsed::new();
    chrono::format::parse(&mut parsed, text, FORMAT.iter()).ok()?;
    parsed.to_naive_date().ok()
}

/// Returns the instant a date stands for next to a timestamp: 00:00:00 UTC of that day.
pub fn date_start(date: NaiveDate) -> DateTime<FixedOffset> {
    date.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc().fixed_offset()
}

/// Parses a duration literal: one or more `NUMBER UNIT` parts, units `w d h m s ms`.
pub fn parse_duration(text: &str) -> Option<TimeDelta> {
    let mut total = TimeDelta::zero();
    let mut rest = text;
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit())?;
        if digits == 0 {
            return None;
        }
        let amount: i64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let (unit, len) = if rest.starts_with("ms") {
            (TimeDelta::try_milliseconds(amount)?, 2)
        } else {
            let unit = match rest.chars().next()? {
                'w' => TimeDelta::try_weeks(amount)?,
                'd' => TimeDelta::try_days(amount)?,
                'h' => TimeDelta::try_hours(amount)?,
                'm' => TimeDelta::try_minutes(amount)?,
                's' => TimeDelta::try_seconds(amount)?,
                _ => return None,
            };
            (unit, 1)
        };
        total = total.checked_add(&unit)?;
        rest = &rest[len..];
    }
    Some(total)
}

/// Formats a duration the way policies write it: `28d`, `1h30m`, `250ms`, `-5m`.
pub fn format_duration(duration: TimeDelta) -> String {
    if duration.is_zero() {
        return "0s".to_string();
    }
    let sign = if duration < TimeDelta::zero() { "-" } else { "" };
    let mut ms = duration.num_milliseconds().unsigned_abs();
    let mut out = String::from(sign);
    for (unit, size) in [("d", 86_400_000u64), ("h", 3_600_000), ("m", 60_000), ("s", 1_000), ("ms", 1)] {
        if ms >= size {
            out.push_str(&format!("{}{unit}", ms / size));
            ms %= size;
        }
    }
    out
}

/// Returns the instant of a temporal value, for comparisons across timestamps and dates.
fn instant(value: &Value<'_>) -> Option<DateTime<Utc>> {
    match value {
        Value::Timestamp(t) => Some(t.with_timezone(&Utc)),
        Value::Date(d) => Some(date_start(*d).with_timezone(&Utc)),
        _ => None,
    }
}

/// The outcome of comparing two values of possibly different types.
#[derive(Debug, PartialEq, Eq)]
pub enum Comparison {
    Ordered(Ordering),
    /// Both are values of one type without an order (objects, booleans for `<`).
    Unordered {
        equal: bool,
    },
    /// The types cannot meet (`"10"` against `10`); the message names both.
    Mismatch(String),
}

/// Compares two values under the rules in this module's docs. Text meeting a
/// timestamp or date is parsed; a parse failure is reported as a mismatch.
pub fn compare(left: &Value<'_>, right: &Value<'_>) -> Comparison {
    let left = left.unwrap_element();
    let right = right.unwrap_element();
    for side in [left, right] {
        if let Value::Json(json) = side {
            if let Json::Number(n) = json.get() {
                return Comparison::Mismatch(number_out_of_range(&n.to_string()));
            }
        }
    }
    match (left, right) {
        (Value::Number(a), Value::Number(b)) => Comparison::Ordered(a.cmp(b)),
        (Value::Text(a), Value::Text(b)) => match (timestamp_text(a), timestamp_text(b)) {
            // Two RFC 3339 timestamps in text compare as instants, whatever their offsets.
            (Some(a), Some(b)) => Comparison::Ordered(a.cmp(&b)),
            _ => Comparison::Ordered(a.as_ref().cmp(b.as_ref())),
        },
        (Value::Duration(a), Value::Duration(b)) => Comparison::Ordered(a.cmp(b)),
        (Value::Date(a), Value::Date(b)) => Comparison::Ordered(a.cmp(b)),
        (Value::Timestamp(_) | Value::Date(_), Value::Timestamp(_) | Value::Date(_)) => {
            Comparison::Ordered(instant(left).cmp(&instant(right)))
        }
        (Value::Text(text), temporal @ (Value::Timestamp(_) | Value::Date(_))) => match coerce_text(text, temporal) {
            Ok(parsed) => compare(&parsed, temporal),
            Err(message) => Comparison::Mismatch(message),
        },
        (temporal @ (Value::Timestamp(_) | Value::Date(_)), Value::Text(text)) => match coerce_text(text, temporal) {
            Ok(parsed) => compare(temporal, &parsed),
            Err(message) => Comparison::Mismatch(message),
        },
        (Value::Bool(a), Value::Bool(b)) => Comparison::Unordered { equal: a == b },
        (Value::Null, Value::Null) => Comparison::Unordered { equal: true },
        (Value::Null, _) | (_, Value::Null) => Comparison::Unordered { equal: false },
        (
            Value::Json(_) | Value::List(_) | Value::Document(_),
            Value::Json(_) | Value::List(_) | Value::Document(_),
        ) => Comparison::Unordered {
            equal: left.to_json() == right.to_json() || json_equal(&left.to_json(), &right.to_json()),
        },
        _ => Comparison::Mismatch(format!(
            "cannot compare {} {} with {} {}{}",
            left.type_name(),
            Shown(left),
            right.type_name(),
            Shown(right),
            conversion_hint(left, right)
        )),
    }
}

/// Returns how to make two values of types that do not meet comparable, when a
/// conversion exists: text and numbers convert into each other.
fn conversion_hint(left: &Value<'_>, right: &Value<'_>) -> &'static str {
    match (left, right) {
        (Value::Text(_), Value::Number(_)) | (Value::Number(_), Value::Text(_)) => {
            "; convert one side with `number(...)` or `text(...)`"
        }
        _ => "",
    }
}

/// Equality for `in` and `contains`: values of different types are simply unequal.
pub fn loosely_equal(left: &Value<'_>, right: &Value<'_>) -> bool {
    match compare(left, right) {
        Comparison::Ordered(ordering) => ordering == Ordering::Equal,
        Comparison::Unordered { equal } => equal,
        Comparison::Mismatch(_) => false,
    }
}

/// JSON equality with numbers compared as decimals (`1.0` equals `1`).
fn json_equal(a: &Json, b: &Json) -> bool {
    match (a, b) {
        (Json::Number(x), Json::Number(y)) => parse_decimal(x.as_str()) == parse_decimal(y.as_str()),
        (Json::Array(x), Json::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(x, y)| json_equal(x, y)),
        (Json::Object(x), Json::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| json_equal(v, w)))
        }
        _ => a == b,
    }
}

/// Parses text as the kind of temporal value it meets.
pub fn coerce_text<'a>(text: &str, like: &Value<'_>) -> Result<Value<'a>, String> {
    if let Some(t) = parse_timestamp(text) {
        return Ok(Value::Timestamp(t));
    }
    if matches!(like, Value::Date(_)) {
        if let Some(d) = parse_date(text) {
            return Ok(Value::Date(d));
        }
    }
    Err(format!(
        "`{}` is not an RFC 3339 {}",
        text.escape_debug(),
        if matches!(like, Value::Date(_)) { "date" } else { "timestamp" }
    ))
}

/// Key text used to look a value up in a reference table: text as is, numbers in
/// canonical form (`7.50` and `7.5` are one key), booleans as `true`/`false`.
pub fn key_text<'v>(value: &'v Value<'_>) -> Option<Cow<'v, str>> {
    match value.unwrap_element() {
        Value::Text(s) => Some(Cow::Borrowed(s.as_ref())),
        Value::Number(n) => Some(Cow::Owned(n.normalize().to_string())),
        Value::Bool(b) => Some(Cow::Borrowed(if *b { "true" } else { "false" })),
        _ => None,
    }
}

/// Displays a value for people: text in backticks, numbers as written, JSON compact
/// and cut to 80 characters.
pub struct Shown<'v, 'a>(pub &'v Value<'a>);

impl fmt::Display for Shown<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.unwrap_element() {
            Value::Text(s) => write!(f, "`{}`", s.escape_debug()),
            Value::Null => f.write_str("`null`"),
            Value::Bool(b) => write!(f, "`{b}`"),
            Value::Number(n) => write!(f, "`{}`", n.normalize()),
            Value::Timestamp(t) => write!(f, "`{}`", t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)),
            Value::Date(d) => write!(f, "`{d}`"),
            Value::Duration(d) => write!(f, "`{}`", format_duration(*d)),
            other => {
                let text = other.to_json().to_string();
                if text.chars().count() > 80 {
                    let cut: String = text.chars().take(77).collect();
                    write!(f, "`{cut}...`")
                } else {
                    write!(f, "`{text}`")
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn number(text: &str) -> Value<'static> {
        Value::Number(parse_decimal(text).unwrap())
    }

    #[test]
    fn decimals_add_exactly() {
        let sum = parse_decimal("0.1").unwrap() + parse_decimal("0.2").unwrap();
        assert_eq!(sum, parse_decimal("0.3").unwrap());
    }

    #[test]
    fn big_integers_keep_every_digit() {
        let json: Json = serde_json::from_str("9007199254740993").unwrap();
        let Value::Number(n) = Value::from_json(&json).unwrap() else { panic!("not a number") };
        assert_eq!(n.to_string(), "9007199254740993");
    }

    #[test]
    fn number_too_long_stays_opaque() {
        let json: Json = serde_json::from_str("123456789012345678901234567890123").unwrap();
        let value = Value::from_json(&json).unwrap();
        assert_eq!(value.type_name(), "number that does not fit a decimal");
        assert!(matches!(compare(&value, &number("1")), Comparison::Mismatch(_)));
    }

    #[test]
    fn timestamps_compare_in_utc() {
        let a = Value::Timestamp(parse_timestamp("2025-06-01T02:00:00+02:00").unwrap());
        let b = Value::Timestamp(parse_timestamp("2025-06-01T00:00:00Z").unwrap());
        assert_eq!(compare(&a, &b), Comparison::Ordered(Ordering::Equal));
    }

    #[test]
    fn text_meeting_a_timestamp_is_parsed() {
        let a = Value::text("2025-06-01T00:00:01Z");
        let b = Value::Timestamp(parse_timestamp("2025-06-01T00:00:00Z").unwrap());
        assert_eq!(compare(&a, &b), Comparison::Ordered(Ordering::Greater));
        let bad = Value::text("yesterday");
        assert!(matches!(compare(&bad, &b), Comparison::Mismatch(_)));
    }

    #[test]
    fn text_and_number_do_not_compare() {
        assert!(matches!(compare(&Value::text("10"), &number("10")), Comparison::Mismatch(_)));
        assert!(!loosely_equal(&Value::text("10"), &number("10")));
    }

    #[test]
    fn durations_parse_and_format() {
        assert_eq!(parse_duration("1h30m"), TimeDelta::try_minutes(90));
        assert_eq!(parse_duration("250ms"), TimeDelta::try_milliseconds(250));
        assert_eq!(format_duration(TimeDelta::try_days(28).unwrap()), "28d");
        assert_eq!(parse_duration("5x"), None);
    }

    #[test]
    fn scientific_notation_parses() {
        assert_eq!(parse_decimal("1e3"), parse_decimal("1000"));
    }
}
