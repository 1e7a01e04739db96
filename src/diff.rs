//! Replaying runs under two versions of a policy set: which runs change verdict, per
//! rule and per SLO, and how each SLO's SLI and error budget move.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::Value as Json;

use crate::compile::PolicySet;
use crate::eval;
use crate::eval::slo::{SloStatus, classify};

/// Run ids kept per transition; the rest are counted.
pub const MAX_LISTED_RUNS: usize = 20;

/// Verdict changes of one rule or SLO, by transition (`pass -> fail`).
#[derive(Debug, Default, Serialize)]
pub struct TargetDiff {
    pub name: String,
    /// `both`, `old` (removed in the new version) or `new` (added).
    pub present_in: &'static str,
    pub transitions: BTreeMap<String, Transition>,
    /// Verdict counts under each version.
    pub old_counts: BTreeMap<&'static str, usize>,
    pub new_counts: BTreeMap<&'static str, usize>,
}

#[derive(Debug, Default, Serialize)]
pub struct Transition {
    pub runs: usize,
    pub run_ids: Vec<String>,
}

/// An SLO's SLI and budget over all replayed runs, under one version.
#[derive(Debug, Default, Clone, Serialize)]
pub struct SloTotals {
    pub valid: usize,
    pub good: usize,
    /// `good / valid`; `None` when no run is valid.
    pub sli: Option<Decimal>,
    /// `bad / ((1 - objective) * valid)`; `None` when undefined (no valid runs, or a 100 % objective).
    pub budget_consumed: Option<Decimal>,
}

#[derive(Debug, Default, Serialize)]
pub struct SloDiff {
    #[serde(flatten)]
    pub verdicts: TargetDiff,
    pub old: Option<SloTotals>,
    pub new: Option<SloTotals>,
}

#[derive(Debug, Default, Serialize)]
pub struct PolicyDiff {
    pub schema: &'static str,
    pub old_hash: String,
    pub new_hash: String,
    pub runs: usize,
    /// Runs where at least one rule or SLO verdict differs.
    pub changed_runs: usize,
    pub rules: Vec<TargetDiff>,
    pub slos: Vec<SloDiff>,
}

impl PolicyDiff {
    pub fn has_changes(&self) -> bool {
        self.changed_runs > 0
            || self.rules.iter().any(|r| r.present_in != "both")
            || self.slos.iter().any(|s| s.verdicts.present_in != "both")
    }
}

/// Accumulates the comparison one run at a time.
pub struct Differ<'s> {
    old: &'s PolicySet,
    new: &'s PolicySet,
    diff: PolicyDiff,
    old_slo_totals: Vec<SloTotals>,
    new_slo_totals: Vec<SloTotals>,
}

impl<'s> Differ<'s> {
    pub fn new(old: &'s PolicySet, new: &'s PolicySet) -> Self {
        let mut rule_names: Vec<String> = old.rules.iter().map(|r| r.name.clone()).collect();
        rule_names.extend(new.rules.iter().map(|r| r.name.clone()).filter(|n| old.rule(n).is_none()));
        let mut slo_names: Vec<String> = old.slos.iter().map(|s| s.name.clone()).collect();
        slo_names.extend(new.slos.iter().map(|s| s.name.clone()).filter(|n| !old.slos.iter().any(|s| &s.name == n)));
        let presence = |in_old: bool, in_new: bool| match (in_old, in_new) {
            (true, true) => "both",
            (true, false) => "old",
            _ => "new",
        };
        let rules = rule_names
            .into_iter()
            .map(|name| TargetDiff {
                present_in: presence(old.rule(&name).is_some(), new.rule(&name).is_some()),
                name,
                ..TargetDiff::default()
            })
            .collect();
        let slos = slo_names
            .into_iter()
            .map(|name| SloDiff {
                verdicts: TargetDiff {
                    present_in: presence(
                        old.slos.iter().any(|s| s.name == name),
                        new.slos.iter().any(|s| s.name == name),
                    ),
                    name,
                    ..TargetDiff::default()
                },
                ..SloDiff::default()
            })
            .collect();
        Differ {
            old,
            new,
            diff: PolicyDiff {
                schema: "semslo.diff.v1",
                old_hash: old.hash.clone(),
                new_hash: new.hash.clone(),
                rules,
                slos,
                ..PolicyDiff::default()
            },
            old_slo_totals: vec![SloTotals::default(); old.slos.len()],
            new_slo_totals: vec![SloTotals::default(); new.slos.len()],
        }
    }

    /// Evaluates one run under both versions and records what differs.
    pub fn add_run(&mut self, run_id: &str, record: &Json) {
        self.diff.runs += 1;
        let old_verdicts = eval::evaluate(self.old, record);
        let new_verdicts = eval::evaluate(self.new, record);
        let old_slos = classify(self.old, record, &old_verdicts);
        let new_slos = classify(self.new, record, &new_verdicts);
        let mut changed = false;

        for target in &mut self.diff.rules {
            let old =
                self.old.rules.iter().position(|r| r.name == target.name).map(|i| old_verdicts[i].verdict.as_str());
            let new =
                self.new.rules.iter().position(|r| r.name == target.name).map(|i| new_verdicts[i].verdict.as_str());
            changed |= record_transition(target, run_id, old, new);
        }
        for target in &mut self.diff.slos {
            let old = self.old.slos.iter().position(|s| s.name == target.verdicts.name).map(|i| {
                tally(&mut self.old_slo_totals[i], &old_slos[i].status);
                status_word(&old_slos[i].status)
            });
            let new = self.new.slos.iter().position(|s| s.name == target.verdicts.name).map(|i| {
                tally(&mut self.new_slo_totals[i], &new_slos[i].status);
                status_word(&new_slos[i].status)
            });
            changed |= record_transition(&mut target.verdicts, run_id, old, new);
        }
        if changed {
            self.diff.changed_runs += 1;
        }
    }

    pub fn finish(mut self) -> PolicyDiff {
        for target in &mut self.diff.slos {
            if let Some(i) = self.old.slos.iter().position(|s| s.name == target.verdicts.name) {
                target.old = Some(finish_totals(self.old_slo_totals[i].clone(), self.old.slos[i].objective));
            }
            if let Some(i) = self.new.slos.iter().position(|s| s.name == target.verdicts.name) {
                target.new = Some(finish_totals(self.new_slo_totals[i].clone(), self.new.slos[i].objective));
            }
        }
        self.diff
    }
}

/// Counts both verdicts and, when they differ, the transition; returns whether they differ.
fn record_transition(
    target: &mut TargetDiff,
    run_id: &str,
    old: Option<&'static str>,
    new: Option<&'static str>,
) -> bool {
    if let Some(old) = old {
        *target.old_counts.entry(old).or_default() += 1;
    }
    if let Some(new) = new {
        *target.new_counts.entry(new).or_default() += 1;
    }
    let (Some(old), Some(new)) = (old, new) else { return false };
    if old == new {
        return false;
    }
    let transition = target.transitions.entry(format!("{old} -> {new}")).or_default();
    transition.runs += 1;
    if transition.run_ids.len() < MAX_LISTED_RUNS {
        transition.run_ids.push(run_id.to_string());
    }
    true
}

fn status_word(status: &SloStatus) -> &'static str {
    match status {
        SloStatus::Good => "good",
        SloStatus::Bad { .. } => "bad",
        SloStatus::NotValid { .. } => "not valid",
    }
}

fn tally(totals: &mut SloTotals, status: &SloStatus) {
    match status {
        SloStatus::Good => {
            totals.valid += 1;
            totals.good += 1;
        }
        SloStatus::Bad { .. } => totals.valid += 1,
        SloStatus::NotValid { .. } => {}
    }
}

fn finish_totals(mut totals: SloTotals, objective: Decimal) -> SloTotals {
    if totals.valid > 0 {
        let valid = Decimal::from(totals.valid);
        let bad = Decimal::from(totals.valid - totals.good);
        totals.sli = Some(Decimal::from(totals.good) / valid);
        let allowed = (Decimal::ONE - objective) * valid;
        totals.budget_consumed = (!allowed.is_zero()).then(|| bad / allowed);
    }
    totals
}
