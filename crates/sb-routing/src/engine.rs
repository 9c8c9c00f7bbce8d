//! The routing engine: a deterministic state machine that matches interactions to agents.
//!
//! Inputs are [`Command`]s and the passing of time ([`Engine::handle_timeout`]); outputs are
//! [`EventRecord`]s drained with [`Engine::poll_event`] and the next moment the engine wants
//! to be woken, [`Engine::poll_timeout`]. Nothing here reads a clock or does I/O.
//!
//! Two invariants keep decisions cheap:
//! - after every call, no waiting interaction could be offered to an available agent; so a
//!   decision is needed only when an interaction arrives or its requirements change (it is
//!   matched against the index of available agents), or when an agent gains capacity (it is
//!   matched against the heads of the waiting groups it qualifies for);
//! - waiting interactions are grouped by queue, channel and current criteria, each group
//!   ordered by priority, then arrival, then id; an agent looks at group heads only.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap, VecDeque};
use std::time::Duration;

use crate::criteria::{ClauseSpec, CriteriaIx, CriteriaTable, Key, Req};
use crate::event::{
    AgentActivity, CancelReason, Command, CommandError, Event, EventRecord, NewInteraction, Presence, SetupError,
    TransferTarget,
};
use crate::hash::FxHashMap;
use crate::ids::{AgentId, Channel, InteractionId, Level, Priority, QueueId, ReasonId, SkillId, Timestamp};
use crate::index::{AvailIndex, Entry, Order};
use crate::setup::{QueueSetup, RoutingSetup, Strategy};

/// The capacity every agent has, against which channel costs are counted.
pub const AGENT_CAPACITY: u16 = 100;

/// One index per [`Order`] in use, so at most this many.
const MAX_INDEXES: usize = 3;

/// An agent's sort key in each index (unused slots are zero).
type SortKeys = [(u64, u64); MAX_INDEXES];

/// Queue order: higher priority first (stored inverted), then earlier arrival, then id.
type OrderKey = (u8, u64, u64);

type GroupIx = u32;

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Timer {
    Step(InteractionId),
    Offer(InteractionId),
    WrapUp(InteractionId),
}

#[derive(Debug)]
struct QueueState {
    setup: QueueSetup,
    /// Which of the engine's indexes orders agents for this queue's strategy.
    index: usize,
    channels: u8,
    waiting: u32,
    /// Members who are logged in (not offline), for estimated wait times.
    staffed: u32,
    /// Moving average of observed handle times (talk plus wrap-up), in milliseconds.
    handle_ms: f64,
    groups: Vec<GroupIx>,
}

#[derive(Debug)]
struct AgentState {
    /// Skills and queue memberships as sorted `(key, level)` pairs.
    levels: Vec<Req>,
    /// For each index, the pairs of `levels` whose keys that index keeps.
    index_keys: Vec<Vec<Req>>,
    queues: Vec<crate::ids::QueueId>,
    max_per_channel: [u8; 4],
    auto_accept: bool,
    presence: Presence,
    load: u16,
    counts: [u8; 4],
    /// Interactions offered to, connected to or in wrap-up with this agent.
    work: Vec<InteractionId>,
    /// How many of `work` are in wrap-up, so that the agent's activity is known without
    /// looking at its interactions.
    wrapping: u8,
    idle_since: Timestamp,
    last_offer: u64,
    /// The activity and presence last reported in an event.
    reported: (AgentActivity, Presence),
    /// How the agent is currently entered in the indexes: channel mask and sort keys.
    indexed: Option<(u8, SortKeys)>,
    /// Bumped whenever the agent's index entries stop being valid (see [`crate::index`]).
    generation: u32,
}

#[derive(Clone, Copy, Debug)]
enum State {
    Waiting { group: GroupIx },
    Offered { agent: AgentId, expires_at: Timestamp },
    Connected { agent: AgentId, since: Timestamp },
    WrapUp { agent: AgentId, until: Timestamp, since: Timestamp },
}

#[derive(Debug)]
struct Interaction {
    channel: Channel,
    queue: QueueId,
    priority: Priority,
    requirements: Vec<(crate::ids::SkillId, Level)>,
    enqueued_at: Timestamp,
    step: usize,
    state: State,
    /// Agents who rejected this interaction; it is not offered to them again.
    declined: Vec<AgentId>,
}

impl Interaction {
    fn order_key(&self, id: InteractionId) -> OrderKey {
        (u8::MAX - self.priority.get(), self.enqueued_at.as_millis(), id.0)
    }
}

#[derive(Debug)]
struct Group {
    waiting: BTreeSet<OrderKey>,
}

/// What an agent looking for work reads of a group, kept together in one small record so
/// that groups which cannot beat the best head found so far are passed over cheaply.
#[derive(Clone, Copy, Debug)]
struct GroupHead {
    /// The first waiting interaction, or [`EMPTY`] when none waits.
    head: OrderKey,
    channel: Channel,
    criteria: CriteriaIx,
    /// Visit mark, so that one search looks at a group once.
    seen: u32,
    /// Waiting interactions that some agent has rejected; while zero, the head can be taken
    /// without looking at who declined it.
    declines: u32,
}

/// The head of an empty group: after every real key.
const EMPTY: OrderKey = (u8::MAX, u64::MAX, u64::MAX);

/// Read-only view of one interaction, for APIs and tests.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum InteractionStatus {
    Waiting { step: usize },
    Offered { agent: AgentId, expires_at: Timestamp },
    Connected { agent: AgentId },
    WrapUp { agent: AgentId, until: Timestamp },
}

/// Live figures of one queue.
#[derive(Clone, Copy, PartialEq, Debug)]
pub struct QueueStats {
    pub waiting: u32,
    pub staffed: u32,
    pub oldest_enqueued_at: Option<Timestamp>,
    pub average_handle_time: Duration,
    /// `None` when no agent of the queue is logged in.
    pub estimated_wait: Option<Duration>,
}

/// Waiting and connected interactions and agents' presences to rebuild an engine from,
/// after a restart. See [`Engine::restore`].
#[derive(Clone, Debug, Default)]
pub struct RestoreState {
    pub presences: Vec<(AgentId, Presence)>,
    /// Interactions an agent was handling, with the moment they were connected.
    pub connected: Vec<(NewInteraction, AgentId, Timestamp)>,
    /// Interactions that were waiting or being offered, with their original arrival times.
    pub waiting: Vec<(NewInteraction, Timestamp)>,
}

/// The routing engine of one tenant. See the module documentation.
#[derive(Debug)]
pub struct Engine {
    skill_count: u32,
    costs: [u8; 4],
    missed_reason: ReasonId,
    queues: Vec<QueueState>,
    agents: Vec<AgentState>,
    interactions: FxHashMap<InteractionId, Interaction>,
    criteria: CriteriaTable,
    groups: Vec<Group>,
    group_lookup: FxHashMap<(QueueId, Channel, CriteriaIx), GroupIx>,
    /// For every key, the groups one of whose clauses draws candidates from that key; an
    /// agent looking for work visits the groups of the keys it holds.
    groups_by_key: Vec<Vec<GroupIx>>,
    heads: Vec<GroupHead>,
    seen_stamp: u32,
    indexes: Vec<AvailIndex>,
    /// For each index, whether a key's sets are kept: only keys that can start a candidate
    /// search for a queue ordered by that index (memberships, overflow and rank skills).
    indexed_keys: Vec<Vec<bool>>,
    /// Criteria of interactions without requirements of their own, by queue and step.
    plain_criteria: Vec<Vec<Option<CriteriaIx>>>,
    /// How many agents hold each key, to pick the most selective requirement.
    holders: Vec<u32>,
    /// Pending timers, earliest first. A timer is cancelled by changing the state it was set
    /// for, not by finding it here: one that comes up no longer matching its interaction's
    /// state ([`Engine::timer_is_live`]) is dropped. After every call the earliest is live,
    /// so [`Engine::poll_timeout`] is exact.
    timers: BinaryHeap<Reverse<(Timestamp, Timer)>>,
    /// Whether the earliest timer may no longer stand: one was cancelled or taken off since
    /// the front was last checked.
    recheck_timers: bool,
    events: VecDeque<EventRecord>,
    offer_seq: u64,
}

/// The channels an agent has room for now, one bit per [`Channel::index`]: none unless
/// available; otherwise those under their own maximum whose cost fits the load.
fn room_mask(a: &AgentState, costs: &[u8; 4]) -> u8 {
    if a.presence != Presence::Available {
        return 0;
    }
    let mut mask = 0;
    for (c, ((&count, &max), &cost)) in a.counts.iter().zip(&a.max_per_channel).zip(costs).enumerate() {
        if count < max && a.load + u16::from(cost) <= AGENT_CAPACITY {
            mask |= 1 << c;
        }
    }
    mask
}

/// Gives back the capacity interaction `id` (`i`, which may have left the engine already)
/// held with agent `a`; the caller brings the index up to date.
fn give_back(a: &mut AgentState, costs: &[u8; 4], now: Timestamp, id: InteractionId, i: &Interaction) {
    let (channel, wrapped) = (i.channel, matches!(i.state, State::WrapUp { .. }));
    a.wrapping -= u8::from(wrapped);
    a.load -= u16::from(costs[channel.index()]);
    a.counts[channel.index()] -= 1;
    a.work.retain(|w| *w != id);
    a.idle_since = now;
}

/// An agent's keys: skills at their levels and queue memberships at level 1, sorted; and for
/// each index, those of them the index keeps.
fn agent_keys(
    skill_count: u32,
    skills: &[(SkillId, Level)],
    queues: &[QueueId],
    indexed_keys: &[Vec<bool>],
) -> (Vec<Req>, Vec<Vec<Req>>) {
    let mut levels: BTreeMap<Key, u8> = skills.iter().map(|(s, l)| (u32::from(s.0), l.get())).collect();
    for q in queues {
        levels.insert(skill_count + u32::from(q.0), 1);
    }
    let levels: Vec<Req> = levels.into_iter().collect();
    let index_keys =
        indexed_keys.iter().map(|keys| levels.iter().copied().filter(|(k, _)| keys[*k as usize]).collect()).collect();
    (levels, index_keys)
}

fn order_for(strategy: Strategy) -> Order {
    match strategy {
        Strategy::LongestIdle | Strategy::MostSkilled => Order::IdleSince,
        Strategy::RoundRobin => Order::LastOffer,
        Strategy::LeastOccupied => Order::Load,
    }
}

impl Engine {
    /// Builds an engine with every agent offline and nothing waiting.
    pub fn new(setup: RoutingSetup) -> Result<Engine, SetupError> {
        let skill_count = u32::from(setup.skill_count);
        let queue_count = setup.queues.len();
        if queue_count > usize::from(u16::MAX) {
            return Err(SetupError::TooManyQueues(queue_count));
        }
        for channel in Channel::ALL {
            let cost = setup.channel_costs[channel.index()];
            if !(1..=100).contains(&cost) {
                return Err(SetupError::ChannelCost { channel, cost });
            }
        }
        let skill_ok = |s: crate::ids::SkillId| u32::from(s.0) < skill_count;
        let queue_ok = |q: QueueId| q.index() < queue_count;
        for (qi, q) in setup.queues.iter().enumerate() {
            if let Some(&(skill, _)) = q.skills.iter().find(|(s, _)| !skill_ok(*s)) {
                return Err(SetupError::QueueSkill { queue: qi, skill, count: setup.skill_count });
            }
            if q.channels.is_empty() {
                return Err(SetupError::NoChannel { queue: qi });
            }
            let mut previous = Duration::ZERO;
            for (si, step) in q.steps.iter().enumerate() {
                if step.after <= previous {
                    return Err(SetupError::StepOrder { queue: qi, step: si });
                }
                previous = step.after;
                let refs_ok = step.require.iter().all(|(s, _)| skill_ok(*s))
                    && step.drop.iter().all(|s| skill_ok(*s))
                    && step.overflow_queues.iter().all(|q| queue_ok(*q))
                    && step.overflow_skills.iter().all(|(s, _)| skill_ok(*s));
                if !refs_ok {
                    return Err(SetupError::StepReference { queue: qi, step: si });
                }
            }
        }
        for (ai, a) in setup.agents.iter().enumerate() {
            if !a.skills.iter().all(|(s, _)| skill_ok(*s)) || !a.queues.iter().all(|q| queue_ok(*q)) {
                return Err(SetupError::AgentReference { agent: ai });
            }
        }

        let key_count = skill_count as usize + queue_count;
        let mut orders: Vec<Order> = Vec::new();
        let queues = setup
            .queues
            .into_iter()
            .map(|q| {
                let order = order_for(q.strategy);
                let index = orders.iter().position(|o| *o == order).unwrap_or_else(|| {
                    orders.push(order);
                    orders.len() - 1
                });
                let channels = q.channels.iter().fold(0u8, |m, c| m | (1 << c.index()));
                QueueState {
                    handle_ms: q.expected_handle_time.as_millis() as f64,
                    setup: q,
                    index,
                    channels,
                    waiting: 0,
                    staffed: 0,
                    groups: Vec::new(),
                }
            })
            .collect::<Vec<QueueState>>();
        // The keys each index keeps: those a candidate search of one of its queues can start
        // from. The primary clause always holds the home queue's membership; overflow clauses
        // hold their queue or skill; most-skilled queues rank by their first skill.
        let mut indexed_keys = vec![vec![false; key_count]; orders.len()];
        for (qi, q) in queues.iter().enumerate() {
            let keys = &mut indexed_keys[q.index];
            keys[skill_count as usize + qi] = true;
            if q.setup.strategy == Strategy::MostSkilled
                && let Some((s, _)) = q.setup.skills.first()
            {
                keys[s.index()] = true;
            }
            for step in &q.setup.steps {
                for oq in &step.overflow_queues {
                    keys[skill_count as usize + oq.index()] = true;
                }
                for (s, _) in &step.overflow_skills {
                    keys[s.index()] = true;
                }
            }
        }
        let plain_criteria = queues.iter().map(|q| vec![None; q.setup.steps.len() + 1]).collect();
        let mut holders = vec![0u32; key_count];
        let agents = setup
            .agents
            .into_iter()
            .map(|a| {
                let (levels, index_keys) = agent_keys(skill_count, &a.skills, &a.queues, &indexed_keys);
                for (key, _) in &levels {
                    holders[*key as usize] += 1;
                }
                AgentState {
                    levels,
                    index_keys,
                    queues: a.queues,
                    max_per_channel: a.max_per_channel,
                    auto_accept: a.auto_accept,
                    presence: Presence::Offline,
                    load: 0,
                    counts: [0; 4],
                    work: Vec::new(),
                    wrapping: 0,
                    idle_since: Timestamp::ZERO,
                    last_offer: 0,
                    reported: (AgentActivity::Offline, Presence::Offline),
                    indexed: None,
                    generation: 0,
                }
            })
            .collect();
        Ok(Engine {
            skill_count,
            costs: setup.channel_costs,
            missed_reason: setup.missed_reason,
            queues,
            agents,
            interactions: FxHashMap::default(),
            criteria: CriteriaTable::default(),
            groups: Vec::new(),
            group_lookup: FxHashMap::default(),
            groups_by_key: vec![Vec::new(); key_count],
            heads: Vec::new(),
            seen_stamp: 0,
            indexes: orders.into_iter().map(|o| AvailIndex::new(o, key_count)).collect(),
            indexed_keys,
            plain_criteria,
            holders,
            timers: BinaryHeap::new(),
            recheck_timers: false,
            events: VecDeque::new(),
            offer_seq: 0,
        })
    }

    // ----- Public driving interface -------------------------------------------------------

    /// Applies one command at `now`. Timers due at or before `now` fire first. A refused
    /// command changes nothing.
    pub fn handle(&mut self, now: Timestamp, command: Command) -> Result<(), CommandError> {
        self.handle_timeout(now);
        let result = match command {
            Command::Enqueue(new) => self.enqueue(now, new),
            Command::Abandon { interaction } => self.abandon(now, interaction),
            Command::Accept { interaction, agent } => self.accept(now, interaction, agent),
            Command::Reject { interaction, agent } => self.reject(now, interaction, agent),
            Command::Complete { interaction, agent } => self.complete(now, interaction, agent),
            Command::Transfer { interaction, agent, to } => self.transfer(now, interaction, agent, to),
            Command::SetSkills { agent, skills } => self.set_skills(now, agent, &skills),
            Command::EndWrapUp { interaction, agent } => match self.interactions.get(&interaction).map(|i| i.state) {
                Some(State::WrapUp { agent: a, .. }) if a == agent => {
                    self.recheck_timers = true;
                    self.end_wrap_up(now, interaction, agent);
                    Ok(())
                }
                Some(_) => Err(CommandError::NotInWrapUp { interaction, agent }),
                None => Err(CommandError::UnknownInteraction(interaction)),
            },
            Command::SetPresence { agent, presence } => self.set_presence(now, agent, presence),
        };
        self.settle_timers();
        result
    }

    /// Fires every timer due at or before `now`, each at its own moment.
    pub fn handle_timeout(&mut self, now: Timestamp) {
        while let Some(&Reverse((at, timer))) = self.timers.peek() {
            if at > now {
                break;
            }
            self.timers.pop();
            self.recheck_timers = true;
            if !self.timer_is_live(at, timer) {
                continue;
            }
            match timer {
                Timer::Step(id) => self.step_timer(at, id),
                Timer::Offer(id) => self.offer_timer(at, id),
                Timer::WrapUp(id) => {
                    if let Some(State::WrapUp { agent, .. }) = self.interactions.get(&id).map(|i| i.state) {
                        self.end_wrap_up(at, id, agent);
                    }
                }
            }
        }
        self.settle_timers();
    }

    /// Whether a timer set for `at` still stands: its interaction is in the state the timer
    /// was set for, due at `at` (waiting for its next routing step, offered, in wrap-up).
    fn timer_is_live(&self, at: Timestamp, timer: Timer) -> bool {
        let (Timer::Step(id) | Timer::Offer(id) | Timer::WrapUp(id)) = timer;
        let Some(i) = self.interactions.get(&id) else {
            return false;
        };
        match (timer, i.state) {
            (Timer::Step(_), State::Waiting { .. }) => {
                let steps = &self.queues[i.queue.index()].setup.steps;
                steps.get(i.step).is_some_and(|s| i.enqueued_at.after(s.after) == at)
            }
            (Timer::Offer(_), State::Offered { expires_at, .. }) => expires_at == at,
            (Timer::WrapUp(_), State::WrapUp { until, .. }) => until == at,
            _ => false,
        }
    }

    /// Drops cancelled timers from the front, so that the earliest pending one is live.
    fn settle_timers(&mut self) {
        if !std::mem::take(&mut self.recheck_timers) {
            return;
        }
        while let Some(&Reverse((at, timer))) = self.timers.peek() {
            if self.timer_is_live(at, timer) {
                break;
            }
            self.timers.pop();
        }
    }

    /// The next event, oldest first.
    pub fn poll_event(&mut self) -> Option<EventRecord> {
        self.events.pop_front()
    }

    /// When [`Engine::handle_timeout`] should next be called, if ever.
    pub fn poll_timeout(&self) -> Option<Timestamp> {
        self.timers.peek().map(|Reverse((at, _))| *at)
    }

    /// Rebuilds state after a restart: presences first, then interactions in the hands of
    /// agents, then waiting interactions at their original places. None of this is reported
    /// as events (it is already in the log); offers made once everything is back are.
    pub fn restore(&mut self, now: Timestamp, state: RestoreState) -> Result<(), CommandError> {
        for (agent, presence) in state.presences {
            self.check_agent(agent)?;
            self.apply_presence(agent, presence);
            self.agents[agent.index()].idle_since = now;
            self.agents[agent.index()].reported = (self.activity(agent), self.agents[agent.index()].presence);
        }
        for (new, agent, since) in state.connected {
            self.check_agent(agent)?;
            self.check_new(&new)?;
            let cost = u16::from(self.costs[new.channel.index()]);
            let id = new.id;
            let interaction = self.make_interaction(new, since);
            let channel = interaction.channel;
            self.interactions.insert(id, Interaction { state: State::Connected { agent, since }, ..interaction });
            let a = &mut self.agents[agent.index()];
            a.load += cost;
            a.counts[channel.index()] += 1;
            a.work.push(id);
            self.agents[agent.index()].reported = (self.activity(agent), self.agents[agent.index()].presence);
        }
        let mut waiting = state.waiting;
        waiting.sort_by_key(|(new, at)| (*at, new.id));
        for (new, enqueued_at) in waiting {
            self.check_new(&new)?;
            let id = new.id;
            let interaction = self.make_interaction(new, enqueued_at);
            self.queues[interaction.queue.index()].waiting += 1;
            self.interactions.insert(id, interaction);
            self.place(now, id, false);
        }
        for agent in 0..self.agents.len() {
            self.reindex(AgentId(agent as u32));
        }
        for agent in 0..self.agents.len() {
            self.pull(now, AgentId(agent as u32));
        }
        self.recheck_timers = true;
        self.settle_timers();
        Ok(())
    }

    // ----- Queries --------------------------------------------------------------------------

    /// Where an interaction stands, or `None` once it has left the engine.
    pub fn interaction(&self, id: InteractionId) -> Option<InteractionStatus> {
        self.interactions.get(&id).map(|i| match i.state {
            State::Waiting { .. } => InteractionStatus::Waiting { step: i.step },
            State::Offered { agent, expires_at } => InteractionStatus::Offered { agent, expires_at },
            State::Connected { agent, .. } => InteractionStatus::Connected { agent },
            State::WrapUp { agent, until, .. } => InteractionStatus::WrapUp { agent, until },
        })
    }

    /// An agent's reported state.
    pub fn agent_activity(&self, agent: AgentId) -> Option<AgentActivity> {
        self.agents.get(agent.index()).map(|a| a.reported.0)
    }

    /// An agent's presence, capacity in use (out of [`AGENT_CAPACITY`]) and interactions per
    /// channel.
    pub fn agent_load(&self, agent: AgentId) -> Option<(Presence, u16, [u8; 4])> {
        self.agents.get(agent.index()).map(|a| (a.presence, a.load, a.counts))
    }

    /// The interactions an agent holds (offered, connected or in wrap-up), oldest first.
    pub fn agent_work(&self, agent: AgentId) -> &[InteractionId] {
        self.agents.get(agent.index()).map_or(&[], |a| &a.work)
    }

    pub fn agent_count(&self) -> usize {
        self.agents.len()
    }

    pub fn queue_count(&self) -> usize {
        self.queues.len()
    }

    /// The waiting interactions of a queue, in the order they will be served when every
    /// agent qualifies for all of them.
    pub fn waiting(&self, queue: QueueId) -> Vec<InteractionId> {
        let Some(q) = self.queues.get(queue.index()) else {
            return Vec::new();
        };
        let mut keys: Vec<OrderKey> =
            q.groups.iter().flat_map(|g| self.groups[*g as usize].waiting.iter().copied()).collect();
        keys.sort_unstable();
        keys.into_iter().map(|(_, _, id)| InteractionId(id)).collect()
    }

    /// Live figures of a queue.
    pub fn queue_stats(&self, queue: QueueId) -> Option<QueueStats> {
        let q = self.queues.get(queue.index())?;
        let oldest = q
            .groups
            .iter()
            .filter_map(|g| self.groups[*g as usize].waiting.iter().map(|k| k.1).min())
            .min()
            .map(Timestamp::from_millis);
        Some(QueueStats {
            waiting: q.waiting,
            staffed: q.staffed,
            oldest_enqueued_at: oldest,
            average_handle_time: Duration::from_millis(q.handle_ms as u64),
            estimated_wait: self.wait_for_position(q, q.waiting as u64 + 1),
        })
    }

    /// The estimated wait of a waiting interaction from now: its position in the queue
    /// times the queue's average handle time, divided among the logged-in members. `None`
    /// when it is not waiting or nobody is logged in.
    pub fn estimated_wait(&self, id: InteractionId) -> Option<Duration> {
        let i = self.interactions.get(&id)?;
        let State::Waiting { .. } = i.state else {
            return None;
        };
        let q = &self.queues[i.queue.index()];
        let key = i.order_key(id);
        let ahead: usize = q.groups.iter().map(|g| self.groups[*g as usize].waiting.range(..key).count()).sum();
        self.wait_for_position(q, ahead as u64 + 1)
    }

    fn wait_for_position(&self, q: &QueueState, position: u64) -> Option<Duration> {
        (q.staffed > 0).then(|| Duration::from_millis((position as f64 * q.handle_ms / f64::from(q.staffed)) as u64))
    }

    // ----- Commands -------------------------------------------------------------------------

    fn check_agent(&self, agent: AgentId) -> Result<(), CommandError> {
        if agent.index() < self.agents.len() { Ok(()) } else { Err(CommandError::UnknownAgent(agent)) }
    }

    fn check_new(&self, new: &NewInteraction) -> Result<(), CommandError> {
        if self.interactions.contains_key(&new.id) {
            return Err(CommandError::DuplicateInteraction(new.id));
        }
        let q = self.queues.get(new.queue.index()).ok_or(CommandError::UnknownQueue(new.queue))?;
        if q.channels & (1 << new.channel.index()) == 0 {
            return Err(CommandError::ChannelNotServed { queue: new.queue, channel: new.channel });
        }
        if let Some(&(skill, _)) = new.requirements.iter().find(|(s, _)| u32::from(s.0) >= self.skill_count) {
            return Err(CommandError::UnknownSkill(skill));
        }
        Ok(())
    }

    fn make_interaction(&self, new: NewInteraction, enqueued_at: Timestamp) -> Interaction {
        let q = &self.queues[new.queue.index()];
        Interaction {
            channel: new.channel,
            queue: new.queue,
            priority: new.priority.unwrap_or(q.setup.priority),
            requirements: new.requirements,
            enqueued_at,
            step: 0,
            state: State::Waiting { group: GroupIx::MAX },
            declined: Vec::new(),
        }
    }

    fn enqueue(&mut self, now: Timestamp, new: NewInteraction) -> Result<(), CommandError> {
        self.check_new(&new)?;
        let id = new.id;
        let interaction = self.make_interaction(new, now);
        self.emit(
            now,
            Event::Queued {
                interaction: id,
                queue: interaction.queue,
                channel: interaction.channel,
                priority: interaction.priority,
            },
        );
        self.queues[interaction.queue.index()].waiting += 1;
        self.interactions.insert(id, interaction);
        self.place(now, id, true);
        Ok(())
    }

    fn abandon(&mut self, now: Timestamp, id: InteractionId) -> Result<(), CommandError> {
        let i = self.interactions.get(&id).ok_or(CommandError::UnknownInteraction(id))?;
        match i.state {
            State::Waiting { group } => self.unwait(id, group),
            State::Offered { agent, .. } => {
                self.recheck_timers = true;
                self.emit(now, Event::OfferCancelled { interaction: id, agent, reason: CancelReason::CustomerLeft });
                self.release(now, agent, id);
            }
            State::Connected { .. } | State::WrapUp { .. } => {
                return Err(CommandError::AlreadyConnected(id));
            }
        }
        let i = self.interactions.remove(&id).expect("checked above");
        self.queues[i.queue.index()].waiting -= 1;
        self.emit(now, Event::Abandoned { interaction: id, queue: i.queue, waited: now.since(i.enqueued_at) });
        if let State::Offered { agent, .. } = i.state {
            self.after_agent_change(now, agent);
        }
        Ok(())
    }

    fn offered_to(&self, id: InteractionId, agent: AgentId) -> Result<Timestamp, CommandError> {
        match self.interactions.get(&id).map(|i| i.state) {
            Some(State::Offered { agent: a, expires_at }) if a == agent => Ok(expires_at),
            Some(_) => Err(CommandError::NotOffered { interaction: id, agent }),
            None => Err(CommandError::UnknownInteraction(id)),
        }
    }

    fn accept(&mut self, now: Timestamp, id: InteractionId, agent: AgentId) -> Result<(), CommandError> {
        self.offered_to(id, agent)?;
        self.recheck_timers = true;
        self.connect(now, id, agent);
        Ok(())
    }

    /// An offered interaction is answered: it stops waiting and is the agent's.
    fn connect(&mut self, now: Timestamp, id: InteractionId, agent: AgentId) {
        let i = self.interactions.get_mut(&id).expect("connecting a known interaction");
        i.state = State::Connected { agent, since: now };
        let queue = i.queue;
        self.connected(now, id, agent, queue);
    }

    /// The rest of [`Engine::connect`] once the interaction's state says so.
    fn connected(&mut self, now: Timestamp, id: InteractionId, agent: AgentId, queue: QueueId) {
        self.queues[queue.index()].waiting -= 1;
        self.emit(now, Event::Accepted { interaction: id, agent });
    }

    fn reject(&mut self, now: Timestamp, id: InteractionId, agent: AgentId) -> Result<(), CommandError> {
        self.offered_to(id, agent)?;
        self.recheck_timers = true;
        self.emit(now, Event::Rejected { interaction: id, agent });
        self.interactions.get_mut(&id).expect("checked above").declined.push(agent);
        self.release(now, agent, id);
        self.place(now, id, true);
        self.after_agent_change(now, agent);
        Ok(())
    }

    fn complete(&mut self, now: Timestamp, id: InteractionId, agent: AgentId) -> Result<(), CommandError> {
        let i = self.interactions.get_mut(&id).ok_or(CommandError::UnknownInteraction(id))?;
        let State::Connected { agent: a, since } = i.state else {
            return Err(CommandError::NotConnected { interaction: id, agent });
        };
        if a != agent {
            return Err(CommandError::NotConnected { interaction: id, agent });
        }
        let wrap_up = self.queues[i.queue.index()].setup.wrap_up;
        if wrap_up.is_zero() {
            self.emit(now, Event::Completed { interaction: id, agent, wrap_up_until: None });
            self.finish(now, id, agent, since);
        } else {
            let until = now.after(wrap_up);
            i.state = State::WrapUp { agent, until, since };
            self.agents[agent.index()].wrapping += 1;
            self.timers.push(Reverse((until, Timer::WrapUp(id))));
            self.emit(now, Event::Completed { interaction: id, agent, wrap_up_until: Some(until) });
            self.after_agent_change(now, agent);
        }
        Ok(())
    }

    fn transfer(
        &mut self,
        now: Timestamp,
        id: InteractionId,
        agent: AgentId,
        to: TransferTarget,
    ) -> Result<(), CommandError> {
        let i = self.interactions.get(&id).ok_or(CommandError::UnknownInteraction(id))?;
        if !matches!(i.state, State::Connected { agent: a, .. } if a == agent) {
            return Err(CommandError::NotConnected { interaction: id, agent });
        }
        let channel = i.channel;
        let queue = match to {
            TransferTarget::Queue(q) => {
                let setup = &self.queues.get(q.index()).ok_or(CommandError::UnknownQueue(q))?.setup;
                if !setup.channels.contains(&channel) {
                    return Err(CommandError::ChannelNotServed { queue: q, channel });
                }
                q
            }
            TransferTarget::Agent(b) => {
                self.check_agent(b)?;
                if b == agent {
                    return Err(CommandError::TransferToSelf(id));
                }
                if !self.has_room(b, channel) {
                    return Err(CommandError::NoRoom(b));
                }
                i.queue
            }
        };
        self.emit(now, Event::Transferred { interaction: id, from: agent, to });
        self.release(now, agent, id);
        let i = self.interactions.get_mut(&id).expect("checked above");
        i.queue = queue;
        i.enqueued_at = now;
        i.step = 0;
        i.declined.clear();
        i.state = State::Waiting { group: GroupIx::MAX };
        // Waiting or offered counts as waiting in the queue until accepted.
        self.queues[queue.index()].waiting += 1;
        match to {
            TransferTarget::Queue(_) => self.place(now, id, true),
            TransferTarget::Agent(b) => self.offer(now, id, b, 0),
        }
        self.after_agent_change(now, agent);
        Ok(())
    }

    /// Whether an available agent can take one more interaction of this channel.
    fn has_room(&self, agent: AgentId, channel: Channel) -> bool {
        room_mask(&self.agents[agent.index()], &self.costs) & (1 << channel.index()) != 0
    }

    fn end_wrap_up(&mut self, now: Timestamp, id: InteractionId, agent: AgentId) {
        let Some(State::WrapUp { since, .. }) = self.interactions.get(&id).map(|i| i.state) else {
            return;
        };
        self.emit(now, Event::WrapUpEnded { interaction: id, agent });
        self.finish(now, id, agent, since);
    }

    /// The interaction leaves the engine; its handle time feeds the queue's average.
    fn finish(&mut self, now: Timestamp, id: InteractionId, agent: AgentId, since: Timestamp) {
        let i = self.interactions.remove(&id).expect("finishing a known interaction");
        // The index is brought up to date once, below.
        give_back(&mut self.agents[agent.index()], &self.costs, now, id, &i);
        let q = &mut self.queues[i.queue.index()];
        q.handle_ms += (now.since(since).as_millis() as f64 - q.handle_ms) / 8.0;
        self.after_agent_change(now, agent);
    }

    fn set_presence(&mut self, now: Timestamp, agent: AgentId, presence: Presence) -> Result<(), CommandError> {
        self.check_agent(agent)?;
        if self.agents[agent.index()].presence == presence {
            return Ok(());
        }
        if presence != Presence::Available {
            // Offers not yet answered go back to their queues; work in progress stays.
            self.apply_presence(agent, presence);
            self.reindex(agent);
            let back = self.withdraw_offers(now, agent);
            self.requeue(now, back);
        } else {
            self.apply_presence(agent, presence);
            if self.agents[agent.index()].work.is_empty() {
                self.agents[agent.index()].idle_since = now;
            }
        }
        self.after_agent_change(now, agent);
        Ok(())
    }

    /// Sets the presence and keeps the queues' staffed counts in step.
    fn apply_presence(&mut self, agent: AgentId, presence: Presence) {
        let a = &mut self.agents[agent.index()];
        let was_in = a.presence != Presence::Offline;
        let is_in = presence != Presence::Offline;
        a.presence = presence;
        if was_in != is_in {
            for q in &a.queues {
                let staffed = &mut self.queues[q.index()].staffed;
                if is_in { *staffed += 1 } else { *staffed -= 1 }
            }
        }
    }

    // ----- Timers ---------------------------------------------------------------------------

    fn step_timer(&mut self, at: Timestamp, id: InteractionId) {
        let Some(State::Waiting { group }) = self.interactions.get(&id).map(|i| i.state) else {
            return;
        };
        self.unwait(id, group);
        self.place(at, id, true);
    }

    fn offer_timer(&mut self, at: Timestamp, id: InteractionId) {
        let Some(State::Offered { agent, .. }) = self.interactions.get(&id).map(|i| i.state) else {
            return;
        };
        self.emit(at, Event::OfferTimedOut { interaction: id, agent });
        self.apply_presence(agent, Presence::NotReady(self.missed_reason));
        self.release(at, agent, id);
        self.report(at, agent);
        // The agent's other unanswered offers are withdrawn too: they are not at the desk.
        let mut back = self.withdraw_offers(at, agent);
        back.push(id);
        self.requeue(at, back);
        self.after_agent_change(at, agent);
    }

    /// Cancels every offer an agent has not answered yet and returns those interactions.
    fn withdraw_offers(&mut self, now: Timestamp, agent: AgentId) -> Vec<InteractionId> {
        let offered: Vec<(InteractionId, Timestamp)> = self.agents[agent.index()]
            .work
            .iter()
            .filter_map(|w| match self.interactions[w].state {
                State::Offered { expires_at, .. } => Some((*w, expires_at)),
                _ => None,
            })
            .collect();
        self.recheck_timers |= !offered.is_empty();
        for &(id, _) in &offered {
            self.emit(now, Event::OfferCancelled { interaction: id, agent, reason: CancelReason::AgentUnavailable });
            self.release(now, agent, id);
        }
        offered.into_iter().map(|(id, _)| id).collect()
    }

    /// Routes interactions that came back from an agent, in queue order, so that none
    /// overtakes another that arrived before it.
    fn requeue(&mut self, now: Timestamp, mut ids: Vec<InteractionId>) {
        ids.sort_by_key(|id| self.interactions[id].order_key(*id));
        for id in ids {
            self.place(now, id, true);
        }
    }

    // ----- Matching -------------------------------------------------------------------------

    /// Routes a waiting interaction that is in no group: offers it to the best available
    /// agent or files it in the group of its current criteria. With `announce`, reaching
    /// a new step is reported.
    fn place(&mut self, now: Timestamp, id: InteractionId, announce: bool) {
        let i = &self.interactions[&id];
        let q = &self.queues[i.queue.index()];
        let waited = now.since(i.enqueued_at);
        let step = q.setup.steps.iter().take_while(|s| s.after <= waited).count();
        let (channel, queue, old_step) = (i.channel, i.queue, i.step);
        let criteria = match self.plain_criteria[queue.index()][step] {
            Some(c) if i.requirements.is_empty() => c,
            _ => {
                let spec = self.criteria_spec(i, step);
                let allowed = &self.indexed_keys[q.index];
                let c = self.criteria.intern(spec, &self.holders, allowed);
                if i.requirements.is_empty() {
                    self.plain_criteria[queue.index()][step] = Some(c);
                }
                c
            }
        };
        let best = self.best_agent(criteria, channel, queue, &i.declined);
        if announce && step > old_step {
            self.emit(now, Event::StepReached { interaction: id, step: step as u8 });
        }
        if let Some(agent) = best {
            self.offer(now, id, agent, step);
            return;
        }
        let group = self.group(queue, channel, criteria);
        let i = self.interactions.get_mut(&id).expect("placing a known interaction");
        i.step = step;
        i.state = State::Waiting { group };
        let key = i.order_key(id);
        let declined = !i.declined.is_empty();
        let next_step = self.queues[queue.index()].setup.steps.get(step).map(|s| i.enqueued_at.after(s.after));
        let (g, head) = (&mut self.groups[group as usize], &mut self.heads[group as usize]);
        g.waiting.insert(key);
        head.head = head.head.min(key);
        head.declines += u32::from(declined);
        if let Some(at) = next_step {
            self.timers.push(Reverse((at, Timer::Step(id))));
        }
    }

    /// Takes a waiting interaction out of its group and cancels its step timer.
    fn unwait(&mut self, id: InteractionId, group: GroupIx) {
        let i = &self.interactions[&id];
        let (g, head) = (&mut self.groups[group as usize], &mut self.heads[group as usize]);
        g.waiting.remove(&i.order_key(id));
        head.head = g.waiting.first().copied().unwrap_or(EMPTY);
        head.declines -= u32::from(!i.declined.is_empty());
        // Its step timer, if it has one, no longer stands.
        self.recheck_timers = true;
    }

    /// The clauses an interaction's criteria consist of at routing step `step`.
    fn criteria_spec(&self, i: &Interaction, step: usize) -> Vec<ClauseSpec> {
        let q = &self.queues[i.queue.index()].setup;
        let skill_key = |s: crate::ids::SkillId| u32::from(s.0);
        let queue_key = |q: QueueId| self.skill_count + u32::from(q.0);
        let mut primary: BTreeMap<Key, u8> = BTreeMap::new();
        primary.insert(queue_key(i.queue), 1);
        for &(s, l) in q.skills.iter().chain(&i.requirements) {
            let level = primary.entry(skill_key(s)).or_insert(0);
            *level = (*level).max(l.get());
        }
        let mut extra: Vec<ClauseSpec> = Vec::new();
        for st in &q.steps[..step] {
            for &(s, l) in &st.require {
                primary.insert(skill_key(s), l.get());
            }
            for &s in &st.drop {
                primary.remove(&skill_key(s));
            }
            for &oq in &st.overflow_queues {
                extra.push((vec![(queue_key(oq), 1)], None));
            }
            for &(s, l) in &st.overflow_skills {
                extra.push((vec![(skill_key(s), l.get())], Some(skill_key(s))));
            }
        }
        let rank = q.skills.first().map(|(s, _)| skill_key(*s)).filter(|k| primary.contains_key(k));
        let mut clauses = vec![(primary.into_iter().collect::<Vec<_>>(), rank)];
        for c in extra {
            if !clauses.contains(&c) {
                clauses.push(c);
            }
        }
        clauses
    }

    fn group(&mut self, queue: QueueId, channel: Channel, criteria: CriteriaIx) -> GroupIx {
        if let Some(&g) = self.group_lookup.get(&(queue, channel, criteria)) {
            return g;
        }
        let g = self.groups.len() as GroupIx;
        self.groups.push(Group { waiting: BTreeSet::new() });
        self.heads.push(GroupHead { head: EMPTY, channel, criteria, seen: 0, declines: 0 });
        self.group_lookup.insert((queue, channel, criteria), g);
        self.queues[queue.index()].groups.push(g);
        for clause in &self.criteria.get(criteria).clauses {
            let list = &mut self.groups_by_key[clause.driver.0 as usize];
            if !list.contains(&g) {
                list.push(g);
            }
        }
        g
    }

    /// The best available agent for these criteria under the queue's strategy, if any.
    fn best_agent(
        &self,
        criteria: CriteriaIx,
        channel: Channel,
        queue: QueueId,
        declined: &[AgentId],
    ) -> Option<AgentId> {
        let q = &self.queues[queue.index()];
        let index = &self.indexes[q.index];
        let most_skilled = q.setup.strategy == Strategy::MostSkilled;
        // Preference: (negated rank level for most-skilled, entry); smaller is better.
        let mut best: Option<(u8, Entry)> = None;
        for clause in &self.criteria.get(criteria).clauses {
            let eligible = |e: &Entry| {
                let agent = &self.agents[e.2 as usize];
                agent.generation == e.3 && !declined.contains(&AgentId(e.2)) && clause.matches(&agent.levels)
            };
            let found = match clause.rank {
                Some(rank) if most_skilled => {
                    let min = clause.reqs.iter().find(|r| r.0 == rank).map_or(1, |r| r.1);
                    (min..=Level::MAX.get()).rev().find_map(|level| {
                        index.set(channel, rank, level).find(|e| eligible(e)).map(|e| (u8::MAX - level, *e))
                    })
                }
                _ => {
                    let (key, min) = clause.driver;
                    index.first(channel, key, min, eligible).map(|e| (u8::MAX, e))
                }
            };
            if let Some(f) = found
                && best.is_none_or(|b| f < b)
            {
                best = Some(f);
            }
        }
        best.map(|(_, e)| AgentId(e.2))
    }

    /// Offers waiting interactions to an agent while it has capacity and something fits.
    fn pull(&mut self, now: Timestamp, agent: AgentId) {
        while let Some(id) = self.best_waiting(agent) {
            let i = &self.interactions[&id];
            let State::Waiting { group } = i.state else { unreachable!("only waiting interactions are in groups") };
            let step = i.step;
            self.unwait(id, group);
            self.offer(now, id, agent, step);
        }
    }

    /// The first in queue order among the heads of the groups this agent qualifies for.
    fn best_waiting(&mut self, agent: AgentId) -> Option<InteractionId> {
        let a = &self.agents[agent.index()];
        let mask = match &a.indexed {
            Some((mask, _)) if *mask != 0 => *mask,
            _ => return None,
        };
        self.seen_stamp = self.seen_stamp.wrapping_add(1);
        if self.seen_stamp == 0 {
            self.heads.iter_mut().for_each(|h| h.seen = 0);
            self.seen_stamp = 1;
        }
        let mut best = EMPTY;
        for &(key, _) in &a.levels {
            for &g in &self.groups_by_key[key as usize] {
                let h = &mut self.heads[g as usize];
                // Groups whose head cannot win, or of a channel without room, are skipped
                // before anything else is read.
                if h.head >= best || mask & (1 << h.channel.index()) == 0 || h.seen == self.seen_stamp {
                    continue;
                }
                h.seen = self.seen_stamp;
                let h = *h;
                if !self.criteria.get(h.criteria).matches(&a.levels) {
                    continue;
                }
                if h.declines == 0 {
                    best = h.head;
                    continue;
                }
                let head = self.groups[g as usize]
                    .waiting
                    .iter()
                    .take_while(|k| **k < best)
                    .find(|k| !self.interactions[&InteractionId(k.2)].declined.contains(&agent));
                if let Some(&k) = head {
                    best = k;
                }
            }
        }
        (best != EMPTY).then_some(InteractionId(best.2))
    }

    /// Offers an interaction at routing step `step` to an agent with room for it.
    fn offer(&mut self, now: Timestamp, id: InteractionId, agent: AgentId, step: usize) {
        let i = self.interactions.get_mut(&id).expect("offering a known interaction");
        let expires_at = now.after(self.queues[i.queue.index()].setup.offer_timeout);
        let a = &mut self.agents[agent.index()];
        // An agent who answers at once is connected now.
        i.state =
            if a.auto_accept { State::Connected { agent, since: now } } else { State::Offered { agent, expires_at } };
        i.step = step;
        let (channel, queue) = (i.channel, i.queue);
        self.offer_seq += 1;
        a.load += u16::from(self.costs[channel.index()]);
        a.counts[channel.index()] += 1;
        a.work.push(id);
        a.last_offer = self.offer_seq;
        a.idle_since = now;
        if a.auto_accept {
            // Answered at once: no offer timer, and the interaction stops waiting.
            self.emit(now, Event::Offered { interaction: id, agent, expires_at: now });
            self.connected(now, id, agent, queue);
        } else {
            self.timers.push(Reverse((expires_at, Timer::Offer(id))));
            self.emit(now, Event::Offered { interaction: id, agent, expires_at });
        }
        self.reindex(agent);
        self.report(now, agent);
    }

    /// Gives back the capacity an interaction held with an agent.
    fn release(&mut self, now: Timestamp, agent: AgentId, id: InteractionId) {
        let i = self.interactions.get(&id).expect("releasing a known interaction");
        give_back(&mut self.agents[agent.index()], &self.costs, now, id, i);
        self.reindex(agent);
    }

    /// After an agent's capacity or presence changed: update the index, report the new
    /// state, and offer it work if it can take some.
    fn after_agent_change(&mut self, now: Timestamp, agent: AgentId) {
        self.reindex(agent);
        self.report(now, agent);
        self.pull(now, agent);
    }

    fn activity(&self, agent: AgentId) -> AgentActivity {
        let a = &self.agents[agent.index()];
        debug_assert_eq!(
            usize::from(a.wrapping),
            a.work.iter().filter(|id| matches!(self.interactions[id].state, State::WrapUp { .. })).count(),
            "agent {agent}'s count of interactions in wrap-up"
        );
        if a.work.len() > usize::from(a.wrapping) {
            return AgentActivity::Busy;
        }
        match (a.wrapping > 0, a.presence) {
            (true, _) => AgentActivity::WrapUp,
            (false, Presence::Available) => AgentActivity::Available,
            (false, Presence::Offline) => AgentActivity::Offline,
            (false, Presence::NotReady(r)) => AgentActivity::NotReady(r),
        }
    }

    fn report(&mut self, now: Timestamp, agent: AgentId) {
        let state = self.activity(agent);
        let a = &mut self.agents[agent.index()];
        let presence = a.presence;
        if a.reported != (state, presence) {
            a.reported = (state, presence);
            self.emit(now, Event::AgentStateChanged { agent, state, presence });
        }
    }

    /// Brings the agent's entries in the availability indexes up to date.
    fn reindex(&mut self, agent: AgentId) {
        let a = &self.agents[agent.index()];
        let mask = room_mask(a, &self.costs);
        if mask == 0 {
            // No room: out of every index (the common case of an agent taking work).
            if let Some(old) = self.agents[agent.index()].indexed.take() {
                self.index_entries(agent, old, false);
            }
            return;
        }
        let mut keys: SortKeys = [(0, 0); MAX_INDEXES];
        for (key, ix) in keys.iter_mut().zip(&self.indexes) {
            *key = match ix.order {
                Order::IdleSince => (a.idle_since.as_millis(), 0),
                Order::LastOffer => (a.last_offer, 0),
                Order::Load => (u64::from(a.load), a.idle_since.as_millis()),
            };
        }
        let new = Some((mask, keys));
        if new == a.indexed {
            return;
        }
        if let Some(old) = self.agents[agent.index()].indexed.take() {
            self.index_entries(agent, old, false);
        }
        if let Some(new) = new {
            self.index_entries(agent, new, true);
        }
        self.agents[agent.index()].indexed = new;
    }

    /// Inserts or removes an agent's entries in the availability indexes: one per channel
    /// of `mask`, index, and key the agent holds that the index keeps.
    fn index_entries(&mut self, agent: AgentId, (mask, keys): (u8, SortKeys), insert: bool) {
        if !insert {
            // Every entry of the agent goes stale at once; the sets only count them out.
            let a = &mut self.agents[agent.index()];
            a.generation = a.generation.wrapping_add(1);
        }
        let agents = &self.agents;
        let a = &agents[agent.index()];
        let live = |e: &Entry| agents[e.2 as usize].generation == e.3;
        for ((ix, &(k1, k2)), held) in self.indexes.iter_mut().zip(&keys).zip(&a.index_keys) {
            let mut channels = mask;
            while channels != 0 {
                let c = Channel::ALL[channels.trailing_zeros() as usize];
                channels &= channels - 1;
                for &(key, level) in held {
                    if insert {
                        ix.insert(c, key, level, (k1, k2, agent.0, a.generation));
                    } else {
                        ix.remove(c, key, level, live);
                    }
                }
            }
        }
    }

    /// Replaces an agent's skills (queue memberships stay). Work in hand stays; from now on
    /// offers follow the new skills.
    fn set_skills(&mut self, now: Timestamp, agent: AgentId, skills: &[(SkillId, Level)]) -> Result<(), CommandError> {
        self.check_agent(agent)?;
        if let Some(&(s, _)) = skills.iter().find(|(s, _)| u32::from(s.0) >= self.skill_count) {
            return Err(CommandError::UnknownSkill(s));
        }
        if let Some(old) = self.agents[agent.index()].indexed.take() {
            self.index_entries(agent, old, false);
        }
        let a = &mut self.agents[agent.index()];
        for (key, _) in &a.levels {
            self.holders[*key as usize] -= 1;
        }
        (a.levels, a.index_keys) = agent_keys(self.skill_count, skills, &a.queues, &self.indexed_keys);
        for (key, _) in &a.levels {
            self.holders[*key as usize] += 1;
        }
        self.emit(now, Event::SkillsChanged { agent });
        self.after_agent_change(now, agent);
        Ok(())
    }

    fn emit(&mut self, at: Timestamp, event: Event) {
        self.events.push_back(EventRecord { at, event });
    }
}
