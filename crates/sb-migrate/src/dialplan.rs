//! Asterisk: IVR menus of `extensions.conf` to contact flows.
//!
//! A context whose `s` extension waits for a digit (`Background()` then `WaitExten()`) is an
//! IVR menu and becomes a flow of the same name. Its one-key extensions (`0`-`9`, `*`, `#`)
//! are the menu's options, `i` (invalid) and `t` (timeout) its retry branches. Each
//! extension's applications, in priority order, become a chain of nodes:
//!
//! | dialplan                         | flow node                                        |
//! |----------------------------------|--------------------------------------------------|
//! | `Playback(a&b)`                  | `play`, one per file                             |
//! | `Background(...)` + `WaitExten(n)` | `menu` (the last file is its prompt), timeout n s |
//! | `Read(var,prompt,max,,,timeout)` | `gather`                                         |
//! | `Queue(name)`                    | `queue`; what follows is its `next_on_failure`   |
//! | `VoiceMail(box)`                 | `voicemail`                                      |
//! | `Set(var=value)`                 | `set`                                            |
//! | `Goto(...)`                      | the branch goes to the target's node             |
//! | `Hangup()`, the end of the steps | `hangup`                                         |
//!
//! `Answer`, `Ringing`, `Progress`, `NoOp` and `Set(TIMEOUT(...))` need no node. Other
//! applications (`Dial`, `GotoIf`, `GotoIfTime`, `Gosub`, ...) are reported as not translated
//! and skipped: the chain goes on with the next step. Contexts reached by `Goto` become nodes
//! of the same flow (their ids start with the context's name). An extension of another
//! context that is a phone number and goes straight to a menu becomes one of the tenant's
//! `voice.numbers`. Sound files `custom/welcome` become `sounds/custom/welcome.wav`.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::asterisk::parse_conf;
use crate::flowgen::Nodes;
use crate::report::{Outcome, Report};
use crate::slug_of;
use crate::yaml::scalar;

/// A flow made of a menu context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowFile {
    /// The flow's id, also the file's stem (`ivr-main` → `ivr-main.yaml`).
    pub id: String,
    pub yaml: String,
}

/// What an `extensions.conf` gave.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Dialplan {
    pub flows: Vec<FlowFile>,
    /// Numbers dialled (DNIS) and the flow's id each one enters.
    pub numbers: Vec<(String, String)>,
}

/// One step of an extension: its application and arguments.
#[derive(Debug, Clone)]
struct Step {
    label: Option<String>,
    app: String,
    args: String,
    line: usize,
}

/// A context: its extensions' steps in priority order.
#[derive(Debug, Default)]
struct Context {
    name: String,
    line: usize,
    extensions: BTreeMap<String, Vec<Step>>,
}

/// Where a branch goes: a context, an extension and a step of it.
type Place = (String, String, usize);

/// Reads the dialplan's contexts; malformed `exten` lines are rejected in the report.
fn contexts(file: &str, text: &str, report: &mut Report) -> Vec<Context> {
    let mut out = Vec::new();
    for section in parse_conf(file, text, report) {
        let mut context = Context { name: section.name.clone(), line: section.line, ..Context::default() };
        let mut last: Option<String> = None;
        for s in &section.settings {
            let at = Some((file, s.line));
            let object = format!("[{}] {} => {}", section.name, s.key, s.value);
            let (extension, rest) = match s.key.as_str() {
                "exten" => match s.value.split_once(',') {
                    Some((e, rest)) => (e.trim().to_owned(), rest),
                    None => {
                        report.add(&object, Outcome::Rejected, "expected exten => EXTENSION,PRIORITY,APPLICATION", at);
                        continue;
                    }
                },
                "same" => match &last {
                    Some(e) => (e.clone(), s.value.as_str()),
                    None => {
                        report.add(&object, Outcome::Rejected, "same => before any exten =>", at);
                        continue;
                    }
                },
                "include" | "switch" | "ignorepat" => {
                    let detail = "context inclusion is not followed; the included context's extensions are not options";
                    report.add(&object, Outcome::NotTranslated, detail, at);
                    continue;
                }
                _ => {
                    report.add(&object, Outcome::NotTranslated, "not a dialplan line Switchboard reads", at);
                    continue;
                }
            };
            let Some((priority, application)) = rest.split_once(',') else {
                report.add(&object, Outcome::Rejected, "expected PRIORITY,APPLICATION(ARGUMENTS)", at);
                continue;
            };
            let priority = priority.trim();
            let (number, label) = match priority.split_once('(') {
                Some((p, l)) => (p, Some(l.trim_end_matches(')').to_owned())),
                None => (priority, None),
            };
            if number == "hint" {
                continue;
            }
            if number != "n" && number.parse::<u32>().is_err() {
                report.add(&object, Outcome::Rejected, format!("the priority {priority:?} is not a number or n"), at);
                continue;
            }
            let application = application.trim();
            let (app, args) = match application.split_once('(') {
                Some((app, args)) => (app.trim(), args.strip_suffix(')').unwrap_or(args)),
                None => (application, ""),
            };
            last = Some(extension.clone());
            context.extensions.entry(extension).or_default().push(Step {
                label,
                app: app.to_ascii_lowercase(),
                args: args.to_owned(),
                line: s.line,
            });
        }
        out.push(context);
    }
    out
}

/// The last `Set(TIMEOUT(response)=N)` among `steps`, in seconds.
fn response_timeout(steps: &[Step]) -> Option<u64> {
    steps.iter().rev().find_map(|s| {
        let (what, value) = s.args.split_once('=')?;
        (s.app == "set" && what.to_ascii_lowercase().replace(' ', "") == "timeout(response)")
            .then(|| value.trim().parse::<f64>().ok().map(|v| v.round() as u64))
            .flatten()
    })
}

/// A keypad key an extension stands for, if it is one.
fn key_of(extension: &str) -> Option<&str> {
    matches!(extension, "0" | "1" | "2" | "3" | "4" | "5" | "6" | "7" | "8" | "9" | "*" | "#").then_some(extension)
}

/// A node id for a place.
fn node_id(place: &Place) -> String {
    let ext = match place.1.as_str() {
        "*" => "star".to_owned(),
        "#" => "hash".to_owned(),
        "i" => "invalid".to_owned(),
        "t" => "timeout".to_owned(),
        other => slug_of(other),
    };
    let base = format!("{}-{ext}", slug_of(&place.0));
    if place.2 == 0 { base } else { format!("{base}-{}", place.2 + 1) }
}

/// A prompt's file for an Asterisk sound name.
fn sound(name: &str) -> String {
    let name = name.trim();
    if name.ends_with(".wav") { format!("sounds/{name}") } else { format!("sounds/{name}.wav") }
}

/// A variable name for an Asterisk one (letters, digits and '_', lowercase).
fn variable(name: &str) -> String {
    let v: String =
        name.trim().chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' }).collect();
    if v.starts_with(|c: char| c.is_ascii_alphabetic()) { v } else { format!("v_{v}") }
}

struct Translator<'a> {
    file: &'a str,
    contexts: &'a [Context],
    report: &'a mut Report,
    /// The flow's nodes; steps that need no node of their own, and `Goto`s, are aliases.
    flow: Nodes<Place>,
}

impl Translator<'_> {
    /// Adds to the report once, however many flows reach the line.
    fn note(&mut self, object: &str, outcome: Outcome, detail: impl Into<String>, source: Option<(&str, usize)>) {
        self.report.add_once(object, outcome, detail, source);
    }

    fn context(&self, name: &str) -> Option<&Context> {
        self.contexts.iter().find(|c| c.name == name)
    }

    fn steps(&self, place: &Place) -> Option<&[Step]> {
        self.context(&place.0)?.extensions.get(&place.1).map(Vec::as_slice)
    }

    /// The node a place starts with, queued for translation.
    fn reference(&mut self, place: Place) -> String {
        self.flow.reference(node_id(&place), place)
    }

    /// Where `Goto(args)` in `context` and `extension` leads, if the dialplan has it.
    fn goto(&mut self, args: &str, here: &Place, line: usize) -> Option<Place> {
        let parts: Vec<&str> = args.split(',').map(str::trim).collect();
        let (context, extension, priority) = match parts.as_slice() {
            [p] => (here.0.as_str(), here.1.as_str(), *p),
            [e, p] => (here.0.as_str(), *e, *p),
            [c, e, p] => (*c, *e, *p),
            _ => ("", "", ""),
        };
        let object = format!("[{}] Goto({args})", here.0);
        let Some(ctx) = self.context(context) else {
            let detail = format!("context {context:?} is not in this file; the call hangs up there");
            self.note(&object, Outcome::NotTranslated, detail, Some((self.file, line)));
            return None;
        };
        let Some(steps) = ctx.extensions.get(extension) else {
            let detail = format!("extension {extension:?} of [{context}] is not in this file; the call hangs up there");
            self.note(&object, Outcome::NotTranslated, detail, Some((self.file, line)));
            return None;
        };
        let index = match priority.parse::<usize>() {
            Ok(n) if n >= 1 && n <= steps.len() => Some(n - 1),
            Ok(_) => None,
            Err(_) => steps.iter().position(|s| s.label.as_deref() == Some(priority)),
        };
        let Some(index) = index else {
            let detail =
                format!("priority {priority:?} of {extension} in [{context}] is not there; the call hangs up there");
            self.note(&object, Outcome::NotTranslated, detail, Some((self.file, line)));
            return None;
        };
        Some((context.to_owned(), extension.to_owned(), index))
    }

    /// Translates the chain that starts at `place`, writing its nodes.
    fn chain(&mut self, place: Place) {
        let Some(steps) = self.steps(&place).map(<[Step]>::to_vec) else {
            self.flow.push((node_id(&place), "{hangup: true}".to_owned()));
            return;
        };
        let (context, extension, index) = place.clone();
        let mut id = node_id(&place);
        let mut i = index;
        // Timeout of the next menu, from Set(TIMEOUT(response)=n).
        let mut timeout: Option<u64> = None;
        loop {
            let here: Place = (context.clone(), extension.clone(), i);
            let here_id = node_id(&here);
            if here_id != id {
                // This step's place is the node being built (the steps before needed none).
                self.flow.alias(here_id, id.clone());
            }
            let Some(step) = steps.get(i) else {
                self.flow.push((id, "{hangup: true}".to_owned()));
                return;
            };
            let at = Some((self.file, step.line));
            let object = format!("[{context}] {extension},{}: {}({})", i + 1, step.app, step.args);
            let next_place: Place = (context.clone(), extension.clone(), i + 1);
            match step.app.as_str() {
                "answer" | "ringing" | "progress" | "noop" | "verbose" | "log" => {}
                "wait" => {
                    let detail = "a pause; flows have no silent pause, so the next node follows at once";
                    self.note(&object, Outcome::Approximated, detail, at);
                }
                "set" if step.args.to_ascii_uppercase().starts_with("TIMEOUT(") => {
                    let (what, value) = step.args.split_once('=').unwrap_or(("", ""));
                    if what.to_ascii_lowercase().contains("response") {
                        timeout = value.trim().parse().ok();
                    }
                }
                "set" => {
                    let Some((name, value)) = step.args.split_once('=') else {
                        self.note(&object, Outcome::Rejected, "expected Set(NAME=VALUE)", at);
                        i += 1;
                        continue;
                    };
                    if name.contains('(') {
                        let detail = "a dialplan function; the flow has no counterpart";
                        self.note(&object, Outcome::NotTranslated, detail, at);
                    } else {
                        let next = self.reference(next_place.clone());
                        let node = format!("{{set: {{{}: {}}}, next: {next}}}", variable(name), scalar(value.trim()));
                        self.flow.push((id, node));
                        self.note(&object, Outcome::Mapped, format!("a set node of variable {}", variable(name)), at);
                        return;
                    }
                }
                "playback" | "background" => {
                    let files: Vec<&str> =
                        step.args.split(',').next().unwrap_or("").split('&').filter(|f| !f.trim().is_empty()).collect();
                    let menu_follows = step.app == "background"
                        && steps[i + 1..]
                            .iter()
                            .take_while(|s| s.app != "background" && s.app != "playback")
                            .any(|s| s.app == "waitexten");
                    if files.is_empty() {
                        self.note(&object, Outcome::Rejected, "no sound file", at);
                        i += 1;
                        continue;
                    }
                    if menu_follows {
                        // The files before the last are played first; the last is the menu's prompt.
                        let wait =
                            steps[i + 1..].iter().position(|s| s.app == "waitexten").map(|k| i + 1 + k).unwrap_or(i);
                        let seconds = steps[wait]
                            .args
                            .trim()
                            .parse::<f64>()
                            .ok()
                            .map(|s| s.round() as u64)
                            .or(timeout)
                            .or_else(|| response_timeout(&steps[..i]))
                            .unwrap_or(10);
                        for (k, f) in files[..files.len() - 1].iter().enumerate() {
                            let next = format!("{id}-p{}", k + 2);
                            self.flow.push((id, format!("{{play: {}, next: {next}}}", scalar(&sound(f)))));
                            id = next;
                        }
                        let prompt = sound(files[files.len() - 1]);
                        self.menu(&id, &context, &prompt, seconds, &object, step.line);
                        return;
                    }
                    let detail = if step.app == "background" {
                        "Background without WaitExten: played like Playback"
                    } else {
                        "play nodes"
                    };
                    let outcome = if step.app == "background" { Outcome::Approximated } else { Outcome::Mapped };
                    self.note(&object, outcome, detail, at);
                    let next = self.reference(next_place.clone());
                    for (k, f) in files.iter().enumerate() {
                        let after = if k + 1 == files.len() { next.clone() } else { format!("{id}-p{}", k + 2) };
                        self.flow.push((id, format!("{{play: {}, next: {after}}}", scalar(&sound(f)))));
                        id = after;
                    }
                    return;
                }
                "waitexten" => {
                    let seconds =
                        step.args.trim().parse::<f64>().ok().map(|s| s.round() as u64).or(timeout).unwrap_or(10);
                    let detail = "WaitExten without a Background before it: the menu's prompt is silence.wav";
                    self.note(&object, Outcome::Approximated, detail, at);
                    self.menu(&id, &context, "sounds/silence.wav", seconds, &object, step.line);
                    return;
                }
                "read" => {
                    let args: Vec<&str> = step.args.split(',').map(str::trim).collect();
                    let into = variable(args.first().copied().unwrap_or("digits"));
                    let prompt = args
                        .get(1)
                        .filter(|p| !p.is_empty())
                        .map_or("sounds/silence.wav".to_owned(), |p| sound(p.rsplit('&').next().unwrap_or(p)));
                    let max =
                        args.get(2).and_then(|m| m.parse::<u32>().ok()).filter(|m| (1..=32).contains(m)).unwrap_or(32);
                    let seconds =
                        args.get(5).and_then(|t| t.parse::<f64>().ok()).map_or(5, |t| (t.round() as u64).clamp(1, 60));
                    let next = self.reference(next_place.clone());
                    let node = format!(
                        "{{gather: {{prompt: {}, max_digits: {max}, terminator: \"#\", timeout: {seconds}s, into: {into}}}, next: {next}, no_input: {next}}}",
                        scalar(&prompt)
                    );
                    self.flow.push((id, node));
                    let detail = format!("a gather node into {into}; with no digits the call goes on as Asterisk does");
                    self.note(&object, Outcome::Mapped, detail, at);
                    return;
                }
                "queue" => {
                    let name = step.args.split(',').next().unwrap_or("").trim();
                    if name.is_empty() {
                        self.note(&object, Outcome::Rejected, "Queue() without a queue name", at);
                        i += 1;
                        continue;
                    }
                    let queue = slug_of(name);
                    let failure = self.reference(next_place.clone());
                    self.flow.push((id, format!("{{queue: {queue}, next_on_failure: {failure}}}")));
                    let mut detail =
                        format!("a queue node for queue {queue}; the steps after it are its failure branch");
                    if step.args.contains(',') {
                        detail.push_str("; Queue()'s options are not translated");
                    }
                    self.note(&object, Outcome::Mapped, detail, at);
                    return;
                }
                "voicemail" => {
                    let next = self.reference(next_place.clone());
                    let node = format!("{{voicemail: {{prompt: sounds/vm-intro.wav, max_length: 2m}}, next: {next}}}");
                    self.flow.push((id, node));
                    let detail = "a voicemail node; messages are stored with the call, not in Asterisk's mailbox";
                    self.note(&object, Outcome::Approximated, detail, at);
                    return;
                }
                "goto" => {
                    match self.goto(&step.args, &here, step.line) {
                        Some(target) => {
                            let target_id = self.reference(target);
                            self.note(&object, Outcome::Mapped, format!("goes on at node {target_id}"), at);
                            self.flow.alias(id, target_id);
                        }
                        None => self.flow.push((id, "{hangup: true}".to_owned())),
                    }
                    return;
                }
                "hangup" => {
                    self.flow.push((id, "{hangup: true}".to_owned()));
                    return;
                }
                other => {
                    let detail = match other {
                        "dial" => {
                            "calls to phones and trunks are not flow nodes; queue the call, or give the number a trunk"
                        }
                        "gotoif" | "execif" => {
                            "conditions on dialplan expressions have no counterpart; the next step follows"
                        }
                        "gotoiftime" | "execiftime" => {
                            "time conditions become a business_hours node on a schedule of the tenant; add one by hand"
                        }
                        "gosub" | "macro" => "subroutines are not followed; the next step follows",
                        _ => "no counterpart in contact flows; the next step follows",
                    };
                    self.note(&object, Outcome::NotTranslated, detail, at);
                }
            }
            i += 1;
        }
    }

    /// Writes the menu node `id` of `context`, its options and retry branches.
    fn menu(&mut self, id: &str, context: &str, prompt: &str, seconds: u64, object: &str, line: usize) {
        let at = Some((self.file, line));
        let Some(ctx) = self.context(context) else { return };
        let mut keys: Vec<(String, String)> = Vec::new();
        let mut others: Vec<(String, usize)> = Vec::new();
        for (extension, steps) in &ctx.extensions {
            match (key_of(extension), extension.as_str()) {
                (Some(key), _) => keys.push((key.to_owned(), extension.clone())),
                (None, "s" | "i" | "t" | "h" | "e" | "o" | "a") => {}
                _ => others.push((extension.clone(), steps.first().map_or(ctx.line, |s| s.line))),
            }
        }
        for (extension, line) in others {
            let detail =
                "only one-key extensions are menu options; dialling an extension from a menu is not translated";
            self.note(
                &format!("[{context}] extension {extension}"),
                Outcome::NotTranslated,
                detail,
                Some((self.file, line)),
            );
        }
        if keys.is_empty() {
            self.note(object, Outcome::Rejected, "a menu without any one-key extension; it plays and hangs up", at);
            let end = format!("{id}-end");
            self.flow.push((id.to_owned(), format!("{{play: {}, next: {end}}}", scalar(prompt))));
            self.flow.push((end, "{hangup: true}".to_owned()));
            return;
        }
        let seconds = seconds.clamp(1, 60);
        let mut options = String::new();
        for (key, extension) in &keys {
            let target = self.reference((context.to_owned(), extension.clone(), 0));
            let _ = write!(options, "{}: {target}, ", scalar(key));
        }
        let options = options.trim_end_matches(", ");
        let mut node =
            format!("{{menu: {{prompt: {}, timeout: {seconds}s, retries: 2}}, options: {{{options}}}", scalar(prompt));
        // The i and t extensions are the retry branches, unless they only lead back here.
        for (ext, field) in [("i", "no_match"), ("t", "no_input")] {
            let place = (context.to_owned(), ext.to_owned(), 0);
            let Some(steps) = self.steps(&place) else { continue };
            // Only a Goto: the flow's own retry does the same.
            let only_goto = steps.iter().all(|s| matches!(s.app.as_str(), "goto" | "noop" | "answer"))
                && steps.iter().any(|s| s.app == "goto");
            if !only_goto {
                let target = self.reference(place);
                let _ = write!(node, ", {field}: {target}");
            }
        }
        let fallback = format!("{id}-give-up");
        let _ = write!(node, ", fallback: {fallback}}}");
        self.flow.push((id.to_owned(), node));
        self.flow.push((fallback, "{hangup: true}".to_owned()));
        let detail = format!(
            "a menu of {} options, timeout {seconds}s; Asterisk repeats it as long as the dialplan says, the flow hangs up after 2 retries",
            keys.len()
        );
        self.note(object, Outcome::Approximated, detail, at);
    }
}

/// Imports the IVR menus of `extensions.conf` (its text, read from `file`).
pub fn import_extensions(file: &str, text: &str, report: &mut Report) -> Dialplan {
    let contexts = contexts(file, text, report);
    let is_menu = |c: &Context| c.extensions.get("s").is_some_and(|steps| steps.iter().any(|s| s.app == "waitexten"));
    let mut out = Dialplan::default();
    for context in contexts.iter().filter(|c| is_menu(c)) {
        let flow_id = slug_of(&context.name);
        if out.flows.iter().any(|f| f.id == flow_id) {
            let detail = format!("its flow id {flow_id:?} is taken by an earlier context; left out");
            report.add(&format!("context [{}]", context.name), Outcome::Rejected, detail, Some((file, context.line)));
            continue;
        }
        let mut t = Translator { file, contexts: &contexts, report: &mut *report, flow: Nodes::default() };
        let start = t.reference((context.name.clone(), "s".to_owned(), 0));
        while let Some(place) = t.flow.work.pop_front() {
            if !t.flow.is_alias(&node_id(&place)) {
                t.chain(place);
            }
        }
        let (start, nodes) = t.flow.finish(&start);
        let mut yaml = format!(
            "# Imported from {file}, context [{}]: see the migration report.\nflow: {flow_id}\nversion: 1\nstart: {start}\nnodes:\n",
            context.name
        );
        for (id, node) in &nodes {
            let _ = writeln!(yaml, "  {id}: {node}");
        }
        report.add(
            &format!("context [{}]", context.name),
            Outcome::Mapped,
            format!("the flow {flow_id}.yaml, {} nodes", nodes.len()),
            Some((file, context.line)),
        );
        out.flows.push(FlowFile { id: flow_id, yaml });
    }
    // Numbers that go straight to a menu.
    for context in contexts.iter().filter(|c| !is_menu(c)) {
        for (extension, steps) in &context.extensions {
            if extension.len() < 3 || !extension.bytes().all(|b| b.is_ascii_digit() || b == b'+') {
                continue;
            }
            let first = steps
                .iter()
                .find(|s| !matches!(s.app.as_str(), "answer" | "ringing" | "progress" | "noop" | "set" | "wait"));
            let Some(step) = first.filter(|s| s.app == "goto") else { continue };
            let target = step.args.split(',').map(str::trim).collect::<Vec<_>>();
            let ctx = if target.len() == 3 { target[0] } else { context.name.as_str() };
            let Some(flow) = contexts.iter().find(|c| c.name == ctx && is_menu(c)) else { continue };
            let flow_id = slug_of(&flow.name);
            report.add(
                &format!("[{}] extension {extension}", context.name),
                Outcome::Mapped,
                format!("the number {extension} enters the flow {flow_id}"),
                Some((file, step.line)),
            );
            out.numbers.push((extension.clone(), flow_id));
        }
    }
    if out.flows.is_empty() {
        report.add(
            file,
            Outcome::NotTranslated,
            "no context waits for digits (Background and WaitExten in s); no flow made",
            None,
        );
    }
    out
}

/// The tenant file's `voice` section for the numbers of `dialplan`, or nothing without any.
pub fn voice_numbers(dialplan: &Dialplan) -> String {
    if dialplan.numbers.is_empty() {
        return String::new();
    }
    let mut out = String::from("voice:\n  numbers:\n");
    for (number, flow) in &dialplan.numbers {
        let _ = writeln!(out, "    - {{number: {}, flow: {}}}", scalar(number), scalar(&format!("{flow}.yaml")));
    }
    out
}
