//! Forecasting v1: the volume and handle time of the next days, per interval, from a history
//! of equally spaced intervals with weekly and daily seasonality.
//!
//! Two families of methods are fitted: (a) the seasonal profile, the average of the same
//! weekday-interval over the last K weeks scaled by a linear trend of the weekly totals, and
//! (b) Holt–Winters with a weekly season (season length = intervals per week), additive and
//! multiplicative, whose smoothing parameters come from a small grid search minimising the
//! one-step-ahead squared error on the training data. Each method is trained on the history
//! without its last week and scored on that held-back week (MAPE over intervals with calls,
//! and WAPE); the method with the lower WAPE is refitted on the whole history and makes the
//! forecast. Handle time is forecast as the volume-weighted seasonal profile of AHT.
//!
//! Holes in the history are filled before fitting with the mean of the same weekly slot in
//! the other weeks (the mean of the series if that slot has no data at all), and left out of
//! the accuracy figures.

use std::fmt::{self, Write as _};

use crate::WfmError;
use crate::csv::{HEADER, IntervalSeries};
use crate::staffing::render_table;
use crate::time::LocalDateTime;
use crate::units::IntervalLength;

/// What to forecast and how far back the seasonal profile looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ForecastConfig {
    /// Days to forecast after the last interval of the history.
    pub days: u32,
    /// K, the weeks the seasonal profile (and the AHT profile) averages; at least 1 is used.
    pub profile_weeks: u32,
}

impl Default for ForecastConfig {
    fn default() -> ForecastConfig {
        ForecastConfig { days: 7, profile_weeks: 4 }
    }
}

/// How the season combines with the level in Holt–Winters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seasonality {
    /// `forecast = level + trend + season`.
    Additive,
    /// `forecast = (level + trend) × season`.
    Multiplicative,
}

/// Holt–Winters smoothing parameters, each in [0, 1]: level, trend and season.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Smoothing {
    pub alpha: f64,
    pub beta: f64,
    pub gamma: f64,
}

/// A forecasting method with the parameters it was fitted with.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Method {
    SeasonalProfile { weeks: u32 },
    HoltWinters { seasonality: Seasonality, smoothing: Smoothing },
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Method::SeasonalProfile { weeks } => write!(f, "seasonal profile ({weeks} weeks)"),
            Method::HoltWinters { seasonality, smoothing } => {
                let kind = match seasonality {
                    Seasonality::Additive => "additive",
                    Seasonality::Multiplicative => "multiplicative",
                };
                let Smoothing { alpha, beta, gamma } = smoothing;
                write!(f, "Holt-Winters {kind} (alpha {alpha}, beta {beta}, gamma {gamma})")
            }
        }
    }
}

/// A method's accuracy on the held-back week, as fractions (0.05 is 5 %). MAPE is `None`
/// when no interval of the week had calls; WAPE when the week had no calls at all.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Accuracy {
    pub method: Method,
    pub mape: Option<f64>,
    pub wape: Option<f64>,
}

/// One forecast interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ForecastInterval {
    pub start: LocalDateTime,
    pub volume: f64,
    pub aht_seconds: f64,
}

/// The forecast and how the methods did on the held-back week.
#[derive(Debug, Clone, PartialEq)]
pub struct Forecast {
    pub length: IntervalLength,
    /// First interval of the held-back week.
    pub holdout_start: LocalDateTime,
    /// Intervals in the held-back week (one week).
    pub holdout_intervals: usize,
    /// Every method's accuracy on the held-back week, with the parameters fitted on the
    /// training part.
    pub accuracy: Vec<Accuracy>,
    /// The method with the lowest WAPE, as refitted on the whole history.
    pub chosen: Method,
    pub intervals: Vec<ForecastInterval>,
}

impl Forecast {
    /// The forecast in the interval-series format (`interval_start,volume,aht_seconds`), so
    /// that it can be read back by [`parse_series`](crate::parse_series) and staffed.
    pub fn to_csv(&self) -> String {
        let mut out = format!("{HEADER}\n");
        for i in &self.intervals {
            writeln!(out, "{},{:.2},{:.1}", i.start, i.volume, i.aht_seconds).expect("writing to a String cannot fail");
        }
        out
    }
}

impl fmt::Display for Forecast {
    /// The accuracy report: the held-back week, each method's MAPE and WAPE, the choice.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let last =
            self.holdout_start.plus_minutes((self.holdout_intervals as i64 - 1) * i64::from(self.length.minutes()));
        writeln!(f, "Held-back week: {} to {} ({} intervals)", self.holdout_start, last, self.holdout_intervals)?;
        let percent = |x: Option<f64>| x.map_or("-".to_string(), |x| format!("{:.1}%", x * 100.0));
        let rows: Vec<Vec<String>> =
            self.accuracy.iter().map(|a| vec![a.method.to_string(), percent(a.mape), percent(a.wape)]).collect();
        f.write_str(&render_table(&["method", "mape", "wape"], &rows))?;
        writeln!(f, "Chosen: {}", self.chosen)?;
        match self.intervals.first() {
            Some(first) => writeln!(f, "Forecast: {} intervals from {}", self.intervals.len(), first.start),
            None => writeln!(f, "Forecast: no intervals"),
        }
    }
}

/// Forecasts `config.days` days after the last interval of `history`, which must hold at
/// least three weeks (two to train Holt–Winters, one held back).
pub fn forecast(history: &IntervalSeries, config: &ForecastConfig) -> Result<Forecast, WfmError> {
    let per_day = history.length().per_day();
    let season = 7 * per_day;
    let n = history.len();
    if n < 3 * season {
        return Err(WfmError::HistoryTooShort { have: n, need: 3 * season });
    }
    let weeks = config.profile_weeks.max(1) as usize;
    let data = Prepared::new(history, season);
    let train = &data.volume[..n - season];
    let (actual, observed) = (&data.volume[n - season..], &data.observed[n - season..]);

    let mut accuracy = Vec::new();
    let profile = seasonal_profile(train, season, weeks, season);
    accuracy.push(score(profile_method(train.len(), season, weeks), actual, observed, &profile));
    for seasonality in [Seasonality::Additive, Seasonality::Multiplicative] {
        let (smoothing, fit) = best_holt_winters(train, season, seasonality);
        let predicted = fit.forecast(seasonality, season);
        accuracy.push(score(Method::HoltWinters { seasonality, smoothing }, actual, observed, &predicted));
    }
    // The lowest WAPE wins; on a tie (or no calls at all) the earlier, simpler method.
    let best = accuracy
        .iter()
        .enumerate()
        .min_by(|(i, a), (j, b)| {
            a.wape.unwrap_or(f64::INFINITY).total_cmp(&b.wape.unwrap_or(f64::INFINITY)).then(i.cmp(j))
        })
        .map(|(_, a)| a.method)
        .expect("three methods were scored");

    let horizon = config.days as usize * per_day;
    let (chosen, volumes) = match best {
        Method::SeasonalProfile { .. } => {
            (profile_method(n, season, weeks), seasonal_profile(&data.volume, season, weeks, horizon))
        }
        Method::HoltWinters { seasonality, .. } => {
            let (smoothing, fit) = best_holt_winters(&data.volume, season, seasonality);
            (Method::HoltWinters { seasonality, smoothing }, fit.forecast(seasonality, horizon))
        }
    };
    let ahts = aht_profile(&data, season, per_day, weeks, horizon);
    let intervals = (0..horizon)
        .map(|h| ForecastInterval { start: history.start_of(n + h), volume: volumes[h], aht_seconds: ahts[h] })
        .collect();
    Ok(Forecast {
        length: history.length(),
        holdout_start: history.start_of(n - season),
        holdout_intervals: season,
        accuracy,
        chosen,
        intervals,
    })
}

/// The history as plain vectors with its holes filled.
struct Prepared {
    volume: Vec<f64>,
    aht: Vec<f64>,
    /// Whether the interval was in the file (holes are left out of accuracy figures).
    observed: Vec<bool>,
}

impl Prepared {
    fn new(series: &IntervalSeries, season: usize) -> Prepared {
        let slots = series.slots();
        let observed: Vec<bool> = slots.iter().map(Option::is_some).collect();
        let volume_of = |i: usize| slots[i].map(|o| o.volume());
        let (sum, count) = slots.iter().flatten().fold((0.0, 0usize), |(s, c), o| (s + o.volume(), c + 1));
        let overall = if count > 0 { sum / count as f64 } else { 0.0 };
        let volume = (0..slots.len())
            .map(|i| {
                volume_of(i).unwrap_or_else(|| {
                    let same_slot: Vec<f64> = (i % season..slots.len()).step_by(season).filter_map(volume_of).collect();
                    if same_slot.is_empty() { overall } else { same_slot.iter().sum::<f64>() / same_slot.len() as f64 }
                })
            })
            .collect();
        let aht = slots.iter().map(|o| o.map_or(0.0, |o| o.aht_seconds())).collect();
        Prepared { volume, aht, observed }
    }
}

fn profile_method(len: usize, season: usize, weeks: usize) -> Method {
    Method::SeasonalProfile { weeks: weeks.min(len / season).max(1) as u32 }
}

/// MAPE and WAPE of `predicted` against the observed intervals of `actual`.
fn score(method: Method, actual: &[f64], observed: &[bool], predicted: &[f64]) -> Accuracy {
    let (mut ape_sum, mut ape_count, mut abs_error, mut total) = (0.0, 0usize, 0.0, 0.0);
    for ((&a, &seen), &p) in actual.iter().zip(observed).zip(predicted) {
        if !seen {
            continue;
        }
        let error = (a - p).abs();
        abs_error += error;
        total += a;
        if a > 0.0 {
            ape_sum += error / a;
            ape_count += 1;
        }
    }
    Accuracy {
        method,
        mape: (ape_count > 0).then(|| ape_sum / ape_count as f64),
        wape: (total > 0.0).then(|| abs_error / total),
    }
}

/// The seasonal-profile forecast of the `horizon` intervals after `y`: the mean of each
/// weekly slot over the last `weeks` whole weeks, scaled by the linear trend of those weeks'
/// totals, extrapolated from the time the slot's mean stands for to the forecast time.
fn seasonal_profile(y: &[f64], season: usize, weeks: usize, horizon: usize) -> Vec<f64> {
    let k = weeks.min(y.len() / season).max(1);
    let window = &y[y.len() - k * season..];
    let profile: Vec<f64> =
        (0..season).map(|j| (0..k).map(|w| window[w * season + j]).sum::<f64>() / k as f64).collect();
    let totals: Vec<f64> = window.chunks(season).map(|week| week.iter().sum()).collect();
    let mean_total = totals.iter().sum::<f64>() / k as f64;
    let centre = (k as f64 - 1.0) / 2.0;
    let spread: f64 = (0..k).map(|w| (w as f64 - centre).powi(2)).sum();
    let slope = if spread > 0.0 {
        totals.iter().enumerate().map(|(w, t)| (w as f64 - centre) * t).sum::<f64>() / spread
    } else {
        0.0
    };
    // The trend line of weekly totals at a time measured in weeks, week w's centre being w.
    let level = |weeks: f64| mean_total + slope * (weeks - centre);
    (0..horizon)
        .map(|h| {
            let position = k * season + h;
            let slot = position % season;
            let slot_offset = (slot as f64 + 0.5) / season as f64 - 0.5;
            let at = (position as f64 + 0.5) / season as f64 - 0.5;
            let base = level(centre + slot_offset);
            let factor = if base > 0.0 { level(at).max(0.0) / base } else { 1.0 };
            profile[slot] * factor
        })
        .collect()
}

/// Holt–Winters' state after the data, and its in-sample one-step-ahead squared error.
#[derive(Debug, Clone)]
struct HoltWintersFit {
    sse: f64,
    level: f64,
    trend: f64,
    season: Vec<f64>,
    /// Observations consumed; the next forecast is for index `seen`.
    seen: usize,
}

/// Below this a level or a seasonal factor counts as zero in the multiplicative model.
const TINY: f64 = 1e-9;

impl HoltWintersFit {
    /// Runs Holt–Winters over `y`, starting from states estimated on its first two seasons.
    fn run(y: &[f64], period: usize, seasonality: Seasonality, p: Smoothing) -> HoltWintersFit {
        let mean = |s: &[f64]| s.iter().sum::<f64>() / s.len() as f64;
        let (m1, m2) = (mean(&y[..period]), mean(&y[period..2 * period]));
        let trend = (m2 - m1) / period as f64;
        // The level just before the first observation, on the line through both means.
        let mut level = m1 - trend * (period as f64 + 1.0) / 2.0;
        let mut trend = trend;
        let mut season: Vec<f64> = (0..period)
            .map(|i| match seasonality {
                Seasonality::Additive => ((y[i] - m1) + (y[period + i] - m2)) / 2.0,
                Seasonality::Multiplicative => {
                    let ratio = |v: f64, m: f64| if m > TINY { v / m } else { 1.0 };
                    (ratio(y[i], m1) + ratio(y[period + i], m2)) / 2.0
                }
            })
            .collect();
        let mut sse = 0.0;
        for (t, &value) in y.iter().enumerate() {
            let s = season[t % period];
            let (forecast, new_level) = match seasonality {
                Seasonality::Additive => {
                    ((level + trend + s), p.alpha * (value - s) + (1.0 - p.alpha) * (level + trend))
                }
                Seasonality::Multiplicative => {
                    let deseasonalised = if s > TINY { value / s } else { level + trend };
                    ((level + trend) * s, p.alpha * deseasonalised + (1.0 - p.alpha) * (level + trend))
                }
            };
            if t >= period {
                sse += (value - forecast.max(0.0)).powi(2);
            }
            trend = p.beta * (new_level - level) + (1.0 - p.beta) * trend;
            season[t % period] = match seasonality {
                Seasonality::Additive => p.gamma * (value - new_level) + (1.0 - p.gamma) * s,
                Seasonality::Multiplicative if new_level > TINY => p.gamma * (value / new_level) + (1.0 - p.gamma) * s,
                Seasonality::Multiplicative => s,
            };
            level = new_level;
        }
        HoltWintersFit { sse, level, trend, season, seen: y.len() }
    }

    /// The next `horizon` values, floored at zero.
    fn forecast(&self, seasonality: Seasonality, horizon: usize) -> Vec<f64> {
        let period = self.season.len();
        (1..=horizon)
            .map(|h| {
                let base = self.level + h as f64 * self.trend;
                let s = self.season[(self.seen + h - 1) % period];
                match seasonality {
                    Seasonality::Additive => base + s,
                    Seasonality::Multiplicative => base.max(0.0) * s,
                }
                .max(0.0)
            })
            .collect()
    }
}

const ALPHAS: [f64; 6] = [0.02, 0.05, 0.1, 0.2, 0.3, 0.5];
const BETAS: [f64; 3] = [0.0, 0.001, 0.01];
const GAMMAS: [f64; 5] = [0.05, 0.1, 0.2, 0.3, 0.5];

/// The grid point with the least in-sample one-step-ahead squared error (the first on a tie).
fn best_holt_winters(y: &[f64], period: usize, seasonality: Seasonality) -> (Smoothing, HoltWintersFit) {
    let mut best: Option<(Smoothing, HoltWintersFit)> = None;
    for alpha in ALPHAS {
        for beta in BETAS {
            for gamma in GAMMAS {
                let smoothing = Smoothing { alpha, beta, gamma };
                let fit = HoltWintersFit::run(y, period, seasonality, smoothing);
                if best.as_ref().is_none_or(|(_, b)| fit.sse < b.sse) {
                    best = Some((smoothing, fit));
                }
            }
        }
    }
    best.expect("the grid is not empty")
}

/// The handle-time forecast: for each weekly slot, the volume-weighted mean AHT of that slot
/// over the last `weeks` weeks; failing that (no calls in the slot), of the same time of day
/// over those weeks; failing that, of the whole window; failing that, 0.
fn aht_profile(data: &Prepared, season: usize, per_day: usize, weeks: usize, horizon: usize) -> Vec<f64> {
    let n = data.volume.len();
    let k = weeks.min(n / season).max(1);
    let window = n - k * season;
    let weighted = |filter: &dyn Fn(usize) -> bool| {
        let (mut work, mut calls) = (0.0, 0.0);
        for i in (window..n).filter(|&i| data.observed[i] && filter(i - window)) {
            work += data.volume[i] * data.aht[i];
            calls += data.volume[i];
        }
        (calls > 0.0).then(|| work / calls)
    };
    let overall = weighted(&|_| true).unwrap_or(0.0);
    let by_time_of_day: Vec<f64> = (0..per_day).map(|d| weighted(&|i| i % per_day == d).unwrap_or(overall)).collect();
    let by_slot: Vec<f64> =
        (0..season).map(|j| weighted(&|i| i % season == j).unwrap_or(by_time_of_day[j % per_day])).collect();
    (0..horizon).map(|h| by_slot[h % season]).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seasonal_profile_extrapolates_a_linear_trend_exactly() {
        // A season of 4 whose every value grows by 1 per interval: weekly totals grow by 16
        // per week, and the profile must continue the line.
        let y: Vec<f64> = (0..12).map(|t| 100.0 + t as f64).collect();
        let forecast = seasonal_profile(&y, 4, 3, 6);
        let expect: Vec<f64> = (12..18).map(|t| 100.0 + t as f64).collect();
        for (f, e) in forecast.iter().zip(&expect) {
            assert!((f - e).abs() < 1e-9, "{forecast:?} vs {expect:?}");
        }
    }

    #[test]
    fn holt_winters_reproduces_a_noise_free_seasonal_series() {
        let pattern = [5.0, 20.0, 40.0, 10.0];
        let y: Vec<f64> = (0..40).map(|t| pattern[t % 4]).collect();
        for seasonality in [Seasonality::Additive, Seasonality::Multiplicative] {
            let (_, fit) = best_holt_winters(&y, 4, seasonality);
            assert!(fit.sse < 1e-9, "{seasonality:?}: {}", fit.sse);
            let forecast = fit.forecast(seasonality, 8);
            for (h, f) in forecast.iter().enumerate() {
                assert!((f - pattern[(40 + h) % 4]).abs() < 1e-6, "{seasonality:?}: {forecast:?}");
            }
        }
    }

    #[test]
    fn accuracy_skips_holes_and_zero_actuals_in_mape() {
        let accuracy = score(
            Method::SeasonalProfile { weeks: 1 },
            &[10.0, 0.0, 20.0, 99.0],
            &[true, true, true, false],
            &[12.0, 1.0, 15.0, 0.0],
        );
        // MAPE: (2/10 + 5/20) / 2 = 0.225; WAPE: (2 + 1 + 5) / (10 + 0 + 20) = 8/30.
        assert!((accuracy.mape.unwrap() - 0.225).abs() < 1e-12);
        assert!((accuracy.wape.unwrap() - 8.0 / 30.0).abs() < 1e-12);
    }
}
