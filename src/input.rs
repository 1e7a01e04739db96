//! Record input: reading run records from files or standard input, streamed.
//!
//! [`read_records`] opens a [`Source`] and returns a [`RecordStream`], an iterator
//! over [`Record`]s. Every reader keeps one record in memory at a time (the
//! tau2-bench adapter also keeps the file's task list), so memory does not grow
//! with the number of records.
//!
//! Formats ([`InputFormat`]):
//! - JSON Lines: one record object per line.
//! - JSON: an array of record objects, or one record object.
//! - YAML: a stream of documents, each one record (YAML 1.2 core schema).
//! - tau-bench and tau2-bench: agent-benchmark logs, adapted to canonical run
//!   records with steps, outcome and labels.
//!
//! A malformed record is a [`RecordError`] item: the stream reports it with file,
//! line and reason and goes on with the next record. A source that cannot be read
//! at all is an [`InputError`] from [`read_records`]. Records nest at most
//! [`MAX_DEPTH`] levels. Numbers keep their source text: no record number is
//! produced from an `f64`. `docs/records.md` describes the formats and mappings
//! for users.

mod canonical;
mod cursor;
mod depth;
mod error;
mod json_array;
mod jsonl;
mod location;
mod parse;
pub mod projected;
mod scanner;
mod source;
mod tau2_bench;
mod tau_bench;
mod yaml;

pub use yaml::parse_document as parse_yaml_document;

/// Parses one JSON text that is a whole line. Errors carry the JSON Lines reader's
/// messages: serde_json's reason with the column, or the depth limit.
pub fn parse_json_text(text: &[u8]) -> Result<serde_json::Value, String> {
    parse::parse_json(text, parse::TextStart { line: 1, column: 1 }, parse::PositionStyle::Column)
}

/// Parses one JSON Lines line (without its line end) the way the JSON Lines reader
/// does: the record must be one JSON object; the error is the reason it is not.
pub fn parse_json_line(text: &[u8]) -> Result<serde_json::Value, String> {
    parse::parse_json(text, parse::TextStart { line: 1, column: 1 }, parse::PositionStyle::Column)
        .and_then(parse::expect_object)
        .map(serde_json::Value::Object)
}

use std::fmt;
use std::path::Path;
use std::sync::Arc;

pub use depth::MAX_DEPTH;
pub use error::{InputError, RecordError};
pub use location::{Location, Record};
pub use source::{STDIN_NAME, Source};

use cursor::{ArrayCursor, ArrayItem, MemberItem, ObjectCursor};
use json_array::JsonReader;
use jsonl::JsonLinesReader;
use parse::{PositionStyle, parse_json};
use scanner::Scanner;
use source::{OpenedSource, open_path, open_stdin, sniff_first_byte};
use tau2_bench::Tau2Reader;
use yaml::YamlReader;

/// The format of a record source.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum InputFormat {
    /// Decide from the file extension and content (`.jsonl`/`.ndjson`, `.json`,
    /// `.yaml`/`.yml`), or for standard input from the first character.
    #[default]
    Auto,
    /// JSON Lines: one record object per line.
    Jsonl,
    /// One JSON array of record objects, or one record object.
    Json,
    /// YAML documents separated by `---`, one record each.
    Yaml,
    /// A tau-bench (v1) trajectory log: a JSON array of runs with `traj`.
    #[value(name = "tau-bench")]
    TauBench,
    /// A tau2-bench results file: a JSON object with a `simulations` array.
    #[value(name = "tau2-bench")]
    Tau2Bench,
}

impl fmt::Display for InputFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            InputFormat::Auto => "auto",
            InputFormat::Jsonl => "jsonl",
            InputFormat::Json => "json",
            InputFormat::Yaml => "yaml",
            InputFormat::TauBench => "tau-bench",
            InputFormat::Tau2Bench => "tau2-bench",
        };
        f.write_str(name)
    }
}

/// A stream of records from one source.
///
/// Yields `Ok(record)` for each record and `Err(error)` for each malformed one,
/// in source order. After an error the stream goes on, unless the error reports
/// that the rest of the input is skipped (a failed read, or a structure the reader
/// cannot resynchronise after).
pub struct RecordStream {
    name: Arc<str>,
    format: InputFormat,
    records: Box<dyn Iterator<Item = Result<Record, RecordError>> + Send>,
}

impl RecordStream {
    /// Returns the source's display name, as record locations carry it.
    pub fn source_name(&self) -> &str {
        &self.name
    }

    /// Returns the format the source is read as, which is never [`InputFormat::Auto`].
    pub fn format(&self) -> InputFormat {
        self.format
    }
}

impl Iterator for RecordStream {
    type Item = Result<Record, RecordError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.records.next()
    }
}

impl fmt::Debug for RecordStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecordStream").field("name", &self.name).field("format", &self.format).finish_non_exhaustive()
    }
}

/// Opens `source` and streams its records in `format`.
///
/// With [`InputFormat::Auto`], a file's format comes from its extension. A `.json` file is
/// then looked into: an array whose first element has `traj` and `task_id` is a tau-bench
/// log, and an object with a `simulations` key is a tau2-bench file. Any other `.json` file
/// is canonical JSON. Standard input starting with `[` is read as a JSON array, and starting
/// with `{` as JSON Lines.
///
/// # Errors
///
/// Returns [`InputError`] when the file cannot be opened or its format cannot be determined.
pub fn read_records(source: Source, format: InputFormat) -> Result<RecordStream, InputError> {
    match source {
        Source::Path(path) => {
            let format = match format {
                InputFormat::Auto => format_of_path(&path)?,
                format => format,
            };
            let header = match format {
                InputFormat::Tau2Bench => Some(tau2_bench::read_header(&path)),
                _ => None,
            };
            let opened = open_path(&path)?;
            Ok(stream(opened, format, header.unwrap_or_default()))
        }
        Source::Stdin => {
            let mut opened = open_stdin();
            let format = match format {
                InputFormat::Auto => format_of_stdin(&mut opened)?,
                format => format,
            };
            Ok(stream(opened, format, tau2_bench::Header::default()))
        }
    }
}

fn stream(opened: OpenedSource, format: InputFormat, header: tau2_bench::Header) -> RecordStream {
    let OpenedSource { name, reader, first_line } = opened;
    let records: Box<dyn Iterator<Item = Result<Record, RecordError>> + Send> = match format {
        InputFormat::Jsonl => Box::new(JsonLinesReader::new(reader, Arc::clone(&name), first_line)),
        InputFormat::Auto | InputFormat::Json => {
            Box::new(JsonReader::new(reader, Arc::clone(&name), first_line, json_array::canonical_record))
        }
        InputFormat::Yaml => Box::new(YamlReader::new(reader, Arc::clone(&name), first_line)),
        InputFormat::TauBench => Box::new(JsonReader::new(reader, Arc::clone(&name), first_line, tau_bench::adapt_run)),
        InputFormat::Tau2Bench => Box::new(Tau2Reader::new(reader, Arc::clone(&name), first_line, header)),
    };
    let format = match format {
        InputFormat::Auto => InputFormat::Json,
        format => format,
    };
    RecordStream { name, format, records }
}

/// Returns the format of the file `path`, from its extension and, for `.json`, its content.
fn format_of_path(path: &Path) -> Result<InputFormat, InputError> {
    let extension = path.extension().and_then(|extension| extension.to_str()).map(str::to_ascii_lowercase);
    match extension.as_deref() {
        Some("jsonl" | "ndjson") => Ok(InputFormat::Jsonl),
        Some("yaml" | "yml") => Ok(InputFormat::Yaml),
        Some("json") => {
            let opened = open_path(path)?;
            detect_json_format(opened).map_err(|source| InputError::Unreadable { path: path.to_owned(), source })
        }
        // A path that cannot be opened is reported before a missing extension.
        _ => match open_path(path) {
            Err(error) => Err(error),
            Ok(_) => Err(InputError::UnknownExtension { path: path.to_owned() }),
        },
    }
}

/// Looks at the start of a JSON document to tell a benchmark log from canonical JSON.
///
/// Reads the first element of a top-level array, or the keys of a top-level
/// object up to `simulations` (skipping over the values). Anything it cannot make
/// sense of is canonical JSON, whose reader then reports the problem.
fn detect_json_format(opened: OpenedSource) -> std::io::Result<InputFormat> {
    let mut scanner = Scanner::new(opened.reader, 1);
    let mut buffer = Vec::new();
    match scanner.peek_token()? {
        Some(b'[') => {
            scanner.bump();
            let ArrayItem::Element(start) = ArrayCursor::new().next(&mut scanner, &mut buffer, &opened.name)? else {
                return Ok(InputFormat::Json);
            };
            let first = parse_json(&buffer, start, PositionStyle::LineAndColumn);
            let is_run = first.is_ok_and(|first| first.get("traj").is_some() && first.get("task_id").is_some());
            Ok(if is_run { InputFormat::TauBench } else { InputFormat::Json })
        }
        Some(b'{') => {
            scanner.bump();
            let mut object = ObjectCursor::default();
            while let MemberItem::Key(key) = object.next_key(&mut scanner, &mut buffer)? {
                if key == "simulations" {
                    return Ok(InputFormat::Tau2Bench);
                }
                scanner.scan_value(None)?;
            }
            Ok(InputFormat::Json)
        }
        _ => Ok(InputFormat::Json),
    }
}

/// Returns the format of standard input, from its first character.
fn format_of_stdin(opened: &mut OpenedSource) -> Result<InputFormat, InputError> {
    let first = sniff_first_byte(opened).map_err(|source| InputError::StdinUnreadable { source })?;
    match first {
        None | Some(b'[') => Ok(InputFormat::Json),
        Some(b'{') => Ok(InputFormat::Jsonl),
        Some(byte) => Err(InputError::UnknownStdinFormat { first: char::from(byte) }),
    }
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use super::*;

    fn stdin_with(text: &'static str) -> OpenedSource {
        OpenedSource { name: Arc::from(STDIN_NAME), reader: Box::new(Cursor::new(text)), first_line: 1 }
    }

    fn read_stdin(text: &'static str) -> Result<(InputFormat, Vec<Result<Record, RecordError>>), InputError> {
        let mut opened = stdin_with(text);
        let format = format_of_stdin(&mut opened)?;
        let stream = stream(opened, format, tau2_bench::Header::default());
        Ok((stream.format(), stream.collect()))
    }

    #[test]
    fn stdin_starting_with_bracket_is_a_json_array() {
        let (format, records) = read_stdin("\n\n  [{\"run_id\": \"a\"},\n {\"run_id\": \"b\"}]").unwrap();
        assert_eq!(format, InputFormat::Json);
        let lines: Vec<usize> = records.iter().map(|record| record.as_ref().unwrap().location.line).collect();
        assert_eq!(lines, [3, 4]);
    }

    #[test]
    fn stdin_starting_with_brace_is_json_lines() {
        let (format, records) = read_stdin("\u{FEFF}\n{\"run_id\": \"a\"}\n{\"run_id\": \"b\"}\n").unwrap();
        assert_eq!(format, InputFormat::Jsonl);
        let location = &records[1].as_ref().unwrap().location;
        assert_eq!(location.to_string(), "<stdin>:3");
    }

    #[test]
    fn stdin_other_text_is_input_error() {
        let error = read_stdin("run_id: a\n").unwrap_err();
        assert!(matches!(error, InputError::UnknownStdinFormat { first: 'r' }), "{error:?}");
    }

    #[test]
    fn empty_stdin_has_no_records() {
        let (_, records) = read_stdin("  \n").unwrap();
        assert!(records.is_empty());
    }

    #[test]
    fn format_names_match_the_command_line_values() {
        use clap::ValueEnum;
        for format in InputFormat::value_variants() {
            let name = format.to_possible_value().unwrap().get_name().to_owned();
            assert_eq!(name, format.to_string());
        }
    }
}
