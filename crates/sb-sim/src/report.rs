//! What a simulation reports: a summary table for the terminal, per-interval CSV, a JSON
//! document for machines and an SVG chart of service level and queue length per interval.
//! Every figure is the mean over replications, with a 95 % confidence interval where it
//! matters.

use std::fmt::Write as _;
use std::path::Path;

use sb_charts::{PALETTE, Panel, Series};
use serde_json::json;

use crate::model::{Scenario, SimTenant};
use crate::sim::{Counters, RunResult};
use crate::stats::Estimate;

/// The definitions printed with every report, so that nobody has to guess.
pub const DEFINITIONS: &str = "\
service level = answered within the queue's threshold / (offered - abandoned within the short-abandon time - called back); \
ASA = mean wait of answered contacts; AHT = mean talk plus wrap-up of answered contacts; \
abandon rate = abandoned / offered; occupancy = agent time handling / agent time available or handling; \
called back = callers who took a call back instead of waiting (offered = answered + abandoned + called back + still waiting); \
call-back wait = mean time from the request to an agent answering the call back, counted in the queue that calls back; \
contacts count in the interval they arrived in";

/// The runs of one simulation and what is needed to describe them.
#[derive(Debug)]
pub struct Replicated<'a> {
    pub tenant: &'a SimTenant,
    pub scenario: &'a Scenario,
    pub runs: Vec<RunResult>,
    pub seed: u64,
}

/// The mean of an integer count over runs.
fn mean_count(runs: &[RunResult], f: impl Fn(&RunResult) -> u64) -> f64 {
    runs.iter().map(|r| f(r) as f64).sum::<f64>() / runs.len().max(1) as f64
}

fn pct(e: Option<Estimate>) -> String {
    match e {
        Some(e) if e.half_width > 0.0 => format!("{:.1}% ±{:.1}", e.mean * 100.0, e.half_width * 100.0),
        Some(e) => format!("{:.1}%", e.mean * 100.0),
        None => "-".into(),
    }
}

fn secs(e: Option<Estimate>) -> String {
    match e {
        Some(e) if e.half_width > 0.0 => format!("{:.1}s ±{:.1}", e.mean, e.half_width),
        Some(e) => format!("{:.1}s", e.mean),
        None => "-".into(),
    }
}

/// The figures of one row of the summary (a queue, a skill or the total).
#[derive(Debug, Clone)]
pub struct Row {
    pub name: String,
    pub offered: f64,
    pub answered: f64,
    pub abandoned: f64,
    pub service_level: Option<Estimate>,
    pub asa: Option<Estimate>,
    pub aht: Option<Estimate>,
    pub abandon_rate: Option<Estimate>,
    pub max_queue: f64,
    pub called_back: f64,
    pub callbacks_answered: f64,
    pub callback_wait: Option<Estimate>,
}

impl Row {
    fn of(name: String, per_run: Vec<Counters>) -> Row {
        let n = per_run.len().max(1) as f64;
        Row {
            name,
            offered: per_run.iter().map(|c| c.offered as f64).sum::<f64>() / n,
            answered: per_run.iter().map(|c| c.answered as f64).sum::<f64>() / n,
            abandoned: per_run.iter().map(|c| c.abandoned as f64).sum::<f64>() / n,
            service_level: Estimate::of(per_run.iter().map(Counters::service_level)),
            asa: Estimate::of(per_run.iter().map(Counters::asa)),
            aht: Estimate::of(per_run.iter().map(Counters::aht)),
            abandon_rate: Estimate::of(per_run.iter().map(Counters::abandon_rate)),
            max_queue: per_run.iter().map(|c| f64::from(c.max_queue)).sum::<f64>() / n,
            called_back: per_run.iter().map(|c| c.called_back as f64).sum::<f64>() / n,
            callbacks_answered: per_run.iter().map(|c| c.callbacks_answered as f64).sum::<f64>() / n,
            callback_wait: Estimate::of(per_run.iter().map(Counters::callback_wait)),
        }
    }
}

impl Replicated<'_> {
    /// The whole run, every queue together.
    pub fn total(&self) -> Row {
        Row::of("all queues".into(), self.runs.iter().map(RunResult::total).collect())
    }

    pub fn queue(&self, q: usize) -> Row {
        Row::of(self.tenant.queue_names[q].clone(), self.runs.iter().map(|r| r.queue_total(q)).collect())
    }

    /// A skill's figures: every queue that requires the skill, together.
    pub fn skill(&self, s: usize) -> Option<Row> {
        let queues: Vec<usize> = (0..self.tenant.queue_names.len())
            .filter(|q| self.tenant.routing.queues[*q].skills.iter().any(|(skill, _)| skill.index() == s))
            .collect();
        if queues.is_empty() {
            return None;
        }
        let per_run = self
            .runs
            .iter()
            .map(|r| {
                let mut c = Counters::default();
                queues.iter().for_each(|q| c.add(&r.queue_total(*q)));
                c
            })
            .collect();
        Some(Row::of(format!("skill {}", self.tenant.skill_names[s]), per_run))
    }

    pub fn occupancy(&self, interval: Option<usize>) -> Option<Estimate> {
        Estimate::of(self.runs.iter().map(|r| r.occupancy(interval)))
    }

    /// One interval, every queue together.
    pub fn interval(&self, k: usize) -> Row {
        Row::of(self.interval_label(k), self.runs.iter().map(|r| r.interval_total(k)).collect())
    }

    fn interval_label(&self, k: usize) -> String {
        let start = self.scenario.interval * k as u32;
        let minutes = start.as_secs() / 60;
        format!("{:02}:{:02}", minutes / 60, minutes % 60)
    }

    /// The summary table printed on the terminal.
    pub fn table(&self) -> String {
        let mut out = String::new();
        let contacts = mean_count(&self.runs, |r| r.contacts);
        let waiting = mean_count(&self.runs, |r| r.still_waiting);
        write!(
            out,
            "{} replication(s), seed {}, {} intervals of {} min, {:.0} contacts per replication ({:.1} still waiting at the end",
            self.runs.len(),
            self.seed,
            self.scenario.intervals,
            self.scenario.interval.as_secs() / 60,
            contacts,
            waiting
        )
        .unwrap();
        // Call-back columns only for scenarios that offer call backs.
        let callbacks = self.scenario.streams.iter().any(|s| s.callback.is_some());
        if callbacks {
            write!(out, ", {:.1} call backs not yet made", mean_count(&self.runs, |r| r.callbacks_waiting)).unwrap();
        }
        writeln!(out, ")").unwrap();
        write!(
            out,
            "{:<24} {:>9} {:>9} {:>9} {:>17} {:>15} {:>9} {:>15} {:>9}",
            "", "offered", "answered", "abandoned", "service level", "ASA", "AHT", "abandon rate", "max queue"
        )
        .unwrap();
        if callbacks {
            write!(out, " {:>11} {:>16}", "called back", "call-back wait").unwrap();
        }
        writeln!(out).unwrap();
        let mut rows: Vec<Row> = (0..self.tenant.queue_names.len()).map(|q| self.queue(q)).collect();
        rows.extend((0..self.tenant.skill_names.len()).filter_map(|s| self.skill(s)));
        rows.push(self.total());
        for r in rows {
            write!(
                out,
                "{:<24} {:>9.1} {:>9.1} {:>9.1} {:>17} {:>15} {:>9} {:>15} {:>9.1}",
                r.name,
                r.offered,
                r.answered,
                r.abandoned,
                pct(r.service_level),
                secs(r.asa),
                r.aht.map_or("-".into(), |e| format!("{:.0}s", e.mean)),
                pct(r.abandon_rate),
                r.max_queue
            )
            .unwrap();
            if callbacks {
                write!(out, " {:>11.1} {:>16}", r.called_back, secs(r.callback_wait)).unwrap();
            }
            writeln!(out).unwrap();
        }
        writeln!(out, "agent occupancy: {}", pct(self.occupancy(None))).unwrap();
        write!(out, "definitions: {DEFINITIONS}").unwrap();
        out
    }

    /// Per interval and queue, means over replications.
    pub fn intervals_csv(&self) -> String {
        let mut out = String::from(
            "interval,queue,offered,answered,abandoned,service_level,asa_seconds,aht_seconds,max_queue,occupancy,\
             called_back,callbacks_answered,callback_wait_seconds\n",
        );
        let opt = |x: Option<Estimate>, scale: f64| x.map_or(String::new(), |e| format!("{:.4}", e.mean * scale));
        for k in 0..self.scenario.intervals as usize {
            let occupancy = opt(self.occupancy(Some(k)), 1.0);
            let mut rows: Vec<Row> = (0..self.tenant.queue_names.len())
                .map(|q| {
                    Row::of(self.tenant.queue_names[q].clone(), self.runs.iter().map(|r| r.queues[q][k]).collect())
                })
                .collect();
            let mut all = self.interval(k);
            all.name = "all".into();
            rows.push(all);
            for r in rows {
                writeln!(
                    out,
                    "{},{},{:.2},{:.2},{:.2},{},{},{},{:.2},{},{:.2},{:.2},{}",
                    self.interval_label(k),
                    r.name,
                    r.offered,
                    r.answered,
                    r.abandoned,
                    opt(r.service_level, 1.0),
                    opt(r.asa, 1.0),
                    opt(r.aht, 1.0),
                    r.max_queue,
                    occupancy,
                    r.called_back,
                    r.callbacks_answered,
                    opt(r.callback_wait, 1.0)
                )
                .unwrap();
            }
        }
        out
    }

    /// The whole report as JSON.
    pub fn json(&self) -> serde_json::Value {
        let est = |e: Option<Estimate>| e.map(|e| json!({"mean": e.mean, "ci95": [e.low(), e.high()]}));
        let row = |r: Row| {
            json!({
                "name": r.name,
                "offered": r.offered,
                "answered": r.answered,
                "abandoned": r.abandoned,
                "service_level": est(r.service_level),
                "asa_seconds": est(r.asa),
                "aht_seconds": est(r.aht),
                "abandon_rate": est(r.abandon_rate),
                "max_queue": r.max_queue,
                "called_back": r.called_back,
                "callbacks_answered": r.callbacks_answered,
                "callback_wait_seconds": est(r.callback_wait),
            })
        };
        json!({
            "replications": self.runs.len(),
            "seed": self.seed,
            "interval_minutes": self.scenario.interval.as_secs() / 60,
            "definitions": DEFINITIONS,
            "total": row(self.total()),
            "occupancy": est(self.occupancy(None)),
            "queues": (0..self.tenant.queue_names.len()).map(|q| row(self.queue(q))).collect::<Vec<_>>(),
            "skills": (0..self.tenant.skill_names.len()).filter_map(|s| self.skill(s)).map(row).collect::<Vec<_>>(),
            "intervals": (0..self.scenario.intervals as usize).map(|k| {
                let mut v = row(self.interval(k));
                v["occupancy"] = est(self.occupancy(Some(k))).unwrap_or(serde_json::Value::Null);
                v
            }).collect::<Vec<_>>(),
        })
    }

    /// Writes an SVG chart: service level per interval (with its confidence band) above,
    /// the longest queue per interval below.
    pub fn chart(&self, path: &Path, title: &str) -> Result<(), String> {
        let intervals = self.scenario.intervals as usize;
        let rows: Vec<Row> = (0..intervals).map(|k| self.interval(k)).collect();
        let service_level = |f: &dyn Fn(&Estimate) -> f64| -> Vec<(f64, f64)> {
            rows.iter()
                .enumerate()
                .filter_map(|(k, r)| r.service_level.map(|e| (k as f64 + 0.5, (f(&e) * 100.0).clamp(0.0, 100.0))))
                .collect()
        };
        let line = |name: &str, points, color, faint| Series { name: name.into(), points, color, faint };
        let panels = [
            Panel {
                caption: format!("{title}: service level per interval"),
                y_label: "service level (%)".into(),
                y_max: Some(100.0),
                series: vec![
                    line("mean", service_level(&|e| e.mean), PALETTE[0], false),
                    line("95% low", service_level(&|e| e.low()), PALETTE[0], true),
                    line("95% high", service_level(&|e| e.high()), PALETTE[0], true),
                ],
            },
            Panel {
                caption: "longest queue per interval (mean over replications)".into(),
                y_label: "waiting contacts".into(),
                y_max: None,
                series: vec![line(
                    "longest queue",
                    rows.iter().enumerate().map(|(k, r)| (k as f64 + 0.5, r.max_queue)).collect(),
                    PALETTE[1],
                    false,
                )],
            },
        ];
        sb_charts::render(path, &panels, intervals as f64, &|x| self.interval_label(x.round().max(0.0) as usize))
    }
}
