//! The simulator: proves a routing configuration before go-live by running the real routing
//! engine against simulated customers under a virtual clock.
//!
//! Arrivals per interval (Poisson) or replayed from a file, handle times and patience drawn
//! from exponential, log-normal or empirical distributions, call backs offered instead of
//! waiting, agents' shifts, wrap-up and routing steps from the tenant's configuration. Runs
//! are seeded and reproducible; replications give confidence intervals. Nothing here reads
//! the clock or does I/O except writing the report files it is asked to write.

mod model;
mod queue;
mod report;
mod sim;
mod stats;

pub use model::{Arrivals, CallbackOffer, Dist, Scenario, Shift, SimTenant, Stream};
pub use report::{DEFINITIONS, Replicated, Row};
/// The simulator's random numbers: SplitMix64 with the distributions it samples.
pub use sb_wfm::rng::SplitMix64 as Rng;
pub use sim::{Counters, RunResult, run};
pub use stats::{Estimate, t_975};

/// Runs `replications` independent runs, seeded `seed`, `seed + 1`, ..., on every core the
/// machine has, calling `progress` with the number finished so far. The result is the same
/// whatever the number of cores: each run depends only on its seed, and runs are kept in
/// seed order.
pub fn replicate<'a>(
    tenant: &'a SimTenant,
    scenario: &'a Scenario,
    seed: u64,
    replications: u32,
    progress: &mut dyn FnMut(u32),
) -> Replicated<'a> {
    let seeds: Vec<u64> = (0..u64::from(replications)).map(|r| seed.wrapping_add(r)).collect();
    let runs = run_all(&seeds, |s| run(tenant, scenario, s), progress);
    Replicated { tenant, scenario, runs, seed }
}

/// Runs `job` once per seed on every core, in parallel, and returns the results in seed
/// order; `progress` hears how many have finished.
pub fn run_all<T: Send>(seeds: &[u64], job: impl Fn(u64) -> T + Sync, progress: &mut dyn FnMut(u32)) -> Vec<T> {
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get()).min(seeds.len()).max(1);
    let next = std::sync::atomic::AtomicUsize::new(0);
    let (tx, rx) = std::sync::mpsc::channel::<(usize, T)>();
    let mut results: Vec<Option<T>> = seeds.iter().map(|_| None).collect();
    std::thread::scope(|scope| {
        for _ in 0..workers {
            let tx = tx.clone();
            let (next, job) = (&next, &job);
            scope.spawn(move || {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(&s) = seeds.get(i) else { break };
                    if tx.send((i, job(s))).is_err() {
                        break;
                    }
                }
            });
        }
        drop(tx);
        for (done, (i, result)) in rx.iter().enumerate() {
            results[i] = Some(result);
            progress(done as u32 + 1);
        }
    });
    results.into_iter().map(|r| r.expect("every seed was run")).collect()
}
