//! Identifiers and small value types shared by the whole engine.
//!
//! The engine works with dense numeric ids: the application layer maps the names of a
//! tenant's configuration (`billing`, `alice`) onto them once, at start-up. A value of
//! [`Level`] or [`Priority`] proves that it is in range.

use std::fmt;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident($inner:ty)) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
        pub struct $name(pub $inner);

        impl $name {
            /// The id as an index into the engine's tables.
            pub fn index(self) -> usize {
                self.0 as usize
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }
    };
}

id_type!(
    /// An agent, numbered densely from zero in the order of the routing setup.
    AgentId(u32)
);
id_type!(
    /// A queue, numbered densely from zero in the order of the routing setup.
    QueueId(u16)
);
id_type!(
    /// A skill, numbered densely from zero.
    SkillId(u16)
);
id_type!(
    /// A reason code for the not-ready state.
    ReasonId(u16)
);
id_type!(
    /// An interaction (a call, chat, email or SMS conversation). The driver assigns these,
    /// strictly increasing in order of acceptance, so that they also break ties in queue order.
    InteractionId(u64)
);

/// The media channel of an interaction.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub enum Channel {
    Voice,
    Chat,
    Email,
    Sms,
}

impl Channel {
    /// Every channel, in index order.
    pub const ALL: [Channel; 4] = [Channel::Voice, Channel::Chat, Channel::Email, Channel::Sms];

    /// The channel's position in per-channel arrays.
    pub fn index(self) -> usize {
        self as usize
    }

    /// The lowercase name used in configuration and APIs.
    pub fn name(self) -> &'static str {
        match self {
            Channel::Voice => "voice",
            Channel::Chat => "chat",
            Channel::Email => "email",
            Channel::Sms => "sms",
        }
    }

    /// Parses a lowercase channel name.
    pub fn from_name(name: &str) -> Option<Channel> {
        Channel::ALL.into_iter().find(|c| c.name() == name)
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A skill proficiency from 1 (novice) to 5 (expert).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct Level(u8);

impl Level {
    pub const MIN: Level = Level(1);
    pub const MAX: Level = Level(5);

    /// Returns the level, or `None` when `value` is outside 1..=5.
    pub fn new(value: u8) -> Option<Level> {
        (1..=5).contains(&value).then_some(Level(value))
    }

    pub const fn get(self) -> u8 {
        self.0
    }
}

/// A priority from 1 (lowest) to 10 (highest); higher priorities are served first.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct Priority(u8);

impl Priority {
    pub const DEFAULT: Priority = Priority(5);

    /// Returns the priority, or `None` when `value` is outside 1..=10.
    pub fn new(value: u8) -> Option<Priority> {
        (1..=10).contains(&value).then_some(Priority(value))
    }

    pub const fn get(self) -> u8 {
        self.0
    }
}

/// A point in time in milliseconds; see [`sb_time`]. The engine never reads a clock: every
/// call that depends on time receives one of these.
pub use sb_time::Timestamp;
