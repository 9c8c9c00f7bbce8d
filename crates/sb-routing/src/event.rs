//! What goes into the engine (commands) and what comes out (events).
//!
//! Every change of state the engine makes is reported as an [`Event`]; the driver appends
//! them to the event log, which is the source of truth for reports and for rebuilding state.

use std::time::Duration;

use crate::ids::{AgentId, Channel, InteractionId, Level, Priority, QueueId, ReasonId, SkillId, Timestamp};

/// An interaction to be routed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewInteraction {
    pub id: InteractionId,
    pub channel: Channel,
    pub queue: QueueId,
    /// Overrides the queue's priority.
    pub priority: Option<Priority>,
    /// Skills this interaction needs on top of the queue's, e.g. a language.
    pub requirements: Vec<(SkillId, Level)>,
}

/// What an agent has said about their availability. What they are doing at the moment
/// (busy, wrap-up) follows from their interactions: see [`AgentActivity`].
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Presence {
    Offline,
    Available,
    NotReady(ReasonId),
}

/// An agent's state as reported to people and reports.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum AgentActivity {
    Offline,
    /// Ready and without any interaction.
    Available,
    /// Offered or handling at least one interaction.
    Busy,
    /// Only after-contact work is left.
    WrapUp,
    NotReady(ReasonId),
}

/// An input to the engine.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    /// A new interaction enters its queue now.
    Enqueue(NewInteraction),
    /// The customer left before being connected (hung up, closed the chat).
    Abandon {
        interaction: InteractionId,
    },
    Accept {
        interaction: InteractionId,
        agent: AgentId,
    },
    Reject {
        interaction: InteractionId,
        agent: AgentId,
    },
    /// The conversation ended; wrap-up starts if the queue has one.
    Complete {
        interaction: InteractionId,
        agent: AgentId,
    },
    /// The agent finished after-contact work before its time was up.
    EndWrapUp {
        interaction: InteractionId,
        agent: AgentId,
    },
    SetPresence {
        agent: AgentId,
        presence: Presence,
    },
    /// Replaces an agent's skills and proficiencies; queue memberships stay.
    SetSkills {
        agent: AgentId,
        skills: Vec<(SkillId, Level)>,
    },
    /// The connected agent hands the conversation on: to a queue, where it waits again (in
    /// order of the transfer), or straight to an agent with room for it, who gets an offer.
    Transfer {
        interaction: InteractionId,
        agent: AgentId,
        to: TransferTarget,
    },
}

/// Where a transfer goes.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum TransferTarget {
    Queue(QueueId),
    Agent(AgentId),
}

/// Why an offer was withdrawn without an answer from the agent.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum CancelReason {
    /// The customer left.
    CustomerLeft,
    /// The agent went not-ready or offline.
    AgentUnavailable,
}

/// A change of state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    Queued {
        interaction: InteractionId,
        queue: QueueId,
        channel: Channel,
        priority: Priority,
    },
    /// The interaction has waited long enough for routing step `step` (1-based) to apply.
    StepReached {
        interaction: InteractionId,
        step: u8,
    },
    Offered {
        interaction: InteractionId,
        agent: AgentId,
        expires_at: Timestamp,
    },
    Accepted {
        interaction: InteractionId,
        agent: AgentId,
    },
    /// The agent declined; the interaction is back at its place in the queue.
    Rejected {
        interaction: InteractionId,
        agent: AgentId,
    },
    /// The agent did not answer in time; the interaction is back at its place in the queue
    /// and the agent is not-ready with the "missed" reason.
    OfferTimedOut {
        interaction: InteractionId,
        agent: AgentId,
    },
    OfferCancelled {
        interaction: InteractionId,
        agent: AgentId,
        reason: CancelReason,
    },
    /// The customer left while waiting (or while being offered).
    Abandoned {
        interaction: InteractionId,
        queue: QueueId,
        waited: Duration,
    },
    /// The conversation ended; the agent is in wrap-up until `wrap_up_until` if it is set.
    Completed {
        interaction: InteractionId,
        agent: AgentId,
        wrap_up_until: Option<Timestamp>,
    },
    WrapUpEnded {
        interaction: InteractionId,
        agent: AgentId,
    },
    /// The agent handed the conversation on; an offer (to the agent) or a wait (in the
    /// queue) follows.
    Transferred {
        interaction: InteractionId,
        from: AgentId,
        to: TransferTarget,
    },
    /// An agent's skills were replaced.
    SkillsChanged {
        agent: AgentId,
    },
    /// What the agent is doing, or the presence they chose, changed. Both are reported, so
    /// that a not-ready chosen during a call is in the log before the call ends.
    AgentStateChanged {
        agent: AgentId,
        state: AgentActivity,
        presence: Presence,
    },
}

impl Event {
    /// The interaction the event is about, if any.
    pub fn interaction(&self) -> Option<InteractionId> {
        match *self {
            Event::Queued { interaction, .. }
            | Event::StepReached { interaction, .. }
            | Event::Offered { interaction, .. }
            | Event::Accepted { interaction, .. }
            | Event::Rejected { interaction, .. }
            | Event::OfferTimedOut { interaction, .. }
            | Event::OfferCancelled { interaction, .. }
            | Event::Abandoned { interaction, .. }
            | Event::Completed { interaction, .. }
            | Event::WrapUpEnded { interaction, .. }
            | Event::Transferred { interaction, .. } => Some(interaction),
            Event::AgentStateChanged { .. } | Event::SkillsChanged { .. } => None,
        }
    }
}

/// An event and the moment it happened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventRecord {
    pub at: Timestamp,
    pub event: Event,
}

/// A command the engine refused; the engine's state is unchanged.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    #[error("interaction {0} is already known")]
    DuplicateInteraction(InteractionId),
    #[error("unknown interaction {0}")]
    UnknownInteraction(InteractionId),
    #[error("unknown agent {0}")]
    UnknownAgent(AgentId),
    #[error("unknown queue {0}")]
    UnknownQueue(QueueId),
    #[error("unknown skill {0}")]
    UnknownSkill(SkillId),
    #[error("queue {queue} does not take {channel} interactions")]
    ChannelNotServed { queue: QueueId, channel: Channel },
    #[error("interaction {interaction} is not offered to agent {agent}")]
    NotOffered { interaction: InteractionId, agent: AgentId },
    #[error("interaction {interaction} is not connected to agent {agent}")]
    NotConnected { interaction: InteractionId, agent: AgentId },
    #[error("interaction {interaction} is not in wrap-up with agent {agent}")]
    NotInWrapUp { interaction: InteractionId, agent: AgentId },
    #[error("interaction {0} is already connected to an agent")]
    AlreadyConnected(InteractionId),
    #[error("agent {0} has no room for this interaction now (not available, or at capacity)")]
    NoRoom(AgentId),
    #[error("interaction {0} cannot be transferred to the agent who has it")]
    TransferToSelf(InteractionId),
}

/// A routing setup the engine cannot work with.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SetupError {
    #[error("queue {queue} refers to skill {skill}, but there are only {count} skills")]
    QueueSkill { queue: usize, skill: SkillId, count: u16 },
    #[error("queue {queue}, step {step}: steps must come strictly later than the one before")]
    StepOrder { queue: usize, step: usize },
    #[error("queue {queue}, step {step} refers to an unknown skill or queue")]
    StepReference { queue: usize, step: usize },
    #[error("queue {queue} takes no channel")]
    NoChannel { queue: usize },
    #[error("agent {agent} refers to an unknown skill or queue")]
    AgentReference { agent: usize },
    #[error("the capacity cost of {channel} must be 1..=100, not {cost}")]
    ChannelCost { channel: Channel, cost: u8 },
    #[error("there are {0} queues; at most 65,535 are supported")]
    TooManyQueues(usize),
}
