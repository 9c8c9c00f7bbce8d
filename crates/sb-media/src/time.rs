//! Time as an input: a millisecond [`Timestamp`] that the owner of a media state machine
//! passes in with every call.
//!
//! **Invariant:** nothing in this crate reads a clock. The driver maps its clock (the Unix
//! epoch, or a monotonic origin) to these timestamps; tests use a virtual clock from zero.

use std::fmt;
use std::time::Duration;

/// A point in time in milliseconds since an origin the owner chooses. Displays as seconds
/// with three decimals.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(u64);

impl Timestamp {
    pub const ZERO: Timestamp = Timestamp(0);

    pub fn from_millis(ms: u64) -> Timestamp {
        Timestamp(ms)
    }

    pub fn as_millis(self) -> u64 {
        self.0
    }

    /// The time `d` later, saturating at the end of time.
    pub fn after(self, d: Duration) -> Timestamp {
        Timestamp(self.0.saturating_add(u64::try_from(d.as_millis()).unwrap_or(u64::MAX)))
    }

    /// The time `ms` milliseconds later, saturating at the end of time.
    pub fn after_millis(self, ms: u64) -> Timestamp {
        Timestamp(self.0.saturating_add(ms))
    }

    /// How long after `earlier` this is, or zero if it is not later.
    pub fn since(self, earlier: Timestamp) -> Duration {
        Duration::from_millis(self.0.saturating_sub(earlier.0))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&format!("{}.{:03}", self.0 / 1000, self.0 % 1000))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_saturates() {
        let t = Timestamp::from_millis(1500);
        assert_eq!(t.to_string(), "1.500");
        assert_eq!(t.after(Duration::from_millis(20)).as_millis(), 1520);
        assert_eq!(Timestamp::from_millis(u64::MAX).after_millis(1).as_millis(), u64::MAX);
        assert_eq!(Timestamp::ZERO.since(t), Duration::ZERO);
        assert_eq!(t.since(Timestamp::ZERO), Duration::from_millis(1500));
    }
}
