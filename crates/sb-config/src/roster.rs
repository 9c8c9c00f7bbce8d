//! Rosters: who of a tenant's agents is logged in when, day by day, for `switchboard
//! migrate replay` (which otherwise logs every agent in for the whole replay).
//!
//! ```yaml
//! shifts:
//!   - agents: [anna, ben]
//!     days: mon-fri          # optional: every day when left out
//!     hours: "08:00-16:00"   # in the tenant's time zone
//! ```

use std::path::Path;

use crate::decode::{Decoder, index};
use crate::diagnostic::{Report, Sink};
use crate::hours::{TimeRange, parse_days, parse_range};
use crate::model::{AgentIx, TenantConfig};
use crate::suggest::did_you_mean;
use crate::yaml::{self, Pos, join};

/// A validated roster.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Roster {
    pub shifts: Vec<RosterShift>,
}

/// Agents logged in for a range of hours on some days of the week.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RosterShift {
    pub agents: Vec<AgentIx>,
    /// Days of the week, Monday = 0.
    pub days: Vec<usize>,
    pub hours: TimeRange,
}

const TOP: &[&str] = &["shifts"];
const SHIFT: &[&str] = &["agents", "days", "hours"];

/// Reads and validates the roster at `path` against `config`.
pub fn load_roster(path: &Path, config: &TenantConfig) -> Result<Roster, Report> {
    let file_name = path.display().to_string();
    match std::fs::read_to_string(path) {
        Ok(text) => parse_roster(&file_name, &text, config),
        Err(error) => {
            let mut sink = Sink::new(&file_name);
            sink.file_error(format!("cannot read the roster: {error}"));
            Err(sink.into_report())
        }
    }
}

/// Parses roster `text`; `file_name` is only used in diagnostics.
pub fn parse_roster(file_name: &str, text: &str, config: &TenantConfig) -> Result<Roster, Report> {
    let mut sink = Sink::new(file_name);
    let parsed = yaml::parse(text);
    for error in &parsed.errors {
        sink.error(error.pos, &error.path, error.message.clone());
    }
    let mut shifts = Vec::new();
    match (&parsed.root, parsed.broken) {
        (Some(root), false) => {
            let mut d = Decoder { sink: &mut sink };
            if let Some(f) = d.fields(root, "", "a mapping with the list of shifts", TOP)
                && let Some(node) = d.required(&f, "shifts")
                && let Some(items) = d.list(node, "shifts", "a list of shifts")
            {
                if items.is_empty() {
                    d.sink.error(node.pos, "shifts", "a roster needs at least one shift");
                }
                for (i, item) in items.iter().enumerate() {
                    let path = index("shifts", i);
                    let Some(f) = d.fields(item, &path, "a mapping describing a shift (agents, days, hours)", SHIFT)
                    else {
                        continue;
                    };
                    let agents = d.required(&f, "agents").and_then(|n| {
                        let p = join(&path, "agents");
                        let names = d.references(n, &p, "a list of agent ids")?;
                        let mut out = Vec::new();
                        for name in names {
                            match config.agent_ix(&name.value) {
                                Some(a) => out.push(a),
                                None => {
                                    let known: Vec<&str> = config.agents.iter().map(|a| a.id.as_str()).collect();
                                    let message =
                                        format!("unknown agent {:?}{}", name.value, did_you_mean(&name.value, known));
                                    d.sink.error(name.pos, &name.path, message);
                                }
                            }
                        }
                        Some(out)
                    });
                    let days = match f.get("days") {
                        None => Some((0..7).collect()),
                        Some(n) => {
                            let p = join(&path, "days");
                            d.text(n, &p, "days such as mon-fri")
                                .and_then(|t| parse_days(t).map_err(|e| d.sink.error(n.pos, &p, e)).ok())
                        }
                    };
                    let hours = d.required(&f, "hours").and_then(|n| {
                        let p = join(&path, "hours");
                        let text = d.text(n, &p, "hours such as \"08:00-16:00\"")?;
                        parse_range(text).map_err(|e| d.sink.error(n.pos, &p, e)).ok()
                    });
                    if let (Some(agents), Some(days), Some(hours)) = (agents, days, hours) {
                        shifts.push(RosterShift { agents, days, hours });
                    }
                }
            }
        }
        (None, false) => sink.error(Pos::START, "", "the roster is empty; it needs a list of shifts"),
        _ => {}
    }
    let report = sink.into_report();
    if report.has_errors() { Err(report) } else { Ok(Roster { shifts }) }
}
