//! Reading the runs of a `POST /v1/runs` body: one JSON object, a JSON array of
//! objects, or NDJSON (one object per line).
//!
//! The form comes from the `Content-Type` (`application/x-ndjson`,
//! `application/jsonl` or `application/json`). Without one the body decides: an
//! array starts with `[`, a body that is one JSON value is one run, and anything
//! else is read as NDJSON. In NDJSON every line stands alone: a malformed line becomes
//! a rejected item with its line number and reason, and the other lines are still
//! read. A run may nest at most [`MAX_DEPTH`] levels of arrays and objects, as in
//! `semslo check` (serde_json itself stops at 128).

use serde_json::Value as Json;

use crate::input::MAX_DEPTH;

/// Form in which the runs were sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BodyForm {
    /// One JSON object.
    Single,
    /// A JSON array of objects.
    Array,
    /// NDJSON: one object per line.
    Lines,
}

/// One run of the body, or why it could not be read.
#[derive(Debug)]
pub struct Item {
    /// Position among the runs of the body, from 0.
    pub index: usize,
    /// The 1-based line of an NDJSON run.
    pub line: Option<usize>,
    pub record: Result<Json, String>,
}

/// Splits `body` into runs. Fails only when the body as a whole cannot be read: an
/// invalid JSON document, or a body with no run.
pub fn parse(body: &[u8], content_type: Option<&str>) -> Result<(BodyForm, Vec<Item>), String> {
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    let media_type = content_type.map(|value| value.split(';').next().unwrap_or("").trim().to_ascii_lowercase());
    let declared_lines = media_type.as_deref().is_some_and(|media| media.contains("ndjson") || media.contains("jsonl"));
    let declared_json = media_type.as_deref() == Some("application/json");
    let first = body.iter().copied().find(|byte| !byte.is_ascii_whitespace());

    let (form, items) = match first {
        None => return Err("the body holds no runs".to_string()),
        _ if declared_lines => (BodyForm::Lines, lines(body)),
        Some(b'[') => (BodyForm::Array, array(body)?),
        _ => match serde_json::from_slice::<Json>(body) {
            Ok(value) => (BodyForm::Single, vec![Item { index: 0, line: None, record: object(value) }]),
            Err(error) if declared_json && error.to_string().starts_with("trailing characters") => {
                return Err(format!(
                    "the body is not one JSON value ({error}); send one run per line as `Content-Type: application/x-ndjson`, or several runs as a JSON array"
                ));
            }
            Err(error) if declared_json => return Err(format!("the body is not valid JSON: {error}")),
            Err(_) => (BodyForm::Lines, lines(body)),
        },
    };
    if items.is_empty() {
        return Err("the body holds no runs".to_string());
    }
    Ok((form, items))
}

fn array(body: &[u8]) -> Result<Vec<Item>, String> {
    let values: Vec<Json> =
        serde_json::from_slice(body).map_err(|error| format!("the body is not a valid JSON array: {error}"))?;
    Ok(values.into_iter().enumerate().map(|(index, value)| Item { index, line: None, record: object(value) }).collect())
}

fn lines(body: &[u8]) -> Vec<Item> {
    let mut items = Vec::new();
    for (number, line) in body.split(|&byte| byte == b'\n').enumerate() {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let record = crate::input::parse_json_text(line)
            .map_err(|reason| format!("line {}: invalid JSON: {reason}", number + 1))
            .and_then(|value| object(value).map_err(|reason| format!("line {}: {reason}", number + 1)));
        items.push(Item { index: items.len(), line: Some(number + 1), record });
    }
    items
}

fn object(value: Json) -> Result<Json, String> {
    match value {
        Json::Object(_) if depth(&value) > MAX_DEPTH => {
            Err(format!("the run nests deeper than {MAX_DEPTH} levels of arrays and objects"))
        }
        Json::Object(_) => Ok(value),
        other => Err(format!("a run is a JSON object, not {}", describe(&other))),
    }
}

fn describe(value: &Json) -> &'static str {
    match value {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "an array",
        Json::Object(_) => "an object",
    }
}

/// Counts the levels of arrays and objects in `value`, counting `value` itself.
fn depth(value: &Json) -> usize {
    match value {
        Json::Array(items) => 1 + items.iter().map(depth).max().unwrap_or(0),
        Json::Object(members) => 1 + members.values().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_object_is_a_single_run() {
        let (form, items) = parse(br#"{"run_id": "a"}"#, None).unwrap();
        assert_eq!(form, BodyForm::Single);
        assert_eq!(items.len(), 1);
    }

    #[test]
    fn array_body_is_a_batch() {
        let (form, items) = parse(br#"[{"run_id": "a"}, 3]"#, Some("application/json")).unwrap();
        assert_eq!(form, BodyForm::Array);
        assert!(items[0].record.is_ok());
        assert_eq!(items[1].record.as_ref().unwrap_err(), "a run is a JSON object, not a number");
    }

    #[test]
    fn ndjson_reports_malformed_lines_and_keeps_the_rest() {
        let body = b"{\"run_id\": \"a\"}\r\n\n{oops\n{\"run_id\": \"b\"}\n";
        let (form, items) = parse(body, None).unwrap();
        assert_eq!(form, BodyForm::Lines);
        assert_eq!(items.len(), 3);
        assert_eq!(items[1].line, Some(3));
        assert!(items[1].record.as_ref().unwrap_err().starts_with("line 3: invalid JSON"));
        assert_eq!(items[2].line, Some(4));
        assert!(items[2].record.is_ok());
    }

    #[test]
    fn declared_ndjson_with_one_line_is_lines() {
        let (form, _) = parse(br#"{"run_id": "a"}"#, Some("application/x-ndjson")).unwrap();
        assert_eq!(form, BodyForm::Lines);
    }

    #[test]
    fn empty_body_is_an_error() {
        assert!(parse(b"  \n", None).is_err());
    }

    #[test]
    fn invalid_declared_json_is_an_error() {
        let reason = parse(b"{\"a\": 1}\n{\"b\": 2}", Some("application/json")).unwrap_err();
        assert!(reason.contains("application/x-ndjson"), "{reason}");
        assert!(parse(b"{\"a\": ", Some("application/json")).is_err());
    }

    #[test]
    fn ndjson_errors_name_column_and_depth() {
        let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
        let body = format!("{{\"run_id\": \"a\"}}\n{{oops\n{{\"a\": {deep}}}\n");
        let (_, items) = parse(body.as_bytes(), None).unwrap();
        assert_eq!(items[1].record.as_ref().unwrap_err(), "line 2: invalid JSON: key must be a string at column 2");
        let reason = items[2].record.as_ref().unwrap_err();
        assert!(reason.contains(&format!("nested deeper than {MAX_DEPTH} levels")), "{reason}");
    }
}
