//! JSON text written directly, for the few shapes written once per stored run. The
//! output is byte for byte what `serde_json::to_string` writes for the same value.

/// Appends `text` as a JSON string. Most strings (names, ids, words) need no escape
/// and are copied between quotes; the others are escaped by serde_json.
pub(crate) fn push_string(out: &mut String, text: &str) {
    if text.bytes().any(|byte| byte < 0x20 || byte == b'"' || byte == b'\\') {
        out.push_str(&serde_json::to_string(text).expect("a string always serializes"));
    } else {
        out.push('"');
        out.push_str(text);
        out.push('"');
    }
}

/// Appends `key` as a JSON string and a colon, with a comma before unless `first`.
pub(crate) fn push_key(out: &mut String, key: &str, first: bool) {
    if !first {
        out.push(',');
    }
    push_string(out, key);
    out.push(':');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_match_serde_json() {
        for text in ["", "plain", "quote \" in", "back\\slash", "tab\there", "\u{1}\u{1f}\u{7f}", "é 😀", "</script>"]
        {
            let mut out = String::new();
            push_string(&mut out, text);
            assert_eq!(out, serde_json::to_string(text).unwrap(), "{text:?}");
        }
    }
}
