//! The little that the store needs from a SQL database, so that the store's logic
//! ([`crate::store`]) is written once for SQLite and PostgreSQL.
//!
//! A backend runs statements with positional parameters written `$1, $2, ...`, each number
//! first appearing in increasing order (SQLite reads `$1` as a named parameter and numbers
//! parameters by first appearance, so that is the form both databases read alike). Values
//! cross the boundary as [`Value`]s: the schema uses only 64-bit integers and text.

use crate::StoreError;

/// A parameter or a column value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Value {
    Int(i64),
    Text(String),
    Null,
}

impl From<i64> for Value {
    fn from(v: i64) -> Value {
        Value::Int(v)
    }
}

impl From<&str> for Value {
    fn from(v: &str) -> Value {
        Value::Text(v.to_string())
    }
}

impl From<String> for Value {
    fn from(v: String) -> Value {
        Value::Text(v)
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Value {
        v.map_or(Value::Null, Into::into)
    }
}

/// One result row, with typed accessors that explain a mismatch instead of panicking.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Row(pub(crate) Vec<Value>);

impl Row {
    fn column(&self, i: usize) -> Result<&Value, String> {
        self.0.get(i).ok_or_else(|| format!("the row has no column {i}"))
    }

    pub(crate) fn int(&self, i: usize) -> Result<i64, String> {
        match self.column(i)? {
            Value::Int(v) => Ok(*v),
            other => Err(format!("column {i} is {other:?}, not an integer")),
        }
    }

    pub(crate) fn text(&self, i: usize) -> Result<&str, String> {
        match self.column(i)? {
            Value::Text(v) => Ok(v),
            other => Err(format!("column {i} is {other:?}, not text")),
        }
    }

    pub(crate) fn opt_int(&self, i: usize) -> Result<Option<i64>, String> {
        match self.column(i)? {
            Value::Null => Ok(None),
            _ => self.int(i).map(Some),
        }
    }

    pub(crate) fn opt_text(&self, i: usize) -> Result<Option<&str>, String> {
        match self.column(i)? {
            Value::Null => Ok(None),
            _ => self.text(i).map(Some),
        }
    }
}

/// What a transaction is for, so that each database can lock no more than needed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TxMode {
    /// Reads that should see one consistent state.
    Read,
    /// Reads and writes of the log and the tables.
    Write,
    /// Schema migrations: at most one at a time per database, across processes.
    Schema,
}

/// A connection to one database.
pub(crate) trait Backend: Send {
    /// `sqlite` or `postgres`.
    fn kind(&self) -> &'static str;
    /// The schema migrations in this database's dialect, in order: step `i` (from 0) brings
    /// the schema to version `i + 1`.
    fn migrations(&self) -> &'static [&'static str];
    /// Runs statements without parameters or results (several, separated by `;`).
    fn execute_batch(&mut self, sql: &str) -> Result<(), StoreError>;
    /// Runs one statement and returns the number of rows it changed.
    fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64, StoreError>;
    /// Runs one statement and returns its rows.
    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>, StoreError>;
    fn begin(&mut self, mode: TxMode) -> Result<(), StoreError>;
    fn commit(&mut self) -> Result<(), StoreError>;
    fn rollback(&mut self) -> Result<(), StoreError>;
}
