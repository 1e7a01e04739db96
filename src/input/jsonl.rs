//! JSON Lines: one record per line.
//!
//! Blank lines are skipped, a leading UTF-8 byte-order mark is removed, and a line
//! may end in `\n` or `\r\n`. Lines are read into one reused buffer, so memory
//! depends on the longest line, not on the number of lines.

use std::io::BufRead;
use std::sync::Arc;

use super::error::RecordError;
use super::location::{Location, Record};
use super::parse::{PositionStyle, TextStart, expect_object, parse_json};
use super::scanner::BOM;

/// Streams the records of a JSON Lines source.
pub struct JsonLinesReader<R> {
    reader: R,
    name: Arc<str>,
    /// The number of the line read last (0 before the first).
    line: usize,
    buffer: Vec<u8>,
    at_start: bool,
    finished: bool,
}

impl<R: BufRead> JsonLinesReader<R> {
    /// Reads `reader`, whose first line is line `first_line` of the source `name`.
    pub fn new(reader: R, name: Arc<str>, first_line: usize) -> Self {
        JsonLinesReader { reader, name, line: first_line - 1, buffer: Vec::new(), at_start: true, finished: false }
    }

    fn location(&self) -> Location {
        Location::new(Arc::clone(&self.name), self.line)
    }

    fn parse_line(&self, text: &[u8]) -> Result<Record, RecordError> {
        let start = TextStart { line: self.line, column: 1 };
        parse_json(text, start, PositionStyle::Column)
            .and_then(expect_object)
            .map(|entries| Record { value: entries.into(), location: self.location() })
            .map_err(|reason| RecordError::new(self.location(), reason))
    }
}

impl<R: BufRead> Iterator for JsonLinesReader<R> {
    type Item = Result<Record, RecordError>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.finished {
            self.buffer.clear();
            let read = self.reader.read_until(b'\n', &mut self.buffer);
            self.line += 1;
            match read {
                Ok(0) => self.finished = true,
                Ok(_) => {
                    let mut text = trim_line_end(&self.buffer);
                    if self.at_start {
                        text = text.strip_prefix(BOM).unwrap_or(text);
                        self.at_start = false;
                    }
                    if text.iter().all(u8::is_ascii_whitespace) {
                        continue;
                    }
                    return Some(self.parse_line(text));
                }
                Err(error) => {
                    self.finished = true;
                    let reason = format!("reading failed, the rest of the input is skipped: {error}");
                    return Some(Err(RecordError::new(self.location(), reason)));
                }
            }
        }
        None
    }
}

/// Strips a trailing `\n` or `\r\n`.
fn trim_line_end(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Vec<Result<Record, RecordError>> {
        JsonLinesReader::new(text.as_bytes(), Arc::from("test.jsonl"), 1).collect()
    }

    fn lines_of(results: &[Result<Record, RecordError>]) -> Vec<Result<usize, usize>> {
        results
            .iter()
            .map(|result| match result {
                Ok(record) => Ok(record.location.line),
                Err(error) => Err(error.location.line),
            })
            .collect()
    }

    #[test]
    fn blank_lines_are_skipped_and_counted() {
        let results = read("\n{\"a\": 1}\n  \n\n{\"a\": 2}\n");
        assert_eq!(lines_of(&results), [Ok(2), Ok(5)]);
    }

    #[test]
    fn crlf_and_byte_order_mark_are_accepted() {
        let results = read("\u{FEFF}{\"a\": 1}\r\n{\"a\": 2}\r\n");
        assert_eq!(lines_of(&results), [Ok(1), Ok(2)]);
    }

    #[test]
    fn malformed_line_does_not_stop_the_reader() {
        let results = read("{\"a\": 1}\n{\"a\": \n{\"a\": 3}");
        assert_eq!(lines_of(&results), [Ok(1), Err(2), Ok(3)]);
        let error = results[1].as_ref().unwrap_err();
        assert_eq!(error.reason, "EOF while parsing a value at column 6");
    }

    #[test]
    fn non_object_line_is_malformed() {
        let results = read("[1, 2]\n");
        let error = results[0].as_ref().unwrap_err();
        assert_eq!(error.reason, "expected a JSON object, found an array");
    }

    #[test]
    fn last_line_without_newline_is_read() {
        let results = read("{\"a\": 1}");
        assert_eq!(lines_of(&results), [Ok(1)]);
    }
}
