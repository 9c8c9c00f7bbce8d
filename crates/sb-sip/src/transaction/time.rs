//! Time as an input for the transaction layer: a millisecond [`Timestamp`] that the driver
//! passes in with every call, and the RFC 3261 timer base values in [`TimerConfig`].
//!
//! **Invariant:** nothing in this crate reads a clock. The driver maps its clock to these
//! timestamps; tests use a virtual clock that starts at zero.

use std::time::Duration;

pub use sb_time::Timestamp;

/// The base timer values of RFC 3261 section 17 (table 4). Every other timer derives from
/// them: A, E and G start at T1; B, F, H, J, L and M are 64*T1; E and G are capped at T2;
/// I and K are T4; D is 32 s (at least 64*T1) over unreliable transports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimerConfig {
    /// The round-trip time estimate, 500 ms by default.
    pub t1: Duration,
    /// The longest retransmission interval for non-INVITE requests and INVITE responses,
    /// 4 s by default.
    pub t2: Duration,
    /// How long a message may stay in the network, 5 s by default.
    pub t4: Duration,
}

impl Default for TimerConfig {
    fn default() -> TimerConfig {
        TimerConfig { t1: Duration::from_millis(500), t2: Duration::from_secs(4), t4: Duration::from_secs(5) }
    }
}

/// Milliseconds in `d`, at least 1 so that a zero configuration cannot make a timer fire
/// forever at the same instant.
pub(crate) fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX).max(1)
}

impl TimerConfig {
    /// T1 in milliseconds: the first retransmission interval.
    pub fn t1_ms(&self) -> u64 {
        millis(self.t1)
    }

    /// T2 in milliseconds: the longest retransmission interval.
    pub fn t2_ms(&self) -> u64 {
        millis(self.t2)
    }

    pub(crate) fn t4_ms(&self) -> u64 {
        millis(self.t4)
    }

    /// 64*T1: Timers B, F, H, J, L and M.
    pub(crate) fn long_ms(&self) -> u64 {
        self.t1_ms().saturating_mul(64)
    }

    /// Timer D over an unreliable transport: 32 s, or 64*T1 if that is longer.
    pub(crate) fn d_ms(&self) -> u64 {
        self.long_ms().max(32_000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_saturates_and_defaults_follow_the_rfc() {
        let t = Timestamp::from_millis(1500);
        assert_eq!(t.to_string(), "1.500");
        assert_eq!(t.after(Duration::from_millis(20)).as_millis(), 1520);
        assert_eq!(Timestamp::from_millis(u64::MAX).after_millis(1).as_millis(), u64::MAX);
        assert_eq!(Timestamp::ZERO.since(t), Duration::ZERO);
        let c = TimerConfig::default();
        assert_eq!((c.t1_ms(), c.t2_ms(), c.t4_ms(), c.long_ms(), c.d_ms()), (500, 4000, 5000, 32_000, 32_000));
        let zero = TimerConfig { t1: Duration::ZERO, t2: Duration::ZERO, t4: Duration::ZERO };
        assert_eq!((zero.t1_ms(), zero.long_ms(), zero.d_ms()), (1, 64, 32_000));
    }
}
