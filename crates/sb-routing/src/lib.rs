//! The ACD routing engine of Switchboard.
//!
//! A sans-IO, deterministic state machine that decides which agent gets which interaction
//! (call, chat, email, SMS): queues with priorities, skills with proficiency levels, routing
//! steps that change requirements as waiting time grows, agent states with reason codes,
//! capacity per channel, offers that can be accepted, rejected or time out, and estimated
//! wait times. Every change of state is reported as an [`Event`].
//!
//! The crate does no I/O and never reads the clock: time is an argument. The same engine
//! runs under the server's tokio driver and under the simulator's virtual clock.
//!
//! ```
//! use std::time::Duration;
//! use sb_routing::*;
//!
//! let queue = QueueSetup {
//!     channels: vec![Channel::Chat],
//!     priority: Priority::DEFAULT,
//!     strategy: Strategy::LongestIdle,
//!     skills: vec![],
//!     offer_timeout: Duration::from_secs(20),
//!     wrap_up: Duration::ZERO,
//!     expected_handle_time: Duration::from_secs(300),
//!     steps: vec![],
//! };
//! let agent = AgentSetup { skills: vec![], queues: vec![QueueId(0)], max_per_channel: [0, 3, 0, 0], auto_accept: false };
//! let mut engine = Engine::new(RoutingSetup {
//!     skill_count: 0,
//!     channel_costs: [100, 33, 50, 25],
//!     missed_reason: ReasonId(0),
//!     queues: vec![queue],
//!     agents: vec![agent],
//! })
//! .unwrap();
//! let t = Timestamp::from_millis(1_000);
//! engine.handle(t, Command::SetPresence { agent: AgentId(0), presence: Presence::Available }).unwrap();
//! engine.handle(t, Command::Enqueue(NewInteraction {
//!     id: InteractionId(1),
//!     channel: Channel::Chat,
//!     queue: QueueId(0),
//!     priority: None,
//!     requirements: vec![],
//! })).unwrap();
//! let offered = std::iter::from_fn(|| engine.poll_event())
//!     .any(|r| matches!(r.event, Event::Offered { agent: AgentId(0), .. }));
//! assert!(offered);
//! ```

mod criteria;
mod engine;
mod event;
mod hash;
mod ids;
mod index;
mod setup;

pub use engine::{AGENT_CAPACITY, Engine, InteractionStatus, QueueStats, RestoreState};
pub use event::{
    AgentActivity, CancelReason, Command, CommandError, Event, EventRecord, NewInteraction, Presence, SetupError,
    TransferTarget,
};
pub use ids::{AgentId, Channel, InteractionId, Level, Priority, QueueId, ReasonId, SkillId, Timestamp};
pub use setup::{AgentSetup, QueueSetup, RoutingSetup, StepSetup, Strategy};
