//! Running a policy set's own `test` blocks: each test evaluates every rule and SLO
//! on its record and compares the verdicts it names with what it expects.

use serde::Serialize;

use crate::compile::{PolicySet, TestTarget};
use crate::eval::slo::{SloStatus, classify};
use crate::eval::{self, RuleVerdict, SkipReason, Verdict};
use crate::syntax::ast::ExpectedVerdict;

/// One expectation that did not hold.
#[derive(Debug, Serialize)]
pub struct TestFailure {
    /// The rule or SLO.
    pub target: String,
    pub expected: &'static str,
    pub actual: String,
    pub line: usize,
    /// For a rule, its verdict with explanation; `None` for SLOs.
    #[serde(skip)]
    pub verdict: Option<RuleVerdict>,
}

#[derive(Debug, Serialize)]
pub struct TestResult {
    pub name: String,
    pub file: String,
    pub line: usize,
    pub failures: Vec<TestFailure>,
}

impl TestResult {
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }
}

/// How well the tests cover one rule.
#[derive(Debug, Serialize)]
pub struct RuleCoverage {
    pub rule: String,
    /// Number of test expectations that name the rule.
    pub asserted: usize,
    /// Whether the rule has a `when`, and which of its outcomes some test record reached.
    pub has_when: bool,
    pub when_true: bool,
    pub when_false: bool,
}

#[derive(Debug, Serialize)]
pub struct TestReport {
    pub policy_hash: String,
    pub results: Vec<TestResult>,
    pub coverage: Vec<RuleCoverage>,
}

impl TestReport {
    pub fn passed(&self) -> usize {
        self.results.iter().filter(|r| r.passed()).count()
    }

    pub fn failed(&self) -> usize {
        self.results.len() - self.passed()
    }
}

/// Runs every `test` block of `set`.
pub fn run(set: &PolicySet) -> TestReport {
    let mut coverage: Vec<RuleCoverage> = set
        .rules
        .iter()
        .map(|rule| RuleCoverage {
            rule: rule.name.clone(),
            asserted: 0,
            has_when: rule.when.is_some(),
            when_true: false,
            when_false: false,
        })
        .collect();
    let mut results = Vec::new();
    for test in &set.tests {
        let verdicts = eval::evaluate(set, &test.record);
        for verdict in &verdicts {
            let entry = &mut coverage[verdict.rule];
            match verdict.verdict {
                Verdict::Skip(SkipReason::ConditionFalse) | Verdict::Skip(SkipReason::FieldMissing { .. }) => {
                    entry.when_false = true;
                }
                Verdict::Skip(SkipReason::Waived { .. }) => {}
                _ => entry.when_true = true,
            }
        }
        let slo_outcomes = if test.expects.iter().any(|e| matches!(e.target, TestTarget::Slo(_))) {
            classify(set, &test.record, &verdicts)
        } else {
            Vec::new()
        };
        let source = &set.files[test.file].source;
        let mut failures = Vec::new();
        for expect in &test.expects {
            let (line, _) = source.line_column(expect.span.start);
            match expect.target {
                TestTarget::Rule(index) => {
                    coverage[index].asserted += 1;
                    let verdict = &verdicts[index];
                    if !rule_matches(expect.expected, &verdict.verdict) {
                        failures.push(TestFailure {
                            target: set.rules[index].name.clone(),
                            expected: expect.expected.words(),
                            actual: describe_rule_verdict(&verdict.verdict),
                            line,
                            verdict: Some(eval::evaluate_one(set, &test.record, index)),
                        });
                    }
                }
                TestTarget::Slo(index) => {
                    let status = &slo_outcomes[index].status;
                    if !slo_matches(expect.expected, status) {
                        failures.push(TestFailure {
                            target: set.slos[index].name.clone(),
                            expected: expect.expected.words(),
                            actual: describe_slo_status(status),
                            line,
                            verdict: None,
                        });
                    }
                }
            }
        }
        let (line, _) = source.line_column(test.span.start);
        results.push(TestResult { name: test.name.clone(), file: source.name().to_string(), line, failures });
    }
    TestReport { policy_hash: set.hash.clone(), results, coverage }
}

fn rule_matches(expected: ExpectedVerdict, actual: &Verdict) -> bool {
    matches!(
        (expected, actual),
        (ExpectedVerdict::Passes, Verdict::Pass)
            | (ExpectedVerdict::Fails, Verdict::Fail)
            | (ExpectedVerdict::Skips, Verdict::Skip(_))
            | (ExpectedVerdict::Errors, Verdict::Error)
    )
}

fn slo_matches(expected: ExpectedVerdict, actual: &SloStatus) -> bool {
    matches!(
        (expected, actual),
        (ExpectedVerdict::Good, SloStatus::Good)
            | (ExpectedVerdict::Bad, SloStatus::Bad { .. })
            | (ExpectedVerdict::NotValid, SloStatus::NotValid { .. })
    )
}

fn describe_rule_verdict(verdict: &Verdict) -> String {
    match verdict {
        Verdict::Pass => "passes".to_string(),
        Verdict::Fail => "fails".to_string(),
        Verdict::Error => "errors".to_string(),
        Verdict::Skip(SkipReason::ConditionFalse) => "skips (its `when` is false)".to_string(),
        Verdict::Skip(SkipReason::FieldMissing { what }) => format!("skips ({what} is missing in its `when`)"),
        Verdict::Skip(SkipReason::Waived { reason }) => match reason {
            Some(reason) => format!("skips (waived: {reason})"),
            None => "skips (waived)".to_string(),
        },
    }
}

fn describe_slo_status(status: &SloStatus) -> String {
    match status {
        SloStatus::Good => "good".to_string(),
        SloStatus::Bad { error: true, .. } => "bad (a rule could not be decided)".to_string(),
        SloStatus::Bad { .. } => "bad".to_string(),
        SloStatus::NotValid { field_missing: true } => "not valid (its `valid when` read a missing field)".to_string(),
        SloStatus::NotValid { .. } => "not valid".to_string(),
    }
}
