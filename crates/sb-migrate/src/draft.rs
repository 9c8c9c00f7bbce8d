//! A tenant being imported, and its tenant file: every importer of configuration fills a
//! [`Draft`] and writes it with [`Draft::write`].

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::TenantInfo;
use crate::yaml::scalar;

/// A skill of the imported tenant.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SkillDraft {
    pub id: String,
    /// `None`: the id is the name.
    pub name: Option<String>,
}

/// A queue of the imported tenant.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueueDraft {
    pub id: String,
    pub name: String,
    /// Channel names (`voice`, `chat`, `email`, `sms`); empty: voice.
    pub channels: Vec<String>,
    /// Skill id to the minimum proficiency (1 to 5).
    pub skills: BTreeMap<String, u8>,
    pub strategy: Option<&'static str>,
    pub priority: Option<u8>,
    pub offer_timeout_s: Option<u64>,
    pub wrap_up_s: Option<u64>,
    /// Percent and seconds.
    pub service_level: Option<(u8, u64)>,
    pub expected_handle_time_s: Option<u64>,
    /// Overflow steps: after this many seconds of waiting, the members of this queue help.
    pub overflow: Vec<(u64, String)>,
}

/// An agent of the imported tenant.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AgentDraft {
    pub name: String,
    /// Skill id to proficiency (1 to 5).
    pub skills: BTreeMap<String, u8>,
    /// Queue ids.
    pub queues: Vec<String>,
}

/// The imported tenant.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Draft {
    pub skills: Vec<SkillDraft>,
    pub queues: Vec<QueueDraft>,
    /// By agent id.
    pub agents: BTreeMap<String, AgentDraft>,
}

impl Draft {
    /// The tenant file, with `origin` (such as "Asterisk queues.conf by `...`") in its header.
    pub fn write(&self, tenant: &TenantInfo, origin: &str) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "# Imported from {origin}.");
        out.push_str("# See the translation report for what was approximated or left out.\n");
        let _ = writeln!(
            out,
            "tenant: {{id: {}, name: {}, time_zone: {}}}",
            scalar(&tenant.id),
            scalar(&tenant.name),
            scalar(&tenant.time_zone)
        );
        out.push_str(if self.skills.is_empty() { "skills: []\n" } else { "skills:\n" });
        for s in &self.skills {
            match &s.name {
                Some(name) => _ = writeln!(out, "  - {{id: {}, name: {}}}", s.id, scalar(name)),
                None => _ = writeln!(out, "  - {{id: {}}}", s.id),
            }
        }
        out.push_str(if self.queues.is_empty() { "queues: []\n" } else { "queues:\n" });
        for q in &self.queues {
            let channels = if q.channels.is_empty() { "voice".to_owned() } else { q.channels.join(", ") };
            let _ = write!(out, "  - id: {}\n    name: {}\n    channels: [{channels}]\n", q.id, scalar(&q.name));
            let _ = writeln!(out, "    skills: {{{}}}", levels(&q.skills));
            if let Some(strategy) = q.strategy {
                let _ = writeln!(out, "    strategy: {strategy}");
            }
            if let Some(priority) = q.priority {
                let _ = writeln!(out, "    priority: {priority}");
            }
            if let Some(t) = q.offer_timeout_s {
                let _ = writeln!(out, "    offer_timeout: {t}s");
            }
            if let Some(t) = q.wrap_up_s {
                let _ = writeln!(out, "    wrap_up: {t}s");
            }
            if let Some((percent, within)) = q.service_level {
                let _ = writeln!(out, "    service_level: {{percent: {percent}, within: {within}s}}");
            }
            if let Some(t) = q.expected_handle_time_s {
                let _ = writeln!(out, "    expected_handle_time: {t}s");
            }
            if !q.overflow.is_empty() {
                out.push_str("    steps:\n");
                for (after, queue) in &q.overflow {
                    let _ = writeln!(out, "      - {{after: {after}s, overflow_queues: [{queue}]}}");
                }
            }
        }
        out.push_str(if self.agents.is_empty() { "agents: []\n" } else { "agents:\n" });
        for (id, agent) in &self.agents {
            let _ = writeln!(
                out,
                "  - {{id: {}, name: {}, skills: {{{}}}, queues: [{}]}}",
                scalar(id),
                scalar(&agent.name),
                levels(&agent.skills),
                agent.queues.join(", ")
            );
        }
        out
    }
}

fn levels(skills: &BTreeMap<String, u8>) -> String {
    skills.iter().map(|(s, level)| format!("{s}: {level}")).collect::<Vec<_>>().join(", ")
}
