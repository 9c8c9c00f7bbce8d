//! The simulation's future-event list: events keyed by time in milliseconds, earliest
//! first, and among events of the same time the first scheduled first, so that runs are
//! reproducible.
//!
//! A discrete-event simulation never schedules anything before the event it is handling;
//! the queue checks that, since such an event would be a bug in the model. (A radix heap,
//! which exploits that property, measured slower than this binary heap for the few hundred
//! events a simulation holds at once.)

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
    /// Scheduling order, to break ties in time.
    seq: u64,
    /// The time last popped; nothing may be scheduled before it.
    last: u64,
}

impl<T> EventQueue<T> {
    pub(crate) fn new() -> EventQueue<T> {
        EventQueue { heap: BinaryHeap::new(), seq: 0, last: 0 }
    }

    /// Schedules an event; `at` must not be before the last time popped.
    pub(crate) fn push(&mut self, at: u64, event: T) {
        assert!(at >= self.last, "an event at {at} ms scheduled before the simulation's time {} ms", self.last);
        self.seq += 1;
        self.heap.push(Scheduled { key: (u128::from(at) << 64) | u128::from(self.seq), event });
    }

    /// The time of the next event.
    pub(crate) fn peek_time(&mut self) -> Option<u64> {
        self.heap.peek().map(|s| (s.key >> 64) as u64)
    }

    pub(crate) fn pop(&mut self) -> Option<(u64, T)> {
        let Scheduled { key, event } = self.heap.pop()?;
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
        let mut reference: Vec<(u64, u32)> = Vec::new();
        let mut popped = Vec::new();
        let mut now = 0;
        for n in 0..20_000u32 {
            // Push one to three events at or after now, then pop one, as a simulation does.
            for _ in 0..=rng.below(2) {
                let at = now + rng.below(if n % 7 == 0 { 1 } else { 5_000_000 });
                queue.push(at, n);
                reference.push((at, n));
            }
            let (at, _) = queue.pop().unwrap();
            assert!(at >= now, "time went backwards");
            now = at;
            popped.push(at);
        }
        while let Some((at, _)) = queue.pop() {
            popped.push(at);
        }
        let mut times: Vec<u64> = reference.iter().map(|(t, _)| *t).collect();
        times.sort_unstable();
        assert_eq!(popped, times);
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
