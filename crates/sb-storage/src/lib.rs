//! Durable storage: the append-only event log of every tenant, and the tables of current
//! state that a restart needs (interactions not yet ended, agents' presences).
//!
//! One [`Store`] trait, two backends: an embedded SQLite file (the default, in WAL mode) and
//! PostgreSQL. Each [`Store::append`] is one transaction that writes the log records and
//! brings the current-state tables up to date from them, so the tables can always be
//! rebuilt from the log. The log speaks in names (agent ids of the configuration), not the
//! routing engine's numbers, so it stays meaningful when the configuration changes.
//!
//! Storage knows nothing of the routing engine; the server converts engine events into
//! [`LogEvent`]s. JSON appears only inside this crate, as the log's payload encoding.

mod backend;
mod codec;
mod postgres_backend;
pub mod sealed;
mod sqlite_backend;
mod store;

pub use store::{backup_sqlite, open, read_back, verify_sqlite};

/// The JSON encoding of an event, exactly as the log stores it (with its `kind`); the live
/// event stream sends the same, so consumers read one format.
pub fn event_json(event: &LogEvent) -> String {
    codec::encode(event)
}

/// What went wrong in storage.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("unsupported database address {0:?}: use a file path, sqlite:PATH or postgres://...")]
    BadAddress(String),
    #[error("SQLite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("PostgreSQL: {0}")]
    Postgres(#[from] postgres::Error),
    #[error("the database schema is at version {found}, newer than this program's {supported}; upgrade Switchboard")]
    SchemaTooNew { found: i64, supported: i64 },
    #[error("corrupt log record {seq}: {reason}")]
    Corrupt { seq: i64, reason: String },
}

/// An interaction's details as accepted (what the engine does not need but people do).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InteractionRecord {
    /// Unique within the tenant and strictly increasing in order of acceptance.
    pub id: u64,
    /// `voice`, `chat`, `email` or `sms`.
    pub channel: String,
    /// The queue's id in the configuration.
    pub queue: String,
    /// 1..=10, the effective priority.
    pub priority: u8,
    /// Skill id and minimum proficiency, on top of the queue's.
    pub requirements: Vec<(String, u8)>,
    /// Free-form attributes (customer name, CRM id, ...), in the order given.
    pub attributes: Vec<(String, String)>,
    /// Milliseconds since the Unix epoch.
    pub created_at_ms: i64,
}

/// An agent's chosen presence as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PresenceRecord {
    Offline,
    Available,
    /// With the reason code's id.
    NotReady(String),
}

/// One entry of the event log. Times are milliseconds since the Unix epoch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LogEvent {
    /// An interaction was accepted into a queue.
    Created(InteractionRecord),
    StepReached {
        interaction: u64,
        step: u8,
    },
    Offered {
        interaction: u64,
        agent: String,
        expires_at_ms: i64,
    },
    Accepted {
        interaction: u64,
        agent: String,
    },
    Rejected {
        interaction: u64,
        agent: String,
    },
    OfferTimedOut {
        interaction: u64,
        agent: String,
    },
    /// `reason` is `customer_left` or `agent_unavailable`.
    OfferCancelled {
        interaction: u64,
        agent: String,
        reason: String,
    },
    Abandoned {
        interaction: u64,
        waited_ms: i64,
    },
    Completed {
        interaction: u64,
        agent: String,
        wrap_up_until_ms: Option<i64>,
    },
    WrapUpEnded {
        interaction: u64,
        agent: String,
    },
    /// `activity` is `offline`, `available`, `busy`, `wrap_up` or `not_ready`.
    AgentState {
        agent: String,
        activity: String,
        presence: PresenceRecord,
    },
    /// The interaction could not be carried over a restart (a call whose media died with
    /// the process) and ended.
    Lost {
        interaction: u64,
        reason: String,
    },
    /// A chat, SMS or email message. `sender` is `customer`, `agent` or `system`; `author`
    /// is the agent's id for an agent's message.
    Message {
        interaction: u64,
        sender: String,
        author: Option<String>,
        text: String,
    },
    /// What the agent recorded about the interaction when finishing it.
    Disposition {
        interaction: u64,
        agent: String,
        code: Option<String>,
        notes: String,
    },
    /// A supervisor replaced an agent's skills (skill id and proficiency); they stay so
    /// across restarts, over the configuration's.
    AgentSkills {
        agent: String,
        skills: Vec<(String, u8)>,
    },
    /// The connected agent handed the interaction on, to a queue or to an agent.
    Transferred {
        interaction: u64,
        from: String,
        to_queue: Option<String>,
        to_agent: Option<String>,
    },
    /// The customer's answer to the satisfaction question, 1 to 5.
    Survey {
        interaction: u64,
        score: u8,
    },
}

impl LogEvent {
    /// The interaction the event is about, if any.
    pub fn interaction(&self) -> Option<u64> {
        codec::interaction_of(self)
    }

    /// The kind's name, as the JSON's `kind` field: `created`, `offered`, `message`, ...
    pub fn kind_name(&self) -> &'static str {
        codec::kind(self)
    }

    /// The agent the event is about, if any (the author of an agent's message).
    pub fn agent(&self) -> Option<&str> {
        codec::agent_of(self)
    }
}

/// A log entry to append.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogRecord {
    pub at_ms: i64,
    pub event: LogEvent,
}

/// A log entry as stored, with its position in the tenant's log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredEvent {
    pub seq: i64,
    pub at_ms: i64,
    pub event: LogEvent,
}

/// Where an interaction stands, as the current-state table records it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InteractionState {
    Waiting,
    Offered,
    Connected,
    WrapUp,
    Completed,
    Abandoned,
    Lost,
}

impl InteractionState {
    /// The state's name in tables and APIs: `waiting`, `offered`, `connected`, `wrap_up`,
    /// `completed`, `abandoned` or `lost`.
    pub fn name(self) -> &'static str {
        match self {
            InteractionState::Waiting => "waiting",
            InteractionState::Offered => "offered",
            InteractionState::Connected => "connected",
            InteractionState::WrapUp => "wrap_up",
            InteractionState::Completed => "completed",
            InteractionState::Abandoned => "abandoned",
            InteractionState::Lost => "lost",
        }
    }

    /// Whether the interaction is over.
    pub fn is_ended(self) -> bool {
        matches!(self, InteractionState::Completed | InteractionState::Abandoned | InteractionState::Lost)
    }
}

/// One row of the current-state table of interactions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InteractionRow {
    pub record: InteractionRecord,
    pub state: InteractionState,
    /// The agent it is offered to, connected to or in wrap-up with.
    pub agent: Option<String>,
    pub connected_at_ms: Option<i64>,
    pub ended_at_ms: Option<i64>,
}

/// An agent's last known presence.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AgentRow {
    pub agent: String,
    pub presence: PresenceRecord,
    pub changed_at_ms: i64,
    /// Skills set at run time, replacing the configuration's; `None` if never changed.
    pub skills: Option<Vec<(String, u8)>>,
}

/// What a tenant's server needs to start again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Snapshot {
    /// Interactions not yet ended, by id.
    pub interactions: Vec<InteractionRow>,
    pub agents: Vec<AgentRow>,
    /// One more than the largest interaction id ever stored (1 for a new tenant).
    pub next_interaction_id: u64,
    /// The sequence number of the last log record (0 for an empty log).
    pub last_seq: i64,
}

/// A person who signs in to a tenant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserRecord {
    /// Unique within the tenant.
    pub username: String,
    pub display_name: String,
    /// `admin`, `supervisor` or `agent`.
    pub role: String,
    /// The agent id of the configuration this user works as, if any.
    pub agent: Option<String>,
    /// An Argon2 hash in the PHC string format; never the password.
    pub password_hash: String,
    pub disabled: bool,
    pub created_at_ms: i64,
}

/// A credential: a browser session, an API token or a chat customer's token. Only a hash
/// of the secret is stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenRecord {
    /// Hex SHA-256 of the secret.
    pub hash: String,
    /// The user it acts for; for a customer's token, `customer`.
    pub username: String,
    /// `session`, `api` or `customer`.
    pub kind: String,
    pub label: String,
    /// For a customer's token: the one interaction it may see.
    pub interaction: Option<u64>,
    pub created_at_ms: i64,
    pub expires_at_ms: Option<i64>,
}

/// A change to users or credentials, stored with the batch it belongs to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AccountChange {
    /// Creates the user or replaces it (same username).
    PutUser(UserRecord),
    PutToken(TokenRecord),
    RevokeToken {
        hash: String,
        at_ms: i64,
    },
}

/// Who did what to what, when and from where: an audit log entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditRecord {
    pub at_ms: i64,
    /// The username, `customer`, or `cli:NAME` for the command line.
    pub actor: String,
    /// The client's address, or `cli`.
    pub source: String,
    /// A dotted name such as `agent.presence` or `user.create`.
    pub action: String,
    /// What it was done to, such as `agent:alice` or `interaction:7`.
    pub target: String,
    /// Free text details (new values).
    pub detail: String,
}

/// An audit entry as stored, with its id (increasing in order of storing).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditEntry {
    pub id: i64,
    pub record: AuditRecord,
}

/// A chat message as the messages table keeps it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MessageRow {
    /// The log sequence number of the message: increasing in order of acceptance.
    pub seq: i64,
    pub at_ms: i64,
    pub sender: String,
    pub author: Option<String>,
    pub text: String,
}

/// Everything one transaction stores: log records, account changes, audit entries and a
/// new migration state.
#[derive(Clone, Copy, Debug, Default)]
pub struct Batch<'a> {
    pub records: &'a [LogRecord],
    pub accounts: &'a [AccountChange],
    pub audit: &'a [AuditRecord],
    pub migration: Option<&'a MigrationRecord>,
}

impl Batch<'_> {
    pub fn is_empty(&self) -> bool {
        self.records.is_empty() && self.accounts.is_empty() && self.audit.is_empty() && self.migration.is_none()
    }
}

/// Where a tenant's migration cutover stands; it survives restarts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MigrationRecord {
    /// The plan's phase the cutover is in; `None` before the first phase.
    pub phase: Option<String>,
    /// The phase's share of new calls that Switchboard answers, in percent.
    pub switchboard_percent: Option<u8>,
    /// When the phase started.
    pub phase_since_ms: Option<i64>,
    /// The phase's pilot agents, who alone may take Switchboard's calls; empty: everyone.
    pub agents: Vec<String>,
    /// Every new call goes to the legacy PBX.
    pub rolled_back: bool,
    /// Configuration changes (users, agents' skills) are refused.
    pub frozen: bool,
    pub changed_at_ms: i64,
    /// Who made the last change (as in the audit log).
    pub actor: String,
}

/// A tenant's users and its credentials still valid at some time.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Accounts {
    pub users: Vec<UserRecord>,
    pub tokens: Vec<TokenRecord>,
}

/// A tenant's durable state. Implementations are used from one thread at a time (the
/// tenant's dispatcher owns its store).
pub trait Store: Send {
    /// Appends records to the tenant's log and applies them to the current-state tables, in
    /// one transaction: after `Ok`, all of it survives a crash; after `Err`, none of it is
    /// stored.
    fn append(&mut self, tenant: &str, records: &[LogRecord]) -> Result<(), StoreError> {
        self.commit(tenant, Batch { records, ..Batch::default() })
    }
    /// Stores a whole batch in one transaction, all or nothing, like [`Store::append`].
    fn commit(&mut self, tenant: &str, batch: Batch<'_>) -> Result<(), StoreError>;
    /// The tenant's users, and its credentials neither revoked nor expired at `now_ms`.
    fn accounts(&mut self, tenant: &str, now_ms: i64) -> Result<Accounts, StoreError>;
    /// Audit entries with an id below `before` (all if `None`), newest first, at most `limit`.
    fn audit(&mut self, tenant: &str, before: Option<i64>, limit: u32) -> Result<Vec<AuditEntry>, StoreError>;
    /// An interaction's messages, oldest first.
    fn messages(&mut self, tenant: &str, interaction: u64) -> Result<Vec<MessageRow>, StoreError>;
    /// The state to restart from.
    fn snapshot(&mut self, tenant: &str) -> Result<Snapshot, StoreError>;
    /// Log records after `after_seq`, oldest first, at most `limit`.
    fn events(&mut self, tenant: &str, after_seq: i64, limit: u32) -> Result<Vec<StoredEvent>, StoreError>;
    /// One interaction's row, ended or not.
    fn interaction(&mut self, tenant: &str, id: u64) -> Result<Option<InteractionRow>, StoreError>;
    /// Stores a legacy center's contacts from `source` in one transaction; those already
    /// stored (the same source and id) stay as they are, so an import run again, or resumed
    /// after an interruption, adds nothing twice. Returns how many were new.
    fn put_legacy(&mut self, tenant: &str, source: &str, rows: &[LegacyRow]) -> Result<u64, StoreError>;
    /// The tenant's legacy contacts, by arrival.
    fn legacy(&mut self, tenant: &str) -> Result<Vec<LegacyRow>, StoreError>;
    /// Stores a legacy center's interval figures from `source`; those already stored (the
    /// same source, queue and start) stay as they are. Returns how many were new.
    fn put_legacy_intervals(&mut self, tenant: &str, source: &str, rows: &[IntervalRow]) -> Result<u64, StoreError>;
    /// The tenant's legacy interval figures, by start.
    fn legacy_intervals(&mut self, tenant: &str) -> Result<Vec<IntervalRow>, StoreError>;
    /// Every tenant the store holds anything of, by name.
    fn tenants(&mut self) -> Result<Vec<String>, StoreError>;
    /// Stores a legacy recording's entry; `false` if one with the same content was stored
    /// already (it stays as it is).
    fn put_legacy_recording(&mut self, tenant: &str, row: &RecordingRow) -> Result<bool, StoreError>;
    /// The tenant's legacy recordings, by source path.
    fn legacy_recordings(&mut self, tenant: &str) -> Result<Vec<RecordingRow>, StoreError>;
    /// Interactions created at `since_ms` or later, ended or not, by id.
    fn interactions_since(&mut self, tenant: &str, since_ms: i64) -> Result<Vec<InteractionRow>, StoreError>;
    /// Where the tenant's migration stands; `None` if it never started.
    fn migration(&mut self, tenant: &str) -> Result<Option<MigrationRecord>, StoreError>;
    /// A short name of the backend for logs: `sqlite` or `postgres`.
    fn kind(&self) -> &'static str;
}

/// A legacy center's recording, copied (sealed) into Switchboard's store, with what is
/// known of its call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordingRow {
    /// The SHA-256 (hex) of the recording as it was: its key.
    pub sha256: String,
    pub size: i64,
    /// Where it was, relative to the legacy recordings' directory.
    pub source_path: String,
    /// Where the sealed copy is, relative to the recordings' directory.
    pub stored_path: String,
    /// The legacy call's id (Asterisk's uniqueid, a CDR's id), linking it to the history.
    pub call_id: Option<String>,
    pub started_ms: Option<i64>,
    pub agent: Option<String>,
    pub caller: Option<String>,
    pub queue: Option<String>,
}

/// A legacy center's figures for one queue and interval, as stored (see
/// `sb_migrate::history::IntervalRecord`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IntervalRow {
    pub queue: String,
    pub start_ms: i64,
    pub minutes: i64,
    pub offered: i64,
    pub answered: i64,
    pub abandoned: i64,
    pub answered_within: i64,
    pub within_s: i64,
    pub answer_s: i64,
    pub talk_s: i64,
}

/// One stay in a queue of a legacy center, as stored (see `sb_migrate::history`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LegacyRow {
    pub id: String,
    pub queue: String,
    pub caller: Option<String>,
    pub dnis: Option<String>,
    pub arrived_ms: i64,
    /// `None`: the source did not tell.
    pub wait_ms: Option<i64>,
    pub talk_ms: Option<i64>,
    pub agent: Option<String>,
    /// `answered`, `abandoned` or `exited`.
    pub outcome: String,
}
