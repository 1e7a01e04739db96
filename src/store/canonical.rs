//! The canonical form of a run body. Its hash distinguishes a resubmitted run (same
//! content) from a different run under a known run id.
//!
//! Two bodies are the same run when they differ only in layout: white space,
//! the order of object keys, and how a number is written (`14.2`, `14.20` and
//! `1.42e1` are one number). Everything else, including array order and the
//! difference between a number and the text of that number, makes them different.

use std::str::FromStr;

use rust_decimal::Decimal;
use serde_json::Value as Json;
use sha2::{Digest, Sha256};

/// Returns `sha256:` and the hex digest of the canonical form of `record`.
pub fn body_hash(record: &Json) -> String {
    let mut canonical = Vec::new();
    write_canonical(record, &mut canonical);
    let digest = Sha256::digest(&canonical);
    format!("sha256:{}", digest.iter().map(|byte| format!("{byte:02x}")).collect::<String>())
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
fn canonical_number(text: &str) -> String {
    let parsed = if text.contains(['e', 'E']) { Decimal::from_scientific(text) } else { Decimal::from_str(text) };
    match parsed {
        Ok(value) => value.normalize().to_string(),
        Err(_) => text.to_string(),
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
}
