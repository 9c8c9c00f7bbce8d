//! Limits on what anyone can try without a credential: failed sign-ins (per user and per
//! client address) and chats opened (per client address), so that a password cannot be
//! guessed by brute force and a tenant's queues cannot be flooded from one address.
//!
//! A [`Throttle`] counts events per key in a sliding window; it reads no clock (time is an
//! argument) and is shared by the HTTP handlers behind a mutex held only for a count.

use std::collections::{HashMap, VecDeque};

/// At most `limit` events per key in any `window_ms`.
#[derive(Debug)]
pub struct Throttle {
    limit: usize,
    window_ms: i64,
    events: HashMap<String, VecDeque<i64>>,
}

impl Throttle {
    pub fn new(limit: usize, window_ms: i64) -> Throttle {
        Throttle { limit, window_ms, events: HashMap::new() }
    }

    /// Whether another event for `key` is allowed at `now_ms`; if not, in how many
    /// milliseconds it will be. Does not count the event (see [`Throttle::record`]).
    pub fn check(&mut self, key: &str, now_ms: i64) -> Result<(), i64> {
        let Some(times) = self.events.get_mut(key) else { return Ok(()) };
        while times.front().is_some_and(|t| *t <= now_ms - self.window_ms) {
            times.pop_front();
        }
        if times.len() < self.limit {
            return Ok(());
        }
        Err(times.front().map_or(0, |oldest| oldest + self.window_ms - now_ms).max(1))
    }

    pub fn record(&mut self, key: &str, now_ms: i64) {
        self.events.entry(key.to_string()).or_default().push_back(now_ms);
        // Forget keys whose events have all left the window, now and then.
        if self.events.len() > 10_000 {
            let horizon = now_ms - self.window_ms;
            self.events.retain(|_, times| times.back().is_some_and(|t| *t > horizon));
        }
    }

    /// Forgets the key's latest event (an attempt that turned out well).
    pub fn forget_latest(&mut self, key: &str) {
        if let Some(times) = self.events.get_mut(key) {
            times.pop_back();
        }
    }

    /// Forgets a key's events (a successful sign-in clears the user's failures).
    pub fn clear(&mut self, key: &str) {
        self.events.remove(key);
    }
}

/// The limits the server applies.
#[derive(Debug)]
pub struct Limits {
    /// Failed sign-ins per `tenant/user`.
    pub sign_in_user: Throttle,
    /// Failed sign-ins per client address: higher, since a whole contact center may sign in
    /// from behind one address.
    pub sign_in_address: Throttle,
    /// Chats opened per client address.
    pub chats: Throttle,
}

/// Failed sign-ins allowed per user, and per client address, in [`SIGN_IN_WINDOW_MS`].
pub const SIGN_IN_FAILURES: usize = 5;
pub const SIGN_IN_FAILURES_PER_ADDRESS: usize = 50;
pub const SIGN_IN_WINDOW_MS: i64 = 15 * 60 * 1000;
/// Chats one client address may open per minute.
pub const CHATS_PER_MINUTE: usize = 30;

impl Limits {
    /// The default sign-in limit, and this many chats per address and minute.
    pub fn new(chats_per_minute: usize) -> Limits {
        Limits {
            sign_in_user: Throttle::new(SIGN_IN_FAILURES, SIGN_IN_WINDOW_MS),
            sign_in_address: Throttle::new(SIGN_IN_FAILURES_PER_ADDRESS, SIGN_IN_WINDOW_MS),
            chats: Throttle::new(chats_per_minute, 60_000),
        }
    }
}

impl Default for Limits {
    fn default() -> Limits {
        Limits::new(CHATS_PER_MINUTE)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_held_back_until_its_oldest_event_leaves_the_window() {
        let mut t = Throttle::new(3, 1_000);
        for now in [0, 100, 200] {
            assert_eq!(t.check("a", now), Ok(()));
            t.record("a", now);
        }
        assert_eq!(t.check("a", 300), Err(700), "the event at 0 leaves at 1,000");
        assert_eq!(t.check("b", 300), Ok(()), "keys are counted apart");
        assert_eq!(t.check("a", 1_000), Ok(()));
        t.clear("a");
        assert_eq!(t.check("a", 1_001), Ok(()));
        for now in [2_000, 2_001, 2_002] {
            t.record("c", now);
        }
        t.forget_latest("c");
        assert_eq!(t.check("c", 2_003), Ok(()), "two left in the window");
    }
}
