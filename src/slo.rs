//! SLOs over verdicts: windows, SLI, error budget, burn rate, alerts, breakdowns,
//! and the calibration sections (step-level contrast, checkpoints, expert labels,
//! cost per correct outcome).
//!
//! [`ReportBuilder`] reads runs one at a time after [`crate::eval::evaluate`] has
//! judged them, keeps a compact event per valid run and SLO (never the record), and
//! [`ReportBuilder::finish`] computes an [`SloReport`]. The report time `at` is
//! given, or is the latest event time in the input. The wall clock is never read,
//! so the same input gives the same report. The formulas are in [`math`], window
//! semantics in [`window`].

mod builder;
mod calibration;
mod event;
pub mod math;
pub mod measure;
mod summary;
pub mod window;
mod windowed;

pub use builder::{ReportBuilder, ReportOptions};
pub use calibration::{cost_summary, expert_label};
pub use math::Confusion;
pub use measure::Measure;
pub use summary::*;
pub use window::{WindowBounds, format_duration};
