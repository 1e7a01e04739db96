//! Errors of the record-input stage.
//!
//! Two kinds, kept apart because callers treat them differently:
//! - [`RecordError`]: one record could not be read. It is reported and counted,
//!   and the reader goes on with the next record.
//! - [`InputError`]: the source as a whole cannot be read (missing file, unknown
//!   format). Nothing is read from it.

use std::io;
use std::path::PathBuf;

use super::location::Location;

/// One malformed record, with the line it starts on and what is wrong with it.
///
/// `reason` names the exact place when it differs from `location` (for example
/// `expected `,` or `}` after an object entry at line 14 column 9`).
///
/// A reader yields this error and then continues with the next record, except
/// after a failed read of the source itself (an I/O error mid-stream) or a
/// YAML/JSON structure it cannot resynchronise after. There the reason states
/// that the rest is skipped, and the error is the last item of the stream.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, miette::Diagnostic)]
#[error("malformed record at {location}: {reason}")]
#[diagnostic(
    code(semslo::input::malformed_record),
    help("fix or remove this record in the source; the other records are still read")
)]
pub struct RecordError {
    pub location: Location,
    pub reason: String,
}

impl RecordError {
    pub fn new(location: Location, reason: impl Into<String>) -> Self {
        RecordError { location, reason: reason.into() }
    }
}

/// A source that cannot be read at all.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[non_exhaustive]
pub enum InputError {
    #[error("input file `{}` not found", path.display())]
    #[diagnostic(
        code(semslo::input::not_found),
        help("check the path; relative paths start at the current working directory")
    )]
    NotFound { path: PathBuf },

    #[error("input `{}` is a directory, not a record file", path.display())]
    #[diagnostic(
        code(semslo::input::is_directory),
        help("name one record file (.jsonl, .ndjson, .json, .yaml or .yml)")
    )]
    IsDirectory { path: PathBuf },

    #[error("cannot read input file `{}`: {source}", path.display())]
    #[diagnostic(
        code(semslo::input::unreadable),
        help("check that the file exists and that its permissions allow reading it")
    )]
    Unreadable {
        path: PathBuf,
        #[source]
        source: io::Error,
    },

    #[error("cannot read standard input: {source}")]
    #[diagnostic(code(semslo::input::unreadable))]
    StdinUnreadable {
        #[source]
        source: io::Error,
    },

    #[error("cannot tell the record format of `{}` from its extension", path.display())]
    #[diagnostic(
        code(semslo::input::unknown_format),
        help(
            "name the format with --input-format (jsonl, json, yaml, tau-bench or tau2-bench), \
             or rename the file to end in .jsonl, .ndjson, .json, .yaml or .yml"
        )
    )]
    UnknownExtension { path: PathBuf },

    #[error("cannot tell the record format of standard input, which starts with `{first}`")]
    #[diagnostic(
        code(semslo::input::unknown_format),
        help(
            "input starting with `[` is read as a JSON array and input starting with `{{` as \
             JSON Lines; for anything else, name the format with --input-format \
             (jsonl, json, yaml, tau-bench or tau2-bench)"
        )
    )]
    UnknownStdinFormat { first: char },
}

impl InputError {
    /// Classifies a failed open or metadata call on `path`.
    pub(crate) fn from_open(path: PathBuf, source: io::Error) -> Self {
        match source.kind() {
            io::ErrorKind::NotFound => InputError::NotFound { path },
            io::ErrorKind::IsADirectory => InputError::IsDirectory { path },
            _ => InputError::Unreadable { path, source },
        }
    }
}
