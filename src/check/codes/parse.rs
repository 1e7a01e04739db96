//! Codes of the syntax stage: `semslo::parse::*`.

use super::CodeInfo;
use crate::diagnostic::Severity::Error;

pub const CODES: &[CodeInfo] = &[
    CodeInfo {
        code: "semslo::parse::unexpected_token",
        severity: Error,
        summary: "a syntax error: the parser found something it did not expect",
        explanation: "The label points at the first token that does not fit, and the message lists what could \
            come there instead. Each top-level item (`rule`, `slo`, `use`, ...) is parsed on its own, so one \
            syntax error does not hide errors in the next item. Common causes: a missing closing brace or \
            quote, a keyword used as a name (write `record.NAME` for a record field named like a keyword), or \
            a property outside a `rule` block.",
        example: Some("rule r {\n  expect outcome.total > 10 and\n}"),
    },
    CodeInfo {
        code: "semslo::parse::too_deep",
        severity: Error,
        summary: "brackets or expressions nest deeper than the parser allows",
        explanation: "Brackets nest at most 32 levels and expressions at most 100, so a hostile or generated \
            policy cannot exhaust the stack. Split the expression into named parts with `let` bindings.",
        example: None,
    },
    CodeInfo {
        code: "semslo::parse::invalid_escape",
        severity: Error,
        summary: "a string contains an unknown `\\` escape",
        explanation: "Strings accept the escapes `\\\"`, `\\\\`, `\\n`, `\\r`, `\\t` and `\\u{HEX}`. Any other \
            backslash sequence is rejected instead of being kept as written. Double the backslash to write \
            one, or use a regex literal (`/.../`), where backslashes keep their regex meaning.",
        example: Some("expect outcome.note == \"C:\\temp\""),
    },
    CodeInfo {
        code: "semslo::parse::duplicate_property",
        severity: Error,
        summary: "a rule or SLO gives a property twice",
        explanation: "`title`, `severity`, `mode`, `segment`, `owner` and `when` may appear once per rule (only \
            `let`, `expect` and `waive` repeat); in an SLO only `alert` and `by` repeat. Join two conditions \
            with `and`, or remove the extra line.",
        example: Some("rule r {\n  when outcome.type == \"po\"\n  when outcome.total > 0\n  expect true\n}"),
    },
    CodeInfo {
        code: "semslo::parse::missing_expect",
        severity: Error,
        summary: "a rule or test has no `expect`",
        explanation: "A rule without `expect` asserts nothing, and a test without `expect` checks nothing. Add \
            at least one `expect` line: a condition in a rule, or `expect RULE passes|fails|skips|errors` \
            (`expect SLO good|bad|not valid`) in a test.",
        example: None,
    },
    CodeInfo {
        code: "semslo::parse::missing_given",
        severity: Error,
        summary: "a test has no `given record`",
        explanation: "A `test` block evaluates the policy on one run, which it names with `given record \
            \"FILE\"` (a JSON or YAML file relative to the policy) or `given record { ... }` (inline JSON).",
        example: None,
    },
    CodeInfo {
        code: "semslo::parse::missing_objective",
        severity: Error,
        summary: "an SLO has no `objective`",
        explanation: "An SLO needs its target and window, e.g. `objective 99.5% over 28d` or `objective 99% \
            over calendar month`; without it there is no error budget to measure.",
        example: None,
    },
    CodeInfo {
        code: "semslo::parse::regex_not_allowed",
        severity: Error,
        summary: "a regex after `starts with` or `ends with`",
        explanation: "`starts with` and `ends with` compare plain text. For a pattern, use `matches /RE/` (the \
            whole text must match, so `matches /ABC-.*/` is a prefix test) or `contains /RE/` (anywhere).",
        example: Some("expect outcome.sku starts with /[A-Z]{3}/"),
    },
    CodeInfo {
        code: "semslo::parse::duplicate_policy_name",
        severity: Error,
        summary: "a file declares `policy NAME` twice",
        explanation: "A file has at most one `policy` line naming it. Remove one of them.",
        example: None,
    },
    CodeInfo {
        code: "semslo::parse::duplicate_event_time",
        severity: Error,
        summary: "a file declares `event time` twice",
        explanation: "The event time is the one instant each run is judged at (for effective-dated data, \
            waivers and SLO windows), so a file declares it once. Keep the line that names the right field.",
        example: None,
    },
    CodeInfo {
        code: "semslo::parse::duplicate_schema",
        severity: Error,
        summary: "a file declares `schema` twice",
        explanation: "A file names at most one JSON Schema for its run records. Keep one `schema \"FILE\"` \
            line; other files of the set without a `schema` line use the first one declared.",
        example: None,
    },
    CodeInfo {
        code: "semslo::parse::duplicate_segments",
        severity: Error,
        summary: "a file has two `segments` lines",
        explanation: "The `segments` line lists every segment in run order, which decides the segment a bad run \
            is attributed to. Merge the lines into one.",
        example: None,
    },
    CodeInfo {
        code: "semslo::parse::duplicate_costs",
        severity: Error,
        summary: "a file has two `costs` blocks",
        explanation: "Costs describe the workflow once. Merge the blocks into one `costs { ... }`.",
        example: None,
    },
];
