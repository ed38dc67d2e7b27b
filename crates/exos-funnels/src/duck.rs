//! Runs funnel and retention questions on DuckDB. Rows come back as Arrow
//! batches (`query_arrow`) and are read from the batches' buffers, never
//! converted value by value through DuckDB's row API.

use duckdb::arrow::array::{Array, PrimitiveArray, RecordBatch, StringArray};
use duckdb::arrow::datatypes::{ArrowPrimitiveType, Int64Type, UInt32Type, UInt64Type};
use duckdb::Connection;
use thiserror::Error;

use crate::actor_groups::{GroupRows, RunGrouper, SpanRow};
use crate::funnel::{DefinitionError, FunnelReport, FunnelResult};
use crate::query::{FunnelQuery, RetentionQuery};
use crate::retention::{RetentionError, RetentionReport, RetentionTable};
use crate::sql;

/// Failure to answer a question on DuckDB.
#[derive(Debug, Error)]
pub enum RunError {
    #[error(transparent)]
    Funnel(#[from] DefinitionError),
    #[error(transparent)]
    Retention(#[from] RetentionError),
    #[error("duckdb query failed: {0}")]
    DuckDb(#[from] duckdb::Error),
    #[error("unexpected result column {column}: expected {expected}")]
    Column {
        column: &'static str,
        expected: &'static str,
    },
}

/// One (actor, breakdown value) and its funnel level, for differential tests.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ActorLevel {
    pub actor: String,
    pub breakdown: String,
    pub level: usize,
    pub excluded: bool,
}

/// Answers a funnel question over the `otel_traces` table of `connection`.
pub fn run_funnel(connection: &Connection, query: &FunnelQuery) -> Result<FunnelResult, RunError> {
    let mut report = FunnelReport::new(query)?;
    for_each_funnel_actor(
        connection,
        query,
        |_, breakdown, timestamps, steps, exclusions| {
            report.add_actor(breakdown, timestamps, steps, exclusions);
        },
    )?;
    Ok(report.finish())
}

/// Returns every (actor, breakdown value) with its level, ordered by actor and breakdown.
pub fn funnel_actor_levels(
    connection: &Connection,
    query: &FunnelQuery,
) -> Result<Vec<ActorLevel>, RunError> {
    let mut report = FunnelReport::new(query)?;
    let mut levels = Vec::new();
    for_each_funnel_actor(
        connection,
        query,
        |actor, breakdown, timestamps, steps, exclusions| {
            let outcome = report.evaluate(timestamps, steps, exclusions);
            levels.push(ActorLevel {
                actor: actor.to_string(),
                breakdown: breakdown.to_string(),
                level: outcome.level,
                excluded: outcome.excluded,
            });
        },
    )?;
    levels.sort_by(|a, b| (&a.actor, &a.breakdown).cmp(&(&b.actor, &b.breakdown)));
    Ok(levels)
}

/// Spans of one (actor, breakdown value) as the engines receive them, sorted
/// by (timestamp, steps, exclusions), for differential tests of the input SQL.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ActorInput {
    pub actor: String,
    pub breakdown: String,
    /// (timestamp in nanoseconds, step bitmask, exclusion bitmask).
    pub spans: Vec<(i64, u32, u32)>,
}

/// Returns the engines' input for every (actor, breakdown value), ordered by
/// actor and breakdown.
pub fn funnel_actor_input(
    connection: &Connection,
    query: &FunnelQuery,
) -> Result<Vec<ActorInput>, RunError> {
    let mut inputs = Vec::new();
    for_each_funnel_actor(
        connection,
        query,
        |actor, breakdown, timestamps, steps, exclusions| {
            let mut spans: Vec<(i64, u32, u32)> = timestamps
                .iter()
                .zip(steps)
                .zip(exclusions)
                .map(|((&timestamp_ns, &steps), &exclusions)| (timestamp_ns, steps, exclusions))
                .collect();
            spans.sort_unstable();
            inputs.push(ActorInput {
                actor: actor.to_string(),
                breakdown: breakdown.to_string(),
                spans,
            });
        },
    )?;
    inputs.sort_by(|a, b| (&a.actor, &a.breakdown).cmp(&(&b.actor, &b.breakdown)));
    Ok(inputs)
}

/// Answers a retention question over the `otel_traces` table of `connection`.
pub fn run_retention(
    connection: &Connection,
    query: &RetentionQuery,
) -> Result<RetentionTable, RunError> {
    let mut report = RetentionReport::new(query)?;
    let mut statement = connection.prepare(&sql::duckdb::retention_input(query))?;
    for batch in statement.query_arrow([])? {
        let starts = primitive_column::<UInt64Type>(&batch, "starts", "UBIGINT")?;
        let returns = primitive_column::<UInt64Type>(&batch, "returns", "UBIGINT")?;
        let actors = primitive_column::<UInt64Type>(&batch, "actors", "UBIGINT")?;
        for row in 0..batch.num_rows() {
            report.add_actors(starts.value(row), returns.value(row), actors.value(row));
        }
    }
    Ok(report.finish())
}

/// Streams the rows of `sql::duckdb::funnel_input`, sorted by actor hash,
/// and calls `visit` once per (actor, breakdown value) with (actor,
/// breakdown, timestamps, steps, exclusions).
pub fn for_each_funnel_actor(
    connection: &Connection,
    query: &FunnelQuery,
    mut visit: impl FnMut(&str, &str, &[i64], &[u32], &[u32]),
) -> Result<(), RunError> {
    let mut visit_group = |rows: GroupRows<'_>| {
        visit(
            rows.actor,
            rows.breakdown,
            rows.timestamps_ns,
            rows.steps,
            rows.exclusions,
        )
    };
    let mut grouper = RunGrouper::default();
    let mut statement = connection.prepare(&sql::duckdb::funnel_input(query))?;
    for batch in statement.query_arrow([])? {
        let columns = SpanColumns::of(&batch)?;
        for row in 0..batch.num_rows() {
            let span = SpanRow {
                actor_hash: columns.hashes[row],
                actor: columns.actors.value(row),
                breakdown: columns.breakdowns.value(row),
                timestamp_ns: columns.timestamps[row],
                steps: columns.steps[row],
                exclusions: columns.exclusions[row],
            };
            grouper.push(span, &mut visit_group);
        }
    }
    grouper.finish(&mut visit_group);
    Ok(())
}

/// The columns of a batch of `sql::duckdb::funnel_spans` rows.
pub(crate) struct SpanColumns<'a> {
    pub hashes: &'a [u64],
    pub actors: &'a StringArray,
    pub breakdowns: &'a StringArray,
    pub timestamps: &'a [i64],
    pub steps: &'a [u32],
    pub exclusions: &'a [u32],
}

impl<'a> SpanColumns<'a> {
    /// Returns the batch's columns, failing when one is missing or of another type.
    pub fn of(batch: &'a RecordBatch) -> Result<Self, RunError> {
        Ok(SpanColumns {
            hashes: primitive_column::<UInt64Type>(batch, "actor_hash", "UBIGINT")?.values(),
            actors: string_column(batch, "actor")?,
            breakdowns: string_column(batch, "breakdown")?,
            timestamps: primitive_column::<Int64Type>(batch, "timestamp_ns", "BIGINT")?.values(),
            steps: primitive_column::<UInt32Type>(batch, "steps", "UINTEGER")?.values(),
            exclusions: primitive_column::<UInt32Type>(batch, "exclusions", "UINTEGER")?.values(),
        })
    }
}

pub(crate) fn string_column<'a>(
    batch: &'a RecordBatch,
    column: &'static str,
) -> Result<&'a StringArray, RunError> {
    batch
        .column_by_name(column)
        .and_then(|array| array.as_any().downcast_ref::<StringArray>())
        .ok_or(RunError::Column {
            column,
            expected: "VARCHAR",
        })
}

pub(crate) fn primitive_column<'a, T: ArrowPrimitiveType>(
    batch: &'a RecordBatch,
    column: &'static str,
    expected: &'static str,
) -> Result<&'a PrimitiveArray<T>, RunError> {
    batch
        .column_by_name(column)
        .and_then(|array| array.as_any().downcast_ref::<PrimitiveArray<T>>())
        .ok_or(RunError::Column { column, expected })
}
