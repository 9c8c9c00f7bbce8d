//! Loading and validation of a tenant's configuration file.
//!
//! A tenant describes its channels, skills, reason codes, business hours, queues and agents in
//! one YAML file (documented in `docs/configuration.md`). This crate turns that file into a
//! [`TenantConfig`] whose references are typed indices, or into a [`Report`] that lists every
//! problem at once with file, line, column and field path, as `switchboard config check`
//! prints it.
//!
//! Loading runs in three stages: the `yaml` module builds a tree of positioned nodes from
//! yaml-rust2's event parser; `decode` turns the tree into raw sections, checking shapes,
//! types and ranges; `validate` resolves references and checks the file as a whole. Each stage
//! pushes its problems into a shared sink and goes on, so one run reports everything. There is
//! no serde: the configuration types know nothing about YAML.
//!
//! **Invariant:** a [`TenantConfig`] only exists for a file with no errors. Its fields are
//! public for reading, but other crates cannot construct one (the types are
//! `#[non_exhaustive]`) and there are no setters.

mod decode;
mod diagnostic;
mod duration;
mod hours;
mod model;
mod plan;
mod roster;
mod scenario;
mod suggest;
mod validate;
pub mod yaml;

use std::path::Path;

pub use diagnostic::{Diagnostic, Report, Severity, Sink};
pub use duration::{DurationError, format_duration, parse_duration};
pub use hours::{ClockTime, TimeRange, WeeklyHours};
pub use model::{
    AGENT_CAPACITY, Agent, AgentIx, Alerts, Announcements, BusinessHours, Capacity, Channel, ChannelCosts, Destination,
    HoursIx, Number, Phone, Priority, Proficiency, Queue, QueueIx, ReasonCode, ReasonIx, ServiceLevel, Skill, SkillIx,
    SkillLevel, Slug, SlugError, Split, SplitMatch, SplitRule, Stage, Step, Strategy, Tenant, TenantConfig, Trunk,
    Voice, Webhook,
};
pub use plan::{
    Condition, Gate, Kpi, MigrationPlan, Phase, ReadinessItem, ReadinessStep, StepStatus, Target, load_plan,
    parse_condition, parse_plan,
};
pub use roster::{Roster, RosterShift, load_roster, parse_roster};
pub use scenario::{
    ArrivalPattern, CallbackSpec, DurationDist, ScenarioSpec, ShiftSpec, StreamSpec, load_scenario, parse_scenario,
};
pub use suggest::{closest, did_you_mean};

/// A configuration file that could not be loaded; the report says why, line by line.
#[derive(Debug, Clone, thiserror::Error)]
#[error("invalid configuration\n{report}")]
pub struct ConfigError {
    pub report: Report,
}

/// Parses the configuration `text`; `file_name` is only used in diagnostics.
///
/// On success the report holds the warnings, if any. On failure it holds at least one error
/// (and whatever warnings were found).
pub fn parse(file_name: &str, text: &str) -> Result<(TenantConfig, Report), Report> {
    let mut sink = Sink::new(file_name);
    let config = parse_into(&mut sink, text);
    let report = sink.into_report();
    match config {
        Some(config) if !report.has_errors() => Ok((config, report)),
        _ => Err(report),
    }
}

/// Reads and parses the file at `path`, for `switchboard config check FILE`.
///
/// A file that cannot be read, or is not UTF-8, is reported like any other problem. The file
/// name in diagnostics is `path` as given.
pub fn check_file(path: &Path) -> Result<(TenantConfig, Report), Report> {
    let (file_name, text) = read_file(path)?;
    parse(&file_name, &text)
}

/// Reads a text file to check, with its name for diagnostics (`path` as given). A file that
/// cannot be read, or is not UTF-8, becomes a report like any other problem. Shared by every
/// file format that reports like the configuration (tenant files, scenarios, flows).
pub fn read_file(path: &Path) -> Result<(String, String), Report> {
    let file_name = path.display().to_string();
    let mut sink = Sink::new(&file_name);
    match std::fs::read(path) {
        Err(error) => sink.file_error(format!("cannot read the file: {error}")),
        Ok(bytes) => match String::from_utf8(bytes) {
            Err(error) => sink.file_error(format!(
                "the file is not UTF-8 text (invalid byte at offset {})",
                error.utf8_error().valid_up_to()
            )),
            Ok(text) => return Ok((file_name, text)),
        },
    }
    Err(sink.into_report())
}

/// Loads the file at `path`, discarding warnings; use [`check_file`] to see them.
pub fn load(path: &Path) -> Result<TenantConfig, ConfigError> {
    check_file(path).map(|(config, _warnings)| config).map_err(|report| ConfigError { report })
}

fn parse_into(sink: &mut Sink, text: &str) -> Option<TenantConfig> {
    let parsed = yaml::parse(text);
    for error in &parsed.errors {
        sink.error(error.pos, &error.path, error.message.clone());
    }
    if parsed.broken {
        return None;
    }
    let raw = decode::decode(parsed.root.as_ref(), sink);
    validate::validate(&raw, sink)
}
