//! The record and its location in the source.

use std::fmt;
use std::sync::Arc;

/// The place a record starts: the source's display name and a 1-based line.
///
/// `file` is the path as the user gave it, or `<stdin>` for standard input. It is
/// shared by every record of one source, so cloning a location is cheap.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Location {
    pub file: Arc<str>,
    pub line: usize,
}

impl Location {
    pub fn new(file: Arc<str>, line: usize) -> Self {
        Location { file, line }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

/// One run record: a JSON object and the place it starts in its source.
///
/// Numbers in `value` keep their source text (serde_json's `arbitrary_precision`),
/// so `12345678901234567890.123` reaches the rules with every digit.
#[derive(Clone, Debug, PartialEq)]
pub struct Record {
    pub value: serde_json::Value,
    pub location: Location,
}
