//! `switchboard simulate`: runs a scenario against a tenant's routing in the simulator and
//! writes the summary, the per-interval CSV, a JSON report and an SVG chart.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use clap::Args;
use sb_config::{ArrivalPattern, DurationDist, ScenarioSpec, TenantConfig};
use sb_routing::{AgentId, Channel, Level, QueueId, SkillId};
use sb_sim::{Arrivals, CallbackOffer, Dist, Scenario, Shift, SimTenant, Stream};

#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// The tenant's configuration (YAML): queues, routing steps, agents and their skills.
    #[arg(long, short = 'c', value_name = "FILE")]
    config: PathBuf,
    /// The scenario (YAML): arrivals per interval or replayed, handle times, patience, shifts.
    #[arg(long, short = 's', value_name = "FILE")]
    scenario: PathBuf,
    /// Replications (independent runs); overrides the scenario's.
    #[arg(long, short = 'r')]
    replications: Option<u32>,
    /// First seed; replication i uses seed + i. Overrides the scenario's.
    #[arg(long)]
    seed: Option<u64>,
    /// Directory for summary.json, intervals.csv and chart.svg.
    #[arg(long, short = 'o', value_name = "DIR", default_value = "simulation")]
    out: PathBuf,
}

fn dist(d: &DurationDist) -> Dist {
    match d {
        DurationDist::Fixed(x) => Dist::Fixed(*x),
        DurationDist::Exponential { mean } => Dist::Exponential { mean: *mean },
        DurationDist::LogNormal { mean, sd } => Dist::LogNormal { mean: *mean, sd: *sd },
        DurationDist::Empirical(values) => Dist::Empirical(values.clone()),
    }
}

/// The simulator's view of a tenant.
pub fn sim_tenant(config: &TenantConfig) -> SimTenant {
    let (routing, directory) = sb_server::tenant::build(config);
    SimTenant {
        routing,
        queue_names: directory.queues.clone(),
        skill_names: directory.skills.clone(),
        service_within: config.queues.iter().map(|q| q.service_level.within).collect(),
    }
}

/// The simulator's scenario from a validated scenario file.
pub fn sim_scenario(spec: &ScenarioSpec) -> Scenario {
    Scenario {
        interval: spec.interval,
        intervals: spec.intervals,
        short_abandon: spec.short_abandon,
        drain: spec.drain,
        streams: spec
            .streams
            .iter()
            .map(|s| Stream {
                queue: QueueId(s.queue.index() as u16),
                channel: Channel::from_name(s.channel.as_str()).expect("the same channel names"),
                requirements: s
                    .requirements
                    .iter()
                    .map(|r| (SkillId(r.skill.index() as u16), Level::new(r.level.get()).expect("validated")))
                    .collect(),
                arrivals: match &s.arrivals {
                    ArrivalPattern::PerInterval(v) => Arrivals::Poisson { per_interval: v.clone() },
                    ArrivalPattern::Replay(v) => Arrivals::Replay { offsets: v.clone() },
                },
                handle: dist(&s.handle_time),
                patience: s.patience.as_ref().map(dist),
                callback: s.callback.map(|c| CallbackOffer {
                    when_wait_over: c.when_wait_over,
                    accept: f64::from(c.accept_percent) / 100.0,
                    queue: QueueId(c.queue.index() as u16),
                }),
            })
            .collect(),
        shifts: spec
            .shifts
            .iter()
            .flat_map(|sh| {
                sh.agents.iter().map(|a| Shift { agent: AgentId(a.index() as u32), from: sh.from, to: sh.to })
            })
            .collect(),
    }
}

pub fn run(args: SimulateArgs) -> anyhow::Result<()> {
    let config = sb_config::load(&args.config).map_err(|e| crate::diagnostics(e.report))?;
    let spec = sb_config::load_scenario(&args.scenario, &config).map_err(crate::diagnostics)?;
    let tenant = sim_tenant(&config);
    let scenario = sim_scenario(&spec);
    let replications = args.replications.unwrap_or(spec.replications);
    anyhow::ensure!(replications > 0, "--replications must be at least 1");
    let seed = args.seed.unwrap_or(spec.seed);

    let mut bars = crate::progress::PhaseBars::default();
    bars.phase("simulating replications", u64::from(replications));
    let started = std::time::Instant::now();
    let result = sb_sim::replicate(&tenant, &scenario, seed, replications, &mut |_| bars.advance(1));
    bars.finish();
    let elapsed = started.elapsed();

    say!("{}", result.table());
    let contacts: u64 = result.runs.iter().map(|r| r.contacts).sum();
    say!(
        "simulated {contacts} contacts in {:.2} s ({:.0} contacts per second)",
        elapsed.as_secs_f64(),
        contacts as f64 / elapsed.as_secs_f64()
    );
    write_outputs(&result, &args.out, &config.tenant.name)?;
    Ok(())
}

fn write_outputs(result: &sb_sim::Replicated, out: &Path, title: &str) -> anyhow::Result<()> {
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let json = out.join("summary.json");
    let json_text = serde_json::to_string_pretty(&result.json()).expect("JSON values serialise");
    std::fs::write(&json, json_text + "\n").with_context(|| format!("writing {}", json.display()))?;
    let csv = out.join("intervals.csv");
    std::fs::write(&csv, result.intervals_csv()).with_context(|| format!("writing {}", csv.display()))?;
    let svg = out.join("chart.svg");
    result.chart(&svg, title).map_err(|e| anyhow::anyhow!("drawing {}: {e}", svg.display()))?;
    say!("wrote {}, {} and {}", json.display(), csv.display(), svg.display());
    Ok(())
}
