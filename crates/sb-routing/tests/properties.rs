//! Property tests of the engine's invariants, over random tenants and random command
//! sequences. A small reference model, written independently of the engine's indexes,
//! follows the event stream and checks every offer:
//!
//! - no agent is ever over capacity (cost units or per-channel maximum);
//! - no interaction is offered to two agents at once, nor while connected;
//! - no interaction is offered to an agent lacking the skills its current step requires;
//! - within one queue, channel and priority, an agent is never offered an interaction while
//!   an earlier arrival it equally qualifies for is waiting; timed-out and rejected offers
//!   keep their original arrival, so they stay ahead of later arrivals;
//! - every interaction leaves the engine at most once, and only agents who are available
//!   receive offers.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;

use proptest::prelude::*;
use sb_routing::{
    AGENT_CAPACITY, AgentId, AgentSetup, Channel, Command, CommandError, Engine, Event, InteractionId, Level,
    NewInteraction, Presence, Priority, QueueId, QueueSetup, ReasonId, RoutingSetup, SkillId, StepSetup,
    Strategy as Routing, Timestamp,
};

const COSTS: [u8; 4] = [100, 33, 50, 25];
const SKILLS: u16 = 3;

#[derive(Clone, Debug)]
struct Model {
    setup: RoutingSetup,
}

#[derive(Clone, Debug)]
enum Op {
    Presence(usize, u8),
    Enqueue { channel: usize, queue: usize, priority: Option<u8>, needs: Vec<(u16, u8)> },
    Accept(usize),
    Reject(usize),
    Complete(usize),
    EndWrapUp(usize),
    Abandon(usize),
    Tick,
}

fn level() -> impl Strategy<Value = Level> {
    (1u8..=5).prop_map(|l| Level::new(l).unwrap())
}

fn skill_list() -> impl Strategy<Value = Vec<(SkillId, Level)>> {
    prop::collection::btree_map(0..SKILLS, level(), 0..=2)
        .prop_map(|m| m.into_iter().map(|(s, l)| (SkillId(s), l)).collect())
}

fn setup() -> impl Strategy<Value = RoutingSetup> {
    let queue_count = 3usize;
    let step = (
        1u64..=4,
        skill_list(),
        prop::collection::vec(0..SKILLS, 0..=1),
        prop::collection::vec(0..queue_count as u16, 0..=1),
        skill_list(),
    )
        .prop_map(|(after, require, drop, oq, os)| StepSetup {
            after: Duration::from_secs(after * 10),
            require,
            drop: drop.into_iter().map(SkillId).collect(),
            overflow_queues: oq.into_iter().map(QueueId).collect(),
            overflow_skills: os,
        });
    let queue = (
        prop::sample::subsequence(Channel::ALL.to_vec(), 1..=4),
        1u8..=3,
        prop_oneof![
            Just(Routing::LongestIdle),
            Just(Routing::MostSkilled),
            Just(Routing::RoundRobin),
            Just(Routing::LeastOccupied)
        ],
        skill_list(),
        prop::collection::vec(step, 0..=3),
        prop_oneof![Just(0u64), Just(15)],
    )
        .prop_map(|(channels, priority, strategy, skills, mut steps, wrap)| {
            steps.sort_by_key(|s| s.after);
            steps.dedup_by_key(|s| s.after);
            QueueSetup {
                channels,
                priority: Priority::new(priority).unwrap(),
                strategy,
                skills,
                offer_timeout: Duration::from_secs(20),
                wrap_up: Duration::from_secs(wrap),
                expected_handle_time: Duration::from_secs(60),
                steps,
            }
        });
    let agent = (
        skill_list(),
        prop::collection::btree_set(0..queue_count as u16, 1..=2),
        [0u8..=1, 0u8..=3, 0u8..=2, 0u8..=4],
        prop::bool::weighted(0.25),
    )
        .prop_map(|(skills, queues, max, auto_accept)| AgentSetup {
            skills,
            queues: queues.into_iter().map(QueueId).collect(),
            max_per_channel: max,
            auto_accept,
        });
    (prop::collection::vec(queue, queue_count), prop::collection::vec(agent, 1..=5)).prop_map(|(queues, agents)| {
        RoutingSetup { skill_count: SKILLS, channel_costs: COSTS, missed_reason: ReasonId(0), queues, agents }
    })
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0usize..5, 0u8..4).prop_map(|(a, p)| Op::Presence(a, p)),
        4 => (0usize..4, 0usize..3, prop::option::of(1u8..=3), prop::collection::vec((0..SKILLS, 1u8..=5), 0..=1))
            .prop_map(|(channel, queue, priority, needs)| Op::Enqueue { channel, queue, priority, needs }),
        3 => any::<usize>().prop_map(Op::Accept),
        1 => any::<usize>().prop_map(Op::Reject),
        2 => any::<usize>().prop_map(Op::Complete),
        1 => any::<usize>().prop_map(Op::EndWrapUp),
        1 => any::<usize>().prop_map(Op::Abandon),
        1 => Just(Op::Tick),
    ]
}

/// What the checker remembers of an interaction.
#[derive(Clone, Debug)]
struct Known {
    channel: Channel,
    queue: QueueId,
    priority: Priority,
    needs: Vec<(SkillId, Level)>,
    enqueued_at: Timestamp,
    offered_to: Option<AgentId>,
    connected_to: Option<AgentId>,
    declined: BTreeSet<AgentId>,
    done: bool,
}

/// The reference eligibility rule, written from the documentation of routing steps.
fn eligible(model: &Model, agent: AgentId, i: &Known, at: Timestamp) -> bool {
    let q = &model.setup.queues[i.queue.index()];
    let a = &model.setup.agents[agent.index()];
    let skills: HashMap<SkillId, Level> = a.skills.iter().copied().collect();
    let waited = at.since(i.enqueued_at);
    let mut primary: BTreeMap<SkillId, Level> = BTreeMap::new();
    for &(s, l) in q.skills.iter().chain(&i.needs) {
        let e = primary.entry(s).or_insert(l);
        *e = (*e).max(l);
    }
    let mut alternatives: Vec<bool> = Vec::new();
    for step in q.steps.iter().filter(|s| s.after <= waited) {
        for &(s, l) in &step.require {
            primary.insert(s, l);
        }
        for s in &step.drop {
            primary.remove(s);
        }
        for oq in &step.overflow_queues {
            alternatives.push(a.queues.contains(oq));
        }
        for &(s, l) in &step.overflow_skills {
            alternatives.push(skills.get(&s).is_some_and(|have| *have >= l));
        }
    }
    let primary_ok =
        a.queues.contains(&i.queue) && primary.iter().all(|(s, l)| skills.get(s).is_some_and(|have| have >= l));
    primary_ok || alternatives.into_iter().any(|ok| ok)
}

fn check(model: Model, ops: Vec<(u64, Op)>) -> Result<(), TestCaseError> {
    let mut engine = Engine::new(model.setup.clone()).expect("generated setups are valid");
    let mut known: Vec<Known> = Vec::new();
    let mut now = Timestamp::ZERO;
    for (dt, op) in ops {
        now = now.after(Duration::from_secs(dt));
        let pick = |n: usize, want: fn(&Known) -> bool| {
            let open: Vec<usize> = (0..known.len()).filter(|i| want(&known[*i])).collect();
            (!open.is_empty()).then(|| open[n % open.len()])
        };
        let id = |i: usize| InteractionId(i as u64 + 1);
        // A tick when the engine asked to be woken by now must find something to do.
        let mut woken = false;
        let tick = matches!(op, Op::Tick);
        let command = match op {
            Op::Presence(a, p) if a < model.setup.agents.len() => {
                let p = match p {
                    0 => Presence::Offline,
                    1 | 2 => Presence::Available,
                    _ => Presence::NotReady(ReasonId(1)),
                };
                Some(Command::SetPresence { agent: AgentId(a as u32), presence: p })
            }
            Op::Presence(..) => None,
            Op::Enqueue { channel, queue, priority, needs } => {
                let channel = Channel::ALL[channel];
                let q = QueueId(queue as u16);
                let needs: Vec<(SkillId, Level)> =
                    needs.into_iter().map(|(s, l)| (SkillId(s), Level::new(l).unwrap())).collect();
                let priority = priority.map(|p| Priority::new(p).unwrap());
                let cmd = Command::Enqueue(NewInteraction {
                    id: id(known.len()),
                    channel,
                    queue: q,
                    priority,
                    requirements: needs.clone(),
                });
                if model.setup.queues[queue].channels.contains(&channel) {
                    known.push(Known {
                        channel,
                        queue: q,
                        priority: priority.unwrap_or(model.setup.queues[queue].priority),
                        needs,
                        enqueued_at: now,
                        offered_to: None,
                        connected_to: None,
                        declined: BTreeSet::new(),
                        done: false,
                    });
                }
                Some(cmd)
            }
            Op::Accept(n) => pick(n, |k| k.offered_to.is_some())
                .map(|i| Command::Accept { interaction: id(i), agent: known[i].offered_to.unwrap() }),
            Op::Reject(n) => pick(n, |k| k.offered_to.is_some())
                .map(|i| Command::Reject { interaction: id(i), agent: known[i].offered_to.unwrap() }),
            Op::Complete(n) => pick(n, |k| k.connected_to.is_some() && !k.done)
                .map(|i| Command::Complete { interaction: id(i), agent: known[i].connected_to.unwrap() }),
            Op::EndWrapUp(n) => pick(n, |k| k.connected_to.is_some() && !k.done)
                .map(|i| Command::EndWrapUp { interaction: id(i), agent: known[i].connected_to.unwrap() }),
            Op::Abandon(n) => {
                pick(n, |k| k.connected_to.is_none() && !k.done).map(|i| Command::Abandon { interaction: id(i) })
            }
            Op::Tick => {
                woken = engine.poll_timeout().is_some_and(|at| at <= now);
                engine.handle_timeout(now);
                None
            }
        };
        let called = tick || command.is_some();
        if let Some(command) = command {
            let refused = engine.handle(now, command.clone()).err();
            // Commands built from the model's view of offers are never refused, unless a
            // timer fired first; enqueues are refused only for a channel the queue lacks.
            if let (Some(e), Command::Enqueue(_)) = (&refused, &command) {
                prop_assert!(matches!(e, CommandError::ChannelNotServed { .. }), "unexpected refusal {e}");
            }
        }
        let mut events = 0;
        while let Some(record) = engine.poll_event() {
            events += 1;
            let at = record.at;
            match record.event {
                Event::Offered { interaction, agent, .. } => {
                    let ix = interaction.0 as usize - 1;
                    let i = known[ix].clone();
                    prop_assert!(!i.done, "offered after leaving: {interaction}");
                    prop_assert!(i.offered_to.is_none(), "{interaction} offered to two agents at once");
                    prop_assert!(i.connected_to.is_none(), "{interaction} offered while connected");
                    prop_assert!(
                        !i.declined.contains(&agent),
                        "{interaction} offered again to {agent} who rejected it"
                    );
                    prop_assert!(
                        eligible(&model, agent, &i, at),
                        "{} offered to {} who lacks the skills of its step",
                        interaction,
                        agent
                    );
                    for (jx, j) in known.iter().enumerate() {
                        let waiting = !j.done && j.offered_to.is_none() && j.connected_to.is_none();
                        let earlier = (j.enqueued_at, jx) < (i.enqueued_at, ix);
                        if waiting
                            && earlier
                            && j.queue == i.queue
                            && j.channel == i.channel
                            && j.priority == i.priority
                            && !j.declined.contains(&agent)
                            && eligible(&model, agent, j, at)
                        {
                            prop_assert!(
                                false,
                                "{} offered to {} ahead of earlier arrival {}",
                                interaction,
                                agent,
                                jx + 1
                            );
                        }
                    }
                    known[ix].offered_to = Some(agent);
                }
                Event::Accepted { interaction, agent } => {
                    let k = &mut known[interaction.0 as usize - 1];
                    prop_assert_eq!(k.offered_to, Some(agent));
                    k.offered_to = None;
                    k.connected_to = Some(agent);
                }
                Event::Rejected { interaction, agent } => {
                    let k = &mut known[interaction.0 as usize - 1];
                    k.offered_to = None;
                    k.declined.insert(agent);
                }
                Event::OfferTimedOut { interaction, .. } | Event::OfferCancelled { interaction, .. } => {
                    known[interaction.0 as usize - 1].offered_to = None;
                }
                Event::Transferred { interaction, .. } => {
                    prop_assert!(false, "{interaction} transferred though no transfer was asked for");
                }
                Event::SkillsChanged { agent } => {
                    prop_assert!(false, "{agent}'s skills changed though no change was asked for");
                }
                Event::Abandoned { interaction, .. } => {
                    let k = &mut known[interaction.0 as usize - 1];
                    prop_assert!(!k.done && k.connected_to.is_none());
                    k.done = true;
                }
                Event::Completed { interaction, wrap_up_until: None, .. } | Event::WrapUpEnded { interaction, .. } => {
                    let k = &mut known[interaction.0 as usize - 1];
                    prop_assert!(!k.done, "{interaction} left twice");
                    k.done = true;
                }
                Event::Queued { .. }
                | Event::AgentStateChanged { .. }
                | Event::StepReached { .. }
                | Event::Completed { .. } => {}
            }
        }
        prop_assert!(!woken || events > 0, "the engine asked to be woken for a timer that no longer stood");
        // Once the engine has been called at `now`, every timer due by then has fired and the
        // next wake-up is later.
        prop_assert!(
            !called || engine.poll_timeout().is_none_or(|at| at > now),
            "a timer due by {now:?} is still pending"
        );
        for (a, setup) in model.setup.agents.iter().enumerate() {
            let (p, load, counts) = engine.agent_load(AgentId(a as u32)).unwrap();
            let offers = known.iter().filter(|k| k.offered_to == Some(AgentId(a as u32))).count();
            prop_assert!(offers == 0 || p == Presence::Available, "agent {a} holds offers while {p:?}");
            prop_assert!(load <= AGENT_CAPACITY, "agent {a} over capacity: {load}");
            let mut expected = 0u16;
            for c in Channel::ALL {
                prop_assert!(counts[c.index()] <= setup.max_per_channel[c.index()], "agent {a} over its {c} maximum");
                expected += u16::from(counts[c.index()]) * u16::from(COSTS[c.index()]);
            }
            prop_assert_eq!(load, expected);
            let held = known
                .iter()
                .filter(|k| {
                    !k.done && (k.offered_to == Some(AgentId(a as u32)) || k.connected_to == Some(AgentId(a as u32)))
                })
                .count();
            prop_assert_eq!(
                held,
                counts.iter().map(|c| usize::from(*c)).sum::<usize>(),
                "agent {} capacity out of step with its interactions",
                a
            );
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(400), ..ProptestConfig::default() })]

    #[test]
    fn invariants_hold(setup in setup(), ops in prop::collection::vec((0u64..12, op()), 1..120)) {
        check(Model { setup }, ops)?;
    }
}
