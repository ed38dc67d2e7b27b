//! Runs funnel and retention questions on DuckDB: the per-actor input comes
//! back as Arrow batches (`query_arrow`) and goes through the Rust engines
//! without a row-by-row copy.

use duckdb::arrow::array::{Array, ListArray, PrimitiveArray, RecordBatch, StringArray};
use duckdb::arrow::datatypes::{ArrowPrimitiveType, Int64Type, UInt32Type, UInt64Type};
use duckdb::Connection;
use thiserror::Error;

use crate::funnel::{FunnelReport, FunnelResult};
use crate::query::{FunnelQuery, RetentionQuery};
use crate::retention::{RetentionError, RetentionReport, RetentionTable};
use crate::sql;
use crate::window_funnel::FunnelError;

/// Failure to answer a question on DuckDB.
#[derive(Debug, Error)]
pub enum RunError {
    #[error(transparent)]
    Funnel(#[from] FunnelError),
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
        for row in 0..batch.num_rows() {
            report.add_actor(starts.value(row), returns.value(row));
        }
    }
    Ok(report.finish())
}

/// Streams the per-actor lists of `sql::duckdb::funnel_input` into `visit`
/// as (actor, breakdown, timestamps, steps, exclusions).
fn for_each_funnel_actor(
    connection: &Connection,
    query: &FunnelQuery,
    mut visit: impl FnMut(&str, &str, &[i64], &[u32], &[u32]),
) -> Result<(), RunError> {
    let mut statement = connection.prepare(&sql::duckdb::funnel_input(query))?;
    for batch in statement.query_arrow([])? {
        let actors = string_column(&batch, "actor")?;
        let breakdowns = string_column(&batch, "breakdown")?;
        let timestamps = list_column::<Int64Type>(&batch, "timestamps", "BIGINT[]")?;
        let steps = list_column::<UInt32Type>(&batch, "steps", "UINTEGER[]")?;
        let exclusions = list_column::<UInt32Type>(&batch, "exclusions", "UINTEGER[]")?;
        for row in 0..batch.num_rows() {
            visit(
                actors.value(row),
                breakdowns.value(row),
                timestamps.row(row),
                steps.row(row),
                exclusions.row(row),
            );
        }
    }
    Ok(())
}

/// A list column whose items are read as slices of its flat values.
struct ListColumn<'a, T: ArrowPrimitiveType> {
    offsets: &'a [i32],
    values: &'a [T::Native],
}

impl<T: ArrowPrimitiveType> ListColumn<'_, T> {
    fn row(&self, row: usize) -> &[T::Native] {
        let start = self.offsets[row] as usize;
        let end = self.offsets[row + 1] as usize;
        &self.values[start..end]
    }
}

fn list_column<'a, T: ArrowPrimitiveType>(
    batch: &'a RecordBatch,
    column: &'static str,
    expected: &'static str,
) -> Result<ListColumn<'a, T>, RunError> {
    let error = || RunError::Column { column, expected };
    let list = batch
        .column_by_name(column)
        .and_then(|array| array.as_any().downcast_ref::<ListArray>())
        .ok_or_else(error)?;
    let values = list
        .values()
        .as_any()
        .downcast_ref::<PrimitiveArray<T>>()
        .ok_or_else(error)?;
    // The lists are built from non-NULL expressions, so the values carry no NULLs.
    Ok(ListColumn {
        offsets: list.value_offsets(),
        values: values.values(),
    })
}

fn string_column<'a>(
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

fn primitive_column<'a, T: ArrowPrimitiveType>(
    batch: &'a RecordBatch,
    column: &'static str,
    expected: &'static str,
) -> Result<&'a PrimitiveArray<T>, RunError> {
    batch
        .column_by_name(column)
        .and_then(|array| array.as_any().downcast_ref::<PrimitiveArray<T>>())
        .ok_or(RunError::Column { column, expected })
}
