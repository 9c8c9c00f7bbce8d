//! The simulation's future-event list: events keyed by time in milliseconds, earliest
//! first, and among events of the same time the first scheduled first, so that runs are
//! reproducible.
//!
//! A discrete-event simulation never schedules anything before the event it is handling;
//! the queue checks that, since such an event would be a bug in the model. (A radix heap,
//! which exploits that property, measured slower than this binary heap for the few hundred
//! events a simulation holds at once, and so did a 4-ary heap.)
//!
//! Events of recurring sources (each stream's next arrival: one at a time per stream) wait
//! in a heap of their own, as small as the number of sources, so that the main heap, which
//! holds the contacts' own events, takes one push and one pop per contact instead of two.
//! Both heaps share one scheduling order, so the events come out exactly as from one.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// A scheduled event, ordered by time and then scheduling order alone, both packed in one
/// number and inverted, so that the heap's largest entry is the earliest event.
#[derive(Debug)]
struct Scheduled<T> {
    key: u128,
    event: T,
}

impl<T> PartialEq for Scheduled<T> {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}

impl<T> Eq for Scheduled<T> {}

impl<T> PartialOrd for Scheduled<T> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl<T> Ord for Scheduled<T> {
    fn cmp(&self, other: &Self) -> Ordering {
        other.key.cmp(&self.key)
    }
}

/// A monotone priority queue of `(time, event)`.
#[derive(Debug)]
pub(crate) struct EventQueue<T> {
    heap: BinaryHeap<Scheduled<T>>,
    /// Events of recurring sources (see the module documentation).
    recurring: BinaryHeap<Scheduled<T>>,
    /// Scheduling order, to break ties in time.
    seq: u64,
    /// The time last popped; nothing may be scheduled before it.
    last: u64,
}

impl<T> EventQueue<T> {
    pub(crate) fn new() -> EventQueue<T> {
        EventQueue { heap: BinaryHeap::new(), recurring: BinaryHeap::new(), seq: 0, last: 0 }
    }

    /// The key of an event scheduled now for `at`, which must not be before the last time
    /// popped.
    fn key(&mut self, at: u64) -> u128 {
        assert!(at >= self.last, "an event at {at} ms scheduled before the simulation's time {} ms", self.last);
        self.seq += 1;
        (u128::from(at) << 64) | u128::from(self.seq)
    }

    /// Schedules an event.
    pub(crate) fn push(&mut self, at: u64, event: T) {
        let key = self.key(at);
        self.heap.push(Scheduled { key, event });
    }

    /// Schedules the next event of a recurring source, such as a stream's next arrival.
    pub(crate) fn push_recurring(&mut self, at: u64, event: T) {
        let key = self.key(at);
        self.recurring.push(Scheduled { key, event });
    }

    /// The heap whose first event comes first, if any holds one.
    fn first(&mut self) -> Option<&mut BinaryHeap<Scheduled<T>>> {
        match (self.heap.peek(), self.recurring.peek()) {
            (Some(a), Some(b)) if b.key < a.key => Some(&mut self.recurring),
            (Some(_), _) => Some(&mut self.heap),
            (None, Some(_)) => Some(&mut self.recurring),
            (None, None) => None,
        }
    }

    /// The time of the next event.
    pub(crate) fn peek_time(&mut self) -> Option<u64> {
        let first = self.first()?;
        first.peek().map(|s| (s.key >> 64) as u64)
    }

    pub(crate) fn pop(&mut self) -> Option<(u64, T)> {
        let Scheduled { key, event } = self.first()?.pop()?;
        let at = (key >> 64) as u64;
        self.last = at;
        Some((at, event))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Rng;

    #[test]
    fn events_come_out_in_time_order_like_a_sorted_list() {
        let mut rng = Rng::new(7);
        let mut queue = EventQueue::new();
        let mut reference: Vec<(u64, usize)> = Vec::new();
        let mut popped = Vec::new();
        let mut now = 0;
        for n in 0..20_000u32 {
            // Push one to three events at or after now, then pop one, as a simulation does.
            // Some of them recurring; ties in time come out in scheduling order across both.
            for _ in 0..=rng.below(2) {
                let at = now + rng.below(if n % 7 == 0 { 1 } else { 5_000_000 });
                let label = reference.len();
                if rng.below(3) == 0 {
                    queue.push_recurring(at, label);
                } else {
                    queue.push(at, label);
                }
                reference.push((at, label));
            }
            let (at, label) = queue.pop().unwrap();
            assert!(at >= now, "time went backwards");
            now = at;
            popped.push((at, label));
        }
        while let Some(next) = queue.pop() {
            popped.push(next);
        }
        // A stable sort by time keeps scheduling order among equal times.
        reference.sort_by_key(|(t, _)| *t);
        assert_eq!(popped, reference);
        assert_eq!(queue.peek_time(), None);
    }

    #[test]
    #[should_panic(expected = "scheduled before")]
    fn scheduling_into_the_past_is_a_bug() {
        let mut queue = EventQueue::new();
        queue.push(10, ());
        queue.pop();
        queue.push(9, ());
    }
}
