//! The printer's link to the source: which source token each printed token is, and
//! where each comment goes.
//!
//! The printer walks the AST in source order and emits tokens through [`Printer::keyword`]
//! and [`Printer::source`], which move a cursor over the source tokens. Source tokens
//! the printer never emits are skipped: grouping parentheses (the printer adds the ones
//! precedence needs itself) and trailing commas in lists and calls. A comment is emitted
//! before the first printed token that follows it. A comment that trailed a token on its
//! line is emitted right after that token instead, so it stays at the end of its line.

use std::collections::HashSet;

use super::doc::{CommentDoc, Doc};
use super::lex::{Comment, Lexed, Token};
use crate::diagnostic::Span;

pub(crate) struct Printer<'s> {
    pub(super) text: &'s str,
    tokens: Vec<Token>,
    /// `skippable[i]`: token `i` is a grouping parenthesis or a trailing comma.
    skippable: Vec<bool>,
    /// `partners[i]`: the bracket that matches bracket token `i`.
    partners: Vec<Option<usize>>,
    comments: Vec<Comment>,
    /// Index of the next source token not yet printed or skipped.
    cursor: usize,
    /// Index of the next comment not yet emitted.
    next_comment: usize,
    /// Byte offset of the end of the last source token printed.
    last_printed_end: Option<usize>,
}

impl<'s> Printer<'s> {
    /// `call_parens` contains the start offsets of the parentheses of function calls.
    /// Every other parenthesis groups an expression.
    pub fn new(text: &'s str, lexed: Lexed, call_parens: &HashSet<usize>) -> Self {
        let tokens = lexed.tokens;
        let token_text = |t: &Token| &text[t.span.start..t.span.end];
        let skippable = (0..tokens.len())
            .map(|i| {
                let this = token_text(&tokens[i]);
                let next = tokens.get(i + 1).map(token_text);
                let grouping = matches!(this, "(" | ")") && !call_parens.contains(&tokens[i].span.start);
                let trailing_comma = this == "," && matches!(next, Some("]" | ")"));
                grouping || trailing_comma
            })
            .collect();
        let partners = super::lex::bracket_partners(text, &tokens);
        Printer {
            text,
            tokens,
            skippable,
            partners,
            comments: lexed.comments,
            cursor: 0,
            next_comment: 0,
            last_printed_end: None,
        }
    }

    /// Index of the first token at or after `from` that the printer emits.
    fn next_emitted(&self, from: usize) -> usize {
        let mut i = from;
        while i < self.tokens.len() && self.skippable[i] {
            i += 1;
        }
        i
    }

    fn token_text(&self, i: usize) -> &'s str {
        let span = self.tokens[i].span;
        &self.text[span.start..span.end]
    }

    /// Returns the text of the next token to print, if any.
    pub fn peek(&self) -> Option<&'s str> {
        let i = self.next_emitted(self.cursor);
        (i < self.tokens.len()).then(|| self.token_text(i))
    }

    /// Prints the keyword or punctuation `word`, which must be the next source token.
    pub fn keyword(&mut self, word: &str) -> Doc {
        let i = self.next_emitted(self.cursor);
        if i < self.tokens.len() && self.token_text(i) == word {
            self.cursor = i + 1;
            return self.emit(self.tokens[i].span);
        }
        // The AST and the token stream disagree: a formatter bug. The text is still
        // printed, and the meaning check in `format_source` rejects the result if it
        // differs from the original.
        debug_assert!(false, "fmt: expected `{word}` at token {i}");
        Doc::text(word)
    }

    /// Prints the source text of `span` as it is: a literal, a name, a regex.
    pub fn source(&mut self, span: Span) -> Doc {
        while self.cursor < self.tokens.len() && self.tokens[self.cursor].span.start < span.end {
            self.cursor += 1;
        }
        self.emit(span)
    }

    /// Prints the source token that starts at byte `start` as it is.
    pub fn token_starting_at(&mut self, start: usize) -> Doc {
        let i = self.tokens.partition_point(|t| t.span.start < start);
        match self.tokens.get(i).filter(|t| t.span.start == start) {
            Some(token) => self.source(token.span),
            None => {
                debug_assert!(false, "fmt: no token starts at byte {start}");
                Doc::text("")
            }
        }
    }

    /// Prints the next source token as it is.
    pub fn next_token(&mut self) -> Doc {
        let i = self.next_emitted(self.cursor);
        match self.tokens.get(i) {
            Some(token) => {
                self.cursor = i + 1;
                self.emit(token.span)
            }
            None => Doc::text(""),
        }
    }

    /// Prints the source tokens up to byte `end` as they are, one space apart (none
    /// before a comma, none around `..`).
    pub fn tokens_until(&mut self, end: usize) -> Doc {
        let mut docs = Vec::new();
        let mut previous = "";
        while let Some(i) = Some(self.next_emitted(self.cursor)).filter(|&i| i < self.tokens.len()) {
            if self.tokens[i].span.start >= end {
                break;
            }
            let word = self.token_text(i);
            if !docs.is_empty() && word != "," && word != ".." && previous != ".." {
                docs.push(Doc::Space);
            }
            docs.push(self.next_token());
            previous = word;
        }
        Doc::concat(docs)
    }

    /// Byte offset just past the source tokens that end at or before `end`, for walking
    /// past an AST node whose span is known.
    pub fn tokens_after(&self, end: usize) -> usize {
        let i = self.tokens.partition_point(|t| t.span.start < end);
        self.next_emitted(i)
    }

    /// Returns the token text at index `i` (from [`Printer::tokens_after`]), if any.
    pub fn token_at(&self, i: usize) -> Option<&'s str> {
        (i < self.tokens.len()).then(|| self.token_text(i))
    }

    /// Index of the first token that starts at or after byte `offset`.
    pub fn token_index(&self, offset: usize) -> usize {
        self.tokens.partition_point(|t| t.span.start < offset)
    }

    /// Byte offset of the end of token `i`.
    pub fn token_end(&self, i: usize) -> usize {
        self.tokens.get(i).map_or(self.text.len(), |t| t.span.end)
    }

    /// End of the bracket that closes the bracket token `i`.
    pub fn partner_end(&self, i: usize) -> usize {
        match self.partners.get(i).copied().flatten() {
            Some(close) => self.tokens[close].span.end,
            None => self.token_end(i),
        }
    }

    /// Returns the index of the next token to print.
    pub fn position(&self) -> usize {
        self.next_emitted(self.cursor)
    }

    /// Returns the index of the first printed token after token `i`.
    pub fn after(&self, i: usize) -> usize {
        self.next_emitted(i + 1)
    }

    /// Returns whether the source has an empty line between the last token printed and
    /// the next one to print (comment lines are not empty). Tokens the printer skips do
    /// not count either, so the result is the same when the output is formatted again.
    pub fn blank_line_before_next(&self) -> bool {
        let next = self.next_emitted(self.cursor);
        let Some(previous) = self.last_printed_end else { return false };
        let until = self.tokens.get(next).map_or(self.text.len(), |t| t.span.start);
        let gap = &self.text[previous..until];
        let lines: Vec<&str> = gap.split('\n').collect();
        lines.len() > 2 && lines[1..lines.len() - 1].iter().any(|line| line.trim().is_empty())
    }

    fn emit(&mut self, span: Span) -> Doc {
        self.last_printed_end = Some(span.end);
        let mut docs = self.comments_before(span.start);
        docs.push(Doc::text(&self.text[span.start..span.end]));
        docs.extend(self.trailing_comment(span.end));
        if docs.len() == 1 { docs.pop().expect("one doc") } else { Doc::concat(docs) }
    }

    /// Takes the comments not yet emitted that start before byte `position`, each on a
    /// line of its own. A comment that trailed a token the printer did not emit here (a
    /// dropped parenthesis, say) cannot stay at the end of that token's line.
    pub fn comments_before(&mut self, position: usize) -> Vec<Doc> {
        let mut docs = Vec::new();
        while let Some(comment) = self.comments.get(self.next_comment).filter(|c| c.span.start < position) {
            docs.push(self.comment_doc(*comment, false));
            self.next_comment += 1;
        }
        docs
    }

    /// Takes every comment not yet emitted.
    pub fn remaining_comments(&mut self) -> Vec<Doc> {
        self.comments_before(usize::MAX)
    }

    /// Takes the comment at the end of the line of the token just printed, which ends at
    /// byte `end`, if one follows before the next token to print. Skipped tokens may come
    /// between the two.
    fn trailing_comment(&mut self, end: usize) -> Option<Doc> {
        let next = self.next_emitted(self.cursor);
        let limit = self.tokens.get(next).map_or(usize::MAX, |t| t.span.start);
        let comment = *self.comments.get(self.next_comment)?;
        let same_line = !self.text[end..comment.span.start.max(end)].contains(['\n', '\r']);
        if comment.span.start >= limit || !comment.trailing || !same_line {
            return None;
        }
        self.next_comment += 1;
        Some(self.comment_doc(comment, true))
    }

    fn comment_doc(&self, comment: Comment, trailing: bool) -> Doc {
        Doc::Comment(CommentDoc {
            text: self.text[comment.span.start..comment.span.end].to_string(),
            trailing,
            blank_before: comment.blank_before,
            blank_after: comment.blank_after,
        })
    }

    /// Byte offset of the start of token `i`, or the end of the text.
    pub fn token_start(&self, i: usize) -> usize {
        self.tokens.get(i).map_or(self.text.len(), |t| t.span.start)
    }
}
