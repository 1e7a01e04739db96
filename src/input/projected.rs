//! The projecting reader: parses a JSON record into a [`Document`] that keeps only the
//! fields a policy set reads ([`Projection`]), skipping the rest while parsing.
//!
//! A value that rules read is kept as its source text, borrowed from the input, so
//! numbers keep every digit and unescaped strings are not copied. A value the policy
//! navigates into (`outcome` on the way to `outcome.total`) keeps only the wanted
//! members. If it is not an object or list after all, it is kept as the scalar it is.

use std::fmt;

use serde_json::Value as Json;

use crate::compile::projection::{PathNode, Projection};
use crate::document::{Document, Node, NodeId, same_key};
use crate::input::MAX_DEPTH;

/// A [`Projection`] arranged for the reader: the members of each object in a list behind
/// a 64-bit filter of their names, which is cheaper than a map for a handful of keys.
#[derive(Debug)]
pub struct ReadPlan {
    whole: bool,
    fields: Vec<(Box<str>, ReadPlan)>,
    /// The [`key_bit`] of every field name. A key whose bit is clear is not a field, so
    /// most keys the plan does not name are passed over without a comparison.
    key_bits: u64,
    elements: Option<Box<ReadPlan>>,
}

impl ReadPlan {
    pub fn new(projection: &Projection) -> ReadPlan {
        ReadPlan::of(&projection.root)
    }

    fn of(node: &PathNode) -> ReadPlan {
        ReadPlan {
            whole: node.is_leaf(),
            fields: node.fields.iter().map(|(name, child)| (name.as_str().into(), ReadPlan::of(child))).collect(),
            key_bits: node.fields.keys().fold(0, |bits, name| bits | key_bit(name.as_bytes())),
            elements: node.elements.as_deref().map(|element| Box::new(ReadPlan::of(element))),
        }
    }

    /// True when the whole record is kept, so there is nothing to skip.
    pub fn is_whole(&self) -> bool {
        self.whole
    }

    /// Returns the field named `key`, if the plan reads it. The bit check is inlined
    /// into the reader, the search is not.
    #[inline(always)]
    fn field(&self, key: &[u8]) -> PlanMember<'_> {
        if self.key_bits & key_bit(key) == 0 {
            return None;
        }
        self.named(key)
    }

    fn named(&self, key: &[u8]) -> PlanMember<'_> {
        self.fields.iter().find(|(name, _)| same_key(name.as_bytes(), key)).map(|(name, plan)| (&**name, plan))
    }
}

/// Picks one of 64 bits by the length and first byte of `key`: keys that differ in
/// either mostly get different bits.
#[inline(always)]
fn key_bit(key: &[u8]) -> u64 {
    let first = key.first().map_or(0, |&byte| usize::from(byte));
    1 << (key.len().wrapping_add(first.wrapping_mul(7)) & 63)
}

/// Parses one JSON text into `document`, which must be empty, keeping the parts that
/// `plan` names. The record is the document's root.
///
/// Checks every byte as the standard reader ([`crate::input::parse_json_line`])
/// checks it (UTF-8, string escapes and control characters, number syntax, nesting up
/// to [`MAX_DEPTH`] levels), including the values that are skipped, so the two readers
/// accept exactly the same lines. The error gives only the offset where reading stopped.
/// Callers take the reason from the standard reader, so a rejected line gets the same
/// message from either reader.
pub fn parse_into<'a>(text: &'a [u8], plan: &'a ReadPlan, document: &mut Document<'a>) -> Result<(), Malformed> {
    // The basic validator is the fastest, and reports only whether the line is valid.
    let text = simdutf8::basic::from_utf8(text).map_err(|_| Malformed { at: 0 })?;
    let bytes = text.as_bytes();
    let (end, _) = read_value(text, whitespace(bytes, 0), 0, plan, document)?;
    let end = whitespace(bytes, end);
    if end != bytes.len() {
        return Err(Malformed { at: end });
    }
    Ok(())
}

/// The position at which the projecting reader found a line to be invalid JSON.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Malformed {
    /// Byte offset in the line.
    pub at: usize,
}

impl fmt::Display for Malformed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid JSON at byte {}", self.at)
    }
}

/// Parses one JSON text, keeping the parts that `projection` names, as JSON.
pub fn parse_projected(text: &[u8], projection: &Projection) -> Result<Json, String> {
    let plan = ReadPlan::new(projection);
    let mut document = Document::default();
    match parse_into(text, &plan, &mut document) {
        Ok(()) => Ok(document.root().map_or(Json::Null, |root| root.to_json())),
        Err(malformed) => Err(crate::input::parse_json_line(text).err().unwrap_or_else(|| malformed.to_string())),
    }
}

/// Counts the elements of the JSON array `text`, which the reader has already checked,
/// without converting them; `None` when `text` is not an array.
pub fn array_len(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut at = whitespace(bytes, 0);
    if bytes.get(at) != Some(&b'[') {
        return None;
    }
    at = whitespace(bytes, at + 1);
    if bytes.get(at) == Some(&b']') {
        return Some(0);
    }
    let mut count = 0;
    loop {
        at = skip_value(bytes, at, 1).ok()?;
        count += 1;
        at = whitespace(bytes, at);
        match bytes.get(at) {
            Some(b',') => at = whitespace(bytes, at + 1),
            Some(b']') => return Some(count),
            _ => return None,
        }
    }
}

/// The plan of a value kept whole: list elements that nothing reads into.
static WHOLE: ReadPlan = ReadPlan { whole: true, fields: Vec::new(), key_bits: 0, elements: None };

// The reading functions below take the line and a byte offset, and return the offset
// after what they read.

/// A member of an object that the plan reads: its name in the plan, and the plan for
/// its value.
type PlanMember<'a> = Option<(&'a str, &'a ReadPlan)>;

/// Reads the value at `at` as `plan` directs, and returns the offset after it and its
/// node. `depth` is the number of arrays and objects open around it. A value the rules
/// read, or a scalar where the plan expected a container, is kept as its source text.
/// Everything the plan does not name is checked and skipped without building anything.
fn read_value<'a>(
    text: &'a str,
    at: usize,
    depth: usize,
    plan: &'a ReadPlan,
    document: &mut Document<'a>,
) -> Result<(usize, NodeId), Malformed> {
    let bytes = text.as_bytes();
    let opening = bytes.get(at).copied();
    if plan.whole || !matches!(opening, Some(b'{' | b'[')) {
        let (end, plain) = match opening {
            Some(b'"') => {
                let (end, escaped) = scan_string(bytes, at)?;
                (end, !escaped)
            }
            _ => (skip_value(bytes, at, depth)?, false),
        };
        return Ok((end, document.push(Node::Source(&text[at..end], plain))));
    }

    let depth = enter(at, depth)?;
    let is_object = opening == Some(b'{');
    let close = if is_object { b'}' } else { b']' };
    let first = document.pending.len();
    let mut at = whitespace(bytes, at + 1);
    if bytes.get(at) == Some(&close) {
        return Ok((at + 1, document.finish_container(first, is_object)));
    }
    loop {
        if is_object {
            let (after_key, member) = read_key(text, at, plan)?;
            at = match member {
                Some((name, child)) => {
                    let (after, id) = read_value(text, after_key, depth, child, document)?;
                    document.pending.push((name, id));
                    after
                }
                None => skip_member(bytes, after_key, depth)?,
            };
        } else {
            let element = plan.elements.as_deref().unwrap_or(&WHOLE);
            let (after, id) = read_value(text, at, depth, element, document)?;
            document.pending.push(("", id));
            at = after;
        }
        at = whitespace(bytes, at);
        match bytes.get(at) {
            Some(b',') => at = whitespace(bytes, at + 1),
            Some(&byte) if byte == close => return Ok((at + 1, document.finish_container(first, is_object))),
            _ => return Err(Malformed { at }),
        }
    }
}

/// Reads the object key at `at` and the colon after it, and returns the offset of the
/// value and the member `plan` wants under that key, if any. A key with escapes is
/// decoded before the lookup.
fn read_key<'a>(text: &str, at: usize, plan: &'a ReadPlan) -> Result<(usize, PlanMember<'a>), Malformed> {
    let bytes = text.as_bytes();
    if bytes.get(at) != Some(&b'"') {
        return Err(Malformed { at });
    }
    let (end, escaped) = scan_string(bytes, at)?;
    let member = if escaped {
        let key: String = serde_json::from_str(&text[at..end]).map_err(|_| Malformed { at })?;
        plan.field(key.as_bytes())
    } else {
        plan.field(&bytes[at + 1..end - 1])
    };
    Ok((colon(bytes, end)?, member))
}

/// Counts one more array or object open around `at`, within the nesting limit.
#[inline]
fn enter(at: usize, depth: usize) -> Result<usize, Malformed> {
    if depth >= MAX_DEPTH {
        return Err(Malformed { at });
    }
    Ok(depth + 1)
}

/// Checks and skips the value at `at`, with `depth` arrays and objects open around it,
/// and returns the offset after it.
fn skip_value(bytes: &[u8], mut at: usize, mut depth: usize) -> Result<usize, Malformed> {
    let base = depth;
    // Bit `n` is set when the container opened `n` levels inside the innermost open one
    // is an object. MAX_DEPTH is below 128, so the bits fit.
    let mut objects: u128 = 0;
    loop {
        // At the start of a value.
        match bytes.get(at).copied() {
            Some(opening @ (b'{' | b'[')) => {
                depth = enter(at, depth)?;
                objects = (objects << 1) | u128::from(opening == b'{');
                at = whitespace(bytes, at + 1);
                let close = if opening == b'{' { b'}' } else { b']' };
                if bytes.get(at) != Some(&close) {
                    if opening == b'{' {
                        at = skip_key(bytes, at)?;
                    }
                    continue;
                }
                at += 1;
                depth -= 1;
                objects >>= 1;
            }
            Some(b'"') => at = scan_string(bytes, at)?.0,
            Some(b'-' | b'0'..=b'9') => at = scan_number(bytes, at)?,
            Some(b't') => at = literal(bytes, at, b"true")?,
            Some(b'f') => at = literal(bytes, at, b"false")?,
            Some(b'n') => at = literal(bytes, at, b"null")?,
            _ => return Err(Malformed { at }),
        }
        // After a value: close the containers it ends, or move to the next member.
        loop {
            if depth == base {
                return Ok(at);
            }
            at = whitespace(bytes, at);
            let in_object = objects & 1 == 1;
            match bytes.get(at) {
                Some(b',') => {
                    at = whitespace(bytes, at + 1);
                    if in_object {
                        at = skip_key(bytes, at)?;
                    }
                    break;
                }
                Some(b'}') if in_object => {}
                Some(b']') if !in_object => {}
                _ => return Err(Malformed { at }),
            }
            at += 1;
            depth -= 1;
            objects >>= 1;
        }
    }
}

/// Checks and skips the value of a member the plan does not read. Most such values
/// are strings or numbers, which are skipped here without [`skip_value`]'s setup for
/// nested values.
#[inline(always)]
fn skip_member(bytes: &[u8], at: usize, depth: usize) -> Result<usize, Malformed> {
    match bytes.get(at) {
        Some(b'"') => Ok(scan_string(bytes, at)?.0),
        Some(b'-' | b'0'..=b'9') => scan_number(bytes, at),
        _ => skip_value(bytes, at, depth),
    }
}

/// Checks and skips the object key at `at` and the colon after it, and returns the
/// offset of the value.
#[inline(always)]
fn skip_key(bytes: &[u8], at: usize) -> Result<usize, Malformed> {
    if bytes.get(at) != Some(&b'"') {
        return Err(Malformed { at });
    }
    let (end, _) = scan_string(bytes, at)?;
    colon(bytes, end)
}

/// Checks and skips the colon after a key, with the whitespace around it.
#[inline(always)]
fn colon(bytes: &[u8], at: usize) -> Result<usize, Malformed> {
    let at = whitespace(bytes, at);
    if bytes.get(at) != Some(&b':') {
        return Err(Malformed { at });
    }
    Ok(whitespace(bytes, at + 1))
}

/// Returns the offset of the first byte at or after `at` that is not JSON whitespace.
#[inline(always)]
fn whitespace(bytes: &[u8], mut at: usize) -> usize {
    // Records are mostly compact, and every byte above the space is not whitespace.
    if bytes.get(at).is_some_and(|&byte| byte > b' ') {
        return at;
    }
    while let Some(b' ' | b'\n' | b'\r' | b'\t') = bytes.get(at) {
        at += 1;
    }
    at
}

fn literal(bytes: &[u8], at: usize, word: &[u8]) -> Result<usize, Malformed> {
    match bytes.get(at..at + word.len()) {
        Some(found) if found == word => Ok(at + word.len()),
        _ => Err(Malformed { at }),
    }
}

/// Checks and skips a number: `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`.
fn scan_number(bytes: &[u8], mut at: usize) -> Result<usize, Malformed> {
    if bytes.get(at) == Some(&b'-') {
        at += 1;
    }
    at = match bytes.get(at) {
        Some(b'0') => at + 1,
        Some(b'1'..=b'9') => digits(bytes, at + 1),
        _ => return Err(Malformed { at }),
    };
    if bytes.get(at) == Some(&b'.') {
        at = required_digits(bytes, at + 1)?;
    }
    if let Some(b'e' | b'E') = bytes.get(at) {
        at += 1;
        if let Some(b'+' | b'-') = bytes.get(at) {
            at += 1;
        }
        at = required_digits(bytes, at)?;
    }
    Ok(at)
}

#[inline]
fn digits(bytes: &[u8], mut at: usize) -> usize {
    while let Some(b'0'..=b'9') = bytes.get(at) {
        at += 1;
    }
    at
}

fn required_digits(bytes: &[u8], at: usize) -> Result<usize, Malformed> {
    let end = digits(bytes, at);
    if end == at {
        return Err(Malformed { at });
    }
    Ok(end)
}

/// Checks and skips the string whose opening quote is at `at`, and returns the offset
/// after its closing quote and whether it has escapes. The line is valid UTF-8 already,
/// so only control characters and escapes need checking. Most strings have no escapes
/// and end within the first 16 bytes: that case is inlined, the rest is not.
#[inline(always)]
fn scan_string(bytes: &[u8], at: usize) -> Result<(usize, bool), Malformed> {
    let special = special_byte(bytes, at + 1).ok_or(Malformed { at: bytes.len() })?;
    if bytes[special] == b'"' {
        return Ok((special + 1, false));
    }
    scan_string_from(bytes, special)
}

/// Continues [`scan_string`] from the backslash or control character at `at`.
#[inline(never)]
fn scan_string_from(bytes: &[u8], mut at: usize) -> Result<(usize, bool), Malformed> {
    loop {
        match bytes[at] {
            b'"' => return Ok((at + 1, true)),
            b'\\' => at = scan_escape(bytes, at)?,
            _ => return Err(Malformed { at }),
        }
        at = special_byte(bytes, at).ok_or(Malformed { at: bytes.len() })?;
    }
}

/// Checks and skips the escape whose backslash is at `at`. A `\u` escape of a UTF-16
/// surrogate must be a high one followed by a low one, as the standard reader requires
/// when it decodes the string.
fn scan_escape(bytes: &[u8], at: usize) -> Result<usize, Malformed> {
    match bytes.get(at + 1) {
        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => Ok(at + 2),
        Some(b'u') => {
            let unit = hex_unit(bytes, at + 2)?;
            if (0xDC00..0xE000).contains(&unit) {
                return Err(Malformed { at });
            }
            if !(0xD800..0xDC00).contains(&unit) {
                return Ok(at + 6);
            }
            let low = match bytes.get(at + 6..at + 8) {
                Some(b"\\u") => hex_unit(bytes, at + 8)?,
                _ => return Err(Malformed { at }),
            };
            if !(0xDC00..0xE000).contains(&low) {
                return Err(Malformed { at });
            }
            Ok(at + 12)
        }
        _ => Err(Malformed { at }),
    }
}

/// Reads the four hex digits at `at` as a UTF-16 code unit.
fn hex_unit(bytes: &[u8], at: usize) -> Result<u32, Malformed> {
    let digits = bytes.get(at..at + 4).ok_or(Malformed { at })?;
    digits.iter().try_fold(0, |unit, digit| {
        let value = char::from(*digit).to_digit(16).ok_or(Malformed { at })?;
        Ok(unit * 16 + value)
    })
}

/// Returns the index of the first `"`, `\` or control character in `bytes` at or after `from`.
#[inline(always)]
pub(crate) fn special_byte(bytes: &[u8], from: usize) -> Option<usize> {
    let mut offset = from;
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{
            __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_min_epu8, _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8,
        };
        // SSE2 is part of every x86-64 CPU, so no run-time check is needed.
        while offset + 16 <= bytes.len() {
            // SAFETY: the 16 bytes from `offset` lie inside `bytes` (checked above), and
            // the load has no alignment requirement.
            let mask = unsafe {
                let block = _mm_loadu_si128(bytes.as_ptr().add(offset).cast::<__m128i>());
                let quote = _mm_cmpeq_epi8(block, _mm_set1_epi8(b'"' as i8));
                let backslash = _mm_cmpeq_epi8(block, _mm_set1_epi8(b'\\' as i8));
                // A byte is a control character when min(byte, 0x1F) is the byte itself.
                let control = _mm_cmpeq_epi8(_mm_min_epu8(block, _mm_set1_epi8(0x1F)), block);
                _mm_movemask_epi8(_mm_or_si128(_mm_or_si128(quote, backslash), control))
            };
            if mask != 0 {
                return Some(offset + mask.trailing_zeros() as usize);
            }
            offset += 16;
        }
    }
    bytes[offset..].iter().position(|&byte| byte == b'"' || byte == b'\\' || byte < 0x20).map(|index| offset + index)
}

/// Returns every text one JSON-significant byte away from `bytes`: with a byte deleted, replaced
/// or inserted at each position. For tests of readers of JSON text, which must agree with
/// serde_json on the valid edits and not panic on the others.
#[cfg(test)]
pub(crate) fn one_byte_edits(bytes: &[u8]) -> impl Iterator<Item = Vec<u8>> + '_ {
    const SPECIALS: &[u8] = b"\"\\{}[],:0-+.eEu tnf\x01\x7f";
    (0..bytes.len()).flat_map(move |at| {
        let deleted = [&bytes[..at], &bytes[at + 1..]].concat();
        let changed = SPECIALS.iter().flat_map(move |&special| {
            [[&bytes[..at], &[special], &bytes[at + 1..]].concat(), [&bytes[..at], &[special], &bytes[at..]].concat()]
        });
        std::iter::once(deleted).chain(changed)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compile::projection::Projection;

    fn projection(paths: &[&str]) -> Projection {
        let mut projection = Projection::default();
        for path in paths {
            projection.keep(path);
        }
        projection
    }

    #[test]
    fn unread_fields_are_skipped() {
        let projection = projection(&["outcome.total", "run_id"]);
        let text = br#"{"run_id":"r1","steps":[{"a":1}],"outcome":{"total":4260.00,"vendor":{"id":"V-1"}}}"#;
        let value = parse_projected(text, &projection).unwrap();
        assert_eq!(value.to_string(), r#"{"run_id":"r1","outcome":{"total":4260.00}}"#);
    }

    #[test]
    fn list_elements_keep_their_count_and_wanted_fields() {
        let projection = projection(&["steps[].name"]);
        let text = br#"{"steps":[{"name":"a","output":{}},{"output":{}},{"name":"c"}]}"#;
        let value = parse_projected(text, &projection).unwrap();
        assert_eq!(value.to_string(), r#"{"steps":[{"name":"a"},{},{"name":"c"}]}"#);
    }

    #[test]
    fn numbers_keep_every_digit() {
        let projection = projection(&["n", "m"]);
        let text = br#"{"n":12345678901234567890.123,"m":9007199254740993}"#;
        let value = parse_projected(text, &projection).unwrap();
        assert_eq!(value["n"].to_string(), "12345678901234567890.123");
        assert_eq!(value["m"].to_string(), "9007199254740993");
    }

    #[test]
    fn escaped_strings_are_decoded() {
        let projection = projection(&["s"]);
        let value = parse_projected(br#"{"s":"a\"b\u00e9"}"#, &projection).unwrap();
        assert_eq!(value["s"], "a\"bé");
    }

    #[test]
    fn navigated_scalar_is_kept_as_it_is() {
        let projection = projection(&["outcome.total"]);
        let value = parse_projected(br#"{"outcome":"cancelled"}"#, &projection).unwrap();
        assert_eq!(value["outcome"], "cancelled");
    }

    /// Converts `value` to the part of it that `keep` names, as the projecting reader
    /// should: an independent statement of what the reader keeps.
    fn project(value: &Json, keep: &PathNode) -> Json {
        if keep.is_leaf() {
            return value.clone();
        }
        match value {
            Json::Object(members) => Json::Object(
                members
                    .iter()
                    .filter_map(|(key, member)| keep.fields.get(key).map(|child| (key.clone(), project(member, child))))
                    .collect(),
            ),
            Json::Array(items) => match &keep.elements {
                Some(element) => Json::Array(items.iter().map(|item| project(item, element)).collect()),
                None => value.clone(),
            },
            scalar => scalar.clone(),
        }
    }

    /// Asserts that the projecting reader accepts `text` exactly when the standard reader
    /// does, and then keeps the part of the standard reader's value that the projection names.
    fn assert_reads_like_standard(text: &[u8], projection: &Projection) {
        let standard = crate::input::parse_json_line(text);
        let plan = ReadPlan::new(projection);
        let mut document = Document::default();
        let projected = parse_into(text, &plan, &mut document);
        let line = String::from_utf8_lossy(text);
        match (&standard, projected) {
            (Ok(value), Ok(())) => {
                let root = document.root().expect("a root");
                assert_eq!(root.to_json(), project(value, &projection.root), "{line}");
            }
            // Not an object: the standard reader rejects it, the projecting reader leaves
            // the check to its callers.
            (Err(reason), Ok(())) if reason.starts_with("expected a JSON object") => {}
            (Err(_), Err(_)) => {}
            (standard, projected) => panic!("standard {standard:?}, projecting {projected:?}: {line}"),
        }
    }

    const RECORD: &str = r#"{"run_id":"r-1","status":"ok","steps":[{"name":"select_vendor","latency_ms":12,"input":{"q":"pumps \"x\"","tags":[1,-2.5e3,true,null,{}]},"output":{"catalog":"approved-2025","score":0.5}},{"name":"quote","output":{"unit_price":4.6E+1,"note":"caf\u00e9 \ud83d\ude00 \n"}}],"outcome":{"vendor":{"id":"V-1","name":"Acme"},"total":-0.0,"sku":"ABC-123456","lines":[[],[0,1]]},"extra":{"a":{"b":[false,"\\\/"]}}}"#;

    fn projections() -> Vec<Projection> {
        vec![
            projection(&["outcome.vendor.id", "outcome.total", "steps[].name", "steps[].output.catalog"]),
            projection(&["run_id", "extra.a", "outcome.lines[]"]),
            projection(&["steps[].input.q", "steps[].output.note", "missing.field"]),
        ]
    }

    #[test]
    fn reader_matches_standard_on_realistic_record() {
        for projection in projections() {
            assert_reads_like_standard(RECORD.as_bytes(), &projection);
        }
    }

    #[test]
    fn reader_matches_standard_on_one_byte_edits() {
        // Replacing, deleting or inserting one JSON-significant byte anywhere in the record
        // gives a mix of valid and invalid lines. The reader must agree with serde_json on
        // every one, in values it keeps and in values it skips.
        let bytes = RECORD.as_bytes();
        let projections = projections();
        let mut rejected = 0;
        for variant in one_byte_edits(bytes) {
            rejected += usize::from(crate::input::parse_json_line(&variant).is_err());
            for projection in &projections {
                assert_reads_like_standard(&variant, projection);
            }
        }
        // Most changes break the record, and some keep it valid: both sides are exercised.
        assert!(rejected > bytes.len() * 10, "{rejected} rejected");
    }

    #[test]
    fn reader_matches_standard_on_edge_cases() {
        let cases: &[&[u8]] = &[
            br#"{"a":"\ud800"}"#,
            br#"{"a":"\udc00"}"#,
            br#"{"a":"\ud800\ud800"}"#,
            br#"{"a":"\ud800\u0041"}"#,
            br#"{"a":"\ud800x"}"#,
            br#"{"a":"\ud83d\ude00"}"#,
            br#"{"a":"\u12G4"}"#,
            br#"{"a":"\u12"}"#,
            br#"{"a":"\x"}"#,
            b"{\"a\":\"tab\there\"}",
            b"{\"a\":\"\xff\"}",
            b"{\"a\":\"\xc3\xa9\"}",
            b"{\"a\":1}\x0c",
            b"\r\n\t {\"a\" : 1 } \r",
            br#"{"a":01}"#,
            br#"{"a":-}"#,
            br#"{"a":-0}"#,
            br#"{"a":1.}"#,
            br#"{"a":.5}"#,
            br#"{"a":1e}"#,
            br#"{"a":1e+}"#,
            br#"{"a":1E-5}"#,
            br#"{"a":1e400}"#,
            br#"{"a":123456789012345678901234567890}"#,
            br#"{"a":tru}"#,
            br#"{"a":nulll}"#,
            br#"{"a":True}"#,
            br#"{"a":[1,]}"#,
            br#"{"a":1,}"#,
            br#"{"a" 1}"#,
            br#"{"":1}"#,
            br#"{"a":1}{"#,
            br#"{"a":"open}"#,
            br#"{"a":[1,2}"#,
            br#"{"a":1"#,
            br#"{1:1}"#,
            br#"{"\u0061":"escaped key"}"#,
            br#"{"a":1,"a":2}"#,
            b"",
            b"[1]",
            b"\"text\"",
        ];
        let reading = projection(&["a", "b.c"]);
        let skipping = projection(&["b"]);
        for case in cases {
            assert_reads_like_standard(case, &reading);
            assert_reads_like_standard(case, &skipping);
        }
    }

    #[test]
    fn nesting_limit_applies_to_skipped_values() {
        let nested = |levels: usize| format!("{}{}", "[".repeat(levels), "]".repeat(levels));
        for levels in [MAX_DEPTH - 1, MAX_DEPTH, 200] {
            for field in ["read", "skipped"] {
                let text = format!(r#"{{"{field}":{}}}"#, nested(levels));
                let accepted = parse_projected(text.as_bytes(), &projection(&["read"])).is_ok();
                assert_eq!(accepted, levels < MAX_DEPTH, "{levels} levels in a {field} field");
                assert_reads_like_standard(text.as_bytes(), &projection(&["read"]));
            }
        }
    }

    #[test]
    fn near_miss_keys_are_not_matched() {
        // Keys of every length class the comparison treats apart: 1 to 3 bytes, 4 to 7,
        // 8 to 16, longer, and past 63 bytes, where the filter's bit stops growing. Each
        // sits beside decoys of the same length that differ from it in one byte.
        let names: Vec<String> = [1, 3, 4, 7, 8, 12, 16, 17, 70]
            .iter()
            .map(|&length| (0..length).map(|at| char::from(b'a' + (at % 26) as u8)).collect())
            .chain(["é".to_string(), "naïve_ü".to_string()])
            .collect();
        let paths: Vec<&str> = names.iter().map(String::as_str).collect();
        let projection = projection(&paths);
        for name in &names {
            let mut members: Vec<String> = (0..name.len())
                .filter(|&at| name.is_char_boundary(at) && name.is_char_boundary(at + 1))
                .map(|at| {
                    let mut decoy = name.clone().into_bytes();
                    decoy[at] = if decoy[at] == b'Z' { b'Y' } else { b'Z' };
                    format!(r#""{}":"decoy {at}""#, String::from_utf8(decoy).unwrap())
                })
                .collect();
            // The key itself comes first and in the middle, so decoys follow each.
            members.insert(members.len() / 2, format!(r#""{name}":"last""#));
            members.insert(0, format!(r#""{name}":"first""#));
            let text = format!("{{{}}}", members.join(","));
            assert_reads_like_standard(text.as_bytes(), &projection);

            let plan = ReadPlan::new(&projection);
            let mut document = Document::default();
            parse_into(text.as_bytes(), &plan, &mut document).unwrap();
            let found = document.root().unwrap().get(name).map(|value| value.to_json());
            // With duplicate keys the last one counts, as in serde_json.
            assert_eq!(found, Some(Json::from("last")), "{text}");
        }
    }

    #[test]
    fn array_len_counts_top_level_elements() {
        assert_eq!(array_len("[]"), Some(0));
        assert_eq!(array_len(r#" [1, "a,b", [2, 3], {"c": [4]}] "#), Some(4));
        assert_eq!(array_len(r#"{"a": 1}"#), None);
    }

    #[test]
    fn malformed_text_is_an_error() {
        let projection = projection(&["a"]);
        assert!(parse_projected(br#"{"a": tru}"#, &projection).is_err());
        assert!(parse_projected(br#"{"a": 1} x"#, &projection).is_err());
    }
}
