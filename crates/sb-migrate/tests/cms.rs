//! The Avaya CMS importer on a synthetic hsplit export: interval records, bad rows rejected
//! with their numbers, and the baseline of the records with CMS's own definitions.

use sb_migrate::history::{self, Definitions};
use sb_migrate::{Report, cms};
mod common;

#[test]
fn hsplit_rows_become_interval_records_and_a_baseline() {
    let mut report = Report::default();
    let tz = jiff::tz::TimeZone::get("America/New_York").unwrap();
    let records = cms::import_hsplit("hsplit.csv", include_str!("../test_data/avaya/hsplit.csv"), &tz, &mut report);
    assert_eq!(records.len(), 16, "{report}");
    let rejected = common::rejected_lines(&report);
    assert_eq!(rejected, [13], "{report}");
    // 08:00 in New York on 2024-03-15 is 12:00 UTC (daylight saving time).
    assert_eq!(records[0].start_ms, 1_710_504_000_000);
    let kpis = history::baseline_with(&[], &records, &Definitions::default());
    let total = |queue: &str| kpis.iter().find(|k| k.queue == queue && k.interval_ms.is_none()).unwrap().clone();
    // Skill 1: 184 offered, 168 answered, 14 abandoned, 138 acceptable: 75 %; ASA 2764 s
    // over 168 calls; talk 41749 s over 168 calls.
    let one = total("1");
    assert_eq!((one.offered, one.answered, one.abandoned), (184, 168, 14));
    assert!((one.service_level.unwrap() - 0.75).abs() < 1e-9);
    assert!((one.asa_s.unwrap() - 2764.0 / 168.0).abs() < 1e-9);
    assert!((one.aht_s.unwrap() - 41749.0 / 168.0).abs() < 1e-9);
    assert_eq!(one.fcr, None, "no callers in interval records");
    // Skill 2 at 08:00 had no calls: no service level rather than 0.
    let quiet = kpis.iter().find(|k| k.queue == "2" && k.interval_ms == Some(records[8].start_ms)).unwrap();
    assert_eq!((quiet.offered, quiet.service_level, quiet.asa_s), (0, None, None));
    let two = total("2");
    assert!((two.service_level.unwrap() - 0.675).abs() < 1e-9);
}
