//! The typed, validated configuration of one tenant.
//!
//! A [`TenantConfig`] only comes out of [`crate::parse`] (or [`crate::load`] and
//! [`crate::check_file`]), so holding one proves the file was valid: every reference is
//! resolved to a typed index into the config's own lists, ids are unique slugs, numbers are in
//! range and every queue can be served at every step. The types are plain data with public
//! fields for reading; they are `#[non_exhaustive]` so that no other crate can build one by
//! hand, and they have no setters. Nothing here knows YAML.

use std::fmt;
use std::time::Duration;

use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;

use crate::diagnostic::plural;
use crate::hours::WeeklyHours;

macro_rules! index_type {
    ($(#[$doc:meta])* $name:ident($int:ty), $list:literal) => {
        $(#[$doc])*
        #[doc = concat!("\n\nAn index into [`TenantConfig::", $list, "`]; only the parser creates one.")]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name($int);

        impl $name {
            /// The position in the list this index points into.
            pub fn index(self) -> usize {
                self.0 as usize
            }

            /// Creates the index of position `index`; the caller has checked that it fits.
            pub(crate) fn from_index(index: usize) -> $name {
                $name(<$int>::try_from(index).expect("list sizes are checked while parsing"))
            }
        }
    };
}

index_type!(
    /// A skill of the tenant.
    SkillIx(u16),
    "skills"
);
index_type!(
    /// A queue of the tenant.
    QueueIx(u16),
    "queues"
);
index_type!(
    /// An agent of the tenant.
    AgentIx(u32),
    "agents"
);
index_type!(
    /// A not-ready reason code of the tenant.
    ReasonIx(u16),
    "reason_codes"
);
index_type!(
    /// A business-hours schedule of the tenant.
    HoursIx(u16),
    "business_hours"
);

/// An identifier: 1 to 63 characters among lowercase `a-z`, digits and `-`.
///
/// Tenant, skill, reason code, business hours, queue and agent ids are slugs, so they can be
/// used in URLs, metrics labels and log lines without escaping.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Slug(String);

/// Why a string is not a [`Slug`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SlugError {
    #[error("an id must not be empty")]
    Empty,
    #[error("an id has at most 63 characters, this one has {0}")]
    TooLong(usize),
    #[error("an id may only contain lowercase letters a-z, digits and '-', not {0:?}")]
    BadChar(char),
}

impl Slug {
    /// The longest slug, in characters.
    pub const MAX_LEN: usize = 63;

    /// Checks `text` and wraps it.
    pub fn parse(text: &str) -> Result<Slug, SlugError> {
        if text.is_empty() {
            return Err(SlugError::Empty);
        }
        if let Some(c) = text.chars().find(|c| !matches!(c, 'a'..='z' | '0'..='9' | '-')) {
            return Err(SlugError::BadChar(c));
        }
        if text.len() > Slug::MAX_LEN {
            return Err(SlugError::TooLong(text.len()));
        }
        Ok(Slug(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for Slug {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::str::FromStr for Slug {
    type Err = SlugError;

    fn from_str(text: &str) -> Result<Slug, SlugError> {
        Slug::parse(text)
    }
}

/// A kind of interaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Channel {
    Voice,
    Chat,
    Email,
    Sms,
}

impl Channel {
    /// Every channel, in the order used by [`Channel::index`].
    pub const ALL: [Channel; 4] = [Channel::Voice, Channel::Chat, Channel::Email, Channel::Sms];

    /// The name used in configuration files: `voice`, `chat`, `email`, `sms`.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Voice => "voice",
            Channel::Chat => "chat",
            Channel::Email => "email",
            Channel::Sms => "sms",
        }
    }

    /// The channel called `name` in configuration files.
    pub fn from_name(name: &str) -> Option<Channel> {
        Channel::ALL.into_iter().find(|c| c.as_str() == name)
    }

    /// A dense index, `0..4`, for per-channel arrays.
    pub fn index(self) -> usize {
        self as usize
    }

    /// The capacity cost of one interaction when the file does not set it.
    pub fn default_cost(self) -> u8 {
        match self {
            Channel::Voice => 100,
            Channel::Chat => 33,
            Channel::Email => 50,
            Channel::Sms => 25,
        }
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The capacity an agent has in total, which interactions use up according to their
/// channel's cost.
pub const AGENT_CAPACITY: u8 = 100;

/// How much of an agent's capacity of [`AGENT_CAPACITY`] one interaction of each channel uses,
/// each `1..=100`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ChannelCosts([u8; 4]);

impl ChannelCosts {
    pub fn cost(&self, channel: Channel) -> u8 {
        self.0[channel.index()]
    }

    /// The costs with the channels that the file set replaced.
    pub(crate) fn with(mut self, channel: Channel, cost: u8) -> ChannelCosts {
        self.0[channel.index()] = cost;
        self
    }
}

impl Default for ChannelCosts {
    fn default() -> ChannelCosts {
        ChannelCosts(Channel::ALL.map(Channel::default_cost))
    }
}

/// How many interactions of each channel an agent may handle at once; 0 means the agent does
/// not take the channel at all. For every channel, max × cost ≤ 100.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Capacity([u8; 4]);

impl Capacity {
    /// The most interactions of `channel` the agent handles at once.
    pub fn max(&self, channel: Channel) -> u8 {
        self.0[channel.index()]
    }

    /// The channels the agent takes, with their maximums.
    pub fn channels(&self) -> impl Iterator<Item = (Channel, u8)> + '_ {
        Channel::ALL.into_iter().map(|c| (c, self.max(c))).filter(|&(_, max)| max > 0)
    }

    pub(crate) fn with(mut self, channel: Channel, max: u8) -> Capacity {
        self.0[channel.index()] = max;
        self
    }
}

/// How well an agent masters a skill, or the minimum a queue requires: 1 (basic) to 5
/// (expert).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Proficiency(u8);

impl Proficiency {
    pub const MIN: Proficiency = Proficiency(1);
    pub const MAX: Proficiency = Proficiency(5);

    /// The proficiency `level`, if it is in `1..=5`.
    pub fn new(level: u8) -> Option<Proficiency> {
        (Proficiency::MIN.0..=Proficiency::MAX.0).contains(&level).then_some(Proficiency(level))
    }

    pub fn get(self) -> u8 {
        self.0
    }
}

impl fmt::Display for Proficiency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A queue's priority, 1 to 10; queues with a higher priority are served first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Priority(u8);

impl Priority {
    pub const MIN: Priority = Priority(1);
    pub const MAX: Priority = Priority(10);
    pub const DEFAULT: Priority = Priority(5);

    /// The priority `value`, if it is in `1..=10`.
    pub fn new(value: u8) -> Option<Priority> {
        (Priority::MIN.0..=Priority::MAX.0).contains(&value).then_some(Priority(value))
    }

    pub fn get(self) -> u8 {
        self.0
    }
}

impl Default for Priority {
    fn default() -> Priority {
        Priority::DEFAULT
    }
}

/// How a queue picks among the agents who could take an interaction.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Strategy {
    /// The agent who has been idle longest.
    #[default]
    LongestIdle,
    /// The agent with the highest proficiency in the required skills.
    MostSkilled,
    /// The agents in turn.
    RoundRobin,
    /// The agent with the most capacity left.
    LeastOccupied,
}

impl Strategy {
    pub const ALL: [Strategy; 4] =
        [Strategy::LongestIdle, Strategy::MostSkilled, Strategy::RoundRobin, Strategy::LeastOccupied];

    /// The name used in configuration files.
    pub fn as_str(self) -> &'static str {
        match self {
            Strategy::LongestIdle => "longest_idle",
            Strategy::MostSkilled => "most_skilled",
            Strategy::RoundRobin => "round_robin",
            Strategy::LeastOccupied => "least_occupied",
        }
    }
}

/// A skill at a level: what an agent has, or the minimum an interaction needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct SkillLevel {
    pub skill: SkillIx,
    pub level: Proficiency,
}

impl SkillLevel {
    pub(crate) fn new(skill: SkillIx, level: Proficiency) -> SkillLevel {
        SkillLevel { skill, level }
    }
}

/// The target a queue is measured against: `percent` of interactions answered `within`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct ServiceLevel {
    /// `1..=100`.
    pub percent: u8,
    /// `1s..=1h`.
    pub within: Duration,
}

impl Default for ServiceLevel {
    fn default() -> ServiceLevel {
        ServiceLevel { percent: 80, within: Duration::from_secs(20) }
    }
}

/// The tenant itself.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Tenant {
    pub id: Slug,
    pub name: String,
    /// The tenant's home time zone, used for reports.
    pub time_zone: TimeZone,
}

/// A skill that agents have and queues require.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Skill {
    pub id: Slug,
    /// A display name; the id when the file gives none.
    pub name: String,
}

/// A reason an agent gives for being not ready.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReasonCode {
    pub id: Slug,
    /// A display name; the id when the file gives none.
    pub name: String,
}

/// When a queue is open.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct BusinessHours {
    pub id: Slug,
    pub time_zone: TimeZone,
    pub weekly: WeeklyHours,
    /// Days closed all day, sorted, without repeats.
    pub holidays: Vec<Date>,
}

impl BusinessHours {
    /// Whether the schedule is open at the instant `at`. Time is an input: nothing here reads
    /// the clock.
    pub fn is_open(&self, at: Timestamp) -> bool {
        let local = at.to_zoned(self.time_zone.clone());
        let date = local.date();
        if self.holidays.binary_search(&date).is_ok() {
            return false;
        }
        let minutes = u16::try_from(local.hour()).unwrap_or(0) * 60 + u16::try_from(local.minute()).unwrap_or(0);
        self.weekly.on(date.weekday()).iter().any(|range| range.contains(minutes))
    }
}

/// A change to a queue's requirements once an interaction has waited long enough.
///
/// Steps apply cumulatively; [`Queue::stages`] holds the result of applying them.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Step {
    /// The wait after which the step applies; steps are strictly increasing and above zero.
    pub after: Duration,
    /// Skills whose minimum level is set (lowered, raised or added).
    pub require: Vec<SkillLevel>,
    /// Skills no longer required.
    pub drop: Vec<SkillIx>,
    /// Queues whose members may also take the interaction (still subject to the required
    /// skills).
    pub overflow_queues: Vec<QueueIx>,
    /// Skills that make any agent eligible, whatever the agent's queues and other skills.
    pub overflow_skills: Vec<SkillLevel>,
}

/// What a queue requires of an agent during one period of an interaction's wait: from
/// `after` until the next stage's `after`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stage {
    /// Zero for the first stage, then the `after` of the step that starts the stage.
    pub after: Duration,
    /// The queue itself followed by the overflow queues gathered so far. An agent who is a
    /// member of one of them and has every skill of `skills` qualifies.
    pub member_queues: Vec<QueueIx>,
    /// The minimum levels a member needs.
    pub skills: Vec<SkillLevel>,
    /// An agent with any of these, at or above the level, qualifies whatever the rest.
    pub overflow_skills: Vec<SkillLevel>,
}

impl Stage {
    /// Whether `agent` may take an interaction of the queue during this stage, by skills and
    /// membership. Whether the agent takes the interaction's channel is a separate question
    /// ([`Agent::capacity`]), as are the agent's presence and load.
    pub fn admits(&self, agent: &Agent) -> bool {
        let meets = |req: &SkillLevel| agent.level(req.skill).is_some_and(|l| l >= req.level);
        let member = self.member_queues.iter().any(|q| agent.queues.contains(q));
        (member && self.skills.iter().all(meets)) || self.overflow_skills.iter().any(meets)
    }
}

/// A queue: where interactions wait for an agent.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Queue {
    pub id: Slug,
    /// A display name; the id when the file gives none.
    pub name: String,
    /// The channels the queue takes; not empty, no repeats.
    pub channels: Vec<Channel>,
    pub priority: Priority,
    pub strategy: Strategy,
    pub service_level: ServiceLevel,
    /// The minimum skill levels at the start of the wait.
    pub skills: Vec<SkillLevel>,
    /// When the queue is open; always open when `None`.
    pub business_hours: Option<HoursIx>,
    /// How long an offered interaction rings before it goes to the next agent (`1s..=10m`).
    pub offer_timeout: Duration,
    /// Time after an interaction during which the agent takes no new one (`0s..=1h`).
    pub wrap_up: Duration,
    /// The handle time assumed for wait estimates until real ones are observed.
    pub expected_handle_time: Duration,
    /// The steps as written, with references resolved.
    pub steps: Vec<Step>,
    /// The requirements in force during each period of the wait: one stage for the start and
    /// one per step, in order. Never empty.
    pub stages: Vec<Stage>,
}

impl Queue {
    /// The stage in force once an interaction has waited `waited`.
    pub fn stage_at(&self, waited: Duration) -> &Stage {
        let after = self.stages.partition_point(|s| s.after <= waited);
        &self.stages[after.saturating_sub(1)]
    }

    /// Whether the queue takes interactions of `channel`.
    pub fn takes(&self, channel: Channel) -> bool {
        self.channels.contains(&channel)
    }
}

/// An agent.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Agent {
    pub id: Slug,
    /// A display name; the id when the file gives none.
    pub name: String,
    /// The agent's skills, each listed once.
    pub skills: Vec<SkillLevel>,
    /// The queues the agent is a member of, each listed once.
    pub queues: Vec<QueueIx>,
    /// The agent's per-channel limits, explicit or derived from the queues' channels.
    pub capacity: Capacity,
    /// Offers are accepted at once, without the agent answering them.
    pub auto_accept: bool,
    /// The agent's desk phone, which registers with digest authentication.
    pub phone: Option<Phone>,
}

/// A desk phone's SIP account.
#[derive(Clone, PartialEq, Eq)]
pub struct Phone {
    /// The user part of the phone's address of record.
    pub user: String,
    pub password: String,
}

impl std::fmt::Debug for Phone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Phone").field("user", &self.user).field("password", &"<hidden>").finish()
    }
}

impl Agent {
    /// The agent's level in `skill`, if the agent has it.
    pub fn level(&self, skill: SkillIx) -> Option<Proficiency> {
        self.skills.iter().find(|s| s.skill == skill).map(|s| s.level)
    }

    pub fn is_member_of(&self, queue: QueueIx) -> bool {
        self.queues.contains(&queue)
    }
}

/// When the supervisor dashboard raises an alert, and whom it tells.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Alerts {
    /// A queue whose oldest waiting interaction has waited longer is in alert. `1s..=24h`.
    pub longest_wait: Duration,
    /// Where a JSON notice is POSTed when a queue enters or leaves alert: an `http://` URL.
    pub webhook: Option<Webhook>,
}

impl Default for Alerts {
    fn default() -> Alerts {
        Alerts { longest_wait: Duration::from_secs(60), webhook: None }
    }
}

/// The tenant's telephone numbers and what callers hear.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Voice {
    /// Played to callers while they wait in a queue, looped: a WAV file, relative to the
    /// tenant file. `None`: silence.
    pub music_on_hold: Option<String>,
    /// The numbers callers dial (the DNIS of an inbound call) and the flow each one enters.
    pub numbers: Vec<Number>,
    /// Whether conversations with agents are recorded.
    pub record_calls: bool,
    /// Where recordings and voicemails are written, relative to the tenant file.
    pub recordings: String,
    /// A key file (made by `switchboard migrate key`), relative to the tenant file: when
    /// given, recordings and voicemails are sealed at rest (`NAME.wav.sealed`).
    pub recordings_key: Option<String>,
    /// SIP trunks calls can be forwarded to (a legacy PBX, a carrier).
    pub trunks: Vec<Trunk>,
    /// Telling callers in a queue their position, now and then.
    pub announcements: Option<Announcements>,
    /// During a migration: which new calls go to the legacy center instead.
    pub split: Option<Split>,
}

/// Traffic split during a migration: each new call to a flow number is matched against the
/// rules in order; the first that matches sends it to Switchboard or to the legacy trunk.
/// A call no rule matches stays with Switchboard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Split {
    /// The trunk to the legacy PBX.
    pub trunk: String,
    pub rules: Vec<SplitRule>,
}

/// One rule of a [`Split`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SplitRule {
    pub matcher: SplitMatch,
    /// `true`: the legacy PBX; `false`: Switchboard.
    pub to_legacy: bool,
}

/// What a split rule matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SplitMatch {
    /// Callers whose number starts with this.
    Caller(String),
    /// Calls to this number (DNIS).
    Number(String),
    /// This share of the calls that reach the rule, in percent (every call when 100).
    Percent(u8),
}

/// Position announcements: every `every`, a caller waiting in a queue hears
/// `position.wav`, then the position digit by digit (`0.wav` to `9.wav`), then `after.wav`
/// if the directory has one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Announcements {
    pub every: std::time::Duration,
    /// The directory of the prompts, relative to the tenant file.
    pub prompts: String,
}

/// A SIP trunk: where to send calls, and the credentials if it challenges them.
#[derive(Clone, PartialEq, Eq)]
pub struct Trunk {
    pub id: Slug,
    /// A host name or IP address.
    pub host: String,
    pub port: u16,
    /// User and password for digest authentication, if the trunk asks.
    pub credentials: Option<(String, String)>,
}

impl std::fmt::Debug for Trunk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Trunk")
            .field("id", &self.id)
            .field("host", &self.host)
            .field("port", &self.port)
            .field("user", &self.credentials.as_ref().map(|(user, _)| user))
            .finish_non_exhaustive()
    }
}

impl Trunk {
    /// Reads `HOST` or `HOST:PORT` (`[IPv6]:PORT`); the port defaults to 5060.
    pub fn parse_address(text: &str) -> Result<(String, u16), String> {
        let bad = || format!("{text:?} is not a trunk address; write HOST or HOST:PORT, such as \"192.0.2.50:5060\"");
        let (host, port) = if let Some(rest) = text.strip_prefix('[') {
            let (host, after) = rest.split_once(']').ok_or_else(bad)?;
            match after.strip_prefix(':') {
                Some(port) => (host, Some(port)),
                None if after.is_empty() => (host, None),
                None => return Err(bad()),
            }
        } else {
            match text.rsplit_once(':') {
                Some((host, port)) if !host.contains(':') => (host, Some(port)),
                _ => (text, None),
            }
        };
        let port = match port {
            Some(port) => port.parse::<u16>().ok().filter(|p| *p != 0).ok_or_else(bad)?,
            None => 5060,
        };
        let host_ok = !host.is_empty() && host.chars().all(|c| c.is_ascii_alphanumeric() || ".-:".contains(c));
        if !host_ok {
            return Err(bad());
        }
        Ok((host.to_owned(), port))
    }
}

/// Where a number's calls go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    /// Into a contact flow: the flow file, relative to the tenant file.
    Flow(String),
    /// Straight on to a trunk, by id (a legacy PBX during a migration).
    Trunk(String),
}

impl Default for Voice {
    fn default() -> Voice {
        Voice {
            music_on_hold: None,
            numbers: Vec::new(),
            record_calls: false,
            recordings: "recordings".to_owned(),
            recordings_key: None,
            trunks: Vec::new(),
            announcements: None,
            split: None,
        }
    }
}

/// A number callers dial and the contact flow its calls enter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Number {
    /// `+` and digits, or digits only, as the trunk sends them in the request URI's user part.
    pub number: String,
    pub destination: Destination,
}

/// A plain-HTTP webhook address, split for the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Webhook {
    pub url: String,
    pub host: String,
    pub port: u16,
    /// Starts with `/`.
    pub path: String,
}

impl Webhook {
    /// Reads an `http://host[:port][/path]` URL.
    pub fn parse(url: &str) -> Result<Webhook, String> {
        if url.starts_with("https://") {
            return Err(
                "https webhooks are not supported yet; use an http:// address (for example a local relay)".into()
            );
        }
        let rest = url.strip_prefix("http://").ok_or_else(|| format!("a webhook is an http:// URL, not {url:?}"))?;
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        let (host, port) = match authority.rsplit_once(':') {
            Some((h, p)) => {
                (h, p.parse::<u16>().map_err(|_| format!("the port of {url:?} is not a number from 1 to 65535"))?)
            }
            None => (authority, 80),
        };
        if host.is_empty() || port == 0 || host.contains(['@', ' ']) || path.contains(' ') {
            return Err(format!("{url:?} is not a usable http:// address"));
        }
        Ok(Webhook { url: url.to_string(), host: host.to_string(), port, path: path.to_string() })
    }
}

/// A tenant's complete, valid configuration.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct TenantConfig {
    pub tenant: Tenant,
    pub channels: ChannelCosts,
    pub skills: Vec<Skill>,
    /// The file's reason codes, followed by `missed` if the file did not define it.
    pub reason_codes: Vec<ReasonCode>,
    /// The reason code `missed`, given to an agent who lets an offer time out.
    pub missed_reason: ReasonIx,
    pub business_hours: Vec<BusinessHours>,
    pub queues: Vec<Queue>,
    pub agents: Vec<Agent>,
    pub alerts: Alerts,
    pub voice: Voice,
}

impl TenantConfig {
    /// A one-line summary for `switchboard config check`, such as
    /// `3 skills, 2 queues, 6 agents, 3 reason codes, 1 business-hours schedule`.
    pub fn summary(&self) -> String {
        let mut parts = vec![
            plural(self.skills.len(), "skill", "skills"),
            plural(self.queues.len(), "queue", "queues"),
            plural(self.agents.len(), "agent", "agents"),
            plural(self.reason_codes.len(), "reason code", "reason codes"),
        ];
        if !self.business_hours.is_empty() {
            parts.push(plural(self.business_hours.len(), "business-hours schedule", "business-hours schedules"));
        }
        parts.join(", ")
    }

    pub fn skill(&self, ix: SkillIx) -> &Skill {
        &self.skills[ix.index()]
    }

    pub fn queue(&self, ix: QueueIx) -> &Queue {
        &self.queues[ix.index()]
    }

    pub fn agent(&self, ix: AgentIx) -> &Agent {
        &self.agents[ix.index()]
    }

    pub fn reason_code(&self, ix: ReasonIx) -> &ReasonCode {
        &self.reason_codes[ix.index()]
    }

    pub fn hours(&self, ix: HoursIx) -> &BusinessHours {
        &self.business_hours[ix.index()]
    }

    /// The skill with id `id`.
    pub fn skill_ix(&self, id: &str) -> Option<SkillIx> {
        position(self.skills.iter().map(|s| &s.id), id).map(SkillIx::from_index)
    }

    /// The queue with id `id`.
    pub fn queue_ix(&self, id: &str) -> Option<QueueIx> {
        position(self.queues.iter().map(|q| &q.id), id).map(QueueIx::from_index)
    }

    /// The agent with id `id`.
    pub fn agent_ix(&self, id: &str) -> Option<AgentIx> {
        position(self.agents.iter().map(|a| &a.id), id).map(AgentIx::from_index)
    }

    /// The reason code with id `id`.
    pub fn reason_ix(&self, id: &str) -> Option<ReasonIx> {
        position(self.reason_codes.iter().map(|r| &r.id), id).map(ReasonIx::from_index)
    }

    /// The business-hours schedule with id `id`.
    pub fn hours_ix(&self, id: &str) -> Option<HoursIx> {
        position(self.business_hours.iter().map(|h| &h.id), id).map(HoursIx::from_index)
    }

    /// Every queue index, in order.
    pub fn queue_ixs(&self) -> impl Iterator<Item = QueueIx> + use<> {
        (0..self.queues.len()).map(QueueIx::from_index)
    }

    /// Every agent index, in order.
    pub fn agent_ixs(&self) -> impl Iterator<Item = AgentIx> + use<> {
        (0..self.agents.len()).map(AgentIx::from_index)
    }
}

fn position<'a>(mut ids: impl Iterator<Item = &'a Slug>, id: &str) -> Option<usize> {
    ids.position(|s| s.as_str() == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        let cases: &[(&str, Result<(), SlugError>)] = &[
            ("demo", Ok(())),
            ("a", Ok(())),
            ("tier-2", Ok(())),
            ("0", Ok(())),
            ("", Err(SlugError::Empty)),
            ("Demo", Err(SlugError::BadChar('D'))),
            ("a_b", Err(SlugError::BadChar('_'))),
            ("a b", Err(SlugError::BadChar(' '))),
            ("é", Err(SlugError::BadChar('é'))),
            (&"x".repeat(63), Ok(())),
            (&"x".repeat(64), Err(SlugError::TooLong(64))),
        ];
        for (text, expect) in cases {
            assert_eq!(&Slug::parse(text).map(|_| ()), expect, "parsing {text:?}");
        }
    }

    #[test]
    fn ranges_of_small_numbers() {
        assert_eq!(Proficiency::new(0), None);
        assert_eq!(Proficiency::new(1).map(Proficiency::get), Some(1));
        assert_eq!(Proficiency::new(5).map(Proficiency::get), Some(5));
        assert_eq!(Proficiency::new(6), None);
        assert_eq!(Priority::new(0), None);
        assert_eq!(Priority::new(10).map(Priority::get), Some(10));
        assert_eq!(Priority::new(11), None);
    }
}
