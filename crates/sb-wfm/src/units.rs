//! Validated quantities: offered load, handle time, patience, fractions, shrinkage, interval
//! lengths and service-level targets.
//!
//! Each type is a newtype whose constructor checks its range, so a function that takes one
//! needs no further checks. The `FromStr` implementations accept what a person types on a
//! command line (`240s`, `30m`, `85%`, `80/20s`) so the binary's argument parser can hand
//! text straight to them.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use crate::WfmError;

/// Offered load in Erlangs (arrival rate × mean handle time): finite and non-negative.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct Erlangs(f64);

impl Erlangs {
    pub fn new(value: f64) -> Result<Erlangs, WfmError> {
        if value.is_finite() && value >= 0.0 {
            Ok(Erlangs(value))
        } else {
            Err(WfmError::InvalidValue { what: "offered load", value, expected: "a finite number of Erlangs >= 0" })
        }
    }

    /// The load of `volume` calls of mean handle time `aht` arriving over `interval`:
    /// `A = volume × AHT / interval length`.
    pub fn from_volume(volume: f64, aht: Aht, interval: IntervalLength) -> Result<Erlangs, WfmError> {
        if !(volume.is_finite() && volume >= 0.0) {
            return Err(WfmError::InvalidValue { what: "volume", value: volume, expected: "a finite number >= 0" });
        }
        Erlangs::new(volume * aht.seconds() / interval.seconds())
    }

    pub fn get(self) -> f64 {
        self.0
    }
}

impl fmt::Display for Erlangs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} Erlangs", self.0)
    }
}

/// A strictly positive, finite number of seconds; the shared check behind [`Aht`] and
/// [`Patience`].
fn positive_seconds(what: &'static str, seconds: f64) -> Result<f64, WfmError> {
    if seconds.is_finite() && seconds > 0.0 {
        Ok(seconds)
    } else {
        Err(WfmError::InvalidValue { what, value: seconds, expected: "a finite number of seconds > 0" })
    }
}

/// Mean handle time (talk, hold and wrap-up) of one contact: positive and finite.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct Aht(f64);

impl Aht {
    pub fn from_secs(seconds: f64) -> Result<Aht, WfmError> {
        positive_seconds("average handle time", seconds).map(Aht)
    }

    pub fn new(duration: Duration) -> Result<Aht, WfmError> {
        Aht::from_secs(duration.as_secs_f64())
    }

    pub fn seconds(self) -> f64 {
        self.0
    }
}

impl FromStr for Aht {
    type Err = WfmError;

    fn from_str(text: &str) -> Result<Aht, WfmError> {
        Aht::new(parse_duration(text)?)
    }
}

/// Mean patience of a waiting caller (Erlang A assumes it is exponentially distributed):
/// positive and finite. Infinite patience is Erlang C, [`Model::ErlangC`](crate::Model).
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct Patience(f64);

impl Patience {
    pub fn from_secs(seconds: f64) -> Result<Patience, WfmError> {
        positive_seconds("mean patience", seconds).map(Patience)
    }

    pub fn new(duration: Duration) -> Result<Patience, WfmError> {
        Patience::from_secs(duration.as_secs_f64())
    }

    pub fn seconds(self) -> f64 {
        self.0
    }
}

impl FromStr for Patience {
    type Err = WfmError;

    fn from_str(text: &str) -> Result<Patience, WfmError> {
        Patience::new(parse_duration(text)?)
    }
}

/// A number in [0, 1]: a service-level fraction or an occupancy ceiling.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct Fraction(f64);

impl Fraction {
    pub fn new(value: f64) -> Result<Fraction, WfmError> {
        if (0.0..=1.0).contains(&value) {
            Ok(Fraction(value))
        } else {
            Err(WfmError::InvalidValue { what: "fraction", value, expected: "a number in [0, 1]" })
        }
    }

    pub fn from_percent(percent: f64) -> Result<Fraction, WfmError> {
        if (0.0..=100.0).contains(&percent) {
            Ok(Fraction(percent / 100.0))
        } else {
            Err(WfmError::InvalidValue { what: "percentage", value: percent, expected: "a number in [0, 100]" })
        }
    }

    pub fn get(self) -> f64 {
        self.0
    }
}

impl FromStr for Fraction {
    type Err = WfmError;

    /// Accepts `85%` (a percentage) or `0.85` (a fraction); a bare `85` is refused because it
    /// could mean either.
    fn from_str(text: &str) -> Result<Fraction, WfmError> {
        let bad = || WfmError::Parse { what: "fraction", text: text.to_string(), expected: "`85%` or `0.85`" };
        let trimmed = text.trim();
        match trimmed.strip_suffix('%') {
            Some(number) => Fraction::from_percent(number.trim().parse().map_err(|_| bad())?),
            None => Fraction::new(trimmed.parse().map_err(|_| bad())?),
        }
    }
}

impl fmt::Display for Fraction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}%", round_for_display(self.0 * 100.0))
    }
}

/// Formats a percentage without the noise of binary fractions (`70.00000000000001` → `70`).
fn round_for_display(value: f64) -> f64 {
    (value * 1e9).round() / 1e9
}

/// The share of paid time in which agents cannot take contacts (breaks, training, absence):
/// in [0, 1).
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct Shrinkage(f64);

impl Shrinkage {
    pub const NONE: Shrinkage = Shrinkage(0.0);

    pub fn new(value: f64) -> Result<Shrinkage, WfmError> {
        if (0.0..1.0).contains(&value) {
            Ok(Shrinkage(value))
        } else {
            Err(WfmError::InvalidValue { what: "shrinkage", value, expected: "a number in [0, 1)" })
        }
    }

    pub fn get(self) -> f64 {
        self.0
    }

    /// Agents to schedule so that `agents` are on the phones: `ceil(agents / (1 − shrinkage))`.
    ///
    /// The quotient is rounded up after removing a relative 1e-9, so that binary rounding
    /// (70 / 0.7 = 100.00000000000001) does not add an agent.
    pub fn scheduled(self, agents: u32) -> u32 {
        let exact = f64::from(agents) / (1.0 - self.0);
        let scheduled = (exact * (1.0 - 1e-9)).ceil().max(f64::from(agents));
        if scheduled >= f64::from(u32::MAX) { u32::MAX } else { scheduled as u32 }
    }
}

impl FromStr for Shrinkage {
    type Err = WfmError;

    fn from_str(text: &str) -> Result<Shrinkage, WfmError> {
        Shrinkage::new(text.parse::<Fraction>()?.get())
    }
}

impl fmt::Display for Shrinkage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}%", round_for_display(self.0 * 100.0))
    }
}

/// The length of a planning interval in whole minutes, 1 to 1,440.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct IntervalLength(u32);

impl IntervalLength {
    pub fn new(minutes: u32) -> Result<IntervalLength, WfmError> {
        if (1..=1440).contains(&minutes) {
            Ok(IntervalLength(minutes))
        } else {
            Err(WfmError::InvalidValue {
                what: "interval length",
                value: f64::from(minutes),
                expected: "1 to 1440 minutes",
            })
        }
    }

    pub fn minutes(self) -> u32 {
        self.0
    }

    pub fn seconds(self) -> f64 {
        f64::from(self.0) * 60.0
    }

    /// How many intervals make a day (the length divides a day for the lengths the
    /// forecast accepts: 15, 30 and 60 minutes).
    pub fn per_day(self) -> usize {
        (1440 / self.0) as usize
    }
}

impl FromStr for IntervalLength {
    type Err = WfmError;

    /// Accepts `30m`, `30min`, `1h` or a bare number of minutes.
    fn from_str(text: &str) -> Result<IntervalLength, WfmError> {
        let bad = || WfmError::Parse {
            what: "interval length",
            text: text.to_string(),
            expected: "whole minutes such as `30m` or `1h`",
        };
        let seconds = match text.trim().parse::<u32>() {
            Ok(minutes) => u64::from(minutes) * 60,
            Err(_) => parse_duration(text)?.as_secs(),
        };
        if seconds % 60 != 0 {
            return Err(bad());
        }
        IntervalLength::new(u32::try_from(seconds / 60).map_err(|_| bad())?)
    }
}

impl fmt::Display for IntervalLength {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}m", self.0)
    }
}

/// "X % of contacts answered within T": the classic service-level target, e.g. 80/20s.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ServiceLevelTarget {
    fraction: Fraction,
    within: Duration,
}

impl ServiceLevelTarget {
    pub fn new(fraction: Fraction, within: Duration) -> ServiceLevelTarget {
        ServiceLevelTarget { fraction, within }
    }

    pub fn fraction(self) -> Fraction {
        self.fraction
    }

    pub fn within(self) -> Duration {
        self.within
    }
}

impl FromStr for ServiceLevelTarget {
    type Err = WfmError;

    /// Accepts `80/20s`, `80%/20s` or `80/20` (seconds); the first number is a percentage.
    fn from_str(text: &str) -> Result<ServiceLevelTarget, WfmError> {
        let bad = || WfmError::Parse {
            what: "service-level target",
            text: text.to_string(),
            expected: "PERCENT/TIME such as `80/20s`",
        };
        let (percent, within) = text.split_once('/').ok_or_else(bad)?;
        let percent = percent.trim();
        let percent: f64 = percent.strip_suffix('%').unwrap_or(percent).trim().parse().map_err(|_| bad())?;
        Ok(ServiceLevelTarget::new(Fraction::from_percent(percent)?, parse_duration(within)?))
    }
}

impl fmt::Display for ServiceLevelTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}s", round_for_display(self.fraction.0 * 100.0), round_for_display(self.within.as_secs_f64()))
    }
}

/// Parses a duration as typed on a command line: `20s`, `4m`, `1.5m`, `1h`, `250ms`, or a
/// bare number of seconds.
pub fn parse_duration(text: &str) -> Result<Duration, WfmError> {
    let bad = || WfmError::Parse {
        what: "duration",
        text: text.to_string(),
        expected: "a number with s, m, min, h or ms, such as `20s`",
    };
    let trimmed = text.trim();
    let split = trimmed.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(trimmed.len());
    let (number, unit) = trimmed.split_at(split);
    let value: f64 = number.parse().map_err(|_| bad())?;
    let scale = match unit.trim() {
        "" | "s" | "sec" | "secs" => 1.0,
        "ms" => 0.001,
        "m" | "min" | "mins" => 60.0,
        "h" | "hr" | "hrs" => 3600.0,
        _ => return Err(bad()),
    };
    Duration::try_from_secs_f64(value * scale).map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_duration(text: &str, expect: Option<f64>) {
        assert_eq!(parse_duration(text).ok().map(|d| d.as_secs_f64()), expect, "{text}");
    }

    #[test]
    fn durations() {
        check_duration("20s", Some(20.0));
        check_duration("20", Some(20.0));
        check_duration("4m", Some(240.0));
        check_duration("1.5min", Some(90.0));
        check_duration("1h", Some(3600.0));
        check_duration("250ms", Some(0.25));
        check_duration("", None);
        check_duration("-5s", None);
        check_duration("5 parsecs", None);
    }

    #[test]
    fn targets_and_fractions() {
        let target: ServiceLevelTarget = "80/20s".parse().unwrap();
        assert_eq!(target.fraction().get(), 0.8);
        assert_eq!(target.within(), Duration::from_secs(20));
        assert_eq!(target.to_string(), "80/20s");
        assert_eq!("80%/20".parse::<ServiceLevelTarget>().unwrap(), target);
        assert!("80".parse::<ServiceLevelTarget>().is_err());
        assert!("180/20s".parse::<ServiceLevelTarget>().is_err());
        assert_eq!("85%".parse::<Fraction>().unwrap().get(), 0.85);
        assert_eq!("0.85".parse::<Fraction>().unwrap().get(), 0.85);
        assert!("85".parse::<Fraction>().is_err());
        assert!("100%".parse::<Shrinkage>().is_err());
        assert_eq!("30m".parse::<IntervalLength>().unwrap().minutes(), 30);
        assert_eq!("1h".parse::<IntervalLength>().unwrap().minutes(), 60);
        assert_eq!("15".parse::<IntervalLength>().unwrap().minutes(), 15);
        assert!("90s".parse::<IntervalLength>().is_err());
        assert!("0m".parse::<IntervalLength>().is_err());
        assert!(Aht::from_secs(0.0).is_err());
        assert!(Erlangs::new(f64::NAN).is_err());
    }

    #[test]
    fn shrinkage_does_not_add_an_agent_through_binary_rounding() {
        // 70 / (1 − 0.3) is 100.00000000000001 in f64; the plan needs exactly 100.
        let shrinkage: Shrinkage = "30%".parse().unwrap();
        assert_eq!(shrinkage.scheduled(70), 100);
        assert_eq!(shrinkage.scheduled(71), 102);
        assert_eq!(shrinkage.scheduled(0), 0);
        assert_eq!(Shrinkage::NONE.scheduled(13), 13);
        assert_eq!(shrinkage.to_string(), "30%");
    }
}
