//! Codes reported by subcommands beyond checking a policy: `semslo export`
//! (`semslo::export::*`), `semslo fmt` (`semslo::fmt::*`) and the inline tests a policy
//! set must pass before it goes live (`semslo::test::*`).

use super::CodeInfo;
use crate::diagnostic::Severity::{Error, Warning};

pub const CODES: &[CodeInfo] = &[
    CodeInfo {
        code: "semslo::export::invalid_name",
        severity: Error,
        summary: "an SLO or alert name does not fit in an OpenSLO name",
        explanation: "OpenSLO names are lowercase letters, digits and `-` (semslo writes `_` as `-`), with a \
            length limit that includes the suffixes semslo adds for the SLI and each alert. Shorten the SLO name, \
            or rename an alert that has no letter or digit.",
        example: None,
    },
    CodeInfo {
        code: "semslo::export::duplicate_name",
        severity: Error,
        summary: "two exported objects would get the same OpenSLO name",
        explanation: "Names are lowercased and `_` becomes `-`, so `orders_ok` and `orders-ok` collide. Rename \
            the SLO or alert so the exported names differ.",
        example: None,
    },
    CodeInfo {
        code: "semslo::export::invalid_duration",
        severity: Error,
        summary: "an SLO window or alert window is not a whole number of minutes",
        explanation: "OpenSLO durations count whole minutes, hours or days. Round the window, e.g. `90s` to \
            `2m`.",
        example: Some("alert page when burn rate > 14.4 over 1h and 90s"),
    },
    CodeInfo {
        code: "semslo::export::objective_not_expressible",
        severity: Warning,
        summary: "a 100% objective cannot be exported to OpenSLO",
        explanation: "An OpenSLO target must be below 1, so only the SLO's SLI is exported. Lower the objective \
            (e.g. to 99.99%) to export the SLO and its alerts; `semslo::lint::no_error_budget` explains why 100% \
            is a poor objective anyway.",
        example: None,
    },
    CodeInfo {
        code: "semslo::fmt::internal",
        severity: Error,
        summary: "`semslo fmt` could not format a file without changing its meaning",
        explanation: "The formatter checks that its output parses to the same policy and keeps every comment; \
            when it does not, the file is left unchanged and this is reported. It is a bug in `semslo fmt`: \
            please report it with the file.",
        example: None,
    },
    CodeInfo {
        code: "semslo::fmt::write_failed",
        severity: Error,
        summary: "`semslo fmt` could not write a formatted file",
        explanation: "Writing the file (through a temporary file renamed over it) failed, and the file was left \
            unchanged. Check the permissions of the file and its directory.",
        example: None,
    },
    CodeInfo {
        code: "semslo::test::failed",
        severity: Error,
        summary: "a `test` block of the policy set does not pass",
        explanation: "A policy set goes live (in the engine and `semslo serve`) only when all its inline tests \
            pass. The label points at the expectation that does not hold; run `semslo test` for the details, \
            then fix the rule or the test.",
        example: None,
    },
    CodeInfo {
        code: "semslo::engine::no_rules",
        severity: Error,
        summary: "a policy set without rules cannot go live in the engine",
        explanation: "A set without rules would judge every run good, and an emptied policy file is its usual \
            cause, so the engine and `semslo serve` keep the live set instead. Restore the rules; to stop \
            checking a workflow, stop its server.",
        example: None,
    },
];
