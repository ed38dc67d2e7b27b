//! DuckDB SQL for the per-actor input of the Rust engines.
//!
//! DuckDB groups and filters; Rust orders each actor's events and runs the
//! engines. The groups come back as lists, unordered, because the engines
//! sort each actor's few events faster than DuckDB sorts all of them.

use super::Dialect;
use crate::query::{FunnelQuery, RetentionQuery};

/// Renders one row per (actor, breakdown value) with the actor's spans as
/// parallel lists: `actor VARCHAR, breakdown VARCHAR, timestamps BIGINT[]`
/// (nanoseconds), `steps UINTEGER[]` and `exclusions UINTEGER[]` (bitmasks).
///
/// Spans matching no step and no exclusion are dropped unless the funnel is
/// strict, where they break a chain.
pub fn funnel_input(query: &FunnelQuery) -> String {
    let dialect = Dialect::DuckDb;
    let actor = query.actor.name();
    let keep = if super::keeps_every_span(query) {
        ""
    } else {
        "WHERE steps <> 0 OR exclusions <> 0"
    };
    format!(
        "SELECT actor, breakdown, list(timestamp_ns) AS timestamps, list(steps) AS steps, \
         list(exclusions) AS exclusions\n\
         FROM (SELECT {actor} AS actor, {breakdown} AS breakdown, {timestamp} AS timestamp_ns, \
         {steps} AS steps, {exclusions} AS exclusions\n\
         FROM otel_traces WHERE {range} AND {actor} <> '') AS spans\n\
         {keep}\n\
         GROUP BY actor, breakdown",
        breakdown = super::breakdown_expression(dialect, query),
        timestamp = dialect.timestamp_ns(),
        steps = dialect.bitmask(&query.steps),
        exclusions = dialect.bitmask(&super::exclusion_filters(query)),
        range = dialect.time_range(&query.time_range),
    )
}

/// Renders one row per actor with two bitmasks of period numbers relative to
/// the first period: `actor VARCHAR, starts UBIGINT, returns UBIGINT`. Bit p
/// of `starts` is set when the actor did the start event in period p.
pub fn retention_input(query: &RetentionQuery) -> String {
    let dialect = Dialect::DuckDb;
    let spans = super::retention_spans(dialect, query);
    format!(
        "SELECT actor, \
         CAST(bit_or(CASE WHEN is_start THEN CAST(1 AS UBIGINT) << period ELSE CAST(0 AS UBIGINT) END) AS UBIGINT) AS starts, \
         CAST(bit_or(CASE WHEN is_return THEN CAST(1 AS UBIGINT) << period ELSE CAST(0 AS UBIGINT) END) AS UBIGINT) AS returns\n\
         FROM ({spans}) AS spans\n\
         GROUP BY actor",
    )
}
