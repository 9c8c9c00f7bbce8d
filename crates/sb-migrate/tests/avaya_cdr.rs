//! Avaya CM CDRs in the customized format, on a synthetic layout and records: incoming calls
//! to VDNs become stays without queue times, ring abandons abandoned stays, the rest is
//! counted; bad lines are rejected with their numbers.

use sb_migrate::history::Outcome as Ended;
use sb_migrate::{Report, avaya_cdr};
mod common;

#[test]
fn customized_records_become_stays_of_their_vdn() {
    let layout = avaya_cdr::layout("cdr-layout.txt", include_str!("../test_data/avaya/cdr-layout.txt")).unwrap();
    assert!(layout.month_first);
    assert_eq!(layout.fields.len(), 31);
    assert_eq!(layout.fields[28], ("vdn".to_owned(), 110, 5));
    let mut report = Report::default();
    let tz = jiff::tz::TimeZone::get("America/New_York").unwrap();
    let text = include_str!("../test_data/avaya/cdr.txt");
    let (stays, counts) = avaya_cdr::import_cdr("cdr.txt", text, &layout, &tz, &mut report);
    assert_eq!(counts, avaya_cdr::Counts { records: 11, other: 5, rejected: 2 }, "{report}");
    let rejected = common::rejected_lines(&report);
    assert_eq!(rejected, [7, 12], "{report}");
    let summary: Vec<(&str, Ended)> = stays.iter().map(|s| (s.queue.as_str(), s.outcome)).collect();
    assert_eq!(
        summary,
        [
            ("3000", Ended::Answered),
            ("3000", Ended::Answered),
            ("3000", Ended::Abandoned),
            ("3100", Ended::Answered),
            ("3000", Ended::Answered),
            ("3100", Ended::Answered),
        ]
    );
    // 03/15/24 08:12 in New York, ended after 245 s: arrived at 12:07:55 UTC.
    assert_eq!(stays[0].arrived_ms, 1_710_504_720_000 - 245_000);
    assert_eq!(stays[0].caller.as_deref(), Some("2125550142"));
    assert!(stays.iter().all(|s| s.wait_ms.is_none()));
    // The trunk record (9) of a call abandoned while ringing (H) is the same call: once,
    // abandoned. An identical record twice is two calls, and a second import keys them alike.
    let ring = text.lines().nth(3).unwrap();
    let trunk = format!("{}9{}", &ring[..18], &ring[19..]);
    let both = format!("{ring}\n{trunk}\n{trunk}\n");
    let (stays, counts) = avaya_cdr::import_cdr("pair.txt", &both, &layout, &tz, &mut report);
    assert_eq!(stays.len(), 1, "{stays:?}");
    assert_eq!((stays[0].outcome, counts.other), (Ended::Abandoned, 2));
    let twice = format!("{}\n{}\n", text.lines().next().unwrap(), text.lines().next().unwrap());
    let (first, _) = avaya_cdr::import_cdr("twice.txt", &twice, &layout, &tz, &mut report);
    let (again, _) = avaya_cdr::import_cdr("twice.txt", &twice, &layout, &tz, &mut report);
    assert_eq!(first.len(), 2);
    assert_ne!(first[0].id, first[1].id);
    assert_eq!(first.iter().map(|s| &s.id).collect::<Vec<_>>(), again.iter().map(|s| &s.id).collect::<Vec<_>>());
    // A layout without a vdn field is refused, with the reason.
    let without = include_str!("../test_data/avaya/cdr-layout.txt").replace("vdn ", "xyz ");
    assert!(avaya_cdr::layout("l", &without).unwrap_err().contains("has no vdn field"));
}
