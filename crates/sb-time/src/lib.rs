//! Time as an input: the millisecond [`Timestamp`] that every sans-IO core of Switchboard
//! (the routing engine, the flow interpreter, the SIP transaction layer, the media state
//! machines, the simulator) receives with each call instead of reading a clock.
//!
//! **Invariant:** nothing here reads a clock. A driver maps its clock (the Unix epoch, or a
//! monotonic origin) to timestamps; tests and the simulator use a virtual clock from zero.

use std::fmt;
use std::time::Duration;

/// A point in time, in milliseconds since an origin the driver chooses (the Unix epoch in
/// production, zero under a virtual clock). Displays as seconds with three decimals.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug, Default)]
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
    fn arithmetic_saturates_and_display_is_seconds() {
        let t = Timestamp::from_millis(1500);
        assert_eq!(t.to_string(), "1.500");
        assert_eq!(format!("{t:>8}"), "   1.500");
        assert_eq!(t.after(Duration::from_millis(20)).as_millis(), 1520);
        assert_eq!(Timestamp::from_millis(u64::MAX).after_millis(1).as_millis(), u64::MAX);
        assert_eq!(Timestamp::from_millis(u64::MAX).after(Duration::MAX).as_millis(), u64::MAX);
        assert_eq!(Timestamp::ZERO.since(t), Duration::ZERO);
        assert_eq!(t.since(Timestamp::ZERO), Duration::from_millis(1500));
    }
}
