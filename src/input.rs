//! Record input: reading run records from files or standard input, streamed.
//!
//! [`read_records`] opens a [`Source`] and returns a [`RecordStream`], an iterator
//! over [`Record`]s. Every reader keeps one record in memory at a time, so memory
//! does not grow with the number of records.
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
//! [`MAX_DEPTH`] levels. Numbers keep their source text and never pass through
//! `f64`. `docs/records.md` describes the formats and mappings for users.

mod canonical;
mod cursor;
mod depth;
mod error;
mod json_array;
mod jsonl;
mod location;
mod parse;
mod scanner;
mod source;
mod tau2_bench;
mod tau_bench;
mod yaml;

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
    /// `.yaml`/`.yml`); for standard input, from the first character.
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
/// in source order. After an error the stream goes on, unless the error says the
/// rest of the input is skipped (a failed read, or a structure the reader cannot
/// resynchronise after).
pub struct RecordStream {
    name: Arc<str>,
    format: InputFormat,
    records: Box<dyn Iterator<Item = Result<Record, RecordError>> + Send>,
}

impl RecordStream {
    /// The source's display name, as record locations carry it.
    pub fn source_name(&self) -> &str {
        &self.name
    }

    /// The format the source is read as; never [`InputFormat::Auto`].
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
/// With [`InputFormat::Auto`], a file's format comes from its extension; a `.json`
/// file is then looked into: an array whose first element has `traj` and `task_id`
/// is a tau-bench log, an object with a `simulations` key a tau2-bench file, and
/// anything else canonical JSON. Standard input starting with `[` is read as a
/// JSON array and starting with `{` as JSON Lines.
///
/// # Errors
///
/// [`InputError`] when the file cannot be opened, or its format cannot be told.
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

/// The format of a file named `path`, from its extension and, for `.json`, its content.
fn format_of_path(path: &Path) -> Result<InputFormat, InputError> {
    let extension = path.extension().and_then(|extension| extension.to_str()).map(str::to_ascii_lowercase);
    match extension.as_deref() {
        Some("jsonl" | "ndjson") => Ok(InputFormat::Jsonl),
        Some("yaml" | "yml") => Ok(InputFormat::Yaml),
        Some("json") => {
            let opened = open_path(path)?;
            detect_json_format(opened).map_err(|source| InputError::Unreadable { path: path.to_owned(), source })
        }
        _ => Err(InputError::UnknownExtension { path: path.to_owned() }),
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

/// The format of standard input, from its first character.
fn format_of_stdin(opened: &mut OpenedSource) -> Result<InputFormat, InputError> {
    let first = sniff_first_byte(opened).map_err(|source| InputError::StdinUnreadable { source })?;
    match first {
        None | Some(b'[') => Ok(InputFormat::Json),
        Some(b'{') => Ok(InputFormat::Jsonl),
        Some(byte) => Err(InputError::UnknownStdinFormat { first: char::from(byte) }),
    }
}
