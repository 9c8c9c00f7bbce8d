//! Cisco UCCX: the admin REST API's JSON (`/adminapi/skill`, `/resource`, `/resourceGroup`,
//! `/csq`, `/team`) to a tenant file.
//!
//! | UCCX | Switchboard |
//! |---|---|
//! | skill | skill (id from its name) |
//! | resource (agent) | agent (id from its userID); competence 1-10 becomes proficiency 1-5 (half, rounded up) |
//! | CSQ | queue of its channel (VOICE, EMAIL, CHAT); a skill-group CSQ requires its skills at their minimum competence, a resource-group CSQ is served by the group's agents |
//! | selectionCriteria | strategy (see [`strategy`]) |
//! | wrapupTime (with autoWork) | wrap_up |
//! | serviceLevel, serviceLevelPercentage | service_level |
//! | team | not translated (supervisors are users with the supervisor role) |
//!
//! An agent serves a skill-group CSQ when it has every one of the CSQ's skills at the
//! CSQ's minimum competence or more, as UCCX decides membership. The API's JSON is converted
//! from XML, so a list of one may come as a single object and an empty list as `{}`; both
//! are read.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::draft::{AgentDraft, Draft, QueueDraft, SkillDraft};
use crate::report::{Outcome, Report};
use crate::{Import, TenantInfo, slug_of};

/// The API's answers; each is optional, but agents need skills to mean much.
#[derive(Debug, Clone, Default)]
pub struct Answers {
    pub skills: Option<Value>,
    pub resources: Option<Value>,
    pub resource_groups: Option<Value>,
    pub csqs: Option<Value>,
    pub teams: Option<Value>,
}

impl Answers {
    /// The answers from one document holding them under `skills`, `resources`,
    /// `resourceGroups`, `csqs` and `teams`.
    pub fn from_document(document: &Value) -> Answers {
        let get = |key: &str| document.get(key).cloned();
        Answers {
            skills: get("skills"),
            resources: get("resources"),
            resource_groups: get("resourceGroups"),
            csqs: get("csqs"),
            teams: get("teams"),
        }
    }
}

/// The items of a repeated element: an array, a single object, or nothing (`{}`, `""`,
/// `null`, absent).
fn items<'v>(value: Option<&'v Value>, key: &str) -> Vec<&'v Value> {
    match value.and_then(|v| v.get(key)) {
        Some(Value::Array(items)) => items.iter().collect(),
        Some(item @ Value::Object(map)) if !map.is_empty() => vec![item],
        _ => Vec::new(),
    }
}

/// The id at the end of a reference's `refURL`.
fn ref_id(reference: &Value) -> Option<String> {
    let url = reference.get("refURL")?.as_str()?;
    url.trim_end_matches('/').rsplit('/').next().map(str::to_owned)
}

fn text<'v>(value: &'v Value, key: &str) -> Option<&'v str> {
    value.get(key)?.as_str().map(str::trim).filter(|s| !s.is_empty())
}

fn number(value: &Value, key: &str) -> Option<i64> {
    let v = value.get(key)?;
    v.as_i64().or_else(|| v.as_str()?.trim().parse().ok())
}

/// Switchboard's strategy for a UCCX selection criterion, and why it is an approximation.
pub fn strategy(criterion: &str) -> Option<(&'static str, Option<&'static str>)> {
    Some(match criterion {
        "Longest Available" => ("longest_idle", None),
        "Most Skilled" => ("most_skilled", None),
        "Most Skilled by Weight" | "Most Skilled by Order" => (
            "most_skilled",
            Some("Switchboard ranks by the agent's proficiency in the queue's skills, without weights or order"),
        ),
        "Least Skilled" | "Least Skilled by Weight" | "Least Skilled by Order" => {
            ("longest_idle", Some("Switchboard has no least-skilled choice; the agent idle the longest gets the call"))
        }
        "Most Handled Contacts" | "Shortest Average Handle Time" => (
            "least_occupied",
            Some(
                "Switchboard does not rank by calls handled or handle time; the agent with the most room gets the call",
            ),
        ),
        "Linear" | "Circular" => ("round_robin", Some("agents take turns; the group's fixed order is not kept")),
        _ => return None,
    })
}

/// UCCX competence 1-10 as a proficiency 1-5.
fn proficiency(level: i64) -> u8 {
    ((level.clamp(1, 10) + 1) / 2) as u8
}

/// Imports the UCCX answers into a tenant.
pub fn import(file: &str, answers: &Answers, tenant: &TenantInfo) -> Import {
    let mut report = Report::default();
    let mut draft = Draft::default();
    // Skills, by UCCX id.
    let mut skills: BTreeMap<String, String> = BTreeMap::new();
    for (i, skill) in items(answers.skills.as_ref(), "skill").into_iter().enumerate() {
        let path = format!("skill[{i}]");
        let (Some(id), Some(name)) = (number(skill, "skillId"), text(skill, "skillName")) else {
            report.add(&path, Outcome::Rejected, format!("a skill needs skillId and skillName ({file})"), None);
            continue;
        };
        let slug = slug_of(name);
        if draft.skills.iter().any(|s| s.id == slug) {
            let detail = format!("its id {slug:?} is taken by an earlier skill; left out");
            report.add(&format!("skill {name}"), Outcome::Rejected, detail, None);
            continue;
        }
        report.add(&format!("skill {name}"), Outcome::Mapped, format!("skill {slug}"), None);
        skills.insert(id.to_string(), slug.clone());
        draft.skills.push(SkillDraft { id: slug, name: Some(name.to_owned()) });
    }
    // Resource groups, by UCCX id: their names.
    let mut groups: BTreeMap<String, String> = BTreeMap::new();
    for group in items(answers.resource_groups.as_ref(), "resourceGroup") {
        if let (Some(id), Some(name)) = (number(group, "id"), text(group, "name")) {
            groups.insert(id.to_string(), name.to_owned());
        }
    }
    // Agents, and the resource group of each.
    let mut group_of: BTreeMap<String, String> = BTreeMap::new();
    // UCCX's own competence (1-10) per agent and skill: membership is decided on it, not on
    // the halved proficiency.
    let mut competence: BTreeMap<String, BTreeMap<String, i64>> = BTreeMap::new();
    let mut levels_scaled = 0;
    for (i, resource) in items(answers.resources.as_ref(), "resource").into_iter().enumerate() {
        let Some(user) = text(resource, "userID") else {
            report.add(&format!("resource[{i}]"), Outcome::Rejected, "a resource without userID", None);
            continue;
        };
        let object = format!("resource {user}");
        let id = slug_of(user);
        if draft.agents.contains_key(&id) {
            let detail = format!("its id {id:?} is taken by an earlier agent; left out");
            report.add(&object, Outcome::Rejected, detail, None);
            continue;
        }
        let name = [text(resource, "firstName"), text(resource, "lastName")]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        let mut agent =
            AgentDraft { name: if name.is_empty() { user.to_owned() } else { name }, ..AgentDraft::default() };
        for held in items(resource.get("skillMap"), "skillCompetency") {
            let reference = held.get("skillNameUriPair");
            let skill = reference.and_then(ref_id).and_then(|id| skills.get(&id).cloned());
            let level = number(held, "competencelevel");
            match (skill, level) {
                (Some(skill), Some(level)) => {
                    competence.entry(slug_of(user)).or_default().insert(skill.clone(), level);
                    agent.skills.insert(skill, proficiency(level));
                    levels_scaled += 1;
                }
                _ => {
                    let named = reference.and_then(|r| text(r, "@name")).unwrap_or("?");
                    let detail =
                        format!("skill {named:?} is not among the skills, or has no competence level; left out");
                    report.add(&object, Outcome::Rejected, detail, None);
                }
            }
        }
        if let Some(group) = resource.get("resourceGroup").and_then(ref_id) {
            group_of.insert(id.clone(), group);
        }
        if number(resource, "type") == Some(2) {
            let detail = "a supervisor in UCCX; give the person a user with the supervisor role";
            report.add(&object, Outcome::NotTranslated, detail, None);
        }
        report.add(&object, Outcome::Mapped, format!("agent {id} ({} skills)", agent.skills.len()), None);
        draft.agents.insert(id, agent);
    }
    if levels_scaled > 0 {
        let detail = "UCCX competence 1-10 becomes proficiency 1-5: half, rounded up (7 is 4, 10 is 5)";
        report.add("competence levels", Outcome::Approximated, detail, None);
    }
    // Queues.
    for (i, csq) in items(answers.csqs.as_ref(), "csq").into_iter().enumerate() {
        let Some(name) = text(csq, "name") else {
            report.add(&format!("csq[{i}]"), Outcome::Rejected, "a CSQ without a name", None);
            continue;
        };
        let object = format!("csq {name}");
        let id = slug_of(name);
        if draft.queues.iter().any(|q| q.id == id) {
            let detail = format!("its id {id:?} is taken by an earlier queue; left out");
            report.add(&object, Outcome::Rejected, detail, None);
            continue;
        }
        let channel = match text(csq, "queueType").unwrap_or("VOICE") {
            "VOICE" => "voice",
            "EMAIL" => "email",
            "CHAT" => "chat",
            other => {
                let detail = format!("queueType {other:?} is not VOICE, EMAIL or CHAT; left out");
                report.add(&object, Outcome::Rejected, detail, None);
                continue;
            }
        };
        let mut queue = QueueDraft {
            id: id.clone(),
            name: name.to_owned(),
            channels: vec![channel.to_owned()],
            ..QueueDraft::default()
        };
        if csq.get("autoWork").and_then(Value::as_bool).unwrap_or(false) {
            queue.wrap_up_s = number(csq, "wrapupTime").filter(|t| *t > 0).map(|t| t.min(3600) as u64);
        }
        if let (Some(within), Some(percent)) = (number(csq, "serviceLevel"), number(csq, "serviceLevelPercentage"))
            && (1..=3600).contains(&within)
            && (1..=100).contains(&percent)
        {
            queue.service_level = Some((percent as u8, within as u64));
        }
        let pool = csq.get("poolSpecificInfo");
        let mut minimum: BTreeMap<String, i64> = BTreeMap::new();
        let (group, criterion) = match text(csq, "resourcePoolType") {
            Some("RESOURCE_GROUP") => {
                let info = pool.and_then(|p| p.get("resourceGroup"));
                (
                    info.and_then(|i| i.get("resourceGroupNameUriPair")).and_then(ref_id),
                    info.and_then(|i| text(i, "selectionCriteria")),
                )
            }
            _ => {
                let info = pool.and_then(|p| p.get("skillGroup"));
                for required in items(info, "skillCompetency") {
                    let skill =
                        required.get("skillNameUriPair").and_then(ref_id).and_then(|id| skills.get(&id).cloned());
                    match (skill, number(required, "competencelevel")) {
                        (Some(skill), Some(level)) => {
                            minimum.insert(skill.clone(), level);
                            queue.skills.insert(skill, proficiency(level));
                        }
                        _ => report.add(
                            &object,
                            Outcome::Rejected,
                            "a skill that is not among the skills; left out",
                            None,
                        ),
                    }
                }
                (None, info.and_then(|i| text(i, "selectionCriteria")))
            }
        };
        match criterion.map(|c| (c, strategy(c))) {
            Some((c, Some((ours, None)))) => {
                queue.strategy = Some(ours);
                report.add(&object, Outcome::Mapped, format!("selection {c:?} is {ours}"), None);
            }
            Some((c, Some((ours, Some(why))))) => {
                queue.strategy = Some(ours);
                report.add(&object, Outcome::Approximated, format!("selection {c:?} is {ours}: {why}"), None);
            }
            Some((c, None)) => {
                let detail = format!("unknown selection {c:?}; the default longest_idle applies");
                report.add(&object, Outcome::NotTranslated, detail, None);
            }
            None => {}
        }
        // Who serves it: the resource group's agents, or those with every skill at its level.
        let mut members = 0;
        for (agent_id, agent) in draft.agents.iter_mut() {
            let serves = match &group {
                Some(g) => group_of.get(agent_id) == Some(g),
                None => {
                    let has = competence.get(agent_id);
                    !minimum.is_empty()
                        && minimum.iter().all(|(s, level)| has.and_then(|h| h.get(s)).is_some_and(|l| l >= level))
                }
            };
            if serves {
                agent.queues.push(id.clone());
                members += 1;
            }
        }
        let pool = match &group {
            Some(g) => format!("the agents of resource group {}", groups.get(g).map_or(g.as_str(), String::as_str)),
            None => "the agents with every skill at its level".to_owned(),
        };
        if members == 0 {
            // Switchboard refuses a queue no agent can ever serve; UCCX would never route
            // to this one either.
            for agent in draft.agents.values_mut() {
                agent.queues.retain(|q| *q != id);
            }
            let detail = format!("no resource is among {pool}, so no call could ever be answered; left out");
            report.add(&object, Outcome::NotTranslated, detail, None);
            continue;
        }
        report.add(&object, Outcome::Mapped, format!("{channel} queue {id}, served by {pool} ({members})"), None);
        draft.queues.push(queue);
    }
    for team in items(answers.teams.as_ref(), "team") {
        let name = text(team, "teamname").unwrap_or("?");
        let detail = "teams are not translated; supervisors see every agent, and are users with the supervisor role";
        report.add(&format!("team {name}"), Outcome::NotTranslated, detail, None);
    }
    Import {
        tenant_yaml: draft.write(tenant, "Cisco UCCX (admin API JSON) by `switchboard migrate import uccx`"),
        report,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn membership_follows_uccx_competence_not_the_halved_proficiency() {
        let skill = |id: u32| serde_json::json!({"@name": "s", "refURL": format!("https://h/adminapi/skill/{id}")});
        let answers = Answers {
            skills: Some(serde_json::json!({"skill": {"skillId": 1, "skillName": "Billing"}})),
            resources: Some(serde_json::json!({"resource": [
                {"userID": "five", "skillMap": {"skillCompetency": {"competencelevel": 5, "skillNameUriPair": skill(1)}}},
                {"userID": "six", "skillMap": {"skillCompetency": {"competencelevel": 6, "skillNameUriPair": skill(1)}}},
            ]})),
            csqs: Some(
                serde_json::json!({"csq": {"name": "Billing", "queueType": "VOICE", "resourcePoolType": "SKILL_GROUP",
                "poolSpecificInfo": {"skillGroup": {"skillCompetency": {"competencelevel": 6, "skillNameUriPair": skill(1)},
                "selectionCriteria": "Longest Available"}}}}),
            ),
            ..Answers::default()
        };
        let tenant = TenantInfo { id: "t".into(), name: "t".into(), time_zone: "UTC".into() };
        let import = import("uccx.json", &answers, &tenant);
        // Competence 5 and 6 are both proficiency 3, but only 6 reaches the CSQ's minimum.
        assert!(
            import.tenant_yaml.contains("{id: five, name: five, skills: {billing: 3}, queues: []}"),
            "{}",
            import.tenant_yaml
        );
        assert!(
            import.tenant_yaml.contains("{id: six, name: six, skills: {billing: 3}, queues: [billing]}"),
            "{}",
            import.tenant_yaml
        );
    }
}
