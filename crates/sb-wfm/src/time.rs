//! A local wall-clock date and time to the minute (`YYYY-MM-DDTHH:MM`), the label of a
//! planning interval.
//!
//! Interval data is recorded in the contact center's local time and planned in it, so this
//! type has no time zone: it counts minutes on a uniform proleptic Gregorian calendar. A
//! daylight-saving change therefore shows up in a history file as a missing or a repeated
//! hour, which the reader reports like any other gap or duplicate. The calendar arithmetic is
//! Howard Hinnant's `days_from_civil` and `civil_from_days`.

use std::fmt;
use std::str::FromStr;

/// Minutes since 1970-01-01T00:00 on a calendar without time zones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LocalDateTime(i64);

/// Day of the week, Monday first (ISO 8601).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Weekday {
    Monday,
    Tuesday,
    Wednesday,
    Thursday,
    Friday,
    Saturday,
    Sunday,
}

impl Weekday {
    pub const ALL: [Weekday; 7] = [
        Weekday::Monday,
        Weekday::Tuesday,
        Weekday::Wednesday,
        Weekday::Thursday,
        Weekday::Friday,
        Weekday::Saturday,
        Weekday::Sunday,
    ];

    /// 0 for Monday to 6 for Sunday.
    pub fn index(self) -> usize {
        self as usize
    }
}

/// The text does not spell a valid `YYYY-MM-DDTHH:MM`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("expected a date and time as YYYY-MM-DDTHH:MM")]
pub struct BadDateTime;

impl LocalDateTime {
    /// The date and time from its parts; `None` unless it names a real minute of a year from
    /// 0000 to 9999.
    pub fn new(year: i64, month: u32, day: u32, hour: u32, minute: u32) -> Option<LocalDateTime> {
        let valid = (0..=9999).contains(&year)
            && (1..=12).contains(&month)
            && day >= 1
            && day <= days_in_month(year, month)
            && hour < 24
            && minute < 60;
        valid
            .then(|| LocalDateTime(days_from_civil(year, month, day) * 1440 + i64::from(hour) * 60 + i64::from(minute)))
    }

    /// Minutes since 1970-01-01T00:00.
    pub fn minutes_since_epoch(self) -> i64 {
        self.0
    }

    pub fn plus_minutes(self, minutes: i64) -> LocalDateTime {
        LocalDateTime(self.0 + minutes)
    }

    /// Minutes from `earlier` to `self` (negative if `earlier` is later).
    pub fn minutes_since(self, earlier: LocalDateTime) -> i64 {
        self.0 - earlier.0
    }

    /// Minutes since midnight, 0 to 1,439.
    pub fn minute_of_day(self) -> u32 {
        self.0.rem_euclid(1440) as u32
    }

    pub fn weekday(self) -> Weekday {
        // 1970-01-01 was a Thursday, index 3 when Monday is 0.
        Weekday::ALL[(self.0.div_euclid(1440) + 3).rem_euclid(7) as usize]
    }

    /// Year, month, day, hour, minute.
    pub fn parts(self) -> (i64, u32, u32, u32, u32) {
        let (year, month, day) = civil_from_days(self.0.div_euclid(1440));
        let minute = self.minute_of_day();
        (year, month, day, minute / 60, minute % 60)
    }
}

impl FromStr for LocalDateTime {
    type Err = BadDateTime;

    fn from_str(text: &str) -> Result<LocalDateTime, BadDateTime> {
        let bytes = text.as_bytes();
        let shape_ok = bytes.len() == 16
            && bytes.iter().enumerate().all(|(i, &b)| match i {
                4 | 7 => b == b'-',
                10 => b == b'T',
                13 => b == b':',
                _ => b.is_ascii_digit(),
            });
        if !shape_ok {
            return Err(BadDateTime);
        }
        let number = |range: std::ops::Range<usize>| text[range].parse::<u32>().map_err(|_| BadDateTime);
        LocalDateTime::new(i64::from(number(0..4)?), number(5..7)?, number(8..10)?, number(11..13)?, number(14..16)?)
            .ok_or(BadDateTime)
    }
}

impl fmt::Display for LocalDateTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (year, month, day, hour, minute) = self.parts();
        write!(f, "{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}")
    }
}

fn is_leap(year: i64) -> bool {
    year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_from_march = i64::from((month + 9) % 12);
    let day_of_year = (153 * month_from_march + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The proleptic Gregorian date of a number of days since 1970-01-01.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let days = days + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days - era * 146_097;
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * month_from_march + 2) / 5 + 1) as u32;
    let month = if month_from_march < 10 { month_from_march + 3 } else { month_from_march - 9 } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str, expect: Option<(i64, Weekday)>) {
        let parsed = text.parse::<LocalDateTime>().ok();
        assert_eq!(parsed.map(|t| (t.minutes_since_epoch(), t.weekday())), expect, "{text}");
        if let Some(t) = parsed {
            assert_eq!(t.to_string(), text, "round trip");
        }
    }

    #[test]
    fn parse_and_weekday() {
        check("1970-01-01T00:00", Some((0, Weekday::Thursday)));
        check("1970-01-02T01:30", Some((1440 + 90, Weekday::Friday)));
        // 2024-03-04 was a Monday; 19,786 days after 1970-01-01.
        check("2024-03-04T08:15", Some((19_786 * 1440 + 495, Weekday::Monday)));
        check("2024-02-29T23:59", Some((19_782 * 1440 + 1439, Weekday::Thursday)));
        check("1969-12-31T23:45", Some((-15, Weekday::Wednesday)));
        check("2023-02-29T00:00", None);
        check("2024-13-01T00:00", None);
        check("2024-01-01T24:00", None);
        check("2024-01-01 08:00", None);
        check("2024-1-01T08:00", None);
        check("2024-01-01T08:00:00", None);
    }

    #[test]
    fn round_trip_over_four_centuries() {
        let first = days_from_civil(1900, 1, 1);
        for days in first..first + 146_097 {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
            assert!(d >= 1 && d <= days_in_month(y, m));
        }
    }
}
