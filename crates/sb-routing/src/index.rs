//! The index of available agents.
//!
//! For every channel, key (skill or queue membership) and proficiency level there is an
//! ordered set of the agents who could take one more interaction of that channel now, in
//! the order a strategy prefers them. Finding the best agent walks at most five of these
//! sets (the levels at or above a minimum) from the front, instead of scanning every agent.
//! An index exists only for each ordering that some queue's strategy uses.
//!
//! Each set is a sorted deque. Removal is lazy: an entry carries the agent's generation, the
//! engine bumps an agent's generation when its entries stop being valid, and readers skip
//! entries whose generation is old ([`AvailIndex::remove`] only counts them, drops them
//! from the ends, and compacts a set once most of it is stale). Agents mostly join a set at
//! its back (they became idle now) and leave it at its front (the longest idle was chosen),
//! so both are constant time, where an ordered tree paid a search for each.

use std::collections::VecDeque;

use crate::criteria::Key;
use crate::ids::{Channel, Level};

/// The order of agents within a set; the smallest entry is preferred.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Order {
    /// Longest idle first (used by longest-idle and most-skilled).
    IdleSince,
    /// Oldest last offer first (round robin).
    LastOffer,
    /// Least capacity in use, then longest idle.
    Load,
}

/// An entry: the two sort keys, the agent, and the agent's generation when it was entered
/// (an entry is live while the agent's generation is unchanged).
pub(crate) type Entry = (u64, u64, u32, u32);

#[derive(Debug, Default)]
struct Set {
    /// Live and stale entries, in preference order.
    entries: VecDeque<Entry>,
    live: usize,
}

#[derive(Debug)]
pub(crate) struct AvailIndex {
    pub order: Order,
    key_count: usize,
    sets: Vec<Set>,
}

const LEVELS: usize = Level::MAX.get() as usize;

impl AvailIndex {
    pub fn new(order: Order, key_count: usize) -> AvailIndex {
        let sets = (0..Channel::ALL.len() * key_count * LEVELS).map(|_| Set::default()).collect();
        AvailIndex { order, key_count, sets }
    }

    fn slot(&self, channel: Channel, key: Key, level: u8) -> usize {
        (channel.index() * self.key_count + key as usize) * LEVELS + (level as usize - 1)
    }

    pub fn insert(&mut self, channel: Channel, key: Key, level: u8, entry: Entry) {
        let slot = self.slot(channel, key, level);
        let set = &mut self.sets[slot];
        set.live += 1;
        if set.entries.back().is_none_or(|last| *last < entry) {
            set.entries.push_back(entry);
        } else {
            let at = set.entries.partition_point(|e| *e < entry);
            set.entries.insert(at, entry);
        }
    }

    /// Counts one entry of the set as gone; the caller has already made it stale, and `live`
    /// tells live entries from stale ones.
    pub fn remove(&mut self, channel: Channel, key: Key, level: u8, live: impl Fn(&Entry) -> bool) {
        let slot = self.slot(channel, key, level);
        let set = &mut self.sets[slot];
        set.live -= 1;
        while set.entries.front().is_some_and(|e| !live(e)) {
            set.entries.pop_front();
        }
        while set.entries.back().is_some_and(|e| !live(e)) {
            set.entries.pop_back();
        }
        if set.entries.len() > 2 * set.live + 16 {
            set.entries.retain(|e| live(e));
        }
    }

    /// The set's entries in preference order, stale ones included.
    pub fn set(&self, channel: Channel, key: Key, level: u8) -> std::collections::vec_deque::Iter<'_, Entry> {
        self.sets[self.slot(channel, key, level)].entries.iter()
    }

    /// The first entry holding `key` at `min` or above, in preference order, that `eligible`
    /// accepts. Most keys are held at one level only (queue memberships always are), so a
    /// single set is read directly, without merging.
    pub fn first(&self, channel: Channel, key: Key, min: u8, eligible: impl Fn(&Entry) -> bool) -> Option<Entry> {
        let base = self.slot(channel, key, min);
        let levels = &self.sets[base..base + LEVELS - (min as usize - 1)];
        let mut filled = levels.iter().filter(|s| !s.entries.is_empty());
        match (filled.next(), filled.next()) {
            (None, _) => None,
            (Some(only), None) => only.entries.iter().find(|e| eligible(e)).copied(),
            (Some(_), Some(_)) => self.merged(channel, key, min).find(|e| eligible(e)),
        }
    }

    /// Every entry holding `key` at `min` or above, merged into preference order, stale ones
    /// included.
    pub fn merged(&self, channel: Channel, key: Key, min: u8) -> Merged<'_> {
        let mut iters: [Option<Peekable<'_>>; LEVELS] = Default::default();
        for (slot, level) in iters.iter_mut().zip(min..=Level::MAX.get()) {
            let set = &self.sets[self.slot(channel, key, level)].entries;
            if !set.is_empty() {
                *slot = Some(set.iter().peekable());
            }
        }
        Merged { iters }
    }
}

type Peekable<'a> = std::iter::Peekable<std::collections::vec_deque::Iter<'a, Entry>>;

/// A k-way merge of up to five ordered sets, without allocating.
pub(crate) struct Merged<'a> {
    iters: [Option<Peekable<'a>>; LEVELS],
}

impl Iterator for Merged<'_> {
    type Item = Entry;

    fn next(&mut self) -> Option<Entry> {
        let mut best: Option<(usize, Entry)> = None;
        for (i, it) in self.iters.iter_mut().enumerate() {
            if let Some(&&e) = it.as_mut().and_then(|it| it.peek())
                && best.is_none_or(|(_, b)| e < b)
            {
                best = Some((i, e));
            }
        }
        let (i, e) = best?;
        self.iters[i].as_mut().and_then(|it| it.next());
        Some(e)
    }
}
