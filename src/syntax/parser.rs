//! pest parse trees to the AST, one top-level item at a time.

use pest::Parser as _;
use pest::error::{ErrorVariant, InputLocation};
use pest::iterators::Pair;

use super::ast::{
    AlertSpec, BinaryOp, Binding, CalendarUnit, CompareOp, Costs, ExpectedVerdict, Expr, ExprKind, FindKind,
    GivenRecord, GoodCondition, Ident, Let, Literal, OrderOp, PolicyFile, QuantifierKind, RegexLiteral, RuleMode,
    RuleSeverity, Slo, TestCase, TestExpect, TextOp, Use, Waiver, WindowSpec,
};
use crate::diagnostic::{Diagnostic, SourceFile, Span};

/// Deepest allowed expression tree; deeper policies get `semslo::parse::too_deep`
/// instead of risking the evaluator's stack.
pub const MAX_EXPR_DEPTH: usize = 100;

#[derive(pest_derive::Parser)]
#[grammar = "../grammar/semslo.pest"]
pub(crate) struct PestParser;

/// Parses the item at `span` of `source` into `file`.
pub(crate) fn parse_item(source: &SourceFile, span: Span, file: &mut PolicyFile) -> Result<(), Diagnostic> {
    let text = &source.text()[span.start..span.end];
    let mut pairs = PestParser::parse(Rule::item, text).map_err(|e| syntax_error(source, span.start, &e))?;
    let builder = Builder { source, offset: span.start, nesting: std::cell::Cell::new(0) };
    let item = pairs.next().and_then(|p| p.into_inner().next()).expect("grammar: item has one child");
    builder.item(item, file)
}

/// Parses a file that contains one expression (used by tests and tools).
pub fn parse_expression(source: &SourceFile) -> Result<Expr, Diagnostic> {
    let mut pairs =
        PestParser::parse(Rule::standalone_expression, source.text()).map_err(|e| syntax_error(source, 0, &e))?;
    let builder = Builder { source, offset: 0, nesting: std::cell::Cell::new(0) };
    let expression = pairs.next().and_then(|p| p.into_inner().next()).expect("grammar: one expression");
    builder.expr(expression).map(|built| built.expr)
}

fn syntax_error(source: &SourceFile, offset: usize, error: &pest::error::Error<Rule>) -> Diagnostic {
    let position = match error.location {
        InputLocation::Pos(p) => p,
        InputLocation::Span((start, _)) => start,
    } + offset;
    let found = describe_found(source.text(), position);
    let diagnostic = Diagnostic::error("semslo::parse::unexpected_token", "").in_file(source);
    match &error.variant {
        ErrorVariant::ParsingError { positives, .. } => {
            let expected = describe_expected(positives);
            let message = if expected.is_empty() {
                format!("unexpected {found}")
            } else {
                format!("unexpected {found}, expected {}", join_alternatives(&expected))
            };
            let width = found_width(source.text(), position);
            Diagnostic { message, ..diagnostic }
                .with_label(Span::new(position, position + width), "not expected here")
                .with_help(help_for(&expected, source.text(), position))
        }
        ErrorVariant::CustomError { message } => {
            // pest reports its stack guard this way.
            Diagnostic {
                code: "semslo::parse::too_deep",
                message: format!("the parser stopped: {message}"),
                ..diagnostic
            }
            .with_label(Span::new(position, position), "here")
            .with_help("split the expression with `let` bindings")
        }
    }
}

fn describe_found(text: &str, position: usize) -> String {
    let rest = &text[position.min(text.len())..];
    let token: String = match rest.chars().next() {
        None => return "end of input".to_string(),
        Some(c) if c.is_alphanumeric() || c == '_' => {
            rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '.').collect()
        }
        Some('\n') | Some('\r') => return "end of line".to_string(),
        Some(c) => c.to_string(),
    };
    format!("`{token}`")
}

fn found_width(text: &str, position: usize) -> usize {
    let rest = &text[position.min(text.len())..];
    match rest.chars().next() {
        None | Some('\n') | Some('\r') => 0,
        Some(c) if c.is_alphanumeric() || c == '_' => {
            rest.char_indices().find(|(_, c)| !(c.is_alphanumeric() || *c == '_')).map_or(rest.len(), |(i, _)| i)
        }
        Some(c) => c.len_utf8(),
    }
}

/// Turns the grammar rules pest expected into words a policy author recognizes.
fn describe_expected(rules: &[Rule]) -> Vec<&'static str> {
    let mut words: Vec<&'static str> = rules.iter().filter_map(|rule| rule_description(*rule)).collect();
    words.sort_unstable();
    words.dedup();
    words
}

fn rule_description(rule: Rule) -> Option<&'static str> {
    use self::Rule::*;
    Some(match rule {
        item => "`policy`, `schema`, `use`, `event time`, `let`, `segments`, `rule`, `slo`, `costs` or `test`",
        EOI => "end of item",
        ident | name => "a name",
        field_name => "a field name",
        string => "a string in double quotes",
        regex => "a regex literal like `/[A-Z]+/`",
        severity => "`critical`, `major` or `minor`",
        mode => "`enforce`, `warn` or `shadow`",
        title_prop | severity_prop | mode_prop | segment_prop | owner_prop | when_prop | expect_prop | let_decl
        | waive_prop => {
            "a rule property (`title`, `severity`, `mode`, `segment`, `owner`, `when`, `let`, `expect`, `waive`) or `}`"
        }
        use_key | use_effective => "`key`, `effective` or a new line",
        compare_op | or_op | and_op | sum_op | product_op | comparison_tail | within_tail | between_tail | in_tail
        | in_kw | matches_tail | text_tail | exists_tail | is_tail | order_tail | field_access | index_access
        | tolerance => "an operator",
        expression | conditional | disjunction | conjunction | negation | predicate | fallback | sum | product
        | unary | postfix | quantifier | count_expr | find_expr | comprehension | list | call | timestamp | date
        | duration | percent | number | boolean | null | not_op | neg_op | count_kw | find_kw | quantifier_kw => {
            "an expression"
        }
        is_subject | null_word | missing_word => "`null` or `missing`",
        binding => "`NAME in LIST`",
        segments_decl | slo_decl | costs_decl | schema_decl => "a declaration",
        objective_prop | time_zone_prop | valid_prop | good_prop | minimum_prop | alert_prop | by_prop => {
            "an slo property (`title`, `objective`, `time zone`, `valid`, `good`, `minimum`, `alert`, `by`) or `}`"
        }
        window | calendar_window | calendar_unit => "a window like `28d` or `calendar month`",
        all_rules_pass | named_rules_pass | no_rule_fails => {
            "`all rules pass`, `rules NAME, ... pass` or `no critical rule fails`"
        }
        test_decl => "a declaration",
        given_record | expect_verdict => "`given record`, `expect` or `}`",
        expected_verdict => "`passes`, `fails`, `skips`, `errors`, `good`, `bad` or `not valid`",
        json_object | json_member | json_array | json_string | json_number | json_literal => "JSON",
        agent_run_cost | checkpoint_review_cost | manual_run_cost | currency_prop => {
            "`agent run`, `checkpoint review`, `manual run`, `currency` or `}`"
        }
        filter => "`where`",
        _ => return None,
    })
}

fn join_alternatives(words: &[&str]) -> String {
    match words {
        [] => String::new(),
        [one] => (*one).to_string(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

/// Words of the expression language that cannot name a rule, table or variable.
const KEYWORDS: &[&str] = &[
    "and",
    "or",
    "not",
    "in",
    "if",
    "then",
    "else",
    "true",
    "false",
    "null",
    "any",
    "all",
    "none",
    "count",
    "first",
    "last",
    "where",
    "satisfies",
    "between",
    "within",
    "of",
    "matches",
    "starts",
    "ends",
    "with",
    "contains",
    "exists",
    "is",
    "missing",
    "otherwise",
    "before",
    "after",
    "for",
];

fn help_for(expected: &[&str], text: &str, position: usize) -> String {
    let rest = &text[position.min(text.len())..];
    let word: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
    if word == "exists" && expected.contains(&"an expression") {
        return prefix_exists_help(&rest[word.len()..]);
    }
    if expected.contains(&"a name") && KEYWORDS.contains(&word.as_str()) {
        return format!("`{word}` is a keyword of the language; choose another name");
    }
    if rest.starts_with('"') && !rest[1..].lines().next().unwrap_or("").contains('"') {
        return "this string is not closed on its line; add the closing `\"`".to_string();
    }
    if text[..position.min(text.len())].trim_end().ends_with("objective") {
        return "write the objective as a percentage, e.g. `objective 99.5% over 28d`".to_string();
    }
    if rest.starts_with('=') && !rest.starts_with("==") {
        return "compare with `==`; a single `=` only appears in `let NAME = ...`".to_string();
    }
    if rest.starts_with("&&") || rest.starts_with("||") || rest.starts_with('!') && !rest.starts_with("!=") {
        return "write `and`, `or` and `not` as words".to_string();
    }
    if expected.iter().any(|w| w.contains("rule property")) {
        return "each rule property starts on its own keyword; strings need double quotes".to_string();
    }
    if expected.contains(&"an expression") {
        return "a value goes here: a field path like `outcome.total`, a literal, or `(...)`".to_string();
    }
    "see docs/language.md for the syntax of policy files".to_string()
}

/// Suggests the postfix form for `exists PATH`, naming the path written after `exists`
/// (without brackets around it) when there is one.
fn prefix_exists_help(after: &str) -> String {
    let after = after.trim_start();
    let after = after.strip_prefix('(').unwrap_or(after).trim_start();
    let path: String =
        after.chars().take_while(|c| c.is_alphanumeric() || matches!(c, '_' | '.' | '[' | ']')).collect();
    let path = if path.is_empty() { "PATH" } else { path.as_str() };
    format!("`exists` goes after the path it tests: write `{path} exists`, or `{path} not exists` for the opposite")
}

/// An expression with the depth of its tree, so depth is checked without recursing again.
struct Built {
    expr: Expr,
    depth: usize,
}

struct Builder<'s> {
    source: &'s SourceFile,
    offset: usize,
    /// Parse-tree levels currently being built, to stop before the builder's own
    /// recursion can exhaust the stack on input nested without brackets.
    nesting: std::cell::Cell<usize>,
}

/// Most parse-tree levels the builder descends; an expression level spans about a
/// dozen of them, so this stays well above [`MAX_EXPR_DEPTH`] expression levels.
const MAX_TREE_LEVELS: usize = MAX_EXPR_DEPTH * 16;

impl Builder<'_> {
    /// Returns the pair's span without trailing white space and comments, which pest
    /// includes when an optional element after the pair's last token did not match.
    fn span(&self, pair: &Pair<Rule>) -> Span {
        let span = pair.as_span();
        // Literals are atomic: they hold no trivia, and a `#` in them is not a comment.
        if matches!(pair.as_rule(), Rule::regex | Rule::string | Rule::json_object | Rule::json_string) {
            return Span::new(span.start() + self.offset, span.end() + self.offset);
        }
        let length = content_length(pair.as_str());
        Span::new(span.start() + self.offset, span.start() + length + self.offset)
    }

    fn ident(&self, pair: Pair<Rule>) -> Ident {
        Ident { name: pair.as_str().to_string(), span: self.span(&pair) }
    }

    fn item(&self, pair: Pair<Rule>, file: &mut PolicyFile) -> Result<(), Diagnostic> {
        let span = self.span(&pair);
        match pair.as_rule() {
            Rule::policy_decl => {
                let name = self.ident(pair.into_inner().next().expect("grammar: policy name"));
                if let Some(previous) = &file.name {
                    return Err(self
                        .error("semslo::parse::duplicate_policy_name", "the policy is named twice", name.span)
                        .with_label(previous.span, "first named here")
                        .with_help("keep one `policy NAME` line per file"));
                }
                file.name = Some(name);
            }
            Rule::schema_decl => {
                let path = pair.into_inner().next().expect("grammar: schema path");
                let path_span = self.span(&path);
                if file.schema.is_some() {
                    return Err(self
                        .error("semslo::parse::duplicate_schema", "`schema` is declared twice", span)
                        .with_help("keep one `schema \"FILE\"` line per file"));
                }
                file.schema = Some((self.string(path)?, path_span));
            }
            Rule::use_decl => file.uses.push(self.use_decl(pair, span)?),
            Rule::event_time_decl => {
                let expr = self.expr(pair.into_inner().next().expect("grammar: event time expression"))?.expr;
                if file.event_time.is_some() {
                    return Err(self
                        .error("semslo::parse::duplicate_event_time", "`event time` is declared twice", span)
                        .with_help("keep one `event time PATH` line per file"));
                }
                file.event_time = Some(expr);
            }
            Rule::let_decl => file.lets.push(self.let_decl(pair)?),
            Rule::rule_decl => file.rules.push(self.rule_decl(pair, span)?),
            Rule::segments_decl => {
                let names: Vec<Ident> = pair.into_inner().map(|p| self.ident(p)).collect();
                if !file.segments.is_empty() {
                    return Err(self
                        .error("semslo::parse::duplicate_segments", "`segments` is declared twice", span)
                        .with_help("list every segment, in run order, on one `segments` line"));
                }
                file.segments = names;
            }
            Rule::slo_decl => file.slos.push(self.slo_decl(pair, span)?),
            Rule::test_decl => file.tests.push(self.test_decl(pair, span)?),
            Rule::costs_decl => {
                if file.costs.is_some() {
                    return Err(self
                        .error("semslo::parse::duplicate_costs", "`costs` is declared twice", span)
                        .with_help("keep one `costs { ... }` block per file"));
                }
                file.costs = Some(self.costs_decl(pair, span)?);
            }
            other => unreachable!("grammar: unexpected item {other:?}"),
        }
        Ok(())
    }

    fn use_decl(&self, pair: Pair<Rule>, span: Span) -> Result<Use, Diagnostic> {
        let mut inner = pair.into_inner();
        let path_pair = inner.next().expect("grammar: use path");
        let path_span = self.span(&path_pair);
        let path = self.string(path_pair)?;
        let alias = self.ident(inner.next().expect("grammar: use alias"));
        let mut key = None;
        let mut effective = None;
        for part in inner {
            match part.as_rule() {
                Rule::use_key => key = Some(self.ident(part.into_inner().next().expect("grammar: key"))),
                Rule::use_effective => {
                    let mut columns = part.into_inner();
                    let from = self.ident(columns.next().expect("grammar: effective from"));
                    let until = self.ident(columns.next().expect("grammar: effective until"));
                    effective = Some((from, until));
                }
                other => unreachable!("grammar: unexpected use part {other:?}"),
            }
        }
        Ok(Use { path, path_span, alias, key, effective, span })
    }

    fn let_decl(&self, pair: Pair<Rule>) -> Result<Let, Diagnostic> {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        let name = self.ident(inner.next().expect("grammar: let name"));
        let value = self.expr(inner.next().expect("grammar: let value"))?.expr;
        Ok(Let { name, value, span })
    }

    fn rule_decl(&self, pair: Pair<Rule>, span: Span) -> Result<Rule_, Diagnostic> {
        let mut inner = pair.into_inner();
        let name = self.ident(inner.next().expect("grammar: rule name"));
        let mut rule = Rule_ {
            head_span: Span::new(span.start, name.span.end),
            name,
            title: None,
            severity: RuleSeverity::default(),
            mode: RuleMode::default(),
            mode_until: None,
            segment: None,
            owner: None,
            when: None,
            lets: Vec::new(),
            expects: Vec::new(),
            waivers: Vec::new(),
            span,
        };
        let mut seen: Vec<(&'static str, Span)> = Vec::new();
        for property in inner {
            let property_span = self.span(&property);
            let keyword = property_keyword(property.as_rule());
            if !matches!(keyword, "let" | "expect" | "waive") {
                if let Some((_, first)) = seen.iter().find(|(k, _)| *k == keyword) {
                    return Err(self
                        .error(
                            "semslo::parse::duplicate_property",
                            format!("`{keyword}` is given twice in rule `{}`", rule.name.name),
                            property_span,
                        )
                        .with_label(*first, "first given here")
                        .with_help("combine the two into one line (for two conditions, join them with `and`)"));
                }
                seen.push((keyword, property_span));
            }
            self.rule_property(property, &mut rule)?;
        }
        if rule.expects.is_empty() {
            return Err(self
                .error(
                    "semslo::parse::missing_expect",
                    format!("rule `{}` has no `expect`", rule.name.name),
                    rule.head_span,
                )
                .with_help("add `expect CONDITION`: what must hold for the run to pass this rule"));
        }
        Ok(rule)
    }

    fn rule_property(&self, property: Pair<Rule>, rule: &mut Rule_) -> Result<(), Diagnostic> {
        let rule_kind = property.as_rule();
        if rule_kind == Rule::let_decl {
            rule.lets.push(self.let_decl(property)?);
            return Ok(());
        }
        if rule_kind == Rule::waive_prop {
            let span = self.span(&property);
            let mut parts = property.into_inner();
            let condition = self.expr(parts.next().expect("grammar: waiver condition"))?.expr;
            let date = parts.next().expect("grammar: waiver date");
            let until = (date.as_str().to_string(), self.span(&date));
            let reason = match parts.next() {
                Some(text) => Some(self.string(text)?),
                None => None,
            };
            rule.waivers.push(Waiver { condition, until, reason, span });
            return Ok(());
        }
        if rule_kind == Rule::mode_prop {
            let mut parts = property.into_inner();
            rule.mode = match parts.next().expect("grammar: mode").as_str() {
                "enforce" => RuleMode::Enforce,
                "warn" => RuleMode::Warn,
                _ => RuleMode::Shadow,
            };
            rule.mode_until = parts.next().map(|date| (date.as_str().to_string(), self.span(&date)));
            return Ok(());
        }
        let value = property.into_inner().next().expect("grammar: property value");
        match rule_kind {
            Rule::title_prop => rule.title = Some(self.string(value)?),
            Rule::owner_prop => rule.owner = Some(self.string(value)?),
            Rule::segment_prop => rule.segment = Some(self.ident(value)),
            Rule::severity_prop => {
                rule.severity = match value.as_str() {
                    "critical" => RuleSeverity::Critical,
                    "major" => RuleSeverity::Major,
                    _ => RuleSeverity::Minor,
                }
            }
            Rule::when_prop => rule.when = Some(self.expr(value)?.expr),
            Rule::expect_prop => rule.expects.push(self.expr(value)?.expr),
            other => unreachable!("grammar: unexpected rule property {other:?}"),
        }
        Ok(())
    }

    fn slo_decl(&self, pair: Pair<Rule>, span: Span) -> Result<Slo, Diagnostic> {
        let mut inner = pair.into_inner();
        let name = self.ident(inner.next().expect("grammar: slo name"));
        let mut slo = Slo {
            head_span: Span::new(span.start, name.span.end),
            name,
            title: None,
            objective: None,
            window: None,
            time_zone: None,
            valid: None,
            good: None,
            minimum_runs: None,
            alerts: Vec::new(),
            by: Vec::new(),
            span,
        };
        let mut seen: Vec<(Rule, Span)> = Vec::new();
        for property in inner {
            let property_span = self.span(&property);
            let kind = property.as_rule();
            if !matches!(kind, Rule::alert_prop | Rule::by_prop) {
                if let Some((_, first)) = seen.iter().find(|(k, _)| *k == kind) {
                    let word = property.as_str().split_whitespace().next().unwrap_or("property").to_string();
                    return Err(self
                        .error(
                            "semslo::parse::duplicate_property",
                            format!("`{word}` is given twice in slo `{}`", slo.name.name),
                            property_span,
                        )
                        .with_label(*first, "first given here")
                        .with_help("keep one line per property; only `alert` and `by` may repeat"));
                }
                seen.push((kind, property_span));
            }
            self.slo_property(property, property_span, &mut slo)?;
        }
        if slo.objective.is_none() {
            return Err(self
                .error(
                    "semslo::parse::missing_objective",
                    format!("slo `{}` has no `objective`", slo.name.name),
                    slo.head_span,
                )
                .with_help("add `objective 99.5% over 28d`: the target share of good runs and its window"));
        }
        Ok(slo)
    }

    fn slo_property(&self, property: Pair<Rule>, span: Span, slo: &mut Slo) -> Result<(), Diagnostic> {
        let kind = property.as_rule();
        let mut parts = property.into_inner();
        match kind {
            Rule::title_prop => slo.title = Some(self.string(parts.next().expect("grammar: title"))?),
            Rule::objective_prop => {
                let percent = parts.next().expect("grammar: objective percent");
                let percent_span = self.span(&percent);
                slo.objective = Some((percent.as_str().trim_end_matches('%').to_string(), percent_span));
                let window = parts.next().expect("grammar: objective window");
                let window_span = self.span(&window);
                let window_inner = window.into_inner().next().expect("grammar: window kind");
                let spec = match window_inner.as_rule() {
                    Rule::calendar_window => {
                        let unit = window_inner.into_inner().next().expect("grammar: calendar unit");
                        WindowSpec::Calendar(match unit.as_str() {
                            "day" => CalendarUnit::Day,
                            "week" => CalendarUnit::Week,
                            "month" => CalendarUnit::Month,
                            _ => CalendarUnit::Quarter,
                        })
                    }
                    _ => WindowSpec::Rolling(window_inner.as_str().to_string()),
                };
                slo.window = Some((spec, window_span));
            }
            Rule::time_zone_prop => {
                let zone = parts.next().expect("grammar: time zone");
                let zone_span = self.span(&zone);
                slo.time_zone = Some((self.string(zone)?, zone_span));
            }
            Rule::valid_prop => slo.valid = Some(self.expr(parts.next().expect("grammar: valid condition"))?.expr),
            Rule::good_prop => {
                let condition = parts.next().expect("grammar: good condition");
                let condition_span = self.span(&condition);
                let good = match condition.as_rule() {
                    Rule::all_rules_pass => GoodCondition::AllRulesPass,
                    Rule::named_rules_pass => {
                        GoodCondition::RulesPass(condition.into_inner().map(|p| self.ident(p)).collect())
                    }
                    _ => GoodCondition::NoRuleFails(condition.into_inner().next().map(
                        |severity| match severity.as_str() {
                            "critical" => RuleSeverity::Critical,
                            "major" => RuleSeverity::Major,
                            _ => RuleSeverity::Minor,
                        },
                    )),
                };
                slo.good = Some((good, condition_span));
            }
            Rule::minimum_prop => {
                let number = parts.next().expect("grammar: minimum runs");
                let number_span = self.span(&number);
                slo.minimum_runs = Some((number.as_str().replace('_', ""), number_span));
            }
            Rule::alert_prop => {
                let name = self.ident(parts.next().expect("grammar: alert name"));
                let factor = parts.next().expect("grammar: alert factor").as_str().replace('_', "");
                let long_window = parts.next().expect("grammar: long window").as_str().to_string();
                let short_window = parts.next().expect("grammar: short window").as_str().to_string();
                slo.alerts.push(AlertSpec { name, factor, long_window, short_window, span });
            }
            Rule::by_prop => slo.by.push(self.expr(parts.next().expect("grammar: by expression"))?.expr),
            other => unreachable!("grammar: unexpected slo property {other:?}"),
        }
        Ok(())
    }

    fn test_decl(&self, pair: Pair<Rule>, span: Span) -> Result<TestCase, Diagnostic> {
        let mut inner = pair.into_inner();
        let name_pair = inner.next().expect("grammar: test name");
        let head_span = Span::new(span.start, self.span(&name_pair).end);
        let name = self.string(name_pair)?;
        let mut test = TestCase { name, given: None, expects: Vec::new(), span, head_span };
        for property in inner {
            let property_span = self.span(&property);
            match property.as_rule() {
                Rule::given_record => {
                    if test.given.is_some() {
                        return Err(self
                            .error(
                                "semslo::parse::duplicate_property",
                                format!("test `{}` gives two records", test.name),
                                property_span,
                            )
                            .with_help("a test checks one run; write a second test for another record"));
                    }
                    let record = property.into_inner().next().expect("grammar: given record");
                    let record_span = self.span(&record);
                    test.given = Some(match record.as_rule() {
                        Rule::string => GivenRecord::File { path: self.string(record)?, span: record_span },
                        _ => GivenRecord::Inline { json: record.as_str().to_string(), span: record_span },
                    });
                }
                _ => {
                    let mut parts = property.into_inner();
                    let target = self.ident(parts.next().expect("grammar: test target"));
                    let expected =
                        match parts.next().expect("grammar: expected verdict").as_str().split_whitespace().next() {
                            Some("passes") => ExpectedVerdict::Passes,
                            Some("fails") => ExpectedVerdict::Fails,
                            Some("skips") => ExpectedVerdict::Skips,
                            Some("errors") => ExpectedVerdict::Errors,
                            Some("good") => ExpectedVerdict::Good,
                            Some("bad") => ExpectedVerdict::Bad,
                            _ => ExpectedVerdict::NotValid,
                        };
                    test.expects.push(TestExpect { target, expected, span: property_span });
                }
            }
        }
        if test.given.is_none() {
            return Err(self
                .error("semslo::parse::missing_given", format!("test `{}` has no `given record`", test.name), head_span)
                .with_help("add `given record \"FILE\"` or `given record { ... }` with the run to check"));
        }
        if test.expects.is_empty() {
            return Err(self
                .error("semslo::parse::missing_expect", format!("test `{}` has no `expect`", test.name), head_span)
                .with_help("add `expect RULE passes|fails|skips|errors` or `expect SLO good|bad|not valid`"));
        }
        Ok(test)
    }

    fn costs_decl(&self, pair: Pair<Rule>, span: Span) -> Result<Costs, Diagnostic> {
        let mut costs = Costs { span, ..Costs::default() };
        for item in pair.into_inner() {
            let item_span = self.span(&item);
            let kind = item.as_rule();
            let value = item.into_inner().next().expect("grammar: cost value");
            let slot = match kind {
                Rule::agent_run_cost => &mut costs.agent_run,
                Rule::checkpoint_review_cost => &mut costs.checkpoint_review,
                Rule::manual_run_cost => &mut costs.manual_run,
                _ => &mut costs.currency,
            };
            if slot.is_some() {
                return Err(self
                    .error("semslo::parse::duplicate_property", "a cost is given twice", item_span)
                    .with_help("give each cost once"));
            }
            *slot =
                Some(if kind == Rule::currency_prop { self.string(value)? } else { value.as_str().replace('_', "") });
        }
        Ok(costs)
    }

    fn error(&self, code: &'static str, message: impl Into<String>, span: Span) -> Diagnostic {
        Diagnostic::error(code, message).in_file(self.source).with_label(span, "")
    }

    fn string(&self, pair: Pair<Rule>) -> Result<String, Diagnostic> {
        let span = self.span(&pair);
        let inner = pair.into_inner().next().expect("grammar: string content");
        unescape(inner.as_str()).map_err(|bad| {
            self.error("semslo::parse::invalid_escape", format!("invalid escape `{bad}` in string"), span)
                .with_help("the escapes are \\\" \\\\ \\n \\r \\t and \\u{HEX}")
        })
    }

    // ------------------------------------------------------------ expressions

    fn expr(&self, pair: Pair<Rule>) -> Result<Built, Diagnostic> {
        let level = self.nesting.get() + 1;
        if level > MAX_TREE_LEVELS {
            return Err(self
                .error(
                    "semslo::parse::too_deep",
                    format!("expression nested deeper than {MAX_EXPR_DEPTH} levels"),
                    self.span(&pair),
                )
                .with_help("split the expression with `let` bindings"));
        }
        self.nesting.set(level);
        let result = self.expr_at_level(pair);
        self.nesting.set(level - 1);
        result
    }

    fn expr_at_level(&self, pair: Pair<Rule>) -> Result<Built, Diagnostic> {
        let span = self.span(&pair);
        let built = match pair.as_rule() {
            Rule::expression => return self.expr(pair.into_inner().next().expect("grammar: expression child")),
            Rule::conditional => {
                let mut inner = pair.into_inner();
                let condition = self.expr(inner.next().expect("grammar: if"))?;
                let then = self.expr(inner.next().expect("grammar: then"))?;
                let otherwise = self.expr(inner.next().expect("grammar: else"))?;
                let depth = 1 + condition.depth.max(then.depth).max(otherwise.depth);
                let kind = ExprKind::If {
                    condition: Box::new(condition.expr),
                    then: Box::new(then.expr),
                    otherwise: Box::new(otherwise.expr),
                };
                Built { expr: Expr::new(kind, span), depth }
            }
            Rule::disjunction | Rule::conjunction | Rule::sum | Rule::product => self.binary_chain(pair)?,
            Rule::negation => self.negation(pair)?,
            Rule::predicate => self.predicate(pair)?,
            Rule::fallback => {
                let mut inner = pair.into_inner();
                let mut left = self.expr(inner.next().expect("grammar: fallback operand"))?;
                for next in inner {
                    let right = self.expr(next)?;
                    let span = left.expr.span.to(right.expr.span);
                    let depth = 1 + left.depth.max(right.depth);
                    let kind = ExprKind::Otherwise(Box::new(left.expr), Box::new(right.expr));
                    left = Built { expr: Expr::new(kind, span), depth };
                    self.check_depth(&left)?;
                }
                left
            }
            Rule::unary => {
                let inner: Vec<Pair<Rule>> = pair.into_inner().collect();
                let (operand, negations) = inner.split_last().expect("grammar: unary operand");
                let mut built = self.expr(operand.clone())?;
                for negation in negations.iter().rev() {
                    let span = self.span(negation).to(built.expr.span);
                    built =
                        Built { expr: Expr::new(ExprKind::Negate(Box::new(built.expr)), span), depth: built.depth + 1 };
                    self.check_depth(&built)?;
                }
                built
            }
            Rule::postfix => self.postfix(pair)?,
            _ => self.primary(pair)?,
        };
        self.check_depth(&built)?;
        Ok(built)
    }

    fn check_depth(&self, built: &Built) -> Result<(), Diagnostic> {
        if built.depth > MAX_EXPR_DEPTH {
            return Err(self
                .error(
                    "semslo::parse::too_deep",
                    format!("expression nested deeper than {MAX_EXPR_DEPTH} levels"),
                    built.expr.span,
                )
                .with_help("split the expression with `let` bindings"));
        }
        Ok(())
    }

    /// `a or b or c`, `a + b - c`: left-associative chains.
    fn binary_chain(&self, pair: Pair<Rule>) -> Result<Built, Diagnostic> {
        let mut inner = pair.into_inner();
        let mut left = self.expr(inner.next().expect("grammar: chain operand"))?;
        while let Some(op_pair) = inner.next() {
            let op = match op_pair.as_str() {
                "or" => BinaryOp::Or,
                "and" => BinaryOp::And,
                "+" => BinaryOp::Add,
                "-" => BinaryOp::Subtract,
                "*" => BinaryOp::Multiply,
                _ => BinaryOp::Divide,
            };
            let right = self.expr(inner.next().expect("grammar: chain operand after operator"))?;
            let span = left.expr.span.to(right.expr.span);
            let depth = 1 + left.depth.max(right.depth);
            left =
                Built { expr: Expr::new(ExprKind::Binary(op, Box::new(left.expr), Box::new(right.expr)), span), depth };
            self.check_depth(&left)?;
        }
        Ok(left)
    }

    fn negation(&self, pair: Pair<Rule>) -> Result<Built, Diagnostic> {
        let inner: Vec<Pair<Rule>> = pair.into_inner().collect();
        let (operand, nots) = inner.split_last().expect("grammar: negation operand");
        let mut built = self.expr(operand.clone())?;
        for not in nots.iter().rev() {
            let span = self.span(not).to(built.expr.span);
            built = Built { expr: Expr::new(ExprKind::Not(Box::new(built.expr)), span), depth: built.depth + 1 };
            self.check_depth(&built)?;
        }
        Ok(built)
    }

    fn predicate(&self, pair: Pair<Rule>) -> Result<Built, Diagnostic> {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        let subject = self.expr(inner.next().expect("grammar: predicate subject"))?;
        let Some(tail) = inner.next() else { return Ok(subject) };
        let mut depth = subject.depth;
        let value = Box::new(subject.expr);
        let tail_rule = tail.as_rule();
        let mut parts = tail.into_inner().peekable();
        let negated = parts.next_if(|p| p.as_rule() == Rule::negated).is_some();
        let mut operand = |pair: Pair<Rule>| -> Result<Box<Expr>, Diagnostic> {
            let built = self.expr(pair)?;
            depth = depth.max(built.depth);
            Ok(Box::new(built.expr))
        };
        let kind = match tail_rule {
            Rule::comparison_tail => {
                let op = match parts.next().expect("grammar: comparison operator").as_str() {
                    "==" => CompareOp::Equal,
                    "!=" => CompareOp::NotEqual,
                    "<=" => CompareOp::LessOrEqual,
                    ">=" => CompareOp::GreaterOrEqual,
                    "<" => CompareOp::Less,
                    _ => CompareOp::Greater,
                };
                let right = operand(parts.next().expect("grammar: comparison right side"))?;
                let tolerance = match parts.next() {
                    Some(t) => Some(operand(t.into_inner().next().expect("grammar: tolerance value"))?),
                    None => None,
                };
                ExprKind::Compare { op, left: value, right, tolerance }
            }
            Rule::within_tail => {
                let tolerance = operand(parts.next().expect("grammar: within tolerance"))?;
                let target = operand(parts.next().expect("grammar: within target"))?;
                ExprKind::Within { value, tolerance, target }
            }
            Rule::between_tail => {
                let low = operand(parts.next().expect("grammar: between low"))?;
                let high = operand(parts.next().expect("grammar: between high"))?;
                ExprKind::Between { value, low, high, negated }
            }
            Rule::in_tail => {
                parts.next(); // the `in` keyword
                let collection = operand(parts.next().expect("grammar: in collection"))?;
                ExprKind::In { value, collection, negated }
            }
            Rule::matches_tail => {
                let regex = self.regex(parts.next().expect("grammar: regex"));
                ExprKind::Matches { value, regex, negated }
            }
            Rule::text_tail => {
                let op_pair = parts.next().expect("grammar: text operator");
                let op = match op_pair.into_inner().next().expect("grammar: text operator kind").as_rule() {
                    Rule::starts_with => TextOp::StartsWith,
                    Rule::ends_with => TextOp::EndsWith,
                    _ => TextOp::Contains,
                };
                let pattern = parts.next().expect("grammar: text pattern");
                if pattern.as_rule() == Rule::regex {
                    let regex = self.regex(pattern);
                    if op != TextOp::Contains {
                        return Err(self
                            .error(
                                "semslo::parse::regex_not_allowed",
                                format!("`{}` takes text, not a regex", op.words()),
                                regex.span,
                            )
                            .with_help(
                                "use `matches /^.../` style patterns with `matches` (whole string) or `contains /.../`",
                            ));
                    }
                    ExprKind::ContainsRegex { value, regex, negated }
                } else {
                    ExprKind::Text { op, value, pattern: operand(pattern)?, negated }
                }
            }
            Rule::exists_tail => ExprKind::Exists { value, negated },
            Rule::is_tail => {
                let subject = parts.next().expect("grammar: is subject");
                match subject.into_inner().next().expect("grammar: null or missing").as_rule() {
                    Rule::null_word => ExprKind::IsNull { value, negated },
                    _ => ExprKind::IsMissing { value, negated },
                }
            }
            Rule::order_tail => {
                let op = match parts.next().expect("grammar: order operator").as_str() {
                    "before" => OrderOp::Before,
                    _ => OrderOp::After,
                };
                let right = operand(parts.next().expect("grammar: order right side"))?;
                ExprKind::Order { op, left: value, right }
            }
            other => unreachable!("grammar: unexpected predicate tail {other:?}"),
        };
        Ok(Built { expr: Expr::new(kind, span), depth: depth + 1 })
    }

    fn postfix(&self, pair: Pair<Rule>) -> Result<Built, Diagnostic> {
        // The whole postfix starts where its base starts, parentheses included:
        // `(last m in steps).text`, not `last m in steps).text`.
        let start = self.span(&pair).start;
        let mut inner = pair.into_inner();
        let mut built = self.expr(inner.next().expect("grammar: postfix base"))?;
        for access in inner {
            let access_span = self.span(&access);
            let span = Span::new(start, access_span.end);
            let (kind, depth) = match access.as_rule() {
                Rule::field_access => {
                    let field = self.ident(access.into_inner().next().expect("grammar: field name"));
                    (ExprKind::Field(Box::new(built.expr), field), built.depth + 1)
                }
                _ => {
                    let index = self.expr(access.into_inner().next().expect("grammar: index expression"))?;
                    let depth = 1 + built.depth.max(index.depth);
                    (ExprKind::Index(Box::new(built.expr), Box::new(index.expr)), depth)
                }
            };
            built = Built { expr: Expr::new(kind, span), depth };
            self.check_depth(&built)?;
        }
        Ok(built)
    }

    fn primary(&self, pair: Pair<Rule>) -> Result<Built, Diagnostic> {
        let span = self.span(&pair);
        let leaf = |kind| Ok(Built { expr: Expr::new(kind, span), depth: 1 });
        match pair.as_rule() {
            Rule::timestamp => leaf(ExprKind::Literal(Literal::Timestamp(pair.as_str().to_string()))),
            Rule::date => leaf(ExprKind::Literal(Literal::Date(pair.as_str().to_string()))),
            Rule::duration => leaf(ExprKind::Literal(Literal::Duration(pair.as_str().to_string()))),
            Rule::percent => {
                let text = pair.as_str().trim_end_matches('%').to_string();
                leaf(ExprKind::Literal(Literal::Percent(text)))
            }
            Rule::number => leaf(ExprKind::Literal(Literal::Number(pair.as_str().replace('_', "")))),
            Rule::string => leaf(ExprKind::Literal(Literal::String(self.string(pair)?))),
            Rule::boolean => leaf(ExprKind::Literal(Literal::Bool(pair.as_str() == "true"))),
            Rule::null => leaf(ExprKind::Literal(Literal::Null)),
            Rule::name => leaf(ExprKind::Name(self.ident(pair.into_inner().next().expect("grammar: name")))),
            Rule::list => {
                let mut depth = 0;
                let mut items = Vec::new();
                for item in pair.into_inner() {
                    let built = self.expr(item)?;
                    depth = depth.max(built.depth);
                    items.push(built.expr);
                }
                Ok(Built { expr: Expr::new(ExprKind::List(items), span), depth: depth + 1 })
            }
            Rule::call => {
                let mut inner = pair.into_inner();
                let function = self.ident(inner.next().expect("grammar: function name"));
                let mut depth = 0;
                let mut args = Vec::new();
                for arg in inner {
                    let built = self.expr(arg)?;
                    depth = depth.max(built.depth);
                    args.push(built.expr);
                }
                Ok(Built { expr: Expr::new(ExprKind::Call(function, args), span), depth: depth + 1 })
            }
            Rule::quantifier => {
                let mut inner = pair.into_inner();
                let kind = match inner.next().expect("grammar: quantifier keyword").as_str().trim() {
                    "any" => QuantifierKind::Any,
                    "all" => QuantifierKind::All,
                    _ => QuantifierKind::None,
                };
                let (binding, mut depth, rest) = self.binding(inner)?;
                let body = self.expr(rest.into_iter().next().expect("grammar: satisfies body"))?;
                depth = depth.max(body.depth);
                let kind = ExprKind::Quantifier { kind, binding, body: Box::new(body.expr) };
                Ok(Built { expr: Expr::new(kind, span), depth: depth + 1 })
            }
            Rule::count_expr => {
                let mut inner = pair.into_inner();
                inner.next(); // the `count` keyword
                let (binding, depth, _) = self.binding(inner)?;
                Ok(Built { expr: Expr::new(ExprKind::Count(binding), span), depth: depth + 1 })
            }
            Rule::find_expr => {
                let mut inner = pair.into_inner();
                let kind = match inner.next().expect("grammar: first or last").as_str().trim() {
                    "first" => FindKind::First,
                    _ => FindKind::Last,
                };
                let (binding, depth, _) = self.binding(inner)?;
                Ok(Built { expr: Expr::new(ExprKind::Find { kind, binding }, span), depth: depth + 1 })
            }
            Rule::comprehension => {
                let mut inner = pair.into_inner();
                let element = self.expr(inner.next().expect("grammar: comprehension element"))?;
                let (binding, depth, _) = self.binding(inner)?;
                let depth = depth.max(element.depth);
                let kind = ExprKind::Comprehension { element: Box::new(element.expr), binding };
                Ok(Built { expr: Expr::new(kind, span), depth: depth + 1 })
            }
            Rule::expression => self.expr(pair),
            other => unreachable!("grammar: unexpected primary {other:?}"),
        }
    }

    /// Reads `NAME in LIST [where FILTER]` and returns what follows it.
    fn binding<'i>(
        &self,
        mut inner: pest::iterators::Pairs<'i, Rule>,
    ) -> Result<(Binding, usize, Vec<Pair<'i, Rule>>), Diagnostic> {
        let mut head = inner.next().expect("grammar: binding").into_inner();
        let variable = self.ident(head.next().expect("grammar: binding variable"));
        let collection = self.expr(head.next().expect("grammar: binding collection"))?;
        let mut depth = collection.depth;
        let mut filter = None;
        let mut rest = Vec::new();
        for part in inner {
            if part.as_rule() == Rule::filter {
                let built = self.expr(part.into_inner().next().expect("grammar: filter expression"))?;
                depth = depth.max(built.depth);
                filter = Some(Box::new(built.expr));
            } else {
                rest.push(part);
            }
        }
        Ok((Binding { variable, collection: Box::new(collection.expr), filter }, depth, rest))
    }

    fn regex(&self, pair: Pair<Rule>) -> RegexLiteral {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        let pattern = inner.next().expect("grammar: regex body").as_str().replace("\\/", "/");
        let case_insensitive = inner.next().is_some_and(|flags| flags.as_str() == "i");
        RegexLiteral { pattern, case_insensitive, span }
    }
}

/// The AST rule type; the grammar's `Rule` enum owns the plain name in this module.
type Rule_ = super::ast::Rule;

fn property_keyword(rule: Rule) -> &'static str {
    match rule {
        Rule::title_prop => "title",
        Rule::severity_prop => "severity",
        Rule::mode_prop => "mode",
        Rule::segment_prop => "segment",
        Rule::owner_prop => "owner",
        Rule::when_prop => "when",
        Rule::let_decl => "let",
        Rule::waive_prop => "waive",
        _ => "expect",
    }
}

/// Length of `text` without trailing white space and `#` comments.
fn content_length(text: &str) -> usize {
    let mut end = text.trim_end().len();
    loop {
        let line_start = text[..end].rfind('\n').map_or(0, |i| i + 1);
        match comment_start(&text[line_start..end]) {
            Some(hash) if line_start + hash > 0 => end = text[..line_start + hash].trim_end().len(),
            _ => return end,
        }
    }
}

/// Byte position of a `#` that starts a comment in `line`, skipping `#` inside strings
/// and regex literals.
fn comment_start(line: &str) -> Option<usize> {
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for (i, c) in line.char_indices() {
        match (quote, c) {
            (Some(_), _) if escaped => escaped = false,
            (Some(_), '\\') => escaped = true,
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"') => quote = Some('"'),
            (None, '/') if ["matches", "contains", "with"].iter().any(|word| line[..i].trim_end().ends_with(word)) => {
                quote = Some('/')
            }
            (None, '#') => return Some(i),
            (None, _) => {}
        }
    }
    None
}

/// Resolves `\"`, `\\`, `\n`, `\r`, `\t` and `\u{HEX}`; returns the bad escape on error.
fn unescape(raw: &str) -> Result<String, String> {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('"') => out.push('"'),
            Some('\\') => out.push('\\'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('t') => out.push('\t'),
            Some('u') => {
                let rest: String = chars.clone().collect();
                let close = rest.find('}').filter(|_| rest.starts_with('{'));
                let code = close.and_then(|end| u32::from_str_radix(&rest[1..end], 16).ok()).and_then(char::from_u32);
                match (code, close) {
                    (Some(ch), Some(end)) => {
                        out.push(ch);
                        for _ in 0..=end {
                            chars.next();
                        }
                    }
                    _ => return Err("\\u".to_string()),
                }
            }
            Some(other) => return Err(format!("\\{other}")),
            None => return Err("\\".to_string()),
        }
    }
    Ok(out)
}
