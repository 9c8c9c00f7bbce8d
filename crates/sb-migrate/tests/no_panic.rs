//! Every importer takes damaged input without panicking: the synthetic fixtures with random
//! edits (inserted and deleted characters, among them quotes, separators, line breaks and
//! multi-byte characters) are read to a result and a report, whatever they hold.

use proptest::prelude::*;
use sb_migrate::{Report, TenantInfo};

const ALPHABET: &[char] =
    &['"', ',', ';', '\n', '\r', ':', '|', '-', '=', '(', ')', '#', '0', '9', ' ', 'é', '€', '\u{feff}', '{', '}', '['];

/// `text` with `edits` applied: (place, None) deletes the character there, (place, Some(c))
/// inserts `c` before it.
fn damaged(text: &str, edits: &[(usize, Option<usize>)]) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    for (place, insert) in edits {
        if chars.is_empty() {
            break;
        }
        let at = place % chars.len();
        match insert {
            Some(c) => chars.insert(at, ALPHABET[c % ALPHABET.len()]),
            None => {
                chars.remove(at);
            }
        }
    }
    chars.into_iter().collect()
}

fn edits() -> impl Strategy<Value = Vec<(usize, Option<usize>)>> {
    prop::collection::vec((any::<usize>(), prop::option::of(any::<usize>())), 1..12)
}

fn tenant() -> TenantInfo {
    TenantInfo { id: "t".into(), name: "t".into(), time_zone: "UTC".into() }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn configuration_importers(edits in edits()) {
        let queues = damaged(include_str!("../test_data/asterisk/queues.conf"), &edits);
        let _ = sb_migrate::asterisk::import_queues("q", &queues, &tenant());
        let extensions = damaged(include_str!("../test_data/asterisk/extensions.conf"), &edits);
        let _ = sb_migrate::dialplan::import_extensions("e", &extensions, &mut Report::default());
        let sat = damaged(include_str!("../test_data/avaya/sat.txt"), &edits);
        let _ = sb_migrate::avaya::import_sat("s", &sat, &tenant());
        let agents = damaged(include_str!("../test_data/generic/agents.csv"), &edits);
        let queues = damaged(include_str!("../test_data/generic/queues.csv"), &edits);
        let files = sb_migrate::generic::Files { skills: None, queues: Some(("q", &queues)), agents: Some(("a", &agents)) };
        let _ = sb_migrate::generic::import(files, &tenant());
        let json = damaged(include_str!("../test_data/cisco/uccx.json"), &edits);
        if let Ok(document) = serde_json::from_str::<serde_json::Value>(&json) {
            let _ = sb_migrate::uccx::import("u", &sb_migrate::uccx::Answers::from_document(&document), &tenant());
        }
    }

    #[test]
    fn history_importers(edits in edits()) {
        let tz = jiff::tz::TimeZone::UTC;
        let mut report = Report::default();
        let mut log = sb_migrate::queue_log::QueueLog::new("l");
        for (i, line) in damaged(include_str!("../test_data/asterisk/queue_log"), &edits).lines().enumerate() {
            log.push(i + 1, line, &mut report);
        }
        let _ = log.finish(&mut report);
        let master = damaged(include_str!("../test_data/asterisk/Master.csv"), &edits);
        let _ = sb_migrate::cdr_csv::import_master_csv("m", &master, &tz, true, &mut report);
        let cdr = damaged(include_str!("../test_data/cisco/cdr_StandAloneCluster_01_202612011000_1"), &edits);
        let _ = sb_migrate::cucm::import_cdr("c", &cdr, &mut report);
        let hsplit = damaged(include_str!("../test_data/avaya/hsplit.csv"), &edits);
        let _ = sb_migrate::cms::import_hsplit("h", &hsplit, &tz, &mut report);
        let layout_text = damaged(include_str!("../test_data/avaya/cdr-layout.txt"), &edits);
        let layout = sb_migrate::avaya_cdr::layout("l", &layout_text)
            .or_else(|_| sb_migrate::avaya_cdr::layout("l", include_str!("../test_data/avaya/cdr-layout.txt")))
            .unwrap();
        let records = damaged(include_str!("../test_data/avaya/cdr.txt"), &edits);
        let _ = sb_migrate::avaya_cdr::import_cdr("r", &records, &layout, &tz, &mut report);
    }
}
