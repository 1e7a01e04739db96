//! The canonical form of a run body. Its hash distinguishes a resubmitted run (same
//! content) from a different run under a known run id.
//!
//! Two bodies are the same run when they differ only in layout: white space,
//! the order of object keys, and how a number is written (`14.2`, `14.20` and
//! `1.42e1` are one number). Everything else, including array order and the
//! difference between a number and the text of that number, makes them different.

use std::borrow::Cow;
use std::ops::Range;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde_json::Value as Json;
use sha2::{Digest, Sha256};

use crate::input::MAX_DEPTH;

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
    let mut writer = TextWriter { text, at: 0, depth: 0, members: Vec::new(), object: Vec::new() };
    let mut canonical = Vec::with_capacity(text.len());
    writer.value(&mut canonical)?;
    Some(hash_of(&canonical))
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

/// Writes the canonical form of valid JSON text, value by value, as [`write_canonical`]
/// writes the parsed value: an object's members are written first in input order,
/// then moved into key order.
struct TextWriter<'t> {
    text: &'t [u8],
    at: usize,
    depth: usize,
    /// The members of the objects being written: a decoded key, as UTF-8 bytes, and
    /// where the member's canonical form (`"key":value`) lies in the output.
    members: Vec<(Cow<'t, [u8]>, Range<usize>)>,
    /// The buffer in which an object's members are put in key order before they
    /// replace the members in input order.
    object: Vec<u8>,
}

impl<'t> TextWriter<'t> {
    fn skip_space(&mut self) {
        while self.text.get(self.at).is_some_and(|byte| matches!(byte, b' ' | b'\t' | b'\n' | b'\r')) {
            self.at += 1;
        }
    }

    /// Consumes `byte` after white space and returns whether it was there.
    fn eat(&mut self, byte: u8) -> bool {
        self.skip_space();
        let found = self.text.get(self.at) == Some(&byte);
        self.at += usize::from(found);
        found
    }

    fn value(&mut self, out: &mut Vec<u8>) -> Option<()> {
        self.skip_space();
        match *self.text.get(self.at)? {
            b'{' => self.nested(out, Self::object),
            b'[' => self.nested(out, Self::array),
            b'"' => {
                let (raw, escaped) = self.string()?;
                if escaped {
                    let decoded: String = serde_json::from_slice(raw).ok()?;
                    write_string(&decoded, out);
                } else {
                    out.extend_from_slice(raw);
                }
                Some(())
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
                match &self.text[start..self.at] {
                    word @ (b"true" | b"false" | b"null") => out.extend_from_slice(word),
                    number => out.extend_from_slice(canonical_number(std::str::from_utf8(number).ok()?).as_bytes()),
                }
                Some(())
            }
        }
    }

    /// Writes an array or object one level deeper, or returns `None` past [`MAX_DEPTH`] levels.
    fn nested(&mut self, out: &mut Vec<u8>, write: fn(&mut Self, &mut Vec<u8>) -> Option<()>) -> Option<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return None;
        }
        self.at += 1;
        write(self, out)?;
        self.depth -= 1;
        Some(())
    }

    fn array(&mut self, out: &mut Vec<u8>) -> Option<()> {
        out.push(b'[');
        if self.eat(b']') {
            out.push(b']');
            return Some(());
        }
        loop {
            self.value(out)?;
            if self.eat(b']') {
                out.push(b']');
                return Some(());
            }
            if !self.eat(b',') {
                return None;
            }
            out.push(b',');
        }
    }

    /// Writes the members in input order, then reorders them when their keys were not
    /// already in order or repeat.
    fn object(&mut self, out: &mut Vec<u8>) -> Option<()> {
        let start = out.len();
        let first_member = self.members.len();
        let mut in_order = true;
        out.push(b'{');
        if !self.eat(b'}') {
            loop {
                self.skip_space();
                let member_start = out.len() + usize::from(self.members.len() > first_member);
                if member_start > out.len() {
                    out.push(b',');
                }
                let (raw, escaped) = self.string()?;
                let key = if escaped {
                    let decoded: String = serde_json::from_slice(raw).ok()?;
                    write_string(&decoded, out);
                    Cow::Owned(decoded.into_bytes())
                } else {
                    out.extend_from_slice(raw);
                    Cow::Borrowed(&raw[1..raw.len() - 1])
                };
                if !self.eat(b':') {
                    return None;
                }
                out.push(b':');
                self.value(out)?;
                if let Some((previous, _)) = self.members[first_member..].last() {
                    in_order &= *previous < key;
                }
                self.members.push((key, member_start..out.len()));
                if self.eat(b'}') {
                    break;
                }
                if !self.eat(b',') {
                    return None;
                }
            }
        }
        out.push(b'}');

        if !in_order {
            // A stable sort keeps members with the same key in input order; the last
            // one counts, as when serde_json reads the object.
            let members = &mut self.members[first_member..];
            members.sort_by(|a, b| a.0.cmp(&b.0));
            self.object.clear();
            self.object.push(b'{');
            for (index, (key, member)) in members.iter().enumerate() {
                if members.get(index + 1).is_some_and(|next| next.0 == *key) {
                    continue;
                }
                if self.object.len() > 1 {
                    self.object.push(b',');
                }
                self.object.extend_from_slice(&out[member.clone()]);
            }
            self.object.push(b'}');
            out.truncate(start);
            out.extend_from_slice(&self.object);
        }
        self.members.truncate(first_member);
        Some(())
    }

    /// Consumes a string and returns its source text, quotes included, and whether
    /// it has an escape. Returns `None` for an unescaped string with a control character.
    fn string(&mut self) -> Option<(&'t [u8], bool)> {
        let start = self.at;
        if self.text.get(start) != Some(&b'"') {
            return None;
        }
        let mut escaped = false;
        let mut at = start + 1;
        loop {
            at += memchr::memchr2(b'"', b'\\', self.text.get(at..)?)?;
            if self.text[at] == b'"' {
                self.at = at + 1;
                let raw = &self.text[start..self.at];
                // JSON has no raw control characters, so such text is left to serde_json,
                // which rejects it. An escaped string is decoded by serde_json anyway.
                if !escaped && raw.iter().any(|&byte| byte < 0x20) {
                    return None;
                }
                return Some((raw, escaped));
            }
            escaped = true;
            at += 2;
        }
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

/// Returns the number's value as a normalized decimal, or its text as written when
/// it does not fit a decimal (more than 28 significant digits).
fn canonical_number(text: &str) -> Cow<'_, str> {
    // A whole number without a sign or leading zero is already in its shortest form.
    let bytes = text.as_bytes();
    if !bytes.is_empty()
        && bytes.len() <= 28
        && bytes.iter().all(u8::is_ascii_digit)
        && (bytes[0] != b'0' || bytes.len() == 1)
    {
        return Cow::Borrowed(text);
    }
    let parsed = if text.contains(['e', 'E']) { Decimal::from_scientific(text) } else { Decimal::from_str(text) };
    match parsed {
        Ok(value) => Cow::Owned(value.normalize().to_string()),
        Err(_) => Cow::Borrowed(text),
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
