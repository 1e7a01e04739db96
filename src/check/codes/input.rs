//! Codes of reading run records: `semslo::input::*`.

use super::CodeInfo;
use crate::diagnostic::Severity::{Error, Warning};

pub const CODES: &[CodeInfo] = &[
    CodeInfo {
        code: "semslo::input::not_found",
        severity: Error,
        summary: "a record file does not exist",
        explanation: "A path given with `--records` was not found. Relative paths start at the current \
            directory.",
        example: None,
    },
    CodeInfo {
        code: "semslo::input::is_directory",
        severity: Error,
        summary: "a record path is a directory",
        explanation: "`--records` takes files (`.jsonl`, `.ndjson`, `.json`, `.yaml`, `.yml`) or `-` for \
            standard input. Name each file, e.g. with a shell glob.",
        example: None,
    },
    CodeInfo {
        code: "semslo::input::unreadable",
        severity: Error,
        summary: "a record file or standard input cannot be read",
        explanation: "Opening or reading the input failed; the message carries the operating system's reason. \
            Check the permissions.",
        example: None,
    },
    CodeInfo {
        code: "semslo::input::unknown_format",
        severity: Error,
        summary: "the format of a record source cannot be told",
        explanation: "Formats are taken from the extension (`.jsonl`/`.ndjson`, `.json`, `.yaml`/`.yml`) or, on \
            standard input, from the first character (`[` a JSON array, `{` JSON Lines). Name the format with \
            `--input-format` (jsonl, json, yaml, tau-bench, tau2-bench) or rename the file.",
        example: None,
    },
    CodeInfo {
        code: "semslo::input::malformed_record",
        severity: Warning,
        summary: "one record could not be parsed",
        explanation: "The record is reported with its file, line and reason, counted, and skipped; the rest of \
            the input is still read. `semslo check` counts it as rejected input; `semslo lint --records` \
            reports it as a warning because samples only inform the field checks. Fix or remove the record.",
        example: None,
    },
];
