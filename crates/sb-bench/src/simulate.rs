//! `switchboard bench simulate`: simulated contacts per second.
//!
//! Two measurements in one run:
//! - a generated multi-skill day of a large center (1,000 agents, 50 skills, one queue per
//!   skill, about 200,000 contacts), through the real routing engine;
//! - the same M/M/N model (Poisson arrivals, exponential handle times, one queue, no
//!   abandonment) in Switchboard's simulator and in SimPy, whose ratio is the headline figure.
//!   SimPy runs as `python3` with the `simpy` package; without it the ratio is not printed;
//! - the same M/M/N model as a bare loop without any routing ([`bare_mmn`]): the floor of a
//!   contact's cost on the machine, against which the routing engine's share is read.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::fmt;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use sb_routing::{
    AgentId, AgentSetup, Channel, Level, Priority, QueueId, QueueSetup, ReasonId, RoutingSetup, SkillId, Strategy,
};
use sb_sim::{Arrivals, Dist, Rng, Scenario, Shift, SimTenant, Stream};

/// The size of the benchmark.
#[derive(Clone, Debug)]
pub struct SimulateBench {
    pub agents: u32,
    pub skills: u16,
    /// Independent days of the multi-skill center simulated on every core (each day starts
    /// empty at midnight), for the throughput of long runs such as a year.
    pub days: u32,
    pub contacts_per_day: u64,
    /// Contacts of the M/M/N comparison.
    pub mmn_contacts: u64,
    pub seed: u64,
}

impl Default for SimulateBench {
    fn default() -> Self {
        SimulateBench { agents: 1_000, skills: 50, days: 14, contacts_per_day: 200_000, mmn_contacts: 200_000, seed: 1 }
    }
}

/// What SimPy did, if it could run.
#[derive(Clone, Debug)]
pub enum SimPy {
    Ran { contacts: u64, elapsed: Duration, asa: f64 },
    Unavailable(String),
}

/// The benchmark's figures.
#[derive(Clone, Debug)]
pub struct SimulateReport {
    pub bench: SimulateBench,
    /// One day on one core.
    pub center_contacts: u64,
    pub center_elapsed: Duration,
    pub center_service_level: Option<f64>,
    /// `days` independent days on every core.
    pub days_contacts: u64,
    pub days_elapsed: Duration,
    pub cores: usize,
    pub mmn_agents: u32,
    pub mmn_contacts: u64,
    pub mmn_elapsed: Duration,
    pub mmn_asa: Option<f64>,
    pub bare: BareRun,
    pub bare_elapsed: Duration,
    pub simpy: SimPy,
}

/// What the bare M/M/N loop did.
#[derive(Clone, Copy, Debug)]
pub struct BareRun {
    pub contacts: u64,
    /// Average speed of answer, in seconds.
    pub asa: f64,
}

/// The M/M/N model as a bare loop: Poisson arrivals at `rate` per second, exponential
/// handle times of mean `aht` seconds, `agents` servers, one first-come-first-served line,
/// `contacts` arrivals; the simulator's random generator and a binary heap of departures,
/// in milliseconds like the simulator. There is no routing engine, no agent, no event and
/// no report: it is what a contact costs at the least on this machine.
pub fn bare_mmn(agents: u32, rate: f64, aht: f64, contacts: u64, seed: u64) -> BareRun {
    let mut rng = Rng::new(seed);
    let (gap_ms, aht_ms) = (1000.0 / rate, aht * 1000.0);
    let mut departures: BinaryHeap<Reverse<u64>> = BinaryHeap::new();
    let mut line: VecDeque<u64> = VecDeque::new();
    let mut free = agents;
    let (mut arrived, mut next) = (0u64, rng.exponential(gap_ms));
    let (mut answered, mut wait_ms) = (0u64, 0u64);
    let service_ms = |rng: &mut Rng| (rng.exponential(aht_ms) + 0.5) as u64;
    loop {
        let arrival = (arrived < contacts).then_some((next + 0.5) as u64);
        let departure = departures.peek().map(|d| d.0);
        match (arrival, departure) {
            (Some(at), d) if d.is_none_or(|d| at < d) => {
                arrived += 1;
                next += rng.exponential(gap_ms);
                if free > 0 {
                    free -= 1;
                    answered += 1;
                    departures.push(Reverse(at + service_ms(&mut rng)));
                } else {
                    line.push_back(at);
                }
            }
            (_, Some(at)) => {
                departures.pop();
                match line.pop_front() {
                    Some(arrived_at) => {
                        answered += 1;
                        wait_ms += at - arrived_at;
                        departures.push(Reverse(at + service_ms(&mut rng)));
                    }
                    None => free += 1,
                }
            }
            _ => break,
        }
    }
    BareRun { contacts: arrived, asa: wait_ms as f64 / 1000.0 / answered.max(1) as f64 }
}

const AHT: Duration = Duration::from_secs(300);

/// The generated center: one queue per skill; each agent holds four skills and serves their
/// queues; voice only; handle times exponential, patience exponential.
fn center(bench: &SimulateBench) -> (SimTenant, Scenario) {
    let mut rng = Rng::new(bench.seed);
    let skills = bench.skills.max(1);
    let queues = (0..skills)
        .map(|s| QueueSetup {
            channels: vec![Channel::Voice],
            priority: Priority::DEFAULT,
            strategy: Strategy::LongestIdle,
            skills: vec![(SkillId(s), Level::MIN)],
            offer_timeout: Duration::from_secs(20),
            wrap_up: Duration::from_secs(10),
            expected_handle_time: AHT,
            steps: vec![],
        })
        .collect();
    let agents = (0..bench.agents)
        .map(|_| {
            let mut held: Vec<u16> = (0..4).map(|_| rng.below(u64::from(skills)) as u16).collect();
            held.sort_unstable();
            held.dedup();
            AgentSetup {
                skills: held
                    .iter()
                    .map(|s| (SkillId(*s), Level::new(1 + rng.below(5) as u8).expect("in range")))
                    .collect(),
                queues: held.iter().map(|s| QueueId(*s)).collect(),
                max_per_channel: [1, 0, 0, 0],
                auto_accept: false,
            }
        })
        .collect();
    let tenant = SimTenant {
        routing: RoutingSetup {
            skill_count: skills,
            channel_costs: [100, 33, 50, 25],
            missed_reason: ReasonId(0),
            queues,
            agents,
        },
        queue_names: (0..skills).map(|s| format!("q{s}")).collect(),
        skill_names: (0..skills).map(|s| format!("s{s}")).collect(),
        service_within: vec![Duration::from_secs(20); usize::from(skills)],
    };
    let intervals = 48;
    // A daily curve: quiet nights, busy days.
    let curve: Vec<f64> =
        (0..48).map(|k| 0.25 + (std::f64::consts::PI * f64::from(k) / 48.0).sin().powi(2) * 1.5).collect();
    let curve_sum: f64 = curve.iter().sum();
    let per_queue_day = bench.contacts_per_day as f64 / f64::from(skills);
    let per_interval: Vec<f64> = (0..intervals as usize).map(|k| per_queue_day * curve[k % 48] / curve_sum).collect();
    let streams = (0..skills)
        .map(|s| Stream {
            queue: QueueId(s),
            channel: Channel::Voice,
            requirements: vec![],
            arrivals: Arrivals::Poisson { per_interval: per_interval.clone() },
            handle: Dist::Exponential { mean: AHT },
            patience: Some(Dist::Exponential { mean: Duration::from_secs(120) }),
            callback: None,
        })
        .collect();
    let scenario = Scenario {
        interval: Duration::from_secs(1800),
        intervals,
        short_abandon: Duration::from_secs(5),
        streams,
        shifts: (0..bench.agents)
            .map(|a| Shift { agent: AgentId(a), from: Duration::ZERO, to: Duration::from_secs(86_400) })
            .collect(),
        drain: Duration::from_secs(3600),
    };
    (tenant, scenario)
}

/// The M/M/N model: `agents` servers at 85 % load, handle time 180 s.
fn mmn(agents: u32, contacts: u64) -> (SimTenant, Scenario, f64) {
    let aht = 180.0;
    let rate = 0.85 * f64::from(agents) / aht; // arrivals per second
    let interval = Duration::from_secs(3600);
    let per_interval = rate * 3600.0;
    let intervals = (contacts as f64 / per_interval).ceil().max(1.0) as u32;
    let tenant = SimTenant::single_queue(agents, Duration::from_secs(20));
    let scenario = Scenario::single_queue(interval, intervals, per_interval, Duration::from_secs(180), None);
    (tenant, scenario, rate)
}

fn run_simpy(script: &Path, contacts: u64, agents: u32, rate: f64, seed: u64) -> SimPy {
    let output = Command::new("python3")
        .arg(script)
        .args([contacts.to_string(), agents.to_string(), rate.to_string(), "180".into(), seed.to_string()])
        .output();
    let output = match output {
        Ok(o) => o,
        Err(e) => return SimPy::Unavailable(format!("python3 could not be started: {e}")),
    };
    if !output.status.success() {
        let err = String::from_utf8_lossy(&output.stderr);
        let hint = if err.contains("No module named 'simpy'") { " (install it with: pip install simpy)" } else { "" };
        return SimPy::Unavailable(format!("the SimPy model failed{hint}: {}", err.lines().last().unwrap_or("")));
    }
    let text = String::from_utf8_lossy(&output.stdout);
    let value: serde_json::Value = match serde_json::from_str(text.trim()) {
        Ok(v) => v,
        Err(e) => return SimPy::Unavailable(format!("unreadable SimPy output ({e}): {text}")),
    };
    SimPy::Ran {
        contacts: value["contacts"].as_u64().unwrap_or(0),
        elapsed: Duration::from_secs_f64(value["seconds"].as_f64().unwrap_or(f64::NAN)),
        asa: value["asa"].as_f64().unwrap_or(f64::NAN),
    }
}

/// The SimPy model, shipped inside the binary.
pub const SIMPY_MODEL: &str = include_str!("../simpy/mmn.py");

/// How many times the M/M/N model runs in Switchboard and as a bare loop; the median time
/// counts.
const MMN_RUNS: usize = 5;

/// A run of the M/M/N model takes a tenth of a second or less, where a busy machine's noise
/// is large (SimPy's single run takes seconds): one run to warm up, then the median time of
/// [`MMN_RUNS`] more, with the last run's result.
fn median_time<T>(mut run: impl FnMut() -> T) -> (T, Duration) {
    let mut result = run();
    let mut times = Vec::new();
    for _ in 0..MMN_RUNS {
        let started = Instant::now();
        result = run();
        times.push(started.elapsed());
    }
    times.sort();
    (result, times[times.len() / 2])
}

/// Runs the benchmark; `simpy_script` is where [`SIMPY_MODEL`] was written.
pub fn run(bench: &SimulateBench, simpy_script: &Path, progress: &mut dyn FnMut(&str)) -> SimulateReport {
    progress("simulating the multi-skill center");
    let (tenant, scenario) = center(bench);
    let started = Instant::now();
    let result = sb_sim::run(&tenant, &scenario, bench.seed);
    let center_elapsed = started.elapsed();
    let total = result.total();

    progress("simulating independent days on every core");
    let seeds: Vec<u64> = (0..u64::from(bench.days.max(1))).map(|d| bench.seed.wrapping_add(d)).collect();
    let started = Instant::now();
    let days = sb_sim::run_all(&seeds, |s| sb_sim::run(&tenant, &scenario, s).contacts, &mut |_| {});
    let days_elapsed = started.elapsed();

    progress("simulating M/M/N in Switchboard");
    let mmn_agents = 100;
    let (tenant, scenario, rate) = mmn(mmn_agents, bench.mmn_contacts);
    let (mmn_result, mmn_elapsed) = median_time(|| sb_sim::run(&tenant, &scenario, bench.seed));

    progress("simulating M/M/N as a bare loop");
    let (bare, bare_elapsed) = median_time(|| bare_mmn(mmn_agents, rate, 180.0, mmn_result.contacts, bench.seed));

    progress("simulating M/M/N in SimPy");
    let simpy = run_simpy(simpy_script, mmn_result.contacts, mmn_agents, rate, bench.seed);
    SimulateReport {
        bench: bench.clone(),
        center_contacts: result.contacts,
        center_elapsed,
        center_service_level: total.service_level(),
        days_contacts: days.iter().sum(),
        days_elapsed,
        cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
        mmn_agents,
        mmn_contacts: mmn_result.contacts,
        mmn_elapsed,
        mmn_asa: mmn_result.total().asa(),
        bare,
        bare_elapsed,
        simpy,
    }
}

impl fmt::Display for SimulateReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rate = |n: u64, d: Duration| n as f64 / d.as_secs_f64();
        let b = &self.bench;
        let center = rate(self.center_contacts, self.center_elapsed);
        writeln!(
            f,
            "multi-skill center: {} agents, {} skills, one day on one core: {} contacts in {:.2} s = {} contacts/s (service level {:.1}%)",
            b.agents,
            b.skills,
            crate::routing::group(self.center_contacts),
            self.center_elapsed.as_secs_f64(),
            crate::routing::group(center as u64),
            self.center_service_level.unwrap_or(f64::NAN) * 100.0
        )?;
        let days = rate(self.days_contacts, self.days_elapsed);
        writeln!(
            f,
            "  {} independent days on {} core(s): {} contacts in {:.2} s = {} contacts/s",
            b.days,
            self.cores,
            crate::routing::group(self.days_contacts),
            self.days_elapsed.as_secs_f64(),
            crate::routing::group(days as u64)
        )?;
        writeln!(
            f,
            "  at this rate, 50 million contacts (a year of a 1,000-seat center) take {:.0} s (target: under 60 s)",
            50_000_000.0 / days
        )?;
        let ours = rate(self.mmn_contacts, self.mmn_elapsed);
        writeln!(
            f,
            "M/M/{} at 85% load: Switchboard {} contacts in {:.2} s = {} contacts/s (ASA {:.1} s; median of {MMN_RUNS} runs)",
            self.mmn_agents,
            crate::routing::group(self.mmn_contacts),
            self.mmn_elapsed.as_secs_f64(),
            crate::routing::group(ours as u64),
            self.mmn_asa.unwrap_or(f64::NAN)
        )?;
        let bare = rate(self.bare.contacts, self.bare_elapsed);
        writeln!(
            f,
            "M/M/{} at 85% load: bare loop   {} contacts in {:.3} s = {} contacts/s (ASA {:.1} s; no routing engine: the floor; median of {MMN_RUNS} runs)",
            self.mmn_agents,
            crate::routing::group(self.bare.contacts),
            self.bare_elapsed.as_secs_f64(),
            crate::routing::group(bare as u64),
            self.bare.asa
        )?;
        let ns = |per_s: f64| 1e9 / per_s;
        match &self.simpy {
            SimPy::Ran { contacts, elapsed, asa } => {
                let theirs = rate(*contacts, *elapsed);
                writeln!(
                    f,
                    "M/M/{} at 85% load: SimPy       {} contacts in {:.2} s = {} contacts/s (ASA {:.1} s)",
                    self.mmn_agents,
                    crate::routing::group(*contacts),
                    elapsed.as_secs_f64(),
                    crate::routing::group(theirs as u64),
                    asa
                )?;
                writeln!(
                    f,
                    "Switchboard vs SimPy: {:.0}x the contacts per second (target: at least 100x); the bare loop: {:.0}x",
                    ours / theirs,
                    bare / theirs
                )?;
                write!(
                    f,
                    "  a contact takes Switchboard {:.0} ns and the bare loop {:.0} ns; 100x SimPy allows {:.0} ns",
                    ns(ours),
                    ns(bare),
                    ns(100.0 * theirs)
                )
            }
            SimPy::Unavailable(why) => write!(f, "SimPy comparison skipped: {why}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_small_run_simulates_both_models() {
        let bench =
            SimulateBench { agents: 40, skills: 5, days: 3, contacts_per_day: 3_000, mmn_contacts: 2_000, seed: 3 };
        let script = std::env::temp_dir().join(format!("sb-bench-test-{}.py", std::process::id()));
        std::fs::write(&script, SIMPY_MODEL).unwrap();
        let report = run(&bench, &script, &mut |_| {});
        let _ = std::fs::remove_file(&script);
        assert!(report.center_contacts > 2_000, "{report}");
        assert!(report.days_contacts > 3 * 2_000, "three days: {report}");
        assert!(report.mmn_contacts >= 2_000, "{report}");
        assert!(report.mmn_asa.is_some_and(|asa| asa >= 0.0), "{report}");
        assert_eq!(report.bare.contacts, report.mmn_contacts, "{report}");
        let text = report.to_string();
        assert!(text.contains("contacts/s") && text.contains("M/M/100") && text.contains("bare loop"), "{text}");
    }

    #[test]
    fn the_bare_loop_is_an_m_m_n_queue() {
        // M/M/5 at 80% load, AHT 180 s: Erlang C gives P(wait) = 0.5541 and
        // ASA = C·AHT/(N − A) = 0.5541·180/1 = 99.7 s. The mean of eight runs of 50,000
        // contacts must come within 10%; a loop that served in the wrong order, lost
        // departures or mixed up its units would not.
        let (agents, aht) = (5, 180.0);
        let rate = 0.8 * f64::from(agents) / aht;
        let asa: f64 = (1..=8).map(|seed| bare_mmn(agents, rate, aht, 50_000, seed).asa).sum::<f64>() / 8.0;
        assert!((asa - 99.7).abs() < 10.0, "ASA {asa:.1} s");
        let one = bare_mmn(agents, rate, aht, 1_000, 1);
        assert_eq!(one.contacts, 1_000);
    }
}
