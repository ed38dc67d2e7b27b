//! `POST /api/retention`: cohort tables with the semantics of ClickHouse's
//! `retention()`, first-time or recurring, by day, week or month, with an
//! optional breakdown.
//!
//! On DuckDB the engine reads per-actor period bitmasks (`exos_funnels::duck`);
//! on ClickHouse the native `retention` query runs. A breakdown runs the
//! table once per value, with the start and return events narrowed to spans
//! carrying that value, so an actor counts once per value as in funnels.

use std::time::Instant;

use exos_funnels::sql::{self, Dialect};
use exos_funnels::{
    EventFilter, Period, Property, RetentionCohort, RetentionKind, RetentionQuery, RetentionTable,
};
use serde::{Deserialize, Serialize};

use super::request::{property, Actor, TimeBound, DEFAULT_BREAKDOWN_VALUES, MAX_BREAKDOWN_VALUES};
use super::source::{dialect, query_all_rows, run_on_duckdb, scoped_text, store_name, SpanScope};
use crate::definitions::{EventRef, Library};
use crate::error::AnalyticsError;
use crate::filter::{Filter, Source};
use crate::rows::QUERY_TIMEOUT;
use crate::sql::Sql;
use exos_store::Store;

/// Most cohort rows a native ClickHouse table can have: one per period.
const MAX_COHORT_ROWS: usize = 64;

/// A request of `POST /api/retention`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetentionRequest {
    pub actor: Actor,
    /// An event filter or a saved action (`{"action": "<id or name>"}`).
    pub start_event: EventRef,
    /// An event filter or a saved action.
    pub return_event: EventRef,
    #[serde(default)]
    pub kind: RetentionKind,
    pub period: Period,
    /// Periods in the table, counting the first: 2 to 32.
    pub periods: usize,
    /// Any time in the first period; the table starts where that period starts (UTC).
    pub from: TimeBound,
    #[serde(default)]
    pub breakdown: Option<String>,
    /// Breakdown values shown, those with the most start actors first (default 10, at most 50).
    #[serde(default)]
    pub breakdown_limit: Option<usize>,
    /// The filter bar's filters (`Lob=Appraisal`): the table reads only spans that pass all of them.
    #[serde(default)]
    pub filters: Vec<String>,
    /// A saved cohort (id) of the same actor: only its members count.
    #[serde(default)]
    pub cohort: Option<String>,
}

/// The response body of `POST /api/retention`.
#[derive(Debug, Clone, Serialize)]
pub struct RetentionResponse {
    pub store: &'static str,
    pub period: Period,
    pub periods: usize,
    /// Start of the first period, milliseconds since the epoch.
    pub first_period_ms: i64,
    /// Periods of the table that have started by now, counting the first. A
    /// cohort's count for a later period is 0 only because that period has not
    /// come yet: pages leave it blank, and the curve leaves it out.
    pub observed_periods: usize,
    pub total: RetentionSeries,
    pub breakdown: Option<String>,
    pub series: Vec<RetentionSeries>,
    pub sql: Vec<String>,
    pub elapsed_ms: f64,
}

/// The table of one breakdown value (`''` for the total).
#[derive(Debug, Clone, Serialize)]
pub struct RetentionSeries {
    pub breakdown: String,
    pub cohorts: Vec<RetentionCohort>,
    /// Share of cohort entries that returned k periods later, over the cohorts
    /// whose period k lies inside the table; `None` when no cohort had one.
    pub curve: Vec<Option<f64>>,
}

/// Computes a retention table for the request.
pub fn retention(
    store: &dyn Store,
    request: &RetentionRequest,
    library: &Library,
) -> Result<RetentionResponse, AnalyticsError> {
    let started = Instant::now();
    let base = base_query(request, library)?;
    let scope = scope(store, request, &base, library)?;
    let observed = observed_periods(
        base.period,
        base.from_ns,
        base.periods,
        crate::time::now_ns(),
    );
    let mut sql_run = Vec::new();
    let (total, text) = run_table(store, &base, &scope)?;
    sql_run.push(text);
    let mut series = Vec::new();
    if let Some(key) = &request.breakdown {
        let split = property(key)?;
        let (values, text) = top_values(store, &base, &scope, &split, breakdown_limit(request)?)?;
        sql_run.push(text);
        for value in values {
            let narrowed = narrow(&base, &split, &value);
            let (table, text) = run_table(store, &narrowed, &scope)?;
            sql_run.push(text);
            series.push(retention_series(value, table, base.periods, observed));
        }
    }
    let first_period = sql::period_number(base.period, base.from_ns);
    Ok(RetentionResponse {
        store: store_name(store),
        period: base.period,
        periods: base.periods,
        first_period_ms: sql::period_start_ns(base.period, first_period) / 1_000_000,
        observed_periods: observed,
        total: retention_series(String::new(), total, base.periods, observed),
        breakdown: request.breakdown.clone(),
        series,
        sql: sql_run,
        elapsed_ms: started.elapsed().as_secs_f64() * 1000.0,
    })
}

fn base_query(
    request: &RetentionRequest,
    library: &Library,
) -> Result<RetentionQuery, AnalyticsError> {
    let from_ns = match &request.from {
        TimeBound::Millis(ms) => crate::time::parse_time("from", &ms.to_string())?,
        TimeBound::Text(text) => crate::time::parse_time("from", text)?,
    };
    let query = RetentionQuery {
        actor: request.actor.column(),
        start_event: library.event(&request.start_event)?,
        return_event: library.event(&request.return_event)?,
        kind: request.kind,
        period: request.period,
        periods: request.periods,
        from_ns,
    };
    exos_funnels::RetentionReport::new(&query)
        .map_err(|error| AnalyticsError::bad("periods", error.to_string()))?;
    Ok(query)
}

/// Returns the spans the table may see: those passing the filters, of the cohort's actors.
fn scope(
    store: &dyn Store,
    request: &RetentionRequest,
    query: &RetentionQuery,
    library: &Library,
) -> Result<SpanScope, AnalyticsError> {
    let sql = Sql::new(store.dialect());
    let filters: Vec<&str> = request.filters.iter().map(String::as_str).collect();
    let mut conditions: Vec<String> = Filter::parse_all(&filters)?
        .iter()
        .map(|filter| filter.condition(&sql, Source::Spans))
        .collect();
    if let Some(id) = &request.cohort {
        let first = sql::period_number(query.period, query.from_ns);
        let end_ns = sql::period_start_ns(query.period, first + query.periods as i64);
        conditions.push(library.cohort_sql(&sql, id, query.actor, end_ns)?);
    }
    Ok(SpanScope::new(conditions))
}

fn breakdown_limit(request: &RetentionRequest) -> Result<usize, AnalyticsError> {
    match request.breakdown_limit {
        None => Ok(DEFAULT_BREAKDOWN_VALUES),
        Some(limit) if (1..=MAX_BREAKDOWN_VALUES).contains(&limit) => Ok(limit),
        Some(limit) => Err(AnalyticsError::bad(
            "breakdown_limit",
            format!("{limit} is outside 1 to {MAX_BREAKDOWN_VALUES}"),
        )),
    }
}

/// Runs one table on the store and returns it with the SQL.
fn run_table(
    store: &dyn Store,
    query: &RetentionQuery,
    scope: &SpanScope,
) -> Result<(RetentionTable, String), AnalyticsError> {
    if let Some(connection) = store.duckdb_connection() {
        let table = run_on_duckdb(connection?, scope, QUERY_TIMEOUT, |connection| {
            exos_funnels::duck::run_retention(connection, query)
        })?;
        return Ok((
            table,
            scoped_text(scope, sql::duckdb::retention_input(query)),
        ));
    }
    let text = scope.apply(&sql::clickhouse::retention_table(query))?;
    let first_period = sql::period_number(query.period, query.from_ns);
    let mut cohorts = Vec::new();
    for row in query_all_rows(store, &text, MAX_COHORT_ROWS, "cohorts")? {
        let period = row.count(0)? as usize;
        let returned = row
            .list(1)
            .iter()
            .map(|value| {
                value.as_u64().ok_or_else(|| {
                    AnalyticsError::Result(format!("{value} is not a retention count"))
                })
            })
            .collect::<Result<Vec<u64>, _>>()?;
        cohorts.push(RetentionCohort {
            period,
            period_start_ns: sql::period_start_ns(query.period, first_period + period as i64),
            returned,
        });
    }
    Ok((RetentionTable { cohorts }, text))
}

/// Returns the breakdown values with the most actors doing the start event in
/// the table's periods.
fn top_values(
    store: &dyn Store,
    query: &RetentionQuery,
    scope: &SpanScope,
    property: &Property,
    limit: usize,
) -> Result<(Vec<String>, String), AnalyticsError> {
    let dialect = dialect(store);
    let text = scope.apply(&top_values_sql(dialect, query, property, limit))?;
    let rows = query_all_rows(store, &text, limit, "breakdown values")?;
    Ok((rows.iter().map(|row| row.text(0)).collect(), text))
}

fn top_values_sql(
    dialect: Dialect,
    query: &RetentionQuery,
    property: &Property,
    limit: usize,
) -> String {
    let first = sql::period_number(query.period, query.from_ns);
    let range = exos_funnels::TimeRange {
        from_ns: sql::period_start_ns(query.period, first),
        to_ns: sql::period_start_ns(query.period, first + query.periods as i64),
    };
    let actor = query.actor.name();
    let distinct = match dialect {
        Dialect::DuckDb => format!("count(DISTINCT {actor})"),
        Dialect::ClickHouse => format!("uniqExact({actor})"),
    };
    format!(
        "SELECT {value} AS value, {distinct} AS actors FROM otel_traces WHERE {range} AND {actor} <> '' AND {start} \
         GROUP BY value ORDER BY actors DESC, value LIMIT {limit}",
        value = dialect.property(property),
        range = dialect.time_range(&range),
        start = dialect.filter(&query.start_event),
    )
}

/// Returns the query with both events narrowed to spans carrying `value`.
fn narrow(query: &RetentionQuery, property: &Property, value: &str) -> RetentionQuery {
    let carries = EventFilter::Equals {
        property: property.clone(),
        value: value.to_string(),
    };
    RetentionQuery {
        start_event: EventFilter::All(vec![query.start_event.clone(), carries.clone()]),
        return_event: EventFilter::All(vec![query.return_event.clone(), carries]),
        ..query.clone()
    }
}

/// Adds the retention curve to a table.
/// Returns how many of `periods` periods, the first holding `from_ns`, have started at `now_ns`.
fn observed_periods(period: Period, from_ns: i64, periods: usize, now_ns: i64) -> usize {
    let first = sql::period_number(period, from_ns);
    (0..periods)
        .take_while(|k| sql::period_start_ns(period, first + *k as i64) <= now_ns)
        .count()
}

/// Builds one series of a table of `periods` periods, of which `observed` have started.
fn retention_series(
    breakdown: String,
    table: RetentionTable,
    periods: usize,
    observed: usize,
) -> RetentionSeries {
    let curve = (0..periods)
        .map(|offset| {
            let eligible = table
                .cohorts
                .iter()
                .filter(|cohort| cohort.period + offset < observed.min(periods));
            let (returned, entered) = eligible.fold((0u64, 0u64), |(returned, entered), cohort| {
                (
                    returned + cohort.returned[offset],
                    entered + cohort.returned[0],
                )
            });
            (entered > 0).then(|| returned as f64 / entered as f64)
        })
        .collect();
    RetentionSeries {
        breakdown,
        cohorts: table.cohorts,
        curve,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cohort(period: usize, returned: Vec<u64>) -> RetentionCohort {
        RetentionCohort {
            period,
            period_start_ns: 0,
            returned,
        }
    }

    #[test]
    fn curve_skips_cohorts_without_that_period() {
        let table = RetentionTable {
            cohorts: vec![cohort(0, vec![10, 5, 2]), cohort(1, vec![20, 10, 0])],
        };
        let series = retention_series(String::new(), table, 3, 3);
        assert_eq!(series.curve[0], Some(1.0));
        assert_eq!(series.curve[1], Some(15.0 / 30.0));
        // Only cohort 0 has a period two periods later inside the table.
        assert_eq!(series.curve[2], Some(0.2));
    }

    #[test]
    fn curve_leaves_out_periods_to_come() {
        let table = RetentionTable {
            cohorts: vec![cohort(0, vec![10, 5, 0]), cohort(1, vec![20, 0, 0])],
        };
        // Period 2 has not started: cohort 0's third count and cohort 1's second are not known.
        let series = retention_series(String::new(), table, 3, 2);
        assert_eq!(series.curve, vec![Some(1.0), Some(0.5), None]);
    }

    #[test]
    fn observed_periods_stop_at_now() {
        let day = 86_400_000_000_000;
        let observed = |now| observed_periods(Period::Day, 10 * day + 7, 8, now);
        assert_eq!(observed(10 * day), 1);
        assert_eq!(observed(12 * day + 5), 3);
        assert_eq!(observed(100 * day), 8);
        assert_eq!(observed(9 * day), 0);
    }

    #[test]
    fn request_rejects_one_period() {
        let request: RetentionRequest = serde_json::from_str(
            r#"{"actor": "user.id", "start_event": {"span_name": "a"}, "return_event": {"span_name": "b"},
                "period": "week", "periods": 1, "from": 0}"#,
        )
        .unwrap();
        let error = base_query(&request, &Library::default())
            .unwrap_err()
            .to_string();
        assert!(error.contains("periods"), "{error}");
    }
}
