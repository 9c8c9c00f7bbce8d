//! Asterisk: `queues.conf` (app_queue) to a tenant file.
//!
//! Every queue section becomes a voice queue and a skill of the same id; every member
//! becomes an agent (one agent per interface, whatever the number of queues it serves) with
//! that skill and the queue in its list. The settings map as follows:
//!
//! | queues.conf      | Switchboard                                   |
//! |------------------|-----------------------------------------------|
//! | `strategy`       | `strategy` (see [`strategy`])                 |
//! | `timeout`        | `offer_timeout` (how long a member rings)     |
//! | `wrapuptime`     | `wrap_up`                                     |
//! | `servicelevel`   | `service_level.within` (the percent is 80)    |
//! | `weight`         | `priority` (5 + weight, 1 to 10)              |
//! | `member`         | an agent; its penalty becomes a proficiency   |
//!
//! Member penalties tier the members in Asterisk: lower penalties ring first. Switchboard
//! has proficiencies instead, higher is better: penalty 0 is proficiency 5, 1 is 4 and so
//! on down to 1, and a queue with penalties uses `most_skilled`, which offers to the highest
//! proficiency first. Settings without a counterpart (music classes, announcements, join and
//! leave rules, retries) are reported as not translated, with what to do instead.

use std::collections::BTreeMap;

use crate::draft::{AgentDraft, Draft, QueueDraft, SkillDraft};
use crate::report::{Outcome, Report};
use crate::{Import, TenantInfo, slug_of};

/// One `key = value` (or `key => value`) line of a section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    pub key: String,
    pub value: String,
    pub line: usize,
}

/// A `[section]` and its settings in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    pub name: String,
    pub line: usize,
    pub settings: Vec<Setting>,
}

/// Reads Asterisk's configuration syntax: `[section]` headers (a template suffix such as
/// `(!)` or `(base)` is ignored, and reported), `key = value` and `key => value` lines, `;`
/// comments (`\;` is a literal semicolon). Lines that are none of these are rejected in the
/// report, with their number; reading goes on.
pub fn parse_conf(file: &str, text: &str, report: &mut Report) -> Vec<Section> {
    let mut sections: Vec<Section> = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let content = strip_comment(raw);
        let content = content.trim();
        if content.is_empty() {
            continue;
        }
        if let Some(rest) = content.strip_prefix('[') {
            let Some((name, after)) = rest.split_once(']') else {
                report.add("line", Outcome::Rejected, "a section header without its closing ']'", Some((file, line)));
                continue;
            };
            let after = after.trim();
            if !after.is_empty() {
                let detail = format!("section template marker {after:?} ignored; its settings are read as written");
                report.add(&format!("section [{name}]"), Outcome::NotTranslated, detail, Some((file, line)));
            }
            sections.push(Section { name: name.trim().to_owned(), line, settings: Vec::new() });
            continue;
        }
        if content.starts_with('#') {
            let detail = "directives such as #include are not followed; import the included file too";
            report.add(content, Outcome::NotTranslated, detail, Some((file, line)));
            continue;
        }
        let split = content.split_once("=>").or_else(|| content.split_once('='));
        let Some((key, value)) = split else {
            let detail = format!("expected \"key = value\", found {content:?}");
            report.add("line", Outcome::Rejected, detail, Some((file, line)));
            continue;
        };
        let key = key.trim().to_ascii_lowercase();
        let Some(section) = sections.last_mut() else {
            report.add("line", Outcome::Rejected, format!("setting {key:?} before any [section]"), Some((file, line)));
            continue;
        };
        section.settings.push(Setting { key, value: value.trim().replace("\\;", ";"), line });
    }
    sections
}

/// The line without its `;` comment (a `\;` stays).
fn strip_comment(line: &str) -> &str {
    let bytes = line.as_bytes();
    for (i, b) in bytes.iter().enumerate() {
        if *b == b';' && (i == 0 || bytes[i - 1] != b'\\') {
            return &line[..i];
        }
    }
    line
}

/// Switchboard's strategy for an Asterisk one, and whether it is an approximation (with why).
pub fn strategy(asterisk: &str) -> Option<(&'static str, Option<&'static str>)> {
    Some(match asterisk {
        "leastrecent" => ("longest_idle", None),
        "rrmemory" | "rrordered" | "linear" => ("round_robin", None),
        "fewestcalls" => (
            "least_occupied",
            Some(
                "Asterisk counts the calls each member answered; Switchboard picks the agent with the most capacity left",
            ),
        ),
        "ringall" => (
            "longest_idle",
            Some(
                "Asterisk rings every member at once; Switchboard offers to one agent at a time, the one idle the longest",
            ),
        ),
        "random" | "wrandom" => ("round_robin", Some("Switchboard has no random choice; agents take turns instead")),
        _ => return None,
    })
}

/// Settings Switchboard has no counterpart for, with what to do instead.
fn not_translated(key: &str) -> Option<&'static str> {
    Some(match key {
        "musicclass" | "musiconhold" => "music classes are not imported; point voice.music_on_hold at a WAV file",
        "announce-frequency"
        | "announce-position"
        | "announce-holdtime"
        | "announce-position-limit"
        | "announce-round-seconds"
        | "periodic-announce"
        | "periodic-announce-frequency"
        | "announce"
        | "queue-youarenext"
        | "queue-thereare"
        | "queue-callswaiting"
        | "queue-holdtime"
        | "queue-minutes"
        | "queue-seconds"
        | "queue-thankyou" => {
            "announcements are configured with voice.announcements (a directory of prompts) and the flow"
        }
        "retry" => "Switchboard offers the call to the next agent at once, with no pause",
        "maxlen" => "queues have no length limit; a flow can check business hours or send callers elsewhere",
        "joinempty" | "leaveempty" => "callers always join a queue; the flow decides what happens before",
        "ringinuse" => "agents are offered calls only when they have room for them",
        "autofill" | "autopause" | "autopausedelay" | "autopausebusy" | "autopauseunavail" => {
            "agents who miss an offer are set not ready with the reason \"missed\""
        }
        "context" => "digits pressed in the queue are not a way out; use the flow's menu before the queue",
        "timeoutrestart"
        | "timeoutpriority"
        | "memberdelay"
        | "setinterfacevar"
        | "setqueuevar"
        | "setqueueentryvar"
        | "reportholdtime"
        | "monitor-type"
        | "monitor-format"
        | "eventwhencalled"
        | "eventmemberstatus"
        | "updatecdr"
        | "penaltymemberslimit"
        | "defaultrule"
        | "relative-periodic-announce"
        | "random-periodic-announce"
        | "min-announce-frequency"
        | "wrapuptime-after-agent" => "no counterpart in Switchboard",
        _ => return None,
    })
}

/// A queue being built.
#[derive(Debug, Default)]
struct Queue {
    id: String,
    name: String,
    strategy: Option<&'static str>,
    offer_timeout: Option<u64>,
    wrap_up: Option<u64>,
    service_level: Option<u64>,
    priority: Option<u8>,
    penalties: bool,
}

/// An agent being built: its queues and proficiency in each.
#[derive(Debug, Default)]
struct Agent {
    name: String,
    skills: BTreeMap<String, u8>,
}

/// Imports `queues.conf` (its text, read from `file`) into a tenant.
pub fn import_queues(file: &str, text: &str, tenant: &TenantInfo) -> Import {
    let mut report = Report::default();
    let sections = parse_conf(file, text, &mut report);
    let mut queues: Vec<Queue> = Vec::new();
    let mut agents: BTreeMap<String, Agent> = BTreeMap::new();
    for section in &sections {
        if section.name.eq_ignore_ascii_case("general") {
            for s in &section.settings {
                let detail = "a general setting of app_queue; Switchboard's defaults apply";
                report.add(&format!("[general] {}", s.key), Outcome::NotTranslated, detail, Some((file, s.line)));
            }
            continue;
        }
        let id = slug_of(&section.name);
        if queues.iter().any(|q| q.id == id) {
            let detail = format!("its id {id:?} is taken by an earlier queue; the section is left out");
            report.add(&format!("queue {}", section.name), Outcome::Rejected, detail, Some((file, section.line)));
            continue;
        }
        let mut queue = Queue { id: id.clone(), name: section.name.clone(), ..Queue::default() };
        let object = format!("queue {}", section.name);
        for s in &section.settings {
            let at = Some((file, s.line));
            let seconds = |value: &str| value.parse::<u64>().ok();
            match s.key.as_str() {
                "strategy" => match strategy(&s.value) {
                    Some((ours, None)) => {
                        queue.strategy = Some(ours);
                        report.add(&object, Outcome::Mapped, format!("strategy {} is {ours}", s.value), at);
                    }
                    Some((ours, Some(why))) => {
                        queue.strategy = Some(ours);
                        report.add(
                            &object,
                            Outcome::Approximated,
                            format!("strategy {} is {ours}: {why}", s.value),
                            at,
                        );
                    }
                    None => {
                        let detail = format!("unknown strategy {:?}; longest_idle is used", s.value);
                        report.add(&object, Outcome::Rejected, detail, at);
                    }
                },
                "timeout" => match seconds(&s.value) {
                    Some(0) => report.add(
                        &object,
                        Outcome::NotTranslated,
                        "timeout 0 (ring forever) has no counterpart; offers run out after 20s",
                        at,
                    ),
                    Some(t) => {
                        queue.offer_timeout = Some(t.min(600));
                        report.add(
                            &object,
                            Outcome::Mapped,
                            format!("timeout {t}s is offer_timeout {}s", t.min(600)),
                            at,
                        );
                    }
                    None => report.add(
                        &object,
                        Outcome::Rejected,
                        format!("timeout {:?} is not a number of seconds", s.value),
                        at,
                    ),
                },
                "wrapuptime" => match seconds(&s.value) {
                    Some(t) => {
                        queue.wrap_up = Some(t.min(3600));
                        report.add(
                            &object,
                            Outcome::Mapped,
                            format!("wrapuptime {t}s is wrap_up {}s", t.min(3600)),
                            at,
                        );
                    }
                    None => report.add(
                        &object,
                        Outcome::Rejected,
                        format!("wrapuptime {:?} is not a number of seconds", s.value),
                        at,
                    ),
                },
                "servicelevel" => match seconds(&s.value) {
                    Some(t) if (1..=3600).contains(&t) => {
                        queue.service_level = Some(t);
                        let detail = format!(
                            "servicelevel {t}s is service_level within {t}s; Asterisk has no target percent, 80 is used"
                        );
                        report.add(&object, Outcome::Approximated, detail, at);
                    }
                    _ => report.add(
                        &object,
                        Outcome::Rejected,
                        format!("servicelevel {:?} is not 1 to 3600 seconds", s.value),
                        at,
                    ),
                },
                "weight" => match s.value.parse::<i64>() {
                    Ok(w) => {
                        let priority = (5 + w).clamp(1, 10) as u8;
                        queue.priority = Some(priority);
                        let detail = format!(
                            "weight {w} is priority {priority}: Asterisk gives members of several queues to the heavier first; Switchboard serves higher priorities first"
                        );
                        report.add(&object, Outcome::Approximated, detail, at);
                    }
                    Err(_) => {
                        report.add(&object, Outcome::Rejected, format!("weight {:?} is not a number", s.value), at)
                    }
                },
                "member" => member(&mut report, &mut queue, &mut agents, file, s),
                key => match not_translated(key) {
                    Some(why) => report.add(&object, Outcome::NotTranslated, format!("{key} = {}: {why}", s.value), at),
                    None => report.add(&object, Outcome::NotTranslated, format!("unknown setting {key:?}"), at),
                },
            }
        }
        if queue.penalties && queue.strategy != Some("most_skilled") {
            let detail = format!(
                "members have penalties: the queue uses most_skilled (higher proficiency first) instead of {}",
                queue.strategy.unwrap_or("longest_idle")
            );
            report.add(&object, Outcome::Approximated, detail, Some((file, section.line)));
            queue.strategy = Some("most_skilled");
        }
        if !agents.values().any(|a| a.skills.contains_key(&id)) {
            let detail = "no member could be read: left out, since a Switchboard queue needs an agent who can take it";
            report.add(&object, Outcome::NotTranslated, detail, Some((file, section.line)));
            continue;
        }
        let detail = format!("queue {id} with skill {id}, channel voice");
        report.add(&object, Outcome::Mapped, detail, Some((file, section.line)));
        queues.push(queue);
    }
    Import { tenant_yaml: write(tenant, &queues, &agents), report }
}

/// A `member => interface[,penalty[,membername[,state_interface]]]` line.
fn member(report: &mut Report, queue: &mut Queue, agents: &mut BTreeMap<String, Agent>, file: &str, s: &Setting) {
    let at = Some((file, s.line));
    let mut parts = s.value.split(',').map(str::trim);
    let interface = parts.next().unwrap_or_default();
    if interface.is_empty() {
        report.add(&format!("member of {}", queue.name), Outcome::Rejected, "a member without an interface", at);
        return;
    }
    let penalty = match parts.next().filter(|p| !p.is_empty()) {
        None => 0,
        Some(p) => match p.parse::<u32>() {
            Ok(p) => p,
            Err(_) => {
                let detail = format!("penalty {p:?} is not a number; the member is left out");
                report.add(&format!("member {interface} of {}", queue.name), Outcome::Rejected, detail, at);
                return;
            }
        },
    };
    let member_name = parts.next().filter(|n| !n.is_empty());
    // The agent is the interface's user: PJSIP/1001, SIP/alice, Local/1002@agents.
    let user = interface.rsplit('/').next().unwrap_or(interface).split('@').next().unwrap_or(interface);
    let id = slug_of(user);
    let proficiency = 5u32.saturating_sub(penalty).max(1) as u8;
    let object = format!("member {interface} of {}", queue.name);
    let agent = agents.entry(id.clone()).or_default();
    if agent.name.is_empty() {
        agent.name = member_name.unwrap_or(interface).to_owned();
    }
    agent.skills.insert(queue.id.clone(), proficiency);
    if penalty == 0 {
        report.add(&object, Outcome::Mapped, format!("agent {id} with skill {} at 5", queue.id), at);
    } else {
        queue.penalties = true;
        let detail = format!("penalty {penalty} is proficiency {proficiency} in skill {} (agent {id})", queue.id);
        report.add(&object, Outcome::Approximated, detail, at);
    }
}

/// The tenant file.
fn write(tenant: &TenantInfo, queues: &[Queue], agents: &BTreeMap<String, Agent>) -> String {
    let draft = Draft {
        skills: queues.iter().map(|q| SkillDraft { id: q.id.clone(), name: None }).collect(),
        queues: queues
            .iter()
            .map(|q| QueueDraft {
                id: q.id.clone(),
                name: q.name.clone(),
                channels: Vec::new(),
                skills: BTreeMap::from([(q.id.clone(), 1)]),
                strategy: q.strategy,
                priority: q.priority,
                offer_timeout_s: q.offer_timeout,
                wrap_up_s: q.wrap_up,
                service_level: q.service_level.map(|t| (80, t)),
                ..QueueDraft::default()
            })
            .collect(),
        agents: agents
            .iter()
            .map(|(id, a)| {
                let queues = a.skills.keys().cloned().collect();
                (id.clone(), AgentDraft { name: a.name.clone(), skills: a.skills.clone(), queues })
            })
            .collect(),
    };
    draft.write(tenant, "Asterisk queues.conf by `switchboard migrate import asterisk`")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_sections_and_both_assignments_are_read() {
        let mut report = Report::default();
        let text =
            "; a comment\n[support](!)\nstrategy = leastrecent ; trailing\nmember => PJSIP/1001,0,Ann\\;B\ngarbage\n";
        let sections = parse_conf("queues.conf", text, &mut report);
        assert_eq!(sections.len(), 1);
        assert_eq!(sections[0].settings[0], Setting { key: "strategy".into(), value: "leastrecent".into(), line: 3 });
        assert_eq!(sections[0].settings[1].value, "PJSIP/1001,0,Ann;B");
        assert_eq!(report.count(Outcome::Rejected), 1);
        assert_eq!(report.count(Outcome::NotTranslated), 1, "the template marker");
    }

    #[test]
    fn every_strategy_has_a_counterpart() {
        for s in ["ringall", "leastrecent", "fewestcalls", "random", "rrmemory", "rrordered", "linear", "wrandom"] {
            assert!(strategy(s).is_some(), "{s}");
        }
        assert!(strategy("roundrobin").is_none());
    }
}
