//! The embedded store: one DuckDB file in the data folder.
//!
//! Every write and every query gets its own connection to the one database,
//! so reads never wait for writes and several writer threads can append at
//! once. The database is opened with external access disabled and its
//! configuration locked, so even SQL that slipped past the guard cannot read
//! files, reach the network, load extensions or change settings.

mod arrow_rows;
mod eventlog_rows;
mod json;
mod migrations;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use duckdb::{params, AccessMode, Config, Connection};
use exos_core::Batch;

use crate::credentials::{Credential, CredentialKind};
use crate::edges::{Callee, Pairing};
use crate::eventlogs::{EventLogEntry, EventLogRows};
use crate::replay::ReplayAnalysis;
use crate::saved::SavedItem;
use crate::{ColumnInfo, Dialect, QueryLimits, QueryResult, Store, StoreError};

/// File name of the database inside the data folder.
pub const DATABASE_FILE: &str = "exos.duckdb";

/// The storage format new database files are written in.
pub const STORAGE_VERSION: &str = "v1.5.0";

/// How to open the embedded store.
#[derive(Debug, Clone)]
pub struct DuckOptions {
    /// DuckDB's memory limit, in DuckDB's syntax (`4GB`).
    pub memory_limit: String,
    /// Worker threads DuckDB may use; 0 lets DuckDB choose (one per core).
    pub threads: usize,
    /// Opens without write access and skips migrations (for `exos sql` on a stopped server).
    pub read_only: bool,
}

impl Default for DuckOptions {
    fn default() -> Self {
        Self {
            memory_limit: "4GB".into(),
            threads: 0,
            read_only: false,
        }
    }
}

/// The DuckDB-backed store.
pub struct DuckStore {
    path: PathBuf,
    writer: Mutex<Connection>,
    /// Span writes since the store opened; every `MERGE_EVERY`th merges the rollups.
    span_writes: AtomicU64,
    /// Held while the rollups merge, so two writers never merge at once.
    merging: Mutex<()>,
    /// The recent spans of calls whose other span has not arrived yet.
    pairing: Mutex<Pairing>,
}

/// Span writes between two merges of the rollups' partial rows.
const MERGE_EVERY: u64 = 64;

fn other(error: duckdb::Error) -> StoreError {
    StoreError::Other(error.to_string())
}

impl DuckStore {
    /// Opens (creating when needed) the store in `dir` and applies pending migrations.
    pub fn open(dir: &Path, options: &DuckOptions) -> Result<Self, StoreError> {
        std::fs::create_dir_all(dir).map_err(|error| {
            StoreError::Other(format!(
                "cannot create data folder {}: {error}",
                dir.display()
            ))
        })?;
        let path = dir.join(DATABASE_FILE);
        let connection = Connection::open_with_flags(&path, config(options).map_err(other)?)
            .map_err(|error| {
                let text = error.to_string();
                if text.contains("lock") {
                    StoreError::Locked {
                        path: path.display().to_string(),
                    }
                } else {
                    StoreError::Other(format!("cannot open {}: {text}", path.display()))
                }
            })?;
        let mut pairing = Pairing::default();
        if !options.read_only {
            migrations::apply(&connection)?;
            check_derived_tables(&connection)?;
            seed_pairing(&connection, &mut pairing)?;
        }
        // Locked last: from here on no connection may change any setting.
        connection
            .execute_batch("SET lock_configuration = true")
            .map_err(other)?;
        Ok(Self {
            path,
            writer: Mutex::new(connection),
            span_writes: AtomicU64::new(0),
            merging: Mutex::new(()),
            pairing: Mutex::new(pairing),
        })
    }

    /// Pairs the spans of a committed write with the recent spans of their calls, and
    /// appends the edge rows of the calls completed. A failure here loses those
    /// calls from the edge rollup only, so it is logged and not returned.
    fn count_edges(&self, spans: &[exos_core::SpanRow]) {
        let rows = self
            .pairing
            .lock()
            .expect("pairing lock poisoned")
            .add(spans, Instant::now());
        if rows.is_empty() {
            return;
        }
        let appended = self.connection().and_then(|connection| {
            append(
                &connection,
                crate::edges::TABLE,
                arrow_rows::edge_rollup(&rows),
            )
        });
        if let Err(error) = appended {
            tracing::warn!(%error, edges = rows.len(), "cannot write service-map edges");
        }
    }

    /// Folds the rows of every rollup slot that has partial rows into one row per key,
    /// unless another thread is at it.
    pub fn merge_rollups(&self) -> Result<(), StoreError> {
        let Ok(_merging) = self.merging.try_lock() else {
            return Ok(());
        };
        let mut connection = self.connection()?;
        let transaction = connection.transaction().map_err(other)?;
        for statement in crate::rollup::duckdb_merge()
            .into_iter()
            .chain(crate::entities::duckdb_merge())
        {
            transaction.execute_batch(&statement).map_err(other)?;
        }
        transaction.commit().map_err(other)
    }

    /// Returns the database file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn connection(&self) -> Result<Connection, StoreError> {
        self.writer
            .lock()
            .expect("writer lock poisoned")
            .try_clone()
            .map_err(other)
    }

    /// Deletes the rows of rewritten replay events that lack the rewrite mark:
    /// the chunks stored before the event was masked whole.
    fn delete_rewritten(
        connection: &Connection,
        events: &[exos_core::ReplayEventKey],
    ) -> Result<(), StoreError> {
        if events.is_empty() {
            return Ok(());
        }
        let mut statement = connection
            .prepare(&format!(
                "DELETE FROM hyperdx_sessions WHERE RumSessionId = ? \
                 AND coalesce(ResourceAttributes['rum.scriptInstance'], '') = ? \
                 AND LogAttributes['rr-web.event'] = ? \
                 AND coalesce(LogAttributes['{}'], '') <> 'true'",
                exos_core::REPLAY_REWRITTEN
            ))
            .map_err(|e| StoreError::Write(e.to_string()))?;
        for event in events {
            statement
                .execute(params![event.session, event.script_instance, event.event])
                .map_err(|e| StoreError::Write(format!("hyperdx_sessions: {e}")))?;
        }
        Ok(())
    }

    /// Appends every table's rows of `batch` inside the caller's transaction.
    fn append_all(connection: &Connection, batch: &Batch) -> Result<(), StoreError> {
        let write = |table: &str, record| append(connection, table, record);
        if !batch.spans.is_empty() {
            write("otel_traces", arrow_rows::spans(&batch.spans))?;
            let rollups = crate::rollup::rollup_rows(&batch.spans);
            write(
                crate::rollup::SPAN_TABLE,
                arrow_rows::span_rollup(&rollups.spans),
            )?;
            write(
                crate::rollup::ENDPOINT_TABLE,
                arrow_rows::endpoint_rollup(&rollups.endpoints),
            )?;
            write(
                crate::rollup::OPERATOR_TABLE,
                arrow_rows::operator_rollup(&rollups.operators),
            )?;
            let errors = crate::errors::staged(&batch.spans);
            if !errors.is_empty() {
                write(crate::errors::STAGING, arrow_rows::error_staging(&errors))?;
                for statement in crate::errors::duckdb_from_staging() {
                    connection
                        .execute_batch(&statement)
                        .map_err(|e| StoreError::Write(format!("exos_errors: {e}")))?;
                }
            }
            let (orders, sessions) = crate::entities::entity_rows(&batch.spans);
            if !orders.is_empty() {
                write(crate::entities::ORDERS.table, arrow_rows::entities(&orders))?;
            }
            if !sessions.is_empty() {
                write(
                    crate::entities::SESSIONS.table,
                    arrow_rows::entities(&sessions),
                )?;
            }
        }
        if !batch.logs.is_empty() {
            write("otel_logs", arrow_rows::logs(&batch.logs))?;
        }
        if !batch.sessions.is_empty() {
            write("hyperdx_sessions", arrow_rows::logs(&batch.sessions))?;
        }
        if !batch.gauges.is_empty() {
            write("otel_metrics_gauge", arrow_rows::gauges(&batch.gauges))?;
        }
        if !batch.sums.is_empty() {
            write("otel_metrics_sum", arrow_rows::sums(&batch.sums))?;
        }
        if !batch.histograms.is_empty() {
            write(
                "otel_metrics_histogram",
                arrow_rows::histograms(&batch.histograms),
            )?;
        }
        if !batch.exp_histograms.is_empty() {
            write(
                "otel_metrics_exponential_histogram",
                arrow_rows::exp_histograms(&batch.exp_histograms),
            )?;
        }
        if !batch.summaries.is_empty() {
            write(
                "otel_metrics_summary",
                arrow_rows::summaries(&batch.summaries),
            )?;
        }
        Ok(())
    }
}

/// Appends the rows of `record` to `table` on `connection`.
fn append(
    connection: &Connection,
    table: &str,
    record: Result<duckdb::arrow::record_batch::RecordBatch, duckdb::arrow::error::ArrowError>,
) -> Result<(), StoreError> {
    let record = record.map_err(|e| StoreError::Write(e.to_string()))?;
    let mut appender = connection
        .appender(table)
        .map_err(|e| StoreError::Write(e.to_string()))?;
    appender
        .append_record_batch(record)
        .and_then(|_| appender.flush())
        .map_err(|e| StoreError::Write(format!("{table}: {e}")))
}

/// Rebuilds a family of tables kept beside `otel_traces` (rollups or summaries) when
/// they do not count exactly its spans, as after spans were written by other means
/// than the store's `write`. `counts` is a query whose one row contains `pairs` pairs of
/// (spans of `otel_traces`, spans the tables count).
fn check_derived(
    connection: &Connection,
    family: &str,
    counts: &str,
    pairs: usize,
    rebuild: Vec<String>,
) -> Result<(), StoreError> {
    let values: Vec<u64> = connection
        .query_row(counts, [], |row| {
            (0..pairs * 2).map(|index| row.get(index)).collect()
        })
        .map_err(other)?;
    if values.chunks(2).all(|pair| pair[0] == pair[1]) {
        return Ok(());
    }
    tracing::warn!(
        family,
        ?values,
        "tables do not match otel_traces; rebuilding them"
    );
    let started = Instant::now();
    connection
        .execute_batch("BEGIN TRANSACTION")
        .map_err(other)?;
    for statement in rebuild {
        if let Err(error) = connection.execute_batch(&statement) {
            let _ = connection.execute_batch("ROLLBACK");
            return Err(other(error));
        }
    }
    connection.execute_batch("COMMIT").map_err(other)?;
    tracing::info!(family, seconds = started.elapsed().as_secs_f64(), "rebuilt");
    Ok(())
}

/// Checks the span rollups (with the edge rollup), the entity summaries and the
/// error summaries in turn.
fn check_derived_tables(connection: &Connection) -> Result<(), StoreError> {
    let rollups = crate::rollup::duckdb_rebuild()
        .into_iter()
        .chain(crate::edges::duckdb_rebuild())
        .collect();
    check_derived(
        connection,
        "span rollups",
        crate::rollup::DUCKDB_COUNTS,
        crate::rollup::TABLES.len(),
        rollups,
    )?;
    check_derived(
        connection,
        "order and session summaries",
        &crate::entities::duckdb_counts(),
        crate::entities::KINDS.len(),
        crate::entities::duckdb_rebuild(),
    )?;
    check_derived(
        connection,
        "error summaries",
        &crate::errors::duckdb_counts(),
        1,
        crate::errors::duckdb_rebuild(),
    )
}

/// Returns the current time in epoch nanoseconds.
fn now_ns() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_nanos() as i64)
}

/// Fills the pairing with the stored spans of the last pairing window that may
/// still meet the other span of their call (see `edges::duckdb_seed`).
fn seed_pairing(connection: &Connection, pairing: &mut Pairing) -> Result<(), StoreError> {
    let now = Instant::now();
    let mut statement = connection
        .prepare(&crate::edges::duckdb_seed(now_ns()))
        .map_err(other)?;
    let mut rows = statement.query([]).map_err(other)?;
    while let Some(row) = rows.next().map_err(other)? {
        let side: i32 = row.get(0).map_err(other)?;
        let trace_id: String = row.get(1).map_err(other)?;
        let span_id: String = row.get(2).map_err(other)?;
        let service: std::sync::Arc<str> = row.get::<_, String>(3).map_err(other)?.into();
        if side == 0 {
            pairing.seed_caller(&trace_id, &span_id, &service, now);
        } else {
            let callee = Callee::new(
                service,
                row.get(4).map_err(other)?,
                row.get(5).map_err(other)?,
                row.get(6).map_err(other)?,
                now,
            );
            pairing.seed_callee(&trace_id, &span_id, callee);
        }
    }
    Ok(())
}

fn config(options: &DuckOptions) -> duckdb::Result<Config> {
    let mode = if options.read_only {
        AccessMode::ReadOnly
    } else {
        AccessMode::ReadWrite
    };
    let mut config = Config::default()
        .access_mode(mode)?
        .enable_external_access(false)?
        .enable_autoload_extension(false)?
        .max_memory(&options.memory_limit)?
        // New files use the storage format of DuckDB 1.5, which has per-column ZSTD
        // (replay bodies) and dictionary-FSST strings. Files created earlier keep
        // their format, and with it uncompressed replay bodies.
        .with("storage_compatibility_version", STORAGE_VERSION)?;
    if options.threads > 0 {
        config = config.threads(options.threads as i64)?;
    }
    Ok(config)
}

impl Store for DuckStore {
    fn dialect(&self) -> Dialect {
        Dialect::DuckDb
    }

    fn duckdb_connection(&self) -> Option<Result<Connection, StoreError>> {
        Some(self.connection())
    }

    fn write(&self, batch: &Batch) -> Result<(), StoreError> {
        if batch.is_empty() {
            return Ok(());
        }
        // Each write gets its own connection, so several writer threads append at once;
        // DuckDB commits concurrent appends to the same table without conflicts.
        let mut connection = self.connection()?;
        let transaction = connection
            .transaction()
            .map_err(|e| StoreError::Write(e.to_string()))?;
        Self::append_all(&transaction, batch)?;
        Self::delete_rewritten(&transaction, &batch.rewritten_replay_events)?;
        // DuckDB flushes and syncs its write-ahead log at commit, so the rows are durable here.
        transaction
            .commit()
            .map_err(|e| StoreError::Write(e.to_string()))?;
        if batch.spans.is_empty() {
            return Ok(());
        }
        self.count_edges(&batch.spans);
        if self.span_writes.fetch_add(1, Ordering::Relaxed) % MERGE_EVERY == MERGE_EVERY - 1 {
            // The batch is already committed. A failed merge leaves partial rows,
            // and readers sum those as well.
            if let Err(error) = self.merge_rollups() {
                tracing::warn!(%error, "cannot merge the span rollups");
            }
        }
        Ok(())
    }

    fn query(&self, sql: &str, limits: &QueryLimits) -> Result<QueryResult, StoreError> {
        self.query_cancellable(sql, limits, &Arc::new(AtomicBool::new(false)))
    }

    fn query_cancellable(
        &self,
        sql: &str,
        limits: &QueryLimits,
        cancel: &Arc<AtomicBool>,
    ) -> Result<QueryResult, StoreError> {
        let started = Instant::now();
        let connection = self.connection()?;
        let watchdog = Watchdog::start_cancellable(&connection, limits.timeout, cancel.clone());
        let outcome = run_query(&connection, sql, limits.max_rows);
        let interrupted = watchdog.stop();
        let (columns, rows, truncated) = match outcome {
            Err(_) if interrupted && cancel.load(Ordering::Relaxed) => {
                return Err(StoreError::Cancelled)
            }
            Err(_) if interrupted => return Err(StoreError::Timeout(limits.timeout)),
            Err(error) => return Err(StoreError::Query(error.to_string())),
            Ok(result) => result,
        };
        Ok(QueryResult {
            row_count: rows.len(),
            columns,
            rows,
            truncated,
            elapsed_ms: started.elapsed().as_secs_f64() * 1000.0,
        })
    }

    fn checkpoint(&self) -> Result<(), StoreError> {
        // Unmerged rows only cost readers a little, so a failed merge does not stop the checkpoint.
        if let Err(error) = self.merge_rollups() {
            tracing::warn!(%error, "cannot merge the span rollups");
        }
        let connection = self.writer.lock().expect("writer lock poisoned");
        connection.execute_batch("CHECKPOINT").map_err(other)
    }

    fn credentials(&self) -> Result<Vec<Credential>, StoreError> {
        let connection = self.connection()?;
        let mut statement = connection
            .prepare("SELECT Kind, Id, Name, Hash, Role, CreatedAt, Revoked FROM exos_credentials ORDER BY CreatedAt")
            .map_err(other)?;
        let rows = statement
            .query_map([], |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    Credential {
                        id: row.get(1)?,
                        kind: CredentialKind::User,
                        name: row.get(2)?,
                        hash: row.get(3)?,
                        role: row.get(4)?,
                        created_at: row.get(5)?,
                        revoked: row.get(6)?,
                    },
                ))
            })
            .map_err(other)?;
        let mut out = Vec::new();
        for row in rows {
            let (kind, mut credential) = row.map_err(other)?;
            let Some(kind) = CredentialKind::parse(&kind) else {
                continue;
            };
            credential.kind = kind;
            out.push(credential);
        }
        Ok(out)
    }

    fn put_credential(&self, credential: &Credential) -> Result<(), StoreError> {
        let connection = self.writer.lock().expect("writer lock poisoned");
        connection
            .execute(
                "INSERT OR REPLACE INTO exos_credentials (Kind, Id, Name, Hash, Role, CreatedAt, Revoked) \
                 VALUES (?, ?, ?, ?, ?, ?, ?)",
                params![
                    credential.kind.as_str(),
                    credential.id,
                    credential.name,
                    credential.hash,
                    credential.role,
                    credential.created_at,
                    credential.revoked
                ],
            )
            .map(|_| ())
            .map_err(other)
    }

    fn revoke_credential(&self, kind: CredentialKind, id: &str) -> Result<bool, StoreError> {
        let connection = self.writer.lock().expect("writer lock poisoned");
        let changed = connection
            .execute(
                "UPDATE exos_credentials SET Revoked = true WHERE Kind = ? AND Id = ? AND NOT Revoked",
                params![kind.as_str(), id],
            )
            .map_err(other)?;
        Ok(changed > 0)
    }

    fn saved_items(&self) -> Result<Vec<SavedItem>, StoreError> {
        let connection = self.connection()?;
        let mut statement = connection
            .prepare(
                "SELECT Id, Kind, Name, Owner, Shared, Body, CreatedAt, UpdatedAt FROM exos_saved_items \
                 WHERE NOT Deleted ORDER BY UpdatedAt DESC",
            )
            .map_err(other)?;
        let rows = statement
            .query_map([], |row| {
                Ok(SavedItem {
                    id: row.get(0)?,
                    kind: row.get(1)?,
                    name: row.get(2)?,
                    owner: row.get(3)?,
                    shared: row.get(4)?,
                    body: row.get(5)?,
                    created_at: row.get(6)?,
                    updated_at: row.get(7)?,
                    deleted: false,
                })
            })
            .map_err(other)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(other)
    }

    fn put_replay_analyses(&self, analyses: &[ReplayAnalysis]) -> Result<(), StoreError> {
        // One transaction for all: a commit costs a write-ahead-log sync, whatever its size.
        let mut connection = self.writer.lock().expect("writer lock poisoned");
        let transaction = connection.transaction().map_err(other)?;
        {
            let mut session = transaction
                .prepare(
                    "INSERT OR REPLACE INTO exos_replay_sessions (SessionId, StartTime, EndTime, ActiveMs, Clicks, \
                     RageClicks, DeadClicks, ErrorClicks, ReplayEvents, Gaps, AnalysedAt) \
                     VALUES (?, make_timestamp(? * 1000), make_timestamp(? * 1000), ?, ?, ?, ?, ?, ?, ?, ?)",
                )
                .map_err(other)?;
            let mut forget = transaction
                .prepare("DELETE FROM exos_session_signals WHERE SessionId = ?")
                .map_err(other)?;
            let mut signal_insert = transaction
                .prepare(
                    "INSERT INTO exos_session_signals (SessionId, Time, Kind, X, Y, Node, Clicks, AnalysedAt) \
                     VALUES (?, make_timestamp(? * 1000), ?, ?, ?, ?, ?, ?)",
                )
                .map_err(other)?;
            for analysis in analyses {
                session
                    .execute(params![
                        analysis.session_id,
                        analysis.start_ms,
                        analysis.end_ms,
                        analysis.active_ms,
                        analysis.clicks,
                        analysis.count("rage_click"),
                        analysis.count("dead_click"),
                        analysis.count("error_click"),
                        analysis.events,
                        analysis.gaps,
                        analysis.analysed_ms
                    ])
                    .map_err(other)?;
                forget
                    .execute(params![analysis.session_id])
                    .map_err(other)?;
                for signal in &analysis.signals {
                    signal_insert
                        .execute(params![
                            analysis.session_id,
                            signal.time_ms,
                            signal.kind,
                            signal.x,
                            signal.y,
                            signal.node,
                            signal.clicks,
                            analysis.analysed_ms
                        ])
                        .map_err(other)?;
                }
            }
        }
        transaction.commit().map_err(other)
    }

    fn expire_replay(&self, before_ms: i64) -> Result<u64, StoreError> {
        let connection = self.writer.lock().expect("writer lock poisoned");
        let deleted = connection
            .execute(
                "DELETE FROM hyperdx_sessions WHERE Timestamp < make_timestamp(? * 1000)",
                params![before_ms],
            )
            .map_err(other)?;
        Ok(deleted as u64)
    }

    fn put_event_log(&self, entry: &EventLogEntry, rows: &EventLogRows) -> Result<(), StoreError> {
        let write_error = |e: &dyn std::fmt::Display| {
            StoreError::Write(format!("event log {}: {e}", entry.log_id))
        };
        let mut batches =
            eventlog_rows::tables(&entry.log_id, rows).map_err(|e| write_error(&e))?;
        // The catalogue row goes last: a log listed there is complete.
        batches.push((
            "exos_event_logs",
            eventlog_rows::catalogue(entry).map_err(|e| write_error(&e))?,
        ));
        let mut connection = self.writer.lock().expect("writer lock poisoned");
        let transaction = connection.transaction().map_err(other)?;
        for (table, batch) in batches {
            let mut appender = transaction.appender(table).map_err(|e| write_error(&e))?;
            appender
                .append_record_batch(batch)
                .and_then(|_| appender.flush())
                .map_err(|e| write_error(&format!("{table}: {e}")))?;
        }
        transaction.commit().map_err(other)
    }

    fn delete_event_log(&self, log_id: &str) -> Result<bool, StoreError> {
        crate::eventlogs::check_log_id(log_id).map_err(StoreError::Write)?;
        let mut connection = self.writer.lock().expect("writer lock poisoned");
        let transaction = connection.transaction().map_err(other)?;
        let mut deleted = 0;
        for statement in crate::eventlogs::delete_statements(log_id) {
            deleted = transaction.execute(&statement, []).map_err(other)?;
        }
        transaction.commit().map_err(other)?;
        Ok(deleted > 0)
    }

    fn put_saved_item(&self, item: &SavedItem) -> Result<(), StoreError> {
        let connection = self.writer.lock().expect("writer lock poisoned");
        connection
            .execute(
                "INSERT OR REPLACE INTO exos_saved_items (Id, Kind, Name, Owner, Shared, Body, CreatedAt, UpdatedAt, Deleted) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                params![
                    item.id,
                    item.kind,
                    item.name,
                    item.owner,
                    item.shared,
                    item.body,
                    item.created_at,
                    item.updated_at,
                    item.deleted
                ],
            )
            .map(|_| ())
            .map_err(other)
    }
}

type Rows = (Vec<ColumnInfo>, Vec<Vec<serde_json::Value>>, bool);

/// Row limits up to which [`run_query`] streams the result.
///
/// A streamed query stops at the limit: `SELECT * FROM range(10^11)` with a
/// limit of 10 returns at once instead of running until the time limit. A
/// materialized result converted to Arrow faster in a one-off timing of 7.5M
/// rows (an estimate, not a repository bench), so the large reads of the
/// engines (process logs, replay events) keep it.
const STREAM_MAX_ROWS: usize = 100_000;

fn run_query(connection: &Connection, sql: &str, max_rows: usize) -> duckdb::Result<Rows> {
    let mut statement = connection.prepare(sql)?;
    let streamed = max_rows <= STREAM_MAX_ROWS;
    let schema = if streamed {
        statement.stream_arrow([])?.get_schema()
    } else {
        statement.query_arrow([])?.get_schema()
    };
    let columns = schema
        .fields()
        .iter()
        .map(|field| ColumnInfo {
            name: field.name().clone(),
            type_name: json::type_name(field.data_type()),
        })
        .collect();
    let mut rows = Vec::new();
    let mut bytes = 0;
    // `step` returns fetch errors (an interrupt, a failed cast) where the
    // batch iterator would panic.
    while let Some(array) = statement.step()? {
        let batch = duckdb::arrow::record_batch::RecordBatch::from(&array);
        for row in 0..batch.num_rows() {
            if rows.len() == max_rows || (streamed && bytes > MAX_RESULT_BYTES) {
                return Ok((columns, rows, true));
            }
            let values: Vec<serde_json::Value> = batch
                .columns()
                .iter()
                .map(|column| json::value(column.as_ref(), row))
                .collect();
            bytes += values.iter().map(value_bytes).sum::<usize>();
            rows.push(values);
        }
    }
    Ok((columns, rows, false))
}

/// Approximate size of the rows a streamed query returns (user SQL among them), past
/// which it stops as truncated whatever its row limit: a few rows of long text could
/// otherwise fill the memory. The engines' large reads are materialized and not cut.
const MAX_RESULT_BYTES: usize = 64 << 20;

/// Returns about how many bytes a value takes: its text, or 16 for other values.
fn value_bytes(value: &serde_json::Value) -> usize {
    match value {
        serde_json::Value::String(text) => text.len(),
        serde_json::Value::Array(items) => items.iter().map(value_bytes).sum::<usize>() + 16,
        serde_json::Value::Object(fields) => {
            fields
                .iter()
                .map(|(key, item)| key.len() + value_bytes(item))
                .sum::<usize>()
                + 16
        }
        _ => 16,
    }
}

/// How often a watchdog looks whether its query was cancelled.
const CANCEL_CHECK: Duration = Duration::from_millis(50);

/// Interrupts a connection's running query when its time is up. Engines that stream
/// from their own statements on a [`Store::duckdb_connection`] use it too.
pub struct Watchdog {
    stop: mpsc::Sender<()>,
    thread: std::thread::JoinHandle<bool>,
}

impl Watchdog {
    /// Starts a thread that interrupts `connection` after `timeout`.
    pub fn start(connection: &Connection, timeout: Duration) -> Self {
        Self::start_cancellable(connection, timeout, Arc::new(AtomicBool::new(false)))
    }

    /// Starts a thread that interrupts `connection` after `timeout`, or soon after
    /// `cancel` is set (it looks every [`CANCEL_CHECK`]).
    pub fn start_cancellable(
        connection: &Connection,
        timeout: Duration,
        cancel: Arc<AtomicBool>,
    ) -> Self {
        let handle = connection.interrupt_handle();
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = std::thread::spawn(move || {
            let deadline = Instant::now() + timeout;
            loop {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() || cancel.load(Ordering::Relaxed) {
                    handle.interrupt();
                    return true;
                }
                match stopped.recv_timeout(left.min(CANCEL_CHECK)) {
                    Err(mpsc::RecvTimeoutError::Timeout) => continue,
                    _ => return false,
                }
            }
        });
        Self { stop, thread }
    }

    /// Stops the watchdog; returns true if it had interrupted the query.
    pub fn stop(self) -> bool {
        let _ = self.stop.send(());
        self.thread.join().unwrap_or(false)
    }
}
