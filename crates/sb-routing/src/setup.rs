//! What the engine is built from: skills, queues with their routing steps, agents and the
//! capacity cost of each channel.
//!
//! The application layer produces a [`RoutingSetup`] from a validated tenant configuration;
//! [`crate::Engine::new`] checks that every id is in range.

use std::time::Duration;

use crate::ids::{Channel, Level, Priority, QueueId, ReasonId, SkillId};

/// Everything the engine needs to know about a tenant before the first interaction.
#[derive(Clone, Debug)]
pub struct RoutingSetup {
    /// Skills are numbered `0..skill_count`.
    pub skill_count: u16,
    /// The capacity one interaction of each channel takes out of an agent's 100, indexed by
    /// [`Channel::index`].
    pub channel_costs: [u8; 4],
    /// The not-ready reason an agent is moved to when an offer times out.
    pub missed_reason: ReasonId,
    /// Queue `n` is `QueueId(n)`.
    pub queues: Vec<QueueSetup>,
    /// Agent `n` is `AgentId(n)`.
    pub agents: Vec<AgentSetup>,
}

/// How a queue chooses among several available agents who all qualify.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub enum Strategy {
    /// The agent who has been idle longest (since their last interaction ended or since
    /// they became available) gets the interaction.
    #[default]
    LongestIdle,
    /// The agent with the highest proficiency in the queue's first skill; ties go to the
    /// longest idle.
    MostSkilled,
    /// The agent whose last offer is the oldest, so that offers rotate.
    RoundRobin,
    /// The agent with the least capacity in use; ties go to the longest idle.
    LeastOccupied,
}

/// A queue: its base requirements, how they change with waiting time, and its timings.
#[derive(Clone, Debug)]
pub struct QueueSetup {
    /// The channels the queue accepts.
    pub channels: Vec<Channel>,
    /// The priority of its interactions unless one is given on enqueue.
    pub priority: Priority,
    pub strategy: Strategy,
    /// Skills every agent must have, with a minimum proficiency, on top of queue membership.
    /// The first skill is the one [`Strategy::MostSkilled`] ranks by.
    pub skills: Vec<(SkillId, Level)>,
    /// How long an agent has to accept an offer before it is withdrawn.
    pub offer_timeout: Duration,
    /// After-contact work time during which the agent keeps the interaction's capacity.
    pub wrap_up: Duration,
    /// The handle time assumed for estimated wait times until real ones are observed.
    pub expected_handle_time: Duration,
    /// Applied cumulatively: once an interaction has waited `steps[k].after`, steps `0..=k`
    /// have changed its requirements.
    pub steps: Vec<StepSetup>,
}

/// One routing step: a change of requirements once an interaction has waited long enough.
#[derive(Clone, Debug, Default)]
pub struct StepSetup {
    pub after: Duration,
    /// Sets the minimum proficiency of a skill: lower relaxes, higher tightens, a skill not
    /// yet required is added.
    pub require: Vec<(SkillId, Level)>,
    /// Skills that are no longer required.
    pub drop: Vec<SkillId>,
    /// Members of these queues may also take the interaction.
    pub overflow_queues: Vec<QueueId>,
    /// Agents with these skills, in any queue, may also take the interaction.
    pub overflow_skills: Vec<(SkillId, Level)>,
}

/// An agent: skills, queue memberships and how many interactions of each channel they may
/// handle at once.
#[derive(Clone, Debug, Default)]
pub struct AgentSetup {
    pub skills: Vec<(SkillId, Level)>,
    pub queues: Vec<QueueId>,
    /// The most interactions of each channel at once, indexed by [`Channel::index`]; zero
    /// means the agent does not take that channel.
    pub max_per_channel: [u8; 4],
    /// The agent's desk answers every offer at once ("auto-accept"): an offer is followed
    /// by its acceptance in the same step, with no offer timeout.
    pub auto_accept: bool,
}
