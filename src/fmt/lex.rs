//! Tokens and comments of a policy file with their byte offsets.
//!
//! pest skips comments, so the formatter finds them here. The lexer reads just enough
//! of the language to tell a `#` that starts a comment from one inside a string, a
//! regex literal (after `matches`, `contains` or `with`) or a JSON string, and to split
//! the rest into the tokens the printer matches its output against. It runs only on
//! files that parsed, so it does not report errors; on other text it still returns
//! some tokens and never panics.

use crate::diagnostic::Span;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TokenKind {
    /// A name or a keyword.
    Word,
    /// A number, percent, date, timestamp or duration literal.
    Number,
    String,
    Regex,
    Punct,
}

#[derive(Clone, Copy, Debug)]
pub(crate) struct Token {
    pub kind: TokenKind,
    pub span: Span,
}

#[derive(Clone, Copy, Debug)]
pub(crate) struct Comment {
    /// From `#` to the end of the line, without trailing white space.
    pub span: Span,
    /// A token comes before the comment on its line.
    pub trailing: bool,
    /// An empty line separates the comment from the token or comment before it.
    pub blank_before: bool,
    /// An empty line separates the comment from the token or comment after it.
    pub blank_after: bool,
}

#[derive(Debug, Default)]
pub(crate) struct Lexed {
    pub tokens: Vec<Token>,
    pub comments: Vec<Comment>,
}

/// For each token, the index of the bracket that matches it (`(` and `)`, `[` and `]`,
/// `{` and `}`), if it is a bracket with a partner.
pub(crate) fn bracket_partners(text: &str, tokens: &[Token]) -> Vec<Option<usize>> {
    let mut partners = vec![None; tokens.len()];
    let mut open: Vec<(usize, &str)> = Vec::new();
    for (i, token) in tokens.iter().enumerate() {
        let closes = match &text[token.span.start..token.span.end] {
            "(" | "[" | "{" => {
                open.push((i, &text[token.span.start..token.span.end]));
                continue;
            }
            ")" => "(",
            "]" => "[",
            "}" => "{",
            _ => continue,
        };
        if let Some(&(start, opener)) = open.last() {
            if opener == closes {
                open.pop();
                partners[start] = Some(i);
                partners[i] = Some(start);
            }
        }
    }
    partners
}

/// Words after which a `/` opens a regex literal rather than a division, as in the grammar.
const REGEX_PREFIX_WORDS: &[&str] = &["matches", "contains", "with"];

/// Splits `text` into tokens and comments.
pub(crate) fn lex(text: &str) -> Lexed {
    let mut lexer = Lexer { text, bytes: text.as_bytes(), lexed: Lexed::default(), newlines: 0, line_has_token: false };
    lexer.run();
    lexer.lexed
}

/// Returns the texts of all comments of `text`, in order, without trailing white space.
pub fn comment_texts(text: &str) -> Vec<String> {
    let lexed = lex(text);
    lexed.comments.iter().map(|c| text[c.span.start..c.span.end].to_string()).collect()
}

struct Lexer<'t> {
    text: &'t str,
    bytes: &'t [u8],
    lexed: Lexed,
    /// Line breaks since the last token or comment.
    newlines: usize,
    line_has_token: bool,
}

impl Lexer<'_> {
    fn run(&mut self) {
        let mut i = 0;
        while i < self.bytes.len() {
            i = match self.bytes[i] {
                b'\n' => self.line_break(i + 1),
                b'\r' if self.bytes.get(i + 1) == Some(&b'\n') => i + 1,
                b'\r' => self.line_break(i + 1),
                b' ' | b'\t' => i + 1,
                b'#' => self.comment(i),
                _ if self.text[i..].starts_with('\u{FEFF}') => i + '\u{FEFF}'.len_utf8(),
                b'"' => self.push(TokenKind::String, i, quoted_end(self.bytes, i, b'"')),
                b'/' if self.regex_allowed() => {
                    let mut end = quoted_end(self.bytes, i, b'/');
                    if self.bytes.get(end) == Some(&b'i') {
                        end += 1;
                    }
                    self.push(TokenKind::Regex, i, end)
                }
                b'0'..=b'9' => self.push(TokenKind::Number, i, number_end(self.bytes, i)),
                b if b.is_ascii_alphabetic() || b == b'_' => self.push(TokenKind::Word, i, word_end(self.bytes, i)),
                _ => self.push(TokenKind::Punct, i, punct_end(self.text, i)),
            };
        }
        if let Some(last) = self.lexed.comments.last_mut() {
            if self.lexed.tokens.last().is_none_or(|t| t.span.start < last.span.start) {
                last.blank_after = false;
            }
        }
    }

    fn line_break(&mut self, next: usize) -> usize {
        self.newlines += 1;
        self.line_has_token = false;
        next
    }

    fn comment(&mut self, start: usize) -> usize {
        let mut end = start;
        while end < self.bytes.len() && self.bytes[end] != b'\n' && self.bytes[end] != b'\r' {
            end += 1;
        }
        let trimmed = start + self.text[start..end].trim_end().len();
        let blank_before = self.newlines >= 2 && !self.is_start();
        self.close_previous_comment();
        self.lexed.comments.push(Comment {
            span: Span::new(start, trimmed),
            trailing: self.line_has_token,
            blank_before,
            blank_after: false,
        });
        self.newlines = 0;
        end
    }

    fn push(&mut self, kind: TokenKind, start: usize, end: usize) -> usize {
        let end = end.max(start + 1).min(self.bytes.len());
        self.close_previous_comment();
        self.lexed.tokens.push(Token { kind, span: Span::new(start, end) });
        self.newlines = 0;
        self.line_has_token = true;
        end
    }

    /// Sets `blank_after` of the comment just before the next token or comment.
    fn close_previous_comment(&mut self) {
        let newlines = self.newlines;
        if !self.last_was_comment() {
            return;
        }
        if let Some(comment) = self.lexed.comments.last_mut() {
            comment.blank_after = newlines >= 2;
        }
    }

    fn is_start(&self) -> bool {
        self.lexed.tokens.is_empty() && self.lexed.comments.is_empty()
    }

    fn last_was_comment(&self) -> bool {
        match (self.lexed.comments.last(), self.lexed.tokens.last()) {
            (Some(comment), Some(token)) => comment.span.start > token.span.start,
            (Some(_), None) => true,
            _ => false,
        }
    }

    /// Returns whether a `/` here opens a regex: it does right after `matches`, `contains`
    /// or `with`, unless that word is a field name (`outcome.contains / 2`).
    fn regex_allowed(&self) -> bool {
        let tokens = &self.lexed.tokens;
        let Some(last) = tokens.last() else { return false };
        let word = &self.text[last.span.start..last.span.end];
        let after_dot = tokens.len() >= 2 && {
            let before = tokens[tokens.len() - 2].span;
            &self.text[before.start..before.end] == "."
        };
        last.kind == TokenKind::Word && REGEX_PREFIX_WORDS.contains(&word) && !after_dot
    }
}

/// End of a string or regex literal opened at `start`; an unclosed one ends at the line end.
fn quoted_end(bytes: &[u8], start: usize, quote: u8) -> usize {
    let mut i = start + 1;
    while i < bytes.len() && bytes[i] != b'\n' && bytes[i] != b'\r' {
        if bytes[i] == b'\\' && i + 1 < bytes.len() && bytes[i + 1] != b'\n' {
            i += 2;
            continue;
        }
        if bytes[i] == quote {
            return i + 1;
        }
        i += 1;
    }
    i.min(bytes.len())
}

fn word_end(bytes: &[u8], mut i: usize) -> usize {
    while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
        i += 1;
    }
    i
}

/// End of a literal that starts with a digit: `1_000`, `14.20`, `99.5%`, `1h30m`,
/// `2025-06-01`, `2025-06-01T09:30:00.250+02:00`.
fn number_end(bytes: &[u8], start: usize) -> usize {
    let digits = |i: usize, n: usize| (i..i + n).all(|j| bytes.get(j).is_some_and(u8::is_ascii_digit));
    if digits(start, 4) && bytes.get(start + 4) == Some(&b'-') && digits(start + 5, 2) && digits(start + 8, 2) {
        let mut i = start + 10;
        if matches!(bytes.get(i), Some(b'T' | b't')) && digits(i + 1, 2) {
            i += 1;
            while bytes.get(i).is_some_and(|b| b.is_ascii_digit() || *b == b':' || *b == b'.') {
                i += 1;
            }
            match bytes.get(i) {
                Some(b'Z' | b'z') => i += 1,
                Some(b'+' | b'-') if digits(i + 1, 2) => i += 6.min(bytes.len() - i),
                _ => {}
            }
        }
        return i.min(bytes.len());
    }
    let mut i = start;
    while bytes.get(i).is_some_and(|b| b.is_ascii_digit() || *b == b'_') {
        i += 1;
    }
    if bytes.get(i) == Some(&b'.') && bytes.get(i + 1).is_some_and(u8::is_ascii_digit) {
        i += 1;
        while bytes.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
    }
    if bytes.get(i) == Some(&b'%') {
        return i + 1;
    }
    word_end(bytes, i)
}

fn punct_end(text: &str, start: usize) -> usize {
    let rest = &text[start..];
    if ["==", "!=", "<=", ">=", ".."].iter().any(|two| rest.starts_with(two)) {
        return start + 2;
    }
    start + rest.chars().next().map_or(1, char::len_utf8)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token_texts(text: &str) -> Vec<&str> {
        lex(text).tokens.iter().map(|t| &text[t.span.start..t.span.end]).collect()
    }

    #[test]
    fn hash_in_string_or_regex_is_text() {
        let text = "expect a == \"#x\" and b matches /#[0-9]/i # real\n";
        assert_eq!(comment_texts(text), vec!["# real"]);
        assert_eq!(token_texts(text), vec!["expect", "a", "==", "\"#x\"", "and", "b", "matches", "/#[0-9]/i"]);
    }

    #[test]
    fn slash_after_a_field_named_contains_is_division() {
        assert_eq!(token_texts("a.contains / 2 # c"), vec!["a", ".", "contains", "/", "2"]);
    }

    #[test]
    fn literals_are_single_tokens() {
        let text = "2025-06-01T09:30:00.250+02:00 - 2025-06-01 + 1h30m + 99.5% + 1_000.50 .. x";
        assert_eq!(
            token_texts(text),
            vec![
                "2025-06-01T09:30:00.250+02:00",
                "-",
                "2025-06-01",
                "+",
                "1h30m",
                "+",
                "99.5%",
                "+",
                "1_000.50",
                "..",
                "x"
            ]
        );
    }

    #[test]
    fn comments_know_their_line_and_blank_lines() {
        let lexed = lex("a # one\n\n# two\nb\n\n# three\n\n# four");
        let comments = &lexed.comments;
        assert!(comments[0].trailing);
        assert!(!comments[1].trailing);
        assert!(comments[1].blank_before);
        assert!(!comments[1].blank_after);
        assert!(comments[2].blank_before);
        assert!(comments[2].blank_after);
        assert!(!comments[3].blank_after, "nothing follows the last comment");
    }

    #[test]
    fn comment_ends_before_carriage_return() {
        assert_eq!(comment_texts("a # c\r\nb"), vec!["# c"]);
    }
}
