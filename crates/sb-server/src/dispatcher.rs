//! The tenant dispatcher: one thread that owns a tenant's routing engine and its store.
//!
//! HTTP handlers send it [`Request`]s over a channel and wait for the answer on a oneshot.
//! The dispatcher takes every request that is waiting (up to a batch), applies them to the
//! engine, fires due timers, converts the engine's events into log records and appends them
//! all in one storage transaction; only then does it answer. So an answer means durable
//! ("group commit"), and no lock is shared between tasks: the engine has one owner.
//!
//! If the append fails, every request of the batch is answered with an error and the
//! engine is rebuilt from storage, so memory never runs ahead of what is stored.

use std::sync::{Arc, mpsc};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sb_routing::{
    AgentActivity, AgentId, CancelReason, Channel, Command, CommandError, Engine, Event, InteractionId,
    InteractionStatus, Level, NewInteraction, Presence, Priority, QueueId, RestoreState, RoutingSetup, SkillId,
    Timestamp, TransferTarget,
};
use sb_storage::{
    AccountChange, AuditEntry, AuditRecord, Batch, InteractionRecord, InteractionState, LogEvent, LogRecord,
    MessageRow, PresenceRecord, Store, StoreError, TokenRecord,
};
use tokio::sync::{broadcast, oneshot};

use crate::auth::SharedKeyring;
use crate::tenant::Directory;

/// The most requests applied in one storage transaction.
const MAX_BATCH: usize = 512;

/// A request to the dispatcher, in the engine's terms.
#[derive(Debug)]
pub enum Request {
    Create {
        new: NewRequest,
        reply: oneshot::Sender<Result<InteractionView, RequestError>>,
    },
    /// An engine command; if it succeeds, `then` is logged after its events and `audit` kept.
    Apply {
        command: Command,
        then: Vec<LogEvent>,
        audit: Option<AuditRecord>,
        reply: oneshot::Sender<Result<(), RequestError>>,
    },
    /// A chat message into a live conversation.
    Post {
        interaction: u64,
        from: Author,
        text: String,
        reply: oneshot::Sender<Result<MessageRow, RequestError>>,
    },
    Messages {
        interaction: u64,
        reply: oneshot::Sender<Result<Vec<MessageRow>, RequestError>>,
    },
    /// The customer's satisfaction score for a finished interaction; a web customer's
    /// credential is revoked with it (one answer per conversation).
    Survey {
        interaction: u64,
        score: u8,
        revoke: Option<String>,
        reply: oneshot::Sender<Result<(), RequestError>>,
    },
    /// Users and credentials, stored with their audit entries, then put in the keyring.
    /// `expected`: users as the handler read them (`None`: absent); if one has changed
    /// since, by a stored change or an earlier one in the same batch, nothing is stored and
    /// the answer is a conflict.
    Accounts {
        changes: Vec<AccountChange>,
        audit: Vec<AuditRecord>,
        expected: Vec<(String, Option<sb_storage::UserRecord>)>,
        reply: oneshot::Sender<Result<(), RequestError>>,
    },
    Audit {
        before: Option<i64>,
        limit: u32,
        reply: oneshot::Sender<Result<Vec<AuditEntry>, RequestError>>,
    },
    Interaction {
        id: u64,
        reply: oneshot::Sender<Result<InteractionView, RequestError>>,
    },
    Queues {
        reply: oneshot::Sender<Vec<QueueView>>,
    },
    Waiting {
        queue: QueueId,
        reply: oneshot::Sender<Vec<u64>>,
    },
    Agents {
        reply: oneshot::Sender<Vec<AgentView>>,
    },
    /// What an agent holds: offers, conversations, wrap-ups.
    Work {
        agent: AgentId,
        reply: oneshot::Sender<Vec<InteractionView>>,
    },
    /// A change to the migration's state, stored with its audit entry, then told to the
    /// SIP endpoint. The answer is the new state.
    Migration {
        change: MigrationChange,
        audit: AuditRecord,
        reply: oneshot::Sender<Result<sb_storage::MigrationRecord, RequestError>>,
    },
    /// Where the migration stands (`None`: never started).
    MigrationState {
        reply: oneshot::Sender<Option<sb_storage::MigrationRecord>>,
    },
}

/// A change to where a tenant's migration stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MigrationChange {
    /// Enters a cutover phase: Switchboard answers this share of new calls, and only the
    /// pilot `agents` may become available (all when empty).
    Phase { phase: String, switchboard_percent: u8, agents: Vec<String> },
    /// `true`: every new call goes to the legacy PBX; `false`: the phase's share again.
    Rollback(bool),
    /// `true`: changes to users and agents' skills are refused.
    Freeze(bool),
}

/// A new interaction as the API accepted it (names already resolved).
#[derive(Debug, Clone)]
pub struct NewRequest {
    pub channel: Channel,
    pub queue: QueueId,
    pub priority: Option<Priority>,
    pub requirements: Vec<(SkillId, Level)>,
    pub attributes: Vec<(String, String)>,
    /// For a chat opened by a customer: the credential to store with it (its interaction is
    /// filled in), and the audit entry.
    pub customer: Option<(TokenRecord, AuditRecord)>,
    /// For a phone call: the SIP endpoint's id of the call, so that the engine's decisions
    /// about the interaction go to the endpoint.
    pub voice_call: Option<u64>,
}

/// Who writes a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Author {
    Customer,
    Agent(AgentId),
}

/// Why a request was not carried out.
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    #[error(transparent)]
    Refused(#[from] CommandError),
    #[error("no interaction {0}")]
    NotFound(u64),
    #[error("{0}")]
    Conflict(String),
    /// A configuration change while the migration is frozen.
    #[error("{0}")]
    Frozen(String),
    #[error("storage failed; nothing of this request was kept: {0}")]
    Storage(String),
}

/// An interaction as the API shows it.
#[derive(Debug, Clone)]
pub struct InteractionView {
    pub record: InteractionRecord,
    pub state: InteractionState,
    pub agent: Option<String>,
    pub estimated_wait: Option<Duration>,
    /// 1 for the next to be served in its queue, while waiting.
    pub position: Option<u32>,
}

/// Live figures of a queue.
#[derive(Debug, Clone)]
pub struct QueueView {
    pub name: String,
    pub waiting: u32,
    pub staffed: u32,
    pub longest_wait: Option<Duration>,
    pub estimated_wait: Option<Duration>,
    /// Today's counts.
    pub today: QueueDay,
    /// The queue's service-level threshold and target percentage.
    pub service_level: (Duration, u8),
    /// Member agents by activity: available, busy, wrap-up, not ready (offline left out).
    pub agents: [u32; 4],
    /// Since when `today` counts (ms since the epoch): the tenant's midnight, or this
    /// process's start if later.
    pub counting_since_ms: i64,
    /// The longest-wait alert threshold, and whether the queue is in alert.
    pub alert_threshold: Duration,
    pub in_alert: bool,
}

/// One queue's counts since the start of the tenant's day (or of this process, if later).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueueDay {
    /// Interactions that entered the queue.
    pub offered: u32,
    pub answered: u32,
    /// Answered within the service-level threshold.
    pub answered_within: u32,
    pub abandoned: u32,
    /// Total wait of answered interactions.
    pub wait_ms: u64,
}

impl QueueDay {
    /// Answered within the threshold, out of answered and abandoned.
    pub fn service_level(&self) -> Option<f64> {
        let base = self.answered + self.abandoned;
        (base > 0).then(|| f64::from(self.answered_within) / f64::from(base))
    }
}

/// One agent's counts for today.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AgentDay {
    /// Conversations completed.
    pub handled: u32,
    /// Their total time from acceptance to completion.
    pub talk_ms: u64,
}

/// Today's counters and what they need to know about interactions under way.
#[derive(Debug, Default)]
struct Today {
    date: Option<jiff::civil::Date>,
    /// The tenant's day `date` in ms since the epoch: its midnight and the next.
    day_start_ms: i64,
    day_end_ms: i64,
    /// When counting started: the day's start, or this process's if later.
    since_ms: i64,
    queues: Vec<QueueDay>,
    agents: Vec<AgentDay>,
    /// Interactions under way.
    open: std::collections::HashMap<u64, Open>,
}

/// What today's counters remember of an interaction under way.
#[derive(Debug, Clone, Copy)]
struct Open {
    queue: usize,
    /// When it entered its (current) queue.
    entered_ms: i64,
    accepted_ms: Option<i64>,
    /// Whether its queue has counted it answered (an agent-to-agent transfer does not
    /// count it again).
    answered: bool,
}

/// An agent's live state.
#[derive(Debug, Clone)]
pub struct AgentView {
    pub name: String,
    pub activity: AgentActivity,
    pub presence: Presence,
    /// Capacity in use out of 100.
    pub load: u16,
    /// Skills and proficiencies now.
    pub skills: Vec<(SkillId, Level)>,
    /// When the activity last changed (ms since the epoch), if since this start.
    pub since_ms: Option<i64>,
    pub today: AgentDay,
}

/// A request carried out but not yet answered: answers wait for the batch to be stored.
enum Pending {
    Create(Result<InteractionRecord, RequestError>, oneshot::Sender<Result<InteractionView, RequestError>>),
    Apply(Result<(), RequestError>, oneshot::Sender<Result<(), RequestError>>),
    Posted(Result<MessageRow, RequestError>, oneshot::Sender<Result<MessageRow, RequestError>>),
    Messages(u64, oneshot::Sender<Result<Vec<MessageRow>, RequestError>>),
    Audit(Option<i64>, u32, oneshot::Sender<Result<Vec<AuditEntry>, RequestError>>),
    Interaction(u64, oneshot::Sender<Result<InteractionView, RequestError>>),
    Queues(oneshot::Sender<Vec<QueueView>>),
    Waiting(Vec<u64>, oneshot::Sender<Vec<u64>>),
    Agents(oneshot::Sender<Vec<AgentView>>),
    Work(AgentId, oneshot::Sender<Vec<InteractionView>>),
    Migration(
        Result<sb_storage::MigrationRecord, RequestError>,
        oneshot::Sender<Result<sb_storage::MigrationRecord, RequestError>>,
    ),
    MigrationState(oneshot::Sender<Option<sb_storage::MigrationRecord>>),
}

/// What a restart did with the interactions it found.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RestoreSummary {
    pub waiting: usize,
    pub connected: usize,
    pub lost: usize,
}

/// The dispatcher's state. See the module documentation.
pub struct Dispatcher {
    tenant: Arc<str>,
    keyring: SharedKeyring,
    setup: RoutingSetup,
    directory: Directory,
    engine: Engine,
    store: Box<dyn Store>,
    next_id: u64,
    last_now: Timestamp,
    /// When each agent's activity last changed.
    agent_since: Vec<Option<i64>>,
    today: Today,
    /// Each agent's skills now (the configuration's, or a supervisor's change).
    skills: Vec<Vec<(SkillId, Level)>>,
    alerts: crate::alerts::Watch,
    /// Live events: every stored record, for the event stream's subscribers.
    live: broadcast::Sender<Arc<LiveEvent>>,
    /// The SIP endpoint, told about the voice interactions it placed.
    voice: Option<tokio::sync::mpsc::UnboundedSender<sb_voice::Feedback>>,
    /// Interactions the SIP endpoint placed and that are not over.
    voice_interactions: std::collections::HashSet<u64>,
    /// Where the migration stands, as stored.
    migration: Option<sb_storage::MigrationRecord>,
}

/// A stored event as the live stream sends it: its JSON text, and what it concerns, for
/// filtering by role.
#[derive(Debug)]
pub struct LiveEvent {
    /// `{"at_ms": ..., "event": {...}}` in the event log's format.
    pub json: axum::extract::ws::Utf8Bytes,
    pub kind: &'static str,
    pub interaction: Option<u64>,
    pub agent: Option<String>,
    /// Set on an offer: the agent it goes to (who may follow the interaction from then on).
    pub offered_to: Option<String>,
}

/// How many live events a slow subscriber may fall behind before it is told it missed some.
const LIVE_BACKLOG: usize = 4096;

impl std::fmt::Debug for Dispatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dispatcher").field("tenant", &self.directory.tenant).field("next_id", &self.next_id).finish()
    }
}

fn wall_clock() -> Timestamp {
    let ms = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64);
    Timestamp::from_millis(ms)
}

fn ms(t: Timestamp) -> i64 {
    t.as_millis() as i64
}

fn presence_record(directory: &Directory, presence: Presence) -> PresenceRecord {
    match presence {
        Presence::Offline => PresenceRecord::Offline,
        Presence::Available => PresenceRecord::Available,
        Presence::NotReady(r) => PresenceRecord::NotReady(directory.reason_name(r).to_string()),
    }
}

/// The activity's name in logs and APIs.
pub fn activity_name(a: AgentActivity) -> &'static str {
    match a {
        AgentActivity::Offline => "offline",
        AgentActivity::Available => "available",
        AgentActivity::Busy => "busy",
        AgentActivity::WrapUp => "wrap_up",
        AgentActivity::NotReady(_) => "not_ready",
    }
}

impl Dispatcher {
    /// Opens a tenant: rebuilds the engine from what the store holds. Waiting chats, emails
    /// and SMS go back to their queues at their original places, conversations in progress
    /// back to their agents; calls cannot outlive the process, so they are logged as lost.
    pub fn open(
        setup: RoutingSetup,
        directory: Directory,
        store: Box<dyn Store>,
        keyring: SharedKeyring,
    ) -> Result<(Dispatcher, RestoreSummary), StoreError> {
        let engine = Engine::new(setup.clone()).expect("the setup comes from a validated configuration");
        let (live, _) = broadcast::channel(LIVE_BACKLOG);
        let tenant: Arc<str> = Arc::from(directory.tenant.as_str());
        let alerts = crate::alerts::Watch::new(
            &directory.tenant,
            directory.queues.len(),
            directory.alerts.longest_wait,
            directory.alerts.webhook.clone(),
        );
        let mut d = Dispatcher {
            tenant,
            keyring,
            setup,
            directory,
            engine,
            store,
            next_id: 1,
            last_now: Timestamp::ZERO,
            agent_since: Vec::new(),
            today: Today::default(),
            skills: Vec::new(),
            alerts,
            live,
            voice: None,
            voice_interactions: std::collections::HashSet::new(),
            migration: None,
        };
        let summary = d.restore()?;
        d.load_accounts()?;
        d.migration = d.store.migration(&d.directory.tenant)?;
        Ok((d, summary))
    }

    /// Where stored events are published; subscribe to follow them live.
    pub fn live_events(&self) -> broadcast::Sender<Arc<LiveEvent>> {
        self.live.clone()
    }

    /// Reads the tenant's users and credentials into the keyring. Credentials that expired
    /// in the last 30 days are kept there so that using one says "expired", not "unknown".
    fn load_accounts(&mut self) -> Result<(), StoreError> {
        let recently = ms(self.now()) - 30 * 24 * 3600 * 1000;
        let accounts = self.store.accounts(&self.tenant, recently)?;
        self.keyring.write().expect("keyring lock").load(&self.tenant, accounts);
        Ok(())
    }

    /// The tenant's users; storing a first administrator if there are none. Returns the
    /// generated password of that administrator, to show once.
    pub fn ensure_admin(&mut self) -> Result<Option<String>, StoreError> {
        if !self.keyring.read().expect("keyring lock").users(&self.tenant).is_empty() {
            return Ok(None);
        }
        let password = crate::auth::new_password();
        let now = ms(self.now());
        let user = sb_storage::UserRecord {
            username: "admin".into(),
            display_name: "Administrator".into(),
            role: "admin".into(),
            agent: None,
            password_hash: crate::auth::hash_password(&password),
            disabled: false,
            created_at_ms: now,
        };
        let audit = AuditRecord {
            at_ms: now,
            actor: "switchboard".into(),
            source: "server".into(),
            action: "user.create".into(),
            target: "user:admin".into(),
            detail: "first administrator of a tenant without users".into(),
        };
        let changes = [AccountChange::PutUser(user.clone())];
        self.store.commit(&self.tenant, Batch { accounts: &changes, audit: &[audit], ..Batch::default() })?;
        self.keyring.write().expect("keyring lock").put_user(&self.tenant, user);
        Ok(Some(password))
    }

    /// Stores users directly (the demo and tests set tenants up this way), with audit.
    pub fn store_accounts(&mut self, changes: &[AccountChange], audit: &[AuditRecord]) -> Result<(), StoreError> {
        self.store.commit(&self.tenant, Batch { accounts: changes, audit, ..Batch::default() })?;
        self.apply_accounts(changes);
        Ok(())
    }

    fn apply_accounts(&self, changes: &[AccountChange]) {
        if changes.is_empty() {
            return;
        }
        let mut keyring = self.keyring.write().expect("keyring lock");
        for change in changes {
            match change {
                AccountChange::PutUser(u) => keyring.put_user(&self.tenant, u.clone()),
                AccountChange::PutToken(t) => keyring.put_token(&self.tenant, t.clone()),
                AccountChange::RevokeToken { hash, .. } => keyring.revoke(hash),
            }
        }
    }

    /// Sends stored records to live subscribers, if there are any.
    fn publish(&self, records: &[LogRecord]) {
        if self.live.receiver_count() == 0 {
            return;
        }
        for record in records {
            let json = format!("{{\"at_ms\":{},\"event\":{}}}", record.at_ms, sb_storage::event_json(&record.event));
            let offered_to = match &record.event {
                LogEvent::Offered { agent, .. } => Some(agent.clone()),
                _ => None,
            };
            let _ = self.live.send(Arc::new(LiveEvent {
                json: json.into(),
                kind: record.event.kind_name(),
                interaction: record.event.interaction(),
                agent: record.event.agent().map(str::to_string),
                offered_to,
            }));
        }
    }

    fn now(&mut self) -> Timestamp {
        self.last_now = self.last_now.max(wall_clock());
        self.last_now
    }

    fn restore(&mut self) -> Result<RestoreSummary, StoreError> {
        let tenant = self.directory.tenant.clone();
        let snapshot = self.store.snapshot(&tenant)?;
        let now = self.now();
        self.engine = Engine::new(self.setup.clone()).expect("validated setup");
        self.skills = self.setup.agents.iter().map(|a| a.skills.clone()).collect();
        self.next_id = snapshot.next_interaction_id;
        let mut state = RestoreState::default();
        let mut records = Vec::new();
        let mut summary = RestoreSummary::default();
        for row in &snapshot.agents {
            let Some(agent) = self.directory.agent(&row.agent) else {
                tracing::warn!(agent = %row.agent, "an agent in storage is no longer configured; ignored");
                continue;
            };
            let presence = match &row.presence {
                PresenceRecord::Offline => Presence::Offline,
                PresenceRecord::Available => Presence::Available,
                PresenceRecord::NotReady(reason) => {
                    Presence::NotReady(self.directory.reason(reason).unwrap_or(self.setup.missed_reason))
                }
            };
            state.presences.push((agent, presence));
            if let Some(skills) = &row.skills {
                // Skills a supervisor set, over the configuration's; unknown skills are dropped.
                let skills: Vec<(SkillId, Level)> =
                    skills.iter().filter_map(|(s, l)| Some((self.directory.skill(s)?, Level::new(*l)?))).collect();
                self.engine
                    .handle(now, Command::SetSkills { agent, skills: skills.clone() })
                    .expect("a configured agent and skills");
                self.skills[agent.index()] = skills;
            }
        }
        let snapshot_rows = snapshot.interactions.clone();
        for row in snapshot.interactions {
            let id = row.record.id;
            let channel = Channel::from_name(&row.record.channel);
            let queue = self.directory.queue(&row.record.queue);
            let lost = |reason: &str| LogRecord {
                at_ms: ms(now),
                event: LogEvent::Lost { interaction: id, reason: reason.to_string() },
            };
            let (Some(channel), Some(queue)) = (channel, queue) else {
                records.push(lost("its queue or channel is no longer configured"));
                summary.lost += 1;
                continue;
            };
            if channel == Channel::Voice {
                records.push(lost("a call cannot survive a restart of the server"));
                summary.lost += 1;
                continue;
            }
            let requirements = row
                .record
                .requirements
                .iter()
                .filter_map(|(s, l)| Some((self.directory.skill(s)?, Level::new(*l)?)))
                .collect();
            let new = NewInteraction {
                id: InteractionId(id),
                channel,
                queue,
                priority: Priority::new(row.record.priority),
                requirements,
            };
            let agent = row.agent.as_deref().and_then(|a| self.directory.agent(a));
            match (row.state, agent) {
                (InteractionState::Connected, Some(agent)) => {
                    let since = Timestamp::from_millis(row.connected_at_ms.unwrap_or(ms(now)) as u64);
                    state.connected.push((new, agent, since));
                    summary.connected += 1;
                }
                (InteractionState::WrapUp, Some(agent)) => {
                    // The wrap-up timer died with the process: the wrap-up ends now.
                    records.push(LogRecord {
                        at_ms: ms(now),
                        event: LogEvent::WrapUpEnded {
                            interaction: id,
                            agent: self.directory.agent_name(agent).into(),
                        },
                    });
                }
                _ => {
                    // Waiting, or offered when the process stopped: back to its place.
                    let enqueued = Timestamp::from_millis(row.record.created_at_ms as u64);
                    state.waiting.push((new, enqueued));
                    summary.waiting += 1;
                }
            }
        }
        self.engine.restore(now, state).expect("stored interactions are consistent with the configuration");
        // Today's counts start with the process; a rebuild after a failed append keeps them
        // (they only ever count what was stored).
        let fresh = self.today.date.is_none();
        if fresh {
            self.roll_day(ms(now));
        }
        for row in snapshot_rows.iter().filter(|_| fresh) {
            if let Some(q) = self.directory.queue(&row.record.queue) {
                let open = Open {
                    queue: q.index(),
                    entered_ms: row.record.created_at_ms,
                    accepted_ms: row.connected_at_ms,
                    answered: row.connected_at_ms.is_some(),
                };
                self.today.open.insert(row.record.id, open);
            }
        }
        self.drain(&mut records);
        self.store.append(&tenant, &records)?;
        self.publish(&records);
        // Calls logged as lost and wrap-ups ended here leave today's open interactions.
        records.iter().for_each(|r| self.count(r));
        Ok(summary)
    }

    /// Converts the engine's pending events into log records.
    /// Sends a notice to the SIP endpoint, if one is linked.
    fn tell_voice(&self, notice: sb_voice::RouteNotice) {
        if let Some(voice) = &self.voice {
            let _ = voice.send(sb_voice::Feedback::Route(notice));
        }
    }

    /// Links the SIP endpoint: it is told when its calls are offered to agents and when
    /// those offers end.
    pub fn link_voice(&mut self, feedback: tokio::sync::mpsc::UnboundedSender<sb_voice::Feedback>) {
        self.voice = Some(feedback);
        // A rollback or a phase stored before a restart holds after it.
        if self.migration.is_some() {
            self.tell_migration();
        }
    }

    /// Tells the SIP endpoint where the migration stands.
    fn tell_migration(&self) {
        let (Some(voice), Some(m)) = (&self.voice, &self.migration) else { return };
        let migration = sb_voice::Migration { rolled_back: m.rolled_back, switchboard_percent: m.switchboard_percent };
        let _ = voice.send(sb_voice::Feedback::Migration { tenant: self.tenant.to_string(), migration });
    }

    /// The migration's state after `change` by `actor` at `now`.
    fn migrated(
        current: Option<&sb_storage::MigrationRecord>,
        change: MigrationChange,
        actor: &str,
        now: i64,
    ) -> Result<sb_storage::MigrationRecord, RequestError> {
        let mut next = current.cloned().unwrap_or(sb_storage::MigrationRecord {
            phase: None,
            switchboard_percent: None,
            phase_since_ms: None,
            agents: Vec::new(),
            rolled_back: false,
            frozen: false,
            changed_at_ms: now,
            actor: actor.to_owned(),
        });
        match change {
            MigrationChange::Phase { phase, switchboard_percent, agents } => {
                if next.phase.as_deref() == Some(phase.as_str()) {
                    return Err(RequestError::Conflict(format!("the migration is in phase {phase:?} already")));
                }
                next.phase = Some(phase);
                next.switchboard_percent = Some(switchboard_percent);
                next.phase_since_ms = Some(now);
                next.agents = agents;
            }
            MigrationChange::Rollback(rolled_back) => next.rolled_back = rolled_back,
            MigrationChange::Freeze(frozen) => next.frozen = frozen,
        }
        next.changed_at_ms = now;
        next.actor = actor.to_owned();
        Ok(next)
    }

    /// Refuses a configuration change while the migration is frozen.
    fn unfrozen(migration: Option<&sb_storage::MigrationRecord>) -> Result<(), RequestError> {
        match migration {
            Some(m) if m.frozen => Err(RequestError::Frozen(format!(
                "configuration changes are frozen for the migration (by {}); `switchboard migrate unfreeze` lifts it",
                m.actor
            ))),
            _ => Ok(()),
        }
    }

    /// Refuses to make an agent available who is not in the phase's pilot group.
    fn in_pilot(&self, migration: Option<&sb_storage::MigrationRecord>, agent: AgentId) -> Result<(), RequestError> {
        let name = self.directory.agent_name(agent);
        match migration {
            Some(m) if !m.agents.is_empty() && !m.rolled_back && !m.agents.iter().any(|a| a == name) => {
                Err(RequestError::Frozen(format!(
                    "agent {name} is not in the pilot group of phase {} ({}); the legacy center keeps its calls",
                    m.phase.as_deref().unwrap_or("?"),
                    m.agents.join(", ")
                )))
            }
            _ => Ok(()),
        }
    }

    /// Tells the SIP endpoint what the engine decided about the calls it placed.
    fn voice_event(&mut self, event: &Event) {
        let name = |a: AgentId| self.directory.agent_name(a).to_string();
        let notice = match *event {
            Event::Offered { interaction, agent, .. } if self.voice_interactions.contains(&interaction.0) => {
                sb_voice::RouteNotice::Offered { interaction: interaction.0, agent: name(agent) }
            }
            Event::OfferTimedOut { interaction, agent } | Event::OfferCancelled { interaction, agent, .. }
                if self.voice_interactions.contains(&interaction.0) =>
            {
                sb_voice::RouteNotice::OfferEnded { interaction: interaction.0, agent: name(agent) }
            }
            Event::Abandoned { interaction, .. } | Event::Completed { interaction, .. } => {
                self.voice_interactions.remove(&interaction.0);
                return;
            }
            _ => return,
        };
        self.tell_voice(notice);
    }

    fn drain(&mut self, records: &mut Vec<LogRecord>) {
        while let Some(r) = self.engine.poll_event() {
            if self.voice.is_some() {
                self.voice_event(&r.event);
            }
            let dir = &self.directory;
            let name = |a: AgentId| dir.agent_name(a).to_string();
            let event = match r.event {
                // Logged from the request, which has the skills (see `step`).
                Event::Queued { .. } | Event::SkillsChanged { .. } => continue,
                Event::StepReached { interaction, step } => LogEvent::StepReached { interaction: interaction.0, step },
                Event::Offered { interaction, agent, expires_at } => {
                    LogEvent::Offered { interaction: interaction.0, agent: name(agent), expires_at_ms: ms(expires_at) }
                }
                Event::Accepted { interaction, agent } => {
                    LogEvent::Accepted { interaction: interaction.0, agent: name(agent) }
                }
                Event::Rejected { interaction, agent } => {
                    LogEvent::Rejected { interaction: interaction.0, agent: name(agent) }
                }
                Event::OfferTimedOut { interaction, agent } => {
                    LogEvent::OfferTimedOut { interaction: interaction.0, agent: name(agent) }
                }
                Event::OfferCancelled { interaction, agent, reason } => LogEvent::OfferCancelled {
                    interaction: interaction.0,
                    agent: name(agent),
                    reason: match reason {
                        CancelReason::CustomerLeft => "customer_left",
                        CancelReason::AgentUnavailable => "agent_unavailable",
                    }
                    .to_string(),
                },
                Event::Abandoned { interaction, waited, .. } => {
                    LogEvent::Abandoned { interaction: interaction.0, waited_ms: waited.as_millis() as i64 }
                }
                Event::Completed { interaction, agent, wrap_up_until } => LogEvent::Completed {
                    interaction: interaction.0,
                    agent: name(agent),
                    wrap_up_until_ms: wrap_up_until.map(ms),
                },
                Event::WrapUpEnded { interaction, agent } => {
                    LogEvent::WrapUpEnded { interaction: interaction.0, agent: name(agent) }
                }
                Event::Transferred { interaction, from, to } => LogEvent::Transferred {
                    interaction: interaction.0,
                    from: name(from),
                    to_queue: match to {
                        TransferTarget::Queue(q) => Some(dir.queue_name(q).to_string()),
                        TransferTarget::Agent(_) => None,
                    },
                    to_agent: match to {
                        TransferTarget::Agent(a) => Some(name(a)),
                        TransferTarget::Queue(_) => None,
                    },
                },
                Event::AgentStateChanged { agent, state, presence } => {
                    if self.agent_since.len() <= agent.index() {
                        self.agent_since.resize(agent.index() + 1, None);
                    }
                    self.agent_since[agent.index()] = Some(ms(r.at));
                    LogEvent::AgentState {
                        agent: name(agent),
                        activity: activity_name(state).to_string(),
                        presence: presence_record(dir, presence),
                    }
                }
            };
            records.push(LogRecord { at_ms: ms(r.at), event });
        }
    }

    /// Runs until every sender is gone.
    pub fn run(mut self, requests: mpsc::Receiver<Request>) {
        loop {
            let now = self.now();
            let wait =
                self.engine.poll_timeout().map_or(Duration::from_secs(1), |t| t.since(now)).min(Duration::from_secs(1));
            let mut batch = Vec::new();
            match requests.recv_timeout(wait) {
                Ok(r) => batch.push(r),
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => return,
            }
            while batch.len() < MAX_BATCH {
                match requests.try_recv() {
                    Ok(r) => batch.push(r),
                    Err(_) => break,
                }
            }
            self.step(batch);
        }
    }

    /// Applies one batch of requests and due timers, stores the result, then answers.
    pub fn step(&mut self, batch: Vec<Request>) {
        let now = self.now();
        let mut records = Vec::new();
        let mut accounts = Vec::new();
        let mut audit = Vec::new();
        // Users changed by earlier requests of this batch, not yet in the keyring.
        let mut batch_users: std::collections::HashMap<String, Option<sb_storage::UserRecord>> =
            std::collections::HashMap::new();
        // The migration's state after this batch's changes, if any.
        let mut migration: Option<sb_storage::MigrationRecord> = None;
        self.engine.handle_timeout(now);
        self.drain(&mut records);
        let mut answers = Vec::with_capacity(batch.len());
        for request in batch {
            answers.push(match request {
                Request::Create { new, reply } => {
                    Pending::Create(self.create(now, new, &mut records, &mut accounts, &mut audit), reply)
                }
                Request::Apply { command, then, audit: entry, reply } => {
                    let skills = match &command {
                        Command::SetSkills { agent, skills } => Some((*agent, skills.clone())),
                        _ => None,
                    };
                    let current = migration.as_ref().or(self.migration.as_ref());
                    let result = match (&command, &skills) {
                        (_, Some(_)) => Self::unfrozen(current),
                        (Command::SetPresence { agent, presence: Presence::Available }, _) => {
                            self.in_pilot(current, *agent)
                        }
                        _ => Ok(()),
                    };
                    let result = result.and_then(|()| self.engine.handle(now, command).map_err(RequestError::from));
                    if let (Ok(()), Some((agent, skills))) = (&result, skills) {
                        self.skills[agent.index()] = skills;
                    }
                    self.drain(&mut records);
                    if result.is_ok() {
                        records.extend(then.into_iter().map(|event| LogRecord { at_ms: ms(now), event }));
                        audit.extend(entry);
                    }
                    Pending::Apply(result, reply)
                }
                Request::Post { interaction, from, text, reply } => {
                    let result = self.post(now, interaction, from, text, &mut records);
                    Pending::Posted(result, reply)
                }
                Request::Messages { interaction, reply } => Pending::Messages(interaction, reply),
                Request::Survey { interaction, score, revoke, reply } => {
                    let result = self.survey(interaction).map(|()| {
                        records.push(LogRecord { at_ms: ms(now), event: LogEvent::Survey { interaction, score } });
                        if let Some(hash) = revoke {
                            accounts.push(AccountChange::RevokeToken { hash, at_ms: ms(now) });
                        }
                    });
                    Pending::Apply(result, reply)
                }
                Request::Accounts { changes, audit: entries, expected, reply } => {
                    let keyring = self.keyring.read().expect("keyring lock");
                    let current = |name: &str| match batch_users.get(name) {
                        Some(user) => user.clone(),
                        None => keyring.user(&self.tenant, name).cloned(),
                    };
                    let stale = expected.iter().find(|(name, seen)| current(name) != *seen).map(|(n, _)| n.clone());
                    drop(keyring);
                    let changes_users = changes.iter().any(|c| matches!(c, AccountChange::PutUser(_)));
                    let frozen = match changes_users {
                        true => Self::unfrozen(migration.as_ref().or(self.migration.as_ref())),
                        false => Ok(()),
                    };
                    let result = match (stale, frozen) {
                        (_, Err(e)) => Err(e),
                        (Some(name), _) => Err(RequestError::Conflict(format!(
                            "user {name:?} was changed meanwhile; reload and retry"
                        ))),
                        (None, Ok(())) => {
                            for change in &changes {
                                if let AccountChange::PutUser(u) = change {
                                    batch_users.insert(u.username.clone(), Some(u.clone()));
                                }
                            }
                            accounts.extend(changes);
                            audit.extend(entries);
                            Ok(())
                        }
                    };
                    Pending::Apply(result, reply)
                }
                Request::Audit { before, limit, reply } => Pending::Audit(before, limit, reply),
                Request::Interaction { id, reply } => Pending::Interaction(id, reply),
                Request::Queues { reply } => Pending::Queues(reply),
                Request::Waiting { queue, reply } => {
                    Pending::Waiting(self.engine.waiting(queue).into_iter().map(|i| i.0).collect(), reply)
                }
                Request::Agents { reply } => Pending::Agents(reply),
                Request::Work { agent, reply } => Pending::Work(agent, reply),
                Request::Migration { change, audit: entry, reply } => {
                    let current = migration.as_ref().or(self.migration.as_ref());
                    let result = Self::migrated(current, change, &entry.actor, ms(now));
                    if let Ok(next) = &result {
                        migration = Some(next.clone());
                        audit.push(entry);
                    }
                    Pending::Migration(result, reply)
                }
                Request::MigrationState { reply } => Pending::MigrationState(reply),
            });
        }
        let batch = Batch { records: &records, accounts: &accounts, audit: &audit, migration: migration.as_ref() };
        let failure = if batch.is_empty() {
            None
        } else {
            match self.store.commit(&self.tenant, batch) {
                Ok(()) => {
                    self.apply_accounts(&accounts);
                    if migration.is_some() {
                        self.migration = migration;
                        self.tell_migration();
                    }
                    self.publish(&records);
                    records.iter().for_each(|r| self.count(r));
                    None
                }
                Err(e) => {
                    tracing::error!(error = %e, "appending to the event log failed; rebuilding from storage");
                    Some(e.to_string())
                }
            }
        };
        if failure.is_some()
            && let Err(e) = self.restore()
        {
            tracing::error!(error = %e, "rebuilding from storage failed; will retry with the next batch");
        }
        let stored = |failure: &Option<String>| match failure {
            Some(f) => Err(RequestError::Storage(f.clone())),
            None => Ok(()),
        };
        self.check_alerts(now);
        // Answers go out only now, after the batch is stored (or known to have failed).
        for answer in answers {
            match answer {
                Pending::Create(result, reply) => {
                    let answer = stored(&failure).and(result).and_then(|record| self.created_view(record));
                    let _ = reply.send(answer);
                }
                Pending::Apply(result, reply) => {
                    let _ = reply.send(stored(&failure).and(result));
                }
                Pending::Posted(result, reply) => {
                    let _ = reply.send(stored(&failure).and(result));
                }
                Pending::Messages(id, reply) => {
                    let _ = reply.send(self.messages(id));
                }
                Pending::Audit(before, limit, reply) => {
                    let result = self.store.audit(&self.tenant, before, limit);
                    let _ = reply.send(result.map_err(|e| RequestError::Storage(e.to_string())));
                }
                Pending::Interaction(id, reply) => {
                    let _ = reply.send(self.view(id));
                }
                Pending::Queues(reply) => {
                    let _ = reply.send(self.queues(now));
                }
                Pending::Waiting(ids, reply) => {
                    let _ = reply.send(ids);
                }
                Pending::Agents(reply) => {
                    let _ = reply.send(self.agents());
                }
                Pending::Work(agent, reply) => {
                    let ids = self.engine.agent_work(agent).to_vec();
                    let _ = reply.send(ids.into_iter().filter_map(|id| self.view(id.0).ok()).collect());
                }
                Pending::Migration(result, reply) => {
                    let _ = reply.send(stored(&failure).and(result));
                }
                Pending::MigrationState(reply) => {
                    let _ = reply.send(self.migration.clone());
                }
            }
        }
    }

    /// Checks that a message may go into a conversation and logs it. The message's sequence
    /// number is known only once stored, so the answer carries 0 until then.
    fn post(
        &mut self,
        now: Timestamp,
        id: u64,
        from: Author,
        text: String,
        records: &mut Vec<LogRecord>,
    ) -> Result<MessageRow, RequestError> {
        let status = self.engine.interaction(InteractionId(id));
        let Some(status) = status else {
            // Not live: ended, or unknown.
            return match self.view(id) {
                Ok(_) => Err(RequestError::Conflict(format!("interaction {id} has ended; no more messages"))),
                Err(e) => Err(e),
            };
        };
        let author = match from {
            Author::Customer => None,
            Author::Agent(agent) => {
                if !matches!(status, InteractionStatus::Connected { agent: a } if a == agent) {
                    return Err(RequestError::Conflict(format!(
                        "interaction {id} is not connected to agent {}",
                        self.directory.agent_name(agent)
                    )));
                }
                Some(self.directory.agent_name(agent).to_string())
            }
        };
        let sender = if author.is_some() { "agent" } else { "customer" };
        let event =
            LogEvent::Message { interaction: id, sender: sender.into(), author: author.clone(), text: text.clone() };
        records.push(LogRecord { at_ms: ms(now), event });
        Ok(MessageRow { seq: 0, at_ms: ms(now), sender: sender.into(), author, text })
    }

    /// Whether a survey answer may be taken for this interaction: it must have been
    /// answered and be over (or in wrap-up).
    fn survey(&mut self, id: u64) -> Result<(), RequestError> {
        let view = self.view(id)?;
        match view.state {
            InteractionState::Completed | InteractionState::WrapUp => Ok(()),
            state => Err(RequestError::Conflict(format!(
                "interaction {id} is {}; the survey comes after the conversation",
                state.name()
            ))),
        }
    }

    fn messages(&mut self, id: u64) -> Result<Vec<MessageRow>, RequestError> {
        self.view(id)?;
        self.store.messages(&self.tenant, id).map_err(|e| RequestError::Storage(e.to_string()))
    }

    /// Raises or clears each queue's longest-wait alert.
    fn check_alerts(&mut self, now: Timestamp) {
        for q in 0..self.engine.queue_count() {
            let id = QueueId(q as u16);
            let oldest = self.engine.queue_stats(id).and_then(|s| s.oldest_enqueued_at);
            let name = &self.directory.queues[q];
            self.alerts.check(&self.tenant, q, name, oldest.map(|t| now.since(t)), ms(now));
        }
    }

    /// Starts a new day's counts when the tenant's date changed.
    fn roll_day(&mut self, at_ms: i64) {
        // The common case, cheaply: still the same day.
        if self.today.date.is_some() && (self.today.day_start_ms..self.today.day_end_ms).contains(&at_ms) {
            return;
        }
        let tz = &self.directory.time_zone;
        let date = jiff::Timestamp::from_millisecond(at_ms).map(|t| t.to_zoned(tz.clone()).date()).ok();
        let midnight = |d: jiff::civil::Date| d.to_zoned(tz.clone()).ok().map(|z| z.timestamp().as_millisecond());
        let start = date.and_then(midnight).unwrap_or(at_ms);
        let end = date.and_then(|d| d.tomorrow().ok()).and_then(midnight).unwrap_or(at_ms + 1);
        (self.today.day_start_ms, self.today.day_end_ms) = (start, end);
        if date == self.today.date {
            return;
        }
        self.today.date = date;
        self.today.since_ms = if self.today.queues.is_empty() { at_ms.max(start) } else { start };
        self.today.queues = vec![QueueDay::default(); self.directory.queues.len()];
        self.today.agents = vec![AgentDay::default(); self.directory.agents.len()];
    }

    /// Brings today's counters up to date with a stored record.
    fn count(&mut self, record: &LogRecord) {
        self.roll_day(record.at_ms);
        let at = record.at_ms;
        let today = &mut self.today;
        match &record.event {
            LogEvent::Created(r) => {
                if let Some(q) = self.directory.queue(&r.queue) {
                    today.queues[q.index()].offered += 1;
                    let open =
                        Open { queue: q.index(), entered_ms: r.created_at_ms, accepted_ms: None, answered: false };
                    today.open.insert(r.id, open);
                }
            }
            LogEvent::Accepted { interaction, .. } => {
                if let Some(open) = today.open.get_mut(interaction) {
                    open.accepted_ms = Some(at);
                    if !open.answered {
                        open.answered = true;
                        let wait = (at - open.entered_ms).max(0);
                        let day = &mut today.queues[open.queue];
                        day.answered += 1;
                        day.wait_ms += wait as u64;
                        if wait as u128 <= self.directory.service_level[open.queue].0.as_millis() {
                            day.answered_within += 1;
                        }
                    }
                }
            }
            LogEvent::Transferred { interaction, from, to_queue, .. } => {
                if let Some(open) = today.open.get_mut(interaction) {
                    // The handling so far counts for the agent who hands it on.
                    if let (Some(a), Some(accepted)) = (self.directory.agent(from), open.accepted_ms) {
                        let day = &mut today.agents[a.index()];
                        day.handled += 1;
                        day.talk_ms += (at - accepted).max(0) as u64;
                    }
                    open.accepted_ms = None;
                    if let Some(q) = to_queue.as_deref().and_then(|q| self.directory.queue(q)) {
                        // A new arrival for the queue it goes to.
                        *open = Open { queue: q.index(), entered_ms: at, accepted_ms: None, answered: false };
                        today.queues[q.index()].offered += 1;
                    }
                }
            }
            LogEvent::Abandoned { interaction, .. } => {
                if let Some(open) = today.open.remove(interaction) {
                    today.queues[open.queue].abandoned += 1;
                }
            }
            LogEvent::Completed { interaction, agent, wrap_up_until_ms } => {
                let accepted = today.open.get(interaction).and_then(|o| o.accepted_ms);
                if let (Some(a), Some(accepted)) = (self.directory.agent(agent), accepted) {
                    let day = &mut today.agents[a.index()];
                    day.handled += 1;
                    day.talk_ms += (at - accepted).max(0) as u64;
                }
                if wrap_up_until_ms.is_none() {
                    today.open.remove(interaction);
                }
            }
            LogEvent::WrapUpEnded { interaction, .. } | LogEvent::Lost { interaction, .. } => {
                today.open.remove(interaction);
            }
            _ => {}
        }
    }

    fn create(
        &mut self,
        now: Timestamp,
        new: NewRequest,
        records: &mut Vec<LogRecord>,
        accounts: &mut Vec<AccountChange>,
        audit: &mut Vec<AuditRecord>,
    ) -> Result<InteractionRecord, RequestError> {
        let id = self.next_id;
        let queue_priority = self.setup.queues[new.queue.index()].priority;
        let command = Command::Enqueue(NewInteraction {
            id: InteractionId(id),
            channel: new.channel,
            queue: new.queue,
            priority: new.priority,
            requirements: new.requirements.clone(),
        });
        let record = InteractionRecord {
            id,
            channel: new.channel.name().to_string(),
            queue: self.directory.queue_name(new.queue).to_string(),
            priority: new.priority.unwrap_or(queue_priority).get(),
            requirements: new
                .requirements
                .iter()
                .map(|(s, l)| (self.directory.skill_name(*s).to_string(), l.get()))
                .collect(),
            attributes: new.attributes,
            created_at_ms: ms(now),
        };
        // The record goes first so that the log holds the interaction before its offers.
        let mark = records.len();
        records.push(LogRecord { at_ms: ms(now), event: LogEvent::Created(record.clone()) });
        if let Err(e) = self.engine.handle(now, command) {
            records.truncate(mark);
            return Err(e.into());
        }
        self.next_id += 1;
        if let Some(call) = new.voice_call {
            // Before the engine's events, so that the endpoint knows the interaction when
            // its offer comes.
            self.voice_interactions.insert(id);
            self.tell_voice(sb_voice::RouteNotice::Queued { call: sb_voice::CallId(call), interaction: id });
        }
        self.drain(records);
        if let Some((mut token, mut entry)) = new.customer {
            token.interaction = Some(id);
            entry.target = format!("interaction:{id}");
            accounts.push(AccountChange::PutToken(token));
            audit.push(entry);
        }
        Ok(record)
    }

    /// The view of an interaction just created, from its record and the engine, without a
    /// read from storage; storage is asked only if the engine no longer holds it.
    fn created_view(&mut self, record: InteractionRecord) -> Result<InteractionView, RequestError> {
        let id = InteractionId(record.id);
        let (state, agent) = match self.engine.interaction(id) {
            Some(InteractionStatus::Waiting { .. }) => (InteractionState::Waiting, None),
            Some(InteractionStatus::Offered { agent, .. }) => (InteractionState::Offered, Some(agent)),
            Some(InteractionStatus::Connected { agent }) => (InteractionState::Connected, Some(agent)),
            Some(InteractionStatus::WrapUp { agent, .. }) => (InteractionState::WrapUp, Some(agent)),
            None => return self.view(record.id),
        };
        let estimated_wait = if state == InteractionState::Waiting { self.engine.estimated_wait(id) } else { None };
        let position = self.position(id, &record.queue);
        let agent = agent.map(|a| self.directory.agent_name(a).to_string());
        Ok(InteractionView { record, state, agent, estimated_wait, position })
    }

    fn view(&mut self, id: u64) -> Result<InteractionView, RequestError> {
        let tenant = self.directory.tenant.clone();
        let row = self
            .store
            .interaction(&tenant, id)
            .map_err(|e| RequestError::Storage(e.to_string()))?
            .ok_or(RequestError::NotFound(id))?;
        let estimated_wait = match self.engine.interaction(InteractionId(id)) {
            Some(InteractionStatus::Waiting { .. }) => self.engine.estimated_wait(InteractionId(id)),
            _ => None,
        };
        let position = self.position(InteractionId(id), &row.record.queue);
        Ok(InteractionView { record: row.record, state: row.state, agent: row.agent, estimated_wait, position })
    }

    /// A waiting interaction's place in its queue, 1 for the next.
    fn position(&self, id: InteractionId, queue: &str) -> Option<u32> {
        let Some(InteractionStatus::Waiting { .. }) = self.engine.interaction(id) else { return None };
        self.engine.waiting(self.directory.queue(queue)?).iter().position(|w| *w == id).map(|p| p as u32 + 1)
    }

    fn queues(&mut self, now: Timestamp) -> Vec<QueueView> {
        self.roll_day(ms(now));
        let mut by_activity = vec![[0u32; 4]; self.engine.queue_count()];
        for (a, agent) in self.setup.agents.iter().enumerate() {
            let slot = match self.engine.agent_activity(AgentId(a as u32)) {
                Some(AgentActivity::Available) => 0,
                Some(AgentActivity::Busy) => 1,
                Some(AgentActivity::WrapUp) => 2,
                Some(AgentActivity::NotReady(_)) => 3,
                _ => continue,
            };
            for q in &agent.queues {
                by_activity[q.index()][slot] += 1;
            }
        }
        (0..self.engine.queue_count())
            .map(|q| {
                let id = QueueId(q as u16);
                let stats = self.engine.queue_stats(id).expect("queue in range");
                QueueView {
                    name: self.directory.queue_name(id).to_string(),
                    waiting: stats.waiting,
                    staffed: stats.staffed,
                    longest_wait: stats.oldest_enqueued_at.map(|t| now.since(t)),
                    estimated_wait: stats.estimated_wait,
                    today: self.today.queues[q],
                    service_level: self.directory.service_level[q],
                    agents: by_activity[q],
                    counting_since_ms: self.today.since_ms,
                    alert_threshold: self.alerts.threshold(),
                    in_alert: self.alerts.in_alert(q),
                }
            })
            .collect()
    }

    fn agents(&self) -> Vec<AgentView> {
        (0..self.engine.agent_count())
            .map(|a| {
                let id = AgentId(a as u32);
                let (presence, load, _) = self.engine.agent_load(id).expect("agent in range");
                AgentView {
                    name: self.directory.agent_name(id).to_string(),
                    activity: self.engine.agent_activity(id).expect("agent in range"),
                    presence,
                    load,
                    since_ms: self.agent_since.get(a).copied().flatten(),
                    today: self.today.agents.get(a).copied().unwrap_or_default(),
                    skills: self.skills[a].clone(),
                }
            })
            .collect()
    }
}
