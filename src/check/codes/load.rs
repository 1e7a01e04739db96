//! Codes of loading policy files and reference data: `semslo::load::*`.

use super::CodeInfo;
use crate::diagnostic::Severity::Error;

pub const CODES: &[CodeInfo] = &[
    CodeInfo {
        code: "semslo::load::not_found",
        severity: Error,
        summary: "the policy path does not exist or cannot be opened",
        explanation: "The path given to `semslo check --policy`, `semslo test` or `semslo lint` must be a `.slo` \
            file or a directory. Relative paths start at the current directory. Check the spelling and the \
            permissions.",
        example: None,
    },
    CodeInfo {
        code: "semslo::load::unreadable",
        severity: Error,
        summary: "a policy file or directory cannot be read",
        explanation: "The file or directory exists but reading it failed; the message carries the operating \
            system's reason. Check its permissions.",
        example: None,
    },
    CodeInfo {
        code: "semslo::load::not_utf8",
        severity: Error,
        summary: "a policy file is not UTF-8 text",
        explanation: "Policy files are UTF-8 (a byte-order mark is allowed). Save the file as UTF-8 in your \
            editor.",
        example: None,
    },
    CodeInfo {
        code: "semslo::load::no_policies",
        severity: Error,
        summary: "a directory holds no `.slo` files",
        explanation: "A policy directory is searched recursively for files ending in `.slo`. Point at the \
            directory that holds them, or rename the files.",
        example: None,
    },
    CodeInfo {
        code: "semslo::load::invalid_data",
        severity: Error,
        summary: "reference data named by a `use` line cannot be loaded",
        explanation: "The data file is missing, is not valid CSV, JSON or YAML, lacks the `key` column or the \
            `effective` columns on some row, repeats a key in a table that is not effective-dated, or has a \
            validity cell that is not a date or timestamp. The message names the file and row. Fix the data, \
            or the `use` line: `key COLUMN` must name a column every row has, and keys must be unique unless \
            the rows carry validity dates (`effective FROM..UNTIL`).",
        example: Some("use \"data/vendors.csv\" as vendors key vendor_id"),
    },
    CodeInfo {
        code: "semslo::load::data_outside_policy",
        severity: Error,
        summary: "a `use`, `schema` or test record path leaves the policy directory",
        explanation: "Paths are relative to the policy file's directory and may not leave it: no absolute \
            paths, no `..` above it, no symbolic links pointing out. This keeps a policy set self-contained \
            and its hash meaningful. Copy the file into the policy directory.",
        example: Some("use \"../shared/vendors.csv\" as vendors key vendor_id"),
    },
];
