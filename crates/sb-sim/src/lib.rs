//! The simulator: proves a routing configuration before go-live by running the real routing
//! engine against simulated customers under a virtual clock.
//!
//! Arrivals per interval (Poisson) or replayed from a file, handle times and patience drawn
//! from exponential, log-normal or empirical distributions, agents' shifts, wrap-up and
//! routing steps from the tenant's configuration. Runs are seeded and reproducible;
//! replications give confidence intervals. Nothing here reads the clock or does I/O except
//! writing the report files it is asked to write.

mod model;
mod report;
mod sim;
mod stats;

pub use model::{Arrivals, Dist, Scenario, Shift, SimTenant, Stream};
pub use report::{DEFINITIONS, Replicated, Row};
/// The simulator's random numbers: SplitMix64 with the distributions it samples.
pub use sb_wfm::rng::SplitMix64 as Rng;
pub use sim::{Counters, RunResult, run};
pub use stats::{Estimate, t_975};

/// Runs `replications` independent runs, seeded `seed`, `seed + 1`, ..., calling `progress`
/// after each.
pub fn replicate<'a>(
    tenant: &'a SimTenant,
    scenario: &'a Scenario,
    seed: u64,
    replications: u32,
    progress: &mut dyn FnMut(u32),
) -> Replicated<'a> {
    let runs = (0..replications)
        .map(|r| {
            let result = run(tenant, scenario, seed.wrapping_add(u64::from(r)));
            progress(r + 1);
            result
        })
        .collect();
    Replicated { tenant, scenario, runs, seed }
}
