//! The ClickHouse store, for deployments that outgrow one machine.
//!
//! Rows go in as RowBinary through the official `clickhouse` crate, one
//! `INSERT` per table per batch, acknowledged only when ClickHouse has
//! returned 200 for it. Failed inserts are retried with backoff. When they
//! still fail, the writer reports the error and receivers ask senders to
//! retry, so nothing acknowledged is lost while ClickHouse is down. User SQL
//! runs with `readonly = 2` and execution, row and memory limits set per
//! query. Credentials live in a `ReplacingMergeTree` table, so several
//! `exos serve` processes share them.

mod eventlog_rows;
mod results;
mod rows;

use std::future::Future;
use std::time::{Duration, Instant};

use clickhouse::Client;
use exos_core::Batch;

use crate::credentials::{Credential, CredentialKind};
use crate::eventlogs::{EventLogEntry, EventLogRows};
use crate::replay::ReplayAnalysis;
use crate::saved::SavedItem;
use crate::schema::{self, ClickHouseOptions};
use crate::{Dialect, QueryLimits, QueryResult, Store, StoreError};

/// How to reach ClickHouse.
#[derive(Debug, Clone)]
pub struct ClickHouseSettings {
    /// HTTP interface URL, e.g. `http://127.0.0.1:8123`.
    pub url: String,
    pub user: String,
    pub password: String,
    pub database: String,
    /// Days of data kept (TTL); 0 keeps data forever.
    pub retention_days: u32,
    /// Days of session replay kept, when set apart from `retention_days`.
    pub replay_retention_days: Option<u32>,
    /// Memory one user query may use, in bytes.
    pub max_query_memory_bytes: u64,
}

/// Batches with fewer rows than this use ClickHouse's asynchronous inserts.
const SMALL_INSERT_ROWS: usize = 1_000;

/// Attempts per insert before the batch is reported failed.
const INSERT_ATTEMPTS: u32 = 3;

/// The ClickHouse-backed store.
pub struct ClickHouseStore {
    client: Client,
    runtime: tokio::runtime::Runtime,
    max_query_memory_bytes: u64,
}

impl ClickHouseStore {
    /// Connects, creates the database objects when missing, and applies migrations.
    pub fn open(settings: &ClickHouseSettings) -> Result<Self, StoreError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("exos-clickhouse")
            .enable_all()
            .build()
            .map_err(|e| {
                StoreError::Other(format!("cannot start the ClickHouse client runtime: {e}"))
            })?;
        let server = Client::default()
            .with_url(settings.url.clone())
            .with_user(settings.user.clone())
            .with_password(settings.password.clone())
            .with_compression(clickhouse::Compression::None)
            .with_validation(false);
        let store = Self {
            client: server.clone(),
            runtime,
            max_query_memory_bytes: settings.max_query_memory_bytes,
        };
        let mut quoted = String::new();
        for c in settings.database.chars() {
            if c == '`' || c == '\\' {
                quoted.push('\\');
            }
            quoted.push(c);
        }
        store.execute(format!("CREATE DATABASE IF NOT EXISTS `{quoted}`"))?;
        let store = Self {
            client: server.with_database(settings.database.clone()),
            ..store
        };
        store.migrate(&ClickHouseOptions {
            retention_days: settings.retention_days,
            replay_retention_days: settings.replay_retention_days,
            ..Default::default()
        })?;
        Ok(store)
    }

    /// Runs a future on this store's runtime, from synchronous code in or outside Tokio.
    fn run<T: Send + 'static>(&self, future: impl Future<Output = T> + Send + 'static) -> T {
        let (sender, receiver) = std::sync::mpsc::channel();
        self.runtime.spawn(async move {
            let _ = sender.send(future.await);
        });
        receiver
            .recv()
            .expect("the ClickHouse runtime runs until the store is dropped")
    }

    fn execute(&self, sql: String) -> Result<(), StoreError> {
        let client = self.client.clone();
        // Raw: `?` in the text is SQL, never a bind placeholder.
        self.run(async move { client.query_raw(&sql).execute().await })
            .map_err(|e| clickhouse_error("statement failed", e))
    }

    fn migrate(&self, options: &ClickHouseOptions) -> Result<(), StoreError> {
        for statement in schema::all_ddl(Dialect::ClickHouse, options) {
            self.execute(statement)?;
        }
        for statement in schema::clickhouse_added_columns() {
            self.execute(statement)?;
        }
        self.execute(
            "CREATE TABLE IF NOT EXISTS exos_credentials (Kind String, Id String, Name String, Hash String, \
             Role String, CreatedAt Int64, Revoked Bool, Version UInt64) \
             ENGINE = ReplacingMergeTree(Version) ORDER BY (Kind, Id)"
                .into(),
        )?;
        self.execute(crate::saved::CLICKHOUSE_TABLE.into())?;
        // Tables made before the replay retention was set get it now.
        if let Some(days) = options.replay_retention_days {
            let ttl = if days > 0 {
                format!("MODIFY TTL TimestampTime + toIntervalDay({days})")
            } else {
                "REMOVE TTL".to_string()
            };
            if let Err(error) = self.execute(format!("ALTER TABLE hyperdx_sessions {ttl}")) {
                tracing::warn!(%error, "cannot change the replay retention of hyperdx_sessions");
            }
        }
        for table in crate::replay::CLICKHOUSE_TABLES {
            self.execute(table.to_string())?;
        }
        for table in crate::eventlogs::CLICKHOUSE_TABLES {
            self.execute(table.to_string())?;
        }
        self.create_rollups(options.retention_days)
    }

    /// Creates the span rollups and the materialized views that fill them; a view
    /// made now first counts the spans stored before it.
    fn create_rollups(&self, retention_days: u32) -> Result<(), StoreError> {
        for statement in crate::rollup::clickhouse_tables(retention_days) {
            self.execute(statement)?;
        }
        let names = crate::rollup::clickhouse_view_names();
        for ((view, backfill), name) in crate::rollup::clickhouse_views().into_iter().zip(names) {
            let exists = self.query(&format!("EXISTS TABLE {name}"), &QueryLimits::default())?;
            let value = exists.rows.first().and_then(|row| row.first());
            if value.is_some_and(|v| v.to_string().trim_matches('"') == "1") {
                continue;
            }
            // Spans inserted between these two statements by another instance would
            // be counted twice; EXOS migrates before its receivers start.
            self.execute(view)?;
            self.execute(backfill)?;
        }
        Ok(())
    }

    async fn insert_all(client: Client, batch: &Batch) -> Result<(), clickhouse::error::Error> {
        insert_rows!(client, "otel_traces", batch.spans, SpanInsert);
        insert_rows!(client, "otel_logs", batch.logs, LogInsert);
        insert_rows!(client, "hyperdx_sessions", batch.sessions, LogInsert);
        insert_rows!(client, "otel_metrics_gauge", batch.gauges, GaugeInsert);
        insert_rows!(client, "otel_metrics_sum", batch.sums, SumInsert);
        insert_rows!(
            client,
            "otel_metrics_histogram",
            batch.histograms,
            HistogramInsert
        );
        insert_rows!(
            client,
            "otel_metrics_exponential_histogram",
            batch.exp_histograms,
            ExpHistogramInsert
        );
        insert_rows!(
            client,
            "otel_metrics_summary",
            batch.summaries,
            SummaryInsert
        );
        for event in &batch.rewritten_replay_events {
            // The chunks stored before the event was masked whole; the rows just
            // inserted carry the rewrite mark and stay.
            client
                .query(&format!(
                    "DELETE FROM hyperdx_sessions WHERE RumSessionId = ? \
                     AND ResourceAttributes['rum.scriptInstance'] = ? \
                     AND LogAttributes['rr-web.event'] = ? \
                     AND LogAttributes['{}'] != 'true'",
                    exos_core::REPLAY_REWRITTEN
                ))
                .bind(event.session.as_str())
                .bind(event.script_instance.as_str())
                .bind(event.event.as_str())
                .execute()
                .await?;
        }
        Ok(())
    }
}

/// Sends one `INSERT … FORMAT RowBinary` with all rows of a table; nothing when there are none.
///
/// The row type is named with `'static` only to pick the type: `write` takes rows of any lifetime.
macro_rules! insert_rows {
    ($client:expr, $table:expr, $rows:expr, $row:ident) => {
        if !$rows.is_empty() {
            let mut insert = $client.insert::<rows::$row<'static>>($table).await?;
            if $rows.len() < SMALL_INSERT_ROWS {
                // Many tiny parts slow ClickHouse down, so small batches go through its
                // async-insert buffer; waiting for the flush keeps the acknowledgement durable.
                insert = insert
                    .with_setting("async_insert", "1")
                    .with_setting("wait_for_async_insert", "1");
            }
            for row in &$rows {
                insert.write(&rows::$row::from(row)).await?;
            }
            insert.end().await?;
        }
    };
}
use insert_rows;

/// Sends all rows of `$rows` to `$table` in one insert, each made by `$row::new(log_id, ordinal, row)`.
macro_rules! insert_log_table {
    ($client:expr, $table:literal, $log_id:expr, $rows:expr, $row:ident) => {
        if !$rows.is_empty() {
            let mut insert = $client
                .insert::<eventlog_rows::$row<'static>>($table)
                .await?;
            for (ordinal, row) in $rows.iter().enumerate() {
                insert
                    .write(&eventlog_rows::$row::new($log_id, ordinal, row))
                    .await?;
            }
            insert.end().await?;
        }
    };
}

/// Writes one log's tables, then its catalogue row, so a listed log is complete.
async fn insert_event_log(
    client: Client,
    entry: &EventLogEntry,
    rows: &EventLogRows,
) -> Result<(), clickhouse::error::Error> {
    let log_id = entry.log_id.as_str();
    insert_log_table!(client, "exos_log_events", log_id, rows.events, EventInsert);
    insert_log_table!(
        client,
        "exos_log_objects",
        log_id,
        rows.objects,
        ObjectInsert
    );
    insert_log_table!(
        client,
        "exos_log_event_objects",
        log_id,
        rows.event_objects,
        EventObjectInsert
    );
    insert_log_table!(
        client,
        "exos_log_object_objects",
        log_id,
        rows.object_objects,
        ObjectObjectInsert
    );
    insert_log_table!(
        client,
        "exos_log_event_attributes",
        log_id,
        rows.event_attributes,
        EventAttributeInsert
    );
    insert_log_table!(
        client,
        "exos_log_object_attributes",
        log_id,
        rows.object_attributes,
        ObjectAttributeInsert
    );
    let mut insert = client
        .insert::<eventlog_rows::CatalogueInsert<'static>>("exos_event_logs")
        .await?;
    insert
        .write(&eventlog_rows::CatalogueInsert::from(entry))
        .await?;
    insert.end().await
}

fn clickhouse_error(what: &str, error: clickhouse::error::Error) -> StoreError {
    StoreError::Other(format!(
        "ClickHouse {what}: {}",
        results::server_message(&error)
    ))
}

impl Store for ClickHouseStore {
    fn dialect(&self) -> Dialect {
        Dialect::ClickHouse
    }

    fn write(&self, batch: &Batch) -> Result<(), StoreError> {
        if batch.is_empty() {
            return Ok(());
        }
        let mut delay = Duration::from_millis(100);
        for attempt in 1..=INSERT_ATTEMPTS {
            let client = self.client.clone();
            // The writer thread is outside Tokio, so blocking on the runtime here is allowed.
            let outcome = self.runtime.block_on(Self::insert_all(client, batch));
            match outcome {
                Ok(()) => return Ok(()),
                Err(error) if attempt < INSERT_ATTEMPTS => {
                    tracing::warn!(attempt, ?delay, error = %results::server_message(&error), "ClickHouse insert failed, retrying");
                    std::thread::sleep(delay);
                    delay *= 4;
                }
                Err(error) => {
                    return Err(StoreError::Write(format!(
                        "ClickHouse insert failed: {}",
                        results::server_message(&error)
                    )))
                }
            }
        }
        unreachable!("the loop returns on its last attempt")
    }

    fn query(&self, sql: &str, limits: &QueryLimits) -> Result<QueryResult, StoreError> {
        let started = Instant::now();
        let client = self.client.clone();
        let sql = sql.to_string();
        let max_rows = limits.max_rows;
        let timeout = limits.timeout;
        let memory = self.max_query_memory_bytes;
        let bytes = self.run(async move {
            let mut cursor = client
                .query_raw(&sql)
                .with_setting("readonly", "2")
                .with_setting("max_execution_time", timeout.as_secs().max(1).to_string())
                .with_setting("max_result_rows", (max_rows + 1).to_string())
                .with_setting("result_overflow_mode", "break")
                .with_setting("max_memory_usage", memory.to_string())
                .with_setting("output_format_json_quote_64bit_integers", "0")
                .with_setting("output_format_json_quote_denormals", "0")
                // `SELECT *` lists the business-key columns, as on DuckDB.
                .with_setting("asterisk_include_materialized_columns", "1")
                .fetch_bytes("JSONCompact")?;
            cursor.collect().await
        });
        let bytes = bytes.map_err(|error| results::query_error(error, timeout))?;
        let mut result = results::parse(&bytes, max_rows)?;
        result.elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
        Ok(result)
    }

    fn checkpoint(&self) -> Result<(), StoreError> {
        // ClickHouse persists every acknowledged insert; there is nothing to flush.
        Ok(())
    }

    fn credentials(&self) -> Result<Vec<Credential>, StoreError> {
        let client = self.client.clone();
        let rows = self.run(async move {
            client
                .query("SELECT Kind, Id, Name, Hash, Role, CreatedAt, Revoked, Version FROM exos_credentials FINAL ORDER BY CreatedAt")
                .fetch_all::<results::CredentialRow>()
                .await
        });
        let rows = rows.map_err(|e| clickhouse_error("credential lookup failed", e))?;
        Ok(rows
            .into_iter()
            .filter_map(results::CredentialRow::into_credential)
            .collect())
    }

    fn put_credential(&self, credential: &Credential) -> Result<(), StoreError> {
        let client = self.client.clone();
        let row = results::CredentialRow::from_credential(credential, version_now());
        self.run(async move {
            let mut insert = client
                .insert::<results::CredentialRow>("exos_credentials")
                .await?;
            insert.write(&row).await?;
            insert.end().await
        })
        .map_err(|e| clickhouse_error("credential write failed", e))
    }

    fn revoke_credential(&self, kind: CredentialKind, id: &str) -> Result<bool, StoreError> {
        let Some(mut credential) = self
            .credentials()?
            .into_iter()
            .find(|c| c.kind == kind && c.id == id && !c.revoked)
        else {
            return Ok(false);
        };
        credential.revoked = true;
        self.put_credential(&credential)?;
        Ok(true)
    }

    fn saved_items(&self) -> Result<Vec<SavedItem>, StoreError> {
        let client = self.client.clone();
        let rows = self.run(async move {
            client
                .query(
                    "SELECT Id, Kind, Name, Owner, Shared, Body, CreatedAt, UpdatedAt, Deleted, Version \
                     FROM exos_saved_items FINAL WHERE NOT Deleted ORDER BY UpdatedAt DESC",
                )
                .fetch_all::<results::SavedItemRow>()
                .await
        });
        let rows = rows.map_err(|e| clickhouse_error("saved item lookup failed", e))?;
        Ok(rows
            .into_iter()
            .map(results::SavedItemRow::into_item)
            .collect())
    }

    fn put_replay_analyses(&self, analyses: &[ReplayAnalysis]) -> Result<(), StoreError> {
        if analyses.is_empty() {
            return Ok(());
        }
        let client = self.client.clone();
        let sessions: Vec<results::ReplaySessionRow> = analyses
            .iter()
            .map(results::ReplaySessionRow::from_analysis)
            .collect();
        let signals: Vec<results::SignalRow> = analyses
            .iter()
            .flat_map(|analysis| {
                analysis
                    .signals
                    .iter()
                    .map(move |signal| results::SignalRow::from_signal(analysis, signal))
            })
            .collect();
        let stale: Vec<(String, i64)> = analyses
            .iter()
            .map(|a| (a.session_id.clone(), a.analysed_ms))
            .collect();
        // The session row goes last: readers take it as the sign that the
        // session's signals are in place.
        self.run(async move {
            if !signals.is_empty() {
                let mut insert = client
                    .insert::<results::SignalRow>("exos_session_signals")
                    .await?;
                for signal in &signals {
                    insert.write(signal).await?;
                }
                insert.end().await?;
            }
            // Signals of an earlier analysis that this one no longer finds are removed.
            for (session_id, analysed) in stale {
                client
                    .query(
                        "DELETE FROM exos_session_signals WHERE SessionId = ? AND AnalysedAt < ?",
                    )
                    .bind(session_id)
                    .bind(analysed)
                    .execute()
                    .await?;
            }
            let mut insert = client
                .insert::<results::ReplaySessionRow>("exos_replay_sessions")
                .await?;
            for session in &sessions {
                insert.write(session).await?;
            }
            insert.end().await
        })
        .map_err(|e| clickhouse_error("replay analysis write failed", e))
    }

    fn expire_replay(&self, _before_ms: i64) -> Result<u64, StoreError> {
        // ClickHouse drops expired replay parts itself, by the table's TTL.
        Ok(0)
    }

    fn put_event_log(&self, entry: &EventLogEntry, rows: &EventLogRows) -> Result<(), StoreError> {
        let client = self.client.clone();
        let entry = entry.clone();
        let rows = rows.clone();
        self.run(async move { insert_event_log(client, &entry, &rows).await })
            .map_err(|e| clickhouse_error("event log write failed", e))
    }

    fn delete_event_log(&self, log_id: &str) -> Result<bool, StoreError> {
        crate::eventlogs::check_log_id(log_id).map_err(StoreError::Write)?;
        let existed = crate::eventlogs::find_event_log(self, log_id)?.is_some();
        for statement in crate::eventlogs::delete_statements(log_id) {
            self.execute(statement)?;
        }
        Ok(existed)
    }

    fn put_saved_item(&self, item: &SavedItem) -> Result<(), StoreError> {
        let client = self.client.clone();
        let row = results::SavedItemRow::from_item(item, version_now());
        self.run(async move {
            let mut insert = client
                .insert::<results::SavedItemRow>("exos_saved_items")
                .await?;
            insert.write(&row).await?;
            insert.end().await
        })
        .map_err(|e| clickhouse_error("saved item write failed", e))
    }
}

/// A version for `ReplacingMergeTree`: later writes of the same credential win.
fn version_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or_default()
}
