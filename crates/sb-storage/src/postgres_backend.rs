//! The PostgreSQL backend, for deployments that keep their state on a database server.
//!
//! It uses the synchronous `postgres` client without TLS (the database is expected on a
//! trusted network or a local socket). Statements are prepared once per connection and
//! kept, and a connection that the server closed is opened again by the next call made
//! outside a transaction, so a restart of PostgreSQL costs one failed call rather than the
//! process.

use std::collections::HashMap;
use std::fmt;

use postgres::types::{ToSql, Type};
use postgres::{Client, NoTls, Statement};

use crate::StoreError;
use crate::backend::{Backend, Row, TxMode, Value};

/// Any number, shared by every Switchboard process: the advisory lock that makes schema
/// migrations run one at a time ("SWBD" in ASCII).
const SCHEMA_LOCK: i64 = 0x5357_4244;

/// The schema, step by step; see [`Backend::migrations`]. The same tables as SQLite's, with
/// `BIGINT` for every integer so that [`Value::Int`] binds to every integer column.
pub(crate) const MIGRATIONS: &[&str] = &[
    // Version 1: the log and the current-state tables.
    "CREATE TABLE events (
        seq BIGSERIAL PRIMARY KEY,
        tenant TEXT NOT NULL,
        at_ms BIGINT NOT NULL,
        kind TEXT NOT NULL,
        interaction BIGINT,
        agent TEXT,
        payload TEXT NOT NULL
    );
    CREATE INDEX events_by_tenant ON events (tenant, seq);
    CREATE TABLE interactions (
        tenant TEXT NOT NULL,
        id BIGINT NOT NULL,
        channel TEXT NOT NULL,
        queue TEXT NOT NULL,
        priority BIGINT NOT NULL,
        requirements TEXT NOT NULL,
        attributes TEXT NOT NULL,
        created_at_ms BIGINT NOT NULL,
        state TEXT NOT NULL CHECK (state IN
            ('waiting', 'offered', 'connected', 'wrap_up', 'completed', 'abandoned', 'lost')),
        agent TEXT,
        connected_at_ms BIGINT,
        ended_at_ms BIGINT,
        PRIMARY KEY (tenant, id)
    );
    CREATE INDEX interactions_by_state ON interactions (tenant, state);
    CREATE TABLE agents (
        tenant TEXT NOT NULL,
        agent TEXT NOT NULL,
        presence TEXT NOT NULL CHECK (presence IN ('offline', 'available', 'not_ready')),
        reason TEXT,
        changed_at_ms BIGINT NOT NULL,
        PRIMARY KEY (tenant, agent)
    );",
    // Version 2: users, credentials, the audit log and chat messages.
    "CREATE TABLE users (
        tenant TEXT NOT NULL,
        username TEXT NOT NULL,
        display_name TEXT NOT NULL,
        role TEXT NOT NULL CHECK (role IN ('admin', 'supervisor', 'agent')),
        agent TEXT,
        password_hash TEXT NOT NULL,
        disabled BIGINT NOT NULL,
        created_at_ms BIGINT NOT NULL,
        PRIMARY KEY (tenant, username)
    );
    CREATE TABLE tokens (
        hash TEXT PRIMARY KEY,
        tenant TEXT NOT NULL,
        username TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('session', 'api', 'customer')),
        label TEXT NOT NULL,
        interaction BIGINT,
        created_at_ms BIGINT NOT NULL,
        expires_at_ms BIGINT,
        revoked_at_ms BIGINT
    );
    CREATE INDEX tokens_by_tenant ON tokens (tenant);
    CREATE TABLE audit (
        id BIGSERIAL PRIMARY KEY,
        tenant TEXT NOT NULL,
        at_ms BIGINT NOT NULL,
        actor TEXT NOT NULL,
        source TEXT NOT NULL,
        action TEXT NOT NULL,
        target TEXT NOT NULL,
        detail TEXT NOT NULL
    );
    CREATE INDEX audit_by_tenant ON audit (tenant, id);
    CREATE TABLE messages (
        tenant TEXT NOT NULL,
        interaction BIGINT NOT NULL,
        seq BIGINT NOT NULL,
        at_ms BIGINT NOT NULL,
        sender TEXT NOT NULL,
        author TEXT,
        body TEXT NOT NULL,
        PRIMARY KEY (tenant, interaction, seq)
    );",
    // Version 3: skills set at run time, over the configuration's.
    "ALTER TABLE agents ADD COLUMN skills TEXT;",
    // Version 4: a legacy center's history, imported for the baseline and the replay.
    "CREATE TABLE legacy_contacts (
        tenant TEXT NOT NULL,
        source TEXT NOT NULL,
        id TEXT NOT NULL,
        queue TEXT NOT NULL,
        caller TEXT,
        dnis TEXT,
        arrived_ms BIGINT NOT NULL,
        wait_ms BIGINT NOT NULL,
        talk_ms BIGINT,
        agent TEXT,
        outcome TEXT NOT NULL,
        PRIMARY KEY (tenant, source, id)
    );
    CREATE INDEX legacy_by_arrival ON legacy_contacts (tenant, arrived_ms);",
    // Version 5: where a migration's cutover stands (one row a tenant).
    "CREATE TABLE migration (
        tenant TEXT PRIMARY KEY,
        phase TEXT,
        switchboard_percent BIGINT,
        phase_since_ms BIGINT,
        rolled_back BIGINT NOT NULL,
        frozen BIGINT NOT NULL,
        changed_at_ms BIGINT NOT NULL,
        actor TEXT NOT NULL
    );",
    // Version 6: a legacy center's history as interval figures (Avaya CMS).
    "CREATE TABLE legacy_intervals (
        tenant TEXT NOT NULL,
        source TEXT NOT NULL,
        queue TEXT NOT NULL,
        start_ms BIGINT NOT NULL,
        minutes BIGINT NOT NULL,
        offered BIGINT NOT NULL,
        answered BIGINT NOT NULL,
        abandoned BIGINT NOT NULL,
        answered_within BIGINT NOT NULL,
        within_s BIGINT NOT NULL,
        answer_s BIGINT NOT NULL,
        talk_s BIGINT NOT NULL,
        PRIMARY KEY (tenant, source, queue, start_ms)
    );",
    // Version 7: a legacy center's recordings, copied and sealed, with their metadata.
    "CREATE TABLE legacy_recordings (
        tenant TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        size BIGINT NOT NULL,
        source_path TEXT NOT NULL,
        stored_path TEXT NOT NULL,
        call_id TEXT,
        started_ms BIGINT,
        agent TEXT,
        caller TEXT,
        queue TEXT,
        PRIMARY KEY (tenant, sha256)
    );
    CREATE INDEX legacy_recordings_by_call ON legacy_recordings (tenant, call_id);",
    // Version 8: the pilot agents of the migration's phase.
    "ALTER TABLE migration ADD COLUMN agents TEXT;",
    // Version 9: stays whose wait the legacy system did not record (call records).
    "ALTER TABLE legacy_contacts ADD COLUMN wait_known BIGINT NOT NULL DEFAULT 1;",
];

/// A connection to a PostgreSQL database.
pub(crate) struct Postgres {
    /// Kept to connect again after the server closed the connection.
    address: String,
    client: Client,
    /// Prepared statements by SQL text; they belong to `client`'s connection.
    statements: HashMap<String, Statement>,
    /// Between `begin` and `commit` or `rollback`. A connection lost then must not be
    /// replaced: the rest of the transaction would run outside it, on the new one.
    in_transaction: bool,
}

impl fmt::Debug for Postgres {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The address may hold a password.
        f.debug_struct("Postgres").field("statements", &self.statements.len()).finish_non_exhaustive()
    }
}

impl Postgres {
    /// Connects to the database at a `postgres://` or `postgresql://` address.
    pub(crate) fn connect(address: &str) -> Result<Postgres, StoreError> {
        let client = Client::connect(address, NoTls)?;
        Ok(Postgres { address: address.to_string(), client, statements: HashMap::new(), in_transaction: false })
    }

    /// Connects again if the server closed the connection (the client learns of that when
    /// a call fails), unless a transaction was under way.
    fn reconnect_if_closed(&mut self) -> Result<(), StoreError> {
        if self.client.is_closed() && !self.in_transaction {
            tracing::warn!("the connection to PostgreSQL was closed; connecting again");
            self.client = Client::connect(&self.address, NoTls)?;
            self.statements.clear();
        }
        Ok(())
    }

    fn prepare(&mut self, sql: &str) -> Result<Statement, StoreError> {
        self.reconnect_if_closed()?;
        if let Some(stmt) = self.statements.get(sql) {
            return Ok(stmt.clone());
        }
        let stmt = self.client.prepare(sql)?;
        self.statements.insert(sql.to_string(), stmt.clone());
        Ok(stmt)
    }
}

/// Converts the parameters to what the statement expects. A null needs the type of its
/// parameter; integers and text are checked against theirs when bound.
fn bind(stmt: &Statement, params: &[Value]) -> Vec<Box<dyn ToSql + Sync>> {
    params
        .iter()
        .enumerate()
        .map(|(i, value)| -> Box<dyn ToSql + Sync> {
            match value {
                Value::Int(v) => Box::new(*v),
                Value::Text(v) => Box::new(v.clone()),
                Value::Null => match stmt.params().get(i) {
                    Some(&Type::INT8) => Box::new(None::<i64>),
                    Some(&Type::INT4) => Box::new(None::<i32>),
                    Some(&Type::INT2) => Box::new(None::<i16>),
                    _ => Box::new(None::<String>),
                },
            }
        })
        .collect()
}

fn convert_row(row: &postgres::Row) -> Result<Row, StoreError> {
    let mut values = Vec::with_capacity(row.len());
    for (i, column) in row.columns().iter().enumerate() {
        let value: Value = match *column.type_() {
            Type::INT8 => row.try_get::<_, Option<i64>>(i)?.into(),
            Type::INT4 => row.try_get::<_, Option<i32>>(i)?.map(i64::from).into(),
            Type::INT2 => row.try_get::<_, Option<i16>>(i)?.map(i64::from).into(),
            // Text, or a type this crate does not use, which fails here with its name.
            _ => row.try_get::<_, Option<String>>(i)?.into(),
        };
        values.push(value);
    }
    Ok(Row(values))
}

impl Backend for Postgres {
    fn kind(&self) -> &'static str {
        "postgres"
    }

    fn migrations(&self) -> &'static [&'static str] {
        MIGRATIONS
    }

    fn execute_batch(&mut self, sql: &str) -> Result<(), StoreError> {
        self.reconnect_if_closed()?;
        Ok(self.client.batch_execute(sql)?)
    }

    fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64, StoreError> {
        let stmt = self.prepare(sql)?;
        let owned = bind(&stmt, params);
        let refs: Vec<&(dyn ToSql + Sync)> = owned.iter().map(|p| p.as_ref()).collect();
        Ok(self.client.execute(&stmt, &refs)?)
    }

    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>, StoreError> {
        let stmt = self.prepare(sql)?;
        let owned = bind(&stmt, params);
        let refs: Vec<&(dyn ToSql + Sync)> = owned.iter().map(|p| p.as_ref()).collect();
        self.client.query(&stmt, &refs)?.iter().map(convert_row).collect()
    }

    fn begin(&mut self, mode: TxMode) -> Result<(), StoreError> {
        self.reconnect_if_closed()?;
        let sql = match mode {
            // One snapshot for every statement of the transaction.
            TxMode::Read => "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY".to_string(),
            TxMode::Write => "BEGIN".to_string(),
            TxMode::Schema => format!("BEGIN; SELECT pg_advisory_xact_lock({SCHEMA_LOCK})"),
        };
        if let Err(e) = self.client.batch_execute(&sql) {
            // The BEGIN may have succeeded and the lock failed, leaving a transaction open.
            // Ending it is all that matters; a failure to would only repeat `e`.
            let _ = self.client.batch_execute("ROLLBACK");
            return Err(e.into());
        }
        self.in_transaction = true;
        Ok(())
    }

    fn commit(&mut self) -> Result<(), StoreError> {
        // Whatever the outcome, PostgreSQL has ended the transaction.
        self.in_transaction = false;
        Ok(self.client.batch_execute("COMMIT")?)
    }

    fn rollback(&mut self) -> Result<(), StoreError> {
        // Also when the connection is gone: the server ended the transaction with it.
        self.in_transaction = false;
        Ok(self.client.batch_execute("ROLLBACK")?)
    }
}
