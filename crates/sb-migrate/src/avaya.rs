//! Avaya Communication Manager: SAT `display` screens (hunt groups, agent login IDs, VDNs
//! and vectors, captured as text into one file) to a tenant file and contact flows.
//!
//! | Avaya | Switchboard |
//! |---|---|
//! | ACD hunt group (skill) | a skill and a voice queue requiring it |
//! | `Group Type` | strategy: `ucd-mia` longest_idle, `ead-mia` most_skilled; others approximated |
//! | `Service Level Target (% in sec)` | service_level (else `Acceptable Service Level (sec)` at 80%) |
//! | `Expected Call Handling Time (sec)` | expected_handle_time |
//! | agent login ID | an agent; skill level 1-16 (1 best) becomes proficiency 5-2 (four levels each) |
//! | VDN | a voice number entering the flow `vdn-EXT` |
//! | vector | the VDN's flow, its `1st`/`2nd`/`3rd` skills resolved against the VDN |
//!
//! Vector steps: `announcement` is a play node, `collect 1 digits` followed by digit tests a
//! menu, `collect N digits` a gather, `queue-to` a queue node (priorities l/m/h/t are 3, 5,
//! 7, 9), `check skill` after it an overflow step of that queue (after the waits between
//! them), `goto step`/`goto vector` and `route-to` a VDN of the export a branch,
//! `disconnect` a hangup after a play, `busy` and `stop` a hangup. Steps after the queue are
//! the treatment in queue (music and announcements come from the tenant's voice settings).
//! Conditional branches on staffing, waits or time, `adjunct routing`, `converse-on` and
//! transfers to other numbers are reported as not translated; the flow goes on with the
//! next step, as the vector does when a condition is false.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::dialplan::{Dialplan, FlowFile};
use crate::draft::{AgentDraft, Draft, QueueDraft, SkillDraft};
use crate::flowgen::Nodes;
use crate::report::{Outcome, Report};
use crate::yaml::scalar;
use crate::{Import, TenantInfo, slug_of};

/// One `display` screen (all its pages): its title, id and lines with their numbers.
#[derive(Debug, Default)]
struct Screen {
    title: String,
    id: String,
    line: usize,
    lines: Vec<(usize, String)>,
}

impl Screen {
    /// The value of a `label:` or `label?` field: the text after it up to two spaces, or the
    /// rest of the line when `whole`.
    fn field(&self, label: &str, whole: bool) -> Option<String> {
        for (_, line) in &self.lines {
            let Some(at) = line.find(label) else { continue };
            let rest = &line[at + label.len()..];
            let rest = rest.strip_prefix('*').unwrap_or(rest);
            let Some(rest) = rest.strip_prefix(':').or_else(|| rest.strip_prefix('?')) else { continue };
            let rest = rest.trim_start();
            let value = if whole {
                rest.split_whitespace().collect::<Vec<_>>().join(" ")
            } else {
                rest.split("  ").next().unwrap_or("").trim().to_owned()
            };
            return (!value.is_empty()).then_some(value);
        }
        None
    }
}

/// Splits the capture into screens, merging pages of one object.
fn screens(file: &str, text: &str, report: &mut Report) -> Vec<Screen> {
    let mut out: Vec<Screen> = Vec::new();
    let mut current: Option<usize> = None;
    let mut expect_title = false;
    let mut skipped_lists = false;
    for (i, line) in text.lines().enumerate() {
        let number = i + 1;
        let words: Vec<&str> = line.split_whitespace().collect();
        let is_command = matches!(words.first(), Some(&("display" | "change" | "list")));
        if is_command && words.len() >= 2 {
            let paged = words.len() >= 5 && words[words.len() - 4] == "Page" && words[words.len() - 2] == "of";
            if words[0] == "list" || !paged {
                if !skipped_lists {
                    let detail = "list screens are not read; the display screens carry the same objects";
                    report.add(&words.join(" "), Outcome::NotTranslated, detail, Some((file, number)));
                    skipped_lists = true;
                }
                current = None;
                continue;
            }
            let id = words.get(2).filter(|w| **w != "Page").map_or(String::new(), |w| (*w).to_owned());
            let kind = words[1].to_ascii_lowercase();
            let found = out.iter().position(|s| s.id == id && s.title.starts_with(&format!("{kind} ")));
            current = Some(match found {
                Some(ix) => ix,
                None => {
                    out.push(Screen { title: format!("{kind} "), id, line: number, lines: Vec::new() });
                    out.len() - 1
                }
            });
            expect_title = true;
            continue;
        }
        let Some(ix) = current else { continue };
        if expect_title && !line.trim().is_empty() {
            expect_title = false;
            if out[ix].title.ends_with(' ') {
                out[ix].title.push_str(line.trim());
            }
            continue;
        }
        if line.trim_start().starts_with("Command successfully completed") {
            current = None;
            continue;
        }
        out[ix].lines.push((number, line.to_owned()));
    }
    out
}

/// A hunt group as a queue.
#[derive(Debug, Clone)]
struct Group {
    number: String,
    id: String,
}

/// Switchboard's strategy for a hunt group type, and why it is an approximation.
fn strategy(group_type: &str) -> (&'static str, Option<&'static str>) {
    match group_type {
        "ucd-mia" => ("longest_idle", None),
        "ead-mia" => ("most_skilled", None),
        "ucd-loa" | "ead-loa" | "pad" => (
            "least_occupied",
            Some("Avaya picks the least occupied agent by its own measure; Switchboard by the capacity left"),
        ),
        _ => ("round_robin", Some("circular and direct department calling become agents taking turns")),
    }
}

/// Proficiency for an Avaya skill level (1 best, 16 worst).
fn proficiency(level: u32) -> u8 {
    (5 - (level.clamp(1, 16) - 1) / 4) as u8
}

/// The skill table of an agent's page 2: skill number, reserve level, skill level per row.
fn skill_table(screen: &Screen) -> Vec<(usize, String, Option<String>, Option<String>)> {
    let Some(header_at) = screen.lines.iter().position(|(_, l)| l.trim_start().starts_with("SN ")) else {
        return Vec::new();
    };
    let header = &screen.lines[header_at].1;
    // The halves: each SN with the RL, SL (and PA) after it.
    let mut halves: Vec<[Option<usize>; 3]> = Vec::new();
    let mut at = 0;
    while let Some(found) = header[at..].find("SN") {
        let sn = at + found;
        let next = header[sn + 2..].find("SN").map_or(header.len(), |n| sn + 2 + n);
        let column = |name: &str| header[sn..next].find(name).map(|o| sn + o);
        halves.push([Some(sn), column("RL"), column("SL")]);
        at = next.min(header.len());
        if at >= header.len() {
            break;
        }
    }
    let slice = |line: &str, from: usize| -> Option<String> {
        let end = (from + 4).min(line.len());
        let value = line.get(from.saturating_sub(1)..end)?.trim();
        let value = value.split_whitespace().next()?;
        (!value.is_empty() && value.bytes().all(|b| b.is_ascii_digit())).then(|| value.to_owned())
    };
    let mut rows = Vec::new();
    for (number, line) in &screen.lines[header_at + 1..] {
        if !line.trim_start().chars().next().is_some_and(|c| c.is_ascii_digit()) {
            continue;
        }
        for [sn, rl, sl] in &halves {
            let Some(skill) = sn.and_then(|o| slice(line, o)) else { continue };
            rows.push((*number, skill, rl.and_then(|o| slice(line, o)), sl.and_then(|o| slice(line, o))));
        }
    }
    rows
}

/// Imports the SAT capture `text` (read from `file`): the tenant file, and the VDNs' flows
/// and numbers.
pub fn import_sat(file: &str, text: &str, tenant: &TenantInfo) -> (Import, Dialplan) {
    let mut report = Report::default();
    let screens = screens(file, text, &mut report);
    let mut draft = Draft::default();
    let mut groups: Vec<Group> = Vec::new();
    for s in screens.iter().filter(|s| s.title.ends_with("HUNT GROUP")) {
        let at = Some((file, s.line));
        let number = s.field("Group Number", false).unwrap_or_else(|| s.id.clone());
        let name = s.field("Group Name", false).unwrap_or_else(|| format!("hunt group {number}"));
        let object = format!("hunt group {number} ({name})");
        if s.field("ACD", false).as_deref() != Some("y") {
            report.add(&object, Outcome::NotTranslated, "not an ACD group; only ACD groups are queues", at);
            continue;
        }
        let id = slug_of(&name);
        if groups.iter().any(|g| g.id == id) {
            report.add(&object, Outcome::Rejected, format!("its id {id:?} is taken by an earlier group; left out"), at);
            continue;
        }
        let mut queue = QueueDraft { id: id.clone(), name: name.clone(), ..QueueDraft::default() };
        queue.skills.insert(id.clone(), 1);
        let group_type = s.field("Group Type", false).unwrap_or_default();
        let (ours, why) = strategy(&group_type);
        queue.strategy = Some(ours);
        match why {
            None => report.add(
                &object,
                Outcome::Mapped,
                format!("queue and skill {id}, group type {group_type} is {ours}"),
                at,
            ),
            Some(why) => report.add(
                &object,
                Outcome::Approximated,
                format!("queue and skill {id}, group type {group_type} is {ours}: {why}"),
                at,
            ),
        }
        let target = s.field("Service Level Target (% in sec)", false).and_then(|t| {
            let (percent, seconds) = t.split_once(" in ")?;
            Some((percent.trim().parse::<u8>().ok()?, seconds.trim().parse::<u64>().ok()?))
        });
        let acceptable = s.field("Acceptable Service Level (sec)", false).and_then(|t| t.parse::<u64>().ok());
        queue.service_level =
            target.or(acceptable.map(|s| (80, s))).filter(|(p, s)| (1..=100).contains(p) && (1..=3600).contains(s));
        queue.expected_handle_time_s =
            s.field("Expected Call Handling Time (sec)", false).and_then(|t| t.parse::<u64>().ok()).filter(|t| *t > 0);
        if let Some(ext) = s.field("Supervisor Extension", false) {
            let detail = format!("supervisor extension {ext}: supervisors are users with the supervisor role");
            report.add(&object, Outcome::NotTranslated, detail, at);
        }
        groups.push(Group { number, id: id.clone() });
        draft.skills.push(SkillDraft { id, name: Some(name) });
        draft.queues.push(queue);
    }
    let group_id = |number: &str| groups.iter().find(|g| g.number == number).map(|g| g.id.clone());
    let mut scaled = false;
    for s in screens.iter().filter(|s| s.title.ends_with("AGENT LOGINID")) {
        let at = Some((file, s.line));
        let login = s.field("Login ID", false).unwrap_or_else(|| s.id.clone());
        let object = format!("agent {login}");
        if s.field("AAS", false).as_deref() == Some("y") {
            report.add(&object, Outcome::NotTranslated, "an auto-available port, not a person", at);
            continue;
        }
        let mut agent =
            AgentDraft { name: s.field("Name", false).unwrap_or_else(|| login.clone()), ..AgentDraft::default() };
        for (line, skill, reserve, level) in skill_table(s) {
            let at = Some((file, line));
            let Some(id) = group_id(&skill) else {
                let detail = format!("skill {skill} is not an ACD hunt group of the export; left out");
                report.add(&object, Outcome::NotTranslated, detail, at);
                continue;
            };
            let level = match (level.and_then(|l| l.parse::<u32>().ok()), reserve) {
                (Some(level), _) => {
                    scaled = true;
                    proficiency(level)
                }
                (None, Some(r)) => {
                    let detail = format!(
                        "skill {skill} at reserve level {r} only: proficiency 1 (an overflow step of the queue comes closer)"
                    );
                    report.add(&object, Outcome::Approximated, detail, at);
                    1
                }
                (None, None) => {
                    report.add(&object, Outcome::Rejected, format!("skill {skill} without a level; left out"), at);
                    continue;
                }
            };
            agent.skills.insert(id.clone(), level);
            agent.queues.push(id);
        }
        match s.field("Call Handling Preference", false).as_deref() {
            Some("greatest-need") | Some("percent-allocation") => {
                let preference = s.field("Call Handling Preference", false).unwrap_or_default();
                let detail =
                    format!("call handling preference {preference}: Switchboard offers by each queue's strategy");
                report.add(&object, Outcome::Approximated, detail, at);
            }
            _ => {}
        }
        report.add(
            &object,
            Outcome::Mapped,
            format!("agent {} with {} skills", slug_of(&login), agent.skills.len()),
            at,
        );
        draft.agents.insert(slug_of(&login), agent);
    }
    if scaled {
        let detail = "skill levels 1-16 (1 best) become proficiency 5 (levels 1-4), 4 (5-8), 3 (9-12) and 2 (13-16)";
        report.add("skill levels", Outcome::Approximated, detail, None);
    }
    let vectors: BTreeMap<String, Vec<(usize, u32, String)>> =
        screens.iter().filter(|s| s.title.ends_with("CALL VECTOR")).map(|s| (s.id.clone(), steps(s))).collect();
    let vdns: Vec<Vdn> = screens
        .iter()
        .filter(|s| s.title.ends_with("VECTOR DIRECTORY NUMBER"))
        .filter_map(|s| vdn(file, s, &groups, &mut report))
        .collect();
    let mut dialplan = Dialplan::default();
    let mut overflows: BTreeMap<String, Vec<(u64, String)>> = BTreeMap::new();
    for v in &vdns {
        let mut t = VectorFlow {
            file,
            groups: &groups,
            vdns: &vdns,
            vectors: &vectors,
            report: &mut report,
            flow: Nodes::default(),
            overflows: &mut overflows,
        };
        let start = t.reference((v.extension.clone(), v.vector.clone(), 1));
        while let Some(place) = t.flow.work.pop_front() {
            if !t.flow.is_alias(&node_id(&place)) {
                t.step(place);
            }
        }
        let (start, nodes) = t.flow.finish(&start);
        let id = format!("vdn-{}", slug_of(&v.extension));
        let mut yaml = format!(
            "# Imported from {file}, VDN {} ({}), vector {}: see the migration report.\nflow: {id}\nversion: 1\nstart: {start}\nnodes:\n",
            v.extension, v.name, v.vector
        );
        for (node, text) in &nodes {
            let _ = writeln!(yaml, "  {node}: {text}");
        }
        dialplan.flows.push(FlowFile { id: id.clone(), yaml });
        dialplan.numbers.push((v.extension.clone(), id));
    }
    for (queue, steps) in overflows {
        if let Some(q) = draft.queues.iter_mut().find(|q| q.id == queue) {
            for (after, to) in steps {
                if to != queue && !q.overflow.iter().any(|(_, t)| *t == to) {
                    q.overflow.push((after.max(1), to));
                }
            }
            q.overflow.sort();
        }
    }
    let import = Import {
        tenant_yaml: draft.write(tenant, "Avaya CM SAT screens by `switchboard migrate import avaya`"),
        report,
    };
    (import, dialplan)
}

/// A VDN with its vector and the hunt groups its ordinal skills name.
#[derive(Debug, Clone)]
struct Vdn {
    extension: String,
    name: String,
    vector: String,
    skills: [Option<String>; 3],
}

fn vdn(file: &str, s: &Screen, groups: &[Group], report: &mut Report) -> Option<Vdn> {
    let at = Some((file, s.line));
    let extension = s.field("Extension", false).unwrap_or_else(|| s.id.clone());
    let name = s.field("Name", false).unwrap_or_default();
    let object = format!("VDN {extension} ({name})");
    let destination = s.field("Destination", true).unwrap_or_default();
    let Some(vector) = destination.strip_prefix("Vector Number ").map(|v| v.trim().to_owned()) else {
        let detail = format!("destination {destination:?} is not a vector; left out");
        report.add(&object, Outcome::NotTranslated, detail, at);
        return None;
    };
    let skill = |label: &str| {
        let number = s.field(label, false)?;
        groups.iter().find(|g| g.number == number).map(|g| g.id.clone())
    };
    report.add(
        &object,
        Outcome::Mapped,
        format!("the number {extension} enters the flow vdn-{}", slug_of(&extension)),
        at,
    );
    Some(Vdn { extension, name, vector, skills: [skill("1st Skill"), skill("2nd Skill"), skill("3rd Skill")] })
}

/// A vector's steps: line, number and the command with its spaces collapsed.
fn steps(s: &Screen) -> Vec<(usize, u32, String)> {
    s.lines
        .iter()
        .filter_map(|(line, text)| {
            let mut words = text.split_whitespace();
            let first = words.next()?;
            if first.len() != 2 || !first.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let command = words.collect::<Vec<_>>().join(" ");
            let number = first.parse().ok()?;
            (!command.is_empty()).then_some((*line, number, command))
        })
        .collect()
}

/// Where an unconditional `goto step K` or `goto vector V [@step M]` at `place` leads;
/// `None` for any other step (a conditional goto among them).
fn goto(place: &Place, words: &[&str]) -> Option<Place> {
    match words {
        ["goto", "step", k, "if", "unconditionally"] => {
            Some((place.0.clone(), place.1.clone(), k.parse().unwrap_or(0)))
        }
        ["goto", "vector", v, rest @ ..] if rest.ends_with(&["if", "unconditionally"]) => {
            let step = rest
                .iter()
                .position(|w| *w == "@step")
                .and_then(|i| rest.get(i + 1))
                .and_then(|s| s.parse().ok())
                .unwrap_or(1);
            Some((place.0.clone(), (*v).to_owned(), step))
        }
        _ => None,
    }
}

/// A place in the vectors: the VDN (for its skills), the vector and the step.
type Place = (String, String, u32);

fn node_id(place: &Place) -> String {
    format!("vdn{}-v{}-{:02}", slug_of(&place.0), slug_of(&place.1), place.2)
}

struct VectorFlow<'a> {
    file: &'a str,
    groups: &'a [Group],
    vdns: &'a [Vdn],
    vectors: &'a BTreeMap<String, Vec<(usize, u32, String)>>,
    report: &'a mut Report,
    flow: Nodes<Place>,
    /// Per queue: overflow queues with the wait after which they help.
    overflows: &'a mut BTreeMap<String, Vec<(u64, String)>>,
}

impl VectorFlow<'_> {
    fn reference(&mut self, place: Place) -> String {
        self.flow.reference(node_id(&place), place)
    }

    fn note(&mut self, object: &str, outcome: Outcome, detail: impl Into<String>, line: usize) {
        self.report.add_once(object, outcome, detail, Some((self.file, line)));
    }

    /// The queue of a `skill` argument: a number or 1st/2nd/3rd of the VDN.
    fn skill(&self, vdn: &str, word: &str) -> Option<String> {
        let v = self.vdns.iter().find(|v| v.extension == vdn)?;
        let ordinal = match word {
            "1st" => Some(0),
            "2nd" => Some(1),
            "3rd" => Some(2),
            _ => None,
        };
        match ordinal {
            Some(i) => v.skills[i].clone(),
            None => self.groups.iter().find(|g| g.number == word).map(|g| g.id.clone()),
        }
    }

    /// The step after `place` in its vector, if any.
    fn next(&self, place: &Place) -> Option<Place> {
        let steps = self.vectors.get(&place.1)?;
        steps.iter().map(|(_, n, _)| *n).filter(|n| *n > place.2).min().map(|n| (place.0.clone(), place.1.clone(), n))
    }

    fn command(&self, place: &Place) -> Option<(usize, String)> {
        let steps = self.vectors.get(&place.1)?;
        steps.iter().find(|(_, n, _)| *n == place.2).map(|(line, _, c)| (*line, c.clone()))
    }

    /// The node for the step after `place`, or a hangup at the end of the vector.
    fn after(&mut self, place: &Place) -> String {
        match self.next(place) {
            Some(next) => self.reference(next),
            None => {
                let id = format!("{}-end", node_id(place));
                self.flow.push((id.clone(), "{hangup: true}".to_owned()));
                id
            }
        }
    }

    fn step(&mut self, place: Place) {
        let id = node_id(&place);
        let Some((line, command)) = self.command(&place) else {
            // A step number the vector lacks (a goto past the end): the call ends.
            self.flow.push((id, "{hangup: true}".to_owned()));
            return;
        };
        let object = format!("vector {} step {:02} ({command})", place.1, place.2);
        let words: Vec<&str> = command.split_whitespace().collect();
        if let Some(target) = goto(&place, &words) {
            let (vector, step) = (target.1.clone(), target.2);
            if !self.vectors.contains_key(&vector) {
                let next = self.after(&place);
                self.flow.alias(id, next);
                self.note(&object, Outcome::NotTranslated, format!("vector {vector} is not in the export"), line);
                return;
            }
            let target = self.reference(target);
            self.flow.alias(id, target);
            if words[1] == "vector" {
                self.note(&object, Outcome::Mapped, format!("goes on at vector {vector} step {step}"), line);
            }
            return;
        }
        match words.as_slice() {
            ["wait-time", ..] => {
                let next = self.after(&place);
                self.flow.alias(id, next);
                self.note(
                    &object,
                    Outcome::Approximated,
                    "no node: the caller goes on at once (ringback or music while the flow runs)",
                    line,
                );
            }
            ["announcement", ext, ..] => {
                let next = self.after(&place);
                self.flow.push((id, format!("{{play: {}, next: {next}}}", scalar(&format!("sounds/annc-{ext}.wav")))));
                self.note(
                    &object,
                    Outcome::Mapped,
                    format!("a play node of sounds/annc-{ext}.wav (the recording is not in the export)"),
                    line,
                );
            }
            ["collect", n, "digits", "after", "announcement", ext, ..] => {
                let n: u32 = n.parse().unwrap_or(1);
                let prompt =
                    if *ext == "none" { "sounds/silence.wav".to_owned() } else { format!("sounds/annc-{ext}.wav") };
                if n == 1 {
                    self.menu(place, &prompt, line, &object);
                } else {
                    let into = words
                        .iter()
                        .position(|w| *w == "for")
                        .and_then(|i| words.get(i + 1))
                        .filter(|v| **v != "none")
                        .map_or("digits".to_owned(), |v| format!("digits_{}", v.to_ascii_lowercase()));
                    let next = self.after(&place);
                    let node = format!(
                        "{{gather: {{prompt: {}, max_digits: {}, timeout: 10s, into: {into}}}, next: {next}, no_input: {next}}}",
                        scalar(&prompt),
                        n.clamp(1, 16)
                    );
                    self.flow.push((id, node));
                    self.note(
                        &object,
                        Outcome::Approximated,
                        format!("a gather node into {into}; later tests of the digits are not translated"),
                        line,
                    );
                }
            }
            ["queue-to", "skill", skill, "pri", priority, ..] | ["check", "skill", skill, "pri", priority, ..] => {
                let Some(queue) = self.skill(&place.0, skill) else {
                    let next = self.after(&place);
                    self.flow.alias(id, next);
                    self.note(
                        &object,
                        Outcome::NotTranslated,
                        format!("skill {skill} is not an ACD hunt group of the export (or the VDN leaves it blank)"),
                        line,
                    );
                    return;
                };
                let priority = match *priority {
                    "l" => 3,
                    "h" => 7,
                    "t" => 9,
                    _ => 5,
                };
                let end = format!("{id}-end");
                self.flow.push((id, format!("{{queue: {queue}, priority: {priority}, next_on_failure: {end}}}")));
                self.flow.push((end, "{hangup: true}".to_owned()));
                let detail = if words[0] == "check" {
                    format!("a queue node for {queue} (priority {priority}); the condition is dropped")
                } else {
                    format!("a queue node for {queue} (priority {priority})")
                };
                let outcome = if words[0] == "check" { Outcome::Approximated } else { Outcome::Mapped };
                self.note(&object, outcome, detail, line);
                self.treatment(&place, &queue);
            }
            ["route-to", "number", number, .., "if", "unconditionally"] => {
                let target = self.vdns.iter().find(|v| v.extension == *number).cloned();
                match target {
                    Some(v) => {
                        let target = self.reference((v.extension.clone(), v.vector.clone(), 1));
                        self.flow.alias(id, target);
                        self.note(&object, Outcome::Mapped, format!("goes on as VDN {number}"), line);
                    }
                    None => {
                        let next = self.after(&place);
                        self.flow.alias(id, next);
                        self.note(
                            &object,
                            Outcome::NotTranslated,
                            format!(
                                "a transfer to {number}, which is no VDN of the export; flows have no transfer node"
                            ),
                            line,
                        );
                    }
                }
            }
            ["disconnect", "after", "announcement", ext] => {
                if *ext == "none" {
                    self.flow.push((id, "{hangup: true}".to_owned()));
                } else {
                    let end = format!("{id}-end");
                    self.flow
                        .push((id, format!("{{play: {}, next: {end}}}", scalar(&format!("sounds/annc-{ext}.wav")))));
                    self.flow.push((end, "{hangup: true}".to_owned()));
                }
                self.note(&object, Outcome::Mapped, "a hangup (after the announcement)", line);
            }
            ["busy"] | ["stop"] => {
                self.flow.push((id, "{hangup: true}".to_owned()));
                if words[0] == "busy" {
                    self.note(&object, Outcome::Approximated, "a hangup; the caller hears no busy tone", line);
                }
            }
            _ => {
                let next = self.after(&place);
                self.flow.alias(id, next);
                let detail = match words.first().copied() {
                    Some("goto" | "route-to") => {
                        "a condition on digits, staffing, waits or time has no counterpart; the flow goes on as if it were false"
                    }
                    Some("adjunct" | "converse-on" | "consider" | "reply-best" | "messaging") => {
                        "an adjunct, VRU or best-service step has no counterpart; the next step follows"
                    }
                    _ => "no counterpart in contact flows; the next step follows",
                };
                self.note(&object, Outcome::NotTranslated, detail, line);
            }
        }
    }

    /// A menu: `collect 1 digits` at `place`, then the steps testing the digit.
    fn menu(&mut self, place: Place, prompt: &str, line: usize, object: &str) {
        let id = node_id(&place);
        let mut options: Vec<(String, String)> = Vec::new();
        let mut cursor = self.next(&place);
        while let Some(p) = cursor.clone() {
            let Some((test_line, command)) = self.command(&p) else { break };
            let words: Vec<&str> = command.split_whitespace().collect();
            let digit = match words.as_slice() {
                [.., "if", "digit" | "digits", "=", d] if d.len() == 1 => d.to_string(),
                _ => break,
            };
            let target = match words.as_slice() {
                ["route-to", "number", number, ..] => {
                    match self.vdns.iter().find(|v| v.extension == *number).cloned() {
                        Some(v) => Some(self.reference((v.extension.clone(), v.vector.clone(), 1))),
                        None => None,
                    }
                }
                ["goto", "step", k, ..] => Some(self.reference((p.0.clone(), p.1.clone(), k.parse().unwrap_or(0)))),
                _ => None,
            };
            match target {
                Some(t) => {
                    let test = format!("vector {} step {:02} ({command})", p.1, p.2);
                    self.note(&test, Outcome::Mapped, format!("menu option {digit}"), test_line);
                    options.push((digit, t));
                }
                None => {
                    let test = format!("vector {} step {:02} ({command})", p.1, p.2);
                    self.note(
                        &test,
                        Outcome::NotTranslated,
                        "a transfer to a number that is no VDN of the export; no option",
                        test_line,
                    );
                }
            }
            cursor = self.next(&p);
        }
        let fallback = match cursor {
            Some(p) => self.reference(p),
            None => {
                let end = format!("{id}-end");
                self.flow.push((end.clone(), "{hangup: true}".to_owned()));
                end
            }
        };
        if options.is_empty() {
            self.flow.push((id, format!("{{play: {}, next: {fallback}}}", scalar(prompt))));
            self.note(object, Outcome::Approximated, "digits collected but never tested: a play node", line);
            return;
        }
        let options = options.iter().map(|(d, t)| format!("{}: {t}", scalar(d))).collect::<Vec<_>>().join(", ");
        let node = format!(
            "{{menu: {{prompt: {}, timeout: 10s, retries: 0}}, options: {{{options}}}, fallback: {fallback}}}",
            scalar(prompt)
        );
        self.flow.push((id, node));
        self.note(object, Outcome::Mapped, "a menu; a digit no step tests goes on with the vector, as in Avaya", line);
    }

    /// The steps after a queue-to: in-queue treatment; `check skill` becomes an overflow of
    /// the queue after the waits before it.
    fn treatment(&mut self, place: &Place, queue: &str) {
        let mut waited = 0u64;
        let mut cursor = self.next(place);
        let mut seen = std::collections::HashSet::new();
        while let Some(p) = cursor {
            if !seen.insert(p.clone()) {
                break;
            }
            let Some((line, command)) = self.command(&p) else { break };
            let words: Vec<&str> = command.split_whitespace().collect();
            let object = format!("vector {} step {:02} ({command})", p.1, p.2);
            cursor = self.next(&p);
            if let Some(target) = goto(&p, &words) {
                cursor = Some(target);
                continue;
            }
            match words.as_slice() {
                ["wait-time", n, unit, ..] => {
                    let n: u64 = n.parse().unwrap_or(0);
                    waited += match *unit {
                        "mins" => n * 60,
                        "hrs" => n * 3600,
                        _ => n,
                    };
                    self.note(
                        &object,
                        Outcome::Approximated,
                        "treatment in queue: music on hold from voice.music_on_hold",
                        line,
                    );
                }
                ["announcement", ..] => {
                    self.note(
                        &object,
                        Outcome::Approximated,
                        "treatment in queue: announcements come from voice.announcements",
                        line,
                    );
                }
                ["check", "skill", skill, ..] => match self.skill(&p.0, skill) {
                    Some(other) => {
                        self.overflows.entry(queue.to_owned()).or_default().push((waited, other.clone()));
                        let detail = format!(
                            "an overflow step of queue {queue}: after {waited}s, queue {other} helps (the condition is dropped)"
                        );
                        self.note(&object, Outcome::Approximated, detail, line);
                    }
                    None => self.note(
                        &object,
                        Outcome::NotTranslated,
                        format!("skill {skill} is not an ACD hunt group of the export"),
                        line,
                    ),
                },
                ["stop"] | ["busy"] | ["disconnect", ..] => break,
                _ => self.note(&object, Outcome::NotTranslated, "treatment in queue without a counterpart", line),
            }
        }
    }
}
