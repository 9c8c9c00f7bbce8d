//! Decoding of a flow file's YAML tree into nodes, one node at a time.
//!
//! The decoder checks everything that can be checked within one node: which kind it is, its
//! fields and their types, ranges, durations, digits, templates and variable names, and the
//! names of queues, skills and schedules against the caller's [`KnownNames`]. Node ids are
//! collected before any node is decoded, so that branches resolve to [`NodeIx`] at once and an
//! unknown one is reported with a suggestion. Every problem goes into the sink and decoding
//! goes on. What a node's branches are, and whether all of them are known, is kept for
//! [`crate::graph`], which checks the flow as a whole.

use std::collections::HashMap;
use std::time::Duration;

use sb_config::yaml::{Entry, Kind, Node as Yaml, Pos, join};
use sb_config::{
    Priority, Proficiency, Sink, Slug, TenantConfig, closest, did_you_mean, format_duration, parse_duration,
};

use crate::model::{Digit, NodeIx, NodeKind, VarName};
use crate::template::Template;

/// The names a flow may refer to outside itself, from the tenant's configuration.
///
/// `None` skips the check for that kind of name (the flow is checked on its own); `Some` with
/// an empty list means the tenant has none, so every reference is unknown.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KnownNames {
    pub queues: Option<Vec<String>>,
    pub skills: Option<Vec<String>>,
    /// Business-hours schedule ids.
    pub schedules: Option<Vec<String>>,
}

impl KnownNames {
    /// The queues, skills and business-hours schedules of a tenant.
    pub fn from_config(config: &TenantConfig) -> KnownNames {
        let ids = |ids: Vec<&Slug>| Some(ids.into_iter().map(|id| id.as_str().to_owned()).collect());
        KnownNames {
            queues: ids(config.queues.iter().map(|q| &q.id).collect()),
            skills: ids(config.skills.iter().map(|s| &s.id).collect()),
            schedules: ids(config.business_hours.iter().map(|h| &h.id).collect()),
        }
    }
}

/// The most nodes a flow may have.
pub(crate) const MAX_NODES: usize = 1000;

/// The kind of a node, as named by its kind field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tag {
    Play,
    Menu,
    Gather,
    BusinessHours,
    Set,
    Http,
    Queue,
    CallbackOffer,
    Voicemail,
    Survey,
    Hangup,
}

impl Tag {
    const ALL: [Tag; 11] = [
        Tag::Play,
        Tag::Menu,
        Tag::Gather,
        Tag::BusinessHours,
        Tag::Set,
        Tag::Http,
        Tag::Queue,
        Tag::CallbackOffer,
        Tag::Voicemail,
        Tag::Survey,
        Tag::Hangup,
    ];

    fn name(self) -> &'static str {
        match self {
            Tag::Play => "play",
            Tag::Menu => "menu",
            Tag::Gather => "gather",
            Tag::BusinessHours => "business_hours",
            Tag::Set => "set",
            Tag::Http => "http",
            Tag::Queue => "queue",
            Tag::CallbackOffer => "callback_offer",
            Tag::Voicemail => "voicemail",
            Tag::Survey => "survey",
            Tag::Hangup => "hangup",
        }
    }

    /// The fields a node of this kind may have; the first is the kind field itself.
    fn fields(self) -> &'static [&'static str] {
        match self {
            Tag::Play => &["play", "next"],
            Tag::Menu => &["menu", "options", "no_input", "no_match", "fallback"],
            Tag::Gather => &["gather", "next", "no_input"],
            Tag::BusinessHours => &["business_hours", "open", "closed"],
            Tag::Set => &["set", "next"],
            Tag::Http => &["http", "next", "on_error"],
            Tag::Queue => &["queue", "priority", "skills", "next_on_failure", "after_call"],
            Tag::CallbackOffer => &["callback_offer", "accepted", "declined"],
            Tag::Voicemail => &["voicemail", "next"],
            Tag::Survey => &["survey", "next"],
            Tag::Hangup => &["hangup"],
        }
    }

    /// Whether the call leaves the flow here (or may): the nodes a loop needs to reach.
    pub(crate) fn is_exit(self) -> bool {
        matches!(self, Tag::Hangup | Tag::Queue | Tag::Voicemail)
    }

    /// Whether the node passes control on without waiting for anything.
    pub(crate) fn is_instant(self) -> bool {
        matches!(self, Tag::Set | Tag::BusinessHours)
    }
}

/// A decoded value with the place it came from.
#[derive(Debug, Clone)]
pub(crate) struct At<T> {
    pub value: T,
    pub pos: Pos,
    pub path: String,
}

/// One node as decoded, with what the graph checks need even when the node has errors.
#[derive(Debug)]
pub(crate) struct RawNode {
    pub id: String,
    /// Where the node's id is written.
    pub pos: Pos,
    pub path: String,
    pub tag: Option<Tag>,
    /// `None` when the node has an error.
    pub kind: Option<NodeKind>,
    /// The branches that resolved, in the order they are written.
    pub edges: Vec<NodeIx>,
    /// Whether every branch the node has (or needs) resolved, so that `edges` is the whole
    /// truth about where the node leads.
    pub edges_complete: bool,
}

/// The whole file, decoded but not yet checked as a graph.
#[derive(Debug, Default)]
pub(crate) struct RawFlow {
    pub id: Option<Slug>,
    pub version: Option<u32>,
    pub start: Option<At<NodeIx>>,
    pub nodes: Vec<RawNode>,
    /// Every variable a template refers to, such as `account` or `crm.segment`.
    pub uses: Vec<At<String>>,
    /// Every variable some node sets: `name` for a single value, `name.*` for an HTTP
    /// lookup's results.
    pub defs: Vec<String>,
}

const TOP_FIELDS: &[&str] = &["flow", "version", "start", "nodes"];
const MENU_FIELDS: &[&str] = &["prompt", "timeout", "retries"];
const GATHER_FIELDS: &[&str] = &["prompt", "min_digits", "max_digits", "terminator", "timeout", "into"];
const HTTP_FIELDS: &[&str] = &["url", "timeout", "into"];
const CALLBACK_FIELDS: &[&str] = &["prompt", "accept_digit", "queue", "timeout"];
const VOICEMAIL_FIELDS: &[&str] = &["prompt", "max_length"];
const SURVEY_FIELDS: &[&str] = &["prompt", "scale", "timeout", "into"];

const SECOND: Duration = Duration::from_secs(1);
const MINUTE: Duration = Duration::from_secs(60);
/// How long a caller has for a digit unless the node says otherwise.
const DEFAULT_INPUT_TIMEOUT: Duration = Duration::from_secs(5);

/// Decodes the document `root` (`None` for a file without a document).
pub(crate) fn decode(root: Option<&Yaml>, known: &KnownNames, sink: &mut Sink) -> RawFlow {
    let Some(root) = root else {
        sink.error(Pos::START, "", "the file is empty; a flow needs flow, version, start and nodes");
        return RawFlow::default();
    };
    let mut decoder = Decoder {
        sink,
        known,
        ids: Vec::new(),
        ids_broken: false,
        edges: Vec::new(),
        edges_complete: true,
        uses: Vec::new(),
        defs: Vec::new(),
    };
    let mut raw = decoder.flow(root);
    raw.uses = decoder.uses;
    raw.defs = decoder.defs;
    raw
}

/// The fields of a mapping, after unknown and duplicate keys were reported.
struct Fields<'n> {
    pos: Pos,
    path: String,
    entries: Vec<&'n Entry>,
    /// Known fields that an unknown key looked like a misspelling of; their absence needs no
    /// second report.
    misspelt: Vec<String>,
}

impl<'n> Fields<'n> {
    fn get(&self, key: &str) -> Option<&'n Yaml> {
        self.entries.iter().find(|e| e.key == key).map(|e| &e.value)
    }
}

struct Decoder<'s> {
    sink: &'s mut Sink,
    known: &'s KnownNames,
    /// The node ids in file order; a node's index here is its [`NodeIx`].
    ids: Vec<String>,
    /// Whether `nodes` was not a mapping, so that every branch would be unknown.
    ids_broken: bool,
    /// The branches of the node being decoded.
    edges: Vec<NodeIx>,
    edges_complete: bool,
    uses: Vec<At<String>>,
    defs: Vec<String>,
}

impl Decoder<'_> {
    fn flow(&mut self, root: &Yaml) -> RawFlow {
        let mut raw = RawFlow::default();
        let Some(f) = self.fields(root, "", "a mapping with flow, version, start and nodes", TOP_FIELDS) else {
            return raw;
        };
        raw.id = self.required(&f, "flow").and_then(|node| {
            let text = self.text(node, "flow", "a flow id such as main-menu")?;
            Slug::parse(text)
                .map_err(|error| self.sink.error(node.pos, "flow", format!("invalid flow id {text:?}: {error}")))
                .ok()
        });
        raw.version = self.required(&f, "version").and_then(|node| {
            let n = self.integer(node, "version", "a positive whole number")?;
            let version = u32::try_from(n).ok().filter(|&v| v > 0);
            if version.is_none() {
                let message = format!("the version must be a whole number from 1 to {}, found {n}", u32::MAX);
                self.sink.error(node.pos, "version", message);
            }
            version
        });
        let nodes = self.required(&f, "nodes");
        let entries = match nodes {
            Some(node) => {
                let expected =
                    "a mapping of node ids to nodes, such as {welcome: {play: prompts/welcome.wav, next: menu}}";
                let entries = self.entries(node, "nodes", expected);
                self.ids_broken = entries.is_none();
                entries.unwrap_or_default()
            }
            None => {
                self.ids_broken = true;
                Vec::new()
            }
        };
        if let Some(node) = nodes
            && entries.is_empty()
            && !self.ids_broken
        {
            self.sink.error(node.pos, "nodes", "a flow needs at least one node");
        }
        if entries.len() > MAX_NODES {
            let message = format!("a flow has at most {MAX_NODES} nodes, this one has {}", entries.len());
            self.sink.error(f.pos, "nodes", message);
            return raw;
        }
        for entry in &entries {
            if let Err(message) = check_node_id(&entry.key) {
                self.sink.error(entry.key_pos, &join("nodes", &entry.key), message);
            }
            self.ids.push(entry.key.clone());
        }
        raw.start = self.required(&f, "start").and_then(|node| {
            let value = self.resolve(node, "start")?;
            Some(At { value, pos: node.pos, path: "start".to_owned() })
        });
        raw.nodes = entries.iter().map(|entry| self.node(entry)).collect();
        raw
    }

    fn node(&mut self, entry: &Entry) -> RawNode {
        let path = join("nodes", &entry.key);
        self.edges = Vec::new();
        self.edges_complete = true;
        let before = self.sink.error_count();
        let (tag, kind) = match self.node_kind(&entry.value, &path) {
            Some((tag, kind)) => (Some(tag), kind),
            None => {
                self.edges_complete = false;
                (None, None)
            }
        };
        let clean = self.sink.error_count() == before;
        RawNode {
            id: entry.key.clone(),
            pos: entry.key_pos,
            path,
            tag,
            kind: kind.filter(|_| clean),
            edges: std::mem::take(&mut self.edges),
            edges_complete: self.edges_complete,
        }
    }

    /// Finds the node's kind from its kind field and decodes it; `None` when the kind is
    /// unclear, `Some((tag, None))` when the node of a clear kind has errors.
    fn node_kind(&mut self, node: &Yaml, path: &str) -> Option<(Tag, Option<NodeKind>)> {
        let expected = "a mapping describing a node, such as {play: prompts/hello.wav, next: menu}";
        let entries = self.entries(node, path, expected)?;
        let tagged: Vec<(Tag, &Entry)> =
            entries.iter().filter_map(|e| Tag::ALL.into_iter().find(|t| t.name() == e.key).map(|t| (t, *e))).collect();
        let kind_names = Tag::ALL.map(Tag::name);
        let tag = match tagged[..] {
            [] => {
                let mut suggested = false;
                for entry in &entries {
                    if let Some(best) = closest(&entry.key, kind_names) {
                        suggested = true;
                        let message = format!("unknown field {:?} (did you mean {best:?}?)", entry.key);
                        self.sink.error(entry.key_pos, &join(path, &entry.key), message);
                    }
                }
                if !suggested {
                    let message =
                        format!("a node needs one of the fields {}, which says what it does", or_list(&kind_names));
                    self.sink.error(node.pos, path, message);
                }
                return None;
            }
            [(tag, _)] => tag,
            [(first, first_entry), ..] => {
                for (other, entry) in &tagged[1..] {
                    let message = format!(
                        "a node does one thing: \"{}\" cannot be combined with \"{}\" (line {})",
                        other.name(),
                        first.name(),
                        first_entry.key_pos.line
                    );
                    self.sink.error(entry.key_pos, &join(path, &entry.key), message);
                }
                return None;
            }
        };
        let f = self.filter(entries, node.pos, path, tag.fields(), &format!("a {} node", tag.name()));
        let kind = match tag {
            Tag::Play => self.play(&f),
            Tag::Menu => self.menu(&f),
            Tag::Gather => self.gather(&f),
            Tag::BusinessHours => self.business_hours(&f),
            Tag::Set => self.set(&f),
            Tag::Http => self.http(&f),
            Tag::Queue => self.queue(&f),
            Tag::CallbackOffer => self.callback_offer(&f),
            Tag::Voicemail => self.voicemail(&f),
            Tag::Survey => self.survey(&f),
            Tag::Hangup => self.hangup(&f),
        };
        Some((tag, kind))
    }

    fn play(&mut self, f: &Fields) -> Option<NodeKind> {
        let file = self.required(f, "play").and_then(|node| self.prompt(node, &join(&f.path, "play")));
        let next = self.branch(f, "next");
        Some(NodeKind::Play { file: file?, next: next? })
    }

    fn menu(&mut self, f: &Fields) -> Option<NodeKind> {
        let expected = "a mapping such as {prompt: prompts/menu.wav, timeout: 5s, retries: 2}";
        let m =
            self.required(f, "menu").and_then(|node| self.fields(node, &join(&f.path, "menu"), expected, MENU_FIELDS));
        let (prompt, timeout, retries) = match &m {
            Some(m) => (
                self.required(m, "prompt").and_then(|node| self.prompt(node, &join(&m.path, "prompt"))),
                self.input_timeout(m),
                self.or_default(m, "retries", 2, |this, node, path| this.ranged(node, path, "retries", 0, 9)),
            ),
            None => (None, None, None),
        };
        let options = self.required(f, "options").and_then(|node| self.options(node, &join(&f.path, "options")));
        let no_input = self.optional_branch(f, "no_input");
        let no_match = self.optional_branch(f, "no_match");
        let fallback = self.branch(f, "fallback");
        if retries == Some(0) {
            for (key, mistake) in [("no_input", "silence"), ("no_match", "wrong digit")] {
                if let Some(node) = f.get(key) {
                    let message = format!(
                        "{key} is never taken: with retries 0, the menu goes to its fallback at the first {mistake}"
                    );
                    self.sink.warning(node.pos, &join(&f.path, key), message);
                }
            }
        }
        Some(NodeKind::Menu {
            prompt: prompt?,
            timeout: timeout?,
            retries: u8::try_from(retries?).ok()?,
            options: options?,
            no_input: no_input?,
            no_match: no_match?,
            fallback: fallback?,
        })
    }

    /// A menu's options: a mapping of digit to node.
    fn options(&mut self, node: &Yaml, path: &str) -> Option<Vec<(Digit, NodeIx)>> {
        let Kind::Map(entries) = &node.kind else {
            self.expected(node, path, "a mapping of digits to nodes, such as {\"1\": billing, \"2\": sales}");
            return None;
        };
        if entries.is_empty() {
            self.sink.error(node.pos, path, "a menu needs at least one option, such as {\"1\": billing}");
            return None;
        }
        let mut options: Vec<(Digit, NodeIx)> = Vec::new();
        let mut first: HashMap<Digit, Pos> = HashMap::new();
        let mut ok = true;
        for entry in entries {
            let path = join(path, &entry.key);
            let target = self.resolve(&entry.value, &path);
            let Some(digit) = Digit::parse(&entry.key) else {
                let message = format!(
                    "invalid digit {:?}: an option is one key of the keypad, 0-9, * or # \
                     (quote * and #, as in \"#\": node)",
                    entry.key
                );
                self.sink.error(entry.key_pos, &path, message);
                ok = false;
                continue;
            };
            if let Some(pos) = first.get(&digit) {
                let message =
                    format!("digit {digit} is already an option (first at line {}, column {})", pos.line, pos.column);
                self.sink.error(entry.key_pos, &path, message);
                ok = false;
                continue;
            }
            first.insert(digit, entry.key_pos);
            match target {
                Some(target) => options.push((digit, target)),
                None => ok = false,
            }
        }
        ok.then_some(options)
    }

    fn gather(&mut self, f: &Fields) -> Option<NodeKind> {
        let expected = "a mapping such as {prompt: prompts/account.wav, max_digits: 10, into: account}";
        let g = self
            .required(f, "gather")
            .and_then(|node| self.fields(node, &join(&f.path, "gather"), expected, GATHER_FIELDS));
        let mut parts = None;
        if let Some(g) = &g {
            let prompt = self.required(g, "prompt").and_then(|node| self.prompt(node, &join(&g.path, "prompt")));
            let digits =
                |this: &mut Self, node: &Yaml, path: &str| this.ranged(node, path, "the number of digits", 1, 32);
            let min_digits = self.or_default(g, "min_digits", 1, digits);
            let max_digits =
                self.required(g, "max_digits").and_then(|node| digits(self, node, &join(&g.path, "max_digits")));
            if let (Some(min), Some(max), Some(node)) = (min_digits, max_digits, g.get("min_digits"))
                && min > max
            {
                let message = format!("min_digits ({min}) is more than max_digits ({max})");
                self.sink.error(node.pos, &join(&g.path, "min_digits"), message);
            }
            let terminator = match g.get("terminator") {
                None => Some(None),
                Some(node) => self.terminator(node, &join(&g.path, "terminator")).map(Some),
            };
            let timeout = self.input_timeout(g);
            let into = self.required(g, "into").and_then(|node| self.definition(node, &join(&g.path, "into"), ""));
            parts = Some((prompt, min_digits, max_digits, terminator, timeout, into));
        }
        let next = self.branch(f, "next");
        let no_input = self.branch(f, "no_input");
        let (prompt, min_digits, max_digits, terminator, timeout, into) = parts?;
        Some(NodeKind::Gather {
            prompt: prompt?,
            min_digits: u8::try_from(min_digits?).ok()?,
            max_digits: u8::try_from(max_digits?).ok()?,
            terminator: terminator?,
            timeout: timeout?,
            into: into?,
            next: next?,
            no_input: no_input?,
        })
    }

    fn terminator(&mut self, node: &Yaml, path: &str) -> Option<Digit> {
        let text = self.text(node, path, "\"#\" or \"*\"")?;
        let digit = Digit::parse(text).filter(|d| matches!(d.as_char(), '#' | '*'));
        if digit.is_none() {
            self.sink.error(node.pos, path, format!("a terminator is \"#\" or \"*\", found {text:?}"));
        }
        digit
    }

    fn business_hours(&mut self, f: &Fields) -> Option<NodeKind> {
        let schedule = self.required(f, "business_hours").and_then(|node| {
            let path = join(&f.path, "business_hours");
            let text = self.text(node, &path, "a business-hours schedule id")?;
            self.check_known(Known::Schedule, text, node.pos, &path)
        });
        let open = self.branch(f, "open");
        let closed = self.branch(f, "closed");
        Some(NodeKind::BusinessHours { schedule: schedule?, open: open?, closed: closed? })
    }

    fn set(&mut self, f: &Fields) -> Option<NodeKind> {
        let values = self.required(f, "set").and_then(|node| {
            let path = join(&f.path, "set");
            let entries = self.entries(node, &path, "a mapping of variables to values, such as {segment: vip}")?;
            if entries.is_empty() {
                self.sink.error(node.pos, &path, "set needs at least one variable, such as {segment: vip}");
                return None;
            }
            let mut values = Vec::new();
            let mut ok = true;
            for entry in entries {
                let path = join(&path, &entry.key);
                let name = self.define(&entry.key, entry.key_pos, &path, "");
                let value = self.template(&entry.value, &path, "a text value");
                match (name, value) {
                    (Some(name), Some(value)) => values.push((name, value)),
                    _ => ok = false,
                }
            }
            ok.then_some(values)
        });
        let next = self.branch(f, "next");
        Some(NodeKind::Set { values: values?, next: next? })
    }

    fn http(&mut self, f: &Fields) -> Option<NodeKind> {
        let expected = "a mapping such as {url: \"http://crm.local/lookup?account={account}\", timeout: 2s, into: crm}";
        let h =
            self.required(f, "http").and_then(|node| self.fields(node, &join(&f.path, "http"), expected, HTTP_FIELDS));
        let mut parts = None;
        if let Some(h) = &h {
            let url = self.required(h, "url").and_then(|node| {
                let path = join(&h.path, "url");
                let url = self.template(node, &path, "an http:// or https:// URL")?;
                let prefix = url.literal_prefix();
                if !(prefix.starts_with("http://") || prefix.starts_with("https://")) {
                    let message =
                        format!("a URL starts with http:// or https://, before any variable, found {:?}", url.as_str());
                    self.sink.error(node.pos, &path, message);
                    return None;
                }
                Some(url)
            });
            let timeout = self.or_default(h, "timeout", 2 * SECOND, |this, node, path| {
                this.duration_in(node, path, "timeout", SECOND, 30 * SECOND)
            });
            let into = match h.get("into") {
                None => Some(None),
                Some(node) => self.definition(node, &join(&h.path, "into"), ".*").map(Some),
            };
            parts = Some((url, timeout, into));
        }
        let next = self.branch(f, "next");
        let on_error = self.branch(f, "on_error");
        let (url, timeout, into) = parts?;
        Some(NodeKind::Http { url: url?, timeout: timeout?, into: into?, next: next?, on_error: on_error? })
    }

    fn queue(&mut self, f: &Fields) -> Option<NodeKind> {
        let queue = self.required(f, "queue").and_then(|node| self.queue_name(node, &join(&f.path, "queue")));
        let priority = match f.get("priority") {
            None => Some(None),
            Some(node) => self
                .ranged(node, &join(&f.path, "priority"), "priority", 1, 10)
                .and_then(|p| Priority::new(u8::try_from(p).ok()?))
                .map(Some),
        };
        let skills = match f.get("skills") {
            None => Some(Vec::new()),
            Some(node) => self.skills(node, &join(&f.path, "skills")),
        };
        let next_on_failure = self.optional_branch(f, "next_on_failure");
        let after_call = self.optional_branch(f, "after_call");
        Some(NodeKind::Queue {
            queue: queue?,
            priority: priority?,
            skills: skills?,
            next_on_failure: next_on_failure?,
            after_call: after_call?,
        })
    }

    fn skills(&mut self, node: &Yaml, path: &str) -> Option<Vec<(String, Proficiency)>> {
        let entries = self.entries(node, path, "a mapping of skill to proficiency, such as {german: 2}")?;
        let mut skills = Vec::new();
        let mut ok = true;
        for entry in entries {
            let path = join(path, &entry.key);
            let skill = self.check_known(Known::Skill, &entry.key, entry.key_pos, &path);
            let level = self
                .ranged(&entry.value, &path, "proficiency", 1, 5)
                .and_then(|level| Proficiency::new(u8::try_from(level).ok()?));
            match (skill, level) {
                (Some(skill), Some(level)) => skills.push((skill, level)),
                _ => ok = false,
            }
        }
        ok.then_some(skills)
    }

    fn callback_offer(&mut self, f: &Fields) -> Option<NodeKind> {
        let expected = "a mapping such as {prompt: prompts/callback.wav, accept_digit: \"1\", queue: billing}";
        let c = self
            .required(f, "callback_offer")
            .and_then(|node| self.fields(node, &join(&f.path, "callback_offer"), expected, CALLBACK_FIELDS));
        let mut parts = None;
        if let Some(c) = &c {
            let prompt = self.required(c, "prompt").and_then(|node| self.prompt(node, &join(&c.path, "prompt")));
            let accept_digit = self.required(c, "accept_digit").and_then(|node| {
                let path = join(&c.path, "accept_digit");
                let text = self.text(node, &path, "a digit")?;
                let digit = Digit::parse(text);
                if digit.is_none() {
                    let message = format!("invalid digit {text:?}: a digit is one key of the keypad, 0-9, * or #");
                    self.sink.error(node.pos, &path, message);
                }
                digit
            });
            let queue = self.required(c, "queue").and_then(|node| self.queue_name(node, &join(&c.path, "queue")));
            let timeout = self.input_timeout(c);
            parts = Some((prompt, accept_digit, queue, timeout));
        }
        let accepted = self.branch(f, "accepted");
        let declined = self.branch(f, "declined");
        let (prompt, accept_digit, queue, timeout) = parts?;
        Some(NodeKind::CallbackOffer {
            prompt: prompt?,
            accept_digit: accept_digit?,
            timeout: timeout?,
            queue: queue?,
            accepted: accepted?,
            declined: declined?,
        })
    }

    fn voicemail(&mut self, f: &Fields) -> Option<NodeKind> {
        let expected = "a mapping such as {prompt: prompts/vm.wav, max_length: 2m}";
        let v = self
            .required(f, "voicemail")
            .and_then(|node| self.fields(node, &join(&f.path, "voicemail"), expected, VOICEMAIL_FIELDS));
        let mut parts = None;
        if let Some(v) = &v {
            let prompt = self.required(v, "prompt").and_then(|node| self.prompt(node, &join(&v.path, "prompt")));
            let max_length = self.or_default(v, "max_length", 2 * MINUTE, |this, node, path| {
                this.duration_in(node, path, "max_length", 5 * SECOND, 10 * MINUTE)
            });
            parts = Some((prompt, max_length));
        }
        let next = self.branch(f, "next");
        let (prompt, max_length) = parts?;
        Some(NodeKind::Voicemail { prompt: prompt?, max_length: max_length?, next: next? })
    }

    fn survey(&mut self, f: &Fields) -> Option<NodeKind> {
        let expected = "a mapping such as {prompt: prompts/survey.wav, scale: 5, into: csat}";
        let s = self
            .required(f, "survey")
            .and_then(|node| self.fields(node, &join(&f.path, "survey"), expected, SURVEY_FIELDS));
        let mut parts = None;
        if let Some(s) = &s {
            let prompt = self.required(s, "prompt").and_then(|node| self.prompt(node, &join(&s.path, "prompt")));
            // A score is one key press, so the scale ends at 9.
            let scale =
                self.required(s, "scale").and_then(|node| self.ranged(node, &join(&s.path, "scale"), "scale", 2, 9));
            let timeout = self.input_timeout(s);
            let into = self.required(s, "into").and_then(|node| self.definition(node, &join(&s.path, "into"), ""));
            parts = Some((prompt, scale, timeout, into));
        }
        let next = self.branch(f, "next");
        let (prompt, scale, timeout, into) = parts?;
        Some(NodeKind::Survey {
            prompt: prompt?,
            scale: u8::try_from(scale?).ok()?,
            timeout: timeout?,
            into: into?,
            next: next?,
        })
    }

    fn hangup(&mut self, f: &Fields) -> Option<NodeKind> {
        let node = self.required(f, "hangup")?;
        match &node.kind {
            Kind::Scalar { text, quoted: false } if text == "true" => Some(NodeKind::Hangup),
            _ => {
                self.expected(node, &join(&f.path, "hangup"), "true (a hangup node is written {hangup: true})");
                None
            }
        }
    }

    // Building blocks shared by the node kinds.

    /// The optional `timeout` of a node that waits for digits.
    fn input_timeout(&mut self, f: &Fields) -> Option<Duration> {
        self.or_default(f, "timeout", DEFAULT_INPUT_TIMEOUT, |this, node, path| {
            this.duration_in(node, path, "timeout", SECOND, MINUTE)
        })
    }

    /// A required branch to another node.
    fn branch(&mut self, f: &Fields, key: &str) -> Option<NodeIx> {
        let target = self.required(f, key).and_then(|node| self.resolve(node, &join(&f.path, key)));
        if target.is_none() {
            self.edges_complete = false;
        }
        target
    }

    /// An optional branch: `Some(None)` when absent, `None` when invalid.
    fn optional_branch(&mut self, f: &Fields, key: &str) -> Option<Option<NodeIx>> {
        match f.get(key) {
            None => Some(None),
            Some(node) => self.resolve(node, &join(&f.path, key)).map(Some),
        }
    }

    /// Resolves a node id, reporting an unknown one with a suggestion, and records the branch.
    fn resolve(&mut self, node: &Yaml, path: &str) -> Option<NodeIx> {
        let Some(text) = self.text(node, path, "a node id") else {
            self.edges_complete = false;
            return None;
        };
        match self.ids.iter().position(|id| id == text) {
            Some(index) => {
                let ix = NodeIx::from_index(index);
                self.edges.push(ix);
                Some(ix)
            }
            None => {
                self.edges_complete = false;
                if !self.ids_broken {
                    let hint = did_you_mean(text, self.ids.iter().map(String::as_str));
                    self.sink.error(node.pos, path, format!("unknown node {text:?}{hint}"));
                }
                None
            }
        }
    }

    /// An audio file to play: any text that is not blank.
    fn prompt(&mut self, node: &Yaml, path: &str) -> Option<String> {
        let text = self.text(node, path, "an audio file such as prompts/welcome.wav")?;
        if text.trim().is_empty() {
            self.sink.error(node.pos, path, "the audio file must not be blank");
            return None;
        }
        Some(text.to_owned())
    }

    fn queue_name(&mut self, node: &Yaml, path: &str) -> Option<String> {
        let text = self.text(node, path, "a queue id")?;
        self.check_known(Known::Queue, text, node.pos, path)
    }

    /// Checks `name` against the caller's known names of its kind, if there are any.
    fn check_known(&mut self, kind: Known, name: &str, pos: Pos, path: &str) -> Option<String> {
        let (list, what) = match kind {
            Known::Queue => (&self.known.queues, "queue"),
            Known::Skill => (&self.known.skills, "skill"),
            Known::Schedule => (&self.known.schedules, "business-hours schedule"),
        };
        if let Some(list) = list
            && !list.iter().any(|known| known == name)
        {
            let hint = did_you_mean(name, list.iter().map(String::as_str));
            self.sink.error(pos, path, format!("unknown {what} {name:?}{hint}"));
            return None;
        }
        Some(name.to_owned())
    }

    /// A template, recording the variables it uses.
    fn template(&mut self, node: &Yaml, path: &str, expected: &str) -> Option<Template> {
        let text = self.text(node, path, expected)?;
        match Template::parse(text) {
            Ok(template) => {
                for name in template.variables() {
                    self.uses.push(At { value: name.to_owned(), pos: node.pos, path: path.to_owned() });
                }
                Some(template)
            }
            Err(message) => {
                self.sink.error(node.pos, path, message);
                None
            }
        }
    }

    /// A variable name that a node sets, written as a value (`into: account`).
    fn definition(&mut self, node: &Yaml, path: &str, suffix: &str) -> Option<VarName> {
        let text = self.text(node, path, "a variable name")?;
        self.define(text, node.pos, path, suffix)
    }

    /// Checks a variable name that a node sets and records it, with `suffix` `.*` when the
    /// node sets `name.key` variables.
    fn define(&mut self, text: &str, pos: Pos, path: &str, suffix: &str) -> Option<VarName> {
        if VarName::BUILT_IN.contains(&text) {
            let message = format!("{text:?} is set by the call itself and cannot be changed; choose another name");
            self.sink.error(pos, path, message);
            return None;
        }
        match VarName::parse(text) {
            Ok(name) => {
                self.defs.push(format!("{name}{suffix}"));
                Some(name)
            }
            Err(message) => {
                self.sink.error(pos, path, message);
                None
            }
        }
    }

    /// The fields of a mapping; unknown and repeated keys are reported and left out.
    fn fields<'n>(&mut self, node: &'n Yaml, path: &str, expected: &str, known: &[&str]) -> Option<Fields<'n>> {
        let entries = self.entries(node, path, expected)?;
        Some(self.filter(entries, node.pos, path, known, "here"))
    }

    /// Keeps the known entries; `place` ends the message for an unknown one ("the fields of
    /// a play node are ...").
    fn filter<'n>(&mut self, entries: Vec<&'n Entry>, pos: Pos, path: &str, known: &[&str], place: &str) -> Fields<'n> {
        let mut kept = Vec::new();
        let mut misspelt = Vec::new();
        for entry in entries {
            if known.contains(&entry.key.as_str()) {
                kept.push(entry);
                continue;
            }
            let message = match closest(&entry.key, known.iter().copied()) {
                Some(best) => {
                    misspelt.push(best.to_owned());
                    format!("unknown field {:?} (did you mean {best:?}?)", entry.key)
                }
                None => format!("unknown field {:?}; the fields of {place} are {}", entry.key, known.join(", ")),
            };
            self.sink.error(entry.key_pos, &join(path, &entry.key), message);
        }
        Fields { pos, path: path.to_owned(), entries: kept, misspelt }
    }

    /// The entries of a mapping, with repeated keys reported and left out.
    fn entries<'n>(&mut self, node: &'n Yaml, path: &str, expected: &str) -> Option<Vec<&'n Entry>> {
        let Kind::Map(entries) = &node.kind else {
            self.expected(node, path, expected);
            return None;
        };
        let mut first: HashMap<&str, Pos> = HashMap::new();
        let mut kept = Vec::new();
        for entry in entries {
            if let Some(pos) = first.get(entry.key.as_str()) {
                let at = if pos.line == entry.key_pos.line {
                    format!("line {}, column {}", pos.line, pos.column)
                } else {
                    format!("line {}", pos.line)
                };
                let message = format!("duplicate key {:?} (first given at {at})", entry.key);
                self.sink.error(entry.key_pos, &join(path, &entry.key), message);
                continue;
            }
            first.insert(&entry.key, entry.key_pos);
            kept.push(entry);
        }
        Some(kept)
    }

    /// Reports that `node` is not what was expected, unless it was already reported.
    fn expected(&mut self, node: &Yaml, path: &str, expected: &str) {
        if !matches!(node.kind, Kind::Invalid) {
            self.sink.error(node.pos, path, format!("expected {expected}, found {}", node.describe()));
        }
    }

    /// The value of a required field; its absence is reported at the mapping.
    fn required<'n>(&mut self, f: &Fields<'n>, key: &str) -> Option<&'n Yaml> {
        let node = f.get(key);
        if node.is_none() && !f.misspelt.iter().any(|m| m == key) {
            self.sink.error(f.pos, &f.path, format!("missing required field {key:?}"));
        }
        node
    }

    /// Decodes an optional field with `decode`: `default` when absent, `None` when invalid.
    fn or_default<T>(
        &mut self,
        f: &Fields,
        key: &str,
        default: T,
        decode: impl FnOnce(&mut Self, &Yaml, &str) -> Option<T>,
    ) -> Option<T> {
        match f.get(key) {
            None => Some(default),
            Some(node) => decode(self, node, &join(&f.path, key)),
        }
    }

    /// The text of a scalar.
    fn text<'n>(&mut self, node: &'n Yaml, path: &str, expected: &str) -> Option<&'n str> {
        match &node.kind {
            Kind::Scalar { text, .. } => Some(text),
            _ => {
                self.expected(node, path, expected);
                None
            }
        }
    }

    /// A plain integer. A quoted number is a string, and is reported as such.
    fn integer(&mut self, node: &Yaml, path: &str, expected: &str) -> Option<i64> {
        match &node.kind {
            Kind::Scalar { text, quoted } => match text.parse::<i64>() {
                Ok(n) if !quoted => Some(n),
                Ok(_) => {
                    let message = format!("expected {expected}, found the quoted text {text:?}; remove the quotes");
                    self.sink.error(node.pos, path, message);
                    None
                }
                Err(_) => {
                    self.expected(node, path, expected);
                    None
                }
            },
            _ => {
                self.expected(node, path, expected);
                None
            }
        }
    }

    /// An integer in `min..=max`.
    fn ranged(&mut self, node: &Yaml, path: &str, what: &str, min: i64, max: i64) -> Option<i64> {
        let n = self.integer(node, path, &format!("an integer from {min} to {max}"))?;
        if n < min || n > max {
            self.sink.error(node.pos, path, format!("{what} must be from {min} to {max}, found {n}"));
            return None;
        }
        Some(n)
    }

    /// A duration in `min..=max`, written as whole seconds or text such as `2m`.
    fn duration_in(&mut self, node: &Yaml, path: &str, what: &str, min: Duration, max: Duration) -> Option<Duration> {
        let text = self.text(node, path, "a duration such as 5s or 2m")?;
        let duration = match parse_duration(text) {
            Ok(duration) => duration,
            Err(error) => {
                self.sink.error(node.pos, path, error.to_string());
                return None;
            }
        };
        if duration < min || duration > max {
            let message = format!(
                "{what} must be from {} to {}, found {}",
                format_duration(min),
                format_duration(max),
                format_duration(duration)
            );
            self.sink.error(node.pos, path, message);
            return None;
        }
        Some(duration)
    }
}

/// The kinds of names a flow refers to outside itself.
#[derive(Debug, Clone, Copy)]
enum Known {
    Queue,
    Skill,
    Schedule,
}

/// Checks a node id: 1 to 63 characters among lowercase letters, digits, `_` and `-`.
fn check_node_id(id: &str) -> Result<(), String> {
    if id.is_empty() {
        return Err("a node id must not be empty".to_owned());
    }
    if let Some(c) = id.chars().find(|c| !matches!(c, 'a'..='z' | '0'..='9' | '_' | '-')) {
        return Err(format!(
            "invalid node id {id:?}: a node id may only contain lowercase letters a-z, digits, '_' and '-', not {c:?}"
        ));
    }
    if id.len() > 63 {
        return Err(format!("invalid node id {id:?}: a node id has at most 63 characters, this one has {}", id.len()));
    }
    Ok(())
}

/// `a, b or c`.
fn or_list(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
    }
}
