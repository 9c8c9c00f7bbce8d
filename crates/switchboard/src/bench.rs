//! `switchboard bench ...`: runs a benchmark from `sb-bench` with progress bars and prints
//! its figures.

use clap::Args;
use sb_bench::routing::{Progress, RoutingBench};

use crate::progress::PhaseBars;

#[derive(Debug, Args)]
pub struct RoutingArgs {
    /// Agents in the generated tenant.
    #[arg(long, default_value_t = 10_000)]
    agents: u32,
    /// Skills in the generated tenant.
    #[arg(long, default_value_t = 200)]
    skills: u16,
    /// Queues in the generated tenant.
    #[arg(long, default_value_t = 500)]
    queues: u16,
    /// Interactions waiting in the backlog while decisions are measured.
    #[arg(long, default_value_t = 100_000)]
    waiting: u32,
    /// Decisions to measure on the engine.
    #[arg(long, default_value_t = 200_000)]
    decisions: u32,
    /// Decisions to measure on the naive linear-scan router (each takes milliseconds).
    #[arg(long, default_value_t = 2_000)]
    naive_decisions: u32,
    /// Seed of the generated tenant and workload; the same seed gives the same run.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

pub fn routing(args: RoutingArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.agents > 0 && args.queues > 0 && args.skills > 0,
        "agents, queues and skills must be at least 1"
    );
    anyhow::ensure!(args.decisions > 0 && args.naive_decisions > 0, "decisions must be at least 1");
    note_debug_build();
    let bench = RoutingBench {
        agents: args.agents,
        skills: args.skills,
        queues: args.queues,
        waiting: args.waiting,
        decisions: args.decisions,
        naive_decisions: args.naive_decisions,
        seed: args.seed,
    };
    let mut bars = PhaseBars::default();
    let report = sb_bench::routing::run(&bench, &mut |p| match p {
        Progress::Phase(name, total) => bars.phase(name, total),
        Progress::Advance(n) => bars.advance(n),
        Progress::Done => bars.finish(),
    });
    bars.finish();
    say!("{report}");
    Ok(())
}

#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// Agents of the generated multi-skill center.
    #[arg(long, default_value_t = 1_000)]
    agents: u32,
    /// Skills (and queues, one per skill) of the generated center.
    #[arg(long, default_value_t = 50)]
    skills: u16,
    /// Independent days of the center to simulate on every core, for the throughput of long
    /// runs (365 simulates a year).
    #[arg(long, default_value_t = 14)]
    days: u32,
    /// Contacts per simulated day.
    #[arg(long, default_value_t = 200_000)]
    contacts_per_day: u64,
    /// Contacts of the M/M/N model run in both Switchboard and SimPy.
    #[arg(long, default_value_t = 200_000)]
    mmn_contacts: u64,
    /// Seed of the generated center and the random streams.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

pub fn simulate(args: SimulateArgs) -> anyhow::Result<()> {
    anyhow::ensure!(args.agents > 0 && args.skills > 0 && args.days > 0, "agents, skills and days must be at least 1");
    note_debug_build();
    let bench = sb_bench::simulate::SimulateBench {
        agents: args.agents,
        skills: args.skills,
        days: args.days,
        contacts_per_day: args.contacts_per_day,
        mmn_contacts: args.mmn_contacts,
        seed: args.seed,
    };
    let script = std::env::temp_dir().join(format!("switchboard-simpy-{}.py", std::process::id()));
    std::fs::write(&script, sb_bench::simulate::SIMPY_MODEL)?;
    let spinner = indicatif::ProgressBar::new_spinner();
    spinner.enable_steady_tick(std::time::Duration::from_millis(120));
    let report = sb_bench::simulate::run(&bench, &script, &mut |phase| spinner.set_message(phase.to_string()));
    spinner.finish_and_clear();
    let _ = std::fs::remove_file(&script);
    say!("{report}");
    Ok(())
}

#[derive(Debug, Args)]
pub struct ApiArgs {
    /// Chat messages to post on each storage backend.
    #[arg(long, default_value_t = 20_000)]
    requests: u32,
    /// Concurrent keep-alive connections.
    #[arg(long, default_value_t = 64)]
    connections: u32,
    /// A PostgreSQL address where a scratch database may be created (and dropped after);
    /// `none` skips PostgreSQL.
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/test")]
    postgres: String,
    /// WebSocket subscribers of the live event stream for the fan-out measurement (0 skips it).
    #[arg(long, default_value_t = 1_000)]
    subscribers: u32,
    /// Events each subscriber receives in the fan-out measurement.
    #[arg(long, default_value_t = 100)]
    fanout_events: u32,
    /// The fan-out is measured with messages sent back to back, then at this many messages
    /// per second (0 skips the paced run).
    #[arg(long, default_value_t = 20.0)]
    fanout_rate: f64,
}

pub fn api(args: ApiArgs) -> anyhow::Result<()> {
    anyhow::ensure!(args.requests > 0 && args.connections > 0, "requests and connections must be at least 1");
    note_debug_build();
    let bench = sb_bench::api::ApiBench {
        requests: args.requests,
        connections: args.connections,
        postgres_admin: (args.postgres != "none").then_some(args.postgres),
        subscribers: args.subscribers,
        fanout_events: args.fanout_events,
        fanout_rate: args.fanout_rate,
    };
    let spinner = indicatif::ProgressBar::new_spinner();
    spinner.enable_steady_tick(std::time::Duration::from_millis(120));
    spinner.set_message("posting chat messages over HTTP");
    let report = sb_bench::api::run(&bench);
    spinner.finish_and_clear();
    say!("{report}");
    Ok(())
}

#[derive(Debug, Args)]
pub struct SipArgs {
    /// Agents, each with a phone that registers (one sipp answers for all of them).
    #[arg(long, default_value_t = 800)]
    agents: u32,
    /// Call rates to try, in calls per second, in order; the ramp stops at the first rate
    /// with a failed call.
    #[arg(long, value_delimiter = ',', default_value = "100,200,300,400,500,600,800,1000")]
    rates: Vec<u32>,
    /// Seconds of calls at each rate.
    #[arg(long, default_value_t = 10)]
    step_seconds: u32,
    /// How long each agent talks before hanging up, in milliseconds.
    #[arg(long, default_value_t = 1000)]
    talk_ms: u32,
    /// Counts of calls held bridged at once with speech both ways, tried in order until one
    /// loses 0.1% of its packets or more; "none" skips the media steps.
    #[arg(long, value_delimiter = ',', default_value = "250,500,750,1000,1500")]
    concurrent: Vec<String>,
}

/// Runs `switchboard bench sip` and prints its report.
pub fn sip(args: SipArgs) -> anyhow::Result<()> {
    note_debug_build();
    let bench = sb_bench::sip::SipBench {
        agents: args.agents,
        rates: args.rates,
        step_seconds: args.step_seconds,
        talk_ms: args.talk_ms,
        concurrent: match args.concurrent.as_slice() {
            [none] if none == "none" => Vec::new(),
            counts => counts
                .iter()
                .map(|c| c.parse::<u32>().ok().filter(|n| *n > 0))
                .collect::<Option<Vec<u32>>>()
                .ok_or_else(|| anyhow::anyhow!("--concurrent takes counts such as 250,500,1000, or none"))?,
        },
    };
    let spinner = indicatif::ProgressBar::new_spinner();
    spinner.enable_steady_tick(std::time::Duration::from_millis(120));
    let report = sb_bench::sip::run(&bench, &mut |step| spinner.set_message(step));
    spinner.finish_and_clear();
    let report = report.map_err(|e| anyhow::anyhow!(e))?;
    say!("{report}");
    Ok(())
}

/// Benchmarks of a debug build mean little: say so.
fn note_debug_build() {
    if cfg!(debug_assertions) {
        eprintln!("note: this is a debug build; build with --release for meaningful figures");
    }
}
