//! Asterisk's call detail records in `Master.csv` (cdr_csv): one line per call leg, no
//! header, the fields `accountcode, src, dst, dcontext, clid, channel, dstchannel, lastapp,
//! lastdata, start, answer, end, duration, billsec, disposition, amaflags`, then with
//! `loguniqueid` the `uniqueid` and with `loguserfield` the `userfield`. Times are the
//! server's local time.
//!
//! A call whose last application was `Queue` is a stay in that queue: answered when its
//! disposition is `ANSWERED` and an agent's channel (`dstchannel`) took it, abandoned
//! otherwise. CDRs hold no queue times (`billsec` counts from the channel's answer, which
//! `Queue` gives when it plays music), so the wait and the talk time are unknown: these
//! stays count for volumes, answered and abandoned calls and first contact resolution, and
//! the queue_log, where there is one, gives the times. Other calls are counted and left out.

use jiff::civil::DateTime;
use jiff::tz::TimeZone;

use crate::csv::fields;
use crate::history::{LegacyContact, Outcome as Ended};
use crate::report::{Outcome, Report};
use crate::slug_of;

/// What a file gave besides the stays.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub records: u64,
    /// Calls that never reached a queue.
    pub not_queued: u64,
    pub rejected: u64,
}

/// The stays in `text`, the file `file`, with times in `tz`; problems go to `report`. With
/// `uniqueid` (cdr.conf's `loguniqueid=yes`), the 17th field is the call's uniqueid: the rows
/// of one call (one per party since Asterisk 12) make one stay, answered if any of them was,
/// and its id is the queue_log's call id. Without it, a call's id is its start and the
/// caller's channel (unique to the call), which joins the parties as well.
pub fn import_master_csv(
    file: &str,
    text: &str,
    tz: &TimeZone,
    uniqueid: bool,
    report: &mut Report,
) -> (Vec<LegacyContact>, Counts) {
    let mut counts = Counts::default();
    let mut out: Vec<LegacyContact> = Vec::new();
    let mut by_id: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for (i, line) in text.lines().enumerate() {
        let at = Some((file, i + 1));
        if line.trim().is_empty() {
            continue;
        }
        let row = match fields(line, ',') {
            Ok(row) if row.len() >= 16 => row,
            Ok(row) => {
                counts.rejected += 1;
                let detail = format!("{} fields; a CDR has 16 or more", row.len());
                report.add("record", Outcome::Rejected, detail, at);
                continue;
            }
            Err(e) => {
                counts.rejected += 1;
                report.add("record", Outcome::Rejected, e, at);
                continue;
            }
        };
        counts.records += 1;
        if !row[7].eq_ignore_ascii_case("queue") {
            counts.not_queued += 1;
            continue;
        }
        let queue = row[8].split(',').next().unwrap_or("").trim();
        let start = match row[9].trim().parse::<DateTime>().ok().and_then(|t| t.to_zoned(tz.clone()).ok()) {
            Some(t) if !queue.is_empty() => t.timestamp().as_millisecond(),
            _ => {
                counts.rejected += 1;
                let detail = if queue.is_empty() {
                    "Queue without a queue name".to_owned()
                } else {
                    format!("start {:?} is not a time such as 2026-12-01 09:00:05", row[9])
                };
                report.add("record", Outcome::Rejected, detail, at);
                continue;
            }
        };
        let agent_channel = row[6].trim();
        let answered = row[14].trim() == "ANSWERED" && !agent_channel.is_empty();
        // PJSIP/1002-00000002: the agent's interface without the channel's sequence.
        let agent = answered.then(|| agent_channel.rsplit_once('-').map_or(agent_channel, |(a, _)| a).to_owned());
        let id = match (uniqueid, row.get(16).map(|u| u.trim()).filter(|u| !u.is_empty())) {
            (true, Some(uniqueid)) => uniqueid.to_owned(),
            (true, None) => {
                counts.rejected += 1;
                report.add("record", Outcome::Rejected, "no uniqueid in the 17th field (loguniqueid=yes)", at);
                continue;
            }
            (false, _) => format!("{}-{}", row[9].trim(), row[5].trim()),
        };
        if let Some(&i) = by_id.get(&id) {
            // Another party of the same call: answered if any party answered.
            let stay = &mut out[i];
            stay.arrived_ms = stay.arrived_ms.min(start);
            if answered && stay.outcome != Ended::Answered {
                stay.outcome = Ended::Answered;
                stay.agent = agent;
            }
            continue;
        }
        by_id.insert(id.clone(), out.len());
        out.push(LegacyContact {
            id,
            queue: slug_of(queue),
            caller: Some(row[1].trim().to_owned()).filter(|c| !c.is_empty()),
            dnis: Some(row[2].trim().to_owned()).filter(|d| !d.is_empty()),
            arrived_ms: start,
            wait_ms: None,
            talk_ms: None,
            agent,
            outcome: if answered { Ended::Answered } else { Ended::Abandoned },
        });
    }
    (out, counts)
}
