//! ClickHouse SQL: native `windowFunnel` and `retention` queries, and the
//! per-actor input of the Rust engines for what no native function computes
//! (any-order funnels, exclusions, times to convert).
//!
//! ClickHouse 26.9's `windowFunnel` rejects `DateTime64`, so the timestamp is
//! passed as `UInt64` nanoseconds and the window in nanoseconds: the same
//! units the Rust engine uses, so ties and window ends fall alike.

use super::Dialect;
use crate::query::{FunnelKind, FunnelQuery, RetentionQuery};

/// Renders `windowFunnel(window, modes…)(timestamp, cond1, …)` for a
/// sequential or strict funnel.
pub fn window_funnel_call(query: &FunnelQuery) -> String {
    let dialect = Dialect::ClickHouse;
    let modes: String = super::funnel_modes(query)
        .iter()
        .map(|mode| format!(", '{}'", mode.clickhouse_name()))
        .collect();
    let conditions: Vec<String> = query
        .steps
        .iter()
        .map(|step| format!("toUInt8({})", dialect.filter(step)))
        .collect();
    format!(
        "windowFunnel({window}{modes})(toUInt64({timestamp}), {conditions})",
        window = query.window_ns,
        timestamp = dialect.timestamp_ns(),
        conditions = conditions.join(", "),
    )
}

/// Renders one row per (actor, breakdown value) with its funnel level:
/// `actor, breakdown, level`, ordered by actor and breakdown.
pub fn actor_levels(query: &FunnelQuery) -> String {
    let dialect = Dialect::ClickHouse;
    let actor = query.actor.name();
    let step_filter = if super::keeps_every_span(query) {
        String::new()
    } else {
        let any_step = crate::query::EventFilter::Any(query.steps.clone());
        format!(" AND {}", dialect.filter(&any_step))
    };
    format!(
        "SELECT {actor} AS actor, {breakdown} AS breakdown, {call} AS level\n\
         FROM otel_traces WHERE {range} AND {actor} != ''{step_filter}\n\
         GROUP BY actor, breakdown ORDER BY actor, breakdown",
        breakdown = super::breakdown_expression(dialect, query),
        call = window_funnel_call(query),
        range = dialect.time_range(&query.time_range),
    )
}

/// Renders the number of actors per breakdown value and level: `breakdown,
/// level, actors`. Valid for sequential and strict funnels without exclusions.
pub fn funnel_levels(query: &FunnelQuery) -> String {
    format!(
        "SELECT breakdown, level, count() AS actors FROM ({})\n\
         GROUP BY breakdown, level ORDER BY breakdown, level",
        actor_levels(query)
    )
}

/// Returns whether [`funnel_levels`] computes the funnel natively. When it
/// does not, the caller runs [`funnel_input`] through the Rust engine.
pub fn funnel_is_native(query: &FunnelQuery) -> bool {
    query.kind != FunnelKind::AnyOrder && query.exclusions.is_empty()
}

/// Renders one row per (actor, breakdown value) with its spans as parallel
/// arrays (`timestamps`, `steps`, `exclusions`), the input of the Rust
/// engines for the parts of a funnel that `windowFunnel` cannot return.
/// The inner columns have other names than the arrays because ClickHouse
/// resolves `WHERE` names to the `SELECT` aliases first.
pub fn funnel_input(query: &FunnelQuery) -> String {
    let dialect = Dialect::ClickHouse;
    let actor = query.actor.name();
    let keep = if super::keeps_every_span(query) {
        ""
    } else {
        "WHERE step_mask != 0 OR exclusion_mask != 0"
    };
    format!(
        "SELECT actor, breakdown, groupArray(timestamp_ns) AS timestamps, groupArray(step_mask) AS steps, \
         groupArray(exclusion_mask) AS exclusions\n\
         FROM (SELECT {actor} AS actor, {breakdown} AS breakdown, {timestamp} AS timestamp_ns, \
         {steps} AS step_mask, {exclusions} AS exclusion_mask\n\
         FROM otel_traces WHERE {range} AND {actor} != '') AS spans\n\
         {keep}\n\
         GROUP BY actor, breakdown",
        breakdown = super::breakdown_expression(dialect, query),
        timestamp = dialect.timestamp_ns(),
        steps = dialect.bitmask(&query.steps),
        exclusions = dialect.bitmask(&super::exclusion_filters(query)),
        range = dialect.time_range(&query.time_range),
    )
}

/// Renders the retention table natively, as rows `cohort, counts`. `cohort`
/// is the period index, 0 for the first period. `counts[k]` is the number of
/// cohort entries that did the return event k periods later, so `counts[0]`
/// is the cohort size. Each cohort entry is one `retention(…)` call.
pub fn retention_table(query: &RetentionQuery) -> String {
    let spans = super::retention_spans(Dialect::ClickHouse, query);
    let periods = query.periods;
    let mut conditions = vec!["is_start AND period = cohort".to_string()];
    conditions
        .extend((1..periods).map(|offset| format!("is_return AND period = cohort + {offset}")));
    let cohorts = match query.kind {
        crate::query::RetentionKind::FirstTime => {
            "SELECT actor, minIf(period, is_start) AS cohort FROM spans \
             GROUP BY actor HAVING countIf(is_start) > 0"
        }
        crate::query::RetentionKind::Recurring => {
            "SELECT DISTINCT actor, period AS cohort FROM spans WHERE is_start"
        }
    };
    format!(
        "WITH spans AS ({spans}),\n\
         cohorts AS ({cohorts})\n\
         SELECT cohort, sumForEach(flags) AS counts FROM (\n\
         SELECT actor, cohort, retention({conditions}) AS flags\n\
         FROM (SELECT DISTINCT actor, period, is_start, is_return FROM spans) AS periods\n\
         INNER JOIN cohorts USING (actor)\n\
         GROUP BY actor, cohort)\n\
         GROUP BY cohort ORDER BY cohort",
        conditions = conditions.join(", ")
    )
}
