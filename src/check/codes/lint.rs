//! Codes of the lint-only checks: `semslo::lint::*`.

use super::CodeInfo;
use crate::diagnostic::Severity::{Error, Warning};

pub const CODES: &[CodeInfo] = &[
    CodeInfo {
        code: "semslo::lint::unused_declaration",
        severity: Warning,
        summary: "a `use` table, a `let` or a declared segment that nothing refers to",
        explanation: "Unused declarations are usually left over from an edit, or the place meant to use them \
            names something else. A table or top-level `let` counts as used when any expression of its file \
            reads it; a rule's `let` when a later `let` or a condition of the rule reads it; a segment on the \
            `segments` line when some rule of the set names it with `segment`. Remove the declaration or use \
            it.",
        example: Some("let big_order = 10000\nrule r { expect outcome.total > 10000 }"),
    },
    CodeInfo {
        code: "semslo::lint::constant_condition",
        severity: Warning,
        summary: "a condition with the same value on every run",
        explanation: "A `when`, `expect` or `valid when` that reads only literals (or `let`s of literals) does \
            not depend on the run, so the rule applies to all runs or none, or passes or fails whatever the \
            agent did. A comparison of a field path with itself (`a.b == a.b`) is likewise always true or \
            always false. With a record schema, `PATH exists` is constant when the schema requires the path. \
            Compare a field of the run, or remove the condition. Waiver conditions are not checked, because \
            `waive when true until DATE` deliberately pauses a rule.",
        example: Some("rule r {\n  when 1 > 0\n  expect outcome.total == outcome.total\n}"),
    },
    CodeInfo {
        code: "semslo::lint::trial_mode_expired",
        severity: Warning,
        summary: "a rule still in `shadow` or `warn` mode after its trial date",
        explanation: "`mode shadow until DATE` (or `mode warn until DATE`) states when the trial of a new rule \
            should be decided. Once `--today` (by default the current UTC date) is past that date, the rule \
            should be enforced, or its trial extended with a later date on purpose.",
        example: Some("rule r {\n  mode shadow until 2025-01-31\n  expect outcome.total > 0\n}"),
    },
    CodeInfo {
        code: "semslo::lint::expired_waiver",
        severity: Error,
        summary: "a waiver whose `until` date has passed",
        explanation: "`waive when CONDITION until DATE` excuses matching runs whose event time is before DATE. \
            Once `--today` (by default the current UTC date) is past DATE, the waiver no longer excuses new runs \
            and only clutters the rule, so lint fails on it: remove it, or renew it with a later date and a \
            reason.",
        example: Some(
            "rule r {\n  waive when run_id == \"po-7\" until 2025-01-31 reason \"vendor contract\"\n  expect outcome.total > 0\n}",
        ),
    },
    CodeInfo {
        code: "semslo::lint::band_gap",
        severity: Warning,
        summary: "values that fall in no band of a band table",
        explanation: "A band table is a reference table whose rows all have `min` and `max` columns (or whose \
            rows are lists of such bands). Within a group (same `group` column, else same `category` column, \
            else the bands of one row, else the whole table, and for effective-dated tables the same validity \
            interval) the bands should cover the line without holes. Edges are inclusive unless an `edges` \
            column says `[)`, `(]` or `()`. A run whose value falls in the gap matches no band. Make the bands \
            meet: end one at the next one's `min` with `edges` `[)`.",
        example: Some("tier,min,max\nsmall,0,999\nlarge,1000,"),
    },
    CodeInfo {
        code: "semslo::lint::band_overlap",
        severity: Warning,
        summary: "two bands of a band table share values",
        explanation: "A value in the shared range belongs to both bands, so the band that applies depends on \
            the row a lookup reaches. Bands written as `0..1000` and `1000..5000` with inclusive edges share \
            1000; give one of them `edges` `[)` (or `(]`), or end the first band below the second one's `min`. \
            See `semslo::lint::band_gap` for what counts as a band table.",
        example: Some("tier,min,max\nsmall,0,1000\nlarge,1000,"),
    },
    CodeInfo {
        code: "semslo::lint::invalid_band",
        severity: Warning,
        summary: "a band that cannot be compared or contains no value",
        explanation: "In a band table, `min` and `max` are numbers, dates or timestamps (empty for an open end) \
            of one kind, `edges` is `[]`, `[)`, `(]` or `()`, and `min` is at most `max`. A row that breaks this \
            is left out of the gap and overlap checks. Fix the row.",
        example: Some("tier,min,max\nsmall,1000,0"),
    },
    CodeInfo {
        code: "semslo::lint::duplicate_column",
        severity: Error,
        summary: "a CSV reference file names a column twice",
        explanation: "Each row keeps only the last cell of a repeated column, so the other one is silently \
            ignored; when it is the key or a validity column, lookups use whichever cell comes last. Rename or \
            remove one of the columns.",
        example: Some("vendor_id,name,vendor_id\nV-17,Quarry Hill Supply,V-71"),
    },
    CodeInfo {
        code: "semslo::lint::effective_overlap",
        severity: Error,
        summary: "two rows of an effective-dated table are in force at once for one key",
        explanation: "With `effective FROM..UNTIL`, each row is valid from FROM (inclusive) until UNTIL \
            (exclusive). Two rows of one key whose intervals overlap make a lookup at a time in both ambiguous: \
            the row listed first wins, which the data does not say. End the earlier row's validity where the \
            later one begins.",
        example: Some("workflow,limit,since,until\nprocurement,10000,2025-01-01,\nprocurement,15000,2025-10-01,"),
    },
    CodeInfo {
        code: "semslo::lint::empty_validity",
        severity: Warning,
        summary: "a row of an effective-dated table that is never in force",
        explanation: "The row's UNTIL is not after its FROM, so no instant falls in its interval. The dates are \
            probably swapped or mistyped.",
        example: Some("vendor_id,since,until\nV-17,2025-06-01,2025-01-01"),
    },
    CodeInfo {
        code: "semslo::lint::no_error_budget",
        severity: Warning,
        summary: "an SLO objective of exactly 100%",
        explanation: "The error budget is 1 - objective, so 100% leaves none: the first bad run exhausts it and \
            fires every burn-rate alert, and the SLO cannot tell a bad day from one mistake. Pick a target you \
            can meet, such as `99.9%`. Objectives outside (0%, 100%] are errors \
            (`semslo::check::invalid_objective`).",
        example: Some("slo orders_correct {\n  objective 100% over 28d\n}"),
    },
    CodeInfo {
        code: "semslo::lint::no_rules",
        severity: Error,
        summary: "a policy set without any rule",
        explanation: "A set without rules judges nothing and would pass every run, so `semslo check` refuses \
            it (exit 2) and the engine does not load it (`semslo::engine::no_rules`). This usually means that \
            `--policy` names a file of shared tables and `let`s rather than the directory of the set, or that \
            the rules are still to be written. Add a rule, or point `--policy` at the files that hold the \
            rules.",
        example: Some("use \"data/vendors.csv\" as vendors key id\nlet big_order = 10000"),
    },
    CodeInfo {
        code: "semslo::lint::unknown_field",
        severity: Warning,
        summary: "a field path the run records do not have",
        explanation: "With a record schema (`schema \"FILE\"` in a policy, a JSON Schema beside it), every path \
            a rule or SLO reads is followed through `properties`, `items`, `$ref`, `allOf`/`anyOf`/`oneOf`; a \
            field the schema does not list (where `additionalProperties` is not `true`) is reported with the \
            closest listed name. With sample runs (`semslo lint --records FILE`), a path present in none of the \
            runs is reported with the closest field the runs have there. A rule reading such a path skips or \
            errors on every run. Fix the path, or add the field to the schema.",
        example: Some("schema \"schemas/run.schema.json\"\nrule r { expect outcome.vendr.id != \"\" }"),
    },
    CodeInfo {
        code: "semslo::lint::rarely_present",
        severity: Warning,
        summary: "a field path that fewer than half of the sample runs have",
        explanation: "A `when` that reads a missing field skips the run (\"skip: field missing\"), so a rule \
            whose condition reads a rarely present field silently judges only a few runs; an `expect` errors \
            instead. Runs in which a list on the way is empty are not counted. If the field is optional by \
            design, say so with `exists`, `is missing` or `otherwise DEFAULT`, which silences the warning.",
        example: Some("rule r {\n  when outcome.discount > 0\n  expect outcome.discount_approved == true\n}"),
    },
    CodeInfo {
        code: "semslo::lint::never_applied",
        severity: Warning,
        summary: "a rule whose `when` held on none of the sample runs",
        explanation: "Every sample run skipped the rule, because its `when` was false, read a missing field, or \
            a waiver covered the run. Either the condition is wrong (a misspelt value, a field that moved) or \
            the samples lack the runs the rule is for. Check the condition against real runs, or add samples \
            the rule should judge.",
        example: Some("rule r {\n  when outcome.type == \"purchase-order\"\n  expect outcome.total > 0\n}"),
    },
    CodeInfo {
        code: "semslo::lint::invalid_schema",
        severity: Error,
        summary: "the record schema a policy names cannot be used",
        explanation: "The file named by `schema \"FILE\"` is missing, outside the policy directory, not valid \
            JSON, not a JSON Schema object, or has a `$ref` lint cannot follow (only references inside the \
            document, such as `#/definitions/step` or `#/$defs/step`, are followed; paths below any other \
            reference are not checked). Fix the path or the schema.",
        example: None,
    },
    CodeInfo {
        code: "semslo::lint::no_samples",
        severity: Warning,
        summary: "`--records` was given, but no sample run could be read",
        explanation: "The sample-based checks (`unknown_field` from samples, `rarely_present`, \
            `never_applied`) need at least one well-formed run. Check the files and `--input-format`.",
        example: None,
    },
];
