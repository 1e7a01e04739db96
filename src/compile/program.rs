//! The compiled form of a policy set: names resolved, literals parsed, regexes
//! compiled. It is immutable and shared by every evaluation.

use chrono::{DateTime, FixedOffset, NaiveDate, TimeDelta};
use regex::Regex;
use rust_decimal::Decimal;

use crate::diagnostic::{SourceFile, Span};
use crate::syntax::ast::{BinaryOp, CompareOp, FindKind, OrderOp, QuantifierKind, RuleMode, RuleSeverity, TextOp};

pub type TableId = usize;
pub type LetId = usize;
pub type FileId = usize;

/// A literal value, parsed once at compile time.
#[derive(Clone, Debug, PartialEq)]
pub enum Constant {
    Null,
    Bool(bool),
    Number(Decimal),
    /// `2%` is kept apart from `0.02` because `within 2%` is a relative tolerance.
    Percent(Decimal),
    Text(String),
    Timestamp(DateTime<FixedOffset>),
    Date(NaiveDate),
    Duration(TimeDelta),
}

/// Built-in functions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Function {
    Len,
    Lower,
    Upper,
    Trim,
    Abs,
    Min,
    Max,
    Sum,
    Round,
    Date,
    Timestamp,
    Days,
    Hours,
    Minutes,
    Seconds,
    AddDays,
    AddMonths,
    ParseJson,
    Keys,
    Values,
    Number,
    Text,
    Distinct,
    Concat,
}

/// Name, accepted argument counts, and one-line description of each function.
pub const FUNCTIONS: &[(&str, Function, usize, usize, &str)] = &[
    ("len", Function::Len, 1, 1, "number of characters of a text, or of elements of a list or object"),
    ("lower", Function::Lower, 1, 1, "text in lower case"),
    ("upper", Function::Upper, 1, 1, "text in upper case"),
    ("trim", Function::Trim, 1, 1, "text without leading and trailing white space"),
    ("abs", Function::Abs, 1, 1, "absolute value of a number or duration"),
    ("min", Function::Min, 1, usize::MAX, "smallest of a list, or of the arguments"),
    ("max", Function::Max, 1, usize::MAX, "largest of a list, or of the arguments"),
    ("sum", Function::Sum, 1, 1, "sum of a list of numbers or durations"),
    ("round", Function::Round, 1, 2, "number rounded half away from zero to the given places (default 0)"),
    ("date", Function::Date, 1, 1, "the calendar date (UTC) of a timestamp, or text parsed as a date"),
    (
        "timestamp",
        Function::Timestamp,
        1,
        2,
        "text parsed as an RFC 3339 timestamp; with a second argument (`\"-05:00\"` or `\"America/New_York\"`), a time written without an offset is read in that zone",
    ),
    ("days", Function::Days, 1, 1, "a duration in days, as a decimal number"),
    ("hours", Function::Hours, 1, 1, "a duration in hours, as a decimal number"),
    ("minutes", Function::Minutes, 1, 1, "a duration in minutes, as a decimal number"),
    ("seconds", Function::Seconds, 1, 1, "a duration in seconds, as a decimal number"),
    ("add_days", Function::AddDays, 2, 2, "a date or timestamp moved by whole calendar days"),
    (
        "add_months",
        Function::AddMonths,
        2,
        2,
        "a date or timestamp moved by calendar months (clamped to the month's last day)",
    ),
    ("parse_json", Function::ParseJson, 1, 1, "a value from text that holds JSON"),
    ("keys", Function::Keys, 1, 1, "the field names of an object, in order"),
    ("values", Function::Values, 1, 1, "the field values of an object, in order"),
    ("number", Function::Number, 1, 1, "text parsed as an exact decimal number"),
    ("text", Function::Text, 1, 1, "a value written as text"),
    ("distinct", Function::Distinct, 1, 1, "a list without repeated elements, first occurrence kept"),
    ("concat", Function::Concat, 1, usize::MAX, "texts and numbers joined into one text"),
];

#[derive(Debug)]
pub struct Node {
    pub kind: NodeKind,
    pub span: Span,
}

#[derive(Debug)]
pub struct CompiledBinding {
    pub variable: String,
    /// Position of the variable in the evaluation's stack of locals.
    pub slot: usize,
    pub collection: Box<Node>,
    pub filter: Option<Box<Node>>,
}

#[derive(Debug)]
pub enum NodeKind {
    Constant(Constant),
    List(Vec<Node>),
    /// A quantifier or comprehension variable.
    Local(usize),
    Let(LetId),
    /// `record`: the whole run.
    Record,
    /// A top-level field of the run (`outcome`, `steps`).
    RootField(String),
    Field(Box<Node>, String),
    Index(Box<Node>, Box<Node>),
    /// A reference table named on its own, as in `x in deprioritized_vendors`.
    Table(TableId),
    /// `table[key]`
    Lookup(TableId, Box<Node>),
    Call(Function, Vec<Node>),
    Not(Box<Node>),
    Negate(Box<Node>),
    Binary(BinaryOp, Box<Node>, Box<Node>),
    Compare {
        op: CompareOp,
        left: Box<Node>,
        right: Box<Node>,
        tolerance: Option<Box<Node>>,
    },
    Within {
        value: Box<Node>,
        tolerance: Box<Node>,
        target: Box<Node>,
    },
    Between {
        value: Box<Node>,
        low: Box<Node>,
        high: Box<Node>,
        negated: bool,
    },
    In {
        value: Box<Node>,
        collection: Box<Node>,
        negated: bool,
    },
    /// The regex is anchored at both ends when compiled: `matches` tests the whole text.
    Matches {
        value: Box<Node>,
        regex: Regex,
        negated: bool,
    },
    ContainsRegex {
        value: Box<Node>,
        regex: Regex,
        negated: bool,
    },
    Text {
        op: TextOp,
        value: Box<Node>,
        pattern: Box<Node>,
        negated: bool,
    },
    Exists {
        value: Box<Node>,
        negated: bool,
    },
    IsMissing {
        value: Box<Node>,
        negated: bool,
    },
    IsNull {
        value: Box<Node>,
        negated: bool,
    },
    Otherwise(Box<Node>, Box<Node>),
    If {
        condition: Box<Node>,
        then: Box<Node>,
        otherwise: Box<Node>,
    },
    Quantifier {
        kind: QuantifierKind,
        binding: CompiledBinding,
        body: Box<Node>,
    },
    Count(CompiledBinding),
    Find {
        kind: FindKind,
        binding: CompiledBinding,
    },
    Comprehension {
        element: Box<Node>,
        binding: CompiledBinding,
    },
    Order {
        op: OrderOp,
        left: Box<Node>,
        right: Box<Node>,
    },
}

/// A top-level or rule-level `let`.
#[derive(Debug)]
pub struct CompiledLet {
    pub name: String,
    pub value: Node,
    pub file: FileId,
}

/// One policy file of the set.
#[derive(Debug)]
pub struct CompiledFile {
    pub source: SourceFile,
    pub policy_name: Option<String>,
    pub event_time: Option<Node>,
}

#[derive(Debug)]
pub struct CompiledRule {
    pub name: String,
    pub title: Option<String>,
    pub severity: RuleSeverity,
    pub mode: RuleMode,
    pub segment: Option<String>,
    pub owner: Option<String>,
    pub when: Option<Node>,
    pub expects: Vec<Node>,
    pub file: FileId,
    pub span: Span,
    pub head_span: Span,
    /// Whether the rule reads an effective-dated table or has waivers, and so needs the event time.
    pub needs_event_time: bool,
    /// `mode shadow until DATE`: when the trial mode should be decided.
    pub mode_until: Option<NaiveDate>,
    pub waivers: Vec<CompiledWaiver>,
}

/// `waive when CONDITION until DATE reason "TEXT"`: runs matching the condition whose
/// event time is before `until` are skipped by the rule with this reason.
#[derive(Debug)]
pub struct CompiledWaiver {
    pub condition: Node,
    /// 00:00 UTC of the expiry date.
    pub until: DateTime<chrono::Utc>,
    pub reason: Option<String>,
    pub span: Span,
}

/// The window an SLO is judged over.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SloWindow {
    /// The last `duration` before the report time: `(at - duration, at]`.
    Rolling(TimeDelta),
    /// The calendar day, week (Monday first), month or quarter containing the report
    /// time, in the SLO's time zone.
    Calendar(crate::syntax::ast::CalendarUnit),
}

impl SloWindow {
    /// Nominal length, used to scale default alert factors: calendar days are 1d,
    /// weeks 7d, months 30d and quarters 90d.
    pub fn nominal_length(&self) -> TimeDelta {
        use crate::syntax::ast::CalendarUnit;
        match self {
            SloWindow::Rolling(duration) => *duration,
            SloWindow::Calendar(CalendarUnit::Day) => TimeDelta::days(1),
            SloWindow::Calendar(CalendarUnit::Week) => TimeDelta::days(7),
            SloWindow::Calendar(CalendarUnit::Month) => TimeDelta::days(30),
            SloWindow::Calendar(CalendarUnit::Quarter) => TimeDelta::days(90),
        }
    }
}

/// Which runs an SLO counts as good, with rule names resolved to indices into
/// [`crate::compile::PolicySet::rules`].
#[derive(Clone, Debug, PartialEq)]
pub enum GoodRule {
    /// Every rule that is not in `shadow` mode passes or skips.
    AllRulesPass,
    /// These rules pass or skip.
    RulesPass(Vec<usize>),
    /// No rule (of this severity, if given) outside `shadow` mode fails or errors.
    NoRuleFails(Option<RuleSeverity>),
}

/// A multi-window burn-rate alert: fires when the burn rate exceeds `factor` over
/// both the long and the short window.
#[derive(Clone, Debug, PartialEq)]
pub struct CompiledAlert {
    pub name: String,
    pub factor: Decimal,
    pub long_window: TimeDelta,
    pub short_window: TimeDelta,
}

#[derive(Debug)]
pub struct CompiledSlo {
    pub name: String,
    pub title: Option<String>,
    /// Target share of good runs, as a fraction (`0.995`).
    pub objective: Decimal,
    pub window: SloWindow,
    pub time_zone: chrono_tz::Tz,
    /// Which runs count; `None` counts every run.
    pub valid: Option<Node>,
    pub good: GoodRule,
    /// Fewer valid runs than this in the window reports "insufficient data".
    pub minimum_runs: u64,
    pub alerts: Vec<CompiledAlert>,
    /// Whether the alerts were declared, or are the defaults scaled to the window.
    pub alerts_declared: bool,
    /// Breakdown dimensions: the expression as written, and its compiled form.
    pub by: Vec<(String, Node)>,
    pub file: FileId,
    pub span: Span,
}

/// What runs cost, for cost per correct outcome against doing the work by hand.
#[derive(Clone, Debug, PartialEq)]
pub struct CompiledCosts {
    pub agent_run: Option<Decimal>,
    pub checkpoint_review: Option<Decimal>,
    pub manual_run: Option<Decimal>,
    pub currency: Option<String>,
}

/// What a test expectation is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TestTarget {
    Rule(usize),
    Slo(usize),
}

#[derive(Clone, Debug)]
pub struct CompiledTestExpect {
    pub target: TestTarget,
    pub expected: crate::syntax::ast::ExpectedVerdict,
    pub span: Span,
}

/// A `test` block with its record loaded.
#[derive(Clone, Debug)]
pub struct CompiledTest {
    pub name: String,
    pub file: FileId,
    pub record: serde_json::Value,
    pub expects: Vec<CompiledTestExpect>,
    pub span: Span,
    pub head_span: Span,
}
