//! The bridge between a tenant's validated configuration and the routing engine: builds the
//! engine's [`RoutingSetup`] and translates between configuration names (`billing`,
//! `alice`) and the engine's dense numeric ids.

use std::collections::HashMap;

use sb_config::TenantConfig;
use sb_routing::{
    AgentId, AgentSetup, Channel, Level, Priority, QueueId, QueueSetup, ReasonId, RoutingSetup, SkillId, StepSetup,
    Strategy,
};

/// Names of everything the engine numbers, both ways.
#[derive(Debug, Clone)]
pub struct Directory {
    pub tenant: String,
    pub skills: Vec<String>,
    pub queues: Vec<String>,
    pub agents: Vec<String>,
    pub reasons: Vec<String>,
    /// The channels each queue takes.
    pub queue_channels: Vec<Vec<Channel>>,
    /// Each queue's service-level threshold and target percentage.
    pub service_level: Vec<(std::time::Duration, u8)>,
    /// People's names for agents and queues.
    pub agent_display: Vec<String>,
    pub queue_display: Vec<String>,
    /// The tenant's time zone: "today" starts at its midnight.
    pub time_zone: jiff::tz::TimeZone,
    /// The supervisor's alert threshold and webhook.
    pub alerts: sb_config::Alerts,
    skill_ids: HashMap<String, SkillId>,
    queue_ids: HashMap<String, QueueId>,
    agent_ids: HashMap<String, AgentId>,
    reason_ids: HashMap<String, ReasonId>,
}

impl Directory {
    pub fn skill(&self, name: &str) -> Option<SkillId> {
        self.skill_ids.get(name).copied()
    }

    pub fn queue(&self, name: &str) -> Option<QueueId> {
        self.queue_ids.get(name).copied()
    }

    pub fn agent(&self, name: &str) -> Option<AgentId> {
        self.agent_ids.get(name).copied()
    }

    pub fn reason(&self, name: &str) -> Option<ReasonId> {
        self.reason_ids.get(name).copied()
    }

    pub fn agent_name(&self, id: AgentId) -> &str {
        &self.agents[id.index()]
    }

    pub fn queue_name(&self, id: QueueId) -> &str {
        &self.queues[id.index()]
    }

    pub fn reason_name(&self, id: ReasonId) -> &str {
        &self.reasons[id.index()]
    }

    pub fn skill_name(&self, id: SkillId) -> &str {
        &self.skills[id.index()]
    }
}

fn index_by_name<T: Copy>(names: &[String], make: impl Fn(usize) -> T) -> HashMap<String, T> {
    names.iter().enumerate().map(|(i, n)| (n.clone(), make(i))).collect()
}

fn channel(c: sb_config::Channel) -> Channel {
    Channel::from_name(c.as_str()).expect("configuration and engine name the same channels")
}

fn skill_levels(list: &[sb_config::SkillLevel]) -> Vec<(SkillId, Level)> {
    list.iter()
        .map(|sl| (SkillId(sl.skill.index() as u16), Level::new(sl.level.get()).expect("validated proficiency")))
        .collect()
}

/// The engine's setup and the name directory for a validated configuration.
pub fn build(config: &TenantConfig) -> (RoutingSetup, Directory) {
    let queues: Vec<QueueSetup> = config
        .queues
        .iter()
        .map(|q| QueueSetup {
            channels: q.channels.iter().map(|c| channel(*c)).collect(),
            priority: Priority::new(q.priority.get()).expect("validated priority"),
            strategy: match q.strategy {
                sb_config::Strategy::LongestIdle => Strategy::LongestIdle,
                sb_config::Strategy::MostSkilled => Strategy::MostSkilled,
                sb_config::Strategy::RoundRobin => Strategy::RoundRobin,
                sb_config::Strategy::LeastOccupied => Strategy::LeastOccupied,
            },
            skills: skill_levels(&q.skills),
            offer_timeout: q.offer_timeout,
            wrap_up: q.wrap_up,
            expected_handle_time: q.expected_handle_time,
            steps: q
                .steps
                .iter()
                .map(|s| StepSetup {
                    after: s.after,
                    require: skill_levels(&s.require),
                    drop: s.drop.iter().map(|ix| SkillId(ix.index() as u16)).collect(),
                    overflow_queues: s.overflow_queues.iter().map(|ix| QueueId(ix.index() as u16)).collect(),
                    overflow_skills: skill_levels(&s.overflow_skills),
                })
                .collect(),
        })
        .collect();
    let agents = config
        .agents
        .iter()
        .map(|a| AgentSetup {
            skills: skill_levels(&a.skills),
            queues: a.queues.iter().map(|ix| QueueId(ix.index() as u16)).collect(),
            max_per_channel: sb_config::Channel::ALL.map(|c| a.capacity.max(c)),
            auto_accept: a.auto_accept,
        })
        .collect();
    let setup = RoutingSetup {
        skill_count: config.skills.len() as u16,
        channel_costs: sb_config::Channel::ALL.map(|c| config.channels.cost(c)),
        missed_reason: ReasonId(config.missed_reason.index() as u16),
        queues,
        agents,
    };
    let skills: Vec<String> = config.skills.iter().map(|s| s.id.as_str().to_string()).collect();
    let queue_names: Vec<String> = config.queues.iter().map(|q| q.id.as_str().to_string()).collect();
    let agent_names: Vec<String> = config.agents.iter().map(|a| a.id.as_str().to_string()).collect();
    let reasons: Vec<String> = config.reason_codes.iter().map(|r| r.id.as_str().to_string()).collect();
    let directory = Directory {
        tenant: config.tenant.id.as_str().to_string(),
        skill_ids: index_by_name(&skills, |i| SkillId(i as u16)),
        queue_ids: index_by_name(&queue_names, |i| QueueId(i as u16)),
        agent_ids: index_by_name(&agent_names, |i| AgentId(i as u32)),
        reason_ids: index_by_name(&reasons, |i| ReasonId(i as u16)),
        queue_channels: config.queues.iter().map(|q| q.channels.iter().map(|c| channel(*c)).collect()).collect(),
        service_level: config.queues.iter().map(|q| (q.service_level.within, q.service_level.percent)).collect(),
        agent_display: config.agents.iter().map(|a| a.name.clone()).collect(),
        queue_display: config.queues.iter().map(|q| q.name.clone()).collect(),
        time_zone: config.tenant.time_zone.clone(),
        alerts: config.alerts.clone(),
        skills,
        queues: queue_names,
        agents: agent_names,
        reasons,
    };
    (setup, directory)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_tenant_maps_onto_an_engine() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/demo.yaml");
        let config = sb_config::load(std::path::Path::new(path)).expect("the demo configuration is valid");
        let (setup, directory) = build(&config);
        assert_eq!(setup.queues.len(), config.queues.len());
        assert_eq!(setup.agents.len(), config.agents.len());
        let engine = sb_routing::Engine::new(setup).expect("a valid configuration makes a valid engine");
        assert_eq!(engine.agent_count(), directory.agents.len());
        let first = &directory.queues[0];
        assert_eq!(directory.queue(first), Some(QueueId(0)));
        assert_eq!(directory.reason_name(ReasonId(config.missed_reason.index() as u16)), "missed");
    }
}
