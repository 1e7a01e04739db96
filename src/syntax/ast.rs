//! The abstract syntax tree of a policy file.
//!
//! Each variant's doc line shows the surface syntax it stands for. Spans are byte
//! ranges into the file's [`SourceFile`](crate::diagnostic::SourceFile) text.

use crate::diagnostic::Span;

/// One parsed `.slo` file.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PolicyFile {
    /// `policy procurement`
    pub name: Option<Ident>,
    /// `schema "schemas/run.schema.json"`: the path as written and its span.
    pub schema: Option<(String, Span)>,
    pub uses: Vec<Use>,
    /// `event time outcome.created_at`
    pub event_time: Option<Expr>,
    /// Top-level `let NAME = EXPR`, visible in every rule of the file.
    pub lets: Vec<Let>,
    /// `segments sourcing, pricing, approval`: segment order for attributing bad runs.
    pub segments: Vec<Ident>,
    pub rules: Vec<Rule>,
    pub slos: Vec<Slo>,
    pub costs: Option<Costs>,
    pub tests: Vec<TestCase>,
    /// Names of the rules and SLOs whose text did not parse. Their syntax errors are
    /// reported, so a test that names them is not reported again.
    pub unparsed: Vec<String>,
}

/// `test "NAME" { given record ... expect RULE fails ... }`
#[derive(Clone, Debug, PartialEq)]
pub struct TestCase {
    pub name: String,
    pub given: Option<GivenRecord>,
    pub expects: Vec<TestExpect>,
    pub span: Span,
    /// The span of `test "NAME"`.
    pub head_span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum GivenRecord {
    /// `given record "tests/order.json"`: a JSON or YAML file relative to the policy file.
    File { path: String, span: Span },
    /// `given record { "outcome": { ... } }`: the JSON text as written.
    Inline { json: String, span: Span },
}

/// `expect vendor_not_deprioritized fails`
#[derive(Clone, Debug, PartialEq)]
pub struct TestExpect {
    /// A rule or an SLO.
    pub target: Ident,
    pub expected: ExpectedVerdict,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ExpectedVerdict {
    /// `passes` (rules)
    Passes,
    /// `fails` (rules)
    Fails,
    /// `skips` (rules)
    Skips,
    /// `errors` (rules)
    Errors,
    /// `good` (SLOs)
    Good,
    /// `bad` (SLOs)
    Bad,
    /// `not valid` (SLOs)
    NotValid,
}

impl ExpectedVerdict {
    pub fn words(self) -> &'static str {
        match self {
            ExpectedVerdict::Passes => "passes",
            ExpectedVerdict::Fails => "fails",
            ExpectedVerdict::Skips => "skips",
            ExpectedVerdict::Errors => "errors",
            ExpectedVerdict::Good => "good",
            ExpectedVerdict::Bad => "bad",
            ExpectedVerdict::NotValid => "not valid",
        }
    }

    /// Whether this verdict is about an SLO rather than a rule.
    pub fn is_slo_verdict(self) -> bool {
        matches!(self, ExpectedVerdict::Good | ExpectedVerdict::Bad | ExpectedVerdict::NotValid)
    }
}

/// `objective 99.5% over 28d` or `... over calendar month`
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WindowSpec {
    /// `28d`: the duration literal as written.
    Rolling(String),
    /// `calendar month`
    Calendar(CalendarUnit),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CalendarUnit {
    Day,
    Week,
    Month,
    Quarter,
}

impl CalendarUnit {
    pub fn as_str(self) -> &'static str {
        match self {
            CalendarUnit::Day => "day",
            CalendarUnit::Week => "week",
            CalendarUnit::Month => "month",
            CalendarUnit::Quarter => "quarter",
        }
    }
}

/// Which runs an SLO counts as good.
#[derive(Clone, Debug, PartialEq)]
pub enum GoodCondition {
    /// `good when all rules pass`
    AllRulesPass,
    /// `good when rules a, b pass`
    RulesPass(Vec<Ident>),
    /// `good when no critical rule fails`; `None` for `no rule fails`
    NoRuleFails(Option<RuleSeverity>),
}

/// `alert page when burn rate > 14.4 over 1h and 5m`
#[derive(Clone, Debug, PartialEq)]
pub struct AlertSpec {
    pub name: Ident,
    /// The burn-rate factor as written.
    pub factor: String,
    pub long_window: String,
    pub short_window: String,
    pub span: Span,
}

/// `slo NAME { title ... objective ... valid ... good ... alert ... by ... }`
#[derive(Clone, Debug, PartialEq)]
pub struct Slo {
    pub name: Ident,
    pub title: Option<String>,
    /// The percentage before `%`, e.g. `99.5`.
    pub objective: Option<(String, Span)>,
    pub window: Option<(WindowSpec, Span)>,
    pub time_zone: Option<(String, Span)>,
    pub valid: Option<Expr>,
    pub good: Option<(GoodCondition, Span)>,
    pub minimum_runs: Option<(String, Span)>,
    pub alerts: Vec<AlertSpec>,
    pub by: Vec<Expr>,
    pub span: Span,
    pub head_span: Span,
}

/// `costs { agent run 0.40  checkpoint review 12  manual run 35  currency "USD" }`
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Costs {
    /// Cost of one agent run, as written.
    pub agent_run: Option<String>,
    /// Cost of one human checkpoint review.
    pub checkpoint_review: Option<String>,
    /// Cost of doing the whole workflow by hand once.
    pub manual_run: Option<String>,
    pub currency: Option<String>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

/// `use "data/vendors.csv" as vendors key vendor_id effective since..until`
#[derive(Clone, Debug, PartialEq)]
pub struct Use {
    pub path: String,
    pub path_span: Span,
    pub alias: Ident,
    /// Column (or field) whose value identifies a row; `None` for a set of plain values.
    pub key: Option<Ident>,
    /// Columns holding each row's validity interval: `from` inclusive, `until` exclusive.
    pub effective: Option<(Ident, Ident)>,
    pub span: Span,
}

/// `let band = price_bands[outcome.category]`
#[derive(Clone, Debug, PartialEq)]
pub struct Let {
    pub name: Ident,
    pub value: Expr,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RuleSeverity {
    Critical,
    #[default]
    Major,
    Minor,
}

impl RuleSeverity {
    pub fn as_str(self) -> &'static str {
        match self {
            RuleSeverity::Critical => "critical",
            RuleSeverity::Major => "major",
            RuleSeverity::Minor => "minor",
        }
    }
}

/// How a rule's violations count: `enforce` fails the check, `warn` reports without
/// failing it, `shadow` only counts (for trying a new rule on live traffic).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RuleMode {
    #[default]
    Enforce,
    Warn,
    Shadow,
}

impl RuleMode {
    pub fn as_str(self) -> &'static str {
        match self {
            RuleMode::Enforce => "enforce",
            RuleMode::Warn => "warn",
            RuleMode::Shadow => "shadow",
        }
    }
}

/// `rule NAME { title ... severity ... when ... expect ... }`
#[derive(Clone, Debug, PartialEq)]
pub struct Rule {
    pub name: Ident,
    pub title: Option<String>,
    pub severity: RuleSeverity,
    pub mode: RuleMode,
    /// `mode shadow until 2026-01-31`: the date as written.
    pub mode_until: Option<(String, Span)>,
    pub segment: Option<Ident>,
    pub owner: Option<String>,
    /// Applicability: the rule is skipped on runs where this is false or reads a missing field.
    pub when: Option<Expr>,
    pub lets: Vec<Let>,
    /// Every `expect` must hold for the rule to pass.
    pub expects: Vec<Expr>,
    pub waivers: Vec<Waiver>,
    pub span: Span,
    /// The span of `rule NAME`, where diagnostics about the whole rule point.
    pub head_span: Span,
}

/// `waive when CONDITION until DATE reason "TEXT"`
#[derive(Clone, Debug, PartialEq)]
pub struct Waiver {
    pub condition: Expr,
    /// The expiry date as written: runs whose event time is on or after it are judged again.
    pub until: (String, Span),
    pub reason: Option<String>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Literal {
    /// `"text"`
    String(String),
    /// `14.20`, `42`: kept as written; converted to an exact decimal when compiled.
    Number(String),
    /// `99.5%`: the number before the sign.
    Percent(String),
    /// `true`, `false`
    Bool(bool),
    /// `null`
    Null,
    /// `2025-06-01`
    Date(String),
    /// `2025-06-01T00:00:00Z`
    Timestamp(String),
    /// `28d`, `1h30m`, `250ms`
    Duration(String),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinaryOp {
    /// `a + b`
    Add,
    /// `a - b`
    Subtract,
    /// `a * b`
    Multiply,
    /// `a / b`
    Divide,
    /// `a and b`
    And,
    /// `a or b`
    Or,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CompareOp {
    Equal,
    NotEqual,
    Less,
    LessOrEqual,
    Greater,
    GreaterOrEqual,
}

impl CompareOp {
    pub fn symbol(self) -> &'static str {
        match self {
            CompareOp::Equal => "==",
            CompareOp::NotEqual => "!=",
            CompareOp::Less => "<",
            CompareOp::LessOrEqual => "<=",
            CompareOp::Greater => ">",
            CompareOp::GreaterOrEqual => ">=",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TextOp {
    StartsWith,
    EndsWith,
    Contains,
}

impl TextOp {
    pub fn words(self) -> &'static str {
        match self {
            TextOp::StartsWith => "starts with",
            TextOp::EndsWith => "ends with",
            TextOp::Contains => "contains",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QuantifierKind {
    Any,
    All,
    None,
}

impl QuantifierKind {
    pub fn keyword(self) -> &'static str {
        match self {
            QuantifierKind::Any => "any",
            QuantifierKind::All => "all",
            QuantifierKind::None => "none",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FindKind {
    First,
    Last,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OrderOp {
    Before,
    After,
}

/// `/[A-Z]{3}-[0-9]{5}/i`
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegexLiteral {
    pub pattern: String,
    pub case_insensitive: bool,
    pub span: Span,
}

/// `NAME in COLLECTION [where FILTER]`, the head shared by quantifiers, `count`,
/// `first`/`last` and list comprehensions.
#[derive(Clone, Debug, PartialEq)]
pub struct Binding {
    pub variable: Ident,
    pub collection: Box<Expr>,
    pub filter: Option<Box<Expr>>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    /// A literal value.
    Literal(Literal),
    /// `[a, b, c]`
    List(Vec<Expr>),
    /// `outcome`: a local, a `let`, a reference table, or a top-level record field.
    Name(Ident),
    /// `a.b`
    Field(Box<Expr>, Ident),
    /// `a[0]`, `a[-1]`, `table[key]`, `object["key"]`
    Index(Box<Expr>, Box<Expr>),
    /// `lower(x)`
    Call(Ident, Vec<Expr>),
    /// `not a`
    Not(Box<Expr>),
    /// `-a`
    Negate(Box<Expr>),
    /// `a + b`, `a and b`, ...
    Binary(BinaryOp, Box<Expr>, Box<Expr>),
    /// `a == b`, `a <= b within 0.01`, `a == b within 2%`
    Compare { op: CompareOp, left: Box<Expr>, right: Box<Expr>, tolerance: Option<Box<Expr>> },
    /// `a within 2% of b`, `a within 0.5 of b`
    Within { value: Box<Expr>, tolerance: Box<Expr>, target: Box<Expr> },
    /// `a between low and high` (inclusive), `a not between low and high`
    Between { value: Box<Expr>, low: Box<Expr>, high: Box<Expr>, negated: bool },
    /// `a in collection`, `a not in collection`
    In { value: Box<Expr>, collection: Box<Expr>, negated: bool },
    /// `a matches /re/` (whole string), `a not matches /re/`
    Matches { value: Box<Expr>, regex: RegexLiteral, negated: bool },
    /// `a starts with b`, `a ends with b`, `a contains b` (text, or an element of a list)
    Text { op: TextOp, value: Box<Expr>, pattern: Box<Expr>, negated: bool },
    /// `a contains /re/`: the regex matches somewhere in the text
    ContainsRegex { value: Box<Expr>, regex: RegexLiteral, negated: bool },
    /// `a exists`, `a not exists`
    Exists { value: Box<Expr>, negated: bool },
    /// `a is missing`, `a is not missing`
    IsMissing { value: Box<Expr>, negated: bool },
    /// `a is null`, `a is not null`
    IsNull { value: Box<Expr>, negated: bool },
    /// `a otherwise b`: `b` when `a` reads a missing field
    Otherwise(Box<Expr>, Box<Expr>),
    /// `if c then a else b`
    If { condition: Box<Expr>, then: Box<Expr>, otherwise: Box<Expr> },
    /// `any x in xs where f satisfies p`, `all ...`, `none ...`
    Quantifier { kind: QuantifierKind, binding: Binding, body: Box<Expr> },
    /// `count x in xs where f`
    Count(Binding),
    /// `first x in xs where f`, `last ...`
    Find { kind: FindKind, binding: Binding },
    /// `[expr for x in xs where f]`
    Comprehension { element: Box<Expr>, binding: Binding },
    /// `a before b`, `a after b` (positions of two elements of one list)
    Order { op: OrderOp, left: Box<Expr>, right: Box<Expr> },
}

impl Expr {
    pub fn new(kind: ExprKind, span: Span) -> Self {
        Expr { kind, span }
    }

    /// The field path this expression reads, as written (`outcome.vendor.id`), if it is one.
    pub fn path_text(&self) -> Option<String> {
        match &self.kind {
            ExprKind::Name(ident) => Some(ident.name.clone()),
            ExprKind::Field(base, field) => Some(format!("{}.{}", base.path_text()?, field.name)),
            ExprKind::Index(base, index) => {
                let base = base.path_text()?;
                match &index.kind {
                    ExprKind::Literal(Literal::Number(n)) => Some(format!("{base}[{n}]")),
                    ExprKind::Negate(inner) => match &inner.kind {
                        ExprKind::Literal(Literal::Number(n)) => Some(format!("{base}[-{n}]")),
                        _ => None,
                    },
                    ExprKind::Literal(Literal::String(s)) => Some(format!("{base}[\"{s}\"]")),
                    _ => None,
                }
            }
            _ => None,
        }
    }
}
