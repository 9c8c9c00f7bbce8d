//! Simulation scenarios: which contacts arrive when, how long they take, how patient
//! customers are, and who is logged in, for `switchboard simulate`.
//!
//! A scenario is a YAML file read against a tenant's configuration (its queues, skills and
//! agents are referred to by id). It is decoded with the same building blocks as the tenant
//! file, so it gets the same precise diagnostics; arrival and handle-time files it names are
//! read relative to the scenario and reported with their own file name and line.

use std::path::Path;
use std::time::Duration;

use crate::decode::{Decoder, Fields, index, with_article};
use crate::diagnostic::{Report, Sink};
use crate::duration::parse_duration;
use crate::model::{AgentIx, Channel, QueueIx, SkillLevel, TenantConfig};
use crate::suggest::did_you_mean;
use crate::yaml::{self, Kind, Node, Pos, join};

/// A distribution of durations.
#[derive(Debug, Clone, PartialEq)]
pub enum DurationDist {
    Fixed(Duration),
    Exponential { mean: Duration },
    LogNormal { mean: Duration, sd: Duration },
    Empirical(Vec<Duration>),
}

/// When a stream's contacts arrive.
#[derive(Debug, Clone, PartialEq)]
pub enum ArrivalPattern {
    /// Expected arrivals per interval (a Poisson process within each interval).
    PerInterval(Vec<f64>),
    /// Recorded arrival times, as offsets from the start, sorted.
    Replay(Vec<Duration>),
}

/// One kind of contact.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct StreamSpec {
    pub queue: QueueIx,
    pub channel: Channel,
    pub requirements: Vec<SkillLevel>,
    pub arrivals: ArrivalPattern,
    pub handle_time: DurationDist,
    pub patience: Option<DurationDist>,
    /// A call back offered on arrival instead of waiting.
    pub callback: Option<CallbackSpec>,
}

/// A call back offered to a stream's callers, as a flow's callback offer does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct CallbackSpec {
    /// Offered when the queue's estimated wait is over this (default 0s: to every caller).
    pub when_wait_over: Duration,
    /// Callers offered a call back who take it, in percent.
    pub accept_percent: u8,
    /// Where the call back waits for an agent (default: the stream's queue).
    pub queue: QueueIx,
}
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ShiftSpec {
    pub agents: Vec<AgentIx>,
    pub from: Duration,
    pub to: Duration,
}

/// A validated scenario.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ScenarioSpec {
    pub interval: Duration,
    pub intervals: u32,
    pub short_abandon: Duration,
    pub drain: Duration,
    pub seed: u64,
    pub replications: u32,
    pub streams: Vec<StreamSpec>,
    /// Empty: every agent is logged in the whole time.
    pub shifts: Vec<ShiftSpec>,
}

const TOP: &[&str] = &["interval", "intervals", "short_abandon", "drain", "seed", "replications", "streams", "shifts"];
const STREAM: &[&str] =
    &["queue", "channel", "requirements", "arrivals", "arrivals_file", "handle_time", "patience", "callback"];
const CALLBACK: &[&str] = &["accept_percent", "when_wait_over", "queue"];
const SHIFT: &[&str] = &["agents", "from", "to"];
const DISTS: &[&str] = &["fixed", "exponential", "lognormal", "empirical", "empirical_file"];

/// Reads and validates the scenario at `path` against `config`.
pub fn load_scenario(path: &Path, config: &TenantConfig) -> Result<ScenarioSpec, Report> {
    let file_name = path.display().to_string();
    let mut sink = Sink::new(&file_name);
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(error) => {
            sink.file_error(format!("cannot read the scenario: {error}"));
            return Err(sink.into_report());
        }
    };
    let base = path.parent().unwrap_or(Path::new("."));
    parse_scenario(&file_name, &text, config, base)
}

/// Parses scenario `text`; files it names are read relative to `base`.
pub fn parse_scenario(file_name: &str, text: &str, config: &TenantConfig, base: &Path) -> Result<ScenarioSpec, Report> {
    let mut sink = Sink::new(file_name);
    let mut others: Vec<Report> = Vec::new();
    let parsed = yaml::parse(text);
    for error in &parsed.errors {
        sink.error(error.pos, &error.path, error.message.clone());
    }
    let spec = match (&parsed.root, parsed.broken) {
        (Some(root), false) => {
            let mut reader = ScenarioReader { d: Decoder { sink: &mut sink }, config, base, others: &mut others };
            reader.scenario(root)
        }
        (None, false) => {
            sink.error(Pos::START, "", "the scenario is empty; it needs at least intervals and streams");
            None
        }
        _ => None,
    };
    let mut report = sink.into_report();
    for other in others {
        report.diagnostics.extend(other.diagnostics);
    }
    match spec {
        Some(spec) if !report.has_errors() => Ok(spec),
        _ => Err(report),
    }
}

struct ScenarioReader<'a, 's> {
    d: Decoder<'s>,
    config: &'a TenantConfig,
    base: &'a Path,
    /// Reports about files the scenario names.
    others: &'a mut Vec<Report>,
}

const MINUTE: Duration = Duration::from_secs(60);
const DAY: Duration = Duration::from_secs(86_400);

impl ScenarioReader<'_, '_> {
    fn scenario(&mut self, root: &Node) -> Option<ScenarioSpec> {
        let f = self.d.fields(root, "", "a mapping of scenario settings (intervals, streams, ...)", TOP)?;
        let interval = self
            .d
            .optional(&f, "interval", |d, n, p| d.duration_in(n, p, "the interval", MINUTE, DAY))
            .unwrap_or(30 * MINUTE);
        if interval.as_secs() % 60 != 0 {
            let node = f.get("interval").expect("present when not the default");
            self.d.sink.error(
                node.pos,
                "interval",
                "the interval must be a whole number of minutes, such as 15m or 30m",
            );
        }
        let intervals = self
            .d
            .required(&f, "intervals")
            .and_then(|n| self.d.ranged(n, "intervals", "the number of intervals", 1, 366 * 96))
            .map(|n| n as u32);
        let short_abandon = self
            .d
            .optional(&f, "short_abandon", |d, n, p| {
                d.duration_in(n, p, "the short-abandon time", Duration::ZERO, MINUTE)
            })
            .unwrap_or(Duration::from_secs(5));
        let drain = self
            .d
            .optional(&f, "drain", |d, n, p| d.duration_in(n, p, "the drain time", Duration::ZERO, DAY))
            .unwrap_or(Duration::from_secs(7200));
        let seed = self.d.optional(&f, "seed", |d, n, p| d.ranged(n, p, "the seed", 0, i64::MAX)).unwrap_or(1) as u64;
        let replications =
            self.d.optional(&f, "replications", |d, n, p| d.ranged(n, p, "replications", 1, 10_000)).unwrap_or(10)
                as u32;
        let streams = self.streams(&f, intervals);
        let shifts = f.get("shifts").map(|n| self.shifts(n, interval * intervals.unwrap_or(1))).unwrap_or_default();
        Some(ScenarioSpec {
            interval,
            intervals: intervals?,
            short_abandon,
            drain,
            seed,
            replications,
            streams: streams?,
            shifts,
        })
    }

    fn streams(&mut self, f: &Fields, intervals: Option<u32>) -> Option<Vec<StreamSpec>> {
        let node = self.d.required(f, "streams")?;
        let items = self.d.list(node, "streams", "a list of streams of arriving contacts")?;
        if items.is_empty() {
            self.d.sink.error(node.pos, "streams", "a scenario needs at least one stream of contacts");
        }
        let mut streams = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let path = index("streams", i);
            if let Some(stream) = self.stream(item, &path, intervals) {
                streams.push(stream);
            }
        }
        Some(streams)
    }

    fn stream(&mut self, node: &Node, path: &str, intervals: Option<u32>) -> Option<StreamSpec> {
        let f = self.d.fields(node, path, &format!("a mapping describing {}", with_article("stream")), STREAM)?;
        let queue = self.d.required(&f, "queue").and_then(|n| self.queue(n, &join(path, "queue")));
        let channel = self.d.required(&f, "channel").and_then(|n| {
            let p = join(path, "channel");
            let text = self.d.text(n, &p, "a channel")?;
            self.d.channel_name(text, n.pos, &p)
        });
        if let (Some(q), Some(c)) = (queue, channel) {
            let node = f.get("channel").expect("decoded above");
            self.check_takes(q, c, node.pos, &join(path, "channel"));
        }
        let requirements = f.get("requirements").map(|n| self.skill_levels(n, &join(path, "requirements")));
        let arrivals = match (f.get("arrivals"), f.get("arrivals_file")) {
            (Some(n), None) => self.per_interval(n, &join(path, "arrivals"), intervals),
            (None, Some(n)) => self.replay(n, &join(path, "arrivals_file")),
            (Some(_), Some(n)) => {
                self.d.sink.error(
                    n.pos,
                    &join(path, "arrivals_file"),
                    "give either arrivals or arrivals_file, not both",
                );
                None
            }
            (None, None) => {
                self.d.sink.error(f.pos, path, "missing arrivals: give arrivals (per interval) or arrivals_file");
                None
            }
        };
        let handle_time = self.d.required(&f, "handle_time").and_then(|n| self.dist(n, &join(path, "handle_time")));
        let patience = match f.get("patience") {
            Some(n) => Some(self.dist(n, &join(path, "patience"))?),
            None => None,
        };
        let callback = match (f.get("callback"), queue, channel) {
            (Some(n), Some(queue), Some(channel)) => Some(self.callback(n, &join(path, "callback"), queue, channel)?),
            _ => None,
        };
        Some(StreamSpec {
            queue: queue?,
            channel: channel?,
            requirements: requirements.unwrap_or(Some(Vec::new()))?,
            arrivals: arrivals?,
            handle_time: handle_time?,
            patience,
            callback,
        })
    }

    /// `{accept_percent: 40, when_wait_over: 2m, queue: sales}` of a stream of `channel`
    /// contacts to `queue`.
    fn callback(&mut self, node: &Node, path: &str, queue: QueueIx, channel: Channel) -> Option<CallbackSpec> {
        let expected = "a mapping such as {accept_percent: 40, when_wait_over: 2m}";
        let f = self.d.fields(node, path, expected, CALLBACK)?;
        if channel != Channel::Voice {
            self.d.sink.error(
                node.pos,
                path,
                format!("call backs are offered to callers, not to {} contacts", channel.as_str()),
            );
        }
        let accept = self
            .d
            .required(&f, "accept_percent")
            .and_then(|n| self.d.ranged(n, &join(path, "accept_percent"), "the percentage accepting", 0, 100));
        let when_wait_over = self
            .d
            .optional(&f, "when_wait_over", |d, n, p| d.duration_in(n, p, "the estimated wait", Duration::ZERO, DAY))
            .unwrap_or(Duration::ZERO);
        let target = match f.get("queue") {
            Some(n) => {
                let p = join(path, "queue");
                let target = self.queue(n, &p)?;
                // A call back is a call.
                self.check_takes(target, Channel::Voice, n.pos, &p);
                target
            }
            None => queue,
        };
        Some(CallbackSpec { when_wait_over, accept_percent: accept? as u8, queue: target })
    }

    /// Reports at `pos` a queue that does not take `channel` contacts.
    fn check_takes(&mut self, queue: QueueIx, channel: Channel, pos: Pos, path: &str) {
        let q = self.config.queue(queue);
        if !q.takes(channel) {
            let message = format!("queue {:?} does not take {} contacts", q.id.as_str(), channel.as_str());
            self.d.sink.error(pos, path, message);
        }
    }

    fn queue(&mut self, node: &Node, path: &str) -> Option<QueueIx> {
        let name = self.d.text(node, path, "a queue id")?;
        let found = self.config.queue_ix(name);
        if found.is_none() {
            let names: Vec<&str> = self.config.queues.iter().map(|q| q.id.as_str()).collect();
            let message = format!("unknown queue {name:?}{}", did_you_mean(name, names.iter().copied()));
            self.d.sink.error(node.pos, path, message);
        }
        found
    }

    fn skill_levels(&mut self, node: &Node, path: &str) -> Option<Vec<SkillLevel>> {
        let before = self.d.sink.error_count();
        let raw = self.d.levels(node, path);
        let mut out = Vec::new();
        for level in raw {
            let Some(skill) = self.config.skill_ix(&level.skill.value) else {
                let names: Vec<&str> = self.config.skills.iter().map(|s| s.id.as_str()).collect();
                let message = format!(
                    "unknown skill {:?}{}",
                    level.skill.value,
                    did_you_mean(&level.skill.value, names.iter().copied())
                );
                self.d.sink.error(level.skill.pos, &level.skill.path, message);
                continue;
            };
            if let Some(l) = level.level {
                out.push(SkillLevel { skill, level: l });
            }
        }
        (self.d.sink.error_count() == before).then_some(out)
    }

    fn per_interval(&mut self, node: &Node, path: &str, intervals: Option<u32>) -> Option<ArrivalPattern> {
        let number = |d: &mut Decoder, n: &Node, p: &str| -> Option<f64> {
            let text = d.text(n, p, "an expected number of arrivals")?;
            match text.parse::<f64>() {
                Ok(x) if x.is_finite() && x >= 0.0 => Some(x),
                _ => {
                    d.sink.error(n.pos, p, format!("expected a number of arrivals of 0 or more, found {text:?}"));
                    None
                }
            }
        };
        match &node.kind {
            Kind::Scalar { .. } => {
                let x = number(&mut self.d, node, path)?;
                Some(ArrivalPattern::PerInterval(vec![x; intervals.unwrap_or(1) as usize]))
            }
            Kind::Seq(items) => {
                let mut values = Vec::new();
                for (i, item) in items.iter().enumerate() {
                    values.push(number(&mut self.d, item, &index(path, i)));
                }
                if let Some(n) = intervals
                    && values.len() != n as usize
                {
                    let message = format!(
                        "{} values for {n} intervals: give one expected number of arrivals per interval, or a single number for all",
                        values.len()
                    );
                    self.d.sink.error(node.pos, path, message);
                    return None;
                }
                values.into_iter().collect::<Option<Vec<f64>>>().map(ArrivalPattern::PerInterval)
            }
            _ => {
                self.d.expected(node, path, "a number or a list of numbers, one per interval");
                None
            }
        }
    }

    /// Reads a file of one duration per line (`# comments` and blank lines allowed).
    fn duration_lines(&mut self, node: &Node, path: &str, what: &str) -> Option<Vec<Duration>> {
        let name = self.d.text(node, path, "a file name")?;
        let file = self.base.join(name);
        let text = match std::fs::read_to_string(&file) {
            Ok(text) => text,
            Err(e) => {
                self.d.sink.error(node.pos, path, format!("cannot read {}: {e}", file.display()));
                return None;
            }
        };
        let mut sink = Sink::new(&file.display().to_string());
        let mut values = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let pos = Pos { line: n as u32 + 1, column: 1 };
            match parse_offset(line) {
                Some(d) => values.push(d),
                None => sink.error(pos, "", format!("expected {what}, found {line:?}")),
            }
        }
        let report = sink.into_report();
        let failed = report.has_errors();
        self.others.push(report);
        if values.is_empty() && !failed {
            self.d.sink.error(node.pos, path, format!("{} holds no values", file.display()));
        }
        (!failed && !values.is_empty()).then_some(values)
    }

    fn replay(&mut self, node: &Node, path: &str) -> Option<ArrivalPattern> {
        let what = "an arrival time: seconds from the start (e.g. 12.5) or HH:MM:SS";
        let mut offsets = self.duration_lines(node, path, what)?;
        offsets.sort();
        Some(ArrivalPattern::Replay(offsets))
    }

    fn dist(&mut self, node: &Node, path: &str) -> Option<DurationDist> {
        let expected = "a distribution such as {exponential: 4m}, {lognormal: {mean: 5m, sd: 2m}}, {fixed: 3m}, \
                        {empirical: [2m, 3m]} or {empirical_file: FILE}";
        let f = self.d.fields(node, path, expected, DISTS)?;
        let mut kinds = DISTS.iter().filter(|k| f.get(k).is_some());
        let Some(kind) = kinds.next() else {
            // A mapping with only unknown keys was reported key by key already.
            if matches!(&node.kind, Kind::Map(entries) if entries.is_empty()) {
                self.d.sink.error(node.pos, path, format!("expected {expected}"));
            }
            return None;
        };
        if kinds.next().is_some() {
            self.d.sink.error(node.pos, path, "give exactly one distribution");
            return None;
        }
        let value = f.get(kind).expect("found above");
        let p = join(path, kind);
        let positive =
            |r: &mut Self, n: &Node, p: &str| r.d.duration_in(n, p, "a mean or spread", Duration::from_secs(1), DAY);
        match *kind {
            "fixed" => self.d.duration_in(value, &p, "a duration", Duration::ZERO, DAY).map(DurationDist::Fixed),
            "exponential" => positive(self, value, &p).map(|mean| DurationDist::Exponential { mean }),
            "lognormal" => {
                let g = self.d.fields(value, &p, "a mapping {mean: ..., sd: ...}", &["mean", "sd"])?;
                let mean = self.d.required(&g, "mean").and_then(|n| positive(self, n, &join(&p, "mean")));
                let sd = self.d.required(&g, "sd").and_then(|n| positive(self, n, &join(&p, "sd")));
                Some(DurationDist::LogNormal { mean: mean?, sd: sd? })
            }
            "empirical" => {
                let items = self.d.list(value, &p, "a list of durations")?;
                if items.is_empty() {
                    self.d.sink.error(value.pos, &p, "an empirical distribution needs at least one value");
                    return None;
                }
                let mut values = Vec::new();
                for (i, item) in items.iter().enumerate() {
                    values.push(self.d.duration_in(item, &index(&p, i), "a duration", Duration::ZERO, DAY));
                }
                values.into_iter().collect::<Option<Vec<_>>>().map(DurationDist::Empirical)
            }
            _ => self
                .duration_lines(value, &p, "a duration: seconds (e.g. 240) or HH:MM:SS")
                .map(DurationDist::Empirical),
        }
    }

    fn shifts(&mut self, node: &Node, horizon: Duration) -> Vec<ShiftSpec> {
        let Some(items) = self.d.list(node, "shifts", "a list of shifts") else { return Vec::new() };
        let mut shifts = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let path = index("shifts", i);
            let Some(f) = self.d.fields(item, &path, "a mapping describing a shift", SHIFT) else { continue };
            let agents = self.d.required(&f, "agents").and_then(|n| {
                let names = self.d.references(n, &join(&path, "agents"), "a list of agent ids")?;
                let mut out = Vec::new();
                for name in names {
                    match self.config.agent_ix(&name.value) {
                        Some(ix) => out.push(ix),
                        None => {
                            let all: Vec<&str> = self.config.agents.iter().map(|a| a.id.as_str()).collect();
                            let message = format!(
                                "unknown agent {:?}{}",
                                name.value,
                                did_you_mean(&name.value, all.iter().copied())
                            );
                            self.d.sink.error(name.pos, &name.path, message);
                        }
                    }
                }
                Some(out)
            });
            let from = self.d.required(&f, "from").and_then(|n| self.d.duration(n, &join(&path, "from")));
            let to = self.d.required(&f, "to").and_then(|n| self.d.duration(n, &join(&path, "to")));
            if let (Some(a), Some(b)) = (from, to)
                && a >= b
            {
                let node = f.get("to").expect("decoded above");
                self.d.sink.error(node.pos, &join(&path, "to"), "a shift must end after it starts");
                continue;
            }
            if let Some(a) = from
                && a >= horizon
            {
                let node = f.get("from").expect("decoded above");
                self.d.sink.warning(node.pos, &join(&path, "from"), "the shift starts after the last interval");
            }
            if let (Some(agents), Some(from), Some(to)) = (agents, from, to) {
                shifts.push(ShiftSpec { agents, from, to });
            }
        }
        shifts
    }
}

/// `12.5` (seconds), `90s`, `2m`, or `HH:MM:SS`.
fn parse_offset(text: &str) -> Option<Duration> {
    if let Ok(secs) = text.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs));
    }
    let parts: Vec<&str> = text.split(':').collect();
    if parts.len() == 3 {
        let h: u64 = parts[0].parse().ok()?;
        let m: u64 = parts[1].parse().ok().filter(|m| *m < 60)?;
        let s: f64 = parts[2].parse().ok().filter(|s: &f64| (0.0..60.0).contains(s))?;
        return Some(Duration::from_secs(h * 3600 + m * 60) + Duration::from_secs_f64(s));
    }
    parse_duration(text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets() {
        assert_eq!(parse_offset("12.5"), Some(Duration::from_millis(12_500)));
        assert_eq!(parse_offset("01:02:03"), Some(Duration::from_secs(3723)));
        assert_eq!(parse_offset("90s"), Some(Duration::from_secs(90)));
        assert_eq!(parse_offset("00:61:00"), None);
        assert_eq!(parse_offset("-3"), None);
        assert_eq!(parse_offset("soon"), None);
    }
}
