//! Per-interval staffing requirements: for each interval of a forecast (or a single
//! interval), the offered load, the agents needed on the phones to meet a target, what they
//! achieve, and the agents to schedule once shrinkage is allowed for.
//!
//! The result is a [`StaffingTable`], which renders as an aligned plain-text table
//! (`Display`) for people and as CSV ([`StaffingTable::to_csv`]) for spreadsheets and other
//! tools.

use std::fmt::{self, Write as _};

use crate::WfmError;
use crate::csv::IntervalSeries;
use crate::erlang::{Metrics, Model, Target, required_agents};
use crate::forecast::Forecast;
use crate::units::{Aht, Erlangs, IntervalLength, Shrinkage};

/// The demand of one interval: a label (usually its start), its length, the calls expected
/// and their mean handle time.
#[derive(Debug, Clone, PartialEq)]
pub struct Demand {
    label: String,
    length: IntervalLength,
    volume: f64,
    aht_seconds: f64,
}

impl Demand {
    /// `volume` and `aht_seconds` must be finite and non-negative; a zero handle time means
    /// no work, like a zero volume.
    pub fn new(
        label: impl Into<String>,
        length: IntervalLength,
        volume: f64,
        aht_seconds: f64,
    ) -> Result<Demand, WfmError> {
        for (what, value) in [("volume", volume), ("average handle time", aht_seconds)] {
            if !(value.is_finite() && value >= 0.0) {
                return Err(WfmError::InvalidValue { what, value, expected: "a finite number >= 0" });
            }
        }
        Ok(Demand { label: label.into(), length, volume, aht_seconds })
    }

    pub fn label(&self) -> &str {
        &self.label
    }

    pub fn length(&self) -> IntervalLength {
        self.length
    }

    pub fn volume(&self) -> f64 {
        self.volume
    }

    pub fn aht_seconds(&self) -> f64 {
        self.aht_seconds
    }
}

/// How to staff: the queueing model, the target and the shrinkage.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StaffingConfig {
    pub model: Model,
    pub target: Target,
    pub shrinkage: Shrinkage,
}

/// One interval's requirement.
#[derive(Debug, Clone, PartialEq)]
pub struct StaffingRow {
    pub label: String,
    pub length: IntervalLength,
    pub volume: f64,
    pub aht_seconds: f64,
    /// `volume × AHT / interval length`.
    pub offered: Erlangs,
    /// Agents on the phones: the smallest number meeting the target.
    pub agents: u32,
    /// Agents to schedule: `ceil(agents / (1 − shrinkage))`.
    pub scheduled: u32,
    /// What `agents` achieve.
    pub metrics: Metrics,
}

/// Requirements for a run of intervals under one configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct StaffingTable {
    pub config: StaffingConfig,
    pub rows: Vec<StaffingRow>,
}

/// Staffs each demand.
pub fn staff(demands: &[Demand], config: &StaffingConfig) -> Result<StaffingTable, WfmError> {
    let rows = demands.iter().map(|demand| staff_one(demand, config)).collect::<Result<_, _>>()?;
    Ok(StaffingTable { config: *config, rows })
}

fn staff_one(demand: &Demand, config: &StaffingConfig) -> Result<StaffingRow, WfmError> {
    let in_interval = |source| WfmError::Interval { label: demand.label.clone(), source: Box::new(source) };
    let (offered, requirement) = if demand.volume == 0.0 || demand.aht_seconds == 0.0 {
        (Erlangs::new(0.0).map_err(in_interval)?, None)
    } else {
        let aht = Aht::from_secs(demand.aht_seconds).map_err(in_interval)?;
        let offered = Erlangs::from_volume(demand.volume, aht, demand.length).map_err(in_interval)?;
        (offered, Some(required_agents(&config.model, offered, aht, &config.target).map_err(in_interval)?))
    };
    let (agents, metrics) = requirement.map_or((0, Metrics::IDLE), |r| (r.agents, r.metrics));
    Ok(StaffingRow {
        label: demand.label.clone(),
        length: demand.length,
        volume: demand.volume,
        aht_seconds: demand.aht_seconds,
        offered,
        agents,
        scheduled: config.shrinkage.scheduled(agents),
        metrics,
    })
}

/// Staffs every interval of a series (a forecast file read back, for instance), labelled by
/// start; holes in the series are skipped.
pub fn staff_series(series: &IntervalSeries, config: &StaffingConfig) -> Result<StaffingTable, WfmError> {
    let demands = series
        .iter()
        .filter_map(|(start, observation)| {
            observation.map(|o| Demand::new(start.to_string(), series.length(), o.volume(), o.aht_seconds()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    staff(&demands, config)
}

/// Staffs every interval of a forecast.
pub fn staff_forecast(forecast: &Forecast, config: &StaffingConfig) -> Result<StaffingTable, WfmError> {
    let demands = forecast
        .intervals
        .iter()
        .map(|i| Demand::new(i.start.to_string(), forecast.length, i.volume, i.aht_seconds))
        .collect::<Result<Vec<_>, _>>()?;
    staff(&demands, config)
}

impl StaffingTable {
    fn has_abandonment(&self) -> bool {
        matches!(self.config.model, Model::ErlangA { .. })
    }

    /// One line describing the model, target and shrinkage.
    pub fn describe_config(&self) -> String {
        let config = &self.config;
        let mut text = match config.model {
            Model::ErlangC => "Erlang C".to_string(),
            Model::ErlangA { patience } => format!("Erlang A (mean patience {}s)", patience.seconds()),
        };
        write!(text, ", target {}", config.target.service_level).expect("writing to a String cannot fail");
        if let Some(max) = config.target.max_occupancy {
            write!(text, ", max occupancy {max}").expect("writing to a String cannot fail");
        }
        if let Some(max) = config.target.max_asa {
            write!(text, ", max ASA {}s", max.as_secs_f64()).expect("writing to a String cannot fail");
        }
        write!(text, ", shrinkage {}", config.shrinkage).expect("writing to a String cannot fail");
        text
    }

    /// The table as CSV, one row per interval; probabilities as fractions.
    pub fn to_csv(&self) -> String {
        let mut out = String::from(
            "interval,length_minutes,volume,aht_seconds,offered_erlangs,agents,scheduled,\
             service_level,asa_seconds,occupancy,p_wait,p_abandon\n",
        );
        for row in &self.rows {
            let m = &row.metrics;
            writeln!(
                out,
                "{},{},{:.2},{:.1},{:.4},{},{},{:.4},{:.2},{:.4},{:.4},{:.4}",
                row.label,
                row.length.minutes(),
                row.volume,
                row.aht_seconds,
                row.offered.get(),
                row.agents,
                row.scheduled,
                m.service_level,
                m.asa_seconds,
                m.occupancy,
                m.p_wait,
                m.p_abandon
            )
            .expect("writing to a String cannot fail");
        }
        out
    }
}

impl fmt::Display for StaffingTable {
    /// The configuration line, then an aligned table.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut header =
            vec!["interval", "min", "volume", "aht_s", "erlangs", "agents", "scheduled", "sl", "asa_s", "occupancy"];
        if self.has_abandonment() {
            header.push("abandon");
        }
        let percent = |x: f64| format!("{:.1}%", x * 100.0);
        let rows: Vec<Vec<String>> = self
            .rows
            .iter()
            .map(|row| {
                let m = &row.metrics;
                let mut cells = vec![
                    row.label.clone(),
                    row.length.minutes().to_string(),
                    format!("{:.1}", row.volume),
                    format!("{:.1}", row.aht_seconds),
                    format!("{:.2}", row.offered.get()),
                    row.agents.to_string(),
                    row.scheduled.to_string(),
                    percent(m.service_level),
                    format!("{:.1}", m.asa_seconds),
                    percent(m.occupancy),
                ];
                if self.has_abandonment() {
                    cells.push(percent(m.p_abandon));
                }
                cells
            })
            .collect();
        writeln!(f, "{}", self.describe_config())?;
        f.write_str(&render_table(&header, &rows))
    }
}

/// Renders rows under a header with every column padded to its widest cell: the first
/// column left-aligned, the others (numbers) right-aligned, two spaces between columns.
pub(crate) fn render_table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let header: Vec<String> = header.iter().map(ToString::to_string).collect();
    for row in std::iter::once(&header).chain(rows) {
        let mut line = String::new();
        for (i, (cell, width)) in row.iter().zip(&widths).enumerate() {
            let pad = width - cell.chars().count();
            if i == 0 {
                line.push_str(cell);
                line.push_str(&" ".repeat(pad));
            } else {
                line.push_str("  ");
                line.push_str(&" ".repeat(pad));
                line.push_str(cell);
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}
