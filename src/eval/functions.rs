//! The built-in function library. Names and arities are declared in
//! [`crate::compile::FUNCTIONS`]; every function here is total over its documented
//! input types and reports anything else as an `error` verdict.

use std::borrow::Cow;
use std::sync::Arc;

use chrono::{Datelike, Months, TimeDelta};
use rust_decimal::Decimal;
use rust_decimal::RoundingStrategy;
use serde_json::Value as Json;

use super::EvalError;
use super::context::Context;
use super::expr::{compare_with, invalid};
use crate::compile::{Function, Node};
use crate::document::NodeRef;
use crate::syntax::ast::CompareOp;
use crate::value::{JsonRef, Shown, Value, date_start, loosely_equal, parse_date, parse_decimal, parse_timestamp};

/// Largest text `parse_json` accepts, in bytes.
const MAX_PARSE_JSON_BYTES: usize = 4 * 1024 * 1024;

impl<'a> Context<'a> {
    /// Counts the elements of an array that a projected record kept whole, as `len`
    /// does, without converting them to values.
    fn document_array_len(&mut self, arg: &'a Node) -> Option<usize> {
        let is_array = |member: &NodeRef<'a>| member.source_text().is_some_and(|text| text.starts_with('['));
        let text = self.read_document_member_if(arg, 0, is_array)?.source_text()?;
        crate::input::projected::array_len(text)
    }

    pub(super) fn eval_call(
        &mut self,
        node: &'a Node,
        function: Function,
        args: &'a [Node],
    ) -> Result<Value<'a>, EvalError> {
        if function == Function::Len
            && let [arg] = args
            && let Some(count) = self.document_array_len(arg)
        {
            return Ok(Value::Number(Decimal::from(count)));
        }
        let values = args.iter().map(|arg| self.eval(arg)).collect::<Result<Vec<_>, _>>()?;
        let name = crate::compile::FUNCTIONS.iter().find(|f| f.1 == function).map_or("function", |f| f.0);
        let wrong = |value: &Value<'_>, wanted: &str| {
            invalid(format!("`{name}` needs {wanted}, found {} {}", value.type_name(), Shown(value)), node.span)
        };
        let first = values.first().map(Value::unwrap_element).cloned().unwrap_or(Value::Null);
        Ok(match function {
            Function::Len => match &first {
                Value::Text(s) => Value::Number(Decimal::from(s.chars().count())),
                Value::Json(json) if json.get().is_object() => {
                    Value::Number(Decimal::from(json.get().as_object().map_or(0, |o| o.len())))
                }
                Value::Document(object) if object.is_object() => Value::Number(Decimal::from(object.keys().len())),
                other => match other.list_items() {
                    Some(items) => Value::Number(Decimal::from(items.len())),
                    None => return Err(wrong(other, "text, a list or an object")),
                },
            },
            Function::Lower | Function::Upper | Function::Trim => match &first {
                Value::Text(s) => Value::Text(Cow::Owned(match function {
                    Function::Lower => s.to_lowercase(),
                    Function::Upper => s.to_uppercase(),
                    _ => s.trim().to_string(),
                })),
                other => return Err(wrong(other, "text")),
            },
            Function::Abs => match &first {
                Value::Number(n) => Value::Number(n.abs()),
                Value::Duration(d) => Value::Duration(d.abs()),
                other => return Err(wrong(other, "a number or duration")),
            },
            Function::Min | Function::Max => self.extreme(node, &values, function == Function::Max)?,
            Function::Sum => sum(&first, node).map_err(|_| wrong(&first, "a list of numbers or durations"))?,
            Function::Round => {
                let places = match values.get(1).map(Value::unwrap_element) {
                    None => 0,
                    Some(Value::Number(p)) if p.fract().is_zero() && *p >= Decimal::ZERO && *p <= Decimal::from(28) => {
                        u32::try_from(p.mantissa()).unwrap_or(0)
                    }
                    Some(other) => return Err(wrong(other, "a whole number of places from 0 to 28")),
                };
                match &first {
                    Value::Number(n) => {
                        Value::Number(n.round_dp_with_strategy(places, RoundingStrategy::MidpointAwayFromZero))
                    }
                    other => return Err(wrong(other, "a number")),
                }
            }
            Function::Date => match &first {
                Value::Date(d) => Value::Date(*d),
                Value::Timestamp(t) => Value::Date(t.naive_utc().date()),
                Value::Text(s) => match parse_date(s).or_else(|| parse_timestamp(s).map(|t| t.naive_utc().date())) {
                    Some(d) => Value::Date(d),
                    None => return Err(invalid(format!("`date` cannot read {} as a date", Shown(&first)), node.span)),
                },
                other => return Err(wrong(other, "a timestamp, a date or text")),
            },
            Function::Timestamp => match (&first, values.get(1).map(Value::unwrap_element)) {
                (Value::Timestamp(t), _) => Value::Timestamp(*t),
                (Value::Date(d), _) => Value::Timestamp(date_start(*d)),
                (Value::Text(s), zone) => match parse_timestamp(s) {
                    Some(t) => Value::Timestamp(t),
                    None => match zone {
                        Some(Value::Text(zone)) => {
                            Value::Timestamp(local_timestamp(s, zone).map_err(|why| invalid(why, node.span))?)
                        }
                        Some(other) => {
                            return Err(wrong(other, "a zone as text, like `\"-05:00\"` or `\"America/New_York\"`"));
                        }
                        None => {
                            return Err(invalid(
                                format!(
                                    "`timestamp` cannot read {} as an RFC 3339 timestamp; for a time without an offset, name its zone: `timestamp(x, \"-05:00\")`",
                                    Shown(&first)
                                ),
                                node.span,
                            ));
                        }
                    },
                },
                (other, _) => return Err(wrong(other, "text or a date")),
            },

            Function::Days | Function::Hours | Function::Minutes | Function::Seconds => match &first {
                Value::Duration(d) => {
                    let unit_ms: i64 = match function {
                        Function::Days => 86_400_000,
                        Function::Hours => 3_600_000,
                        Function::Minutes => 60_000,
                        _ => 1_000,
                    };
                    Value::Number(Decimal::from(d.num_milliseconds()) / Decimal::from(unit_ms))
                }
                other => return Err(wrong(other, "a duration")),
            },
            Function::AddDays | Function::AddMonths => self.calendar_shift(node, function, &first, values.get(1))?,
            Function::ParseJson => match &first {
                Value::Text(s) if s.len() > MAX_PARSE_JSON_BYTES => {
                    return Err(invalid(
                        format!("`parse_json` takes at most {MAX_PARSE_JSON_BYTES} bytes of text"),
                        node.span,
                    ));
                }
                Value::Text(s) => {
                    let json: Json = serde_json::from_str(s).map_err(|e| {
                        invalid(format!("`parse_json` could not read {}: {e}", Shown(&first)), node.span)
                    })?;
                    Value::from_owned_json(json)
                        .map_err(|e| invalid(format!("number `{}` is out of range", e.0), node.span))?
                }
                other => return Err(wrong(other, "text")),
            },
            Function::Keys | Function::Values => match &first {
                Value::Json(json) if json.get().is_object() => {
                    let object = json.get().as_object().expect("checked");
                    let items: Vec<Json> = if function == Function::Keys {
                        object.keys().map(|k| Json::String(k.clone())).collect()
                    } else {
                        object.values().cloned().collect()
                    };
                    Value::Json(JsonRef::Owned(Arc::new(Json::Array(items))))
                }
                Value::Document(object) if object.is_object() => {
                    let Json::Object(members) = object.to_json() else { unreachable!("checked to be an object") };
                    let items: Vec<Json> = if function == Function::Keys {
                        members.keys().map(|k| Json::String(k.clone())).collect()
                    } else {
                        members.into_iter().map(|(_, v)| v).collect()
                    };
                    Value::Json(JsonRef::Owned(Arc::new(Json::Array(items))))
                }
                other => return Err(wrong(other, "an object")),
            },
            Function::Number => match &first {
                Value::Number(n) => Value::Number(*n),
                Value::Text(s) => match parse_decimal(s.trim()) {
                    Some(n) => Value::Number(n),
                    None => {
                        return Err(invalid(format!("`number` cannot read {} as a number", Shown(&first)), node.span));
                    }
                },
                other => return Err(wrong(other, "text or a number")),
            },
            Function::Text => match &first {
                Value::Text(s) => Value::Text(s.clone()),
                other => match other.to_json() {
                    Json::String(s) => Value::Text(Cow::Owned(s)),
                    json => Value::Text(Cow::Owned(json.to_string())),
                },
            },
            Function::Concat => {
                let mut text = String::new();
                for value in &values {
                    match value.unwrap_element() {
                        Value::Text(s) => text.push_str(s),
                        Value::Number(n) => text.push_str(&n.normalize().to_string()),
                        other => return Err(wrong(other, "texts or numbers")),
                    }
                }
                Value::Text(Cow::Owned(text))
            }
            Function::Distinct => match first.list_items() {
                Some(items) => {
                    let mut kept: Vec<Value<'a>> = Vec::new();
                    for item in items {
                        let item = crate::value::Value::from_owned_json(item.to_json()).unwrap_or(Value::Null);
                        if !kept.iter().any(|k| loosely_equal(k, &item)) {
                            kept.push(item);
                        }
                    }
                    Value::List(Arc::new(kept))
                }
                None => return Err(wrong(&first, "a list")),
            },
        })
    }

    fn extreme(&self, node: &Node, values: &[Value<'a>], want_max: bool) -> Result<Value<'a>, EvalError> {
        let items: Vec<Value<'a>> = if values.len() == 1 {
            match values[0].list_items() {
                Some(items) => {
                    items.iter().map(|v| Value::from_owned_json(v.to_json()).unwrap_or(Value::Null)).collect()
                }
                None => values.to_vec(),
            }
        } else {
            values.to_vec()
        };
        let mut best: Option<Value<'a>> = None;
        for item in items {
            best = Some(match best {
                None => item,
                Some(current) => {
                    let op = if want_max { CompareOp::Greater } else { CompareOp::Less };
                    if compare_with(op, &item, &current, node.span)? { item } else { current }
                }
            });
        }
        best.ok_or_else(|| {
            invalid(format!("`{}` of an empty list has no value", if want_max { "max" } else { "min" }), node.span)
        })
    }

    fn calendar_shift(
        &self,
        node: &Node,
        function: Function,
        base: &Value<'a>,
        amount: Option<&Value<'a>>,
    ) -> Result<Value<'a>, EvalError> {
        let amount = match amount.map(Value::unwrap_element) {
            Some(Value::Number(n)) if n.fract().is_zero() => {
                i64::try_from(*n).map_err(|_| invalid("calendar shift is out of range", node.span))?
            }
            Some(other) => {
                return Err(invalid(format!("the amount must be a whole number, found {}", Shown(other)), node.span));
            }
            None => 0,
        };
        let overflow = || invalid("the shifted date is out of range", node.span);
        let shift_date = |date: chrono::NaiveDate| -> Option<chrono::NaiveDate> {
            if function == Function::AddDays {
                date.checked_add_signed(TimeDelta::try_days(amount)?)
            } else if amount >= 0 {
                date.checked_add_months(Months::new(u32::try_from(amount).ok()?))
            } else {
                date.checked_sub_months(Months::new(u32::try_from(-amount).ok()?))
            }
        };
        match base {
            Value::Date(d) => Ok(Value::Date(shift_date(*d).ok_or_else(overflow)?)),
            Value::Timestamp(t) => {
                let local = t.naive_local();
                let shifted = shift_date(local.date()).ok_or_else(overflow)?.and_time(local.time());
                let offset = *t.offset();
                let result = shifted.and_local_timezone(offset).single().ok_or_else(overflow)?;
                let _ = result.year();
                Ok(Value::Timestamp(result))
            }
            Value::Text(s) => match parse_timestamp(s) {
                Some(t) => self.calendar_shift(
                    node,
                    function,
                    &Value::Timestamp(t),
                    Some(&Value::Number(Decimal::from(amount))),
                ),
                None => match parse_date(s) {
                    Some(d) => self.calendar_shift(
                        node,
                        function,
                        &Value::Date(d),
                        Some(&Value::Number(Decimal::from(amount))),
                    ),
                    None => Err(invalid(format!("cannot read {} as a date or timestamp", Shown(base)), node.span)),
                },
            },
            other => Err(invalid(
                format!("calendar functions need a date or timestamp, found {} {}", other.type_name(), Shown(other)),
                node.span,
            )),
        }
    }
}

/// Reads a date-time written without an offset (`2024-05-07T19:17:06`, fractional
/// seconds allowed) in `zone`: a fixed offset like `-05:00` or an IANA zone name.
fn local_timestamp(text: &str, zone: &str) -> Result<chrono::DateTime<chrono::FixedOffset>, String> {
    let naive = chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f")
        .or_else(|_| chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f"))
        .map_err(|_| format!("`timestamp` cannot read `{text}` as a date and time"))?;
    if let Ok(offset) = zone.parse::<chrono::FixedOffset>() {
        return naive
            .and_local_timezone(offset)
            .single()
            .ok_or_else(|| format!("`{text}` does not exist at offset `{zone}`"));
    }
    let tz: chrono_tz::Tz = zone.parse().map_err(|_| {
        format!("unknown zone `{zone}`; write an offset like `-05:00` or an IANA name like `America/New_York`")
    })?;
    match naive.and_local_timezone(tz) {
        chrono::LocalResult::Single(t) => Ok(t.fixed_offset()),
        // A time that occurs twice (clocks set back) is read as the earlier instant.
        chrono::LocalResult::Ambiguous(earlier, _) => Ok(earlier.fixed_offset()),
        chrono::LocalResult::None => Err(format!("`{text}` does not exist in `{zone}` (clocks were set forward)")),
    }
}

fn sum<'a>(list: &Value<'_>, _node: &Node) -> Result<Value<'a>, ()> {
    let items = list.list_items().ok_or(())?;
    let mut number_total = Decimal::ZERO;
    let mut duration_total: Option<TimeDelta> = None;
    for item in items {
        match item.unwrap_element() {
            Value::Number(n) if duration_total.is_none() => number_total = number_total.checked_add(*n).ok_or(())?,
            Value::Duration(d) if number_total.is_zero() => {
                duration_total = Some(duration_total.unwrap_or_default().checked_add(d).ok_or(())?);
            }
            _ => return Err(()),
        }
    }
    Ok(match duration_total {
        Some(d) => Value::Duration(d),
        None => Value::Number(number_total),
    })
}
