//! Expressions: layout and the parentheses precedence needs.
//!
//! Every construct is a group aligned at its first column. When it does not fit, it
//! breaks before its operators: each `and`/`or` operand, `otherwise`, `+`, `*` and each
//! predicate operator (`==`, `in`, `before`, ...) starts a line at that column, and a
//! quantifier breaks before `satisfies` first and `where` second. List elements and call
//! arguments fill lines after the opening bracket.
//!
//! Parentheses come from the tree, not from the source: an operand is wrapped when its
//! precedence is lower than its position allows, or when it is "open on the right"
//! (`any ... satisfies BODY`, `first ... where FILTER`, `if ... else B`, whose last part
//! extends as far right as possible) and more of the expression follows it. Parentheses
//! the author wrote are not in the AST, so redundant ones are dropped.

use super::doc::Doc;
use super::printer::Printer;
use crate::syntax::ast::{BinaryOp, Binding, Expr, ExprKind, FindKind, OrderOp, QuantifierKind, RegexLiteral};

/// Precedence levels, lowest first, as in `grammar/semslo.pest`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Level {
    If,
    Or,
    And,
    Not,
    Predicate,
    Otherwise,
    Sum,
    Product,
    Unary,
    Postfix,
    Primary,
}

/// Position of an operand: the lowest level allowed there without parentheses, and
/// whether more of the expression follows it.
#[derive(Clone, Copy)]
struct Slot {
    min: Level,
    followed: bool,
}

impl Slot {
    /// A whole expression: inside brackets or at the top of a property.
    const FREE: Slot = Slot { min: Level::If, followed: false };

    fn new(min: Level, followed: bool) -> Slot {
        Slot { min, followed }
    }
}

fn level(expr: &Expr) -> Level {
    match &expr.kind {
        ExprKind::If { .. } => Level::If,
        ExprKind::Binary(op, ..) => binary_level(*op),
        ExprKind::Not(_) => Level::Not,
        ExprKind::Compare { .. }
        | ExprKind::Within { .. }
        | ExprKind::Between { .. }
        | ExprKind::In { .. }
        | ExprKind::Matches { .. }
        | ExprKind::Text { .. }
        | ExprKind::ContainsRegex { .. }
        | ExprKind::Exists { .. }
        | ExprKind::IsMissing { .. }
        | ExprKind::IsNull { .. }
        | ExprKind::Order { .. } => Level::Predicate,
        ExprKind::Otherwise(..) => Level::Otherwise,
        ExprKind::Negate(_) => Level::Unary,
        ExprKind::Field(..) | ExprKind::Index(..) => Level::Postfix,
        ExprKind::Literal(_)
        | ExprKind::List(_)
        | ExprKind::Name(_)
        | ExprKind::Call(..)
        | ExprKind::Quantifier { .. }
        | ExprKind::Count(_)
        | ExprKind::Find { .. }
        | ExprKind::Comprehension { .. } => Level::Primary,
    }
}

/// Returns whether `expr` is a name, a literal or a path with simple indexes:
/// `outcome.vendor.id`, `steps[-1].name`.
fn is_path(expr: &Expr) -> bool {
    match &expr.kind {
        ExprKind::Name(_) | ExprKind::Literal(_) => true,
        ExprKind::Negate(inner) => matches!(inner.kind, ExprKind::Literal(_)),
        ExprKind::Field(base, _) => is_path(base),
        ExprKind::Index(base, index) => is_path(base) && is_path(index),
        _ => false,
    }
}

fn binary_level(op: BinaryOp) -> Level {
    match op {
        BinaryOp::Or => Level::Or,
        BinaryOp::And => Level::And,
        BinaryOp::Add | BinaryOp::Subtract => Level::Sum,
        BinaryOp::Multiply | BinaryOp::Divide => Level::Product,
    }
}

fn binary_symbol(op: BinaryOp) -> &'static str {
    match op {
        BinaryOp::Or => "or",
        BinaryOp::And => "and",
        BinaryOp::Add => "+",
        BinaryOp::Subtract => "-",
        BinaryOp::Multiply => "*",
        BinaryOp::Divide => "/",
    }
}

/// Returns whether text after the expression could be read as part of it. The last part
/// of `if`, `any ... satisfies` and `count ... where` extends as far right as it can, and
/// a `count` or `first` without `where` would take a following `where`.
fn open_right(expr: &Expr) -> bool {
    matches!(expr.kind, ExprKind::If { .. } | ExprKind::Quantifier { .. } | ExprKind::Count(_) | ExprKind::Find { .. })
}

/// Calls `visit` on `expr` and every expression inside it.
pub(crate) fn walk<'e>(expr: &'e Expr, visit: &mut dyn FnMut(&'e Expr)) {
    visit(expr);
    match &expr.kind {
        ExprKind::Literal(_) | ExprKind::Name(_) => {}
        ExprKind::List(items) | ExprKind::Call(_, items) => items.iter().for_each(|e| walk(e, visit)),
        ExprKind::Field(base, _) => walk(base, visit),
        ExprKind::Not(inner) | ExprKind::Negate(inner) => walk(inner, visit),
        ExprKind::Index(a, b) | ExprKind::Binary(_, a, b) | ExprKind::Otherwise(a, b) => {
            walk(a, visit);
            walk(b, visit);
        }
        ExprKind::Compare { left, right, tolerance, .. } => {
            walk(left, visit);
            walk(right, visit);
            if let Some(tolerance) = tolerance {
                walk(tolerance, visit);
            }
        }
        ExprKind::Within { value: a, tolerance: b, target: c }
        | ExprKind::Between { value: a, low: b, high: c, .. }
        | ExprKind::If { condition: a, then: b, otherwise: c } => {
            walk(a, visit);
            walk(b, visit);
            walk(c, visit);
        }
        ExprKind::In { value, collection: other, .. }
        | ExprKind::Text { value, pattern: other, .. }
        | ExprKind::Order { left: value, right: other, .. } => {
            walk(value, visit);
            walk(other, visit);
        }
        ExprKind::Matches { value, .. }
        | ExprKind::ContainsRegex { value, .. }
        | ExprKind::Exists { value, .. }
        | ExprKind::IsMissing { value, .. }
        | ExprKind::IsNull { value, .. } => walk(value, visit),
        ExprKind::Quantifier { binding, body, .. } => {
            walk_binding(binding, visit);
            walk(body, visit);
        }
        ExprKind::Count(binding) | ExprKind::Find { binding, .. } => walk_binding(binding, visit),
        ExprKind::Comprehension { element, binding } => {
            walk(element, visit);
            walk_binding(binding, visit);
        }
    }
}

fn walk_binding<'e>(binding: &'e Binding, visit: &mut dyn FnMut(&'e Expr)) {
    walk(&binding.collection, visit);
    if let Some(filter) = &binding.filter {
        walk(filter, visit);
    }
}

impl Printer<'_> {
    /// Byte offset of the end of the last token of `expr`, not counting parentheses
    /// around it.
    // NOTE: the parser's spans cannot give this: a span that contains a regex literal
    // with a `#` in it ends before the `#`. So the end is found from the last leaf, and
    // from the lexer's brackets where the expression ends in one.
    pub fn expr_end(&self, expr: &Expr) -> usize {
        match &expr.kind {
            ExprKind::Literal(_) => expr.span.end,
            ExprKind::Name(name) | ExprKind::Field(_, name) => name.span.end,
            ExprKind::List(_) | ExprKind::Comprehension { .. } => self.partner_end(self.token_index(expr.span.start)),
            ExprKind::Call(function, _) => self.partner_end(self.token_index(function.span.end)),
            ExprKind::Index(base, _) => {
                let open = self.after(self.token_index(self.expr_end(base)).saturating_sub(1));
                self.partner_end(open)
            }
            ExprKind::Not(inner) | ExprKind::Negate(inner) => self.expr_end(inner),
            ExprKind::Binary(_, _, last)
            | ExprKind::Otherwise(_, last)
            | ExprKind::Compare { tolerance: None, right: last, .. }
            | ExprKind::Compare { tolerance: Some(last), .. }
            | ExprKind::Within { target: last, .. }
            | ExprKind::Between { high: last, .. }
            | ExprKind::In { collection: last, .. }
            | ExprKind::Text { pattern: last, .. }
            | ExprKind::Order { right: last, .. }
            | ExprKind::If { otherwise: last, .. }
            | ExprKind::Quantifier { body: last, .. } => self.expr_end(last),
            ExprKind::Count(binding) | ExprKind::Find { binding, .. } => match &binding.filter {
                Some(filter) => self.expr_end(filter),
                None => self.expr_end(&binding.collection),
            },
            ExprKind::Matches { regex, .. } | ExprKind::ContainsRegex { regex, .. } => {
                self.token_end(self.token_index(regex.span.start))
            }
            ExprKind::Exists { value, negated } => {
                let words = if *negated { 2 } else { 1 };
                self.end_of_words_after(self.expr_end(value), words)
            }
            ExprKind::IsMissing { value, negated } | ExprKind::IsNull { value, negated } => {
                let words = if *negated { 3 } else { 2 };
                self.end_of_words_after(self.expr_end(value), words)
            }
        }
    }

    /// End of the `count`-th printed token after byte `end`: `exists`, `is not null`.
    fn end_of_words_after(&self, end: usize, count: usize) -> usize {
        let mut i = self.token_index(end).saturating_sub(1);
        for _ in 0..count {
            i = self.after(i);
        }
        self.token_end(i)
    }

    /// Prints a whole expression (a property value, a list element, a call argument).
    pub fn expr(&mut self, expr: &Expr) -> Doc {
        self.expr_in(expr, Slot::FREE)
    }

    /// Prints an expression that more text follows before the end of its clause (the
    /// condition of `waive when ... until`).
    pub fn expr_followed(&mut self, expr: &Expr) -> Doc {
        self.expr_in(expr, Slot::new(Level::If, true))
    }

    fn expr_in(&mut self, expr: &Expr, slot: Slot) -> Doc {
        if level(expr) < slot.min || slot.followed && open_right(expr) {
            return self.parenthesized(expr);
        }
        match &expr.kind {
            ExprKind::Literal(_) => self.source(expr.span),
            ExprKind::Name(name) => self.source(name.span),
            ExprKind::List(items) => self.delimited("[", items, "]"),
            ExprKind::Call(function, args) => {
                let name = self.source(function.span);
                Doc::concat(vec![name, self.delimited("(", args, ")")])
            }
            ExprKind::Field(base, field) => {
                let base = self.postfix_base(base);
                let dot = self.keyword(".");
                Doc::concat(vec![base, dot, self.source(field.span)])
            }
            ExprKind::Index(base, index) => {
                let base = self.postfix_base(base);
                let open = self.keyword("[");
                let index_doc = self.expr(index);
                let (comments, close) = self.close("]");
                if is_path(index) {
                    let inside = std::iter::once(index_doc).chain(comments).collect();
                    return Doc::concat(vec![base, open, Doc::align(Doc::concat(inside)), close]);
                }
                // Any other index may go on lines of its own, two columns in: an index
                // often starts far right, after a long path.
                let mut inside = vec![Doc::SoftLine, index_doc];
                inside.extend(comments);
                let brackets = Doc::concat(vec![open, Doc::indent(Doc::concat(inside)), Doc::SoftLine, close]);
                Doc::concat(vec![base, Doc::group(brackets)])
            }
            ExprKind::Not(inner) => {
                // `not (a in b)` rather than `not a in b`, which reads as `(not a) in b`.
                let not = self.keyword("not");
                let inner = self.expr_in(inner, Slot::new(Level::Otherwise, slot.followed));
                Doc::concat(vec![not, Doc::Space, inner])
            }
            ExprKind::Negate(inner) => {
                let minus = self.keyword("-");
                Doc::concat(vec![minus, self.expr_in(inner, Slot::new(Level::Unary, true))])
            }
            ExprKind::Binary(op, ..) => self.chain(expr, binary_level(*op), slot),
            ExprKind::Otherwise(..) => self.chain(expr, Level::Otherwise, slot),
            ExprKind::If { condition, then, otherwise } => self.conditional(condition, then, otherwise),
            ExprKind::Quantifier { kind, binding, body } => self.quantifier(*kind, binding, body),
            ExprKind::Count(binding) => self.search("count", binding, false),
            ExprKind::Find { kind, binding } => {
                self.search(if *kind == FindKind::First { "first" } else { "last" }, binding, false)
            }
            ExprKind::Comprehension { element, binding } => self.comprehension(element, binding),
            _ => self.predicate(expr),
        }
    }

    /// Prints the base of `.field` or `[index]`. A `count`, `first` or `last` ends in its
    /// list, which would take the field or index, so it gets parentheses even without
    /// `where`.
    fn postfix_base(&mut self, base: &Expr) -> Doc {
        if matches!(base.kind, ExprKind::Count(_) | ExprKind::Find { .. }) {
            return self.parenthesized(base);
        }
        self.expr_in(base, Slot::new(Level::Postfix, true))
    }

    /// `[a, b]` and the arguments of a call: elements fill lines after the bracket.
    fn delimited(&mut self, open: &str, items: &[Expr], close: &str) -> Doc {
        let open = self.keyword(open);
        let mut parts = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let mut content = vec![self.expr(item)];
            if i + 1 < items.len() {
                content.push(self.keyword(","));
                parts.push(Doc::concat(content));
                parts.push(Doc::Line);
            } else {
                parts.push(Doc::concat(content));
            }
        }
        let (comments, close) = self.close(close);
        let mut inside = vec![Doc::Fill(parts)];
        inside.extend(comments);
        Doc::concat(vec![open, Doc::align(Doc::concat(inside)), close])
    }

    /// Prints the closing bracket `word`. The comments before it come back apart, because
    /// they belong inside the brackets.
    pub fn close(&mut self, word: &str) -> (Vec<Doc>, Doc) {
        let start = self.token_start(self.position());
        let comments = self.comments_before(start);
        (comments, self.keyword(word))
    }

    /// `{}` or `[]`, with the comments inside on lines of their own.
    pub fn empty_block(&mut self, open: Doc, comments: Vec<Doc>, close: Doc) -> Doc {
        if comments.is_empty() {
            return Doc::concat(vec![open, close]);
        }
        Doc::concat(vec![open, Doc::indent(Doc::concat(comments)), Doc::HardLine, close])
    }

    /// Prints a left-associative chain of operators of one level: `a and b and c`, `a + b - c`,
    /// `a otherwise b`, broken before every operator or none.
    fn chain(&mut self, expr: &Expr, chain_level: Level, slot: Slot) -> Doc {
        let mut operands = Vec::new();
        let mut operators = Vec::new();
        let mut left = expr;
        loop {
            match &left.kind {
                ExprKind::Binary(op, a, b) if binary_level(*op) == chain_level => {
                    operators.push(binary_symbol(*op));
                    operands.push(b.as_ref());
                    left = a;
                }
                ExprKind::Otherwise(a, b) if chain_level == Level::Otherwise => {
                    operators.push("otherwise");
                    operands.push(b.as_ref());
                    left = a;
                }
                _ => break,
            }
        }
        operands.push(left);
        operands.reverse();
        operators.reverse();

        // Only `and` and `or` leave a quantifier or a search at their end without
        // parentheses: `a and any x in xs satisfies p`, but `(count x in xs where p) + 1`
        // and `1 + (count x in xs where p)`.
        let logical = matches!(chain_level, Level::And | Level::Or);
        // An `and` inside an `or` gets parentheses, for the reader: `a or (b and c)`.
        let (first, higher) = match chain_level {
            Level::Or => (Level::Not, Level::Not),
            _ => (chain_level, next_level(chain_level)),
        };
        let mut docs = vec![self.expr_in(operands[0], Slot::new(first, true))];
        for (i, (operator, operand)) in operators.iter().zip(&operands[1..]).enumerate() {
            let last = i + 1 == operators.len();
            docs.push(Doc::Line);
            docs.push(self.keyword(operator));
            docs.push(Doc::Space);
            docs.push(self.expr_in(operand, Slot::new(higher, !last || slot.followed || !logical)));
        }
        Doc::group(Doc::align(Doc::concat(docs)))
    }

    fn conditional(&mut self, condition: &Expr, then: &Expr, otherwise: &Expr) -> Doc {
        let mut docs = vec![self.keyword("if"), Doc::Space];
        docs.push(Doc::align(self.expr_in(condition, Slot::new(Level::If, true))));
        docs.extend([Doc::Line, self.keyword("then"), Doc::Space]);
        docs.push(Doc::align(self.expr_in(then, Slot::new(Level::If, true))));
        docs.extend([Doc::Line, self.keyword("else"), Doc::Space]);
        docs.push(Doc::align(self.expr(otherwise)));
        Doc::group(Doc::align(Doc::concat(docs)))
    }

    /// `any x in xs where F satisfies B`: breaks before `satisfies`, then before `where`.
    fn quantifier(&mut self, kind: QuantifierKind, binding: &Binding, body: &Expr) -> Doc {
        let head = self.search(kind.keyword(), binding, true);
        let satisfies = self.keyword("satisfies");
        let body = Doc::align(self.expr(body));
        Doc::group(Doc::align(Doc::concat(vec![head, Doc::Line, satisfies, Doc::Space, body])))
    }

    /// `KEYWORD x in xs [where F]`, the head of quantifiers, `count`, `first` and `last`.
    /// In a quantifier `satisfies` follows the filter: an open-ended filter such as a
    /// nested quantifier gets parentheses there, for the reader rather than the parser.
    fn search(&mut self, keyword: &str, binding: &Binding, filter_followed: bool) -> Doc {
        let mut docs = vec![self.keyword(keyword), Doc::Space];
        docs.extend(self.binding_head(binding));
        if let Some(filter) = &binding.filter {
            docs.extend([Doc::Line, self.keyword("where"), Doc::Space]);
            docs.push(Doc::align(self.expr_in(filter, Slot::new(Level::If, filter_followed))));
        }
        Doc::group(Doc::align(Doc::concat(docs)))
    }

    /// `x in xs`
    fn binding_head(&mut self, binding: &Binding) -> Vec<Doc> {
        let variable = self.source(binding.variable.span);
        let in_keyword = self.keyword("in");
        let collection = self.expr_in(&binding.collection, Slot::new(Level::Postfix, true));
        vec![variable, Doc::Space, in_keyword, Doc::Space, collection]
    }

    /// `[e for x in xs where F]`
    fn comprehension(&mut self, element: &Expr, binding: &Binding) -> Doc {
        let open = self.keyword("[");
        let mut docs =
            vec![self.expr_in(element, Slot::new(Level::If, true)), Doc::Line, self.keyword("for"), Doc::Space];
        docs.extend(self.binding_head(binding));
        if let Some(filter) = &binding.filter {
            docs.extend([Doc::Line, self.keyword("where"), Doc::Space]);
            docs.push(Doc::align(self.expr(filter)));
        }
        let (comments, close) = self.close("]");
        docs.extend(comments);
        Doc::concat(vec![open, Doc::group(Doc::align(Doc::concat(docs))), close])
    }

    /// Prints a value followed by one test: `a == b within t`, `a not in b`, `a is null`, ...
    ///
    /// For the reader, operands that are `otherwise` chains, quantifiers or searches get
    /// parentheses even where the parser would not need them: `(a otherwise 0) == b`,
    /// `(first ...) before (first ...)`. The test after the value is its own group, so
    /// a value that spans lines keeps a short test on its last line.
    fn predicate(&mut self, expr: &Expr) -> Doc {
        let (value, mut tails) = match &expr.kind {
            ExprKind::Compare { left: value, .. }
            | ExprKind::Within { value, .. }
            | ExprKind::Between { value, .. }
            | ExprKind::In { value, .. }
            | ExprKind::Matches { value, .. }
            | ExprKind::ContainsRegex { value, .. }
            | ExprKind::Text { value, .. }
            | ExprKind::Exists { value, .. }
            | ExprKind::IsMissing { value, .. }
            | ExprKind::IsNull { value, .. }
            | ExprKind::Order { left: value, .. } => (self.operand(value), Vec::new()),
            other => unreachable!("fmt: not a predicate: {other:?}"),
        };
        let mut tail = vec![Doc::Line];
        match &expr.kind {
            ExprKind::Compare { op, right, tolerance, .. } => {
                tail.extend([self.keyword(op.symbol()), Doc::Space, self.operand(right)]);
                if let Some(tolerance) = tolerance {
                    tails.push(std::mem::replace(&mut tail, vec![Doc::Line]));
                    tail.extend([self.keyword("within"), Doc::Space, self.operand(tolerance)]);
                }
            }
            ExprKind::Within { tolerance, target, .. } => {
                tail.extend([self.keyword("within"), Doc::Space, self.operand(tolerance), Doc::Space]);
                tail.extend([self.keyword("of"), Doc::Space, self.operand(target)]);
            }
            ExprKind::Between { low, high, negated, .. } => {
                // `and` breaks under the low bound, not under the value, where it would
                // read as a logical `and`.
                tail.extend(self.negation(*negated));
                tail.extend([self.keyword("between"), Doc::Space]);
                let low = self.operand(low);
                let and = vec![Doc::Line, self.keyword("and"), Doc::Space, self.operand(high)];
                tail.push(Doc::align(Doc::concat(vec![low, Doc::group(Doc::concat(and))])));
            }
            ExprKind::In { collection, negated, .. } => {
                tail.extend(self.negation(*negated));
                tail.extend([self.keyword("in"), Doc::Space, self.operand(collection)]);
            }
            ExprKind::Matches { regex, negated, .. } => {
                tail.extend(self.negation(*negated));
                tail.extend([self.keyword("matches"), Doc::Space, self.regex(regex)]);
            }
            ExprKind::ContainsRegex { regex, negated, .. } => {
                tail.extend(self.negation(*negated));
                tail.extend([self.keyword("contains"), Doc::Space, self.regex(regex)]);
            }
            ExprKind::Text { op, pattern, negated, .. } => {
                tail.extend(self.negation(*negated));
                for (i, word) in op.words().split(' ').enumerate() {
                    if i > 0 {
                        tail.push(Doc::Space);
                    }
                    tail.push(self.keyword(word));
                }
                tail.extend([Doc::Space, self.operand(pattern)]);
            }
            ExprKind::Exists { negated, .. } => {
                tail[0] = Doc::Space;
                tail.extend(self.negation(*negated));
                tail.push(self.keyword("exists"));
            }
            ExprKind::IsMissing { negated, .. } | ExprKind::IsNull { negated, .. } => {
                let subject = if matches!(expr.kind, ExprKind::IsNull { .. }) { "null" } else { "missing" };
                tail[0] = Doc::Space;
                tail.extend([self.keyword("is"), Doc::Space]);
                tail.extend(self.negation(*negated));
                tail.push(self.keyword(subject));
            }
            ExprKind::Order { op, right, .. } => {
                let word = if *op == OrderOp::Before { "before" } else { "after" };
                tail.extend([self.keyword(word), Doc::Space, self.operand(right)]);
            }
            _ => {}
        }
        tails.push(tail);
        let mut docs = vec![value];
        docs.extend(tails.into_iter().map(|tail| Doc::group(Doc::concat(tail))));
        Doc::group(Doc::align(Doc::concat(docs)))
    }

    /// Prints an operand of a predicate. `otherwise` chains, quantifiers and searches get
    /// parentheses for the reader even where the parser would not need them.
    fn operand(&mut self, operand: &Expr) -> Doc {
        if matches!(operand.kind, ExprKind::Quantifier { .. } | ExprKind::Count(_) | ExprKind::Find { .. }) {
            return self.parenthesized(operand);
        }
        self.expr_in(operand, Slot::new(Level::Sum, true))
    }

    fn parenthesized(&mut self, expr: &Expr) -> Doc {
        let inner = self.expr(expr);
        Doc::concat(vec![Doc::text("("), Doc::align(inner), Doc::text(")")])
    }

    /// Prints a regex literal: the source token that starts where the AST puts it.
    // NOTE: the parser's span of a regex literal ends at the first `#` inside it
    // (`/a#b/` gets the span of `/a`), so the end comes from the lexer instead.
    fn regex(&mut self, regex: &RegexLiteral) -> Doc {
        self.token_starting_at(regex.span.start)
    }

    /// `not ` before a negated predicate operator.
    fn negation(&mut self, negated: bool) -> Vec<Doc> {
        if negated { vec![self.keyword("not"), Doc::Space] } else { Vec::new() }
    }
}

fn next_level(level: Level) -> Level {
    match level {
        Level::If => Level::Or,
        Level::Or => Level::And,
        Level::And => Level::Not,
        Level::Not => Level::Predicate,
        Level::Predicate => Level::Otherwise,
        Level::Otherwise => Level::Sum,
        Level::Sum => Level::Product,
        Level::Product => Level::Unary,
        Level::Unary => Level::Postfix,
        Level::Postfix | Level::Primary => Level::Primary,
    }
}
