//! The interval-series file: one row per planning interval with its call volume and mean
//! handle time, the format of both the history a forecast reads and the forecast it writes.
//!
//! ```text
//! # Lines starting with '#' are comments; blank lines are ignored.
//! interval_start,volume,aht_seconds
//! 2024-03-04T08:00,41,236.5
//! 2024-03-04T08:30,57,241.0
//! ```
//!
//! `interval_start` is local wall-clock time (see [`crate::time`]). All intervals have the
//! same length, 15, 30 or 60 minutes, inferred as the most common distance between
//! consecutive rows, and start on that grid from midnight. The reader is hand-written and
//! forgiving: it reports every bad line as `FILE:LINE: message` (wrong column count, bad
//! date, bad or negative number, an interval off the grid, a duplicate, a row out of order,
//! a gap before the row) and keeps every good row. Missing intervals stay in the series as
//! holes, so that a forecast can tell "no data" from "no calls".

use std::collections::BTreeMap;
use std::fmt::{self, Write as _};

use crate::WfmError;
use crate::time::LocalDateTime;
use crate::units::IntervalLength;

/// The header line every file starts with.
pub const HEADER: &str = "interval_start,volume,aht_seconds";

/// The interval lengths a series may have.
pub const LENGTHS: [u32; 3] = [15, 30, 60];

/// One interval's figures: a volume and a mean handle time, both finite and non-negative.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Observation {
    volume: f64,
    aht_seconds: f64,
}

impl Observation {
    pub fn new(volume: f64, aht_seconds: f64) -> Result<Observation, WfmError> {
        let check = |what, value: f64| {
            if value.is_finite() && value >= 0.0 {
                Ok(value)
            } else {
                Err(WfmError::InvalidValue { what, value, expected: "a finite number >= 0" })
            }
        };
        Ok(Observation { volume: check("volume", volume)?, aht_seconds: check("aht_seconds", aht_seconds)? })
    }

    pub fn volume(self) -> f64 {
        self.volume
    }

    /// Mean handle time in seconds (may be 0 for an interval without calls).
    pub fn aht_seconds(self) -> f64 {
        self.aht_seconds
    }
}

/// Equally spaced intervals from `start`, each with an observation or a hole.
#[derive(Debug, Clone, PartialEq)]
pub struct IntervalSeries {
    start: LocalDateTime,
    length: IntervalLength,
    slots: Vec<Option<Observation>>,
}

impl IntervalSeries {
    /// A series of `slots` intervals of `length` from `start`, which must lie on the
    /// interval grid; `length` must be 15, 30 or 60 minutes.
    pub fn new(
        start: LocalDateTime,
        length: IntervalLength,
        slots: Vec<Option<Observation>>,
    ) -> Result<IntervalSeries, WfmError> {
        if !LENGTHS.contains(&length.minutes()) {
            return Err(WfmError::InvalidValue {
                what: "series interval length",
                value: f64::from(length.minutes()),
                expected: "15, 30 or 60 minutes",
            });
        }
        if start.minute_of_day() % length.minutes() != 0 {
            return Err(WfmError::InvalidValue {
                what: "series start minute of day",
                value: f64::from(start.minute_of_day()),
                expected: "a multiple of the interval length",
            });
        }
        Ok(IntervalSeries { start, length, slots })
    }

    pub fn start(&self) -> LocalDateTime {
        self.start
    }

    pub fn length(&self) -> IntervalLength {
        self.length
    }

    /// Number of intervals, holes included.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    pub fn slots(&self) -> &[Option<Observation>] {
        &self.slots
    }

    /// The start of interval `index`.
    pub fn start_of(&self, index: usize) -> LocalDateTime {
        self.start.plus_minutes(index as i64 * i64::from(self.length.minutes()))
    }

    /// Every interval with its start.
    pub fn iter(&self) -> impl Iterator<Item = (LocalDateTime, Option<Observation>)> + '_ {
        self.slots.iter().enumerate().map(|(i, slot)| (self.start_of(i), *slot))
    }

    /// The series as a file, holes left out, with `comment` (if any) as `#` lines first.
    pub fn to_csv(&self, comment: Option<&str>) -> String {
        let mut out = String::new();
        for line in comment.into_iter().flat_map(str::lines) {
            out.push_str(if line.is_empty() { "#" } else { "# " });
            out.push_str(line);
            out.push('\n');
        }
        out.push_str(HEADER);
        out.push('\n');
        for (start, observation) in self.iter() {
            if let Some(o) = observation {
                writeln!(out, "{start},{},{}", o.volume, o.aht_seconds).expect("writing to a String cannot fail");
            }
        }
        out
    }
}

/// What is wrong with a line, or with the file as a whole.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ProblemKind {
    #[error("expected the header `{HEADER}`, found `{found}`")]
    BadHeader { found: String },
    #[error("missing the header `{HEADER}`; reading this line as data")]
    MissingHeader,
    #[error("expected 3 columns, found {found}")]
    ColumnCount { found: usize },
    #[error("bad interval_start `{text}`: expected YYYY-MM-DDTHH:MM")]
    BadDate { text: String },
    #[error("bad {column} `{text}`: expected a number")]
    BadNumber { column: &'static str, text: String },
    #[error("negative volume {value}")]
    NegativeVolume { value: f64 },
    #[error("negative aht_seconds {value}")]
    NegativeAht { value: f64 },
    #[error("unequal interval lengths: {start} is not on the {minutes}-minute grid")]
    OffGrid { start: LocalDateTime, minutes: u32 },
    #[error("duplicate interval {start} (first on line {first_line})")]
    Duplicate { start: LocalDateTime, first_line: usize },
    #[error("interval {start} is out of order (it follows {previous})")]
    OutOfOrder { start: LocalDateTime, previous: LocalDateTime },
    #[error("gap: {missing} missing interval(s) from {from} to {to}")]
    Gap { missing: i64, from: LocalDateTime, to: LocalDateTime },
    #[error("no usable rows")]
    NoRows,
    #[error("need at least two intervals to infer the interval length")]
    TooFewRows,
    #[error("unequal interval lengths: rows are mostly {minutes} minutes apart; expected 15, 30 or 60")]
    BadLength { minutes: i64 },
}

/// A problem found while reading a file, at a line (1-based) or in the file as a whole.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    pub file: String,
    pub line: Option<usize>,
    pub kind: ProblemKind,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{}: {}", self.file, line, self.kind),
            None => write!(f, "{}: {}", self.file, self.kind),
        }
    }
}

/// The outcome of reading a file: the series built from the good rows (none if there were
/// no usable rows or the interval length could not be established) and every problem, in
/// line order.
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed {
    pub series: Option<IntervalSeries>,
    pub problems: Vec<Problem>,
}

/// A line that held a readable date; `observation` is `None` when its numbers were bad
/// (already reported), and the line still marks its interval as present rather than missing.
struct Dated {
    line: usize,
    start: LocalDateTime,
    observation: Option<Observation>,
    reported: bool,
}

/// Reads an interval-series file. `file` is the name used in the messages.
pub fn parse_series(file: &str, text: &str) -> Parsed {
    let mut problems: Vec<(Option<usize>, ProblemKind)> = Vec::new();
    let mut dated = Vec::new();
    let mut header_seen = false;
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let content = raw.trim();
        if content.is_empty() || content.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = content.split(',').map(str::trim).collect();
        if !header_seen {
            header_seen = true;
            if fields == HEADER.split(',').collect::<Vec<_>>() {
                continue;
            }
            if fields[0].parse::<LocalDateTime>().is_err() {
                problems.push((Some(line), ProblemKind::BadHeader { found: content.to_string() }));
                continue;
            }
            problems.push((Some(line), ProblemKind::MissingHeader));
        }
        match parse_row(&fields) {
            Ok((start, observation)) => {
                dated.push(Dated { line, start, observation: Some(observation), reported: false })
            }
            Err((start, kind)) => {
                problems.push((Some(line), kind));
                if let Some(start) = start {
                    dated.push(Dated { line, start, observation: None, reported: true });
                }
            }
        }
    }

    let series = build_series(&dated, &mut problems);
    // Stable sort: a line's own problem stays before the gap found on it.
    problems.sort_by_key(|(line, _)| line.unwrap_or(usize::MAX));
    Parsed {
        series,
        problems: problems.into_iter().map(|(line, kind)| Problem { file: file.to_string(), line, kind }).collect(),
    }
}

/// Reads one data row; on error, the row's start if it could be read.
fn parse_row(fields: &[&str]) -> Result<(LocalDateTime, Observation), (Option<LocalDateTime>, ProblemKind)> {
    if fields.len() != 3 {
        return Err((None, ProblemKind::ColumnCount { found: fields.len() }));
    }
    let start: LocalDateTime =
        fields[0].parse().map_err(|_| (None, ProblemKind::BadDate { text: fields[0].to_string() }))?;
    let number = |column: &'static str, text: &str| match text.parse::<f64>() {
        Ok(value) if value.is_finite() => Ok(value),
        _ => Err((Some(start), ProblemKind::BadNumber { column, text: text.to_string() })),
    };
    let volume = number("volume", fields[1])?;
    let aht = number("aht_seconds", fields[2])?;
    if volume < 0.0 {
        return Err((Some(start), ProblemKind::NegativeVolume { value: volume }));
    }
    if aht < 0.0 {
        return Err((Some(start), ProblemKind::NegativeAht { value: aht }));
    }
    let observation = Observation::new(volume, aht).expect("checked finite and non-negative above");
    Ok((start, observation))
}

/// Infers the interval length, checks the sequence of dated lines and lays the good rows on
/// the grid.
fn build_series(dated: &[Dated], problems: &mut Vec<(Option<usize>, ProblemKind)>) -> Option<IntervalSeries> {
    if dated.iter().all(|d| d.observation.is_none()) {
        problems.push((None, ProblemKind::NoRows));
        return None;
    }
    // The most common positive distance between consecutive dated lines; the smaller one on
    // a tie.
    let mut distances: BTreeMap<i64, usize> = BTreeMap::new();
    for pair in dated.windows(2) {
        let distance = pair[1].start.minutes_since(pair[0].start);
        if distance > 0 {
            *distances.entry(distance).or_default() += 1;
        }
    }
    let Some((&minutes, _)) = distances.iter().max_by_key(|&(distance, count)| (*count, std::cmp::Reverse(*distance)))
    else {
        problems.push((None, ProblemKind::TooFewRows));
        return None;
    };
    if !u32::try_from(minutes).is_ok_and(|m| LENGTHS.contains(&m)) {
        problems.push((None, ProblemKind::BadLength { minutes }));
        return None;
    }
    let length = IntervalLength::new(minutes as u32).expect("15, 30 and 60 are valid lengths");
    let step = i64::from(length.minutes());

    let mut first_line_of: BTreeMap<LocalDateTime, usize> = BTreeMap::new();
    let mut last: Option<LocalDateTime> = None;
    let mut kept: Vec<(LocalDateTime, Observation)> = Vec::new();
    for d in dated {
        let mut report = |kind| {
            if !d.reported {
                problems.push((Some(d.line), kind));
            }
        };
        if d.start.minute_of_day() % length.minutes() != 0 {
            report(ProblemKind::OffGrid { start: d.start, minutes: length.minutes() });
            continue;
        }
        if let Some(&first_line) = first_line_of.get(&d.start) {
            report(ProblemKind::Duplicate { start: d.start, first_line });
            continue;
        }
        if let Some(previous) = last {
            if d.start < previous {
                report(ProblemKind::OutOfOrder { start: d.start, previous });
                continue;
            }
            let missing = d.start.minutes_since(previous) / step - 1;
            if missing > 0 {
                // Reported even on a line with a problem of its own: the gap is a separate fact.
                problems.push((
                    Some(d.line),
                    ProblemKind::Gap { missing, from: previous.plus_minutes(step), to: d.start.plus_minutes(-step) },
                ));
            }
        }
        first_line_of.insert(d.start, d.line);
        last = Some(d.start);
        if let Some(observation) = d.observation {
            kept.push((d.start, observation));
        }
    }

    let (first, _) = *kept.first()?;
    let (end, _) = *kept.last()?;
    let mut slots = vec![None; (end.minutes_since(first) / step + 1) as usize];
    for (start, observation) in kept {
        slots[(start.minutes_since(first) / step) as usize] = Some(observation);
    }
    Some(IntervalSeries::new(first, length, slots).expect("length and grid checked above"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str, expect_problems: &[&str], expect_slots: &[Option<(f64, f64)>]) {
        let parsed = parse_series("f.csv", text);
        let problems: Vec<String> = parsed.problems.iter().map(ToString::to_string).collect();
        assert_eq!(problems, expect_problems);
        let slots: Vec<Option<(f64, f64)>> = parsed
            .series
            .map(|s| s.slots().iter().map(|o| o.map(|o| (o.volume(), o.aht_seconds()))).collect())
            .unwrap_or_default();
        assert_eq!(slots, expect_slots);
    }

    #[test]
    fn good_file_with_comments_and_crlf() {
        check(
            "# synthetic\r\ninterval_start,volume,aht_seconds\r\n\r\n2024-03-04T08:00,1,200\r\n2024-03-04T08:15,2.5,0\r\n",
            &[],
            &[Some((1.0, 200.0)), Some((2.5, 0.0))],
        );
    }

    #[test]
    fn missing_header_reads_the_first_line_as_data() {
        check(
            "2024-03-04T08:00,1,200\n2024-03-04T09:00,2,210\n",
            &["f.csv:1: missing the header `interval_start,volume,aht_seconds`; reading this line as data"],
            &[Some((1.0, 200.0)), Some((2.0, 210.0))],
        );
    }

    #[test]
    fn a_bad_line_is_not_also_a_gap() {
        check(
            "interval_start,volume,aht_seconds\n2024-03-04T08:00,1,200\n2024-03-04T08:30,x,200\n2024-03-04T09:00,3,200\n",
            &["f.csv:3: bad volume `x`: expected a number"],
            &[Some((1.0, 200.0)), None, Some((3.0, 200.0))],
        );
    }

    #[test]
    fn whole_file_problems() {
        check("interval_start,volume,aht_seconds\n", &["f.csv: no usable rows"], &[]);
        check(
            "interval_start,volume,aht_seconds\n2024-03-04T08:00,1,200\n",
            &["f.csv: need at least two intervals to infer the interval length"],
            &[],
        );
        check(
            "interval_start,volume,aht_seconds\n2024-03-04T08:00,1,200\n2024-03-04T08:10,1,200\n",
            &["f.csv: unequal interval lengths: rows are mostly 10 minutes apart; expected 15, 30 or 60"],
            &[],
        );
    }
}
