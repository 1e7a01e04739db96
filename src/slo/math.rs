//! The SLO formulas, as pure functions over counts.
//!
//! Every ratio is a sum of events divided by a sum of events, never an average of
//! per-interval ratios: a day with 3 runs weighs 3 runs, not one day. Arithmetic
//! is exact decimal, so the reference values (99.9 % over 30 days allows 43.2
//! minutes) come out exactly.
//!
//! - SLI = good / valid.
//! - Error budget = 1 − objective.
//! - Budget consumed = bad / ((1 − objective) × valid); remaining = 1 − consumed.
//! - Burn rate = (bad / valid) / (1 − objective). Over the SLO window it equals the
//!   budget consumed: burning at rate 1 for the whole window spends exactly the budget.

use chrono::TimeDelta;
use rust_decimal::Decimal;
use serde::Serialize;

use super::measure::Measure;

/// `numerator / denominator`, or [`Measure::NoData`] over zero runs.
pub fn ratio(numerator: u64, denominator: u64) -> Measure {
    if denominator == 0 {
        return Measure::NoData;
    }
    Measure::Value(Decimal::from(numerator) / Decimal::from(denominator))
}

/// Returns the share of valid runs that were good.
pub fn sli(good: u64, valid: u64) -> Measure {
    ratio(good, valid)
}

/// Returns the share of runs that may be bad: `1 − objective`.
pub fn error_budget(objective: Decimal) -> Decimal {
    Decimal::ONE - objective
}

/// `(bad / valid) / (1 − objective)`: how fast the budget burns, where 1 spends it
/// exactly over the SLO window. With an objective of 100 % any bad run makes it
/// [`Measure::Unbounded`], and no bad run makes it 0.
pub fn burn_rate(bad: u64, valid: u64, objective: Decimal) -> Measure {
    if valid == 0 {
        return Measure::NoData;
    }
    let budget = error_budget(objective);
    if budget.is_zero() {
        return if bad == 0 { Measure::Value(Decimal::ZERO) } else { Measure::Unbounded };
    }
    Measure::Value(Decimal::from(bad) / (budget * Decimal::from(valid)))
}

/// `bad / ((1 − objective) × valid)`: the share of the window's error budget spent.
/// It exceeds 1 when the SLO is missed.
pub fn budget_consumed(bad: u64, valid: u64, objective: Decimal) -> Measure {
    burn_rate(bad, valid, objective)
}

/// `1 − consumed`; negative when the budget is overspent. An unbounded consumption
/// (objective 100 % with a bad run) leaves an unbounded overspend.
pub fn budget_remaining(consumed: Measure) -> Measure {
    consumed.map(|consumed| Decimal::ONE - consumed)
}

/// Returns how many of `valid` runs may be bad: `(1 − objective) × valid`.
pub fn allowed_bad_runs(valid: u64, objective: Decimal) -> Measure {
    if valid == 0 {
        return Measure::NoData;
    }
    Measure::Value(error_budget(objective) * Decimal::from(valid))
}

/// Returns the error budget as time, `(1 − objective) × window`, in seconds. For a
/// time-based SLO this is the full outage the window allows. For runs it gives a
/// familiar scale (99.9 % over 30 days: 43.2 minutes).
pub fn budget_seconds(objective: Decimal, window: TimeDelta) -> Decimal {
    let window_seconds = Decimal::from(window.num_milliseconds()) / Decimal::ONE_THOUSAND;
    (error_budget(objective) * window_seconds).normalize()
}

/// Replaces `measure` with [`Measure::InsufficientData`] when the window contains some
/// valid runs but fewer than `minimum`. Zero runs stay [`Measure::NoData`].
pub fn guard(measure: Measure, valid: u64, minimum: u64) -> Measure {
    if valid > 0 && valid < minimum { Measure::InsufficientData } else { measure }
}

/// Returns whether a multi-window alert fires: the burn rate exceeds `factor` over
/// both its long and its short window. A window without a value (no data,
/// insufficient data) cannot fire, and an unbounded burn rate exceeds every factor.
pub fn alert_fires(long: Measure, short: Measure, factor: Decimal) -> bool {
    let exceeds = |burn: Measure| match burn {
        Measure::Value(rate) => rate > factor,
        Measure::Unbounded => true,
        _ => false,
    };
    exceeds(long) && exceeds(short)
}

/// SLO verdict against expert label over labelled runs. The positive class is bad:
/// the SLO judged the run bad, or the expert labelled it incorrect.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Confusion {
    /// SLO bad, expert incorrect (true positive).
    pub bad_incorrect: u64,
    /// SLO bad, expert correct (false positive).
    pub bad_correct: u64,
    /// SLO good, expert incorrect (false negative).
    pub good_incorrect: u64,
    /// SLO good, expert correct (true negative).
    pub good_correct: u64,
}

impl Confusion {
    pub fn total(&self) -> u64 {
        self.bad_incorrect + self.bad_correct + self.good_incorrect + self.good_correct
    }

    /// Returns the share of runs the SLO judged bad that the expert also judged
    /// incorrect, undefined when the SLO judged no labelled run bad.
    pub fn precision(&self) -> Measure {
        defined(ratio(self.bad_incorrect, self.bad_incorrect + self.bad_correct))
    }

    /// Returns the share of runs the expert judged incorrect that the SLO judged
    /// bad, undefined when the expert judged no run incorrect.
    pub fn recall(&self) -> Measure {
        defined(ratio(self.bad_incorrect, self.bad_incorrect + self.good_incorrect))
    }

    /// Returns the share of labelled runs where SLO and expert agree.
    pub fn agreement(&self) -> Measure {
        ratio(self.bad_incorrect + self.good_correct, self.total())
    }

    /// Cohen's kappa: `(p_o − p_e) / (1 − p_e)`, where `p_o` is the observed
    /// agreement and `p_e` the agreement expected by chance from the two raters'
    /// marginal shares. Undefined when `p_e` is 1 (both raters put every run in one
    /// class, so chance explains all agreement).
    pub fn kappa(&self) -> Measure {
        let total = self.total();
        if total == 0 {
            return Measure::NoData;
        }
        let n = Decimal::from(total);
        let observed = Decimal::from(self.bad_incorrect + self.good_correct) / n;
        let slo_bad = Decimal::from(self.bad_incorrect + self.bad_correct);
        let slo_good = Decimal::from(self.good_incorrect + self.good_correct);
        let label_incorrect = Decimal::from(self.bad_incorrect + self.good_incorrect);
        let label_correct = Decimal::from(self.bad_correct + self.good_correct);
        let expected = (slo_bad * label_incorrect + slo_good * label_correct) / (n * n);
        if expected == Decimal::ONE {
            return Measure::Undefined;
        }
        Measure::Value((observed - expected) / (Decimal::ONE - expected))
    }
}

/// Turns "no runs" into "not defined", for ratios whose zero denominator means the latter.
fn defined(measure: Measure) -> Measure {
    if measure == Measure::NoData { Measure::Undefined } else { measure }
}
