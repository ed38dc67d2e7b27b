//! Per-actor span lists of a funnel, from whichever store is configured.
//!
//! On DuckDB the engine's own query streams Arrow batches over a connection
//! of the store (`exos_funnels::duck`). On ClickHouse the store groups the
//! spans into one row of arrays per actor (`sql::clickhouse::funnel_input`),
//! sent through `Store::query`. Either way the caller sees the same
//! (actor, breakdown, timestamps, step masks, exclusion masks) groups.
//!
//! A [`SpanScope`] narrows the spans every statement reads (the filter bar's
//! filters, a cohort). The engine's SQL reads `otel_traces` by that name, so on
//! DuckDB a temporary view of the same name on the engine's own connection
//! shadows the table, and on ClickHouse the condition joins each `WHERE` that
//! reads the table. Both stores then run the same statements over the same spans.

use std::time::Duration;

use exos_funnels::sql::{self, Dialect};
use exos_funnels::FunnelQuery;
use exos_store::duck::Watchdog;
use exos_store::{QueryLimits, Store, StoreError};
use serde_json::Value;

use crate::error::AnalyticsError;
use crate::rows::{Row, QUERY_TIMEOUT};

/// The text with which the engines' SQL reads the span table. A scope's condition is added after it.
const SPAN_TABLE_READ: &str = "FROM otel_traces WHERE ";

/// Most (actor, breakdown value) rows read from ClickHouse for one funnel.
pub const MAX_CLICKHOUSE_ACTORS: usize = 5_000_000;

/// One (actor, breakdown value) and its spans as parallel slices.
pub struct ActorSpans<'a> {
    pub actor: &'a str,
    pub breakdown: &'a str,
    pub timestamps_ns: &'a [i64],
    pub steps: &'a [u32],
    pub exclusions: &'a [u32],
}

/// Returns the engine's dialect for the store.
pub fn dialect(store: &dyn Store) -> Dialect {
    match store.dialect() {
        exos_store::Dialect::DuckDb => Dialect::DuckDb,
        exos_store::Dialect::ClickHouse => Dialect::ClickHouse,
    }
}

/// Returns the store's name as responses show it.
pub fn store_name(store: &dyn Store) -> &'static str {
    match dialect(store) {
        Dialect::DuckDb => "duckdb",
        Dialect::ClickHouse => "clickhouse",
    }
}

/// The spans a question may read: all of `otel_traces`, or those meeting every condition.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SpanScope {
    /// Trusted SQL built through the dialect layer; `None` reads every span.
    condition: Option<String>,
}

impl SpanScope {
    /// Creates a scope of the spans meeting all `conditions` (every span when there are none).
    pub fn new(conditions: Vec<String>) -> Self {
        let condition = (!conditions.is_empty()).then(|| {
            let parts: Vec<String> = conditions.iter().map(|part| format!("({part})")).collect();
            parts.join(" AND ")
        });
        Self { condition }
    }

    /// Returns the condition, or `None` when the scope contains every span.
    pub fn condition(&self) -> Option<&str> {
        self.condition.as_deref()
    }

    /// Adds the condition to each read of `otel_traces` in trusted SQL `text`.
    ///
    /// Fails when the text reads the table in another way, rather than run unscoped.
    pub fn apply(&self, text: &str) -> Result<String, AnalyticsError> {
        let Some(condition) = &self.condition else {
            return Ok(text.to_string());
        };
        if !text.contains(SPAN_TABLE_READ) {
            return Err(AnalyticsError::Result(format!(
                "the funnel SQL does not read the span table as `{SPAN_TABLE_READ}`, so the filters cannot apply"
            )));
        }
        Ok(text.replace(
            SPAN_TABLE_READ,
            &format!("{SPAN_TABLE_READ}({condition}) AND "),
        ))
    }

    /// Returns a DuckDB connection on which `otel_traces` holds only the scope's spans.
    ///
    /// The temporary view lives on this connection only and is searched before the
    /// database's own tables. Reads of `otel_traces` inside the condition (a dynamic
    /// cohort) name the database's table, so they see every span.
    pub fn duckdb_connection(
        &self,
        connection: duckdb::Connection,
    ) -> Result<duckdb::Connection, AnalyticsError> {
        let Some(condition) = &self.condition else {
            return Ok(connection);
        };
        let database: String = connection
            .query_row("SELECT current_database()", [], |row| row.get(0))
            .map_err(store_error)?;
        let table = format!("\"{}\".main.otel_traces", database.replace('"', "\"\""));
        let condition = condition.replace("FROM otel_traces ", &format!("FROM {table} "));
        connection
            .execute_batch(&format!(
                "CREATE TEMP VIEW otel_traces AS SELECT * FROM {table} WHERE {condition}"
            ))
            .map_err(store_error)?;
        Ok(connection)
    }
}

fn store_error(error: duckdb::Error) -> AnalyticsError {
    AnalyticsError::Store(StoreError::Query(error.to_string()))
}

/// Calls `visit` once per (actor, breakdown value) of the funnel over the spans of
/// `scope`, and returns the SQL that produced the lists. The groups of one actor
/// come one after another (on DuckDB, actors whose hashes collide may interleave).
/// Stops with [`StoreError::Timeout`] after 30 s, as `Store::query` does.
pub fn for_each_actor(
    store: &dyn Store,
    query: &FunnelQuery,
    scope: &SpanScope,
    visit: impl FnMut(ActorSpans<'_>),
) -> Result<String, AnalyticsError> {
    for_each_actor_within(store, query, scope, QUERY_TIMEOUT, visit)
}

/// Runs [`for_each_actor`] with another time limit.
pub fn for_each_actor_within(
    store: &dyn Store,
    query: &FunnelQuery,
    scope: &SpanScope,
    timeout: Duration,
    mut visit: impl FnMut(ActorSpans<'_>),
) -> Result<String, AnalyticsError> {
    if let Some(connection) = store.duckdb_connection() {
        run_on_duckdb(connection?, scope, timeout, |connection| {
            exos_funnels::duck::for_each_funnel_actor(
                connection,
                query,
                |actor, breakdown, timestamps_ns, steps, exclusions| {
                    visit(ActorSpans {
                        actor,
                        breakdown,
                        timestamps_ns,
                        steps,
                        exclusions,
                    })
                },
            )
        })?;
        return Ok(scoped_text(scope, sql::duckdb::funnel_input(query)));
    }
    let text = scope.apply(&sql::clickhouse::funnel_input(query))?;
    let mut rows = query_all_rows_within(store, &text, MAX_CLICKHOUSE_ACTORS, "actors", timeout)?;
    // The groups of one actor arrive one after another, as on DuckDB.
    rows.sort_by_cached_key(|row| row.text(0));
    for row in rows {
        let timestamps_ns = integers(&row.list(2))?;
        let steps = masks(&row.list(3))?;
        let exclusions = masks(&row.list(4))?;
        visit(ActorSpans {
            actor: &row.text(0),
            breakdown: &row.text(1),
            timestamps_ns: &timestamps_ns,
            steps: &steps,
            exclusions: &exclusions,
        });
    }
    Ok(text)
}

/// Runs `work` on a DuckDB connection whose `otel_traces` contains only the scope's spans,
/// interrupting it after `timeout`.
pub fn run_on_duckdb<T>(
    connection: duckdb::Connection,
    scope: &SpanScope,
    timeout: Duration,
    work: impl FnOnce(&duckdb::Connection) -> Result<T, exos_funnels::duck::RunError>,
) -> Result<T, AnalyticsError> {
    let connection = scope.duckdb_connection(connection)?;
    // The engine streams from its own statement, so it gets its own watchdog. An
    // interrupted stream may end early without an error, so the watchdog's result decides.
    let watchdog = Watchdog::start(&connection, timeout);
    let outcome = work(&connection);
    if watchdog.stop() {
        return Err(StoreError::Timeout(timeout).into());
    }
    outcome.map_err(run_error)
}

/// Returns the SQL as it ran on DuckDB: the view that narrowed the spans, then `text`.
pub fn scoped_text(scope: &SpanScope, text: String) -> String {
    match scope.condition() {
        Some(condition) => {
            format!("CREATE TEMP VIEW otel_traces AS SELECT * FROM otel_traces WHERE {condition};\n{text}")
        }
        None => text,
    }
}

/// Runs trusted SQL and fails when the result has more than `max_rows` rows,
/// naming `what` the rows are.
pub fn query_all_rows(
    store: &dyn Store,
    text: &str,
    max_rows: usize,
    what: &str,
) -> Result<Vec<Row>, AnalyticsError> {
    query_all_rows_within(store, text, max_rows, what, QUERY_TIMEOUT)
}

fn query_all_rows_within(
    store: &dyn Store,
    text: &str,
    max_rows: usize,
    what: &str,
    timeout: Duration,
) -> Result<Vec<Row>, AnalyticsError> {
    let limits = QueryLimits { max_rows, timeout };
    let result = store.query(text, &limits)?;
    if result.truncated {
        return Err(AnalyticsError::bad(
            "from",
            format!("the range has more than {max_rows} {what}; narrow the time range"),
        ));
    }
    Ok(result.rows.into_iter().map(Row::new).collect())
}

/// Maps an engine failure on DuckDB to the crate's error.
pub fn run_error(error: exos_funnels::duck::RunError) -> AnalyticsError {
    use exos_funnels::duck::RunError;
    match error {
        RunError::DuckDb(error) => AnalyticsError::Store(StoreError::Query(error.to_string())),
        RunError::Funnel(error) => AnalyticsError::bad("steps", error.to_string()),
        RunError::Retention(error) => AnalyticsError::bad("periods", error.to_string()),
        other => AnalyticsError::Result(other.to_string()),
    }
}

fn integers(values: &[Value]) -> Result<Vec<i64>, AnalyticsError> {
    values
        .iter()
        .map(|value| {
            value
                .as_i64()
                .ok_or_else(|| AnalyticsError::Result(format!("{value} is not a timestamp")))
        })
        .collect()
}

fn masks(values: &[Value]) -> Result<Vec<u32>, AnalyticsError> {
    values
        .iter()
        .map(|value| {
            value
                .as_u64()
                .and_then(|mask| u32::try_from(mask).ok())
                .ok_or_else(|| AnalyticsError::Result(format!("{value} is not a step bitmask")))
        })
        .collect()
}
