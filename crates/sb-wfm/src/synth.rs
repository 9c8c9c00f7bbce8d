//! A deterministic generator of synthetic interval history: a weekly pattern (busy Mondays,
//! quiet weekends), a daily pattern (a morning peak, an afternoon peak and a smaller evening
//! one), an optional growth trend, and multiplicative Gaussian noise from a seeded
//! [`SplitMix64`].
//!
//! Tests use it because its expected values are known exactly, so a forecast can be judged
//! against the truth as well as against the noisy sample; `test_data/history-sample.csv`
//! is [`Synthetic::sample`]'s output.

use crate::WfmError;
use crate::csv::{IntervalSeries, Observation};
use crate::rng::SplitMix64;
use crate::time::LocalDateTime;
use crate::units::IntervalLength;

/// Relative weight of each day, Monday first; normalised to a mean of 1 when used.
const WEEKDAY_WEIGHTS: [f64; 7] = [1.25, 1.1, 1.05, 1.0, 0.95, 0.4, 0.25];

/// The parameters of a synthetic history.
#[derive(Debug, Clone, PartialEq)]
pub struct Synthetic {
    /// First interval; must lie on the interval grid.
    pub start: LocalDateTime,
    pub length: IntervalLength,
    pub days: u32,
    /// Mean calls per day over a week, at the start.
    pub calls_per_day: f64,
    /// Relative growth per week, compounded (0.01 is 1 % a week).
    pub weekly_growth: f64,
    /// Standard deviation of the multiplicative volume noise (0.05 is 5 %).
    pub noise: f64,
    /// Mean handle time in seconds, around which it varies by time of day.
    pub aht_seconds: f64,
    pub seed: u64,
}

impl Synthetic {
    /// The parameters of `test_data/history-sample.csv`: four weeks of 30-minute intervals
    /// from Monday 2024-01-01, 3,000 calls a day growing 1 % a week, 5 % noise, AHT 240 s.
    pub fn sample() -> Synthetic {
        Synthetic {
            start: "2024-01-01T00:00".parse().expect("a valid date"),
            length: IntervalLength::new(30).expect("a valid length"),
            days: 28,
            calls_per_day: 3000.0,
            weekly_growth: 0.01,
            noise: 0.05,
            aht_seconds: 240.0,
            seed: 42,
        }
    }

    /// The expected (noise-free) volume of the interval starting at `at`.
    pub fn expected_volume(&self, at: LocalDateTime) -> f64 {
        let weekday_mean = WEEKDAY_WEIGHTS.iter().sum::<f64>() / 7.0;
        let weeks = at.minutes_since(self.start) as f64 / (7.0 * 1440.0);
        let hour = self.midpoint_hour(at);
        let day_total: f64 =
            (0..self.length.per_day()).map(|i| daily_shape((i as f64 + 0.5) * self.interval_hours())).sum();
        self.calls_per_day * WEEKDAY_WEIGHTS[at.weekday().index()] / weekday_mean * daily_shape(hour) / day_total
            * (1.0 + self.weekly_growth).powf(weeks)
    }

    /// The expected mean handle time of the interval starting at `at`: 8 % above the mean in
    /// the afternoon, below it at night.
    pub fn expected_aht(&self, at: LocalDateTime) -> f64 {
        let hour = self.midpoint_hour(at);
        self.aht_seconds * (1.0 + 0.08 * (std::f64::consts::TAU * (hour - 9.0) / 24.0).sin())
    }

    /// The noisy history: volumes rounded to whole calls, handle times to tenths of a second
    /// (0 for an interval without calls).
    pub fn generate(&self) -> Result<IntervalSeries, WfmError> {
        let mut rng = SplitMix64::new(self.seed);
        let count = self.days as usize * self.length.per_day();
        let step = i64::from(self.length.minutes());
        let slots = (0..count)
            .map(|i| {
                let at = self.start.plus_minutes(i as i64 * step);
                let volume = (self.expected_volume(at) * (1.0 + self.noise * rng.normal())).round().max(0.0);
                let aht = (self.expected_aht(at) * (1.0 + 0.05 * rng.normal()) * 10.0).round() / 10.0;
                Observation::new(volume, if volume > 0.0 { aht.max(0.1) } else { 0.0 }).map(Some)
            })
            .collect::<Result<Vec<_>, _>>()?;
        IntervalSeries::new(self.start, self.length, slots)
    }

    fn interval_hours(&self) -> f64 {
        f64::from(self.length.minutes()) / 60.0
    }

    fn midpoint_hour(&self, at: LocalDateTime) -> f64 {
        f64::from(at.minute_of_day()) / 60.0 + self.interval_hours() / 2.0
    }
}

/// Relative call intensity at `hour` (0–24): a floor of night traffic plus three bell
/// curves at 10:30, 14:30 and 19:00.
fn daily_shape(hour: f64) -> f64 {
    let bell = |centre: f64, width: f64| (-(hour - centre).powi(2) / (2.0 * width * width)).exp();
    0.03 + bell(10.5, 1.3) + 0.8 * bell(14.5, 1.8) + 0.3 * bell(19.0, 1.2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expected_daily_totals_follow_the_weekday_weights() {
        let synthetic = Synthetic { weekly_growth: 0.0, ..Synthetic::sample() };
        let day_total = |day: i64| -> f64 {
            (0..48).map(|i| synthetic.expected_volume(synthetic.start.plus_minutes(day * 1440 + i * 30))).sum()
        };
        let week: Vec<f64> = (0..7).map(day_total).collect();
        let mean = week.iter().sum::<f64>() / 7.0;
        assert!((mean - 3000.0).abs() < 1e-9, "{mean}");
        assert!((week[0] / week[6] - 1.25 / 0.25).abs() < 1e-9, "{week:?}");
    }

    #[test]
    fn same_seed_same_history_other_seed_other_history() {
        let a = Synthetic::sample().generate().unwrap();
        assert_eq!(a, Synthetic::sample().generate().unwrap());
        assert_ne!(a, Synthetic { seed: 43, ..Synthetic::sample() }.generate().unwrap());
        assert_eq!(a.len(), 28 * 48);
    }
}
