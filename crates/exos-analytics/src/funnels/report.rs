//! `POST /api/funnels`: per-step counts, conversion, time to convert,
//! conversion over time and breakdown series.
//!
//! A breakdown counts an actor once per value, and the values do not add up to
//! the total, so the total needs each actor's spans of every value together. One
//! pass over the spans with the breakdown feeds both: each (actor, value) group
//! goes to the breakdown's report, and the groups of one actor, joined, go to the
//! total's report. On DuckDB that pass is `exos_funnels::partitioned`, which
//! groups the unsorted spans by actor on every core. On ClickHouse, funnels that `windowFunnel` can compute alone
//! (sequential or strict, no exclusions) take their step counts from the native
//! function. The per-actor pass still supplies times and trends.

use std::collections::VecDeque;
use std::time::Instant;

use exos_funnels::sql::clickhouse;
use exos_funnels::{FunnelQuery, FunnelReport, FunnelSeries};
use serde::Serialize;

use super::request::{Actor, FunnelRequest};
use super::source::{
    dialect, for_each_actor, query_all_rows, run_on_duckdb, scoped_text, store_name, ActorSpans,
    SpanScope,
};
use crate::definitions::Library;
use crate::error::AnalyticsError;
use crate::rows::QUERY_TIMEOUT;
use crate::sql::Sql;
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
    /// The conversion window, and the end of the range: chains whose first step
    /// lies less than a window before the end had less time to convert.
    pub window_ns: u64,
    pub to_ns: i64,
    /// Every SQL statement that ran, in order.
    pub sql: Vec<String>,
    pub elapsed_ms: f64,
}

/// Computes the funnel report for the request, resolving saved actions and the
/// cohort through `library`.
pub fn funnel(
    store: &dyn Store,
    request: &FunnelRequest,
    library: &Library,
) -> Result<FunnelResponse, AnalyticsError> {
    let started = Instant::now();
    let with_breakdown = request.query(library)?;
    let scope = request.scope(&Sql::new(store.dialect()), library)?;
    let limit = request.breakdown_values()?;
    let total_query = FunnelQuery {
        breakdown: None,
        ..with_breakdown.clone()
    };
    let pass = run_pass(store, &total_query, &with_breakdown, &scope)?;
    let mut sql = vec![pass.sql];
    let mut response = FunnelResponse {
        store: store_name(store),
        actor: request.actor,
        steps: request.step_labels(library),
        total: pass
            .total
            .into_iter()
            .next()
            .unwrap_or_else(|| empty_series(&total_query)),
        breakdown: request.breakdown.clone(),
        series: Vec::new(),
        other_breakdown_values: 0,
        native_counts: false,
        window_ns: with_breakdown.window_ns,
        to_ns: with_breakdown.time_range.to_ns,
        sql: Vec::new(),
        elapsed_ms: 0.0,
    };
    if with_breakdown.breakdown.is_some() {
        attach_breakdown(&mut response, pass.series, limit);
    }
    if dialect(store) == exos_funnels::sql::Dialect::ClickHouse
        && clickhouse::funnel_is_native(&with_breakdown)
    {
        let queries = NativeQueries {
            total: &total_query,
            with_breakdown: &with_breakdown,
            scope: &scope,
        };
        apply_native_counts(store, &queries, &mut response, &mut sql)?;
    }
    response.sql = sql;
    response.elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
    Ok(response)
}

/// The series and SQL of one pass of the engine over the spans.
struct Pass {
    total: Vec<FunnelSeries>,
    /// One series per breakdown value; empty without a breakdown.
    series: Vec<FunnelSeries>,
    sql: String,
}

/// Reads the spans once, with the breakdown when there is one, and fills the
/// total's and the breakdown's reports. DuckDB runs the partitioned scan, within
/// the query time limit.
fn run_pass(
    store: &dyn Store,
    total_query: &FunnelQuery,
    with_breakdown: &FunnelQuery,
    scope: &SpanScope,
) -> Result<Pass, AnalyticsError> {
    if let Some(connection) = store.duckdb_connection() {
        let answer = run_on_duckdb(connection?, scope, QUERY_TIMEOUT, |connection| {
            exos_funnels::partitioned::run_funnel_split(connection, with_breakdown)
        })?;
        return Ok(Pass {
            total: answer.total.series,
            series: answer.breakdown.map_or_else(Vec::new, |split| split.series),
            sql: scoped_text(
                scope,
                exos_funnels::sql::duckdb::funnel_spans(with_breakdown),
            ),
        });
    }
    let definition_error =
        |error: exos_funnels::DefinitionError| AnalyticsError::bad("steps", error.to_string());
    let mut total = FunnelReport::new(total_query).map_err(definition_error)?;
    let mut split = match with_breakdown.breakdown {
        Some(_) => Some(FunnelReport::new(with_breakdown).map_err(definition_error)?),
        None => None,
    };
    let mut joiner = ActorJoiner::default();
    let sql = for_each_actor(store, with_breakdown, scope, |spans| match &mut split {
        None => total.add_actor("", spans.timestamps_ns, spans.steps, spans.exclusions),
        Some(split) => {
            split.add_actor(
                spans.breakdown,
                spans.timestamps_ns,
                spans.steps,
                spans.exclusions,
            );
            joiner.push(&spans, |joined| joined.add_to(&mut total));
        }
    })?;
    joiner.finish(|joined| joined.add_to(&mut total));
    Ok(Pass {
        total: total.finish().series,
        series: split.map_or_else(Vec::new, |split| split.finish().series),
        sql,
    })
}

/// Max actors the joiner keeps at once. Only ClickHouse rows reach the joiner (DuckDB runs
/// the partitioned scan), and they are sorted by actor, so one actor's groups arrive
/// together. The margin guards the total against rows that are not.
const JOINED_ACTORS: usize = 8;

/// Joins the (actor, breakdown value) groups of each actor into one list of spans.
#[derive(Default)]
struct ActorJoiner {
    pending: VecDeque<JoinedActor>,
}

/// Every span of one actor, whatever the breakdown value.
struct JoinedActor {
    actor: String,
    timestamps_ns: Vec<i64>,
    steps: Vec<u32>,
    exclusions: Vec<u32>,
}

impl JoinedActor {
    fn add_to(&self, report: &mut FunnelReport) {
        report.add_actor("", &self.timestamps_ns, &self.steps, &self.exclusions);
    }
}

impl ActorJoiner {
    /// Adds one group; hands the oldest actor to `done` when too many are held.
    fn push(&mut self, spans: &ActorSpans<'_>, mut done: impl FnMut(JoinedActor)) {
        let found = self
            .pending
            .iter_mut()
            .find(|joined| joined.actor == spans.actor);
        let joined = match found {
            Some(joined) => joined,
            None => {
                if self.pending.len() == JOINED_ACTORS {
                    if let Some(oldest) = self.pending.pop_front() {
                        done(oldest);
                    }
                }
                self.pending.push_back(JoinedActor {
                    actor: spans.actor.to_string(),
                    timestamps_ns: Vec::new(),
                    steps: Vec::new(),
                    exclusions: Vec::new(),
                });
                self.pending.back_mut().expect("an actor was just added")
            }
        };
        joined.timestamps_ns.extend_from_slice(spans.timestamps_ns);
        joined.steps.extend_from_slice(spans.steps);
        joined.exclusions.extend_from_slice(spans.exclusions);
    }

    /// Hands every held actor to `done`.
    fn finish(self, done: impl FnMut(JoinedActor)) {
        self.pending.into_iter().for_each(done);
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

/// Returns a series with zero actors at every step.
fn empty_series(query: &FunnelQuery) -> FunnelSeries {
    let mut report = FunnelReport::new(query).expect("the definition was checked");
    report.add_level_count("", 0, 0);
    report.finish().series.pop().expect("one series was added")
}

fn entered(series: &FunnelSeries) -> u64 {
    series.steps.first().map_or(0, |step| step.actors)
}

/// The definitions whose step counts ClickHouse's `windowFunnel` computes.
struct NativeQueries<'a> {
    total: &'a FunnelQuery,
    with_breakdown: &'a FunnelQuery,
    scope: &'a SpanScope,
}

/// Replaces the step counts with those of ClickHouse's `windowFunnel`, keeping
/// the medians of the per-actor pass.
fn apply_native_counts(
    store: &dyn Store,
    native: &NativeQueries<'_>,
    response: &mut FunnelResponse,
    sql: &mut Vec<String>,
) -> Result<(), AnalyticsError> {
    let mut queries = vec![native.total];
    if native.with_breakdown.breakdown.is_some() {
        queries.push(native.with_breakdown);
    }
    for query in queries {
        let text = native.scope.apply(&clickhouse::funnel_levels(query))?;
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
