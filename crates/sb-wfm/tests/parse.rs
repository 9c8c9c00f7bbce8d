//! The interval-series reader on a file with every kind of bad line: each is reported with
//! its line number, and the good rows are kept.

use sb_wfm::*;

#[test]
fn every_bad_line_is_reported_and_the_good_rows_are_kept() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("test_data/history-bad.csv");
    let parsed = parse_series("history-bad.csv", &std::fs::read_to_string(path).unwrap());
    let messages: Vec<String> = parsed.problems.iter().map(ToString::to_string).collect();
    assert_eq!(
        messages,
        [
            "history-bad.csv:5: expected 3 columns, found 2",
            "history-bad.csv:6: expected 3 columns, found 4",
            "history-bad.csv:7: bad interval_start `2024-03-04 10:00`: expected YYYY-MM-DDTHH:MM",
            "history-bad.csv:8: negative volume -3",
            "history-bad.csv:8: gap: 3 missing interval(s) from 2024-03-04T09:00 to 2024-03-04T10:00",
            "history-bad.csv:9: negative aht_seconds -1",
            "history-bad.csv:10: bad volume `abc`: expected a number",
            "history-bad.csv:11: duplicate interval 2024-03-04T11:30 (first on line 10)",
            "history-bad.csv:13: unequal interval lengths: 2024-03-04T12:10 is not on the 30-minute grid",
            "history-bad.csv:15: duplicate interval 2024-03-04T12:00 (first on line 12)",
            "history-bad.csv:16: duplicate interval 2024-03-04T12:30 (first on line 14)",
            "history-bad.csv:17: gap: 2 missing interval(s) from 2024-03-04T13:00 to 2024-03-04T13:30",
            "history-bad.csv:20: bad interval_start `2024-02-30T15:00`: expected YYYY-MM-DDTHH:MM",
            "history-bad.csv:21: gap: 1 missing interval(s) from 2024-03-04T15:00 to 2024-03-04T15:00",
        ]
    );
    let series = parsed.series.unwrap();
    assert_eq!(series.start().to_string(), "2024-03-04T08:00");
    assert_eq!(series.length().minutes(), 30);
    let kept: Vec<(String, f64)> =
        series.iter().filter_map(|(start, o)| o.map(|o| (start.to_string()[11..].to_string(), o.volume()))).collect();
    let expect = [
        ("08:00", 10.0),
        ("08:30", 12.0),
        ("12:00", 16.0),
        ("12:30", 17.0),
        ("14:00", 20.0),
        ("14:30", 21.0),
        ("15:30", 23.0),
    ];
    assert_eq!(kept, expect.map(|(t, v)| (t.to_string(), v)));
    // Holes from 09:00 to 15:00 where lines were bad or missing.
    assert_eq!(series.len(), 16);
}

#[test]
fn out_of_order_rows_are_dropped() {
    let text = "interval_start,volume,aht_seconds\n\
                2024-03-04T08:00,1,100\n\
                2024-03-04T08:30,2,100\n\
                2024-03-04T09:00,3,100\n\
                2024-03-04T10:00,4,100\n\
                2024-03-04T09:30,5,100\n\
                2024-03-04T10:30,6,100\n";
    let parsed = parse_series("f.csv", text);
    let messages: Vec<String> = parsed.problems.iter().map(ToString::to_string).collect();
    assert_eq!(
        messages,
        [
            "f.csv:5: gap: 1 missing interval(s) from 2024-03-04T09:30 to 2024-03-04T09:30",
            "f.csv:6: interval 2024-03-04T09:30 is out of order (it follows 2024-03-04T10:00)",
        ]
    );
    let volumes: Vec<Option<f64>> = parsed.series.unwrap().slots().iter().map(|o| o.map(|o| o.volume())).collect();
    assert_eq!(volumes, [Some(1.0), Some(2.0), Some(3.0), None, Some(4.0), Some(6.0)]);
}

#[test]
fn a_wrong_header_is_reported_and_skipped() {
    let text = "start,calls,aht\n2024-03-04T08:00,1,100\n2024-03-04T08:15,2,100\n";
    let parsed = parse_series("f.csv", text);
    let messages: Vec<String> = parsed.problems.iter().map(ToString::to_string).collect();
    assert_eq!(messages, ["f.csv:1: expected the header `interval_start,volume,aht_seconds`, found `start,calls,aht`"]);
    assert_eq!(parsed.series.unwrap().length().minutes(), 15);
}
