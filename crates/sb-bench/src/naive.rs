//! The baseline of the routing benchmark: a router that keeps agents and waiting
//! interactions in plain lists and scans them for every decision, as a simple ACD would.
//!
//! It follows the same rules as the engine (membership, skills with levels, routing steps,
//! capacity per channel, queue order by priority and arrival, longest idle agent first), and
//! checks eligibility cheaply (dense skill tables, requirements per step computed once per
//! interaction), so that the comparison measures the data structures and not a slow check.

use std::time::Duration;

use sb_routing::{Channel, InteractionId, NewInteraction, RoutingSetup, Timestamp};

/// One requirement: skill (or queue membership) index and minimum level.
type Req = (usize, u8);

struct Agent {
    /// Levels by skill, then one entry per queue (1 = member), like the engine's keys.
    levels: Vec<u8>,
    max: [u8; 4],
    available: bool,
    load: u16,
    counts: [u8; 4],
    idle_since: Timestamp,
}

struct Waiting {
    id: InteractionId,
    channel: Channel,
    order: (u8, u64, u64),
    enqueued_at: Timestamp,
    /// For each step (0 = before the first), the alternative sets of requirements.
    steps: Vec<(Duration, Vec<Vec<Req>>)>,
}

/// See the module documentation.
pub struct NaiveRouter {
    costs: [u8; 4],
    skill_count: usize,
    setup: RoutingSetup,
    agents: Vec<Agent>,
    waiting: Vec<Waiting>,
    connected: Vec<(InteractionId, usize, Channel)>,
    pub offers: u64,
}

impl NaiveRouter {
    pub fn new(setup: &RoutingSetup) -> NaiveRouter {
        let skill_count = usize::from(setup.skill_count);
        let keys = skill_count + setup.queues.len();
        let agents = setup
            .agents
            .iter()
            .map(|a| {
                let mut levels = vec![0u8; keys];
                for (s, l) in &a.skills {
                    levels[s.index()] = l.get();
                }
                for q in &a.queues {
                    levels[skill_count + q.index()] = 1;
                }
                Agent {
                    levels,
                    max: a.max_per_channel,
                    available: false,
                    load: 0,
                    counts: [0; 4],
                    idle_since: Timestamp::ZERO,
                }
            })
            .collect();
        NaiveRouter {
            costs: setup.channel_costs,
            skill_count,
            setup: setup.clone(),
            agents,
            waiting: Vec::new(),
            connected: Vec::new(),
            offers: 0,
        }
    }

    fn requirements(&self, new: &NewInteraction) -> Vec<(Duration, Vec<Vec<Req>>)> {
        let q = &self.setup.queues[new.queue.index()];
        let mut primary: Vec<Req> = vec![(self.skill_count + new.queue.index(), 1)];
        let set =
            |primary: &mut Vec<Req>, key: usize, level: u8, max: bool| match primary.iter_mut().find(|r| r.0 == key) {
                Some(r) => r.1 = if max { r.1.max(level) } else { level },
                None => primary.push((key, level)),
            };
        for (s, l) in q.skills.iter().chain(&new.requirements) {
            set(&mut primary, s.index(), l.get(), true);
        }
        let mut extra: Vec<Vec<Req>> = Vec::new();
        let mut out = vec![(Duration::ZERO, vec![primary.clone()])];
        for step in &q.steps {
            for (s, l) in &step.require {
                set(&mut primary, s.index(), l.get(), false);
            }
            primary.retain(|r| !step.drop.iter().any(|s| s.index() == r.0));
            extra.extend(step.overflow_queues.iter().map(|oq| vec![(self.skill_count + oq.index(), 1)]));
            extra.extend(step.overflow_skills.iter().map(|(s, l)| vec![(s.index(), l.get())]));
            let mut clauses = vec![primary.clone()];
            clauses.extend(extra.iter().cloned());
            out.push((step.after, clauses));
        }
        out
    }

    fn has_room(&self, a: &Agent, channel: Channel) -> bool {
        a.available
            && a.counts[channel.index()] < a.max[channel.index()]
            && a.load + u16::from(self.costs[channel.index()]) <= 100
    }

    fn eligible(a: &Agent, w: &Waiting, now: Timestamp) -> bool {
        let waited = now.since(w.enqueued_at);
        let clauses = &w.steps.iter().rev().find(|(after, _)| *after <= waited).expect("step 0 always applies").1;
        clauses.iter().any(|c| c.iter().all(|(key, min)| a.levels[*key] >= *min))
    }

    fn connect(&mut self, id: InteractionId, agent: usize, channel: Channel, now: Timestamp) {
        let a = &mut self.agents[agent];
        a.load += u16::from(self.costs[channel.index()]);
        a.counts[channel.index()] += 1;
        a.idle_since = now;
        self.connected.push((id, agent, channel));
        self.offers += 1;
    }

    fn waiting_entry(&self, now: Timestamp, new: &NewInteraction) -> Waiting {
        Waiting {
            id: new.id,
            channel: new.channel,
            order: (
                u8::MAX - new.priority.unwrap_or(self.setup.queues[new.queue.index()].priority).get(),
                now.as_millis(),
                new.id.0,
            ),
            enqueued_at: now,
            steps: self.requirements(new),
        }
    }

    pub fn arrive(&mut self, now: Timestamp, new: NewInteraction) {
        let w = self.waiting_entry(now, &new);
        let best = (0..self.agents.len())
            .filter(|&a| self.has_room(&self.agents[a], w.channel) && Self::eligible(&self.agents[a], &w, now))
            .min_by_key(|&a| (self.agents[a].idle_since, a));
        match best {
            Some(agent) => self.connect(w.id, agent, w.channel, now),
            None => self.waiting.push(w),
        }
    }

    /// Lets an agent take waiting interactions while it has room.
    fn pull(&mut self, now: Timestamp, agent: usize) {
        loop {
            let a = &self.agents[agent];
            let best = (0..self.waiting.len())
                .filter(|&i| self.has_room(a, self.waiting[i].channel) && Self::eligible(a, &self.waiting[i], now))
                .min_by_key(|&i| self.waiting[i].order);
            let Some(i) = best else { return };
            let w = self.waiting.swap_remove(i);
            self.connect(w.id, agent, w.channel, now);
        }
    }

    /// Starts from a given state: every agent available, `connected` in agents' hands and
    /// `waiting` in queue. The state must be settled (no waiting interaction fits an agent
    /// with room), as the engine leaves it.
    pub fn load(&mut self, now: Timestamp, waiting: Vec<NewInteraction>, connected: Vec<(NewInteraction, usize)>) {
        for a in &mut self.agents {
            a.available = true;
            a.idle_since = now;
        }
        for (new, agent) in connected {
            self.connect(new.id, agent, new.channel, now);
        }
        for new in waiting {
            let w = self.waiting_entry(now, &new);
            self.waiting.push(w);
        }
    }

    pub fn finish_one(&mut self, now: Timestamp, pick: u64) -> bool {
        if self.connected.is_empty() {
            return false;
        }
        let (_, agent, channel) = self.connected.swap_remove((pick % self.connected.len() as u64) as usize);
        let a = &mut self.agents[agent];
        a.load -= u16::from(self.costs[channel.index()]);
        a.counts[channel.index()] -= 1;
        a.idle_since = now;
        self.pull(now, agent);
        true
    }
}
