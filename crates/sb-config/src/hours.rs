//! Clock times, opening ranges and weekly opening hours.
//!
//! Business hours are written as `"HH:MM-HH:MM"` ranges per day of the week, with day keys such
//! as `mon`, `sat` or `mon-fri`. This module parses those pieces and holds the resulting
//! [`WeeklyHours`]; the decoder puts them together and reports problems with their positions.
//! A range never crosses midnight (`24:00` is allowed as an end), so a day's ranges can be
//! checked for overlaps on their own.

use std::fmt;

use jiff::civil::Weekday;

/// A time of day with minute precision, from `00:00` to `24:00`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ClockTime(u16);

impl ClockTime {
    /// Minutes since midnight, `0..=1440`.
    pub fn minutes(self) -> u16 {
        self.0
    }
}

impl fmt::Display for ClockTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.0 / 60, self.0 % 60)
    }
}

/// A half-open range of the day, `start` inclusive and `end` exclusive, with `start < end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct TimeRange {
    pub start: ClockTime,
    pub end: ClockTime,
}

impl TimeRange {
    /// Whether the time of day `minutes` (since midnight) falls inside the range.
    pub fn contains(&self, minutes: u16) -> bool {
        self.start.0 <= minutes && minutes < self.end.0
    }
}

impl fmt::Display for TimeRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.start, self.end)
    }
}

/// Opening ranges for each day of the week, each day's ranges sorted and not overlapping.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WeeklyHours {
    /// Monday first.
    days: [Vec<TimeRange>; 7],
}

impl WeeklyHours {
    /// The opening ranges of `day`, sorted by start; empty when closed all day.
    pub fn on(&self, day: Weekday) -> &[TimeRange] {
        &self.days[day_index(day)]
    }

    /// Builds the week from ranges that were checked by the decoder.
    pub(crate) fn from_days(mut days: [Vec<TimeRange>; 7]) -> WeeklyHours {
        for ranges in &mut days {
            ranges.sort_by_key(|r| r.start);
        }
        WeeklyHours { days }
    }
}

/// The short day names used as keys, Monday first.
pub(crate) const DAY_NAMES: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

pub(crate) fn day_index(day: Weekday) -> usize {
    usize::try_from(day.to_monday_zero_offset()).unwrap_or(0)
}

/// Parses a `weekly` key, `mon` or `mon-fri`, into the indexes (Monday = 0) of the days it
/// covers.
pub(crate) fn parse_days(key: &str) -> Result<Vec<usize>, String> {
    let day = |name: &str| DAY_NAMES.iter().position(|d| *d == name);
    let unknown = || {
        format!(
            "unknown day {key:?}: use mon, tue, wed, thu, fri, sat, sun \
             or a range such as mon-fri"
        )
    };
    match key.split_once('-') {
        None => day(key).map(|d| vec![d]).ok_or_else(unknown),
        Some((first, last)) => {
            let (first, last) = (day(first).ok_or_else(unknown)?, day(last).ok_or_else(unknown)?);
            if first > last {
                return Err(format!(
                    "day range {key:?} runs backwards; ranges go from mon towards sun, \
                     so write it as two keys"
                ));
            }
            Ok((first..=last).collect())
        }
    }
}

/// Parses `"HH:MM-HH:MM"`.
pub(crate) fn parse_range(text: &str) -> Result<TimeRange, String> {
    let format = || format!("invalid time range {text:?}: expected \"HH:MM-HH:MM\", such as \"08:00-18:00\"");
    let (start, end) = text.split_once('-').ok_or_else(format)?;
    let start = parse_clock(start).map_err(|e| format!("invalid time range {text:?}: {e}"))?;
    let end = parse_clock(end).map_err(|e| format!("invalid time range {text:?}: {e}"))?;
    if start.0 == 24 * 60 {
        return Err(format!("invalid time range {text:?}: 24:00 can only end a range"));
    }
    if end <= start {
        return Err(if end == start {
            format!("invalid time range {text:?}: it is empty")
        } else {
            format!(
                "invalid time range {text:?}: it ends before it starts; a range cannot cross \
                 midnight, so split it over two days (\"{start}-24:00\" and \"00:00-{end}\")"
            )
        });
    }
    Ok(TimeRange { start, end })
}

/// Parses `H:MM` or `HH:MM`, `00:00` to `24:00`; the error says what is wrong with `text`.
fn parse_clock(text: &str) -> Result<ClockTime, String> {
    let bad = || format!("{text:?} is not a time of the form HH:MM");
    let (hours, minutes) = text.split_once(':').ok_or_else(bad)?;
    let digits = |s: &str, max_len: usize| !s.is_empty() && s.len() <= max_len && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(hours, 2) || !digits(minutes, 2) || minutes.len() != 2 {
        return Err(bad());
    }
    let (hours, minutes): (u16, u16) = (hours.parse().map_err(|_| bad())?, minutes.parse().map_err(|_| bad())?);
    if minutes > 59 || hours > 24 || (hours == 24 && minutes > 0) {
        return Err(format!(
            "{text:?} is not a time of day (hours 00 to 23, minutes 00 to 59, \
             or 24:00 for the end of the day)"
        ));
    }
    Ok(ClockTime(hours * 60 + minutes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_ranges() {
        let cases: &[(&str, &str)] = &[
            ("08:00-18:00", "08:00-18:00"),
            ("8:00-9:30", "08:00-09:30"),
            ("00:00-24:00", "00:00-24:00"),
            ("23:59-24:00", "23:59-24:00"),
            ("08:00", "invalid time range \"08:00\": expected \"HH:MM-HH:MM\", such as \"08:00-18:00\""),
            ("08:00 - 18:00", "invalid time range \"08:00 - 18:00\": \"08:00 \" is not a time of the form HH:MM"),
            ("8-18", "invalid time range \"8-18\": \"8\" is not a time of the form HH:MM"),
            ("08:0-18:00", "invalid time range \"08:0-18:00\": \"08:0\" is not a time of the form HH:MM"),
            (
                "25:00-26:00",
                "invalid time range \"25:00-26:00\": \"25:00\" is not a time of day (hours 00 to 23, minutes 00 to 59, or 24:00 for the end of the day)",
            ),
            (
                "08:60-09:00",
                "invalid time range \"08:60-09:00\": \"08:60\" is not a time of day (hours 00 to 23, minutes 00 to 59, or 24:00 for the end of the day)",
            ),
            ("24:00-24:00", "invalid time range \"24:00-24:00\": 24:00 can only end a range"),
            ("09:00-09:00", "invalid time range \"09:00-09:00\": it is empty"),
            (
                "18:00-08:00",
                "invalid time range \"18:00-08:00\": it ends before it starts; a range cannot cross midnight, so split it over two days (\"18:00-24:00\" and \"00:00-08:00\")",
            ),
        ];
        for &(text, expect) in cases {
            let got = match parse_range(text) {
                Ok(range) => range.to_string(),
                Err(error) => error,
            };
            assert_eq!(got, expect, "parsing {text:?}");
        }
    }

    #[test]
    fn ranges_are_half_open() {
        let range = parse_range("08:00-09:00").unwrap();
        assert!(!range.contains(7 * 60 + 59));
        assert!(range.contains(8 * 60));
        assert!(range.contains(8 * 60 + 59));
        assert!(!range.contains(9 * 60));
    }

    #[test]
    fn day_keys() {
        let cases: &[(&str, Result<&[usize], &str>)] = &[
            ("mon", Ok(&[0])),
            ("sun", Ok(&[6])),
            ("mon-fri", Ok(&[0, 1, 2, 3, 4])),
            ("sat-sun", Ok(&[5, 6])),
            ("wed-wed", Ok(&[2])),
            (
                "fri-mon",
                Err("day range \"fri-mon\" runs backwards; ranges go from mon towards sun, so write it as two keys"),
            ),
            ("monday", Err("unknown day \"monday\": use mon, tue, wed, thu, fri, sat, sun or a range such as mon-fri")),
            (
                "mon-frii",
                Err("unknown day \"mon-frii\": use mon, tue, wed, thu, fri, sat, sun or a range such as mon-fri"),
            ),
            ("Mon", Err("unknown day \"Mon\": use mon, tue, wed, thu, fri, sat, sun or a range such as mon-fri")),
        ];
        for &(key, expect) in cases {
            let got = parse_days(key);
            assert_eq!(got.as_deref().map_err(String::as_str), expect, "parsing {key:?}");
        }
    }
}
