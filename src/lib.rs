//! semslo: semantic SLOs for LLM-agent workflows.
//!
//! Domain experts write business intent as rules in `.slo` policy files; this crate
//! parses and checks them ([`syntax`], [`compile`]), reads workflow run records
//! ([`input`]), evaluates every rule on every run ([`eval`]) and reports the verdicts
//! ([`report`]). The pipeline runs one way:
//!
//! ```text
//! source -> syntax -> compile -> PolicySet
//! records -> input --------------------> eval -> report
//! ```
//!
//! The library never prints; problems come back as [`diagnostic::Diagnostic`]s and
//! verdicts as data.

#![expect(
    clippy::result_large_err,
    reason = "diagnostics are built only on the error path, where their size costs nothing measurable"
)]

pub mod batch;
pub mod check;
pub mod compile;
pub mod diagnostic;
pub mod diff;
pub mod document;
pub mod engine;
pub mod eval;
pub mod export;
pub mod fmt;
pub mod input;
mod json_text;
pub mod policy_test;
pub mod report;
pub mod serve;
pub mod slo;
pub mod store;
pub mod syntax;
pub mod value;
pub mod watch;
