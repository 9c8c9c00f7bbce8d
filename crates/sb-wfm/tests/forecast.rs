//! Forecast tests on synthetic history whose true pattern is known, on the checked-in sample
//! file, and on degenerate series.

use sb_wfm::*;

fn synthetic(weeks: u32, growth: f64, noise: f64, seed: u64) -> Synthetic {
    Synthetic { days: 7 * weeks, weekly_growth: growth, noise, seed, ..Synthetic::sample() }
}

/// WAPE of the forecast against the synthetic generator's noise-free expectation.
fn wape_against_truth(generator: &Synthetic, forecast: &Forecast) -> f64 {
    let (mut error, mut total) = (0.0, 0.0);
    for interval in &forecast.intervals {
        let truth = generator.expected_volume(interval.start);
        error += (interval.volume - truth).abs();
        total += truth;
    }
    error / total
}

fn chosen_wape(forecast: &Forecast) -> f64 {
    forecast.accuracy.iter().filter_map(|a| a.wape).fold(f64::INFINITY, f64::min)
}

#[test]
fn known_weekly_pattern_with_small_noise() {
    // Six weeks, 3,000 calls a day, 1 % growth a week, 5 % multiplicative noise.
    //
    // The bound: with noise of relative standard deviation σ = 5 %, even a perfect forecast
    // has a WAPE of E|ε| = σ·√(2/π) ≈ 4 % against the noisy held-back week. A seasonal
    // profile averaging K = 4 weeks adds its own noise, σ/√4, for a total spread of
    // σ·√(1 + 1/4), so a WAPE near 4.5 % is expected (the rounding of small night-time
    // volumes to whole calls adds a little). 10 % leaves room for model error while still
    // failing a forecast that misses the daily pattern: each day's mean spread flat over its
    // intervals scores 87 % on the generator's noise-free pattern.
    let generator = synthetic(6, 0.01, 0.05, 7);
    let history = generator.generate().unwrap();
    let forecast = forecast(&history, &ForecastConfig::default()).unwrap();
    assert_eq!(forecast.accuracy.len(), 3);
    let wape = chosen_wape(&forecast);
    assert!(wape < 0.10, "held-back WAPE {wape}\n{forecast}");
    assert!(wape > 0.02, "held-back WAPE {wape} is below what the noise allows\n{forecast}");
    // Against the noise-free truth only the forecast's own error remains (≈ σ/√4·0.8 ≈ 2 %).
    let truth = wape_against_truth(&generator, &forecast);
    assert!(truth < 0.05, "WAPE against the truth {truth}\n{forecast}");
    assert_eq!(forecast.intervals.len(), 7 * 48);
    assert_eq!(forecast.intervals[0].start, history.start_of(history.len()));
    // Handle time: the generator's AHT varies ±8 % by time of day around 240 s with 5 %
    // noise per interval, so a slot's profile (four weeks) has a relative spread of 2.5 %:
    // every busy interval lands within 10 % (4σ) and the mean absolute error, expected
    // near 2.5 %·√(2/π) = 2 %, stays below 3 %.
    let busy: Vec<&ForecastInterval> = forecast.intervals.iter().filter(|i| i.volume > 20.0).collect();
    let mut error_sum = 0.0;
    for interval in &busy {
        let error = (interval.aht_seconds / generator.expected_aht(interval.start) - 1.0).abs();
        assert!(error < 0.10, "{interval:?}: AHT off by {error}");
        error_sum += error;
    }
    let mean_error = error_sum / busy.len() as f64;
    assert!(mean_error < 0.03, "mean AHT error {mean_error}");
}

#[test]
fn every_method_beats_a_tenth_on_a_clean_pattern() {
    // Without noise or growth, the series repeats every week exactly (up to rounding to
    // whole calls), so every method must be nearly exact.
    let history = synthetic(4, 0.0, 0.0, 1).generate().unwrap();
    let forecast = forecast(&history, &ForecastConfig::default()).unwrap();
    for accuracy in &forecast.accuracy {
        let wape = accuracy.wape.unwrap();
        assert!(wape < 0.01, "{}: {wape}", accuracy.method);
    }
}

#[test]
fn growth_is_carried_into_the_forecast() {
    // 5 % a week and no noise: next week's total is 5 % above the last one's.
    let generator = synthetic(6, 0.05, 0.0, 1);
    let history = generator.generate().unwrap();
    let forecast = forecast(&history, &ForecastConfig::default()).unwrap();
    let truth = wape_against_truth(&generator, &forecast);
    assert!(truth < 0.02, "WAPE against the truth {truth}\n{forecast}");
}

#[test]
fn a_flat_series_forecasts_flat() {
    let start: LocalDateTime = "2024-05-06T00:00".parse().unwrap();
    let slots = vec![Some(Observation::new(12.0, 200.0).unwrap()); 21 * 24];
    let history = IntervalSeries::new(start, IntervalLength::new(60).unwrap(), slots).unwrap();
    let forecast = forecast(&history, &ForecastConfig { days: 3, profile_weeks: 4 }).unwrap();
    assert_eq!(forecast.intervals.len(), 3 * 24);
    for interval in &forecast.intervals {
        assert!((interval.volume - 12.0).abs() < 1e-9, "{interval:?}");
        assert!((interval.aht_seconds - 200.0).abs() < 1e-9, "{interval:?}");
    }
    for accuracy in &forecast.accuracy {
        assert!(accuracy.mape.unwrap() < 1e-9 && accuracy.wape.unwrap() < 1e-9, "{accuracy:?}");
    }
    assert_eq!(forecast.chosen, Method::SeasonalProfile { weeks: 3 });
}

#[test]
fn holes_are_filled_and_left_out_of_the_accuracy() {
    let generator = synthetic(4, 0.0, 0.02, 3);
    let full = generator.generate().unwrap();
    let mut slots = full.slots().to_vec();
    // A missing afternoon in week two and one in the held-back week.
    for i in (7 * 48 + 28..7 * 48 + 36).chain(3 * 7 * 48 + 20..3 * 7 * 48 + 30) {
        slots[i] = None;
    }
    let holed = IntervalSeries::new(full.start(), full.length(), slots).unwrap();
    let forecast = forecast(&holed, &ForecastConfig::default()).unwrap();
    let wape = chosen_wape(&forecast);
    assert!(wape < 0.05, "{wape}\n{forecast}");
}

#[test]
fn too_short_a_history_is_refused() {
    let history = synthetic(2, 0.0, 0.05, 1).generate().unwrap();
    assert_eq!(
        forecast(&history, &ForecastConfig::default()),
        Err(WfmError::HistoryTooShort { have: 14 * 48, need: 21 * 48 })
    );
}

#[test]
fn forecast_csv_reads_back_and_staffs() {
    let history = synthetic(3, 0.0, 0.05, 9).generate().unwrap();
    let forecast = forecast(&history, &ForecastConfig { days: 1, profile_weeks: 2 }).unwrap();
    let text = forecast.to_csv();
    assert!(text.starts_with("interval_start,volume,aht_seconds\n2024-01-22T00:00,"), "{text}");
    let parsed = parse_series("forecast.csv", &text);
    assert_eq!(parsed.problems, vec![]);
    let series = parsed.series.unwrap();
    assert_eq!(series.len(), 48);
    let config = StaffingConfig {
        model: Model::ErlangC,
        target: Target::new("80/20s".parse().unwrap()),
        shrinkage: "30%".parse().unwrap(),
    };
    let from_file = staff_series(&series, &config).unwrap();
    let direct = staff_forecast(&forecast, &config).unwrap();
    assert_eq!(from_file.rows.len(), 48);
    // The file rounds volumes to hundredths, which can move a requirement by one agent.
    for (a, b) in from_file.rows.iter().zip(&direct.rows) {
        assert!(a.agents.abs_diff(b.agents) <= 1, "{a:?} vs {b:?}");
    }
    let peak = direct.rows.iter().map(|r| r.agents).max().unwrap();
    assert!(peak > 20, "the Monday-morning peak needs agents: {peak}");
}

#[test]
fn accuracy_report_names_every_method_and_the_choice() {
    let history = synthetic(3, 0.0, 0.05, 9).generate().unwrap();
    let forecast = forecast(&history, &ForecastConfig::default()).unwrap();
    let report = forecast.to_string();
    let lines: Vec<&str> = report.lines().collect();
    assert_eq!(lines[0], "Held-back week: 2024-01-15T00:00 to 2024-01-21T23:30 (336 intervals)");
    assert!(lines[1].starts_with("method") && lines[1].ends_with("mape  wape"), "{report}");
    assert!(lines[2].starts_with("seasonal profile (2 weeks)"), "{report}");
    assert!(lines[3].starts_with("Holt-Winters additive (alpha "), "{report}");
    assert!(lines[4].starts_with("Holt-Winters multiplicative (alpha "), "{report}");
    assert!(lines[5].starts_with("Chosen: "), "{report}");
    assert_eq!(lines[6], "Forecast: 336 intervals from 2024-01-22T00:00");
}

const SAMPLE: &str = "test_data/history-sample.csv";
const SAMPLE_COMMENT: &str = "Synthetic history, not real traffic: generated by sb_wfm::Synthetic::sample()\n\
     (four weeks of 30-minute intervals, 3,000 calls a day growing 1 % a week, 5 % noise, seed 42).\n\
     Regenerate with SB_WFM_BLESS=1 cargo test -p sb-wfm --test forecast.";

#[test]
fn sample_file_is_the_generator_output() {
    let expect = Synthetic::sample().generate().unwrap().to_csv(Some(SAMPLE_COMMENT));
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(SAMPLE);
    if std::env::var_os("SB_WFM_BLESS").is_some() {
        std::fs::write(&path, &expect).unwrap();
    }
    let actual = std::fs::read_to_string(&path).unwrap();
    assert!(actual == expect, "{SAMPLE} differs from Synthetic::sample(); rerun with SB_WFM_BLESS=1 to regenerate");
}

#[test]
fn sample_file_parses_cleanly_and_forecasts_well() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(SAMPLE);
    let parsed = parse_series(SAMPLE, &std::fs::read_to_string(path).unwrap());
    assert_eq!(parsed.problems, vec![]);
    let history = parsed.series.unwrap();
    assert_eq!((history.len(), history.length().minutes()), (28 * 48, 30));
    let forecast = forecast(&history, &ForecastConfig::default()).unwrap();
    // Same argument as for `known_weekly_pattern_with_small_noise`, with three training weeks.
    let wape = chosen_wape(&forecast);
    assert!(wape < 0.10, "{wape}\n{forecast}");
}
