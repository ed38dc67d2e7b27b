//! The store: where rows are written and SQL runs.
//!
//! Only this crate talks to a database. It owns the table definitions and the DDL
//! for each dialect, the `Store` trait that the server and CLI use, the
//! embedded DuckDB backend, migrations, and the credential records. It holds
//! no business logic: analyses send SQL through `Store::query`.
//!
//! Invariants: `Store::write` returns only after the rows are committed
//! durably; `run_user_sql` never runs SQL that the guard has not accepted.

pub mod clickhouse;
pub mod credentials;
pub mod duck;
pub mod edges;
pub mod entities;
pub mod errors;
pub mod eventlogs;
pub mod replay;
pub mod rollup;
pub mod saved;
pub mod schema;

use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use exos_core::Batch;
use serde::{Deserialize, Serialize};

pub use clickhouse::{ClickHouseSettings, ClickHouseStore};
pub use credentials::{Credential, CredentialKind};
pub use duck::{DuckOptions, DuckStore};
pub use eventlogs::{EventLogEntry, EventLogRows};
pub use exos_sqlguard::Dialect;
pub use replay::{ReplayAnalysis, SignalRecord};
pub use saved::SavedItem;

/// Everything that can go wrong in a store, with a message fit for the user.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("query rejected: {0}")]
    Rejected(#[from] exos_sqlguard::GuardError),
    #[error("query timed out after {0:?}; narrow the time range or add filters")]
    Timeout(Duration),
    #[error("query failed: {0}")]
    Query(String),
    #[error("query cancelled: the client stopped waiting for it")]
    Cancelled,
    #[error("write failed: {0}")]
    Write(String),
    #[error("store is in use by another process ({path}): stop the running `exos serve` or use its HTTP API")]
    Locked { path: String },
    #[error("store failed: {0}")]
    Other(String),
}

/// Limits applied to one user query.
#[derive(Debug, Clone)]
pub struct QueryLimits {
    /// Rows returned at most; `QueryResult::truncated` is set when more existed.
    pub max_rows: usize,
    /// Wall time after which the query is interrupted.
    pub timeout: Duration,
}

impl Default for QueryLimits {
    fn default() -> Self {
        Self {
            max_rows: 10_000,
            timeout: Duration::from_secs(30),
        }
    }
}

/// A result column: name and database type name.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ColumnInfo {
    pub name: String,
    #[serde(rename = "type")]
    pub type_name: String,
}

/// A query result as the SQL API returns it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct QueryResult {
    pub columns: Vec<ColumnInfo>,
    pub rows: Vec<Vec<serde_json::Value>>,
    pub row_count: usize,
    /// True when the query produced more rows than `max_rows`.
    pub truncated: bool,
    pub elapsed_ms: f64,
}

/// The operations every store backend offers.
pub trait Store: Send + Sync + 'static {
    /// Returns the SQL dialect of this backend.
    fn dialect(&self) -> Dialect;

    /// Writes all rows of the batch in one transaction; returns once they are durable.
    fn write(&self, batch: &Batch) -> Result<(), StoreError>;

    /// Runs SQL the guard accepted, under the given limits.
    fn query(&self, sql: &str, limits: &QueryLimits) -> Result<QueryResult, StoreError>;

    /// Runs like [`Store::query`], and stops early with [`StoreError::Cancelled`] once
    /// `cancel` is set, for example when the client that asked has gone. A store that
    /// cannot stop a running query early runs it to its end or its time limit.
    fn query_cancellable(
        &self,
        sql: &str,
        limits: &QueryLimits,
        cancel: &Arc<AtomicBool>,
    ) -> Result<QueryResult, StoreError> {
        let _ = cancel;
        self.query(sql, limits)
    }

    /// Writes buffered state to the main file (DuckDB: `CHECKPOINT`), for clean shutdowns.
    fn checkpoint(&self) -> Result<(), StoreError>;

    /// Lists every credential, revoked ones included.
    fn credentials(&self) -> Result<Vec<Credential>, StoreError>;

    /// Stores a new credential, or replaces the one with the same kind and id.
    fn put_credential(&self, credential: &Credential) -> Result<(), StoreError>;

    /// Marks a credential revoked; returns false when no such credential exists.
    fn revoke_credential(&self, kind: CredentialKind, id: &str) -> Result<bool, StoreError>;

    /// Lists every saved item that is not deleted.
    fn saved_items(&self) -> Result<Vec<SavedItem>, StoreError>;

    /// Stores a saved item, replacing the one with the same id (a tombstone deletes it).
    fn put_saved_item(&self, item: &SavedItem) -> Result<(), StoreError>;

    /// Stores replay analyses in one write, each replacing its session's previous one.
    fn put_replay_analyses(&self, analyses: &[ReplayAnalysis]) -> Result<(), StoreError>;

    /// Deletes replay records older than `before_ms`; returns how many went.
    /// Stores with their own expiry (ClickHouse TTL) do nothing here.
    fn expire_replay(&self, before_ms: i64) -> Result<u64, StoreError>;

    /// Writes one imported log (catalogue row and every table) in one batched write.
    /// The caller deletes an earlier log of the same id first.
    fn put_event_log(&self, entry: &EventLogEntry, rows: &EventLogRows) -> Result<(), StoreError>;

    /// Deletes one imported log from every table; returns false when it did not exist.
    fn delete_event_log(&self, log_id: &str) -> Result<bool, StoreError>;

    /// A new connection to the embedded DuckDB database, for engines that stream
    /// Arrow batches instead of reading a [`QueryResult`] (funnels, process mining).
    /// Only trusted, internally built SQL may run on it: it bypasses the guard and
    /// the row limit. `None` on stores that are not DuckDB.
    fn duckdb_connection(&self) -> Option<Result<duckdb::Connection, StoreError>> {
        None
    }
}

/// Names of every table and view user SQL may read.
pub fn readable_relations() -> Vec<String> {
    let mut names: Vec<String> = schema::all_tables()
        .iter()
        .map(|t| t.name.to_string())
        .collect();
    names.extend(schema::view_names().into_iter().map(String::from));
    names.extend(["exos_replay_sessions", "exos_session_signals"].map(String::from));
    names.extend(eventlogs::TABLES.map(String::from));
    names.extend(rollup::TABLES.map(String::from));
    names.extend(entities::KINDS.map(|kind| kind.table.to_string()));
    names.push(errors::TABLE.to_string());
    names.push(edges::TABLE.to_string());
    names
}

/// Checks user SQL with the guard, then runs it with the limits.
pub fn run_user_sql(
    store: &dyn Store,
    sql: &str,
    limits: &QueryLimits,
) -> Result<QueryResult, StoreError> {
    run_user_sql_cancellable(store, sql, limits, &Arc::new(AtomicBool::new(false)))
}

/// [`run_user_sql`] that stops once `cancel` is set ([`Store::query_cancellable`]).
pub fn run_user_sql_cancellable(
    store: &dyn Store,
    sql: &str,
    limits: &QueryLimits,
    cancel: &Arc<AtomicBool>,
) -> Result<QueryResult, StoreError> {
    let readable = readable_relations();
    let policy = exos_sqlguard::Policy::new(store.dialect(), readable.clone());
    let checked = exos_sqlguard::check(sql, &policy)?;
    let mut result = store.query_cancellable(&checked.sql, limits, cancel)?;
    if checked.kind == exos_sqlguard::StatementKind::Show {
        hide_unreadable(&mut result, &readable);
    }
    Ok(result)
}

/// Drops the rows of a `SHOW TABLES` result that name a table user SQL may not read
/// (credentials, saved items, staging tables), so the list shows what a query can use.
/// Other `SHOW` results, which have no `name` column, are left alone.
fn hide_unreadable(result: &mut QueryResult, readable: &[String]) {
    let Some(name) = result
        .columns
        .iter()
        .position(|column| column.name == "name")
    else {
        return;
    };
    result.rows.retain(|row| {
        row.get(name)
            .and_then(|value| value.as_str())
            .is_some_and(|table| readable.iter().any(|allowed| allowed == table))
    });
    result.row_count = result.rows.len();
}
