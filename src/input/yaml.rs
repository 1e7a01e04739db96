//! YAML: a stream of documents, each document one record.
//!
//! Documents are parsed with serde-saphyr, configured for the YAML 1.2 core schema:
//!
//! - only `true`/`True`/`TRUE` and `false`/`False`/`FALSE` are booleans, so `no`,
//!   `off` and `yes` stay strings;
//! - only `null`/`Null`/`NULL`/`~` and an empty value are null;
//! - integers are `[-+]?[0-9]+` (so `012` is 12), `0o17` and `0x1F`; other
//!   spellings that YAML 1.1 parsers accept (`0b101`, `1_000`) stay strings;
//! - `1e3`, `.5` and `1.` are numbers. `.inf`, `-.inf` and `.nan` have no JSON
//!   form and become the strings `.inf`, `-.inf` and `.nan`;
//! - `<<` is an ordinary key (merge keys are YAML 1.1 only).
//!
//! A number keeps every digit: the record gets the number's source text (through
//! the node's span), never a value that went through `f64`. Duplicate mapping
//! keys are an error. Aliases are expanded within serde-saphyr's budget (default
//! limits: 250,000 nodes, 1,000,000 replayed alias events), so a "billion laughs"
//! document is rejected instead of exhausting memory. Records nest at most
//! [`MAX_DEPTH`] levels.
//!
//! # Streaming and recovery
//!
//! The reader splits the stream into documents itself, at lines that start with
//! the markers `---` or `...` (followed by a space, a tab or the line end), and
//! parses each document on its own. The YAML spec forbids such lines inside a
//! document's content, so the split agrees with a YAML parser. Only one document
//! is in memory at a time, and a document with a syntax error is reported while
//! the documents after it are still read. serde-saphyr's own multi-document
//! iterator stops at the first syntax error and borrows its reader, which is why
//! it is not used here.

use std::cell::Cell;
use std::fmt;
use std::io::BufRead;
use std::str::FromStr;
use std::sync::Arc;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};
use serde_saphyr::budget::BudgetBreach;
use serde_saphyr::{MessageFormatter, Spanned, UserMessageFormatter};

use super::depth::{MAX_DEPTH, too_deep_reason};
use super::error::RecordError;
use super::location::{Location, Record};
use super::scanner::BOM;

/// Streams the records of a YAML source, one per document.
pub struct YamlReader<R> {
    reader: R,
    name: Arc<str>,
    /// The number of the line read last (0 before the first).
    line: usize,
    line_buffer: Vec<u8>,
    document: Document,
    at_start: bool,
    finished: bool,
}

/// The lines of the document being collected.
#[derive(Default)]
struct Document {
    text: String,
    /// The line number of the first line in `text`.
    first_line: usize,
    /// The record's line: its `---` marker, or else its first content line.
    start_line: Option<usize>,
    has_marker: bool,
    /// Whether a line other than blanks, comments, directives and markers was seen.
    has_content: bool,
    invalid_utf8_line: Option<usize>,
}

impl<R: BufRead> YamlReader<R> {
    /// Reads `reader`, whose first line is line `first_line` of the source `name`.
    pub fn new(reader: R, name: Arc<str>, first_line: usize) -> Self {
        YamlReader {
            reader,
            name,
            line: first_line - 1,
            line_buffer: Vec::new(),
            document: Document::default(),
            at_start: true,
            finished: false,
        }
    }

    /// Adds the line in `line_buffer` to the current document. Returns the
    /// previous document when this line completes it and it has content.
    fn add_line(&mut self, at_start: bool) -> Option<Document> {
        let mut bytes = self.line_buffer.as_slice();
        if at_start {
            bytes = bytes.strip_prefix(BOM).unwrap_or(bytes);
        }
        let content = trim_line_end(bytes);

        if is_marker(content, b"---") {
            let previous = if self.document.has_content || self.document.has_marker {
                Some(std::mem::take(&mut self.document))
            } else {
                None
            };
            self.document.push(self.line, bytes);
            self.document.has_marker = true;
            self.document.start_line = Some(self.line);
            self.document.has_content = !is_blank_or_comment(&content[3..]);
            return previous.filter(|document| document.has_content);
        }

        self.document.push(self.line, bytes);
        if is_marker(content, b"...") {
            return Some(std::mem::take(&mut self.document)).filter(|document| document.has_content);
        }
        let is_directive = content.starts_with(b"%") && !self.document.has_content && !self.document.has_marker;
        if !is_blank_or_comment(content) && !is_directive {
            self.document.has_content = true;
            self.document.start_line.get_or_insert(self.line);
        }
        None
    }

    fn record(&self, document: Document) -> Result<Record, RecordError> {
        let line = document.start_line.unwrap_or(document.first_line);
        let location = Location::new(Arc::clone(&self.name), line);
        let value = match document.invalid_utf8_line {
            Some(bad_line) => Err(format!("invalid UTF-8 at line {bad_line}")),
            None => parse_document(&document.text, document.first_line),
        };
        match value {
            Ok(Value::Object(entries)) => Ok(Record { value: Value::Object(entries), location }),
            Ok(other) => Err(RecordError::new(
                location,
                format!("expected a YAML mapping, found {}", describe_yaml_type(&other)),
            )),
            Err(reason) => Err(RecordError::new(location, reason)),
        }
    }
}

impl<R: BufRead> Iterator for YamlReader<R> {
    type Item = Result<Record, RecordError>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.finished {
            self.line_buffer.clear();
            match self.reader.read_until(b'\n', &mut self.line_buffer) {
                Ok(0) => {
                    self.finished = true;
                    let document = std::mem::take(&mut self.document);
                    if document.has_content {
                        return Some(self.record(document));
                    }
                }
                Ok(_) => {
                    let at_start = std::mem::replace(&mut self.at_start, false);
                    self.line += 1;
                    if let Some(document) = self.add_line(at_start) {
                        return Some(self.record(document));
                    }
                }
                Err(error) => {
                    self.finished = true;
                    let reason = format!("reading failed, the rest of the input is skipped: {error}");
                    let location = Location::new(Arc::clone(&self.name), self.line + 1);
                    return Some(Err(RecordError::new(location, reason)));
                }
            }
        }
        None
    }
}

impl Document {
    fn push(&mut self, line: usize, bytes: &[u8]) {
        if self.text.is_empty() {
            self.first_line = line;
        }
        match std::str::from_utf8(bytes) {
            Ok(text) => self.text.push_str(text),
            Err(_) => {
                self.invalid_utf8_line.get_or_insert(line);
                self.text.push_str(&String::from_utf8_lossy(bytes));
            }
        }
    }
}

/// Returns whether `line` is the document marker `marker` (`---` or `...`) followed by
/// a space, a tab or the end of the line.
fn is_marker(line: &[u8], marker: &[u8; 3]) -> bool {
    line.starts_with(marker) && matches!(line.get(3), None | Some(b' ' | b'\t'))
}

fn is_blank_or_comment(line: &[u8]) -> bool {
    match line.iter().find(|byte| !matches!(byte, b' ' | b'\t')) {
        None => true,
        Some(byte) => *byte == b'#',
    }
}

fn trim_line_end(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

fn describe_yaml_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a sequence",
        Value::Object(_) => "a mapping",
    }
}

/// Parses one YAML document whose first line is line `first_line` of the file.
pub fn parse_document(text: &str, first_line: usize) -> Result<Value, String> {
    let options = serde_saphyr::options! {
        strict_booleans: true,
        merge_keys: serde_saphyr::MergeKeyPolicy::AsOrdinary,
        duplicate_keys: serde_saphyr::DuplicateKeyPolicy::Error,
        with_snippet: false,
        budget: serde_saphyr::budget! { max_depth: MAX_DEPTH },
    };
    let node: Spanned<Node> =
        serde_saphyr::from_str_with_options(text, options).map_err(|error| describe_yaml_error(&error, first_line))?;
    resolve(node, text)
}

/// A parsed YAML node whose scalars still need their source text to become JSON.
enum Node {
    Scalar(Scalar),
    Sequence(Vec<Spanned<Node>>),
    Mapping(Vec<(String, Spanned<Node>)>),
}

/// A scalar as serde-saphyr typed it. The core-schema check in [`resolve_scalar`]
/// looks at the source text and may turn it back into a string.
enum Scalar {
    Null,
    Bool(bool),
    Integer(Number),
    /// A number that serde-saphyr read as a float, whose digits come from the text.
    Float,
    Text(String),
}

thread_local! {
    /// How many sequences and mappings the current thread is inside while
    /// building [`Node`]s. serde-saphyr's depth budget counts parser events, but
    /// aliases replay nested nodes inside other nodes, so the depth is counted
    /// again here to keep the stack bounded.
    static NESTING: Cell<usize> = const { Cell::new(0) };
}

/// Counts one level of [`NESTING`] while alive.
struct NestingGuard;

impl NestingGuard {
    fn enter<E: de::Error>() -> Result<Self, E> {
        let guard = NestingGuard;
        let depth = NESTING.with(|nesting| {
            nesting.set(nesting.get() + 1);
            nesting.get()
        });
        if depth > MAX_DEPTH {
            return Err(E::custom(too_deep_reason()));
        }
        Ok(guard)
    }
}

impl Drop for NestingGuard {
    fn drop(&mut self) {
        NESTING.with(|nesting| nesting.set(nesting.get() - 1));
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("any YAML node")
    }

    fn visit_unit<E>(self) -> Result<Node, E> {
        Ok(Node::Scalar(Scalar::Null))
    }

    fn visit_none<E>(self) -> Result<Node, E> {
        Ok(Node::Scalar(Scalar::Null))
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Node, D::Error> {
        Node::deserialize(deserializer)
    }

    fn visit_bool<E>(self, value: bool) -> Result<Node, E> {
        Ok(Node::Scalar(Scalar::Bool(value)))
    }

    fn visit_i64<E>(self, value: i64) -> Result<Node, E> {
        Ok(Node::Scalar(Scalar::Integer(value.into())))
    }

    fn visit_u64<E>(self, value: u64) -> Result<Node, E> {
        Ok(Node::Scalar(Scalar::Integer(value.into())))
    }

    fn visit_i128<E: de::Error>(self, value: i128) -> Result<Node, E> {
        let number = Number::from_str(&value.to_string()).map_err(E::custom)?;
        Ok(Node::Scalar(Scalar::Integer(number)))
    }

    fn visit_u128<E: de::Error>(self, value: u128) -> Result<Node, E> {
        let number = Number::from_str(&value.to_string()).map_err(E::custom)?;
        Ok(Node::Scalar(Scalar::Integer(number)))
    }

    fn visit_f64<E>(self, _value: f64) -> Result<Node, E> {
        Ok(Node::Scalar(Scalar::Float))
    }

    fn visit_str<E>(self, value: &str) -> Result<Node, E> {
        Ok(Node::Scalar(Scalar::Text(value.to_owned())))
    }

    fn visit_string<E>(self, value: String) -> Result<Node, E> {
        Ok(Node::Scalar(Scalar::Text(value)))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut sequence: A) -> Result<Node, A::Error> {
        let _guard = NestingGuard::enter()?;
        with_stack(|| {
            let mut items = Vec::new();
            while let Some(item) = sequence.next_element()? {
                items.push(item);
            }
            Ok(Node::Sequence(items))
        })
    }

    fn visit_map<A: MapAccess<'de>>(self, mut mapping: A) -> Result<Node, A::Error> {
        let _guard = NestingGuard::enter()?;
        with_stack(|| {
            let mut entries = Vec::new();
            while let Some(key) = mapping.next_key::<String>()? {
                entries.push((key, mapping.next_value()?));
            }
            Ok(Node::Mapping(entries))
        })
    }
}

/// Runs `parse`, the contents of one sequence or mapping, on a fresh stack
/// segment when less than [`STACK_RED_ZONE`] is left.
///
/// serde-saphyr and serde recurse once per nesting level. In a debug build a
/// document 130 levels deep overflowed the 2 MiB stack that Rust gives a spawned
/// thread (test threads among them), so one level takes over 15 KiB there.
fn with_stack<T>(parse: impl FnOnce() -> T) -> T {
    stacker::maybe_grow(STACK_RED_ZONE, STACK_SEGMENT, parse)
}

/// Stack space below which [`with_stack`] switches to a new segment: more than
/// one nesting level takes, with a wide margin.
const STACK_RED_ZONE: usize = 256 * 1024;

/// Size of each new stack segment.
const STACK_SEGMENT: usize = 2 * 1024 * 1024;

/// Converts a node to JSON, reading number text from `source`.
///
/// Recursion is bounded: the node was built within [`MAX_DEPTH`] levels.
fn resolve(node: Spanned<Node>, source: &str) -> Result<Value, String> {
    match node.value {
        Node::Sequence(items) => {
            items.into_iter().map(|item| resolve(item, source)).collect::<Result<Vec<_>, _>>().map(Value::Array)
        }
        Node::Mapping(entries) => {
            let mut object = Map::new();
            for (key, value) in entries {
                object.insert(key, resolve(value, source)?);
            }
            Ok(Value::Object(object))
        }
        Node::Scalar(scalar) => {
            // For an alias, `defined` is the anchored node, whose text is the value's.
            let span = node.defined.span();
            let raw = span
                .byte_offset()
                .zip(span.byte_len())
                .and_then(|(offset, len)| source.get(offset as usize..(offset + len) as usize));
            resolve_scalar(scalar, raw, node.defined.line())
        }
    }
}

/// Applies the YAML 1.2 core schema to a scalar, given its source text `raw`.
fn resolve_scalar(scalar: Scalar, raw: Option<&str>, line: u64) -> Result<Value, String> {
    Ok(match (scalar, raw) {
        (Scalar::Text(text), _) => Value::String(text),
        (Scalar::Null, Some(raw))
            if !matches!(raw, "" | "~" | "null" | "Null" | "NULL") && raw.eq_ignore_ascii_case("null") =>
        {
            Value::String(raw.to_owned())
        }
        (Scalar::Null, _) => Value::Null,
        (Scalar::Bool(value), None) => Value::Bool(value),
        (Scalar::Bool(value), Some(raw)) => match raw {
            "true" | "True" | "TRUE" | "false" | "False" | "FALSE" => Value::Bool(value),
            _ => Value::String(raw.to_owned()),
        },
        (Scalar::Integer(number), None) => Value::Number(number),
        (Scalar::Integer(number), Some(raw)) if is_core_integer(raw) => Value::Number(number),
        (Scalar::Integer(_), Some(raw)) => Value::String(raw.to_owned()),
        (Scalar::Float, Some(raw)) => match core_decimal_text(raw).map(|text| Number::from_str(&text)) {
            Some(Ok(number)) => Value::Number(number),
            _ => Value::String(raw.to_owned()),
        },
        (Scalar::Float, None) => {
            return Err(format!("cannot locate the text of the number at line {line}"));
        }
    })
}

/// Returns whether `raw` is a core-schema integer: decimal, `0o` octal or `0x` hex.
fn is_core_integer(raw: &str) -> bool {
    let unsigned = raw.strip_prefix(['-', '+']).unwrap_or(raw);
    if let Some(digits) = raw.strip_prefix("0o") {
        return !digits.is_empty() && digits.bytes().all(|byte| matches!(byte, b'0'..=b'7'));
    }
    if let Some(digits) = raw.strip_prefix("0x") {
        return !digits.is_empty() && digits.bytes().all(|byte| byte.is_ascii_hexdigit());
    }
    !unsigned.is_empty() && unsigned.bytes().all(|byte| byte.is_ascii_digit())
}

/// Returns the JSON number text of a core-schema decimal integer or float, or `None`
/// when `raw` is neither.
///
/// Core floats are `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`. JSON has no
/// leading `+`, no leading zeros and no bare `.`, so `+012` becomes `12`, `.5`
/// becomes `0.5` and `1.` becomes `1.0`. The digits themselves are never changed.
fn core_decimal_text(raw: &str) -> Option<String> {
    let (sign, rest) = match raw.as_bytes().first()? {
        b'-' => ("-", &raw[1..]),
        b'+' => ("", &raw[1..]),
        _ => ("", raw),
    };
    let (mantissa, exponent) = match rest.find(['e', 'E']) {
        Some(at) => (&rest[..at], Some(&rest[at + 1..])),
        None => (rest, None),
    };
    let (integer, fraction) = match mantissa.split_once('.') {
        Some((integer, fraction)) => (integer, Some(fraction)),
        None => (mantissa, None),
    };

    let all_digits = |text: &str| text.bytes().all(|byte| byte.is_ascii_digit());
    let has_digits = !integer.is_empty() || fraction.is_some_and(|fraction| !fraction.is_empty());
    if !has_digits || !all_digits(integer) || !fraction.is_none_or(all_digits) {
        return None;
    }
    let exponent = match exponent {
        None => String::new(),
        Some(exponent) => {
            let digits = exponent.strip_prefix(['-', '+']).unwrap_or(exponent);
            if digits.is_empty() || !all_digits(digits) {
                return None;
            }
            format!("e{exponent}")
        }
    };

    let integer = integer.trim_start_matches('0');
    let integer = if integer.is_empty() { "0" } else { integer };
    let fraction = match fraction {
        None => String::new(),
        Some("") => ".0".to_owned(),
        Some(fraction) => format!(".{fraction}"),
    };
    Some(format!("{sign}{integer}{fraction}{exponent}"))
}

/// Describes why serde-saphyr rejected a document, with the place in the file.
fn describe_yaml_error(error: &serde_saphyr::Error, first_line: usize) -> String {
    use serde_saphyr::Error;

    let error = error.without_snippet();
    let message = match error {
        Error::Budget { breach, .. } => describe_breach(breach),
        Error::AliasError { msg, .. } => describe_alias_error(msg),
        Error::DuplicateMappingKey { key: Some(key), .. } => format!("duplicate mapping key `{key}`"),
        Error::DuplicateMappingKey { key: None, .. } => "duplicate mapping key".to_owned(),
        Error::AliasReplayLimitExceeded { max_total_replayed_events, .. } => format!(
            "aliases expand to more than {max_total_replayed_events} nodes; the document is \
             rejected as an alias expansion bomb"
        ),
        Error::AliasExpansionLimitExceeded { .. } | Error::AliasReplayStackDepthExceeded { .. } => {
            "aliases expand beyond the YAML reader's limits; the document is rejected as an \
             alias expansion bomb"
                .to_owned()
        }
        other => {
            let message = UserMessageFormatter.format_message(other).into_owned();
            // The parser's own nesting limit, hit before the depth budget on
            // input like `[[[[...`.
            if message == "recursion limit exceeded" { too_deep_reason() } else { message }
        }
    };
    match error.location().filter(|location| location.line() > 0) {
        Some(location) => {
            format!("{message} at line {} column {}", first_line + location.line() as usize - 1, location.column())
        }
        None => message,
    }
}

fn describe_breach(breach: &BudgetBreach) -> String {
    match breach {
        BudgetBreach::Depth { .. } => too_deep_reason(),
        BudgetBreach::Nodes { .. } => NODE_BUDGET_REASON.to_owned(),
        BudgetBreach::AliasAnchorRatio { aliases, anchors } => format!(
            "the document uses {aliases} aliases for {anchors} anchors, over the YAML reader's \
             budget; it is rejected as an alias expansion bomb"
        ),
        other => format!("the document exceeds the YAML reader's budget: {other:?}"),
    }
}

const NODE_BUDGET_REASON: &str = "the document has more nodes than the YAML reader's budget \
    allows once its aliases are expanded; it is rejected as an alias expansion bomb \
    (\"billion laughs\") or an oversized record";

/// Describes an error raised while an alias was replayed.
///
/// serde-saphyr wraps such errors into `AliasError` with the inner error already
/// rendered as text (`budget breached: Nodes { nodes: 250001 } at line 6, ...`),
/// so the cause is recognised by the start of that text.
fn describe_alias_error(message: &str) -> String {
    let cause = message.split(" at line ").next().unwrap_or(message);
    if cause.starts_with("budget breached: Depth") {
        too_deep_reason()
    } else if cause.starts_with("budget breached: Nodes") {
        NODE_BUDGET_REASON.to_owned()
    } else if let Some(breach) = cause.strip_prefix("budget breached: ") {
        format!("the document exceeds the YAML reader's budget: {breach}")
    } else {
        cause.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(text: &str) -> Result<Value, String> {
        parse_document(text, 1)
    }

    fn read(text: &str) -> Vec<Result<Record, RecordError>> {
        YamlReader::new(text.as_bytes(), Arc::from("test.yaml"), 1).collect()
    }

    #[test]
    fn yaml_1_1_booleans_stay_strings() {
        let value = parse("a: no\nb: off\nc: yes\nd: On\ne: true\nf: False\ng: tRuE\n").unwrap();
        assert_eq!(value, json!({"a": "no", "b": "off", "c": "yes", "d": "On", "e": true, "f": false, "g": "tRuE"}));
    }

    #[test]
    fn core_schema_numbers() {
        let value = parse(
            "a: 012\nb: 1e3\nc: 0x1F\nd: 0o17\ne: .5\nf: 1.\ng: +12\nh: -0012.50\n\
             i: 0b101\nj: 1_000\nk: .inf\nl: .nan\nm: \"12\"\nn: 2024-05-01\n",
        )
        .unwrap();
        let texts: Vec<String> = value.as_object().unwrap().values().map(|value| value.to_string()).collect();
        assert_eq!(
            texts,
            [
                "12",
                "1e+3",
                "31",
                "15",
                "0.5",
                "1.0",
                "12",
                "-12.50",
                "\"0b101\"",
                "\"1_000\"",
                "\".inf\"",
                "\".nan\"",
                "\"12\"",
                "\"2024-05-01\""
            ]
        );
    }

    #[test]
    fn numbers_keep_every_digit() {
        let value =
            parse("big: 12345678901234567890.123\nhuge: 123456789012345678901234567890\nneg: -98765432109876543210\n")
                .unwrap();
        assert_eq!(value["big"].to_string(), "12345678901234567890.123");
        assert_eq!(value["huge"].to_string(), "123456789012345678901234567890");
        assert_eq!(value["neg"].to_string(), "-98765432109876543210");
    }

    #[test]
    fn nulls_and_aliases() {
        let value = parse("a: ~\nb:\nc: null\nd: &price 19.990\ne: *price\nf: NuLl\n").unwrap();
        assert_eq!(value["a"], Value::Null);
        assert_eq!(value["b"], Value::Null);
        assert_eq!(value["c"], Value::Null);
        assert_eq!(value["e"].to_string(), "19.990");
        assert_eq!(value["f"], "NuLl");
    }

    #[test]
    fn merge_key_is_an_ordinary_key() {
        let value = parse("base: &b {x: 1}\nrun:\n  <<: *b\n").unwrap();
        assert_eq!(value["run"], json!({"<<": {"x": 1}}));
    }

    #[test]
    fn duplicate_key_is_rejected_with_its_line() {
        let reason = parse_document("a: 1\nb: 2\na: 3\n", 10).unwrap_err();
        assert_eq!(reason, "duplicate mapping key `a` at line 12 column 1");
    }

    #[test]
    fn deep_nesting_is_rejected() {
        let text = format!("a: {}", "[".repeat(100_000));
        assert!(parse(&text).unwrap_err().starts_with(&too_deep_reason()));
        let text = format!("a: {}{}", "[".repeat(200), "]".repeat(200));
        assert!(parse(&text).unwrap_err().starts_with(&too_deep_reason()));
        let text = format!("a: {}{}", "[".repeat(MAX_DEPTH - 1), "]".repeat(MAX_DEPTH - 1));
        assert!(parse(&text).is_ok());
    }

    #[test]
    fn alias_nesting_is_bounded() {
        let mut text = String::from("l0: &l0 [1]\n");
        for level in 1..40 {
            let inner = format!("*l{}", level - 1);
            text.push_str(&format!("l{level}: &l{level} [[[[{inner}]]]]\n"));
        }
        let reason = parse(&text).unwrap_err();
        assert!(reason.starts_with(&too_deep_reason()), "{reason}");
    }

    #[test]
    fn documents_are_split_at_markers() {
        let results = read("# header\na: 1\n---\nb: 2\n...\n%YAML 1.2\n--- \nc: 3\n---\n---\n# only a comment\n");
        let lines: Vec<usize> = results.iter().map(|result| result.as_ref().unwrap().location.line).collect();
        assert_eq!(lines, [2, 3, 7]);
        assert_eq!(results[2].as_ref().unwrap().value, json!({"c": 3}));
    }

    #[test]
    fn syntax_error_does_not_stop_later_documents() {
        let results = read("a: 1\n---\nb: [1, 2\nc: x\n---\nd: 4\n");
        assert_eq!(results.len(), 3);
        let error = results[1].as_ref().unwrap_err();
        assert_eq!(error.location.line, 2);
        assert!(error.reason.ends_with("at line 4 column 2"), "{}", error.reason);
        assert_eq!(results[2].as_ref().unwrap().value, json!({"d": 4}));
    }

    #[test]
    fn document_that_is_not_a_mapping_is_malformed() {
        let results = read("- 1\n- 2\n");
        assert_eq!(results[0].as_ref().unwrap_err().reason, "expected a YAML mapping, found a sequence");
    }

    #[test]
    fn crlf_and_byte_order_mark_are_accepted() {
        let results = read("\u{FEFF}a: 1\r\n---\r\nb: 2\r\n");
        let values: Vec<Value> = results.into_iter().map(|result| result.unwrap().value).collect();
        assert_eq!(values, [json!({"a": 1}), json!({"b": 2})]);
    }
}
