//! The canonical form of a run body. Its hash distinguishes a resubmitted run (same
//! content) from a different run under a known run id.
//!
//! Two bodies are the same run when they differ only in layout: white space,
//! the order of object keys, and how a number is written (`14.2`, `14.20` and
//! `1.42e1` are one number). Everything else, including array order and the
//! difference between a number and the text of that number, makes them different.

use std::borrow::Cow;
use std::cell::RefCell;
use std::cmp::Ordering;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde_json::Value as Json;
use sha2::{Digest, Sha256};

use crate::input::MAX_DEPTH;
use crate::input::projected::special_byte;

/// Returns `sha256:` and the hex digest of the canonical form of `record`.
pub fn body_hash(record: &Json) -> String {
    let mut canonical = Vec::new();
    write_canonical(record, &mut canonical);
    hash_of(&canonical)
}

/// Returns the hash [`body_hash`] gives for the JSON text `text`, without building a
/// JSON value: `None` when the text nests more than [`MAX_DEPTH`] arrays and objects.
///
/// `text` must be valid JSON, as a validating parser has already found it to be. The
/// text of invalid JSON gets some hash or `None`, never a panic.
pub fn body_hash_of_text(text: &[u8]) -> Option<String> {
    thread_local! {
        /// Buffers kept from one call to the next on this thread, so hashing a run
        /// allocates only the returned text.
        static BUFFERS: RefCell<Buffers> = RefCell::default();
    }
    BUFFERS.with_borrow_mut(|buffers| {
        let Buffers { canonical, members, keys, object } = buffers;
        canonical.clear();
        members.clear();
        keys.clear();
        let mut writer = TextWriter { text, at: 0, copied: 0, depth: 0, out: canonical, members, keys, object };
        let written = writer.value().map(|()| {
            writer.flush();
            hash_of(writer.out)
        });
        // A run far larger than most would keep its memory on this thread for good.
        if canonical.capacity() > MAX_KEPT_BUFFER {
            *buffers = Buffers::default();
        }
        written
    })
}

/// Capacity of the canonical text above which [`body_hash_of_text`] frees its buffers.
const MAX_KEPT_BUFFER: usize = 1 << 20;

#[derive(Default)]
struct Buffers {
    canonical: Vec<u8>,
    members: Vec<Member>,
    keys: Vec<u8>,
    object: Vec<u8>,
}

fn hash_of(canonical: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let digest = Sha256::digest(canonical);
    let mut hash = String::with_capacity(7 + 2 * digest.len());
    hash.push_str("sha256:");
    for byte in digest {
        hash.push(HEX[usize::from(byte >> 4)] as char);
        hash.push(HEX[usize::from(byte & 0xF)] as char);
    }
    hash
}

/// One member of an object being written.
struct Member {
    /// The key's first eight bytes, big-endian and padded with zeros: keys whose
    /// prefixes differ are in the order of their prefixes, which settles most comparisons.
    prefix: u64,
    /// The key's byte range: in the text, without quotes, when it has no escapes, or
    /// else in the decoded keys of [`TextWriter::keys`].
    key: (usize, usize),
    decoded: bool,
    /// The byte range of the member's canonical form (`"key":value`) in the output.
    written: (usize, usize),
}

/// Writes the canonical form of valid JSON text, as [`write_canonical`] writes the
/// parsed value. Most of compact text is its own canonical form, so the text is copied
/// in spans: `text[copied..at]` is canonical and not yet copied. White space, numbers
/// in another notation and strings with escapes end a span. An object's members are
/// written in input order, then moved into key order when they were not in it.
struct TextWriter<'t, 'b> {
    text: &'t [u8],
    at: usize,
    copied: usize,
    depth: usize,
    out: &'b mut Vec<u8>,
    /// The members of the objects being written, innermost last.
    members: &'b mut Vec<Member>,
    /// The decoded keys that have escapes.
    keys: &'b mut Vec<u8>,
    /// The buffer in which an object's members are put in key order before they
    /// replace the members in input order.
    object: &'b mut Vec<u8>,
}

impl TextWriter<'_, '_> {
    /// Copies the canonical text read since the last copy.
    fn flush(&mut self) {
        self.out.extend_from_slice(&self.text[self.copied..self.at]);
        self.copied = self.at;
    }

    /// Returns the output offset that the text at `at` will have once it is copied. The
    /// text from `copied` to `at` must be canonical and not yet copied.
    fn written_at(&self, at: usize) -> usize {
        self.out.len() + at - self.copied
    }

    /// Writes `canonical` in place of `text[self.copied..end]`, which ends at `self.at`.
    fn replace(&mut self, end: usize, canonical: &[u8]) {
        self.out.extend_from_slice(&self.text[self.copied..end]);
        self.out.extend_from_slice(canonical);
        self.copied = self.at;
    }

    #[inline(always)]
    fn skip_space(&mut self) {
        if self.text.get(self.at).is_some_and(|&byte| byte > b' ') {
            return;
        }
        let start = self.at;
        while self.text.get(self.at).is_some_and(|byte| matches!(byte, b' ' | b'\t' | b'\n' | b'\r')) {
            self.at += 1;
        }
        if self.at > start {
            self.out.extend_from_slice(&self.text[self.copied..start]);
            self.copied = self.at;
        }
    }

    /// Consumes `byte` after white space and returns whether it was there.
    #[inline(always)]
    fn eat(&mut self, byte: u8) -> bool {
        self.skip_space();
        let found = self.text.get(self.at) == Some(&byte);
        self.at += usize::from(found);
        found
    }

    fn value(&mut self) -> Option<()> {
        self.skip_space();
        match *self.text.get(self.at)? {
            opening @ (b'{' | b'[') => {
                self.depth += 1;
                if self.depth > MAX_DEPTH {
                    return None;
                }
                if opening == b'{' {
                    self.object()?
                } else {
                    self.array()?
                }
                self.depth -= 1;
            }
            b'"' => {
                let (start, escaped) = self.string()?;
                if escaped {
                    let decoded: String = serde_json::from_slice(&self.text[start..self.at]).ok()?;
                    let mut canonical = Vec::with_capacity(decoded.len() + 2);
                    write_string(&decoded, &mut canonical);
                    self.replace(start, &canonical);
                }
            }
            _ => {
                let start = self.at;
                while self
                    .text
                    .get(self.at)
                    .is_some_and(|byte| !matches!(byte, b',' | b']' | b'}' | b' ' | b'\t' | b'\n' | b'\r'))
                {
                    self.at += 1;
                }
                let token = &self.text[start..self.at];
                if !matches!(token, b"true" | b"false" | b"null") && !is_canonical_number(token) {
                    if let Cow::Owned(canonical) = canonical_number(std::str::from_utf8(token).ok()?) {
                        self.replace(start, canonical.as_bytes());
                    }
                }
            }
        }
        Some(())
    }

    fn array(&mut self) -> Option<()> {
        self.at += 1;
        if self.eat(b']') {
            return Some(());
        }
        loop {
            self.value()?;
            if self.eat(b']') {
                return Some(());
            }
            if !self.eat(b',') {
                return None;
            }
        }
    }

    /// Writes the members in input order, then reorders them when their keys were not
    /// already in order or repeat.
    fn object(&mut self) -> Option<()> {
        let start = self.written_at(self.at);
        self.at += 1;
        let first_member = self.members.len();
        let first_key = self.keys.len();
        let mut in_order = true;
        if !self.eat(b'}') {
            loop {
                self.skip_space();
                let member_start = self.written_at(self.at);
                let (key_start, escaped) = self.string()?;
                let (key, decoded) = if escaped {
                    let decoded: String = serde_json::from_slice(&self.text[key_start..self.at]).ok()?;
                    let mut canonical = Vec::with_capacity(decoded.len() + 2);
                    write_string(&decoded, &mut canonical);
                    self.replace(key_start, &canonical);
                    let stored = self.keys.len();
                    self.keys.extend_from_slice(decoded.as_bytes());
                    ((stored, self.keys.len()), true)
                } else {
                    ((key_start + 1, self.at - 1), false)
                };
                if !self.eat(b':') {
                    return None;
                }
                self.value()?;
                let mut member = Member { prefix: 0, key, decoded, written: (member_start, self.written_at(self.at)) };
                member.prefix = prefix_of(self.key(&member));
                if let Some(previous) = self.members[first_member..].last() {
                    in_order &= self.compare(previous, &member).is_lt();
                }
                self.members.push(member);
                if self.eat(b'}') {
                    break;
                }
                if !self.eat(b',') {
                    return None;
                }
            }
        }

        if !in_order {
            self.flush();
            // A stable sort keeps members with the same key in input order; the last
            // one counts, as when serde_json reads the object.
            let mut members = std::mem::take(self.members);
            let sorted = &mut members[first_member..];
            sorted.sort_by(|a, b| self.compare(a, b));
            self.object.clear();
            self.object.push(b'{');
            for (index, member) in sorted.iter().enumerate() {
                if sorted.get(index + 1).is_some_and(|next| self.compare(member, next).is_eq()) {
                    continue;
                }
                if self.object.len() > 1 {
                    self.object.push(b',');
                }
                let (from, to) = member.written;
                self.object.extend_from_slice(&self.out[from..to]);
            }
            self.object.push(b'}');
            self.out.truncate(start);
            self.out.extend_from_slice(self.object);
            *self.members = members;
        }
        self.members.truncate(first_member);
        self.keys.truncate(first_key);
        Some(())
    }

    /// Orders two members by their keys' bytes.
    #[inline(always)]
    fn compare(&self, a: &Member, b: &Member) -> Ordering {
        a.prefix.cmp(&b.prefix).then_with(|| self.key(a).cmp(self.key(b)))
    }

    fn key(&self, member: &Member) -> &[u8] {
        let source = if member.decoded { &self.keys[..] } else { self.text };
        &source[member.key.0..member.key.1]
    }

    /// Consumes a string and returns where it starts and whether it has an escape.
    /// Returns `None` for a control character: JSON has none, so such text is left
    /// to serde_json, which rejects it.
    #[inline(always)]
    fn string(&mut self) -> Option<(usize, bool)> {
        let start = self.at;
        if self.text.get(start) != Some(&b'"') {
            return None;
        }
        let mut at = special_byte(self.text, start + 1)?;
        let mut escaped = false;
        loop {
            match self.text[at] {
                b'"' => {
                    self.at = at + 1;
                    return Some((start, escaped));
                }
                b'\\' => {
                    escaped = true;
                    // An escape is at least two bytes; text that ends inside one is not JSON.
                    if at + 2 > self.text.len() {
                        return None;
                    }
                    at = special_byte(self.text, at + 2)?;
                }
                _ => return None,
            }
        }
    }
}

/// Returns the first eight bytes of `key` as a big-endian number, padded with zeros.
#[inline(always)]
fn prefix_of(key: &[u8]) -> u64 {
    match key.first_chunk::<8>() {
        Some(first) => u64::from_be_bytes(*first),
        // Byte by byte: a copy of a length known only at run time would call `memcpy`.
        None => key.iter().enumerate().fold(0, |prefix, (index, &byte)| prefix | u64::from(byte) << (56 - 8 * index)),
    }
}

/// Writes `text` as a JSON string, escaped as serde_json escapes it.
fn write_string(text: &str, out: &mut Vec<u8>) {
    serde_json::to_writer(&mut *out, text).expect("writing JSON to memory cannot fail");
}

/// Writes `value` as compact JSON with object keys in byte order and numbers in
/// their shortest decimal form.
pub fn write_canonical(value: &Json, out: &mut Vec<u8>) {
    match value {
        Json::Null | Json::Bool(_) | Json::String(_) => {
            serde_json::to_writer(&mut *out, value).expect("writing JSON to memory cannot fail");
        }
        Json::Number(number) => out.extend_from_slice(canonical_number(number.as_str()).as_bytes()),
        Json::Array(items) => {
            out.push(b'[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push(b',');
                }
                write_canonical(item, out);
            }
            out.push(b']');
        }
        Json::Object(members) => {
            let mut sorted: Vec<(&String, &Json)> = members.iter().collect();
            sorted.sort_by(|a, b| a.0.cmp(b.0));
            out.push(b'{');
            for (index, (key, item)) in sorted.into_iter().enumerate() {
                if index > 0 {
                    out.push(b',');
                }
                serde_json::to_writer(&mut *out, key).expect("writing JSON to memory cannot fail");
                out.push(b':');
                write_canonical(item, out);
            }
            out.push(b'}');
        }
    }
}

/// Returns the number's value as a normalized decimal. A number too large or too small
/// for a decimal is written as serde_json keeps its text: as written, but with a
/// lowercase `e` and a sign after it.
///
/// NOTE: `Decimal::from_str` rounds a fraction to 28 significant digits, so numbers
/// that differ only past the 28th digit get the same canonical form.
fn canonical_number(text: &str) -> Cow<'_, str> {
    if is_canonical_number(text.as_bytes()) {
        return Cow::Borrowed(text);
    }
    let exponent = text.find(['e', 'E']);
    let parsed = if exponent.is_some() { Decimal::from_scientific(text) } else { Decimal::from_str(text) };
    match (parsed, exponent) {
        (Ok(value), _) => Cow::Owned(value.normalize().to_string()),
        (Err(_), Some(at)) => {
            let (mantissa, power) = (&text[..at], &text[at + 1..]);
            let signed = power.starts_with(['+', '-']);
            if signed && text.as_bytes()[at] == b'e' {
                Cow::Borrowed(text)
            } else {
                let sign = if signed { "" } else { "+" };
                Cow::Owned(format!("{mantissa}e{sign}{power}"))
            }
        }
        (Err(_), None) => Cow::Borrowed(text),
    }
}

/// Returns whether `text` is a number as [`canonical_number`] writes it, so that most
/// numbers need no decimal arithmetic. Such a number has an optional minus, a whole
/// part without leading zeros and an optional fraction that does not end in zero. It
/// is at most 27 bytes long, within a decimal's 28 digits. `-0` is not canonical,
/// because its canonical form is `0`.
fn is_canonical_number(text: &[u8]) -> bool {
    let digits = text.strip_prefix(b"-").unwrap_or(text);
    let (whole, fraction) = match digits.iter().position(|&byte| byte == b'.') {
        Some(point) => (&digits[..point], Some(&digits[point + 1..])),
        None => (digits, None),
    };
    let all_digits = |part: &[u8]| part.iter().all(u8::is_ascii_digit);
    text.len() <= 27
        && !whole.is_empty()
        && all_digits(whole)
        && (whole[0] != b'0' || whole.len() == 1)
        && match fraction {
            Some(fraction) => all_digits(fraction) && fraction.last().is_some_and(|&last| last != b'0'),
            None => digits.len() == text.len() || whole != b"0",
        }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hash(text: &str) -> String {
        body_hash(&serde_json::from_str(text).unwrap())
    }

    #[test]
    fn key_order_and_white_space_do_not_matter() {
        assert_eq!(hash(r#"{"a": 1, "b": [1, 2]}"#), hash(r#"{"b":[1,2],"a":1}"#));
    }

    #[test]
    fn number_notation_does_not_matter() {
        assert_eq!(hash(r#"{"price": 14.2}"#), hash(r#"{"price": 14.20}"#));
        assert_eq!(hash(r#"{"price": 14.2}"#), hash(r#"{"price": 1.42e1}"#));
    }

    #[test]
    fn values_and_array_order_matter() {
        assert_ne!(hash(r#"{"price": 14.2}"#), hash(r#"{"price": 14.21}"#));
        assert_ne!(hash(r#"{"price": 14.2}"#), hash(r#"{"price": "14.2"}"#));
        assert_ne!(hash(r#"[1, 2]"#), hash(r#"[2, 1]"#));
    }

    #[test]
    fn numbers_already_canonical_are_recognized() {
        let numbers = [
            "0",
            "-0",
            "7",
            "-7",
            "10",
            "120",
            "-120",
            "0.5",
            "-0.5",
            "0.50",
            "-0.0",
            "0.0",
            "1.0",
            "9.6",
            "33820.8",
            "33820.80",
            "0.000001",
            "-0.000001",
            "1.25",
            "100.01",
            "12345678901234567890.123456",
            "00",
            "01",
            "-01",
            "1e3",
            "1E3",
            "1.5e-2",
            "-",
            "",
            ".5",
            "5.",
            "1.2.3",
            "--1",
            "12a",
            "1234567890123456789012345678",
        ];
        for number in numbers {
            let standard = Decimal::from_str(number).ok().map(|value| value.normalize().to_string());
            let recognized = is_canonical_number(number.as_bytes());
            if recognized {
                assert_eq!(standard.as_deref(), Some(number), "`{number}` is taken as canonical but is not");
            }
            let written_as_is = standard.as_deref() == Some(number) && number.len() <= 27;
            assert_eq!(recognized, written_as_is, "`{number}`");
        }
    }

    #[test]
    fn huge_exponents_keep_parsed_text() {
        for (text, parsed) in [("2e50", "2e+50"), ("2E50", "2e+50"), ("2E-50", "2e-50"), ("2e+50", "2e+50")] {
            assert_eq!(hash(text), hash(parsed), "{text}");
            assert_eq!(body_hash_of_text(text.as_bytes()), Some(hash(parsed)), "{text}");
        }
        assert_ne!(hash("2e50"), hash("2e51"));
    }

    #[test]
    fn huge_integers_keep_every_digit() {
        assert_ne!(hash("123456789012345678901234567890123"), hash("123456789012345678901234567890124"));
    }

    /// Both hashes of `text`, which must be valid JSON.
    fn both(text: &str) -> (String, Option<String>) {
        (hash(text), body_hash_of_text(text.as_bytes()))
    }

    #[test]
    fn text_hash_equals_value_hash_on_tricky_values() {
        let cases = [
            r#"{"b": 1, "a": {"d": [1, 2.50, -0, 0.0, 1e3, -1.5E-2, 10, 0], "c": null}}"#,
            r#"{"s": "tab\tquote\"slash\/back\\ \u00e9 \ud83d\ude00 \u001f", "e": "", "u": "é"}"#,
            r#"{"k\u0041": 1, "kA": 2, "kB": 3}"#,
            r#"{"dup": 1, "x": true, "dup": 2, "y": false, "dup": {"z": 3}}"#,
            r#"{"n": 123456789012345678901234567890123, "m": 9007199254740993, "l": 1234567890123456789012345678}"#,
            "  {\n\t\"a\" :\r\n [ ] , \"b\":{ } }  ",
            r#"[{"b": 1, "a": 2}, "x", 3, [true, null]]"#,
            r#""plain""#,
            "17",
        ];
        for case in cases {
            let (expected, found) = both(case);
            assert_eq!(found.as_deref(), Some(expected.as_str()), "{case}");
        }
    }

    #[test]
    fn text_hash_matches_on_bundled_runs() {
        let runs = include_str!("../../examples/procurement/runs.jsonl");
        let mut checked = 0;
        for line in runs.lines().filter(|line| !line.trim().is_empty()) {
            let (expected, found) = both(line);
            assert_eq!(found.as_deref(), Some(expected.as_str()), "{line}");
            checked += 1;
        }
        assert!(checked >= 1000, "{checked} runs checked");
    }

    #[test]
    fn edited_text_hashes_like_its_value() {
        // White space, escapes, repeated and unordered keys, and numbers in several
        // notations, so that every way text and canonical form differ is near some edit.
        let record = r#"{"z": [1, 2.50, -0, 1e3, 1e99, 2E-99, 3e+99, {"b": "x\"y", "a": null}], "k\u0041": true, "kA": false, "m": {"d": 1, "d": -1.5E-2}, "s": "\u00e9t\u00e9"}"#;
        let bytes = record.as_bytes();
        let (mut valid, mut invalid) = (0, 0);
        for variant in crate::input::projected::one_byte_edits(bytes) {
            let found = body_hash_of_text(&variant);
            match serde_json::from_slice::<Json>(&variant) {
                Ok(value) => {
                    valid += 1;
                    let text = String::from_utf8_lossy(&variant);
                    assert_eq!(found.as_deref(), Some(body_hash(&value).as_str()), "{text}");
                }
                Err(_) => invalid += 1,
            }
        }
        // Both kinds of text are exercised.
        assert!(valid > bytes.len(), "{valid} valid");
        assert!(invalid > bytes.len() * 10, "{invalid} invalid");
    }

    #[test]
    fn text_hash_refuses_nesting_past_the_limit() {
        let at_limit = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(body_hash_of_text(at_limit.as_bytes()).is_some());
        let past_limit = format!("{{\"a\":{}{}}}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(body_hash_of_text(past_limit.as_bytes()).is_none());
        let far_past = "[".repeat(1_000_000);
        assert!(body_hash_of_text(far_past.as_bytes()).is_none());
    }

    #[test]
    fn text_hash_of_broken_text_does_not_panic() {
        assert!(body_hash_of_text(b"{\"a\": \"tab\there\"}").is_none());
        for text in ["", "{", r#"{"a""#, r#"{"a":"#, r#"{"a":1"#, "[1,", r#""abc"#, r#"{"a\"#, "[1 2]", r#"{1:2}"#] {
            let _ = body_hash_of_text(text.as_bytes());
        }
    }
}
