//! The discrete-event simulation: the real routing engine under a virtual clock.
//!
//! Events (arrivals, customers' patience running out, conversations ending, shifts starting
//! and ending) wait in a queue ordered by time ([`crate::queue`]); the engine's own timers (routing steps,
//! wrap-up) are interleaved through [`Engine::poll_timeout`]. Simulated agents accept every
//! offer at once. Counters are kept per queue and per reporting interval; an interaction
//! counts in the interval it arrived in.

use std::collections::VecDeque;
use std::time::Duration;

use sb_routing::{
    AgentActivity, AgentId, Channel, Command, Engine, Event, InteractionId, NewInteraction, Presence, QueueId,
    Timestamp,
};

use crate::Rng;
use crate::model::{Arrivals, CallbackOffer, Scenario, SimTenant, nearest_ms};
use crate::queue::EventQueue;

/// Counters of one queue in one interval.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    pub offered: u64,
    pub answered: u64,
    /// Answered within the queue's service-level threshold.
    pub answered_within: u64,
    pub abandoned: u64,
    /// Abandoned sooner than the scenario's short-abandon time.
    pub short_abandoned: u64,
    /// Total wait of answered interactions.
    pub wait_ms: u64,
    /// Total handle time (talk plus wrap-up) of answered interactions.
    pub handle_ms: u64,
    /// The longest the queue was (waiting interactions, call backs included) during the
    /// interval.
    pub max_queue: u32,
    /// Customers who took a call back instead of waiting (counted in their own queue).
    pub called_back: u64,
    /// Call backs agents of this queue answered, by the interval they were asked for in, and
    /// their total wait from the request to the agent answering.
    pub callbacks_answered: u64,
    pub callback_wait_ms: u64,
}

impl Counters {
    pub fn add(&mut self, other: &Counters) {
        self.offered += other.offered;
        self.answered += other.answered;
        self.answered_within += other.answered_within;
        self.abandoned += other.abandoned;
        self.short_abandoned += other.short_abandoned;
        self.wait_ms += other.wait_ms;
        self.handle_ms += other.handle_ms;
        self.max_queue = self.max_queue.max(other.max_queue);
        self.called_back += other.called_back;
        self.callbacks_answered += other.callbacks_answered;
        self.callback_wait_ms += other.callback_wait_ms;
    }

    /// Service level: answered within the threshold out of offered, short abandons and
    /// callers who took a call back left out.
    pub fn service_level(&self) -> Option<f64> {
        let base = self.offered.saturating_sub(self.short_abandoned + self.called_back);
        (base > 0).then(|| self.answered_within as f64 / base as f64)
    }

    /// Average speed of answer, in seconds.
    pub fn asa(&self) -> Option<f64> {
        (self.answered > 0).then(|| self.wait_ms as f64 / 1000.0 / self.answered as f64)
    }

    /// Average handle time (talk plus wrap-up), in seconds.
    pub fn aht(&self) -> Option<f64> {
        (self.answered > 0).then(|| self.handle_ms as f64 / 1000.0 / self.answered as f64)
    }

    /// Abandoned out of offered.
    pub fn abandon_rate(&self) -> Option<f64> {
        (self.offered > 0).then(|| self.abandoned as f64 / self.offered as f64)
    }

    /// Average wait of answered call backs, from the request to an agent answering, in
    /// seconds.
    pub fn callback_wait(&self) -> Option<f64> {
        (self.callbacks_answered > 0).then(|| self.callback_wait_ms as f64 / 1000.0 / self.callbacks_answered as f64)
    }
}

/// The result of one run.
#[derive(Clone, Debug)]
pub struct RunResult {
    /// `queues[q][k]`: queue `q`, interval `k`.
    pub queues: Vec<Vec<Counters>>,
    /// Agent time spent handling (busy or wrap-up) and logged in and not on a break
    /// (available, busy or wrap-up), per interval.
    pub busy_ms: Vec<u64>,
    pub staffed_ms: Vec<u64>,
    /// Interactions still waiting when the run ended (call backs not counted).
    pub still_waiting: u64,
    /// Call backs still waiting for an agent when the run ended.
    pub callbacks_waiting: u64,
    /// Interactions that arrived.
    pub contacts: u64,
}

impl RunResult {
    /// One queue's counters over the whole run.
    pub fn queue_total(&self, q: usize) -> Counters {
        let mut total = Counters::default();
        self.queues[q].iter().for_each(|c| total.add(c));
        total
    }

    /// Every queue's counters in interval `k`.
    pub fn interval_total(&self, k: usize) -> Counters {
        let mut total = Counters::default();
        self.queues.iter().for_each(|q| total.add(&q[k]));
        total
    }

    /// Everything.
    pub fn total(&self) -> Counters {
        let mut total = Counters::default();
        (0..self.queues.len()).for_each(|q| total.add(&self.queue_total(q)));
        total
    }

    /// Share of staffed agent time spent handling interactions.
    pub fn occupancy(&self, interval: Option<usize>) -> Option<f64> {
        let (busy, staffed) = match interval {
            Some(k) => (self.busy_ms[k], self.staffed_ms[k]),
            None => (self.busy_ms.iter().sum(), self.staffed_ms.iter().sum()),
        };
        (staffed > 0).then(|| busy as f64 / staffed as f64)
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Ev {
    Arrival(u32),
    Patience(u64),
    ServiceEnd(u64, u32),
    ShiftStart(u32),
    ShiftEnd(u32),
}

struct Item {
    stream: u32,
    arrival: u64,
    interval: u32,
    /// A call back (waiting in the stream's call-back queue), not the customer's own contact.
    callback: bool,
    answered: bool,
    done: bool,
}

struct AgentClock {
    busy: bool,
    staffed: bool,
    since: u64,
    /// The interval `since` falls in.
    since_k: u64,
}

/// Per-stream position in its arrival process.
enum Cursor {
    Poisson(f64),
    Replay(usize),
}

struct Run<'a> {
    scenario: &'a Scenario,
    engine: Engine,
    rng: Rng,
    events: EventQueue<Ev>,
    /// Interactions from the oldest not yet done on, in arrival order: ids are consecutive
    /// from 1, and those before `items_base` are done and forgotten, so that memory follows
    /// the interactions in the center, not the length of the run.
    items: VecDeque<Item>,
    items_base: u64,
    cursors: Vec<Cursor>,
    queue_len: Vec<u32>,
    agents: Vec<AgentClock>,
    result: RunResult,
    interval_ms: u64,
    /// The interval the simulation's time falls in, and when the next one starts: kept as
    /// time moves on, rather than divided out for every event.
    now_k: u64,
    next_interval_at: u64,
    horizon_ms: u64,
    /// Each queue's wrap-up and service-level threshold, in milliseconds.
    wrap_ms: Vec<u64>,
    within_ms: Vec<u64>,
}

/// Runs one replication with the given seed.
pub fn run(tenant: &SimTenant, scenario: &Scenario, seed: u64) -> RunResult {
    let mut run = Run::new(tenant, scenario, seed);
    run.start();
    run.main_loop();
    run.finish()
}

impl<'a> Run<'a> {
    fn new(tenant: &SimTenant, scenario: &'a Scenario, seed: u64) -> Run<'a> {
        // Simulated agents answer every offer at once: their desks auto-accept.
        let mut routing = tenant.routing.clone();
        routing.agents.iter_mut().for_each(|a| a.auto_accept = true);
        let engine = Engine::new(routing).expect("the tenant's routing setup is valid");
        let intervals = scenario.intervals as usize;
        let queues = tenant.routing.queues.len();
        Run {
            scenario,
            engine,
            rng: Rng::new(seed),
            events: EventQueue::new(),
            items: VecDeque::new(),
            items_base: 1,
            cursors: scenario
                .streams
                .iter()
                .map(|s| match s.arrivals {
                    Arrivals::Poisson { .. } => Cursor::Poisson(0.0),
                    Arrivals::Replay { .. } => Cursor::Replay(0),
                })
                .collect(),
            queue_len: vec![0; queues],
            agents: (0..tenant.routing.agents.len())
                .map(|_| AgentClock { busy: false, staffed: false, since: 0, since_k: 0 })
                .collect(),
            result: RunResult {
                queues: vec![vec![Counters::default(); intervals]; queues],
                busy_ms: vec![0; intervals],
                staffed_ms: vec![0; intervals],
                still_waiting: 0,
                callbacks_waiting: 0,
                contacts: 0,
            },
            interval_ms: scenario.interval.as_millis() as u64,
            now_k: 0,
            next_interval_at: scenario.interval.as_millis() as u64,
            horizon_ms: scenario.horizon().as_millis() as u64,
            wrap_ms: tenant.routing.queues.iter().map(|q| ms(q.wrap_up)).collect(),
            within_ms: tenant.service_within.iter().map(|d| ms(*d)).collect(),
        }
    }
}

fn ms(d: Duration) -> u64 {
    d.as_millis() as u64
}

impl Run<'_> {
    fn push(&mut self, at: u64, ev: Ev) {
        self.events.push(at, ev);
    }

    fn start(&mut self) {
        if self.scenario.shifts.is_empty() {
            for a in 0..self.agents.len() {
                self.push(0, Ev::ShiftStart(a as u32));
            }
        } else {
            for shift in &self.scenario.shifts {
                let (agent, from, to) = (shift.agent.0, ms(shift.from), ms(shift.to));
                self.push(from, Ev::ShiftStart(agent));
                self.push(to, Ev::ShiftEnd(agent));
            }
        }
        for s in 0..self.scenario.streams.len() {
            self.schedule_arrival(s);
        }
    }

    /// Schedules the stream's next arrival, if it has one.
    fn schedule_arrival(&mut self, s: usize) {
        let interval = self.interval_ms as f64;
        let next = match (&self.scenario.streams[s].arrivals, &mut self.cursors[s]) {
            (Arrivals::Poisson { per_interval }, Cursor::Poisson(t)) => loop {
                let k = (*t / interval) as usize;
                let Some(&expected) = per_interval.get(k).filter(|_| k < self.scenario.intervals as usize) else {
                    break None;
                };
                let end = (k + 1) as f64 * interval;
                if expected <= 0.0 {
                    *t = end;
                    continue;
                }
                let gap = self.rng.exponential(interval / expected);
                if *t + gap < end {
                    *t += gap;
                    break Some(nearest_ms(*t));
                }
                // Memoryless: start again from the boundary with the next interval's rate.
                *t = end;
            },
            (Arrivals::Replay { offsets }, Cursor::Replay(i)) => {
                let next = offsets.get(*i).map(|d| ms(*d)).filter(|t| *t < self.horizon_ms);
                *i += 1;
                next
            }
            _ => unreachable!("cursors are made to match their streams"),
        };
        if let Some(at) = next {
            self.events.push_recurring(at, Ev::Arrival(s as u32));
        }
    }

    fn main_loop(&mut self) {
        let end = self.horizon_ms + ms(self.scenario.drain);
        loop {
            let next_ev = self.events.peek_time();
            let next_timer = self.engine.poll_timeout().map(Timestamp::as_millis);
            let timer_first = match (next_timer, next_ev) {
                (Some(t), Some(e)) => t <= e,
                (Some(_), None) => true,
                (None, Some(_)) => false,
                (None, None) => break,
            };
            if timer_first {
                let t = next_timer.expect("checked");
                if t > end {
                    break;
                }
                self.advance(t);
                self.engine.handle_timeout(Timestamp::from_millis(t));
                self.drain(t);
                continue;
            }
            let (t, ev) = self.events.pop().expect("checked");
            if t > end {
                break;
            }
            self.advance(t);
            let now = Timestamp::from_millis(t);
            match ev {
                Ev::Arrival(s) => {
                    let stream = &self.scenario.streams[s as usize];
                    let id = self.items_base + self.items.len() as u64;
                    let interval = self.interval_now() as u32;
                    self.result.contacts += 1;
                    let callback = stream.callback.filter(|offer| self.takes_callback(stream.queue, offer));
                    let (new, patience) = match callback {
                        Some(offer) => {
                            let c = &mut self.result.queues[stream.queue.index()][interval as usize];
                            c.offered += 1;
                            c.called_back += 1;
                            // The caller hung up: the call back is a new voice interaction
                            // without requirements of its own, and never abandons.
                            let new = NewInteraction {
                                id: InteractionId(id),
                                channel: Channel::Voice,
                                queue: offer.queue,
                                priority: None,
                                requirements: Vec::new(),
                            };
                            (new, None)
                        }
                        None => {
                            let new = NewInteraction {
                                id: InteractionId(id),
                                channel: stream.channel,
                                queue: stream.queue,
                                priority: None,
                                requirements: stream.requirements.clone(),
                            };
                            (new, stream.patience.as_ref().map(|p| p.sample_ms(&mut self.rng)))
                        }
                    };
                    let item = Item {
                        stream: s,
                        arrival: t,
                        interval,
                        callback: callback.is_some(),
                        answered: false,
                        done: false,
                    };
                    self.items.push_back(item);
                    self.engine.handle(now, Command::Enqueue(new)).expect("streams are validated against the tenant");
                    self.drain(t);
                    // Only a contact still waiting can run out of patience. (Nothing else was
                    // scheduled since the arrival: the engine's timers due by now fired
                    // before it, so events come out in the same order as if this one had
                    // been scheduled first.)
                    if let Some(p) = patience
                        && self.item(id).is_some_and(|item| !item.answered)
                    {
                        self.push(t + p, Ev::Patience(id));
                    }
                    self.schedule_arrival(s as usize);
                }
                Ev::Patience(id) => {
                    // An interaction already forgotten is done.
                    if self.item(id).is_some_and(|item| !item.answered && !item.done) {
                        self.engine.handle(now, Command::Abandon { interaction: InteractionId(id) }).expect("waiting");
                        self.drain(t);
                    }
                }
                Ev::ServiceEnd(id, agent) => {
                    let command = Command::Complete { interaction: InteractionId(id), agent: AgentId(agent) };
                    self.engine.handle(now, command).expect("the conversation is connected");
                    self.drain(t);
                }
                Ev::ShiftStart(agent) => {
                    let command = Command::SetPresence { agent: AgentId(agent), presence: Presence::Available };
                    self.engine.handle(now, command).expect("known agent");
                    self.drain(t);
                }
                Ev::ShiftEnd(agent) => {
                    let command = Command::SetPresence { agent: AgentId(agent), presence: Presence::Offline };
                    self.engine.handle(now, command).expect("known agent");
                    self.drain(t);
                }
            }
        }
    }

    /// Whether an arriving customer of `queue` is offered a call back and takes it.
    fn takes_callback(&mut self, queue: QueueId, offer: &CallbackOffer) -> bool {
        let wait = self.engine.queue_stats(queue).and_then(|s| s.estimated_wait);
        let offered = wait.is_none_or(|w| w > offer.when_wait_over);
        offered && self.rng.uniform() < offer.accept
    }

    fn item(&self, id: u64) -> Option<&Item> {
        self.items.get(usize::try_from(id.checked_sub(self.items_base)?).ok()?)
    }

    /// An interaction the engine speaks of: it is not done, so not forgotten.
    fn item_mut(&mut self, id: u64) -> &mut Item {
        let at = (id - self.items_base) as usize;
        &mut self.items[at]
    }

    /// Forgets the oldest interactions while they are done.
    fn forget_done(&mut self) {
        while self.items.front().is_some_and(|i| i.done) {
            self.items.pop_front();
            self.items_base += 1;
        }
    }

    /// Moves the clock of intervals on to `t`, which is never before the last time.
    fn advance(&mut self, t: u64) {
        while t >= self.next_interval_at {
            self.now_k += 1;
            self.next_interval_at += self.interval_ms;
        }
    }

    /// The reporting interval of now; time after the last one counts in the last one.
    fn interval_now(&self) -> usize {
        (self.now_k as usize).min(self.scenario.intervals as usize - 1)
    }

    /// Processes the engine's events; offers come accepted (auto-accept).
    fn drain(&mut self, t: u64) {
        while let Some(record) = self.engine.poll_event() {
            match record.event {
                Event::Queued { queue, .. } => {
                    let item = self.items.back().expect("queued just now");
                    let k = item.interval as usize;
                    // A call back was counted as offered (and called back) in its own queue.
                    if !item.callback {
                        self.result.queues[queue.index()][k].offered += 1;
                    }
                    self.queue_len[queue.index()] += 1;
                    let here = self.interval_now();
                    let c = &mut self.result.queues[queue.index()][here];
                    c.max_queue = c.max_queue.max(self.queue_len[queue.index()]);
                }
                Event::Accepted { interaction, agent } => {
                    let item = self.item_mut(interaction.0);
                    item.answered = true;
                    let (stream, arrival, k) = (item.stream as usize, item.arrival, item.interval as usize);
                    let callback = item.callback;
                    let stream = &self.scenario.streams[stream];
                    let wait = t - arrival;
                    let talk = stream.handle.sample_ms(&mut self.rng);
                    let q = if callback {
                        let q = stream.callback.expect("a call back comes from a stream offering them").queue.index();
                        let c = &mut self.result.queues[q][k];
                        c.callbacks_answered += 1;
                        c.callback_wait_ms += wait;
                        q
                    } else {
                        let q = stream.queue.index();
                        let wrap = self.wrap_ms[q];
                        let c = &mut self.result.queues[q][k];
                        c.answered += 1;
                        c.wait_ms += wait;
                        c.handle_ms += talk + wrap;
                        if wait <= self.within_ms[q] {
                            c.answered_within += 1;
                        }
                        q
                    };
                    self.queue_len[q] -= 1;
                    self.push(t + talk, Ev::ServiceEnd(interaction.0, agent.0));
                }
                Event::Abandoned { interaction, queue, waited } => {
                    let item = self.item_mut(interaction.0);
                    item.done = true;
                    let k = item.interval as usize;
                    let c = &mut self.result.queues[queue.index()][k];
                    c.abandoned += 1;
                    if waited < self.scenario.short_abandon {
                        c.short_abandoned += 1;
                    }
                    self.queue_len[queue.index()] -= 1;
                    self.forget_done();
                }
                Event::Completed { interaction, wrap_up_until: None, .. } | Event::WrapUpEnded { interaction, .. } => {
                    self.item_mut(interaction.0).done = true;
                    self.forget_done();
                }
                Event::AgentStateChanged { agent, state, .. } => {
                    let busy = matches!(state, AgentActivity::Busy | AgentActivity::WrapUp);
                    let staffed = busy || state == AgentActivity::Available;
                    self.account(agent.index(), t);
                    let clock = &mut self.agents[agent.index()];
                    clock.busy = busy;
                    clock.staffed = staffed;
                }
                Event::StepReached { .. }
                | Event::Transferred { .. }
                | Event::SkillsChanged { .. }
                | Event::Offered { .. }
                | Event::Rejected { .. }
                | Event::OfferTimedOut { .. }
                | Event::OfferCancelled { .. }
                | Event::Completed { .. } => {}
            }
        }
    }

    /// Adds an agent's time since its last change to the interval totals.
    fn account(&mut self, agent: usize, t: u64) {
        let clock = &mut self.agents[agent];
        let (from, to) = (clock.since.min(self.horizon_ms), t.min(self.horizon_ms));
        let mut k = clock.since_k;
        clock.since = t;
        clock.since_k = self.now_k;
        if !clock.staffed || from >= to {
            return;
        }
        debug_assert_eq!(k, from / self.interval_ms, "the interval of the agent's last change");
        let busy = clock.busy;
        let mut s = from;
        while s < to {
            let e = to.min((k + 1) * self.interval_ms);
            self.result.staffed_ms[k as usize] += e - s;
            if busy {
                self.result.busy_ms[k as usize] += e - s;
            }
            s = e;
            k += 1;
        }
    }

    fn finish(mut self) -> RunResult {
        for a in 0..self.agents.len() {
            self.account(a, self.horizon_ms);
        }
        let waiting =
            |callback: bool| self.items.iter().filter(move |i| i.callback == callback && !i.answered && !i.done);
        self.result.still_waiting = waiting(false).count() as u64;
        self.result.callbacks_waiting = waiting(true).count() as u64;
        self.result
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Dist;

    #[test]
    fn only_the_interactions_not_yet_done_are_kept() {
        // A day of an M/M/20 queue at 90% load with impatient customers.
        let tenant = SimTenant::single_queue(20, Duration::from_secs(20));
        let patience = Some(Dist::Exponential { mean: Duration::from_secs(60) });
        let per_hour = 0.9 * 20.0 * 3600.0 / 180.0;
        let scenario =
            Scenario::single_queue(Duration::from_secs(3600), 24, per_hour, Duration::from_secs(180), patience);
        let mut run = Run::new(&tenant, &scenario, 3);
        run.start();
        run.main_loop();
        let kept = run.items.len();
        let result = run.finish();
        assert!(result.contacts > 8_000, "{} contacts", result.contacts);
        let total = result.total();
        assert!(total.abandoned > 0 && total.answered > 0);
        assert_eq!(total.offered, total.answered + total.abandoned + result.still_waiting);
        // The drain hour empties the center: nothing is left of the day's interactions.
        assert_eq!(kept, 0, "{kept} interactions kept of {}", result.contacts);
    }
}
