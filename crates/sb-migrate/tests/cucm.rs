//! The CUCM CDR importer on a synthetic CDR file with every column of CUCM 12.5 and later:
//! hunt-pilot calls become stays, other records are skipped, bad lines are rejected with
//! their numbers, and the baseline reads the stays.

use sb_migrate::history::{self, Outcome as Ended};
use sb_migrate::{Report, cucm};
mod common;

#[test]
fn hunt_pilot_calls_become_stays() {
    let mut report = Report::default();
    let text = include_str!("../test_data/cisco/cdr_StandAloneCluster_01_202612011000_1");
    let (stays, counts) = cucm::import_cdr("cdr_1", text, &mut report);
    assert_eq!(counts, cucm::Counts { records: 11, skipped: 2, rejected: 2 }, "{report}");
    assert_eq!(stays.len(), 8);
    assert_eq!(stays.iter().filter(|s| s.outcome == Ended::Answered).count(), 6);
    let rejected = common::rejected_lines(&report);
    assert_eq!(rejected, [9, 10], "{report}");
    // The first call: queued on pilot 5000, answered by 2001.
    let first = &stays[0];
    assert_eq!(
        (first.queue.as_str(), first.caller.as_deref(), first.agent.as_deref(), first.outcome),
        ("5000", Some("+14155550101"), Some("2001"), Ended::Answered)
    );
    assert_eq!(first.talk_ms, Some(266_000));
    // The baseline of the stays: two pilots; the caller who called three times is not
    // resolved the first two times.
    let kpis = history::baseline(&stays, &history::Definitions::default());
    let totals: Vec<(&str, u64, u64)> =
        kpis.iter().filter(|k| k.interval_ms.is_none()).map(|k| (k.queue.as_str(), k.offered, k.abandoned)).collect();
    assert_eq!(totals, [("5000", 5, 1), ("5100", 3, 1)]);
}
