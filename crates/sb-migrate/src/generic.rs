//! The generic CSV import, for any platform without an importer of its own (Mitel and
//! others): skills, queues and agents as three CSV files that a spreadsheet can write.
//! The columns are documented in `docs/migration.md`; they are found by their header names,
//! in any order, and only `id` is required.
//!
//! Lists in a cell are separated by `;`, skill levels written `skill:level`, so
//! `billing:3;german:2`. Every problem is reported with its file and line; a bad cell is
//! left out and the rest of its row is kept.

use crate::csv::{Header, fields};
use crate::draft::{AgentDraft, Draft, QueueDraft, SkillDraft};
use crate::report::{Outcome, Report};
use crate::{Import, TenantInfo, slug_of};

/// The files' texts, each with the name it was read from.
#[derive(Debug, Clone, Copy, Default)]
pub struct Files<'a> {
    pub skills: Option<(&'a str, &'a str)>,
    pub queues: Option<(&'a str, &'a str)>,
    pub agents: Option<(&'a str, &'a str)>,
}

const SKILL_COLUMNS: &[&str] = &["id", "name"];
const QUEUE_COLUMNS: &[&str] =
    &["id", "name", "channels", "skills", "strategy", "priority", "service_level", "offer_timeout", "wrap_up"];
const AGENT_COLUMNS: &[&str] = &["id", "name", "skills", "queues"];
const STRATEGIES: &[&str] = &["longest_idle", "most_skilled", "round_robin", "least_occupied"];
const CHANNELS: &[&str] = &["voice", "chat", "email", "sms"];

/// A row's fields, with its line number.
type Row = (usize, Vec<String>);

/// The rows of one file: the header, then each row with its line number. Lines that cannot
/// be read are reported.
fn rows(file: &str, text: &str, known: &[&str], report: &mut Report) -> Option<(Header, Vec<Row>)> {
    let mut lines = text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty() && !l.starts_with('#'));
    let Some((first, line)) = lines.next() else {
        report.add(file, Outcome::Rejected, "the file is empty; it needs a header row", None);
        return None;
    };
    let header = match fields(line, ',') {
        Ok(f) => Header::new(&f),
        Err(e) => {
            report.add("header", Outcome::Rejected, e, Some((file, first + 1)));
            return None;
        }
    };
    if header.column("id").is_none() {
        let detail = format!("the header has no id column; the columns are {}", known.join(", "));
        report.add("header", Outcome::Rejected, detail, Some((file, first + 1)));
        return None;
    }
    for name in header.names().iter().filter(|n| !known.contains(&n.as_str())) {
        let detail = format!("unknown column, left out; the columns are {}", known.join(", "));
        report.add(&format!("column {name}"), Outcome::NotTranslated, detail, Some((file, first + 1)));
    }
    let mut out = Vec::new();
    for (i, line) in lines {
        match fields(line, ',') {
            Ok(f) if f.len() == header.len() => out.push((i + 1, f)),
            Ok(f) => {
                let detail = format!("{} fields, the header has {}", f.len(), header.len());
                report.add("row", Outcome::Rejected, detail, Some((file, i + 1)));
            }
            Err(e) => report.add("row", Outcome::Rejected, e, Some((file, i + 1))),
        }
    }
    Some((header, out))
}

/// An id for `text`, reporting when it had to change.
fn id_of(text: &str, kind: &str, report: &mut Report, at: (&str, usize)) -> String {
    let id = slug_of(text);
    if id != text {
        let detail = format!("the id {text:?} became {id:?} (lowercase letters, digits and '-')");
        report.add(&format!("{kind} {text}"), Outcome::Approximated, detail, Some(at));
    }
    id
}

/// A `skill:level;skill:level` cell; bad entries are reported and left out.
fn levels(cell: &str, object: &str, report: &mut Report, at: (&str, usize)) -> Vec<(String, u8)> {
    let mut out = Vec::new();
    for entry in cell.split(';').map(str::trim).filter(|e| !e.is_empty()) {
        let (skill, level) = entry.split_once(':').unwrap_or((entry, "1"));
        match level.trim().parse::<u8>() {
            Ok(level @ 1..=5) => out.push((slug_of(skill.trim()), level)),
            _ => {
                let detail = format!("{entry:?}: a level is 1 to 5, written skill:level; left out");
                report.add(object, Outcome::Rejected, detail, Some(at));
            }
        }
    }
    out
}

/// Imports the generic CSV files into a tenant.
pub fn import(files: Files<'_>, tenant: &TenantInfo) -> Import {
    let mut report = Report::default();
    let mut draft = Draft::default();
    if let Some((file, text)) = files.skills
        && let Some((header, rows)) = rows(file, text, SKILL_COLUMNS, &mut report)
    {
        for (line, row) in rows {
            let Some(raw) = header.get(&row, "id") else {
                report.add("skill", Outcome::Rejected, "no id", Some((file, line)));
                continue;
            };
            let id = id_of(raw, "skill", &mut report, (file, line));
            if draft.skills.iter().any(|s| s.id == id) {
                let detail = format!("the id {id:?} is taken by an earlier skill; left out");
                report.add(&format!("skill {raw}"), Outcome::Rejected, detail, Some((file, line)));
                continue;
            }
            let name = header.get(&row, "name").map(str::to_owned);
            report.add(&format!("skill {raw}"), Outcome::Mapped, format!("skill {id}"), Some((file, line)));
            draft.skills.push(SkillDraft { id, name });
        }
    }
    // Skills are taken from the references when there is no skills file.
    let skills_given = files.skills.is_some();
    let known_skill = |skill: &str, draft: &mut Draft, report: &mut Report, object: &str, at: (&str, usize)| {
        if draft.skills.iter().any(|s| s.id == skill) {
            return true;
        }
        if skills_given {
            let detail = format!("unknown skill {skill:?} (not in the skills file); left out");
            report.add(object, Outcome::Rejected, detail, Some(at));
            return false;
        }
        draft.skills.push(SkillDraft { id: skill.to_owned(), name: None });
        true
    };
    if let Some((file, text)) = files.queues
        && let Some((header, rows)) = rows(file, text, QUEUE_COLUMNS, &mut report)
    {
        for (line, row) in rows {
            let at = (file, line);
            let Some(raw) = header.get(&row, "id") else {
                report.add("queue", Outcome::Rejected, "no id", Some(at));
                continue;
            };
            let object = format!("queue {raw}");
            let id = id_of(raw, "queue", &mut report, at);
            if draft.queues.iter().any(|q| q.id == id) {
                let detail = format!("the id {id:?} is taken by an earlier queue; left out");
                report.add(&object, Outcome::Rejected, detail, Some(at));
                continue;
            }
            let mut queue = QueueDraft {
                id: id.clone(),
                name: header.get(&row, "name").unwrap_or(raw).to_owned(),
                ..QueueDraft::default()
            };
            for channel in header.get(&row, "channels").unwrap_or("voice").split(';').map(str::trim) {
                if CHANNELS.contains(&channel) {
                    queue.channels.push(channel.to_owned());
                } else if !channel.is_empty() {
                    let detail = format!("unknown channel {channel:?}; the channels are {}", CHANNELS.join(", "));
                    report.add(&object, Outcome::Rejected, detail, Some(at));
                }
            }
            if queue.channels.is_empty() {
                queue.channels.push("voice".to_owned());
            }
            for (skill, level) in levels(header.get(&row, "skills").unwrap_or(""), &object, &mut report, at) {
                if known_skill(&skill, &mut draft, &mut report, &object, at) {
                    queue.skills.insert(skill, level);
                }
            }
            if let Some(strategy) = header.get(&row, "strategy") {
                match STRATEGIES.iter().find(|s| **s == strategy) {
                    Some(s) => queue.strategy = Some(s),
                    None => {
                        let detail =
                            format!("unknown strategy {strategy:?}; the strategies are {}", STRATEGIES.join(", "));
                        report.add(&object, Outcome::Rejected, detail, Some(at));
                    }
                }
            }
            let number = |column: &str, min: u64, max: u64, report: &mut Report| -> Option<u64> {
                let text = header.get(&row, column)?;
                match text.parse::<u64>() {
                    Ok(n) if (min..=max).contains(&n) => Some(n),
                    _ => {
                        let detail = format!("{column} {text:?} is not a whole number from {min} to {max}; left out");
                        report.add(&object, Outcome::Rejected, detail, Some(at));
                        None
                    }
                }
            };
            queue.priority = number("priority", 1, 10, &mut report).map(|p| p as u8);
            queue.offer_timeout_s = number("offer_timeout", 1, 600, &mut report);
            queue.wrap_up_s = number("wrap_up", 0, 3600, &mut report);
            if let Some(text) = header.get(&row, "service_level") {
                let parsed = text.split_once('/').and_then(|(p, s)| {
                    let p = p.trim().trim_end_matches('%').parse::<u8>().ok().filter(|p| (1..=100).contains(p))?;
                    let s = s.trim().trim_end_matches('s').parse::<u64>().ok().filter(|s| (1..=3600).contains(s))?;
                    Some((p, s))
                });
                match parsed {
                    Some(sl) => queue.service_level = Some(sl),
                    None => {
                        let detail = format!("service_level {text:?} is not PERCENT/SECONDS such as 80/20; left out");
                        report.add(&object, Outcome::Rejected, detail, Some(at));
                    }
                }
            }
            report.add(&object, Outcome::Mapped, format!("queue {id}"), Some(at));
            draft.queues.push(queue);
        }
    }
    if let Some((file, text)) = files.agents
        && let Some((header, rows)) = rows(file, text, AGENT_COLUMNS, &mut report)
    {
        for (line, row) in rows {
            let at = (file, line);
            let Some(raw) = header.get(&row, "id") else {
                report.add("agent", Outcome::Rejected, "no id", Some(at));
                continue;
            };
            let object = format!("agent {raw}");
            let id = id_of(raw, "agent", &mut report, at);
            if draft.agents.contains_key(&id) {
                let detail = format!("the id {id:?} is taken by an earlier agent; left out");
                report.add(&object, Outcome::Rejected, detail, Some(at));
                continue;
            }
            let mut agent =
                AgentDraft { name: header.get(&row, "name").unwrap_or(raw).to_owned(), ..AgentDraft::default() };
            for (skill, level) in levels(header.get(&row, "skills").unwrap_or(""), &object, &mut report, at) {
                if known_skill(&skill, &mut draft, &mut report, &object, at) {
                    agent.skills.insert(skill, level);
                }
            }
            for queue in header.get(&row, "queues").unwrap_or("").split(';').map(str::trim).filter(|q| !q.is_empty()) {
                let queue = slug_of(queue);
                if draft.queues.iter().any(|q| q.id == queue) {
                    agent.queues.push(queue);
                } else {
                    let detail = format!("unknown queue {queue:?} (not in the queues file); left out");
                    report.add(&object, Outcome::Rejected, detail, Some(at));
                }
            }
            report.add(&object, Outcome::Mapped, format!("agent {id}"), Some(at));
            draft.agents.insert(id, agent);
        }
    }
    Import { tenant_yaml: draft.write(tenant, "generic CSV files by `switchboard migrate import csv`"), report }
}
