//! The embedded backend: one SQLite file in WAL mode, written with `synchronous=FULL` so that
//! a committed append survives a crash of the process or of the machine.
//!
//! SQLite reads `$1` as a parameter *named* `$1` and numbers parameters by their first
//! appearance, so positional binding is right only when the numbers first appear in order.
//! Every statement is checked for that before it is bound, so a misnumbered statement fails
//! loudly instead of binding values to the wrong columns.

use std::path::Path;
use std::time::Duration;

use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{CachedStatement, Connection, params_from_iter};

use crate::StoreError;
use crate::backend::{Backend, Row, TxMode, Value};

/// How long a writer waits for another connection's write lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The schema, step by step; see [`Backend::migrations`]. Tables are `STRICT` so that a
/// value of the wrong type is refused rather than stored.
pub(crate) const MIGRATIONS: &[&str] = &[
    // Version 1: the log and the current-state tables.
    "CREATE TABLE events (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        tenant TEXT NOT NULL,
        at_ms INTEGER NOT NULL,
        kind TEXT NOT NULL,
        interaction INTEGER,
        agent TEXT,
        payload TEXT NOT NULL
    ) STRICT;
    CREATE INDEX events_by_tenant ON events (tenant, seq);
    CREATE TABLE interactions (
        tenant TEXT NOT NULL,
        id INTEGER NOT NULL,
        channel TEXT NOT NULL,
        queue TEXT NOT NULL,
        priority INTEGER NOT NULL,
        requirements TEXT NOT NULL,
        attributes TEXT NOT NULL,
        created_at_ms INTEGER NOT NULL,
        state TEXT NOT NULL CHECK (state IN
            ('waiting', 'offered', 'connected', 'wrap_up', 'completed', 'abandoned', 'lost')),
        agent TEXT,
        connected_at_ms INTEGER,
        ended_at_ms INTEGER,
        PRIMARY KEY (tenant, id)
    ) STRICT;
    CREATE INDEX interactions_by_state ON interactions (tenant, state);
    CREATE TABLE agents (
        tenant TEXT NOT NULL,
        agent TEXT NOT NULL,
        presence TEXT NOT NULL CHECK (presence IN ('offline', 'available', 'not_ready')),
        reason TEXT,
        changed_at_ms INTEGER NOT NULL,
        PRIMARY KEY (tenant, agent)
    ) STRICT;",
    // Version 2: users, credentials, the audit log and chat messages.
    "CREATE TABLE users (
        tenant TEXT NOT NULL,
        username TEXT NOT NULL,
        display_name TEXT NOT NULL,
        role TEXT NOT NULL CHECK (role IN ('admin', 'supervisor', 'agent')),
        agent TEXT,
        password_hash TEXT NOT NULL,
        disabled INTEGER NOT NULL,
        created_at_ms INTEGER NOT NULL,
        PRIMARY KEY (tenant, username)
    ) STRICT;
    CREATE TABLE tokens (
        hash TEXT PRIMARY KEY,
        tenant TEXT NOT NULL,
        username TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('session', 'api', 'customer')),
        label TEXT NOT NULL,
        interaction INTEGER,
        created_at_ms INTEGER NOT NULL,
        expires_at_ms INTEGER,
        revoked_at_ms INTEGER
    ) STRICT;
    CREATE INDEX tokens_by_tenant ON tokens (tenant);
    CREATE TABLE audit (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        tenant TEXT NOT NULL,
        at_ms INTEGER NOT NULL,
        actor TEXT NOT NULL,
        source TEXT NOT NULL,
        action TEXT NOT NULL,
        target TEXT NOT NULL,
        detail TEXT NOT NULL
    ) STRICT;
    CREATE INDEX audit_by_tenant ON audit (tenant, id);
    CREATE TABLE messages (
        tenant TEXT NOT NULL,
        interaction INTEGER NOT NULL,
        seq INTEGER NOT NULL,
        at_ms INTEGER NOT NULL,
        sender TEXT NOT NULL,
        author TEXT,
        body TEXT NOT NULL,
        PRIMARY KEY (tenant, interaction, seq)
    ) STRICT;",
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
        arrived_ms INTEGER NOT NULL,
        wait_ms INTEGER NOT NULL,
        talk_ms INTEGER,
        agent TEXT,
        outcome TEXT NOT NULL,
        PRIMARY KEY (tenant, source, id)
    ) STRICT;
    CREATE INDEX legacy_by_arrival ON legacy_contacts (tenant, arrived_ms);",
    // Version 5: where a migration's cutover stands (one row a tenant).
    "CREATE TABLE migration (
        tenant TEXT PRIMARY KEY,
        phase TEXT,
        switchboard_percent INTEGER,
        phase_since_ms INTEGER,
        rolled_back INTEGER NOT NULL,
        frozen INTEGER NOT NULL,
        changed_at_ms INTEGER NOT NULL,
        actor TEXT NOT NULL
    ) STRICT;",
    // Version 6: a legacy center's history as interval figures (Avaya CMS).
    "CREATE TABLE legacy_intervals (
        tenant TEXT NOT NULL,
        source TEXT NOT NULL,
        queue TEXT NOT NULL,
        start_ms INTEGER NOT NULL,
        minutes INTEGER NOT NULL,
        offered INTEGER NOT NULL,
        answered INTEGER NOT NULL,
        abandoned INTEGER NOT NULL,
        answered_within INTEGER NOT NULL,
        within_s INTEGER NOT NULL,
        answer_s INTEGER NOT NULL,
        talk_s INTEGER NOT NULL,
        PRIMARY KEY (tenant, source, queue, start_ms)
    ) STRICT;",
    // Version 7: a legacy center's recordings, copied and sealed, with their metadata.
    "CREATE TABLE legacy_recordings (
        tenant TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        size INTEGER NOT NULL,
        source_path TEXT NOT NULL,
        stored_path TEXT NOT NULL,
        call_id TEXT,
        started_ms INTEGER,
        agent TEXT,
        caller TEXT,
        queue TEXT,
        PRIMARY KEY (tenant, sha256)
    ) STRICT;
    CREATE INDEX legacy_recordings_by_call ON legacy_recordings (tenant, call_id);",
    // Version 8: the pilot agents of the migration's phase.
    "ALTER TABLE migration ADD COLUMN agents TEXT;",
    // Version 9: stays whose wait the legacy system did not record (call records).
    "ALTER TABLE legacy_contacts ADD COLUMN wait_known INTEGER NOT NULL DEFAULT 1;",
];

/// A connection to an SQLite file.
#[derive(Debug)]
pub(crate) struct Sqlite {
    conn: Connection,
}

impl Sqlite {
    /// Opens or creates the file and sets the connection up for durable writes.
    pub(crate) fn open(path: &Path) -> Result<Sqlite, StoreError> {
        let conn = Connection::open(path)?;
        // First, so that switching to WAL waits for other connections instead of failing.
        conn.busy_timeout(BUSY_TIMEOUT)?;
        let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            // An in-memory database cannot use WAL; it is not durable anyway.
            tracing::warn!(path = %path.display(), mode, "SQLite did not switch to WAL mode");
        }
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", true)?;
        Ok(Sqlite { conn })
    }

    /// Prepares (or finds in the cache) a statement whose placeholders are `$1, $2, ...`
    /// in order of first appearance.
    fn prepare(&self, sql: &str) -> Result<CachedStatement<'_>, StoreError> {
        let stmt = self.conn.prepare_cached(sql)?;
        for i in 1..=stmt.parameter_count() {
            let expected = format!("${i}");
            if stmt.parameter_name(i) != Some(expected.as_str()) {
                let found = stmt.parameter_name(i).unwrap_or("?").to_string();
                return Err(rusqlite::Error::InvalidParameterName(format!(
                    "parameter {i} is written {found}, but placeholders must be $1, $2, ... \
                     in order of first appearance: {sql}"
                ))
                .into());
            }
        }
        Ok(stmt)
    }
}

impl rusqlite::ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(match self {
            Value::Int(v) => ValueRef::Integer(*v),
            Value::Text(v) => ValueRef::Text(v.as_bytes()),
            Value::Null => ValueRef::Null,
        }))
    }
}

/// Converts a column value; the schema has no reals or blobs.
fn column(row: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Value> {
    Ok(match row.get_ref(i)? {
        ValueRef::Integer(v) => Value::Int(v),
        ValueRef::Text(_) => Value::Text(row.get(i)?),
        ValueRef::Null => Value::Null,
        other => {
            return Err(rusqlite::Error::InvalidColumnType(
                i,
                row.as_ref().column_name(i).unwrap_or("?").to_string(),
                other.data_type(),
            ));
        }
    })
}

impl Backend for Sqlite {
    fn kind(&self) -> &'static str {
        "sqlite"
    }

    fn migrations(&self) -> &'static [&'static str] {
        MIGRATIONS
    }

    fn execute_batch(&mut self, sql: &str) -> Result<(), StoreError> {
        Ok(self.conn.execute_batch(sql)?)
    }

    fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64, StoreError> {
        let mut stmt = self.prepare(sql)?;
        let changed = stmt.execute(params_from_iter(params))?;
        Ok(changed as u64)
    }

    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>, StoreError> {
        let mut stmt = self.prepare(sql)?;
        let width = stmt.column_count();
        let mut rows = stmt.query(params_from_iter(params))?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            out.push(Row((0..width).map(|i| column(row, i)).collect::<Result<_, _>>()?));
        }
        Ok(out)
    }

    fn begin(&mut self, mode: TxMode) -> Result<(), StoreError> {
        // A writer takes the write lock at once (waiting up to the busy timeout), so that
        // it never fails half-way when upgrading from a read lock.
        let sql = match mode {
            TxMode::Read => "BEGIN DEFERRED",
            TxMode::Write | TxMode::Schema => "BEGIN IMMEDIATE",
        };
        Ok(self.conn.execute_batch(sql)?)
    }

    fn commit(&mut self) -> Result<(), StoreError> {
        Ok(self.conn.execute_batch("COMMIT")?)
    }

    fn rollback(&mut self) -> Result<(), StoreError> {
        Ok(self.conn.execute_batch("ROLLBACK")?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn memory() -> Sqlite {
        Sqlite { conn: Connection::open_in_memory().unwrap() }
    }

    #[test]
    fn dollar_placeholders_bind_by_position_when_in_order() {
        let mut db = memory();
        db.execute_batch("CREATE TABLE t (a INTEGER, b TEXT, c INTEGER)").unwrap();
        let changed = db
            .execute(
                "INSERT INTO t (a, b, c) VALUES ($1, $2, $3)",
                &[Value::Int(1), Value::Text("one".into()), Value::Null],
            )
            .unwrap();
        assert_eq!(changed, 1);
        // A number used twice keeps its first position.
        let rows = db
            .query("SELECT a, b, c FROM t WHERE a = $1 AND b = $2 AND a + 0 = $1", &[Value::Int(1), "one".into()])
            .unwrap();
        assert_eq!(rows, vec![Row(vec![Value::Int(1), Value::Text("one".into()), Value::Null])]);
    }

    #[test]
    fn placeholders_out_of_order_are_refused() {
        let mut db = memory();
        db.execute_batch("CREATE TABLE t (a INTEGER, b TEXT)").unwrap();
        let err = db.execute("INSERT INTO t (b, a) VALUES ($2, $1)", &[Value::Int(1), "x".into()]).unwrap_err();
        assert!(err.to_string().contains("parameter 1 is written $2"), "{err}");
        let err = db.execute("INSERT INTO t (a, b) VALUES (?, ?)", &[Value::Int(1), "x".into()]).unwrap_err();
        assert!(err.to_string().contains("placeholders must be $1"), "{err}");
    }

    #[test]
    fn wrong_parameter_count_is_an_error() {
        let mut db = memory();
        db.execute_batch("CREATE TABLE t (a INTEGER)").unwrap();
        assert!(db.execute("INSERT INTO t (a) VALUES ($1)", &[]).is_err());
        assert!(db.execute("INSERT INTO t (a) VALUES ($1)", &[Value::Int(1), Value::Int(2)]).is_err());
    }
}
