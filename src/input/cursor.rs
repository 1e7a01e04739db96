//! Walking JSON arrays and objects element by element with the [`Scanner`].
//!
//! [`ArrayCursor`] yields the elements of an array one at a time, and
//! [`ObjectCursor`] the keys of an object, leaving the scanner at each value. The
//! JSON-array reader walks the top-level array this way, and the tau2-bench
//! adapter walks its top-level object and the `simulations` array inside it.

use std::io::{self, BufRead};
use std::sync::Arc;

use super::depth::too_deep_reason;
use super::error::RecordError;
use super::location::Location;
use super::parse::TextStart;
use super::scanner::{ScannedValue, Scanner, ValueEnd, describe_byte};

/// One step through an array: an element whose bytes are in the caller's buffer,
/// a structural error, or the end of the array.
pub enum ArrayItem {
    Element(TextStart),
    Error(RecordError),
    End,
}

/// The position inside one JSON array whose `[` has been consumed.
pub struct ArrayCursor {
    /// Whether an element was read and a `,` or `]` must come next.
    after_element: bool,
    finished: bool,
}

impl ArrayCursor {
    pub fn new() -> Self {
        ArrayCursor { after_element: false, finished: false }
    }

    /// Reads up to the next element, whose bytes replace the contents of `element`.
    ///
    /// After the closing `]`, or after the input ended, returns [`ArrayItem::End`].
    /// Each call consumes input or finishes the array, so a loop over it ends.
    pub fn next<R: BufRead>(
        &mut self,
        scanner: &mut Scanner<R>,
        element: &mut Vec<u8>,
        name: &Arc<str>,
    ) -> io::Result<ArrayItem> {
        if self.finished {
            return Ok(ArrayItem::End);
        }
        let error_here = |scanner: &Scanner<R>, reason: String| {
            let (line, _) = scanner.position();
            ArrayItem::Error(RecordError::new(Location::new(Arc::clone(name), line), reason))
        };

        let Some(byte) = scanner.peek_token()? else {
            self.finished = true;
            let reason = "the input ends before the JSON array is closed with `]`; \
                          the file may be truncated";
            return Ok(error_here(scanner, reason.to_owned()));
        };
        match byte {
            b']' => {
                scanner.bump();
                self.finished = true;
                return Ok(ArrayItem::End);
            }
            b',' if self.after_element => {
                scanner.bump();
                self.after_element = false;
                if scanner.peek_token()? == Some(b']') {
                    let item = error_here(scanner, "trailing `,` before `]`".to_owned());
                    scanner.bump();
                    self.finished = true;
                    return Ok(item);
                }
                return self.next(scanner, element, name);
            }
            b',' | b'}' | b':' => {
                scanner.bump();
                let reason = format!("unexpected {} where an array element should start", describe_byte(byte));
                return Ok(error_here(scanner, reason));
            }
            _ if self.after_element => {
                // The next element starts without a `,` before it. Report the gap and
                // read the element on the next call.
                self.after_element = false;
                let reason = format!("expected `,` or `]` after the previous element, found {}", describe_byte(byte));
                return Ok(error_here(scanner, reason));
            }
            _ => {}
        }

        let (line, column) = scanner.position();
        let start = TextStart { line, column };
        element.clear();
        let scanned = scanner.scan_value(Some(element))?;
        self.after_element = true;
        if scanned.end == ValueEnd::Truncated {
            self.finished = true;
        }
        Ok(match check_scanned(scanned, start, name) {
            Ok(()) => ArrayItem::Element(start),
            Err(error) => ArrayItem::Error(error),
        })
    }
}

impl Default for ArrayCursor {
    fn default() -> Self {
        ArrayCursor::new()
    }
}

/// Turns a scan that did not end cleanly into a malformed-record error at the
/// element's first line.
pub fn check_scanned(scanned: ScannedValue, start: TextStart, name: &Arc<str>) -> Result<(), RecordError> {
    let reason = match scanned.end {
        ValueEnd::Truncated => "the input ends inside this element; the file may be truncated".to_owned(),
        ValueEnd::Mismatched { found, line, column } => format!(
            "{} at line {line} column {column} does not close the bracket opened before it",
            describe_byte(found)
        ),
        ValueEnd::Complete if scanned.too_deep => too_deep_reason(),
        ValueEnd::Complete => return Ok(()),
    };
    Err(RecordError::new(Location::new(Arc::clone(name), start.line), reason))
}

/// Returns the error for a read of the source that failed mid-stream, which ends the stream.
pub fn read_failed<R>(name: &Arc<str>, scanner: &Scanner<R>, error: &io::Error) -> RecordError {
    let (line, _) = scanner.position();
    let reason = format!("reading failed, the rest of the input is skipped: {error}");
    RecordError::new(Location::new(Arc::clone(name), line), reason)
}

/// One step through an object: a key (the scanner is at its value), the end of
/// the object, or a structural error after which the object cannot be read on.
pub enum MemberItem {
    Key(String),
    End,
    Error(String),
}

/// The position inside one JSON object whose `{` has been consumed.
#[derive(Default)]
pub struct ObjectCursor {
    /// Whether a member was read and a `,` or `}` must come next.
    after_member: bool,
}

impl ObjectCursor {
    /// Reads up to the next key and its `:`. The caller must then consume the
    /// member's value (for example with [`Scanner::scan_value`]) before calling
    /// again. `buffer` is scratch space for the key's text.
    pub fn next_key<R: BufRead>(&mut self, scanner: &mut Scanner<R>, buffer: &mut Vec<u8>) -> io::Result<MemberItem> {
        let truncated = "the input ends before the top-level object is closed with `}`; \
                         the file may be truncated";
        loop {
            let Some(byte) = scanner.peek_token()? else {
                return Ok(MemberItem::Error(truncated.to_owned()));
            };
            match byte {
                b'}' => {
                    scanner.bump();
                    return Ok(MemberItem::End);
                }
                b',' if self.after_member => {
                    scanner.bump();
                    self.after_member = false;
                }
                b'"' if !self.after_member => break,
                _ => {
                    let expected = if self.after_member { "`,` or `}`" } else { "a key or `}`" };
                    let (line, column) = scanner.position();
                    return Ok(MemberItem::Error(format!(
                        "expected {expected} in the top-level object, found {} at line {line} \
                         column {column}",
                        describe_byte(byte)
                    )));
                }
            }
        }

        let (line, column) = scanner.position();
        buffer.clear();
        let scanned = scanner.scan_value(Some(buffer))?;
        let key: String = match (scanned.end, serde_json::from_slice(buffer)) {
            (ValueEnd::Complete, Ok(key)) => key,
            _ => {
                return Ok(MemberItem::Error(format!("invalid object key at line {line} column {column}")));
            }
        };
        if scanner.peek_token()? != Some(b':') {
            let (line, column) = scanner.position();
            return Ok(MemberItem::Error(format!("expected `:` after the key `{key}` at line {line} column {column}")));
        }
        scanner.bump();
        if scanner.peek_token()?.is_none() {
            return Ok(MemberItem::Error(truncated.to_owned()));
        }
        self.after_member = true;
        Ok(MemberItem::Key(key))
    }
}
