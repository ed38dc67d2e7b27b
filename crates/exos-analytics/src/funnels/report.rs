//! `POST /api/funnels`: per-step counts, conversion, time to convert,
//! conversion over time and breakdown series.
//!
//! The total and the breakdown are two reports, because a breakdown counts an
//! actor once per value and the values do not add up to the total. On DuckDB
//! one scan feeds both; on ClickHouse they are two runs of the engine. On ClickHouse, funnels that `windowFunnel` can compute alone
//! (sequential or strict, no exclusions) take their step counts from the
//! native function. The per-actor pass still supplies times and trends.

use std::time::Instant;

use exos_funnels::sql::clickhouse;
use exos_funnels::{FunnelQuery, FunnelReport, FunnelSeries};
use serde::Serialize;

use super::request::{filter_label, Actor, FunnelRequest};
use super::source::{dialect, for_each_actor, query_all_rows, run_error, store_name};
use crate::error::AnalyticsError;
use exos_store::Store;

/// Most breakdown rows the native level query may return.
const MAX_NATIVE_ROWS: usize = 1_000_000;

/// The response body of `POST /api/funnels`.
#[derive(Debug, Clone, Serialize)]
pub struct FunnelResponse {
    /// `duckdb` or `clickhouse`.
    pub store: &'static str,
    pub actor: Actor,
    /// One label per step, for charts.
    pub steps: Vec<String>,
    /// Every actor, whatever the breakdown value.
    pub total: FunnelSeries,
    /// The breakdown key, when the request had one.
    pub breakdown: Option<String>,
    /// One series per shown breakdown value, most actors at step 1 first.
    pub series: Vec<FunnelSeries>,
    /// Breakdown values left out of `series` by the limit.
    pub other_breakdown_values: usize,
    /// Whether ClickHouse's `windowFunnel` produced the step counts.
    pub native_counts: bool,
    /// Every SQL statement that ran, in order.
    pub sql: Vec<String>,
    pub elapsed_ms: f64,
}

/// Series of one engine run and the SQL that produced them.
type RunOutput = (Vec<FunnelSeries>, Vec<String>);

/// Computes the funnel report for the request.
pub fn funnel(
    store: &dyn Store,
    request: &FunnelRequest,
) -> Result<FunnelResponse, AnalyticsError> {
    let started = Instant::now();
    let with_breakdown = request.query()?;
    let limit = request.breakdown_values()?;
    let total_query = FunnelQuery {
        breakdown: None,
        ..with_breakdown.clone()
    };
    let (total, breakdown) = run_both(store, &total_query, &with_breakdown);
    let (total_series, mut sql) = total?;
    let mut response = FunnelResponse {
        store: store_name(store),
        actor: request.actor,
        steps: request.steps.iter().map(filter_label).collect(),
        total: total_series
            .into_iter()
            .next()
            .unwrap_or_else(|| empty_series(&total_query)),
        breakdown: request.breakdown.clone(),
        series: Vec::new(),
        other_breakdown_values: 0,
        native_counts: false,
        sql: Vec::new(),
        elapsed_ms: 0.0,
    };

    if let Some((series, breakdown_sql)) = breakdown? {
        attach_breakdown(&mut response, series, limit);
        sql.extend(breakdown_sql);
    }
    if dialect(store) == exos_funnels::sql::Dialect::ClickHouse
        && clickhouse::funnel_is_native(&with_breakdown)
    {
        apply_native_counts(
            store,
            &total_query,
            &with_breakdown,
            &mut response,
            &mut sql,
        )?;
    }
    response.sql = sql;
    response.elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
    Ok(response)
}

/// Runs the total and, when there is one, the breakdown: on DuckDB in one
/// scan (`exos_funnels::partitioned`), elsewhere as two engine runs at once.
fn run_both(
    store: &dyn Store,
    total_query: &FunnelQuery,
    with_breakdown: &FunnelQuery,
) -> (
    Result<RunOutput, AnalyticsError>,
    Result<Option<RunOutput>, AnalyticsError>,
) {
    if let Some(connection) = store.duckdb_connection() {
        let answer = connection
            .map_err(AnalyticsError::from)
            .and_then(|connection| {
                exos_funnels::partitioned::run_funnel_split(&connection, with_breakdown)
                    .map_err(run_error)
            });
        return split_outputs(answer, with_breakdown);
    }
    std::thread::scope(|scope| {
        let breakdown = scope.spawn(|| match with_breakdown.breakdown {
            Some(_) => run_series(store, with_breakdown).map(Some),
            None => Ok(None),
        });
        let total = run_series(store, total_query);
        (total, breakdown.join().expect("funnel thread panicked"))
    })
}

/// Shapes DuckDB's one-scan result like the two runs of [`run_both`].
fn split_outputs(
    answer: Result<exos_funnels::partitioned::SplitResult, AnalyticsError>,
    query: &FunnelQuery,
) -> (
    Result<RunOutput, AnalyticsError>,
    Result<Option<RunOutput>, AnalyticsError>,
) {
    match answer {
        Ok(answer) => (
            Ok((
                answer.total.series,
                vec![exos_funnels::sql::duckdb::funnel_spans(query)],
            )),
            Ok(answer.breakdown.map(|result| (result.series, Vec::new()))),
        ),
        Err(error) => (Err(error), Ok(None)),
    }
}

/// Keeps the `limit` breakdown values with the most actors at step 1.
fn attach_breakdown(response: &mut FunnelResponse, mut series: Vec<FunnelSeries>, limit: usize) {
    series.sort_by(|a, b| {
        entered(b)
            .cmp(&entered(a))
            .then_with(|| a.breakdown.cmp(&b.breakdown))
    });
    response.other_breakdown_values = series.len().saturating_sub(limit);
    series.truncate(limit);
    response.series = series;
}

/// Runs the engine over every actor and returns its series and the SQL.
fn run_series(store: &dyn Store, query: &FunnelQuery) -> Result<RunOutput, AnalyticsError> {
    let mut report = FunnelReport::new(query)
        .map_err(|error| AnalyticsError::bad("steps", error.to_string()))?;
    let text = for_each_actor(store, query, |spans| {
        report.add_actor(
            spans.breakdown,
            spans.timestamps_ns,
            spans.steps,
            spans.exclusions,
        )
    })?;
    Ok((report.finish().series, vec![text]))
}

/// Returns a series with zero actors at every step.
fn empty_series(query: &FunnelQuery) -> FunnelSeries {
    let mut report = FunnelReport::new(query).expect("the definition was checked");
    report.add_level_count("", 0, 0);
    report.finish().series.pop().expect("one series was added")
}

fn entered(series: &FunnelSeries) -> u64 {
    series.steps.first().map_or(0, |step| step.actors)
}

/// Replaces the step counts with those of ClickHouse's `windowFunnel`, keeping
/// the medians of the per-actor pass.
fn apply_native_counts(
    store: &dyn Store,
    total_query: &FunnelQuery,
    with_breakdown: &FunnelQuery,
    response: &mut FunnelResponse,
    sql: &mut Vec<String>,
) -> Result<(), AnalyticsError> {
    let mut queries = vec![total_query];
    if with_breakdown.breakdown.is_some() {
        queries.push(with_breakdown);
    }
    for query in queries {
        let text = clickhouse::funnel_levels(query);
        let mut report = FunnelReport::new(query)
            .map_err(|error| AnalyticsError::bad("steps", error.to_string()))?;
        for row in query_all_rows(store, &text, MAX_NATIVE_ROWS, "breakdown values")? {
            report.add_level_count(&row.text(0), row.count(1)? as usize, row.count(2)?);
        }
        for native in report.finish().series {
            let target = if query.breakdown.is_none() {
                Some(&mut response.total)
            } else {
                response
                    .series
                    .iter_mut()
                    .find(|series| series.breakdown == native.breakdown)
            };
            if let Some(target) = target {
                for (step, native_step) in target.steps.iter_mut().zip(native.steps) {
                    step.actors = native_step.actors;
                    step.conversion_from_previous = native_step.conversion_from_previous;
                    step.conversion_from_first = native_step.conversion_from_first;
                }
            }
        }
        sql.push(text);
    }
    response.native_counts = true;
    Ok(())
}
