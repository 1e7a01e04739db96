//! Where a wrong value entered the run: the earliest step whose output carried a
//! value that decided a failing verdict.

use serde::Serialize;
use serde_json::Value as Json;

use super::trace::Observation;
use crate::value::parse_decimal;

/// A step of the run, by position and name, and where in its output the value sits.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StepRef {
    pub index: usize,
    pub name: Option<String>,
    /// Path inside the step, e.g. `output.vendor_id`.
    pub path: String,
    pub value: Json,
    /// The expression that read the value in the rule.
    pub expression: String,
}

/// Deepest level searched inside a step's output.
const MAX_SEARCH_DEPTH: usize = 12;

/// Finds the step where a value that decided the verdict entered the run: for the first
/// value read outside `steps` that some step's `output` holds, the earliest such step. Text shorter than two characters, booleans and null are not
/// traced: they match too much to point anywhere. A small whole number (under 100 in
/// size) is traced only to an output field of the same name as the field read, so a
/// reward of 0 is not blamed on some step's count of 0.
pub fn entered_at(record: &Json, observations: &[Observation]) -> Option<StepRef> {
    let steps = record.get("steps")?.as_array()?;
    let candidates = observations.iter().filter_map(|observation| match observation {
        Observation::Read { expression, value, bindings }
            if bindings.is_empty() && !expression.starts_with("steps") =>
        {
            Some((expression, value))
        }
        Observation::Membership { expression, value, .. } if !expression.starts_with("steps") => {
            Some((expression, value))
        }
        _ => None,
    });
    // The first value the failing expectation read is usually the one in question (the
    // left side of a comparison, the value tested for membership), so the search takes
    // the values in the order they were read and reports the first one a step carried.
    for (expression, value) in candidates {
        if !traceable(value) {
            continue;
        }
        let needs_same_name = is_small_integer(value);
        let field_name = expression.rsplit('.').next().unwrap_or(expression).trim().to_string();
        for (index, step) in steps.iter().enumerate() {
            let Some(output) = step.get("output") else { continue };
            let name_filter = needs_same_name.then_some(field_name.as_str());
            if let Some(path) = find_value(output, value, "output".to_string(), 0, name_filter) {
                return Some(StepRef {
                    index,
                    name: step.get("name").and_then(Json::as_str).map(str::to_string),
                    path,
                    value: value.clone(),
                    expression: expression.clone(),
                });
            }
        }
    }
    None
}

fn traceable(value: &Json) -> bool {
    match value {
        Json::String(s) => s.chars().count() >= 2,
        Json::Number(_) => true,
        _ => false,
    }
}

fn is_small_integer(value: &Json) -> bool {
    match value {
        Json::Number(n) => parse_decimal(n.as_str()).is_some_and(|d| d.fract().is_zero() && d.abs() < 100.into()),
        _ => false,
    }
}

/// Searches `haystack` for `needle`; with `name`, only members of that name match.
fn find_value(haystack: &Json, needle: &Json, path: String, depth: usize, name: Option<&str>) -> Option<String> {
    if depth > MAX_SEARCH_DEPTH {
        return None;
    }
    match haystack {
        Json::Object(members) => members.iter().find_map(|(key, child)| {
            let child_path = format!("{path}.{key}");
            match child {
                Json::Object(_) | Json::Array(_) => find_value(child, needle, child_path, depth + 1, name),
                _ if name.is_some_and(|n| n != key) => None,
                _ => scalar_equal(child, needle).then_some(child_path),
            }
        }),
        Json::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, child)| find_value(child, needle, format!("{path}[{i}]"), depth + 1, name)),
        _ => (name.is_none() && scalar_equal(haystack, needle)).then_some(path),
    }
}

fn scalar_equal(a: &Json, b: &Json) -> bool {
    match (a, b) {
        (Json::Number(x), Json::Number(y)) => parse_decimal(x.as_str()) == parse_decimal(y.as_str()),
        (Json::String(x), Json::String(y)) => x == y,
        _ => false,
    }
}
