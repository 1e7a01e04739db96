//! Reports: what a check found, as data ([`CheckReport`]) and rendered for people
//! ([`text`]) or machines ([`json`]); the SLO report ([`crate::slo::SloReport`])
//! rendered as text ([`slo_text`]), JSON, Markdown ([`markdown`]), JUnit XML
//! ([`junit`]) or one self-contained HTML page ([`html`]).

pub mod format;
pub mod html;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod slo_text;
mod summary;
mod svg;
pub mod text;

pub use summary::{
    CheckReport, ExpectReport, InputSummary, LabelTable, MAX_KEPT_REJECTIONS, MAX_KEPT_VIOLATIONS, PolicyInfo,
    RejectedRecord, RuleInfo, RuleSummary, Violation, run_id, violation,
};
