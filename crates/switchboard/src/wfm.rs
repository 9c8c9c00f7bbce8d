//! `switchboard staff` and `switchboard forecast`: workforce-management figures from
//! `sb-wfm`, printed as tables and written as CSV and SVG charts.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use clap::Args;
use sb_charts::{PALETTE, Panel, Series};
use sb_wfm::{
    Aht, Demand, ForecastConfig, Fraction, IntervalLength, Model, Patience, ServiceLevelTarget, Shrinkage,
    StaffingConfig, StaffingTable, Target,
};

#[derive(Debug, Args)]
pub struct StaffArgs {
    /// Contacts expected in one interval (with --aht), for a single requirement.
    #[arg(long, required_unless_present = "demand", conflicts_with = "demand")]
    volume: Option<f64>,
    /// Average handle time of those contacts, such as 240s or 4m.
    #[arg(long, required_unless_present = "demand", conflicts_with = "demand")]
    aht: Option<Aht>,
    /// Length of the interval: 15m, 30m or 60m.
    #[arg(long, default_value = "30m")]
    interval: IntervalLength,
    /// Demand per interval from a CSV file with the header interval_start,volume,aht_seconds,
    /// such as the output of `switchboard forecast`.
    #[arg(long, value_name = "FILE")]
    demand: Option<PathBuf>,
    /// Service-level target: the share answered within a time, such as 80/20s.
    #[arg(long, default_value = "80/20s")]
    target: ServiceLevelTarget,
    /// Highest acceptable agent occupancy, such as 85%.
    #[arg(long)]
    max_occupancy: Option<Fraction>,
    /// Highest acceptable average speed of answer, such as 30s.
    #[arg(long, value_parser = parse_duration)]
    max_asa: Option<std::time::Duration>,
    /// Share of paid time agents cannot take contacts (breaks, training, absence), such as 30%.
    #[arg(long, default_value = "0%")]
    shrinkage: Shrinkage,
    /// Mean customer patience, such as 90s: staffs with Erlang A (abandonment) instead of
    /// Erlang C (customers wait as long as it takes).
    #[arg(long)]
    patience: Option<Patience>,
    /// Write the requirements as CSV to this file.
    #[arg(long, value_name = "FILE")]
    csv: Option<PathBuf>,
    /// Write a chart of agents required per interval (SVG) to this file.
    #[arg(long, value_name = "FILE")]
    chart: Option<PathBuf>,
}

fn parse_duration(text: &str) -> Result<std::time::Duration, sb_wfm::WfmError> {
    sb_wfm::parse_duration(text)
}

#[derive(Debug, Args)]
pub struct ForecastArgs {
    /// History of interval volumes and handle times: CSV with the header
    /// interval_start,volume,aht_seconds and at least three weeks of equal intervals.
    #[arg(long, value_name = "FILE")]
    history: PathBuf,
    /// Days to forecast after the end of the history.
    #[arg(long, default_value_t = 7)]
    days: u32,
    /// Weeks the seasonal profile averages.
    #[arg(long, default_value_t = 4)]
    profile_weeks: u32,
    /// Where to write the forecast (same CSV format as the history, so it can be staffed).
    #[arg(long, short = 'o', value_name = "FILE", default_value = "forecast.csv")]
    out: PathBuf,
    /// Where to write the chart of recent history and forecast (SVG).
    #[arg(long, value_name = "FILE", default_value = "forecast.svg")]
    chart: PathBuf,
}

/// Reads an interval series, printing every problem; fails only if nothing usable is left.
fn read_series(path: &Path) -> anyhow::Result<sb_wfm::IntervalSeries> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let parsed = sb_wfm::parse_series(&path.display().to_string(), &text);
    for problem in &parsed.problems {
        eprintln!("{problem}");
    }
    if !parsed.problems.is_empty() {
        eprintln!("{}: {} problem(s); the other lines were kept", path.display(), parsed.problems.len());
    }
    parsed.series.with_context(|| format!("{} holds no usable intervals", path.display()))
}

pub fn staff(args: StaffArgs) -> anyhow::Result<()> {
    let model = match args.patience {
        Some(patience) => Model::ErlangA { patience },
        None => Model::ErlangC,
    };
    let target = Target { service_level: args.target, max_occupancy: args.max_occupancy, max_asa: args.max_asa };
    let config = StaffingConfig { model, target, shrinkage: args.shrinkage };
    let table = match (&args.demand, args.volume, args.aht) {
        (Some(path), _, _) => sb_wfm::staff_series(&read_series(path)?, &config)?,
        (None, Some(volume), Some(aht)) => {
            let demand = Demand::new(format!("one {} interval", args.interval), args.interval, volume, aht.seconds())?;
            sb_wfm::staff(&[demand], &config)?
        }
        _ => anyhow::bail!("give --volume and --aht, or --demand FILE"),
    };
    say_raw!("{table}");
    if let Some(csv) = &args.csv {
        std::fs::write(csv, table.to_csv()).with_context(|| format!("writing {}", csv.display()))?;
        say!("wrote {}", csv.display());
    }
    if let Some(chart) = &args.chart {
        staffing_chart(&table, chart)?;
        say!("wrote {}", chart.display());
    }
    Ok(())
}

fn staffing_chart(table: &StaffingTable, path: &Path) -> anyhow::Result<()> {
    let points = |f: &dyn Fn(&sb_wfm::StaffingRow) -> f64| -> Vec<(f64, f64)> {
        table.rows.iter().enumerate().map(|(k, r)| (k as f64 + 0.5, f(r))).collect()
    };
    let series = |name: &str, points, color| Series { name: name.into(), points, color, faint: false };
    let panels = [
        Panel {
            caption: "agents required per interval".into(),
            y_label: "agents".into(),
            y_max: None,
            series: vec![
                series("on the phones", points(&|r| f64::from(r.agents)), PALETTE[0]),
                series("scheduled (with shrinkage)", points(&|r| f64::from(r.scheduled)), PALETTE[1]),
            ],
        },
        Panel {
            caption: "expected service level and occupancy".into(),
            y_label: "%".into(),
            y_max: Some(100.0),
            series: vec![
                series("service level", points(&|r| r.metrics.service_level * 100.0), PALETTE[2]),
                series("occupancy", points(&|r| r.metrics.occupancy * 100.0), PALETTE[3]),
            ],
        },
    ];
    let labels: Vec<&str> = table.rows.iter().map(|r| r.label.as_str()).collect();
    sb_charts::render(path, &panels, labels.len() as f64, &|x| label_at(&labels, x))
        .map_err(|e| anyhow::anyhow!("drawing {}: {e}", path.display()))
}

/// The shortened label of the interval at position `x` of a chart.
fn label_at(labels: &[impl AsRef<str>], x: f64) -> String {
    labels.get(x.floor().max(0.0) as usize).map_or(String::new(), |l| short_label(l.as_ref()))
}

/// `2026-11-23T08:30` → `11-23 08:30`; other labels unchanged.
fn short_label(label: &str) -> String {
    match label.split_once('T') {
        Some((date, time)) if date.len() == 10 => format!("{} {time}", &date[5..]),
        _ => label.to_string(),
    }
}

pub fn forecast(args: ForecastArgs) -> anyhow::Result<()> {
    let history = read_series(&args.history)?;
    let config = ForecastConfig { days: args.days, profile_weeks: args.profile_weeks };
    let forecast = sb_wfm::forecast(&history, &config)?;
    say_raw!("{forecast}");
    std::fs::write(&args.out, forecast.to_csv()).with_context(|| format!("writing {}", args.out.display()))?;

    // The chart: the last two weeks of history, then the forecast.
    let per_week = history.length().per_day() * 7;
    let from = history.len().saturating_sub(2 * per_week);
    let mut labels: Vec<String> = (from..history.len()).map(|i| history.start_of(i).to_string()).collect();
    let past: Vec<(f64, f64)> = history.slots()[from..]
        .iter()
        .enumerate()
        .filter_map(|(k, o)| o.map(|o| (k as f64 + 0.5, o.volume())))
        .collect();
    let offset = labels.len();
    labels.extend(forecast.intervals.iter().map(|i| i.start.to_string()));
    let ahead: Vec<(f64, f64)> =
        forecast.intervals.iter().enumerate().map(|(k, i)| ((offset + k) as f64 + 0.5, i.volume)).collect();
    let panel = Panel {
        caption: format!("volume per interval: history and forecast ({})", forecast.chosen),
        y_label: "contacts".into(),
        y_max: None,
        series: vec![
            Series { name: "history".into(), points: past, color: PALETTE[0], faint: false },
            Series { name: "forecast".into(), points: ahead, color: PALETTE[1], faint: false },
        ],
    };
    sb_charts::render(&args.chart, &[panel], labels.len() as f64, &|x| label_at(&labels, x))
        .map_err(|e| anyhow::anyhow!("drawing {}: {e}", args.chart.display()))?;
    say!("wrote {} and {}", args.out.display(), args.chart.display());
    Ok(())
}
