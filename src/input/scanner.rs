//! A byte scanner that finds where one JSON value ends, without parsing it.
//!
//! The JSON-array reader and the adapters use it to cut a large JSON document into
//! its top-level elements (or the elements of one nested array) and hand each
//! element to serde_json on its own. Only one element is in memory at a time, and
//! a malformed element does not stop the elements after it.
//!
//! The scanner tracks strings (with backslash escapes) and bracket nesting, and
//! nothing else: it does not check that the text between brackets is valid JSON.
//! That is serde_json's job once the element's bytes are known.

use std::io::{self, BufRead};

use super::depth::MAX_DEPTH;

/// The end state of a scanned value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValueEnd {
    /// The value is complete: brackets balanced, string closed, or scalar ended.
    Complete,
    /// The input ended inside the value.
    Truncated,
    /// A closing bracket did not match the open one (`[1, 2}`). The scanner
    /// stopped after consuming it.
    Mismatched { found: u8, line: usize, column: usize },
}

/// The result of [`Scanner::scan_value`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ScannedValue {
    pub end: ValueEnd,
    /// Whether the value nests more than [`MAX_DEPTH`] arrays and objects. The
    /// bytes of such a value are not kept, so its memory stays bounded.
    pub too_deep: bool,
}

/// Reads JSON text from `reader` and tracks the line and column of the next byte.
pub struct Scanner<R> {
    reader: R,
    line: usize,
    column: usize,
    /// Bytes of a leading UTF-8 byte-order mark still to skip (3 at the start).
    bom_remaining: usize,
}

/// The UTF-8 byte-order mark that some editors write at the start of a file.
pub const BOM: &[u8] = b"\xEF\xBB\xBF";

impl<R> Scanner<R> {
    /// Returns the 1-based line and column of the next unread byte.
    pub fn position(&self) -> (usize, usize) {
        (self.line, self.column)
    }
}

impl<R: BufRead> Scanner<R> {
    /// Starts scanning at line `first_line`, column 1, skipping a leading byte-order mark.
    pub fn new(reader: R, first_line: usize) -> Self {
        Scanner { reader, line: first_line, column: 1, bom_remaining: BOM.len() }
    }

    /// Skips whitespace (and a leading byte-order mark) and returns the next byte
    /// without consuming it, or `None` at the end of the input.
    pub fn peek_token(&mut self) -> io::Result<Option<u8>> {
        loop {
            let buffer = self.reader.fill_buf()?;
            if buffer.is_empty() {
                return Ok(None);
            }
            let mut consumed = 0;
            let mut found = None;
            for &byte in buffer {
                if self.bom_remaining > 0 && byte == BOM[BOM.len() - self.bom_remaining] {
                    self.bom_remaining -= 1;
                    consumed += 1;
                    continue;
                }
                self.bom_remaining = 0;
                match byte {
                    b'\n' => {
                        self.line += 1;
                        self.column = 1;
                    }
                    b' ' | b'\t' | b'\r' => self.column += 1,
                    _ => {
                        found = Some(byte);
                        break;
                    }
                }
                consumed += 1;
            }
            self.reader.consume(consumed);
            if found.is_some() {
                return Ok(found);
            }
        }
    }

    /// Consumes the byte that [`Scanner::peek_token`] returned. It must not be a newline.
    pub fn bump(&mut self) {
        self.reader.consume(1);
        self.column += 1;
    }

    /// Consumes one JSON value that starts at the next byte, appending its bytes to
    /// `out` when given.
    ///
    /// Call it after [`Scanner::peek_token`] returned a byte. A scalar (number,
    /// `true`, a stray word) ends before the next `,`, `]`, `}`, `:` or whitespace,
    /// which stays unread. Every call consumes at least one byte unless the input
    /// is at its end, so callers that loop over values always make progress.
    pub fn scan_value(&mut self, mut out: Option<&mut Vec<u8>>) -> io::Result<ScannedValue> {
        let mut walk = Walk::default();
        loop {
            let buffer = self.reader.fill_buf()?;
            if buffer.is_empty() {
                let end = if walk.kind == Kind::Scalar { ValueEnd::Complete } else { ValueEnd::Truncated };
                return Ok(walk.finish(end));
            }

            let mut consumed = 0;
            let mut end = None;
            for &byte in buffer {
                let step = walk.step(byte);
                if step == Step::EndBefore {
                    end = Some(ValueEnd::Complete);
                    break;
                }
                consumed += 1;
                if byte == b'\n' {
                    self.line += 1;
                    self.column = 1;
                } else {
                    self.column += 1;
                }
                if let Some(out) = out.as_deref_mut() {
                    if walk.too_deep {
                        out.clear();
                    } else {
                        out.push(byte);
                    }
                }
                match step {
                    Step::Continue | Step::EndBefore => {}
                    Step::EndAfter => {
                        end = Some(ValueEnd::Complete);
                        break;
                    }
                    Step::Mismatched => {
                        end = Some(ValueEnd::Mismatched { found: byte, line: self.line, column: self.column - 1 });
                        break;
                    }
                }
            }
            self.reader.consume(consumed);
            if let Some(end) = end {
                return Ok(walk.finish(end));
            }
        }
    }
}

/// The kind of value being scanned, decided by its first byte.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Kind {
    #[default]
    NotStarted,
    Scalar,
    String,
    Container,
}

/// The scanner's next action after looking at one byte.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
    Continue,
    /// The value ended before this byte, which is not part of it.
    EndBefore,
    /// The value ends with this byte.
    EndAfter,
    Mismatched,
}

/// The state of one [`Scanner::scan_value`] call.
#[derive(Default)]
struct Walk {
    kind: Kind,
    depth: usize,
    /// The closing bracket each open bracket expects, up to `MAX_DEPTH + 1` deep;
    /// deeper brackets are only counted, because the value is rejected anyway.
    closers: Vec<u8>,
    in_string: bool,
    escaped: bool,
    too_deep: bool,
}

impl Walk {
    fn step(&mut self, byte: u8) -> Step {
        match self.kind {
            Kind::NotStarted => self.start(byte),
            Kind::Scalar => match byte {
                b',' | b']' | b'}' | b':' | b' ' | b'\t' | b'\r' | b'\n' => Step::EndBefore,
                _ => Step::Continue,
            },
            Kind::String | Kind::Container if self.in_string => self.string_byte(byte),
            Kind::String => unreachable!("a string value ends when its string closes"),
            Kind::Container => self.container_byte(byte),
        }
    }

    fn start(&mut self, byte: u8) -> Step {
        match byte {
            b'{' | b'[' => {
                self.kind = Kind::Container;
                self.open(byte);
            }
            b'"' => {
                self.kind = Kind::String;
                self.in_string = true;
            }
            _ => self.kind = Kind::Scalar,
        }
        Step::Continue
    }

    fn string_byte(&mut self, byte: u8) -> Step {
        if self.escaped {
            self.escaped = false;
        } else if byte == b'\\' {
            self.escaped = true;
        } else if byte == b'"' {
            self.in_string = false;
            if self.kind == Kind::String {
                return Step::EndAfter;
            }
        }
        Step::Continue
    }

    fn container_byte(&mut self, byte: u8) -> Step {
        match byte {
            b'"' => self.in_string = true,
            b'{' | b'[' => self.open(byte),
            b'}' | b']' => {
                if self.depth <= self.closers.len() {
                    let expected = self.closers.pop();
                    if expected != Some(byte) {
                        return Step::Mismatched;
                    }
                }
                self.depth -= 1;
                if self.depth == 0 {
                    return Step::EndAfter;
                }
            }
            _ => {}
        }
        Step::Continue
    }

    fn open(&mut self, byte: u8) {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            self.too_deep = true;
        }
        if self.closers.len() <= MAX_DEPTH {
            self.closers.push(if byte == b'{' { b'}' } else { b']' });
        }
    }

    fn finish(&self, end: ValueEnd) -> ScannedValue {
        ScannedValue { end, too_deep: self.too_deep }
    }
}

/// Names a byte in a message: the character in backticks when printable ASCII.
pub fn describe_byte(byte: u8) -> String {
    if byte.is_ascii_graphic() { format!("`{}`", byte as char) } else { format!("byte 0x{byte:02X}") }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Scans every value of a comma-free sequence like `{..} [..] 12`.
    fn scan_all(text: &str) -> Vec<(String, ScannedValue, (usize, usize))> {
        let mut scanner = Scanner::new(text.as_bytes(), 1);
        let mut values = Vec::new();
        while scanner.peek_token().unwrap().is_some() {
            let start = scanner.position();
            let mut bytes = Vec::new();
            let scanned = scanner.scan_value(Some(&mut bytes)).unwrap();
            values.push((String::from_utf8(bytes).unwrap(), scanned, start));
        }
        values
    }

    #[test]
    fn values_are_cut_at_their_end() {
        let values = scan_all("{\"a\": [1, {\"b\": \"]}\"}]}\n  [2]  \"x\\\"y\" 12");
        let texts: Vec<&str> = values.iter().map(|(text, _, _)| text.as_str()).collect();
        assert_eq!(texts, ["{\"a\": [1, {\"b\": \"]}\"}]}", "[2]", "\"x\\\"y\"", "12"]);
        assert!(values.iter().all(|(_, scanned, _)| scanned.end == ValueEnd::Complete));
    }

    #[test]
    fn positions_count_lines_and_columns() {
        let values = scan_all("\n\n  {\"a\":\n1}  [\n]");
        assert_eq!(values[0].2, (3, 3));
        assert_eq!(values[1].2, (4, 5));
    }

    #[test]
    fn leading_byte_order_mark_is_skipped() {
        let values = scan_all("\u{FEFF}{\"a\": 1}");
        assert_eq!(values[0].0, "{\"a\": 1}");
        assert_eq!(values[0].2, (1, 1));
    }

    #[test]
    fn unclosed_value_is_truncated() {
        let values = scan_all("{\"a\": [1, 2");
        assert_eq!(values[0].1.end, ValueEnd::Truncated);
        let values = scan_all("\"abc");
        assert_eq!(values[0].1.end, ValueEnd::Truncated);
    }

    #[test]
    fn mismatched_bracket_stops_the_value() {
        let values = scan_all("{\"a\": [1, 2}, 3");
        assert_eq!(values[0].1.end, ValueEnd::Mismatched { found: b'}', line: 1, column: 12 });
        assert_eq!(values[0].0, "{\"a\": [1, 2}");
    }

    #[test]
    fn deep_nesting_is_flagged_and_not_kept() {
        let text = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        let values = scan_all(&text);
        assert_eq!(values.len(), 1);
        assert!(values[0].1.too_deep);
        assert_eq!(values[0].1.end, ValueEnd::Complete);
        assert!(values[0].0.len() <= MAX_DEPTH + 1);
    }

    #[test]
    fn nesting_at_limit_is_not_flagged() {
        let text = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(!scan_all(&text)[0].1.too_deep);
    }
}
