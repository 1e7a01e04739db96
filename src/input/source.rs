//! Opening a record source: a file or standard input.

use std::fs::File;
use std::io::{self, BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::error::InputError;
use super::scanner::BOM;

/// A record source: a file or standard input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    Path(PathBuf),
    Stdin,
}

/// The display name of standard input in locations and messages.
pub const STDIN_NAME: &str = "<stdin>";

/// Read buffer size. Large enough that line and element reads rarely refill.
const BUFFER_CAPACITY: usize = 64 * 1024;

/// A buffered reader over a source, with the name records of it carry.
pub struct OpenedSource {
    pub name: Arc<str>,
    pub reader: Box<dyn BufRead + Send>,
    /// The line the reader starts at. It is above 1 when the format sniffing of
    /// standard input consumed leading blank lines.
    pub first_line: usize,
}

impl Source {
    /// Returns the name that locations of this source's records carry.
    pub fn display_name(&self) -> Arc<str> {
        match self {
            Source::Path(path) => Arc::from(path.display().to_string()),
            Source::Stdin => Arc::from(STDIN_NAME),
        }
    }
}

/// Opens `path` for buffered reading.
pub fn open_path(path: &Path) -> Result<OpenedSource, InputError> {
    let metadata = std::fs::metadata(path).map_err(|error| InputError::from_open(path.to_owned(), error))?;
    if metadata.is_dir() {
        return Err(InputError::IsDirectory { path: path.to_owned() });
    }
    let file = File::open(path).map_err(|error| InputError::from_open(path.to_owned(), error))?;
    Ok(OpenedSource {
        name: Source::Path(path.to_owned()).display_name(),
        reader: Box::new(BufReader::with_capacity(BUFFER_CAPACITY, file)),
        first_line: 1,
    })
}

/// Opens standard input for buffered reading.
pub fn open_stdin() -> OpenedSource {
    OpenedSource {
        name: Arc::from(STDIN_NAME),
        reader: Box::new(BufReader::with_capacity(BUFFER_CAPACITY, io::stdin())),
        first_line: 1,
    }
}

/// Returns the first byte of the input that is not whitespace or a byte-order
/// mark, without consuming it, or `None` for empty input.
///
/// Whitespace before it is consumed, and `source.first_line` counts the newlines
/// in it so that the reader's line numbers stay right.
pub fn sniff_first_byte(source: &mut OpenedSource) -> io::Result<Option<u8>> {
    let mut at_start = true;
    loop {
        let buffer = source.reader.fill_buf()?;
        if buffer.is_empty() {
            return Ok(None);
        }
        // NOTE: a byte-order mark split across two reads of a pipe is not
        // recognised here, so the reader reports it as a malformed first record.
        if at_start && buffer.starts_with(BOM) {
            source.reader.consume(BOM.len());
            at_start = false;
            continue;
        }
        at_start = false;
        let blank = buffer.iter().take_while(|byte| byte.is_ascii_whitespace()).count();
        source.first_line += buffer[..blank].iter().filter(|&&byte| byte == b'\n').count();
        let next = buffer.get(blank).copied();
        source.reader.consume(blank);
        if next.is_some() {
            return Ok(next);
        }
    }
}
