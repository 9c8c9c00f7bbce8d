//! Decoding of the YAML tree into raw configuration, section by section.
//!
//! The decoder checks everything that can be checked one node at a time: shapes and types,
//! unknown, missing and duplicate fields, slugs, numbers and their ranges, durations, time
//! zones, clock ranges and dates. Every problem becomes a diagnostic and decoding goes on with
//! a default or without the value, so one run finds them all. References between items (a
//! queue's skills, an agent's queues) stay as positioned strings; [`crate::validate`] resolves
//! them and performs the checks that need the whole file.

use std::collections::HashMap;
use std::time::Duration;

use jiff::civil::Date;
use jiff::tz::TimeZone;

use crate::diagnostic::Sink;
use crate::duration::{format_duration, parse_duration};
use crate::hours::{self, DAY_NAMES, TimeRange, WeeklyHours};
use crate::model::{Channel, ChannelCosts, Priority, Proficiency, ServiceLevel, Slug, Strategy, Tenant};
use crate::suggest::{closest, did_you_mean};
use crate::yaml::{Entry, Kind, Node, Pos, join};

/// A decoded value with the place it came from.
#[derive(Debug, Clone)]
pub(crate) struct At<T> {
    pub value: T,
    pub pos: Pos,
    pub path: String,
}

/// The id of an item as written, and as a slug when it is a valid one. References are
/// resolved against the text, so that an invalid id is reported once rather than at every
/// reference to it.
#[derive(Debug)]
pub(crate) struct RawId {
    pub text: At<String>,
    pub slug: Option<Slug>,
}

/// One element of an id-carrying list (skills, reason codes, business hours, queues, agents).
#[derive(Debug)]
pub(crate) struct RawItem<T> {
    pub path: String,
    pub pos: Pos,
    pub id: Option<RawId>,
    pub name: Option<String>,
    /// Whether decoding the item reported no error.
    pub clean: bool,
    pub body: T,
}

impl<T> RawItem<T> {
    pub fn id_text(&self) -> Option<&str> {
        self.id.as_ref().map(|id| id.text.value.as_str())
    }

    /// The display name: the `name` field, or else the id.
    pub fn display_name(&self) -> String {
        match (&self.name, &self.id) {
            (Some(name), _) => name.clone(),
            (None, Some(id)) => id.text.value.clone(),
            (None, None) => String::new(),
        }
    }
}

/// A `skill: level` entry; the level is `None` if it was out of range.
#[derive(Debug)]
pub(crate) struct RawLevel {
    pub skill: At<String>,
    pub level: Option<Proficiency>,
}

#[derive(Debug)]
pub(crate) struct RawHours {
    pub time_zone: Option<TimeZone>,
    pub weekly: WeeklyHours,
    pub holidays: Vec<Date>,
}

#[derive(Debug)]
pub(crate) struct RawQueue {
    pub channels: Vec<Channel>,
    pub priority: Priority,
    pub strategy: Strategy,
    pub service_level: ServiceLevel,
    pub skills: Vec<RawLevel>,
    pub business_hours: Option<At<String>>,
    pub offer_timeout: Duration,
    pub wrap_up: Duration,
    pub expected_handle_time: Duration,
    pub steps: Vec<RawStep>,
}

#[derive(Debug)]
pub(crate) struct RawStep {
    pub path: String,
    pub pos: Pos,
    pub after: Option<At<Duration>>,
    pub require: Vec<RawLevel>,
    pub drop: Vec<At<String>>,
    pub overflow_queues: Vec<At<String>>,
    pub overflow_skills: Vec<RawLevel>,
}

#[derive(Debug)]
pub(crate) struct RawAgent {
    pub skills: Vec<RawLevel>,
    /// `None` when the field was invalid (and reported), empty when it was absent.
    pub queues: Option<Vec<At<String>>>,
    /// The explicit capacity, if the file gives one; maximums are at least 1.
    pub capacity: Option<Vec<At<(Channel, u32)>>>,
    pub auto_accept: bool,
    /// The desk phone's account: the user name (the agent's id when absent) and password.
    pub phone: Option<At<(Option<String>, String)>>,
}

/// The whole file, decoded but not yet cross-checked.
#[derive(Debug, Default)]
pub(crate) struct RawConfig {
    pub tenant: Option<Tenant>,
    pub alerts: crate::model::Alerts,
    pub voice: crate::model::Voice,
    pub channels: ChannelCosts,
    pub skills: Vec<RawItem<()>>,
    pub reason_codes: Vec<RawItem<()>>,
    pub business_hours: Vec<RawItem<RawHours>>,
    pub queues: Vec<RawItem<RawQueue>>,
    pub agents: Vec<RawItem<RawAgent>>,
    /// Whether the `agents` section was present and a list, so that the agents can be
    /// trusted to be all of them.
    pub agents_present: bool,
    /// Whether the `skills`, `business_hours` and `queues` sections were absent or lists.
    /// References into a broken section are not reported: the section already was.
    pub skills_ok: bool,
    pub hours_ok: bool,
    pub queues_ok: bool,
}

/// Decodes the document `root` (`None` for a file without a document).
pub(crate) fn decode(root: Option<&Node>, sink: &mut Sink) -> RawConfig {
    let Some(root) = root else {
        sink.error(Pos::START, "", "the file is empty; a configuration needs at least tenant, queues and agents");
        return RawConfig::default();
    };
    Decoder { sink }.config(root)
}

pub(crate) fn index(path: &str, i: usize) -> String {
    format!("{path}[{i}]")
}

/// The fields of a mapping, after unknown and duplicate keys were reported.
pub(crate) struct Fields<'n> {
    pub pos: Pos,
    pub path: String,
    entries: Vec<&'n Entry>,
    /// Known fields that an unknown key looked like a misspelling of; their absence needs no
    /// second report.
    misspelt: Vec<String>,
}

impl<'n> Fields<'n> {
    pub(crate) fn get(&self, key: &str) -> Option<&'n Node> {
        self.entries.iter().find(|e| e.key == key).map(|e| &e.value)
    }
}

pub(crate) struct Decoder<'s> {
    pub sink: &'s mut Sink,
}

const TOP_FIELDS: &[&str] =
    &["tenant", "channels", "skills", "reason_codes", "business_hours", "queues", "agents", "alerts", "voice"];
const VOICE_FIELDS: &[&str] =
    &["music_on_hold", "numbers", "record_calls", "recordings", "recordings_key", "trunks", "announcements", "split"];
const SPLIT_FIELDS: &[&str] = &["trunk", "rules"];
const SPLIT_RULE_FIELDS: &[&str] = &["caller", "number", "percent", "to"];
const ANNOUNCEMENT_FIELDS: &[&str] = &["every", "prompts"];
const NUMBER_FIELDS: &[&str] = &["number", "flow", "trunk"];
const TRUNK_FIELDS: &[&str] = &["id", "address", "user", "password"];
const ALERT_FIELDS: &[&str] = &["longest_wait", "webhook"];
const TENANT_FIELDS: &[&str] = &["id", "name", "time_zone"];
const NAMED_FIELDS: &[&str] = &["id", "name"];
const HOURS_FIELDS: &[&str] = &["id", "time_zone", "weekly", "holidays"];
const QUEUE_FIELDS: &[&str] = &[
    "id",
    "name",
    "channels",
    "priority",
    "strategy",
    "service_level",
    "skills",
    "business_hours",
    "offer_timeout",
    "wrap_up",
    "expected_handle_time",
    "steps",
];
const SERVICE_LEVEL_FIELDS: &[&str] = &["percent", "within"];
const STEP_FIELDS: &[&str] = &["after", "require", "drop", "overflow_queues", "overflow_skills"];
const AGENT_FIELDS: &[&str] = &["id", "name", "skills", "queues", "capacity", "auto_accept", "phone"];
const PHONE_FIELDS: &[&str] = &["user", "password"];

const SECOND: Duration = Duration::from_secs(1);
const MINUTE: Duration = Duration::from_secs(60);
const HOUR: Duration = Duration::from_secs(3600);

impl Decoder<'_> {
    fn config(&mut self, root: &Node) -> RawConfig {
        let mut raw = RawConfig::default();
        let Some(f) = self.fields(root, "", "a mapping of sections (tenant, skills, queues, agents, ...)", TOP_FIELDS)
        else {
            return raw;
        };
        raw.tenant = self.required(&f, "tenant").and_then(|node| self.tenant(node));
        if let Some(node) = f.get("channels") {
            raw.channels = self.channels(node);
        }
        if let Some(node) = f.get("alerts") {
            raw.alerts = self.alerts(node);
        }
        if let Some(node) = f.get("voice") {
            raw.voice = self.voice(node);
        }
        raw.skills = self.items(&f, "skills", false, "skill", NAMED_FIELDS, |_, _| ());
        raw.reason_codes = self.items(&f, "reason_codes", false, "reason code", NAMED_FIELDS, |_, _| ());
        raw.business_hours =
            self.items(&f, "business_hours", false, "business-hours schedule", HOURS_FIELDS, Decoder::hours);
        raw.queues = self.items(&f, "queues", true, "queue", QUEUE_FIELDS, Decoder::queue);
        raw.agents = self.items(&f, "agents", true, "agent", AGENT_FIELDS, Decoder::agent);
        let is_list = |node: &Node| matches!(node.kind, Kind::Seq(_));
        raw.agents_present = f.get("agents").is_some_and(is_list);
        raw.skills_ok = f.get("skills").is_none_or(is_list);
        raw.hours_ok = f.get("business_hours").is_none_or(is_list);
        raw.queues_ok = f.get("queues").is_some_and(is_list);
        raw
    }

    fn tenant(&mut self, node: &Node) -> Option<Tenant> {
        let f = self.fields(node, "tenant", "a mapping with the tenant's id, name and time_zone", TENANT_FIELDS)?;
        let id = self.id(&f, "tenant");
        let name = self.required(&f, "name").and_then(|node| self.name(node, "tenant.name"));
        let time_zone = self.required(&f, "time_zone").and_then(|node| self.time_zone(node, "tenant.time_zone"));
        Some(Tenant { id: id?.slug?, name: name?, time_zone: time_zone? })
    }

    fn alerts(&mut self, node: &Node) -> crate::model::Alerts {
        let mut alerts = crate::model::Alerts::default();
        let expected = "a mapping such as {longest_wait: 60s, webhook: \"http://host/path\"}";
        let Some(f) = self.fields(node, "alerts", expected, ALERT_FIELDS) else { return alerts };
        if let Some(node) = f.get("longest_wait")
            && let Some(d) = self.duration_in(node, "alerts.longest_wait", "the alert threshold", SECOND, 24 * HOUR)
        {
            alerts.longest_wait = d;
        }
        if let Some(node) = f.get("webhook")
            && let Some(url) = self.text(node, "alerts.webhook", "an http:// URL")
        {
            match crate::model::Webhook::parse(url) {
                Ok(w) => alerts.webhook = Some(w),
                Err(message) => self.sink.error(node.pos, "alerts.webhook", message),
            }
        }
        alerts
    }

    fn voice(&mut self, node: &Node) -> crate::model::Voice {
        let mut voice = crate::model::Voice::default();
        let expected =
            "a mapping such as {music_on_hold: hold.wav, numbers: [{number: \"+15550100\", flow: menu.yaml}]}";
        let Some(f) = self.fields(node, "voice", expected, VOICE_FIELDS) else { return voice };
        if let Some(node) = f.get("music_on_hold") {
            voice.music_on_hold = self.file_name(node, "voice.music_on_hold", "WAV file");
        }
        if let Some(node) = f.get("record_calls")
            && let Some(record) = self.boolean(node, "voice.record_calls")
        {
            voice.record_calls = record;
        }
        if let Some(node) = f.get("recordings")
            && let Some(dir) = self.file_name(node, "voice.recordings", "directory")
        {
            voice.recordings = dir;
        }
        if let Some(node) = f.get("recordings_key") {
            voice.recordings_key = self.file_name(node, "voice.recordings_key", "key file");
        }
        if let Some(node) = f.get("trunks") {
            voice.trunks = self.trunks(node);
        }
        if let Some(node) = f.get("split") {
            voice.split = self.split(node, &voice.trunks);
        }
        if let Some(node) = f.get("announcements") {
            let expected = "a mapping such as {every: 30s, prompts: prompts/position}";
            if let Some(f) = self.fields(node, "voice.announcements", expected, ANNOUNCEMENT_FIELDS) {
                let every = self.required(&f, "every").and_then(|node| {
                    self.duration_in(
                        node,
                        "voice.announcements.every",
                        "the time between announcements",
                        5 * SECOND,
                        10 * MINUTE,
                    )
                });
                let prompts = self
                    .required(&f, "prompts")
                    .and_then(|node| self.file_name(node, "voice.announcements.prompts", "directory"));
                if let (Some(every), Some(prompts)) = (every, prompts) {
                    voice.announcements = Some(crate::model::Announcements { every, prompts });
                }
            }
        }
        let Some(node) = f.get("numbers") else { return voice };
        let expected = "a list of {number, flow} mappings";
        // Each number's line, to name the first one when a number is listed twice.
        let mut seen: std::collections::HashMap<String, u32> = std::collections::HashMap::new();
        for (i, item) in self.list(node, "voice.numbers", expected).unwrap_or_default().iter().enumerate() {
            let path = index("voice.numbers", i);
            let expected = "a mapping such as {number: \"+15550100\", flow: menu.yaml}";
            let Some(f) = self.fields(item, &path, expected, NUMBER_FIELDS) else { continue };
            let number = self.required(&f, "number").and_then(|node| {
                let path = join(&path, "number");
                let text = self.text(node, &path, "a phone number in quotes, such as \"+15550100\"")?;
                let digits = text.strip_prefix('+').unwrap_or(text);
                if digits.is_empty() || digits.len() > 32 || !digits.bytes().all(|b| b.is_ascii_digit()) {
                    self.sink.error(
                        node.pos,
                        &path,
                        format!("{text:?} is not a phone number; write digits, with a leading + for E.164"),
                    );
                    return None;
                }
                if let Some(line) = seen.get(text) {
                    self.sink.error(
                        node.pos,
                        &path,
                        format!("duplicate number {text:?} (first defined at line {line})"),
                    );
                    return None;
                }
                seen.insert(text.to_owned(), node.pos.line);
                Some(text.to_owned())
            });
            let destination = match (f.get("flow"), f.get("trunk")) {
                (Some(node), None) => {
                    self.file_name(node, &join(&path, "flow"), "flow file").map(crate::model::Destination::Flow)
                }
                (None, Some(node)) => self.trunk_reference(node, &join(&path, "trunk"), &voice.trunks),
                (Some(_), Some(node)) => {
                    let message = "a number goes to a flow or to a trunk, not both".to_owned();
                    self.sink.error(node.pos, &join(&path, "trunk"), message);
                    None
                }
                (None, None) => {
                    let message = "missing required field \"flow\" (or \"trunk\", to forward the calls)".to_owned();
                    self.sink.error(item.pos, &path, message);
                    None
                }
            };
            if let (Some(number), Some(destination)) = (number, destination) {
                voice.numbers.push(crate::model::Number { number, destination });
            }
        }
        voice
    }

    /// `{trunk, rules: [{caller | number | percent, to: legacy | switchboard}]}`.
    fn split(&mut self, node: &Node, trunks: &[crate::model::Trunk]) -> Option<crate::model::Split> {
        use crate::model::{SplitMatch, SplitRule};
        let expected = "a mapping such as {trunk: legacy-pbx, rules: [{percent: 10, to: switchboard}]}";
        let f = self.fields(node, "voice.split", expected, SPLIT_FIELDS)?;
        let trunk = self.required(&f, "trunk").and_then(|node| self.trunk_reference(node, "voice.split.trunk", trunks));
        let mut rules = Vec::new();
        let items = self.required(&f, "rules").and_then(|node| self.list(node, "voice.split.rules", "a list of rules"));
        for (i, item) in items.unwrap_or_default().iter().enumerate() {
            let path = index("voice.split.rules", i);
            let expected = "a mapping such as {caller: \"+4930\", to: legacy} or {percent: 10, to: switchboard}";
            let Some(f) = self.fields(item, &path, expected, SPLIT_RULE_FIELDS) else { continue };
            let matchers: Vec<&str> =
                ["caller", "number", "percent"].into_iter().filter(|k| f.get(k).is_some()).collect();
            let matcher = match matchers.as_slice() {
                ["caller"] => f
                    .get("caller")
                    .and_then(|n| self.text(n, &join(&path, "caller"), "a number prefix"))
                    .map(|t| SplitMatch::Caller(t.to_owned())),
                ["number"] => f
                    .get("number")
                    .and_then(|n| self.text(n, &join(&path, "number"), "a number"))
                    .map(|t| SplitMatch::Number(t.to_owned())),
                ["percent"] => f
                    .get("percent")
                    .and_then(|n| self.ranged(n, &join(&path, "percent"), "a share of the calls", 0, 100))
                    .map(|p| SplitMatch::Percent(p as u8)),
                _ => {
                    let message = "a rule matches on exactly one of caller, number or percent".to_owned();
                    self.sink.error(item.pos, &path, message);
                    None
                }
            };
            let to = self.required(&f, "to").and_then(|node| {
                let text = self.text(node, &join(&path, "to"), "legacy or switchboard")?;
                match text {
                    "legacy" => Some(true),
                    "switchboard" => Some(false),
                    other => {
                        let message = format!("{other:?} is not where calls go; write legacy or switchboard");
                        self.sink.error(node.pos, &join(&path, "to"), message);
                        None
                    }
                }
            });
            if let (Some(matcher), Some(to_legacy)) = (matcher, to) {
                rules.push(SplitRule { matcher, to_legacy });
            }
        }
        let crate::model::Destination::Trunk(trunk) = trunk? else { return None };
        Some(crate::model::Split { trunk, rules })
    }

    /// `[{id, address, user, password}]`: the SIP trunks calls can be forwarded to.
    fn trunks(&mut self, node: &Node) -> Vec<crate::model::Trunk> {
        let mut trunks: Vec<crate::model::Trunk> = Vec::new();
        let expected = "a list of {id, address} mappings";
        for (i, item) in self.list(node, "voice.trunks", expected).unwrap_or_default().iter().enumerate() {
            let path = index("voice.trunks", i);
            let expected = "a mapping such as {id: legacy-pbx, address: \"192.0.2.50:5060\"}";
            let Some(f) = self.fields(item, &path, expected, TRUNK_FIELDS) else { continue };
            let id = self.id(&f, "trunk").and_then(|raw| raw.slug);
            if let Some(id) = &id
                && trunks.iter().any(|t| t.id == *id)
            {
                let message = format!("duplicate trunk id {:?}", id.as_str());
                self.sink.error(item.pos, &join(&path, "id"), message);
                continue;
            }
            let address = self.required(&f, "address").and_then(|node| {
                let path = join(&path, "address");
                let text = self.text(node, &path, "HOST or HOST:PORT")?;
                match crate::model::Trunk::parse_address(text) {
                    Ok(address) => Some(address),
                    Err(message) => {
                        self.sink.error(node.pos, &path, message);
                        None
                    }
                }
            });
            let user = f.get("user").and_then(|node| self.text(node, &join(&path, "user"), "a SIP user name"));
            let password =
                f.get("password").and_then(|node| self.text(node, &join(&path, "password"), "the trunk's password"));
            let credentials = match (user, password) {
                (Some(user), Some(password)) => Some((user.to_owned(), password.to_owned())),
                (None, None) => None,
                _ => {
                    let message = "a trunk's user and password go together".to_owned();
                    self.sink.error(item.pos, &path, message);
                    continue;
                }
            };
            if let (Some(id), Some((host, port))) = (id, address) {
                trunks.push(crate::model::Trunk { id, host, port, credentials });
            }
        }
        trunks
    }

    /// A trunk id that the voice section defines.
    fn trunk_reference(
        &mut self,
        node: &Node,
        path: &str,
        trunks: &[crate::model::Trunk],
    ) -> Option<crate::model::Destination> {
        let text = self.text(node, path, "a trunk id")?;
        if trunks.iter().any(|t| t.id.as_str() == text) {
            return Some(crate::model::Destination::Trunk(text.to_owned()));
        }
        let known: Vec<&str> = trunks.iter().map(|t| t.id.as_str()).collect();
        let hint = crate::did_you_mean(text, known.iter().copied());
        let known = if known.is_empty() { "none".to_owned() } else { known.join(", ") };
        self.sink.error(node.pos, path, format!("unknown trunk {text:?}{hint}; trunks: {known}"));
        None
    }

    /// A relative or absolute file name.
    fn file_name(&mut self, node: &Node, path: &str, what: &str) -> Option<String> {
        let text = self.text(node, path, &format!("the name of {}", with_article(what)))?;
        if text.trim().is_empty() {
            self.sink.error(node.pos, path, format!("the name of {} is empty", with_article(what)));
            return None;
        }
        Some(text.to_owned())
    }

    fn channels(&mut self, node: &Node) -> ChannelCosts {
        let mut costs = ChannelCosts::default();
        let expected = "a mapping of channel to cost, such as {voice: 100, chat: 33}";
        for entry in self.entries(node, "channels", expected).unwrap_or_default() {
            let path = join("channels", &entry.key);
            let channel = self.channel_name(&entry.key, entry.key_pos, &path);
            let cost = self.ranged(&entry.value, &path, "a channel's cost", 1, 100);
            if let (Some(channel), Some(cost)) = (channel, cost) {
                costs = costs.with(channel, u8::try_from(cost).unwrap_or(100));
            }
        }
        costs
    }

    fn hours(&mut self, f: &Fields) -> RawHours {
        let time_zone =
            self.required(f, "time_zone").and_then(|node| self.time_zone(node, &join(&f.path, "time_zone")));
        let weekly =
            self.required(f, "weekly").map(|node| self.weekly(node, &join(&f.path, "weekly"))).unwrap_or_default();
        let holidays =
            f.get("holidays").map(|node| self.holidays(node, &join(&f.path, "holidays"))).unwrap_or_default();
        RawHours { time_zone, weekly, holidays }
    }

    fn weekly(&mut self, node: &Node, path: &str) -> WeeklyHours {
        let mut days: [Vec<TimeRange>; 7] = Default::default();
        // Which key set each day, so that a second key for the same day can name the first.
        let mut set_by: [Option<(&str, u32)>; 7] = [None; 7];
        let expected = "a mapping of days to opening hours, such as {mon-fri: \"08:00-18:00\"}";
        for entry in self.entries(node, path, expected).unwrap_or_default() {
            let key_path = join(path, &entry.key);
            let covered = match hours::parse_days(&entry.key) {
                Ok(covered) => covered,
                Err(message) => {
                    self.sink.error(entry.key_pos, &key_path, message);
                    continue;
                }
            };
            let ranges = self.day_ranges(&entry.value, &key_path);
            for day in covered {
                if let Some((key, line)) = set_by[day] {
                    self.sink.error(
                        entry.key_pos,
                        &key_path,
                        format!("{} already has its hours from \"{key}\" at line {line}", DAY_NAMES[day]),
                    );
                    continue;
                }
                set_by[day] = Some((&entry.key, entry.key_pos.line));
                days[day] = ranges.clone();
            }
        }
        WeeklyHours::from_days(days)
    }

    /// The ranges of one `weekly` entry: `"closed"`, one range, or a list of ranges.
    fn day_ranges(&mut self, node: &Node, path: &str) -> Vec<TimeRange> {
        let mut ranges: Vec<At<TimeRange>> = Vec::new();
        let mut parse = |this: &mut Self, node: &Node, path: String| {
            if let Some(text) = this.text(node, &path, "a time range such as \"08:00-18:00\"") {
                if text == "closed" {
                    let message = "\"closed\" stands for the whole day; write it instead of the \
                                   list, not inside it";
                    this.sink.error(node.pos, &path, message);
                    return;
                }
                match hours::parse_range(text) {
                    Ok(value) => ranges.push(At { value, pos: node.pos, path }),
                    Err(message) => this.sink.error(node.pos, &path, message),
                }
            }
        };
        match &node.kind {
            Kind::Scalar { text, .. } if text == "closed" => {}
            Kind::Scalar { .. } => parse(self, node, path.to_owned()),
            Kind::Seq(items) => {
                for (i, item) in items.iter().enumerate() {
                    parse(self, item, index(path, i));
                }
            }
            Kind::Invalid => {}
            _ => self.expected(node, path, "a time range such as \"08:00-18:00\", a list of them, or \"closed\""),
        }
        ranges.sort_by_key(|r| r.value.start);
        for pair in ranges.windows(2) {
            let (first, second) = (&pair[0], &pair[1]);
            if second.value.start < first.value.end {
                self.sink.error(
                    second.pos,
                    &second.path,
                    format!("time range \"{}\" overlaps \"{}\"", second.value, first.value),
                );
            }
        }
        ranges.into_iter().map(|r| r.value).collect()
    }

    fn holidays(&mut self, node: &Node, path: &str) -> Vec<Date> {
        let mut dates: Vec<Date> = Vec::new();
        let expected = "a list of dates such as [\"2026-12-25\"]";
        for (i, item) in self.list(node, path, expected).unwrap_or_default().iter().enumerate() {
            let path = index(path, i);
            let Some(text) = self.text(item, &path, "a date such as \"2026-12-25\"") else {
                continue;
            };
            match parse_date(text) {
                Ok(date) if dates.contains(&date) => {
                    self.sink.warning(item.pos, &path, format!("holiday {date} is listed more than once"))
                }
                Ok(date) => dates.push(date),
                Err(message) => self.sink.error(item.pos, &path, message),
            }
        }
        dates.sort();
        dates
    }

    fn queue(&mut self, f: &Fields) -> RawQueue {
        let path = f.path.clone();
        let channels = self
            .required(f, "channels")
            .map(|node| self.queue_channels(node, &join(&path, "channels")))
            .unwrap_or_default();
        let priority = self
            .optional(f, "priority", |this, node, path| this.ranged(node, path, "priority", 1, 10))
            .and_then(|p| Priority::new(u8::try_from(p).ok()?))
            .unwrap_or_default();
        let strategy = self.optional(f, "strategy", Decoder::strategy).unwrap_or_default();
        let service_level = self.optional(f, "service_level", Decoder::service_level).unwrap_or_default();
        let skills =
            self.required(f, "skills").map(|node| self.levels(node, &join(&path, "skills"))).unwrap_or_default();
        let business_hours =
            self.optional(f, "business_hours", |this, node, path| this.reference(node, path, "a business-hours id"));
        let offer_timeout = self
            .optional(f, "offer_timeout", |this, node, path| {
                this.duration_in(node, path, "offer_timeout", SECOND, 10 * MINUTE)
            })
            .unwrap_or(Duration::from_secs(20));
        let wrap_up = self
            .optional(f, "wrap_up", |this, node, path| this.duration_in(node, path, "wrap_up", Duration::ZERO, HOUR))
            .unwrap_or(Duration::ZERO);
        let expected_handle_time = self
            .optional(f, "expected_handle_time", |this, node, path| {
                this.duration_in(node, path, "expected_handle_time", SECOND, 8 * HOUR)
            })
            .unwrap_or(5 * MINUTE);
        let steps = self.optional(f, "steps", Decoder::steps).unwrap_or_default();
        RawQueue {
            channels,
            priority,
            strategy,
            service_level,
            skills,
            business_hours,
            offer_timeout,
            wrap_up,
            expected_handle_time,
            steps,
        }
    }

    fn queue_channels(&mut self, node: &Node, path: &str) -> Vec<Channel> {
        let Some(names) = self.references(node, path, "a list of channels, such as [voice, chat]") else {
            return Vec::new();
        };
        if names.is_empty() {
            self.sink.error(node.pos, path, "a queue needs at least one channel");
        }
        names.iter().filter_map(|name| self.channel_name(&name.value, name.pos, &name.path)).collect()
    }

    fn strategy(&mut self, node: &Node, path: &str) -> Option<Strategy> {
        let names = Strategy::ALL.map(Strategy::as_str);
        let text = self.text(node, path, "a strategy name")?;
        let found = Strategy::ALL.into_iter().find(|s| s.as_str() == text);
        if found.is_none() {
            self.sink.error(
                node.pos,
                path,
                format!(
                    "unknown strategy {text:?}{}; the strategies are {}",
                    did_you_mean(text, names),
                    names.join(", ")
                ),
            );
        }
        found
    }

    fn service_level(&mut self, node: &Node, path: &str) -> Option<ServiceLevel> {
        let f = self.fields(node, path, "a mapping such as {percent: 80, within: 20s}", SERVICE_LEVEL_FIELDS)?;
        let default = ServiceLevel::default();
        let percent = self
            .optional(&f, "percent", |this, node, path| this.ranged(node, path, "percent", 1, 100))
            .map_or(default.percent, |p| u8::try_from(p).unwrap_or(100));
        let within = self
            .optional(&f, "within", |this, node, path| this.duration_in(node, path, "within", SECOND, HOUR))
            .unwrap_or(default.within);
        Some(ServiceLevel { percent, within })
    }

    fn steps(&mut self, node: &Node, path: &str) -> Option<Vec<RawStep>> {
        let items = self.list(node, path, "a list of steps")?;
        let mut steps = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let path = index(path, i);
            let Some(f) =
                self.fields(item, &path, "a mapping such as {after: 30s, require: {billing: 1}}", STEP_FIELDS)
            else {
                continue;
            };
            let after = self.required(&f, "after").and_then(|node| {
                let path = join(&path, "after");
                let value = self.duration(node, &path)?;
                Some(At { value, pos: node.pos, path })
            });
            let levels = |this: &mut Self, key: &str| {
                f.get(key).map(|node| this.levels(node, &join(&path, key))).unwrap_or_default()
            };
            let require = levels(self, "require");
            let overflow_skills = levels(self, "overflow_skills");
            let references = |this: &mut Self, key: &str, expected: &str| {
                f.get(key).and_then(|node| this.references(node, &join(&path, key), expected)).unwrap_or_default()
            };
            let drop = references(self, "drop", "a list of skill ids");
            let overflow_queues = references(self, "overflow_queues", "a list of queue ids");
            steps.push(RawStep {
                path: path.clone(),
                pos: item.pos,
                after,
                require,
                drop,
                overflow_queues,
                overflow_skills,
            });
        }
        Some(steps)
    }

    fn agent(&mut self, f: &Fields) -> RawAgent {
        let path = f.path.clone();
        let skills = f.get("skills").map(|node| self.levels(node, &join(&path, "skills"))).unwrap_or_default();
        let queues = match f.get("queues") {
            Some(node) => self.references(node, &join(&path, "queues"), "a list of queue ids"),
            None => Some(Vec::new()),
        };
        let capacity = f.get("capacity").map(|node| {
            let path = join(&path, "capacity");
            let expected = "a mapping of channel to maximum, such as {voice: 1, chat: 2}";
            let mut capacity = Vec::new();
            for entry in self.entries(node, &path, expected).unwrap_or_default() {
                let path = join(&path, &entry.key);
                let channel = self.channel_name(&entry.key, entry.key_pos, &path);
                let max = self.integer(&entry.value, &path, "a whole number of interactions");
                match max {
                    Some(0) => self.sink.error(
                        entry.value.pos,
                        &path,
                        format!(
                            "a capacity of 0 lets the agent take no {0} at all; \
                             leave {0} out of the capacity instead",
                            entry.key
                        ),
                    ),
                    Some(max) if max < 0 => {
                        self.sink.error(entry.value.pos, &path, format!("a capacity cannot be negative, found {max}"))
                    }
                    _ => {}
                }
                if let (Some(channel), Some(max)) = (channel, max.filter(|&m| m > 0)) {
                    capacity.push(At {
                        value: (channel, u32::try_from(max).unwrap_or(u32::MAX)),
                        pos: entry.value.pos,
                        path,
                    });
                }
            }
            capacity
        });
        let auto_accept =
            f.get("auto_accept").and_then(|node| self.boolean(node, &join(&path, "auto_accept"))).unwrap_or(false);
        let phone = f.get("phone").and_then(|node| self.phone(node, &join(&path, "phone")));
        RawAgent { skills, queues, capacity, auto_accept, phone }
    }

    /// `{user: NAME, password: SECRET}`, the user optional.
    fn phone(&mut self, node: &Node, path: &str) -> Option<At<(Option<String>, String)>> {
        let expected = "a mapping such as {user: \"1001\", password: \"...\"}";
        let f = self.fields(node, path, expected, PHONE_FIELDS)?;
        let user = match f.get("user") {
            Some(node) => {
                let user = self.text(node, &join(path, "user"), "a SIP user name")?;
                if user.is_empty() || !user.chars().all(|c| c.is_ascii_alphanumeric() || "._~+-".contains(c)) {
                    self.sink.error(
                        node.pos,
                        &join(path, "user"),
                        format!("{user:?} is not a usable SIP user name; use letters, digits and . _ ~ + -"),
                    );
                    return None;
                }
                Some(user.to_owned())
            }
            None => None,
        };
        let password_node = self.required(&f, "password")?;
        let password = self.text(password_node, &join(path, "password"), "the phone's password")?;
        if password.is_empty() {
            self.sink.error(password_node.pos, &join(path, "password"), "the phone's password is empty".to_owned());
            return None;
        }
        Some(At { value: (user, password.to_owned()), pos: node.pos, path: path.to_owned() })
    }

    /// `true` or `false`.
    fn boolean(&mut self, node: &Node, path: &str) -> Option<bool> {
        match self.text(node, path, "true or false")? {
            "true" => Some(true),
            "false" => Some(false),
            other => {
                self.sink.error(node.pos, path, format!("expected true or false, found {other:?}"));
                None
            }
        }
    }

    // Building blocks shared by the sections.

    /// Decodes the list `key` of `f`, each element a mapping with an `id`, an optional `name`
    /// and what `body` decodes.
    fn items<T>(
        &mut self,
        f: &Fields,
        key: &str,
        required: bool,
        kind: &str,
        known: &[&str],
        mut body: impl FnMut(&mut Self, &Fields) -> T,
    ) -> Vec<RawItem<T>> {
        let node = if required { self.required(f, key) } else { f.get(key) };
        let Some(node) = node else {
            return Vec::new();
        };
        let Some(elements) = self.list(node, key, &format!("a list of {kind}s")) else {
            return Vec::new();
        };
        let mut items = Vec::new();
        for (i, element) in elements.iter().enumerate() {
            let path = index(key, i);
            let before = self.sink.error_count();
            let Some(f) = self.fields(element, &path, &format!("a mapping describing {}", with_article(kind)), known)
            else {
                continue;
            };
            let id = self.id(&f, kind);
            let name = if known.contains(&"name") {
                f.get("name").and_then(|node| self.name(node, &join(&path, "name")))
            } else {
                None
            };
            let body = body(self, &f);
            items.push(RawItem { path, pos: element.pos, id, name, clean: self.sink.error_count() == before, body });
        }
        items
    }

    /// The fields of a mapping; unknown and repeated keys are reported and left out.
    pub(crate) fn fields<'n>(
        &mut self,
        node: &'n Node,
        path: &str,
        expected: &str,
        known: &[&str],
    ) -> Option<Fields<'n>> {
        let entries = self.entries(node, path, expected)?;
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
                None => format!("unknown field {:?}; the fields here are {}", entry.key, known.join(", ")),
            };
            self.sink.error(entry.key_pos, &join(path, &entry.key), message);
        }
        Some(Fields { pos: node.pos, path: path.to_owned(), entries: kept, misspelt })
    }

    /// The entries of a mapping, with repeated keys reported and left out.
    pub(crate) fn entries<'n>(&mut self, node: &'n Node, path: &str, expected: &str) -> Option<Vec<&'n Entry>> {
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
                self.sink.error(
                    entry.key_pos,
                    &join(path, &entry.key),
                    format!("duplicate key {:?} (first given at {at})", entry.key),
                );
                continue;
            }
            first.insert(&entry.key, entry.key_pos);
            kept.push(entry);
        }
        Some(kept)
    }

    pub(crate) fn list<'n>(&mut self, node: &'n Node, path: &str, expected: &str) -> Option<&'n [Node]> {
        match &node.kind {
            Kind::Seq(items) => Some(items),
            _ => {
                self.expected(node, path, expected);
                None
            }
        }
    }

    /// Reports that `node` is not what was expected, unless it was already reported.
    pub(crate) fn expected(&mut self, node: &Node, path: &str, expected: &str) {
        if !matches!(node.kind, Kind::Invalid) {
            self.sink.error(node.pos, path, format!("expected {expected}, found {}", node.describe()));
        }
    }

    /// The value of a required field; its absence is reported at the mapping.
    pub(crate) fn required<'n>(&mut self, f: &Fields<'n>, key: &str) -> Option<&'n Node> {
        let node = f.get(key);
        if node.is_none() && !f.misspelt.iter().any(|m| m == key) {
            let message = if f.path.is_empty() {
                format!("missing required section {key:?}")
            } else {
                format!("missing required field {key:?}")
            };
            self.sink.error(f.pos, &f.path, message);
        }
        node
    }

    /// Decodes an optional field with `decode`; `None` when absent or invalid.
    pub(crate) fn optional<T>(
        &mut self,
        f: &Fields,
        key: &str,
        decode: impl FnOnce(&mut Self, &Node, &str) -> Option<T>,
    ) -> Option<T> {
        let node = f.get(key)?;
        decode(self, node, &join(&f.path, key))
    }

    /// The text of a scalar.
    pub(crate) fn text<'n>(&mut self, node: &'n Node, path: &str, expected: &str) -> Option<&'n str> {
        match &node.kind {
            Kind::Scalar { text, .. } => Some(text),
            _ => {
                self.expected(node, path, expected);
                None
            }
        }
    }

    /// The required `id` of an item, checked to be a slug.
    fn id(&mut self, f: &Fields, kind: &str) -> Option<RawId> {
        let node = self.required(f, "id")?;
        let path = join(&f.path, "id");
        let text = self.text(node, &path, &format!("{} id", with_article(kind)))?;
        let slug = match Slug::parse(text) {
            Ok(slug) => Some(slug),
            Err(error) => {
                self.sink.error(node.pos, &path, format!("invalid {kind} id {text:?}: {error}"));
                None
            }
        };
        Some(RawId { text: At { value: text.to_owned(), pos: node.pos, path }, slug })
    }

    pub(crate) fn name(&mut self, node: &Node, path: &str) -> Option<String> {
        let text = self.text(node, path, "a name")?;
        if text.trim().is_empty() {
            self.sink.error(node.pos, path, "a name must not be blank; leave the field out to use the id");
            return None;
        }
        Some(text.to_owned())
    }

    pub(crate) fn reference(&mut self, node: &Node, path: &str, expected: &str) -> Option<At<String>> {
        let text = self.text(node, path, expected)?;
        Some(At { value: text.to_owned(), pos: node.pos, path: path.to_owned() })
    }

    /// A list of names; repeats are reported and left out.
    pub(crate) fn references(&mut self, node: &Node, path: &str, expected: &str) -> Option<Vec<At<String>>> {
        let items = self.list(node, path, expected)?;
        let mut names: Vec<At<String>> = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let Some(name) = self.reference(item, &index(path, i), "a name") else {
                continue;
            };
            if let Some(first) = names.iter().find(|n| n.value == name.value) {
                let message = format!(
                    "{:?} is listed more than once (first at line {}, column {})",
                    name.value, first.pos.line, first.pos.column
                );
                self.sink.error(name.pos, &name.path, message);
                continue;
            }
            names.push(name);
        }
        Some(names)
    }

    /// A mapping of skill to proficiency, such as `{billing: 2, spanish: 3}`.
    pub(crate) fn levels(&mut self, node: &Node, path: &str) -> Vec<RawLevel> {
        let expected = "a mapping of skill to proficiency, such as {billing: 2}";
        let Some(entries) = self.entries(node, path, expected) else {
            return Vec::new();
        };
        entries
            .into_iter()
            .map(|entry| {
                let path = join(path, &entry.key);
                let level = self
                    .ranged(&entry.value, &path, "proficiency", 1, 5)
                    .and_then(|level| Proficiency::new(u8::try_from(level).ok()?));
                RawLevel { skill: At { value: entry.key.clone(), pos: entry.key_pos, path }, level }
            })
            .collect()
    }

    pub(crate) fn channel_name(&mut self, name: &str, pos: Pos, path: &str) -> Option<Channel> {
        let channel = Channel::from_name(name);
        if channel.is_none() {
            let names = Channel::ALL.map(Channel::as_str);
            self.sink.error(
                pos,
                path,
                format!("unknown channel {name:?}{}; the channels are {}", did_you_mean(name, names), names.join(", ")),
            );
        }
        channel
    }

    fn time_zone(&mut self, node: &Node, path: &str) -> Option<TimeZone> {
        let name = self.text(node, path, "an IANA time zone name such as \"Europe/Berlin\"")?;
        match TimeZone::get(name) {
            Ok(tz) => Some(tz),
            Err(_) => {
                let db = jiff::tz::db();
                let known: Vec<String> = db.available().map(|n| n.as_str().to_owned()).collect();
                let hint = did_you_mean(name, known.iter().map(String::as_str));
                let message = if hint.is_empty() {
                    format!(
                        "unknown time zone {name:?}; use an IANA time zone name such as \
                         \"Europe/Berlin\" or \"America/New_York\""
                    )
                } else {
                    format!("unknown time zone {name:?}{hint}")
                };
                self.sink.error(node.pos, path, message);
                None
            }
        }
    }

    /// A plain integer. A quoted number is a string, and is reported as such.
    pub(crate) fn integer(&mut self, node: &Node, path: &str, expected: &str) -> Option<i64> {
        match &node.kind {
            Kind::Scalar { text, quoted } => match text.parse::<i64>() {
                Ok(n) if !quoted => Some(n),
                Ok(_) => {
                    self.sink.error(
                        node.pos,
                        path,
                        format!(
                            "expected {expected}, found the quoted text {text:?}; \
                             remove the quotes"
                        ),
                    );
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
    pub(crate) fn ranged(&mut self, node: &Node, path: &str, what: &str, min: i64, max: i64) -> Option<i64> {
        let n = self.integer(node, path, &format!("an integer from {min} to {max}"))?;
        if n < min || n > max {
            self.sink.error(node.pos, path, format!("{what} must be from {min} to {max}, found {n}"));
            return None;
        }
        Some(n)
    }

    /// A duration: whole seconds, or text such as `1h30m`.
    pub(crate) fn duration(&mut self, node: &Node, path: &str) -> Option<Duration> {
        let text = self.text(node, path, "a duration such as 30s, 2m or 1h30m")?;
        if let Some(negative) = text.strip_prefix('-') {
            if negative.bytes().all(|b| b.is_ascii_digit()) || parse_duration(negative).is_ok() {
                self.sink.error(node.pos, path, format!("a duration cannot be negative, found {text}"));
                return None;
            }
        }
        match parse_duration(text) {
            Ok(duration) => Some(duration),
            Err(error) => {
                self.sink.error(node.pos, path, error.to_string());
                None
            }
        }
    }

    /// A duration in `min..=max`.
    pub(crate) fn duration_in(
        &mut self,
        node: &Node,
        path: &str,
        what: &str,
        min: Duration,
        max: Duration,
    ) -> Option<Duration> {
        let duration = self.duration(node, path)?;
        if duration < min || duration > max {
            self.sink.error(
                node.pos,
                path,
                format!(
                    "{what} must be from {} to {}, found {}",
                    format_duration(min),
                    format_duration(max),
                    format_duration(duration)
                ),
            );
            return None;
        }
        Some(duration)
    }
}

/// `a queue`, `an agent`.
pub(crate) fn with_article(noun: &str) -> String {
    if noun.starts_with(['a', 'e', 'i', 'o', 'u']) { format!("an {noun}") } else { format!("a {noun}") }
}

/// Parses an ISO date, `YYYY-MM-DD`.
pub(crate) fn parse_date(text: &str) -> Result<Date, String> {
    let bad_form = || format!("invalid date {text:?}: expected YYYY-MM-DD, such as \"2026-12-25\"");
    let parts: Vec<&str> = text.split('-').collect();
    let [year, month, day] = parts[..] else {
        return Err(bad_form());
    };
    let well_formed = [(year, 4), (month, 2), (day, 2)]
        .iter()
        .all(|(part, len)| part.len() == *len && part.bytes().all(|b| b.is_ascii_digit()));
    if !well_formed {
        return Err(bad_form());
    }
    let (year, month, day): (i16, i8, i8) = (
        year.parse().map_err(|_| bad_form())?,
        month.parse().map_err(|_| bad_form())?,
        day.parse().map_err(|_| bad_form())?,
    );
    if !(1..=12).contains(&month) {
        return Err(format!("invalid date {text:?}: there is no month {month}"));
    }
    Date::new(year, month, day).map_err(|_| {
        format!("invalid date {text:?}: {} has no day {day}", jiff::civil::date(year, month, 1).strftime("%B %Y"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        let cases = [
            ("2026-12-25", "2026-12-25"),
            ("2028-02-29", "2028-02-29"),
            ("2026-02-29", "invalid date \"2026-02-29\": February 2026 has no day 29"),
            ("2026-04-31", "invalid date \"2026-04-31\": April 2026 has no day 31"),
            ("2026-13-01", "invalid date \"2026-13-01\": there is no month 13"),
            ("2026-12-00", "invalid date \"2026-12-00\": December 2026 has no day 0"),
            ("25.12.2026", "invalid date \"25.12.2026\": expected YYYY-MM-DD, such as \"2026-12-25\""),
            ("2026-1-5", "invalid date \"2026-1-5\": expected YYYY-MM-DD, such as \"2026-12-25\""),
            ("2026-12-25T00:00", "invalid date \"2026-12-25T00:00\": expected YYYY-MM-DD, such as \"2026-12-25\""),
        ];
        for (text, expect) in cases {
            let got = parse_date(text).map_or_else(|e| e, |d| d.to_string());
            assert_eq!(got, expect, "parsing {text:?}");
        }
    }
}
