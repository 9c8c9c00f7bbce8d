//! `switchboard bench routing`: decisions per second and decision latency of the routing
//! engine at contact-center scale, against a naive linear-scan router in the same run.
//!
//! The workload: a generated tenant (agents serve several queues, each queue requires one
//! or two skills, and has a relaxing step and an overflow step), a backlog of waiting
//! interactions, and every agent busy. Each measured operation is one routing decision:
//! either an agent finishes and the engine picks the best waiting interaction it qualifies
//! for (and offers it), or a new interaction arrives and the engine looks for an available
//! agent (usually finding none, as in a real backlog). Virtual time advances 10 ms per
//! operation, so routing steps fire during the run as they would in production.

use std::fmt;
use std::time::{Duration, Instant};

use sb_routing::{
    AgentId, AgentSetup, Channel, Command, Engine, Event, InteractionId, Level, NewInteraction, Presence, Priority,
    QueueId, QueueSetup, ReasonId, RoutingSetup, SkillId, StepSetup, Strategy, Timestamp,
};

use crate::stats::Latencies;
use sb_sim::Rng;

/// The size of the generated tenant and of the run.
#[derive(Clone, Debug)]
pub struct RoutingBench {
    pub agents: u32,
    pub skills: u16,
    pub queues: u16,
    pub waiting: u32,
    /// Decisions measured on the engine.
    pub decisions: u32,
    /// Decisions measured on the naive router (it is slow, so fewer).
    pub naive_decisions: u32,
    pub seed: u64,
}

impl Default for RoutingBench {
    fn default() -> Self {
        RoutingBench {
            agents: 10_000,
            skills: 200,
            queues: 500,
            waiting: 100_000,
            decisions: 200_000,
            naive_decisions: 2_000,
            seed: 1,
        }
    }
}

/// What a long phase reports while it runs.
#[derive(Clone, Debug)]
pub enum Progress {
    Phase(&'static str, u64),
    Advance(u64),
    Done,
}

/// Figures for one router.
#[derive(Clone, Debug)]
pub struct RouterFigures {
    pub decisions: u64,
    pub elapsed: Duration,
    pub latencies: Latencies,
}

impl RouterFigures {
    pub fn per_second(&self) -> f64 {
        self.decisions as f64 / self.elapsed.as_secs_f64()
    }
}

/// The result of a run.
#[derive(Clone, Debug)]
pub struct RoutingReport {
    pub bench: RoutingBench,
    pub engine: RouterFigures,
    pub naive: RouterFigures,
    /// Offers the engine made during the measured run (a sanity check that work was done).
    pub offers: u64,
}

impl RoutingReport {
    /// How many times more decisions per second the engine makes than the naive router.
    pub fn speedup(&self) -> f64 {
        self.engine.per_second() / self.naive.per_second()
    }
}

/// A generated tenant: the engine's setup plus what the workload needs to know.
struct Tenant {
    setup: RoutingSetup,
    /// The skills an interaction of each queue may additionally require.
    extra_needs: Vec<Vec<(SkillId, Level)>>,
}

fn generate(bench: &RoutingBench, rng: &mut Rng) -> Tenant {
    let skills = bench.skills.max(1);
    let queue_count = bench.queues.max(1);
    let level = |v: u8| Level::new(v).expect("levels are generated in range");
    let mut queues = Vec::with_capacity(queue_count as usize);
    let mut extra_needs = Vec::with_capacity(queue_count as usize);
    for q in 0..queue_count {
        let primary = SkillId(q % skills);
        let mut queue_skills = vec![(primary, level(1 + rng.below(3) as u8))];
        if rng.below(3) == 0 {
            queue_skills.push((SkillId(rng.below(u64::from(skills)) as u16), level(1)));
        }
        let overflow = QueueId(
            ((u64::from(q) + 1 + rng.below(u64::from(queue_count) - 1).min(5)) % u64::from(queue_count)) as u16,
        );
        queues.push(QueueSetup {
            channels: vec![Channel::Voice, Channel::Chat],
            priority: Priority::new(1 + rng.below(10) as u8).expect("in range"),
            strategy: match q % 10 {
                0 => Strategy::MostSkilled,
                1 => Strategy::RoundRobin,
                _ => Strategy::LongestIdle,
            },
            skills: queue_skills,
            offer_timeout: Duration::from_secs(30),
            wrap_up: Duration::ZERO,
            expected_handle_time: Duration::from_secs(300),
            steps: vec![
                StepSetup {
                    after: Duration::from_secs(30),
                    require: vec![(primary, level(1))],
                    ..StepSetup::default()
                },
                StepSetup { after: Duration::from_secs(90), overflow_queues: vec![overflow], ..StepSetup::default() },
            ],
        });
        // Some interactions need a language on top of the queue's skill.
        extra_needs.push(vec![(SkillId(((u64::from(q) * 7 + 3) % u64::from(skills)) as u16), level(2))]);
    }
    let mut agents = Vec::with_capacity(bench.agents as usize);
    for _ in 0..bench.agents {
        let mut member: Vec<QueueId> = (0..5).map(|_| QueueId(rng.below(u64::from(queue_count)) as u16)).collect();
        member.sort();
        member.dedup();
        let mut held: Vec<(SkillId, Level)> = Vec::new();
        for q in &member {
            for (s, _) in &queues[q.index()].skills {
                held.push((*s, level(1 + rng.below(5) as u8)));
            }
            if rng.below(2) == 0 {
                held.push((extra_needs[q.index()][0].0, level(1 + rng.below(5) as u8)));
            }
        }
        for _ in 0..3 {
            held.push((SkillId(rng.below(u64::from(skills)) as u16), level(1 + rng.below(5) as u8)));
        }
        held.sort_by_key(|(s, _)| *s);
        held.dedup_by_key(|(s, _)| *s);
        agents.push(AgentSetup { skills: held, queues: member, max_per_channel: [1, 3, 0, 0], auto_accept: false });
    }
    Tenant {
        setup: RoutingSetup {
            skill_count: skills,
            channel_costs: [100, 33, 50, 25],
            missed_reason: ReasonId(0),
            queues,
            agents,
        },
        extra_needs,
    }
}

fn new_interaction(tenant: &Tenant, rng: &mut Rng, id: u64) -> NewInteraction {
    let queue = QueueId(rng.below(tenant.setup.queues.len() as u64) as u16);
    let channel = if rng.below(4) == 0 { Channel::Chat } else { Channel::Voice };
    let requirements = if rng.below(4) == 0 { tenant.extra_needs[queue.index()].clone() } else { Vec::new() };
    NewInteraction { id: InteractionId(id), channel, queue, priority: None, requirements }
}

/// One operation of the measured workload.
enum Op {
    Arrival(NewInteraction),
    /// The agent holding this interaction finishes it.
    Finish,
}

/// The interface both routers offer the workload driver.
trait Router {
    fn arrive(&mut self, now: Timestamp, new: NewInteraction);
    /// Finishes one connected interaction (chosen by the router from the `pick` number) and
    /// lets the freed agent take the next one; returns whether an interaction was finished.
    fn finish_one(&mut self, now: Timestamp, pick: u64) -> bool;
}

/// Runs `count` operations, timing each.
fn measure(
    router: &mut dyn Router,
    tenant: &Tenant,
    rng: &mut Rng,
    start: Timestamp,
    first_id: u64,
    count: u32,
    progress: &mut dyn FnMut(Progress),
) -> RouterFigures {
    let mut latencies = Latencies::with_capacity(count as usize);
    let mut now = start;
    let mut id = first_id;
    let started = Instant::now();
    for n in 0..count {
        now = now.after(Duration::from_millis(10));
        let op = if rng.below(2) == 0 {
            id += 1;
            Op::Arrival(new_interaction(tenant, rng, id))
        } else {
            Op::Finish
        };
        let pick = rng.next_u64();
        let t0 = Instant::now();
        match op {
            Op::Arrival(new) => router.arrive(now, new),
            Op::Finish => {
                router.finish_one(now, pick);
            }
        }
        latencies.record(t0.elapsed());
        if n % 1024 == 0 {
            progress(Progress::Advance(1024.min(u64::from(count - n))));
        }
    }
    let elapsed = started.elapsed();
    progress(Progress::Done);
    RouterFigures { decisions: u64::from(count), elapsed, latencies }
}

/// The engine under the workload: accepts every offer at once, so that each agent holds
/// connected interactions that the workload can finish.
struct EngineRouter {
    engine: Engine,
    /// Connected interactions and their agents; finishing picks one at random.
    connected: Vec<(InteractionId, AgentId)>,
    offers: u64,
}

impl EngineRouter {
    fn drain(&mut self, now: Timestamp) {
        while let Some(record) = self.engine.poll_event() {
            if let Event::Offered { interaction, agent, .. } = record.event {
                self.offers += 1;
                self.engine.handle(now, Command::Accept { interaction, agent }).expect("the offer was just made");
                self.connected.push((interaction, agent));
            }
        }
    }
}

impl Router for EngineRouter {
    fn arrive(&mut self, now: Timestamp, new: NewInteraction) {
        self.engine.handle(now, Command::Enqueue(new)).expect("generated interactions are valid");
        self.drain(now);
    }

    fn finish_one(&mut self, now: Timestamp, pick: u64) -> bool {
        if self.connected.is_empty() {
            return false;
        }
        let (interaction, agent) = self.connected.swap_remove((pick % self.connected.len() as u64) as usize);
        self.engine.handle(now, Command::Complete { interaction, agent }).expect("connected");
        self.drain(now);
        true
    }
}

/// Runs the benchmark.
pub fn run(bench: &RoutingBench, progress: &mut dyn FnMut(Progress)) -> RoutingReport {
    let mut rng = Rng::new(bench.seed);
    progress(Progress::Phase("generating the tenant", 1));
    let tenant = generate(bench, &mut rng);
    progress(Progress::Done);

    // Fill the backlog with every agent offline, then log everyone in: each agent takes
    // what it can, and the rest stays waiting.
    let start = Timestamp::from_millis(1_000_000);
    let backlog = u64::from(bench.waiting) + u64::from(bench.agents);
    let arrivals: Vec<NewInteraction> = (1..=backlog).map(|id| new_interaction(&tenant, &mut rng, id)).collect();

    progress(Progress::Phase("filling the engine's queues", backlog));
    let mut engine = EngineRouter {
        engine: Engine::new(tenant.setup.clone()).expect("generated setups are valid"),
        connected: Vec::new(),
        offers: 0,
    };
    for (n, new) in arrivals.iter().enumerate() {
        engine.arrive(start, new.clone());
        if n % 4096 == 0 {
            progress(Progress::Advance(4096));
        }
    }
    for a in 0..bench.agents {
        engine
            .engine
            .handle(start, Command::SetPresence { agent: AgentId(a), presence: Presence::Available })
            .expect("known agent");
        engine.drain(start);
    }
    progress(Progress::Done);
    let filled_offers = engine.offers;

    // The naive router starts from the state the engine settled in, so both are measured
    // from the same backlog and the same busy agents.
    let mut naive = crate::naive::NaiveRouter::new(&tenant.setup);
    let holder: std::collections::HashMap<InteractionId, AgentId> = engine.connected.iter().copied().collect();
    let (connected, waiting): (Vec<_>, Vec<_>) = arrivals.into_iter().partition(|new| holder.contains_key(&new.id));
    let connected = connected.into_iter().map(|new| (holder[&new.id].index(), new)).map(|(a, new)| (new, a)).collect();
    naive.load(start, waiting, connected);

    progress(Progress::Phase("measuring the engine", u64::from(bench.decisions)));
    let mut engine_rng = Rng::new(bench.seed ^ 0x5eed);
    let engine_figures = measure(&mut engine, &tenant, &mut engine_rng, start, backlog, bench.decisions, progress);
    let offers = engine.offers - filled_offers;
    drop(engine);

    progress(Progress::Phase("measuring the naive router", u64::from(bench.naive_decisions)));
    let mut naive_rng = Rng::new(bench.seed ^ 0x5eed);
    let naive_figures = measure(&mut naive, &tenant, &mut naive_rng, start, backlog, bench.naive_decisions, progress);

    RoutingReport { bench: bench.clone(), engine: engine_figures, naive: naive_figures, offers }
}

impl Router for crate::naive::NaiveRouter {
    fn arrive(&mut self, now: Timestamp, new: NewInteraction) {
        crate::naive::NaiveRouter::arrive(self, now, new);
    }

    fn finish_one(&mut self, now: Timestamp, pick: u64) -> bool {
        crate::naive::NaiveRouter::finish_one(self, now, pick)
    }
}

impl fmt::Display for RoutingReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = &self.bench;
        writeln!(
            f,
            "routing benchmark: {} agents, {} skills, {} queues, {} waiting interactions (seed {})",
            group(u64::from(b.agents)),
            b.skills,
            b.queues,
            group(u64::from(b.waiting)),
            b.seed
        )?;
        writeln!(
            f,
            "{:<22} {:>10} {:>14} {:>10} {:>10} {:>10}",
            "router", "decisions", "decisions/s", "p50", "p99", "p99.9"
        )?;
        for (name, r) in [("engine (indexed)", &self.engine), ("naive (linear scan)", &self.naive)] {
            writeln!(
                f,
                "{:<22} {:>10} {:>14} {:>10} {:>10} {:>10}",
                name,
                group(r.decisions),
                group(r.per_second() as u64),
                micros(r.latencies.quantile(0.50)),
                micros(r.latencies.quantile(0.99)),
                micros(r.latencies.quantile(0.999)),
            )?;
        }
        writeln!(f, "offers made during the engine's run: {}", group(self.offers))?;
        let p99 = self.engine.latencies.quantile(0.99);
        write!(
            f,
            "engine vs naive: {:.0}x the decisions per second; engine p99 {} (target: under 20 µs and at least 50x)",
            self.speedup(),
            micros(p99)
        )
    }
}

fn micros(d: Duration) -> String {
    let us = d.as_secs_f64() * 1e6;
    if us >= 1000.0 { format!("{:.2} ms", us / 1000.0) } else { format!("{us:.1} µs") }
}

/// 1234567 → "1,234,567".
pub fn group(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_small_run_measures_both_routers_and_the_engine_makes_offers() {
        let bench = RoutingBench {
            agents: 50,
            skills: 10,
            queues: 8,
            waiting: 300,
            decisions: 400,
            naive_decisions: 400,
            seed: 7,
        };
        let report = run(&bench, &mut |_| {});
        assert!(report.offers > 0, "the engine made no offer: {report}");
        assert_eq!(report.engine.decisions, 400);
        assert_eq!(report.naive.decisions, 400);
        assert!(report.to_string().contains("engine vs naive"));
    }

    #[test]
    fn grouping_thousands() {
        assert_eq!(group(0), "0");
        assert_eq!(group(999), "999");
        assert_eq!(group(1000), "1,000");
        assert_eq!(group(1_234_567), "1,234,567");
    }
}
