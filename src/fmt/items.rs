//! Top-level items and the blocks of rules, SLOs, costs and tests.
//!
//! The AST groups items by kind and properties by name, so their order comes from the
//! token stream: the printer looks at the next source token (`rule`, `use`, `title`,
//! `expect`, ...) and takes the next AST node of that kind. Items and properties keep
//! the author's order.

use super::doc::Doc;
use super::printer::Printer;
use crate::syntax::ast::{Expr, GivenRecord, Ident, Let, PolicyFile, Rule, Slo, TestCase, Use, Waiver, WindowSpec};

/// Column of rule property values: one past the longest keyword, `severity`. It does
/// not depend on which properties a rule has, so adding one re-indents no other line.
const RULE_VALUE_COLUMN: usize = "severity".len() + 1;

/// Column of SLO property values, one past `objective` and `time zone`. `alert` and
/// `by` lines are not aligned.
const SLO_VALUE_COLUMN: usize = "objective".len() + 1;

/// Column of cost values, one past `checkpoint review`.
const COSTS_VALUE_COLUMN: usize = "checkpoint review".len() + 1;

/// The AST nodes not printed yet, each kind in source order.
struct Pending<'a> {
    name: Option<&'a Ident>,
    schema: Option<crate::diagnostic::Span>,
    uses: std::slice::Iter<'a, Use>,
    event_time: Option<&'a Expr>,
    lets: std::slice::Iter<'a, Let>,
    segments: &'a [Ident],
    rules: std::slice::Iter<'a, Rule>,
    slos: std::slice::Iter<'a, Slo>,
    costs: bool,
    tests: std::slice::Iter<'a, TestCase>,
}

/// The properties of a rule, in source order.
enum RuleProperty<'a> {
    /// `title`, `severity`, `segment`, `owner`, or `mode` with or without `until DATE`:
    /// the keyword and the number of tokens after it.
    Plain(&'static str, usize),
    When(&'a Expr),
    Expect(&'a Expr),
    Let(&'a Let),
    Waive(&'a Waiver),
}

/// The properties of an SLO, in source order.
enum SloProperty<'a> {
    /// `title`, `time zone`, `minimum`: the keyword words and the number of tokens after them.
    Plain(&'static [&'static str], usize),
    Objective(bool),
    Valid(&'a Expr),
    Good(usize),
    Alert(&'a crate::syntax::ast::AlertSpec),
    By(&'a Expr),
}

impl Printer<'_> {
    /// Prints a whole file: its items in source order, one blank line around every block
    /// and between declarations the author separated with one.
    pub fn file(&mut self, file: &PolicyFile) -> Doc {
        let mut pending = Pending {
            name: file.name.as_ref(),
            schema: file.schema.as_ref().map(|(_, span)| *span),
            uses: file.uses.iter(),
            event_time: file.event_time.as_ref(),
            lets: file.lets.iter(),
            segments: &file.segments,
            rules: file.rules.iter(),
            slos: file.slos.iter(),
            costs: file.costs.is_some(),
            tests: file.tests.iter(),
        };
        let mut docs = Vec::new();
        let mut previous_is_block = None;
        while let Some(word) = self.peek() {
            let is_block = matches!(word, "rule" | "slo" | "costs" | "test");
            if let Some(previous_is_block) = previous_is_block {
                let blank = is_block || previous_is_block || self.blank_line_before_next();
                docs.push(if blank { Doc::BlankLine } else { Doc::HardLine });
            }
            let Some(item) = self.item(word, &mut pending) else { break };
            docs.push(item);
            previous_is_block = Some(is_block);
        }
        docs.extend(self.remaining_comments());
        Doc::concat(docs)
    }

    fn item(&mut self, word: &str, pending: &mut Pending) -> Option<Doc> {
        let doc = match word {
            "policy" => {
                let name = pending.name.take()?;
                Doc::concat(vec![self.keyword("policy"), Doc::Space, self.source(name.span)])
            }
            "schema" => {
                let path = pending.schema.take()?;
                Doc::concat(vec![self.keyword("schema"), Doc::Space, self.source(path)])
            }
            "use" => {
                let declaration = pending.uses.next()?;
                self.tokens_until(declaration.span.end)
            }
            "event" => {
                let expr = pending.event_time.take()?;
                let head = vec![self.keyword("event"), Doc::Space, self.keyword("time"), Doc::Space];
                Doc::concat(head.into_iter().chain([Doc::align(self.expr(expr))]).collect())
            }
            "let" => {
                let declaration = pending.lets.next()?;
                self.let_declaration(declaration)
            }
            "segments" => {
                let names = std::mem::take(&mut pending.segments);
                let last = names.last()?;
                Doc::concat(vec![self.keyword("segments"), Doc::Space, self.tokens_until(last.span.end)])
            }
            "rule" => {
                let rule = pending.rules.next()?;
                self.rule(rule)
            }
            "slo" => {
                let slo = pending.slos.next()?;
                self.slo(slo)
            }
            "costs" if std::mem::take(&mut pending.costs) => self.costs(),
            "test" => {
                let test = pending.tests.next()?;
                self.test(test)
            }
            _ => return None,
        };
        Some(doc)
    }

    /// `let NAME = EXPR`, at the top level or in a rule.
    fn let_declaration(&mut self, declaration: &Let) -> Doc {
        let mut docs = vec![self.keyword("let"), Doc::Space, self.source(declaration.name.span), Doc::Space];
        docs.extend([self.keyword("="), Doc::Space]);
        docs.push(Doc::align(self.expr(&declaration.value)));
        Doc::concat(docs)
    }

    /// `HEAD {`, the lines of the block two columns in, `}`. An empty block stays `HEAD {}`.
    fn block(&mut self, head: Vec<Doc>, lines: Vec<Doc>) -> Doc {
        let mut head = head;
        let open = head.pop().expect("a block head ends with `{`");
        let (comments, close) = self.close("}");
        if lines.is_empty() {
            head.push(self.empty_block(open, comments, close));
            return Doc::concat(head);
        }
        let mut inside = vec![Doc::HardLine];
        inside.extend(lines);
        inside.extend(comments);
        head.extend([open, Doc::indent(Doc::concat(inside)), Doc::HardLine, close]);
        Doc::concat(head)
    }

    /// Returns the separator before the next line of a block: a line break, or an empty
    /// line where the author left one.
    fn block_separator(&self) -> Doc {
        if self.blank_line_before_next() { Doc::BlankLine } else { Doc::HardLine }
    }

    fn rule(&mut self, rule: &Rule) -> Doc {
        let head = vec![self.keyword("rule"), Doc::Space, self.source(rule.name.span), Doc::Space, self.keyword("{")];
        let properties = self.rule_properties(rule);
        let mut lines = Vec::new();
        for (i, property) in properties.iter().enumerate() {
            if i > 0 {
                lines.push(self.block_separator());
            }
            lines.push(self.rule_property(property));
        }
        self.block(head, lines)
    }

    /// Reads the properties of `rule` off the token stream, without printing them.
    fn rule_properties<'a>(&self, rule: &'a Rule) -> Vec<RuleProperty<'a>> {
        let (mut lets, mut expects, mut waivers) = (rule.lets.iter(), rule.expects.iter(), rule.waivers.iter());
        let mut properties = Vec::new();
        let mut i = self.position();
        loop {
            let property = match self.token_at(i) {
                Some("title") => RuleProperty::Plain("title", 1),
                Some("severity") => RuleProperty::Plain("severity", 1),
                Some("segment") => RuleProperty::Plain("segment", 1),
                Some("owner") => RuleProperty::Plain("owner", 1),
                Some("mode") => RuleProperty::Plain("mode", if rule.mode_until.is_some() { 3 } else { 1 }),
                Some("when") => match &rule.when {
                    Some(when) => RuleProperty::When(when),
                    None => break,
                },
                Some("expect") => match expects.next() {
                    Some(expect) => RuleProperty::Expect(expect),
                    None => break,
                },
                Some("let") => match lets.next() {
                    Some(declaration) => RuleProperty::Let(declaration),
                    None => break,
                },
                Some("waive") => match waivers.next() {
                    Some(waiver) => RuleProperty::Waive(waiver),
                    None => break,
                },
                _ => break,
            };
            i = match &property {
                RuleProperty::Plain(_, count) => (0..=*count).fold(i, |i, _| self.after(i)),
                RuleProperty::When(expr) | RuleProperty::Expect(expr) => self.tokens_after(self.expr_end(expr)),
                RuleProperty::Let(declaration) => self.tokens_after(self.expr_end(&declaration.value)),
                RuleProperty::Waive(waiver) => {
                    // `reason` and its string follow the date.
                    let after_date = self.tokens_after(waiver.until.1.end);
                    if waiver.reason.is_some() { self.after(self.after(after_date)) } else { after_date }
                }
            };
            properties.push(property);
        }
        properties
    }

    fn rule_property(&mut self, property: &RuleProperty) -> Doc {
        let column = RULE_VALUE_COLUMN;
        match property {
            RuleProperty::Plain(word, count) => {
                let mut docs = vec![self.keyword(word), Doc::PadTo(column)];
                for i in 0..*count {
                    if i > 0 {
                        docs.push(Doc::Space);
                    }
                    docs.push(self.next_token());
                }
                Doc::concat(docs)
            }
            RuleProperty::When(expr) => self.keyword_and_expr("when", column, expr),
            RuleProperty::Expect(expr) => self.keyword_and_expr("expect", column, expr),
            RuleProperty::Let(declaration) => self.let_declaration(declaration),
            RuleProperty::Waive(waiver) => {
                let waive = self.keyword("waive");
                let mut docs =
                    vec![self.keyword("when"), Doc::Space, Doc::align(self.expr_followed(&waiver.condition))];
                docs.extend([Doc::Line, self.keyword("until"), Doc::Space, self.next_token()]);
                if waiver.reason.is_some() {
                    docs.extend([Doc::Line, self.keyword("reason"), Doc::Space, self.next_token()]);
                }
                Doc::concat(vec![waive, Doc::PadTo(column), Doc::group(Doc::align(Doc::concat(docs)))])
            }
        }
    }

    /// `KEYWORD   EXPR` with the expression starting at `column`.
    fn keyword_and_expr(&mut self, word: &str, column: usize, expr: &Expr) -> Doc {
        let keyword = self.keyword(word);
        Doc::concat(vec![keyword, Doc::PadTo(column), Doc::align(self.expr(expr))])
    }

    fn slo(&mut self, slo: &Slo) -> Doc {
        let head = vec![self.keyword("slo"), Doc::Space, self.source(slo.name.span), Doc::Space, self.keyword("{")];
        let properties = self.slo_properties(slo);
        let alert_column = slo.alerts.iter().map(|a| a.name.name.len()).max().unwrap_or(0) + "alert ".len() + 1;
        let mut lines = Vec::new();
        for (i, property) in properties.iter().enumerate() {
            if i > 0 {
                lines.push(self.block_separator());
            }
            lines.push(self.slo_property(property, alert_column));
        }
        self.block(head, lines)
    }

    fn slo_properties<'a>(&self, slo: &'a Slo) -> Vec<SloProperty<'a>> {
        let (mut alerts, mut by) = (slo.alerts.iter(), slo.by.iter());
        let mut properties = Vec::new();
        let mut i = self.position();
        loop {
            let property = match self.token_at(i) {
                Some("title") => SloProperty::Plain(&["title"], 1),
                Some("time") => SloProperty::Plain(&["time", "zone"], 1),
                Some("minimum") => SloProperty::Plain(&["minimum"], 2),
                Some("objective") => {
                    let calendar = matches!(slo.window, Some((WindowSpec::Calendar(_), _)));
                    SloProperty::Objective(calendar)
                }
                Some("valid") => match &slo.valid {
                    Some(valid) => SloProperty::Valid(valid),
                    None => break,
                },
                Some("good") => match &slo.good {
                    Some((_, span)) => SloProperty::Good(span.end),
                    None => break,
                },
                Some("alert") => match alerts.next() {
                    Some(alert) => SloProperty::Alert(alert),
                    None => break,
                },
                Some("by") => match by.next() {
                    Some(expr) => SloProperty::By(expr),
                    None => break,
                },
                _ => break,
            };
            i = match &property {
                SloProperty::Plain(words, count) => (0..words.len() + count).fold(i, |i, _| self.after(i)),
                SloProperty::Objective(calendar) => (0..if *calendar { 5 } else { 4 }).fold(i, |i, _| self.after(i)),
                SloProperty::Valid(expr) | SloProperty::By(expr) => self.tokens_after(self.expr_end(expr)),
                SloProperty::Good(end) => self.tokens_after(*end),
                SloProperty::Alert(alert) => self.tokens_after(alert.span.end),
            };
            properties.push(property);
        }
        properties
    }

    fn slo_property(&mut self, property: &SloProperty, alert_column: usize) -> Doc {
        let column = SLO_VALUE_COLUMN;
        match property {
            SloProperty::Plain(words, count) => {
                let mut docs = Vec::new();
                for (i, word) in words.iter().enumerate() {
                    if i > 0 {
                        docs.push(Doc::Space);
                    }
                    docs.push(self.keyword(word));
                }
                docs.push(Doc::PadTo(column));
                for i in 0..*count {
                    if i > 0 {
                        docs.push(Doc::Space);
                    }
                    docs.push(self.next_token());
                }
                Doc::concat(docs)
            }
            SloProperty::Objective(calendar) => {
                let mut docs = vec![self.keyword("objective"), Doc::PadTo(column), self.next_token(), Doc::Space];
                docs.extend([self.keyword("over"), Doc::Space]);
                if *calendar {
                    docs.extend([self.keyword("calendar"), Doc::Space]);
                }
                docs.push(self.next_token());
                Doc::concat(docs)
            }
            SloProperty::Valid(expr) => {
                let valid = vec![self.keyword("valid"), Doc::PadTo(column), self.keyword("when"), Doc::Space];
                Doc::concat(valid.into_iter().chain([Doc::align(self.expr(expr))]).collect())
            }
            SloProperty::Good(end) => {
                let mut docs = vec![self.keyword("good"), Doc::PadTo(column), self.keyword("when"), Doc::Space];
                docs.push(self.tokens_until(*end));
                Doc::concat(docs)
            }
            SloProperty::Alert(alert) => {
                let mut docs = vec![self.keyword("alert"), Doc::Space, self.source(alert.name.span)];
                docs.extend([Doc::PadTo(alert_column), self.tokens_until(alert.span.end)]);
                Doc::concat(docs)
            }
            SloProperty::By(expr) => {
                let by = self.keyword("by");
                Doc::concat(vec![by, Doc::Space, Doc::align(self.expr(expr))])
            }
        }
    }

    /// `costs { agent run 0.40 ... }`: one cost per line, values in a column.
    fn costs(&mut self) -> Doc {
        let head = vec![self.keyword("costs"), Doc::Space, self.keyword("{")];
        let mut keys: Vec<&[&str]> = Vec::new();
        let mut i = self.position();
        loop {
            let key: &[&str] = match self.token_at(i) {
                Some("agent") => &["agent", "run"],
                Some("checkpoint") => &["checkpoint", "review"],
                Some("manual") => &["manual", "run"],
                Some("currency") => &["currency"],
                _ => break,
            };
            i = (0..=key.len()).fold(i, |i, _| self.after(i));
            keys.push(key);
        }
        let mut lines = Vec::new();
        for (i, key) in keys.iter().enumerate() {
            if i > 0 {
                lines.push(self.block_separator());
            }
            let mut docs = Vec::new();
            for (j, word) in key.iter().enumerate() {
                if j > 0 {
                    docs.push(Doc::Space);
                }
                docs.push(self.keyword(word));
            }
            docs.extend([Doc::PadTo(COSTS_VALUE_COLUMN), self.next_token()]);
            lines.push(Doc::concat(docs));
        }
        self.block(head, lines)
    }

    /// `test "NAME" { given record ... expect ... }`
    fn test(&mut self, test: &TestCase) -> Doc {
        let head = vec![self.keyword("test"), Doc::Space, self.next_token(), Doc::Space, self.keyword("{")];
        let mut expects = test.expects.iter();
        let mut lines = Vec::new();
        while let Some(word @ ("given" | "expect")) = self.peek() {
            if !lines.is_empty() {
                lines.push(self.block_separator());
            }
            let line = if word == "given" {
                let Some(given) = &test.given else { break };
                let mut docs = vec![self.keyword("given"), Doc::Space, self.keyword("record"), Doc::Space];
                docs.push(match given {
                    GivenRecord::File { .. } => self.next_token(),
                    GivenRecord::Inline { span, .. } => self.json(*span),
                });
                Doc::concat(docs)
            } else {
                let Some(expect) = expects.next() else { break };
                Doc::concat(vec![self.keyword("expect"), Doc::Space, self.tokens_until(expect.span.end)])
            };
            lines.push(line);
        }
        self.block(head, lines)
    }
}
