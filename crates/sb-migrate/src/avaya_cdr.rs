//! Avaya Communication Manager call detail records in the customized format: fixed-width
//! records whose fields are the ones `display system-parameters cdr` lists on its page 2
//! (`N: item - length`), in that order, with the date format of its page 1.
//!
//! An incoming call (condition code `9`, or `C` for a conference leg) with a VDN is a stay
//! in the queue of that VDN, answered; a ring record `H` (the caller hung up while an agent's
//! phone rang) is an abandoned stay, and the trunk record of that call (the same caller, VDN
//! and end) is left out. Callers who hang up in vector processing or in queue before any
//! phone rang leave a `9` record like an answered call: CDRs cannot tell them apart (CMS
//! can). A record's key is its UCID when the layout has `ucid`, else its text and its place
//! among identical records, so that an import run again adds nothing twice. CM's records hold no queue times (`sec-dur` counts the
//! trunk's whole connection, vector and queue included), so the wait and the talk time are
//! unknown: the stays count for volumes and first contact resolution; CMS gives the service
//! level. Other records (outgoing, intraswitch, the `G` ring record of an answered call) are
//! counted and left out. `time` is when the call ended; the arrival is that less `sec-dur`.

use jiff::civil::Date;
use jiff::tz::TimeZone;

use crate::history::{LegacyContact, Outcome as Ended};
use crate::report::{Outcome, Report};

/// The record layout: each field's name, start and length, and the date order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    pub fields: Vec<(String, usize, usize)>,
    /// `true`: dates are mmddyy; `false`: ddmmyy.
    pub month_first: bool,
}

impl Layout {
    fn field<'l>(&self, line: &'l str, name: &str) -> Option<&'l str> {
        let (_, start, len) = self.fields.iter().find(|(n, _, _)| n == name)?;
        Some(line.get(*start..(start + len).min(line.len()))?.trim())
    }

    /// Where the last field this importer needs ends.
    fn needed_end(&self) -> usize {
        self.fields
            .iter()
            .filter(|(n, _, _)| matches!(n.as_str(), "date" | "time" | "sec-dur" | "duration" | "cond-code"))
            .map(|(_, start, len)| start + len)
            .max()
            .unwrap_or(0)
    }
}

/// Reads the layout from the capture of `display system-parameters cdr`.
pub fn layout(file: &str, text: &str) -> Result<Layout, String> {
    let mut cells: Vec<(u32, String, usize)> = Vec::new();
    let mut month_first = true;
    let mut customized = None;
    for line in text.lines() {
        if let Some(at) = line.find("CDR Date Format:") {
            month_first = !line[at..].contains("day/month");
        }
        if let Some(at) = line.find("Primary Output Format:") {
            let value = line[at + "Primary Output Format:".len()..].split_whitespace().next().unwrap_or("");
            customized = Some(value == "customized");
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        let mut i = 0;
        while i < words.len() {
            let Some(n) = words[i].strip_suffix(':').and_then(|n| n.parse::<u32>().ok()) else {
                i += 1;
                continue;
            };
            match (words.get(i + 1), words.get(i + 2), words.get(i + 3)) {
                (Some(name), Some(&"-"), Some(len)) if *name != "-" => {
                    let len = len
                        .parse::<usize>()
                        .ok()
                        .filter(|l| (1..=1000).contains(l))
                        .ok_or_else(|| format!("{file}: field {n} {name}: length {len:?} is not 1 to 1000"))?;
                    cells.push((n, (*name).to_owned(), len));
                    i += 4;
                }
                _ => i += 1,
            }
        }
    }
    if customized == Some(false) {
        return Err(format!("{file}: the primary output format is not customized; only the customized layout is read"));
    }
    if cells.is_empty() {
        return Err(format!("{file}: no \"N: item - length\" fields; paste page 2 of display system-parameters cdr"));
    }
    cells.sort_by_key(|(n, _, _)| *n);
    let mut fields = Vec::new();
    let mut start = 0;
    for (_, name, len) in cells {
        fields.push((name, start, len));
        start += len;
    }
    for needed in ["date", "time", "cond-code", "vdn"] {
        if !fields.iter().any(|(n, _, _)| n == needed) {
            return Err(format!("{file}: the layout has no {needed} field, which a stay needs"));
        }
    }
    if !fields.iter().any(|(n, _, _)| n == "sec-dur" || n == "duration") {
        return Err(format!("{file}: the layout has neither sec-dur nor duration"));
    }
    Ok(Layout { fields, month_first })
}

/// What a file gave besides the stays.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub records: u64,
    /// Records that are no incoming call to a VDN.
    pub other: u64,
    pub rejected: u64,
}

/// One record, read.
struct Record {
    key: String,
    end_ms: i64,
    seconds: i64,
    cond: String,
    vdn: String,
    caller: Option<String>,
    dialled: Option<String>,
}

/// FNV-1a: a stable fingerprint of a record's text, for its key when it has no UCID.
fn fingerprint(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

/// The stays in the records `text` (read from `file`), with times in `tz`.
pub fn import_cdr(
    file: &str,
    text: &str,
    layout: &Layout,
    tz: &TimeZone,
    report: &mut Report,
) -> (Vec<LegacyContact>, Counts) {
    let mut counts = Counts::default();
    let needed = layout.needed_end();
    let mut records: Vec<Record> = Vec::new();
    let mut seen: std::collections::HashMap<u64, u32> = std::collections::HashMap::new();
    for (i, raw) in text.lines().enumerate() {
        let at = Some((file, i + 1));
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        if line.trim().is_empty() {
            continue;
        }
        if !line.is_ascii() {
            counts.rejected += 1;
            report.add("record", Outcome::Rejected, "characters that are not ASCII; CDR records are", at);
            continue;
        }
        if line.len() < needed {
            counts.rejected += 1;
            let detail = format!("{} characters, too short for the layout's first {needed}", line.len());
            report.add("record", Outcome::Rejected, detail, at);
            continue;
        }
        let read = || -> Result<Record, String> {
            let field = |name: &str| layout.field(line, name).unwrap_or("");
            let date_text = field("date");
            let number = |s: &str| s.parse::<i16>().ok();
            let (a, b, y) = match (date_text.get(0..2), date_text.get(2..4), date_text.get(4..6)) {
                (Some(a), Some(b), Some(y)) => (number(a), number(b), number(y)),
                _ => (None, None, None),
            };
            let (month, day) = if layout.month_first { (a, b) } else { (b, a) };
            let date = match (y, month, day) {
                (Some(y), Some(m), Some(d)) => {
                    Date::new(2000 + y, i8::try_from(m).ok().unwrap_or(0), i8::try_from(d).ok().unwrap_or(0)).ok()
                }
                _ => None,
            }
            .ok_or_else(|| {
                format!("date {date_text:?} is not a date as {}", if layout.month_first { "mmddyy" } else { "ddmmyy" })
            })?;
            let time_text = field("time");
            let hhmm = time_text.parse::<u32>().ok().filter(|t| t / 100 < 24 && t % 100 < 60);
            let hhmm = hhmm.ok_or_else(|| format!("time {time_text:?} is not hhmm"))?;
            let seconds = if layout.fields.iter().any(|(n, _, _)| n == "sec-dur") {
                let text = field("sec-dur");
                text.parse::<i64>()
                    .ok()
                    .filter(|s| (0..=1_000_000).contains(s))
                    .ok_or_else(|| format!("sec-dur {text:?} is not a number of seconds up to 1000000"))?
            } else {
                // h, mm, tenths of a minute.
                let text = field("duration");
                let digits: Vec<i64> = text.chars().filter_map(|c| c.to_digit(10).map(i64::from)).collect();
                match digits.as_slice() {
                    [h, m1, m2, t] => h * 3600 + (m1 * 10 + m2) * 60 + t * 6,
                    _ => return Err(format!("duration {text:?} is not hmmt")),
                }
            };
            let end_ms = date
                .at((hhmm / 100) as i8, (hhmm % 100) as i8, 0, 0)
                .to_zoned(tz.clone())
                .map_err(|e| e.to_string())?
                .timestamp()
                .as_millisecond();
            Ok(Record {
                key: field("ucid").to_owned(),
                end_ms,
                seconds,
                cond: field("cond-code").to_owned(),
                vdn: field("vdn").to_owned(),
                caller: Some(field("calling-num").to_owned()).filter(|c| !c.is_empty()),
                dialled: Some(field("dialed-num").to_owned()).filter(|d| !d.is_empty()),
            })
        };
        match read() {
            Ok(mut record) => {
                counts.records += 1;
                if record.key.is_empty() {
                    // No UCID: the record's text, and its place among identical records.
                    let print = fingerprint(line.trim_end());
                    let n = seen.entry(print).or_default();
                    *n += 1;
                    record.key = format!("{print:016x}-{n}");
                }
                records.push(record);
            }
            Err(e) => {
                counts.rejected += 1;
                report.add("record", Outcome::Rejected, e, at);
            }
        }
    }
    // The trunk record (9) of a call whose caller hung up while a phone rang (H) is that
    // same call: it counts once, as abandoned.
    let rang_out: std::collections::HashSet<(Option<String>, String, i64)> =
        records.iter().filter(|r| r.cond == "H").map(|r| (r.caller.clone(), r.vdn.clone(), r.end_ms)).collect();
    let mut out = Vec::new();
    for r in records {
        let outcome = match r.cond.as_str() {
            "9" | "C" if !rang_out.contains(&(r.caller.clone(), r.vdn.clone(), r.end_ms)) => Ended::Answered,
            "H" => Ended::Abandoned,
            _ => {
                counts.other += 1;
                continue;
            }
        };
        if r.vdn.is_empty() {
            counts.other += 1;
            continue;
        }
        out.push(LegacyContact {
            id: r.key,
            queue: r.vdn,
            caller: r.caller,
            dnis: r.dialled,
            arrived_ms: r.end_ms - r.seconds * 1000,
            wait_ms: None,
            talk_ms: None,
            agent: None,
            outcome,
        });
    }
    (out, counts)
}
