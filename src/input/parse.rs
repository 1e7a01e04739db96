//! Parsing one JSON text (a JSON Lines line or an array element) into a value,
//! with serde_json's error positions translated to positions in the whole file.

use serde_json::{Map, Value};

use super::depth::too_deep_reason;

/// The start of a JSON text in its file: 1-based line and column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TextStart {
    pub line: usize,
    pub column: usize,
}

/// How to name a position in a reason: a JSON Lines record is one line, so only
/// the column is useful there.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PositionStyle {
    Column,
    LineAndColumn,
}

/// Parses `bytes` as one JSON value.
///
/// The error is a reason for a [`RecordError`](super::RecordError): serde_json's
/// message with the position in the file, or [`too_deep_reason`] for a value that
/// nests too deep.
pub fn parse_json(bytes: &[u8], start: TextStart, style: PositionStyle) -> Result<Value, String> {
    serde_json::from_slice(bytes).map_err(|error| describe_json_error(&error, start, style))
}

/// Returns the value as an object, or why it is not a record.
pub fn expect_object(value: Value) -> Result<Map<String, Value>, String> {
    match value {
        Value::Object(entries) => Ok(entries),
        other => Err(format!("expected a JSON object, found {}", describe_json_type(&other))),
    }
}

/// Names the type of a JSON value with its article, for messages.
pub fn describe_json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn describe_json_error(error: &serde_json::Error, start: TextStart, style: PositionStyle) -> String {
    let message = error.to_string();
    // serde_json appends " at line L column C" to every message that has a position.
    let suffix = format!(" at line {} column {}", error.line(), error.column());
    let message = message.strip_suffix(&suffix).unwrap_or(&message);

    // serde_json stops at its 128th nested container (ErrorCode::RecursionLimitExceeded),
    // which is the record depth limit of this crate.
    if message == "recursion limit exceeded" {
        return too_deep_reason();
    }
    if error.line() == 0 {
        return message.to_owned();
    }

    let line = start.line + error.line() - 1;
    let column = if error.line() == 1 { start.column + error.column() - 1 } else { error.column() };
    match style {
        PositionStyle::Column => format!("{message} at column {column}"),
        PositionStyle::LineAndColumn => format!("{message} at line {line} column {column}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LINE_ONE: TextStart = TextStart { line: 1, column: 1 };

    #[test]
    fn error_position_is_shifted_to_the_file() {
        let start = TextStart { line: 10, column: 5 };
        let reason = parse_json(b"{\"a\": }", start, PositionStyle::LineAndColumn).unwrap_err();
        assert_eq!(reason, "expected value at line 10 column 11");

        let reason = parse_json(b"{\n\"a\" 1}", start, PositionStyle::LineAndColumn).unwrap_err();
        assert_eq!(reason, "expected `:` at line 11 column 5");
    }

    #[test]
    fn json_lines_error_names_the_column() {
        let reason = parse_json(b"{\"a\": tru}", LINE_ONE, PositionStyle::Column).unwrap_err();
        assert_eq!(reason, "expected ident at column 10");
    }

    #[test]
    fn recursion_limit_is_the_depth_reason() {
        let text = "[".repeat(100_000);
        let reason = parse_json(text.as_bytes(), LINE_ONE, PositionStyle::Column).unwrap_err();
        assert_eq!(reason, too_deep_reason());
    }

    #[test]
    fn numbers_keep_their_digits() {
        let value = parse_json(
            b"{\"n\": 12345678901234567890.123, \"i\": 123456789012345678901234567890}",
            LINE_ONE,
            PositionStyle::Column,
        )
        .unwrap();
        assert_eq!(value["n"].to_string(), "12345678901234567890.123");
        assert_eq!(value["i"].to_string(), "123456789012345678901234567890");
    }

    #[test]
    fn non_object_is_named_by_type() {
        let reason = expect_object(serde_json::json!([1])).unwrap_err();
        assert_eq!(reason, "expected a JSON object, found an array");
    }
}
