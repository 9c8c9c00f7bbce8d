//! Migration plans: the phases of a cutover from a legacy center, each with its share of
//! the calls, its pilot agents and the gate that must pass before the next phase, plus the
//! readiness checklist of the seven migration steps.
//!
//! A plan is a YAML file read against the tenant's configuration (agents and queues are
//! referred to by id), with the same diagnostics as the tenant file. Schema and examples in
//! `docs/migration.md`.

use std::path::Path;
use std::time::Duration;

use jiff::civil::Date;

use crate::decode::{Decoder, Fields, index, parse_date};
use crate::diagnostic::{Report, Sink};
use crate::duration::parse_duration;
use crate::model::{AgentIx, QueueIx, Slug, TenantConfig};
use crate::suggest::did_you_mean;
use crate::yaml::{self, Node, Pos, join};

/// A validated migration plan.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct MigrationPlan {
    /// The tenant migrated; the tenant file's id.
    pub tenant: String,
    /// The service-level threshold of the baseline and the gates: answered within this.
    pub within: Duration,
    /// The queues whose calls the gates measure; empty: every queue with a baseline.
    pub queues: Vec<QueueIx>,
    pub phases: Vec<Phase>,
    /// The seven steps, in [`ReadinessStep::ALL`] order.
    pub readiness: Vec<ReadinessItem>,
}

/// One phase of the cutover.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Phase {
    pub id: Slug,
    pub name: String,
    pub owner: Option<String>,
    /// The planned start, for the record; phases start when `migrate advance` says so.
    pub starts: Option<Date>,
    /// The share of new calls Switchboard answers in this phase, in percent; the rest go to
    /// the legacy PBX trunk of the tenant's `voice.split`.
    pub switchboard_percent: u8,
    /// The agents who take Switchboard's calls in this phase (the pilot group); empty: all.
    pub agents: Vec<AgentIx>,
    /// What must hold before the next phase may start; `None`: nothing measured.
    pub gate: Option<Gate>,
}

/// A go/no-go gate on measured KPIs: every condition holds on each of the last `days` whole
/// days of the phase, each day with at least `min_calls` calls.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Gate {
    pub days: u32,
    pub min_calls: u32,
    pub conditions: Vec<Condition>,
}

impl Gate {
    pub fn new(days: u32, min_calls: u32, conditions: Vec<Condition>) -> Gate {
        Gate { days, min_calls, conditions }
    }
}

/// One condition of a gate, such as `service_level >= baseline - 2`.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    pub kpi: Kpi,
    /// `true`: the KPI must be at least the target; `false`: at most.
    pub at_least: bool,
    pub target: Target,
    /// The condition as written, for reports.
    pub text: String,
}

/// A KPI a gate can measure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kpi {
    /// Answered within the threshold over offered (short abandons excluded), in percent.
    ServiceLevel,
    /// Abandoned over offered, in percent.
    AbandonRate,
    /// Average speed of answer, in seconds.
    Asa,
    /// Average handle (talk) time, in seconds.
    Aht,
}

impl Kpi {
    pub const ALL: [Kpi; 4] = [Kpi::ServiceLevel, Kpi::AbandonRate, Kpi::Asa, Kpi::Aht];

    pub fn name(self) -> &'static str {
        match self {
            Kpi::ServiceLevel => "service_level",
            Kpi::AbandonRate => "abandon_rate",
            Kpi::Asa => "asa",
            Kpi::Aht => "aht",
        }
    }

    /// Whether the KPI is a percentage (else a time in seconds).
    pub fn is_percent(self) -> bool {
        matches!(self, Kpi::ServiceLevel | Kpi::AbandonRate)
    }
}

/// What a condition compares with, in the KPI's unit (percent or seconds).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Target {
    Value(f64),
    /// The legacy baseline's figure plus this (points or seconds; may be negative).
    Baseline(f64),
}

/// One of the seven migration steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadinessStep {
    TeamAlignment,
    InfrastructureEvaluation,
    Integrations,
    Regulatory,
    AgentReadiness,
    ImplementationAndTesting,
    LaunchAndOptimisation,
}

impl ReadinessStep {
    pub const ALL: [ReadinessStep; 7] = [
        ReadinessStep::TeamAlignment,
        ReadinessStep::InfrastructureEvaluation,
        ReadinessStep::Integrations,
        ReadinessStep::Regulatory,
        ReadinessStep::AgentReadiness,
        ReadinessStep::ImplementationAndTesting,
        ReadinessStep::LaunchAndOptimisation,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ReadinessStep::TeamAlignment => "team_alignment",
            ReadinessStep::InfrastructureEvaluation => "infrastructure_evaluation",
            ReadinessStep::Integrations => "integrations",
            ReadinessStep::Regulatory => "regulatory",
            ReadinessStep::AgentReadiness => "agent_readiness",
            ReadinessStep::ImplementationAndTesting => "implementation_and_testing",
            ReadinessStep::LaunchAndOptimisation => "launch_and_optimisation",
        }
    }
}

/// Where a readiness step stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepStatus {
    Todo,
    InProgress,
    Done,
}

impl StepStatus {
    pub fn name(self) -> &'static str {
        match self {
            StepStatus::Todo => "todo",
            StepStatus::InProgress => "in_progress",
            StepStatus::Done => "done",
        }
    }
}

/// One step of the readiness checklist.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ReadinessItem {
    pub step: ReadinessStep,
    pub owner: String,
    pub status: StepStatus,
    /// The phase that cannot start before this step is done.
    pub blocks: Option<usize>,
    pub note: Option<String>,
}

impl MigrationPlan {
    /// The index of the phase with id `id`.
    pub fn phase_ix(&self, id: &str) -> Option<usize> {
        self.phases.iter().position(|p| p.id.as_str() == id)
    }

    /// The readiness steps not done that block phase `phase`.
    pub fn blocking(&self, phase: usize) -> impl Iterator<Item = &ReadinessItem> {
        self.readiness.iter().filter(move |r| r.blocks == Some(phase) && r.status != StepStatus::Done)
    }
}

const TOP: &[&str] = &["tenant", "within", "queues", "phases", "readiness"];
const PHASE: &[&str] = &["id", "name", "owner", "starts", "switchboard_percent", "agents", "gate"];
const GATE: &[&str] = &["days", "min_calls", "require"];
const ITEM: &[&str] = &["step", "owner", "status", "blocks", "note"];

/// Reads and validates the plan at `path` against `config`.
pub fn load_plan(path: &Path, config: &TenantConfig) -> Result<MigrationPlan, Report> {
    let file_name = path.display().to_string();
    match std::fs::read_to_string(path) {
        Ok(text) => parse_plan(&file_name, &text, config),
        Err(error) => {
            let mut sink = Sink::new(&file_name);
            sink.file_error(format!("cannot read the migration plan: {error}"));
            Err(sink.into_report())
        }
    }
}

/// Parses plan `text`; `file_name` is only used in diagnostics.
pub fn parse_plan(file_name: &str, text: &str, config: &TenantConfig) -> Result<MigrationPlan, Report> {
    let mut sink = Sink::new(file_name);
    let parsed = yaml::parse(text);
    for error in &parsed.errors {
        sink.error(error.pos, &error.path, error.message.clone());
    }
    let plan = match (&parsed.root, parsed.broken) {
        (Some(root), false) => PlanReader { d: Decoder { sink: &mut sink }, config }.plan(root),
        (None, false) => {
            sink.error(Pos::START, "", "the plan is empty; it needs at least tenant, phases and readiness");
            None
        }
        _ => None,
    };
    let report = sink.into_report();
    match plan {
        Some(plan) if !report.has_errors() => Ok(plan),
        _ => Err(report),
    }
}

struct PlanReader<'a, 's> {
    d: Decoder<'s>,
    config: &'a TenantConfig,
}

impl PlanReader<'_, '_> {
    fn plan(&mut self, root: &Node) -> Option<MigrationPlan> {
        let f = self.d.fields(root, "", "a mapping of plan settings (tenant, phases, readiness)", TOP)?;
        let tenant = self.d.required(&f, "tenant").and_then(|n| {
            let text = self.d.text(n, "tenant", "the tenant's id")?;
            if text != self.config.tenant.id.as_str() {
                let message = format!(
                    "the plan is for tenant {text:?}, but the configuration is tenant {:?}",
                    self.config.tenant.id.as_str()
                );
                self.d.sink.error(n.pos, "tenant", message);
                return None;
            }
            Some(text.to_owned())
        });
        let within = self
            .d
            .optional(&f, "within", |d, n, p| {
                d.duration_in(n, p, "the service-level threshold", Duration::from_secs(1), Duration::from_secs(3600))
            })
            .unwrap_or(Duration::from_secs(20));
        let queues = match f.get("queues") {
            Some(node) => self.queues(node),
            None => Some(Vec::new()),
        };
        let (phases, phases_valid) = self.phases(&f);
        // The checklist is read even when a phase is wrong, so that one run reports
        // everything; a reference to a phase that did not decode is not reported twice.
        let readiness = self.readiness(&f, &phases, phases_valid);
        Some(MigrationPlan {
            tenant: tenant?,
            within,
            queues: queues?,
            phases: phases_valid.then_some(phases)?,
            readiness: readiness?,
        })
    }

    fn queues(&mut self, node: &Node) -> Option<Vec<QueueIx>> {
        let names = self.d.references(node, "queues", "a list of queue ids")?;
        let mut out = Vec::new();
        for name in names {
            match self.config.queue_ix(&name.value) {
                Some(q) => out.push(q),
                None => {
                    let known: Vec<&str> = self.config.queues.iter().map(|q| q.id.as_str()).collect();
                    let message = format!("unknown queue {:?}{}", name.value, did_you_mean(&name.value, known));
                    self.d.sink.error(name.pos, &name.path, message);
                }
            }
        }
        Some(out)
    }

    /// The phases that decoded, and whether all did.
    fn phases(&mut self, f: &Fields) -> (Vec<Phase>, bool) {
        let Some(node) = self.d.required(f, "phases") else { return (Vec::new(), false) };
        let Some(items) = self.d.list(node, "phases", "a list of phases") else { return (Vec::new(), false) };
        if items.is_empty() {
            self.d.sink.error(node.pos, "phases", "a plan needs at least one phase");
            return (Vec::new(), false);
        }
        let before = self.d.sink.error_count();
        let mut phases: Vec<Phase> = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let path = index("phases", i);
            let Some((phase, id_pos)) = self.phase(item, &path) else { continue };
            if let Some(first) = phases.iter().position(|p| p.id == phase.id) {
                let message = format!("phase {:?} is given twice (first as phases[{first}])", phase.id.as_str());
                self.d.sink.error(id_pos, &join(&path, "id"), message);
                continue;
            }
            if let (Some(last), Some(starts)) = (phases.last().and_then(|p| p.starts), phase.starts)
                && starts < last
            {
                let message =
                    format!("phase {:?} starts on {starts}, before the phase ahead of it ({last})", phase.id.as_str());
                self.d.sink.error(id_pos, &join(&path, "starts"), message);
            }
            phases.push(phase);
        }
        let valid = self.d.sink.error_count() == before;
        (phases, valid)
    }

    fn phase(&mut self, node: &Node, path: &str) -> Option<(Phase, Pos)> {
        let f =
            self.d.fields(node, path, "a mapping describing a phase (id, switchboard_percent, gate, ...)", PHASE)?;
        let id_node = self.d.required(&f, "id");
        let id = id_node.and_then(|n| {
            let p = join(path, "id");
            let text = self.d.text(n, &p, "a phase id")?;
            Slug::parse(text).map_err(|e| self.d.sink.error(n.pos, &p, format!("invalid phase id {text:?}: {e}"))).ok()
        });
        let name = self.d.optional(&f, "name", |d, n, p| d.name(n, p));
        let owner = self.d.optional(&f, "owner", |d, n, p| d.name(n, p));
        let starts = self.d.optional(&f, "starts", |d, n, p| {
            let text = d.text(n, p, "a date such as 2026-12-01")?;
            parse_date(text).map_err(|e| d.sink.error(n.pos, p, e)).ok()
        });
        let percent = self.d.required(&f, "switchboard_percent").and_then(|n| {
            self.d.ranged(n, &join(path, "switchboard_percent"), "the share of calls Switchboard answers", 0, 100)
        });
        let agents = match f.get("agents") {
            Some(node) => self.agents(node, &join(path, "agents")),
            None => Some(Vec::new()),
        };
        let gate = match f.get("gate") {
            Some(node) => Some(self.gate(node, &join(path, "gate"))?),
            None => None,
        };
        let id = id?;
        let phase = Phase {
            name: name.unwrap_or_else(|| id.as_str().to_owned()),
            id,
            owner,
            starts,
            switchboard_percent: percent? as u8,
            agents: agents?,
            gate,
        };
        Some((phase, id_node.map_or(f.pos, |n| n.pos)))
    }

    fn agents(&mut self, node: &Node, path: &str) -> Option<Vec<AgentIx>> {
        let names = self.d.references(node, path, "a list of agent ids")?;
        let before = self.d.sink.error_count();
        let mut out = Vec::new();
        for name in names {
            match self.config.agent_ix(&name.value) {
                Some(a) => out.push(a),
                None => {
                    let known: Vec<&str> = self.config.agents.iter().map(|a| a.id.as_str()).collect();
                    let message = format!("unknown agent {:?}{}", name.value, did_you_mean(&name.value, known));
                    self.d.sink.error(name.pos, &name.path, message);
                }
            }
        }
        (self.d.sink.error_count() == before).then_some(out)
    }

    fn gate(&mut self, node: &Node, path: &str) -> Option<Gate> {
        let f = self.d.fields(node, path, "a mapping describing a gate (days, min_calls, require)", GATE)?;
        let days = self.d.required(&f, "days").and_then(|n| self.d.ranged(n, &join(path, "days"), "days", 1, 90));
        let min_calls = self
            .d
            .optional(&f, "min_calls", |d, n, p| d.ranged(n, p, "the calls a day needs to count", 1, 1_000_000))
            .unwrap_or(1);
        let conditions = self.d.required(&f, "require").and_then(|n| {
            let p = join(path, "require");
            let items = self.d.list(n, &p, "a list of conditions such as \"service_level >= baseline - 2\"")?;
            if items.is_empty() {
                self.d.sink.error(n.pos, &p, "a gate needs at least one condition");
                return None;
            }
            let before = self.d.sink.error_count();
            let mut out = Vec::new();
            for (i, item) in items.iter().enumerate() {
                let p = index(&p, i);
                let Some(text) = self.d.text(item, &p, "a condition such as \"asa <= 30s\"") else { continue };
                match parse_condition(text) {
                    Ok(c) => out.push(c),
                    Err(e) => self.d.sink.error(item.pos, &p, e),
                }
            }
            (self.d.sink.error_count() == before).then_some(out)
        });
        Some(Gate { days: days? as u32, min_calls: min_calls as u32, conditions: conditions? })
    }

    fn readiness(&mut self, f: &Fields, phases: &[Phase], phases_valid: bool) -> Option<Vec<ReadinessItem>> {
        let node = self.d.required(f, "readiness")?;
        let items = self.d.list(node, "readiness", "the list of the seven migration steps")?;
        let before = self.d.sink.error_count();
        let mut found: Vec<Option<ReadinessItem>> = vec![None; ReadinessStep::ALL.len()];
        let mut seen = [false; ReadinessStep::ALL.len()];
        for (i, item) in items.iter().enumerate() {
            let path = index("readiness", i);
            let Some(f) = self.d.fields(item, &path, "a mapping describing a step (step, owner, status)", ITEM) else {
                continue;
            };
            let step = self.d.required(&f, "step").and_then(|n| {
                let p = join(&path, "step");
                let text = self.d.text(n, &p, "a step name")?;
                let names = ReadinessStep::ALL.map(ReadinessStep::name);
                let Some(step) = ReadinessStep::ALL.into_iter().find(|s| s.name() == text) else {
                    let message = format!(
                        "unknown step {text:?}{}; the steps are {}",
                        did_you_mean(text, names),
                        names.join(", ")
                    );
                    self.d.sink.error(n.pos, &p, message);
                    return None;
                };
                if std::mem::replace(&mut seen[step as usize], true) {
                    self.d.sink.error(n.pos, &p, format!("step {text:?} is listed twice"));
                    return None;
                }
                Some(step)
            });
            let owner = self.d.required(&f, "owner").and_then(|n| self.d.name(n, &join(&path, "owner")));
            let status = self.d.required(&f, "status").and_then(|n| {
                let p = join(&path, "status");
                let text = self.d.text(n, &p, "todo, in_progress or done")?;
                let all = [StepStatus::Todo, StepStatus::InProgress, StepStatus::Done];
                let status = all.into_iter().find(|s| s.name() == text);
                if status.is_none() {
                    let names = all.map(StepStatus::name);
                    let message = format!(
                        "unknown status {text:?}{}; it is todo, in_progress or done",
                        did_you_mean(text, names)
                    );
                    self.d.sink.error(n.pos, &p, message);
                }
                status
            });
            let blocks = match f.get("blocks") {
                Some(n) => {
                    let p = join(&path, "blocks");
                    let Some(text) = self.d.text(n, &p, "a phase id") else { continue };
                    let ix = phases.iter().position(|ph| ph.id.as_str() == text);
                    if ix.is_none() && phases_valid {
                        let ids: Vec<&str> = phases.iter().map(|ph| ph.id.as_str()).collect();
                        let message = format!("unknown phase {text:?}{}", did_you_mean(text, ids));
                        self.d.sink.error(n.pos, &p, message);
                    }
                    if ix.is_none() {
                        continue;
                    }
                    ix
                }
                None => None,
            };
            let note = self.d.optional(&f, "note", |d, n, p| d.text(n, p, "a note").map(str::to_owned));
            if let (Some(step), Some(owner), Some(status)) = (step, owner, status) {
                found[step as usize] = Some(ReadinessItem { step, owner, status, blocks, note });
            }
        }
        let missing: Vec<&str> =
            ReadinessStep::ALL.iter().filter(|s| found[**s as usize].is_none()).map(|s| s.name()).collect();
        if !missing.is_empty() && self.d.sink.error_count() == before {
            let message = format!("the checklist lacks {}; it has the seven migration steps", missing.join(", "));
            self.d.sink.error(node.pos, "readiness", message);
        }
        (self.d.sink.error_count() == before).then(|| found.into_iter().flatten().collect())
    }
}

/// Parses a gate condition: `KPI >= TARGET` or `KPI <= TARGET`, where the target is a value
/// (percent for service_level and abandon_rate, a duration for asa and aht), `baseline`, or
/// `baseline + X` / `baseline - X`.
pub fn parse_condition(text: &str) -> Result<Condition, String> {
    let example = "such as \"service_level >= baseline - 2\" or \"asa <= 30s\"";
    let words: Vec<&str> = text.split_whitespace().collect();
    let (kpi, op, rest) = match words.as_slice() {
        [kpi, op, rest @ ..] if !rest.is_empty() => (*kpi, *op, rest),
        _ => return Err(format!("invalid condition {text:?}: expected KPI, >= or <=, and a target, {example}")),
    };
    let names = Kpi::ALL.map(Kpi::name);
    let Some(kpi) = Kpi::ALL.into_iter().find(|k| k.name() == kpi) else {
        return Err(format!(
            "invalid condition {text:?}: unknown KPI {kpi:?}{}; the KPIs are {}",
            did_you_mean(kpi, names),
            names.join(", ")
        ));
    };
    let at_least = match op {
        ">=" => true,
        "<=" => false,
        other => return Err(format!("invalid condition {text:?}: the comparison is >= or <=, found {other:?}")),
    };
    let amount = |word: &str| -> Result<f64, String> {
        if kpi.is_percent() {
            match word.trim_end_matches('%').parse::<f64>() {
                Ok(x) if x.is_finite() && (0.0..=100.0).contains(&x) => Ok(x),
                _ => {
                    Err(format!("invalid condition {text:?}: {} is in percent (0 to 100), found {word:?}", kpi.name()))
                }
            }
        } else {
            let seconds = match word.parse::<f64>() {
                Ok(x) if x.is_finite() && x >= 0.0 => Ok(x),
                _ => parse_duration(word).map(|d| d.as_secs_f64()).map_err(|e| e.to_string()),
            };
            seconds.map_err(|e| format!("invalid condition {text:?}: {} is a time such as 30s or 2m: {e}", kpi.name()))
        }
    };
    let target = match rest {
        ["baseline"] => Target::Baseline(0.0),
        ["baseline", sign @ ("+" | "-"), x] => {
            let x = amount(x)?;
            Target::Baseline(if *sign == "-" { -x } else { x })
        }
        [word] => Target::Value(amount(word)?),
        _ => {
            return Err(format!(
                "invalid condition {text:?}: the target is a value, baseline, or baseline + or - a value, {example}"
            ));
        }
    };
    Ok(Condition { kpi, at_least, target, text: words.join(" ") })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conditions() {
        let c = parse_condition("service_level >= baseline - 2").unwrap();
        assert_eq!((c.kpi, c.at_least, c.target), (Kpi::ServiceLevel, true, Target::Baseline(-2.0)));
        let c = parse_condition("asa  <=  30s").unwrap();
        assert_eq!(
            (c.kpi, c.at_least, c.target, c.text.as_str()),
            (Kpi::Asa, false, Target::Value(30.0), "asa <= 30s")
        );
        let c = parse_condition("aht <= baseline + 1m").unwrap();
        assert_eq!(c.target, Target::Baseline(60.0));
        assert_eq!(parse_condition("abandon_rate <= 5%").unwrap().target, Target::Value(5.0));
        assert_eq!(parse_condition("abandon_rate <= baseline").unwrap().target, Target::Baseline(0.0));
        let errors = [
            ("service_levle >= 80", "unknown KPI \"service_levle\" (did you mean \"service_level\"?)"),
            ("asa < 30s", "the comparison is >= or <=, found \"<\""),
            ("service_level >= 120", "service_level is in percent (0 to 100), found \"120\""),
            ("asa <= soon", "asa is a time such as 30s or 2m"),
            ("asa <= baseline * 2", "the target is a value, baseline, or baseline + or - a value"),
            ("asa", "expected KPI, >= or <=, and a target"),
        ];
        for (text, expected) in errors {
            let error = parse_condition(text).unwrap_err();
            assert!(error.contains(expected), "{text}: {error}");
        }
    }
}
