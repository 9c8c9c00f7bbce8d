//! Legacy history: the contacts a legacy center handled, whatever system logged them, and
//! the baseline KPIs computed from them.
//!
//! A [`LegacyContact`] is one stay in one queue: when the caller arrived, how long they
//! waited, and how it ended (answered, with the talk time; abandoned; or sent out of the
//! queue by a timeout, a key or an empty queue). Importers turn each system's logs into
//! these; [`baseline`] computes the KPIs per queue and interval from them.

use std::collections::{BTreeMap, HashMap};

/// How a stay in a queue ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Outcome {
    /// An agent answered.
    Answered,
    /// The caller hung up while waiting.
    Abandoned,
    /// The queue sent the caller on: a timeout, a key, an empty queue.
    Exited,
}

impl Outcome {
    pub fn name(self) -> &'static str {
        match self {
            Outcome::Answered => "answered",
            Outcome::Abandoned => "abandoned",
            Outcome::Exited => "exited",
        }
    }

    pub fn parse(name: &str) -> Option<Outcome> {
        Some(match name {
            "answered" => Outcome::Answered,
            "abandoned" => Outcome::Abandoned,
            "exited" => Outcome::Exited,
            _ => return None,
        })
    }
}

/// One stay of a caller in one queue of the legacy center.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegacyContact {
    /// Unique within its source: re-importing the same log adds nothing.
    pub id: String,
    pub queue: String,
    /// The caller's number, when the log has it.
    pub caller: Option<String>,
    /// The number dialled, when the log has it.
    pub dnis: Option<String>,
    /// Milliseconds since the Unix epoch.
    pub arrived_ms: i64,
    /// Until answered, or until the caller left; `None` when the source does not tell (call
    /// records without queue times): such a stay counts for volumes, but not for the
    /// service level or the ASA.
    pub wait_ms: Option<i64>,
    /// Answered: the conversation's length.
    pub talk_ms: Option<i64>,
    pub agent: Option<String>,
    pub outcome: Outcome,
}

/// The KPIs of one queue over one interval (contacts counted by arrival).
#[derive(Debug, Clone, PartialEq)]
pub struct Kpis {
    pub queue: String,
    /// The interval's start, ms since the epoch; `None` for the whole period.
    pub interval_ms: Option<i64>,
    pub offered: u64,
    pub answered: u64,
    pub abandoned: u64,
    /// Answered within the threshold, as a share of offered minus short abandons.
    pub service_level: Option<f64>,
    /// Mean wait of the answered, in seconds.
    pub asa_s: Option<f64>,
    /// Mean talk time of the answered, in seconds.
    pub aht_s: Option<f64>,
    /// Callers not back in any queue within a day, as a share of the contacts whose caller is
    /// known; `None` without caller numbers.
    pub fcr: Option<f64>,
}

/// How the KPIs are computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Definitions {
    /// The interval length, in milliseconds.
    pub interval_ms: i64,
    /// Service-level threshold: answered within this many milliseconds.
    pub within_ms: i64,
    /// Abandons quicker than this are left out of the service level's denominator.
    pub short_abandon_ms: i64,
    /// A caller back within this long was not resolved the first time.
    pub repeat_window_ms: i64,
}

impl Default for Definitions {
    fn default() -> Definitions {
        Definitions {
            interval_ms: 30 * 60_000,
            within_ms: 20_000,
            short_abandon_ms: 5_000,
            repeat_window_ms: 86_400_000,
        }
    }
}

impl Definitions {
    /// The definitions in words, for reports.
    pub fn describe(&self) -> String {
        format!(
            "offered: contacts arriving in the interval; service level: answered within {}s / (offered - abandons within {}s); \
             ASA: mean wait of the answered; AHT: mean talk time of the answered (queue logs hold no after-call work); \
             FCR: contacts whose caller did not enter any queue again within {}h, over contacts with a caller number; \
             contacts without a recorded wait (call records) count in offered, answered, abandoned and FCR only",
            self.within_ms / 1000,
            self.short_abandon_ms / 1000,
            self.repeat_window_ms / 3_600_000
        )
    }
}

/// A legacy system's figures for one queue and interval, already summed (Avaya CMS, for
/// instance, keeps no single calls).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntervalRecord {
    pub queue: String,
    /// The interval's start, ms since the epoch.
    pub start_ms: i64,
    pub minutes: u32,
    pub offered: u64,
    pub answered: u64,
    pub abandoned: u64,
    /// Answered within `within_s`, the legacy system's own service-level threshold.
    pub answered_within: u64,
    pub within_s: u32,
    /// The answered calls' total wait and talk time, in seconds.
    pub answer_s: u64,
    pub talk_s: u64,
}

/// The sums KPIs are computed from, so that calls and interval records add up.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Sums {
    offered: u64,
    answered: u64,
    abandoned: u64,
    /// Offered with a known wait: the service level's base.
    timed: u64,
    /// Answered with a known wait: the ASA's base.
    answered_timed: u64,
    short_abandoned: u64,
    answered_within: u64,
    answer_ms: i64,
    talk_ms: i64,
    talked: u64,
    /// First contact resolution: contacts whose caller is known, and of those resolved.
    known: u64,
    resolved: u64,
}

impl Sums {
    fn add(&mut self, other: &Sums) {
        self.offered += other.offered;
        self.answered += other.answered;
        self.abandoned += other.abandoned;
        self.timed += other.timed;
        self.answered_timed += other.answered_timed;
        self.short_abandoned += other.short_abandoned;
        self.answered_within += other.answered_within;
        self.answer_ms += other.answer_ms;
        self.talk_ms += other.talk_ms;
        self.talked += other.talked;
        self.known += other.known;
        self.resolved += other.resolved;
    }

    fn of_contact(c: &LegacyContact, resolved: Option<bool>, d: &Definitions) -> Sums {
        let answered = c.outcome == Outcome::Answered;
        let abandoned = c.outcome == Outcome::Abandoned;
        let timed = c.wait_ms.is_some();
        let wait = c.wait_ms.unwrap_or(0);
        Sums {
            offered: 1,
            answered: u64::from(answered),
            abandoned: u64::from(abandoned),
            timed: u64::from(timed),
            answered_timed: u64::from(answered && timed),
            short_abandoned: u64::from(abandoned && timed && wait < d.short_abandon_ms),
            answered_within: u64::from(answered && timed && wait <= d.within_ms),
            answer_ms: if answered { wait } else { 0 },
            talk_ms: c.talk_ms.filter(|_| answered).unwrap_or(0),
            talked: u64::from(answered && c.talk_ms.is_some()),
            known: u64::from(resolved.is_some()),
            resolved: u64::from(resolved == Some(true)),
        }
    }

    fn of_interval(r: &IntervalRecord) -> Sums {
        Sums {
            offered: r.offered,
            answered: r.answered,
            abandoned: r.abandoned,
            timed: r.offered,
            answered_timed: r.answered,
            short_abandoned: 0,
            answered_within: r.answered_within,
            answer_ms: i64::try_from(r.answer_s).unwrap_or(i64::MAX / 1000).saturating_mul(1000),
            talk_ms: i64::try_from(r.talk_s).unwrap_or(i64::MAX / 1000).saturating_mul(1000),
            talked: r.answered,
            known: 0,
            resolved: 0,
        }
    }

    fn kpis(&self, queue: String, interval_ms: Option<i64>) -> Kpis {
        let mean = |total_ms: i64, n: u64| (n > 0).then(|| total_ms as f64 / n as f64 / 1000.0);
        let counted = self.timed.saturating_sub(self.short_abandoned);
        Kpis {
            queue,
            interval_ms,
            offered: self.offered,
            answered: self.answered,
            abandoned: self.abandoned,
            service_level: (counted > 0).then(|| self.answered_within as f64 / counted as f64),
            asa_s: mean(self.answer_ms, self.answered_timed),
            aht_s: mean(self.talk_ms, self.talked),
            fcr: (self.known > 0).then(|| self.resolved as f64 / self.known as f64),
        }
    }
}

/// The stays with one call's duplicates left out: Asterisk's queue_log gives the stays of
/// call `ID` as `ID#1`, `ID#2`, ..., and Master.csv gives the same call as `ID`, without
/// queue times; the queue_log's stays count, whichever was imported first.
pub fn without_duplicates(contacts: Vec<LegacyContact>) -> Vec<LegacyContact> {
    let logged: std::collections::HashSet<String> =
        contacts.iter().filter_map(|c| c.id.split_once('#').map(|(call, _)| call.to_owned())).collect();
    if logged.is_empty() {
        return contacts;
    }
    contacts.into_iter().filter(|c| c.id.contains('#') || !logged.contains(&c.id)).collect()
}

/// KPIs per queue and interval (ordered by queue, then interval), then one total per queue
/// (with `interval_ms` `None`).
pub fn baseline(contacts: &[LegacyContact], definitions: &Definitions) -> Vec<Kpis> {
    baseline_with(contacts, &[], definitions)
}

/// [`baseline`] of calls and interval records together. An interval record counts in the
/// interval of `definitions` its start falls in; its service level is the legacy system's,
/// at its own threshold.
pub fn baseline_with(contacts: &[LegacyContact], intervals: &[IntervalRecord], definitions: &Definitions) -> Vec<Kpis> {
    let resolved = first_contact_resolution(contacts, definitions.repeat_window_ms);
    let mut groups: BTreeMap<(String, Option<i64>), Sums> = BTreeMap::new();
    let mut add = |queue: &str, at_ms: i64, sums: Sums| {
        let interval = at_ms.div_euclid(definitions.interval_ms) * definitions.interval_ms;
        groups.entry((queue.to_owned(), Some(interval))).or_default().add(&sums);
        groups.entry((queue.to_owned(), None)).or_default().add(&sums);
    };
    for (i, c) in contacts.iter().enumerate() {
        add(&c.queue, c.arrived_ms, Sums::of_contact(c, resolved[i], definitions));
    }
    for r in intervals {
        add(&r.queue, r.start_ms, Sums::of_interval(r));
    }
    let mut out: Vec<Kpis> =
        groups.into_iter().map(|((queue, interval_ms), sums)| sums.kpis(queue, interval_ms)).collect();
    // Per queue: its intervals in order, then its total.
    out.sort_by(|a, b| {
        a.queue.cmp(&b.queue).then(a.interval_ms.unwrap_or(i64::MAX).cmp(&b.interval_ms.unwrap_or(i64::MAX)))
    });
    out
}

/// For each contact: whether its caller stayed away for the window afterwards (`None` when
/// the caller is unknown).
fn first_contact_resolution(contacts: &[LegacyContact], window_ms: i64) -> Vec<Option<bool>> {
    let mut by_caller: HashMap<&str, Vec<(i64, usize)>> = HashMap::new();
    for (i, c) in contacts.iter().enumerate() {
        if let Some(caller) = c.caller.as_deref().filter(|c| !c.is_empty()) {
            by_caller.entry(caller).or_default().push((c.arrived_ms, i));
        }
    }
    let mut resolved = vec![None; contacts.len()];
    for arrivals in by_caller.values_mut() {
        arrivals.sort_unstable();
        for (k, &(at, i)) in arrivals.iter().enumerate() {
            let back = arrivals.get(k + 1).is_some_and(|&(next, _)| next - at <= window_ms);
            resolved[i] = Some(!back);
        }
    }
    resolved
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contact(
        queue: &str,
        at_s: i64,
        wait_s: i64,
        outcome: Outcome,
        talk_s: Option<i64>,
        caller: Option<&str>,
    ) -> LegacyContact {
        LegacyContact {
            id: format!("{queue}-{at_s}"),
            queue: queue.into(),
            caller: caller.map(str::to_owned),
            dnis: None,
            arrived_ms: at_s * 1000,
            wait_ms: Some(wait_s * 1000),
            talk_ms: talk_s.map(|t| t * 1000),
            agent: None,
            outcome,
        }
    }

    #[test]
    fn kpis_follow_their_definitions() {
        use Outcome::*;
        let contacts = [
            contact("q", 0, 10, Answered, Some(100), Some("a")),
            contact("q", 60, 30, Answered, Some(200), Some("b")),
            contact("q", 120, 3, Abandoned, None, Some("a")),
            contact("q", 180, 40, Abandoned, None, None),
            contact("q", 2000, 5, Exited, None, Some("c")),
        ];
        let d = Definitions { interval_ms: 1_800_000, ..Definitions::default() };
        let k = baseline(&contacts, &d);
        assert_eq!(k.len(), 3, "two intervals and the total");
        let first = &k[0];
        assert_eq!((first.interval_ms, first.offered, first.answered, first.abandoned), (Some(0), 4, 2, 2));
        // One answered within 20 s, out of 4 offered less 1 short abandon.
        assert_eq!(first.service_level, Some(1.0 / 3.0));
        assert_eq!(first.asa_s, Some(20.0));
        assert_eq!(first.aht_s, Some(150.0));
        // a called again 120 s later (not resolved), then not again; b resolved.
        assert_eq!(first.fcr, Some(2.0 / 3.0));
        let total = &k[2];
        assert_eq!((total.interval_ms, total.offered), (None, 5));
        assert_eq!(total.fcr, Some(3.0 / 4.0));
    }

    #[test]
    fn stays_without_a_wait_count_for_volumes_only() {
        use Outcome::*;
        let untimed = LegacyContact { wait_ms: None, ..contact("q", 30, 0, Answered, Some(400), None) };
        let contacts = [contact("q", 0, 10, Answered, Some(100), None), untimed];
        let k = baseline(&contacts, &Definitions::default());
        let total = k.iter().find(|k| k.interval_ms.is_none()).unwrap();
        assert_eq!((total.offered, total.answered), (2, 2));
        assert_eq!(total.service_level, Some(1.0), "only the timed stay is in the service level");
        assert_eq!(total.asa_s, Some(10.0));
        assert_eq!(total.aht_s, Some(250.0), "talk times count whether or not the wait is known");
    }
}
