//! Per-actor span lists of a funnel, from whichever store is configured.
//!
//! On DuckDB the engine's own query streams Arrow batches over a connection
//! of the store (`exos_funnels::duck`). On ClickHouse the store groups the
//! spans into one row of arrays per actor (`sql::clickhouse::funnel_input`),
//! sent through `Store::query`. Either way the caller sees the same
//! (actor, breakdown, timestamps, step masks, exclusion masks) groups.

use exos_funnels::sql::{self, Dialect};
use exos_funnels::FunnelQuery;
use exos_store::{QueryLimits, Store, StoreError};
use serde_json::Value;

use crate::error::AnalyticsError;
use crate::rows::{Row, QUERY_TIMEOUT};

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

/// Calls `visit` once per (actor, breakdown value) of the funnel, in no
/// particular order, and returns the SQL that produced the lists.
pub fn for_each_actor(
    store: &dyn Store,
    query: &FunnelQuery,
    mut visit: impl FnMut(ActorSpans<'_>),
) -> Result<String, AnalyticsError> {
    if let Some(connection) = store.duckdb_connection() {
        let connection = connection?;
        // NOTE: this path runs without the 30 s interrupt of `Store::query`, because
        // the engine streams from its own statement on the connection.
        exos_funnels::duck::for_each_funnel_actor(
            &connection,
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
        .map_err(run_error)?;
        return Ok(sql::duckdb::funnel_input(query));
    }
    let text = sql::clickhouse::funnel_input(query);
    for row in query_all_rows(store, &text, MAX_CLICKHOUSE_ACTORS, "actors")? {
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

/// Runs trusted SQL and fails when the result has more than `max_rows` rows,
/// naming `what` the rows are.
pub fn query_all_rows(
    store: &dyn Store,
    text: &str,
    max_rows: usize,
    what: &str,
) -> Result<Vec<Row>, AnalyticsError> {
    let limits = QueryLimits {
        max_rows,
        timeout: QUERY_TIMEOUT,
    };
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
