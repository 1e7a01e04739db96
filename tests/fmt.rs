//! `semslo fmt`: layout snapshots, the formatter's guarantees on every policy in the
//! repository and on generated ones, and the command as users run it.
//!
//! Three guarantees are checked for every file. Formatting twice gives the same text as
//! formatting once. The result parses to the same AST as the original once spans are
//! erased. The multiset of comment texts does not change. The layout cases are the
//! files `tests/data/fmt/*.slo`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, SystemTime};

use proptest::prelude::*;
use semslo::diagnostic::SourceFile;
use semslo::fmt::{self, FormatError, comment_texts, meaning};
use semslo::syntax::{self, ast::PolicyFile};

/// Exit statuses of `semslo fmt`, as documented in docs/fmt.md.
const EXIT_SUCCESS: i32 = 0;
const EXIT_WOULD_CHANGE: i32 = 1;
const EXIT_NOT_FORMATTED: i32 = 2;

fn repository() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn parse(name: &str, text: &str) -> Option<PolicyFile> {
    let (file, diagnostics) = syntax::parse(&SourceFile::from_text(name, text));
    diagnostics.iter().all(|d| !d.is_error()).then_some(file)
}

fn format(name: &str, text: &str) -> String {
    match fmt::format_text(name, text) {
        Ok(formatted) => formatted,
        Err(FormatError::Invalid(diagnostics)) => panic!("{name} does not parse: {diagnostics:?}"),
        Err(FormatError::Internal(diagnostic)) => panic!("{name}: {}\n--- input\n{text}", diagnostic.message),
    }
}

fn sorted_comments(text: &str) -> Vec<String> {
    let mut comments = comment_texts(text);
    comments.sort();
    comments
}

/// Checks the three guarantees on one policy that parses, and returns the formatted text.
fn assert_guarantees(name: &str, text: &str) -> String {
    let original = parse(name, text).expect("the original parses");
    let once = format(name, text);
    let twice = format(name, &once);
    assert_eq!(once, twice, "{name}: formatting is not idempotent\n--- input\n{text}");
    let formatted = parse(name, &once).unwrap_or_else(|| panic!("{name}: the formatted text does not parse\n{once}"));
    assert!(
        meaning::same_meaning(&original, &formatted),
        "{name}: the AST changed\n--- input\n{text}\n--- output\n{once}"
    );
    assert_eq!(sorted_comments(text), sorted_comments(&once), "{name}: comments changed\n--- output\n{once}");
    once
}

/// Lists every `.slo` file under `dir`, in path order.
fn slo_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "slo") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

// ---------------------------------------------------------------- layout

#[test]
fn layout_cases_match_snapshots() {
    insta::glob!("data/fmt/*.slo", |path| {
        let text = std::fs::read_to_string(path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy();
        insta::assert_snapshot!(assert_guarantees(&name, &text));
    });
}

#[test]
fn formatted_layout_cases_are_left_as_they_are() {
    for path in slo_files(&repository().join("tests/data/fmt")) {
        let text = std::fs::read_to_string(&path).unwrap();
        let once = format("case.slo", &text);
        assert_eq!(format("case.slo", &once), once, "{}", path.display());
    }
}

#[test]
fn procurement_policy_is_formatted() {
    for path in slo_files(&repository().join("policies/procurement")) {
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(format("p.slo", &text), text, "run `semslo fmt {}`", path.display());
    }
}

#[test]
fn numbers_and_strings_keep_their_text() {
    let text = "let a = 10_000 + 14.20 + 99.5% + 1h30m\nlet b = \"\\u{1F600}\\t\" == 'x'\n".replace('\'', "\"");
    let formatted = format("t.slo", &text);
    assert!(formatted.contains("10_000 + 14.20 + 99.5% + 1h30m"), "{formatted}");
    assert!(formatted.contains("\"\\u{1F600}\\t\""), "{formatted}");
}

#[test]
fn json_numbers_keep_their_text() {
    let text =
        "test \"t\" { given record {\"a\": 0.30, \"b\": -1.5E+3, \"c\": 12345678901234567890123} expect r passes }";
    let formatted = format("t.slo", text);
    for number in ["0.30", "-1.5E+3", "12345678901234567890123"] {
        assert!(formatted.contains(number), "{number} in {formatted}");
    }
}

#[test]
fn precedence_decides_parentheses() {
    let cases = [
        ("expect ((a))", "expect   a"),
        ("expect (a and b) or c", "expect   (a and b) or c"),
        ("expect a and (b or c)", "expect   a and (b or c)"),
        ("expect (a or b) or c", "expect   a or b or c"),
        ("expect a or (b or c)", "expect   a or (b or c)"),
        ("expect (a + b) * c", "expect   (a + b) * c"),
        ("expect a - (b - c)", "expect   a - (b - c)"),
        ("expect (a - b) - c", "expect   a - b - c"),
        ("expect -(a.b)", "expect   -a.b"),
        ("expect (-a).b", "expect   (-a).b"),
        ("expect not (a in b)", "expect   not (a in b)"),
        ("expect (any s in xs satisfies s) and b", "expect   (any s in xs satisfies s) and b"),
        ("expect b and (any s in xs satisfies s)", "expect   b and any s in xs satisfies s"),
        ("expect (first s in xs where s.ok).name", "expect   (first s in xs where s.ok).name"),
        ("expect (if a then b else c) + 1", "expect   (if a then b else c) + 1"),
    ];
    for (input, expected) in cases {
        let formatted = format("t.slo", &format!("rule r {{ {input} }}"));
        assert_eq!(formatted, format!("rule r {{\n  {expected}\n}}\n"), "{input}");
    }
}

#[test]
fn long_expression_breaks_before_and() {
    let condition = (0..8).map(|i| format!("outcome.field_number_{i} == {i}")).collect::<Vec<_>>().join(" and ");
    let formatted = format("t.slo", &format!("rule r {{ expect {condition} }}"));
    let lines: Vec<&str> = formatted.lines().collect();
    assert_eq!(lines[1], "  expect   outcome.field_number_0 == 0");
    assert_eq!(lines[2], "           and outcome.field_number_1 == 1");
    assert!(formatted.lines().all(|line| line.chars().count() <= fmt::WIDTH), "{formatted}");
}

#[test]
fn comment_between_tokens_of_an_expression_stays_there() {
    let text = "rule r {\n  expect a and # why b\n         b\n}\n";
    let formatted = format("t.slo", text);
    assert_eq!(formatted, "rule r {\n  expect   a\n           and # why b\n           b\n}\n");
}

#[test]
fn byte_order_mark_and_crlf_are_kept() {
    let text = "\u{FEFF}policy p\r\n\r\nrule   r {\r\n  expect a   # keep\r\n}\r\n";
    let formatted = format("t.slo", text);
    assert_eq!(formatted, "\u{FEFF}policy p\r\n\r\nrule r {\r\n  expect   a # keep\r\n}\r\n");
    assert_eq!(format("t.slo", &formatted), formatted);
}

#[test]
fn empty_and_comment_only_files_format() {
    assert_eq!(format("t.slo", ""), "");
    assert_eq!(format("t.slo", "\n\n  \n"), "");
    assert_eq!(format("t.slo", "  # only a comment   \n\n\n# and another\n"), "# only a comment\n\n# and another\n");
}

#[test]
fn syntax_error_is_not_formatted() {
    match fmt::format_text("t.slo", "rule r { expect a == }") {
        Err(FormatError::Invalid(diagnostics)) => assert_eq!(diagnostics[0].code, "semslo::parse::unexpected_token"),
        other => panic!("expected a syntax error, got {other:?}"),
    }
}

// ---------------------------------------------------------------- every policy of the repository

#[test]
fn repository_policies_keep_meaning_and_comments() {
    let mut formatted = 0;
    let mut skipped = Vec::new();
    for dir in ["policies", "tests/data", "examples"] {
        for path in slo_files(&repository().join(dir)) {
            let text = std::fs::read_to_string(&path).unwrap();
            let name = path.display().to_string();
            if parse(&name, &text).is_none() {
                skipped.push(name);
                continue;
            }
            assert_guarantees(&name, &text);
            formatted += 1;
        }
    }
    // The example policies and the parse and CLI fixtures; files with deliberate syntax
    // errors are skipped.
    assert!(formatted >= 40, "only {formatted} policies formatted; skipped {skipped:?}");
}

// ---------------------------------------------------------------- generated policies

/// A generated expression. The generator follows the grammar's precedence so that the
/// rendered text parses, and `Paren` adds parentheses the parser does not need.
#[derive(Clone, Debug)]
enum Gen {
    Atom(&'static str),
    Field(Box<Gen>, &'static str),
    Index(Box<Gen>, Box<Gen>),
    List(Vec<Gen>, bool),
    Call(&'static str, Vec<Gen>),
    Not(Box<Gen>),
    Negate(Box<Gen>),
    /// `and`, `or`, `+`, `-`, `*`, `/`, `otherwise`
    Chain(&'static str, Box<Gen>, Box<Gen>),
    Compare(&'static str, Box<Gen>, Box<Gen>, Option<Box<Gen>>),
    Within(Box<Gen>, Box<Gen>, Box<Gen>),
    Between(bool, Box<Gen>, Box<Gen>, Box<Gen>),
    In(bool, Box<Gen>, Box<Gen>),
    /// `matches` or `contains` with a regex
    Regex(&'static str, bool, Box<Gen>, &'static str),
    /// `starts with`, `ends with`, `contains` with an expression
    Text(&'static str, bool, Box<Gen>, Box<Gen>),
    /// `exists`, `not exists`, `is null`, `is not missing`, ...
    Suffix(&'static str, Box<Gen>),
    Order(&'static str, Box<Gen>, Box<Gen>),
    If(Box<Gen>, Box<Gen>, Box<Gen>),
    Quantifier(&'static str, Box<Gen>, Option<Box<Gen>>, Box<Gen>),
    /// `count`, `first`, `last`
    Search(&'static str, Box<Gen>, Option<Box<Gen>>),
    Comprehension(Box<Gen>, Box<Gen>, Option<Box<Gen>>),
    Paren(Box<Gen>),
}

const ATOMS: &[&str] = &[
    "a",
    "outcome",
    "steps",
    "record",
    "_x1",
    "1",
    "10_000",
    "14.20",
    "99.5%",
    "2025-06-01",
    "2025-06-01T09:30:00.250+02:00",
    "1h30m",
    "\"text\"",
    "\"# not a comment\"",
    "\"esc \\\" \\\\ \\u{1F600}\"",
    "true",
    "null",
];
const FIELDS: &[&str] = &["id", "when", "type", "total", "in", "and"];
const FUNCTIONS: &[&str] = &["len", "lower", "max"];
const REGEXES: &[&str] = &["/[A-Z]{3}-[0-9]{5}/", "/a#b\\/c/i", "/x y/"];

/// Precedence levels, lowest first, as in `grammar/semslo.pest`.
fn level(expr: &Gen) -> u8 {
    match expr {
        Gen::If(..) => 0,
        Gen::Chain("or", ..) => 1,
        Gen::Chain("and", ..) => 2,
        Gen::Not(_) => 3,
        Gen::Compare(..)
        | Gen::Within(..)
        | Gen::Between(..)
        | Gen::In(..)
        | Gen::Regex(..)
        | Gen::Text(..)
        | Gen::Suffix(..)
        | Gen::Order(..) => 4,
        Gen::Chain("otherwise", ..) => 5,
        Gen::Chain("+" | "-", ..) => 6,
        Gen::Chain(..) => 7,
        Gen::Negate(_) => 8,
        Gen::Field(..) | Gen::Index(..) => 9,
        _ => 10,
    }
}

/// Returns whether the last part of the expression extends as far right as it can.
fn open_right(expr: &Gen) -> bool {
    matches!(expr, Gen::If(..) | Gen::Quantifier(..) | Gen::Search(_, _, Some(_)))
}

/// Appends the tokens of `expr`, in parentheses when its level is below `min` or when
/// it is open on the right and `followed` by more tokens.
fn render(expr: &Gen, min: u8, followed: bool, out: &mut Vec<String>) {
    if level(expr) < min || followed && open_right(expr) {
        out.push("(".into());
        render(expr, 0, false, out);
        out.push(")".into());
        return;
    }
    let push = |out: &mut Vec<String>, words: &str| out.extend(words.split(' ').map(String::from));
    match expr {
        Gen::Atom(atom) => out.push((*atom).into()),
        Gen::Field(base, field) => {
            render(base, 9, true, out);
            push(out, &format!(". {field}"));
        }
        Gen::Index(base, index) => {
            render(base, 9, true, out);
            out.push("[".into());
            render(index, 0, false, out);
            out.push("]".into());
        }
        Gen::List(items, trailing_comma) => {
            out.push("[".into());
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(",".into());
                }
                render(item, 0, false, out);
            }
            if *trailing_comma && !items.is_empty() {
                out.push(",".into());
            }
            out.push("]".into());
        }
        Gen::Call(function, args) => {
            push(out, &format!("{function} ("));
            for (i, arg) in args.iter().enumerate() {
                if i > 0 {
                    out.push(",".into());
                }
                render(arg, 0, false, out);
            }
            out.push(")".into());
        }
        Gen::Not(inner) => {
            out.push("not".into());
            render(inner, 3, followed, out);
        }
        Gen::Negate(inner) => {
            out.push("-".into());
            render(inner, 8, followed, out);
        }
        Gen::Chain(op, left, right) => {
            let own = level(expr);
            render(left, own, true, out);
            out.push((*op).into());
            render(right, own + 1, followed, out);
        }
        Gen::Compare(op, left, right, tolerance) => {
            render(left, 5, true, out);
            out.push((*op).into());
            render(right, 5, tolerance.is_some() || followed, out);
            if let Some(tolerance) = tolerance {
                out.push("within".into());
                render(tolerance, 5, followed, out);
            }
        }
        Gen::Within(value, tolerance, target) => {
            render(value, 5, true, out);
            out.push("within".into());
            render(tolerance, 5, true, out);
            out.push("of".into());
            render(target, 5, followed, out);
        }
        Gen::Between(negated, value, low, high) => {
            render(value, 5, true, out);
            push(out, if *negated { "not between" } else { "between" });
            render(low, 5, true, out);
            out.push("and".into());
            render(high, 5, followed, out);
        }
        Gen::In(negated, value, collection) => {
            render(value, 5, true, out);
            push(out, if *negated { "not in" } else { "in" });
            render(collection, 5, followed, out);
        }
        Gen::Regex(op, negated, value, regex) => {
            render(value, 5, true, out);
            if *negated {
                out.push("not".into());
            }
            out.push((*op).into());
            out.push((*regex).into());
        }
        Gen::Text(op, negated, value, pattern) => {
            render(value, 5, true, out);
            if *negated {
                out.push("not".into());
            }
            push(out, op);
            render(pattern, 5, followed, out);
        }
        Gen::Suffix(words, value) => {
            render(value, 5, true, out);
            push(out, words);
        }
        Gen::Order(op, left, right) => {
            render(left, 5, true, out);
            out.push((*op).into());
            render(right, 5, followed, out);
        }
        Gen::If(condition, then, otherwise) => {
            out.push("if".into());
            render(condition, 0, true, out);
            out.push("then".into());
            render(then, 0, true, out);
            out.push("else".into());
            render(otherwise, 0, false, out);
        }
        Gen::Quantifier(kind, collection, filter, body) => {
            push(out, &format!("{kind} x in"));
            render(collection, 9, true, out);
            if let Some(filter) = filter {
                out.push("where".into());
                render(filter, 0, true, out);
            }
            out.push("satisfies".into());
            render(body, 0, false, out);
        }
        Gen::Search(kind, collection, filter) => {
            push(out, &format!("{kind} x in"));
            render(collection, 9, true, out);
            if let Some(filter) = filter {
                out.push("where".into());
                render(filter, 0, false, out);
            }
        }
        Gen::Comprehension(element, collection, filter) => {
            out.push("[".into());
            render(element, 0, true, out);
            push(out, "for x in");
            render(collection, 9, true, out);
            if let Some(filter) = filter {
                out.push("where".into());
                render(filter, 0, false, out);
            }
            out.push("]".into());
        }
        Gen::Paren(inner) => {
            out.push("(".into());
            render(inner, 0, false, out);
            out.push(")".into());
        }
    }
}

fn expression() -> impl Strategy<Value = Gen> {
    let leaf = proptest::sample::select(ATOMS).prop_map(Gen::Atom);
    leaf.prop_recursive(4, 40, 4, |inner| {
        let boxed = move || inner.clone().prop_map(Box::new);
        let chain_op = proptest::sample::select(&["and", "or", "+", "-", "*", "/", "otherwise"][..]);
        let compare_op = proptest::sample::select(&["==", "!=", "<", "<=", ">", ">="][..]);
        let suffix = proptest::sample::select(
            &["exists", "not exists", "is null", "is not null", "is missing", "is not missing"][..],
        );
        let text_op = proptest::sample::select(&["starts with", "ends with", "contains"][..]);
        let kind = proptest::sample::select(&["any", "all", "none"][..]);
        let search = proptest::sample::select(&["count", "first", "last"][..]);
        prop_oneof![
            (boxed(), proptest::sample::select(FIELDS)).prop_map(|(base, field)| Gen::Field(base, field)),
            (boxed(), boxed()).prop_map(|(base, index)| Gen::Index(base, index)),
            (proptest::collection::vec(boxed(), 0..3), any::<bool>())
                .prop_map(|(items, comma)| Gen::List(items.into_iter().map(|b| *b).collect(), comma)),
            (proptest::sample::select(FUNCTIONS), proptest::collection::vec(boxed(), 0..3))
                .prop_map(|(function, args)| Gen::Call(function, args.into_iter().map(|b| *b).collect())),
            boxed().prop_map(Gen::Not),
            boxed().prop_map(Gen::Negate),
            (chain_op, boxed(), boxed()).prop_map(|(op, a, b)| Gen::Chain(op, a, b)),
            (compare_op, boxed(), boxed(), proptest::option::of(boxed()))
                .prop_map(|(op, a, b, t)| Gen::Compare(op, a, b, t)),
            (boxed(), boxed(), boxed()).prop_map(|(a, b, c)| Gen::Within(a, b, c)),
            (any::<bool>(), boxed(), boxed(), boxed()).prop_map(|(n, a, b, c)| Gen::Between(n, a, b, c)),
            (any::<bool>(), boxed(), boxed()).prop_map(|(n, a, b)| Gen::In(n, a, b)),
            (
                proptest::sample::select(&["matches", "contains"][..]),
                any::<bool>(),
                boxed(),
                proptest::sample::select(REGEXES)
            )
                .prop_map(|(op, n, a, r)| Gen::Regex(op, n, a, r)),
            (text_op, any::<bool>(), boxed(), boxed()).prop_map(|(op, n, a, b)| Gen::Text(op, n, a, b)),
            (suffix, boxed()).prop_map(|(words, a)| Gen::Suffix(words, a)),
            (proptest::sample::select(&["before", "after"][..]), boxed(), boxed())
                .prop_map(|(op, a, b)| Gen::Order(op, a, b)),
            (boxed(), boxed(), boxed()).prop_map(|(c, a, b)| Gen::If(c, a, b)),
            (kind, boxed(), proptest::option::of(boxed()), boxed())
                .prop_map(|(k, c, f, b)| Gen::Quantifier(k, c, f, b)),
            (search, boxed(), proptest::option::of(boxed())).prop_map(|(k, c, f)| Gen::Search(k, c, f)),
            (boxed(), boxed(), proptest::option::of(boxed())).prop_map(|(e, c, f)| Gen::Comprehension(e, c, f)),
            boxed().prop_map(Gen::Paren),
        ]
    })
}

/// A generated JSON value for inline test records.
#[derive(Clone, Debug)]
enum Json {
    Object(Vec<(&'static str, Json)>),
    Array(Vec<Json>),
    Leaf(&'static str),
}

const JSON_KEYS: &[&str] = &["\"run_id\"", "\"outcome\"", "\"# key\"", "\"total\""];
const JSON_LEAVES: &[&str] = &["\"v\"", "\"a # b\"", "0.30", "-1.5e+3", "12000", "true", "false", "null"];

fn json() -> impl Strategy<Value = Json> {
    let leaf = proptest::sample::select(JSON_LEAVES).prop_map(Json::Leaf);
    leaf.prop_recursive(3, 20, 4, |inner| {
        prop_oneof![
            proptest::collection::vec((proptest::sample::select(JSON_KEYS), inner.clone()), 0..4)
                .prop_map(Json::Object),
            proptest::collection::vec(inner, 0..4).prop_map(Json::Array),
        ]
    })
}

fn render_json(value: &Json, out: &mut Vec<String>) {
    match value {
        Json::Leaf(leaf) => out.push((*leaf).into()),
        Json::Array(items) => {
            out.push("[".into());
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(",".into());
                }
                render_json(item, out);
            }
            out.push("]".into());
        }
        Json::Object(members) => {
            out.push("{".into());
            for (i, (key, value)) in members.iter().enumerate() {
                if i > 0 {
                    out.push(",".into());
                }
                out.extend([(*key).to_string(), ":".into()]);
                render_json(value, out);
            }
            out.push("}".into());
        }
    }
}

/// Generates one rule property, as tokens.
fn rule_property() -> impl Strategy<Value = Vec<String>> {
    let words = |text: &str| text.split(' ').map(String::from).collect::<Vec<_>>();
    prop_oneof![
        Just(words("title \"a-title\"")),
        proptest::sample::select(&["severity critical", "severity minor"][..]).prop_map(words),
        proptest::sample::select(&["mode warn", "mode shadow until 2026-01-31"][..]).prop_map(words),
        Just(words("segment sourcing")),
        Just(words("owner \"ops\"")),
        expression().prop_map(move |e| {
            let mut out = words("let band =");
            render(&e, 0, false, &mut out);
            out
        }),
        (expression(), any::<bool>()).prop_map(move |(e, reason)| {
            let mut out = words("waive when");
            render(&e, 0, true, &mut out);
            out.extend(words("until 2026-01-31"));
            if reason {
                out.extend(words("reason \"agreed\""));
            }
            out
        }),
    ]
}

/// Generates a rule: properties that may appear once are deduplicated, then `when` and at least
/// one `expect` are added, and the order is shuffled.
fn rule() -> impl Strategy<Value = Vec<String>> {
    let properties = proptest::collection::vec(rule_property(), 0..5);
    let expects = proptest::collection::vec(expression(), 1..4);
    (properties, proptest::option::of(expression()), expects)
        .prop_map(|(properties, when, expects)| {
            let mut seen = Vec::new();
            let mut all: Vec<Vec<String>> = Vec::new();
            for property in properties {
                let keyword = property[0].clone();
                if matches!(keyword.as_str(), "let" | "waive") || !seen.contains(&keyword) {
                    seen.push(keyword);
                    all.push(property);
                }
            }
            for (keyword, expr) in when.iter().map(|e| ("when", e)).chain(expects.iter().map(|e| ("expect", e))) {
                let mut out = vec![keyword.to_string()];
                render(expr, 0, false, &mut out);
                all.push(out);
            }
            all
        })
        .prop_shuffle()
        .prop_map(|properties| {
            let mut out: Vec<String> = "rule r {".split(' ').map(String::from).collect();
            out.extend(properties.into_iter().flatten());
            out.push("}".into());
            out
        })
}

/// Top-level items, each a list of tokens; the first item's tokens start a line.
fn policy() -> impl Strategy<Value = Vec<Vec<String>>> {
    let words = |text: &str| text.split(' ').map(String::from).collect::<Vec<_>>();
    let fixed = vec![
        words("policy generated"),
        words("schema \"run.schema.json\""),
        words("use \"data/v.csv\" as vendors key vendor_id effective since .. until"),
        words("segments sourcing , pricing"),
        words(
            "slo s { title \"t\" objective 99.5% over 28d good when rules r , q pass alert page when burn rate > 14.4 over 1h and 5m minimum 20 runs }",
        ),
        words("slo q { objective 99% over calendar month time zone \"UTC\" good when no critical rule fails }"),
        words("costs { agent run 0.40 checkpoint review 12 manual run 35 currency \"USD\" }"),
    ];
    let event_time = expression().prop_map(move |e| {
        let mut out = words("event time");
        render(&e, 0, false, &mut out);
        out
    });
    let top_let = expression().prop_map(move |e| {
        let mut out = words("let limit =");
        render(&e, 0, false, &mut out);
        out
    });
    let slo_valid = (expression(), expression()).prop_map(move |(valid, by)| {
        let mut out = words("slo v { objective 95% over 7d valid when");
        render(&valid, 0, false, &mut out);
        out.push("by".into());
        render(&by, 0, false, &mut out);
        out.push("}".into());
        out
    });
    let test = json().prop_map(move |record| {
        let mut out = words("test \"t\" { given record");
        let record = match record {
            Json::Object(_) => record,
            other => Json::Object(vec![("\"outcome\"", other)]),
        };
        render_json(&record, &mut out);
        out.extend(words("expect r passes expect s not valid }"));
        out
    });
    let fixed_subset = proptest::sample::subsequence(fixed.clone(), 0..=fixed.len());
    let rules = proptest::collection::vec(rule(), 1..3);
    (fixed_subset, proptest::option::of(event_time), proptest::collection::vec(top_let, 0..2), slo_valid, rules, test)
        .prop_map(|(fixed, event_time, lets, slo, rules, test)| {
            let mut items = fixed;
            items.extend(event_time);
            items.extend(lets);
            items.push(slo);
            items.extend(rules);
            items.push(test);
            items
        })
        .prop_shuffle()
}

/// Joins tokens with generated white space: spaces, tabs, line breaks, empty lines and
/// comments on their own lines or after a token. Items start on a new line.
fn layout(items: &[Vec<String>], separators: &[u8]) -> String {
    let mut text = String::from("# generated\n");
    let mut next = 0;
    let mut comments = 0;
    for item in items {
        text.push('\n');
        for (i, token) in item.iter().enumerate() {
            if i > 0 {
                let choice = separators[next % separators.len()];
                next += 1;
                comments += 1;
                match choice {
                    0 => text.push_str("\n    "),
                    1 => text.push_str("\n\n"),
                    2 => text.push_str(&format!(" # c{comments}\n")),
                    3 => text.push_str(&format!("\n# c{comments}\n")),
                    4 => text.push('\t'),
                    5 => text.push_str(&format!("\n\n  # c{comments}\n\n")),
                    _ => text.push(' '),
                }
            }
            text.push_str(token);
        }
    }
    text.push('\n');
    text
}

proptest! {
    // 256 cases unless PROPTEST_CASES sets another number, and no failure files in the source tree.
    #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn generated_policies_keep_meaning_and_comments(
        items in policy(),
        separators in proptest::collection::vec(0u8..16, 1..64),
    ) {
        let text = layout(&items, &separators);
        prop_assert!(parse("generated.slo", &text).is_some(), "the generator made a policy that does not parse:\n{}", text);
        assert_guarantees("generated.slo", &text);
    }
}

// ---------------------------------------------------------------- the command

fn semslo(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_semslo")).args(args).current_dir(dir).env("NO_COLOR", "1").output().unwrap()
}

fn semslo_with_stdin(args: &[&str], stdin: &str) -> Output {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_semslo"))
        .args(args)
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}

fn assert_status(output: &Output, expected: i32) {
    assert_eq!(output.status.code(), Some(expected), "--- stdout\n{}\n--- stderr\n{}", stdout(output), stderr(output));
}

const UNFORMATTED: &str = "rule   r {expect a and b}\n";
const FORMATTED: &str = "rule r {\n  expect   a and b\n}\n";

/// Creates a temporary directory with `files` written into it.
fn directory(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    dir
}

/// Sets the modification time of `path` an hour back, so that a rewrite would show.
fn age(path: &Path) -> SystemTime {
    let past = SystemTime::now() - Duration::from_secs(3600);
    std::fs::File::options().write(true).open(path).unwrap().set_modified(past).unwrap();
    std::fs::metadata(path).unwrap().modified().unwrap()
}

#[test]
fn fmt_rewrites_files_in_place() {
    let dir = directory(&[("a.slo", UNFORMATTED)]);
    let output = semslo(&["fmt", "a.slo"], dir.path());
    assert_status(&output, EXIT_SUCCESS);
    assert_eq!(std::fs::read_to_string(dir.path().join("a.slo")).unwrap(), FORMATTED);
    assert_eq!(stderr(&output), "1 file reformatted, 0 unchanged\n");
    let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(leftovers.len(), 1, "no temporary file is left behind: {leftovers:?}");
}

#[test]
fn fmt_leaves_formatted_files_untouched() {
    let dir = directory(&[("a.slo", FORMATTED)]);
    let path = dir.path().join("a.slo");
    let modified = age(&path);
    let output = semslo(&["fmt", "a.slo"], dir.path());
    assert_status(&output, EXIT_SUCCESS);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), FORMATTED);
    assert_eq!(std::fs::metadata(&path).unwrap().modified().unwrap(), modified, "the file was written");
}

#[cfg(unix)]
#[test]
fn fmt_keeps_file_permissions() {
    use std::os::unix::fs::PermissionsExt;
    let dir = directory(&[("a.slo", UNFORMATTED)]);
    let path = dir.path().join("a.slo");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
    assert_status(&semslo(&["fmt", "a.slo"], dir.path()), EXIT_SUCCESS);
    assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o640);
}

#[test]
fn fmt_check_prints_a_diff_and_changes_nothing() {
    let dir = directory(&[("a.slo", UNFORMATTED), ("b.slo", FORMATTED)]);
    let modified = age(&dir.path().join("a.slo"));
    let output = semslo(&["fmt", "--check", "."], dir.path());
    assert_status(&output, EXIT_WOULD_CHANGE);
    let expected = "\
--- ./a.slo
+++ ./a.slo (formatted)
@@ -1 +1,3 @@
-rule   r {expect a and b}
+rule r {
+  expect   a and b
+}
";
    assert_eq!(stdout(&output), expected);
    assert_eq!(stderr(&output), "1 of 2 files would be reformatted\n");
    assert_eq!(std::fs::read_to_string(dir.path().join("a.slo")).unwrap(), UNFORMATTED);
    assert_eq!(std::fs::metadata(dir.path().join("a.slo")).unwrap().modified().unwrap(), modified);
}

#[test]
fn fmt_check_passes_on_formatted_files() {
    let dir = directory(&[("a.slo", FORMATTED)]);
    let output = semslo(&["fmt", "--check", "a.slo"], dir.path());
    assert_status(&output, EXIT_SUCCESS);
    assert_eq!(stdout(&output), "");
}

#[test]
fn fmt_skips_only_the_file_with_syntax_errors() {
    let dir = directory(&[("bad.slo", "rule r { expect a == }\n"), ("good.slo", UNFORMATTED)]);
    let output = semslo(&["fmt", "."], dir.path());
    assert_status(&output, EXIT_NOT_FORMATTED);
    let stderr = stderr(&output);
    assert!(stderr.contains("semslo::parse::unexpected_token"), "{stderr}");
    assert!(stderr.contains("bad.slo:1:"), "the diagnostic names the place: {stderr}");
    assert!(stderr.ends_with("1 file reformatted, 0 unchanged, 1 file not formatted\n"), "{stderr}");
    assert_eq!(std::fs::read_to_string(dir.path().join("bad.slo")).unwrap(), "rule r { expect a == }\n");
    assert_eq!(std::fs::read_to_string(dir.path().join("good.slo")).unwrap(), FORMATTED);
}

#[test]
fn fmt_searches_directories_recursively_for_slo_files() {
    let dir = directory(&[("top.slo", UNFORMATTED), ("nested/deeper/inner.slo", UNFORMATTED), ("notes.txt", "x  y")]);
    let output = semslo(&["fmt", "."], dir.path());
    assert_status(&output, EXIT_SUCCESS);
    assert_eq!(std::fs::read_to_string(dir.path().join("nested/deeper/inner.slo")).unwrap(), FORMATTED);
    assert_eq!(std::fs::read_to_string(dir.path().join("top.slo")).unwrap(), FORMATTED);
    assert_eq!(std::fs::read_to_string(dir.path().join("notes.txt")).unwrap(), "x  y");
}

#[test]
fn fmt_reads_standard_input_and_writes_standard_output() {
    let output = semslo_with_stdin(&["fmt", "-"], UNFORMATTED);
    assert_status(&output, EXIT_SUCCESS);
    assert_eq!(stdout(&output), FORMATTED);
    assert_eq!(stderr(&output), "");
}

#[test]
fn fmt_check_on_standard_input_prints_the_diff() {
    let output = semslo_with_stdin(&["fmt", "--check", "-"], UNFORMATTED);
    assert_status(&output, EXIT_WOULD_CHANGE);
    assert!(stdout(&output).starts_with("--- <stdin>\n+++ <stdin> (formatted)\n"), "{}", stdout(&output));
}

#[test]
fn fmt_stdin_syntax_error_prints_nothing() {
    let output = semslo_with_stdin(&["fmt", "-"], "rule r {");
    assert_status(&output, EXIT_NOT_FORMATTED);
    assert_eq!(stdout(&output), "");
    assert!(stderr(&output).contains("semslo::parse::unexpected_token"), "{}", stderr(&output));
}

#[test]
fn fmt_on_missing_path_exits_2() {
    let dir = directory(&[]);
    let output = semslo(&["fmt", "missing.slo"], dir.path());
    assert_status(&output, EXIT_NOT_FORMATTED);
    assert!(stderr(&output).contains("semslo::load::not_found"), "{}", stderr(&output));
}
