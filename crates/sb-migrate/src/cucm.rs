//! Cisco Unified CM CDR files (`cdr_<cluster>_<node>_<YYYYMMDDHHMM>_<seq>`) to stays in
//! queues.
//!
//! A file starts with a header row of quoted field names and a row of types, then one
//! record a line: text fields quoted, numbers not, times in seconds since 1970 (UTC), IP
//! addresses as signed 32-bit integers. Columns are found by name, since every release
//! adds some. A call that went through a hunt pilot (`huntPilotDN`) is a stay in the queue
//! of that pilot:
//!
//! | stay | CDR |
//! |---|---|
//! | queue | `huntPilotDN` |
//! | arrival | `dateTimeOrigination` |
//! | answered | `dateTimeConnect` is not 0; otherwise abandoned |
//! | wait | `totalWaitTimeInQueue` when the call was queued (`wasCallQueued`); else connect (or disconnect) minus origination |
//! | talk | `duration` |
//! | agent | `finalCalledPartyNumber`, when answered |
//! | caller, number dialled | `callingPartyNumber`, `originalCalledPartyNumber` |
//!
//! Records of other types than 1 (end of call) and calls through no hunt pilot are
//! counted and left out; lines that cannot be read are rejected with their number.

use crate::csv::{Header, fields};
use crate::history::{LegacyContact, Outcome as Ended};
use crate::report::{Outcome, Report};

/// What a file gave besides the stays.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub records: u64,
    /// Records of other types, or of calls through no hunt pilot.
    pub skipped: u64,
    pub rejected: u64,
}

const REQUIRED: &[&str] = &[
    "cdrrecordtype",
    "globalcallid_callmanagerid",
    "globalcallid_callid",
    "datetimeorigination",
    "datetimeconnect",
    "datetimedisconnect",
    "duration",
    "huntpilotdn",
];

/// The stays in `text`, the file `file`; problems go to `report`.
pub fn import_cdr(file: &str, text: &str, report: &mut Report) -> (Vec<LegacyContact>, Counts) {
    let mut counts = Counts::default();
    let mut lines = text.lines().enumerate();
    let header = match lines.next().map(|(_, l)| fields(l, ',')) {
        Some(Ok(names)) => Header::new(&names),
        Some(Err(e)) => {
            report.add("header", Outcome::Rejected, e, Some((file, 1)));
            return (Vec::new(), counts);
        }
        None => {
            report.add(file, Outcome::Rejected, "the file is empty", None);
            return (Vec::new(), counts);
        }
    };
    let missing: Vec<&str> = REQUIRED.iter().copied().filter(|c| header.column(c).is_none()).collect();
    if !missing.is_empty() {
        let detail = format!("not a CUCM CDR header: it lacks {}", missing.join(", "));
        report.add("header", Outcome::Rejected, detail, Some((file, 1)));
        return (Vec::new(), counts);
    }
    let mut out = Vec::new();
    for (i, line) in lines {
        let at = Some((file, i + 1));
        if line.trim().is_empty() {
            continue;
        }
        let row = match fields(line, ',') {
            Ok(row) => row,
            Err(e) => {
                counts.rejected += 1;
                report.add("record", Outcome::Rejected, e, at);
                continue;
            }
        };
        // The row of types.
        let is_type = |f: &String| {
            let f = f.trim();
            let name = f.split('(').next().unwrap_or(f);
            !name.is_empty() && name.bytes().all(|b| b.is_ascii_uppercase())
        };
        if i == 1 && row.iter().all(is_type) {
            continue;
        }
        if row.len() != header.len() {
            counts.rejected += 1;
            let detail = format!("{} fields, the header has {}", row.len(), header.len());
            report.add("record", Outcome::Rejected, detail, at);
            continue;
        }
        counts.records += 1;
        if header.get(&row, "cdrrecordtype") != Some("1") {
            counts.skipped += 1;
            continue;
        }
        let Some(pilot) = header.get(&row, "huntpilotdn") else {
            counts.skipped += 1;
            continue;
        };
        let number = |column: &str| -> Result<i64, String> {
            let text = header.get(&row, column).unwrap_or("0");
            text.parse::<i64>().map_err(|_| format!("{column} {text:?} is not a whole number"))
        };
        let read = || -> Result<LegacyContact, String> {
            let origination = number("datetimeorigination")?;
            let connect = number("datetimeconnect")?;
            let disconnect = number("datetimedisconnect")?;
            let duration = number("duration")?;
            // Seconds since 1970 and durations, in range for milliseconds.
            let limit = 10_000_000_000;
            if origination <= 0 || origination > limit {
                return Err(format!("dateTimeOrigination {origination} is not a time"));
            }
            if [connect, disconnect, duration].iter().any(|v| !(0..=limit).contains(v)) {
                return Err("a time or the duration is out of range".to_owned());
            }
            let queued = header.column("wascallqueued").is_some() && number("wascallqueued")? == 1;
            let answered = connect > 0;
            let wait_s = if queued && header.column("totalwaittimeinqueue").is_some() {
                number("totalwaittimeinqueue")?.clamp(0, limit)
            } else if answered {
                connect - origination
            } else {
                disconnect - origination
            };
            let id = match header.get(&row, "pkid") {
                Some(pkid) => pkid.to_owned(),
                None => format!("{}-{}", number("globalcallid_callmanagerid")?, number("globalcallid_callid")?),
            };
            Ok(LegacyContact {
                id,
                queue: pilot.to_owned(),
                caller: header.get(&row, "callingpartynumber").map(str::to_owned),
                dnis: header.get(&row, "originalcalledpartynumber").map(str::to_owned),
                arrived_ms: origination * 1000,
                wait_ms: Some(wait_s.max(0) * 1000),
                talk_ms: answered.then_some(duration.max(0) * 1000),
                agent: answered.then(|| header.get(&row, "finalcalledpartynumber").map(str::to_owned)).flatten(),
                outcome: if answered { Ended::Answered } else { Ended::Abandoned },
            })
        };
        match read() {
            Ok(contact) => out.push(contact),
            Err(e) => {
                counts.rejected += 1;
                report.add("record", Outcome::Rejected, e, at);
            }
        }
    }
    (out, counts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_columns_are_found_by_name() {
        let text = "\"huntPilotDN\",\"cdrRecordType\",\"globalCallID_callManagerId\",\"globalCallID_callId\",\
                    \"dateTimeOrigination\",\"dateTimeConnect\",\"dateTimeDisconnect\",\"duration\"\n\
                    VARCHAR(50),INTEGER,INTEGER,INTEGER,INTEGER,INTEGER,INTEGER,INTEGER\n\
                    \"5000\",1,1,7,1000,1030,1090,60\n\
                    \"5000\",1,1,8,2000,0,2045,0\n";
        let mut report = Report::default();
        let (stays, counts) = import_cdr("cdr", text, &mut report);
        assert_eq!(counts, Counts { records: 2, skipped: 0, rejected: 0 }, "{report}");
        assert_eq!((stays[0].id.as_str(), stays[0].wait_ms, stays[0].talk_ms), ("1-7", Some(30_000), Some(60_000)));
        assert_eq!((stays[1].outcome, stays[1].wait_ms, stays[1].talk_ms), (Ended::Abandoned, Some(45_000), None));
    }
}
