//! Workforce-management mathematics for contact centers: how many agents an interval needs,
//! and how many calls the coming days will bring.
//!
//! The crate is pure and deterministic: it never reads the clock and does no I/O; the only
//! text it reads is the text handed to it. The pieces are:
//!
//! - [`erlang`]: Erlang B, Erlang C and Erlang A (M/M/N+M) queueing formulas, their service
//!   level, ASA, abandonment and occupancy, and [`required_agents`], the smallest staffing
//!   that meets a [`Target`];
//! - [`staffing`]: per-interval requirements for a single interval or a whole forecast, as a
//!   [`StaffingTable`] with a plain-text and a CSV renderer;
//! - [`csv`]: the interval-series file format (`interval_start,volume,aht_seconds`) and its
//!   reader, which reports every bad line as `FILE:LINE: message` and keeps the good ones;
//! - [`forecast`](mod@forecast): seasonal-profile and Holt–Winters forecasts of volume and handle time, with
//!   accuracy measured on a held-back week;
//! - [`synth`] and [`rng`]: a seeded generator of synthetic history for tests and examples;
//! - [`units`] and [`time`]: the validated quantities and the local date-time the rest uses.
//!
//! `docs/wfm.md` explains the formulas, the definitions and the limits of each method.

pub mod csv;
pub mod erlang;
pub mod forecast;
pub mod rng;
pub mod staffing;
pub mod synth;
pub mod time;
pub mod units;

pub use csv::{IntervalSeries, Observation, Parsed, Problem, ProblemKind, parse_series};
pub use erlang::{
    ErlangC, Metrics, Model, Performance, Requirement, Target, erlang_a, erlang_b, erlang_c, erlang_c_metrics,
    evaluate, required_agents,
};
pub use forecast::{Accuracy, Forecast, ForecastConfig, ForecastInterval, Method, Seasonality, Smoothing, forecast};
pub use staffing::{Demand, StaffingConfig, StaffingRow, StaffingTable, staff, staff_forecast, staff_series};
pub use synth::Synthetic;
pub use time::{LocalDateTime, Weekday};
pub use units::{Aht, Erlangs, Fraction, IntervalLength, Patience, ServiceLevelTarget, Shrinkage, parse_duration};

/// Everything that can go wrong in this crate, as one enum for the binary to report.
///
/// A target that no staffing level meets is an error; an overloaded queue is not (it is
/// [`Performance::Unstable`]), nor is a bad line in a file (it is a [`Problem`] next to the
/// rows that were kept).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum WfmError {
    /// A number outside the range its quantity allows.
    #[error("invalid {what}: {value} (expected {expected})")]
    InvalidValue { what: &'static str, value: f64, expected: &'static str },
    /// Text that does not spell the quantity asked for.
    #[error("invalid {what} `{text}` (expected {expected})")]
    Parse { what: &'static str, text: String, expected: &'static str },
    /// No staffing level up to `agents` meets the target.
    #[error("no staffing up to {agents} agents meets the target for {offered:.3} Erlangs")]
    TargetUnreachable { offered: f64, agents: u32 },
    /// The Erlang A chain would need more states than the computation allows (only reached
    /// when an overloaded interval meets a patience millions of times the handle time).
    #[error(
        "Erlang A for {offered:.3} Erlangs on {agents} agents needs more than {limit} states; \
         patience is too long for an overloaded interval"
    )]
    StateSpaceTooLarge { offered: f64, agents: u32, limit: u64 },
    /// One interval of a staffing request failed.
    #[error("interval {label}: {source}")]
    Interval {
        label: String,
        #[source]
        source: Box<WfmError>,
    },
    /// The history is too short for the forecasting methods.
    #[error("history holds {have} intervals; forecasting needs at least {need} (three weeks)")]
    HistoryTooShort { have: usize, need: usize },
}
