//! Reports: what a check found, as data ([`CheckReport`]) and rendered for people
//! ([`text`]) or machines ([`json`]).

pub mod json;
mod summary;
pub mod text;

pub use summary::{
    CheckReport, ExpectReport, InputSummary, LabelTable, MAX_KEPT_REJECTIONS, MAX_KEPT_VIOLATIONS, PolicyInfo,
    RejectedRecord, RuleInfo, RuleSummary, Violation, run_id, violation,
};
