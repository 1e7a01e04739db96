//! Codes of name resolution and type checking: `semslo::check::*`.

use super::CodeInfo;
use crate::diagnostic::Severity::{Error, Warning};

pub const CODES: &[CodeInfo] = &[
    CodeInfo {
        code: "semslo::check::unknown_name",
        severity: Error,
        summary: "a name one typo away from a declared table, `let` or variable",
        explanation: "A name that is not declared is read as a top-level field of the run record. When it is \
            one edit away from a declared name, it is almost surely a typo that would make the rule read a \
            field that never exists, so it is an error. Fix the spelling; if the record really has such a \
            field, write `record.NAME`.",
        example: Some(
            "use \"data/vendors.csv\" as deprioritized_vendors key vendor_id\n\
            rule r { expect outcome.vendor.id not in deprioritised_vendors }",
        ),
    },
    CodeInfo {
        code: "semslo::check::unknown_field",
        severity: Warning,
        summary: "a top-level name one typo away from a canonical record field",
        explanation: "The canonical run record has `run_id`, `workflow`, `started_at`, `finished_at`, `steps`, \
            `outcome`, `checkpoints`, `labels`, `task`, `agent` and `request`. A top-level name close to one of \
            them is probably misspelt. If your records do carry the field, write `record.NAME` to say so and \
            silence the warning. `semslo::lint::unknown_field` checks whole paths against a schema or samples.",
        example: Some("rule r { expect outcme.total > 0 }"),
    },
    CodeInfo {
        code: "semslo::check::unknown_function",
        severity: Error,
        summary: "a call to a function that does not exist",
        explanation: "The functions are listed in the language reference (`len`, `lower`, `upper`, `trim`, \
            `abs`, `min`, `max`, `sum`, `round`, `date`, `timestamp`, `days`, `hours`, `minutes`, `seconds`, \
            `add_days`, `add_months`, `parse_json`, `keys`, `values`, `number`, `text`, `distinct`). The help \
            suggests the closest one.",
        example: Some("expect lenght(outcome.lines) > 0"),
    },
    CodeInfo {
        code: "semslo::check::wrong_argument_count",
        severity: Error,
        summary: "a function is called with too few or too many arguments",
        explanation: "Each function takes a fixed number of arguments (`round` takes one or two; `min` and \
            `max` take a list or several values). The message states how many it takes.",
        example: Some("expect round() > 0"),
    },
    CodeInfo {
        code: "semslo::check::type_mismatch",
        severity: Error,
        summary: "values of types that cannot meet",
        explanation: "Comparing text with a number, a duration with a date, doing arithmetic on text, or using \
            a value that is not true or false as a condition can never work, so it is reported before any run \
            is checked. Convert one side explicitly with `number(x)`, `text(x)`, `date(x)` or `timestamp(x)`. \
            Text from a record may meet a date or timestamp: it is parsed then.",
        example: Some("expect outcome.total == \"10\"\nexpect outcome.lead_time > 2025-01-01"),
    },
    CodeInfo {
        code: "semslo::check::invalid_regex",
        severity: Error,
        summary: "a regex literal does not compile",
        explanation: "Regexes use the syntax of Rust's `regex` crate: no look-around and no backreferences, \
            which keeps matching linear in the text's length. Write `\\/` for a slash inside `/.../`.",
        example: Some("expect outcome.sku matches /(?<=A)B/"),
    },
    CodeInfo {
        code: "semslo::check::invalid_literal",
        severity: Error,
        summary: "a date, timestamp, duration, number, window or cost that does not parse",
        explanation: "Dates are `YYYY-MM-DD` with a real month and day, timestamps are RFC 3339 with an offset \
            (`2025-06-01T09:30:00Z`), durations are whole numbers with units `w d h m s ms`, numbers have at \
            most 28 significant digits, SLO windows are positive, `minimum N runs` is a whole number and \
            costs are non-negative. Fix the literal the label points at.",
        example: Some("waive when run_id == \"po-1\" until 2025-02-30"),
    },
    CodeInfo {
        code: "semslo::check::table_as_value",
        severity: Error,
        summary: "a table is used where a value is expected",
        explanation: "A table can only be tested for membership (`x in table`) or looked up (`table[key]`, \
            then a column such as `table[key].limit`).",
        example: Some("expect outcome.total < approval_limits"),
    },
    CodeInfo {
        code: "semslo::check::missing_event_time",
        severity: Error,
        summary: "the policy needs each run's time but declares no `event time`",
        explanation: "Effective-dated tables, waivers and SLO windows judge each run at its own time, never at \
            the wall clock. Declare which field holds it, e.g. `event time outcome.created_at`.",
        example: None,
    },
    CodeInfo {
        code: "semslo::check::duplicate_rule",
        severity: Error,
        summary: "two rules share a name",
        explanation: "Rule names identify verdicts, SLO conditions and tests across the whole policy set, in \
            every file. Rename one of the rules.",
        example: None,
    },
    CodeInfo {
        code: "semslo::check::duplicate_name",
        severity: Error,
        summary: "a table or `let` name is declared twice",
        explanation: "Tables and `let`s of a file share one namespace, and a rule's own `let`s may not reuse a \
            table name or each other's names. Rename one of them.",
        example: None,
    },
    CodeInfo {
        code: "semslo::check::duplicate_slo",
        severity: Error,
        summary: "two SLOs share a name",
        explanation: "SLO names identify dashboards, alerts and test expectations. Rename one of them.",
        example: None,
    },
    CodeInfo {
        code: "semslo::check::duplicate_test",
        severity: Error,
        summary: "two tests share a name",
        explanation: "Test names identify results in reports and JUnit output. Rename one of them.",
        example: None,
    },
    CodeInfo {
        code: "semslo::check::duplicate_costs",
        severity: Error,
        summary: "more than one file of the set declares `costs`",
        explanation: "The costs of a workflow are stated once per policy set. Keep one `costs` block.",
        example: None,
    },
    CodeInfo {
        code: "semslo::check::invalid_objective",
        severity: Error,
        summary: "an SLO objective outside (0%, 100%]",
        explanation: "The objective is the target share of good runs, above 0% and at most 100%. Note that \
            100% leaves no error budget at all: any single bad run burns it completely, so alerts fire on \
            the first failure; `99.9%` is a common strict target.",
        example: Some("objective 150% over 28d"),
    },
    CodeInfo {
        code: "semslo::check::invalid_alert",
        severity: Error,
        summary: "an alert without a positive burn-rate factor and two positive windows",
        explanation: "An alert reads `alert NAME when burn rate > FACTOR over LONG and SHORT`: it fires when \
            the budget burns faster than FACTOR over both windows.",
        example: Some("alert page when burn rate > 0 over 1h and 5m"),
    },
    CodeInfo {
        code: "semslo::check::alert_windows",
        severity: Warning,
        summary: "an alert's short window is not shorter than its long one, or its long window exceeds the SLO window",
        explanation: "A multi-window burn-rate alert needs the short window (often 1/12 of the long one) to \
            reset quickly once a burn stops, so it must be the shorter one. A long window longer than the SLO's \
            window measures runs the objective does not cover. Swap or shorten the windows.",
        example: Some("alert page when burn rate > 14.4 over 5m and 1h"),
    },
    CodeInfo {
        code: "semslo::check::unknown_time_zone",
        severity: Error,
        summary: "an SLO names a time zone that does not exist",
        explanation: "Calendar windows begin at midnight in the SLO's time zone, an IANA name such as \
            `Europe/Berlin` or `America/New_York`. The help suggests the closest name.",
        example: Some("time zone \"Europe/Berlim\""),
    },
    CodeInfo {
        code: "semslo::check::unknown_rule",
        severity: Error,
        summary: "an SLO or test names a rule (or SLO) that does not exist",
        explanation: "`good when rules a, b pass` and `expect NAME ...` in tests must name rules or SLOs defined \
            somewhere in the policy set. The help suggests the closest name.",
        example: None,
    },
    CodeInfo {
        code: "semslo::check::shadow_rule_in_slo",
        severity: Warning,
        summary: "an SLO explicitly counts a rule that is in `shadow` mode",
        explanation: "Shadow rules are tried on live runs without affecting SLOs; naming one in `good when \
            rules ... pass` makes it count after all. Switch the rule to `mode enforce`, or leave it out of the \
            SLO.",
        example: None,
    },
    CodeInfo {
        code: "semslo::check::invalid_test_record",
        severity: Error,
        summary: "a test's record cannot be loaded or is not a JSON object",
        explanation: "`given record \"FILE\"` reads one JSON object or YAML document relative to the policy; \
            `given record { ... }` is inline JSON. The message says what is wrong.",
        example: None,
    },
    CodeInfo {
        code: "semslo::check::test_verdict_mismatch",
        severity: Error,
        summary: "a test expects an SLO verdict of a rule, or a rule verdict of an SLO",
        explanation: "Rules `pass`, `fail`, `skip` or `error`; a run is `good`, `bad` or `not valid` for an \
            SLO. Use the verdict that fits the target.",
        example: Some("expect vendor_not_deprioritized good"),
    },
];
