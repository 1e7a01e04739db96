//! A light pre-pass over a policy file, before pest sees it.
//!
//! It splits the file into top-level items (each starts with a declaration keyword
//! such as `policy`, `use`, `rule` or `slo` as the first word of a line, outside any bracket) so
//! that every item is parsed on its own and one syntax error does not hide the
//! next, and it rejects bracket nesting deeper than [`MAX_BRACKET_DEPTH`] with a
//! clear diagnostic instead of recursing into it.

use crate::diagnostic::{Diagnostic, SourceFile, Span};

/// Deepest allowed nesting of `(`, `[` and `{`.
pub const MAX_BRACKET_DEPTH: usize = 32;

/// Words that begin a top-level item when they are the first word of a line.
const ITEM_KEYWORDS: &[&str] = &["policy", "schema", "use", "event", "let", "segments", "rule", "slo", "costs", "test"];

/// Words after which a `/` opens a regex literal rather than a division.
const REGEX_PREFIX_WORDS: &[&str] = &["matches", "contains", "with"];

pub struct Scan {
    /// Byte ranges of the top-level items, in order; text between items is only
    /// whitespace and comments.
    pub items: Vec<Span>,
    pub diagnostics: Vec<Diagnostic>,
}

pub fn scan(source: &SourceFile) -> Scan {
    let text = source.text();
    let bytes = text.as_bytes();
    let mut items = Vec::new();
    let mut diagnostics = Vec::new();
    let mut depth = 0usize;
    let mut reported_depth = false;
    let mut at_line_start = true;
    let mut last_word = "";
    let mut item_start: Option<usize> = None;
    let mut i = 0;

    while i < bytes.len() {
        let b = bytes[i];
        match b {
            b'\n' => {
                at_line_start = true;
                i += 1;
                continue;
            }
            b' ' | b'\t' | b'\r' => {
                i += 1;
                continue;
            }
            b'#' => {
                i = skip_line(bytes, i);
                continue;
            }
            _ => {}
        }

        // Content outside any item: the start of a new item, or stray text that the
        // parser will report as it is.
        if item_start.is_none() {
            item_start = Some(i);
        }

        if b.is_ascii_alphabetic() || b == b'_' {
            let end = word_end(bytes, i);
            let word = &text[i..end];
            if at_line_start && depth == 0 && ITEM_KEYWORDS.contains(&word) {
                if let Some(start) = item_start.filter(|&start| start < i) {
                    items.push(Span::new(start, trim_end(text, i)));
                }
                item_start = Some(i);
            }
            last_word = word;
            at_line_start = false;
            i = end;
            continue;
        }
        at_line_start = false;

        match b {
            b'"' => i = skip_string(bytes, i),
            b'/' if REGEX_PREFIX_WORDS.contains(&last_word) => i = skip_regex(bytes, i),
            b'(' | b'[' | b'{' => {
                depth += 1;
                if depth > MAX_BRACKET_DEPTH && !reported_depth {
                    reported_depth = true;
                    diagnostics.push(
                        Diagnostic::error(
                            "semslo::parse::too_deep",
                            format!("brackets nested deeper than {MAX_BRACKET_DEPTH} levels"),
                        )
                        .in_file(source)
                        .with_label(Span::new(i, i + 1), "this bracket is too deep")
                        .with_help("split the expression with `let` bindings"),
                    );
                }
                i += 1;
            }
            b')' | b']' | b'}' => {
                depth = depth.saturating_sub(1);
                i += 1;
            }
            _ => i += char_len(b),
        }
        last_word = "";
    }
    if let Some(start) = item_start {
        items.push(Span::new(start, trim_end(text, text.len())));
    }
    Scan { items, diagnostics }
}

fn skip_line(bytes: &[u8], mut i: usize) -> usize {
    while i < bytes.len() && bytes[i] != b'\n' {
        i += 1;
    }
    i
}

fn word_end(bytes: &[u8], mut i: usize) -> usize {
    while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
        i += 1;
    }
    i
}

/// Skips a string literal starting at the opening quote; stops at the end of the line
/// if the string is not closed there (the parser reports it).
fn skip_string(bytes: &[u8], mut i: usize) -> usize {
    i += 1;
    while i < bytes.len() && bytes[i] != b'\n' {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return i + 1,
            _ => i += 1,
        }
    }
    i.min(bytes.len())
}

fn skip_regex(bytes: &[u8], mut i: usize) -> usize {
    i += 1;
    while i < bytes.len() && bytes[i] != b'\n' {
        match bytes[i] {
            b'\\' => i += 2,
            b'/' => return i + 1,
            _ => i += 1,
        }
    }
    i.min(bytes.len())
}

/// Length of the UTF-8 sequence that starts with byte `b`.
fn char_len(b: u8) -> usize {
    match b {
        0xF0..=0xFF => 4,
        0xE0..=0xEF => 3,
        0xC0..=0xDF => 2,
        _ => 1,
    }
}

/// Moves `end` back over trailing whitespace and comment lines so that an item's span
/// ends at its last token.
fn trim_end(text: &str, end: usize) -> usize {
    let mut end = end;
    loop {
        let trimmed = text[..end].trim_end();
        let line_start = trimmed.rfind('\n').map_or(0, |i| i + 1);
        let line = trimmed[line_start..].trim_start();
        if line.starts_with('#') && line_start > 0 {
            end = line_start;
        } else {
            return trimmed.len();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item_texts(text: &str) -> Vec<String> {
        let source = SourceFile::from_text("t.slo", text);
        let scan = scan(&source);
        scan.items.iter().map(|s| source.text()[s.start..s.end].to_string()).collect()
    }

    #[test]
    fn items_split_at_line_start_keywords() {
        let items = item_texts("policy p\n# comment\nrule a {\n  expect x\n}\n\nrule b { expect y }\n");
        assert_eq!(items, vec!["policy p", "rule a {\n  expect x\n}", "rule b { expect y }"]);
    }

    #[test]
    fn keywords_inside_braces_do_not_split() {
        let items = item_texts("rule a {\nlet x = 1\nexpect x == 1\n}\n");
        assert_eq!(items.len(), 1);
    }

    #[test]
    fn keyword_inside_string_or_regex_does_not_count() {
        let items = item_texts("rule a {\n expect x == \"}\"\n expect y matches /[}]/\n}\nrule b { expect z }");
        assert_eq!(items.len(), 2);
    }

    #[test]
    fn deep_brackets_are_reported_once() {
        let text = format!("rule a {{ expect {}1{} }}", "(".repeat(100), ")".repeat(100));
        let source = SourceFile::from_text("t.slo", &text);
        let scan = scan(&source);
        assert_eq!(scan.diagnostics.len(), 1);
        assert_eq!(scan.diagnostics[0].code, "semslo::parse::too_deep");
    }
}
