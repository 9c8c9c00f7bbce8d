//! Avaya CMS interval history: the historical split/skill table (`hsplit`) exported as CSV,
//! one row per skill and interval, to interval records.
//!
//! | record | hsplit column |
//! |---|---|
//! | queue | `split` (the skill's number) |
//! | start | `row_date` and `starttime` (hhmm, such as `830`), in the tenant's time zone |
//! | length | `intrvl` (minutes; 30 when absent) |
//! | offered, answered, abandoned | `callsoffered`, `acdcalls`, `abncalls` |
//! | answered within the threshold | `acceptable`, at the threshold `servicelevel` (seconds) |
//! | wait of the answered | `anstime` (seconds) |
//! | talk time | `acdtime` (seconds; after-call work, `acwtime`, is not talk) |
//!
//! CMS counts a call in the interval in which it ended, not the one it arrived in.

use jiff::civil::Date;
use jiff::tz::TimeZone;

use crate::csv::{Header, fields};
use crate::history::IntervalRecord;
use crate::report::{Outcome, Report};

const REQUIRED: &[&str] = &[
    "row_date",
    "starttime",
    "split",
    "callsoffered",
    "acdcalls",
    "abncalls",
    "acdtime",
    "anstime",
    "acceptable",
    "servicelevel",
];

/// A CMS date: `YYYY-MM-DD`, `MM/DD/YYYY` or `MM/DD/YY`.
fn date(text: &str) -> Option<Date> {
    let parts: Vec<&str> = text.split(['-', '/']).collect();
    let number = |s: &str| s.parse::<i16>().ok();
    let (year, month, day) = match (text.contains('-'), parts.as_slice()) {
        (true, [y, m, d]) => (number(y)?, number(m)?, number(d)?),
        (false, [m, d, y]) if y.len() == 2 => (2000 + number(y)?, number(m)?, number(d)?),
        (false, [m, d, y]) => (number(y)?, number(m)?, number(d)?),
        _ => return None,
    };
    Date::new(year, i8::try_from(month).ok()?, i8::try_from(day).ok()?).ok()
}

/// The interval records of an hsplit export (`text`, read from `file`), with interval starts
/// in `tz`. Bad rows are rejected in `report`, with their line numbers.
pub fn import_hsplit(file: &str, text: &str, tz: &TimeZone, report: &mut Report) -> Vec<IntervalRecord> {
    let mut lines = text.lines().enumerate();
    let header = match lines.next().map(|(_, l)| fields(l, ',')) {
        Some(Ok(names)) => Header::new(&names),
        Some(Err(e)) => {
            report.add("header", Outcome::Rejected, e, Some((file, 1)));
            return Vec::new();
        }
        None => {
            report.add(file, Outcome::Rejected, "the file is empty", None);
            return Vec::new();
        }
    };
    let missing: Vec<&str> = REQUIRED.iter().copied().filter(|c| header.column(c).is_none()).collect();
    if !missing.is_empty() {
        let detail = format!("not a CMS hsplit header: it lacks {}", missing.join(", "));
        report.add("header", Outcome::Rejected, detail, Some((file, 1)));
        return Vec::new();
    }
    let mut out: Vec<IntervalRecord> = Vec::new();
    let mut seen: std::collections::HashSet<(String, i64)> = std::collections::HashSet::new();
    for (i, line) in lines {
        let at = Some((file, i + 1));
        if line.trim().is_empty() {
            continue;
        }
        let row = match fields(line, ',') {
            Ok(row) if row.len() == header.len() => row,
            Ok(row) => {
                let detail = format!("{} fields, the header has {}", row.len(), header.len());
                report.add("row", Outcome::Rejected, detail, at);
                continue;
            }
            Err(e) => {
                report.add("row", Outcome::Rejected, e, at);
                continue;
            }
        };
        let read = || -> Result<IntervalRecord, String> {
            let count = |column: &str| -> Result<u64, String> {
                let text = header.get(&row, column).unwrap_or("0");
                // Seconds and counts of one interval; anything beyond a year of seconds is
                // not a figure but a broken export.
                text.parse::<u64>()
                    .ok()
                    .filter(|n| *n <= 100_000_000)
                    .ok_or_else(|| format!("{column} {text:?} is not a whole number up to 100000000"))
            };
            let day_text = header.get(&row, "row_date").unwrap_or("");
            let day = date(day_text).ok_or(format!("row_date {day_text:?} is not a date such as 2026-03-15"))?;
            let hhmm = count("starttime")?;
            let (hour, minute) = (hhmm / 100, hhmm % 100);
            if hour > 23 || minute > 59 {
                return Err(format!("starttime {hhmm} is not a time of day as hhmm"));
            }
            let start = day
                .at(hour as i8, minute as i8, 0, 0)
                .to_zoned(tz.clone())
                .map_err(|e| format!("{day} {hour:02}:{minute:02}: {e}"))?;
            let split = header.get(&row, "split").ok_or("no split")?.to_owned();
            let minutes = header.get(&row, "intrvl").map_or(Ok(30), |_| count("intrvl"))?;
            if !matches!(minutes, 15 | 30 | 60) {
                return Err(format!("intrvl {minutes} is not 15, 30 or 60 minutes"));
            }
            let record = IntervalRecord {
                queue: split,
                start_ms: start.timestamp().as_millisecond(),
                minutes: minutes as u32,
                offered: count("callsoffered")?,
                answered: count("acdcalls")?,
                abandoned: count("abncalls")?,
                answered_within: count("acceptable")?,
                within_s: u32::try_from(count("servicelevel")?).map_err(|_| "servicelevel is too large")?,
                answer_s: count("anstime")?,
                talk_s: count("acdtime")?,
            };
            if record.answered_within > record.answered || record.answered > record.offered {
                return Err("acceptable > acdcalls or acdcalls > callsoffered".to_owned());
            }
            Ok(record)
        };
        match read() {
            Ok(record) => {
                if !seen.insert((record.queue.clone(), record.start_ms)) {
                    let detail =
                        format!("split {} at this date and time is given twice; the first row is kept", record.queue);
                    report.add("row", Outcome::Rejected, detail, at);
                } else {
                    out.push(record);
                }
            }
            Err(e) => report.add("row", Outcome::Rejected, e, at),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_in_the_forms_exports_use() {
        let d = |t: &str| date(t).map(|d| d.to_string());
        assert_eq!(d("2026-03-15").as_deref(), Some("2026-03-15"));
        assert_eq!(d("03/15/2026").as_deref(), Some("2026-03-15"));
        assert_eq!(d("03/15/26").as_deref(), Some("2026-03-15"));
        assert_eq!(d("2026-02-30"), None);
        assert_eq!(d("yesterday"), None);
    }
}
