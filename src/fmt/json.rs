//! Inline JSON records of `test` blocks: re-indented, values kept as written.
//!
//! An object or array stays on one line when it fits. Otherwise its members go one per
//! line, two columns deeper than the line it opens on, and the closing bracket returns
//! to that line's indentation. Strings and numbers are copied from the source, so
//! `0.30` stays `0.30` and escapes stay as written.

use super::doc::Doc;
use super::printer::Printer;
use crate::diagnostic::Span;

/// A JSON value with the spans of its strings, numbers and literals.
enum Json {
    Object(Vec<(Span, Json)>),
    Array(Vec<Json>),
    /// A string, number, `true`, `false` or `null`.
    Leaf(Span),
}

impl Printer<'_> {
    /// Prints the JSON value at `span`.
    pub fn json(&mut self, span: Span) -> Doc {
        let mut reader = Reader { bytes: self.text.as_bytes(), position: span.start, end: span.end };
        match reader.value() {
            Some(value) => self.json_value(&value),
            None => {
                // pest accepted this text as JSON, so the reader should too.
                debug_assert!(false, "fmt: inline JSON at {span:?} did not read back");
                self.source(span)
            }
        }
    }

    fn json_value(&mut self, value: &Json) -> Doc {
        match value {
            Json::Leaf(span) => self.source(*span),
            Json::Object(members) => {
                let open = self.keyword("{");
                let mut items = Vec::new();
                for (i, (key, value)) in members.iter().enumerate() {
                    let key = self.source(*key);
                    let colon = self.keyword(":");
                    items.push(Doc::concat(vec![key, colon, Doc::Space, self.json_value(value)]));
                    if i + 1 < members.len() {
                        items.push(self.keyword(","));
                        items.push(Doc::Line);
                    }
                }
                self.json_container(open, items, "}")
            }
            Json::Array(elements) => {
                let open = self.keyword("[");
                let mut items = Vec::new();
                for (i, element) in elements.iter().enumerate() {
                    items.push(self.json_value(element));
                    if i + 1 < elements.len() {
                        items.push(self.keyword(","));
                        items.push(Doc::Line);
                    }
                }
                self.json_container(open, items, "]")
            }
        }
    }

    fn json_container(&mut self, open: Doc, items: Vec<Doc>, close: &str) -> Doc {
        let (comments, close) = self.close(close);
        if items.is_empty() {
            return self.empty_block(open, comments, close);
        }
        let mut inside = vec![Doc::SoftLine];
        inside.extend(items);
        inside.extend(comments);
        Doc::group(Doc::concat(vec![open, Doc::indent(Doc::concat(inside)), Doc::SoftLine, close]))
    }
}

/// Reads JSON the way the grammar's `json_object` rule does: white space and `#`
/// comments may stand between tokens.
struct Reader<'t> {
    bytes: &'t [u8],
    position: usize,
    end: usize,
}

impl Reader<'_> {
    fn peek(&mut self) -> Option<u8> {
        self.skip_trivia();
        (self.position < self.end).then(|| self.bytes[self.position])
    }

    fn skip_trivia(&mut self) {
        while self.position < self.end {
            match self.bytes[self.position] {
                b' ' | b'\t' | b'\r' | b'\n' => self.position += 1,
                b'#' => {
                    while self.position < self.end && !matches!(self.bytes[self.position], b'\n' | b'\r') {
                        self.position += 1;
                    }
                }
                // U+FEFF, which the grammar counts as white space.
                0xEF if self.bytes[self.position..].starts_with("\u{FEFF}".as_bytes()) => self.position += 3,
                _ => return,
            }
        }
    }

    fn expect(&mut self, byte: u8) -> Option<()> {
        (self.peek()? == byte).then(|| self.position += 1)
    }

    fn value(&mut self) -> Option<Json> {
        match self.peek()? {
            b'{' => self.object(),
            b'[' => self.array(),
            b'"' => self.string().map(Json::Leaf),
            _ => {
                let start = self.position;
                while self.position < self.end
                    && (self.bytes[self.position].is_ascii_alphanumeric()
                        || b"+-.".contains(&self.bytes[self.position]))
                {
                    self.position += 1;
                }
                (self.position > start).then(|| Json::Leaf(Span::new(start, self.position)))
            }
        }
    }

    fn string(&mut self) -> Option<Span> {
        let start = self.position;
        self.expect(b'"')?;
        while self.position < self.end {
            match self.bytes[self.position] {
                b'\\' => self.position += 2,
                b'"' => {
                    self.position += 1;
                    return Some(Span::new(start, self.position));
                }
                _ => self.position += 1,
            }
        }
        None
    }

    fn object(&mut self) -> Option<Json> {
        self.expect(b'{')?;
        let mut members = Vec::new();
        if self.peek()? == b'}' {
            self.position += 1;
            return Some(Json::Object(members));
        }
        loop {
            self.skip_trivia();
            let key = self.string()?;
            self.expect(b':')?;
            members.push((key, self.value()?));
            match self.peek()? {
                b',' => self.position += 1,
                b'}' => {
                    self.position += 1;
                    return Some(Json::Object(members));
                }
                _ => return None,
            }
        }
    }

    fn array(&mut self) -> Option<Json> {
        self.expect(b'[')?;
        let mut elements = Vec::new();
        if self.peek()? == b']' {
            self.position += 1;
            return Some(Json::Array(elements));
        }
        loop {
            elements.push(self.value()?);
            match self.peek()? {
                b',' => self.position += 1,
                b']' => {
                    self.position += 1;
                    return Some(Json::Array(elements));
                }
                _ => return None,
            }
        }
    }
}
