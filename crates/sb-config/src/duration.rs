//! Durations as written in configuration files: `45`, `45s`, `2m`, `1h30m`.
//!
//! A bare integer means seconds. Otherwise a duration is one or more groups of digits followed
//! by a unit, `h`, `m` or `s`, with each unit used at most once and larger units first. Whole
//! seconds are enough for everything a tenant configures (timeouts, service levels, steps).

use std::time::Duration;

/// The text could not be read as a duration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid duration {text:?}: write whole seconds (90) or a number with a unit, \
     such as 45s, 2m, 1h or 1h30m"
)]
pub struct DurationError {
    text: String,
}

/// Parses a duration written as in the configuration file (see the module documentation).
pub fn parse_duration(text: &str) -> Result<Duration, DurationError> {
    let error = || DurationError { text: text.to_owned() };
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        return text.parse().map(Duration::from_secs).map_err(|_| error());
    }
    let mut total: u64 = 0;
    let mut rest = text;
    // Units still allowed: each group must use a smaller unit than the one before.
    let mut allowed: &[(char, u64)] = &[('h', 3600), ('m', 60), ('s', 1)];
    if rest.is_empty() {
        return Err(error());
    }
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(error());
        }
        let number: u64 = rest[..digits].parse().map_err(|_| error())?;
        let unit = rest[digits..].chars().next().ok_or_else(error)?;
        let at = allowed.iter().position(|&(u, _)| u == unit).ok_or_else(error)?;
        let seconds = number.checked_mul(allowed[at].1).ok_or_else(error)?;
        total = total.checked_add(seconds).ok_or_else(error)?;
        allowed = &allowed[at + 1..];
        rest = &rest[digits + 1..];
    }
    Ok(Duration::from_secs(total))
}

/// Formats a duration the way the configuration file writes it: `0s`, `45s`, `2m`, `1h30m`,
/// `1h0m5s`. Fractions of a second are dropped.
pub fn format_duration(duration: Duration) -> String {
    let total = duration.as_secs();
    let (hours, minutes, seconds) = (total / 3600, total / 60 % 60, total % 60);
    let mut out = String::new();
    if hours > 0 {
        out.push_str(&format!("{hours}h"));
    }
    if minutes > 0 || (hours > 0 && seconds > 0) {
        out.push_str(&format!("{minutes}m"));
    }
    if seconds > 0 || out.is_empty() {
        out.push_str(&format!("{seconds}s"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str, expect: Option<u64>) {
        let got = parse_duration(text).ok().map(|d| d.as_secs());
        assert_eq!(got, expect, "parsing {text:?}");
    }

    #[test]
    fn accepted_forms() {
        let cases: &[(&str, u64)] = &[
            ("0", 0),
            ("45", 45),
            ("45s", 45),
            ("90s", 90),
            ("2m", 120),
            ("1h", 3600),
            ("1h30m", 5400),
            ("1h30m15s", 5415),
            ("2m30s", 150),
            ("1h5s", 3605),
            ("0s", 0),
            ("007s", 7),
        ];
        for &(text, seconds) in cases {
            check(text, Some(seconds));
        }
    }

    #[test]
    fn rejected_forms() {
        let cases = [
            "",
            "s",
            "-5",
            "5 s",
            "1.5m",
            "5min",
            "5S",
            "30m1h",
            "1m1m",
            "1h 30m",
            "PT5M",
            "5sec",
            "m5",
            "1d",
            " 5",
            "5s ",
            "99999999999999999999",
            "99999999999999999h",
        ];
        for text in cases {
            check(text, None);
        }
    }

    #[test]
    fn the_error_names_the_accepted_forms() {
        let error = parse_duration("5 min").unwrap_err();
        assert_eq!(
            error.to_string(),
            "invalid duration \"5 min\": write whole seconds (90) or a number with a unit, \
             such as 45s, 2m, 1h or 1h30m"
        );
    }

    #[test]
    fn formatting_round_trips() {
        let cases: &[(u64, &str)] =
            &[(0, "0s"), (45, "45s"), (60, "1m"), (150, "2m30s"), (3600, "1h"), (5400, "1h30m"), (3605, "1h0m5s")];
        for &(seconds, text) in cases {
            assert_eq!(format_duration(Duration::from_secs(seconds)), text);
            check(text, Some(seconds));
        }
    }
}
