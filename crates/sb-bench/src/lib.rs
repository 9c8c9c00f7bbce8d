//! Benchmarks that print the figures the project promises, run by `switchboard bench ...`.
//!
//! They measure in-process, with the real crates, and compare against a baseline in the
//! same run so that the ratio means something on any machine. None of this is a test with
//! a time limit.

pub mod api;
mod naive;
pub mod routing;
pub mod simulate;
pub mod sip;
mod stats;

pub use sb_sim::Rng;
pub use stats::Latencies;
