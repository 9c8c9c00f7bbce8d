//! The queue_log importer on a synthetic log: stays assembled across lines out of order,
//! calls through two queues, orphans and malformed lines reported with their numbers.

use sb_migrate::history::{LegacyContact, Outcome};
use sb_migrate::queue_log::QueueLog;
use sb_migrate::{Outcome as Reported, Report};

/// The stays, the report, and the counts of lines, other events and unanswered rings.
fn read() -> (Vec<LegacyContact>, Report, (u64, u64, u64)) {
    let text = include_str!("../test_data/asterisk/queue_log");
    let mut report = Report::default();
    let mut log = QueueLog::new("queue_log");
    for (i, line) in text.lines().enumerate() {
        log.push(i + 1, line, &mut report);
    }
    let counts = (log.lines, log.other_events, log.unanswered_rings);
    (log.finish(&mut report), report, counts)
}

#[test]
fn stays_are_assembled_in_time_order() {
    let (contacts, _, counts) = read();
    let summary: Vec<(String, &str, i64, Option<i64>, Outcome)> = contacts
        .iter()
        .map(|c| {
            (c.id.clone(), c.queue.as_str(), c.wait_ms.unwrap_or(-1) / 1000, c.talk_ms.map(|t| t / 1000), c.outcome)
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("c3#1".to_owned(), "support", 8, Some(300), Outcome::Answered),
            ("c1#1".to_owned(), "support", 15, Some(180), Outcome::Answered),
            ("c2#1".to_owned(), "support", 40, None, Outcome::Abandoned),
            ("c4#1".to_owned(), "sales", 30, None, Outcome::Exited),
            ("c4#2".to_owned(), "support", 9, Some(60), Outcome::Answered),
        ]
    );
    let c1 = contacts.iter().find(|c| c.id == "c1#1").unwrap();
    assert_eq!(
        (c1.caller.as_deref(), c1.dnis.as_deref(), c1.agent.as_deref()),
        (Some("4930111"), Some("5550100"), Some("PJSIP/1002"))
    );
    assert_eq!(counts, (23, 2, 1));
}

#[test]
fn malformed_lines_and_orphans_are_reported_with_their_numbers() {
    let (_, report, _) = read();
    let lines = |outcome| {
        let mut lines: Vec<usize> = report
            .items
            .iter()
            .filter(|i| i.outcome == outcome)
            .filter_map(|i| i.source.as_ref().map(|s| s.1))
            .collect();
        lines.sort_unstable();
        lines
    };
    // Not a line, too few fields, a time that is not one, a CONNECT with no ENTERQUEUE.
    assert_eq!(lines(Reported::Rejected), [19, 20, 21, 22]);
    // c5 never left the queue.
    assert_eq!(lines(Reported::NotTranslated), [18]);
    assert!(report.to_string().contains("event FROBNICATE: unknown event, 1 lines ignored"), "{report}");
}
