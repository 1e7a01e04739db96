//! JSON documents: an array of records, or one record object.
//!
//! The array is streamed element by element: [`Scanner`] finds where each
//! element ends, and serde_json parses that element alone. A malformed element
//! is reported with the line it starts on and the reader continues after it.
//! A truncated file, a missing `,` or text after the array are reported as
//! malformed records too, at the line where they occur.
//!
use std::io::{self, BufRead};
use std::sync::Arc;

use serde_json::Value;

use super::cursor::{ArrayCursor, ArrayItem, check_scanned, read_failed};
use super::error::RecordError;
use super::location::{Location, Record};
use super::parse::{PositionStyle, TextStart, expect_object, parse_json};
use super::scanner::{Scanner, describe_byte};

/// Turns one parsed element into a record value, or returns why it is not one.
pub type ElementMapper = fn(Value) -> Result<Value, String>;

/// The canonical-record mapper: an element must be a JSON object.
pub fn canonical_record(value: Value) -> Result<Value, String> {
    expect_object(value).map(Value::Object)
}

/// Streams the records of a JSON document.
pub struct JsonReader<R> {
    scanner: Scanner<R>,
    name: Arc<str>,
    element: Vec<u8>,
    state: State,
    map: ElementMapper,
}

enum State {
    Start,
    Array(ArrayCursor),
    AfterTopValue,
    Done,
}

impl<R: BufRead> JsonReader<R> {
    /// Reads `reader`, whose first line is line `first_line` of the source `name`,
    /// and turns each element into a record with `map`.
    pub fn new(reader: R, name: Arc<str>, first_line: usize, map: ElementMapper) -> Self {
        JsonReader { scanner: Scanner::new(reader, first_line), name, element: Vec::new(), state: State::Start, map }
    }

    fn step(&mut self) -> io::Result<Option<Result<Record, RecordError>>> {
        loop {
            match &mut self.state {
                State::Start => match self.scanner.peek_token()? {
                    None => self.state = State::Done,
                    Some(b'[') => {
                        self.scanner.bump();
                        self.state = State::Array(ArrayCursor::new());
                    }
                    Some(_) => {
                        self.state = State::AfterTopValue;
                        return Ok(Some(self.read_top_value()?));
                    }
                },
                State::Array(cursor) => match cursor.next(&mut self.scanner, &mut self.element, &self.name)? {
                    ArrayItem::Element(start) => return Ok(Some(self.record(start))),
                    ArrayItem::Error(error) => return Ok(Some(Err(error))),
                    ArrayItem::End => self.state = State::AfterTopValue,
                },
                State::AfterTopValue => {
                    self.state = State::Done;
                    let Some(byte) = self.scanner.peek_token()? else {
                        continue;
                    };
                    let reason = format!(
                        "unexpected {} after the end of the JSON value; a JSON document holds one \
                         array of records or one record object (for one record per line, use \
                         JSON Lines with --input-format jsonl)",
                        describe_byte(byte)
                    );
                    return Ok(Some(Err(self.error_here(reason))));
                }
                State::Done => return Ok(None),
            }
        }
    }

    /// Reads a document that is one value rather than an array.
    fn read_top_value(&mut self) -> io::Result<Result<Record, RecordError>> {
        let (line, column) = self.scanner.position();
        let start = TextStart { line, column };
        self.element.clear();
        let scanned = self.scanner.scan_value(Some(&mut self.element))?;
        Ok(match check_scanned(scanned, start, &self.name) {
            Ok(()) => self.record(start),
            Err(error) => Err(error),
        })
    }

    fn record(&self, start: TextStart) -> Result<Record, RecordError> {
        let location = Location::new(Arc::clone(&self.name), start.line);
        parse_json(&self.element, start, PositionStyle::LineAndColumn)
            .and_then(self.map)
            .map(|value| Record { value, location: location.clone() })
            .map_err(|reason| RecordError::new(location, reason))
    }

    fn error_here(&self, reason: String) -> RecordError {
        let (line, _) = self.scanner.position();
        RecordError::new(Location::new(Arc::clone(&self.name), line), reason)
    }
}

impl<R: BufRead> Iterator for JsonReader<R> {
    type Item = Result<Record, RecordError>;

    fn next(&mut self) -> Option<Self::Item> {
        match self.step() {
            Ok(item) => item,
            Err(error) => {
                self.state = State::Done;
                Some(Err(read_failed(&self.name, &self.scanner, &error)))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::depth::too_deep_reason;

    fn read(text: &str) -> Vec<Result<Record, RecordError>> {
        JsonReader::new(text.as_bytes(), Arc::from("test.json"), 1, canonical_record).collect()
    }

    /// Reads `text` and returns each result as `Ok(line)` or `Err((line, reason))`.
    fn summary(text: &str) -> Vec<Result<usize, (usize, String)>> {
        read(text)
            .into_iter()
            .map(|result| match result {
                Ok(record) => Ok(record.location.line),
                Err(error) => Err((error.location.line, error.reason)),
            })
            .collect()
    }

    #[test]
    fn array_elements_become_records() {
        let results = summary("[\n  {\"a\": 1},\n  {\"a\": 2}\n]\n");
        assert_eq!(results, [Ok(2), Ok(3)]);
    }

    #[test]
    fn single_object_is_one_record() {
        let records = read("\n{\"run_id\": \"r1\"}\n");
        assert_eq!(records.len(), 1);
        let record = records[0].as_ref().unwrap();
        assert_eq!(record.location.line, 2);
        assert_eq!(record.value["run_id"], "r1");
    }

    #[test]
    fn empty_array_and_empty_input_have_no_records() {
        assert!(read("[]").is_empty());
        assert!(read("  \n").is_empty());
    }

    #[test]
    fn malformed_element_is_reported_and_skipped() {
        let results = summary("[\n{\"a\": 1},\n{\"a\": 2,,\n \"b\": 3},\n{\"a\": 4}\n]");
        assert_eq!(results, [Ok(2), Err((3, "key must be a string at line 3 column 9".to_owned())), Ok(5)]);
    }

    #[test]
    fn non_object_element_is_malformed() {
        let results = summary("[{\"a\": 1}, 2]");
        assert_eq!(results, [Ok(1), Err((1, "expected a JSON object, found a number".to_owned()))]);
    }

    #[test]
    fn truncated_array_is_reported() {
        let results = summary("[\n{\"a\": 1},\n{\"a\": ");
        assert_eq!(
            results,
            [Ok(2), Err((3, "the input ends inside this element; the file may be truncated".to_owned()))]
        );
        let results = summary("[{\"a\": 1},\n");
        assert_eq!(results.len(), 2);
        assert!(results[1].as_ref().unwrap_err().1.contains("before the JSON array is closed"));
    }

    #[test]
    fn text_after_the_array_is_reported() {
        let results = summary("[{\"a\": 1}]\n\nxyz");
        assert_eq!(results.len(), 2);
        let (line, reason) = results[1].as_ref().unwrap_err();
        assert_eq!(*line, 3);
        assert!(reason.starts_with("unexpected `x` after the end of the JSON value"));
    }

    #[test]
    fn missing_comma_is_reported_and_both_elements_read() {
        let results = summary("[{\"a\": 1}\n{\"a\": 2}]");
        assert_eq!(
            results,
            [Ok(1), Err((2, "expected `,` or `]` after the previous element, found `{`".to_owned())), Ok(2)]
        );
    }

    #[test]
    fn mismatched_bracket_ends_only_its_element() {
        let results = summary("[{\"a\": [1}, {\"a\": 2}]");
        assert_eq!(results.len(), 2);
        assert!(results[0].as_ref().unwrap_err().1.contains("does not close"));
        assert_eq!(results[1], Ok(1));
    }

    #[test]
    fn trailing_comma_is_reported() {
        let results = summary("[{\"a\": 1},]");
        assert_eq!(results, [Ok(1), Err((1, "trailing `,` before `]`".to_owned()))]);
    }

    #[test]
    fn deep_element_is_rejected_without_overflow() {
        let deep = format!("[{}{}, {{\"a\": 1}}]", "[".repeat(100_000), "]".repeat(100_000));
        let results = summary(&deep);
        assert_eq!(results, [Err((1, too_deep_reason())), Ok(1)]);
    }
}
