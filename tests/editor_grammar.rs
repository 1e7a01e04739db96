//! The TextMate grammar `editors/textmate/semslo.tmLanguage.json`, run on the example
//! policies with a small TextMate-style tokenizer.
//!
//! Every `match`, `begin` and `end` pattern must compile with the `regex` crate: the
//! grammar keeps to constructs that it and Oniguruma (the engine of VS Code and most
//! editors) read the same way, so no look-around and no back-references. The tokenizer
//! then scopes each line the way TextMate does: the earliest match wins, the first
//! pattern wins a tie, and a `begin` rule stays open until its `end`. The checks compare
//! the scopes with what an independent scan of the line finds: keywords, comments,
//! strings, regex literals, numbers and built-in functions.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use regex::Regex;
use serde_json::Value as Json;

const GRAMMAR: &str = "editors/textmate/semslo.tmLanguage.json";

/// Reserved words of expressions, from `keyword` in `grammar/semslo.pest`, without the
/// literals `true`, `false` and `null`.
const EXPRESSION_KEYWORDS: &[&str] = &[
    "and",
    "or",
    "not",
    "in",
    "if",
    "then",
    "else",
    "any",
    "all",
    "none",
    "count",
    "first",
    "last",
    "where",
    "satisfies",
    "between",
    "within",
    "of",
    "matches",
    "starts",
    "ends",
    "with",
    "contains",
    "exists",
    "is",
    "missing",
    "otherwise",
    "before",
    "after",
    "for",
];

/// Words that start an item or a property when they are the first word of a line.
const LINE_START_KEYWORDS: &[&str] = &[
    "policy",
    "schema",
    "use",
    "event",
    "let",
    "segments",
    "rule",
    "slo",
    "costs",
    "test",
    "title",
    "severity",
    "mode",
    "segment",
    "owner",
    "when",
    "expect",
    "waive",
    "objective",
    "time",
    "valid",
    "good",
    "minimum",
    "alert",
    "by",
    "given",
    "agent",
    "checkpoint",
    "manual",
    "currency",
];

const FUNCTIONS: &[&str] = &[
    "len",
    "lower",
    "upper",
    "trim",
    "abs",
    "min",
    "max",
    "sum",
    "round",
    "date",
    "timestamp",
    "days",
    "hours",
    "minutes",
    "seconds",
    "add_days",
    "add_months",
    "parse_json",
    "keys",
    "values",
    "number",
    "text",
    "distinct",
];

fn repository_path(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}

// ---------------------------------------------------------------- the grammar

/// A rule that matches text, after `include`s and pattern groups are resolved.
enum Rule {
    Match { regex: Regex, name: Option<String>, captures: HashMap<usize, String> },
    Block(Box<Block>),
}

struct Block {
    begin: Regex,
    end: Regex,
    name: Option<String>,
    content_name: Option<String>,
    begin_captures: HashMap<usize, String>,
    end_captures: HashMap<usize, String>,
    patterns: Vec<Rule>,
}

struct Grammar {
    patterns: Vec<Rule>,
}

fn compile(pattern: &Json, field: &str) -> Regex {
    let source = pattern.as_str().unwrap_or_else(|| panic!("{field} is not a string"));
    Regex::new(source).unwrap_or_else(|error| panic!("{field} `{source}` does not compile: {error}"))
}

fn captures(rule: &Json, key: &str) -> HashMap<usize, String> {
    let Some(map) = rule.get(key).and_then(Json::as_object) else { return HashMap::new() };
    map.iter()
        .map(|(group, capture)| {
            let name = capture["name"].as_str().expect("a capture has a name").to_string();
            (group.parse().expect("capture keys are group numbers"), name)
        })
        .collect()
}

fn name(rule: &Json, key: &str) -> Option<String> {
    rule.get(key).and_then(Json::as_str).map(String::from)
}

/// Resolves a list of pattern objects into rules, in order.
fn rules(patterns: &Json, repository: &serde_json::Map<String, Json>, depth: usize) -> Vec<Rule> {
    assert!(depth < 16, "includes nest too deep");
    let mut out = Vec::new();
    for pattern in patterns.as_array().expect("`patterns` is a list") {
        if let Some(include) = pattern.get("include").and_then(Json::as_str) {
            let key = include.strip_prefix('#').unwrap_or_else(|| panic!("only `#name` includes are used: {include}"));
            let target = repository.get(key).unwrap_or_else(|| panic!("`{include}` is not in the repository"));
            out.extend(rules(&Json::Array(vec![target.clone()]), repository, depth + 1));
        } else if let Some(regex) = pattern.get("match") {
            out.push(Rule::Match {
                regex: compile(regex, "match"),
                name: name(pattern, "name"),
                captures: captures(pattern, "captures"),
            });
        } else if let Some(begin) = pattern.get("begin") {
            let end = pattern.get("end").expect("a `begin` rule has an `end`");
            let inner = pattern.get("patterns").cloned().unwrap_or(Json::Array(Vec::new()));
            out.push(Rule::Block(Box::new(Block {
                begin: compile(begin, "begin"),
                end: compile(end, "end"),
                name: name(pattern, "name"),
                content_name: name(pattern, "contentName"),
                begin_captures: captures(pattern, "beginCaptures"),
                end_captures: captures(pattern, "endCaptures"),
                patterns: rules(&inner, repository, depth + 1),
            })));
        } else if let Some(group) = pattern.get("patterns") {
            out.extend(rules(group, repository, depth + 1));
        } else {
            panic!("a pattern without `include`, `match`, `begin` or `patterns`: {pattern}");
        }
    }
    out
}

fn load_grammar() -> Grammar {
    let text = std::fs::read_to_string(repository_path(GRAMMAR)).unwrap();
    let json: Json = serde_json::from_str(&text).expect("the grammar is valid JSON");
    assert_eq!(json["scopeName"], "source.semslo");
    assert_eq!(json["fileTypes"], serde_json::json!(["slo"]));
    let repository = json["repository"].as_object().expect("a repository");
    Grammar { patterns: rules(&json["patterns"], repository, 0) }
}

// ---------------------------------------------------------------- the tokenizer

/// The scopes of every byte of one line, and the blocks that a line break closed
/// instead of their own end text.
struct ScopedLine {
    scopes: Vec<Vec<String>>,
    unterminated: Vec<String>,
}

/// Where a rule matched: its start, its captures, and which rule.
struct Found<'g> {
    start: usize,
    end: usize,
    groups: Vec<Option<(usize, usize)>>,
    rule: Option<&'g Rule>,
}

fn find<'g>(regex: &Regex, line: &str, at: usize, rule: Option<&'g Rule>) -> Option<Found<'g>> {
    let captures = regex.captures_at(line, at)?;
    let whole = captures.get(0).expect("group 0");
    let groups = (0..captures.len()).map(|i| captures.get(i).map(|m| (m.start(), m.end()))).collect();
    Some(Found { start: whole.start(), end: whole.end(), groups, rule })
}

fn paint(scopes: &mut [Vec<String>], (start, end): (usize, usize), name: &str) {
    for scope in &mut scopes[start..end] {
        scope.push(name.to_string());
    }
}

fn paint_captures(scopes: &mut [Vec<String>], found: &Found, captures: &HashMap<usize, String>) {
    for (group, name) in captures {
        if let Some(Some(range)) = found.groups.get(*group) {
            paint(scopes, *range, name);
        }
    }
}

/// Scopes one line; every line starts with no block open, as strings and regex
/// literals cannot span lines.
fn tokenize(grammar: &Grammar, line: &str) -> ScopedLine {
    let mut scopes = vec![Vec::new(); line.len()];
    let mut unterminated = Vec::new();
    let mut open: Vec<(&Block, usize)> = Vec::new();
    let mut position = 0;
    loop {
        let (patterns, end) = match open.last() {
            Some((block, _)) => (&block.patterns, Some(&block.end)),
            None => (&grammar.patterns, None),
        };
        let mut best = end.and_then(|end| find(end, line, position, None));
        for rule in patterns {
            let regex = match rule {
                Rule::Match { regex, .. } => regex,
                Rule::Block(block) => &block.begin,
            };
            if let Some(found) = find(regex, line, position, Some(rule)) {
                if best.as_ref().is_none_or(|b| found.start < b.start) {
                    best = Some(found);
                }
            }
        }
        let Some(found) = best else { break };
        match found.rule {
            None => {
                let (block, content_start) = open.pop().expect("an open block");
                if let Some(content) = &block.content_name {
                    paint(&mut scopes, (content_start, found.start), content);
                }
                if let Some(name) = &block.name {
                    paint(&mut scopes, (content_start, found.end), name);
                }
                paint_captures(&mut scopes, &found, &block.end_captures);
                if found.start == found.end {
                    unterminated.push(line[content_start..].to_string());
                }
            }
            Some(Rule::Match { name, captures, .. }) => {
                if let Some(name) = name {
                    paint(&mut scopes, (found.start, found.end), name);
                }
                paint_captures(&mut scopes, &found, captures);
            }
            Some(Rule::Block(block)) => {
                if let Some(name) = &block.name {
                    paint(&mut scopes, (found.start, found.end), name);
                }
                paint_captures(&mut scopes, &found, &block.begin_captures);
                open.push((block, found.end));
            }
        }
        let advanced = found.end > position || found.rule.is_none();
        position =
            if advanced { found.end } else { position + line[position..].chars().next().map_or(1, char::len_utf8) };
        if position > line.len() || (position == line.len() && open.is_empty()) {
            break;
        }
    }
    for (block, content_start) in open {
        unterminated.push(format!("{:?} from byte {content_start}", block.begin.as_str()));
    }
    ScopedLine { scopes, unterminated }
}

// ---------------------------------------------------------------- an independent scan

#[derive(Debug, PartialEq)]
enum Piece {
    Word { start: usize, word: String, after_dot: bool, before_paren: bool, first_on_line: bool },
    Number { start: usize },
    String { start: usize, end: usize },
    Regex { start: usize, end: usize },
    Comment { start: usize },
}

/// Splits a line of a policy that parses into the pieces the checks look at.
fn scan(line: &str) -> Vec<Piece> {
    let bytes = line.as_bytes();
    let mut pieces = Vec::new();
    let mut i = 0;
    let mut previous_word = String::new();
    let mut previous_char = b' ';
    let mut first = true;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b' ' || b == b'\t' {
            i += 1;
            continue;
        }
        let start = i;
        if b == b'#' {
            pieces.push(Piece::Comment { start });
            break;
        } else if b == b'"' || b == b'/' && ["matches", "contains", "with"].contains(&previous_word.as_str()) {
            i += 1;
            while i < bytes.len() && bytes[i] != b {
                i += if bytes[i] == b'\\' { 2 } else { 1 };
            }
            i = (i + 1).min(bytes.len());
            if b == b'/' && bytes.get(i) == Some(&b'i') {
                i += 1;
            }
            pieces.push(if b == b'"' { Piece::String { start, end: i } } else { Piece::Regex { start, end: i } });
        } else if b.is_ascii_digit() {
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || b"_.:%+-".contains(&bytes[i])) {
                i += 1;
            }
            pieces.push(Piece::Number { start });
        } else if b.is_ascii_alphabetic() || b == b'_' {
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                i += 1;
            }
            let word = line[start..i].to_string();
            let before_paren = line[i..].trim_start().starts_with('(');
            pieces.push(Piece::Word {
                start,
                word: word.clone(),
                after_dot: previous_char == b'.',
                before_paren,
                first_on_line: first,
            });
            previous_word = word;
            previous_char = b'a';
            first = false;
            continue;
        } else if line[i..].starts_with("..") {
            // `since..until`: a range, not a field access.
            i += 2;
        } else {
            i += line[i..].chars().next().map_or(1, char::len_utf8);
        }
        previous_word.clear();
        previous_char = if line[start..].starts_with("..") { b' ' } else { b };
        first = false;
    }
    pieces
}

// ---------------------------------------------------------------- the checks

fn example_policies() -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![repository_path("policies"), repository_path("tests/data/fmt")];
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

fn has(scopes: &[String], prefix: &str) -> bool {
    scopes.iter().any(|scope| scope.starts_with(prefix))
}

/// Checks one line; returns a description of every problem.
fn check_line(grammar: &Grammar, line: &str) -> Vec<String> {
    let scoped = tokenize(grammar, line);
    let mut problems: Vec<String> = scoped.unterminated.iter().map(|b| format!("unterminated {b}")).collect();
    let at = |i: usize| &scoped.scopes[i];
    for piece in scan(line) {
        let problem = match &piece {
            Piece::Comment { start } => {
                (!has(at(*start), "comment.line")).then_some("a comment without a comment scope")
            }
            Piece::String { start, end } => {
                ((*start..*end).any(|i| !has(at(i), "string.quoted"))).then_some("a string without a string scope")
            }
            Piece::Regex { start, end } => ((*start..*end).any(|i| !at(i).iter().any(|s| s.contains("regexp"))))
                .then_some("a regex literal without a regexp scope"),
            Piece::Number { start } => {
                (!has(at(*start), "constant.numeric")).then_some("a number without a numeric scope")
            }
            Piece::Word { start, word, after_dot: false, before_paren, first_on_line } => {
                // `not valid` is a verdict of SLO tests, scoped as a constant.
                let verdict = word == "not" && line[*start..].starts_with("not valid");
                let keyword = EXPRESSION_KEYWORDS.contains(&word.as_str()) && !verdict
                    || *first_on_line && LINE_START_KEYWORDS.contains(&word.as_str());
                if keyword && !has(at(*start), "keyword") {
                    Some("a keyword without a keyword scope")
                } else if matches!(word.as_str(), "true" | "false" | "null") && !has(at(*start), "constant.language") {
                    Some("a literal without a constant scope")
                } else if *before_paren && FUNCTIONS.contains(&word.as_str()) && !has(at(*start), "support.function") {
                    Some("a built-in function without a function scope")
                } else {
                    None
                }
            }
            Piece::Word { start, .. } => {
                (!has(at(*start), "variable.other.property")).then_some("a field name without a property scope")
            }
        };
        if let Some(problem) = problem {
            problems.push(format!("{problem}: {piece:?}"));
        }
    }
    problems
}

#[test]
fn every_pattern_compiles() {
    let grammar = load_grammar();
    assert!(grammar.patterns.len() > 20, "only {} top-level rules", grammar.patterns.len());
}

#[test]
fn example_policies_get_the_expected_scopes() {
    let grammar = load_grammar();
    let files = example_policies();
    assert!(files.len() >= 5, "example policies found: {files:?}");
    let mut problems = Vec::new();
    let mut lines = 0;
    for path in &files {
        let text = std::fs::read_to_string(path).unwrap();
        for (number, line) in text.lines().enumerate() {
            lines += 1;
            for problem in check_line(&grammar, line) {
                problems.push(format!("{}:{}: {problem}\n    {line}", path.display(), number + 1));
            }
        }
    }
    assert!(problems.is_empty(), "{} problems in {lines} lines:\n{}", problems.len(), problems.join("\n"));
}

#[test]
fn tokenizer_scopes_a_rule_line() {
    let grammar = load_grammar();
    let line = r#"  expect   outcome.when matches /a\/b#c/i and lower("x # y") == null # done"#;
    let scoped = tokenize(&grammar, line);
    let scope_at = |needle: &str| scoped.scopes[line.find(needle).unwrap()].clone();
    assert!(has(&scope_at("expect"), "keyword.other.property"));
    assert!(has(&scope_at("when"), "variable.other.property"), "a field named like a keyword is a field");
    assert!(has(&scope_at("b#c"), "string.regexp"), "`#` inside a regex is not a comment");
    assert!(has(&scope_at("lower"), "support.function"));
    assert!(has(&scope_at("x # y"), "string.quoted"), "`#` inside a string is not a comment");
    assert!(has(&scope_at("null"), "constant.language"));
    assert!(has(&scope_at("# done"), "comment.line"));
    assert!(scoped.unterminated.is_empty());
}

#[test]
fn unterminated_string_is_reported() {
    let grammar = load_grammar();
    let scoped = tokenize(&grammar, r#"  title "no end"#);
    assert_eq!(scoped.unterminated.len(), 1);
}
