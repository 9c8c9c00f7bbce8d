//! The cutover's go/no-go gates: Switchboard's measured KPIs, day by day since a phase
//! started, against the legacy baseline and the plan's conditions.
//!
//! Both sides are computed by [`history::baseline`] from the same kind of record (a stay in
//! a queue), so the legacy and the new figures follow one definition.

use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use sb_config::{Condition, Gate, Kpi, Target};

use crate::history::{self, Definitions, IntervalRecord, Kpis, LegacyContact};

/// The KPIs of a set of stays, all queues together; `None` when there are none.
pub fn overall(contacts: &[LegacyContact], within_ms: i64) -> Option<Kpis> {
    overall_with(contacts, &[], within_ms)
}

/// [`overall`] of stays and interval records together.
pub fn overall_with(contacts: &[LegacyContact], intervals: &[IntervalRecord], within_ms: i64) -> Option<Kpis> {
    let together: Vec<LegacyContact> =
        contacts.iter().map(|c| LegacyContact { queue: "all".into(), ..c.clone() }).collect();
    let records: Vec<IntervalRecord> =
        intervals.iter().map(|r| IntervalRecord { queue: "all".into(), ..r.clone() }).collect();
    let definitions = Definitions { within_ms, interval_ms: 86_400_000, ..Definitions::default() };
    history::baseline_with(&together, &records, &definitions).into_iter().find(|k| k.interval_ms.is_none())
}

/// One whole day's KPIs (all queues together).
#[derive(Debug, Clone, PartialEq)]
pub struct Day {
    pub date: Date,
    /// `None`: no calls that day.
    pub kpis: Option<Kpis>,
}

/// The whole days (in `tz`) between `since_ms` and `now_ms`, oldest first, each with the
/// KPIs of the stays that arrived in it.
pub fn whole_days(contacts: &[LegacyContact], tz: &TimeZone, since_ms: i64, now_ms: i64, within_ms: i64) -> Vec<Day> {
    let local = |ms: i64| Timestamp::from_millisecond(ms).map(|t| t.to_zoned(tz.clone()).date()).ok();
    let start_ms = |date: Date| date.to_zoned(tz.clone()).map(|z| z.timestamp().as_millisecond()).ok();
    let (Some(first), Some(last)) = (local(since_ms), local(now_ms)) else { return Vec::new() };
    let mut days = Vec::new();
    let mut date = first;
    while date <= last {
        let Some(next) = date.tomorrow().ok() else { break };
        if let (Some(from), Some(to)) = (start_ms(date), start_ms(next))
            && from >= since_ms
            && to <= now_ms
        {
            let arrived: Vec<LegacyContact> =
                contacts.iter().filter(|c| (from..to).contains(&c.arrived_ms)).cloned().collect();
            days.push(Day { date, kpis: overall(&arrived, within_ms) });
        }
        date = next;
    }
    days
}

/// A KPI's value in the plan's unit: percent for rates, seconds for times.
pub fn value(kpis: &Kpis, kpi: Kpi) -> Option<f64> {
    match kpi {
        Kpi::ServiceLevel => kpis.service_level.map(|v| v * 100.0),
        Kpi::AbandonRate => (kpis.offered > 0).then(|| kpis.abandoned as f64 / kpis.offered as f64 * 100.0),
        Kpi::Asa => kpis.asa_s,
        Kpi::Aht => kpis.aht_s,
    }
}

/// A value with its unit, for reports.
pub fn show(kpi: Kpi, value: Option<f64>) -> String {
    match value {
        None => "-".to_owned(),
        Some(v) if kpi.is_percent() => format!("{v:.1}%"),
        Some(v) => format!("{v:.0}s"),
    }
}

/// One condition on one day.
#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    pub condition: Condition,
    pub measured: Option<f64>,
    /// The threshold, with the baseline's figure put in; `None` when the baseline lacks it.
    pub threshold: Option<f64>,
    pub passed: bool,
}

/// One day of a gate.
#[derive(Debug, Clone, PartialEq)]
pub struct DayVerdict {
    pub date: Date,
    pub calls: u64,
    pub enough_calls: bool,
    pub checks: Vec<Check>,
    pub passed: bool,
}

/// Whether a gate passes, and the days it looked at.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    pub passed: bool,
    /// The last `gate.days` whole days (fewer when the phase is younger).
    pub days: Vec<DayVerdict>,
    /// Why it does not pass, in words; empty when it does.
    pub reasons: Vec<String>,
}

/// Checks `gate` on the phase's whole `days` against the legacy `baseline` (all queues).
pub fn evaluate(gate: &Gate, baseline: Option<&Kpis>, days: &[Day]) -> Verdict {
    let needed = gate.days as usize;
    let recent = &days[days.len().saturating_sub(needed)..];
    let mut reasons = Vec::new();
    if recent.len() < needed {
        reasons.push(format!("the phase has {} whole days so far; its gate needs {needed}", recent.len()));
    }
    let verdicts: Vec<DayVerdict> = recent
        .iter()
        .map(|day| {
            let calls = day.kpis.as_ref().map_or(0, |k| k.offered);
            let enough_calls = calls >= u64::from(gate.min_calls);
            let checks: Vec<Check> = gate
                .conditions
                .iter()
                .map(|condition| {
                    let measured = day.kpis.as_ref().and_then(|k| value(k, condition.kpi));
                    let threshold = match condition.target {
                        Target::Value(v) => Some(v),
                        Target::Baseline(delta) => baseline.and_then(|b| value(b, condition.kpi)).map(|b| b + delta),
                    };
                    let passed = match (measured, threshold) {
                        (Some(m), Some(t)) if condition.at_least => m >= t - 1e-9,
                        (Some(m), Some(t)) => m <= t + 1e-9,
                        _ => false,
                    };
                    Check { condition: condition.clone(), measured, threshold, passed }
                })
                .collect();
            if !enough_calls {
                reasons.push(format!("{}: {calls} calls, fewer than the {} a day needs", day.date, gate.min_calls));
            }
            for check in checks.iter().filter(|c| !c.passed) {
                let kpi = check.condition.kpi;
                let why = match (check.measured, check.threshold) {
                    (_, None) => "the baseline has no such figure".to_owned(),
                    (None, _) => "nothing was measured".to_owned(),
                    (Some(_), Some(t)) => {
                        format!("measured {}, needs {}", show(kpi, check.measured), show(kpi, Some(t)))
                    }
                };
                reasons.push(format!("{}: {} fails: {why}", day.date, check.condition.text));
            }
            let passed = enough_calls && checks.iter().all(|c| c.passed);
            DayVerdict { date: day.date, calls, enough_calls, checks, passed }
        })
        .collect();
    let passed = reasons.is_empty() && verdicts.iter().all(|d| d.passed);
    Verdict { passed, days: verdicts, reasons }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::Outcome;

    fn call(day: i8, hour: i8, wait_s: i64, outcome: Outcome) -> LegacyContact {
        let at = jiff::civil::date(2026, 12, day).at(hour, 0, 0, 0).to_zoned(TimeZone::UTC).unwrap();
        LegacyContact {
            id: format!("{day}-{hour}-{wait_s}"),
            queue: "support".into(),
            caller: None,
            dnis: None,
            arrived_ms: at.timestamp().as_millisecond(),
            wait_ms: Some(wait_s * 1000),
            talk_ms: (outcome == Outcome::Answered).then_some(120_000),
            agent: None,
            outcome,
        }
    }

    fn ms(day: i8, hour: i8) -> i64 {
        jiff::civil::date(2026, 12, day).at(hour, 0, 0, 0).to_zoned(TimeZone::UTC).unwrap().timestamp().as_millisecond()
    }

    fn gate(days: u32, min_calls: u32, conditions: &[&str]) -> Gate {
        Gate::new(days, min_calls, conditions.iter().map(|c| sb_config::parse_condition(c).unwrap()).collect())
    }

    #[test]
    fn whole_days_only() {
        // The phase started on the 1st at 10:00; it is the 4th, 09:00: the 2nd and 3rd are whole.
        let calls =
            [call(1, 11, 5, Outcome::Answered), call(2, 9, 5, Outcome::Answered), call(3, 9, 50, Outcome::Answered)];
        let days = whole_days(&calls, &TimeZone::UTC, ms(1, 10), ms(4, 9), 20_000);
        let dates: Vec<String> = days.iter().map(|d| d.date.to_string()).collect();
        assert_eq!(dates, ["2026-12-02", "2026-12-03"]);
        assert_eq!(days[0].kpis.as_ref().unwrap().service_level, Some(1.0));
        assert_eq!(days[1].kpis.as_ref().unwrap().service_level, Some(0.0));
        // In Berlin the 2nd starts at 23:00 UTC on the 1st, so the call at 11:00 UTC on the
        // 1st is not in a whole day, and the one at 09:00 on the 3rd (10:00 there) is.
        let berlin = TimeZone::get("Europe/Berlin").unwrap();
        let days = whole_days(&calls, &berlin, ms(1, 10), ms(4, 9), 20_000);
        assert_eq!(days.len(), 2);
        assert_eq!(days[1].kpis.as_ref().unwrap().offered, 1);
    }

    #[test]
    fn a_gate_passes_only_when_every_recent_day_meets_every_condition() {
        let baseline = overall(
            &[
                call(1, 9, 5, Outcome::Answered),
                call(1, 10, 30, Outcome::Answered),
                call(1, 11, 30, Outcome::Abandoned),
            ],
            20_000,
        );
        // Baseline: service level 1 of 3 = 33.3%, abandon rate 33.3%.
        let good = |d: i8| vec![call(d, 9, 5, Outcome::Answered), call(d, 10, 30, Outcome::Answered)];
        let bad = |d: i8| vec![call(d, 9, 30, Outcome::Answered), call(d, 10, 30, Outcome::Abandoned)];
        let gate = gate(2, 2, &["service_level >= baseline - 2", "abandon_rate <= baseline", "asa <= 20s"]);
        let verdict = |calls: Vec<LegacyContact>, now: i64| {
            let days = whole_days(&calls, &TimeZone::UTC, ms(2, 0), now, 20_000);
            evaluate(&gate, baseline.as_ref(), &days)
        };
        // Two good days.
        let v = verdict([good(2), good(3)].concat(), ms(4, 0));
        assert!(v.passed, "{:?}", v.reasons);
        assert_eq!(v.days[0].checks[0].threshold.map(|t| (t * 10.0).round()), Some(313.0));
        assert_eq!(v.days[0].checks[2].measured, Some(17.5));
        // Too young: one whole day.
        let v = verdict(good(2), ms(3, 12));
        assert!(!v.passed);
        assert_eq!(v.reasons, ["the phase has 1 whole days so far; its gate needs 2"]);
        // A bad day among the last two.
        let v = verdict([good(2), bad(3)].concat(), ms(4, 0));
        assert!(!v.passed);
        assert!(
            v.reasons
                .iter()
                .any(|r| r == "2026-12-03: service_level >= baseline - 2 fails: measured 0.0%, needs 31.3%"),
            "{:?}",
            v.reasons
        );
        assert!(v.reasons.iter().any(|r| r.starts_with("2026-12-03: abandon_rate <= baseline fails: measured 50.0%")));
        // A bad day before the last two does not count.
        let v = verdict([bad(2), good(3), good(4)].concat(), ms(5, 0));
        assert!(v.passed, "{:?}", v.reasons);
        // A quiet day fails min_calls.
        let v = verdict([good(2), vec![call(3, 9, 5, Outcome::Answered)]].concat(), ms(4, 0));
        assert_eq!(v.reasons, ["2026-12-03: 1 calls, fewer than the 2 a day needs"]);
        // Without a baseline, relative conditions cannot pass.
        let days = whole_days(&[good(2), good(3)].concat(), &TimeZone::UTC, ms(2, 0), ms(4, 0), 20_000);
        let v = evaluate(&gate, None, &days);
        assert!(!v.passed);
        assert!(v.reasons[0].ends_with("the baseline has no such figure"), "{:?}", v.reasons);
    }
}
