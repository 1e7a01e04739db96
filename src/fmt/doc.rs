//! A small layout language in the style of Wadler's "prettier printer", and its renderer.
//!
//! The printer builds a [`Doc`] tree in source order; [`render`] lays it out at a fixed
//! width. A [`Doc::Group`] is printed on one line when it fits, and otherwise it breaks
//! every [`Doc::Line`] directly inside it. A [`Doc::Fill`] breaks only where it must.
//! Indentation is written lazily, when the first text of a line arrives, so a line is
//! never left with trailing spaces and a break at the start of a line costs nothing.

/// A layout fragment.
#[derive(Debug)]
pub(crate) enum Doc {
    /// Text without line breaks.
    Text(String),
    /// One space, dropped at the start of a line.
    Space,
    /// A space when the enclosing group is flat, a line break when it is broken.
    Line,
    /// Nothing when the enclosing group is flat, a line break when it is broken.
    SoftLine,
    /// Always a line break.
    HardLine,
    /// A line break and one empty line before the next text, unless that text closes a
    /// bracket, the text before opens one, or nothing was written yet.
    BlankLine,
    /// Spaces up to the current indentation plus this many columns; at the start of a
    /// line it moves the indentation there instead. At least one space mid-line.
    PadTo(usize),
    Concat(Vec<Doc>),
    /// Flat if it fits and nothing forces a break; `forced` is computed on construction.
    Group {
        doc: Box<Doc>,
        forced: bool,
    },
    /// Indentation two columns deeper than the enclosing one.
    Indent(Box<Doc>),
    /// Indentation at the column where this doc starts.
    Align(Box<Doc>),
    /// Alternating contents and separators (`Line`s); each separator breaks only when the
    /// content after it does not fit on the current line.
    Fill(Vec<Doc>),
    /// A `#` comment. A trailing one stays at the end of the current line and ends it; an
    /// own-line one gets a line of its own. Comment widths never count towards the line width.
    Comment(CommentDoc),
}

#[derive(Debug)]
pub(crate) struct CommentDoc {
    pub text: String,
    /// The comment followed a token on the same line.
    pub trailing: bool,
    /// Leave an empty line before the comment (own-line comments only).
    pub blank_before: bool,
    /// Leave an empty line after the comment (own-line comments only).
    pub blank_after: bool,
}

pub(crate) const INDENT: usize = 2;

impl Doc {
    pub fn text(text: impl Into<String>) -> Doc {
        Doc::Text(text.into())
    }

    pub fn concat(docs: Vec<Doc>) -> Doc {
        Doc::Concat(docs)
    }

    pub fn group(doc: Doc) -> Doc {
        let forced = forces_break(&doc);
        Doc::Group { doc: Box::new(doc), forced }
    }

    pub fn indent(doc: Doc) -> Doc {
        Doc::Indent(Box::new(doc))
    }

    pub fn align(doc: Doc) -> Doc {
        Doc::Align(Box::new(doc))
    }
}

/// Whether a group must break: it holds a hard line break or an own-line comment, or a
/// trailing comment with more text after it inside the group (a flat group would move
/// that text onto the comment's line, after the `#`).
fn forces_break(doc: &Doc) -> bool {
    let mut seen_trailing_comment = false;
    forces_break_in(doc, &mut seen_trailing_comment)
}

fn forces_break_in(doc: &Doc, seen_trailing_comment: &mut bool) -> bool {
    match doc {
        Doc::HardLine | Doc::BlankLine => true,
        Doc::Comment(comment) if !comment.trailing => true,
        Doc::Comment(_) => {
            *seen_trailing_comment = true;
            false
        }
        Doc::Text(_) => *seen_trailing_comment,
        Doc::Space | Doc::Line | Doc::SoftLine | Doc::PadTo(_) => false,
        Doc::Concat(docs) | Doc::Fill(docs) => docs.iter().any(|d| forces_break_in(d, seen_trailing_comment)),
        Doc::Group { doc, forced } => *forced || forces_break_in(doc, seen_trailing_comment),
        Doc::Indent(doc) | Doc::Align(doc) => forces_break_in(doc, seen_trailing_comment),
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Flat,
    Break,
}

/// One pending piece of work: a doc, or the rest of a fill from some index on.
#[derive(Clone, Copy)]
enum Command<'d> {
    Doc(usize, Mode, &'d Doc),
    Fill(usize, Mode, &'d [Doc]),
}

/// Lays `doc` out at `width` columns. The result ends with a newline unless it is empty.
pub(crate) fn render(doc: &Doc, width: usize) -> String {
    let mut renderer = Renderer { width, out: String::new(), column: 0, pending_indent: Some(0), pending_blank: false };
    let mut stack = vec![Command::Doc(0, Mode::Break, doc)];
    while let Some(command) = stack.pop() {
        match command {
            Command::Doc(indent, mode, doc) => renderer.step(indent, mode, doc, &mut stack),
            Command::Fill(indent, mode, parts) => renderer.fill(indent, mode, parts, &mut stack),
        }
    }
    let mut out = renderer.out;
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
    out
}

struct Renderer {
    width: usize,
    out: String,
    /// Column of the end of `out`, in characters.
    column: usize,
    /// Set at the start of a line: the indentation still to be written before the next text.
    pending_indent: Option<usize>,
    /// An empty line is due before the next text (see [`Doc::BlankLine`]).
    pending_blank: bool,
}

impl Renderer {
    fn step<'d>(&mut self, indent: usize, mode: Mode, doc: &'d Doc, stack: &mut Vec<Command<'d>>) {
        match doc {
            Doc::Text(text) => self.write(text),
            Doc::Space => self.space(),
            Doc::Line | Doc::SoftLine if mode == Mode::Break => self.newline(indent),
            Doc::Line => self.space(),
            Doc::SoftLine => {}
            Doc::HardLine => self.newline(indent),
            Doc::BlankLine => self.blank_line(indent),
            Doc::PadTo(columns) => self.pad_to(indent + columns),
            Doc::Concat(docs) => stack.extend(docs.iter().rev().map(|d| Command::Doc(indent, mode, d))),
            Doc::Group { doc, forced } => {
                let flat = mode == Mode::Flat
                    || !*forced && self.fits(&[Command::Doc(indent, Mode::Flat, doc)], stack.as_slice());
                stack.push(Command::Doc(indent, if flat { Mode::Flat } else { Mode::Break }, doc));
            }
            Doc::Indent(doc) => stack.push(Command::Doc(indent + INDENT, mode, doc)),
            Doc::Align(doc) => stack.push(Command::Doc(self.current_column(), mode, doc)),
            Doc::Fill(parts) => stack.push(Command::Fill(indent, mode, parts)),
            Doc::Comment(comment) => self.comment(indent, comment),
        }
    }

    /// Prints the first content of `parts` and decides its separator: flat when the next
    /// content fits after it on the same line.
    fn fill<'d>(&mut self, indent: usize, mode: Mode, parts: &'d [Doc], stack: &mut Vec<Command<'d>>) {
        let Some(content) = parts.first() else { return };
        let content_mode = self.flat_if_fits(&[Command::Doc(indent, Mode::Flat, content)], stack);
        let Some(separator) = parts.get(1) else {
            stack.push(Command::Doc(indent, content_mode, content));
            return;
        };
        let Some(next) = parts.get(2) else {
            stack.push(Command::Doc(indent, content_mode, separator));
            stack.push(Command::Doc(indent, content_mode, content));
            return;
        };
        let pair = [
            Command::Doc(indent, Mode::Flat, content),
            Command::Doc(indent, Mode::Flat, separator),
            Command::Doc(indent, Mode::Flat, next),
        ];
        let mut rest = stack.clone();
        if parts.len() > 3 {
            rest.push(Command::Fill(indent, mode, &parts[3..]));
        }
        let separator_mode = self.flat_if_fits(&pair, &rest);
        stack.push(Command::Fill(indent, mode, &parts[2..]));
        stack.push(Command::Doc(indent, separator_mode, separator));
        stack.push(Command::Doc(indent, content_mode, content));
    }

    fn flat_if_fits(&self, next: &[Command], rest: &[Command]) -> Mode {
        if self.fits(next, rest) { Mode::Flat } else { Mode::Break }
    }

    /// Whether `next`, printed flat, and then `rest` up to its first line break fit in
    /// the columns left on the current line.
    fn fits(&self, next: &[Command], rest: &[Command]) -> bool {
        let mut column = self.current_column();
        let at_line_start = self.pending_indent.is_some();
        let mut work: Vec<Command> = next.iter().rev().copied().collect();
        let mut rest_index = rest.len();
        let mut written_any = !at_line_start;
        loop {
            let command = match work.pop() {
                Some(command) => command,
                None if rest_index > 0 => {
                    rest_index -= 1;
                    rest[rest_index]
                }
                None => return true,
            };
            let (indent, mode, doc) = match command {
                Command::Doc(indent, mode, doc) => (indent, mode, doc),
                Command::Fill(indent, mode, parts) => {
                    work.extend(parts.iter().rev().map(|d| Command::Doc(indent, mode, d)));
                    continue;
                }
            };
            match doc {
                Doc::Text(text) => {
                    column += text.chars().count();
                    written_any = true;
                }
                Doc::Space => column += usize::from(written_any),
                Doc::Line if mode == Mode::Flat => column += usize::from(written_any),
                Doc::SoftLine if mode == Mode::Flat => {}
                Doc::Line | Doc::SoftLine | Doc::HardLine | Doc::BlankLine | Doc::Comment(_) => return true,
                Doc::PadTo(columns) if written_any => column = (indent + columns).max(column + 1),
                Doc::PadTo(columns) => column = indent + columns,
                Doc::Concat(docs) => work.extend(docs.iter().rev().map(|d| Command::Doc(indent, mode, d))),
                Doc::Fill(docs) => work.extend(docs.iter().rev().map(|d| Command::Doc(indent, mode, d))),
                Doc::Group { doc, forced } => {
                    let mode = if *forced { Mode::Break } else { mode };
                    work.push(Command::Doc(indent, mode, doc));
                }
                Doc::Indent(doc) | Doc::Align(doc) => work.push(Command::Doc(indent, mode, doc)),
            }
            if column > self.width {
                return false;
            }
        }
    }

    fn current_column(&self) -> usize {
        self.pending_indent.unwrap_or(self.column)
    }

    fn write(&mut self, text: &str) {
        if std::mem::take(&mut self.pending_blank) {
            let after_opener = self.out.trim_end().ends_with(['(', '[', '{']);
            let before_closer = text.starts_with([')', ']', '}']);
            if !self.out.is_empty() && !after_opener && !before_closer {
                self.out.push('\n');
            }
        }
        if let Some(indent) = self.pending_indent.take() {
            self.out.extend(std::iter::repeat_n(' ', indent));
            self.column = indent;
        }
        self.out.push_str(text);
        self.column += text.chars().count();
    }

    fn space(&mut self) {
        if self.pending_indent.is_none() {
            self.write(" ");
        }
    }

    fn pad_to(&mut self, target: usize) {
        match self.pending_indent {
            Some(_) => self.pending_indent = Some(target),
            None if self.column < target => self.write(&" ".repeat(target - self.column)),
            None => self.write(" "),
        }
    }

    fn newline(&mut self, indent: usize) {
        if self.pending_indent.is_none() {
            self.out.push('\n');
        }
        self.pending_indent = Some(indent);
    }

    fn blank_line(&mut self, indent: usize) {
        self.newline(indent);
        self.pending_blank = true;
    }

    fn comment(&mut self, indent: usize, comment: &CommentDoc) {
        let own_line = !comment.trailing || self.pending_indent.is_some();
        if own_line {
            if comment.blank_before {
                self.blank_line(indent);
            }
            // An own-line comment takes the indentation of where it stands in the
            // document, not that of a continuation line a trailing comment left behind.
            self.newline(indent);
        } else {
            self.write(" ");
        }
        self.write(&comment.text);
        self.newline(indent);
        if own_line && comment.blank_after {
            self.blank_line(indent);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(words: &[&str]) -> Doc {
        let mut docs = Vec::new();
        for (i, word) in words.iter().enumerate() {
            if i > 0 {
                docs.push(Doc::Line);
            }
            docs.push(Doc::text(*word));
        }
        Doc::group(Doc::align(Doc::concat(docs)))
    }

    #[test]
    fn group_stays_flat_when_it_fits() {
        assert_eq!(render(&words(&["a", "and", "b"]), 20), "a and b\n");
    }

    #[test]
    fn group_breaks_every_line_when_too_wide() {
        assert_eq!(render(&words(&["aaaa", "bbbb", "cccc"]), 10), "aaaa\nbbbb\ncccc\n");
    }

    #[test]
    fn align_indents_to_start_column() {
        let doc = Doc::concat(vec![Doc::text("expect "), words(&["aaaa", "bbbb"])]);
        assert_eq!(render(&doc, 10), "expect aaaa\n       bbbb\n");
    }

    #[test]
    fn fill_breaks_only_where_needed() {
        let parts = vec![Doc::text("aa,"), Doc::Line, Doc::text("bb,"), Doc::Line, Doc::text("cc")];
        assert_eq!(render(&Doc::Fill(parts), 7), "aa, bb,\ncc\n");
    }

    #[test]
    fn trailing_comment_in_the_middle_forces_a_break() {
        let comment =
            Doc::Comment(CommentDoc { text: "# why".into(), trailing: true, blank_before: false, blank_after: false });
        let doc = Doc::group(Doc::concat(vec![Doc::text("a"), comment, Doc::Line, Doc::text("b")]));
        assert_eq!(render(&doc, 80), "a # why\nb\n");
    }

    #[test]
    fn pad_to_aligns_values_in_a_column() {
        let doc = Doc::concat(vec![
            Doc::text("title"),
            Doc::PadTo(9),
            Doc::text("\"t\""),
            Doc::HardLine,
            Doc::text("severity"),
            Doc::PadTo(9),
            Doc::text("major"),
        ]);
        assert_eq!(render(&doc, 80), "title    \"t\"\nseverity major\n");
    }

    #[test]
    fn blank_lines_collapse_to_one() {
        let doc = Doc::concat(vec![Doc::BlankLine, Doc::text("a"), Doc::BlankLine, Doc::BlankLine, Doc::text("b")]);
        assert_eq!(render(&doc, 80), "a\n\nb\n");
    }

    #[test]
    fn no_blank_line_inside_brackets_edges() {
        let doc = Doc::concat(vec![Doc::text("{"), Doc::BlankLine, Doc::text("a"), Doc::BlankLine, Doc::text("}")]);
        assert_eq!(render(&doc, 80), "{\na\n}\n");
    }
}
