//! Reading the runs of a `POST /v1/runs` body: one JSON object, a JSON array of
//! objects, or NDJSON (one object per line).
//!
//! The form comes from the `Content-Type` (`application/x-ndjson`,
//! `application/jsonl` or `application/json`). Without one the body decides: an
//! array starts with `[`, a body that is one JSON value is one run, and anything
//! else is read as NDJSON. In NDJSON every line stands alone: a malformed line becomes
//! a rejected item with its line number and reason, and the other lines are still
//! read. A run may nest at most [`MAX_DEPTH`](crate::input::MAX_DEPTH) levels of
//! arrays and objects, as in `semslo check`: serde_json rejects the 128th level. The
//! runs of a JSON array are parsed one by one, so the array around them is not
//! counted as a level, and a run nested too deep is a rejected item while the other
//! runs are still read.
//!
//! NDJSON lines are kept as text. The evaluation reads them only partly
//! ([`crate::engine::LoadedSet::evaluate_passing_text`] and
//! [`crate::engine::LoadedSet::evaluate_text`]). It parses a line in full with
//! [`read_line`] only for the reason a line is not a run with an id.

use serde_json::Value as Json;
use serde_json::value::RawValue;

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
    pub record: Result<Record, String>,
}

/// A run of the body, parsed or not yet.
#[derive(Debug)]
pub enum Record {
    /// Parsed with the rest of a JSON body: a checked object.
    Parsed(Json),
    /// The byte range of an NDJSON line in the body as received, not yet parsed.
    Line(std::ops::Range<usize>),
}

/// Splits `body` into runs. Fails only when the body as a whole cannot be read: an
/// invalid JSON document, or a body with no run.
pub fn parse(body: &[u8], content_type: Option<&str>) -> Result<(BodyForm, Vec<Item>), String> {
    // Line ranges count from the start of the body as received, byte order mark included.
    let (body, offset) = match body.strip_prefix(b"\xEF\xBB\xBF") {
        Some(rest) => (rest, 3),
        None => (body, 0),
    };
    let media_type = content_type.map(|value| value.split(';').next().unwrap_or("").trim().to_ascii_lowercase());
    let declared_lines = media_type.as_deref().is_some_and(|media| media.contains("ndjson") || media.contains("jsonl"));
    let declared_json = media_type.as_deref() == Some("application/json");
    let first = body.iter().copied().find(|byte| !byte.is_ascii_whitespace());

    let (form, items) = match first {
        None => return Err("the body holds no runs".to_string()),
        _ if declared_lines => (BodyForm::Lines, lines(body, offset)),
        Some(b'[') => (BodyForm::Array, array(body)?),
        _ => match serde_json::from_slice::<&RawValue>(body) {
            Ok(run) => {
                (BodyForm::Single, vec![Item { index: 0, line: None, record: read_run(run).map(Record::Parsed) }])
            }
            Err(error) if declared_json && error.to_string().starts_with("trailing characters") => {
                return Err(format!(
                    "the body is not one JSON value ({error}); send one run per line as `Content-Type: application/x-ndjson`, or several runs as a JSON array"
                ));
            }
            Err(error) if declared_json => return Err(format!("the body is not valid JSON: {error}")),
            Err(_) => (BodyForm::Lines, lines(body, offset)),
        },
    };
    if items.is_empty() {
        return Err("the body holds no runs".to_string());
    }
    Ok((form, items))
}

/// Splits a JSON array body into its runs. serde_json checks the syntax of the whole
/// array here but skips over each run without building it, so that step has no
/// nesting limit. [`read_run`] then parses each run with the limit.
fn array(body: &[u8]) -> Result<Vec<Item>, String> {
    let runs: Vec<&RawValue> =
        serde_json::from_slice(body).map_err(|error| format!("the body is not a valid JSON array: {error}"))?;
    Ok(runs
        .into_iter()
        .enumerate()
        .map(|(index, run)| Item { index, line: None, record: read_run(run).map(Record::Parsed) })
        .collect())
}

/// Parses one run of a JSON body, or returns the reason it is not a run. The split
/// already checked the body's syntax, so two errors are left. A run nested deeper than
/// [`MAX_DEPTH`](crate::input::MAX_DEPTH) gets the reason an NDJSON line gets. A `\u`
/// escape of a lone surrogate fails here too, because the split does not decode escapes.
fn read_run(run: &RawValue) -> Result<Json, String> {
    crate::input::parse_json_text(run.get().as_bytes())
        .map_err(|reason| format!("the run cannot be read: {reason}"))
        .and_then(object)
}

/// Cuts an NDJSON body into its non-blank lines, without parsing them. The ranges are
/// shifted by `offset`, the bytes received before `body`.
fn lines(body: &[u8], offset: usize) -> Vec<Item> {
    let mut items = Vec::new();
    let mut start = 0;
    let mut number = 0;
    while start <= body.len() {
        number += 1;
        let end = memchr::memchr(b'\n', &body[start..]).map_or(body.len(), |at| start + at);
        let line = &body[start..end];
        let range = start..start + line.strip_suffix(b"\r").map_or(line.len(), <[u8]>::len);
        start = end + 1;
        if body[range.clone()].iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let range = offset + range.start..offset + range.end;
        items.push(Item { index: items.len(), line: Some(number), record: Ok(Record::Line(range)) });
    }
    items
}

/// Parses NDJSON line `number` (1-based) in full, or returns the reason it is not a run.
pub fn read_line(text: &[u8], number: usize) -> Result<Json, String> {
    crate::input::parse_json_text(text)
        .map_err(|reason| format!("line {number}: invalid JSON: {reason}"))
        .and_then(|value| object(value).map_err(|reason| format!("line {number}: {reason}")))
}

/// Returns the value when it is a JSON object. Its depth needs no check here, because
/// serde_json parsed it with a limit of [`MAX_DEPTH`](crate::input::MAX_DEPTH) levels.
fn object(value: Json) -> Result<Json, String> {
    match value {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::MAX_DEPTH;

    #[test]
    fn one_object_is_a_single_run() {
        let (form, items) = parse(br#"{"run_id": "a"}"#, None).unwrap();
        assert_eq!(form, BodyForm::Single);
        assert_eq!(items.len(), 1);
    }

    #[test]
    fn array_runs_get_the_depth_limit_each() {
        let nested = |depth: usize| format!("{{\"a\": {}{}}}", "[".repeat(depth - 1), "]".repeat(depth - 1));
        let body = format!("[{}, {}, {}]", nested(MAX_DEPTH), nested(MAX_DEPTH + 1), nested(100_000));
        let (form, items) = parse(body.as_bytes(), Some("application/json")).unwrap();
        let too_deep = format!("the run cannot be read: nested deeper than {MAX_DEPTH} levels of arrays and objects");

        assert_eq!(form, BodyForm::Array);
        assert!(matches!(items[0].record, Ok(Record::Parsed(_))), "{:?}", items[0].record);
        assert_eq!(items[1].record.as_ref().unwrap_err(), &too_deep);
        assert_eq!(items[2].record.as_ref().unwrap_err(), &too_deep);
    }

    #[test]
    fn lone_surrogate_rejects_only_its_run() {
        let (_, items) = parse(br#"[{"run_id": "a"}, {"run_id": "\uD800"}]"#, None).unwrap();
        assert!(matches!(items[0].record, Ok(Record::Parsed(_))));
        let reason = items[1].record.as_ref().unwrap_err();
        assert!(reason.starts_with("the run cannot be read: unexpected end of hex escape"), "{reason}");
    }

    #[test]
    fn array_body_is_a_batch() {
        let (form, items) = parse(br#"[{"run_id": "a"}, 3]"#, Some("application/json")).unwrap();
        assert_eq!(form, BodyForm::Array);
        assert!(matches!(items[0].record, Ok(Record::Parsed(_))));
        assert_eq!(items[1].record.as_ref().unwrap_err(), "a run is a JSON object, not a number");
    }

    /// Parses every NDJSON line of `body` in full, as the evaluation does when it must.
    fn read_lines(body: &[u8]) -> Vec<(Option<usize>, Result<Json, String>)> {
        let (form, items) = parse(body, None).unwrap();
        assert_eq!(form, BodyForm::Lines);
        items
            .into_iter()
            .map(|item| match item.record {
                Ok(Record::Line(range)) => (item.line, read_line(&body[range], item.line.unwrap())),
                other => panic!("an NDJSON line is kept as text, not {other:?}"),
            })
            .collect()
    }

    #[test]
    fn ndjson_reports_malformed_lines_and_keeps_the_rest() {
        let body = b"{\"run_id\": \"a\"}\r\n\n{oops\n{\"run_id\": \"b\"}\n";
        let lines = read_lines(body);
        assert_eq!(lines.len(), 3);
        assert_eq!(lines[0].1.as_ref().unwrap()["run_id"], "a");
        assert_eq!(lines[1].0, Some(3));
        assert!(lines[1].1.as_ref().unwrap_err().starts_with("line 3: invalid JSON"));
        assert_eq!(lines[2].0, Some(4));
        assert_eq!(lines[2].1.as_ref().unwrap()["run_id"], "b");
    }

    #[test]
    fn byte_order_mark_keeps_lines_whole() {
        let body = b"\xEF\xBB\xBF{\"run_id\": \"a\"}\n{\"run_id\": \"b\"}\n";
        let lines = read_lines(body);
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].1.as_ref().unwrap()["run_id"], "a");
        assert_eq!(lines[1].1.as_ref().unwrap()["run_id"], "b");
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
        let lines = read_lines(body.as_bytes());
        assert_eq!(lines[1].1.as_ref().unwrap_err(), "line 2: invalid JSON: key must be a string at column 2");
        let reason = lines[2].1.as_ref().unwrap_err();
        assert!(reason.contains(&format!("nested deeper than {MAX_DEPTH} levels")), "{reason}");
    }
}
