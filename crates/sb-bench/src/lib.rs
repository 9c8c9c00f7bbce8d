//! Benchmarks that print the figures the project promises, run by `switchboard bench ...`.
//!
//! They measure in-process, with the real crates, and compare against a baseline in the
//! same run so that the ratio means something on any machine. None of this is a test with
//! a time limit.

mod naive;
mod rng;
pub mod routing;
mod stats;

pub use rng::Rng;
pub use stats::Latencies;
