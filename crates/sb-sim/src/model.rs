//! What a simulation is made of: the tenant's routing setup, the streams of arriving
//! contacts, agents' shifts, and the statistical distributions of handle times and patience.

use std::time::Duration;

use sb_routing::{
    AgentId, AgentSetup, Channel, Level, Priority, QueueId, QueueSetup, ReasonId, RoutingSetup, SkillId, Strategy,
};

/// The tenant as the simulator needs it: the engine's setup plus names and targets.
#[derive(Clone, Debug)]
pub struct SimTenant {
    pub routing: RoutingSetup,
    pub queue_names: Vec<String>,
    pub skill_names: Vec<String>,
    /// The service-level threshold of each queue ("answered within T").
    pub service_within: Vec<Duration>,
}

impl SimTenant {
    /// The textbook M/M/N system's tenant: one voice queue without skills, served longest
    /// idle first by `agents` identical agents, with the service-level threshold `within`.
    pub fn single_queue(agents: u32, within: Duration) -> SimTenant {
        let queue = QueueSetup {
            channels: vec![Channel::Voice],
            priority: Priority::DEFAULT,
            strategy: Strategy::LongestIdle,
            skills: vec![],
            offer_timeout: Duration::from_secs(30),
            wrap_up: Duration::ZERO,
            expected_handle_time: Duration::from_secs(180),
            steps: vec![],
        };
        let agent =
            AgentSetup { skills: vec![], queues: vec![QueueId(0)], max_per_channel: [1, 0, 0, 0], auto_accept: false };
        SimTenant {
            routing: RoutingSetup {
                skill_count: 0,
                channel_costs: [100, 33, 50, 25],
                missed_reason: ReasonId(0),
                queues: vec![queue],
                agents: vec![agent; agents as usize],
            },
            queue_names: vec!["queue".into()],
            skill_names: vec![],
            service_within: vec![within],
        }
    }
}

/// A distribution of durations.
#[derive(Clone, Debug, PartialEq)]
pub enum Dist {
    Fixed(Duration),
    Exponential {
        mean: Duration,
    },
    /// Parameterised by the mean and standard deviation of the duration itself.
    LogNormal {
        mean: Duration,
        sd: Duration,
    },
    /// Draws uniformly from observed values.
    Empirical(Vec<Duration>),
}

impl Dist {
    /// One sample, in milliseconds.
    pub fn sample_ms(&self, rng: &mut crate::Rng) -> u64 {
        let ms = |d: &Duration| d.as_secs_f64() * 1000.0;
        let x = match self {
            Dist::Fixed(d) => ms(d),
            Dist::Exponential { mean } => rng.exponential(ms(mean)),
            Dist::LogNormal { mean, sd } => rng.lognormal(ms(mean), ms(sd)),
            Dist::Empirical(values) if values.is_empty() => 0.0,
            Dist::Empirical(values) => ms(&values[rng.below(values.len() as u64) as usize]),
        };
        nearest_ms(x)
    }
}

/// Milliseconds to the nearest whole one, negative ones and NaN to zero (the cast
/// saturates). Half-up by addition: `f64::round` is a library call on baseline x86-64,
/// and this runs for every draw.
pub(crate) fn nearest_ms(x: f64) -> u64 {
    (x + 0.5) as u64
}

/// When contacts of a stream arrive.
#[derive(Clone, Debug, PartialEq)]
pub enum Arrivals {
    /// A Poisson process with a constant rate within each interval: the expected number of
    /// arrivals per interval, one entry per interval of the run.
    Poisson { per_interval: Vec<f64> },
    /// Arrivals at these offsets from the start, as recorded (replayed from a file).
    Replay { offsets: Vec<Duration> },
}

/// Contacts of one kind: a queue, a channel, extra requirements, and their statistics.
#[derive(Clone, Debug)]
pub struct Stream {
    pub queue: QueueId,
    pub channel: Channel,
    pub requirements: Vec<(SkillId, Level)>,
    pub arrivals: Arrivals,
    /// Talk (or handling) time, without wrap-up, which comes from the queue's configuration.
    pub handle: Dist,
    /// How long a customer waits before giving up; `None` for customers who never abandon.
    pub patience: Option<Dist>,
    /// A call back offered on arrival instead of waiting, if the stream's customers get one.
    pub callback: Option<CallbackOffer>,
}

/// A call back offered to an arriving customer, as a flow's callback offer does: one who
/// takes it hangs up at once, and the call back waits in `queue` for an agent, who calls the
/// customer and talks as long as the stream's handle time. A call back never abandons.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CallbackOffer {
    /// Offered when the queue's estimated wait on arrival (the engine's, as callers hear
    /// it) is over this, or when nobody of the queue is logged in.
    pub when_wait_over: Duration,
    /// The share of customers offered a call back who take it, from 0 to 1.
    pub accept: f64,
    /// Where the call back waits; it must take voice.
    pub queue: QueueId,
}

/// An agent's logged-in period.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shift {
    pub agent: AgentId,
    pub from: Duration,
    pub to: Duration,
}

/// Everything about one simulated period.
#[derive(Clone, Debug)]
pub struct Scenario {
    /// The reporting interval (15, 30 or 60 minutes, usually).
    pub interval: Duration,
    /// How many intervals arrivals are generated for.
    pub intervals: u32,
    /// Abandons quicker than this are left out of the service level.
    pub short_abandon: Duration,
    pub streams: Vec<Stream>,
    /// Who is logged in when; empty means every agent for the whole run.
    pub shifts: Vec<Shift>,
    /// How long after the last interval the run goes on so that queues can empty.
    pub drain: Duration,
}

impl Scenario {
    /// The textbook scenario for [`SimTenant::single_queue`]: Poisson arrivals at the same
    /// expected number per interval, exponential handle times of mean `aht`, every agent
    /// logged in, every abandon counted, four hours to drain.
    pub fn single_queue(
        interval: Duration,
        intervals: u32,
        per_interval: f64,
        aht: Duration,
        patience: Option<Dist>,
    ) -> Scenario {
        Scenario {
            interval,
            intervals,
            short_abandon: Duration::ZERO,
            streams: vec![Stream {
                queue: QueueId(0),
                channel: Channel::Voice,
                requirements: vec![],
                arrivals: Arrivals::Poisson { per_interval: vec![per_interval; intervals as usize] },
                handle: Dist::Exponential { mean: aht },
                patience,
                callback: None,
            }],
            shifts: vec![],
            drain: Duration::from_secs(4 * 3600),
        }
    }

    /// The end of the arrival period.
    pub fn horizon(&self) -> Duration {
        self.interval * self.intervals
    }
}
