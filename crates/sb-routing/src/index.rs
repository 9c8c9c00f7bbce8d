//! The index of available agents.
//!
//! For every channel, key (skill or queue membership) and proficiency level there is an
//! ordered set of the agents who could take one more interaction of that channel now, in
//! the order a strategy prefers them. Finding the best agent walks at most five of these
//! sets (the levels at or above a minimum) from the front, instead of scanning every agent.
//! An index exists only for each ordering that some queue's strategy uses.

use std::collections::BTreeSet;

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

/// An entry: the two sort keys, then the agent, which makes entries unique.
pub(crate) type Entry = (u64, u64, u32);

#[derive(Debug)]
pub(crate) struct AvailIndex {
    pub order: Order,
    key_count: usize,
    sets: Vec<BTreeSet<Entry>>,
}

const LEVELS: usize = Level::MAX.get() as usize;

impl AvailIndex {
    pub fn new(order: Order, key_count: usize) -> AvailIndex {
        let sets = (0..Channel::ALL.len() * key_count * LEVELS).map(|_| BTreeSet::new()).collect();
        AvailIndex { order, key_count, sets }
    }

    fn slot(&self, channel: Channel, key: Key, level: u8) -> usize {
        (channel.index() * self.key_count + key as usize) * LEVELS + (level as usize - 1)
    }

    pub fn insert(&mut self, channel: Channel, key: Key, level: u8, entry: Entry) {
        let slot = self.slot(channel, key, level);
        self.sets[slot].insert(entry);
    }

    pub fn remove(&mut self, channel: Channel, key: Key, level: u8, entry: &Entry) {
        let slot = self.slot(channel, key, level);
        self.sets[slot].remove(entry);
    }

    pub fn set(&self, channel: Channel, key: Key, level: u8) -> &BTreeSet<Entry> {
        &self.sets[self.slot(channel, key, level)]
    }

    /// Every entry holding `key` at `min` or above, merged into preference order.
    pub fn merged(&self, channel: Channel, key: Key, min: u8) -> Merged<'_> {
        let mut iters: [Option<Peekable<'_>>; LEVELS] = Default::default();
        for (slot, level) in iters.iter_mut().zip(min..=Level::MAX.get()) {
            let set = self.set(channel, key, level);
            if !set.is_empty() {
                *slot = Some(set.iter().peekable());
            }
        }
        Merged { iters }
    }
}

type Peekable<'a> = std::iter::Peekable<std::collections::btree_set::Iter<'a, Entry>>;

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
