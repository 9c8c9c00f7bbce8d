//! Asterisk's Master.csv on a synthetic file: queue calls become stays without queue
//! times, other calls are counted, bad lines are rejected with their numbers.

use sb_migrate::history::{self, Outcome as Ended};
use sb_migrate::{Report, cdr_csv};
mod common;

#[test]
fn queue_calls_become_stays_without_times() {
    let mut report = Report::default();
    let tz = jiff::tz::TimeZone::get("Europe/Berlin").unwrap();
    let text = include_str!("../test_data/asterisk/Master.csv");
    let (stays, counts) = cdr_csv::import_master_csv("Master.csv", text, &tz, true, &mut report);
    assert_eq!(counts, cdr_csv::Counts { records: 6, not_queued: 1, rejected: 3 }, "{report}");
    let rejected = common::rejected_lines(&report);
    assert_eq!(rejected, [6, 7, 8], "{report}");
    let summary: Vec<(&str, &str, Option<&str>, Ended)> =
        stays.iter().map(|s| (s.id.as_str(), s.queue.as_str(), s.agent.as_deref(), s.outcome)).collect();
    assert_eq!(
        summary,
        [
            ("c1", "support", Some("PJSIP/1002"), Ended::Answered),
            ("m2", "sales-team", Some("PJSIP/1001"), Ended::Answered),
            ("m3", "support", None, Ended::Abandoned),
            ("m4", "support", None, Ended::Abandoned),
        ]
    );
    // 22:15 in Berlin on 2023-11-14 is 21:15 UTC.
    assert_eq!(stays[0].arrived_ms, 1_699_996_500_000);
    assert!(stays.iter().all(|s| s.wait_ms.is_none() && s.talk_ms.is_none()));
    // Volumes and FCR, but no service level without times.
    let kpis = history::baseline(&stays, &history::Definitions::default());
    let support = kpis.iter().find(|k| k.queue == "support" && k.interval_ms.is_none()).unwrap();
    assert_eq!((support.offered, support.answered, support.abandoned), (3, 1, 2));
    assert_eq!((support.service_level, support.asa_s, support.aht_s), (None, None, None));
    // Asterisk 12 and later write a row per party: a ringall queue that rang two members,
    // one of whom answered, is one answered call.
    let parties = "\"\",\"4930888\",\"5550100\",\"t\",\"\",\"PJSIP/t-1\",\"PJSIP/1001-2\",\"Queue\",\"support\",\"2023-11-14 23:40:00\",\"\",\"2023-11-14 23:40:20\",20,0,\"NO ANSWER\",\"D\",\"u9\",\"\"\n\
                   \"\",\"4930888\",\"5550100\",\"t\",\"\",\"PJSIP/t-1\",\"PJSIP/1002-3\",\"Queue\",\"support\",\"2023-11-14 23:40:00\",\"2023-11-14 23:40:20\",\"2023-11-14 23:45:00\",300,280,\"ANSWERED\",\"D\",\"u9\",\"\"\n";
    let mut report = Report::default();
    let (stays, _) = cdr_csv::import_master_csv("parties.csv", parties, &tz, true, &mut report);
    assert_eq!(stays.len(), 1, "{report}");
    assert_eq!((stays[0].outcome, stays[0].agent.as_deref()), (Ended::Answered, Some("PJSIP/1002")));
    // Without uniqueids, a call's id is its start and the caller's channel, which joins the
    // parties too.
    let (stays, _) = cdr_csv::import_master_csv("parties.csv", parties, &tz, false, &mut report);
    assert_eq!(stays.len(), 1);
    assert_eq!((stays[0].id.as_str(), stays[0].outcome), ("2023-11-14 23:40:00-PJSIP/t-1", Ended::Answered));
}
