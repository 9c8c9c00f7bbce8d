//! The [`Store`] itself, written once over any [`Backend`]: opening a database by its
//! address, migrating its schema, appending to the log while keeping the current-state
//! tables up to date (the projection), and the reads that a restart and the API need.
//!
//! Every statement is plain SQL that SQLite and PostgreSQL read alike, with `$1, $2, ...`
//! placeholders in order. Log sequence numbers come from one counter for the whole database
//! (`AUTOINCREMENT` or `BIGSERIAL`), so a tenant's numbers increase but are not contiguous.

use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::backend::{Backend, Row, TxMode, Value};
use crate::postgres_backend::Postgres;
use crate::sqlite_backend::Sqlite;
use crate::{
    AccountChange, Accounts, AgentRow, AuditEntry, AuditRecord, Batch, InteractionRecord, InteractionRow,
    InteractionState, LogEvent, LogRecord, MessageRow, Snapshot, Store, StoreError, StoredEvent, TokenRecord,
    UserRecord, codec,
};

/// Opens (creating it if it is a missing SQLite file) the database at `address` and brings
/// its schema up to date.
///
/// The address is a file path or `sqlite:PATH` for SQLite, or a `postgres://` or
/// `postgresql://` connection URL. Anything else that looks like a URL (`scheme://...`) is a
/// [`StoreError::BadAddress`], as is an empty address.
pub fn open(address: &str) -> Result<Box<dyn Store>, StoreError> {
    match parse_address(address)? {
        Address::Sqlite(path) => Ok(Box::new(SqlStore::new(Sqlite::open(path)?)?)),
        Address::Postgres(url) => Ok(Box::new(SqlStore::new(Postgres::connect(url)?)?)),
    }
}

/// Writes a consistent copy of the SQLite database at `address` to `dest` (a new file), while
/// other connections may be writing (`VACUUM INTO`, one transaction). PostgreSQL databases are
/// copied with the server's own tools (`pg_dump`), which this refuses to stand in for.
pub fn backup_sqlite(address: &str, dest: &Path) -> Result<(), StoreError> {
    match parse_address(address)? {
        Address::Sqlite(path) => {
            let conn = rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
            let dest = dest.to_str().ok_or_else(|| StoreError::BadAddress(dest.display().to_string()))?;
            conn.execute("VACUUM INTO ?1", [dest])?;
            Ok(())
        }
        Address::Postgres(_) => Err(StoreError::BadAddress(format!(
            "{address}: back PostgreSQL up with pg_dump; this backs up SQLite files"
        ))),
    }
}

/// Checks an SQLite file: SQLite's own integrity check, then Switchboard's schema (opening
/// it as a store) and every tenant's state (reading it back as on a restart). Returns the
/// tenants found.
pub fn verify_sqlite(path: &Path) -> Result<Vec<String>, String> {
    let conn = rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(|e| e.to_string())?;
    let check: String = conn.query_row("PRAGMA integrity_check", [], |row| row.get(0)).map_err(|e| e.to_string())?;
    if check != "ok" {
        return Err(format!("SQLite's integrity check failed: {check}"));
    }
    drop(conn);
    // Opening migrates an older schema (the copy is a scratch one).
    read_back(&format!("sqlite:{}", path.display()))
}

/// Opens the store at `address` and reads every tenant's state back as on a restart (its
/// interactions and agents, accounts, history, migration); returns the tenants.
pub fn read_back(address: &str) -> Result<Vec<String>, String> {
    let mut store = open(address).map_err(|e| e.to_string())?;
    let tenants = store.tenants().map_err(|e| e.to_string())?;
    for tenant in &tenants {
        let fail = |e: StoreError| format!("tenant {tenant}: {e}");
        store.snapshot(tenant).map_err(fail)?;
        store.accounts(tenant, 0).map_err(fail)?;
        store.legacy(tenant).map_err(fail)?;
        store.legacy_intervals(tenant).map_err(fail)?;
        store.migration(tenant).map_err(fail)?;
        store.legacy_recordings(tenant).map_err(fail)?;
    }
    Ok(tenants)
}

/// Where a database is, as understood from an address.
#[derive(Debug, PartialEq, Eq)]
enum Address<'a> {
    Sqlite(&'a Path),
    Postgres(&'a str),
}

fn parse_address(address: &str) -> Result<Address<'_>, StoreError> {
    let bad = || StoreError::BadAddress(address.to_string());
    if address.starts_with("postgres://") || address.starts_with("postgresql://") {
        return Ok(Address::Postgres(address));
    }
    let path = address.strip_prefix("sqlite:").unwrap_or(address);
    // Another scheme (`mysql://...`), or `sqlite://...`, which would be read as a path
    // starting with `//` and surprise whoever wrote it.
    if path.is_empty() || path.contains("://") || path.starts_with("//") {
        return Err(bad());
    }
    Ok(Address::Sqlite(Path::new(path)))
}

/// Milliseconds since the Unix epoch, for the migration records.
fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

/// The table that records which schema versions are applied, common to both backends.
const VERSION_TABLE: &str = "CREATE TABLE IF NOT EXISTS schema_migrations (
    version BIGINT PRIMARY KEY,
    applied_at_ms BIGINT NOT NULL
)";

const INSERT_EVENT: &str = "INSERT INTO events (tenant, at_ms, kind, interaction, agent, payload)
    VALUES ($1, $2, $3, $4, $5, $6) RETURNING seq";

const INTERACTION_COLUMNS: &str = "id, channel, queue, priority, requirements, attributes, created_at_ms, \
    state, agent, connected_at_ms, ended_at_ms";

/// A [`Store`] on one database connection.
#[derive(Debug)]
struct SqlStore<B> {
    db: B,
}

impl<B: Backend> SqlStore<B> {
    /// Wraps a connection, migrating the schema first.
    fn new(db: B) -> Result<SqlStore<B>, StoreError> {
        let mut store = SqlStore { db };
        store.migrate()?;
        Ok(store)
    }

    /// Applies the migration steps that the database lacks, all in one transaction.
    fn migrate(&mut self) -> Result<(), StoreError> {
        let steps = self.db.migrations();
        let supported = steps.len() as i64;
        let kind = self.db.kind();
        self.transaction(TxMode::Schema, |db| {
            db.execute_batch(VERSION_TABLE)?;
            let applied = db
                .query("SELECT version FROM schema_migrations ORDER BY version", &[])?
                .iter()
                .map(|row| row.int(0))
                .collect::<Result<Vec<i64>, String>>()
                .map_err(|reason| corrupt_table("schema_migrations", reason))?;
            if let Some(&found) = applied.last()
                && found > supported
            {
                return Err(StoreError::SchemaTooNew { found, supported });
            }
            for (version, sql) in (1..).zip(steps) {
                if applied.contains(&version) {
                    continue;
                }
                db.execute_batch(sql)?;
                db.execute(
                    "INSERT INTO schema_migrations (version, applied_at_ms) VALUES ($1, $2)",
                    &[version.into(), now_ms().into()],
                )?;
                tracing::info!(storage = kind, version, "applied a schema migration");
            }
            Ok(())
        })
    }

    /// Runs `f` in a transaction: committed if it succeeds, rolled back if anything fails.
    fn transaction<T>(
        &mut self,
        mode: TxMode,
        f: impl FnOnce(&mut B) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.db.begin(mode)?;
        let result = f(&mut self.db).and_then(|value| self.db.commit().map(|()| value));
        if result.is_err()
            && let Err(e) = self.db.rollback()
        {
            // The database may have rolled back already (PostgreSQL after a failed commit,
            // SQLite after some I/O errors); the first error is the one to report.
            tracing::debug!(error = %e, "rollback after a failed transaction");
        }
        result
    }
}

/// An error for a current-state table row that cannot be read back.
fn corrupt_table(table: &str, reason: String) -> StoreError {
    // Table rows have no log position; 0 is no record's sequence number.
    StoreError::Corrupt { seq: 0, reason: format!("{table} table: {reason}") }
}

/// The states of interactions not yet ended, which a snapshot returns.
const LIVE: [InteractionState; 4] =
    [InteractionState::Waiting, InteractionState::Offered, InteractionState::Connected, InteractionState::WrapUp];

/// A state as a parameter.
fn state(state: InteractionState) -> Value {
    state.name().into()
}

/// An interaction id as the database stores it (a signed 64-bit integer).
fn id_value(id: u64) -> Option<i64> {
    i64::try_from(id).ok()
}

/// Writes one record to the log and applies it to the current-state tables.
fn append_record<B: Backend>(db: &mut B, tenant: &str, record: &LogRecord) -> Result<(), StoreError> {
    let event = &record.event;
    let interaction = match codec::interaction_of(event) {
        Some(id) => Value::Int(id_value(id).ok_or_else(|| StoreError::Corrupt {
            // Refused before it got a place in the log.
            seq: 0,
            reason: format!("interaction id {id} is larger than the database can store"),
        })?),
        None => Value::Null,
    };
    let rows = db.query(
        INSERT_EVENT,
        &[
            tenant.into(),
            record.at_ms.into(),
            codec::kind(event).into(),
            interaction.clone(),
            codec::agent_of(event).into(),
            codec::encode(event).into(),
        ],
    )?;
    let seq = rows
        .first()
        .and_then(|row| row.int(0).ok())
        .ok_or_else(|| corrupt_table("events", "inserting a record returned no sequence number".into()))?;
    project(db, tenant, seq, record.at_ms, event, interaction)
}

/// Brings the current-state tables up to date with one log record. `id` is the record's
/// interaction, as in its `interaction` column.
fn project<B: Backend>(
    db: &mut B,
    tenant: &str,
    seq: i64,
    at_ms: i64,
    event: &LogEvent,
    id: Value,
) -> Result<(), StoreError> {
    let t = || Value::from(tenant);
    let at = || Value::Int(at_ms);
    let changed = match event {
        LogEvent::Created(record) => {
            let inserted = db.execute(
                "INSERT INTO interactions (tenant, id, channel, queue, priority, requirements, attributes,
                    created_at_ms, state)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                ON CONFLICT DO NOTHING",
                &[
                    t(),
                    id,
                    record.channel.as_str().into(),
                    record.queue.as_str().into(),
                    i64::from(record.priority).into(),
                    codec::encode_requirements(&record.requirements).into(),
                    codec::encode_attributes(&record.attributes).into(),
                    record.created_at_ms.into(),
                    state(InteractionState::Waiting),
                ],
            )?;
            if inserted == 0 {
                return Err(StoreError::Corrupt {
                    seq,
                    reason: format!(
                        "interaction {} of tenant {tenant:?} already exists; nothing of the batch was stored",
                        record.id
                    ),
                });
            }
            return Ok(());
        }
        LogEvent::AgentState { agent, presence, .. } => {
            let (presence, reason) = codec::presence_columns(presence);
            // The time changes only with the presence, so that it tells since when an agent
            // has been (say) not ready, whatever the activity did meanwhile.
            db.execute(
                "INSERT INTO agents (tenant, agent, presence, reason, changed_at_ms)
                VALUES ($1, $2, $3, $4, $5)
                ON CONFLICT (tenant, agent) DO UPDATE
                SET presence = excluded.presence, reason = excluded.reason, changed_at_ms = excluded.changed_at_ms
                WHERE agents.presence IS DISTINCT FROM excluded.presence
                    OR agents.reason IS DISTINCT FROM excluded.reason",
                &[t(), agent.as_str().into(), presence.into(), reason.into(), at()],
            )?;
            return Ok(());
        }
        LogEvent::AgentSkills { agent, skills } => {
            // An agent without a row yet is offline (the state of every agent at start).
            db.execute(
                "INSERT INTO agents (tenant, agent, presence, reason, changed_at_ms, skills)
                VALUES ($1, $2, 'offline', NULL, $3, $4)
                ON CONFLICT (tenant, agent) DO UPDATE SET skills = excluded.skills",
                &[t(), agent.as_str().into(), at(), codec::encode_requirements(skills).into()],
            )?;
            return Ok(());
        }
        LogEvent::StepReached { .. } => {
            db.query("SELECT id FROM interactions WHERE tenant = $1 AND id = $2", &[t(), id])?.len() as u64
        }
        LogEvent::Offered { agent, .. } => db.execute(
            "UPDATE interactions SET state = $1, agent = $2 WHERE tenant = $3 AND id = $4",
            &[state(InteractionState::Offered), agent.as_str().into(), t(), id],
        )?,
        LogEvent::Accepted { agent, .. } => db.execute(
            "UPDATE interactions SET state = $1, agent = $2, connected_at_ms = $3
            WHERE tenant = $4 AND id = $5",
            &[state(InteractionState::Connected), agent.as_str().into(), at(), t(), id],
        )?,
        LogEvent::Rejected { .. } | LogEvent::OfferTimedOut { .. } | LogEvent::OfferCancelled { .. } => db.execute(
            "UPDATE interactions SET state = $1, agent = NULL WHERE tenant = $2 AND id = $3",
            &[state(InteractionState::Waiting), t(), id],
        )?,
        LogEvent::Abandoned { .. } => db.execute(
            "UPDATE interactions SET state = $1, agent = NULL, ended_at_ms = $2
            WHERE tenant = $3 AND id = $4",
            &[state(InteractionState::Abandoned), at(), t(), id],
        )?,
        LogEvent::Completed { agent, wrap_up_until_ms: Some(_), .. } => db.execute(
            "UPDATE interactions SET state = $1, agent = $2 WHERE tenant = $3 AND id = $4",
            &[state(InteractionState::WrapUp), agent.as_str().into(), t(), id],
        )?,
        LogEvent::Completed { agent, wrap_up_until_ms: None, .. } | LogEvent::WrapUpEnded { agent, .. } => db.execute(
            "UPDATE interactions SET state = $1, agent = $2, ended_at_ms = $3
                WHERE tenant = $4 AND id = $5",
            &[state(InteractionState::Completed), agent.as_str().into(), at(), t(), id],
        )?,
        LogEvent::Message { sender, author, text, .. } => db.execute(
            "INSERT INTO messages (tenant, interaction, seq, at_ms, sender, author, body)
            SELECT tenant, id, $1, $2, $3, $4, $5 FROM interactions WHERE tenant = $6 AND id = $7",
            &[seq.into(), at(), sender.as_str().into(), author.as_deref().into(), text.as_str().into(), t(), id],
        )?,
        // Waiting again (in the new queue); an offer to the named agent, if any, follows.
        LogEvent::Transferred { to_queue, .. } => db.execute(
            "UPDATE interactions SET state = $1, agent = NULL, queue = COALESCE($2, queue)
            WHERE tenant = $3 AND id = $4",
            &[state(InteractionState::Waiting), to_queue.as_deref().into(), t(), id],
        )?,
        LogEvent::Disposition { .. } | LogEvent::Survey { .. } => {
            db.query("SELECT id FROM interactions WHERE tenant = $1 AND id = $2", &[t(), id])?.len() as u64
        }
        // The agent, if any, stays: it tells who had the interaction when it was lost.
        LogEvent::Lost { .. } => db.execute(
            "UPDATE interactions SET state = $1, ended_at_ms = $2 WHERE tenant = $3 AND id = $4",
            &[state(InteractionState::Lost), at(), t(), id],
        )?,
    };
    if changed == 0 {
        let id = codec::interaction_of(event).unwrap_or_default();
        return Err(StoreError::Corrupt {
            seq,
            reason: format!(
                "{} names interaction {id}, which tenant {tenant:?} does not have; nothing of the batch was stored",
                codec::kind(event)
            ),
        });
    }
    Ok(())
}

/// Reads a row selected with [`INTERACTION_COLUMNS`].
fn interaction_row(row: &Row) -> Result<InteractionRow, String> {
    let id = row.int(0)?;
    let fail = |e: String| format!("interaction {id}: {e}");
    let record = InteractionRecord {
        id: u64::try_from(id).map_err(|_| fail("negative id".into()))?,
        channel: row.text(1).map_err(fail)?.to_string(),
        queue: row.text(2).map_err(fail)?.to_string(),
        priority: u8::try_from(row.int(3).map_err(fail)?).map_err(|e| fail(format!("priority: {e}")))?,
        requirements: codec::decode_requirements(row.text(4).map_err(fail)?).map_err(fail)?,
        attributes: codec::decode_attributes(row.text(5).map_err(fail)?).map_err(fail)?,
        created_at_ms: row.int(6).map_err(fail)?,
    };
    Ok(InteractionRow {
        record,
        state: codec::state_from_name(row.text(7).map_err(fail)?).map_err(fail)?,
        agent: row.opt_text(8).map_err(fail)?.map(str::to_string),
        connected_at_ms: row.opt_int(9).map_err(fail)?,
        ended_at_ms: row.opt_int(10).map_err(fail)?,
    })
}

fn agent_row(row: &Row) -> Result<AgentRow, String> {
    let agent = row.text(0)?.to_string();
    let fail = |e: String| format!("agent {agent:?}: {e}");
    let presence =
        codec::presence_from_columns(row.text(1).map_err(fail)?, row.opt_text(2).map_err(fail)?.map(str::to_string))
            .map_err(fail)?;
    let changed_at_ms = row.int(3).map_err(fail)?;
    let skills = row.opt_text(4).map_err(fail)?.map(codec::decode_requirements).transpose().map_err(fail)?;
    Ok(AgentRow { agent, presence, changed_at_ms, skills })
}

/// Reads the first column of the first row of an aggregate query.
fn scalar(rows: &[Row], table: &str) -> Result<i64, StoreError> {
    rows.first()
        .ok_or_else(|| "an aggregate returned no row".to_string())
        .and_then(|row| row.int(0))
        .map_err(|reason| corrupt_table(table, reason))
}

/// Applies one change to users or credentials.
fn change_account<B: Backend>(db: &mut B, tenant: &str, change: &AccountChange) -> Result<(), StoreError> {
    match change {
        AccountChange::PutUser(u) => db.execute(
            "INSERT INTO users (tenant, username, display_name, role, agent, password_hash, disabled, created_at_ms)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
            ON CONFLICT (tenant, username) DO UPDATE
            SET display_name = excluded.display_name, role = excluded.role, agent = excluded.agent,
                password_hash = excluded.password_hash, disabled = excluded.disabled",
            &[
                tenant.into(),
                u.username.as_str().into(),
                u.display_name.as_str().into(),
                u.role.as_str().into(),
                u.agent.as_deref().into(),
                u.password_hash.as_str().into(),
                i64::from(u.disabled).into(),
                u.created_at_ms.into(),
            ],
        )?,
        AccountChange::PutToken(t) => db.execute(
            "INSERT INTO tokens (hash, tenant, username, kind, label, interaction, created_at_ms, expires_at_ms)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            &[
                t.hash.as_str().into(),
                tenant.into(),
                t.username.as_str().into(),
                t.kind.as_str().into(),
                t.label.as_str().into(),
                t.interaction.and_then(id_value).into(),
                t.created_at_ms.into(),
                t.expires_at_ms.into(),
            ],
        )?,
        AccountChange::RevokeToken { hash, at_ms } => db.execute(
            "UPDATE tokens SET revoked_at_ms = $1 WHERE hash = $2 AND tenant = $3 AND revoked_at_ms IS NULL",
            &[(*at_ms).into(), hash.as_str().into(), tenant.into()],
        )?,
    };
    Ok(())
}

fn put_migration<B: Backend>(db: &mut B, tenant: &str, m: &crate::MigrationRecord) -> Result<(), StoreError> {
    db.execute(
        "INSERT INTO migration
            (tenant, phase, switchboard_percent, phase_since_ms, rolled_back, frozen, changed_at_ms, actor, agents)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
        ON CONFLICT (tenant) DO UPDATE SET phase = excluded.phase,
            switchboard_percent = excluded.switchboard_percent, phase_since_ms = excluded.phase_since_ms,
            rolled_back = excluded.rolled_back, frozen = excluded.frozen,
            changed_at_ms = excluded.changed_at_ms, actor = excluded.actor, agents = excluded.agents",
        &[
            tenant.into(),
            m.phase.as_deref().into(),
            m.switchboard_percent.map(i64::from).into(),
            m.phase_since_ms.into(),
            i64::from(m.rolled_back).into(),
            i64::from(m.frozen).into(),
            m.changed_at_ms.into(),
            m.actor.as_str().into(),
            (!m.agents.is_empty()).then(|| m.agents.join(",")).into(),
        ],
    )?;
    Ok(())
}

fn insert_audit<B: Backend>(db: &mut B, tenant: &str, a: &AuditRecord) -> Result<(), StoreError> {
    db.execute(
        "INSERT INTO audit (tenant, at_ms, actor, source, action, target, detail) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        &[
            tenant.into(),
            a.at_ms.into(),
            a.actor.as_str().into(),
            a.source.as_str().into(),
            a.action.as_str().into(),
            a.target.as_str().into(),
            a.detail.as_str().into(),
        ],
    )?;
    Ok(())
}

fn user_row(row: &Row) -> Result<UserRecord, String> {
    let username = row.text(0)?.to_string();
    let fail = |e: String| format!("user {username:?}: {e}");
    Ok(UserRecord {
        display_name: row.text(1).map_err(fail)?.to_string(),
        role: row.text(2).map_err(fail)?.to_string(),
        agent: row.opt_text(3).map_err(fail)?.map(str::to_string),
        password_hash: row.text(4).map_err(fail)?.to_string(),
        disabled: row.int(5).map_err(fail)? != 0,
        created_at_ms: row.int(6).map_err(fail)?,
        username,
    })
}

fn token_row(row: &Row) -> Result<TokenRecord, String> {
    let hash = row.text(0)?.to_string();
    let fail = |e: String| format!("token {}: {e}", &hash[..hash.len().min(8)]);
    Ok(TokenRecord {
        username: row.text(1).map_err(fail)?.to_string(),
        kind: row.text(2).map_err(fail)?.to_string(),
        label: row.text(3).map_err(fail)?.to_string(),
        interaction: row.opt_int(4).map_err(fail)?.map(|i| i as u64),
        created_at_ms: row.int(5).map_err(fail)?,
        expires_at_ms: row.opt_int(6).map_err(fail)?,
        hash,
    })
}

impl<B: Backend> Store for SqlStore<B> {
    #[tracing::instrument(skip_all, fields(tenant = %tenant, records = batch.records.len(), storage = self.db.kind()))]
    fn commit(&mut self, tenant: &str, batch: Batch<'_>) -> Result<(), StoreError> {
        if batch.is_empty() {
            return Ok(());
        }
        self.transaction(TxMode::Write, |db| {
            batch.records.iter().try_for_each(|record| append_record(db, tenant, record))?;
            batch.accounts.iter().try_for_each(|change| change_account(db, tenant, change))?;
            batch.audit.iter().try_for_each(|entry| insert_audit(db, tenant, entry))?;
            batch.migration.map_or(Ok(()), |m| put_migration(db, tenant, m))
        })
    }

    #[tracing::instrument(skip_all, fields(tenant = %tenant, storage = self.db.kind()))]
    fn accounts(&mut self, tenant: &str, now_ms: i64) -> Result<Accounts, StoreError> {
        self.transaction(TxMode::Read, |db| {
            let mut users = db
                .query(
                    "SELECT username, display_name, role, agent, password_hash, disabled, created_at_ms
                    FROM users WHERE tenant = $1",
                    &[tenant.into()],
                )?
                .iter()
                .map(user_row)
                .collect::<Result<Vec<_>, _>>()
                .map_err(|reason| corrupt_table("users", reason))?;
            users.sort_by(|a, b| a.username.cmp(&b.username));
            let mut tokens = db
                .query(
                    "SELECT hash, username, kind, label, interaction, created_at_ms, expires_at_ms
                    FROM tokens WHERE tenant = $1 AND revoked_at_ms IS NULL
                        AND (expires_at_ms IS NULL OR expires_at_ms > $2)",
                    &[tenant.into(), now_ms.into()],
                )?
                .iter()
                .map(token_row)
                .collect::<Result<Vec<_>, _>>()
                .map_err(|reason| corrupt_table("tokens", reason))?;
            tokens.sort_by(|a, b| a.hash.cmp(&b.hash));
            Ok(Accounts { users, tokens })
        })
    }

    #[tracing::instrument(skip_all, fields(tenant = %tenant, storage = self.db.kind()))]
    fn audit(&mut self, tenant: &str, before: Option<i64>, limit: u32) -> Result<Vec<AuditEntry>, StoreError> {
        let rows = self.db.query(
            "SELECT id, at_ms, actor, source, action, target, detail FROM audit
            WHERE tenant = $1 AND id < $2 ORDER BY id DESC LIMIT $3",
            &[tenant.into(), before.unwrap_or(i64::MAX).into(), i64::from(limit).into()],
        )?;
        rows.iter()
            .map(|row| {
                let read = || -> Result<AuditEntry, String> {
                    Ok(AuditEntry {
                        id: row.int(0)?,
                        record: AuditRecord {
                            at_ms: row.int(1)?,
                            actor: row.text(2)?.to_string(),
                            source: row.text(3)?.to_string(),
                            action: row.text(4)?.to_string(),
                            target: row.text(5)?.to_string(),
                            detail: row.text(6)?.to_string(),
                        },
                    })
                };
                read().map_err(|reason| corrupt_table("audit", reason))
            })
            .collect()
    }

    #[tracing::instrument(skip_all, fields(tenant = %tenant, storage = self.db.kind(), rows = rows.len()))]
    fn put_legacy(&mut self, tenant: &str, source: &str, rows: &[crate::LegacyRow]) -> Result<u64, StoreError> {
        self.transaction(TxMode::Write, |db| {
            let mut new = 0;
            for row in rows {
                new += db.execute(
                    "INSERT INTO legacy_contacts
                        (tenant, source, id, queue, caller, dnis, arrived_ms, wait_ms, talk_ms, agent, outcome,
                        wait_known)
                    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT DO NOTHING",
                    &[
                        tenant.into(),
                        source.into(),
                        row.id.as_str().into(),
                        row.queue.as_str().into(),
                        row.caller.as_deref().into(),
                        row.dnis.as_deref().into(),
                        row.arrived_ms.into(),
                        row.wait_ms.unwrap_or(0).into(),
                        row.talk_ms.into(),
                        row.agent.as_deref().into(),
                        row.outcome.as_str().into(),
                        i64::from(row.wait_ms.is_some()).into(),
                    ],
                )?;
            }
            Ok(new)
        })
    }

    fn legacy(&mut self, tenant: &str) -> Result<Vec<crate::LegacyRow>, StoreError> {
        let rows = self.db.query(
            "SELECT id, queue, caller, dnis, arrived_ms, wait_ms, talk_ms, agent, outcome, wait_known FROM legacy_contacts
            WHERE tenant = $1 ORDER BY arrived_ms, source, id",
            &[tenant.into()],
        )?;
        rows.iter()
            .map(|row| {
                let read = || -> Result<crate::LegacyRow, String> {
                    Ok(crate::LegacyRow {
                        id: row.text(0)?.to_string(),
                        queue: row.text(1)?.to_string(),
                        caller: row.opt_text(2)?.map(str::to_string),
                        dnis: row.opt_text(3)?.map(str::to_string),
                        arrived_ms: row.int(4)?,
                        wait_ms: if row.int(9)? != 0 { Some(row.int(5)?) } else { None },
                        talk_ms: row.opt_int(6)?,
                        agent: row.opt_text(7)?.map(str::to_string),
                        outcome: row.text(8)?.to_string(),
                    })
                };
                read().map_err(|reason| corrupt_table("legacy_contacts", reason))
            })
            .collect()
    }

    fn put_legacy_intervals(
        &mut self,
        tenant: &str,
        source: &str,
        rows: &[crate::IntervalRow],
    ) -> Result<u64, StoreError> {
        self.transaction(TxMode::Write, |db| {
            let mut new = 0;
            for r in rows {
                new += db.execute(
                    "INSERT INTO legacy_intervals (tenant, source, queue, start_ms, minutes, offered, answered,
                        abandoned, answered_within, within_s, answer_s, talk_s)
                    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT DO NOTHING",
                    &[
                        tenant.into(),
                        source.into(),
                        r.queue.as_str().into(),
                        r.start_ms.into(),
                        r.minutes.into(),
                        r.offered.into(),
                        r.answered.into(),
                        r.abandoned.into(),
                        r.answered_within.into(),
                        r.within_s.into(),
                        r.answer_s.into(),
                        r.talk_s.into(),
                    ],
                )?;
            }
            Ok(new)
        })
    }

    fn legacy_intervals(&mut self, tenant: &str) -> Result<Vec<crate::IntervalRow>, StoreError> {
        let rows = self.db.query(
            "SELECT queue, start_ms, minutes, offered, answered, abandoned, answered_within, within_s, answer_s, talk_s
            FROM legacy_intervals WHERE tenant = $1 ORDER BY start_ms, source, queue",
            &[tenant.into()],
        )?;
        rows.iter()
            .map(|row| {
                let read = || -> Result<crate::IntervalRow, String> {
                    Ok(crate::IntervalRow {
                        queue: row.text(0)?.to_string(),
                        start_ms: row.int(1)?,
                        minutes: row.int(2)?,
                        offered: row.int(3)?,
                        answered: row.int(4)?,
                        abandoned: row.int(5)?,
                        answered_within: row.int(6)?,
                        within_s: row.int(7)?,
                        answer_s: row.int(8)?,
                        talk_s: row.int(9)?,
                    })
                };
                read().map_err(|reason| corrupt_table("legacy_intervals", reason))
            })
            .collect()
    }

    fn tenants(&mut self) -> Result<Vec<String>, StoreError> {
        let rows = self.db.query(
            "SELECT DISTINCT tenant FROM events UNION SELECT DISTINCT tenant FROM users
            UNION SELECT DISTINCT tenant FROM legacy_contacts UNION SELECT DISTINCT tenant FROM legacy_intervals
            UNION SELECT tenant FROM migration UNION SELECT DISTINCT tenant FROM legacy_recordings",
            &[],
        )?;
        let mut tenants = rows
            .iter()
            .map(|row| row.text(0).map(str::to_owned))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|reason| corrupt_table("events", reason))?;
        tenants.sort();
        Ok(tenants)
    }

    fn put_legacy_recording(&mut self, tenant: &str, r: &crate::RecordingRow) -> Result<bool, StoreError> {
        let new = self.db.execute(
            "INSERT INTO legacy_recordings (tenant, sha256, size, source_path, stored_path, call_id, started_ms, agent,
                caller, queue)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING",
            &[
                tenant.into(),
                r.sha256.as_str().into(),
                r.size.into(),
                r.source_path.as_str().into(),
                r.stored_path.as_str().into(),
                r.call_id.as_deref().into(),
                r.started_ms.into(),
                r.agent.as_deref().into(),
                r.caller.as_deref().into(),
                r.queue.as_deref().into(),
            ],
        )?;
        Ok(new == 1)
    }

    fn legacy_recordings(&mut self, tenant: &str) -> Result<Vec<crate::RecordingRow>, StoreError> {
        let rows = self.db.query(
            "SELECT sha256, size, source_path, stored_path, call_id, started_ms, agent, caller, queue
            FROM legacy_recordings WHERE tenant = $1 ORDER BY source_path",
            &[tenant.into()],
        )?;
        rows.iter()
            .map(|row| {
                let read = || -> Result<crate::RecordingRow, String> {
                    Ok(crate::RecordingRow {
                        sha256: row.text(0)?.to_string(),
                        size: row.int(1)?,
                        source_path: row.text(2)?.to_string(),
                        stored_path: row.text(3)?.to_string(),
                        call_id: row.opt_text(4)?.map(str::to_string),
                        started_ms: row.opt_int(5)?,
                        agent: row.opt_text(6)?.map(str::to_string),
                        caller: row.opt_text(7)?.map(str::to_string),
                        queue: row.opt_text(8)?.map(str::to_string),
                    })
                };
                read().map_err(|reason| corrupt_table("legacy_recordings", reason))
            })
            .collect()
    }

    fn interactions_since(&mut self, tenant: &str, since_ms: i64) -> Result<Vec<InteractionRow>, StoreError> {
        let rows = self.db.query(
            &format!(
                "SELECT {INTERACTION_COLUMNS} FROM interactions WHERE tenant = $1 AND created_at_ms >= $2 ORDER BY id"
            ),
            &[tenant.into(), since_ms.into()],
        )?;
        rows.iter()
            .map(interaction_row)
            .collect::<Result<_, _>>()
            .map_err(|reason| corrupt_table("interactions", reason))
    }

    fn migration(&mut self, tenant: &str) -> Result<Option<crate::MigrationRecord>, StoreError> {
        let rows = self.db.query(
            "SELECT phase, switchboard_percent, phase_since_ms, rolled_back, frozen, changed_at_ms, actor, agents
            FROM migration WHERE tenant = $1",
            &[tenant.into()],
        )?;
        let Some(row) = rows.first() else { return Ok(None) };
        let read = || -> Result<crate::MigrationRecord, String> {
            let percent = row.opt_int(1)?;
            Ok(crate::MigrationRecord {
                phase: row.opt_text(0)?.map(str::to_string),
                switchboard_percent: percent
                    .map(|p| u8::try_from(p).ok().filter(|p| *p <= 100).ok_or(format!("share {p} out of range")))
                    .transpose()?,
                phase_since_ms: row.opt_int(2)?,
                rolled_back: row.int(3)? != 0,
                frozen: row.int(4)? != 0,
                changed_at_ms: row.int(5)?,
                actor: row.text(6)?.to_string(),
                agents: row.opt_text(7)?.map(|a| a.split(',').map(str::to_owned).collect()).unwrap_or_default(),
            })
        };
        read().map(Some).map_err(|reason| corrupt_table("migration", reason))
    }

    #[tracing::instrument(skip_all, fields(tenant = %tenant, interaction = interaction, storage = self.db.kind()))]
    fn messages(&mut self, tenant: &str, interaction: u64) -> Result<Vec<MessageRow>, StoreError> {
        let Some(id) = id_value(interaction) else { return Ok(Vec::new()) };
        let rows = self.db.query(
            "SELECT seq, at_ms, sender, author, body FROM messages WHERE tenant = $1 AND interaction = $2 ORDER BY seq",
            &[tenant.into(), id.into()],
        )?;
        rows.iter()
            .map(|row| {
                let read = || -> Result<MessageRow, String> {
                    Ok(MessageRow {
                        seq: row.int(0)?,
                        at_ms: row.int(1)?,
                        sender: row.text(2)?.to_string(),
                        author: row.opt_text(3)?.map(str::to_string),
                        text: row.text(4)?.to_string(),
                    })
                };
                read().map_err(|reason| corrupt_table("messages", reason))
            })
            .collect()
    }

    #[tracing::instrument(skip_all, fields(tenant = %tenant, storage = self.db.kind()))]
    fn snapshot(&mut self, tenant: &str) -> Result<Snapshot, StoreError> {
        self.transaction(TxMode::Read, |db| {
            let t = || Value::from(tenant);
            let interactions = db
                .query(
                    &format!(
                        "SELECT {INTERACTION_COLUMNS} FROM interactions
                        WHERE tenant = $1 AND state IN ($2, $3, $4, $5)
                        ORDER BY id"
                    ),
                    &[t(), state(LIVE[0]), state(LIVE[1]), state(LIVE[2]), state(LIVE[3])],
                )?
                .iter()
                .map(interaction_row)
                .collect::<Result<Vec<_>, _>>()
                .map_err(|reason| corrupt_table("interactions", reason))?;
            let mut agents = db
                .query("SELECT agent, presence, reason, changed_at_ms, skills FROM agents WHERE tenant = $1", &[t()])?
                .iter()
                .map(agent_row)
                .collect::<Result<Vec<_>, _>>()
                .map_err(|reason| corrupt_table("agents", reason))?;
            // Sorted here: the databases' collations may differ.
            agents.sort_by(|a, b| a.agent.cmp(&b.agent));
            let max_id = scalar(
                &db.query("SELECT COALESCE(MAX(id), 0) FROM interactions WHERE tenant = $1", &[t()])?,
                "interactions",
            )?;
            let last_seq =
                scalar(&db.query("SELECT COALESCE(MAX(seq), 0) FROM events WHERE tenant = $1", &[t()])?, "events")?;
            tracing::debug!(interactions = interactions.len(), agents = agents.len(), last_seq, "snapshot read");
            Ok(Snapshot { interactions, agents, next_interaction_id: max_id as u64 + 1, last_seq })
        })
    }

    #[tracing::instrument(skip_all, fields(tenant = %tenant, after_seq = after_seq, limit = limit, storage = self.db.kind()))]
    fn events(&mut self, tenant: &str, after_seq: i64, limit: u32) -> Result<Vec<StoredEvent>, StoreError> {
        let rows = self.db.query(
            "SELECT seq, at_ms, kind, payload FROM events WHERE tenant = $1 AND seq > $2 ORDER BY seq LIMIT $3",
            &[tenant.into(), after_seq.into(), i64::from(limit).into()],
        )?;
        rows.iter()
            .map(|row| {
                let seq = row.int(0).map_err(|reason| corrupt_table("events", reason))?;
                let read = || -> Result<StoredEvent, String> {
                    let event = codec::decode(row.text(2)?, row.text(3)?)?;
                    Ok(StoredEvent { seq, at_ms: row.int(1)?, event })
                };
                read().map_err(|reason| StoreError::Corrupt { seq, reason })
            })
            .collect()
    }

    #[tracing::instrument(skip_all, fields(tenant = %tenant, id = id, storage = self.db.kind()))]
    fn interaction(&mut self, tenant: &str, id: u64) -> Result<Option<InteractionRow>, StoreError> {
        // An id the database cannot hold is an id it does not have.
        let Some(id) = id_value(id) else { return Ok(None) };
        let rows = self.db.query(
            &format!("SELECT {INTERACTION_COLUMNS} FROM interactions WHERE tenant = $1 AND id = $2"),
            &[tenant.into(), id.into()],
        )?;
        rows.first().map(interaction_row).transpose().map_err(|reason| corrupt_table("interactions", reason))
    }

    fn kind(&self) -> &'static str {
        self.db.kind()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses() {
        let check = |address: &str, expected: Option<Address<'_>>| {
            let parsed = parse_address(address);
            match expected {
                Some(expected) => assert_eq!(parsed.unwrap(), expected, "{address}"),
                None => {
                    assert!(matches!(parsed, Err(StoreError::BadAddress(ref a)) if a == address), "{address}")
                }
            }
        };
        check("switchboard.db", Some(Address::Sqlite(Path::new("switchboard.db"))));
        check("/var/lib/sb/state.db", Some(Address::Sqlite(Path::new("/var/lib/sb/state.db"))));
        check("sqlite:state.db", Some(Address::Sqlite(Path::new("state.db"))));
        check("sqlite:/tmp/a:b.db", Some(Address::Sqlite(Path::new("/tmp/a:b.db"))));
        check("postgres://u@h:5432/db", Some(Address::Postgres("postgres://u@h:5432/db")));
        check("postgresql://u@h/db?sslmode=disable", Some(Address::Postgres("postgresql://u@h/db?sslmode=disable")));
        check("", None);
        check("sqlite:", None);
        check("sqlite:///tmp/x.db", None);
        check("mysql://x", None);
        check("postgre://x", None);
    }

    #[test]
    fn live_states_are_the_states_not_ended() {
        use InteractionState::*;
        let live: Vec<_> = [Waiting, Offered, Connected, WrapUp, Completed, Abandoned, Lost]
            .into_iter()
            .filter(|s| !s.is_ended())
            .collect();
        assert_eq!(live, LIVE);
    }

    #[test]
    fn both_backends_have_the_same_schema_versions() {
        assert_eq!(crate::sqlite_backend::MIGRATIONS.len(), crate::postgres_backend::MIGRATIONS.len());
    }

    /// An SQLite connection that pretends the program knows only some migration steps.
    struct Steps {
        inner: Sqlite,
        steps: &'static [&'static str],
    }

    impl Backend for Steps {
        fn kind(&self) -> &'static str {
            self.inner.kind()
        }
        fn migrations(&self) -> &'static [&'static str] {
            self.steps
        }
        fn execute_batch(&mut self, sql: &str) -> Result<(), StoreError> {
            self.inner.execute_batch(sql)
        }
        fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64, StoreError> {
            self.inner.execute(sql, params)
        }
        fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>, StoreError> {
            self.inner.query(sql, params)
        }
        fn begin(&mut self, mode: TxMode) -> Result<(), StoreError> {
            self.inner.begin(mode)
        }
        fn commit(&mut self) -> Result<(), StoreError> {
            self.inner.commit()
        }
        fn rollback(&mut self) -> Result<(), StoreError> {
            self.inner.rollback()
        }
    }

    const STEP_1: &str = "CREATE TABLE a (x INTEGER)";
    const STEP_2: &str = "CREATE TABLE b (y INTEGER); INSERT INTO a (x) VALUES (2)";
    const STEP_3_FAILS: &str = "CREATE TABLE c (z INTEGER); INSERT INTO nowhere VALUES (1)";

    fn versions(db: &mut Steps) -> Vec<i64> {
        db.query("SELECT version FROM schema_migrations ORDER BY version", &[])
            .unwrap()
            .iter()
            .map(|r| r.int(0).unwrap())
            .collect()
    }

    fn tables(db: &mut Steps) -> Vec<String> {
        db.query("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name", &[])
            .unwrap()
            .iter()
            .map(|r| r.text(0).unwrap().to_string())
            .collect()
    }

    #[test]
    fn migrations_apply_only_the_missing_steps() {
        let inner = Sqlite::open(Path::new(":memory:")).unwrap();
        let mut store = SqlStore::new(Steps { inner, steps: &[STEP_1] }).unwrap();
        assert_eq!(versions(&mut store.db), [1]);

        let mut store = SqlStore::new(Steps { inner: store.db.inner, steps: &[STEP_1, STEP_2] }).unwrap();
        assert_eq!(versions(&mut store.db), [1, 2]);
        // Step 1 was not run again (it would fail: the table exists), step 2 ran once.
        let rows = store.db.query("SELECT x FROM a", &[]).unwrap();
        assert_eq!(rows, vec![Row(vec![Value::Int(2)])]);
    }

    #[test]
    fn a_failed_migration_changes_nothing() {
        let inner = Sqlite::open(Path::new(":memory:")).unwrap();
        let store = SqlStore::new(Steps { inner, steps: &[STEP_1] }).unwrap();
        let mut db = Steps { inner: store.db.inner, steps: &[STEP_1, STEP_2, STEP_3_FAILS] };
        let before = tables(&mut db);
        let mut store = SqlStore { db };
        let err = store.migrate().unwrap_err();
        assert!(matches!(err, StoreError::Sqlite(_)), "{err}");
        assert_eq!(versions(&mut store.db), [1]);
        assert_eq!(tables(&mut store.db), before);
        assert!(store.db.query("SELECT x FROM a", &[]).unwrap().is_empty());
    }

    #[test]
    fn an_older_program_refuses_a_newer_schema() {
        let inner = Sqlite::open(Path::new(":memory:")).unwrap();
        let store = SqlStore::new(Steps { inner, steps: &[STEP_1, STEP_2] }).unwrap();
        let err = SqlStore::new(Steps { inner: store.db.inner, steps: &[STEP_1] }).map(|_| ()).unwrap_err();
        assert!(matches!(err, StoreError::SchemaTooNew { found: 2, supported: 1 }), "{err}");
    }
}
