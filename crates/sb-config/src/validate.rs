//! Resolution of references and the checks that need the whole file.
//!
//! [`validate`] takes what [`crate::decode`] produced, indexes the ids of every list (reporting
//! duplicates), resolves references to typed indices (reporting unknown ones with a suggestion),
//! applies queue steps to get each queue's stages, derives agent capacities, and then checks
//! the file as a whole: that every queue can be served at every stage, and the warnings about
//! agents in no queue, unused capacities, unused skills and pointless drops. It only builds a
//! [`TenantConfig`] when no error was reported, so a config always means a valid file.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use crate::decode::{At, RawAgent, RawConfig, RawItem, RawLevel, RawQueue};
use crate::diagnostic::Sink;
use crate::duration::format_duration;
use crate::model::{
    AGENT_CAPACITY, Agent, BusinessHours, Capacity, Channel, ChannelCosts, HoursIx, Phone, Queue, QueueIx, ReasonCode,
    ReasonIx, Skill, SkillIx, SkillLevel, Slug, Stage, Step, TenantConfig,
};
use crate::suggest::did_you_mean;

/// The id of the reason code given to an agent who lets an offer time out.
const MISSED: &str = "missed";

/// Resolves and cross-checks `raw`; returns the config if no error was reported at all.
pub(crate) fn validate(raw: &RawConfig, sink: &mut Sink) -> Option<TenantConfig> {
    let small = usize::from(u16::MAX);
    let ids = AllIds {
        skills: Ids::new(sink, "skill", &raw.skills, small, !raw.skills_ok),
        hours: Ids::new(sink, "business hours", &raw.business_hours, small, !raw.hours_ok),
        queues: Ids::new(sink, "queue", &raw.queues, small, !raw.queues_ok),
    };
    // Reason codes and agents are not referred to from the file; indexing them reports
    // duplicates. One place is kept for the reason code `missed`.
    Ids::new(sink, "reason code", &raw.reason_codes, small - 1, false);
    let most_agents = usize::try_from(u32::MAX).unwrap_or(usize::MAX);
    Ids::new(sink, "agent", &raw.agents, most_agents, false);
    let queues: Vec<Option<Queue>> = raw.queues.iter().enumerate().map(|(i, item)| ids.queue(sink, i, item)).collect();
    let agents: Vec<Option<Agent>> = raw.agents.iter().map(|item| ids.agent(sink, raw, item)).collect();
    check_phone_users(sink, raw, &agents);
    warn_unused_skills(sink, raw);

    // An agent with errors might lack the very skill or membership a queue needs, so the
    // queues are only checked against a complete, clean list of agents.
    let all_agents: Option<Vec<Agent>> = agents.iter().cloned().collect();
    if let Some(all_agents) = all_agents.filter(|_| raw.agents_present) {
        for (i, queue) in queues.iter().enumerate() {
            if let Some(queue) = queue {
                check_coverage(sink, raw, &raw.queues[i], queue, &all_agents);
            }
        }
    }

    if sink.error_count() > 0 {
        return None;
    }
    let named = |item: &RawItem<()>| Some((item.id.as_ref()?.slug.clone()?, item.display_name()));
    let skills =
        raw.skills.iter().map(|item| named(item).map(|(id, name)| Skill { id, name })).collect::<Option<Vec<_>>>()?;
    let mut reason_codes = raw
        .reason_codes
        .iter()
        .map(|item| named(item).map(|(id, name)| ReasonCode { id, name }))
        .collect::<Option<Vec<_>>>()?;
    let missed = match reason_codes.iter().position(|r| r.id.as_str() == MISSED) {
        Some(i) => i,
        None => {
            reason_codes.push(ReasonCode { id: Slug::parse(MISSED).ok()?, name: "Missed offer".to_owned() });
            reason_codes.len() - 1
        }
    };
    let business_hours = raw
        .business_hours
        .iter()
        .map(|item| {
            Some(BusinessHours {
                id: item.id.as_ref()?.slug.clone()?,
                time_zone: item.body.time_zone.clone()?,
                weekly: item.body.weekly.clone(),
                holidays: item.body.holidays.clone(),
            })
        })
        .collect::<Option<Vec<_>>>()?;
    Some(TenantConfig {
        tenant: raw.tenant.clone()?,
        channels: raw.channels,
        skills,
        reason_codes,
        missed_reason: ReasonIx::from_index(missed),
        business_hours,
        queues: queues.into_iter().collect::<Option<Vec<_>>>()?,
        agents: agents.into_iter().collect::<Option<Vec<_>>>()?,
        alerts: raw.alerts.clone(),
        voice: raw.voice.clone(),
    })
}

/// The ids of one list, for resolving references to its items.
struct Ids<'a> {
    kind: &'static str,
    /// Id to position in the list, for the first item with that id.
    positions: HashMap<&'a str, usize>,
    /// The ids in file order, for suggestions and messages.
    names: Vec<&'a str>,
    /// The id of each item, by position (empty for items without an id).
    by_index: Vec<&'a str>,
    /// Whether the list itself was invalid, so that unknown references are to be expected
    /// and not worth a report of their own.
    broken: bool,
    /// Positions of items whose id repeats an earlier one. References go to the first
    /// definition, so later checks of a repeat would only find problems that are not there.
    repeats: HashSet<usize>,
}

impl<'a> Ids<'a> {
    fn new<T>(sink: &mut Sink, kind: &'static str, items: &'a [RawItem<T>], max: usize, broken: bool) -> Ids<'a> {
        if let Some(extra) = items.get(max) {
            sink.error(extra.pos, &extra.path, format!("too many {kind} entries: at most {max} are supported"));
        }
        let mut positions: HashMap<&str, usize> = HashMap::new();
        let mut names = Vec::new();
        let mut by_index = Vec::new();
        let mut repeats = HashSet::new();
        for (i, item) in items.iter().enumerate().take(max) {
            let Some(id) = &item.id else {
                by_index.push("");
                continue;
            };
            let text = id.text.value.as_str();
            by_index.push(text);
            if let Some(&first) = positions.get(text) {
                let line = items[first].id.as_ref().map_or(0, |id| id.text.pos.line);
                sink.error(
                    id.text.pos,
                    &id.text.path,
                    format!("duplicate {kind} id {text:?} (first defined at line {line})"),
                );
                repeats.insert(i);
                continue;
            }
            positions.insert(text, i);
            names.push(text);
        }
        Ids { kind, positions, names, by_index, broken, repeats }
    }

    /// The position of the item `reference` names, or an error with a suggestion.
    fn resolve(&self, sink: &mut Sink, reference: &At<String>) -> Option<usize> {
        let found = self.positions.get(reference.value.as_str()).copied();
        if found.is_none() && !self.broken {
            sink.error(
                reference.pos,
                &reference.path,
                format!(
                    "unknown {} {:?}{}",
                    self.kind,
                    reference.value,
                    did_you_mean(&reference.value, self.names.iter().copied())
                ),
            );
        }
        found
    }

    fn name(&self, index: usize) -> &'a str {
        self.by_index.get(index).copied().unwrap_or("")
    }
}

/// The ids that items of the file refer to.
struct AllIds<'a> {
    skills: Ids<'a>,
    hours: Ids<'a>,
    queues: Ids<'a>,
}

impl AllIds<'_> {
    fn levels(&self, sink: &mut Sink, levels: &[RawLevel]) -> Vec<SkillLevel> {
        levels
            .iter()
            .filter_map(|raw| {
                let skill = self.skills.resolve(sink, &raw.skill)?;
                Some(SkillLevel::new(SkillIx::from_index(skill), raw.level?))
            })
            .collect()
    }

    fn queue(&self, sink: &mut Sink, i: usize, item: &RawItem<RawQueue>) -> Option<Queue> {
        if i >= usize::from(u16::MAX) {
            return None;
        }
        let before = sink.error_count();
        let this = QueueIx::from_index(i);
        let raw = &item.body;
        let skills = self.levels(sink, &raw.skills);
        let business_hours =
            raw.business_hours.as_ref().and_then(|r| self.hours.resolve(sink, r)).map(HoursIx::from_index);

        let mut stage = Stage {
            after: Duration::ZERO,
            member_queues: vec![this],
            skills: skills.clone(),
            overflow_skills: Vec::new(),
        };
        let mut stages = vec![stage.clone()];
        let mut steps = Vec::new();
        let mut previous: Option<Duration> = None;
        for raw_step in &raw.steps {
            if let Some(after) = &raw_step.after {
                if after.value.is_zero() {
                    sink.error(
                        after.pos,
                        &after.path,
                        "after must be more than 0s; what applies from the start belongs in \
                         the queue itself",
                    );
                } else if let Some(previous) = previous.filter(|p| after.value <= *p) {
                    sink.error(
                        after.pos,
                        &after.path,
                        format!(
                            "steps must come in increasing order of after: {} is not later \
                             than the previous step's {}",
                            format_duration(after.value),
                            format_duration(previous)
                        ),
                    );
                }
                previous = Some(after.value);
            }
            let require = self.levels(sink, &raw_step.require);
            let mut drop = Vec::new();
            for name in &raw_step.drop {
                let Some(skill) = self.skills.resolve(sink, name).map(SkillIx::from_index) else {
                    continue;
                };
                if raw_step.require.iter().any(|r| r.skill.value == name.value) {
                    sink.error(
                        name.pos,
                        &name.path,
                        format!("skill {:?} is both required and dropped in this step", name.value),
                    );
                } else if !stage.skills.iter().any(|l| l.skill == skill) {
                    sink.warning(
                        name.pos,
                        &name.path,
                        format!(
                            "skill {:?} is not required at this point, so dropping it does \
                             nothing",
                            name.value
                        ),
                    );
                }
                drop.push(skill);
            }
            let mut overflow_queues = Vec::new();
            for name in &raw_step.overflow_queues {
                let Some(queue) = self.queues.resolve(sink, name).map(QueueIx::from_index) else {
                    continue;
                };
                if queue == this {
                    sink.error(name.pos, &name.path, format!("queue {:?} cannot overflow to itself", name.value));
                    continue;
                }
                overflow_queues.push(queue);
            }
            let overflow_skills = self.levels(sink, &raw_step.overflow_skills);

            for level in &require {
                set_level(&mut stage.skills, *level);
            }
            stage.skills.retain(|l| !drop.contains(&l.skill));
            for queue in &overflow_queues {
                if !stage.member_queues.contains(queue) {
                    stage.member_queues.push(*queue);
                }
            }
            for level in &overflow_skills {
                set_level(&mut stage.overflow_skills, *level);
            }
            stage.after = raw_step.after.as_ref().map_or(Duration::ZERO, |a| a.value);
            stages.push(stage.clone());
            steps.push(Step { after: stage.after, require, drop, overflow_queues, overflow_skills });
        }

        if !item.clean || sink.error_count() != before || self.queues.repeats.contains(&i) {
            return None;
        }
        Some(Queue {
            id: item.id.as_ref()?.slug.clone()?,
            name: item.display_name(),
            channels: raw.channels.clone(),
            priority: raw.priority,
            strategy: raw.strategy,
            service_level: raw.service_level,
            skills,
            business_hours,
            offer_timeout: raw.offer_timeout,
            wrap_up: raw.wrap_up,
            expected_handle_time: raw.expected_handle_time,
            steps,
            stages,
        })
    }

    fn agent(&self, sink: &mut Sink, config: &RawConfig, item: &RawItem<RawAgent>) -> Option<Agent> {
        let before = sink.error_count();
        let raw = &item.body;
        let id = item.id_text().unwrap_or("");
        let skills = self.levels(sink, &raw.skills);
        let mut queues = Vec::new();
        let mut all_queues_known = raw.queues.is_some();
        for name in raw.queues.iter().flatten() {
            match self.queues.resolve(sink, name) {
                Some(q) => queues.push(QueueIx::from_index(q)),
                None => all_queues_known = false,
            }
        }
        if raw.queues.as_ref().is_some_and(Vec::is_empty) {
            sink.warning(item.pos, &item.path, format!("agent {id:?} is a member of no queue"));
        }

        // The channels the agent's queues take.
        let mut takes = [false; 4];
        for queue in &queues {
            for channel in &config.queues[queue.index()].body.channels {
                takes[channel.index()] = true;
            }
        }
        let costs = config.channels;
        let capacity = match &raw.capacity {
            Some(entries) => {
                let mut capacity = Capacity::default();
                for entry in entries {
                    let channel = entry.value.0;
                    let Some(max) = possible_max(sink, entry, costs) else {
                        continue;
                    };
                    capacity = capacity.with(channel, max);
                    // A queue with errors may have lost the very channel in question.
                    let queues_clean = queues.iter().all(|q| config.queues[q.index()].clean);
                    if all_queues_known && queues_clean && !queues.is_empty() && !takes[channel.index()] {
                        let names: Vec<&str> = queues.iter().map(|q| self.queues.name(q.index())).collect();
                        sink.warning(
                            entry.pos,
                            &entry.path,
                            format!(
                                "agent {id:?} has a capacity for {channel}, but none of its \
                                 queues ({}) takes {channel}",
                                names.join(", ")
                            ),
                        );
                    }
                }
                capacity
            }
            None => Channel::ALL
                .into_iter()
                .filter(|c| takes[c.index()])
                .fold(Capacity::default(), |capacity, c| capacity.with(c, AGENT_CAPACITY / costs.cost(c))),
        };

        if !item.clean || sink.error_count() != before {
            return None;
        }
        Some(Agent {
            id: item.id.as_ref()?.slug.clone()?,
            name: item.display_name(),
            skills,
            queues,
            capacity,
            auto_accept: raw.auto_accept,
            phone: raw.phone.as_ref().map(|p| Phone {
                user: p.value.0.clone().unwrap_or_else(|| id.to_owned()),
                password: p.value.1.clone(),
            }),
        })
    }
}

/// Two phones cannot share a user name: a REGISTER would not know whose it is.
fn check_phone_users(sink: &mut Sink, raw: &RawConfig, agents: &[Option<Agent>]) {
    let mut first: HashMap<&str, &str> = HashMap::new();
    for (item, agent) in raw.agents.iter().zip(agents) {
        let (Some(agent), Some(at)) = (agent, &item.body.phone) else { continue };
        let Some(phone) = &agent.phone else { continue };
        match first.get(phone.user.as_str()) {
            Some(other) => {
                sink.error(at.pos, &at.path, format!("phone user {:?} is already agent {other:?}'s phone", phone.user))
            }
            None => {
                first.insert(&phone.user, agent.id.as_str());
            }
        }
    }
}

/// Checks that `max` interactions of a channel fit in an agent's capacity.
fn possible_max(sink: &mut Sink, entry: &At<(Channel, u32)>, costs: ChannelCosts) -> Option<u8> {
    let (channel, max) = entry.value;
    let cost = costs.cost(channel);
    let total = u64::from(max) * u64::from(cost);
    if total > u64::from(AGENT_CAPACITY) {
        sink.error(
            entry.pos,
            &entry.path,
            format!(
                "{max} at once is impossible: {max} × {cost} = {total} exceeds the agent's \
                 capacity of {AGENT_CAPACITY} (one {channel} interaction costs {cost}, so at \
                 most {} fit)",
                AGENT_CAPACITY / cost
            ),
        );
        return None;
    }
    u8::try_from(max).ok()
}

/// Sets the level of a skill in a list of levels, adding it if absent.
fn set_level(levels: &mut Vec<SkillLevel>, level: SkillLevel) {
    match levels.iter_mut().find(|l| l.skill == level.skill) {
        Some(existing) => *existing = level,
        None => levels.push(level),
    }
}

/// Warns about skills that no queue or step requires. When a queue has errors, or refers to
/// a skill that does not exist, the missing use may be right there, so nothing is said.
fn warn_unused_skills(sink: &mut Sink, raw: &RawConfig) {
    if !raw.queues_ok || raw.queues.iter().any(|q| !q.clean) {
        return;
    }
    let mut used: HashSet<&str> = HashSet::new();
    for queue in &raw.queues {
        let step_levels = queue.body.steps.iter().flat_map(|s| s.require.iter().chain(&s.overflow_skills));
        for level in queue.body.skills.iter().chain(step_levels) {
            used.insert(&level.skill.value);
        }
    }
    let defined: HashSet<&str> = raw.skills.iter().filter_map(|s| s.id_text()).collect();
    if !used.is_subset(&defined) {
        return;
    }
    let mut warned: HashSet<&str> = HashSet::new();
    for skill in raw.skills.iter().filter(|s| s.clean) {
        if let Some(id) = skill.id_text().filter(|id| !used.contains(id)) {
            if warned.insert(id) {
                sink.warning(skill.pos, &skill.path, format!("skill {id:?} is not required by any queue or step"));
            }
        }
    }
}

/// Reports the stages of `queue` at which no agent can take its interactions, on some or all
/// of its channels. A run of consecutive failing stages is reported once, at its first stage.
fn check_coverage(sink: &mut Sink, raw: &RawConfig, item: &RawItem<RawQueue>, queue: &Queue, agents: &[Agent]) {
    let failures: Vec<Option<String>> =
        queue.stages.iter().map(|stage| why_unserved(raw, queue, stage, agents)).collect();
    let mut i = 0;
    while i < failures.len() {
        let Some(reason) = &failures[i] else {
            i += 1;
            continue;
        };
        let end = (i..failures.len()).find(|&j| failures[j].is_none()).unwrap_or(failures.len());
        let stage = &queue.stages[i];
        let (pos, path, from) = if i == 0 {
            (item.pos, item.path.as_str(), "from the start".to_owned())
        } else {
            let step = &item.body.steps[i - 1];
            (step.pos, step.path.as_str(), format!("after {}", format_duration(stage.after)))
        };
        let message = match queue.stages.get(end) {
            // A later step lets agents in: the interactions only wait longer than needed.
            Some(next) => format!(
                "no agent can take interactions of queue {:?} {from} until {}: {reason}",
                queue.id.as_str(),
                format_duration(next.after),
            ),
            None => {
                let later = if end - i > 1 { " (and no later step changes that)" } else { "" };
                format!("no agent can ever take interactions of queue {:?}: {from}, {reason}{later}", queue.id.as_str())
            }
        };
        sink.error(pos, path, message);
        i = end;
    }
}

/// Why no agent can take interactions of `queue` during `stage`, or `None` if some can, on
/// every channel of the queue.
fn why_unserved(raw: &RawConfig, queue: &Queue, stage: &Stage, agents: &[Agent]) -> Option<String> {
    let skill_name = |ix: SkillIx| raw.skills[ix.index()].id_text().unwrap_or("");
    let queue_name = |ix: QueueIx| raw.queues[ix.index()].id_text().unwrap_or("");
    let levels = |levels: &[SkillLevel], sep: &str| {
        levels.iter().map(|l| format!("{} ≥ {}", skill_name(l.skill), l.level)).collect::<Vec<_>>().join(sep)
    };
    let qualified: Vec<&Agent> = agents.iter().filter(|a| stage.admits(a)).collect();
    if qualified.is_empty() {
        let members: Vec<&str> = stage.member_queues.iter().map(|q| queue_name(*q)).collect();
        let members =
            if members.len() == 1 { format!("queue {}", members[0]) } else { format!("queues {}", or_list(&members)) };
        let mut reason = if stage.skills.is_empty() {
            format!("no agent is a member of {members}")
        } else {
            format!("no member of {members} has {}", levels(&stage.skills, " and "))
        };
        if !stage.overflow_skills.is_empty() {
            reason.push_str(&format!(", and no agent has {}", levels(&stage.overflow_skills, " or ")));
        }
        return Some(reason);
    }
    let missing: Vec<&str> = queue
        .channels
        .iter()
        .filter(|c| qualified.iter().all(|a| a.capacity.max(**c) == 0))
        .map(|c| c.as_str())
        .collect();
    if missing.is_empty() {
        return None;
    }
    let mut names: Vec<String> = qualified.iter().take(5).map(|a| a.id.to_string()).collect();
    if qualified.len() > names.len() {
        names.push(format!("{} more", qualified.len() - names.len()));
    }
    Some(format!("no agent who qualifies takes {} (qualifying: {})", or_list(&missing), and_list(&names)))
}

/// `a`, `a or b`, `a, b or c`.
fn or_list<S: AsRef<str>>(items: &[S]) -> String {
    joined(items, "or")
}

/// `a`, `a and b`, `a, b and c`.
fn and_list<S: AsRef<str>>(items: &[S]) -> String {
    joined(items, "and")
}

fn joined<S: AsRef<str>>(items: &[S], last: &str) -> String {
    match items {
        [] => String::new(),
        [only] => only.as_ref().to_owned(),
        [init @ .., end] => {
            let init: Vec<&str> = init.iter().map(AsRef::as_ref).collect();
            format!("{} {last} {}", init.join(", "), end.as_ref())
        }
    }
}
